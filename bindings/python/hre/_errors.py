"""The exceptions of the hre package.

A failing libhre call raises an instance of the HreError subclass for its
error code (NotFound for HRE_ENOTFOUND, ...), so callers catch what they
expect and let the rest through:

    try:
        ledger.contract.record(record_id)
    except hre.NotFound:
        ...

Every subclass keeps the base's .code (the negative hre_error value),
.detail (the library's thread-local detail message) and .status (a
LedgerStatus when the call reports one). ERROR_CLASSES maps each code to its
class; tests/python/test_bindings.py checks it against the hre_error enum in
include/hre/errors.h, so a code added in C without a class here fails the
test.

CallbackError is different: it is raised when a Python callback (an event or
log hook) raised during a libhre call that itself SUCCEEDED. The call's
effect stands (a mined block is durable, a transaction is applied); the
exception carries the call's result in .result, every exception the
callbacks raised in .errors, and the first as __cause__.

This module does not load the library; the C error text comes from
hre_strerror, looked up when an exception is made.
"""

__all__ = ["HreError", "CallbackError", "ERROR_CLASSES", "error_class"]


class HreError(Exception):
    """A libhre call failed.

    Attributes: code (negative hre_error value), detail (the library's
    detail message, may be ""), status (the ledger status the call reported,
    a LedgerStatus or None), first_bad_height (Ledger.verify_chain only),
    callback_errors (exceptions Python callbacks raised during the failed
    call, if any). Catch a subclass (NotFound, AuthError, ...) for one code.
    """

    __module__ = "hre"
    code = None       # set on each subclass; an instance always has its own
    c_name = None     # the C enumerator, e.g. "HRE_ENOTFOUND"

    def __init__(self, code=None, detail="", status=None):
        if code is None:
            code = type(self).code
        if code is None:
            raise TypeError("HreError needs an error code")
        self.code = code
        self.detail = detail
        self.status = status
        self.first_bad_height = None
        self.callback_errors = []
        text = _strerror(code)
        super().__init__(f"{text} ({code}): {detail}" if detail else f"{text} ({code})")


def _strerror(code):
    try:
        from ._ffi import lib
        return lib.hre_strerror(code).decode()
    except Exception:  # noqa: BLE001 - the library is not loaded: still a readable error
        return f"error {code}"


# (class name, C enumerator, value, doc) -- one row per hre_error code. The
# bindings test accepts a class for a code the header does not define only
# if it is listed in RESERVED_CODES (none today: every row is in errors.h).
_TABLE = [
    ("InvalidArgument", "HRE_EINVAL", -1, "Bad argument (NULL, out of range, closed handle)."),
    ("DecodeError", "HRE_EDECODE", -2, "Input is malformed, truncated or not canonical."),
    ("VerifyError", "HRE_EVERIFY", -3, "A signature, proof of work, hash or proof did not verify."),
    ("AuthError", "HRE_EAUTH", -4, "The sender is not authorised to do this."),
    ("NotFound", "HRE_ENOTFOUND", -5, "No such object."),
    ("AlreadyExists", "HRE_EEXISTS", -6, "The object already exists."),
    ("StateError", "HRE_ESTATE", -7, "The object is in the wrong state for this operation."),
    ("StorageError", "HRE_EIO", -8, "The storage or transport backend reported an I/O error."),
    ("Corrupt", "HRE_ECORRUPT", -9, "Stored data is damaged."),
    ("LimitExceeded", "HRE_ELIMIT", -10, "A size, count or other limit was exceeded."),
    ("BufferTooSmall", "HRE_EBUFSIZE", -11, "An output buffer was too small."),
    ("OutOfMemory", "HRE_ENOMEM", -12, "The library ran out of memory."),
    ("CryptoError", "HRE_ECRYPTO", -13, "The crypto provider failed unexpectedly."),
    ("Unsupported", "HRE_EUNSUPPORTED", -14, "Operation, version or option not supported."),
    ("Cancelled", "HRE_ECANCELED", -15, "The operation was cancelled by the caller."),
    ("DecryptError", "HRE_EDECRYPT", -16,
     "Decryption failed: wrong passphrase or key, or damaged data."),
    ("NoSpace", "HRE_ENOSPC", -17, "The storage backend is out of space."),
    ("Exhausted", "HRE_EEXHAUSTED", -18, "A search range was used up without success."),
    ("Fatal", "HRE_EFATAL", -19,
     "The handle failed earlier: only queries and close remain valid."),
    # reserved in CONVENTION.md for later layers (node, vault)
    ("TryAgain", "HRE_EAGAIN", -20, "Would block: try again later (transport back-pressure)."),
    ("ProtocolError", "HRE_EPROTO", -21, "A peer violated the wire protocol."),
    ("Erased", "HRE_EERASED", -22, "The record was erased (crypto-shredded)."),
    ("Expired", "HRE_EEXPIRED", -23, "A grant or request is expired or not fresh."),
    ("Revoked", "HRE_EREVOKED", -24, "The grant was revoked."),
]

RESERVED_CODES = frozenset()

ERROR_CLASSES = {}
for _name, _c, _code, _doc in _TABLE:
    _cls = type(_name, (HreError,), {"__doc__": f"{_doc} ({_c}, {_code})", "code": _code,
                                     "c_name": _c, "__module__": "hre"})
    globals()[_name] = _cls
    ERROR_CLASSES[_code] = _cls
    __all__.append(_name)
del _name, _c, _code, _doc, _cls


def error_class(code):
    """The HreError subclass raised for an error code (HreError itself for a
    code this version of the package does not know)."""
    return ERROR_CLASSES.get(code, HreError)


def make_error(code, detail="", status=None):
    """An instance of the class for code (not raised)."""
    cls = ERROR_CLASSES.get(code)
    return cls(code, detail, status) if cls is not None else HreError(code, detail, status)


class CallbackError(Exception):
    """A Python callback raised while a libhre call ran, and the call itself
    SUCCEEDED: its effect stands (the block is durable, the transaction is
    applied, the ledger is open).

    Attributes: call (the method's name, e.g. "Ledger.mine"), result (what
    the method would have returned: a block hash, a LedgerStatus, a txid, the
    opened Ledger, or None), errors (every exception the callbacks raised, in
    order; the first is also __cause__). The library keeps delivering events
    after a callback raised, so each later failure is in errors too.
    KeyboardInterrupt and SystemExit are not wrapped: they are re-raised as
    they are, after the call returned.
    """

    __module__ = "hre"

    def __init__(self, call, result, errors):
        self.call = call
        self.result = result
        self.errors = list(errors)
        first = self.errors[0] if self.errors else None
        super().__init__(f"{call} succeeded, but {len(self.errors)} callback exception(s) were "
                         f"raised during it; the first: {first!r}")
