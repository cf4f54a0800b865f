/*
 * Internal ledger helpers (layer 5): the on-disk codecs (block record, index
 * entry, snapshot and params files), the in-memory block tree, the ledger
 * handle. Names are hre_ledger__*; never exported. Formats are normative in
 * docs/PROTOCOL.md section 7.
 */
#ifndef HRE_LEDGER_INTERNAL_H
#define HRE_LEDGER_INTERNAL_H

#include <stdio.h>

#include "core/internal.h"
#include "hre/block.h"
#include "hre/contract.h"
#include "hre/key.h"
#include "hre/ledger.h"
#include "hre/network.h"
#include "hre/tx.h"
#include "storage/internal.h"

/* ---- file names ---- */
#define HRE_LEDGER__PARAMS_FILE "params.dat"
#define HRE_LEDGER__INDEX_FILE "blkindex.dat"
#define HRE_LEDGER__SEG_FMT "blk-%05u.dat"          /* segment number 0..99999 */
#define HRE_LEDGER__SNAP_FMT "snap-%016llx.dat"     /* height, 16 lowercase hex digits */
#define HRE_LEDGER__MAX_SEGS 100000u

/* ---- block record (payload of a frame in blk-NNNNN.dat) ---- */
#define HRE_LEDGER__REC_FORMAT 1u
#define HRE_LEDGER__REC_ZLIB 0x01u
/* u8 format, u8 flags, 80 header, u32 tx_count, u32 body_len */
#define HRE_LEDGER__REC_FIXED (1u + 1u + 80u + 4u + 4u)

/* Encode a block into a record payload. level: zlib level 1..9, or -1 for no
 * compression; the body is stored compressed only when that is smaller.
 * Out: *out (hre__free it), *len. Returns HRE_OK; HRE_EINVAL; HRE_ENOMEM. */
int hre_ledger__record_encode(uint8_t **out, size_t *len, const hre_block *block, int level);

/* The fixed part of a record (no decompression): header and tx count.
 * Returns HRE_OK or HRE_EDECODE (no detail message set). */
int hre_ledger__record_peek(const uint8_t *rec, size_t len, hre_header *header,
                            uint32_t *tx_count);

/* Decode a record payload (hostile input) into a block: format and flags
 * known, body_len <= limits->max_block_size - 80 before anything is
 * allocated, zlib stream inflating to exactly body_len bytes (and shorter than
 * it), the block decoding under limits with tx_count transactions.
 * Returns HRE_OK; HRE_EDECODE; HRE_ELIMIT; HRE_ENOMEM (detail set). */
int hre_ledger__record_decode(hre_block **out, const uint8_t *rec, size_t len,
                              const hre_block_limits *limits);

/* ---- index entries (payloads of frames in blkindex.dat) ---- */
#define HRE_LEDGER__IDX_BLOCK 1u
#define HRE_LEDGER__IDX_LEN (1u + 4u + 8u + 4u + 4u + 80u)
#define HRE_LEDGER__IDX_INVALID 2u
#define HRE_LEDGER__IDX_INVALID_LEN (1u + 32u)

typedef struct hre_ledger__index_entry {
    uint32_t seg;           /* segment number */
    uint64_t offset;        /* frame offset in the segment */
    uint32_t rec_len;       /* payload length of the block record */
    uint32_t tx_count;
    hre_header header;
} hre_ledger__index_entry;

void hre_ledger__index_encode(uint8_t out[HRE_LEDGER__IDX_LEN], const hre_ledger__index_entry *e);
/* Returns HRE_OK; HRE_EDECODE (wrong length or type); HRE_ELIMIT (rec_len over
 * max_rec). No detail message (scan loop). */
int hre_ledger__index_decode(hre_ledger__index_entry *e, const uint8_t *in, size_t len,
                             uint32_t max_rec);

/* ---- snapshot file (snap-<16 hex>.dat) ---- */
/* Version 2 (written): magic 8, u64 height, 32 block hash, 32 state hash,
 * u64 L, u32 CRC-32 of the 88 bytes before it, L bytes of contract snapshot
 * (which carries its own sha256d checksum, checked by its loader).
 * Version 1 (still read): the same 88-byte header, the L bytes, then a
 * CRC-32 of everything before it. */
#define HRE_LEDGER__SNAP_MAGIC "HRESNAP2"
#define HRE_LEDGER__SNAP_MAGIC_V1 "HRESNAP1"
#define HRE_LEDGER__SNAP_HEADER 92u   /* bytes before the payload (version 2) */
#define HRE_LEDGER__SNAP_OVERHEAD (8u + 8u + 32u + 32u + 8u + 4u)

