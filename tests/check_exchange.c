/*
 * Document exchange (vault.h exchange block, PROTOCOL.md 15): the codecs,
 * and fetches between nodes on the in-test loopback (tests/node_harness.c):
 * a holder node (the hospital's, with the vault) and reader nodes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>
#include <hre/vault.h>
#include <hre/sys/storage.h>
#include <hre/sys/powerloss.h>

#include "node_harness.h"
#include "testutil.h"
#ifdef HRE_WHITEBOX
#include "vault/internal.h"
#include "vault/exchange.h"
#endif

#define APP HRE_VAULT_XCH_APP_TYPE

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static int buf_sink(void *ud, const uint8_t *data, size_t len)
{
    buf *b = ud;
    if (b->n + len > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->n + len) nc *= 2;
        b->p = realloc(b->p, nc);
        ck_assert_ptr_nonnull(b->p);
        b->cap = nc;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    return HRE_OK;
}

static hre_key *genkey(void)
{
    hre_key *k = NULL;
    HRE_T_OK(hre_key_generate(&k, HRE_CURVE_P256));
    return k;
}

static void addr_of(uint8_t out[32], hre_key *k)
{
    uint8_t w[34];
    tn_key_wire(k, w);
    HRE_T_OK(hre_contract_address(out, w));
}

/* ------------------------------------------------------------------------ */
/* Codecs                                                                    */
/* ------------------------------------------------------------------------ */

static void sample_request(hre_vault_xch_request *r, hre_key *k)
{
    memset(r, 0, sizeof *r);
    HRE_T_OK(hre_random_bytes(r->nonce, 16));
    r->timestamp_ms = 1700000000123ull;
    memset(r->record_id, 0x11, 32);
    memset(r->binding, 0x22, 32);
    HRE_T_OK(hre_vault_xch_request_sign(r, k));
}

START_TEST(test_xch_request_codec)
{
    hre_key *k = genkey();
    hre_vault_xch_request r, d;
    uint8_t b[HRE_VAULT_XCH_REQUEST_LEN + 1], w[34];
    size_t len = sizeof b, i;
    sample_request(&r, k);
    tn_key_wire(k, w);
    ck_assert_mem_eq(r.reader_key, w, 34);
    HRE_T_OK(hre_vault_xch_request_verify(&r));
    HRE_T_OK(hre_vault_xch_request_encode(&r, b, &len));
    ck_assert_uint_eq(len, HRE_VAULT_XCH_REQUEST_LEN);
    ck_assert_uint_eq(b[0], HRE_VAULT_XCH_MSG_REQUEST);
    ck_assert_uint_eq(b[1], HRE_VAULT_XCH_FORMAT);
    HRE_T_OK(hre_vault_xch_request_decode(&d, b, len));
    ck_assert_mem_eq(&d, &r, sizeof r);
    /* every truncation and one extra byte */
    for (i = 0; i <= len + 1; i++)
        if (i != len) ck_assert_int_eq(hre_vault_xch_request_decode(&d, b, i), HRE_EDECODE);
    /* type, format, key form */
    b[0] = HRE_VAULT_XCH_MSG_CHUNK;
    ck_assert_int_eq(hre_vault_xch_request_decode(&d, b, len), HRE_EDECODE);
    b[0] = HRE_VAULT_XCH_MSG_REQUEST;
    b[1] = 0;
    ck_assert_int_eq(hre_vault_xch_request_decode(&d, b, len), HRE_EDECODE);
    b[1] = 2;
    ck_assert_int_eq(hre_vault_xch_request_decode(&d, b, len), HRE_EUNSUPPORTED);
    b[1] = 1;
    b[26] = 3;
    ck_assert_int_eq(hre_vault_xch_request_decode(&d, b, len), HRE_EDECODE);
    b[26] = 1;
    b[27] = 4;
    ck_assert_int_eq(hre_vault_xch_request_decode(&d, b, len), HRE_EDECODE);
    b[27] = w[1];
    HRE_T_OK(hre_vault_xch_request_decode(&d, b, len));
    /* a flip of any signed byte (and of the signature) fails verification */
    for (i = 2; i < HRE_VAULT_XCH_REQUEST_LEN; i++) {
        int rc;
        if (i == 26 || i == 27) continue;   /* key form: decode refuses, tested above */
        b[i] ^= 0x01;
        ck_assert_int_eq(hre_vault_xch_request_decode(&d, b, len), HRE_OK);
        rc = hre_vault_xch_request_verify(&d);
        ck_assert_msg(rc == HRE_EVERIFY || rc == HRE_EDECODE, "flip at %zu: %d", i, rc);
        b[i] ^= 0x01;
    }
    len = 10;
    ck_assert_int_eq(hre_vault_xch_request_encode(&r, b, &len), HRE_EBUFSIZE);
    ck_assert_uint_eq(len, HRE_VAULT_XCH_REQUEST_LEN);
    hre_key_free(k);
}
END_TEST

