/*
 * X25519 (RFC 7748) key pairs and Diffie-Hellman through OpenSSL 3 EVP, for
 * the Noise channel (lib/node/noise.c). Internal: never installed, no
 * public API (nothing above the node needs raw X25519).
 */
#ifndef HRE_CRYPTO_X25519_H
#define HRE_CRYPTO_X25519_H

#include "core/internal.h"

#define HRE_X25519__LEN 32

/* A key pair. pkey is an OpenSSL EVP_PKEY (opaque here); pub its public key.
 * A zeroed struct is "no key". Not shared between threads while written. */
typedef struct hre_x25519__key {
    void *pkey;                     /* EVP_PKEY *; NULL: no key */
    uint8_t pub[HRE_X25519__LEN];
} hre_x25519__key;

/* A fresh key pair from OpenSSL's DRBG. HRE_OK, HRE_ECRYPTO (k cleared). */
int hre_x25519__generate(hre_x25519__key *k);
/* The key pair of a raw 32-byte private key (clamped by X25519 itself).
 * HRE_OK, HRE_ECRYPTO. */
int hre_x25519__from_private(hre_x25519__key *k, const uint8_t priv[32]);
/* The raw private key (tests and key storage). HRE_OK, HRE_ECRYPTO (out wiped). */
int hre_x25519__private(uint8_t out[32], const hre_x25519__key *k);
/* dst = another reference to src's key pair (no recomputation). */
void hre_x25519__copy(hre_x25519__key *dst, const hre_x25519__key *src);
/* Free the EVP_PKEY (OpenSSL clears the secret) and zero the struct. */
void hre_x25519__clear(hre_x25519__key *k);
/* out = X25519(k, peer). HRE_OK; HRE_EDECODE when the result is all zero
 * (a low-order peer point, refused as RFC 7748 section 6.1 allows);
 * HRE_ECRYPTO, HRE_ENOMEM. No detail is set; out is wiped on failure. */
int hre_x25519__dh(uint8_t out[32], const hre_x25519__key *k, const uint8_t peer[32]);

#endif
