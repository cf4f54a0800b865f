/*
 * The loopback hub (include/hre/sys/hub.h), black-box: raw bytes between
 * endpoints that drive the transport vtable themselves (no node), under each
 * fault on its own and all of them together; partitions (isolate, split,
 * asymmetric, scheduled); crashes and restarts; flow control; timers and user
 * events; versioned structs and argument checks; determinism (two runs of a
 * seed give identical event traces and trace digests, another seed does
 * not).
 *
 * Every endpoint sends segments that carry a header (sender endpoint, serial
 * number, length) and a body derived from the serial, so the receiver can
 * tell exactly what the hub did to each one.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>
#include <hre/sys/hub.h>

#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct ep_t {
    const hre_transport_methods *m;
    void *ud;
    uint32_t id;
} ep_t;

static hre_hub *hub_make(uint64_t seed, const hre_hub_faults *f, uint32_t window)
{
    hre_hub *hub = NULL;
    hre_hub_options o;
    HRE_T_OK(hre_hub_options_init(&o, HRE_HUB_OPTIONS_VERSION));
    o.seed = seed;
    o.faults = f;
    o.window = window;
    o.start_ms = 1000;
    HRE_T_OK(hre_hub_new(&hub, &o));
    return hub;
}

static ep_t ep_add(hre_hub *hub, const char *address)
{
    ep_t e;
    HRE_T_OK(hre_hub_endpoint_add(hub, &e.id, address));
    HRE_T_OK(hre_hub_endpoint_transport(hub, &e.m, &e.ud, e.id));
    ck_assert_ptr_nonnull(e.m->send);
    ck_assert_ptr_nonnull(e.m->connect);
    ck_assert_ptr_nonnull(e.m->close);
    return e;
}

/* A copy of one event. */
typedef struct evc {
    unsigned int type;
    uint64_t time, seq, conn, tag;
    uint32_t ep;
    unsigned int flags;
    char address[HRE_HUB_ADDRESS_MAX + 1];
    uint8_t *data;
    size_t len;
} evc;

typedef struct evlog {
    evc *e;
    size_t n, cap;
} evlog;

static void log_add(evlog *l, const hre_hub_event *ev)
{
    evc *c;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->e = realloc(l->e, l->cap * sizeof *l->e);
        ck_assert_ptr_nonnull(l->e);
    }
    c = &l->e[l->n++];
    memset(c, 0, sizeof *c);
    c->type = ev->type;
    c->time = ev->time;
    c->seq = ev->seq;
    c->conn = ev->conn;
    c->tag = ev->tag;
    c->ep = ev->endpoint;
    c->flags = ev->flags;
    ck_assert_ptr_nonnull(ev->address);
    ck_assert_uint_le(strlen(ev->address), HRE_HUB_ADDRESS_MAX);
    strcpy(c->address, ev->address);
    c->len = ev->len;
    if (ev->type == HRE_HUB_EVENT_DATA) {
        ck_assert_uint_gt(ev->len, 0);
        c->data = malloc(ev->len);
        ck_assert_ptr_nonnull(c->data);
        memcpy(c->data, ev->data, ev->len);
    } else {
        ck_assert_ptr_null(ev->data);
        ck_assert_uint_eq(ev->len, 0);
    }
}

static void log_free(evlog *l)
{
    size_t i;
    for (i = 0; i < l->n; i++) free(l->e[i].data);
    free(l->e);
    memset(l, 0, sizeof *l);
}

/* Pop every event due by `until` into the log; checks (time, seq) order. */
static void drain(hre_hub *hub, evlog *l, uint64_t until)
{
    hre_hub_event ev = HRE_HUB_EVENT_INIT;
    uint64_t last_t = hre_hub_now(hub), last_seq = 0;
    int first = 1, rc;
    while ((rc = hre_hub_next(hub, &ev, until)) == HRE_OK) {
        ck_assert_msg(hre_error_last() == HRE_OK, "next left an error");
        ck_assert_uint_ge(ev.time, last_t);
        if (!first && ev.time == last_t) ck_assert_uint_gt(ev.seq, last_seq);
        ck_assert_uint_eq(ev.time, hre_hub_now(hub));
        last_t = ev.time;
        last_seq = ev.seq;
        first = 0;
        log_add(l, &ev);
    }
    ck_assert_int_eq(rc, HRE_ENOTFOUND);
    ck_assert_uint_eq(ev.type, 0);
    if (until != UINT64_MAX) ck_assert_uint_eq(hre_hub_now(hub), until);
}

/* Connect a to b and deliver both CONNECTED events; returns a's and b's ids. */
static void connect_pair(hre_hub *hub, const ep_t *a, const ep_t *b, const char *b_addr,
                         uint64_t *ca, uint64_t *cb)
{
    hre_hub_event ev = HRE_HUB_EVENT_INIT;
    ck_assert_int_eq(a->m->connect(a->ud, ca, b_addr), HRE_OK);
    ck_assert_uint_ne(*ca, 0);
    HRE_T_OK(hre_hub_next(hub, &ev, UINT64_MAX));
    ck_assert_uint_eq(ev.type, HRE_HUB_EVENT_CONNECTED);
    ck_assert_uint_eq(ev.endpoint, b->id);                 /* the acceptor first */
    ck_assert_uint_eq(ev.flags, 0);
    ck_assert_str_eq(ev.address, hre_hub_endpoint_address(hub, a->id));
    *cb = ev.conn;
    HRE_T_OK(hre_hub_next(hub, &ev, UINT64_MAX));
    ck_assert_uint_eq(ev.type, HRE_HUB_EVENT_CONNECTED);
    ck_assert_uint_eq(ev.endpoint, a->id);
    ck_assert_uint_eq(ev.conn, *ca);
    ck_assert_uint_eq(ev.flags, HRE_HUB_OUTBOUND);
    ck_assert_str_eq(ev.address, b_addr);
    ck_assert_uint_ne(*ca, *cb);
}

/* Segment format: u32 serial, u32 length of the body, body[i] = (serial * 31 + i) & 0xff. */
#define SEG_HDR 8u

static size_t seg_make(uint8_t *out, uint32_t serial, uint32_t body)
{
    uint32_t i;
    memcpy(out, &serial, 4);
    memcpy(out + 4, &body, 4);
    for (i = 0; i < body; i++) out[SEG_HDR + i] = (uint8_t)(serial * 31u + i);
    return SEG_HDR + body;
}

/* Is p/len exactly segment `serial` as seg_make wrote it? */
static int seg_is(const uint8_t *p, size_t len, uint32_t *serial)
{
    uint32_t s, body, i;
    if (len < SEG_HDR) return 0;
    memcpy(&s, p, 4);
    memcpy(&body, p + 4, 4);
    if (len != SEG_HDR + body) return 0;
    for (i = 0; i < body; i++)
        if (p[SEG_HDR + i] != (uint8_t)(s * 31u + i)) return 0;
    *serial = s;
    return 1;
}

static void send_all(const ep_t *e, uint64_t conn, const uint8_t *p, size_t len)
{
    size_t sent = 0;
    ck_assert_int_eq(e->m->send(e->ud, conn, p, len, &sent), HRE_OK);
    ck_assert_uint_eq(sent, len);
}

static hre_hub_stats stats(const hre_hub *hub)
{
    hre_hub_stats st = HRE_HUB_STATS_INIT;
    HRE_T_OK(hre_hub_stats_get(hub, &st));
    return st;
}

/* ------------------------------------------------------------------------ */
/* Structs, arguments, endpoints                                             */
/* ------------------------------------------------------------------------ */

