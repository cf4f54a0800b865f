"""Python bindings for libhre (ctypes; no compiled extension needed).

Loading: the package loads the installed library by its soname,
libhre.so.1; HRE_LIBRARY=/path/to/libhre.so.1 overrides that (for a build
tree). If neither loads, `import hre` raises ImportError naming both.

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
        ledger.submit_tx(tx, now)               # raises e.g. hre.AuthError if refused
        ledger.mine(now + 60)
        ledger.contract.account(patient_key.address())   # queries: a borrowed view
    storage.close()

Errors: a failing call raises the HreError subclass of its code
(InvalidArgument, DecodeError, NotFound, AuthError, StateError, Corrupt,
DecryptError, ...; ERROR_CLASSES maps every code). Each keeps .code (the
negative C value), .detail (the library's detail message) and .status (a
LedgerStatus, for ledger calls). Wrong Python-side argument types and
lengths the package checks itself raise TypeError / ValueError.

Enumerated values are IntEnums (Kind, Role, OrgType, AccountStatus,
EventType, LedgerEventType, LedgerStatus, ...); they compare equal to the
plain module constants (ROLE_ADMIN == Role.ADMIN == 2).

Callbacks (on_event, log): an exception raised inside one does not make the
library call look failed. The call runs to its end (the library keeps
delivering the remaining events to the callback), and then, if the call
succeeded, CallbackError is raised: its .result is what the method would
have returned (the mined block's hash, the submit status, the opened
Ledger, ...), .errors every exception the callbacks raised, and __cause__
the first. If the call itself failed, its HreError is raised and carries
the callback exceptions in .callback_errors. KeyboardInterrupt and
SystemExit are re-raised unchanged after the call. The one exception to
this is verify_chain's progress callback: an exception there stops the walk
(the call is cancelled, nothing was committed) and is raised as it is.

Ownership: every wrapper frees its handle (close(), `with`, or when garbage
collected); values returned by queries and events are copies (plain Python
objects), never pointers into library memory. A Ledger keeps its Storage
alive; close the ledger before the storage. Secrets the package copies into
ctypes buffers (keys, plaintexts) are wiped after the call; Python bytes
objects themselves cannot be wiped.
"""
import ctypes
import enum
import types

from . import _ffi
from ._ffi import lib, HreHeader
from . import _errors
from ._errors import HreError, CallbackError, ERROR_CLASSES, error_class
from ._errors import make_error as _make_error
from ._errors import *  # noqa: F401,F403 - the HreError subclasses
from . import _enums
from ._enums import *  # noqa: F401,F403 - the IntEnums
from ._enums import as_enum as _as_enum
from ._enums import Curve, Kind, OrgType, Role, AccountStatus, ReaderType, Scope
from ._enums import SuspendAction, EventType, EventFlag, LedgerEventType, LedgerStatus, HpkeMode
from ._enums import EncTarget, AccessReason, AccessBasis, NodeStatusReason

__all__ = ["HreError", "CallbackError", "ERROR_CLASSES", "error_class", "ErrorCode",
           "version", "sha256", "sha256d", "hmac_sha256", "hkdf_sha256", "hkdf_sha256_extract",
           "hkdf_sha256_expand", "Key", "PubKey", "Tx", "Header", "merkle_root",
           "MerkleBranch", "pow_target_from_compact",
           # layer-1 crypto (1.1)
           "Aead", "HpkeContext", "hpke_wrap", "hpke_unwrap", "hpke_derive_key",
           # records exchange: storage, contract, ledger
           "Storage", "ChainParams", "Contract", "Ledger", "LedgerContract", "MerkleProof",
           "address", "genesis_org_id", "commit", "encode_payload", "decode_payload", "build_tx",
           "status_name", "Account", "Org", "Record", "Grant", "Event", "Stats", "LedgerEvent",
           "Pool", "verify_batch",
           # 1.1: access and node verdicts, networks, block index entries
           "Access", "NodeStatus", "Network", "BlockInfo"]
__all__ += [n for n in _errors.__all__ if n not in __all__]
__all__ += [n for n in _enums.__all__ if n not in __all__ and n != "ENUMS"]

# Error codes: ErrorCode.NOTFOUND == ENOTFOUND == -5 (and OK == 0).
ErrorCode = enum.IntEnum(
    "ErrorCode", [("OK", 0)] + [(c.c_name[4:], c.code) for c in ERROR_CLASSES.values()],
    module=__name__)
ErrorCode.__doc__ = "The hre_error codes (errors.h); ERROR_CLASSES maps each to its exception."
for _m in ErrorCode:
    globals()[_m.name] = _m
    __all__.append(_m.name)

# Module constants: every enum member under its C name without HRE_
# (ROLE_ADMIN, EVENT_GRANTED, LEDGER_CONNECTED, CURVE_P256, LOG_INFO, ...),
# and the other header constants the package uses (checked against the
# headers by tests/python/test_bindings.py).
for _cls in _enums.ENUMS:
    for _m in _cls:
        globals()[_enums.c_name(_m)[4:]] = _m
        __all__.append(_enums.c_name(_m)[4:])
for _n, _v in _ffi.CONSTANTS.items():
    if _n != "HRE_OK":
        globals()[_n[4:]] = _v
del _cls, _m, _n, _v


def _detail():
    return lib.hre_error_detail().decode(errors="replace")


def _check(rc, status=None):
    if rc != OK:
        raise _make_error(rc, _detail(), None if status is None else _as_enum(LedgerStatus, status))


def _finish(call, rc, result, errors, status=None):
    """End a call that ran Python callbacks: see "Callbacks" in the package docs."""
    errs = list(errors)
    del errors[:]
    detail = _detail() if rc != OK else ""
    for e in errs:
        if not isinstance(e, Exception):     # KeyboardInterrupt, SystemExit
            raise e
    if rc != OK:
        err = _make_error(rc, detail, None if status is None else _as_enum(LedgerStatus, status))
        err.callback_errors = errs
        raise err
    if errs:
        raise CallbackError(call, result, errs) from errs[0]
    return result


def _buf(data):
    """A ctypes uint8 array holding a copy of data (bytes-like), and its length."""
    data = bytes(data)
    return (ctypes.c_uint8 * max(1, len(data))).from_buffer_copy(data or b"\0"), len(data)


def _opt(data):
    """(buffer or None, length) for an optional byte string (None or empty -> NULL, 0)."""
    if data is None or len(data) == 0:
        return None, 0
    return _buf(data)


def _out(n):
    return (ctypes.c_uint8 * max(1, n))()


def _wipe(*bufs):
    for b in bufs:
        if b is not None:
            ctypes.memset(b, 0, ctypes.sizeof(b))


def _sized(fn, *args):
    """Call fn(*args, out, &len) twice: learn the size, then fill. Returns bytes."""
    n = ctypes.c_size_t(0)
    rc = fn(*args, None, ctypes.byref(n))
    if rc == OK:
        return b""
    if rc != EBUFSIZE:
        _check(rc)
    out = _out(n.value)
    _check(fn(*args, out, ctypes.byref(n)))
    return bytes(out)[: n.value]


def version() -> str:
    """The library's version string (hre_version_string), e.g. "1.0.0"."""
    return lib.hre_version_string().decode()


def sha256(data: bytes) -> bytes:
    """SHA-256 of data (32 bytes)."""
    out = _out(32)
    b, n = _buf(data)
    _check(lib.hre_sha256(out, b, n))
    return bytes(out)