START_TEST(test_xch_answer_codecs)
{
    hre_vault_xch_header h, hd;
    hre_vault_xch_chunk c, cd;
    hre_vault_xch_refusal r, rd;
    uint8_t b[HRE_VAULT_XCH_HEADER_LEN], data[100], cb[HRE_VAULT_XCH_CHUNK_OVERHEAD + 100], rb[20];
    size_t len = sizeof b, i;
    memset(&h, 0, sizeof h);
    memset(h.nonce, 7, 16);
    h.envelope_len = hre_vault_envelope_len(512);
    memset(h.doc_hash, 0x33, 32);
    memcpy(h.wrap.doc_hash, h.doc_hash, 32);
    memset(h.wrap.locator, 0x44, 32);
    h.wrap.doc_version = 1;
    h.wrap.mode = HRE_HPKE_MODE_BASE;
    memset(h.wrap.hpke, 0x55, sizeof h.wrap.hpke);
    HRE_T_OK(hre_vault_xch_header_encode(&h, b, &len));
    ck_assert_uint_eq(len, 345);
    HRE_T_OK(hre_vault_xch_header_decode(&hd, b, len));
    ck_assert_mem_eq(&hd, &h, sizeof h);
    for (i = 0; i < len; i++) ck_assert_int_eq(hre_vault_xch_header_decode(&hd, b, i), HRE_EDECODE);
    b[26] ^= 1;   /* doc_hash differs from the wrap's */
    ck_assert_int_eq(hre_vault_xch_header_decode(&hd, b, len), HRE_EDECODE);
    b[26] ^= 1;
    b[18] = 1;    /* no envelope is that short */
    for (i = 19; i < 26; i++) b[i] = 0;
    ck_assert_int_eq(hre_vault_xch_header_decode(&hd, b, len), HRE_EDECODE);
    /* chunk */
    memset(&c, 0, sizeof c);
    memset(c.nonce, 9, 16);
    c.offset = 1000;
    memset(data, 0xab, sizeof data);
    c.data = data;
    c.len = sizeof data;
    len = sizeof cb;
    HRE_T_OK(hre_vault_xch_chunk_encode(&c, cb, &len));
    ck_assert_uint_eq(len, 130);
    HRE_T_OK(hre_vault_xch_chunk_decode(&cd, cb, len));
    ck_assert_uint_eq(cd.offset, 1000);
    ck_assert_uint_eq(cd.len, 100);
    ck_assert_ptr_eq(cd.data, cb + 30);
    ck_assert_mem_eq(cd.nonce, c.nonce, 16);
    for (i = 0; i < len; i++) ck_assert_int_eq(hre_vault_xch_chunk_decode(&cd, cb, i), HRE_EDECODE);
    cb[26] = 99;   /* length field */
    ck_assert_int_eq(hre_vault_xch_chunk_decode(&cd, cb, len), HRE_EDECODE);
    cb[26] = 100;
    cb[25] = 0xff;   /* offset past any envelope */
    ck_assert_int_eq(hre_vault_xch_chunk_decode(&cd, cb, len), HRE_EDECODE);
    c.len = 0;
    len = sizeof cb;
    ck_assert_int_eq(hre_vault_xch_chunk_encode(&c, cb, &len), HRE_EINVAL);
    /* refusal */
    memset(&r, 0, sizeof r);
    memset(r.nonce, 5, 16);
    r.reason = HRE_VAULT_XCH_REFUSE_REVOKED;
    r.access_reason = HRE_ACCESS_REVOKED;
    len = sizeof rb;
    HRE_T_OK(hre_vault_xch_refusal_encode(&r, rb, &len));
    ck_assert_uint_eq(len, 20);
    HRE_T_OK(hre_vault_xch_refusal_decode(&rd, rb, len));
    ck_assert_mem_eq(&rd, &r, sizeof r);
    rb[18] = 0;
    ck_assert_int_eq(hre_vault_xch_refusal_decode(&rd, rb, len), HRE_EDECODE);
    rb[18] = HRE_VAULT_XCH_REFUSE_MAX + 1;
    ck_assert_int_eq(hre_vault_xch_refusal_decode(&rd, rb, len), HRE_EDECODE);
    rb[18] = 1;
    rb[19] = 9;
    ck_assert_int_eq(hre_vault_xch_refusal_decode(&rd, rb, len), HRE_EDECODE);
    /* names and codes */
    ck_assert_str_eq(hre_vault_xch_refusal_name(HRE_VAULT_XCH_REFUSE_NO_LOG_ACCESS), "no_log_access");
    ck_assert_str_eq(hre_vault_xch_refusal_name(0), "unknown");
    ck_assert_int_eq(hre_vault_xch_refusal_code(HRE_VAULT_XCH_REFUSE_REVOKED), HRE_EREVOKED);
    ck_assert_int_eq(hre_vault_xch_refusal_code(HRE_VAULT_XCH_REFUSE_EXPIRED), HRE_EEXPIRED);
    ck_assert_int_eq(hre_vault_xch_refusal_code(HRE_VAULT_XCH_REFUSE_ERASED), HRE_EERASED);
    ck_assert_int_eq(hre_vault_xch_refusal_code(99), HRE_EPROTO);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Two (three) nodes                                                         */
/* ------------------------------------------------------------------------ */

typedef struct hev {
    unsigned int type;
    int reason, code;
    uint64_t conn;
    char detail[160];
} hev;

typedef struct fx {
    tn_net t;
    hre_key *kh, *kr, *k3;
    tn_node *h, *r, *n3;
    hre_storage *vst;
    hre_vault *v;
    hre_vault_xch *xh, *xr;
    hre_key *hadmin, *ladmin, *cadmin, *doctor, *hdoctor, *patient, *stranger;
    hre_key *e_patient, *e_hosp, *e_lab, *e_doctor, *e_hdoctor, *e_stranger;
    uint8_t a_doctor[32], a_hdoctor[32], a_patient[32], a_stranger[32];
    uint8_t hosp[32], lab[32], clinic[32];
    hev ev[512];
    size_t n_ev;
    size_t logs;
    int log_secret_seen;
    /* n3: a raw reader (the test speaks the exchange by hand) */
    size_t raw_headers, raw_bytes, raw_refusals;
    int raw_reason;
    uint8_t raw_nonce[16];
} fx;

static fx *g;

static void node_event(void *ud, const hre_node_event *ev)
{
    tn_node *n = ud;
    /* a nested call: the outer node call owns the thread's error state */
    if (n == g->h && g->xh) ck_assert_int_eq(hre_vault_xch_handle_node_event(g->xh, ev), HRE_OK);
    if (n == g->r && g->xr) ck_assert_int_eq(hre_vault_xch_handle_node_event(g->xr, ev), HRE_OK);
}

static void hold_event(void *ud, const hre_vault_xch_event *ev)
{
    fx *f = ud;
    ck_assert_uint_eq(ev->version, HRE_VAULT_XCH_EVENT_VERSION);
    ck_assert_ptr_nonnull(ev->detail);
    if (f->n_ev < 512) {
        f->ev[f->n_ev].type = ev->type;
        f->ev[f->n_ev].reason = ev->reason;
        f->ev[f->n_ev].code = ev->code;
        f->ev[f->n_ev].conn = ev->conn;
        snprintf(f->ev[f->n_ev].detail, sizeof f->ev[f->n_ev].detail, "%s", ev->detail);
        f->n_ev++;
    }
}

static void hold_log(void *ud, int level, const char *msg)
{
    fx *f = ud;
    (void)level;
    f->logs++;
    ck_assert_ptr_nonnull(strstr(msg, "exchange: "));
}

static const hev *last_hev(fx *f, unsigned int type)
{
    size_t i = f->n_ev;
    while (i-- > 0)
        if (f->ev[i].type == type) return &f->ev[i];
    return NULL;
}

static void raw_handler(void *ud, hre_node *n, const hre_node_app_message *msg)
{
    fx *f = ud;
    (void)n;
    ck_assert_uint_gt(msg->len, 0);
    if (msg->data[0] == HRE_VAULT_XCH_MSG_REFUSAL) {
        hre_vault_xch_refusal r;
        ck_assert_int_eq(hre_vault_xch_refusal_decode(&r, msg->data, msg->len), HRE_OK);
        f->raw_refusals++;
        f->raw_reason = r.reason;
        memcpy(f->raw_nonce, r.nonce, 16);
    } else if (msg->data[0] == HRE_VAULT_XCH_MSG_HEADER) {
        hre_vault_xch_header h;
        ck_assert_int_eq(hre_vault_xch_header_decode(&h, msg->data, msg->len), HRE_OK);
        f->raw_headers++;
    } else {
        hre_vault_xch_chunk c;
        ck_assert_int_eq(hre_vault_xch_chunk_decode(&c, msg->data, msg->len), HRE_OK);
        f->raw_bytes += c.len;
    }
}

static uint64_t secs(fx *f) { return f->t.now / 1000; }

static uint64_t nn(fx *f, hre_key *k)
{
    uint8_t w[34];
    uint64_t n = 0;
    tn_key_wire(k, w);
    HRE_T_OK(hre_ledger_next_nonce(f->h->l, &n, w, 34));
    return n;
}

static const hre_contract *hc(fx *f)
{
    const hre_contract *c = NULL;
    HRE_T_OK(hre_ledger_contract(f->h->l, &c));
    return c;
}

static void sub(fx *f, hre_tx *tx, uint8_t txid[32])
{
    ck_assert_ptr_nonnull(tx);
    if (txid) HRE_T_OK(hre_tx_txid(tx, txid));
    tn_submit(f->h, tx);
    hre_tx_free(tx);
}

static int all_synced(tn_net *t, void *arg)
{
    fx *f = arg;
    uint8_t a[32], b[32], c[32];
    (void)t;
    tn_tip(f->h, a);
    tn_tip(f->r, b);
    tn_tip(f->n3, c);
    return memcmp(a, b, 32) == 0 && memcmp(a, c, 32) == 0;
}

static void mine(fx *f)
{
    tn_mine(f->h, 1);
    ck_assert(tn_run(&f->t, all_synced, f, 60000));
}

static int live(tn_node *a, tn_node *b)
{
    hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
    uint64_t c = tn_conn_at(a->net, a, b);
    return c && hre_node_peer_info_get(a->node, &pi, c) == HRE_OK && pi.member == HRE_NODE_MEMBER_LIVE;
}

static int members(tn_net *t, void *arg)
{
    fx *f = arg;
    (void)t;
    return live(f->h, f->r) && live(f->r, f->h) && live(f->h, f->n3) && live(f->n3, f->h);
}

static hre_tx *b_org(fx *f, uint8_t type, const char *name, hre_key *admin)
{
    hre_register_org_payload p;
    hre_tx *tx = NULL;
    memset(&p, 0, sizeof p);
    p.org_type = type;
    p.name = (const uint8_t *)name;
    p.name_len = strlen(name);
    tn_key_wire(admin, p.admin_key);
    HRE_T_OK(hre_contract_build_register_org(&tx, f->t.id, f->t.auth, nn(f, f->t.auth), secs(f), &p));
    return tx;
}

static hre_tx *b_doctor(fx *f, hre_key *admin, hre_key *doc)
{
    hre_register_doctor_payload p;
    hre_tx *tx = NULL;
    tn_key_wire(doc, p.doctor_key);
    HRE_T_OK(hre_contract_build_register_doctor(&tx, f->t.id, admin, nn(f, admin), secs(f), &p));
    return tx;
}

static hre_tx *b_patient(fx *f, hre_key *k)
{
    hre_register_patient_payload p = {0};
    hre_tx *tx = NULL;
    HRE_T_OK(hre_contract_build_register_patient(&tx, f->t.id, k, nn(f, k), secs(f), &p));
    return tx;
}

static hre_tx *b_enc(fx *f, hre_key *s, uint8_t ttype, const uint8_t target[32], hre_key *enc)
{
    hre_set_enc_key_payload p;
    hre_tx *tx = NULL;
    p.target_type = ttype;
    memcpy(p.target, target, 32);
    tn_key_wire(enc, p.enc_key);
    HRE_T_OK(hre_contract_build_set_enc_key(&tx, f->t.id, s, nn(f, s), secs(f), &p));
    return tx;
}

static hre_tx *b_grant(fx *f, const uint8_t reader[32], uint64_t expiry)
{
    hre_grant_payload p;
    hre_tx *tx = NULL;
    memset(&p, 0, sizeof p);
    p.reader_type = HRE_READER_ACCOUNT;
    memcpy(p.reader, reader, 32);
    p.scope = HRE_SCOPE_ALL;
    p.expiry = expiry;
    HRE_T_OK(hre_contract_build_grant(&tx, f->t.id, f->patient, nn(f, f->patient), secs(f), &p));
    return tx;
}

static hre_tx *b_log(fx *f, hre_key *reader, const uint8_t rec[32])
{
    hre_log_access_payload p;
    hre_tx *tx = NULL;
    memcpy(p.record_id, rec, 32);
    p.purpose = 1;
    HRE_T_OK(hre_contract_build_log_access(&tx, f->t.id, reader, nn(f, reader), secs(f), &p));
    return tx;
}

static void fx_init(fx *f, uint32_t holder_rate_bytes)
{
    memset(f, 0, sizeof *f);
    g = f;
    tn_net_init(&f->t, 0);
    f->kh = genkey();
    f->kr = genkey();
    f->k3 = genkey();
    f->h = tn_node_add(&f->t, "h", f->kh, NULL);
    f->r = tn_node_add(&f->t, "r", f->kr, NULL);
    f->n3 = tn_node_add(&f->t, "n3", f->k3, NULL);
    f->h->opts.on_event = node_event;
    f->r->opts.on_event = node_event;
    f->n3->opts.on_event = node_event;
    if (holder_rate_bytes) f->h->opts.app_rate_bytes = holder_rate_bytes;
    tn_start(f->h);
    tn_start(f->r);
    tn_start(f->n3);
    /* the holder's node is the founding organisation's; r is the clinic's
     * node, n3 the hospital's (PROTOCOL.md 15.6 check 6: an organisation's
     * staff fetch through their organisation's nodes) */
    tn_register_node(f->h, NULL, NULL, f->kh);
    tn_mine(f->h, 1);
    {
        hre_key **ks[] = {&f->hadmin, &f->ladmin, &f->cadmin, &f->doctor, &f->hdoctor, &f->patient,
                          &f->stranger, &f->e_patient, &f->e_hosp, &f->e_lab, &f->e_doctor, &f->e_hdoctor,
                          &f->e_stranger};
        for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) *ks[i] = genkey();
    }
    addr_of(f->a_doctor, f->doctor);
    addr_of(f->a_hdoctor, f->hdoctor);
    addr_of(f->a_patient, f->patient);
    addr_of(f->a_stranger, f->stranger);
    sub(f, b_org(f, HRE_ORG_HOSPITAL, "City Hospital", f->hadmin), f->hosp);
    sub(f, b_org(f, HRE_ORG_LAB, "Central Lab", f->ladmin), f->lab);
    sub(f, b_org(f, HRE_ORG_CLINIC, "Far Clinic", f->cadmin), f->clinic);
    tn_mine(f->h, 1);
    sub(f, b_doctor(f, f->cadmin, f->doctor), NULL);
    sub(f, b_doctor(f, f->hadmin, f->hdoctor), NULL);
    sub(f, b_patient(f, f->patient), NULL);
    sub(f, b_patient(f, f->stranger), NULL);
    {
        uint64_t cn = nn(f, f->cadmin), hn = nn(f, f->hadmin);
        tn_register_node(f->h, f->cadmin, &cn, f->kr);
        tn_register_node(f->h, f->hadmin, &hn, f->k3);
    }
    tn_mine(f->h, 1);
    tn_connect(&f->t, f->r, f->h);
    tn_connect(&f->t, f->n3, f->h);
    ck_assert(tn_run(&f->t, all_synced, f, 60000));
    ck_assert(tn_run(&f->t, members, f, 60000));
    sub(f, b_enc(f, f->patient, HRE_ENC_TARGET_ACCOUNT, f->a_patient, f->e_patient), NULL);
    sub(f, b_enc(f, f->hadmin, HRE_ENC_TARGET_ORG, f->hosp, f->e_hosp), NULL);
    sub(f, b_enc(f, f->ladmin, HRE_ENC_TARGET_ORG, f->lab, f->e_lab), NULL);
    sub(f, b_enc(f, f->doctor, HRE_ENC_TARGET_ACCOUNT, f->a_doctor, f->e_doctor), NULL);
    sub(f, b_enc(f, f->hdoctor, HRE_ENC_TARGET_ACCOUNT, f->a_hdoctor, f->e_hdoctor), NULL);
    sub(f, b_enc(f, f->stranger, HRE_ENC_TARGET_ACCOUNT, f->a_stranger, f->e_stranger), NULL);
    mine(f);
    /* the holder's vault and the exchanges */
    HRE_T_OK(hre_storage_memory_new(&f->vst, 0));
    {
        hre_vault_options o = HRE_VAULT_OPTIONS_INIT;
        hre_vault_xch_options xo = HRE_VAULT_XCH_OPTIONS_INIT;
        o.storage = f->vst;
        HRE_T_OK(hre_vault_open(&f->v, &o));
        xo.node = f->h->node;
        xo.vault = f->v;
        xo.holder_type = HRE_VAULT_READER_ORG;
        memcpy(xo.holder_id, f->hosp, 32);
        xo.holder_key = f->e_hosp;
        xo.on_event = hold_event;
        xo.user_data = f;
        xo.log_fn = hold_log;
        xo.log_user_data = f;
        HRE_T_OK(hre_vault_xch_new(&f->xh, &xo));
        HRE_T_OK(hre_vault_xch_options_init(&xo, HRE_VAULT_XCH_OPTIONS_VERSION));
        xo.node = f->r->node;
        HRE_T_OK(hre_vault_xch_new(&f->xr, &xo));
        {
            hre_vault_xch *dup = (hre_vault_xch *)&dup;
            ck_assert_int_eq(hre_vault_xch_new(&dup, &xo), HRE_EEXISTS);   /* one per app type */
            ck_assert_ptr_null(dup);
        }
    }
    HRE_T_OK(hre_node_app_register(f->n3->node, APP, raw_handler, f));
}

static void fx_free(fx *f)
{
    hre_key *ks[] = {f->hadmin, f->ladmin, f->cadmin, f->doctor, f->hdoctor, f->patient, f->stranger,
                     f->e_patient, f->e_hosp, f->e_lab, f->e_doctor, f->e_hdoctor, f->e_stranger,
                     f->kh, f->kr, f->k3};
    hre_vault_xch_free(f->xh);
    hre_vault_xch_free(f->xr);
    f->xh = f->xr = NULL;
    tn_net_free(&f->t);
    hre_vault_close(f->v);
    hre_storage_free(f->vst);
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) hre_key_free(ks[i]);
    g = NULL;
}

/* Store doc in the holder's vault (readers: patient, hospital, lab) and
 * submit new_record + both signatures (not mined). store 0: a record whose
 * document the holder does not hold. */
static void issue(fx *f, uint8_t record[32], uint8_t hash[32], const uint8_t *doc, size_t len, int store)
{
    static const uint8_t salt[32] = "per-record-salt-0123456789abcdef";
    static const char hn[] = "City Hospital";
    hre_vault_seal_params sp = HRE_VAULT_SEAL_PARAMS_INIT;
    hre_new_record_payload p;
    hre_sign_record_payload s;
    hre_tx *tx = NULL;
    uint8_t locator[32];
    HRE_T_OK(hre_random_bytes(locator, 32));
    memcpy(sp.locator, locator, 32);
    sp.doc_version = 1;
    sp.media_type = "application/fhir+json";
    sp.sender_type = HRE_VAULT_READER_ORG;
    memcpy(sp.sender_id, f->hosp, 32);
    sp.sender_key = f->e_hosp;
    if (store) {
        hre_vault_store *st = NULL;
        HRE_T_OK(hre_vault_store_new(&st, f->v, &sp));
        HRE_T_OK(hre_vault_store_write(st, doc, len));
        HRE_T_OK(hre_vault_store_add_reader_by_id(st, hc(f), HRE_VAULT_READER_ACCOUNT, f->a_patient));
        HRE_T_OK(hre_vault_store_add_reader_by_id(st, hc(f), HRE_VAULT_READER_ORG, f->hosp));
        HRE_T_OK(hre_vault_store_add_reader_by_id(st, hc(f), HRE_VAULT_READER_ORG, f->lab));
        HRE_T_OK(hre_vault_store_commit(st, hash, NULL));
        hre_vault_store_free(st);
    } else {
        HRE_T_OK(hre_random_bytes(hash, 32));
    }
    memset(&p, 0, sizeof p);
    memcpy(p.patient, f->a_patient, 32);
    memcpy(p.lab_org, f->lab, 32);
    HRE_T_OK(hre_contract_commit(p.commit_patient_id, HRE_COMMIT_PATIENT_ID, salt, 32, (const uint8_t *)"MRN-7", 5));
    HRE_T_OK(hre_contract_commit(p.commit_test_name, HRE_COMMIT_TEST_NAME, salt, 32, (const uint8_t *)"CBC", 3));
    p.date = secs(f);
    p.price = 100;
    p.category = 1;
    memcpy(p.doc_sha256, hash, 32);
    p.hospital_name = (const uint8_t *)hn;
    p.hospital_name_len = strlen(hn);
    memcpy(p.locator, locator, 32);
    HRE_T_OK(hre_contract_build_new_record(&tx, f->t.id, f->hadmin, nn(f, f->hadmin), secs(f), &p));
    sub(f, tx, record);
    memcpy(s.record_id, record, 32);
    HRE_T_OK(hre_contract_build_sign_record(&tx, f->t.id, f->hadmin, nn(f, f->hadmin), secs(f), &s));
    sub(f, tx, NULL);
    HRE_T_OK(hre_contract_build_sign_record(&tx, f->t.id, f->ladmin, nn(f, f->ladmin), secs(f), &s));
    sub(f, tx, NULL);
}

typedef struct fwait {
    hre_vault_fetch *fe;
} fwait;

static int fetch_done_cond(tn_net *t, void *arg)
{
    fwait *w = arg;
    int done = 0, code = 0;
    HRE_T_OK(hre_vault_xch_tick(g->xh, t->now));
    HRE_T_OK(hre_vault_xch_tick(g->xr, t->now));
    HRE_T_OK(hre_vault_fetch_status(w->fe, &done, &code, NULL, NULL));
    return done;
}

