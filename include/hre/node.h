/*
 * libhre layer 6: the node. A sans-I/O peer-to-peer engine over a host
 * transport (<hre/sys/transport.h>): an authenticated, encrypted channel
 * (Noise_XX_25519_AESGCM_SHA256) whose identities come from the chain,
 * the version handshake, headers-first sync with parallel block download,
 * transaction and block relay, an application-message extension point (the
 * vault's document exchange runs on it), bounded mining steps, and
 * misbehaviour handling with a bounded discouragement list.
 * docs/PROTOCOL.md section 12 is the normative description of the wire
 * format, the caps, the state machine and the reason codes.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 *
 * ========================================================================
 * The shape (nghttp2 / ngtcp2 style)
 * ========================================================================
 * - A node works on one ledger (hre_ledger, borrowed: the host opens it
 *   before hre_node_new and closes it after hre_node_free). It never opens
 *   a socket, reads a clock or starts a thread. The ledger's worker pool
 *   (verify_threads) is the only parallelism.
 * - Time: every call that needs the time takes `now`, in MILLISECONDS
 *   (uint64_t, any epoch the host keeps monotonic; Unix time makes block
 *   timestamps right). The ledger gets now / 1000 (seconds). Timers: the host
 *   asks hre_node_next_timer for the next expiry and calls hre_node_tick at
 *   (or after) it.
 * - Peers: the host names connections with its own uint64_t id and reports
 *   them (hre_node_peer_connected / _closed); it hands received bytes in
 *   (hre_node_peer_recv). The node sends through the transport vtable
 *   (push mode; HRE_EAGAIN is back-pressure, resumed by
 *   hre_node_peer_writable) or queues for the host to pull (pull mode,
 *   hre_node_pull). It asks the host to open connections (vtable connect,
 *   to addresses from the address book the host fills with
 *   hre_node_address_add) and to close them (vtable close).
 * - Events (connections ready or lost and why, refused messages, forwarded
 *   ledger events, transactions accepted from peers, app back-pressure) go
 *   to one host callback, hre_node_options.on_event.
 * - The node installs itself as the ledger's event listener
 *   (hre_ledger_set_event_callback) for its lifetime and forwards every
 *   ledger event to the host (HRE_NODE_EVENT_LEDGER), after calling the
 *   callback the ledger had before (which it restores at hre_node_free).
 *
 * Every callback receives the user_data given with it. Callbacks run on the
 * thread making the node call, during that call.
 *
 * ========================================================================
 * The ledger while a node runs
 * ========================================================================
 * The host may call any ledger QUERY at any time outside the node's
 * callbacks for HRE_NODE_EVENT_LEDGER. It should submit transactions and
 * mine through the node (hre_node_submit_tx, hre_node_mine) so that they are
 * relayed; blocks it submits to the ledger directly are still seen through
 * the ledger's events (and announced), transactions are not.
 *
 * ========================================================================
 * Membership (docs/PROTOCOL.md 12.3)
 * ========================================================================
 * A node's identity is an ECDSA key registered on the chain as a node
 * account (contract kind REGISTER_NODE). In the Noise handshake each side
 * signs the handshake hash with it; a node without an identity (identity ==
 * NULL in the options, e.g. not registered yet) sends none. A peer is a LIVE
 * MEMBER while its key is the current key of an active node account of an
 * active organisation in the node's tip state (re-checked after every block
 * connected and every reorg):
 * - any peer may sync headers and blocks (they authenticate themselves by
 *   proof of work and signatures): that is how a new node bootstraps;
 * - only live members exchange transactions (inv / getdata / tx) and
 *   application messages; the same messages from others are refused
 *   (HRE_NODE_EVENT_REFUSED, reason HRE_NODE_REASON_NOT_MEMBER) and never
 *   sent to them;
 * - a peer that WAS a live member and stops being one (its node account or
 *   its organisation suspended, its key rotated out) is disconnected with
 *   the reason (HRE_NODE_REASON_KEY_SUSPENDED / _ORG_SUSPENDED /
 *   _KEY_ROTATED);
 * - a man in the middle (the identity signature does not verify over this
 *   connection's handshake hash: HRE_NODE_REASON_IDENTITY_INVALID), a
 *   replayed handshake (an initiator ephemeral key seen recently:
 *   HRE_NODE_REASON_REPLAY) and a malformed identity are refused at the
 *   handshake and the connection is closed.
 *
 * ========================================================================
 * Fatal state (common.h rule 10; after nghttp2's "below FATAL, only free")
 * ========================================================================
 * A node becomes FATAL when something it cannot recover from happens: its
 * ledger answers a submission (block, transaction, mined block) with
 * HRE_EFATAL or HRE_ECORRUPT, or the ledger's tip can no longer be read.
 * (Allocation failures are not fatal: the node drops the peer or the work
 * concerned and carries on.) It then reports HRE_NODE_EVENT_FATAL once, stops
 * calling the transport (no send, connect or close), and from then on every
 * call below returns HRE_EFATAL, except these, which stay valid:
 *   hre_node_free, hre_node_fatal_error, hre_node_ledger, hre_node_stats_get,
 *   hre_node_peer_info_get, hre_node_peer_list, hre_node_peer_pending,
 *   hre_node_peer_want_read,
 *   hre_node_discouraged_get, hre_node_discouraged_count,
 *   hre_node_discouraged_entry, hre_node_next_timer (UINT64_MAX),
 *   hre_node_reason_name and the _init functions.
 * The host then closes its connections itself (hre_node_peer_list names
 * them), frees the node and closes (and reopens, if it wants) the ledger.
 * A problem with ONE peer (a protocol violation, its memory cap, an
 * allocation failure for its buffers) is never fatal: that peer is
 * disconnected.
 *
 * ========================================================================
 * Threads
 * ========================================================================
 * An hre_node is not internally locked: one thread at a time, the same one
 * that uses its ledger (the host serialises). Distinct nodes on distinct
 * ledgers are independent. Error details are thread-local (errors.h).
 *
 * Re-entrancy: from inside a node callback (event, app handler) the host may
 * call only hre_node_app_send, hre_node_app_send_space,
 * hre_node_peer_disconnect and the queries listed under "fatal state"; any
 * other hre_node_* call returns HRE_ESTATE. The transport methods may not
 * call into the node at all. Inside an HRE_NODE_EVENT_LEDGER callback the
 * ledger is in the middle of a call: no ledger calls either.
 */
