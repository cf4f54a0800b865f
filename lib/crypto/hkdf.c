/*
 * HKDF-SHA256 in two steps, and the internal HMAC/HKDF that HPKE and the
 * Noise channel run on.
 *
 * The public calls go through OpenSSL's EVP_KDF "HKDF" in EXTRACT_ONLY and
 * EXPAND_ONLY mode. The internal ones (hre_crypto__hmac_sha256 and friends)
 * build HMAC (RFC 2104) on one EVP_MD_CTX with the process-wide SHA-256 and
 * take their message in pieces: HPKE's LabeledExtract/LabeledExpand hash
 * "HPKE-v1" || suite_id || label || ikm without gluing it together first, and
 * an HMAC costs two short digests instead of an EVP_KDF context with its
 * three MD contexts (about 0.6 us against 2.5 us here), which keeps an HPKE
 * unwrap within a few percent of its one ECDH. A key used more than once (the
 * all-zero default salt, the vault's salt, a PRK expanded into two outputs)
 * can be made ready as an hre_crypto__hmac_key: its pad states are copied
 * instead of recomputed. Both paths are checked against each other and
 * against the RFC 5869 / Wycheproof / RFC 9180 / Noise vectors.
 */
#include <pthread.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "hre/hash.h"
#include "crypto/internal.h"

#define HMAC_BLOCK 64

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static EVP_KDF *g_hkdf;

static void fetch_hkdf(void)
{
    g_hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    ERR_clear_error();
}

__attribute__((destructor)) static void release_hkdf(void)
{
    EVP_KDF_free(g_hkdf);
    g_hkdf = NULL;
}

/* One EVP_KDF HKDF run in the given mode. 1 on success. */
static int kdf_run(int mode, uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen,
                   const uint8_t *salt, size_t saltlen, const uint8_t *info, size_t infolen)
{
    EVP_KDF_CTX *ctx;
    OSSL_PARAM params[6], *p = params;
    int ok;
    pthread_once(&g_once, fetch_hkdf);
    if (!g_hkdf || !(ctx = EVP_KDF_CTX_new(g_hkdf))) return 0;
    *p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                             (void *)(key ? key : (const uint8_t *)""), keylen);
    if (saltlen) *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
    if (infolen) *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, infolen);
    *p = OSSL_PARAM_construct_end();
    ok = EVP_KDF_derive(ctx, out, outlen, params) > 0;
    EVP_KDF_CTX_free(ctx);   /* clears its copies of key, salt and info */
    ERR_clear_error();
    return ok;
}

HRE_API int hre_hkdf_sha256_extract(uint8_t prk[32], const uint8_t *salt, size_t saltlen,
                                    const uint8_t *ikm, size_t ikmlen)
{
    HRE__API_SCOPE;
    if (!prk) return hre__fail(HRE_EINVAL, "hre_hkdf_sha256_extract: NULL prk");
    if ((!salt && saltlen) || (!ikm && ikmlen)) {
        hre_wipe(prk, 32);
        return hre__fail(HRE_EINVAL, "hre_hkdf_sha256_extract: NULL input with nonzero length");
    }
    if (!kdf_run(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, prk, 32, ikm, ikmlen, salt, saltlen, NULL, 0)) {
        hre_wipe(prk, 32);
        return hre__fail(HRE_ECRYPTO, "HKDF-SHA256 extract failed in the crypto provider");
    }
    return hre_crypto__ok();
}

