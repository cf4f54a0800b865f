/* Compact targets, PoW check, work and retargeting (Bitcoin Core semantics). */
#include <stdint.h>

#include "chain/internal.h"

HRE_API int hre_pow_target_from_compact(uint8_t target[32], int *negative, int *overflow, uint32_t bits)
{
    HRE__API_SCOPE;
    hre_chain__big v;
    int neg = 0, ovf = 0;
    if (negative) *negative = 0;
    if (overflow) *overflow = 0;
    if (!target) return hre__fail(HRE_EINVAL, "hre_pow_target_from_compact: NULL target");
    hre_chain__big_set_compact(&v, bits, &neg, &ovf);
    if (negative) *negative = neg;
    if (overflow) *overflow = ovf;
    if (neg || ovf) {
        memset(target, 0, 32);
        return hre__fail(HRE_EDECODE, "compact target 0x%08x is %s", (unsigned)bits,
                         neg ? "negative" : "overflowing");
    }
    (void)hre_chain__big_to_le32(target, &v);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_pow_target_to_compact(uint32_t *bits, const uint8_t target[32])
{
    HRE__API_SCOPE;
    hre_chain__big v;
    if (!bits) return hre__fail(HRE_EINVAL, "hre_pow_target_to_compact: NULL bits");
    *bits = 0;
    if (!target) return hre__fail(HRE_EINVAL, "hre_pow_target_to_compact: NULL target");
    hre_chain__big_from_le32(&v, target);
    *bits = hre_chain__big_get_compact(&v);
    return hre__api_done(HRE_OK);
}

/* Decode bits into a positive target <= limit (limit may be NULL). */
static int valid_target(hre_chain__big *t, uint32_t bits, const uint8_t limit[32], int code)
{
    int neg, ovf;
    hre_chain__big_set_compact(t, bits, &neg, &ovf);
    if (neg || ovf || hre_chain__big_is_zero(t))
        return hre__fail(code, "bits 0x%08x do not encode a positive target", (unsigned)bits);
    if (limit) {
        hre_chain__big lim;
        hre_chain__big_from_le32(&lim, limit);
        if (hre_chain__big_cmp(t, &lim) > 0)
            return hre__fail(code, "bits 0x%08x: target above the PoW limit", (unsigned)bits);
    }
    return HRE_OK;
}

HRE_API int hre_pow_check_hash(const uint8_t hash[32], uint32_t bits, const uint8_t pow_limit[32])
{
    HRE__API_SCOPE;
    hre_chain__big t, hv;
    int rc;
    if (!hash || !pow_limit) return hre__fail(HRE_EINVAL, "hre_pow_check_hash: NULL argument");
    rc = valid_target(&t, bits, pow_limit, HRE_EVERIFY);
    if (rc != HRE_OK) return rc;
    hre_chain__big_from_le32(&hv, hash);
    if (hre_chain__big_cmp(&hv, &t) > 0)
        return hre__fail(HRE_EVERIFY, "block hash does not meet its target (bits 0x%08x)", (unsigned)bits);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_pow_check(const hre_header *h, const uint8_t pow_limit[32])
{
    HRE__API_SCOPE;
    uint8_t hash[32];
    int rc;
    if (!h || !pow_limit) return hre__fail(HRE_EINVAL, "hre_pow_check: NULL argument");
    rc = hre_chain__header_hash(hash, h);
    if (rc != HRE_OK) return rc;
    return hre__api_done(hre_pow_check_hash(hash, h->bits, pow_limit));
}

HRE_API int hre_pow_retarget(uint32_t *bits, uint32_t last_bits, int64_t actual_timespan,
                             int64_t target_timespan, const uint8_t pow_limit[32])
{
    HRE__API_SCOPE;
    hre_chain__big t, lim, d;
    int64_t lo, hi;
    int rc;
    if (!bits) return hre__fail(HRE_EINVAL, "hre_pow_retarget: NULL bits");
    *bits = 0;
    if (!pow_limit) return hre__fail(HRE_EINVAL, "hre_pow_retarget: NULL pow_limit");
    if (target_timespan <= 0 || target_timespan > INT64_MAX / 4)
        return hre__fail(HRE_EINVAL, "hre_pow_retarget: target timespan %lld out of range",
                         (long long)target_timespan);
    if ((rc = valid_target(&t, last_bits, NULL, HRE_EINVAL)) != HRE_OK) return rc;
    lo = target_timespan / 4;
    hi = target_timespan * 4;
    if (actual_timespan < lo) actual_timespan = lo;
    if (actual_timespan > hi) actual_timespan = hi;
    hre_chain__big_mul_u64(&t, &t, (uint64_t)actual_timespan);   /* < 2^319: no wrap */
    memset(&d, 0, sizeof d);
    d.w[0] = (uint32_t)target_timespan;
    d.w[1] = (uint32_t)((uint64_t)target_timespan >> 32);
    hre_chain__big_div(&t, &t, &d);
    hre_chain__big_from_le32(&lim, pow_limit);
    if (hre_chain__big_cmp(&t, &lim) > 0) t = lim;
    *bits = hre_chain__big_get_compact(&t);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_pow_work(uint8_t work[32], uint32_t bits)
{
    HRE__API_SCOPE;
    hre_chain__big t, num, one;
    int rc;
    if (!work) return hre__fail(HRE_EINVAL, "hre_pow_work: NULL work");
    memset(work, 0, 32);
    rc = valid_target(&t, bits, NULL, HRE_EDECODE);
    if (rc != HRE_OK) return rc;
    /* 2^256 / (target + 1), computed exactly in 384 bits */
    memset(&num, 0, sizeof num);
    num.w[8] = 1;
    memset(&one, 0, sizeof one);
    one.w[0] = 1;
    hre_chain__big_add(&t, &t, &one);
    hre_chain__big_div(&num, &num, &t);
    (void)hre_chain__big_to_le32(work, &num);   /* target >= 1 so work <= 2^255 */
    return hre__api_done(HRE_OK);
}

HRE_API int hre_pow_work_add(uint8_t sum[32], const uint8_t a[32], const uint8_t b[32])
{
    HRE__API_SCOPE;
    hre_chain__big x, y;
    if (!sum || !a || !b) {
        if (sum) memset(sum, 0, 32);
        return hre__fail(HRE_EINVAL, "hre_pow_work_add: NULL argument");
    }
    hre_chain__big_from_le32(&x, a);
    hre_chain__big_from_le32(&y, b);
    hre_chain__big_add(&x, &x, &y);
    if (!hre_chain__big_to_le32(sum, &x)) {
        memset(sum, 0, 32);
        return hre__fail(HRE_ELIMIT, "cumulative work overflows 256 bits");
    }
    return hre__api_done(HRE_OK);
}

HRE_API int hre_pow_work_cmp(const uint8_t a[32], const uint8_t b[32])
{
    if (a == b) return 0;
    if (!a) return -1;
    if (!b) return 1;
    for (int i = 31; i >= 0; i--) {
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    }
    return 0;
}
