"""hre chain info | verify | block | tx | proof | verify-proof on the ledger
that examples/hre_demo leaves (argv[2]): the numbers agree between the
commands, verify finds a damaged block, proofs verify with the network file
alone and tampered ones are refused with the reason."""
import hashlib
import json
import os
import shutil
import struct
import sys
import zlib

from clitest import run, run_json, tmpdir, demo_ledger, chain_blocks, txs_of_kind

DEMO = sys.argv[2]
data = demo_ledger(DEMO)
work = tmpdir("hre-cli-chain-")

# ---- chain info and chain block agree ------------------------------------
info, blocks = chain_blocks(data)
H = info["height"]
assert H >= 5, info
assert len(info["network_id"]) == 64 and len(info["fingerprint"]) == 64, info
assert info["org_name"] == "St. Mary's Hospital", info
assert info["mempool"] == 0, info
assert blocks[H]["hash"] == info["tip"], (blocks[H], info)
assert blocks[H]["time"] == info["tip_time"], (blocks[H], info)
assert blocks[0]["tx_count"] == 0 and blocks[0]["txs"] == [], blocks[0]
# the genesis hash (display order) is the network id (internal order) reversed
assert bytes.fromhex(blocks[0]["hash"])[::-1].hex() == info["network_id"], (blocks[0], info)
for h in range(1, H + 1):
    b = blocks[h]
    assert b["height"] == h and b["prev_hash"] == blocks[h - 1]["hash"], (h, b)
    assert b["tx_count"] == len(b["txs"]) >= 1, b
    assert b["confirmations"] == H - h + 1, b
# each block's work at 0x207fffff is 2: chainwork = 2 * (H + 1)
assert all(b["bits"] == "207fffff" for b in blocks), [b["bits"] for b in blocks]
assert int(info["chainwork"], 16) == 2 * (H + 1), info["chainwork"]
records = txs_of_kind(blocks, "new-record")
grants = txs_of_kind(blocks, "grant")
accesses = txs_of_kind(blocks, "log-access")
assert len(records) == info["contract"]["records"] >= 1, (records, info)
assert len(grants) == info["contract"]["grants"] >= 1, (grants, info)
assert len(accesses) >= 1 and txs_of_kind(blocks, "revoke"), blocks
# by hash (display order) gives the same block
assert run_json("chain", "block", blocks[3]["hash"], "--data", data) == blocks[3]
_, out, _ = run("chain", "block", "3", "--data", data, check=0)
assert blocks[3]["hash"] in out and "transactions:" in out, out
_, out, _ = run("chain", "info", "--data", data, check=0)
assert info["tip"] in out and "height:       %d" % H in out, out
run("chain", "block", str(H + 1), "--data", data, check=3)
run("chain", "block", "x" * 64, "--data", data, check=5)
run("chain", "block", "00" * 32, "--data", data, check=3)
# --raw: the block's encoding; its first 80 bytes hash to the block hash
raw = os.path.join(work, "b3.bin")
run("chain", "block", "3", "--raw", raw, "--data", data, check=0)
rb = open(raw, "rb").read()
assert len(rb) == blocks[3]["size"], (len(rb), blocks[3])
assert hashlib.sha256(hashlib.sha256(rb[:80]).digest()).digest()[::-1].hex() == blocks[3]["hash"]

# ---- chain tx ---------------------------------------------------------------
gh, grant = grants[0]
ah, access = accesses[0]
rh, record = records[0]
t = run_json("chain", "tx", access["txid"], "--data", data)
assert t["txid"] == access["txid"] and t["kind_name"] == "log-access", t
assert t["height"] == ah and t["block"] == blocks[ah]["hash"], (t, ah)
assert t["sender"] == access["sender"] and t["nonce"] == access["nonce"], t
assert t["confirmations"] == H - ah + 1, t
assert t["payload"]["record"] == record["txid"], (t, record)
assert run_json("chain", "tx", access["txid"], "--height", str(ah), "--data", data) == t
t = run_json("chain", "tx", grant["txid"], "--data", data)
assert t["kind_name"] == "grant" and t["payload"]["scope"] == "all", t
assert t["payload"]["reader"] == access["sender"], (t, access)   # the doctor was granted
t = run_json("chain", "tx", record["txid"], "--data", data)
assert t["kind_name"] == "new-record" and t["payload"]["hospital_name"], t
_, out, _ = run("chain", "tx", access["txid"], "--data", data, check=0)
assert "log-access" in out and record["txid"] in out, out
_, _, err = run("chain", "tx", "ab" * 32, "--data", data, check=3)
assert "no transaction" in err, err
run("chain", "tx", "zz", "--data", data, check=5)

