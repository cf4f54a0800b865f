#!/usr/bin/env python3
"""Cross-implementation vault test: libhre envelopes and wraps <-> an
independent implementation of docs/PROTOCOL.md section 14 written here on
Python `cryptography` (HPKE from hpke_interop.py, HKDF, AES-GCM) and zlib.

usage: vault_interop.py PATH/TO/vault_tool        (HRE_DATA_DIR for the FHIR bundles)

(a) libhre seals documents (FHIR bundles, random bytes, empty, sizes at chunk
    boundaries; compression auto, never, always; base and auth mode); this
    script unwraps the data key from the 287-byte wrap with the documented
    HPKE info and aad, derives the chunk key and checks the key commitment,
    decrypts every chunk with the documented nonce and AAD, checks the
    lengths, the zero padding, the Padme bucket, the envelope length and its
    SHA-256, parses the payload meta, inflates the body and compares it with
    the document byte for byte;
(b) this script seals documents by the spec and libhre opens them; changed
    bytes and a swapped chunk are refused.
Exits 77 (meson's "skipped") when the cryptography package is missing.
"""
import hashlib
import os
import secrets
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hpke_interop as hp  # noqa: E402  (exits 77 without `cryptography`)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

TOOL = sys.argv[1] if len(sys.argv) > 1 else None
HDR = 82
DATA = 65532
WIRE = 65552
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def tool(*args, expect=0):
    r = subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True)
    if r.returncode != expect:
        raise SystemExit("vault_tool %s: exit %d: %s %s" % (args[0], r.returncode, r.stdout, r.stderr))
    return dict(line.split(" ", 1) for line in r.stdout.strip().splitlines())


def padme(n):
    if n < 2:
        return n
    e = n.bit_length() - 1
    s = (e.bit_length() - 1) + 1
    m = (1 << (e - s)) - 1
    return (n + m) & ~m


def bucket(n):
    return max(512, padme(n))


def keys(data_key):
    prk = hp.extract(b"HRE-VAULT-v1", data_key)
    return hp.expand(prk, b"chunk key", 32), hp.expand(prk, b"key commitment", 32)


def wrap_info(locator, version, rtype, rid, stype, sid):
    return b"HRE-VAULT-v1 wrap" + locator + struct.pack("<I", version) + bytes([rtype]) + rid + bytes([stype]) + sid


def parse_wrap(w):
    check(len(w) == 287 and w[:4] == b"HREW" and w[4] == 1, "wrap magic and format")
    return {
        "mode": w[5], "doc_hash": w[6:38], "locator": w[38:70], "version": struct.unpack("<I", w[70:74])[0],
        "rtype": w[74], "rid": w[75:107], "stype": w[107], "sid": w[108:140], "skey": w[140:174],
        "hpke": w[174:287],
    }


def pub_from_wire(wire):
    # 34-byte wire key: curve id 1 || compressed point
    check(wire[0] == 1, "sender key curve id")
    return hp.ec.EllipticCurvePublicKey.from_encoded_point(hp.ec.SECP256R1(), wire[1:])


