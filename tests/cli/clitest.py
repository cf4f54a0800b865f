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



