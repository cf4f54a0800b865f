/*
 * Node (layer 6): the sans-I/O engine driven through its API with a tiny
 * deterministic loopback (tests/node_harness.c: byte queues between nodes,
 * a virtual clock). Public-API tests run in both builds; the hostile-peer
 * tests (a scripted raw peer that does a real Noise handshake, then sends
 * crafted messages) are white-box: they use the internal Noise core and
 * codecs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>
#include <hre/sys/transport.h>

#include "node_harness.h"
#include "testutil.h"
#ifdef HRE_WHITEBOX
#include "node/internal.h"
#include "fuzz/node_fuzz_net.h"
#endif

static tn_node *g_mp_node;   /* mempool_has */

static int synced_to(tn_net *t, void *arg)
{
    tn_node **pair = arg;
    uint8_t a[32], b[32];
    (void)t;
    tn_tip(pair[0], a);
    tn_tip(pair[1], b);
    return memcmp(a, b, 32) == 0;
}

static __attribute__((unused)) int all_ready(tn_net *t, void *arg)
{
    tn_node *n = arg;
    hre_node_stats st = HRE_NODE_STATS_INIT;
    (void)t;
    HRE_T_OK(hre_node_stats_get(n->node, &st));
    return st.peers > 0 && st.peers_ready == st.peers;
}

static void check_mem(tn_node *n)
{
    hre_node_stats st = HRE_NODE_STATS_INIT;
    HRE_T_OK(hre_node_stats_get(n->node, &st));
    ck_assert_uint_le(st.mem_used, st.mem_cap);
    ck_assert_uint_le(st.mem_peak, st.mem_cap);
}

/* ------------------------------------------------------------------------ */
/* API basics                                                                */
/* ------------------------------------------------------------------------ */

START_TEST(test_options_and_names)
{
    hre_node_options o;
    hre_transport_methods m;
    hre_node_peer_info pi;
    hre_node_stats st;
    hre_node_discouraged d;
    hre_node *n = (hre_node *)1;
    HRE_T_OK(hre_node_options_init(&o, HRE_NODE_OPTIONS_VERSION));
    ck_assert_ptr_null(o.ledger);
    ck_assert_uint_eq(o.max_peers, 0);
    ck_assert_int_eq(hre_node_options_init(&o, 0), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_node_options_init(&o, HRE_NODE_OPTIONS_VERSION + 1), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_node_options_init(NULL, 1), HRE_EINVAL);
    HRE_T_OK(hre_transport_methods_init(&m, HRE_TRANSPORT_METHODS_VERSION));
    ck_assert_ptr_null(m.send);
    ck_assert_int_eq(hre_transport_methods_init(&m, 2), HRE_EUNSUPPORTED);
    HRE_T_OK(hre_node_peer_info_init(&pi, HRE_NODE_PEER_INFO_VERSION));
    HRE_T_OK(hre_node_stats_init(&st, HRE_NODE_STATS_VERSION));
    HRE_T_OK(hre_node_discouraged_init(&d, HRE_NODE_DISCOURAGED_VERSION));
    ck_assert_int_eq(hre_node_new(&n, NULL, 0), HRE_EINVAL);
    ck_assert_ptr_null(n);
    n = (hre_node *)1;
    ck_assert_int_eq(hre_node_new(&n, &o, 0), HRE_EINVAL);   /* no ledger */
    ck_assert_ptr_null(n);
    ck_assert_str_eq(hre_node_reason_name(HRE_NODE_REASON_INVALID_POW), "invalid-pow");
    ck_assert_str_eq(hre_node_reason_name(HRE_NODE_REASON_REPLAY), "replay");
    ck_assert_str_eq(hre_node_reason_name(12345), "unknown");
    ck_assert_int_eq(hre_node_reason_discourages(HRE_NODE_REASON_INVALID_POW), 1);
    ck_assert_int_eq(hre_node_reason_discourages(HRE_NODE_REASON_TIME_FUTURE), 0);
    ck_assert_int_eq(hre_node_reason_discourages(HRE_NODE_REASON_STALLING), 0);
    /* every named reason has a distinct name */
    {
        static const int rs[] = { 0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                  23, 30, 31, 32, 33, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,
                                  53, 54, 55, 56 };
        size_t i, j;
        for (i = 0; i < sizeof rs / sizeof rs[0]; i++) {
            ck_assert_str_ne(hre_node_reason_name(rs[i]), "unknown");
            for (j = 0; j < i; j++)
                ck_assert_str_ne(hre_node_reason_name(rs[i]), hre_node_reason_name(rs[j]));
        }
    }
    ck_assert_int_eq(HRE_EAGAIN, -20);
    ck_assert_int_eq(HRE_EPROTO, -21);
    ck_assert_str_ne(hre_strerror(HRE_EAGAIN), "unknown error");
    ck_assert_str_ne(hre_strerror(HRE_EPROTO), "unknown error");
}
END_TEST

START_TEST(test_new_free_listener)
{
    tn_net t;
    tn_node *a;
    uint64_t when = 0;
    hre_node_stats st = HRE_NODE_STATS_INIT;
    hre_ledger_event_fn fn = NULL;
    void *ud = NULL;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    tn_start(a);
    hre_ledger_event_callback(a->l, &fn, &ud);
    ck_assert_ptr_nonnull(fn);            /* the node listens to its ledger */
    ck_assert_ptr_eq(ud, a->node);
    ck_assert_ptr_eq(hre_node_ledger(a->node), a->l);
    ck_assert_int_eq(hre_node_fatal_error(a->node), HRE_OK);
    HRE_T_OK(hre_node_next_timer(a->node, &when));
    ck_assert_uint_eq(when, UINT64_MAX);  /* nothing scheduled */
    HRE_T_OK(hre_node_stats_get(a->node, &st));
    ck_assert_uint_eq(st.peers, 0);
    ck_assert_int_eq(st.synced, 1);
    ck_assert_int_eq(st.member, HRE_NODE_MEMBER_NONE);
    ck_assert_uint_gt(st.mem_used, 0);
    tn_mine(a, 3);
    ck_assert_uint_eq(tn_height(a), 3);
    ck_assert_uint_eq(a->ledger_connected, 3);   /* forwarded */
    hre_node_free(a->node);
    a->node = NULL;
    hre_ledger_event_callback(a->l, &fn, &ud);
    ck_assert_ptr_null(fn);               /* the ledger's own (none) is back */
    HRE_T_OK(hre_node_new(&a->node, &a->opts, t.now));
    tn_net_free(&t);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Sync                                                                      */
/* ------------------------------------------------------------------------ */

static void sync_pair(uint64_t blocks, size_t chunk, int pull_b)
{
    tn_net t;
    tn_node *a, *b, *pair[2];
    hre_node_stats st = HRE_NODE_STATS_INIT;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    b = tn_node_add(&t, "b", NULL, NULL);
    b->pull = pull_b;
    tn_start(a);
    tn_start(b);
    tn_mine(a, (int)blocks);
    if (chunk)
        t.chunk = chunk;
    tn_connect(&t, b, a);
    pair[0] = a;
    pair[1] = b;
    ck_assert(tn_run(&t, synced_to, pair, 600000));
    ck_assert_uint_eq(tn_height(b), blocks);
    HRE_T_OK(hre_node_stats_get(b->node, &st));
    ck_assert_uint_eq(st.blocks_received, blocks);
    ck_assert_uint_eq(st.tip_height, blocks);
    ck_assert_int_eq(st.synced, 1);
    ck_assert_uint_eq(st.headers_held, 0);
    ck_assert_uint_eq(st.blocks_buffered, 0);
    ck_assert_uint_eq(st.peers_ready, 1);
    check_mem(a);
    check_mem(b);
    ck_assert_uint_eq(tn_count_events(b, HRE_NODE_EVENT_PEER_DISCONNECTED, -1), 0);
    tn_net_free(&t);
}

START_TEST(test_sync_small)
{
    sync_pair(30, 0, 0);
}
END_TEST

START_TEST(test_sync_byte_by_byte)
{
    /* every frame, message header and message arrives one byte per call */
    sync_pair(5, 1, 0);
}
END_TEST

START_TEST(test_sync_pull_mode)
{
    sync_pair(20, 0, 1);
}
END_TEST


static tn_node *g_watch_b;
static int g_seen_ahead;
static uint32_t g_max_headers;

static int watch_synced(tn_net *t, void *arg)
{
    hre_node_stats st = HRE_NODE_STATS_INIT;
    HRE_T_OK(hre_node_stats_get(g_watch_b->node, &st));
    if (st.best_header_height == 1000 && st.tip_height < 1000)
        g_seen_ahead = 1;
    if (st.headers_held > g_max_headers)
        g_max_headers = st.headers_held;
    return synced_to(t, arg);
}

START_TEST(test_sync_1000_headers_first)
{
    tn_net t;
    tn_node *a, *b, *pair[2];
    hre_node_stats st = HRE_NODE_STATS_INIT;
    hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
    uint64_t ca;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    b = tn_node_add(&t, "b", NULL, NULL);
    tn_start(a);
    tn_start(b);
    tn_mine(a, 1000);
    tn_connect(&t, b, a);
    pair[0] = a;
    pair[1] = b;
    /* headers first: b knows the whole header chain before it holds 1000 blocks */
    g_watch_b = b;
    g_seen_ahead = 0;
    g_max_headers = 0;
    ck_assert(tn_run(&t, watch_synced, pair, 600000));
    ck_assert(g_seen_ahead);
    ck_assert_uint_le(g_max_headers, 1000);
    ck_assert_uint_eq(tn_height(b), 1000);
    HRE_T_OK(hre_node_stats_get(b->node, &st));
    ck_assert_uint_eq(st.blocks_received, 1000);
    ck_assert_int_eq(st.synced, 1);
    ca = tn_conn_at(&t, b, a);
    HRE_T_OK(hre_node_peer_info_get(b->node, &pi, ca));
    ck_assert_int_eq(pi.state, HRE_NODE_PEER_READY);
    ck_assert_uint_eq(pi.flags, HRE_NODE_PEER_OUTBOUND);
    ck_assert_str_eq(pi.address, "a");
    ck_assert_int_eq(pi.has_identity, 0);
    ck_assert_uint_eq(pi.best_height, 1000);
    ck_assert_uint_gt(pi.bytes_received, 1000u * 81u);
    check_mem(b);
    tn_net_free(&t);
}
END_TEST

static int height_at_least(tn_net *t, void *arg)
{
    tn_node *n = arg;
    (void)t;
    return tn_height(n) >= 200;
}

START_TEST(test_kill_restart_resumes)
{
    tn_net t;
    tn_node *a, *b, *pair[2];
    hre_node_stats st = HRE_NODE_STATS_INIT;
    uint64_t h0;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    b = tn_node_add(&t, "b", NULL, NULL);
    b->opts.submit_batch = 16;
    tn_start(a);
    tn_start(b);
    tn_mine(a, 600);
    tn_connect(&t, b, a);
    ck_assert(tn_run(&t, height_at_least, b, 600000));
    h0 = tn_height(b);
    ck_assert_uint_lt(h0, 600);
    /* killed mid-sync: node and ledger go, the storage stays */
    tn_stop(b, 1);
    tn_settle(&t, 1000);
    tn_restart(b);
    ck_assert_uint_eq(tn_height(b), h0);   /* the ledger kept what was connected */
    tn_connect(&t, b, a);
    pair[0] = a;
    pair[1] = b;
    ck_assert(tn_run(&t, synced_to, pair, 600000));
    HRE_T_OK(hre_node_stats_get(b->node, &st));
    /* resumed from its tip, not from genesis */
    ck_assert_uint_eq(st.blocks_received, 600 - h0);
    ck_assert_uint_eq(tn_height(b), 600);
    tn_net_free(&t);
}
END_TEST

START_TEST(test_partition_reorg)
{
    tn_net t;
    tn_node *a, *b, *pair[2];
    uint8_t tb[32];
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    b = tn_node_add(&t, "b", NULL, NULL);
    tn_start(a);
    tn_start(b);
    tn_mine(a, 10);
    tn_connect(&t, b, a);
    pair[0] = a;
    pair[1] = b;
    ck_assert(tn_run(&t, synced_to, pair, 60000));
    /* partition */
    HRE_T_OK(hre_node_peer_disconnect(b->node, tn_conn_at(&t, b, a), t.now));
    tn_settle(&t, 1000);
    ck_assert_uint_eq(tn_conn_at(&t, a, b), 0);
    tn_mine(a, 5);
    tn_mine(b, 8);
    ck_assert_uint_eq(tn_height(a), 15);
    ck_assert_uint_eq(tn_height(b), 18);
    tn_tip(b, tb);
    a->ledger_disconnected = 0;
    tn_connect(&t, a, b);
    ck_assert(tn_run(&t, synced_to, pair, 600000));
    ck_assert_uint_eq(tn_height(a), 18);
    ck_assert_uint_eq(a->ledger_disconnected, 5);   /* its own fork was undone */
    {
        uint8_t ta[32];
        tn_tip(a, ta);
        ck_assert_mem_eq(ta, tb, 32);
    }
    tn_net_free(&t);
}
END_TEST

START_TEST(test_self_connection)
{
    tn_net t;
    tn_node *a;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    tn_start(a);
    tn_connect(&t, a, a);
    tn_settle(&t, 5000);
    ck_assert_uint_ge(tn_count_events(a, HRE_NODE_EVENT_PEER_DISCONNECTED, HRE_NODE_REASON_SELF_CONNECTION), 1);
    ck_assert_uint_eq(hre_node_discouraged_count(a->node), 0);   /* not punished */
    tn_net_free(&t);
}
END_TEST

START_TEST(test_backpressure_push)
{
    /* the transport takes 700 bytes per send: the node keeps the rest and
     * resumes on hre_node_peer_writable */
    tn_net t;
    tn_node *a, *b, *pair[2];
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    b = tn_node_add(&t, "b", NULL, NULL);
    tn_start(a);
    tn_start(b);
    tn_mine(a, 40);
    a->send_limit = 700;
    b->send_limit = 13;
    tn_connect(&t, b, a);
    pair[0] = a;
    pair[1] = b;
    ck_assert(tn_run(&t, synced_to, pair, 600000));
    /* a stalled sender: nothing is lost while the transport refuses */
    tn_mine(a, 3);
    a->eagain = 1;
    tn_settle(&t, 100);
    ck_assert_uint_eq(tn_height(b), 40);
    ck_assert_uint_gt(hre_node_peer_pending(a->node, tn_conn_at(&t, a, b)), 0);
    a->eagain = 0;
    ck_assert(tn_run(&t, synced_to, pair, 600000));
    ck_assert_uint_eq(tn_height(b), 43);
    tn_net_free(&t);
}
END_TEST

static void noop_raw(void *raw, const uint8_t *d, size_t len)
{
    (void)raw;
    (void)d;
    (void)len;
}

START_TEST(test_silent_peer_times_out)
{
    tn_net t;
    tn_node *a;
    int ep;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    a->opts.handshake_timeout_ms = 5000;
    tn_start(a);
    ep = tn_raw_attach(&t, a, NULL, noop_raw, 0, "silent");
    tn_settle(&t, 4000);
    ck_assert(tn_raw_open(&t, ep));
    tn_settle(&t, 2000);
    ck_assert(!tn_raw_open(&t, ep));
    ck_assert_ptr_nonnull(tn_find_event(a, HRE_NODE_EVENT_PEER_DISCONNECTED, HRE_NODE_REASON_HANDSHAKE_TIMEOUT));
    ck_assert_uint_eq(hre_node_discouraged_count(a->node), 0);
    /* an outbound connection to a peer that never answers: the same */
    ep = tn_raw_attach(&t, a, NULL, noop_raw, HRE_NODE_PEER_OUTBOUND, "mute");
    tn_settle(&t, 6000);
    ck_assert(!tn_raw_open(&t, ep));
    ck_assert_uint_eq(tn_count_events(a, HRE_NODE_EVENT_PEER_DISCONNECTED, HRE_NODE_REASON_HANDSHAKE_TIMEOUT), 2);
    tn_net_free(&t);
}
END_TEST

START_TEST(test_mining_steps)
{
    tn_net t;
    tn_node *a, *b, *pair[2];
    int found = 0, exhausted = 0, i;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    b = tn_node_add(&t, "b", NULL, NULL);
    tn_start(a);
    tn_start(b);
    tn_connect(&t, b, a);
    tn_settle(&t, 1000);
    ck_assert_int_eq(hre_node_mine(a->node, NULL, NULL, t.now, 0), HRE_EEXHAUSTED);
    /* one nonce per step: at the easy target about half the steps find one */
    for (i = 0; i < 200 && found < 10; i++) {
        uint8_t h[32];
        hre_ledger_status st;
        int rc = hre_node_mine(a->node, h, &st, t.now += 10, 1);
        if (rc == HRE_OK) {
            found++;
            ck_assert_int_eq(st, HRE_LEDGER_CONNECTED);
        } else {
            ck_assert_int_eq(rc, HRE_EEXHAUSTED);
            ck_assert_int_eq(st, HRE_LEDGER_STATUS_NONE);
            exhausted++;
        }
        tn_settle(&t, 0);
    }
    ck_assert_int_eq(found, 10);
    ck_assert_int_gt(exhausted, 0);
    ck_assert_uint_eq(tn_height(a), 10);
    pair[0] = a;
    pair[1] = b;
    ck_assert(tn_run(&t, synced_to, pair, 60000));   /* announced and fetched */
    /* b's template follows its new tip */
    tn_mine(b, 1);
    ck_assert(tn_run(&t, synced_to, pair, 60000));
    ck_assert_uint_eq(tn_height(a), 11);
    tn_net_free(&t);
}
END_TEST

START_TEST(test_three_nodes_parallel_fetch)
{
    tn_net t;
    tn_node *a, *b, *c, *pair[2];
    hre_node_peer_info pa = HRE_NODE_PEER_INFO_INIT, pb = HRE_NODE_PEER_INFO_INIT;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    b = tn_node_add(&t, "b", NULL, NULL);
    c = tn_node_add(&t, "c", NULL, NULL);
    c->opts.blocks_in_flight = 4;
    tn_start(a);
    tn_start(b);
    tn_start(c);
    tn_mine(a, 200);
    tn_connect(&t, b, a);
    pair[0] = a;
    pair[1] = b;
    ck_assert(tn_run(&t, synced_to, pair, 600000));
    tn_connect(&t, c, a);
    tn_connect(&t, c, b);
    pair[1] = c;
    ck_assert(tn_run(&t, synced_to, pair, 600000));
    HRE_T_OK(hre_node_peer_info_get(c->node, &pa, tn_conn_at(&t, c, a)));
    HRE_T_OK(hre_node_peer_info_get(c->node, &pb, tn_conn_at(&t, c, b)));
    /* both served blocks (each block is > 80 bytes; 200 blocks in all) */
    ck_assert_uint_gt(pa.bytes_received, 30u * 81u);
    ck_assert_uint_gt(pb.bytes_received, 30u * 81u);
    tn_net_free(&t);
}
END_TEST


#ifdef HRE_WHITEBOX
/* ------------------------------------------------------------------------ */
/* A scripted raw peer: a real Noise XX handshake by hand, then crafted       */
/* messages (white-box: the internal Noise core and codecs)                   */
/* ------------------------------------------------------------------------ */

typedef struct rmsg {
    uint16_t cmd;
    uint8_t *d;
    size_t len;
} rmsg;

typedef struct raw {
    tn_net *t;
    tn_node *node;
    int ep;
    int initiator;
    hre_noise__hs *hs;
    hre_noise__transport tr;
    int up;
    hre_x25519__key s;
    hre_key *id;
    const uint8_t *id_override;        /* MITM: forward another handshake's identity payload */
    size_t id_override_len;
    uint8_t hello[HRE_NODE__HELLO_LEN];
    uint8_t *in;
    size_t inlen, incap;
    uint8_t *pt;
    size_t ptlen, ptcap;
    rmsg *msgs;
    size_t nmsgs, capmsgs;
    uint64_t rcount, scount;
    uint8_t msg1[256];
    size_t msg1_len;
    const uint8_t *replay_msg1;        /* send these bytes as message 1 */
    size_t replay_len;
    int stop_after;                    /* 1: no message 3; 2: no version */
    int auto_verack;                   /* answer a version with a verack */
    int auto_pong;
    uint64_t v_height;
    uint8_t v_work[32];
    uint64_t v_nonce;
    uint8_t peer_id[128];              /* the node's identity payload */
    size_t peer_id_len;
    uint8_t peer_hh[32];               /* handshake hash at its payload */
} raw;

static int raw_sign(void *arg, const uint8_t h[32], uint8_t *payload, size_t len)
{
    raw *r = arg;
    uint8_t d[32];
    if (r->id_override) {
        ck_assert_uint_eq(len, r->id_override_len);
        memcpy(payload, r->id_override, len);
        return HRE_OK;
    }
    payload[0] = 1;
    if (!r->id) {
        payload[1] = 0;
        return HRE_OK;
    }
    payload[1] = 1;
    tn_key_wire(r->id, payload + 2);
    HRE_T_OK(hre_node__identity_digest(d, h));
    HRE_T_OK(hre_key_sign(r->id, payload + 36, d));
    return HRE_OK;
}

static void raw_frame(raw *r, const uint8_t *m, size_t len)
{
    uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };
    tn_raw_write(r->t, r->ep, hdr, 2);
    tn_raw_write(r->t, r->ep, m, len);
}

