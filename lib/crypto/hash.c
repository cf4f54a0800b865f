/* SHA-256, sha256d, HMAC, HKDF, constant-time compare and randomness. */
#include <pthread.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "hre/hash.h"
#include "crypto/internal.h"

/* Algorithms are fetched once; these are immutable after initialisation and
 * released at process exit, so there is no mutable global state. */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static EVP_MD *g_sha256;
static EVP_MAC *g_hmac;
static EVP_KDF *g_hkdf;

static void fetch_algorithms(void)
{
    g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    g_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    g_hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
}

__attribute__((destructor)) static void release_algorithms(void)
{
    EVP_MD_free(g_sha256);
    EVP_MAC_free(g_hmac);
    EVP_KDF_free(g_hkdf);
    g_sha256 = NULL;
    g_hmac = NULL;
    g_hkdf = NULL;
}

const EVP_MD *hre_crypto__sha256_md(void)
{
    pthread_once(&g_once, fetch_algorithms);
    return g_sha256;
}

struct hre_sha256_ctx {
    EVP_MD_CTX *md;
};

HRE_API int hre_sha256(uint8_t out[32], const void *data, size_t len)
{
    HRE__API_SCOPE;
    const EVP_MD *md;
    if (!out) return hre__fail(HRE_EINVAL, "hre_sha256: NULL output");
    if (!data && len) {
        memset(out, 0, 32);
        return hre__fail(HRE_EINVAL, "hre_sha256: NULL data with nonzero length");
    }
    md = hre_crypto__sha256_md();
    if (!md || !EVP_Digest(data ? data : "", len, out, NULL, md, NULL)) {
        memset(out, 0, 32);
        return hre__fail(HRE_ECRYPTO, "SHA-256 unavailable or failed in the crypto provider");
    }
    return hre__api_done(HRE_OK);
}

HRE_API int hre_sha256d(uint8_t out[32], const void *data, size_t len)
{
    HRE__API_SCOPE;
    uint8_t first[32];
    int rc = hre_sha256(first, data, len);
    if (rc != HRE_OK) {
        if (out) memset(out, 0, 32);
        return hre__api_done(rc);
    }
    return hre__api_done(hre_sha256(out, first, sizeof first));
}

