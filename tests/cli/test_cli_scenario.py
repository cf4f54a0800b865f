#!/usr/bin/env python3
"""cli_scenario: the whole seed scenario through `hre` alone, across two node
processes on 127.0.0.1 (issue 12).

The hospital founds the network; its node (H) mines and holds the vault.
The clinic's node (C) starts empty and syncs from H. Steps:
  1. keys (encrypted PEMs, passphrases through a pipe) and `network init`;
  2. on the hospital's ledger directory, before the nodes run: the lab and
     the clinic register (org register), both nodes (node register), the
     patient; the patient and the hospital publish encryption keys; the
     document goes into the hospital's vault (vault put);
  3. both nodes run; the clinic's admin registers its doctor through C, the
     doctor publishes an encryption key through C;
  4. the hospital admin creates the record (through H) and signs it, the lab
     admin signs through C: pending until both signatures, then valid;
  5. the patient grants the doctor (through C), the doctor logs the access and
     fetches the document from the hospital's node over the exchange (through
     C): byte for byte;
  6. the patient revokes; the doctor's next access and fetch are refused;
  7. the audit log as a table and as FHIR R4 AuditEvents;
  8. the patient erases the record;
  9. chain verify on both nodes; the nodes stop cleanly on SIGTERM; a proof
     of the record from the clinic's ledger checks with the header chain alone.
"""
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import clitest as t  # noqa: E402

PASS = "a long clinic passphrase"


def passfd(lines=1):
    """A pipe holding the passphrase `lines` times (one line per key read)."""
    r, w = os.pipe()
    os.write(w, ((PASS + "\n") * lines).encode())
    os.close(w)
    return r


def hre(*args, check=0, lines=1, json_out=True):
    """Run a command that reads key passphrases from a pipe (never argv)."""
    r = passfd(lines)
    try:
        extra = ["--json"] if json_out else []
        rc, out, err = t.run(*args, "--passphrase-fd", r, *extra, pass_fds=(r,), check=check)
    finally:
        os.close(r)
    if json_out and rc == 0:
        return json.loads(out)
    return rc, out, err


