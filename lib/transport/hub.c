/*
 * The in-process loopback hub (include/hre/sys/hub.h): a transport backend
 * that carries bytes between endpoints on a virtual clock, with fault
 * injection, partitions and crashes decided by one seeded PRNG. It never
 * calls into a node: the host pulls events with hre_hub_next.
 * docs/PROTOCOL.md section 13 is normative for the PRNG, the order of its
 * draws and the trace digest; keep them in step with this file.
 */
#include "core/internal.h"
#include "hre/hash.h"
#include "hre/sys/hub.h"

#include <stdlib.h>
#include <string.h>

#define HUB_MAX_ENDPOINTS 65536u
#define HUB_MAX_PARTITIONS 1024u
#define HUB_MAX_SIDE 4096u

/* ------------------------------------------------------------------------ */
/* Versioned structs                                                         */
/* ------------------------------------------------------------------------ */

static const size_t faults_sizes[] = { 0, HRE__END(hre_hub_faults, delay_max_ms) };
static const hre__vstruct faults_desc = { "hre_hub_faults", HRE_HUB_FAULTS_VERSION, faults_sizes };
static const size_t partition_sizes[] = { 0, HRE__END(hre_hub_partition, side_count) };
static const hre__vstruct partition_desc = { "hre_hub_partition", HRE_HUB_PARTITION_VERSION,
                                             partition_sizes };
static const size_t options_sizes[] = { 0, HRE__END(hre_hub_options, log_user_data) };
static const hre__vstruct options_desc = { "hre_hub_options", HRE_HUB_OPTIONS_VERSION, options_sizes };
static const size_t event_sizes[] = { 0, HRE__END(hre_hub_event, tag) };
static const hre__vstruct event_desc = { "hre_hub_event", HRE_HUB_EVENT_VERSION, event_sizes };
static const size_t stats_sizes[] = { 0, HRE__END(hre_hub_stats, held) };
static const hre__vstruct stats_desc = { "hre_hub_stats", HRE_HUB_STATS_VERSION, stats_sizes };

_Static_assert(sizeof faults_sizes / sizeof faults_sizes[0] == HRE_HUB_FAULTS_VERSION + 1, "sizes");
_Static_assert(sizeof partition_sizes / sizeof partition_sizes[0] == HRE_HUB_PARTITION_VERSION + 1,
               "sizes");
_Static_assert(sizeof options_sizes / sizeof options_sizes[0] == HRE_HUB_OPTIONS_VERSION + 1, "sizes");
_Static_assert(sizeof event_sizes / sizeof event_sizes[0] == HRE_HUB_EVENT_VERSION + 1, "sizes");
_Static_assert(sizeof stats_sizes / sizeof stats_sizes[0] == HRE_HUB_STATS_VERSION + 1, "sizes");

HRE_API int hre_hub_faults_init(hre_hub_faults *f, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&faults_desc, f, version));
}

HRE_API int hre_hub_partition_init(hre_hub_partition *p, unsigned int version)
{
    HRE__API_SCOPE;
    int rc = hre__vstruct_init(&partition_desc, p, version);
    if (rc == HRE_OK) {
        p->cut = HRE_HUB_CUT_BOTH;
        p->end_ms = UINT64_MAX;
    }
    return hre__api_done(rc);
}

HRE_API int hre_hub_options_init(hre_hub_options *opts, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&options_desc, opts, version));
}

HRE_API int hre_hub_event_init(hre_hub_event *ev, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&event_desc, ev, version));
}

HRE_API int hre_hub_stats_init(hre_hub_stats *st, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&stats_desc, st, version));
}

/* ------------------------------------------------------------------------ */
/* Structures                                                                */
/* ------------------------------------------------------------------------ */

/* States of one end of a connection. */
enum {
    H_CONNECTING = 1,   /* initiator: attempt in flight */
    H_ESTABLISHING,     /* CONNECTED decided, not yet handed out */
    H_OPEN,             /* the host knows it */
    H_CLOSED            /* gone (closed, reported, or never to be reported) */
};

typedef struct hub_half {
    uint64_t id;
    uint32_t ep;
    int state;
    uint64_t inflight;      /* bytes this end sent that are not delivered or lost yet */
    int want_writable;      /* a send was short: WRITABLE when bytes leave the window */
    uint64_t last_time;     /* FIFO: delivery time of this end's last in-order segment */
    int close_queued;       /* a CLOSED item for this end is queued */
    int paused;             /* the host stopped reading (hre_hub_pause) */
    struct hub_item *held_head, *held_tail;   /* events held while paused, in order */
} hub_half;

typedef struct hub_conn {
    hub_half h[2];          /* 0: initiator, 1: acceptor */
    uint64_t index;
    uint64_t attempt_at;    /* ms of the connect call */
    int broken;             /* reset or crash: bytes in flight are lost */
    size_t refs;            /* queued items pointing here */
    char address[HRE_HUB_ADDRESS_MAX + 1];
} hub_conn;

typedef struct hub_ep {
    struct hre_hub *hub;
    uint32_t id;
    int up;
    uint64_t timer_gen;
    char address[HRE_HUB_ADDRESS_MAX + 1];
} hub_ep;

enum { IT_ARRIVE = 100 };   /* internal item; the others use HRE_HUB_EVENT_* */

typedef struct hub_item {
    uint64_t time, seq;
    int kind;
    int orderly;            /* CLOSED: after the bytes in flight (held while paused) */
    struct hub_item *next;  /* held list */
    hub_conn *c;            /* connection items */
    int side;               /* the end the item is for (DATA: the receiving end) */
    uint8_t *data;
    size_t len;
    size_t acct;            /* DATA: bytes counted in the sender's window */
    uint32_t ep;            /* TIMER / USER */
    uint64_t tag;           /* USER; TIMER: the timer generation */
} hub_item;

typedef struct hub_part {
    uint32_t id;
    int cut;
    uint64_t start, end;
    uint32_t *side;         /* sorted */
    size_t n;
} hub_part;

struct hre_hub {
    uint64_t now;
    uint64_t seq;
    uint64_t rng[4];        /* xoshiro256** */
    hre_hub_faults f;
    uint32_t window;
    uint32_t connect_timeout;
    size_t segment_max;
    hre_log_fn log_fn;
    void *log_ud;

    hub_ep **eps;
    uint32_t n_eps, cap_eps;

    hub_conn **conns;       /* by index; NULL once freed */
    uint64_t n_conns, cap_conns;
    uint64_t live_conns;

    hub_item **heap;
    size_t n_heap, cap_heap;
    uint64_t queued_bytes;

    hub_part *parts;
    size_t n_parts;
    uint32_t next_part_id;

    hub_item *current;      /* the item behind the last event (its data is lent out) */
    hre_sha256_ctx *trace;
    int trace_failed;
    hre_hub_stats st;
};

/* ------------------------------------------------------------------------ */
/* PRNG: xoshiro256** seeded by splitmix64 (docs/PROTOCOL.md 13.1)           */
/* ------------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(hre_hub *hub)
{
    uint64_t *s = hub->rng;
    uint64_t r = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* The 128-bit product a * b as high and low words (portable: no __int128). */
