#!/usr/bin/env python3
"""Cross-implementation ECDSA test: libhre <-> Python `cryptography`.

usage: ecdsa_interop.py PATH/TO/ecdsa_tool

- libhre signs (P-256 and secp256k1); cryptography verifies the DER
  signature, and checks it has a low S.
- cryptography signs (about half of its signatures have a high S); libhre
  verifies through strict DER import + normalisation. Tampered messages and
  signatures must be rejected by libhre.
- PKCS#8 PEM both ways: a key exported by libhre (encrypted and clear) is
  loaded by cryptography, and a key exported by cryptography is imported by
  libhre, and the signatures made with them verify on the other side.
Exits 77 (meson's "skipped") when the cryptography package is missing.
"""
import os
import subprocess
import sys
import tempfile

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
except ImportError as e:  # pragma: no cover
    print("SKIP: python3 package 'cryptography' is not available (%s)" % e)
    sys.exit(77)

TOOL = sys.argv[1] if len(sys.argv) > 1 else None
ROUNDS = int(os.environ.get("HRE_INTEROP_ROUNDS", "16"))
CURVES = {
    "p256": (ec.SECP256R1(), 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551),
    "secp256k1": (ec.SECP256K1(), 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141),
}
failures = []


def tool(*args, expect=0):
    p = subprocess.run([TOOL] + list(args), capture_output=True, text=True)
    if p.returncode != expect:
        raise SystemExit("FAIL: ecdsa_tool %s -> exit %d (expected %d)\nstdout: %s\nstderr: %s"
                         % (" ".join(args[:2]), p.returncode, expect, p.stdout, p.stderr))
    return p.stdout


def fields(out):
    d = {}
    for line in out.splitlines():
        if " " in line:
            k, v = line.split(" ", 1)
            d.setdefault(k, v)
    return d


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def py_verify(curve, pubhex, msg, derhex):
    pub = ec.EllipticCurvePublicKey.from_encoded_point(curve, bytes.fromhex(pubhex))
    try:
        pub.verify(bytes.fromhex(derhex), msg, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def pub_hex(key):
    return key.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.UncompressedPoint).hex()


def main():
    if not TOOL or not os.path.exists(TOOL):
        raise SystemExit("usage: ecdsa_interop.py PATH/TO/ecdsa_tool")
    counts = {}
    for name, (curve, n) in CURVES.items():
        c = counts.setdefault(name, {"hre->py": 0, "py->hre": 0, "py_high_s": 0, "tamper_rejected": 0})
        for i in range(ROUNDS):
            msg = os.urandom(i * 7 % 200)
            # libhre signs, cryptography verifies
            f = fields(tool("sign", name, msg.hex()))
            check(f.get("curve") == name, "%s: curve label" % name)
            check(py_verify(curve, f["pub"], msg, f["der"]), "%s: libhre signature rejected by cryptography" % name)
            r, s = decode_dss_signature(bytes.fromhex(f["der"]))
            check(1 <= s <= n // 2, "%s: libhre produced a high S" % name)
            check(bytes.fromhex(f["raw"]) == r.to_bytes(32, "big") + s.to_bytes(32, "big"),
                  "%s: raw r||s does not match the DER" % name)
            check(not py_verify(curve, f["pub"], msg + b"x", f["der"]), "%s: cryptography accepted a wrong message" % name)
            c["hre->py"] += 1
            # cryptography signs, libhre verifies
            key = ec.generate_private_key(curve)
            der = key.sign(msg, ec.ECDSA(hashes.SHA256()))
            r, s = decode_dss_signature(der)
            if s > n // 2:
                c["py_high_s"] += 1
            out = tool("verify", name, pub_hex(key), msg.hex(), der.hex())
            check(out.strip() == "valid", "%s: cryptography signature rejected by libhre: %s" % (name, out))
            c["py->hre"] += 1
            # tampering: other message, other s, non-strict DER, other key
            tool("verify", name, pub_hex(key), (msg + b"!").hex(), der.hex(), expect=1)
            tool("verify", name, pub_hex(key), msg.hex(), encode_dss_signature(r, (s + 1) % n or 1).hex(), expect=1)
            bad = bytearray(der)
            bad[1] += 1
            tool("verify", name, pub_hex(key), msg.hex(), (bytes(bad) + b"\x00").hex(), expect=1)
            other = ec.generate_private_key(curve)
            tool("verify", name, pub_hex(other), msg.hex(), der.hex(), expect=1)
            c["tamper_rejected"] += 4

        # PEM: libhre -> cryptography (encrypted and clear)
        for pw in ("pa55 phrase", "-"):
            out = tool("pem-export", name, pw)
            pub, pem = out.split("\n", 1)
            key = serialization.load_pem_private_key(pem.encode(), None if pw == "-" else pw.encode())
            check(pub_hex(key) == pub.split()[1], "%s: PEM key exported by libhre has another public key" % name)
            msg = b"pem interop " + name.encode()
            der = key.sign(msg, ec.ECDSA(hashes.SHA256()))
            check(tool("verify", name, pub.split()[1], msg.hex(), der.hex()).strip() == "valid",
                  "%s: signature with the libhre-exported key rejected" % name)
        # PEM: cryptography -> libhre (encrypted and clear)
        for pw in ("hunter2", "-"):
            key = ec.generate_private_key(curve)
            enc = (serialization.NoEncryption() if pw == "-"
                   else serialization.BestAvailableEncryption(pw.encode()))
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
            with tempfile.NamedTemporaryFile(suffix=".pem", delete=False) as t:
                t.write(pem)
                path = t.name
            try:
                msg = b"imported"
                f = fields(tool("pem-sign", path, pw, msg.hex()))
                check(f["pub"] == pub_hex(key), "%s: libhre imported another key" % name)
                check(py_verify(curve, f["pub"], msg, f["der"]), "%s: imported-key signature rejected" % name)
                if pw != "-":
                    tool("pem-sign", path, "wrong", msg.hex(), expect=2)
            finally:
                os.unlink(path)
    for name, c in counts.items():
        print("%s: %s" % (name, ", ".join("%s=%d" % kv for kv in c.items())))
    if failures:
        print("%d FAILURES" % len(failures))
        return 1
    print("interop_ecdsa: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
