"""Shared helpers of the `hre` tool tests (tests/cli/*.py)."""
import json
import os
import subprocess
import sys
import tempfile

TOOL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("HRE_TOOL", "hre")


def run(*args, input=None, env=None, check=None, pass_fds=(), timeout=120):
    """Run the tool; returns (exit code, stdout, stderr) as text.
    check: an expected exit code (asserted, with the output in the message)."""
    e = dict(os.environ)
    e.pop("HRE_DATA", None)
    if env:
        e.update(env)
    p = subprocess.run([TOOL] + [str(a) for a in args], input=input, capture_output=True,
                       text=True, env=e, pass_fds=pass_fds, timeout=timeout)
    if check is not None and p.returncode != check:
        raise AssertionError("hre %s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(map(str, args)), p.returncode, check, p.stdout, p.stderr))
    return p.returncode, p.stdout, p.stderr


def run_json(*args, **kw):
    """Run with --json, expect exit 0, return the parsed document."""
    kw.setdefault("check", 0)
    _, out, _ = run(*args, "--json", **kw)
    return json.loads(out)


def tmpdir(prefix="hre-cli-"):
    return tempfile.mkdtemp(prefix=prefix)


# ---- cli-tx section ------------------------------------------------------

def pipe_with(text):
    """A pipe holding `text` (then closed for writing): returns its read
    end, to pass as --passphrase-fd N with pass_fds=(N,). Close it after."""
    r, w = os.pipe()
    os.write(w, text.encode())
    os.close(w)
    return r


def run_pass(*args, passphrase, check=None, fd_opt="--passphrase-fd", json_out=False):
    """Run with `fd_opt N` reading `passphrase` (lines joined by newlines if a
    list) from a pipe. Returns (rc, stdout, stderr), or the parsed JSON
    document when json_out (and then expects exit 0 unless check says)."""
    text = "\n".join(passphrase) + "\n" if isinstance(passphrase, (list, tuple)) else passphrase
    fd = pipe_with(text)
    try:
        extra = ["--json"] if json_out else []
        if json_out and check is None:
            check = 0
        rc, out, err = run(*args, fd_opt, fd, *extra, pass_fds=(fd,), check=check)
    finally:
        os.close(fd)
    return json.loads(out) if json_out else (rc, out, err)


def sha256_hex(hexstr):
    import hashlib
    return hashlib.sha256(bytes.fromhex(hexstr)).hexdigest()



# ---- cli-chain section ---------------------------------------------------

def demo_ledger(demo, prefix="hre-cli-demo-"):
    """Run examples/hre_demo (its path: `demo`) into a new directory and keep
    the ledger: records, a grant, an access, a revocation. Returns the dir."""
    d = os.path.join(tmpdir(prefix), "ledger")
    p = subprocess.run([demo, "--dir", d, "--keep"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, "hre_demo failed:\n%s\n%s" % (p.stdout, p.stderr)
    return d


def chain_blocks(data):
    """Every main-chain block of the ledger in `data` (chain block --json), genesis first."""
    info = run_json("chain", "info", "--data", data)
    return info, [run_json("chain", "block", str(h), "--data", data)
                  for h in range(info["height"] + 1)]


def txs_of_kind(blocks, kind_name):
    """(height, tx) of every transaction of that kind, oldest first."""
    return [(b["height"], t) for b in blocks for t in b["txs"] if t["kind_name"] == kind_name]




# ---- cli-node section ----------------------------------------------------

import signal as _signal  # noqa: E402
import socket as _socket  # noqa: E402
import struct as _struct  # noqa: E402
import time as _time  # noqa: E402

NODE_TCP = os.environ.get("HRE_NODE_TCP", "")


def wait_for(cond, what, timeout=30.0, step=0.05):
    """Poll cond() until it returns a true value (returned) or fail after timeout s."""
    end = _time.time() + timeout
    while _time.time() < end:
        v = cond()
        if v:
            return v
        _time.sleep(step)
    raise AssertionError("timed out waiting for " + what)


def make_network(root, nodes=2, passphrase=None):
    """hre_node_tcp init: root/network.dat, root/nodeK.pem, root/nodeK (data dirs);
    the keys encrypted under passphrase if given."""
    e = dict(os.environ)
    extra = []
    if passphrase:
        e["HRE_NODE_PASSPHRASE"] = passphrase
        extra = ["--pass-env", "HRE_NODE_PASSPHRASE"]
    p = subprocess.run([NODE_TCP, "init", "--dir", root, "--nodes", str(nodes), "--nosync"] + extra,
                       capture_output=True, text=True, timeout=120, env=e)
    assert p.returncode == 0, p.stderr
    return root


class NodeProc:
    """A running `hre node run` (stderr kept in a file)."""

    def __init__(self, data, *args, port_file=None, wait=True, pass_fds=()):
        self.data = data
        self.port_file = port_file
        self.log_path = os.path.join(os.path.dirname(os.path.abspath(data)),
                                     os.path.basename(data) + ".log")
        self.log = open(self.log_path, "w")
        argv = [TOOL, "node", "run", "--data", data] + [str(a) for a in args]
        if port_file:
            argv += ["--port-file", port_file]
        e = dict(os.environ)
        e.pop("HRE_DATA", None)
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, env=e,
                                  pass_fds=pass_fds)
        if wait:
            self.wait_up()

    def wait_up(self):
        sock = os.path.join(self.data, "control.sock")

        def up():
            if self.p.poll() is not None:
                raise AssertionError("node exited %d:\n%s" % (self.p.returncode, self.stderr()))
            if self.port_file and not os.path.exists(self.port_file):
                return False
            s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            try:
                s.connect(sock)   # a stale socket file refuses: not up yet
                return True
            except OSError:
                return False
            finally:
                s.close()
        wait_for(up, "the node's control socket")

    @property
    def port(self):
        with open(self.port_file) as f:
            return int(f.read())

    def stderr(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=_signal.SIGTERM, timeout=30):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        rc = self.p.wait(timeout=timeout)
        self.p.stdout.close()
        self.log.close()
        return rc


def status(data):
    return run_json("node", "status", "--node", data)


CTL_RUN, CTL_NONCE, CTL_NETWORK_ID, CTL_SUBMIT, CTL_VAULT_GET = 1, 2, 3, 4, 5
CTL_OUT, CTL_ERR, CTL_DATA, CTL_DONE = 0x81, 0x82, 0x83, 0x84


def ctl_connect(data):
    """Connect to a node's control socket (waiting while its backlog is full)."""
    end = _time.time() + 30
    while True:
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        s.settimeout(30)
        try:
            s.connect(os.path.join(data, "control.sock"))
            return s
        except BlockingIOError:
            s.close()
            if _time.time() > end:
                raise
            _time.sleep(0.05)


def ctl_frames(s):
    """Read answer frames until DONE or EOF: a list of (type, body)."""
    buf, out = b"", []
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    while len(buf) >= 4:
        n = _struct.unpack(">I", buf[:4])[0]
        body = buf[4:4 + n]
        assert len(body) == n, "a truncated frame"
        assert body[0] == 1, "version"
        out.append((body[1], body[2:]))
        buf = buf[4 + n:]
    assert buf == b"", "bytes after the last frame"
    return out


def ctl_request(data, typ, payload=b"", version=1):
    """One control request; returns (exit code, result bytes, stdout, stderr)."""
    s = ctl_connect(data)
    try:
        s.sendall(_struct.pack(">IBB", len(payload) + 2, version, typ) + payload)
        frames = ctl_frames(s)
    finally:
        s.close()
    assert frames and frames[-1][0] == CTL_DONE, frames
    out = b"".join(b for t, b in frames if t == CTL_OUT)
    err = b"".join(b for t, b in frames if t == CTL_ERR)
    done = frames[-1][1]
    return done[0], done[1:], out.decode(), err.decode()