HRE_API int hre_hkdf_sha256_expand(uint8_t *out, size_t outlen, const uint8_t *prk, size_t prklen,
                                   const uint8_t *info, size_t infolen)
{
    HRE__API_SCOPE;
    if (!out) return hre__fail(HRE_EINVAL, "hre_hkdf_sha256_expand: NULL out");
    if (outlen == 0 || outlen > 255 * 32)   /* out is not touched: nothing was derived */
        return hre__fail(HRE_EINVAL, "hre_hkdf_sha256_expand: output length %zu outside [1, 8160]", outlen);
    if (!prk || (!info && infolen)) {
        hre_wipe(out, outlen);
        return hre__fail(HRE_EINVAL, "hre_hkdf_sha256_expand: NULL input");
    }
    if (prklen < 32) {
        hre_wipe(out, outlen);
        return hre__fail(HRE_EINVAL, "hre_hkdf_sha256_expand: prk of %zu bytes is shorter than 32", prklen);
    }
    if (!kdf_run(EVP_KDF_HKDF_MODE_EXPAND_ONLY, out, outlen, prk, prklen, NULL, 0, info, infolen)) {
        hre_wipe(out, outlen);
        return hre__fail(HRE_ECRYPTO, "HKDF-SHA256 expand failed in the crypto provider");
    }
    return hre_crypto__ok();
}

/* ------------------------------------------------------------------------ */
/* Internal HMAC / HKDF on pieces                                            */
/* ------------------------------------------------------------------------ */

/* One digest of the HMAC: from the pad block (start NULL) or from a state
 * that already took it (start: a made-ready key's), then v[0..n) and tail. */
static int digest_parts(EVP_MD_CTX *md, uint8_t out[32], const EVP_MD_CTX *start,
                        const uint8_t pad[HMAC_BLOCK], const hre_crypto__iov *v, size_t n,
                        const uint8_t *tail, size_t taillen)
{
    if (start) {
        if (EVP_MD_CTX_copy_ex(md, start) != 1) return 0;
    } else if (EVP_DigestInit_ex(md, hre_crypto__sha256_md(), NULL) != 1 ||
               EVP_DigestUpdate(md, pad, HMAC_BLOCK) != 1) {
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (v[i].len && EVP_DigestUpdate(md, v[i].p, v[i].len) != 1) return 0;
    if (taillen && EVP_DigestUpdate(md, tail, taillen) != 1) return 0;
    return EVP_DigestFinal_ex(md, out, NULL) == 1;
}

/* The inner and outer pad blocks of key (RFC 2104: a key longer than a block
 * is hashed first). */
static int make_pads(EVP_MD_CTX *md, uint8_t ipad[HMAC_BLOCK], uint8_t opad[HMAC_BLOCK],
                     const uint8_t *key, size_t keylen)
{
    uint8_t k[HMAC_BLOCK];
    int ok = 1;
    memset(k, 0, sizeof k);
    if (keylen > HMAC_BLOCK) {
        ok = EVP_DigestInit_ex(md, hre_crypto__sha256_md(), NULL) == 1 &&
             EVP_DigestUpdate(md, key, keylen) == 1 && EVP_DigestFinal_ex(md, k, NULL) == 1;
    } else if (keylen) {
        memcpy(k, key, keylen);
    }
    for (int i = 0; i < HMAC_BLOCK; i++) {
        ipad[i] = (uint8_t)(k[i] ^ 0x36);
        opad[i] = (uint8_t)(k[i] ^ 0x5c);
    }
    hre_wipe(k, sizeof k);
    return ok;
}

/* HMAC over the concatenation of v[0..n) and then tail (may be empty), under
 * the raw key (k NULL) or under a made-ready key k. */
static int hmac_md(EVP_MD_CTX *md, uint8_t out[32], const uint8_t *key, size_t keylen,
                   const hre_crypto__hmac_key *k, const hre_crypto__iov *v, size_t n,
                   const uint8_t *tail, size_t taillen)
{
    uint8_t ipad[HMAC_BLOCK], opad[HMAC_BLOCK], inner[32];
    hre_crypto__iov iv = {inner, sizeof inner};
    int ok;
    if (k) {
        ok = digest_parts(md, inner, k->in, NULL, v, n, tail, taillen) &&
             digest_parts(md, out, k->out, NULL, &iv, 1, NULL, 0);
        hre_wipe(inner, sizeof inner);
        return ok;
    }
    ok = make_pads(md, ipad, opad, key, keylen) &&
         digest_parts(md, inner, NULL, ipad, v, n, tail, taillen) &&
         digest_parts(md, out, NULL, opad, &iv, 1, NULL, 0);
    hre_wipe(ipad, sizeof ipad);
    hre_wipe(opad, sizeof opad);
    hre_wipe(inner, sizeof inner);
    return ok;
}

static int hmac_fail(uint8_t out[32])
{
    hre_wipe(out, 32);
    ERR_clear_error();
    return hre__fail(HRE_ECRYPTO, "HMAC-SHA256 failed in the crypto provider");
}

int hre_crypto__hmac_sha256(uint8_t out[32], const uint8_t *key, size_t keylen,
                            const hre_crypto__iov *v, size_t n)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && hre_crypto__sha256_md() && hmac_md(md, out, key, keylen, NULL, v, n, NULL, 0);
    EVP_MD_CTX_free(md);
    return ok ? HRE_OK : hmac_fail(out);
}

