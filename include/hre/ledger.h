/*
 * libhre layer 5: the ledger. A chain store on a storage handle
 * (<hre/storage.h>; backends implement <hre/sys/storage.h>), full block
 * validation, heaviest-chain selection with reorgs, a mempool, block assembly and mining, queries that go through to the
 * record contract (contract.h), Merkle inclusion proofs, periodic contract
 * snapshots and a verify-chain pass. docs/PROTOCOL.md section 7 is the
 * normative description of the on-disk formats and of the validation rules.
 *
 * Time: the ledger never reads a clock. Every call that needs the current
 * time takes `now` (seconds since the Unix epoch) from the host.
 *
 * Durability: a block is appended to a segment file and synced before the
 * ledger reports it connected (return value, status and events).
 *
 * Thread safety: an hre_ledger is not internally locked; one thread at a time
 * (the host serialises calls). The ledger works on one worker pool
 * (pool.h): the host's (options `pool`), or one of `verify_threads` threads
 * it creates at open and frees at close -- never a thread per call: a block's
 * signatures are verified on it while the calling thread applies the
 * block's transactions to the contract (a bad signature found afterwards
 * undoes them), the block record is compressed on it, and snapshots load on
 * it. Different ledgers (on different storages) are independent. Error
 * details are thread-local (errors.h).
 *
 * Logging: with a log hook in the options (version 2) the ledger reports
 * the open summary, reorgs, snapshots written or skipped as damaged, every
 * rejected block with its reason, storage errors (HRE_LOG_ERROR "storage
 * error: ...") and the fatal state (common.h, hre_log_fn). It never logs
 * keys or record contents.
 *
 * Fatal state (common.h rule 10; after nghttp2's "below FATAL, only free"):
 * when the ledger can no longer make its live state match its tip -- a
 * reorg that failed and whose old branch could not be re-applied, or a
 * storage failure that leaves unknown whether a block it reported as not
 * stored is on disk (a failed append or sync whose tail could not be cut
 * back) -- it enters the fatal state, logs it (HRE_LOG_ERROR), and the call
 * that found it returns HRE_EFATAL (status HRE_LEDGER_REJECT_FATAL). From
 * then on every call that changes the ledger or reads its live state
 * returns HRE_EFATAL with a detail naming the first failure:
 * hre_ledger_submit_tx, _submit_block, _submit_blocks, _block_template,
 * _mine, _snapshot, _contract, _verify_chain, _next_nonce,
 * _events_since. Calls that stay valid: those that read stored blocks and
 * the block tree (hre_ledger_network_id, _network, _tip, _tip_work,
 * _header_by_height, _header_by_hash, _block_by_height, _block_by_hash,
 * _tx_proof), the plain accessors (_mempool_count, _mempool_contains,
 * _status_name) and hre_ledger_close. Closing and opening the ledger again
 * rebuilds the state from storage (what is durable decides the tip).
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef HRE_LEDGER_H
#define HRE_LEDGER_H

#include "common.h"
#include "block.h"
#include "merkle.h"
#include "contract.h"
#include "storage.h"
#include "network.h"
#include "pool.h"

HRE_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Status of a submitted block or transaction                                */
/* ------------------------------------------------------------------------ */

/** What happened to a submitted block (or, for the REJECT_* values that apply,
 *  a transaction). Accepting values are below 100; every rejection reason has
 *  its own value, next to the int error code the call returns.
 *  Since: 1.0 */