static void raw_seal(raw *r, const uint8_t *pt, size_t len)
{
    uint8_t ct[HRE_NOISE__MAX_MSG];
    size_t cl = sizeof ct;
    HRE_T_OK(hre_noise__transport_write(&r->tr, ct, &cl, pt, len));
    raw_frame(r, ct, cl);
    if (++r->scount % HRE_NODE__REKEY_INTERVAL == 0)
        HRE_T_OK(hre_noise__transport_rekey_send(&r->tr));
}

/* Send a byte string as the plaintext stream (split into transport messages). */
static void raw_stream(raw *r, const uint8_t *d, size_t len)
{
    while (len) {
        size_t k = len > HRE_NOISE__MAX_PAYLOAD ? HRE_NOISE__MAX_PAYLOAD : len;
        raw_seal(r, d, k);
        d += k;
        len -= k;
    }
}

static void raw_send_magic(raw *r, const uint8_t magic[4], uint16_t cmd, const uint8_t *p, size_t len)
{
    uint8_t *b = malloc(HRE_NODE__MSG_HDR + len + 1);
    ck_assert_ptr_nonnull(b);
    hre_node__msg_header(b, magic, cmd, (uint32_t)len);
    if (len)
        memcpy(b + HRE_NODE__MSG_HDR, p, len);
    raw_stream(r, b, HRE_NODE__MSG_HDR + len);
    free(b);
}

static void raw_send(raw *r, uint16_t cmd, const uint8_t *p, size_t len)
{
    raw_send_magic(r, r->t->id, cmd, p, len);
}

static void raw_version(raw *r)
{
    hre_node__version v;
    uint8_t b[HRE_NODE__VERSION_LEN];
    uint8_t fp[32];
    memset(&v, 0, sizeof v);
    v.protocol = HRE_NODE_PROTOCOL_VERSION;
    memcpy(v.network_id, r->t->id, 32);
    HRE_T_OK(hre_ledger_fingerprint(r->node->l, fp));
    memcpy(v.fingerprint, fp, 32);
    v.best_height = r->v_height;
    memcpy(v.best_work, r->v_work, 32);
    v.nonce = r->v_nonce ? r->v_nonce : 0x1234567890abcdefull;
    v.time_ms = r->t->now;
    hre_node__version_encode(b, &v);
    raw_send(r, HRE_NODE__CMD_VERSION, b, sizeof b);
}

static void raw_store(raw *r, uint16_t cmd, const uint8_t *d, size_t len)
{
    rmsg *m;
    if (r->nmsgs == r->capmsgs) {
        r->capmsgs = r->capmsgs ? r->capmsgs * 2 : 64;
        r->msgs = realloc(r->msgs, r->capmsgs * sizeof *r->msgs);
        ck_assert_ptr_nonnull(r->msgs);
    }
    m = &r->msgs[r->nmsgs++];
    m->cmd = cmd;
    m->len = len;
    m->d = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(m->d);
    if (len)
        memcpy(m->d, d, len);
    if (cmd == HRE_NODE__CMD_VERSION && r->auto_verack)
        raw_send(r, HRE_NODE__CMD_VERACK, NULL, 0);
    if (cmd == HRE_NODE__CMD_PING && r->auto_pong)
        raw_send(r, HRE_NODE__CMD_PONG, d, len);
}

static void raw_parse_stream(raw *r)
{
    size_t off = 0;
    while (r->ptlen - off >= HRE_NODE__MSG_HDR) {
        const uint8_t *h = r->pt + off;
        uint32_t len = (uint32_t)h[6] | (uint32_t)h[7] << 8 | (uint32_t)h[8] << 16 | (uint32_t)h[9] << 24;
        uint16_t cmd = (uint16_t)(h[4] | h[5] << 8);
        if (r->ptlen - off - HRE_NODE__MSG_HDR < len)
            break;
        ck_assert_mem_eq(h, r->t->id, 4);
        raw_store(r, cmd, h + HRE_NODE__MSG_HDR, len);
        off += HRE_NODE__MSG_HDR + len;
    }
    memmove(r->pt, r->pt + off, r->ptlen - off);
    r->ptlen -= off;
}

static void raw_up(raw *r)
{
    HRE_T_OK(hre_noise__hs_split(r->hs, &r->tr));
    hre_noise__hs_free(r->hs);
    r->hs = NULL;
    r->up = 1;
    if (r->stop_after != 2)
        raw_version(r);
}

static void raw_write_identity(raw *r)
{
    uint8_t m[512];
    size_t ml = sizeof m;
    size_t plen = r->id_override ? r->id_override_len : (r->id ? HRE_NODE__ID_LEN : HRE_NODE__ID_NONE_LEN);
    HRE_T_OK(hre_noise__hs_write_fn(r->hs, m, &ml, plen, raw_sign, r));
    raw_frame(r, m, ml);
}

static void raw_on_bytes(void *arg, const uint8_t *d, size_t len)
{
    raw *r = arg;
    size_t off = 0;
    if (r->inlen + len > r->incap) {
        r->incap = (r->inlen + len) * 2;
        r->in = realloc(r->in, r->incap);
        ck_assert_ptr_nonnull(r->in);
    }
    memcpy(r->in + r->inlen, d, len);
    r->inlen += len;
    for (;;) {
        size_t fl;
        const uint8_t *m;
        if (r->inlen - off < 2)
            break;
        fl = (size_t)r->in[off] << 8 | r->in[off + 1];
        if (r->inlen - off - 2 < fl)
            break;
        m = r->in + off + 2;
        off += 2 + fl;
        if (!r->up) {
            uint8_t pl[HRE_NOISE__MAX_MSG];
            size_t pll = sizeof pl, idx;
            if (!r->hs)
                break;
            idx = hre_noise__hs_message_index(r->hs);
            HRE_T_OK(hre_noise__hs_read(r->hs, pl, &pll, m, fl));
            if (idx >= 1) {
                hre_noise__hs_payload_hash(r->hs, r->peer_hh);
                ck_assert_uint_le(pll, sizeof r->peer_id);
                memcpy(r->peer_id, pl, pll);
                r->peer_id_len = pll;
            }
            if (r->initiator && idx == 1) {
                if (r->stop_after == 1)
                    continue;
                raw_write_identity(r);
                raw_up(r);
            } else if (!r->initiator && idx == 0) {
                raw_write_identity(r);
            } else if (!r->initiator && idx == 2) {
                raw_up(r);
            }
            continue;
        }
        {
            uint8_t pt[HRE_NOISE__MAX_MSG];
            size_t pl = sizeof pt;
            HRE_T_OK(hre_noise__transport_read(&r->tr, pt, &pl, m, fl));
            if (++r->rcount % HRE_NODE__REKEY_INTERVAL == 0)
                HRE_T_OK(hre_noise__transport_rekey_recv(&r->tr));
            if (r->ptlen + pl > r->ptcap) {
                r->ptcap = (r->ptlen + pl) * 2;
                r->pt = realloc(r->pt, r->ptcap);
                ck_assert_ptr_nonnull(r->pt);
            }
            memcpy(r->pt + r->ptlen, pt, pl);
            r->ptlen += pl;
            raw_parse_stream(r);
        }
    }
    memmove(r->in, r->in + off, r->inlen - off);
    r->inlen -= off;
}

/* Connect a raw peer to node n. initiator: the raw side dials (the node sees
 * an inbound connection). */
static void raw_open(raw *r, tn_net *t, tn_node *n, int initiator, hre_key *id, const char *addr)
{
    hre_noise__config cfg;
    uint8_t prologue[HRE_NODE__PROLOGUE_LEN];
    memset(r, 0, sizeof *r);
    r->t = t;
    r->node = n;
    r->initiator = initiator;
    r->id = id;
    r->auto_verack = 1;
    r->auto_pong = 1;
    hre_node__hello_encode(r->hello, t->id);
    HRE_T_OK(hre_x25519__generate(&r->s));
    hre_node__prologue(prologue, t->id);
    memset(&cfg, 0, sizeof cfg);
    cfg.protocol = HRE_NODE__NOISE_NAME;
    cfg.initiator = initiator;
    cfg.prologue = prologue;
    cfg.prologuelen = sizeof prologue;
    cfg.s = &r->s;
    HRE_T_OK(hre_noise__hs_new(&r->hs, &cfg));
    r->ep = tn_raw_attach(t, n, r, raw_on_bytes, initiator ? 0 : HRE_NODE_PEER_OUTBOUND, addr);
}

static void raw_go(raw *r)
{
    if (!r->initiator)
        return;
    if (r->replay_msg1) {
        raw_frame(r, r->replay_msg1, r->replay_len);
        return;
    }
    r->msg1_len = sizeof r->msg1;
    HRE_T_OK(hre_noise__hs_write(r->hs, r->msg1, &r->msg1_len, r->hello, sizeof r->hello));
    raw_frame(r, r->msg1, r->msg1_len);
}

static void raw_free(raw *r)
{
    size_t i;
    hre_noise__hs_free(r->hs);
    hre_noise__transport_clear(&r->tr);
    hre_x25519__clear(&r->s);
    for (i = 0; i < r->nmsgs; i++)
        free(r->msgs[i].d);
    free(r->msgs);
    free(r->in);
    free(r->pt);
}

static size_t raw_count(const raw *r, uint16_t cmd)
{
    size_t i, k = 0;
    for (i = 0; i < r->nmsgs; i++)
        if (r->msgs[i].cmd == cmd)
            k++;
    return k;
}

static int raw_ready_cond(tn_net *t, void *arg)
{
    raw *r = arg;
    (void)t;
    return r->up && raw_count(r, HRE_NODE__CMD_VERACK) > 0 && raw_count(r, HRE_NODE__CMD_VERSION) > 0;
}

/* A raw peer that completed the handshake and the version exchange. */
static void raw_ready(raw *r, tn_net *t, tn_node *n, int initiator, hre_key *id, const char *addr)
{
    raw_open(r, t, n, initiator, id, addr);
    raw_go(r);
    ck_assert(tn_run(t, raw_ready_cond, r, 10000));
    tn_settle(t, 10);
}

/* bytes the raw end still has to deliver; the node's id for the raw connection */
static size_t g_flood_left(tn_net *t, int ep)
{
    return t->eps[ep].qlen - t->eps[ep].qoff;
}

static uint64_t g_node_conn(tn_net *t, int ep)
{
    return t->eps[t->eps[ep].other].conn;
}

static void expect_drop(tn_net *t, tn_node *n, raw *r, int reason, const char *addr)
{
    hre_node_discouraged d = HRE_NODE_DISCOURAGED_INIT;
    tn_settle(t, 100);
    ck_assert_msg(!tn_raw_open(t, r->ep), "the node kept the connection (expected %s)",
                  hre_node_reason_name(reason));
    ck_assert_msg(tn_find_event(n, HRE_NODE_EVENT_PEER_DISCONNECTED, reason) != NULL,
                  "no disconnect with reason %s", hre_node_reason_name(reason));
    ck_assert_int_eq(tn_find_event(n, HRE_NODE_EVENT_PEER_DISCONNECTED, reason)->discouraged,
                     hre_node_reason_discourages(reason));
    if (hre_node_reason_discourages(reason)) {
        HRE_T_OK(hre_node_discouraged_get(n->node, &d, addr, NULL));
        ck_assert_int_eq(d.reason, reason);
        ck_assert_str_eq(d.address, addr);
        /* it may not come back from that address */
        ck_assert_int_eq(hre_node_peer_connected(n->node, 999999, addr, 0, t->now), HRE_EAUTH);
    } else {
        ck_assert_int_eq(hre_node_discouraged_get(n->node, NULL, addr, NULL), HRE_ENOTFOUND);
    }
    check_mem(n);
}

/* A node with `blocks` blocks and a raw peer ready on it. */
typedef struct rig {
    tn_net t;
    tn_node *a;
    raw r;
} rig;

static void rig_init(rig *g, int blocks, const char *addr)
{
    tn_net_init(&g->t, 1u << 20);
    g->a = tn_node_add(&g->t, "a", NULL, NULL);
    g->a->opts.max_memory = 48u << 20;
    tn_start(g->a);
    if (blocks)
        tn_mine(g->a, blocks);
    raw_ready(&g->r, &g->t, g->a, 1, NULL, addr);
}

static void rig_free(rig *g)
{
    raw_free(&g->r);
    tn_net_free(&g->t);
}

START_TEST(test_raw_handshake_and_version)
{
    rig g;
    uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
    uint64_t conn;
    rig_init(&g, 3, "raw-ok");
    ck_assert_ptr_nonnull(tn_find_event(g.a, HRE_NODE_EVENT_PEER_READY, -1));
    /* the node's identity payload says "none" (it has no key) */
    ck_assert_uint_eq(g.r.peer_id_len, 2);
    ck_assert_uint_eq(g.r.peer_id[1], 0);
    /* ping -> pong, after the version exchange */
    raw_send(&g.r, HRE_NODE__CMD_PING, b, 8);
    tn_settle(&g.t, 10);
    ck_assert_uint_eq(raw_count(&g.r, HRE_NODE__CMD_PONG), 1);
    /* a duplicate version is ignored (no disconnect) */
    raw_version(&g.r);
    tn_settle(&g.t, 10);
    ck_assert(tn_raw_open(&g.t, g.r.ep));
    conn = g.t.eps[g.t.eps[g.r.ep].other].conn;
    HRE_T_OK(hre_node_peer_info_get(g.a->node, &pi, conn));
    ck_assert_int_eq(pi.state, HRE_NODE_PEER_READY);
    ck_assert_str_eq(pi.address, "raw-ok");
    ck_assert_int_eq(pi.has_identity, 0);
    ck_assert_int_eq(pi.member, HRE_NODE_MEMBER_NONE);
    /* the channel binding both sides see is the same */
    {
        uint8_t zero[32] = { 0 };
        ck_assert_mem_ne(pi.handshake_hash, zero, 32);
        ck_assert_mem_eq(pi.handshake_hash, g.r.tr.h, 32);
    }
    ck_assert_uint_eq(hre_node_discouraged_count(g.a->node), 0);
    rig_free(&g);
}
END_TEST

