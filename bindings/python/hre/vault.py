"""The document vault (include/hre/vault.h): store, read, wraps, re-wrap.

A Vault keeps sealed envelopes (AES-256-GCM STREAM chunks under a fresh
data key) and, per document, one HPKE wrap of the data key per reader, on
any Storage (its own, or the ledger's under another prefix):

    with hre.Vault(storage) as v:
        doc_hash, content = v.store(document, locator,
                                    readers=[(VaultReader.ORG, org_id, org_enc_key.pubkey())])
        # new_record(doc_sha256=doc_hash, locator=locator, ...) on the chain
        wrap, verdict = v.rewrap(ledger.contract, record_id, patient_address, block_time,
                                 VaultReader.ORG, org_id, org_enc_key)
        data, content = v.read(doc_hash, VaultReader.ACCOUNT, patient_address, patient_enc_key)

Encryption keys are P-256 Keys published on the chain with set_enc_key.
The plaintext read() returns is a Python bytes object, which cannot be
wiped. Close the Vault before its Storage.
"""
import ctypes

from . import _ffi
from ._ffi import lib
from . import (_check, _finish, _Owned, _Value, _Trampoline, _log_hook, _buf, _bytes, _out, _h32,
               _as_enum, _text, _make_error, Access, AccessReason, AccessBasis, ErrorCode,
               InvalidArgument, StateError, OK, EINVAL, ESTATE, EAUTH, ENOTFOUND, EERASED,
               EREVOKED, EEXPIRED, EIO, ECANCELED, EVERIFY, EBUFSIZE)
from ._enums import VaultReader, VaultCompress, VaultXchRefusal, VaultXchEventType

__all__ = ["Vault", "VaultWrap", "VaultContent", "VaultEntry", "VaultStats", "bucket",
           "envelope_len", "Exchange", "Fetch", "FetchStatus", "FetchRequest", "XchEvent",
           "XchStats", "xch_refusal_name", "xch_refusal_code", "VaultHeader", "Sealer", "Opener",
           "seal", "open_envelope", "Import", "XchRequest", "XchHeader", "XchChunk", "XchRefusal",
           "XchAudit"]


class VaultContent(_Value):
    """What a stored or opened document holds (struct hre_vault_content):
    doc_hash, doc_len, payload_len, padded_len, envelope_len, compressed
    (bool), media_type (str, "" if none)."""


class VaultEntry(_Value):
    """A document as the vault's index knows it (struct hre_vault_entry):
    doc_hash, locator, doc_version, erased (bool), record_id (None unless
    bound), envelope_len, wrap_count."""


class VaultStats(_Value):
    """Vault counters (struct hre_vault_stats): documents, erased,
    pending_erasures, envelope_bytes, index_bytes, memory_bytes, fatal (bool)."""


class VaultWrap(_Value):
    """One reader's wrap of a document's data key (struct hre_vault_wrap):
    doc_hash, locator, doc_version, mode (HpkeMode), reader_type
    (VaultReader), reader_id, sender_type, sender_id, sender_key, hpke
    (113 bytes), raw (the 287-byte wire form, what a holder sends a reader).
    VaultWrap.decode(raw) checks a received one."""

    @classmethod
    def decode(cls, raw):
        """Decode a wrap's wire form as hostile input (DecodeError, Unsupported)."""
        w = _ffi.HreVaultWrap()
        b, n = _buf(raw)
        _check(lib.hre_vault_wrap_decode(ctypes.byref(w), b, n))
        return _wrap(w)


def _wrap(w):
    from ._enums import HpkeMode
    raw = _sized_struct(lib.hre_vault_wrap_encode, w)
    return VaultWrap(doc_hash=bytes(w.doc_hash), locator=bytes(w.locator),
                     doc_version=w.doc_version, mode=_as_enum(HpkeMode, w.mode),
                     reader_type=_as_enum(VaultReader, w.reader_type), reader_id=bytes(w.reader_id),
                     sender_type=_as_enum(VaultReader, w.sender_type), sender_id=bytes(w.sender_id),
                     sender_key=bytes(w.sender_key), hpke=bytes(w.hpke), raw=raw)


def _sized_struct(fn, s):
    out, n = _out(_ffi.CONSTANTS["HRE_VAULT_WRAP_LEN"]), ctypes.c_size_t(
        _ffi.CONSTANTS["HRE_VAULT_WRAP_LEN"])
    _check(fn(ctypes.byref(s), out, ctypes.byref(n)))
    return bytes(out)[: n.value]


def _content(c):
    return VaultContent(doc_hash=bytes(c.doc_hash), doc_len=c.doc_len, payload_len=c.payload_len,
                        padded_len=c.padded_len, envelope_len=c.envelope_len,
                        compressed=bool(c.compressed),
                        media_type=_text(c, "media_type", c.media_type_len))


def _new_content():
    c = _ffi.HreVaultContent()
    _check(lib.hre_vault_content_init(ctypes.byref(c), _ffi.CONSTANTS["HRE_VAULT_CONTENT_VERSION"]))
    return c


def bucket(length):
    """The padded payload length (Padme bucket, at least 512) for length bytes."""
    return lib.hre_vault_bucket(length)


def envelope_len(padded_len):
    """The envelope length for a padded payload (0 for a length no envelope has)."""
    return lib.hre_vault_envelope_len(padded_len)


