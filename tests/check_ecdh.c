/*
 * Suite "ecdh": hre_key_ecdh (include/hre/key.h, lib/crypto/ecdh.c).
 *
 * Wycheproof policy. ecdh_secp256r1_ecpoint_test.json (public key as a raw
 * SEC1 point, HPKE's encoding): the public key goes through hre_pubkey_parse
 * (P-256) and the private scalar through the internal hre_key__from_scalar,
 * so this file runs white-box. A "valid" case must parse and give exactly
 * `shared`; an "invalid" one (off the curve, infinity, bad encoding, a
 * compressed x with no point) must be refused by hre_pubkey_parse with
 * HRE_EDECODE; the "acceptable" one (a compressed point) is accepted, since
 * hre_pubkey_parse takes compressed points, and must give `shared`.
 *
 * ecdh_secp256r1_test.json (ASN.1 SubjectPublicKeyInfo): libhre has no SPKI
 * parser, so the test reads the SPKI with OpenSSL's d2i_X509_PUBKEY under
 * libhre's key policy (as hre_key_import_pem applies it to private keys): the
 * DER must be consumed exactly, the algorithm id-ecPublicKey, the parameters
 * the named curve prime256v1 (explicit curve parameters are refused), and the
 * point then goes through hre_pubkey_parse. "valid" must give `shared`,
 * "invalid" must be refused at one of those steps; "acceptable" cases
 * (BER quirks, explicit parameters equal to P-256, a compressed point) may go
 * either way but, if accepted, must give `shared`. Counts are asserted.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hre/errors.h"
#include "hre/hash.h"
#include "hre/key.h"
#include "testjson.h"
#include "testutil.h"

#ifdef HRE_WHITEBOX
#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include "crypto/internal.h"
#endif

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

#ifdef HRE_WHITEBOX
/* Wycheproof private keys are ASN.1 INTEGER contents: strip the sign byte,
 * left-pad to 32. */
static void scalar32(uint8_t out[32], const uint8_t *p, size_t n)
{
    while (n > 32 && *p == 0) { p++; n--; }
    ck_assert_msg(n <= 32, "private key longer than 32 bytes");
    memset(out, 0, 32);
    memcpy(out + 32 - n, p, n);
}

static hre_key *key_of(const hre_tj *t)
{
    uint8_t *priv, d[32];
    size_t n = hre_tj_hex(t, "private", &priv);
    hre_key *k = NULL;
    scalar32(d, priv, n);
    ck_assert_msg(hre_key__from_scalar(&k, HRE_CURVE_P256, d) == HRE_OK, "tc %d: private key: %s",
                  (int)hre_tj_int(t, "tcId"), hre_error_detail());
    free(priv);
    return k;
}

/* The test's SPKI reader (see the file comment). Returns 0 with *pk set, or
 * the step that refused it: 1 DER, 2 algorithm / curve / explicit
 * parameters, 3 the point (hre_pubkey_parse, HRE_EDECODE). */
static int spki_parse(hre_pubkey **pk, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509_PUBKEY *xpk = d2i_X509_PUBKEY(NULL, &p, (long)len);
    ASN1_OBJECT *alg = NULL;
    const unsigned char *pt = NULL;
    int ptlen = 0, ptype = 0, stage = 0, rc;
    X509_ALGOR *pa = NULL;
    const void *pval = NULL;
    *pk = NULL;
    if (!xpk || p != der + len) {
        stage = 1;
    } else if (!X509_PUBKEY_get0_param(&alg, &pt, &ptlen, &pa, xpk) ||
               OBJ_obj2nid(alg) != NID_X9_62_id_ecPublicKey) {
        stage = 2;
    } else {
        X509_ALGOR_get0(NULL, &ptype, &pval, pa);
        if (ptype != V_ASN1_OBJECT || OBJ_obj2nid(pval) != NID_X9_62_prime256v1) {
            stage = 2;
        } else {
            rc = hre_pubkey_parse(pk, HRE_CURVE_P256, pt, (size_t)ptlen);
            if (rc != HRE_OK) {
                ck_assert_int_eq(rc, HRE_EDECODE);
                stage = 3;
            }
        }
    }
    X509_PUBKEY_free(xpk);
    return stage;
}

