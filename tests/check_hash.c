/* Hashing layer: SHA-256 (NIST/FIPS 180 examples), sha256d, incremental
 * contexts, HMAC-SHA256 (RFC 4231), HKDF-SHA256 (RFC 5869), randomness. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>

#include "testutil.h"

static void expect_hex(const uint8_t *got, size_t len, const char *hex)
{
    uint8_t want[128];
    size_t n = hre_t_unhex(want, sizeof want, hex);
    ck_assert_uint_eq(n, len);
    ck_assert_mem_eq(got, want, len);
}

START_TEST(test_sha256_fips180_examples)
{
    uint8_t h[32];
    HRE_T_OK(hre_sha256(h, "abc", 3));
    expect_hex(h, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    HRE_T_OK(hre_sha256(h, "", 0));
    expect_hex(h, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    HRE_T_OK(hre_sha256(h, NULL, 0));
    expect_hex(h, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    HRE_T_OK(hre_sha256(h, m448, strlen(m448)));
    expect_hex(h, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(test_sha256_million_a_incremental)
{
    hre_sha256_ctx *c;
    uint8_t chunk[1000], h[32];
    memset(chunk, 'a', sizeof chunk);
    HRE_T_OK(hre_sha256_new(&c));
    for (int i = 0; i < 1000; i++) HRE_T_OK(hre_sha256_update(c, chunk, sizeof chunk));
    HRE_T_OK(hre_sha256_final(c, h));
    expect_hex(h, 32, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* final resets the context: it hashes a new message from scratch */
    HRE_T_OK(hre_sha256_update(c, "abc", 3));
    HRE_T_OK(hre_sha256_final(c, h));
    expect_hex(h, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hre_sha256_free(c);
    hre_sha256_free(NULL);
}
END_TEST

START_TEST(test_sha256d)
{
    uint8_t h[32];
    HRE_T_OK(hre_sha256d(h, "", 0));
    expect_hex(h, 32, "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456");
    HRE_T_OK(hre_sha256d(h, "hello", 5));
    expect_hex(h, 32, "9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50");
    ck_assert_int_eq(hre_sha256d(NULL, "", 0), HRE_EINVAL);
    ck_assert_int_eq(hre_sha256d(h, NULL, 1), HRE_EINVAL);
}
END_TEST

START_TEST(test_incremental_random_splits_and_copy)
{
    hre_sha256_ctx *a, *b;
    HRE_T_OK(hre_sha256_new(&a));
    HRE_T_OK(hre_sha256_new(&b));
    for (int it = 0; it < 200; it++) {
        uint8_t msg[300], one[32], inc[32], mid[32];
        size_t len = hre_t_rand_below(sizeof msg + 1), cut = hre_t_rand_below(len + 1);
        hre_t_rand_bytes(msg, len);
        HRE_T_OK(hre_sha256(one, msg, len));
        HRE_T_OK(hre_sha256_update(a, msg, cut));
        /* midstate: copy after the prefix, finish both ways */
        HRE_T_OK(hre_sha256_copy(b, a));
        HRE_T_OK(hre_sha256_update(a, msg + cut, len - cut));
        HRE_T_OK(hre_sha256_final(a, inc));
        HRE_T_OK(hre_sha256_update(b, msg + cut, len - cut));
        HRE_T_OK(hre_sha256_final(b, mid));
        ck_assert_msg(memcmp(one, inc, 32) == 0, "seed %llu", (unsigned long long)hre_t_seed());
        ck_assert_mem_eq(one, mid, 32);
    }
    hre_sha256_free(a);
    hre_sha256_free(b);
}
END_TEST

