/*
 * Suite "hpke": HPKE, RFC 9180 (include/hre/hpke.h).
 *
 * RFC vectors (hpke/rfc9180_p256_sha256_aes256gcm.json, 4 entries, one per
 * mode): for every entry,
 *  - DeriveKeyPair: ikmR -> pkRm, ikmE -> pkEm, ikmS -> pkSm through the
 *    public hre_hpke_derive_key (and, white-box, the scalars skRm/skEm/skSm);
 *  - receiver (black- and white-box): setup from enc, then all 257
 *    encryptions opened in order (pt exact) and all exports;
 *  - sender (white-box only: the ephemeral from ikmE goes through the
 *    internal hre_hpke__setup_sender_derand): enc, shared_secret, key,
 *    base_nonce, exporter_secret exact, all 257 encryptions sealed to ct
 *    exactly, all exports; the receiver's intermediate values too.
 * The numbers of entries, encryptions and exports checked are asserted.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hre/errors.h"
#include "hre/hash.h"
#include "hre/hpke.h"
#include "hre/key.h"
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

static void pub_of(uint8_t out[65], const hre_key *k)
{
    hre_pubkey *p = NULL;
    size_t len = 65;
    HRE_T_OK(hre_key_pubkey(k, &p));
    HRE_T_OK(hre_pubkey_serialize(p, out, &len, 0));
    ck_assert_uint_eq(len, 65);
    hre_pubkey_free(p);
}

static hre_pubkey *pubkey_of(const hre_key *k)
{
    hre_pubkey *p = NULL;
    HRE_T_OK(hre_key_pubkey(k, &p));
    return p;
}

/* DeriveKeyPair(ikm) must give pk (and, white-box, sk). */
static hre_key *derive_checked(const hre_tj *e, const char *ikm_name, const char *sk_name,
                               const char *pk_name)
{
    uint8_t *ikm, *sk, *pk, got[65];
    size_t ikmlen = hre_tj_hex(e, ikm_name, &ikm);
    hre_key *k = NULL;
    ck_assert_uint_eq(hre_tj_hex(e, sk_name, &sk), 32);
    ck_assert_uint_eq(hre_tj_hex(e, pk_name, &pk), 65);
    ck_assert_msg(hre_hpke_derive_key(&k, ikm, ikmlen) == HRE_OK, "DeriveKeyPair(%s): %s", ikm_name,
                  hre_error_detail());
    ck_assert_int_eq(hre_key_curve(k), HRE_CURVE_P256);
    pub_of(got, k);
    ck_assert_msg(memcmp(got, pk, 65) == 0, "DeriveKeyPair(%s) public key differs from %s", ikm_name, pk_name);
#ifdef HRE_WHITEBOX
    {
        uint8_t s[32];
        HRE_T_OK(hre_key__scalar(s, k));
        ck_assert_msg(memcmp(s, sk, 32) == 0, "DeriveKeyPair(%s) scalar differs from %s", ikm_name, sk_name);
    }
#endif
    free(ikm); free(sk); free(pk);
    return k;
}

typedef struct counts {
    size_t entries, derive, opened, sealed, exports_r, exports_s, secrets;
} counts;

static void check_exports(const hre_tj *e, const hre_hpke_ctx *ctx, size_t *n)
{
    const hre_tj *ex = hre_tj_get(e, "exports");
    for (size_t i = 0; i < hre_tj_len(ex); i++) {
        const hre_tj *x = hre_tj_at(ex, i);
        uint8_t *ctxb, *want, *got;
        size_t cl = hre_tj_hex(x, "exporter_context", &ctxb), wl = hre_tj_hex(x, "exported_value", &want);
        size_t L = (size_t)hre_tj_int(x, "L");
        ck_assert_uint_eq(wl, L);
        got = malloc(L);
        HRE_T_OK(hre_hpke_export(ctx, got, L, ctxb, cl));
        ck_assert_msg(memcmp(got, want, L) == 0, "export %zu differs", i);
        (*n)++;
        free(ctxb); free(want); free(got);
    }
}

