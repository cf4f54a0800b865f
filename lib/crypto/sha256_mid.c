/*
 * Midstate SHA-256 sweeps for mining: sha256d over 80-byte block headers where
 * only the last 4 bytes (the nonce) change. The first 64 bytes are compressed
 * once per sweep; each nonce then costs one compression for the 16-byte tail
 * (plus padding) and one for the second SHA-256.
 *
 * Two backends, both over OpenSSL (which uses SHA-NI when the CPU has it):
 *  - "openssl-lowlevel": SHA256_Init/Update/Final with a plain struct copy of
 *    the SHA256_CTX midstate. These low-level calls are deprecated in OpenSSL
 *    3.0 but still exported; they skip the EVP dispatch overhead, which
 *    dominates for 16- and 32-byte inputs (about 1.4x faster here).
 *  - "evp": EVP_MD_CTX_copy_ex of an EVP midstate, using the SHA-256 fetched
 *    once per process. Slower, but provider-clean; kept as the fallback and as
 *    a cross-check in the tests.
 * A multi-lane backend (several nonces in flight per SHA-NI pipeline) slots in
 * by adding it to g_backends, fastest first.
 *
 * Mining is not a security function: the low-level path uses libcrypto's
 * built-in SHA-256 rather than a provider, also under a FIPS configuration.
 * Block hashes that are *checked* (hre_header_hash, hre_pow_check) always go
 * through EVP. If libcrypto was built without the deprecated 3.0 API
 * (OPENSSL_NO_DEPRECATED_3_0), the low-level backend is left out and mining
 * uses the EVP one.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/evp.h>
#include <openssl/opensslconf.h>
#include <openssl/sha.h>

#include "crypto/internal.h"

/* a <= b as little-endian 256-bit numbers; the top byte decides almost always. */
static inline int le256_leq(const uint8_t a[32], const uint8_t b[32])
{
    for (int i = 31; i >= 0; i--) {
        if (a[i] != b[i]) return a[i] < b[i];
    }
    return 1;
}

#ifndef OPENSSL_NO_DEPRECATED_3_0
static int sweep_lowlevel(const uint8_t prefix76[76], const uint8_t target[32], uint32_t first,
                          uint32_t count, uint32_t *found, uint8_t hash[32], uint32_t *done)
{
    SHA256_CTX mid, c;
    uint8_t tail[16], h1[32], h2[32];
    uint32_t i;

    if (!SHA256_Init(&mid) || !SHA256_Update(&mid, prefix76, 64))
        return hre__fail(HRE_ECRYPTO, "SHA-256 midstate failed");
    memcpy(tail, prefix76 + 64, 12);
    for (i = 0; i < count; i++) {
        uint32_t nonce = first + i;
        hre__put_le32(tail + 12, nonce);
        c = mid;
        SHA256_Update(&c, tail, sizeof tail);
        SHA256_Final(h1, &c);
        SHA256_Init(&c);
        SHA256_Update(&c, h1, sizeof h1);
        SHA256_Final(h2, &c);
        if (HRE__UNLIKELY(le256_leq(h2, target))) {
            *found = nonce;
            memcpy(hash, h2, 32);
            *done = i + 1;
            return HRE_OK;
        }
    }
    *done = count;
    return HRE_EEXHAUSTED;
}
#endif

static int sweep_evp(const uint8_t prefix76[76], const uint8_t target[32], uint32_t first,
                     uint32_t count, uint32_t *found, uint8_t hash[32], uint32_t *done)
{
    const EVP_MD *md = hre_crypto__sha256_md();
    EVP_MD_CTX *mid = NULL, *iv = NULL, *c = NULL;
    uint8_t tail[16], h1[32], h2[32];
    uint32_t i;
    int rc = HRE_EEXHAUSTED;

    *done = 0;
    if (!md) return hre__fail(HRE_ECRYPTO, "SHA-256 unavailable in the crypto provider");
    mid = EVP_MD_CTX_new();
    iv = EVP_MD_CTX_new();
    c = EVP_MD_CTX_new();
    if (!mid || !iv || !c) {
        rc = hre__fail(HRE_ENOMEM, "out of memory allocating EVP_MD_CTX");
        goto out;
    }
    if (!EVP_DigestInit_ex(mid, md, NULL) || !EVP_DigestUpdate(mid, prefix76, 64) ||
        !EVP_DigestInit_ex(iv, md, NULL)) {
        rc = hre__fail(HRE_ECRYPTO, "EVP SHA-256 midstate failed");
        goto out;
    }
    memcpy(tail, prefix76 + 64, 12);
    for (i = 0; i < count; i++) {
        uint32_t nonce = first + i;
        hre__put_le32(tail + 12, nonce);
        if (!EVP_MD_CTX_copy_ex(c, mid) || !EVP_DigestUpdate(c, tail, sizeof tail) ||
            !EVP_DigestFinal_ex(c, h1, NULL) || !EVP_MD_CTX_copy_ex(c, iv) ||
            !EVP_DigestUpdate(c, h1, sizeof h1) || !EVP_DigestFinal_ex(c, h2, NULL)) {
            *done = i;
            rc = hre__fail(HRE_ECRYPTO, "EVP SHA-256 failed while mining");
            goto out;
        }
        if (HRE__UNLIKELY(le256_leq(h2, target))) {
            *found = nonce;
            memcpy(hash, h2, 32);
            *done = i + 1;
            rc = HRE_OK;
            goto out;
        }
    }
    *done = count;
out:
    EVP_MD_CTX_free(mid);
    EVP_MD_CTX_free(iv);
    EVP_MD_CTX_free(c);
    return rc;
}

static const hre_crypto__sweep_backend g_backends[] = {
#ifndef OPENSSL_NO_DEPRECATED_3_0
    { "openssl-lowlevel", sweep_lowlevel },
#endif
    { "evp", sweep_evp },
};

const hre_crypto__sweep_backend *hre_crypto__sweep_backends(size_t *n)
{
    if (n) *n = sizeof g_backends / sizeof g_backends[0];
    return g_backends;
}

const hre_crypto__sweep_backend *hre_crypto__sweep_default(void)
{
    return &g_backends[0];
}