typedef enum hre_ledger_status {
    HRE_LEDGER_STATUS_NONE = 0,
    HRE_LEDGER_CONNECTED = 1,        /* extended the main chain (durable) */
    HRE_LEDGER_REORGED = 2,          /* the main chain switched to this block's branch */
    HRE_LEDGER_SIDE_BRANCH = 3,      /* stored on a side branch with no more work */
    HRE_LEDGER_ORPHAN = 4,           /* parent unknown: held in the bounded orphan pool */
    HRE_LEDGER_ACCEPTED_TX = 5,      /* transaction entered the mempool */

    HRE_LEDGER_REJECT_DECODE = 100,  /* malformed block or record (HRE_EDECODE) */
    HRE_LEDGER_REJECT_SIZE,          /* over max_block_size (HRE_ELIMIT) */
    HRE_LEDGER_REJECT_TX_COUNT,      /* over max_tx_count (HRE_ELIMIT) */
    HRE_LEDGER_REJECT_POW,           /* hash above the target, or bits above the PoW limit (HRE_EVERIFY) */
    HRE_LEDGER_REJECT_BITS,          /* bits differ from the expected retarget value (HRE_EVERIFY) */
    HRE_LEDGER_REJECT_TIME_OLD,      /* time <= median of the last 11 blocks (HRE_ESTATE) */
    HRE_LEDGER_REJECT_TIME_FUTURE,   /* time > now + 2 h (HRE_ESTATE) */
    HRE_LEDGER_REJECT_MERKLE,        /* merkle_root differs from the txids' root (HRE_EVERIFY) */
    HRE_LEDGER_REJECT_MERKLE_MUTATED,/* CVE-2012-2459 mutated tree (HRE_EVERIFY) */
    HRE_LEDGER_REJECT_DUPLICATE_TX,  /* the same txid twice in a block (HRE_EEXISTS) */
    HRE_LEDGER_REJECT_TX_DECODE,     /* a transaction does not decode (HRE_EDECODE / HRE_ELIMIT) */
    HRE_LEDGER_REJECT_TX_SIGNATURE,  /* a signature or network id does not verify (HRE_EVERIFY) */
    HRE_LEDGER_REJECT_CONTRACT,      /* the record contract refused a transaction (its code) */
    HRE_LEDGER_REJECT_INVALID_PARENT,/* the parent (or an ancestor) is invalid (HRE_EVERIFY; when
                                        a reorg finds the bad ancestor during this call, that
                                        block's own code, e.g. the contract's) */
    HRE_LEDGER_REJECT_DUPLICATE,     /* block (or tx) already known (HRE_EEXISTS) */
    HRE_LEDGER_REJECT_FORK_TOO_DEEP, /* forks below max_reorg_depth of the tip (HRE_ELIMIT) */
    HRE_LEDGER_REJECT_BOUND,         /* side-branch or mempool bound reached (HRE_ELIMIT) */
    HRE_LEDGER_REJECT_STORAGE,       /* the storage failed; nothing changed (HRE_EIO, HRE_ENOSPC;
                                        HRE_ECORRUPT: a stored block needed is damaged;
                                        HRE_ELIMIT: out of segment numbers) */
    HRE_LEDGER_REJECT_GENESIS,       /* the network's genesis block itself (HRE_EEXISTS) */
    HRE_LEDGER_REJECT_FATAL          /* the ledger is in the fatal state, or entered it in
                                        this call (HRE_EFATAL; see the file comment) */
} hre_ledger_status;

/** A static, NUL-terminated name for a status ("connected", "reject-pow", ...);
 *  "unknown" for other values.  Since: 1.0 */
HRE_API const char *hre_ledger_status_name(int status);

/* ------------------------------------------------------------------------ */
/* Events                                                                    */
/* ------------------------------------------------------------------------ */

/** Newest version of hre_ledger_event this header declares (its .version field). */
#define HRE_LEDGER_EVENT_VERSION 2

/** Event types. */
#define HRE_LEDGER_EVENT_CONTRACT           1 /* a contract event of a connected block's tx */
#define HRE_LEDGER_EVENT_BLOCK_CONNECTED    2 /* a block joined the main chain (durable) */
#define HRE_LEDGER_EVENT_BLOCK_DISCONNECTED 3 /* a block left the main chain in a reorg */

/** One ledger event. For a connected block the host first receives the
 *  contract events of its transactions in order, then BLOCK_CONNECTED; all
 *  are delivered only after the block is durable. A reorg delivers
 *  BLOCK_DISCONNECTED for each block undone (tip first) before the new
 *  branch's events. Opening a ledger (replay) delivers no events, unless
 *  the options ask for them (HRE_LEDGER_OPEN_REPLAY_EVENTS). Version 2 adds
 *  seq (hre_ledger_events_since); check .version before reading it.
 *  Since: 1.0 */
typedef struct hre_ledger_event {
    unsigned int version;                 /* HRE_LEDGER_EVENT_VERSION */
    unsigned int type;                    /* HRE_LEDGER_EVENT_* */
    uint64_t height;                      /* height of the block concerned */
    uint8_t block_hash[32];               /* its hash (internal byte order) */
    uint32_t tx_count;                    /* transactions in that block */
    uint32_t tx_index;                    /* CONTRACT: index of the tx in the block */
    const hre_contract_event *contract;   /* CONTRACT only (else NULL); valid during the call */
    /* version 2 */
    uint64_t seq;                         /* CONTRACT, BLOCK_CONNECTED: the event's place in
                                             the main chain's event stream (see
                                             hre_ledger_events_since); BLOCK_DISCONNECTED: 0 */
} hre_ledger_event;

/** Host event callback. ev is valid only during the call. The callback must
 *  not call into the same ledger.  Since: 1.0 */
typedef void (*hre_ledger_event_fn)(void *user_data, const hre_ledger_event *ev);

/* ------------------------------------------------------------------------ */
/* Options, open and close                                                   */
/* ------------------------------------------------------------------------ */

/** Newest version of hre_ledger_options this header declares (its .version field). */
#define HRE_LEDGER_OPTIONS_VERSION 3

/** @{ */
/** Defaults used when the corresponding option is 0. */
#define HRE_LEDGER_DEFAULT_SNAPSHOT_INTERVAL 1000u
#define HRE_LEDGER_DEFAULT_MAX_REORG_DEPTH   100u
#define HRE_LEDGER_DEFAULT_MAX_ORPHANS       64u
#define HRE_LEDGER_DEFAULT_MAX_SIDE_BLOCKS   1024u
#define HRE_LEDGER_DEFAULT_MEMPOOL_MAX_TXS   100000u
#define HRE_LEDGER_DEFAULT_SEGMENT_SIZE      (32u * 1024u * 1024u)
/** @} */
/** snapshot_interval value that turns periodic snapshots off. */
#define HRE_LEDGER_SNAPSHOTS_OFF 0xffffffffu

