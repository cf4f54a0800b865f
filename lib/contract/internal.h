/*
 * Internal definitions of the record contract (layer 4). Never installed.
 * Names follow hre_contract__<name>.
 *
 * Layout: every entity lives in a growable array and is referred to by a u32
 * index (HRE_C_NONE = none). Entities are only ever APPENDED by apply, so
 * undo truncates the arrays back to the counts saved in the undo entry and
 * reverts a handful of in-place fields. Lookups by 32/34-byte id go through
 * open-addressing (linear probing, SipHash-keyed) tables of u32 indices.
 * Per-patient records / grants and per-record / per-account events are
 * singly linked lists through u32 "next" fields, newest at the head.
 */
#ifndef HRE_CONTRACT_INTERNAL_H
#define HRE_CONTRACT_INTERNAL_H

#include "core/internal.h"
#include "hre/contract.h"
#include "hre/hash.h"

#define HRE_C_NONE UINT32_MAX
#define HRE_C_MAX_ITEMS (UINT32_MAX - 2u)

/* Limit on undo entries kept when the host never calls undo_forget is none:
 * the journal grows until forgotten. */

struct hre_c_account {
    uint8_t addr[32];
    uint32_t rec_chunk, rec_count; /* patient's records: newest chunk (same cache line as addr) */
    uint8_t key[34];
    uint8_t role, status;
    uint32_t org;                 /* org index or NONE */
    uint32_t key_entry;           /* index of the current key entry */
    uint32_t enc;                 /* current encryption key entry or NONE */
    uint64_t nonce;
    uint8_t term[32];             /* cached accumulator term of this entry */
    uint32_t grant_head, grant_count;
    uint32_t ev_head, ev_count;   /* events with this account as subject */
};

struct hre_c_keyent {
    uint8_t key[34];
    uint8_t retired;
    uint32_t account;
};

struct hre_c_org {
    uint8_t id[32];
    uint8_t type, name_len, status;
    uint32_t name_off;            /* in the byte arena */
    uint32_t enc;                 /* current encryption key entry or NONE */
};

/* A published encryption key. Entries are appended by SET_ENC_KEY; only the
 * one an account / org points to is in the state (a replaced entry stays in
 * the array, unreferenced, for undo; snapshots carry only current keys). */
struct hre_c_enckey {
    uint8_t key[34];
};

/* A patient's records are listed in chunks of record indices (newest chunk
 * first; the newest chunk holds ((rec_count - 1) % HRE_C_CHUNK) + 1 entries,
 * older ones are full). Records-by-patient then follows a couple of chunk
 * links and loads the records' ids independently (no pointer chasing per
 * record). Chunks are allocated in record order, so undo frees them LIFO. */
#define HRE_C_CHUNK 7
struct hre_c_chunk {
    uint32_t rec[HRE_C_CHUNK];
    uint32_t next;                       /* older chunk or NONE */
};

/* 216 bytes, 4-byte aligned (u64 fields split in halves so no padding):
 * records dominate memory at scale. */
struct hre_c_record {
    uint8_t id[32];
    uint32_t patient;                    /* account */
    uint8_t c_pid[32], c_test[32];
    uint8_t doc[32];
    uint8_t locator[32];                 /* opaque document locator */
    uint32_t date[2], price[2];          /* u64 as low, high halves (hre_c_get64) */
    uint32_t issuer, lab;                /* orgs */
    uint32_t sig_issuer, sig_lab;        /* account or NONE */
    uint32_t supersedes;                 /* record or NONE */
    uint32_t ev_head;                    /* newest event about this record */
    uint32_t hosp_off;                   /* arena; may share the issuer's name bytes */
    uint32_t erased_time;                /* block time of the erasure (u32, like the header) */
    uint8_t hosp_len, category, valid, erased;
};

static inline uint64_t hre_c_get64(const uint32_t v[2]) { return (uint64_t)v[0] | (uint64_t)v[1] << 32; }
static inline void hre_c_put64(uint32_t v[2], uint64_t x) { v[0] = (uint32_t)x; v[1] = (uint32_t)(x >> 32); }

