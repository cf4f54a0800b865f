/*
 * Internal crypto helpers (layer 1) shared with the layers above. OpenSSL
 * types may appear here: this header is never installed.
 */
#ifndef HRE_CRYPTO_INTERNAL_H
#define HRE_CRYPTO_INTERNAL_H

#include <openssl/bn.h>
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

/* ------------------------------------------------------------------------ */
/* 1.1 additions: AEAD, HKDF pieces, ECDH, HPKE (lib/crypto/aead.c, hkdf.c,  */
/* ecdh.c, hpke.c; the key accessors live at the end of key.c)               */
/* ------------------------------------------------------------------------ */

/* A piece of a message hashed without concatenating (p may be NULL iff len == 0). */
typedef struct hre_crypto__iov {
    const void *p;
    size_t len;
} hre_crypto__iov;
/* Most pieces hre_crypto__hkdf_expand takes for its info. */
#define HRE_CRYPTO__IOV_MAX 8

/* HMAC-SHA256 of the concatenation of v[0..n). HRE_OK or HRE_ECRYPTO (out wiped). */
int hre_crypto__hmac_sha256(uint8_t out[32], const uint8_t *key, size_t keylen,
                            const hre_crypto__iov *v, size_t n);
/* HKDF-Extract with ikm in pieces (saltlen == 0: 32 zero bytes). */
int hre_crypto__hkdf_extract(uint8_t prk[32], const uint8_t *salt, size_t saltlen,
                             const hre_crypto__iov *ikm, size_t n);
/* HKDF-Expand with info in at most HRE_CRYPTO__IOV_MAX pieces; 1 <= outlen <= 8160. */
int hre_crypto__hkdf_expand(uint8_t *out, size_t outlen, const uint8_t prk[32],
                            const hre_crypto__iov *info, size_t n);

/* An HMAC-SHA256 key made ready once: the SHA-256 states after the inner and
 * the outer pad. Each HMAC under it then starts from a copy of those states,
 * saving the two pad compressions and the digest set-up; worth it for a key
 * used more than once (an HKDF PRK expanded into several outputs, a constant
 * salt). The states are key material: hre_crypto__hmac_key_clear frees and
 * wipes them. Read-only after init, so one key may serve several threads. */
typedef struct hre_crypto__hmac_key {
    EVP_MD_CTX *in, *out;
} hre_crypto__hmac_key;
/* HRE_OK, HRE_ENOMEM or HRE_ECRYPTO (k left cleared). */
int hre_crypto__hmac_key_init(hre_crypto__hmac_key *k, const uint8_t *key, size_t keylen);
void hre_crypto__hmac_key_clear(hre_crypto__hmac_key *k);
/* HMAC of v[0..n) under k; HRE_OK or HRE_ECRYPTO (out wiped). */
int hre_crypto__hmac_keyed(uint8_t out[32], const hre_crypto__hmac_key *k,
                           const hre_crypto__iov *v, size_t n);
/* HKDF-Extract(salt = k's key, ikm in pieces). */
int hre_crypto__hkdf_extract_keyed(uint8_t prk[32], const hre_crypto__hmac_key *k,
                                   const hre_crypto__iov *ikm, size_t n);
/* HKDF-Expand under a PRK made ready as an HMAC key; as hre_crypto__hkdf_expand. */
int hre_crypto__hkdf_expand_keyed(uint8_t *out, size_t outlen, const hre_crypto__hmac_key *prk,
                                  const hre_crypto__iov *info, size_t n);

/* SHA-256 of the concatenation of v[0..n) (Noise's MixHash). */
int hre_crypto__sha256_v(uint8_t out[32], const hre_crypto__iov *v, size_t n);

/* Re-key an AEAD context in place (no allocation): the Noise channel's
 * MixKey/Split/Rekey. keylen must be 32. HRE_OK, HRE_EUNSUPPORTED or HRE_ECRYPTO. */
typedef struct hre_aead hre_aead;
int hre_aead__set_key(hre_aead *ctx, const uint8_t *key, size_t keylen);

/* Key internals (end of key.c). The EVP_PKEY is borrowed for the lifetime of
 * the key (read-only; EVP_PKEY may be shared by threads). */
