#!/usr/bin/env python3
"""A libhre node on asyncio streams (bindings/python/hre/node.py).

The node is sans-I/O and runs in pull mode, which fits asyncio directly:

- a reader task per connection feeds node.peer_recv (and pauses while
  node.want_read says so: receive back-pressure);
- a writer task per connection drains node.peer_pull and awaits
  writer.drain() (send back-pressure: what the socket cannot take yet stays
  queued in the node, counted against its per-peer cap);
- one timer task sleeps until node.next_timer() (or until woken by new work)
  and calls node.tick.

All node calls happen on the event loop's thread, one at a time.

Run it:  PYTHONPATH=bindings/python HRE_LIBRARY=build/libhre.so.1 \\
         python3 examples/node_asyncio.py
It plays a two-node exchange on 127.0.0.1 (both nodes in this process, each
with its own memory ledger, talking only over TCP streams): node A registers
both node keys and mines block 1, which crosses to B; B submits a patient
registration, which crosses to A; A mines it into block 2, which crosses to
B; both end on the same tip. Exit status 0 on success, 1 on a failure or a
timeout (60 s per step; HRE_ASYNCIO_TIMEOUT overrides).
"""
import asyncio
import os
import sys
import time

import hre
from hre.node import (Node, EVENT_PEER_DISCONNECTED, EVENT_PEER_READY, EVENT_TX_ACCEPTED,
                      EVENT_MEMBERSHIP, MEMBER_LIVE)

STEP_TIMEOUT = float(os.environ.get("HRE_ASYNCIO_TIMEOUT", "60"))


def now_ms():
    return int(time.time() * 1000)


class AsyncioNodeHost:
    """Runs one Node over asyncio streams. serve() listens, connect() dials;
    close() stops every task and connection (then close the node yourself)."""

    def __init__(self, name):
        self.name = name
        self.node = None
        self.ready = set()        # conns whose handshake completed
        self.txs_in = []          # txids accepted from peers
        self._writers = {}        # conn -> StreamWriter
        self._wake_conn = {}      # conn -> asyncio.Event (bytes to send)
        self._gone = set()        # conns the node disconnected (seen in events)
        self._tasks = set()
        self._next = 1
        self._wake = asyncio.Event()
        self._server = None
        self._closing = False

    def attach(self, node):
        """Give the host its node (created with on_event=host.on_event)."""
        self.node = node
        self._spawn(self._timers())

    def on_event(self, ev):
        """The node's event callback: no node calls in here (node.h)."""
        if ev.type == EVENT_PEER_READY:
            self.ready.add(ev.conn)
        elif ev.type == EVENT_PEER_DISCONNECTED:
            self.ready.discard(ev.conn)
            self._gone.add(ev.conn)
        elif ev.type == EVENT_TX_ACCEPTED:
            self.txs_in.append(ev.hash)
        elif ev.type == EVENT_MEMBERSHIP and ev.member == MEMBER_LIVE:
            print(f"  [{self.name}] peer {ev.conn} is a live member", flush=True)

    def _spawn(self, coro):
        t = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)
        return t

    def flush(self, wake_timer=True):
        """After every node call: wake the writers and (the call may have
        moved next_timer) the timer task, and close connections the node
        dropped."""
        for conn in list(self._gone):
            self._gone.discard(conn)
            w = self._writers.pop(conn, None)
            if w:
                w.close()
            ev = self._wake_conn.pop(conn, None)
            if ev:
                ev.set()
        for conn, ev in self._wake_conn.items():
            if self.node.pending(conn):
                ev.set()
        if wake_timer:
            self._wake.set()

    async def serve(self, host="127.0.0.1", port=0):
        """Listen; returns the bound port."""
        self._server = await asyncio.start_server(
            lambda r, w: self._attach_stream(r, w, outbound=False), host, port)
        return self._server.sockets[0].getsockname()[1]

    async def connect(self, host, port):
        """Dial a peer; returns the connection id."""
        r, w = await asyncio.open_connection(host, port)
        return self._attach_stream(r, w, outbound=True)

    def _attach_stream(self, reader, writer, outbound):
        conn = self._next
        self._next += 1
        peer = writer.get_extra_info("peername")
        self._writers[conn] = writer
        self._wake_conn[conn] = asyncio.Event()
        self.node.peer_connected(conn, "%s:%d" % peer[:2], outbound=outbound, now=now_ms())
        self._spawn(self._reader(conn, reader))
        self._spawn(self._writer(conn, writer))
        self.flush()
        return conn

    async def _reader(self, conn, reader):
        try:
            while conn in self._writers:
                while not self.node.want_read(conn) and conn in self._writers:
                    await asyncio.sleep(0.01)   # ticks drain the backlog meanwhile
                data = await reader.read(65536)
                if not data:
                    break
                try:
                    self.node.peer_recv(conn, data, now_ms())
                except hre.ProtocolError as e:
                    print(f"  [{self.name}] peer {conn} dropped: {e}", flush=True)
                except hre.NotFound:
                    break
                self.flush()
        except (ConnectionError, OSError):
            pass
        finally:
            if self._writers.pop(conn, None) is not None:
                self.node.peer_closed(conn, now_ms())
                self.flush()

    async def _writer(self, conn, writer):
        ev = self._wake_conn[conn]
        try:
            while conn in self._writers:
                await ev.wait()
                ev.clear()
                while conn in self._writers:
                    data = self.node.peer_pull(conn, 65536)
                    if not data:
                        break
                    writer.write(data)
                    await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _timers(self):
        # (a flag, not only cancel(): Python 3.11's wait_for can swallow a
        # cancellation that races with the event it waits on)
        while not self._closing:
            when = self.node.next_timer()
            delay = None if when is None else max(0.0, (when - now_ms()) / 1000.0)
            if delay is None or delay > 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except asyncio.TimeoutError:
                    pass
            self._wake.clear()
            if self._closing:
                break
            self.node.tick(now_ms())
            self.flush(wake_timer=False)
            await asyncio.sleep(0)

    async def close(self):
        """Stop serving, close every connection, cancel the tasks."""
        self._closing = True
        self._wake.set()
        if self._server:
            self._server.close()
            self._server = None   # (wait_closed would wait for live connections in newer Pythons)
        for w in self._writers.values():
            w.close()
        self._writers.clear()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def wait_until(what, cond):
    end = time.monotonic() + STEP_TIMEOUT
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out ({STEP_TIMEOUT:.0f} s) waiting for {what}")
        await asyncio.sleep(0.01)


