/* Core layer: errors, byte reader/writer, CompactSize, hex, version. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>

#include "testutil.h"
#ifdef HRE_WHITEBOX
#include "core/internal.h"
#endif

START_TEST(test_error_codes_stable)
{
    /* The numeric values are ABI: pin them. */
    ck_assert_int_eq(HRE_OK, 0);
    ck_assert_int_eq(HRE_EINVAL, -1);
    ck_assert_int_eq(HRE_EDECODE, -2);
    ck_assert_int_eq(HRE_EVERIFY, -3);
    ck_assert_int_eq(HRE_EAUTH, -4);
    ck_assert_int_eq(HRE_ENOTFOUND, -5);
    ck_assert_int_eq(HRE_EEXISTS, -6);
    ck_assert_int_eq(HRE_ESTATE, -7);
    ck_assert_int_eq(HRE_EIO, -8);
    ck_assert_int_eq(HRE_ECORRUPT, -9);
    ck_assert_int_eq(HRE_ELIMIT, -10);
    ck_assert_int_eq(HRE_EBUFSIZE, -11);
    ck_assert_int_eq(HRE_ENOMEM, -12);
    ck_assert_int_eq(HRE_EEXHAUSTED, -18);
    ck_assert_int_eq(HRE_EFATAL, -19);
    /* every code has its own text, distinct from the unknown-code text */
    const char *unknown = hre_strerror(12345);
    ck_assert_str_eq(unknown, "unknown error");
    for (int c = 0; c >= HRE_EFATAL; c--) {
        const char *s = hre_strerror(c);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_ne(s, unknown);
        for (int d = c - 1; d >= HRE_EFATAL; d--) ck_assert_str_ne(s, hre_strerror(d));
    }
}
END_TEST

START_TEST(test_error_detail_thread_local)
{
    uint8_t out[4];
    size_t outlen = sizeof out;
    hre_error_clear();
    ck_assert_str_eq(hre_error_detail(), "");
    HRE_T_OK(hre_error_last());
    ck_assert_int_eq(hre_hex_decode(out, &outlen, "abc", 3), HRE_EDECODE);
    ck_assert_int_eq(hre_error_last(), HRE_EDECODE);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "odd length"));
    hre_error_clear();
    ck_assert_str_eq(hre_error_detail(), "");
    /* rule 4: a successful int call clears the error of an earlier failure;
     * a void call or an accessor leaves it as it was */
    ck_assert_int_eq(hre_hex_decode(out, &outlen, "zz", 2), HRE_EDECODE);
    hre_wipe(out, sizeof out);
    ck_assert_uint_eq(hre_pool_threads(NULL), 0);
    ck_assert_int_eq(hre_error_last(), HRE_EDECODE);
    outlen = sizeof out;
    ck_assert_int_eq(hre_hex_decode(out, &outlen, "abcd", 4), HRE_OK);
    ck_assert_int_eq(hre_error_last(), HRE_OK);
    ck_assert_str_eq(hre_error_detail(), "");
}
END_TEST

START_TEST(test_version)
{
    ck_assert_str_eq(hre_version_string(), HRE_VERSION_STRING);
    ck_assert_uint_eq(hre_version_number(), HRE_VERSION_NUMBER);
    ck_assert_uint_eq(hre_version_number(), 0x010000u);   /* 1.0.0 */
}
END_TEST

#ifdef HRE_WHITEBOX
/* The byte reader/writer is internal (lib/core/internal.h): white-box only. */
START_TEST(test_reader_integers)
{
    static const uint8_t in[] = {0x01, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12,
                                 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01};
    hre__reader r;
    uint8_t a; uint16_t b; uint32_t c; uint64_t d;
    hre__reader_init(&r, in, sizeof in);
    ck_assert_int_eq(hre__reader_u8(&r, &a), HRE_OK);
    ck_assert_int_eq(hre__reader_u16(&r, &b), HRE_OK);
    ck_assert_int_eq(hre__reader_u32(&r, &c), HRE_OK);
    ck_assert_int_eq(hre__reader_u64(&r, &d), HRE_OK);
    ck_assert_uint_eq(a, 1);
    ck_assert_uint_eq(b, 0x1234);
    ck_assert_uint_eq(c, 0x12345678u);
    ck_assert(d == 0x0123456789abcdefULL);
    ck_assert_uint_eq(hre__reader_remaining(&r), 0);
    ck_assert_int_eq(hre__reader_finish(&r), HRE_OK);
}
END_TEST

