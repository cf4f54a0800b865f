/*
 * The simulation driver (sim.h): the world, the event loop that connects
 * hub events to the nodes, the workload, the fault schedule and the oracle.
 * The hub never calls a node; this file is the only place where hub events
 * become node calls.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hre/hre.h>
#include <hre/sys/hub.h>
#include <hre/sys/powerloss.h>

#include "sim.h"
#include "sim_byz.h"
#include "sim_rand.h"

#define T0_MS 1700000000000ull
#define EASY 0x207fffffu
#define NOT_ARMED UINT64_MAX

/* USER event tags: kind in the high 32 bits. */
enum { U_MINE = 1, U_TX, U_CRASH, U_RESTART, U_HEAL, U_CHECK, U_DIAL, U_RELAY_TX };
#define TAG(k, a) (((uint64_t)(k) << 32) | (uint32_t)(a))

typedef struct world world;

typedef struct snode {
    world *w;
    int idx;
    uint32_t ep;
    char addr[16];
    int byz;
    /* honest */
    hre_key *id;
    hre_storage *inner, *pl;
    hre_ledger *l;
    hre_node *node;
    int up;
    int miner;
    uint64_t armed;                /* the hub timer we set, NOT_ARMED if none */
    uint64_t ticked_at;            /* virtual time of the last hre_node_tick (UINT64_MAX: none) */
    uint64_t paused[64];           /* connections we stopped reading (hre_node_peer_want_read) */
    int n_paused;
    uint64_t crash_height;         /* tip when it crashed */
    uint8_t crash_tip[32];
    int crashed_once;
    int arm_next;                  /* the next wrapper crashes at a sync */
    int pl_armed;                  /* this wrapper was made to crash at a sync */
    /* byzantine */
    sim_byz *b;
    const hre_transport_methods *tm;
    void *tud;
} snode;

typedef struct relay_tx {
    uint8_t txid[32];
    uint64_t at;
    int have;                      /* honest nodes holding it */
    uint8_t seen[SIM_MAX_NODES];
    uint64_t done_at;
} relay_tx;