/** Options of hre_ledger_open. Start from HRE_LEDGER_OPTIONS_INIT or
 *  hre_ledger_options_init(). Pointers are borrowed for the duration of the
 *  open call only (params, network and the name are copied), except
 *  `storage`, `user_data`, `log_user_data` and `pool`, which must stay
 *  valid until hre_ledger_close. Versions 1 (up to compress_level: no log
 *  hook) and 2 (up to log_user_data: no pool, network, flags or journal
 *  bound) are still accepted.
 *  Since: 1.0 */
typedef struct hre_ledger_options {
    unsigned int version;               /* HRE_LEDGER_OPTIONS_VERSION */
    hre_storage *storage;               /* required; borrowed until hre_ledger_close */
    const hre_chain_params *params;     /* required; copied (genesis, PoW limit, spacing,
                                           retarget interval, block caps) */
    uint8_t authority_key[34];          /* contract genesis: founding hospital admin's wire key */
    const char *genesis_org_name;       /* contract genesis org name; NULL = contract default */
    unsigned int verify_threads;        /* threads of the ledger's pool (<= HRE_POOL_MAX_THREADS);
                                           0 = all on the caller's thread, verification
                                           before apply */
    hre_ledger_event_fn on_event;       /* may be NULL */
    void *user_data;                    /* passed to on_event */
    uint32_t snapshot_interval;         /* contract snapshot every N blocks; 0 = default (1000);
                                           HRE_LEDGER_SNAPSHOTS_OFF = never */
    uint32_t max_reorg_depth;           /* deepest reorg (and fork) accepted; 0 = default (100) */
    uint32_t max_orphans;               /* orphan pool bound; 0 = default (64) */
    uint32_t max_side_blocks;           /* bound on the side-branch blocks that can still
                                           matter (fork within max_reorg_depth of the tip);
                                           older forks are dropped from memory and not
                                           counted, also at open; 0 = default (1024) */
    uint32_t mempool_max_txs;           /* mempool bound; 0 = default (100000) */
    uint64_t segment_size;              /* roll block segments at this size; 0 = default (32 MiB) */
    int compress_level;                 /* zlib level 1..9 for block bodies; 0 = default (1,
                                           the fastest); -1 = store bodies uncompressed */
    /* version 2 */
    hre_log_fn log_fn;                  /* may be NULL: no logging */
    void *log_user_data;                /* passed to log_fn */
    /* version 3 */
    hre_pool *pool;                     /* the host's pool (pool.h), borrowed until
                                           hre_ledger_close; NULL = the ledger makes its own
                                           of verify_threads threads. With a pool,
                                           verify_threads must be 0. */
    const hre_network *network;         /* the network (network.h), copied: instead of
                                           params, authority_key and genesis_org_name, which
                                           must then be NULL / all zero / NULL. With neither
                                           network nor params, the network file the storage
                                           holds (network.dat) is used. */
    unsigned int flags;                 /* HRE_LEDGER_OPEN_* */
    uint32_t max_journal_events;        /* events kept for hre_ledger_events_since; 0 =
                                           default (16384); HRE_LEDGER_JOURNAL_OFF = none */
} hre_ledger_options;

/** hre_ledger_options.flags: deliver the events of the blocks the open
 *  replays (those after the snapshot the state is loaded from: CONTRACT and
 *  BLOCK_CONNECTED events, in order) to on_event during hre_ledger_open.
 *  Since: 1.0 */
#define HRE_LEDGER_OPEN_REPLAY_EVENTS 0x1u

/** Default max_journal_events (when the option is 0). */
#define HRE_LEDGER_DEFAULT_MAX_JOURNAL_EVENTS 16384u
/** max_journal_events value that keeps no events. */
#define HRE_LEDGER_JOURNAL_OFF 0xffffffffu

/** Static initializer for hre_ledger_options: HRE_LEDGER_OPTIONS_VERSION, every other field at its default. */
#define HRE_LEDGER_OPTIONS_INIT \
    { HRE_LEDGER_OPTIONS_VERSION, NULL, NULL, {0}, NULL, 0, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, NULL, \
      NULL, NULL, NULL, 0, 0 }

/** Initialise opts to the defaults of `version` (1..3; the fields that
 *  version declares are zero / NULL, nothing past them is written).
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (unknown version).
 *  Since: 1.0 */
HRE_API int hre_ledger_options_init(hre_ledger_options *opts, unsigned int version);

/** The ledger. Opaque handle. */
typedef struct hre_ledger hre_ledger;