/* Parse a snapshot file: magic, CRC, lengths. Out: pointers into in.
 * Returns HRE_OK; HRE_ECORRUPT (detail set). */
int hre_ledger__snap_parse(const uint8_t *in, size_t len, uint64_t *height, uint8_t hash[32],
                           uint8_t state_hash[32], const uint8_t **payload, size_t *plen);

/* ---- network file (network.dat; docs/PROTOCOL.md 7.10) ---- */
#define HRE_LEDGER__NETWORK_FILE "network.dat"
#define HRE_LEDGER__NET_MAGIC "HRENETW1"
#define HRE_LEDGER__PRIVATE_BITS 0x207fffffu   /* the private preset's PoW limit */

struct hre_network {
    hre_chain_params params;          /* the library's version of the struct */
    uint8_t id[32];                   /* genesis block hash */
    uint8_t authority_key[34];
    char org_name[HRE_CONTRACT_NAME_MAX + 1];
    int has_org_name;
};

/* A copy of net (hre_network_free it). HRE_OK; HRE_ENOMEM. */
int hre_ledger__network_copy(hre_network **out, const hre_network *net);
/* 1 and the name of the first field that differs ("the PoW limit", ...) in
 * out, or 0 when a and b are the same network. */
int hre_ledger__network_diff(const hre_network *a, const hre_network *b, char *out, size_t n);

/* ---- params file (params.dat) ---- */
#define HRE_LEDGER__PARAMS_MAGIC "HREPARM1"
/* magic 8, fingerprint 32, network id 32, u32 crc of the 72 bytes before */
#define HRE_LEDGER__PARAMS_LEN (8u + 32u + 32u + 4u)

/* The hash maps below are core's hre__map (core/internal.h), SipHash-keyed
 * with one secret from hre_random_bytes made at hre_ledger_open (txids and
 * record ids can be ground by peers);
 * they do not shrink, so hre__map_reserve keeps the next puts from failing. */

/* ---- block tree ---- */
typedef struct hre_ledger__node {
    uint8_t hash[32];
    hre_header header;
    uint64_t height;
    uint8_t work[32];                 /* cumulative work, genesis included */
    struct hre_ledger__node *parent;  /* NULL for genesis */
    uint64_t seq;                     /* arrival / file order (tie-break) */
    uint64_t offset;                  /* frame offset in segment seg */
    uint32_t seg;
    uint32_t rec_len;
    uint32_t tx_count;
    size_t side_idx;                  /* index in l->side while not on the main chain */
    uint64_t stamp, fork_h;           /* prune pass: fork height of a side node */
    uint64_t ev_seq;                  /* seq of its BLOCK_CONNECTED (0: not known) */
    uint8_t stored;                   /* 0 only for genesis */
    uint8_t invalid;                  /* failed validation, or descends from such */
    uint8_t on_main;
} hre_ledger__node;

/* ---- mempool entry ---- */
typedef struct hre_ledger__mtx {
    uint8_t txid[32];
    hre_tx *tx;
    uint8_t *bytes;
    size_t len;
    int dead;                         /* removed; compacted away */
} hre_ledger__mtx;

typedef struct hre_ledger__orphan {
    uint8_t hash[32];
    uint8_t prev[32];
    uint8_t prev_key[32];             /* HMAC(orph_salt, prev): its key in orph_prev */
    uint8_t *bytes;
    size_t len;
    uint64_t now;
    size_t slot;                      /* index in l->orph (arrival order) */
    struct hre_ledger__orphan *sib;   /* next orphan with the same parent */
} hre_ledger__orphan;

typedef struct hre_ledger__snapinfo {
    uint64_t height;
    uint8_t hash[32];
} hre_ledger__snapinfo;

typedef struct hre_ledger__ev {
    hre_ledger_event ev;
    hre_contract_event cev;
} hre_ledger__ev;

#define HRE_LEDGER__EV_DROP 0
#define HRE_LEDGER__EV_BUFFER 1