def mine(host):
    while True:
        h = host.node.mine(now_ms())
        if h is not None:
            host.flush()
            return h


async def demo():
    auth, ka, kb, patient = (hre.Key.generate() for _ in range(4))
    params = hre.ChainParams.regtest(genesis_time=int(time.time()) - 3600)
    storages = [hre.Storage.memory(), hre.Storage.memory()]
    la = hre.Ledger(storages[0], params, auth.wire(), genesis_org_name="St. Mary's Hospital")
    lb = hre.Ledger(storages[1], params, auth.wire(), genesis_org_name="St. Mary's Hospital")
    net = la.network_id
    a, b = AsyncioNodeHost("A"), AsyncioNodeHost("B")
    a.attach(Node(la, ka, now=now_ms(), on_event=a.on_event))
    b.attach(Node(lb, kb, now=now_ms(), on_event=b.on_event))
    try:
        port = await a.serve()
        await b.connect("127.0.0.1", port)
        print(f"A listens on 127.0.0.1:{port}; B dialled it", flush=True)
        await wait_until("the handshake", lambda: a.ready and b.ready)

        t = int(time.time())
        for nonce, k in enumerate((ka, kb)):
            a.node.submit_tx(hre.build_tx("register_node", net, auth, nonce, t, node_key=k.wire()), now_ms())
        h1 = mine(a)
        print(f"A mined block 1 {h1[::-1].hex()[:16]}.. (both node keys)", flush=True)
        await wait_until("block 1 at B", lambda: lb.tip() == la.tip())
        print("block 1 crossed to B over asyncio streams", flush=True)
        await wait_until("membership", lambda: b.node.stats().peers_ready == 1 and
                         a.node.stats().peers_ready == 1)

        txid = b.node.submit_tx(hre.build_tx("register_patient", net, patient, 0, t), now_ms())
        b.flush()
        # membership is re-checked on the block connected at each side; the
        # announcement goes to peers that are live members at submit time
        await wait_until("the tx at A", lambda: la.in_mempool(txid))
        print(f"B's transaction {txid.hex()[:16]}.. crossed to A", flush=True)
        mine(a)
        await wait_until("block 2 at B", lambda: lb.tip() == la.tip())
        height, tip = lb.tip()
        assert height == 2 and not lb.in_mempool(txid), (height, lb.in_mempool(txid))
        print(f"block 2 crossed to B: both at height {height}, tip {tip[::-1].hex()[:16]}..",
              flush=True)
    finally:
        await a.close()
        await b.close()
        a.node.close()
        b.node.close()
        la.close()
        lb.close()
        for s in storages:
            s.close()
    print("ok", flush=True)


def main():
    try:
        asyncio.run(demo())
    except Exception as e:  # noqa: BLE001 - report and fail
        print(f"node_asyncio: FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
