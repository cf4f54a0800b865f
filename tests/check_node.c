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
    suite_add_tcase(s, tc);
    return s;
}

Suite *hre_suite_node(void)
{
    return node_suite();
}
