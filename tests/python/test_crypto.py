#!/usr/bin/env python3
"""The layer-1 crypto bindings (hre.Aead, hre.HpkeContext, hre.hpke_wrap /
hpke_unwrap / hpke_derive_key, Key.ecdh, hre.hkdf_sha256*) against
published vectors and independent implementations:

- HKDF: Wycheproof hkdf_sha256_test.json, and RFC 5869 computed here with
  Python's hmac;
- AES-256-GCM: Wycheproof aes_gcm_test.json (every group: the 256/96/128
  groups must match, the others must be refused as unsupported), and the
  `cryptography` package on random messages when it is installed;
- ECDH: Wycheproof ecdh_secp256r1_ecpoint_test.json (private keys imported
  through a PKCS#8 PEM built here), and `cryptography` when installed;
- HPKE: the RFC 9180 vectors for DHKEM(P-256)/HKDF-SHA256/AES-256-GCM in all
  four modes (DeriveKeyPair, every encryption opened in order, every export),
  and the wrap wire form (enc || seal at sequence 0) opened with a context.

Usage: test_crypto.py   (HRE_LIBRARY points at libhre.so.1, HRE_VECTORS_DIR at tests/vectors)
"""
import base64
import hashlib
import hmac
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hre  # noqa: E402

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    HAVE_CRYPTOGRAPHY = True
except ImportError:
    HAVE_CRYPTOGRAPHY = False

from checks import check, failures, checks  # noqa: E402

SEED = int(os.environ.get("HRE_SEED", random.SystemRandom().randrange(1 << 32)))
print(f"seed {SEED} (HRE_SEED={SEED} replays it)")
rng = random.Random(SEED)


