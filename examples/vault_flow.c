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
 * The host glue (the two nodes on the hub, their event loop, submit and
 * mine) is examples/hub_host.{c,h}, shared with bench/bench_exchange.c.
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

/* the two nodes on the hub, their event loop and the scenario's helpers
 * (hub_submit, hub_mine, ...): hub_host.h */
#include "hub_host.h"

#define T0_MS 1700000000000ull

const char hub_prog[] = "vault_flow";

static hub_net net;          /* [0] the lab's node, [1] the clinic's */
static hre_vault *g_vault;   /* the lab's vault (the holder) */

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
    hre_vault_fetch *f = NULL;
    int rc, done = 0, code = 0;
    *reason = 0;
    *got_len = 0;
    HUB_CK(hre_sha256_new(&h));
    HUB_CK(hre_node_peer_list(net.h[1].node, conns, &n));
    fp.conn = conns[0];
    memcpy(fp.record_id, rec, 32);
    fp.sign_key = sk;
    fp.enc_key = ek;
    rc = hre_vault_fetch_new(&f, net.h[1].x, &fp, sink_hash, h, hre_hub_now(net.hub));
    if (rc != HRE_OK) {
        hre_sha256_free(h);
        return rc;
    }
    (void)hub_fetch_wait(&net, f, 600000);
    HUB_CK(hre_vault_fetch_status(f, &done, &code, reason, &c));
    hre_vault_fetch_free(f);
    HUB_CK(hre_sha256_final(h, got_hash));
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
    hre_key *hadmin = hub_gen(), *ladmin = hub_gen(), *cadmin = hub_gen(), *doctor = hub_gen(),
            *patient = hub_gen(), *e_patient = hub_gen(), *e_hosp = hub_gen(), *e_lab = hub_gen(),
            *e_doctor = hub_gen();
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
    HUB_CK(hre_sha256(file_hash, doc, doc_len));

    /* the network: authority, two member nodes (the lab's, the clinic's) */
    {
        static const char *const names[HUB_HOSTS] = {"lab-node", "clinic-node"};
        hub_net_start(&net, T0_MS, 7, names, NULL);
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
            hub_wire(p.admin_key, admins[i]);
            HUB_CK(hre_contract_build_register_org(&tx, net.id, net.auth, hub_nonce(&net, net.auth),
                                                   hub_secs(&net), &p));
            hub_submit(&net, tx, ids[i]);
        }
    }
    hub_mine(&net, 0);
    {
        /* the lab registers its node, the clinic its node */
        hre_register_node_payload p;
        hre_tx *tx = NULL;
        memset(&p, 0, sizeof p);
        hub_wire(p.node_key, net.h[0].id);
        HUB_CK(hre_contract_build_register_node(&tx, net.id, ladmin, hub_nonce(&net, ladmin), hub_secs(&net), &p));
        hub_submit(&net, tx, NULL);
        hub_wire(p.node_key, net.h[1].id);
        HUB_CK(hre_contract_build_register_node(&tx, net.id, cadmin, hub_nonce(&net, cadmin), hub_secs(&net), &p));
        hub_submit(&net, tx, NULL);
    }
    {
        hre_register_doctor_payload d;
        hre_register_patient_payload p = {0};
        hre_tx *tx = NULL;
        hub_wire(d.doctor_key, doctor);
        HUB_CK(hre_contract_build_register_doctor(&tx, net.id, cadmin, hub_nonce(&net, cadmin),
                                                  hub_secs(&net), &d));
        hub_submit(&net, tx, NULL);
        HUB_CK(hre_contract_build_register_patient(&tx, net.id, patient, hub_nonce(&net, patient),
                                                   hub_secs(&net), &p));
        hub_submit(&net, tx, NULL);
    }
    hub_mine(&net, 0);
    hub_connect(&net);
    hub_addr(a_patient, patient);
    hub_addr(a_doctor, doctor);
    {
        struct { hre_key *s; uint8_t t; const uint8_t *id; hre_key *e; } ek[4] = {
            {patient, HRE_ENC_TARGET_ACCOUNT, a_patient, e_patient},
            {hadmin, HRE_ENC_TARGET_ORG, hosp, e_hosp},
            {ladmin, HRE_ENC_TARGET_ORG, lab, e_lab},
            {doctor, HRE_ENC_TARGET_ACCOUNT, a_doctor, e_doctor}};
        for (int i = 0; i < 4; i++) hub_set_enc_key(&net, ek[i].s, ek[i].t, ek[i].id, ek[i].e);
    }
    hub_mine(&net, 1);

    /* 1. the lab stores the result; the hospital issues the record */
    {
        hre_vault_options vo = HRE_VAULT_OPTIONS_INIT;
        hre_vault_seal_params sp = HRE_VAULT_SEAL_PARAMS_INIT;
        hre_vault_store *st = NULL;
        const hre_contract *c = NULL;
        hre_new_record_payload p;
        hre_tx *tx = NULL;
        static const uint8_t salt[32] = "vault-flow-salt-0123456789abcdef";
        HUB_CK(hre_storage_memory_new(&vst, 0));
        vo.storage = vst;
        HUB_CK(hre_vault_open(&g_vault, &vo));
        net.h[0].vault = g_vault;   /* the lab's ledger events reach its vault */
        HUB_CK(hre_random_bytes(locator, 32));
        memcpy(sp.locator, locator, 32);
        sp.doc_version = 1;
        sp.media_type = "application/fhir+json";
        sp.sender_type = HRE_VAULT_READER_ORG;
        memcpy(sp.sender_id, lab, 32);
        sp.sender_key = e_lab;
        HUB_CK(hre_ledger_contract(net.h[0].l, &c));
        HUB_CK(hre_vault_store_new(&st, g_vault, &sp));
        HUB_CK(hre_vault_store_write(st, doc, doc_len));
        HUB_CK(hre_vault_store_add_reader_by_id(st, c, HRE_VAULT_READER_ACCOUNT, a_patient));
        HUB_CK(hre_vault_store_add_reader_by_id(st, c, HRE_VAULT_READER_ORG, hosp));
        HUB_CK(hre_vault_store_add_reader_by_id(st, c, HRE_VAULT_READER_ORG, lab));
        HUB_CK(hre_vault_store_commit(st, hash, NULL));
        hre_vault_store_free(st);
        memset(&p, 0, sizeof p);
        memcpy(p.patient, a_patient, 32);
        memcpy(p.lab_org, lab, 32);
        HUB_CK(hre_contract_commit(p.commit_patient_id, HRE_COMMIT_PATIENT_ID, salt, 32,
                                   (const uint8_t *)"MRN-7", 5));
        HUB_CK(hre_contract_commit(p.commit_test_name, HRE_COMMIT_TEST_NAME, salt, 32, (const uint8_t *)"HGB", 3));
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
        HUB_CK(hre_vault_bind_record(g_vault, hash, rec));
        hub_xch_start(&net, g_vault, HRE_VAULT_READER_ORG, lab, e_lab);
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
        HUB_CK(hre_contract_build_grant(&tx, net.id, patient, hub_nonce(&net, patient), hub_secs(&net), &p));
        hub_submit(&net, tx, gid);
        hub_mine(&net, 1);
        memcpy(la.record_id, rec, 32);
        la.purpose = 1;
        HUB_CK(hre_contract_build_log_access(&tx, net.id, doctor, hub_nonce(&net, doctor), hub_secs(&net), &la));
        hub_submit(&net, tx, NULL);
        hub_mine(&net, 1);
    }
    rc = fetch(rec, doctor, e_doctor, got, &got_len, &reason);
    expect(rc == HRE_OK && got_len == doc_len && memcmp(got, file_hash, 32) == 0,
           "3. after the grant and LOG_ACCESS: fetched, SHA-256 matches the file");

    /* 4. revoke */
    {
        hre_revoke_payload p;
        hre_tx *tx = NULL;
        memcpy(p.grant_id, gid, 32);
        HUB_CK(hre_contract_build_revoke(&tx, net.id, patient, hub_nonce(&net, patient), hub_secs(&net), &p));
        hub_submit(&net, tx, NULL);
        hub_mine(&net, 1);
    }
    rc = fetch(rec, doctor, e_doctor, got, &got_len, &reason);
    expect(rc == HRE_EREVOKED && reason == HRE_VAULT_XCH_REFUSE_REVOKED,
           "4. after the revocation: refused (revoked)");

    /* 5. erase */
    {
        hre_erase_record_payload p;
        hre_vault_entry e = HRE_VAULT_ENTRY_INIT;
        hre_tx *tx = NULL;
        memcpy(p.record_id, rec, 32);
        HUB_CK(hre_contract_build_erase_record(&tx, net.id, patient, hub_nonce(&net, patient),
                                               hub_secs(&net), &p));
        hub_submit(&net, tx, NULL);
        hub_mine(&net, 1);
        expect(hre_vault_entry_get(g_vault, &e, hash) == HRE_EERASED && e.state == HRE_VAULT_ERASED,
               "5. after the erasure: the lab's vault shredded the document");
    }
    rc = fetch(rec, doctor, e_doctor, got, &got_len, &reason);
    expect(rc == HRE_EERASED, "5. and a fetch is refused (erased)");

    hub_net_free(&net);
    hre_vault_close(g_vault);
    hre_storage_free(vst);
    {
        hre_key *ks[] = {hadmin, ladmin, cadmin, doctor, patient, e_patient, e_hosp, e_lab, e_doctor};
        for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) hre_key_free(ks[i]);
    }
    if (doc != (uint8_t *)dflt) free(doc);
    printf("%s\n", failures ? "vault_flow: FAILED" : "vault_flow: every step as expected");
    return failures ? 1 : 0;
}
