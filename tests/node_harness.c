/* The node tests' loopback (see node_harness.h). Tests only. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_harness.h"
#include "testutil.h"

void tn_key_wire(hre_key *k, uint8_t wire[34])
{
    hre_pubkey *pk = NULL;
    HRE_T_OK(hre_key_pubkey(k, &pk));
    HRE_T_OK(hre_pubkey_serialize_wire(pk, wire));
    hre_pubkey_free(pk);
}

void tn_net_init(tn_net *t, uint64_t max_block_size)
{
    memset(t, 0, sizeof *t);
    HRE_T_OK(hre_chain_params_init(&t->params, HRE_CHAIN_PARAMS_VERSION));
    HRE_T_OK(hre_pow_target_from_compact(t->params.pow_limit, NULL, NULL, TN_EASY));
    t->params.target_spacing = 600;
    t->params.retarget_interval = 1000000;
    t->params.max_block_size = max_block_size ? max_block_size : 4u << 20;
    t->params.max_tx_count = 100000;
    t->params.genesis.version = 1;
    t->params.genesis.time = (uint32_t)(TN_T0_MS / 1000 - 86400);
    t->params.genesis.bits = TN_EASY;
    HRE_T_OK(hre_pow_mine(&t->params.genesis, NULL, 1000000));
    HRE_T_OK(hre_header_hash(&t->params.genesis, t->id));
    HRE_T_OK(hre_key_generate(&t->auth, HRE_CURVE_P256));
    tn_key_wire(t->auth, t->auth_wire);
    t->now = TN_T0_MS;
    t->next_conn = 100;
    t->chunk = 65536;   /* a socket read's worth per delivery */
}

static tn_ep *ep_of_node(tn_net *t, int node, uint64_t conn)
{
    int i = tn_ep_of(t, node, conn);
    return i < 0 ? NULL : &t->eps[i];
}

int tn_ep_of(tn_net *t, int node, uint64_t conn)
{
    int i;
    for (i = 0; i < TN_MAX_EPS; i++)
        if (t->eps[i].used && t->eps[i].node == node && t->eps[i].conn == conn && !t->eps[i].closed)
            return i;
    return -1;
}

static void q_put(tn_ep *e, const uint8_t *d, size_t len)
{
    if (e->qoff && e->qoff == e->qlen)
        e->qoff = e->qlen = 0;
    if (e->qoff > (1u << 20) && e->qoff > e->qlen / 2) {
        memmove(e->q, e->q + e->qoff, e->qlen - e->qoff);
        e->qlen -= e->qoff;
        e->qoff = 0;
    }
    if (e->qlen + len > e->qcap) {
        size_t nc = e->qcap ? e->qcap : 4096;
        while (nc < e->qlen + len)
            nc *= 2;
        e->q = realloc(e->q, nc);
        ck_assert_ptr_nonnull(e->q);
        e->qcap = nc;
    }
    memcpy(e->q + e->qlen, d, len);
    e->qlen += len;
}

/* transport methods: user_data is the tn_node */
static int t_send(void *ud, uint64_t conn, const uint8_t *data, size_t len, size_t *sent)
{
    tn_node *n = ud;
    tn_ep *e = ep_of_node(n->net, n->idx, conn);
    size_t k = len;
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_gt(len, 0);
    if (n->eagain) {
        e->blocked = 1;
        return HRE_EAGAIN;
    }
    if (n->send_limit && k > n->send_limit)
        k = n->send_limit;
    q_put(e, data, k);
    *sent = k;
    if (k < len)
        e->blocked = 1;
    return HRE_OK;
}

static int new_ep(tn_net *t)
{
    int i;
    for (i = 0; i < TN_MAX_EPS; i++)
        if (!t->eps[i].used) {
            memset(&t->eps[i], 0, sizeof t->eps[i]);
            t->eps[i].used = 1;
            return i;
        }
    ck_abort_msg("harness: out of endpoints");
    return -1;
}

static tn_node *by_name(tn_net *t, const char *name)
{
    int i;
    for (i = 0; i < t->n_nodes; i++)
        if (t->nodes[i].node && strcmp(t->nodes[i].name, name) == 0)
            return &t->nodes[i];
    return NULL;
}

