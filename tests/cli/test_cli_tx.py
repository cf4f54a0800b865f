"""hre: the transaction commands on a local ledger (--data DIR --nosync):
network init, keys, registrations, a record made valid by two signatures,
consent (grant, access, revoke, a refused access), erasure, and the exit
codes of refusals and bad input. Every --json output is parsed and checked."""
import os
import shutil
import subprocess
import sys
import time

from clitest import TOOL, run, run_json, run_pass, sha256_hex, tmpdir

d = tmpdir("hre-cli-tx-")
data = os.path.join(d, "ledger")
net = os.path.join(d, "net.dat")
P = {}   # passphrases by key name


def path(name):
    return os.path.join(d, name)


def key(name, passphrase=None):
    """A new key; encrypted (passphrase through a pipe) unless None."""
    if passphrase is None:
        j = run_json("key", "new", "--out", path(name + ".pem"), "--no-passphrase")
        assert j["encrypted"] is False, j
    else:
        j = run_pass("key", "new", "--out", path(name + ".pem"), passphrase=passphrase,
                     json_out=True)
        assert j["encrypted"] is True, j
        P[name] = passphrase
    assert j["id"] == sha256_hex(j["public_key"]), j
    assert len(j["public_key"]) == 68 and j["public_key"][:2] == "01", j
    return j


LEDGER = ["--data", data, "--nosync"]
heights = []


def tx(signer, *args, check=0, json_out=True):
    """A signing command as `signer` (its passphrase through a pipe when it
    has one) on the local ledger; returns the JSON document (check 0)."""
    args = list(args) + ["--key", path(signer + ".pem")] + LEDGER
    if not os.path.exists(net + ".used"):
        args += ["--network", net]
    if signer in P:
        if check == 0:
            j = run_pass(*args, passphrase=P[signer], json_out=True)
        else:
            return run_pass(*args, passphrase=P[signer], check=check)
    else:
        if check == 0:
            j = run_json(*args)
        else:
            return run(*args, check=check)
    open(net + ".used", "w").close()
    if json_out:
        assert j["state"] == "block" and len(j["txid"]) == 64, j
        if heights:
            assert j["height"] == heights[-1] + 1, (j, heights)
        heights.append(j["height"])
    return j


def show(record, check=0):
    if check:
        return run("record", "show", record, *LEDGER, check=check)
    return run_json("record", "show", record, *LEDGER)


# ---- the passphrase never appears in /proc/PID/cmdline -----------------------
# `hre key new` reads it from a pipe we have not written yet: while it waits,
# its command line is read; then the passphrase is written.
secret = "correct horse battery staple %d" % os.getpid()
r, w = os.pipe()
p = subprocess.Popen([TOOL, "key", "new", "--out", path("auth.pem"), "--passphrase-fd", str(r),
                      "--json"], pass_fds=(r,), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     text=True)
os.close(r)
cmdline = b""
for _ in range(100):
    try:
        with open("/proc/%d/cmdline" % p.pid, "rb") as f:
            cmdline = f.read()
    except FileNotFoundError:
        break
    if b"--passphrase-fd" in cmdline:
        break
    time.sleep(0.02)
assert b"key\0new\0" in cmdline, cmdline
assert secret.encode() not in cmdline, cmdline
assert p.poll() is None, "hre key new did not wait for the passphrase"
os.write(w, (secret + "\n").encode())
os.close(w)
out, err = p.communicate(timeout=60)
assert p.returncode == 0, (out, err)
import json
auth = json.loads(out)
assert auth["encrypted"] is True and auth["id"] == sha256_hex(auth["public_key"]), auth
P["auth"] = secret
with open(path("auth.pem")) as f:
    pem = f.read()
assert "ENCRYPTED PRIVATE KEY" in pem and secret not in pem
assert os.stat(path("auth.pem")).st_mode & 0o777 == 0o600

# ---- network init ---------------------------------------------------------------
pub_auth = path("auth.pub")
run_pass("key", "export", "--key", path("auth.pem"), "--out", pub_auth, "--public",
         passphrase=secret, check=0)