START_TEST(test_versions_and_arguments)
{
    hre_hub_options o;
    hre_hub_faults f;
    hre_hub_partition p;
    hre_hub_event ev;
    hre_hub_stats st;
    hre_hub *hub = NULL;
    uint32_t side = 0;

    HRE_T_OK(hre_hub_options_init(&o, HRE_HUB_OPTIONS_VERSION));
    ck_assert_int_eq(hre_hub_options_init(&o, 0), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_hub_options_init(&o, HRE_HUB_OPTIONS_VERSION + 1), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_hub_options_init(NULL, 1), HRE_EINVAL);
    HRE_T_OK(hre_hub_faults_init(&f, HRE_HUB_FAULTS_VERSION));
    ck_assert_uint_eq(f.drop + f.delay_max_ms, 0);
    ck_assert_int_eq(hre_hub_faults_init(&f, 2), HRE_EUNSUPPORTED);
    HRE_T_OK(hre_hub_partition_init(&p, HRE_HUB_PARTITION_VERSION));
    ck_assert_uint_eq(p.end_ms, UINT64_MAX);
    ck_assert_int_eq(p.cut, HRE_HUB_CUT_BOTH);
    HRE_T_OK(hre_hub_event_init(&ev, HRE_HUB_EVENT_VERSION));
    HRE_T_OK(hre_hub_stats_init(&st, HRE_HUB_STATS_VERSION));

    /* new: defaults with NULL options, refusals with details */
    HRE_T_OK(hre_hub_new(&hub, NULL));
    ck_assert_uint_eq(hre_hub_now(hub), 0);
    hre_hub_free(hub);
    hre_hub_free(NULL);
    ck_assert_int_eq(hre_hub_new(NULL, &o), HRE_EINVAL);
    o.version = 7;
    hub = (hre_hub *)&o;
    ck_assert_int_eq(hre_hub_new(&hub, &o), HRE_EUNSUPPORTED);
    ck_assert_ptr_null(hub);
    HRE_T_OK(hre_hub_options_init(&o, HRE_HUB_OPTIONS_VERSION));
    f.drop = 1001;
    o.faults = &f;
    ck_assert_int_eq(hre_hub_new(&hub, &o), HRE_EINVAL);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "drop"));
    f.drop = 0;
    f.delay_min_ms = 5;
    f.delay_max_ms = 4;
    ck_assert_int_eq(hre_hub_new(&hub, &o), HRE_EINVAL);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "delay_min_ms"));
    f.delay_min_ms = 0;
    f.version = 0;
    ck_assert_int_eq(hre_hub_new(&hub, &o), HRE_EUNSUPPORTED);
    f.version = HRE_HUB_FAULTS_VERSION;
    /* schedule: bad element size, bad partitions */
    p.side = &side;
    p.side_count = 1;
    o.partitions = &p;
    o.partition_count = 1;
    o.partition_size = 4;
    ck_assert_int_eq(hre_hub_new(&hub, &o), HRE_EUNSUPPORTED);
    o.partition_size = sizeof p;
    p.start_ms = 10;
    p.end_ms = 10;
    ck_assert_int_eq(hre_hub_new(&hub, &o), HRE_EINVAL);
    p.end_ms = 20;
    p.cut = 9;
    ck_assert_int_eq(hre_hub_new(&hub, &o), HRE_EINVAL);
    p.cut = HRE_HUB_CUT_IN;
    p.side_count = 0;
    ck_assert_int_eq(hre_hub_new(&hub, &o), HRE_EINVAL);
    p.side_count = 1;
    o.partitions = NULL;
    ck_assert_int_eq(hre_hub_new(&hub, &o), HRE_EINVAL);
    o.partitions = &p;
    HRE_T_OK(hre_hub_new(&hub, &o));

    /* faults during a run: same checks; get returns what was set */
    f.corrupt = 2000;
    ck_assert_int_eq(hre_hub_faults_set(hub, &f), HRE_EINVAL);
    f.corrupt = 250;
    f.delay_max_ms = 9;
    HRE_T_OK(hre_hub_faults_set(hub, &f));
    {
        hre_hub_faults g = HRE_HUB_FAULTS_INIT;
        HRE_T_OK(hre_hub_faults_get(hub, &g));
        ck_assert_uint_eq(g.corrupt, 250);
        ck_assert_uint_eq(g.delay_max_ms, 9);
        g.version = 0;
        ck_assert_int_eq(hre_hub_faults_get(hub, &g), HRE_EUNSUPPORTED);
    }
    HRE_T_OK(hre_hub_faults_set(hub, NULL));
    {
        hre_hub_faults g = HRE_HUB_FAULTS_INIT;
        HRE_T_OK(hre_hub_faults_get(hub, &g));
        ck_assert_uint_eq(g.corrupt + g.delay_max_ms, 0);
    }
    ev.version = 0;
    ck_assert_int_eq(hre_hub_next(hub, &ev, UINT64_MAX), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_hub_next(hub, NULL, UINT64_MAX), HRE_EINVAL);
    st.version = 0;
    ck_assert_int_eq(hre_hub_stats_get(hub, &st), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_hub_partition_remove(hub, 99), HRE_ENOTFOUND);
    ck_assert_int_eq(hre_hub_timer_set(hub, 0, 5), HRE_ENOTFOUND);
    ck_assert_int_eq(hre_hub_close(hub, 0, 1), HRE_ENOTFOUND);
    ck_assert_int_eq(hre_hub_endpoint_crash(hub, 0), HRE_ENOTFOUND);
    ck_assert_int_eq(hre_hub_endpoint_restart(hub, 3), HRE_ENOTFOUND);
    ck_assert_int_eq(hre_hub_endpoint_up(hub, 0), 0);
    ck_assert_ptr_null(hre_hub_endpoint_address(hub, 0));
    ck_assert_int_eq(hre_hub_trace_digest(NULL, NULL), HRE_EINVAL);
    hre_hub_free(hub);
}
END_TEST

