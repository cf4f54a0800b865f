/*
 * Ledger (layer 5): open/create/reopen, params fingerprint, mining and
 * queries, Merkle proofs, events, group commit, orphans, snapshots,
 * retargeting, attacks (each refused with its own status and code, state
 * unchanged), reorgs (heaviest chain, state equal to a node that only saw
 * the winner, losing-branch txs back in the mempool), damage (segments,
 * snapshots, index) and, white-box, power loss at every sync point plus 200
 * random points, and EIO / ENOSPC at every storage call.
 *
 * Every network uses the easy PoW limit 0x207fffff so mining is instant.
 */
#include <check.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>
#include <hre/sys/storage.h>

#include "testutil.h"
#include <hre/sys/powerloss.h>
#ifdef HRE_WHITEBOX
#include "core/internal.h"
#include "storage/internal.h"
#include "ledger/internal.h"
#endif

#define T0 1700000000u
#define EASY 0x207fffffu

/* ------------------------------------------------------------------------ */
/* Fixtures                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct net {
    hre_chain_params params;
    hre_key *auth;
    uint8_t auth_wire[34];
    uint8_t id[32];
} net;

static void key_wire(hre_key *k, uint8_t wire[34])
{
    hre_pubkey *pk = NULL;
    HRE_T_OK(hre_key_pubkey(k, &pk));
    HRE_T_OK(hre_pubkey_serialize_wire(pk, wire));
    hre_pubkey_free(pk);
}

static hre_key *new_key(void)
{
    hre_key *k = NULL;
    HRE_T_OK(hre_key_generate(&k, HRE_CURVE_P256));
    return k;
}

static void net_init(net *n, uint32_t interval, uint64_t max_size, uint64_t max_txs)
{
    memset(n, 0, sizeof *n);
    HRE_T_OK(hre_chain_params_init(&n->params, HRE_CHAIN_PARAMS_VERSION));
    HRE_T_OK(hre_pow_target_from_compact(n->params.pow_limit, NULL, NULL, EASY));
    n->params.target_spacing = 600;
    n->params.retarget_interval = interval;
    n->params.max_block_size = max_size;
    n->params.max_tx_count = max_txs;
    n->params.genesis.version = 1;
    n->params.genesis.time = T0;
    n->params.genesis.bits = EASY;
    HRE_T_OK(hre_pow_mine(&n->params.genesis, NULL, 1000000));
    HRE_T_OK(hre_header_hash(&n->params.genesis, n->id));
    n->auth = new_key();
    key_wire(n->auth, n->auth_wire);
}

static void net_free(net *n)
{
    hre_key_free(n->auth);
}

typedef struct evcount {
    int connected, disconnected, contract, signed_;
} evcount;

static void count_events(void *u, const hre_ledger_event *ev)
{
    evcount *c = u;
    if (ev->type == HRE_LEDGER_EVENT_BLOCK_CONNECTED) c->connected++;
    if (ev->type == HRE_LEDGER_EVENT_BLOCK_DISCONNECTED) c->disconnected++;
    if (ev->type == HRE_LEDGER_EVENT_CONTRACT) {
        ck_assert_ptr_nonnull(ev->contract);
        c->contract++;
        if (ev->contract->type == HRE_EVENT_RECORD_SIGNED) c->signed_++;
    }
}

static uint64_t g_segment_size; /* 0 = default; the power-loss workload rolls segments */

static int open_ledger(hre_ledger **l, hre_storage *st, const net *n, uint32_t snap_interval,
                       evcount *ec)
{
    hre_ledger_options o;
    HRE_T_OK(hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    o.storage = st;
    o.params = &n->params;
    memcpy(o.authority_key, n->auth_wire, 34);
    o.snapshot_interval = snap_interval;
    o.verify_threads = 1;
    o.segment_size = g_segment_size;
    if (ec) {
        o.on_event = count_events;
        o.user_data = ec;
    }
    return hre_ledger_open(l, &o);
}

static hre_storage *mem(void)
{
    hre_storage *s = NULL;
    HRE_T_OK(hre_storage_memory_new(&s, 0));
    return s;
}

/* Encoded register_patient transaction. */
static size_t tx_patient(uint8_t *out, size_t cap, const uint8_t id[32], hre_key *k, uint64_t nonce,
                         uint64_t ts)
{
    hre_register_patient_payload p = {0};
    hre_tx *tx = NULL;
    size_t len = cap;
    HRE_T_OK(hre_contract_build_register_patient(&tx, id, k, nonce, ts, &p));
    HRE_T_OK(hre_tx_encode(tx, out, &len));
    hre_tx_free(tx);
    return len;
}

typedef struct txb {
    uint8_t b[512];
    size_t len;
    uint8_t id[32];
} txb;

static void txb_patient(txb *t, const uint8_t net_id[32], hre_key *k, uint64_t nonce, uint64_t ts)
{
    t->len = tx_patient(t->b, sizeof t->b, net_id, k, nonce, ts);
    HRE_T_OK(hre_sha256d(t->id, t->b, t->len));
}

static void state_hash(hre_ledger *l, uint8_t out[32])
{
    const hre_contract *c = NULL;
    HRE_T_OK(hre_ledger_contract(l, &c));
    HRE_T_OK(hre_contract_state_hash(c, out));
}

static uint64_t tip_height(hre_ledger *l)
{
    uint64_t h = 0;
    HRE_T_OK(hre_ledger_tip(l, &h, NULL));
    return h;
}

/* Build (and optionally mine) a block on parent with the given txs. */
static size_t build_block(uint8_t *out, size_t cap, const uint8_t parent[32], uint32_t time,
                          uint32_t bits, const txb *const *txs, size_t n, int mine)
{
    hre_block *b = NULL;
    hre_block_limits lim = { HRE_BLOCK_LIMITS_VERSION, 64u << 20, 1u << 20 };
    hre_header h;
    size_t i, len = cap;
    memset(&h, 0, sizeof h);
    h.version = 1;
    memcpy(h.prev_hash, parent, 32);
    h.time = time;
    h.bits = bits;
    HRE_T_OK(hre_block_new(&b, &h, &lim));
    for (i = 0; i < n; i++)
        HRE_T_OK(hre_block_add_tx(b, txs[i]->b, txs[i]->len));
    {
        /* a duplicate-tx (mutated) list keeps the all-zero root: some tests want that block */
        int mrc = hre_block_update_merkle_root(b);
        ck_assert(mrc == HRE_OK || mrc == HRE_EVERIFY);
    }
    if (mine) {
        h = *hre_block_header(b);
        HRE_T_OK(hre_pow_mine(&h, NULL, 100000000));
        HRE_T_OK(hre_block_set_header(b, &h));
    }
    HRE_T_OK(hre_block_encode(b, out, &len));
    hre_block_free(b);
    return len;
}

static uint8_t *get_block(hre_ledger *l, uint64_t h, size_t *len)
{
    uint8_t *buf;
    *len = 0;
    ck_assert_int_eq(hre_ledger_block_by_height(l, NULL, len, h), HRE_EBUFSIZE);
    buf = malloc(*len);
    ck_assert_ptr_nonnull(buf);
    HRE_T_OK(hre_ledger_block_by_height(l, buf, len, h));
    return buf;
}

/* Copy every file of src into a new memory storage. */
typedef struct copy_ctx { hre_storage *src, *dst; } copy_ctx;
static int copy_cb(void *arg, const char *name)
{
    copy_ctx *c = arg;
    hre_storage_file *f = NULL, *g = NULL;
    uint64_t size = 0;
    uint8_t *buf;
    size_t got = 0;
    HRE_T_OK(hre_storage_file_open(&f, c->src, name, HRE_STORAGE_READ));
    HRE_T_OK(hre_storage_file_size(f, &size));
    buf = malloc(size + 1);
    if (size)
        HRE_T_OK(hre_storage_file_read(f, buf, size, &got, 0));
    hre_storage_file_close(f);
    HRE_T_OK(hre_storage_file_open(&g, c->dst, name, HRE_STORAGE_WRITE | HRE_STORAGE_CREATE |
                                           HRE_STORAGE_TRUNCATE));
    if (size)
        HRE_T_OK(hre_storage_file_write(g, 0, buf, size));
    HRE_T_OK(hre_storage_file_sync(g));
    hre_storage_file_close(g);
    free(buf);
    return 0;
}

static hre_storage *copy_storage(hre_storage *src)
{
    copy_ctx c = { src, mem() };
    HRE_T_OK(hre_storage_list(src, copy_cb, &c));
    return c.dst;
}

static void flip_byte(hre_storage *s, const char *name, uint64_t pos, uint8_t mask)
{
    hre_storage_file *f = NULL;
    uint8_t b;
    size_t got;
    HRE_T_OK(hre_storage_file_open(&f, s, name, HRE_STORAGE_READ | HRE_STORAGE_WRITE));
    HRE_T_OK(hre_storage_file_read(f, &b, 1, &got, pos));
    ck_assert_uint_eq(got, 1);
    b ^= mask;
    HRE_T_OK(hre_storage_file_write(f, pos, &b, 1));
    HRE_T_OK(hre_storage_file_sync(f));
    hre_storage_file_close(f);
}

static uint64_t file_size(hre_storage *s, const char *name)
{
    hre_storage_file *f = NULL;
    uint64_t size = 0;
    HRE_T_OK(hre_storage_file_open(&f, s, name, HRE_STORAGE_READ));
    HRE_T_OK(hre_storage_file_size(f, &size));
    hre_storage_file_close(f);
    return size;
}

/* count new patients (keys into k[]), each registered in a block of its own
 * mined on l at T0 + 600 * (block number). */
static void mine_new_patients(hre_ledger *l, const net *n, hre_key **k, int count)
{
    int i;
    for (i = 0; i < count; i++) {
        txb t;
        k[i] = new_key();
        txb_patient(&t, n->id, k[i], 0, T0);
        HRE_T_OK(hre_ledger_submit_tx(l, NULL, NULL, t.b, t.len, T0 + 10));
        HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 600u * (uint64_t)(i + 1), HRE_POW_ALL_NONCES, 0));
    }
}

/* ------------------------------------------------------------------------ */
/* Basics                                                                    */
/* ------------------------------------------------------------------------ */

START_TEST(test_options_and_status)
{
    hre_ledger_options o = HRE_LEDGER_OPTIONS_INIT;
    hre_ledger *l = (hre_ledger *)1;
    ck_assert_uint_eq(o.version, HRE_LEDGER_OPTIONS_VERSION);
    ck_assert_int_eq(hre_ledger_options_init(&o, 99), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_ledger_options_init(NULL, 1), HRE_EINVAL);
    HRE_T_OK(hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    ck_assert_int_eq(hre_ledger_open(&l, &o), HRE_EINVAL);
    ck_assert_ptr_null(l);
    o.version = 7;
    ck_assert_int_eq(hre_ledger_open(&l, &o), HRE_EUNSUPPORTED);
    ck_assert_str_eq(hre_ledger_status_name(HRE_LEDGER_REJECT_POW), "reject-pow");
    ck_assert_str_eq(hre_ledger_status_name(HRE_LEDGER_CONNECTED), "connected");
    ck_assert_str_eq(hre_ledger_status_name(12345), "unknown");
    hre_ledger_close(NULL);
}
END_TEST

START_TEST(test_mine_query_reopen)
{
    net n;
    hre_storage *st = mem();
    hre_ledger *l = NULL;
    evcount ec = {0};
    txb t[4];
    hre_key *pk[4];
    uint8_t sh[32], sh2[32], hash[32], tip_hash[32];
    hre_ledger_status status;
    hre_header hdr;
    hre_merkle_branch br;
    uint64_t h, ph;
    int i, on_main;

    net_init(&n, 2016, 100000, 1000);
    ck_assert_int_eq(open_ledger(&l, st, &n, 3, &ec), HRE_OK);
    ck_assert_uint_eq(tip_height(l), 0);
    HRE_T_OK(hre_ledger_network_id(l, hash));
    ck_assert_mem_eq(hash, n.id, 32);
    for (i = 0; i < 4; i++) {
        pk[i] = new_key();
        txb_patient(&t[i], n.id, pk[i], 0, T0);
        HRE_T_OK(hre_ledger_submit_tx(l, hash, &status, t[i].b, t[i].len, T0 + 60));
        ck_assert_int_eq(status, HRE_LEDGER_ACCEPTED_TX);
        ck_assert_mem_eq(hash, t[i].id, 32);
    }
    /* duplicate and replayed transactions are refused */
    ck_assert_int_eq(hre_ledger_submit_tx(l, NULL, &status, t[0].b, t[0].len, T0 + 60), HRE_EEXISTS);
    ck_assert_int_eq(status, HRE_LEDGER_REJECT_DUPLICATE);
    ck_assert_uint_eq(hre_ledger_mempool_count(l), 4);
    ck_assert_int_eq(hre_ledger_mempool_contains(l, t[2].id), 1);
    {
        uint8_t tb[4096];
        size_t tl = 0;
        hre_block *tbk = NULL;
        ck_assert_int_eq(hre_ledger_block_template(l, NULL, &tl, T0 + 600), HRE_EBUFSIZE);
        ck_assert_uint_gt(tl, 80);
        tl = sizeof tb;
        HRE_T_OK(hre_ledger_block_template(l, tb, &tl, T0 + 600));
        HRE_T_OK(hre_block_decode(&tbk, tb, tl, NULL));
        ck_assert_uint_eq(hre_block_tx_count(tbk), 4);
        ck_assert_mem_eq(hre_block_header(tbk)->prev_hash, n.id, 32);
        ck_assert_uint_eq(hre_block_header(tbk)->bits, EASY);
        ck_assert_uint_eq(hre_block_header(tbk)->time, T0 + 600);
        HRE_T_OK(hre_block_check_merkle(tbk));
        hre_block_free(tbk);
    }
    HRE_T_OK(hre_ledger_mine(l, hash, &status, T0 + 600, HRE_POW_ALL_NONCES, 0));
    ck_assert_int_eq(status, HRE_LEDGER_CONNECTED);
    ck_assert_uint_eq(hre_ledger_mempool_count(l), 0);
    ck_assert_uint_eq(tip_height(l), 1);
    ck_assert_int_eq(ec.connected, 1);
    ck_assert_int_eq(ec.contract, 4);
    {
        txb again;
        txb_patient(&again, n.id, pk[0], 0, T0 + 1);
        ck_assert_int_eq(hre_ledger_submit_tx(l, NULL, &status, again.b, again.len, T0 + 700),
                         HRE_EEXISTS);
        ck_assert_int_eq(status, HRE_LEDGER_REJECT_CONTRACT);
    }
    for (i = 0; i < 5; i++)
        HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 1200 + 600u * (uint64_t)i, HRE_POW_ALL_NONCES, HRE_LEDGER_MINE_ALLOW_EMPTY));
    ck_assert_uint_eq(tip_height(l), 6);
    HRE_T_OK(hre_ledger_tip(l, &h, tip_hash));
    HRE_T_OK(hre_ledger_header_by_hash(l, &hdr, &h, &on_main, tip_hash));
    ck_assert_uint_eq(h, 6);
    ck_assert_int_eq(on_main, 1);
    ck_assert_int_eq(hre_ledger_header_by_height(l, &hdr, NULL, 7), HRE_ENOTFOUND);
    HRE_T_OK(hre_ledger_header_by_height(l, &hdr, hash, 1));
    /* Merkle proof, checked with the header alone */
    HRE_T_OK(hre_ledger_tx_proof(l, &hdr, &br, &ph, t[3].id, UINT64_MAX));
    ck_assert_uint_eq(ph, 1);
    HRE_T_OK(hre_merkle_branch_verify(&br, hdr.merkle_root, t[3].id));
    HRE_T_OK(hre_pow_check(&hdr, n.params.pow_limit));
    ck_assert_int_eq(hre_merkle_branch_verify(&br, hdr.merkle_root, t[2].id), HRE_EVERIFY);
    ck_assert_int_eq(hre_ledger_tx_proof(l, &hdr, &br, &ph, n.id, 3), HRE_ENOTFOUND);
    /* blocks read back decode to their headers */
    {
        size_t len;
        uint8_t *b = get_block(l, 1, &len);
        hre_block *blk = NULL;
        HRE_T_OK(hre_block_decode(&blk, b, len, NULL));
        ck_assert_uint_eq(hre_block_tx_count(blk), 4);
        hre_block_free(blk);
        free(b);
        b = get_block(l, 0, &len);
        ck_assert_uint_eq(len, 81);
        free(b);
    }
    HRE_T_OK(hre_ledger_verify_chain(l, &h, NULL, NULL));
    ck_assert_uint_eq(h, UINT64_MAX);
    state_hash(l, sh);
    hre_ledger_close(l);

    /* reopen: from the snapshot at height 6 (interval 3) */
    ck_assert_int_eq(open_ledger(&l, st, &n, 3, NULL), HRE_OK);
    ck_assert_uint_eq(tip_height(l), 6);
    state_hash(l, sh2);
    ck_assert_mem_eq(sh, sh2, 32);
    HRE_T_OK(hre_ledger_verify_chain(l, NULL, NULL, NULL));
    hre_ledger_close(l);

    /* another network on the same storage is a clear error */
    {
        net other = n;
        other.params.target_spacing = 601;
        ck_assert_int_eq(open_ledger(&l, st, &other, 3, NULL), HRE_EINVAL);
        ck_assert_ptr_null(l);
        ck_assert_ptr_nonnull(strstr(hre_error_detail(), "fingerprint"));
    }
    for (i = 0; i < 4; i++)
        hre_key_free(pk[i]);
    hre_storage_free(st);
    net_free(&n);
}
END_TEST

static int progress_stop(void *u, uint64_t h, uint64_t tip)
{
    int *calls = u;
    (void)tip;
    (*calls)++;
    return h >= 2;
}

START_TEST(test_group_commit_orphans)
{
    net n;
    hre_storage *sa = mem(), *sb = mem(), *sc = mem();
    hre_ledger *a = NULL, *b = NULL, *c = NULL;
    uint8_t *blocks[6];
    size_t lens[6], connected = 0;
    hre_ledger_status st;
    uint8_t s1[32], s2[32];
    hre_key *k[6];
    int i, calls = 0;
    uint64_t bad;

    net_init(&n, 2016, 100000, 1000);
    ck_assert_int_eq(open_ledger(&a, sa, &n, 2, NULL), HRE_OK);
    mine_new_patients(a, &n, k, 6);
    for (i = 0; i < 6; i++)
        blocks[i] = get_block(a, (uint64_t)i + 1, &lens[i]);
    ck_assert_int_eq(open_ledger(&b, sb, &n, 2, NULL), HRE_OK);
    HRE_T_OK(hre_ledger_submit_blocks(b, &connected, &st, (const uint8_t *const *)blocks,
                                              lens, 6, T0 + 4000));
    ck_assert_uint_eq(connected, 6);
    ck_assert_int_eq(st, HRE_LEDGER_CONNECTED);
    state_hash(a, s1);
    state_hash(b, s2);
    ck_assert_mem_eq(s1, s2, 32);
    /* again: every block is a duplicate */
    ck_assert_int_eq(hre_ledger_submit_blocks(b, &connected, &st, (const uint8_t *const *)blocks, lens,
                                              1, T0 + 4000), HRE_EEXISTS);
    ck_assert_int_eq(st, HRE_LEDGER_REJECT_DUPLICATE);
    /* orphans: blocks arrive in reverse order */
    ck_assert_int_eq(open_ledger(&c, sc, &n, 2, NULL), HRE_OK);
    for (i = 5; i >= 1; i--) {
        HRE_T_OK(hre_ledger_submit_block(c, &st, blocks[i], lens[i], T0 + 4000));
        ck_assert_int_eq(st, HRE_LEDGER_ORPHAN);
    }
    ck_assert_uint_eq(tip_height(c), 0);
    HRE_T_OK(hre_ledger_submit_block(c, &st, blocks[0], lens[0], T0 + 4000));
    ck_assert_int_eq(st, HRE_LEDGER_CONNECTED);
    ck_assert_uint_eq(tip_height(c), 6);
    state_hash(c, s2);
    ck_assert_mem_eq(s1, s2, 32);
    /* verify-chain progress and cancel */
    ck_assert_int_eq(hre_ledger_verify_chain(c, &bad, progress_stop, &calls), HRE_ECANCELED);
    ck_assert_int_eq(calls, 2);
    ck_assert_uint_eq(bad, UINT64_MAX);
    hre_ledger_close(a);
    hre_ledger_close(b);
    hre_ledger_close(c);
    for (i = 0; i < 6; i++) {
        free(blocks[i]);
        hre_key_free(k[i]);
    }
    hre_storage_free(sa);
    hre_storage_free(sb);
    hre_storage_free(sc);
    net_free(&n);
}
END_TEST

