/*
 * bench_exchange: end-to-end document fetch throughput between two nodes
 * through the in-process hub (sys/hub.h): a holder node with the vault and
 * a reader node, both live members, the reader fetching a record's
 * document (request, the holder's chain checks and re-wrap, the envelope in
 * chunks over the encrypted channel, the reader's opener), next to seal +
 * open of the same document alone (no node, no channel) and `openssl speed`
 * aes-256-gcm from the same run. Public API only.
 *
 * Environment (bench/README.md): HRE_BENCH_XCH_MIB (document size, MiB,
 * default 16), HRE_BENCH_ROUNDS (fetches and seal+open runs, best taken,
 * default 3), HRE_BENCH_SPEED_SECONDS, OPENSSL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>
#include <hre/vault.h>
#include <hre/sys/hub.h>
#include <hre/sys/transport.h>

#include "bench_util.h"

#define MIB (1024u * 1024u)
#define EASY 0x207fffffu
#define T0_MS 1700000000000ull

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_exchange: %s failed (%d): %s\n", what, rc, hre_error_detail());
    exit(1);
}
#define CK(call) do { int rc_ = (call); if (rc_ != HRE_OK) die(#call, rc_); } while (0)

typedef struct host {
    uint32_t ep;
    hre_storage *st;
    hre_ledger *l;
    hre_node *node;
    hre_key *id;
    hre_vault_xch *x;
} host;

static hre_hub *g_hub;
static host g_h[2];
static hre_chain_params g_params;
static hre_key *g_auth;
static uint8_t g_net[32];

static void on_node_event(void *ud, const hre_node_event *ev)
{
    host *h = ud;
    if (h->x && hre_vault_xch_handle_node_event(h->x, ev) != HRE_OK) die("handle_node_event", -1);
}

static void rearm(host *h)
{
    uint64_t when = UINT64_MAX, now = hre_hub_now(g_hub);
    CK(hre_node_next_timer(h->node, &when));
    if (when != UINT64_MAX && when <= now) when = now + 1;
    CK(hre_hub_timer_set(g_hub, h->ep, when));
}

/* Dispatch hub events until cond() or the virtual clock passes limit. */
static int run(int (*cond)(void *), void *arg, uint64_t limit_ms)
{
    uint64_t end = hre_hub_now(g_hub) + limit_ms;
    while (!cond || !cond(arg)) {
        hre_hub_event ev = HRE_HUB_EVENT_INIT;
        host *h;
        uint64_t now;
        int rc = hre_hub_next(g_hub, &ev, end);
        if (rc == HRE_ENOTFOUND) return cond ? cond(arg) : 1;
        if (rc != HRE_OK) die("hre_hub_next", rc);
        h = &g_h[ev.endpoint];
        now = ev.time;
        switch (ev.type) {
        case HRE_HUB_EVENT_CONNECTED:
            rc = hre_node_peer_connected(h->node, ev.conn, ev.address,
                                         (ev.flags & HRE_HUB_OUTBOUND) ? HRE_NODE_PEER_OUTBOUND : 0, now);
            if (rc != HRE_OK) (void)hre_hub_close(g_hub, h->ep, ev.conn);
            break;
        case HRE_HUB_EVENT_DATA:
            rc = hre_node_peer_recv(h->node, ev.conn, ev.data, ev.len, now);
            if (rc != HRE_OK && rc != HRE_EPROTO && rc != HRE_ENOTFOUND) die("peer_recv", rc);
            break;
        case HRE_HUB_EVENT_WRITABLE: (void)hre_node_peer_writable(h->node, ev.conn, now); break;
        case HRE_HUB_EVENT_CLOSED: (void)hre_node_peer_closed(h->node, ev.conn, now); break;
        case HRE_HUB_EVENT_TIMER:
            CK(hre_node_tick(h->node, now));
            if (h->x) CK(hre_vault_xch_tick(h->x, now));
            break;
        default: break;
        }
        rearm(h);
    }
    return 1;
}

static void wire(uint8_t out[34], const hre_key *k)
{
    hre_pubkey *pk = NULL;
    CK(hre_key_pubkey(k, &pk));
    CK(hre_pubkey_serialize_wire(pk, out));
    hre_pubkey_free(pk);
}

