/*
 * Internal (non-exported) helpers of the transaction layer (layer 3).
 * Names follow hre_tx__<name>; never part of the ABI.
 */
#ifndef HRE_TX_INTERNAL_H
#define HRE_TX_INTERNAL_H

#include "core/internal.h"
#include "hre/tx.h"

/* Largest encoding of the fields before the payload bytes: version, network
 * id, kind, sender, nonce, timestamp and a CompactSize of at most 9 bytes. */
#define HRE_TX__HEADER_MAX (1 + 32 + 2 + HRE_PUBKEY_ENCODED_LEN + 8 + 8 + 9)

/* The in-memory transaction. One allocation: the payload follows the struct.
 * Once `is_signed` is set (by hre_tx_sign or hre_tx_decode) the fields and
 * the cached digests never change until the next hre_tx_sign, so readers on
 * several threads see a consistent, immutable object. `verified` is the one
 * field written afterwards (atomically, 0 -> 1 by hre_tx_verify): verify
 * accepts only tx->network_id, so the mark always means "verified for its
 * own network". */
struct hre_tx {
    uint8_t version;
    uint16_t kind;
    uint8_t network_id[32];
    uint64_t nonce;
    uint64_t timestamp;
    uint8_t sender[HRE_PUBKEY_ENCODED_LEN]; /* valid when is_signed */
    uint8_t sig[HRE_SIG_LEN];               /* valid when is_signed */
    uint8_t sighash[32];                    /* cached; valid when is_signed */
    uint8_t txid[32];                       /* cached; valid when is_signed */
    int is_signed;
    atomic_int verified;                    /* 1: hre_tx_verify passed or hre_tx_sign made it */
    size_t payload_len;
    uint8_t payload[];                      /* payload_len bytes */
};

/* Serialize version .. payload length prefix (not the payload bytes) into
 * buf (HRE_TX__HEADER_MAX bytes). Returns the number of bytes written. */
size_t hre_tx__header(uint8_t buf[HRE_TX__HEADER_MAX], const struct hre_tx *tx,
                      const uint8_t sender[HRE_PUBKEY_ENCODED_LEN]);

/* Compute the signing digest for tx with the given sender into sighash and,
 * if sig and txid are non-NULL, the txid of the full encoding with that sig.
 * Returns HRE_OK, HRE_ENOMEM or HRE_ECRYPTO (outputs zeroed on failure). */
int hre_tx__digests(uint8_t sighash[32], uint8_t *txid, const struct hre_tx *tx,
                    const uint8_t sender[HRE_PUBKEY_ENCODED_LEN], const uint8_t *sig);

#endif /* HRE_TX_INTERNAL_H */
