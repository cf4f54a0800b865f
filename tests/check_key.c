/*
 * Suite "key": ECDSA keys and signatures (include/hre/key.h).
 *
 * Wycheproof policy (see docs/PROTOCOL.md section 3): every case is hashed
 * with SHA-256, parsed (strict DER via hre_sig_parse_der, or the 64-byte r||s
 * of the P1363 files as is), normalised (hre_sig_normalize) and verified
 * (hre_pubkey_verify). A "valid" case must pass all three steps; an "invalid" case
 * must be rejected by one of them. "acceptable" cases (none in the current
 * files; Wycheproof uses the label for encodings some libraries tolerate,
 * such as BER lengths) must be REJECTED: libhre is strict. The test fails if
 * a single case is misclassified or if the table is missing, and prints the
 * counts.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hre/errors.h"
#include "hre/hash.h"
#include "hre/key.h"
#include "testutil.h"
#include "vectors/wycheproof_ecdsa.h"

#ifdef HRE_WHITEBOX
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include "crypto/internal.h"
#endif

/* Group orders from SEC 2 / FIPS 186-4, written out independently of the library. */
static const char *const N_HEX[3] = {
    NULL,
    "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
};
/* Generators, compressed and uncompressed. */
static const char *const G_COMP[3] = {
    NULL,
    "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
    "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
};
static const char *const G_UNC[3] = {
    NULL,
    "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
    "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8",
};

static const hre_curve CURVES[2] = {HRE_CURVE_P256, HRE_CURVE_SECP256K1};

/* ---- small big-endian helpers (test-side, independent of der.c) ---- */

static void be_sub(uint8_t out[32], const uint8_t a[32], const uint8_t b[32])
{
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = (int)a[i] - b[i] - borrow;
        borrow = d < 0;
        out[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
}

static void be_add_small(uint8_t v[32], unsigned add)
{
    for (int i = 31; i >= 0 && add; i--) {
        unsigned s = v[i] + add;
        v[i] = (uint8_t)s;
        add = s >> 8;
    }
}

static void be_half(uint8_t out[32], const uint8_t a[32])
{
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        unsigned x = a[i];
        out[i] = (uint8_t)((x >> 1) | (carry << 7));
        carry = x & 1;
    }
}

static int be_cmp(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, 32);
}

static void order_of(uint8_t n[32], hre_curve c)
{
    hre_t_unhex(n, 32, N_HEX[c]);
}

static void digest_of(uint8_t d[32], const void *msg, size_t len)
{
    HRE_T_OK(hre_sha256(d, msg, len));
}

static hre_key *gen(hre_curve c)
{
    hre_key *k = NULL;
    HRE_T_OK(hre_key_generate(&k, c));
    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(hre_key_curve(k), c);
    return k;
}

static hre_pubkey *pub_of(const hre_key *k)
{
    hre_pubkey *p = NULL;
    HRE_T_OK(hre_key_pubkey(k, &p));
    ck_assert_ptr_nonnull(p);
    return p;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Wycheproof                                                                */
/* ------------------------------------------------------------------------ */

START_TEST(test_wycheproof)
{
    size_t seen[8] = {0};
    size_t pass_valid = 0, rej_invalid = 0, rej_acceptable = 0, bad = 0;
    size_t rej_stage[3] = {0};   /* parse, normalise, verify */

    if (hre_t_wp_error) ck_abort_msg("Wycheproof table unavailable: %s", hre_t_wp_error);
    ck_assert_msg(hre_t_wp_ncases > 0 && hre_t_wp_nfiles == 4, "Wycheproof table is empty");

    for (size_t g = 0; g < hre_t_wp_ngroups; g++) {
        const struct hre_t_wp_group *gr = &hre_t_wp_groups[g];
        const struct hre_t_wp_file *f = &hre_t_wp_files[gr->file];
        hre_curve curve = (hre_curve)f->curve;
        hre_pubkey *pk = NULL;
        int rc = hre_pubkey_parse(&pk, curve, gr->pub, gr->publen);
        ck_assert_msg(rc == HRE_OK, "%s group %zu: public key does not parse: %s", f->name, g,
                      hre_error_detail());
        for (size_t i = gr->first; i < gr->first + gr->count; i++) {
            const struct hre_t_wp_case *tc = &hre_t_wp_cases[i];
            uint8_t d[32], sig[64], der[HRE_SIG_DER_MAX];
            size_t derlen = sizeof der;
            int stage = -1;

            seen[gr->file]++;
            digest_of(d, tc->msg, tc->msglen);
            if (f->p1363) {
                if (tc->siglen != 64) stage = 0;
                else memcpy(sig, tc->sig, 64);
            } else {
                rc = hre_sig_parse_der(sig, curve, tc->sig, tc->siglen);
                if (rc != HRE_OK) {
                    ck_assert_msg(rc == HRE_EDECODE, "%s tc %d: DER error %d", f->name, tc->tcid, rc);
                    ck_assert_msg(all_zero(sig, 64), "%s tc %d: sig not zeroed", f->name, tc->tcid);
                    stage = 0;
                } else {
                    /* strict DER is canonical: it re-encodes byte for byte */
                    HRE_T_OK(hre_sig_serialize_der(der, &derlen, curve, sig));
                    ck_assert_msg(derlen == tc->siglen && memcmp(der, tc->sig, derlen) == 0,
                                  "%s tc %d: DER does not round-trip", f->name, tc->tcid);
                }
            }
            if (stage < 0) {
                rc = hre_sig_normalize(sig, curve);
                if (rc != HRE_OK) {
                    ck_assert_msg(rc == HRE_EINVAL, "%s tc %d: normalize error %d", f->name, tc->tcid, rc);
                    stage = 1;
                }
            }
            if (stage < 0) {
                rc = hre_pubkey_verify(pk, d, sig);
                if (rc != HRE_OK) {
                    ck_assert_msg(rc == HRE_EVERIFY, "%s tc %d: verify error %d", f->name, tc->tcid, rc);
                    stage = 2;
                }
            }
            if (tc->result == 1) {
                if (stage >= 0) {
                    bad++;
                    fprintf(stderr, "MISCLASSIFIED %s tc %d (valid, rejected at stage %d): %s [%s]\n",
                            f->name, tc->tcid, stage, tc->comment, tc->flags);
                } else {
                    pass_valid++;
                }
            } else {
                if (stage < 0) {
                    bad++;
                    fprintf(stderr, "MISCLASSIFIED %s tc %d (%s, accepted): %s [%s]\n", f->name,
                            tc->tcid, tc->result == 0 ? "invalid" : "acceptable", tc->comment, tc->flags);
                } else {
                    rej_stage[stage]++;
                    if (tc->result == 0) rej_invalid++;
                    else rej_acceptable++;
                }
            }
        }
        hre_pubkey_free(pk);
    }
    for (size_t i = 0; i < hre_t_wp_nfiles; i++) {
        printf("wycheproof %s: %zu cases\n", hre_t_wp_files[i].name, seen[i]);
        ck_assert_msg(seen[i] == (size_t)hre_t_wp_files[i].number_of_tests,
                      "%s: ran %zu of %d cases", hre_t_wp_files[i].name, seen[i],
                      hre_t_wp_files[i].number_of_tests);
    }
    printf("wycheproof: %zu cases: %zu valid accepted, %zu invalid rejected, %zu acceptable "
           "rejected (rejections by parse %zu, normalise %zu, verify %zu), %zu misclassified\n",
           hre_t_wp_ncases, pass_valid, rej_invalid, rej_acceptable, rej_stage[0], rej_stage[1],
           rej_stage[2], bad);
    ck_assert_msg(bad == 0, "%zu Wycheproof cases misclassified", bad);
    ck_assert_uint_eq(pass_valid + rej_invalid + rej_acceptable, hre_t_wp_ncases);
    ck_assert_uint_gt(pass_valid, 600);
    ck_assert_uint_gt(rej_invalid, 600);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Sign / verify                                                             */
/* ------------------------------------------------------------------------ */

START_TEST(test_sign_verify_roundtrip)
{
    hre_curve c = CURVES[_i];
    uint8_t n[32], half[32];
    hre_t_reseed(hre_t_seed() ^ (0x6b6579u + (unsigned)_i));
    order_of(n, c);
    be_half(half, n);
    for (int it = 0; it < 12; it++) {
        hre_key *k = gen(c), *k2 = gen(c);
        hre_pubkey *p = pub_of(k), *p2 = pub_of(k2);
        uint8_t msg[97], d[32], sig[64], sig2[64], copy[64];
        size_t mlen = (size_t)hre_t_rand_below(sizeof msg);
        hre_t_rand_bytes(msg, mlen);
        digest_of(d, msg, mlen);

        HRE_T_OK(hre_key_sign(k, sig, d));
        HRE_T_OK(hre_pubkey_verify(p, d, sig));
        /* low S, r and s in range */
        ck_assert_int_le(be_cmp(sig + 32, half), 0);
        ck_assert(!all_zero(sig, 32) && !all_zero(sig + 32, 32));
        ck_assert_int_lt(be_cmp(sig, n), 0);
        memcpy(copy, sig, 64);
        HRE_T_OK(hre_sig_normalize(copy, c));
        ck_assert_mem_eq(copy, sig, 64);
        /* randomized nonces: a second signature differs but verifies */
        HRE_T_OK(hre_key_sign(k, sig2, d));
        HRE_T_OK(hre_pubkey_verify(p, d, sig2));
        ck_assert(memcmp(sig, sig2, 64) != 0);
        /* wrong key, wrong digest, flipped bit */
        ck_assert_int_eq(hre_pubkey_verify(p2, d, sig), HRE_EVERIFY);
        d[hre_t_rand_below(32)] ^= (uint8_t)(1u << hre_t_rand_below(8));
        ck_assert_int_eq(hre_pubkey_verify(p, d, sig), HRE_EVERIFY);
        digest_of(d, msg, mlen);
        memcpy(copy, sig, 64);
        copy[hre_t_rand_below(64)] ^= (uint8_t)(1u << hre_t_rand_below(8));
        ck_assert_int_eq(hre_pubkey_verify(p, d, copy), HRE_EVERIFY);
        HRE_T_OK(hre_pubkey_verify(p, d, sig));

        hre_pubkey_free(p);
        hre_pubkey_free(p2);
        hre_key_free(k);
        hre_key_free(k2);
    }
}
END_TEST

START_TEST(test_cross_curve_rejected)
{
    hre_key *a = gen(HRE_CURVE_P256), *b = gen(HRE_CURVE_SECP256K1);
    hre_pubkey *pa = pub_of(a), *pb = pub_of(b);
    uint8_t d[32], sa[64], sb[64];
    digest_of(d, "cross", 5);
    HRE_T_OK(hre_key_sign(a, sa, d));
    HRE_T_OK(hre_key_sign(b, sb, d));
    ck_assert_int_eq(hre_pubkey_verify(pb, d, sa), HRE_EVERIFY);
    ck_assert_int_eq(hre_pubkey_verify(pa, d, sb), HRE_EVERIFY);
    ck_assert_int_eq(hre_pubkey_curve(pa), HRE_CURVE_P256);
    ck_assert_int_eq(hre_pubkey_curve(pb), HRE_CURVE_SECP256K1);
    hre_pubkey_free(pa);
    hre_pubkey_free(pb);
    hre_key_free(a);
    hre_key_free(b);
}
END_TEST

START_TEST(test_high_s_rejected)
{
    hre_curve c = CURVES[_i];
    hre_key *k = gen(c);
    hre_pubkey *p = pub_of(k);
    uint8_t n[32], d[32], sig[64], high[64];
    order_of(n, c);
    digest_of(d, "high s", 6);
    HRE_T_OK(hre_key_sign(k, sig, d));
    memcpy(high, sig, 32);
    be_sub(high + 32, n, sig + 32);          /* s' = n - s: the malleated twin */
    ck_assert_int_eq(hre_pubkey_verify(p, d, high), HRE_EVERIFY);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "high S"));
    HRE_T_OK(hre_sig_normalize(high, c));
    ck_assert_mem_eq(high, sig, 64);
    HRE_T_OK(hre_pubkey_verify(p, d, high));
    /* out of range r / s are verify failures, not crashes */
    memcpy(high, sig, 64);
    memset(high, 0, 32);
    ck_assert_int_eq(hre_pubkey_verify(p, d, high), HRE_EVERIFY);
    memcpy(high, n, 32);
    ck_assert_int_eq(hre_pubkey_verify(p, d, high), HRE_EVERIFY);
    memset(high, 0xff, 64);
    ck_assert_int_eq(hre_pubkey_verify(p, d, high), HRE_EVERIFY);
    hre_pubkey_free(p);
    hre_key_free(k);
}
END_TEST

