#!/usr/bin/env python3
"""cli_node: `hre node run` and the control socket, driven as a user would.

Two nodes on 127.0.0.1 (port 0, --port-file), the network made by
hre_node_tcp init. Checked: RUN commands through --node (node status),
SUBMIT through --node relayed to the other node and mined there (--mine),
the raw protocol (NETWORK_ID, NONCE, unknown type and version, a command
the node does not run), a config file (and the command line over it), bad
config lines (exit 2 naming the line), hostile clients (random bytes, an
oversized length, a silent client, more clients than the node serves) do
not crash or stall the node, SIGTERM stops cleanly (exit 0, socket gone,
the ledger reopens), a stale socket is replaced, --node without a node is
exit 7.
"""
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest as t  # noqa: E402

SEED = int(os.environ.get("HRE_SEED", random.randrange(1 << 30)))
print("seed", SEED, "(HRE_SEED replays it)")
rng = random.Random(SEED)


def mktx(net, out):
    p = subprocess.run([t.NODE_TCP, "mktx", "--network", net, "--out", out],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def main():
    root = t.tmpdir("hre-cli-node-")
    t.make_network(root, 2)
    net = os.path.join(root, "network.dat")
    d1, d2 = os.path.join(root, "node1"), os.path.join(root, "node2")
    pf1 = os.path.join(root, "port1")

    # --node to a directory with no node: exit 7
    rc, _, err = t.run("node", "status", "--node", root)
    assert rc == 7 and "no node answers" in err, (rc, err)

    # a bad config line: exit 2, naming the file and line
    for bad, why in (("mine = maybe\n", "takes yes or no"), ("listen\n", "needs a value"),
                     ("# ok\nfrobnicate = 3\n", "unknown setting")):
        cfg = os.path.join(root, "bad.conf")
        with open(cfg, "w") as f:
            f.write("data = %s\nkey = %s\n%s" % (d1, d1 + ".pem", bad))
        rc, _, err = t.run("node", "run", "--config", cfg, timeout=30)
        line = bad.count("\n") + 2
        assert rc == 2 and ("bad.conf:%d:" % line) in err and why in err, (rc, err)
    assert not os.path.exists(os.path.join(d1, "control.sock"))
    rc, _, err = t.run("node", "run", "--data", d1, timeout=30)
    assert rc == 2 and "--key" in err, (rc, err)

    # node 1: from the command line
    n1 = t.NodeProc(d1, "--key", d1 + ".pem", "--listen", "127.0.0.1:0", "--nosync",
                    "--log-level", "debug", port_file=pf1)
    st = os.stat(os.path.join(d1, "control.sock"))
    assert oct(st.st_mode & 0o777) == "0o600", oct(st.st_mode)

    # node 2: from a config file (comments, a peer, mine, nosync); the command
    # line overrides its log level
    cfg = os.path.join(root, "node2.conf")
    with open(cfg, "w") as f:
        f.write("# node 2\n  data = %s   # its ledger\nkey=%s\npeer = 127.0.0.1:%d\n"
                "mine = yes\nnosync\nlog-level = error\n" % (d2, d2 + ".pem", n1.port))
    n2 = t.NodeProc(d2, "--config", cfg, "--log-level", "info")

    # RUN through --node: node status on both, until they are peers
    s1 = t.wait_for(lambda: (lambda s: s if s["peers_ready"] >= 1 else None)(t.status(d1)),
                    "node 1 to have a peer")
    s2 = t.wait_for(lambda: (lambda s: s if s["peers_ready"] >= 1 else None)(t.status(d2)),
                    "node 2 to have a peer (its config file's peer)")
    assert s1["running"] is True and s1["height"] == 1 and s1["mempool"] == 0, s1
    assert s2["network_id"] == s1["network_id"] and s2["tip"] == s1["tip"], (s1, s2)
    rc, out, _ = t.run("node", "status", "--node", d1, check=0)
    assert "running" in out and "height    1" in out, out
    assert " info: " in n2.stderr(), "command-line --log-level info over the file's error"

    # the raw protocol: NETWORK_ID, NONCE, a bad version, an unknown type,
    # RUN of a command the node does not run
    code, res, _, _ = t.ctl_request(d1, t.CTL_NETWORK_ID)
    assert code == 0 and res.hex() == s1["network_id"], (code, res.hex())
    code, res, _, _ = t.ctl_request(d1, t.CTL_NONCE, bytes([32]) + os.urandom(32))
    assert code == 0 and struct.unpack(">Q", res)[0] == 0, (code, res)
    code, res, _, err = t.ctl_request(d1, t.CTL_NONCE, bytes([31]) + os.urandom(31))
    assert code == 5 and "malformed" in err, (code, err)
    code, _, _, err = t.ctl_request(d1, t.CTL_NETWORK_ID, version=9)
    assert code == 2 and "version" in err, (code, err)
    code, _, _, err = t.ctl_request(d1, 0x77)
    assert code == 2 and "unknown request" in err, (code, err)

    def run_payload(args, cwd="/"):
        p = struct.pack(">H", len(cwd)) + cwd.encode() + struct.pack(">H", len(args))
        for a in args:
            p += struct.pack(">H", len(a)) + a.encode()
        return p
    code, _, _, err = t.ctl_request(d1, t.CTL_RUN, run_payload(["node", "run", "--data", d1]))
    assert code == 2 and "not a command the node runs" in err, (code, err)
    code, _, out, _ = t.ctl_request(d1, t.CTL_RUN, run_payload(["node", "status", "--node", d1,
                                                                "--json"]))
    assert code == 0 and '"running":true' in out, (code, out)
    code, _, _, err = t.ctl_request(d1, t.CTL_RUN, run_payload(["node", "status"])[:-3])
    assert code == 5 and "malformed" in err, (code, err)

    # SUBMIT through --node: node 1 relays, node 2 mines (--mine), both reach height 2
    txf = os.path.join(root, "tx1.bin")
    txid = mktx(net, txf)
    j = t.run_json("node", "submit", "--node", d1, txf)
    assert j["txid"] == txid and j["state"] == "mempool" and "height" not in j, j
    rc, _, err = t.run("node", "submit", "--node", d1, txf)
    assert rc == 1 and "refused" in err, (rc, err)     # already known: the node says so
    t.wait_for(lambda: t.status(d2)["height"] == 2, "node 2 to mine the relayed transaction")
    t.wait_for(lambda: t.status(d1)["height"] == 2, "node 1 to get node 2's block")
    assert t.status(d1)["tip"] == t.status(d2)["tip"]
    assert t.status(d1)["mempool"] == 0
    rc, _, err = t.run("node", "submit", "--node", d1, os.path.join(root, "network.dat"))
    assert rc == 5, (rc, err)   # not a transaction: malformed input, refused locally

    # hostile clients: random bytes, an oversized length, a silent client,
    # more connections than the node serves; the node keeps answering
    def send(s, data):
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass   # the node closed it already (a bad length): fine
    for _ in range(20):
        s = t.ctl_connect(d1)
        send(s, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))))
        s.close()
    for length in (0xFFFFFFFF, (1 << 20) + 3, 0, 1):
        s = t.ctl_connect(d1)
        send(s, struct.pack(">I", length) + b"\x01\x03")
        s.settimeout(10)
        try:
            assert s.recv(100) == b"", "the node closes a request with a bad length"
        except ConnectionResetError:
            pass   # closed with our bytes unread: a reset
        s.close()
    silent = [t.ctl_connect(d1) for _ in range(12)]   # more than the 8 it serves at once
    silent[0].sendall(struct.pack(">I", 1000) + b"\x01\x01")   # a request that never ends
    t0 = time.time()
    # while they sit there, a new client may be refused (busy) but the node is not stalled:
    # within the 5 s read timeout the slots free up and status answers
    t.wait_for(lambda: t.run("node", "status", "--node", d1, "--json")[0] == 0,
               "the node to answer while silent clients sit on it", timeout=20)
    for s in silent:
        s.settimeout(15)
        try:
            assert s.recv(10) == b""    # closed by the node (timeout or busy)
        except ConnectionResetError:
            pass
        s.close()
    assert time.time() - t0 < 20
    assert n1.p.poll() is None and n2.p.poll() is None, "a node died"
    assert t.status(d1)["height"] == 2

    # SIGTERM: exit 0, socket gone, the ledger reopens (with --data)
    assert n2.stop(signal.SIGTERM) == 0, n2.stderr()
    assert not os.path.exists(os.path.join(d2, "control.sock"))
    assert "stopped" in n2.stderr()
    assert n1.stop(signal.SIGINT) == 0, n1.stderr()
    assert not os.path.exists(os.path.join(d1, "control.sock"))
    j = t.run_json("node", "status", "--data", d1, "--nosync")
    assert j["running"] is False and j["height"] == 2 and "peers" not in j, j
    rc, _, err = t.run("node", "status", "--node", d1)
    assert rc == 7, (rc, err)

    # a stale socket (a crashed node's) is detected and replaced
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(os.path.join(d1, "control.sock"))
    stale.close()
    assert os.path.exists(os.path.join(d1, "control.sock"))
    rc, _, err = t.run("node", "status", "--node", d1)
    assert rc == 7 and "refused" in err.lower(), (rc, err)
    n1 = t.NodeProc(d1, "--key", d1 + ".pem", "--nosync")
    j = t.status(d1)
    assert j["running"] is True and j["height"] == 2, j
    assert "stale control socket" in n1.stderr(), n1.stderr()
    # and a killed node leaves one behind, which the next start replaces too
    n1.p.kill()
    n1.p.wait()
    n1.log.close()
    assert os.path.exists(os.path.join(d1, "control.sock"))
    n1 = t.NodeProc(d1, "--key", d1 + ".pem", "--nosync")
    assert t.status(d1)["height"] == 2
    # a second node on the same directory is refused (the directory is locked)
    rc, _, err = t.run("node", "run", "--data", d1, "--key", d1 + ".pem", "--nosync", timeout=30)
    assert rc == 4 and "in use" in err, (rc, err)
    assert t.status(d1)["running"] is True
    assert n1.stop() == 0

    # an encrypted node key: its passphrase from the config file's passphrase-fd;
    # a wrong one is exit 6
    root2 = t.tmpdir("hre-cli-node-")
    t.make_network(root2, 1, passphrase="node pass")
    d = os.path.join(root2, "node1")
    cfg = os.path.join(root2, "enc.conf")
    r, w = os.pipe()
    os.write(w, b"node pass\n")
    os.close(w)
    with open(cfg, "w") as f:
        f.write("data = %s\nkey = %s\npassphrase-fd = %d\nnosync = yes\n" % (d, d + ".pem", r))
    n = t.NodeProc(d, "--config", cfg, pass_fds=(r,))
    os.close(r)
    assert t.status(d)["height"] == 1
    assert n.stop() == 0
    assert "node pass" not in n.stderr()
    r, w = os.pipe()
    os.write(w, b"wrong\n")
    os.close(w)
    rc, _, err = t.run("node", "run", "--data", d, "--key", d + ".pem", "--passphrase-fd", r,
                       "--nosync", pass_fds=(r,), timeout=60)
    os.close(r)
    assert rc == 6 and "wrong\n" not in err, (rc, err)
    shutil.rmtree(root2, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    print("cli_node: ok")


if __name__ == "__main__":
    main()