/* Fetch rec from node r as (sk, ek): the code; *reason the refusal. */
static int fetch(fx *f, const uint8_t rec[32], hre_key *sk, hre_key *ek, buf *out, int *reason,
                 hre_vault_content *content)
{
    hre_vault_fetch_params p = HRE_VAULT_FETCH_PARAMS_INIT;
    fwait w = {NULL};
    int rc, done = 0, code = 0, why = 0;
    out->n = 0;
    p.conn = tn_conn_at(&f->t, f->r, f->h);
    memcpy(p.record_id, rec, 32);
    p.sign_key = sk;
    p.enc_key = ek;
    rc = hre_vault_fetch_new(&w.fe, f->xr, &p, buf_sink, out, f->t.now);
    if (rc != HRE_OK) {
        ck_assert_ptr_null(w.fe);
        if (reason) *reason = 0;
        return rc;
    }
    ck_assert(tn_run(&f->t, fetch_done_cond, &w, 600000));
    HRE_T_OK(hre_vault_fetch_status(w.fe, &done, &code, &why, content));
    ck_assert_int_eq(done, 1);
    if (reason) *reason = why;
    hre_vault_fetch_free(w.fe);
    return code;
}

/* The holder refused the last request for `reason`, with an event and a log line. */
static void assert_refused(fx *f, int reason)
{
    const hev *e = last_hev(f, HRE_VAULT_XCH_EVENT_REFUSED);
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(e->reason == reason, "refused %s, want %s", hre_vault_xch_refusal_name(e->reason),
                  hre_vault_xch_refusal_name(reason));
    ck_assert_int_eq(e->code, hre_vault_xch_refusal_code(reason));
    ck_assert_uint_gt(f->logs, 0);
}

/* ------------------------------------------------------------------------ */
/* Round trip                                                                */
/* ------------------------------------------------------------------------ */

typedef struct bundle {
    char path[600];
    uint8_t *data;
    size_t len;
    uint8_t rec[32], hash[32];
} bundle;

START_TEST(test_xch_fhir_roundtrip)
{
    /* every bundle of tests/data/fhir-stu3: stored at the hospital, issued
     * on the chain, granted to a doctor of another organisation, logged,
     * fetched over the node into the reader's opener */
    fx f;
    size_t slen = 0, nb = 0, i;
    char *sums, *line, *save = NULL;
    bundle *b = calloc(64, sizeof *b);
    buf out = {0};
    hre_vault_xch_stats hs = HRE_VAULT_XCH_STATS_INIT;
    uint64_t total = 0;
    fx_init(&f, 0);
    sums = hre_t_read_file(hre_t_data_path("fhir-stu3/SHA256SUMS"), &slen);
    ck_assert_ptr_nonnull(sums);
    for (line = strtok_r(sums, "\n", &save); line && nb < 64; line = strtok_r(NULL, "\n", &save)) {
        char rel[300];
        ck_assert_uint_gt(strlen(line), 66);
        snprintf(rel, sizeof rel, "fhir-stu3/%s", line + 66);
        snprintf(b[nb].path, sizeof b[nb].path, "%s", hre_t_data_path(rel));
        b[nb].data = (uint8_t *)hre_t_read_file(b[nb].path, &b[nb].len);
        ck_assert_ptr_nonnull(b[nb].data);
        nb++;
    }
    free(sums);
    ck_assert_uint_eq(nb, 57);
    for (i = 0; i < nb; i++) issue(&f, b[i].rec, b[i].hash, b[i].data, b[i].len, 1);
    mine(&f);
    {
        uint8_t gid[32];
        sub(&f, b_grant(&f, f.a_doctor, 0), gid);
    }
    mine(&f);
    for (i = 0; i < nb; i++) sub(&f, b_log(&f, f.doctor, b[i].rec), NULL);
    mine(&f);
    for (i = 0; i < nb; i++) {
        hre_vault_content c = HRE_VAULT_CONTENT_INIT;
        int reason = -1;
        int rc = fetch(&f, b[i].rec, f.doctor, f.e_doctor, &out, &reason, &c);
        ck_assert_msg(rc == HRE_OK, "%s: %d (%s) reason %s", b[i].path, rc, hre_strerror(rc),
                      hre_vault_xch_refusal_name(reason));
        ck_assert_int_eq(reason, 0);
        ck_assert_uint_eq(out.n, b[i].len);
        ck_assert(memcmp(out.p, b[i].data, out.n) == 0);
        ck_assert_uint_eq(c.doc_len, b[i].len);
        ck_assert_mem_eq(c.doc_hash, b[i].hash, 32);
        ck_assert_str_eq(c.media_type, "application/fhir+json");
        total += c.envelope_len;
    }
    HRE_T_OK(hre_vault_xch_stats_get(f.xh, &hs));
    ck_assert_uint_eq(hs.requests, nb);
    ck_assert_uint_eq(hs.served, nb);
    ck_assert_uint_eq(hs.refused, 0);
    ck_assert_uint_eq(hs.bytes_sent, total);
    ck_assert_uint_eq(hs.transfers, 0);
    /* the fresh wrap for the doctor is kept by the holder too */
    {
        hre_vault_wrap w;
        HRE_T_OK(hre_vault_wrap_get(f.v, &w, b[0].hash, HRE_VAULT_READER_ACCOUNT, f.a_doctor));
        ck_assert_uint_eq(w.mode, HRE_HPKE_MODE_AUTH);
    }
    printf("exchange: %zu FHIR bundles, %llu envelope bytes fetched\n", nb, (unsigned long long)total);
    for (i = 0; i < nb; i++) free(b[i].data);
    free(b);
    free(out.p);
    fx_free(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* LOG_ACCESS and the refusal reasons                                        */
/* ------------------------------------------------------------------------ */

static int in_holder_mempool(tn_net *t, void *arg)
{
    (void)t;
    return tn_in_mempool(g->h, arg);
}

START_TEST(test_xch_log_access)
{
    fx f;
    uint8_t rec[32], hash[32], lid[32];
    const uint8_t doc[] = "{\"resourceType\":\"Observation\",\"status\":\"final\"}";
    buf out = {0};
    int reason;
    fx_init(&f, 0);
    issue(&f, rec, hash, doc, sizeof doc, 1);
    sub(&f, b_grant(&f, f.a_doctor, 0), NULL);
    mine(&f);
    /* a live grant but no LOG_ACCESS: refused, nothing sent */
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_EAUTH);
    ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_NO_LOG_ACCESS);
    ck_assert_uint_eq(out.n, 0);
    assert_refused(&f, HRE_VAULT_XCH_REFUSE_NO_LOG_ACCESS);
    /* a LOG_ACCESS for ANOTHER record does not count */
    {
        uint8_t rec2[32], hash2[32];
        issue(&f, rec2, hash2, doc, sizeof doc, 1);
        mine(&f);
        sub(&f, b_log(&f, f.doctor, rec2), NULL);
        mine(&f);
        ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_EAUTH);
        ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_NO_LOG_ACCESS);
    }
    /* the reader's LOG_ACCESS, submitted at its own node, relayed into the
     * holder's mempool (not mined): served */
    {
        hre_tx *tx = b_log(&f, f.doctor, rec);
        HRE_T_OK(hre_tx_txid(tx, lid));
        tn_submit(f.r, tx);
        hre_tx_free(tx);
        ck_assert(tn_run(&f.t, in_holder_mempool, lid, 60000));
    }
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_OK);
    ck_assert_uint_eq(out.n, sizeof doc);
    ck_assert(memcmp(out.p, doc, sizeof doc) == 0);
    /* and once mined (on the chain) */
    mine(&f);
    ck_assert(!tn_in_mempool(f.h, lid));
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_OK);
    ck_assert_uint_eq(out.n, sizeof doc);
    /* the patient logs and fetches too (through the clinic's node: a
     * patient's request may come through any member node) */
    sub(&f, b_log(&f, f.patient, rec), NULL);
    sub(&f, b_log(&f, f.hdoctor, rec), NULL);
    mine(&f);
    ck_assert_int_eq(fetch(&f, rec, f.patient, f.e_patient, &out, &reason, NULL), HRE_OK);
    ck_assert_uint_eq(out.n, sizeof doc);
    /* a doctor of the issuing hospital (access by role, logged) through the
     * clinic's node: refused, the node is not the hospital's
     * (test_xch_node_org fetches it through the hospital's node) */
    ck_assert_int_eq(fetch(&f, rec, f.hdoctor, f.e_hdoctor, &out, &reason, NULL), HRE_EAUTH);
    ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_NOT_MEMBER);
    ck_assert_uint_eq(out.n, 0);
    /* the wrong encryption key: the wrap does not open */
    ck_assert_int_eq(fetch(&f, rec, f.patient, f.e_doctor, &out, &reason, NULL), HRE_EDECRYPT);
    free(out.p);
    fx_free(&f);
}
END_TEST

