/*
 * AES-256-GCM through OpenSSL 3 EVP.
 *
 * A context keeps up to two EVP_CIPHER_CTX objects, one for sealing and one
 * for opening, each keyed once on its first use. Each message only sets the nonce
 * (EVP_*Init_ex2 with a NULL cipher and key keeps the key schedule and the
 * GHASH table), so a 1 KiB message costs about what `openssl speed -evp
 * aes-256-gcm` measures. The tag is compared inside OpenSSL's GCM final
 * (CRYPTO_memcmp, constant time); this file never compares tags itself.
 */
#include <limits.h>
#include <pthread.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "hre/aead.h"
#include "crypto/internal.h"

/* Bytes per EVP update call (EVP lengths are int). */
#define CHUNK (1u << 30)

struct hre_aead {
    EVP_CIPHER_CTX *enc;          /* NULL until the first seal */
    EVP_CIPHER_CTX *dec;          /* NULL until the first open */
    uint8_t key[HRE_AEAD_KEY_LEN];
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *g_gcm;

static void fetch_gcm(void)
{
    g_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    ERR_clear_error();
}

__attribute__((destructor)) static void release_gcm(void)
{
    EVP_CIPHER_free(g_gcm);
    g_gcm = NULL;
}

HRE_API int hre_aead_new(hre_aead **out, const uint8_t *key, size_t keylen)
{
    HRE__API_SCOPE;
    hre_aead *c;
    if (!out) return hre__fail(HRE_EINVAL, "hre_aead_new: NULL out");
    *out = NULL;
    if (!key) return hre__fail(HRE_EINVAL, "hre_aead_new: NULL key");
    if (keylen != HRE_AEAD_KEY_LEN)
        return hre__fail(HRE_EUNSUPPORTED, "AES-GCM: key length %zu bytes is not supported "
                         "(only AES-256, %d bytes)", keylen, HRE_AEAD_KEY_LEN);
    pthread_once(&g_once, fetch_gcm);
    if (!g_gcm) return hre__fail(HRE_ECRYPTO, "AES-256-GCM unavailable in the crypto provider");
    c = hre__calloc(1, sizeof *c);
    if (!c) return hre__fail(HRE_ENOMEM, "out of memory allocating an AEAD context");
    memcpy(c->key, key, HRE_AEAD_KEY_LEN);
    *out = c;
    return hre_crypto__ok();
}

int hre_aead__set_key(hre_aead *ctx, const uint8_t *key, size_t keylen)
{
    if (keylen != HRE_AEAD_KEY_LEN)
        return hre__fail(HRE_EUNSUPPORTED, "AES-GCM: key length %zu bytes is not supported", keylen);
    memcpy(ctx->key, key, HRE_AEAD_KEY_LEN);
    if ((ctx->enc && EVP_EncryptInit_ex2(ctx->enc, NULL, ctx->key, NULL, NULL) != 1) ||
        (ctx->dec && EVP_DecryptInit_ex2(ctx->dec, NULL, ctx->key, NULL, NULL) != 1)) {
        ERR_clear_error();
        /* a half re-keyed context must not be used: drop both directions */
        EVP_CIPHER_CTX_free(ctx->enc);
        EVP_CIPHER_CTX_free(ctx->dec);
        ctx->enc = ctx->dec = NULL;
        return hre__fail(HRE_ECRYPTO, "AES-256-GCM key setup failed in the crypto provider");
    }
    return HRE_OK;
}

HRE_API void hre_aead_free(hre_aead *ctx)
{
    if (!ctx) return;
    EVP_CIPHER_CTX_free(ctx->enc);   /* the GCM provider clears its key schedule */
    EVP_CIPHER_CTX_free(ctx->dec);
    hre__free_secret(ctx, sizeof *ctx);
}

/* The sealing or opening EVP context, keyed on first use (a Noise or HPKE
 * context only ever goes one way, so the other direction is never built). */
static EVP_CIPHER_CTX *direction(hre_aead *ctx, int enc)
{
    EVP_CIPHER_CTX **slot = enc ? &ctx->enc : &ctx->dec;
    if (*slot) return *slot;
    *slot = EVP_CIPHER_CTX_new();
    if (!*slot || EVP_CipherInit_ex2(*slot, g_gcm, ctx->key, NULL, enc, NULL) != 1) {
        EVP_CIPHER_CTX_free(*slot);
        *slot = NULL;
        ERR_clear_error();
        return NULL;
    }
    return *slot;
}

/* Shared argument checks. Returns HRE_OK or a failure (detail set). */
static int check_sizes(const char *fn, size_t taglen, const uint8_t *nonce, size_t noncelen,
                       const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t inlen,
                       const uint8_t *out)
{
    if (!nonce || (!aad && aadlen) || (!in && inlen) || (!out && inlen))
        return hre__fail(HRE_EINVAL, "%s: NULL argument", fn);
    if (noncelen != HRE_AEAD_NONCE_LEN)
        return hre__fail(HRE_EUNSUPPORTED, "AES-GCM: nonce length %zu bytes is not supported "
                         "(only %d)", noncelen, HRE_AEAD_NONCE_LEN);
    if (taglen != HRE_AEAD_TAG_LEN)
        return hre__fail(HRE_EUNSUPPORTED, "AES-GCM: tag length %zu bytes is not supported "
                         "(only %d)", taglen, HRE_AEAD_TAG_LEN);
    if ((uint64_t)inlen > HRE_AEAD_MAX_PLAINTEXT)
        return hre__fail(HRE_ELIMIT, "AES-GCM: message of %zu bytes exceeds the GCM limit", inlen);
    return HRE_OK;
}

/* Feed aad then in -> out through an initialised context. 1 on success. */
static int run(EVP_CIPHER_CTX *c, uint8_t *out, const uint8_t *aad, size_t aadlen,
               const uint8_t *in, size_t inlen)
{
    int outl;
    while (aadlen) {
        size_t n = aadlen > CHUNK ? CHUNK : aadlen;
        if (EVP_CipherUpdate(c, NULL, &outl, aad, (int)n) != 1) return 0;
        aad += n;
        aadlen -= n;
    }
    while (inlen) {
        size_t n = inlen > CHUNK ? CHUNK : inlen;
        if (EVP_CipherUpdate(c, out, &outl, in, (int)n) != 1 || (size_t)outl != n) return 0;
        in += n;
        out += n;
        inlen -= n;
    }
    return 1;
}

HRE_API int hre_aead_seal(hre_aead *ctx, uint8_t *ct, uint8_t *tag, size_t taglen,
                          const uint8_t *nonce, size_t noncelen,
                          const uint8_t *aad, size_t aadlen,
                          const uint8_t *pt, size_t ptlen)
{
    HRE__API_SCOPE;
    EVP_CIPHER_CTX *c;
    uint8_t last[16];
    int outl = 0, rc;

    if (!tag) {
        if (ct && ptlen) hre_wipe(ct, ptlen);
        return hre__fail(HRE_EINVAL, "hre_aead_seal: NULL tag");
    }
    if (!ctx) {
        hre_wipe(tag, taglen);
        if (ct && ptlen) hre_wipe(ct, ptlen);
        return hre__fail(HRE_EINVAL, "hre_aead_seal: NULL context");
    }
    rc = check_sizes("hre_aead_seal", taglen, nonce, noncelen, aad, aadlen, pt, ptlen, ct);
    if (rc != HRE_OK) goto fail;
    if (!(c = direction(ctx, 1)) ||
        EVP_EncryptInit_ex2(c, NULL, NULL, nonce, NULL) != 1 ||
        !run(c, ct, aad, aadlen, pt, ptlen) ||
        EVP_EncryptFinal_ex(c, last, &outl) != 1 || outl != 0 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, HRE_AEAD_TAG_LEN, tag) != 1) {
        ERR_clear_error();
        rc = hre__fail(HRE_ECRYPTO, "AES-256-GCM encryption failed in the crypto provider");
        goto fail;
    }
    return hre_crypto__ok();
fail:
    hre_wipe(tag, taglen);
    if (ct && ptlen) hre_wipe(ct, ptlen);
    return hre__api_done(rc);
}

