#!/usr/bin/env python3
"""hre.node (bindings/python/hre/node.py) without sockets: two pull-mode
nodes whose bytes the test carries by hand (node.pull -> other.peer_recv).
Checks the handshake events, a mined block crossing, peers/stats/next_timer,
a protocol violation (ProtocolError, PEER_DISCONNECTED with its reason), an
exception in on_event (CallbackError after the call) and option checking.
"""
import sys
import time

import hre
from hre.node import Node, EVENT_PEER_READY, EVENT_PEER_DISCONNECTED, reason_name

failures = []


def check(cond, what):
    if cond:
        print("ok:", what)
    else:
        print("FAIL:", what)
        failures.append(what)


def now_ms():
    return int(time.time() * 1000)


def shuttle(pairs, rounds=200):
    """pairs: {(node, conn): (other, other_conn)}; carry bytes until quiet."""
    for _ in range(rounds):
        moved = False
        for node in {n for n, _ in pairs}:
            for conn, data in node.pull():
                other, oconn = pairs[(node, conn)]
                other.peer_recv(oconn, data, now_ms())
                moved = True
            when = node.next_timer()
            if when is not None and when <= now_ms():
                node.tick(now_ms())
                moved = True
        if not moved:
            return


def main():
    auth, ka, kb = hre.Key.generate(), hre.Key.generate(), hre.Key.generate()
    params = hre.ChainParams.regtest(genesis_time=int(time.time()) - 3600)
    sa, sb = hre.Storage.memory(), hre.Storage.memory()
    la, lb = hre.Ledger(sa, params, auth.wire()), hre.Ledger(sb, params, auth.wire())
    ev_a, ev_b = [], []
    a = Node(la, ka, now=now_ms(), on_event=ev_a.append)
    b = Node(lb, kb, now=now_ms(), on_event=ev_b.append)
    check(a.ledger is la and a.fatal_error == 0, "ledger and fatal_error accessors")

    b.peer_connected(7, "a", outbound=True, now=now_ms())
    a.peer_connected(9, "b", outbound=False, now=now_ms())
    check(b.pending(7) > 0 and a.pending(9) == 0, "the outbound side writes first")
    pairs = {(b, 7): (a, 9), (a, 9): (b, 7)}
    shuttle(pairs)
    check(any(e.type == EVENT_PEER_READY and e.conn == 9 for e in ev_a) and
          any(e.type == EVENT_PEER_READY and e.conn == 7 for e in ev_b), "PEER_READY on both sides")
    check(a.peers() == [9] and b.peers() == [7], "peers() lists the connection ids")
    st = a.stats()
    check(st.peers == 1 and st.peers_ready == 1 and st.tip_height == 0, "stats: one ready peer, tip 0")
    check(isinstance(a.next_timer(), int), "next_timer is a time while a peer is up")

    h = None
    while h is None:
        h = a.mine(now_ms())
    shuttle(pairs)
    check(lb.tip() == la.tip() and la.tip()[0] == 1, "a mined block crossed to b")
    check(any(e.type == hre.node.EVENT_LEDGER and e.ledger is not None for e in ev_b),
          "ledger events are forwarded with their LedgerEvent")

    # a protocol violation on a fresh inbound connection
    a.peer_connected(11, "mallory", outbound=False, now=now_ms())
    try:
        a.peer_recv(11, b"\x00\x48" + b"\xff" * 72, now_ms())   # a frame of garbage
        check(False, "garbage handshake raises ProtocolError")
    except hre.ProtocolError as e:
        check("11" in str(e) or e.detail, "garbage handshake raises ProtocolError (%s)" % e.detail)
    d = [e for e in ev_a if e.type == EVENT_PEER_DISCONNECTED and e.conn == 11]
    check(len(d) == 1 and d[0].reason_name == reason_name(d[0].reason) != "unknown",
          "PEER_DISCONNECTED names its reason (%s)" % (d[0].reason_name if d else "-"))
    check(a.peer_closed(11, now_ms()) is False, "peer_closed on a forgotten conn is False")

    # an exception in on_event surfaces after the call
    def boom(_ev):
        raise RuntimeError("boom")
    a._on_event = boom
    try:
        b.peer_closed(7, now_ms())
        a.peer_closed(9, now_ms())
        check(False, "CallbackError after an on_event exception")
    except hre.CallbackError as e:
        check(isinstance(e.errors[0], RuntimeError) if hasattr(e, "errors") else True,
              "CallbackError after an on_event exception")
    a._on_event = ev_a.append
    check(a.peers() == [] and b.peers() == [], "both sides forgot the connection")

    try:
        Node(la, None, now=now_ms(), no_such_option=1)
        check(False, "an unknown option is a TypeError")
    except TypeError:
        check(True, "an unknown option is a TypeError")

    a.close()
    b.close()
    try:
        a.tick(now_ms())
        check(False, "a closed node raises InvalidArgument")
    except hre.InvalidArgument:
        check(True, "a closed node raises InvalidArgument")
    la.close()
    lb.close()
    sa.close()
    sb.close()
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("node bindings: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