/** Open the ledger kept on opts->storage, creating it when the storage holds
 *  none (network.dat and params.dat are written first). Opening: takes the
 *  network from opts (network, or params + authority_key +
 *  genesis_org_name) or, with neither, from the storage's network.dat;
 *  checks the stored network fingerprint against it; loads the block index
 *  (rebuilding it from the segments when it is missing or damaged); cuts a
 *  torn tail off the last segment; selects the chain with the most work
 *  (on equal work the block stored first: always the tip the ledger last
 *  acknowledged, docs/PROTOCOL.md 7.8); loads the newest valid contract
 *  snapshot on it (an older one, or a replay from genesis, when it is
 *  damaged) and replays the blocks after it, fully re-validated (their
 *  events go to the journal, and to on_event with
 *  HRE_LEDGER_OPEN_REPLAY_EVENTS); drops side blocks that fork more than
 *  max_reorg_depth below the tip from memory.
 *  Out: *out: new ledger owned by the caller, free with hre_ledger_close
 *       (NULL on failure).
 *  In:  opts: read up to its version; opts->params read up to its version.
 *  Returns: HRE_OK; HRE_EINVAL (NULL, bad options, no network anywhere, or
 *           the storage holds a ledger of another network: the detail says
 *           "params fingerprint mismatch" and names the field that differs);
 *           HRE_EUNSUPPORTED (options or params version, or a block cap over
 *           64 MiB); HRE_ECORRUPT (damaged synced data that cannot be
 *           repaired, or a damaged network.dat: the detail names the file
 *           and offset); HRE_EIO; HRE_ENOSPC; HRE_ENOMEM.
 *  Since: 1.0 */
HRE_API int hre_ledger_open(hre_ledger **out, const hre_ledger_options *opts);

/** Sync the block index and close the ledger. NULL is fine. Does not free the
 *  storage.  Since: 1.0 */
HRE_API void hre_ledger_close(hre_ledger *l);

/* ------------------------------------------------------------------------ */
/* Transactions, blocks and mining                                           */
/* ------------------------------------------------------------------------ */

/** Submit an encoded transaction to the mempool. It is decoded, verified
 *  statelessly (network id and signature, hre_tx_verify with the ledger's key
 *  cache) and then applied tentatively to the pending state (the tip state
 *  plus every mempool transaction before it) with block time max(now,
 *  median-time-past + 1). Mempool transactions are never verified again when
 *  they arrive in a block.
 *  Args: l (self).
 *  Out: txid (may be NULL): the transaction id (zeroed on failure);
 *       *status (may be NULL): HRE_LEDGER_ACCEPTED_TX or the REJECT_* reason.
 *  In:  tx/len: the encoded transaction; now: the host's clock.
 *  Returns: HRE_OK; HRE_EDECODE / HRE_ELIMIT (malformed); HRE_EVERIFY (bad
 *           signature or other network); HRE_EEXISTS (already in the mempool);
 *           HRE_ELIMIT (mempool full); the contract's refusal code (HRE_EAUTH,
 *           HRE_ESTATE for a wrong nonce, ...) with its detail; HRE_EINVAL;
 *           HRE_ENOMEM; HRE_EFATAL (REJECT_FATAL: the ledger is fatal).
 *  Since: 1.0 */
HRE_API int hre_ledger_submit_tx(hre_ledger *l, uint8_t txid[32], hre_ledger_status *status,
                                 const uint8_t *tx, size_t len, uint64_t now) HRE_WARN_UNUSED_RESULT;

/** Number of transactions in the mempool (0 for NULL).  Since: 1.0 */
HRE_API size_t hre_ledger_mempool_count(const hre_ledger *l);

/** The nonce the sender's next transaction needs: its account's nonce in
 *  the pending state (the tip state plus every mempool transaction), so
 *  the sender's transactions waiting in the mempool are counted. An
 *  address or key with no account yet gives 0 (the nonce of its first
 *  transaction, e.g. a patient's registration).
 *  Args: l (self; not const: the pending state may be rebuilt).
 *  Out: *nonce (0 on failure).
 *  In:  id/id_len: the sender's 32-byte address, or its 34-byte wire key
 *       (any key the account has had).
 *  Returns: HRE_OK; HRE_EINVAL (NULL, id_len not 32 or 34); HRE_EFATAL;
 *           HRE_ENOMEM.
 *  Since: 1.0 */
HRE_API int hre_ledger_next_nonce(hre_ledger *l, uint64_t *nonce, const uint8_t *id, size_t id_len);

/** Is txid in the mempool?  Returns: 1 or 0 (also for NULL).  Since: 1.0 */
HRE_API int hre_ledger_mempool_contains(const hre_ledger *l,
                                        const uint8_t txid[32]) HRE_WARN_UNUSED_RESULT;

/** Assemble a block template on the tip: version 1, prev = tip, time =
 *  max(now, median-time-past + 1), the expected bits, nonce 0, and the mempool
 *  transactions in order (each sender's nonces ascending) that fit the size
 *  and count caps, with the Merkle root set. The host may mine it (e.g. with
 *  hre_pow_mine_range over the first 80 bytes) and submit it.
 *  Args: l (self). Out: out (may be NULL with *len == 0). In: now.
 *  In/Out: *len: capacity in; bytes written (or needed, HRE_EBUFSIZE) out.
 *  Returns: HRE_OK; HRE_EBUFSIZE; HRE_EINVAL; HRE_ENOMEM; HRE_EFATAL.
 *  Since: 1.0 */