def sha256d(data: bytes) -> bytes:
    """Double SHA-256 of data (Bitcoin's hash of headers and transactions)."""
    out = _out(32)
    b, n = _buf(data)
    _check(lib.hre_sha256d(out, b, n))
    return bytes(out)


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256(key, data) (32 bytes)."""
    out = _out(32)
    k, kn = _buf(key)
    b, n = _buf(data)
    rc = lib.hre_hmac_sha256(out, k, kn, b, n)
    _wipe(k)
    _check(rc)
    return bytes(out)


def hkdf_sha256(ikm: bytes, length: int, salt: bytes = b"", info: bytes = b"") -> bytes:
    """HKDF-SHA256 (RFC 5869) extract-and-expand: length bytes (1..8160)."""
    out = _out(length)
    ib, il = _buf(ikm)
    sb, sl = _opt(salt)
    nb, nl = _opt(info)
    rc = lib.hre_hkdf_sha256(out, length, ib, il, sb, sl, nb, nl)
    _wipe(ib)
    _check(rc)
    return bytes(out)[:length]


def hkdf_sha256_extract(salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract (RFC 5869 2.2): the 32-byte PRK = HMAC-SHA256(salt, ikm);
    an empty salt means 32 zero bytes."""
    prk = _out(32)
    sb, sl = _opt(salt)
    ib, il = _opt(ikm)
    rc = lib.hre_hkdf_sha256_extract(prk, sb, sl, ib, il)
    _wipe(ib)
    _check(rc)
    return bytes(prk)


def hkdf_sha256_expand(prk: bytes, length: int, info: bytes = b"") -> bytes:
    """HKDF-Expand (RFC 5869 2.3): length bytes (1..8160) from a PRK of at
    least 32 bytes. Raises InvalidArgument for a length or PRK out of range."""
    out = _out(length)
    pb, pl = _buf(prk)
    nb, nl = _opt(info)
    rc = lib.hre_hkdf_sha256_expand(out, length, pb, pl, nb, nl)
    _wipe(pb)
    _check(rc)
    return bytes(out)[:length]


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
        """Release the handle now (later calls raise InvalidArgument or fail);
        calling close() again does nothing."""
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
        """Number of worker threads (the caller's thread not counted)."""
        return lib.hre_pool_threads(self._ptr)


class PubKey(_Owned):
    """A parsed public key (wraps hre_pubkey *). Two PubKeys are equal when
    their curve and point are (hre_pubkey_equal)."""

    _free = "hre_pubkey_free"

    @classmethod
    def parse(cls, sec1, curve=Curve.P256):
        """Parse a SEC1 point (33-byte compressed or 65-byte uncompressed) on
        curve; DecodeError for a point off the curve or at infinity."""
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
        """The SEC1 encoding: 33 bytes compressed, 65 uncompressed."""
        out = _out(65)
        n = ctypes.c_size_t(65)
        _check(lib.hre_pubkey_serialize(self._ptr, out, ctypes.byref(n), 1 if compressed else 0))
        return bytes(out)[: n.value]

    def serialize_wire(self):
        """The 34-byte wire form (curve id || compressed point)."""
        out = _out(34)
        _check(lib.hre_pubkey_serialize_wire(self._ptr, out))
        return bytes(out)

    @property
    def curve(self):
        """The key's Curve."""
        return _as_enum(Curve, lib.hre_pubkey_curve(self._ptr))

    def verify(self, digest, sig):
        """True if sig (64-byte r || s, low S) signs the 32-byte digest with
        this key; False if it does not verify. Other failures raise."""
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

    def __eq__(self, other):
        if not isinstance(other, PubKey):
            return NotImplemented
        return lib.hre_pubkey_equal(self._ptr, other._ptr) == 1

    def __hash__(self):
        return hash(self.serialize_wire())


class Key(_Owned):
    """A private key (wraps hre_key *; wiped by the library when freed)."""

    _free = "hre_key_free"

    @classmethod
    def generate(cls, curve=Curve.P256):
        """A new random key on curve (Curve.P256 or Curve.SECP256K1)."""
        p = ctypes.c_void_p()
        _check(lib.hre_key_generate(ctypes.byref(p), curve))
        return cls(p)

    @classmethod
    def import_pem(cls, pem, passphrase=None):
        """Import a PKCS#8 PEM key, clear or encrypted (then passphrase is
        needed; a wrong one raises DecryptError)."""
        p = ctypes.c_void_p()
        pem = pem.encode() if isinstance(pem, str) else bytes(pem)
        pw = passphrase.encode() if isinstance(passphrase, str) else passphrase
        _check(lib.hre_key_import_pem(ctypes.byref(p), pem, len(pem), pw, len(pw) if pw else 0))
        return cls(p)

    def export_pem(self, passphrase=None):
        """PKCS#8 PEM text: encrypted (PBES2) under passphrase when given,
        else in clear."""
        pw = passphrase.encode() if isinstance(passphrase, str) else passphrase
        n = ctypes.c_size_t(0)
        rc = lib.hre_key_export_pem(self._ptr, None, ctypes.byref(n), pw, len(pw) if pw else 0)
        if rc != EBUFSIZE:
            _check(rc)
        buf = ctypes.create_string_buffer(n.value)
        rc = lib.hre_key_export_pem(self._ptr, buf, ctypes.byref(n), pw, len(pw) if pw else 0)
        text = buf.value.decode()
        _wipe(buf)
        _check(rc)
        return text

    @property
    def curve(self):
        """The key's Curve."""
        return _as_enum(Curve, lib.hre_key_curve(self._ptr))

    def pubkey(self):
        """The public key (a new PubKey)."""
        p = ctypes.c_void_p()
        _check(lib.hre_key_pubkey(self._ptr, ctypes.byref(p)))
        return PubKey(p)

    def sign(self, digest):
        """Sign a 32-byte digest: 64 bytes r || s with low S."""
        if len(digest) != 32:
            raise ValueError("digest must be 32 bytes")
        out = _out(64)
        d, _ = _buf(digest)
        _check(lib.hre_key_sign(self._ptr, out, d))
        return bytes(out)

    def ecdh(self, peer):
        """ECDH with a PubKey on the same curve: the 32-byte x-coordinate of
        the shared point. Use it through a KDF (hkdf_sha256), never as a key."""
        out = _out(32)
        _check(lib.hre_key_ecdh(self._ptr, out, peer._ptr))
        shared = bytes(out)
        _wipe(out)
        return shared

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
        """An unsigned transaction of a Kind with a raw payload (see
        build_tx for encoded, signed ones)."""
        p = ctypes.c_void_p()
        nid = _h32(network_id, "network id")
        pl, n = _buf(payload)
        _check(lib.hre_tx_new(ctypes.byref(p), nid, kind, nonce, timestamp, pl, n))
        return cls(p)

    @classmethod
    def decode(cls, data):
        """Strictly decode an encoded transaction (DecodeError, LimitExceeded)."""
        p = ctypes.c_void_p()
        b, n = _buf(data)
        _check(lib.hre_tx_decode(ctypes.byref(p), b, n))
        return cls(p)

    def sign(self, key):
        """Sign with key (which becomes the sender); returns self."""
        _check(lib.hre_tx_sign(self._ptr, key._ptr))
        return self

    def encode(self):
        """The canonical encoding (docs/PROTOCOL.md section 4)."""
        return _sized(lib.hre_tx_encode, self._ptr)

    def verify(self, network_id):
        """Check the network id and the signature; on success the transaction
        is marked verified (see `verified`), which Contract.apply requires."""
        nid = _h32(network_id, "network id")
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
        """sha256d of the encoding (internal byte order)."""
        out = _out(32)
        _check(lib.hre_tx_txid(self._ptr, out))
        return bytes(out)

    @property
    def kind(self):
        """The transaction's Kind."""
        return _as_enum(Kind, lib.hre_tx_kind(self._ptr))

    @property
    def nonce(self):
        """The sender's nonce."""
        return lib.hre_tx_nonce(self._ptr)

    @property
    def timestamp(self):
        """The sender's timestamp (seconds)."""
        return lib.hre_tx_timestamp(self._ptr)

    @property
    def payload(self):
        """The payload bytes (a copy)."""
        n = ctypes.c_size_t(0)
        p = lib.hre_tx_payload(self._ptr, ctypes.byref(n))
        return ctypes.string_at(p, n.value) if n.value else b""

    @property
    def sender(self):
        """The signer's 34-byte wire key (a copy; hre.address(tx.sender) is
        its account address), or None while the transaction is unsigned."""
        p = lib.hre_tx_sender(self._ptr)
        return ctypes.string_at(p, 34) if p else None


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

    @property
    def version(self):
        """Header version."""
        return self._h.version

    @property
    def prev_hash(self):
        """Hash of the previous block (internal byte order)."""
        return bytes(self._h.prev_hash)

    @property
    def merkle_root(self):
        """Merkle root of the block's txids (internal byte order)."""
        return bytes(self._h.merkle_root)

    @property
    def time(self):
        """Block time (seconds)."""
        return self._h.time

    @property
    def bits(self):
        """Compact target (nBits)."""
        return self._h.bits

    @property
    def nonce(self):
        """Proof-of-work nonce."""
        return self._h.nonce

    def encode(self):
        """The 80-byte encoding."""
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
        """True if the hash meets the header's target and the target is
        within pow_limit (32 bytes, little-endian); False if not."""
        lim = _h32(pow_limit, "pow limit")
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


