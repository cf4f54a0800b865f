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
import struct
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
    # ... and put --node is refused (exit 1), naming what the node lacks
    rc, _, err = t.run("vault", "put", "--node", data, "--reader", hosp.hex(), docf)
    assert rc == 1 and "keeps no vault" in err and "--vault" in err, (rc, err)
    assert n.stop() == 0

    # through a node with the vault: the node hands over envelope and wrap
    n = t.NodeProc(data, "--key", pem["node"], "--vault", vault, "--mine", "--nosync")
    rc, _, err = t.run("vault", "put", *L, "--vault", vault, "--key", pem["hosp"], "--reader",
                       hosp.hex(), docf)
    assert rc == 4 and "in use" in err, (rc, err)   # the node holds the vault
    # put --node needs the node's --vault-key (the issuer key): refused without
    rc, _, err = t.run("vault", "put", "--node", data, "--reader", hosp.hex(), docf)
    assert rc == 1 and "--vault-key" in err, (rc, err)
    # the local-only options are usage errors with --node
    rc, _, err = t.run("vault", "put", "--node", data, "--key", pem["hosp"], "--reader",
                       hosp.hex(), docf)
    assert rc == 2 and "--key" in err, (rc, err)
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

    put_through_node(root, data, vault, net, authority, patient, stranger, lab, hosp, pem)
    shutil.rmtree(root, ignore_errors=True)
    print("cli_vault: ok")


def put_header(total, readers, media=b""):
    """A VAULT_PUT header frame's body (docs/PROTOCOL.md 17)."""
    b = struct.pack(">QB", total, len(media)) + media + bytes([len(readers)])
    for r in readers:
        b += bytes([len(r)]) + r
    return b


def frame(typ, body=b""):
    return struct.pack(">IBB", len(body) + 2, 1, typ) + body


def read_frame(s):
    """One answer frame (type, body), or None at EOF."""
    buf = b""
    while len(buf) < 4:
        c = s.recv(4 - len(buf))
        if not c:
            return None
        buf += c
    n = struct.unpack(">I", buf)[0]
    body = b""
    while len(body) < n:
        c = s.recv(n - len(body))
        assert c, "a truncated frame"
        body += c
    assert body[0] == 1, body
    return body[1], body[2:]


