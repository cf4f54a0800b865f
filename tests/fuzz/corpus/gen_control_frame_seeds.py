#!/usr/bin/env python3
"""Seeds for fuzz_control_frame: the hre tool's control protocol
(docs/PROTOCOL.md section 17), built from the spec. Each file is one
selector byte (see tests/fuzz/fuzz_control_frame.c) and its input.
    python3 tests/fuzz/corpus/gen_control_frame_seeds.py tests/fuzz/corpus/control_frame
"""
import os
import struct
import sys

VERSION = 1
RUN, NONCE, NETWORK_ID, SUBMIT, VAULT_GET, XCH_PEERS, XCH_FETCH, VAULT_PUT, \
    PUT_DATA, PUT_END = range(1, 11)
OUT, ERR, DATA, DONE, CONTINUE = range(0x81, 0x86)
XCH_REQUEST_LEN, WRAP_LEN = 188, 287


def frame(typ, payload=b"", version=VERSION):
    return struct.pack(">I", 2 + len(payload)) + bytes([version, typ]) + payload


def s16(b):
    return struct.pack(">H", len(b)) + b


def run(args, cwd=b"/tmp"):
    return s16(cwd) + struct.pack(">H", len(args)) + b"".join(s16(a) for a in args)


def put_hdr(doc_len, media, readers):
    return (struct.pack(">QB", doc_len, len(media)) + media + bytes([len(readers)]) +
            b"".join(bytes([len(r)]) + r for r in readers))


def peers(n):
    return bytes([n]) + b"".join(struct.pack(">Q", i + 1) + bytes([0x42 + i]) * 32 +
                                 bytes([0x4f]) * 32 for i in range(n))


def done(code, result=b""):
    return bytes([code]) + (result if code == 0 else b"")


