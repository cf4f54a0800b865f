"""Python bindings for libhre (ctypes; no compiled extension needed).

Set HRE_LIBRARY to the path of libhre.so.1 if it is not installed where the
dynamic loader finds it. Failing calls raise HreError with the library's error
code, its text and the thread-local detail message.

    >>> import hre
    >>> key = hre.Key.generate()
    >>> sig = key.sign(hre.sha256(b"record"))
    >>> key.pubkey().verify(hre.sha256(b"record"), sig)
    True

Records exchange (see examples/hospital.py for the whole scenario):

    storage = hre.Storage.memory()              # or hre.Storage.posix("/var/lib/hre")
    params = hre.ChainParams.regtest()
    with hre.Ledger(storage, params, authority_key, on_event=print) as ledger:
        tx = hre.build_tx("register_patient", ledger.network_id, patient_key, 0, now)
        ledger.submit_tx(tx, now)               # HreError(.code, .detail, .status) if refused
        ledger.mine(now + 60)
        ledger.contract.account(patient_key.address())   # queries: a borrowed view
    storage.close()

Ownership: every wrapper frees its handle (close(), `with`, or when garbage
collected); values returned by queries and events are copies (plain Python
objects), never pointers into library memory. A Ledger keeps its Storage
alive; close the ledger before the storage. Exceptions raised inside event
and progress callbacks are re-raised by the call that triggered them.
"""
import ctypes
import types

from . import _ffi
from ._ffi import lib, HreHeader

__all__ = ["HreError", "version", "sha256", "sha256d", "hmac_sha256", "Key", "PubKey",
           "Tx", "Header", "merkle_root", "pow_target_from_compact", "CURVE_P256",
           "CURVE_SECP256K1",
           # records exchange: storage, contract, ledger
           "Storage", "ChainParams", "Contract", "Ledger", "MerkleProof", "address",
           "genesis_org_id", "commit", "encode_payload", "decode_payload", "build_tx",
           "status_name", "Account", "Org", "Record", "Grant", "Event", "Stats", "LedgerEvent",
           "Pool", "verify_batch"]

CURVE_P256 = 1
CURVE_SECP256K1 = 2

OK, EINVAL, EDECODE, EVERIFY, EAUTH, ENOTFOUND, EEXISTS, ESTATE = 0, -1, -2, -3, -4, -5, -6, -7
EIO, ECORRUPT, ELIMIT, EBUFSIZE, ENOMEM = -8, -9, -10, -11, -12
EUNSUPPORTED, ECANCELED, EDECRYPT, ENOSPC, EEXHAUSTED, EFATAL = -14, -15, -16, -17, -18, -19

# Contract and ledger constants (names as in the C headers without HRE_;
# the values are checked against the headers by tests/python/test_bindings.py).
for _n, _v in _ffi.CONSTANTS.items():
    if _v >= 0 and _n != "HRE_OK":   # error codes are defined above
        globals()[_n[4:]] = _v
del _n, _v


class HreError(Exception):
    """A libhre call failed. .code is the negative error code."""

    def __init__(self, code, detail="", status=None):
        self.code = code
        self.detail = detail
        self.status = status            # ledger status (hre_ledger_status) when known
        self.first_bad_height = None    # set by Ledger.verify_chain
        text = lib.hre_strerror(code).decode()
        super().__init__(f"{text} ({code}): {detail}" if detail else f"{text} ({code})")


def _check(rc, status=None):
    if rc != OK:
        raise HreError(rc, lib.hre_error_detail().decode(errors="replace"), status)


def _buf(data):
    """A ctypes uint8 array holding a copy of data (bytes-like)."""
    data = bytes(data)
    return (ctypes.c_uint8 * max(1, len(data))).from_buffer_copy(data or b"\0"), len(data)


def _out(n):
    return (ctypes.c_uint8 * n)()


def version():
    return lib.hre_version_string().decode()


def sha256(data):
    out = _out(32)
    b, n = _buf(data)
    _check(lib.hre_sha256(out, b, n))
    return bytes(out)


def sha256d(data):
    out = _out(32)
    b, n = _buf(data)
    _check(lib.hre_sha256d(out, b, n))
    return bytes(out)


def hmac_sha256(key, data):
    out = _out(32)
    k, kn = _buf(key)
    b, n = _buf(data)
    _check(lib.hre_hmac_sha256(out, k, kn, b, n))
    return bytes(out)


class _Owned:
    """Owns one libhre handle (self._ptr) and releases it exactly once, with
    the library function named by _free: by close(), at the end of a `with`
    block, or when garbage-collected."""

    _free = None

    def __init__(self, ptr):
        self._ptr = ptr

    def _release(self):
        getattr(lib, self._free)(self._ptr)

    def close(self):
        if getattr(self, "_ptr", None):
            self._release()
            self._ptr = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


class Pool(_Owned):
    """A worker pool (wraps hre_pool *): threads=0 means the caller's thread
    does everything. Pass it to Contract.load_snapshot or verify_batch; it
    must outlive the calls that use it."""

    _free = "hre_pool_free"

    def __init__(self, threads=0):
        p = ctypes.c_void_p()
        _check(lib.hre_pool_new(ctypes.byref(p), threads))
        super().__init__(p)

    @property
    def threads(self):
        return lib.hre_pool_threads(self._ptr)