HRE_API int hre_aead_open(hre_aead *ctx, uint8_t *pt,
                          const uint8_t *nonce, size_t noncelen,
                          const uint8_t *aad, size_t aadlen,
                          const uint8_t *ct, size_t ctlen,
                          const uint8_t *tag, size_t taglen)
{
    HRE__API_SCOPE;
    EVP_CIPHER_CTX *c;
    uint8_t last[16];
    int outl = 0, rc;

    if (!ctx || !tag) {
        rc = hre__fail(HRE_EINVAL, "hre_aead_open: NULL %s", ctx ? "tag" : "context");
        goto fail;
    }
    rc = check_sizes("hre_aead_open", taglen, nonce, noncelen, aad, aadlen, ct, ctlen, pt);
    if (rc != HRE_OK) goto fail;
    if (!(c = direction(ctx, 0)) ||
        EVP_DecryptInit_ex2(c, NULL, NULL, nonce, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, HRE_AEAD_TAG_LEN, (void *)tag) != 1 ||
        !run(c, pt, aad, aadlen, ct, ctlen)) {
        ERR_clear_error();
        rc = hre__fail(HRE_ECRYPTO, "AES-256-GCM decryption failed in the crypto provider");
        goto fail;
    }
    /* The tag check (constant time, inside OpenSSL). */
    if (EVP_DecryptFinal_ex(c, last, &outl) != 1) {
        ERR_clear_error();
        rc = hre__fail(HRE_EDECRYPT, "AES-GCM: authentication tag does not verify "
                       "(wrong key, nonce or associated data, or damaged message)");
        goto fail;
    }
    return hre_crypto__ok();
fail:
    if (pt && ctlen) hre_wipe(pt, ctlen);
    return hre__api_done(rc);
}
