/* Fuzz the ledger's block-index entry decoder (lib/ledger/blockrec.c).
 * Input: the entry payload (its frame is fuzzed by fuzz_storage_record).
 * Invariants (abort() on violation): decode fails only with EDECODE / ELIMIT
 * and zeroes the entry; a decoded entry respects its caps and re-encodes
 * byte-exactly. */
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>
#include "core/internal.h"
#include "ledger/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre_ledger__index_entry e, zero;
    uint8_t out[HRE_LEDGER__IDX_LEN];
    const uint32_t max_rec = 1000000 + HRE_LEDGER__REC_FIXED;
    int rc = hre_ledger__index_decode(&e, data, size, max_rec);
    memset(&zero, 0, sizeof zero);
    if (rc != HRE_OK) {
        if (rc != HRE_EDECODE && rc != HRE_ELIMIT) abort();
        if (memcmp(&e, &zero, sizeof e) != 0) abort();
        return 0;
    }
    if (size != HRE_LEDGER__IDX_LEN) abort();
    if (e.rec_len < HRE_LEDGER__REC_FIXED || e.rec_len > max_rec) abort();
    hre_ledger__index_encode(out, &e);
    if (memcmp(out, data, size) != 0) abort();
    return 0;
}
