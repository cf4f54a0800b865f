/*
 * hub_host: the in-process host glue for libhre nodes on the hub, shared by
 * examples/vault_flow.c and bench/bench_exchange.c. What it does and how to
 * use it: hub_host.h.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include "hub_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hre/sys/transport.h>

#define EASY 0x207fffffu   /* the easiest proof of work: blocks mine at once */

void hub_die(const char *what, int rc)
{
    fprintf(stderr, "%s: %s failed (%d): %s\n", hub_prog, what, rc, hre_error_detail());
    exit(1);
}

hre_key *hub_gen(void)
{
    hre_key *k = NULL;
    HUB_CK(hre_key_generate(&k, HRE_CURVE_P256));
    return k;
}

void hub_wire(uint8_t out[34], const hre_key *k)
{
    hre_pubkey *pk = NULL;
    HUB_CK(hre_key_pubkey(k, &pk));
    HUB_CK(hre_pubkey_serialize_wire(pk, out));
    hre_pubkey_free(pk);
}

void hub_addr(uint8_t out[32], const hre_key *k)
{
    uint8_t w[34];
    hub_wire(w, k);
    HUB_CK(hre_contract_address(out, w));
}

static void on_node_event(void *ud, const hre_node_event *ev)
{
    hub_host *h = ud;
    if (h->x && hre_vault_xch_handle_node_event(h->x, ev) != HRE_OK) hub_die("handle_node_event", -1);
    /* a holder forwards its ledger's contract events to its vault, so an
     * ERASE_RECORD on the chain shreds the document at once */
    if (h->vault && ev->type == HRE_NODE_EVENT_LEDGER && ev->ledger->type == HRE_LEDGER_EVENT_CONTRACT &&
        hre_vault_handle_event(h->vault, ev->ledger->contract) != HRE_OK)
        hub_die("hre_vault_handle_event", -1);
}

void hub_net_start(hub_net *n, uint64_t t0_ms, uint64_t seed, const char *const names[HUB_HOSTS],
                   const hre_node_options *base)
{
    hre_hub_options ho = HRE_HUB_OPTIONS_INIT;
    memset(n, 0, sizeof *n);
    n->auth = hub_gen();
    HUB_CK(hre_chain_params_init(&n->params, HRE_CHAIN_PARAMS_VERSION));
    HUB_CK(hre_pow_target_from_compact(n->params.pow_limit, NULL, NULL, EASY));
    n->params.target_spacing = 600;
    n->params.retarget_interval = 1000000;
    n->params.max_block_size = 4u << 20;
    n->params.max_tx_count = 100000;
    n->params.genesis.version = 1;
    n->params.genesis.time = (uint32_t)(t0_ms / 1000 - 86400);
    n->params.genesis.bits = EASY;
    HUB_CK(hre_pow_mine(&n->params.genesis, NULL, 1000000));
    HUB_CK(hre_header_hash(&n->params.genesis, n->id));
    ho.seed = seed;
    ho.start_ms = t0_ms;
    HUB_CK(hre_hub_new(&n->hub, &ho));
    for (int i = 0; i < HUB_HOSTS; i++) {
        hub_host *h = &n->h[i];
        hre_ledger_options lo;
        hre_node_options no;
        const hre_transport_methods *tm = NULL;
        void *tud = NULL;
        if (base) no = *base;
        else HUB_CK(hre_node_options_init(&no, HRE_NODE_OPTIONS_VERSION));
        h->net = n;
        h->name = names[i];
        HUB_CK(hre_hub_endpoint_add(n->hub, &h->ep, names[i]));
        HUB_CK(hre_storage_memory_new(&h->st, 0));
        HUB_CK(hre_ledger_options_init(&lo, HRE_LEDGER_OPTIONS_VERSION));
        lo.storage = h->st;
        lo.params = &n->params;
        hub_wire(lo.authority_key, n->auth);
        lo.snapshot_interval = HRE_LEDGER_SNAPSHOTS_OFF;
        HUB_CK(hre_ledger_open(&h->l, &lo));
        h->id = hub_gen();
        HUB_CK(hre_hub_endpoint_transport(n->hub, &tm, &tud, h->ep));
        no.ledger = h->l;
        no.identity = h->id;
        no.transport = tm;
        no.transport_user_data = tud;
        no.on_event = on_node_event;
        no.user_data = h;
        HUB_CK(hre_node_new(&h->node, &no, hre_hub_now(n->hub)));
    }
}

