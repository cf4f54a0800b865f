"""The libhre node (include/hre/node.h) from Python: a sans-I/O peer-to-peer
engine on a Ledger. The node never touches a socket or a clock: the host
reports connections, hands received bytes in, takes the bytes to send out,
and calls tick() when next_timer() says so. This module runs the node in
PULL mode (the transport table has no methods, sys/transport.h): after any
call, take the queued bytes with pull() and write them to the connection.
That is the shape of an asyncio host (examples/node_asyncio.py): a reader
task feeds recv(), a writer drains pull(), a timer task ticks.

    node = Node(ledger, identity=key, now=now_ms())
    node.peer_connected(conn_id, "127.0.0.1:9000", outbound=True, now=now_ms())
    for conn, data in node.pull(): ...write data to conn...
    node.peer_recv(conn_id, data, now_ms())
    node.tick(now_ms())

Time is in MILLISECONDS (node.h); block times come from now // 1000.
Membership (who relays transactions) comes from the chain: register the
node keys (build_tx("register_node", ...)).

Threads and re-entrancy: one thread at a time per node (and its ledger).
on_event(NodeEvent) runs during the node call that raised it; it must not
call the node or its ledger (an exception in it is raised afterwards as
CallbackError, as for Ledger callbacks).

Lifetime: a Node borrows its Ledger (and identity Key): close the node
before the ledger (the Node keeps references so that garbage collection
frees it first). Since: libhre 1.1.
"""
import ctypes

from . import _ffi
from ._ffi import lib
from . import _check, _finish, _buf, _out, _Owned, _Value, _ledger_event, Tx, InvalidArgument
from . import EINVAL, ENOTFOUND, EEXHAUSTED, OK

c_u64 = ctypes.c_uint64

OUTBOUND = _ffi.CONSTANTS["HRE_NODE_PEER_OUTBOUND"]
EVENT_PEER_READY = _ffi.CONSTANTS["HRE_NODE_EVENT_PEER_READY"]
EVENT_PEER_DISCONNECTED = _ffi.CONSTANTS["HRE_NODE_EVENT_PEER_DISCONNECTED"]
EVENT_REFUSED = _ffi.CONSTANTS["HRE_NODE_EVENT_REFUSED"]
EVENT_LEDGER = _ffi.CONSTANTS["HRE_NODE_EVENT_LEDGER"]
EVENT_TX_ACCEPTED = _ffi.CONSTANTS["HRE_NODE_EVENT_TX_ACCEPTED"]
EVENT_APP_WRITABLE = _ffi.CONSTANTS["HRE_NODE_EVENT_APP_WRITABLE"]
EVENT_MEMBERSHIP = _ffi.CONSTANTS["HRE_NODE_EVENT_MEMBERSHIP"]
EVENT_FATAL = _ffi.CONSTANTS["HRE_NODE_EVENT_FATAL"]
MEMBER_LIVE = _ffi.CONSTANTS["HRE_NODE_MEMBER_LIVE"]

# hre_transport_methods is version + 3 function pointers; a buffer this size
# (rounded up) holds it. hre_transport_methods_init fills it.
_TRANSPORT_BYTES = 8 * 8


def reason_name(reason):
    """The static name of an HRE_NODE_REASON_* value ("invalid-pow", ...)."""
    return lib.hre_node_reason_name(reason).decode()


class NodeEvent(_Value):
    """A node event: type (EVENT_*), conn, reason (and reason_name), discouraged,
    member, detail (str), hash (TX_ACCEPTED: the txid), ledger (a LedgerEvent
    for EVENT_LEDGER, else None), now."""


class NodeStats(_Value):
    """Node-wide figures (hre_node_stats): peers, peers_ready, tip_height,
    best_header_height, synced, bytes_sent, bytes_received, blocks_received,
    txs_received, mem_used, ... (every field of the C struct)."""


def _node_event(p):
    e = p.contents
    return NodeEvent(type=e.type, conn=e.conn, reason=e.reason, reason_name=reason_name(e.reason),
                     discouraged=bool(e.discouraged), member=e.member,
                     detail=(e.detail or b"").decode(errors="replace"), hash=bytes(e.hash),
                     ledger=_ledger_event(e.ledger.contents) if e.ledger else None, now=e.now)


