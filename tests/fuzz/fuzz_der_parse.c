/*
 * Fuzz target: strict DER ECDSA signature parsing (hre_sig_parse_der), plus
 * the r||s -> DER encoder and high-S normalisation on whatever parses.
 * Invariants (abort on violation):
 *  - an accepted DER signature re-encodes byte for byte (strict DER is
 *    canonical), has r and s in [1, n-1], and normalises to a low-S form
 *    that again round-trips through DER;
 *  - a rejected input leaves the output zeroed with HRE_EDECODE;
 *  - a 64-byte input read as r||s encodes iff r, s are in range, and the
 *    encoding parses back to the same r||s.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hre/key.h"
#include "crypto/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int zero64(const uint8_t *p)
{
    uint8_t acc = 0;
    for (int i = 0; i < 64; i++) acc |= p[i];
    return acc == 0;
}

static void check_curve(hre_curve c, const uint8_t *data, size_t size)
{
    uint8_t sig[64], back[64], der[HRE_SIG_DER_MAX];
    size_t len = sizeof der;
    int rc = hre_sig_parse_der(sig, c, data, size);
    if (rc != HRE_OK) {
        if (rc != HRE_EDECODE || !zero64(sig)) abort();
    } else {
        if (size < 8 || size > HRE_SIG_DER_MAX || data[0] != 0x30) abort();
        if (!hre_key__scalar_in_range(sig, c) || !hre_key__scalar_in_range(sig + 32, c)) abort();
        if (hre_sig_serialize_der(der, &len, c, sig) != HRE_OK) abort();
        if (len != size || memcmp(der, data, size) != 0) abort();
        memcpy(back, sig, 64);
        if (hre_sig_normalize(back, c) != HRE_OK) abort();
        if (!hre_key__sig_is_canonical(back, c)) abort();
        if (memcmp(back, sig, 32) != 0) abort();   /* r untouched */
        if (hre_key__sig_is_canonical(sig, c) && memcmp(back, sig, 64) != 0) abort();
        len = sizeof der;
        if (hre_sig_serialize_der(der, &len, c, back) != HRE_OK) abort();
        if (hre_sig_parse_der(sig, c, der, len) != HRE_OK || memcmp(sig, back, 64) != 0) abort();
    }
    if (size == 64) {
        int in_range = hre_key__scalar_in_range(data, c) && hre_key__scalar_in_range(data + 32, c);
        len = sizeof der;
        rc = hre_sig_serialize_der(der, &len, c, data);
        if ((rc == HRE_OK) != in_range) abort();
        if (rc == HRE_OK) {
            if (hre_sig_parse_der(back, c, der, len) != HRE_OK || memcmp(back, data, 64) != 0) abort();
        } else if (rc != HRE_EINVAL) {
            abort();
        }
        memcpy(back, data, 64);
        rc = hre_sig_normalize(back, c);
        if ((rc == HRE_OK) != in_range) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_curve(HRE_CURVE_P256, data, size);
    check_curve(HRE_CURVE_SECP256K1, data, size);
    return 0;
}