struct world {
    sim_config cfg;
    sim_result *res;
    hre_hub *hub;
    hre_chain_params params;
    hre_key *auth;
    uint8_t auth_wire[34];
    uint8_t net_id[32];
    uint8_t fingerprint[32];
    uint8_t *setup;
    size_t setup_len;
    snode nodes[SIM_MAX_NODES];
    int n, n_honest;
    uint64_t rng[4];
    uint8_t (*invalid)[32];
    int *invalid_kind;
    size_t n_invalid, cap_invalid;
    int32_t *remote;               /* by hub conn id: the node at the other end (-1: none) */
    size_t cap_remote;
    int failed, stop;
    uint64_t t_start, t_heal, t_end;
    int settling;
    int tips_agree;                /* the last check found tips and states equal */
    uint64_t admin_nonce;
    /* relay measurement */
    relay_tx *rtx;
    int n_rtx, rtx_done;
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

#define SIM_PRINTF(a, b) __attribute__((format(printf, a, b)))
static void fail(world *w, const char *fmt, ...) SIM_PRINTF(2, 3);
static void vlog(const world *w, const char *fmt, ...) SIM_PRINTF(2, 3);

static void fail(world *w, const char *fmt, ...)
{
    va_list ap;
    if (w->failed) return;
    w->failed = 1;
    w->res->ok = 0;
    va_start(ap, fmt);
    vsnprintf(w->res->why, sizeof w->res->why, fmt, ap);
    va_end(ap);
}

static uint64_t now_of(const world *w)
{
    return hre_hub_now(w->hub);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t wrand(world *w)
{
    uint64_t *s = w->rng;
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

static uint64_t wbelow(world *w, uint64_t n)
{
    return n ? wrand(w) % n : 0;
}

/* A random interval with the given mean: uniform in [1, 2 * mean]. */
static uint64_t wexp(world *w, uint64_t mean)
{
    return 1 + wbelow(w, 2 * (mean ? mean : 1));
}

static void vlog(const world *w, const char *fmt, ...)
{
    va_list ap;
    if (!w->cfg.verbose) return;
    fprintf(stderr, "%10.3f ", (double)(hre_hub_now(w->hub) - T0_MS) / 1000.0);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void hexs(char out[17], const uint8_t h[32])
{
    static const char d[] = "0123456789abcdef";
    int i;
    for (i = 0; i < 8; i++) {
        out[2 * i] = d[h[31 - i] >> 4];
        out[2 * i + 1] = d[h[31 - i] & 15];
    }
    out[16] = 0;
}

static void sched(world *w, uint64_t when, int node, int kind, uint32_t arg)
{
    if (hre_hub_schedule(w->hub, when, (uint32_t)node, TAG(kind, arg)) != HRE_OK)
        fail(w, "hre_hub_schedule: %s", hre_error_detail());
}

static snode *by_address(world *w, const char *address)
{
    int i;
    for (i = 0; i < w->n; i++)
        if (strcmp(w->nodes[i].addr, address) == 0) return &w->nodes[i];
    return NULL;
}

static void remote_set(world *w, uint64_t conn, int idx)
{
    if (conn >= w->cap_remote) {
        size_t nc = w->cap_remote ? w->cap_remote : 1024, i;
        int32_t *nr;
        while (nc <= conn) nc *= 2;
        nr = realloc(w->remote, nc * sizeof *nr);
        if (!nr) {
            fail(w, "out of memory");
            return;
        }
        for (i = w->cap_remote; i < nc; i++) nr[i] = -1;
        w->remote = nr;
        w->cap_remote = nc;
    }
    w->remote[conn] = idx;
}

static int remote_of(const world *w, uint64_t conn)
{
    return conn < w->cap_remote ? w->remote[conn] : -1;
}

/* Index in the invalid set, or -1. */
static long invalid_index(const world *w, const uint8_t h[32])
{
    size_t i;
    for (i = 0; i < w->n_invalid; i++)
        if (memcmp(w->invalid[i], h, 32) == 0) return (long)i;
    return -1;
}

static int is_invalid(const world *w, const uint8_t h[32])
{
    return invalid_index(w, h) >= 0;
}

static int key_wire(hre_key *k, uint8_t wire[34])
{
    hre_pubkey *pk = NULL;
    int rc = hre_key_pubkey(k, &pk);
    if (rc == HRE_OK) rc = hre_pubkey_serialize_wire(pk, wire);
    hre_pubkey_free(pk);
    return rc;
}

/* Median of the last 11 block times ending at `height` on l's main chain. */
static uint32_t mtp_of(hre_ledger *l, uint64_t height)
{
    uint32_t t[11], x;
    int n = 0, i, j;
    hre_header h;
    while (n < 11) {
        if (hre_ledger_header_by_height(l, &h, NULL, height) != HRE_OK) break;
        t[n++] = h.time;
        if (height == 0) break;
        height--;
    }
    for (i = 1; i < n; i++)
        for (j = i; j > 0 && t[j - 1] > t[j]; j--) {
            x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    return n ? t[n / 2] : 0;
}

/* ------------------------------------------------------------------------ */
/* Honest nodes                                                              */
/* ------------------------------------------------------------------------ */

static void rearm(snode *s);
static void finish_crash(snode *s, const char *how);

static void on_node_event(void *ud, const hre_node_event *ev)
{
    snode *s = ud;
    world *w = s->w;
    char hx[17];
    if (ev->type == HRE_NODE_EVENT_LEDGER) {
        const hre_ledger_event *le = ev->ledger;
        if (le->type == HRE_LEDGER_EVENT_BLOCK_CONNECTED) {
            w->res->blocks_connected++;
            if (is_invalid(w, le->block_hash)) {
                hexs(hx, le->block_hash);
                fail(w, "SAFETY: node %s connected block %s at height %llu, which a byzantine peer "
                        "made invalid (%s)", s->addr, hx, (unsigned long long)le->height,
                     byz_kind_name(w->invalid_kind[invalid_index(w, le->block_hash)]));
            }
        } else if (le->type == HRE_LEDGER_EVENT_BLOCK_DISCONNECTED) {
            w->res->reorgs++;
        }
        return;
    }
    switch (ev->type) {
    case HRE_NODE_EVENT_PEER_DISCONNECTED: {
        int r = remote_of(w, ev->conn);
        w->res->disconnects++;
        if (w->cfg.verbose)
            vlog(w, "%s: conn %llu (%s) closed: %s%s %s", s->addr, (unsigned long long)ev->conn,
                 r >= 0 ? w->nodes[r].addr : "?", hre_node_reason_name(ev->reason),
                 ev->discouraged ? " [discouraged]" : "", ev->detail);
        if (ev->discouraged) {
            if (r >= 0 && !w->nodes[r].byz)
                fail(w, "SAFETY: node %s discouraged the honest peer %s: %s (%s)", s->addr,
                     w->nodes[r].addr, hre_node_reason_name(ev->reason), ev->detail);
            else if (r >= 0)
                w->res->byz_refused++;
        }
        break;
    }
    case HRE_NODE_EVENT_TX_ACCEPTED:
        w->res->txs_accepted_relay++;
        if (w->cfg.verbose) {
            int r = remote_of(w, ev->conn);
            hexs(hx, ev->hash);
            vlog(w, "%s: tx %s from %s", s->addr, hx, r >= 0 ? w->nodes[r].addr : "?");
        }
        if (w->rtx) {
            int i;
            for (i = 0; i < w->n_rtx; i++) {
                relay_tx *t = &w->rtx[i];
                if (memcmp(t->txid, ev->hash, 32) != 0 || t->seen[s->idx]) continue;
                t->seen[s->idx] = 1;
                if (++t->have == w->n_honest) {
                    t->done_at = ev->now;
                    w->rtx_done++;
                }
            }
        }
        break;
    case HRE_NODE_EVENT_FATAL: {
        hre_powerloss_stats ps = HRE_POWERLOSS_STATS_INIT;
        if (!s->pl || hre_powerloss_stats_get(s->pl, &ps) != HRE_OK || !ps.crashed)
            fail(w, "node %s became fatal without a power loss: %s", s->addr, ev->detail);
        break;
    }
    default:
        if (w->cfg.verbose > 1) vlog(w, "%s: event %u conn %llu %s", s->addr, ev->type,
                                      (unsigned long long)ev->conn, ev->detail);
        break;
    }
}

/* Open the ledger on a fresh power-loss wrapper of the node's disk. Returns
 * HRE_OK, or the open's error (the wrapper is freed then). */
static int open_ledger(snode *s)
{
    world *w = s->w;
    hre_powerloss_options po = HRE_POWERLOSS_OPTIONS_INIT;
    hre_ledger_options o;
    int rc;
    po.mode = wbelow(w, 2) ? HRE_POWERLOSS_TEAR : HRE_POWERLOSS_DROP;
    po.seed = wrand(w);
    s->pl_armed = 0;
    if (s->arm_next) {
        po.crash_at_sync = 1 + wbelow(w, 40);
        s->arm_next = 0;
        s->pl_armed = 1;
    }
    if ((rc = hre_powerloss_new(&s->pl, s->inner, &po)) != HRE_OK) return rc;
    (void)hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION);
    o.storage = s->pl;
    o.params = &w->params;
    memcpy(o.authority_key, w->auth_wire, 34);
    o.verify_threads = 0;
    o.snapshot_interval = 8;       /* snapshots get written (and recovered) in short runs */
    o.segment_size = 16384;        /* and segments roll */
    rc = hre_ledger_open(&s->l, &o);
    if (rc != HRE_OK) {
        hre_storage_free(s->pl);
        s->pl = NULL;
    }
    return rc;
}

static int pl_crashed(const snode *s)
{
    hre_powerloss_stats ps = HRE_POWERLOSS_STATS_INIT;
    return s->pl && hre_powerloss_stats_get(s->pl, &ps) == HRE_OK && ps.crashed;
}

static void shuffle_book(world *w, snode *s)
{
    int order[SIM_MAX_NODES], k = 0, i;
    for (i = 0; i < w->n; i++)
        if (i != s->idx) order[k++] = i;
    for (i = k - 1; i > 0; i--) {
        int j = (int)wbelow(w, (uint64_t)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (i = 0; i < k; i++) {
        int rc = hre_node_address_add(s->node, w->nodes[order[i]].addr, 0, now_of(w));
        if (rc != HRE_OK) fail(w, "hre_node_address_add: %s", hre_error_detail());
    }
}

static int node_start(snode *s)
{
    world *w = s->w;
    hre_node_options o;
    const hre_transport_methods *tm;
    void *tud;
    int rc;
    if ((rc = hre_hub_endpoint_transport(w->hub, &tm, &tud, s->ep)) != HRE_OK) return rc;
    (void)hre_node_options_init(&o, HRE_NODE_OPTIONS_VERSION);
    o.ledger = s->l;
    o.identity = s->id;
    o.transport = tm;
    o.transport_user_data = tud;
    o.on_event = on_node_event;
    o.user_data = s;
    o.target_outbound = (uint32_t)w->cfg.target_outbound;
    o.max_peers = 32;
    o.handshake_timeout_ms = 3000;
    o.ping_interval_ms = 3000;
    o.ping_timeout_ms = 3000;
    o.request_timeout_ms = 3000;
    o.stall_timeout_ms = 1000;
    o.stall_timeout_max_ms = 8000;
    o.reconnect_ms = 250;
    if ((rc = hre_node_new(&s->node, &o, now_of(w))) != HRE_OK) return rc;
    s->up = 1;
    s->armed = NOT_ARMED;
    s->ticked_at = UINT64_MAX;
    shuffle_book(w, s);
    rearm(s);
    return HRE_OK;
}

/* Receive back-pressure, as a socket host does it: stop reading a
 * connection while the node says so, read again when it wants more. */
static void pause_read(snode *s, uint64_t conn)
{
    int i;
    if (hre_node_peer_want_read(s->node, conn)) return;
    for (i = 0; i < s->n_paused; i++)
        if (s->paused[i] == conn) return;
    if (s->n_paused == 64 || hre_hub_pause(s->w->hub, s->ep, conn, 1) != HRE_OK) return;
    s->paused[s->n_paused++] = conn;
    s->w->res->read_pauses++;
}

static void resume_reads(snode *s)
{
    int i;
    for (i = 0; i < s->n_paused;) {
        uint64_t c = s->paused[i];
        hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
        if (hre_node_peer_want_read(s->node, c) || hre_node_peer_info_get(s->node, &pi, c) != HRE_OK) {
            int rc = hre_hub_pause(s->w->hub, s->ep, c, 0);
            (void)rc;   /* HRE_ENOTFOUND: it is gone meanwhile */
            s->paused[i] = s->paused[--s->n_paused];
            continue;
        }
        i++;
    }
}

/* Check the node after each call into it: a power loss mid-call, reads to
 * resume, the timer. */
static void after_call(snode *s)
{
    if (!s->up) return;
    if (pl_crashed(s)) {
        finish_crash(s, "power lost at a sync");
        return;
    }
    if (s->n_paused) resume_reads(s);
    rearm(s);
}

static void rearm(snode *s)
{
    uint64_t when = UINT64_MAX;
    if (!s->up || !s->node) return;
    if (hre_node_next_timer(s->node, &when) != HRE_OK) {
        fail(s->w, "hre_node_next_timer: %s", hre_error_detail());
        return;
    }
    /* Host policy: at most one tick per node per millisecond. A timer due
     * "at once" right after a tick at this same time waits 1 ms, so the
     * virtual clock cannot stall even if a node answers "now" again (the
     * node's transaction-request expiry may be reported early, never late:
     * node.h, hre_node_next_timer; each clamp is counted, "clamps="). */
    if (when <= now_of(s->w) && s->ticked_at == now_of(s->w)) {
        when = now_of(s->w) + 1;
        s->w->res->tick_clamps++;
    }
    if (when == s->armed) return;
    if (hre_hub_timer_set(s->w->hub, s->ep, when) != HRE_OK) {
        fail(s->w, "hre_hub_timer_set: %s", hre_error_detail());
        return;
    }
    s->armed = when == UINT64_MAX ? NOT_ARMED : when;
}

/* The node is gone (its power-loss storage already crashed): free it, take
 * its endpoint down, schedule the restart. */
static void finish_crash(snode *s, const char *how)
{
    world *w = s->w;
    if (s->l) (void)hre_ledger_tip(s->l, &s->crash_height, s->crash_tip);
    hre_node_free(s->node);
    s->node = NULL;
    hre_ledger_close(s->l);   /* its writes fail: the power is off */
    s->l = NULL;
    hre_storage_free(s->pl);
    s->pl = NULL;
    s->up = 0;
    s->armed = NOT_ARMED;
    s->n_paused = 0;
    s->crashed_once = 1;
    w->res->crashes++;
    if (hre_hub_endpoint_crash(w->hub, s->ep) != HRE_OK) fail(w, "hre_hub_endpoint_crash");
    vlog(w, "%s crashed (%s) at height %llu", s->addr, how, (unsigned long long)s->crash_height);
    if (!w->settling) sched(w, now_of(w) + 500 + wbelow(w, 5000), s->idx, U_RESTART, 0);
    else sched(w, now_of(w), s->idx, U_RESTART, 0);
}

static void crash_now(snode *s)
{
    if (!s->up) return;
    if (!pl_crashed(s) && hre_powerloss_crash(s->pl) != HRE_OK) {
        fail(s->w, "hre_powerloss_crash: %s", hre_error_detail());
        return;
    }
    finish_crash(s, "power cut");
}

static void restart(snode *s)
{
    world *w = s->w;
    int rc;
    if (s->up) return;
    rc = open_ledger(s);
    if (rc == HRE_EIO && !w->settling) {
        /* the armed crash hit during the recovery itself: try again later */
        w->res->crashes++;
        vlog(w, "%s: power lost again while recovering", s->addr);
        sched(w, now_of(w) + 500 + wbelow(w, 2000), s->idx, U_RESTART, 0);
        return;
    }
    if (rc != HRE_OK) {
        fail(w, "DURABILITY: node %s: the ledger did not reopen after a crash: %d (%s)", s->addr, rc,
             hre_error_detail());
        return;
    }
    if (s->crashed_once) {
        uint64_t h = 0;
        hre_ledger_block_info bi = HRE_LEDGER_BLOCK_INFO_INIT;
        (void)hre_ledger_tip(s->l, &h, NULL);
        if (h < s->crash_height || hre_ledger_block_info_get(s->l, &bi, s->crash_tip) != HRE_OK) {
            char hx[17];
            hexs(hx, s->crash_tip);
            fail(w, "DURABILITY: node %s reopened at height %llu without its pre-crash tip %s "
                    "(height %llu)", s->addr, (unsigned long long)h, hx,
                 (unsigned long long)s->crash_height);
            return;
        }
    }
    if (hre_hub_endpoint_restart(w->hub, s->ep) != HRE_OK) fail(w, "hre_hub_endpoint_restart");
    if ((rc = node_start(s)) != HRE_OK) {
        fail(w, "node %s: hre_node_new after a restart: %s", s->addr, hre_error_detail());
        return;
    }
    w->res->restarts++;
    vlog(w, "%s restarted", s->addr);
    after_call(s);
}

/* ------------------------------------------------------------------------ */
/* Byzantine peers                                                           */
/* ------------------------------------------------------------------------ */

static int byz_victim_tip(void *ud, uint64_t conn, uint8_t hash[32], uint64_t *height,
                          uint32_t *tip_time, uint32_t *mtp, uint8_t work[32])
{
    world *w = ud;
    int r = remote_of(w, conn);
    snode *v;
    hre_ledger_block_info bi = HRE_LEDGER_BLOCK_INFO_INIT;
    if (r < 0 || w->nodes[r].byz || !w->nodes[r].up) return HRE_ENOTFOUND;
    v = &w->nodes[r];
    if (hre_ledger_tip(v->l, height, hash) != HRE_OK) return HRE_ENOTFOUND;
    if (hre_ledger_block_info_get(v->l, &bi, hash) != HRE_OK) return HRE_ENOTFOUND;
    memcpy(work, bi.work, 32);
    *tip_time = bi.header.time;
    *mtp = mtp_of(v->l, *height);
    return HRE_OK;
}

static void byz_invalid_add(void *ud, const uint8_t hash[32], int kind)
{
    world *w = ud;
    if (w->n_invalid == w->cap_invalid) {
        size_t nc = w->cap_invalid ? w->cap_invalid * 2 : 64;
        uint8_t (*ni)[32] = realloc(w->invalid, nc * sizeof *ni);
        int *nk = ni ? realloc(w->invalid_kind, nc * sizeof *nk) : NULL;
        if (ni) w->invalid = ni;
        if (!ni || !nk) {
            fail(w, "out of memory");
            return;
        }
        w->invalid_kind = nk;
        w->cap_invalid = nc;
    }
    if (w->cfg.verbose) {
        char hx[17];
        hexs(hx, hash);
        vlog(w, "invalid set += %s (%s)", hx, byz_kind_name(kind));
    }
    w->invalid_kind[w->n_invalid] = kind;
    memcpy(w->invalid[w->n_invalid++], hash, 32);
    w->res->invalid_made++;
}

static void byz_attack_sent(void *ud, uint64_t conn, int kind)
{
    world *w = ud;
    int r = remote_of(w, conn);
    w->res->byz_attacks++;
    vlog(w, "byzantine attack %s on %s", byz_kind_name(kind), r >= 0 ? w->nodes[r].addr : "?");
}

static uint64_t byz_rand(void *ud)
{
    return wrand(ud);
}

/* ------------------------------------------------------------------------ */
/* Workload                                                                  */
/* ------------------------------------------------------------------------ */

static snode *random_up_honest(world *w)
{
    int k = (int)wbelow(w, (uint64_t)w->n_honest), i;
    for (i = 0; i < w->n_honest; i++) {
        snode *s = &w->nodes[(k + i) % w->n_honest];
        if (s->up) return s;
    }
    return NULL;
}

/* A register_patient transaction from a fresh key (always valid). */
static int submit_tx(world *w, snode *s, uint8_t txid[32])
{
    hre_key *k = NULL;
    hre_tx *tx = NULL;
    hre_register_patient_payload p = { 0 };
    uint8_t buf[512];
    size_t len = sizeof buf;
    hre_ledger_status st = HRE_LEDGER_STATUS_NONE;
    int rc = hre_key_generate(&k, HRE_CURVE_P256);
    if (rc == HRE_OK) rc = hre_contract_build_register_patient(&tx, w->net_id, k, 0, now_of(w) / 1000, &p);
    if (rc == HRE_OK) rc = hre_tx_encode(tx, buf, &len);
    hre_tx_free(tx);
    hre_key_free(k);
    if (rc != HRE_OK) {
        fail(w, "building a transaction: %s", hre_error_detail());
        return rc;
    }
    rc = hre_node_submit_tx(s->node, txid, &st, buf, len, now_of(w));
    if (rc != HRE_OK && !pl_crashed(s))
        fail(w, "node %s refused a valid transaction: %d %s (%s)", s->addr, rc,
             hre_ledger_status_name((int)st), hre_error_detail());
    if (rc == HRE_OK) {
        w->res->txs_submitted++;
        if (w->cfg.verbose) {
            char hx[17];
            hexs(hx, txid);
            vlog(w, "%s: tx %s submitted", s->addr, hx);
        }
    }
    after_call(s);
    return rc;
}

static void do_mine(world *w, snode *s)
{
    uint8_t hash[32];
    hre_ledger_status st = HRE_LEDGER_STATUS_NONE;
    int rc;
    uint64_t next;
    if (s->up) {
        rc = hre_node_mine(s->node, hash, &st, now_of(w), 1u << 12);
        if (rc == HRE_OK) {
            char hx[17];
            w->res->blocks_mined++;
            hexs(hx, hash);
            vlog(w, "%s mined %s", s->addr, hx);
        } else if (rc != HRE_EEXHAUSTED && !pl_crashed(s) && rc != HRE_EIO) {
            fail(w, "node %s: hre_node_mine: %d %s (%s)", s->addr, rc, hre_ledger_status_name((int)st),
                 hre_error_detail());
        }
        after_call(s);
    }
    if (w->settling) {
        /* one miner keeps going slowly: it breaks ties between equal tips */
        if (s->idx == 0) sched(w, now_of(w) + 3000, s->idx, U_MINE, 0);
        return;
    }
    next = now_of(w) + wexp(w, w->cfg.block_ms);
    if (next < w->t_heal) sched(w, next, s->idx, U_MINE, 0);
}

/* ------------------------------------------------------------------------ */
/* Convergence and the final oracle                                          */
/* ------------------------------------------------------------------------ */

/* The txids of a mempool, sorted (malloc'd; *n of them). */
static int cmp32(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static uint8_t *mempool_ids(hre_ledger *l, size_t *n)
{
    size_t count = hre_ledger_mempool_count(l), got = count;
    uint8_t *ids = malloc(count ? count * 32 : 1);
    *n = 0;
    if (!ids || hre_ledger_mempool_list(l, ids, &got, 0) != HRE_OK) {
        free(ids);
        return NULL;
    }
    qsort(ids, got, 32, cmp32);
    *n = got;
    return ids;
}

static int mempools_agree(world *w)
{
    size_t n0 = 0, n = 0;
    uint8_t *m0 = mempool_ids(w->nodes[0].l, &n0);
    int i, same = m0 != NULL;
    for (i = 1; i < w->n_honest && same; i++) {
        uint8_t *m = mempool_ids(w->nodes[i].l, &n);
        same = m && n == n0 && (n == 0 || memcmp(m, m0, n * 32) == 0);
        free(m);
    }
    free(m0);
    return same;
}

static int converged(world *w)
{
    uint8_t tip0[32], st0[32];
    int i;
    for (i = 0; i < w->n_honest; i++) {
        snode *s = &w->nodes[i];
        uint8_t tip[32];
        if (!s->up) return 0;
        if (hre_ledger_tip(s->l, NULL, tip) != HRE_OK) return 0;
        if (i == 0) memcpy(tip0, tip, 32);
        else if (memcmp(tip, tip0, 32) != 0) return 0;
    }
    for (i = 0; i < w->n_honest; i++) {
        const hre_contract *c = NULL;
        uint8_t st[32];
        if (hre_ledger_contract(w->nodes[i].l, &c) != HRE_OK || hre_contract_state_hash(c, st) != HRE_OK)
            return 0;
        if (i == 0) memcpy(st0, st, 32);
        else if (memcmp(st, st0, 32) != 0) {
            fail(w, "SAFETY: nodes %s and %s share a tip but not the state hash", w->nodes[0].addr,
                 w->nodes[i].addr);
            return 0;
        }
    }
    memcpy(w->res->tip, tip0, 32);
    memcpy(w->res->state, st0, 32);
    return 1;
}

/* Every honest ledger re-validates its chain; a fresh ledger imports the
 * reference chain block by block and must agree. */
static void final_oracle(world *w)
{
    hre_storage *st = NULL;
    hre_ledger *fresh = NULL;
    hre_ledger_options o;
    snode *ref = &w->nodes[0];
    uint64_t tip = 0, h, bad;
    uint8_t *buf = NULL;
    int i, rc;
    for (i = 0; i < w->n_honest && !w->failed; i++) {
        rc = hre_ledger_verify_chain(w->nodes[i].l, &bad, NULL, NULL);
        if (rc != HRE_OK)
            fail(w, "SAFETY: node %s: verify_chain fails at height %llu: %d (%s)", w->nodes[i].addr,
                 (unsigned long long)bad, rc, hre_error_detail());
    }
    if (w->failed) return;
    if (hre_storage_memory_new(&st, 0) != HRE_OK) {
        fail(w, "memory storage");
        return;
    }
    (void)hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION);
    o.storage = st;
    o.params = &w->params;
    memcpy(o.authority_key, w->auth_wire, 34);
    o.snapshot_interval = HRE_LEDGER_SNAPSHOTS_OFF;
    if (hre_ledger_open(&fresh, &o) != HRE_OK) {
        fail(w, "fresh ledger: %s", hre_error_detail());
        goto out;
    }
    (void)hre_ledger_tip(ref->l, &tip, NULL);
    w->res->tip_height = tip;
    for (h = 1; h <= tip && !w->failed; h++) {
        size_t len = 0;
        hre_ledger_status s = HRE_LEDGER_STATUS_NONE;
        hre_header hd;
        uint8_t hash[32];
        (void)hre_ledger_block_by_height(ref->l, NULL, &len, h);
        free(buf);
        buf = malloc(len ? len : 1);
        if (!buf || hre_ledger_block_by_height(ref->l, buf, &len, h) != HRE_OK) {
            fail(w, "reading block %llu of %s: %s", (unsigned long long)h, ref->addr, hre_error_detail());
            break;
        }
        if (hre_header_decode(&hd, buf, HRE_HEADER_LEN) != HRE_OK || hre_header_hash(&hd, hash) != HRE_OK ||
            is_invalid(w, hash)) {
            fail(w, "SAFETY: block %llu of the final chain is in the invalid set", (unsigned long long)h);
            break;
        }
        rc = hre_ledger_submit_block(fresh, &s, buf, len, (T0_MS + 10ull * 86400000ull) / 1000);
        if (rc != HRE_OK || s != HRE_LEDGER_CONNECTED)
            fail(w, "SAFETY: a fresh ledger refuses block %llu of the final chain: %s (%s)",
                 (unsigned long long)h, hre_ledger_status_name((int)s), hre_error_detail());
    }
    if (!w->failed) {
        uint8_t t[32], sh[32];
        const hre_contract *c = NULL;
        (void)hre_ledger_tip(fresh, NULL, t);
        if (memcmp(t, w->res->tip, 32) != 0) fail(w, "SAFETY: the fresh ledger ends on another tip");
        else if (hre_ledger_contract(fresh, &c) != HRE_OK || hre_contract_state_hash(c, sh) != HRE_OK ||
                 memcmp(sh, w->res->state, 32) != 0)
            fail(w, "SAFETY: replaying the final chain gives another state hash");
    }
out:
    free(buf);
    hre_ledger_close(fresh);
    hre_storage_free(st);
}

/* ------------------------------------------------------------------------ */
/* The event loop                                                            */
/* ------------------------------------------------------------------------ */

static void heal(world *w)
{
    hre_hub_faults f = HRE_HUB_FAULTS_INIT;
    int i;
    w->settling = 1;
    f.delay_min_ms = w->cfg.delay_min_ms;
    f.delay_max_ms = w->cfg.delay_max_ms;
    if (hre_hub_faults_set(w->hub, &f) != HRE_OK || hre_hub_partition_clear(w->hub) != HRE_OK)
        fail(w, "healing the hub: %s", hre_error_detail());
    vlog(w, "faults stop");
    for (i = 0; i < w->n_honest; i++) {
        snode *s = &w->nodes[i];
        s->arm_next = 0;
        /* a wrapper armed to crash at a sync would crash later: the last
         * planned power cut happens now */
        if (s->up && s->pl_armed && !pl_crashed(s)) crash_now(s);
        if (!s->up) restart(s);
    }
    sched(w, now_of(w) + 100, 0, U_MINE, 0);
    sched(w, now_of(w) + 500, 0, U_CHECK, 0);
}

static void user_event(world *w, const hre_hub_event *ev)
{
    int kind = (int)(ev->tag >> 32), i;
    snode *s = ev->endpoint < (uint32_t)w->n ? &w->nodes[ev->endpoint] : NULL;
    switch (kind) {
    case U_MINE:
        if (s) do_mine(w, s);
        break;
    case U_TX:
        if (!w->settling) {
            snode *t = random_up_honest(w);
            uint8_t id[32];
            if (t) (void)submit_tx(w, t, id);
            sched(w, now_of(w) + wexp(w, w->cfg.tx_ms), 0, U_TX, 0);
        }
        break;
    case U_CRASH:
        if (s && !w->settling && s->up) {
            if (wbelow(w, 2)) s->arm_next = 1;   /* its next life ends at a sync */
            crash_now(s);
        }
        break;
    case U_RESTART:
        if (s) restart(s);
        break;
    case U_HEAL:
        heal(w);
        break;
    case U_CHECK:
        if (converged(w)) {
            /* with relay (live members) the mempools must agree too: every
             * transaction one node holds reaches every other. They may lag
             * the tips a little; strict (cfg.mempool_strict) keeps waiting up
             * to the liveness bound, otherwise 10 s, then it is recorded */
            int mp = !sim_can_relay() || mempools_agree(w);
            if (!w->tips_agree) {
                w->res->converge_ms = now_of(w) - w->t_heal;
                w->tips_agree = 1;
            }
            if (mp || (!w->cfg.mempool_strict && now_of(w) >= w->t_heal + w->res->converge_ms + 10000)) {
                w->res->mempool_differ = !mp;
                vlog(w, mp ? "converged" : "converged (tips and states; the mempools differ)");
                w->stop = 1;
                break;
            }
        } else {
            w->tips_agree = 0;
            w->res->converge_ms = 0;
        }
        if (!w->failed) sched(w, now_of(w) + 500, 0, U_CHECK, 0);
        break;
    case U_DIAL:
        if (s && s->byz && !w->settling) {
            snode *t = &w->nodes[wbelow(w, (uint64_t)w->n_honest)];
            uint64_t conn = 0;
            if (s->tm->connect(s->tud, &conn, t->addr) == HRE_OK) remote_set(w, conn, t->idx);
            sched(w, now_of(w) + 500 + wbelow(w, 2500), s->idx, U_DIAL, 0);
        }
        break;
    case U_RELAY_TX: {
        snode *t = random_up_honest(w);
        relay_tx *r = &w->rtx[ev->tag & 0xffffffffu];
        if (t && submit_tx(w, t, r->txid) == HRE_OK) {
            r->at = now_of(w);
            r->seen[t->idx] = 1;
            r->have = 1;
        }
        break;
    }
    default:
        (void)i;
        break;
    }
}

static void dispatch(world *w, const hre_hub_event *ev)
{
    snode *s = ev->endpoint < (uint32_t)w->n ? &w->nodes[ev->endpoint] : NULL;
    int rc = HRE_OK;
    uint64_t now = ev->time;
    if (ev->type == HRE_HUB_EVENT_USER) {
        user_event(w, ev);
        return;
    }
    if (!s) return;
    if (s->byz) {
        switch (ev->type) {
        case HRE_HUB_EVENT_CONNECTED: {
            snode *r = by_address(w, ev->address);
            remote_set(w, ev->conn, r ? r->idx : -1);
            byz_on_connected(s->b, ev->conn, (ev->flags & HRE_HUB_OUTBOUND) != 0, now);
            break;
        }
        case HRE_HUB_EVENT_DATA: byz_on_data(s->b, ev->conn, ev->data, ev->len, now); break;
        case HRE_HUB_EVENT_CLOSED: byz_on_closed(s->b, ev->conn, now); break;
        default: break;
        }
        return;
    }
    if (!s->up) return;
    switch (ev->type) {
    case HRE_HUB_EVENT_CONNECTED: {
        snode *r = by_address(w, ev->address);
        remote_set(w, ev->conn, r ? r->idx : -1);
        rc = hre_node_peer_connected(s->node, ev->conn, ev->address,
                                     (ev->flags & HRE_HUB_OUTBOUND) ? HRE_NODE_PEER_OUTBOUND : 0, now);
        if (rc != HRE_OK) {
            /* refused (discouraged address, or at a limit): the host closes it */
            if (rc != HRE_EAUTH && rc != HRE_ELIMIT && rc != HRE_EEXISTS && !pl_crashed(s))
                fail(w, "node %s: hre_node_peer_connected: %d (%s)", s->addr, rc, hre_error_detail());
            (void)hre_hub_close(w->hub, s->ep, ev->conn);
            rc = HRE_OK;
        }
        break;
    }
    case HRE_HUB_EVENT_DATA:
        rc = hre_node_peer_recv(s->node, ev->conn, ev->data, ev->len, now);
        if (rc == HRE_EPROTO || rc == HRE_ENOTFOUND) rc = HRE_OK;
        else if (rc == HRE_OK) pause_read(s, ev->conn);
        break;
    case HRE_HUB_EVENT_WRITABLE:
        rc = hre_node_peer_writable(s->node, ev->conn, now);
        if (rc == HRE_ENOTFOUND) rc = HRE_OK;
        break;
    case HRE_HUB_EVENT_CLOSED:
        rc = hre_node_peer_closed(s->node, ev->conn, now);
        if (rc == HRE_ENOTFOUND) rc = HRE_OK;
        break;
    case HRE_HUB_EVENT_TIMER:
        s->armed = NOT_ARMED;
        s->ticked_at = now;
        rc = hre_node_tick(s->node, now);
        break;
    default:
        break;
    }
    if (rc != HRE_OK && !pl_crashed(s))
        fail(w, "node %s: event %u on conn %llu: %d (%s)", s->addr, ev->type,
             (unsigned long long)ev->conn, rc, hre_error_detail());
    after_call(s);
}

static void run_loop(world *w, uint64_t until)
{
    hre_hub_event ev = HRE_HUB_EVENT_INIT;
    uint64_t last_t = 0, same = 0;
    while (!w->failed && !w->stop) {
        int rc = hre_hub_next(w->hub, &ev, until);
        if (rc == HRE_ENOTFOUND) break;
        if (rc != HRE_OK) {
            fail(w, "hre_hub_next: %s", hre_error_detail());
            break;
        }
        if (ev.time == last_t) {
            if (same >= 10000 && same < 10010 && w->cfg.verbose)
                vlog(w, "busy: event %u for endpoint %u (conn %llu), %llu events at this time", ev.type,
                     ev.endpoint, (unsigned long long)ev.conn, (unsigned long long)same);
            if (++same > 5000000) {
                fail(w, "LIVENESS: livelock, 5 000 000 events at virtual time %llu",
                     (unsigned long long)(ev.time - T0_MS));
                break;
            }
        } else {
            last_t = ev.time;
            same = 0;
        }
        w->res->events++;
        dispatch(w, &ev);
    }
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                     */
/* ------------------------------------------------------------------------ */

static int hub_log_on;
static void hub_log(void *ud, int level, const char *msg)
{
    (void)ud;
    (void)level;
    if (hub_log_on) fprintf(stderr, "           %s\n", msg);
}

/* The chain every honest node starts from: block 1 registers every honest
 * node key (when the contract has REGISTER_NODE). */
static int make_setup_block(world *w)
{
#ifdef HRE_KIND_REGISTER_NODE
    hre_storage *st = NULL;
    hre_ledger *l = NULL;
    hre_ledger_options o;
    int i, rc;
    uint64_t t = T0_MS / 1000 + 1;
    size_t len = 0;
    if ((rc = hre_storage_memory_new(&st, 0)) != HRE_OK) return rc;
    (void)hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION);
    o.storage = st;
    o.params = &w->params;
    memcpy(o.authority_key, w->auth_wire, 34);
    o.snapshot_interval = HRE_LEDGER_SNAPSHOTS_OFF;
    if ((rc = hre_ledger_open(&l, &o)) != HRE_OK) goto out;
    for (i = 0; i < w->n_honest; i++) {
        hre_register_node_payload p;
        hre_tx *tx = NULL;
        uint8_t buf[512];
        size_t bl = sizeof buf;
        hre_ledger_status s;
        memset(&p, 0, sizeof p);
        if ((rc = key_wire(w->nodes[i].id, p.node_key)) != HRE_OK) goto out;
        rc = hre_contract_build_register_node(&tx, w->net_id, w->auth, w->admin_nonce++, t, &p);
        if (rc == HRE_OK) rc = hre_tx_encode(tx, buf, &bl);
        hre_tx_free(tx);
        if (rc == HRE_OK) rc = hre_ledger_submit_tx(l, NULL, &s, buf, bl, t);
        if (rc != HRE_OK) goto out;
    }
    if ((rc = hre_ledger_mine(l, NULL, NULL, t, HRE_POW_ALL_NONCES, 0)) != HRE_OK) goto out;
    (void)hre_ledger_block_by_height(l, NULL, &len, 1);
    w->setup = malloc(len);
    w->setup_len = len;
    rc = w->setup ? hre_ledger_block_by_height(l, w->setup, &w->setup_len, 1) : HRE_ENOMEM;
out:
    hre_ledger_close(l);
    hre_storage_free(st);
    return rc;
#else
    (void)w;
    (void)key_wire;
    return HRE_OK;
#endif
}

int sim_can_relay(void)
{
#ifdef HRE_KIND_REGISTER_NODE
    return 1;
#else
    return 0;
#endif
}

void sim_config_default(sim_config *c, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->seed = seed;
    c->honest = 13;
    c->byzantine = 3;
    c->miners = 3;
    c->target_outbound = 3;
    c->fault_ms = 30000;
    c->settle_ms = 60000;
    c->block_ms = 5000;
    c->tx_ms = 700;
    c->crashes = 3;
    c->partitions = 1;
    c->net_faults = 1;
    c->delay_min_ms = 1;
    c->delay_max_ms = 30;
}

static int world_init(world *w, const sim_config *cfg, sim_result *res)
{
    hre_hub_options ho = HRE_HUB_OPTIONS_INIT;
    hre_hub_faults hf = HRE_HUB_FAULTS_INIT;
    uint64_t sm;
    int i, rc;
    memset(w, 0, sizeof *w);
    memset(res, 0, sizeof *res);
    res->ok = 1;
    w->cfg = *cfg;
    w->res = res;
    if (cfg->honest < 1 || cfg->honest + cfg->byzantine > SIM_MAX_NODES) {
        fail(w, "bad node counts");
        return -1;
    }
    sim_rand_reseed(cfg->seed);
    sm = cfg->seed ^ 0x51a0d71f00000000ull;
    for (i = 0; i < 4; i++) {
        uint64_t z = (sm += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        w->rng[i] = z ^ (z >> 31);
    }
    /* the network */
    (void)hre_chain_params_init(&w->params, HRE_CHAIN_PARAMS_VERSION);
    if (hre_pow_target_from_compact(w->params.pow_limit, NULL, NULL, EASY) != HRE_OK) {
        fail(w, "pow limit");
        return -1;
    }
    w->params.target_spacing = 600;
    w->params.retarget_interval = 1000000;
    w->params.max_block_size = 1000000;
    w->params.max_tx_count = 10000;
    w->params.genesis.version = 1;
    w->params.genesis.time = (uint32_t)(T0_MS / 1000);
    w->params.genesis.bits = EASY;
    if (hre_pow_mine(&w->params.genesis, NULL, 1000000) != HRE_OK ||
        hre_header_hash(&w->params.genesis, w->net_id) != HRE_OK ||
        hre_key_generate(&w->auth, HRE_CURVE_P256) != HRE_OK || key_wire(w->auth, w->auth_wire) != HRE_OK) {
        fail(w, "network setup: %s", hre_error_detail());
        return -1;
    }
    /* the hub */
    hub_log_on = cfg->verbose > 1;
    hf.delay_min_ms = cfg->delay_min_ms;
    hf.delay_max_ms = cfg->delay_max_ms;
    ho.seed = cfg->seed;
    ho.start_ms = T0_MS;
    ho.faults = &hf;
    ho.log_fn = cfg->verbose > 1 ? hub_log : NULL;
    if (hre_hub_new(&w->hub, &ho) != HRE_OK) {
        fail(w, "hre_hub_new: %s", hre_error_detail());
        return -1;
    }
    w->t_start = T0_MS;
    w->n_honest = cfg->honest;
    w->n = cfg->honest + cfg->byzantine;
    for (i = 0; i < w->n; i++) {
        snode *s = &w->nodes[i];
        s->w = w;
        s->idx = i;
        s->byz = i >= cfg->honest;
        s->armed = NOT_ARMED;
        snprintf(s->addr, sizeof s->addr, s->byz ? "byz%d" : "node%d", s->byz ? i - cfg->honest : i);
        if (hre_hub_endpoint_add(w->hub, &s->ep, s->addr) != HRE_OK || s->ep != (uint32_t)i) {
            fail(w, "hre_hub_endpoint_add");
            return -1;
        }
        if (!s->byz && hre_key_generate(&s->id, HRE_CURVE_P256) != HRE_OK) {
            fail(w, "identity key");
            return -1;
        }
        s->miner = !s->byz && i < cfg->miners;
    }
    if ((rc = make_setup_block(w)) != HRE_OK) {
        fail(w, "setup block: %d (%s)", rc, hre_error_detail());
        return -1;
    }
    /* honest nodes: a disk, a ledger on power-loss storage, the setup block, the node */
    for (i = 0; i < w->n_honest && !w->failed; i++) {
        snode *s = &w->nodes[i];
        if (hre_storage_memory_new(&s->inner, 0) != HRE_OK || open_ledger(s) != HRE_OK) {
            fail(w, "node %s: ledger: %s", s->addr, hre_error_detail());
            return -1;
        }
        if (w->setup) {
            hre_ledger_status st;
            if (hre_ledger_submit_block(s->l, &st, w->setup, w->setup_len, T0_MS / 1000 + 1) != HRE_OK) {
                fail(w, "node %s: setup block: %s", s->addr, hre_error_detail());
                return -1;
            }
        }
        if (i == 0 && hre_ledger_fingerprint(s->l, w->fingerprint) != HRE_OK) {
            fail(w, "fingerprint");
            return -1;
        }
        if (node_start(s) != HRE_OK) {
            fail(w, "node %s: hre_node_new: %s", s->addr, hre_error_detail());
            return -1;
        }
    }
    /* byzantine peers */
    for (i = w->n_honest; i < w->n; i++) {
        snode *s = &w->nodes[i];
        byz_host h;
        memset(&h, 0, sizeof h);
        h.ud = w;
        h.victim_tip = byz_victim_tip;
        h.invalid_add = byz_invalid_add;
        h.attack_sent = byz_attack_sent;
        h.rand = byz_rand;
        if (hre_hub_endpoint_transport(w->hub, &s->tm, &s->tud, s->ep) != HRE_OK) return -1;
        h.tm = s->tm;
        h.tud = s->tud;
        h.params = &w->params;
        memcpy(h.network_id, w->net_id, 32);
        memcpy(h.fingerprint, w->fingerprint, 32);
        h.verbose = cfg->verbose;
        h.name = s->addr;
        if (byz_new(&s->b, &h) != HRE_OK) {
            fail(w, "byzantine peer");
            return -1;
        }
    }
    return 0;
}

static void world_free(world *w)
{
    int i;
    for (i = 0; i < w->n; i++) {
        snode *s = &w->nodes[i];
        hre_node_free(s->node);
        hre_ledger_close(s->l);
        hre_storage_free(s->pl);
        hre_storage_free(s->inner);
        hre_key_free(s->id);
        byz_free(s->b);
    }
    hre_key_free(w->auth);
    hre_hub_free(w->hub);
    free(w->setup);
    free(w->invalid);
    free(w->invalid_kind);
    free(w->remote);
    free(w->rtx);
}

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The fault schedule of the fault phase, all drawn from the seed. */
static void schedule_faults(world *w)
{
    const sim_config *c = &w->cfg;
    uint64_t t0 = w->t_start, span = c->fault_ms;
    int i;
    if (c->net_faults) {
        hre_hub_faults f = HRE_HUB_FAULTS_INIT;
        f.drop = (uint32_t)wbelow(w, 11);
        f.duplicate = (uint32_t)wbelow(w, 11);
        f.reorder = (uint32_t)wbelow(w, 21);
        f.corrupt = (uint32_t)wbelow(w, 6);
        f.split = (uint32_t)wbelow(w, 301);
        f.reset = (uint32_t)wbelow(w, 4);
        f.connect_fail = (uint32_t)wbelow(w, 101);
        f.delay_min_ms = c->delay_min_ms;
        f.delay_max_ms = c->delay_max_ms + (uint32_t)wbelow(w, 100);
        if (hre_hub_faults_set(w->hub, &f) != HRE_OK) fail(w, "faults");
    }
    if (c->partitions && span > 0) {
        hre_hub_partition p = HRE_HUB_PARTITION_INIT;
        uint32_t side[SIM_MAX_NODES];
        int k;
        /* one honest node isolated */
        side[0] = (uint32_t)wbelow(w, (uint64_t)w->n_honest);
        p.side = side;
        p.side_count = 1;
        p.start_ms = t0 + wbelow(w, span / 2);
        p.end_ms = p.start_ms + 2000 + wbelow(w, span / 3);
        if (hre_hub_partition_add(w->hub, NULL, &p) != HRE_OK) fail(w, "partition");
        /* the network split in halves (byzantine peers on both sides) */
        for (k = 0, i = 0; i < w->n; i++)
            if (wbelow(w, 2)) side[k++] = (uint32_t)i;
        if (k == 0) side[k++] = 0;
        p.side_count = (size_t)k;
        p.start_ms = t0 + wbelow(w, span / 2);
        p.end_ms = p.start_ms + 2000 + wbelow(w, span / 2);
        if (hre_hub_partition_add(w->hub, NULL, &p) != HRE_OK) fail(w, "partition");
        /* one node cut off one way */
        side[0] = (uint32_t)wbelow(w, (uint64_t)w->n_honest);
        p.side_count = 1;
        p.cut = wbelow(w, 2) ? HRE_HUB_CUT_OUT : HRE_HUB_CUT_IN;
        p.start_ms = t0 + wbelow(w, span / 2);
        p.end_ms = p.start_ms + 2000 + wbelow(w, span / 3);
        if (hre_hub_partition_add(w->hub, NULL, &p) != HRE_OK) fail(w, "partition");
    }
    for (i = 0; i < c->crashes && span > 1000; i++)
        sched(w, t0 + 1000 + wbelow(w, span - 1000), (int)wbelow(w, (uint64_t)w->n_honest), U_CRASH, 0);
    for (i = 0; i < w->n_honest; i++)
        if (w->nodes[i].miner) sched(w, t0 + 500 + wexp(w, c->block_ms), i, U_MINE, 0);
    if (c->tx_ms) sched(w, t0 + 300, 0, U_TX, 0);
    for (i = w->n_honest; i < w->n; i++) sched(w, t0 + 200 + wbelow(w, 2000), i, U_DIAL, 0);
}

/* Each honest node: height, tip, ready peers, mempool size. */
static void describe(world *w, char *out, size_t cap)
{
    size_t pos = 0;
    int i;
    out[0] = 0;
    for (i = 0; i < w->n_honest && pos + 64 < cap; i++) {
        snode *s = &w->nodes[i];
        uint64_t h = 0;
        uint8_t tip[32] = { 0 };
        char hx[17];
        hre_node_stats st = HRE_NODE_STATS_INIT;
        if (!s->up) {
            pos += (size_t)snprintf(out + pos, cap - pos, "%s down; ", s->addr);
            continue;
        }
        (void)hre_ledger_tip(s->l, &h, tip);
        (void)hre_node_stats_get(s->node, &st);
        hexs(hx, tip);
        pos += (size_t)snprintf(out + pos, cap - pos, "%s h%llu %.6s p%u m%zu; ", s->addr,
                                (unsigned long long)h, hx, st.peers_ready,
                                hre_ledger_mempool_count(s->l));
    }
}

int sim_run(const sim_config *cfg, sim_result *res)
{
    world w;
    hre_hub_stats hs = HRE_HUB_STATS_INIT;
    uint64_t t0 = wall_us();
    if (world_init(&w, cfg, res) == 0) {
        w.t_heal = w.t_start + cfg->fault_ms;
        w.t_end = w.t_heal + cfg->settle_ms;
        schedule_faults(&w);
        sched(&w, w.t_heal, 0, U_HEAL, 0);
        run_loop(&w, w.t_end);
        if (!w.failed && !w.stop) {
            char state[768];
            describe(&w, state, sizeof state);
            fail(&w, "LIVENESS: no convergence within %llu ms after the faults stopped%s; %s",
                 (unsigned long long)cfg->settle_ms,
                 w.tips_agree ? " (tips and states agree, the mempools do not)" : "", state);
        }
        if (!w.failed) final_oracle(&w);
    }
    if (w.hub) {
        (void)hre_hub_stats_get(w.hub, &hs);
        (void)hre_hub_trace_digest(w.hub, res->trace);
        res->end_ms = hs.now - T0_MS;
        res->dropped = hs.dropped;
        res->duplicated = hs.duplicated;
        res->reordered = hs.reordered;
        res->corrupted = hs.corrupted;
        res->split = hs.split;
        res->resets = hs.resets;
        res->cut = hs.cut;
    }
    if (res->tip_height == 0 && w.n_honest && w.nodes[0].l)
        (void)hre_ledger_tip(w.nodes[0].l, &res->tip_height, NULL);
    world_free(&w);
    res->wall_us = wall_us() - t0;
    return res->ok;
}

/* ------------------------------------------------------------------------ */
/* Relay measurement                                                         */
/* ------------------------------------------------------------------------ */

/* The largest hop count from origin over ready peer connections. */
static int eccentricity(world *w, int origin)
{
    int dist[SIM_MAX_NODES], queue[SIM_MAX_NODES], qh = 0, qt = 0, i, best = 0;
    for (i = 0; i < w->n; i++) dist[i] = -1;
    dist[origin] = 0;
    queue[qt++] = origin;
    while (qh < qt) {
        int u = queue[qh++];
        uint64_t conns[128];
        size_t n = 128, k;
        if (!w->nodes[u].up || hre_node_peer_list(w->nodes[u].node, conns, &n) != HRE_OK) continue;
        for (k = 0; k < n; k++) {
            hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
            int v = remote_of(w, conns[k]);
            if (v < 0 || dist[v] >= 0) continue;
            if (hre_node_peer_info_get(w->nodes[u].node, &pi, conns[k]) != HRE_OK ||
                pi.state != HRE_NODE_PEER_READY)
                continue;
            dist[v] = dist[u] + 1;
            if (dist[v] > best) best = dist[v];
            queue[qt++] = v;
        }
    }
    for (i = 0; i < w->n_honest; i++)
        if (dist[i] < 0) return -1;
    return best;
}

int sim_relay(const sim_config *cfg, int n, uint64_t gap_ms, uint64_t wait_ms, uint64_t *lat_ms,
              int *hops, char *why, size_t why_len)
{
    world w;
    sim_result res;
    sim_config c = *cfg;
    int i, ok = 1;
    uint64_t start;
    c.byzantine = 0;
    c.net_faults = 0;
    c.partitions = 0;
    c.crashes = 0;
    c.tx_ms = 0;
    if (world_init(&w, &c, &res) != 0) {
        snprintf(why, why_len, "%s", res.why);
        world_free(&w);
        return 0;
    }
    w.t_heal = UINT64_MAX;
    w.settling = 1;   /* no fault phase: nothing mines, nothing crashes */
    w.rtx = calloc((size_t)n, sizeof *w.rtx);
    w.n_rtx = n;
    /* let the network form: every node with its outbound connections */
    start = w.t_start + 5000;
    run_loop(&w, start);
    for (i = 0; i < n && !w.failed; i++) {
        uint64_t at = start + (uint64_t)i * gap_ms;
        run_loop(&w, at);
        hops[i] = -1;
        sched(&w, at, 0, U_RELAY_TX, (uint32_t)i);
        run_loop(&w, at);   /* the submission itself */
        {
            int origin = -1, k;
            for (k = 0; k < w.n_honest; k++)
                if (w.rtx[i].seen[k]) origin = k;
            if (origin >= 0) hops[i] = eccentricity(&w, origin);
        }
    }
    run_loop(&w, start + (uint64_t)n * gap_ms + wait_ms);
    if (w.failed) {
        snprintf(why, why_len, "%s", res.why);
        ok = 0;
    }
    for (i = 0; i < n; i++)
        lat_ms[i] = w.rtx[i].done_at ? w.rtx[i].done_at - w.rtx[i].at : UINT64_MAX;
    world_free(&w);
    return ok;
}
