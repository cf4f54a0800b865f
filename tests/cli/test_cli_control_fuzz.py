#!/usr/bin/env python3
"""cli_control_fuzz: a seeded hostile client against a running node's control
socket (docs/PROTOCOL.md section 17).

One node (`hre node run --vault --vault-key --holder`, so VAULT_PUT and
VAULT_GET are live) on a chain made with the tool alone. Then, for ITERS
iterations (HRE_CTL_FUZZ_ITERS; fewer under ASan), one request built from a
valid template of every request type and then mutated: bit flips, truncation
in every region, a length prefix that lies (shorter, longer, 0, 1, 2, 2^32-1,
the cap, just over it), a wrong version, an unknown type, an oversize
payload, overwritten length fields inside the payload; VAULT_PUT uploads that
declare one size and send another, send frames out of order, send a frame of
another type or version or a bad length, end early, or hang up; connections
closed mid-request or before the answer. After each, the answer is read with
a timeout and checked against what the protocol says: a well-formed framing
(OUT/ERR/DATA then exactly one DONE, whose result has the type's length when
its exit code is 0; CONTINUE only as a VAULT_PUT's first answer), or a close
without a byte where the protocol drops the request (bad length, an
incomplete request or upload frame); the node process must stay alive. Then
several connections at once up to and beyond the connection cap (the extra
ones are closed at accept at once), and stalled clients and uploads (dropped
after the read timeout while the node keeps answering others). At the end:
NETWORK_ID and RUN are still answered correctly, the node's VmRSS grew by at
most RSS_BOUND over its value after warm-up, the ledger verifies (`chain
verify` through the node, and again from the directory after a clean stop),
and the node exits 0 on SIGTERM (under ASan: no leak report).

The seed is printed; HRE_SEED replays it. Every seed must pass.
"""
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest as t  # noqa: E402

SEED = int(os.environ.get("HRE_SEED", random.randrange(1 << 30)))
print("seed", SEED, "(HRE_SEED replays it)")
rng = random.Random(SEED)