START_TEST(test_rfc9180_vectors)
{
    hre_tj *doc = hre_tj_load_vector("hpke/rfc9180_p256_sha256_aes256gcm.json");
    counts c = {0};
    int modes_seen = 0;

    for (size_t ei = 0; ei < hre_tj_len(doc); ei++) {
        const hre_tj *e = hre_tj_at(doc, ei);
        hre_hpke_mode mode = (hre_hpke_mode)hre_tj_int(e, "mode");
        int auth = mode == HRE_HPKE_MODE_AUTH || mode == HRE_HPKE_MODE_AUTH_PSK;
        int psk = mode == HRE_HPKE_MODE_PSK || mode == HRE_HPKE_MODE_AUTH_PSK;
        uint8_t *info, *enc, *pskb = NULL, *psk_id = NULL, *base_nonce;
        size_t infolen = hre_tj_hex(e, "info", &info), psklen = 0, psk_idlen = 0;
        hre_key *skR, *skE, *skS = NULL;
        hre_pubkey *pkR, *pkS = NULL;
        hre_hpke_ctx *rx = NULL;
        const hre_tj *encs = hre_tj_get(e, "encryptions");

        ck_assert_int_eq(hre_tj_int(e, "kem_id"), HRE_HPKE_KEM_ID);
        ck_assert_int_eq(hre_tj_int(e, "kdf_id"), HRE_HPKE_KDF_ID);
        ck_assert_int_eq(hre_tj_int(e, "aead_id"), HRE_HPKE_AEAD_ID);
        modes_seen |= 1 << mode;
        ck_assert_uint_eq(hre_tj_hex(e, "enc", &enc), 65);
        ck_assert_uint_eq(hre_tj_hex(e, "base_nonce", &base_nonce), 12);
        if (psk) {
            psklen = hre_tj_hex(e, "psk", &pskb);
            psk_idlen = hre_tj_hex(e, "psk_id", &psk_id);
        }
        skR = derive_checked(e, "ikmR", "skRm", "pkRm");
        skE = derive_checked(e, "ikmE", "skEm", "pkEm");
        c.derive += 2;
        pkR = pubkey_of(skR);
        if (auth) {
            skS = derive_checked(e, "ikmS", "skSm", "pkSm");
            pkS = pubkey_of(skS);
            c.derive++;
        }
        /* enc is the ephemeral's serialized public key */
        {
            uint8_t pkE[65];
            pub_of(pkE, skE);
            ck_assert_mem_eq(pkE, enc, 65);
        }

        /* receiver */
        ck_assert_msg(hre_hpke_setup_receiver(&rx, mode, skR, pkS, enc, info, infolen, pskb, psklen,
                                              psk_id, psk_idlen) == HRE_OK,
                      "mode %d: setup_receiver: %s", mode, hre_error_detail());
        for (size_t i = 0; i < hre_tj_len(encs); i++) {
            const hre_tj *x = hre_tj_at(encs, i);
            uint8_t *aad, *ct, *pt, *nonce, *got;
            size_t al = hre_tj_hex(x, "aad", &aad), cl = hre_tj_hex(x, "ct", &ct);
            size_t pl = hre_tj_hex(x, "pt", &pt), gl = pl;
            ck_assert_uint_eq(hre_tj_hex(x, "nonce", &nonce), 12);
            /* the vectors list sequence numbers 0, 1, 2, ...: nonce = base_nonce ^ i */
            for (int b = 0; b < 8; b++) base_nonce[11 - b] ^= (uint8_t)((uint64_t)i >> (8 * b));
            ck_assert_msg(memcmp(nonce, base_nonce, 12) == 0, "mode %d enc %zu: not sequence %zu", mode, i, i);
            for (int b = 0; b < 8; b++) base_nonce[11 - b] ^= (uint8_t)((uint64_t)i >> (8 * b));
            got = malloc(pl + 1);
            ck_assert_msg(hre_hpke_open(rx, got, &gl, aad, al, ct, cl) == HRE_OK, "mode %d enc %zu: open: %s",
                          mode, i, hre_error_detail());
            ck_assert_uint_eq(gl, pl);
            ck_assert_msg(memcmp(got, pt, pl) == 0, "mode %d enc %zu: plaintext differs", mode, i);
            c.opened++;
            free(aad); free(ct); free(pt); free(nonce); free(got);
        }
        check_exports(e, rx, &c.exports_r);

#ifdef HRE_WHITEBOX
        {
            uint8_t *ikmE, *want, got_enc[65];
            size_t ikmElen = hre_tj_hex(e, "ikmE", &ikmE);
            hre_hpke__secrets sec, rsec;
            hre_hpke_ctx *tx = NULL, *rx2 = NULL;
            ck_assert_int_eq(hre_hpke__setup_sender_derand(&tx, got_enc, mode, pkR, skS, info, infolen, pskb,
                                                           psklen, psk_id, psk_idlen, ikmE, ikmElen, &sec),
                             HRE_OK);
            ck_assert_mem_eq(got_enc, enc, 65);
            HRE_T_OK(hre_hpke__setup_receiver_secrets(&rx2, mode, skR, pkS, enc, info, infolen, pskb,
                                                              psklen, psk_id, psk_idlen, &rsec));
            ck_assert_uint_eq(hre_tj_hex(e, "shared_secret", &want), 32);
            ck_assert_mem_eq(sec.shared_secret, want, 32);
            ck_assert_mem_eq(rsec.shared_secret, want, 32);
            free(want);
            ck_assert_uint_eq(hre_tj_hex(e, "key", &want), 32);
            ck_assert_mem_eq(sec.key, want, 32);
            ck_assert_mem_eq(rsec.key, want, 32);
            free(want);
            ck_assert_mem_eq(sec.base_nonce, base_nonce, 12);
            ck_assert_mem_eq(rsec.base_nonce, base_nonce, 12);
            ck_assert_uint_eq(hre_tj_hex(e, "exporter_secret", &want), 32);
            ck_assert_mem_eq(sec.exporter_secret, want, 32);
            ck_assert_mem_eq(rsec.exporter_secret, want, 32);
            free(want);
            c.secrets++;
            for (size_t i = 0; i < hre_tj_len(encs); i++) {
                const hre_tj *x = hre_tj_at(encs, i);
                uint8_t *aad, *ct, *pt, *got;
                size_t al = hre_tj_hex(x, "aad", &aad), cl = hre_tj_hex(x, "ct", &ct);
                size_t pl = hre_tj_hex(x, "pt", &pt), gl = cl;
                got = malloc(cl + 1);
                HRE_T_OK(hre_hpke_seal(tx, got, &gl, aad, al, pt, pl));
                ck_assert_uint_eq(gl, cl);
                ck_assert_msg(memcmp(got, ct, cl) == 0, "mode %d enc %zu: ciphertext differs", mode, i);
                c.sealed++;
                free(aad); free(ct); free(pt); free(got);
            }
            check_exports(e, tx, &c.exports_s);
            hre_hpke_free(tx);
            hre_hpke_free(rx2);
            free(ikmE);
        }
#endif
        c.entries++;
        hre_hpke_free(rx);
        hre_key_free(skR); hre_key_free(skE); hre_key_free(skS);
        hre_pubkey_free(pkR); hre_pubkey_free(pkS);
        free(info); free(enc); free(pskb); free(psk_id); free(base_nonce);
    }
    printf("hpke rfc9180_p256_sha256_aes256gcm.json: %zu entries (modes 0-3), %zu DeriveKeyPair, "
           "%zu encryptions opened, %zu sealed, %zu exports (receiver), %zu exports (sender), "
           "%zu key schedules compared\n", c.entries, c.derive, c.opened, c.sealed, c.exports_r,
           c.exports_s, c.secrets);
    ck_assert_uint_eq(c.entries, 4);
    ck_assert_int_eq(modes_seen, 0xf);
    ck_assert_uint_eq(c.derive, 10);
    ck_assert_uint_eq(c.opened, 4 * 257);
    ck_assert_uint_eq(c.exports_r, 4 * 3);
#ifdef HRE_WHITEBOX
    ck_assert_uint_eq(c.sealed, 4 * 257);
    ck_assert_uint_eq(c.exports_s, 4 * 3);
    ck_assert_uint_eq(c.secrets, 4);
#endif
    hre_tj_free(doc);
}
END_TEST