def main(out):
    os.makedirs(out, exist_ok=True)
    rid, key = bytes([0x52]) * 32, bytes([2]) + bytes([0x11]) * 33
    run_ok = run([b"node", b"status", b"--json"])
    hdr_ok = put_hdr(5, b"text/plain", [b"org:" + b"ab" * 32, b"cd" * 32])
    submit_res = bytes([0x74]) * 32 + bytes([1]) + struct.pack(">Q", 7)
    put_res = bytes([0x44]) * 32 + bytes([0x4c]) * 32 + struct.pack(">QQ", 5, 400)
    requests = {
        RUN: run_ok, NONCE: bytes([32]) + rid, NETWORK_ID: b"", SUBMIT: bytes(range(200)),
        VAULT_GET: rid + key, XCH_PEERS: rid,
        XCH_FETCH: struct.pack(">Q", 3) + bytes([0x71]) * XCH_REQUEST_LEN, VAULT_PUT: hdr_ok,
    }
    seeds = {}
    for t, p in requests.items():
        seeds["req_%02x" % t] = bytes([t]) + p
        seeds["stream_req_%02x" % t] = b"\0" + frame(t, p)
    seeds.update({
        # requests: edge cases
        "run_one_arg_empty_cwd": b"\x01" + run([b"audit"], cwd=b""),
        "run_many_args": b"\x01" + run([b"a%d" % i for i in range(256)]),
        "run_argc_0": b"\x01" + run([]),
        "run_argc_257": b"\x01" + run([b"x"] * 257),
        "run_nul_in_arg": b"\x01" + run([b"node", b"st\0tus"]),
        "run_nul_in_cwd": b"\x01" + run([b"node"], cwd=b"/t\0p"),
        "run_trailing": b"\x01" + run_ok + b"\0",
        "run_arg_4097": b"\x01" + run([b"a" * 4097]),
        "run_arg_4096": b"\x01" + run([b"a" * 4096]),
        "nonce_wire_key": b"\x02" + bytes([34]) + key,
        "nonce_31": b"\x02" + bytes([31]) + rid[:31],
        "nonce_lying_len": b"\x02" + bytes([34]) + rid,
        "network_id_body": b"\x03\x00",
        "vault_get_short": b"\x05" + rid + key[:33],
        "xch_fetch_long": b"\x07" + struct.pack(">Q", 3) + bytes(XCH_REQUEST_LEN + 1),
        "put_no_media": b"\x08" + put_hdr(0, b"", [b"r"]),
        "put_max": b"\x08" + put_hdr(1 << 26, b"m" * 127, [b"r" * 80] * 64),
        "put_media_128": b"\x08" + put_hdr(1, b"m" * 128, [b"r"]),
        "put_65_readers": b"\x08" + put_hdr(1, b"", [b"r"] * 65),
        "put_reader_81": b"\x08" + put_hdr(1, b"", [b"r" * 81]),
        "put_reader_empty": b"\x08" + put_hdr(1, b"", [b""]),
        "put_nul_media": b"\x08" + put_hdr(1, b"a\0b", [b"r"]),
        "put_trailing": b"\x08" + hdr_ok + b"x",
        # inside an upload: total:u64 got:u64 payload
        "put_data_fits": b"\x09" + struct.pack(">QQ", 5, 2) + b"abc",
        "put_data_over": b"\x09" + struct.pack(">QQ", 5, 2) + b"abcd",
        "put_data_empty": b"\x09" + struct.pack(">QQ", 5, 2),
        "put_end_ok": b"\x0a" + struct.pack(">QQ", 5, 5),
        "put_end_early": b"\x0a" + struct.pack(">QQ", 5, 4),
        "put_end_body": b"\x0a" + struct.pack(">QQ", 5, 5) + b"x",
        # answers
        "rep_out": b"\x0b" + b"height    1\n",
        "rep_err": b"\x0c" + b"hre: no such record\n",
        "rep_data": b"\x0d" + bytes(range(256)),
        "rep_done_ok": b"\x0e" + done(0),
        "rep_done_fail": b"\x0e" + bytes([5]) + b"ignored",
        "rep_done_nonce": b"\x0e" + done(0, struct.pack(">Q", 9)),
        "rep_done_submit": b"\x0e" + done(0, submit_res),
        "rep_done_put": b"\x0e" + done(0, put_res),
        "rep_done_peers": b"\x0e" + done(0, peers(2)),
        "rep_done_empty": b"\x0e",
        "rep_continue": b"\x0f",
        "rep_continue_body": b"\x0f\x00",
        # results in DONE
        "res_nonce": b"\x10" + struct.pack(">Q", 1 << 40),
        "res_submit": b"\x11" + submit_res,
        "res_peers_0": b"\x12\x40" + peers(0),
        "res_peers_3_cap_2": b"\x12\x02" + peers(3),
        "res_peers_64": b"\x12\x40" + peers(64),
        "res_peers_65": b"\x12\x40" + peers(65),
        "res_peers_lying": b"\x12\x40" + peers(2)[:-1],
        "res_put": b"\x13" + put_res,
        # streams: a whole answer, an upload, bad frames
        "stream_answer_get": b"\0" + frame(OUT, b"x") + frame(DATA, b"envelope") +
                             frame(DONE, done(0, bytes([0x77]) * WRAP_LEN)),
        "stream_answer_put": b"\0" + frame(CONTINUE) + frame(ERR, b"hre: note\n") +
                             frame(DONE, done(0, put_res)),
        "stream_answer_fail": b"\0" + frame(ERR, b"hre: control: malformed\n") +
                              frame(DONE, done(5)),
        "stream_upload": b"\0" + frame(VAULT_PUT, hdr_ok) + frame(PUT_DATA, b"abc") +
                         frame(PUT_DATA, b"de") + frame(PUT_END),
        "stream_bad_version": b"\0" + frame(NETWORK_ID, version=9),
        "stream_unknown_type": b"\0" + frame(0x77) + frame(0x99, b"zz"),
        "stream_len_1": b"\0" + struct.pack(">I", 1) + b"\x01",
        "stream_len_over_cap": b"\0" + struct.pack(">I", (1 << 20) + 1) + b"\x01\x03",
        "stream_len_cap": b"\0" + struct.pack(">I", 1 << 20) + b"\x01\x04",
        "stream_short_body": b"\0" + frame(NONCE, bytes([32]) + rid)[:-5],
    })
    for name, b in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(b)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         os.path.join(os.path.dirname(os.path.abspath(__file__)), "control_frame"))