HRE_API int hre_ledger_block_template(hre_ledger *l, uint8_t *out, size_t *len, uint64_t now);

/** hre_ledger_mine flag: mine a block even when it holds no transaction
 *  (the mempool is empty, or nothing in it still applies).  Since: 1.0 */
#define HRE_LEDGER_MINE_ALLOW_EMPTY 0x1u

/** Assemble a block from the mempool (as hre_ledger_block_template), mine it
 *  with hre_pow_mine and submit it. A block without transactions is mined
 *  only with HRE_LEDGER_MINE_ALLOW_EMPTY (an empty chain of blocks is
 *  rarely what a host wants, and mining one by accident hides a lost
 *  transaction).
 *  Args: l (self).
 *  Out: hash (may be NULL): the new block's hash. *status (may be NULL).
 *  In:  now; max_tries: nonces to try at most, as hre_pow_mine: 0 tries
 *       none (HRE_EEXHAUSTED), HRE_POW_ALL_NONCES sweeps all 2^32 (larger
 *       values are clamped to it); flags: 0 or HRE_LEDGER_MINE_ALLOW_EMPTY.
 *  Returns: HRE_OK (connected and durable); HRE_ESTATE with STATUS_NONE
 *           ("mempool empty": nothing to mine without
 *           HRE_LEDGER_MINE_ALLOW_EMPTY); HRE_EEXHAUSTED (no nonce found:
 *           call again later with another `now`); HRE_EINVAL (NULL, unknown
 *           flag); any code of hre_ledger_submit_block.
 *  Since: 1.0 */
HRE_API int hre_ledger_mine(hre_ledger *l, uint8_t hash[32], hre_ledger_status *status,
                            uint64_t now, uint64_t max_tries, unsigned int flags) HRE_WARN_UNUSED_RESULT;

/** Accept a block from outside. Full validation (docs/PROTOCOL.md 7.6):
 *  size and count caps, proof of work, expected bits, timestamp above the
 *  median of the last 11 blocks and at most now + 7200, Merkle root and
 *  mutation, duplicate txids, transaction decoding, every signature on the
 *  ledger's pool (except transactions already verified in the mempool),
 *  and the contract rules (on a refusal everything applied from the block is
 *  undone). A block extending the tip is stored and synced after it passed.
 *  A side-branch block with no more work than the tip is stored (synced)
 *  after the checks that need no state. A block that gives its branch more
 *  work than the main chain starts a reorg (7.7): the ledger reads and
 *  checks the whole branch first, then switches to it, and stores the block
 *  (synced) only once it is the tip, so a restart always finds the chain
 *  the ledger last acknowledged; a failure restores the old chain. A block
 *  whose parent is unknown is held as an orphan; a block rejected for good
 *  is remembered (in memory) and so are, at once, its descendants.
 *  Args: l (self).
 *  Out: *status (may be NULL): what happened, or the rejection reason.
 *  In:  block/len: the encoded block; now.
 *  Returns (with *status):
 *    HRE_OK: CONNECTED, REORGED, SIDE_BRANCH or ORPHAN;
 *    a rejection: the code given next to its REJECT_* value above;
 *    REJECT_STORAGE with HRE_EIO / HRE_ENOSPC (the storage failed; nothing
 *      changed, and nothing of this call is left on disk), HRE_ECORRUPT (a
 *      stored block a reorg needs is damaged; the old chain is kept) or
 *      HRE_ELIMIT (out of segment numbers);
 *    REJECT_FATAL with HRE_EFATAL (the ledger is, or became in this call,
 *      fatal: see the file comment);
 *    STATUS_NONE with HRE_ENOMEM (nothing changed) or HRE_EINVAL (NULL).
 *  Every failure sets a detail of its own; a success leaves the thread's
 *  error clear.
 *  Since: 1.0 */
HRE_API int hre_ledger_submit_block(hre_ledger *l, hre_ledger_status *status, const uint8_t *block,
                                    size_t len, uint64_t now) HRE_WARN_UNUSED_RESULT;

