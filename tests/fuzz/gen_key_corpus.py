#!/usr/bin/env python3
"""Write the seed corpora for fuzz_der_parse and fuzz_pubkey_parse.

usage: python3 tests/fuzz/gen_key_corpus.py   (from the source root)

Seeds are small: the standalone driver also runs every prefix and a few
bit flips of each, so a handful of valid and invalid encodings is enough.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
K256_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def der_int(v):
    b = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")
    if b[0] & 0x80:
        b = b"\x00" + b
    return b"\x02" + bytes([len(b)]) + b


def der_sig(r, s):
    body = der_int(r) + der_int(s)
    return b"\x30" + bytes([len(body)]) + body


def write(sub, name, data):
    d = os.path.join(HERE, "corpus", sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    # --- der_parse ---
    r = 0x2BA3A8BE6B94D5EC80A6D9D1190A436EFFE50D85A1EEE859B8CC6AF9BD5C2E18
    s = 0x4CD60B855D442F5B3C7B11EB6C4E0AE7525FE710FAB9AA7C77A67F79E6FADD76
    write("der_parse", "valid_low_s", der_sig(r, s))
    write("der_parse", "valid_high_s", der_sig(r, P256_N - s))
    write("der_parse", "valid_max_72", der_sig(P256_N - 1, P256_N - 1))
    write("der_parse", "valid_min_8", der_sig(1, 1))
    write("der_parse", "k1_only_range", der_sig(P256_N + 5, 1))       # < secp256k1 n
    write("der_parse", "r_eq_n", der_sig(P256_N, 1))
    write("der_parse", "long_form_len", b"\x30\x81\x06\x02\x01\x01\x02\x01\x01")
    write("der_parse", "extra_zero", b"\x30\x07\x02\x02\x00\x01\x02\x01\x01")
    write("der_parse", "negative", b"\x30\x06\x02\x01\x81\x02\x01\x01")
    write("der_parse", "trailing", der_sig(1, 2) + b"\x00")
    write("der_parse", "zero_s", b"\x30\x06\x02\x01\x01\x02\x01\x00")
    write("der_parse", "p1363_64", r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    write("der_parse", "p1363_64_high", r.to_bytes(32, "big") + (K256_N - 1).to_bytes(32, "big"))
    # --- pubkey_parse ---
    gx = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
    gy = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
    kx = 0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798
    ky = 0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8
    b32 = lambda v: v.to_bytes(32, "big")
    write("pubkey_parse", "p256_g_comp", bytes([2 | (gy & 1)]) + b32(gx))
    write("pubkey_parse", "p256_g_unc", b"\x04" + b32(gx) + b32(gy))
    write("pubkey_parse", "k1_g_comp", bytes([2 | (ky & 1)]) + b32(kx))
    write("pubkey_parse", "k1_g_unc", b"\x04" + b32(kx) + b32(ky))
    write("pubkey_parse", "wire_p256_g", b"\x01" + bytes([2 | (gy & 1)]) + b32(gx))
    write("pubkey_parse", "wire_k1_g", b"\x02" + bytes([2 | (ky & 1)]) + b32(kx))
    write("pubkey_parse", "hybrid_06", b"\x06" + b32(gx) + b32(gy))
    write("pubkey_parse", "p256_off_curve", b"\x04" + b32(gx) + b32(gy + 1))
    write("pubkey_parse", "p256_x_plus_p",
          b"\x02" + b32(5 + 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff))
    write("pubkey_parse", "infinity", b"\x00")


if __name__ == "__main__":
    main()