class MerkleBranch:
    """A Merkle inclusion branch (struct hre_merkle_branch): the leaf's index
    and the sibling hashes from the leaf level up. encode() gives the wire
    form (u32 LE index || u8 depth || depth * 32 bytes, docs/PROTOCOL.md
    section 2), so a proof can be shipped next to its 80-byte header;
    decode() checks it as hostile input."""

    def __init__(self, index=0, hashes=()):
        hashes = [bytes(h) for h in hashes]
        if not 0 <= index < 1 << 32:
            raise ValueError("index must fit in 32 bits")
        if len(hashes) > MERKLE_MAX_DEPTH or any(len(h) != 32 for h in hashes):
            raise ValueError(f"at most {MERKLE_MAX_DEPTH} hashes of 32 bytes each")
        self._b = _ffi.HreMerkleBranch()
        self._b.index, self._b.depth = index, len(hashes)
        for i, h in enumerate(hashes):
            self._b.hashes[i] = (ctypes.c_uint8 * 32).from_buffer_copy(h)

    @classmethod
    def _from_struct(cls, b):
        self = cls()
        ctypes.memmove(ctypes.byref(self._b), ctypes.byref(b), ctypes.sizeof(b))
        return self

    @classmethod
    def compute(cls, leaves, index):
        """The branch of leaves[index]: (MerkleBranch, root)."""
        leaves = [bytes(x) for x in leaves]
        if any(len(x) != 32 for x in leaves):
            raise ValueError("leaves must be 32 bytes each")
        arr, _ = _buf(b"".join(leaves))
        b, root = _ffi.HreMerkleBranch(), _out(32)
        _check(lib.hre_merkle_branch_compute(ctypes.byref(b), root, arr, len(leaves), index))
        return cls._from_struct(b), bytes(root)

    @classmethod
    def decode(cls, data):
        """Decode the wire form (DecodeError for a malformed or truncated one
        or trailing bytes, LimitExceeded for depth > 32)."""
        b = _ffi.HreMerkleBranch()
        buf, n = _buf(data)
        _check(lib.hre_merkle_branch_decode(ctypes.byref(b), buf, n))
        return cls._from_struct(b)

    def encode(self):
        """The wire form (InvalidArgument for a malformed branch, e.g. an
        index not below 2^depth)."""
        return _sized(lib.hre_merkle_branch_encode, ctypes.byref(self._b))

    @property
    def index(self):
        """The leaf's position in the tree."""
        return self._b.index

    @property
    def depth(self):
        """Number of sibling hashes."""
        return self._b.depth

    @property
    def hashes(self):
        """The sibling hashes, leaf level first (a list of 32-byte bytes)."""
        return [bytes(self._b.hashes[i]) for i in range(min(self._b.depth, MERKLE_MAX_DEPTH))]

    def root(self, leaf):
        """The root this branch implies for leaf."""
        out = _out(32)
        _check(lib.hre_merkle_branch_root(ctypes.byref(self._b), out, _h32(leaf, "leaf")))
        return bytes(out)

    def verify(self, root, leaf):
        """True if leaf is included under root at this branch's index."""
        rc = lib.hre_merkle_branch_verify(ctypes.byref(self._b), _h32(root, "root"),
                                          _h32(leaf, "leaf"))
        if rc == EVERIFY:
            return False
        _check(rc)
        return True

    def __eq__(self, other):
        if not isinstance(other, MerkleBranch):
            return NotImplemented
        return (self.index, self.depth, self.hashes) == (other.index, other.depth, other.hashes)

    def __repr__(self):
        return f"MerkleBranch(index={self.index}, depth={self.depth})"


def pow_target_from_compact(bits):
    """Decode nBits. Returns (target as int, negative, overflow)."""
    out = _out(32)
    neg, ovf = ctypes.c_int(0), ctypes.c_int(0)
    _check(lib.hre_pow_target_from_compact(out, ctypes.byref(neg), ctypes.byref(ovf), bits))
    return int.from_bytes(bytes(out), "little"), bool(neg.value), bool(ovf.value)


# ==========================================================================
# Layer-1 crypto (1.1): AES-256-GCM, HPKE
# ==========================================================================

class Aead(_Owned):
    """AES-256-GCM with one key (wraps hre_aead *; the key schedule is wiped
    when closed). Only a 32-byte key, a 12-byte nonce and a 16-byte tag are
    supported; other sizes raise Unsupported. NEVER seal two messages with
    the same nonce under one key: use a counter, or random nonces for at most
    2^32 messages."""

    _free = "hre_aead_free"

    def __init__(self, key):
        p = ctypes.c_void_p()
        kb, kn = _buf(key)
        rc = lib.hre_aead_new(ctypes.byref(p), kb, kn)
        _wipe(kb)
        _check(rc)
        super().__init__(p)

    def _c(self):
        if not self._ptr:
            raise InvalidArgument(EINVAL, "AEAD context is closed")
        return self._ptr

    def seal(self, nonce, plaintext, aad=b"", tag_len=AEAD_TAG_LEN):
        """Encrypt and authenticate: returns (ciphertext, tag)."""
        pt, n = _buf(plaintext)
        nb, nn = _buf(nonce)
        ab, an = _opt(aad)
        ct, tag = _out(n), _out(max(tag_len, 1))
        rc = lib.hre_aead_seal(self._c(), ct, tag, tag_len, nb, nn, ab, an, pt if n else None, n)
        _wipe(pt)
        _check(rc)
        return bytes(ct)[:n], bytes(tag)[:tag_len]

    def open(self, nonce, ciphertext, tag, aad=b""):
        """Check the tag and decrypt: the plaintext, or DecryptError (wrong
        key, nonce, aad, or damaged ciphertext or tag; nothing is released)."""
        cb, n = _buf(ciphertext)
        nb, nn = _buf(nonce)
        ab, an = _opt(aad)
        tb, tn = _buf(tag)
        pt = _out(n)
        _check(lib.hre_aead_open(self._c(), pt, nb, nn, ab, an, cb if n else None, n, tb, tn))
        out = bytes(pt)[:n]
        _wipe(pt)
        return out


def _hpke_mode(mode, auth, psk):
    if mode is not None:
        return HpkeMode(mode)
    return HpkeMode((HpkeMode.AUTH if auth else 0) | (HpkeMode.PSK if psk else 0))