#ifndef HRE_NODE_H
#define HRE_NODE_H

#include "common.h"
#include "key.h"
#include "ledger.h"

/* The transport vtable is implementer tier: a host that brings the network
 * includes <hre/sys/transport.h> to fill one in. Callers that only drive a
 * node see the type name. */
#ifndef HRE_TRANSPORT_METHODS_TYPEDEF
/** Guard: the hre_transport_methods typedef is also in sys/transport.h. */
#define HRE_TRANSPORT_METHODS_TYPEDEF
typedef struct hre_transport_methods hre_transport_methods;
#endif

HRE_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Protocol constants (docs/PROTOCOL.md 12)                                  */
/* ------------------------------------------------------------------------ */

#define HRE_NODE_PROTOCOL_VERSION 1     /* version message, and the Noise prologue */
#define HRE_NODE_MAX_HEADERS      2000  /* headers per HEADERS message */
#define HRE_NODE_MAX_LOCATOR      101   /* hashes per block locator */
#define HRE_NODE_MAX_INV          1000  /* entries per INV, GETDATA or NOTFOUND */
#define HRE_NODE_ADDRESS_MAX      255   /* bytes of a host address string (no NUL) */
#define HRE_NODE_APP_MESSAGE_LIMIT (1u << 20) /* the largest app_max_message allowed */

/** Why a connection was closed or a message refused. Every disconnect,
 *  refusal and discouragement carries one (events, peer info, the
 *  discouragement list). Values never change; new ones are appended.
 *  "discourages" marks the reasons that also put the peer's identity and
 *  address on the discouragement list (docs/PROTOCOL.md 12.9).
 *  Since: 1.1 */
typedef enum hre_node_reason {
    HRE_NODE_REASON_NONE = 0,
    /* local or host side */
    HRE_NODE_REASON_HOST_CLOSED = 1,       /* the host reported it closed (hre_node_peer_closed) */
    HRE_NODE_REASON_LOCAL = 2,             /* hre_node_peer_disconnect */
    HRE_NODE_REASON_TRANSPORT = 3,         /* the transport's send reported an error */
    HRE_NODE_REASON_TOO_MANY_PEERS = 4,    /* refused at connect: max_peers reached */
    HRE_NODE_REASON_DISCOURAGED = 5,       /* refused at connect: address or identity discouraged */
    HRE_NODE_REASON_RESOURCES = 6,         /* an allocation for this peer failed */
    HRE_NODE_REASON_DUPLICATE = 7,         /* reserved (a second connection with the same identity;
                                              not raised by this version) */
    /* handshake (Noise and identity) */
    HRE_NODE_REASON_HANDSHAKE_TIMEOUT = 10,/* handshake + version not done in handshake_timeout_ms */
    HRE_NODE_REASON_BAD_MAGIC = 11,        /* wrong magic in the first handshake payload or a message */
    HRE_NODE_REASON_WRONG_NETWORK = 12,    /* another network id in the first handshake payload */
    HRE_NODE_REASON_HANDSHAKE_FAILED = 13, /* a Noise handshake message did not decode or authenticate */
    HRE_NODE_REASON_REPLAY = 14,           /* a recently seen initiator ephemeral key */
    HRE_NODE_REASON_IDENTITY_INVALID = 15, /* identity signature does not verify over this
                                              handshake hash (a man in the middle) */
    HRE_NODE_REASON_IDENTITY_MALFORMED = 16,/* identity payload does not decode, or the key does not parse */
    HRE_NODE_REASON_SELF_CONNECTION = 17,  /* the version nonce is our own */
    HRE_NODE_REASON_WRONG_PARAMS = 18,     /* version: another network id or params fingerprint */
    HRE_NODE_REASON_OLD_VERSION = 19,      /* version: protocol version below ours */
    /* membership (re-checked on every block) */
    HRE_NODE_REASON_NOT_MEMBER = 20,       /* refusal: the peer is not a live member (no identity,
                                              or a key never registered) */
    HRE_NODE_REASON_KEY_SUSPENDED = 21,    /* its node account was suspended */
    HRE_NODE_REASON_ORG_SUSPENDED = 22,    /* its organisation was suspended */
    HRE_NODE_REASON_KEY_ROTATED = 23,      /* its key was rotated out */
    /* framing */
    HRE_NODE_REASON_DECRYPT = 30,          /* a transport message failed to authenticate (bad tag) */
    HRE_NODE_REASON_OVERSIZE = 31,         /* a message over its type's size cap (discourages) */
    HRE_NODE_REASON_MALFORMED = 32,        /* a message that does not decode or is not canonical */
    HRE_NODE_REASON_NONCE_EXHAUSTED = 33,  /* a cipher would reach nonce 2^64 - 1 */
    /* sync and relay misbehaviour */
    HRE_NODE_REASON_HEADERS_OVER_CAP = 40, /* more than HRE_NODE_MAX_HEADERS headers (discourages) */
    HRE_NODE_REASON_LOCATOR_OVER_CAP = 41, /* more than HRE_NODE_MAX_LOCATOR hashes (discourages) */
    HRE_NODE_REASON_INV_OVER_CAP = 42,     /* more than HRE_NODE_MAX_INV inv entries (discourages) */
    HRE_NODE_REASON_GETDATA_OVER_CAP = 43, /* more than HRE_NODE_MAX_INV getdata entries (discourages) */
    HRE_NODE_REASON_INVALID_POW = 44,      /* a header's proof of work is invalid (discourages) */
    HRE_NODE_REASON_NON_CONNECTING = 45,   /* 9 HEADERS in a row whose first does not connect (discourages) */
    HRE_NODE_REASON_NON_CONTINUOUS = 46,   /* headers that do not chain to each other (discourages) */
    HRE_NODE_REASON_INVALID_HEADER = 47,   /* unexpected bits, or time not above the median
                                              (discourages) */
    HRE_NODE_REASON_INVALID_BLOCK = 48,    /* a block the ledger rejected as invalid (discourages) */
    HRE_NODE_REASON_RECV_BUFFER = 49,      /* the peer's receive buffer would exceed its cap */
    HRE_NODE_REASON_SEND_BUFFER = 50,      /* the peer's send queue would exceed its cap */
    HRE_NODE_REASON_STALLING = 51,         /* it stalled the block download window */
    HRE_NODE_REASON_TIMEOUT = 52,          /* no pong, or no answer to a request, in time */
    HRE_NODE_REASON_RATE_LIMITED = 53,     /* refusal: app messages over the peer's rate */
    HRE_NODE_REASON_APP_UNKNOWN = 54,      /* refusal: app message type with no handler */
    HRE_NODE_REASON_TIME_FUTURE = 55,      /* refusal (not punished): header time > now + 2 h */
    HRE_NODE_REASON_FATAL = 56             /* the node became fatal */
} hre_node_reason;