static hre_key *gen(void)
{
    hre_key *k = NULL;
    HRE_T_OK(hre_key_generate(&k, HRE_CURVE_P256));
    return k;
}

START_TEST(test_wrap_unwrap)
{
    hre_key *r = gen(), *other = gen(), *s = gen(), *s2 = gen();
    hre_pubkey *pr = pubkey_of(r), *ps = pubkey_of(s), *ps2 = pubkey_of(s2);
    uint8_t dek[32], w[HRE_HPKE_WRAP_LEN], w2[HRE_HPKE_WRAP_LEN], back[32];
    const uint8_t info[] = "doc:1234", aad[] = "v1";
    hre_t_reseed(hre_t_seed() ^ 0x77a9);
    for (int round = 0; round < 8; round++) {
        size_t bit;
        hre_t_rand_bytes(dek, 32);
        HRE_T_OK(hre_hpke_wrap(w, pr, info, 8, aad, 2, dek));
        ck_assert_int_eq(w[0], 0x04);
        HRE_T_OK(hre_hpke_unwrap(back, r, info, 8, aad, 2, w));
        ck_assert_mem_eq(back, dek, 32);
        HRE_T_OK(hre_error_last());
        /* two wraps of one key differ (fresh ephemeral) */
        HRE_T_OK(hre_hpke_wrap(w2, pr, info, 8, aad, 2, dek));
        ck_assert(memcmp(w, w2, HRE_HPKE_WRAP_LEN) != 0);
        /* wrong recipient, info, aad */
        memset(back, 0xee, 32);
        ck_assert_int_eq(hre_hpke_unwrap(back, other, info, 8, aad, 2, w), HRE_EDECRYPT);
        ck_assert(all_zero(back, 32));
        ck_assert_int_eq(hre_hpke_unwrap(back, r, info, 7, aad, 2, w), HRE_EDECRYPT);
        ck_assert_int_eq(hre_hpke_unwrap(back, r, NULL, 0, aad, 2, w), HRE_EDECRYPT);
        ck_assert_int_eq(hre_hpke_unwrap(back, r, info, 8, aad, 1, w), HRE_EDECRYPT);
        ck_assert_int_eq(hre_hpke_unwrap(back, r, info, 8, NULL, 0, w), HRE_EDECRYPT);
        /* a flipped bit in enc: the point is off the curve (EDECODE) or another point (EDECRYPT) */
        bit = 8 + (size_t)hre_t_rand_below(64 * 8);
        memcpy(w2, w, sizeof w);
        w2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        {
            int rc = hre_hpke_unwrap(back, r, info, 8, aad, 2, w2);
            ck_assert_msg(rc == HRE_EDECODE || rc == HRE_EDECRYPT, "flipped enc bit %zu gave %d", bit, rc);
            ck_assert(all_zero(back, 32));
        }
        w2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        w2[0] = 0x02;   /* not the uncompressed form */
        ck_assert_int_eq(hre_hpke_unwrap(back, r, info, 8, aad, 2, w2), HRE_EDECODE);
        /* a flipped bit in ciphertext or tag */
        bit = 65 * 8 + (size_t)hre_t_rand_below(48 * 8);
        memcpy(w2, w, sizeof w);
        w2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_int_eq(hre_hpke_unwrap(back, r, info, 8, aad, 2, w2), HRE_EDECRYPT);
        ck_assert(all_zero(back, 32));

        /* auth mode */
        HRE_T_OK(hre_hpke_wrap_auth(w, pr, s, info, 8, aad, 2, dek));
        HRE_T_OK(hre_hpke_unwrap_auth(back, r, ps, info, 8, aad, 2, w));
        ck_assert_mem_eq(back, dek, 32);
        ck_assert_int_eq(hre_hpke_unwrap_auth(back, r, ps2, info, 8, aad, 2, w), HRE_EDECRYPT);
        ck_assert_int_eq(hre_hpke_unwrap(back, r, info, 8, aad, 2, w), HRE_EDECRYPT);   /* base != auth */
        ck_assert_int_eq(hre_hpke_unwrap_auth(back, other, ps, info, 8, aad, 2, w), HRE_EDECRYPT);
        HRE_T_OK(hre_hpke_wrap(w, pr, info, 8, aad, 2, dek));
        ck_assert_int_eq(hre_hpke_unwrap_auth(back, r, ps, info, 8, aad, 2, w), HRE_EDECRYPT);
    }
    hre_key_free(r); hre_key_free(other); hre_key_free(s); hre_key_free(s2);
    hre_pubkey_free(pr); hre_pubkey_free(ps); hre_pubkey_free(ps2);
}
END_TEST

