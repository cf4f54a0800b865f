"""Transaction inclusion proofs (include/hre/proof.h, docs/PROTOCOL.md 16).

A Proof carries the header chain from the genesis block up to (usually)
the prover's tip, the Merkle branch of one transaction in its block and
the encoded transaction. Anyone with the network's chain parameters can
check it, without a ledger or a node:

    p = hre.Proof.from_ledger(ledger, tx)           # the prover
    data = p.encode()                               # the proof file
    with hre.Proof.decode(data) as q:               # the verifier (hostile input)
        verdict = q.verify(network.params())
        if verdict: ... q.tx, q.height, q.confirmations ...

verify() says the transaction, signed by its sender, is in block `height`
of a chain of valid headers starting at the network's genesis; it does not
say that chain is the network's heaviest today (compare the last header
with a node you trust).
"""
import ctypes

from ._ffi import lib, HreHeader
from . import (_check, _sized, _Owned, _Value, _buf, _detail, _as_enum, _make_error, Header,
               MerkleBranch, Tx, ChainParams, InvalidArgument, OK, EINVAL, EVERIFY)
from ._enums import ProofWhy

__all__ = ["Proof", "ProofVerdict", "why_name"]

_SIZE_MAX = ctypes.c_size_t(-1).value


def why_name(why):
    """The library's name of a ProofWhy value ("ok", "bad-genesis", ...;
    "unknown" for others)."""
    return lib.hre_proof_why_name(int(why)).decode()


class ProofVerdict(_Value):
    """The outcome of Proof.verify: ok (bool; the verdict is truthy when
    ok), why (ProofWhy: OK or the first check that failed), bad_header (the
    index of the header that failed for BAD_GENESIS / BAD_HEADERS, else
    None), detail (the library's detail message, "" when ok)."""

    def __bool__(self):
        return bool(self.ok)


def _params_struct(params):
    """The hre_chain_params behind a ChainParams, Network or Ledger."""
    if isinstance(params, ChainParams):
        return params._p
    if hasattr(params, "chain_params"):       # Ledger
        return params.chain_params()._p
    if hasattr(params, "params"):             # Network
        return params.params._p
    raise TypeError("params must be a ChainParams, a Network or a Ledger")


