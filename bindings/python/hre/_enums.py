"""IntEnums for the numbered values of the C API.

Each enum names the C constants it mirrors with the @_c decorator (kept in
C_INFO): their prefix, names for members whose C name does not follow it,
and c_enum when the constants are the members of one C typedef enum.
tests/python/test_bindings.py checks every enum against include/hre in both
directions: same names, same values, and no header constant with the prefix
missing here (so a tx kind, event type or ledger status added in C fails the
test until it is added here).

The members compare equal to plain ints, so ROLE_ADMIN == Role.ADMIN == 2.
Values the library returns are turned into members when known; a value
this version of the package does not know (from a newer library) stays a
plain int.
"""
import enum

__all__ = ["Curve", "Kind", "OrgType", "Role", "AccountStatus", "SuspendAction", "ReaderType",
           "Scope", "CommitField", "EventType", "EventFlag", "LedgerEventType",
           "LedgerStatus", "LogLevel", "HpkeMode", "EncTarget", "AccessReason", "AccessBasis",
           "NodeStatusReason", "NodeReason", "NodeEventType", "PeerState", "NodeMember", "VaultReader",
           "VaultCompress", "VaultXchRefusal", "VaultXchEventType", "ProofWhy", "ENUMS"]

C_INFO = {}


def _c(prefix, c_enum=None, exclude=(), exclude_prefix=None, names=None):
    """Record which C constants an enum mirrors (see the module docstring)."""
    def mark(cls):
        C_INFO[cls] = {"prefix": prefix, "enum": c_enum, "exclude": tuple(exclude),
                       "exclude_prefix": exclude_prefix, "names": dict(names or {})}
        return cls
    return mark


@_c("HRE_CURVE_", c_enum="hre_curve")
class Curve(enum.IntEnum):
    """Elliptic curves of keys (enum hre_curve)."""
    P256 = 1
    SECP256K1 = 2


@_c("HRE_KIND_", exclude=("HRE_KIND_MAX",))
class Kind(enum.IntEnum):
    """Transaction kinds (HRE_KIND_*; the payload of each is hre_<name>_payload)."""
    REGISTER_ORG = 1
    APPOINT_ADMIN = 2
    REGISTER_DOCTOR = 3
    REGISTER_PATIENT = 4
    SUSPEND = 5
    ROTATE_KEY = 6
    NEW_RECORD = 7
    SIGN_RECORD = 8
    GRANT = 9
    REVOKE = 10
    LOG_ACCESS = 11
    REGISTER_NODE = 12
    SUSPEND_ORG = 13
    SET_ENC_KEY = 14
    ERASE_RECORD = 15


@_c("HRE_ORG_")
class OrgType(enum.IntEnum):
    """Organisation types (HRE_ORG_*)."""
    HOSPITAL = 1
    LAB = 2
    CLINIC = 3
    INSURER = 4
    RESEARCH = 5
    PHARMACY = 6


@_c("HRE_ROLE_")
class Role(enum.IntEnum):
    """Account roles (HRE_ROLE_*)."""
    AUTHORITY = 1
    ADMIN = 2
    DOCTOR = 3
    PATIENT = 4
    NODE = 5


@_c("HRE_STATUS_")
class AccountStatus(enum.IntEnum):
    """Account status (HRE_STATUS_*)."""
    ACTIVE = 0
    SUSPENDED = 1


@_c("HRE_SUSPEND_")
class SuspendAction(enum.IntEnum):
    """The action of a suspend transaction (HRE_SUSPEND_*)."""
    REINSTATE = 0
    SUSPEND = 1


@_c("HRE_READER_")
class ReaderType(enum.IntEnum):
    """Who a grant is for (HRE_READER_*)."""
    ACCOUNT = 0
    ORG = 1


@_c("HRE_SCOPE_")
class Scope(enum.IntEnum):
    """What a grant covers (HRE_SCOPE_*)."""
    ALL = 0
    CATEGORY = 1
    RECORDS = 2