START_TEST(test_reader_truncation_poisons)
{
    static const uint8_t in[] = {1, 2, 3};
    hre__reader r;
    uint32_t v = 77;
    uint8_t b = 9;
    hre__reader_init(&r, in, sizeof in);
    ck_assert_int_eq(hre__reader_u32(&r, &v), HRE_EDECODE);
    ck_assert_uint_eq(v, 0);
    /* poisoned: even a read that would fit now fails */
    ck_assert_int_eq(hre__reader_u8(&r, &b), HRE_EDECODE);
    ck_assert_uint_eq(b, 0);
    ck_assert_uint_eq(hre__reader_remaining(&r), 0);
    ck_assert_int_eq(hre__reader_finish(&r), HRE_EDECODE);
}
END_TEST

START_TEST(test_reader_trailing_bytes)
{
    static const uint8_t in[] = {1, 2};
    hre__reader r;
    uint8_t b;
    hre__reader_init(&r, in, sizeof in);
    ck_assert_int_eq(hre__reader_u8(&r, &b), HRE_OK);
    ck_assert_int_eq(hre__reader_finish(&r), HRE_EDECODE);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "trailing"));
}
END_TEST

START_TEST(test_reader_bytes_and_borrow)
{
    static const uint8_t in[] = {1, 2, 3, 4, 5};
    hre__reader r;
    uint8_t out[3];
    const uint8_t *p;
    hre__reader_init(&r, in, sizeof in);
    ck_assert_int_eq(hre__reader_bytes(&r, out, 3), HRE_OK);
    ck_assert_mem_eq(out, in, 3);
    ck_assert_int_eq(hre__reader_borrow(&r, &p, 2), HRE_OK);
    ck_assert_ptr_eq(p, in + 3);
    ck_assert_int_eq(hre__reader_borrow(&r, &p, 1), HRE_EDECODE);
    ck_assert_ptr_null(p);
    /* a huge length must not wrap around the bounds check */
    hre__reader_init(&r, in, sizeof in);
    ck_assert_int_eq(hre__reader_u8(&r, NULL), HRE_OK);
    ck_assert_int_eq(hre__reader_bytes(&r, NULL, SIZE_MAX), HRE_EDECODE);
}
END_TEST

struct compact_case { const char *hex; uint64_t value; int rc; };

