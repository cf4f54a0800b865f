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
 * (the host serialises calls). The ledger creates one worker pool (pool.h)
 * of `verify_threads` threads at open and frees it at close: a block's
 * signatures are verified on it while the calling thread applies the
 * block's transactions to the contract (a bad signature found afterwards
 * undoes them), the block record is compressed on it, and snapshots load on
 * it. Different ledgers (on different storages) are independent. Error
 * details are thread-local (errors.h).
 *
 * Logging: with a log hook in the options (version 2) the ledger reports
 * the open summary, reorgs, snapshots written or skipped as damaged, and
 * every rejected block with its reason (common.h, hre_log_fn). It never
 * logs keys or record contents.
 *
 * Fatal state (common.h rule 10): HRE_EFATAL is reserved for a ledger
 * whose storage failed in a way it cannot recover from; no call returns it
 * yet.
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
    HRE_LEDGER_REJECT_STORAGE,       /* the storage failed; nothing changed (HRE_EIO, ...) */
    HRE_LEDGER_REJECT_GENESIS        /* the network's genesis block itself (HRE_EEXISTS) */
} hre_ledger_status;

/** A static, NUL-terminated name for a status ("connected", "reject-pow", ...);
 *  "unknown" for other values.  Since: 1.0 */
HRE_API const char *hre_ledger_status_name(int status);

/* ------------------------------------------------------------------------ */
/* Events                                                                    */
/* ------------------------------------------------------------------------ */

#define HRE_LEDGER_EVENT_VERSION 1

/** Event types. */
#define HRE_LEDGER_EVENT_CONTRACT           1 /* a contract event of a connected block's tx */
#define HRE_LEDGER_EVENT_BLOCK_CONNECTED    2 /* a block joined the main chain (durable) */
#define HRE_LEDGER_EVENT_BLOCK_DISCONNECTED 3 /* a block left the main chain in a reorg */

/** One ledger event. For a connected block the host first receives the
 *  contract events of its transactions in order, then BLOCK_CONNECTED; all
 *  are delivered only after the block is durable. A reorg delivers
 *  BLOCK_DISCONNECTED for each block undone (tip first) before the new
 *  branch's events. Opening a ledger (replay) delivers no events.
 *  Since: 1.0 */
typedef struct hre_ledger_event {
    unsigned int version;                 /* HRE_LEDGER_EVENT_VERSION */
    unsigned int type;                    /* HRE_LEDGER_EVENT_* */
    uint64_t height;                      /* height of the block concerned */
    uint8_t block_hash[32];               /* its hash (internal byte order) */
    uint32_t tx_count;                    /* transactions in that block */
    uint32_t tx_index;                    /* CONTRACT: index of the tx in the block */
    const hre_contract_event *contract;   /* CONTRACT only (else NULL); valid during the call */
} hre_ledger_event;

/** Host event callback. ev is valid only during the call. The callback must
 *  not call into the same ledger.  Since: 1.0 */
typedef void (*hre_ledger_event_fn)(void *user_data, const hre_ledger_event *ev);

/* ------------------------------------------------------------------------ */
/* Options, open and close                                                   */
/* ------------------------------------------------------------------------ */

#define HRE_LEDGER_OPTIONS_VERSION 2

/* Defaults used when the corresponding option is 0. */
#define HRE_LEDGER_DEFAULT_SNAPSHOT_INTERVAL 1000u
#define HRE_LEDGER_DEFAULT_MAX_REORG_DEPTH   100u
#define HRE_LEDGER_DEFAULT_MAX_ORPHANS       64u
#define HRE_LEDGER_DEFAULT_MAX_SIDE_BLOCKS   1024u
#define HRE_LEDGER_DEFAULT_MEMPOOL_MAX_TXS   100000u
#define HRE_LEDGER_DEFAULT_SEGMENT_SIZE      (32u * 1024u * 1024u)
/* snapshot_interval value that turns periodic snapshots off. */
#define HRE_LEDGER_SNAPSHOTS_OFF 0xffffffffu

