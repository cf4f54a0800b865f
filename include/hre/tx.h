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
#include "pool.h"

HRE_BEGIN_DECLS

/** Transaction encoding version written by this library. */
#define HRE_TX_VERSION 1
/** Largest payload of a transaction in bytes. */
#define HRE_TX_MAX_PAYLOAD 65536
/** Fixed bytes of an encoding besides the payload and its length prefix. */
#define HRE_TX_FIXED_LEN (1 + 32 + 2 + 34 + 8 + 8 + 64)
/** Largest encoded transaction in bytes. */
#define HRE_TX_MAX_LEN (HRE_TX_FIXED_LEN + 5 + HRE_TX_MAX_PAYLOAD)
/** @{ */
/** Domain-separation tag that starts the signing preimage: the 9 ASCII bytes
 * "HRE/tx/v1" followed by one NUL byte, HRE_TX_SIGHASH_TAG_LEN (10) bytes in
 * all (hex 4852452f74782f763100). sizeof(HRE_TX_SIGHASH_TAG) == 10. */
#define HRE_TX_SIGHASH_TAG "HRE/tx/v1"
#define HRE_TX_SIGHASH_TAG_LEN 10
/** @} */

/** A transaction. Opaque; its fields are immutable once signed or decoded,
 *  so a decoded transaction may be read (and verified) from several threads
 *  at once. Besides the fields it remembers whether its signature has been
 *  checked: hre_tx_verify (success) and hre_tx_sign set that mark, a freshly
 *  decoded transaction does not have it, and hre_contract_apply refuses a
 *  transaction without it (see hre_tx_verified). */
typedef struct hre_tx hre_tx;

/** Create an unsigned transaction (version HRE_TX_VERSION). The payload is copied.
 *  Out: *out: new transaction owned by the caller, free with hre_tx_free
 *       (NULL on failure).
 *  In:  network_id, kind, nonce, timestamp, payload/payload_len.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ELIMIT (payload too long); HRE_ENOMEM.
 *  Since: 1.0 */
HRE_API int hre_tx_new(hre_tx **out, const uint8_t network_id[32], uint16_t kind,
                       uint64_t nonce, uint64_t timestamp,
                       const uint8_t *payload, size_t payload_len);

/** Set the sender to key's public key and sign. May be called again to re-sign.
 *  The sighash and txid are computed here once and cached in tx. On failure
 *  tx is left exactly as it was. A transaction signed here is marked verified
 *  (the library just produced a valid signature for the sender it set).
 *  Args: tx (self); key: the signing key.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOMEM; HRE_ECRYPTO.
 *  Thread safety: mutates tx.  Since: 1.0 */
HRE_API int hre_tx_sign(hre_tx *tx, const hre_key *key);

/** Free a transaction; NULL is fine.  Since: 1.0 */
HRE_API void hre_tx_free(hre_tx *tx);

/** Encode a signed transaction.
 *  Args: tx (self).
 *  Out: out: the encoding (may be NULL with *outlen == 0 to ask the size).
 *  In/Out: *outlen: capacity in; bytes written (or needed, with HRE_EBUFSIZE) out.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ESTATE (not signed); HRE_EBUFSIZE.
 *  Since: 1.0 */
HRE_API int hre_tx_encode(const hre_tx *tx, uint8_t *out, size_t *outlen);

/** Strictly decode a transaction: unknown version, bad curve id, invalid point,
 *  non-minimal length, oversize payload, out-of-range or high-S signature and
 *  trailing bytes are all rejected with HRE_EDECODE (or HRE_ELIMIT for size)
 *  and a specific detail message. The signature itself is NOT verified here,
 *  so the new transaction is not marked verified (hre_tx_verify does that).
 *  The sender point is validated with the key layer (hre_pubkey_parse_wire).
 *  The sighash and txid are computed once here and cached in the transaction.
 *  Out: *out: new transaction owned by the caller (NULL on failure).
 *  In:  in/len: the encoding.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EDECODE; HRE_ELIMIT; HRE_ENOMEM.
 *  Thread safety: safe; the input is only read.
 *  Since: 1.0 */
