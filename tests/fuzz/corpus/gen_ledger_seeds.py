#!/usr/bin/env python3
"""Generate the seed corpora of fuzz_block_record, fuzz_ledger_index and
fuzz_ledger_snapshot (docs/PROTOCOL.md section 7). Run from this directory: python3 gen_ledger_seeds.py"""
import os, struct, zlib

def compact(n):
    if n < 0xfd: return bytes([n])
    if n <= 0xffff: return b'\xfd' + struct.pack('<H', n)
    return b'\xfe' + struct.pack('<I', n)

def header(nonce=0):
    return struct.pack('<I', 1) + bytes(32) + bytes(range(32)) + struct.pack('<III', 1700000000, 0x207fffff, nonce)

def body(txs):
    return compact(len(txs)) + b''.join(compact(len(t)) + t for t in txs)

def record(txs, flags=None, fmt=1, count=None, declared=None):
    raw = body(txs)
    z = zlib.compress(raw, 6)
    if flags is None:
        flags = 1 if len(z) < len(raw) else 0
    stored = z if flags & 1 else raw
    return (bytes([fmt, flags]) + header() + struct.pack('<II', len(txs) if count is None else count,
            len(raw) if declared is None else declared) + stored)

def put(d, name, data, sel=b'\x00'):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(sel + data)

d = 'block_record'
rep = [b'A' * 200 + bytes([i]) for i in range(4)]
put(d, 'empty_block', record([]))
put(d, 'one_tx_raw', record([b'hello world tx'], flags=0))
put(d, 'zlib_body', record(rep))
put(d, 'zlib_tight_limits', record(rep), sel=b'\x41')
put(d, 'bad_format', record([b'x'], fmt=2))
put(d, 'bad_flags', record([b'x'], flags=0x80))
put(d, 'count_mismatch', record([b'abc'], count=2))
put(d, 'declared_too_big', record(rep, declared=5000000))
put(d, 'zlib_not_smaller', record([b'xyz'], flags=1))
put(d, 'zlib_truncated', record(rep)[:-5])
put(d, 'raw_length_mismatch', record([b'abcd'], flags=0)[:-1])

d = 'ledger_index'
def entry(seg=0, off=0, rec_len=200, txc=1, typ=1):
    return bytes([typ]) + struct.pack('<IQII', seg, off, rec_len, txc) + header(7)
for name, data in [('ok', entry()), ('ok_far', entry(3, 123456, 5000, 12)),
                   ('bad_type', entry(typ=2)), ('rec_too_long', entry(rec_len=0xffffffff)),
                   ('rec_too_short', entry(rec_len=10)), ('short', entry()[:50]),
                   ('seg_too_big', entry(seg=200000))]:
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

d = 'ledger_snapshot'
def snap(payload, height=7, magic=b'HRESNAP2', declared=None, crc_fix=True):
    hdr = magic + struct.pack('<Q', height) + bytes(range(32)) + bytes(range(32, 64)) + \
        struct.pack('<Q', len(payload) if declared is None else declared)
    if magic == b'HRESNAP1':
        body = hdr + payload
        return body + struct.pack('<I', zlib.crc32(body) if crc_fix else 0)
    return hdr + struct.pack('<I', zlib.crc32(hdr) if crc_fix else 0) + payload
pl = b'HRECSNAP' + bytes(40)
for name, data in [('v2', snap(pl)), ('v2_empty_payload', snap(b'')), ('v1', snap(pl, magic=b'HRESNAP1')),
                   ('v2_bad_crc', snap(pl, crc_fix=False)), ('v1_bad_crc', snap(pl, magic=b'HRESNAP1', crc_fix=False)),
                   ('v2_length_mismatch', snap(pl, declared=3)), ('unknown_version', snap(pl, magic=b'HRESNAP3'))]:
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

# network_decode: network files (docs/PROTOCOL.md 7.10)
import hashlib

def sha256d(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()

EASY_TARGET = 0x7fffff << (8 * (0x20 - 3))

def genesis(time=1700000000, bits=0x207fffff, want_valid=True):
    nonce = 0
    while True:
        h = struct.pack('<I', 1) + bytes(32) + sha256d(b'seed') + struct.pack('<III', time, bits, nonce)
        ok = int.from_bytes(sha256d(h), 'little') <= EASY_TARGET
        if ok == want_valid:
            return h
        nonce += 1

def netfile(name=b"St Mary's", key=b'\x01\x02' + bytes(range(1, 33)), version=1, gen=None,
            limit=EASY_TARGET, spacing=600, interval=0xffffffff, size=1000000, txs=10000,
            crc_fix=True, name_len=None):
    b = b'HRENETW1' + struct.pack('<I', version) + (gen or genesis()) + limit.to_bytes(32, 'little')
    b += struct.pack('<QIQQ', spacing, interval, size, txs) + key
    b += bytes([len(name) if name_len is None else name_len]) + name
    crc = zlib.crc32(b) & 0xffffffff
    return b + struct.pack('<I', crc if crc_fix else crc ^ 1)

d = 'network_decode'
os.makedirs(d, exist_ok=True)
for name, data in [('ok_private', netfile()), ('ok_default_name', netfile(name=b'')),
                   ('ok_secp256k1_key', netfile(key=b'\x02\x03' + bytes(range(2, 34)))),
                   ('bad_crc', netfile(crc_fix=False)), ('bad_magic', b'HRENETW0' + netfile()[8:]),
                   ('truncated', netfile()[:-7]), ('version_2', netfile(version=2)),
                   ('name_len_over_64', netfile(name=b'x' * 65)),
                   ('name_len_lies', netfile(name_len=3)),
                   ('nul_in_name', netfile(name=b'St\x00Mary')),
                   ('bad_key_prefix', netfile(key=b'\x01\x07' + bytes(range(1, 33)))),
                   ('bad_curve', netfile(key=b'\x09\x02' + bytes(range(1, 33)))),
                   ('genesis_pow_invalid', netfile(gen=genesis(want_valid=False))),
                   ('zero_spacing', netfile(spacing=0)), ('zero_limit', netfile(limit=0)),
                   ('tiny_blocks', netfile(size=10)), ('huge_blocks', netfile(size=1 << 40))]:
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)