def spec_open(env, wrap_bytes, sk_r):
    w = parse_wrap(wrap_bytes)
    info = wrap_info(w["locator"], w["version"], w["rtype"], w["rid"], w["stype"], w["sid"])
    pk_s = pub_from_wire(w["skey"]) if w["mode"] == 2 else None
    if w["mode"] == 0:
        check(w["stype"] == 0 and w["sid"] == bytes(32) and w["skey"] == bytes(34), "base wrap has no sender")
    data_key = hp.unwrap(sk_r, info, w["doc_hash"], w["hpke"], pk_s)
    ck, commit = keys(data_key)
    hdr = env[:HDR]
    check(hdr[:7] == b"HREV\x01\x00\x10", "header magic, format, flags, chunk_log2")
    check(hdr[7:39] == w["locator"] and struct.unpack("<I", hdr[39:43])[0] == w["version"], "header names the wrap's document")
    check(hdr[50:82] == commit, "key commitment")
    check(hashlib.sha256(env).digest() == w["doc_hash"], "envelope SHA-256 is the wrap's doc_hash")
    aes = AESGCM(ck)
    rest = env[HDR:]
    n = (len(rest) + WIRE - 1) // WIRE
    payload = bytearray()
    padded = 0
    ended = False
    for i in range(n):
        c = rest[i * WIRE:(i + 1) * WIRE]
        final = 1 if i == n - 1 else 0
        nonce = hdr[43:50] + struct.pack(">I", i) + bytes([final])
        aad = hdr + struct.pack("<I", i) + bytes([final])
        pt = aes.decrypt(nonce, c, aad)
        dlen = struct.unpack("<I", pt[:4])[0]
        piece = pt[4:]
        check(dlen <= len(piece), "data_len within the piece")
        check(not (ended and dlen), "no payload after the padding began")
        check(piece[dlen:] == bytes(len(piece) - dlen), "zero padding")
        if dlen < len(piece):
            ended = True
        payload += piece[:dlen]
        padded += len(piece)
    check(padded == bucket(len(payload)), "padded length is the bucket of the payload")
    check(len(env) == HDR + padded + 20 * n, "envelope length")
    fmt, mlen = payload[0], payload[1]
    media = bytes(payload[2:2 + mlen]).decode("ascii")
    body = bytes(payload[2 + mlen:])
    if fmt == 1:
        d = zlib.decompressobj()
        doc = d.decompress(body)
        check(d.eof and not d.unused_data, "the zlib body ends exactly at the payload's end")
    else:
        check(fmt == 0, "body format")
        doc = body
    return doc, media, fmt, padded


def spec_seal(doc, media, compress, locator, version, pk_r, rtype, rid, sk_s, stype, sid):
    """Seal by the spec; returns (envelope, wrap bytes)."""
    data_key = secrets.token_bytes(32)
    prefix = secrets.token_bytes(7)
    ck, commit = keys(data_key)
    body = zlib.compress(doc, 6) if compress else doc
    payload = bytes([1 if compress else 0, len(media)]) + media + body
    padded = bucket(len(payload))
    stream = payload + bytes(padded - len(payload))
    hdr = b"HREV\x01\x00\x10" + locator + struct.pack("<I", version) + prefix + commit
    aes = AESGCM(ck)
    pieces = [stream[i:i + DATA] for i in range(0, len(stream), DATA)]
    env = bytearray(hdr)
    left = len(payload)
    for i, piece in enumerate(pieces):
        final = 1 if i == len(pieces) - 1 else 0
        dlen = min(left, len(piece))
        left -= dlen
        pt = struct.pack("<I", dlen) + piece
        env += aes.encrypt(prefix + struct.pack(">I", i) + bytes([final]), pt, hdr + struct.pack("<I", i) + bytes([final]))
    env = bytes(env)
    doc_hash = hashlib.sha256(env).digest()
    if sk_s is None:
        stype, sid, skey, mode = 0, bytes(32), bytes(34), 0
    else:
        pt = sk_s.public_key().public_bytes(hp.serialization.Encoding.X962, hp.serialization.PublicFormat.CompressedPoint)
        skey, mode = b"\x01" + pt, 2
    info = wrap_info(locator, version, rtype, rid, stype, sid)
    w = hp.wrap(pk_r, info, doc_hash, data_key, sk_s)
    wrap_bytes = (b"HREW\x01" + bytes([mode]) + doc_hash + locator + struct.pack("<I", version) + bytes([rtype]) + rid
                  + bytes([stype]) + sid + skey + w)
    return env, wrap_bytes