START_TEST(test_endpoints)
{
    hre_hub *hub = hub_make(1, NULL, 0);
    char long_addr[HRE_HUB_ADDRESS_MAX + 2];
    const hre_transport_methods *m = NULL;
    void *ud = NULL;
    uint32_t id = 99;
    ep_t a = ep_add(hub, "alpha"), b = ep_add(hub, "beta");
    ck_assert_uint_eq(a.id, 0);
    ck_assert_uint_eq(b.id, 1);
    ck_assert_uint_eq(hre_hub_endpoint_count(hub), 2);
    ck_assert_uint_eq(hre_hub_endpoint_count(NULL), 0);
    ck_assert_str_eq(hre_hub_endpoint_address(hub, 1), "beta");
    ck_assert_int_eq(hre_hub_endpoint_up(hub, 0), 1);
    ck_assert_ptr_ne(a.ud, b.ud);
    ck_assert_ptr_eq(a.m, b.m);
    ck_assert_uint_eq(a.m->version, HRE_TRANSPORT_METHODS_VERSION);
    ck_assert_int_eq(hre_hub_endpoint_add(hub, &id, "alpha"), HRE_EEXISTS);
    ck_assert_int_eq(hre_hub_endpoint_add(hub, &id, ""), HRE_EINVAL);
    memset(long_addr, 'x', sizeof long_addr - 1);
    long_addr[sizeof long_addr - 1] = '\0';
    ck_assert_int_eq(hre_hub_endpoint_add(hub, &id, long_addr), HRE_EINVAL);
    long_addr[HRE_HUB_ADDRESS_MAX] = '\0';
    HRE_T_OK(hre_hub_endpoint_add(hub, &id, long_addr));
    ck_assert_uint_eq(id, 2);
    ck_assert_int_eq(hre_hub_endpoint_transport(hub, &m, &ud, 3), HRE_ENOTFOUND);
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(ud);
    ck_assert_int_eq(hre_hub_endpoint_transport(hub, NULL, &ud, 0), HRE_EINVAL);
    /* vtable argument checks */
    {
        uint64_t c = 5;
        size_t sent = 7;
        uint8_t x = 1;
        ck_assert_int_eq(a.m->connect(a.ud, &c, ""), HRE_EINVAL);
        ck_assert_uint_eq(c, 0);
        ck_assert_int_eq(a.m->connect(a.ud, NULL, "beta"), HRE_EINVAL);
        ck_assert_int_eq(a.m->send(a.ud, 12345, &x, 1, &sent), HRE_ENOTFOUND);
        ck_assert_uint_eq(sent, 0);
        ck_assert_int_eq(a.m->send(a.ud, 1, NULL, 1, &sent), HRE_EINVAL);
        a.m->close(a.ud, 777, 0);   /* unknown: ignored */
    }
    hre_hub_free(hub);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A perfect network                                                         */
/* ------------------------------------------------------------------------ */

START_TEST(test_perfect_stream)
{
    hre_hub *hub = hub_make(2, NULL, 0);
    ep_t a = ep_add(hub, "a"), b = ep_add(hub, "b");
    uint64_t ca, cb;
    uint8_t buf[600];
    evlog l = { 0 };
    size_t i, len;
    uint32_t serial;

    connect_pair(hub, &a, &b, "b", &ca, &cb);
    ck_assert_uint_eq(hre_hub_now(hub), 1000);   /* no latency */
    for (i = 0; i < 20; i++) {
        len = seg_make(buf, (uint32_t)i, (uint32_t)(i * 29 % 500 + 1));
        send_all(&a, ca, buf, len);
        len = seg_make(buf, (uint32_t)(100 + i), 3);
        send_all(&b, cb, buf, len);
    }
    drain(hub, &l, UINT64_MAX);
    ck_assert_uint_eq(l.n, 40);
    {
        uint32_t next_a = 0, next_b = 100;
        for (i = 0; i < l.n; i++) {
            const evc *e = &l.e[i];
            ck_assert_uint_eq(e->type, HRE_HUB_EVENT_DATA);
            ck_assert_uint_eq(e->time, 1000);
            ck_assert(seg_is(e->data, e->len, &serial));
            if (e->ep == b.id) {
                ck_assert_uint_eq(e->conn, cb);
                ck_assert_uint_eq(serial, next_a++);   /* in order */
            } else {
                ck_assert_uint_eq(e->ep, a.id);
                ck_assert_uint_eq(e->conn, ca);
                ck_assert_uint_eq(serial, next_b++);
            }
        }
        ck_assert_uint_eq(next_a, 20);
        ck_assert_uint_eq(next_b, 120);
    }
    log_free(&l);

    /* an orderly close: bytes in flight first, then CLOSED at the other end
     * only; later sends to the closed end are not delivered */
    len = seg_make(buf, 7, 10);
    send_all(&a, ca, buf, len);
    a.m->close(a.ud, ca, 0);
    send_all(&b, cb, buf, len);            /* b does not know yet: taken, lost */
    {
        size_t sent = 9;
        ck_assert_int_eq(a.m->send(a.ud, ca, buf, len, &sent), HRE_ENOTFOUND);
    }
    drain(hub, &l, UINT64_MAX);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_uint_eq(l.e[0].type, HRE_HUB_EVENT_DATA);
    ck_assert_uint_eq(l.e[0].ep, b.id);
    ck_assert_uint_eq(l.e[1].type, HRE_HUB_EVENT_CLOSED);
    ck_assert_uint_eq(l.e[1].ep, b.id);
    ck_assert_uint_eq(l.e[1].conn, cb);
    ck_assert_uint_eq(stats(hub).lost, 1);
    ck_assert_int_eq(hre_hub_close(hub, b.id, cb), HRE_ENOTFOUND);
    log_free(&l);

    /* attempts that fail: unknown address (refused at once) */
    {
        uint64_t c = 0;
        ck_assert_int_eq(a.m->connect(a.ud, &c, "nobody"), HRE_OK);
        drain(hub, &l, UINT64_MAX);
        ck_assert_uint_eq(l.n, 1);
        ck_assert_uint_eq(l.e[0].type, HRE_HUB_EVENT_CLOSED);
        ck_assert_uint_eq(l.e[0].conn, c);
        ck_assert_uint_eq(l.e[0].ep, a.id);
        log_free(&l);
    }
    /* the host refuses an inbound connection: the initiator is told
     * CONNECTED (the accept happened) and then CLOSED */
    {
        uint64_t c = 0;
        hre_hub_event ev = HRE_HUB_EVENT_INIT;
        ck_assert_int_eq(a.m->connect(a.ud, &c, "b"), HRE_OK);
        HRE_T_OK(hre_hub_next(hub, &ev, UINT64_MAX));
        ck_assert_uint_eq(ev.type, HRE_HUB_EVENT_CONNECTED);
        ck_assert_uint_eq(ev.endpoint, b.id);
        HRE_T_OK(hre_hub_close(hub, b.id, ev.conn));
        drain(hub, &l, UINT64_MAX);
        ck_assert_uint_eq(l.n, 2);
        ck_assert_uint_eq(l.e[0].type, HRE_HUB_EVENT_CONNECTED);
        ck_assert_uint_eq(l.e[0].conn, c);
        ck_assert_uint_eq(l.e[1].type, HRE_HUB_EVENT_CLOSED);
        ck_assert_uint_eq(l.e[1].conn, c);
        log_free(&l);
    }
    /* an endpoint may connect to itself: two distinct ends */
    {
        uint64_t c1, c2;
        connect_pair(hub, &a, &a, "a", &c1, &c2);
        len = seg_make(buf, 3, 3);
        send_all(&a, c1, buf, len);
        drain(hub, &l, UINT64_MAX);
        ck_assert_uint_eq(l.n, 1);
        ck_assert_uint_eq(l.e[0].conn, c2);
        log_free(&l);
    }
    ck_assert_uint_eq(stats(hub).connects, 4);
    ck_assert_uint_eq(stats(hub).connect_failures, 1);
    hre_hub_free(hub);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Latency and each fault on its own                                         */
/* ------------------------------------------------------------------------ */

/* One connection a -> b on a hub with faults f; a sends n segments, one
 * every `step` ms, with bodies of 1..300 bytes from the test PRNG; returns
 * every event b saw (a's events are checked not to be DATA). */
static void fault_run(evlog *out, hre_hub_stats *st, uint64_t seed, const hre_hub_faults *f,
                      uint32_t n, uint64_t step)
{
    hre_hub *hub = hub_make(seed, NULL, 1u << 30);
    ep_t a = ep_add(hub, "a"), b = ep_add(hub, "b");
    uint64_t ca, cb;
    uint8_t buf[SEG_HDR + 300];
    evlog l = { 0 };
    uint32_t i;
    size_t k;
    connect_pair(hub, &a, &b, "b", &ca, &cb);
    HRE_T_OK(hre_hub_faults_set(hub, f));
    for (i = 0; i < n; i++) {
        size_t len = seg_make(buf, i, (uint32_t)(1 + hre_t_rand_below(300)));
        size_t sent = 0;
        int rc = a.m->send(a.ud, ca, buf, len, &sent);
        /* a reset breaks the connection: later sends are taken and lost */
        ck_assert_int_eq(rc, HRE_OK);
        ck_assert_uint_eq(sent, len);
        drain(hub, &l, hre_hub_now(hub) + step);
        /* a may learn of a reset: stop sending then */
        for (k = 0; k < l.n; k++)
            if (l.e[k].ep == a.id) break;
        if (k < l.n) break;
    }
    drain(hub, &l, UINT64_MAX);
    for (k = 0; k < l.n; k++) {
        if (l.e[k].ep == a.id) {
            ck_assert_uint_eq(l.e[k].type, HRE_HUB_EVENT_CLOSED);
            continue;
        }
        ck_assert_uint_eq(l.e[k].conn, cb);
    }
    *st = stats(hub);
    *out = l;
    hre_hub_free(hub);
}

/* The delivered DATA events as one byte stream. */
static uint8_t *concat(const evlog *l, size_t *len)
{
    size_t i, n = 0;
    uint8_t *p;
    for (i = 0; i < l->n; i++)
        if (l->e[i].type == HRE_HUB_EVENT_DATA) n += l->e[i].len;
    p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    n = 0;
    for (i = 0; i < l->n; i++)
        if (l->e[i].type == HRE_HUB_EVENT_DATA) {
            memcpy(p + n, l->e[i].data, l->e[i].len);
            n += l->e[i].len;
        }
    *len = n;
    return p;
}

START_TEST(test_latency_fifo)
{
    hre_hub_faults f = HRE_HUB_FAULTS_INIT;
    hre_hub_stats st;
    evlog l;
    size_t i;
    uint32_t serial, next = 0;
    f.delay_min_ms = 5;
    f.delay_max_ms = 80;
    /* segments sent 1 ms apart with 5..80 ms latency: FIFO still holds */
    fault_run(&l, &st, hre_t_seed(), &f, 300, 1);
    ck_assert_uint_eq(l.n, 300);
    for (i = 0; i < l.n; i++) {
        ck_assert(seg_is(l.e[i].data, l.e[i].len, &serial));
        ck_assert_uint_eq(serial, next++);
    }
    ck_assert_uint_eq(st.dropped + st.duplicated + st.reordered + st.corrupted + st.split, 0);
    log_free(&l);

    /* fixed latency: every segment arrives exactly delay later */
    {
        hre_hub *hub = hub_make(3, NULL, 0);
        ep_t a = ep_add(hub, "a"), b = ep_add(hub, "b");
        uint64_t ca, cb;
        uint8_t buf[64];
        hre_hub_event ev = HRE_HUB_EVENT_INIT;
        f.delay_min_ms = f.delay_max_ms = 7;
        HRE_T_OK(hre_hub_faults_set(hub, &f));
        ck_assert_int_eq(a.m->connect(a.ud, &ca, "b"), HRE_OK);
        ck_assert_int_eq(hre_hub_next(hub, &ev, 1006), HRE_ENOTFOUND);
        ck_assert_uint_eq(hre_hub_now(hub), 1006);
        HRE_T_OK(hre_hub_next(hub, &ev, UINT64_MAX));
        ck_assert_uint_eq(ev.time, 1007);   /* the attempt took 7 ms */
        ck_assert_uint_eq(ev.endpoint, b.id);
        cb = ev.conn;
        HRE_T_OK(hre_hub_next(hub, &ev, UINT64_MAX));
        ck_assert_uint_eq(ev.conn, ca);
        send_all(&a, ca, buf, seg_make(buf, 1, 10));
        HRE_T_OK(hre_hub_next(hub, &ev, UINT64_MAX));
        ck_assert_uint_eq(ev.type, HRE_HUB_EVENT_DATA);
        ck_assert_uint_eq(ev.conn, cb);
        ck_assert_uint_eq(ev.time, 1014);
        hre_hub_free(hub);
    }
}
END_TEST

START_TEST(test_fault_drop)
{
    hre_hub_faults f = HRE_HUB_FAULTS_INIT;
    hre_hub_stats st;
    evlog l;
    size_t i;
    uint32_t serial, last = 0;
    int first = 1;
    f.drop = 1000;
    fault_run(&l, &st, hre_t_seed(), &f, 50, 1);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_uint_eq(st.dropped, 50);
    ck_assert_uint_eq(st.bytes_delivered, 0);
    log_free(&l);

    f.drop = 300;
    fault_run(&l, &st, hre_t_seed() + 1, &f, 400, 1);
    /* whatever arrives is whole, once, in order; the rest was dropped */
    for (i = 0; i < l.n; i++) {
        ck_assert(seg_is(l.e[i].data, l.e[i].len, &serial));
        if (!first) ck_assert_uint_gt(serial, last);
        last = serial;
        first = 0;
    }
    ck_assert_uint_eq(l.n + st.dropped, 400);
    ck_assert_uint_gt(st.dropped, 60);      /* 300 per mille of 400: ~120 */
    ck_assert_uint_lt(st.dropped, 200);
    log_free(&l);
}
END_TEST

START_TEST(test_fault_duplicate)
{
    hre_hub_faults f = HRE_HUB_FAULTS_INIT;
    hre_hub_stats st;
    evlog l;
    size_t i;
    uint32_t serial, count[100] = { 0 };
    f.duplicate = 1000;
    f.delay_max_ms = 10;
    fault_run(&l, &st, hre_t_seed(), &f, 100, 2);
    ck_assert_uint_eq(l.n, 200);
    ck_assert_uint_eq(st.duplicated, 100);
    for (i = 0; i < l.n; i++) {
        ck_assert(seg_is(l.e[i].data, l.e[i].len, &serial));
        ck_assert_uint_lt(serial, 100);
        count[serial]++;
    }
    for (i = 0; i < 100; i++) ck_assert_uint_eq(count[i], 2);
    /* duplicates do not count against the window: bytes sent once */
    ck_assert_uint_eq(st.bytes_delivered, 2 * st.bytes_sent);
    log_free(&l);
}
END_TEST

START_TEST(test_fault_reorder)
{
    hre_hub_faults f = HRE_HUB_FAULTS_INIT;
    hre_hub_stats st;
    evlog l;
    size_t i;
    uint32_t serial, seen[200] = { 0 }, inversions = 0, prev = 0;
    /* a reordered segment is overtaken by one sent after it */
    {
        hre_hub *hub = hub_make(4, NULL, 0);
        ep_t a = ep_add(hub, "a"), b = ep_add(hub, "b");
        uint64_t ca, cb;
        uint8_t buf[64];
        hre_hub_event ev = HRE_HUB_EVENT_INIT;
        connect_pair(hub, &a, &b, "b", &ca, &cb);
        f.reorder = 1000;
        HRE_T_OK(hre_hub_faults_set(hub, &f));
        send_all(&a, ca, buf, seg_make(buf, 1, 4));
        f.reorder = 0;
        HRE_T_OK(hre_hub_faults_set(hub, &f));
        send_all(&a, ca, buf, seg_make(buf, 2, 4));
        HRE_T_OK(hre_hub_next(hub, &ev, UINT64_MAX));
        ck_assert(seg_is(ev.data, ev.len, &serial));
        ck_assert_uint_eq(serial, 2);
        HRE_T_OK(hre_hub_next(hub, &ev, UINT64_MAX));
        ck_assert(seg_is(ev.data, ev.len, &serial));
        ck_assert_uint_eq(serial, 1);
        ck_assert_uint_gt(ev.time, 1000);
        ck_assert_uint_eq(stats(hub).reordered, 1);
        hre_hub_free(hub);
    }
    /* a stream with reordering: every segment once, whole, some out of order */
    f.reorder = 200;
    f.delay_max_ms = 5;
    fault_run(&l, &st, hre_t_seed(), &f, 200, 1);
    ck_assert_uint_eq(l.n, 200);
    for (i = 0; i < l.n; i++) {
        ck_assert(seg_is(l.e[i].data, l.e[i].len, &serial));
        ck_assert_uint_lt(serial, 200);
        ck_assert_uint_eq(seen[serial]++, 0);
        if (i && serial < prev) inversions++;
        prev = serial;
    }
    ck_assert_uint_gt(st.reordered, 10);
    ck_assert_uint_gt(inversions, 0);
    log_free(&l);
}
END_TEST

START_TEST(test_fault_corrupt)
{
    hre_hub_faults f = HRE_HUB_FAULTS_INIT;
    hre_hub_stats st;
    evlog l;
    size_t i, j;
    uint8_t want[SEG_HDR + 300];
    f.corrupt = 1000;
    fault_run(&l, &st, hre_t_seed(), &f, 150, 1);
    ck_assert_uint_eq(l.n, 150);
    ck_assert_uint_eq(st.corrupted, 150);
    for (i = 0; i < l.n; i++) {
        uint32_t serial = (uint32_t)i, body;
        size_t diff = 0;
        /* FIFO, so segment i is event i; its length may be corrupted too:
         * rebuild the original from the serial and the event length */
        body = (uint32_t)(l.e[i].len - SEG_HDR);
        (void)seg_make(want, serial, body);
        for (j = 0; j < l.e[i].len; j++) diff += l.e[i].data[j] != want[j];
        ck_assert_uint_eq(diff, 1);   /* exactly one byte changed */
    }
    log_free(&l);
}
END_TEST

START_TEST(test_fault_split)
{
    hre_hub_faults f = HRE_HUB_FAULTS_INIT;
    hre_hub_stats st;
    evlog l;
    size_t i, len, off = 0;
    uint8_t *stream;
    uint32_t serial = 0;
    f.split = 1000;
    f.delay_max_ms = 3;
    fault_run(&l, &st, hre_t_seed(), &f, 200, 1);
    ck_assert_uint_gt(l.n, 200);               /* more events than segments */
    ck_assert_uint_le(l.n, 800);
    for (i = 0; i < l.n; i++) ck_assert_uint_gt(l.e[i].len, 0);
    /* the stream is intact: the pieces put together are the segments */
    stream = concat(&l, &len);
    while (off < len) {
        uint32_t body, s;
        ck_assert_uint_ge(len - off, SEG_HDR);
        memcpy(&body, stream + off + 4, 4);
        ck_assert(seg_is(stream + off, SEG_HDR + body, &s));
        ck_assert_uint_eq(s, serial++);
        off += SEG_HDR + body;
    }
    ck_assert_uint_eq(serial, 200);
    ck_assert_uint_eq(off, len);
    free(stream);
    log_free(&l);
}
END_TEST

START_TEST(test_fault_reset_and_connect_fail)
{
    hre_hub_faults f = HRE_HUB_FAULTS_INIT;
    hre_hub_stats st;
    evlog l;
    f.reset = 1000;
    f.delay_max_ms = 4;
    /* the first segment breaks the connection: both ends get CLOSED, no bytes */
    fault_run(&l, &st, hre_t_seed(), &f, 10, 10);
    ck_assert_uint_eq(st.resets, 1);
    ck_assert_uint_eq(st.bytes_delivered, 0);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_uint_eq(l.e[0].type, HRE_HUB_EVENT_CLOSED);
    ck_assert_uint_eq(l.e[1].type, HRE_HUB_EVENT_CLOSED);
    ck_assert_uint_ne(l.e[0].ep, l.e[1].ep);
    ck_assert_uint_eq(l.e[0].time, l.e[1].time);
    log_free(&l);

    {
        hre_hub *hub = hub_make(5, NULL, 0);
        ep_t a = ep_add(hub, "a");
        uint64_t c;
        (void)ep_add(hub, "b");
        f.reset = 0;
        f.connect_fail = 1000;
        HRE_T_OK(hre_hub_faults_set(hub, &f));
        ck_assert_int_eq(a.m->connect(a.ud, &c, "b"), HRE_OK);
        drain(hub, &l, UINT64_MAX);
        ck_assert_uint_eq(l.n, 1);
        ck_assert_uint_eq(l.e[0].type, HRE_HUB_EVENT_CLOSED);
        ck_assert_uint_eq(l.e[0].conn, c);
        ck_assert_uint_eq(stats(hub).connect_failures, 1);
        log_free(&l);
        hre_hub_free(hub);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Flow control                                                              */
/* ------------------------------------------------------------------------ */

START_TEST(test_window)
{
    hre_hub_faults f = HRE_HUB_FAULTS_INIT;
    hre_hub *hub = hub_make(6, NULL, 100);
    ep_t a = ep_add(hub, "a"), b = ep_add(hub, "b");
    uint64_t ca, cb;
    uint8_t buf[250];
    size_t sent = 0;
    evlog l = { 0 };
    memset(buf, 0x5a, sizeof buf);
    connect_pair(hub, &a, &b, "b", &ca, &cb);
    f.delay_min_ms = f.delay_max_ms = 10;
    HRE_T_OK(hre_hub_faults_set(hub, &f));
    ck_assert_int_eq(a.m->send(a.ud, ca, buf, 250, &sent), HRE_OK);
    ck_assert_uint_eq(sent, 100);                 /* the window */
    sent = 77;
    ck_assert_int_eq(a.m->send(a.ud, ca, buf, 150, &sent), HRE_EAGAIN);
    ck_assert_uint_eq(sent, 0);
    ck_assert_uint_eq(stats(hub).short_sends, 2);
    /* the other direction has its own window */
    ck_assert_int_eq(b.m->send(b.ud, cb, buf, 60, &sent), HRE_OK);
    ck_assert_uint_eq(sent, 60);
    drain(hub, &l, UINT64_MAX);
    /* a's 100 bytes and b's 60 arrive at +10, then (caused by the first
     * delivery, so after both) a WRITABLE for a */
    ck_assert_uint_eq(l.n, 3);
    ck_assert_uint_eq(l.e[0].type, HRE_HUB_EVENT_DATA);
    ck_assert_uint_eq(l.e[0].ep, b.id);
    ck_assert_uint_eq(l.e[0].len, 100);
    ck_assert_uint_eq(l.e[1].type, HRE_HUB_EVENT_DATA);
    ck_assert_uint_eq(l.e[1].ep, a.id);
    ck_assert_uint_eq(l.e[2].type, HRE_HUB_EVENT_WRITABLE);
    ck_assert_uint_eq(l.e[2].ep, a.id);
    ck_assert_uint_eq(l.e[2].conn, ca);
    ck_assert_uint_eq(l.e[2].time, 1010);
    log_free(&l);
    ck_assert_int_eq(a.m->send(a.ud, ca, buf, 150, &sent), HRE_OK);
    ck_assert_uint_eq(sent, 100);
    /* lost bytes free the window too: drop the next, then a WRITABLE */
    f.drop = 1000;
    HRE_T_OK(hre_hub_faults_set(hub, &f));
    drain(hub, &l, UINT64_MAX);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_uint_eq(l.e[1].type, HRE_HUB_EVENT_WRITABLE);
    log_free(&l);
    ck_assert_int_eq(a.m->send(a.ud, ca, buf, 50, &sent), HRE_OK);
    ck_assert_uint_eq(sent, 50);                  /* dropped at once: no window used */
    ck_assert_int_eq(a.m->send(a.ud, ca, buf, 150, &sent), HRE_OK);
    ck_assert_uint_eq(sent, 100);                 /* still at most the window per call */
    ck_assert_uint_eq(stats(hub).dropped, 2);
    /* that short send's part was lost at once: the room is there, so is a WRITABLE */
    drain(hub, &l, UINT64_MAX);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(l.e[0].type, HRE_HUB_EVENT_WRITABLE);
    ck_assert_uint_eq(l.e[0].conn, ca);
    log_free(&l);
    hre_hub_free(hub);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Partitions                                                                */
/* ------------------------------------------------------------------------ */

/* n endpoints, fully connected (i -> j for i < j); conn[i][j] is i's end. */
#define PN 4
typedef struct mesh {
    hre_hub *hub;
    ep_t e[PN];
    uint64_t conn[PN][PN];
} mesh;

static void mesh_make(mesh *m, uint64_t seed)
{
    int i, j;
    char name[8];
    m->hub = hub_make(seed, NULL, 0);
    for (i = 0; i < PN; i++) {
        snprintf(name, sizeof name, "n%d", i);
        m->e[i] = ep_add(m->hub, name);
    }
    for (i = 0; i < PN; i++)
        for (j = i + 1; j < PN; j++) {
            snprintf(name, sizeof name, "n%d", j);
            connect_pair(m->hub, &m->e[i], &m->e[j], name, &m->conn[i][j], &m->conn[j][i]);
        }
}

/* Every endpoint sends one segment to every other; returns bit (i*PN+j) set
 * when i's segment reached j. */
static uint32_t mesh_exchange(mesh *m)
{
    uint8_t buf[32];
    evlog l = { 0 };
    uint32_t got = 0;
    size_t k;
    int i, j;
    for (i = 0; i < PN; i++)
        for (j = 0; j < PN; j++)
            if (i != j) send_all(&m->e[i], m->conn[i][j], buf, seg_make(buf, (uint32_t)(i * PN + j), 4));
    drain(m->hub, &l, hre_hub_now(m->hub) + 50);
    for (k = 0; k < l.n; k++) {
        uint32_t s;
        ck_assert_uint_eq(l.e[k].type, HRE_HUB_EVENT_DATA);
        ck_assert(seg_is(l.e[k].data, l.e[k].len, &s));
        ck_assert_uint_eq(s % PN, l.e[k].ep);
        got |= 1u << s;
    }
    log_free(&l);
    return got;
}

static uint32_t all_but_self(void)
{
    uint32_t m = 0;
    int i, j;
    for (i = 0; i < PN; i++)
        for (j = 0; j < PN; j++)
            if (i != j) m |= 1u << (i * PN + j);
    return m;
}

#define BIT(i, j) (1u << ((i) * PN + (j)))

START_TEST(test_partitions)
{
    mesh m;
    hre_hub_partition p = HRE_HUB_PARTITION_INIT;
    uint32_t side[2], id_iso, id_half, want;
    int j;
    mesh_make(&m, 7);
    ck_assert_uint_eq(mesh_exchange(&m), all_but_self());

    /* isolate n1 */
    side[0] = 1;
    p.side = side;
    p.side_count = 1;
    HRE_T_OK(hre_hub_partition_add(m.hub, &id_iso, &p));
    ck_assert_int_eq(hre_hub_cut(m.hub, 1, 0), 1);
    ck_assert_int_eq(hre_hub_cut(m.hub, 0, 1), 1);
    ck_assert_int_eq(hre_hub_cut(m.hub, 0, 2), 0);
    want = all_but_self();
    for (j = 0; j < PN; j++) want &= ~(BIT(1, j) | BIT(j, 1));
    ck_assert_uint_eq(mesh_exchange(&m), want);
    ck_assert_uint_eq(stats(m.hub).cut, 6);
    /* connections are not closed by a cut, and an attempt across it fails
     * after the connect timeout */
    {
        uint64_t c;
        evlog l = { 0 };
        uint64_t t0 = hre_hub_now(m.hub);
        ck_assert_int_eq(m.e[0].m->connect(m.e[0].ud, &c, "n1"), HRE_OK);
        drain(m.hub, &l, UINT64_MAX);
        ck_assert_uint_eq(l.n, 1);
        ck_assert_uint_eq(l.e[0].type, HRE_HUB_EVENT_CLOSED);
        ck_assert_uint_eq(l.e[0].time, t0 + HRE_HUB_DEFAULT_CONNECT_TIMEOUT);
        log_free(&l);
    }
    HRE_T_OK(hre_hub_partition_remove(m.hub, id_iso));
    ck_assert_uint_eq(mesh_exchange(&m), all_but_self());

    /* split in halves {0,1} | {2,3} */
    side[0] = 1;
    side[1] = 0;   /* unsorted on purpose */
    p.side_count = 2;
    HRE_T_OK(hre_hub_partition_add(m.hub, &id_half, &p));
    want = BIT(0, 1) | BIT(1, 0) | BIT(2, 3) | BIT(3, 2);
    ck_assert_uint_eq(mesh_exchange(&m), want);
    HRE_T_OK(hre_hub_partition_clear(m.hub));
    ck_assert_uint_eq(mesh_exchange(&m), all_but_self());

    /* asymmetric: n2 cannot send (OUT), then cannot receive (IN) */
    side[0] = 2;
    p.side_count = 1;
    p.cut = HRE_HUB_CUT_OUT;
    HRE_T_OK(hre_hub_partition_add(m.hub, NULL, &p));
    want = all_but_self();
    for (j = 0; j < PN; j++) want &= ~BIT(2, j);
    ck_assert_uint_eq(mesh_exchange(&m), want);
    ck_assert_int_eq(hre_hub_cut(m.hub, 2, 0), 1);
    ck_assert_int_eq(hre_hub_cut(m.hub, 0, 2), 0);
    HRE_T_OK(hre_hub_partition_clear(m.hub));
    p.cut = HRE_HUB_CUT_IN;
    HRE_T_OK(hre_hub_partition_add(m.hub, NULL, &p));
    want = all_but_self();
    for (j = 0; j < PN; j++) want &= ~BIT(j, 2);
    ck_assert_uint_eq(mesh_exchange(&m), want);
    HRE_T_OK(hre_hub_partition_clear(m.hub));

    /* a cut that starts while bytes are in flight takes them */
    {
        hre_hub_faults f = HRE_HUB_FAULTS_INIT;
        uint8_t buf[16];
        evlog l = { 0 };
        f.delay_min_ms = f.delay_max_ms = 20;
        HRE_T_OK(hre_hub_faults_set(m.hub, &f));
        p.cut = HRE_HUB_CUT_BOTH;
        p.start_ms = hre_hub_now(m.hub) + 10;
        p.end_ms = p.start_ms + 100;
        HRE_T_OK(hre_hub_partition_add(m.hub, NULL, &p));
        ck_assert_int_eq(hre_hub_cut(m.hub, 0, 2), 0);   /* not yet */
        send_all(&m.e[0], m.conn[0][2], buf, seg_make(buf, 2, 4));
        send_all(&m.e[0], m.conn[0][1], buf, seg_make(buf, 1, 4));
        drain(m.hub, &l, UINT64_MAX);
        ck_assert_uint_eq(l.n, 1);
        ck_assert_uint_eq(l.e[0].ep, 1);
        log_free(&l);
        HRE_T_OK(hre_hub_faults_set(m.hub, NULL));
        /* and it ends by itself at end_ms */
        drain(m.hub, &l, p.end_ms);
        ck_assert_uint_eq(mesh_exchange(&m), all_but_self());
    }
    hre_hub_free(m.hub);
}
END_TEST

START_TEST(test_partition_schedule)
{
    /* the schedule in the options: n0 isolated during [1100, 1200) */
    hre_hub *hub = NULL;
    hre_hub_options o = HRE_HUB_OPTIONS_INIT;
    hre_hub_partition p[2] = { HRE_HUB_PARTITION_INIT, HRE_HUB_PARTITION_INIT };
    uint32_t s0 = 0, s1 = 1;
    ep_t a, b;
    uint64_t ca, cb;
    uint8_t buf[16];
    evlog l = { 0 };
    p[0].side = &s0;
    p[0].side_count = 1;
    p[0].start_ms = 1100;
    p[0].end_ms = 1200;
    p[1].side = &s1;
    p[1].side_count = 1;
    p[1].cut = HRE_HUB_CUT_IN;
    p[1].start_ms = 1300;
    p[1].end_ms = 1400;
    o.start_ms = 1000;
    o.partitions = p;
    o.partition_count = 2;
    o.partition_size = sizeof p[0];
    HRE_T_OK(hre_hub_new(&hub, &o));
    a = ep_add(hub, "a");
    b = ep_add(hub, "b");
    connect_pair(hub, &a, &b, "b", &ca, &cb);
    drain(hub, &l, 1150);
    ck_assert_int_eq(hre_hub_cut(hub, 0, 1), 1);
    send_all(&a, ca, buf, seg_make(buf, 1, 4));
    drain(hub, &l, 1250);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_int_eq(hre_hub_cut(hub, 0, 1), 0);
    send_all(&a, ca, buf, seg_make(buf, 2, 4));
    drain(hub, &l, 1350);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_int_eq(hre_hub_cut(hub, 0, 1), 1);   /* n1 cannot receive */
    ck_assert_int_eq(hre_hub_cut(hub, 1, 0), 0);
    send_all(&a, ca, buf, seg_make(buf, 3, 4));
    send_all(&b, cb, buf, seg_make(buf, 4, 4));
    drain(hub, &l, UINT64_MAX);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_uint_eq(l.e[1].ep, a.id);
    log_free(&l);
    hre_hub_free(hub);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Crash and restart, timers, user events                                    */
/* ------------------------------------------------------------------------ */

START_TEST(test_crash_restart)
{
    hre_hub_faults f = HRE_HUB_FAULTS_INIT;
    hre_hub *hub = hub_make(8, NULL, 0);
    ep_t a = ep_add(hub, "a"), b = ep_add(hub, "b"), c = ep_add(hub, "c");
    uint64_t ab, ba, ac, ca, t0;
    uint8_t buf[32];
    evlog l = { 0 };
    connect_pair(hub, &a, &b, "b", &ab, &ba);
    connect_pair(hub, &a, &c, "c", &ac, &ca);
    f.delay_min_ms = 5;
    f.delay_max_ms = 5;
    HRE_T_OK(hre_hub_faults_set(hub, &f));
    /* bytes in flight both ways, a timer and a user event for b */
    send_all(&a, ab, buf, seg_make(buf, 1, 4));
    send_all(&b, ba, buf, seg_make(buf, 2, 4));
    HRE_T_OK(hre_hub_timer_set(hub, b.id, 1002));
    HRE_T_OK(hre_hub_schedule(hub, 1003, b.id, 42));
    t0 = hre_hub_now(hub);
    HRE_T_OK(hre_hub_endpoint_crash(hub, b.id));
    HRE_T_OK(hre_hub_endpoint_crash(hub, b.id));     /* no-op */
    ck_assert_int_eq(hre_hub_endpoint_up(hub, b.id), 0);
    ck_assert_uint_eq(stats(hub).crashes, 1);
    /* b's own sends fail now: its connections are gone */
    {
        size_t sent;
        ck_assert_int_eq(b.m->send(b.ud, ba, buf, 4, &sent), HRE_ENOTFOUND);
        ck_assert_int_eq(b.m->connect(b.ud, &ca, "a"), HRE_ESTATE);
    }
    drain(hub, &l, UINT64_MAX);
    /* only: the user event (always delivered) and a's CLOSED for ab */
    ck_assert_uint_eq(l.n, 2);
    ck_assert_uint_eq(l.e[0].type, HRE_HUB_EVENT_USER);
    ck_assert_uint_eq(l.e[0].ep, b.id);
    ck_assert_uint_eq(l.e[0].tag, 42);
    ck_assert_uint_eq(l.e[1].type, HRE_HUB_EVENT_CLOSED);
    ck_assert_uint_eq(l.e[1].ep, a.id);
    ck_assert_uint_eq(l.e[1].conn, ab);
    ck_assert_uint_eq(l.e[1].time, t0 + 5);
    log_free(&l);
    /* a -> c is unaffected */
    send_all(&a, ac, buf, seg_make(buf, 3, 4));
    drain(hub, &l, UINT64_MAX);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(l.e[0].ep, c.id);
    log_free(&l);
    /* attempts to a down endpoint are refused; after the restart they work */
    {
        uint64_t x;
        ck_assert_int_eq(a.m->connect(a.ud, &x, "b"), HRE_OK);
        drain(hub, &l, UINT64_MAX);
        ck_assert_uint_eq(l.n, 1);
        ck_assert_uint_eq(l.e[0].type, HRE_HUB_EVENT_CLOSED);
        log_free(&l);
        HRE_T_OK(hre_hub_endpoint_restart(hub, b.id));
        HRE_T_OK(hre_hub_endpoint_restart(hub, b.id));   /* no-op */
        ck_assert_int_eq(hre_hub_endpoint_up(hub, b.id), 1);
        HRE_T_OK(hre_hub_faults_set(hub, NULL));
        connect_pair(hub, &a, &b, "b", &ab, &ba);
        send_all(&b, ba, buf, seg_make(buf, 5, 4));
        drain(hub, &l, UINT64_MAX);
        ck_assert_uint_eq(l.n, 1);
        ck_assert_uint_eq(l.e[0].ep, a.id);
        ck_assert_uint_eq(l.e[0].conn, ab);
        log_free(&l);
    }
    /* a crash while an attempt of the crashed endpoint is in flight */
    {
        uint64_t x;
        ck_assert_int_eq(b.m->connect(b.ud, &x, "c"), HRE_OK);
        HRE_T_OK(hre_hub_endpoint_crash(hub, b.id));
        drain(hub, &l, UINT64_MAX);
        ck_assert_uint_eq(l.n, 1);              /* a hears ab closed; c hears nothing */
        ck_assert_uint_eq(l.e[0].ep, a.id);
        log_free(&l);
    }
    hre_hub_free(hub);
}
END_TEST

START_TEST(test_timers_and_user_events)
{
    hre_hub *hub = hub_make(9, NULL, 0);
    ep_t a = ep_add(hub, "a"), b = ep_add(hub, "b");
    evlog l = { 0 };
    (void)a;
    (void)b;
    HRE_T_OK(hre_hub_timer_set(hub, 0, 1500));
    HRE_T_OK(hre_hub_timer_set(hub, 0, 1200));         /* replaces */
    HRE_T_OK(hre_hub_timer_set(hub, 1, 1200));
    HRE_T_OK(hre_hub_schedule(hub, 1200, 7, 1));        /* any ep number */
    HRE_T_OK(hre_hub_schedule(hub, 900, 0, 2));         /* past: at once */
    drain(hub, &l, 1100);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(l.e[0].type, HRE_HUB_EVENT_USER);
    ck_assert_uint_eq(l.e[0].tag, 2);
    ck_assert_uint_eq(l.e[0].time, 1000);
    drain(hub, &l, UINT64_MAX);
    ck_assert_uint_eq(l.n, 4);
    /* same time: in the order they were set */
    ck_assert_uint_eq(l.e[1].type, HRE_HUB_EVENT_TIMER);
    ck_assert_uint_eq(l.e[1].ep, 0);
    ck_assert_uint_eq(l.e[1].time, 1200);
    ck_assert_uint_eq(l.e[2].type, HRE_HUB_EVENT_TIMER);
    ck_assert_uint_eq(l.e[2].ep, 1);
    ck_assert_uint_eq(l.e[3].type, HRE_HUB_EVENT_USER);
    ck_assert_uint_eq(l.e[3].ep, 7);
    log_free(&l);
    /* cancel; a timer in the past fires now */
    HRE_T_OK(hre_hub_timer_set(hub, 0, 5000));
    HRE_T_OK(hre_hub_timer_set(hub, 0, UINT64_MAX));
    HRE_T_OK(hre_hub_timer_set(hub, 1, 3));
    drain(hub, &l, UINT64_MAX);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(l.e[0].ep, 1);
    ck_assert_uint_eq(l.e[0].time, 1200);
    log_free(&l);
    ck_assert_uint_eq(stats(hub).queued, 0);
    hre_hub_free(hub);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Every fault at once, and determinism                                      */
/* ------------------------------------------------------------------------ */

/* A random workload: n endpoints connect, send, close, crash and restart at
 * random (decisions from a PRNG seeded with wseed, reacting to events), on a
 * hub with every fault on. Fills the digest of everything the endpoints saw
 * (computed here, independently of the hub's) and the hub's trace digest.
 * Also checks the stream invariant per connection: without corruption,
 * drop, reorder and duplication, bytes arrive in order (the loss faults are
 * checked by the per-fault tests). */
static void chaos(uint64_t hub_seed, uint64_t wseed, uint8_t seen[32], uint8_t trace[32],
                  hre_hub_stats *st_out)
{
    hre_hub_faults f = HRE_HUB_FAULTS_INIT;
    hre_hub *hub;
    hre_sha256_ctx *h = NULL;
    ep_t e[6];
    uint64_t live[6][64];
    size_t nlive[6] = { 0 };
    hre_hub_event ev = HRE_HUB_EVENT_INIT;
    uint8_t buf[3000];
    int i, steps = 0;
    char name[8];
    f.drop = 50;
    f.duplicate = 50;
    f.reorder = 50;
    f.corrupt = 50;
    f.split = 200;
    f.reset = 10;
    f.connect_fail = 100;
    f.delay_min_ms = 1;
    f.delay_max_ms = 40;
    hub = hub_make(hub_seed, &f, 2048);   /* sends of up to 3000 bytes: short sends */
    hre_t_reseed(wseed);
    HRE_T_OK(hre_sha256_new(&h));
    for (i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "e%d", i);
        e[i] = ep_add(hub, name);
        HRE_T_OK(hre_hub_timer_set(hub, e[i].id, 1000 + hre_t_rand_below(50)));
    }
    {
        hre_hub_partition p = HRE_HUB_PARTITION_INIT;
        uint32_t side[3] = { 0, 1, 2 };
        p.side = side;
        p.side_count = 3;
        p.start_ms = 1500;
        p.end_ms = 1800;
        HRE_T_OK(hre_hub_partition_add(hub, NULL, &p));
        p.side_count = 1;
        p.cut = HRE_HUB_CUT_OUT;
        p.start_ms = 2000;
        p.end_ms = 2300;
        HRE_T_OK(hre_hub_partition_add(hub, NULL, &p));
    }
    HRE_T_OK(hre_hub_schedule(hub, 1700, 4, 1));   /* crash e4 */
    HRE_T_OK(hre_hub_schedule(hub, 1900, 4, 2));   /* restart e4 */
    while (hre_hub_next(hub, &ev, 3000) == HRE_OK) {
        uint32_t x = ev.endpoint;
        uint8_t rec[40];
        size_t k;
        memcpy(rec, &ev.type, 4);
        memcpy(rec + 4, &ev.time, 8);
        memcpy(rec + 12, &ev.endpoint, 4);
        memcpy(rec + 16, &ev.conn, 8);
        memcpy(rec + 24, &ev.len, 8);
        memcpy(rec + 32, &ev.tag, 8);
        HRE_T_OK(hre_sha256_update(h, rec, sizeof rec));
        if (ev.len) HRE_T_OK(hre_sha256_update(h, ev.data, ev.len));
        steps++;
        switch (ev.type) {
        case HRE_HUB_EVENT_CONNECTED:
            if (nlive[x] < 64) live[x][nlive[x]++] = ev.conn;
            else HRE_T_OK(hre_hub_close(hub, x, ev.conn));
            break;
        case HRE_HUB_EVENT_CLOSED:
            for (k = 0; k < nlive[x]; k++)
                if (live[x][k] == ev.conn) {
                    live[x][k] = live[x][--nlive[x]];
                    break;
                }
            break;
        case HRE_HUB_EVENT_USER:
            if (ev.tag == 1) {
                HRE_T_OK(hre_hub_endpoint_crash(hub, x));
                nlive[x] = 0;
            } else {
                HRE_T_OK(hre_hub_endpoint_restart(hub, x));
                HRE_T_OK(hre_hub_timer_set(hub, x, hre_hub_now(hub) + 1));
            }
            break;
        case HRE_HUB_EVENT_TIMER: {
            uint64_t r = hre_t_rand_below(10);
            if (r < 3) {
                uint64_t c;
                snprintf(name, sizeof name, "e%d", (int)hre_t_rand_below(7));  /* e6: no such */
                ck_assert_int_eq(e[x].m->connect(e[x].ud, &c, name), HRE_OK);
            } else if (r < 9 && nlive[x]) {
                uint64_t c = live[x][hre_t_rand_below(nlive[x])];
                size_t len = 1 + (size_t)hre_t_rand_below(sizeof buf), sent = 0;
                int rc;
                hre_t_rand_bytes(buf, len);
                rc = e[x].m->send(e[x].ud, c, buf, len, &sent);
                ck_assert(rc == HRE_OK || rc == HRE_EAGAIN);
                if (rc == HRE_OK) ck_assert_uint_le(sent, len);
            } else if (nlive[x]) {
                k = (size_t)hre_t_rand_below(nlive[x]);
                e[x].m->close(e[x].ud, live[x][k], 0);
                live[x][k] = live[x][--nlive[x]];
            }
            HRE_T_OK(hre_hub_timer_set(hub, x, hre_hub_now(hub) + 1 + hre_t_rand_below(20)));
            break;
        }
        default:
            break;
        }
    }
    ck_assert_uint_gt(steps, 500);
    HRE_T_OK(hre_sha256_final(h, seen));
    hre_sha256_free(h);
    HRE_T_OK(hre_hub_trace_digest(hub, trace));
    *st_out = stats(hub);
    hre_hub_free(hub);
}

START_TEST(test_determinism)
{
    uint64_t seed = hre_t_seed();
    uint8_t s1[32], t1[32], s2[32], t2[32], s3[32], t3[32];
    hre_hub_stats st1, st2, st3;
    chaos(seed, seed ^ 0x5eed, s1, t1, &st1);
    chaos(seed, seed ^ 0x5eed, s2, t2, &st2);
    /* the same seed and workload: the same events, byte for byte */
    ck_assert_mem_eq(s1, s2, 32);
    ck_assert_mem_eq(t1, t2, 32);
    ck_assert_uint_eq(st1.events, st2.events);
    ck_assert_uint_eq(st1.bytes_delivered, st2.bytes_delivered);
    /* every fault happened in this run */
    ck_assert_uint_gt(st1.dropped, 0);
    ck_assert_uint_gt(st1.duplicated, 0);
    ck_assert_uint_gt(st1.reordered, 0);
    ck_assert_uint_gt(st1.corrupted, 0);
    ck_assert_uint_gt(st1.split, 0);
    ck_assert_uint_gt(st1.cut, 0);
    ck_assert_uint_gt(st1.connect_failures, 0);
    ck_assert_uint_gt(st1.short_sends, 0);
    ck_assert_uint_eq(st1.crashes, 1);
    /* another hub seed: another run */
    chaos(seed + 1, seed ^ 0x5eed, s3, t3, &st3);
    ck_assert(memcmp(t1, t3, 32) != 0);
    ck_assert(memcmp(s1, s3, 32) != 0);
}
END_TEST

START_TEST(test_trace_digest_changes)
{
    hre_hub *hub = hub_make(10, NULL, 0);
    ep_t a = ep_add(hub, "a"), b = ep_add(hub, "b");
    uint64_t ca, cb;
    uint8_t d0[32], d1[32], d2[32], buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    evlog l = { 0 };
    HRE_T_OK(hre_hub_trace_digest(hub, d0));
    HRE_T_OK(hre_hub_trace_digest(hub, d1));
    ck_assert_mem_eq(d0, d1, 32);            /* reading does not change it */
    connect_pair(hub, &a, &b, "b", &ca, &cb);
    send_all(&a, ca, buf, 8);
    drain(hub, &l, UINT64_MAX);
    HRE_T_OK(hre_hub_trace_digest(hub, d1));
    ck_assert(memcmp(d0, d1, 32) != 0);
    buf[3] ^= 1;                              /* one other byte: another digest */
    send_all(&a, ca, buf, 8);
    HRE_T_OK(hre_hub_trace_digest(hub, d2));
    ck_assert(memcmp(d1, d2, 32) != 0);
    log_free(&l);
    hre_hub_free(hub);
}
END_TEST

START_TEST(test_pause_resume)
{
    hre_hub_faults f = HRE_HUB_FAULTS_INIT;
    hre_hub *hub = hub_make(11, NULL, 64);
    ep_t a = ep_add(hub, "a"), b = ep_add(hub, "b");
    uint64_t ca, cb;
    uint8_t buf[64];
    size_t sent, i;
    uint32_t serial;
    evlog l = { 0 };
    connect_pair(hub, &a, &b, "b", &ca, &cb);
    f.delay_min_ms = f.delay_max_ms = 5;
    HRE_T_OK(hre_hub_faults_set(hub, &f));
    HRE_T_OK(hre_hub_pause(hub, b.id, cb, 1));
    HRE_T_OK(hre_hub_pause(hub, b.id, cb, 1));            /* no-op */
    ck_assert_int_eq(hre_hub_pause(hub, b.id, 999, 1), HRE_ENOTFOUND);
    ck_assert_int_eq(hre_hub_pause(hub, a.id, cb, 1), HRE_ENOTFOUND);   /* not a's end */
    /* a fills its window towards the paused end: back-pressure */
    send_all(&a, ca, buf, seg_make(buf, 1, 16));           /* 24 bytes */
    send_all(&a, ca, buf, seg_make(buf, 2, 16));
    ck_assert_int_eq(a.m->send(a.ud, ca, buf, seg_make(buf, 3, 16), &sent), HRE_OK);
    ck_assert_uint_eq(sent, 64 - 2 * 24);                  /* what is left of the window */
    ck_assert_int_eq(a.m->send(a.ud, ca, buf, 8, &sent), HRE_EAGAIN);
    a.m->close(a.ud, ca, 0);                               /* an orderly close after them */
    drain(hub, &l, hre_hub_now(hub) + 1000);
    ck_assert_uint_eq(l.n, 0);                             /* all held */
    ck_assert_uint_eq(stats(hub).held, 4);
    HRE_T_OK(hre_hub_pause(hub, b.id, cb, 0));
    drain(hub, &l, UINT64_MAX);
    ck_assert_uint_eq(l.n, 4);
    ck_assert(seg_is(l.e[0].data, l.e[0].len, &serial));
    ck_assert_uint_eq(serial, 1);
    ck_assert(seg_is(l.e[1].data, l.e[1].len, &serial));
    ck_assert_uint_eq(serial, 2);
    ck_assert_uint_eq(l.e[2].len, 16);                     /* the short send's part */
    ck_assert_uint_eq(l.e[3].type, HRE_HUB_EVENT_CLOSED);  /* the close comes after the bytes */
    ck_assert_uint_eq(l.e[3].conn, cb);
    for (i = 0; i < l.n; i++) ck_assert_uint_eq(l.e[i].time, hre_hub_now(hub));
    log_free(&l);

    /* a reset is not held; held bytes are lost with the connection */
    connect_pair(hub, &a, &b, "b", &ca, &cb);
    HRE_T_OK(hre_hub_pause(hub, b.id, cb, 1));
    send_all(&a, ca, buf, seg_make(buf, 4, 4));
    drain(hub, &l, hre_hub_now(hub) + 100);
    ck_assert_uint_eq(l.n, 0);
    f.reset = 1000;
    HRE_T_OK(hre_hub_faults_set(hub, &f));
    send_all(&a, ca, buf, seg_make(buf, 5, 4));
    drain(hub, &l, UINT64_MAX);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_uint_eq(l.e[0].type, HRE_HUB_EVENT_CLOSED);
    ck_assert_uint_eq(l.e[1].type, HRE_HUB_EVENT_CLOSED);
    log_free(&l);
    /* a paused end that closes itself drops what it held */
    HRE_T_OK(hre_hub_faults_set(hub, NULL));
    connect_pair(hub, &a, &b, "b", &ca, &cb);
    HRE_T_OK(hre_hub_pause(hub, b.id, cb, 1));
    send_all(&a, ca, buf, seg_make(buf, 6, 4));
    drain(hub, &l, UINT64_MAX);
    ck_assert_uint_eq(l.n, 0);
    HRE_T_OK(hre_hub_close(hub, b.id, cb));
    ck_assert_int_eq(hre_hub_pause(hub, b.id, cb, 0), HRE_ENOTFOUND);
    drain(hub, &l, UINT64_MAX);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(l.e[0].ep, a.id);
    ck_assert_uint_eq(l.e[0].type, HRE_HUB_EVENT_CLOSED);
    log_free(&l);
    ck_assert_uint_eq(stats(hub).queued, 0);
    hre_hub_free(hub);
}
END_TEST

START_TEST(test_segment_max)
{
    hre_hub *hub = NULL;
    hre_hub_options o = HRE_HUB_OPTIONS_INIT;
    hre_hub_faults f = HRE_HUB_FAULTS_INIT;
    ep_t a, b;
    uint64_t ca, cb;
    uint8_t *big = malloc(200000), *stream;
    size_t i, len;
    evlog l = { 0 };
    ck_assert_ptr_nonnull(big);
    for (i = 0; i < 200000; i++) big[i] = (uint8_t)(i * 7 + 3);
    /* the default: 64 KiB per DATA event */
    o.window = 1u << 20;
    HRE_T_OK(hre_hub_new(&hub, &o));
    a = ep_add(hub, "a");
    b = ep_add(hub, "b");
    connect_pair(hub, &a, &b, "b", &ca, &cb);
    send_all(&a, ca, big, 200000);
    drain(hub, &l, UINT64_MAX);
    ck_assert_uint_eq(l.n, 4);                             /* 65536 x 3 + 3392 */
    for (i = 0; i < 3; i++) ck_assert_uint_eq(l.e[i].len, HRE_HUB_DEFAULT_SEGMENT);
    stream = concat(&l, &len);
    ck_assert_uint_eq(len, 200000);
    ck_assert_mem_eq(stream, big, 200000);
    free(stream);
    log_free(&l);
    hre_hub_free(hub);
    /* a small one, with faults that split and duplicate: every piece fits */
    o.segment_max = 1000;
    f.split = 1000;
    f.duplicate = 1000;
    o.faults = &f;
    HRE_T_OK(hre_hub_new(&hub, &o));
    a = ep_add(hub, "a");
    b = ep_add(hub, "b");
    HRE_T_OK(hre_hub_faults_set(hub, NULL));
    connect_pair(hub, &a, &b, "b", &ca, &cb);
    HRE_T_OK(hre_hub_faults_set(hub, &f));
    send_all(&a, ca, big, 10000);
    drain(hub, &l, UINT64_MAX);
    ck_assert_uint_ge(l.n, 20);
    for (i = 0; i < l.n; i++) ck_assert_uint_le(l.e[i].len, 1000);
    stream = concat(&l, &len);
    ck_assert_uint_eq(len, 20000);                         /* the segment, then its duplicate */
    ck_assert_mem_eq(stream, big, 10000);
    ck_assert_mem_eq(stream + 10000, big, 10000);
    free(stream);
    log_free(&l);
    hre_hub_free(hub);
    free(big);
}
END_TEST

Suite *hre_suite_hub(void)
{
    Suite *s = suite_create("hub");
    TCase *tc = tcase_create("hub");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_versions_and_arguments);
    tcase_add_test(tc, test_endpoints);
    tcase_add_test(tc, test_perfect_stream);
    tcase_add_test(tc, test_latency_fifo);
    tcase_add_test(tc, test_fault_drop);
    tcase_add_test(tc, test_fault_duplicate);
    tcase_add_test(tc, test_fault_reorder);
    tcase_add_test(tc, test_fault_corrupt);
    tcase_add_test(tc, test_fault_split);
    tcase_add_test(tc, test_fault_reset_and_connect_fail);
    tcase_add_test(tc, test_window);
    tcase_add_test(tc, test_partitions);
    tcase_add_test(tc, test_partition_schedule);
    tcase_add_test(tc, test_crash_restart);
    tcase_add_test(tc, test_timers_and_user_events);
    tcase_add_test(tc, test_pause_resume);
    tcase_add_test(tc, test_segment_max);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_trace_digest_changes);
    suite_add_tcase(s, tc);
    return s;
}