START_TEST(test_context_stream)
{
    static const uint8_t PSK[32] = {1, 2, 3}, PSK_ID[] = "id";
    hre_key *r = gen(), *s = gen();
    hre_pubkey *pr = pubkey_of(r), *ps = pubkey_of(s);
    for (int mode = 0; mode < 4; mode++) {
        int auth = mode & 2, psk = mode & 1;
        hre_hpke_ctx *tx = NULL, *rx = NULL;
        uint8_t enc[65], ct[3][64], pt[48], back[48], e1[40], e2[40];
        size_t ctl[3], n;
        ck_assert_int_eq(hre_hpke_setup_sender(&tx, enc, (hre_hpke_mode)mode, pr, auth ? s : NULL, (const uint8_t *)"i", 1,
                                               psk ? PSK : NULL, psk ? 32 : 0, psk ? PSK_ID : NULL, psk ? 2 : 0),
                         HRE_OK);
        ck_assert_int_eq(hre_hpke_setup_receiver(&rx, (hre_hpke_mode)mode, r, auth ? ps : NULL, enc, (const uint8_t *)"i", 1,
                                                 psk ? PSK : NULL, psk ? 32 : 0, psk ? PSK_ID : NULL, psk ? 2 : 0),
                         HRE_OK);
        for (int i = 0; i < 3; i++) {
            memset(pt, 'a' + i, sizeof pt);
            ctl[i] = sizeof ct[i];
            HRE_T_OK(hre_hpke_seal(tx, ct[i], &ctl[i], NULL, 0, pt, 48));
            ck_assert_uint_eq(ctl[i], 64);
        }
        /* out of order: message 1 does not open as message 0, and does not advance */
        n = sizeof back;
        ck_assert_int_eq(hre_hpke_open(rx, back, &n, NULL, 0, ct[1], ctl[1]), HRE_EDECRYPT);
        for (int i = 0; i < 3; i++) {
            n = sizeof back;
            HRE_T_OK(hre_hpke_open(rx, back, &n, NULL, 0, ct[i], ctl[i]));
            ck_assert_uint_eq(n, 48);
            memset(pt, 'a' + i, sizeof pt);
            ck_assert_mem_eq(back, pt, 48);
        }
        /* replay refused */
        n = sizeof back;
        ck_assert_int_eq(hre_hpke_open(rx, back, &n, NULL, 0, ct[2], ctl[2]), HRE_EDECRYPT);
        /* roles */
        n = sizeof back;
        ck_assert_int_eq(hre_hpke_open(tx, back, &n, NULL, 0, ct[0], ctl[0]), HRE_ESTATE);
        n = sizeof ct[0];
        ck_assert_int_eq(hre_hpke_seal(rx, ct[0], &n, NULL, 0, pt, 4), HRE_ESTATE);
        /* exports agree, depend on the context */
        HRE_T_OK(hre_hpke_export(tx, e1, 40, (const uint8_t *)"x", 1));
        HRE_T_OK(hre_hpke_export(rx, e2, 40, (const uint8_t *)"x", 1));
        ck_assert_mem_eq(e1, e2, 40);
        HRE_T_OK(hre_hpke_export(rx, e2, 40, (const uint8_t *)"y", 1));
        ck_assert(memcmp(e1, e2, 40) != 0);
        ck_assert_int_eq(hre_hpke_export(rx, e2, 0, NULL, 0), HRE_EINVAL);
        ck_assert_int_eq(hre_hpke_export(rx, e2, 8161, NULL, 0), HRE_EINVAL);
        /* buffer sizing */
        n = 0;
        ck_assert_int_eq(hre_hpke_seal(tx, NULL, &n, NULL, 0, pt, 10), HRE_EBUFSIZE);
        ck_assert_uint_eq(n, 26);
        n = 0;
        ck_assert_int_eq(hre_hpke_open(rx, NULL, &n, NULL, 0, ct[0], 64), HRE_EBUFSIZE);
        ck_assert_uint_eq(n, 48);
        n = sizeof back;
        ck_assert_int_eq(hre_hpke_open(rx, back, &n, NULL, 0, ct[0], 15), HRE_EDECODE);
        hre_hpke_free(tx);
        hre_hpke_free(rx);
    }
    hre_key_free(r); hre_key_free(s);
    hre_pubkey_free(pr); hre_pubkey_free(ps);
}
END_TEST

