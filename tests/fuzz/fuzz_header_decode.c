/* Fuzz the 80-byte header decoder and the compact-target code it feeds.
 * Invariants: exactly the 80-byte inputs decode; decode -> encode is
 * byte-exact; a failed decode zeroes its output; compact decode/encode is a
 * fixpoint that never rounds up; work is defined for every valid target and
 * the PoW check never crashes. abort() on any violation. */
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_bits(uint32_t bits)
{
    uint8_t t[32], back[32], work[32];
    int neg = -1, ovf = -1;
    int rc = hre_pow_target_from_compact(t, &neg, &ovf, bits);
    if ((rc == HRE_OK) != (!neg && !ovf)) abort();
    if (rc == HRE_OK) {
        uint32_t c = 0, c2 = 0;
        if (hre_pow_target_to_compact(&c, t) != HRE_OK) abort();
        if (hre_pow_target_from_compact(back, &neg, &ovf, c) != HRE_OK) abort();
        if (memcmp(back, t, 32) != 0) abort();           /* decoded values re-encode exactly */
        if (hre_pow_target_to_compact(&c2, back) != HRE_OK || c2 != c) abort();
        rc = hre_pow_work(work, bits);
        {
            static const uint8_t zero[32];
            int is_zero = memcmp(t, zero, 32) == 0;
            if (is_zero ? rc != HRE_EDECODE : rc != HRE_OK) abort();
        }
    } else {
        static const uint8_t zero[32];
        if (rc != HRE_EDECODE || memcmp(t, zero, 32) != 0) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre_header h;
    uint8_t enc[80], hash[32], lim[32];
    int rc = hre_header_decode(&h, data, size);
    if (size != HRE_HEADER_LEN) {
        hre_header zero;
        memset(&zero, 0, sizeof zero);
        if (rc != HRE_EDECODE || memcmp(&h, &zero, sizeof h) != 0) abort();
        if (size >= 4) {
            uint32_t bits = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
                            (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
            check_bits(bits);
        }
        return 0;
    }
    if (rc != HRE_OK) abort();
    if (hre_header_encode(&h, enc) != HRE_OK || memcmp(enc, data, 80) != 0) abort();
    check_bits(h.bits);
    if (hre_header_hash(&h, hash) != HRE_OK) abort();
    memset(lim, 0xff, sizeof lim);
    rc = hre_pow_check(&h, lim);
    if (rc != HRE_OK && rc != HRE_EVERIFY) abort();
    if (hre_pow_check_hash(hash, h.bits, lim) != rc) abort();
    return 0;
}