def put_through_node(root, data, vault, net, authority, patient, stranger, lab, hosp, pem):
    """vault put --node into a running node's vault (its --vault-key seals as the
    hospital), then vault get --node of the record issued for it."""
    n = t.NodeProc(data, "--key", pem["node"], "--vault", vault, "--vault-key", pem["hosp"],
                   "--holder", hosp.hex(), "--mine", "--nosync")

    def issue(doc_sha, locator):
        code, res, _, _ = t.ctl_request(data, t.CTL_NONCE, bytes([34]) + authority.wire())
        assert code == 0
        salt = os.urandom(32)
        tx = hre.build_tx("new_record", net.id, authority, int.from_bytes(res, "big"),
                          int(time.time()), patient=patient.address(), lab_org=lab,
                          commit_patient_id=hre.commit(hre.COMMIT_PATIENT_ID, salt, b"MRN-8"),
                          commit_test_name=hre.commit(hre.COMMIT_TEST_NAME, salt, b"HGB"),
                          date=int(time.time()), category=1, doc_sha256=doc_sha,
                          hospital_name="City Hospital", locator=locator)
        txf = os.path.join(root, "new.bin")
        write(txf, tx.encode())
        j = t.run_json("node", "submit", "--node", data, txf)
        t.wait_for(lambda: t.status(data)["mempool"] == 0, "the node to mine the record")
        return j["txid"]

    def put_get(body, media=None):
        f = os.path.join(root, "put-%d.bin" % len(body))
        write(f, body)
        extra = ["--media-type", media] if media else []
        j = t.run_json("vault", "put", "--node", data, "--reader", hosp.hex(), "--reader",
                       "account:" + patient.address().hex(), *extra, f)
        assert set(j) == {"doc_sha256", "locator", "doc_len", "envelope_len", "readers"}, j
        assert j["doc_len"] == len(body) and j["readers"] == 2, j
        assert j["envelope_len"] > 0 and len(j["locator"]) == 64, j
        rec = issue(bytes.fromhex(j["doc_sha256"]), bytes.fromhex(j["locator"]))
        out = os.path.join(root, "got-%d.bin" % len(body))
        g = t.run_json("vault", "get", "--node", data, "--key", pem["hosp"], "--record", rec,
                       "--out", out)
        with open(out, "rb") as fh:
            assert fh.read() == body, "vault get returned other bytes"
        assert g["doc_sha256"] == j["doc_sha256"] and g["via"] == "node", g
        assert g["media_type"] == (media or ""), g
        return f, j

    # a small document, then one just over a request frame (2^20): 1.5 MiB
    small = b"Hemoglobin 13.9 g/dL\n" * 50
    f_small, _ = put_get(small, "text/plain")
    big = os.urandom(3 << 19)
    put_get(big)
    # the text form is the local put's: doc_sha256 / locator lines
    rc, out, err = t.run("vault", "put", "--node", data, "--reader", hosp.hex(), f_small)
    assert rc == 0, (rc, err)
    lines = out.splitlines()
    assert lines[0].startswith("doc_sha256 ") and len(lines[0].split()[1]) == 64, out
    assert lines[1].startswith("locator    ") and len(lines[1].split()[1]) == 64, out

    # a reader without a published key: exit 3, naming it; a malformed id: 5
    rc, _, err = t.run("vault", "put", "--node", data, "--reader", hosp.hex(), "--reader",
                       stranger.address().hex(), f_small)
    assert rc == 3 and stranger.address().hex() in err, (rc, err)
    rc, _, err = t.run("vault", "put", "--node", data, "--reader", "12" * 31, f_small)
    assert rc == 5 and "--reader" in err, (rc, err)

    # over the cap (64 MiB): the tool refuses before sending (exit 5) ...
    huge = os.path.join(root, "huge.bin")
    with open(huge, "wb") as fh:
        fh.truncate((64 << 20) + 1)
    rc, _, err = t.run("vault", "put", "--node", data, "--reader", hosp.hex(), huge)
    assert rc == 5 and "over" in err, (rc, err)
    os.unlink(huge)
    # ... and so does the node, on the header alone, and stays up
    s = t.ctl_connect(data)
    s.sendall(frame(CTL_VAULT_PUT, put_header((64 << 20) + 1, [hosp.hex().encode()])))
    frames = t.ctl_frames(s)
    s.close()
    assert frames[-1][0] == t.CTL_DONE and frames[-1][1] == bytes([5]), frames
    assert b"over" in b"".join(b for ty, b in frames if ty == t.CTL_ERR), frames
    assert t.status(data)["mempool"] == 0
    # more data than the header announced: exit 5 (the store is aborted)
    s = t.ctl_connect(data)
    s.sendall(frame(CTL_VAULT_PUT, put_header(10, [hosp.hex().encode()])))
    assert read_frame(s) == (CTL_CONTINUE, b"")
    s.sendall(frame(CTL_PUT_DATA, b"x" * 11))
    frames = t.ctl_frames(s)
    s.close()
    assert frames[-1] == (t.CTL_DONE, bytes([5])), frames
    # an END before all the announced bytes: exit 5
    s = t.ctl_connect(data)
    s.sendall(frame(CTL_VAULT_PUT, put_header(10, [hosp.hex().encode()])))
    assert read_frame(s) == (CTL_CONTINUE, b"")
    s.sendall(frame(CTL_PUT_DATA, b"x" * 4) + frame(CTL_PUT_END))
    frames = t.ctl_frames(s)
    s.close()
    assert frames[-1] == (t.CTL_DONE, bytes([5])), frames

    # a client that sends the header (and a little data) and then stalls: the node
    # answers other requests meanwhile, and drops the stalled upload (5 s a frame)
    s = t.ctl_connect(data)
    s.sendall(frame(CTL_VAULT_PUT, put_header(3 << 20, [hosp.hex().encode()])))
    assert read_frame(s) == (CTL_CONTINUE, b"")
    s.sendall(frame(CTL_PUT_DATA, b"y" * 1000) + struct.pack(">I", 5000))  # half a frame
    t0 = time.time()
    st = t.status(data)
    assert st["mempool"] == 0 and time.time() - t0 < 4, st
    g = t.run_json("vault", "put", "--node", data, "--reader", hosp.hex(), f_small)
    assert g["doc_len"] == len(small), g
    s.settimeout(30)
    assert read_frame(s) is None       # closed by the node, no answer
    waited = time.time() - t0
    assert 2 < waited < 20, waited
    s.close()
    assert "stalled" in n.stderr(), n.stderr()
    assert n.stop() == 0


CTL_VAULT_PUT, CTL_PUT_DATA, CTL_PUT_END, CTL_CONTINUE = 8, 9, 10, 0x85


if __name__ == "__main__":
    main()
