#!/usr/bin/env python3
"""Multi-process test of hre_node_tcp on 127.0.0.1 (meson suite 'net').

usage: test_net.py HRE_NODE_TCP WORKDIR

Three node processes, every one listening on port 0 (the bound port comes
back through --port-file), driven through their --spool directories and
observed through their --status files (see examples/hre_node_tcp.c):

1. A (node1) is dialled by B (node2, the only miner: --mine; its sends cut
   to 100 bytes, so its writes are partial) and C (node3, which dials A and B). A transaction submitted at A is mined at B (A and C
   never mine) and seen confirmed at C (and A).
2. C stops (SIGTERM, exit 0). A mines 300 blocks. C restarts with its reads
   capped (--recv-rate) so that the sync takes seconds; once its status shows
   a height strictly between its old tip and A's, it is SIGKILLed mid-sync,
   restarted (no cap) and all three converge on one tip.
3. All three stop with SIGTERM and exit 0 (the ledger closed cleanly); C's
   ledger then reopens at the common tip.

Every wait is on observable state (status files) with a generous deadline,
never a fixed sleep; every child is killed on any failure.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

PROG = sys.argv[1]
WORK = os.path.abspath(sys.argv[2])
PASS = "net-test-passphrase"
DEADLINE = float(os.environ.get("HRE_NET_TIMEOUT", "120"))  # seconds per wait

procs = {}


def log(*a):
    print("[net]", *a, flush=True)


def fail(msg):
    raise AssertionError(msg)


def wait_for(what, cond, timeout=DEADLINE):
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        for name, p in procs.items():
            if p.poll() is not None and not getattr(p, "expected_exit", False):
                fail("%s exited with %s while waiting for %s" % (name, p.returncode, what))
        if time.monotonic() > end:
            fail("timed out (%.0f s) waiting for %s" % (timeout, what))
        time.sleep(0.05)


def status(name):
    path = os.path.join(WORK, name + ".status")
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return None
    st = {"tx": {}}
    for line in text.splitlines():
        k, _, v = line.partition("=")
        if k == "tx":
            txid, _, state = v.partition(" ")
            st["tx"][txid] = state
        else:
            st[k] = v
    p = procs.get(name)
    if p is None or st.get("pid") != str(p.pid):
        return None  # a file left by an earlier process of that name
    return st


def height(name):
    st = status(name)
    return int(st["height"]) if st else -1


def spool_put(name, fname, data):
    d = os.path.join(WORK, name + ".spool")
    tmp = os.path.join(d, ".tmp-" + fname)
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(d, fname))


def start(name, idx, peers=(), extra=()):
    port_file = os.path.join(WORK, name + ".port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    os.makedirs(os.path.join(WORK, name + ".spool"), exist_ok=True)
    args = [PROG, "run", "--data", os.path.join(WORK, "net", "node%d" % idx),
            "--key", os.path.join(WORK, "net", "node%d.pem" % idx), "--pass-env", "NET_TEST_PASS",
            "--listen", "127.0.0.1:0", "--port-file", port_file,
            "--spool", os.path.join(WORK, name + ".spool"),
            "--status", os.path.join(WORK, name + ".status"), "--nosync"]
    for p in peers:
        args += ["--peer", "127.0.0.1:%d" % p]
    args += list(extra)
    errlog = open(os.path.join(WORK, name + ".log"), "a")
    env = dict(os.environ, NET_TEST_PASS=PASS)
    env.pop("HRE_NODE_PASSPHRASE", None)
    p = subprocess.Popen(args, stdout=errlog, stderr=errlog, env=env)
    errlog.close()
    procs[name] = p
    port = wait_for(name + "'s port file", lambda: read_port(port_file))
    wait_for(name + "'s status", lambda: status(name))
    log("started", name, "pid", p.pid, "port", port, " ".join(extra))
    return port


def read_port(path):
    try:
        with open(path) as f:
            t = f.read()
    except FileNotFoundError:
        return None
    return int(t) if t.endswith("\n") else None


def stop(name, sig=signal.SIGTERM):
    p = procs[name]
    p.expected_exit = True
    p.send_signal(sig)
    try:
        rc = p.wait(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        fail("%s did not stop after signal %d" % (name, sig))
    del procs[name]
    return rc


def main():
    if os.path.exists(WORK):
        shutil.rmtree(WORK)
    os.makedirs(WORK)
    env = dict(os.environ, NET_TEST_PASS=PASS)
    r = subprocess.run([PROG, "init", "--dir", os.path.join(WORK, "net"), "--nodes", "3",
                        "--pass-env", "NET_TEST_PASS", "--nosync"], env=env,
                       capture_output=True, text=True, timeout=DEADLINE)
    if r.returncode != 0:
        fail("init failed: " + r.stderr)
    with open(os.path.join(WORK, "net", "node1.pem")) as f:
        if "ENCRYPTED PRIVATE KEY" not in f.read():
            fail("node key not encrypted under the passphrase")

    # 1. a transaction submitted at A, mined at B, seen at C
    pa = start("A", 1)
    # B's sends are cut to 100 bytes each: every larger write is a partial
    # write, resumed through POLLOUT and hre_node_peer_writable
    pb = start("B", 2, [pa], ["--mine", "--send-limit", "100"])
    start("C", 3, [pa, pb])
    wait_for("every node with 2 ready peers",
             lambda: all(status(n) and int(status(n)["peers_ready"]) >= 2 for n in "ABC"))
    assert height("A") == height("B") == height("C") == 1, "setup block missing"
    r = subprocess.run([PROG, "mktx", "--network", os.path.join(WORK, "net", "network.dat"),
                        "--out", os.path.join(WORK, "tx1.bin")], capture_output=True, text=True,
                       timeout=DEADLINE)
    if r.returncode != 0:
        fail("mktx failed: " + r.stderr)
    txid = r.stdout.strip()
    assert len(txid) == 64, txid
    for n in "AC":
        spool_put(n, "tx1.watch", (txid + "\n").encode())
    with open(os.path.join(WORK, "tx1.bin"), "rb") as f:
        spool_put("A", "tx1.tx", f.read())
    wait_for("A to accept tx1", lambda: os.path.exists(os.path.join(WORK, "A.spool", "tx1.tx.ok"))
             or (os.path.exists(os.path.join(WORK, "A.spool", "tx1.tx.err")) and
                 fail("A refused tx1: " + open(os.path.join(WORK, "A.spool", "tx1.tx.err")).read())))

    def confirmed(n):
        st = status(n)
        s = st and st["tx"].get(txid)
        return s if s and s.isdigit() else None
    hc = wait_for("tx1 confirmed at C", lambda: confirmed("C"))
    ha = wait_for("tx1 confirmed at A", lambda: confirmed("A"))
    assert hc == ha == "2", (hc, ha)
    log("tx", txid[:16], "submitted at A, mined by B, confirmed at C and A at height", hc)

    # 2. C is SIGKILLed in the middle of a sync, restarts, all converge
    assert stop("C") == 0, "C's clean stop did not exit 0"
    base = height("A")
    spool_put("A", "m1.mine", b"300\n")
    target = base + 300
    wait_for("A and B at %d" % target, lambda: height("A") >= target and height("B") >= target)
    c_before = 2
    start("C", 3, [pa, pb], ["--recv-rate", "6000"])

    def syncing():
        h = height("C")
        if h >= target:
            fail("C synced to %d before it could be killed (the --recv-rate cap did not hold)" % h)
        return h if h >= c_before + 30 else None   # well into the sync, not at its start
    mid = wait_for("C syncing (between %d and %d)" % (c_before + 30, target), syncing)
    rc = stop("C", signal.SIGKILL)
    assert rc == -signal.SIGKILL, rc
    log("C SIGKILLed mid-sync at height", mid, "of", target)
    start("C", 3, [pa, pb])
    wait_for("all three on one tip",
             lambda: (lambda s: s[0] and s[1] and s[2] and s[0]["tip"] == s[1]["tip"] == s[2]["tip"]
                      and int(s[0]["height"]) >= target)([status(n) for n in "ABC"]))
    tip = status("A")["tip"]
    log("converged at height", height("A"), "tip", tip[:16])

    # 3. clean stops; the killed node's ledger reopens at the common tip
    for n in "ABC":
        assert stop(n) == 0, n + "'s SIGTERM stop did not exit 0"
    start("C", 3)
    st = status("C")
    assert st["tip"] == tip, (st["tip"], tip)
    assert stop("C") == 0
    shutil.rmtree(WORK)
    log("ok")


if __name__ == "__main__":
    try:
        main()
    except BaseException as e:
        for name, p in procs.items():
            if p.poll() is None:
                p.kill()
                p.wait()
        print("FAIL:", e, "(logs kept in %s)" % WORK, file=sys.stderr)
        for name in "ABC":
            path = os.path.join(WORK, name + ".log")
            if os.path.exists(path):
                print("---- %s.log (tail)" % name, file=sys.stderr)
                print("".join(open(path).readlines()[-20:]), file=sys.stderr)
        sys.exit(1)