START_TEST(test_raw_messages_before_version_ignored)
{
    tn_net t;
    tn_node *a;
    raw r;
    uint8_t b[8] = { 0 };
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    tn_start(a);
    raw_open(&r, &t, a, 1, NULL, "early");
    r.stop_after = 2;   /* channel up, no version yet */
    r.auto_verack = 0;
    raw_go(&r);
    tn_settle(&t, 100);
    ck_assert(r.up);
    raw_send(&r, HRE_NODE__CMD_PING, b, 8);
    raw_send(&r, HRE_NODE__CMD_VERACK, NULL, 0);   /* before version: ignored too */
    {
        uint8_t gh[1 + 32 + 32] = { 1 };
        raw_send(&r, HRE_NODE__CMD_GETHEADERS, gh, sizeof gh);
    }
    tn_settle(&t, 100);
    ck_assert(tn_raw_open(&t, r.ep));
    ck_assert_uint_eq(raw_count(&r, HRE_NODE__CMD_PONG), 0);
    ck_assert_uint_eq(raw_count(&r, HRE_NODE__CMD_HEADERS), 0);
    ck_assert_ptr_null(tn_find_event(a, HRE_NODE_EVENT_PEER_READY, -1));
    raw_version(&r);
    raw_send(&r, HRE_NODE__CMD_VERACK, NULL, 0);
    tn_settle(&t, 100);
    ck_assert_ptr_nonnull(tn_find_event(a, HRE_NODE_EVENT_PEER_READY, -1));
    raw_send(&r, HRE_NODE__CMD_PING, b, 8);
    tn_settle(&t, 10);
    ck_assert_uint_eq(raw_count(&r, HRE_NODE__CMD_PONG), 1);
    raw_free(&r);
    tn_net_free(&t);
}
END_TEST

static void hello_case(const uint8_t *hello, int reason)
{
    tn_net t;
    tn_node *a;
    raw r;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    tn_start(a);
    raw_open(&r, &t, a, 1, NULL, "hello");
    memcpy(r.hello, hello, HRE_NODE__HELLO_LEN);
    raw_go(&r);
    expect_drop(&t, a, &r, reason, "hello");
    ck_assert(!r.up);
    raw_free(&r);
    tn_net_free(&t);
}

START_TEST(test_raw_wrong_network)
{
    uint8_t h[HRE_NODE__HELLO_LEN];
    uint8_t other[32];
    memset(other, 0x42, 32);
    hre_node__hello_encode(h, other);
    hello_case(h, HRE_NODE_REASON_WRONG_NETWORK);
}
END_TEST

START_TEST(test_raw_bad_magic_hello)
{
    tn_net t;
    tn_node *a;
    raw r;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    tn_start(a);
    raw_open(&r, &t, a, 1, NULL, "magic");
    r.hello[0] ^= 0x20;   /* "hREN" */
    raw_go(&r);
    expect_drop(&t, a, &r, HRE_NODE_REASON_BAD_MAGIC, "magic");
    raw_free(&r);
    /* and protocol version 0 */
    raw_open(&r, &t, a, 1, NULL, "v0");
    memset(r.hello + 4, 0, 4);
    raw_go(&r);
    expect_drop(&t, a, &r, HRE_NODE_REASON_OLD_VERSION, "v0");
    raw_free(&r);
    tn_net_free(&t);
}
END_TEST

START_TEST(test_raw_bad_magic_message)
{
    rig g;
    uint8_t magic[4] = { 0xde, 0xad, 0xbe, 0xef };
    uint8_t b[8] = { 0 };
    rig_init(&g, 0, "magic2");
    raw_send_magic(&g.r, magic, HRE_NODE__CMD_PING, b, 8);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_BAD_MAGIC, "magic2");
    rig_free(&g);
}
END_TEST

START_TEST(test_raw_bad_tag)
{
    rig g;
    uint8_t ct[64], pt[HRE_NODE__MSG_HDR + 8];
    size_t cl = sizeof ct;
    rig_init(&g, 0, "tag");
    hre_node__msg_header(pt, g.t.id, HRE_NODE__CMD_PING, 8);
    memset(pt + HRE_NODE__MSG_HDR, 7, 8);
    HRE_T_OK(hre_noise__transport_write(&g.r.tr, ct, &cl, pt, sizeof pt));
    ct[cl - 1] ^= 1;
    raw_frame(&g.r, ct, cl);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_DECRYPT, "tag");
    rig_free(&g);
}
END_TEST

START_TEST(test_raw_empty_transport_message)
{
    rig g;
    rig_init(&g, 0, "empty");
    raw_seal(&g.r, NULL, 0);   /* a tag and nothing else: not canonical */
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_MALFORMED, "empty");
    rig_free(&g);
}
END_TEST

START_TEST(test_raw_oversize)
{
    rig g;
    uint8_t hdr[HRE_NODE__MSG_HDR];
    rig_init(&g, 0, "big");
    /* a block header announcing one byte more than the block cap: refused at
     * the header, before any payload is read */
    hre_node__msg_header(hdr, g.t.id, HRE_NODE__CMD_BLOCK, (uint32_t)(g.t.params.max_block_size + 1));
    raw_stream(&g.r, hdr, sizeof hdr);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_OVERSIZE, "big");
    rig_free(&g);
    rig_init(&g, 0, "bigtx");
    hre_node__msg_header(hdr, g.t.id, HRE_NODE__CMD_TX, HRE_TX_MAX_LEN + 1);
    raw_stream(&g.r, hdr, sizeof hdr);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_OVERSIZE, "bigtx");
    rig_free(&g);
    rig_init(&g, 0, "bigunknown");
    hre_node__msg_header(hdr, g.t.id, 999, HRE_NODE__UNKNOWN_CAP + 1);
    raw_stream(&g.r, hdr, sizeof hdr);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_OVERSIZE, "bigunknown");
    rig_free(&g);
}
END_TEST

START_TEST(test_raw_noncanonical)
{
    rig g;
    uint8_t b[HRE_NODE__VERSION_LEN + 1];
    /* HEADERS count 0 written as 0xfd 0x00 0x00 (not minimal) */
    rig_init(&g, 0, "nc1");
    b[0] = 0xfd;
    b[1] = 0;
    b[2] = 0;
    raw_send(&g.r, HRE_NODE__CMD_HEADERS, b, 3);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_MALFORMED, "nc1");
    rig_free(&g);
    /* an inv entry of an unknown type */
    rig_init(&g, 0, "nc2");
    memset(b, 0, sizeof b);
    b[0] = 1;
    b[1] = 9;
    raw_send(&g.r, HRE_NODE__CMD_INV, b, 1 + HRE_NODE__INV_ENTRY);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_MALFORMED, "nc2");
    rig_free(&g);
    /* a version with a trailing byte (protocol 1 is exactly 132 bytes) */
    {
        tn_net t;
        tn_node *a;
        raw r;
        tn_net_init(&t, 0);
        a = tn_node_add(&t, "a", NULL, NULL);
        tn_start(a);
        raw_open(&r, &t, a, 1, NULL, "nc3");
        r.stop_after = 2;
        raw_go(&r);
        tn_settle(&t, 100);
        {
            hre_node__version v;
            memset(&v, 0, sizeof v);
            v.protocol = 1;
            memcpy(v.network_id, t.id, 32);
            HRE_T_OK(hre_ledger_fingerprint(a->l, v.fingerprint));
            v.nonce = 5;
            hre_node__version_encode(b, &v);
            b[HRE_NODE__VERSION_LEN] = 0;
            raw_send(&r, HRE_NODE__CMD_VERSION, b, HRE_NODE__VERSION_LEN + 1);
        }
        expect_drop(&t, a, &r, HRE_NODE_REASON_MALFORMED, "nc3");
        raw_free(&r);
        tn_net_free(&t);
    }
    /* a ping of 7 bytes */
    rig_init(&g, 0, "nc4");
    raw_send(&g.r, HRE_NODE__CMD_PING, b, 7);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_MALFORMED, "nc4");
    rig_free(&g);
}
END_TEST

START_TEST(test_raw_wrong_params_version)
{
    tn_net t;
    tn_node *a;
    raw r;
    uint8_t b[HRE_NODE__VERSION_LEN];
    hre_node__version v;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    tn_start(a);
    raw_open(&r, &t, a, 1, NULL, "fp");
    r.stop_after = 2;
    raw_go(&r);
    tn_settle(&t, 100);
    memset(&v, 0, sizeof v);
    v.protocol = 1;
    memcpy(v.network_id, t.id, 32);
    memset(v.fingerprint, 0x33, 32);   /* same genesis, other rules */
    v.nonce = 9;
    hre_node__version_encode(b, &v);
    raw_send(&r, HRE_NODE__CMD_VERSION, b, sizeof b);
    expect_drop(&t, a, &r, HRE_NODE_REASON_WRONG_PARAMS, "fp");
    raw_free(&r);
    tn_net_free(&t);
}
END_TEST

/* counts over their caps: each its own reason, each discouraged */
START_TEST(test_raw_over_caps)
{
    rig g;
    uint8_t *b = calloc(1, 3 + 2001u * 80u);
    size_t pos;
    ck_assert_ptr_nonnull(b);
    /* 2,001 headers */
    rig_init(&g, 0, "h2001");
    hre_node__list_begin(b, &pos, 2001);
    raw_send(&g.r, HRE_NODE__CMD_HEADERS, b, pos + 2001u * 80u);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_HEADERS_OVER_CAP, "h2001");
    rig_free(&g);
    /* a count of 2,001 with too few bytes: the count is refused first */
    rig_init(&g, 0, "h2001b");
    hre_node__list_begin(b, &pos, 2001);
    raw_send(&g.r, HRE_NODE__CMD_HEADERS, b, pos + 80u);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_HEADERS_OVER_CAP, "h2001b");
    rig_free(&g);
    /* a 102-entry locator */
    rig_init(&g, 0, "loc102");
    hre_node__list_begin(b, &pos, 102);
    raw_send(&g.r, HRE_NODE__CMD_GETHEADERS, b, pos + 102u * 32u + 32u);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_LOCATOR_OVER_CAP, "loc102");
    rig_free(&g);
    /* and a 101-entry one is fine */
    rig_init(&g, 2, "loc101");
    memset(b, 0, 3 + 2001u * 80u);
    hre_node__list_begin(b, &pos, 101);
    raw_send(&g.r, HRE_NODE__CMD_GETHEADERS, b, pos + 101u * 32u + 32u);
    tn_settle(&g.t, 100);
    ck_assert(tn_raw_open(&g.t, g.r.ep));
    ck_assert_uint_eq(raw_count(&g.r, HRE_NODE__CMD_HEADERS), 1);
    rig_free(&g);
    /* an over-cap inv, and getdata */
    rig_init(&g, 0, "inv1001");
    memset(b, 0, 3 + 2001u * 80u);
    hre_node__list_begin(b, &pos, 1001);
    for (size_t i = 0; i < 1001; i++)
        b[pos + 33 * i] = HRE_NODE__INV_BLOCK;
    raw_send(&g.r, HRE_NODE__CMD_INV, b, pos + 1001u * 33u);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_INV_OVER_CAP, "inv1001");
    rig_free(&g);
    rig_init(&g, 0, "gd1001");
    raw_send(&g.r, HRE_NODE__CMD_GETDATA, b, pos + 1001u * 33u);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_GETDATA_OVER_CAP, "gd1001");
    rig_free(&g);
    free(b);
}
END_TEST

/* Headers of a real chain (from another node), with tweaks. */
static void chain_headers(tn_node *src, hre_header *out, int n)
{
    int i;
    for (i = 0; i < n; i++)
        HRE_T_OK(hre_ledger_header_by_height(src->l, &out[i], NULL, (uint64_t)i + 1));
}

static void send_headers(raw *r, const hre_header *h, size_t n)
{
    uint8_t *b = malloc(3 + 80 * n);
    size_t pos, i;
    ck_assert_ptr_nonnull(b);
    hre_node__list_begin(b, &pos, n);
    for (i = 0; i < n; i++) {
        HRE_T_OK(hre_header_encode(&h[i], b + pos));
        pos += 80;
    }
    raw_send(r, HRE_NODE__CMD_HEADERS, b, pos);
    free(b);
}

typedef struct hrig {
    tn_net t;
    tn_node *a, *src;
    hre_header h[20];
    raw r;
} hrig;

/* a: an empty node under test; src: a node of the same network with 20 blocks */
static void hrig_init(hrig *g, const char *addr)
{
    tn_net_init(&g->t, 0);
    g->a = tn_node_add(&g->t, "a", NULL, NULL);
    g->src = tn_node_add(&g->t, "src", NULL, NULL);
    /* the raw peer never serves blocks: no stall or timeout verdicts here */
    g->a->opts.stall_timeout_ms = 100000000;
    g->a->opts.stall_timeout_max_ms = 100000000;
    g->a->opts.request_timeout_ms = 100000000;
    tn_start(g->a);
    tn_start(g->src);
    tn_mine(g->src, 20);
    chain_headers(g->src, g->h, 20);
    raw_ready(&g->r, &g->t, g->a, 1, NULL, addr);
}

static void hrig_free(hrig *g)
{
    raw_free(&g->r);
    tn_net_free(&g->t);
}

START_TEST(test_raw_invalid_pow)
{
    hrig g;
    hrig_init(&g, "pow");
    /* a real first header whose nonce is changed until its hash misses the target */
    {
        hre_header h = g.h[0];
        uint8_t hash[32];
        do {
            h.nonce++;
            HRE_T_OK(hre_header_hash(&h, hash));
        } while (hre_pow_check(&h, g.t.params.pow_limit) == HRE_OK);
        send_headers(&g.r, &h, 1);
    }
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_INVALID_POW, "pow");
    hrig_free(&g);
}
END_TEST

START_TEST(test_raw_non_continuous_and_non_connecting)
{
    hrig g;
    hre_header two[2];
    hrig_init(&g, "gap");
    two[0] = g.h[0];
    two[1] = g.h[2];   /* skips one */
    send_headers(&g.r, two, 2);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_NON_CONTINUOUS, "gap");
    hrig_free(&g);
    hrig_init(&g, "float");
    /* the parent of the first is unknown to a: answered with GETHEADERS
       (a's view may be behind) up to HRE_NODE__MAX_UNCONNECTING times in a
       row, then the peer is dropped and discouraged */
    for (unsigned k = 0; k < HRE_NODE__MAX_UNCONNECTING; k++) {
        size_t gh = raw_count(&g.r, HRE_NODE__CMD_GETHEADERS);
        send_headers(&g.r, &g.h[5], 3);
        tn_settle(&g.t, 100);
        ck_assert_msg(tn_raw_open(&g.t, g.r.ep), "dropped after %u non-connecting messages", k + 1);
        ck_assert_uint_gt(raw_count(&g.r, HRE_NODE__CMD_GETHEADERS), gh);
    }
    send_headers(&g.r, &g.h[5], 3);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_NON_CONNECTING, "float");
    hrig_free(&g);
    /* a message that connects resets the count */
    hrig_init(&g, "float2");
    for (unsigned k = 0; k < 2 * HRE_NODE__MAX_UNCONNECTING; k++) {
        if (k % HRE_NODE__MAX_UNCONNECTING == HRE_NODE__MAX_UNCONNECTING - 1)
            send_headers(&g.r, &g.h[0], 1);
        else
            send_headers(&g.r, &g.h[5], 3);
        tn_settle(&g.t, 100);
        ck_assert_msg(tn_raw_open(&g.t, g.r.ep), "dropped at message %u", k + 1);
    }
    hrig_free(&g);
}
END_TEST

START_TEST(test_raw_valid_headers_accepted)
{
    hrig g;
    hre_node_stats st = HRE_NODE_STATS_INIT;
    hrig_init(&g, "good");
    send_headers(&g.r, g.h, 20);
    tn_settle(&g.t, 10);
    ck_assert(tn_raw_open(&g.t, g.r.ep));
    HRE_T_OK(hre_node_stats_get(g.a->node, &st));
    ck_assert_uint_eq(st.headers_held, 20);
    ck_assert_uint_eq(st.best_header_height, 20);
    ck_assert_int_eq(st.synced, 0);
    /* it asks the raw peer for the blocks (its version claimed height 0, but
     * the headers showed it has them) */
    ck_assert_uint_ge(raw_count(&g.r, HRE_NODE__CMD_GETDATA), 1);
    hrig_free(&g);
}
END_TEST

/* The retarget rule in the node's header checks (one definition with the
 * ledger's and the header-chain check's, hre_chain__expected_bits): with a
 * retarget every 5 blocks and 20 blocks mined 1 s apart, the first period
 * (from a genesis a day older) keeps the easiest bits (clamped to 4x, capped
 * at pow_limit) and the ones ending at heights 10, 15 and 20 make the target
 * a quarter each (clamped); the headers are accepted, and a header at a
 * retarget height carrying its parent's bits (proof of work valid under
 * them) is refused as an invalid header. */
static void hrig_init_interval(hrig *g, const char *addr, uint64_t interval)
{
    tn_net_init(&g->t, 0);
    g->t.params.retarget_interval = interval;
    g->a = tn_node_add(&g->t, "a", NULL, NULL);
    g->src = tn_node_add(&g->t, "src", NULL, NULL);
    g->a->opts.stall_timeout_ms = 100000000;
    g->a->opts.stall_timeout_max_ms = 100000000;
    g->a->opts.request_timeout_ms = 100000000;
    tn_start(g->a);
    tn_start(g->src);
    tn_mine(g->src, 20);
    chain_headers(g->src, g->h, 20);
    raw_ready(&g->r, &g->t, g->a, 1, NULL, addr);
}

START_TEST(test_raw_retarget_bits)
{
    hrig g;
    hre_node_stats st = HRE_NODE_STATS_INIT;
    hrig_init_interval(&g, "retarget", 5);
    /* the chain really retargets: height 10 (g.h[9]) has other bits than 9 */
    ck_assert_uint_eq(g.h[4].bits, TN_EASY);
    ck_assert_uint_eq(g.h[8].bits, TN_EASY);
    ck_assert_uint_ne(g.h[9].bits, g.h[8].bits);
    ck_assert_uint_ne(g.h[14].bits, g.h[13].bits);
    send_headers(&g.r, g.h, 20);
    tn_settle(&g.t, 10);
    ck_assert(tn_raw_open(&g.t, g.r.ep));
    HRE_T_OK(hre_node_stats_get(g.a->node, &st));
    ck_assert_uint_eq(st.headers_held, 20);
    hrig_free(&g);

    hrig_init_interval(&g, "noretarget", 5);
    {
        hre_header bad[10];
        memcpy(bad, g.h, sizeof bad);
        bad[9].bits = bad[8].bits;   /* no retarget at height 10 */
        HRE_T_OK(hre_pow_mine(&bad[9], NULL, HRE_POW_ALL_NONCES));
        send_headers(&g.r, bad, 10);
    }
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_INVALID_HEADER, "noretarget");
    hrig_free(&g);
}
END_TEST

