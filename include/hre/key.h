/*
 * libhre keys and ECDSA signatures (P-256 by default, secp256k1 supported),
 * through OpenSSL 3 EVP.
 *
 * Signatures are 64 bytes, r || s big-endian, with low S (s <= n/2) enforced:
 * hre_key_sign only produces low S and hre_pubkey_verify rejects high S, so a
 * signature cannot be malleated. Strict DER (hre_sig_parse_der /
 * hre_sig_serialize_der) exists for HSMs and tools.
 *
 * Verbs (common.h rule 3): public keys are value-like and use parse /
 * serialize -- hre_pubkey_parse / hre_pubkey_serialize for SEC1, and
 * hre_pubkey_parse_wire / hre_pubkey_serialize_wire for the wire form of
 * HRE_PUBKEY_ENCODED_LEN (34) bytes: a one-byte curve id (hre_curve)
 * followed by the 33-byte SEC1 compressed point. Secret keys use import /
 * export (PKCS#8 PEM).
 */
#ifndef HRE_KEY_H
#define HRE_KEY_H

#include "common.h"

HRE_BEGIN_DECLS

/** The two supported curves: NIST P-256 and secp256k1.  Since: 1.0 */
typedef enum hre_curve {
    HRE_CURVE_P256 = 1,       /**< NIST P-256 (secp256r1) */
    HRE_CURVE_SECP256K1 = 2   /**< secp256k1 */
} hre_curve;

#define HRE_SIG_LEN 64  /**< compact signature: r || s, 32 bytes each */
#define HRE_SIG_DER_MAX 72  /**< longest DER-encoded signature */
#define HRE_PUBKEY_COMPRESSED_LEN 33  /**< SEC1 compressed point */
#define HRE_PUBKEY_UNCOMPRESSED_LEN 65  /**< SEC1 uncompressed point */
#define HRE_PUBKEY_ENCODED_LEN 34  /**< wire form: curve id || compressed point */

/** A private key. Opaque. Its memory is wiped when freed.
 *  Thread safety: an hre_key may be used for signing from several threads at
 *  once (signing does not mutate it). */
typedef struct hre_key hre_key;

/** A parsed, validated public key. Opaque, immutable and reference-counted
 *  internally, so it may be shared across threads. */
typedef struct hre_pubkey hre_pubkey;

/** Generate a fresh private key with OpenSSL's DRBG.
 *  Out: *out: new key owned by the caller (NULL on failure).
 *  Returns: HRE_OK; HRE_EINVAL (NULL out or unknown curve); HRE_ENOMEM; HRE_ECRYPTO.
 *  Since: 1.0 */
HRE_API int hre_key_generate(hre_key **out, hre_curve curve);

/** Wipe and free a private key. NULL is fine.  Since: 1.0 */
HRE_API void hre_key_free(hre_key *key);

/** Curve of a key (0 if key is NULL).  Since: 1.0 */
HRE_API hre_curve hre_key_curve(const hre_key *key);

/** The public key of a private key (parsed once when the key is created or
 *  imported; this returns a new reference to it, so it is cheap).
 *  Args: key: the private key (self).
 *  Out: *out: new public key reference owned by the caller; free with
 *       hre_pubkey_free (NULL on failure).
 *  Returns: HRE_OK; HRE_EINVAL (NULL argument).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_key_pubkey(const hre_key *key, hre_pubkey **out);

/** Export a private key as PKCS#8 PEM, encrypted with AES-256-CBC under a
 *  PBKDF2-HMAC-SHA256-derived key (PBES2, 100000 iterations, random salt)
 *  when passlen > 0 ("ENCRYPTED PRIVATE KEY"), or in
 *  clear PKCS#8 when pass is NULL and passlen == 0 ("PRIVATE KEY").
 *  Args: key: the key to export (self).
 *  Out: out: the PEM text, NUL-terminated (zeroed on failure).
 *  In/Out: *outlen: capacity of out; on return, the PEM length without the NUL
 *          (or, with HRE_EBUFSIZE, the capacity needed including the NUL).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EBUFSIZE; HRE_ENOMEM; HRE_ECRYPTO.
 *  Intermediate buffers holding the key are wiped.
 *  Since: 1.0 */
