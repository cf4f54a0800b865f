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
from . import (_check, _finish, _Owned, _Value, _log_hook, _buf, _bytes, _out, _h32, _as_enum,
               _text, Access, AccessReason, AccessBasis, ErrorCode, InvalidArgument, StateError,
               OK, EINVAL, ESTATE, EAUTH, ENOTFOUND, EERASED, EREVOKED, EEXPIRED)
from ._enums import VaultReader, VaultCompress

__all__ = ["Vault", "VaultWrap", "VaultContent", "VaultEntry", "VaultStats", "bucket",
           "envelope_len"]


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

    def stats(self):
        """Vault counters (a VaultStats)."""
        s = _ffi.HreVaultStats()
        _check(lib.hre_vault_stats_init(ctypes.byref(s), _ffi.CONSTANTS["HRE_VAULT_STATS_VERSION"]))
        _check(lib.hre_vault_stats_get(self._v(), ctypes.byref(s)))
        v = {f: getattr(s, f) for f, _ in _ffi.HreVaultStats._fields_[1:]}
        v["fatal"] = bool(v["fatal"])
        return VaultStats(**v)

    def close(self):
        """Close the vault (the storage stays open); again does nothing."""
        super().close()
        _finish("Vault.close", OK, None, self._errors)

    def __del__(self):
        try:
            _Owned.close(self)
        finally:
            del getattr(self, "_errors", [])[:]


def _wipe_buf(b):
    ctypes.memset(b, 0, ctypes.sizeof(b))