START_TEST(test_raw_time_future_not_punished)
{
    hrig g;
    hre_header h;
    hre_node_stats st = HRE_NODE_STATS_INIT;
    size_t gh;
    hrig_init(&g, "future");
    /* a valid chain of 5, then a header 3 h ahead of the node's clock */
    h = g.h[4];
    {
        hre_header hs[6];
        memcpy(hs, g.h, 5 * sizeof h);
        HRE_T_OK(hre_header_hash(&g.h[4], hs[5].prev_hash));
        hs[5] = g.h[5];
        hs[5].time = (uint32_t)(g.t.now / 1000 + 3 * 3600);
        hs[5].nonce = 0;
        HRE_T_OK(hre_pow_mine(&hs[5], NULL, 1000000));
        gh = raw_count(&g.r, HRE_NODE__CMD_GETHEADERS);
        send_headers(&g.r, hs, 6);
    }
    tn_settle(&g.t, 10);
    ck_assert(tn_raw_open(&g.t, g.r.ep));
    ck_assert_ptr_nonnull(tn_find_event(g.a, HRE_NODE_EVENT_REFUSED, HRE_NODE_REASON_TIME_FUTURE));
    ck_assert_uint_eq(hre_node_discouraged_count(g.a->node), 0);
    HRE_T_OK(hre_node_stats_get(g.a->node, &st));
    ck_assert_uint_eq(st.headers_held, 5);   /* the ones before it were kept */
    /* asked again later */
    tn_settle(&g.t, 61000);
    ck_assert_uint_gt(raw_count(&g.r, HRE_NODE__CMD_GETHEADERS), gh);
    (void)h;
    hrig_free(&g);
}
END_TEST

/* raw peer that serves a node's headers for any getheaders */
static void raw_serve_headers(raw *r, tn_node *from)
{
    size_t i, k;
    for (i = 0; i < r->nmsgs; i++) {
        if (r->msgs[i].cmd != HRE_NODE__CMD_GETHEADERS || r->msgs[i].len == 0)
            continue;
        r->msgs[i].len = 0;   /* answered */
        k = (size_t)tn_height(from);
        if (k > 2000)
            k = 2000;
        {
            hre_header *h = malloc((k ? k : 1) * sizeof *h);
            ck_assert_ptr_nonnull(h);
            chain_headers(from, h, (int)k);
            send_headers(r, h, k);
            free(h);
        }
    }
}

static int stall_watch_max;
static tn_node *stall_node;
static raw *stall_raw;

static int stall_cond(tn_net *t, void *arg)
{
    hre_node_stats st = HRE_NODE_STATS_INIT;
    HRE_T_OK(hre_node_stats_get(stall_node->node, &st));
    if ((int)st.stall_timeout_ms > stall_watch_max)
        stall_watch_max = (int)st.stall_timeout_ms;
    if (stall_raw)
        raw_serve_headers(stall_raw, (tn_node *)arg);
    {
        tn_node *pair[2] = { (tn_node *)arg, stall_node };
        return synced_to(t, pair);
    }
}

START_TEST(test_raw_staller_during_sync)
{
    tn_net t;
    tn_node *a, *c;
    raw r;
    hre_ledger_block_info bi = HRE_LEDGER_BLOCK_INFO_INIT;
    uint8_t tip[32];
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    c = tn_node_add(&t, "c", NULL, NULL);
    tn_start(a);
    tn_start(c);
    tn_mine(a, 100);
    tn_tip(a, tip);
    HRE_T_OK(hre_ledger_block_info_get(a->l, &bi, tip));
    /* the staller claims a's chain, shows its headers, never sends a block */
    raw_open(&r, &t, c, 1, NULL, "staller");
    r.v_height = 100;
    memcpy(r.v_work, bi.work, 32);
    raw_go(&r);
    stall_node = c;
    stall_raw = &r;
    stall_watch_max = 0;
    tn_run(&t, raw_ready_cond, &r, 10000);
    tn_settle(&t, 5);
    raw_serve_headers(&r, a);
    tn_settle(&t, 5);
    ck_assert_uint_ge(raw_count(&r, HRE_NODE__CMD_GETDATA), 1);   /* it was asked for blocks */
    tn_connect(&t, c, a);
    ck_assert(tn_run(&t, stall_cond, a, 600000));
    ck_assert_uint_eq(tn_height(c), 100);
    ck_assert(!tn_raw_open(&t, r.ep));
    ck_assert_ptr_nonnull(tn_find_event(c, HRE_NODE_EVENT_PEER_DISCONNECTED, HRE_NODE_REASON_STALLING));
    ck_assert_int_eq(stall_watch_max, 2 * HRE_NODE_DEFAULT_STALL_TIMEOUT_MS);   /* it doubled */
    ck_assert_uint_eq(hre_node_discouraged_count(c->node), 0);                  /* not punished */
    stall_raw = NULL;
    raw_free(&r);
    tn_net_free(&t);
}
END_TEST

START_TEST(test_raw_handshake_never_finished)
{
    tn_net t;
    tn_node *a;
    raw r;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    tn_start(a);
    /* message 1 and then nothing */
    raw_open(&r, &t, a, 1, NULL, "half");
    r.stop_after = 1;
    raw_go(&r);
    tn_settle(&t, 5000);
    ck_assert(tn_raw_open(&t, r.ep));
    tn_settle(&t, 6000);
    ck_assert(!tn_raw_open(&t, r.ep));
    raw_free(&r);
    /* the channel up, but never a version */
    raw_open(&r, &t, a, 1, NULL, "nover");
    r.stop_after = 2;
    raw_go(&r);
    tn_settle(&t, 11000);
    ck_assert(!tn_raw_open(&t, r.ep));
    ck_assert_uint_eq(tn_count_events(a, HRE_NODE_EVENT_PEER_DISCONNECTED, HRE_NODE_REASON_HANDSHAKE_TIMEOUT), 2);
    raw_free(&r);
    tn_net_free(&t);
}
END_TEST

START_TEST(test_raw_ping_timeout)
{
    rig g;
    rig_init(&g, 0, "nopong");
    g.r.auto_pong = 0;
    tn_settle(&g.t, HRE_NODE_DEFAULT_PING_INTERVAL_MS - 1000);
    ck_assert(tn_raw_open(&g.t, g.r.ep));
    ck_assert_uint_ge(raw_count(&g.r, HRE_NODE__CMD_PING), 0);
    tn_settle(&g.t, 1000 + HRE_NODE_DEFAULT_PING_TIMEOUT_MS + 10);
    ck_assert_uint_eq(raw_count(&g.r, HRE_NODE__CMD_PING), 1);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_TIMEOUT, "nopong");
    rig_free(&g);
}
END_TEST

static tn_node *flood_a, *flood_c;

static int flood_cond(tn_net *t, void *arg)
{
    tn_node *pair[2] = { flood_a, flood_c };
    (void)arg;
    return synced_to(t, pair);
}

START_TEST(test_raw_flood_others_served)
{
    tn_net t;
    tn_node *a, *c;
    raw r;
    hre_node_stats st = HRE_NODE_STATS_INIT;
    uint8_t *junk;
    size_t i, big;
    tn_net_init(&t, 1u << 20);
    a = tn_node_add(&t, "a", NULL, NULL);
    c = tn_node_add(&t, "c", NULL, NULL);
    a->opts.max_memory = 24u << 20;
    tn_start(a);
    tn_start(c);
    tn_mine(a, 5);
    raw_ready(&r, &t, a, 1, NULL, "flood");
    /* 80 junk messages of maximal size: unrequested blocks (1 MiB, the cap),
     * transactions (the tx cap) from a non-member, unknown commands */
    big = (size_t)t.params.max_block_size;
    junk = malloc(big);
    ck_assert_ptr_nonnull(junk);
    for (i = 0; i < big; i++)
        junk[i] = (uint8_t)(i * 131u + 7u);
    for (i = 0; i < 80; i++) {
        if (i % 3 == 0)
            raw_send(&r, HRE_NODE__CMD_BLOCK, junk, big);
        else if (i % 3 == 1)
            raw_send(&r, HRE_NODE__CMD_TX, junk, HRE_TX_MAX_LEN);
        else
            raw_send(&r, 777, junk, HRE_NODE__UNKNOWN_CAP);
    }
    free(junk);
    /* meanwhile a second peer syncs from a */
    t.chunk = 65536;
    tn_connect(&t, c, a);
    flood_a = a;
    flood_c = c;
    ck_assert(tn_run(&t, flood_cond, NULL, 600000));
    /* the flood was still being delivered when c was served */
    ck_assert_uint_gt(g_flood_left(&t, r.ep), 0);
    tn_settle(&t, 1000);
    HRE_T_OK(hre_node_stats_get(a->node, &st));
    ck_assert_uint_le(st.mem_peak, st.mem_cap);
    ck_assert_uint_lt(st.mem_peak, 4u << 20);   /* junk is not buffered */
    ck_assert(tn_raw_open(&t, r.ep));            /* junk of this kind is tolerated */
    ck_assert_uint_eq(tn_count_events(a, HRE_NODE_EVENT_REFUSED, HRE_NODE_REASON_NOT_MEMBER), 27);
    {
        hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
        HRE_T_OK(hre_node_peer_info_get(a->node, &pi, g_node_conn(&t, r.ep)));
        ck_assert_uint_ge(pi.messages_received, 80);
    }
    raw_free(&r);
    tn_net_free(&t);
}
END_TEST

START_TEST(test_raw_mitm_refused)
{
    tn_net t;
    tn_node *a, *b;
    hre_key *ka, *kb;
    raw toa, tob;
    tn_net_init(&t, 0);
    HRE_T_OK(hre_key_generate(&ka, HRE_CURVE_P256));
    HRE_T_OK(hre_key_generate(&kb, HRE_CURVE_P256));
    a = tn_node_add(&t, "a", ka, NULL);
    b = tn_node_add(&t, "b", kb, NULL);
    tn_start(a);
    tn_start(b);
    /* the relay opens its own channel to b and learns b's identity payload */
    raw_open(&tob, &t, b, 1, NULL, "relay-b");
    tob.stop_after = 1;
    raw_go(&tob);
    tn_settle(&t, 10);
    ck_assert_uint_eq(tob.peer_id_len, HRE_NODE__ID_LEN);
    /* a dials the relay, which presents b's identity (a real signature by b's
     * key, over the relay<->b handshake hash) */
    raw_open(&toa, &t, a, 0, NULL, "relay-a");
    toa.id_override = tob.peer_id;
    toa.id_override_len = tob.peer_id_len;
    tn_settle(&t, 10);
    expect_drop(&t, a, &toa, HRE_NODE_REASON_IDENTITY_INVALID, "relay-a");
    /* without the relay, the same keys verify */
    tn_connect(&t, a, b);
    tn_settle(&t, 100);
    {
        hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
        uint8_t w[34];
        HRE_T_OK(hre_node_peer_info_get(a->node, &pi, tn_conn_at(&t, a, b)));
        ck_assert_int_eq(pi.state, HRE_NODE_PEER_READY);
        ck_assert_int_eq(pi.has_identity, 1);
        tn_key_wire(kb, w);
        ck_assert_mem_eq(pi.identity_key, w, 34);
        ck_assert_int_eq(pi.member, HRE_NODE_MEMBER_UNKNOWN_KEY);   /* not on the chain */
    }
    raw_free(&toa);
    raw_free(&tob);
    tn_net_free(&t);
    hre_key_free(ka);
    hre_key_free(kb);
}
END_TEST

START_TEST(test_raw_replay_refused)
{
    tn_net t;
    tn_node *a;
    raw r1, r2;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    tn_start(a);
    raw_ready(&r1, &t, a, 1, NULL, "orig");
    raw_open(&r2, &t, a, 1, NULL, "replayer");
    r2.replay_msg1 = r1.msg1;
    r2.replay_len = r1.msg1_len;
    raw_go(&r2);
    expect_drop(&t, a, &r2, HRE_NODE_REASON_REPLAY, "replayer");
    ck_assert(tn_raw_open(&t, r1.ep));
    raw_free(&r1);
    raw_free(&r2);
    tn_net_free(&t);
}
END_TEST

START_TEST(test_raw_identity_malformed)
{
    tn_net t;
    tn_node *a;
    raw r;
    uint8_t bad[HRE_NODE__ID_LEN];
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    tn_start(a);
    memset(bad, 0x77, sizeof bad);
    bad[0] = 1;
    bad[1] = 1;   /* a "key" that is not a point */
    raw_open(&r, &t, a, 0, NULL, "badkey");
    r.id_override = bad;
    r.id_override_len = sizeof bad;
    tn_settle(&t, 10);
    expect_drop(&t, a, &r, HRE_NODE_REASON_IDENTITY_MALFORMED, "badkey");
    raw_free(&r);
    bad[1] = 2;   /* unknown flags */
    raw_open(&r, &t, a, 0, NULL, "badflags");
    r.id_override = bad;
    r.id_override_len = sizeof bad;
    tn_settle(&t, 10);
    expect_drop(&t, a, &r, HRE_NODE_REASON_IDENTITY_MALFORMED, "badflags");
    raw_free(&r);
    tn_net_free(&t);
}
END_TEST

START_TEST(test_raw_rekey_both_sides)
{
    rig g;
    hre_node__peer *p;
    uint8_t b[8];
    int i;
    rig_init(&g, 0, "rekey");
    p = hre_node__peer_find(g.a->node, g_node_conn(&g.t, g.r.ep));
    ck_assert_ptr_nonnull(p);
    /* both directions three messages before a rekey point */
    p->send_msgs = HRE_NODE__REKEY_INTERVAL * 3ull - 3;
    hre_noise__cipher_set_nonce(&p->tr.send, p->send_msgs);
    g.r.rcount = p->send_msgs;
    hre_noise__cipher_set_nonce(&g.r.tr.recv, p->send_msgs);
    p->recv_msgs = HRE_NODE__REKEY_INTERVAL - 2;
    hre_noise__cipher_set_nonce(&p->tr.recv, p->recv_msgs);
    g.r.scount = p->recv_msgs;
    hre_noise__cipher_set_nonce(&g.r.tr.send, p->recv_msgs);
    for (i = 0; i < 8; i++) {
        memset(b, i, 8);
        raw_send(&g.r, HRE_NODE__CMD_PING, b, 8);
        tn_settle(&g.t, 1);   /* one transport message each way per ping */
    }
    ck_assert(tn_raw_open(&g.t, g.r.ep));
    ck_assert_uint_eq(raw_count(&g.r, HRE_NODE__CMD_PONG), 8);
    ck_assert_uint_gt(p->send_msgs, HRE_NODE__REKEY_INTERVAL * 3ull);
    ck_assert_uint_gt(p->recv_msgs, HRE_NODE__REKEY_INTERVAL);
    rig_free(&g);
}
END_TEST

START_TEST(test_raw_nonce_exhausted)
{
    rig g;
    hre_node__peer *p;
    uint8_t b[8] = { 0 };
    rig_init(&g, 0, "nonce");
    p = hre_node__peer_find(g.a->node, g_node_conn(&g.t, g.r.ep));
    hre_noise__cipher_set_nonce(&p->tr.recv, UINT64_MAX - 1);
    hre_noise__cipher_set_nonce(&g.r.tr.send, UINT64_MAX - 2);
    raw_send(&g.r, HRE_NODE__CMD_PING, b, 8);   /* the raw side may still use n - 1 ... */
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_NONCE_EXHAUSTED, "nonce");
    rig_free(&g);
}
END_TEST

START_TEST(test_raw_header_memory_bounded)
{
    hrig g;
    hre_node_stats st = HRE_NODE_STATS_INIT;
    tn_net_init(&g.t, 0);
    g.a = tn_node_add(&g.t, "a", NULL, NULL);
    g.src = tn_node_add(&g.t, "src", NULL, NULL);
    g.a->opts.max_headers_per_peer = 7;
    g.a->opts.stall_timeout_ms = 100000000;
    g.a->opts.stall_timeout_max_ms = 100000000;
    g.a->opts.request_timeout_ms = 100000000;
    tn_start(g.a);
    tn_start(g.src);
    tn_mine(g.src, 20);
    chain_headers(g.src, g.h, 20);
    raw_ready(&g.r, &g.t, g.a, 1, NULL, "hoard");
    send_headers(&g.r, g.h, 20);
    tn_settle(&g.t, 10);
    ck_assert(tn_raw_open(&g.t, g.r.ep));   /* not punished */
    HRE_T_OK(hre_node_stats_get(g.a->node, &st));
    ck_assert_uint_eq(st.headers_held, 7);
    {
        hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
        HRE_T_OK(hre_node_peer_info_get(g.a->node, &pi, g_node_conn(&g.t, g.r.ep)));
        ck_assert_uint_eq(pi.headers_held, 7);
    }
    /* its peer gone, the best header chain stays (within the total cap), no
     * longer counted to anyone; an honest peer with the chain completes it */
    tn_raw_close(&g.t, g.r.ep);
    tn_settle(&g.t, 10);
    HRE_T_OK(hre_node_stats_get(g.a->node, &st));
    ck_assert_uint_eq(st.headers_held, 7);
    tn_connect(&g.t, g.a, g.src);
    {
        tn_node *pair[2] = { g.src, g.a };
        ck_assert(tn_run(&g.t, synced_to, pair, 600000));
    }
    HRE_T_OK(hre_node_stats_get(g.a->node, &st));
    ck_assert_uint_eq(st.headers_held, 0);
    ck_assert_uint_eq(st.tip_height, 20);
    hrig_free(&g);
}
END_TEST