START_TEST(test_wycheproof_ecpoint)
{
    hre_tj *doc = hre_tj_load_vector("wycheproof/ecdh_secp256r1_ecpoint_test.json");
    const hre_tj *groups = hre_tj_get(doc, "testGroups");
    size_t total = 0, valid_ok = 0, invalid_refused = 0, acceptable_ok = 0, point_path = 0;

    for (size_t g = 0; g < hre_tj_len(groups); g++) {
        const hre_tj *gr = hre_tj_at(groups, g);
        const hre_tj *tests = hre_tj_get(gr, "tests");
        ck_assert_str_eq(hre_tj_str(gr, "curve"), "secp256r1");
        ck_assert_str_eq(hre_tj_str(gr, "encoding"), "ecpoint");
        for (size_t i = 0; i < hre_tj_len(tests); i++) {
            const hre_tj *t = hre_tj_at(tests, i);
            const char *result = hre_tj_str(t, "result");
            int tcid = (int)hre_tj_int(t, "tcId"), rc;
            uint8_t *pub, *want, shared[32];
            size_t publen = hre_tj_hex(t, "public", &pub), wantlen = hre_tj_hex(t, "shared", &want);
            hre_pubkey *pk = (hre_pubkey *)1;
            hre_key *k = key_of(t);

            total++;
            /* the internal point-based ECDH (HPKE's path) on every uncompressed point */
            if (publen == 65 && pub[0] == 0x04) {
                uint8_t eph[65], kpub[65], sc[32];
                size_t kl = 65;
                hre_pubkey *kp = NULL;
                rc = hre_key__ecdh_sec1(shared, k, pub);
                if (!strcmp(result, "invalid")) {
                    ck_assert_msg(rc == HRE_EDECODE, "tc %d (invalid): ecdh_sec1 gave %d", tcid, rc);
                    ck_assert(all_zero(shared, 32));
                } else {
                    ck_assert_msg(rc == HRE_OK && memcmp(shared, want, 32) == 0, "tc %d: ecdh_sec1", tcid);
                }
                /* the same with the scalar as an ephemeral: pub = k*G as well */
                ck_assert_int_eq(hre_key__scalar(sc, k), HRE_OK);
                rc = hre_key__ecdh_ephemeral(eph, shared, HRE_CURVE_P256, sc, pub);
                if (!strcmp(result, "invalid")) {
                    ck_assert_int_eq(rc, HRE_EDECODE);
                } else {
                    ck_assert_msg(rc == HRE_OK && memcmp(shared, want, 32) == 0, "tc %d: ecdh_ephemeral", tcid);
                    HRE_T_OK(hre_key_pubkey(k, &kp));
                    HRE_T_OK(hre_pubkey_serialize(kp, kpub, &kl, 0));
                    ck_assert_mem_eq(eph, kpub, 65);
                    hre_pubkey_free(kp);
                }
                point_path++;
            }
            rc = hre_pubkey_parse(&pk, HRE_CURVE_P256, pub, publen);
            if (!strcmp(result, "invalid")) {
                ck_assert_msg(rc == HRE_EDECODE, "tc %d (invalid): parse gave %d", tcid, rc);
                ck_assert_ptr_null(pk);
                invalid_refused++;
            } else {
                ck_assert_msg(rc == HRE_OK, "tc %d (%s): parse failed: %s", tcid, result, hre_error_detail());
                ck_assert_uint_eq(wantlen, 32);
                memset(shared, 0xee, 32);
                ck_assert_msg(hre_key_ecdh(k, shared, pk) == HRE_OK, "tc %d: ecdh failed: %s", tcid,
                              hre_error_detail());
                ck_assert_msg(memcmp(shared, want, 32) == 0, "tc %d: shared secret differs", tcid);
                HRE_T_OK(hre_error_last());
                if (!strcmp(result, "valid")) valid_ok++;
                else acceptable_ok++;
                hre_pubkey_free(pk);
            }
            hre_key_free(k);
            free(pub);
            free(want);
        }
    }
    printf("wycheproof ecdh_secp256r1_ecpoint_test.json: %zu cases: %zu valid matched, %zu invalid "
           "refused at parse, %zu acceptable (compressed) matched; %zu uncompressed also through the "
           "internal point ECDH (HPKE's path)\n",
           total, valid_ok, invalid_refused, acceptable_ok, point_path);
    ck_assert_uint_eq(total, (size_t)hre_tj_int(doc, "numberOfTests"));
    ck_assert_uint_eq(total, 355);
    ck_assert_uint_eq(valid_ok, 330);
    ck_assert_uint_eq(invalid_refused, 24);
    ck_assert_uint_eq(acceptable_ok, 1);
    ck_assert_uint_eq(point_path, 346);   /* 330 valid + 16 off-curve, uncompressed */
    hre_tj_free(doc);
}
END_TEST