static void link_eps(tn_net *t, int a, int ai, int b, int bi, unsigned int aflags)
{
    t->eps[a].node = ai;
    t->eps[a].conn = t->next_conn++;
    t->eps[a].other = b;
    t->eps[a].flags = aflags;
    t->eps[a].connected_pending = ai >= 0;
    t->eps[b].node = bi;
    t->eps[b].conn = t->next_conn++;
    t->eps[b].other = a;
    t->eps[b].flags = aflags ? 0 : HRE_NODE_PEER_OUTBOUND;
    t->eps[b].connected_pending = bi >= 0;
}

static int t_connect(void *ud, uint64_t *conn, const char *address)
{
    tn_node *n = ud;
    tn_node *b = by_name(n->net, address);
    int ea, eb;
    if (!b)
        return HRE_EIO;
    ea = new_ep(n->net);
    eb = new_ep(n->net);
    link_eps(n->net, ea, n->idx, eb, b->idx, HRE_NODE_PEER_OUTBOUND);
    snprintf(n->net->eps[ea].addr, sizeof n->net->eps[ea].addr, "%s", address);
    snprintf(n->net->eps[eb].addr, sizeof n->net->eps[eb].addr, "%s-in%llu", n->name,
             (unsigned long long)n->net->eps[ea].conn);
    *conn = n->net->eps[ea].conn;
    return HRE_OK;
}

static void t_close(void *ud, uint64_t conn, int reason)
{
    tn_node *n = ud;
    tn_ep *e = ep_of_node(n->net, n->idx, conn);
    (void)reason;
    ck_assert_ptr_nonnull(e);
    e->closed = 1;
    e->qlen = e->qoff = 0;   /* the node dropped its queue; the host flushes nothing more */
}

static void on_event(void *ud, const hre_node_event *ev)
{
    tn_node *n = ud;
    tn_event *e;
    ck_assert_uint_eq(ev->version, HRE_NODE_EVENT_VERSION);
    ck_assert_ptr_nonnull(ev->detail);
    if (ev->type == HRE_NODE_EVENT_LEDGER) {
        ck_assert_ptr_nonnull(ev->ledger);
        if (ev->ledger->type == HRE_LEDGER_EVENT_BLOCK_CONNECTED)
            n->ledger_connected++;
        if (ev->ledger->type == HRE_LEDGER_EVENT_BLOCK_DISCONNECTED)
            n->ledger_disconnected++;
        return;
    }
    if (n->n_ev == n->cap_ev) {
        n->cap_ev = n->cap_ev ? n->cap_ev * 2 : 64;
        n->ev = realloc(n->ev, n->cap_ev * sizeof *n->ev);
        ck_assert_ptr_nonnull(n->ev);
    }
    e = &n->ev[n->n_ev++];
    memset(e, 0, sizeof *e);
    e->type = ev->type;
    e->conn = ev->conn;
    e->reason = ev->reason;
    e->discouraged = ev->discouraged;
    e->member = ev->member;
    memcpy(e->hash, ev->hash, 32);
    snprintf(e->detail, sizeof e->detail, "%s", ev->detail);
    if (getenv("HRE_TN_VERBOSE"))
        fprintf(stderr, "[%s] event %u conn %llu reason %s: %s\n", n->name, ev->type,
                (unsigned long long)ev->conn, hre_node_reason_name(ev->reason), ev->detail);
}

static hre_transport_methods g_tm = { HRE_TRANSPORT_METHODS_VERSION, t_send, t_connect, t_close };
static hre_transport_methods g_tm_pull = { HRE_TRANSPORT_METHODS_VERSION, NULL, t_connect, t_close };