@_c("HRE_COMMIT_")
class CommitField(enum.IntEnum):
    """The field a record commitment hides (HRE_COMMIT_*)."""
    PATIENT_ID = 1
    TEST_NAME = 2


@_c("HRE_EVENT_", exclude_prefix="HRE_EVENT_HAS_")
class EventType(enum.IntEnum):
    """Contract event types (HRE_EVENT_*)."""
    ORG_REGISTERED = 1
    ADMIN_APPOINTED = 2
    DOCTOR_REGISTERED = 3
    PATIENT_REGISTERED = 4
    SUSPENDED = 5
    REINSTATED = 6
    KEY_ROTATED = 7
    RECORD_CREATED = 8
    RECORD_SIGNATURE = 9
    RECORD_SIGNED = 10
    GRANTED = 11
    REVOKED = 12
    ACCESS_LOGGED = 13
    NODE_REGISTERED = 14
    ORG_SUSPENDED = 15
    ORG_REINSTATED = 16
    ENC_KEY_SET = 17
    RECORD_ERASED = 18


@_c("HRE_EVENT_HAS_")
class EventFlag(enum.IntFlag):
    """Which optional ids a contract event carries (HRE_EVENT_HAS_*)."""
    RECORD = 1
    ORG = 2
    GRANT = 4


@_c("HRE_LEDGER_EVENT_", exclude=("HRE_LEDGER_EVENT_VERSION",))
class LedgerEventType(enum.IntEnum):
    """Ledger event types (HRE_LEDGER_EVENT_*)."""
    CONTRACT = 1
    BLOCK_CONNECTED = 2
    BLOCK_DISCONNECTED = 3


@_c("HRE_LEDGER_", c_enum="hre_ledger_status", names={"NONE": "HRE_LEDGER_STATUS_NONE"})
class LedgerStatus(enum.IntEnum):
    """What the ledger did with a block or transaction (enum hre_ledger_status).
    status_name() gives the library's text for a value."""
    NONE = 0
    CONNECTED = 1
    REORGED = 2
    SIDE_BRANCH = 3
    ORPHAN = 4
    ACCEPTED_TX = 5
    REJECT_DECODE = 100
    REJECT_SIZE = 101
    REJECT_TX_COUNT = 102
    REJECT_POW = 103
    REJECT_BITS = 104
    REJECT_TIME_OLD = 105
    REJECT_TIME_FUTURE = 106
    REJECT_MERKLE = 107
    REJECT_MERKLE_MUTATED = 108
    REJECT_DUPLICATE_TX = 109
    REJECT_TX_DECODE = 110
    REJECT_TX_SIGNATURE = 111
    REJECT_CONTRACT = 112
    REJECT_INVALID_PARENT = 113
    REJECT_DUPLICATE = 114
    REJECT_FORK_TOO_DEEP = 115
    REJECT_BOUND = 116
    REJECT_STORAGE = 117
    REJECT_GENESIS = 118
    REJECT_FATAL = 119


@_c("HRE_LOG_")
class LogLevel(enum.IntEnum):
    """Levels passed to a log hook (HRE_LOG_*), most severe first."""
    ERROR = 1
    WARN = 2
    INFO = 3
    DEBUG = 4


@_c("HRE_HPKE_MODE_", c_enum="hre_hpke_mode")
class HpkeMode(enum.IntEnum):
    """HPKE modes (enum hre_hpke_mode, RFC 9180 5)."""
    BASE = 0
    PSK = 1
    AUTH = 2
    AUTH_PSK = 3


@_c("HRE_ENC_TARGET_")
class EncTarget(enum.IntEnum):
    """What a set_enc_key transaction (and enc_key()) names (HRE_ENC_TARGET_*)."""
    ACCOUNT = 0
    ORG = 1


@_c("HRE_ACCESS_", exclude_prefix="HRE_ACCESS_BY_")
class AccessReason(enum.IntEnum):
    """Why access_check() allowed or refused a read (HRE_ACCESS_*; the
    first failing check decides, in contract.h's order)."""
    ALLOWED = 0
    NO_GRANT = 1
    REVOKED = 2
    EXPIRED = 3
    ERASED = 4
    UNKNOWN_RECORD = 5
    UNKNOWN_READER = 6
    READER_SUSPENDED = 7
    ORG_SUSPENDED = 8