START_TEST(test_compact_decode_cases)
{
    static const struct compact_case cases[] = {
        {"00", 0, HRE_OK},
        {"fc", 0xfc, HRE_OK},
        {"fdfd00", 0xfd, HRE_OK},
        {"fdffff", 0xffff, HRE_OK},
        {"fe00000100", 0x10000, HRE_OK},
        {"feffffffff", 0xffffffffULL, HRE_OK},
        {"ff0000000001000000", 0x100000000ULL, HRE_OK},
        {"ffffffffffffffffff", UINT64_MAX, HRE_OK},
        /* non-minimal encodings */
        {"fd0000", 0, HRE_EDECODE},
        {"fdfc00", 0, HRE_EDECODE},
        {"feffff0000", 0, HRE_EDECODE},
        {"ffffffffff00000000", 0, HRE_EDECODE},
        /* truncated */
        {"", 0, HRE_EDECODE},
        {"fd", 0, HRE_EDECODE},
        {"fdff", 0, HRE_EDECODE},
        {"feffffff", 0, HRE_EDECODE},
        {"ff00000000010000", 0, HRE_EDECODE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t buf[16];
        size_t n = hre_t_unhex(buf, sizeof buf, cases[i].hex);
        hre__reader r;
        uint64_t v = 99;
        hre__reader_init(&r, buf, n);
        int rc = hre__reader_compact(&r, &v, UINT64_MAX);
        ck_assert_msg(rc == cases[i].rc, "case %s: rc %d, want %d", cases[i].hex, rc, cases[i].rc);
        if (rc == HRE_OK) {
            ck_assert(v == cases[i].value);
            ck_assert_int_eq(hre__reader_finish(&r), HRE_OK);
            ck_assert_uint_eq(hre__compact_size_len(v), n);
        } else {
            ck_assert(v == 0);
        }
    }
}
END_TEST

START_TEST(test_compact_limit)
{
    static const uint8_t in[] = {0xfd, 0x00, 0x01};   /* 256 */
    hre__reader r;
    uint64_t v;
    hre__reader_init(&r, in, sizeof in);
    ck_assert_int_eq(hre__reader_compact(&r, &v, 255), HRE_ELIMIT);
    hre__reader_init(&r, in, sizeof in);
    ck_assert_int_eq(hre__reader_compact(&r, &v, 256), HRE_OK);
    ck_assert(v == 256);
}
END_TEST

START_TEST(test_compact_random_roundtrip)
{
    for (int i = 0; i < 20000; i++) {
        uint64_t v = hre_t_rand();
        uint8_t buf[9];
        hre__writer w;
        hre__reader r;
        size_t len;
        uint64_t back;
        v >>= hre_t_rand_below(64);            /* spread over every size class */
        hre__writer_init(&w, buf, sizeof buf);
        hre__writer_compact(&w, v);
        ck_assert_int_eq(hre__writer_finish(&w, &len), HRE_OK);
        ck_assert_uint_eq(len, hre__compact_size_len(v));
        hre__reader_init(&r, buf, len);
        ck_assert_int_eq(hre__reader_compact(&r, &back, UINT64_MAX), HRE_OK);
        ck_assert_int_eq(hre__reader_finish(&r), HRE_OK);
        ck_assert_msg(back == v, "seed %llu: %llu != %llu", (unsigned long long)hre_t_seed(),
                      (unsigned long long)back, (unsigned long long)v);
    }
}
END_TEST

START_TEST(test_writer_counts_and_bufsize)
{
    uint8_t buf[6];
    hre__writer w;
    size_t len = 0;
    /* counting mode */
    hre__writer_init(&w, NULL, 0);
    hre__writer_u32(&w, 1);
    hre__writer_compact(&w, 300);
    hre__writer_bytes(&w, "abc", 3);
    ck_assert_int_eq(hre__writer_finish(&w, &len), HRE_EBUFSIZE);
    ck_assert_uint_eq(len, 4 + 3 + 3);
    /* too small: nothing past cap is written, needed size reported */
    memset(buf, 0xaa, sizeof buf);
    hre__writer_init(&w, buf, 5);
    hre__writer_u32(&w, 0x04030201u);
    hre__writer_u16(&w, 0x0605);
    ck_assert_int_eq(hre__writer_finish(&w, &len), HRE_EBUFSIZE);
    ck_assert_uint_eq(len, 6);
    ck_assert_uint_eq(buf[4], 0xaa);
    ck_assert_uint_eq(buf[5], 0xaa);
    /* exact fit */
    hre__writer_init(&w, buf, 6);
    hre__writer_u32(&w, 0x04030201u);
    hre__writer_u16(&w, 0x0605);
    ck_assert_int_eq(hre__writer_finish(&w, &len), HRE_OK);
    static const uint8_t want[] = {1, 2, 3, 4, 5, 6};
    ck_assert_mem_eq(buf, want, 6);
}
END_TEST

START_TEST(test_writer_u64_le)
{
    uint8_t buf[8];
    hre__writer w;
    hre__writer_init(&w, buf, sizeof buf);
    hre__writer_u64(&w, 0x0807060504030201ULL);
    ck_assert_int_eq(hre__writer_finish(&w, NULL), HRE_OK);
    static const uint8_t want[] = {1, 2, 3, 4, 5, 6, 7, 8};
    ck_assert_mem_eq(buf, want, 8);
}
END_TEST
#endif

START_TEST(test_hex)
{
    static const uint8_t bin[] = {0x00, 0x01, 0xab, 0xff};
    char txt[9];
    uint8_t back[4];
    size_t n = sizeof back;
    size_t tlen = sizeof txt;
    HRE_T_OK(hre_hex_encode(txt, &tlen, bin, 4));
    ck_assert_str_eq(txt, "0001abff");
    ck_assert_uint_eq(tlen, 8);                 /* the text length, NUL excluded */
    tlen = 8;
    ck_assert_int_eq(hre_hex_encode(txt, &tlen, bin, 4), HRE_EBUFSIZE);
    ck_assert_uint_eq(tlen, 9);                 /* the capacity needed, NUL included */
    tlen = 0;
    ck_assert_int_eq(hre_hex_encode(NULL, &tlen, bin, 4), HRE_EBUFSIZE);   /* size query */
    ck_assert_uint_eq(tlen, 9);
    HRE_T_OK(hre_hex_decode(back, &n, "0001ABff", 8));
    ck_assert_uint_eq(n, 4);
    ck_assert_mem_eq(back, bin, 4);
    n = 1;
    ck_assert_int_eq(hre_hex_decode(back, &n, "0001", 4), HRE_EBUFSIZE);
    ck_assert_uint_eq(n, 2);
    n = sizeof back;
    ck_assert_int_eq(hre_hex_decode(back, &n, "0g", 2), HRE_EDECODE);
    ck_assert_int_eq(hre_hex_decode(back, &n, " 0", 2), HRE_EDECODE);
    ck_assert_int_eq(hre_hex_decode(back, &n, "0x00", 4), HRE_EDECODE);
    ck_assert_int_eq(hre_hex_decode(back, &n, "000", 3), HRE_EDECODE);
    ck_assert_int_eq(hre_hex_decode(NULL, &n, "00", 2), HRE_EINVAL);
}
END_TEST

START_TEST(test_hex_random_roundtrip)
{
    for (int i = 0; i < 500; i++) {
        uint8_t bin[64], back[64];
        char txt[129];
        size_t len = hre_t_rand_below(65), n = sizeof back;
        hre_t_rand_bytes(bin, len);
        size_t tlen = sizeof txt;
        HRE_T_OK(hre_hex_encode(txt, &tlen, bin, len));
        ck_assert_uint_eq(tlen, 2 * len);
        ck_assert_uint_eq(strlen(txt), 2 * len);
        HRE_T_OK(hre_hex_decode(back, &n, txt, 2 * len));
        ck_assert_uint_eq(n, len);
        ck_assert(len == 0 || memcmp(bin, back, len) == 0);
    }
}
END_TEST

START_TEST(test_wipe)
{
    uint8_t buf[32];
    memset(buf, 0x5a, sizeof buf);
    hre_wipe(buf, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++) ck_assert_uint_eq(buf[i], 0);
    hre_wipe(NULL, 10); /* must not crash */
}
END_TEST

#ifdef HRE_WHITEBOX
START_TEST(test_alloc_fault_injection)
{
    void *p;
    hre_test__alloc_fail_after(2);
    p = hre__malloc(8); ck_assert_ptr_nonnull(p); hre__free(p);
    p = hre__calloc(2, 8); ck_assert_ptr_nonnull(p); hre__free(p);
    ck_assert_ptr_null(hre__malloc(8));
    ck_assert_ptr_null(hre__realloc(NULL, 8));
    ck_assert_int_eq(hre_test__alloc_count(), 4);
    hre_test__alloc_fail_after(-1);
    p = hre__malloc(8); ck_assert_ptr_nonnull(p); hre__free(p);
}
END_TEST

START_TEST(test_sha256_ctx_alloc_failure)
{
    /* every allocation point of hre_sha256_new fails cleanly */
    for (long n = 0;; n++) {
        hre_sha256_ctx *c = (hre_sha256_ctx *)1;
        hre_test__alloc_fail_after(n);
        int rc = hre_sha256_new(&c);
        hre_test__alloc_fail_after(-1);
        if (rc == HRE_OK) { hre_sha256_free(c); ck_assert_int_ge(n, 1); break; }
        ck_assert_int_eq(rc, HRE_ENOMEM);
        ck_assert_ptr_null(c);
    }
}
END_TEST
#endif


/* ---- worker pool (pool.h) ---- */
START_TEST(test_pool_lifetime)
{
    hre_pool *p = (hre_pool *)1;
    HRE_T_OK(hre_pool_new(&p, 0));       /* 0 threads: valid, caller-only */
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(hre_pool_threads(p), 0);
    hre_pool_free(p);
    HRE_T_OK(hre_pool_new(&p, 3));
    ck_assert_uint_eq(hre_pool_threads(p), 3);
    hre_pool_free(p);
    p = (hre_pool *)1;
    ck_assert_int_eq(hre_pool_new(&p, HRE_POOL_MAX_THREADS + 1), HRE_EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(hre_pool_new(NULL, 1), HRE_EINVAL);
    ck_assert_uint_eq(hre_pool_threads(NULL), 0);
    hre_pool_free(NULL);
}
END_TEST

#ifdef HRE_WHITEBOX
struct loop_ctx {
    _Atomic unsigned *hits;
    _Atomic unsigned long long sum;
    _Atomic int threads_seen;
    pthread_t caller;
    _Atomic int ran_elsewhere;
};

static void loop_item(void *arg, size_t i)
{
    struct loop_ctx *c = arg;
    atomic_fetch_add(&c->hits[i], 1);
    atomic_fetch_add(&c->sum, (unsigned long long)i);
    if (!pthread_equal(pthread_self(), c->caller)) atomic_store(&c->ran_elsewhere, 1);
    if (i % 97 == 0) {
        static _Atomic unsigned sink;
        unsigned x = 0;
        for (int k = 0; k < 20000; k++) x += (unsigned)k * (unsigned)i;   /* uneven item cost */
        atomic_fetch_add(&sink, x);
    }
}

/* Every index runs exactly once, on any thread count. */
static void run_loop(hre_pool *p, size_t n, int *elsewhere)
{
    struct loop_ctx c;
    memset(&c, 0, sizeof c);
    c.hits = calloc(n ? n : 1, sizeof *c.hits);
    ck_assert_ptr_nonnull(c.hits);
    c.caller = pthread_self();
    hre__pool_for(p, n, loop_item, &c);
    for (size_t i = 0; i < n; i++) ck_assert_uint_eq(atomic_load(&c.hits[i]), 1);
    ck_assert_uint_eq(atomic_load(&c.sum), n ? (unsigned long long)n * (n - 1) / 2 : 0);
    if (elsewhere) *elsewhere = atomic_load(&c.ran_elsewhere);
    free((void *)c.hits);
}

START_TEST(test_pool_loop_every_index_once)
{
    static const unsigned counts[] = {0, 1, 2, 4};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        hre_pool *p = NULL;
        int elsewhere = 0;
        HRE_T_OK(hre_pool_new(&p, counts[k]));
        run_loop(p, 0, NULL);
        run_loop(p, 1, NULL);
        run_loop(p, 5000, &elsewhere);
        if (counts[k] == 0) ck_assert_int_eq(elsewhere, 0);   /* 0 threads: the caller only */
        hre_pool_free(p);
    }
    run_loop(NULL, 300, NULL);                               /* NULL pool: the caller only */
}
END_TEST

struct share_arg {
    hre_pool *p;
};

static void *share_main(void *arg)
{
    struct share_arg *a = arg;
    for (int r = 0; r < 20; r++) run_loop(a->p, 777, NULL);
    return NULL;
}

static void nested_item(void *arg, size_t i)
{
    (void)i;
    run_loop(((struct share_arg *)arg)->p, 50, NULL);   /* a loop inside a loop item */
}

/* Several threads run loops on one pool at once; loops nest. */
START_TEST(test_pool_shared_and_nested)
{
    hre_pool *p = NULL;
    pthread_t t[3];
    struct share_arg a;
    HRE_T_OK(hre_pool_new(&p, 2));
    a.p = p;
    for (int i = 0; i < 3; i++) ck_assert_int_eq(pthread_create(&t[i], NULL, share_main, &a), 0);
    share_main(&a);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    hre__pool_for(p, 64, nested_item, &a);
    hre_pool_free(p);
}
END_TEST

/* begin / join: the caller works on something else while the pool runs. */
START_TEST(test_pool_begin_join)
{
    hre_pool *p = NULL;
    hre__pool_job job;
    struct loop_ctx c;
    const size_t n = 4000;
    HRE_T_OK(hre_pool_new(&p, 2));
    memset(&c, 0, sizeof c);
    c.hits = calloc(n, sizeof *c.hits);
    c.caller = pthread_self();
    hre__pool_begin(p, &job, n, loop_item, &c);
    {
        /* the caller busy with something else meanwhile */
        static _Atomic unsigned sink;
        unsigned x = 0;
        for (int k = 0; k < 1000000; k++) x += (unsigned)k * 3u;
        atomic_store(&sink, x);
    }
    hre__pool_join(p, &job);
    for (size_t i = 0; i < n; i++) ck_assert_uint_eq(atomic_load(&c.hits[i]), 1);
    free((void *)c.hits);
    hre_pool_free(p);
}
END_TEST
#endif

#ifdef HRE_WHITEBOX
START_TEST(test_siphash_vectors)
{
    /* SipHash-2-4 of the reference implementation's vectors (vectors.h,
     * vectors_sip64): key 00..0f, message 00..len-1, output little-endian */
    static const struct { size_t len; const char *hex; } v[] = {
        {0, "310e0edd47db6f72"}, {1, "fd67dc93c539f874"},
        {15, "e545be4961ca29a1"}, {63, "724506eb4c328a95"},
    };
    uint8_t key[16], msg[64], want[8], got[8];
    hre__sipkey k;
    size_t n;
    for (int i = 0; i < 16; i++) key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++) msg[i] = (uint8_t)i;
    hre__sipkey_set(&k, key);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint64_t h = hre__siphash(&k, msg, v[i].len, 2, 4);
        n = sizeof want;
        HRE_T_OK(hre_hex_decode(want, &n, v[i].hex, 16));
        for (int b = 0; b < 8; b++) got[b] = (uint8_t)(h >> (8 * b));
        ck_assert_msg(memcmp(got, want, 8) == 0, "SipHash-2-4 of %zu bytes", v[i].len);
    }
    /* fewer rounds give another function; the key matters */
    ck_assert(hre__siphash(&k, msg, 32, 1, 3) != hre__siphash(&k, msg, 32, 2, 4));
    key[0] ^= 1;
    {
        hre__sipkey k2;
        hre__sipkey_set(&k2, key);
        ck_assert(hre__siphash(&k2, msg, 32, 1, 3) != hre__siphash(&k, msg, 32, 1, 3));
    }
}
END_TEST