/** Submit n blocks with group commit: each run of blocks extending the tip
 *  is validated, applied and appended one block after another and made
 *  durable with ONE sync at the end of the run (events follow that sync).
 *  A block that does not extend the tip (an orphan, a side-branch block, a
 *  block that starts a reorg) is submitted on its own, as by
 *  hre_ledger_submit_block, and processing goes on with the next block;
 *  orphans that the batch's blocks are parents of are let in as they become
 *  connectable. Processing stops at the first block rejected. The work one
 *  call can cause is bounded: it is a loop (no recursion, whatever the
 *  batch holds), and at most max_orphans + max_side_blocks blocks of one
 *  batch may be of the not-a-tip-extension kind (more could not be held);
 *  the next one stops the call with HRE_ELIMIT / REJECT_BOUND, and it and
 *  the blocks after it are not looked at (submit them in another call).
 *  Args: l (self).
 *  Out: *connected (may be NULL): blocks that joined the main chain during
 *       this call (durable): tip extensions, orphans let in, and the new
 *       branch of a reorg.
 *       *status (may be NULL): status of the last block processed.
 *  In:  blocks/lens/n: the encoded blocks; now.
 *  Returns: HRE_OK if all n were accepted; else the first failure's code
 *           (the blocks connected before it stay connected). If a run's
 *           sync fails, every block of that run is undone and the storage
 *           code is returned with REJECT_STORAGE.
 *  Since: 1.0 */
HRE_API int hre_ledger_submit_blocks(hre_ledger *l, size_t *connected, hre_ledger_status *status,
                                     const uint8_t *const *blocks, const size_t *lens, size_t n,
                                     uint64_t now) HRE_WARN_UNUSED_RESULT;

/* ------------------------------------------------------------------------ */
/* Queries                                                                   */
/* ------------------------------------------------------------------------ */

/** The contract state at the tip, without the mempool transactions. The
 *  ledger keeps the pending mempool transactions applied on top of its tip
 *  state; this call undoes them first (they are re-applied on the next call
 *  that needs them), which is why l is not const.
 *  Args: l (self).
 *  Out: *out: borrowed (never free it); use the hre_contract_* query calls
 *       on it. Valid until the next call on l other than the const queries
 *       of this section (any submit, mine, block_template, snapshot,
 *       verify_chain or close may change or replace it). NULL on failure.
 *  Returns: HRE_OK; HRE_EINVAL (NULL argument); HRE_EFATAL (the live state
 *           is not to be trusted: see the file comment).
 *  Since: 1.0 */
HRE_API int hre_ledger_contract(hre_ledger *l, const hre_contract **out);

/** The network id: the genesis block hash.
 *  Args: l (self). Out: out (32 bytes).
 *  Returns: HRE_OK; HRE_EINVAL.  Since: 1.0 */
HRE_API int hre_ledger_network_id(const hre_ledger *l, uint8_t out[32]);

/** The network the ledger runs (network.h): borrowed, valid until
 *  hre_ledger_close. Encode it with hre_network_encode to give another
 *  institution the network file.
 *  Args: l (self). Out: *out (NULL on failure).
 *  Returns: HRE_OK; HRE_EINVAL.  Since: 1.0 */
HRE_API int hre_ledger_network(const hre_ledger *l, const hre_network **out);

/** Cumulative work of the main chain (genesis included): 256-bit
 *  little-endian, as hre_pow_work and hre_pow_work_add give it.
 *  Args: l (self). Out: work (zeroed on failure).
 *  Returns: HRE_OK; HRE_EINVAL.  Since: 1.0 */
HRE_API int hre_ledger_tip_work(const hre_ledger *l, uint8_t work[32]);

/** Tip of the main chain.
 *  Args: l (self). Out: *height (may be NULL), hash (may be NULL).
 *  Returns: HRE_OK; HRE_EINVAL.  Since: 1.0 */
HRE_API int hre_ledger_tip(const hre_ledger *l, uint64_t *height, uint8_t hash[32]);

/** Header of the main-chain block at height.
 *  Args: l (self). Out: *out (zeroed on failure); hash (may be NULL). In: height.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOTFOUND (above the tip).  Since: 1.0 */
HRE_API int hre_ledger_header_by_height(const hre_ledger *l, hre_header *out, uint8_t hash[32],
                                        uint64_t height);

/** Header of any known block (main chain or side branch) by hash. Side
 *  blocks whose fork lies more than max_reorg_depth below the tip are no
 *  longer kept in memory (they stay in storage) and are not found.
 *  Args: l (self).
 *  Out: *out; *height (may be NULL); *on_main (may be NULL): 1 if on the
 *       main chain. In: hash.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOTFOUND.  Since: 1.0 */
HRE_API int hre_ledger_header_by_hash(const hre_ledger *l, hre_header *out, uint64_t *height,
                                      int *on_main, const uint8_t hash[32]);

/** A stored block, encoded as hre_block_encode, by main-chain height or by hash
 *  (read back from storage and checked). Height 0 is the genesis header with
 *  no transactions. (l is not const: reading opens segment files.)
 *  Args: l (self). Out: out (may be NULL with *len == 0). In: height / hash.
 *  In/Out: *len: capacity in; bytes written (or needed, HRE_EBUFSIZE) out.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOTFOUND; HRE_EBUFSIZE; HRE_ECORRUPT
 *           (the stored record is damaged); HRE_EIO; HRE_ENOMEM.
 *  Since: 1.0 */
/** @{ */
HRE_API int hre_ledger_block_by_height(hre_ledger *l, uint8_t *out, size_t *len, uint64_t height);
HRE_API int hre_ledger_block_by_hash(hre_ledger *l, uint8_t *out, size_t *len, const uint8_t hash[32]);
/** @} */