void hub_net_free(hub_net *n)
{
    for (int i = 0; i < HUB_HOSTS; i++) {
        hre_vault_xch_free(n->h[i].x);
        hre_node_free(n->h[i].node);
        hre_ledger_close(n->h[i].l);
        hre_storage_free(n->h[i].st);
        hre_key_free(n->h[i].id);
    }
    hre_hub_free(n->hub);
    hre_key_free(n->auth);
    memset(n, 0, sizeof *n);
}

void hub_rearm(hub_host *h)
{
    hre_hub *hub = h->net->hub;
    uint64_t when = UINT64_MAX, now = hre_hub_now(hub);
    HUB_CK(hre_node_next_timer(h->node, &when));
    if (when != UINT64_MAX && when <= now) when = now + 1;
    HUB_CK(hre_hub_timer_set(hub, h->ep, when));
}

int hub_run(hub_net *n, int (*cond)(void *arg), void *arg, uint64_t limit_ms)
{
    uint64_t end = hre_hub_now(n->hub) + limit_ms;
    while (!cond || !cond(arg)) {
        hre_hub_event ev = HRE_HUB_EVENT_INIT;
        hub_host *h;
        uint64_t now;
        int rc = hre_hub_next(n->hub, &ev, end);
        if (rc == HRE_ENOTFOUND) return cond ? cond(arg) : 1;
        if (rc != HRE_OK) hub_die("hre_hub_next", rc);
        h = &n->h[ev.endpoint];
        now = ev.time;
        switch (ev.type) {
        case HRE_HUB_EVENT_CONNECTED:
            rc = hre_node_peer_connected(h->node, ev.conn, ev.address,
                                         (ev.flags & HRE_HUB_OUTBOUND) ? HRE_NODE_PEER_OUTBOUND : 0, now);
            if (rc != HRE_OK) (void)hre_hub_close(n->hub, h->ep, ev.conn);
            break;
        case HRE_HUB_EVENT_DATA:
            rc = hre_node_peer_recv(h->node, ev.conn, ev.data, ev.len, now);
            if (rc != HRE_OK && rc != HRE_EPROTO && rc != HRE_ENOTFOUND) hub_die("peer_recv", rc);
            break;
        case HRE_HUB_EVENT_WRITABLE: (void)hre_node_peer_writable(h->node, ev.conn, now); break;
        case HRE_HUB_EVENT_CLOSED: (void)hre_node_peer_closed(h->node, ev.conn, now); break;
        case HRE_HUB_EVENT_TIMER:
            HUB_CK(hre_node_tick(h->node, now));
            if (h->x) HUB_CK(hre_vault_xch_tick(h->x, now));
            break;
        default: break;
        }
        hub_rearm(h);
    }
    return 1;
}

uint64_t hub_nonce(hub_net *n, const hre_key *k)
{
    uint8_t w[34];
    uint64_t nonce = 0;
    hub_wire(w, k);
    HUB_CK(hre_ledger_next_nonce(n->h[0].l, &nonce, w, 34));
    return nonce;
}

uint64_t hub_secs(const hub_net *n) { return hre_hub_now(n->hub) / 1000; }

void hub_submit(hub_net *n, hre_tx *tx, uint8_t txid[32])
{
    static uint8_t b[HRE_TX_MAX_LEN];
    size_t len = sizeof b;
    hre_ledger_status st;
    if (!tx) hub_die("build tx", -1);
    if (txid) HUB_CK(hre_tx_txid(tx, txid));
    HUB_CK(hre_tx_encode(tx, b, &len));
    HUB_CK(hre_node_submit_tx(n->h[0].node, NULL, &st, b, len, hre_hub_now(n->hub)));
    if (st != HRE_LEDGER_ACCEPTED_TX) hub_die("submit: not accepted", (int)st);
    hre_tx_free(tx);
    hub_rearm(&n->h[0]);
}