START_TEST(test_wycheproof_spki)
{
    hre_tj *doc = hre_tj_load_vector("wycheproof/ecdh_secp256r1_test.json");
    const hre_tj *groups = hre_tj_get(doc, "testGroups");
    size_t total = 0, valid_ok = 0, invalid_refused = 0, acc_ok = 0, acc_refused = 0;
    size_t refused_by[3] = {0};   /* DER, algorithm/curve, point */

    for (size_t g = 0; g < hre_tj_len(groups); g++) {
        const hre_tj *gr = hre_tj_at(groups, g);
        const hre_tj *tests = hre_tj_get(gr, "tests");
        ck_assert_str_eq(hre_tj_str(gr, "curve"), "secp256r1");
        for (size_t i = 0; i < hre_tj_len(tests); i++) {
            const hre_tj *t = hre_tj_at(tests, i);
            const char *result = hre_tj_str(t, "result");
            int tcid = (int)hre_tj_int(t, "tcId"), rc;
            uint8_t *pub, *want, shared[32];
            size_t publen = hre_tj_hex(t, "public", &pub);
            hre_pubkey *pk = NULL;
            hre_key *k = key_of(t);

            (void)hre_tj_hex(t, "shared", &want);
            total++;
            rc = spki_parse(&pk, pub, publen);
            if (rc == 0) {
                ck_assert_msg(hre_key_ecdh(k, shared, pk) == HRE_OK, "tc %d: ecdh failed", tcid);
                ck_assert_msg(memcmp(shared, want, 32) == 0, "tc %d (%s): accepted, but the shared "
                              "secret differs", tcid, result);
                ck_assert_msg(strcmp(result, "invalid") != 0, "tc %d (invalid) was accepted", tcid);
                if (!strcmp(result, "valid")) valid_ok++;
                else acc_ok++;
                hre_pubkey_free(pk);
            } else {
                ck_assert_msg(strcmp(result, "valid") != 0, "tc %d (valid) refused (%d): %s", tcid, rc,
                              hre_tj_str(t, "comment"));
                refused_by[rc - 1]++;
                if (!strcmp(result, "invalid")) invalid_refused++;
                else acc_refused++;
            }
            hre_key_free(k);
            free(pub);
            free(want);
        }
    }
    printf("wycheproof ecdh_secp256r1_test.json: %zu cases: %zu valid matched, %zu invalid refused, "
           "%zu acceptable accepted and matched, %zu acceptable refused (refusals: DER %zu, "
           "algorithm/curve %zu, point %zu)\n", total, valid_ok, invalid_refused, acc_ok, acc_refused,
           refused_by[0], refused_by[1], refused_by[2]);
    ck_assert_uint_eq(total, (size_t)hre_tj_int(doc, "numberOfTests"));
    ck_assert_uint_eq(total, 612);
    ck_assert_uint_eq(valid_ok, 330);
    ck_assert_uint_eq(invalid_refused, 52);
    ck_assert_uint_eq(acc_ok + acc_refused, 230);
    hre_tj_free(doc);
}
END_TEST

/* hre_key__from_scalar: range, the public key it computes, round trip. */
START_TEST(test_from_scalar)
{
    static const hre_curve curves[2] = {HRE_CURVE_P256, HRE_CURVE_SECP256K1};
    uint8_t s[32], back[32], zero[32] = {0};
    hre_key *k = (hre_key *)1, *g;
    hre_pubkey *p1, *p2;
    for (int c = 0; c < 2; c++) {
        HRE_T_OK(hre_key_generate(&g, curves[c]));
        ck_assert_int_eq(hre_key__scalar(s, g), HRE_OK);
        ck_assert_int_eq(hre_key__from_scalar(&k, curves[c], s), HRE_OK);
        ck_assert_int_eq(hre_key__scalar(back, k), HRE_OK);
        ck_assert_mem_eq(back, s, 32);
        HRE_T_OK(hre_key_pubkey(g, &p1));
        HRE_T_OK(hre_key_pubkey(k, &p2));
        ck_assert(hre_pubkey_equal(p1, p2));
        hre_pubkey_free(p1);
        hre_pubkey_free(p2);
        hre_key_free(k);
        hre_key_free(g);
        /* 0 and n are refused */
        k = (hre_key *)1;
        ck_assert_int_eq(hre_key__from_scalar(&k, curves[c], zero), HRE_EINVAL);
        ck_assert_ptr_null(k);
        memcpy(s, hre_key__order(curves[c]), 32);
        ck_assert_int_eq(hre_key__from_scalar(&k, curves[c], s), HRE_EINVAL);
        s[31] -= 1;   /* n - 1 is the largest valid scalar */
        ck_assert_int_eq(hre_key__from_scalar(&k, curves[c], s), HRE_OK);
        hre_key_free(k);
    }
    ck_assert_int_eq(hre_key__from_scalar(&k, (hre_curve)7, s), HRE_EINVAL);
}
END_TEST
#endif /* HRE_WHITEBOX */