class PubKey(_Owned):
    """A parsed public key (wraps hre_pubkey *)."""

    _free = "hre_pubkey_free"

    @classmethod
    def parse(cls, sec1, curve=CURVE_P256):
        p = ctypes.c_void_p()
        b, n = _buf(sec1)
        _check(lib.hre_pubkey_parse(ctypes.byref(p), curve, b, n))
        return cls(p)

    @classmethod
    def parse_wire(cls, enc34):
        """Parse the 34-byte wire form (curve id || compressed point)."""
        if len(enc34) != 34:
            raise ValueError("encoded public key must be 34 bytes")
        p = ctypes.c_void_p()
        b, _ = _buf(enc34)
        _check(lib.hre_pubkey_parse_wire(ctypes.byref(p), b))
        return cls(p)

    def serialize(self, compressed=True):
        out = _out(65)
        n = ctypes.c_size_t(65)
        _check(lib.hre_pubkey_serialize(self._ptr, out, ctypes.byref(n), 1 if compressed else 0))
        return bytes(out)[: n.value]

    def serialize_wire(self):
        """The 34-byte wire form (curve id || compressed point)."""
        out = _out(34)
        _check(lib.hre_pubkey_serialize_wire(self._ptr, out))
        return bytes(out)

    def verify(self, digest, sig):
        if len(digest) != 32 or len(sig) != 64:
            raise ValueError("digest must be 32 bytes and sig 64 bytes")
        d, _ = _buf(digest)
        s, _ = _buf(sig)
        rc = lib.hre_pubkey_verify(self._ptr, d, s)
        if rc == EVERIFY:
            return False
        _check(rc)
        return True

    def address(self):
        """The account address a key registers as: sha256 of its 34-byte wire form."""
        return address(self.serialize_wire())


class Key(_Owned):
    """A private key (wraps hre_key *; wiped by the library when freed)."""

    _free = "hre_key_free"

    @classmethod
    def generate(cls, curve=CURVE_P256):
        p = ctypes.c_void_p()
        _check(lib.hre_key_generate(ctypes.byref(p), curve))
        return cls(p)

    @classmethod
    def import_pem(cls, pem, passphrase=None):
        p = ctypes.c_void_p()
        pem = pem.encode() if isinstance(pem, str) else bytes(pem)
        pw = passphrase.encode() if isinstance(passphrase, str) else passphrase
        _check(lib.hre_key_import_pem(ctypes.byref(p), pem, len(pem), pw, len(pw) if pw else 0))
        return cls(p)

    def export_pem(self, passphrase=None):
        pw = passphrase.encode() if isinstance(passphrase, str) else passphrase
        n = ctypes.c_size_t(0)
        rc = lib.hre_key_export_pem(self._ptr, None, ctypes.byref(n), pw, len(pw) if pw else 0)
        if rc != EBUFSIZE:
            _check(rc)
        buf = ctypes.create_string_buffer(n.value)
        _check(lib.hre_key_export_pem(self._ptr, buf, ctypes.byref(n), pw, len(pw) if pw else 0))
        return buf.value.decode()

    @property
    def curve(self):
        return lib.hre_key_curve(self._ptr)

    def pubkey(self):
        p = ctypes.c_void_p()
        _check(lib.hre_key_pubkey(self._ptr, ctypes.byref(p)))
        return PubKey(p)

    def sign(self, digest):
        if len(digest) != 32:
            raise ValueError("digest must be 32 bytes")
        out = _out(64)
        d, _ = _buf(digest)
        _check(lib.hre_key_sign(self._ptr, out, d))
        return bytes(out)

    def wire(self):
        """The public key's 34-byte wire form (curve id || compressed point)."""
        return self.pubkey().serialize_wire()

    def address(self):
        """The account address of this key (sha256 of the wire form)."""
        return address(self.wire())


class Tx(_Owned):
    """A transaction envelope (wraps hre_tx *)."""

    _free = "hre_tx_free"

    @classmethod
    def new(cls, network_id, kind, nonce, timestamp, payload=b""):
        p = ctypes.c_void_p()
        nid, _ = _buf(network_id)
        pl, n = _buf(payload)
        _check(lib.hre_tx_new(ctypes.byref(p), nid, kind, nonce, timestamp, pl, n))
        return cls(p)

    @classmethod
    def decode(cls, data):
        p = ctypes.c_void_p()
        b, n = _buf(data)
        _check(lib.hre_tx_decode(ctypes.byref(p), b, n))
        return cls(p)

    def sign(self, key):
        _check(lib.hre_tx_sign(self._ptr, key._ptr))
        return self

    def encode(self):
        n = ctypes.c_size_t(0)
        rc = lib.hre_tx_encode(self._ptr, None, ctypes.byref(n))
        if rc != EBUFSIZE:
            _check(rc)
        out = _out(n.value)
        _check(lib.hre_tx_encode(self._ptr, out, ctypes.byref(n)))
        return bytes(out)[: n.value]

    def verify(self, network_id):
        """Check the network id and the signature; on success the transaction
        is marked verified (see `verified`), which Contract.apply requires."""
        nid, _ = _buf(network_id)
        rc = lib.hre_tx_verify(self._ptr, None, nid)
        if rc == EVERIFY:
            return False
        _check(rc)
        return True

    @property
    def verified(self):
        """True once verify() passed or the transaction was signed here."""
        return lib.hre_tx_verified(self._ptr) == 1

    def txid(self):
        out = _out(32)
        _check(lib.hre_tx_txid(self._ptr, out))
        return bytes(out)

    @property
    def kind(self):
        return lib.hre_tx_kind(self._ptr)

    @property
    def nonce(self):
        return lib.hre_tx_nonce(self._ptr)

    @property
    def timestamp(self):
        return lib.hre_tx_timestamp(self._ptr)

    @property
    def payload(self):
        n = ctypes.c_size_t(0)
        p = lib.hre_tx_payload(self._ptr, ctypes.byref(n))
        return ctypes.string_at(p, n.value) if n.value else b""