HRE_API int hre_tx_decode(hre_tx **out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;

/** As hre_tx_decode, but the sender point is validated through cache (one
 *  hre_keycache_get per call: a warm cache means no key parsing). cache may
 *  be NULL, which is exactly hre_tx_decode.
 *  Out: *out. In/Out: cache (may be NULL). In: in/len.
 *  Returns: as hre_tx_decode; HRE_ENOMEM.
 *  Thread safety: safe for a shared cache.  Since: 1.0 */
HRE_API int hre_tx_decode_cached(hre_tx **out, hre_keycache *cache, const uint8_t *in,
                                 size_t len) HRE_WARN_UNUSED_RESULT;

/** Stateless verification: the network id matches, and the signature is valid
 *  for the sender key. On HRE_OK the transaction is marked verified (an
 *  atomic store; hre_tx_verified, hre_contract_apply), which is why tx is not
 *  const. The mark covers the transaction's own network id, the only one
 *  this call accepts. cache may be NULL (the key is then parsed each call).
 *  With a cache, exactly one hre_keycache_get per call that passes the
 *  network check (a warm cache means no key parsing).
 *  Args: tx (self).
 *  In/Out: cache (may be NULL).
 *  In:  network_id: the network the caller expects.
 *  Returns: HRE_OK; HRE_EVERIFY (bad signature or other network); HRE_ESTATE
 *           (unsigned); HRE_EINVAL; HRE_ENOMEM / HRE_ECRYPTO (resources or the
 *           provider failed: no verdict). Compare with HRE_OK explicitly.
 *  Thread safety: safe for a shared tx and cache (concurrent verifications of
 *  one tx are fine).  Since: 1.0 */
HRE_API int hre_tx_verify(hre_tx *tx, hre_keycache *cache,
                          const uint8_t network_id[32]) HRE_WARN_UNUSED_RESULT;

/** Has tx passed hre_tx_verify, or been signed by hre_tx_sign?
 *  Returns: 1 if so, 0 if not (also for NULL). An atomic load.
 *  Thread safety: safe from any thread.  Since: 1.0 */
HRE_API int hre_tx_verified(const hre_tx *tx) HRE_WARN_UNUSED_RESULT;

/** Verify n transactions on a worker pool: results[i] receives
 *  hre_tx_verify's result for txs[i] (a NULL txs[i] gives HRE_EINVAL there),
 *  and each one that passes is marked verified. The calling thread takes
 *  part; transactions are handed out one at a time from an atomic counter,
 *  so slow and fast items balance. pool NULL (or a pool of 0 threads) runs
 *  everything on the calling thread.
 *  Out: results: n ints.
 *  In/Out: cache (may be NULL); pool (may be NULL).
 *  In:  txs/n: the transactions; network_id.
 *  Returns: HRE_OK if all verified; HRE_EVERIFY if any failed (see results;
 *           the detail names the first); HRE_EINVAL (NULL results, txs or
 *           network_id).
 *  Thread safety: safe for a shared cache and pool; txs must not be
 *  re-signed meanwhile.  Since: 1.0 */
HRE_API int hre_tx_verify_batch(int *results, hre_keycache *cache, hre_pool *pool,
                                hre_tx *const *txs, size_t n,
                                const uint8_t network_id[32]) HRE_WARN_UNUSED_RESULT;

/** The txid: sha256d of the full encoding (internal byte order).
 *  Args: tx (self). Out: out: 32 bytes (zeroed on failure).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ESTATE (not signed).  Since: 1.0 */
HRE_API int hre_tx_txid(const hre_tx *tx, uint8_t out[32]);

/** The digest the signature covers (sha256d of tag || unsigned fields).
 *  Args: tx (self). Out: out: 32 bytes (zeroed on failure).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ESTATE (sender not set).  Since: 1.0 */
HRE_API int hre_tx_sighash(const hre_tx *tx, uint8_t out[32]);

/** @{ */
/** Accessors. Pointers returned are borrowed and live as long as tx (and,
 *  for the sender and signature, until it is re-signed). A NULL tx gives 0
 *  or NULL.  Since: 1.0 */
HRE_API uint8_t hre_tx_version(const hre_tx *tx);
HRE_API uint16_t hre_tx_kind(const hre_tx *tx);
HRE_API uint64_t hre_tx_nonce(const hre_tx *tx);
HRE_API uint64_t hre_tx_timestamp(const hre_tx *tx);
HRE_API const uint8_t *hre_tx_network_id(const hre_tx *tx);      /* 32 bytes */
HRE_API const uint8_t *hre_tx_sender(const hre_tx *tx);          /* 34 bytes, or NULL if unsigned */
HRE_API const uint8_t *hre_tx_signature(const hre_tx *tx);       /* 64 bytes, or NULL if unsigned */
HRE_API const uint8_t *hre_tx_payload(const hre_tx *tx, size_t *len);
/** @} */

HRE_END_DECLS

#endif /* HRE_TX_H */