static void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    *lo = (mid << 32) | (p00 & 0xffffffffu);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* Uniform in [0, n) for n >= 1 (Lemire's multiply-shift with rejection). */
static uint64_t rng_below(hre_hub *hub, uint64_t n)
{
    uint64_t x, lo, hi, thresh;
    if (n <= 1) {
        (void)rng_next(hub);
        return 0;
    }
    thresh = (0 - n) % n;
    for (;;) {
        x = rng_next(hub);
        mul64(x, n, &hi, &lo);
        if (lo >= thresh) return hi;
    }
}

/* One per-mille decision: always one draw, whatever p is. */
static int rng_pm(hre_hub *hub, uint32_t p)
{
    return rng_below(hub, HRE_HUB_PER_MILLE) < p;
}

/* A latency: one draw, uniform in [delay_min_ms, delay_max_ms]. */
static uint64_t rng_delay(hre_hub *hub)
{
    return hub->f.delay_min_ms +
           rng_below(hub, (uint64_t)hub->f.delay_max_ms - hub->f.delay_min_ms + 1);
}

/* ------------------------------------------------------------------------ */
/* Trace digest (docs/PROTOCOL.md 13.4)                                      */
/* ------------------------------------------------------------------------ */

static void tr_put(hre_hub *hub, const void *p, size_t n)
{
    if (hub->trace_failed || n == 0) return;
    if (hre_sha256_update(hub->trace, p, n) != HRE_OK) hub->trace_failed = 1;
}

static void tr_u64(hre_hub *hub, uint64_t v)
{
    uint8_t b[8];
    int i;
    for (i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    tr_put(hub, b, 8);
}

static void tr_u8(hre_hub *hub, uint8_t v)
{
    tr_put(hub, &v, 1);
}

static void tr_bytes(hre_hub *hub, const void *p, size_t n)
{
    tr_u64(hub, n);
    tr_put(hub, p, n);
}

/* ------------------------------------------------------------------------ */
/* Logging                                                                   */
/* ------------------------------------------------------------------------ */

#define HUB_LOG(hub, ...)                                                         \
    do {                                                                          \
        if ((hub)->log_fn) hre__log((hub)->log_fn, (hub)->log_ud, HRE_LOG_DEBUG, __VA_ARGS__); \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Event queue: a binary min-heap on (time, seq)                              */
/* ------------------------------------------------------------------------ */

static int item_less(const hub_item *a, const hub_item *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void heap_up(hre_hub *hub, size_t i)
{
    hub_item *it = hub->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!item_less(it, hub->heap[parent])) break;
        hub->heap[i] = hub->heap[parent];
        i = parent;
    }
    hub->heap[i] = it;
}

static void heap_down(hre_hub *hub, size_t i)
{
    hub_item *it = hub->heap[i];
    size_t n = hub->n_heap;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const hub_item *best = it;
        if (l < n && item_less(hub->heap[l], best)) {
            m = l;
            best = hub->heap[l];
        }
        if (r < n && item_less(hub->heap[r], best)) m = r;
        if (m == i) break;
        hub->heap[i] = hub->heap[m];
        i = m;
    }
    hub->heap[i] = it;
}

static hub_item *heap_pop(hre_hub *hub)
{
    hub_item *top = hub->heap[0];
    hub->n_heap--;
    if (hub->n_heap > 0) {
        hub->heap[0] = hub->heap[hub->n_heap];
        heap_down(hub, 0);
    }
    hub->queued_bytes -= top->len;
    return top;
}

/* Room for n more queued items. */
static int heap_reserve(hre_hub *hub, size_t n)
{
    if (hub->n_heap + n > hub->cap_heap) {
        size_t ncap = hub->cap_heap ? hub->cap_heap : 64;
        hub_item **nh;
        while (ncap < hub->n_heap + n) ncap *= 2;
        nh = hre__realloc(hub->heap, ncap * sizeof *nh);
        if (!nh) return HRE_ENOMEM;
        hub->heap = nh;
        hub->cap_heap = ncap;
    }
    return HRE_OK;
}

/* A new item at `time` (never before now). The caller reserves its heap
 * slot (heap_reserve) before pushing it. */
static hub_item *item_new(hre_hub *hub, int kind, uint64_t time)
{
    hub_item *it = hre__calloc(1, sizeof *it);
    if (!it) return NULL;
    it->kind = kind;
    it->time = time < hub->now ? hub->now : time;
    return it;
}

/* (Re)insert an item with the next sequence number (its slot is reserved). */
static void heap_insert(hre_hub *hub, hub_item *it)
{
    it->seq = hub->seq++;
    hub->queued_bytes += it->len;
    hub->heap[hub->n_heap++] = it;
    heap_up(hub, hub->n_heap - 1);
}

/* Queue an item made by item_new (its heap slot is reserved). */
static void item_push(hre_hub *hub, hub_item *it)
{
    if (it->c) it->c->refs++;
    heap_insert(hub, it);
}

/* Drop what an end held while paused (lost with it). The caller frees the
 * connection when it may (conn_maybe_free). */
static void held_free(hre_hub *hub, hub_conn *c, int side)
{
    hub_item *it = c->h[side].held_head;
    c->h[side].held_head = c->h[side].held_tail = NULL;
    while (it) {
        hub_item *next = it->next;
        if (it->kind == HRE_HUB_EVENT_DATA) {
            c->h[1 - side].inflight -= it->acct;
            hub->st.lost++;
        }
        c->refs--;
        hre__free(it->data);
        hre__free(it);
        it = next;
    }
}

static void conn_maybe_free(hre_hub *hub, hub_conn *c);

static void item_free(hre_hub *hub, hub_item *it)
{
    hub_conn *c;
    if (!it) return;
    c = it->c;
    hre__free(it->data);
    hre__free(it);
    if (c) {
        c->refs--;
        conn_maybe_free(hub, c);
    }
}

/* ------------------------------------------------------------------------ */
/* Endpoints, connections, partitions                                        */
/* ------------------------------------------------------------------------ */

static hub_ep *ep_get(const hre_hub *hub, uint32_t ep)
{
    return ep < hub->n_eps ? hub->eps[ep] : NULL;
}

static hub_ep *ep_by_address(const hre_hub *hub, const char *address)
{
    uint32_t i;
    for (i = 0; i < hub->n_eps; i++)
        if (strcmp(hub->eps[i]->address, address) == 0) return hub->eps[i];
    return NULL;
}

static void conn_maybe_free(hre_hub *hub, hub_conn *c)
{
    if (c->refs == 0 && c->h[0].state == H_CLOSED && c->h[1].state == H_CLOSED) {
        hub->conns[c->index] = NULL;
        hub->live_conns--;
        hre__free(c);
    }
}

/* The end named by conn id `id`, if it belongs to endpoint ep. */
static hub_conn *conn_find(const hre_hub *hub, uint32_t ep, uint64_t id, int *side)
{
    uint64_t idx;
    hub_conn *c;
    if (id == 0) return NULL;
    idx = (id - 1) / 2;
    if (idx >= hub->n_conns || !(c = hub->conns[idx])) return NULL;
    *side = (int)((id - 1) % 2);
    if (c->h[*side].ep != ep) return NULL;
    return c;
}

static int side_has(const hub_part *p, uint32_t ep)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->side[mid] == ep) return 1;
        if (p->side[mid] < ep) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