class Header:
    """An 80-byte block header (struct hre_header)."""

    @classmethod
    def _from_struct(cls, h):
        self = cls()
        ctypes.memmove(ctypes.byref(self._h), ctypes.byref(h), ctypes.sizeof(HreHeader))
        return self

    def __init__(self, raw=None):
        self._h = HreHeader()
        if raw is not None:
            b, n = _buf(raw)
            _check(lib.hre_header_decode(ctypes.byref(self._h), b, n))

    def __getattr__(self, name):
        if name in ("version", "time", "bits", "nonce"):
            return getattr(self._h, name)
        if name in ("prev_hash", "merkle_root"):
            return bytes(getattr(self._h, name))
        raise AttributeError(name)

    def encode(self):
        out = _out(80)
        _check(lib.hre_header_encode(ctypes.byref(self._h), out))
        return bytes(out)

    def hash(self):
        """sha256d of the header, internal byte order."""
        out = _out(32)
        _check(lib.hre_header_hash(ctypes.byref(self._h), out))
        return bytes(out)

    def display_hash(self):
        """The hash as block explorers print it (byte-reversed hex)."""
        return self.hash()[::-1].hex()

    def check_pow(self, pow_limit):
        lim, _ = _buf(pow_limit)
        rc = lib.hre_pow_check(ctypes.byref(self._h), lim)
        if rc == EVERIFY:
            return False
        _check(rc)
        return True


def merkle_root(leaves):
    """Bitcoin Merkle root of 32-byte leaves. Returns (root, mutated)."""
    leaves = [bytes(x) for x in leaves]
    if any(len(x) != 32 for x in leaves):
        raise ValueError("leaves must be 32 bytes each")
    arr, _ = _buf(b"".join(leaves))
    out = _out(32)
    mutated = ctypes.c_int(0)
    _check(lib.hre_merkle_root(out, ctypes.byref(mutated), arr, len(leaves)))
    return bytes(out), bool(mutated.value)


def pow_target_from_compact(bits):
    """Decode nBits. Returns (target as int, negative, overflow)."""
    out = _out(32)
    neg, ovf = ctypes.c_int(0), ctypes.c_int(0)
    _check(lib.hre_pow_target_from_compact(out, ctypes.byref(neg), ctypes.byref(ovf), bits))
    return int.from_bytes(bytes(out), "little"), bool(neg.value), bool(ovf.value)


# ==========================================================================
# Records exchange: storage, record contract, ledger
# ==========================================================================

def _bytes(x, n=None, what="value"):
    """bytes of x (bytes-like, Key/PubKey -> 34-byte wire key); length-checked."""
    if isinstance(x, Key):
        x = x.wire()
    elif isinstance(x, PubKey):
        x = x.encode()
    elif isinstance(x, str):
        x = x.encode()
    x = bytes(x)
    if n is not None and len(x) != n:
        raise ValueError(f"{what} must be {n} bytes, got {len(x)}")
    return x


def _h32(x, what="id"):
    return _buf(_bytes(x, 32, what))[0]


class _Value(types.SimpleNamespace):
    """A plain value copied out of a C struct (safe to keep after the call)."""


class Account(_Value): pass     # noqa: E701
class Org(_Value): pass         # noqa: E701
class Record(_Value): pass      # noqa: E701
class Grant(_Value): pass       # noqa: E701
class Stats(_Value): pass       # noqa: E701
class LedgerEvent(_Value): pass  # noqa: E701


class Event(_Value):
    """A contract event (type is one of the EVENT_* constants)."""
    NAMES = {v: k[10:].lower() for k, v in _ffi.CONSTANTS.items()
             if k.startswith("HRE_EVENT_") and not k.startswith("HRE_EVENT_HAS_")}

    @property
    def type_name(self):
        return Event.NAMES.get(self.type, f"event-{self.type}")


def _text(s, field, n):
    return ctypes.string_at(ctypes.addressof(s) + getattr(type(s), field).offset, n).decode(
        errors="replace")


def _event(e):
    """Copy a (borrowed) hre_contract_event into an Event."""
    f = e.flags
    return Event(type=e.type, kind=e.kind, flags=f, detail=e.detail, seq=e.seq, time=e.time,
                 actor=bytes(e.actor), subject=bytes(e.subject),
                 record_id=bytes(e.record_id) if f & EVENT_HAS_RECORD else None,
                 org_id=bytes(e.org_id) if f & EVENT_HAS_ORG else None,
                 grant_id=bytes(e.grant_id) if f & EVENT_HAS_GRANT else None)


def _account(a):
    return Account(address=bytes(a.address), key=bytes(a.key), role=a.role, status=a.status,
                   org_type=a.org_type, org_id=bytes(a.org_id) if a.has_org else None,
                   nonce=a.nonce, record_count=a.record_count, grant_count=a.grant_count)


def _grant(g):
    return Grant(id=bytes(g.id), patient=bytes(g.patient), reader_type=g.reader_type,
                 scope=g.scope, category=g.category, revoked=bool(g.revoked),
                 reader=bytes(g.reader), record_count=g.record_count,
                 envelope_len=g.envelope_len, expiry=g.expiry, created_time=g.created_time,
                 revoked_time=g.revoked_time)


def _record(r):
    return Record(id=bytes(r.id), patient=bytes(r.patient), issuer_org=bytes(r.issuer_org),
                  lab_org=bytes(r.lab_org), commit_patient_id=bytes(r.commit_patient_id),
                  commit_test_name=bytes(r.commit_test_name), doc_sha256=bytes(r.doc_sha256),
                  date=r.date, price=r.price, category=r.category, is_valid=bool(r.is_valid),
                  signature_count=r.signature_count,
                  issuer_signer=bytes(r.issuer_signer) if r.has_issuer_signer else None,
                  lab_signer=bytes(r.lab_signer) if r.has_lab_signer else None,
                  supersedes=bytes(r.supersedes) if r.has_supersedes else None,
                  hospital_name=_text(r, "hospital_name", r.hospital_name_len),
                  locator=bytes(r.locator), erased=bool(r.erased), erased_time=r.erased_time)


