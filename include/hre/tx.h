/*
 * libhre transactions (layer 3): the signed envelope every ledger action
 * travels in. The payload is opaque at this layer; the record contract
 * (contract.h) defines the kinds and their payloads.
 *
 * Wire format (version 1), all integers little-endian; see docs/PROTOCOL.md:
 *   u8  version            = 1
 *   32  network_id         (the genesis block hash of the network)
 *   u16 kind
 *   34  sender             (curve id || SEC1 compressed point)
 *   u64 nonce              (per-sender, replay protection)
 *   u64 timestamp          (seconds since the Unix epoch)
 *   CompactSize payload_len (<= HRE_TX_MAX_PAYLOAD), payload bytes
 *   64  signature          (r || s, low S) over
 *                          sha256d(HRE_TX_SIGHASH_TAG || every byte above)
 * txid = sha256d(full encoding).
 */
#ifndef HRE_TX_H
#define HRE_TX_H

#include "common.h"
#include "key.h"

HRE_BEGIN_DECLS

#define HRE_TX_VERSION 1
#define HRE_TX_MAX_PAYLOAD 65536
/* Fixed bytes of an encoding besides the payload and its length prefix. */
#define HRE_TX_FIXED_LEN (1 + 32 + 2 + 34 + 8 + 8 + 64)
#define HRE_TX_MAX_LEN (HRE_TX_FIXED_LEN + 5 + HRE_TX_MAX_PAYLOAD)
/* Domain-separation tag that starts the signing preimage: the 9 ASCII bytes
 * "HRE/tx/v1" followed by one NUL byte, HRE_TX_SIGHASH_TAG_LEN (10) bytes in
 * all (hex 4852452f74782f763100). sizeof(HRE_TX_SIGHASH_TAG) == 10. */
#define HRE_TX_SIGHASH_TAG "HRE/tx/v1"
#define HRE_TX_SIGHASH_TAG_LEN 10

/** A transaction. Opaque; immutable once signed or decoded, so a decoded
 *  transaction may be read (and verified) from several threads at once. */
typedef struct hre_tx hre_tx;

/** Create an unsigned transaction (version HRE_TX_VERSION). The payload is copied.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ELIMIT (payload too long); HRE_ENOMEM.
 *  Since: 1.0 */
HRE_API int hre_tx_new(hre_tx **out, const uint8_t network_id[32], uint16_t kind,
                       uint64_t nonce, uint64_t timestamp,
                       const uint8_t *payload, size_t payload_len);

/** Set the sender to key's public key and sign. May be called again to re-sign.
 *  The sighash and txid are computed here once and cached in tx. On failure
 *  tx is left exactly as it was.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOMEM; HRE_ECRYPTO.
 *  Thread safety: mutates tx.  Since: 1.0 */
HRE_API int hre_tx_sign(hre_tx *tx, const hre_key *key);

/** Free a transaction; NULL is fine.  Since: 1.0 */
HRE_API void hre_tx_free(hre_tx *tx);

/** Encode a signed transaction.
 *  In/Out: *outlen: capacity in; bytes written (or needed, with HRE_EBUFSIZE) out.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ESTATE (not signed); HRE_EBUFSIZE.
 *  Since: 1.0 */
HRE_API int hre_tx_encode(uint8_t *out, size_t *outlen, const hre_tx *tx);

/** Strictly decode a transaction: unknown version, bad curve id, invalid point,
 *  non-minimal length, oversize payload, out-of-range or high-S signature and
 *  trailing bytes are all rejected with HRE_EDECODE (or HRE_ELIMIT for size)
 *  and a specific detail message. The signature itself is NOT verified here.
 *  The sender point is validated with the key layer (hre_pubkey_parse_wire). The
 *  sighash and txid are computed once here and cached in the transaction.
 *  Out: *out: new transaction owned by the caller (NULL on failure).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EDECODE; HRE_ELIMIT; HRE_ENOMEM.
 *  Thread safety: safe; the input is only read.
 *  Since: 1.0 */
HRE_API int hre_tx_decode(hre_tx **out, const uint8_t *in, size_t len);

/** As hre_tx_decode, but the sender point is validated through cache (one
 *  hre_keycache_get per call: a warm cache means no key parsing). cache may
 *  be NULL, which is exactly hre_tx_decode.
 *  Returns: as hre_tx_decode; HRE_ENOMEM.
 *  Thread safety: safe for a shared cache.  Since: 1.0 */
HRE_API int hre_tx_decode_cached(hre_tx **out, const uint8_t *in, size_t len,
                                 hre_keycache *cache);

/** Stateless verification: the network id matches, and the signature is valid
 *  for the sender key. cache may be NULL (the key is then parsed each call).
 *  With a cache, exactly one hre_keycache_get per call that passes the
 *  network check (a warm cache means no key parsing).
 *  Returns: HRE_OK; HRE_EVERIFY (bad signature or other network); HRE_ESTATE
 *           (unsigned); HRE_EINVAL; HRE_ENOMEM / HRE_ECRYPTO (resources or the
 *           provider failed: no verdict).
 *  Thread safety: safe for a shared tx and cache.  Since: 1.0 */
HRE_API int hre_tx_verify(const hre_tx *tx, const uint8_t network_id[32], hre_keycache *cache);

/** Verify n transactions, spreading them over `threads` worker threads
 *  (0 = only the calling thread). results[i] receives hre_tx_verify's result
 *  for txs[i] (a NULL txs[i] gives HRE_EINVAL there). At most
 *  min(threads, n, 256) workers are started; the calling thread waits for
 *  them. Work is handed out one transaction at a time from a shared atomic
 *  counter, so slow and fast items balance; the batch keeps no global state.
 *  Returns: HRE_OK if all verified; HRE_EVERIFY if any failed (see results);
 *           HRE_EINVAL; HRE_ENOMEM (could not start workers; nothing verified,
 *           every results[i] = HRE_ENOMEM).
 *  Thread safety: safe for a shared cache; txs must not be re-signed meanwhile.
 *  Since: 1.0 */
HRE_API int hre_tx_verify_batch(int *results, const hre_tx *const *txs, size_t n,
                                const uint8_t network_id[32], hre_keycache *cache,
                                unsigned threads);

/** The txid: sha256d of the full encoding (internal byte order).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ESTATE (not signed).  Since: 1.0 */
HRE_API int hre_tx_txid(uint8_t out[32], const hre_tx *tx);

/** The digest the signature covers (sha256d of tag || unsigned fields).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ESTATE (sender not set).  Since: 1.0 */
HRE_API int hre_tx_sighash(uint8_t out[32], const hre_tx *tx);

/** Accessors. Pointers returned are borrowed and live as long as tx.
 *  Since: 1.0 */
HRE_API uint8_t hre_tx_version(const hre_tx *tx);
HRE_API uint16_t hre_tx_kind(const hre_tx *tx);
HRE_API uint64_t hre_tx_nonce(const hre_tx *tx);
HRE_API uint64_t hre_tx_timestamp(const hre_tx *tx);
HRE_API const uint8_t *hre_tx_network_id(const hre_tx *tx);      /* 32 bytes */
HRE_API const uint8_t *hre_tx_sender(const hre_tx *tx);          /* 34 bytes, or NULL if unsigned */
HRE_API const uint8_t *hre_tx_signature(const hre_tx *tx);       /* 64 bytes, or NULL if unsigned */
HRE_API const uint8_t *hre_tx_payload(const hre_tx *tx, size_t *len);

HRE_END_DECLS

#endif /* HRE_TX_H */