# from the public key file (no passphrase needed), then the real one from the PEM
j = run_json("network", "init", "--out", path("other.dat"), "--authority", pub_auth,
             "--name", "St. Mary's Hospital")
assert j["authority"] == auth["id"] and j["authority_key"] == auth["public_key"], j
ni = run_pass("network", "init", "--out", net, "--authority", path("auth.pem"), "--name",
              "St. Mary's Hospital", passphrase=secret, json_out=True)
assert len(ni["network_id"]) == 64 and ni["genesis"] == bytes.fromhex(ni["network_id"])[::-1].hex()
assert ni["name"] == "St. Mary's Hospital" and ni["authority"] == auth["id"], ni
assert ni["bytes"] == os.path.getsize(net)
# an existing file is kept unless --force
before = open(net, "rb").read()
rc, _, err = run("network", "init", "--out", net, "--authority", pub_auth, check=1)
assert "exists" in err and open(net, "rb").read() == before, err
run("network", "init", "--out", path("other.dat"), "--authority", pub_auth, "--force", check=0)
# a name that is not UTF-8 still gives valid JSON (U+FFFD for the bad byte)
j = run_json("network", "init", "--out", path("other.dat"), "--authority", pub_auth, "--force",
             "--name", b"Caf\xc3\xa9 \xff\"\\".decode("utf-8", "surrogateescape"))
assert j["name"] == "Caf\u00e9 \ufffd\"\\", j
# a wrong passphrase for the authority is exit 6
run_pass("network", "init", "--out", path("x.dat"), "--authority", path("auth.pem"),
         passphrase="wrong", check=6)
assert not os.path.exists(path("x.dat"))

# ---- the cast ---------------------------------------------------------------------
hosp2 = key("hosp2", "pw-hosp2")         # a second admin of the genesis hospital
lab = key("lab", "pw-lab")
clinic = key("clinic")                   # a key in clear
doctor = key("doctor", "pw-doctor")
patient = key("patient", "pw-patient")
nodek = key("node")
genesis_org = ni["genesis_org"]

# ---- registrations ----------------------------------------------------------------
j = tx("auth", "org", "register", "--type", "lab", "--name", "City Lab", "--admin",
       lab["public_key"])
lab_org = j["org_id"]
assert j["id"] == lab_org == j["txid"] and j["admin"] == lab["id"] and j["type"] == "lab", j
j = tx("auth", "org", "register", "--type", "clinic", "--name", "Riverside Clinic", "--admin",
       clinic["public_key"])
clinic_org = j["org_id"]
j = tx("auth", "admin", "register", "--org", genesis_org, "--admin", hosp2["public_key"])
assert j["admin"] == hosp2["id"] == j["id"] and j["org_id"] == genesis_org, j
j = tx("clinic", "doctor", "register", "--doctor", doctor["public_key"])
assert j["doctor"] == doctor["id"] == j["id"], j
j = tx("patient", "patient", "register")
assert j["patient"] == patient["id"] == j["id"], j
j = tx("clinic", "node", "register", "--node-key", nodek["public_key"])
assert j["node"] == nodek["id"], j
# the human form names the new id too
rc, out, _ = run_pass("org", "register", "--type", "pharmacy", "--name", "Corner Pharmacy",
                      "--admin", key("pharm")["public_key"], "--key", path("auth.pem"), *LEDGER,
                      passphrase=secret, check=0)
assert "org_id: " in out and "in block" in out, out
heights.append(heights[-1] + 1)
# unknown organisation types are usage errors
rc, _, err = run("org", "register", "--type", "spaceport", "--name", "X", "--admin",
                 lab["public_key"], "--key", path("clinic.pem"), *LEDGER, check=2)
assert "hospital" in err, err

# ---- a refused transaction: exit 1, nothing changes ---------------------------------
rc, out, err = tx("doctor", "org", "register", "--type", "lab", "--name", "Rogue Lab", "--admin",
                  doctor["public_key"], check=1)