/* Both sides agree, on both curves; different keys disagree. */
START_TEST(test_agreement)
{
    static const hre_curve curves[2] = {HRE_CURVE_P256, HRE_CURVE_SECP256K1};
    for (int c = 0; c < 2; c++) {
        for (int r = 0; r < 5; r++) {
            hre_key *a, *b, *x;
            hre_pubkey *pa, *pb, *px;
            uint8_t s1[32], s2[32], s3[32];
            HRE_T_OK(hre_key_generate(&a, curves[c]));
            HRE_T_OK(hre_key_generate(&b, curves[c]));
            HRE_T_OK(hre_key_generate(&x, curves[c]));
            HRE_T_OK(hre_key_pubkey(a, &pa));
            HRE_T_OK(hre_key_pubkey(b, &pb));
            HRE_T_OK(hre_key_pubkey(x, &px));
            HRE_T_OK(hre_key_ecdh(a, s1, pb));
            HRE_T_OK(hre_key_ecdh(b, s2, pa));
            ck_assert_mem_eq(s1, s2, 32);
            ck_assert(!all_zero(s1, 32));
            HRE_T_OK(hre_key_ecdh(a, s3, px));
            ck_assert(memcmp(s1, s3, 32) != 0);
            hre_key_free(a); hre_key_free(b); hre_key_free(x);
            hre_pubkey_free(pa); hre_pubkey_free(pb); hre_pubkey_free(px);
        }
    }
}
END_TEST

/* A fixed P-256 case written out (Wycheproof tc 1), through the black-box
 * path: private key from PKCS#8 PEM, public from SEC1. */
START_TEST(test_known_answer_pem)
{
    /* PKCS#8 for scalar 0612465c...c10c346 (made with Python cryptography) */
    static const char PEM[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgBhJGXImgI6sXhVsK\n"
        "a86/0/67U674QThke1NS4CwQw0ahRANCAAS1nMdnHdamuDbizZOW71YYsv8+gZLd\n"
        "fJ02wny1b/kWYUgm2dvVrmTN2FdQaLvJ5j8jHqV+0DJIhEwJMxuVOSBT\n"
        "-----END PRIVATE KEY-----\n";
    uint8_t pub[65], want[32], shared[32];
    hre_key *k = NULL;
    hre_pubkey *pk = NULL;
    hre_t_unhex(pub, 65, "0462d5bd3372af75fe85a040715d0f502428e07046868b0bfdfa61d731afe44f26"
                         "ac333a93a9e70a81cd5a95b5bf8d13990eb741c8c38872b4a07d275a014e30cf");
    hre_t_unhex(want, 32, "53020d908b0219328b658b525f26780e3ae12bcd952bb25a93bc0895e1714285");
    HRE_T_OK(hre_key_import_pem(&k, PEM, strlen(PEM), NULL, 0));
    HRE_T_OK(hre_pubkey_parse(&pk, HRE_CURVE_P256, pub, 65));
    HRE_T_OK(hre_key_ecdh(k, shared, pk));
    ck_assert_mem_eq(shared, want, 32);
    hre_key_free(k);
    hre_pubkey_free(pk);
}
END_TEST

START_TEST(test_errors)
{
    hre_key *a, *b;
    hre_pubkey *pb;
    uint8_t s[32];
    HRE_T_OK(hre_key_generate(&a, HRE_CURVE_P256));
    HRE_T_OK(hre_key_generate(&b, HRE_CURVE_SECP256K1));
    HRE_T_OK(hre_key_pubkey(b, &pb));
    memset(s, 0xee, 32);
    ck_assert_int_eq(hre_key_ecdh(a, s, pb), HRE_EINVAL);   /* different curves */
    ck_assert(all_zero(s, 32));
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "different curves"));
    ck_assert_int_eq(hre_key_ecdh(NULL, s, pb), HRE_EINVAL);
    ck_assert_int_eq(hre_key_ecdh(a, s, NULL), HRE_EINVAL);
    ck_assert_int_eq(hre_key_ecdh(a, NULL, pb), HRE_EINVAL);
    hre_key_free(a);
    hre_key_free(b);
    hre_pubkey_free(pb);
}
END_TEST

Suite *hre_suite_ecdh(void);
Suite *hre_suite_ecdh(void)
{
    Suite *s = suite_create("ecdh");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, test_agreement);
    tcase_add_test(tc, test_known_answer_pem);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
#ifdef HRE_WHITEBOX
    tc = tcase_create("wycheproof");
    tcase_add_test(tc, test_wycheproof_ecpoint);
    tcase_add_test(tc, test_wycheproof_spki);
    tcase_add_test(tc, test_from_scalar);
    suite_add_tcase(s, tc);
#endif
    return s;
}
