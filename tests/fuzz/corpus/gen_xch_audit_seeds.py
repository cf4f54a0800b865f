#!/usr/bin/env python3
"""Seeds for fuzz_xch_audit (PROTOCOL.md 15.8): refusal log files and
records, built from the spec (zlib's crc32 is the check)."""
import os
import struct
import sys
import zlib

HL, RL = 64, 192


def header(cap, fmt=1):
    b = bytearray(HL)
    b[0:8] = b"HRE-XAUD"
    b[8] = fmt
    struct.pack_into("<II", b, 12, RL, cap)
    struct.pack_into("<I", b, 60, zlib.crc32(bytes(b[:60])))
    return bytes(b)


def record(seq, reason=1, access=1, flags=0x0F, fill=1):
    b = bytearray(RL)
    struct.pack_into("<QQQ", b, 0, seq, 1000 * seq, 7)
    b[24], b[25], b[26] = reason, access, flags
    if flags & 1:
        b[28:62] = bytes([2]) + bytes([fill]) * 33
    if flags & 2:
        b[62:94] = bytes([fill + 1]) * 32
    if flags & 4:
        b[94:126] = bytes([fill + 2]) * 32
    if flags & 8:
        b[126:142] = bytes([fill + 3]) * 16
    b[142:174] = bytes([fill + 4]) * 32
    struct.pack_into("<I", b, 188, zlib.crc32(bytes(b[:188])))
    return bytes(b)


def main(out):
    os.makedirs(out, exist_ok=True)
    seeds = {
        "empty_log": header(8),
        "three": header(8) + record(1) + record(2, 8, 0, 0x0D) + record(3, 14, 0, 0x01),
        "wrapped": header(2) + record(3) + record(2),
        "torn_tail": header(8) + record(1) + record(2)[:100],
        "torn_record": header(8) + record(1) + record(2)[:150] + bytes(42),
        "gap": header(4) + record(1) + bytes(RL) + record(3),
        "wrong_slot": header(4) + record(2),
        "bad_reason": header(4) + record(1, reason=99),
        "newer_format": header(8, fmt=2) + record(1),
        "record_only": record(5, 2, 2),
        "header_only": header(100000),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "xch_audit"))