START_TEST(test_retarget)
{
    net n;
    hre_storage *st = mem();
    hre_ledger *l = NULL;
    hre_header h3, h4;
    hre_ledger_status s;
    uint8_t tip[32], buf[512];
    size_t len;
    uint32_t want;
    int i;

    net_init(&n, 4, 100000, 1000);
    ck_assert_int_eq(open_ledger(&l, st, &n, 0, NULL), HRE_OK);
    for (i = 1; i <= 3; i++)
        HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 60u * (uint64_t)i, HRE_POW_ALL_NONCES, HRE_LEDGER_MINE_ALLOW_EMPTY));
    HRE_T_OK(hre_ledger_header_by_height(l, &h3, tip, 3));
    HRE_T_OK(hre_pow_retarget(&want, EASY, (int64_t)h3.time - T0, 4 * 600, n.params.pow_limit));
    ck_assert_uint_ne(want, EASY);
    /* a block at the boundary that keeps the old bits is refused */
    len = build_block(buf, sizeof buf, tip, h3.time + 60, EASY, NULL, 0, 1);
    ck_assert_int_eq(hre_ledger_submit_block(l, &s, buf, len, T0 + 1000), HRE_EVERIFY);
    ck_assert_int_eq(s, HRE_LEDGER_REJECT_BITS);
    HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 240, HRE_POW_ALL_NONCES, HRE_LEDGER_MINE_ALLOW_EMPTY));
    HRE_T_OK(hre_ledger_header_by_height(l, &h4, NULL, 4));
    ck_assert_uint_eq(h4.bits, want);
    hre_ledger_close(l);
    ck_assert_int_eq(open_ledger(&l, st, &n, 0, NULL), HRE_OK);
    ck_assert_uint_eq(tip_height(l), 4);
    HRE_T_OK(hre_ledger_verify_chain(l, NULL, NULL, NULL));
    hre_ledger_close(l);
    hre_storage_free(st);
    net_free(&n);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Attacks                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct attack_env {
    net n;
    hre_storage *st;
    hre_ledger *l;
    uint8_t tip[32];
    uint32_t next_time;
    uint8_t sh[32];
    uint64_t height;
} attack_env;

static void expect_refused(attack_env *e, const uint8_t *b, size_t len, uint64_t now, int code,
                           hre_ledger_status want, const char *what)
{
    hre_ledger_status st = HRE_LEDGER_STATUS_NONE;
    uint8_t sh[32], tip[32];
    uint64_t h;
    int rc = hre_ledger_submit_block(e->l, &st, b, len, now);
    ck_assert_msg(rc == code && st == want, "%s: got %d/%s (%s), want %d/%s", what, rc,
                  hre_ledger_status_name(st), hre_error_detail(), code, hre_ledger_status_name(want));
    /* the refusal's own code and detail survive the library's rollback
     * (undo, hashing) inside the call (common.h rule 4) */
    ck_assert_msg(hre_error_last() == code, "%s: hre_error_last() %d, returned %d (%s)", what,
                  hre_error_last(), code, hre_error_detail());
    ck_assert_str_ne(hre_error_detail(), "");
    if (want == HRE_LEDGER_REJECT_CONTRACT)
        ck_assert_ptr_nonnull(strstr(hre_error_detail(), "refused by the contract"));
    state_hash(e->l, sh);
    ck_assert_mem_eq(sh, e->sh, 32);
    HRE_T_OK(hre_ledger_tip(e->l, &h, tip));
    ck_assert_uint_eq(h, e->height);
    ck_assert_mem_eq(tip, e->tip, 32);
}