class Vault(_Owned):
    """A vault on a Storage under a file-name prefix (wraps hre_vault *;
    prefix 1..8 of [a-z0-9], None = "vault"). log(level, message) receives
    its log lines; an exception there is raised after the call as
    CallbackError. The storage stays open while the vault is."""

    _free = "hre_vault_close"

    def __init__(self, storage, prefix=None, log=None):
        self._ptr = None
        self._errors = []
        self._log = _log_hook(log, self._errors)
        o = _ffi.HreVaultOptions()
        _check(lib.hre_vault_options_init(ctypes.byref(o), _ffi.CONSTANTS["HRE_VAULT_OPTIONS_VERSION"]))
        o.storage = storage._handle()
        o.prefix = prefix.encode() if isinstance(prefix, str) else prefix
        o.log_fn = self._log.c
        p = ctypes.c_void_p()
        rc = lib.hre_vault_open(ctypes.byref(p), ctypes.byref(o))
        if rc == OK:
            self._ptr, self._storage = p, storage
            storage._users += 1
        _finish("Vault", rc, self, self._errors)

    def _release(self):
        super()._release()
        self._storage._users -= 1

    def _v(self):
        if not self._ptr:
            raise InvalidArgument(EINVAL, "vault is closed")
        return self._ptr

    def _done(self, call, rc, result):
        return _finish(call, rc, result, self._errors)

    def store(self, data, locator, readers, *, doc_version=1, media_type=None,
              compress=VaultCompress.AUTO, compress_level=0, sender=None, contract=None):
        """Seal data and store it with a wrap per reader, durably, all or
        nothing. readers: (VaultReader, 32-byte id, PubKey) triples, or
        (VaultReader, id) pairs whose key is looked up in contract
        (a Contract or LedgerContract: the published set_enc_key). sender:
        (VaultReader, id, Key) to make auth-mode wraps. Returns (doc_hash,
        VaultContent); doc_hash goes into the record's doc_sha256."""
        if not readers:
            raise StateError(ESTATE, "a document needs at least one reader")
        sp = _ffi.HreVaultSealParams()
        _check(lib.hre_vault_seal_params_init(ctypes.byref(sp), _ffi.CONSTANTS[
            "HRE_VAULT_SEAL_PARAMS_VERSION"]))
        sp.locator = (ctypes.c_uint8 * 32).from_buffer_copy(_bytes(locator, 32, "locator"))
        sp.doc_version, sp.compress, sp.compress_level = doc_version, int(compress), compress_level
        mt = media_type.encode() if isinstance(media_type, str) else media_type
        sp.media_type = mt
        if sender is not None:
            sp.sender_type = int(sender[0])
            sp.sender_id = (ctypes.c_uint8 * 32).from_buffer_copy(_bytes(sender[1], 32, "sender id"))
            sp.sender_key = sender[2]._ptr
        st = ctypes.c_void_p()
        _check(lib.hre_vault_store_new(ctypes.byref(st), self._v(), ctypes.byref(sp)))
        try:
            view = memoryview(bytes(data))
            for off in range(0, len(view), 1 << 20):
                b, n = _buf(view[off:off + (1 << 20)])
                rc = lib.hre_vault_store_write(st, b, n)
                _wipe_buf(b)
                _check(rc)
            for r in readers:
                rid = _h32(r[1], "reader id")
                if len(r) >= 3 and r[2] is not None:
                    _check(lib.hre_vault_store_add_reader(st, int(r[0]), rid, r[2]._ptr))
                else:
                    if contract is None:
                        raise ValueError("a reader without a key needs contract=")
                    _check(lib.hre_vault_store_add_reader_by_id(st, contract._c(), int(r[0]), rid))
            h, c = _out(32), _new_content()
            rc = lib.hre_vault_store_commit(st, h, ctypes.byref(c))
            return self._done("Vault.store", rc, (bytes(h), _content(c)))
        finally:
            lib.hre_vault_store_free(st)

    def read(self, doc_hash, reader_type, reader_id, reader_key):
        """Decrypt a stored document for one reader with its encryption Key:
        (plaintext bytes, VaultContent). NotFound: no such document or no
        wrap for this reader; DecryptError: a wrong key or damaged envelope;
        Erased: the document was erased."""
        parts = []

        def sink(_user, data, n):
            parts.append(ctypes.string_at(data, n))
            return OK
        cb = _ffi.VaultSinkFn(sink)
        c = _new_content()
        rc = lib.hre_vault_read(self._v(), ctypes.byref(c), _h32(doc_hash, "doc hash"),
                                int(reader_type), _h32(reader_id, "reader id"), reader_key._ptr,
                                cb, None)
        return self._done("Vault.read", rc, (b"".join(parts), _content(c)))

    def entry(self, doc_hash):
        """The index entry of a document (a VaultEntry, also for an erased
        one); NotFound for an unknown hash."""
        e = _ffi.HreVaultEntry()
        _check(lib.hre_vault_entry_init(ctypes.byref(e), _ffi.CONSTANTS["HRE_VAULT_ENTRY_VERSION"]))
        rc = lib.hre_vault_entry_get(self._v(), ctypes.byref(e), _h32(doc_hash, "doc hash"))
        if rc != EERASED:
            self._done("Vault.entry", rc, None)
        return VaultEntry(doc_hash=bytes(e.doc_hash), locator=bytes(e.locator),
                          doc_version=e.doc_version,
                          erased=e.state == _ffi.CONSTANTS["HRE_VAULT_ERASED"],
                          record_id=bytes(e.record_id) if e.has_record else None,
                          envelope_len=e.envelope_len, wrap_count=e.wrap_count)

    def wrap(self, doc_hash, reader_type, reader_id):
        """The wrap kept for one reader (a VaultWrap); NotFound if none."""
        w = _ffi.HreVaultWrap()
        rc = lib.hre_vault_wrap_get(self._v(), ctypes.byref(w), _h32(doc_hash, "doc hash"),
                                    int(reader_type), _h32(reader_id, "reader id"))
        self._done("Vault.wrap", rc, None)
        return _wrap(w)

    def envelope(self, doc_hash):
        """The whole stored envelope, as stored (what a holder sends)."""
        hb, out, off = _h32(doc_hash, "doc hash"), [], 0
        buf = _out(1 << 16)
        while True:
            n = ctypes.c_size_t(1 << 16)
            self._done("Vault.envelope",
                       lib.hre_vault_envelope_read(self._v(), buf, ctypes.byref(n), hb, off), None)
            if n.value == 0:
                return b"".join(out)
            out.append(bytes(buf)[: n.value])
            off += n.value

    def rewrap(self, contract, record_id, reader, block_time, holder_type, holder_id, holder_key):
        """Wrap a record's data key for reader (an account address) after
        the contract's access check (access_check at block_time): opens the
        holder's own wrap with holder_key and stores and returns the new
        auth-mode wrap. Returns (VaultWrap, Access). A refusal raises its
        class (Revoked, Expired, Erased, AuthError, NotFound) with the
        verdict in .access."""
        w, a = _ffi.HreVaultWrap(), _ffi.HreContractAccess()
        _check(lib.hre_contract_access_init(ctypes.byref(a), _ffi.CONSTANTS[
            "HRE_CONTRACT_ACCESS_VERSION"]))
        rc = lib.hre_vault_rewrap(self._v(), ctypes.byref(w), ctypes.byref(a), contract._c(),
                                  _h32(record_id, "record id"), _h32(reader, "reader"), block_time,
                                  int(holder_type), _h32(holder_id, "holder id"), holder_key._ptr)
        verdict = Access(allowed=rc == OK, reason=_as_enum(AccessReason, a.reason),
                         basis=_as_enum(AccessBasis, a.basis) if rc == OK else None,
                         grant_id=bytes(a.grant_id) if a.has_grant else None,
                         code=_as_enum(ErrorCode, rc))
        try:
            self._done("Vault.rewrap", rc, None)
        except Exception as e:
            if rc in (EAUTH, ENOTFOUND, EERASED, EREVOKED, EEXPIRED):
                e.access = verdict
            raise
        return _wrap(w), verdict

    def bind_record(self, doc_hash, record_id):
        """Bind a stored document to the record that names it (after the
        record is on the chain), so that handle_event erases it when the
        record is erased. Again with the same pair does nothing;
        AlreadyExists: either is bound to another."""
        self._done("Vault.bind_record", lib.hre_vault_bind_record(
            self._v(), _h32(doc_hash, "doc hash"), _h32(record_id, "record id")), None)

    def erase(self, doc_hash):
        """Crypto-shred a document (durable tombstone, then its wraps and
        envelope overwritten and removed); idempotent. NotFound: unknown."""
        self._done("Vault.erase", lib.hre_vault_erase(self._v(), _h32(doc_hash, "doc hash")), None)

    def erase_record(self, contract, record_id):
        """Erase the document of a record the contract (a Contract or
        LedgerContract) shows erased. StateError: the record is not erased
        on the chain; NotFound: unknown record, or this vault does not hold
        its document."""
        self._done("Vault.erase_record", lib.hre_vault_erase_record(
            self._v(), contract._c(), _h32(record_id, "record id")), None)

    def handle_event(self, event):
        """Feed a contract Event (e.g. ev.ledger.contract of a node's or a
        ledger's LEDGER_EVENT_CONTRACT event; allowed inside those
        callbacks): RECORD_ERASED erases the document bound to the record
        now, or journals a pending erasure (resolved by bind_record or
        reconcile). Other events are ignored."""
        e = _ffi.HreContractEvent()
        e.version = _ffi.CONSTANTS["HRE_CONTRACT_EVENT_VERSION"]
        e.type, e.kind, e.flags = int(event.type), int(event.kind), int(event.flags)
        e.detail, e.seq, e.time = event.detail, event.seq, event.time
        for f in ("actor", "subject", "record_id", "org_id", "grant_id"):
            v = getattr(event, f)
            if v is not None:
                setattr(e, f, (ctypes.c_uint8 * 32).from_buffer_copy(_bytes(v, 32, f)))
        self._done("Vault.handle_event", lib.hre_vault_handle_event(self._v(), ctypes.byref(e)),
                   None)

    def reconcile(self, contract):
        """Erase every bound document whose record the contract shows
        erased and resolve the pending erasures (after opening ledger and
        vault); returns how many documents this call erased."""
        n = ctypes.c_size_t(0)
        self._done("Vault.reconcile", lib.hre_vault_reconcile(
            self._v(), ctypes.byref(n), contract._c()), None)
        return n.value

    def entry_by_locator(self, locator, doc_version=1):
        """The index entry of the document with this locator and version
        (exact), as entry(); NotFound if none."""
        return _vault_entry(self, "Vault.entry_by_locator", lib.hre_vault_entry_by_locator,
                            _h32(locator, "locator"), doc_version)


    def wrap_at(self, doc_hash, index):
        """The index-th wrap of a document (0 <= index < entry().wrap_count;
        the file's order). NotFound past the end."""
        w = _ffi.HreVaultWrap()
        self._done("Vault.wrap_at", lib.hre_vault_wrap_at(self._v(), ctypes.byref(w),
                                                          _h32(doc_hash, "doc hash"), index), None)
        return _wrap(w)


    def wraps(self, doc_hash):
        """Every wrap of a document (a list of VaultWrap, the file's order)."""
        return [self.wrap_at(doc_hash, i) for i in range(self.entry(doc_hash).wrap_count)]


    def wrap_remove(self, doc_hash, reader_type, reader_id):
        """Delete one reader's wrap (NotFound: no such document or wrap)."""
        self._done("Vault.wrap_remove", lib.hre_vault_wrap_remove(
            self._v(), _h32(doc_hash, "doc hash"), int(reader_type), _h32(reader_id, "reader id")),
            None)


    def refusals(self):
        """The refusals a holder's Exchange sent with this vault, oldest first:
        its durable audit log (hre_vault_xch_refusals, PROTOCOL 15.8; the
        newest audit_max of them). A list of XchAudit: seq, time_ms, conn,
        reason (VaultXchRefusal), access_reason, flags, peer_key, reader,
        record_id, nonce, request_hash (bytes; a field whose flag is unset
        is zero bytes). [] before any refusal; Corrupt on a damaged log."""
        n = ctypes.c_size_t(0)
        esz = ctypes.sizeof(_ffi.HreVaultXchAudit)
        while True:
            cap = n.value
            arr = (_ffi.HreVaultXchAudit * cap)() if cap else None
            rc = lib.hre_vault_xch_refusals(self._v(), arr, esz, ctypes.byref(n))
            if rc == EBUFSIZE and n.value > cap:
                continue
            self._done("Vault.refusals", rc, None)
            return [_audit(arr[i]) for i in range(n.value)]


    def prune(self, contract, record_id, block_time):
        """Delete the account wraps of a record's document whose readers may no
        longer access it at block_time (organisation wraps are kept); returns
        how many were deleted. Binds the record id."""
        n = ctypes.c_size_t(0)
        rc = lib.hre_vault_prune(self._v(), ctypes.byref(n), contract._c(),
                                 _h32(record_id, "record id"), block_time)
        self._done("Vault.prune", rc, None)
        return n.value


    def verify(self, rehash=False):
        """Check the vault's files against its index (with rehash=True also
        re-hash every envelope, VAULT_VERIFY_HASH). Returns 0; Corrupt when a
        problem is found (the detail names the first, .problems counts them)."""
        n = ctypes.c_uint64(0)
        flags = _ffi.CONSTANTS["HRE_VAULT_VERIFY_HASH"] if rehash else 0
        rc = lib.hre_vault_verify(self._v(), ctypes.byref(n), flags)
        try:
            self._done("Vault.verify", rc, None)
        except Exception as e:
            e.problems = n.value
            raise
        return n.value


    def importer(self, expected_hash=None):
        """Start importing an envelope sealed elsewhere (an Import). With
        expected_hash (the record's doc_sha256) anything else is refused at
        commit. Erased: the vault erased that document."""
        return Import(self, expected_hash)


    def import_envelope(self, envelope, wraps=(), expected_hash=None):
        """Import a whole envelope and its wraps at once; returns the doc hash."""
        with Import(self, expected_hash) as im:
            im.write(envelope)
            for w in wraps:
                im.add_wrap(w)
            return im.commit()

    def stats(self):
        """Vault counters (a VaultStats)."""
        s = _ffi.HreVaultStats()
        _check(lib.hre_vault_stats_init(ctypes.byref(s), _ffi.CONSTANTS["HRE_VAULT_STATS_VERSION"]))
        _check(lib.hre_vault_stats_get(self._v(), ctypes.byref(s)))
        v = {f: getattr(s, f) for f, _ in _ffi.HreVaultStats._fields_[1:]}
        v["fatal"] = bool(v["fatal"])
        return VaultStats(**v)

    def close(self):
        """Close the vault (the storage stays open); again does nothing.
        StateError while an Exchange serves from it (close that first)."""
        if getattr(self, "_ptr", None) and getattr(self, "_xch_users", 0):
            raise StateError(ESTATE, "an Exchange still serves from this vault")
        super().close()
        _finish("Vault.close", OK, None, self._errors)

    def __del__(self):
        try:
            _Owned.close(self)
        finally:
            del getattr(self, "_errors", [])[:]