/** Options of hre_ledger_open. Start from HRE_LEDGER_OPTIONS_INIT or
 *  hre_ledger_options_init(). Pointers are borrowed for the duration of the
 *  open call only (params and the name are copied), except `storage`,
 *  `user_data` and `log_user_data`, which must stay valid until
 *  hre_ledger_close. Version 1 (up to compress_level) is still accepted:
 *  it has no log hook.
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
    uint32_t max_side_blocks;           /* stored side-branch blocks bound; 0 = default (1024) */
    uint32_t mempool_max_txs;           /* mempool bound; 0 = default (100000) */
    uint64_t segment_size;              /* roll block segments at this size; 0 = default (32 MiB) */
    int compress_level;                 /* zlib level 1..9 for block bodies; 0 = default (1,
                                           the fastest); -1 = store bodies uncompressed */
    /* version 2 */
    hre_log_fn log_fn;                  /* may be NULL: no logging */
    void *log_user_data;                /* passed to log_fn */
} hre_ledger_options;

#define HRE_LEDGER_OPTIONS_INIT \
    { HRE_LEDGER_OPTIONS_VERSION, NULL, NULL, {0}, NULL, 0, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, NULL, NULL }

/** Initialise opts to the defaults of `version` (1 or 2; the fields that
 *  version declares are zero / NULL, nothing past them is written).
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (unknown version).
 *  Since: 1.0 */
HRE_API int hre_ledger_options_init(hre_ledger_options *opts, unsigned int version);

/** The ledger. Opaque handle. */
typedef struct hre_ledger hre_ledger;

/** Open the ledger kept on opts->storage, creating it when the storage holds
 *  none. Opening: checks the stored network fingerprint (chain params plus
 *  contract genesis) against opts; loads the block index (rebuilding it from
 *  the segments when it is missing or damaged); cuts a torn tail off the last
 *  segment; loads the newest valid contract snapshot on the heaviest chain
 *  (an older one, or a replay from genesis, when it is damaged) and replays
 *  the blocks after it, fully re-validated. No events are delivered.
 *  Out: *out: new ledger owned by the caller, free with hre_ledger_close
 *       (NULL on failure).
 *  In:  opts: read up to its version; opts->params read up to its version.
 *  Returns: HRE_OK; HRE_EINVAL (NULL, bad options, or the storage holds a
 *           ledger of another network: the detail says "params fingerprint
 *           mismatch"); HRE_EUNSUPPORTED (options or params version, or a
 *           block cap over 64 MiB); HRE_ECORRUPT (damaged synced data that cannot be
 *           repaired: the detail names the file and offset); HRE_EIO;
 *           HRE_ENOSPC; HRE_ENOMEM.
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
 *           HRE_ENOMEM.
 *  Since: 1.0 */
HRE_API int hre_ledger_submit_tx(hre_ledger *l, uint8_t txid[32], hre_ledger_status *status,
                                 const uint8_t *tx, size_t len, uint64_t now) HRE_WARN_UNUSED_RESULT;

/** Number of transactions in the mempool (0 for NULL).  Since: 1.0 */
HRE_API size_t hre_ledger_mempool_count(const hre_ledger *l);

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
 *  Returns: HRE_OK; HRE_EBUFSIZE; HRE_EINVAL; HRE_ENOMEM.
 *  Since: 1.0 */
HRE_API int hre_ledger_block_template(hre_ledger *l, uint8_t *out, size_t *len, uint64_t now);

/** Assemble a block from the mempool (as hre_ledger_block_template), mine it
 *  with hre_pow_mine and submit it.
 *  Args: l (self).
 *  Out: hash (may be NULL): the new block's hash. *status (may be NULL).
 *  In:  now; max_tries: nonces to try at most, as hre_pow_mine: 0 tries
 *       none (HRE_EEXHAUSTED), HRE_POW_ALL_NONCES sweeps all 2^32 (larger
 *       values are clamped to it).
 *  Returns: HRE_OK (connected and durable); HRE_EEXHAUSTED (no nonce found:
 *           call again later with another `now`); any code of
 *           hre_ledger_submit_block.
 *  Since: 1.0 */
HRE_API int hre_ledger_mine(hre_ledger *l, uint8_t hash[32], hre_ledger_status *status,
                            uint64_t now, uint64_t max_tries) HRE_WARN_UNUSED_RESULT;