/** A static, NUL-terminated name for a reason ("invalid-pow", ...);
 *  "unknown" for other values.  Thread safety: any thread.  Since: 1.1 */
HRE_API const char *hre_node_reason_name(int reason);

/** Does this reason put a peer on the discouragement list? 1 or 0.
 *  Since: 1.1 */
HRE_API int hre_node_reason_discourages(int reason) HRE_WARN_UNUSED_RESULT;

/* ------------------------------------------------------------------------ */
/* Events                                                                    */
/* ------------------------------------------------------------------------ */

/** Newest version of hre_node_event this header declares (its .version field). */
#define HRE_NODE_EVENT_VERSION 1

#define HRE_NODE_EVENT_PEER_READY        1 /* handshake and version exchange done (conn) */
#define HRE_NODE_EVENT_PEER_DISCONNECTED 2 /* conn is gone: reason, discouraged, detail */
#define HRE_NODE_EVENT_REFUSED           3 /* a message from conn was refused, the peer stays:
                                              reason (NOT_MEMBER, RATE_LIMITED, APP_UNKNOWN,
                                              TIME_FUTURE), detail */
#define HRE_NODE_EVENT_LEDGER            4 /* a ledger event (ledger != NULL) */
#define HRE_NODE_EVENT_TX_ACCEPTED       5 /* a transaction from conn entered the mempool (hash) */
#define HRE_NODE_EVENT_APP_WRITABLE      6 /* conn can take app messages again after
                                              hre_node_app_send returned HRE_EAGAIN */
#define HRE_NODE_EVENT_MEMBERSHIP        7 /* conn's membership changed (member: HRE_NODE_MEMBER_*) */
#define HRE_NODE_EVENT_FATAL             8 /* the node became fatal (reason FATAL, detail) */

/** One node event, valid only during the callback. Fields not listed for a
 *  type are zero (detail is "" then, never NULL). The node fills the
 *  library's current version; a host checks .version before reading fields
 *  newer than its own header's.
 *  Since: 1.1 */
typedef struct hre_node_event {
    unsigned int version;              /* HRE_NODE_EVENT_VERSION */
    unsigned int type;                 /* HRE_NODE_EVENT_* */
    uint64_t conn;                     /* the host's connection id (peer events) */
    int reason;                        /* HRE_NODE_REASON_* (DISCONNECTED, REFUSED, FATAL) */
    int discouraged;                   /* DISCONNECTED: 1 if its address or key was put on the list */
    int member;                        /* MEMBERSHIP: the new HRE_NODE_MEMBER_* value */
    const char *detail;                /* NUL-terminated text, never NULL; no secrets */
    uint8_t hash[32];                  /* TX_ACCEPTED: the txid */
    const hre_ledger_event *ledger;    /* LEDGER: the ledger's event (else NULL) */
    uint64_t now;                      /* the `now` of the call that raised it */
} hre_node_event;

/** Host event callback (see the re-entrancy rule at the top). */
typedef void (*hre_node_event_fn)(void *user_data, const hre_node_event *ev);

/* ------------------------------------------------------------------------ */
/* Options, new and free                                                     */
/* ------------------------------------------------------------------------ */

/** Newest version of hre_node_options this header declares (its .version field). */
#define HRE_NODE_OPTIONS_VERSION 1

/** @{ */
/** Defaults used when the corresponding option is 0. */
#define HRE_NODE_DEFAULT_MAX_PEERS            64u
#define HRE_NODE_DEFAULT_TARGET_OUTBOUND      8u
#define HRE_NODE_DEFAULT_MAX_MEMORY           (256u * 1024u * 1024u)
#define HRE_NODE_DEFAULT_PEER_SEND_MAX        (16u * 1024u * 1024u)
#define HRE_NODE_DEFAULT_MAX_HEADERS          100000u
#define HRE_NODE_DEFAULT_MAX_HEADERS_PER_PEER 20000u
#define HRE_NODE_DEFAULT_BLOCK_WINDOW         1024u
#define HRE_NODE_DEFAULT_BLOCKS_IN_FLIGHT     16u
#define HRE_NODE_DEFAULT_BLOCK_BUFFER_MAX     (64u * 1024u * 1024u)
#define HRE_NODE_DEFAULT_STALL_TIMEOUT_MS     2000u
#define HRE_NODE_DEFAULT_STALL_TIMEOUT_MAX_MS 64000u
#define HRE_NODE_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000u
#define HRE_NODE_DEFAULT_PING_INTERVAL_MS     120000u
#define HRE_NODE_DEFAULT_PING_TIMEOUT_MS      60000u
#define HRE_NODE_DEFAULT_REQUEST_TIMEOUT_MS   60000u
#define HRE_NODE_DEFAULT_MAX_DISCOURAGED      1000u
#define HRE_NODE_DEFAULT_APP_MAX_MESSAGE      65536u
#define HRE_NODE_DEFAULT_APP_RATE_MSGS        200u
#define HRE_NODE_DEFAULT_APP_RATE_BYTES       (8u * 1024u * 1024u)
#define HRE_NODE_DEFAULT_WORK_BUDGET          64u
#define HRE_NODE_DEFAULT_SUBMIT_BATCH         64u
#define HRE_NODE_DEFAULT_RECONNECT_MS         1000u
/** @} */