START_TEST(test_xch_refusal_reasons)
{
    fx f;
    uint8_t rec[32], hash[32], gid[32], rec_nh[32], hash_nh[32];
    const uint8_t doc[] = "{\"resourceType\":\"DiagnosticReport\"}";
    buf out = {0};
    int reason;
    fx_init(&f, 0);
    issue(&f, rec, hash, doc, sizeof doc, 1);
    issue(&f, rec_nh, hash_nh, doc, sizeof doc, 0);   /* the holder lacks its document */
    mine(&f);
    /* NO_GRANT: a doctor of another organisation without a grant */
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_EAUTH);
    ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_NO_GRANT);
    assert_refused(&f, HRE_VAULT_XCH_REFUSE_NO_GRANT);
    /* granted + logged: served; then REVOKED */
    sub(&f, b_grant(&f, f.a_doctor, 0), gid);
    mine(&f);
    sub(&f, b_log(&f, f.doctor, rec), NULL);
    sub(&f, b_log(&f, f.doctor, rec_nh), NULL);
    mine(&f);
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_OK);
    /* NOT_HELD: allowed and logged, but the holder's vault lacks the document */
    ck_assert_int_eq(fetch(&f, rec_nh, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_ENOTFOUND);
    ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_NOT_HELD);
    assert_refused(&f, HRE_VAULT_XCH_REFUSE_NOT_HELD);
    {
        hre_revoke_payload p;
        hre_tx *tx = NULL;
        memcpy(p.grant_id, gid, 32);
        HRE_T_OK(hre_contract_build_revoke(&tx, f.t.id, f.patient, nn(&f, f.patient), secs(&f), &p));
        sub(&f, tx, NULL);
        mine(&f);
    }
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_EREVOKED);
    ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_REVOKED);
    ck_assert_uint_eq(out.n, 0);
    assert_refused(&f, HRE_VAULT_XCH_REFUSE_REVOKED);
    /* EXPIRED: a grant to the stranger that runs out */
    sub(&f, b_grant(&f, f.a_stranger, secs(&f) + 30), NULL);
    mine(&f);
    sub(&f, b_log(&f, f.stranger, rec), NULL);
    mine(&f);
    ck_assert_int_eq(fetch(&f, rec, f.stranger, f.e_stranger, &out, &reason, NULL), HRE_OK);
    f.t.now += 40000;
    ck_assert_int_eq(fetch(&f, rec, f.stranger, f.e_stranger, &out, &reason, NULL), HRE_EEXPIRED);
    ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_EXPIRED);
    assert_refused(&f, HRE_VAULT_XCH_REFUSE_EXPIRED);
    /* SUSPENDED: the clinic suspends its doctor (whose node is the clinic's) */
    {
        hre_suspend_payload p;
        hre_tx *tx = NULL;
        memcpy(p.target, f.a_doctor, 32);
        p.action = HRE_SUSPEND_SUSPEND;
        HRE_T_OK(hre_contract_build_suspend(&tx, f.t.id, f.cadmin, nn(&f, f.cadmin), secs(&f), &p));
        sub(&f, tx, NULL);
        mine(&f);
    }
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_EAUTH);
    ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_SUSPENDED);
    assert_refused(&f, HRE_VAULT_XCH_REFUSE_SUSPENDED);
    /* NOT_MEMBER: a key that is no account's */
    {
        hre_key *nobody = genkey(), *enc = genkey();
        ck_assert_int_eq(fetch(&f, rec, nobody, enc, &out, &reason, NULL), HRE_EAUTH);
        ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_NOT_MEMBER);
        assert_refused(&f, HRE_VAULT_XCH_REFUSE_NOT_MEMBER);
        hre_key_free(nobody);
        hre_key_free(enc);
    }
    /* UNKNOWN_RECORD: the reader's own chain does not know it either: the
     * fetch is not even sent */
    {
        uint8_t nope[32];
        memset(nope, 0x5a, 32);
        ck_assert_int_eq(fetch(&f, nope, f.patient, f.e_patient, &out, &reason, NULL), HRE_ENOTFOUND);
    }
    /* ERASED: the patient erases the record; the reader's chain says so
     * before asking (the holder's refusal is tested in test_xch_raw_requests) */
    {
        hre_erase_record_payload p;
        hre_tx *tx = NULL;
        memcpy(p.record_id, rec, 32);
        HRE_T_OK(hre_contract_build_erase_record(&tx, f.t.id, f.patient, nn(&f, f.patient), secs(&f), &p));
        sub(&f, tx, NULL);
        mine(&f);
    }
    ck_assert_int_eq(fetch(&f, rec, f.patient, f.e_patient, &out, &reason, NULL), HRE_EERASED);
    free(out.p);
    fx_free(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Requests by hand (n3 speaks the exchange itself)                          */
/* ------------------------------------------------------------------------ */

static void hh_of(fx *f, tn_node *from, uint8_t out[32])
{
    hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
    HRE_T_OK(hre_node_peer_info_get(from->node, &pi, tn_conn_at(&f->t, from, f->h)));
    memcpy(out, pi.handshake_hash, 32);
}

static void make_req(fx *f, uint8_t out[HRE_VAULT_XCH_REQUEST_LEN], hre_key *k, const uint8_t rec[32],
                     uint64_t ts, tn_node *bound_to)
{
    hre_vault_xch_request r;
    size_t len = HRE_VAULT_XCH_REQUEST_LEN;
    memset(&r, 0, sizeof r);
    HRE_T_OK(hre_random_bytes(r.nonce, 16));
    r.timestamp_ms = ts;
    memcpy(r.record_id, rec, 32);
    hh_of(f, bound_to, r.binding);
    HRE_T_OK(hre_vault_xch_request_sign(&r, k));
    HRE_T_OK(hre_vault_xch_request_encode(&r, out, &len));
}

/* Send from n3 and settle: how many refusals came back. */
static void raw_send(fx *f, const uint8_t *b, size_t len)
{
    HRE_T_OK(hre_node_app_send(f->n3->node, tn_conn_at(&f->t, f->n3, f->h), APP, b, len, f->t.now));
    tn_settle(&f->t, 2000);
}

static void expect_raw_refusal(fx *f, size_t *seen, int reason)
{
    ck_assert_uint_eq(f->raw_refusals, *seen + 1);
    ck_assert_msg(f->raw_reason == reason, "raw refusal %s, want %s", hre_vault_xch_refusal_name(f->raw_reason),
                  hre_vault_xch_refusal_name(reason));
    assert_refused(f, reason);
    (*seen)++;
}

START_TEST(test_xch_raw_requests)
{
    fx f;
    uint8_t rec[32], hash[32], q[HRE_VAULT_XCH_REQUEST_LEN], q2[HRE_VAULT_XCH_REQUEST_LEN];
    const uint8_t doc[] = "{\"resourceType\":\"Bundle\",\"type\":\"document\"}";
    hre_vault_entry e = HRE_VAULT_ENTRY_INIT;
    size_t seen = 0, headers;
    fx_init(&f, 0);
    issue(&f, rec, hash, doc, sizeof doc, 1);
    mine(&f);
    sub(&f, b_log(&f, f.patient, rec), NULL);
    mine(&f);
    HRE_T_OK(hre_vault_entry_get(f.v, &e, hash));
    /* a good request: header + every envelope byte */
    make_req(&f, q, f.patient, rec, f.t.now, f.n3);
    raw_send(&f, q, sizeof q);
    ck_assert_uint_eq(f.raw_headers, 1);
    ck_assert_uint_eq(f.raw_bytes, e.envelope_len);
    ck_assert_uint_eq(f.raw_refusals, 0);
    ck_assert_ptr_nonnull(last_hev(&f, HRE_VAULT_XCH_EVENT_SERVED));
    /* replayed on the same channel */
    raw_send(&f, q, sizeof q);
    expect_raw_refusal(&f, &seen, HRE_VAULT_XCH_REFUSE_REPLAY);
    ck_assert_mem_eq(f.raw_nonce, q + 2, 16);
    /* tampered: the record id, the timestamp, the signature */
    {
        static const size_t at[] = {70, 20, 150};
        for (size_t i = 0; i < 3; i++) {
            make_req(&f, q2, f.patient, rec, f.t.now, f.n3);
            q2[at[i]] ^= 0x40;
            raw_send(&f, q2, sizeof q2);
            expect_raw_refusal(&f, &seen, HRE_VAULT_XCH_REFUSE_BAD_SIGNATURE);
        }
    }
    /* stale and from the future */
    make_req(&f, q2, f.patient, rec, f.t.now - HRE_VAULT_XCH_DEFAULT_FRESH_MS - 1000, f.n3);
    raw_send(&f, q2, sizeof q2);
    expect_raw_refusal(&f, &seen, HRE_VAULT_XCH_REFUSE_STALE);
    make_req(&f, q2, f.patient, rec, f.t.now + HRE_VAULT_XCH_DEFAULT_FRESH_MS + 5000, f.n3);
    raw_send(&f, q2, sizeof q2);
    expect_raw_refusal(&f, &seen, HRE_VAULT_XCH_REFUSE_STALE);
    /* bound to r's connection, sent on n3's */
    make_req(&f, q2, f.patient, rec, f.t.now, f.r);
    raw_send(&f, q2, sizeof q2);
    expect_raw_refusal(&f, &seen, HRE_VAULT_XCH_REFUSE_WRONG_CHANNEL);
    /* a real fetch's request from r, replayed by n3 on its own channel */
    {
        hre_vault_fetch_params p = HRE_VAULT_FETCH_PARAMS_INIT;
        hre_vault_fetch *fe = NULL;
        hre_vault_xch_request r;
        buf out = {0};
        fwait w;
        int done = 0, code = -1;
        p.conn = tn_conn_at(&f.t, f.r, f.h);
        memcpy(p.record_id, rec, 32);
        p.sign_key = f.patient;
        p.enc_key = f.e_patient;
        HRE_T_OK(hre_vault_fetch_new(&fe, f.xr, &p, buf_sink, &out, f.t.now));
        w.fe = fe;
        ck_assert(tn_run(&f.t, fetch_done_cond, &w, 60000));
        HRE_T_OK(hre_vault_fetch_status(fe, &done, &code, NULL, NULL));
        ck_assert_int_eq(code, HRE_OK);
        ck_assert_uint_eq(out.n, sizeof doc);
        HRE_T_OK(hre_vault_fetch_request(fe, &r));
        {
            size_t len = sizeof q2;
            HRE_T_OK(hre_vault_xch_request_encode(&r, q2, &len));
        }
        raw_send(&f, q2, sizeof q2);
        expect_raw_refusal(&f, &seen, HRE_VAULT_XCH_REFUSE_WRONG_CHANNEL);
        hre_vault_fetch_free(fe);
        free(out.p);
    }
    /* malformed */
    {
        uint8_t junk[40];
        memset(junk, 0, sizeof junk);
        junk[0] = HRE_VAULT_XCH_MSG_REQUEST;
        junk[1] = 1;
        raw_send(&f, junk, sizeof junk);
        expect_raw_refusal(&f, &seen, HRE_VAULT_XCH_REFUSE_MALFORMED);
    }
    /* UNKNOWN_RECORD on the holder's chain */
    {
        uint8_t nope[32];
        memset(nope, 0x77, 32);
        make_req(&f, q2, f.patient, nope, f.t.now, f.n3);
        raw_send(&f, q2, sizeof q2);
        expect_raw_refusal(&f, &seen, HRE_VAULT_XCH_REFUSE_UNKNOWN_RECORD);
    }
    /* ERASED: the holder's chain erased the record */
    {
        hre_erase_record_payload p;
        hre_tx *tx = NULL;
        memcpy(p.record_id, rec, 32);
        HRE_T_OK(hre_contract_build_erase_record(&tx, f.t.id, f.patient, nn(&f, f.patient), secs(&f), &p));
        sub(&f, tx, NULL);
        mine(&f);
        make_req(&f, q2, f.patient, rec, f.t.now, f.n3);
        raw_send(&f, q2, sizeof q2);
        expect_raw_refusal(&f, &seen, HRE_VAULT_XCH_REFUSE_ERASED);
    }
    headers = f.raw_headers;
    ck_assert_uint_eq(headers, 1);   /* nothing but the first request was served to n3 */
    fx_free(&f);
}
END_TEST

/* Replace the holder's exchange with one made with these options. */
static void holder_again(fx *f, uint32_t replay_max, uint32_t fresh_ms, uint32_t log_max_age_s)
{
    hre_vault_xch_options xo = HRE_VAULT_XCH_OPTIONS_INIT;
    hre_vault_xch_free(f->xh);
    f->xh = NULL;
    xo.node = f->h->node;
    xo.vault = f->v;
    xo.holder_type = HRE_VAULT_READER_ORG;
    memcpy(xo.holder_id, f->hosp, 32);
    xo.holder_key = f->e_hosp;
    xo.on_event = hold_event;
    xo.user_data = f;
    xo.log_fn = hold_log;
    xo.log_user_data = f;
    xo.replay_max = replay_max;
    xo.fresh_ms = fresh_ms;
    xo.log_max_age_s = log_max_age_s;
    HRE_T_OK(hre_vault_xch_new(&f->xh, &xo));
}

START_TEST(test_xch_busy)
{
    /* the replay cache is a cap too: full of fresh nonces -> BUSY, until
     * they age out of the window */
    fx f;
    uint8_t rec[32], hash[32], q[HRE_VAULT_XCH_REQUEST_LEN];
    const uint8_t doc[] = "{}";
    hre_vault_xch_stats st = HRE_VAULT_XCH_STATS_INIT;
    size_t seen = 0;
    fx_init(&f, 0);
    issue(&f, rec, hash, doc, sizeof doc, 1);
    mine(&f);
    sub(&f, b_log(&f, f.patient, rec), NULL);
    mine(&f);
    holder_again(&f, 2, 10000, 0);
    make_req(&f, q, f.patient, rec, f.t.now, f.n3);
    raw_send(&f, q, sizeof q);
    make_req(&f, q, f.patient, rec, f.t.now, f.n3);
    raw_send(&f, q, sizeof q);
    ck_assert_uint_eq(f.raw_headers, 2);
    make_req(&f, q, f.patient, rec, f.t.now, f.n3);
    raw_send(&f, q, sizeof q);
    expect_raw_refusal(&f, &seen, HRE_VAULT_XCH_REFUSE_BUSY);
    HRE_T_OK(hre_vault_xch_stats_get(f.xh, &st));
    ck_assert_uint_eq(st.replay_entries, 2);
    f.t.now += 12000;
    HRE_T_OK(hre_vault_xch_tick(f.xh, f.t.now));
    HRE_T_OK(hre_vault_xch_stats_get(f.xh, &st));
    ck_assert_uint_eq(st.replay_entries, 0);
    make_req(&f, q, f.patient, rec, f.t.now, f.n3);
    raw_send(&f, q, sizeof q);
    ck_assert_uint_eq(f.raw_headers, 3);
    fx_free(&f);
}
END_TEST

START_TEST(test_xch_log_access_age)
{
    /* log_max_age_s: an old LOG_ACCESS no longer releases the document */
    fx f;
    uint8_t rec[32], hash[32];
    const uint8_t doc[] = "{\"resourceType\":\"Observation\"}";
    buf out = {0};
    int reason;
    fx_init(&f, 0);
    holder_again(&f, 0, 0, 100);
    issue(&f, rec, hash, doc, sizeof doc, 1);
    mine(&f);
    sub(&f, b_log(&f, f.patient, rec), NULL);
    mine(&f);
    ck_assert_int_eq(fetch(&f, rec, f.patient, f.e_patient, &out, &reason, NULL), HRE_OK);
    f.t.now += 150000;
    ck_assert_int_eq(fetch(&f, rec, f.patient, f.e_patient, &out, &reason, NULL), HRE_EAUTH);
    ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_NO_LOG_ACCESS);
    assert_refused(&f, HRE_VAULT_XCH_REFUSE_NO_LOG_ACCESS);
    sub(&f, b_log(&f, f.patient, rec), NULL);   /* a fresh one, in the mempool */
    ck_assert_int_eq(fetch(&f, rec, f.patient, f.e_patient, &out, &reason, NULL), HRE_OK);
    ck_assert_uint_eq(out.n, sizeof doc);
    free(out.p);
    fx_free(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A holder whose stored envelope is damaged; back-pressure; disconnect     */
/* ------------------------------------------------------------------------ */

static void flip_stored(fx *f, const uint8_t hash[32], uint64_t off)
{
    char name[128], hx[49];
    size_t n = sizeof hx, got = 0;
    hre_storage_file *file = NULL;
    uint8_t c;
    HRE_T_OK(hre_hex_encode(hx, &n, hash, 24));
    snprintf(name, sizeof name, "vault-%s.env", hx);
    HRE_T_OK(hre_storage_file_open(&file, f->vst, name, HRE_STORAGE_READ | HRE_STORAGE_WRITE));
    HRE_T_OK(hre_storage_file_read(file, &c, 1, &got, off));
    ck_assert_uint_eq(got, 1);
    c ^= 0x01;
    HRE_T_OK(hre_storage_file_write(file, off, &c, 1));
    HRE_T_OK(hre_storage_file_close(file));
}

static uint8_t *rand_doc(size_t n)
{
    uint8_t *d = malloc(n);
    ck_assert_ptr_nonnull(d);
    HRE_T_OK(hre_random_bytes(d, n));
    return d;
}

START_TEST(test_xch_tampered_chunk)
{
    fx f;
    uint8_t rec[32], hash[32], rec2[32], hash2[32];
    size_t n = 200000;
    uint8_t *doc = rand_doc(n);
    buf out = {0};
    int reason;
    fx_init(&f, 0);
    issue(&f, rec, hash, doc, n, 1);
    issue(&f, rec2, hash2, doc, n, 1);
    mine(&f);
    sub(&f, b_log(&f, f.patient, rec), NULL);
    sub(&f, b_log(&f, f.patient, rec2), NULL);
    mine(&f);
    /* a byte of the second 64 KiB chunk's ciphertext */
    flip_stored(&f, hash, HRE_VAULT_HEADER_LEN + HRE_VAULT_CHUNK_WIRE_LEN + 1000);
    ck_assert_int_eq(fetch(&f, rec, f.patient, f.e_patient, &out, &reason, NULL), HRE_EDECRYPT);
    ck_assert_int_eq(reason, 0);
    ck_assert_uint_lt(out.n, n);   /* the first chunk's plaintext at most (authentic, incomplete) */
    /* a byte of the header (the locator): not this record's envelope */
    flip_stored(&f, hash2, 10);
    ck_assert_int_eq(fetch(&f, rec2, f.patient, f.e_patient, &out, &reason, NULL), HRE_EVERIFY);
    ck_assert_uint_eq(out.n, 0);
    free(doc);
    free(out.p);
    fx_free(&f);
}
END_TEST

START_TEST(test_xch_backpressure)
{
    /* 3 MiB through a holder node limited to 256 KiB/s of app bytes: the
     * transfer stalls on HRE_EAGAIN and resumes on APP_WRITABLE */
    fx f;
    uint8_t rec[32], hash[32];
    size_t n = 3u << 20;
    uint8_t *doc = rand_doc(n);
    buf out = {0};
    hre_vault_xch_stats st = HRE_VAULT_XCH_STATS_INIT;
    int reason;
    fx_init(&f, 256u * 1024u);
    issue(&f, rec, hash, doc, n, 1);
    mine(&f);
    sub(&f, b_log(&f, f.patient, rec), NULL);
    mine(&f);
    ck_assert_int_eq(fetch(&f, rec, f.patient, f.e_patient, &out, &reason, NULL), HRE_OK);
    ck_assert_uint_eq(out.n, n);
    ck_assert(memcmp(out.p, doc, n) == 0);
    HRE_T_OK(hre_vault_xch_stats_get(f.xh, &st));
    ck_assert_uint_gt(st.stalls, 0);
    ck_assert_uint_eq(st.served, 1);
    free(doc);
    free(out.p);
    fx_free(&f);
}
END_TEST

static int holder_mid_transfer(tn_net *t, void *arg)
{
    hre_vault_xch_stats st = HRE_VAULT_XCH_STATS_INIT;
    (void)t;
    (void)arg;
    HRE_T_OK(hre_vault_xch_stats_get(g->xh, &st));
    return st.bytes_sent > 600000;
}

START_TEST(test_xch_disconnect)
{
    fx f;
    uint8_t rec[32], hash[32];
    size_t n = 2u << 20;
    uint8_t *doc = rand_doc(n);
    buf out = {0};
    hre_vault_fetch_params p = HRE_VAULT_FETCH_PARAMS_INIT;
    hre_vault_fetch *fe = NULL;
    hre_vault_xch_stats st = HRE_VAULT_XCH_STATS_INIT;
    int done = 0, code = 0;
    fwait w;
    fx_init(&f, 256u * 1024u);
    issue(&f, rec, hash, doc, n, 1);
    mine(&f);
    sub(&f, b_log(&f, f.patient, rec), NULL);
    mine(&f);
    p.conn = tn_conn_at(&f.t, f.r, f.h);
    memcpy(p.record_id, rec, 32);
    p.sign_key = f.patient;
    p.enc_key = f.e_patient;
    HRE_T_OK(hre_vault_fetch_new(&fe, f.xr, &p, buf_sink, &out, f.t.now));
    ck_assert(tn_run(&f.t, holder_mid_transfer, NULL, 60000));
    HRE_T_OK(hre_vault_fetch_status(fe, &done, &code, NULL, NULL));
    ck_assert_int_eq(done, 0);
    HRE_T_OK(hre_node_peer_disconnect(f.r->node, p.conn, f.t.now));
    w.fe = fe;
    ck_assert(tn_run(&f.t, fetch_done_cond, &w, 60000));
    HRE_T_OK(hre_vault_fetch_status(fe, &done, &code, NULL, NULL));
    ck_assert_int_eq(code, HRE_ECANCELED);
    tn_settle(&f.t, 2000);
    HRE_T_OK(hre_vault_xch_stats_get(f.xh, &st));
    ck_assert_uint_eq(st.transfers, 0);
    ck_assert_ptr_nonnull(last_hev(&f, HRE_VAULT_XCH_EVENT_ABORTED));
    hre_vault_fetch_free(fe);
    free(doc);
    free(out.p);
    fx_free(&f);
}
END_TEST

/* A request signed in the reader's own process (hre_vault_fetch_new_signed):
 * the node takes the answer raw, the reader opens envelope and wrap itself;
 * a request bound to no connection of the node, a broken signature, a
 * nonce in use are refused at once. */
START_TEST(test_xch_signed_raw)
{
    fx f;
    uint8_t rec[32], hash[32], env_hash[32];
    size_t n = 200000;
    uint8_t *doc = rand_doc(n);
    buf env = {0}, out = {0};
    hre_vault_xch_request req;
    hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
    hre_vault_fetch *fe = NULL, *fe2 = NULL;
    hre_vault_wrap w;
    hre_vault_content c = HRE_VAULT_CONTENT_INIT;
    hre_vault_open_params op = HRE_VAULT_OPEN_PARAMS_INIT;
    hre_vault_opener *o = NULL;
    uint64_t conn;
    int done = 0, code = 0, reason = -1;
    fwait wt;
    fx_init(&f, 0);
    issue(&f, rec, hash, doc, n, 1);
    mine(&f);
    sub(&f, b_log(&f, f.patient, rec), NULL);
    mine(&f);
    conn = tn_conn_at(&f.t, f.r, f.h);
    HRE_T_OK(hre_node_peer_info_get(f.r->node, &pi, conn));
    memset(&req, 0, sizeof req);
    HRE_T_OK(hre_random_bytes(req.nonce, sizeof req.nonce));
    req.timestamp_ms = f.t.now;
    memcpy(req.record_id, rec, 32);
    memcpy(req.binding, pi.handshake_hash, 32);
    HRE_T_OK(hre_vault_xch_request_sign(&req, f.patient));
    {
        /* refusals before anything is sent */
        hre_vault_xch_request bad = req;
        bad.binding[0] ^= 1;
        HRE_T_OK(hre_vault_xch_request_sign(&bad, f.patient));
        ck_assert_int_eq(hre_vault_fetch_new_signed(&fe, f.xr, conn, &bad, buf_sink, &env, f.t.now),
                         HRE_EINVAL);
        ck_assert_ptr_null(fe);
        bad = req;
        bad.sig[5] ^= 0x40;
        ck_assert_int_eq(hre_vault_fetch_new_signed(&fe, f.xr, conn, &bad, buf_sink, &env, f.t.now),
                         HRE_EVERIFY);
        ck_assert_ptr_null(fe);
        bad = req;
        bad.record_id[0] ^= 1;
        HRE_T_OK(hre_vault_xch_request_sign(&bad, f.patient));
        ck_assert_int_eq(hre_vault_fetch_new_signed(&fe, f.xr, conn, &bad, buf_sink, &env, f.t.now),
                         HRE_ENOTFOUND);
        ck_assert_int_eq(hre_vault_fetch_new_signed(&fe, f.xr, conn, NULL, buf_sink, &env, f.t.now),
                         HRE_EINVAL);
    }
    HRE_T_OK(hre_vault_fetch_new_signed(&fe, f.xr, conn, &req, buf_sink, &env, f.t.now));
    ck_assert_int_eq(hre_vault_fetch_wrap(fe, &w), HRE_ESTATE);   /* no header yet */
    ck_assert_int_eq(hre_vault_fetch_new_signed(&fe2, f.xr, conn, &req, buf_sink, &env, f.t.now),
                     HRE_EEXISTS);
    wt.fe = fe;
    ck_assert(tn_run(&f.t, fetch_done_cond, &wt, 600000));
    HRE_T_OK(hre_vault_fetch_status(fe, &done, &code, &reason, &c));
    ck_assert_int_eq(done, 1);
    ck_assert_msg(code == HRE_OK, "%d %s", code, hre_vault_xch_refusal_name(reason));
    ck_assert_int_eq(reason, 0);
    /* raw: the node saw only the sealed envelope, exactly the stored one */
    ck_assert_uint_eq(c.envelope_len, env.n);
    ck_assert_mem_eq(c.doc_hash, hash, 32);
    ck_assert_uint_eq(c.doc_len, 0);
    HRE_T_OK(hre_sha256(env_hash, env.p, env.n));
    ck_assert_mem_eq(env_hash, hash, 32);
    ck_assert(env.n < n || memcmp(env.p + HRE_VAULT_HEADER_LEN, doc, 64) != 0);
    HRE_T_OK(hre_vault_fetch_wrap(fe, &w));
    ck_assert_mem_eq(w.doc_hash, hash, 32);
    ck_assert_mem_eq(w.reader_id, f.a_patient, 32);
    hre_vault_fetch_free(fe);
    /* the reader opens it with its own key */
    op.wrap = &w;
    op.reader_key = f.e_patient;
    HRE_T_OK(hre_vault_opener_new(&o, &op, buf_sink, &out));
    HRE_T_OK(hre_vault_opener_write(o, env.p, env.n));
    HRE_T_OK(hre_vault_opener_finish(o, NULL));
    hre_vault_opener_free(o);
    ck_assert_uint_eq(out.n, n);
    ck_assert(memcmp(out.p, doc, n) == 0);
    ck_assert_int_eq(hre_vault_fetch_wrap(NULL, &w), HRE_EINVAL);
    free(doc);
    free(env.p);
    free(out.p);
    fx_free(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Issue 11 review: the judging time, the node's organisation, the mempool  */
/* ------------------------------------------------------------------------ */

START_TEST(test_xch_judge_time)
{
    /* the holder judges grants at max(wall clock, tip block time): a grant
     * whose expiry the chain's tip has passed is refused although the
     * holder's wall clock is still before it; and one the wall clock has
     * passed is refused although no block has passed it yet */
    fx f;
    uint8_t rec[32], hash[32], bh[32];
    const uint8_t doc[] = "{\"resourceType\":\"Observation\",\"id\":\"t\"}";
    buf out = {0};
    int reason;
    hre_ledger_status st;
    hre_header hd;
    uint64_t height = 0, expiry;
    fx_init(&f, 0);
    issue(&f, rec, hash, doc, sizeof doc, 1);
    expiry = secs(&f) + 100;
    sub(&f, b_grant(&f, f.a_stranger, expiry), NULL);
    mine(&f);
    sub(&f, b_log(&f, f.stranger, rec), NULL);
    mine(&f);
    ck_assert_int_eq(fetch(&f, rec, f.stranger, f.e_stranger, &out, &reason, NULL), HRE_OK);
    ck_assert_uint_eq(out.n, sizeof doc);
    /* a block stamped 200 s ahead of the holder's clock (valid: within 2 h),
     * mined by the reader's node (the holder's own clock stays behind) */
    {
        hre_tx *tx = b_log(&f, f.patient, rec);
        tn_submit(f.r, tx);
        hre_tx_free(tx);
    }
    HRE_T_OK(hre_node_mine(f.r->node, bh, &st, f.t.now + 200000, HRE_POW_ALL_NONCES));
    ck_assert_int_eq(st, HRE_LEDGER_CONNECTED);
    ck_assert(tn_run(&f.t, all_synced, &f, 60000));
    HRE_T_OK(hre_ledger_tip(f.h->l, &height, NULL));
    HRE_T_OK(hre_ledger_header_by_height(f.h->l, &hd, NULL, height));
    ck_assert_uint_ge(hd.time, expiry);
    ck_assert_uint_lt(secs(&f), expiry);   /* the wall clock has not reached it */
    ck_assert_int_eq(fetch(&f, rec, f.stranger, f.e_stranger, &out, &reason, NULL), HRE_EEXPIRED);
    ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_EXPIRED);
    ck_assert_uint_eq(out.n, 0);
    assert_refused(&f, HRE_VAULT_XCH_REFUSE_EXPIRED);
    /* the other direction: a grant live at the tip's time, whose expiry the
     * wall clock then passes with no new block */
    expiry = (uint64_t)hd.time + 60;
    sub(&f, b_grant(&f, f.a_doctor, expiry), NULL);
    mine(&f);
    sub(&f, b_log(&f, f.doctor, rec), NULL);
    mine(&f);
    HRE_T_OK(hre_ledger_tip(f.h->l, &height, NULL));
    HRE_T_OK(hre_ledger_header_by_height(f.h->l, &hd, NULL, height));
    ck_assert_uint_lt(hd.time, expiry);
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_OK);
    f.t.now = (expiry + 5) * 1000;
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_EEXPIRED);
    ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_EXPIRED);
    HRE_T_OK(hre_ledger_tip(f.h->l, &height, NULL));
    HRE_T_OK(hre_ledger_header_by_height(f.h->l, &hd, NULL, height));
    ck_assert_uint_lt(hd.time, expiry);    /* the tip alone would still allow it */
    free(out.p);
    fx_free(&f);
}
END_TEST