START_TEST(test_normalize_semantics)
{
    hre_curve c = CURVES[_i];
    uint8_t n[32], half[32], sig[64], want[32], one[32] = {0};
    one[31] = 1;
    order_of(n, c);
    be_half(half, n);                         /* (n-1)/2, n is odd */

    /* s = 1: unchanged */
    memcpy(sig, one, 32);
    memcpy(sig + 32, one, 32);
    HRE_T_OK(hre_sig_normalize(sig, c));
    ck_assert_mem_eq(sig + 32, one, 32);
    /* s = (n-1)/2: the largest low S, unchanged */
    memcpy(sig + 32, half, 32);
    HRE_T_OK(hre_sig_normalize(sig, c));
    ck_assert_mem_eq(sig + 32, half, 32);
    /* s = (n+1)/2 -> (n-1)/2 */
    memcpy(sig + 32, half, 32);
    be_add_small(sig + 32, 1);
    HRE_T_OK(hre_sig_normalize(sig, c));
    ck_assert_mem_eq(sig + 32, half, 32);
    /* s = n-1 -> 1 */
    be_sub(sig + 32, n, one);
    HRE_T_OK(hre_sig_normalize(sig, c));
    ck_assert_mem_eq(sig + 32, one, 32);
    /* random high s -> n - s, r untouched */
    for (int it = 0; it < 50; it++) {
        uint8_t r[32];
        hre_t_rand_bytes(r, 32);
        r[0] &= 0x7f;
        if (all_zero(r, 32)) continue;
        memcpy(sig, r, 32);
        be_sub(sig + 32, n, r);               /* n - r is high since r < n/2 */
        be_sub(want, n, sig + 32);
        HRE_T_OK(hre_sig_normalize(sig, c));
        ck_assert_mem_eq(sig + 32, want, 32);
        ck_assert_mem_eq(sig, r, 32);
    }
    /* out of range */
    memset(sig, 0, 64);
    sig[63] = 1;
    ck_assert_int_eq(hre_sig_normalize(sig, c), HRE_EINVAL);          /* r = 0 */
    memcpy(sig, one, 32);
    memset(sig + 32, 0, 32);
    ck_assert_int_eq(hre_sig_normalize(sig, c), HRE_EINVAL);          /* s = 0 */
    memcpy(sig + 32, n, 32);
    ck_assert_int_eq(hre_sig_normalize(sig, c), HRE_EINVAL);          /* s = n */
    memcpy(sig, n, 32);
    memcpy(sig + 32, one, 32);
    ck_assert_int_eq(hre_sig_normalize(sig, c), HRE_EINVAL);          /* r = n */
    memset(sig, 0xff, 64);
    ck_assert_int_eq(hre_sig_normalize(sig, c), HRE_EINVAL);
    memcpy(sig, one, 32);
    memcpy(sig + 32, one, 32);
    ck_assert_int_eq(hre_sig_normalize(sig, (hre_curve)3), HRE_EINVAL);
    ck_assert_int_eq(hre_sig_normalize(sig, (hre_curve)0), HRE_EINVAL);
    ck_assert_int_eq(hre_sig_normalize(NULL, c), HRE_EINVAL);
}
END_TEST