static int synced(void *arg)
{
    hub_net *n = arg;
    uint8_t a[32], b[32];
    HUB_CK(hre_ledger_tip(n->h[0].l, NULL, a));
    HUB_CK(hre_ledger_tip(n->h[1].l, NULL, b));
    return memcmp(a, b, 32) == 0;
}

void hub_mine(hub_net *n, int wait_sync)
{
    uint8_t hash[32];
    hre_ledger_status st;
    HUB_CK(hre_hub_schedule(n->hub, hre_hub_now(n->hub) + 1000, 0, 0));
    hub_run(n, NULL, NULL, 1000);
    HUB_CK(hre_node_mine(n->h[0].node, hash, &st, hre_hub_now(n->hub), HRE_POW_ALL_NONCES));
    if (st != HRE_LEDGER_CONNECTED) hub_die("mine", (int)st);
    hub_rearm(&n->h[0]);
    if (wait_sync && !hub_run(n, synced, n, 60000)) hub_die("sync", -1);
}

static int live(void *arg)
{
    hub_net *n = arg;
    hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
    uint64_t conns[4];
    size_t k = 4;
    if (hre_node_peer_list(n->h[1].node, conns, &k) != HRE_OK || k == 0) return 0;
    return hre_node_peer_info_get(n->h[1].node, &pi, conns[0]) == HRE_OK && pi.member == HRE_NODE_MEMBER_LIVE;
}

void hub_connect(hub_net *n)
{
    HUB_CK(hre_node_connect(n->h[1].node, NULL, n->h[0].name, hre_hub_now(n->hub)));
    hub_rearm(&n->h[1]);
    if (!hub_run(n, live, n, 60000)) hub_die("connect", -1);
    if (!hub_run(n, synced, n, 60000)) hub_die("sync", -1);
}

void hub_set_enc_key(hub_net *n, const hre_key *signer, uint8_t target_type, const uint8_t target[32],
                     const hre_key *enc_key)
{
    hre_set_enc_key_payload p;
    hre_tx *tx = NULL;
    p.target_type = target_type;
    memcpy(p.target, target, 32);
    hub_wire(p.enc_key, enc_key);
    HUB_CK(hre_contract_build_set_enc_key(&tx, n->id, signer, hub_nonce(n, signer), hub_secs(n), &p));
    hub_submit(n, tx, NULL);
}

void hub_sign_record(hub_net *n, const hre_key *signer, const uint8_t rec[32])
{
    hre_sign_record_payload p;
    hre_tx *tx = NULL;
    memcpy(p.record_id, rec, 32);
    HUB_CK(hre_contract_build_sign_record(&tx, n->id, signer, hub_nonce(n, signer), hub_secs(n), &p));
    hub_submit(n, tx, NULL);
}

void hub_xch_start(hub_net *n, hre_vault *vault, uint8_t holder_type, const uint8_t holder_id[32],
                   const hre_key *holder_key)
{
    hre_vault_xch_options xo = HRE_VAULT_XCH_OPTIONS_INIT;
    xo.node = n->h[0].node;
    xo.vault = vault;
    xo.holder_type = holder_type;
    memcpy(xo.holder_id, holder_id, 32);
    xo.holder_key = holder_key;
    HUB_CK(hre_vault_xch_new(&n->h[0].x, &xo));
    HUB_CK(hre_vault_xch_options_init(&xo, HRE_VAULT_XCH_OPTIONS_VERSION));
    xo.node = n->h[1].node;
    HUB_CK(hre_vault_xch_new(&n->h[1].x, &xo));
}

static int fetch_done(void *arg)
{
    int done = 0, code = 0;
    HUB_CK(hre_vault_fetch_status(arg, &done, &code, NULL, NULL));
    return done;
}

int hub_fetch_wait(hub_net *n, hre_vault_fetch *f, uint64_t limit_ms)
{
    int done = 0, code = 0;
    hub_rearm(&n->h[1]);
    if (!hub_run(n, fetch_done, f, limit_ms)) hub_die("fetch: no answer", -1);
    HUB_CK(hre_vault_fetch_status(f, &done, &code, NULL, NULL));
    return code;
}