assert out == "" and "refused" in err, (out, err)
rc, out, err = tx("clinic", "admin", "register", "--org", clinic_org, "--admin",
                  key("x1")["public_key"], check=1)
assert "refused" in err, err

# ---- key publish (SET_ENC_KEY) --------------------------------------------------
enc = key("enc")
j = tx("doctor", "key", "publish", "--enc-key", enc["public_key"])
assert j["target_type"] == "account" and j["target"] == doctor["id"] and \
    j["enc_key"] == enc["public_key"], j
j = tx("clinic", "key", "publish", "--enc-key", enc["public_key"], "--org", clinic_org)
assert j["target_type"] == "org" and j["target"] == clinic_org, j
# a secp256k1 key is no encryption key: exit 5
k1 = run_json("key", "new", "--out", path("k1.pem"), "--no-passphrase", "--curve", "secp256k1")
assert k1["curve"] == "secp256k1" and k1["public_key"][:2] == "02", k1
tx("doctor", "key", "publish", "--enc-key", k1["public_key"], check=5)

# ---- a record, signed by the hospital admin and the lab admin --------------------
doc = path("hba1c.json")
with open(doc, "w") as f:
    f.write('{"resourceType":"Observation","code":"HbA1c","value":5.4}')
import hashlib
doc_sha = hashlib.sha256(open(doc, "rb").read()).hexdigest()
r = tx("hosp2", "record", "new", "--patient", patient["id"], "--lab", lab_org, "--test", "HbA1c",
       "--hospital", "St. Mary's Hospital", "--document", doc, "--patient-ref", "MRN-0042",
       "--price", "4200", "--category", "1", "--date", "2026-11-30")
rid = r["record_id"]
assert rid == r["txid"] and r["doc_sha256"] == doc_sha and len(r["locator"]) == 64, r
assert len(r["salt"]) == 64 and r["salts"]["patient_id"] == r["salt"] == r["salts"]["test_name"]
assert r["date"] == 1795996800, r
s = show(rid)
assert s["status"] == "pending" and s["valid"] is False and s["signature_count"] == 0, s
assert s["signatures"] == [] and s["patient"] == patient["id"], s
assert s["issuer_org"] == genesis_org and s["issuer_name"] == "St. Mary's Hospital", s
assert s["lab_org"] == lab_org and s["lab_name"] == "City Lab", s
assert s["hospital_name"] == "St. Mary's Hospital" and s["price"] == 4200 and s["category"] == 1
assert s["doc_sha256"] == doc_sha and s["locator"] == r["locator"], s
assert s["commit_patient_id"] == r["commit_patient_id"] and s["erased"] is False, s
assert s["supersedes"] is None and s["date"] == 1795996800, s
assert [e["type"] for e in s["events"]] == ["record_created"], s
# the commitments check with the salt, and fail with another test name
j = run_json("record", "check", rid, "--salt", r["salt"], "--test", "HbA1c", "--patient-ref",
             "MRN-0042", *LEDGER)
assert j["match"] is True, j
rc, out, _ = run("record", "check", rid, "--salt", r["salt"], "--test", "LDL", "--patient-ref",
                 "MRN-0042", *LEDGER, "--json", check=1)
assert json.loads(out)["match"] is False

j = tx("hosp2", "record", "sign", rid)
assert j["record_id"] == rid and j["signature_count"] == 1 and j["valid"] is False, j
s = show(rid)
assert s["status"] == "pending" and s["signature_count"] == 1, s
assert [x["role"] for x in s["signatures"]] == ["issuer"], s
assert s["signatures"][0]["signer"] == hosp2["id"] and s["signatures"][0]["time"] > 0, s
# a second signature for the same organisation is refused
tx("auth", "record", "sign", rid, check=1)
j = tx("lab", "record", "sign", rid)
assert j["valid"] is True and j["signature_count"] == 2, j
s = show(rid)
assert s["status"] == "valid" and s["valid"] is True and s["signature_count"] == 2, s
sig = {x["role"]: x for x in s["signatures"]}
assert sig["issuer"]["signer"] == hosp2["id"] and sig["lab"]["signer"] == lab["id"], s
assert sig["lab"]["org"] == lab_org and sig["lab"]["org_name"] == "City Lab", s
assert sig["lab"]["time"] >= sig["issuer"]["time"] > 0, s
assert [e["type"] for e in s["events"]] == ["record_created", "record_signature",
                                            "record_signature", "record_signed"], s