struct hre_ledger {
    hre_storage *st;
    hre_chain_params params;
    hre_network *net;                 /* the network (params, authority, org name) */
    int net_file_seen;                /* open: the network came from network.dat */
    hre_block_limits limits;
    uint8_t network_id[32];
    uint8_t fingerprint[32];
    uint8_t authority_key[34];
    char org_name[HRE_CONTRACT_NAME_MAX + 1];
    int has_org_name;
    unsigned int threads;
    hre_ledger_event_fn on_event;
    void *user_data;
    hre_log_fn log_fn;                /* options version 2; NULL = no logging */
    void *log_ud;
    int index_rebuilt;                /* open: the index was rebuilt from the segments */
    size_t open_pruned;               /* open: stale side blocks dropped */
    uint64_t state_from;              /* open: height of the snapshot the state came from */
    uint32_t snap_interval, max_reorg, max_orphans, max_side, mempool_max;
    uint64_t segment_size;
    int level;
    uint32_t max_rec;                 /* cap on a block record payload */
    unsigned int open_flags;          /* HRE_LEDGER_OPEN_* */
    uint32_t journal_max;             /* events kept for events_since (0: none) */

    hre_keycache *kc;
    hre_pool *pool;                   /* `threads` workers, created at open, or the host's */
    int own_pool;                     /* the ledger made it (and frees it) */
    hre_contract *c;                  /* tip state (+ `overlay` mempool txs) */
    uint64_t undo_floor;              /* blocks above this height can be undone */

    hre_ledger__node **nodes;         /* seq order; nodes[0] = genesis; NULL = dropped */
    size_t n_nodes, cap_nodes, n_dead;
    hre_ledger__node **side;          /* the nodes in memory not on the main chain */
    size_t n_side, cap_side;
    uint64_t prune_stamp;
    hre__map node_map;
    hre_ledger__node **main;          /* main[h], h = 0..tip */
    size_t main_len, main_cap;

    hre_storage_file **segs;          /* read handles of every segment */
    uint32_t n_segs;
    hre_storage__log *seg_log;        /* last segment, for appends (NULL: reopen) */
    uint64_t seg_good_end;            /* end of the last known record of the last segment */
    hre_storage__log *idx_log;        /* NULL: index appends are skipped until reopen */

    hre_ledger__snapinfo *snaps;
    size_t n_snaps, cap_snaps;

    hre_ledger__mtx **mp;
    size_t mp_n, mp_cap;
    hre__map mp_map;
    size_t overlay;                   /* mempool txs applied on top of the tip state */
    uint64_t last_now;

    hre_ledger__orphan **orph;        /* arrival order; NULL = taken */
    size_t orph_len, orph_cap, orph_head;
    size_t n_orph;                    /* orphans held */
    hre__map orph_map;         /* hash -> orphan */
    hre__map orph_prev;        /* prev_key -> an orphan with that parent (sib: the others) */
    uint8_t orph_salt[32];            /* random, from open */
    uint8_t (*orph_work)[32];         /* resolution work list (room for n_orph + 2) */
    size_t orph_work_cap;
    uint64_t n_joined;                /* blocks that joined the main chain (batch counts) */

    uint8_t (*bad_ring)[32];          /* blocks rejected for good (ring of BAD_MAX) */
    size_t bad_n, bad_head;
    hre__map bad_map;
    int fatal;                        /* the fatal state (ledger.h): only queries and close */
    char fatal_why[256];
    hre_ledger__ev *jr;               /* the event journal (a ring) */
    size_t jr_n, jr_cap, jr_head;
    int jr_lost;                      /* events have fallen out of it */
    int ev_mode;
    uint32_t cur_tx;
    hre_ledger__ev *evs;
    size_t n_evs, cap_evs;
    size_t bad_tx;                    /* index of the tx the contract refused last */
};

/* Copy the calling thread's detail message (before formatting a new one
 * that quotes it: the detail buffer must not be both source and target). */
static inline void hre_ledger__why(char *out, size_t n)
{
    snprintf(out, n, "%s", hre_error_detail());
}

/* Log through the host's hook (options version 2); no-op without one. */
#define HRE_LEDGER__LOG(l, level, ...) hre__log((l)->log_fn, (l)->log_ud, (level), __VA_ARGS__)

/* ---- cross-file internals, by the file that defines them ----
 * The files are listed lowest first: a file calls only functions of the
 * files above it (and its own), never one below it, so there is no circle
 * between files. Codecs (blockrec.c) and the hash map (map.c) are above. */

/* Set a rejection status and fail with code and a detail message. */
#define HRE_LEDGER__REJ(st, sv, code, ...) \
    (hre_ledger__set_status((st), (sv)), hre__fail((code), __VA_ARGS__))

