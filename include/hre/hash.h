/*
 * libhre hashing: SHA-256, double SHA-256, HMAC-SHA256, HKDF-SHA256,
 * display-order hash hex and randomness, all through OpenSSL 3 (the digest
 * is fetched once per process, never per call).
 */
#ifndef HRE_HASH_H
#define HRE_HASH_H

#include "common.h"

HRE_BEGIN_DECLS

/** Length of a SHA-256 digest in bytes. */
#define HRE_SHA256_LEN 32

/** out = SHA-256(data[0..len)).
 *  Args: out: 32 bytes, written. data: may be NULL only if len == 0.
 *  Returns: HRE_OK; HRE_EINVAL on NULL arguments; HRE_ECRYPTO if OpenSSL fails
 *           (out is then zeroed).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_sha256(uint8_t out[32], const void *data, size_t len);

/** out = SHA-256(SHA-256(data)), Bitcoin's hash, in internal byte order
 *  (the reverse of the hex Bitcoin tools display).
 *  Returns/thread safety as hre_sha256.  Since: 1.0 */
HRE_API int hre_sha256d(uint8_t out[32], const void *data, size_t len);

/** Incremental SHA-256. An opaque context, created with hre_sha256_new and
 *  released with hre_sha256_free.  Since: 1.0 */
typedef struct hre_sha256_ctx hre_sha256_ctx;

/** Create a context ready to hash.
 *  Out: *out: new context owned by the caller (NULL on failure).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOMEM; HRE_ECRYPTO.
 *  Thread safety: a context must not be used by two threads at once.
 *  Since: 1.0 */
HRE_API int hre_sha256_new(hre_sha256_ctx **out);

/** Absorb len bytes.  Returns: HRE_OK; HRE_EINVAL; HRE_ECRYPTO.  Since: 1.0 */
HRE_API int hre_sha256_update(hre_sha256_ctx *ctx, const void *data, size_t len);

/** Write the digest and reset ctx so it can hash a new message.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ECRYPTO.  Since: 1.0 */
HRE_API int hre_sha256_final(hre_sha256_ctx *ctx, uint8_t out[32]);

/** Copy the state of src into dst (both created with hre_sha256_new); used
 *  for midstates.  Returns: HRE_OK; HRE_EINVAL; HRE_ECRYPTO.  Since: 1.0 */
HRE_API int hre_sha256_copy(hre_sha256_ctx *dst, const hre_sha256_ctx *src);

/** Free a context; NULL is fine.  Since: 1.0 */
HRE_API void hre_sha256_free(hre_sha256_ctx *ctx);

/** out = HMAC-SHA256(key, data).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ECRYPTO (out zeroed).
 *  Thread safety: safe from any thread.  Since: 1.0 */
HRE_API int hre_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t keylen,
                            const void *data, size_t len);

/** HKDF-SHA256 (RFC 5869) extract-and-expand into outlen bytes (<= 8160).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ECRYPTO (out wiped).
 *  Since: 1.0 */
HRE_API int hre_hkdf_sha256(uint8_t *out, size_t outlen,
                            const uint8_t *ikm, size_t ikmlen,
                            const uint8_t *salt, size_t saltlen,
                            const uint8_t *info, size_t infolen);

/** Write a 32-byte hash as 64 lowercase hex digits in display order (byte-
 *  reversed, as Bitcoin tools print block hashes and txids) plus a NUL.
 *  Out: out: 65 chars.
 *  In:  hash: 32 bytes in internal byte order.
 *  Returns: HRE_OK; HRE_EINVAL on NULL arguments.
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_hash_display_encode(char out[65], const uint8_t hash[32]);

/** Parse 64 hex digits in display order into an internal-order hash.
 *  Out: out: 32 bytes (zeroed on failure).
 *  In:  hex/hexlen: exactly 64 hex digits (either case).
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EDECODE (wrong length or non-hex).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_hash_display_decode(uint8_t out[32], const char *hex,
                                    size_t hexlen) HRE_WARN_UNUSED_RESULT;

/** Constant-time comparison of two len-byte buffers (for MACs and tags).
 *  Returns: 1 if equal, 0 otherwise. The time taken depends only on len.
 *  Since: 1.0 */
HRE_API int hre_ct_equal(const void *a, const void *b, size_t len) HRE_WARN_UNUSED_RESULT;

/** Fill out with len cryptographically secure random bytes from OpenSSL's DRBG.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ECRYPTO (out wiped).
 *  Since: 1.0 */
HRE_API int hre_random_bytes(uint8_t *out, size_t len);

/* ------------------------------------------------------------------------ */
/* HKDF-SHA256 in two steps (since 1.1; lib/crypto/hkdf.c)                   */
/* ------------------------------------------------------------------------ */

/** HKDF-Extract (RFC 5869 2.2): prk = HMAC-SHA256(salt, ikm). An empty salt
 *  (saltlen == 0) means 32 zero bytes, as the RFC says.
 *  Out: prk: 32 bytes.
 *  In: salt/saltlen, ikm/ikmlen (either pointer may be NULL when its length is 0).
 *  Returns: HRE_OK; HRE_EINVAL (NULL prk, or a NULL pointer with a nonzero
 *           length); HRE_ECRYPTO (prk wiped).
 *  Thread safety: any thread.
 *  Since: 1.1 */
HRE_API int hre_hkdf_sha256_extract(uint8_t prk[32], const uint8_t *salt, size_t saltlen,
                                    const uint8_t *ikm, size_t ikmlen);

/** HKDF-Expand (RFC 5869 2.3): outlen bytes of T(1) || T(2) || ...
 *  Out: out: outlen bytes (1 <= outlen <= 255 * 32 = 8160).
 *  In: prk/prklen: the pseudorandom key, at least 32 bytes (the RFC's
 *      "at least HashLen octets"); info/infolen (NULL if infolen == 0).
 *  Returns: HRE_OK; HRE_EINVAL (NULL out or prk, outlen 0 or above 8160,
 *           prklen < 32, NULL info with infolen > 0); HRE_ECRYPTO. On failure
 *           out is wiped, except when outlen itself is refused (then out is
 *           not touched: nothing was derived).
 *  hre_hkdf_sha256(out, n, ikm, salt, info) equals extract then expand.
 *  Thread safety: any thread.
 *  Since: 1.1 */
HRE_API int hre_hkdf_sha256_expand(uint8_t *out, size_t outlen, const uint8_t *prk, size_t prklen,
                                   const uint8_t *info, size_t infolen);

/* (END hkdf 1.1) */

HRE_END_DECLS

#endif /* HRE_HASH_H */
