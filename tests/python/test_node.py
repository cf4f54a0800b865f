#!/usr/bin/env python3
"""The node bindings (hre.Node, pull mode), by behaviour, on an in-process
loopback: two ledgers on one network (the network file), two nodes whose
bytes this test carries by hand (pull -> peer_recv). Checked: the handshake
(PEER_READY on both sides, peer_info READY with the identity key), block
sync (B reaches A's tip, LEDGER events forwarded), mining steps, transaction
relay between live members (TX_ACCEPTED on B with the txid), application
messages (handler gets the data and the sender's verified key), timers,
stats, a callback exception surfacing as CallbackError after the call,
disconnect (on_close with NodeReason.LOCAL, PEER_DISCONNECTED on both).

Usage: test_node.py   (HRE_LIBRARY points at libhre.so.1)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hre  # noqa: E402
from hre.node import Node, reason_name, reason_discourages  # noqa: E402

from checks import check, failures, checks  # noqa: E402


T0 = 1760000000
clock = [(T0 + 3600) * 1000]


class Loop:
    """Carries bytes between nodes: links[(node, conn)] = (peer node, peer conn)."""

    def __init__(self, *nodes):
        self.nodes, self.links = nodes, {}

    def link(self, a, ca, b, cb):
        self.links[(id(a), ca)] = (b, cb)
        self.links[(id(b), cb)] = (a, ca)
        a.peer_connected(ca, f"b:{cb}", clock[0], outbound=True)
        b.peer_connected(cb, f"a:{ca}", clock[0])

    def run(self, until, what, rounds=20000):
        for _ in range(rounds):
            moved = False
            for n in self.nodes:
                while True:
                    item = n.pull()
                    if item is None:
                        break
                    conn, data = item
                    peer = self.links.get((id(n), conn))
                    if peer is not None:
                        peer[0].peer_recv(peer[1], data, clock[0])
                        moved = True
            for n in self.nodes:
                t = n.next_timer()
                if t is not None and t <= clock[0]:
                    n.tick(clock[0])
                    moved = True
            if until():
                return True
            if not moved:
                clock[0] += 50
        check(False, f"{what}: not reached after {rounds} rounds")
        return False


def mine(node):
    for _ in range(1000):
        clock[0] += 1000
        h = node.mine(clock[0], 1 << 16)
        if h is not None:
            return h
    raise AssertionError("no block found")


def main():
    check(reason_name(hre.NodeReason.INVALID_POW) != "unknown", "reason_name")
    check(reason_discourages(hre.NodeReason.INVALID_POW)
          and not reason_discourages(hre.NodeReason.LOCAL), "reason_discourages")
    hospital, ka, kb = hre.Key.generate(), hre.Key.generate(), hre.Key.generate()
    net = hre.Network.private(hospital, "St Mary's", now=T0)
    sa, sb = hre.Storage.memory(), hre.Storage.memory()
    boom_once = [False]

    def ledger_hook(ev):
        if boom_once[0] and ev.type == hre.LEDGER_EVENT_BLOCK_CONNECTED:
            boom_once[0] = False
            raise ValueError("ledger hook failed")
    la = hre.Ledger(sa, network=net, on_event=ledger_hook)
    lb = hre.Ledger(sb, network=hre.Network.decode(net.encode()))
    nid = net.id
    # both node keys registered by the authority, in A's first block
    for i, k in enumerate((ka, kb)):
        la.submit_tx(hre.build_tx("register_node", nid, hospital, i, T0 + 60, node_key=k),
                     T0 + 60)

    ev_a, ev_b, closed_a = [], [], []
    a = Node(la, clock[0], identity=ka, on_event=ev_a.append,
             on_close=lambda conn, reason: closed_a.append((conn, reason)))
    b = Node(lb, clock[0], identity=kb, on_event=ev_b.append)
    try:
        la.close()
        check(False, "ledger closed under a running node")
    except hre.StateError:
        pass
    h1 = mine(a)
    check(la.tip() == (1, h1), "node A mined block 1")
    check(a.next_timer() is None or a.next_timer() > 0, "next_timer")

    loop = Loop(a, b)
    loop.link(a, 11, b, 22)
    check(sorted(a.peer_list()) == [11] and b.peer_list() == [22], "peer lists")
    ready = lambda evs: [e for e in evs if e.type == hre.NodeEventType.PEER_READY]  # noqa: E731
    loop.run(lambda: ready(ev_a) and ready(ev_b) and lb.tip() == la.tip(), "handshake and sync")
    check(ready(ev_a)[0].conn == 11 and ready(ev_b)[0].conn == 22, "PEER_READY names the conn")
    pi = a.peer_info(11)
    check(pi.state == hre.PeerState.READY and pi.outbound and pi.identity_key == kb.wire(),
          f"peer_info {pi.state} {pi.outbound}")
    check(b.peer_info(22).identity_key == ka.wire() and not b.peer_info(22).outbound,
          "B sees A's identity, inbound")
    check(lb.tip() == (1, h1), "B synced block 1")
    led = [e.ledger for e in ev_b if e.type == hre.NodeEventType.LEDGER]
    check(any(le.type == hre.LEDGER_EVENT_BLOCK_CONNECTED and le.block_hash == h1 for le in led),
          "B's node forwarded BLOCK_CONNECTED of block 1")
    loop.run(lambda: a.peer_info(11).member == hre.NodeMember.LIVE
             and b.peer_info(22).member == hre.NodeMember.LIVE, "membership LIVE")

    # the ledger's own on_event raising during a node call: the block stands,
    # CallbackError after Node.mine with the hash as .result
    boom_once[0] = True
    try:
        mine(a)
        check(False, "the ledger hook's exception was swallowed")
    except hre.CallbackError as e:
        check(e.call == "Node.mine" and e.result == la.tip()[1] and la.tip()[0] == 2
              and isinstance(e.__cause__, ValueError), f"ledger hook CallbackError {e!r}")
    # more blocks from A reach B
    for _ in range(2):
        mine(a)
    loop.run(lambda: lb.tip() == la.tip(), "relay of 3 more blocks")
    check(lb.tip()[0] == 4, f"B at height {lb.tip()[0]}")
    st = b.stats()
    check(st.tip_height == 4 and st.peers == 1 and st.peers_ready == 1 and st.synced
          and st.blocks_received >= 4, f"B stats {st}")

    # a transaction submitted through A reaches B's mempool
    p = hre.Key.generate()
    tx = hre.build_tx("register_patient", nid, p, 0, clock[0] // 1000)
    txid = a.submit_tx(tx, clock[0])
    check(txid == tx.txid(), "submit_tx returns the txid")
    acc = lambda: [e for e in ev_b if e.type == hre.NodeEventType.TX_ACCEPTED]  # noqa: E731
    loop.run(lambda: lb.in_mempool(txid), "tx relay")
    check(acc() and acc()[0].hash == txid and acc()[0].conn == 22, "TX_ACCEPTED on B")

    # application messages
    got = []
    b.app_register(7, lambda node, msg: got.append(msg))
    try:
        b.app_register(7, lambda node, msg: None)
        check(False, "second handler for the same type accepted")
    except hre.AlreadyExists:
        pass
    check(a.app_send_space(11, clock[0]) > 0, "app_send_space")
    check(a.app_send(11, 7, b"hello vault", clock[0]) is True, "app_send queued")
    loop.run(lambda: got, "app message")
    check(got and got[0].data == b"hello vault" and got[0].peer_key == ka.wire()
          and got[0].app_type == 7 and got[0].handshake_hash == b.peer_info(22).handshake_hash,
          "handler got the message and the sender's key")

    # an exception in a callback: the call succeeds, CallbackError afterwards
    def boom(node, msg):
        raise RuntimeError("handler failed")
    b.app_register(7, None)
    b.app_register(7, boom)
    a.app_send(11, 7, b"x", clock[0])
    item = a.pull()
    try:
        while item is not None:
            b.peer_recv(22, item[1], clock[0])
            item = a.pull()
        check(False, "the handler's exception was swallowed")
    except hre.CallbackError as e:
        check(isinstance(e.__cause__, RuntimeError) and e.call == "Node.peer_recv"
              and e.result is None, f"CallbackError {e!r}")

    # disconnect: on_close with LOCAL, PEER_DISCONNECTED on both sides
    a.peer_disconnect(11, clock[0])
    check(closed_a == [(11, hre.NodeReason.LOCAL)], f"on_close {closed_a}")
    gone = [e for e in ev_a if e.type == hre.NodeEventType.PEER_DISCONNECTED]
    check(gone and gone[0].reason == hre.NodeReason.LOCAL, "A: PEER_DISCONNECTED LOCAL")
    check(a.peer_list() == [], "A forgot the peer")
    b.peer_closed(22, clock[0])
    gone = [e for e in ev_b if e.type == hre.NodeEventType.PEER_DISCONNECTED]
    check(gone and gone[0].reason == hre.NodeReason.HOST_CLOSED, "B: PEER_DISCONNECTED HOST_CLOSED")
    try:
        a.peer_recv(11, b"\0", clock[0])
        check(False, "recv on a closed conn accepted")
    except hre.NotFound:
        pass
    check(a.fatal_error == hre.OK and a.discouraged() == [], "not fatal, nobody discouraged")

    a.close()
    b.close()
    la.close()
    lb.close()
    sa.close()
    sb.close()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        failures.append(repr(e))
        raise
    finally:
        print("node bindings:", "FAILED" if failures else f"all {checks[0]} checks passed",
              f"({len(failures)} failures)" if failures else "")
    sys.exit(1 if failures else 0)