HRE_API int hre_key_export_pem(const hre_key *key, char *out, size_t *outlen,
                               const char *pass, size_t passlen);

/** Import a PKCS#8 PEM private key, encrypted (pass required) or clear.
 *  Out: *out: new key owned by the caller (NULL on failure).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EDECODE (not a PKCS#8 PEM key);
 *           HRE_EDECRYPT (wrong passphrase or damaged ciphertext);
 *           HRE_EUNSUPPORTED (a key on another curve or algorithm, explicit
 *           curve parameters, an encryption scheme other than PBES2 with
 *           PBKDF2 or scrypt, more than 10^7 PBKDF2 iterations, or scrypt
 *           parameters beyond HRE_KEY_SCRYPT_* below); HRE_ENOMEM.
 *  The detail message never contains the passphrase or key material.
 *  Since: 1.0 */
HRE_API int hre_key_import_pem(hre_key **out, const char *pem, size_t pemlen,
                               const char *pass, size_t passlen) HRE_WARN_UNUSED_RESULT;

/** Parse and validate a SEC1 public key (33-byte compressed or 65-byte
 *  uncompressed); the point must be on the curve and not infinity.
 *  Out: *out: new public key owned by the caller (NULL on failure).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EDECODE (bad length, prefix or point); HRE_ENOMEM.
 *  Since: 1.0 */
HRE_API int hre_pubkey_parse(hre_pubkey **out, hre_curve curve, const uint8_t *sec1,
                             size_t len) HRE_WARN_UNUSED_RESULT;

/** Serialize as SEC1, 33 bytes if compressed != 0, else 65.
 *  Args: pk: the key (self).
 *  Out: out: the SEC1 bytes (may be NULL with *outlen == 0 to ask the size).
 *  In/Out: *outlen: capacity in, bytes written out (or needed, on HRE_EBUFSIZE).
 *  In: compressed: nonzero for the 33-byte compressed form.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EBUFSIZE.
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_pubkey_serialize(const hre_pubkey *pk, uint8_t *out, size_t *outlen, int compressed);

/** Serialize as the 34-byte wire form: curve id || compressed point.
 *  Args: pk: the key (self).
 *  Out: out: HRE_PUBKEY_ENCODED_LEN bytes (zeroed on failure).
 *  Returns: HRE_OK; HRE_EINVAL (NULL argument).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_pubkey_serialize_wire(const hre_pubkey *pk, uint8_t out[34]);

/** Parse and validate the 34-byte wire form (curve id || compressed point).
 *  Out: *out: new public key owned by the caller (NULL on failure).
 *  In:  in: HRE_PUBKEY_ENCODED_LEN bytes.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EDECODE (unknown curve id, bad point); HRE_ENOMEM.
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_pubkey_parse_wire(hre_pubkey **out, const uint8_t in[34]) HRE_WARN_UNUSED_RESULT;

/** Curve of a public key (0 if pk is NULL).  Since: 1.0 */
HRE_API hre_curve hre_pubkey_curve(const hre_pubkey *pk);

/** Release a reference to a public key. NULL is fine.  Since: 1.0 */
HRE_API void hre_pubkey_free(hre_pubkey *pk);

/** Take another reference to a public key (atomic; any thread).
 *  Returns: pk (NULL if pk is NULL). Each reference is released with
 *  hre_pubkey_free.
 *  Since: 1.0 */
HRE_API hre_pubkey *hre_pubkey_ref(hre_pubkey *pk);

/** Compare two public keys by their encoding (curve and point).
 *  Returns: 1 if both are non-NULL and equal, else 0.
 *  Since: 1.0 */
HRE_API int hre_pubkey_equal(const hre_pubkey *a, const hre_pubkey *b) HRE_WARN_UNUSED_RESULT;

