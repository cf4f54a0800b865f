/*
 * vault_flow: the document exchange end to end, public API only (the C twin
 * of the flow the issue describes). Two nodes on the in-process hub
 * (sys/hub.h): the LAB's node keeps the vault; a DOCTOR at another
 * institution (a clinic) fetches through the clinic's node.
 *
 *   1. the lab stores a FHIR result in its vault (readers: the patient, the
 *      hospital, the lab) and the hospital issues the record on the chain;
 *   2. the doctor asks before any grant: refused (no_grant);
 *   3. the patient grants the doctor access, the doctor logs the access
 *      (LOG_ACCESS) and fetches: the document arrives, its SHA-256 is the
 *      file's;
 *   4. the patient revokes the grant: the next fetch is refused (revoked);
 *   5. the patient erases the record: the lab's vault shreds the document
 *      (its ledger events reach hre_vault_handle_event) and a fetch is
 *      refused by the doctor's own chain (erased).
 *
 *   vault_flow [FHIR-JSON-FILE]     (default: a small Observation)
 * Exit status 0 only if every step behaved as described.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>
#include <hre/vault.h>
#include <hre/sys/hub.h>
#include <hre/sys/transport.h>

#define T0_MS 1700000000000ull
#define EASY 0x207fffffu
#define T0_MS 1700000000000ull

static void die(const char *what, int rc)
{
    fprintf(stderr, "vault_flow: %s failed (%d): %s\n", what, rc, hre_error_detail());
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

static hre_vault *g_vault;   /* the lab's vault (the holder) */

static void on_node_event(void *ud, const hre_node_event *ev)
{
    host *h = ud;
    if (h->x && hre_vault_xch_handle_node_event(h->x, ev) != HRE_OK) die("handle_node_event", -1);
    /* the holder forwards its ledger's contract events to its vault, so an
     * ERASE_RECORD on the chain shreds the document at once */
    if (h == &g_h[0] && g_vault && ev->type == HRE_NODE_EVENT_LEDGER &&
        ev->ledger->type == HRE_LEDGER_EVENT_CONTRACT &&
        hre_vault_handle_event(g_vault, ev->ledger->contract) != HRE_OK)
        die("hre_vault_handle_event", -1);
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

typedef struct fwait {
    hre_vault_fetch *f;
} fwait;

static int fetch_done(void *arg)
{
    fwait *w = arg;
    int done = 0, code = 0;
    CK(hre_vault_fetch_status(w->f, &done, &code, NULL, NULL));
    return done;
}

static int sink_hash(void *ud, const uint8_t *d, size_t n)
{
    return hre_sha256_update(ud, d, n);
}

/* Fetch the record as the doctor: the result code, *reason the refusal. */
static int fetch(const uint8_t rec[32], hre_key *sk, hre_key *ek, uint8_t got_hash[32], uint64_t *got_len,
                 int *reason)
{
    hre_vault_fetch_params fp = HRE_VAULT_FETCH_PARAMS_INIT;
    hre_vault_content c = HRE_VAULT_CONTENT_INIT;
    hre_sha256_ctx *h = NULL;
    uint64_t conns[4];
    size_t n = 4;
    fwait w = {NULL};
    int rc, done = 0, code = 0;
    *reason = 0;
    *got_len = 0;
    CK(hre_sha256_new(&h));
    CK(hre_node_peer_list(g_h[1].node, conns, &n));
    fp.conn = conns[0];
    memcpy(fp.record_id, rec, 32);
    fp.sign_key = sk;
    fp.enc_key = ek;
    rc = hre_vault_fetch_new(&w.f, g_h[1].x, &fp, sink_hash, h, hre_hub_now(g_hub));
    if (rc != HRE_OK) {
        hre_sha256_free(h);
        return rc;
    }
    rearm(&g_h[1]);
    if (!run(fetch_done, &w, 600000)) die("fetch: no answer", -1);
    CK(hre_vault_fetch_status(w.f, &done, &code, reason, &c));
    hre_vault_fetch_free(w.f);
    CK(hre_sha256_final(h, got_hash));
    hre_sha256_free(h);
    *got_len = c.doc_len;
    return code;
}

static int failures;

static void expect(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) failures++;
}