class _Callback:
    """Keeps a CFUNCTYPE trampoline alive and carries exceptions raised in the
    Python callback (ctypes would only print them) back to the caller."""

    def __init__(self, proto, fn, convert):
        self.fn, self.errors = fn, []

        def tramp(_user, ev):
            try:
                fn(convert(ev.contents))
            except BaseException as e:  # noqa: B902 - re-raised after the C call
                self.errors.append(e)
        self.c = proto(tramp) if fn is not None else proto()

    def reraise(self):
        if self.errors:
            e, self.errors = self.errors[0], []
            raise e


class _LogHook:
    """An hre_log_fn trampoline for a Python log(level, message) callable;
    kept alive as long as the handle, exceptions carried back to the caller."""

    def __init__(self, fn):
        self.errors = []

        def tramp(_user, level, msg):
            try:
                fn(level, msg.decode(errors="replace"))
            except BaseException as e:  # noqa: B902 - re-raised after the C call
                self.errors.append(e)
        self.c = _ffi.LogFn(tramp) if fn is not None else _ffi.LogFn()

    def reraise(self):
        if self.errors:
            e, self.errors = self.errors[0], []
            raise e


def verify_batch(txs, network_id, pool=None):
    """Verify many transactions (on a Pool, if given); returns a list of
    booleans and marks the ones that pass as verified."""
    n = len(txs)
    arr = (ctypes.c_void_p * max(1, n))(*[t._ptr for t in txs])
    res = (ctypes.c_int * max(1, n))()
    nid, _ = _buf(network_id)
    rc = lib.hre_tx_verify_batch(res, None, pool._ptr if pool is not None else None,
                                 ctypes.cast(arr, ctypes.POINTER(ctypes.c_void_p)), n, nid)
    if rc not in (OK, EVERIFY):
        _check(rc)
    for i in range(n):
        if res[i] not in (OK, EVERIFY):
            _check(res[i])
    return [res[i] == OK for i in range(n)]


def address(key):
    """Account address of a 34-byte wire key (or Key/PubKey): sha256(key)."""
    out = _out(32)
    _check(lib.hre_contract_address(out, _buf(_bytes(key, 34, "key"))[0]))
    return bytes(out)


def genesis_org_id(network_id):
    """Id of a network's founding organisation."""
    out = _out(32)
    _check(lib.hre_contract_genesis_org_id(out, _h32(network_id, "network id")))
    return bytes(out)


def commit(field, salt, value):
    """Commitment HMAC-SHA256(salt, u8 field || value) for a new_record payload
    (field COMMIT_PATIENT_ID or COMMIT_TEST_NAME; salt 16..64 bytes)."""
    out = _out(32)
    sb, sn = _buf(_bytes(salt))
    vb, vn = _buf(_bytes(value))
    _check(lib.hre_contract_commit(out, field, sb, sn, vb, vn))
    return bytes(out)


def status_name(status):
    """Name of a ledger status ("connected", "reject-pow", ...)."""
    return lib.hre_ledger_status_name(status).decode()


# -- storage ----------------------------------------------------------------

class Storage(_Owned):
    """A storage backend (wraps hre_storage *). Use as a context manager or call
    close(); a ledger opened on it keeps it alive and must be closed first."""

    _free = "hre_storage_free"

    def __init__(self, ptr, kind):
        self._ptr, self.kind, self._users = ptr, kind, 0

    @classmethod
    def memory(cls, max_bytes=0):
        """An in-memory storage (content lost when closed)."""
        p = ctypes.c_void_p()
        _check(lib.hre_storage_memory_new(ctypes.byref(p), max_bytes))
        return cls(p, "memory")

    @classmethod
    def posix(cls, directory, flags=0, dir_mode=0, file_mode=0):
        """A directory on disk (created if missing; locked against a second opener).
        flags: STORAGE_POSIX_NOSYNC / _FULLSYNC / _NOLOCK."""
        o = _ffi.HreStoragePosixOptions()
        _check(lib.hre_storage_posix_options_init(ctypes.byref(o), STORAGE_POSIX_OPTIONS_VERSION))
        o.flags, o.dir_mode, o.file_mode = flags, dir_mode, file_mode
        p = ctypes.c_void_p()
        _check(lib.hre_storage_posix_open(ctypes.byref(p), str(directory).encode(), ctypes.byref(o)))
        return cls(p, "posix")

    def _handle(self):
        if not self._ptr:
            raise HreError(EINVAL, "storage is closed")
        return self._ptr

    def list(self):
        """Names of the files in the storage, sorted."""
        names = []
        cb = _ffi.StorageListCb(lambda _arg, name: names.append(name.decode()) or 0)
        _check(lib.hre_storage_list(self._handle(), cb, None))
        return sorted(names)

    def remove(self, name):
        _check(lib.hre_storage_remove(self._handle(), name.encode()))

    def sync_dir(self):
        _check(lib.hre_storage_sync_dir(self._handle()))

    def close(self):
        if self._users:
            raise HreError(ESTATE, "storage is still used by an open ledger")
        super().close()

    def __del__(self):
        if not getattr(self, "_users", 0):
            super().close()



# -- network parameters -----------------------------------------------------