START_TEST(test_xch_node_org)
{
    /* an organisation's staff fetch only through a node their organisation
     * registered; a patient (no organisation) through any member node */
    fx f;
    uint8_t rec[32], hash[32], q[HRE_VAULT_XCH_REQUEST_LEN];
    const uint8_t doc[] = "{\"resourceType\":\"Bundle\",\"id\":\"org\"}";
    buf out = {0};
    int reason;
    size_t seen = 0;
    fx_init(&f, 0);
    issue(&f, rec, hash, doc, sizeof doc, 1);
    sub(&f, b_grant(&f, f.a_doctor, 0), NULL);
    mine(&f);
    sub(&f, b_log(&f, f.doctor, rec), NULL);
    sub(&f, b_log(&f, f.hdoctor, rec), NULL);
    sub(&f, b_log(&f, f.patient, rec), NULL);
    mine(&f);
    /* r is the clinic's node: the clinic's doctor is served, the hospital's
     * doctor (access by role) is not */
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_OK);
    ck_assert_uint_eq(out.n, sizeof doc);
    ck_assert_int_eq(fetch(&f, rec, f.hdoctor, f.e_hdoctor, &out, &reason, NULL), HRE_EAUTH);
    ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_NOT_MEMBER);
    ck_assert_uint_eq(out.n, 0);
    assert_refused(&f, HRE_VAULT_XCH_REFUSE_NOT_MEMBER);
    /* n3 is the hospital's node: the reverse */
    make_req(&f, q, f.hdoctor, rec, f.t.now, f.n3);
    raw_send(&f, q, sizeof q);
    ck_assert_uint_eq(f.raw_headers, 1);
    ck_assert_uint_eq(f.raw_refusals, 0);
    make_req(&f, q, f.doctor, rec, f.t.now, f.n3);
    raw_send(&f, q, sizeof q);
    expect_raw_refusal(&f, &seen, HRE_VAULT_XCH_REFUSE_NOT_MEMBER);
    ck_assert_uint_eq(f.raw_headers, 1);
    /* the patient through either */
    ck_assert_int_eq(fetch(&f, rec, f.patient, f.e_patient, &out, &reason, NULL), HRE_OK);
    make_req(&f, q, f.patient, rec, f.t.now, f.n3);
    raw_send(&f, q, sizeof q);
    ck_assert_uint_eq(f.raw_headers, 2);
    free(out.p);
    fx_free(&f);
}
END_TEST

