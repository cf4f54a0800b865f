/*
 * Suite "hkdf": HKDF-SHA256 in one step (hre_hkdf_sha256) and in two
 * (hre_hkdf_sha256_extract / _expand), include/hre/hash.h.
 *
 * Every case of wycheproof/hkdf_sha256_test.json runs through both paths
 * (and, white-box, through the internal piecewise HMAC/HKDF that HPKE and
 * Noise use); all must give okm for a valid case, and an invalid case (an
 * output longer than 255 * 32 bytes) must be refused by both. Counts asserted.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hre/errors.h"
#include "hre/hash.h"
#include "testjson.h"
#include "testutil.h"

#ifdef HRE_WHITEBOX
#include "crypto/internal.h"
#endif

START_TEST(test_wycheproof_hkdf)
{
    hre_tj *doc = hre_tj_load_vector("wycheproof/hkdf_sha256_test.json");
    const hre_tj *groups = hre_tj_get(doc, "testGroups");
    size_t total = 0, valid_ok = 0, invalid_refused = 0;

    for (size_t g = 0; g < hre_tj_len(groups); g++) {
        const hre_tj *tests = hre_tj_get(hre_tj_at(groups, g), "tests");
        for (size_t i = 0; i < hre_tj_len(tests); i++) {
            const hre_tj *t = hre_tj_at(tests, i);
            uint8_t *ikm, *salt, *info, *okm, prk[32];
            size_t ikmlen = hre_tj_hex(t, "ikm", &ikm), saltlen = hre_tj_hex(t, "salt", &salt);
            size_t infolen = hre_tj_hex(t, "info", &info), okmlen = hre_tj_hex(t, "okm", &okm);
            size_t size = (size_t)hre_tj_int(t, "size");
            int tcid = (int)hre_tj_int(t, "tcId");
            uint8_t *a = calloc(1, size + 1), *b = calloc(1, size + 1);
            int valid = !strcmp(hre_tj_str(t, "result"), "valid");

            total++;
            HRE_T_OK(hre_hkdf_sha256_extract(prk, salt, saltlen, ikm, ikmlen));
            if (valid) {
                ck_assert_uint_eq(okmlen, size);
                ck_assert_msg(hre_hkdf_sha256(a, size, ikm, ikmlen, salt, saltlen, info, infolen) == HRE_OK,
                              "tc %d: one-step HKDF failed: %s", tcid, hre_error_detail());
                ck_assert_msg(memcmp(a, okm, size) == 0, "tc %d: one-step HKDF output differs", tcid);
                ck_assert_msg(hre_hkdf_sha256_expand(b, size, prk, 32, info, infolen) == HRE_OK,
                              "tc %d: expand failed: %s", tcid, hre_error_detail());
                ck_assert_msg(memcmp(b, okm, size) == 0, "tc %d: extract+expand output differs", tcid);
                HRE_T_OK(hre_error_last());
#ifdef HRE_WHITEBOX
                {
                    uint8_t prk2[32];
                    hre_crypto__iov v = {ikm, ikmlen}, w = {info, infolen};
                    memset(b, 0, size);
                    HRE_T_OK(hre_crypto__hkdf_extract(prk2, salt, saltlen, &v, 1));
                    ck_assert_mem_eq(prk2, prk, 32);
                    HRE_T_OK(hre_crypto__hkdf_expand(b, size, prk2, &w, 1));
                    ck_assert_msg(memcmp(b, okm, size) == 0, "tc %d: internal HKDF output differs", tcid);
                    {
                        /* the made-ready-key paths: the salt as an HMAC key for the
                         * extract, the prk as one for the expand */
                        hre_crypto__hmac_key sk, pk;
                        static const uint8_t zeros[32];
                        HRE_T_OK(hre_crypto__hmac_key_init(&sk, saltlen ? salt : zeros, saltlen ? saltlen : 32));
                        memset(prk2, 0, sizeof prk2);
                        HRE_T_OK(hre_crypto__hkdf_extract_keyed(prk2, &sk, &v, 1));
                        hre_crypto__hmac_key_clear(&sk);
                        ck_assert_ptr_null(sk.in);
                        ck_assert_msg(memcmp(prk2, prk, 32) == 0, "tc %d: keyed extract differs", tcid);
                        HRE_T_OK(hre_crypto__hmac_key_init(&pk, prk2, 32));
                        memset(b, 0, size);
                        HRE_T_OK(hre_crypto__hkdf_expand_keyed(b, size, &pk, &w, 1));
                        hre_crypto__hmac_key_clear(&pk);
                        ck_assert_msg(memcmp(b, okm, size) == 0, "tc %d: keyed expand differs", tcid);
                    }
                }
