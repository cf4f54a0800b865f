/* Fuzz the ledger's on-disk block record decoder (lib/ledger/blockrec.c),
 * including the zlib path (decompression is capped at the declared body
 * length, itself capped by the block size limit). Input: one byte selecting
 * tight limits, then the record payload. Invariants (abort() on violation):
 * - decode fails only with EDECODE / ELIMIT / ENOMEM and leaves *out NULL;
 * - peek agrees with decode on the header and tx count;
 * - a decoded record re-encodes uncompressed (level -1) and, when the input
 *   was stored uncompressed, byte-exactly equal to the input;
 * - re-encoding with zlib (level 6) decodes back to the same block. */
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>
#include "core/internal.h"
#include "ledger/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *enc_block(const hre_block *b, size_t *len)
{
    uint8_t *p;
    *len = 0;
    (void)hre_block_encode(b, NULL, len);
    p = malloc(*len ? *len : 1);
    if (!p || hre_block_encode(b, p, len) != HRE_OK) abort();
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre_block_limits lim = HRE_BLOCK_LIMITS_INIT;
    hre_block *b = NULL, *c = NULL;
    hre_header h;
    uint32_t txc = 0;
    uint8_t *rec = NULL, *e1, *e2;
    size_t rlen = 0, l1, l2;
    int rc;

    if (size == 0) return 0;
    if (data[0] & 1) {
        lim.max_tx_count = (uint64_t)(data[0] >> 1);
        lim.max_block_size = 81 + (uint64_t)data[0] * 16;
    }
    data++;
    size--;
    rc = hre_ledger__record_decode(&b, data, size, &lim);
    if (rc != HRE_OK) {
        if (b) abort();
        if (rc != HRE_EDECODE && rc != HRE_ELIMIT && rc != HRE_ENOMEM) abort();
        return 0;
    }
    if (hre_ledger__record_peek(data, size, &h, &txc) != HRE_OK) abort();
    if (memcmp(&h, hre_block_header(b), sizeof h) != 0 || txc != hre_block_tx_count(b)) abort();
    if (hre_block_size(b) > lim.max_block_size) abort();
    /* uncompressed re-encoding */
    if (hre_ledger__record_encode(&rec, &rlen, b, -1) != HRE_OK) abort();
    if (rec[1] != 0) abort();
    if ((data[1] & HRE_LEDGER__REC_ZLIB) == 0 && (rlen != size || memcmp(rec, data, size) != 0))
        abort();
    hre__free(rec);
    /* compressed re-encoding round-trips */
    if (hre_ledger__record_encode(&rec, &rlen, b, 6) != HRE_OK) abort();
    if (hre_ledger__record_decode(&c, rec, rlen, &lim) != HRE_OK) abort();
    e1 = enc_block(b, &l1);
    e2 = enc_block(c, &l2);
    if (l1 != l2 || memcmp(e1, e2, l1) != 0) abort();
    free(e1);
    free(e2);
    hre__free(rec);
    hre_block_free(b);
    hre_block_free(c);
    return 0;
}