static void addr(uint8_t out[32], const hre_key *k)
{
    uint8_t w[34];
    wire(w, k);
    CK(hre_contract_address(out, w));
}

static hre_key *gen(void)
{
    hre_key *k = NULL;
    CK(hre_key_generate(&k, HRE_CURVE_P256));
    return k;
}

static uint64_t nonce_of(const hre_key *k)
{
    uint8_t w[34];
    uint64_t n = 0;
    wire(w, k);
    CK(hre_ledger_next_nonce(g_h[0].l, &n, w, 34));
    return n;
}

static uint64_t secs(void) { return hre_hub_now(g_hub) / 1000; }

static void submit(hre_tx *tx, uint8_t txid[32])
{
    static uint8_t b[HRE_TX_MAX_LEN];
    size_t len = sizeof b;
    hre_ledger_status st;
    if (!tx) die("build tx", -1);
    if (txid) CK(hre_tx_txid(tx, txid));
    CK(hre_tx_encode(tx, b, &len));
    CK(hre_node_submit_tx(g_h[0].node, NULL, &st, b, len, hre_hub_now(g_hub)));
    if (st != HRE_LEDGER_ACCEPTED_TX) die("submit: not accepted", (int)st);
    hre_tx_free(tx);
    rearm(&g_h[0]);
}

static int synced(void *arg)
{
    uint8_t a[32], b[32];
    (void)arg;
    CK(hre_ledger_tip(g_h[0].l, NULL, a));
    CK(hre_ledger_tip(g_h[1].l, NULL, b));
    return memcmp(a, b, 32) == 0;
}

static void mine(int wait_sync)
{
    uint8_t hash[32];
    hre_ledger_status st;
    CK(hre_hub_schedule(g_hub, hre_hub_now(g_hub) + 1000, 0, 0));
    run(NULL, NULL, 1000);
    CK(hre_node_mine(g_h[0].node, hash, &st, hre_hub_now(g_hub), HRE_POW_ALL_NONCES));
    if (st != HRE_LEDGER_CONNECTED) die("mine", (int)st);
    rearm(&g_h[0]);
    if (wait_sync && !run(synced, NULL, 60000)) die("sync", -1);
}

static int live(void *arg)
{
    hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
    uint64_t conns[4];
    size_t n = 4;
    (void)arg;
    if (hre_node_peer_list(g_h[1].node, conns, &n) != HRE_OK || n == 0) return 0;
    return hre_node_peer_info_get(g_h[1].node, &pi, conns[0]) == HRE_OK && pi.member == HRE_NODE_MEMBER_LIVE;
}

static int sink_count(void *ud, const uint8_t *d, size_t n)
{
    (void)d;
    *(uint64_t *)ud += n;
    return HRE_OK;
}

typedef struct membuf {
    uint8_t *p;
    size_t n, cap;
} membuf;

static int sink_mem(void *ud, const uint8_t *d, size_t n)
{
    membuf *m = ud;
    if (m->n + n > m->cap) return HRE_ENOMEM;
    memcpy(m->p + m->n, d, n);
    m->n += n;
    return HRE_OK;
}

typedef struct fwait {
    hre_vault_fetch *f;
} fwait;

static int fetch_done(void *arg)
{
    fwait *w = arg;
    int done = 0, code = 0;
    CK(hre_vault_fetch_status(w->f, &done, &code, NULL, NULL));
    if (done && code != HRE_OK) die("fetch", code);
    return done;
}