START_TEST(test_sign_errors)
{
    hre_key *k = gen(HRE_CURVE_P256);
    hre_pubkey *p = pub_of(k);
    uint8_t d[32] = {0}, sig[64];
    memset(sig, 0xaa, sizeof sig);
    ck_assert_int_eq(hre_key_sign(NULL, sig, d), HRE_EINVAL);
    ck_assert(all_zero(sig, 64));
    ck_assert_int_eq(hre_key_sign(k, sig, NULL), HRE_EINVAL);
    ck_assert_int_eq(hre_key_sign(k, NULL, d), HRE_EINVAL);
    ck_assert_int_eq(hre_pubkey_verify(NULL, d, sig), HRE_EINVAL);
    ck_assert_int_eq(hre_pubkey_verify(p, NULL, sig), HRE_EINVAL);
    ck_assert_int_eq(hre_pubkey_verify(p, d, NULL), HRE_EINVAL);
    ck_assert_int_eq(hre_key_generate(NULL, HRE_CURVE_P256), HRE_EINVAL);
    {
        hre_key *x = (hre_key *)1;
        ck_assert_int_eq(hre_key_generate(&x, (hre_curve)0), HRE_EINVAL);
        ck_assert_ptr_null(x);
        x = (hre_key *)1;
        ck_assert_int_eq(hre_key_generate(&x, (hre_curve)7), HRE_EINVAL);
        ck_assert_ptr_null(x);
    }
    ck_assert_int_eq(hre_key_pubkey(k, NULL), HRE_EINVAL);
    {
        hre_pubkey *q = (hre_pubkey *)1;
        ck_assert_int_eq(hre_key_pubkey(NULL, &q), HRE_EINVAL);
        ck_assert_ptr_null(q);
    }
    ck_assert_int_eq(hre_key_curve(NULL), 0);
    ck_assert_int_eq(hre_pubkey_curve(NULL), 0);
    hre_key_free(NULL);
    hre_pubkey_free(NULL);
    hre_keycache_free(NULL);
    ck_assert_ptr_null(hre_pubkey_ref(NULL));
    /* the all-zero digest is still a digest: sign and verify it */
    HRE_T_OK(hre_key_sign(k, sig, d));
    HRE_T_OK(hre_pubkey_verify(p, d, sig));
    hre_pubkey_free(p);
    hre_key_free(k);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* DER                                                                       */
/* ------------------------------------------------------------------------ */

static int from_der_hex(uint8_t sig[64], hre_curve c, const char *hex)
{
    uint8_t der[200];
    size_t n = hre_t_unhex(der, sizeof der, hex);
    return hre_sig_parse_der(sig, c, der, n);
}

START_TEST(test_der_roundtrip)
{
    hre_curve c = CURVES[_i];
    uint8_t n[32];
    order_of(n, c);
    hre_t_reseed(hre_t_seed() ^ (0x646572u + (unsigned)_i));
    for (int it = 0; it < 400; it++) {
        uint8_t sig[64], back[64], der[HRE_SIG_DER_MAX + 8];
        size_t len = sizeof der, small = 3;
        hre_t_rand_bytes(sig, 64);
        /* vary the magnitude: leading zero bytes, top bit set or clear */
        for (int h = 0; h < 2; h++) {
            uint8_t *v = sig + 32 * h;
            size_t z = (size_t)hre_t_rand_below(34);
            if (z < 32) memset(v, 0, z);
            if (hre_t_rand_below(2)) v[z < 32 ? z : 31] |= 0x80;
            if (be_cmp(v, n) >= 0) v[0] = 0x7f;
            if (all_zero(v, 32)) v[31] = 1;
        }
        HRE_T_OK(hre_sig_serialize_der(der, &len, c, sig));
        ck_assert_uint_ge(len, 8);
        ck_assert_uint_le(len, HRE_SIG_DER_MAX);
        ck_assert_int_eq(der[0], 0x30);
        ck_assert_uint_eq(der[1], len - 2);
        HRE_T_OK(hre_sig_parse_der(back, c, der, len));
        ck_assert_mem_eq(back, sig, 64);
        /* every strict prefix and one extra byte are rejected */
        ck_assert_int_eq(hre_sig_parse_der(back, c, der, len - 1 - hre_t_rand_below(len)), HRE_EDECODE);
        der[len] = 0;
        ck_assert_int_eq(hre_sig_parse_der(back, c, der, len + 1), HRE_EDECODE);
        ck_assert(all_zero(back, 64));
        /* buffer too small */
        ck_assert_int_eq(hre_sig_serialize_der(der, &small, c, sig), HRE_EBUFSIZE);
        ck_assert_uint_eq(small, len);
    }
}
END_TEST

START_TEST(test_der_reject)
{
    const hre_curve c = HRE_CURVE_P256;
    uint8_t sig[64], one[32] = {0}, nm1[32], n[32];
    char hex[400];
    order_of(n, c);
    one[31] = 1;
    be_sub(nm1, n, one);

    ck_assert_int_eq(from_der_hex(sig, c, "3006020101020101"), HRE_OK);
    ck_assert_int_eq(sig[31], 1);
    ck_assert_int_eq(sig[63], 1);
    ck_assert(all_zero(sig, 31));
    /* an integer that needs the sign byte */
    ck_assert_int_eq(from_der_hex(sig, c, "300702020080020101"), HRE_OK);
    ck_assert_int_eq(sig[31], 0x80);

#define REJECT(h) do { memset(sig, 0x55, 64); \
        ck_assert_msg(from_der_hex(sig, c, h) == HRE_EDECODE, "accepted %s", h); \
        ck_assert(all_zero(sig, 64)); } while (0)
    REJECT("");
    REJECT("30");
    REJECT("3000");
    REJECT("300602010102010100");            /* trailing byte after the sequence */
    REJECT("3007020101020101" "00");          /* outer length covers junk */
    REJECT("30070201010201010000");
    REJECT("308106020101020101");            /* long-form (non-minimal) outer length */
    REJECT("3080020101020101" "0000");        /* indefinite length */
    REJECT("30070281010102010100");          /* long-form integer length */
    REJECT("300702020001020101");            /* superfluous leading zero in r */
    REJECT("300702010102020001");            /* superfluous leading zero in s */
    REJECT("3006020181020101");              /* negative r */
    REJECT("3006020101020181");              /* negative s */
    REJECT("3006020100020101");              /* r = 0 */
    REJECT("3006020101020100");              /* s = 0 */
    REJECT("30050200020101");                /* empty integer */
    REJECT("3106020101020101");              /* SET, not SEQUENCE */
    REJECT("3006030101020101");              /* BIT STRING, not INTEGER */
    REJECT("3005020101020101");              /* outer length too short */
    REJECT("3007020101020101");              /* outer length too long */
    REJECT("3006020201020101");              /* inner length overruns */
    REJECT("300302010102");                  /* missing s */
    REJECT("30030201010000");
    /* r = n and r = n+something: out of range */
    snprintf(hex, sizeof hex, "3026022100%s020101", N_HEX[c]);
    REJECT(hex);
    snprintf(hex, sizeof hex, "3026020101022100%s", N_HEX[c]);
    REJECT(hex);
    /* 33-byte magnitude */
    REJECT("3026022101" "0000000000000000000000000000000000000000000000000000000000000001" "020101");
    /* 33 bytes with a zero pad but no top bit needed */
    REJECT("3026022100" "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" "020101");
#undef REJECT
    /* r = n - 1 is fine */
    {
        char nm1hex[65];
        for (int i = 0; i < 32; i++) snprintf(nm1hex + 2 * i, 3, "%02x", nm1[i]);
        snprintf(hex, sizeof hex, "3026022100%s020101", nm1hex);
        ck_assert_int_eq(from_der_hex(sig, c, hex), HRE_OK);
        ck_assert_mem_eq(sig, nm1, 32);
    }
    /* over the maximum size */
    {
        uint8_t big[80] = {0x30, 78};
        ck_assert_int_eq(hre_sig_parse_der(sig, c, big, sizeof big), HRE_EDECODE);
    }
    /* bad arguments */
    {
        uint8_t der[8] = {0x30, 6, 2, 1, 1, 2, 1, 1};
        size_t len = sizeof der;
        ck_assert_int_eq(hre_sig_parse_der(sig, (hre_curve)9, der, 8), HRE_EINVAL);
        ck_assert_int_eq(hre_sig_parse_der(NULL, c, der, 8), HRE_EINVAL);
        ck_assert_int_eq(hre_sig_parse_der(sig, c, NULL, 8), HRE_EINVAL);
        ck_assert_int_eq(hre_sig_parse_der(sig, c, NULL, 0), HRE_EDECODE);
        memset(sig, 0, 64);
        sig[63] = 1;    /* r = 0 */
        ck_assert_int_eq(hre_sig_serialize_der(der, &len, c, sig), HRE_EINVAL);
        memcpy(sig, one, 32);
        memcpy(sig + 32, n, 32);
        ck_assert_int_eq(hre_sig_serialize_der(der, &len, c, sig), HRE_EINVAL);
        ck_assert_int_eq(hre_sig_serialize_der(der, NULL, c, sig), HRE_EINVAL);
        ck_assert_int_eq(hre_sig_serialize_der(der, &len, (hre_curve)0, sig), HRE_EINVAL);
    }
    /* secp256k1's n is different: a P-256-valid r can be out of range there */
    snprintf(hex, sizeof hex, "3026022100%s020101", N_HEX[HRE_CURVE_SECP256K1]);
    ck_assert_int_eq(from_der_hex(sig, HRE_CURVE_P256, hex), HRE_EDECODE);   /* > P-256 n */
    ck_assert_int_eq(from_der_hex(sig, HRE_CURVE_SECP256K1, hex), HRE_EDECODE);
    snprintf(hex, sizeof hex, "3026022100%s020101", N_HEX[HRE_CURVE_P256]);
    ck_assert_int_eq(from_der_hex(sig, HRE_CURVE_SECP256K1, hex), HRE_OK);  /* < k1 n */
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Public keys                                                               */
/* ------------------------------------------------------------------------ */

static int parse_hex(hre_pubkey **out, hre_curve c, const char *hex)
{
    uint8_t b[100];
    size_t n = hre_t_unhex(b, sizeof b, hex);
    return hre_pubkey_parse(out, c, b, n);
}

START_TEST(test_pubkey_forms)
{
    hre_curve c = CURVES[_i];
    uint8_t comp[33], unc[65], buf[70], enc[34];
    size_t len;
    hre_pubkey *a = NULL, *b = NULL, *d = NULL;
    hre_t_unhex(comp, sizeof comp, G_COMP[c]);
    hre_t_unhex(unc, sizeof unc, G_UNC[c]);
    HRE_T_OK(hre_pubkey_parse(&a, c, comp, 33));
    HRE_T_OK(hre_pubkey_parse(&b, c, unc, 65));
    ck_assert(hre_pubkey_equal(a, b));
    len = sizeof buf;
    HRE_T_OK(hre_pubkey_serialize(a, buf, &len, 0));
    ck_assert_uint_eq(len, 65);
    ck_assert_mem_eq(buf, unc, 65);
    len = sizeof buf;
    HRE_T_OK(hre_pubkey_serialize(b, buf, &len, 1));
    ck_assert_uint_eq(len, 33);
    ck_assert_mem_eq(buf, comp, 33);
    len = 64;
    ck_assert_int_eq(hre_pubkey_serialize(b, buf, &len, 0), HRE_EBUFSIZE);
    ck_assert_uint_eq(len, 65);
    len = 0;
    ck_assert_int_eq(hre_pubkey_serialize(b, NULL, &len, 1), HRE_EBUFSIZE);
    ck_assert_uint_eq(len, 33);
    ck_assert_int_eq(hre_pubkey_serialize(b, buf, NULL, 1), HRE_EINVAL);
    /* wire form */
    HRE_T_OK(hre_pubkey_serialize_wire(a, enc));
    ck_assert_int_eq(enc[0], (int)c);
    ck_assert_mem_eq(enc + 1, comp, 33);
    HRE_T_OK(hre_pubkey_parse_wire(&d, enc));
    ck_assert(hre_pubkey_equal(d, a));
    ck_assert_int_eq(hre_pubkey_curve(d), c);
    ck_assert_int_eq(hre_pubkey_serialize_wire(NULL, enc), HRE_EINVAL);
    ck_assert(all_zero(enc, 34));
    /* references */
    ck_assert_ptr_eq(hre_pubkey_ref(a), a);
    hre_pubkey_free(a);            /* drops the extra reference only */
    ck_assert(hre_pubkey_equal(a, b));
    ck_assert(!hre_pubkey_equal(a, NULL));
    hre_pubkey_free(a);
    hre_pubkey_free(b);
    hre_pubkey_free(d);

    /* generated keys round-trip through every form */
    for (int it = 0; it < 8; it++) {
        hre_key *k = gen(c);
        hre_pubkey *p = pub_of(k), *q = NULL, *r = NULL;
        uint8_t dg[32], sig[64];
        len = sizeof unc;
        HRE_T_OK(hre_pubkey_serialize(p, unc, &len, 0));
        len = sizeof comp;
        HRE_T_OK(hre_pubkey_serialize(p, comp, &len, 1));
        ck_assert_int_eq(comp[0], 2 | (unc[64] & 1));
        ck_assert_mem_eq(comp + 1, unc + 1, 32);
        HRE_T_OK(hre_pubkey_parse(&q, c, comp, 33));
        HRE_T_OK(hre_pubkey_serialize_wire(p, enc));
        HRE_T_OK(hre_pubkey_parse_wire(&r, enc));
        digest_of(dg, &it, sizeof it);
        HRE_T_OK(hre_key_sign(k, sig, dg));
        HRE_T_OK(hre_pubkey_verify(q, dg, sig));
        HRE_T_OK(hre_pubkey_verify(r, dg, sig));
        hre_pubkey_free(p);
        hre_pubkey_free(q);
        hre_pubkey_free(r);
        hre_key_free(k);
    }
}
END_TEST

START_TEST(test_pubkey_reject)
{
    hre_curve c = CURVES[_i];
    hre_pubkey *p = (hre_pubkey *)1;
    uint8_t b[70], comp[33], unc[65], enc[34];
    /* x with no point on the curve, a valid small x, and that x + p (non-canonical) */
    const char *off_x = c == HRE_CURVE_P256
        ? "020000000000000000000000000000000000000000000000000000000000000001"
        : "020000000000000000000000000000000000000000000000000000000000000005";
    const char *ok_x = c == HRE_CURVE_P256
        ? "020000000000000000000000000000000000000000000000000000000000000005"
        : "020000000000000000000000000000000000000000000000000000000000000001";
    const char *x_plus_p = c == HRE_CURVE_P256
        ? "02ffffffff00000001000000000000000000000001000000000000000000000004"
        : "02fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30";
    const char *x_is_p = c == HRE_CURVE_P256
        ? "02ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"
        : "02fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f";

    hre_t_unhex(comp, sizeof comp, G_COMP[c]);
    hre_t_unhex(unc, sizeof unc, G_UNC[c]);

#define PREJECT(expr, code) do { p = (hre_pubkey *)1; \
        ck_assert_int_eq((expr), (code)); ck_assert_ptr_null(p); } while (0)
    PREJECT(parse_hex(&p, c, off_x), HRE_EDECODE);
    ck_assert_int_eq(parse_hex(&p, c, ok_x), HRE_OK);
    hre_pubkey_free(p);
    PREJECT(parse_hex(&p, c, x_plus_p), HRE_EDECODE);
    PREJECT(parse_hex(&p, c, x_is_p), HRE_EDECODE);
    /* off-curve uncompressed: G with y + 1 */
    memcpy(b, unc, 65);
    be_add_small(b + 33, 1);
    PREJECT(hre_pubkey_parse(&p, c, b, 65), HRE_EDECODE);
    /* y replaced by p - y... is -G: on the curve, accepted; y + p overflows: rejected */
    /* wrong prefixes */
    memcpy(b, comp, 33);
    for (unsigned pre = 0; pre < 256; pre++) {
        if (pre == 2 || pre == 3) continue;
        b[0] = (uint8_t)pre;
        PREJECT(hre_pubkey_parse(&p, c, b, 33), HRE_EDECODE);
    }
    memcpy(b, unc, 65);
    for (unsigned pre = 0; pre < 256; pre++) {
        if (pre == 4) continue;
        b[0] = (uint8_t)pre;       /* includes hybrid 0x06/0x07 */
        PREJECT(hre_pubkey_parse(&p, c, b, 65), HRE_EDECODE);
    }
    /* the wrong parity of the prefix gives the other point: it parses but differs */
    memcpy(b, comp, 33);
    b[0] ^= 1;
    HRE_T_OK(hre_pubkey_parse(&p, c, b, 33));
    {
        hre_pubkey *g = NULL;
        HRE_T_OK(hre_pubkey_parse(&g, c, comp, 33));
        ck_assert(!hre_pubkey_equal(p, g));
        hre_pubkey_free(g);
    }
    hre_pubkey_free(p);
    /* infinity and zero encodings */
    b[0] = 0;
    PREJECT(hre_pubkey_parse(&p, c, b, 1), HRE_EDECODE);
    memset(b, 0, sizeof b);
    PREJECT(hre_pubkey_parse(&p, c, b, 33), HRE_EDECODE);
    PREJECT(hre_pubkey_parse(&p, c, b, 65), HRE_EDECODE);
    b[0] = 2;   /* x = 0: a point on P-256 (b is a square mod p), none on secp256k1 */
    if (c == HRE_CURVE_P256) {
        HRE_T_OK(hre_pubkey_parse(&p, c, b, 33));
        hre_pubkey_free(p);
    } else {
        PREJECT(hre_pubkey_parse(&p, c, b, 33), HRE_EDECODE);
    }
    b[0] = 4;
    PREJECT(hre_pubkey_parse(&p, c, b, 65), HRE_EDECODE);   /* (0, 0) */
    /* wrong lengths */
    memcpy(b, unc, 65);
    PREJECT(hre_pubkey_parse(&p, c, b, 64), HRE_EDECODE);
    PREJECT(hre_pubkey_parse(&p, c, b, 66), HRE_EDECODE);
    PREJECT(hre_pubkey_parse(&p, c, comp, 32), HRE_EDECODE);
    PREJECT(hre_pubkey_parse(&p, c, comp, 0), HRE_EDECODE);
    memcpy(b, comp, 33);
    b[0] = 4;
    PREJECT(hre_pubkey_parse(&p, c, b, 33), HRE_EDECODE);
    b[0] = 2;
    PREJECT(hre_pubkey_parse(&p, c, b, 65), HRE_EDECODE);
    /* arguments */
    PREJECT(hre_pubkey_parse(&p, (hre_curve)0, comp, 33), HRE_EINVAL);
    PREJECT(hre_pubkey_parse(&p, (hre_curve)3, comp, 33), HRE_EINVAL);
    PREJECT(hre_pubkey_parse(&p, c, NULL, 33), HRE_EINVAL);
    ck_assert_int_eq(hre_pubkey_parse(NULL, c, comp, 33), HRE_EINVAL);
    /* wire form: curve ids and prefixes */
    enc[0] = (uint8_t)c;
    memcpy(enc + 1, comp, 33);
    for (unsigned id = 0; id < 256; id++) {
        if (id == HRE_CURVE_P256 || id == HRE_CURVE_SECP256K1) continue;
        enc[0] = (uint8_t)id;
        PREJECT(hre_pubkey_parse_wire(&p, enc), HRE_EDECODE);
    }
    enc[0] = (uint8_t)c;
    enc[1] = 4;
    PREJECT(hre_pubkey_parse_wire(&p, enc), HRE_EDECODE);
    enc[1] = 2;
    hre_t_unhex(enc + 1, 33, off_x);
    PREJECT(hre_pubkey_parse_wire(&p, enc), HRE_EDECODE);
    PREJECT(hre_pubkey_parse_wire(&p, NULL), HRE_EINVAL);
    ck_assert_int_eq(hre_pubkey_parse_wire(NULL, enc), HRE_EINVAL);
#undef PREJECT
}
END_TEST