@_c("HRE_ACCESS_BY_")
class AccessBasis(enum.IntEnum):
    """What allowed an access (HRE_ACCESS_BY_*)."""
    PATIENT = 1
    ROLE = 2
    GRANT = 3


# HRE_NODE_ is shared with node.h: the node-status reasons of contract.h are
# the HRE_NODE_* constants outside node.h's families (listed here; a new
# family in node.h needs its own enum or an entry in this list).
_NODE_H_FAMILIES = ("HRE_NODE_REASON_", "HRE_NODE_EVENT_", "HRE_NODE_DEFAULT_", "HRE_NODE_MAX_",
                    "HRE_NODE_PEER_", "HRE_NODE_MEMBER_", "HRE_NODE_APP_", "HRE_NODE_OPTIONS_",
                    "HRE_NODE_DISCOURAGED_", "HRE_NODE_STATS_", "HRE_NODE_ADDR")


@_c("HRE_NODE_", exclude=("HRE_NODE_PROTOCOL_VERSION",), exclude_prefix=_NODE_H_FAMILIES)
class NodeStatusReason(enum.IntEnum):
    """Verdict of Contract.node_status(): is a key the current key of an
    active node of an active organisation (HRE_NODE_MEMBER ... in contract.h)?"""
    MEMBER = 0
    UNKNOWN_KEY = 1
    NOT_A_NODE = 2
    KEY_ROTATED = 3
    SUSPENDED = 4
    ORG_SUSPENDED = 5


@_c("HRE_NODE_REASON_", c_enum="hre_node_reason")
class NodeReason(enum.IntEnum):
    """Why a node closed a connection or refused a message (enum
    hre_node_reason; reason_name() gives the library's text)."""
    NONE = 0
    HOST_CLOSED = 1
    LOCAL = 2
    TRANSPORT = 3
    TOO_MANY_PEERS = 4
    DISCOURAGED = 5
    RESOURCES = 6
    DUPLICATE = 7
    HANDSHAKE_TIMEOUT = 10
    BAD_MAGIC = 11
    WRONG_NETWORK = 12
    HANDSHAKE_FAILED = 13
    REPLAY = 14
    IDENTITY_INVALID = 15
    IDENTITY_MALFORMED = 16
    SELF_CONNECTION = 17
    WRONG_PARAMS = 18
    OLD_VERSION = 19
    NOT_MEMBER = 20
    KEY_SUSPENDED = 21
    ORG_SUSPENDED = 22
    KEY_ROTATED = 23
    DECRYPT = 30
    OVERSIZE = 31
    MALFORMED = 32
    NONCE_EXHAUSTED = 33
    HEADERS_OVER_CAP = 40
    LOCATOR_OVER_CAP = 41
    INV_OVER_CAP = 42
    GETDATA_OVER_CAP = 43
    INVALID_POW = 44
    NON_CONNECTING = 45
    NON_CONTINUOUS = 46
    INVALID_HEADER = 47
    INVALID_BLOCK = 48
    RECV_BUFFER = 49
    SEND_BUFFER = 50
    STALLING = 51
    TIMEOUT = 52
    RATE_LIMITED = 53
    APP_UNKNOWN = 54
    TIME_FUTURE = 55
    FATAL = 56


@_c("HRE_NODE_EVENT_", exclude=("HRE_NODE_EVENT_VERSION",))
class NodeEventType(enum.IntEnum):
    """Node event types (HRE_NODE_EVENT_*)."""
    PEER_READY = 1
    PEER_DISCONNECTED = 2
    REFUSED = 3
    LEDGER = 4
    TX_ACCEPTED = 5
    APP_WRITABLE = 6
    MEMBERSHIP = 7
    FATAL = 8