/** Sign a 32-byte digest. Produces r || s with low S. Nonces come from
 *  OpenSSL (its DRBG-seeded, hedged generation).
 *  Args: key: the signing key (self).
 *  Out: sig: 64 bytes r || s (zeroed on failure).
 *  In:  digest: the 32-byte digest.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ECRYPTO (sig zeroed).
 *  Thread safety: safe; key is not modified.
 *  Since: 1.0 */
HRE_API int hre_key_sign(const hre_key *key, uint8_t sig[64], const uint8_t digest[32]);

/** Verify r || s over a 32-byte digest.
 *  Args: pk: the public key (self).
 *  In:  digest: 32 bytes; sig: 64 bytes r || s.
 *  Returns: HRE_OK if valid; HRE_EVERIFY if invalid, if r or s is outside
 *           [1, n-1], or if s is high; HRE_EINVAL on NULL; HRE_ENOMEM /
 *           HRE_ECRYPTO (no verdict). Compare with HRE_OK explicitly.
 *  Thread safety: safe; pk may be shared by many threads.
 *  Since: 1.0 */
HRE_API int hre_pubkey_verify(const hre_pubkey *pk, const uint8_t digest[32],
                              const uint8_t sig[64]) HRE_WARN_UNUSED_RESULT;

/** Parse a strict DER ECDSA signature (no leading zero padding beyond what
 *  the sign bit needs, no trailing bytes, lengths in short form, r and s in
 *  [1, n-1]) into r || s. High S is kept as is (see hre_sig_normalize).
 *  Signatures are byte strings, not handles: this is a free function and
 *  starts with its output (common.h rule 2).
 *  Out: sig: 64 bytes r || s (zeroed on failure).
 *  In:  curve: the curve whose order bounds r and s; der/len: the DER bytes.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EDECODE (sig zeroed).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_sig_parse_der(uint8_t sig[64], hre_curve curve, const uint8_t *der,
                              size_t len) HRE_WARN_UNUSED_RESULT;

/** Serialize r || s as DER (at most HRE_SIG_DER_MAX bytes).
 *  Out: out: the DER bytes.
 *  In/Out: *outlen: capacity in, bytes written out (or needed, on HRE_EBUFSIZE).
 *  In:  curve; sig: 64 bytes r || s.
 *  Returns: HRE_OK; HRE_EINVAL (r or s out of range); HRE_EBUFSIZE.
 *  Since: 1.0 */
HRE_API int hre_sig_serialize_der(uint8_t *out, size_t *outlen, hre_curve curve, const uint8_t sig[64]);

/** Replace a high S by n - S in place.
 *  Returns: HRE_OK (sig now low S; already-low signatures are unchanged);
 *           HRE_EINVAL if r or s is outside [1, n-1] or curve is unknown.
 *  Since: 1.0 */
HRE_API int hre_sig_normalize(uint8_t sig[64], hre_curve curve);

/* ------------------------------------------------------------------------ */
/* Parsed-key cache                                                          */
/* ------------------------------------------------------------------------ */

/** A bounded, thread-safe cache of parsed public keys keyed by their 34-byte
 *  wire encoding (LRU eviction). Parsing a key costs more than a verification,
 *  so the layers above keep one of these. */
typedef struct hre_keycache hre_keycache;

/** Create a cache holding at most capacity keys (1 <= capacity <= 2^24).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOMEM.  Since: 1.0 */
HRE_API int hre_keycache_new(hre_keycache **out, size_t capacity);

/** Free the cache; keys handed out earlier stay valid until released. NULL is fine.
 *  Since: 1.0 */
HRE_API void hre_keycache_free(hre_keycache *cache);

/** Look up (or parse and insert) the key with this wire encoding.
 *  Args: cache: the cache (self).
 *  Out: *out: a new reference the caller releases with hre_pubkey_free
 *       (NULL on failure).
 *  In:  enc: HRE_PUBKEY_ENCODED_LEN bytes.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EDECODE (bad encoding; not cached); HRE_ENOMEM.
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_keycache_get(hre_keycache *cache, hre_pubkey **out,
                             const uint8_t enc[34]) HRE_WARN_UNUSED_RESULT;

/** Hit and miss counters since creation (either pointer may be NULL).
 *  Since: 1.0 */