static _Atomic long g_map_bytes;

static void *count_zalloc(void *ctx, size_t size)
{
    size_t *p = calloc(1, size + sizeof(size_t));
    (void)ctx;
    if (!p) return NULL;
    *p = size;
    g_map_bytes += (long)size;
    return p + 1;
}

static void count_free(void *ctx, void *q)
{
    size_t *p = (size_t *)q - 1;
    (void)ctx;
    g_map_bytes -= (long)*p;
    free(p);
}

START_TEST(test_map_random_model)
{
    /* random puts, replacing puts, deletes and reserves against a plain
     * array, with and without shrinking, through a counting allocator */
    enum { NKEYS = 600, OPS = 40000 };
    static uint8_t keys[NKEYS][32];
    static int vals[NKEYS];
    static int present[NKEYS];
    uint8_t secret[16];
    hre__map m;
    size_t count = 0, max_cap = 0;
    unsigned flags = _i ? HRE__MAP_SHRINK : 0;
    hre_t_rand_bytes(secret, sizeof secret);
    hre_t_rand_bytes(keys, sizeof keys);
    memset(present, 0, sizeof present);
    g_map_bytes = 0;
    hre__map_init(&m, secret, flags, count_zalloc, count_free, NULL);
    for (int op = 0; op < OPS; op++) {
        int i = (int)hre_t_rand_below(NKEYS);
        /* phases: mostly inserts, then mostly deletes, so the map shrinks */
        int del_bias = (op / 5000) % 2 ? 80 : 20;
        if ((int)hre_t_rand_below(100) < del_bias) {
            hre__map_del(&m, keys[i]);
            if (present[i]) count--;
            present[i] = 0;
        } else if (hre_t_rand_below(50) == 0) {
            HRE_T_OK(hre__map_reserve(&m, 64));
            size_t cap = m.cap;
            ck_assert((m.count + 64) * 4 <= m.cap * 3);
            HRE_T_OK(hre__map_reserve(&m, 64));   /* nothing more to make room for */
            ck_assert_uint_eq(m.cap, cap);
        } else {
            vals[i] = op;
            ck_assert_int_eq(hre__map_put(&m, keys[i], &vals[i]), HRE_OK);
            if (!present[i]) count++;
            present[i] = 1;
        }
        ck_assert_uint_eq(m.count, count);
        ck_assert(hre__map_get(&m, keys[i]) == (present[i] ? &vals[i] : NULL));
        ck_assert_int_eq(g_map_bytes, (long)hre__map_bytes(&m));
        if (m.cap > max_cap) max_cap = m.cap;
        if (op % 997 == 0)
            for (int j = 0; j < NKEYS; j++)
                ck_assert_msg(hre__map_get(&m, keys[j]) == (present[j] ? &vals[j] : NULL),
                              "op %d key %d (seed %llu)", op, j, (unsigned long long)hre_t_seed());
    }
    if (flags & HRE__MAP_SHRINK) {
        for (int j = 0; j < NKEYS; j++) hre__map_del(&m, keys[j]);
        ck_assert_uint_lt(m.cap, max_cap);   /* it shrank */
    }
    hre__map_free(&m);
    ck_assert_int_eq(g_map_bytes, 0);
    ck_assert_uint_eq(m.cap, 0);
    /* a freed map is still usable */
    ck_assert_int_eq(hre__map_put(&m, keys[0], &vals[0]), HRE_OK);
    ck_assert(hre__map_get(&m, keys[0]) == &vals[0]);
    hre__map_free(&m);
    ck_assert_int_eq(g_map_bytes, 0);
}
END_TEST

