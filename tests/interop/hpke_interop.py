#!/usr/bin/env python3
"""Cross-implementation HPKE test: libhre <-> an independent HPKE written here
on Python `cryptography` (ECDH P-256, HMAC/HKDF-Expand, AES-GCM).

usage: hpke_interop.py PATH/TO/hpke_tool      (HRE_VECTORS_DIR for the RFC vectors)

RFC 9180, DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM, base and
auth mode (and psk / auth_psk for the self-check), written from the RFC:
(a) this implementation first checks itself against the RFC 9180 vectors
    (every entry of the suite: DeriveKeyPair, enc, shared_secret, key,
    base_nonce, exporter_secret, all encryptions and exports);
(b) it opens wraps and message streams produced by libhre, for keys both
    sides derive from the same IKM (so DeriveKeyPair interoperates too);
(c) libhre opens wraps and streams produced here; tampered ones and wrong
    keys, info or aad are refused by libhre.
Exits 77 (meson's "skipped") when the cryptography package is missing.
"""
import json
import os
import secrets
import subprocess
import sys

try:
    from cryptography.hazmat.primitives import hashes, hmac, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
except ImportError as e:  # pragma: no cover
    print("SKIP: python3 package 'cryptography' is not available (%s)" % e)
    sys.exit(77)

TOOL = sys.argv[1] if len(sys.argv) > 1 else None
ROUNDS = int(os.environ.get("HRE_INTEROP_ROUNDS", "6"))
N_P256 = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
KEM_ID, KDF_ID, AEAD_ID = 0x0010, 0x0001, 0x0002
KEM_SUITE = b"KEM" + KEM_ID.to_bytes(2, "big")
HPKE_SUITE = b"HPKE" + KEM_ID.to_bytes(2, "big") + KDF_ID.to_bytes(2, "big") + AEAD_ID.to_bytes(2, "big")
MODE_BASE, MODE_PSK, MODE_AUTH, MODE_AUTH_PSK = 0, 1, 2, 3
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


# ---------------------------------------------------------------- RFC 9180 --

def extract(salt, ikm):
    h = hmac.HMAC(salt if salt else bytes(32), hashes.SHA256())
    h.update(ikm)
    return h.finalize()


def expand(prk, info, length):
    return HKDFExpand(hashes.SHA256(), length, info).derive(prk)


def labeled_extract(suite, salt, label, ikm):
    return extract(salt, b"HPKE-v1" + suite + label + ikm)


def labeled_expand(suite, prk, label, info, length):
    return expand(prk, length.to_bytes(2, "big") + b"HPKE-v1" + suite + label + info, length)


def serialize(pub):
    return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def deserialize(b):
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b)


def derive_key_pair(ikm):
    prk = labeled_extract(KEM_SUITE, b"", b"dkp_prk", ikm)
    for counter in range(256):
        sk = int.from_bytes(labeled_expand(KEM_SUITE, prk, b"candidate", bytes([counter]), 32), "big")
        if 0 < sk < N_P256:
            return ec.derive_private_key(sk, ec.SECP256R1())
    raise ValueError("DeriveKeyPairError")


def dh(priv, pub):
    return priv.exchange(ec.ECDH(), pub)


def extract_and_expand(dhv, kem_context):
    prk = labeled_extract(KEM_SUITE, b"", b"eae_prk", dhv)
    return labeled_expand(KEM_SUITE, prk, b"shared_secret", kem_context, 32)


def encap(pk_r, sk_s=None, sk_e=None):
    sk_e = sk_e or ec.generate_private_key(ec.SECP256R1())
    enc = serialize(sk_e.public_key())
    dhv = dh(sk_e, pk_r)
    ctx = enc + serialize(pk_r)
    if sk_s is not None:
        dhv += dh(sk_s, pk_r)
        ctx += serialize(sk_s.public_key())
    return extract_and_expand(dhv, ctx), enc


