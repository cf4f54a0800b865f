/*
 * bench_exchange: end-to-end document fetch throughput between two nodes
 * through the in-process hub (sys/hub.h): a holder node with the vault and
 * a reader node, both live members, the reader fetching a record's
 * document (request, the holder's chain checks and re-wrap, the envelope in
 * chunks over the encrypted channel, the reader's opener), next to seal +
 * open of the same document alone (no node, no channel) and `openssl speed`
 * aes-256-gcm from the same run. Public API only. The nodes run on
 * examples/hub_host.{c,h}, the same host glue as examples/vault_flow.c.
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

#include "bench_util.h"
/* the two nodes on the hub and their event loop, shared with
 * examples/vault_flow.c */
#include "hub_host.h"

#define MIB (1024u * 1024u)
#define T0_MS 1700000000000ull

const char hub_prog[] = "bench_exchange";

static hub_net net;   /* [0] the holder, [1] the reader */

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

int main(void)
{
    long mib = bench_env_long("HRE_BENCH_XCH_MIB", 16);
    int rounds = (int)bench_env_long("HRE_BENCH_ROUNDS", 3), speed_s = bench_speed_seconds(1), r;
    size_t doc_len;
    uint8_t *doc, rec[32], hash[32], locator[32], a_patient[32], hosp[32], lab[32];
    hre_key *hadmin = hub_gen(), *ladmin = hub_gen(), *patient = hub_gen(), *e_patient = hub_gen(),
            *e_hosp = hub_gen(), *e_lab = hub_gen();
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
    if (!(doc = malloc(doc_len))) hub_die("malloc", HRE_ENOMEM);
    HUB_CK(hre_random_bytes(doc, doc_len));

    /* the network */
    {
        static const char *const names[HUB_HOSTS] = {"holder", "reader"};
        hre_node_options no;
        HUB_CK(hre_node_options_init(&no, HRE_NODE_OPTIONS_VERSION));
        no.app_max_message = HRE_NODE_APP_MESSAGE_LIMIT;
        no.app_rate_bytes = 1u << 30;   /* the bench measures CPU, not the policy */
        no.app_rate_msgs = 100000;
        hub_net_start(&net, T0_MS, 1, names, &no);
    }
    for (int i = 0; i < 2; i++) {
        hre_register_node_payload p;
        hre_tx *tx = NULL;
        memset(&p, 0, sizeof p);
        hub_wire(p.node_key, net.h[i].id);
        HUB_CK(hre_contract_build_register_node(&tx, net.id, net.auth, hub_nonce(&net, net.auth),
                                                hub_secs(&net), &p));
        hub_submit(&net, tx, NULL);
    }
    hub_mine(&net, 0);
    hub_connect(&net);
    /* organisations, the patient, encryption keys */
    {
        hre_register_org_payload p;
        hre_tx *tx = NULL;
        memset(&p, 0, sizeof p);
        p.org_type = HRE_ORG_HOSPITAL;
        p.name = (const uint8_t *)"City Hospital";
        p.name_len = 13;
        hub_wire(p.admin_key, hadmin);
        HUB_CK(hre_contract_build_register_org(&tx, net.id, net.auth, hub_nonce(&net, net.auth),
                                               hub_secs(&net), &p));
        hub_submit(&net, tx, hosp);
        p.org_type = HRE_ORG_LAB;
        p.name = (const uint8_t *)"Central Lab";
        p.name_len = 11;
        hub_wire(p.admin_key, ladmin);
        HUB_CK(hre_contract_build_register_org(&tx, net.id, net.auth, hub_nonce(&net, net.auth),
                                               hub_secs(&net), &p));
        hub_submit(&net, tx, lab);
    }
    {
        hre_register_patient_payload p = {0};
        hre_tx *tx = NULL;
        HUB_CK(hre_contract_build_register_patient(&tx, net.id, patient, hub_nonce(&net, patient),
                                                   hub_secs(&net), &p));
        hub_submit(&net, tx, NULL);
    }
    hub_mine(&net, 1);
    hub_addr(a_patient, patient);
    {
        struct { hre_key *s; uint8_t t; const uint8_t *id; hre_key *e; } ek[3] = {
            {patient, HRE_ENC_TARGET_ACCOUNT, a_patient, e_patient},
            {hadmin, HRE_ENC_TARGET_ORG, hosp, e_hosp},
            {ladmin, HRE_ENC_TARGET_ORG, lab, e_lab}};
        for (int i = 0; i < 3; i++) hub_set_enc_key(&net, ek[i].s, ek[i].t, ek[i].id, ek[i].e);
    }
    hub_mine(&net, 1);
    /* the document in the holder's vault, its record, the patient's LOG_ACCESS */
    {
        hre_vault_options vo = HRE_VAULT_OPTIONS_INIT;
        hre_vault_seal_params sp = HRE_VAULT_SEAL_PARAMS_INIT;
        hre_vault_store *st = NULL;
        const hre_contract *c = NULL;
        hre_new_record_payload p;
        hre_log_access_payload la;
        hre_tx *tx = NULL;
        static const uint8_t salt[32] = "bench-salt-0123456789abcdef01234";
        HUB_CK(hre_storage_memory_new(&vst, 0));
        vo.storage = vst;
        HUB_CK(hre_vault_open(&v, &vo));
        HUB_CK(hre_random_bytes(locator, 32));
        memcpy(sp.locator, locator, 32);
        sp.doc_version = 1;
        sp.compress = HRE_VAULT_COMPRESS_NEVER;
        sp.sender_type = HRE_VAULT_READER_ORG;
        memcpy(sp.sender_id, hosp, 32);
        sp.sender_key = e_hosp;
        HUB_CK(hre_ledger_contract(net.h[0].l, &c));
        HUB_CK(hre_vault_store_new(&st, v, &sp));
        HUB_CK(hre_vault_store_write(st, doc, doc_len));
        HUB_CK(hre_vault_store_add_reader_by_id(st, c, HRE_VAULT_READER_ACCOUNT, a_patient));
        HUB_CK(hre_vault_store_add_reader_by_id(st, c, HRE_VAULT_READER_ORG, hosp));
        HUB_CK(hre_vault_store_add_reader_by_id(st, c, HRE_VAULT_READER_ORG, lab));
        HUB_CK(hre_vault_store_commit(st, hash, &content));
        hre_vault_store_free(st);
        env_len = content.envelope_len;
        memset(&p, 0, sizeof p);
        memcpy(p.patient, a_patient, 32);
        memcpy(p.lab_org, lab, 32);
        HUB_CK(hre_contract_commit(p.commit_patient_id, HRE_COMMIT_PATIENT_ID, salt, 32,
                                   (const uint8_t *)"MRN", 3));
        HUB_CK(hre_contract_commit(p.commit_test_name, HRE_COMMIT_TEST_NAME, salt, 32, (const uint8_t *)"CBC", 3));
        p.date = hub_secs(&net);
        p.category = 1;
        memcpy(p.doc_sha256, hash, 32);
        p.hospital_name = (const uint8_t *)"City Hospital";
        p.hospital_name_len = 13;
        memcpy(p.locator, locator, 32);
        HUB_CK(hre_contract_build_new_record(&tx, net.id, hadmin, hub_nonce(&net, hadmin), hub_secs(&net), &p));
        hub_submit(&net, tx, rec);
        hub_sign_record(&net, hadmin, rec);   /* the hospital and the lab sign it */
        hub_sign_record(&net, ladmin, rec);
        hub_mine(&net, 1);
        memcpy(la.record_id, rec, 32);
        la.purpose = 1;
        HUB_CK(hre_contract_build_log_access(&tx, net.id, patient, hub_nonce(&net, patient), hub_secs(&net), &la));
        hub_submit(&net, tx, NULL);
        hub_mine(&net, 1);
    }
    /* the exchanges */
    hub_xch_start(&net, v, HRE_VAULT_READER_ORG, hosp, e_hosp);
    /* fetches */
    for (r = 0; r < rounds; r++) {
        hre_vault_fetch_params fp = HRE_VAULT_FETCH_PARAMS_INIT;
        uint64_t conns[4], got = 0, v0 = hre_hub_now(net.hub);
        size_t n = 4;
        hre_vault_fetch *f = NULL;
        int code;
        double t0, c0, t, c;
        HUB_CK(hre_node_peer_list(net.h[1].node, conns, &n));
        fp.conn = conns[0];
        memcpy(fp.record_id, rec, 32);
        fp.sign_key = patient;
        fp.enc_key = e_patient;
        t0 = bench_wall_s();
        c0 = bench_cpu_s();
        HUB_CK(hre_vault_fetch_new(&f, net.h[1].x, &fp, sink_count, &got, hre_hub_now(net.hub)));
        code = hub_fetch_wait(&net, f, 600000);
        t = bench_wall_s() - t0;
        c = bench_cpu_s() - c0;
        if (code != HRE_OK) hub_die("fetch", code);
        if (got != doc_len) hub_die("fetch: wrong length", -1);
        hre_vault_fetch_free(f);
        if (t < best_fetch) best_fetch = t;
        if (c < best_fetch_cpu) best_fetch_cpu = c;
        vsecs = (double)(hre_hub_now(net.hub) - v0) / 1000.0;
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
        if (!(env.p = malloc(env.cap))) hub_die("malloc", HRE_ENOMEM);
        HUB_CK(hre_key_pubkey(e_patient, &pk));
        memcpy(sp.locator, locator, 32);
        sp.doc_version = 1;
        sp.compress = HRE_VAULT_COMPRESS_NEVER;
        t0 = bench_wall_s();
        c0 = bench_cpu_s();
        HUB_CK(hre_vault_sealer_new(&s, &sp, sink_mem, &env));
        HUB_CK(hre_vault_sealer_write(s, doc, doc_len));
        HUB_CK(hre_vault_sealer_finish(s, h2, NULL));
        HUB_CK(hre_vault_sealer_wrap(s, &wr, HRE_VAULT_READER_ACCOUNT, a_patient, pk));
        op.wrap = &wr;
        op.reader_key = e_patient;
        HUB_CK(hre_vault_opener_new(&o, &op, sink_count, &got));
        HUB_CK(hre_vault_opener_write(o, env.p, env.n));
        HUB_CK(hre_vault_opener_finish(o, NULL));
        t = bench_wall_s() - t0;
        c = bench_cpu_s() - c0;
        if (got != doc_len) hub_die("seal+open: wrong length", -1);
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

    hub_net_free(&net);
    hre_vault_close(v);
    hre_storage_free(vst);
    hre_key_free(hadmin);
    hre_key_free(ladmin);
    hre_key_free(patient);
    hre_key_free(e_patient);
    hre_key_free(e_hosp);
    hre_key_free(e_lab);
    free(doc);
    return 0;
}