struct hre_c_grant {
    uint8_t id[32];
    uint8_t reader[32];
    uint64_t expiry, created, revoked_time;
    uint32_t patient;
    uint32_t next_patient;
    uint32_t ids_off, env_off;           /* arena */
    uint16_t env_len;
    uint8_t reader_type, scope, category, revoked, nids;
};

/* 32 bytes: events are the most numerous entity. */
struct hre_c_event {
    uint8_t type, detail;
    uint16_t kind;
    uint32_t actor, subject;             /* accounts (subject may be NONE) */
    uint32_t record;                     /* record or NONE */
    uint32_t ref;                        /* org (ORG/ROLE/RECORD events) or grant (GRANT/REVOKE/ACCESS) or NONE */
    uint32_t next_record, next_subject;
    uint32_t time;                       /* block time (u32, like the block header) */
};

struct hre_c_table {
    uint32_t *slots;                     /* index + 1; 0 = empty */
    uint32_t mask;                       /* capacity - 1 (capacity power of 2) or 0 when unallocated */
    uint32_t count;
};

struct hre_c_undo {
    uint8_t delta[32];                   /* accumulator change made by the tx (add) */
    uint8_t sender_term[32];             /* sender account term before */
    uint8_t target_term[32];             /* target account term before (suspend/rotate) */
    uint64_t old_nonce;                  /* sender nonce before */
    uint32_t sender, target;             /* accounts (sender NONE: created by this tx) */
    uint32_t n_accounts, n_keys, n_orgs, n_records, n_grants, n_events, n_chunks, arena_len;
    uint32_t n_enc;
    uint32_t aux;                        /* sign, erase: record; revoke: grant; rotate: old key entry;
                                            suspend_org: org; set_enc_key: target account / org */
    uint32_t aux2;                       /* set_enc_key: the target's previous key entry (or NONE) */
    uint32_t old_sig_issuer, old_sig_lab;
    uint16_t kind;
    uint8_t old_status, old_valid;       /* set_enc_key: old_status = target type */
};

#define HRE_C_ARRAY(T) struct { T *v; uint32_t n, cap; }

struct hre_contract {
    uint8_t network_id[32];
    uint8_t acc[32];                     /* multiset accumulator, 256-bit little-endian */
    hre__sipkey sip;                     /* hash table key (per handle, random) */
    hre_contract_event_fn on_event;
    void *user_data;
    hre_sha256_ctx *md;                  /* reused for state terms (apply / load are exclusive) */

    HRE_C_ARRAY(struct hre_c_account) accounts;
    HRE_C_ARRAY(struct hre_c_keyent) keys;
    HRE_C_ARRAY(struct hre_c_org) orgs;
    HRE_C_ARRAY(struct hre_c_record) records;
    HRE_C_ARRAY(struct hre_c_grant) grants;
    HRE_C_ARRAY(struct hre_c_event) events;
    HRE_C_ARRAY(struct hre_c_chunk) chunks;
    HRE_C_ARRAY(struct hre_c_enckey) enc;
    HRE_C_ARRAY(struct hre_c_undo) undo;
    HRE_C_ARRAY(uint8_t) arena;
    uint32_t undo_start;                 /* first live undo entry (ring-less: compacted on forget) */

    struct hre_c_table t_addr, t_key, t_org, t_record, t_grant;
};

/*
 * Files, each using only those above it (no file-level cycle):
 *   tables.c       arrays, id hash tables, arena, lists
 *   terms.c        state-hash accumulator and entry terms; hre_contract_state_hash
 *   payload.c      payload codecs and builders
 *   access.c       the access rule
 *   events.c       internal event -> hre_contract_event
 *   lifetime.c     options, genesis state, account creation, free
 *   undo.c         the undo journal
 *   apply_common.c what the kinds' handlers share
 *   apply_accounts.c, apply_records.c, apply_consent.c   the handlers
 *   apply.c        hre_contract_apply: common checks, dispatch, delivery
 *   query.c, commit.c        queries; commitments
 *   snapshot_save.c, snapshot_load.c   snapshots
 */