def _wipe_buf(b):
    ctypes.memset(b, 0, ctypes.sizeof(b))


# -- the document exchange (vault.h "Document exchange") ---------------------

def xch_refusal_name(reason):
    """The library's name of a refusal reason ("no_grant", ...; "unknown")."""
    return lib.hre_vault_xch_refusal_name(int(reason)).decode()


def xch_refusal_code(reason):
    """The error code (an ErrorCode) a reader's fetch fails with for a
    refusal reason (ErrorCode.EPROTO for an unknown one)."""
    return _as_enum(ErrorCode, lib.hre_vault_xch_refusal_code(int(reason)))


class XchEvent(_Value):
    """An exchange event (struct hre_vault_xch_event): type
    (VaultXchEventType), conn, reason (VaultXchRefusal, or 0), code
    (ErrorCode of FETCH_DONE / ABORTED), record_id, reader (the reader's
    address; zero bytes if unknown), detail (str)."""


class XchAudit(_Value):
    """One refusal from a holder's audit log (struct hre_vault_xch_audit):
    seq, time_ms, conn, reason (VaultXchRefusal), access_reason, flags
    (VAULT_XCH_AUDIT_HAS_*), peer_key (34 bytes), reader, record_id,
    request_hash (32 bytes), nonce (16 bytes)."""