def documents():
    docs = []
    d = os.path.join(os.environ.get("HRE_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", "data")), "fhir-stu3")
    names = sorted(f for f in os.listdir(d) if f.endswith(".json"))
    check(len(names) >= 4, "FHIR bundles found")
    by_size = sorted(names, key=lambda f: os.path.getsize(os.path.join(d, f)))
    for f in by_size[:3] + by_size[len(by_size) // 2:len(by_size) // 2 + 2] + by_size[-2:]:
        with open(os.path.join(d, f), "rb") as fh:
            docs.append(("fhir:" + f, fh.read(), "application/fhir+json"))
    for n in (0, 1, 509, 65527, 65528, 65532, 131064, 200001):
        docs.append(("random:%d" % n, secrets.token_bytes(n), ""))
    return docs


def main():
    if not TOOL:
        print("usage: vault_interop.py PATH/TO/vault_tool")
        return 2
    tmp = tempfile.mkdtemp(prefix="hre-vault-interop-")
    ikm_r = secrets.token_bytes(32)
    sk_r = hp.derive_key_pair(ikm_r)
    pk_r_hex = tool("pub", ikm_r.hex())["pub"]
    check(bytes.fromhex(pk_r_hex) == hp.serialize(sk_r.public_key()), "DeriveKeyPair agrees")
    n_a = n_b = 0
    for i, (name, doc, media) in enumerate(documents()):
        compress = ["auto", "never", "always"][i % 3]
        auth = i % 2 == 0
        ikm_s = secrets.token_bytes(32)
        locator, rid, sid = secrets.token_bytes(32), secrets.token_bytes(32), secrets.token_bytes(32)
        docf, envf, wrapf, outf = (os.path.join(tmp, x) for x in ("doc", "env", "wrap", "out"))
        with open(docf, "wb") as f:
            f.write(doc)
        # (a) libhre seals, this script opens
        out = tool("seal", ikm_s.hex() if auth else "-", pk_r_hex, 0, rid.hex(), 1, sid.hex(), locator.hex(), 3,
                   compress, media or "-", docf, envf, wrapf)
        with open(envf, "rb") as f:
            env = f.read()
        with open(wrapf, "rb") as f:
            wrap_bytes = f.read()
        got, gmedia, fmt, padded = spec_open(env, wrap_bytes, sk_r)
        check(got == doc, "%s: document byte for byte (libhre -> python)" % name)
        check(gmedia == media, "%s: media type" % name)
        check(bytes.fromhex(out["hash"]) == hashlib.sha256(env).digest(), "%s: printed hash" % name)
        check(int(out["padded"]) == padded, "%s: padded length" % name)
        check(fmt == int(out["compressed"]), "%s: body format" % name)
        if compress == "never":
            check(fmt == 0, "%s: never compressed" % name)
        if compress == "always":
            check(fmt == 1, "%s: always compressed" % name)
        w = parse_wrap(wrap_bytes)
        check(w["mode"] == (2 if auth else 0) and w["rid"] == rid, "%s: wrap mode and reader" % name)
        if auth:
            sk_s = hp.derive_key_pair(ikm_s)
            want = b"\x01" + sk_s.public_key().public_bytes(hp.serialization.Encoding.X962,
                                                             hp.serialization.PublicFormat.CompressedPoint)
            check(w["skey"] == want and w["sid"] == sid and w["stype"] == 1, "%s: sender fields" % name)
        n_a += 1
        # (b) this script seals, libhre opens
        sk_s = hp.derive_key_pair(ikm_s) if auth else None
        env2, wrap2 = spec_seal(doc, media.encode(), compress != "never" and len(doc) > 0, locator, 5,
                                sk_r.public_key(), 1, rid, sk_s, 0, sid)
        with open(envf, "wb") as f:
            f.write(env2)
        with open(wrapf, "wb") as f:
            f.write(wrap2)
        res = tool("open", ikm_r.hex(), envf, wrapf, outf)
        with open(outf, "rb") as f:
            check(f.read() == doc, "%s: document byte for byte (python -> libhre)" % name)
        check(res["ok"].split(" ")[0] == str(len(doc)), "%s: libhre's length" % name)
        # a changed chunk byte, and (multi-chunk) swapped chunks, are refused
        bad = bytearray(env2)
        bad[HDR + 5 + secrets.randbelow(len(env2) - HDR - 5)] ^= 0x40
        with open(envf, "wb") as f:
            f.write(bytes(bad))
        res = tool("open", ikm_r.hex(), envf, wrapf, outf, expect=1)
        check(res.get("refused") == "-16", "%s: tampered envelope refused with HRE_EDECRYPT" % name)
        if len(env2) > HDR + 2 * WIRE:
            sw = env2[:HDR] + env2[HDR + WIRE:HDR + 2 * WIRE] + env2[HDR:HDR + WIRE] + env2[HDR + 2 * WIRE:]
            with open(envf, "wb") as f:
                f.write(sw)
            res = tool("open", ikm_r.hex(), envf, wrapf, outf, expect=1)
            check(res.get("refused") == "-16", "%s: swapped chunks refused" % name)
        n_b += 1
    print("vault interop: %d libhre envelopes opened by the spec, %d spec envelopes opened by libhre" % (n_a, n_b))
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("vault interop: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