/* ------------------------------------------------------------------------ */
/* PEM                                                                       */
/* ------------------------------------------------------------------------ */

/* Made by `openssl genpkey ... -aes-256-cbc -pass pass:hunter2`, P-256. */
static const char OPENSSL_ENC_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAiqDFgl/uUc5QICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEPxXMMdkD2z8Lhr3u+5S75cEgZAD\n"
    "48bdVpDxR1mZZoSGXhYlBE1jfFKQ/HAqCgh1IUwv/rrr+BD8iPQCosIilut79VId\n"
    "obvHm0hCTUCCWzGOMYjJbHbJgV7cxOg64uT2w0227jH6gLS2ozP/G4GFuJaly4/S\n"
    "/nzJzLkIYzWr8NlJfnfltoMASQ+7UgBgaJcrop4V8t450J2PK9REoLlFPDBd/kw=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
static const char OPENSSL_ENC_PUB[] =
    "039e3cbe50acfecbcb016ebaed17751dcaf3323903e64e3b4d96a5495a74c2aaeb";
static const char P384_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDC/bVlKNr2yqtMC/8lA\n"
    "Ms3eB/djMbHr6ow5dGZ7LyrxVYi/KJq6W1Hni3A3SBaJGQ+hZANiAASxqSlNwr55\n"
    "BRMP8T8Cy1Fgq7yD14VgkNbr6pGT/oo1X5GFn+cnTujNdWMzEskRPmageUVksQiC\n"
    "96STpChhrRobklD+9TZhvMc8x4Qnb7vFNK/BrDTTGjf9WR5uMLFmb5Y=\n"
    "-----END PRIVATE KEY-----\n";
static const char ED25519_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIPVskYRZ1HRGWf3ZoBTbTbWeYGZ9Wc5Tuvdgty6P5UuW\n"
    "-----END PRIVATE KEY-----\n";

/* One P-256 key encrypted three more ways by the openssl CLI, passphrase "pw":
 * PBES1 (pbeWithSHA1And3-KeyTripleDES-CBC), PBES2 with 10000001 PBKDF2
 * iterations (over libhre's cap), and PBES2 with scrypt. */
static const char PBES1_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIGxMBwGCiqGSIb3DQEMAQMwDgQI4YOd6r1DaxACAggABIGQrCQSvwY3Lngyk7JH\n"
    "NBu9n+XLl3fptNdUziMqK49WDjPAvzbqbNT1Egy8pcxc6GryrSNPla7+xp5zI6JJ\n"
    "gk8NFEbuSYTOnfSrqp2LYgLalT+9ppwEpmzRIc5CbKaG06OxbTMgVLRLEeDOTvCV\n"
    "YWOF8LuoA/PRxHJNVOP62it33I9FIVe4lNYDF2VY/jml7M+L\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