def _audit(a):
    return XchAudit(seq=a.seq, time_ms=a.time_ms, conn=a.conn,
                    reason=_as_enum(VaultXchRefusal, a.reason), access_reason=a.access_reason,
                    flags=a.flags, peer_key=bytes(a.peer_key), reader=bytes(a.reader),
                    record_id=bytes(a.record_id), nonce=bytes(a.nonce),
                    request_hash=bytes(a.request_hash))


class XchStats(_Value):
    """Exchange counters (struct hre_vault_xch_stats): requests, refused,
    served, bytes_sent, transfers, stalls, replay_entries, fetches,
    audit_failures (audit log writes or syncs that failed)."""


class FetchStatus(_Value):
    """Where a Fetch stands: done (bool), code (ErrorCode: OK or why it
    failed), reason (VaultXchRefusal of a refusal, else 0), content
    (VaultContent once done with OK, else None)."""


class FetchRequest(_Value):
    """A document request (struct hre_vault_xch_request, PROTOCOL 15.2):
    nonce, timestamp_ms, reader_key (34-byte wire key), record_id, binding
    (the connection's handshake hash), sig. What Fetch.request() returns;
    also XchRequest. new() makes and signs one (for Exchange.fetch_signed,
    e.g. signed in another process), decode() reads a REQUEST message,
    verify() checks its signature, encode() gives the 188 bytes."""

    @classmethod
    def new(cls, record_id, binding, key, timestamp_ms, nonce=None):
        """A signed request for record_id on the connection whose Noise
        handshake hash is binding (PeerInfo.handshake_hash), made with the
        reader's account signing Key at timestamp_ms; nonce: 16 bytes (fresh
        random bytes from the library's OpenSSL DRBG by default)."""
        if nonce is None:
            nb = _out(_ffi.CONSTANTS["HRE_VAULT_XCH_NONCE_LEN"])
            _check(lib.hre_random_bytes(nb, _ffi.CONSTANTS["HRE_VAULT_XCH_NONCE_LEN"]))
            nonce = bytes(nb)
        r = cls(nonce=bytes(nonce), timestamp_ms=timestamp_ms, reader_key=bytes(34),
                record_id=_bytes(record_id, 32, "record id"),
                binding=_bytes(binding, 32, "binding"),
                sig=bytes(64))
        return r.sign(key)


    def sign(self, key):
        """Sign with the reader's account Key: sets reader_key and sig (over the
        other fields). Returns self."""
        s = _request_struct(self)
        _check(lib.hre_vault_xch_request_sign(ctypes.byref(s), key._ptr))
        self.reader_key, self.sig = bytes(s.reader_key), bytes(s.sig)
        return self


    def verify(self):
        """True if sig verifies with reader_key over the other fields (low S);
        False if not. DecodeError: reader_key is not a valid point."""
        rc = lib.hre_vault_xch_request_verify(ctypes.byref(_request_struct(self)))
        if rc == EVERIFY:
            return False
        _check(rc)
        return True


    def encode(self):
        """The REQUEST message (VAULT_XCH_REQUEST_LEN bytes, PROTOCOL 15.2)."""
        return _encode(lib.hre_vault_xch_request_encode, _request_struct(self),
                       _ffi.CONSTANTS["HRE_VAULT_XCH_REQUEST_LEN"])


    @classmethod
    def decode(cls, raw):
        """Decode a REQUEST message as hostile input (DecodeError, Unsupported);
        the signature is not checked (verify())."""
        s = _ffi.HreVaultXchRequest()
        b, n = _buf(raw)
        _check(lib.hre_vault_xch_request_decode(ctypes.byref(s), b, n))
        return _request_value(s)


def _xch_event(e):
    return XchEvent(type=_as_enum(VaultXchEventType, e.type), conn=e.conn,
                    reason=_as_enum(VaultXchRefusal, e.reason), code=_as_enum(ErrorCode, e.code),
                    record_id=bytes(e.record_id), reader=bytes(e.reader),
                    detail=(e.detail or b"").decode(errors="replace"))