class Proof(_Owned):
    """An inclusion proof (wraps hre_proof *, immutable once made). Make one
    with Proof.new (from its parts), Proof.from_ledger, or Proof.decode (a
    received file). Close it (or use `with`) to free it; the accessors copy
    out what they return, so values stay valid after close()."""

    _free = "hre_proof_free"

    def _p(self):
        if not self._ptr:
            raise InvalidArgument(EINVAL, "proof is closed")
        return self._ptr

    @classmethod
    def new(cls, headers, height, branch, tx):
        """A proof from its parts: headers (Header objects or 80-byte
        encodings, genesis first, 2 .. PROOF_MAX_HEADERS), height (the index
        in headers of the block holding the transaction, 1 .. len - 1), its
        MerkleBranch (or the branch's wire form) and the transaction (a Tx or
        its encoding, decoded strictly here). The parts are not checked
        against each other: verify() does. InvalidArgument (too few headers,
        height out of range, a malformed branch), LimitExceeded, DecodeError
        (the transaction)."""
        hs = [h if isinstance(h, Header) else Header(h) for h in headers]
        arr = (HreHeader * max(1, len(hs)))()
        for i, h in enumerate(hs):
            ctypes.memmove(ctypes.byref(arr[i]), ctypes.byref(h._h), ctypes.sizeof(HreHeader))
        if not isinstance(branch, MerkleBranch):
            branch = MerkleBranch.decode(branch)
        txb = tx.encode() if isinstance(tx, Tx) else bytes(tx)
        b, n = _buf(txb)
        p = ctypes.c_void_p()
        _check(lib.hre_proof_new(ctypes.byref(p), arr, len(hs), height, ctypes.byref(branch._b),
                                 b, n))
        return cls(p)

    @classmethod
    def from_ledger(cls, ledger, tx):
        """The proof of a main-chain transaction (a Tx or its encoding) on
        ledger: every main-chain header from the genesis to the tip, and the
        transaction's branch (Ledger.tx_proof). NotFound: not on the main
        chain."""
        txb = tx.encode() if isinstance(tx, Tx) else bytes(tx)
        with Tx.decode(txb) as t:
            txid = t.txid()
        mp = ledger.tx_proof(txid)
        tip, _ = ledger.tip()
        headers = [ledger.header(i)[0] for i in range(tip + 1)]
        return cls.new(headers, mp.height, mp.branch, txb)

    @classmethod
    def decode(cls, data):
        """Decode a proof file as hostile input (PROTOCOL 16.2). Nothing is
        verified yet. DecodeError (malformed, truncated, trailing bytes),
        LimitExceeded (a count or length over its cap), Unsupported
        (another format version)."""
        b, n = _buf(data)
        p = ctypes.c_void_p()
        _check(lib.hre_proof_decode(ctypes.byref(p), b, n))
        return cls(p)

    def encode(self):
        """The proof file's bytes (PROTOCOL 16.1; canonical)."""
        return _sized(lib.hre_proof_encode, self._p())

    def verify(self, params):
        """Verify against a network's parameters (a ChainParams, a Network or
        a Ledger's): genesis, the header chain, the txid, the branch, the
        network id, the signature (PROTOCOL 16.3, in that order). Returns a
        ProofVerdict (truthy when it verified); a refusal is a verdict, not
        an exception. Other failures raise (Unsupported params version,
        OutOfMemory, CryptoError)."""
        why, bad = ctypes.c_int(0), ctypes.c_size_t(0)
        cp = _params_struct(params)
        rc = lib.hre_proof_verify(self._p(), ctypes.byref(why), ctypes.byref(bad),
                                  ctypes.byref(cp))
        if rc not in (OK, EVERIFY):
            _check(rc)
        return ProofVerdict(ok=rc == OK, why=_as_enum(ProofWhy, why.value),
                            bad_header=None if bad.value == _SIZE_MAX else bad.value,
                            detail=_detail() if rc != OK else "")

    def check(self, params):
        """As verify(), but a refusal raises VerifyError with .why and
        .bad_header set. Returns self."""
        v = self.verify(params)
        if not v.ok:
            err = _make_error(EVERIFY, v.detail, None)
            err.why, err.bad_header = v.why, v.bad_header
            raise err
        return self

    @property
    def header_count(self):
        """Number of headers (genesis included)."""
        return lib.hre_proof_header_count(self._p())

    def header(self, i):
        """Header i (0 = genesis) as a Header copy; IndexError past the last."""
        hp = lib.hre_proof_header(self._p(), i) if i >= 0 else None
        if not hp:
            raise IndexError(f"proof has {self.header_count} headers")
        return Header._from_struct(hp.contents)

    @property
    def headers(self):
        """Every header, genesis first (a list of Header copies)."""
        return [self.header(i) for i in range(self.header_count)]

    @property
    def height(self):
        """The index of the block that holds the transaction."""
        return lib.hre_proof_height(self._p())

    @property
    def confirmations(self):
        """header_count - height: the block and the headers after it."""
        return self.header_count - self.height

    @property
    def txid(self):
        """The proof's txid (32 bytes, internal byte order)."""
        return ctypes.string_at(lib.hre_proof_txid(self._p()), 32)

    @property
    def branch(self):
        """The transaction's MerkleBranch (a copy)."""
        return MerkleBranch._from_struct(lib.hre_proof_branch(self._p()).contents)

    @property
    def tx_bytes(self):
        """The encoded transaction (a copy)."""
        n = ctypes.c_size_t(0)
        ptr = lib.hre_proof_tx_bytes(self._p(), ctypes.byref(n))
        return ctypes.string_at(ptr, n.value) if n.value else b""

    @property
    def tx(self):
        """The transaction as an owned Tx (decoded from a copy of tx_bytes;
        hre_proof_tx is borrowed and is not handed out)."""
        return Tx.decode(self.tx_bytes)

    @property
    def tx_verified(self):
        """True once verify() checked the transaction's signature (the mark
        hre_tx_verify sets on the proof's own transaction, hre_proof_tx)."""
        return lib.hre_tx_verified(lib.hre_proof_tx(self._p())) == 1

    def __repr__(self):
        if not self._ptr:
            return "Proof(closed)"
        return (f"Proof(txid={self.txid[::-1].hex()}, height={self.height}, "
                f"headers={self.header_count})")
