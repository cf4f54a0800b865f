"""The peer-to-peer node (include/hre/node.h), sans-I/O, in pull mode.

A Node works on one open Ledger and never opens a socket, reads a clock or
starts a thread: the host owns the connections, names each with its own
integer id and moves the bytes.

    node = hre.Node(ledger, now_ms, on_event=print, on_close=closed)
    node.peer_connected(conn, "10.0.0.2:7000", now_ms, outbound=True)
    node.peer_recv(conn, data, now_ms)          # bytes the socket received
    while (item := node.pull()) is not None:    # bytes the node wants sent
        conn, data = item
        writers[conn].write(data)
    when = node.next_timer()                    # call node.tick(when) then

Time is in MILLISECONDS everywhere (the ledger gets now // 1000). The
transport is pull mode: the node only queues, the host drains with pull() /
peer_pull() after each call. on_close(conn, reason) is the transport's close
method (the node forgot the connection; the host closes its socket);
on_connect(address) -> conn, when given, lets the node dial (address book,
Node.connect).

Callbacks (on_event, on_close, on_connect, app handlers, log) follow the
package's rule: an exception in one never makes the node call that ran it
look failed; it is raised after the call as hre.CallbackError (.result is
what the method returned), or with the call's own HreError in
.callback_errors. Exceptions raised by the Ledger's own on_event during a
node call (the node forwards ledger events to it) are raised the same way.
From inside a callback only app_send, app_send_space, peer_disconnect and
the queries may be called (the library refuses the rest with StateError).

Close the Node before its Ledger (Ledger.close raises StateError while a
node is on it).
"""
import ctypes

from . import _ffi
from ._ffi import lib
from . import (_check, _finish, _Owned, _Value, _Trampoline, _log_hook, _buf,
               _bytes, _out, _ledger_event, _as_enum, Tx, InvalidArgument,
               OK, EINVAL, EAGAIN, EBUFSIZE, EEXHAUSTED, ENOTFOUND, EIO)
from ._enums import NodeReason, NodeEventType, PeerState, NodeMember

__all__ = ["Node", "NodeEvent", "AppMessage", "PeerInfo", "NodeStats", "Discouraged",
           "reason_name", "reason_discourages"]

_U64_MAX = (1 << 64) - 1
_OPTION_NAMES = [f for f, _ in _ffi.HreNodeOptions._fields_[9:]]


class NodeEvent(_Value):
    """A node event (struct hre_node_event): type (NodeEventType), conn,
    reason (NodeReason), discouraged (bool), member (NodeMember), detail
    (str), hash (TX_ACCEPTED: the txid; else None), ledger (LEDGER: a
    LedgerEvent; else None), now (ms)."""


class AppMessage(_Value):
    """A received application message (struct hre_node_app_message):
    app_type, conn, data (bytes), peer_key (34-byte wire key), peer_address,
    peer_org, handshake_hash (the channel binding), now (ms)."""


class PeerInfo(_Value):
    """What the node knows about a connection (struct hre_node_peer_info):
    conn, address, outbound (bool), state (PeerState), identity_key (None
    without one), member (NodeMember), member_address / org_id (None unless
    a live member), handshake_hash, best_height, connected_at, last_recv,
    bytes_sent, bytes_received, messages_received, mem_used,
    blocks_in_flight, headers_held, send_queued."""


class NodeStats(_Value):
    """Node-wide figures (struct hre_node_stats): member (NodeMember),
    peers, peers_ready, peers_outbound, mem_used, mem_peak, mem_cap,
    headers_held, blocks_in_flight, blocks_buffered, tip_height,
    best_header_height, synced (bool), discouraged, bytes_sent,
    bytes_received, blocks_received, txs_received, messages_deferred,
    stall_timeout_ms."""


class Discouraged(_Value):
    """A discouragement list entry (struct hre_node_discouraged): reason
    (NodeReason), key (34-byte identity key or None), address (str), time (ms)."""


def reason_name(reason):
    """The library's name of a NodeReason ("invalid-pow", ...; "unknown")."""
    return lib.hre_node_reason_name(int(reason)).decode()


def reason_discourages(reason):
    """True if a disconnect for this reason puts the peer on the
    discouragement list."""
    return lib.hre_node_reason_discourages(int(reason)) == 1