class Exchange(_Owned):
    """The document exchange of one Node (wraps hre_vault_xch *): it
    registers its app handler (app_type, default VAULT_XCH_APP_TYPE) on the
    node and is fed the node's events by the Node itself (no forwarding
    needed from the host's on_event). One per node.

    Holder side: vault (a Vault) and holder=(VaultReader, 32-byte id,
    encryption Key of the holder's own wrap); requests are checked on the
    node's chain (signature, freshness, channel binding, replay, access
    check, LOG_ACCESS) and answered with the re-wrapped document or a
    refusal. Without a vault the exchange only fetches (requests are
    refused NOT_HELD). Reader side: fetch().

    The host calls tick(now) from its timer loop (with Node.tick).
    on_event(XchEvent) and log(level, message) run inside node calls; an
    exception there surfaces after that node call as CallbackError. Other
    keyword options are the fields of struct hre_vault_xch_options
    (fresh_ms, replay_max, max_transfers, max_per_peer, fetch_timeout_ms,
    log_max_age_s, audit_max: refusals the holder's durable audit log keeps,
    read back with Vault.refusals; 0 = the default). Close it before its Node and Vault
    (Node.close closes it; Vault.close raises StateError while it runs)."""

    _free = "hre_vault_xch_free"
    _OPTIONS = ("app_type", "fresh_ms", "replay_max", "max_transfers", "max_per_peer",
                "fetch_timeout_ms", "log_max_age_s", "audit_max")

    def __init__(self, node, vault=None, holder=None, *, on_event=None, log=None, **options):
        self._ptr = None
        unknown = set(options) - set(self._OPTIONS)
        if unknown:
            raise TypeError(f"Exchange: unknown options {sorted(unknown)}")
        if vault is not None and holder is None:
            raise ValueError("a holder's Exchange needs holder=(VaultReader, id, Key)")
        self._errors = node._errors          # surfaced by the node call that ran them
        self._ev = _Trampoline(_ffi.VaultXchEventFn, on_event,
                               lambda f, _u, ev: f(_xch_event(ev.contents)), self._errors)
        self._log = _log_hook(log, self._errors)
        o = _ffi.HreVaultXchOptions()
        _check(lib.hre_vault_xch_options_init(ctypes.byref(o), _ffi.CONSTANTS[
            "HRE_VAULT_XCH_OPTIONS_VERSION"]))
        o.node = node._handle()
        if vault is not None:
            o.vault = vault._v()
            o.holder_type = int(holder[0])
            o.holder_id = (ctypes.c_uint8 * 32).from_buffer_copy(_bytes(holder[1], 32, "holder id"))
            o.holder_key = holder[2]._ptr
        o.on_event, o.log_fn = self._ev.c, self._log.c
        for k, v in options.items():
            setattr(o, k, v)
        p = ctypes.c_void_p()
        _check(lib.hre_vault_xch_new(ctypes.byref(p), ctypes.byref(o)))
        self._ptr, self.node, self.vault, self._holder = p, node, vault, holder
        self._hook = self._node_event
        node._raw_hooks.append(self._hook)
        node._attached.append(self)
        if vault is not None:
            vault._xch_users = getattr(vault, "_xch_users", 0) + 1

    def _node_event(self, ev):
        if self._ptr:
            _check(lib.hre_vault_xch_handle_node_event(self._ptr, ev))

    def _x(self):
        if not self._ptr:
            raise InvalidArgument(EINVAL, "exchange is closed")
        return self._ptr

    def _release(self):
        super()._release()
        node = self.node
        if self._hook in node._raw_hooks:
            node._raw_hooks.remove(self._hook)
        if self in node._attached:
            node._attached.remove(self)
        if self.vault is not None:
            self.vault._xch_users -= 1

    def close(self):
        """Unregister from the node and free (transfers in progress are
        dropped; unfinished Fetches fail with Cancelled). Call outside node
        callbacks. Again does nothing."""
        super().close()

    def tick(self, now):
        """Timers (now in ms): resume transfers waiting for room, expire
        replay-cache entries and fetches without progress (Expired)."""
        _finish("Exchange.tick", lib.hre_vault_xch_tick(self._x(), now), None, self._errors)

    def stats(self):
        """Exchange counters (an XchStats)."""
        st = _ffi.HreVaultXchStats()
        _check(lib.hre_vault_xch_stats_init(ctypes.byref(st), _ffi.CONSTANTS[
            "HRE_VAULT_XCH_STATS_VERSION"]))
        _check(lib.hre_vault_xch_stats_get(self._x(), ctypes.byref(st)))
        return XchStats(**{f: getattr(st, f) for f, _ in _ffi.HreVaultXchStats._fields_[1:]})

    def set_rate_limit(self, per_s, burst):
        """Set the holder's per-connection request rate limit (a token bucket:
        burst REQUEST messages at once, per_s a second on average; one more is
        refused BUSY before its signature is checked). per_s 0: no limit (burst
        ignored); else per_s and burst 1 .. VAULT_XCH_RATE_BURST_MAX
        (InvalidArgument otherwise). Call outside node callbacks."""
        _check(lib.hre_vault_xch_set_rate_limit(self._x(), per_s, burst))

    def fetch(self, conn, record_id, sign_key, enc_key, now, max_doc_len=0):
        """Start fetching a record's document from the holder on conn (a
        ready, live-member connection of the node): the request is signed
        with sign_key (the reader's account Key) and bound to the
        connection; the answer is checked against this node's chain and
        opened with enc_key (the reader's encryption Key). Returns a Fetch;
        drive the node (carry bytes, tick) until fetch.done. NotFound: no
        such record on this chain (or conn); Erased: erased on this chain;
        TryAgain: no room to send the request now. Call outside node
        callbacks."""
        fp = _ffi.HreVaultFetchParams()
        _check(lib.hre_vault_fetch_params_init(ctypes.byref(fp), _ffi.CONSTANTS[
            "HRE_VAULT_FETCH_PARAMS_VERSION"]))
        fp.conn = conn
        fp.record_id = (ctypes.c_uint8 * 32).from_buffer_copy(_bytes(record_id, 32, "record id"))
        fp.sign_key, fp.enc_key, fp.max_doc_len = sign_key._ptr, enc_key._ptr, max_doc_len
        f = Fetch(self, (sign_key, enc_key))
        p = ctypes.c_void_p()
        x = self._x()
        rc, outer = self.node._call(lambda _node: lib.hre_vault_fetch_new(
            ctypes.byref(p), x, ctypes.byref(fp), f._sink, None, now))
        if rc == OK:
            f._ptr = p
        return self.node._done("Exchange.fetch", rc, f, outer=outer)

    def fetch_signed(self, conn, request, now):
        """Start a fetch with a request signed elsewhere (an XchRequest whose
        binding is conn's handshake hash, PeerInfo.handshake_hash) and take
        the answer raw: Fetch.data is the holder's envelope, undecrypted,
        and Fetch.wrap() the wrap for the reader, who opens them itself
        (hre.vault.open_envelope / Opener, which checks the envelope's
        SHA-256 against the wrap). The record is looked up on this node's
        chain and the answer must match it, as with fetch(). VerifyError:
        the signature does not verify; InvalidArgument: the binding is not
        conn's; AlreadyExists: a fetch with this nonce is in progress on
        conn; NotFound, Erased, TryAgain as fetch(). Call outside node
        callbacks."""
        req = _request_struct(request)
        f = Fetch(self, (request,))
        p = ctypes.c_void_p()
        x = self._x()
        rc, outer = self.node._call(lambda _node: lib.hre_vault_fetch_new_signed(
            ctypes.byref(p), x, conn, ctypes.byref(req), f._sink, None, now))
        if rc == OK:
            f._ptr = p
        return self.node._done("Exchange.fetch_signed", rc, f, outer=outer)