START_TEST(test_argument_errors)
{
    static const uint8_t PSK[40] = {9};
    hre_key *r = gen(), *s = gen(), *k1 = NULL, *dk = NULL;
    hre_pubkey *pr = pubkey_of(r), *ps = pubkey_of(s), *p1;
    hre_hpke_ctx *c = (hre_hpke_ctx *)1;
    uint8_t enc[65], w[113], dek[32] = {0}, ikm[64] = {0};

    HRE_T_OK(hre_key_generate(&k1, HRE_CURVE_SECP256K1));
    p1 = pubkey_of(k1);
    /* mode versus sender key and psk */
    ck_assert_int_eq(hre_hpke_setup_sender(&c, enc, HRE_HPKE_MODE_BASE, pr, s, NULL, 0, NULL, 0, NULL, 0), HRE_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert(all_zero(enc, 65));
    ck_assert_int_eq(hre_hpke_setup_sender(&c, enc, HRE_HPKE_MODE_AUTH, pr, NULL, NULL, 0, NULL, 0, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_hpke_setup_sender(&c, enc, HRE_HPKE_MODE_PSK, pr, NULL, NULL, 0, NULL, 0, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_hpke_setup_sender(&c, enc, HRE_HPKE_MODE_PSK, pr, NULL, NULL, 0, PSK, 40, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_hpke_setup_sender(&c, enc, HRE_HPKE_MODE_PSK, pr, NULL, NULL, 0, PSK, 31, PSK, 1), HRE_EINVAL);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "shorter than 32"));
    ck_assert_int_eq(hre_hpke_setup_sender(&c, enc, HRE_HPKE_MODE_BASE, pr, NULL, NULL, 0, PSK, 32, PSK, 1), HRE_EINVAL);
    ck_assert_int_eq(hre_hpke_setup_sender(&c, enc, (hre_hpke_mode)4, pr, NULL, NULL, 0, NULL, 0, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_hpke_setup_sender(&c, enc, HRE_HPKE_MODE_BASE, NULL, NULL, NULL, 0, NULL, 0, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_hpke_setup_sender(&c, enc, HRE_HPKE_MODE_BASE, pr, NULL, NULL, 5, NULL, 0, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_hpke_setup_sender(NULL, enc, HRE_HPKE_MODE_BASE, pr, NULL, NULL, 0, NULL, 0, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_hpke_setup_sender(&c, NULL, HRE_HPKE_MODE_BASE, pr, NULL, NULL, 0, NULL, 0, NULL, 0), HRE_EINVAL);
    /* curves */
    ck_assert_int_eq(hre_hpke_setup_sender(&c, enc, HRE_HPKE_MODE_BASE, p1, NULL, NULL, 0, NULL, 0, NULL, 0), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_hpke_setup_sender(&c, enc, HRE_HPKE_MODE_AUTH, pr, k1, NULL, 0, NULL, 0, NULL, 0), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_hpke_wrap(w, p1, NULL, 0, NULL, 0, dek), HRE_EUNSUPPORTED);
    ck_assert(all_zero(w, sizeof w));
    HRE_T_OK(hre_hpke_wrap(w, pr, NULL, 0, NULL, 0, dek));
    ck_assert_int_eq(hre_hpke_unwrap(dek, k1, NULL, 0, NULL, 0, w), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_hpke_setup_receiver(&c, HRE_HPKE_MODE_AUTH, r, p1, w, NULL, 0, NULL, 0, NULL, 0), HRE_EUNSUPPORTED);
    /* receiver: enc not a point */
    memset(enc, 0, sizeof enc);
    enc[0] = 4;
    ck_assert_int_eq(hre_hpke_setup_receiver(&c, HRE_HPKE_MODE_BASE, r, NULL, enc, NULL, 0, NULL, 0, NULL, 0), HRE_EDECODE);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(hre_hpke_setup_receiver(&c, HRE_HPKE_MODE_AUTH, r, NULL, w, NULL, 0, NULL, 0, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_hpke_setup_receiver(&c, HRE_HPKE_MODE_BASE, r, ps, w, NULL, 0, NULL, 0, NULL, 0), HRE_EINVAL);
    /* wraps */
    ck_assert_int_eq(hre_hpke_wrap(NULL, pr, NULL, 0, NULL, 0, dek), HRE_EINVAL);
    ck_assert_int_eq(hre_hpke_wrap(w, pr, NULL, 0, NULL, 0, NULL), HRE_EINVAL);
    ck_assert_int_eq(hre_hpke_wrap_auth(w, pr, NULL, NULL, 0, NULL, 0, dek), HRE_EINVAL);
    ck_assert_int_eq(hre_hpke_unwrap(dek, NULL, NULL, 0, NULL, 0, w), HRE_EINVAL);
    ck_assert_int_eq(hre_hpke_unwrap(dek, r, NULL, 0, NULL, 0, NULL), HRE_EINVAL);
    ck_assert_int_eq(hre_hpke_unwrap_auth(dek, r, NULL, NULL, 0, NULL, 0, w), HRE_EINVAL);
    /* lengths */
    {
        uint8_t *big = calloc(1, HRE_HPKE_INPUT_MAX + 1);
        ck_assert_int_eq(hre_hpke_wrap(w, pr, big, HRE_HPKE_INPUT_MAX + 1, NULL, 0, dek), HRE_ELIMIT);
        HRE_T_OK(hre_hpke_wrap(w, pr, big, HRE_HPKE_INPUT_MAX, NULL, 0, dek));
        ck_assert_int_eq(hre_hpke_derive_key(&dk, big, HRE_HPKE_INPUT_MAX + 1), HRE_ELIMIT);
        free(big);
    }
    /* derive_key */
    ck_assert_int_eq(hre_hpke_derive_key(&dk, ikm, 31), HRE_EINVAL);
    ck_assert_ptr_null(dk);
    ck_assert_int_eq(hre_hpke_derive_key(&dk, NULL, 32), HRE_EINVAL);
    ck_assert_int_eq(hre_hpke_derive_key(NULL, ikm, 32), HRE_EINVAL);
    HRE_T_OK(hre_hpke_derive_key(&dk, ikm, 32));
    {
        hre_key *dk2 = NULL;
        uint8_t a[65], b[65];
        HRE_T_OK(hre_hpke_derive_key(&dk2, ikm, 32));   /* deterministic */
        pub_of(a, dk);
        pub_of(b, dk2);
        ck_assert_mem_eq(a, b, 65);
        hre_key_free(dk2);
        ikm[31] = 1;
        HRE_T_OK(hre_hpke_derive_key(&dk2, ikm, 32));
        pub_of(b, dk2);
        ck_assert(memcmp(a, b, 65) != 0);
        hre_key_free(dk2);
    }
    hre_key_free(dk);
    hre_hpke_free(NULL);
    hre_key_free(r); hre_key_free(s); hre_key_free(k1);
    hre_pubkey_free(pr); hre_pubkey_free(ps); hre_pubkey_free(p1);
}
END_TEST

#ifdef HRE_WHITEBOX
/* The sequence number never wraps: the last nonce is refused, on both sides. */
START_TEST(test_sequence_limit)
{
    hre_key *r = gen();
    hre_pubkey *pr = pubkey_of(r);
    hre_hpke_ctx *tx = NULL, *rx = NULL;
    uint8_t enc[65], ct[32], pt[16] = {1}, back[16];
    size_t n;
    HRE_T_OK(hre_hpke_setup_sender(&tx, enc, HRE_HPKE_MODE_BASE, pr, NULL, NULL, 0, NULL, 0, NULL, 0));
    HRE_T_OK(hre_hpke_setup_receiver(&rx, HRE_HPKE_MODE_BASE, r, NULL, enc, NULL, 0, NULL, 0, NULL, 0));
    hre_hpke__set_seq(tx, UINT64_MAX - 1);
    hre_hpke__set_seq(rx, UINT64_MAX - 1);
    n = sizeof ct;
    HRE_T_OK(hre_hpke_seal(tx, ct, &n, NULL, 0, pt, 16));
    n = sizeof back;
    HRE_T_OK(hre_hpke_open(rx, back, &n, NULL, 0, ct, 32));
    ck_assert_mem_eq(back, pt, 16);
    n = sizeof ct;
    ck_assert_int_eq(hre_hpke_seal(tx, ct, &n, NULL, 0, pt, 16), HRE_ELIMIT);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "sequence number exhausted"));
    ck_assert(all_zero(ct, sizeof ct));
    ck_assert_int_eq(hre_hpke_seal(tx, ct, &n, NULL, 0, pt, 16), HRE_ELIMIT);   /* and stays refused */
    n = sizeof back;
    ck_assert_int_eq(hre_hpke_open(rx, back, &n, NULL, 0, ct, 32), HRE_ELIMIT);
    hre_hpke_free(tx);
    hre_hpke_free(rx);
    hre_key_free(r);
    hre_pubkey_free(pr);
}
END_TEST

START_TEST(test_alloc_failures)
{
    hre_key *r = gen();
    hre_pubkey *pr = pubkey_of(r);
    uint8_t w[113], dek[32] = {5}, back[32];
    int ok = 0;
    for (long n = 0; n < 40 && !ok; n++) {
        hre_test__alloc_fail_after(n);
        int rc = hre_hpke_wrap(w, pr, NULL, 0, NULL, 0, dek);
        hre_test__alloc_fail_after(-1);
        if (rc == HRE_OK) ok = 1;
        else ck_assert_msg(rc == HRE_ENOMEM, "allocation failure %ld gave %d", n, rc);
    }
    ck_assert(ok);
    ok = 0;
    for (long n = 0; n < 40 && !ok; n++) {
        hre_test__alloc_fail_after(n);
        int rc = hre_hpke_unwrap(back, r, NULL, 0, NULL, 0, w);
        hre_test__alloc_fail_after(-1);
        if (rc == HRE_OK) ok = 1;
        else ck_assert_msg(rc == HRE_ENOMEM, "allocation failure %ld gave %d", n, rc);
    }
    ck_assert(ok);
    ck_assert_mem_eq(back, dek, 32);
    hre_key_free(r);
    hre_pubkey_free(pr);
}
END_TEST
#endif

Suite *hre_suite_hpke(void);
Suite *hre_suite_hpke(void)
{
    Suite *s = suite_create("hpke");
    TCase *tc = tcase_create("rfc9180");
    tcase_add_test(tc, test_rfc9180_vectors);
    suite_add_tcase(s, tc);
    tc = tcase_create("api");
    tcase_add_test(tc, test_wrap_unwrap);
    tcase_add_test(tc, test_context_stream);
    tcase_add_test(tc, test_argument_errors);
    suite_add_tcase(s, tc);
#ifdef HRE_WHITEBOX
    tc = tcase_create("whitebox");
    tcase_add_test(tc, test_sequence_limit);
    tcase_add_test(tc, test_alloc_failures);
    suite_add_tcase(s, tc);
#endif
    return s;
}
