/*
 * Suite "aead": AES-256-GCM (include/hre/aead.h).
 *
 * Wycheproof policy: every one of the 316 cases of aes_gcm_test.json runs.
 * A case whose key, IV or tag size libhre does not support (anything but
 * 256/96/128 bits) must be refused with HRE_EUNSUPPORTED at the step that
 * sees the size (hre_aead_new for the key, seal/open for IV and tag). A
 * supported "valid" case must seal to exactly ct || tag and open to msg; a
 * supported "invalid" case must be refused by open with HRE_EDECRYPT and a
 * zeroed output. The counts of each kind are asserted, so a skipped case
 * fails the test.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hre/aead.h"
#include "hre/errors.h"
#include "hre/hash.h"
#include "testjson.h"
#include "testutil.h"

#ifdef HRE_WHITEBOX
#include "core/internal.h"
#include "crypto/internal.h"
#endif

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

START_TEST(test_wycheproof_aes_gcm)
{
    hre_tj *doc = hre_tj_load_vector("wycheproof/aes_gcm_test.json");
    const hre_tj *groups = hre_tj_get(doc, "testGroups");
    size_t total = 0, valid_ok = 0, invalid_refused = 0, unsup_key = 0, unsup_iv = 0, unsup_tag = 0;

    for (size_t g = 0; g < hre_tj_len(groups); g++) {
        const hre_tj *gr = hre_tj_at(groups, g);
        const hre_tj *tests = hre_tj_get(gr, "tests");
        for (size_t i = 0; i < hre_tj_len(tests); i++) {
            const hre_tj *t = hre_tj_at(tests, i);
            uint8_t *key, *iv, *aad, *msg, *ct, *tag, *out, *otag;
            size_t keylen = hre_tj_hex(t, "key", &key), ivlen = hre_tj_hex(t, "iv", &iv);
            size_t aadlen = hre_tj_hex(t, "aad", &aad), msglen = hre_tj_hex(t, "msg", &msg);
            size_t ctlen = hre_tj_hex(t, "ct", &ct), taglen = hre_tj_hex(t, "tag", &tag);
            const char *result = hre_tj_str(t, "result");
            int tcid = (int)hre_tj_int(t, "tcId"), valid = !strcmp(result, "valid"), rc;
            hre_aead *a = (hre_aead *)1;

            total++;
            ck_assert_msg(valid || !strcmp(result, "invalid"), "tc %d: unexpected result %s", tcid, result);
            ck_assert_uint_eq(ctlen, msglen);
            out = malloc(msglen + 1);
            otag = malloc(taglen + 1);
            rc = hre_aead_new(&a, key, keylen);
            if (keylen != HRE_AEAD_KEY_LEN) {
                ck_assert_msg(rc == HRE_EUNSUPPORTED, "tc %d: %zu-byte key gave %d", tcid, keylen, rc);
                ck_assert_ptr_null(a);
                ck_assert_ptr_nonnull(strstr(hre_error_detail(), "key length"));
                unsup_key++;
            } else {
                HRE_T_OK(rc);
                if (ivlen != HRE_AEAD_NONCE_LEN || taglen != HRE_AEAD_TAG_LEN) {
                    memset(out, 0xaa, msglen + 1);
                    rc = hre_aead_seal(a, out, otag, taglen, iv, ivlen, aad, aadlen, msg, msglen);
                    ck_assert_msg(rc == HRE_EUNSUPPORTED, "tc %d: seal with iv %zu / tag %zu gave %d",
                                  tcid, ivlen, taglen, rc);
                    ck_assert(all_zero(out, msglen));
                    memset(out, 0xaa, msglen + 1);
                    rc = hre_aead_open(a, out, iv, ivlen, aad, aadlen, ct, ctlen, tag, taglen);
                    ck_assert_msg(rc == HRE_EUNSUPPORTED, "tc %d: open with iv %zu / tag %zu gave %d",
                                  tcid, ivlen, taglen, rc);
                    ck_assert(all_zero(out, msglen));
                    if (ivlen != HRE_AEAD_NONCE_LEN) unsup_iv++;
                    else unsup_tag++;
                } else if (valid) {
                    rc = hre_aead_seal(a, out, otag, taglen, iv, ivlen, aad, aadlen, msg, msglen);
                    ck_assert_msg(rc == HRE_OK, "tc %d: seal failed: %s", tcid, hre_error_detail());
                    ck_assert_msg(memcmp(out, ct, ctlen) == 0 && memcmp(otag, tag, taglen) == 0,
                                  "tc %d: seal does not give ct || tag", tcid);
                    HRE_T_OK(hre_error_last());
                    memset(out, 0xaa, msglen + 1);
                    rc = hre_aead_open(a, out, iv, ivlen, aad, aadlen, ct, ctlen, tag, taglen);
                    ck_assert_msg(rc == HRE_OK, "tc %d: open failed: %s", tcid, hre_error_detail());
                    ck_assert_msg(memcmp(out, msg, msglen) == 0, "tc %d: open does not give msg", tcid);
                    ck_assert_int_eq(out[msglen], 0xaa);   /* nothing written past the end */
                    valid_ok++;
                } else {
                    memset(out, 0xaa, msglen + 1);
                    rc = hre_aead_open(a, out, iv, ivlen, aad, aadlen, ct, ctlen, tag, taglen);
                    ck_assert_msg(rc == HRE_EDECRYPT, "tc %d (invalid): open gave %d", tcid, rc);
                    ck_assert_msg(all_zero(out, msglen), "tc %d: output not zeroed", tcid);
                    invalid_refused++;
                }
                hre_aead_free(a);
            }
            free(key); free(iv); free(aad); free(msg); free(ct); free(tag); free(out); free(otag);
        }
    }
    printf("wycheproof aes_gcm_test.json: %zu cases: %zu valid matched, %zu invalid refused, "
           "%zu unsupported key size, %zu unsupported IV size, %zu unsupported tag size\n",
           total, valid_ok, invalid_refused, unsup_key, unsup_iv, unsup_tag);
    ck_assert_uint_eq(total, (size_t)hre_tj_int(doc, "numberOfTests"));
    ck_assert_uint_eq(total, 316);
    ck_assert_uint_eq(valid_ok, 39);
    ck_assert_uint_eq(invalid_refused, 27);
    ck_assert_uint_eq(unsup_key, 211);
    ck_assert_uint_eq(unsup_iv, 39);
    ck_assert_uint_eq(unsup_tag, 0);
    hre_tj_free(doc);
}
END_TEST