START_TEST(test_attacks)
{
    attack_env e;
    hre_key *pk[80];
    txb t[80], bad;
    const txb *v[210];
    uint8_t *buf = malloc(1 << 16);
    size_t len, i;
    hre_header h;
    hre_ledger_status st;
    uint32_t now;

    memset(&e, 0, sizeof e);
    net_init(&e.n, 2016, 10000, 200);
    e.st = mem();
    ck_assert_int_eq(open_ledger(&e.l, e.st, &e.n, 0, NULL), HRE_OK);
    for (i = 0; i < 80; i++) {
        pk[i] = new_key();
        txb_patient(&t[i], e.n.id, pk[i], 0, T0);
    }
    HRE_T_OK(hre_ledger_submit_tx(e.l, NULL, NULL, t[0].b, t[0].len, T0 + 60));
    HRE_T_OK(hre_ledger_mine(e.l, NULL, NULL, T0 + 600, HRE_POW_ALL_NONCES, 0));
    HRE_T_OK(hre_ledger_tip(e.l, &e.height, e.tip));
    HRE_T_OK(hre_ledger_header_by_height(e.l, &h, NULL, 1));
    now = h.time + 600;
    state_hash(e.l, e.sh);

    /* bad proof of work: correct bits, hash above the target */
    {
        hre_block *b = NULL;
        v[0] = &t[1];
        len = build_block(buf, 1 << 16, e.tip, now, EASY, v, 1, 0);
        HRE_T_OK(hre_block_decode(&b, buf, len, NULL));
        h = *hre_block_header(b);
        while (hre_pow_check(&h, e.n.params.pow_limit) == HRE_OK)
            h.nonce++;
        HRE_T_OK(hre_header_encode(&h, buf));
        hre_block_free(b);
        expect_refused(&e, buf, len, now, HRE_EVERIFY, HRE_LEDGER_REJECT_POW, "bad pow");
        /* bits above the PoW limit */
        len = build_block(buf, 1 << 16, e.tip, now, 0x2100ffffu, v, 1, 0);
        expect_refused(&e, buf, len, now, HRE_EVERIFY, HRE_LEDGER_REJECT_POW, "bits over limit");
    }
    /* wrong bits (valid PoW for a harder target) */
    len = build_block(buf, 1 << 16, e.tip, now, 0x207ffffeu, v, 1, 1);
    expect_refused(&e, buf, len, now, HRE_EVERIFY, HRE_LEDGER_REJECT_BITS, "wrong bits");
    /* wrong merkle root */
    {
        len = build_block(buf, 1 << 16, e.tip, now, EASY, v, 1, 0);
        HRE_T_OK(hre_header_decode(&h, buf, 80));
        h.merkle_root[5] ^= 1;
        HRE_T_OK(hre_pow_mine(&h, NULL, 100000000));
        HRE_T_OK(hre_header_encode(&h, buf));
        expect_refused(&e, buf, len, now, HRE_EVERIFY, HRE_LEDGER_REJECT_MERKLE, "merkle");
    }
    /* mutated tree: [t1 t2 t3 t3] has the root of [t1 t2 t3] */
    {
        hre_block *b = NULL;
        hre_block_limits lim = HRE_BLOCK_LIMITS_INIT;
        v[0] = &t[1]; v[1] = &t[2]; v[2] = &t[3];
        len = build_block(buf, 1 << 16, e.tip, now, EASY, v, 3, 1);
        HRE_T_OK(hre_block_decode(&b, buf, len, &lim));
        HRE_T_OK(hre_block_add_tx(b, t[3].b, t[3].len));
        len = 1 << 16;
        HRE_T_OK(hre_block_encode(b, buf, &len));
        hre_block_free(b);
        expect_refused(&e, buf, len, now, HRE_EVERIFY, HRE_LEDGER_REJECT_MERKLE_MUTATED, "mutated");
    }
    /* duplicate transaction (not the mutation pattern) */
    v[0] = &t[1]; v[1] = &t[2]; v[2] = &t[1];
    len = build_block(buf, 1 << 16, e.tip, now, EASY, v, 3, 1);
    expect_refused(&e, buf, len, now, HRE_EEXISTS, HRE_LEDGER_REJECT_DUPLICATE_TX, "duplicate tx");
    /* oversized body: 70 transactions of ~151 bytes over a 10,000-byte cap */
    for (i = 0; i < 70; i++)
        v[i] = &t[i + 1 < 80 ? i + 1 : 1];
    len = build_block(buf, 1 << 16, e.tip, now, EASY, v, 70, 1);
    ck_assert_uint_gt(len, 10000);
    expect_refused(&e, buf, len, now, HRE_ELIMIT, HRE_LEDGER_REJECT_SIZE, "oversized");
    /* too many transactions (tiny ones) */
    {
        txb tiny;
        memset(&tiny, 0, sizeof tiny);
        tiny.len = 1;
        tiny.b[0] = 'x';
        for (i = 0; i < 201; i++)
            v[i] = &tiny;
        len = build_block(buf, 1 << 16, e.tip, now, EASY, v, 201, 0);
        expect_refused(&e, buf, len, now, HRE_ELIMIT, HRE_LEDGER_REJECT_TX_COUNT, "tx count");
        /* a transaction that does not decode */
        v[0] = &tiny;
        len = build_block(buf, 1 << 16, e.tip, now, EASY, v, 1, 1);
        expect_refused(&e, buf, len, now, HRE_EDECODE, HRE_LEDGER_REJECT_TX_DECODE, "tx decode");
    }
    /* timestamp too far in the future, and not above the median time past */
    v[0] = &t[1];
    len = build_block(buf, 1 << 16, e.tip, now + 7201, EASY, v, 1, 1);
    expect_refused(&e, buf, len, now, HRE_ESTATE, HRE_LEDGER_REJECT_TIME_FUTURE, "future");
    len = build_block(buf, 1 << 16, e.tip, T0 + 0, EASY, v, 1, 1);
    expect_refused(&e, buf, len, now, HRE_ESTATE, HRE_LEDGER_REJECT_TIME_OLD, "old");
    /* bad signature */
    bad = t[4];
    bad.b[bad.len - 40] ^= 0x01;
    v[0] = &t[1]; v[1] = &bad;
    len = build_block(buf, 1 << 16, e.tip, now, EASY, v, 2, 1);
    expect_refused(&e, buf, len, now, HRE_EVERIFY, HRE_LEDGER_REJECT_TX_SIGNATURE, "signature");
    /* invalid contract transaction after a valid one: everything undone */
    {
        txb again;
        txb_patient(&again, e.n.id, pk[0], 0, T0 + 5); /* patient 0 registers twice */
        v[0] = &t[1]; v[1] = &again;
        len = build_block(buf, 1 << 16, e.tip, now, EASY, v, 2, 1);
        expect_refused(&e, buf, len, now, HRE_EEXISTS, HRE_LEDGER_REJECT_CONTRACT, "contract");
    }
    /* garbage and the genesis block itself */
    memset(buf, 0xee, 50);
    expect_refused(&e, buf, 50, now, HRE_EDECODE, HRE_LEDGER_REJECT_DECODE, "garbage");
    {
        uint8_t g[81];
        HRE_T_OK(hre_header_encode(&e.n.params.genesis, g));
        g[80] = 0;
        expect_refused(&e, g, 81, now, HRE_EEXISTS, HRE_LEDGER_REJECT_GENESIS, "genesis");
    }
    /* a valid block still connects, and a replay of it is a duplicate */
    v[0] = &t[1];
    len = build_block(buf, 1 << 16, e.tip, now, EASY, v, 1, 1);
    HRE_T_OK(hre_ledger_submit_block(e.l, &st, buf, len, now));
    ck_assert_int_eq(st, HRE_LEDGER_CONNECTED);
    ck_assert_int_eq(hre_ledger_submit_block(e.l, &st, buf, len, now), HRE_EEXISTS);
    ck_assert_int_eq(st, HRE_LEDGER_REJECT_DUPLICATE);
    HRE_T_OK(hre_ledger_verify_chain(e.l, NULL, NULL, NULL));
    hre_ledger_close(e.l);
    for (i = 0; i < 80; i++)
        hre_key_free(pk[i]);
    hre_storage_free(e.st);
    net_free(&e.n);
    free(buf);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Reorgs                                                                    */
/* ------------------------------------------------------------------------ */

START_TEST(test_reorg)
{
    net n;
    hre_storage *sa = mem(), *sb = mem(), *sw = mem();
    hre_ledger *a = NULL, *b = NULL, *w = NULL;
    evcount eca = {0};
    hre_key *k[8];
    txb x, z, z2, y;
    uint8_t *blk1, *b2, *b3, sha[32], shb[32], shw[32], ta[32], tb[32];
    size_t l1, lb2, lb3;
    hre_ledger_status st;
    int i;

    net_init(&n, 2016, 100000, 1000);
    for (i = 0; i < 8; i++)
        k[i] = new_key();
    ck_assert_int_eq(open_ledger(&a, sa, &n, 0, &eca), HRE_OK);
    ck_assert_int_eq(open_ledger(&b, sb, &n, 0, NULL), HRE_OK);
    ck_assert_int_eq(open_ledger(&w, sw, &n, 0, NULL), HRE_OK);
    /* common block 1 */
    {
        txb t;
        txb_patient(&t, n.id, k[0], 0, T0);
        HRE_T_OK(hre_ledger_submit_tx(a, NULL, NULL, t.b, t.len, T0 + 10));
        HRE_T_OK(hre_ledger_mine(a, NULL, NULL, T0 + 600, HRE_POW_ALL_NONCES, 0));
        blk1 = get_block(a, 1, &l1);
        HRE_T_OK(hre_ledger_submit_block(b, &st, blk1, l1, T0 + 600));
        HRE_T_OK(hre_ledger_submit_block(w, &st, blk1, l1, T0 + 600));
    }
    /* A: block 2 with X (still valid after the reorg) and Z (conflicts with Z') */
    txb_patient(&x, n.id, k[1], 0, T0 + 1);
    txb_patient(&z, n.id, k[2], 0, T0 + 1);
    txb_patient(&z2, n.id, k[2], 0, T0 + 2);
    txb_patient(&y, n.id, k[3], 0, T0 + 3);
    HRE_T_OK(hre_ledger_submit_tx(a, NULL, NULL, x.b, x.len, T0 + 700));
    HRE_T_OK(hre_ledger_submit_tx(a, NULL, NULL, z.b, z.len, T0 + 700));
    HRE_T_OK(hre_ledger_mine(a, NULL, NULL, T0 + 1200, HRE_POW_ALL_NONCES, 0));
    ck_assert_uint_eq(hre_ledger_mempool_count(a), 0);
    /* B: blocks 2' (Z') and 3' (Y) */
    HRE_T_OK(hre_ledger_submit_tx(b, NULL, NULL, z2.b, z2.len, T0 + 700));
    HRE_T_OK(hre_ledger_mine(b, NULL, NULL, T0 + 1201, HRE_POW_ALL_NONCES, 0));
    HRE_T_OK(hre_ledger_submit_tx(b, NULL, NULL, y.b, y.len, T0 + 1300));
    HRE_T_OK(hre_ledger_mine(b, NULL, NULL, T0 + 1800, HRE_POW_ALL_NONCES, 0));
    b2 = get_block(b, 2, &lb2);
    b3 = get_block(b, 3, &lb3);
    /* the winner-only node */
    HRE_T_OK(hre_ledger_submit_block(w, &st, b2, lb2, T0 + 1800));
    HRE_T_OK(hre_ledger_submit_block(w, &st, b3, lb3, T0 + 1800));
    /* A sees the competing branch: equal work first, then heavier */
    HRE_T_OK(hre_ledger_submit_block(a, &st, b2, lb2, T0 + 1800));
    ck_assert_int_eq(st, HRE_LEDGER_SIDE_BRANCH);
    ck_assert_uint_eq(tip_height(a), 2);
    eca.connected = eca.disconnected = 0;
    HRE_T_OK(hre_ledger_submit_block(a, &st, b3, lb3, T0 + 1800));
    ck_assert_int_eq(st, HRE_LEDGER_REORGED);
    ck_assert_int_eq(eca.disconnected, 1);
    ck_assert_int_eq(eca.connected, 2);
    HRE_T_OK(hre_ledger_tip(a, NULL, ta));
    HRE_T_OK(hre_ledger_tip(b, NULL, tb));
    ck_assert_mem_eq(ta, tb, 32);
    state_hash(a, sha);
    state_hash(b, shb);
    state_hash(w, shw);
    ck_assert_mem_eq(sha, shb, 32);
    ck_assert_mem_eq(sha, shw, 32);
    /* losing branch: X back in the mempool, Z dropped (its sender is taken) */
    ck_assert_int_eq(hre_ledger_mempool_contains(a, x.id), 1);
    ck_assert_int_eq(hre_ledger_mempool_contains(a, z.id), 0);
    ck_assert_uint_eq(hre_ledger_mempool_count(a), 1);
    HRE_T_OK(hre_ledger_verify_chain(a, NULL, NULL, NULL));
    /* A mines X on the new tip; B accepts it */
    HRE_T_OK(hre_ledger_mine(a, NULL, NULL, T0 + 2400, HRE_POW_ALL_NONCES, 0));
    {
        size_t l4;
        uint8_t *b4 = get_block(a, 4, &l4);
        HRE_T_OK(hre_ledger_submit_block(b, &st, b4, l4, T0 + 2400));
        ck_assert_int_eq(st, HRE_LEDGER_CONNECTED);
        free(b4);
    }
    /* reopen A: same tip (the heaviest chain is chosen again) and state */
    state_hash(a, sha);
    hre_ledger_close(a);
    ck_assert_int_eq(open_ledger(&a, sa, &n, 0, NULL), HRE_OK);
    ck_assert_uint_eq(tip_height(a), 4);
    state_hash(a, shb);
    ck_assert_mem_eq(sha, shb, 32);

    /* a heavier branch with an invalid contract tx: the reorg fails, the
     * state is unchanged, the branch is marked invalid */
    {
        uint8_t tip2[32], buf[4096], h3[32];
        txb dup;
        const txb *v[1];
        size_t len;
        uint64_t height;
        hre_header hh;
        HRE_T_OK(hre_ledger_header_by_height(a, &hh, tip2, 2));
        HRE_T_OK(hre_ledger_header_by_height(a, &hh, NULL, 3));
        state_hash(a, sha);
        txb_patient(&dup, n.id, k[0], 0, T0 + 9); /* k[0] registered in block 1 */
        v[0] = &dup;
        len = build_block(buf, sizeof buf, tip2, hh.time + 1, EASY, v, 1, 1);
        HRE_T_OK(hre_ledger_submit_block(a, &st, buf, len, T0 + 5000));
        ck_assert_int_eq(st, HRE_LEDGER_SIDE_BRANCH);
        {
            hre_block *bb = NULL;
            HRE_T_OK(hre_block_decode(&bb, buf, len, NULL));
            HRE_T_OK(hre_header_hash(hre_block_header(bb), h3));
            hre_block_free(bb);
        }
        len = build_block(buf, sizeof buf, h3, hh.time + 2, EASY, NULL, 0, 1);
        HRE_T_OK(hre_ledger_submit_block(a, &st, buf, len, T0 + 5000));
        ck_assert_int_eq(st, HRE_LEDGER_SIDE_BRANCH); /* equal work: 4 vs 4 */
        {
            hre_block *bb = NULL;
            HRE_T_OK(hre_block_decode(&bb, buf, len, NULL));
            HRE_T_OK(hre_header_hash(hre_block_header(bb), h3));
            hre_block_free(bb);
        }
        len = build_block(buf, sizeof buf, h3, hh.time + 3, EASY, NULL, 0, 1);
        ck_assert_int_eq(hre_ledger_submit_block(a, &st, buf, len, T0 + 5000), HRE_EEXISTS);
        ck_assert_int_eq(st, HRE_LEDGER_REJECT_INVALID_PARENT);
        HRE_T_OK(hre_ledger_tip(a, &height, NULL));
        ck_assert_uint_eq(height, 4);
        state_hash(a, shb);
        ck_assert_mem_eq(sha, shb, 32);
        HRE_T_OK(hre_ledger_verify_chain(a, NULL, NULL, NULL));
        /* a child of the invalid branch is refused at once */
        {
            hre_block *bb = NULL;
            HRE_T_OK(hre_block_decode(&bb, buf, len, NULL));
            HRE_T_OK(hre_header_hash(hre_block_header(bb), h3));
            hre_block_free(bb);
        }
        len = build_block(buf, sizeof buf, h3, hh.time + 4, EASY, NULL, 0, 1);
        ck_assert_int_eq(hre_ledger_submit_block(a, &st, buf, len, T0 + 5000), HRE_EVERIFY);
        ck_assert_int_eq(st, HRE_LEDGER_REJECT_INVALID_PARENT);
    }
    hre_ledger_close(a);
    hre_ledger_close(b);
    hre_ledger_close(w);
    free(blk1);
    free(b2);
    free(b3);
    for (i = 0; i < 8; i++)
        hre_key_free(k[i]);
    hre_storage_free(sa);
    hre_storage_free(sb);
    hre_storage_free(sw);
    net_free(&n);
}
END_TEST

/* A reorg after a reopen (empty undo journal: the state is rebuilt from a
 * snapshot at the fork), and the fork-depth bound. */
START_TEST(test_deep_reorg_and_bounds)
{
    net n;
    hre_storage *sa = mem(), *sb = mem(), *sc = mem();
    hre_ledger *a = NULL, *b = NULL, *c = NULL;
    hre_key *k[6];
    uint8_t *blk, *a_blk[4], sha[32], shb[32], tipa[32], tipb[32];
    size_t len, a_len[4];
    hre_ledger_status st;
    hre_ledger_options o;
    int i;

    net_init(&n, 2016, 100000, 1000);
    for (i = 0; i < 6; i++)
        k[i] = new_key();
    ck_assert_int_eq(open_ledger(&a, sa, &n, 2, NULL), HRE_OK);
    ck_assert_int_eq(open_ledger(&b, sb, &n, 2, NULL), HRE_OK);
    for (i = 0; i < 4; i++) {
        txb t;
        txb_patient(&t, n.id, k[i], 0, T0);
        HRE_T_OK(hre_ledger_submit_tx(a, NULL, NULL, t.b, t.len, T0 + 10));
        HRE_T_OK(hre_ledger_mine(a, NULL, NULL, T0 + 600u * (uint64_t)(i + 1), HRE_POW_ALL_NONCES, 0));
        if (i < 2) {
            blk = get_block(a, (uint64_t)i + 1, &len);
            HRE_T_OK(hre_ledger_submit_block(b, &st, blk, len, T0 + 5000));
            free(blk);
        }
    }
    /* B: a heavier branch from height 2 (three blocks, other transactions) */
    for (i = 0; i < 3; i++) {
        txb t;
        txb_patient(&t, n.id, k[(i + 2) % 6 == 2 ? 4 : (i == 1 ? 5 : 3)], 0, T0 + 50);
        HRE_T_OK(hre_ledger_submit_tx(b, NULL, NULL, t.b, t.len, T0 + 10));
        HRE_T_OK(hre_ledger_mine(b, NULL, NULL, T0 + 1801 + 600u * (uint64_t)i, HRE_POW_ALL_NONCES, 0));
    }
    hre_ledger_close(a);
    /* reopen A: state from the snapshot at height 4, nothing to undo */
    ck_assert_int_eq(open_ledger(&a, sa, &n, 2, NULL), HRE_OK);
    for (i = 0; i < 4; i++)
        a_blk[i] = get_block(a, (uint64_t)i + 1, &a_len[i]);
    for (i = 3; i <= 5; i++) {
        blk = get_block(b, (uint64_t)i, &len);
        HRE_T_OK(hre_ledger_submit_block(a, &st, blk, len, T0 + 9000));
        ck_assert_int_eq(st, i < 5 ? HRE_LEDGER_SIDE_BRANCH : HRE_LEDGER_REORGED);
        free(blk);
    }
    HRE_T_OK(hre_ledger_tip(a, NULL, tipa));
    HRE_T_OK(hre_ledger_tip(b, NULL, tipb));
    ck_assert_mem_eq(tipa, tipb, 32);
    state_hash(a, sha);
    state_hash(b, shb);
    ck_assert_mem_eq(sha, shb, 32);
    HRE_T_OK(hre_ledger_verify_chain(a, NULL, NULL, NULL));
    /* the old branch's transactions: patient 2's is valid again and back in
     * the mempool; patient 3 registered on the new branch too (other txid) */
    ck_assert_uint_eq(hre_ledger_mempool_count(a), 1);


    /* fork-depth bound: max_reorg_depth 2 */
    HRE_T_OK(hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    o.storage = sc;
    o.params = &n.params;
    memcpy(o.authority_key, n.auth_wire, 34);
    o.max_reorg_depth = 2;
    o.max_orphans = 2;
    o.mempool_max_txs = 2;
    HRE_T_OK(hre_ledger_open(&c, &o));
    /* mempool bound */
    {
        hre_key *m[3];
        for (i = 0; i < 3; i++) {
            txb t;
            m[i] = new_key();
            txb_patient(&t, n.id, m[i], 0, T0);
            ck_assert_int_eq(hre_ledger_submit_tx(c, NULL, &st, t.b, t.len, T0 + 10),
                             i < 2 ? HRE_OK : HRE_ELIMIT);
            ck_assert_int_eq(st, i < 2 ? HRE_LEDGER_ACCEPTED_TX : HRE_LEDGER_REJECT_BOUND);
        }
        ck_assert_uint_eq(hre_ledger_mempool_count(c), 2);
        for (i = 0; i < 3; i++)
            hre_key_free(m[i]);
    }
    for (i = 1; i <= 5; i++) {
        blk = get_block(b, (uint64_t)i, &len);
        HRE_T_OK(hre_ledger_submit_block(c, &st, blk, len, T0 + 9000));
        free(blk);
    }
    {
        uint8_t buf[512], h1[32];
        hre_header hh;
        HRE_T_OK(hre_ledger_header_by_height(c, &hh, h1, 1));
        len = build_block(buf, sizeof buf, h1, hh.time + 1, EASY, NULL, 0, 1);
        ck_assert_int_eq(hre_ledger_submit_block(c, &st, buf, len, T0 + 9000), HRE_ELIMIT);
        ck_assert_int_eq(st, HRE_LEDGER_REJECT_FORK_TOO_DEEP);
        /* orphan pool bound: the oldest is evicted, nothing crashes */
        for (i = 0; i < 4; i++) {
            uint8_t prev[32];
            memset(prev, 0x11 * (i + 1), 32);
            len = build_block(buf, sizeof buf, prev, T0 + 100u + (uint32_t)i, EASY, NULL, 0, 1);
            HRE_T_OK(hre_ledger_submit_block(c, &st, buf, len, T0 + 9000));
            ck_assert_int_eq(st, HRE_LEDGER_ORPHAN);
        }
        ck_assert_int_eq(hre_ledger_submit_block(c, &st, buf, len, T0 + 9000), HRE_EEXISTS);
        ck_assert_int_eq(st, HRE_LEDGER_REJECT_DUPLICATE);
    }
    /* side-branch bound: max_side_blocks 1. On A's old chain (height 4), B's
     * block 3 is stored as a side branch; B's block 4 would be a second
     * side block and is refused, with tip and state unchanged. */
    {
        hre_storage *sd = mem();
        hre_ledger *d = NULL;
        uint8_t tip0[32], tip1[32], sh0[32], sh1[32];
        HRE_T_OK(hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
        o.storage = sd;
        o.params = &n.params;
        memcpy(o.authority_key, n.auth_wire, 34);
        o.max_side_blocks = 1;
        HRE_T_OK(hre_ledger_open(&d, &o));
        for (i = 0; i < 4; i++) {
            HRE_T_OK(hre_ledger_submit_block(d, &st, a_blk[i], a_len[i], T0 + 9000));
            ck_assert_int_eq(st, HRE_LEDGER_CONNECTED);
        }
        HRE_T_OK(hre_ledger_tip(d, NULL, tip0));
        state_hash(d, sh0);
        blk = get_block(b, 3, &len);
        HRE_T_OK(hre_ledger_submit_block(d, &st, blk, len, T0 + 9000));
        ck_assert_int_eq(st, HRE_LEDGER_SIDE_BRANCH);
        free(blk);
        blk = get_block(b, 4, &len);
        ck_assert_int_eq(hre_ledger_submit_block(d, &st, blk, len, T0 + 9000), HRE_ELIMIT);
        ck_assert_int_eq(st, HRE_LEDGER_REJECT_BOUND);
        ck_assert_ptr_nonnull(strstr(hre_error_detail(), "side-branch bound"));
        free(blk);
        HRE_T_OK(hre_ledger_tip(d, NULL, tip1));
        state_hash(d, sh1);
        ck_assert_mem_eq(tip0, tip1, 32);
        ck_assert_mem_eq(sh0, sh1, 32);
        hre_ledger_close(d);
        hre_storage_free(sd);
    }
    for (i = 0; i < 4; i++)
        free(a_blk[i]);
    hre_ledger_close(a);
    hre_ledger_close(b);
    hre_ledger_close(c);
    for (i = 0; i < 6; i++)
        hre_key_free(k[i]);
    hre_storage_free(sa);
    hre_storage_free(sb);
    hre_storage_free(sc);
    net_free(&n);
}
END_TEST

/* Small segments: blocks roll over several segment files; reopen with the
 * index, and with the index rebuilt from every segment. */
START_TEST(test_segments_roll)
{
    net n;
    hre_storage *st = mem();
    hre_ledger *l = NULL;
    hre_ledger_options o;
    hre_key *k[8];
    uint8_t sh[32], sh2[32];
    int i, pass;

    net_init(&n, 2016, 100000, 1000);
    HRE_T_OK(hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    o.storage = st;
    o.params = &n.params;
    memcpy(o.authority_key, n.auth_wire, 34);
    o.segment_size = 500;
    o.compress_level = -1;
    o.snapshot_interval = HRE_LEDGER_SNAPSHOTS_OFF;
    HRE_T_OK(hre_ledger_open(&l, &o));
    mine_new_patients(l, &n, k, 8);
    state_hash(l, sh);
    hre_ledger_close(l);
    ck_assert_uint_gt(file_size(st, "blk-00003.dat"), 0);
    for (pass = 0; pass < 2; pass++) {
        if (pass == 1)
            HRE_T_OK(hre_storage_remove(st, "blkindex.dat"));
        HRE_T_OK(hre_ledger_open(&l, &o));
        ck_assert_uint_eq(tip_height(l), 8);
        state_hash(l, sh2);
        ck_assert_mem_eq(sh, sh2, 32);
        HRE_T_OK(hre_ledger_verify_chain(l, NULL, NULL, NULL));
        hre_ledger_close(l);
    }
    /* a longer chain (more blocks than any initial array size) reopens */
    HRE_T_OK(hre_ledger_open(&l, &o));
    for (i = 0; i < 600; i++)
        HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 6000u + 600u * (uint64_t)i, HRE_POW_ALL_NONCES, HRE_LEDGER_MINE_ALLOW_EMPTY));
    ck_assert_uint_eq(tip_height(l), 608);
    state_hash(l, sh);
    hre_ledger_close(l);
    HRE_T_OK(hre_ledger_open(&l, &o));
    ck_assert_uint_eq(tip_height(l), 608);
    state_hash(l, sh2);
    ck_assert_mem_eq(sh, sh2, 32);
    hre_ledger_close(l);
    /* a missing middle segment is corruption */
    HRE_T_OK(hre_storage_remove(st, "blk-00001.dat"));
    ck_assert_int_eq(hre_ledger_open(&l, &o), HRE_ECORRUPT);
    for (i = 0; i < 8; i++)
        hre_key_free(k[i]);
    hre_storage_free(st);
    net_free(&n);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Damage                                                                    */
/* ------------------------------------------------------------------------ */

START_TEST(test_damage)
{
    net n;
    hre_storage *st = mem();
    hre_ledger *l = NULL;
    hre_key *k[8];
    uint8_t ref[32], sh[32];
    uint64_t ref_tip, seg_size;
    int i, trial, detected_open = 0, detected_verify = 0;

    hre_t_reseed(hre_t_seed() ^ 0x5eed);
    net_init(&n, 2016, 100000, 1000);
    ck_assert_int_eq(open_ledger(&l, st, &n, 2, NULL), HRE_OK);
    mine_new_patients(l, &n, k, 8);
    ref_tip = tip_height(l);
    state_hash(l, ref);
    hre_ledger_close(l);
    seg_size = file_size(st, "blk-00000.dat");

    /* random byte damage in the segment: detected at open or by verify-chain */
    for (trial = 0; trial < 40; trial++) {
        hre_storage *c = copy_storage(st);
        uint64_t pos = hre_t_rand_below(seg_size), bad = 0;
        int rc;
        flip_byte(c, "blk-00000.dat", pos, (uint8_t)(1u << hre_t_rand_below(8)));
        rc = open_ledger(&l, c, &n, 2, NULL);
        if (rc != HRE_OK) {
            ck_assert_msg(rc == HRE_ECORRUPT, "open after damage at %llu: %d (%s)",
                          (unsigned long long)pos, rc, hre_error_detail());
            detected_open++;
        } else {
            rc = hre_ledger_verify_chain(l, &bad, NULL, NULL);
            ck_assert_msg(rc != HRE_OK, "damage at %llu not detected", (unsigned long long)pos);
            ck_assert_uint_ge(bad, 1);
            ck_assert_uint_le(bad, ref_tip);
            detected_verify++;
            hre_ledger_close(l);
        }
        hre_storage_free(c);
    }
    ck_assert_int_eq(detected_open + detected_verify, 40);

    /* a damaged newest snapshot falls back to the older one; both damaged:
     * replay from genesis. Same tip and state either way. */
    {
        const char *s8 = "snap-0000000000000008.dat", *s6 = "snap-0000000000000006.dat";
        hre_storage *c = copy_storage(st);
        flip_byte(c, s8, hre_t_rand_below(file_size(c, s8)), 0x10);
        ck_assert_int_eq(open_ledger(&l, c, &n, 0xffffffffu, NULL), HRE_OK);
        ck_assert_uint_eq(tip_height(l), ref_tip);
        state_hash(l, sh);
        ck_assert_mem_eq(sh, ref, 32);
        hre_ledger_close(l);
        flip_byte(c, s6, hre_t_rand_below(file_size(c, s6)), 0x02);
        ck_assert_int_eq(open_ledger(&l, c, &n, 0xffffffffu, NULL), HRE_OK);
        ck_assert_uint_eq(tip_height(l), ref_tip);
        state_hash(l, sh);
        ck_assert_mem_eq(sh, ref, 32);
        HRE_T_OK(hre_ledger_verify_chain(l, NULL, NULL, NULL));
        hre_ledger_close(l);
        hre_storage_free(c);
    }
    /* a damaged or missing index is rebuilt from the segments */
    {
        hre_storage *c = copy_storage(st);
        flip_byte(c, "blkindex.dat", file_size(c, "blkindex.dat") / 3, 0x80);
        ck_assert_int_eq(open_ledger(&l, c, &n, 2, NULL), HRE_OK);
        ck_assert_uint_eq(tip_height(l), ref_tip);
        state_hash(l, sh);
        ck_assert_mem_eq(sh, ref, 32);
        hre_ledger_close(l);
        HRE_T_OK(hre_storage_remove(c, "blkindex.dat"));
        ck_assert_int_eq(open_ledger(&l, c, &n, 2, NULL), HRE_OK);
        ck_assert_uint_eq(tip_height(l), ref_tip);
        hre_ledger_close(l);
        /* params.dat damaged: corruption, not a crash */
        flip_byte(c, "params.dat", 20, 0x01);
        ck_assert_int_eq(open_ledger(&l, c, &n, 2, NULL), HRE_ECORRUPT);
        hre_storage_free(c);
    }
    /* a torn tail (a partial record at the end) is cut off on open */
    {
        hre_storage *c = copy_storage(st);
        hre_storage_file *f = NULL;
        uint8_t junk[37];
        memset(junk, 0x5a, sizeof junk);
        HRE_T_OK(hre_storage_file_open(&f, c, "blk-00000.dat", HRE_STORAGE_WRITE));
        HRE_T_OK(hre_storage_file_append(f, NULL, junk, sizeof junk));
        hre_storage_file_close(f);
        ck_assert_int_eq(open_ledger(&l, c, &n, 2, NULL), HRE_OK);
        ck_assert_uint_eq(tip_height(l), ref_tip);
        ck_assert_uint_eq(file_size(c, "blk-00000.dat"), seg_size);
        HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 100000, HRE_POW_ALL_NONCES, HRE_LEDGER_MINE_ALLOW_EMPTY));
        hre_ledger_close(l);
        ck_assert_int_eq(open_ledger(&l, c, &n, 2, NULL), HRE_OK);
        ck_assert_uint_eq(tip_height(l), ref_tip + 1);
        hre_ledger_close(l);
        hre_storage_free(c);
    }
    for (i = 0; i < 8; i++)
        hre_key_free(k[i]);
    hre_storage_free(st);
    net_free(&n);
}
END_TEST

/* Rule 4: a successful call leaves hre_error_last() == HRE_OK even when the
 * library met and handled failures inside it. The issue's example: opening
 * a ledger on an empty storage looks for blkindex.dat, which is missing
 * (an internal HRE_ENOTFOUND); the open succeeds and must not report it. */
START_TEST(test_error_clear_after_success)
{
    net n;
    hre_storage *st = mem();
    hre_ledger *l = NULL;
    hre_key *k[1];
    uint8_t junk[3] = {1, 2, 3};
    net_init(&n, 2016, 100000, 1000);
    /* a failure first, so there is something to clear */
    ck_assert_int_eq(hre_ledger_submit_block(NULL, NULL, junk, sizeof junk, T0), HRE_EINVAL);
    ck_assert_int_eq(hre_error_last(), HRE_EINVAL);
    ck_assert_int_eq(open_ledger(&l, st, &n, 0, NULL), HRE_OK);
    ck_assert_int_eq(hre_error_last(), HRE_OK);
    ck_assert_str_eq(hre_error_detail(), "");
    mine_new_patients(l, &n, k, 1);
    ck_assert_int_eq(hre_error_last(), HRE_OK);
    /* reopen (index present now), query, snapshot, verify */
    hre_ledger_close(l);
    ck_assert_int_eq(hre_ledger_tip(NULL, NULL, NULL), HRE_EINVAL);
    HRE_T_OK(open_ledger(&l, st, &n, 0, NULL));
    ck_assert_int_eq(hre_ledger_header_by_height(l, NULL, NULL, 9), HRE_EINVAL);
    HRE_T_OK(hre_ledger_snapshot(l));
    ck_assert_int_eq(hre_ledger_block_by_height(l, NULL, NULL, 99), HRE_EINVAL);
    HRE_T_OK(hre_ledger_verify_chain(l, NULL, NULL, NULL));
    /* a failing call keeps its own error; a void call leaves it alone */
    ck_assert_int_eq(hre_ledger_submit_block(l, NULL, junk, sizeof junk, T0), HRE_EDECODE);
    ck_assert_uint_eq(hre_ledger_mempool_count(l), 0);
    ck_assert_int_eq(hre_error_last(), HRE_EDECODE);
    hre_ledger_close(l);
    hre_key_free(k[0]);
    hre_storage_free(st);
    net_free(&n);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Options versions and the log hook                                         */
/* ------------------------------------------------------------------------ */

typedef struct loglines {
    char line[64][512];
    int level[64];
    int n;
} loglines;

static void collect_log(void *u, int level, const char *msg)
{
    loglines *ll = u;
    ck_assert(level >= HRE_LOG_ERROR && level <= HRE_LOG_DEBUG);
    ck_assert_uint_lt(strlen(msg), 512);
    if (ll->n < 64) {
        snprintf(ll->line[ll->n], sizeof ll->line[0], "%s", msg);
        ll->level[ll->n++] = level;
    }
}

/* The first line containing `part`, at `level`; -1 if none. */
static int log_find(const loglines *ll, int level, const char *part)
{
    for (int i = 0; i < ll->n; i++)
        if (ll->level[i] == level && strstr(ll->line[i], part)) return i;
    return -1;
}

START_TEST(test_log_hook)
{
    net n;
    hre_storage *st = mem(), *st2 = mem();
    hre_ledger *l = NULL, *b = NULL;
    hre_ledger_options o;
    hre_ledger_status status;
    loglines ll;
    uint8_t buf[1 << 16], tip[32], *blk;
    size_t len;
    hre_key *k[2];

    memset(&ll, 0, sizeof ll);
    net_init(&n, 2016, 100000, 1000);
    HRE_T_OK(hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    o.storage = st;
    o.params = &n.params;
    memcpy(o.authority_key, n.auth_wire, 34);
    o.log_fn = collect_log;
    o.log_user_data = &ll;
    HRE_T_OK(hre_ledger_open(&l, &o));
    /* open summary */
    ck_assert_int_ge(log_find(&ll, HRE_LOG_INFO, "ledger open: network"), 0);
    ck_assert_int_ge(log_find(&ll, HRE_LOG_INFO, "tip height 0"), 0);
    /* a block with a bad proof of work is rejected, with its reason */
    mine_new_patients(l, &n, k, 1);
    HRE_T_OK(hre_ledger_tip(l, NULL, tip));
    len = build_block(buf, sizeof buf, tip, T0 + 5000, 0x03000001u, NULL, 0, 0);
    ck_assert_int_ne(hre_ledger_submit_block(l, &status, buf, len, T0 + 5000), HRE_OK);
    ck_assert_int_ge(log_find(&ll, HRE_LOG_WARN, "rejected: reject-"), 0);
    /* a snapshot */
    HRE_T_OK(hre_ledger_snapshot(l));
    ck_assert_int_ge(log_find(&ll, HRE_LOG_INFO, "snapshot written: snap-"), 0);
    /* a reorg: a second ledger mines a longer branch from genesis */
    ck_assert_int_eq(open_ledger(&b, st2, &n, 0, NULL), HRE_OK);
    mine_new_patients(b, &n, &k[1], 1);
    HRE_T_OK(hre_ledger_mine(b, NULL, NULL, T0 + 9000, HRE_POW_ALL_NONCES, HRE_LEDGER_MINE_ALLOW_EMPTY));
    for (uint64_t h = 1; h <= 2; h++) {
        blk = get_block(b, h, &len);
        HRE_T_OK(hre_ledger_submit_block(l, &status, blk, len, T0 + 9000));
        free(blk);
    }
    ck_assert_int_eq(status, HRE_LEDGER_REORGED);
    ck_assert_int_ge(log_find(&ll, HRE_LOG_INFO, "reorg at fork height 0"), 0);
    hre_ledger_close(l);
    hre_ledger_close(b);
    /* reopen: the summary says where the state came from */
    ll.n = 0;
    HRE_T_OK(hre_ledger_open(&l, &o));
    ck_assert_int_ge(log_find(&ll, HRE_LOG_INFO, "tip height 2"), 0);
    hre_ledger_close(l);
    /* no hook, no calls (and no crash) */
    o.log_fn = NULL;
    ll.n = 0;
    HRE_T_OK(hre_ledger_open(&l, &o));
    ck_assert_int_eq(ll.n, 0);
    hre_ledger_close(l);
    hre_key_free(k[0]);
    hre_key_free(k[1]);
    hre_storage_free(st);
    hre_storage_free(st2);
    net_free(&n);
}
END_TEST

/* Options version 1 (no log hook) still opens, read only up to its last
 * field (the struct lives in an allocation of exactly that size); 0 and
 * newer versions are refused; _init writes only its version's fields. */
START_TEST(test_options_versions)
{
    net n;
    hre_storage *st = mem();
    hre_ledger *l = NULL;
    const size_t v1 = offsetof(hre_ledger_options, log_fn);
    hre_ledger_options full, *o1 = malloc(v1);
    struct {
        hre_ledger_options o;
        uint8_t guard[16];
    } box;

    net_init(&n, 2016, 100000, 1000);
    memset(&box, 0xa5, sizeof box);
    HRE_T_OK(hre_ledger_options_init(&box.o, 1));
    for (size_t i = v1; i < sizeof box; i++) ck_assert_uint_eq(((uint8_t *)&box)[i], 0xa5);
    HRE_T_OK(hre_ledger_options_init(&full, HRE_LEDGER_OPTIONS_VERSION));
    full.version = 1;
    full.storage = st;
    full.params = &n.params;
    memcpy(full.authority_key, n.auth_wire, 34);
    memcpy(o1, &full, v1);
    HRE_T_OK(hre_ledger_open(&l, o1));
    hre_ledger_close(l);
    full.version = 0;
    ck_assert_int_eq(hre_ledger_open(&l, &full), HRE_EUNSUPPORTED);
    ck_assert_ptr_null(l);
    full.version = HRE_LEDGER_OPTIONS_VERSION + 1;
    ck_assert_int_eq(hre_ledger_open(&l, &full), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_ledger_options_init(&full, 0), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_ledger_options_init(&full, HRE_LEDGER_OPTIONS_VERSION + 1), HRE_EUNSUPPORTED);
    /* params of an unknown version are refused too */
    full.version = HRE_LEDGER_OPTIONS_VERSION;
    n.params.version = HRE_CHAIN_PARAMS_VERSION + 1;
    ck_assert_int_eq(hre_ledger_open(&l, &full), HRE_EUNSUPPORTED);
    free(o1);
    hre_storage_free(st);
    net_free(&n);
}
END_TEST

/* hre_ledger_contract takes a non-const ledger (it undoes the mempool
 * overlay) and reports failure by its result: the tip state excludes the
 * mempool. */
START_TEST(test_contract_view)
{
    net n;
    hre_storage *st = mem();
    hre_ledger *l = NULL;
    const hre_contract *c = (const hre_contract *)1;
    hre_contract_stats s1 = HRE_CONTRACT_STATS_INIT, s2 = HRE_CONTRACT_STATS_INIT;
    hre_key *k = new_key();
    txb t;
    net_init(&n, 2016, 100000, 1000);
    ck_assert_int_eq(open_ledger(&l, st, &n, 0, NULL), HRE_OK);
    ck_assert_int_eq(hre_ledger_contract(NULL, &c), HRE_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(hre_ledger_contract(l, NULL), HRE_EINVAL);
    HRE_T_OK(hre_ledger_contract(l, &c));
    HRE_T_OK(hre_contract_stats_get(c, &s1));
    txb_patient(&t, n.id, k, 0, T0);
    HRE_T_OK(hre_ledger_submit_tx(l, NULL, NULL, t.b, t.len, T0 + 10));
    HRE_T_OK(hre_ledger_contract(l, &c));
    HRE_T_OK(hre_contract_stats_get(c, &s2));
    ck_assert_uint_eq(s2.accounts, s1.accounts);        /* the mempool patient is not in it */
    HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 600, HRE_POW_ALL_NONCES, 0));
    HRE_T_OK(hre_ledger_contract(l, &c));
    HRE_T_OK(hre_contract_stats_get(c, &s2));
    ck_assert_uint_eq(s2.accounts, s1.accounts + 1);
    /* mining with 0 tries tries none (one meaning of max_tries) */
    ck_assert_int_eq(hre_ledger_mine(l, NULL, NULL, T0 + 1200, 0, HRE_LEDGER_MINE_ALLOW_EMPTY), HRE_EEXHAUSTED);
    hre_ledger_close(l);
    hre_key_free(k);
    hre_storage_free(st);
    net_free(&n);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Power loss and faults through the public power-loss backend               */
/* (hre/sys/powerloss.h): run black-box against libhre.so and white-box      */
/* ------------------------------------------------------------------------ */

#define WL_BLOCKS 6
#define WL_TXS 2

typedef struct workload {
    net n;
    hre_key *k[WL_BLOCKS * WL_TXS];
    txb tx[WL_BLOCKS * WL_TXS];
    uint8_t ref_hash[WL_BLOCKS + 1][32];
    uint8_t ref_state[WL_BLOCKS + 1][32];
} workload;

static workload *g_wl;

static void wl_init(void)
{
    int i;
    g_wl = calloc(1, sizeof *g_wl);
    g_segment_size = 600; /* a new segment every two blocks */
    net_init(&g_wl->n, 2016, 100000, 1000);
    for (i = 0; i < WL_BLOCKS * WL_TXS; i++) {
        g_wl->k[i] = new_key();
        txb_patient(&g_wl->tx[i], g_wl->n.id, g_wl->k[i], 0, T0);
    }
}

static void wl_free(void)
{
    int i;
    for (i = 0; i < WL_BLOCKS * WL_TXS; i++)
        hre_key_free(g_wl->k[i]);
    net_free(&g_wl->n);
    free(g_wl);
    g_wl = NULL;
    g_segment_size = 0;
}

/* Run the scripted workload. Each step is retried `retries` times (faults are
 * transient). *connected = blocks reported connected. Returns the first
 * error that persisted, or HRE_OK. With record != 0 the reference hashes and
 * states are stored. */
static int wl_run(hre_storage *st, int retries, int *connected, int *first_err, int record)
{
    hre_ledger *l = NULL;
    int b, i, rc = HRE_OK, tries;
    *connected = 0;
    for (tries = 0; tries <= retries; tries++) {
        rc = open_ledger(&l, st, &g_wl->n, 2, NULL);
        if (rc == HRE_OK)
            break;
        if (first_err && !*first_err)
            *first_err = rc;
    }
    if (rc != HRE_OK)
        return rc;
    if (record) {
        HRE_T_OK(hre_ledger_tip(l, NULL, g_wl->ref_hash[0]));
        state_hash(l, g_wl->ref_state[0]);
    }
    for (b = 0; b < WL_BLOCKS; b++) {
        uint8_t hash[32];
        for (i = 0; i < WL_TXS; i++) {
            const txb *t = &g_wl->tx[b * WL_TXS + i];
            if (hre_ledger_mempool_contains(l, t->id))
                continue;
            rc = hre_ledger_submit_tx(l, NULL, NULL, t->b, t->len, T0 + 10);
            if (rc == HRE_ESTATE)
                rc = HRE_OK; /* already in a block */
            ck_assert_int_eq(rc, HRE_OK);
        }
        for (tries = 0; tries <= retries; tries++) {
            rc = hre_ledger_mine(l, hash, NULL, T0 + 600u * (uint64_t)(b + 1), HRE_POW_ALL_NONCES, 0);
            if (rc == HRE_OK)
                break;
            if (first_err && !*first_err)
                *first_err = rc;
            ck_assert_str_ne(hre_error_detail(), ""); /* a clear error */
            /* still readable after a failure */
            {
                uint64_t h, k;
                hre_header hdr;
                HRE_T_OK(hre_ledger_tip(l, &h, NULL));
                for (k = 0; k <= h; k++)
                    HRE_T_OK(hre_ledger_header_by_height(l, &hdr, NULL, k));
            }
        }
        if (rc != HRE_OK)
            break;
        (*connected)++;
        if (record) {
            memcpy(g_wl->ref_hash[b + 1], hash, 32);
            state_hash(l, g_wl->ref_state[b + 1]);
        } else {
            ck_assert_mem_eq(hash, g_wl->ref_hash[b + 1], 32);
        }
    }
    hre_ledger_close(l);
    return rc;
}

/* Reopen on the inner storage and check: every block reported connected is
 * there, every block is the reference one, the state is the reference state
 * (= a fresh replay), verify-chain passes. */
static void wl_check(hre_storage *inner, int connected, const char *what, uint64_t point)
{
    hre_ledger *l = NULL;
    uint64_t tip, h;
    uint8_t hash[32], sh[32];
    hre_header hdr;
    int rc = open_ledger(&l, inner, &g_wl->n, 2, NULL);
    ck_assert_msg(rc == HRE_OK, "%s %llu: reopen failed: %d (%s)", what, (unsigned long long)point,
                  rc, hre_error_detail());
    HRE_T_OK(hre_ledger_tip(l, &tip, NULL));
    ck_assert_msg(tip >= (uint64_t)connected, "%s %llu: tip %llu < %d connected", what,
                  (unsigned long long)point, (unsigned long long)tip, connected);
    ck_assert_uint_le(tip, WL_BLOCKS);
    for (h = 0; h <= tip; h++) {
        HRE_T_OK(hre_ledger_header_by_height(l, &hdr, hash, h));
        ck_assert_mem_eq(hash, g_wl->ref_hash[h], 32);
    }
    state_hash(l, sh);
    ck_assert_mem_eq(sh, g_wl->ref_state[tip], 32);
    HRE_T_OK(hre_ledger_verify_chain(l, NULL, NULL, NULL));
    hre_ledger_close(l);
}

START_TEST(test_power_loss)
{
    hre_storage *inner, *pl;
    hre_powerloss_options o;
    uint64_t syncs, calls, k;
    int connected, r;

    wl_init();
    /* reference run (plain memory) and the number of sync points / calls */
    inner = mem();
    ck_assert_int_eq(wl_run(inner, 0, &connected, NULL, 1), HRE_OK);
    ck_assert_int_eq(connected, WL_BLOCKS);
    hre_storage_free(inner);
    inner = mem();
    HRE_T_OK(hre_powerloss_new(&pl, inner, NULL));
    ck_assert_int_eq(wl_run(pl, 0, &connected, NULL, 0), HRE_OK);
    syncs = hre_t_pl_syncs(pl);
    calls = hre_t_pl_calls(pl);
    hre_storage_free(pl);
    hre_storage_free(inner);
    ck_assert_uint_gt(syncs, WL_BLOCKS);
    fprintf(stderr, "ledger power loss: %llu sync points, %llu storage calls per workload\n",
            (unsigned long long)syncs, (unsigned long long)calls);

    /* cut at every sync point in turn (only synced data survives) */
    for (k = 1; k <= syncs; k++) {
        HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
        o.crash_at_sync = k;
        o.mode = HRE_POWERLOSS_DROP;
        inner = mem();
        HRE_T_OK(hre_powerloss_new(&pl, inner, &o));
        (void)wl_run(pl, 0, &connected, NULL, 0);
        ck_assert_int_eq(hre_t_pl_crashed(pl), 1);
        hre_storage_free(pl);
        wl_check(inner, connected, "crash at sync", k);
        hre_storage_free(inner);
    }
    /* 200 seeded random points, unsynced writes torn */
    hre_t_reseed(hre_t_seed() ^ 0x9077e7);
    for (r = 0; r < 200; r++) {
        HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
        o.crash_at_call = 1 + hre_t_rand_below(calls);
        o.seed = hre_t_rand();
        o.mode = (r % 4 == 3) ? HRE_POWERLOSS_DROP : HRE_POWERLOSS_TEAR;
        inner = mem();
        HRE_T_OK(hre_powerloss_new(&pl, inner, &o));
        (void)wl_run(pl, 0, &connected, NULL, 0);
        hre_storage_free(pl);
        wl_check(inner, connected, "crash at call", o.crash_at_call);
        hre_storage_free(inner);
    }
    wl_free();
}
END_TEST

START_TEST(test_faults)
{
    hre_storage *inner, *pl;
    hre_powerloss_options o;
    uint64_t calls, k;
    int connected, rc;

    wl_init();
    inner = mem();
    ck_assert_int_eq(wl_run(inner, 0, &connected, NULL, 1), HRE_OK);
    hre_storage_free(inner);
    inner = mem();
    HRE_T_OK(hre_powerloss_new(&pl, inner, NULL));
    ck_assert_int_eq(wl_run(pl, 0, &connected, NULL, 0), HRE_OK);
    calls = hre_t_pl_calls(pl);
    hre_storage_free(pl);
    hre_storage_free(inner);

    fprintf(stderr, "ledger faults: injecting at each of %llu storage calls\n",
            (unsigned long long)calls);
    for (k = 1; k <= calls; k++) {
        int first = 0;
        HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
        o.fail_at_call = k;
        o.fail_count = 1;
        o.fail_code = (k & 1) ? HRE_EIO : HRE_ENOSPC;
        o.fail_partial = 1;
        o.seed = k;
        inner = mem();
        HRE_T_OK(hre_powerloss_new(&pl, inner, &o));
        /* the fault is transient: the failing step is retried and the
         * whole workload completes with the reference blocks */
        rc = wl_run(pl, 1, &connected, &first, 0);
        ck_assert_msg(rc == HRE_OK, "fault at call %llu: workload failed: %d (%s)",
                      (unsigned long long)k, rc, hre_error_detail());
        /* (a backend ENOSPC from a call that cannot run out of space is
         * reported as EIO by the storage layer) */
        ck_assert_msg(first == 0 || first == o.fail_code || first == HRE_EIO,
                      "fault at call %llu: error %d (%s), want %d", (unsigned long long)k, first,
                      hre_strerror(first), o.fail_code);
        ck_assert_int_eq(connected, WL_BLOCKS);
        hre_storage_free(pl);
        wl_check(inner, connected, "fault at call", k);
        hre_storage_free(inner);
    }
    wl_free();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Issue 9, defect 1.1: a hostile batch cannot overflow the stack            */
/* ------------------------------------------------------------------------ */

/* Open with explicit bounds (0 = the default). */
static int open_bounds(hre_ledger **l, hre_storage *st, const net *n, uint32_t max_orphans,
                       uint32_t max_side, uint32_t max_reorg)
{
    hre_ledger_options o;
    HRE_T_OK(hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    o.storage = st;
    o.params = &n->params;
    memcpy(o.authority_key, n->auth_wire, 34);
    o.snapshot_interval = HRE_LEDGER_SNAPSHOTS_OFF;
    o.max_orphans = max_orphans;
    o.max_side_blocks = max_side;
    o.max_reorg_depth = max_reorg;
    return hre_ledger_open(l, &o);
}

/* k empty blocks, each on the one before (the first on parent), at times
 * t0, t0 + step, ...; one buffer; ptrs/lens/hashes filled. */
typedef struct blockset {
    size_t k;
    uint8_t *buf;
    const uint8_t **ptrs;
    size_t *lens;
    uint8_t (*hashes)[32];
} blockset;

static void blockset_chain(blockset *bs, const uint8_t parent[32], uint32_t t0, uint32_t step,
                           size_t k, int siblings)
{
    size_t i;
    bs->k = k;
    bs->buf = malloc(k * 96);
    bs->ptrs = malloc(k * sizeof *bs->ptrs);
    bs->lens = malloc(k * sizeof *bs->lens);
    bs->hashes = malloc(k * 32);
    ck_assert(bs->buf && bs->ptrs && bs->lens && bs->hashes);
    for (i = 0; i < k; i++) {
        const uint8_t *p = (siblings || i == 0) ? parent : bs->hashes[i - 1];
        uint8_t *out = bs->buf + i * 96;
        bs->lens[i] = build_block(out, 96, p, t0 + (uint32_t)i * step, EASY, NULL, 0, 1);
        bs->ptrs[i] = out;
        HRE_T_OK(hre_sha256d(bs->hashes[i], out, HRE_HEADER_LEN));
    }
}

static void blockset_reverse(blockset *bs)
{
    size_t i;
    for (i = 0; i < bs->k / 2; i++) {
        const uint8_t *p = bs->ptrs[i];
        size_t len = bs->lens[i];
        bs->ptrs[i] = bs->ptrs[bs->k - 1 - i];
        bs->lens[i] = bs->lens[bs->k - 1 - i];
        bs->ptrs[bs->k - 1 - i] = p;
        bs->lens[bs->k - 1 - i] = len;
    }
}

static void blockset_free(blockset *bs)
{
    free(bs->buf);
    free(bs->ptrs);
    free(bs->lens);
    free(bs->hashes);
}

/* One hre_ledger_submit_blocks call on a thread with a small stack. */
typedef struct batch_job {
    hre_ledger *l;
    const blockset *bs;
    uint64_t now;
    size_t connected;
    hre_ledger_status st;
    int rc;
    char why[256];
} batch_job;

static void *batch_thread(void *arg)
{
    batch_job *j = arg;
    j->rc = hre_ledger_submit_blocks(j->l, &j->connected, &j->st, j->bs->ptrs, j->bs->lens,
                                     j->bs->k, j->now);
    snprintf(j->why, sizeof j->why, "%s", hre_error_detail());
    return NULL;
}

#define SMALL_STACK (256u * 1024u)

static void batch_small_stack(batch_job *j)
{
    pthread_attr_t a;
    pthread_t th;
    ck_assert_int_eq(pthread_attr_init(&a), 0);
    ck_assert_int_eq(pthread_attr_setstacksize(&a, SMALL_STACK), 0);
    ck_assert_int_eq(pthread_create(&th, &a, batch_thread, j), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    pthread_attr_destroy(&a);
}

START_TEST(test_batch_small_stack)
{
    enum { K = 20000 };
    net n;
    hre_storage *st = mem();
    hre_ledger *l = NULL;
    blockset chain, side;
    batch_job j;
    uint8_t tip[32];

    net_init(&n, 1000000, 100000, 1000);   /* no retarget within the chain */
    ck_assert_int_eq(open_bounds(&l, st, &n, K + 10, K + 10, 0), HRE_OK);
    /* K blocks, child first: K - 1 orphans, then the first block, whose
     * arrival resolves the whole chain */
    blockset_chain(&chain, n.id, T0 + 600, 600, K, 0);
    blockset_reverse(&chain);
    memset(&j, 0, sizeof j);
    j.l = l;
    j.bs = &chain;
    j.now = T0 + 600u * (uint64_t)(K + 1);
    batch_small_stack(&j);
    ck_assert_msg(j.rc == HRE_OK, "batch of orphans: %d (%s)", j.rc, j.why);
    ck_assert_int_eq(j.st, HRE_LEDGER_CONNECTED);
    ck_assert_uint_eq(j.connected, K);   /* the orphans it resolved count too */
    ck_assert_uint_eq(tip_height(l), K);
    HRE_T_OK(hre_ledger_tip(l, NULL, tip));
    ck_assert_mem_eq(tip, chain.hashes[K - 1], 32);
    /* K side blocks in one batch: siblings of the tip, equal work */
    blockset_chain(&side, chain.hashes[K - 2], T0 + 600u * K + 1, 1, K, 1);
    j.bs = &side;
    j.now = T0 + 600u * (uint64_t)K + K;
    batch_small_stack(&j);
    ck_assert_msg(j.rc == HRE_OK, "batch of side blocks: %d (%s)", j.rc, j.why);
    ck_assert_int_eq(j.st, HRE_LEDGER_SIDE_BRANCH);
    ck_assert_uint_eq(j.connected, 0);
    ck_assert_uint_eq(tip_height(l), K);
    HRE_T_OK(hre_ledger_tip(l, NULL, tip));
    ck_assert_mem_eq(tip, chain.hashes[K - 1], 32);
    hre_ledger_close(l);
    /* the same chain on a ledger with the default bounds: the batch stops
     * after max_orphans + max_side_blocks blocks that do not extend the
     * tip (64 + 1024), the rest untouched */
    hre_storage_free(st);
    st = mem();
    ck_assert_int_eq(open_bounds(&l, st, &n, 0, 0, 0), HRE_OK);
    j.l = l;
    j.bs = &chain;
    j.now = T0 + 600u * (uint64_t)(K + 1);
    batch_small_stack(&j);
    ck_assert_msg(j.rc == HRE_ELIMIT, "bounded batch: %d (%s)", j.rc, j.why);
    ck_assert_int_eq(j.st, HRE_LEDGER_REJECT_BOUND);
    ck_assert_ptr_nonnull(strstr(j.why, "1088"));
    ck_assert_uint_eq(j.connected, 0);
    ck_assert_uint_eq(tip_height(l), 0);
    hre_ledger_close(l);
    blockset_free(&chain);
    blockset_free(&side);
    hre_storage_free(st);
    net_free(&n);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Issue 9, defect 1.2: the side-branch bound counts only blocks that matter  */
/* ------------------------------------------------------------------------ */

/* Mine an empty block on l at time t (mempool empty). */
static void mine_empty(hre_ledger *l, uint64_t t)
{
    hre_ledger_status st;
    HRE_T_OK(hre_ledger_mine(l, NULL, &st, t, HRE_POW_ALL_NONCES, HRE_LEDGER_MINE_ALLOW_EMPTY));
    ck_assert_int_eq(st, HRE_LEDGER_CONNECTED);
}

/* A block on main-chain height `on` of l (so a sibling of main[on + 1]). */
static size_t block_on_height(hre_ledger *l, uint8_t *out, size_t cap, uint64_t on, uint32_t time)
{
    uint8_t parent[32];
    hre_header h;
    HRE_T_OK(hre_ledger_header_by_height(l, &h, parent, on));
    return build_block(out, cap, parent, time, EASY, NULL, 0, 1);
}

START_TEST(test_side_bound_stale_forks)
{
    net n;
    hre_storage *st = mem();
    hre_ledger *l = NULL;
    hre_ledger_status s;
    uint8_t b[128], hash[32], tip[32];
    size_t len;
    uint64_t t = T0, h;
    int r, pass;

    net_init(&n, 2016, 100000, 1000);
    /* at most 4 side blocks; forks at most 3 below the tip */
    ck_assert_int_eq(open_bounds(&l, st, &n, 0, 4, 3), HRE_OK);
    mine_empty(l, t += 600);
    mine_empty(l, t += 600);
    /* ordinary forks, each left behind as the chain grows: 12 over time */
    for (r = 0; r < 12; r++) {
        h = tip_height(l);
        len = block_on_height(l, b, sizeof b, h - 1, (uint32_t)(t + 1));
        HRE_T_OK(hre_ledger_submit_block(l, &s, b, len, t + 1));
        ck_assert_msg(s == HRE_LEDGER_SIDE_BRANCH, "fork %d: %s", r, hre_ledger_status_name(s));
        if (r % 3 == 2) {
            /* this fork wins: the old tip goes to a side branch */
            uint8_t parent[32];
            HRE_T_OK(hre_sha256d(parent, b, HRE_HEADER_LEN));
            len = build_block(b, sizeof b, parent, (uint32_t)(t + 2), EASY, NULL, 0, 1);
            HRE_T_OK(hre_ledger_submit_block(l, &s, b, len, t + 2));
            ck_assert_int_eq(s, HRE_LEDGER_REORGED);
            t += 2;
        }
        mine_empty(l, t += 600);
        mine_empty(l, t += 600);
        mine_empty(l, t += 600);
        mine_empty(l, t += 600);
    }
    for (pass = 0; pass < 2; pass++) {
        /* a fork that can still matter is stored, and can still win */
        h = tip_height(l);
        len = block_on_height(l, b, sizeof b, h - 1, (uint32_t)(t + 1));
        HRE_T_OK(hre_ledger_submit_block(l, &s, b, len, t + 1));
        ck_assert_msg(s == HRE_LEDGER_SIDE_BRANCH, "pass %d: %s", pass, hre_ledger_status_name(s));
        HRE_T_OK(hre_sha256d(hash, b, HRE_HEADER_LEN));
        len = build_block(b, sizeof b, hash, (uint32_t)(t + 2), EASY, NULL, 0, 1);
        HRE_T_OK(hre_ledger_submit_block(l, &s, b, len, t + 2));
        ck_assert_int_eq(s, HRE_LEDGER_REORGED);
        HRE_T_OK(hre_sha256d(hash, b, HRE_HEADER_LEN));
        HRE_T_OK(hre_ledger_tip(l, NULL, tip));
        ck_assert_mem_eq(tip, hash, 32);
        t += 2;
        mine_empty(l, t += 600);
        /* after a restart the stale blocks stored on disk do not count */
        hre_ledger_close(l);
        ck_assert_int_eq(open_bounds(&l, st, &n, 0, 4, 3), HRE_OK);
#ifdef HRE_WHITEBOX
        /* in memory: the main chain and the side blocks within reach */
        ck_assert_uint_le(l->n_side, 2);
        ck_assert_uint_eq(l->n_nodes - l->n_dead, l->main_len + l->n_side);
        ck_assert_uint_gt(l->open_pruned, 0);
#endif
        for (r = 0; r < 4; r++)
            mine_empty(l, t += 600);
    }
    /* the bound itself still holds for forks that matter: 4 side blocks
     * within reach, the 5th refused */
    h = tip_height(l);
    for (r = 0; r < 5; r++) {
        len = block_on_height(l, b, sizeof b, h - 1, (uint32_t)(t + 1 + (uint32_t)r));
        if (r < 4) {
            HRE_T_OK(hre_ledger_submit_block(l, &s, b, len, t + 10));
            ck_assert_int_eq(s, HRE_LEDGER_SIDE_BRANCH);
        } else {
            ck_assert_int_eq(hre_ledger_submit_block(l, &s, b, len, t + 10), HRE_ELIMIT);
            ck_assert_int_eq(s, HRE_LEDGER_REJECT_BOUND);
        }
    }
    HRE_T_OK(hre_ledger_verify_chain(l, NULL, NULL, NULL));
    hre_ledger_close(l);
    hre_storage_free(st);
    net_free(&n);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Issue 9, defect 1.3: a failed rollback leaves the ledger fatal            */
/* ------------------------------------------------------------------------ */

#ifdef HRE_WHITEBOX
/* Every call that changes or reads the live state refuses with HRE_EFATAL;
 * the queries of durable data still answer. */
static void expect_fatal(hre_ledger *l, const uint8_t *blk, size_t blen, const txb *t,
                         uint64_t want_height)
{
    hre_ledger_status s = HRE_LEDGER_STATUS_NONE;
    const hre_contract *c = (const hre_contract *)1;
    size_t len = 0, conn = 7;
    uint64_t h = 0;
    hre_header hd;
    const uint8_t *bp[1] = { blk };
    ck_assert_int_eq(hre_ledger_submit_block(l, &s, blk, blen, T0 + 100000), HRE_EFATAL);
    ck_assert_int_eq(s, HRE_LEDGER_REJECT_FATAL);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "reopen"));
    ck_assert_int_eq(hre_ledger_submit_blocks(l, &conn, &s, bp, &blen, 1, T0 + 100000), HRE_EFATAL);
    ck_assert_uint_eq(conn, 0);
    ck_assert_int_eq(s, HRE_LEDGER_REJECT_FATAL);
    ck_assert_int_eq(hre_ledger_submit_tx(l, NULL, &s, t->b, t->len, T0 + 100000), HRE_EFATAL);
    ck_assert_int_eq(s, HRE_LEDGER_REJECT_FATAL);
    ck_assert_int_eq(hre_ledger_mine(l, NULL, &s, T0 + 100000, HRE_POW_ALL_NONCES, 0), HRE_EFATAL);
    ck_assert_int_eq(s, HRE_LEDGER_REJECT_FATAL);
    ck_assert_int_eq(hre_ledger_block_template(l, NULL, &len, T0 + 100000), HRE_EFATAL);
    ck_assert_int_eq(hre_ledger_snapshot(l), HRE_EFATAL);
    ck_assert_int_eq(hre_ledger_contract(l, &c), HRE_EFATAL);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(hre_ledger_verify_chain(l, NULL, NULL, NULL), HRE_EFATAL);
    /* still valid: queries of what is stored, and close */
    HRE_T_OK(hre_ledger_tip(l, &h, NULL));
    ck_assert_uint_eq(h, want_height);
    HRE_T_OK(hre_ledger_header_by_height(l, &hd, NULL, h));
    len = 0;
    ck_assert_int_eq(hre_ledger_block_by_height(l, NULL, &len, h), HRE_EBUFSIZE);
}

/* The fork of the issue: main chain a1 a2 (a2 registers patient P with tx
 * T), side branch a1 b2 b3. With bad != 0, b3 holds T (valid there) and
 * then a transaction the contract refuses, so the reorg to b3 fails after
 * applying some of it. a3 replays T on a2. */
typedef struct fork_env {
    net n;
    hre_key *kp, *kx;
    txb t, x1, x2;
    uint8_t a1[256], a2[1024], b2[256], b3[2048], a3[1024];
    size_t la1, la2, lb2, lb3, la3;
    uint8_t ha2[32], hb3[32];
    uint8_t state_a2[32], state_b3[32];
    hre_storage *base;        /* a1 a2 connected, b2 stored as a side block */
    uint32_t snap;            /* snapshot interval of every open */
} fork_env;

static void fork_env_init(fork_env *e, int bad, uint32_t snap)
{
    const txb *ts[3];
    uint8_t h[32];
    hre_ledger *l = NULL;
    hre_ledger_status s;
    memset(e, 0, sizeof *e);
    e->snap = snap;
    net_init(&e->n, 2016, 100000, 1000);
    e->kp = new_key();
    e->kx = new_key();
    txb_patient(&e->t, e->n.id, e->kp, 0, T0);
    txb_patient(&e->x1, e->n.id, e->kx, 0, T0);
    txb_patient(&e->x2, e->n.id, e->kx, 0, T0 + 1);   /* the same key again: refused */
    e->la1 = build_block(e->a1, sizeof e->a1, e->n.id, T0 + 600, EASY, NULL, 0, 1);
    HRE_T_OK(hre_sha256d(h, e->a1, HRE_HEADER_LEN));
    ts[0] = &e->t;
    e->la2 = build_block(e->a2, sizeof e->a2, h, T0 + 1200, EASY, ts, 1, 1);
    e->lb2 = build_block(e->b2, sizeof e->b2, h, T0 + 1201, EASY, NULL, 0, 1);
    HRE_T_OK(hre_sha256d(e->ha2, e->a2, HRE_HEADER_LEN));
    HRE_T_OK(hre_sha256d(h, e->b2, HRE_HEADER_LEN));
    ts[1] = &e->x1;
    ts[2] = &e->x2;
    e->lb3 = build_block(e->b3, sizeof e->b3, h, T0 + 1800, EASY, ts, bad ? 3 : 2, 1);
    HRE_T_OK(hre_sha256d(e->hb3, e->b3, HRE_HEADER_LEN));
    e->la3 = build_block(e->a3, sizeof e->a3, e->ha2, T0 + 1801, EASY, ts, 1, 1);
    e->base = mem();
    ck_assert_int_eq(open_ledger(&l, e->base, &e->n, e->snap, NULL), HRE_OK);
    HRE_T_OK(hre_ledger_submit_block(l, &s, e->a1, e->la1, T0 + 5000));
    HRE_T_OK(hre_ledger_submit_block(l, &s, e->a2, e->la2, T0 + 5000));
    state_hash(l, e->state_a2);
    HRE_T_OK(hre_ledger_submit_block(l, &s, e->b2, e->lb2, T0 + 5000));
    ck_assert_int_eq(s, HRE_LEDGER_SIDE_BRANCH);
    hre_ledger_close(l);
    if (!bad) {
        hre_storage *c = copy_storage(e->base);
        ck_assert_int_eq(open_ledger(&l, c, &e->n, e->snap, NULL), HRE_OK);
        HRE_T_OK(hre_ledger_submit_block(l, &s, e->b3, e->lb3, T0 + 5000));
        ck_assert_int_eq(s, HRE_LEDGER_REORGED);
        state_hash(l, e->state_b3);
        hre_ledger_close(l);
        hre_storage_free(c);
    }
}

static void fork_env_free(fork_env *e)
{
    hre_key_free(e->kp);
    hre_key_free(e->kx);
    hre_storage_free(e->base);
    net_free(&e->n);
}

/* The ledger is on a2 with a2's state: the replay of T is refused. */
static void expect_on_a2(hre_ledger *l, fork_env *e)
{
    uint8_t tip[32], sh[32];
    hre_ledger_status s;
    HRE_T_OK(hre_ledger_tip(l, NULL, tip));
    ck_assert_mem_eq(tip, e->ha2, 32);
    state_hash(l, sh);
    ck_assert_mem_eq(sh, e->state_a2, 32);
    /* T is already applied on this chain: the contract refuses it again */
    ck_assert_int_eq(hre_ledger_submit_block(l, &s, e->a3, e->la3, T0 + 5000), HRE_EEXISTS);
    ck_assert_int_eq(s, HRE_LEDGER_REJECT_CONTRACT);
    HRE_T_OK(hre_ledger_verify_chain(l, NULL, NULL, NULL));
}

/* Allocation failure at every allocation of a reorg to b3: the reorg
 * succeeds, or fails with nothing changed, or (when the old chain cannot
 * be re-applied) leaves the ledger fatal; reopening recovers. */
static void reorg_alloc_sweep(int bad, uint32_t snap)
{
    fork_env e;
    long i;
    int ref_rc = HRE_OK, n_fatal = 0, n_nomem = 0, done = 0;
    fork_env_init(&e, bad, snap);
    for (i = 0; !done && i < 100000; i++) {
        hre_storage *c = copy_storage(e.base);
        hre_ledger *l = NULL;
        hre_ledger_status s = HRE_LEDGER_STATUS_NONE;
        uint8_t tip[32], sh[32];
        int rc;
        ck_assert_int_eq(open_ledger(&l, c, &e.n, e.snap, NULL), HRE_OK);
        if (snap == 1)
            ck_assert_uint_eq(l->undo_floor, 2);   /* the fork (height 1) is below it */
        hre_test__alloc_fail_after(i);
        rc = hre_ledger_submit_block(l, &s, e.b3, e.lb3, T0 + 5000);
        done = hre_test__alloc_count() <= i;   /* no allocation failed */
        hre_test__alloc_fail_after(-1);
        if (done)
            ref_rc = rc;
        if (rc == HRE_EFATAL) {
            ck_assert_int_eq(s, HRE_LEDGER_REJECT_FATAL);
            expect_fatal(l, e.a3, e.la3, &e.t, 2);
            hre_ledger_close(l);
            ck_assert_int_eq(open_ledger(&l, c, &e.n, e.snap, NULL), HRE_OK);
            HRE_T_OK(hre_ledger_tip(l, NULL, tip));
            if (memcmp(tip, e.ha2, 32) == 0) {
                expect_on_a2(l, &e);
            } else {
                /* the reorg's block was stored: the heavier branch won */
                ck_assert(!bad);
                ck_assert_mem_eq(tip, e.hb3, 32);
                state_hash(l, sh);
                ck_assert_mem_eq(sh, e.state_b3, 32);
            }
            n_fatal++;
        } else if (rc == HRE_ENOMEM) {
            ck_assert_int_eq(s, HRE_LEDGER_STATUS_NONE);
            expect_on_a2(l, &e);
            n_nomem++;
        } else if (bad) {
            ck_assert_msg(rc == HRE_EEXISTS || rc == HRE_ESTATE, "alloc fail %ld: %d (%s)", i,
                          rc, hre_error_detail());
            ck_assert_int_eq(s, HRE_LEDGER_REJECT_CONTRACT);
            expect_on_a2(l, &e);
        } else {
            ck_assert_msg(rc == HRE_OK, "alloc fail %ld: %d (%s)", i, rc, hre_error_detail());
            ck_assert_int_eq(s, HRE_LEDGER_REORGED);
            HRE_T_OK(hre_ledger_tip(l, NULL, tip));
            ck_assert_mem_eq(tip, e.hb3, 32);
            state_hash(l, sh);
            ck_assert_mem_eq(sh, e.state_b3, 32);
            HRE_T_OK(hre_ledger_verify_chain(l, NULL, NULL, NULL));
        }
        hre_ledger_close(l);
        hre_storage_free(c);
    }
    ck_assert(done);
    ck_assert_int_eq(ref_rc, bad ? ref_rc : HRE_OK);
    /* allocation failures were met; the rollback (undo, then the old
     * branch re-applied from transactions decoded beforehand) does not
     * allocate, so none of them needs the fatal state -- which
     * test_fatal_rule checks on its own */
    ck_assert_int_gt(n_nomem, 0);
    fprintf(stderr, "reorg alloc sweep (%s branch, %s): %ld allocations, %d fatal, %d clean "
            "ENOMEM\n", bad ? "bad" : "good",
            snap == 1 ? "fork below the undo journal: state rebuilt from a snapshot" : "undo",
            i, n_fatal, n_nomem);
    fork_env_free(&e);
}

START_TEST(test_reorg_rollback_fatal)
{
    reorg_alloc_sweep(1, HRE_LEDGER_SNAPSHOTS_OFF);
    reorg_alloc_sweep(0, HRE_LEDGER_SNAPSHOTS_OFF);
    /* snapshots at every height: after the reopen the state comes from the
     * snapshot at a2, below which the undo journal cannot go */
    reorg_alloc_sweep(1, 1);
    reorg_alloc_sweep(0, 1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Issue 9, defect 1.6: the undo journal stays bounded during replays        */
/* ------------------------------------------------------------------------ */

typedef struct depth_probe {
    size_t max_depth;
    uint64_t blocks;
} depth_probe;

static void probe_depth(void *ud, const hre_contract *c, uint64_t height)
{
    depth_probe *p = ud;
    size_t d = hre_contract_undo_depth(c);
    (void)height;
    if (d > p->max_depth)
        p->max_depth = d;
    p->blocks++;
}

START_TEST(test_replay_undo_bounded)
{
    enum { BLOCKS = 1500, REORG = 10 };
    net n;
    hre_storage *st = mem();
    hre_ledger *l = NULL;
    depth_probe p;
    int i;

    net_init(&n, 100000, 100000, 1000);
    ck_assert_int_eq(open_bounds(&l, st, &n, 0, 0, REORG), HRE_OK);
    for (i = 0; i < BLOCKS; i++) {
        hre_key *k = new_key();
        txb t;
        txb_patient(&t, n.id, k, 0, T0);
        HRE_T_OK(hre_ledger_submit_tx(l, NULL, NULL, t.b, t.len, T0 + 10));
        mine_empty(l, T0 + 600u * (uint64_t)(i + 1));
        hre_key_free(k);
    }
    ck_assert_uint_eq(hre_ledger_mempool_count(l), 0);
    /* verify-chain's fresh state never holds more than one block's undo */
    memset(&p, 0, sizeof p);
    hre_ledger__test_replay_hook = probe_depth;
    hre_ledger__test_replay_ud = &p;
    HRE_T_OK(hre_ledger_verify_chain(l, NULL, NULL, NULL));
    ck_assert_uint_eq(p.blocks, BLOCKS);
    ck_assert_uint_le(p.max_depth, 1);
    hre_ledger_close(l);
    /* the replay at open (snapshots off: from genesis) keeps the journal
     * at max_reorg_depth blocks' worth at every block */
    memset(&p, 0, sizeof p);
    ck_assert_int_eq(open_bounds(&l, st, &n, 0, 0, REORG), HRE_OK);
    hre_ledger__test_replay_hook = NULL;
    ck_assert_uint_eq(p.blocks, BLOCKS);
    ck_assert_uint_le(p.max_depth, REORG + 1);
    ck_assert_uint_eq(hre_contract_undo_depth(l->c), REORG);
    hre_ledger_close(l);
    hre_storage_free(st);
    net_free(&n);
}
END_TEST

/* The fatal rule itself: once fatal, every state-changing call refuses,
 * the queries of stored data answer, and a reopen recovers. */
START_TEST(test_fatal_rule)
{
    fork_env e;
    hre_ledger *l = NULL;
    hre_ledger_status s;
    fork_env_init(&e, 1, HRE_LEDGER_SNAPSHOTS_OFF);
    ck_assert_int_eq(open_ledger(&l, e.base, &e.n, e.snap, NULL), HRE_OK);
    ck_assert_int_eq(hre_ledger__fatal(l, &s, "test: %s", "forced"), HRE_EFATAL);
    ck_assert_int_eq(s, HRE_LEDGER_REJECT_FATAL);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "forced"));
    expect_fatal(l, e.a3, e.la3, &e.t, 2);
    ck_assert_int_eq(hre_ledger_snapshot(l), HRE_EFATAL);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "forced"));   /* the first cause */
    hre_ledger_close(l);
    ck_assert_int_eq(open_ledger(&l, e.base, &e.n, e.snap, NULL), HRE_OK);
    expect_on_a2(l, &e);
    hre_ledger_close(l);
    fork_env_free(&e);
}
END_TEST
#endif

/* ------------------------------------------------------------------------ */
/* Issue 9, defect 1.8: storage errors during a reorg                        */
/* ------------------------------------------------------------------------ */

/* Status and code go together as ledger.h documents for submit_block,
 * submit_blocks and mine. */
static int status_code_ok(hre_ledger_status st, int rc)
{
    switch (st) {
    case HRE_LEDGER_CONNECTED: case HRE_LEDGER_REORGED: case HRE_LEDGER_SIDE_BRANCH:
    case HRE_LEDGER_ORPHAN:
        return rc == HRE_OK;
    case HRE_LEDGER_STATUS_NONE:
        return rc == HRE_ENOMEM || rc == HRE_ECRYPTO || rc == HRE_EINVAL || rc == HRE_EEXHAUSTED ||
               rc == HRE_ESTATE;
    case HRE_LEDGER_REJECT_STORAGE:
        return rc == HRE_EIO || rc == HRE_ENOSPC || rc == HRE_ECORRUPT || rc == HRE_ELIMIT;
    case HRE_LEDGER_REJECT_FATAL:
        return rc == HRE_EFATAL;
    case HRE_LEDGER_REJECT_SIZE: case HRE_LEDGER_REJECT_TX_COUNT: case HRE_LEDGER_REJECT_BOUND:
    case HRE_LEDGER_REJECT_FORK_TOO_DEEP:
        return rc == HRE_ELIMIT;
    case HRE_LEDGER_REJECT_POW: case HRE_LEDGER_REJECT_BITS: case HRE_LEDGER_REJECT_MERKLE:
    case HRE_LEDGER_REJECT_MERKLE_MUTATED: case HRE_LEDGER_REJECT_TX_SIGNATURE:
        return rc == HRE_EVERIFY;
    case HRE_LEDGER_REJECT_TIME_OLD: case HRE_LEDGER_REJECT_TIME_FUTURE:
        return rc == HRE_ESTATE;
    case HRE_LEDGER_REJECT_DUPLICATE_TX: case HRE_LEDGER_REJECT_DUPLICATE:
    case HRE_LEDGER_REJECT_GENESIS:
        return rc == HRE_EEXISTS;
    case HRE_LEDGER_REJECT_DECODE: case HRE_LEDGER_REJECT_TX_DECODE:
        return rc == HRE_EDECODE || rc == HRE_ELIMIT || rc == HRE_EUNSUPPORTED;
    case HRE_LEDGER_REJECT_CONTRACT: case HRE_LEDGER_REJECT_INVALID_PARENT:
        /* the contract's code, or (invalid parent) the bad ancestor's */
        return rc < 0 && rc != HRE_EIO && rc != HRE_ENOSPC && rc != HRE_ENOMEM &&
               rc != HRE_EFATAL && rc != HRE_ECORRUPT;
    default:
        return 0;
    }
}

/* Leave a detail on this thread that no ledger call may hand back. */
#define STALE_MARK "zz-stale-detail"
static void poison_detail(void)
{
    uint8_t b[4];
    size_t n = sizeof b;
    ck_assert_int_eq(hre_hex_decode(b, &n, STALE_MARK, strlen(STALE_MARK)), HRE_EDECODE);
}

/* After a ledger call: its status and code go together; a failure carries
 * its own detail (not one left by an earlier call) and hre_error_last()
 * says the same code; a success leaves the thread's error clear. */
static void check_outcome(const char *what, int rc, hre_ledger_status st)
{
    ck_assert_msg(status_code_ok(st, rc), "%s: status %s with code %d (%s): %s", what,
                  hre_ledger_status_name((int)st), rc, hre_strerror(rc), hre_error_detail());
    if (rc == HRE_OK) {
        ck_assert_msg(hre_error_last() == HRE_OK && hre_error_detail()[0] == '\0',
                      "%s succeeded but left error %d (%s)", what, hre_error_last(),
                      hre_error_detail());
    } else {
        ck_assert_msg(hre_error_last() == rc, "%s: returned %d, last error %d", what, rc,
                      hre_error_last());
        ck_assert_msg(hre_error_detail()[0] != '\0', "%s: no detail", what);
        ck_assert_msg(strstr(hre_error_detail(), STALE_MARK) == NULL, "%s: stale detail: %s",
                      what, hre_error_detail());
    }
}

/* Main chain a1 a2 a3 (a2, a3 each register a patient), side branch b2 b3
 * (stored), b4 makes it heavier: a reorg two deep. a4 extends a3 (as heavy
 * as the b branch with b4). */
typedef struct sf_env {
    net n;
    hre_key *k[6];
    txb t[6];
    uint8_t blk[8][1024];
    size_t len[8];
    uint8_t hash[8][32];
    uint8_t st_a3[32], st_a4[32], st_b4[32];
    hre_storage *base;
    uint32_t snap;
} sf_env;
enum { SF_A1, SF_A2, SF_A3, SF_B2, SF_B3, SF_B4, SF_A4 };

static void sf_block(sf_env *e, int i, int parent, uint32_t time, int tx)
{
    const txb *ts[1];
    const uint8_t *p = parent < 0 ? e->n.id : e->hash[parent];
    ts[0] = tx >= 0 ? &e->t[tx] : NULL;
    e->len[i] = build_block(e->blk[i], sizeof e->blk[i], p, time, EASY, ts, tx >= 0 ? 1 : 0, 1);
    HRE_T_OK(hre_sha256d(e->hash[i], e->blk[i], HRE_HEADER_LEN));
}

static void sf_submit_ok(hre_ledger *l, sf_env *e, int i, hre_ledger_status want)
{
    hre_ledger_status s;
    HRE_T_OK(hre_ledger_submit_block(l, &s, e->blk[i], e->len[i], T0 + 100000));
    ck_assert_msg(s == want, "block %d: %s", i, hre_ledger_status_name(s));
}

static void sf_init(sf_env *e, uint32_t snap)
{
    hre_ledger *l = NULL;
    hre_storage *c;
    int i;
    memset(e, 0, sizeof *e);
    e->snap = snap;
    net_init(&e->n, 2016, 100000, 1000);
    for (i = 0; i < 6; i++) {
        e->k[i] = new_key();
        txb_patient(&e->t[i], e->n.id, e->k[i], 0, T0);
    }
    sf_block(e, SF_A1, -1, T0 + 600, -1);
    sf_block(e, SF_A2, SF_A1, T0 + 1200, 0);
    sf_block(e, SF_A3, SF_A2, T0 + 1800, 1);
    sf_block(e, SF_B2, SF_A1, T0 + 1201, 2);
    sf_block(e, SF_B3, SF_B2, T0 + 1801, 3);
    sf_block(e, SF_B4, SF_B3, T0 + 2401, 4);
    sf_block(e, SF_A4, SF_A3, T0 + 2400, 5);
    e->base = mem();
    ck_assert_int_eq(open_ledger(&l, e->base, &e->n, snap, NULL), HRE_OK);
    sf_submit_ok(l, e, SF_A1, HRE_LEDGER_CONNECTED);
    sf_submit_ok(l, e, SF_A2, HRE_LEDGER_CONNECTED);
    sf_submit_ok(l, e, SF_A3, HRE_LEDGER_CONNECTED);
    sf_submit_ok(l, e, SF_B2, HRE_LEDGER_SIDE_BRANCH);
    sf_submit_ok(l, e, SF_B3, HRE_LEDGER_SIDE_BRANCH);
    state_hash(l, e->st_a3);
    hre_ledger_close(l);
    c = copy_storage(e->base);
    ck_assert_int_eq(open_ledger(&l, c, &e->n, snap, NULL), HRE_OK);
    sf_submit_ok(l, e, SF_A4, HRE_LEDGER_CONNECTED);
    state_hash(l, e->st_a4);
    hre_ledger_close(l);
    hre_storage_free(c);
    c = copy_storage(e->base);
    ck_assert_int_eq(open_ledger(&l, c, &e->n, snap, NULL), HRE_OK);
    sf_submit_ok(l, e, SF_B4, HRE_LEDGER_REORGED);
    state_hash(l, e->st_b4);
    hre_ledger_close(l);
    hre_storage_free(c);
}

static void sf_free(sf_env *e)
{
    int i;
    for (i = 0; i < 6; i++)
        hre_key_free(e->k[i]);
    hre_storage_free(e->base);
    net_free(&e->n);
}

/* Reopen st without faults: its tip is `tip`, with the state `sh`, and
 * verify-chain agrees. */
static void sf_reopen_check(sf_env *e, hre_storage *st, const uint8_t tip[32], const uint8_t sh[32],
                            const char *what, uint64_t k)
{
    hre_ledger *l = NULL;
    uint8_t t[32], h[32];
    int rc = open_ledger(&l, st, &e->n, e->snap, NULL);
    ck_assert_msg(rc == HRE_OK, "%s %llu: reopen: %d (%s)", what, (unsigned long long)k, rc,
                  hre_error_detail());
    HRE_T_OK(hre_ledger_tip(l, NULL, t));
    ck_assert_msg(memcmp(t, tip, 32) == 0, "%s %llu: the reopened tip is not the one acknowledged",
                  what, (unsigned long long)k);
    state_hash(l, h);
    ck_assert_mem_eq(h, sh, 32);
    HRE_T_OK(hre_ledger_verify_chain(l, NULL, NULL, NULL));
    hre_ledger_close(l);
}

static void sf_sweep(uint32_t snap, uint64_t fail_count)
{
    sf_env e;
    hre_storage *inner, *pl;
    hre_powerloss_options o;
    hre_ledger *l = NULL;
    hre_ledger_status s;
    uint64_t calls_open, calls, k;
    int n_ok = 0, n_fail = 0, n_fatal = 0;

    sf_init(&e, snap);
    /* the storage calls of opening, and of the reorg */
    inner = copy_storage(e.base);
    HRE_T_OK(hre_powerloss_new(&pl, inner, NULL));
    ck_assert_int_eq(open_ledger(&l, pl, &e.n, snap, NULL), HRE_OK);
    calls_open = hre_t_pl_calls(pl);
    sf_submit_ok(l, &e, SF_B4, HRE_LEDGER_REORGED);
    calls = hre_t_pl_calls(pl) - calls_open;
    hre_ledger_close(l);
    hre_storage_free(pl);
    hre_storage_free(inner);
    for (k = 1; k <= calls + 1; k++) {
        int rc, tries;
        HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
        o.fail_at_call = calls_open + k;
        o.fail_count = fail_count;
        o.fail_code = (k & 1) ? HRE_EIO : HRE_ENOSPC;
        o.fail_partial = 1;
        o.seed = k;
        inner = copy_storage(e.base);
        HRE_T_OK(hre_powerloss_new(&pl, inner, &o));
        ck_assert_int_eq(open_ledger(&l, pl, &e.n, snap, NULL), HRE_OK);
        poison_detail();
        rc = hre_ledger_submit_block(l, &s, e.blk[SF_B4], e.len[SF_B4], T0 + 100000);
        check_outcome("reorg under storage faults", rc, s);
        if (rc == HRE_OK) {
            ck_assert_int_eq(s, HRE_LEDGER_REORGED);
            n_ok++;
            hre_ledger_close(l);
            hre_storage_free(pl);
            sf_reopen_check(&e, inner, e.hash[SF_B4], e.st_b4, "faults at call", k);
        } else if (rc == HRE_EFATAL) {
            uint8_t t[32];
            hre_ledger *r = NULL;
            n_fatal++;
            hre_ledger_close(l);
            hre_storage_free(pl);
            ck_assert_int_eq(open_ledger(&r, inner, &e.n, snap, NULL), HRE_OK);
            HRE_T_OK(hre_ledger_tip(r, NULL, t));
            hre_ledger_close(r);
            ck_assert(memcmp(t, e.hash[SF_A3], 32) == 0 || memcmp(t, e.hash[SF_B4], 32) == 0);
            sf_reopen_check(&e, inner, t, memcmp(t, e.hash[SF_A3], 32) == 0 ? e.st_a3 : e.st_b4,
                            "fatal, faults at call", k);
        } else {
            uint8_t t[32], sh[32];
            /* nothing changed: the old tip and state, the ledger usable */
            n_fail++;
            ck_assert_int_eq(s, HRE_LEDGER_REJECT_STORAGE);
            HRE_T_OK(hre_ledger_tip(l, NULL, t));
            ck_assert_mem_eq(t, e.hash[SF_A3], 32);
            state_hash(l, sh);
            ck_assert_mem_eq(sh, e.st_a3, 32);
            /* the next block on the old tip, as heavy as the failed branch,
             * is connected -- and is still the tip after a restart */
            for (tries = 0; tries < 4; tries++) {
                poison_detail();
                rc = hre_ledger_submit_block(l, &s, e.blk[SF_A4], e.len[SF_A4], T0 + 100000);
                check_outcome("the next block", rc, s);
                if (rc == HRE_OK)
                    break;
            }
            ck_assert_int_eq(rc, HRE_OK);
            ck_assert_int_eq(s, HRE_LEDGER_CONNECTED);
            hre_ledger_close(l);
            hre_storage_free(pl);
            sf_reopen_check(&e, inner, e.hash[SF_A4], e.st_a4, "after a failed reorg, fault at",
                            k);
        }
        hre_storage_free(inner);
    }
    ck_assert_int_gt(n_fail, 0);
    fprintf(stderr, "reorg under %llu storage fault(s)%s: %llu calls: %d reorged, %d failed "
            "cleanly, %d fatal\n", (unsigned long long)fail_count,
            snap == 1 ? " after a reopen on snapshots" : "", (unsigned long long)calls, n_ok, n_fail,
            n_fatal);
    sf_free(&e);
}

/* A storage that passes every call through to an inner one, failing one
 * call in `one_in` at random (seeded): HRE_EIO, or HRE_ENOSPC for writes,
 * which first write a random prefix of their data. close never fails. */
typedef struct flaky {
    hre_storage *inner;
    uint64_t rng;
    uint64_t one_in;          /* 0: no faults */
    uint64_t calls, fails;
} flaky;

static uint64_t flaky_next(flaky *f)
{
    uint64_t x = f->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return f->rng = x;
}

static int flaky_fails(flaky *f)
{
    f->calls++;
    if (!f->one_in || flaky_next(f) % f->one_in != 0)
        return 0;
    f->fails++;
    return 1;
}

static int fl_open(void *self, const char *name, unsigned int flags, void **file)
{
    flaky *f = self;
    if (flaky_fails(f))
        return HRE_EIO;
    return hre_storage_file_open((hre_storage_file **)file, f->inner, name, flags);
}
static int fl_close(void *self, void *file)
{
    (void)self;
    return hre_storage_file_close(file);
}
static int fl_read(void *self, void *file, void *buf, size_t len, size_t *got, uint64_t off)
{
    if (flaky_fails(self))
        return HRE_EIO;
    return hre_storage_file_read(file, buf, len, got, off);
}
static int fl_append(void *self, void *file, uint64_t *off, const void *data, size_t len)
{
    flaky *f = self;
    if (flaky_fails(f)) {
        size_t part = (size_t)(flaky_next(f) % (len + 1));
        uint64_t o;
        if (part)
            (void)hre_storage_file_append(file, &o, data, part);
        return (flaky_next(f) & 1) ? HRE_ENOSPC : HRE_EIO;
    }
    return hre_storage_file_append(file, off, data, len);
}
static int fl_write(void *self, void *file, uint64_t off, const void *data, size_t len)
{
    flaky *f = self;
    if (flaky_fails(f)) {
        size_t part = (size_t)(flaky_next(f) % (len + 1));
        if (part)
            (void)hre_storage_file_write(file, off, data, part);
        return (flaky_next(f) & 1) ? HRE_ENOSPC : HRE_EIO;
    }
    return hre_storage_file_write(file, off, data, len);
}
static int fl_sync(void *self, void *file)
{
    return flaky_fails(self) ? HRE_EIO : hre_storage_file_sync(file);
}
static int fl_size(void *self, void *file, uint64_t *size)
{
    return flaky_fails(self) ? HRE_EIO : hre_storage_file_size(file, size);
}
static int fl_truncate(void *self, void *file, uint64_t size)
{
    return flaky_fails(self) ? HRE_EIO : hre_storage_file_truncate(file, size);
}
static int fl_rename(void *self, const char *from, const char *to)
{
    flaky *f = self;
    return flaky_fails(f) ? HRE_EIO : hre_storage_rename(f->inner, from, to);
}
static int fl_remove(void *self, const char *name)
{
    flaky *f = self;
    return flaky_fails(f) ? HRE_EIO : hre_storage_remove(f->inner, name);
}
static int fl_list(void *self, hre_storage_list_cb cb, void *arg)
{
    flaky *f = self;
    return flaky_fails(f) ? HRE_EIO : hre_storage_list(f->inner, cb, arg);
}
static int fl_sync_dir(void *self)
{
    flaky *f = self;
    return flaky_fails(f) ? HRE_EIO : hre_storage_sync_dir(f->inner);
}

static hre_storage *flaky_new(flaky *f, hre_storage *inner, uint64_t seed, uint64_t one_in)
{
    hre_storage_methods m;
    hre_storage *s = NULL;
    memset(f, 0, sizeof *f);
    f->inner = inner;
    f->rng = seed * 0x9e3779b97f4a7c15ull + 1;
    f->one_in = one_in;
    HRE_T_OK(hre_storage_methods_init(&m, HRE_STORAGE_VERSION));
    m.open = fl_open;
    m.close = fl_close;
    m.read = fl_read;
    m.append = fl_append;
    m.write = fl_write;
    m.sync = fl_sync;
    m.size = fl_size;
    m.truncate = fl_truncate;
    m.rename = fl_rename;
    m.remove = fl_remove;
    m.list = fl_list;
    m.sync_dir = fl_sync_dir;
    HRE_T_OK(hre_storage_new_custom(&s, &m, f));
    return s;
}

/* Two branches from genesis, RF_LEN blocks each, every block registering a
 * patient of its own; the test feeds them in a random order (each branch's
 * blocks in order), so the chain reorganises back and forth. */
enum { RF_LEN = 10, RF_SEEDS = 25, RF_STEPS = 3 * RF_LEN };
typedef struct rf_env {
    net n;
    hre_key *k[2][RF_LEN];
    uint8_t blk[2][RF_LEN][1024];
    size_t len[2][RF_LEN];
    uint8_t hash[2][RF_LEN][32];
} rf_env;

static void rf_init(rf_env *e)
{
    int b, i;
    net_init(&e->n, 2016, 100000, 1000);
    for (b = 0; b < 2; b++) {
        for (i = 0; i < RF_LEN; i++) {
            txb t;
            const txb *ts[1] = { &t };
            const uint8_t *p = i ? e->hash[b][i - 1] : e->n.id;
            e->k[b][i] = new_key();
            txb_patient(&t, e->n.id, e->k[b][i], 0, T0);
            e->len[b][i] = build_block(e->blk[b][i], sizeof e->blk[b][i], p,
                                       T0 + 600u * (uint32_t)(i + 1) + (uint32_t)b, EASY, ts, 1, 1);
            HRE_T_OK(hre_sha256d(e->hash[b][i], e->blk[b][i], HRE_HEADER_LEN));
        }
    }
}

static void rf_free(rf_env *e)
{
    int b, i;
    for (b = 0; b < 2; b++)
        for (i = 0; i < RF_LEN; i++)
            hre_key_free(e->k[b][i]);
    net_free(&e->n);
}

/* Open on st, retrying while the storage fails (at most 50 times). */
static hre_ledger *rf_open(rf_env *e, hre_storage *st)
{
    hre_ledger *l = NULL;
    int tries, rc = HRE_EIO;
    for (tries = 0; tries < 50 && rc != HRE_OK; tries++) {
        poison_detail();
        rc = open_ledger(&l, st, &e->n, 3, NULL);
        if (rc != HRE_OK) {
            ck_assert_msg(rc == HRE_EIO || rc == HRE_ENOSPC, "open under faults: %d (%s)", rc,
                          hre_error_detail());
            ck_assert_ptr_null(l);
            ck_assert(strstr(hre_error_detail(), STALE_MARK) == NULL);
        }
    }
    ck_assert_msg(rc == HRE_OK, "open failed 50 times: %s", hre_error_detail());
    return l;
}

/* What a reopen (without faults) of a copy of the storage shows: tip and
 * state hash; verify-chain passes there. */
static void rf_reopened(rf_env *e, hre_storage *inner, uint8_t tip[32], uint8_t sh[32])
{
    hre_storage *c = copy_storage(inner);
    hre_ledger *l = NULL;
    ck_assert_int_eq(open_ledger(&l, c, &e->n, 3, NULL), HRE_OK);
    HRE_T_OK(hre_ledger_tip(l, NULL, tip));
    state_hash(l, sh);
    HRE_T_OK(hre_ledger_verify_chain(l, NULL, NULL, NULL));
    hre_ledger_close(l);
    hre_storage_free(c);
}

/* RF_SEEDS runs, run i seeded with hre_t_seed() + i: a failure message
 * names that number; HRE_SEED=<it> replays that run as the first one. */
START_TEST(test_random_storage_faults)
{
    rf_env e;
    uint64_t base = hre_t_seed(), faults = 0, fatals = 0, reorgs = 0;
    int seed;

    rf_init(&e);
    for (seed = 0; seed < RF_SEEDS; seed++) {
        hre_storage *inner = mem(), *st;
        flaky f;
        hre_ledger *l;
        uint8_t ack[32], ack_state[32];
        int next[2] = { 0, 0 }, step;
        uint64_t rng = base + (uint64_t)seed;

        st = flaky_new(&f, inner, rng, 25);
        l = rf_open(&e, st);
        HRE_T_OK(hre_ledger_tip(l, NULL, ack));
        state_hash(l, ack_state);
        for (step = 0; step < RF_STEPS && (next[0] < RF_LEN || next[1] < RF_LEN); step++) {
            hre_ledger_status s = HRE_LEDGER_STATUS_NONE;
            uint8_t tip[32], sh[32];
            int b, rc;
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            b = (int)((rng >> 33) & 1);
            if (next[b] == RF_LEN)
                b ^= 1;
            poison_detail();
            rc = hre_ledger_submit_block(l, &s, e.blk[b][next[b]], e.len[b][next[b]], T0 + 100000);
            check_outcome("submit under random faults", rc, s);
            if (getenv("RF_DEBUG"))
                fprintf(stderr, "seed %d step %d: branch %d block %d: rc %d %s %s\n", seed, step, b,
                        next[b], rc, hre_ledger_status_name(s), hre_error_detail());
            if (rc == HRE_OK) {
                ck_assert_msg(s == HRE_LEDGER_CONNECTED || s == HRE_LEDGER_REORGED ||
                              s == HRE_LEDGER_SIDE_BRANCH, "seed %llu: %s",
                              (unsigned long long)(base + (uint64_t)seed), hre_ledger_status_name(s));
                reorgs += s == HRE_LEDGER_REORGED;
                next[b]++;
                HRE_T_OK(hre_ledger_tip(l, NULL, ack));
                state_hash(l, ack_state);
            } else if (rc == HRE_EFATAL) {
                /* reopen: what is durable decides, the acknowledged tip or
                 * the block of the failed call */
                fatals++;
                hre_ledger_close(l);
                l = rf_open(&e, st);
                HRE_T_OK(hre_ledger_tip(l, NULL, tip));
                if (memcmp(tip, ack, 32) != 0) {
                    ck_assert_msg(memcmp(tip, e.hash[b][next[b]], 32) == 0,
                                  "seed %llu: after a fatal failure the ledger reopened on "
                                  "neither the acknowledged tip nor the failed block",
                                  (unsigned long long)(base + (uint64_t)seed));
                    memcpy(ack, tip, 32);
                }
                {
                    /* the failed call's block may or may not have been stored */
                    hre_header hd;
                    if (hre_ledger_header_by_hash(l, &hd, NULL, NULL, e.hash[b][next[b]]) == HRE_OK)
                        next[b]++;
                }
                state_hash(l, ack_state);
            } else {
                /* a storage failure: nothing changed */
                ck_assert_msg(s == HRE_LEDGER_REJECT_STORAGE, "seed %llu, step %d: %s %d (%s)",
                              (unsigned long long)(base + (uint64_t)seed), step,
                              hre_ledger_status_name(s), rc, hre_error_detail());
                faults++;
                HRE_T_OK(hre_ledger_tip(l, NULL, tip));
                ck_assert_mem_eq(tip, ack, 32);
                state_hash(l, sh);
                ck_assert_mem_eq(sh, ack_state, 32);
            }
            /* the acknowledged tip is what a restart finds, with the same
             * state, and verify-chain agrees */
            rf_reopened(&e, inner, tip, sh);
            ck_assert_msg(memcmp(tip, ack, 32) == 0,
                          "seed %llu, step %d: the acknowledged tip is not the tip after a reopen",
                          (unsigned long long)(base + (uint64_t)seed), step);
            ck_assert_mem_eq(sh, ack_state, 32);
            /* and the live ledger's verify-chain (it may meet a fault) */
            if (step % 5 == 4) {
                poison_detail();
                rc = hre_ledger_verify_chain(l, NULL, NULL, NULL);
                ck_assert_msg(rc == HRE_OK || rc == HRE_EIO || rc == HRE_EFATAL,
                              "verify-chain under faults: %d (%s)", rc, hre_error_detail());
                check_outcome("verify-chain under faults", rc,
                              rc == HRE_OK ? HRE_LEDGER_CONNECTED
                              : rc == HRE_EFATAL ? HRE_LEDGER_REJECT_FATAL : HRE_LEDGER_REJECT_STORAGE);
            }
        }
        hre_ledger_close(l);
        hre_storage_free(st);
        hre_storage_free(inner);
    }
    fprintf(stderr, "random storage faults (1 call in 25), seeds %llu..%llu: %llu failed calls, "
            "%llu fatal, %llu reorgs\n", (unsigned long long)base,
            (unsigned long long)(base + RF_SEEDS - 1), (unsigned long long)faults,
            (unsigned long long)fatals, (unsigned long long)reorgs);
    ck_assert_uint_gt(reorgs, 0);
    rf_free(&e);
}
END_TEST

/* The log lines an operator needs: a storage error (ERROR, naming the
 * operation), a block rejected for the storage's sake, and the fatal state
 * (ERROR, saying to reopen). */
START_TEST(test_log_storage_and_fatal)
{
    sf_env e;
    hre_storage *inner, *pl;
    hre_powerloss_options o;
    hre_ledger_options lo;
    hre_ledger *l = NULL;
    hre_ledger_status s;
    loglines ll;
    uint64_t calls_open, k;
    int seen_storage = 0, seen_fatal = 0;

    sf_init(&e, HRE_LEDGER_SNAPSHOTS_OFF);
    for (k = 1; k <= 20 && !(seen_storage && seen_fatal); k++) {
        memset(&ll, 0, sizeof ll);
        inner = copy_storage(e.base);
        HRE_T_OK(hre_powerloss_new(&pl, inner, NULL));
        HRE_T_OK(hre_ledger_options_init(&lo, HRE_LEDGER_OPTIONS_VERSION));
        lo.storage = pl;
        lo.params = &e.n.params;
        memcpy(lo.authority_key, e.n.auth_wire, 34);
        lo.snapshot_interval = HRE_LEDGER_SNAPSHOTS_OFF;
        HRE_T_OK(hre_ledger_open(&l, &lo));
        calls_open = hre_t_pl_calls(pl);
        hre_ledger_close(l);
        hre_storage_free(pl);
        /* the same open, then faults from call k of the submit on: two in a
         * row make a failed sync whose cut fails too */
        HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
        o.fail_at_call = calls_open + k;
        o.fail_count = 3;
        HRE_T_OK(hre_powerloss_new(&pl, inner, &o));
        lo.storage = pl;
        lo.log_fn = collect_log;
        lo.log_user_data = &ll;
        ck_assert_int_eq(hre_ledger_open(&l, &lo), HRE_OK);
        {
            int rc = hre_ledger_submit_block(l, &s, e.blk[SF_A4], e.len[SF_A4], T0 + 100000);
            check_outcome("submit with a logging ledger", rc, s);
        }
        if (log_find(&ll, HRE_LOG_ERROR, "storage error: ") >= 0)
            seen_storage = 1;
        if (s == HRE_LEDGER_REJECT_FATAL) {
            ck_assert_int_ge(log_find(&ll, HRE_LOG_ERROR, "fatal state"), 0);
            ck_assert_int_ge(log_find(&ll, HRE_LOG_ERROR, "open it again"), 0);
            seen_fatal = 1;
        }
        hre_ledger_close(l);
        hre_storage_free(pl);
        hre_storage_free(inner);
    }
    ck_assert(seen_storage);
    ck_assert(seen_fatal);
    sf_free(&e);
}
END_TEST

START_TEST(test_reorg_storage_faults)
{
    sf_sweep(HRE_LEDGER_SNAPSHOTS_OFF, 1);
    sf_sweep(HRE_LEDGER_SNAPSHOTS_OFF, 2);
    /* snapshots on and a reopen: the fork lies below the undo journal */
    sf_sweep(1, 1);
    sf_sweep(1, 2);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Issue 9, sections 5 and 8: pool, network file, queries, events, mining    */
/* ------------------------------------------------------------------------ */

/* A host-supplied pool: the ledger uses it (and does not free it); a pool
 * and verify_threads together, or unknown flags, are refused; version 2
 * options (no pool) still open. */
START_TEST(test_host_pool)
{
    net n;
    hre_storage *st = mem();
    hre_ledger *l = NULL;
    hre_ledger_options o;
    hre_pool *pool = NULL;
    hre_key *k[3];
    loglines ll;

    memset(&ll, 0, sizeof ll);
    net_init(&n, 2016, 100000, 1000);
    HRE_T_OK(hre_pool_new(&pool, 2));
    HRE_T_OK(hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    o.storage = st;
    o.params = &n.params;
    memcpy(o.authority_key, n.auth_wire, 34);
    o.pool = pool;
    o.verify_threads = 1;
    ck_assert_int_eq(hre_ledger_open(&l, &o), HRE_EINVAL);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "pool"));
    o.verify_threads = 0;
    o.flags = 0x80;
    ck_assert_int_eq(hre_ledger_open(&l, &o), HRE_EINVAL);
    o.flags = 0;
    o.log_fn = collect_log;
    o.log_user_data = &ll;
    HRE_T_OK(hre_ledger_open(&l, &o));
    ck_assert_int_ge(log_find(&ll, HRE_LOG_INFO, "2 pool thread(s) (the host's pool)"), 0);
    mine_new_patients(l, &n, k, 3);
    HRE_T_OK(hre_ledger_verify_chain(l, NULL, NULL, NULL));
    hre_ledger_close(l);
    ck_assert_uint_eq(hre_pool_threads(pool), 2);   /* still the host's */
    /* version 2 of the options: its own pool of verify_threads */
    o.version = 2;
    o.pool = NULL;
    o.verify_threads = 1;
    HRE_T_OK(hre_ledger_open(&l, &o));
    ck_assert_uint_eq(tip_height(l), 3);
    hre_ledger_close(l);
    hre_pool_free(pool);
    for (int i = 0; i < 3; i++)
        hre_key_free(k[i]);
    hre_storage_free(st);
    net_free(&n);
}
END_TEST

static int open_net(hre_ledger **l, hre_storage *st, const hre_network *nw)
{
    hre_ledger_options o;
    HRE_T_OK(hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    o.storage = st;
    o.network = nw;
    o.snapshot_interval = 2;
    return hre_ledger_open(l, &o);
}

/* CRC-32 (IEEE, reflected, as zlib's), bit by bit: an implementation of
 * its own for the test. */
static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* Re-sign a network file's CRC after editing it. */
static void net_file_crc(uint8_t *b, size_t len)
{
    uint32_t c = crc32_ref(b, len - 4);
    b[len - 4] = (uint8_t)c;
    b[len - 3] = (uint8_t)(c >> 8);
    b[len - 2] = (uint8_t)(c >> 16);
    b[len - 1] = (uint8_t)(c >> 24);
}

START_TEST(test_network_file)
{
    hre_key *auth = new_key(), *auth2 = new_key(), *pk = new_key();
    uint8_t aw[34], aw2[34], file[HRE_NETWORK_FILE_MAX], file2[HRE_NETWORK_FILE_MAX], id[32], lid[32];
    uint8_t bad[HRE_NETWORK_FILE_MAX], k34[34], sh1[32], sh2[32];
    size_t len = sizeof file, len2 = sizeof file2, blen;
    hre_network *nw = NULL, *net2 = NULL, *other = NULL;
    const hre_network *cur = NULL;
    hre_chain_params p = HRE_CHAIN_PARAMS_INIT, q;
    hre_storage *sa = mem(), *sb = mem();
    hre_ledger *a = NULL, *b = NULL;
    hre_ledger_options o;
    txb t;
    uint8_t *blk;

    key_wire(auth, aw);
    key_wire(auth2, aw2);
    /* the private preset: mined genesis, easy PoW, no retargeting */
    HRE_T_OK(hre_network_new_private(&nw, aw, "St Mary's", T0));
    HRE_T_OK(hre_network_params(nw, &p));
    ck_assert_uint_eq(p.genesis.bits, 0x207fffffu);
    ck_assert_uint_eq(p.genesis.time, T0);
    ck_assert_uint_eq(p.retarget_interval, UINT32_MAX);
    HRE_T_OK(hre_chain_params_check(&p));
    ck_assert_str_eq(hre_network_org_name(nw), "St Mary's");
    HRE_T_OK(hre_network_authority_key(nw, k34));
    ck_assert_mem_eq(k34, aw, 34);
    HRE_T_OK(hre_network_id(nw, id));
    ck_assert_int_eq(hre_network_new_private(&other, aw, "", T0), HRE_EINVAL);
    ck_assert_int_eq(hre_network_new_private(&other, aw, NULL, (uint64_t)UINT32_MAX + 1), HRE_EINVAL);
    /* another authority, another network id */
    HRE_T_OK(hre_network_new_private(&other, aw2, "St Mary's", T0));
    HRE_T_OK(hre_network_id(other, lid));
    ck_assert_mem_ne(lid, id, 32);
    hre_network_free(other);
    other = NULL;
    /* the file: 191 bytes + the name, and back */
    blen = 0;
    ck_assert_int_eq(hre_network_encode(nw, NULL, &blen), HRE_EBUFSIZE);
    ck_assert_uint_eq(blen, 191 + 9);
    HRE_T_OK(hre_network_encode(nw, file, &len));
    ck_assert_uint_eq(len, 200);
    ck_assert_mem_eq(file, "HRENETW1", 8);
    HRE_T_OK(hre_network_decode(&net2, file, len));
    HRE_T_OK(hre_network_encode(net2, file2, &len2));
    ck_assert_uint_eq(len2, len);
    ck_assert_mem_eq(file2, file, len);
    hre_network_free(net2);
    net2 = NULL;
    /* the decoder refuses what is not one network file */
    ck_assert_int_eq(hre_network_decode(&net2, file, len - 1), HRE_EDECODE);
    ck_assert_ptr_null(net2);
    ck_assert_int_eq(hre_network_decode(&net2, file, 0), HRE_EDECODE);
    memcpy(bad, file, len);
    bad[3] ^= 1;
    ck_assert_int_eq(hre_network_decode(&net2, bad, len), HRE_EDECODE);
    memcpy(bad, file, len);
    bad[100] ^= 1;
    ck_assert_int_eq(hre_network_decode(&net2, bad, len), HRE_ECORRUPT);
    memcpy(bad, file, len);
    bad[8] = 2;
    net_file_crc(bad, len);
    ck_assert_int_eq(hre_network_decode(&net2, bad, len), HRE_EUNSUPPORTED);
    memcpy(bad, file, len);
    bad[186] = 65;                       /* name length over 64 */
    ck_assert_int_eq(hre_network_decode(&net2, bad, len), HRE_EDECODE);
    memcpy(bad, file, len);
    bad[190] = 0;                        /* a NUL in the name */
    net_file_crc(bad, len);
    ck_assert_int_eq(hre_network_decode(&net2, bad, len), HRE_EDECODE);
    memcpy(bad, file, len);
    bad[152] = 7;                        /* key: prefix 0x07 */
    net_file_crc(bad, len);
    ck_assert_int_eq(hre_network_decode(&net2, bad, len), HRE_EINVAL);
    memcpy(bad, file, len);
    bad[12 + 76] ^= 0x55;                /* genesis nonce: its PoW no longer holds (almost surely) */
    net_file_crc(bad, len);
    {
        int rc = hre_network_decode(&net2, bad, len);
        if (rc == HRE_OK) {
            hre_network_free(net2);
            net2 = NULL;
        } else {
            ck_assert_int_eq(rc, HRE_EINVAL);
        }
    }
    ck_assert_ptr_null(net2);

    /* the first institution opens its ledger on the network and mines */
    ck_assert_int_eq(open_net(&a, sa, nw), HRE_OK);
    HRE_T_OK(hre_ledger_network_id(a, lid));
    ck_assert_mem_eq(lid, id, 32);
    txb_patient(&t, id, pk, 0, T0);
    HRE_T_OK(hre_ledger_submit_tx(a, NULL, NULL, t.b, t.len, T0 + 10));
    HRE_T_OK(hre_ledger_mine(a, NULL, NULL, T0 + 600, HRE_POW_ALL_NONCES, 0));
    /* ... and hands the network file to the second */
    HRE_T_OK(hre_ledger_network(a, &cur));
    len2 = sizeof file2;
    HRE_T_OK(hre_network_encode(cur, file2, &len2));
    ck_assert_uint_eq(len2, len);
    ck_assert_mem_eq(file2, file, len);
    HRE_T_OK(hre_network_decode(&net2, file2, len2));
    ck_assert_int_eq(open_net(&b, sb, net2), HRE_OK);
    blk = get_block(a, 1, &blen);
    HRE_T_OK(hre_ledger_submit_block(b, NULL, blk, blen, T0 + 600));
    free(blk);
    state_hash(a, sh1);
    state_hash(b, sh2);
    ck_assert_mem_eq(sh1, sh2, 32);
    hre_ledger_close(b);
    hre_ledger_close(a);
    /* the storage keeps the network: open with neither params nor network */
    HRE_T_OK(hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    o.storage = sa;
    HRE_T_OK(hre_ledger_open(&a, &o));
    ck_assert_uint_eq(tip_height(a), 1);
    hre_ledger_close(a);
    o.storage = mem();
    ck_assert_int_eq(hre_ledger_open(&a, &o), HRE_EINVAL);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "network.dat"));
    hre_storage_free(o.storage);
    /* a network and params together are refused */
    o.storage = sa;
    o.network = nw;
    o.params = &p;
    ck_assert_int_eq(hre_ledger_open(&a, &o), HRE_EINVAL);
    /* a mismatch names the field that differs */
    {
        static const struct { int field; const char *name; } cases[] = {
            { 0, "the PoW limit" }, { 1, "the target spacing" }, { 2, "the retarget interval" },
            { 3, "the block caps" }, { 4, "the authority key" }, { 5, "the genesis organisation name" },
            { 6, "the genesis block" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const uint8_t *key = aw;
            const char *name = "St Mary's";
            q = p;
            switch (cases[i].field) {
            case 0: q.pow_limit[0] ^= 1; break;   /* still above the genesis hash */
            case 1: q.target_spacing = 60; break;
            case 2: q.retarget_interval = 2016; break;
            case 3: q.max_tx_count = 500; break;
            case 4: key = aw2; break;
            case 5: name = "St John's"; break;
            case 6: q.genesis.time += 1; HRE_T_OK(hre_pow_mine(&q.genesis, NULL, HRE_POW_ALL_NONCES)); break;
            }
            HRE_T_OK(hre_network_new(&other, &q, key, name));
            ck_assert_int_eq(open_net(&a, sa, other), HRE_EINVAL);
            ck_assert_msg(strstr(hre_error_detail(), cases[i].name) != NULL, "%s: %s", cases[i].name,
                          hre_error_detail());
            ck_assert_ptr_nonnull(strstr(hre_error_detail(), "fingerprint mismatch"));
            hre_network_free(other);
            other = NULL;
        }
    }
    hre_network_free(nw);
    hre_network_free(net2);
    hre_key_free(auth);
    hre_key_free(auth2);
    hre_key_free(pk);
    hre_storage_free(sa);
    hre_storage_free(sb);
}
END_TEST

/* The sender's next nonce counts its transactions in the mempool; a key
 * with no account yet starts at 0. */
START_TEST(test_next_nonce_and_work)
{
    net n;
    hre_storage *st = mem();
    hre_ledger *l = NULL;
    hre_key *k = new_key(), *other = new_key();
    uint8_t kw[34], addr[32], work[32], sum[32], w[32], hash[32];
    uint64_t nonce = 7, h;
    hre_header hd;
    txb t;

    net_init(&n, 2016, 100000, 1000);
    ck_assert_int_eq(open_ledger(&l, st, &n, 0, NULL), HRE_OK);
    key_wire(k, kw);
    HRE_T_OK(hre_contract_address(addr, kw));
    HRE_T_OK(hre_ledger_next_nonce(l, &nonce, kw, 34));
    ck_assert_uint_eq(nonce, 0);
    ck_assert_int_eq(hre_ledger_next_nonce(l, &nonce, kw, 33), HRE_EINVAL);
    /* the authority (account 0) after nothing: 0 */
    HRE_T_OK(hre_ledger_next_nonce(l, &nonce, n.auth_wire, 34));
    ck_assert_uint_eq(nonce, 0);
    /* a registration waiting in the mempool counts */
    txb_patient(&t, n.id, k, 0, T0);
    HRE_T_OK(hre_ledger_submit_tx(l, NULL, NULL, t.b, t.len, T0 + 10));
    HRE_T_OK(hre_ledger_next_nonce(l, &nonce, kw, 34));
    ck_assert_uint_eq(nonce, 1);
    HRE_T_OK(hre_ledger_next_nonce(l, &nonce, addr, 32));
    ck_assert_uint_eq(nonce, 1);
    HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 600, HRE_POW_ALL_NONCES, 0));
    HRE_T_OK(hre_ledger_next_nonce(l, &nonce, addr, 32));
    ck_assert_uint_eq(nonce, 1);
    key_wire(other, kw);
    HRE_T_OK(hre_ledger_next_nonce(l, &nonce, kw, 34));
    ck_assert_uint_eq(nonce, 0);
    /* mining without transactions is refused unless asked for */
    {
        hre_ledger_status s = HRE_LEDGER_CONNECTED;
        ck_assert_int_eq(hre_ledger_mine(l, hash, &s, T0 + 1200, HRE_POW_ALL_NONCES, 0), HRE_ESTATE);
        ck_assert_int_eq(s, HRE_LEDGER_STATUS_NONE);
        ck_assert_ptr_nonnull(strstr(hre_error_detail(), "mempool empty"));
        ck_assert_uint_eq(tip_height(l), 1);
        ck_assert_int_eq(hre_ledger_mine(l, hash, &s, T0 + 1200, HRE_POW_ALL_NONCES, 0x8), HRE_EINVAL);
        HRE_T_OK(hre_ledger_mine(l, hash, &s, T0 + 1200, HRE_POW_ALL_NONCES,
                                 HRE_LEDGER_MINE_ALLOW_EMPTY));
        ck_assert_int_eq(s, HRE_LEDGER_CONNECTED);
        ck_assert_uint_eq(tip_height(l), 2);
    }
    /* the tip's cumulative work is the sum of every block's */
    memset(sum, 0, 32);
    for (h = 0; h <= tip_height(l); h++) {
        HRE_T_OK(hre_ledger_header_by_height(l, &hd, NULL, h));
        HRE_T_OK(hre_pow_work(w, hd.bits));
        HRE_T_OK(hre_pow_work_add(sum, sum, w));
    }
    HRE_T_OK(hre_ledger_tip_work(l, work));
    ck_assert_mem_eq(work, sum, 32);
    ck_assert_int_eq(hre_ledger_tip_work(NULL, work), HRE_EINVAL);
    hre_ledger_close(l);
    hre_key_free(k);
    hre_key_free(other);
    hre_storage_free(st);
    net_free(&n);
}
END_TEST

/* Events: seq numbers the main chain's stream from 1 without gaps; the
 * journal answers "since"; a reorg first withdraws the host's blocks; the
 * replay at open refills the journal and, with the flag, reaches the host;
 * old events fall out of a small journal. */
typedef struct evlog {
    hre_ledger_event ev[256];
    hre_contract_event cev[256];
    int n;
} evlog;

static void log_events(void *u, const hre_ledger_event *ev)
{
    evlog *e = u;
    ck_assert_uint_eq(ev->version, HRE_LEDGER_EVENT_VERSION);
    if (e->n < 256) {
        e->ev[e->n] = *ev;
        if (ev->contract)
            e->cev[e->n] = *ev->contract;
        e->n++;
    }
}

static int open_ev(hre_ledger **l, hre_storage *st, const net *n, evlog *e, unsigned int flags,
                   uint32_t journal)
{
    hre_ledger_options o;
    HRE_T_OK(hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    o.storage = st;
    o.params = &n->params;
    memcpy(o.authority_key, n->auth_wire, 34);
    o.snapshot_interval = HRE_LEDGER_SNAPSHOTS_OFF;
    o.on_event = e ? log_events : NULL;
    o.user_data = e;
    o.flags = flags;
    o.max_journal_events = journal;
    return hre_ledger_open(l, &o);
}

static size_t since(hre_ledger *l, hre_ledger_event *out, size_t cap, uint64_t seq,
                    const uint8_t *blk)
{
    size_t n = 0;
    int rc = hre_ledger_events_since(l, NULL, sizeof *out, &n, seq, blk);
    ck_assert_msg(rc == HRE_EBUFSIZE || (rc == HRE_OK && n == 0), "size: %d (%s)", rc,
                  hre_error_detail());
    ck_assert_uint_le(n, cap);
    HRE_T_OK(hre_ledger_events_since(l, out, sizeof *out, &n, seq, blk));
    return n;
}

START_TEST(test_events_since)
{
    net n;
    hre_storage *st = mem(), *sb = mem();
    hre_ledger *l = NULL, *b = NULL;
    evlog *e = calloc(1, sizeof *e), *r = calloc(1, sizeof *r);
    hre_ledger_event *out = calloc(256, sizeof *out);
    hre_key *k[4];
    size_t m, i;
    uint8_t hb[32];
    int j;

    net_init(&n, 2016, 100000, 1000);
    ck_assert_int_eq(open_ev(&l, st, &n, e, 0, 0), HRE_OK);
    mine_new_patients(l, &n, k, 3);
    /* the stream: 1, 2, ... in delivery order, each block's CONNECTED last */
    ck_assert_int_eq(e->n, 6);   /* per block: PATIENT_REGISTERED, BLOCK_CONNECTED */
    for (j = 0; j < e->n; j++)
        ck_assert_uint_eq(e->ev[j].seq, (uint64_t)j + 1);
    ck_assert_uint_eq(e->ev[e->n - 1].type, HRE_LEDGER_EVENT_BLOCK_CONNECTED);
    /* since 0: everything; since the first block's CONNECTED: the rest */
    m = since(l, out, 256, 0, NULL);
    ck_assert_uint_eq(m, (size_t)e->n);
    for (i = 0; i < m; i++) {
        ck_assert_uint_eq(out[i].seq, e->ev[i].seq);
        ck_assert_uint_eq(out[i].type, e->ev[i].type);
        ck_assert_mem_eq(out[i].block_hash, e->ev[i].block_hash, 32);
        if (out[i].type == HRE_LEDGER_EVENT_CONTRACT)
            ck_assert_uint_eq(out[i].contract->seq, e->cev[i].seq);
    }
    for (j = 0; e->ev[j].type != HRE_LEDGER_EVENT_BLOCK_CONNECTED; j++)
        ;
    m = since(l, out, 256, e->ev[j].seq, e->ev[j].block_hash);
    ck_assert_uint_eq(m, (size_t)(e->n - j - 1));
    ck_assert_uint_eq(out[0].seq, e->ev[j].seq + 1);
    /* an element of version 1 (no seq) */
    {
        size_t v1 = offsetof(hre_ledger_event, seq), cnt = 1;
        uint8_t *raw = calloc(1, v1 * (size_t)e->n);
        cnt = (size_t)e->n;
        HRE_T_OK(hre_ledger_events_since(l, (hre_ledger_event *)raw, v1, &cnt, 0, NULL));
        ck_assert_uint_eq(((hre_ledger_event *)raw)->version, 1);
        free(raw);
        cnt = 0;
        ck_assert_int_eq(hre_ledger_events_since(l, NULL, 4, &cnt, 0, NULL), HRE_EUNSUPPORTED);
    }
    ck_assert_int_eq(hre_ledger_events_since(l, out, sizeof *out, &m, 3, NULL), HRE_EINVAL);
    /* a reorg: another ledger mines a longer chain from genesis */
    ck_assert_int_eq(open_ev(&b, sb, &n, NULL, 0, 0), HRE_OK);
    mine_new_patients(b, &n, &k[3], 1);
    for (j = 0; j < 3; j++)
        HRE_T_OK(hre_ledger_mine(b, NULL, NULL, T0 + 5000 + 600u * (uint64_t)j, HRE_POW_ALL_NONCES,
                                 HRE_LEDGER_MINE_ALLOW_EMPTY));
    {
        int before = e->n;
        uint64_t last_seq = e->ev[before - 1].seq;
        memcpy(hb, e->ev[before - 1].block_hash, 32);   /* the host's last block: height 3 */
        for (uint64_t h = 1; h <= 4; h++) {
            size_t blen;
            uint8_t *blk = get_block(b, h, &blen);
            HRE_T_OK(hre_ledger_submit_block(l, NULL, blk, blen, T0 + 9000));
            free(blk);
        }
        ck_assert_uint_eq(tip_height(l), 4);
        /* the host that last saw height 3 of the old chain: its three
         * blocks withdrawn (tip first), then the new chain from genesis */
        m = since(l, out, 256, last_seq, hb);
        ck_assert_uint_ge(m, 3 + 4);
        for (i = 0; i < 3; i++) {
            ck_assert_uint_eq(out[i].type, HRE_LEDGER_EVENT_BLOCK_DISCONNECTED);
            ck_assert_uint_eq(out[i].height, 3 - i);
            ck_assert_uint_eq(out[i].seq, 0);
        }
        ck_assert_mem_eq(out[0].block_hash, hb, 32);
        ck_assert_uint_eq(out[3].seq, 1);
        /* the same as the events the live host got after the DISCONNECTEDs */
        for (j = before; e->ev[j].type == HRE_LEDGER_EVENT_BLOCK_DISCONNECTED; j++)
            ;
        ck_assert_uint_eq(m - 3, (size_t)(e->n - j));
        for (i = 3; i < m; i++, j++)
            ck_assert_uint_eq(out[i].seq, e->ev[j].seq);
    }
    hre_ledger_close(l);
    /* reopen (snapshots off: a replay from genesis): the journal again, and
     * with the flag the host gets the replay's events, same seqs */
    r->n = 0;
    ck_assert_int_eq(open_ev(&l, st, &n, r, HRE_LEDGER_OPEN_REPLAY_EVENTS, 0), HRE_OK);
    m = since(l, out, 256, 0, NULL);
    ck_assert_uint_eq(m, (size_t)r->n);
    for (i = 0; i < m; i++)
        ck_assert_uint_eq(out[i].seq, r->ev[i].seq);
    ck_assert_uint_eq(r->ev[m - 1].seq, m);
    ck_assert_uint_eq(r->ev[m - 1].height, 4);
    hre_ledger_close(l);
    /* without the flag: nothing delivered at open */
    r->n = 0;
    ck_assert_int_eq(open_ev(&l, st, &n, r, 0, 3), HRE_OK);
    ck_assert_int_eq(r->n, 0);
    /* a journal of 3: older places are gone */
    m = 0;
    ck_assert_int_eq(hre_ledger_events_since(l, NULL, sizeof *out, &m, 0, NULL), HRE_ENOTFOUND);
    {
        /* the tip's CONNECTED (the live host's last event) still answers:
         * nothing after it; three places back too; four back is gone */
        const hre_ledger_event *last = &e->ev[e->n - 1];
        size_t cnt = 0;
        ck_assert_uint_eq(last->type, HRE_LEDGER_EVENT_BLOCK_CONNECTED);
        ck_assert_uint_eq(last->height, 4);
        HRE_T_OK(hre_ledger_events_since(l, NULL, sizeof *out, &cnt, last->seq, last->block_hash));
        ck_assert_uint_eq(cnt, 0);
        ck_assert_int_eq(hre_ledger_events_since(l, NULL, sizeof *out, &cnt, last->seq - 3,
                                                 last->block_hash), HRE_EBUFSIZE);
        ck_assert_uint_eq(cnt, 3);
        cnt = 0;
        ck_assert_int_eq(hre_ledger_events_since(l, NULL, sizeof *out, &cnt, last->seq - 4,
                                                 last->block_hash), HRE_ENOTFOUND);
    }
    hre_ledger_close(l);
    hre_ledger_close(b);
    for (j = 0; j < 4; j++)
        hre_key_free(k[j]);
    free(e);
    free(r);
    free(out);
    hre_storage_free(st);
    hre_storage_free(sb);
    net_free(&n);
}
END_TEST

#ifdef HRE_WHITEBOX

/* Mempool transactions are verified once: mining them costs no second
 * key-cache lookup (no second verification); a block from outside is
 * verified in full. */
START_TEST(test_mempool_verified_once)
{
    net n;
    hre_storage *sa = mem(), *sb = mem();
    hre_ledger *a = NULL, *b = NULL;
    hre_key *k[3];
    uint64_t h0, m0, h1, m1;
    uint8_t *blk;
    size_t len;
    int i;

    net_init(&n, 2016, 100000, 1000);
    ck_assert_int_eq(open_ledger(&a, sa, &n, 0, NULL), HRE_OK);
    ck_assert_int_eq(open_ledger(&b, sb, &n, 0, NULL), HRE_OK);
    for (i = 0; i < 3; i++) {
        txb t;
        k[i] = new_key();
        txb_patient(&t, n.id, k[i], 0, T0);
        HRE_T_OK(hre_ledger_submit_tx(a, NULL, NULL, t.b, t.len, T0 + 10));
    }
    hre_keycache_stats(a->kc, &h0, &m0);
    HRE_T_OK(hre_ledger_mine(a, NULL, NULL, T0 + 600, HRE_POW_ALL_NONCES, 0));
    hre_keycache_stats(a->kc, &h1, &m1);
    ck_assert_uint_eq((h1 + m1) - (h0 + m0), 3);   /* decode only */
    blk = get_block(a, 1, &len);
    hre_keycache_stats(b->kc, &h0, &m0);
    HRE_T_OK(hre_ledger_submit_block(b, NULL, blk, len, T0 + 600));
    hre_keycache_stats(b->kc, &h1, &m1);
    ck_assert_uint_eq((h1 + m1) - (h0 + m0), 6);   /* decode + verify */
    free(blk);
    hre_ledger_close(a);
    hre_ledger_close(b);
    for (i = 0; i < 3; i++)
        hre_key_free(k[i]);
    hre_storage_free(sa);
    hre_storage_free(sb);
    net_free(&n);
}
END_TEST

/* One open + close of the ledger of arg (tests/testutil.h sweep). */
struct sweep_open {
    hre_storage *st;
    const net *n;
};

static int sweep_open_fn(void *arg)
{
    struct sweep_open *a = arg;
    hre_ledger *l = NULL;
    int rc = open_ledger(&l, a->st, a->n, 2, NULL);
    if (rc != HRE_OK) ck_assert_ptr_null(l);
    hre_ledger_close(l);
    return rc;
}

START_TEST(test_alloc_failures)
{
    net n;
    hre_storage *st = mem();
    hre_ledger *l = NULL;
    hre_key *k = new_key();
    txb t;
    long i;
    int rc = HRE_ENOMEM;

    net_init(&n, 2016, 100000, 1000);
    ck_assert_int_eq(open_ledger(&l, st, &n, 2, NULL), HRE_OK);
    txb_patient(&t, n.id, k, 0, T0);
    HRE_T_OK(hre_ledger_submit_tx(l, NULL, NULL, t.b, t.len, T0 + 10));
    HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 600, HRE_POW_ALL_NONCES, 0));
    HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 1200, HRE_POW_ALL_NONCES, HRE_LEDGER_MINE_ALLOW_EMPTY));
    hre_ledger_close(l);
    {
        struct sweep_open so = { st, &n };
        ck_assert_int_gt(hre_t_alloc_sweep(sweep_open_fn, &so, 100000), 0);
    }
    rc = open_ledger(&l, st, &n, 2, NULL);
    ck_assert_int_eq(rc, HRE_OK);
    ck_assert_uint_eq(tip_height(l), 2);
    /* mining (template, validation, storage, snapshot, events) under
     * allocation failures: a clean ENOMEM and nothing connected, until it
     * succeeds */
    {
        hre_key *k2 = new_key();
        uint8_t sh[32], sh2[32];
        txb t2;
        txb_patient(&t2, n.id, k2, 0, T0);
        HRE_T_OK(hre_ledger_submit_tx(l, NULL, NULL, t2.b, t2.len, T0 + 1300));
        state_hash(l, sh);
        rc = HRE_ENOMEM;
        for (i = 0; i < 100000 && rc != HRE_OK; i++) {
            hre_test__alloc_fail_after(i);
            rc = hre_ledger_mine(l, NULL, NULL, T0 + 1800, HRE_POW_ALL_NONCES, 0);
            hre_test__alloc_fail_after(-1);
            if (rc == HRE_OK)
                break;
            ck_assert_msg(rc == HRE_ENOMEM, "mine alloc fail %ld: %d (%s)", i, rc,
                          hre_error_detail());
            ck_assert_uint_eq(tip_height(l), 2);
            state_hash(l, sh2);
            ck_assert_mem_eq(sh, sh2, 32);
        }
        ck_assert_int_eq(rc, HRE_OK);
        ck_assert_uint_eq(tip_height(l), 3);
        ck_assert_uint_eq(hre_ledger_mempool_count(l), 0);
        HRE_T_OK(hre_ledger_verify_chain(l, NULL, NULL, NULL));
        hre_key_free(k2);
    }
    hre_ledger_close(l);
    ck_assert_int_eq(open_ledger(&l, st, &n, 2, NULL), HRE_OK);
    ck_assert_uint_eq(tip_height(l), 3);
    hre_ledger_close(l);
    hre_key_free(k);
    hre_storage_free(st);
    net_free(&n);
}
END_TEST