class Node(_Owned):
    """A node on an open Ledger (wraps hre_node *), in pull mode.

    identity: the node's Key registered on the chain (None: sync only).
    now: the host clock in ms. on_event(NodeEvent): every node event.
    Other keyword arguments set hre_node_options fields (max_peers,
    handshake_timeout_ms, ...; 0 = the library default)."""

    _free = "hre_node_free"

    def __init__(self, ledger, identity=None, *, now, on_event=None, **options):
        self._ptr = None
        self._errors = []
        self._ledger, self._identity = ledger, identity
        self._on_event = on_event
        self._cb = _ffi.NodeEventFn(self._event)
        self._tm = (ctypes.c_uint8 * _TRANSPORT_BYTES)()
        _check(lib.hre_transport_methods_init(ctypes.cast(self._tm, ctypes.c_void_p),
                                              _ffi.CONSTANTS["HRE_TRANSPORT_METHODS_VERSION"]))
        o = _ffi.HreNodeOptions()
        _check(lib.hre_node_options_init(ctypes.byref(o), _ffi.CONSTANTS["HRE_NODE_OPTIONS_VERSION"]))
        o.ledger = ledger._handle()
        o.identity = identity._ptr if identity is not None else None
        o.transport = ctypes.cast(self._tm, ctypes.c_void_p)
        o.on_event = self._cb
        names = {f[0] for f in _ffi.HreNodeOptions._fields_[9:]}
        for k, v in options.items():
            if k not in names:
                raise TypeError(f"Node: unknown option {k!r}")
            setattr(o, k, v)
        p = ctypes.c_void_p()
        rc = lib.hre_node_new(ctypes.byref(p), ctypes.byref(o), now)
        if rc == OK:
            self._ptr = p
        _finish("Node", rc, self, self._errors)

    def _event(self, _ud, p):
        if self._on_event is None:
            return
        try:
            self._on_event(_node_event(p))
        except BaseException as e:  # raised after the call (see _finish)
            self._errors.append(e)

    def _handle(self):
        if not self._ptr:
            raise InvalidArgument(EINVAL, "node is closed")
        return self._ptr

    def _done(self, call, rc, result=None):
        return _finish(call, rc, result, self._errors)

    @property
    def ledger(self):
        """The Ledger the node works on."""
        return self._ledger

    @property
    def fatal_error(self):
        """0 (OK), or the error code that made the node fatal."""
        return lib.hre_node_fatal_error(self._handle())

    def peer_connected(self, conn, address, *, outbound, now):
        """A connection is established (conn: the host's int id). Outbound:
        the node queues the first handshake message (pull() it)."""
        a = address.encode() if isinstance(address, str) else address
        rc = lib.hre_node_peer_connected(self._handle(), conn, a, OUTBOUND if outbound else 0, now)
        self._done("Node.peer_connected", rc)

    def peer_recv(self, conn, data, now):
        """Bytes received on conn. A protocol violation disconnects the peer
        and raises ProtocolError (the detail names the reason)."""
        b, n = _buf(data)
        self._done("Node.peer_recv", lib.hre_node_peer_recv(self._handle(), conn, b, n, now))

    def peer_closed(self, conn, now):
        """The host's connection is gone; False if the node had forgotten it."""
        rc = lib.hre_node_peer_closed(self._handle(), conn, now)
        if rc == ENOTFOUND:
            self._done("Node.peer_closed", OK)
            return False
        self._done("Node.peer_closed", rc)
        return True

    def peer_disconnect(self, conn, now):
        """Close a connection on the host's request (PEER_DISCONNECTED, LOCAL)."""
        self._done("Node.peer_disconnect", lib.hre_node_peer_disconnect(self._handle(), conn, now))

    def want_read(self, conn):
        """False while the host should stop reading conn (receive back-pressure)."""
        return bool(lib.hre_node_peer_want_read(self._handle(), conn))

    def pending(self, conn):
        """Bytes queued for conn."""
        return lib.hre_node_peer_pending(self._handle(), conn)

    def peer_pull(self, conn, limit=1 << 20):
        """Take up to limit queued bytes of conn (b"" when none wait)."""
        n = min(self.pending(conn), limit)
        if n == 0:
            return b""
        out, ln = _out(n), ctypes.c_size_t(n)
        _check(lib.hre_node_peer_pull(self._handle(), conn, out, ctypes.byref(ln)))
        return bytes(out)[: ln.value]

    def pull(self, chunk=65536):
        """Every queued (conn, bytes), drained in order per connection."""
        res = []
        out, conn = _out(chunk), c_u64(0)
        while True:
            ln = ctypes.c_size_t(chunk)
            rc = lib.hre_node_pull(self._handle(), ctypes.byref(conn), out, ctypes.byref(ln))
            if rc == ENOTFOUND:
                return res
            _check(rc)
            res.append((conn.value, bytes(out)[: ln.value]))

    def peers(self):
        """The ids of the live connections."""
        n = ctypes.c_size_t(0)
        rc = lib.hre_node_peer_list(self._handle(), None, ctypes.byref(n))
        if rc == OK:
            return []
        arr = (c_u64 * n.value)()
        _check(lib.hre_node_peer_list(self._handle(), arr, ctypes.byref(n)))
        return list(arr[: n.value])

    def next_timer(self):
        """When (ms) the node wants tick(); None when nothing is scheduled."""
        w = c_u64(0)
        _check(lib.hre_node_next_timer(self._handle(), ctypes.byref(w)))
        return None if w.value == (1 << 64) - 1 else w.value

    def tick(self, now):
        """Run the timers and waiting work due by now."""
        self._done("Node.tick", lib.hre_node_tick(self._handle(), now))

    def submit_tx(self, tx, now):
        """Submit a Tx (or its encoding) to the mempool and announce it to the
        live-member peers; returns its txid."""
        data = tx.encode() if isinstance(tx, Tx) else bytes(tx)
        b, n = _buf(data)
        txid, st = _out(32), ctypes.c_int(0)
        rc = lib.hre_node_submit_tx(self._handle(), txid, ctypes.byref(st), b, n, now)
        return _finish("Node.submit_tx", rc, bytes(txid), self._errors, st.value)

    def mine(self, now, max_nonces=1 << 20):
        """One bounded mining step: the new block's hash, or None if no nonce
        was found in this step (call again). The block is announced."""
        out, st = _out(32), ctypes.c_int(0)
        rc = lib.hre_node_mine(self._handle(), out, ctypes.byref(st), now, max_nonces)
        if rc == EEXHAUSTED:
            return self._done("Node.mine", OK, None)
        return _finish("Node.mine", rc, bytes(out), self._errors, st.value)

    def stats(self):
        """A NodeStats of the node-wide figures."""
        s = _ffi.HreNodeStats()
        _check(lib.hre_node_stats_init(ctypes.byref(s), _ffi.CONSTANTS["HRE_NODE_STATS_VERSION"]))
        _check(lib.hre_node_stats_get(self._handle(), ctypes.byref(s)))
        return NodeStats(**{f[0]: getattr(s, f[0]) for f in _ffi.HreNodeStats._fields_[1:]})