START_TEST(test_raw_low_work_chain_ignored)
{
    hrig g;
    hre_node_stats st = HRE_NODE_STATS_INIT;
    hrig_init(&g, "lowwork");
    tn_mine(g.a, 30);   /* a's own chain has more work than src's 20 blocks */
    send_headers(&g.r, g.h, 20);
    tn_settle(&g.t, 10);
    ck_assert(tn_raw_open(&g.t, g.r.ep));
    ck_assert_uint_eq(raw_count(&g.r, HRE_NODE__CMD_GETDATA), 0);   /* nothing downloaded */
    HRE_T_OK(hre_node_stats_get(g.a->node, &st));
    ck_assert_int_eq(st.synced, 1);
    ck_assert_uint_eq(st.tip_height, 30);
    hrig_free(&g);
}
END_TEST

START_TEST(test_raw_unrequested_block_ignored)
{
    hrig g;
    uint8_t *b;
    size_t len = 0;
    hrig_init(&g, "pushy");
    ck_assert_int_eq(hre_ledger_block_by_height(g.src->l, NULL, &len, 1), HRE_EBUFSIZE);
    b = malloc(len);
    ck_assert_ptr_nonnull(b);
    HRE_T_OK(hre_ledger_block_by_height(g.src->l, b, &len, 1));
    raw_send(&g.r, HRE_NODE__CMD_BLOCK, b, len);
    tn_settle(&g.t, 10);
    ck_assert(tn_raw_open(&g.t, g.r.ep));
    ck_assert_uint_eq(tn_height(g.a), 0);
    free(b);
    hrig_free(&g);
}
END_TEST

/* A block on parent with the given transactions, mined. */
static size_t make_block(uint8_t *out, size_t cap, const uint8_t parent[32], uint32_t time,
                         const uint8_t *tx, size_t txlen, int bad_root)
{
    hre_block *b = NULL;
    hre_header h;
    size_t len = cap;
    memset(&h, 0, sizeof h);
    h.version = 1;
    memcpy(h.prev_hash, parent, 32);
    h.time = time;
    h.bits = TN_EASY;
    HRE_T_OK(hre_block_new(&b, &h, NULL));
    if (tx)
        HRE_T_OK(hre_block_add_tx(b, tx, txlen));
    HRE_T_OK(hre_block_update_merkle_root(b));
    h = *hre_block_header(b);
    if (bad_root)
        h.merkle_root[0] ^= 1;
    HRE_T_OK(hre_pow_mine(&h, NULL, 100000000));
    HRE_T_OK(hre_block_set_header(b, &h));
    HRE_T_OK(hre_block_encode(b, out, &len));
    hre_block_free(b);
    return len;
}

static void raw_serve_block(raw *r, const uint8_t *blk, size_t len)
{
    size_t i;
    for (i = 0; i < r->nmsgs; i++) {
        if (r->msgs[i].cmd == HRE_NODE__CMD_GETDATA && r->msgs[i].len) {
            r->msgs[i].len = 0;
            raw_send(r, HRE_NODE__CMD_BLOCK, blk, len);
        }
    }
}

START_TEST(test_raw_invalid_block_discouraged)
{
    hrig g;
    uint8_t blk[4096], tx[1024], tip[32];
    size_t bl, tl;
    hre_key *k;
    hre_header h;
    hrig_init(&g, "badblock");
    /* a transaction whose signature is broken, in a block whose header and
     * Merkle root commit to it */
    HRE_T_OK(hre_key_generate(&k, HRE_CURVE_P256));
    tl = tn_tx_patient(&g.t, tx, sizeof tx, k, 0);
    tx[tl - 5] ^= 0x01;
    tn_tip(g.a, tip);
    bl = make_block(blk, sizeof blk, tip, (uint32_t)(g.t.now / 1000), tx, tl, 0);
    HRE_T_OK(hre_header_decode(&h, blk, 80));
    send_headers(&g.r, &h, 1);
    tn_settle(&g.t, 10);
    ck_assert_uint_ge(raw_count(&g.r, HRE_NODE__CMD_GETDATA), 1);
    raw_serve_block(&g.r, blk, bl);
    tn_settle(&g.t, 100);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_INVALID_BLOCK, "badblock");
    ck_assert_uint_eq(tn_height(g.a), 0);
    hre_key_free(k);
    hrig_free(&g);
}
END_TEST

START_TEST(test_raw_mutated_block_refetched)
{
    hrig g;
    uint8_t *blk;
    size_t len = 0;
    tn_node *pair[2];
    hrig_init(&g, "liar");
    /* the liar shows src's real headers, then sends block 1 with its body
     * replaced by block 2's (the header no longer matches): it is punished,
     * and the same block comes from an honest peer */
    send_headers(&g.r, g.h, 20);
    tn_settle(&g.t, 10);
    ck_assert_uint_ge(raw_count(&g.r, HRE_NODE__CMD_GETDATA), 1);
    ck_assert_int_eq(hre_ledger_block_by_height(g.src->l, NULL, &len, 1), HRE_EBUFSIZE);
    blk = malloc(len + 256);
    ck_assert_ptr_nonnull(blk);
    HRE_T_OK(hre_ledger_block_by_height(g.src->l, blk, &len, 1));
    blk[len] = 0;
    {
        /* same header, one extra (junk) transaction appended: the Merkle root no longer matches */
        uint8_t tx[70];
        hre_block *b = NULL;
        size_t l2 = len + 256;
        hre_block_limits lim = HRE_BLOCK_LIMITS_INIT;
        HRE_T_OK(hre_block_decode(&b, blk, len, &lim));
        memset(tx, 0x11, sizeof tx);
        HRE_T_OK(hre_block_add_tx(b, tx, sizeof tx));
        HRE_T_OK(hre_block_encode(b, blk, &l2));
        hre_block_free(b);
        len = l2;
    }
    raw_serve_block(&g.r, blk, len);
    tn_settle(&g.t, 100);
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_INVALID_BLOCK, "liar");
    free(blk);
    tn_connect(&g.t, g.a, g.src);
    pair[0] = g.src;
    pair[1] = g.a;
    ck_assert(tn_run(&g.t, synced_to, pair, 600000));
    ck_assert_uint_eq(tn_height(g.a), 20);
    hrig_free(&g);
}
END_TEST

START_TEST(test_fatal_state)
{
    tn_net t;
    tn_node *a, *b;
    uint64_t when = 0, conns[4];
    size_t n = 4;
    hre_node_stats st = HRE_NODE_STATS_INIT;
    hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    b = tn_node_add(&t, "b", NULL, NULL);
    tn_start(a);
    tn_start(b);
    tn_connect(&t, a, b);
    tn_settle(&t, 100);
    hre_node__go_fatal(a->node, HRE_ECORRUPT, "test");
    ck_assert_ptr_nonnull(tn_find_event(a, HRE_NODE_EVENT_FATAL, HRE_NODE_REASON_FATAL));
    ck_assert_int_eq(hre_node_fatal_error(a->node), HRE_ECORRUPT);
    ck_assert_int_eq(hre_node_tick(a->node, t.now), HRE_EFATAL);
    ck_assert_int_eq(hre_node_peer_recv(a->node, 1, NULL, 0, t.now), HRE_EFATAL);
    ck_assert_int_eq(hre_node_peer_connected(a->node, 555, "x", 0, t.now), HRE_EFATAL);
    ck_assert_int_eq(hre_node_peer_closed(a->node, 1, t.now), HRE_EFATAL);
    ck_assert_int_eq(hre_node_mine(a->node, NULL, NULL, t.now, 1), HRE_EFATAL);
    ck_assert_int_eq(hre_node_submit_tx(a->node, NULL, NULL, (const uint8_t *)"x", 1, t.now), HRE_EFATAL);
    ck_assert_int_eq(hre_node_address_add(a->node, "q", 0, t.now), HRE_EFATAL);
    ck_assert_int_eq(hre_node_app_send(a->node, 1, 1, NULL, 0, t.now), HRE_EFATAL);
    /* queries stay */
    HRE_T_OK(hre_node_next_timer(a->node, &when));
    ck_assert_uint_eq(when, UINT64_MAX);
    HRE_T_OK(hre_node_stats_get(a->node, &st));
    ck_assert_uint_eq(st.peers, 1);
    HRE_T_OK(hre_node_peer_list(a->node, conns, &n));
    ck_assert_uint_eq(n, 1);
    HRE_T_OK(hre_node_peer_info_get(a->node, &pi, conns[0]));
    ck_assert_ptr_eq(hre_node_ledger(a->node), a->l);
    hre_node_free(a->node);
    a->node = NULL;
    hre_ledger_close(a->l);
    a->l = NULL;
    tn_net_free(&t);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Fuzz seeds (written when HRE_NODE_CORPUS_DIR is set)                      */
/* ------------------------------------------------------------------------ */

static void put_seed(const char *dir, const char *sub, const char *name, const uint8_t *d, size_t len)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(d, 1, len, f), len);
    fclose(f);
}

typedef struct sbuf {
    uint8_t *p;
    size_t len, cap;
} sbuf;

static void sb_put(sbuf *b, const void *d, size_t len)
{
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    memcpy(b->p + b->len, d, len);
    b->len += len;
}

static void sb_msg(sbuf *b, const uint8_t magic[4], uint16_t cmd, const uint8_t *p, size_t len)
{
    uint8_t h[HRE_NODE__MSG_HDR];
    hre_node__msg_header(h, magic, cmd, (uint32_t)len);
    sb_put(b, h, sizeof h);
    if (len)
        sb_put(b, p, len);
}

START_TEST(test_write_fuzz_seeds)
{
    const char *dir = getenv("HRE_NODE_CORPUS_DIR");
    nf_net net;
    hre_node *n;
    uint8_t b[8192], blocks[3][512];
    size_t blen[3], pos, i;
    hre_header hs[3];
    sbuf s = { 0 };
    if (!dir)
        return;   /* nothing to do in an ordinary run */
    nf_net_open(&net, &n, NF_NOW_MS);
    for (i = 0; i < 3; i++) {
        uint8_t h[32];
        hre_ledger_status st;
        HRE_T_OK(hre_node_mine(n, h, &st, NF_NOW_MS + 1000 * (i + 1), HRE_POW_ALL_NONCES));
        HRE_T_OK(hre_ledger_header_by_height(net.l, &hs[i], NULL, i + 1));
        blen[i] = sizeof blocks[i];
        HRE_T_OK(hre_ledger_block_by_height(net.l, blocks[i], &blen[i], i + 1));
    }
    /* node_msg: one valid input per decoder */
    b[0] = 0;
    hre_node__hello_encode(b + 1, net.id);
    put_seed(dir, "node_msg", "hello", b, 1 + HRE_NODE__HELLO_LEN);
    b[0] = 1; b[1] = 1; b[2] = 0;
    put_seed(dir, "node_msg", "identity_none", b, 3);
    memset(b, 0, 1 + HRE_NODE__ID_LEN);
    b[0] = 1; b[1] = 1; b[2] = 1; b[3] = 1; b[4] = 2;
    put_seed(dir, "node_msg", "identity_key", b, 1 + HRE_NODE__ID_LEN);
    {
        hre_node__version v;
        memset(&v, 0, sizeof v);
        v.protocol = 1;
        memcpy(v.network_id, net.id, 32);
        v.best_height = 3;
        v.nonce = 42;
        b[0] = 2;
        hre_node__version_encode(b + 1, &v);
        put_seed(dir, "node_msg", "version", b, 1 + HRE_NODE__VERSION_LEN);
    }
    b[0] = 3;
    hre_node__list_begin(b + 1, &pos, 2);
    memcpy(b + 1 + pos, net.id, 32);
    memset(b + 1 + pos + 32, 0x5a, 64);
    put_seed(dir, "node_msg", "getheaders", b, 1 + pos + 96);
    b[0] = 4;
    hre_node__list_begin(b + 1, &pos, 3);
    for (i = 0; i < 3; i++)
        HRE_T_OK(hre_header_encode(&hs[i], b + 1 + pos + 80 * i));
    put_seed(dir, "node_msg", "headers", b, 1 + pos + 240);
    b[0] = 5;
    b[1] = 2;
    b[2] = HRE_NODE__INV_TX;
    memset(b + 3, 0x33, 32);
    b[35] = HRE_NODE__INV_BLOCK;
    memcpy(b + 36, net.id, 32);
    put_seed(dir, "node_msg", "inv", b, 68);
    b[0] = 6; b[1] = 7; b[2] = 0; memcpy(b + 3, "chunk", 5);
    put_seed(dir, "node_msg", "app", b, 8);
    b[0] = 7; memset(b + 1, 9, 8);
    put_seed(dir, "node_msg", "ping", b, 9);
    /* node_wire mode 0: an honest first handshake message, and a short frame */
    {
        hre_noise__config cfg;
        hre_noise__hs *h = NULL;
        hre_x25519__key ks;
        uint8_t prologue[HRE_NODE__PROLOGUE_LEN], hello[HRE_NODE__HELLO_LEN], m[256];
        size_t ml = sizeof m;
        HRE_T_OK(hre_x25519__generate(&ks));
        hre_node__prologue(prologue, net.id);
        hre_node__hello_encode(hello, net.id);
        memset(&cfg, 0, sizeof cfg);
        cfg.protocol = HRE_NODE__NOISE_NAME;
        cfg.initiator = 1;
        cfg.prologue = prologue;
        cfg.prologuelen = sizeof prologue;
        cfg.s = &ks;
        HRE_T_OK(hre_noise__hs_new(&h, &cfg));
        HRE_T_OK(hre_noise__hs_write(h, m, &ml, hello, sizeof hello));
        b[0] = 0;
        b[1] = 0;
        b[2] = (uint8_t)(ml >> 8);
        b[3] = (uint8_t)ml;
        memcpy(b + 4, m, ml);
        put_seed(dir, "node_wire", "m0_msg1", b, 4 + ml);
        b[1] = 1;
        put_seed(dir, "node_wire", "m0_msg1_chunked", b, 4 + ml);
        b[2] = 0;
        b[3] = 5;
        put_seed(dir, "node_wire", "m0_short", b, 9);
        hre_noise__hs_free(h);
        hre_x25519__clear(&ks);
    }
    /* node_wire mode 1: a message stream that syncs three blocks, plus one of every kind */
    {
        uint8_t x[64];
        static const uint8_t mode_chunks[3] = { 0, 3, 255 };
        sb_put(&s, "\x01\x00", 2);
        memset(x, 1, 8);
        sb_msg(&s, net.id, HRE_NODE__CMD_PING, x, 8);
        hre_node__list_begin(b, &pos, 3);
        for (i = 0; i < 3; i++)
            HRE_T_OK(hre_header_encode(&hs[i], b + pos + 80 * i));
        sb_msg(&s, net.id, HRE_NODE__CMD_HEADERS, b, pos + 240);
        for (i = 0; i < 3; i++)
            sb_msg(&s, net.id, HRE_NODE__CMD_BLOCK, blocks[i], blen[i]);
        hre_node__list_begin(b, &pos, 1);
        memcpy(b + pos, net.id, 32);
        memset(b + pos + 32, 0, 32);
        sb_msg(&s, net.id, HRE_NODE__CMD_GETHEADERS, b, pos + 64);
        b[0] = 1;
        b[1] = HRE_NODE__INV_BLOCK;
        memcpy(b + 2, net.id, 32);
        sb_msg(&s, net.id, HRE_NODE__CMD_GETDATA, b, 34);
        b[1] = HRE_NODE__INV_TX;
        memset(b + 2, 0x44, 32);
        sb_msg(&s, net.id, HRE_NODE__CMD_INV, b, 34);
        sb_msg(&s, net.id, HRE_NODE__CMD_NOTFOUND, b, 34);
        sb_msg(&s, net.id, HRE_NODE__CMD_TX, x, 40);
        x[0] = 5;
        x[1] = 0;
        sb_msg(&s, net.id, HRE_NODE__CMD_APP, x, 12);
        sb_msg(&s, net.id, 999, x, 3);
        sb_msg(&s, net.id, HRE_NODE__CMD_VERSION, x, 10);
        for (i = 0; i < 3; i++) {
            char name[32];
            s.p[1] = mode_chunks[i];
            snprintf(name, sizeof name, "m1_stream_%u", (unsigned)mode_chunks[i]);
            put_seed(dir, "node_wire", name, s.p, s.len);
        }
        /* mode 2: a frame that is not a transport message of this channel */
        b[0] = 2;
        b[1] = 0;
        b[2] = 0;
        b[3] = 20;
        memset(b + 4, 0xab, 20);
        put_seed(dir, "node_wire", "m2_bad_frame", b, 24);
    }
    free(s.p);
    nf_net_close(&net, n);
}
END_TEST
START_TEST(test_raw_discouragement_bounded)
{
    tn_net t;
    tn_node *a;
    raw r;
    int i;
    hre_node_discouraged d = HRE_NODE_DISCOURAGED_INIT;
    uint8_t hdr[HRE_NODE__MSG_HDR];
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    a->opts.max_discouraged = 3;
    tn_start(a);
    for (i = 0; i < 5; i++) {
        char addr[16];
        snprintf(addr, sizeof addr, "bad%d", i);
        raw_ready(&r, &t, a, 1, NULL, addr);
        hre_node__msg_header(hdr, t.id, HRE_NODE__CMD_BLOCK, (uint32_t)(t.params.max_block_size + 1));
        raw_stream(&r, hdr, sizeof hdr);
        expect_drop(&t, a, &r, HRE_NODE_REASON_OVERSIZE, addr);
        raw_free(&r);
    }
    ck_assert_uint_eq(hre_node_discouraged_count(a->node), 3);   /* bounded; the oldest went */
    HRE_T_OK(hre_node_discouraged_entry(a->node, &d, 0));
    ck_assert_str_eq(d.address, "bad2");
    ck_assert_int_eq(d.reason, HRE_NODE_REASON_OVERSIZE);
    ck_assert_int_eq(d.has_key, 0);
    ck_assert_int_eq(hre_node_discouraged_entry(a->node, &d, 3), HRE_ENOTFOUND);
    ck_assert_int_eq(hre_node_discouraged_get(a->node, NULL, "bad0", NULL), HRE_ENOTFOUND);
    HRE_T_OK(hre_node_discouraged_get(a->node, NULL, "bad4", NULL));
    HRE_T_OK(hre_node_discouraged_clear(a->node));
    ck_assert_uint_eq(hre_node_discouraged_count(a->node), 0);
    /* forgiven: it may connect again */
    raw_ready(&r, &t, a, 1, NULL, "bad4");
    ck_assert(tn_raw_open(&t, r.ep));
    raw_free(&r);
    tn_net_free(&t);
}
END_TEST