int main(void)
{
    long mib = bench_env_long("HRE_BENCH_XCH_MIB", 16);
    int rounds = (int)bench_env_long("HRE_BENCH_ROUNDS", 3), speed_s = bench_speed_seconds(1), r;
    size_t doc_len;
    uint8_t *doc, rec[32], hash[32], locator[32], a_patient[32], hosp[32], lab[32];
    hre_key *hadmin = gen(), *ladmin = gen(), *patient = gen(), *e_patient = gen(), *e_hosp = gen(),
            *e_lab = gen();
    hre_vault *v = NULL;
    hre_storage *vst = NULL;
    hre_vault_content content = HRE_VAULT_CONTENT_INIT;
    double best_fetch = 1e30, best_fetch_cpu = 1e30, best_so = 1e30, best_so_cpu = 1e30, ossl = 0, vsecs = 0;
    uint64_t env_len = 0;
    char cmd[256];
    bench_json j;

    if (mib < 1) mib = 1;
    if (rounds < 1) rounds = 1;
    doc_len = (size_t)mib * MIB;
    if (!(doc = malloc(doc_len))) die("malloc", HRE_ENOMEM);
    CK(hre_random_bytes(doc, doc_len));

    /* the network */
    {
        hre_hub_options ho = HRE_HUB_OPTIONS_INIT;
        g_auth = gen();
        CK(hre_chain_params_init(&g_params, HRE_CHAIN_PARAMS_VERSION));
        CK(hre_pow_target_from_compact(g_params.pow_limit, NULL, NULL, EASY));
        g_params.target_spacing = 600;
        g_params.retarget_interval = 1000000;
        g_params.max_block_size = 4u << 20;
        g_params.max_tx_count = 100000;
        g_params.genesis.version = 1;
        g_params.genesis.time = (uint32_t)(T0_MS / 1000 - 86400);
        g_params.genesis.bits = EASY;
        CK(hre_pow_mine(&g_params.genesis, NULL, 1000000));
        CK(hre_header_hash(&g_params.genesis, g_net));
        ho.seed = 1;
        ho.start_ms = T0_MS;
        CK(hre_hub_new(&g_hub, &ho));
    }
    for (int i = 0; i < 2; i++) {
        host *h = &g_h[i];
        hre_ledger_options lo;
        hre_node_options no;
        const hre_transport_methods *tm = NULL;
        void *tud = NULL;
        CK(hre_node_options_init(&no, HRE_NODE_OPTIONS_VERSION));
        CK(hre_hub_endpoint_add(g_hub, &h->ep, i == 0 ? "holder" : "reader"));
        CK(hre_storage_memory_new(&h->st, 0));
        CK(hre_ledger_options_init(&lo, HRE_LEDGER_OPTIONS_VERSION));
        lo.storage = h->st;
        lo.params = &g_params;
        wire(lo.authority_key, g_auth);
        lo.snapshot_interval = HRE_LEDGER_SNAPSHOTS_OFF;
        CK(hre_ledger_open(&h->l, &lo));
        h->id = gen();
        CK(hre_hub_endpoint_transport(g_hub, &tm, &tud, h->ep));
        no.ledger = h->l;
        no.identity = h->id;
        no.transport = tm;
        no.transport_user_data = tud;
        no.on_event = on_node_event;
        no.user_data = h;
        no.app_max_message = HRE_NODE_APP_MESSAGE_LIMIT;
        no.app_rate_bytes = 1u << 30;   /* the bench measures CPU, not the policy */
        no.app_rate_msgs = 100000;
        CK(hre_node_new(&h->node, &no, hre_hub_now(g_hub)));
    }
    for (int i = 0; i < 2; i++) {
        hre_register_node_payload p;
        hre_tx *tx = NULL;
        memset(&p, 0, sizeof p);
        wire(p.node_key, g_h[i].id);
        CK(hre_contract_build_register_node(&tx, g_net, g_auth, nonce_of(g_auth), secs(), &p));
        submit(tx, NULL);
    }
    mine(0);
    CK(hre_node_connect(g_h[1].node, NULL, "holder", hre_hub_now(g_hub)));
    rearm(&g_h[1]);
    if (!run(live, NULL, 60000)) die("connect", -1);
    if (!run(synced, NULL, 60000)) die("sync", -1);
    /* organisations, the patient, encryption keys */
    {
        hre_register_org_payload p;
        hre_tx *tx = NULL;
        memset(&p, 0, sizeof p);
        p.org_type = HRE_ORG_HOSPITAL;
        p.name = (const uint8_t *)"City Hospital";
        p.name_len = 13;
        wire(p.admin_key, hadmin);
        CK(hre_contract_build_register_org(&tx, g_net, g_auth, nonce_of(g_auth), secs(), &p));
        submit(tx, hosp);
        p.org_type = HRE_ORG_LAB;
        p.name = (const uint8_t *)"Central Lab";
        p.name_len = 11;
        wire(p.admin_key, ladmin);
        CK(hre_contract_build_register_org(&tx, g_net, g_auth, nonce_of(g_auth), secs(), &p));
        submit(tx, lab);
    }
    {
        hre_register_patient_payload p = {0};
        hre_tx *tx = NULL;
        CK(hre_contract_build_register_patient(&tx, g_net, patient, nonce_of(patient), secs(), &p));
        submit(tx, NULL);
    }
    mine(1);
    addr(a_patient, patient);
    {
        struct { hre_key *s; uint8_t t; const uint8_t *id; hre_key *e; } ek[3] = {
            {patient, HRE_ENC_TARGET_ACCOUNT, a_patient, e_patient},
            {hadmin, HRE_ENC_TARGET_ORG, hosp, e_hosp},
            {ladmin, HRE_ENC_TARGET_ORG, lab, e_lab}};
        for (int i = 0; i < 3; i++) {
            hre_set_enc_key_payload p;
            hre_tx *tx = NULL;
            p.target_type = ek[i].t;
            memcpy(p.target, ek[i].id, 32);
            wire(p.enc_key, ek[i].e);
            CK(hre_contract_build_set_enc_key(&tx, g_net, ek[i].s, nonce_of(ek[i].s), secs(), &p));
            submit(tx, NULL);
        }
    }
    mine(1);
    /* the document in the holder's vault, its record, the patient's LOG_ACCESS */
    {
        hre_vault_options vo = HRE_VAULT_OPTIONS_INIT;
        hre_vault_seal_params sp = HRE_VAULT_SEAL_PARAMS_INIT;
        hre_vault_store *st = NULL;
        const hre_contract *c = NULL;
        hre_new_record_payload p;
        hre_sign_record_payload s;
        hre_log_access_payload la;
        hre_tx *tx = NULL;
        static const uint8_t salt[32] = "bench-salt-0123456789abcdef01234";
        CK(hre_storage_memory_new(&vst, 0));
        vo.storage = vst;
        CK(hre_vault_open(&v, &vo));
        CK(hre_random_bytes(locator, 32));
        memcpy(sp.locator, locator, 32);
        sp.doc_version = 1;
        sp.compress = HRE_VAULT_COMPRESS_NEVER;
        sp.sender_type = HRE_VAULT_READER_ORG;
        memcpy(sp.sender_id, hosp, 32);
        sp.sender_key = e_hosp;
        CK(hre_ledger_contract(g_h[0].l, &c));
        CK(hre_vault_store_new(&st, v, &sp));
        CK(hre_vault_store_write(st, doc, doc_len));
        CK(hre_vault_store_add_reader_by_id(st, c, HRE_VAULT_READER_ACCOUNT, a_patient));
        CK(hre_vault_store_add_reader_by_id(st, c, HRE_VAULT_READER_ORG, hosp));
        CK(hre_vault_store_add_reader_by_id(st, c, HRE_VAULT_READER_ORG, lab));
        CK(hre_vault_store_commit(st, hash, &content));
        hre_vault_store_free(st);
        env_len = content.envelope_len;
        memset(&p, 0, sizeof p);
        memcpy(p.patient, a_patient, 32);
        memcpy(p.lab_org, lab, 32);
        CK(hre_contract_commit(p.commit_patient_id, HRE_COMMIT_PATIENT_ID, salt, 32, (const uint8_t *)"MRN", 3));
        CK(hre_contract_commit(p.commit_test_name, HRE_COMMIT_TEST_NAME, salt, 32, (const uint8_t *)"CBC", 3));
        p.date = secs();
        p.category = 1;
        memcpy(p.doc_sha256, hash, 32);
        p.hospital_name = (const uint8_t *)"City Hospital";
        p.hospital_name_len = 13;
        memcpy(p.locator, locator, 32);
        CK(hre_contract_build_new_record(&tx, g_net, hadmin, nonce_of(hadmin), secs(), &p));
        submit(tx, rec);
        memcpy(s.record_id, rec, 32);
        CK(hre_contract_build_sign_record(&tx, g_net, hadmin, nonce_of(hadmin), secs(), &s));
        submit(tx, NULL);
        CK(hre_contract_build_sign_record(&tx, g_net, ladmin, nonce_of(ladmin), secs(), &s));
        submit(tx, NULL);
        mine(1);
        memcpy(la.record_id, rec, 32);
        la.purpose = 1;
        CK(hre_contract_build_log_access(&tx, g_net, patient, nonce_of(patient), secs(), &la));
        submit(tx, NULL);
        mine(1);
    }
    /* the exchanges */
    {
        hre_vault_xch_options xo = HRE_VAULT_XCH_OPTIONS_INIT;
        xo.node = g_h[0].node;
        xo.vault = v;
        xo.holder_type = HRE_VAULT_READER_ORG;
        memcpy(xo.holder_id, hosp, 32);
        xo.holder_key = e_hosp;
        CK(hre_vault_xch_new(&g_h[0].x, &xo));
        CK(hre_vault_xch_options_init(&xo, HRE_VAULT_XCH_OPTIONS_VERSION));
        xo.node = g_h[1].node;
        CK(hre_vault_xch_new(&g_h[1].x, &xo));
    }
    /* fetches */
    for (r = 0; r < rounds; r++) {
        hre_vault_fetch_params fp = HRE_VAULT_FETCH_PARAMS_INIT;
        uint64_t conns[4], got = 0, v0 = hre_hub_now(g_hub);
        size_t n = 4;
        fwait w = {NULL};
        double t0, c0, t, c;
        CK(hre_node_peer_list(g_h[1].node, conns, &n));
        fp.conn = conns[0];
        memcpy(fp.record_id, rec, 32);
        fp.sign_key = patient;
        fp.enc_key = e_patient;
        t0 = bench_wall_s();
        c0 = bench_cpu_s();
        CK(hre_vault_fetch_new(&w.f, g_h[1].x, &fp, sink_count, &got, hre_hub_now(g_hub)));
        rearm(&g_h[1]);
        if (!run(fetch_done, &w, 600000)) die("fetch: no answer", -1);
        t = bench_wall_s() - t0;
        c = bench_cpu_s() - c0;
        if (got != doc_len) die("fetch: wrong length", -1);
        hre_vault_fetch_free(w.f);
        if (t < best_fetch) best_fetch = t;
        if (c < best_fetch_cpu) best_fetch_cpu = c;
        vsecs = (double)(hre_hub_now(g_hub) - v0) / 1000.0;
    }
    /* seal + open alone */
    for (r = 0; r < rounds; r++) {
        hre_vault_seal_params sp = HRE_VAULT_SEAL_PARAMS_INIT;
        hre_vault_open_params op = HRE_VAULT_OPEN_PARAMS_INIT;
        hre_vault_sealer *s = NULL;
        hre_vault_opener *o = NULL;
        hre_vault_wrap wr;
        hre_pubkey *pk = NULL;
        membuf env = {NULL, 0, 0};
        uint8_t h2[32];
        uint64_t got = 0;
        double t0, c0, t, c;
        env.cap = (size_t)env_len;
        if (!(env.p = malloc(env.cap))) die("malloc", HRE_ENOMEM);
        CK(hre_key_pubkey(e_patient, &pk));
        memcpy(sp.locator, locator, 32);
        sp.doc_version = 1;
        sp.compress = HRE_VAULT_COMPRESS_NEVER;
        t0 = bench_wall_s();
        c0 = bench_cpu_s();
        CK(hre_vault_sealer_new(&s, &sp, sink_mem, &env));
        CK(hre_vault_sealer_write(s, doc, doc_len));
        CK(hre_vault_sealer_finish(s, h2, NULL));
        CK(hre_vault_sealer_wrap(s, &wr, HRE_VAULT_READER_ACCOUNT, a_patient, pk));
        op.wrap = &wr;
        op.reader_key = e_patient;
        CK(hre_vault_opener_new(&o, &op, sink_count, &got));
        CK(hre_vault_opener_write(o, env.p, env.n));
        CK(hre_vault_opener_finish(o, NULL));
        t = bench_wall_s() - t0;
        c = bench_cpu_s() - c0;
        if (got != doc_len) die("seal+open: wrong length", -1);
        hre_vault_sealer_free(s);
        hre_vault_opener_free(o);
        hre_pubkey_free(pk);
        free(env.p);
        if (t < best_so) best_so = t;
        if (c < best_so_cpu) best_so_cpu = c;
    }
    {
        double mbs = 0;
        if (bench_speed_bytes("-aead -evp aes-256-gcm", 16384, 1, speed_s, &mbs, NULL)) ossl = mbs;
    }

    bench_json_begin(&j, stdout);
    bench_json_head(&j, "exchange");
    bench_json_int(&j, "doc_bytes", (long long)doc_len);
    bench_json_int(&j, "envelope_bytes", (long long)env_len);
    bench_json_int(&j, "rounds", rounds);
    bench_json_int(&j, "app_max_message_bytes", HRE_NODE_APP_MESSAGE_LIMIT);
    bench_json_str(&j, "openssl_speed_command",
                   bench_speed_command(cmd, sizeof cmd, 1, speed_s, "-bytes 16384 -aead -evp aes-256-gcm"));
    bench_json_end_object(&j);
    bench_json_object(&j, "results");
    bench_json_object(&j, "fetch");
    bench_json_num(&j, "doc_mb_per_s", (double)doc_len / 1e6 / best_fetch, 1);
    bench_json_num(&j, "doc_mb_per_cpu_s", (double)doc_len / 1e6 / best_fetch_cpu, 1);
    bench_json_num(&j, "wall_seconds", best_fetch, 4);
    bench_json_num(&j, "virtual_seconds", vsecs, 3);
    bench_json_end_object(&j);
    bench_json_object(&j, "seal_open");
    bench_json_num(&j, "doc_mb_per_s", (double)doc_len / 1e6 / best_so, 1);
    bench_json_num(&j, "doc_mb_per_cpu_s", (double)doc_len / 1e6 / best_so_cpu, 1);
    bench_json_num(&j, "wall_seconds", best_so, 4);
    bench_json_end_object(&j);
    bench_json_object(&j, "compare");
    bench_json_ratio(&j, "ratio_fetch_vs_seal_open", best_so, best_fetch);
    bench_json_ratio(&j, "ratio_fetch_cpu_vs_seal_open_cpu", best_so_cpu, best_fetch_cpu);
    bench_json_opt(&j, "openssl_speed_aes256gcm_16k_mb_per_cpu_s", ossl > 0, ossl, 1);
    bench_json_ratio(&j, "ratio_fetch_vs_openssl_speed", (double)doc_len / 1e6 / best_fetch_cpu, ossl);
    bench_json_end_object(&j);
    bench_json_end_object(&j);
    bench_json_object(&j, "notes");
    bench_json_str(&j, "fetch", "one document fetched by the reader node from the holder node through the hub "
                                "(no latency, no faults): request, chain checks, re-wrap, the envelope in 1 MiB "
                                "app messages over the Noise channel, the reader's opener; best of the rounds; "
                                "both nodes run in this process, so CPU is both sides'");
    bench_json_str(&j, "seal_open", "the same document sealed (no compression) and opened in memory, no node");
    bench_json_str(&j, "reference", "openssl speed aes-256-gcm on 16 KiB messages, per CPU second; the fetch "
                                    "moves the sealed envelope: one channel encryption and decryption, the "
                                    "opener's STREAM decryption and SHA-256 of the envelope (seal + open: one "
                                    "STREAM encryption and decryption, SHA-256 twice)");
    bench_json_end_object(&j);
    if (bench_json_end(&j) != 0) return 1;

    for (int i = 0; i < 2; i++) {
        hre_vault_xch_free(g_h[i].x);
        hre_node_free(g_h[i].node);
        hre_ledger_close(g_h[i].l);
        hre_storage_free(g_h[i].st);
        hre_key_free(g_h[i].id);
    }
    hre_vault_close(v);
    hre_storage_free(vst);
    hre_hub_free(g_hub);
    hre_key_free(g_auth);
    hre_key_free(hadmin);
    hre_key_free(ladmin);
    hre_key_free(patient);
    hre_key_free(e_patient);
    hre_key_free(e_hosp);
    hre_key_free(e_lab);
    free(doc);
    return 0;
}