void hre_crypto__hmac_key_clear(hre_crypto__hmac_key *k)
{
    if (!k) return;
    EVP_MD_CTX_free(k->in);    /* the provider wipes the SHA-256 state it frees */
    EVP_MD_CTX_free(k->out);
    k->in = k->out = NULL;
}

int hre_crypto__hmac_key_init(hre_crypto__hmac_key *k, const uint8_t *key, size_t keylen)
{
    uint8_t ipad[HMAC_BLOCK], opad[HMAC_BLOCK];
    const EVP_MD *sha = hre_crypto__sha256_md();
    int ok;
    k->in = EVP_MD_CTX_new();
    k->out = EVP_MD_CTX_new();
    if (!k->in || !k->out) {
        hre_crypto__hmac_key_clear(k);
        return hre__fail(HRE_ENOMEM, "HMAC-SHA256: out of memory");
    }
    ok = sha && make_pads(k->in, ipad, opad, key, keylen) &&
         EVP_DigestInit_ex(k->in, sha, NULL) == 1 && EVP_DigestUpdate(k->in, ipad, HMAC_BLOCK) == 1 &&
         EVP_DigestInit_ex(k->out, sha, NULL) == 1 && EVP_DigestUpdate(k->out, opad, HMAC_BLOCK) == 1;
    hre_wipe(ipad, sizeof ipad);
    hre_wipe(opad, sizeof opad);
    if (!ok) {
        hre_crypto__hmac_key_clear(k);
        ERR_clear_error();
        return hre__fail(HRE_ECRYPTO, "HMAC-SHA256 failed in the crypto provider");
    }
    return HRE_OK;
}

int hre_crypto__hmac_keyed(uint8_t out[32], const hre_crypto__hmac_key *k,
                           const hre_crypto__iov *v, size_t n)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && k && k->in && hmac_md(md, out, NULL, 0, k, v, n, NULL, 0);
    EVP_MD_CTX_free(md);
    return ok ? HRE_OK : hmac_fail(out);
}

/* HKDF-Extract's default salt, 32 zero bytes, made ready once per process
 * (HPKE's LabeledExtract uses it for every KEM and key-schedule extract). */
static pthread_once_t g_zero_once = PTHREAD_ONCE_INIT;
static hre_crypto__hmac_key g_zero_salt;

static void make_zero_salt(void)
{
    static const uint8_t zeros[32];
    if (hre_crypto__hmac_key_init(&g_zero_salt, zeros, sizeof zeros) != HRE_OK) {
        g_zero_salt.in = g_zero_salt.out = NULL;   /* the raw-key path is used instead */
        hre__error_reset();
    }
}

__attribute__((destructor)) static void release_zero_salt(void)
{
    hre_crypto__hmac_key_clear(&g_zero_salt);
}

