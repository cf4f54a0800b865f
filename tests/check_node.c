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
    return s;
}

Suite *hre_suite_node(void)
{
    return node_suite();
}
