/*
 * libhre hybrid public-key encryption: HPKE (RFC 9180) with one cipher suite,
 *   KEM  0x0010 DHKEM(P-256, HKDF-SHA256),
 *   KDF  0x0001 HKDF-SHA256,
 *   AEAD 0x0002 AES-256-GCM,
 * in all four modes (base, psk, auth, auth_psk), built from OpenSSL 3.0 EVP
 * primitives (OpenSSL 3.0 has no HPKE API). Keys are ordinary P-256 hre_key /
 * hre_pubkey objects; enc is the 65-byte uncompressed SEC1 point of the
 * ephemeral key (SerializePublicKey). docs/PROTOCOL.md section 8 has the
 * byte-exact description, including the wrap wire form.
 *
 * Two ways to use it:
 *  - a context (hre_hpke_setup_sender / _receiver, then _seal / _open /
 *    _export): a stream of messages from one sender to one receiver, each
 *    with its own sequence number;
 *  - one-shot key wraps (hre_hpke_wrap / _unwrap, and the _auth pair): a
 *    32-byte data key encrypted to a reader's public key, 113 bytes on the
 *    wire, as the vault stores per reader.
 *
 * The sender's ephemeral key always comes from OpenSSL's DRBG; there is no
 * public way to choose it (reusing an ephemeral reuses the AEAD key and
 * nonce). The RFC 9180 vectors are checked through an internal test entry
 * point (lib/crypto/internal.h, white-box tests only).
 *
 * Thread safety: a context is used by one thread at a time. The one-shot
 * calls and hre_hpke_derive_key are safe from any thread; keys are only read.
 */
#ifndef HRE_HPKE_H
#define HRE_HPKE_H

#include "common.h"
#include "key.h"

HRE_BEGIN_DECLS

#define HRE_HPKE_KEM_ID 0x0010   /* DHKEM(P-256, HKDF-SHA256) */
#define HRE_HPKE_KDF_ID 0x0001   /* HKDF-SHA256 */
#define HRE_HPKE_AEAD_ID 0x0002  /* AES-256-GCM */
#define HRE_HPKE_ENC_LEN 65      /* Nenc: uncompressed P-256 point */
#define HRE_HPKE_TAG_LEN 16      /* Nt: ciphertext = plaintext + 16 */
#define HRE_HPKE_PSK_MIN 32      /* shortest pre-shared key accepted */
/** Longest info, psk, psk_id and exporter_context accepted (bytes). */
#define HRE_HPKE_INPUT_MAX 65536
/** Longest Export() output: 255 * Nh. */
#define HRE_HPKE_EXPORT_MAX 8160
/** @{ */
/** One-shot key wrap: enc (65) || AES-256-GCM(32-byte key) (32) || tag (16). */
#define HRE_HPKE_WRAP_KEY_LEN 32
#define HRE_HPKE_WRAP_LEN 113
/** @} */

/** HPKE modes (RFC 9180 section 5): base, PSK, auth and auth-PSK.  Since: 1.1 */
typedef enum hre_hpke_mode {
    HRE_HPKE_MODE_BASE = 0x00,  /**< mode_base */
    HRE_HPKE_MODE_PSK = 0x01,  /**< mode_psk */
    HRE_HPKE_MODE_AUTH = 0x02,  /**< mode_auth */
    HRE_HPKE_MODE_AUTH_PSK = 0x03  /**< mode_auth_psk */
} hre_hpke_mode;

/** An HPKE encryption context (RFC 9180 5.2): a sender context seals, a
 *  receiver context opens, both export. Opaque; its secrets are wiped when
 *  freed.  Since: 1.1 */
typedef struct hre_hpke_ctx hre_hpke_ctx;

/** Set up a sender context to pkR (Encap / AuthEncap and the key schedule).
 *  Out: *out: new context owned by the caller, freed with hre_hpke_free (NULL
 *       on failure). enc: the 65-byte encapsulated key, sent to the receiver
 *       (zeroed on failure).
 *  In: mode: one of hre_hpke_mode.
 *      pkR: the receiver's public key (P-256).
 *      skS: the sender's private key (P-256) for the auth modes; must be NULL
 *           for base and psk.
 *      info/infolen: application context bound into the keys (may be empty).
 *      psk/psklen, psk_id/psk_idlen: for the psk modes, a pre-shared key of at
 *           least HRE_HPKE_PSK_MIN bytes and a non-empty identifier; both
 *           NULL/0 for base and auth.
 *  Returns: HRE_OK; HRE_EINVAL (NULL out/enc/pkR, unknown mode, a sender key
 *           or psk given or missing against the mode, psk shorter than 32
 *           bytes, NULL pointer with nonzero length); HRE_EUNSUPPORTED (a key
 *           not on P-256); HRE_ELIMIT (info, psk or psk_id longer than
 *           HRE_HPKE_INPUT_MAX); HRE_ENOMEM; HRE_ECRYPTO.
 *  Since: 1.1 */