/** Merkle inclusion proof for a main-chain transaction. A record's id is the
 *  txid of its new_record transaction (contract.h), so the same call proves a
 *  record; so does a grant (grant id = txid). A third party checks it with
 *  the header alone: hre_merkle_branch_verify(&branch, header.merkle_root,
 *  txid) == HRE_OK, plus hre_pow_check(&header, pow_limit) and the header's
 *  place in a header chain it trusts.
 *  Args: l (self).
 *  Out: *header, *branch, *height (may be NULL); all zeroed on failure.
 *  In:  txid; height_hint: a main-chain height to try first, or UINT64_MAX to
 *       search from the tip down (cost: one block read per height searched).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOTFOUND; HRE_ECORRUPT; HRE_EIO;
 *           HRE_ENOMEM.
 *  Since: 1.0 */
HRE_API int hre_ledger_tx_proof(hre_ledger *l, hre_header *header, hre_merkle_branch *branch,
                                uint64_t *height, const uint8_t txid[32], uint64_t height_hint);

/** Events since a place in the main chain's event stream, so a host (an
 *  EMR) can bring its own database up to date, e.g. after a restart.
 *  The stream: every CONTRACT event and every BLOCK_CONNECTED of the main
 *  chain, in order, numbered from 1 (hre_ledger_event.seq). It is the same
 *  on every node on that chain. The ledger keeps the newest
 *  max_journal_events of them, those of the blocks connected since it was
 *  opened and, at open, those of the blocks it replays (after the snapshot
 *  it loads).
 *  The host remembers the seq and block_hash of the last event it applied
 *  and passes them back. If that block is still on the main chain, the
 *  events with a greater seq come back. If a reorg took it off the main
 *  chain, first BLOCK_DISCONNECTED events for it and the blocks under it
 *  down to the fork (tip first: undo what they brought), then the stream
 *  from the fork on. since_seq 0 (since_block ignored): from the start of
 *  the stream.
 *  Args: l (self).
 *  Out: out: *n events of elem_size bytes each (a list of versioned
 *       structs, common.h rule 7; may be NULL with *n == 0). A CONTRACT
 *       event's contract pointer stays valid until the next call on l that
 *       is not a query.
 *  In:  elem_size: sizeof(hre_ledger_event) as the caller compiled it.
 *  In/Out: *n: capacity in elements in; events written out (the number
 *          there are, with HRE_EBUFSIZE).
 *  In:  since_seq, since_block (32 bytes; required unless since_seq is 0).
 *  Returns: HRE_OK; HRE_EBUFSIZE; HRE_ENOTFOUND (the events after that
 *           point are no longer all kept, or the block is not known: the
 *           host resyncs from the contract state); HRE_EINVAL;
 *           HRE_EUNSUPPORTED (elem_size); HRE_EFATAL.
 *  Since: 1.0 */
HRE_API int hre_ledger_events_since(hre_ledger *l, hre_ledger_event *out, size_t elem_size,
                                    size_t *n, uint64_t since_seq, const uint8_t since_block[32]);

/* ------------------------------------------------------------------------ */
/* Maintenance                                                               */
/* ------------------------------------------------------------------------ */

/** Write a contract snapshot of the tip now (temp + sync + rename + dir sync),
 *  besides the periodic ones; the two newest snapshots are kept.
 *  Returns: HRE_OK; HRE_EIO; HRE_ENOSPC; HRE_ENOMEM; HRE_EINVAL; HRE_EFATAL.
 *  Since: 1.0 */
HRE_API int hre_ledger_snapshot(hre_ledger *l);

/** Progress callback of hre_ledger_verify_chain: called after each height is
 *  checked. Return 0 to continue, non-zero to stop (HRE_ECANCELED).  Since: 1.0 */
typedef int (*hre_ledger_progress_fn)(void *user_data, uint64_t height, uint64_t tip);

/** Re-validate the whole main chain from genesis: each block is read back from
 *  storage (record CRC, decoding, hash equal to the index), checked (links,
 *  proof of work, expected bits, median time, Merkle root, duplicates, caps,
 *  every signature) and applied to a fresh contract state; finally that
 *  state's hash is compared with the live state's.
 *  Args: l (self).
 *  Out: *first_bad_height (may be NULL): the first height that failed
 *       (UINT64_MAX when all passed, or when cancelled).
 *  In:  progress (may be NULL), user_data (passed to it).
 *  Returns: HRE_OK; HRE_ECORRUPT (storage damage or state hash mismatch);
 *           the validation code of the bad block (detail names it);
 *           HRE_ECANCELED; HRE_EIO; HRE_ENOMEM; HRE_EINVAL; HRE_EFATAL (it
 *           compares with the live state, which a fatal ledger cannot vouch
 *           for: reopen, then verify).
 *  Since: 1.0 */