class Fetch(_Owned):
    """A document fetch in progress (wraps hre_vault_fetch *), made by
    Exchange.fetch (or fetch_signed: then data is the raw envelope and the
    content of status() holds doc_hash and envelope_len only). done /
    status() say where it stands; data holds the document bytes received
    so far (the document only once done with OK);
    result() gives (data, VaultContent) or raises the failure. Close it
    (or let it be collected) when finished; an unfinished one is abandoned."""

    _free = "hre_vault_fetch_free"

    def __init__(self, exchange, keys):
        self._ptr = None
        self._exchange, self._keys, self._parts = exchange, keys, []
        errors = exchange._errors

        def sink(_user, data, n):
            try:
                self._parts.append(ctypes.string_at(data, n))
                return OK
            except BaseException as e:  # noqa: B902 - raised after the node call
                errors.append(e)
                return EIO
        self._sink = _ffi.VaultSinkFn(sink)

    def _f(self):
        if not self._ptr:
            raise InvalidArgument(EINVAL, "fetch is closed")
        return self._ptr

    def status(self):
        """A FetchStatus (done, code, reason, content)."""
        done, code, reason = ctypes.c_int(0), ctypes.c_int(0), ctypes.c_int(0)
        c = _new_content()
        _check(lib.hre_vault_fetch_status(self._f(), ctypes.byref(done), ctypes.byref(code),
                                          ctypes.byref(reason), ctypes.byref(c)))
        ok = bool(done.value) and code.value == OK
        return FetchStatus(done=bool(done.value), code=_as_enum(ErrorCode, code.value),
                           reason=_as_enum(VaultXchRefusal, reason.value),
                           content=_content(c) if ok else None)

    @property
    def done(self):
        """True once the fetch finished (with the document or a failure)."""
        return self.status().done

    @property
    def data(self):
        """The bytes the sink received (the whole document only when the
        fetch is done with OK: discard them otherwise)."""
        return b"".join(self._parts)

    def result(self):
        """(document bytes, VaultContent) of a fetch done with OK. A failed
        one raises its HreError subclass (AuthError, Revoked, Expired,
        Erased, NotFound, ... for a refusal, whose VaultXchRefusal is in
        .reason); StateError while it is not done."""
        st = self.status()
        if not st.done:
            raise StateError(ESTATE, "the fetch is not done")
        if st.code != OK:
            why = f"refused: {xch_refusal_name(st.reason)}" if st.reason else "fetch failed"
            err = _make_error(int(st.code), why, None)
            err.reason = st.reason
            raise err
        return self.data, st.content

    def request(self):
        """The signed request this fetch sent (a FetchRequest)."""
        r = _ffi.HreVaultXchRequest()
        _check(lib.hre_vault_fetch_request(self._f(), ctypes.byref(r)))
        return FetchRequest(**{f: (bytes(getattr(r, f)) if f != "timestamp_ms" else r.timestamp_ms)
                               for f, _ in _ffi.HreVaultXchRequest._fields_})

    def wrap(self):
        """The wrap the holder sent in its answer's header (a VaultWrap);
        StateError before a header arrived (a refusal, or not yet)."""
        w = _ffi.HreVaultWrap()
        _check(lib.hre_vault_fetch_wrap(self._f(), ctypes.byref(w)))
        return _wrap(w)


# -- sans-I/O: the envelope header, the streaming sealer and opener ----------

def _wrap_struct(w):
    """An hre_vault_wrap struct from a VaultWrap (or its 287-byte wire
    form), checked by hre_vault_wrap_decode."""
    raw = w.raw if isinstance(w, VaultWrap) else bytes(w)
    s = _ffi.HreVaultWrap()
    b, n = _buf(raw)
    _check(lib.hre_vault_wrap_decode(ctypes.byref(s), b, n))
    return s


def _u8(data, n, what):
    return (ctypes.c_uint8 * n).from_buffer_copy(_bytes(data, n, what))


def _encode(fn, s, cap):
    out, n = _out(cap), ctypes.c_size_t(cap)
    _check(fn(ctypes.byref(s), out, ctypes.byref(n)))
    return bytes(out)[: n.value]


class VaultHeader(_Value):
    """An envelope header (struct hre_vault_header, PROTOCOL 14.2): format,
    flags, chunk_log2, locator, doc_version, nonce_prefix (7 bytes),
    key_commit (32 bytes). VaultHeader.decode(the first VAULT_HEADER_LEN
    bytes of an envelope) checks it as hostile input; encode() gives the 82
    bytes back (InvalidArgument for a field a decoder would refuse)."""

    @classmethod
    def decode(cls, raw):
        """Decode exactly VAULT_HEADER_LEN bytes (DecodeError, Unsupported)."""
        h = _ffi.HreVaultHeader()
        b, n = _buf(raw)
        _check(lib.hre_vault_header_decode(ctypes.byref(h), b, n))
        return cls(format=h.format, flags=h.flags, chunk_log2=h.chunk_log2,
                   locator=bytes(h.locator), doc_version=h.doc_version,
                   nonce_prefix=bytes(h.nonce_prefix), key_commit=bytes(h.key_commit))

    def encode(self):
        """The 82-byte wire form."""
        h = _ffi.HreVaultHeader()
        h.format, h.flags, h.chunk_log2 = self.format, self.flags, self.chunk_log2
        h.locator = _u8(self.locator, 32, "locator")
        h.doc_version = self.doc_version
        h.nonce_prefix = _u8(self.nonce_prefix, _ffi.CONSTANTS["HRE_VAULT_NONCE_PREFIX_LEN"],
                             "nonce prefix")
        h.key_commit = _u8(self.key_commit, 32, "key commitment")
        return _encode(lib.hre_vault_header_encode, h, _ffi.CONSTANTS["HRE_VAULT_HEADER_LEN"])


class _Sink:
    """The C sink of a sealer or opener. sink(bytes) is called with each
    piece (None: the pieces are kept in .parts). An exception there makes
    the sink return HRE_ECANCELED (the sealer or opener stops: any failure
    is final) and is re-raised by the Python call that was running, after
    the C call returned."""

    def __init__(self, fn):
        self.fn, self.parts, self.error = fn, [], None

        def sink(_user, data, n):
            if self.error is not None:
                return ECANCELED
            try:
                piece = ctypes.string_at(data, n)
                if self.fn is None:
                    self.parts.append(piece)
                else:
                    self.fn(piece)
                return OK
            except BaseException as e:  # noqa: B902 - re-raised after the C call
                self.error = e
                return ECANCELED
        self.c = _ffi.VaultSinkFn(sink)

    def done(self, rc):
        """After a C call: re-raise the sink's exception (first), else check rc."""
        if self.error is not None:
            e, self.error = self.error, None
            raise e
        _check(rc)


def _feed(fn, handle, data, piece=1 << 20):
    """Feed data in pieces through fn(handle, buf, n), wiping each copy."""
    view = memoryview(bytes(data))
    rc = OK
    for off in range(0, max(1, len(view)), piece):
        b, n = _buf(view[off:off + piece])
        rc = fn(handle, b, n)
        _wipe_buf(b)
        if rc != OK:
            break
    return rc


