/*
 * Generates the seed corpora tests/fuzz/corpus/contract_payload/ and
 * tests/fuzz/corpus/snapshot_decode/ (contract helper). Not built by meson;
 * run by hand from the source tree, e.g.
 *   cc -std=c11 -o /tmp/gen tests/fuzz/corpus/gen_contract_seeds.c -Iinclude \
 *      -L$BUILD -lhre -Wl,-rpath,$BUILD && /tmp/gen tests/fuzz/corpus
 * (the argument is the corpus directory; default tests/fuzz/corpus).
 * Snapshot seeds are: 34-byte authority key || snapshot (see fuzz_snapshot_decode.c).
 * Keys are random, so the snapshot seeds differ on every run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hre/hre.h"

static void wr(const char *dir, const char *name, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    fwrite(a, 1, alen, f);
    if (b) fwrite(b, 1, blen, f);
    fclose(f);
}

static char PD[400], SD[400];

static void seed(uint8_t kind, const char *name, int (*enc)(const void *, uint8_t *, size_t *), const void *p)
{
    uint8_t buf[4096];
    size_t len = sizeof buf - 1;
    if (enc(p, buf + 1, &len) != HRE_OK) { fprintf(stderr, "enc %s: %s\n", name, hre_error_detail()); exit(1); }
    buf[0] = (uint8_t)(kind - 1);
    wr(PD, name, buf, len + 1, NULL, 0);
}
#define SEED(k, n, p) seed(k, #n, (int (*)(const void *, uint8_t *, size_t *))hre_contract_encode_##n, p)

static void enc_key(uint8_t out[34], const hre_key *k)
{
    hre_pubkey *pk;
    hre_key_pubkey(k, &pk);
    hre_pubkey_serialize_wire(pk, out);
    hre_pubkey_free(pk);
}

static void run(hre_contract *c, hre_tx *tx)
{
    if (hre_contract_apply(c, tx, 1700000000, 0) != HRE_OK) { fprintf(stderr, "apply: %s\n", hre_error_detail()); exit(1); }
    hre_tx_free(tx);
}

int main(int argc, char **argv)
{
    uint8_t key[34], ids[2][32], net[32];
    hre_register_org_payload ro = { HRE_ORG_LAB, (const uint8_t *)"Lab", 3, {0} };
    hre_appoint_admin_payload aa;
    hre_register_doctor_payload rd;
    hre_register_patient_payload rp = { 0 };
    hre_suspend_payload su;
    hre_rotate_key_payload rk;
    hre_new_record_payload nr;
    hre_sign_record_payload sr;
    hre_grant_payload g;
    hre_revoke_payload rv;
    hre_log_access_payload la;
    hre_register_node_payload rn;
    hre_suspend_org_payload so;
    hre_set_enc_key_payload ek;
    hre_erase_record_payload er;
    uint8_t enc[34];
    hre_key *enck;
    const char *dir = argc > 1 ? argv[1] : "tests/fuzz/corpus";
    snprintf(PD, sizeof PD, "%s/contract_payload", dir);
    snprintf(SD, sizeof SD, "%s/snapshot_decode", dir);
    hre_key_generate(&enck, HRE_CURVE_P256);
    enc_key(enc, enck);
    memset(key, 0x33, 34); key[0] = 1; key[1] = 2;
    memcpy(ro.admin_key, key, 34);
    memset(&aa, 7, sizeof aa); memcpy(aa.admin_key, key, 34);
    memcpy(rd.doctor_key, key, 34);
    memset(&su, 5, sizeof su); su.action = 1;
    memset(&rk, 6, sizeof rk); memcpy(rk.new_key, key, 34);
    memset(&nr, 0, sizeof nr); memset(nr.patient, 1, 32); nr.date = 1; nr.price = 2; nr.category = 3;
    nr.hospital_name = (const uint8_t *)"City Hospital"; nr.hospital_name_len = 13;
    memset(nr.locator, 0x1c, 32); nr.has_supersedes = 1; memset(nr.supersedes, 4, 32);
    memset(&sr, 8, sizeof sr);
    memset(ids[0], 1, 32); memset(ids[1], 2, 32);
    memset(&g, 0, sizeof g); g.reader_type = 1; g.scope = 2; g.record_ids = &ids[0][0]; g.record_count = 2;
    g.expiry = 99; g.envelope = (const uint8_t *)"envelope"; g.envelope_len = 8;
    memset(&rv, 9, sizeof rv);
    memset(&la, 10, sizeof la); la.purpose = 2;
    SEED(1, register_org, &ro); SEED(2, appoint_admin, &aa); SEED(3, register_doctor, &rd);
    SEED(4, register_patient, &rp); SEED(5, suspend, &su); SEED(6, rotate_key, &rk);
    SEED(7, new_record, &nr); SEED(8, sign_record, &sr); SEED(9, grant, &g); SEED(10, revoke, &rv);
    SEED(11, log_access, &la);
    memcpy(rn.node_key, key, 34);
    memset(&so, 0x0b, sizeof so); so.action = 1;
    memset(&ek, 0x0c, sizeof ek); ek.target_type = 1; memcpy(ek.enc_key, enc, 34);
    memset(&er, 0x0d, sizeof er);
    SEED(12, register_node, &rn); SEED(13, suspend_org, &so); SEED(14, set_enc_key, &ek);
    SEED(15, erase_record, &er);
    ek.target_type = 0;
    seed(14, "set_enc_key_account", (int (*)(const void *, uint8_t *, size_t *))hre_contract_encode_set_enc_key, &ek);
    g.scope = 1; g.record_ids = NULL; g.record_count = 0; g.category = 4; g.envelope_len = 0;
    seed(9, "grant_category", (int (*)(const void *, uint8_t *, size_t *))hre_contract_encode_grant, &g);
    {
        static const uint8_t bad1[] = { 0, 1, 9, 3, 'L', 'a', 'b' };      /* bad org type */
        static const uint8_t bad2[] = { 6, 2, 1, 1 };                      /* wrong version */
        static const uint8_t bad3[] = { 8, 1, 0, 0, 0, 0, 0xfd, 0, 1 };    /* non-minimal */
        wr(PD, "bad_org_type", bad1, sizeof bad1, NULL, 0);
        wr(PD, "bad_version", bad2, sizeof bad2, NULL, 0);
        wr(PD, "bad_compact", bad3, sizeof bad3, NULL, 0);
    }
    {
        /* set_enc_key with a point off the curve, and with a secp256k1 key */
        uint8_t b[1 + 1 + 1 + 32 + 34];
        b[0] = 13; b[1] = 1; b[2] = 0; memset(b + 3, 0x0c, 32);
        memcpy(b + 35, enc, 34);
        b[36] ^= 0x01;
        wr(PD, "bad_enc_point", b, sizeof b, NULL, 0);
        memcpy(b + 35, enc, 34);
        b[35] = 2;
        wr(PD, "bad_enc_curve", b, sizeof b, NULL, 0);
    }

    /* snapshots: genesis, and a small populated state */
    {
        hre_key *auth, *lab, *pat;
        hre_contract *c;
        hre_contract_options o;
        uint8_t ak[34], labk[34], patk[34], lab_org[32], paddr[32], rec[32], *snap;
        size_t len = 0;
        hre_tx *tx;
        hre_key_generate(&auth, HRE_CURVE_P256);
        hre_key_generate(&lab, HRE_CURVE_P256);
        hre_key_generate(&pat, HRE_CURVE_SECP256K1);
        enc_key(ak, auth); enc_key(labk, lab); enc_key(patk, pat);
        memset(net, 0xab, 32);
        hre_contract_options_init(&o, HRE_CONTRACT_OPTIONS_VERSION);
        memcpy(o.network_id, net, 32);
        memcpy(o.authority_key, ak, 34);
        hre_contract_new(&c, &o);
        hre_contract_snapshot_save(c, NULL, &len);
        snap = malloc(len);
        hre_contract_snapshot_save(c, snap, &len);
        wr(SD, "genesis", ak, 34, snap, len);
        wr(SD, "truncated", ak, 34, snap, len / 2);
        snap[0] = 'X';
        wr(SD, "bad_magic", ak, 34, snap, len);
        free(snap);
        ro.org_type = HRE_ORG_LAB; memcpy(ro.admin_key, labk, 34);
        hre_contract_build_register_org(&tx, net, auth, 0, 1, &ro);
        hre_tx_txid(tx, lab_org);
        run(c, tx);
        hre_contract_build_register_patient(&tx, net, pat, 0, 1, &rp);
        run(c, tx);
        hre_contract_address(paddr, patk);
        memcpy(nr.patient, paddr, 32); memcpy(nr.lab_org, lab_org, 32); nr.has_supersedes = 0;
        hre_contract_build_new_record(&tx, net, auth, 1, 1, &nr);
        hre_tx_txid(tx, rec);
        run(c, tx);
        memcpy(sr.record_id, rec, 32);
        hre_contract_build_sign_record(&tx, net, auth, 2, 1, &sr);
        run(c, tx);
        hre_contract_build_sign_record(&tx, net, lab, 0, 1, &sr);
        run(c, tx);
        g.reader_type = 1; memcpy(g.reader, lab_org, 32); g.scope = 2; g.record_ids = rec; g.record_count = 1;
        g.category = 0; g.expiry = 0; g.envelope = (const uint8_t *)"env"; g.envelope_len = 3;
        hre_contract_build_grant(&tx, net, pat, 1, 1, &g);
        hre_tx_txid(tx, rv.grant_id);
        run(c, tx);
        memcpy(la.record_id, rec, 32);
        hre_contract_build_log_access(&tx, net, lab, 1, 1, &la);
        run(c, tx);
        hre_contract_build_revoke(&tx, net, pat, 2, 1, &rv);
        run(c, tx);
        memcpy(rk.target, paddr, 32); memcpy(rk.new_key, key, 34);
        hre_contract_build_rotate_key(&tx, net, pat, 3, 1, &rk);
        run(c, tx);
        /* 1.1 kinds: a node, encryption keys, a suspended org, an erasure */
        {
            hre_key *node;
            uint8_t nk[34];
            hre_key_generate(&node, HRE_CURVE_P256);
            enc_key(nk, node);
            memcpy(rn.node_key, nk, 34);
            hre_contract_build_register_node(&tx, net, lab, 2, 1, &rn);
            run(c, tx);
            ek.target_type = HRE_ENC_TARGET_ORG; memcpy(ek.target, lab_org, 32); memcpy(ek.enc_key, enc, 34);
            hre_contract_build_set_enc_key(&tx, net, lab, 3, 1, &ek);
            run(c, tx);
            {
                hre_key *e2;
                hre_key_generate(&e2, HRE_CURVE_P256);
                ek.target_type = HRE_ENC_TARGET_ACCOUNT; hre_contract_address(ek.target, ak);
                enc_key(ek.enc_key, e2);
                hre_contract_build_set_enc_key(&tx, net, auth, 3, 1, &ek);
                run(c, tx);
                hre_key_free(e2);
            }
            memcpy(er.record_id, rec, 32);
            hre_contract_build_erase_record(&tx, net, auth, 4, 1, &er);
            run(c, tx);
            memcpy(so.org_id, lab_org, 32); so.action = HRE_SUSPEND_SUSPEND;
            hre_contract_build_suspend_org(&tx, net, auth, 5, 1, &so);
            run(c, tx);
            hre_key_free(node);
        }
        len = 0;
        hre_contract_snapshot_save(c, NULL, &len);
        snap = malloc(len);
        hre_contract_snapshot_save(c, snap, &len);
        wr(SD, "populated", ak, 34, snap, len);
        printf("populated snapshot: %zu bytes\n", len);
        free(snap);
        hre_contract_free(c);
        hre_key_free(auth); hre_key_free(lab); hre_key_free(pat);
    }
    hre_key_free(enck);
    return 0;
}