class HpkeContext(_Owned):
    """An HPKE (RFC 9180) context, suite DHKEM(P-256, HKDF-SHA256),
    HKDF-SHA256, AES-256-GCM (wraps hre_hpke_ctx *). Make one with
    HpkeContext.sender (seals; gives enc for the receiver) or
    HpkeContext.receiver (opens); both export. Messages are numbered: open
    them in the order they were sealed. The mode follows from the arguments
    (sender key: auth; psk and psk_id: psk) unless mode is given."""

    _free = "hre_hpke_free"

    @classmethod
    def sender(cls, pk_r, info=b"", *, sk_s=None, psk=None, psk_id=None, mode=None):
        """Set up a sender to pk_r (a P-256 PubKey). Returns (context, enc):
        enc is the 65-byte encapsulated key the receiver needs."""
        mode = _hpke_mode(mode, sk_s is not None, psk is not None)
        p, enc = ctypes.c_void_p(), _out(65)
        ib, il = _opt(info)
        pb, pn = _opt(psk)
        db, dn = _opt(psk_id)
        rc = lib.hre_hpke_setup_sender(ctypes.byref(p), enc, mode, pk_r._ptr,
                                       sk_s._ptr if sk_s is not None else None,
                                       ib, il, pb, pn, db, dn)
        _wipe(pb)
        _check(rc)
        return cls(p), bytes(enc)

    @classmethod
    def receiver(cls, sk_r, enc, info=b"", *, pk_s=None, psk=None, psk_id=None, mode=None):
        """Set up a receiver with its P-256 Key and the sender's enc. A wrong
        key, enc, info or psk is not detected here: the first open fails."""
        mode = _hpke_mode(mode, pk_s is not None, psk is not None)
        if len(enc) != 65:
            raise ValueError("enc must be 65 bytes")
        p = ctypes.c_void_p()
        eb, _ = _buf(enc)
        ib, il = _opt(info)
        pb, pn = _opt(psk)
        db, dn = _opt(psk_id)
        rc = lib.hre_hpke_setup_receiver(ctypes.byref(p), mode, sk_r._ptr,
                                         pk_s._ptr if pk_s is not None else None, eb,
                                         ib, il, pb, pn, db, dn)
        _wipe(pb)
        _check(rc)
        return cls(p)

    def _c(self):
        if not self._ptr:
            raise InvalidArgument(EINVAL, "HPKE context is closed")
        return self._ptr

    def seal(self, plaintext, aad=b""):
        """Seal the next message: ciphertext || 16-byte tag."""
        pt, n = _buf(plaintext)
        ab, an = _opt(aad)
        out = _out(n + HPKE_TAG_LEN)
        ln = ctypes.c_size_t(n + HPKE_TAG_LEN)
        rc = lib.hre_hpke_seal(self._c(), out, ctypes.byref(ln), ab, an, pt if n else None, n)
        _wipe(pt)
        _check(rc)
        return bytes(out)[: ln.value]

    def open(self, ciphertext, aad=b""):
        """Open the next message; DecryptError if it does not authenticate
        (the context stays usable, the sequence number unchanged)."""
        cb, n = _buf(ciphertext)
        ab, an = _opt(aad)
        out = _out(n)
        ln = ctypes.c_size_t(n)
        _check(lib.hre_hpke_open(self._c(), out, ctypes.byref(ln), ab, an, cb, n))
        pt = bytes(out)[: ln.value]
        _wipe(out)
        return pt

    def export(self, exporter_context, length):
        """An exported secret (RFC 9180 5.3) of length bytes (1..8160); the
        sender and receiver contexts give the same bytes."""
        out = _out(length)
        xb, xn = _opt(exporter_context)
        _check(lib.hre_hpke_export(self._c(), out, length, xb, xn))
        return bytes(out)[:length]


def hpke_wrap(pk_r, key, info=b"", aad=b"", sender=None):
    """Wrap a 32-byte data key to a reader's P-256 PubKey: 113 bytes
    (enc || ciphertext || tag). With sender (a P-256 Key) the wrap is in
    auth mode: the reader can check who made it."""
    out = _out(HPKE_WRAP_LEN)
    kb, _ = _buf(_bytes(key, 32, "data key"))
    ib, il = _opt(info)
    ab, an = _opt(aad)
    if sender is None:
        rc = lib.hre_hpke_wrap(out, pk_r._ptr, ib, il, ab, an, kb)
    else:
        rc = lib.hre_hpke_wrap_auth(out, pk_r._ptr, sender._ptr, ib, il, ab, an, kb)
    _wipe(kb)
    _check(rc)
    return bytes(out)


def hpke_unwrap(sk_r, wrap, info=b"", aad=b"", sender=None):
    """Unwrap a data key with the reader's Key: the 32 bytes, or
    DecryptError (wrong key, info, aad or sender, or a damaged wrap). sender
    (a PubKey) checks an auth-mode wrap."""
    out = _out(32)
    wb, _ = _buf(_bytes(wrap, HPKE_WRAP_LEN, "wrap"))
    ib, il = _opt(info)
    ab, an = _opt(aad)
    if sender is None:
        rc = lib.hre_hpke_unwrap(out, sk_r._ptr, ib, il, ab, an, wb)
    else:
        rc = lib.hre_hpke_unwrap_auth(out, sk_r._ptr, sender._ptr, ib, il, ab, an, wb)
    _check(rc)
    key = bytes(out)
    _wipe(out)
    return key


def hpke_derive_key(ikm: bytes) -> "Key":
    """DeriveKeyPair (RFC 9180 7.1.3): a deterministic P-256 Key from at
    least 32 bytes of secret, uniformly random input keying material."""
    p = ctypes.c_void_p()
    ib, il = _buf(ikm)
    rc = lib.hre_hpke_derive_key(ctypes.byref(p), ib, il)
    _wipe(ib)
    _check(rc)
    return Key(p)


# ==========================================================================
# Records exchange: storage, record contract, ledger
# ==========================================================================

def _bytes(x, n=None, what="value"):
    """bytes of x (bytes-like, Key/PubKey -> 34-byte wire key); length-checked."""
    if isinstance(x, Key):
        x = x.wire()
    elif isinstance(x, PubKey):
        x = x.serialize_wire()
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


class Account(_Value):
    """An account (struct hre_contract_account): address, key (34-byte wire
    form), role (Role), status (AccountStatus), org_type (OrgType, None
    without an organisation), org_id (None without one), nonce,
    record_count, grant_count, org_status (AccountStatus of its
    organisation, None without one), enc_key (its published 34-byte
    encryption key, None without one)."""


class Org(_Value):
    """An organisation (struct hre_contract_org): org_id, type (OrgType),
    name, status (AccountStatus: SUSPENDED after suspend_org), enc_key (the
    34-byte encryption key, None without one)."""


class Access(_Value):
    """The verdict of access_check (struct hre_contract_access): allowed
    (bool), reason (AccessReason), basis (AccessBasis, None when refused),
    grant_id (the grant that allowed it, or the revoked / expired grant that
    decided a refusal; None otherwise), code (the call's ErrorCode: OK,
    AUTH, NOTFOUND or ERASED)."""


class NodeStatus(_Value):
    """The verdict of node_status (struct hre_contract_node): member (bool),
    reason (NodeStatusReason), and when the key belongs or belonged to an
    account: address, role (Role), org_type (OrgType or None), org_id (None
    without one); all three None when it never did. code: the call's
    ErrorCode (OK, NOTFOUND or AUTH)."""


class BlockInfo(_Value):
    """A block index entry (struct hre_ledger_block_info): header (Header),
    height, work (cumulative, 32 bytes little-endian), on_main, invalid
    (bools), tx_count."""


class Record(_Value):
    """A record (struct hre_contract_record): id, patient, issuer_org,
    lab_org, the two commitments, doc_sha256, date, price, category,
    is_valid, signature_count, issuer_signer / lab_signer / supersedes (None
    when absent), hospital_name, uri."""


class Grant(_Value):
    """An access grant (struct hre_contract_grant): id, patient, reader_type
    (ReaderType), reader, scope (Scope), category, revoked, record_count,
    envelope_len, expiry, created_time, revoked_time."""


class Stats(_Value):
    """Contract counters (struct hre_contract_stats): accounts, keys, orgs,
    records, grants, events, undo_depth."""


class LedgerEvent(_Value):
    """A ledger event: type (LedgerEventType), height, block_hash, tx_count,
    tx_index, contract (an Event for LedgerEventType.CONTRACT, else None),
    seq (its place in the main chain's event stream, see
    Ledger.events_since; 0 for BLOCK_DISCONNECTED)."""


class Event(_Value):
    """A contract event: type (EventType), kind (Kind of the tx), flags
    (EventFlag), detail, seq, time, actor, subject, and record_id / org_id /
    grant_id (None when the event has none)."""

    NAMES = {m.value: m.name.lower() for m in EventType}

    @property
    def type_name(self):
        """The event type's name in lower case ("record_signed"), or
        "event-N" for a type this package does not know."""
        return Event.NAMES.get(self.type, f"event-{self.type}")