START_TEST(test_hmac_rfc4231)
{
    uint8_t key[131], mac[32];
    memset(key, 0x0b, 20);
    HRE_T_OK(hre_hmac_sha256(mac, key, 20, "Hi There", 8));
    expect_hex(mac, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    const char *d2 = "what do ya want for nothing?";
    HRE_T_OK(hre_hmac_sha256(mac, (const uint8_t *)"Jefe", 4, d2, strlen(d2)));
    expect_hex(mac, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(key, 0xaa, 131);
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    HRE_T_OK(hre_hmac_sha256(mac, key, 131, d6, strlen(d6)));
    expect_hex(mac, 32, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}
END_TEST

START_TEST(test_hkdf_rfc5869)
{
    uint8_t ikm[22], salt[13], info[10], okm[42];
    memset(ikm, 0x0b, sizeof ikm);
    for (int i = 0; i < 13; i++) salt[i] = (uint8_t)i;
    for (int i = 0; i < 10; i++) info[i] = (uint8_t)(0xf0 + i);
    HRE_T_OK(hre_hkdf_sha256(okm, sizeof okm, ikm, sizeof ikm, salt, sizeof salt, info, sizeof info));
    expect_hex(okm, 42, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    /* RFC 5869 test case 3: no salt, no info */
    HRE_T_OK(hre_hkdf_sha256(okm, sizeof okm, ikm, sizeof ikm, NULL, 0, NULL, 0));
    expect_hex(okm, 42, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
    ck_assert_int_eq(hre_hkdf_sha256(okm, 255 * 32 + 1, ikm, sizeof ikm, NULL, 0, NULL, 0), HRE_EINVAL);
}
END_TEST

START_TEST(test_ct_equal)
{
    uint8_t a[32], b[32];
    hre_t_rand_bytes(a, sizeof a);
    memcpy(b, a, sizeof b);
    ck_assert_int_eq(hre_ct_equal(a, b, 32), 1);
    for (int i = 0; i < 32; i++) {
        b[i] ^= 1;
        ck_assert_int_eq(hre_ct_equal(a, b, 32), 0);
        b[i] ^= 1;
    }
    ck_assert_int_eq(hre_ct_equal(a, b, 0), 1);
}
END_TEST

START_TEST(test_random_bytes)
{
    uint8_t a[32] = {0}, b[32] = {0}, z[32] = {0};
    HRE_T_OK(hre_random_bytes(a, sizeof a));
    HRE_T_OK(hre_random_bytes(b, sizeof b));
    ck_assert(memcmp(a, b, 32) != 0);
    ck_assert(memcmp(a, z, 32) != 0);
    ck_assert_int_eq(hre_random_bytes(NULL, 1), HRE_EINVAL);
    HRE_T_OK(hre_random_bytes(NULL, 0));
}
END_TEST

/* Hashing from many threads at once gives the same answers (no shared
 * mutable state; the digest is fetched once). */
static void *hash_worker(void *arg)
{
    uint8_t h[32], want[32];
    (void)arg;
    hre_t_unhex(want, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    for (int i = 0; i < 2000; i++) {
        if (hre_sha256(h, "abc", 3) != HRE_OK || memcmp(h, want, 32) != 0) return (void *)1;
    }
    return NULL;
}

START_TEST(test_threads)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++) ck_assert_int_eq(pthread_create(&t[i], NULL, hash_worker, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        ck_assert_ptr_null(r);
    }
}
END_TEST

/* The detail message is per thread: a failure on another thread does not
 * overwrite ours. */
static void *fail_worker(void *arg)
{
    uint8_t out[1];
    size_t n = 1;
    (void)arg;
    if (hre_hex_decode(out, &n, "zz", 2) != HRE_EDECODE) return (void *)1;
    return strstr(hre_error_detail(), "non-hex") ? NULL : (void *)1;
}

START_TEST(test_error_detail_per_thread)
{
    pthread_t t;
    void *r;
    uint8_t out[1];
    size_t n = 1;
    ck_assert_int_eq(hre_hex_decode(out, &n, "abc", 3), HRE_EDECODE);
    ck_assert_int_eq(pthread_create(&t, NULL, fail_worker, NULL), 0);
    pthread_join(t, &r);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "odd length"));
}
END_TEST

Suite *hre_suite_hash(void)
{
    Suite *s = suite_create("hash");
    TCase *tc = tcase_create("hash");
    tcase_add_test(tc, test_sha256_fips180_examples);
    tcase_add_test(tc, test_sha256_million_a_incremental);
    tcase_add_test(tc, test_sha256d);
    tcase_add_test(tc, test_incremental_random_splits_and_copy);
    tcase_add_test(tc, test_hmac_rfc4231);
    tcase_add_test(tc, test_hkdf_rfc5869);
    tcase_add_test(tc, test_ct_equal);
    tcase_add_test(tc, test_random_bytes);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_error_detail_per_thread);
    suite_add_tcase(s, tc);
    return s;
}