START_TEST(test_map_ground_keys)
{
    /* keys a peer ground so that their first 8 bytes agree (under an unkeyed
     * slot of those bytes -- the ledger's map before 1.1 -- all of them
     * would share one probe run): under the keyed slot, no lookup of any of
     * them visits many slots */
    enum { N = 4096 };
    static uint8_t keys[N][32];
    uint8_t secret[16];
    hre__map m;
    size_t worst = 0;
    hre_t_rand_bytes(secret, sizeof secret);
    hre__map_init(&m, secret, 0, NULL, NULL, NULL);
    for (int i = 0; i < N; i++) {
        memset(keys[i], 0xab, 8);
        hre_t_rand_bytes(keys[i] + 8, 24);
        HRE_T_OK(hre__map_put(&m, keys[i], keys[i]));
    }
    ck_assert_uint_eq(m.count, N);
    for (int i = 0; i < N; i++) {
        size_t p = hre__map_probe_len(&m, keys[i]);
        ck_assert(hre__map_get(&m, keys[i]) == keys[i]);
        if (p > worst) worst = p;
    }
    ck_assert_msg(worst < 128, "a probe run of %zu slots (seed %llu)", worst, (unsigned long long)hre_t_seed());
    hre__map_free(&m);
}
END_TEST
#endif