def raises(cls, fn, msg):
    """Like checks.expect, but for any exception class (ValueError too), and
    an exception of another class is a failed check rather than an abort."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        check(isinstance(e, cls), f"{msg}: raised {type(e).__name__}: {e}, want {cls.__name__}")
        return e if isinstance(e, cls) else None
    check(False, f"{msg}: no exception, want {cls.__name__}")
    return None


def vector(*parts):
    base = os.environ.get("HRE_VECTORS_DIR")
    if not base:
        base = os.path.join(os.path.dirname(__file__), "..", "vectors")
    with open(os.path.join(base, *parts)) as f:
        return json.load(f)


def rbytes(n):
    return bytes(rng.getrandbits(8) for _ in range(n))


# --------------------------------------------------------------------------
# HKDF
# --------------------------------------------------------------------------
def py_hkdf(ikm, length, salt, info):
    prk = hmac.new(salt or b"\0" * 32, ikm, "sha256").digest()
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), "sha256").digest()
        out += t
        i += 1
    return prk, out[:length]


doc = vector("wycheproof", "hkdf_sha256_test.json")
n_valid = n_invalid = 0
for g in doc["testGroups"]:
    for t in g["tests"]:
        ikm, salt, info = (bytes.fromhex(t[k]) for k in ("ikm", "salt", "info"))
        size, tc = t["size"], t["tcId"]
        if t["result"] == "valid":
            okm = bytes.fromhex(t["okm"])
            check(hre.hkdf_sha256(ikm, size, salt, info) == okm, f"hkdf tc {tc}")
            prk = hre.hkdf_sha256_extract(salt, ikm)
            check(hre.hkdf_sha256_expand(prk, size, info) == okm, f"hkdf extract+expand tc {tc}")
            check((prk, okm) == py_hkdf(ikm, size, salt, info), f"hkdf tc {tc} vs Python hmac")
            n_valid += 1
        else:
            raises(hre.InvalidArgument, lambda: hre.hkdf_sha256(ikm, size, salt, info),
                   f"hkdf tc {tc} ({t['comment']})")
            n_invalid += 1
check((n_valid, n_invalid) == (83, 3), f"hkdf vectors: {n_valid} valid, {n_invalid} invalid")
print(f"hkdf: {n_valid} Wycheproof vectors matched (one-shot, extract+expand, Python hmac), "
      f"{n_invalid} refused")
for _ in range(20):
    ikm, salt, info, n = rbytes(rng.randrange(0, 80)), rbytes(rng.randrange(0, 80)), \
        rbytes(rng.randrange(0, 80)), rng.randrange(1, 600)
    check(hre.hkdf_sha256(ikm, n, salt, info) == py_hkdf(ikm, n, salt, info)[1], "random hkdf")
prk = hre.hkdf_sha256_extract(b"", b"ikm")
check(prk == hmac.new(b"\0" * 32, b"ikm", "sha256").digest(), "empty salt is 32 zero bytes")
check(len(hre.hkdf_sha256_expand(prk, 8160)) == 8160, "expand to the 255 * 32 maximum")
raises(hre.InvalidArgument, lambda: hre.hkdf_sha256_expand(prk, 8161), "expand past 8160")
raises(hre.InvalidArgument, lambda: hre.hkdf_sha256_expand(prk, 0), "expand to 0 bytes")
raises(hre.InvalidArgument, lambda: hre.hkdf_sha256_expand(prk[:31], 32), "a 31-byte PRK")

# --------------------------------------------------------------------------
# AES-256-GCM
# --------------------------------------------------------------------------
doc = vector("wycheproof", "aes_gcm_test.json")
counts = {"valid": 0, "invalid": 0, "unsupported": 0}
for g in doc["testGroups"]:
    ks, ivs, ts = g["keySize"], g["ivSize"], g["tagSize"]
    for t in g["tests"]:
        key, iv, aad, msg, ct, tag = (bytes.fromhex(t[k]) for k in
                                      ("key", "iv", "aad", "msg", "ct", "tag"))
        tc = f"aes-gcm tc {t['tcId']} ({ks}/{ivs}/{ts})"
        if ks != 256:
            raises(hre.Unsupported, lambda: hre.Aead(key), f"{tc}: key size")
            counts["unsupported"] += 1
            continue
        with hre.Aead(key) as a:
            if ivs != 96 or ts != 128:
                raises(hre.Unsupported, lambda: a.open(iv, ct, tag, aad), f"{tc}: open")
                if ts == 128:
                    raises(hre.Unsupported, lambda: a.seal(iv, msg, aad), f"{tc}: seal")
                counts["unsupported"] += 1
                continue
            if t["result"] == "valid":
                check(a.seal(iv, msg, aad) == (ct, tag), f"{tc}: seal")
                check(a.open(iv, ct, tag, aad) == msg, f"{tc}: open")
                counts["valid"] += 1
            else:
                raises(hre.DecryptError, lambda: a.open(iv, ct, tag, aad), f"{tc}: {t['comment']}")
                counts["invalid"] += 1
check(counts == {"valid": 39, "invalid": 27, "unsupported": 250},
      f"aes-gcm vector counts {counts}")
print(f"aes-256-gcm: Wycheproof {counts['valid']} valid matched, {counts['invalid']} invalid "
      f"refused (DecryptError), {counts['unsupported']} other key/nonce/tag sizes refused "
      f"(Unsupported)")

key = rbytes(32)
with hre.Aead(key) as a:
    for _ in range(30):
        nonce, aad, pt = rbytes(12), rbytes(rng.randrange(0, 40)), rbytes(rng.randrange(0, 3000))
        ct, tag = a.seal(nonce, pt, aad)
        check(len(ct) == len(pt) and len(tag) == 16 and a.open(nonce, ct, tag, aad) == pt,
              "aead round trip")
        if HAVE_CRYPTOGRAPHY:
            check(AESGCM(key).encrypt(nonce, pt, aad) == ct + tag, "aead vs cryptography AESGCM")
        which = rng.randrange(4)
        parts = [bytearray(nonce), bytearray(ct or b"\0"), bytearray(tag), bytearray(aad or b"\0")]
        if which == 1 and not ct or which == 3 and not aad:
            which = 2
        parts[which][rng.randrange(len(parts[which]))] ^= 1 << rng.randrange(8)
        n2, c2, t2, a2 = (bytes(p) for p in parts)
        raises(hre.DecryptError, lambda: a.open(n2, c2 if ct else b"", t2, a2 if aad else b""),
               f"aead with a flipped bit in part {which}")
    raises(hre.Unsupported, lambda: a.seal(rbytes(12), b"x", tag_len=12), "a 12-byte tag")
a2 = hre.Aead(key)
a2.close()
raises(hre.InvalidArgument, lambda: a2.seal(rbytes(12), b"x"), "a closed AEAD context")
print("aes-256-gcm: random round trips, tampering refused"
      + (", equal to cryptography's AESGCM" if HAVE_CRYPTOGRAPHY else
         " (cryptography not installed: no cross-check)"))


# --------------------------------------------------------------------------
# ECDH
# --------------------------------------------------------------------------
def p256_key(scalar):
    """A P-256 Key from its scalar, through a clear PKCS#8 PEM built here
    (RFC 5208 PrivateKeyInfo around an RFC 5915 ECPrivateKey)."""
    d = scalar.lstrip(b"\0").rjust(32, b"\0")
    der = bytes.fromhex("3041020100301306072a8648ce3d020106082a8648ce3d030107"
                        "042730250201010420") + d
    pem = "-----BEGIN PRIVATE KEY-----\n" + base64.encodebytes(der).decode() + \
          "-----END PRIVATE KEY-----\n"
    return hre.Key.import_pem(pem)


doc = vector("wycheproof", "ecdh_secp256r1_ecpoint_test.json")
counts = {"valid": 0, "invalid": 0, "acceptable": 0}
for g in doc["testGroups"]:
    for t in g["tests"]:
        pub, priv, shared = (bytes.fromhex(t[k]) for k in ("public", "private", "shared"))
        tc = f"ecdh tc {t['tcId']} ({t['comment']})"
        try:
            peer = hre.PubKey.parse(pub, hre.Curve.P256)
        except hre.DecodeError:
            check(t["result"] != "valid", f"{tc}: a valid point was refused")
            if t["result"] == "invalid":
                counts["invalid"] += 1
            continue
        check(t["result"] != "invalid", f"{tc}: an invalid point was accepted")
        with p256_key(priv) as k:
            check(k.ecdh(peer) == shared, f"{tc}: shared secret")
        counts[t["result"]] += 1
check(counts == {"valid": 330, "invalid": 24, "acceptable": 1},
      f"ecdh vector counts {counts}")
print(f"ecdh: Wycheproof {counts['valid']} valid matched, {counts['invalid']} invalid refused "
      f"at parse, {counts['acceptable']} acceptable (compressed) matched")

for curve in (hre.Curve.P256, hre.Curve.SECP256K1):
    a, b = hre.Key.generate(curve), hre.Key.generate(curve)
    s_ab = a.ecdh(b.pubkey())
    check(s_ab == b.ecdh(a.pubkey()) and len(s_ab) == 32, f"ecdh agreement on {curve.name}")
    check(s_ab != a.ecdh(hre.Key.generate(curve).pubkey()), "ecdh with another peer")
    if HAVE_CRYPTOGRAPHY:
        ca = serialization.load_pem_private_key(a.export_pem().encode(), None)
        cb = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1() if curve == hre.Curve.P256 else ec.SECP256K1(),
            b.pubkey().serialize(False))
        check(ca.exchange(ec.ECDH(), cb) == s_ab, f"ecdh vs cryptography on {curve.name}")
raises(hre.InvalidArgument,
       lambda: hre.Key.generate(hre.Curve.P256).ecdh(hre.Key.generate(hre.Curve.SECP256K1).pubkey()),
       "ecdh across curves")

# --------------------------------------------------------------------------
# HPKE
# --------------------------------------------------------------------------
vecs = vector("hpke", "rfc9180_p256_sha256_aes256gcm.json")
check(sorted(v["mode"] for v in vecs) == [0, 1, 2, 3], "HPKE vectors: one per mode")
opened = exported = 0
for v in vecs:
    h = {k: bytes.fromhex(x) for k, x in v.items() if isinstance(x, str)}
    mode = hre.HpkeMode(v["mode"])
    sk_r = hre.hpke_derive_key(h["ikmR"])
    check(sk_r.pubkey().serialize(False) == h["pkRm"], f"{mode.name}: DeriveKeyPair(ikmR)")
    check(hre.hpke_derive_key(h["ikmE"]).pubkey().serialize(False) == h["pkEm"],
          f"{mode.name}: DeriveKeyPair(ikmE)")
    pk_s = sk_s = None
    if "ikmS" in h:
        sk_s = hre.hpke_derive_key(h["ikmS"])
        pk_s = hre.PubKey.parse(h["pkSm"])
        check(sk_s.pubkey() == pk_s, f"{mode.name}: DeriveKeyPair(ikmS)")
    psk, psk_id = h.get("psk"), h.get("psk_id")
    rx = hre.HpkeContext.receiver(sk_r, h["enc"], h["info"], pk_s=pk_s, psk=psk, psk_id=psk_id)
    encs = v["encryptions"]
    for i, e in enumerate(encs):
        aad, ct, pt = (bytes.fromhex(e[k]) for k in ("aad", "ct", "pt"))
        if i == 1:   # a wrong aad fails and leaves the sequence number where it was
            raises(hre.DecryptError, lambda: rx.open(ct, aad + b"x"), f"{mode.name}: wrong aad")
        if i == 2:   # the next message out of order fails too
            nxt = bytes.fromhex(encs[3]["ct"])
            raises(hre.DecryptError, lambda: rx.open(nxt, bytes.fromhex(encs[3]["aad"])),
                   f"{mode.name}: out of order")
        got = rx.open(ct, aad)
        check(got == pt, f"{mode.name}: encryption {i}")
        opened += 1
    for x in v["exports"]:
        ctxt, want = bytes.fromhex(x["exporter_context"]), bytes.fromhex(x["exported_value"])
        check(rx.export(ctxt, x["L"]) == want, f"{mode.name}: export {x['exporter_context']!r}")
        exported += 1
    rx.close()
    # our own sender in the same mode: a receiver opens what it seals, exports agree
    pk_r = sk_r.pubkey()
    tx, enc = hre.HpkeContext.sender(pk_r, h["info"], sk_s=sk_s, psk=psk, psk_id=psk_id)
    check(len(enc) == 65 and enc[0] == 4 and enc != h["enc"], f"{mode.name}: a fresh enc")
    rx = hre.HpkeContext.receiver(sk_r, enc, h["info"], pk_s=pk_s, psk=psk, psk_id=psk_id)
    for i in range(5):
        pt, aad = rbytes(rng.randrange(0, 200)), rbytes(rng.randrange(0, 20))
        ct = tx.seal(pt, aad)
        check(len(ct) == len(pt) + 16 and rx.open(ct, aad) == pt, f"{mode.name}: own seal {i}")
    check(tx.export(b"ctx", 77) == rx.export(b"ctx", 77), f"{mode.name}: exports agree")
    raises(hre.StateError, lambda: rx.seal(b"x"), f"{mode.name}: a receiver cannot seal")
    raises(hre.StateError, lambda: tx.open(b"\0" * 20), f"{mode.name}: a sender cannot open")
    tx.close()
    rx.close()
    # a wrong receiver key, info or psk is detected by the first open
    tx, enc = hre.HpkeContext.sender(pk_r, h["info"], sk_s=sk_s, psk=psk, psk_id=psk_id)
    ct = tx.seal(b"secret")
    for label, kw in (("wrong info", dict(info=h["info"] + b"!")),
                      ("wrong key", dict(sk=hre.Key.generate()))):
        r = hre.HpkeContext.receiver(kw.get("sk", sk_r), enc, kw.get("info", h["info"]),
                                     pk_s=pk_s, psk=psk, psk_id=psk_id)
        raises(hre.DecryptError, lambda: r.open(ct), f"{mode.name}: {label}")
check(opened == 4 * 257 and exported == 4 * 3, f"HPKE: {opened} opened, {exported} exported")
print(f"hpke: RFC 9180 vectors, 4 modes: DeriveKeyPair, {opened} encryptions opened in order, "
      f"{exported} exports; own sender/receiver round trips")

sk = hre.hpke_derive_key(rbytes(32))
raises(hre.InvalidArgument, lambda: hre.hpke_derive_key(b"short"), "DeriveKeyPair: short ikm")
raises(hre.InvalidArgument, lambda: hre.HpkeContext.sender(sk.pubkey(), psk=b"x" * 31,
                                                           psk_id=b"id"), "a 31-byte psk")
raises(hre.InvalidArgument, lambda: hre.HpkeContext.sender(sk.pubkey(), mode=hre.HpkeMode.AUTH),
       "auth mode without a sender key")
raises(hre.Unsupported, lambda: hre.HpkeContext.sender(
    hre.Key.generate(hre.Curve.SECP256K1).pubkey()), "a secp256k1 receiver key")
raises(hre.DecodeError, lambda: hre.HpkeContext.receiver(sk, b"\x04" + b"\x01" * 64),
       "enc not on the curve")

# one-shot wraps: the wire form is enc || (sequence-0 seal of the key)
reader, writer, other = hre.Key.generate(), hre.Key.generate(), hre.Key.generate()
dek = rbytes(32)
w = hre.hpke_wrap(reader.pubkey(), dek, info=b"doc-1", aad=b"meta")
check(len(w) == 113 and hre.hpke_unwrap(reader, w, info=b"doc-1", aad=b"meta") == dek,
      "wrap/unwrap round trip")
rx = hre.HpkeContext.receiver(reader, w[:65], b"doc-1")
check(rx.open(w[65:], b"meta") == dek, "a wrap is enc || seal(key) at sequence 0 (base mode)")
for label, kw in (("wrong info", dict(info=b"doc-2", aad=b"meta")),
                  ("wrong aad", dict(info=b"doc-1", aad=b"")),
                  ("wrong auth claim", dict(info=b"doc-1", aad=b"meta", sender=writer.pubkey()))):
    raises(hre.DecryptError, lambda: hre.hpke_unwrap(reader, w, **kw), f"unwrap: {label}")
raises(hre.DecryptError, lambda: hre.hpke_unwrap(other, w, info=b"doc-1", aad=b"meta"),
       "unwrap with another reader's key")
for pos in (0 + 10, 70, 100, 112):
    bad = bytearray(w)
    bad[pos] ^= 1
    try:
        hre.hpke_unwrap(reader, bytes(bad), info=b"doc-1", aad=b"meta")
        check(False, f"a wrap with byte {pos} flipped unwrapped")
    except (hre.DecryptError, hre.DecodeError):
        pass
wa = hre.hpke_wrap(reader.pubkey(), dek, info=b"doc-1", sender=writer)
check(hre.hpke_unwrap(reader, wa, info=b"doc-1", sender=writer.pubkey()) == dek, "auth wrap")
raises(hre.DecryptError, lambda: hre.hpke_unwrap(reader, wa, info=b"doc-1",
                                                 sender=other.pubkey()), "auth wrap, wrong sender")
raises(hre.DecryptError, lambda: hre.hpke_unwrap(reader, wa, info=b"doc-1"),
       "auth wrap opened as a base wrap")
raises(ValueError, lambda: hre.hpke_wrap(reader.pubkey(), b"short"), "a 5-byte data key")
print("hpke: wraps (base and auth) round trip; wrong info/aad/key/sender/bytes refused")

print(f"python crypto (seed {SEED}):", "FAILED" if failures else f"all {checks[0]} checks passed",
      f"({len(failures)} failures)" if failures else "")
sys.exit(1 if failures else 0)