START_TEST(test_xch_rate_limit)
{
    /* a peer may send `burst` requests at once and `per_s` a second: the
     * rest are refused BUSY before anything else is checked, and the bucket
     * refills with time */
    fx f;
    uint8_t rec[32], hash[32], q[5][HRE_VAULT_XCH_REQUEST_LEN];
    const uint8_t doc[] = "{\"resourceType\":\"Observation\",\"id\":\"rate\"}";
    buf out = {0};
    int reason;
    size_t i, seen;
    uint64_t c3;
    fx_init(&f, 0);
    issue(&f, rec, hash, doc, sizeof doc, 1);
    mine(&f);
    sub(&f, b_log(&f, f.patient, rec), NULL);
    mine(&f);
    ck_assert_int_eq(hre_vault_xch_set_rate_limit(NULL, 1, 1), HRE_EINVAL);
    ck_assert_int_eq(hre_vault_xch_set_rate_limit(f.xh, 1, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_vault_xch_set_rate_limit(f.xh, HRE_VAULT_XCH_RATE_BURST_MAX + 1, 1), HRE_EINVAL);
    HRE_T_OK(hre_vault_xch_set_rate_limit(f.xh, 1, 3));
    /* five requests from n3 at one instant: three served, two refused */
    c3 = tn_conn_at(&f.t, f.n3, f.h);
    for (i = 0; i < 5; i++) make_req(&f, q[i], f.patient, rec, f.t.now, f.n3);
    for (i = 0; i < 5; i++) HRE_T_OK(hre_node_app_send(f.n3->node, c3, APP, q[i], sizeof q[i], f.t.now));
    tn_settle(&f.t, 100);
    ck_assert_uint_eq(f.raw_headers, 3);
    ck_assert_uint_eq(f.raw_refusals, 2);
    ck_assert_int_eq(f.raw_reason, HRE_VAULT_XCH_REFUSE_BUSY);
    ck_assert_mem_eq(f.raw_nonce, q[4] + 2, 16);
    assert_refused(&f, HRE_VAULT_XCH_REFUSE_BUSY);
    /* another peer has its own bucket */
    ck_assert_int_eq(fetch(&f, rec, f.patient, f.e_patient, &out, &reason, NULL), HRE_OK);
    /* a refused request's nonce was not spent: after a second it is served */
    f.t.now += 1500;
    HRE_T_OK(hre_node_app_send(f.n3->node, c3, APP, q[4], sizeof q[4], f.t.now));
    tn_settle(&f.t, 100);
    ck_assert_uint_eq(f.raw_headers, 4);
    ck_assert_uint_eq(f.raw_refusals, 2);
    /* 0: no limit */
    HRE_T_OK(hre_vault_xch_set_rate_limit(f.xh, 0, 0));
    seen = f.raw_headers;
    for (i = 0; i < 5; i++) make_req(&f, q[i], f.patient, rec, f.t.now, f.n3);
    for (i = 0; i < 3; i++) HRE_T_OK(hre_node_app_send(f.n3->node, c3, APP, q[i], sizeof q[i], f.t.now));
    tn_settle(&f.t, 100);
    ck_assert_uint_eq(f.raw_headers, seen + 3);
    ck_assert_uint_eq(f.raw_refusals, 2);
    free(out.p);
    fx_free(&f);
}
END_TEST

#ifdef HRE_WHITEBOX
START_TEST(test_xch_mempool_bound)
{
    /* a mempool of many unrelated transactions: one request decodes at
     * most HRE_VAULT__XCH_MEMPOOL_DECODE_MAX of them (BUSY: retry when it
     * found nothing), each is decoded once, and a later request decodes
     * none */
    fx f;
    uint8_t rec[32], hash[32];
    const uint8_t doc[] = "{\"resourceType\":\"Observation\",\"id\":\"mp\"}";
    const size_t B = HRE_VAULT__XCH_MEMPOOL_DECODE_MAX, n = 2 * B + 88;
    buf out = {0};
    int reason;
    size_t i;
    uint64_t d0;
    fx_init(&f, 0);
    issue(&f, rec, hash, doc, sizeof doc, 1);
    mine(&f);
    sub(&f, b_log(&f, f.patient, rec), NULL);   /* the oldest mempool entry */
    for (i = 0; i < n; i++) {
        hre_key *k = genkey();
        uint8_t b[HRE_TX_MAX_LEN];
        size_t len = tn_tx_patient(&f.t, b, sizeof b, k, 0);
        hre_ledger_status st;
        HRE_T_OK(hre_node_submit_tx(f.h->node, NULL, &st, b, len, f.t.now));
        ck_assert_int_eq(st, HRE_LEDGER_ACCEPTED_TX);
        hre_key_free(k);
    }
    ck_assert_uint_eq(hre_ledger_mempool_count(f.h->l), n + 1);
    d0 = hre_vault__xch_mempool_decodes(f.xh);
    ck_assert_uint_eq(d0, 0);
    ck_assert_int_eq(fetch(&f, rec, f.patient, f.e_patient, &out, &reason, NULL), HRE_ELIMIT);
    ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_BUSY);
    ck_assert_uint_eq(hre_vault__xch_mempool_decodes(f.xh), B);
    ck_assert_int_eq(fetch(&f, rec, f.patient, f.e_patient, &out, &reason, NULL), HRE_ELIMIT);
    ck_assert_uint_eq(hre_vault__xch_mempool_decodes(f.xh), 2 * B);
    ck_assert_int_eq(fetch(&f, rec, f.patient, f.e_patient, &out, &reason, NULL), HRE_OK);
    ck_assert_uint_eq(out.n, sizeof doc);
    ck_assert_uint_eq(hre_vault__xch_mempool_decodes(f.xh), n + 1);
    ck_assert_uint_eq(hre_vault__xch_mempool_cached(f.xh), n + 1);
    /* every entry is known now: no decode at all */
    ck_assert_int_eq(fetch(&f, rec, f.patient, f.e_patient, &out, &reason, NULL), HRE_OK);
    ck_assert_uint_eq(hre_vault__xch_mempool_decodes(f.xh), n + 1);
    /* mined: the cache outgrew the mempool, what left it is dropped */
    mine(&f);
    {
        uint8_t rec2[32], hash2[32], rec3[32], hash3[32];
        issue(&f, rec2, hash2, doc, sizeof doc, 1);
        issue(&f, rec3, hash3, doc, sizeof doc, 1);
        mine(&f);
        sub(&f, b_log(&f, f.patient, rec2), NULL);
        ck_assert_int_eq(fetch(&f, rec2, f.patient, f.e_patient, &out, &reason, NULL), HRE_OK);
        ck_assert_uint_eq(hre_vault__xch_mempool_decodes(f.xh), n + 2);
        ck_assert_uint_eq(hre_vault__xch_mempool_cached(f.xh), 1);
        /* an empty mempool: nothing remembered, nothing decoded */
        mine(&f);
        ck_assert_uint_eq(hre_ledger_mempool_count(f.h->l), 0);
        ck_assert_int_eq(fetch(&f, rec3, f.patient, f.e_patient, &out, &reason, NULL), HRE_EAUTH);
        ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_NO_LOG_ACCESS);
        ck_assert_uint_eq(hre_vault__xch_mempool_cached(f.xh), 0);
        ck_assert_uint_eq(hre_vault__xch_mempool_decodes(f.xh), n + 2);
    }
    free(out.p);
    fx_free(&f);
}
END_TEST
#endif

