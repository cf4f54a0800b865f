/*
 * Internal vault (layer 7) definitions shared by the lib/vault sources and the
 * white-box tests. Never installed; names are hre_vault__*. Byte formats are
 * normative in docs/PROTOCOL.md section 12.
 */
#ifndef HRE_VAULT_INTERNAL_H
#define HRE_VAULT_INTERNAL_H

#include "core/internal.h"
#include "hre/vault.h"

/* Magics of the envelope header and the wrap record. */
#define HRE_VAULT__MAGIC "HREV"
#define HRE_VAULT__WRAP_MAGIC "HREW"
/* Wrap format version (byte 4 of a wrap). */
#define HRE_VAULT__WRAP_FORMAT 1
/* Bytes of the per-chunk length prefix and of the GCM tag. */
#define HRE_VAULT__LEN_PREFIX 4
#define HRE_VAULT__TAG 16
/* Smallest final chunk on the wire: the length prefix and the tag. */
#define HRE_VAULT__MIN_FINAL_WIRE (HRE_VAULT__LEN_PREFIX + HRE_VAULT__TAG)
/* Payload meta: body format byte + media type length byte. */
#define HRE_VAULT__BODY_RAW 0
#define HRE_VAULT__BODY_ZLIB 1

/* HKDF labels (PROTOCOL.md 12.2). */
#define HRE_VAULT__SALT "HRE-VAULT-v1"
#define HRE_VAULT__INFO_CHUNK "chunk key"
#define HRE_VAULT__INFO_COMMIT "key commitment"
/* HPKE info prefix of a wrap (PROTOCOL.md 12.4). */
#define HRE_VAULT__WRAP_INFO "HRE-VAULT-v1 wrap"
#define HRE_VAULT__WRAP_INFO_LEN (17 + 32 + 4 + 1 + 32)

/* Padme rounding without the floor (0 and 1 map to themselves). */
uint64_t hre_vault__padme(uint64_t len);

/* Derive the chunk key and the key commitment from a data key. HRE_OK or
 * HRE_ECRYPTO (both outputs wiped). */
int hre_vault__derive(uint8_t chunk_key[32], uint8_t commit[32], const uint8_t data_key[32]);

/* The HPKE info of a wrap for (locator, version, reader). */
void hre_vault__wrap_info(uint8_t info[HRE_VAULT__WRAP_INFO_LEN], const uint8_t locator[32],
                          uint32_t doc_version, uint8_t reader_type, const uint8_t reader_id[32]);

/* Chunk nonce and AAD (PROTOCOL.md 12.3). */
#define HRE_VAULT__AAD_LEN (HRE_VAULT_HEADER_LEN + 4 + 1)
void hre_vault__chunk_nonce(uint8_t nonce[12], const uint8_t prefix[HRE_VAULT_NONCE_PREFIX_LEN],
                            uint32_t index, int final);

/* Header and wrap codecs without the API scope (internal callers). */
int hre_vault__header_decode(hre_vault_header *out, const uint8_t *in, size_t len);
void hre_vault__header_put(uint8_t out[HRE_VAULT_HEADER_LEN], const hre_vault_header *h);
int hre_vault__wrap_decode(hre_vault_wrap *out, const uint8_t *in, size_t len);
int hre_vault__wrap_check(const hre_vault_wrap *w);
void hre_vault__wrap_put(uint8_t out[HRE_VAULT_WRAP_LEN], const hre_vault_wrap *w);

#endif /* HRE_VAULT_INTERNAL_H */
