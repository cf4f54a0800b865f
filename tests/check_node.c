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
#endif

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

static void expect_drop(tn_net *t, tn_node *n, raw *r, int reason, const char *addr)
{
    hre_node_discouraged d = HRE_NODE_DISCOURAGED_INIT;
    tn_settle(t, 100);
    ck_assert_msg(!tn_raw_open(t, r->ep), "the node kept the connection (expected %s)",
                  hre_node_reason_name(reason));
    ck_assert_msg(tn_find_event(n, HRE_NODE_EVENT_PEER_DISCONNECTED, reason) != NULL,
                  "no disconnect with reason %s", hre_node_reason_name(reason));
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
    send_headers(&g.r, &g.h[5], 3);   /* the parent of the first is unknown to a */
    expect_drop(&g.t, g.a, &g.r, HRE_NODE_REASON_NON_CONNECTING, "float");
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
#endif /* HRE_WHITEBOX */

static Suite *node_suite(void)
{
    Suite *s = suite_create("node");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_options_and_names);
    tcase_add_test(tc, test_new_free_listener);
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
    tcase_add_test(tc, test_raw_time_future_not_punished);
    suite_add_tcase(s, tc);
#endif
    return s;
}

Suite *hre_suite_node(void)
{
    return node_suite();
}