def main():
    root = t.tmpdir("hre-cli-scenario-")
    K = lambda name: os.path.join(root, name + ".pem")   # noqa: E731
    net = os.path.join(root, "network.dat")
    H, C, HV = (os.path.join(root, n) for n in ("hospital", "clinic", "hospital-vault"))

    # 1. keys and the network
    key = {}
    for name in ("hospital-admin", "lab-admin", "clinic-admin", "doctor", "patient",
                 "node-h", "node-c", "hospital-enc", "patient-enc", "doctor-enc"):
        key[name] = hre("key", "new", "--out", K(name))
        assert key[name]["encrypted"] is True, key[name]
    n = hre("network", "init", "--out", net, "--authority", K("hospital-admin"),
            "--name", "St Mary Hospital")
    hosp_org = n["genesis_org"]

    # 2. on the hospital's ledger directory (local mode: each tx mined at once)
    L = ["--data", H, "--network", net, "--nosync"]
    lab_org = hre("org", "register", *L, "--key", K("hospital-admin"), "--type", "lab",
                  "--name", "Central Lab", "--admin", key["lab-admin"]["public_key"])["org_id"]
    hre("org", "register", *L, "--key", K("hospital-admin"), "--type", "clinic",
        "--name", "Riverside Clinic", "--admin", key["clinic-admin"]["public_key"])
    hre("node", "register", *L, "--key", K("hospital-admin"),
        "--node-key", key["node-h"]["public_key"])
    hre("node", "register", *L, "--key", K("clinic-admin"),
        "--node-key", key["node-c"]["public_key"])
    hre("patient", "register", *L, "--key", K("patient"))
    hre("key", "publish", *L, "--key", K("patient"), "--enc-key", key["patient-enc"]["public_key"])
    hre("key", "publish", *L, "--key", K("hospital-admin"), "--org", hosp_org,
        "--enc-key", key["hospital-enc"]["public_key"])
    bundle = os.path.join(HERE, "..", "data", "fhir-stu3", "patient-765583.fhir-bundle.02.json")
    v = hre("vault", "put", "--data", H, "--nosync", "--vault", HV, "--key", K("hospital-enc"),
            "--reader", "org:" + hosp_org, "--reader", "account:" + key["patient"]["id"], bundle)

    # 3. both nodes run
    ph = passfd(2)   # the node key, then the vault key
    nh = t.NodeProc(H, "--key", K("node-h"), "--passphrase-fd", ph, "--listen", "127.0.0.1:0",
                    "--mine", "--vault", HV, "--vault-key", K("hospital-enc"),
                    "--holder", hosp_org, "--nosync", port_file=os.path.join(root, "h.port"),
                    pass_fds=(ph,))
    os.close(ph)
    pc = passfd(1)
    nc = t.NodeProc(C, "--key", K("node-c"), "--passphrase-fd", pc, "--network", net,
                    "--peer", "127.0.0.1:%d" % nh.port, "--nosync", pass_fds=(pc,))
    os.close(pc)
    try:
        def synced():
            a, b = t.status(H), t.status(C)
            return a["tip"] == b["tip"] and a["mempool"] == 0 and b["peers_ready"] >= 1

        def mined(res):
            """The submitted transaction is in a block both nodes have."""
            assert res["state"] == "mempool", res
            t.wait_for(lambda: t.run("chain", "tx", "--node", C, res["txid"])[0] == 0,
                       "tx %s in a block at the clinic" % res["txid"][:16], timeout=60)
            t.wait_for(synced, "both nodes at one tip", timeout=60)
            return res

        t.wait_for(synced, "the clinic's node to sync", timeout=60)
        mined(hre("doctor", "register", "--node", C, "--key", K("clinic-admin"),
                  "--doctor", key["doctor"]["public_key"]))
        mined(hre("key", "publish", "--node", C, "--key", K("doctor"),
                  "--enc-key", key["doctor-enc"]["public_key"]))

        # 4. the record, signed by the hospital admin and by the lab admin
        r = mined(hre("record", "new", "--node", H, "--key", K("hospital-admin"),
                      "--patient", key["patient"]["id"], "--lab", lab_org, "--test", "HbA1c",
                      "--hospital", "St Mary Hospital", "--doc-sha256", v["doc_sha256"],
                      "--locator", v["locator"]))
        rec = r["record_id"]
        show = lambda node: t.run_json("record", "show", "--node", node, rec)  # noqa: E731
        assert show(C)["status"] == "pending"
        mined(hre("record", "sign", "--node", H, "--key", K("hospital-admin"), rec))
        assert show(C)["status"] == "pending" and show(C)["signature_count"] == 1
        mined(hre("record", "sign", "--node", C, "--key", K("lab-admin"), rec))
        s = show(C)
        assert s["status"] == "valid" and s["signature_count"] == 2, s
        assert s["doc_sha256"] == v["doc_sha256"] and s["patient"] == key["patient"]["id"], s

        # 5. consent and a read with the document fetched over the exchange
        g = mined(hre("grant", "--node", C, "--key", K("patient"), "--reader", key["doctor"]["id"]))
        grant = g["grant_id"]
        mined(hre("access", "--node", C, "--key", K("doctor"), rec))
        out = os.path.join(root, "fetched.json")
        GET = ["vault", "get", "--node", C, "--record", rec, "--key", K("doctor-enc"),
               "--sign-key", K("doctor")]
        f = t.wait_for(lambda: (lambda x: x if isinstance(x, dict) else None)(
            hre(*GET, "--out", out, lines=2, check=None)),
            "the doctor's fetch over the exchange", timeout=30, step=0.5)
        assert f["via"] == "exchange", f
        with open(out, "rb") as a, open(bundle, "rb") as b:
            assert a.read() == b.read()

        # 6. revoked: the next access and fetch are refused (exit 1, a reason)
        mined(hre("revoke", "--node", C, "--key", K("patient"), grant))
        rc, o, err = hre("access", "--node", C, "--key", K("doctor"), rec, check=1)
        assert o.strip() == "" and "hre:" in err, (o, err)
        rc, o, err = hre(*GET, "--out", out + ".2", lines=2, check=1)
        assert "revoked" in err and not os.path.exists(out + ".2"), err

        # 7. the audit log: the doctor's read under the grant, in three forms
        a = t.run_json("audit", "--node", C, key["patient"]["id"])
        reads = [e for e in a if e["event"] == "access"]
        assert len(reads) == 1, a
        assert reads[0]["actor"] == key["doctor"]["id"] and reads[0]["record"] == rec, reads
        assert reads[0]["grant"] == grant, reads
        assert {"grant", "revoke"} <= {e["event"] for e in a}, a
        _, table, _ = t.run("audit", "--node", H, key["patient"]["id"], check=0)
        assert "access" in table and key["doctor"]["id"][:8] in table, table
        _, fhir, _ = t.run("audit", "--node", H, key["patient"]["id"], "--format", "fhir", check=0)
        b = json.loads(fhir)
        assert b["resourceType"] == "Bundle" and len(b["entry"]) == len(a), b
        for e in b["entry"]:
            ev = e["resource"]
            assert ev["resourceType"] == "AuditEvent"
            assert all(k in ev for k in ("type", "recorded", "agent", "source")), ev

        # 8. erasure by the patient
        mined(hre("erase", "--node", C, "--key", K("patient"), rec))
        assert show(H)["erased"] is True

        # 9. both chains verify
        for node in (H, C):
            assert t.run_json("chain", "verify", "--node", node)["ok"] is True
        tip = t.status(H)["tip"]
        assert tip == t.run_json("chain", "info", "--node", H)["tip"]
    finally:
        rc_c, rc_h = nc.stop(), nh.stop()
    assert rc_c == 0 and rc_h == 0, (rc_c, rc_h, nc.stderr(), nh.stderr())
    for d in (H, C):
        assert not os.path.exists(os.path.join(d, "control.sock"))
        info = t.run_json("chain", "info", "--data", d, "--nosync")
        assert info["tip"] == tip, (info, tip)

    proof = os.path.join(root, "record.proof")
    t.run("chain", "proof", "--data", C, "--nosync", rec, "--out", proof, check=0)
    p = t.run_json("chain", "verify-proof", proof, "--network", net)
    assert p["ok"] is True and p["txid"] == rec and p["kind_name"] == "new-record", p
    with open(proof, "r+b") as fh:       # a byte of the transaction: refused
        data = bytearray(fh.read())
        data[-10] ^= 1
        fh.seek(0)
        fh.write(data)
    rc, _, err = t.run("chain", "verify-proof", proof, "--network", net)
    assert rc != 0 and "hre:" in err, (rc, err)
    shutil.rmtree(root, ignore_errors=True)
    print("cli_scenario: ok")


if __name__ == "__main__":
    main()