START_TEST(test_xch_args)
{
    hre_vault_xch *x = (hre_vault_xch *)&x;
    hre_vault_xch_options xo = HRE_VAULT_XCH_OPTIONS_INIT;
    ck_assert_int_eq(hre_vault_xch_new(&x, &xo), HRE_EINVAL);   /* no node */
    ck_assert_ptr_null(x);
    ck_assert_int_eq(hre_vault_xch_options_init(&xo, HRE_VAULT_XCH_OPTIONS_VERSION + 1), HRE_EUNSUPPORTED);
    /* version 1 (without audit_max) is still taken */
    HRE_T_OK(hre_vault_xch_options_init(&xo, 1));
    ck_assert_uint_eq(xo.version, 1);
    HRE_T_OK(hre_vault_xch_options_init(&xo, HRE_VAULT_XCH_OPTIONS_VERSION));
    ck_assert_uint_eq(xo.audit_max, 0);
    {
        hre_vault_xch_stats st;
        HRE_T_OK(hre_vault_xch_stats_init(&st, 1));
        ck_assert_int_eq(hre_vault_xch_stats_init(&st, HRE_VAULT_XCH_STATS_VERSION + 1), HRE_EUNSUPPORTED);
    }
    xo.version = 9;
    ck_assert_int_eq(hre_vault_xch_new(&x, &xo), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_vault_xch_tick(NULL, 0), HRE_EINVAL);
    hre_vault_xch_free(NULL);
    hre_vault_fetch_free(NULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A REVOKE waiting in the holder's mempool counts (PROTOCOL.md 15.6 check 9) */
/* ------------------------------------------------------------------------ */

static hre_tx *b_revoke(fx *f, hre_key *signer, const uint8_t gid[32])
{
    hre_revoke_payload p;
    hre_tx *tx = NULL;
    memcpy(p.grant_id, gid, 32);
    HRE_T_OK(hre_contract_build_revoke(&tx, f->t.id, signer, nn(f, signer), secs(f), &p));
    return tx;
}

START_TEST(test_xch_revoke_pending)
{
    fx f;
    uint8_t rec[32], hash[32], gid[32], g_old[32], g_new[32], rid[32], oid[32];
    const uint8_t doc[] = "{\"resourceType\":\"Observation\",\"status\":\"preliminary\"}";
    buf out = {0};
    int reason;
    const hev *e;
    fx_init(&f, 0);
    issue(&f, rec, hash, doc, sizeof doc, 1);
    sub(&f, b_grant(&f, f.a_doctor, 0), gid);
    mine(&f);
    sub(&f, b_log(&f, f.doctor, rec), NULL);
    mine(&f);
    /* before the REVOKE: served */
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_OK);
    ck_assert_uint_eq(out.n, sizeof doc);
    /* the patient's REVOKE only in the holder's mempool: refused revoked */
    sub(&f, b_revoke(&f, f.patient, gid), rid);
    ck_assert(tn_in_mempool(f.h, rid));
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_EREVOKED);
    ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_REVOKED);
    ck_assert_uint_eq(out.n, 0);
    assert_refused(&f, HRE_VAULT_XCH_REFUSE_REVOKED);
    e = last_hev(&f, HRE_VAULT_XCH_EVENT_REFUSED);
    ck_assert_msg(strstr(e->detail, "pending in the mempool") != NULL, "detail: %s", e->detail);
    ck_assert(tn_in_mempool(f.h, rid));   /* not mined in between */
    /* mined: still refused, now by the chain's state */
    mine(&f);
    ck_assert(!tn_in_mempool(f.h, rid));
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_EREVOKED);
    ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_REVOKED);
    e = last_hev(&f, HRE_VAULT_XCH_EVENT_REFUSED);
    ck_assert_msg(strstr(e->detail, "mempool") == NULL, "detail: %s", e->detail);

    /* the stranger holds two live grants; access stands on the newer one */
    sub(&f, b_grant(&f, f.a_stranger, 0), g_old);
    mine(&f);
    sub(&f, b_grant(&f, f.a_stranger, 0), g_new);
    sub(&f, b_log(&f, f.stranger, rec), NULL);
    mine(&f);
    ck_assert_int_eq(fetch(&f, rec, f.stranger, f.e_stranger, &out, &reason, NULL), HRE_OK);
    /* a REVOKE by anyone but the grant's patient never enters the mempool
     * (the contract refuses it) and does not block */
    {
        uint8_t b[HRE_TX_MAX_LEN];
        size_t len = sizeof b;
        hre_ledger_status st = HRE_LEDGER_ACCEPTED_TX;
        hre_tx *tx = b_revoke(&f, f.doctor, g_new);
        HRE_T_OK(hre_tx_encode(tx, b, &len));
        HRE_T_OK(hre_tx_txid(tx, oid));
        ck_assert_int_ne(hre_node_submit_tx(f.h->node, NULL, &st, b, len, f.t.now), HRE_OK);
        ck_assert_int_eq(st, HRE_LEDGER_REJECT_CONTRACT);
        hre_tx_free(tx);
        ck_assert(!tn_in_mempool(f.h, oid));
#ifdef HRE_WHITEBOX
        /* and were it in the mempool, the holder would not count it: the
         * sender is not the grant's patient (white box: the predicate the
         * scan applies to each cached transaction) */
        ck_assert_int_eq(hre_vault__xch_tx_revokes(hc(&f), b, len, g_new, f.a_patient), 0);
        tx = b_revoke(&f, f.stranger, g_new);   /* the reader itself */
        len = sizeof b;
        HRE_T_OK(hre_tx_encode(tx, b, &len));
        hre_tx_free(tx);
        ck_assert_int_eq(hre_vault__xch_tx_revokes(hc(&f), b, len, g_new, f.a_patient), 0);
        tx = b_revoke(&f, f.patient, g_new);    /* the patient: counts */
        len = sizeof b;
        HRE_T_OK(hre_tx_encode(tx, b, &len));
        hre_tx_free(tx);
        ck_assert_int_eq(hre_vault__xch_tx_revokes(hc(&f), b, len, g_new, f.a_patient), 1);
        ck_assert_int_eq(hre_vault__xch_tx_revokes(hc(&f), b, len, g_old, f.a_patient), 0);
#else
        tx = b_revoke(&f, f.patient, g_new);
        len = sizeof b;
        HRE_T_OK(hre_tx_encode(tx, b, &len));
        hre_tx_free(tx);
#endif
        /* a patient's REVOKE whose bytes were changed is no transaction the
         * mempool takes */
        b[len - 1] ^= 1;
        st = HRE_LEDGER_ACCEPTED_TX;
        ck_assert_int_ne(hre_node_submit_tx(f.h->node, NULL, &st, b, len, f.t.now), HRE_OK);
        ck_assert_int_ne(st, HRE_LEDGER_ACCEPTED_TX);
    }
    ck_assert_int_eq(fetch(&f, rec, f.stranger, f.e_stranger, &out, &reason, NULL), HRE_OK);
    /* a pending REVOKE of a grant the access does not stand on (the older
     * one) does not block either */
    sub(&f, b_revoke(&f, f.patient, g_old), rid);
    ck_assert(tn_in_mempool(f.h, rid));
    ck_assert_int_eq(fetch(&f, rec, f.stranger, f.e_stranger, &out, &reason, NULL), HRE_OK);
    ck_assert_uint_eq(out.n, sizeof doc);
    /* the one it stands on: refused */
    sub(&f, b_revoke(&f, f.patient, g_new), rid);
    ck_assert_int_eq(fetch(&f, rec, f.stranger, f.e_stranger, &out, &reason, NULL), HRE_EREVOKED);
    ck_assert_int_eq(reason, HRE_VAULT_XCH_REFUSE_REVOKED);
    /* the patient itself (access as the patient) is never blocked by a REVOKE */
    sub(&f, b_log(&f, f.patient, rec), NULL);
    ck_assert_int_eq(fetch(&f, rec, f.patient, f.e_patient, &out, &reason, NULL), HRE_OK);
    mine(&f);
    ck_assert_int_eq(fetch(&f, rec, f.stranger, f.e_stranger, &out, &reason, NULL), HRE_EREVOKED);
    free(out.p);
    fx_free(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The refusal audit log (PROTOCOL.md 15.8)                                  */
/* ------------------------------------------------------------------------ */

/* Close the holder's exchange and vault and open both again on the same
 * storage (a restart), the log keeping audit_max records. */
static int holder_restart(fx *f, uint32_t audit_max)
{
    hre_vault_options o = HRE_VAULT_OPTIONS_INIT;
    hre_vault_xch_options xo = HRE_VAULT_XCH_OPTIONS_INIT;
    int rc;
    hre_vault_xch_free(f->xh);
    f->xh = NULL;
    hre_vault_close(f->v);
    f->v = NULL;
    o.storage = f->vst;
    HRE_T_OK(hre_vault_open(&f->v, &o));
    xo.node = f->h->node;
    xo.vault = f->v;
    xo.holder_type = HRE_VAULT_READER_ORG;
    memcpy(xo.holder_id, f->hosp, 32);
    xo.holder_key = f->e_hosp;
    xo.on_event = hold_event;
    xo.user_data = f;
    xo.log_fn = hold_log;
    xo.log_user_data = f;
    xo.audit_max = audit_max;
    rc = hre_vault_xch_new(&f->xh, &xo);
    if (rc != HRE_OK) ck_assert_ptr_null(f->xh);
    return rc;
}

static size_t refusals(fx *f, hre_vault_xch_audit *out, size_t cap)
{
    size_t n = cap;
    HRE_T_OK(hre_vault_xch_refusals(f->v, out, sizeof *out, &n));
    return n;
}

START_TEST(test_xch_audit_restart)
{
    fx f;
    uint8_t rec[32], hash[32], rec_nh[32], hash_nh[32], kr[34], zero[32] = {0};
    const uint8_t doc[] = "{\"resourceType\":\"Observation\"}";
    hre_vault_xch_audit a[16];
    hre_vault_xch_stats hs = HRE_VAULT_XCH_STATS_INIT;
    buf out = {0};
    int reason;
    size_t n, i;
    uint64_t t0;
    fx_init(&f, 0);
    tn_key_wire(f.kr, kr);
    ck_assert_uint_eq(refusals(&f, a, 16), 0);   /* an empty log */
    issue(&f, rec, hash, doc, sizeof doc, 1);
    issue(&f, rec_nh, hash_nh, doc, sizeof doc, 0);
    mine(&f);
    t0 = f.t.now;
    /* 1: no grant; 2: no LOG_ACCESS; 3: not held */
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_EAUTH);
    sub(&f, b_grant(&f, f.a_doctor, 0), NULL);
    mine(&f);
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_EAUTH);
    sub(&f, b_log(&f, f.doctor, rec_nh), NULL);
    mine(&f);
    ck_assert_int_eq(fetch(&f, rec_nh, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_ENOTFOUND);
    /* a served request leaves no record */
    sub(&f, b_log(&f, f.doctor, rec), NULL);
    mine(&f);
    ck_assert_int_eq(fetch(&f, rec, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_OK);
    {
        /* the list convention: too small a list says how many */
        size_t small = 1;
        ck_assert_int_eq(hre_vault_xch_refusals(f.v, a, sizeof a[0], &small), HRE_EBUFSIZE);
        ck_assert_uint_eq(small, 3);
        small = 0;
        ck_assert_int_eq(hre_vault_xch_refusals(f.v, NULL, sizeof a[0], &small), HRE_EBUFSIZE);
        ck_assert_uint_eq(small, 3);
        ck_assert_int_eq(hre_vault_xch_refusals(f.v, a, 8, &small), HRE_EUNSUPPORTED);
        ck_assert_int_eq(hre_vault_xch_refusals(NULL, a, sizeof a[0], &small), HRE_EINVAL);
    }
    for (int round = 0; round < 2; round++) {
        /* round 1: after a restart (exchange and vault closed and opened again) */
        if (round == 1) HRE_T_OK(holder_restart(&f, 0));
        memset(a, 0xee, sizeof a);
        n = refusals(&f, a, 16);
        ck_assert_uint_eq(n, 3);
        for (i = 0; i < n; i++) {
            ck_assert_uint_eq(a[i].version, HRE_VAULT_XCH_AUDIT_VERSION);
            ck_assert_uint_eq(a[i].seq, i + 1);
            ck_assert_uint_ge(a[i].time_ms, t0);
            ck_assert_uint_le(a[i].time_ms, f.t.now);
            if (i) ck_assert_uint_ge(a[i].time_ms, a[i - 1].time_ms);
            ck_assert_uint_eq(a[i].conn, tn_conn_at(&f.t, f.h, f.r));
            ck_assert_uint_eq(a[i].flags, HRE_VAULT_XCH_AUDIT_HAS_PEER | HRE_VAULT_XCH_AUDIT_HAS_READER |
                                              HRE_VAULT_XCH_AUDIT_HAS_RECORD | HRE_VAULT_XCH_AUDIT_HAS_NONCE);
            ck_assert_mem_eq(a[i].peer_key, kr, 34);
            ck_assert_mem_eq(a[i].reader, f.a_doctor, 32);
            ck_assert(memcmp(a[i].request_hash, zero, 32) != 0);
            ck_assert(memcmp(a[i].nonce, zero, 16) != 0);
            if (i) ck_assert(memcmp(a[i].nonce, a[i - 1].nonce, 16) != 0);
        }
        ck_assert_int_eq(a[0].reason, HRE_VAULT_XCH_REFUSE_NO_GRANT);
        ck_assert_int_eq(a[0].access_reason, HRE_ACCESS_NO_GRANT);
        ck_assert_mem_eq(a[0].record_id, rec, 32);
        ck_assert_int_eq(a[1].reason, HRE_VAULT_XCH_REFUSE_NO_LOG_ACCESS);
        ck_assert_int_eq(a[1].access_reason, 0);
        ck_assert_mem_eq(a[1].record_id, rec, 32);
        ck_assert_int_eq(a[2].reason, HRE_VAULT_XCH_REFUSE_NOT_HELD);
        ck_assert_mem_eq(a[2].record_id, rec_nh, 32);
    }
    /* numbering continues after the restart */
    ck_assert_int_eq(fetch(&f, rec_nh, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_ENOTFOUND);
    n = refusals(&f, a, 16);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(a[3].seq, 4);
    ck_assert_int_eq(a[3].reason, HRE_VAULT_XCH_REFUSE_NOT_HELD);
    /* the cap: a restart with audit_max 3 keeps the newest 3, and the ring
     * then holds the newest 3 whatever comes */
    HRE_T_OK(holder_restart(&f, 3));
    n = refusals(&f, a, 16);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(a[0].seq, 2);
    ck_assert_uint_eq(a[2].seq, 4);
    for (i = 0; i < 5; i++)
        ck_assert_int_eq(fetch(&f, rec_nh, f.doctor, f.e_doctor, &out, &reason, NULL), HRE_ENOTFOUND);
    n = refusals(&f, a, 16);
    ck_assert_uint_eq(n, 3);
    for (i = 0; i < 3; i++) ck_assert_uint_eq(a[i].seq, 7 + i);
    {
        /* the file stays at its header and 3 records */
        hre_storage_file *file = NULL;
        uint64_t size = 0;
        HRE_T_OK(hre_storage_file_open(&file, f.vst, "vault-refusals.aud", HRE_STORAGE_READ));
        HRE_T_OK(hre_storage_file_size(file, &size));
        HRE_T_OK(hre_storage_file_close(file));
        ck_assert_uint_eq(size, HRE_VAULT_XCH_AUDIT_HEADER_LEN + 3 * HRE_VAULT_XCH_AUDIT_RECORD_LEN);
    }
    HRE_T_OK(hre_vault_xch_stats_get(f.xh, &hs));
    ck_assert_uint_eq(hs.audit_failures, 0);
    /* an audit_max above the limit is refused */
    ck_assert_int_eq(holder_restart(&f, HRE_VAULT_XCH_AUDIT_MAX_LIMIT + 1), HRE_EINVAL);
    HRE_T_OK(holder_restart(&f, 0));
    n = refusals(&f, a, 16);
    ck_assert_uint_eq(n, 3);   /* growing the cap keeps what there is */
    ck_assert_uint_eq(a[0].seq, 7);
    /* a damaged log: the exchange does not start, and says why */
    {
        hre_storage_file *file = NULL;
        size_t k = 16;
        HRE_T_OK(hre_storage_file_open(&file, f.vst, "vault-refusals.aud", HRE_STORAGE_READ | HRE_STORAGE_WRITE));
        HRE_T_OK(hre_storage_file_write(file, 0, "XXXX", 4));
        HRE_T_OK(hre_storage_file_close(file));
        ck_assert_int_eq(hre_vault_xch_refusals(f.v, a, sizeof a[0], &k), HRE_ECORRUPT);
        ck_assert_int_eq(holder_restart(&f, 0), HRE_ECORRUPT);
        ck_assert_ptr_nonnull(strstr(hre_error_detail(), "refusal log"));
    }
    free(out.p);
    fx_free(&f);
}
END_TEST

#ifdef HRE_WHITEBOX
/* A vault on storage st (prefix "vault"). */
static hre_vault *vopen(hre_storage *st)
{
    hre_vault_options o = HRE_VAULT_OPTIONS_INIT;
    hre_vault *v = NULL;
    o.storage = st;
    HRE_T_OK(hre_vault_open(&v, &o));
    return v;
}

static void arec(hre_vault_xch_audit *r, uint8_t reason, uint8_t fill)
{
    memset(r, 0, sizeof *r);
    r->version = HRE_VAULT_XCH_AUDIT_VERSION;
    r->time_ms = 1000u * fill;
    r->conn = fill;
    r->reason = reason;
    r->flags = HRE_VAULT_XCH_AUDIT_HAS_RECORD | HRE_VAULT_XCH_AUDIT_HAS_NONCE;
    memset(r->record_id, fill, 32);
    memset(r->nonce, fill + 1, 16);
    memset(r->request_hash, fill + 2, 32);
}

static size_t vrefusals(hre_vault *v, hre_vault_xch_audit *out, size_t cap, int *rc)
{
    size_t n = cap;
    *rc = hre_vault_xch_refusals(v, out, sizeof *out, &n);
    return n;
}

START_TEST(test_xch_audit_torn)
{
    /* power loss while the last record is written: under every crash model
     * and many seeds the synced records survive whole, the last one is
     * there whole or not at all, never garbage */
    const int modes[] = {HRE_POWERLOSS_DROP, HRE_POWERLOSS_TEAR, HRE_POWERLOSS_KEEP};
    int seen_whole = 0, seen_gone = 0;
    for (int m = 0; m < 3; m++)
        for (uint64_t seed = 1; seed <= 40; seed++) {
            hre_storage *inner = NULL, *pl = NULL;
            hre_powerloss_options po = HRE_POWERLOSS_OPTIONS_INIT;
            hre_vault *v;
            hre_vault__xaud *au = NULL;
            hre_vault_xch_audit r, got[8];
            size_t n;
            int rc;
            HRE_T_OK(hre_storage_memory_new(&inner, 0));
            po.mode = modes[m];
            po.seed = seed;
            po.sector_size = 16;   /* a record spans many sectors: tears inside it */
            HRE_T_OK(hre_powerloss_new(&pl, inner, &po));
            v = vopen(pl);
            ck_assert_int_eq(hre_vault__xaud_open(&au, v, 4), HRE_OK);
            for (uint8_t i = 1; i <= 3; i++) {
                arec(&r, HRE_VAULT_XCH_REFUSE_NO_GRANT, i);
                ck_assert_int_eq(hre_vault__xaud_append(au, &r), HRE_OK);
                ck_assert_uint_eq(r.seq, i);
            }
            ck_assert_int_eq(hre_vault__xaud_sync(au), HRE_OK);
            arec(&r, HRE_VAULT_XCH_REFUSE_REVOKED, 4);
            ck_assert_int_eq(hre_vault__xaud_append(au, &r), HRE_OK);   /* not synced */
            HRE_T_OK(hre_powerloss_crash(pl));
            hre_vault__xaud_close(au);   /* the power is off: its sync fails, ignored */
            hre_vault_close(v);
            hre_storage_free(pl);
            v = vopen(inner);
            n = vrefusals(v, got, 8, &rc);
            ck_assert_msg(rc == HRE_OK, "mode %d seed %llu: %d %s", modes[m], (unsigned long long)seed, rc,
                          hre_error_detail());
            ck_assert_msg(n == 3 || n == 4, "mode %d seed %llu: %zu records", modes[m],
                          (unsigned long long)seed, n);
            for (size_t i = 0; i < n; i++) {
                hre_vault_xch_audit want;
                arec(&want, i == 3 ? HRE_VAULT_XCH_REFUSE_REVOKED : HRE_VAULT_XCH_REFUSE_NO_GRANT,
                     (uint8_t)(i + 1));
                ck_assert_uint_eq(got[i].seq, i + 1);
                ck_assert_int_eq(got[i].reason, want.reason);
                ck_assert_mem_eq(got[i].record_id, want.record_id, 32);
                ck_assert_mem_eq(got[i].request_hash, want.request_hash, 32);
                ck_assert_uint_eq(got[i].time_ms, want.time_ms);
            }
            if (n == 4) seen_whole++; else seen_gone++;
            /* and the log takes the next record in the next slot */
            ck_assert_int_eq(hre_vault__xaud_open(&au, v, 8), HRE_OK);   /* a larger cap: the file is rewritten */
            arec(&r, HRE_VAULT_XCH_REFUSE_BUSY, 9);
            ck_assert_int_eq(hre_vault__xaud_append(au, &r), HRE_OK);
            ck_assert_uint_eq(r.seq, n + 1);
            hre_vault__xaud_close(au);
            ck_assert_uint_eq(vrefusals(v, got, 8, &rc), n + 1);
            HRE_T_OK(rc);
            hre_vault_close(v);
            hre_storage_free(inner);
        }
    ck_assert_int_gt(seen_whole, 0);
    ck_assert_int_gt(seen_gone, 0);
}
END_TEST

static int find_aun(void *arg, const char *name)
{
    size_t len = strlen(name);
    if (len >= 4 && strcmp(name + len - 4, ".aun") == 0) (*(int *)arg)++;
    return 0;
}

START_TEST(test_xch_audit_create_crash)
{
    /* power loss at every sync of the log's creation and of its re-creation
     * for a new capacity: after the restart the log holds the synced records
     * (or, before its first rename, does not exist), the vault's open removed
     * the interrupted `.aun`, and the log opens and takes the next record */
    const int modes[] = {HRE_POWERLOSS_DROP, HRE_POWERLOSS_TEAR, HRE_POWERLOSS_KEEP};
    int seen_aun = 0, seen_old = 0, seen_new = 0, crashed;
    for (int m = 0; m < 3; m++)
        for (uint64_t k = 1;; k++) {
            hre_storage *inner = NULL, *pl = NULL;
            hre_powerloss_options po = HRE_POWERLOSS_OPTIONS_INIT;
            hre_vault *v;
            hre_vault__xaud *au = NULL;
            hre_vault_xch_audit r, got[8];
            size_t n;
            int rc, aun = 0, ok = 1;
            HRE_T_OK(hre_storage_memory_new(&inner, 0));
            po.mode = modes[m];
            po.seed = k;
            po.crash_at_sync = k;
            HRE_T_OK(hre_powerloss_new(&pl, inner, &po));
            if (hre_vault_open(&v, &(hre_vault_options){HRE_VAULT_OPTIONS_VERSION, .storage = pl}) != HRE_OK) {
                hre_storage_free(pl);   /* the crash came inside the vault's own open */
                hre_storage_free(inner);
                continue;
            }
            ok = hre_vault__xaud_open(&au, v, 4) == HRE_OK;
            for (uint8_t i = 1; ok && i <= 3; i++) {
                arec(&r, HRE_VAULT_XCH_REFUSE_NO_GRANT, i);
                ok = hre_vault__xaud_append(au, &r) == HRE_OK;
            }
            ok = ok && hre_vault__xaud_sync(au) == HRE_OK;
            hre_vault__xaud_close(au);
            au = NULL;
            ok = ok && hre_vault__xaud_open(&au, v, 8) == HRE_OK;   /* re-created for the new cap */
            hre_vault__xaud_close(au);
            au = NULL;
            hre_vault_close(v);
            crashed = hre_powerloss_crash(pl) == HRE_ESTATE;   /* ESTATE: the power was already off */
            hre_storage_free(pl);
            if (!crashed) {
                ck_assert_msg(ok, "mode %d: no crash, yet a step failed", modes[m]);
                hre_storage_free(inner);
                ck_assert_msg(k > 3, "mode %d: the sequence ran out of syncs at %llu", modes[m],
                              (unsigned long long)k);
                break;   /* k is past the sequence's last sync */
            }
            HRE_T_OK(hre_storage_list(inner, find_aun, &aun));
            if (aun) seen_aun++;
            v = vopen(inner);
            aun = 0;
            HRE_T_OK(hre_storage_list(inner, find_aun, &aun));
            ck_assert_msg(aun == 0, "mode %d crash at sync %llu: the vault's open left the .aun",
                          modes[m], (unsigned long long)k);
            n = vrefusals(v, got, 8, &rc);
            ck_assert_msg(rc == HRE_OK, "mode %d crash at sync %llu: %d %s", modes[m], (unsigned long long)k,
                          rc, hre_error_detail());
            /* a crash at the records' own sync may keep any of them (each is
             * one write to its own slot); each kept one is whole */
            ck_assert_msg(n <= 3, "mode %d crash at sync %llu: %zu records", modes[m], (unsigned long long)k, n);
            for (size_t i = 0; i < n; i++) {
                hre_vault_xch_audit want;
                ck_assert(got[i].seq >= 1 && got[i].seq <= 3 && (i == 0 || got[i].seq > got[i - 1].seq));
                arec(&want, HRE_VAULT_XCH_REFUSE_NO_GRANT, (uint8_t)got[i].seq);
                ck_assert_uint_eq(got[i].time_ms, want.time_ms);
                ck_assert_mem_eq(got[i].record_id, want.record_id, 32);
                ck_assert_mem_eq(got[i].request_hash, want.request_hash, 32);
            }
            if (n == 3) seen_old++;
            ck_assert_int_eq(hre_vault__xaud_open(&au, v, 8), HRE_OK);
            arec(&r, HRE_VAULT_XCH_REFUSE_BUSY, 9);
            ck_assert_int_eq(hre_vault__xaud_append(au, &r), HRE_OK);
            ck_assert_uint_eq(r.seq, (n ? got[n - 1].seq : 0) + 1);
            hre_vault__xaud_close(au);
            ck_assert_uint_eq(vrefusals(v, got, 8, &rc), n + 1);
            HRE_T_OK(rc);
            if (n == 0) seen_new++;
            hre_vault_close(v);
            hre_storage_free(inner);
        }
    /* the crash points covered both sides of the renames, and some crash
     * left a `.aun` behind for the open to remove */
    ck_assert_int_gt(seen_aun, 0);
    ck_assert_int_gt(seen_old, 0);
    ck_assert_int_gt(seen_new, 0);
}
END_TEST

/* Overwrite len bytes of the log at off. */
static void poke(hre_storage *st, uint64_t off, const void *b, size_t len)
{
    hre_storage_file *file = NULL;
    HRE_T_OK(hre_storage_file_open(&file, st, "vault-refusals.aud", HRE_STORAGE_READ | HRE_STORAGE_WRITE));
    HRE_T_OK(hre_storage_file_write(file, off, b, len));
    HRE_T_OK(hre_storage_file_close(file));
}

START_TEST(test_xch_audit_corrupt)
{
    hre_storage *st = NULL;
    hre_vault *v;
    hre_vault__xaud *au = NULL;
    hre_vault_xch_audit r, got[8];
    uint8_t b[HRE_VAULT_XCH_AUDIT_RECORD_LEN], h[HRE_VAULT_XCH_AUDIT_HEADER_LEN];
    const uint64_t r2 = HRE_VAULT_XCH_AUDIT_HEADER_LEN + HRE_VAULT_XCH_AUDIT_RECORD_LEN;
    int rc;
    uint32_t cap = 0;
    HRE_T_OK(hre_storage_memory_new(&st, 0));
    v = vopen(st);
    ck_assert_int_eq(hre_vault__xaud_open(&au, v, 8), HRE_OK);
    for (uint8_t i = 1; i <= 3; i++) {
        arec(&r, HRE_VAULT_XCH_REFUSE_STALE, i);
        ck_assert_int_eq(hre_vault__xaud_append(au, &r), HRE_OK);
    }
    hre_vault__xaud_close(au);
    ck_assert_uint_eq(vrefusals(v, got, 8, &rc), 3);
    HRE_T_OK(rc);
    /* a torn tail (half a record appended): dropped, the rest stands */
    memset(b, 0x5a, sizeof b);
    poke(st, HRE_VAULT_XCH_AUDIT_HEADER_LEN + 3 * HRE_VAULT_XCH_AUDIT_RECORD_LEN, b, 100);
    ck_assert_uint_eq(vrefusals(v, got, 8, &rc), 3);
    HRE_T_OK(rc);
    /* a record whose bytes changed (its check fails): dropped as torn */
    poke(st, r2 + 40, "\x01", 1);
    ck_assert_uint_eq(vrefusals(v, got, 8, &rc), 2);
    HRE_T_OK(rc);
    ck_assert_uint_eq(got[0].seq, 1);
    ck_assert_uint_eq(got[1].seq, 3);
    /* a record whose check passes but whose fields are not canonical */
    arec(&r, HRE_VAULT_XCH_REFUSE_STALE, 2);
    r.seq = 2;
    hre_vault__xaud_record_encode(b, &r);
    ck_assert_int_eq(hre_vault__xaud_record_decode(&r, b, sizeof b), HRE_OK);
    b[24] = 99;   /* reason */
    hre__put_le32(b + 188, hre_storage__crc32(0, b, 188));
    ck_assert_int_eq(hre_vault__xaud_record_decode(&r, b, sizeof b), HRE_ECORRUPT);
    poke(st, r2, b, sizeof b);
    (void)vrefusals(v, got, 8, &rc);
    ck_assert_int_eq(rc, HRE_ECORRUPT);
    ck_assert_msg(strstr(hre_error_detail(), "slot 1") != NULL, "%s", hre_error_detail());
    /* a record in another record's slot */
    arec(&r, HRE_VAULT_XCH_REFUSE_STALE, 2);
    r.seq = 5;
    hre_vault__xaud_record_encode(b, &r);
    poke(st, r2, b, sizeof b);
    (void)vrefusals(v, got, 8, &rc);
    ck_assert_int_eq(rc, HRE_ECORRUPT);
    /* the header: damaged, from a newer format, or not a log at all */
    hre_vault__xaud_header_encode(h, 8);
    ck_assert_int_eq(hre_vault__xaud_header_decode(&cap, h, sizeof h), HRE_OK);
    ck_assert_uint_eq(cap, 8);
    ck_assert_int_eq(hre_vault__xaud_header_decode(&cap, h, sizeof h - 1), HRE_ECORRUPT);
    h[8] = 2;
    hre__put_le32(h + 60, hre_storage__crc32(0, h, 60));
    ck_assert_int_eq(hre_vault__xaud_header_decode(&cap, h, sizeof h), HRE_EUNSUPPORTED);
    poke(st, 0, h, sizeof h);
    (void)vrefusals(v, got, 8, &rc);
    ck_assert_int_eq(rc, HRE_EUNSUPPORTED);
    poke(st, 0, "HRE-XAUX", 8);
    (void)vrefusals(v, got, 8, &rc);
    ck_assert_int_eq(rc, HRE_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "magic"));
    /* the exchange does not start on a corrupt log, and says so */
    ck_assert_int_eq(hre_vault__xaud_open(&au, v, 8), HRE_ECORRUPT);
    ck_assert_ptr_null(au);
    hre_vault_close(v);
    hre_storage_free(st);
}
END_TEST
#endif

Suite *hre_suite_exchange(void)
{
    Suite *s = suite_create("exchange");
    TCase *tc = tcase_create("codecs");
    tcase_add_test(tc, test_xch_request_codec);
    tcase_add_test(tc, test_xch_answer_codecs);
    tcase_add_test(tc, test_xch_args);
    suite_add_tcase(s, tc);
    tc = tcase_create("nodes");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_xch_fhir_roundtrip);
    tcase_add_test(tc, test_xch_log_access);
    tcase_add_test(tc, test_xch_refusal_reasons);
    tcase_add_test(tc, test_xch_raw_requests);
    tcase_add_test(tc, test_xch_busy);
    tcase_add_test(tc, test_xch_log_access_age);
    tcase_add_test(tc, test_xch_tampered_chunk);
    tcase_add_test(tc, test_xch_backpressure);
    tcase_add_test(tc, test_xch_disconnect);
    tcase_add_test(tc, test_xch_signed_raw);
    tcase_add_test(tc, test_xch_judge_time);
    tcase_add_test(tc, test_xch_node_org);
    tcase_add_test(tc, test_xch_rate_limit);
#ifdef HRE_WHITEBOX
    tcase_add_test(tc, test_xch_mempool_bound);
#endif
    tcase_add_test(tc, test_xch_revoke_pending);
    tcase_add_test(tc, test_xch_audit_restart);
    suite_add_tcase(s, tc);
    tc = tcase_create("audit");
#ifdef HRE_WHITEBOX
    tcase_add_test(tc, test_xch_audit_torn);
    tcase_add_test(tc, test_xch_audit_create_crash);
    tcase_add_test(tc, test_xch_audit_corrupt);
#endif
    suite_add_tcase(s, tc);
    return s;
}