def decap(enc, sk_r, pk_s=None):
    pk_e = deserialize(enc)
    dhv = dh(sk_r, pk_e)
    ctx = enc + serialize(sk_r.public_key())
    if pk_s is not None:
        dhv += dh(sk_r, pk_s)
        ctx += serialize(pk_s)
    return extract_and_expand(dhv, ctx)


class Context:
    def __init__(self, mode, shared, info, psk=b"", psk_id=b""):
        psk_id_hash = labeled_extract(HPKE_SUITE, b"", b"psk_id_hash", psk_id)
        info_hash = labeled_extract(HPKE_SUITE, b"", b"info_hash", info)
        ksc = bytes([mode]) + psk_id_hash + info_hash
        secret = labeled_extract(HPKE_SUITE, shared, b"secret", psk)
        self.key = labeled_expand(HPKE_SUITE, secret, b"key", ksc, 32)
        self.base_nonce = labeled_expand(HPKE_SUITE, secret, b"base_nonce", ksc, 12)
        self.exporter_secret = labeled_expand(HPKE_SUITE, secret, b"exp", ksc, 32)
        self.seq = 0

    def nonce(self):
        return bytes(a ^ b for a, b in zip(self.base_nonce, self.seq.to_bytes(12, "big")))

    def seal(self, aad, pt):
        ct = AESGCM(self.key).encrypt(self.nonce(), pt, aad)
        self.seq += 1
        return ct

    def open(self, aad, ct):
        pt = AESGCM(self.key).decrypt(self.nonce(), ct, aad)
        self.seq += 1
        return pt

    def export(self, ctx, length):
        return labeled_expand(HPKE_SUITE, self.exporter_secret, b"sec", ctx, length)


def wrap(pk_r, info, aad, key, sk_s=None):
    shared, enc = encap(pk_r, sk_s)
    return enc + Context(MODE_AUTH if sk_s else MODE_BASE, shared, info).seal(aad, key)


def unwrap(sk_r, info, aad, w, pk_s=None):
    shared = decap(w[:65], sk_r, pk_s)
    return Context(MODE_AUTH if pk_s else MODE_BASE, shared, info).open(aad, w[65:])


# --------------------------------------------------------------- (a) RFC ----

def self_check():
    path = os.path.join(os.environ.get("HRE_VECTORS_DIR", ""), "hpke", "rfc9180_p256_sha256_aes256gcm.json")
    with open(path) as f:
        entries = json.load(f)
    n_enc = n_exp = 0
    for e in entries:
        h = lambda k: bytes.fromhex(e[k])
        mode = e["mode"]
        sk_r = derive_key_pair(h("ikmR"))
        sk_e = derive_key_pair(h("ikmE"))
        check(sk_r.private_numbers().private_value == int(e["skRm"], 16), "mode %d: skRm" % mode)
        check(sk_e.private_numbers().private_value == int(e["skEm"], 16), "mode %d: skEm" % mode)
        check(serialize(sk_r.public_key()) == h("pkRm"), "mode %d: pkRm" % mode)
        sk_s = pk_s = None
        if mode in (MODE_AUTH, MODE_AUTH_PSK):
            sk_s = derive_key_pair(h("ikmS"))
            pk_s = sk_s.public_key()
            check(serialize(pk_s) == h("pkSm"), "mode %d: pkSm" % mode)
        psk = h("psk") if "psk" in e else b""
        psk_id = h("psk_id") if "psk_id" in e else b""
        shared, enc = encap(sk_r.public_key(), sk_s, sk_e)
        check(enc == h("enc"), "mode %d: enc" % mode)
        check(shared == h("shared_secret"), "mode %d: shared_secret" % mode)
        check(decap(enc, sk_r, pk_s) == shared, "mode %d: decap" % mode)
        tx = Context(mode, shared, h("info"), psk, psk_id)
        rx = Context(mode, shared, h("info"), psk, psk_id)
        check(tx.key == h("key") and tx.base_nonce == h("base_nonce") and tx.exporter_secret == h("exporter_secret"),
              "mode %d: key schedule" % mode)
        for x in e["encryptions"]:
            ct = tx.seal(bytes.fromhex(x["aad"]), bytes.fromhex(x["pt"]))
            check(ct == bytes.fromhex(x["ct"]), "mode %d: encryption %d" % (mode, n_enc))
            check(rx.open(bytes.fromhex(x["aad"]), ct) == bytes.fromhex(x["pt"]), "mode %d: open" % mode)
            n_enc += 1
        for x in e["exports"]:
            check(tx.export(bytes.fromhex(x["exporter_context"]), x["L"]) == bytes.fromhex(x["exported_value"]),
                  "mode %d: export" % mode)
            n_exp += 1
    check(len(entries) == 4 and n_enc == 4 * 257 and n_exp == 12, "RFC vector counts")
    print("(a) self-check: %d RFC 9180 entries, %d encryptions, %d exports match" % (len(entries), n_enc, n_exp))


