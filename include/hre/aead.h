/*
 * libhre authenticated encryption: AES-256-GCM (NIST SP 800-38D) through
 * OpenSSL 3 EVP, with a 96-bit nonce and a 128-bit tag.
 *
 * Only that one parameter set is supported. Every size is still passed
 * explicitly (key, nonce and tag length), so a caller holding a 128-bit key, a
 * 64-bit nonce or a truncated tag gets HRE_EUNSUPPORTED with a detail message
 * instead of a silent mis-use. Tags are checked by OpenSSL's GCM
 * implementation in constant time.
 *
 * A context holds an expanded key and is reused for many messages (the vault
 * seals per chunk, the channel per message): the key schedule and the GHASH
 * tables are computed once, in hre_aead_new. Each seal and open is one whole
 * message (no streaming).
 *
 * NONCES: GCM fails catastrophically when a (key, nonce) pair is used twice.
 * The caller owns nonce uniqueness: use a counter (as HPKE and the Noise
 * channel do) or, for at most 2^32 messages per key, random nonces.
 *
 * Thread safety: a context may be used by one thread at a time; different
 * contexts are independent.
 */
#ifndef HRE_AEAD_H
#define HRE_AEAD_H

#include "common.h"

HRE_BEGIN_DECLS

#define HRE_AEAD_KEY_LEN 32    /* AES-256 */
#define HRE_AEAD_NONCE_LEN 12  /* 96-bit nonce */
#define HRE_AEAD_TAG_LEN 16    /* 128-bit tag */
/** Largest plaintext per message: 2^36 - 32 bytes (the GCM limit, 2^39 - 256 bits). */
#define HRE_AEAD_MAX_PLAINTEXT ((uint64_t)68719476704ULL)

/** An AES-256-GCM key ready for use. Opaque; wiped when freed.  Since: 1.1 */
typedef struct hre_aead hre_aead;

/** Create a context holding a 256-bit key.
 *  Out: *out: new context owned by the caller, released with hre_aead_free
 *       (NULL on failure).
 *  In: key/keylen: the key; keylen must be HRE_AEAD_KEY_LEN. The bytes are
 *      copied into OpenSSL's key schedule; the caller may wipe its copy.
 *  Returns: HRE_OK; HRE_EINVAL (NULL out or key); HRE_EUNSUPPORTED (keylen is
 *           not 32, e.g. a 128- or 192-bit AES key); HRE_ENOMEM; HRE_ECRYPTO.
 *  Thread safety: any thread.
 *  Since: 1.1 */
HRE_API int hre_aead_new(hre_aead **out, const uint8_t *key, size_t keylen);

/** Wipe the key schedule and free the context. NULL is fine.  Since: 1.1 */
HRE_API void hre_aead_free(hre_aead *ctx);

/** Encrypt and authenticate one message.
 *  Out: ct: ptlen bytes of ciphertext (may be the same buffer as pt, for
 *       in-place encryption; no other overlap).
 *       tag: taglen bytes, the authentication tag.
 *  In: nonce/noncelen: must be HRE_AEAD_NONCE_LEN bytes, never reused with
 *      this key. aad/aadlen: additional data, authenticated but not encrypted
 *      (NULL if aadlen == 0). pt/ptlen: the plaintext (NULL if ptlen == 0).
 *      taglen must be HRE_AEAD_TAG_LEN.
 *  Returns: HRE_OK; HRE_EINVAL (NULL pointer with a nonzero length, NULL ctx,
 *           tag or nonce); HRE_EUNSUPPORTED (noncelen != 12 or taglen != 16);
 *           HRE_ELIMIT (ptlen > HRE_AEAD_MAX_PLAINTEXT); HRE_ECRYPTO. On
 *           failure ct (ptlen bytes, when not NULL) and tag are zeroed.
 *  Thread safety: one thread at a time per ctx.
 *  Since: 1.1 */
HRE_API int hre_aead_seal(hre_aead *ctx, uint8_t *ct, uint8_t *tag, size_t taglen,
                          const uint8_t *nonce, size_t noncelen,
                          const uint8_t *aad, size_t aadlen,
                          const uint8_t *pt, size_t ptlen);

/** Check and decrypt one message.
 *  Out: pt: ctlen bytes of plaintext (may be the same buffer as ct). Written
 *       only if the tag verifies; on any failure all ctlen bytes are zeroed,
 *       so no unauthenticated plaintext is ever released.
 *  In: nonce/noncelen (12 bytes), aad/aadlen, ct/ctlen, tag/taglen (16 bytes)
 *      as produced by hre_aead_seal.
 *  Returns: HRE_OK; HRE_EDECRYPT (the tag does not verify: wrong key, nonce,
 *           aad, or damaged ciphertext or tag); HRE_EINVAL; HRE_EUNSUPPORTED
 *           (noncelen != 12 or taglen != 16); HRE_ELIMIT (ctlen too large);
 *           HRE_ECRYPTO.
 *  Thread safety: one thread at a time per ctx.
 *  Since: 1.1 */
HRE_API int hre_aead_open(hre_aead *ctx, uint8_t *pt,
                          const uint8_t *nonce, size_t noncelen,
                          const uint8_t *aad, size_t aadlen,
                          const uint8_t *ct, size_t ctlen,
                          const uint8_t *tag, size_t taglen) HRE_WARN_UNUSED_RESULT;

HRE_END_DECLS

#endif /* HRE_AEAD_H */