# ---- chain verify -------------------------------------------------------------
rc, out, err = run("chain", "verify", "--data", data, check=0)
assert "chain verified" in out, out
lines = [l for l in err.splitlines() if l.startswith("verified ")]
assert lines and lines[-1] == "verified %d/%d" % (H, H), err
assert len(lines) <= 21, err         # at most one line per 5% (plus the last)
assert run_json("chain", "verify", "--data", data, "--quiet") == {
    "ok": True, "height": H, "tip": info["tip"], "from": 0}
_, _, err = run("chain", "verify", "--quiet", "--data", data, check=0)
assert "verified" not in err, err
_, out, _ = run("chain", "verify", "--json", "--data", data, check=0)
json.loads(out)                      # progress lines stay off stdout

# on a terminal: a bar redrawn in place with \r on stdout, no lines on stderr
import pty  # noqa: E402
import subprocess  # noqa: E402
import clitest  # noqa: E402
master, slave = pty.openpty()
proc = subprocess.Popen([clitest.TOOL, "chain", "verify", "--data", data], stdout=slave,
                        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
os.close(slave)
tty_out = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    tty_out += chunk
os.close(master)
_, tty_err = proc.communicate(timeout=60)
assert proc.returncode == 0, (tty_out, tty_err)
tty_text = tty_out.decode()
assert "\rverifying [" in tty_text and "%d/%d" % (H, H) in tty_text, tty_text
assert tty_text.count("\rverifying [") >= H, tty_text
assert "chain verified" in tty_text and b"verified " not in tty_err, (tty_text, tty_err)

# a byte flipped in the body of a block that the newest snapshot covers (the
# open does not replay it), its record's CRC fixed as a forger would: verify
# names that height and exits 1
snaps = sorted(f for f in os.listdir(data) if f.startswith("snap-"))
snap_h = int(snaps[-1][5:21], 16)
bad_h = min(2, snap_h)
bad = os.path.join(work, "forged")
shutil.copytree(data, bad)
seg = os.path.join(bad, "blk-00000.dat")
b = bytearray(open(seg, "rb").read())
off, recs = 0, []
while off + 16 <= len(b):
    L = struct.unpack_from("<I", b, off)[0]
    recs.append((off, L))
    off += 16 + L
assert len(recs) == H, (recs, H)
o, L = recs[bad_h - 1]
b[o + 16 + L - 70] ^= 0x01           # inside the last transaction's signature
struct.pack_into("<I", b, o + 4, zlib.crc32(bytes(b[o:o + 4]) + bytes(b[o + 8:o + 16 + L])))
open(seg, "wb").write(b)
_, _, err = run("chain", "verify", "--data", bad, check=1)
assert "height %d is bad" % bad_h in err, err
assert run_json("chain", "verify", "--quiet", "--data", bad, check=1)["first_bad_height"] == bad_h
# --from H: the blocks from H on, without the contract replay
assert run_json("chain", "verify", "--from", str(bad_h + 1), "--quiet", "--data", bad)["ok"] is True
_, out, err = run("chain", "verify", "--from", str(bad_h), "--data", bad, check=1)
assert "height %d is bad" % bad_h in err and "Merkle" in err, err
assert "verified %d/%d" % (bad_h - 1, H) not in err, err      # progress starts at H
_, out, _ = run("chain", "verify", "--from", "1", "--data", data, check=0)
assert "blocks 1..%d verified" % H in out, out
run("chain", "verify", "--from", str(H + 1), "--data", data, check=3)
run("chain", "verify", "--from", "-1", "--data", data, check=2)
# a plain flipped byte (CRC left as it was): the ledger does not even open
dam = os.path.join(work, "damaged")
shutil.copytree(data, dam)
seg = os.path.join(dam, "blk-00000.dat")
b = bytearray(open(seg, "rb").read())
b[recs[bad_h - 1][0] + 40] ^= 0x01
open(seg, "wb").write(b)
_, _, err = run("chain", "verify", "--data", dam, check=4)
assert "damaged" in err and "corrupt" in err, err

# ---- chain proof / verify-proof ----------------------------------------------------
net = os.path.join(data, "network.dat")
pf = os.path.join(work, "access.proof")
p = run_json("chain", "proof", access["txid"], "--out", pf, "--data", data)
assert p == {"txid": access["txid"], "height": ah, "headers": H + 1,
             "confirmations": H - ah + 1, "size": os.path.getsize(pf), "file": pf}, p
v = run_json("chain", "verify-proof", pf, "--network", net)
assert v["ok"] is True and v["txid"] == access["txid"] and v["height"] == ah, v
assert v["confirmations"] == H - ah + 1 and v["last_height"] == H, v
assert v["block"] == blocks[ah]["hash"] and v["network_id"] == info["network_id"], v
assert v["kind_name"] == "log-access" and v["payload"]["record"] == record["txid"], v
assert v["sender_first_key_address"] == access["sender"], v
_, out, _ = run("chain", "verify-proof", pf, "--network", net, check=0)
assert out.startswith("proof verified: transaction " + access["txid"]), out
run("chain", "verify-proof", pf, "--network", net, "--txid", access["txid"], check=0)
_, _, err = run("chain", "verify-proof", pf, "--network", net, "--txid", grant["txid"], check=1)
assert "not " + grant["txid"] in err, err
# --out -: the same bytes on stdout (binary)
import subprocess as _sp  # noqa: E402
import clitest as _ct  # noqa: E402
raw_proof = _sp.run([_ct.TOOL, "chain", "proof", access["txid"], "--out", "-", "--data", data],
                    capture_output=True, timeout=60)
assert raw_proof.returncode == 0 and raw_proof.stdout == open(pf, "rb").read(), raw_proof
run("chain", "proof", access["txid"], "--out", "-", "--json", "--data", data, check=2)
run("chain", "proof", "ab" * 32, "--out", os.path.join(work, "x"), "--data", data, check=3)
# a record's proof, and --height
pr = os.path.join(work, "record.proof")
run("chain", "proof", record["txid"], "--height", str(rh), "--out", pr, "--data", data, check=0)
assert run_json("chain", "verify-proof", pr, "--network", net)["height"] == rh

# the file layout (PROTOCOL.md 16): magic, version, n, height, headers, txid, branch, tx
pb = open(pf, "rb").read()
assert pb[:8] == b"HREPROF1" and struct.unpack_from("<III", pb, 8) == (1, H + 1, ah), pb[:20]
hdr_end = 20 + 80 * (H + 1)
assert pb[hdr_end:hdr_end + 32].hex() == access["txid"]
depth = pb[hdr_end + 36]
tx_off = hdr_end + 32 + 5 + 32 * depth + 4
assert struct.unpack_from("<I", pb, tx_off - 4)[0] == len(pb) - tx_off


def tampered(at, name):
    q = bytearray(pb)
    q[at] ^= 0x01
    path = os.path.join(work, name)
    open(path, "wb").write(q)
    return run("chain", "verify-proof", path, "--network", net)


rc, _, err = tampered(0, "magic.proof")
assert rc == 5 and "not a proof file" in err, (rc, err)
rc, _, err = tampered(20 + 80 * ah + 40, "header.proof")     # the block's Merkle root
# its own proof of work (a new hash) or the next header's link fails; at the
# tip, with a lucky hash, only the branch
assert rc == 1 and (("bad-headers" in err and ("header %d" % ah in err or
                                               "header %d" % (ah + 1) in err))
                    or (ah == H and "bad-branch" in err)), (rc, err)
rc, _, err = tampered(20 + 40, "genesis.proof")
assert rc == 1 and "bad-genesis" in err, (rc, err)
rc, _, err = tampered(hdr_end + 3, "txid.proof")
assert rc == 1 and "bad-txid" in err, (rc, err)
if depth:
    rc, _, err = tampered(hdr_end + 37, "branch.proof")
    assert rc == 1 and "bad-branch" in err, (rc, err)
rc, _, err = tampered(len(pb) - 3, "tx.proof")                 # in the signature
assert rc == 1 and "bad-txid" in err, (rc, err)
open(os.path.join(work, "short.proof"), "wb").write(pb[:-1])
rc, _, err = run("chain", "verify-proof", os.path.join(work, "short.proof"), "--network", net)
assert rc == 5 and "truncated" in err, (rc, err)
r = run_json("chain", "verify-proof", os.path.join(work, "txid.proof"), "--network", net, check=1)
assert r["ok"] is False and r["reason"] == "bad-txid", r

# another network's file: the genesis differs
other = demo_ledger(DEMO, prefix="hre-cli-demo2-")
_, _, err = run("chain", "verify-proof", pf, "--network", os.path.join(other, "network.dat"),
                check=1)
assert "bad-genesis" in err, err
r = run_json("chain", "verify-proof", pf, "--network", os.path.join(other, "network.dat"), check=1)
assert r["reason"] == "bad-genesis" and r["bad_header"] == 0, r
run("chain", "verify-proof", pf, "--network", os.path.join(work, "none"), check=3)
run("chain", "verify-proof", pf, check=2)                      # --network is required

shutil.rmtree(work)
shutil.rmtree(os.path.dirname(data))
shutil.rmtree(os.path.dirname(other))
print("test_cli_chain: ok")