HRE_API int hre_hpke_setup_sender(hre_hpke_ctx **out, uint8_t enc[65], hre_hpke_mode mode,
                                  const hre_pubkey *pkR, const hre_key *skS,
                                  const uint8_t *info, size_t infolen,
                                  const uint8_t *psk, size_t psklen,
                                  const uint8_t *psk_id, size_t psk_idlen);

/** Set up a receiver context from enc (Decap / AuthDecap and the key schedule).
 *  Out: *out: new context owned by the caller (NULL on failure).
 *  In: mode, info, psk, psk_id: as the sender used them.
 *      skR: the receiver's private key (P-256).
 *      pkS: the sender's public key for the auth modes; NULL for base and psk.
 *      enc: the 65 bytes from hre_hpke_setup_sender.
 *  Returns: HRE_OK; HRE_EDECODE (enc is not an uncompressed P-256 point on
 *           the curve); HRE_EINVAL; HRE_EUNSUPPORTED; HRE_ELIMIT; HRE_ENOMEM;
 *           HRE_ECRYPTO. A wrong key, enc, info or psk is NOT detected here
 *           (HPKE has no key confirmation): the first hre_hpke_open fails.
 *  Since: 1.1 */
HRE_API int hre_hpke_setup_receiver(hre_hpke_ctx **out, hre_hpke_mode mode,
                                    const hre_key *skR, const hre_pubkey *pkS,
                                    const uint8_t enc[65],
                                    const uint8_t *info, size_t infolen,
                                    const uint8_t *psk, size_t psklen,
                                    const uint8_t *psk_id, size_t psk_idlen) HRE_WARN_UNUSED_RESULT;

/** Seal the next message (sequence number seq, then seq + 1).
 *  Out: ct: ptlen + 16 bytes (AES-256-GCM ciphertext || tag).
 *  In/Out: *ctlen: capacity of ct in, bytes written out (or needed, with
 *          HRE_EBUFSIZE; ct may then be NULL with *ctlen == 0).
 *  In: aad/aadlen (may be empty), pt/ptlen.
 *  Returns: HRE_OK; HRE_EBUFSIZE; HRE_EINVAL; HRE_ESTATE (a receiver
 *           context); HRE_ELIMIT (2^64 - 1 messages sealed: the sequence
 *           number would wrap, so the context refuses to seal again; or ptlen
 *           above the AES-GCM limit); HRE_ECRYPTO. On failure ct is zeroed
 *           and seq is unchanged.
 *  Since: 1.1 */
HRE_API int hre_hpke_seal(hre_hpke_ctx *ctx, uint8_t *ct, size_t *ctlen,
                          const uint8_t *aad, size_t aadlen,
                          const uint8_t *pt, size_t ptlen);

/** Open the next message (sequence number seq; seq + 1 after success).
 *  Out: pt: ctlen - 16 bytes.
 *  In/Out: *ptlen: capacity in, bytes written out (or needed, HRE_EBUFSIZE).
 *  Returns: HRE_OK; HRE_EDECRYPT (the tag does not verify: wrong key, info,
 *           psk, enc, aad, order or damaged ciphertext; pt zeroed, seq
 *           unchanged, the context stays usable); HRE_EDECODE (ctlen < 16);
 *           HRE_EBUFSIZE; HRE_EINVAL; HRE_ESTATE (a sender context);
 *           HRE_ELIMIT; HRE_ECRYPTO.
 *  Since: 1.1 */
HRE_API int hre_hpke_open(hre_hpke_ctx *ctx, uint8_t *pt, size_t *ptlen,
                          const uint8_t *aad, size_t aadlen,
                          const uint8_t *ct, size_t ctlen) HRE_WARN_UNUSED_RESULT;

