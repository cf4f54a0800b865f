/*
 * A header chain from genesis checked against a network's rules (links,
 * proof of work, the expected bits of the retarget rule, the median time
 * past): what a light client can check with the headers alone. The same
 * rules as the ledger's block validation (docs/PROTOCOL.md 7.6), without the
 * host clock. docs/PROTOCOL.md 2.11.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/internal.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

uint32_t hre_chain__median_time(uint32_t *t, size_t n)
{
    qsort(t, n, sizeof t[0], cmp_u32);
    return t[n / 2];
}

int hre_chain__is_retarget(const hre_chain_params *p, uint64_t h)
{
    return p->retarget_interval != 0 && h % p->retarget_interval == 0;
}

int hre_chain__expected_bits(uint32_t *bits, const hre_chain_params *p, uint64_t h,
                             uint32_t parent_bits, uint32_t parent_time, uint32_t first_time)
{
    if (!hre_chain__is_retarget(p, h)) {
        *bits = parent_bits;
        return HRE_OK;
    }
    return hre_pow_retarget(bits, parent_bits, (int64_t)parent_time - (int64_t)first_time,
                            (int64_t)p->retarget_interval * p->target_spacing, p->pow_limit);
}

/* Median of the times of headers[i-1] and its (up to) 10 ancestors. */
static uint32_t median_time_past(const hre_header *headers, size_t i)
{
    uint32_t t[11];
    size_t n = 0;
    while (n < 11 && i > 0)
        t[n++] = headers[--i].time;
    return hre_chain__median_time(t, n);
}

HRE_API int hre_chain_params_check_headers(const hre_chain_params *p, size_t *bad_index,
                                           const hre_header *headers, size_t n)
{
    HRE__API_SCOPE;
    hre_chain_params full;
    uint8_t prev[32], hash[32], genesis[80], first[80];
    size_t i;
    int rc;

    if (bad_index)
        *bad_index = SIZE_MAX;
    if (!p || (!headers && n))
        return hre__fail(HRE_EINVAL, "hre_chain_params_check_headers: NULL argument");
    if ((rc = hre__vstruct_in(&hre_chain__params_desc, &full, p)) != HRE_OK)
        return rc;
    if (n == 0)
        return hre__fail(HRE_EINVAL, "header chain: no headers");
    if (bad_index)
        *bad_index = 0;
    (void)hre_header_encode(&full.genesis, genesis);
    (void)hre_header_encode(&headers[0], first);
    if (memcmp(genesis, first, 80) != 0)
        return hre__fail(HRE_EVERIFY, "header chain: header 0 is not the network's genesis header");
    if ((rc = hre_chain__header_hash(prev, &headers[0])) != HRE_OK)
        return rc;
    for (i = 1; i < n; i++) {
        const hre_header *h = &headers[i];
        uint32_t bits, mtp;
        if (bad_index)
            *bad_index = i;
        if (memcmp(h->prev_hash, prev, 32) != 0)
            return hre__fail(HRE_EVERIFY, "header %zu: prev_hash is not the hash of header %zu",
                             i, i - 1);
        if ((rc = hre_chain__header_hash(hash, h)) != HRE_OK)
            return rc;
        rc = hre_pow_check_hash(hash, h->bits, full.pow_limit);
        if (rc == HRE_EVERIFY)
            return hre__fail(HRE_EVERIFY, "header %zu: proof of work invalid", i);
        if (rc != HRE_OK)
            return rc;
        if (hre_chain__expected_bits(&bits, &full, i, headers[i - 1].bits, headers[i - 1].time,
                                     hre_chain__is_retarget(&full, i)
                                         ? headers[i - full.retarget_interval].time : 0) != HRE_OK)
            return hre__fail(HRE_EVERIFY, "header %zu: no retarget from header %zu's bits",
                             i, i - 1);
        if (h->bits != bits)
            return hre__fail(HRE_EVERIFY, "header %zu: bits 0x%08x, expected 0x%08x", i,
                             h->bits, bits);
        mtp = median_time_past(headers, i);
        if (h->time <= mtp)
            return hre__fail(HRE_EVERIFY, "header %zu: time %u not above the median time past %u",
                             i, h->time, mtp);
        memcpy(prev, hash, 32);
    }
    if (bad_index)
        *bad_index = SIZE_MAX;
    return hre__api_done(HRE_OK);
}
