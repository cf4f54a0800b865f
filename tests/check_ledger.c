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
        HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 600u * (uint64_t)(i + 1), HRE_POW_ALL_NONCES));
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
    HRE_T_OK(hre_ledger_mine(l, hash, &status, T0 + 600, HRE_POW_ALL_NONCES));
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
        HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 1200 + 600u * (uint64_t)i, HRE_POW_ALL_NONCES));
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
        HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 60u * (uint64_t)i, HRE_POW_ALL_NONCES));
    HRE_T_OK(hre_ledger_header_by_height(l, &h3, tip, 3));
    HRE_T_OK(hre_pow_retarget(&want, EASY, (int64_t)h3.time - T0, 4 * 600, n.params.pow_limit));
    ck_assert_uint_ne(want, EASY);
    /* a block at the boundary that keeps the old bits is refused */
    len = build_block(buf, sizeof buf, tip, h3.time + 60, EASY, NULL, 0, 1);
    ck_assert_int_eq(hre_ledger_submit_block(l, &s, buf, len, T0 + 1000), HRE_EVERIFY);
    ck_assert_int_eq(s, HRE_LEDGER_REJECT_BITS);
    HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 240, HRE_POW_ALL_NONCES));
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
    HRE_T_OK(hre_ledger_mine(e.l, NULL, NULL, T0 + 600, HRE_POW_ALL_NONCES));
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
        HRE_T_OK(hre_ledger_mine(a, NULL, NULL, T0 + 600, HRE_POW_ALL_NONCES));
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
    HRE_T_OK(hre_ledger_mine(a, NULL, NULL, T0 + 1200, HRE_POW_ALL_NONCES));
    ck_assert_uint_eq(hre_ledger_mempool_count(a), 0);
    /* B: blocks 2' (Z') and 3' (Y) */
    HRE_T_OK(hre_ledger_submit_tx(b, NULL, NULL, z2.b, z2.len, T0 + 700));
    HRE_T_OK(hre_ledger_mine(b, NULL, NULL, T0 + 1201, HRE_POW_ALL_NONCES));
    HRE_T_OK(hre_ledger_submit_tx(b, NULL, NULL, y.b, y.len, T0 + 1300));
    HRE_T_OK(hre_ledger_mine(b, NULL, NULL, T0 + 1800, HRE_POW_ALL_NONCES));
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
    HRE_T_OK(hre_ledger_mine(a, NULL, NULL, T0 + 2400, HRE_POW_ALL_NONCES));
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
        HRE_T_OK(hre_ledger_mine(a, NULL, NULL, T0 + 600u * (uint64_t)(i + 1), HRE_POW_ALL_NONCES));
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
        HRE_T_OK(hre_ledger_mine(b, NULL, NULL, T0 + 1801 + 600u * (uint64_t)i, HRE_POW_ALL_NONCES));
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
        HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 6000u + 600u * (uint64_t)i, HRE_POW_ALL_NONCES));
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
        HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 100000, HRE_POW_ALL_NONCES));
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
 * library met and handled failures inside it. The example: opening
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
    HRE_T_OK(hre_ledger_mine(b, NULL, NULL, T0 + 9000, HRE_POW_ALL_NONCES));
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
    HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 600, HRE_POW_ALL_NONCES));
    HRE_T_OK(hre_ledger_contract(l, &c));
    HRE_T_OK(hre_contract_stats_get(c, &s2));
    ck_assert_uint_eq(s2.accounts, s1.accounts + 1);
    /* mining with 0 tries tries none (one meaning of max_tries) */
    ck_assert_int_eq(hre_ledger_mine(l, NULL, NULL, T0 + 1200, 0), HRE_EEXHAUSTED);
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
            rc = hre_ledger_mine(l, hash, NULL, T0 + 600u * (uint64_t)(b + 1), HRE_POW_ALL_NONCES);
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
    HRE_T_OK(hre_ledger_mine(a, NULL, NULL, T0 + 600, HRE_POW_ALL_NONCES));
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
    HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 600, HRE_POW_ALL_NONCES));
    HRE_T_OK(hre_ledger_mine(l, NULL, NULL, T0 + 1200, HRE_POW_ALL_NONCES));
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
            rc = hre_ledger_mine(l, NULL, NULL, T0 + 1800, HRE_POW_ALL_NONCES);
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
 * the open fall back to the older snapshot (undo_floor shows which one was
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
    from = l->undo_floor;
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
#ifdef HRE_WHITEBOX
    tcase_add_test(tc, test_mempool_verified_once);
    tcase_add_test(tc, test_alloc_failures);
    tcase_add_test(tc, test_snapshot_file_versions);
#endif
    suite_add_tcase(s, tc);
    return s;
}
