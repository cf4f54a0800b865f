/*
 * Internal crypto helpers (layer 1) shared with the layers above. OpenSSL
 * types may appear here: this header is never installed.
 */
#ifndef HRE_CRYPTO_INTERNAL_H
#define HRE_CRYPTO_INTERNAL_H

#include <openssl/evp.h>

#include "core/internal.h"

/* SHA-256 fetched once per process (EVP_MD_fetch), never per call. Returns
 * NULL only if the provider has no SHA-256 (then every hash call fails with
 * HRE_ECRYPTO). */
const EVP_MD *hre_crypto__sha256_md(void);


/* ---- keys and signatures (lib/crypto/key.c, der.c, keycache.c) ---- */
#include "hre/key.h"

/* Group order n of a curve as 32 big-endian bytes, and floor(n/2); NULL for
 * an unknown curve id. */
const uint8_t *hre_key__order(hre_curve curve);
const uint8_t *hre_key__half_order(hre_curve curve);
/* 1 if 1 <= x <= n-1 (x: 32 big-endian bytes), else 0 (also for an unknown
 * curve). Constant time in x. */
int hre_key__scalar_in_range(const uint8_t x[32], hre_curve curve);
/* 1 if r and s are in range and s <= n/2, else 0. */
int hre_key__sig_is_canonical(const uint8_t sig[64], hre_curve curve);
/* Strict DER structure (see hre_sig_parse_der) without the range check on r
 * and s beyond "positive, at most 32 bytes". Returns HRE_OK or HRE_EDECODE
 * (sig zeroed); sets no detail message (callers do). */
int hre_key__der_decode(uint8_t sig[64], const uint8_t *der, size_t len);
/* DER-encode r || s (no range check; r, s must be nonzero). Writes at most
 * HRE_SIG_DER_MAX bytes into out; returns the length. */
size_t hre_key__der_encode(uint8_t out[HRE_SIG_DER_MAX], const uint8_t sig[64]);
/* The 34-byte wire encoding held inside a public key (borrowed). */
const uint8_t *hre_key__pubkey_wire(const hre_pubkey *pk);

/* ---- Mining midstate sweeps (lib/crypto/sha256_mid.c, owned by chain) ----
 * A sweep backend hashes the 80-byte message prefix76 || LE32(nonce) with
 * sha256d for nonces first, first + 1, ... (count >= 1 of them, wrapping at
 * 2^32), hashing the first 64 bytes once per call (midstate), and stops at the
 * first digest that is <= target (both little-endian 256-bit numbers).
 * Returns HRE_OK (*found = nonce, hash = its digest), HRE_EEXHAUSTED, or
 * HRE_ENOMEM / HRE_ECRYPTO. *done = nonces hashed. A multi-lane (e.g. SHA-NI
 * 2-way) backend is added by appending to the table in sha256_mid.c. */
typedef struct hre_crypto__sweep_backend {
    const char *name;
    int (*sweep)(const uint8_t prefix76[76], const uint8_t target[32], uint32_t first,
                 uint32_t count, uint32_t *found, uint8_t hash[32], uint32_t *done);
} hre_crypto__sweep_backend;
/* All backends, fastest first; *n = how many. */
const hre_crypto__sweep_backend *hre_crypto__sweep_backends(size_t *n);
/* The backend mining uses. */
const hre_crypto__sweep_backend *hre_crypto__sweep_default(void);

#endif