def sanitized():
    """True when the tool was built with AddressSanitizer (slower, more memory)."""
    try:
        with open(t.TOOL, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


ASAN = sanitized()
ITERS = int(os.environ.get("HRE_CTL_FUZZ_ITERS", "0")) or 4000
# how much the node's resident memory may grow after warm-up: the answers and
# request frames are at most 1 MiB each and 8 connections are served at once,
# so a bounded node stays well inside this; an unbounded one (a frame or an
# answer kept per request) does not
RSS_BOUND_KB = (64 if ASAN else 32) * 1024
READ_TIMEOUT = 30.0 if ASAN else 15.0
# "at once": well under the node's 5 s read timeout, which would also close it
AT_ONCE = 4.0

VERSION = 1
RUN, NONCE, NETWORK_ID, SUBMIT, VAULT_GET, XCH_PEERS, XCH_FETCH, VAULT_PUT = range(1, 9)
PUT_DATA, PUT_END = 9, 10
OUT, ERR, DATA, DONE, CONTINUE = 0x81, 0x82, 0x83, 0x84, 0x85
REQ_MAX = 1 << 20
PUT_MAX = 64 << 20
RESULT_LEN = {RUN: 0, NONCE: 8, NETWORK_ID: 32, SUBMIT: 41, VAULT_GET: 287,
              XCH_FETCH: 287, VAULT_PUT: 80}


class Fail(AssertionError):
    pass


def check(cond, what, ctx):
    if not cond:
        raise Fail("%s (seed %d)\n%s" % (what, SEED, ctx))


# ---- framing -----------------------------------------------------------------

def frame(typ, body=b"", version=VERSION, length=None):
    n = len(body) + 2 if length is None else length
    return struct.pack(">IBB", n & 0xFFFFFFFF, version, typ) + body


def run_payload(args, cwd):
    p = struct.pack(">H", len(cwd)) + cwd.encode() + struct.pack(">H", len(args))
    for a in args:
        p += struct.pack(">H", len(a)) + a.encode()
    return p


def put_header(total, readers, media=b""):
    b = struct.pack(">QB", total, len(media)) + media + bytes([len(readers)])
    for r in readers:
        b += bytes([len(r)]) + r
    return b


def parse_answer(buf, ctx):
    """The node's answer bytes as [(type, body)]; asserts the framing."""
    out = []
    off = 0
    while off < len(buf):
        check(len(buf) - off >= 4, "a truncated answer frame length", ctx)
        n = struct.unpack(">I", buf[off:off + 4])[0]
        check(2 <= n <= REQ_MAX, "an answer frame of %d bytes" % n, ctx)
        check(len(buf) - off - 4 >= n, "a truncated answer frame", ctx)
        body = buf[off + 4:off + 4 + n]
        check(body[0] == VERSION, "answer version %d" % body[0], ctx)
        check(body[1] in (OUT, ERR, DATA, DONE, CONTINUE), "answer type 0x%02x" % body[1], ctx)
        out.append((body[1], body[2:]))
        off += 4 + n
    return out


def read_all(s, timeout=READ_TIMEOUT):
    """Everything the node sends until it closes (EOF or a reset). A hang is a failure."""
    s.settimeout(timeout)
    buf = b""
    end = time.time() + timeout
    while True:
        try:
            c = s.recv(1 << 16)
        except ConnectionResetError:
            return buf
        except socket.timeout:
            raise Fail("the node neither answered nor closed within %.0f s (seed %d)"
                       % (timeout, SEED))
        if not c:
            return buf
        buf += c
        if time.time() > end:
            raise Fail("the node kept sending for %.0f s (seed %d)" % (timeout, SEED))


def read_frame(s, timeout=READ_TIMEOUT):
    """One answer frame (type, body), or None at EOF / reset."""
    s.settimeout(timeout)
    buf = b""
    try:
        while len(buf) < 4:
            c = s.recv(4 - len(buf))
            if not c:
                return None
            buf += c
        n = struct.unpack(">I", buf)[0]
        assert 2 <= n <= REQ_MAX, n
        body = b""
        while len(body) < n:
            c = s.recv(n - len(body))
            assert c, "a truncated frame"
            body += c
    except ConnectionResetError:
        return None
    assert body[0] == VERSION, body
    return body[1], body[2:]


def send(s, data):
    """Send; the node may have closed already (a bad length, a refusal): fine."""
    try:
        s.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False


def connect(sock_path):
    end = time.time() + 30
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        try:
            s.connect(sock_path)
            return s
        except (BlockingIOError, ConnectionRefusedError):
            s.close()
            if time.time() > end:
                raise
            time.sleep(0.02)


# ---- what the protocol says a single request gets -----------------------------

def expect_single(stream):
    """For the bytes of one request (the client then half-closes): 'drop' (the
    node closes without a byte) or ('answer', version, type, payload)."""
    if len(stream) < 4:
        return ("drop", "incomplete")
    n = struct.unpack(">I", stream[:4])[0]
    if n < 2 or n > REQ_MAX:
        return ("drop", "length")
    if len(stream) - 4 < n:
        return ("drop", "incomplete")
    body = stream[4:4 + n]
    return ("answer", body[0], body[1], body[2:])


def check_answer(frames, version, typ, ctx, expect_code=None, allow_continue=False):
    """An answer to a complete request: OUT/ERR/DATA*, one DONE last; or, for a
    VAULT_PUT, a lone CONTINUE (the client hung up before sending data).
    Returns (exit code or 'continue', result, err text)."""
    check(frames, "no answer to a complete request", ctx)
    if frames[0][0] == CONTINUE:
        check(allow_continue and version == VERSION and typ == VAULT_PUT,
              "CONTINUE to a request that is no VAULT_PUT", ctx)
        check(expect_code is None, "CONTINUE, expected exit %r" % expect_code, ctx)
        check(frames[0][1] == b"", "CONTINUE with a payload", ctx)
        check(len(frames) == 1, "frames after CONTINUE to a client that sent no data", ctx)
        return "continue", None, ""
    types = [ty for ty, _ in frames]
    check(types[-1] == DONE and types.count(DONE) == 1, "not exactly one DONE, last", ctx)
    check(CONTINUE not in types, "CONTINUE inside an answer", ctx)
    if DATA in types:
        check(version == VERSION and typ in (VAULT_GET, XCH_FETCH), "DATA frames", ctx)
    done = frames[-1][1]
    check(len(done) >= 1, "an empty DONE", ctx)
    code = done[0]
    err = b"".join(b for ty, b in frames if ty == ERR).decode(errors="replace")
    if code == 0:
        check(version == VERSION and (typ in RESULT_LEN or typ == XCH_PEERS),
              "exit 0 for version %d type 0x%02x" % (version, typ), ctx)
        if typ == XCH_PEERS:
            check(len(done) >= 2 and len(done) == 2 + 72 * done[1], "XCH_PEERS result", ctx)
        else:
            check(len(done) == 1 + RESULT_LEN[typ], "a result of %d bytes for type %d"
                  % (len(done) - 1, typ), ctx)
    else:
        check(len(done) == 1, "a result after a nonzero exit", ctx)
        check(err, "a refusal (exit %d) without an ERR text" % code, ctx)
    if version != VERSION:
        check(code == 2 and "version" in err, "a wrong version: exit %d %r" % (code, err), ctx)
    elif not (1 <= typ <= 8):
        check(code == 2 and "unknown request" in err, "an unknown type: exit %d %r"
              % (code, err), ctx)
    if expect_code is not None:
        check(code == expect_code, "exit %d, expected %d: %r" % (code, expect_code, err), ctx)
    return code, done[1:], err


# ---- the hostile client ------------------------------------------------------

class Fuzz:
    def __init__(self, sock_path, templates, readers, network_id):
        self.sock = sock_path
        self.templates = templates
        self.readers = readers          # reader lists for the uploads' headers
        self.network_id = network_id
        self.counts = {}                # what happened, by kind
        self.stored = []   # (doc_sha256, envelope_len) of every upload the node stored

    def count(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1

    def mutate(self, typ, payload):
        """One request stream from a template, mutated; (stream, how)."""
        m = rng.randrange(12)
        version, length = VERSION, None
        body = bytearray(payload)
        how = "valid"
        if m == 1:    # flip bits anywhere (length, version, type, payload)
            s = bytearray(frame(typ, bytes(body)))
            for _ in range(rng.randrange(1, 9)):
                i = rng.randrange(len(s))
                s[i] ^= 1 << rng.randrange(8)
            return bytes(s), "bitflip"
        if m == 2:    # truncate in a region: the length, version, type, payload
            s = frame(typ, bytes(body))
            region = rng.randrange(4)
            cut = [rng.randrange(0, 4), 4, 5, rng.randrange(6, len(s) + 1)][region]
            return s[:cut], "truncate"
        if m == 3:    # a length prefix that lies
            real = len(body) + 2
            length = rng.choice([0, 1, 2, 0xFFFFFFFF, REQ_MAX, REQ_MAX + 1, rng.randrange(1 << 32),
                                 rng.randrange(0, real), real + rng.randrange(1, 2000)])
            how = "length"
        elif m == 4:  # a wrong version
            version = rng.choice([0, 2, 0x81, 255, rng.randrange(2, 256)])
            how = "version"
        elif m == 5:  # an unknown type (0, the upload's own frames, answer types, ...)
            typ = rng.choice([0, PUT_DATA, PUT_END, 11, 0x7f, 0x81, 0x84, 0x85, 255,
                              rng.randrange(11, 256)])
            how = "type"
        elif m == 6:  # change, insert or delete payload bytes (lengths stay consistent)
            for _ in range(rng.randrange(1, 6)):
                op = rng.randrange(3)
                if op == 0 and body:
                    body[rng.randrange(len(body))] = rng.randrange(256)
                elif op == 1:
                    body.insert(rng.randrange(len(body) + 1), rng.randrange(256))
                elif body:
                    del body[rng.randrange(len(body))]
            how = "bytes"
        elif m == 7 and len(body) >= 2:   # a 16-bit length field that lies
            i = rng.randrange(len(body) - 1)
            body[i:i + 2] = struct.pack(">H", rng.choice([0, 1, 255, 256, 257, 4096, 4097,
                                                          0xFFFF, rng.randrange(1 << 16)]))
            how = "u16"
        elif m == 8 and rng.random() < 0.15:   # oversize: the whole cap, or just over it
            pad = REQ_MAX - 2 - len(body) + rng.choice([0, 0, 1])
            body += bytes(rng.randrange(256) for _ in range(64)) * (pad // 64) + b"\0" * (pad % 64)
            how = "oversize"
        elif m == 9:  # random garbage of the type's size
            body = bytearray(rng.randrange(256) for _ in range(len(body)))
            how = "garbage"
        elif m == 10:  # a payload's tail cut (the frame's length matches)
            body = body[:rng.randrange(len(body) + 1)]
            how = "short"
        return frame(typ, bytes(body), version, length), how

    def single(self, it):
        typ, payload, code = rng.choice(self.templates)
        stream, how = self.mutate(typ, payload)
        ctx = "iteration %d: %s of type %d: %s" % (it, how, typ, stream[:80].hex())
        exp = expect_single(stream)
        s = connect(self.sock)
        try:
            # sometimes in pieces, to cross the node's reads
            if rng.random() < 0.2 and len(stream) > 1:
                cut = rng.randrange(1, len(stream))
                send(s, stream[:cut])
                time.sleep(0.001)
                sent = send(s, stream[cut:])
            else:
                sent = send(s, stream)
            mode = rng.randrange(10)
            if mode == 0:   # hang up at once: mid-request, or before the answer
                self.count("hung up")
                return
            if exp == ("drop", "length") and rng.random() < 0.5:
                # no half-close: a bad length is closed at once, before any body
                # is read (well before the 5 s read timeout would close it)
                ts = time.time()
                buf = read_all(s, timeout=AT_ONCE)
                check(buf == b"" and time.time() - ts < AT_ONCE, "a bad length was not closed "
                      "at once", ctx)
                self.count("bad length closed")
                return
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            buf = read_all(s)
        finally:
            s.close()
        frames = parse_answer(buf, ctx)
        if exp[0] == "drop":
            check(frames == [], "an answer to a request the protocol drops: %r" % frames[:3], ctx)
            self.count("dropped")
            return
        if not sent and not frames:
            # the node closed while we sent (it refused an oversize/too-long frame)
            raise Fail("a complete request was not answered (%s)" % ctx)
        _, version, rtyp, _ = exp
        want = code if how == "valid" else None
        got, res, err = check_answer(frames, version, rtyp, ctx, expect_code=want,
                                     allow_continue=True)
        if how == "valid" and rtyp == NETWORK_ID:
            check(res == self.network_id, "the network id", ctx)
        self.count("answered")

    def upload(self, it):
        """A VAULT_PUT upload, followed (or not) by the frames the protocol asks for."""
        total = rng.choice([0, rng.randrange(1, 64), rng.randrange(1, 5000),
                            rng.randrange(1, 70000)])
        over = rng.random() < 0.05
        if over:
            total = PUT_MAX + rng.choice([1, 1 << 20, 1 << 40])
        media = rng.choice([b"", b"text/plain", b"application/fhir+json"])
        hdr = frame(VAULT_PUT, put_header(total, rng.choice(self.readers), media))
        ctx = "iteration %d: upload of %d bytes" % (it, total)
        s = connect(self.sock)
        try:
            send(s, hdr)
            f = read_frame(s)
            if over:
                check(f is not None and f[0] in (ERR, OUT, DONE), "no refusal over the cap", ctx)
                rest = parse_answer(read_all(s), ctx)
                frames = [f] + rest
                code, _, err = check_answer(frames, VERSION, VAULT_PUT, ctx)
                check(code == 5 and "over" in err, "over the cap: exit %r %r" % (code, err), ctx)
                self.count("upload over cap")
                return
            check(f == (CONTINUE, b""), "no CONTINUE to a valid header: %r" % (f,), ctx)
            # the frames: the document in random pieces, then mutated
            pieces, left = [], total
            while left:
                n = min(left, rng.choice([1, 7, 100, 1000, 4096, 30000, 70000]))
                pieces.append(n)
                left -= n
            frames_out = [(VERSION, PUT_DATA, rng.randbytes(n) if hasattr(rng, "randbytes")
                           else os.urandom(n), None) for n in pieces]
            frames_out.append((VERSION, PUT_END, b"", None))
            kind = rng.randrange(11)
            if kind == 1:     # more than announced
                frames_out.insert(rng.randrange(len(frames_out)), (VERSION, PUT_DATA,
                                                                   b"x" * rng.randrange(1, 50), None))
            elif kind == 2 and len(frames_out) > 1:   # END early
                del frames_out[rng.randrange(len(frames_out) - 1)]
            elif kind == 3:   # END with a body
                frames_out[-1] = (VERSION, PUT_END, b"z" * rng.randrange(1, 10), None)
            elif kind == 4:   # an empty DATA
                frames_out.insert(rng.randrange(len(frames_out)), (VERSION, PUT_DATA, b"", None))
            elif kind == 5:   # another type inside the upload
                frames_out.insert(rng.randrange(len(frames_out)),
                                  (VERSION, rng.choice([0, RUN, NETWORK_ID, VAULT_PUT, 11, 0x84]),
                                   b"", None))
            elif kind == 6:   # a wrong version
                i = rng.randrange(len(frames_out))
                v, ty, b, ln = frames_out[i]
                frames_out[i] = (rng.choice([0, 2, 255]), ty, b, ln)
            elif kind == 7:   # a bad length on one frame
                i = rng.randrange(len(frames_out))
                v, ty, b, ln = frames_out[i]
                frames_out[i] = (v, ty, b, rng.choice([0, 1, REQ_MAX + 1, 0xFFFFFFFF]))
            elif kind == 8:   # out of order: END first, the data after it
                frames_out = [frames_out[-1]] + frames_out[:-1]
            elif kind == 9:   # a frame cut short, then hang up
                i = rng.randrange(len(frames_out))
                v, ty, b, ln = frames_out[i]
                raw = frame(ty, b, v)
                frames_out = frames_out[:i] + [("raw", raw[:rng.randrange(len(raw))])]
            elif kind == 10:  # shuffle everything
                rng.shuffle(frames_out)
            # what the node should do with them, frame by frame
            got, expect = 0, None
            for fr in frames_out:
                if fr[0] == "raw":
                    expect = ("drop",)
                    break
                v, ty, b, ln = fr
                n = len(b) + 2 if ln is None else ln
                if n < 2 or n > REQ_MAX:
                    expect = ("drop", "length")
                    break
                # the refusal comes at the first bad frame, and says why
                if v != VERSION or ty not in (PUT_DATA, PUT_END):
                    expect = ("code", 5, "inside a VAULT_PUT upload")
                    break
                if ty == PUT_DATA:
                    if not b:
                        expect = ("code", 5, "an empty PUT_DATA")
                        break
                    if len(b) > total - got:
                        expect = ("code", 5, "longer than the %d bytes" % total)
                        break
                    got += len(b)
                elif b:
                    expect = ("code", 5, "PUT_END frame with a body")
                    break
                elif got != total:
                    expect = ("code", 5, "ended after %d of the %d bytes" % (got, total))
                    break
                else:
                    expect = ("code", 0, "")
                    break
            else:
                expect = ("drop",)   # no END: the client hangs up
            stream = b"".join(fr[1] if fr[0] == "raw" else frame(fr[1], fr[2], fr[0], fr[3])
                              for fr in frames_out)
            ctx += ", kind %d, expect %r" % (kind, expect)
            send(s, stream)
            if expect == ("drop", "length") and rng.random() < 0.5:
                frames = parse_answer(read_all(s, timeout=AT_ONCE), ctx)   # closed at once
            else:
                try:
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                frames = parse_answer(read_all(s), ctx)
        finally:
            s.close()
        if expect[0] == "drop":
            check(frames == [], "an answer to a dropped upload: %r" % frames[:3], ctx)
            self.count("upload dropped")
            return
        code, res, err = check_answer(frames, VERSION, VAULT_PUT, ctx, expect_code=expect[1])
        check(expect[2] in err, "the refusal says %r, expected %r" % (err, expect[2]), ctx)
        if code == 0:
            doc_len, env_len = struct.unpack(">QQ", res[64:80])
            check(doc_len == total and env_len > total, "the stored lengths %d %d"
                  % (doc_len, env_len), ctx)
            self.count("upload stored")
            self.stored.append((res[:32].hex(), env_len))
        else:
            self.count("upload refused")


def node_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def valid_checks(sock_path, netid, data):
    """NETWORK_ID and RUN answered correctly."""
    s = connect(sock_path)
    send(s, frame(NETWORK_ID))
    fr = parse_answer(read_all(s), "final NETWORK_ID")
    s.close()
    code, res, _ = check_answer(fr, VERSION, NETWORK_ID, "final NETWORK_ID", expect_code=0)
    check(res == netid, "the network id after the fuzzing", "")
    s = connect(sock_path)
    send(s, frame(RUN, run_payload(["node", "status", "--node", data, "--json"], "/")))
    fr = parse_answer(read_all(s), "final RUN")
    s.close()
    check_answer(fr, VERSION, RUN, "final RUN", expect_code=0)
    st = json.loads(b"".join(b for ty, b in fr if ty == OUT))
    check(st["running"] is True and st["network_id"] == netid.hex(), "node status %r" % st, "")


def main():
    t0 = time.time()
    root = t.tmpdir("hre-cli-ctlfuzz-")
    data, vault = os.path.join(root, "chain"), os.path.join(root, "vault")
    net = os.path.join(root, "network.dat")
    K = lambda name: os.path.join(root, name + ".pem")   # noqa: E731
    keys = {n: t.run_json("key", "new", "--out", K(n), "--no-passphrase")
            for n in ("authority", "enc", "node")}
    n = t.run_json("network", "init", "--out", net, "--authority", K("authority"),
                   "--name", "Fuzz Hospital")
    org, netid = n["genesis_org"], bytes.fromhex(n["network_id"])
    L = ["--data", data, "--network", net, "--nosync"]
    t.run_json("key", "publish", *L, "--key", K("authority"), "--org", org,
               "--enc-key", keys["enc"]["public_key"])
    t.run_json("key", "publish", *L, "--key", K("authority"), "--enc-key",
               keys["enc"]["public_key"])   # the authority's account: a second reader
    raw = os.path.join(root, "block1.bin")
    t.run("chain", "block", "1", "--data", data, "--nosync", "--raw", raw, check=0)
    with open(raw, "rb") as f:
        blk = f.read()
    assert blk[80] == 1, "one transaction in block 1"
    txlen = blk[81] if blk[81] < 0xfd else struct.unpack("<H", blk[82:84])[0]
    tx = blk[82:82 + txlen] if blk[81] < 0xfd else blk[84:84 + txlen]
    txid = hashlib.sha256(hashlib.sha256(tx).digest()).hexdigest()
    blockhash = t.run_json("chain", "block", "1", "--data", data, "--nosync")["hash"]
    env = {}
    if ASAN:
        # a small quarantine, so that resident memory says what the node keeps
        env["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") +
                               ":quarantine_size_mb=16:thread_local_quarantine_size_kb=64"
                               ).lstrip(":")
    old_env = dict(os.environ)
    os.environ.update(env)
    try:
        node = t.NodeProc(data, "--key", K("node"), "--vault", vault, "--vault-key", K("enc"),
                          "--holder", org, "--nosync")
    finally:
        os.environ.clear()
        os.environ.update(old_env)
    sock_path = os.path.join(data, "control.sock")
    pid = node.p.pid
    auth = keys["authority"]
    templates = [
        (RUN, run_payload(["node", "status", "--node", data, "--json"], root), 0),
        (RUN, run_payload(["chain", "info", "--node", data], root), 0),
        (RUN, run_payload(["chain", "block", "1", "--json", "--node", data], root), 0),
        (RUN, run_payload(["record", "show", "--node", data, "ab" * 32], root), 3),
        # every command the node runs, with arguments for the mutations to work on
        (RUN, run_payload(["chain", "tx", txid, "--node", data, "--json"], root), 0),
        (RUN, run_payload(["chain", "tx", txid, "--height", "1", "--node", data], root), 0),
        (RUN, run_payload(["chain", "block", blockhash, "--node", data], root), 0),
        (RUN, run_payload(["chain", "verify", "--from", "1", "--quiet", "--node", data], root), 0),
        (RUN, run_payload(["audit", auth["id"], "--format", "fhir", "--node", data], root), 5),
        (RUN, run_payload(["audit", auth["id"], "--node", data, "--json"], root), 5),
        (RUN, run_payload(["chain", "block", "1", "--raw", "-", "--node", data], root), 0),
        (RUN, run_payload(["chain", "info", "--help", "--node", data], root), 0),
        (RUN, run_payload(["chain", "info", "--node", data] + ["x" * 4096] * 250, root), 2),
        (RUN, run_payload(["chain", "info", "--node", data, "x" * 4097], root), 5),
        (RUN, run_payload(["chain", "info", "--node", data] + ["x"] * 254, root), 2),
        (RUN, run_payload(["chain", "info", "--node", data] + ["x"] * 255, root), 2),
        (RUN, run_payload(["record", "check", "cd" * 32, "--salt", "00" * 32, "--test", "HGB",
                           "--patient-ref", "MRN-1", "--node", data], root), 3),
        (NONCE, bytes([32]) + bytes.fromhex(auth["id"]), 0),
        (NONCE, bytes([34]) + bytes.fromhex(auth["public_key"]), 0),
        (NETWORK_ID, b"", 0),
        (SUBMIT, tx, 1),    # already on the chain: refused
        (VAULT_GET, os.urandom(32) + bytes.fromhex(keys["enc"]["public_key"]), 3),
        (XCH_PEERS, os.urandom(32), None),
        (XCH_FETCH, os.urandom(8 + 188), None),
        # a request of the right shape (section 15.2), its signature not checked out
        (XCH_FETCH, os.urandom(8) + b"\x01\x01" + os.urandom(16) + struct.pack(">Q", int(
            time.time() * 1000)) + bytes.fromhex(auth["public_key"]) + os.urandom(32 + 32 + 64),
         None),
        (VAULT_PUT, put_header(100, [org.encode()]), None),
        (VAULT_PUT, put_header(100, [("org:" + org).encode(), ("account:" + auth["id"]).encode()],
                               b"text/plain"), None),
        # the header's limits: 64 readers (the same one again: the node takes it),
        # 127 bytes of media type; one more of either is malformed
        (VAULT_PUT, put_header(100, [org.encode()] * 64), None),
        (VAULT_PUT, put_header(100, [org.encode()] * 65), 5),
        (VAULT_PUT, put_header(100, [org.encode()], b"m" * 127), None),
        (VAULT_PUT, put_header(100, [org.encode()], b"m" * 128), 5),
        (VAULT_PUT, put_header(100, [org.encode()], b"a\0b"), 5),
        (VAULT_PUT, put_header(100, []), 5),
    ]
    readers = [[org.encode()], [("org:" + org).encode(), ("account:" + auth["id"]).encode()],
               [org.encode(), ("org:" + org).encode()]]
    fz = Fuzz(sock_path, templates, readers, netid)
    counts = fz.counts
    # the valid templates as they are first (each answered as the table says)
    for typ, payload, code in templates:
        s = connect(sock_path)
        send(s, frame(typ, payload))
        s.shutdown(socket.SHUT_WR)
        tctx = "template %d: %s" % (typ, payload[:200])
        fr = parse_answer(read_all(s), tctx)
        s.close()
        got, _, err = check_answer(fr, VERSION, typ, tctx, expect_code=code,
                                   allow_continue=True)
        print("template %d: exit %s %s" % (typ, got, err.strip()[:100]))
        if typ == VAULT_PUT and code is None:
            check(got == "continue", "a valid VAULT_PUT header: %r %r" % (got, err), "")

    def step(it):
        if rng.random() < 0.15:
            fz.upload(it)
        else:
            fz.single(it)
        if it % 50 == 0:
            check(node.p.poll() is None, "the node died:\n" + node.stderr()[-3000:],
                  "iteration %d" % it)

    warm = max(ITERS // 10, 50)
    for it in range(warm):
        step(it)
    rss0 = node_rss_kb(pid)
    for it in range(warm, ITERS):
        step(it)
    check(node.p.poll() is None, "the node died:\n" + node.stderr()[-3000:], "after the loop")
    t1 = time.time()

    # several connections at once, up to and beyond the cap (8): each is answered
    # as the protocol says or (beyond the cap) closed at accept without a byte
    for burst in range(6):
        socks = []
        for i in range(rng.randrange(4, 16)):
            typ, payload, code = rng.choice([x for x in templates if x[0] != VAULT_PUT])
            stream, how = fz.mutate(typ, payload) if rng.random() < 0.5 else (frame(typ, payload),
                                                                               "valid")
            socks.append((connect(sock_path), stream, how, code))
        for s, stream, _, _ in socks:
            send(s, stream)
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        answered = 0
        for s, stream, how, code in socks:
            ctx = "burst %d: %s %s" % (burst, how, stream[:40].hex())
            fr = parse_answer(read_all(s), ctx)
            s.close()
            exp = expect_single(stream)
            if exp[0] == "drop" or not fr:
                check(not fr or exp[0] != "drop", "an answer to a dropped request", ctx)
                continue   # dropped, or busy (closed at accept)
            check_answer(fr, exp[1], exp[2], ctx, expect_code=code if how == "valid" else None,
                         allow_continue=True)
            answered += 1
        check(answered >= 1 or all(expect_single(x[1])[0] == "drop" for x in socks),
              "no connection of a burst was served", "burst %d" % burst)
    # uploads interleaved frame by frame on several connections: each is stored whole
    ups = []
    for i in range(3):
        doc = os.urandom(rng.randrange(1, 200000))
        s = connect(sock_path)
        send(s, frame(VAULT_PUT, put_header(len(doc), [org.encode()])))
        check(read_frame(s) == (CONTINUE, b""), "CONTINUE", "interleaved")
        ups.append((s, doc, 0))
    while any(off < len(doc) for _, doc, off in ups):
        i = rng.randrange(len(ups))
        s, doc, off = ups[i]
        if off < len(doc):
            n = rng.randrange(1, 70000)
            send(s, frame(PUT_DATA, doc[off:off + n]))
            ups[i] = (s, doc, off + n)
    for s, doc, _ in ups:
        send(s, frame(PUT_END))
    for s, doc, _ in ups:
        fr = parse_answer(read_all(s), "interleaved")
        s.close()
        _, res, _ = check_answer(fr, VERSION, VAULT_PUT, "interleaved", expect_code=0)
        check(struct.unpack(">Q", res[64:72])[0] == len(doc), "the stored length", "interleaved")
        fz.stored.append((res[:32].hex(), struct.unpack(">Q", res[72:80])[0]))
    # the cap exactly: 8 silent clients hold every slot; the next ones are closed at
    # accept at once (not after the read timeout), and when the 8 go, the node serves
    silent = [connect(sock_path) for _ in range(8)]
    time.sleep(0.5)
    for _ in range(3):
        s = connect(sock_path)
        ts = time.time()
        send(s, frame(NETWORK_ID))
        buf = read_all(s, timeout=4)
        s.close()
        check(buf == b"" and time.time() - ts < 3, "a 9th connection: %r after %.1f s"
              % (buf[:20], time.time() - ts), "the cap")
    for s in silent:
        s.close()
    def served():
        c = connect(sock_path)
        try:
            send(c, frame(NETWORK_ID))
            c.shutdown(socket.SHUT_WR)
            return read_all(c) != b""
        finally:
            c.close()
    t.wait_for(served, "the node to serve again after the silent clients left", timeout=10)
    # stalls: half a request, an upload that stops mid-frame, one that stops between
    # frames; the node answers others meanwhile and drops them after the read timeout
    stalls = []
    s = connect(sock_path)
    send(s, struct.pack(">I", 1000) + b"\x01\x01abc")
    stalls.append(("half a request", s))
    for between in (False, True):
        s = connect(sock_path)
        send(s, frame(VAULT_PUT, put_header(1 << 20, [org.encode()])))
        check(read_frame(s) == (CONTINUE, b""), "CONTINUE", "stall")
        part = frame(PUT_DATA, b"y" * 1000)
        send(s, part if between else part + struct.pack(">I", 5000) + b"\x01\x09")
        stalls.append(("an upload stalled " + ("between" if between else "inside") + " frames",
                       s))
    ts = time.time()
    for _ in range(5):
        valid_checks(sock_path, netid, data)
    check(time.time() - ts < (10 if ASAN else 5), "answers slowed down by stalled clients",
          "stalls")
    for what, s in stalls:
        buf = read_all(s, timeout=READ_TIMEOUT)
        s.close()
        check(buf == b"", "%s: an answer %r" % (what, buf[:40]), "stalls")
    waited = time.time() - ts
    check(3 < waited < 20, "the stalled clients were dropped after %.1f s" % waited, "stalls")
    # one upload frame exactly at the cap, then the rest: stored
    s = connect(sock_path)
    big = REQ_MAX - 2
    send(s, frame(VAULT_PUT, put_header(big + 10, [org.encode()])))
    check(read_frame(s) == (CONTINUE, b""), "CONTINUE", "cap frame")
    send(s, frame(PUT_DATA, os.urandom(big)) + frame(PUT_DATA, b"0123456789") + frame(PUT_END))
    fr = parse_answer(read_all(s), "cap frame")
    s.close()
    _, res, _ = check_answer(fr, VERSION, VAULT_PUT, "cap frame", expect_code=0)
    check(struct.unpack(">Q", res[64:72])[0] == big + 10, "the stored length", "cap frame")
    fz.stored.append((res[:32].hex(), struct.unpack(">Q", res[72:80])[0]))
    # ... and one just over it: dropped without an answer
    s = connect(sock_path)
    send(s, frame(VAULT_PUT, put_header(big + 10, [org.encode()])))
    check(read_frame(s) == (CONTINUE, b""), "CONTINUE", "over cap frame")
    send(s, frame(PUT_DATA, os.urandom(big + 1)))
    check(read_all(s) == b"", "an answer to a frame over the cap", "over cap frame")
    s.close()

    # the end: still right, still small, the ledger intact
    check(node.p.poll() is None, "the node died:\n" + node.stderr()[-3000:], "the end")
    valid_checks(sock_path, netid, data)
    rss1 = node_rss_kb(pid)
    print("VmRSS after warm-up %d kB, at the end %d kB (bound +%d kB)" % (rss0, rss1,
                                                                         RSS_BOUND_KB))
    check(rss1 - rss0 <= RSS_BOUND_KB, "the node's memory grew by %d kB" % (rss1 - rss0), "")
    j = t.run_json("chain", "verify", "--node", data, "--quiet")
    check(j["ok"] is True and j["height"] == 2, "chain verify through the node: %r" % j, "")
    rc = node.stop(signal.SIGTERM)
    check(rc == 0, "the node's exit %d:\n%s" % (rc, node.stderr()[-3000:]), "stop")
    check(not os.path.exists(sock_path), "the control socket is left behind", "stop")
    j = t.run_json("chain", "verify", "--data", data, "--nosync", "--quiet")
    check(j["ok"] is True and j["height"] == 2, "chain verify from the directory: %r" % j, "")
    print("counts", json.dumps(counts, sort_keys=True))
    for what in ("answered", "dropped", "upload stored", "upload refused"):
        check(counts.get(what, 0) > 0, "no case of %r" % what, "coverage")
    print("iterations %d, fuzz loop %.1f s, whole test %.1f s%s" % (ITERS, t1 - t0,
                                                                    time.time() - t0,
                                                                    " (ASan)" if ASAN else ""))
    # the vault holds exactly the uploads the node said it stored, each envelope
    # whole (its SHA-256 is the doc_sha256 the node answered): nothing of an
    # aborted or dropped upload is left, nothing stored is damaged
    want = {"vault-index.log"}
    for h, env_len in fz.stored:
        want |= {"vault-%s.env" % h[:48], "vault-%s.wr" % h[:48]}
        with open(os.path.join(vault, "vault-%s.env" % h[:48]), "rb") as f:
            body = f.read()
        check(len(body) == env_len and hashlib.sha256(body).hexdigest() == h,
              "a stored envelope does not match its answer", h)
    # the holder's refusal audit log (PROTOCOL 15.8) is the vault's own file:
    # when the node's exchange made it, it is a whole, valid log header
    aud = os.path.join(vault, "vault-refusals.aud")
    if os.path.exists(aud):
        with open(aud, "rb") as f:
            head = f.read(64)
        check(len(head) == 64 and head[:8] == b"HRE-XAUD" and head[8] == 1
              and (os.path.getsize(aud) - 64) % 192 == 0
              and zlib.crc32(head[:60]) == int.from_bytes(head[60:64], "little"),
              "the refusal audit log's header", aud)
        want.add("vault-refusals.aud")
    check(set(os.listdir(vault)) == want, "the vault holds %r, expected %r"
          % (sorted(set(os.listdir(vault)) ^ want), []), "vault")
    shutil.rmtree(root, ignore_errors=True)
    print("cli_control_fuzz: ok")


if __name__ == "__main__":
    main()