static const char ITER_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHuMFkGCSqGSIb3DQEFDTBMMCsGCSqGSIb3DQEFDDAeBAi5EKgDII+vogIEAJiW\n"
    "gTAMBggqhkiG9w0CCQUAMB0GCWCGSAFlAwQBKgQQXOQpZFCibs9T1avhWxtorwSB\n"
    "kN8R3+Y8WCxyBxHOSII6i6dU3tHlSuJFVpWTV8Tw0vzSB3CNd5l46pTYpaF57LMi\n"
    "WC/cQCl4VeV8aEJehBnOa5zKxvFEZjTYRIJY8lIZkMNicl4pMdKCEYU28L09zQ9c\n"
    "NnFYpB6ju6x4HIk+RB2jtx0D42VQpzNI7tweLt75SUPQUXe4fODHfEkIV4+SgSnI\n"
    "hw==\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
static const char SCRYPT_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHkME8GCSqGSIb3DQEFDTBCMCEGCSsGAQQB2kcECzAUBAjGLt9ZSw7nFQICQAAC\n"
    "AQgCAQEwHQYJYIZIAWUDBAEqBBAfsQ6YjM3TN3T7/moKgDpUBIGQ/Kdta9BBU7kY\n"
    "071KSlzR2wLQ+s7yHIbo/P7nQGI3AgW3CH7eF48EDWl4bUEGOizdT3J2xraAU3Gy\n"
    "hTiufO1VxRFYgJm/dWHVPf52Ki0usLH4LA2Wjbq+eNKNDxEWWUi1S4TI66u3COgG\n"
    "XbFn8gyFbG86zwtCE0hGl6h0HvwykS3TZNfPBidln957Oo5ksaYh\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
static const char PBE_FIXTURE_PUB[] =
    "047ceca832650649e9cca9209e0651d1512d2265bdfb5e59fbf28dafbc124adf1c"
    "2a225ada0a17d6f08d8370643cf6883d24f58062dd729ddbad61fcee5be64159";

START_TEST(test_pem_encryption_schemes)
{
    hre_key *k = (hre_key *)1;
    hre_pubkey *p;
    uint8_t want[65], got[65];
    size_t len = sizeof got;
    HRE_T_OK(hre_key_import_pem(&k, SCRYPT_PEM, strlen(SCRYPT_PEM), "pw", 2));
    p = pub_of(k);
    HRE_T_OK(hre_pubkey_serialize(p, got, &len, 0));
    hre_t_unhex(want, sizeof want, PBE_FIXTURE_PUB);
    ck_assert_mem_eq(got, want, 65);
    hre_pubkey_free(p);
    hre_key_free(k);
    k = (hre_key *)1;
    ck_assert_int_eq(hre_key_import_pem(&k, SCRYPT_PEM, strlen(SCRYPT_PEM), "px", 2), HRE_EDECRYPT);
    ck_assert_ptr_null(k);
    /* refused before running the KDF */
    ck_assert_int_eq(hre_key_import_pem(&k, PBES1_PEM, strlen(PBES1_PEM), "pw", 2), HRE_EUNSUPPORTED);
    ck_assert_ptr_null(k);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "PBES2"));
    ck_assert_int_eq(hre_key_import_pem(&k, ITER_PEM, strlen(ITER_PEM), "pw", 2), HRE_EUNSUPPORTED);
    ck_assert_ptr_null(k);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "10000001"));
}
END_TEST

static void check_same_key(const hre_key *a, const hre_key *b)
{
    hre_pubkey *pa = pub_of(a), *pb = pub_of(b);
    uint8_t d[32], sig[64];
    ck_assert(hre_pubkey_equal(pa, pb));
    digest_of(d, "pem", 3);
    HRE_T_OK(hre_key_sign(b, sig, d));
    HRE_T_OK(hre_pubkey_verify(pa, d, sig));
    hre_pubkey_free(pa);
    hre_pubkey_free(pb);
}