/* status.c: statuses and the fatal state */
void hre_ledger__set_status(hre_ledger_status *st, hre_ledger_status v);
/* Put the ledger in the fatal state (common.h rule 10; ledger.h): log it,
 * set *st (may be NULL) to REJECT_FATAL and fail with HRE_EFATAL and a
 * detail naming what failed. */
int hre_ledger__fatal(hre_ledger *l, hre_ledger_status *st, const char *fmt, ...) HRE__PRINTF(3, 4);
/* Is rc a storage failure (HRE_EIO, HRE_ENOSPC, HRE_ECORRUPT: a damaged
 * stored record, HRE_ELIMIT: out of segment numbers)? */
int hre_ledger__storage_code(int rc);
/* The status of a failure that is no verdict on the block: REJECT_STORAGE
 * for a storage code, REJECT_FATAL for HRE_EFATAL, else STATUS_NONE
 * (HRE_ENOMEM, HRE_ECRYPTO, HRE_EINVAL). */
void hre_ledger__local_status(hre_ledger_status *st, int rc);
/* HRE_OK, or HRE_EFATAL (status REJECT_FATAL) when the ledger is fatal. */
int hre_ledger__usable(const hre_ledger *l, hre_ledger_status *st);

/* tree.c: the block tree and the main chain */
hre_ledger__node *hre_ledger__tip(const hre_ledger *l);
hre_ledger__node *hre_ledger__ancestor(const hre_ledger *l, hre_ledger__node *n, uint64_t h);
uint32_t hre_ledger__mtp(const hre_ledger *l, const hre_ledger__node *parent);
hre_ledger__node *hre_ledger__node_new(hre_ledger *l, const hre_header *h, const uint8_t hash[32],
                                       hre_ledger__node *parent);
void hre_ledger__node_link(hre_ledger *l, hre_ledger__node *n);
void hre_ledger__node_pop(hre_ledger *l);
hre_ledger__node *hre_ledger__best_tip(hre_ledger *l);
void hre_ledger__set_main(hre_ledger *l, hre_ledger__node *tip);
void hre_ledger__tree_free(hre_ledger *l);
/* The side list (l->side): reserve room, add, remove (allocation-free), or
 * rebuild it from nodes[] and on_main. */
int hre_ledger__side_reserve(hre_ledger *l, size_t extra);
void hre_ledger__side_add(hre_ledger *l, hre_ledger__node *n);
void hre_ledger__side_del(hre_ledger *l, hre_ledger__node *n);
int hre_ledger__side_rebuild(hre_ledger *l);
/* Drop from memory every side node whose fork point lies more than
 * max_reorg_depth below the tip (it can never be reorganised to); returns
 * how many. Cost O(side nodes). */
size_t hre_ledger__prune_side(hre_ledger *l);
int hre_ledger__tree_init(hre_ledger *l);

/* events.c */
void hre_ledger__contract_event(void *user_data, const hre_contract_event *cev);
/* Buffer a block event; for BLOCK_CONNECTED, c is the state the block was
 * applied to (its event count gives the block's place in the event stream,
 * kept in n->ev_seq). */
void hre_ledger__ev_block(hre_ledger *l, unsigned int type, hre_ledger__node *n,
                          const hre_contract *c);
void hre_ledger__ev_stamp(hre_ledger *l, size_t mark, const hre_ledger__node *n);
/* Hand the buffered events to the journal and (deliver != 0) the host. */
void hre_ledger__ev_flush_to(hre_ledger *l, int deliver);
void hre_ledger__ev_flush(hre_ledger *l);
void hre_ledger__journal_clear(hre_ledger *l);
size_t hre_ledger__journal_count(const hre_ledger *l);
const hre_ledger__ev *hre_ledger__journal_at(const hre_ledger *l, size_t i);

/* state.c: the contract state the ledger keeps */
void hre_ledger__contract_options(const hre_ledger *l, hre_contract_options *o);
int hre_ledger__genesis_contract(hre_ledger *l, hre_contract **out, int events);
/* Undo the n most recent transactions applied to c: the one undo loop of
 * the ledger. Returns HRE_OK; HRE_ECORRUPT when the journal holds fewer
 * (the state is then not the one the caller expects). */
int hre_ledger__undo(hre_contract *c, size_t n);
void hre_ledger__ensure_tip_state(hre_ledger *l);
void hre_ledger__trim_undo(hre_ledger *l);