/* --- tables.c --- */
enum { HRE_C_T_ADDR, HRE_C_T_KEY, HRE_C_T_ORG, HRE_C_T_RECORD, HRE_C_T_GRANT };
uint32_t hre_contract__find(const hre_contract *c, int table, const uint8_t *id);
int hre_contract__insert_reserve(hre_contract *c, int table, uint32_t extra);
void hre_contract__insert(hre_contract *c, int table, uint32_t idx);
/* Insert idx unless an entry with the same id is there (returns 0, nothing
 * inserted). Capacity must be reserved. One probe sequence for both. */
int hre_contract__insert_new(hre_contract *c, int table, uint32_t idx);
/* Remove idx (which must be present) with backward-shift deletion. */
void hre_contract__table_remove(hre_contract *c, int table, uint32_t idx);
int hre_contract__grow(void **v, uint32_t *cap, uint32_t need, size_t elem);
/* Room for one more of every entity, two events and arena_bytes bytes. */
int hre_contract__reserve_all(hre_contract *c, size_t arena_bytes);
/* Append n bytes to the arena (capacity reserved); returns their offset. */
uint32_t hre_contract__arena_put(hre_contract *c, const uint8_t *p, size_t n);
/* Arena offset for a hospital name: the issuer's name bytes when equal, else appended. */
uint32_t hre_contract__hosp_name(hre_contract *c, uint32_t issuer, const uint8_t *name, size_t len, int *reused);

/* Link a just-appended entity into its lists (used by apply and snapshot load).
 * link_record may append a chunk: capacity must be reserved. */
void hre_contract__link_record(hre_contract *c, uint32_t ri);
void hre_contract__link_grant(hre_contract *c, uint32_t gi);
void hre_contract__link_event(hre_contract *c, uint32_t ei);

/* --- terms.c --- */
/* sha256 through a reusable context (md may be NULL: one-shot). */
int hre_contract__sha256(hre_sha256_ctx *md, uint8_t out[32], const void *data, size_t len);

/* Accumulator terms (sha256 of the canonical entry encodings), hashed with md
 * (c->md on the apply path; a per-thread context in snapshot load). */
int hre_contract__term_account(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_account *a, uint8_t out[32]);
int hre_contract__term_retired_key(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_keyent *k, uint8_t out[32]);
int hre_contract__term_org(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_org *o, uint8_t out[32]);
int hre_contract__term_record(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_record *r, uint8_t out[32]);
int hre_contract__term_record_status(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_record *r, uint8_t out[32]);
int hre_contract__term_grant(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_grant *g, uint8_t out[32]);
int hre_contract__term_revocation(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_grant *g, uint8_t out[32]);
int hre_contract__term_event(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_event *e, uint64_t seq, uint8_t out[32]);
/* 'P' term of an encryption key: target type, address or org id, key. */
int hre_contract__term_enc(hre_sha256_ctx *md, uint8_t target_type, const uint8_t id[32], const uint8_t key[34],
                           uint8_t out[32]);
void hre_contract__acc_add(uint8_t acc[32], const uint8_t t[32]);
void hre_contract__acc_sub(uint8_t acc[32], const uint8_t t[32]);

/* --- payload.c --- */
int hre_contract__key_syntax_ok(const uint8_t key[34]);
int hre_contract__name_ok(const uint8_t *s, size_t n);
/* Is key a P-256 wire key whose point parses? HRE_OK, HRE_EDECODE (with a
 * detail naming `what`), HRE_ENOMEM / HRE_ECRYPTO. */
int hre_contract__enc_key_check(const uint8_t key[34], const char *what);

/* --- access.c --- */
/* The access rule (hre_contract_access_check) for reader account `reader`
 * and record ri. Fills *out (reason, basis, grant or NONE); returns HRE_OK
 * or the refusal with a detail. */
struct hre_c_access {
    uint8_t reason, basis;
    uint32_t grant;
};
int hre_contract__access_check(const hre_contract *c, uint32_t reader, uint32_t ri,
                               uint64_t now, struct hre_c_access *out);
/* Is the account's organisation (if any) active? */
int hre_contract__org_active(const hre_contract *c, const struct hre_c_account *a);

/* --- events.c --- */
void hre_contract__event_export(const hre_contract *c, uint32_t ei, hre_contract_event *out);