/** Export a secret (RFC 9180 5.3): LabeledExpand(exporter_secret, "sec",
 *  exporter_context, outlen). Sender and receiver contexts give the same bytes.
 *  Out: out: outlen bytes, 1 <= outlen <= HRE_HPKE_EXPORT_MAX (wiped on failure).
 *  Returns: HRE_OK; HRE_EINVAL (NULL, outlen out of range); HRE_ELIMIT
 *           (exporter_context longer than HRE_HPKE_INPUT_MAX); HRE_ECRYPTO.
 *  Thread safety: reads ctx only; still one thread at a time per ctx.
 *  Since: 1.1 */
HRE_API int hre_hpke_export(const hre_hpke_ctx *ctx, uint8_t *out, size_t outlen,
                            const uint8_t *exporter_context, size_t exporter_contextlen);

/** Wipe and free a context. NULL is fine.  Since: 1.1 */
HRE_API void hre_hpke_free(hre_hpke_ctx *ctx);

/** DeriveKeyPair (RFC 9180 7.1.3) for DHKEM(P-256): a deterministic P-256
 *  key from input keying material (rejection sampling of LabeledExpand
 *  candidates, bitmask 0xff).
 *  Out: *out: new private key owned by the caller (NULL on failure).
 *  In: ikm/ikmlen: at least 32 bytes of secret, uniformly random material,
 *      at most HRE_HPKE_INPUT_MAX.
 *  Returns: HRE_OK; HRE_EINVAL (NULL, ikmlen < 32); HRE_ELIMIT (ikm too long);
 *           HRE_ECRYPTO (also the RFC's DeriveKeyPairError after 256
 *           candidates, probability about 2^-8192); HRE_ENOMEM.
 *  Since: 1.1 */
HRE_API int hre_hpke_derive_key(hre_key **out, const uint8_t *ikm, size_t ikmlen);

/** Wrap a 32-byte data key to a reader (base mode, one seal at sequence 0):
 *  out = enc (65) || ciphertext (32) || tag (16).
 *  Out: out: HRE_HPKE_WRAP_LEN bytes (zeroed on failure).
 *  In: pkR: the reader's P-256 encryption key. info: binds the wrap to its
 *      use (e.g. a document id); aad: authenticated, not encrypted (may be
 *      empty). key: the 32-byte data key.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED (pkR not P-256); HRE_ELIMIT
 *           (info longer than HRE_HPKE_INPUT_MAX); HRE_ENOMEM; HRE_ECRYPTO.
 *  Since: 1.1 */
HRE_API int hre_hpke_wrap(uint8_t out[113], const hre_pubkey *pkR,
                          const uint8_t *info, size_t infolen,
                          const uint8_t *aad, size_t aadlen,
                          const uint8_t key[32]);

/** Unwrap a data key wrapped with hre_hpke_wrap.
 *  Out: key: 32 bytes (zeroed on failure).
 *  In: skR: the reader's private key; info, aad: as given to the wrap;
 *      wrap: HRE_HPKE_WRAP_LEN bytes.
 *  Returns: HRE_OK; HRE_EDECRYPT (wrong key, info or aad, or a damaged
 *           wrap); HRE_EDECODE (enc is not a valid P-256 point); HRE_EINVAL;
 *           HRE_EUNSUPPORTED; HRE_ELIMIT; HRE_ENOMEM; HRE_ECRYPTO.
 *  Since: 1.1 */
HRE_API int hre_hpke_unwrap(uint8_t key[32], const hre_key *skR,
                            const uint8_t *info, size_t infolen,
                            const uint8_t *aad, size_t aadlen,
                            const uint8_t wrap[113]) HRE_WARN_UNUSED_RESULT;

/** As hre_hpke_wrap in auth mode: the wrap also proves that the holder of skS
 *  made it (to the reader, who checks it against pkS; not to third parties).
 *  Same wire form and return codes; skS must be a P-256 key.
 *  Since: 1.1 */
HRE_API int hre_hpke_wrap_auth(uint8_t out[113], const hre_pubkey *pkR, const hre_key *skS,
                               const uint8_t *info, size_t infolen,
                               const uint8_t *aad, size_t aadlen,
                               const uint8_t key[32]);

/** Unwrap an auth-mode wrap; HRE_EDECRYPT also when pkS is not the key that
 *  made it.  Since: 1.1 */
HRE_API int hre_hpke_unwrap_auth(uint8_t key[32], const hre_key *skR, const hre_pubkey *pkS,
                                 const uint8_t *info, size_t infolen,
                                 const uint8_t *aad, size_t aadlen,
                                 const uint8_t wrap[113]) HRE_WARN_UNUSED_RESULT;

HRE_END_DECLS

#endif /* HRE_HPKE_H */