/** Accept a block from outside. Full validation (docs/PROTOCOL.md 7.4):
 *  size and count caps, proof of work, expected bits, timestamp above the
 *  median of the last 11 blocks and at most now + 7200, Merkle root and
 *  mutation, duplicate txids, transaction decoding, every signature on the
 *  ledger's pool (except transactions already verified in the mempool),
 *  and the contract rules (on a refusal everything applied from the block is
 *  undone). A block extending the tip is stored and synced after it passed;
 *  a side-branch block is stored after the checks that need no state and,
 *  once its branch has more cumulative work than the main chain, the ledger
 *  reorganises to it (fully validating the branch; a failure restores the
 *  old chain). A block whose parent is unknown is held as an orphan.
 *  Args: l (self).
 *  Out: *status (may be NULL): what happened, or the rejection reason.
 *  In:  block/len: the encoded block; now.
 *  Returns: HRE_OK (connected, reorged, side branch or orphan: see *status);
 *           on a rejection the code given next to the status value above;
 *           HRE_EIO / HRE_ENOSPC (storage; the state is unchanged);
 *           HRE_EINVAL; HRE_ENOMEM. Every failure sets a specific detail.
 *  Since: 1.0 */
HRE_API int hre_ledger_submit_block(hre_ledger *l, hre_ledger_status *status, const uint8_t *block,
                                    size_t len, uint64_t now) HRE_WARN_UNUSED_RESULT;

/** Submit n blocks with group commit: blocks extending the tip are validated,
 *  applied and appended one after another and made durable with ONE sync at
 *  the end (events follow that sync). Processing stops at the first block
 *  that is not connected to the tip (it is submitted as by
 *  hre_ledger_submit_block after the pending blocks are synced) or rejected.
 *  Args: l (self).
 *  Out: *connected (may be NULL): blocks connected (durable) by this call.
 *       *status (may be NULL): status of the last block processed.
 *  In:  blocks/lens/n: the encoded blocks; now.
 *  Returns: HRE_OK if all n were accepted; else the first failure's code. If
 *           the final sync fails, every block of the batch is undone and the
 *           code is returned (*connected = 0).
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
 *  Returns: HRE_OK; HRE_EINVAL (NULL argument).
 *  Since: 1.0 */
HRE_API int hre_ledger_contract(hre_ledger *l, const hre_contract **out);

/** The network id: the genesis block hash.
 *  Args: l (self). Out: out (32 bytes).
 *  Returns: HRE_OK; HRE_EINVAL.  Since: 1.0 */
HRE_API int hre_ledger_network_id(const hre_ledger *l, uint8_t out[32]);

/** Tip of the main chain.
 *  Args: l (self). Out: *height (may be NULL), hash (may be NULL).
 *  Returns: HRE_OK; HRE_EINVAL.  Since: 1.0 */
HRE_API int hre_ledger_tip(const hre_ledger *l, uint64_t *height, uint8_t hash[32]);

/** Header of the main-chain block at height.
 *  Args: l (self). Out: *out (zeroed on failure); hash (may be NULL). In: height.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOTFOUND (above the tip).  Since: 1.0 */
HRE_API int hre_ledger_header_by_height(const hre_ledger *l, hre_header *out, uint8_t hash[32],
                                        uint64_t height);

/** Header of any known block (main chain or side branch) by hash.
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
HRE_API int hre_ledger_block_by_height(hre_ledger *l, uint8_t *out, size_t *len, uint64_t height);
HRE_API int hre_ledger_block_by_hash(hre_ledger *l, uint8_t *out, size_t *len, const uint8_t hash[32]);

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

/* ------------------------------------------------------------------------ */
/* Maintenance                                                               */
/* ------------------------------------------------------------------------ */

/** Write a contract snapshot of the tip now (temp + sync + rename + dir sync),
 *  besides the periodic ones; the two newest snapshots are kept.
 *  Returns: HRE_OK; HRE_EIO; HRE_ENOSPC; HRE_ENOMEM; HRE_EINVAL.  Since: 1.0 */
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
 *           HRE_ECANCELED; HRE_EIO; HRE_ENOMEM; HRE_EINVAL.
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

#define HRE_LEDGER_BLOCK_INFO_VERSION 1

/** What the block index knows about one block. An output struct: set
 *  .version first.  Since: 1.1 */
typedef struct hre_ledger_block_info {
    unsigned int version;      /* in: HRE_LEDGER_BLOCK_INFO_VERSION */
    hre_header header;
    uint64_t height;
    uint8_t work[32];          /* cumulative work from genesis (included), 256-bit LE */
    int on_main;               /* 1: on the main chain */
    int invalid;               /* 1: failed validation, or descends from a block that did */
    uint32_t tx_count;
} hre_ledger_block_info;

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