EVP_PKEY *hre_key__pkey(const hre_key *key);
EVP_PKEY *hre_key__pubkey_pkey(const hre_pubkey *pk);
/* 65-byte uncompressed SEC1 encoding held inside a public key (borrowed). */
const uint8_t *hre_key__pubkey_uncompressed(const hre_pubkey *pk);
/* The private scalar kept with the key (BN_FLG_CONSTTIME; borrowed, read-only)
 * or NULL. */
const BIGNUM *hre_key__scalar_bn(const hre_key *key);
/* Wrap an EVP_PKEY holding a private key on curve into an hre_key
 * (ownership of pkey taken, also on failure). Sets details. */
int hre_key__wrap(hre_key **out, EVP_PKEY *pkey, hre_curve curve);
/* ECDH internals (lib/crypto/ecdh.c). */
/* A private key from a 32-byte big-endian scalar in [1, n-1] (the public key
 * is computed). HRE_EINVAL for a scalar out of range; sets details. Used by
 * HPKE DeriveKeyPair and the scalar-based test vectors. */
int hre_key__from_scalar(hre_key **out, hre_curve curve, const uint8_t scalar[32]);
/* The private scalar, 32 bytes big-endian (tests only compare it). */
int hre_key__scalar(uint8_t out[32], const hre_key *key);
/* x-coordinate of priv * peer into shared[32]; the peer must already be
 * validated. HRE_OK or HRE_ECRYPTO (shared wiped); no detail. */
int hre_key__ecdh_pkey(uint8_t shared[32], EVP_PKEY *priv, EVP_PKEY *peer);

/* ECDH on a 65-byte uncompressed peer point (see ecdh.c for why HPKE does
 * not go through an EVP_PKEY per peer). shared = x(key * peer).
 * HRE_OK, HRE_EDECODE (peer not a valid point on the key's curve),
 * HRE_ECRYPTO, HRE_ENOMEM; no detail set; shared wiped on failure. */
int hre_key__ecdh_sec1(uint8_t shared[32], const hre_key *key, const uint8_t peer[65]);
/* An ephemeral key for one ECDH: pub = k*G (65 bytes), shared = x(k * peer),
 * k uniform in [1, n-1] from OpenSSL's DRBG, or the given scalar (tests:
 * HPKE's ikmE); k is wiped before return. Same codes (HRE_EINVAL for a
 * scalar out of range). */
int hre_key__ecdh_ephemeral(uint8_t pub[65], uint8_t shared[32], hre_curve curve,
                            const uint8_t *scalar, const uint8_t peer[65]);

/* Successful return: clears the thread's last error (CONVENTION 4). */
/* Success of a public entry point (which opened HRE__API_SCOPE): clears the
 * thread's error when it is the outermost libhre call (common.h rule 4). */
static inline int hre_crypto__ok(void)
{
    return hre__api_done(HRE_OK);
}

/* HPKE test entry points (lib/crypto/hpke.c). Not exported: a chosen
 * ephemeral (ikmE) is what the RFC 9180 vectors need and what a caller must
 * never have (the same ikmE twice is the same AEAD key and nonce), so only
 * white-box tests reach it. sec (may be NULL) receives the intermediate
 * values the vectors list. */
#include "hre/hpke.h"
typedef struct hre_hpke__secrets {
    uint8_t shared_secret[32];
    uint8_t key[32];
    uint8_t base_nonce[12];
    uint8_t exporter_secret[32];
} hre_hpke__secrets;
int hre_hpke__setup_sender_derand(hre_hpke_ctx **out, uint8_t enc[65], hre_hpke_mode mode,
                                  const hre_pubkey *pkR, const hre_key *skS,
                                  const uint8_t *info, size_t infolen,
                                  const uint8_t *psk, size_t psklen,
                                  const uint8_t *psk_id, size_t psk_idlen,
                                  const uint8_t *ikmE, size_t ikmElen, hre_hpke__secrets *sec);
int hre_hpke__setup_receiver_secrets(hre_hpke_ctx **out, hre_hpke_mode mode,
                                     const hre_key *skR, const hre_pubkey *pkS,
                                     const uint8_t enc[65],
                                     const uint8_t *info, size_t infolen,
                                     const uint8_t *psk, size_t psklen,
                                     const uint8_t *psk_id, size_t psk_idlen,
                                     hre_hpke__secrets *sec);
/* Move a context's sequence number (tests of the overflow refusal). */
void hre_hpke__set_seq(hre_hpke_ctx *ctx, uint64_t seq);

/* (END crypto 1.1) */

#endif