rc, out, _ = run("record", "show", rid, *LEDGER, check=0)
assert "valid (2 of 2 signatures)" in out and "City Lab" in out, out

# a correction: the vault's hash and locator given, superseding the first record
loc = "ab" * 32
r2 = tx("hosp2", "record", "new", "--patient", patient["id"], "--lab", lab_org, "--test", "HbA1c",
        "--hospital", "St. Mary's Hospital", "--doc-sha256", "cd" * 32, "--locator", loc,
        "--supersedes", rid)
assert r2["doc_sha256"] == "cd" * 32 and r2["locator"] == loc, r2
s2 = show(r2["record_id"])
assert s2["supersedes"] == rid and s2["locator"] == loc and s2["status"] == "pending", s2
# without --patient-ref the commitment is to the patient's address
j = run_json("record", "check", r2["record_id"], "--salt", r2["salt"], "--test", "HbA1c", *LEDGER)
assert j["match"] is True, j
# a lab does not issue records; an unknown lab is not found; one document source only
rc, _, err = tx("lab", "record", "new", "--patient", patient["id"], "--lab", lab_org, "--test",
                "X", "--hospital", "H", "--doc-sha256", "cd" * 32, check=1)
tx("hosp2", "record", "new", "--patient", patient["id"], "--lab", "ee" * 32, "--test", "X",
   "--hospital", "H", "--doc-sha256", "cd" * 32, check=3)
tx("hosp2", "record", "new", "--patient", patient["id"], "--lab", lab_org, "--test", "X",
   "--hospital", "H", "--doc-sha256", "cd" * 32, "--document", doc, check=2)
tx("hosp2", "record", "new", "--patient", patient["id"], "--lab", lab_org, "--test", "X",
   "--hospital", "H", "--document", path("no-such-file"), check=3)

# ---- consent: grant, access, revoke, refused access ------------------------------
# the doctor of the clinic has no role on this record: refused before any grant
h = heights[-1]
rc, out, err = tx("doctor", "access", rid, check=1)
assert out == "" and "no grant" in err, err
g = tx("patient", "grant", "--reader", doctor["id"], "--expires", "+30d")
gid = g["grant_id"]
assert gid == g["txid"] and g["scope"] == "all" and g["reader"] == doctor["id"], g
assert abs(g["expires"] - (time.time() + 30 * 86400)) < 120, g
assert g["height"] == h + 1, (g, h)   # the refused access mined nothing
a = tx("doctor", "access", rid, "--purpose", "1")
assert a["record_id"] == rid and a["purpose"] == 1 and a["basis"] == "grant", a
assert a["grant_id"] == gid, a
# the patient reads by being the patient; the lab admin by role
a = tx("patient", "access", rid)
assert a["basis"] == "patient" and "grant_id" not in a, a
a = tx("lab", "access", rid, "--purpose", "2")
assert a["basis"] == "role", a
s = show(rid)
acc = [e for e in s["events"] if e["type"] == "access_logged"]
assert [e["actor"] for e in acc] == [doctor["id"], patient["id"], lab["id"]], acc
assert acc[0]["grant"] == gid and acc[0]["purpose"] == 1, acc
# other scopes
g2 = tx("patient", "grant", "--reader", clinic_org, "--reader-type", "org", "--record", rid)
assert g2["scope"] == "records" and g2["record_count"] == 1 and g2["reader_type"] == "org", g2
g3 = tx("patient", "grant", "--reader", doctor["id"], "--category", "7", "--expires",
        str(int(time.time()) + 3600))