/* Snapshot files: version 2 (a CRC-32 of the header, the payload covered by
 * the contract snapshot's own checksum) is what is written; version 1 (one
 * CRC-32 over the whole file) is still read. Damage to either part of either
 * version, or a header whose state hash disagrees with the payload, makes
 * the open fall back to the older snapshot (state_from shows which one was
 * loaded), with the same state. */
static void snap_put(hre_storage *s, const char *name, const uint8_t *b, size_t len)
{
    ck_assert_int_eq(hre_storage__write_file_atomic(s, name, b, len), HRE_OK);
}

static uint64_t open_floor(hre_storage *st, const net *n, const uint8_t ref[32])
{
    hre_ledger *l = NULL;
    uint8_t sh[32];
    uint64_t from;
    ck_assert_int_eq(open_ledger(&l, st, n, 2, NULL), HRE_OK);
    state_hash(l, sh);
    ck_assert_mem_eq(sh, ref, 32);
    from = l->state_from;
    hre_ledger_close(l);
    return from;
}

START_TEST(test_snapshot_file_versions)
{
    const char *s4 = "snap-0000000000000004.dat";
    net n;
    hre_storage *st = mem();
    hre_ledger *l = NULL;
    hre_key *k[4];
    uint8_t ref[32], *v2 = NULL, *v1, *b;
    size_t len = 0, plen, v1len;
    int i;

    net_init(&n, 2016, 100000, 1000);
    ck_assert_int_eq(open_ledger(&l, st, &n, 2, NULL), HRE_OK);
    mine_new_patients(l, &n, k, 4);
    state_hash(l, ref);
    hre_ledger_close(l);

    /* the layout written */
    ck_assert_int_eq(hre_storage__read_all(st, s4, 1u << 20, &v2, &len), HRE_OK);
    ck_assert_uint_gt(len, HRE_LEDGER__SNAP_OVERHEAD);
    ck_assert_mem_eq(v2, "HRESNAP2", 8);
    ck_assert_uint_eq(hre__le64(v2 + 8), 4);
    plen = len - HRE_LEDGER__SNAP_OVERHEAD;
    ck_assert_uint_eq(hre__le64(v2 + 80), plen);
    ck_assert_uint_eq(hre__le32(v2 + 88), hre_storage__crc32(0, v2, 88));
    ck_assert_mem_eq(v2 + 92, "HRECSNAP", 8);
    ck_assert_uint_eq(open_floor(st, &n, ref), 4);

    /* version 1: same header and payload, one CRC-32 over everything */
    v1len = len;
    v1 = malloc(v1len);
    memcpy(v1, "HRESNAP1", 8);
    memcpy(v1 + 8, v2 + 8, 80);
    memcpy(v1 + 88, v2 + 92, plen);
    hre__put_le32(v1 + 88 + plen, hre_storage__crc32(0, v1, 88 + plen));
    {
        hre_storage *c = copy_storage(st);
        snap_put(c, s4, v1, v1len);
        ck_assert_uint_eq(open_floor(c, &n, ref), 4);
        /* a payload byte of a version-1 file: its CRC */
        v1[88 + plen / 2] ^= 0x04;
        snap_put(c, s4, v1, v1len);
        ck_assert_uint_eq(open_floor(c, &n, ref), 2);
        hre_storage_free(c);
    }
    b = malloc(len);
    /* version 2, a payload byte: the contract snapshot's checksum */
    {
        hre_storage *c = copy_storage(st);
        memcpy(b, v2, len);
        b[92 + plen / 2] ^= 0x40;
        snap_put(c, s4, b, len);
        ck_assert_uint_eq(open_floor(c, &n, ref), 2);
        hre_storage_free(c);
    }
    /* version 2, a header byte: the header CRC */
    {
        hre_storage *c = copy_storage(st);
        memcpy(b, v2, len);
        b[60] ^= 0x01;
        snap_put(c, s4, b, len);
        ck_assert_uint_eq(open_floor(c, &n, ref), 2);
        /* ... and with the CRC fixed, the recorded state hash no longer
         * matches the payload's */
        hre__put_le32(b + 88, hre_storage__crc32(0, b, 88));
        snap_put(c, s4, b, len);
        ck_assert_uint_eq(open_floor(c, &n, ref), 2);
        hre_storage_free(c);
    }
    /* an unknown version is not loaded */
    {
        hre_storage *c = copy_storage(st);
        memcpy(b, v2, len);
        memcpy(b, "HRESNAP9", 8);
        hre__put_le32(b + 88, hre_storage__crc32(0, b, 88));
        snap_put(c, s4, b, len);
        ck_assert_uint_eq(open_floor(c, &n, ref), 2);
        hre_storage_free(c);
    }
    free(b);
    free(v1);
    hre__free(v2);
    for (i = 0; i < 4; i++)
        hre_key_free(k[i]);
    net_free(&n);
    hre_storage_free(st);
}
END_TEST