#endif
                valid_ok++;
            } else {
                ck_assert_msg(size > 255 * 32, "tc %d: an invalid case the suite does not expect", tcid);
                ck_assert_int_eq(hre_hkdf_sha256(a, size, ikm, ikmlen, salt, saltlen, info, infolen), HRE_EINVAL);
                ck_assert_int_eq(hre_hkdf_sha256_expand(b, size, prk, 32, info, infolen), HRE_EINVAL);
                ck_assert_ptr_nonnull(strstr(hre_error_detail(), "8160"));
#ifdef HRE_WHITEBOX
                {
                    hre_crypto__iov w = {info, infolen};
                    ck_assert_int_eq(hre_crypto__hkdf_expand(b, size, prk, &w, 1), HRE_EINVAL);
                }
#endif
                invalid_refused++;
            }
            free(ikm); free(salt); free(info); free(okm); free(a); free(b);
        }
    }
    printf("wycheproof hkdf_sha256_test.json: %zu cases: %zu valid matched (one step, two steps%s), "
           "%zu invalid refused\n", total, valid_ok,
#ifdef HRE_WHITEBOX
           ", internal",
#else
           "",
#endif
           invalid_refused);
    ck_assert_uint_eq(total, (size_t)hre_tj_int(doc, "numberOfTests"));
    ck_assert_uint_eq(total, 86);
    ck_assert_uint_eq(valid_ok, 83);
    ck_assert_uint_eq(invalid_refused, 3);
    hre_tj_free(doc);
}
END_TEST