class ChainParams:
    """Network parameters (struct hre_chain_params)."""

    def __init__(self):
        self._p = _ffi.HreChainParams()
        _check(lib.hre_chain_params_init(ctypes.byref(self._p), CHAIN_PARAMS_VERSION))

    @classmethod
    def bitcoin_mainnet(cls):
        self = cls()   # _p.version is set by hre_chain_params_init
        _check(lib.hre_chain_params_bitcoin_mainnet(ctypes.byref(self._p)))
        return self

    @classmethod
    def regtest(cls, genesis_time=1700000000, bits=0x207FFFFF, target_spacing=600,
                retarget_interval=2016, max_block_size=1000000, max_tx_count=10000):
        """A toy network with an easy target (as examples/hre_demo.c); mines its genesis."""
        self = cls()
        p = self._p
        lim = _out(32)
        _check(lib.hre_pow_target_from_compact(lim, None, None, bits))
        p.pow_limit = lim
        p.target_spacing, p.retarget_interval = target_spacing, retarget_interval
        p.max_block_size, p.max_tx_count = max_block_size, max_tx_count
        p.genesis.version, p.genesis.time, p.genesis.bits = 1, genesis_time, bits
        _check(lib.hre_pow_mine(ctypes.byref(p.genesis), None, 1000000))
        _check(lib.hre_chain_params_check(ctypes.byref(p)))
        return self

    @property
    def pow_limit(self):
        return bytes(self._p.pow_limit)

    @property
    def genesis(self):
        return Header._from_struct(self._p.genesis)


# -- contract queries (shared by an owned Contract and a ledger's view) -----

def _list_query(fn, c, key, elem=None):
    """Call a list query: (c, ids, *n, key) for id lists, or
    (c, out, elem_size, *n, key) for lists of versioned structs (the library
    fills each element up to elem_size and sets its version). Learn the
    count, then fill an array."""
    kb = _h32(key)
    n = ctypes.c_size_t(0)
    while True:
        cap = n.value
        if elem is None:
            arr = (ctypes.c_uint8 * (32 * cap))() if cap else None
            rc = fn(c, arr, ctypes.byref(n), kb)
        else:
            arr = (elem * cap)() if cap else None
            rc = fn(c, arr, ctypes.sizeof(elem), ctypes.byref(n), kb)
        if rc == EBUFSIZE and n.value > cap:
            continue
        _check(rc)
        if elem is None:
            raw = bytes(arr)[: 32 * n.value] if cap else b""
            return [raw[i:i + 32] for i in range(0, len(raw), 32)]
        return [arr[i] for i in range(n.value)]


class _ContractQueries:
    """Read-only queries on a contract state (see include/hre/contract.h)."""

    def _c(self):
        raise NotImplementedError

    def state_hash(self):
        out = _out(32)
        _check(lib.hre_contract_state_hash(self._c(), out))
        return bytes(out)

    def account(self, addr):
        """Account by address; raises HreError(ENOTFOUND)."""
        a = _ffi.HreContractAccount(version=CONTRACT_ACCOUNT_VERSION)
        _check(lib.hre_contract_account_get(self._c(), ctypes.byref(a), _h32(addr, "address")))
        return _account(a)

    def account_by_key(self, key):
        """(Account, retired) for any key the account has had."""
        a = _ffi.HreContractAccount(version=CONTRACT_ACCOUNT_VERSION)
        retired = ctypes.c_int(0)
        _check(lib.hre_contract_account_by_key(self._c(), ctypes.byref(a),
                                               ctypes.byref(retired), _buf(_bytes(key, 34, "key"))[0]))
        return _account(a), bool(retired.value)

    def org(self, org_id):
        o = _ffi.HreContractOrg(version=CONTRACT_ORG_VERSION)
        _check(lib.hre_contract_org_get(self._c(), ctypes.byref(o), _h32(org_id, "org id")))
        return Org(org_id=bytes(o.org_id), type=o.type, name=_text(o, "name", o.name_len))

    def record(self, record_id):
        r = _ffi.HreContractRecord(version=CONTRACT_RECORD_VERSION)
        _check(lib.hre_contract_record_get(self._c(), ctypes.byref(r), _h32(record_id, "record id")))
        return _record(r)

    def records_by_patient(self, patient):
        """Record ids of a patient, oldest first."""
        return _list_query(lib.hre_contract_records_by_patient, self._c(), patient)

    def grants_by_patient(self, patient):
        return [_grant(g) for g in _list_query(lib.hre_contract_grants_by_patient, self._c(),
                                               patient, _ffi.HreContractGrant)]

    def grant(self, grant_id):
        g = _ffi.HreContractGrant(version=CONTRACT_GRANT_VERSION)
        _check(lib.hre_contract_grant_get(self._c(), ctypes.byref(g), _h32(grant_id, "grant id")))
        return _grant(g)

    def grant_records(self, grant_id):
        return _list_query(lib.hre_contract_grant_records, self._c(), grant_id)

    def grant_envelope(self, grant_id):
        n = ctypes.c_size_t(0)
        gb = _h32(grant_id, "grant id")
        rc = lib.hre_contract_grant_envelope(self._c(), None, ctypes.byref(n), gb)
        if rc == OK:
            return b""
        if rc != EBUFSIZE:
            _check(rc)
        out = _out(n.value)
        _check(lib.hre_contract_grant_envelope(self._c(), out, ctypes.byref(n), gb))
        return bytes(out)[: n.value]

    def record_events(self, record_id):
        """The audit trail of a record, oldest first."""
        return [_event(e) for e in _list_query(lib.hre_contract_record_events, self._c(),
                                               record_id, _ffi.HreContractEvent)]

    def account_events(self, addr):
        return [_event(e) for e in _list_query(lib.hre_contract_account_events, self._c(),
                                               addr, _ffi.HreContractEvent)]

    def can_access(self, reader, record_id, block_time):
        """Would reader's log_access on record_id be accepted at block_time?
        False for EAUTH; raises HreError for ENOTFOUND and other errors."""
        rc = lib.hre_contract_can_access(self._c(), _h32(reader, "reader"),
                                         _h32(record_id, "record id"), block_time)
        if rc == EAUTH:
            return False
        _check(rc)
        return True

    def check_commitment(self, record_id, salt, patient_id, test_name):
        """True if the cleartext patient id and test name match the record's commitments."""
        sb, sn = _buf(_bytes(salt))
        pb, pn = _buf(_bytes(patient_id))
        tb, tn = _buf(_bytes(test_name))
        rc = lib.hre_contract_check_commitment(self._c(), _h32(record_id, "record id"),
                                               sb, sn, pb, pn, tb, tn)
        if rc == EVERIFY:
            return False
        _check(rc)
        return True

    def stats(self):
        st = _ffi.HreContractStats(version=CONTRACT_STATS_VERSION)
        _check(lib.hre_contract_stats_get(self._c(), ctypes.byref(st)))
        return Stats(**{f: getattr(st, f) for f, _ in _ffi.HreContractStats._fields_[1:]})

    def snapshot(self):
        """The whole state as a snapshot blob (docs/PROTOCOL.md 5.7)."""
        n = ctypes.c_size_t(0)
        rc = lib.hre_contract_snapshot_save(self._c(), None, ctypes.byref(n))
        if rc != EBUFSIZE:
            _check(rc)
        out = _out(n.value)
        _check(lib.hre_contract_snapshot_save(self._c(), out, ctypes.byref(n)))
        return bytes(out)[: n.value]