assert g3["scope"] == "category" and g3["category"] == 7, g3
# the newest live grant that covers the record decides: the clinic's (the doctor's org)
a = tx("doctor", "access", rid, "--purpose", "3")
assert a["basis"] == "grant" and a["grant_id"] == g2["grant_id"], (a, g2)
tx("patient", "grant", "--reader", doctor["id"], "--scope", "records", check=2)
tx("patient", "grant", "--reader", doctor["id"], "--expires", "+3x", check=5)
j = tx("patient", "revoke", g2["grant_id"])
assert j["grant_id"] == g2["grant_id"], j
j = tx("patient", "revoke", gid)
assert j["grant_id"] == gid, j
h = heights[-1]
rc, out, err = tx("doctor", "access", rid, check=1)
assert out == "" and "revoked" in err, err
# revoking twice is refused by the contract
rc, out, err = tx("patient", "revoke", gid, check=1)
assert "refused" in err, err
# someone else's grant cannot be revoked
tx("doctor", "revoke", g3["grant_id"], check=1)

# ---- erasure ---------------------------------------------------------------------
j = tx("patient", "erase", rid)
assert j["record_id"] == rid and j["erased"] is True, j
assert j["height"] == h + 1, (j, h)
s = show(rid)
assert s["erased"] is True and s["erased_time"] > 0 and s["status"] == "valid", s
assert s["events"][-1]["type"] == "record_erased", s
rc, out, _ = run("record", "show", rid, *LEDGER, check=0)
assert "ERASED" in out, out
rc, out, err = tx("patient", "access", rid, check=1)
assert "erased" in err, err
tx("patient", "erase", rid, check=1)
tx("lab", "grant", "--reader", doctor["id"], check=1)   # not a patient

# ---- exit codes -------------------------------------------------------------------
# wrong passphrase: 6, nothing submitted
rc, out, err = run_pass("grant", "--reader", doctor["id"], "--key", path("patient.pem"), *LEDGER,
                        passphrase="not-it", check=6)
assert "wrong passphrase" in err, err
# an encrypted key without a passphrase source (no terminal here): 2
p = subprocess.run([TOOL, "patient", "register", "--key", path("patient.pem"), *LEDGER],
                   capture_output=True, text=True, start_new_session=True)
assert p.returncode == 2 and "encrypted" in p.stderr, (p.returncode, p.stderr)
# bad hex: 5
rc, _, err = run("record", "show", "zz" * 32, *LEDGER, check=5)
assert "64 hex digits" in err, err
run("record", "show", rid[:-2], *LEDGER, check=5)
tx("auth", "org", "register", "--type", "lab", "--name", "L", "--admin", "01" + "00" * 33,
   check=5)
tx("auth", "org", "register", "--type", "lab", "--name", "L", "--admin", "xy" * 34, check=5)
tx("clinic", "doctor", "register", "--doctor", lab["public_key"][:-2], check=5)
tx("hosp2", "record", "sign", "g" * 64, check=5)
# unknown record: 3
run("record", "show", "00" * 32, *LEDGER, check=3)
rc, _, err = tx("doctor", "access", "00" * 32, check=3)
assert "no record" in err, err
# usage: 2
run("record", "new", "--key", path("hosp2.pem"), *LEDGER, check=2)
run("grant", "--key", path("patient.pem"), "--reader", doctor["id"], check=2)  # no ledger
# --node with no node running there: exit 7, for signing and read-only commands
nodedir = os.path.join(d, "no-node")
os.mkdir(nodedir)
rc, _, err = run("patient", "register", "--key", path("clinic.pem"), "--node", nodedir, check=7)
run("record", "show", rid, "--node", nodedir, check=7)
run("record", "show", rid, "--node", nodedir, "--data", data, check=2)
# the chain moved only with accepted transactions
j = tx("patient", "grant", "--reader", doctor["id"])
assert j["height"] == h + 2, (j, h)

print("cli_tx: %d blocks, record %s valid, consent and erasure checked" % (heights[-1], rid[:12]))
shutil.rmtree(d)