class Sealer(_Owned):
    """Seal a document into an envelope as a stream (wraps
    hre_vault_sealer *; sans-I/O: nothing is stored). Plaintext goes in with
    write(), the envelope comes out through sink(bytes) (None: kept, see
    envelope); finish() gives (doc_hash, VaultContent); wrap() then wraps
    the data key for each reader. The data key is wiped when the sealer is
    closed. An exception raised in sink stops the sealer (later calls raise
    StateError) and is raised by the write() or finish() that ran it.

        with hre.vault.Sealer(locator, sink=out.write, media_type="text/plain") as s:
            s.write(part1); s.write(part2)
            doc_hash, content = s.finish()
            w = s.wrap(VaultReader.ORG, org_id, org_enc_key.pubkey())
    """

    _free = "hre_vault_sealer_free"

    def __init__(self, locator, sink=None, *, doc_version=1, media_type=None,
                 compress=VaultCompress.AUTO, compress_level=0, sender=None):
        self._ptr = None
        sp = _ffi.HreVaultSealParams()
        _check(lib.hre_vault_seal_params_init(ctypes.byref(sp), _ffi.CONSTANTS[
            "HRE_VAULT_SEAL_PARAMS_VERSION"]))
        sp.locator = _u8(locator, 32, "locator")
        sp.doc_version, sp.compress, sp.compress_level = doc_version, int(compress), compress_level
        # the sealer uses these pointers until it is freed: keep them alive
        self._media_type = media_type.encode() if isinstance(media_type, str) else media_type
        sp.media_type = self._media_type
        self._sender = sender
        if sender is not None:
            sp.sender_type = int(sender[0])
            sp.sender_id = _u8(sender[1], 32, "sender id")
            sp.sender_key = sender[2]._ptr
        self._sink = _Sink(sink)
        p = ctypes.c_void_p()
        _check(lib.hre_vault_sealer_new(ctypes.byref(p), ctypes.byref(sp), self._sink.c, None))
        self._ptr = p

    def _s(self):
        if not self._ptr:
            raise InvalidArgument(EINVAL, "sealer is closed")
        return self._ptr

    def write(self, data):
        """Feed more of the document (any split; b"" is fine); whole chunks
        go to the sink as soon as they are complete. LimitExceeded past
        VAULT_DOC_MAX; StateError after finish or a failure."""
        self._sink.done(_feed(lib.hre_vault_sealer_write, self._s(), data))
        return self

    def finish(self):
        """End the document: the last chunks go to the sink. Returns
        (doc_hash, VaultContent); doc_hash is SHA-256 of the whole envelope
        (the record's doc_sha256). StateError the second time."""
        h, c = _out(32), _new_content()
        self._sink.done(lib.hre_vault_sealer_finish(self._s(), h, ctypes.byref(c)))
        return bytes(h), _content(c)

    def wrap(self, reader_type, reader_id, reader_key):
        """Wrap the data key for one reader (after finish): auth mode with
        the sender's key if one was given, base mode otherwise. reader_key:
        the reader's P-256 encryption PubKey (or Key). Returns a VaultWrap."""
        from . import Key
        pk = reader_key.pubkey() if isinstance(reader_key, Key) else reader_key
        w = _ffi.HreVaultWrap()
        _check(lib.hre_vault_sealer_wrap(self._s(), ctypes.byref(w), int(reader_type),
                                         _h32(reader_id, "reader id"), pk._ptr))
        return _wrap(w)

    @property
    def envelope(self):
        """The envelope bytes so far, when no sink was given (else b"")."""
        return b"".join(self._sink.parts)


class Opener(_Owned):
    """Open an envelope as a stream (wraps hre_vault_opener *; sans-I/O).
    Made from the reader's wrap (a VaultWrap or its wire form) and the
    reader's encryption Key (DecryptError if they do not match; AuthError
    when expected_sender is given and the wrap is not auth mode by that
    key). Envelope bytes go in with write(), the document comes out
    through sink(bytes) (None: kept, see data). Plaintext reaching the sink
    is authentic, but the document is complete only when finish() returns:
    after any failure, discard what the sink received. no_hash=True skips
    the envelope-hash check (VAULT_OPEN_NO_HASH). An exception raised in
    sink stops the opener and is raised by the call that ran it."""

    _free = "hre_vault_opener_free"

    def __init__(self, wrap, reader_key, sink=None, *, expected_sender=None, no_hash=False,
                 max_doc_len=0):
        from . import Key
        self._ptr = None
        op = _ffi.HreVaultOpenParams()
        _check(lib.hre_vault_open_params_init(ctypes.byref(op), _ffi.CONSTANTS[
            "HRE_VAULT_OPEN_PARAMS_VERSION"]))
        self._wrap = _wrap_struct(wrap)
        self._keys = (reader_key, expected_sender)
        op.wrap = ctypes.pointer(self._wrap)
        op.reader_key = reader_key._ptr
        if expected_sender is not None:
            if isinstance(expected_sender, Key):
                expected_sender = expected_sender.pubkey()
                self._keys = (reader_key, expected_sender)
            op.expected_sender = expected_sender._ptr
        op.flags = _ffi.CONSTANTS["HRE_VAULT_OPEN_NO_HASH"] if no_hash else 0
        op.max_doc_len = max_doc_len
        self._sink = _Sink(sink)
        p = ctypes.c_void_p()
        _check(lib.hre_vault_opener_new(ctypes.byref(p), ctypes.byref(op), self._sink.c, None))
        self._ptr = p

    def _o(self):
        if not self._ptr:
            raise InvalidArgument(EINVAL, "opener is closed")
        return self._ptr

    def write(self, data):
        """Feed more envelope bytes (any split). DecodeError, DecryptError
        (a damaged, reordered or spliced chunk), VerifyError (the header is
        not the wrap's document), LimitExceeded, StateError after a failure."""
        self._sink.done(_feed(lib.hre_vault_opener_write, self._o(), data))
        return self

    def finish(self):
        """End of the envelope: the last chunk, the padding, and (unless
        no_hash) the envelope's SHA-256 against the wrap's doc_hash
        (VerifyError). Returns the VaultContent; DecodeError / DecryptError
        for a truncated or extended envelope."""
        c = _new_content()
        self._sink.done(lib.hre_vault_opener_finish(self._o(), ctypes.byref(c)))
        return _content(c)

    @property
    def data(self):
        """The document bytes so far, when no sink was given (else b"")."""
        return b"".join(self._sink.parts)


def seal(data, locator, readers, **params):
    """Seal data in memory: returns (envelope, doc_hash, VaultContent,
    [VaultWrap per reader]). readers: (VaultReader, id, PubKey or Key)
    triples; params as Sealer's."""
    with Sealer(locator, **params) as s:
        s.write(data)
        doc_hash, content = s.finish()
        wraps = [s.wrap(r[0], r[1], r[2]) for r in readers]
        return s.envelope, doc_hash, content, wraps


def open_envelope(envelope, wrap, reader_key, **params):
    """Open a whole envelope in memory: (document, VaultContent)."""
    with Opener(wrap, reader_key, **params) as o:
        o.write(envelope)
        c = o.finish()
        return o.data, c


