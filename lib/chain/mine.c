/*
 * Mining drivers. The nonce space is swept in chunks through a backend from
 * lib/crypto/sha256_mid.c, which hashes the first 64 header bytes once per
 * chunk (midstate) and only the 16-byte tail per nonce. Between chunks the
 * driver polls the cancel flag. A faster backend (e.g. SHA-NI multi-lane) is
 * picked up automatically through hre_crypto__sweep_default().
 */
#include "chain/internal.h"
#include "crypto/internal.h"

/* Nonces per backend call: ~2 ms at 8 M hashes/s, so cancellation is prompt. */
#define CHUNK ((uint32_t)1 << 14)

/* Sweep count (>= 1) nonces from start (wrapping). */
static int mine(hre_header *h, uint32_t start, uint64_t count, uint64_t *tries,
                const volatile int *cancel)
{
    const hre_crypto__sweep_backend *be = hre_crypto__sweep_default();
    uint8_t prefix[HRE_HEADER_LEN], target[32], hash[32];
    hre_chain__big t;
    uint64_t done_total = 0;
    uint32_t nonce = start;
    int neg, ovf, rc = HRE_EEXHAUSTED;

    hre_chain__big_set_compact(&t, h->bits, &neg, &ovf);
    if (neg || ovf || hre_chain__big_is_zero(&t))
        return hre__fail(HRE_EINVAL, "cannot mine: bits 0x%08x do not encode a positive target",
                         (unsigned)h->bits);
    (void)hre_chain__big_to_le32(target, &t);
    (void)hre_header_encode(h, prefix);   /* h is not NULL */

    while (count > 0) {
        uint32_t n = count < CHUNK ? (uint32_t)count : CHUNK, found = 0, done = 0;
        if (cancel && __atomic_load_n(cancel, __ATOMIC_RELAXED)) {
            rc = hre__fail(HRE_ECANCELED, "mining cancelled after %llu tries",
                           (unsigned long long)done_total);
            break;
        }
        rc = be->sweep(prefix, target, nonce, n, &found, hash, &done);
        done_total += done;
        nonce += done;
        count -= done;
        if (rc == HRE_OK) {
            nonce = found;
            break;
        }
        if (rc != HRE_EEXHAUSTED) break;
    }
    if (rc == HRE_EEXHAUSTED)
        rc = hre__fail(HRE_EEXHAUSTED, "no nonce met the target in %llu tries",
                       (unsigned long long)done_total);
    h->nonce = nonce;
    if (tries) *tries = done_total;
    return rc;
}

HRE_API int hre_pow_mine(hre_header *h, uint64_t *tries, uint64_t max_tries)
{
    HRE__API_SCOPE;
    if (tries) *tries = 0;
    if (!h) return hre__fail(HRE_EINVAL, "hre_pow_mine: NULL header");
    if (max_tries > HRE_POW_ALL_NONCES) max_tries = HRE_POW_ALL_NONCES;
    if (max_tries == 0) {
        /* still validate bits so the error is consistent */
        int neg, ovf;
        hre_chain__big t;
        hre_chain__big_set_compact(&t, h->bits, &neg, &ovf);
        if (neg || ovf || hre_chain__big_is_zero(&t))
            return hre__fail(HRE_EINVAL, "cannot mine: bits 0x%08x do not encode a positive target",
                             (unsigned)h->bits);
        return hre__fail(HRE_EEXHAUSTED, "no nonce met the target in 0 tries");
    }
    return hre__api_done(mine(h, h->nonce, max_tries, tries, NULL));
}

HRE_API int hre_pow_mine_range(hre_header *h, uint64_t *tries, uint32_t first_nonce,
                               uint32_t last_nonce, const volatile int *cancel)
{
    HRE__API_SCOPE;
    if (tries) *tries = 0;
    if (!h) return hre__fail(HRE_EINVAL, "hre_pow_mine_range: NULL header");
    if (first_nonce > last_nonce)
        return hre__fail(HRE_EINVAL, "hre_pow_mine_range: first nonce %u > last nonce %u",
                         (unsigned)first_nonce, (unsigned)last_nonce);
    return hre__api_done(mine(h, first_nonce, (uint64_t)last_nonce - first_nonce + 1, tries, cancel));
}
