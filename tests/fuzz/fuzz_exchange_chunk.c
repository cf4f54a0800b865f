/*
 * Fuzz target: the answer decoders a reader runs on bytes from a holder:
 * chunk, header and refusal (hre_vault_xch_chunk_decode, _header_decode,
 * _refusal_decode; PROTOCOL.md 15.3-15.5).
 * Invariants (abort on violation): each decoder gives HRE_OK, HRE_EDECODE
 * or HRE_EUNSUPPORTED, with a zeroed struct on failure; at most one of the
 * three accepts an input (the type byte differs); a decoded message
 * encodes back to the input; a decoded chunk's data points into the input
 * at byte 30 and covers the rest of it.
 * Seeds: corpus/exchange_chunk/ (generator: fuzz_exchange_request.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hre/errors.h"
#include "hre/vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void zero_or_die(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) abort();
}

static int ok_code(int rc, const uint8_t *data)
{
    return rc == HRE_OK || rc == HRE_EDECODE || rc == HRE_EUNSUPPORTED || (rc == HRE_EINVAL && !data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre_vault_xch_chunk c;
    hre_vault_xch_header h;
    hre_vault_xch_refusal r;
    static uint8_t back[HRE_NODE_APP_MESSAGE_LIMIT];
    size_t len;
    int accepted = 0, rc;

    rc = hre_vault_xch_chunk_decode(&c, data, size);
    if (!ok_code(rc, data)) abort();
    if (rc == HRE_OK) {
        accepted++;
        if (c.data != data + HRE_VAULT_XCH_CHUNK_OVERHEAD || c.len != size - HRE_VAULT_XCH_CHUNK_OVERHEAD)
            abort();
        len = sizeof back;
        if (hre_vault_xch_chunk_encode(&c, back, &len) != HRE_OK || len != size || memcmp(back, data, size))
            abort();
    } else {
        zero_or_die(&c, sizeof c);
    }

    rc = hre_vault_xch_header_decode(&h, data, size);
    if (!ok_code(rc, data)) abort();
    if (rc == HRE_OK) {
        accepted++;
        len = sizeof back;
        if (hre_vault_xch_header_encode(&h, back, &len) != HRE_OK || len != size || memcmp(back, data, size))
            abort();
    } else {
        zero_or_die(&h, sizeof h);
    }

    rc = hre_vault_xch_refusal_decode(&r, data, size);
    if (!ok_code(rc, data)) abort();
    if (rc == HRE_OK) {
        accepted++;
        len = sizeof back;
        if (hre_vault_xch_refusal_encode(&r, back, &len) != HRE_OK || len != size || memcmp(back, data, size))
            abort();
        if (hre_vault_xch_refusal_code(r.reason) == HRE_EPROTO) abort();
    } else {
        zero_or_die(&r, sizeof r);
    }
    if (accepted > 1) abort();
    return 0;
}
