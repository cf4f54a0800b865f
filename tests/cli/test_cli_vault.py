#!/usr/bin/env python3
"""cli_vault: `hre vault put` and `hre vault get`, locally and through a
running node's vault.

The chain is made with the Python bindings (the tool's transaction commands
are another part): a network, a lab, a patient, the hospital's and the
patient's published encryption keys. Then: vault put (readers found on the
chain, the issuer found among them), refusals (a reader without a published
key, a key that is no reader's), the record issued with the printed
doc_sha256 and locator, vault get from the vault directory (an encrypted
reader key through --passphrase-fd), a key that is not a reader's, an unknown
record; vault get --node through `hre node run --vault` (the node hands over
envelope and wrap; the tool decrypts), a node without a vault; an
ERASE_RECORD submitted through the node shreds the document in the node's
vault, and get is then refused.
"""
import hashlib
import json
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
    root = t.tmpdir("hre-cli-vault-")
    data, vault = os.path.join(root, "chain"), os.path.join(root, "vault")
    authority, ladmin, patient, stranger = (hre.Key.generate() for _ in range(4))
    e_hosp, e_patient, e_other, e_stranger = (hre.Key.generate() for _ in range(4))
    node_key = hre.Key.generate()
    net = hre.Network.private(authority, "City Hospital", now=int(time.time()) - 3600)
    hosp = hre.genesis_org_id(net.id)
    write(os.path.join(root, "network.dat"), net.encode(), 0o644)
    with Chain(data, net) as c:
        lab = c.submit(authority, "register_org", org_type=hre.ORG_LAB, name="Central Lab",
                       admin_key=ladmin)
        c.mine()
        c.submit(patient, "register_patient")
        c.submit(stranger, "register_patient")
        c.mine()
        c.submit(patient, "set_enc_key", target_type=hre.ENC_TARGET_ACCOUNT,
                 target=patient.address(), enc_key=e_patient.wire())
        c.submit(authority, "set_enc_key", target_type=hre.ENC_TARGET_ORG, target=hosp,
                 enc_key=e_hosp.wire())
        c.mine()
    pem = {}
    for name, k, pw in (("hosp", e_hosp, None), ("patient", e_patient, "s3cret pass"),
                        ("other", e_other, None), ("node", node_key, None)):
        pem[name] = os.path.join(root, name + ".pem")
        write(pem[name], k.export_pem(pw))
    doc = json.dumps({"resourceType": "Observation", "status": "final",
                      "code": {"text": "Hemoglobin"},
                      "valueQuantity": {"value": 13.9, "unit": "g/dL"}}).encode() * 40
    docf = os.path.join(root, "result.json")
    write(docf, doc)
    L = ["--data", data, "--nosync"]

    # refusals first: a reader with no published key, a key that is no reader's
    rc, _, err = t.run("vault", "put", *L, "--vault", vault, "--key", pem["hosp"],
                       "--reader", hosp.hex(), "--reader", stranger.address().hex(), docf)
    assert rc == 3 and "reader" in err, (rc, err)
    rc, _, err = t.run("vault", "put", *L, "--vault", vault, "--key", pem["other"],
                       "--reader", hosp.hex(), docf)
    assert rc == 1 and "not the published encryption key" in err, (rc, err)
    rc, _, err = t.run("vault", "put", *L, "--vault", vault, "--key", pem["hosp"],
                       "--reader", "12" * 31, docf)
    assert rc == 5, (rc, err)

    # put: the hospital (an organisation, found on the chain) and the patient
    j = t.run_json("vault", "put", *L, "--vault", vault, "--key", pem["hosp"], "--reader",
                   hosp.hex(), "--reader", "account:" + patient.address().hex(),
                   "--media-type", "application/fhir+json", docf)
    assert len(j["doc_sha256"]) == 64 and len(j["locator"]) == 64, j
    assert j["doc_len"] == len(doc) and j["readers"] == 2 and j["envelope_len"] > 0, j
    # the text form names both values for `hre record new`
    _, out, _ = t.run("vault", "put", *L, "--vault", vault, "--key", pem["hosp"], "--reader",
                      hosp.hex(), docf, check=0)
    assert out.startswith("doc_sha256 ") and "\nlocator    " in out, out
    doc_sha, locator = bytes.fromhex(j["doc_sha256"]), bytes.fromhex(j["locator"])

    with Chain(data, net) as c:
        salt = os.urandom(32)
        rec = c.submit(authority, "new_record", patient=patient.address(), lab_org=lab,
                       commit_patient_id=hre.commit(hre.COMMIT_PATIENT_ID, salt, b"MRN-7"),
                       commit_test_name=hre.commit(hre.COMMIT_TEST_NAME, salt, b"HGB"),
                       date=int(time.time()), category=1, doc_sha256=doc_sha,
                       hospital_name="City Hospital", locator=locator)
        c.mine()

    # get from the vault directory: the patient's key is encrypted (passphrase on a pipe)
    out1 = os.path.join(root, "out1.json")
    r, w = os.pipe()
    os.write(w, b"s3cret pass\n")
    os.close(w)
    j = t.run_json("vault", "get", *L, "--vault", vault, "--key", pem["patient"],
                   "--passphrase-fd", str(r), "--record", rec.hex(), "--out", out1,
                   pass_fds=(r,))
    os.close(r)
    with open(out1, "rb") as f:
        assert f.read() == doc
    assert oct(os.stat(out1).st_mode & 0o777) == "0o600"
    assert j["record"] == rec.hex() and j["doc_sha256"] == doc_sha.hex(), j
    assert j["doc_len"] == len(doc) and j["media_type"] == "application/fhir+json", j
    assert j["via"] == "vault", j
    # the hospital's key opens it too; to stdout with --out -
    rc, out, _ = t.run("vault", "get", *L, "--vault", vault, "--key", pem["hosp"], "--record",
                       rec.hex(), "--out", "-", check=0)
    assert out.encode() == doc
    # a key that is not a reader's; an unknown record; a wrong passphrase
    rc, _, err = t.run("vault", "get", *L, "--vault", vault, "--key", pem["other"], "--record",
                       rec.hex(), "--out", os.path.join(root, "x"))
    assert rc == 3 and "no wrap" in err, (rc, err)
    assert not os.path.exists(os.path.join(root, "x"))
    rc, _, err = t.run("vault", "get", *L, "--vault", vault, "--key", pem["hosp"], "--record",
                       "ab" * 32, "--out", os.path.join(root, "x"))
    assert rc == 3, (rc, err)
    r, w = os.pipe()
    os.write(w, b"wrong\n")
    os.close(w)
    rc, _, err = t.run("vault", "get", *L, "--vault", vault, "--key", pem["patient"],
                       "--passphrase-fd", str(r), "--record", rec.hex(), "--out",
                       os.path.join(root, "x"), pass_fds=(r,))
    os.close(r)
    assert rc == 6, (rc, err)
    rc, _, err = t.run("vault", "get", *L, "--key", pem["hosp"], "--record", rec.hex(),
                       "--out", os.path.join(root, "x"))
    assert rc == 2 and "--vault" in err, (rc, err)

    # a node without a vault: get --node says so
    n = t.NodeProc(data, "--key", pem["node"], "--nosync")
    rc, _, err = t.run("vault", "get", "--node", data, "--key", pem["hosp"], "--record",
                       rec.hex(), "--out", os.path.join(root, "x"))
    assert rc == 3 and "keeps no vault" in err, (rc, err)
    assert n.stop() == 0

    # through a node with the vault: the node hands over envelope and wrap
    n = t.NodeProc(data, "--key", pem["node"], "--vault", vault, "--mine", "--nosync")
    rc, _, err = t.run("vault", "put", *L, "--vault", vault, "--key", pem["hosp"], "--reader",
                       hosp.hex(), docf)
    assert rc == 4 and "in use" in err, (rc, err)   # the node holds the vault
    out2 = os.path.join(root, "out2.json")
    j = t.run_json("vault", "get", "--node", data, "--key", pem["hosp"], "--record", rec.hex(),
                   "--out", out2)
    with open(out2, "rb") as f:
        assert hashlib.sha256(f.read()).digest() == hashlib.sha256(doc).digest()
    assert j["via"] == "node" and j["doc_sha256"] == doc_sha.hex(), j
    rc, _, err = t.run("vault", "get", "--node", data, "--key", pem["other"], "--record",
                       rec.hex(), "--out", os.path.join(root, "x"))
    assert rc == 3 and "no wrap" in err, (rc, err)

    # the patient erases the record, submitted through the node (its nonce
    # asked over the control socket): the node's vault shreds the document
    code, res, _, _ = t.ctl_request(data, t.CTL_NONCE, bytes([34]) + patient.wire())
    assert code == 0
    nonce = int.from_bytes(res, "big")
    assert nonce == 2, nonce   # register_patient, set_enc_key
    tx = hre.build_tx("erase_record", net.id, patient, nonce, int(time.time()), record_id=rec)
    txf = os.path.join(root, "erase.bin")
    write(txf, tx.encode())
    j = t.run_json("node", "submit", "--node", data, txf)
    assert j["state"] == "mempool", j
    t.wait_for(lambda: t.status(data)["mempool"] == 0, "the node to mine the erasure")
    rc, _, err = t.run("vault", "get", "--node", data, "--key", pem["hosp"], "--record",
                       rec.hex(), "--out", os.path.join(root, "x"))
    assert rc == 1 and "erased" in err, (rc, err)
    assert n.stop() == 0
    # the vault itself no longer holds it (shredded, not just refused by the chain)
    st = hre.Storage.posix(vault, flags=hre.STORAGE_POSIX_NOSYNC)
    v = hre.Vault(st)
    e = v.entry(doc_sha)
    assert e.erased, e
    v.close()
    st.close()
    shutil.rmtree(root, ignore_errors=True)
    print("cli_vault: ok")


if __name__ == "__main__":
    main()