def _text(s, field, n):
    return ctypes.string_at(ctypes.addressof(s) + getattr(type(s), field).offset, n).decode(
        errors="replace")


def _event(e):
    """Copy a (borrowed) hre_contract_event into an Event."""
    f = e.flags
    return Event(type=_as_enum(EventType, e.type), kind=_as_enum(Kind, e.kind),
                 flags=_as_enum(EventFlag, f), detail=e.detail, seq=e.seq, time=e.time,
                 actor=bytes(e.actor), subject=bytes(e.subject),
                 record_id=bytes(e.record_id) if f & EVENT_HAS_RECORD else None,
                 org_id=bytes(e.org_id) if f & EVENT_HAS_ORG else None,
                 grant_id=bytes(e.grant_id) if f & EVENT_HAS_GRANT else None)


def _account(a):
    return Account(address=bytes(a.address), key=bytes(a.key), role=_as_enum(Role, a.role),
                   status=_as_enum(AccountStatus, a.status),
                   org_type=_as_enum(OrgType, a.org_type) if a.has_org else None,
                   org_id=bytes(a.org_id) if a.has_org else None,
                   nonce=a.nonce, record_count=a.record_count, grant_count=a.grant_count,
                   org_status=_as_enum(AccountStatus, a.org_status) if a.has_org else None,
                   enc_key=bytes(a.enc_key) if a.has_enc_key else None)


