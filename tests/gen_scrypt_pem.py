#!/usr/bin/env python3
"""Make the scrypt-parameter PEM fixtures of tests/check_key.c (TCase "scrypt_caps").

usage: gen_scrypt_pem.py NORMAL.pem N r p [keylen]

NORMAL.pem is an "ENCRYPTED PRIVATE KEY" made by
    openssl pkcs8 -topk8 -in key.pem -scrypt -passout pass:correct-horse
(PBES2, scrypt N=16384 r=8 p=1, AES-256-CBC). The script re-encodes its
EncryptedPrivateKeyInfo with the given scrypt N, r, p (salt, IV and
ciphertext kept), as a hostile file would: structurally valid DER that only a
key derivation of the chosen cost can decrypt (or fail to). Prints the PEM.
"""
import base64
import sys


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def der_int(v):
    b = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")   # room for the sign bit
    return tlv(0x02, b)


def parse(buf, pos=0):
    """(tag, body, next position) of the TLV at pos."""
    tag = buf[pos]
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    return tag, buf[pos:pos + n], pos + n


def children(body):
    out, pos = [], 0
    while pos < len(body):
        t, b, pos = parse(body, pos)
        out.append((t, b))
    return out


def main():
    pem, N, r, p = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    keylen = int(sys.argv[5]) if len(sys.argv) > 5 else None
    text = open(pem).read()
    b64 = "".join(l for l in text.splitlines() if not l.startswith("-----"))
    der = base64.b64decode(b64)
    _, epki, _ = parse(der)
    (_, alg), (_, enc) = children(epki)
    (_, pbes2_oid), (_, pbes2_params) = children(alg)
    (_, kdf), (_, cipher) = children(pbes2_params)
    (_, scrypt_oid), (_, sparams) = children(kdf)
    salt = children(sparams)[0][1]
    params = tlv(0x04, salt) + der_int(N) + der_int(r) + der_int(p)
    if keylen is not None:
        params += der_int(keylen)
    kdf2 = tlv(0x30, tlv(0x06, scrypt_oid) + tlv(0x30, params))
    alg2 = tlv(0x30, tlv(0x06, pbes2_oid) + tlv(0x30, kdf2 + tlv(0x30, cipher)))
    out = tlv(0x30, alg2 + tlv(0x04, enc))
    b = base64.b64encode(out).decode()
    print("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    for i in range(0, len(b), 64):
        print(b[i:i + 64])
    print("-----END ENCRYPTED PRIVATE KEY-----")


if __name__ == "__main__":
    main()