int hre_crypto__hkdf_extract(uint8_t prk[32], const uint8_t *salt, size_t saltlen,
                             const hre_crypto__iov *ikm, size_t n)
{
    static const uint8_t zeros[32];
    if (!saltlen) {
        pthread_once(&g_zero_once, make_zero_salt);
        if (g_zero_salt.in) return hre_crypto__hmac_keyed(prk, &g_zero_salt, ikm, n);
        salt = zeros;
        saltlen = sizeof zeros;
    }
    return hre_crypto__hmac_sha256(prk, salt, saltlen, ikm, n);
}

int hre_crypto__hkdf_extract_keyed(uint8_t prk[32], const hre_crypto__hmac_key *k,
                                   const hre_crypto__iov *ikm, size_t n)
{
    return hre_crypto__hmac_keyed(prk, k, ikm, n);
}

/* T(i) = HMAC(prk, T(i-1) || info || i), under the raw prk or a ready key. */
static int expand(uint8_t *out, size_t outlen, const uint8_t *prk, const hre_crypto__hmac_key *k,
                  const hre_crypto__iov *info, size_t n)
{
    EVP_MD_CTX *md;
    uint8_t t[32], tail[33];
    size_t done = 0, tl = 0;
    int ok = 1;
    if (outlen == 0 || outlen > 255 * 32)
        return hre__fail(HRE_EINVAL, "HKDF-SHA256 expand: output length %zu outside [1, 8160]", outlen);
    md = EVP_MD_CTX_new();
    if (!md || !hre_crypto__sha256_md() || (k && !k->in) || n > HRE_CRYPTO__IOV_MAX) ok = 0;
    /* T(i-1) goes first, so it is fed as the first piece through a small
     * iov array. */
    for (unsigned i = 1; ok && done < outlen; i++) {
        hre_crypto__iov parts[HRE_CRYPTO__IOV_MAX + 1];
        size_t np = 0;
        uint8_t ctr = (uint8_t)i;
        if (tl) {
            parts[np].p = tail;
            parts[np++].len = tl;
        }
        for (size_t j = 0; j < n; j++) parts[np++] = info[j];
        ok = hmac_md(md, t, prk, 32, k, parts, np, &ctr, 1);
        if (!ok) break;
        size_t take = outlen - done < 32 ? outlen - done : 32;
        memcpy(out + done, t, take);
        done += take;
        memcpy(tail, t, 32);
        tl = 32;
    }
    EVP_MD_CTX_free(md);
    hre_wipe(t, sizeof t);
    hre_wipe(tail, sizeof tail);
    if (!ok) {
        hre_wipe(out, outlen);
        ERR_clear_error();
        return hre__fail(HRE_ECRYPTO, "HKDF-SHA256 expand failed in the crypto provider");
    }
    return HRE_OK;
}

int hre_crypto__hkdf_expand(uint8_t *out, size_t outlen, const uint8_t prk[32],
                            const hre_crypto__iov *info, size_t n)
{
    return expand(out, outlen, prk, NULL, info, n);
}

int hre_crypto__hkdf_expand_keyed(uint8_t *out, size_t outlen, const hre_crypto__hmac_key *prk,
                                  const hre_crypto__iov *info, size_t n)
{
    return expand(out, outlen, NULL, prk, info, n);
}

int hre_crypto__sha256_v(uint8_t out[32], const hre_crypto__iov *v, size_t n)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && hre_crypto__sha256_md() && EVP_DigestInit_ex(md, hre_crypto__sha256_md(), NULL) == 1;
    for (size_t i = 0; ok && i < n; i++)
        if (v[i].len) ok = EVP_DigestUpdate(md, v[i].p, v[i].len) == 1;
    ok = ok && EVP_DigestFinal_ex(md, out, NULL) == 1;
    EVP_MD_CTX_free(md);
    if (!ok) {
        memset(out, 0, 32);
        ERR_clear_error();
        return hre__fail(HRE_ECRYPTO, "SHA-256 failed in the crypto provider");
    }
    return HRE_OK;
}