class Import(_Owned):
    """An envelope being copied into a Vault as received (wraps
    hre_vault_import *; Vault.importer makes one): write() the envelope
    bytes, add_wrap() the received wraps, commit() (the chunks are not
    decrypted: the importer need not be a reader). Closing an uncommitted
    import aborts it."""

    _free = "hre_vault_import_free"

    def __init__(self, vault, expected_hash=None):
        self._ptr = None
        p = ctypes.c_void_p()
        eh = None if expected_hash is None else _h32(expected_hash, "expected hash")
        vault._done("Vault.importer", lib.hre_vault_import_new(ctypes.byref(p), vault._v(), eh),
                    None)
        self._ptr, self._vault = p, vault

    def _i(self):
        if not self._ptr:
            raise InvalidArgument(EINVAL, "import is closed")
        return self._ptr

    def write(self, data):
        """Append received envelope bytes (DecodeError once the 82 header
        bytes are in and malformed; LimitExceeded)."""
        self._vault._done("Import.write", _feed(lib.hre_vault_import_write, self._i(), data), None)
        return self

    def add_wrap(self, wrap):
        """Add a received wrap (a VaultWrap or its wire form) to store with
        the envelope; checked against it at commit."""
        s = _wrap_struct(wrap)
        _check(lib.hre_vault_import_add_wrap(self._i(), ctypes.byref(s)))
        return self

    def commit(self):
        """Store the envelope and its wraps durably; returns the doc hash.
        DecodeError (truncated, or no envelope has that length),
        VerifyError (not the expected hash, or a wrap for another
        envelope), Erased (the vault erased that document)."""
        h = _out(32)
        self._vault._done("Import.commit", lib.hre_vault_import_commit(self._i(), h), None)
        return bytes(h)


def _vault_entry(v, call, fn, *args):
    e = _ffi.HreVaultEntry()
    _check(lib.hre_vault_entry_init(ctypes.byref(e), _ffi.CONSTANTS["HRE_VAULT_ENTRY_VERSION"]))
    rc = fn(v._v(), ctypes.byref(e), *args)
    if rc != EERASED:
        v._done(call, rc, None)
    return VaultEntry(doc_hash=bytes(e.doc_hash), locator=bytes(e.locator),
                      doc_version=e.doc_version,
                      erased=e.state == _ffi.CONSTANTS["HRE_VAULT_ERASED"],
                      record_id=bytes(e.record_id) if e.has_record else None,
                      envelope_len=e.envelope_len, wrap_count=e.wrap_count)


# -- the exchange's messages (PROTOCOL 15.2 - 15.5) and its rate limit ------

def _request_struct(r):
    s = _ffi.HreVaultXchRequest()
    s.nonce = _u8(r.nonce, _ffi.CONSTANTS["HRE_VAULT_XCH_NONCE_LEN"], "nonce")
    s.timestamp_ms = r.timestamp_ms
    s.reader_key = _u8(r.reader_key, 34, "reader key")
    s.record_id = _u8(r.record_id, 32, "record id")
    s.binding = _u8(r.binding, 32, "binding")
    s.sig = _u8(r.sig, 64, "signature")
    return s


def _request_value(s):
    return FetchRequest(nonce=bytes(s.nonce), timestamp_ms=s.timestamp_ms,
                        reader_key=bytes(s.reader_key), record_id=bytes(s.record_id),
                        binding=bytes(s.binding), sig=bytes(s.sig))


XchRequest = FetchRequest


class XchHeader(_Value):
    """The answer's header (struct hre_vault_xch_header, PROTOCOL 15.3):
    nonce (the request's), envelope_len, doc_hash, wrap (a VaultWrap for
    the reader). decode() checks the wrap, that it names doc_hash and the
    envelope length's range."""

    @classmethod
    def decode(cls, raw):
        """Decode a HEADER message (DecodeError, Unsupported)."""
        h = _ffi.HreVaultXchHeader()
        b, n = _buf(raw)
        _check(lib.hre_vault_xch_header_decode(ctypes.byref(h), b, n))
        return cls(nonce=bytes(h.nonce), envelope_len=h.envelope_len, doc_hash=bytes(h.doc_hash),
                   wrap=_wrap(h.wrap))

    def encode(self):
        """The HEADER message (VAULT_XCH_HEADER_LEN bytes)."""
        h = _ffi.HreVaultXchHeader()
        h.nonce = _u8(self.nonce, _ffi.CONSTANTS["HRE_VAULT_XCH_NONCE_LEN"], "nonce")
        h.envelope_len = self.envelope_len
        h.doc_hash = _u8(self.doc_hash, 32, "doc hash")
        h.wrap = _wrap_struct(self.wrap)
        return _encode(lib.hre_vault_xch_header_encode, h,
                       _ffi.CONSTANTS["HRE_VAULT_XCH_HEADER_LEN"])


class XchChunk(_Value):
    """One CHUNK message (struct hre_vault_xch_chunk, PROTOCOL 15.4): nonce,
    offset (of data[0] in the envelope), data (1 .. chunk_data_max bytes)."""

    @classmethod
    def decode(cls, raw):
        """Decode a CHUNK message (DecodeError, Unsupported); data is copied."""
        c = _ffi.HreVaultXchChunk()
        b, n = _buf(raw)
        _check(lib.hre_vault_xch_chunk_decode(ctypes.byref(c), b, n))
        return cls(nonce=bytes(c.nonce), offset=c.offset, data=ctypes.string_at(c.data, c.len))

    def encode(self):
        """The CHUNK message (VAULT_XCH_CHUNK_OVERHEAD + len(data) bytes;
        InvalidArgument for an empty or oversized chunk)."""
        c = _ffi.HreVaultXchChunk()
        c.nonce = _u8(self.nonce, _ffi.CONSTANTS["HRE_VAULT_XCH_NONCE_LEN"], "nonce")
        data = bytes(self.data)
        if len(data) >= 1 << 32:
            raise ValueError("chunk data too long")
        buf, n = _buf(data)
        c.offset, c.len, c.data = self.offset, n, ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint8))
        return _encode(lib.hre_vault_xch_chunk_encode, c,
                       _ffi.CONSTANTS["HRE_VAULT_XCH_CHUNK_OVERHEAD"] + n)


class XchRefusal(_Value):
    """A REFUSAL message (struct hre_vault_xch_refusal, PROTOCOL 15.5):
    nonce (the request's; zero if it did not decode), reason
    (VaultXchRefusal), access_reason (AccessReason behind it, or 0)."""

    @classmethod
    def decode(cls, raw):
        """Decode a REFUSAL message (DecodeError, Unsupported)."""
        r = _ffi.HreVaultXchRefusal()
        b, n = _buf(raw)
        _check(lib.hre_vault_xch_refusal_decode(ctypes.byref(r), b, n))
        return cls(nonce=bytes(r.nonce), reason=_as_enum(VaultXchRefusal, r.reason),
                   access_reason=_as_enum(AccessReason, r.access_reason))

    def encode(self):
        """The REFUSAL message (VAULT_XCH_REFUSAL_LEN bytes)."""
        r = _ffi.HreVaultXchRefusal()
        r.nonce = _u8(self.nonce, _ffi.CONSTANTS["HRE_VAULT_XCH_NONCE_LEN"], "nonce")
        r.reason, r.access_reason = int(self.reason), int(self.access_reason)
        return _encode(lib.hre_vault_xch_refusal_encode, r,
                       _ffi.CONSTANTS["HRE_VAULT_XCH_REFUSAL_LEN"])