HRE_API int hre_sha256_new(hre_sha256_ctx **out)
{
    HRE__API_SCOPE;
    hre_sha256_ctx *c;
    const EVP_MD *md;
    if (!out) return hre__fail(HRE_EINVAL, "hre_sha256_new: NULL out");
    *out = NULL;
    md = hre_crypto__sha256_md();
    if (!md) return hre__fail(HRE_ECRYPTO, "SHA-256 unavailable in the crypto provider");
    c = hre__calloc(1, sizeof *c);
    if (!c) return hre__fail(HRE_ENOMEM, "out of memory allocating a SHA-256 context");
    c->md = EVP_MD_CTX_new();
    if (!c->md) {
        hre__free(c);
        return hre__fail(HRE_ENOMEM, "out of memory allocating an EVP_MD_CTX");
    }
    if (!EVP_DigestInit_ex(c->md, md, NULL)) {
        EVP_MD_CTX_free(c->md);
        hre__free(c);
        return hre__fail(HRE_ECRYPTO, "EVP_DigestInit_ex failed");
    }
    *out = c;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_sha256_update(hre_sha256_ctx *ctx, const void *data, size_t len)
{
    HRE__API_SCOPE;
    if (!ctx || (!data && len)) return hre__fail(HRE_EINVAL, "hre_sha256_update: NULL argument");
    if (len && !EVP_DigestUpdate(ctx->md, data, len))
        return hre__fail(HRE_ECRYPTO, "EVP_DigestUpdate failed");
    return hre__api_done(HRE_OK);
}

HRE_API int hre_sha256_final(hre_sha256_ctx *ctx, uint8_t out[32])
{
    HRE__API_SCOPE;
    if (!ctx || !out) return hre__fail(HRE_EINVAL, "hre_sha256_final: NULL argument");
    if (!EVP_DigestFinal_ex(ctx->md, out, NULL) ||
        !EVP_DigestInit_ex(ctx->md, hre_crypto__sha256_md(), NULL)) {
        memset(out, 0, 32);
        return hre__fail(HRE_ECRYPTO, "EVP_DigestFinal_ex failed");
    }
    return hre__api_done(HRE_OK);
}

HRE_API int hre_sha256_copy(hre_sha256_ctx *dst, const hre_sha256_ctx *src)
{
    HRE__API_SCOPE;
    if (!dst || !src) return hre__fail(HRE_EINVAL, "hre_sha256_copy: NULL argument");
    if (!EVP_MD_CTX_copy_ex(dst->md, src->md))
        return hre__fail(HRE_ECRYPTO, "EVP_MD_CTX_copy_ex failed");
    return hre__api_done(HRE_OK);
}

HRE_API void hre_sha256_free(hre_sha256_ctx *ctx)
{
    if (!ctx) return;
    EVP_MD_CTX_free(ctx->md);
    hre__free(ctx);
}

HRE_API int hre_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t keylen,
                            const void *data, size_t len)
{
    HRE__API_SCOPE;
    EVP_MAC_CTX *ctx;
    OSSL_PARAM params[2];
    size_t outl = 0;
    int ok;
    if (!out) return hre__fail(HRE_EINVAL, "hre_hmac_sha256: NULL output");
    if ((!key && keylen) || (!data && len)) {
        memset(out, 0, 32);
        return hre__fail(HRE_EINVAL, "hre_hmac_sha256: NULL input with nonzero length");
    }
    pthread_once(&g_once, fetch_algorithms);
    if (!g_hmac || !(ctx = EVP_MAC_CTX_new(g_hmac))) {
        memset(out, 0, 32);
        return hre__fail(HRE_ECRYPTO, "HMAC unavailable in the crypto provider");
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    ok = EVP_MAC_init(ctx, key ? key : (const uint8_t *)"", keylen, params) &&
         EVP_MAC_update(ctx, data ? data : "", len) &&
         EVP_MAC_final(ctx, out, &outl, 32) && outl == 32;
    EVP_MAC_CTX_free(ctx);
    if (!ok) {
        memset(out, 0, 32);
        return hre__fail(HRE_ECRYPTO, "HMAC-SHA256 failed in the crypto provider");
    }
    return hre__api_done(HRE_OK);
}

HRE_API int hre_hkdf_sha256(uint8_t *out, size_t outlen,
                            const uint8_t *ikm, size_t ikmlen,
                            const uint8_t *salt, size_t saltlen,
                            const uint8_t *info, size_t infolen)
{
    HRE__API_SCOPE;
    EVP_KDF_CTX *ctx;
    OSSL_PARAM params[5], *p = params;
    int ok;
    if (!out || outlen == 0 || outlen > 255 * 32 || (!ikm && ikmlen) ||
        (!salt && saltlen) || (!info && infolen))
        return hre__fail(HRE_EINVAL, "hre_hkdf_sha256: bad argument");
    pthread_once(&g_once, fetch_algorithms);
    if (!g_hkdf || !(ctx = EVP_KDF_CTX_new(g_hkdf))) {
        hre_wipe(out, outlen);
        return hre__fail(HRE_ECRYPTO, "HKDF unavailable in the crypto provider");
    }
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(ikm ? ikm : (const uint8_t *)""), ikmlen);
    if (saltlen) *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
    if (infolen) *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, infolen);
    *p = OSSL_PARAM_construct_end();
    ok = EVP_KDF_derive(ctx, out, outlen, params) > 0;
    EVP_KDF_CTX_free(ctx);
    if (!ok) {
        hre_wipe(out, outlen);
        return hre__fail(HRE_ECRYPTO, "HKDF-SHA256 failed in the crypto provider");
    }
    return hre__api_done(HRE_OK);
}

/* Display-order (byte-reversed) hash hex. */
HRE_API int hre_hash_display_encode(char out[65], const uint8_t hash[32])
{
    HRE__API_SCOPE;
    static const char digits[] = "0123456789abcdef";
    if (!out || !hash) return hre__fail(HRE_EINVAL, "hre_hash_display_encode: NULL argument");
    for (int i = 0; i < 32; i++) {
        uint8_t b = hash[31 - i];
        out[2 * i] = digits[b >> 4];
        out[2 * i + 1] = digits[b & 15];
    }
    out[64] = 0;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_hash_display_decode(uint8_t out[32], const char *hex, size_t hexlen)
{
    HRE__API_SCOPE;
    uint8_t tmp[32];
    size_t n = sizeof tmp;
    int rc;
    if (!out || !hex) return hre__fail(HRE_EINVAL, "hre_hash_display_decode: NULL argument");
    memset(out, 0, 32);
    if (hexlen != 64) return hre__fail(HRE_EDECODE, "a display hash is 64 hex digits, got %zu", hexlen);
    rc = hre_hex_decode(tmp, &n, hex, hexlen);
    if (rc != HRE_OK || n != 32) return hre__fail(HRE_EDECODE, "display hash is not valid hex");
    for (int i = 0; i < 32; i++) out[i] = tmp[31 - i];
    return hre__api_done(HRE_OK);
}

HRE_API int hre_ct_equal(const void *a, const void *b, size_t len)
{
    if (len == 0) return 1;
    if (!a || !b) return 0;
    return CRYPTO_memcmp(a, b, len) == 0;
}

HRE_API int hre_random_bytes(uint8_t *out, size_t len)
{
    HRE__API_SCOPE;
    if (!out && len) return hre__fail(HRE_EINVAL, "hre_random_bytes: NULL output");
    while (len) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        if (RAND_bytes(out, chunk) != 1) {
            return hre__fail(HRE_ECRYPTO, "OpenSSL DRBG failed to produce random bytes");
        }
        out += chunk;
        len -= (size_t)chunk;
    }
    return hre__api_done(HRE_OK);
}
