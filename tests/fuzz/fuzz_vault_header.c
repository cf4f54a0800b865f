/*
 * Fuzz target: the vault envelope header decoder (hre_vault_header_decode,
 * PROTOCOL.md 14.2).
 * Invariants (abort on violation): only HRE_OK, HRE_EDECODE or
 * HRE_EUNSUPPORTED; OK only for exactly 82 bytes, and then the header
 * encodes back to the same bytes; on failure the output is all zero.
 * Seeds: corpus/vault_header/ (written by gen_vault_seeds, see
 * fuzz_vault_chunk.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hre/errors.h"
#include "hre/vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre_vault_header h;
    uint8_t back[HRE_VAULT_HEADER_LEN];
    size_t len = sizeof back;
    int rc = hre_vault_header_decode(&h, data, size);
    if (rc == HRE_OK) {
        if (size != HRE_VAULT_HEADER_LEN) abort();
        if (hre_vault_header_encode(&h, back, &len) != HRE_OK || len != size) abort();
        if (memcmp(back, data, size) != 0) abort();
        if (h.doc_version == 0 || h.format != HRE_VAULT_FORMAT || h.flags != 0) abort();
    } else {
        const uint8_t *p = (const uint8_t *)&h;
        if (rc != HRE_EDECODE && rc != HRE_EUNSUPPORTED && !(rc == HRE_EINVAL && !data)) abort();
        for (size_t i = 0; i < sizeof h; i++)
            if (p[i]) abort();
    }
    return 0;
}