/* RFC 5869 appendix A.1 and A.3 (no salt, no info), written out here. */
START_TEST(test_rfc5869)
{
    uint8_t ikm[22], salt[13], info[10], prk[32], want_prk[32], okm[42], want[42];
    memset(ikm, 0x0b, sizeof ikm);
    hre_t_unhex(salt, 13, "000102030405060708090a0b0c");
    hre_t_unhex(info, 10, "f0f1f2f3f4f5f6f7f8f9");
    hre_t_unhex(want_prk, 32, "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
    hre_t_unhex(want, 42, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                          "34007208d5b887185865");
    HRE_T_OK(hre_hkdf_sha256_extract(prk, salt, 13, ikm, 22));
    ck_assert_mem_eq(prk, want_prk, 32);
    HRE_T_OK(hre_hkdf_sha256_expand(okm, 42, prk, 32, info, 10));
    ck_assert_mem_eq(okm, want, 42);
    /* A.3: empty salt and info */
    hre_t_unhex(want_prk, 32, "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
    hre_t_unhex(want, 42, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
                          "9d201395faa4b61a96c8");
    HRE_T_OK(hre_hkdf_sha256_extract(prk, NULL, 0, ikm, 22));
    ck_assert_mem_eq(prk, want_prk, 32);
    HRE_T_OK(hre_hkdf_sha256_expand(okm, 42, prk, 32, NULL, 0));
    ck_assert_mem_eq(okm, want, 42);
}
END_TEST

START_TEST(test_argument_errors)
{
    uint8_t prk[64], out[64], big[8161];
    memset(prk, 1, sizeof prk);
    ck_assert_int_eq(hre_hkdf_sha256_extract(NULL, NULL, 0, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_hkdf_sha256_extract(prk, NULL, 3, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_hkdf_sha256_extract(prk, NULL, 0, NULL, 3), HRE_EINVAL);
    HRE_T_OK(hre_hkdf_sha256_extract(prk, NULL, 0, NULL, 0));   /* empty ikm */
    ck_assert_int_eq(hre_hkdf_sha256_expand(NULL, 32, prk, 32, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_hkdf_sha256_expand(out, 0, prk, 32, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_hkdf_sha256_expand(out, 32, NULL, 32, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_hkdf_sha256_expand(out, 32, prk, 31, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_hkdf_sha256_expand(out, 32, prk, 32, NULL, 1), HRE_EINVAL);
    ck_assert_int_eq(hre_hkdf_sha256_expand(big, 8161, prk, 32, NULL, 0), HRE_EINVAL);
    HRE_T_OK(hre_hkdf_sha256_expand(big, 8160, prk, 32, NULL, 0));
    HRE_T_OK(hre_hkdf_sha256_expand(out, 64, prk, 64, NULL, 0));  /* longer prk is fine */
}
END_TEST

/* Seeded: one step equals two steps for random inputs of every length class. */
START_TEST(test_random_agree)
{
    hre_t_reseed(hre_t_seed() ^ 0x4b0f);
    for (int r = 0; r < 200; r++) {
        uint8_t ikm[100], salt[100], info[100], prk[32], a[300], b[300];
        size_t il = (size_t)hre_t_rand_below(100), sl = (size_t)hre_t_rand_below(100);
        size_t nl = (size_t)hre_t_rand_below(100), ol = 1 + (size_t)hre_t_rand_below(299);
        hre_t_rand_bytes(ikm, sizeof ikm);
        hre_t_rand_bytes(salt, sizeof salt);
        hre_t_rand_bytes(info, sizeof info);
        HRE_T_OK(hre_hkdf_sha256(a, ol, ikm, il, salt, sl, info, nl));
        HRE_T_OK(hre_hkdf_sha256_extract(prk, salt, sl, ikm, il));
        HRE_T_OK(hre_hkdf_sha256_expand(b, ol, prk, 32, info, nl));
        ck_assert_mem_eq(a, b, ol);
#ifdef HRE_WHITEBOX
        {
            /* the internal HKDF with the input cut into pieces */
            size_t cut = il ? (size_t)hre_t_rand_below(il) : 0, cut2 = nl ? (size_t)hre_t_rand_below(nl) : 0;
            hre_crypto__iov v[2] = {{ikm, cut}, {ikm + cut, il - cut}};
            hre_crypto__iov w[3] = {{info, cut2}, {NULL, 0}, {info + cut2, nl - cut2}};
            uint8_t prk2[32];
            HRE_T_OK(hre_crypto__hkdf_extract(prk2, salt, sl, v, 2));
            ck_assert_mem_eq(prk2, prk, 32);
            HRE_T_OK(hre_crypto__hkdf_expand(b, ol, prk2, w, 3));
            ck_assert_mem_eq(a, b, ol);
        }
#endif
    }
}
END_TEST

#ifdef HRE_WHITEBOX
/* The internal HMAC against the public one, including keys longer than a block. */
START_TEST(test_internal_hmac)
{
    hre_t_reseed(hre_t_seed() ^ 0x3ac);
    for (int r = 0; r < 100; r++) {
        uint8_t key[200], msg[300], a[32], b[32];
        size_t kl = (size_t)hre_t_rand_below(200), ml = (size_t)hre_t_rand_below(300);
        size_t cut = ml ? (size_t)hre_t_rand_below(ml) : 0;
        hre_crypto__iov v[2] = {{msg, cut}, {msg + cut, ml - cut}};
        hre_t_rand_bytes(key, sizeof key);
        hre_t_rand_bytes(msg, sizeof msg);
        HRE_T_OK(hre_hmac_sha256(a, key, kl, msg, ml));
        HRE_T_OK(hre_crypto__hmac_sha256(b, key, kl, v, 2));
        ck_assert_mem_eq(a, b, 32);
        {
            /* the same key made ready once, used twice (the second use must
             * not see state left by the first) */
            hre_crypto__hmac_key k;
            HRE_T_OK(hre_crypto__hmac_key_init(&k, key, kl));
            for (int use = 0; use < 2; use++) {
                memset(b, 0, sizeof b);
                HRE_T_OK(hre_crypto__hmac_keyed(b, &k, v, 2));
                ck_assert_mem_eq(a, b, 32);
            }
            hre_crypto__hmac_key_clear(&k);
        }
    }
}
END_TEST
#endif

Suite *hre_suite_hkdf(void);
Suite *hre_suite_hkdf(void)
{
    Suite *s = suite_create("hkdf");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, test_wycheproof_hkdf);
    tcase_add_test(tc, test_rfc5869);
    suite_add_tcase(s, tc);
    tc = tcase_create("api");
    tcase_add_test(tc, test_argument_errors);
    tcase_add_test(tc, test_random_agree);
#ifdef HRE_WHITEBOX
    tcase_add_test(tc, test_internal_hmac);
#endif
    suite_add_tcase(s, tc);
    return s;
}
