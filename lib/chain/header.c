/* The 80-byte block header. */
#include "chain/internal.h"
#include "hre/hash.h"

HRE_API int hre_header_decode(hre_header *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    if (!out) return hre__fail(HRE_EINVAL, "hre_header_decode: NULL out");
    memset(out, 0, sizeof *out);
    if (!in) return hre__fail(HRE_EINVAL, "hre_header_decode: NULL input");
    if (len != HRE_HEADER_LEN)
        return hre__fail(HRE_EDECODE, "block header must be exactly 80 bytes, got %zu", len);
    out->version = hre__le32(in);
    memcpy(out->prev_hash, in + 4, 32);
    memcpy(out->merkle_root, in + 36, 32);
    out->time = hre__le32(in + 68);
    out->bits = hre__le32(in + 72);
    out->nonce = hre__le32(in + 76);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_header_encode(const hre_header *h, uint8_t out[80])
{
    HRE__API_SCOPE;
    if (!out) return hre__fail(HRE_EINVAL, "hre_header_encode: NULL out");
    if (!h) {
        memset(out, 0, HRE_HEADER_LEN);
        return hre__fail(HRE_EINVAL, "hre_header_encode: NULL header");
    }
    hre__put_le32(out, h->version);
    memcpy(out + 4, h->prev_hash, 32);
    memcpy(out + 36, h->merkle_root, 32);
    hre__put_le32(out + 68, h->time);
    hre__put_le32(out + 72, h->bits);
    hre__put_le32(out + 76, h->nonce);
    return hre__api_done(HRE_OK);
}

int hre_chain__header_hash(uint8_t out[32], const hre_header *h)
{
    uint8_t buf[HRE_HEADER_LEN];
    (void)hre_header_encode(h, buf);   /* h and buf are not NULL */
    return hre_sha256d(out, buf, sizeof buf);   /* zeroes out on failure */
}

HRE_API int hre_header_hash(const hre_header *h, uint8_t out[32])
{
    HRE__API_SCOPE;
    if (!out) return hre__fail(HRE_EINVAL, "hre_header_hash: NULL out");
    if (!h) {
        memset(out, 0, 32);
        return hre__fail(HRE_EINVAL, "hre_header_hash: NULL header");
    }
    return hre__api_done(hre_chain__header_hash(out, h));
}
