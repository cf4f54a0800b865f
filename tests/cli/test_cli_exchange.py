#!/usr/bin/env python3
"""cli_exchange: `hre vault get --node` fetching a document from another
institution's node over the document exchange.

Two `hre node run` processes on 127.0.0.1 (the network of hre_node_tcp
init). Node 1 is the hospital's; node 2 runs with a key the clinic's admin
registered, since a holder serves a reader of an organisation only through
a node of that organisation (PROTOCOL 15.6).
The chain (made with the bindings on node 1's directory) has a lab and a
clinic, a patient, a clinic doctor, published encryption keys, and a record
whose document `hre vault put` sealed into node 1's vault (the hospital is
the holder: --vault-key, --holder). The patient grants the doctor access and
the doctor logs the access. Then, asking node 2 (which keeps no vault):
  - without --sign-key: not found (exit 3);
  - with the doctor's keys: fetched over the exchange, byte for byte, the
    request signed in the tool and the envelope opened there (via exchange);
  - a registered patient without a grant: refused by the holder (exit 1);
  - after the grant is revoked (submitted through node 2): refused (exit 1).
"""
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))
import clitest as t  # noqa: E402
import hre  # noqa: E402
from chainutil import Chain, write  # noqa: E402


def main():
    root = t.tmpdir("hre-cli-xch-")
    t.make_network(root, 2)
    d1, d2 = os.path.join(root, "node1"), os.path.join(root, "node2")
    vault = os.path.join(root, "vault1")
    with open(os.path.join(root, "network.dat"), "rb") as f:
        net = hre.Network.decode(f.read())
    with open(os.path.join(root, "authority.pem")) as f:
        authority = hre.Key.import_pem(f.read())
    hosp = hre.genesis_org_id(net.id)
    ladmin, cadmin, patient, doctor, stranger = (hre.Key.generate() for _ in range(5))
    clinic_node = hre.Key.generate()
    e_hosp, e_patient, e_doctor, e_stranger = (hre.Key.generate() for _ in range(4))
    with Chain(d1, net) as c:
        lab = c.submit(authority, "register_org", org_type=hre.ORG_LAB, name="Central Lab",
                       admin_key=ladmin)
        c.submit(authority, "register_org", org_type=hre.ORG_CLINIC, name="Far Clinic",
                 admin_key=cadmin)
        c.mine()
        c.submit(patient, "register_patient")
        c.submit(stranger, "register_patient")
        c.submit(cadmin, "register_doctor", doctor_key=doctor)
        # node 2 is the clinic's own node: a holder serves a reader of an
        # organisation only through a node that organisation registered
        c.submit(cadmin, "register_node", node_key=clinic_node)
        c.mine()
        for signer, tt, target, enc in (
                (patient, hre.ENC_TARGET_ACCOUNT, patient.address(), e_patient),
                (authority, hre.ENC_TARGET_ORG, hosp, e_hosp),
                (doctor, hre.ENC_TARGET_ACCOUNT, doctor.address(), e_doctor),
                (stranger, hre.ENC_TARGET_ACCOUNT, stranger.address(), e_stranger)):
            c.submit(signer, "set_enc_key", target_type=tt, target=target, enc_key=enc.wire())
        grant = c.submit(patient, "grant", reader_type=hre.READER_ACCOUNT,
                         reader=doctor.address(), scope=hre.SCOPE_ALL)
        c.mine()
    pem = {}
    for name, k in (("hosp", e_hosp), ("doctor_enc", e_doctor), ("doctor", doctor),
                    ("stranger_enc", e_stranger), ("stranger", stranger),
                    ("clinic_node", clinic_node)):
        pem[name] = os.path.join(root, name + ".pem")
        write(pem[name], k.export_pem())
    doc = os.urandom(3000) + b"FHIR" * 50000   # > one exchange chunk
    docf = os.path.join(root, "doc.bin")
    write(docf, doc)
    j = t.run_json("vault", "put", "--data", d1, "--nosync", "--vault", vault, "--key",
                   pem["hosp"], "--reader", hosp.hex(), "--reader",
                   "account:" + patient.address().hex(), docf)
    with Chain(d1, net) as c:
        salt = os.urandom(32)
        rec = c.submit(authority, "new_record", patient=patient.address(), lab_org=lab,
                       commit_patient_id=hre.commit(hre.COMMIT_PATIENT_ID, salt, b"MRN-9"),
                       commit_test_name=hre.commit(hre.COMMIT_TEST_NAME, salt, b"CBC"),
                       date=int(time.time()), category=1,
                       doc_sha256=bytes.fromhex(j["doc_sha256"]), hospital_name="City Hospital",
                       locator=bytes.fromhex(j["locator"]))
        c.mine()
        c.submit(doctor, "log_access", record_id=rec, purpose=1)
        c.mine()
        height = c.l.tip()[0] if isinstance(c.l.tip(), tuple) else None

    pf = os.path.join(root, "port1")
    n1 = t.NodeProc(d1, "--key", os.path.join(root, "node1.pem"), "--listen", "127.0.0.1:0",
                    "--vault", vault, "--vault-key", pem["hosp"], "--holder", hosp.hex(),
                    "--nosync", "--log-level", "debug", port_file=pf)
    n2 = t.NodeProc(d2, "--key", pem["clinic_node"], "--peer",
                    "127.0.0.1:%d" % n1.port, "--nosync", "--mine")
    h1 = t.status(d1)["height"]
    if height is not None:
        assert h1 == height, (h1, height)
    t.wait_for(lambda: t.status(d2)["height"] == h1 and t.status(d2)["peers_ready"] >= 1,
               "node 2 to sync from node 1")
    time.sleep(0.5)   # the membership of the peer settles after the sync

    out = os.path.join(root, "out.bin")
    G = ["vault", "get", "--node", d2, "--record", rec.hex(), "--out", out]
    rc, _, err = t.run(*G, "--key", pem["doctor_enc"])
    assert rc == 3 and "no vault" in err, (rc, err)

    def fetched():
        rc, o, e = t.run(*G, "--key", pem["doctor_enc"], "--sign-key", pem["doctor"], "--json")
        return (rc, o, e) if rc == 0 else None
    rc, o, e = t.wait_for(fetched, "the doctor's fetch over the exchange", timeout=30, step=0.5)
    import json
    j2 = json.loads(o)
    assert j2["via"] == "exchange" and j2["doc_len"] == len(doc), j2
    assert j2["doc_sha256"] == j["doc_sha256"], j2
    with open(out, "rb") as f:
        assert f.read() == doc
    assert "exchange" in n1.stderr(), n1.stderr()

    # a member without a grant: the holder refuses
    rc, _, err = t.run(*G, "--key", pem["stranger_enc"], "--sign-key", pem["stranger"])
    assert rc == 1 and "refused" in err, (rc, err)
    # the doctor's key pair mixed up (signing with the stranger's): refused too
    rc, _, err = t.run(*G, "--key", pem["doctor_enc"], "--sign-key", pem["stranger"])
    assert rc == 1 and "refused" in err, (rc, err)

    # the patient revokes the grant, submitted through node 2 (mined there,
    # relayed to node 1): the next fetch is refused
    code, res, _, _ = t.ctl_request(d2, t.CTL_NONCE, bytes([34]) + patient.wire())
    assert code == 0
    tx = hre.build_tx("revoke", net.id, patient, int.from_bytes(res, "big"), int(time.time()),
                      grant_id=grant)
    txf = os.path.join(root, "revoke.bin")
    write(txf, tx.encode())
    t.run_json("node", "submit", "--node", d2, txf)
    t.wait_for(lambda: t.status(d1)["height"] == h1 + 1, "node 1 to get the revocation")
    rc, _, err = t.run(*G, "--key", pem["doctor_enc"], "--sign-key", pem["doctor"])
    assert rc == 1 and "revoked" in err, (rc, err)
    assert n2.stop() == 0 and n1.stop() == 0
    shutil.rmtree(root, ignore_errors=True)
    print("cli_exchange: ok")


if __name__ == "__main__":
    main()