HRE_API void hre_keycache_stats(const hre_keycache *cache, uint64_t *hits, uint64_t *misses);

/* ------------------------------------------------------------------------ */
/* ECDH (since 1.1; lib/crypto/ecdh.c)                                       */
/* ------------------------------------------------------------------------ */

#define HRE_ECDH_SHARED_LEN 32  /**< length of an hre_key_ecdh secret */

/** Elliptic-curve Diffie-Hellman (SEC1 3.3.1, cofactor 1): the x-coordinate
 *  of key * peer, 32 bytes big-endian. The peer key was validated when it was
 *  parsed (hre_pubkey_parse refuses the point at infinity, points off the
 *  curve and coordinates >= p with HRE_EDECODE), so no invalid-curve input
 *  reaches this call. Use the result through a KDF (e.g. HKDF), never as a
 *  key directly.
 *  Out: shared: 32 bytes (zeroed on failure).
 *  In: key: a private key; peer: a public key on the same curve.
 *  Returns: HRE_OK; HRE_EINVAL (NULL argument, or the two keys are on
 *           different curves); HRE_ECRYPTO.
 *  Thread safety: any thread; key and peer are only read.
 *  Since: 1.1 */
HRE_API int hre_key_ecdh(const hre_key *key, uint8_t shared[32],
                         const hre_pubkey *peer) HRE_WARN_UNUSED_RESULT;

/* (END ecdh 1.1) */

/* ------------------------------------------------------------------------ */
/* Limits on imported PKCS#8 encryption (since 1.1)                          */
/* ------------------------------------------------------------------------ */
/*
 * hre_key_import_pem runs the key derivation an encrypted PEM names, so a
 * hostile file chooses the CPU time it costs. PBKDF2 is capped at 10^7
 * iterations; scrypt gets the same time budget, checked before deriving:
 *
 * - One PBKDF2-HMAC-SHA256 iteration is two SHA-256 compressions; 10^7 of
 *   them took 7.5 s on the reference VM (0.75 us each).
 * - scrypt (RFC 7914) with cost N, block size r and parallelism p runs p
 *   lanes, one after the other in OpenSSL, of 2N BlockMix calls of 2r
 *   Salsa20/8 cores each, with N*r*128 bytes of random-access memory: 4*N*r*p
 *   Salsa20/8 cores in all. Measured on the same VM: 0.65 us per unit of
 *   N*r*p (0.47 us when the memory fits the cache), about one PBKDF2
 *   iteration per unit.
 * - Equal budgets: N*r*p <= 7.5 s / 0.65 us = 1.15 * 10^7, rounded down to
 *   2^23 = 8388608 (about 5.5 s here). `openssl pkcs8 -scrypt`'s default,
 *   N = 2^14, r = 8, p = 1, is 2^17: 64 times below the cap.
 * - p on its own buys nothing a larger N would not (OpenSSL runs the lanes
 *   sequentially) and is 1 in every common tool: at most 16. This refuses
 *   the hostile N = 32768, r = 1, p = 229374 (tens of minutes of CPU, and
 *   exactly at OpenSSL's 32 MiB memory cap, which bounds memory, not time)
 *   and p = 1000 (about 12 s) at once.
 * - Memory is refused up front at OpenSSL's own cap for PKCS#8 (32 MiB,
 *   128*r*(N+2) + 128*r*p bytes), so the error names the parameter instead
 *   of reading as a wrong passphrase; N must be a power of two below
 *   2^(16 r) (RFC 7914).
 * Every refusal is HRE_EUNSUPPORTED with a detail naming the parameter.
 */
#define HRE_KEY_SCRYPT_WORK_MAX 8388608L      /* N * r * p <= 2^23 */
#define HRE_KEY_SCRYPT_P_MAX 16  /**< largest scrypt p accepted */
#define HRE_KEY_SCRYPT_MEM_MAX 33554432       /* 32 MiB, as OpenSSL's PKCS#8 scrypt */

/* (END key import limits 1.1) */

HRE_END_DECLS

#endif /* HRE_KEY_H */