/* --- lifetime.c --- */
extern const hre__vstruct hre_contract__options_desc;
int hre_contract__alloc_state(hre_contract **out, const uint8_t network_id[32]);
/* Append an account with key `key` (and its key entry); capacity reserved.
 * Adds the account term to the accumulator (and to delta if not NULL). */
int hre_contract__new_account(hre_contract *c, const uint8_t key[34], uint8_t role, uint32_t org,
                              uint8_t delta[32], uint32_t *out);

/* --- undo.c --- */
/* Revert everything recorded in u. Never fails, never allocates. */
void hre_contract__undo_entry(hre_contract *c, const struct hre_c_undo *u);

/* --- apply_common.c --- */
/* One transaction being applied. */
struct hre_c_actx {
    hre_contract *c;
    const hre_tx *tx;
    uint64_t now;
    uint16_t kind;
    uint32_t sender;                   /* account, or NONE for register_patient */
    const uint8_t *sender_key;
    const uint8_t *payload;
    size_t plen;
    struct hre_c_undo *u;
};

void hre_contract__plus(struct hre_c_actx *x, const uint8_t t[32]);
void hre_contract__minus(struct hre_c_actx *x, const uint8_t t[32]);
int hre_contract__reterm_account(struct hre_c_actx *x, uint32_t ai);
int hre_contract__emit(struct hre_c_actx *x, uint8_t type, uint32_t actor, uint32_t subject, uint32_t record,
                       uint32_t ref, uint8_t detail);
int hre_contract__is_admin_of(const struct hre_c_account *a, uint32_t org);
int hre_contract__key_free(hre_contract *c, const uint8_t key[34], const char *what);
int hre_contract__add_account(struct hre_c_actx *x, const uint8_t key[34], uint8_t role, uint32_t org, uint32_t *ai);
int hre_contract__may_manage(const hre_contract *c, uint32_t si, uint32_t ti, const char *what);

/* --- apply_accounts.c, apply_records.c, apply_consent.c: one handler per
 * kind, called by apply.c after the common checks (docs/PROTOCOL.md 5.4) --- */
int hre_contract__apply_register_org(struct hre_c_actx *x);
int hre_contract__apply_appoint_admin(struct hre_c_actx *x);
int hre_contract__apply_register_doctor(struct hre_c_actx *x);
int hre_contract__apply_register_patient(struct hre_c_actx *x);
int hre_contract__apply_suspend(struct hre_c_actx *x);
int hre_contract__apply_rotate_key(struct hre_c_actx *x);
int hre_contract__apply_register_node(struct hre_c_actx *x);
int hre_contract__apply_suspend_org(struct hre_c_actx *x);
int hre_contract__apply_set_enc_key(struct hre_c_actx *x);
int hre_contract__apply_new_record(struct hre_c_actx *x);
int hre_contract__apply_sign_record(struct hre_c_actx *x);
int hre_contract__apply_erase_record(struct hre_c_actx *x);
int hre_contract__apply_grant(struct hre_c_actx *x);
int hre_contract__apply_revoke(struct hre_c_actx *x);
int hre_contract__apply_log_access(struct hre_c_actx *x);

/* --- snapshot_save.c, snapshot_load.c --- */
#define SNAP_MAGIC "HRECSNAP"
#define SNAP_VERSION 2
#define SNAP_HEADER_LEN (8 + 4 + 32 + 32 + 6 * 4)

/* Smallest encodings, used to bound counts by the input size before allocating. */
#define MIN_ORG (32 + 1 + 1 + 2 + 1)
#define MIN_ACCOUNT (32 + 1 + 1 + 4 + 8 + 4 + 1)
#define MIN_KEY (34 + 4 + 1)
#define MIN_RECORD (32 + 4 * 3 + 32 * 3 + 8 + 8 + 1 + 2 + 32 + 4 + 4 + 1 + 4 + 1 + 4)
#define MIN_ENC (1 + 34)                 /* has_enc + key: bounds the key entries */
#define MIN_GRANT (32 + 4 + 1 + 32 + 1 + 1 + 1 + 8 + 8 + 1 + 1 + 8)
#define MIN_EVENT (1 + 1 + 2 + 4 * 4 + 4)

#endif /* HRE_CONTRACT_INTERNAL_H */