/* Seeded random round trips: every single-bit change of ct, tag, aad or
 * nonce is refused; in-place operation; reuse of one context. */
START_TEST(test_roundtrip_and_tamper)
{
    uint8_t key[32], nonce[12], aad[40], pt[300], ct[300], tag[16], back[300];
    hre_aead *a = NULL;
    hre_t_reseed(hre_t_seed() ^ 0xae4d);
    hre_t_rand_bytes(key, sizeof key);
    HRE_T_OK(hre_aead_new(&a, key, sizeof key));
    for (int round = 0; round < 40; round++) {
        size_t ptlen = (size_t)hre_t_rand_below(sizeof pt + 1), aadlen = (size_t)hre_t_rand_below(sizeof aad + 1);
        size_t bit;
        hre_t_rand_bytes(nonce, sizeof nonce);
        hre_t_rand_bytes(aad, sizeof aad);
        hre_t_rand_bytes(pt, sizeof pt);
        HRE_T_OK(hre_aead_seal(a, ct, tag, 16, nonce, 12, aad, aadlen, pt, ptlen));
        if (ptlen >= 16) ck_assert(memcmp(ct, pt, ptlen) != 0);
        HRE_T_OK(hre_aead_open(a, back, nonce, 12, aad, aadlen, ct, ptlen, tag, 16));
        ck_assert(ptlen == 0 || memcmp(back, pt, ptlen) == 0);
        /* flip one random bit of ct, tag, aad, nonce */
        if (ptlen) {
            bit = (size_t)hre_t_rand_below(ptlen * 8);
            ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            ck_assert_int_eq(hre_aead_open(a, back, nonce, 12, aad, aadlen, ct, ptlen, tag, 16), HRE_EDECRYPT);
            ck_assert(all_zero(back, ptlen));
            ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        bit = (size_t)hre_t_rand_below(128);
        tag[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_int_eq(hre_aead_open(a, back, nonce, 12, aad, aadlen, ct, ptlen, tag, 16), HRE_EDECRYPT);
        tag[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (aadlen) {
            bit = (size_t)hre_t_rand_below(aadlen * 8);
            aad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            ck_assert_int_eq(hre_aead_open(a, back, nonce, 12, aad, aadlen, ct, ptlen, tag, 16), HRE_EDECRYPT);
            aad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        bit = (size_t)hre_t_rand_below(96);
        nonce[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_int_eq(hre_aead_open(a, back, nonce, 12, aad, aadlen, ct, ptlen, tag, 16), HRE_EDECRYPT);
        nonce[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        /* truncated ciphertext */
        if (ptlen)
            ck_assert_int_eq(hre_aead_open(a, back, nonce, 12, aad, aadlen, ct, ptlen - 1, tag, 16), HRE_EDECRYPT);
        /* untouched: still opens (the failures above left the context usable) */
        HRE_T_OK(hre_aead_open(a, back, nonce, 12, aad, aadlen, ct, ptlen, tag, 16));
        /* in place */
        memcpy(back, pt, ptlen);
        HRE_T_OK(hre_aead_seal(a, back, tag, 16, nonce, 12, aad, aadlen, back, ptlen));
        ck_assert(ptlen == 0 || memcmp(back, ct, ptlen) == 0);
        HRE_T_OK(hre_aead_open(a, back, nonce, 12, aad, aadlen, back, ptlen, tag, 16));
        ck_assert(ptlen == 0 || memcmp(back, pt, ptlen) == 0);
    }
    hre_aead_free(a);
    /* another key does not open */
    {
        hre_aead *b = NULL;
        key[0] ^= 1;
        HRE_T_OK(hre_aead_new(&b, key, sizeof key));
        key[0] ^= 1;
        HRE_T_OK(hre_aead_new(&a, key, sizeof key));
        HRE_T_OK(hre_aead_seal(a, ct, tag, 16, nonce, 12, NULL, 0, pt, 64));
        ck_assert_int_eq(hre_aead_open(b, back, nonce, 12, NULL, 0, ct, 64, tag, 16), HRE_EDECRYPT);
        hre_aead_free(a);
        hre_aead_free(b);
    }
}
END_TEST

/* The NIST GCM test case 16 (AES-256, 96-bit IV, AAD), written out here so
 * the suite has a fixed known answer independent of the vector files. */
START_TEST(test_known_answer)
{
    uint8_t key[32], iv[12], pt[60], aad[20], ct[60], tag[16], want_ct[60], want_tag[16], back[60];
    hre_aead *a = NULL;
    hre_t_unhex(key, 32, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    hre_t_unhex(iv, 12, "cafebabefacedbaddecaf888");
    hre_t_unhex(pt, 60, "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    hre_t_unhex(aad, 20, "feedfacedeadbeeffeedfacedeadbeefabaddad2");
    hre_t_unhex(want_ct, 60, "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                             "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662");
    hre_t_unhex(want_tag, 16, "76fc6ece0f4e1768cddf8853bb2d551b");
    HRE_T_OK(hre_aead_new(&a, key, 32));
    HRE_T_OK(hre_aead_seal(a, ct, tag, 16, iv, 12, aad, 20, pt, 60));
    ck_assert_mem_eq(ct, want_ct, 60);
    ck_assert_mem_eq(tag, want_tag, 16);
    HRE_T_OK(hre_aead_open(a, back, iv, 12, aad, 20, ct, 60, tag, 16));
    ck_assert_mem_eq(back, pt, 60);
    hre_aead_free(a);
}
END_TEST

START_TEST(test_argument_errors)
{
    uint8_t key[33] = {0}, nonce[16] = {0}, buf[32], tag[16], out[32];
    hre_aead *a = (hre_aead *)1;
    memset(buf, 7, sizeof buf);
    ck_assert_int_eq(hre_aead_new(NULL, key, 32), HRE_EINVAL);
    ck_assert_int_eq(hre_aead_new(&a, NULL, 32), HRE_EINVAL);
    ck_assert_ptr_null(a);
    ck_assert_int_eq(hre_aead_new(&a, key, 16), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_aead_new(&a, key, 24), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_aead_new(&a, key, 33), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_aead_new(&a, key, 0), HRE_EUNSUPPORTED);
    HRE_T_OK(hre_aead_new(&a, key, 32));
    HRE_T_OK(hre_error_last());
    /* nonce and tag sizes */
    ck_assert_int_eq(hre_aead_seal(a, out, tag, 16, nonce, 8, NULL, 0, buf, 32), HRE_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "nonce length 8"));
    ck_assert(all_zero(out, 32) && all_zero(tag, 16));
    ck_assert_int_eq(hre_aead_seal(a, out, tag, 16, nonce, 16, NULL, 0, buf, 32), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_aead_seal(a, out, tag, 12, nonce, 12, NULL, 0, buf, 32), HRE_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "tag length 12"));
    ck_assert_int_eq(hre_aead_seal(a, out, tag, 8, nonce, 12, NULL, 0, buf, 32), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_aead_open(a, out, nonce, 12, NULL, 0, buf, 32, tag, 12), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_aead_open(a, out, nonce, 0, NULL, 0, buf, 32, tag, 16), HRE_EUNSUPPORTED);
    /* NULLs */
    ck_assert_int_eq(hre_aead_seal(NULL, out, tag, 16, nonce, 12, NULL, 0, buf, 32), HRE_EINVAL);
    ck_assert_int_eq(hre_aead_seal(a, out, NULL, 16, nonce, 12, NULL, 0, buf, 32), HRE_EINVAL);
    ck_assert_int_eq(hre_aead_seal(a, out, tag, 16, NULL, 12, NULL, 0, buf, 32), HRE_EINVAL);
    ck_assert_int_eq(hre_aead_seal(a, out, tag, 16, nonce, 12, NULL, 5, buf, 32), HRE_EINVAL);
    ck_assert_int_eq(hre_aead_seal(a, NULL, tag, 16, nonce, 12, NULL, 0, buf, 32), HRE_EINVAL);
    ck_assert_int_eq(hre_aead_seal(a, out, tag, 16, nonce, 12, NULL, 0, NULL, 32), HRE_EINVAL);
    ck_assert_int_eq(hre_aead_open(NULL, out, nonce, 12, NULL, 0, buf, 32, tag, 16), HRE_EINVAL);
    ck_assert_int_eq(hre_aead_open(a, out, nonce, 12, NULL, 0, buf, 32, NULL, 16), HRE_EINVAL);
    /* empty message, empty aad: a tag alone */
    HRE_T_OK(hre_aead_seal(a, NULL, tag, 16, nonce, 12, NULL, 0, NULL, 0));
    HRE_T_OK(hre_aead_open(a, NULL, nonce, 12, NULL, 0, NULL, 0, tag, 16));
    tag[15] ^= 0x80;
    ck_assert_int_eq(hre_aead_open(a, NULL, nonce, 12, NULL, 0, NULL, 0, tag, 16), HRE_EDECRYPT);
    hre_aead_free(a);
    hre_aead_free(NULL);
}
END_TEST

/* Messages across the EVP update chunking and sizes around the GCM block. */
START_TEST(test_sizes)
{
    static const size_t sizes[] = {1, 15, 16, 17, 31, 32, 33, 255, 256, 4095, 4096, 65536, 1048577};
    uint8_t key[32], nonce[12] = {1}, tag[16];
    hre_aead *a = NULL, *b = NULL;
    uint8_t *pt = malloc(1048577), *ct = malloc(1048577), *back = malloc(1048577);
    hre_t_reseed(hre_t_seed() ^ 0x512e);
    hre_t_rand_bytes(key, 32);
    hre_t_rand_bytes(pt, 1048577);
    HRE_T_OK(hre_aead_new(&a, key, 32));
    HRE_T_OK(hre_aead_new(&b, key, 32));
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        nonce[11] = (uint8_t)i;
        HRE_T_OK(hre_aead_seal(a, ct, tag, 16, nonce, 12, pt, 13, pt, n));
        HRE_T_OK(hre_aead_open(b, back, nonce, 12, pt, 13, ct, n, tag, 16));
        ck_assert(memcmp(back, pt, n) == 0);
    }
    hre_aead_free(a);
    hre_aead_free(b);
    free(pt); free(ct); free(back);
}
END_TEST

#ifdef HRE_WHITEBOX
START_TEST(test_alloc_failure)
{
    uint8_t key[32] = {1};
    hre_aead *a = (hre_aead *)1;
    hre_test__alloc_fail_after(0);
    ck_assert_int_eq(hre_aead_new(&a, key, 32), HRE_ENOMEM);
    hre_test__alloc_fail_after(-1);
    ck_assert_ptr_null(a);
}
END_TEST

/* hre_aead__set_key re-keys a context that already holds both directions. */
START_TEST(test_set_key)
{
    uint8_t k1[32] = {1}, k2[32] = {2}, nonce[12] = {0}, pt[20] = {3}, c1[20], c2[20], t1[16], t2[16], back[20];
    hre_aead *a = NULL, *b = NULL;
    HRE_T_OK(hre_aead_new(&a, k1, 32));
    HRE_T_OK(hre_aead_seal(a, c1, t1, 16, nonce, 12, NULL, 0, pt, 20));
    HRE_T_OK(hre_aead_open(a, back, nonce, 12, NULL, 0, c1, 20, t1, 16));
    HRE_T_OK(hre_aead__set_key(a, k2, 32));
    HRE_T_OK(hre_aead_seal(a, c2, t2, 16, nonce, 12, NULL, 0, pt, 20));
    HRE_T_OK(hre_aead_new(&b, k2, 32));
    HRE_T_OK(hre_aead_open(b, back, nonce, 12, NULL, 0, c2, 20, t2, 16));
    ck_assert_int_eq(hre_aead_open(a, back, nonce, 12, NULL, 0, c1, 20, t1, 16), HRE_EDECRYPT);
    ck_assert_int_eq(hre_aead__set_key(a, k2, 16), HRE_EUNSUPPORTED);
    hre_aead_free(a);
    hre_aead_free(b);
}
END_TEST
#endif

Suite *hre_suite_aead(void);
Suite *hre_suite_aead(void)
{
    Suite *s = suite_create("aead");
    TCase *tc = tcase_create("wycheproof");
    tcase_add_test(tc, test_wycheproof_aes_gcm);
    tcase_add_test(tc, test_known_answer);
    suite_add_tcase(s, tc);

    tc = tcase_create("api");
    tcase_add_test(tc, test_roundtrip_and_tamper);
    tcase_add_test(tc, test_argument_errors);
    tcase_add_test(tc, test_sizes);
    suite_add_tcase(s, tc);

#ifdef HRE_WHITEBOX
    tc = tcase_create("whitebox");
    tcase_add_test(tc, test_alloc_failure);
    tcase_add_test(tc, test_set_key);
    suite_add_tcase(s, tc);
#endif
    return s;
}