def _grant(g):
    return Grant(id=bytes(g.id), patient=bytes(g.patient),
                 reader_type=_as_enum(ReaderType, g.reader_type), scope=_as_enum(Scope, g.scope),
                 category=g.category, revoked=bool(g.revoked),
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


class _Trampoline:
    """A CFUNCTYPE trampoline kept alive as long as its owner. Exceptions the
    Python callable raises are appended to `errors` (a list shared by all
    hooks of one handle) and handled by _finish after the C call."""

    def __init__(self, proto, fn, wrap, errors):
        self.errors = errors

        def tramp(*args):
            try:
                wrap(fn, *args)
            except BaseException as e:  # noqa: B902 - handled after the C call
                errors.append(e)
        self.c = proto(tramp) if fn is not None else proto()


def _event_hook(proto, fn, convert, errors):
    return _Trampoline(proto, fn, lambda f, _user, ev: f(convert(ev.contents)), errors)


def _log_hook(fn, errors):
    return _Trampoline(_ffi.LogFn, fn,
                       lambda f, _user, level, msg: f(_as_enum(_enums.LogLevel, level),
                                                      msg.decode(errors="replace")), errors)


def verify_batch(txs, network_id, pool=None):
    """Verify many transactions (on a Pool, if given); returns a list of
    booleans and marks the ones that pass as verified."""
    n = len(txs)
    arr = (ctypes.c_void_p * max(1, n))(*[t._ptr for t in txs])
    res = (ctypes.c_int * max(1, n))()
    nid = _h32(network_id, "network id")
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
    (field CommitField.PATIENT_ID or .TEST_NAME; salt 16..64 bytes)."""
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
            raise InvalidArgument(EINVAL, "storage is closed")
        return self._ptr

    def list(self):
        """Names of the files in the storage, sorted."""
        names = []
        cb = _ffi.StorageListCb(lambda _arg, name: names.append(name.decode()) or 0)
        _check(lib.hre_storage_list(self._handle(), cb, None))
        return sorted(names)

    def remove(self, name):
        """Remove a file (NotFound if there is none)."""
        _check(lib.hre_storage_remove(self._handle(), name.encode()))

    def sync_dir(self):
        """Make creations, renames and removals durable (fsync the directory)."""
        _check(lib.hre_storage_sync_dir(self._handle()))

    def close(self):
        """Free the storage; StateError while a Ledger on it is open."""
        if self._users:
            raise StateError(ESTATE, "storage is still used by an open ledger")
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
        """Bitcoin main net's parameters (genesis, PoW limit, retargeting)."""
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
        """The easiest target allowed (32 bytes, little-endian)."""
        return bytes(self._p.pow_limit)

    @property
    def genesis(self):
        """The genesis block's Header (its hash is the network id)."""
        return Header._from_struct(self._p.genesis)


class Network(_Owned):
    """A network as the institutions of one network share it (wraps
    hre_network *, immutable): chain parameters, the founding authority's
    key and the genesis organisation's name. encode() gives the network
    file (docs/PROTOCOL.md 7.10) to hand to the next institution, which
    opens its Ledger with Network.decode(file) (Ledger(..., network=net))."""

    _free = "hre_network_free"

    @classmethod
    def new(cls, params, authority_key, org_name=None):
        """A network from ChainParams and the contract genesis (authority
        key: 34-byte wire form or a Key/PubKey; org_name: 1..64 bytes or
        None for the contract's default)."""
        p = ctypes.c_void_p()
        name = org_name.encode() if isinstance(org_name, str) else org_name
        _check(lib.hre_network_new(ctypes.byref(p), ctypes.byref(params._p),
                                   _buf(_bytes(authority_key, 34, "key"))[0], name))
        return cls(p)

    @classmethod
    def private(cls, authority_key, org_name=None, now=None):
        """The private-network preset (regtest-like parameters, a genesis
        mined now, so every authority and moment gives another network id).
        now: seconds since the epoch (default: the current time)."""
        import time
        p = ctypes.c_void_p()
        name = org_name.encode() if isinstance(org_name, str) else org_name
        when = int(time.time()) if now is None else now
        _check(lib.hre_network_new_private(ctypes.byref(p), _buf(_bytes(authority_key, 34, "key"))[0],
                                           name, when))
        return cls(p)

    @classmethod
    def decode(cls, data):
        """Decode a network file as hostile input (DecodeError, Corrupt for
        a CRC mismatch, Unsupported for an unknown file version)."""
        p = ctypes.c_void_p()
        b, n = _buf(data)
        _check(lib.hre_network_decode(ctypes.byref(p), b, n))
        return cls(p)

    def _n(self):
        if not self._ptr:
            raise InvalidArgument(EINVAL, "network is closed")
        return self._ptr

    def encode(self):
        """The network file (at most NETWORK_FILE_MAX bytes)."""
        return _sized(lib.hre_network_encode, self._n())

    @property
    def id(self):
        """The network id (the genesis block's hash)."""
        out = _out(32)
        _check(lib.hre_network_id(self._n(), out))
        return bytes(out)

    @property
    def authority_key(self):
        """The founding authority's 34-byte wire key."""
        out = _out(34)
        _check(lib.hre_network_authority_key(self._n(), out))
        return bytes(out)

    @property
    def org_name(self):
        """The genesis organisation's name, or None for the contract's default."""
        name = lib.hre_network_org_name(self._n())
        return None if name is None else name.decode(errors="replace")

    @property
    def params(self):
        """The chain parameters (a ChainParams copy)."""
        cp = ChainParams()
        _check(lib.hre_network_params(self._n(), ctypes.byref(cp._p)))
        return cp


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
        """The 32-byte hash committing to the whole contract state."""
        out = _out(32)
        _check(lib.hre_contract_state_hash(self._c(), out))
        return bytes(out)

    def account(self, addr):
        """Account by address; raises NotFound."""
        a = _ffi.HreContractAccount(version=CONTRACT_ACCOUNT_VERSION)
        _check(lib.hre_contract_account_get(self._c(), ctypes.byref(a), _h32(addr, "address")))
        return _account(a)

    def account_by_key(self, key):
        """(Account, retired) for any key the account has had."""
        a = _ffi.HreContractAccount(version=CONTRACT_ACCOUNT_VERSION)
        retired = ctypes.c_int(0)
        _check(lib.hre_contract_account_by_key(self._c(), ctypes.byref(a), ctypes.byref(retired),
                                               _buf(_bytes(key, 34, "key"))[0]))
        return _account(a), bool(retired.value)

    def org(self, org_id):
        """Organisation by id (an Org); raises NotFound."""
        o = _ffi.HreContractOrg(version=CONTRACT_ORG_VERSION)
        _check(lib.hre_contract_org_get(self._c(), ctypes.byref(o), _h32(org_id, "org id")))
        return Org(org_id=bytes(o.org_id), type=_as_enum(OrgType, o.type),
                   name=_text(o, "name", o.name_len), status=_as_enum(AccountStatus, o.status),
                   enc_key=bytes(o.enc_key) if o.has_enc_key else None)

    def record(self, record_id):
        """Record by id (its new_record txid); raises NotFound."""
        r = _ffi.HreContractRecord(version=CONTRACT_RECORD_VERSION)
        _check(lib.hre_contract_record_get(self._c(), ctypes.byref(r),
                                           _h32(record_id, "record id")))
        return _record(r)

    def records_by_patient(self, patient):
        """Record ids of a patient, oldest first."""
        return _list_query(lib.hre_contract_records_by_patient, self._c(), patient)

    def grants_by_patient(self, patient):
        """The grants a patient made (Grant values), oldest first."""
        return [_grant(g) for g in _list_query(lib.hre_contract_grants_by_patient, self._c(),
                                               patient, _ffi.HreContractGrant)]

    def grant(self, grant_id):
        """Grant by id (its grant txid); raises NotFound."""
        g = _ffi.HreContractGrant(version=CONTRACT_GRANT_VERSION)
        _check(lib.hre_contract_grant_get(self._c(), ctypes.byref(g), _h32(grant_id, "grant id")))
        return _grant(g)

    def grant_records(self, grant_id):
        """The record ids a Scope.RECORDS grant lists ([] for other scopes)."""
        return _list_query(lib.hre_contract_grant_records, self._c(), grant_id)

    def grant_envelope(self, grant_id):
        """The grant's opaque envelope bytes (b"" if it has none)."""
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
        """The audit trail of a record (Event values), oldest first."""
        return [_event(e) for e in _list_query(lib.hre_contract_record_events, self._c(),
                                               record_id, _ffi.HreContractEvent)]

    def account_events(self, addr):
        """The events of an account (as actor or subject), oldest first."""
        return [_event(e) for e in _list_query(lib.hre_contract_account_events, self._c(),
                                               addr, _ffi.HreContractEvent)]

    def can_access(self, reader, record_id, block_time):
        """Would reader's log_access on record_id be accepted at block_time?
        False for EAUTH; raises NotFound and other errors."""
        rc = lib.hre_contract_can_access(self._c(), _h32(reader, "reader"),
                                         _h32(record_id, "record id"), block_time)
        if rc == EAUTH:
            return False
        _check(rc)
        return True

    def access_check(self, reader, record_id, block_time):
        """May reader (an address) read record_id at block_time, and why
        (not)? Returns an Access verdict for every answer the rule gives
        (allowed, refused, unknown record or reader, erased); other failures
        raise (InvalidArgument, ...)."""
        a = _ffi.HreContractAccess()
        _check(lib.hre_contract_access_init(ctypes.byref(a), CONTRACT_ACCESS_VERSION))
        rc = lib.hre_contract_access_check(self._c(), ctypes.byref(a), _h32(reader, "reader"),
                                           _h32(record_id, "record id"), block_time)
        if rc not in (OK, EAUTH, ENOTFOUND, EERASED):
            _check(rc)
        return Access(allowed=rc == OK, reason=_as_enum(AccessReason, a.reason),
                      basis=_as_enum(AccessBasis, a.basis) if rc == OK else None,
                      grant_id=bytes(a.grant_id) if a.has_grant else None,
                      code=ErrorCode(rc))

    def node_status(self, node_key):
        """Is node_key (34-byte wire key, or a Key/PubKey) the current key of
        an active node of an active organisation? Returns a NodeStatus for
        every verdict; other failures raise."""
        nd = _ffi.HreContractNode()
        _check(lib.hre_contract_node_init(ctypes.byref(nd), CONTRACT_NODE_VERSION))
        rc = lib.hre_contract_node_status(self._c(), ctypes.byref(nd),
                                          _buf(_bytes(node_key, 34, "node key"))[0])
        if rc not in (OK, EAUTH, ENOTFOUND):
            _check(rc)
        acct = bool(nd.has_account)
        return NodeStatus(member=rc == OK, reason=_as_enum(NodeStatusReason, nd.reason),
                          address=bytes(nd.address) if acct else None,
                          role=_as_enum(Role, nd.role) if acct else None,
                          org_type=_as_enum(OrgType, nd.org_type) if acct and nd.org_type else None,
                          org_id=bytes(nd.org_id) if acct and any(nd.org_id) else None,
                          code=ErrorCode(rc))

    def enc_key(self, target_type, target):
        """The current encryption key (34-byte P-256 wire form) an account
        (EncTarget.ACCOUNT, its address) or an organisation (EncTarget.ORG,
        its id) published with set_enc_key; NotFound when there is none."""
        out = _out(34)
        _check(lib.hre_contract_enc_key_get(self._c(), out, int(target_type),
                                            _h32(target, "target")))
        return bytes(out)

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
        """Counters of the state (a Stats value)."""
        st = _ffi.HreContractStats(version=CONTRACT_STATS_VERSION)
        _check(lib.hre_contract_stats_get(self._c(), ctypes.byref(st)))
        return Stats(**{f: getattr(st, f) for f, _ in _ffi.HreContractStats._fields_[1:]})

    def snapshot(self):
        """The whole state as a snapshot blob (docs/PROTOCOL.md 5.7)."""
        return _sized(lib.hre_contract_snapshot_save, self._c())


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
    (which verifies and stores blocks) and its .contract view instead.
    on_event(Event) is called for every event of an applied transaction."""

    _free = "hre_contract_free"

    def __init__(self, network_id, authority_key, genesis_org_name=None, on_event=None,
                 _snapshot=None, _threads=0, _pool=None):
        self._ptr = None
        self._errors = []
        self._cb = _event_hook(_ffi.ContractEventFn, on_event, _event, self._errors)
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
            raise InvalidArgument(EINVAL, "contract is closed")
        return self._ptr

    def apply(self, tx, block_time, flags=0):
        """Apply a transaction. It must have passed Tx.verify (or been signed
        with Tx.sign here); flags=CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER
        accepts an unverified one on the caller's word (see contract.h).
        If on_event raised, the transaction is still applied and
        CallbackError is raised afterwards (result None)."""
        rc = lib.hre_contract_apply(self._c(), tx._ptr, block_time, flags)
        _finish("Contract.apply", rc, None, self._errors)

    def undo(self):
        """Undo the most recently applied transaction (StateError if there
        is nothing to undo)."""
        _check(lib.hre_contract_undo(self._c()))

    @property
    def undo_depth(self):
        """How many applied transactions can be undone."""
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
# payload fields holding an enumerated value
_PAYLOAD_ENUMS = {"org_type": OrgType, "reader_type": ReaderType, "scope": Scope,
                  "action": SuspendAction, "target_type": EncTarget}


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
        elif k in _PAYLOAD_ENUMS:
            v = _as_enum(_PAYLOAD_ENUMS[k], v)
        out[k] = v
    return out


def encode_payload(kind, **fields):
    """Canonical payload bytes of a tx kind ("new_record", Kind.NEW_RECORD, 7, ...)."""
    _, name, cls = _kind(kind)
    s, _keep = _payload_struct(cls, fields)
    return _sized(getattr(lib, f"hre_contract_encode_{name}"), ctypes.byref(s))


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
    return LedgerEvent(type=_as_enum(LedgerEventType, e.type), height=e.height,
                       block_hash=bytes(e.block_hash), tx_count=e.tx_count, tx_index=e.tx_index,
                       contract=_event(e.contract.contents) if e.contract else None,
                       seq=e.seq if e.version >= 2 else 0)


class MerkleProof(_Value):
    """An inclusion proof: header (Header), height, branch (MerkleBranch).
    To ship it, send header.encode() (80 bytes) and branch.encode(); the
    receiver rebuilds it with Header(raw) and MerkleBranch.decode."""

    def verify(self, txid, pow_limit=None):
        """Check txid against the header's Merkle root (and its PoW if pow_limit)."""
        if not self.branch.verify(self.header.merkle_root, txid):
            return False
        return pow_limit is None or self.header.check_pow(pow_limit)

    @property
    def depth(self):
        """Number of hashes in the branch."""
        return self.branch.depth


class Ledger(_Owned):
    """A ledger on a Storage (wraps hre_ledger *). Close it (or use `with`)
    before closing the storage. on_event(LedgerEvent) is called for every
    contract event of a connected block and for block (dis)connections;
    log(level, message) receives the ledger's log lines (a LogLevel and a
    str). An exception in either does not undo or fail the call that was
    running: it is raised afterwards as CallbackError (see the package
    docs); if it happened while the ledger opened, CallbackError.result is
    the open Ledger."""

    _free = "hre_ledger_close"

    def _release(self):
        super()._release()
        self._storage._users -= 1

    def __init__(self, storage, params=None, authority_key=None, *, network=None,
                 genesis_org_name=None, verify_threads=0, on_event=None, snapshot_interval=0,
                 max_reorg_depth=0, max_orphans=0, max_side_blocks=0, mempool_max_txs=0,
                 segment_size=0, compress_level=0, log=None, flags=0, max_journal_events=0):
        self._ptr = None
        self._errors = []
        self._cb = _event_hook(_ffi.LedgerEventFn, on_event, _ledger_event, self._errors)
        self._log = _log_hook(log, self._errors)
        o = _ffi.HreLedgerOptions()
        _check(lib.hre_ledger_options_init(ctypes.byref(o), LEDGER_OPTIONS_VERSION))
        o.storage = storage._handle()
        if network is not None:
            # the network replaces params, authority key and name (all left empty)
            if params is not None or authority_key is not None or genesis_org_name is not None:
                raise TypeError("Ledger: give either network or params/authority_key/"
                                "genesis_org_name, not both")
            o.network = network._n()
        elif params is not None:
            o.params = ctypes.pointer(params._p)
            o.authority_key = (ctypes.c_uint8 * 34).from_buffer_copy(
                _bytes(authority_key, 34, "key"))
        name = genesis_org_name.encode() if isinstance(genesis_org_name, str) else genesis_org_name
        o.genesis_org_name = name
        o.verify_threads = verify_threads
        o.on_event = self._cb.c
        o.snapshot_interval, o.max_reorg_depth, o.max_orphans = (snapshot_interval,
                                                                 max_reorg_depth, max_orphans)
        o.max_side_blocks, o.mempool_max_txs = max_side_blocks, mempool_max_txs
        o.segment_size, o.compress_level = segment_size, compress_level
        o.log_fn = self._log.c
        o.flags, o.max_journal_events = flags, max_journal_events
        p = ctypes.c_void_p()
        rc = lib.hre_ledger_open(ctypes.byref(p), ctypes.byref(o))
        if rc == OK:
            self._ptr, self._storage = p, storage
            storage._users += 1
            self.params = params if params is not None else self.chain_params()
        _finish("Ledger", rc, self, self._errors)

    def _handle(self):
        if not self._ptr:
            raise InvalidArgument(EINVAL, "ledger is closed")
        return self._ptr

    def close(self):
        """Sync and close the ledger (the storage stays open). A log hook
        exception during the close is raised afterwards as CallbackError.
        StateError while a Node runs on it (close the node first)."""
        if getattr(self, "_nodes", 0):
            raise StateError(ESTATE, "a Node still runs on this ledger: close it first")
        super().close()
        _finish("Ledger.close", OK, None, self._errors)

    def __del__(self):
        try:
            _Owned.close(self)
        finally:
            del getattr(self, "_errors", [])[:]

    @property
    def contract(self):
        """Queries on the contract state at the tip (a borrowed view)."""
        return LedgerContract(self)

    @property
    def network(self):
        """The network the ledger runs, as an owned Network copy (encode()
        it to give another institution the network file)."""
        p = ctypes.c_void_p()
        _check(lib.hre_ledger_network(self._handle(), ctypes.byref(p)))
        return Network.decode(_sized(lib.hre_network_encode, p))

    def chain_params(self):
        """The chain parameters the ledger was opened with (a ChainParams)."""
        cp = ChainParams()
        _check(lib.hre_ledger_params(self._handle(), ctypes.byref(cp._p)))
        return cp

    def fingerprint(self):
        """The network fingerprint (32 bytes): equal on two ledgers of the
        same network with the same rules."""
        out = _out(32)
        _check(lib.hre_ledger_fingerprint(self._handle(), out))
        return bytes(out)

    def tip_work(self):
        """Cumulative work of the main chain, genesis included, as an int."""
        out = _out(32)
        _check(lib.hre_ledger_tip_work(self._handle(), out))
        return int.from_bytes(bytes(out), "little")

    def next_nonce(self, sender):
        """The nonce sender's next transaction needs (mempool counted):
        sender is a 32-byte address, a 34-byte wire key, or a Key/PubKey.
        0 for a sender with no account yet."""
        sid = _bytes(sender)
        if len(sid) not in (32, 34):
            raise ValueError("sender must be a 32-byte address or a 34-byte key")
        n = ctypes.c_uint64(0)
        b, ln = _buf(sid)
        _check(lib.hre_ledger_next_nonce(self._handle(), ctypes.byref(n), b, ln))
        return n.value

    def header_by_hash(self, block_hash):
        """(Header, height, on_main) of any known block; NotFound otherwise."""
        hdr, h, main = HreHeader(), ctypes.c_uint64(0), ctypes.c_int(0)
        _check(lib.hre_ledger_header_by_hash(self._handle(), ctypes.byref(hdr), ctypes.byref(h),
                                             ctypes.byref(main), _h32(block_hash, "block hash")))
        return Header._from_struct(hdr), h.value, bool(main.value)

    def block_by_hash(self, block_hash):
        """The encoded stored block with this hash (main chain or side branch)."""
        hb = _h32(block_hash, "block hash")
        n = ctypes.c_size_t(0)
        rc = lib.hre_ledger_block_by_hash(self._handle(), None, ctypes.byref(n), hb)
        if rc != EBUFSIZE:
            _check(rc)
        out = _out(n.value)
        _check(lib.hre_ledger_block_by_hash(self._handle(), out, ctypes.byref(n), hb))
        return bytes(out)[: n.value]

    def block_info(self, block_hash):
        """The block index entry of a known block (a BlockInfo); NotFound
        for an unknown one (orphans are not known blocks)."""
        bi = _ffi.HreLedgerBlockInfo()
        _check(lib.hre_ledger_block_info_init(ctypes.byref(bi), LEDGER_BLOCK_INFO_VERSION))
        _check(lib.hre_ledger_block_info_get(self._handle(), ctypes.byref(bi),
                                             _h32(block_hash, "block hash")))
        return BlockInfo(header=Header._from_struct(bi.header), height=bi.height,
                         work=bytes(bi.work), on_main=bool(bi.on_main),
                         invalid=bool(bi.invalid), tx_count=bi.tx_count)

    def events_since(self, since_seq=0, since_block=None):
        """The main chain's events after (since_seq, since_block): the seq
        and block_hash of the last event the host applied (since_seq 0: from
        the start of the kept stream). A list of LedgerEvent; after a reorg
        it starts with BLOCK_DISCONNECTED events. NotFound when the events
        after that point are no longer all kept."""
        blk = _h32(since_block, "block hash") if since_block is not None else None
        if blk is None and since_seq:
            raise ValueError("since_block is required when since_seq is not 0")
        n = ctypes.c_size_t(0)
        while True:
            cap = n.value
            arr = (_ffi.HreLedgerEvent * cap)() if cap else None
            rc = lib.hre_ledger_events_since(self._handle(), arr, ctypes.sizeof(_ffi.HreLedgerEvent),
                                             ctypes.byref(n), since_seq, blk)
            if rc == EBUFSIZE and n.value > cap:
                continue
            _check(rc)
            return [_ledger_event(arr[i]) for i in range(n.value)]   # copies, while valid

    def mempool_list(self, page=256):
        """The txids in the mempool, in arrival order (read page by page)."""
        ids, start = [], 0
        buf = _out(32 * page)
        while True:
            n = ctypes.c_size_t(page)
            _check(lib.hre_ledger_mempool_list(self._handle(), buf, ctypes.byref(n), start))
            raw = bytes(buf)[: 32 * n.value]
            ids += [raw[i:i + 32] for i in range(0, len(raw), 32)]
            start += n.value
            if n.value < page:
                return ids

    def mempool_tx(self, txid):
        """The encoded bytes of a mempool transaction; NotFound if absent."""
        tb = _h32(txid, "txid")
        n = ctypes.c_size_t(0)
        rc = lib.hre_ledger_mempool_tx(self._handle(), None, ctypes.byref(n), tb)
        if rc != EBUFSIZE:
            _check(rc)
        out = _out(n.value)
        _check(lib.hre_ledger_mempool_tx(self._handle(), out, ctypes.byref(n), tb))
        return bytes(out)[: n.value]

    def submit_blocks(self, blocks, now):
        """Submit encoded blocks with group commit (one sync per run that
        extends the tip). Returns (connected, LedgerStatus of the last block
        processed); the first rejection raises with .status (the blocks
        before it stay connected)."""
        blocks = [bytes(b) for b in blocks]
        bufs = [_buf(b)[0] for b in blocks]
        ptrs = (_ffi.u8p * max(1, len(blocks)))(*[ctypes.cast(b, _ffi.u8p) for b in bufs])
        lens = (ctypes.c_size_t * max(1, len(blocks)))(*[len(b) for b in blocks])
        conn, st = ctypes.c_size_t(0), ctypes.c_int(0)
        rc = lib.hre_ledger_submit_blocks(self._handle(), ctypes.byref(conn), ctypes.byref(st),
                                          ptrs, lens, len(blocks), now)
        return _finish("Ledger.submit_blocks", rc, (conn.value, _as_enum(LedgerStatus, st.value)),
                       self._errors, st.value)

    @property
    def network_id(self):
        """The network id: the genesis block's hash."""
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
        return self._sized_after("Ledger.block", lib.hre_ledger_block_by_height, height)

    def _sized_after(self, call, fn, *tail):
        n = ctypes.c_size_t(0)
        rc = fn(self._handle(), None, ctypes.byref(n), *tail)
        if rc != EBUFSIZE:
            _finish(call, rc, None, self._errors)
        out = _out(n.value)
        rc = fn(self._handle(), out, ctypes.byref(n), *tail)
        return _finish(call, rc, bytes(out)[: n.value], self._errors)

    def submit_tx(self, tx, now):
        """Submit a Tx (or its encoding) to the mempool; returns its txid. A
        refusal raises the error's class (e.g. AuthError, StateError) with
        .status (a LedgerStatus)."""
        data = tx.encode() if isinstance(tx, Tx) else bytes(tx)
        b, n = _buf(data)
        txid, st = _out(32), ctypes.c_int(0)
        rc = lib.hre_ledger_submit_tx(self._handle(), txid, ctypes.byref(st), b, n, now)
        return _finish("Ledger.submit_tx", rc, bytes(txid), self._errors, st.value)

    @property
    def mempool_count(self):
        """Number of transactions in the mempool."""
        return lib.hre_ledger_mempool_count(self._handle())

    def in_mempool(self, txid):
        """True if txid is in the mempool."""
        return bool(lib.hre_ledger_mempool_contains(self._handle(), _h32(txid, "txid")))

    def block_template(self, now):
        """An encoded block on the tip with the mempool's transactions,
        unmined (nonce 0): mine it yourself and submit_block it."""
        return self._sized_after("Ledger.block_template", lib.hre_ledger_block_template, now)

    def mine(self, now, max_tries=1 << 32, allow_empty=True):
        """Assemble, mine and connect a block from the mempool; returns its
        hash (durable when this returns or raises CallbackError; Exhausted if
        no nonce was found within max_tries). allow_empty=False refuses an
        empty block (HRE_ESTATE)."""
        out, st = _out(32), ctypes.c_int(0)
        rc = lib.hre_ledger_mine(self._handle(), out, ctypes.byref(st), now, max_tries,
                                 1 if allow_empty else 0)
        return _finish("Ledger.mine", rc, bytes(out), self._errors, st.value)

    def submit_block(self, block, now):
        """Submit an encoded block; returns the LedgerStatus (CONNECTED,
        SIDE_BRANCH, ORPHAN, ...). A rejection raises with .status."""
        b, n = _buf(block)
        st = ctypes.c_int(0)
        rc = lib.hre_ledger_submit_block(self._handle(), ctypes.byref(st), b, n, now)
        return _finish("Ledger.submit_block", rc, _as_enum(LedgerStatus, st.value), self._errors,
                       st.value)

    def tx_proof(self, txid, height_hint=None):
        """Merkle inclusion proof of a main-chain tx (record ids and grant ids are txids)."""
        hdr, br, h = HreHeader(), _ffi.HreMerkleBranch(), ctypes.c_uint64(0)
        hint = 0xFFFFFFFFFFFFFFFF if height_hint is None else height_hint
        _check(lib.hre_ledger_tx_proof(self._handle(), ctypes.byref(hdr), ctypes.byref(br),
                                       ctypes.byref(h), _h32(txid, "txid"), hint))
        return MerkleProof(header=Header._from_struct(hdr), branch=MerkleBranch._from_struct(br),
                           height=h.value)

    def snapshot(self):
        """Write a snapshot of the tip state now (reopening then starts from it)."""
        rc = lib.hre_ledger_snapshot(self._handle())
        _finish("Ledger.snapshot", rc, None, self._errors)

    def verify_chain(self, progress=None):
        """Re-validate the main chain from genesis. progress(height, tip) may
        return True to stop (Cancelled); an exception in it stops the walk
        and is raised as it is. On failure the error has .first_bad_height."""
        perrors = []

        def tramp(_user, height, tip):
            try:
                return 1 if progress(height, tip) else 0
            except BaseException as e:  # noqa: B902 - raised after the C call
                perrors.append(e)
                return 1
        cb = _ffi.LedgerProgressFn(tramp) if progress else _ffi.LedgerProgressFn()
        bad = ctypes.c_uint64(0)
        rc = lib.hre_ledger_verify_chain(self._handle(), ctypes.byref(bad), cb, None)
        detail = _detail() if rc != OK else ""
        if perrors:
            del self._errors[:]
            raise perrors[0]
        if rc != OK:
            err = _make_error(rc, detail)
            err.first_bad_height = None if bad.value == 0xFFFFFFFFFFFFFFFF else bad.value
            err.callback_errors, self._errors[:] = list(self._errors), []
            raise err
        _finish("Ledger.verify_chain", rc, None, self._errors)


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

# the node (layer 6): hre.node, re-exported here
from . import node  # noqa: E402
from .node import Node, NodeEvent, AppMessage, PeerInfo, NodeStats, Discouraged  # noqa: E402
__all__ += ["node", "Node", "NodeEvent", "AppMessage", "PeerInfo", "NodeStats", "Discouraged"]

# the vault (layer 7): hre.vault, re-exported here
from . import vault  # noqa: E402
from .vault import Vault, VaultWrap, VaultContent, VaultEntry, VaultStats  # noqa: E402
from .vault import VaultHeader, Sealer, Opener  # noqa: E402
__all__ += ["vault", "Vault", "VaultWrap", "VaultContent", "VaultEntry", "VaultStats",
            "VaultHeader", "Sealer", "Opener"]

# inclusion proofs (layer 3, proof.h): hre.proof, re-exported here
from . import proof  # noqa: E402
from .proof import Proof, ProofVerdict  # noqa: E402
__all__ += ["proof", "Proof", "ProofVerdict"]
