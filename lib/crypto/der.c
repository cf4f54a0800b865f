/*
 * ECDSA signature scalars: curve orders, range and low-S checks, strict DER
 * import/export and high-S normalisation. No OpenSSL here: this is our own
 * code because the DER parser is hostile-input code and must be exactly as
 * strict as docs/PROTOCOL.md section 3 says.
 */
#include "crypto/internal.h"

/* Group orders n (big-endian) and floor(n/2). */
static const uint8_t P256_N[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
static const uint8_t P256_HALF_N[32] = {
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8};
static const uint8_t K256_N[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
static const uint8_t K256_HALF_N[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

const uint8_t *hre_key__order(hre_curve curve)
{
    switch (curve) {
    case HRE_CURVE_P256: return P256_N;
    case HRE_CURVE_SECP256K1: return K256_N;
    default: return NULL;
    }
}

const uint8_t *hre_key__half_order(hre_curve curve)
{
    switch (curve) {
    case HRE_CURVE_P256: return P256_HALF_N;
    case HRE_CURVE_SECP256K1: return K256_HALF_N;
    default: return NULL;
    }
}

/* Constant-time big-endian comparison of two 32-byte numbers:
 * -1 if a < b, 0 if equal, 1 if a > b. */
static int be_cmp32(const uint8_t *a, const uint8_t *b)
{
    unsigned gt = 0, lt = 0;
    for (size_t i = 0; i < 32; i++) {
        unsigned x = a[i], y = b[i];
        unsigned g = (y - x) >> 31;        /* 1 iff x > y */
        unsigned l = (x - y) >> 31;        /* 1 iff x < y */
        unsigned undecided = 1u ^ (gt | lt);
        gt |= g & undecided;
        lt |= l & undecided;
    }
    return (int)gt - (int)lt;
}

static int is_zero32(const uint8_t *a)
{
    unsigned acc = 0;
    for (size_t i = 0; i < 32; i++) acc |= a[i];
    return acc == 0;
}

int hre_key__scalar_in_range(const uint8_t x[32], hre_curve curve)
{
    const uint8_t *n = hre_key__order(curve);
    if (!n) return 0;
    /* bitwise, not short-circuit: no data-dependent branch */
    return (int)((unsigned)!is_zero32(x) & (unsigned)(be_cmp32(x, n) < 0));
}

int hre_key__sig_is_canonical(const uint8_t sig[64], hre_curve curve)
{
    const uint8_t *half = hre_key__half_order(curve);
    if (!half) return 0;
    return (int)((unsigned)hre_key__scalar_in_range(sig, curve) &
                 (unsigned)hre_key__scalar_in_range(sig + 32, curve) &
                 (unsigned)(be_cmp32(sig + 32, half) <= 0));
}

/* Parse one DER INTEGER at der[*pos] into a 32-byte big-endian value.
 * Strict: tag 0x02, short-form length 1..33, no superfluous leading zero,
 * not negative, magnitude at most 32 bytes. Zero is let through here and
 * rejected by the range check. */
static int der_int(uint8_t out[32], const uint8_t *der, size_t len, size_t *pos)
{
    size_t p = *pos, ilen;
    if (len - p < 2) return 0;
    if (der[p] != 0x02) return 0;
    ilen = der[p + 1];
    p += 2;
    if (ilen == 0 || ilen > 33) return 0;   /* also rejects long-form lengths (>= 0x80) */
    if (len - p < ilen) return 0;
    if (der[p] & 0x80) return 0;            /* negative */
    if (ilen > 1 && der[p] == 0x00 && !(der[p + 1] & 0x80)) return 0;  /* non-minimal */
    if (der[p] == 0x00 && ilen > 1) {       /* sign padding */
        p++;
        ilen--;
    }
    if (ilen > 32) return 0;
    memset(out, 0, 32);
    memcpy(out + 32 - ilen, der + p, ilen);
    *pos = p + ilen;
    return 1;
}

int hre_key__der_decode(uint8_t sig[64], const uint8_t *der, size_t len)
{
    size_t pos = 2;
    /* Smallest: 30 06 02 01 xx 02 01 xx; largest: 30 46 (2 + 33) * 2. */
    if (!der || len < 8 || len > HRE_SIG_DER_MAX) goto bad;
    if (der[0] != 0x30) goto bad;
    if (der[1] != len - 2) goto bad;        /* short form, covers exactly the rest */
    if (!der_int(sig, der, len, &pos)) goto bad;
    if (!der_int(sig + 32, der, len, &pos)) goto bad;
    if (pos != len) goto bad;
    return HRE_OK;
bad:
    memset(sig, 0, 64);
    return HRE_EDECODE;
}

/* Minimal DER INTEGER for a positive 32-byte value (nonzero). */
static size_t der_put_int(uint8_t *out, const uint8_t v[32])
{
    size_t skip = 0, n;
    while (skip < 31 && v[skip] == 0) skip++;
    n = 32 - skip;
    out[0] = 0x02;
    if (v[skip] & 0x80) {
        out[1] = (uint8_t)(n + 1);
        out[2] = 0x00;
        memcpy(out + 3, v + skip, n);
        return n + 3;
    }
    out[1] = (uint8_t)n;
    memcpy(out + 2, v + skip, n);
    return n + 2;
}

size_t hre_key__der_encode(uint8_t out[HRE_SIG_DER_MAX], const uint8_t sig[64])
{
    size_t n = 2;
    n += der_put_int(out + n, sig);
    n += der_put_int(out + n, sig + 32);
    out[0] = 0x30;
    out[1] = (uint8_t)(n - 2);
    return n;
}

HRE_API int hre_sig_parse_der(uint8_t sig[64], hre_curve curve, const uint8_t *der, size_t len)
{
    HRE__API_SCOPE;
    if (!sig) return hre__fail(HRE_EINVAL, "hre_sig_parse_der: NULL sig");
    if (!hre_key__order(curve)) {
        memset(sig, 0, 64);
        return hre__fail(HRE_EINVAL, "hre_sig_parse_der: unknown curve id %d", (int)curve);
    }
    if (!der && len) {
        memset(sig, 0, 64);
        return hre__fail(HRE_EINVAL, "hre_sig_parse_der: NULL der with nonzero length");
    }
    if (hre_key__der_decode(sig, der, len) != HRE_OK)
        return hre__fail(HRE_EDECODE, "DER signature is malformed or not strict DER (%zu bytes)", len);
    if (!hre_key__scalar_in_range(sig, curve) || !hre_key__scalar_in_range(sig + 32, curve)) {
        memset(sig, 0, 64);
        return hre__fail(HRE_EDECODE, "DER signature: r or s outside [1, n-1]");
    }
    return hre__api_done(HRE_OK);
}

HRE_API int hre_sig_serialize_der(uint8_t *out, size_t *outlen, hre_curve curve, const uint8_t sig[64])
{
    HRE__API_SCOPE;
    uint8_t tmp[HRE_SIG_DER_MAX];
    size_t n;
    if (!outlen || !sig || (!out && *outlen))
        return hre__fail(HRE_EINVAL, "hre_sig_serialize_der: NULL argument");
    if (!hre_key__order(curve))
        return hre__fail(HRE_EINVAL, "hre_sig_serialize_der: unknown curve id %d", (int)curve);
    if (!hre_key__scalar_in_range(sig, curve) || !hre_key__scalar_in_range(sig + 32, curve))
        return hre__fail(HRE_EINVAL, "hre_sig_serialize_der: r or s outside [1, n-1]");
    n = hre_key__der_encode(tmp, sig);
    if (*outlen < n) {
        *outlen = n;
        return hre__fail(HRE_EBUFSIZE, "hre_sig_serialize_der: need %zu bytes", n);
    }
    memcpy(out, tmp, n);
    *outlen = n;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_sig_normalize(uint8_t sig[64], hre_curve curve)
{
    HRE__API_SCOPE;
    const uint8_t *n = hre_key__order(curve), *half = hre_key__half_order(curve);
    if (!sig) return hre__fail(HRE_EINVAL, "hre_sig_normalize: NULL sig");
    if (!n) return hre__fail(HRE_EINVAL, "hre_sig_normalize: unknown curve id %d", (int)curve);
    if (!hre_key__scalar_in_range(sig, curve) || !hre_key__scalar_in_range(sig + 32, curve))
        return hre__fail(HRE_EINVAL, "hre_sig_normalize: r or s outside [1, n-1]");
    if (be_cmp32(sig + 32, half) > 0) {
        /* s := n - s (s < n, so no final borrow) */
        unsigned borrow = 0;
        for (int i = 31; i >= 0; i--) {
            unsigned d = (unsigned)n[i] - sig[32 + i] - borrow;
            sig[32 + i] = (uint8_t)d;
            borrow = (d >> 8) & 1;
        }
    }
    return hre__api_done(HRE_OK);
}