int main(int argc, char **argv)
{
    static const char dflt[] =
        "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"Hemoglobin\"},"
        "\"valueQuantity\":{\"value\":13.9,\"unit\":\"g/dL\"}}";
    uint8_t *doc = (uint8_t *)dflt, rec[32], hash[32], locator[32], a_patient[32], a_doctor[32], hosp[32],
            lab[32], clinic[32], file_hash[32], got[32], gid[32];
    size_t doc_len = sizeof dflt - 1;
    hre_key *hadmin = gen(), *ladmin = gen(), *cadmin = gen(), *doctor = gen(), *patient = gen(),
            *e_patient = gen(), *e_hosp = gen(), *e_lab = gen(), *e_doctor = gen();
    hre_storage *vst = NULL;
    uint64_t got_len = 0;
    int rc, reason;

    if (argc > 1) {
        FILE *f = fopen(argv[1], "rb");
        long sz;
        if (!f || fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0 ||
            !(doc = malloc((size_t)sz)) || fread(doc, 1, (size_t)sz, f) != (size_t)sz) {
            fprintf(stderr, "vault_flow: cannot read %s\n", argv[1]);
            return 2;
        }
        fclose(f);
        doc_len = (size_t)sz;
    }
    CK(hre_sha256(file_hash, doc, doc_len));

    /* the network: authority, two member nodes (the lab's, the clinic's) */
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
        ho.seed = 7;
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
        CK(hre_hub_endpoint_add(g_hub, &h->ep, i == 0 ? "lab-node" : "clinic-node"));
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
        CK(hre_node_new(&h->node, &no, hre_hub_now(g_hub)));
    }
    {
        hre_register_org_payload p;
        hre_tx *tx = NULL;
        static const struct { uint8_t type; const char *name; } orgs[3] = {
            {HRE_ORG_HOSPITAL, "City Hospital"}, {HRE_ORG_LAB, "Central Lab"}, {HRE_ORG_CLINIC, "Far Clinic"}};
        hre_key *admins[3] = {hadmin, ladmin, cadmin};
        uint8_t *ids[3] = {hosp, lab, clinic};
        for (int i = 0; i < 3; i++) {
            memset(&p, 0, sizeof p);
            p.org_type = orgs[i].type;
            p.name = (const uint8_t *)orgs[i].name;
            p.name_len = strlen(orgs[i].name);
            wire(p.admin_key, admins[i]);
            CK(hre_contract_build_register_org(&tx, g_net, g_auth, nonce_of(g_auth), secs(), &p));
            submit(tx, ids[i]);
        }
    }
    mine(0);
    {
        /* the lab registers its node, the clinic its node */
        hre_register_node_payload p;
        hre_tx *tx = NULL;
        memset(&p, 0, sizeof p);
        wire(p.node_key, g_h[0].id);
        CK(hre_contract_build_register_node(&tx, g_net, ladmin, nonce_of(ladmin), secs(), &p));
        submit(tx, NULL);
        wire(p.node_key, g_h[1].id);
        CK(hre_contract_build_register_node(&tx, g_net, cadmin, nonce_of(cadmin), secs(), &p));
        submit(tx, NULL);
    }
    {
        hre_register_doctor_payload d;
        hre_register_patient_payload p = {0};
        hre_tx *tx = NULL;
        wire(d.doctor_key, doctor);
        CK(hre_contract_build_register_doctor(&tx, g_net, cadmin, nonce_of(cadmin), secs(), &d));
        submit(tx, NULL);
        CK(hre_contract_build_register_patient(&tx, g_net, patient, nonce_of(patient), secs(), &p));
        submit(tx, NULL);
    }
    mine(0);
    CK(hre_node_connect(g_h[1].node, NULL, "lab-node", hre_hub_now(g_hub)));
    rearm(&g_h[1]);
    if (!run(live, NULL, 60000)) die("connect", -1);
    if (!run(synced, NULL, 60000)) die("sync", -1);
    addr(a_patient, patient);
    addr(a_doctor, doctor);
    {
        struct { hre_key *s; uint8_t t; const uint8_t *id; hre_key *e; } ek[4] = {
            {patient, HRE_ENC_TARGET_ACCOUNT, a_patient, e_patient},
            {hadmin, HRE_ENC_TARGET_ORG, hosp, e_hosp},
            {ladmin, HRE_ENC_TARGET_ORG, lab, e_lab},
            {doctor, HRE_ENC_TARGET_ACCOUNT, a_doctor, e_doctor}};
        for (int i = 0; i < 4; i++) {
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

    /* 1. the lab stores the result; the hospital issues the record */
    {
        hre_vault_options vo = HRE_VAULT_OPTIONS_INIT;
        hre_vault_seal_params sp = HRE_VAULT_SEAL_PARAMS_INIT;
        hre_vault_store *st = NULL;
        const hre_contract *c = NULL;
        hre_vault_xch_options xo = HRE_VAULT_XCH_OPTIONS_INIT;
        hre_new_record_payload p;
        hre_sign_record_payload s;
        hre_tx *tx = NULL;
        static const uint8_t salt[32] = "vault-flow-salt-0123456789abcdef";
        CK(hre_storage_memory_new(&vst, 0));
        vo.storage = vst;
        CK(hre_vault_open(&g_vault, &vo));
        CK(hre_random_bytes(locator, 32));
        memcpy(sp.locator, locator, 32);
        sp.doc_version = 1;
        sp.media_type = "application/fhir+json";
        sp.sender_type = HRE_VAULT_READER_ORG;
        memcpy(sp.sender_id, lab, 32);
        sp.sender_key = e_lab;
        CK(hre_ledger_contract(g_h[0].l, &c));
        CK(hre_vault_store_new(&st, g_vault, &sp));
        CK(hre_vault_store_write(st, doc, doc_len));
        CK(hre_vault_store_add_reader_by_id(st, c, HRE_VAULT_READER_ACCOUNT, a_patient));
        CK(hre_vault_store_add_reader_by_id(st, c, HRE_VAULT_READER_ORG, hosp));
        CK(hre_vault_store_add_reader_by_id(st, c, HRE_VAULT_READER_ORG, lab));
        CK(hre_vault_store_commit(st, hash, NULL));
        hre_vault_store_free(st);
        memset(&p, 0, sizeof p);
        memcpy(p.patient, a_patient, 32);
        memcpy(p.lab_org, lab, 32);
        CK(hre_contract_commit(p.commit_patient_id, HRE_COMMIT_PATIENT_ID, salt, 32, (const uint8_t *)"MRN-7", 5));
        CK(hre_contract_commit(p.commit_test_name, HRE_COMMIT_TEST_NAME, salt, 32, (const uint8_t *)"HGB", 3));
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
        CK(hre_vault_bind_record(g_vault, hash, rec));
        xo.node = g_h[0].node;
        xo.vault = g_vault;
        xo.holder_type = HRE_VAULT_READER_ORG;
        memcpy(xo.holder_id, lab, 32);
        xo.holder_key = e_lab;
        CK(hre_vault_xch_new(&g_h[0].x, &xo));
        CK(hre_vault_xch_options_init(&xo, HRE_VAULT_XCH_OPTIONS_VERSION));
        xo.node = g_h[1].node;
        CK(hre_vault_xch_new(&g_h[1].x, &xo));
        printf("1. the lab stored a %zu-byte FHIR document; the record is on the chain\n", doc_len);
    }

    /* 2. before any grant */
    rc = fetch(rec, doctor, e_doctor, got, &got_len, &reason);
    expect(rc == HRE_EAUTH && reason == HRE_VAULT_XCH_REFUSE_NO_GRANT, "2. no grant yet: refused (no_grant)");

    /* 3. grant, LOG_ACCESS, fetch */
    {
        hre_grant_payload p;
        hre_log_access_payload la;
        hre_tx *tx = NULL;
        memset(&p, 0, sizeof p);
        p.reader_type = HRE_READER_ACCOUNT;
        memcpy(p.reader, a_doctor, 32);
        p.scope = HRE_SCOPE_ALL;
        CK(hre_contract_build_grant(&tx, g_net, patient, nonce_of(patient), secs(), &p));
        submit(tx, gid);
        mine(1);
        memcpy(la.record_id, rec, 32);
        la.purpose = 1;
        CK(hre_contract_build_log_access(&tx, g_net, doctor, nonce_of(doctor), secs(), &la));
        submit(tx, NULL);
        mine(1);
    }
    rc = fetch(rec, doctor, e_doctor, got, &got_len, &reason);
    expect(rc == HRE_OK && got_len == doc_len && memcmp(got, file_hash, 32) == 0,
           "3. after the grant and LOG_ACCESS: fetched, SHA-256 matches the file");

    /* 4. revoke */
    {
        hre_revoke_payload p;
        hre_tx *tx = NULL;
        memcpy(p.grant_id, gid, 32);
        CK(hre_contract_build_revoke(&tx, g_net, patient, nonce_of(patient), secs(), &p));
        submit(tx, NULL);
        mine(1);
    }
    rc = fetch(rec, doctor, e_doctor, got, &got_len, &reason);
    expect(rc == HRE_EREVOKED && reason == HRE_VAULT_XCH_REFUSE_REVOKED, "4. after the revocation: refused (revoked)");

    /* 5. erase */
    {
        hre_erase_record_payload p;
        hre_vault_entry e = HRE_VAULT_ENTRY_INIT;
        hre_tx *tx = NULL;
        memcpy(p.record_id, rec, 32);
        CK(hre_contract_build_erase_record(&tx, g_net, patient, nonce_of(patient), secs(), &p));
        submit(tx, NULL);
        mine(1);
        expect(hre_vault_entry_get(g_vault, &e, hash) == HRE_EERASED && e.state == HRE_VAULT_ERASED,
               "5. after the erasure: the lab's vault shredded the document");
    }
    rc = fetch(rec, doctor, e_doctor, got, &got_len, &reason);
    expect(rc == HRE_EERASED, "5. and a fetch is refused (erased)");

    for (int i = 0; i < 2; i++) {
        hre_vault_xch_free(g_h[i].x);
        hre_node_free(g_h[i].node);
        hre_ledger_close(g_h[i].l);
        hre_storage_free(g_h[i].st);
        hre_key_free(g_h[i].id);
    }
    hre_vault_close(g_vault);
    hre_storage_free(vst);
    hre_hub_free(g_hub);
    {
        hre_key *ks[] = {g_auth, hadmin, ladmin, cadmin, doctor, patient, e_patient, e_hosp, e_lab, e_doctor};
        for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) hre_key_free(ks[i]);
    }
    if (doc != (uint8_t *)dflt) free(doc);
    printf("%s\n", failures ? "vault_flow: FAILED" : "vault_flow: every step as expected");
    return failures ? 1 : 0;
}