START_TEST(test_raw_discouraged_identity)
{
    /* a peer discouraged by its key is closed at the handshake, whatever
     * address it comes from */
    tn_net t;
    tn_node *a;
    raw r;
    hre_key *k;
    uint8_t hdr[HRE_NODE__MSG_HDR], w[34];
    hre_node_discouraged d = HRE_NODE_DISCOURAGED_INIT;
    tn_net_init(&t, 0);
    HRE_T_OK(hre_key_generate(&k, HRE_CURVE_P256));
    a = tn_node_add(&t, "a", NULL, NULL);
    tn_start(a);
    raw_ready(&r, &t, a, 1, k, "first");
    hre_node__msg_header(hdr, t.id, HRE_NODE__CMD_TX, HRE_TX_MAX_LEN + 1);
    raw_stream(&r, hdr, sizeof hdr);
    expect_drop(&t, a, &r, HRE_NODE_REASON_OVERSIZE, "first");
    raw_free(&r);
    tn_key_wire(k, w);
    HRE_T_OK(hre_node_discouraged_get(a->node, &d, NULL, w));
    ck_assert_int_eq(d.has_key, 1);
    ck_assert_mem_eq(d.key, w, 34);
    raw_open(&r, &t, a, 1, k, "elsewhere");
    raw_go(&r);
    tn_settle(&t, 100);
    ck_assert(!tn_raw_open(&t, r.ep));
    ck_assert_ptr_nonnull(tn_find_event(a, HRE_NODE_EVENT_PEER_DISCONNECTED, HRE_NODE_REASON_DISCOURAGED));
    raw_free(&r);
    hre_key_free(k);
    tn_net_free(&t);
}
END_TEST

/* How many GETDATA entries r received for txid. */
static size_t raw_asked(const raw *r, const uint8_t txid[32])
{
    size_t i, j, k = 0;
    for (i = 0; i < r->nmsgs; i++) {
        const uint8_t *e;
        size_t cnt;
        if (r->msgs[i].cmd != HRE_NODE__CMD_GETDATA)
            continue;
        HRE_T_OK(hre_node__inv_decode(&e, &cnt, r->msgs[i].d, r->msgs[i].len));
        for (j = 0; j < cnt; j++)
            if (e[j * HRE_NODE__INV_ENTRY] == HRE_NODE__INV_TX && memcmp(e + j * HRE_NODE__INV_ENTRY + 1, txid, 32) == 0)
                k++;
    }
    return k;
}

/* r sends an INV (or NOTFOUND) of count transaction hashes. */
static void raw_tx_list(raw *r, uint16_t cmd, const uint8_t (*ids)[32], size_t count)
{
    uint8_t *b = malloc(3 + count * HRE_NODE__INV_ENTRY);
    size_t pos, i;
    ck_assert_ptr_nonnull(b);
    hre_node__list_begin(b, &pos, count);
    for (i = 0; i < count; i++) {
        b[pos] = HRE_NODE__INV_TX;
        memcpy(b + pos + 1, ids[i], 32);
        pos += HRE_NODE__INV_ENTRY;
    }
    raw_send(r, cmd, b, pos);
    free(b);
}

static void fake_txids(uint8_t (*ids)[32], size_t count, uint32_t tag)
{
    size_t i;
    for (i = 0; i < count; i++) {
        memset(ids[i], 0, 32);
        memcpy(ids[i], &tag, 4);
        memcpy(ids[i] + 4, &i, sizeof i);
    }
}

#define RELAY_RAWS 6

/* The request tracker: a failed request (NOTFOUND) goes to the next other
 * announcer, in announcement order; at most HRE_NODE__TXREQ_ALT are kept
 * per txid; announcements beyond a peer's request slots wait for a free
 * slot; the other-announcer slots are bounded per peer and in all. */
START_TEST(test_raw_tx_request_tracker)
{
    tn_net t;
    tn_node *c;
    raw r[RELAY_RAWS];
    hre_key *k[RELAY_RAWS];
    uint8_t x[1][32], (*ids)[32];
    hre_node__txreq *q;
    hre_node__peer *p1;
    size_t i, j, asked;
    char addr[16];
    tn_net_init(&t, 0);
    c = tn_node_add(&t, "c", NULL, NULL);
    tn_start(c);
    for (i = 0; i < RELAY_RAWS; i++) {
        HRE_T_OK(hre_key_generate(&k[i], HRE_CURVE_P256));
        tn_register_node(c, NULL, NULL, k[i]);
    }
    tn_mine(c, 1);
    for (i = 0; i < RELAY_RAWS; i++) {
        snprintf(addr, sizeof addr, "raw%zu", i);
        raw_ready(&r[i], &t, c, 1, k[i], addr);
    }
    tn_settle(&t, 10);
    /* everyone announces x, r[0] first: only r[0] is asked */
    fake_txids(x, 1, 0x78787878u);
    for (i = 0; i < RELAY_RAWS; i++) {
        raw_tx_list(&r[i], HRE_NODE__CMD_INV, (const uint8_t(*)[32])x, 1);
        tn_settle(&t, 10);
    }
    ck_assert_uint_eq(raw_asked(&r[0], x[0]), 1);
    for (i = 1; i < RELAY_RAWS; i++)
        ck_assert_uint_eq(raw_asked(&r[i], x[0]), 0);
    q = hre__map_get(&c->node->txreq_map, x[0]);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(q->n_alt, HRE_NODE__TXREQ_ALT);   /* r[5] was not kept */
    /* each NOTFOUND passes the request to the next announcer */
    for (i = 0; i < HRE_NODE__TXREQ_ALT; i++) {
        raw_tx_list(&r[i], HRE_NODE__CMD_NOTFOUND, (const uint8_t(*)[32])x, 1);
        tn_settle(&t, 10);
        ck_assert_uint_eq(raw_asked(&r[i + 1], x[0]), 1);
        for (j = i + 2; j < RELAY_RAWS; j++)
            ck_assert_uint_eq(raw_asked(&r[j], x[0]), 0);
    }
    raw_tx_list(&r[HRE_NODE__TXREQ_ALT], HRE_NODE__CMD_NOTFOUND, (const uint8_t(*)[32])x, 1);
    tn_settle(&t, 10);
    ck_assert_ptr_null(hre__map_get(&c->node->txreq_map, x[0]));   /* no announcer left */
    ck_assert_uint_eq(raw_asked(&r[RELAY_RAWS - 1], x[0]), 0);
    ck_assert_uint_eq(c->node->txreq_map.count, 0);
    ck_assert_uint_eq(c->node->txreq_alts, 0);
    ck_assert_uint_eq(c->node->txreq_waiting, 0);
    /* r[0] announces 300: 256 asked now, the rest when slots free */
    ids = malloc(2000 * sizeof *ids);
    ck_assert_ptr_nonnull(ids);
    fake_txids(ids, 300, 1);
    raw_tx_list(&r[0], HRE_NODE__CMD_INV, (const uint8_t(*)[32])ids, 300);
    tn_settle(&t, 10);
    for (i = 0, asked = 0; i < 300; i++)
        asked += raw_asked(&r[0], ids[i]);
    ck_assert_uint_eq(asked, 256);
    ck_assert_uint_eq(c->node->txreq_waiting, 44);
    raw_tx_list(&r[0], HRE_NODE__CMD_NOTFOUND, (const uint8_t(*)[32])ids, 100);
    tn_settle(&t, 10);
    for (i = 0, asked = 0; i < 300; i++) {
        ck_assert_uint_le(raw_asked(&r[0], ids[i]), 1);
        asked += raw_asked(&r[0], ids[i]);
    }
    ck_assert_uint_eq(asked, 300);
    ck_assert_uint_eq(c->node->txreq_waiting, 0);
    ck_assert_uint_eq(c->node->txreq_map.count, 200);
    /* r[1] announces 2000 others: its waiting announcements are capped */
    fake_txids(ids, 2000, 2);
    raw_tx_list(&r[1], HRE_NODE__CMD_INV, (const uint8_t(*)[32])ids, 1000);
    raw_tx_list(&r[1], HRE_NODE__CMD_INV, (const uint8_t(*)[32])(ids + 1000), 1000);
    tn_settle(&t, 10);
    p1 = hre_node__peer_find(c->node, g_node_conn(&t, r[1].ep));
    ck_assert_ptr_nonnull(p1);
    ck_assert_uint_eq(p1->tx_inflight, 256);
    ck_assert_uint_eq(p1->tx_alts, 4 * 256);
    ck_assert_uint_eq(c->node->txreq_waiting, 4 * 256);
    ck_assert_uint_eq(c->node->txreq_map.count, 200 + 256 + 4 * 256);
    check_mem(c);
    /* r[1] hangs up: its requests and waiting announcements go */
    tn_raw_close(&t, r[1].ep);
    tn_settle(&t, 10);
    ck_assert_uint_eq(c->node->txreq_map.count, 200);
    ck_assert_uint_eq(c->node->txreq_waiting, 0);
    ck_assert_uint_eq(c->node->txreq_alts, 0);
    free(ids);
    for (i = 0; i < RELAY_RAWS; i++) {
        raw_free(&r[i]);
        hre_key_free(k[i]);
    }
    tn_net_free(&t);
}
END_TEST

#endif /* HRE_WHITEBOX */

/* ------------------------------------------------------------------------ */
/* Membership from the chain                                                 */
/* ------------------------------------------------------------------------ */

typedef struct mnet {
    tn_net t;
    hre_key *ka, *kb, *kc;
    tn_node *a, *b;
} mnet;

static int members_cond(tn_net *t, void *arg)
{
    mnet *m = arg;
    hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
    uint64_t c = tn_conn_at(t, m->a, m->b);
    if (!c || hre_node_peer_info_get(m->a->node, &pi, c) != HRE_OK)
        return 0;
    return pi.member == HRE_NODE_MEMBER_LIVE;
}

/* a and b: nodes whose keys the authority registered (block 1), connected
 * and both live members of each other. */
static void mnet_init(mnet *m)
{
    tn_node *pair[2];
    hre_node_stats st = HRE_NODE_STATS_INIT;
    tn_net_init(&m->t, 0);
    HRE_T_OK(hre_key_generate(&m->ka, HRE_CURVE_P256));
    HRE_T_OK(hre_key_generate(&m->kb, HRE_CURVE_P256));
    HRE_T_OK(hre_key_generate(&m->kc, HRE_CURVE_P256));
    m->a = tn_node_add(&m->t, "a", m->ka, NULL);
    m->b = tn_node_add(&m->t, "b", m->kb, NULL);
    tn_start(m->a);
    tn_start(m->b);
    HRE_T_OK(hre_node_stats_get(m->a->node, &st));
    ck_assert_int_eq(st.member, HRE_NODE_MEMBER_UNKNOWN_KEY);   /* not yet registered */
    tn_register_node(m->a, NULL, NULL, m->ka);
    tn_register_node(m->a, NULL, NULL, m->kb);
    tn_mine(m->a, 1);
    HRE_T_OK(hre_node_stats_get(m->a->node, &st));
    ck_assert_int_eq(st.member, HRE_NODE_MEMBER_LIVE);
    tn_connect(&m->t, m->b, m->a);
    pair[0] = m->a;
    pair[1] = m->b;
    ck_assert(tn_run(&m->t, synced_to, pair, 60000));
    ck_assert(tn_run(&m->t, members_cond, m, 60000));
}

static void mnet_free(mnet *m)
{
    tn_net_free(&m->t);
    hre_key_free(m->ka);
    hre_key_free(m->kb);
    hre_key_free(m->kc);
}

static int mempool_has(tn_net *t, void *arg)
{
    const uint8_t *id = arg;
    (void)t;
    return tn_in_mempool(g_mp_node, id);
}

START_TEST(test_members_relay_transactions)
{
    mnet m;
    uint8_t tx[1024], id[32];
    size_t len;
    hre_key *p;
    hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
    uint8_t w[34], addr[32];
    mnet_init(&m);
    HRE_T_OK(hre_node_peer_info_get(m.b->node, &pi, tn_conn_at(&m.t, m.b, m.a)));
    ck_assert_int_eq(pi.member, HRE_NODE_MEMBER_LIVE);
    tn_key_wire(m.ka, w);
    HRE_T_OK(hre_contract_address(addr, w));
    ck_assert_mem_eq(pi.member_address, addr, 32);
    {
        uint8_t org[32];
        HRE_T_OK(hre_contract_genesis_org_id(org, m.t.id));
        ck_assert_mem_eq(pi.org_id, org, 32);
    }
    /* a transaction submitted at a reaches b's mempool, and the other way */
    HRE_T_OK(hre_key_generate(&p, HRE_CURVE_P256));
    len = tn_tx_patient(&m.t, tx, sizeof tx, p, 0);
    HRE_T_OK(hre_node_submit_tx(m.a->node, id, NULL, tx, len, m.t.now));
    g_mp_node = m.b;
    ck_assert(tn_run(&m.t, mempool_has, id, 60000));
    ck_assert_ptr_nonnull(tn_find_event(m.b, HRE_NODE_EVENT_TX_ACCEPTED, -1));
    ck_assert_mem_eq(tn_find_event(m.b, HRE_NODE_EVENT_TX_ACCEPTED, -1)->hash, id, 32);
    hre_key_free(p);
    HRE_T_OK(hre_key_generate(&p, HRE_CURVE_P256));
    len = tn_tx_patient(&m.t, tx, sizeof tx, p, 0);
    HRE_T_OK(hre_node_submit_tx(m.b->node, id, NULL, tx, len, m.t.now));
    g_mp_node = m.a;
    ck_assert(tn_run(&m.t, mempool_has, id, 60000));
    /* a mines it; b sees the block and its mempool empties */
    tn_mine(m.a, 1);
    {
        tn_node *pair[2] = { m.a, m.b };
        ck_assert(tn_run(&m.t, synced_to, pair, 60000));
    }
    ck_assert(!tn_in_mempool(m.b, id));
    hre_key_free(p);
    mnet_free(&m);
}
END_TEST

/* Three live members: a and b each connected to c only (a first). c's
 * transaction requests time out after 5 s. */
typedef struct rnet {
    tn_net t;
    hre_key *k[3];
    tn_node *a, *b, *c;
} rnet;

static int c_sees_members(tn_net *t, void *arg)
{
    rnet *r = arg;
    tn_node *others[2] = { r->a, r->b };
    int i;
    for (i = 0; i < 2; i++) {
        hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
        uint64_t c = tn_conn_at(t, r->c, others[i]);
        if (!c || hre_node_peer_info_get(r->c->node, &pi, c) != HRE_OK || pi.member != HRE_NODE_MEMBER_LIVE)
            return 0;
    }
    return 1;
}

static void rnet_init(rnet *r)
{
    tn_node *pair[2];
    int i;
    tn_net_init(&r->t, 0);
    for (i = 0; i < 3; i++)
        HRE_T_OK(hre_key_generate(&r->k[i], HRE_CURVE_P256));
    r->a = tn_node_add(&r->t, "a", r->k[0], NULL);
    r->b = tn_node_add(&r->t, "b", r->k[1], NULL);
    r->c = tn_node_add(&r->t, "c", r->k[2], NULL);
    r->c->opts.request_timeout_ms = 5000;
    tn_start(r->a);
    tn_start(r->b);
    tn_start(r->c);
    for (i = 0; i < 3; i++)
        tn_register_node(r->a, NULL, NULL, r->k[i]);
    tn_mine(r->a, 1);
    tn_connect(&r->t, r->a, r->c);
    tn_connect(&r->t, r->b, r->c);
    pair[0] = r->a;
    pair[1] = r->c;
    ck_assert(tn_run(&r->t, synced_to, pair, 60000));
    pair[0] = r->a;
    pair[1] = r->b;
    ck_assert(tn_run(&r->t, synced_to, pair, 60000));
    ck_assert(tn_run(&r->t, c_sees_members, r, 60000));
}

static void rnet_free(rnet *r)
{
    int i;
    tn_net_free(&r->t);
    for (i = 0; i < 3; i++)
        hre_key_free(r->k[i]);
}

/* a announces a transaction to c and then sends nothing more (its
 * transport refuses every write); c has asked a. b announces the same
 * transaction while c's request to a is outstanding. Returns its txid in
 * id; c does not have it yet. */
static void rnet_a_stalls(rnet *r, uint8_t id[32])
{
    uint8_t tx[1024], id2[32];
    size_t len;
    hre_key *p;
    HRE_T_OK(hre_key_generate(&p, HRE_CURVE_P256));
    len = tn_tx_patient(&r->t, tx, sizeof tx, p, 0);
    hre_key_free(p);
    HRE_T_OK(hre_node_submit_tx(r->a->node, id, NULL, tx, len, r->t.now));   /* inv to c is sent */
    r->a->eagain = 1;
    tn_settle(&r->t, 10);   /* c asks a; a cannot answer */
    ck_assert(!tn_in_mempool(r->c, id));
    HRE_T_OK(hre_node_submit_tx(r->b->node, id2, NULL, tx, len, r->t.now));
    ck_assert_mem_eq(id, id2, 32);
    tn_settle(&r->t, 10);   /* c got b's inv while asking a */
    ck_assert(!tn_in_mempool(r->c, id));
}

/* Relay liveness: a request that times out goes to the next announcer. */
START_TEST(test_relay_request_timeout_asks_other_announcer)
{
    rnet r;
    uint8_t id[32];
    uint64_t t0;
    rnet_init(&r);
    rnet_a_stalls(&r, id);
    t0 = r.t.now;
    g_mp_node = r.c;
    ck_assert(tn_run(&r.t, mempool_has, id, 60000));
    ck_assert_uint_ge(r.t.now, t0 + 4000);              /* after c's request to a expired */
    ck_assert_uint_le(r.t.now, t0 + 6000);              /* ... and not much later */
    ck_assert_uint_ne(tn_conn_at(&r.t, r.c, r.a), 0);   /* not because a was dropped */
    r.a->eagain = 0;
    tn_settle(&r.t, 1000);   /* a's late answer is harmless */
    ck_assert_uint_ne(tn_conn_at(&r.t, r.c, r.a), 0);
    rnet_free(&r);
}
END_TEST