/* validate.c */
#define HRE_LEDGER__FUTURE_LIMIT 7200u
int hre_ledger__expected_bits(const hre_ledger *l, hre_ledger__node *parent, uint32_t *bits);
int hre_ledger__check_block(hre_ledger *l, const hre_block *blk, uint8_t hash[32],
                            uint8_t (**txids_out)[32], hre_ledger_status *st);
int hre_ledger__check_bytes(hre_ledger *l, const uint8_t *b, size_t len, hre_block **out,
                            uint8_t hash[32], uint8_t (**txids)[32], hre_ledger_status *st);
int hre_ledger__check_context(hre_ledger *l, hre_ledger__node *parent, const hre_header *h,
                              uint64_t now, int check_future, hre_ledger_status *st);
int hre_ledger__apply_txs(hre_ledger *l, hre_contract *c, const hre_block *blk,
                          const uint8_t (*txids)[32], int verify, int skip_known,
                          hre_ledger_status *st);

/* A block's transactions decoded ahead of their apply (reorgs read and
 * check everything before they change any state). */
typedef struct hre_ledger__btx {
    size_t n;
    hre_tx **tx;
    uint32_t time;                    /* the block's time */
} hre_ledger__btx;
/* Decode (REJECT_TX_DECODE with the decoder's code; HRE_ENOMEM). */
int hre_ledger__btx_decode(hre_ledger *l, hre_ledger__btx *b, const hre_block *blk,
                           hre_ledger_status *st);
void hre_ledger__btx_free(hre_ledger__btx *b);
/* Verify every signature of nb blocks in one loop on the pool, skipping
 * txids (per block, may be NULL) that are in the mempool. On a bad one
 * *bad_block is its block: REJECT_TX_SIGNATURE / HRE_EVERIFY. HRE_ENOMEM,
 * HRE_ECRYPTO when verification could not run. */
int hre_ledger__btx_verify(hre_ledger *l, hre_ledger__btx *b, size_t nb,
                           const uint8_t (*const *txids)[32], size_t *bad_block,
                           hre_ledger_status *st);
/* Apply b's transactions to c (signatures settled); on a refusal what was
 * applied is undone: REJECT_CONTRACT with the contract's code, or
 * HRE_ENOMEM. */
int hre_ledger__btx_apply(hre_ledger *l, hre_contract *c, const hre_ledger__btx *b,
                          hre_ledger_status *st);

/* Blocks rejected for good, remembered in memory (the newest BAD_MAX) so
 * that their descendants are refused at once even when the block itself
 * was never stored (a heavier block is stored only after its reorg). */
#define HRE_LEDGER__BAD_MAX 1024u
/* Is st a verdict fixed by the block's header hash? */
int hre_ledger__verdict_final(hre_ledger_status st);
void hre_ledger__bad_add(hre_ledger *l, const uint8_t hash[32]);
int hre_ledger__bad_known(const hre_ledger *l, const uint8_t hash[32]);

/* store.c: segments and the index file */
void hre_ledger__seg_name(char out[32], uint32_t n);
int hre_ledger__map_io(int rc);
int hre_ledger__read_block(hre_ledger *l, const hre_ledger__node *n, hre_block **out);
int hre_ledger__seg_add_reader(hre_ledger *l, uint32_t n);
void hre_ledger__seg_broken(hre_ledger *l);
int hre_ledger__store_record(hre_ledger *l, const hre_block *blk, int sync, uint32_t *seg,
                             uint64_t *off, uint32_t *rec_len);
/* As store_record, for a record already encoded (takes ownership of rec). */
int hre_ledger__store_encoded(hre_ledger *l, uint8_t *rec, size_t len, int sync, uint32_t *seg,
                              uint64_t *off, uint32_t *rec_len);
int hre_ledger__seg_sync(hre_ledger *l);
void hre_ledger__index_append(hre_ledger *l, const uint8_t *p, size_t len);
void hre_ledger__index_block(hre_ledger *l, const hre_ledger__node *n);
void hre_ledger__mark_invalid(hre_ledger *l, hre_ledger__node *n);
void hre_ledger__close_storage(hre_ledger *l);

/* snapshot.c */
void hre_ledger__snap_name(char out[40], uint64_t h);
int hre_ledger__snaps_add(hre_ledger *l, uint64_t h, const uint8_t hash[32]);
uint64_t hre_ledger__last_snap_height(const hre_ledger *l);
int hre_ledger__write_snapshot(hre_ledger *l);
/* events: the open's replay (events into the journal and, with
 * HRE_LEDGER_OPEN_REPLAY_EVENTS, to the host). */