def _contract_options(network_id, authority_key, genesis_org_name, cb):
    o = _ffi.HreContractOptions()
    _check(lib.hre_contract_options_init(ctypes.byref(o), CONTRACT_OPTIONS_VERSION))
    o.network_id = (ctypes.c_uint8 * 32).from_buffer_copy(_bytes(network_id, 32, "network id"))
    o.authority_key = (ctypes.c_uint8 * 34).from_buffer_copy(_bytes(authority_key, 34, "key"))
    name = genesis_org_name.encode() if isinstance(genesis_org_name, str) else genesis_org_name
    o.genesis_org_name = name
    o.on_event = cb.c
    return o, name


class Contract(_Owned, _ContractQueries):
    """A stand-alone contract state you own (wraps hre_contract *): apply
    already-verified transactions, undo, snapshots. Most hosts use a Ledger
    (which verifies and stores blocks) and its .contract view instead."""

    _free = "hre_contract_free"

    def __init__(self, network_id, authority_key, genesis_org_name=None, on_event=None,
                 _snapshot=None, _threads=0, _pool=None):
        self._ptr = None
        self._cb = _Callback(_ffi.ContractEventFn, on_event, _event)
        o, _name = _contract_options(network_id, authority_key, genesis_org_name, self._cb)
        o.threads = _threads
        o.pool = _pool._ptr if _pool is not None else None
        p = ctypes.c_void_p()
        if _snapshot is None:
            _check(lib.hre_contract_new(ctypes.byref(p), ctypes.byref(o)))
        else:
            b, n = _buf(_snapshot)
            _check(lib.hre_contract_snapshot_load(ctypes.byref(p), ctypes.byref(o), b, n))
        self._ptr = p

    @classmethod
    def load_snapshot(cls, data, network_id, authority_key, genesis_org_name=None,
                      on_event=None, threads=0, pool=None):
        """Load a snapshot blob (every check of hre_contract_snapshot_load).
        pool: a Pool whose threads (plus this one) the load may use; without
        one, threads > 1 lets the load use that many threads, this one
        included, on a pool made for the call."""
        return cls(network_id, authority_key, genesis_org_name, on_event, _snapshot=data,
                   _threads=threads, _pool=pool)

    def _c(self):
        if not self._ptr:
            raise HreError(EINVAL, "contract is closed")
        return self._ptr

    def apply(self, tx, block_time, flags=0):
        """Apply a transaction. It must have passed Tx.verify (or been signed
        with Tx.sign here); flags=CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER
        accepts an unverified one on the caller's word (see contract.h)."""
        rc = lib.hre_contract_apply(self._c(), tx._ptr, block_time, flags)
        self._cb.reraise()
        _check(rc)

    def undo(self):
        _check(lib.hre_contract_undo(self._c()))

    @property
    def undo_depth(self):
        return lib.hre_contract_undo_depth(self._c())



class LedgerContract(_ContractQueries):
    """The contract state at a ledger's tip. Borrowed from the ledger: it is
    looked up again on every query, so it never outlives the ledger's state;
    it is never freed by Python."""

    def __init__(self, ledger):
        self._ledger = ledger

    def _c(self):
        p = ctypes.c_void_p()
        _check(lib.hre_ledger_contract(self._ledger._handle(), ctypes.byref(p)))
        return p


# -- payloads ---------------------------------------------------------------

_KINDS = {name: (kind, cls) for kind, (name, cls) in _ffi.PAYLOADS.items()}


def _kind(kind):
    if isinstance(kind, int):
        if kind not in _ffi.PAYLOADS:
            raise ValueError(f"unknown tx kind {kind}")
        return kind, _ffi.PAYLOADS[kind][0], _ffi.PAYLOADS[kind][1]
    if kind not in _KINDS:
        raise ValueError(f"unknown tx kind {kind!r}; one of {sorted(_KINDS)}")
    return _KINDS[kind][0], kind, _KINDS[kind][1]