START_TEST(test_pem_roundtrip)
{
    hre_curve c = CURVES[_i];
    hre_key *k = gen(c), *k2 = NULL;
    char pem[2048];
    const char pass[] = "correct horse battery staple";
    size_t len = sizeof pem, need;

    /* encrypted */
    HRE_T_OK(hre_key_export_pem(k, pem, &len, pass, strlen(pass)));
    ck_assert_uint_eq(strlen(pem), len);
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    HRE_T_OK(hre_key_import_pem(&k2, pem, len, pass, strlen(pass)));
    ck_assert_int_eq(hre_key_curve(k2), c);
    check_same_key(k, k2);
    hre_key_free(k2);
    k2 = (hre_key *)1;
    /* wrong, missing, truncated passphrase */
    ck_assert_int_eq(hre_key_import_pem(&k2, pem, len, "correct horse battery stapler", 29), HRE_EDECRYPT);
    ck_assert_ptr_null(k2);
    ck_assert_ptr_null(strstr(hre_error_detail(), "horse"));
    ck_assert_int_eq(hre_key_import_pem(&k2, pem, len, pass, strlen(pass) - 1), HRE_EDECRYPT);
    ck_assert_int_eq(hre_key_import_pem(&k2, pem, len, NULL, 0), HRE_EDECRYPT);
    ck_assert_ptr_null(k2);
    /* a passphrase containing a NUL byte is used in full */
    {
        const char nulpass[] = {'a', '\0', 'b'};
        len = sizeof pem;
        HRE_T_OK(hre_key_export_pem(k, pem, &len, nulpass, 3));
        ck_assert_int_eq(hre_key_import_pem(&k2, pem, len, nulpass, 1), HRE_EDECRYPT);
        HRE_T_OK(hre_key_import_pem(&k2, pem, len, nulpass, 3));
        hre_key_free(k2);
    }

    /* clear */
    len = sizeof pem;
    HRE_T_OK(hre_key_export_pem(k, pem, &len, NULL, 0));
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
    HRE_T_OK(hre_key_import_pem(&k2, pem, len, NULL, 0));
    check_same_key(k, k2);
    hre_key_free(k2);
    /* a passphrase given for a clear key is ignored */
    HRE_T_OK(hre_key_import_pem(&k2, pem, len, "x", 1));
    hre_key_free(k2);

    /* buffer sizing */
    need = 10;
    ck_assert_int_eq(hre_key_export_pem(k, pem, &need, NULL, 0), HRE_EBUFSIZE);
    ck_assert_uint_eq(need, len + 1);      /* len: the clear export above */
    ck_assert(all_zero((const uint8_t *)pem, 10));   /* the short buffer is wiped */
    HRE_T_OK(hre_key_export_pem(k, pem, &need, NULL, 0));
    need = 0;
    ck_assert_int_eq(hre_key_export_pem(k, NULL, &need, pass, strlen(pass)), HRE_EBUFSIZE);
    ck_assert_uint_gt(need, 200);

    /* argument errors */
    len = sizeof pem;
    ck_assert_int_eq(hre_key_export_pem(k, pem, &len, NULL, 5), HRE_EINVAL);
    ck_assert_int_eq(hre_key_export_pem(k, pem, &len, "", 0), HRE_EINVAL);
    ck_assert_int_eq(hre_key_export_pem(NULL, pem, &len, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_key_export_pem(k, pem, NULL, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_key_import_pem(NULL, pem, len, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_key_import_pem(&k2, NULL, 10, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_key_import_pem(&k2, pem, len, NULL, 3), HRE_EINVAL);
    hre_key_free(k);
}
END_TEST

START_TEST(test_pem_foreign)
{
    hre_key *k = (hre_key *)1;
    hre_pubkey *p;
    uint8_t enc[34], want[33];
    char buf[1024];

    /* a key encrypted by the openssl CLI */
    HRE_T_OK(hre_key_import_pem(&k, OPENSSL_ENC_PEM, strlen(OPENSSL_ENC_PEM), "hunter2", 7));
    ck_assert_int_eq(hre_key_curve(k), HRE_CURVE_P256);
    p = pub_of(k);
    HRE_T_OK(hre_pubkey_serialize_wire(p, enc));
    hre_t_unhex(want, sizeof want, OPENSSL_ENC_PUB);
    ck_assert_mem_eq(enc + 1, want, 33);
    hre_pubkey_free(p);
    hre_key_free(k);
    k = (hre_key *)1;
    ck_assert_int_eq(hre_key_import_pem(&k, OPENSSL_ENC_PEM, strlen(OPENSSL_ENC_PEM), "hunter3", 7), HRE_EDECRYPT);
    ck_assert_ptr_null(k);
    ck_assert_ptr_null(strstr(hre_error_detail(), "hunter"));

    /* other curves and algorithms */
    ck_assert_int_eq(hre_key_import_pem(&k, P384_PEM, strlen(P384_PEM), NULL, 0), HRE_EUNSUPPORTED);
    ck_assert_ptr_null(k);
    ck_assert_int_eq(hre_key_import_pem(&k, ED25519_PEM, strlen(ED25519_PEM), NULL, 0), HRE_EUNSUPPORTED);
    ck_assert_ptr_null(k);

    /* not PKCS#8 / not PEM / damaged */
    ck_assert_int_eq(hre_key_import_pem(&k, "hello", 5, NULL, 0), HRE_EDECODE);
    ck_assert_int_eq(hre_key_import_pem(&k, "", 0, NULL, 0), HRE_EDECODE);
    snprintf(buf, sizeof buf, "-----BEGIN PUBLIC KEY-----\n"
             "MC4CAQAwBQYDK2VwBCIEIPVskYRZ1HRGWf3ZoBTbTbWeYGZ9Wc5Tuvdgty6P5UuW\n"
             "-----END PUBLIC KEY-----\n");
    ck_assert_int_eq(hre_key_import_pem(&k, buf, strlen(buf), NULL, 0), HRE_EDECODE);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "PKCS#8"));
    snprintf(buf, sizeof buf, "%s", P384_PEM);
    buf[40] = buf[40] == 'A' ? 'B' : 'A';                     /* damage the ASN.1 */
    ck_assert_int_ne(hre_key_import_pem(&k, buf, strlen(buf), NULL, 0), HRE_OK);
    ck_assert_ptr_null(k);
    /* truncated */
    ck_assert_int_eq(hre_key_import_pem(&k, OPENSSL_ENC_PEM, 100, "hunter2", 7), HRE_EDECODE);
    /* damaged ciphertext (last base64 line) */
    snprintf(buf, sizeof buf, "%s", OPENSSL_ENC_PEM);
    {
        char *q = strstr(buf, "/nzJ");
        ck_assert_ptr_nonnull(q);
        q[5] = q[5] == 'A' ? 'B' : 'A';
        ck_assert_int_eq(hre_key_import_pem(&k, buf, strlen(buf), "hunter2", 7), HRE_EDECRYPT);
        ck_assert_ptr_null(k);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Key cache                                                                 */
/* ------------------------------------------------------------------------ */

#define KC_KEYS 100
static uint8_t g_enc[KC_KEYS][34];

static void make_encodings(void)
{
    static int done;
    if (done) return;
    for (int i = 0; i < KC_KEYS; i++) {
        hre_key *k = gen(i % 3 ? HRE_CURVE_P256 : HRE_CURVE_SECP256K1);
        hre_pubkey *p = pub_of(k);
        HRE_T_OK(hre_pubkey_serialize_wire(p, g_enc[i]));
        hre_pubkey_free(p);
        hre_key_free(k);
    }
    done = 1;
}

static void kc_get(hre_keycache *c, int i, hre_pubkey **keep)
{
    hre_pubkey *p = NULL;
    uint8_t enc[34];
    HRE_T_OK(hre_keycache_get(c, &p, g_enc[i]));
    HRE_T_OK(hre_pubkey_serialize_wire(p, enc));
    ck_assert_mem_eq(enc, g_enc[i], 34);
    if (keep) *keep = p;
    else hre_pubkey_free(p);
}

START_TEST(test_keycache_hit_rate)
{
    hre_keycache *c = NULL;
    uint64_t hits = 99, misses = 99;
    hre_pubkey *a, *b, *kept;
    make_encodings();
    HRE_T_OK(hre_keycache_new(&c, 64));
    hre_keycache_stats(c, &hits, &misses);
    ck_assert_uint_eq(hits, 0);
    ck_assert_uint_eq(misses, 0);

    for (int i = 0; i < 100; i++) kc_get(c, i, NULL);   /* 100 misses; holds 36..99 */
    for (int i = 36; i < 100; i++) kc_get(c, i, NULL);  /* 64 hits */
    for (int i = 0; i < 36; i++) kc_get(c, i, NULL);    /* 36 misses; evicts 36..71 */
    for (int i = 72; i < 100; i++) kc_get(c, i, NULL);  /* 28 hits */
    kc_get(c, 36, NULL);                                 /* 1 miss; evicts 0 */
    kc_get(c, 1, NULL);                                  /* 1 hit */
    kc_get(c, 0, NULL);                                  /* 1 miss */
    hre_keycache_stats(c, &hits, &misses);
    printf("keycache: %llu hits, %llu misses (expected 93, 138)\n",
           (unsigned long long)hits, (unsigned long long)misses);
    ck_assert_uint_eq(hits, 93);
    ck_assert_uint_eq(misses, 138);

    /* a hit returns the same parsed object, a new reference */
    kc_get(c, 5, &a);
    kc_get(c, 5, &b);
    ck_assert_ptr_eq(a, b);
    hre_pubkey_free(b);
    /* references outlive eviction and the cache itself */
    kc_get(c, 50, &kept);
    for (int i = 0; i < 100; i++) kc_get(c, i, NULL);
    hre_keycache_free(c);
    {
        uint8_t enc[34];
        HRE_T_OK(hre_pubkey_serialize_wire(kept, enc));
        ck_assert_mem_eq(enc, g_enc[50], 34);
    }
    hre_pubkey_free(kept);
    hre_pubkey_free(a);

    /* bad encodings are reported and not cached */
    HRE_T_OK(hre_keycache_new(&c, 1));
    {
        uint8_t bad[34];
        hre_pubkey *p = (hre_pubkey *)1;
        memcpy(bad, g_enc[0], 34);
        bad[0] = 9;
        ck_assert_int_eq(hre_keycache_get(c, &p, bad), HRE_EDECODE);
        ck_assert_ptr_null(p);
        ck_assert_int_eq(hre_keycache_get(c, &p, bad), HRE_EDECODE);
        kc_get(c, 0, NULL);
        kc_get(c, 0, NULL);
        hre_keycache_stats(c, &hits, &misses);
        ck_assert_uint_eq(hits, 1);
        ck_assert_uint_eq(misses, 3);   /* failed lookups count as misses */
        ck_assert_int_eq(hre_keycache_get(c, NULL, bad), HRE_EINVAL);
        ck_assert_int_eq(hre_keycache_get(NULL, &p, bad), HRE_EINVAL);
        ck_assert_int_eq(hre_keycache_get(c, &p, NULL), HRE_EINVAL);
    }
    hre_keycache_free(c);
    c = (hre_keycache *)1;
    ck_assert_int_eq(hre_keycache_new(&c, 0), HRE_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(hre_keycache_new(NULL, 4), HRE_EINVAL);
    hre_keycache_stats(NULL, &hits, &misses);
    ck_assert_uint_eq(hits, 0);
    ck_assert_uint_eq(misses, 0);
}
END_TEST

typedef struct kc_thread_arg {
    hre_keycache *cache;
    uint64_t seed;
    int fails;
} kc_thread_arg;

#define KC_THREADS 4
#define KC_ITERS 1500

static void *kc_thread(void *argp)
{
    kc_thread_arg *a = argp;
    uint64_t x = a->seed | 1;
    for (int i = 0; i < KC_ITERS; i++) {
        hre_pubkey *p = NULL;
        uint8_t enc[34];
        int k;
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        k = (int)(x % 40);                           /* 40 hot keys over capacity 16 */
        if (hre_keycache_get(a->cache, &p, g_enc[k]) != HRE_OK ||
            hre_pubkey_serialize_wire(p, enc) != HRE_OK || memcmp(enc, g_enc[k], 34) != 0)
            a->fails++;
        hre_pubkey_free(p);
    }
    return NULL;
}

START_TEST(test_keycache_threads)
{
    hre_keycache *c = NULL;
    pthread_t th[KC_THREADS];
    kc_thread_arg args[KC_THREADS];
    uint64_t hits, misses;
    make_encodings();
    HRE_T_OK(hre_keycache_new(&c, 16));
    for (int t = 0; t < KC_THREADS; t++) {
        args[t].cache = c;
        args[t].seed = hre_t_seed() + (uint64_t)t * 0x9e3779b97f4a7c15ull;
        args[t].fails = 0;
        ck_assert_int_eq(pthread_create(&th[t], NULL, kc_thread, &args[t]), 0);
    }
    for (int t = 0; t < KC_THREADS; t++) {
        pthread_join(th[t], NULL);
        ck_assert_int_eq(args[t].fails, 0);
    }
    hre_keycache_stats(c, &hits, &misses);
    ck_assert_uint_eq(hits + misses, (uint64_t)KC_THREADS * KC_ITERS);
    ck_assert_uint_gt(hits, 0);
    ck_assert_uint_ge(misses, 40);
    hre_keycache_free(c);
}
END_TEST

/* Many threads signing with one key and verifying with one shared pubkey
 * (exercises the per-key context pools). */
typedef struct sv_arg {
    const hre_key *key;
    const hre_pubkey *pub;
    int id, fails;
} sv_arg;

static void *sv_thread(void *argp)
{
    sv_arg *a = argp;
    for (int i = 0; i < 60; i++) {
        uint8_t d[32] = {0}, sig[64];
        d[0] = (uint8_t)a->id;
        d[1] = (uint8_t)i;
        if (hre_key_sign(a->key, sig, d) != HRE_OK) a->fails++;
        if (hre_pubkey_verify(a->pub, d, sig) != HRE_OK) a->fails++;
        d[2] ^= 1;
        if (hre_pubkey_verify(a->pub, d, sig) != HRE_EVERIFY) a->fails++;
    }
    return NULL;
}

START_TEST(test_shared_key_threads)
{
    hre_key *k = gen(HRE_CURVE_P256);
    hre_pubkey *p = pub_of(k);
    pthread_t th[6];
    sv_arg args[6];
    for (int t = 0; t < 6; t++) {
        args[t].key = k;
        args[t].pub = p;
        args[t].id = t;
        args[t].fails = 0;
        ck_assert_int_eq(pthread_create(&th[t], NULL, sv_thread, &args[t]), 0);
    }
    for (int t = 0; t < 6; t++) {
        pthread_join(th[t], NULL);
        ck_assert_int_eq(args[t].fails, 0);
    }
    hre_pubkey_free(p);
    hre_key_free(k);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* White-box                                                                 */
/* ------------------------------------------------------------------------ */
#ifdef HRE_WHITEBOX

START_TEST(test_orders_match_openssl)
{
    const int nids[3] = {0, NID_X9_62_prime256v1, NID_secp256k1};
    for (int ci = 0; ci < 2; ci++) {
        hre_curve c = CURVES[ci];
        EC_GROUP *g = EC_GROUP_new_by_curve_name(nids[c]);
        uint8_t n[32], half[32];
        BIGNUM *h;
        ck_assert_ptr_nonnull(g);
        ck_assert_int_eq(BN_bn2binpad(EC_GROUP_get0_order(g), n, 32), 32);
        ck_assert_mem_eq(hre_key__order(c), n, 32);
        h = BN_dup(EC_GROUP_get0_order(g));
        ck_assert(BN_rshift1(h, h));
        ck_assert_int_eq(BN_bn2binpad(h, half, 32), 32);
        ck_assert_mem_eq(hre_key__half_order(c), half, 32);
        BN_free(h);
        EC_GROUP_free(g);
    }
    ck_assert_ptr_null(hre_key__order((hre_curve)0));
    ck_assert_ptr_null(hre_key__half_order((hre_curve)3));
}
END_TEST

START_TEST(test_alloc_failures)
{
    uint8_t enc[34], d[32] = {1}, sig[64];
    char pem[1024];
    size_t pemlen = sizeof pem;
    hre_key *k = gen(HRE_CURVE_P256);
    hre_pubkey *p = pub_of(k);
    long n;
    int rc;
    HRE_T_OK(hre_pubkey_serialize_wire(p, enc));
    HRE_T_OK(hre_key_export_pem(k, pem, &pemlen, "pw", 2));

#define FAIL_LOOP(call, outp, freefn) \
    for (n = 0; n < 64; n++) { \
        outp = NULL; \
        hre_test__alloc_fail_after(n); \
        rc = (call); \
        hre_test__alloc_fail_after(-1); \
        if (rc == HRE_OK) { ck_assert_ptr_nonnull(outp); freefn(outp); break; } \
        ck_assert_int_eq(rc, HRE_ENOMEM); \
        ck_assert_ptr_null(outp); \
    } \
    ck_assert_int_lt(n, 64)

    {
        hre_pubkey *q;
        FAIL_LOOP(hre_pubkey_parse_wire(&q, enc), q, hre_pubkey_free);
        ck_assert_int_ge(n, 1);
        FAIL_LOOP(hre_key_pubkey(k, &q), q, hre_pubkey_free);
    }
    {
        hre_key *q;
        FAIL_LOOP(hre_key_generate(&q, HRE_CURVE_SECP256K1), q, hre_key_free);
        ck_assert_int_ge(n, 1);
        FAIL_LOOP(hre_key_import_pem(&q, pem, pemlen, "pw", 2), q, hre_key_free);
        ck_assert_int_ge(n, 1);
    }
    {
        hre_keycache *q;
        FAIL_LOOP(hre_keycache_new(&q, 8), q, hre_keycache_free);
        ck_assert_int_ge(n, 2);
    }
    {
        /* the miss path of a cache lookup: parse + node */
        hre_keycache *cache = NULL;
        hre_pubkey *q;
        HRE_T_OK(hre_keycache_new(&cache, 8));
        FAIL_LOOP(hre_keycache_get(cache, &q, enc), q, hre_pubkey_free);
        ck_assert_int_ge(n, 2);
        /* now cached: a hit allocates nothing */
        hre_test__alloc_fail_after(0);
        rc = hre_keycache_get(cache, &q, enc);
        hre_test__alloc_fail_after(-1);
        ck_assert_int_eq(rc, HRE_OK);
        hre_pubkey_free(q);
        hre_keycache_free(cache);
    }
    /* sign/verify allocate nothing through the library allocator */
    hre_test__alloc_fail_after(0);
    rc = hre_key_sign(k, sig, d);
    ck_assert_int_eq(rc, HRE_OK);
    rc = hre_pubkey_verify(p, d, sig);
    hre_test__alloc_fail_after(-1);
    ck_assert_int_eq(rc, HRE_OK);
#undef FAIL_LOOP
    hre_pubkey_free(p);
    hre_key_free(k);
}
END_TEST

START_TEST(test_internal_der_helpers)
{
    /* canonical checks agree with normalize */
    uint8_t sig[64] = {0};
    sig[31] = 1;
    sig[63] = 1;
    ck_assert(hre_key__sig_is_canonical(sig, HRE_CURVE_P256));
    memcpy(sig + 32, hre_key__half_order(HRE_CURVE_P256), 32);
    ck_assert(hre_key__sig_is_canonical(sig, HRE_CURVE_P256));
    be_add_small(sig + 32, 1);
    ck_assert(!hre_key__sig_is_canonical(sig, HRE_CURVE_P256));
    ck_assert(!hre_key__sig_is_canonical(sig, (hre_curve)0));
    ck_assert(!hre_key__scalar_in_range(hre_key__order(HRE_CURVE_SECP256K1), HRE_CURVE_SECP256K1));
    {
        uint8_t der[HRE_SIG_DER_MAX], back[64];
        size_t n;
        memset(sig, 0xff, 64);     /* max 32-byte magnitudes: 72 bytes */
        n = hre_key__der_encode(der, sig);
        ck_assert_uint_eq(n, HRE_SIG_DER_MAX);
        ck_assert_int_eq(hre_key__der_decode(back, der, n), HRE_OK);
        ck_assert_mem_eq(back, sig, 64);
    }
}
END_TEST

#endif /* HRE_WHITEBOX */

/* ------------------------------------------------------------------------ */
/* scrypt caps (defect 1.4: a hostile encrypted PEM pinned a CPU)            */
/* ------------------------------------------------------------------------ */

/* A P-256 key encrypted by `openssl pkcs8 -topk8 -scrypt -passout
 * pass:correct-horse` (scrypt N=16384 r=8 p=1, AES-256-CBC), and the same
 * EncryptedPrivateKeyInfo re-encoded with other scrypt parameters by
 * tests/gen_scrypt_pem.py (salt, IV and ciphertext unchanged). */
static const char SCRYPT_NORMAL_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHkME8GCSqGSIb3DQEFDTBCMCEGCSsGAQQB2kcECzAUBAi+gFyZd3CaTAICQAAC\n"
    "AQgCAQEwHQYJYIZIAWUDBAEqBBDa1KO/EgsYHFzj3NrnZ2LdBIGQZJrLw9QNmxfs\n"
    "1do++ySuzy+cjYbnGQRQP9HdDKkGOw7dVp+Je8D1fRZGLnJNNswVwh4MhmqvG3hG\n"
    "emGKH3v1R2pm4e2evh6cL3A1h5GpQ1GR/3uSs6UBJ4yqF6yimLwFAFarhip8q2rC\n"
    "gTMQTHb8J3P2/hAvGPzykNsjjMYFTREdnOwgyG3p4emYmH/yhIfy\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
static const char SCRYPT_HOSTILE_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHnMFIGCSqGSIb3DQEFDTBFMCQGCSsGAQQB2kcECzAXBAi+gFyZd3CaTAIDAIAA\n"
    "AgEBAgMDf/4wHQYJYIZIAWUDBAEqBBDa1KO/EgsYHFzj3NrnZ2LdBIGQZJrLw9QN\n"
    "mxfs1do++ySuzy+cjYbnGQRQP9HdDKkGOw7dVp+Je8D1fRZGLnJNNswVwh4Mhmqv\n"
    "G3hGemGKH3v1R2pm4e2evh6cL3A1h5GpQ1GR/3uSs6UBJ4yqF6yimLwFAFarhip8\n"
    "q2rCgTMQTHb8J3P2/hAvGPzykNsjjMYFTREdnOwgyG3p4emYmH/yhIfy\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
static const char SCRYPT_P1000_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHmMFEGCSqGSIb3DQEFDTBEMCMGCSsGAQQB2kcECzAWBAi+gFyZd3CaTAIDAIAA\n"
    "AgEBAgID6DAdBglghkgBZQMEASoEENrUo78SCxgcXOPc2udnYt0EgZBkmsvD1A2b\n"
    "F+zV2j77JK7PL5yNhucZBFA/0d0MqQY7Dt1Wn4l7wPV9FkYuck02zBXCHgyGaq8b\n"
    "eEZ6YYofe/VHambh7Z6+HpwvcDWHkalDUZH/e5KzpQEnjKoXrKKYvAUAVquGKnyr\n"
    "asKBMxBMdvwnc/b+EC8Y/PKQ2yOMxgVNER2c7CDIbenh6ZiYf/KEh/I=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
static const char SCRYPT_WORK_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHlMFAGCSqGSIb3DQEFDTBDMCIGCSsGAQQB2kcECzAVBAi+gFyZd3CaTAIDEAAA\n"
    "AgEQAgEBMB0GCWCGSAFlAwQBKgQQ2tSjvxILGBxc49za52di3QSBkGSay8PUDZsX\n"
    "7NXaPvskrs8vnI2G5xkEUD/R3QypBjsO3VafiXvA9X0WRi5yTTbMFcIeDIZqrxt4\n"
    "Rnphih979UdqZuHtnr4enC9wNYeRqUNRkf97krOlASeMqhesopi8BQBWq4YqfKtq\n"
    "woEzEEx2/Cdz9v4QLxj88pDbI4zGBU0RHZzsIMht6eHpmJh/8oSH8g==\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
static const char SCRYPT_MEM_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHlMFAGCSqGSIb3DQEFDTBDMCIGCSsGAQQB2kcECzAVBAi+gFyZd3CaTAIDBAAA\n"
    "AgEIAgEBMB0GCWCGSAFlAwQBKgQQ2tSjvxILGBxc49za52di3QSBkGSay8PUDZsX\n"
    "7NXaPvskrs8vnI2G5xkEUD/R3QypBjsO3VafiXvA9X0WRi5yTTbMFcIeDIZqrxt4\n"
    "Rnphih979UdqZuHtnr4enC9wNYeRqUNRkf97krOlASeMqhesopi8BQBWq4YqfKtq\n"
    "woEzEEx2/Cdz9v4QLxj88pDbI4zGBU0RHZzsIMht6eHpmJh/8oSH8g==\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
static const char SCRYPT_NBIG_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHlMFAGCSqGSIb3DQEFDTBDMCIGCSsGAQQB2kcECzAVBAi+gFyZd3CaTAIDAQAA\n"
    "AgEBAgEBMB0GCWCGSAFlAwQBKgQQ2tSjvxILGBxc49za52di3QSBkGSay8PUDZsX\n"
    "7NXaPvskrs8vnI2G5xkEUD/R3QypBjsO3VafiXvA9X0WRi5yTTbMFcIeDIZqrxt4\n"
    "Rnphih979UdqZuHtnr4enC9wNYeRqUNRkf97krOlASeMqhesopi8BQBWq4YqfKtq\n"
    "woEzEEx2/Cdz9v4QLxj88pDbI4zGBU0RHZzsIMht6eHpmJh/8oSH8g==\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
static const char SCRYPT_P4_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHkME8GCSqGSIb3DQEFDTBCMCEGCSsGAQQB2kcECzAUBAi+gFyZd3CaTAICQAAC\n"
    "AQgCAQQwHQYJYIZIAWUDBAEqBBDa1KO/EgsYHFzj3NrnZ2LdBIGQZJrLw9QNmxfs\n"
    "1do++ySuzy+cjYbnGQRQP9HdDKkGOw7dVp+Je8D1fRZGLnJNNswVwh4MhmqvG3hG\n"
    "emGKH3v1R2pm4e2evh6cL3A1h5GpQ1GR/3uSs6UBJ4yqF6yimLwFAFarhip8q2rC\n"
    "gTMQTHb8J3P2/hAvGPzykNsjjMYFTREdnOwgyG3p4emYmH/yhIfy\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
static const char SCRYPT_NPOW_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHkME8GCSqGSIb3DQEFDTBCMCEGCSsGAQQB2kcECzAUBAi+gFyZd3CaTAICJxAC\n"
    "AQgCAQEwHQYJYIZIAWUDBAEqBBDa1KO/EgsYHFzj3NrnZ2LdBIGQZJrLw9QNmxfs\n"
    "1do++ySuzy+cjYbnGQRQP9HdDKkGOw7dVp+Je8D1fRZGLnJNNswVwh4MhmqvG3hG\n"
    "emGKH3v1R2pm4e2evh6cL3A1h5GpQ1GR/3uSs6UBJ4yqF6yimLwFAFarhip8q2rC\n"
    "gTMQTHb8J3P2/hAvGPzykNsjjMYFTREdnOwgyG3p4emYmH/yhIfy\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
static const char SCRYPT_P0_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHkME8GCSqGSIb3DQEFDTBCMCEGCSsGAQQB2kcECzAUBAi+gFyZd3CaTAICQAAC\n"
    "AQgCAQAwHQYJYIZIAWUDBAEqBBDa1KO/EgsYHFzj3NrnZ2LdBIGQZJrLw9QNmxfs\n"
    "1do++ySuzy+cjYbnGQRQP9HdDKkGOw7dVp+Je8D1fRZGLnJNNswVwh4MhmqvG3hG\n"
    "emGKH3v1R2pm4e2evh6cL3A1h5GpQ1GR/3uSs6UBJ4yqF6yimLwFAFarhip8q2rC\n"
    "gTMQTHb8J3P2/hAvGPzykNsjjMYFTREdnOwgyG3p4emYmH/yhIfy\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
static const char SCRYPT_R0_PEM[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHkME8GCSqGSIb3DQEFDTBCMCEGCSsGAQQB2kcECzAUBAi+gFyZd3CaTAICQAAC\n"
    "AQACAQEwHQYJYIZIAWUDBAEqBBDa1KO/EgsYHFzj3NrnZ2LdBIGQZJrLw9QNmxfs\n"
    "1do++ySuzy+cjYbnGQRQP9HdDKkGOw7dVp+Je8D1fRZGLnJNNswVwh4MhmqvG3hG\n"
    "emGKH3v1R2pm4e2evh6cL3A1h5GpQ1GR/3uSs6UBJ4yqF6yimLwFAFarhip8q2rC\n"
    "gTMQTHb8J3P2/hAvGPzykNsjjMYFTREdnOwgyG3p4emYmH/yhIfy\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
static const char SCRYPT_NORMAL_PUB[] =
    "04f7babdb5162e8f57006f3335961935b939f635401bb95ad009dd3fb321a2781b"
    "0bbcc914dd64af061d63eacf5e3071fbca5447df04992c24f3090a7f70ede858";

static double thread_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Import must refuse with HRE_EUNSUPPORTED and a detail containing `what`,
 * before deriving anything: well under a second of CPU. */
static void refused_fast(const char *pem, const char *what)
{
    hre_key *k = (hre_key *)1;
    double t0 = thread_cpu_s(), dt;
    int rc = hre_key_import_pem(&k, pem, strlen(pem), "correct-horse", 13);
    dt = thread_cpu_s() - t0;
    ck_assert_msg(rc == HRE_EUNSUPPORTED, "expected HRE_EUNSUPPORTED for '%s', got %d (%s)", what, rc,
                  hre_error_detail());
    ck_assert_ptr_null(k);
    ck_assert_msg(strstr(hre_error_detail(), what) != NULL, "detail '%s' does not name '%s'",
                  hre_error_detail(), what);
    ck_assert_msg(dt < 0.5, "refusal took %.3f s of CPU", dt);
}

START_TEST(test_scrypt_hostile_refused)
{
    /* N=32768 r=1 p=229374: tens of minutes of CPU before the fix */
    refused_fast(SCRYPT_HOSTILE_PEM, "parallelization p = 229374");
    /* p=1000: about 12 s before the fix */
    refused_fast(SCRYPT_P1000_PEM, "parallelization p = 1000");
    refused_fast(SCRYPT_P0_PEM, "parallelization p = 0");
    refused_fast(SCRYPT_R0_PEM, "block size r = 0");
    /* N=2^20 r=16 p=1: p is fine, the work is 2^24 */
    refused_fast(SCRYPT_WORK_PEM, "N*r*p");
    /* N=2^18 r=8 p=1: work 2^21 is within the cap, memory 256 MiB is not */
    refused_fast(SCRYPT_MEM_PEM, "memory");
    /* N=2^16 with r=1 violates RFC 7914's N < 2^(16 r) */
    refused_fast(SCRYPT_NBIG_PEM, "2^(16 r)");
    refused_fast(SCRYPT_NPOW_PEM, "power of two");
}
END_TEST

START_TEST(test_scrypt_normal_imports)
{
    hre_key *k = NULL;
    hre_pubkey *p = NULL;
    uint8_t got[65], want[65];
    size_t len = sizeof got;
    ck_assert_int_eq(hre_key_import_pem(&k, SCRYPT_NORMAL_PEM, strlen(SCRYPT_NORMAL_PEM), "correct-horse", 13),
                     HRE_OK);
    HRE_T_OK(hre_key_pubkey(k, &p));
    HRE_T_OK(hre_pubkey_serialize(p, got, &len, 0));
    hre_t_unhex(want, sizeof want, SCRYPT_NORMAL_PUB);
    ck_assert_mem_eq(got, want, 65);
    hre_pubkey_free(p);
    hre_key_free(k);
    k = (hre_key *)1;
    ck_assert_int_eq(hre_key_import_pem(&k, SCRYPT_NORMAL_PEM, strlen(SCRYPT_NORMAL_PEM), "correct-horsE", 13),
                     HRE_EDECRYPT);
    ck_assert_ptr_null(k);
    /* p=4 is within the caps, so scrypt runs; the ciphertext was made with
     * p=1, so the derived key is wrong: a decryption failure, not a refusal */
    ck_assert_int_eq(hre_key_import_pem(&k, SCRYPT_P4_PEM, strlen(SCRYPT_P4_PEM), "correct-horse", 13),
                     HRE_EDECRYPT);
    ck_assert_ptr_null(k);
}
END_TEST

Suite *hre_suite_key(void);
Suite *hre_suite_key(void)
{
    Suite *s = suite_create("key");
    TCase *tc = tcase_create("wycheproof");
    tcase_add_test(tc, test_wycheproof);
    suite_add_tcase(s, tc);

    tc = tcase_create("sign_verify");
    tcase_add_loop_test(tc, test_sign_verify_roundtrip, 0, 2);
    tcase_add_test(tc, test_cross_curve_rejected);
    tcase_add_loop_test(tc, test_high_s_rejected, 0, 2);
    tcase_add_loop_test(tc, test_normalize_semantics, 0, 2);
    tcase_add_test(tc, test_sign_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("der");
    tcase_add_loop_test(tc, test_der_roundtrip, 0, 2);
    tcase_add_test(tc, test_der_reject);
    suite_add_tcase(s, tc);

    tc = tcase_create("pubkey");
    tcase_add_loop_test(tc, test_pubkey_forms, 0, 2);
    tcase_add_loop_test(tc, test_pubkey_reject, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("pem");
    tcase_add_loop_test(tc, test_pem_roundtrip, 0, 2);
    tcase_add_test(tc, test_pem_foreign);
    tcase_add_test(tc, test_pem_encryption_schemes);
    suite_add_tcase(s, tc);

    tc = tcase_create("keycache");
    tcase_add_test(tc, test_keycache_hit_rate);
    tcase_add_test(tc, test_keycache_threads);
    tcase_add_test(tc, test_shared_key_threads);
    suite_add_tcase(s, tc);

#ifdef HRE_WHITEBOX
    tc = tcase_create("whitebox");
    tcase_add_test(tc, test_orders_match_openssl);
    tcase_add_test(tc, test_alloc_failures);
    tcase_add_test(tc, test_internal_der_helpers);
    suite_add_tcase(s, tc);
#endif

    tc = tcase_create("scrypt_caps");
    tcase_add_test(tc, test_scrypt_hostile_refused);
    tcase_add_test(tc, test_scrypt_normal_imports);
    suite_add_tcase(s, tc);
    return s;
}
