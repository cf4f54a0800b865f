#!/usr/bin/env python3
"""Two libhre nodes talking over real TCP sockets with asyncio.

The node is sans-I/O (include/hre/node.h): it never opens a socket or reads
a clock. This host does both: each node runs on its own ledger (POSIX
storage in a temporary directory), on asyncio streams on 127.0.0.1 (port 0,
so the system picks a free one), driven by the pull-mode calls:

    data_received  -> node.peer_recv(conn, data, now)
    after each call   node.pull() -> writer.write(data)
    a timer task      sleeps until node.next_timer(), then node.tick(now)
    on_close          (the node dropped a connection) -> writer.close()

The two ledgers share one network: the first institution makes it with
hre.Network.private and hands out the network file (Network.encode); the
second opens its ledger with Network.decode(file). Node A mines blocks (in
bounded steps, so the event loop stays responsive), node B receives them
and ends on the same tip with the same contract state. Every wait is on
state (an asyncio.Event the nodes' callbacks set) with a generous timeout,
never a fixed sleep.

Usage: node_asyncio.py [--blocks N] [--timeout SECONDS]
       (HRE_LIBRARY=build/libhre.so.1 PYTHONPATH=bindings/python)
"""
import argparse
import asyncio
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings",
                                "python"))
import hre  # noqa: E402
from hre.node import Node  # noqa: E402


def now_ms():
    """The host clock the node needs, in milliseconds."""
    return int(time.time() * 1000)


class Host:
    """One institution: a ledger, a node on it, its TCP connections."""

    def __init__(self, name, ledger, changed):
        self.name, self.ledger, self.changed = name, ledger, changed
        self.writers = {}          # conn id -> asyncio.StreamWriter
        self.next_conn = 1
        self.wake = asyncio.Event()
        self.ready = set()
        self.node = Node(ledger, now_ms(), on_event=self.on_event, on_close=self.on_close)
        self.timer = asyncio.get_running_loop().create_task(self.timer_task())

    def on_event(self, ev):
        if ev.type == hre.NodeEventType.PEER_READY:
            self.ready.add(ev.conn)
            print(f"[{self.name}] peer {ev.conn} ready")
        elif ev.type == hre.NodeEventType.PEER_DISCONNECTED:
            self.ready.discard(ev.conn)
            print(f"[{self.name}] peer {ev.conn} gone: {hre.node.reason_name(ev.reason)}")
        elif ev.type == hre.NodeEventType.LEDGER and \
                ev.ledger.type == hre.LEDGER_EVENT_BLOCK_CONNECTED:
            print(f"[{self.name}] block {ev.ledger.height} connected "
                  f"{ev.ledger.block_hash[::-1].hex()[:16]}...")
        self.changed.set()

    def on_close(self, conn, reason):
        # the node has forgotten conn already: close our end
        w = self.writers.pop(conn, None)
        if w is not None:
            w.close()

    def flush(self):
        """Hand every queued byte to its socket, then let the timer task
        look at next_timer again."""
        while True:
            item = self.node.pull()
            if item is None:
                break
            conn, data = item
            w = self.writers.get(conn)
            if w is not None:
                w.write(data)
        self.wake.set()

    async def timer_task(self):
        while True:
            when = self.node.next_timer()
            delay = None if when is None else max(0.0, (when - now_ms()) / 1000)
            self.wake.clear()
            if delay is None or delay > 0:
                try:
                    await asyncio.wait_for(self.wake.wait(), delay)
                    continue               # something changed: look at the timer again
                except asyncio.TimeoutError:
                    pass
            else:
                await asyncio.sleep(0)     # let the sockets run between ticks
            self.node.tick(now_ms())
            self.flush()

    async def serve(self, reader, writer, outbound):
        """Run one connection until EOF, a reset, or the node dropping it."""
        conn = self.next_conn
        self.next_conn += 1
        peer = "%s:%d" % writer.get_extra_info("peername")[:2]
        self.writers[conn] = writer
        self.node.peer_connected(conn, peer, now_ms(), outbound=outbound)
        self.flush()
        try:
            while conn in self.writers:
                data = await reader.read(65536)
                if not data:
                    break
                if conn not in self.writers:
                    break
                try:
                    self.node.peer_recv(conn, data, now_ms())
                except hre.ProtocolError as e:
                    print(f"[{self.name}] peer {conn} broke the protocol: {e}")
                    break
                finally:
                    self.flush()
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            if self.writers.pop(conn, None) is not None:
                self.node.peer_closed(conn, now_ms())
                writer.close()
            self.changed.set()

    async def mine(self, count):
        """Mine count blocks in bounded steps (the event loop keeps running)."""
        hashes = []
        while len(hashes) < count:
            h = self.node.mine(now_ms(), 1 << 14)
            if h is not None:
                hashes.append(h)
            self.flush()
            await asyncio.sleep(0)
        return hashes

    async def close(self):
        for conn in list(self.writers):
            self.node.peer_disconnect(conn, now_ms())   # on_close closes the writer
        self.timer.cancel()
        try:
            await self.timer
        except asyncio.CancelledError:
            pass
        self.node.close()