#endif /* HRE_WHITEBOX */

Suite *hre_suite_ledger(void)
{
    Suite *s = suite_create("ledger");
    TCase *tc = tcase_create("ledger");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_options_and_status);
    tcase_add_test(tc, test_mine_query_reopen);
    tcase_add_test(tc, test_group_commit_orphans);
    tcase_add_test(tc, test_retarget);
    tcase_add_test(tc, test_attacks);
    tcase_add_test(tc, test_reorg);
    tcase_add_test(tc, test_deep_reorg_and_bounds);
    tcase_add_test(tc, test_segments_roll);
    tcase_add_test(tc, test_damage);
    tcase_add_test(tc, test_log_hook);
    tcase_add_test(tc, test_error_clear_after_success);
    tcase_add_test(tc, test_options_versions);
    tcase_add_test(tc, test_contract_view);
    tcase_add_test(tc, test_power_loss);
    tcase_add_test(tc, test_faults);
    tcase_add_test(tc, test_batch_small_stack);
    tcase_add_test(tc, test_side_bound_stale_forks);
    tcase_add_test(tc, test_reorg_storage_faults);
    tcase_add_test(tc, test_random_storage_faults);
    tcase_add_test(tc, test_log_storage_and_fatal);
    tcase_add_test(tc, test_host_pool);
    tcase_add_test(tc, test_network_file);
    tcase_add_test(tc, test_next_nonce_and_work);
    tcase_add_test(tc, test_events_since);
#ifdef HRE_WHITEBOX
    tcase_add_test(tc, test_mempool_verified_once);
    tcase_add_test(tc, test_alloc_failures);
    tcase_add_test(tc, test_snapshot_file_versions);
    tcase_add_test(tc, test_reorg_rollback_fatal);
    tcase_add_test(tc, test_fatal_rule);
    tcase_add_test(tc, test_replay_undo_bounded);
#endif
    suite_add_tcase(s, tc);
    return s;
}