def _payload_struct(cls, fields):
    """Fill a payload struct from keyword fields. Returns (struct, buffers to keep alive)."""
    s, keep = cls(), []
    types_ = dict(cls._fields_)
    ptrlen = getattr(cls, "_ptrlen_", {})
    lens = {v[0] for v in ptrlen.values()}
    fields = dict(fields)
    if "supersedes" in fields and "has_supersedes" not in fields and "has_supersedes" in types_:
        fields["has_supersedes"] = 1
    for k, v in fields.items():
        if k not in types_ or k in lens:
            raise TypeError(f"{cls._c_name_}: unknown or computed field {k!r}")
        ft = types_[k]
        if k in ptrlen:
            lf, unit = ptrlen[k]
            if unit == 32 and isinstance(v, (list, tuple)):
                v = b"".join(_bytes(x, 32, k) for x in v)
            v = _bytes(v)
            if len(v) % unit:
                raise ValueError(f"{k}: length must be a multiple of {unit}")
            b, _ = _buf(v)
            keep.append(b)
            setattr(s, k, ctypes.cast(b, _ffi.u8p))
            setattr(s, lf, len(v) // unit)
        elif issubclass(ft, ctypes.Array):
            setattr(s, k, ft.from_buffer_copy(_bytes(v, ft._length_, k)))
        else:
            setattr(s, k, int(v))
    return s, keep


def _payload_dict(s):
    """Copy a decoded payload struct (its pointers borrow the input) to a dict."""
    ptrlen = getattr(type(s), "_ptrlen_", {})
    lens = {v[0] for v in ptrlen.values()}
    out = {}
    for k, ft in type(s)._fields_:
        if k in lens:
            continue
        v = getattr(s, k)
        if k in ptrlen:
            lf, unit = ptrlen[k]
            n = getattr(s, lf) * unit
            raw = ctypes.string_at(v, n) if n else b""
            v = [raw[i:i + 32] for i in range(0, n, 32)] if unit == 32 else raw
        elif issubclass(ft, ctypes.Array):
            v = bytes(v)
        out[k] = v
    return out


def encode_payload(kind, **fields):
    """Canonical payload bytes of a tx kind ("new_record", 7, ...)."""
    _, name, cls = _kind(kind)
    s, _keep = _payload_struct(cls, fields)
    enc = getattr(lib, f"hre_contract_encode_{name}")
    n = ctypes.c_size_t(0)
    rc = enc(ctypes.byref(s), None, ctypes.byref(n))
    if rc != EBUFSIZE:
        _check(rc)
    out = _out(n.value)
    _check(enc(ctypes.byref(s), out, ctypes.byref(n)))
    return bytes(out)[: n.value]


def decode_payload(kind, data):
    """Strictly decode a payload into a dict of its fields (copied out)."""
    _, name, cls = _kind(kind)
    s = cls()
    b, n = _buf(data)
    _check(getattr(lib, f"hre_contract_decode_{name}")(ctypes.byref(s), b, n))
    return _payload_dict(s)   # while b is alive


def build_tx(kind, network_id, signer, nonce, timestamp, **fields):
    """Encode a payload, wrap it in a tx envelope and sign it with signer (a Key)."""
    _, name, cls = _kind(kind)
    s, _keep = _payload_struct(cls, fields)
    p = ctypes.c_void_p()
    _check(getattr(lib, f"hre_contract_build_{name}")(
        ctypes.byref(p), _h32(network_id, "network id"), signer._ptr, nonce, timestamp,
        ctypes.byref(s)))
    return Tx(p)


# -- ledger -----------------------------------------------------------------

def _ledger_event(e):
    return LedgerEvent(type=e.type, height=e.height, block_hash=bytes(e.block_hash),
                       tx_count=e.tx_count, tx_index=e.tx_index,
                       contract=_event(e.contract.contents) if e.contract else None)


class MerkleProof(_Value):
    """An inclusion proof: header (Header), height, branch (raw struct copy)."""

    def verify(self, txid, pow_limit=None):
        """Check txid against the header's Merkle root (and its PoW if pow_limit)."""
        root = _buf(self.header.merkle_root)[0]
        rc = lib.hre_merkle_branch_verify(ctypes.byref(self.branch), root, _h32(txid, "txid"))
        if rc == EVERIFY:
            return False
        _check(rc)
        return pow_limit is None or self.header.check_pow(pow_limit)

    @property
    def depth(self):
        return self.branch.depth


class Ledger(_Owned):
    """A ledger on a Storage (wraps hre_ledger *). Close it (or use `with`)
    before closing the storage. on_event(LedgerEvent) is called for every
    contract event of a connected block and for block (dis)connections."""

    _free = "hre_ledger_close"

    def _release(self):
        super()._release()
        self._storage._users -= 1

    def __init__(self, storage, params, authority_key, *, genesis_org_name=None,
                 verify_threads=0, on_event=None, snapshot_interval=0, max_reorg_depth=0,
                 max_orphans=0, max_side_blocks=0, mempool_max_txs=0, segment_size=0,
                 compress_level=0, log=None):
        """log(level, message) receives the ledger's log lines (LOG_ERROR ..
        LOG_DEBUG; see hre_log_fn in common.h)."""
        self._ptr = None
        self._cb = _Callback(_ffi.LedgerEventFn, on_event, _ledger_event)
        self._log = _LogHook(log)
        o = _ffi.HreLedgerOptions()
        _check(lib.hre_ledger_options_init(ctypes.byref(o), LEDGER_OPTIONS_VERSION))
        o.storage = storage._handle()
        o.params = ctypes.pointer(params._p)
        o.authority_key = (ctypes.c_uint8 * 34).from_buffer_copy(_bytes(authority_key, 34, "key"))
        name = genesis_org_name.encode() if isinstance(genesis_org_name, str) else genesis_org_name
        o.genesis_org_name = name
        o.verify_threads = verify_threads
        o.on_event = self._cb.c
        o.snapshot_interval, o.max_reorg_depth, o.max_orphans = (snapshot_interval,
                                                                 max_reorg_depth, max_orphans)
        o.max_side_blocks, o.mempool_max_txs = max_side_blocks, mempool_max_txs
        o.segment_size, o.compress_level = segment_size, compress_level
        o.log_fn = self._log.c
        p = ctypes.c_void_p()
        rc = lib.hre_ledger_open(ctypes.byref(p), ctypes.byref(o))
        self._log.reraise()
        _check(rc)
        self._ptr, self._storage, self.params = p, storage, params
        storage._users += 1

    def _handle(self):
        if not self._ptr:
            raise HreError(EINVAL, "ledger is closed")
        return self._ptr

    def _after(self, rc, status=None):
        self._cb.reraise()
        self._log.reraise()
        _check(rc, status)

    @property
    def contract(self):
        """Queries on the contract state at the tip (a borrowed view)."""
        return LedgerContract(self)

    @property
    def network_id(self):
        out = _out(32)
        _check(lib.hre_ledger_network_id(self._handle(), out))
        return bytes(out)

    def tip(self):
        """(height, hash) of the main-chain tip."""
        h, out = ctypes.c_uint64(0), _out(32)
        _check(lib.hre_ledger_tip(self._handle(), ctypes.byref(h), out))
        return h.value, bytes(out)

    def header(self, height):
        """(Header, hash) of the main-chain block at height."""
        hdr, out = HreHeader(), _out(32)
        _check(lib.hre_ledger_header_by_height(self._handle(), ctypes.byref(hdr), out, height))
        return Header._from_struct(hdr), bytes(out)

    def block(self, height):
        """The encoded main-chain block at height."""
        n = ctypes.c_size_t(0)
        rc = lib.hre_ledger_block_by_height(self._handle(), None, ctypes.byref(n), height)
        if rc != EBUFSIZE:
            _check(rc)
        out = _out(n.value)
        _check(lib.hre_ledger_block_by_height(self._handle(), out, ctypes.byref(n), height))
        return bytes(out)[: n.value]

    def submit_tx(self, tx, now):
        """Submit a Tx (or its encoding) to the mempool; returns its txid. A
        refusal raises HreError (e.g. code EAUTH, ESTATE) with .status."""
        data = tx.encode() if isinstance(tx, Tx) else bytes(tx)
        b, n = _buf(data)
        txid, st = _out(32), ctypes.c_int(0)
        rc = lib.hre_ledger_submit_tx(self._handle(), txid, ctypes.byref(st), b, n, now)
        self._after(rc, st.value)
        return bytes(txid)

    @property
    def mempool_count(self):
        return lib.hre_ledger_mempool_count(self._handle())

    def in_mempool(self, txid):
        return bool(lib.hre_ledger_mempool_contains(self._handle(), _h32(txid, "txid")))

    def block_template(self, now):
        n = ctypes.c_size_t(0)
        rc = lib.hre_ledger_block_template(self._handle(), None, ctypes.byref(n), now)
        if rc != EBUFSIZE:
            _check(rc)
        out = _out(n.value)
        _check(lib.hre_ledger_block_template(self._handle(), out, ctypes.byref(n), now))
        return bytes(out)[: n.value]

    def mine(self, now, max_tries=1 << 32):
        """Assemble, mine and connect a block from the mempool; returns its hash."""
        out, st = _out(32), ctypes.c_int(0)
        rc = lib.hre_ledger_mine(self._handle(), out, ctypes.byref(st), now, max_tries)
        self._after(rc, st.value)
        return bytes(out)

    def submit_block(self, block, now):
        """Submit an encoded block; returns the status (LEDGER_CONNECTED, ...)."""
        b, n = _buf(block)
        st = ctypes.c_int(0)
        rc = lib.hre_ledger_submit_block(self._handle(), ctypes.byref(st), b, n, now)
        self._after(rc, st.value)
        return st.value

    def tx_proof(self, txid, height_hint=None):
        """Merkle inclusion proof of a main-chain tx (record ids and grant ids are txids)."""
        hdr, br, h = HreHeader(), _ffi.HreMerkleBranch(), ctypes.c_uint64(0)
        hint = 0xFFFFFFFFFFFFFFFF if height_hint is None else height_hint
        _check(lib.hre_ledger_tx_proof(self._handle(), ctypes.byref(hdr), ctypes.byref(br),
                                       ctypes.byref(h), _h32(txid, "txid"), hint))
        return MerkleProof(header=Header._from_struct(hdr), branch=br, height=h.value)

    def snapshot(self):
        _check(lib.hre_ledger_snapshot(self._handle()))

    def verify_chain(self, progress=None):
        """Re-validate the main chain from genesis. progress(height, tip) may
        return True to stop. Raises HreError with .first_bad_height on failure."""
        errors = []

        def tramp(_user, height, tip):
            try:
                return 1 if progress(height, tip) else 0
            except BaseException as e:  # noqa: B902
                errors.append(e)
                return 1
        cb = _ffi.LedgerProgressFn(tramp) if progress else _ffi.LedgerProgressFn()
        bad = ctypes.c_uint64(0)
        rc = lib.hre_ledger_verify_chain(self._handle(), ctypes.byref(bad), cb, None)
        if errors:
            raise errors[0]
        if rc != OK:
            err = HreError(rc, lib.hre_error_detail().decode(errors="replace"))
            err.first_bad_height = None if bad.value == 0xFFFFFFFFFFFFFFFF else bad.value
            raise err



def _make_builder(name):
    def build(network_id, signer, nonce, timestamp, **fields):
        return build_tx(name, network_id, signer, nonce, timestamp, **fields)
    build.__name__ = build.__qualname__ = f"build_{name}"
    build.__doc__ = f"Build and sign a {name} transaction (fields as struct hre_{name}_payload)."
    return build


for _kind_no, (_name, _cls) in _ffi.PAYLOADS.items():
    globals()[f"build_{_name}"] = _make_builder(_name)
    __all__.append(f"build_{_name}")
del _kind_no, _name, _cls