int hre_ledger__build_state(hre_ledger *l, hre_contract **out, uint64_t h, int full,
                            int events, uint64_t *bad, uint64_t *from_out);
/* The undo floor of a state build_state made at h from `from`. */
uint64_t hre_ledger__undo_floor_after(const hre_ledger *l, uint64_t from, uint64_t h);

/* params.c */
int hre_ledger__fingerprint(hre_ledger *l);
int hre_ledger__params_file(hre_ledger *l, int exists_other);
/* Decode the storage's network.dat: HRE_OK; HRE_ENOTFOUND; HRE_ECORRUPT
 * (damaged); storage codes; HRE_ENOMEM. */
int hre_ledger__read_network_file(hre_storage *st, hre_network **out);

/* index_load.c */
int hre_ledger__open_storage(hre_ledger *l);

/* mempool.c */
void hre_ledger__mempool_clear(hre_ledger *l);
void hre_ledger__mp_compact(hre_ledger *l);
void hre_ledger__mp_kill(hre_ledger *l, hre_ledger__mtx *e);
uint64_t hre_ledger__next_block_time(const hre_ledger *l, uint64_t now);
int hre_ledger__ensure_pending(hre_ledger *l);
void hre_ledger__mp_remove_included(hre_ledger *l, const uint8_t (*txids)[32], size_t n);
int hre_ledger__block_txids(const hre_block *blk, uint8_t (**out)[32]);
void hre_ledger__mp_readd(hre_ledger *l, hre_block **blocks, size_t nb);

/* connect.c */
/* A node for blk on parent, not linked yet (room to link it reserved).
 * NULL on failure, with the detail set. */
hre_ledger__node *hre_ledger__stored_node(hre_ledger *l, const hre_block *blk, const uint8_t hash[32],
                                          hre_ledger__node *parent);
void hre_ledger__post_connect(hre_ledger *l);
int hre_ledger__connect_tip(hre_ledger *l, const hre_block *blk, const uint8_t hash[32],
                            const uint8_t (*txids)[32], int defer, hre_ledger_status *st,
                            hre_ledger__node **out);
int hre_ledger__store_side(hre_ledger *l, const hre_block *blk, const uint8_t hash[32],
                           hre_ledger__node *parent, hre_ledger_status *st, hre_ledger__node **out);

/* reorg.c */
/* Reorganise to target (heavier than the tip). pending: target's block when
 * it is not stored yet (NULL when it is). */
int hre_ledger__reorg_to(hre_ledger *l, hre_ledger__node *target, const hre_block *pending,
                         hre_ledger_status *st);

/* orphans.c: the orphan pool */
int hre_ledger__orphan_add(hre_ledger *l, const uint8_t *b, size_t len, const uint8_t hash[32],
                           const uint8_t prev[32], uint64_t now);
int hre_ledger__orphan_known(const hre_ledger *l, const uint8_t hash[32]);
/* Remove and return one orphan whose parent is `parent` (NULL if none);
 * free it with hre_ledger__orphan_free. Allocation-free. */
hre_ledger__orphan *hre_ledger__orphan_take(hre_ledger *l, const uint8_t parent[32]);
void hre_ledger__orphan_free(hre_ledger__orphan *o);
void hre_ledger__orphans_clear(hre_ledger *l);

/* submit.c: public entry points only. */

/* mine.c, open.c, query.c, verify.c: public entry points only. */

/* ---- test hook (HRE_TESTING builds only) ---- */
#ifdef HRE_TESTING
/* Called after every block replayed into a state built from a snapshot or
 * genesis (open, deep reorgs) and in verify-chain, with that state.
 * Thread-local; NULL = off. */
typedef void (*hre_ledger__replay_hook_fn)(void *ud, const hre_contract *c, uint64_t height);
extern _Thread_local hre_ledger__replay_hook_fn hre_ledger__test_replay_hook;
extern _Thread_local void *hre_ledger__test_replay_ud;
#define HRE_LEDGER__REPLAY_HOOK(c, h)                                                        \
    do {                                                                                     \
        if (hre_ledger__test_replay_hook)                                                    \
            hre_ledger__test_replay_hook(hre_ledger__test_replay_ud, (c), (h));              \
    } while (0)
#else
#define HRE_LEDGER__REPLAY_HOOK(c, h) ((void)0)
#endif

#endif /* HRE_LEDGER_INTERNAL_H */