# ----------------------------------------------------------- (b), (c) -------

def tool(*args, expect=0):
    p = subprocess.run([TOOL] + [a if a else "-" for a in args], capture_output=True, text=True)
    if p.returncode != expect:
        raise SystemExit("FAIL: hpke_tool %s -> exit %d (expected %d)\nstdout: %s\nstderr: %s"
                         % (args[0], p.returncode, expect, p.stdout, p.stderr))
    return p.stdout


def field(out, name):
    vals = [l.split(" ", 1)[1] for l in out.splitlines() if l.startswith(name + " ")]
    return vals


def rnd(n):
    return secrets.token_bytes(n)


def interop():
    n_wraps = n_msgs = 0
    for r in range(ROUNDS):
        ikm_r, ikm_s = rnd(32), rnd(32 + r)
        sk_r, sk_s = derive_key_pair(ikm_r), derive_key_pair(ikm_s)
        pk_r_hex, pk_s_hex = serialize(sk_r.public_key()).hex(), serialize(sk_s.public_key()).hex()
        check(field(tool("pub", ikm_r.hex()), "pub") == [pk_r_hex], "DeriveKeyPair agrees (round %d)" % r)
        check(field(tool("pub", ikm_s.hex()), "pub") == [pk_s_hex], "DeriveKeyPair agrees (sender, round %d)" % r)
        info, aad, dek = rnd(r * 7), rnd(r * 3), rnd(32)

        # (b) libhre wraps, Python unwraps
        w = bytes.fromhex(field(tool("wrap", pk_r_hex, info.hex(), aad.hex(), dek.hex()), "wrap")[0])
        check(len(w) == 113 and w[0] == 4, "wrap wire form")
        check(unwrap(sk_r, info, aad, w) == dek, "Python opens a libhre wrap (round %d)" % r)
        w = bytes.fromhex(field(tool("wrap-auth", pk_r_hex, ikm_s.hex(), info.hex(), aad.hex(), dek.hex()), "wrap")[0])
        check(unwrap(sk_r, info, aad, w, sk_s.public_key()) == dek, "Python opens a libhre auth wrap (round %d)" % r)
        try:
            unwrap(sk_r, info, aad, w)   # auth wrap as base: must fail
            check(False, "auth wrap opened as base")
        except Exception:
            pass

        # (c) Python wraps, libhre unwraps
        w = wrap(sk_r.public_key(), info, aad, dek)
        out = tool("unwrap", ikm_r.hex(), info.hex(), aad.hex(), w.hex())
        check(field(out, "key") == [dek.hex()], "libhre opens a Python wrap (round %d)" % r)
        wa = wrap(sk_r.public_key(), info, aad, dek, sk_s)
        out = tool("unwrap-auth", ikm_r.hex(), pk_s_hex, info.hex(), aad.hex(), wa.hex())
        check(field(out, "key") == [dek.hex()], "libhre opens a Python auth wrap (round %d)" % r)
        # refusals: tampered ct, tampered enc, wrong info / aad / key / sender
        bad = bytearray(w)
        bad[65 + secrets.randbelow(48)] ^= 1 << secrets.randbelow(8)
        check(field(tool("unwrap", ikm_r.hex(), info.hex(), aad.hex(), bytes(bad).hex(), expect=1), "refused") == ["-16"],
              "libhre refuses a tampered ciphertext")
        bad = bytearray(w)
        bad[1 + secrets.randbelow(64)] ^= 1 << secrets.randbelow(8)
        code = field(tool("unwrap", ikm_r.hex(), info.hex(), aad.hex(), bytes(bad).hex(), expect=1), "refused")
        check(code in (["-2"], ["-16"]), "libhre refuses a tampered enc")
        check(field(tool("unwrap", ikm_r.hex(), (info + b"x").hex(), aad.hex(), w.hex(), expect=1), "refused") == ["-16"],
              "libhre refuses the wrong info")
        check(field(tool("unwrap", ikm_r.hex(), info.hex(), (aad + b"x").hex(), w.hex(), expect=1), "refused") == ["-16"],
              "libhre refuses the wrong aad")
        check(field(tool("unwrap", ikm_s.hex(), info.hex(), aad.hex(), w.hex(), expect=1), "refused") == ["-16"],
              "libhre refuses the wrong recipient key")
        check(field(tool("unwrap-auth", ikm_r.hex(), pk_r_hex, info.hex(), aad.hex(), wa.hex(), expect=1), "refused")
              == ["-16"], "libhre refuses the wrong sender key")
        n_wraps += 4

        # message streams, both directions, base and auth
        for mode_name, mode in (("base", MODE_BASE), ("auth", MODE_AUTH)):
            msgs = [(rnd(secrets.randbelow(20)), rnd(secrets.randbelow(300))) for _ in range(5)]
            expctx = rnd(8)
            out = tool("seal", mode_name, pk_r_hex, ikm_s.hex() if mode else "", info.hex(), expctx.hex(),
                       ",".join("%s:%s" % (a.hex() or "-", p.hex() or "-") for a, p in msgs))
            enc = bytes.fromhex(field(out, "enc")[0])
            cts = [bytes.fromhex(c) for c in field(out, "ct")]
            rx = Context(mode, decap(enc, sk_r, sk_s.public_key() if mode else None), info)
            check(len(cts) == len(msgs) and all(rx.open(a, c) == p for (a, p), c in zip(msgs, cts)),
                  "Python opens a libhre %s stream" % mode_name)
            check(field(out, "export") == [rx.export(expctx, 32).hex()], "exports agree (%s, libhre sender)" % mode_name)
            shared, enc = encap(sk_r.public_key(), sk_s if mode else None)
            tx = Context(mode, shared, info)
            cts = [tx.seal(a, p) for a, p in msgs]
            out = tool("open", mode_name, ikm_r.hex(), pk_s_hex if mode else "", enc.hex(), info.hex(), expctx.hex(),
                       ",".join("%s:%s" % (a.hex() or "-", c.hex()) for (a, _), c in zip(msgs, cts)))
            check(field(out, "pt") == [p.hex() for _, p in msgs], "libhre opens a Python %s stream" % mode_name)
            check(field(out, "export") == [tx.export(expctx, 32).hex()], "exports agree (%s, Python sender)" % mode_name)
            # out of order is refused
            order = [1, 0] + list(range(2, len(msgs)))
            out = tool("open", mode_name, ikm_r.hex(), pk_s_hex if mode else "", enc.hex(), info.hex(), expctx.hex(),
                       ",".join("%s:%s" % (msgs[i][0].hex() or "-", cts[i].hex()) for i in order), expect=1)
            check(out.strip() == "refused -16 at 0", "libhre refuses a reordered stream")
            n_msgs += 2 * len(msgs)
    print("(b)+(c) interop: %d rounds, %d wraps each way checked, %d stream messages" % (ROUNDS, n_wraps, n_msgs))


def main():
    if not TOOL:
        print("usage: hpke_interop.py PATH/TO/hpke_tool")
        return 2
    self_check()
    interop()
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("hpke interop: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