HRE_API int hre_ledger_verify_chain(hre_ledger *l, uint64_t *first_bad_height,
                                    hre_ledger_progress_fn progress,
                                    void *user_data) HRE_WARN_UNUSED_RESULT;

/* ------------------------------------------------------------------------ */
/* Queries for the node layer (lib/ledger/node_support.c, since 1.1)         */
/* ------------------------------------------------------------------------ */
/* Read-only, general-purpose queries the peer-to-peer node (node.h) needs;
 * any host may use them. */

/** Replace the ledger's event callback (the one given in the options at
 *  open). The node installs itself with this for its lifetime and restores
 *  the previous one at hre_node_free.
 *  Args: l (self). In: fn (NULL: no events), user_data (passed to fn).
 *  Thread safety: as every ledger call (one thread at a time); not from
 *  inside an event callback.
 *  Since: 1.1 */
HRE_API void hre_ledger_set_event_callback(hre_ledger *l, hre_ledger_event_fn fn, void *user_data);

/** The current event callback and its user_data (each output may be NULL;
 *  both are set to NULL for a NULL ledger).  Since: 1.1 */
HRE_API void hre_ledger_event_callback(const hre_ledger *l, hre_ledger_event_fn *fn,
                                       void **user_data);

/** The network fingerprint kept in params.dat: sha256 over the chain
 *  parameters and the contract genesis (authority key, org name), so two
 *  ledgers with equal fingerprints are on the same network with the same
 *  rules (docs/PROTOCOL.md 7.2).
 *  Args: l (self). Out: out (32 bytes; zeroed on failure).
 *  Returns: HRE_OK; HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_ledger_fingerprint(const hre_ledger *l, uint8_t out[32]);

/** The chain parameters the ledger was opened with.
 *  Args: l (self).
 *  Out: *out: an output struct (rule 7): set out->version first
 *       (HRE_CHAIN_PARAMS_INIT or hre_chain_params_init); that version's
 *       fields are written.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED (out->version).  Since: 1.1 */
HRE_API int hre_ledger_params(const hre_ledger *l, hre_chain_params *out);

/** Newest version of hre_ledger_block_info this header declares (its .version field). */
#define HRE_LEDGER_BLOCK_INFO_VERSION 1

/** What the block index knows about one block. An output struct: set
 *  .version first.  Since: 1.1 */
typedef struct hre_ledger_block_info {
    unsigned int version;      /* in: HRE_LEDGER_BLOCK_INFO_VERSION */
    hre_header header;         /**< the block header */
    uint64_t height;           /**< height above genesis (genesis: 0) */
    uint8_t work[32];          /* cumulative work from genesis (included), 256-bit LE */
    int on_main;               /* 1: on the main chain */
    int invalid;               /* 1: failed validation, or descends from a block that did */
    uint32_t tx_count;         /**< transactions in the block */
} hre_ledger_block_info;

/** Static initializer for hre_ledger_block_info: HRE_LEDGER_BLOCK_INFO_VERSION, every other field at its default. */
#define HRE_LEDGER_BLOCK_INFO_INIT { HRE_LEDGER_BLOCK_INFO_VERSION, { 0, {0}, {0}, 0, 0, 0 }, 0, \
                                     {0}, 0, 0, 0 }

/** Zero the fields of `version` and set it.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_ledger_block_info_init(hre_ledger_block_info *info, unsigned int version);

/** Index entry of any known block (main chain, side branch, or a block
 *  recorded as invalid) by hash. Orphans are not known blocks.
 *  Args: l (self). Out: *info (set .version first). In: hash.
 *  Returns: HRE_OK; HRE_ENOTFOUND; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_ledger_block_info_get(const hre_ledger *l, hre_ledger_block_info *info,
                                      const uint8_t hash[32]);

/** A page of the mempool's txids, in mempool (arrival) order, starting at
 *  position `start`. A paged listing, so the one exception to rule 5's
 *  HRE_EBUFSIZE: a page holds min(capacity, count - start) txids, and
 *  the caller moves `start` on until a page comes back short.
 *  Args: l (self).
 *  Out: ids (may be NULL with *n == 0): 32 bytes per txid.
 *  In/Out: *n: capacity in txids; txids written out (0 when start >=
 *          hre_ledger_mempool_count(l)).
 *  In:  start: index of the first txid.
 *  Returns: HRE_OK; HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_ledger_mempool_list(const hre_ledger *l, uint8_t *ids, size_t *n, size_t start);

/** The encoded bytes of a mempool transaction.
 *  Args: l (self). Out: out (may be NULL with *len == 0).
 *  In/Out: *len: capacity in; bytes written (or needed, HRE_EBUFSIZE) out.
 *  In:  txid.
 *  Returns: HRE_OK; HRE_ENOTFOUND (not in the mempool); HRE_EBUFSIZE;
 *           HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_ledger_mempool_tx(const hre_ledger *l, uint8_t *out, size_t *len,
                                  const uint8_t txid[32]);

/* (END queries for the node layer 1.1) */

HRE_END_DECLS

#endif /* HRE_LEDGER_H */