/** Options of hre_node_new. Start from HRE_NODE_OPTIONS_INIT or
 *  hre_node_options_init(). Every count, size and time below uses its
 *  default when 0 (HRE_NODE_DEFAULT_*); there is no "unlimited".
 *  Pointers: ledger, identity, transport_user_data, user_data and
 *  log_user_data are borrowed until hre_node_free; the transport table is
 *  copied (up to its version) during hre_node_new.
 *  Since: 1.1 */
typedef struct hre_node_options {
    unsigned int version;                 /* HRE_NODE_OPTIONS_VERSION */
    hre_ledger *ledger;                   /* required; borrowed until hre_node_free */
    const hre_key *identity;              /* the node key registered on the chain (REGISTER_NODE);
                                             NULL = no identity (sync only) */
    const hre_transport_methods *transport; /* required; copied */
    void *transport_user_data;            /* passed to every transport method */
    hre_node_event_fn on_event;           /* may be NULL */
    void *user_data;                      /* passed to on_event */
    hre_log_fn log_fn;                    /* may be NULL: no logging */
    void *log_user_data;                  /* passed to log_fn */
    uint32_t max_peers;                   /* connections at once (in + out) */
    uint32_t target_outbound;             /* outbound connections kept from the address book */
    uint64_t max_memory;                  /* bytes the node's buffers and indexes may hold in all */
    uint32_t peer_send_max;               /* bytes queued for one peer */
    uint32_t max_headers;                 /* headers held in memory ahead of the ledger, in all */
    uint32_t max_headers_per_peer;        /* ... and introduced by one peer */
    uint32_t block_window;                /* blocks ahead of the ledger tip that may be fetched */
    uint32_t blocks_in_flight;            /* block requests outstanding per peer */
    uint32_t block_buffer_max;            /* bytes of fetched blocks waiting for their parent */
    uint32_t stall_timeout_ms;            /* first stall timeout; doubles on each stall */
    uint32_t stall_timeout_max_ms;        /* ... up to this */
    uint32_t handshake_timeout_ms;        /* Noise handshake + version exchange */
    uint32_t ping_interval_ms;            /* idle time before a ping */
    uint32_t ping_timeout_ms;             /* time to the pong */
    uint32_t request_timeout_ms;          /* time to an answer for headers or tx requests */
    uint32_t max_discouraged;             /* discouragement list entries (oldest dropped) */
    uint32_t app_max_message;             /* bytes of one app message (<= HRE_NODE_APP_MESSAGE_LIMIT) */
    uint32_t app_rate_msgs;               /* app messages per second per peer (burst: 2 s worth) */
    uint32_t app_rate_bytes;              /* app bytes per second per peer (burst: 2 s worth) */
    uint32_t work_budget;                 /* messages processed per peer per call (fairness) */
    uint32_t submit_batch;                /* blocks handed to the ledger in one group commit */
    uint32_t reconnect_ms;                /* first backoff for an address book entry; doubles */
} hre_node_options;

