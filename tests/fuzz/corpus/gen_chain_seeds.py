#!/usr/bin/env python3
"""Regenerate the seed corpora of the chain fuzz targets (header_decode,
block_decode, merkle_branch). Run from this directory: python3 gen_chain_seeds.py
Seeds are small, deterministic, and include valid and invalid inputs."""
import hashlib, os, struct

def sha256d(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()

def cs(n):
    if n < 0xfd: return bytes([n])
    if n <= 0xffff: return b'\xfd' + struct.pack('<H', n)
    if n <= 0xffffffff: return b'\xfe' + struct.pack('<I', n)
    return b'\xff' + struct.pack('<Q', n)

GENESIS = bytes.fromhex(
    "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b2"
    "7ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c")
BLOCK1 = bytes.fromhex(
    "010000006fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000982051fd1e4ba744"
    "bbbe680e1fee14677ba1a3c3540bf7b1cdb606e857233e0e61bc6649ffff001d01e36299")

def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

# header_decode
d = 'header_decode'
write(d, 'genesis', GENESIS)
write(d, 'block1', BLOCK1)
write(d, 'zero', bytes(80))
write(d, 'ones', b'\xff' * 80)
write(d, 'short79', GENESIS[:79])
write(d, 'long81', GENESIS + b'\x00')
write(d, 'bits_negative', GENESIS[:72] + struct.pack('<I', 0x04923456) + GENESIS[76:])
write(d, 'bits_overflow', GENESIS[:72] + struct.pack('<I', 0xff123456) + GENESIS[76:])
write(d, 'bits_regtest', GENESIS[:72] + struct.pack('<I', 0x207fffff) + GENESIS[76:])

# block_decode: first byte selects limits (even: defaults), then the block
def block(header, txs):
    return header + cs(len(txs)) + b''.join(cs(len(t)) + t for t in txs)

d = 'block_decode'
write(d, 'empty', b'\x00' + block(GENESIS, []))
write(d, 'one_tx', b'\x00' + block(GENESIS, [b'coinbase: hre genesis']))
write(d, 'three_tx', b'\x00' + block(BLOCK1, [b'a' * 10, b'', b'b' * 100]))
write(d, 'tight_limits', b'\x07' + block(BLOCK1, [b'x' * 5, b'y' * 6, b'z' * 7]))
write(d, 'tx_64_bytes', b'\x00' + block(GENESIS, [b'q' * 64]))
write(d, 'noncanonical_count', b'\x00' + GENESIS + b'\xfd\x01\x00' + cs(1) + b'k')
write(d, 'trailing', b'\x00' + block(GENESIS, [b'abc']) + b'\x00')
write(d, 'huge_count', b'\x00' + GENESIS + cs(0xffffffff))
write(d, 'huge_txlen', b'\x00' + GENESIS + cs(1) + cs(0xffffffffffff))

# merkle_branch: first byte even = encoded branch, odd = list of leaves
d = 'merkle_branch'
leaves = [sha256d(bytes([i]) * 3) for i in range(5)]
write(d, 'leaves5', b'\x01' + b''.join(leaves))
write(d, 'leaves_dup', b'\x03' + leaves[0] + leaves[1] + leaves[1])
def node(a, b): return sha256d(a + b)
# branch for leaf 2 of [l0 l1 l2 l3]: sibling l3, then node(l0,l1)
write(d, 'branch_depth2', b'\x00' + struct.pack('<I', 2) + bytes([2]) + leaves[3] + node(leaves[0], leaves[1]))
write(d, 'branch_depth0', b'\x00' + struct.pack('<I', 0) + bytes([0]))
write(d, 'branch_bad_index', b'\x00' + struct.pack('<I', 4) + bytes([2]) + leaves[3] + leaves[4])
write(d, 'branch_too_deep', b'\x00' + struct.pack('<I', 0) + bytes([33]) + bytes(32))
write(d, 'branch_depth32', b'\x00' + b'\xff\xff\xff\xff' + bytes([32]) + bytes(32 * 32))