@_c("HRE_NODE_PEER_", exclude=("HRE_NODE_PEER_OUTBOUND", "HRE_NODE_PEER_INFO_VERSION"))
class PeerState(enum.IntEnum):
    """State of a node's connection (HRE_NODE_PEER_*)."""
    HANDSHAKE = 1
    VERSION = 2
    READY = 3


@_c("HRE_NODE_MEMBER_")
class NodeMember(enum.IntEnum):
    """Membership of a peer or of the node itself (HRE_NODE_MEMBER_*)."""
    NONE = 0
    LIVE = 1
    UNKNOWN_KEY = 2
    SUSPENDED = 3
    ORG_SUSPENDED = 4
    ROTATED = 5


@_c("HRE_VAULT_READER_")
class VaultReader(enum.IntEnum):
    """Who a vault wrap is for (HRE_VAULT_READER_*): an account address or an
    organisation id."""
    ACCOUNT = 0
    ORG = 1


@_c("HRE_VAULT_COMPRESS_")
class VaultCompress(enum.IntEnum):
    """Compression of a sealed document (HRE_VAULT_COMPRESS_*)."""
    AUTO = 0
    NEVER = 1
    ALWAYS = 2


@_c("HRE_VAULT_XCH_REFUSE_", exclude=("HRE_VAULT_XCH_REFUSE_MAX",))
class VaultXchRefusal(enum.IntEnum):
    """Why a holder refused a document request (HRE_VAULT_XCH_REFUSE_*; the
    REFUSAL message's reason byte). vault.xch_refusal_code() gives the error
    code a reader's fetch fails with, vault.xch_refusal_name() the library's
    name. Values never change."""
    NO_GRANT = 1
    REVOKED = 2
    EXPIRED = 3
    ERASED = 4
    UNKNOWN_RECORD = 5
    NOT_MEMBER = 6
    SUSPENDED = 7
    NO_LOG_ACCESS = 8
    NOT_HELD = 9
    BAD_SIGNATURE = 10
    STALE = 11
    REPLAY = 12
    WRONG_CHANNEL = 13
    BUSY = 14
    MALFORMED = 15
    INTERNAL = 16


@_c("HRE_VAULT_XCH_EVENT_", exclude=("HRE_VAULT_XCH_EVENT_VERSION",))
class VaultXchEventType(enum.IntEnum):
    """Document exchange events (HRE_VAULT_XCH_EVENT_*): REFUSED, SERVING,
    SERVED, ABORTED on the holder, FETCH_DONE on the reader."""
    REFUSED = 1
    SERVING = 2
    SERVED = 3
    ABORTED = 4
    FETCH_DONE = 5


@_c("HRE_PROOF_", exclude=("HRE_PROOF_MAGIC", "HRE_PROOF_FORMAT", "HRE_PROOF_MAX_HEADERS",
                           "HRE_PROOF_FIXED_LEN", "HRE_PROOF_MAX_LEN"))
class ProofWhy(enum.IntEnum):
    """Why Proof.verify refused (HRE_PROOF_*; proof.why_name() gives the
    library's name). OK when it verified."""
    OK = 0
    BAD_GENESIS = 1
    BAD_HEADERS = 2
    BAD_TXID = 3
    BAD_BRANCH = 4
    BAD_NETWORK = 5
    BAD_SIGNATURE = 6


ENUMS = [Curve, Kind, OrgType, Role, AccountStatus, SuspendAction, ReaderType, Scope,
         CommitField, EventType, EventFlag, LedgerEventType, LedgerStatus, LogLevel, HpkeMode,
         EncTarget, AccessReason, AccessBasis, NodeStatusReason, NodeReason, NodeEventType,
         PeerState, NodeMember, VaultReader, VaultCompress, VaultXchRefusal,
         VaultXchEventType, ProofWhy]


def c_name(member):
    """The C constant a member mirrors, e.g. Role.ADMIN -> "HRE_ROLE_ADMIN"."""
    info = C_INFO[type(member)]
    return info["names"].get(member.name, info["prefix"] + member.name)


def as_enum(cls, value):
    """cls(value) when the value is known, else the plain int."""
    try:
        return cls(value)
    except ValueError:
        return value