Suite *hre_suite_core(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_error_codes_stable);
    tcase_add_test(tc, test_error_detail_thread_local);
    tcase_add_test(tc, test_version);
#ifdef HRE_WHITEBOX
    tcase_add_test(tc, test_reader_integers);
    tcase_add_test(tc, test_reader_truncation_poisons);
    tcase_add_test(tc, test_reader_trailing_bytes);
    tcase_add_test(tc, test_reader_bytes_and_borrow);
    tcase_add_test(tc, test_compact_decode_cases);
    tcase_add_test(tc, test_compact_limit);
    tcase_add_test(tc, test_compact_random_roundtrip);
    tcase_add_test(tc, test_writer_counts_and_bufsize);
    tcase_add_test(tc, test_writer_u64_le);
#endif
    tcase_add_test(tc, test_hex);
    tcase_add_test(tc, test_hex_random_roundtrip);
    tcase_add_test(tc, test_wipe);
    tcase_add_test(tc, test_pool_lifetime);
#ifdef HRE_WHITEBOX
    tcase_add_test(tc, test_pool_loop_every_index_once);
    tcase_add_test(tc, test_pool_shared_and_nested);
    tcase_add_test(tc, test_pool_begin_join);
#endif
#ifdef HRE_WHITEBOX
    tcase_add_test(tc, test_alloc_fault_injection);
    tcase_add_test(tc, test_sha256_ctx_alloc_failure);
    tcase_add_test(tc, test_siphash_vectors);
    tcase_add_loop_test(tc, test_map_random_model, 0, 2);
    tcase_add_test(tc, test_map_ground_keys);
#endif
    suite_add_tcase(s, tc);
    return s;
}
