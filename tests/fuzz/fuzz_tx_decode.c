/*
 * Fuzz target: hre_tx_decode on hostile bytes.
 * Invariants (abort() on violation):
 *  - a rejected input yields HRE_EDECODE, HRE_ELIMIT or HRE_ENOMEM, a NULL
 *    transaction and a non-empty detail message;
 *  - an accepted input re-encodes byte-exactly, its txid is sha256d(input),
 *    its sighash is sha256d(tag || input without the signature), the
 *    accessors point at the right bytes, verification against its own
 *    network gives HRE_OK or HRE_EVERIFY, and the cached decoder agrees.
 * Seeds: tests/fuzz/corpus/tx_decode/ (written by the "tx" Check suite's
 * test_corpus_seeds with HRE_TX_CORPUS_DIR set).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>

#include "core/internal.h"   /* hre__compact_size_len */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(hre_tx *tx, const uint8_t *data, size_t size)
{
    uint8_t *buf, h[32], want[32], *pre;
    size_t len = size, plen = 0;
    const uint8_t *payload;
    hre_keycache *cache = NULL;
    hre_tx *again = NULL;
    int rc;

    if (size < HRE_TX_FIXED_LEN + 1 || size > HRE_TX_MAX_LEN) abort();
    buf = malloc(size);
    if (!buf) abort();
    if (hre_tx_encode(tx, buf, &len) != HRE_OK || len != size || memcmp(buf, data, size) != 0) abort();
    free(buf);

    if (hre_tx_txid(tx, h) != HRE_OK || hre_sha256d(want, data, size) != HRE_OK) abort();
    if (memcmp(h, want, 32) != 0) abort();
    pre = malloc(HRE_TX_SIGHASH_TAG_LEN + size);
    if (!pre) abort();
    memcpy(pre, HRE_TX_SIGHASH_TAG, HRE_TX_SIGHASH_TAG_LEN);
    memcpy(pre + HRE_TX_SIGHASH_TAG_LEN, data, size - HRE_SIG_LEN);
    if (hre_sha256d(want, pre, HRE_TX_SIGHASH_TAG_LEN + size - HRE_SIG_LEN) != HRE_OK) abort();
    free(pre);
    if (hre_tx_sighash(tx, h) != HRE_OK || memcmp(h, want, 32) != 0) abort();

    if (hre_tx_version(tx) != data[0]) abort();
    if (memcmp(hre_tx_network_id(tx), data + 1, 32) != 0) abort();
    if (memcmp(hre_tx_sender(tx), data + 35, HRE_PUBKEY_ENCODED_LEN) != 0) abort();
    if (memcmp(hre_tx_signature(tx), data + size - HRE_SIG_LEN, HRE_SIG_LEN) != 0) abort();
    payload = hre_tx_payload(tx, &plen);
    if (plen > HRE_TX_MAX_PAYLOAD || size != HRE_TX_FIXED_LEN + hre__compact_size_len(plen) + plen) abort();
    if (plen && memcmp(payload, data + size - HRE_SIG_LEN - plen, plen) != 0) abort();

    rc = hre_tx_verify(tx, NULL, hre_tx_network_id(tx));
    if (rc != HRE_OK && rc != HRE_EVERIFY && rc != HRE_ENOMEM) abort();

    if (hre_keycache_new(&cache, 2) != HRE_OK) abort();
    rc = hre_tx_decode_cached(&again, cache, data, size);
    if (rc != HRE_OK && rc != HRE_ENOMEM) abort();
    if (rc == HRE_OK) {
        int rc2 = hre_tx_verify(again, cache, hre_tx_network_id(again));
        if (hre_tx_txid(again, h) != HRE_OK || hre_sha256d(want, data, size) != HRE_OK) abort();
        if (memcmp(h, want, 32) != 0) abort();
        hre_tx_free(again);
        (void)rc2;
    }
    hre_keycache_free(cache);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre_tx *tx = (hre_tx *)&size;
    int rc = hre_tx_decode(&tx, data, size);
    if (rc != HRE_OK) {
        if (tx != NULL) abort();
        if (rc != HRE_EDECODE && rc != HRE_ELIMIT && rc != HRE_ENOMEM) abort();
        if (hre_error_detail()[0] == '\0') abort();
        return 0;
    }
    if (!tx) abort();
    check_accepted(tx, data, size);
    hre_tx_free(tx);
    return 0;
}