def _node_event(e):
    t = _as_enum(NodeEventType, e.type)
    return NodeEvent(type=t, conn=e.conn, reason=_as_enum(NodeReason, e.reason),
                     discouraged=bool(e.discouraged), member=_as_enum(NodeMember, e.member),
                     detail=(e.detail or b"").decode(errors="replace"),
                     hash=bytes(e.hash) if t == NodeEventType.TX_ACCEPTED else None,
                     ledger=_ledger_event(e.ledger.contents) if e.ledger else None, now=e.now)


def _app_message(m):
    return AppMessage(app_type=m.app_type, conn=m.conn,
                      data=ctypes.string_at(m.data, m.len) if m.len else b"",
                      peer_key=bytes(m.peer_key), peer_address=bytes(m.peer_address),
                      peer_org=bytes(m.peer_org), handshake_hash=bytes(m.handshake_hash),
                      now=m.now)


def _discouraged(d):
    return Discouraged(reason=_as_enum(NodeReason, d.reason),
                       key=bytes(d.key) if d.has_key else None,
                       address=d.address.decode(errors="replace"), time=d.time)


class Node(_Owned):
    """A peer-to-peer node on an open Ledger (wraps hre_node *), in pull
    mode. now: the host's clock in ms. identity: the node's Key registered
    on the chain with register_node (None: sync only, no transaction or app
    exchange). on_event(NodeEvent); on_close(conn, NodeReason): the node
    dropped a connection, close the socket; on_connect(address) -> conn id:
    open a connection (report it with peer_connected, or peer_closed if it
    fails); log(level, message). Other keyword options are the fields of
    struct hre_node_options (max_peers, handshake_timeout_ms,
    app_max_message, ...; 0 = the library's default)."""

    _free = "hre_node_free"

    def __init__(self, ledger, now, *, identity=None, on_event=None, on_close=None,
                 on_connect=None, log=None, **options):
        self._ptr = None
        unknown = set(options) - set(_OPTION_NAMES)
        if unknown:
            raise TypeError(f"Node: unknown options {sorted(unknown)}")
        self._errors = []
        self._busy = False
        self._apps = {}
        self._on_event, self._raw_hooks, self._attached = on_event, [], []
        self._ev = _Trampoline(_ffi.NodeEventFn, self._deliver, lambda f, _u, ev: f(ev),
                               self._errors)
        self._log = _log_hook(log, self._errors)
        self._close = _Trampoline(_ffi.TransportCloseFn, on_close,
                                  lambda f, _u, conn, reason: f(conn, _as_enum(NodeReason, reason)),
                                  self._errors)
        self._connect = self._connect_hook(on_connect)
        tm = _ffi.HreTransportMethods()
        _check(lib.hre_transport_methods_init(ctypes.byref(tm), _ffi.CONSTANTS[
            "HRE_TRANSPORT_METHODS_VERSION"]))
        tm.send = _ffi.TransportSendFn()          # NULL: pull mode
        tm.connect = self._connect
        tm.close = self._close.c
        self._tm = tm
        o = _ffi.HreNodeOptions()
        _check(lib.hre_node_options_init(ctypes.byref(o), _ffi.CONSTANTS["HRE_NODE_OPTIONS_VERSION"]))
        o.ledger = ledger._handle()
        o.identity = identity._ptr if identity is not None else None
        o.transport = ctypes.pointer(tm)
        o.on_event = self._ev.c
        o.log_fn = self._log.c
        for k, v in options.items():
            setattr(o, k, v)
        p = ctypes.c_void_p()
        rc = lib.hre_node_new(ctypes.byref(p), ctypes.byref(o), now)
        if rc == OK:
            self._ptr, self.ledger, self._identity = p, ledger, identity
            ledger._nodes = getattr(ledger, "_nodes", 0) + 1
        self._done("Node", rc, self)

    def _deliver(self, ev):
        """The node's event callback: the raw event to the attached hooks
        (the document exchange), then a NodeEvent to on_event."""
        for hook in list(self._raw_hooks):
            try:
                hook(ev)
            except BaseException as e:  # noqa: B902 - raised after the node call
                self._errors.append(e)
        if self._on_event is not None:
            self._on_event(_node_event(ev.contents))

    def _connect_hook(self, fn):
        if fn is None:
            return _ffi.TransportConnectFn()
        errors = self._errors

        def tramp(_user, conn_out, address):
            try:
                conn_out[0] = int(fn(address.decode(errors="replace")))
                return OK
            except BaseException as e:  # noqa: B902 - raised after the node call
                errors.append(e)
                return EIO
        return _ffi.TransportConnectFn(tramp)

    def _release(self):
        super()._release()
        self.ledger._nodes -= 1

    def _handle(self):
        if not self._ptr:
            raise InvalidArgument(EINVAL, "node is closed")
        return self._ptr

    def _call(self, fn, *args):
        """Run a node call; (rc, outer): outer is False when made from
        inside one of this node's callbacks."""
        h = self._handle()
        outer = not self._busy
        self._busy = True
        try:
            return fn(h, *args), outer
        finally:
            if outer:
                self._busy = False

    def _done(self, call, rc, result, status=None, outer=True):
        if not outer:
            _check(rc, status)
            return result
        led = getattr(self, "ledger", None)
        if led is not None and led._errors:
            self._errors.extend(led._errors)
            del led._errors[:]
        return _finish(call, rc, result, self._errors, status)

    def _run(self, call, fn, *args, result=None):
        rc, outer = self._call(fn, *args)
        return self._done(call, rc, result, outer=outer)

    def close(self):
        """Free the node (connections are dropped without calling on_close;
        the ledger's previous event callback is restored; the ledger stays
        open); a hre.vault.Exchange still on it is closed first. Calling it
        again does nothing."""
        for obj in list(getattr(self, "_attached", [])):
            obj.close()
        super().close()
        _finish("Node.close", OK, None, self._errors)

    def __del__(self):
        try:
            for obj in list(getattr(self, "_attached", [])):
                _Owned.close(obj)           # an Exchange goes before its node
            _Owned.close(self)
        finally:
            del getattr(self, "_errors", [])[:]

    # -- connections -------------------------------------------------------

    def peer_connected(self, conn, address, now, outbound=False):
        """A connection is established (outbound: this node dialled and
        writes first). address: the host's name for the peer (str or None).
        AuthError: the address is discouraged; LimitExceeded: max_peers or
        memory cap (the host closes the socket in both cases)."""
        addr = address.encode() if isinstance(address, str) else address
        flags = _ffi.CONSTANTS["HRE_NODE_PEER_OUTBOUND"] if outbound else 0
        self._run("Node.peer_connected", lib.hre_node_peer_connected, conn, addr, flags, now)

    def peer_recv(self, conn, data, now):
        """Bytes received on conn (any split). ProtocolError: they broke the
        protocol and the peer was disconnected (on_close was called)."""
        b, n = _buf(data)
        self._run("Node.peer_recv", lib.hre_node_peer_recv, conn, b if n else None, n, now)

    def peer_writable(self, conn, now):
        """conn can take bytes again (push-mode back-pressure; harmless in pull mode)."""
        self._run("Node.peer_writable", lib.hre_node_peer_writable, conn, now)

    def peer_closed(self, conn, now):
        """The host's connection is gone (EOF, reset, failed dial)."""
        self._run("Node.peer_closed", lib.hre_node_peer_closed, conn, now)

    def peer_disconnect(self, conn, now):
        """Close conn on the host's request (event, then on_close). Allowed
        inside callbacks."""
        self._run("Node.peer_disconnect", lib.hre_node_peer_disconnect, conn, now)

    def peer_want_read(self, conn):
        """False while conn's unprocessed input is over half its cap (stop
        reading it, keep ticking); True otherwise."""
        return lib.hre_node_peer_want_read(self._handle(), conn) == 1

    def peer_pending(self, conn):
        """Bytes queued for conn, waiting to be pulled."""
        return lib.hre_node_peer_pending(self._handle(), conn)

    def peer_pull(self, conn, max_bytes=None):
        """Take up to max_bytes (default: all) of conn's queued bytes."""
        n = self.peer_pending(conn) if max_bytes is None else max_bytes
        if n == 0:
            return b""
        out, ln = _out(n), ctypes.c_size_t(n)
        self._run("Node.peer_pull", lib.hre_node_peer_pull, conn, out, ctypes.byref(ln))
        return bytes(out)[: ln.value]

    def pull(self, max_bytes=65536):
        """(conn, bytes) queued for some connection (round-robin), or None
        when nothing waits: drain with `while (x := node.pull())`."""
        out, ln, conn = _out(max_bytes), ctypes.c_size_t(max_bytes), ctypes.c_uint64(0)
        rc, outer = self._call(lib.hre_node_pull, ctypes.byref(conn), out, ctypes.byref(ln))
        if rc == ENOTFOUND:
            rc = OK
            ln.value = 0
        self._done("Node.pull", rc, None, outer=outer)
        return (conn.value, bytes(out)[: ln.value]) if ln.value else None

    def peer_list(self):
        """Ids of the live connections."""
        n = ctypes.c_size_t(0)
        while True:
            cap = n.value
            arr = (ctypes.c_uint64 * max(1, cap))()
            rc = lib.hre_node_peer_list(self._handle(), arr if cap else None, ctypes.byref(n))
            if rc == EBUFSIZE and n.value > cap:
                continue
            _check(rc)
            return [arr[i] for i in range(n.value)]

    def peer_info(self, conn):
        """A PeerInfo for a live connection; NotFound otherwise."""
        pi = _ffi.HreNodePeerInfo()
        _check(lib.hre_node_peer_info_init(ctypes.byref(pi), _ffi.CONSTANTS[
            "HRE_NODE_PEER_INFO_VERSION"]))
        _check(lib.hre_node_peer_info_get(self._handle(), ctypes.byref(pi), conn))
        live = pi.member == NodeMember.LIVE
        return PeerInfo(conn=pi.conn, address=pi.address.decode(errors="replace"),
                        outbound=bool(pi.flags & _ffi.CONSTANTS["HRE_NODE_PEER_OUTBOUND"]),
                        state=_as_enum(PeerState, pi.state),
                        identity_key=bytes(pi.identity_key) if pi.has_identity else None,
                        member=_as_enum(NodeMember, pi.member),
                        member_address=bytes(pi.member_address) if live else None,
                        org_id=bytes(pi.org_id) if live else None,
                        handshake_hash=bytes(pi.handshake_hash),
                        **{f: getattr(pi, f) for f in (
                            "best_height", "connected_at", "last_recv", "bytes_sent",
                            "bytes_received", "messages_received", "mem_used",
                            "blocks_in_flight", "headers_held", "send_queued")})

    # -- address book and dialling -----------------------------------------

    def address_add(self, address, now, persistent=False):
        """Add an address to the book (the node dials book entries through
        on_connect). AlreadyExists: it was there (flags updated)."""
        flags = _ffi.CONSTANTS["HRE_NODE_ADDR_PERSISTENT"] if persistent else 0
        self._run("Node.address_add", lib.hre_node_address_add, address.encode(), flags, now)

    def address_remove(self, address):
        """Remove an address from the book (NotFound if absent)."""
        self._run("Node.address_remove", lib.hre_node_address_remove, address.encode())

    def connect(self, address, now):
        """Dial address once through on_connect; returns the conn id it gave
        (Unsupported without on_connect)."""
        conn = ctypes.c_uint64(0)
        rc, outer = self._call(lib.hre_node_connect, ctypes.byref(conn), address.encode(), now)
        return self._done("Node.connect", rc, conn.value, outer=outer)

    # -- timers ------------------------------------------------------------

    def next_timer(self):
        """The time (ms) the node wants tick() called (a value <= now means
        at once), or None when nothing is scheduled."""
        w = ctypes.c_uint64(0)
        _check(lib.hre_node_next_timer(self._handle(), ctypes.byref(w)))
        return None if w.value == _U64_MAX else w.value

    def tick(self, now):
        """Run the timers due by now, waiting work and block submissions."""
        self._run("Node.tick", lib.hre_node_tick, now)

    # -- transactions and mining -------------------------------------------

    def submit_tx(self, tx, now):
        """Submit a Tx (or its encoding) to the ledger and announce it to the
        live-member peers; returns the txid. A refusal raises with .status."""
        data = tx.encode() if isinstance(tx, Tx) else bytes(tx)
        b, n = _buf(data)
        txid, st = _out(32), ctypes.c_int(0)
        rc, outer = self._call(lib.hre_node_submit_tx, txid, ctypes.byref(st), b, n, now)
        return self._done("Node.submit_tx", rc, bytes(txid), st.value, outer)

    def mine(self, now, max_nonces=1 << 20):
        """One bounded mining step (at most max_nonces nonces): the new
        block's hash, connected and announced, or None when none was found
        in this step (call again)."""
        h, st = _out(32), ctypes.c_int(0)
        rc, outer = self._call(lib.hre_node_mine, h, ctypes.byref(st), now, max_nonces)
        if rc == EEXHAUSTED:
            return self._done("Node.mine", OK, None, outer=outer)
        return self._done("Node.mine", rc, bytes(h), st.value, outer)

    # -- application messages ----------------------------------------------

    def app_register(self, app_type, handler):
        """Register handler(node, AppMessage) for app_type (1..65535), or
        remove it with handler=None. AlreadyExists: remove the old one first."""
        if handler is None:
            cb = _ffi.NodeAppFn()
        else:
            tr = _Trampoline(_ffi.NodeAppFn, handler,
                             lambda f, _u, _n, msg: f(self, _app_message(msg.contents)),
                             self._errors)
            cb = tr.c
        self._run("Node.app_register", lib.hre_node_app_register, app_type, cb, None)
        if handler is None:
            self._apps.pop(app_type, None)
        else:
            self._apps[app_type] = cb

    def app_send(self, conn, app_type, data, now):
        """Send one app message to a ready live-member peer: True when
        queued, False on back-pressure (nothing queued; wait for
        NodeEventType.APP_WRITABLE). AuthError: not a live member (or this
        node has no identity); StateError: not ready; LimitExceeded: too big."""
        b, n = _buf(data)
        rc, outer = self._call(lib.hre_node_app_send, conn, app_type, b if n else None, n, now)
        if rc == EAGAIN:
            self._done("Node.app_send", OK, None, outer=outer)
            return False
        return self._done("Node.app_send", rc, True, outer=outer)

    def app_send_space(self, conn, now):
        """App bytes app_send would take for conn now (0 under back-pressure)."""
        n = ctypes.c_size_t(0)
        _check(lib.hre_node_app_send_space(self._handle(), ctypes.byref(n), conn, now))
        return n.value

    # -- discouragement list, statistics, state ----------------------------

    def _disc(self):
        d = _ffi.HreNodeDiscouraged()
        _check(lib.hre_node_discouraged_init(ctypes.byref(d), _ffi.CONSTANTS[
            "HRE_NODE_DISCOURAGED_VERSION"]))
        return d

    def discouraged(self):
        """The discouragement list (Discouraged entries), oldest first."""
        out = []
        for i in range(lib.hre_node_discouraged_count(self._handle())):
            d = self._disc()
            _check(lib.hre_node_discouraged_entry(self._handle(), ctypes.byref(d), i))
            out.append(_discouraged(d))
        return out

    def discouraged_get(self, address=None, key=None):
        """The newest entry matching address or key (34-byte wire), or None."""
        d = self._disc()
        kb = _buf(_bytes(key, 34, "key"))[0] if key is not None else None
        rc = lib.hre_node_discouraged_get(self._handle(), ctypes.byref(d),
                                          address.encode() if address is not None else None, kb)
        if rc == ENOTFOUND:
            return None
        _check(rc)
        return _discouraged(d)

    def discouraged_clear(self):
        """Empty the discouragement list."""
        self._run("Node.discouraged_clear", lib.hre_node_discouraged_clear)

    def stats(self):
        """Node-wide figures (a NodeStats)."""
        st = _ffi.HreNodeStats()
        _check(lib.hre_node_stats_init(ctypes.byref(st), _ffi.CONSTANTS["HRE_NODE_STATS_VERSION"]))
        _check(lib.hre_node_stats_get(self._handle(), ctypes.byref(st)))
        v = {f: getattr(st, f) for f, _ in _ffi.HreNodeStats._fields_[1:]}
        v["member"], v["synced"] = _as_enum(NodeMember, v["member"]), bool(v["synced"])
        return NodeStats(**v)

    @property
    def fatal_error(self):
        """OK (0), or the error code that made the node fatal."""
        return lib.hre_node_fatal_error(self._handle())

