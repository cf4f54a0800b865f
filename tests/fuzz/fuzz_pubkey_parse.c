/*
 * Fuzz target: public key parsing (hre_pubkey_parse for SEC1 33/65-byte
 * points on both curves, hre_pubkey_parse_wire for the 34-byte wire form).
 * Invariants (abort on violation):
 *  - a failure returns HRE_EDECODE and leaves *out NULL;
 *  - an accepted point is canonical: the input equals its own compressed or
 *    uncompressed serialisation, and both serialisations parse back to an
 *    equal key;
 *  - the wire form decodes iff the curve id is known and the compressed
 *    point parses, and re-encodes byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hre/key.h"
#include "crypto/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_point(hre_curve c, const uint8_t *data, size_t size)
{
    hre_pubkey *pk = (hre_pubkey *)1, *q = NULL;
    uint8_t comp[33], unc[65], enc[34];
    size_t lc = sizeof comp, lu = sizeof unc;
    int rc = hre_pubkey_parse(&pk, c, data, size);
    if (rc != HRE_OK) {
        if (rc != HRE_EDECODE || pk != NULL) abort();
        return;
    }
    if (!pk || hre_pubkey_curve(pk) != c) abort();
    if (size != 33 && size != 65) abort();
    if (hre_pubkey_serialize(pk, comp, &lc, 1) != HRE_OK || lc != 33) abort();
    if (hre_pubkey_serialize(pk, unc, &lu, 0) != HRE_OK || lu != 65) abort();
    if (size == 33 && memcmp(data, comp, 33) != 0) abort();
    if (size == 65 && memcmp(data, unc, 65) != 0) abort();
    if (memcmp(comp + 1, unc + 1, 32) != 0 || comp[0] != (2 | (unc[64] & 1))) abort();
    if (hre_pubkey_parse(&q, c, size == 33 ? unc : comp, size == 33 ? 65 : 33) != HRE_OK) abort();
    if (!hre_pubkey_equal(pk, q)) abort();
    if (hre_pubkey_serialize_wire(pk, enc) != HRE_OK || enc[0] != c || memcmp(enc + 1, comp, 33) != 0) abort();
    if (memcmp(hre_key__pubkey_wire(pk), enc, 34) != 0) abort();
    hre_pubkey_free(q);
    hre_pubkey_free(pk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_point(HRE_CURVE_P256, data, size);
    check_point(HRE_CURVE_SECP256K1, data, size);
    if (size == HRE_PUBKEY_ENCODED_LEN) {
        hre_pubkey *pk = (hre_pubkey *)1, *viaparse = NULL;
        uint8_t enc[34];
        int rc = hre_pubkey_parse_wire(&pk, data);
        int known = data[0] == HRE_CURVE_P256 || data[0] == HRE_CURVE_SECP256K1;
        int parses = known && hre_pubkey_parse(&viaparse, (hre_curve)data[0], data + 1, 33) == HRE_OK;
        if ((rc == HRE_OK) != parses) abort();
        if (rc == HRE_OK) {
            if (hre_pubkey_serialize_wire(pk, enc) != HRE_OK || memcmp(enc, data, 34) != 0) abort();
            if (!hre_pubkey_equal(pk, viaparse)) abort();
            hre_pubkey_free(pk);
        } else if (rc != HRE_EDECODE || pk != NULL) {
            abort();
        }
        hre_pubkey_free(viaparse);
    }
    return 0;
}
