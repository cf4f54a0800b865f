/* Fuzz the block decoder. Input: one byte selecting tight limits, then the
 * block encoding. Invariants: a decoded block re-encodes byte-exactly with the
 * same size, respects its caps, contains no 64-byte transaction; the same
 * input under a cap one below what it uses fails with HRE_ELIMIT; the Merkle
 * check returns only OK or VERIFY. abort() on any violation. */
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre_block_limits lim = HRE_BLOCK_LIMITS_INIT;
    hre_block *b = NULL, *d = NULL;
    uint8_t *enc;
    size_t len, n;
    int rc;

    if (size == 0) return 0;
    if (data[0] & 1) {
        lim.max_tx_count = (uint64_t)(data[0] >> 1);   /* 0..127 */
        lim.max_block_size = 81 + (uint64_t)data[0] * 8;
    }
    data++;
    size--;
    rc = hre_block_decode(&b, data, size, &lim);
    if (rc != HRE_OK) {
        if (b != NULL) abort();
        if (rc != HRE_EDECODE && rc != HRE_ELIMIT) abort();
        return 0;
    }
    if (hre_block_size(b) != size) abort();
    n = hre_block_tx_count(b);
    if (n > lim.max_tx_count) abort();
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p;
        size_t l;
        if (hre_block_tx(b, &p, &l, i) != HRE_OK || l == 64 || (l && !p)) abort();
    }
    enc = malloc(size);
    if (!enc) abort();
    len = size;
    if (hre_block_encode(b, enc, &len) != HRE_OK || len != size || memcmp(enc, data, size) != 0) abort();
    free(enc);
    rc = hre_block_check_merkle(b);
    if (rc != HRE_OK && rc != HRE_EVERIFY) abort();
    /* tighter caps must reject it */
    if (size > 81) {
        hre_block_limits tight = lim;
        tight.max_block_size = size - 1;
        if (hre_block_decode(&d, data, size, &tight) != HRE_ELIMIT || d) abort();
    }
    if (n > 0) {
        hre_block_limits tight = lim;
        tight.max_tx_count = n - 1;
        if (hre_block_decode(&d, data, size, &tight) != HRE_ELIMIT || d) abort();
    }
    hre_block_free(b);
    return 0;
}