/** Static initializer for hre_node_options: HRE_NODE_OPTIONS_VERSION, every other field at its default. */
#define HRE_NODE_OPTIONS_INIT \
    { HRE_NODE_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/** Initialise opts to the defaults of `version` (1..HRE_NODE_OPTIONS_VERSION):
 *  every field that version declares is zero / NULL, nothing past it is
 *  written.
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (unknown version).
 *  Thread safety: any thread.
 *  Since: 1.1 */
HRE_API int hre_node_options_init(hre_node_options *opts, unsigned int version);

/** The node. Opaque handle. */
typedef struct hre_node hre_node;

/** Create a node on an open ledger. Generates the node's X25519 static key
 *  (from OpenSSL's DRBG; it lives as long as the node) and its version
 *  nonce, and installs the node as the ledger's event listener.
 *  Out: *out: the node, owned by the caller; free with hre_node_free
 *       (NULL on failure).
 *  In:  opts: read up to its version (see hre_node_options for what is
 *       borrowed); now: the host's clock in ms.
 *  Returns: HRE_OK; HRE_EINVAL (NULL, no ledger or transport, a value out
 *           of range -- the detail names it); HRE_EUNSUPPORTED (options or
 *           transport version); HRE_ENOMEM; HRE_ECRYPTO.
 *  Since: 1.1 */
HRE_API int hre_node_new(hre_node **out, const hre_node_options *opts, uint64_t now);

/** Free the node: every connection is dropped without calling the
 *  transport (the host closes its sockets), buffered blocks not yet given
 *  to the ledger are discarded (they are fetched again after a restart:
 *  sync resumes from the ledger's tip), the ledger's previous event
 *  callback is restored. The ledger stays open. NULL is fine. Valid in the
 *  fatal state. Must not be called from a node callback.
 *  Since: 1.1 */
HRE_API void hre_node_free(hre_node *n);

/** The ledger the node works on (borrowed; NULL for NULL). Valid in the
 *  fatal state.  Since: 1.1 */
HRE_API hre_ledger *hre_node_ledger(const hre_node *n);

/** HRE_OK, or the error that made the node fatal (HRE_EFATAL,
 *  HRE_ECORRUPT, HRE_ENOMEM, ...). Plain accessor (HRE_EINVAL for NULL).
 *  Since: 1.1 */
HRE_API int hre_node_fatal_error(const hre_node *n);

/* ------------------------------------------------------------------------ */
/* Connections                                                               */
/* ------------------------------------------------------------------------ */

/** hre_node_peer_connected flag: the node initiated this connection (it is
 *  the Noise initiator and writes first). Without it the connection is
 *  inbound (the peer writes first). */
#define HRE_NODE_PEER_OUTBOUND 0x1u

/** A connection is established. Outbound: the node writes the first
 *  handshake message (queued or sent before this returns); inbound: it
 *  waits for the peer's.
 *  Args: n (self).
 *  In:  conn: the host's id (unique among its live connections to n);
 *       address: the host's name for the peer (NUL-terminated, at most
 *       HRE_NODE_ADDRESS_MAX bytes; may be NULL or "" if it has none),
 *       copied; it is what the discouragement list records; flags: 0 or
 *       HRE_NODE_PEER_OUTBOUND; now (ms).
 *  Returns: HRE_OK; HRE_EAUTH (the address is discouraged: the node does
 *           not keep the connection, the host closes it); HRE_ELIMIT
 *           (max_peers, or the memory cap, reached: the same); HRE_EEXISTS
 *           (conn is already live); HRE_EINVAL; HRE_ENOMEM; HRE_ECRYPTO;
 *           HRE_ESTATE (inside a callback); HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_peer_connected(hre_node *n, uint64_t conn, const char *address,
                                    unsigned int flags, uint64_t now) HRE_WARN_UNUSED_RESULT;

/** Bytes received on a connection. The node takes all len bytes: it
 *  decrypts whole Noise frames as they complete (a frame, a message header
 *  or a message split across calls is fine, down to one byte per call) and
 *  processes complete messages, at most work_budget of this peer's per call
 *  (the rest wait for the next call on the node, round-robin between
 *  peers, so one flooding peer cannot starve the others; hre_node_next_timer
 *  returns `now` while work waits). Replies are sent (or queued) before it
 *  returns.
 *  Args: n (self).
 *  In:  conn; data/len (data may be NULL if len == 0), read during the call
 *       only; now (ms).
 *  Returns: HRE_OK (the peer may still have been disconnected by something
 *           else this call did, e.g. a membership change: see the events);
 *           HRE_EPROTO: these bytes broke the protocol -- the peer was
 *           disconnected (vtable close called, PEER_DISCONNECTED raised),
 *           the detail names the reason; HRE_ENOTFOUND (conn is not live);
 *           HRE_EINVAL; HRE_ESTATE (inside a callback); HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_peer_recv(hre_node *n, uint64_t conn, const uint8_t *data, size_t len,
                               uint64_t now);

/** Push mode: conn can take bytes again after send took fewer than offered
 *  (or returned HRE_EAGAIN). The node sends what it queued, then resumes
 *  work that waited for room (pending getdata answers, app back-pressure).
 *  Returns: HRE_OK; HRE_ENOTFOUND; HRE_EINVAL; HRE_ESTATE; HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_peer_writable(hre_node *n, uint64_t conn, uint64_t now);

/** The host's connection is gone (reset, EOF, or a connect attempt that
 *  failed). The node forgets it (raising PEER_DISCONNECTED with reason
 *  HOST_CLOSED) and re-requests what it had in flight from other peers
 *  (blocks from any peer that has them, transactions from another peer
 *  that announced them).
 *  It does not call the vtable's close.
 *  Returns: HRE_OK; HRE_ENOTFOUND (not live: e.g. the node closed it
 *           already); HRE_EINVAL; HRE_ESTATE; HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_peer_closed(hre_node *n, uint64_t conn, uint64_t now);

/** Close a connection on the host's request: the node raises
 *  PEER_DISCONNECTED (reason LOCAL) and calls the vtable's close. Allowed
 *  inside callbacks (the close then happens when the outer call returns).
 *  Returns: HRE_OK; HRE_ENOTFOUND; HRE_EINVAL; HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_peer_disconnect(hre_node *n, uint64_t conn, uint64_t now);

/** Receive back-pressure: 0 while this peer's received but unprocessed
 *  messages fill more than half its receive cap (the work budget defers
 *  them: see hre_node_peer_recv), else 1; 0 for an unknown conn or NULL.
 *  A host should stop reading that connection while it is 0 (and keep
 *  calling hre_node_tick when hre_node_next_timer says so, which drains the
 *  backlog); a host that keeps feeding a peer regardless lets it reach the
 *  cap, and the node then disconnects it (HRE_NODE_REASON_RECV_BUFFER).
 *  Valid in the fatal state and inside callbacks.  Since: 1.1 */
HRE_API int hre_node_peer_want_read(const hre_node *n, uint64_t conn) HRE_WARN_UNUSED_RESULT;

/** Pull mode (and push mode's queue): bytes queued for conn, 0 for an
 *  unknown conn or NULL. Valid in the fatal state.  Since: 1.1 */
HRE_API size_t hre_node_peer_pending(const hre_node *n, uint64_t conn);

/** Take queued bytes of one connection, in order.
 *  Args: n (self).
 *  Out: out (may be NULL with *len == 0 to ask how many wait).
 *  In/Out: *len: capacity in; bytes copied out (as many as fit; 0 when
 *          nothing waits). The copied bytes leave the queue.
 *  In:  conn.
 *  Returns: HRE_OK; HRE_ENOTFOUND; HRE_EINVAL; HRE_ESTATE; HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_peer_pull(hre_node *n, uint64_t conn, uint8_t *out, size_t *len);

/** Take queued bytes of whichever connection has some (round-robin), so a
 *  pull-mode host can drain the node with one loop.
 *  Out: *conn: the connection they are for; out.
 *  In/Out: *len: capacity in; bytes copied out.
 *  Returns: HRE_OK; HRE_ENOTFOUND (nothing queued for anyone; *len = 0);
 *           HRE_EINVAL (NULL, or *len == 0); HRE_ESTATE; HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_pull(hre_node *n, uint64_t *conn, uint8_t *out, size_t *len);

/** Ids of the live connections (order unspecified).
 *  Out: conns (may be NULL with *count == 0).
 *  In/Out: *count: capacity in; ids written out (the number needed with
 *          HRE_EBUFSIZE).
 *  Returns: HRE_OK; HRE_EBUFSIZE; HRE_EINVAL. Valid in the fatal state.
 *  Since: 1.1 */
HRE_API int hre_node_peer_list(const hre_node *n, uint64_t *conns, size_t *count);

/** Newest version of hre_node_peer_info this header declares (its .version field). */
#define HRE_NODE_PEER_INFO_VERSION 1

/** Peer states. */
#define HRE_NODE_PEER_HANDSHAKE 1  /* Noise handshake in progress */
#define HRE_NODE_PEER_VERSION   2  /* channel up, version exchange in progress */
#define HRE_NODE_PEER_READY     3  /* ready: sync, relay, app messages */

/** Membership of a peer (and of the node itself, hre_node_stats). */
#define HRE_NODE_MEMBER_NONE          0 /* no identity presented (or not yet) */
#define HRE_NODE_MEMBER_LIVE          1 /* a live member */
#define HRE_NODE_MEMBER_UNKNOWN_KEY   2 /* a valid identity whose key is not a node account */
#define HRE_NODE_MEMBER_SUSPENDED     3 /* its node account is suspended */
#define HRE_NODE_MEMBER_ORG_SUSPENDED 4 /* its organisation is suspended */
#define HRE_NODE_MEMBER_ROTATED       5 /* its key was rotated out */

/** What the node knows about one connection. An output struct: set
 *  .version first (HRE_NODE_PEER_INFO_INIT or hre_node_peer_info_init).
 *  Since: 1.1 */
typedef struct hre_node_peer_info {
    unsigned int version;              /* in: HRE_NODE_PEER_INFO_VERSION */
    uint64_t conn;                     /* the host's connection id */
    char address[HRE_NODE_ADDRESS_MAX + 1]; /* as given to peer_connected, NUL-terminated */
    unsigned int flags;                /* HRE_NODE_PEER_OUTBOUND */
    int state;                         /* HRE_NODE_PEER_* */
    int has_identity;                  /* 1: identity_key holds its verified identity */
    uint8_t identity_key[34];          /* wire form of its node key */
    int member;                        /* HRE_NODE_MEMBER_* */
    uint8_t member_address[32];        /* its node account address (member == LIVE) */
    uint8_t org_id[32];                /* its organisation (member == LIVE) */
    uint8_t handshake_hash[32];        /* Noise handshake hash: channel binding (state >= VERSION) */
    uint64_t best_height;              /* from its version message */
    uint64_t connected_at;             /* ms */
    uint64_t last_recv;                /* ms of the last bytes received */
    uint64_t bytes_sent;               /* handed to the transport / pulled */
    uint64_t bytes_received;           /* fed to the node (hre_node_peer_recv) */
    uint64_t messages_received;        /* complete node messages */
    uint64_t mem_used;                 /* bytes of this peer's buffers and bookkeeping */
    uint32_t blocks_in_flight;         /* block requests outstanding to it */
    uint32_t headers_held;             /* headers it introduced that are still in memory */
    uint64_t send_queued;              /* bytes waiting to be sent */
} hre_node_peer_info;

/** Static initializer for hre_node_peer_info: HRE_NODE_PEER_INFO_VERSION, every other field at its default. */
#define HRE_NODE_PEER_INFO_INIT { HRE_NODE_PEER_INFO_VERSION, 0, {0}, 0, 0, 0, {0}, 0, {0}, {0}, \
                                  {0}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/** Zero the fields of `version` and set it (for bindings).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_node_peer_info_init(hre_node_peer_info *info, unsigned int version);

/** Information about one live connection.
 *  Args: n (self). Out: *info (set .version first). In: conn.
 *  Returns: HRE_OK; HRE_ENOTFOUND; HRE_EINVAL; HRE_EUNSUPPORTED (version).
 *  Valid in the fatal state and inside callbacks.
 *  Since: 1.1 */
HRE_API int hre_node_peer_info_get(const hre_node *n, hre_node_peer_info *info, uint64_t conn);

/* ------------------------------------------------------------------------ */
/* Address book and outbound connections                                     */
/* ------------------------------------------------------------------------ */

/** hre_node_address_add flag: keep a connection to this address open (the
 *  node reconnects with doubling backoff, from reconnect_ms up to 64x). */
#define HRE_NODE_ADDR_PERSISTENT 0x1u

/** Add an address to the node's address book (the node gives it no meaning;
 *  the host's connect method interprets it). The node opens outbound
 *  connections to book entries (vtable connect) until it has
 *  target_outbound, persistent entries first, skipping discouraged and
 *  already-connected ones; the attempt happens in this call or a later
 *  tick. Persistent entries are dialled beyond target_outbound; no entry
 *  is dialled while live peers plus unanswered attempts fill max_peers.
 *  An entry the node would not dial now has no timer in
 *  hre_node_next_timer; it becomes due again when a connection closes.
 *  In: address (1..HRE_NODE_ADDRESS_MAX bytes, NUL-terminated; copied);
 *      flags: 0 or HRE_NODE_ADDR_PERSISTENT; now (ms).
 *  Returns: HRE_OK; HRE_EEXISTS (already in the book; flags updated);
 *           HRE_ELIMIT (the book holds 1024 entries); HRE_EINVAL; HRE_ENOMEM;
 *           HRE_ESTATE; HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_address_add(hre_node *n, const char *address, unsigned int flags,
                                 uint64_t now);

/** Remove an address from the book (live connections to it stay).
 *  Returns: HRE_OK; HRE_ENOTFOUND; HRE_EINVAL; HRE_ESTATE; HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_address_remove(hre_node *n, const char *address);

/** Ask the host to open a connection to address now (vtable connect), once,
 *  whether or not it is in the book.
 *  Out: *conn (may be NULL): the id the host gave the attempt.
 *  Returns: HRE_OK; HRE_EUNSUPPORTED (the vtable has no connect); HRE_EAUTH
 *           (discouraged); HRE_ELIMIT (max_peers); the code connect
 *           returned; HRE_EINVAL; HRE_ESTATE; HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_connect(hre_node *n, uint64_t *conn, const char *address, uint64_t now);

/* ------------------------------------------------------------------------ */
/* Timers                                                                    */
/* ------------------------------------------------------------------------ */

/** The next time (ms) the node wants hre_node_tick: the earliest of its
 *  handshake, ping, request and stall timeouts, reconnect backoffs of
 *  book entries it would dial (not those held back by target_outbound or
 *  max_peers), and pending block submissions; `now`-or-earlier values mean
 *  "at once" (work waits: budgeted messages, a submission batch; a tick
 *  does that work, so a host that follows the timer does not spin);
 *  UINT64_MAX when nothing
 *  is scheduled (and in the fatal state).
 *  Out: *when.
 *  Returns: HRE_OK; HRE_EINVAL.
 *  Since: 1.1 */
HRE_API int hre_node_next_timer(const hre_node *n, uint64_t *when);

/** Run the timers that expired by `now` (disconnect timed-out peers and
 *  stallers, re-request stalled blocks elsewhere and timed-out
 *  transactions from another peer that announced them, send pings, open
 *  connections), process waiting messages (within the budgets), hand
 *  buffered blocks to the ledger, and flush. Calling it early or often is
 *  harmless. Feed the bytes that are ready (hre_node_peer_recv) before
 *  ticking: the node cannot see time it spent busy inside a call, so a peer
 *  whose answer sits unread in the host's socket would look late.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ESTATE (inside a callback); HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_tick(hre_node *n, uint64_t now);

/* ------------------------------------------------------------------------ */
/* Transactions and mining                                                   */
/* ------------------------------------------------------------------------ */

/** Submit a transaction to the ledger's mempool (hre_ledger_submit_tx with
 *  now / 1000) and, if accepted, announce it to every live-member peer.
 *  Out: txid, *status (each may be NULL), as hre_ledger_submit_tx.
 *  In:  tx/len; now (ms).
 *  Returns: HRE_OK; every code of hre_ledger_submit_tx; HRE_ESTATE (inside a
 *           callback); HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_submit_tx(hre_node *n, uint8_t txid[32], hre_ledger_status *status,
                               const uint8_t *tx, size_t len, uint64_t now) HRE_WARN_UNUSED_RESULT;

/** One bounded mining step, so that a single-threaded host stays responsive.
 *  The node keeps a block template (hre_ledger_block_template) across
 *  calls and rebuilds it when the tip or the mempool changed, or after its
 *  nonce space is used up; each call tries at most max_nonces nonces
 *  (hre_pow_mine_range) from where the last call stopped. A block found is
 *  submitted to the ledger and announced to every ready peer.
 *  Args: n (self).
 *  Out: hash (may be NULL): the new block's hash; *status (may be NULL):
 *       the ledger's status for it (NONE when nothing was found).
 *  In:  now (ms); max_nonces: nonces to try, 1..HRE_POW_ALL_NONCES (0 tries
 *       none: HRE_EEXHAUSTED; larger values are clamped).
 *  Returns: HRE_OK (a block was found and connected); HRE_EEXHAUSTED (none
 *           found in this step: call again); the code of
 *           hre_ledger_submit_block for a found block it refused (the
 *           template is dropped); HRE_ENOMEM; HRE_ESTATE (inside a
 *           callback); HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_mine(hre_node *n, uint8_t hash[32], hre_ledger_status *status,
                          uint64_t now, uint64_t max_nonces) HRE_WARN_UNUSED_RESULT;

/* ------------------------------------------------------------------------ */
/* Application messages (the vault's extension point)                        */
/* ------------------------------------------------------------------------ */
/*
 * An application (the vault's document exchange, layer 7) runs its own
 * protocol over the node without the node knowing it: it registers a
 * handler per 16-bit app type and sends with hre_node_app_send. The node:
 * - carries app messages only between LIVE MEMBERS (both directions;
 *   hre_node_app_send to anyone else is HRE_EAUTH, and an app message from
 *   anyone else is refused with HRE_NODE_EVENT_REFUSED, NOT_MEMBER);
 * - caps each message at app_max_message bytes (a sender gets HRE_ELIMIT;
 *   a receiver disconnects a peer that sends more: OVERSIZE, discouraged);
 * - rate-limits each peer (app_rate_msgs and app_rate_bytes per second,
 *   token buckets holding 2 s worth): received messages over the rate are
 *   dropped with HRE_NODE_EVENT_REFUSED (RATE_LIMITED); hre_node_app_send
 *   applies the same buckets to what it sends, so two nodes with equal
 *   options never trip each other;
 * - applies back-pressure: when the peer's send queue holds more than half
 *   its cap, or the outbound bucket is empty, hre_node_app_send returns
 *   HRE_EAGAIN without queueing, and HRE_NODE_EVENT_APP_WRITABLE follows
 *   when it can take messages again.
 * Large transfers are chunked by the application (e.g. 64 KiB chunks, one
 * app message each, sent as APP_WRITABLE allows); the node never reassembles
 * across app messages. Messages from one peer arrive in order, each whole.
 * The handler gets the channel binding (the connection's Noise handshake
 * hash) and the sender's verified identity, to bind requests to the channel.
 */

/** Newest version of hre_node_app_message this header declares (its .version field). */
#define HRE_NODE_APP_MESSAGE_VERSION 1

/** One received application message, valid only during the handler call.
 *  Since: 1.1 */
typedef struct hre_node_app_message {
    unsigned int version;              /* HRE_NODE_APP_MESSAGE_VERSION */
    uint16_t app_type;                 /* 1..65535 */
    uint64_t conn;                     /* the sender's connection */
    const uint8_t *data;               /* the payload (may be NULL when len == 0) */
    size_t len;                        /* payload bytes */
    uint8_t peer_key[34];              /* the sender's verified node key (wire form) */
    uint8_t peer_address[32];          /* its node account address */
    uint8_t peer_org[32];              /* its organisation */
    uint8_t handshake_hash[32];        /* this connection's Noise handshake hash */
    uint64_t now;                      /* ms, from the call being processed */
} hre_node_app_message;

/** Application handler. May call hre_node_app_send (e.g. to answer on
 *  msg->conn) and the other calls the re-entrancy rule allows.  Since: 1.1 */
typedef void (*hre_node_app_fn)(void *user_data, hre_node *n, const hre_node_app_message *msg);

/** Register (fn != NULL) or remove (fn == NULL) the handler for app_type.
 *  In: app_type: 1..65535; fn; user_data (passed to fn).
 *  Returns: HRE_OK; HRE_EEXISTS (a handler is registered: remove it first);
 *           HRE_ENOTFOUND (removing a type with none); HRE_EINVAL (type 0);
 *           HRE_ENOMEM; HRE_ESTATE (inside a callback); HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_app_register(hre_node *n, uint16_t app_type, hre_node_app_fn fn,
                                  void *user_data);

/** Send one application message to a ready live-member peer. Queued (and in
 *  push mode sent) at once, or when called from a callback, when the outer
 *  call flushes.
 *  In: conn; app_type (1..65535); data/len (len <= app_max_message; data
 *      may be NULL if len == 0), copied; now (ms).
 *  Returns: HRE_OK; HRE_EAGAIN (back-pressure: nothing queued; wait for
 *           HRE_NODE_EVENT_APP_WRITABLE); HRE_EAUTH (the peer is not a
 *           live member, or this node has no identity); HRE_ESTATE (the
 *           peer is not ready yet); HRE_ELIMIT (len over app_max_message);
 *           HRE_ENOTFOUND (conn); HRE_EINVAL; HRE_ENOMEM; HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_app_send(hre_node *n, uint64_t conn, uint16_t app_type, const uint8_t *data,
                              size_t len, uint64_t now) HRE_WARN_UNUSED_RESULT;

/** How many app bytes hre_node_app_send would take for conn right now
 *  (0 while it would return HRE_EAGAIN), capped at app_max_message.
 *  Out: *space. In: conn; now (ms).
 *  Returns: HRE_OK; HRE_EAUTH; HRE_ESTATE; HRE_ENOTFOUND; HRE_EINVAL;
 *           HRE_EFATAL.
 *  Since: 1.1 */
HRE_API int hre_node_app_send_space(const hre_node *n, size_t *space, uint64_t conn, uint64_t now);

/* ------------------------------------------------------------------------ */
/* Discouragement list                                                       */
/* ------------------------------------------------------------------------ */
/*
 * A peer disconnected for a reason that discourages (hre_node_reason_
 * discourages) is recorded by its verified identity key (if it had one) and
 * by its host address string (if the host gave one). New connections from a
 * discouraged address are refused (hre_node_peer_connected: HRE_EAUTH); a
 * handshake presenting a discouraged identity is closed (DISCOURAGED); the
 * address book skips discouraged addresses. The list holds at most
 * max_discouraged entries; the oldest is dropped for a new one.
 */

/** Newest version of hre_node_discouraged this header declares (its .version field). */
#define HRE_NODE_DISCOURAGED_VERSION 1

/** One entry of the discouragement list. An output struct: set .version
 *  first.  Since: 1.1 */
typedef struct hre_node_discouraged {
    unsigned int version;              /* in: HRE_NODE_DISCOURAGED_VERSION */
    int reason;                        /* HRE_NODE_REASON_* that put it there */
    int has_key;                       /* 1: key is set */
    uint8_t key[34];                   /* the peer's identity key */
    char address[HRE_NODE_ADDRESS_MAX + 1]; /* the host's address string ("" if none) */
    uint64_t time;                     /* ms, when it was recorded */
} hre_node_discouraged;

/** Static initializer for hre_node_discouraged: HRE_NODE_DISCOURAGED_VERSION, every other field at its default. */
#define HRE_NODE_DISCOURAGED_INIT { HRE_NODE_DISCOURAGED_VERSION, 0, 0, {0}, {0}, 0 }

/** Zero the fields of `version` and set it.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_node_discouraged_init(hre_node_discouraged *d, unsigned int version);

/** Look an address or a key up (either may be NULL, not both; an entry
 *  matching either counts).
 *  Out: *out (may be NULL; set .version first): the newest matching entry.
 *  Returns: HRE_OK (found); HRE_ENOTFOUND; HRE_EINVAL; HRE_EUNSUPPORTED.
 *  Valid in the fatal state.  Since: 1.1 */
HRE_API int hre_node_discouraged_get(const hre_node *n, hre_node_discouraged *out,
                                     const char *address, const uint8_t key[34]);

/** Number of entries (0 for NULL).  Since: 1.1 */
HRE_API size_t hre_node_discouraged_count(const hre_node *n);

/** Entry i, oldest first (0 <= i < count).
 *  Returns: HRE_OK; HRE_ENOTFOUND; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_node_discouraged_entry(const hre_node *n, hre_node_discouraged *out, size_t i);

/** Empty the list (an operator forgave everyone).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ESTATE; HRE_EFATAL.  Since: 1.1 */
HRE_API int hre_node_discouraged_clear(hre_node *n);

/* ------------------------------------------------------------------------ */
/* Statistics                                                                */
/* ------------------------------------------------------------------------ */

/** Newest version of hre_node_stats this header declares (its .version field). */
#define HRE_NODE_STATS_VERSION 1

/** Node-wide figures. An output struct: set .version first.  Since: 1.1 */
typedef struct hre_node_stats {
    unsigned int version;              /* in: HRE_NODE_STATS_VERSION */
    int member;                        /* this node's own HRE_NODE_MEMBER_* */
    uint32_t peers;                    /* live connections */
    uint32_t peers_ready;              /* live connections in state HRE_NODE_PEER_READY */
    uint32_t peers_outbound;           /* live connections it dialled (HRE_NODE_PEER_OUTBOUND) */
    uint64_t mem_used;                 /* bytes held by the node (buffers, queues, indexes) */
    uint64_t mem_peak;                 /* the most it ever held */
    uint64_t mem_cap;                  /* max_memory */
    uint32_t headers_held;             /* headers ahead of the ledger, in memory */
    uint32_t blocks_in_flight;         /* block requests outstanding, all peers */
    uint32_t blocks_buffered;          /* fetched, waiting for the ledger */
    uint64_t tip_height;               /* the ledger's tip */
    uint64_t best_header_height;       /* the best valid header known (>= tip when synced) */
    int synced;                        /* 1: no known header chain has more work than the tip */
    uint32_t discouraged;              /* entries in the discouragement list */
    uint64_t bytes_sent;               /* to all peers since hre_node_new */
    uint64_t bytes_received;           /* from all peers since hre_node_new */
    uint64_t blocks_received;          /* blocks fetched from peers */
    uint64_t txs_received;             /* transactions accepted from peers */
    uint64_t messages_deferred;        /* messages left for a later call by the work budget */
    uint32_t stall_timeout_ms;         /* the current (doubled) stall timeout */
} hre_node_stats;

/** Static initializer for hre_node_stats: HRE_NODE_STATS_VERSION, every other field at its default. */
#define HRE_NODE_STATS_INIT { HRE_NODE_STATS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, \
                              0, 0, 0, 0, 0, 0, 0, 0 }

/** Zero the fields of `version` and set it.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_node_stats_init(hre_node_stats *st, unsigned int version);

/** Node-wide figures.
 *  Out: *out (set .version first).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED. Valid in the fatal state.
 *  Since: 1.1 */
HRE_API int hre_node_stats_get(const hre_node *n, hre_node_stats *out);

HRE_END_DECLS

#endif /* HRE_NODE_H */