static int cut_at(const hre_hub *hub, uint32_t from, uint32_t to, uint64_t t)
{
    size_t i;
    for (i = 0; i < hub->n_parts; i++) {
        const hub_part *p = &hub->parts[i];
        int a, b;
        if (t < p->start || t >= p->end) continue;
        a = side_has(p, from);
        b = side_has(p, to);
        if (a == b) continue;
        if (p->cut == HRE_HUB_CUT_BOTH) return 1;
        if (p->cut == HRE_HUB_CUT_OUT && a) return 1;
        if (p->cut == HRE_HUB_CUT_IN && b) return 1;
    }
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Validate and add one partition (already read into a current-version struct). */
static int part_add(hre_hub *hub, uint32_t *id, const hre_hub_partition *p)
{
    hub_part *np, *q;
    if (p->cut != HRE_HUB_CUT_BOTH && p->cut != HRE_HUB_CUT_OUT && p->cut != HRE_HUB_CUT_IN)
        return hre__fail(HRE_EINVAL, "hub partition: unknown cut %d", p->cut);
    if (p->start_ms >= p->end_ms)
        return hre__fail(HRE_EINVAL, "hub partition: start_ms %llu not before end_ms %llu",
                         (unsigned long long)p->start_ms, (unsigned long long)p->end_ms);
    if (!p->side || p->side_count == 0 || p->side_count > HUB_MAX_SIDE)
        return hre__fail(HRE_EINVAL, "hub partition: side must list 1..%u endpoints", HUB_MAX_SIDE);
    if (hub->n_parts >= HUB_MAX_PARTITIONS)
        return hre__fail(HRE_ELIMIT, "hub: %u partitions already", HUB_MAX_PARTITIONS);
    np = hre__realloc(hub->parts, (hub->n_parts + 1) * sizeof *np);
    if (!np) return hre__fail(HRE_ENOMEM, "hub: out of memory");
    hub->parts = np;
    q = &hub->parts[hub->n_parts];
    q->side = hre__malloc(p->side_count * sizeof *q->side);
    if (!q->side) return hre__fail(HRE_ENOMEM, "hub: out of memory");
    memcpy(q->side, p->side, p->side_count * sizeof *q->side);
    qsort(q->side, p->side_count, sizeof *q->side, cmp_u32);
    q->n = p->side_count;
    q->cut = p->cut;
    q->start = p->start_ms;
    q->end = p->end_ms;
    q->id = hub->next_part_id++;
    hub->n_parts++;
    if (id) *id = q->id;
    HUB_LOG(hub, "hub %llu: partition %u (cut %d, %zu endpoints, %llu..%llu)",
            (unsigned long long)hub->now, q->id, q->cut, q->n, (unsigned long long)q->start,
            (unsigned long long)q->end);
    return HRE_OK;
}

static int faults_check(const hre_hub_faults *f)
{
    const uint32_t pm[] = { f->drop, f->duplicate, f->reorder, f->corrupt, f->split, f->reset,
                            f->connect_fail };
    static const char *const names[] = { "drop", "duplicate", "reorder", "corrupt", "split",
                                          "reset", "connect_fail" };
    size_t i;
    for (i = 0; i < sizeof pm / sizeof pm[0]; i++)
        if (pm[i] > HRE_HUB_PER_MILLE)
            return hre__fail(HRE_EINVAL, "hub faults: %s is %u per mille (over 1000)", names[i],
                             pm[i]);
    if (f->delay_min_ms > f->delay_max_ms)
        return hre__fail(HRE_EINVAL, "hub faults: delay_min_ms %u above delay_max_ms %u",
                         f->delay_min_ms, f->delay_max_ms);
    return HRE_OK;
}

/* Read faults (NULL: none) into a current-version struct. */
static int faults_read(hre_hub_faults *out, const hre_hub_faults *f)
{
    int rc;
    if (!f) {
        memset(out, 0, sizeof *out);
        out->version = HRE_HUB_FAULTS_VERSION;
        return HRE_OK;
    }
    if ((rc = hre__vstruct_in(&faults_desc, out, f)) != HRE_OK) return rc;
    out->version = HRE_HUB_FAULTS_VERSION;
    return faults_check(out);
}

/* ------------------------------------------------------------------------ */
/* New and free                                                              */
/* ------------------------------------------------------------------------ */

HRE_API int hre_hub_new(hre_hub **out, const hre_hub_options *opts)
{
    HRE__API_SCOPE;
    hre_hub_options o;
    hre_hub *hub;
    uint64_t sm;
    int rc, i;
    if (!out) return hre__fail(HRE_EINVAL, "hre_hub_new: NULL out");
    *out = NULL;
    if (opts) {
        if ((rc = hre__vstruct_in(&options_desc, &o, opts)) != HRE_OK) return rc;
    } else {
        memset(&o, 0, sizeof o);
        o.version = HRE_HUB_OPTIONS_VERSION;
    }
    if (o.partition_count && !o.partitions)
        return hre__fail(HRE_EINVAL, "hre_hub_new: partition_count %zu with NULL partitions",
                         o.partition_count);
    hub = hre__calloc(1, sizeof *hub);
    if (!hub) return hre__fail(HRE_ENOMEM, "hre_hub_new: out of memory");
    hub->now = o.start_ms;
    sm = o.seed;
    for (i = 0; i < 4; i++) hub->rng[i] = splitmix64(&sm);
    hub->window = o.window ? o.window : HRE_HUB_DEFAULT_WINDOW;
    hub->connect_timeout = o.connect_timeout_ms ? o.connect_timeout_ms : HRE_HUB_DEFAULT_CONNECT_TIMEOUT;
    hub->segment_max = o.segment_max ? o.segment_max : HRE_HUB_DEFAULT_SEGMENT;
    hub->log_fn = o.log_fn;
    hub->log_ud = o.log_user_data;
    hub->next_part_id = 1;
    hub->st.version = HRE_HUB_STATS_VERSION;
    if ((rc = faults_read(&hub->f, o.faults)) != HRE_OK) goto fail;
    if (o.partition_count) {
        unsigned int pv;
        size_t k;
        if ((rc = hre__vstruct_for_size(&partition_desc, o.partition_size, &pv)) != HRE_OK) goto fail;
        for (k = 0; k < o.partition_count; k++) {
            const hre_hub_partition *src =
                (const hre_hub_partition *)(const void *)((const uint8_t *)o.partitions +
                                                          k * o.partition_size);
            hre_hub_partition p;
            if (src->version == 0 || src->version > pv) {
                rc = hre__fail(HRE_EUNSUPPORTED, "hre_hub_new: partition %zu has version %u "
                               "(element size %zu allows 1..%u)", k, src->version,
                               o.partition_size, pv);
                goto fail;
            }
            if ((rc = hre__vstruct_in(&partition_desc, &p, src)) != HRE_OK) goto fail;
            if ((rc = part_add(hub, NULL, &p)) != HRE_OK) goto fail;
        }
    }
    if ((rc = hre_sha256_new(&hub->trace)) != HRE_OK) goto fail;
    *out = hub;
    return hre__api_done(HRE_OK);
fail:
    hre_hub_free(hub);
    return rc;
}

HRE_API void hre_hub_free(hre_hub *hub)
{
    size_t i;
    uint64_t k;
    if (!hub) return;
    for (i = 0; i < hub->n_heap; i++) {
        hre__free(hub->heap[i]->data);
        hre__free(hub->heap[i]);
    }
    if (hub->current) {
        hre__free(hub->current->data);
        hre__free(hub->current);
    }
    hre__free(hub->heap);
    for (k = 0; k < hub->n_conns; k++) {
        hub_conn *c = hub->conns[k];
        int s;
        if (!c) continue;
        for (s = 0; s < 2; s++) {
            hub_item *it = c->h[s].held_head;
            while (it) {
                hub_item *next = it->next;
                hre__free(it->data);
                hre__free(it);
                it = next;
            }
        }
        hre__free(c);
    }
    hre__free(hub->conns);
    for (i = 0; i < hub->n_eps; i++) hre__free(hub->eps[i]);
    hre__free(hub->eps);
    for (i = 0; i < hub->n_parts; i++) hre__free(hub->parts[i].side);
    hre__free(hub->parts);
    hre_sha256_free(hub->trace);
    hre__free(hub);
}

HRE_API uint64_t hre_hub_now(const hre_hub *hub)
{
    return hub ? hub->now : 0;
}

/* ------------------------------------------------------------------------ */
/* Scheduling helpers                                                        */
/* ------------------------------------------------------------------------ */

/* Queue a CLOSED for end `side` of c at `time` (once). orderly: after the
 * bytes in flight (a close, held while the end is paused); else a reset. */
static int queue_closed(hre_hub *hub, hub_conn *c, int side, uint64_t time, int orderly)
{
    hub_item *it;
    if (c->h[side].state == H_CLOSED || c->h[side].close_queued) return HRE_OK;
    if (heap_reserve(hub, 1) != HRE_OK) return HRE_ENOMEM;
    it = item_new(hub, HRE_HUB_EVENT_CLOSED, time);
    if (!it) return HRE_ENOMEM;
    it->c = c;
    it->side = side;
    it->orderly = orderly;
    c->h[side].close_queued = 1;
    item_push(hub, it);
    return HRE_OK;
}

/* End `side` waited for room: a WRITABLE now if there is some. */
static int writable_if_room(hre_hub *hub, hub_conn *c, int side)
{
    hub_half *h = &c->h[side];
    hub_item *it;
    if (!h->want_writable || h->state != H_OPEN || c->broken) return HRE_OK;
    if (h->inflight >= hub->window) return HRE_OK;
    h->want_writable = 0;
    if (heap_reserve(hub, 1) != HRE_OK) return HRE_ENOMEM;
    it = item_new(hub, HRE_HUB_EVENT_WRITABLE, hub->now);
    if (!it) return HRE_ENOMEM;
    it->c = c;
    it->side = side;
    item_push(hub, it);
    return HRE_OK;
}

/* Bytes of end `side`'s direction left the window: WRITABLE if it waited. */
static int window_release(hre_hub *hub, hub_conn *c, int side, size_t n)
{
    c->h[side].inflight -= n;
    return n ? writable_if_room(hub, c, side) : HRE_OK;
}

/* Break a connection (reset fault or crash): bytes in flight are lost, the
 * ends in `notify` (bit 0: initiator, bit 1: acceptor) get CLOSED after
 * one shared delay draw. */
static int conn_break(hre_hub *hub, hub_conn *c, unsigned int notify)
{
    uint64_t t = hub->now + rng_delay(hub);
    int s, rc = HRE_OK;
    c->broken = 1;
    for (s = 0; s < 2; s++) {
        c->h[s].want_writable = 0;
        if ((notify >> s) & 1u) {
            int r = queue_closed(hub, c, s, t, 0);
            if (r != HRE_OK) rc = r;
        }
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The transport vtable                                                      */
/* ------------------------------------------------------------------------ */

static int hub_send(void *user_data, uint64_t conn, const uint8_t *data, size_t len, size_t *sent);
static int hub_connect(void *user_data, uint64_t *conn, const char *address);
static void hub_vt_close(void *user_data, uint64_t conn, int reason);

static const hre_transport_methods hub_methods = {
    HRE_TRANSPORT_METHODS_VERSION, hub_send, hub_connect, hub_vt_close
};

/* Schedule the DATA items of one segment that survived the loss faults:
 * the draws after drop and reset (docs/PROTOCOL.md 13.3), then every buffer
 * and item is allocated before anything is queued, so ENOMEM leaves no
 * trace. */
static int segment_queue(hre_hub *hub, hub_conn *c, int from, const uint8_t *data, size_t len)
{
    hub_half *s = &c->h[from];
    int to = 1 - from;
    uint64_t t, t_dup = 0, delay;
    int dup, reorder, corrupt, split;
    size_t cuts[3], n_cuts = 0, k, start, corrupt_pos = 0;
    uint8_t corrupt_xor = 0;

    delay = rng_delay(hub);
    dup = rng_pm(hub, hub->f.duplicate);
    reorder = rng_pm(hub, hub->f.reorder);
    corrupt = rng_pm(hub, hub->f.corrupt);
    split = rng_pm(hub, hub->f.split);
    if (reorder) {
        uint64_t span = 2 * (uint64_t)hub->f.delay_max_ms;
        if (span < 20) span = 20;
        t = hub->now + delay + 1 + rng_below(hub, span);
    } else {
        t = hub->now + delay;
        if (t < s->last_time) t = s->last_time;
    }
    if (corrupt) {
        corrupt_pos = (size_t)rng_below(hub, len);
        corrupt_xor = (uint8_t)(1 + rng_below(hub, 255));
    }
    if (split && len >= 2) {
        size_t pieces = (size_t)(2 + rng_below(hub, 3)), i, j;
        for (i = 0; i + 1 < pieces; i++) {
            size_t pos = (size_t)(1 + rng_below(hub, len - 1));
            for (j = 0; j < n_cuts && cuts[j] != pos; j++) {}
            if (j == n_cuts) cuts[n_cuts++] = pos;
        }
        for (i = 1; i < n_cuts; i++)   /* at most 3: insertion sort */
            for (j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                size_t tmp = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = tmp;
            }
    }
    if (dup) t_dup = t + rng_delay(hub);

    /* the DATA items: the pieces (the fault's cuts, then at most
     * segment_max bytes each), then the duplicate's (cut by segment_max
     * only); all allocated before anything is queued */
    {
        size_t bounds[5], nb = 0, n_items = 0, i, pass;
        hub_item **its;
        for (k = 0; k < n_cuts; k++) bounds[nb++] = cuts[k];
        bounds[nb++] = len;
        for (pass = 0; pass < (dup ? 2u : 1u); pass++)
            for (start = 0, i = 0; i < (pass ? 1u : nb); i++) {
                size_t end = pass ? len : bounds[i];
                n_items += (end - start + hub->segment_max - 1) / hub->segment_max;
                start = end;
            }
        its = hre__calloc(n_items, sizeof *its);
        if (!its || heap_reserve(hub, n_items) != HRE_OK) {
            hre__free(its);
            return HRE_ENOMEM;
        }
        k = 0;
        for (pass = 0; pass < (dup ? 2u : 1u); pass++)
            for (start = 0, i = 0; i < (pass ? 1u : nb); i++) {
                size_t end = pass ? len : bounds[i], off;
                for (off = start; off < end; off += hub->segment_max) {
                    size_t stop = end - off > hub->segment_max ? off + hub->segment_max : end;
                    hub_item *it = item_new(hub, HRE_HUB_EVENT_DATA, pass ? t_dup : t);
                    if (it) {
                        it->len = stop - off;
                        it->data = hre__malloc(it->len);
                    }
                    if (!it || !it->data) {
                        size_t m;
                        if (it) hre__free(it);
                        for (m = 0; m < k; m++) {
                            hre__free(its[m]->data);
                            hre__free(its[m]);
                        }
                        hre__free(its);
                        return HRE_ENOMEM;
                    }
                    memcpy(it->data, data + off, it->len);
                    if (corrupt && corrupt_pos >= off && corrupt_pos < stop)
                        it->data[corrupt_pos - off] ^= corrupt_xor;
                    it->c = c;
                    it->side = to;
                    it->acct = pass ? 0 : it->len;
                    its[k++] = it;
                }
                start = end;
            }
        /* commit */
        if (!reorder) s->last_time = t;
        if (reorder) hub->st.reordered++;
        if (corrupt) hub->st.corrupted++;
        if (n_cuts) hub->st.split++;
        if (dup) hub->st.duplicated++;
        for (k = 0; k < n_items; k++) {
            s->inflight += its[k]->acct;
            item_push(hub, its[k]);
        }
        hre__free(its);
    }
    HUB_LOG(hub, "hub %llu: conn %llu: %zu bytes due at %llu%s%s%s%s",
            (unsigned long long)hub->now, (unsigned long long)s->id, len, (unsigned long long)t,
            reorder ? ", reordered" : "", corrupt ? ", one byte corrupted" : "",
            n_cuts ? ", split" : "", dup ? ", duplicated" : "");
    return HRE_OK;
}

static int hub_send(void *user_data, uint64_t conn, const uint8_t *data, size_t len, size_t *sent)
{
    hub_ep *e = user_data;
    hre_hub *hub;
    hub_conn *c;
    hub_half *s;
    int side, rc = HRE_OK;
    size_t take = 0;
    const char *fate = "queued";
    if (sent) *sent = 0;
    if (!e || !sent || (!data && len)) return HRE_EINVAL;
    hub = e->hub;
    c = conn_find(hub, e->id, conn, &side);
    if (!c || c->h[side].state != H_OPEN) {
        /* an attempt not reported CONNECTED yet is in the wrong state;
         * anything else is not a live connection of this endpoint */
        rc = c && c->h[side].state != H_CLOSED ? HRE_ESTATE : HRE_ENOTFOUND;
        goto out;
    }
    s = &c->h[side];
    if (len == 0) goto out;
    if (c->broken || c->h[1 - side].state == H_CLOSED) {
        /* the other end is gone; this end hears of it from its CLOSED event */
        take = len;
        hub->st.lost++;
        fate = "lost (peer gone)";
        goto out;
    }
    if (s->inflight >= hub->window) {
        s->want_writable = 1;
        hub->st.short_sends++;
        rc = HRE_EAGAIN;
        fate = "window full";
        goto out;
    }
    take = len;
    if (take > hub->window - s->inflight) {
        take = (size_t)(hub->window - s->inflight);
        s->want_writable = 1;
        hub->st.short_sends++;
    }
    hub->st.segments++;
    hub->st.bytes_sent += take;
    if (cut_at(hub, e->id, c->h[1 - side].ep, hub->now)) {
        hub->st.cut++;
        fate = "cut";
        goto out;
    }
    /* draws 1 and 2 of a segment */
    {
        int drop = rng_pm(hub, hub->f.drop);
        int reset = rng_pm(hub, hub->f.reset);
        if (drop) {
            hub->st.dropped++;
            fate = "dropped";
            goto out;
        }
        if (reset) {
            hub->st.resets++;
            fate = "reset";
            rc = conn_break(hub, c, 3u);
            goto out;
        }
    }
    rc = segment_queue(hub, c, side, data, take);
out:
    if (rc == HRE_ENOMEM) take = 0;
    /* a short send whose part was lost at once left room: say so now */
    if (rc == HRE_OK && take < len && writable_if_room(hub, c, side) != HRE_OK) rc = HRE_ENOMEM;
    tr_u8(hub, 'S');
    tr_u64(hub, hub->now);
    tr_u64(hub, e->id);
    tr_u64(hub, conn);
    tr_u64(hub, len);
    tr_u64(hub, take);
    tr_u64(hub, (uint64_t)(int64_t)rc);
    tr_put(hub, data, take);
    if (rc != HRE_EAGAIN)
        HUB_LOG(hub, "hub %llu: ep %u conn %llu: send %zu, took %zu: %s", (unsigned long long)hub->now,
                e->id, (unsigned long long)conn, len, take, fate);
    if (rc == HRE_OK) *sent = take;
    return rc;
}

static int hub_connect(void *user_data, uint64_t *conn, const char *address)
{
    hub_ep *e = user_data;
    hre_hub *hub;
    hub_conn *c;
    hub_item *it;
    size_t alen;
    if (conn) *conn = 0;
    if (!e || !conn || !address) return HRE_EINVAL;
    hub = e->hub;
    alen = strlen(address);
    if (alen == 0 || alen > HRE_HUB_ADDRESS_MAX) return HRE_EINVAL;
    if (!e->up) return HRE_ESTATE;
    if (hub->n_conns == hub->cap_conns) {
        uint64_t ncap = hub->cap_conns ? hub->cap_conns * 2 : 64;
        hub_conn **nc = hre__realloc(hub->conns, (size_t)ncap * sizeof *nc);
        if (!nc) return HRE_ENOMEM;
        hub->conns = nc;
        hub->cap_conns = ncap;
    }
    c = hre__calloc(1, sizeof *c);
    if (!c) return HRE_ENOMEM;
    c->index = hub->n_conns;
    c->h[0].id = 2 * c->index + 1;
    c->h[1].id = 2 * c->index + 2;
    c->h[0].ep = e->id;
    c->h[0].state = H_CONNECTING;
    c->h[1].ep = UINT32_MAX;
    c->h[1].state = H_CLOSED;
    c->attempt_at = hub->now;
    memcpy(c->address, address, alen + 1);
    it = heap_reserve(hub, 1) == HRE_OK ? item_new(hub, IT_ARRIVE, 0) : NULL;
    if (!it) {
        hre__free(c);
        return HRE_ENOMEM;
    }
    hub->conns[hub->n_conns++] = c;
    hub->live_conns++;
    hub->st.connects++;
    /* draws of an attempt: delay, connect_fail (the verdict waits for the arrival) */
    it->time = hub->now + rng_delay(hub);
    it->tag = (uint64_t)rng_pm(hub, hub->f.connect_fail);
    it->c = c;
    it->side = 0;
    item_push(hub, it);
    *conn = c->h[0].id;
    tr_u8(hub, 'C');
    tr_u64(hub, hub->now);
    tr_u64(hub, e->id);
    tr_bytes(hub, address, alen);
    tr_u64(hub, *conn);
    HUB_LOG(hub, "hub %llu: ep %u connects to \"%s\" (conn %llu, arrives %llu)",
            (unsigned long long)hub->now, e->id, address, (unsigned long long)*conn,
            (unsigned long long)it->time);
    return HRE_OK;
}

/* Close one end (the node's close or the host's): the other end gets CLOSED
 * after the bytes in flight towards it. */
static int half_close(hre_hub *hub, hub_conn *c, int side)
{
    hub_half *h = &c->h[side];
    hub_half *o = &c->h[1 - side];
    int rc = HRE_OK;
    h->state = H_CLOSED;
    h->want_writable = 0;
    held_free(hub, c, side);
    if (o->state == H_OPEN || o->state == H_ESTABLISHING) {
        uint64_t t = hub->now + rng_delay(hub);
        if (t < h->last_time) t = h->last_time;
        rc = queue_closed(hub, c, 1 - side, t, 1);
    }
    tr_u8(hub, 'X');
    tr_u64(hub, hub->now);
    tr_u64(hub, h->ep);
    tr_u64(hub, h->id);
    conn_maybe_free(hub, c);
    return rc;
}

static void hub_vt_close(void *user_data, uint64_t conn, int reason)
{
    hub_ep *e = user_data;
    hub_conn *c;
    int side;
    if (!e) return;
    c = conn_find(e->hub, e->id, conn, &side);
    if (!c || c->h[side].state == H_CLOSED) return;
    HUB_LOG(e->hub, "hub %llu: ep %u closes conn %llu (reason %d)", (unsigned long long)e->hub->now,
            e->id, (unsigned long long)conn, reason);
    (void)half_close(e->hub, c, side);
}

/* ------------------------------------------------------------------------ */
/* Endpoint calls                                                            */
/* ------------------------------------------------------------------------ */

HRE_API int hre_hub_endpoint_add(hre_hub *hub, uint32_t *ep, const char *address)
{
    HRE__API_SCOPE;
    hub_ep *e;
    size_t alen;
    if (ep) *ep = 0;
    if (!hub || !address) return hre__fail(HRE_EINVAL, "hre_hub_endpoint_add: NULL argument");
    alen = strlen(address);
    if (alen == 0 || alen > HRE_HUB_ADDRESS_MAX)
        return hre__fail(HRE_EINVAL, "hre_hub_endpoint_add: address of %zu bytes (1..%u)", alen,
                         HRE_HUB_ADDRESS_MAX);
    if (ep_by_address(hub, address))
        return hre__fail(HRE_EEXISTS, "hre_hub_endpoint_add: address \"%s\" is taken", address);
    if (hub->n_eps >= HUB_MAX_ENDPOINTS)
        return hre__fail(HRE_ELIMIT, "hre_hub_endpoint_add: %u endpoints already", HUB_MAX_ENDPOINTS);
    if (hub->n_eps == hub->cap_eps) {
        uint32_t ncap = hub->cap_eps ? hub->cap_eps * 2 : 16;
        hub_ep **ne = hre__realloc(hub->eps, ncap * sizeof *ne);
        if (!ne) return hre__fail(HRE_ENOMEM, "hub: out of memory");
        hub->eps = ne;
        hub->cap_eps = ncap;
    }
    e = hre__calloc(1, sizeof *e);
    if (!e) return hre__fail(HRE_ENOMEM, "hub: out of memory");
    e->hub = hub;
    e->id = hub->n_eps;
    e->up = 1;
    memcpy(e->address, address, alen + 1);
    hub->eps[hub->n_eps++] = e;
    if (ep) *ep = e->id;
    return hre__api_done(HRE_OK);
}

HRE_API uint32_t hre_hub_endpoint_count(const hre_hub *hub)
{
    return hub ? hub->n_eps : 0;
}

HRE_API const char *hre_hub_endpoint_address(const hre_hub *hub, uint32_t ep)
{
    const hub_ep *e = hub ? ep_get(hub, ep) : NULL;
    return e ? e->address : NULL;
}

HRE_API int hre_hub_endpoint_transport(hre_hub *hub, const hre_transport_methods **methods,
                                       void **user_data, uint32_t ep)
{
    HRE__API_SCOPE;
    hub_ep *e;
    if (methods) *methods = NULL;
    if (user_data) *user_data = NULL;
    if (!hub || !methods || !user_data)
        return hre__fail(HRE_EINVAL, "hre_hub_endpoint_transport: NULL argument");
    if (!(e = ep_get(hub, ep)))
        return hre__fail(HRE_ENOTFOUND, "hre_hub_endpoint_transport: no endpoint %u", ep);
    *methods = &hub_methods;
    *user_data = e;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_hub_endpoint_crash(hre_hub *hub, uint32_t ep)
{
    HRE__API_SCOPE;
    hub_ep *e;
    uint64_t k;
    int rc = HRE_OK;
    if (!hub) return hre__fail(HRE_EINVAL, "hre_hub_endpoint_crash: NULL hub");
    if (!(e = ep_get(hub, ep)))
        return hre__fail(HRE_ENOTFOUND, "hre_hub_endpoint_crash: no endpoint %u", ep);
    if (!e->up) return hre__api_done(HRE_OK);
    e->up = 0;
    e->timer_gen++;
    hub->st.crashes++;
    HUB_LOG(hub, "hub %llu: ep %u crashes", (unsigned long long)hub->now, ep);
    tr_u8(hub, 'K');
    tr_u64(hub, hub->now);
    tr_u64(hub, ep);
    for (k = 0; k < hub->n_conns; k++) {
        hub_conn *c = hub->conns[k];
        unsigned int notify = 0;
        int s, mine = 0;
        if (!c) continue;
        for (s = 0; s < 2; s++)
            if (c->h[s].ep == ep && c->h[s].state != H_CLOSED) mine = 1;
        if (!mine) continue;
        for (s = 0; s < 2; s++) {
            if (c->h[s].state == H_CLOSED) continue;
            if (c->h[s].ep == ep) {
                c->h[s].state = H_CLOSED;   /* the host is gone: no event */
                held_free(hub, c, s);
            }
            else notify |= 1u << s;
        }
        if (notify) {
            int r = conn_break(hub, c, notify);
            if (r != HRE_OK) rc = r;
        } else {
            c->broken = 1;
        }
        conn_maybe_free(hub, c);
    }
    if (rc != HRE_OK) return hre__fail(rc, "hre_hub_endpoint_crash: out of memory");
    return hre__api_done(HRE_OK);
}

HRE_API int hre_hub_endpoint_restart(hre_hub *hub, uint32_t ep)
{
    HRE__API_SCOPE;
    hub_ep *e;
    if (!hub) return hre__fail(HRE_EINVAL, "hre_hub_endpoint_restart: NULL hub");
    if (!(e = ep_get(hub, ep)))
        return hre__fail(HRE_ENOTFOUND, "hre_hub_endpoint_restart: no endpoint %u", ep);
    if (!e->up) {
        e->up = 1;
        e->timer_gen++;
        tr_u8(hub, 'R');
        tr_u64(hub, hub->now);
        tr_u64(hub, ep);
        HUB_LOG(hub, "hub %llu: ep %u restarts", (unsigned long long)hub->now, ep);
    }
    return hre__api_done(HRE_OK);
}

HRE_API int hre_hub_endpoint_up(const hre_hub *hub, uint32_t ep)
{
    const hub_ep *e = hub ? ep_get(hub, ep) : NULL;
    return e ? e->up : 0;
}

/* ------------------------------------------------------------------------ */
/* Connections, timers, user events                                          */
/* ------------------------------------------------------------------------ */

HRE_API int hre_hub_close(hre_hub *hub, uint32_t ep, uint64_t conn)
{
    HRE__API_SCOPE;
    hub_conn *c;
    int side, rc;
    if (!hub) return hre__fail(HRE_EINVAL, "hre_hub_close: NULL hub");
    c = conn_find(hub, ep, conn, &side);
    if (!c || c->h[side].state == H_CLOSED)
        return hre__fail(HRE_ENOTFOUND, "hre_hub_close: conn %llu is not live at endpoint %u",
                         (unsigned long long)conn, ep);
    HUB_LOG(hub, "hub %llu: host of ep %u closes conn %llu", (unsigned long long)hub->now, ep,
            (unsigned long long)conn);
    if ((rc = half_close(hub, c, side)) != HRE_OK)
        return hre__fail(rc, "hre_hub_close: out of memory");
    return hre__api_done(HRE_OK);
}

HRE_API int hre_hub_pause(hre_hub *hub, uint32_t ep, uint64_t conn, int paused)
{
    HRE__API_SCOPE;
    hub_conn *c;
    hub_half *h;
    int side;
    if (!hub) return hre__fail(HRE_EINVAL, "hre_hub_pause: NULL hub");
    c = conn_find(hub, ep, conn, &side);
    if (!c || c->h[side].state != H_OPEN)
        return hre__fail(HRE_ENOTFOUND, "hre_hub_pause: conn %llu is not open at endpoint %u",
                         (unsigned long long)conn, ep);
    h = &c->h[side];
    paused = paused != 0;
    if (h->paused == paused) return hre__api_done(HRE_OK);
    if (!paused) {
        /* what it held comes back now, in order, after the events already due */
        size_t n = 0;
        hub_item *it;
        for (it = h->held_head; it; it = it->next) n++;
        if (heap_reserve(hub, n) != HRE_OK) return hre__fail(HRE_ENOMEM, "hub: out of memory");
        it = h->held_head;
        h->held_head = h->held_tail = NULL;
        while (it) {
            hub_item *next = it->next;
            it->next = NULL;
            if (it->time < hub->now) it->time = hub->now;   /* never before it was due */
            heap_insert(hub, it);   /* its reference to c is still counted */
            it = next;
        }
    }
    h->paused = paused;
    tr_u8(hub, 'W');
    tr_u64(hub, hub->now);
    tr_u64(hub, ep);
    tr_u64(hub, conn);
    tr_u64(hub, (uint64_t)paused);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_hub_timer_set(hre_hub *hub, uint32_t ep, uint64_t when)
{
    HRE__API_SCOPE;
    hub_ep *e;
    hub_item *it;
    if (!hub) return hre__fail(HRE_EINVAL, "hre_hub_timer_set: NULL hub");
    if (!(e = ep_get(hub, ep)))
        return hre__fail(HRE_ENOTFOUND, "hre_hub_timer_set: no endpoint %u", ep);
    e->timer_gen++;
    if (when == UINT64_MAX) return hre__api_done(HRE_OK);
    it = heap_reserve(hub, 1) == HRE_OK ? item_new(hub, HRE_HUB_EVENT_TIMER, when) : NULL;
    if (!it) return hre__fail(HRE_ENOMEM, "hub: out of memory");
    it->ep = ep;
    it->tag = e->timer_gen;
    item_push(hub, it);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_hub_schedule(hre_hub *hub, uint64_t when, uint32_t ep, uint64_t tag)
{
    HRE__API_SCOPE;
    hub_item *it;
    if (!hub) return hre__fail(HRE_EINVAL, "hre_hub_schedule: NULL hub");
    it = heap_reserve(hub, 1) == HRE_OK ? item_new(hub, HRE_HUB_EVENT_USER, when) : NULL;
    if (!it) return hre__fail(HRE_ENOMEM, "hub: out of memory");
    it->ep = ep;
    it->tag = tag;
    item_push(hub, it);
    return hre__api_done(HRE_OK);
}

/* ------------------------------------------------------------------------ */
/* hre_hub_next                                                              */
/* ------------------------------------------------------------------------ */

/* An attempt reaches its target: decide. */
static int arrive(hre_hub *hub, hub_item *it)
{
    hub_conn *c = it->c;
    hub_ep *target;
    hub_item *a, *b;
    if (c->h[0].state != H_CONNECTING) return HRE_OK;    /* abandoned by its endpoint */
    target = ep_by_address(hub, c->address);
    if (target && target->up && (cut_at(hub, c->h[0].ep, target->id, hub->now) ||
                                 cut_at(hub, target->id, c->h[0].ep, hub->now))) {
        /* no answer across a cut: the attempt times out */
        hub->st.connect_failures++;
        HUB_LOG(hub, "hub %llu: conn %llu: attempt to \"%s\" is cut off", (unsigned long long)hub->now,
                (unsigned long long)c->h[0].id, c->address);
        return queue_closed(hub, c, 0, c->attempt_at + hub->connect_timeout, 0);
    }
    if (!target || !target->up || it->tag) {
        hub->st.connect_failures++;
        HUB_LOG(hub, "hub %llu: conn %llu: attempt to \"%s\" refused (%s)",
                (unsigned long long)hub->now, (unsigned long long)c->h[0].id, c->address,
                !target ? "no such address" : !target->up ? "endpoint down" : "connect_fail");
        return queue_closed(hub, c, 0, hub->now, 0);
    }
    if (heap_reserve(hub, 2) != HRE_OK) return HRE_ENOMEM;
    a = item_new(hub, HRE_HUB_EVENT_CONNECTED, hub->now);
    if (!a) return HRE_ENOMEM;
    b = item_new(hub, HRE_HUB_EVENT_CONNECTED, hub->now);
    if (!b) {
        hre__free(a);
        return HRE_ENOMEM;
    }
    c->h[1].ep = target->id;
    c->h[1].state = H_ESTABLISHING;
    c->h[0].state = H_ESTABLISHING;
    a->c = c;
    a->side = 1;   /* the acceptor hears first, so it knows the connection before any byte */
    item_push(hub, a);
    b->c = c;
    b->side = 0;
    item_push(hub, b);
    return HRE_OK;
}

/* Keep a popped item for a paused end (it comes back, in order, at resume). */
static int hold(hub_conn *c, int side, hub_item *it)
{
    hub_half *h = &c->h[side];
    it->next = NULL;
    if (h->held_tail) h->held_tail->next = it;
    else h->held_head = it;
    h->held_tail = it;
    return 2;
}

/* Process one popped item. 1: it is an event for the host; 0: skipped (free
 * it); 2: held for a paused end (keep it). */
static int process(hre_hub *hub, hub_item *it, hre_hub_event *ev)
{
    hub_conn *c = it->c;
    hub_half *h = c ? &c->h[it->side] : NULL;
    hub_ep *e;
    switch (it->kind) {
    case IT_ARRIVE:
        if (arrive(hub, it) != HRE_OK)
            (void)queue_closed(hub, c, 0, hub->now, 0);   /* best effort under ENOMEM */
        return 0;
    case HRE_HUB_EVENT_CONNECTED:
        if (h->state != H_ESTABLISHING) return 0;
        e = ep_get(hub, h->ep);
        if (!e || !e->up) return 0;
        h->state = H_OPEN;
        ev->conn = h->id;
        ev->endpoint = h->ep;
        if (it->side == 0) {
            ev->flags = HRE_HUB_OUTBOUND;
            ev->address = c->address;
        } else {
            ev->address = ep_get(hub, c->h[0].ep)->address;
        }
        return 1;
    case HRE_HUB_EVENT_DATA: {
        int from = 1 - it->side;
        uint32_t from_ep = c->h[from].ep;
        int deliver = h->state == H_OPEN && !c->broken;
        if (deliver && h->paused) {
            hub->st.held++;
            return hold(c, it->side, it);
        }
        (void)window_release(hub, c, from, it->acct);
        if (!deliver) {
            hub->st.lost++;
            return 0;
        }
        if (cut_at(hub, from_ep, h->ep, hub->now)) {
            hub->st.cut++;
            HUB_LOG(hub, "hub %llu: conn %llu: %zu bytes cut off in flight",
                    (unsigned long long)hub->now, (unsigned long long)h->id, it->len);
            return 0;
        }
        ev->conn = h->id;
        ev->endpoint = h->ep;
        ev->data = it->data;
        ev->len = it->len;
        hub->st.bytes_delivered += it->len;
        return 1;
    }
    case HRE_HUB_EVENT_WRITABLE:
        if (h->state != H_OPEN || c->broken) return 0;
        ev->conn = h->id;
        ev->endpoint = h->ep;
        return 1;
    case HRE_HUB_EVENT_CLOSED:
        if (h->state == H_CLOSED) {
            h->close_queued = 0;
            return 0;
        }
        if (it->orderly && h->paused && h->state == H_OPEN && !c->broken) {
            hub->st.held++;
            return hold(c, it->side, it);   /* after the bytes held before it */
        }
        h->close_queued = 0;
        h->state = H_CLOSED;
        h->want_writable = 0;
        held_free(hub, c, it->side);
        e = ep_get(hub, h->ep);
        ev->conn = h->id;
        ev->endpoint = h->ep;
        return e && e->up;
    case HRE_HUB_EVENT_TIMER:
        e = ep_get(hub, it->ep);
        if (!e || !e->up || it->tag != e->timer_gen) return 0;
        ev->endpoint = it->ep;
        return 1;
    case HRE_HUB_EVENT_USER:
        ev->endpoint = it->ep;
        ev->tag = it->tag;
        return 1;
    default:
        return 0;
    }
}

HRE_API int hre_hub_next(hre_hub *hub, hre_hub_event *out, uint64_t until)
{
    HRE__API_SCOPE;
    hre_hub_event ev;
    uint64_t now0;
    int rc;
    if (!hub || !out) return hre__fail(HRE_EINVAL, "hre_hub_next: NULL argument");
    if ((rc = hre__vstruct_check(&event_desc, out->version)) != HRE_OK) return rc;
    if (hub->current) {
        item_free(hub, hub->current);
        hub->current = NULL;
    }
    now0 = hub->now;
    for (;;) {
        hub_item *it;
        if (hub->n_heap == 0 || hub->heap[0]->time > until) {
            /* items skipped on the way left nothing visible: the clock is
             * where the last event put it, or `until` */
            if (until == UINT64_MAX) hub->now = now0;
            else if (until > hub->now) hub->now = until;
            memset(&ev, 0, sizeof ev);
            ev.version = HRE_HUB_EVENT_VERSION;
            ev.address = "";
            (void)hre__vstruct_out(&event_desc, out, &ev);
            return hre__fail(HRE_ENOTFOUND, "hre_hub_next: no event due by %llu",
                             (unsigned long long)until);
        }
        it = heap_pop(hub);
        hub->now = it->time;
        memset(&ev, 0, sizeof ev);
        ev.version = HRE_HUB_EVENT_VERSION;
        ev.address = "";
        rc = process(hub, it, &ev);
        if (rc == 2) continue;
        if (rc == 1) {
            ev.type = (unsigned int)it->kind;
            ev.time = it->time;
            ev.seq = it->seq;
            hub->current = it;
            hub->st.events++;
            tr_u8(hub, 'E');
            tr_u64(hub, ev.type);
            tr_u64(hub, ev.time);
            tr_u64(hub, ev.seq);
            tr_u64(hub, ev.endpoint);
            tr_u64(hub, ev.conn);
            tr_u64(hub, ev.flags);
            tr_u64(hub, ev.tag);
            tr_bytes(hub, ev.address, strlen(ev.address));
            tr_bytes(hub, ev.data, ev.len);
            (void)hre__vstruct_out(&event_desc, out, &ev);
            return hre__api_done(HRE_OK);
        }
        item_free(hub, it);
    }
}

/* ------------------------------------------------------------------------ */
/* Faults and partitions                                                     */
/* ------------------------------------------------------------------------ */

HRE_API int hre_hub_faults_set(hre_hub *hub, const hre_hub_faults *f)
{
    HRE__API_SCOPE;
    hre_hub_faults nf;
    int rc;
    if (!hub) return hre__fail(HRE_EINVAL, "hre_hub_faults_set: NULL hub");
    if ((rc = faults_read(&nf, f)) != HRE_OK) return rc;
    hub->f = nf;
    tr_u8(hub, 'F');
    tr_u64(hub, hub->now);
    tr_u64(hub, nf.drop);
    tr_u64(hub, nf.duplicate);
    tr_u64(hub, nf.reorder);
    tr_u64(hub, nf.corrupt);
    tr_u64(hub, nf.split);
    tr_u64(hub, nf.reset);
    tr_u64(hub, nf.connect_fail);
    tr_u64(hub, nf.delay_min_ms);
    tr_u64(hub, nf.delay_max_ms);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_hub_faults_get(const hre_hub *hub, hre_hub_faults *f)
{
    HRE__API_SCOPE;
    if (!hub) return hre__fail(HRE_EINVAL, "hre_hub_faults_get: NULL hub");
    return hre__api_done(hre__vstruct_out(&faults_desc, f, &hub->f));
}

HRE_API int hre_hub_partition_add(hre_hub *hub, uint32_t *id, const hre_hub_partition *p)
{
    HRE__API_SCOPE;
    hre_hub_partition np;
    int rc;
    if (id) *id = 0;
    if (!hub) return hre__fail(HRE_EINVAL, "hre_hub_partition_add: NULL hub");
    if ((rc = hre__vstruct_in(&partition_desc, &np, p)) != HRE_OK) return rc;
    if ((rc = part_add(hub, id, &np)) != HRE_OK) return rc;
    tr_u8(hub, 'P');
    tr_u64(hub, hub->now);
    tr_u64(hub, (uint64_t)(int64_t)np.cut);
    tr_u64(hub, np.start_ms);
    tr_u64(hub, np.end_ms);
    tr_u64(hub, np.side_count);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_hub_partition_remove(hre_hub *hub, uint32_t id)
{
    HRE__API_SCOPE;
    size_t i;
    if (!hub) return hre__fail(HRE_EINVAL, "hre_hub_partition_remove: NULL hub");
    for (i = 0; i < hub->n_parts; i++)
        if (hub->parts[i].id == id) break;
    if (i == hub->n_parts)
        return hre__fail(HRE_ENOTFOUND, "hre_hub_partition_remove: no partition %u", id);
    hre__free(hub->parts[i].side);
    memmove(&hub->parts[i], &hub->parts[i + 1], (hub->n_parts - i - 1) * sizeof hub->parts[0]);
    hub->n_parts--;
    tr_u8(hub, 'H');
    tr_u64(hub, hub->now);
    tr_u64(hub, id);
    HUB_LOG(hub, "hub %llu: partition %u removed", (unsigned long long)hub->now, id);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_hub_partition_clear(hre_hub *hub)
{
    HRE__API_SCOPE;
    size_t i;
    if (!hub) return hre__fail(HRE_EINVAL, "hre_hub_partition_clear: NULL hub");
    for (i = 0; i < hub->n_parts; i++) hre__free(hub->parts[i].side);
    hub->n_parts = 0;
    tr_u8(hub, 'H');
    tr_u64(hub, hub->now);
    tr_u64(hub, 0);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_hub_cut(const hre_hub *hub, uint32_t from, uint32_t to)
{
    return hub ? cut_at(hub, from, to, hub->now) : 0;
}

/* ------------------------------------------------------------------------ */
/* Statistics and the trace digest                                           */
/* ------------------------------------------------------------------------ */

HRE_API int hre_hub_stats_get(const hre_hub *hub, hre_hub_stats *st)
{
    HRE__API_SCOPE;
    hre_hub_stats s;
    if (!hub) return hre__fail(HRE_EINVAL, "hre_hub_stats_get: NULL hub");
    s = hub->st;
    s.version = HRE_HUB_STATS_VERSION;
    s.now = hub->now;
    s.queued = hub->n_heap;
    s.queued_bytes = hub->queued_bytes;
    return hre__api_done(hre__vstruct_out(&stats_desc, st, &s));
}

HRE_API int hre_hub_trace_digest(const hre_hub *hub, uint8_t out[32])
{
    HRE__API_SCOPE;
    hre_sha256_ctx *copy = NULL;
    int rc;
    if (out) memset(out, 0, 32);
    if (!hub || !out) return hre__fail(HRE_EINVAL, "hre_hub_trace_digest: NULL argument");
    if (hub->trace_failed) return hre__fail(HRE_ECRYPTO, "hre_hub_trace_digest: the trace hash failed");
    if ((rc = hre_sha256_new(&copy)) != HRE_OK) return rc;
    if ((rc = hre_sha256_copy(copy, hub->trace)) == HRE_OK) rc = hre_sha256_final(copy, out);
    hre_sha256_free(copy);
    if (rc != HRE_OK) {
        memset(out, 0, 32);
        return rc;
    }
    return hre__api_done(HRE_OK);
}