/* Relay liveness: a request whose peer goes away goes to the next
 * announcer at once. */
START_TEST(test_relay_request_peer_gone_asks_other_announcer)
{
    rnet r;
    uint8_t id[32];
    uint64_t t0;
    rnet_init(&r);
    rnet_a_stalls(&r, id);
    t0 = r.t.now;
    HRE_T_OK(hre_node_peer_disconnect(r.c->node, tn_conn_at(&r.t, r.c, r.a), r.t.now));
    g_mp_node = r.c;
    ck_assert(tn_run(&r.t, mempool_has, id, 60000));
    ck_assert_uint_lt(r.t.now, t0 + 1000);   /* well before the request would expire */
    rnet_free(&r);
}
END_TEST

START_TEST(test_unregistered_syncs_but_cannot_relay)
{
    mnet m;
    tn_node *c, *pair[2];
    uint8_t tx[1024], id[32];
    size_t len;
    hre_key *p;
    hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
    hre_node_stats st = HRE_NODE_STATS_INIT;
    mnet_init(&m);
    tn_mine(m.a, 20);
    c = tn_node_add(&m.t, "c", m.kc, NULL);   /* a valid key, never registered */
    tn_start(c);
    tn_connect(&m.t, c, m.a);
    pair[0] = m.a;
    pair[1] = c;
    ck_assert(tn_run(&m.t, synced_to, pair, 60000));   /* it syncs the blocks */
    HRE_T_OK(hre_node_peer_info_get(m.a->node, &pi, tn_conn_at(&m.t, m.a, c)));
    ck_assert_int_eq(pi.has_identity, 1);
    ck_assert_int_eq(pi.member, HRE_NODE_MEMBER_UNKNOWN_KEY);
    HRE_T_OK(hre_node_stats_get(c->node, &st));
    ck_assert_int_eq(st.member, HRE_NODE_MEMBER_UNKNOWN_KEY);
    /* transactions do not flow to it */
    HRE_T_OK(hre_key_generate(&p, HRE_CURVE_P256));
    len = tn_tx_patient(&m.t, tx, sizeof tx, p, 0);
    HRE_T_OK(hre_node_submit_tx(m.a->node, id, NULL, tx, len, m.t.now));
    tn_settle(&m.t, 5000);
    ck_assert(tn_in_mempool(m.b, id));   /* the member got it */
    ck_assert(!tn_in_mempool(c, id));
    hre_key_free(p);
    /* nor from it */
    HRE_T_OK(hre_key_generate(&p, HRE_CURVE_P256));
    len = tn_tx_patient(&m.t, tx, sizeof tx, p, 0);
    HRE_T_OK(hre_node_submit_tx(c->node, id, NULL, tx, len, m.t.now));
    tn_settle(&m.t, 5000);
    ck_assert(!tn_in_mempool(m.a, id));
    /* nor app messages */
    ck_assert_int_eq(hre_node_app_send(c->node, tn_conn_at(&m.t, c, m.a), 7, (const uint8_t *)"x", 1, m.t.now),
                     HRE_EAUTH);
    ck_assert_int_eq(hre_node_app_send(m.a->node, tn_conn_at(&m.t, m.a, c), 7, (const uint8_t *)"x", 1, m.t.now),
                     HRE_EAUTH);
    hre_key_free(p);
    mnet_free(&m);
}
END_TEST

static int disconnected_cond(tn_net *t, void *arg)
{
    mnet *m = arg;
    return tn_conn_at(t, m->a, m->b) == 0;
}

START_TEST(test_suspension_disconnects)
{
    mnet m;
    hre_suspend_payload sp;
    hre_tx *tx = NULL;
    uint8_t w[34];
    const tn_event *ev;
    mnet_init(&m);
    memset(&sp, 0, sizeof sp);
    tn_key_wire(m.kb, w);
    HRE_T_OK(hre_contract_address(sp.target, w));
    sp.action = HRE_SUSPEND_SUSPEND;
    HRE_T_OK(hre_contract_build_suspend(&tx, m.t.id, m.t.auth, m.t.auth_nonce++, m.t.now / 1000, &sp));
    tn_submit(m.a, tx);
    hre_tx_free(tx);
    tn_mine(m.a, 1);   /* the block that suspends b's node account */
    ck_assert(tn_run(&m.t, disconnected_cond, &m, 60000));
    ev = tn_find_event(m.a, HRE_NODE_EVENT_PEER_DISCONNECTED, HRE_NODE_REASON_KEY_SUSPENDED);
    ck_assert_ptr_nonnull(ev);
    ck_assert_int_eq(ev->discouraged, 0);
    /* b may come back, but only to sync */
    tn_connect(&m.t, m.b, m.a);
    tn_settle(&m.t, 1000);
    {
        hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
        HRE_T_OK(hre_node_peer_info_get(m.a->node, &pi, tn_conn_at(&m.t, m.a, m.b)));
        ck_assert_int_eq(pi.member, HRE_NODE_MEMBER_SUSPENDED);
        ck_assert_int_eq(pi.state, HRE_NODE_PEER_READY);
    }
    mnet_free(&m);
}
END_TEST

START_TEST(test_org_suspension_disconnects)
{
    tn_net t;
    hre_key *ka, *kb, *adm;
    tn_node *a, *b, *pair[2];
    uint8_t org[32];
    uint64_t adm_nonce = 0;
    hre_suspend_org_payload so;
    hre_tx *tx = NULL;
    tn_net_init(&t, 0);
    HRE_T_OK(hre_key_generate(&ka, HRE_CURVE_P256));
    HRE_T_OK(hre_key_generate(&kb, HRE_CURVE_P256));
    HRE_T_OK(hre_key_generate(&adm, HRE_CURVE_P256));
    a = tn_node_add(&t, "a", ka, NULL);
    b = tn_node_add(&t, "b", kb, NULL);
    tn_start(a);
    tn_start(b);
    /* b is a node of a second organisation, registered by that org's admin */
    tn_register_node(a, NULL, NULL, ka);
    tn_register_org(a, adm, org);
    tn_mine(a, 1);
    tn_register_node(a, adm, &adm_nonce, kb);
    tn_mine(a, 1);
    tn_connect(&t, b, a);
    pair[0] = a;
    pair[1] = b;
    ck_assert(tn_run(&t, synced_to, pair, 60000));
    {
        hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
        tn_settle(&t, 100);
        HRE_T_OK(hre_node_peer_info_get(a->node, &pi, tn_conn_at(&t, a, b)));
        ck_assert_int_eq(pi.member, HRE_NODE_MEMBER_LIVE);
        ck_assert_mem_eq(pi.org_id, org, 32);
    }
    memset(&so, 0, sizeof so);
    memcpy(so.org_id, org, 32);
    so.action = HRE_SUSPEND_SUSPEND;
    HRE_T_OK(hre_contract_build_suspend_org(&tx, t.id, t.auth, t.auth_nonce++, t.now / 1000, &so));
    tn_submit(a, tx);
    hre_tx_free(tx);
    tn_mine(a, 1);
    tn_settle(&t, 1000);
    ck_assert_uint_eq(tn_conn_at(&t, a, b), 0);
    ck_assert_ptr_nonnull(tn_find_event(a, HRE_NODE_EVENT_PEER_DISCONNECTED, HRE_NODE_REASON_ORG_SUSPENDED));
    tn_net_free(&t);
    hre_key_free(ka);
    hre_key_free(kb);
    hre_key_free(adm);
}
END_TEST

START_TEST(test_key_rotation_disconnects)
{
    mnet m;
    hre_rotate_key_payload rp;
    hre_tx *tx = NULL;
    uint8_t w[34];
    mnet_init(&m);
    memset(&rp, 0, sizeof rp);
    tn_key_wire(m.kb, w);
    HRE_T_OK(hre_contract_address(rp.target, w));
    tn_key_wire(m.kc, rp.new_key);
    HRE_T_OK(hre_contract_build_rotate_key(&tx, m.t.id, m.t.auth, m.t.auth_nonce++, m.t.now / 1000, &rp));
    tn_submit(m.a, tx);
    hre_tx_free(tx);
    tn_mine(m.a, 1);
    ck_assert(tn_run(&m.t, disconnected_cond, &m, 60000));
    ck_assert_ptr_nonnull(tn_find_event(m.a, HRE_NODE_EVENT_PEER_DISCONNECTED, HRE_NODE_REASON_KEY_ROTATED));
    mnet_free(&m);
}
END_TEST