static void open_ledger(tn_node *n)
{
    hre_ledger_options o;
    HRE_T_OK(hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    o.storage = n->st;
    o.params = &n->net->params;
    memcpy(o.authority_key, n->net->auth_wire, 34);
    o.verify_threads = n->verify_threads;
    o.snapshot_interval = HRE_LEDGER_SNAPSHOTS_OFF;
    HRE_T_OK(hre_ledger_open(&n->l, &o));
}

void tn_restart(tn_node *n)
{
    ck_assert_ptr_nonnull(n->st);
    ck_assert_ptr_null(n->l);
    open_ledger(n);
    n->opts.ledger = n->l;
    tn_start(n);
}

tn_node *tn_node_add(tn_net *t, const char *name, hre_key *identity, hre_storage *st)
{
    tn_node *n;
    ck_assert_int_lt(t->n_nodes, TN_MAX_NODES);
    n = &t->nodes[t->n_nodes];
    memset(n, 0, sizeof *n);
    n->net = t;
    n->idx = t->n_nodes++;
    snprintf(n->name, sizeof n->name, "%s", name);
    n->id = identity;
    if (st) {
        n->st = st;
    } else {
        HRE_T_OK(hre_storage_memory_new(&n->st, 0));
    }
    open_ledger(n);
    HRE_T_OK(hre_node_options_init(&n->opts, HRE_NODE_OPTIONS_VERSION));
    n->opts.ledger = n->l;
    n->opts.identity = identity;
    n->opts.transport = &g_tm;
    n->opts.transport_user_data = n;
    n->opts.on_event = on_event;
    n->opts.user_data = n;
    return n;
}

void tn_start(tn_node *n)
{
    if (n->pull)
        n->opts.transport = &g_tm_pull;
    HRE_T_OK(hre_node_new(&n->node, &n->opts, n->net->now));
}

void tn_stop(tn_node *n, int keep_storage)
{
    tn_net *t = n->net;
    int i;
    /* its connections die with it: the other ends hear of it */
    for (i = 0; i < TN_MAX_EPS; i++) {
        tn_ep *e = &t->eps[i];
        if (e->used && e->node == n->idx && !e->closed) {
            e->closed = 1;
            e->qlen = e->qoff = 0;
        }
    }
    hre_node_free(n->node);
    n->node = NULL;
    hre_ledger_close(n->l);
    n->l = NULL;
    if (!keep_storage) {
        hre_storage_free(n->st);
        n->st = NULL;
    }
    free(n->ev);
    n->ev = NULL;
    n->n_ev = n->cap_ev = 0;
}

void tn_net_free(tn_net *t)
{
    int i;
    for (i = 0; i < t->n_nodes; i++) {
        tn_node *n = &t->nodes[i];
        if (n->node || n->l) {
            tn_stop(n, 0);
        } else {
            hre_storage_free(n->st);
            free(n->ev);
        }
    }
    for (i = 0; i < TN_MAX_EPS; i++)
        free(t->eps[i].q);
    hre_key_free(t->auth);
}

int tn_connect(tn_net *t, tn_node *a, tn_node *b)
{
    int ea = new_ep(t), eb = new_ep(t);
    link_eps(t, ea, a->idx, eb, b->idx, HRE_NODE_PEER_OUTBOUND);
    snprintf(t->eps[ea].addr, sizeof t->eps[ea].addr, "%s", b->name);
    snprintf(t->eps[eb].addr, sizeof t->eps[eb].addr, "%s-in%llu", a->name, (unsigned long long)t->eps[ea].conn);
    return ea;
}

int tn_raw_attach(tn_net *t, tn_node *n, void *raw, void (*fn)(void *, const uint8_t *, size_t),
                  unsigned int node_flags, const char *addr)
{
    int er = new_ep(t), en = new_ep(t);
    link_eps(t, en, n->idx, er, -1, node_flags);
    snprintf(t->eps[en].addr, sizeof t->eps[en].addr, "%s", addr ? addr : "raw");
    t->eps[er].raw = raw;
    t->eps[er].raw_fn = fn;
    /* the node learns of it now */
    t->eps[en].connected_pending = 0;
    {
        int rc = hre_node_peer_connected(n->node, t->eps[en].conn, t->eps[en].addr, node_flags, t->now);
        if (rc != HRE_OK)
            t->eps[en].closed = 1;
    }
    return er;
}

void tn_raw_write(tn_net *t, int ep, const uint8_t *d, size_t len)
{
    if (!t->eps[ep].closed)
        q_put(&t->eps[ep], d, len);
}

void tn_raw_close(tn_net *t, int ep)
{
    t->eps[ep].closed = 1;
}

int tn_raw_open(tn_net *t, int ep)
{
    return !t->eps[t->eps[ep].other].closed;
}

/* One pass: connects, closes, deliveries. Returns 1 if anything happened. */
static int pass(tn_net *t)
{
    int i, moved = 0;
    for (i = 0; i < TN_MAX_EPS; i++) {
        tn_ep *e = &t->eps[i];
        tn_node *n;
        if (!e->used || !e->connected_pending || e->node < 0)
            continue;
        e->connected_pending = 0;
        n = &t->nodes[e->node];
        if (!n->node || e->closed)
            continue;
        if (hre_node_peer_connected(n->node, e->conn, e->addr, e->flags, t->now) != HRE_OK) {
            e->closed = 1;
            e->told = 1;
        }
        moved = 1;
    }
    for (i = 0; i < TN_MAX_EPS; i++) {
        tn_ep *e = &t->eps[i], *o;
        if (!e->used)
            continue;
        o = &t->eps[e->other];
        if (e->qlen > e->qoff && !o->closed && !e->closed) {
            /* one chunk per endpoint per pass: connections interleave */
            size_t k = e->qlen - e->qoff;
            if (t->chunk && k > t->chunk)
                k = t->chunk;
            if (o->node >= 0) {
                tn_node *on = &t->nodes[o->node];
                /* receive back-pressure: a host stops reading while the node
                 * says so (its ticks drain the backlog) */
                if (on->node && !hre_node_peer_want_read(on->node, o->conn) &&
                    hre_node_peer_info_get(on->node, &(hre_node_peer_info){ .version = 1 }, o->conn) == HRE_OK)
                    continue;
                if (on->node) {
                    int rc = hre_node_peer_recv(on->node, o->conn, e->q + e->qoff, k, t->now);
                    ck_assert_msg(rc == HRE_OK || rc == HRE_EPROTO || rc == HRE_ENOTFOUND,
                                  "recv: %d %s", rc, hre_error_detail());
                }
            } else if (o->raw_fn) {
                o->raw_fn(o->raw, e->q + e->qoff, k);
            }
            e->qoff += k;
            t->delivered += k;
            moved = 1;
        } else if (e->qlen > e->qoff && o->closed) {
            e->qlen = e->qoff = 0;
        }
        if (e->blocked && e->node >= 0 && !e->closed && t->nodes[e->node].node && !t->nodes[e->node].eagain) {
            e->blocked = 0;
            HRE_T_OK(hre_node_peer_writable(t->nodes[e->node].node, e->conn, t->now));
            moved = 1;
        }
        if (e->closed && !e->told) {
            e->told = 1;
            if (o->node >= 0 && !o->closed && t->nodes[o->node].node) {
                int rc = hre_node_peer_closed(t->nodes[o->node].node, o->conn, t->now);
                ck_assert(rc == HRE_OK || rc == HRE_ENOTFOUND);
                o->closed = 1;
                o->told = 1;
            } else if (o->node < 0) {
                o->closed = 1;
                o->told = 1;
            }
            moved = 1;
        }
    }
    /* pull mode nodes: drain */
    for (i = 0; i < t->n_nodes; i++) {
        tn_node *n = &t->nodes[i];
        uint8_t buf[8192];
        size_t len;
        uint64_t conn;
        if (!n->node || !n->pull)
            continue;
        for (;;) {
            len = sizeof buf;
            if (hre_node_pull(n->node, &conn, buf, &len) != HRE_OK)
                break;
            {
                tn_ep *e = ep_of_node(t, n->idx, conn);
                ck_assert_ptr_nonnull(e);
                q_put(e, buf, len);
                moved = 1;
            }
        }
    }
    return moved;
}

int tn_run(tn_net *t, int (*cond)(tn_net *, void *), void *arg, uint64_t limit_ms)
{
    uint64_t end = t->now + limit_ms;
    int guard = 0;
    for (;;) {
        uint64_t next = UINT64_MAX;
        int i;
        if (cond && cond(t, arg))
            return 1;
        if (pass(t)) {
            if (++guard > 10000000)
                ck_abort_msg("harness: no quiescence");
            continue;
        }
        for (i = 0; i < t->n_nodes; i++) {
            uint64_t w;
            if (!t->nodes[i].node)
                continue;
            HRE_T_OK(hre_node_next_timer(t->nodes[i].node, &w));
            if (w < next)
                next = w;
        }
        if (next > end) {
            if (cond)
                return cond(t, arg);
            t->now = end;
            for (i = 0; i < t->n_nodes; i++)
                if (t->nodes[i].node)
                    HRE_T_OK(hre_node_tick(t->nodes[i].node, t->now));
            while (pass(t))
                ;
            return cond ? cond(t, arg) : 1;
        }
        if (next > t->now)
            t->now = next;
        for (i = 0; i < t->n_nodes; i++) {
            uint64_t w;
            if (!t->nodes[i].node)
                continue;
            HRE_T_OK(hre_node_next_timer(t->nodes[i].node, &w));
            if (w <= t->now)
                HRE_T_OK(hre_node_tick(t->nodes[i].node, t->now));
        }
    }
}

void tn_settle(tn_net *t, uint64_t limit_ms)
{
    (void)tn_run(t, NULL, NULL, limit_ms);
}

void tn_mine(tn_node *n, int count)
{
    int i;
    for (i = 0; i < count; i++) {
        uint8_t hash[32];
        hre_ledger_status st;
        n->net->now += 1000;
        HRE_T_OK(hre_node_mine(n->node, hash, &st, n->net->now, HRE_POW_ALL_NONCES));
        ck_assert_int_eq(st, HRE_LEDGER_CONNECTED);
    }
}

uint64_t tn_height(tn_node *n)
{
    uint64_t h = 0;
    HRE_T_OK(hre_ledger_tip(n->l, &h, NULL));
    return h;
}

void tn_tip(tn_node *n, uint8_t hash[32])
{
    HRE_T_OK(hre_ledger_tip(n->l, NULL, hash));
}

const tn_event *tn_find_event(const tn_node *n, unsigned int type, int reason)
{
    size_t i;
    for (i = 0; i < n->n_ev; i++)
        if (n->ev[i].type == type && (reason < 0 || n->ev[i].reason == reason))
            return &n->ev[i];
    return NULL;
}

size_t tn_count_events(const tn_node *n, unsigned int type, int reason)
{
    size_t i, k = 0;
    for (i = 0; i < n->n_ev; i++)
        if (n->ev[i].type == type && (reason < 0 || n->ev[i].reason == reason))
            k++;
    return k;
}

uint64_t tn_conn_at(tn_net *t, tn_node *at, tn_node *other)
{
    int i;
    for (i = 0; i < TN_MAX_EPS; i++) {
        tn_ep *e = &t->eps[i];
        if (e->used && !e->closed && e->node == at->idx && t->eps[e->other].node == other->idx)
            return e->conn;
    }
    return 0;
}

size_t tn_tx_patient(tn_net *t, uint8_t *out, size_t cap, hre_key *k, uint64_t nonce)
{
    hre_register_patient_payload p;
    hre_tx *tx = NULL;
    size_t len = cap;
    memset(&p, 0, sizeof p);
    HRE_T_OK(hre_contract_build_register_patient(&tx, t->id, k, nonce, t->now / 1000, &p));
    HRE_T_OK(hre_tx_encode(tx, out, &len));
    hre_tx_free(tx);
    return len;
}

void tn_submit(tn_node *n, const hre_tx *tx)
{
    uint8_t b[HRE_TX_MAX_LEN];
    size_t len = sizeof b;
    hre_ledger_status st;
    HRE_T_OK(hre_tx_encode(tx, b, &len));
    HRE_T_OK(hre_node_submit_tx(n->node, NULL, &st, b, len, n->net->now));
    ck_assert_int_eq(st, HRE_LEDGER_ACCEPTED_TX);
}

void tn_register_node(tn_node *n, hre_key *signer, uint64_t *nonce, hre_key *node_key)
{
    hre_register_node_payload p;
    hre_tx *tx = NULL;
    memset(&p, 0, sizeof p);
    tn_key_wire(node_key, p.node_key);
    HRE_T_OK(hre_contract_build_register_node(&tx, n->net->id, signer ? signer : n->net->auth,
                                              signer ? (*nonce)++ : n->net->auth_nonce++, n->net->now / 1000, &p));
    tn_submit(n, tx);
    hre_tx_free(tx);
}

void tn_register_org(tn_node *n, hre_key *admin, uint8_t org_id[32])
{
    hre_register_org_payload p;
    hre_tx *tx = NULL;
    memset(&p, 0, sizeof p);
    p.org_type = HRE_ORG_HOSPITAL;
    p.name = (const uint8_t *)"Second Hospital";
    p.name_len = 15;
    tn_key_wire(admin, p.admin_key);
    HRE_T_OK(hre_contract_build_register_org(&tx, n->net->id, n->net->auth, n->net->auth_nonce++,
                                             n->net->now / 1000, &p));
    HRE_T_OK(hre_tx_txid(tx, org_id));
    tn_submit(n, tx);
    hre_tx_free(tx);
}

int tn_in_mempool(tn_node *n, const uint8_t txid[32])
{
    return hre_ledger_mempool_contains(n->l, txid);
}