def require(cond, what):
    """Stop with a failure message unless cond holds."""
    if not cond:
        raise SystemExit(f"FAIL: {what}")


async def until(changed, cond, what, timeout):
    """Wait (event-driven) until cond() holds; fail after timeout seconds."""
    async def waiter():
        while not cond():
            changed.clear()
            await changed.wait()
    try:
        await asyncio.wait_for(waiter(), timeout)
    except asyncio.TimeoutError:
        raise SystemExit(f"FAIL: {what} not reached within {timeout} s")


async def run(blocks, timeout, tmp):
    changed = asyncio.Event()
    hospital = hre.Key.generate()
    net = hre.Network.private(hospital, "St Mary's Hospital", now=int(time.time()) - 3600)
    network_file = net.encode()
    print(f"network {net.id[::-1].hex()[:16]}..., network file {len(network_file)} bytes")
    dir_a, dir_b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    sa, sb = hre.Storage.posix(dir_a), hre.Storage.posix(dir_b)
    la = hre.Ledger(sa, network=net)
    lb = hre.Ledger(sb, network=hre.Network.decode(network_file))   # the second institution
    a, b = Host("A", la, changed), Host("B", lb, changed)

    server = await asyncio.start_server(lambda r, w: b.serve(r, w, outbound=False),
                                        "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"B listens on 127.0.0.1:{port}")

    first = blocks // 2
    await a.mine(first)                     # some blocks before B is connected (sync) ...
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    conn_task = asyncio.get_running_loop().create_task(a.serve(reader, writer, outbound=True))
    await until(changed, lambda: a.ready and b.ready, "handshake", timeout)
    await until(changed, lambda: lb.tip() == la.tip(), "initial sync", timeout)
    await a.mine(blocks - first)            # ... and some after (relay)
    await until(changed, lambda: lb.tip() == la.tip(), "relay of the new blocks", timeout)

    height, tip = la.tip()
    require(height == blocks, f"A's height {height}, want {blocks}")
    require(lb.tip() == (height, tip), "B's tip differs from A's")
    require(lb.contract.state_hash() == la.contract.state_hash(), "contract states differ")
    require(lb.fingerprint() == la.fingerprint(), "network fingerprints differ")
    st = b.node.stats()
    print(f"B: tip {height}, {st.blocks_received} blocks received, "
          f"{st.bytes_received} bytes in, synced={st.synced}")

    await a.close()                         # A drops the connection; B sees EOF
    await until(changed, lambda: not b.writers, "B noticing the close", timeout)
    await conn_task
    await b.close()
    server.close()
    await server.wait_closed()
    la.close()
    lb.close()
    sa.close()
    sb.close()

    # B's ledger is durable and knows its network: reopen it from the directory alone
    sb = hre.Storage.posix(dir_b)
    with hre.Ledger(sb) as again:
        require(again.tip() == (height, tip) and again.network_id == net.id,
                "B's reopened ledger lost its tip or its network")
    sb.close()
    print(f"OK: B reached A's tip {tip[::-1].hex()[:16]}... at height {height} over TCP")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hre-node-asyncio-") as tmp:
        asyncio.run(run(args.blocks, args.timeout, tmp))


if __name__ == "__main__":
    main()