START_TEST(test_partition_rerelays_own_transactions)
{
    mnet m;
    uint8_t tx[1024], id[32];
    size_t len;
    hre_key *p;
    tn_node *pair[2];
    mnet_init(&m);
    /* partition */
    HRE_T_OK(hre_node_peer_disconnect(m.a->node, tn_conn_at(&m.t, m.a, m.b), m.t.now));
    tn_settle(&m.t, 100);
    /* b, alone, confirms its own transaction on a short fork */
    HRE_T_OK(hre_key_generate(&p, HRE_CURVE_P256));
    len = tn_tx_patient(&m.t, tx, sizeof tx, p, 0);
    HRE_T_OK(hre_node_submit_tx(m.b->node, id, NULL, tx, len, m.t.now));
    tn_mine(m.b, 2);
    ck_assert(!tn_in_mempool(m.b, id));
    /* a's side is heavier */
    tn_mine(m.a, 4);
    tn_connect(&m.t, m.b, m.a);
    pair[0] = m.a;
    pair[1] = m.b;
    ck_assert(tn_run(&m.t, synced_to, pair, 60000));
    ck_assert_uint_eq(m.b->ledger_disconnected, 2);   /* b's fork was undone */
    /* its still-valid transaction went back to its mempool and on to a */
    ck_assert(tn_in_mempool(m.b, id));
    g_mp_node = m.a;
    ck_assert(tn_run(&m.t, mempool_has, id, 60000));
    tn_mine(m.a, 1);
    ck_assert(tn_run(&m.t, synced_to, pair, 60000));
    ck_assert(!tn_in_mempool(m.a, id));
    ck_assert(!tn_in_mempool(m.b, id));
    hre_key_free(p);
    mnet_free(&m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Application messages                                                      */
/* ------------------------------------------------------------------------ */

typedef struct appsink {
    size_t n, bytes;
    uint8_t last_key[34];
    uint8_t last_hh[32];
    uint64_t conn;
    int order_ok;
    uint32_t next;   /* chunked transfer: expected sequence number */
    int reply;
} appsink;

static void app_handler(void *ud, hre_node *node, const hre_node_app_message *msg)
{
    appsink *s = ud;
    ck_assert_uint_eq(msg->version, HRE_NODE_APP_MESSAGE_VERSION);
    ck_assert_uint_eq(msg->app_type, 7);
    s->n++;
    s->bytes += msg->len;
    memcpy(s->last_key, msg->peer_key, 34);
    memcpy(s->last_hh, msg->handshake_hash, 32);
    s->conn = msg->conn;
    if (msg->len >= 4) {
        uint32_t seq = (uint32_t)msg->data[0] | (uint32_t)msg->data[1] << 8 | (uint32_t)msg->data[2] << 16 |
                       (uint32_t)msg->data[3] << 24;
        if (seq != s->next)
            s->order_ok = 0;
        s->next = seq + 1;
    }
    if (s->reply)
        ck_assert_int_eq(hre_node_app_send(node, msg->conn, 7, (const uint8_t *)"ack", 3, msg->now), HRE_OK);
    /* other calls are refused inside a handler */
    ck_assert_int_eq(hre_node_tick(node, msg->now), HRE_ESTATE);
}

START_TEST(test_app_messages)
{
    mnet m;
    appsink sa, sb;
    uint64_t ca, cb;
    uint8_t w[34];
    hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
    memset(&sa, 0, sizeof sa);
    memset(&sb, 0, sizeof sb);
    sa.order_ok = sb.order_ok = 1;
    sa.reply = 1;
    mnet_init(&m);
    HRE_T_OK(hre_node_app_register(m.a->node, 7, app_handler, &sa));
    ck_assert_int_eq(hre_node_app_register(m.a->node, 7, app_handler, &sa), HRE_EEXISTS);
    ck_assert_int_eq(hre_node_app_register(m.a->node, 0, app_handler, &sa), HRE_EINVAL);
    HRE_T_OK(hre_node_app_register(m.b->node, 7, app_handler, &sb));
    ca = tn_conn_at(&m.t, m.b, m.a);
    cb = tn_conn_at(&m.t, m.a, m.b);
    HRE_T_OK(hre_node_app_send(m.b->node, ca, 7, (const uint8_t *)"\0\0\0\0hello", 9, m.t.now));
    tn_settle(&m.t, 100);
    ck_assert_uint_eq(sa.n, 1);
    tn_key_wire(m.kb, w);
    ck_assert_mem_eq(sa.last_key, w, 34);   /* the sender's verified identity */
    HRE_T_OK(hre_node_peer_info_get(m.a->node, &pi, cb));
    ck_assert_mem_eq(sa.last_hh, pi.handshake_hash, 32);   /* the channel binding */
    ck_assert_uint_eq(sb.n, 1);   /* a's handler answered from inside the callback */
    /* a type nobody handles */
    HRE_T_OK(hre_node_app_send(m.b->node, ca, 9, (const uint8_t *)"?", 1, m.t.now));
    tn_settle(&m.t, 100);
    ck_assert_ptr_nonnull(tn_find_event(m.a, HRE_NODE_EVENT_REFUSED, HRE_NODE_REASON_APP_UNKNOWN));
    /* over the cap */
    {
        uint8_t *big = calloc(1, HRE_NODE_DEFAULT_APP_MAX_MESSAGE + 1);
        ck_assert_int_eq(hre_node_app_send(m.b->node, ca, 7, big, HRE_NODE_DEFAULT_APP_MAX_MESSAGE + 1, m.t.now),
                         HRE_ELIMIT);
        free(big);
    }
    /* removing the handler */
    HRE_T_OK(hre_node_app_register(m.a->node, 7, NULL, NULL));
    ck_assert_int_eq(hre_node_app_register(m.a->node, 7, NULL, NULL), HRE_ENOTFOUND);
    mnet_free(&m);
}
END_TEST

static hre_node *g_chunk_sender;
static uint64_t g_chunk_conn;
static uint32_t g_chunk_next, g_chunk_total;
static size_t g_writable;

static void chunk_pump(void)
{
    uint8_t chunk[65536];
    while (g_chunk_next < g_chunk_total) {
        int rc;
        memset(chunk, (int)g_chunk_next, sizeof chunk);
        chunk[0] = (uint8_t)g_chunk_next;
        chunk[1] = (uint8_t)(g_chunk_next >> 8);
        chunk[2] = chunk[3] = 0;
        rc = hre_node_app_send(g_chunk_sender, g_chunk_conn, 7, chunk, sizeof chunk, 0);
        if (rc == HRE_EAGAIN)
            return;
        ck_assert_int_eq(rc, HRE_OK);
        g_chunk_next++;
    }
}

static void chunk_events(void *ud, const hre_node_event *ev)
{
    (void)ud;
    if (ev->type == HRE_NODE_EVENT_APP_WRITABLE) {
        g_writable++;
        chunk_pump();
    }
}

static int chunks_done(tn_net *t, void *arg)
{
    appsink *s = arg;
    (void)t;
    return s->n == g_chunk_total;
}

START_TEST(test_app_chunked_backpressure)
{
    /* 24 MiB in 64 KiB chunks: the sender's bucket (8 MiB/s, 2 s burst) and
     * queue push back, APP_WRITABLE resumes, every chunk arrives in order */
    mnet m;
    appsink sa;
    memset(&sa, 0, sizeof sa);
    sa.order_ok = 1;
    mnet_init(&m);
    HRE_T_OK(hre_node_app_register(m.a->node, 7, app_handler, &sa));
    /* b's events drive the pump */
    tn_stop(m.b, 1);
    tn_settle(&m.t, 100);
    m.b->opts.on_event = chunk_events;
    m.b->opts.peer_send_max = 1u << 20;
    tn_restart(m.b);
    tn_connect(&m.t, m.b, m.a);
    ck_assert(tn_run(&m.t, members_cond, &m, 60000));
    tn_settle(&m.t, 10);
    g_chunk_sender = m.b->node;
    g_chunk_conn = tn_conn_at(&m.t, m.b, m.a);
    g_chunk_next = 0;
    g_chunk_total = 384;
    g_writable = 0;
    chunk_pump();
    ck_assert_uint_lt(g_chunk_next, g_chunk_total);   /* it pushed back */
    if (!tn_run(&m.t, chunks_done, &sa, 600000))
        ck_abort_msg("received %zu of %u (sent %u, writable %zu, refused %zu, conn %d)", sa.n, g_chunk_total,
                     g_chunk_next, g_writable, tn_count_events(m.a, HRE_NODE_EVENT_REFUSED, -1),
                     tn_conn_at(&m.t, m.a, m.b) != 0);
    ck_assert(sa.order_ok);
    ck_assert_uint_eq(sa.bytes, (size_t)g_chunk_total * 65536u);
    ck_assert_uint_gt(g_writable, 0);
    ck_assert_uint_eq(tn_count_events(m.a, HRE_NODE_EVENT_REFUSED, HRE_NODE_REASON_RATE_LIMITED), 0);
    check_mem(m.a);
    check_mem(m.b);
    mnet_free(&m);
}
END_TEST

START_TEST(test_app_rate_limited_receiver)
{
    /* a receiver with a tighter rate than its sender drops the excess */
    mnet m;
    appsink sa;
    uint64_t ca;
    int i, sent = 0;
    memset(&sa, 0, sizeof sa);
    sa.order_ok = 1;
    tn_net_init(&m.t, 0);
    HRE_T_OK(hre_key_generate(&m.ka, HRE_CURVE_P256));
    HRE_T_OK(hre_key_generate(&m.kb, HRE_CURVE_P256));
    HRE_T_OK(hre_key_generate(&m.kc, HRE_CURVE_P256));
    m.a = tn_node_add(&m.t, "a", m.ka, NULL);
    m.b = tn_node_add(&m.t, "b", m.kb, NULL);
    m.a->opts.app_rate_msgs = 5;   /* burst: 10 messages */
    tn_start(m.a);
    tn_start(m.b);
    tn_register_node(m.a, NULL, NULL, m.ka);
    tn_register_node(m.a, NULL, NULL, m.kb);
    tn_mine(m.a, 1);
    tn_connect(&m.t, m.b, m.a);
    ck_assert(tn_run(&m.t, members_cond, &m, 60000));
    tn_settle(&m.t, 10);
    HRE_T_OK(hre_node_app_register(m.a->node, 7, app_handler, &sa));
    ca = tn_conn_at(&m.t, m.b, m.a);
    for (i = 0; i < 50; i++)
        if (hre_node_app_send(m.b->node, ca, 7, (const uint8_t *)"ratexx", 6, m.t.now) == HRE_OK)
            sent++;
    ck_assert_int_eq(sent, 50);
    tn_settle(&m.t, 0);
    ck_assert_uint_le(sa.n, 11);
    ck_assert_uint_ge(sa.n, 9);
    ck_assert_uint_ge(tn_count_events(m.a, HRE_NODE_EVENT_REFUSED, HRE_NODE_REASON_RATE_LIMITED), 39);
    ck_assert(tn_conn_at(&m.t, m.a, m.b) != 0);   /* dropped, not disconnected */
    mnet_free(&m);
}
END_TEST

static int has_peer(tn_net *t, void *arg)
{
    tn_node **pair = arg;
    return tn_conn_at(t, pair[0], pair[1]) != 0 && tn_conn_at(t, pair[1], pair[0]) != 0;
}

START_TEST(test_address_book_and_limits)
{
    tn_net t;
    tn_node *a, *b, *c, *pair[2];
    uint64_t conns[8], when;
    size_t n = 0;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    b = tn_node_add(&t, "b", NULL, NULL);
    c = tn_node_add(&t, "c", NULL, NULL);
    a->opts.reconnect_ms = 500;
    a->opts.max_peers = 2;
    tn_start(a);
    tn_start(b);
    tn_start(c);
    ck_assert_int_eq(hre_node_address_add(a->node, "", 0, t.now), HRE_EINVAL);
    HRE_T_OK(hre_node_address_add(a->node, "b", HRE_NODE_ADDR_PERSISTENT, t.now));
    ck_assert_int_eq(hre_node_address_add(a->node, "b", HRE_NODE_ADDR_PERSISTENT, t.now), HRE_EEXISTS);
    pair[0] = a;
    pair[1] = b;
    ck_assert(tn_run(&t, has_peer, pair, 10000));   /* the node dialled it */
    /* b goes away: a redials with backoff */
    tn_stop(b, 1);
    tn_settle(&t, 10);
    ck_assert_uint_eq(tn_conn_at(&t, a, b), 0);
    HRE_T_OK(hre_node_next_timer(a->node, &when));
    ck_assert_uint_ge(when, t.now + 400);
    ck_assert_uint_le(when, t.now + 600);
    tn_restart(b);
    ck_assert(tn_run(&t, has_peer, pair, 10000));
    /* an unknown address: the connect fails and is retried later */
    HRE_T_OK(hre_node_address_add(a->node, "nowhere", 0, t.now));
    tn_settle(&t, 100);
    /* peer list and limits */
    ck_assert_int_eq(hre_node_peer_list(a->node, NULL, &n), HRE_EBUFSIZE);
    ck_assert_uint_eq(n, 1);
    n = 8;
    HRE_T_OK(hre_node_peer_list(a->node, conns, &n));
    ck_assert_uint_eq(n, 1);
    tn_connect(&t, c, a);
    tn_settle(&t, 100);
    ck_assert_int_eq(hre_node_peer_connected(a->node, 424242, "x", 0, t.now), HRE_ELIMIT);   /* max_peers */
    ck_assert_int_eq(hre_node_peer_connected(a->node, conns[0], "dup", 0, t.now), HRE_EEXISTS);
    ck_assert_int_eq(hre_node_peer_recv(a->node, 999, (const uint8_t *)"x", 1, t.now), HRE_ENOTFOUND);
    ck_assert_int_eq(hre_node_peer_closed(a->node, 999, t.now), HRE_ENOTFOUND);
    HRE_T_OK(hre_node_address_remove(a->node, "nowhere"));
    ck_assert_int_eq(hre_node_address_remove(a->node, "nowhere"), HRE_ENOTFOUND);
    {
        uint64_t cc = 0;
        ck_assert_int_eq(hre_node_connect(a->node, &cc, "c", t.now), HRE_ELIMIT);   /* max_peers */
        HRE_T_OK(hre_node_peer_disconnect(a->node, tn_conn_at(&t, a, c), t.now));
        tn_settle(&t, 10);
        HRE_T_OK(hre_node_connect(a->node, &cc, "c", t.now));
        ck_assert_uint_ne(cc, 0);
        pair[1] = c;
        ck_assert(tn_run(&t, has_peer, pair, 10000));
    }
    tn_net_free(&t);
}
END_TEST

typedef struct outbound_want {
    tn_node *n;
    uint32_t k;
} outbound_want;

static uint32_t outbound_of(tn_node *n)
{
    hre_node_stats st = HRE_NODE_STATS_INIT;
    HRE_T_OK(hre_node_stats_get(n->node, &st));
    return st.peers_outbound;
}

static int has_outbound(tn_net *t, void *arg)
{
    outbound_want *w = arg;
    (void)t;
    return outbound_of(w->n) == w->k;
}

/* After one tick at t->now, the node asks for no tick before a later time. */
static void assert_timer_later(tn_net *t, tn_node *n)
{
    uint64_t when = 0;
    HRE_T_OK(hre_node_tick(n->node, t->now));
    HRE_T_OK(hre_node_next_timer(n->node, &when));
    ck_assert_uint_gt(when, t->now);
}

/* A book larger than target_outbound (or than max_peers allows): once the
 * node has what it may have, next_timer moves on (the harness aborts if a
 * node keeps asking for a tick at the same time), and a disconnect makes
 * the node dial again. */
START_TEST(test_address_book_target_met_no_busy_loop)
{
    static const char *names[] = { "b", "c", "d", "e", "f" };
    tn_net t;
    tn_node *a, *g, *peers[5];
    outbound_want w;
    size_t i;
    uint64_t conn;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    g = tn_node_add(&t, "g", NULL, NULL);
    for (i = 0; i < 5; i++)
        peers[i] = tn_node_add(&t, names[i], NULL, NULL);
    a->opts.target_outbound = 2;
    a->opts.reconnect_ms = 500;
    g->opts.max_peers = 2;        /* the peer limit binds before the outbound target */
    g->opts.target_outbound = 8;
    g->opts.reconnect_ms = 500;
    tn_start(a);
    tn_start(g);
    for (i = 0; i < 5; i++)
        tn_start(peers[i]);
    for (i = 0; i < 5; i++) {
        HRE_T_OK(hre_node_address_add(a->node, names[i], 0, t.now));
        HRE_T_OK(hre_node_address_add(g->node, names[i], 0, t.now));
    }
    w.n = a;
    w.k = 2;
    ck_assert(tn_run(&t, has_outbound, &w, 10000));
    w.n = g;
    ck_assert(tn_run(&t, has_outbound, &w, 10000));
    assert_timer_later(&t, a);
    assert_timer_later(&t, g);
    /* time passes (pings, backoffs long over): the targets hold, no spin */
    tn_settle(&t, 30000);
    ck_assert_uint_eq(outbound_of(a), 2);
    ck_assert_uint_eq(outbound_of(g), 2);
    assert_timer_later(&t, a);
    assert_timer_later(&t, g);
    /* a peer goes: each node dials another book entry */
    for (i = 0; i < 5 && !(conn = tn_conn_at(&t, a, peers[i])); i++)
        ;
    ck_assert_uint_lt(i, 5);
    HRE_T_OK(hre_node_peer_disconnect(a->node, conn, t.now));
    ck_assert_uint_eq(outbound_of(a), 1);
    for (i = 0; i < 5 && !(conn = tn_conn_at(&t, g, peers[i])); i++)
        ;
    ck_assert_uint_lt(i, 5);
    HRE_T_OK(hre_node_peer_disconnect(g->node, conn, t.now));
    ck_assert_uint_eq(outbound_of(g), 1);
    w.n = a;
    w.k = 2;
    ck_assert(tn_run(&t, has_outbound, &w, 10000));
    w.n = g;
    ck_assert(tn_run(&t, has_outbound, &w, 10000));
    tn_settle(&t, 5000);
    ck_assert_uint_eq(outbound_of(a), 2);
    ck_assert_uint_eq(outbound_of(g), 2);
    assert_timer_later(&t, a);
    assert_timer_later(&t, g);
    tn_net_free(&t);
}
END_TEST

START_TEST(test_discouragement_list)
{
    tn_net t;
    tn_node *a;
    int ep, i;
    hre_node_discouraged d = HRE_NODE_DISCOURAGED_INIT;
    uint8_t junk[64];
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    a->opts.max_discouraged = 3;
    tn_start(a);
    ck_assert_uint_eq(hre_node_discouraged_count(a->node), 0);
    ck_assert_int_eq(hre_node_discouraged_get(a->node, NULL, NULL, NULL), HRE_EINVAL);
    /* bytes that fail the handshake: closed, but not discouraged */
    memset(junk, 0, sizeof junk);
    junk[1] = 10;   /* a frame of 10 bytes: shorter than message 1's key */
    ep = tn_raw_attach(&t, a, NULL, noop_raw, 0, "junk");
    tn_raw_write(&t, ep, junk, 12);
    tn_settle(&t, 10);
    ck_assert(!tn_raw_open(&t, ep));
    ck_assert_ptr_nonnull(tn_find_event(a, HRE_NODE_EVENT_PEER_DISCONNECTED, HRE_NODE_REASON_HANDSHAKE_FAILED));
    ck_assert_uint_eq(hre_node_discouraged_count(a->node), 0);
    ck_assert_int_eq(hre_node_discouraged_entry(a->node, &d, 0), HRE_ENOTFOUND);
    for (i = 0; i < 2; i++)
        HRE_T_OK(hre_node_discouraged_clear(a->node));
    tn_net_free(&t);
}
END_TEST

START_TEST(test_memory_accounting_returns)
{
    /* connecting and dropping peers leaves the node's count where it was
     * (after the first round warmed its caches): nothing is lost or counted twice */
    tn_net t;
    tn_node *a, *b;
    uint64_t base = 0;
    int round;
    tn_net_init(&t, 0);
    a = tn_node_add(&t, "a", NULL, NULL);
    b = tn_node_add(&t, "b", NULL, NULL);
    tn_start(a);
    tn_start(b);
    tn_mine(a, 5);
    for (round = 0; round < 4; round++) {
        hre_node_stats st = HRE_NODE_STATS_INIT;
        tn_connect(&t, b, a);
        tn_connect(&t, a, b);
        tn_settle(&t, 1000);
        HRE_T_OK(hre_node_stats_get(a->node, &st));
        ck_assert_uint_eq(st.peers_ready, 2);
        HRE_T_OK(hre_node_peer_disconnect(a->node, tn_conn_at(&t, a, b), t.now));
        tn_settle(&t, 10);
        HRE_T_OK(hre_node_peer_disconnect(a->node, tn_conn_at(&t, a, b), t.now));
        tn_settle(&t, 10);
        HRE_T_OK(hre_node_stats_get(a->node, &st));
        ck_assert_uint_eq(st.peers, 0);
        if (round == 0)
            base = st.mem_used;
        else
            ck_assert_uint_eq(st.mem_used, base);
    }
    tn_net_free(&t);
}
END_TEST

START_TEST(test_mining_template_follows_mempool)
{
    mnet m;
    uint8_t tx[1024], id[32], h[32];
    size_t len;
    hre_key *p;
    hre_ledger_status st;
    int rc, i;
    uint64_t before;
    mnet_init(&m);
    /* a template is made (no block found in one nonce, most of the time) */
    before = tn_height(m.a);
    for (i = 0; i < 64; i++) {
        rc = hre_node_mine(m.a->node, h, &st, m.t.now, 1);
        if (rc == HRE_EEXHAUSTED)
            break;
        HRE_T_OK(rc);
    }
    ck_assert_int_eq(rc, HRE_EEXHAUSTED);
    /* the mempool changes: the next steps mine a new template holding the transaction */
    HRE_T_OK(hre_key_generate(&p, HRE_CURVE_P256));
    len = tn_tx_patient(&m.t, tx, sizeof tx, p, 0);
    HRE_T_OK(hre_node_submit_tx(m.a->node, id, NULL, tx, len, m.t.now));
    before = tn_height(m.a);
    do {
        rc = hre_node_mine(m.a->node, h, &st, m.t.now, 1);
    } while (rc == HRE_EEXHAUSTED);
    HRE_T_OK(rc);
    ck_assert_uint_eq(tn_height(m.a), before + 1);
    ck_assert(!tn_in_mempool(m.a, id));   /* it went into the block */
    {
        hre_header hd;
        hre_merkle_branch br;
        uint64_t hh;
        HRE_T_OK(hre_ledger_tx_proof(m.a->l, &hd, &br, &hh, id, UINT64_MAX));
        ck_assert_uint_eq(hh, before + 1);
    }
    hre_key_free(p);
    mnet_free(&m);
}
END_TEST

static Suite *node_suite(void)
{
    Suite *s = suite_create("node");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_options_and_names);
    tcase_add_test(tc, test_new_free_listener);
    tcase_add_test(tc, test_memory_accounting_returns);
    suite_add_tcase(s, tc);
    tc = tcase_create("sync");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_sync_small);
    tcase_add_test(tc, test_sync_byte_by_byte);
    tcase_add_test(tc, test_sync_pull_mode);
    tcase_add_test(tc, test_sync_1000_headers_first);
    tcase_add_test(tc, test_kill_restart_resumes);
    tcase_add_test(tc, test_partition_reorg);
    tcase_add_test(tc, test_self_connection);
    tcase_add_test(tc, test_backpressure_push);
    tcase_add_test(tc, test_silent_peer_times_out);
    tcase_add_test(tc, test_mining_steps);
    tcase_add_test(tc, test_three_nodes_parallel_fetch);
    tcase_add_test(tc, test_address_book_and_limits);
    tcase_add_test(tc, test_address_book_target_met_no_busy_loop);
    tcase_add_test(tc, test_discouragement_list);
    suite_add_tcase(s, tc);
    tc = tcase_create("members");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_members_relay_transactions);
    tcase_add_test(tc, test_relay_request_timeout_asks_other_announcer);
    tcase_add_test(tc, test_relay_request_peer_gone_asks_other_announcer);
    tcase_add_test(tc, test_unregistered_syncs_but_cannot_relay);
    tcase_add_test(tc, test_suspension_disconnects);
    tcase_add_test(tc, test_org_suspension_disconnects);
    tcase_add_test(tc, test_key_rotation_disconnects);
    tcase_add_test(tc, test_partition_rerelays_own_transactions);
    tcase_add_test(tc, test_mining_template_follows_mempool);
    tcase_add_test(tc, test_app_messages);
    tcase_add_test(tc, test_app_chunked_backpressure);
    tcase_add_test(tc, test_app_rate_limited_receiver);
    suite_add_tcase(s, tc);
#ifdef HRE_WHITEBOX
    tc = tcase_create("hostile");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_raw_handshake_and_version);
    tcase_add_test(tc, test_raw_messages_before_version_ignored);
    tcase_add_test(tc, test_raw_wrong_network);
    tcase_add_test(tc, test_raw_bad_magic_hello);
    tcase_add_test(tc, test_raw_bad_magic_message);
    tcase_add_test(tc, test_raw_bad_tag);
    tcase_add_test(tc, test_raw_empty_transport_message);
    tcase_add_test(tc, test_raw_oversize);
    tcase_add_test(tc, test_raw_noncanonical);
    tcase_add_test(tc, test_raw_wrong_params_version);
    tcase_add_test(tc, test_raw_over_caps);
    tcase_add_test(tc, test_raw_invalid_pow);
    tcase_add_test(tc, test_raw_non_continuous_and_non_connecting);
    tcase_add_test(tc, test_raw_valid_headers_accepted);
    tcase_add_test(tc, test_raw_retarget_bits);
    tcase_add_test(tc, test_raw_time_future_not_punished);
    tcase_add_test(tc, test_raw_staller_during_sync);
    tcase_add_test(tc, test_raw_handshake_never_finished);
    tcase_add_test(tc, test_raw_ping_timeout);
    tcase_add_test(tc, test_raw_flood_others_served);
    tcase_add_test(tc, test_raw_mitm_refused);
    tcase_add_test(tc, test_raw_replay_refused);
    tcase_add_test(tc, test_raw_identity_malformed);
    tcase_add_test(tc, test_raw_rekey_both_sides);
    tcase_add_test(tc, test_raw_nonce_exhausted);
    tcase_add_test(tc, test_raw_header_memory_bounded);
    tcase_add_test(tc, test_raw_low_work_chain_ignored);
    tcase_add_test(tc, test_raw_tx_request_tracker);
    tcase_add_test(tc, test_raw_unrequested_block_ignored);
    tcase_add_test(tc, test_raw_invalid_block_discouraged);
    tcase_add_test(tc, test_raw_mutated_block_refetched);
    tcase_add_test(tc, test_fatal_state);
    tcase_add_test(tc, test_write_fuzz_seeds);
    tcase_add_test(tc, test_raw_discouragement_bounded);
    tcase_add_test(tc, test_raw_discouraged_identity);
    suite_add_tcase(s, tc);
#endif
    return s;
}

Suite *hre_suite_node(void)
{
    return node_suite();
}
