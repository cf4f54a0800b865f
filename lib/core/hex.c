/* Hex encoding and strict decoding. */
#include "core/internal.h"

HRE_API int hre_hex_encode(char *out, size_t *outlen, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    static const char digits[] = "0123456789abcdef";
    size_t need;
    if (!outlen || (!out && *outlen) || (!in && len))
        return hre__fail(HRE_EINVAL, "hre_hex_encode: NULL argument");
    if (len > (SIZE_MAX - 1) / 2) {
        if (*outlen) out[0] = '\0';
        *outlen = 0;
        return hre__fail(HRE_ELIMIT, "hre_hex_encode: %zu bytes do not fit in a size_t of hex", len);
    }
    need = 2 * len + 1;
    if (*outlen < need) {
        if (*outlen) out[0] = '\0';
        *outlen = need;
        return hre__fail(HRE_EBUFSIZE, "hex output needs %zu chars (NUL included)", need);
    }
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
    *outlen = 2 * len;
    return hre__api_done(HRE_OK);
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

HRE_API int hre_hex_decode(uint8_t *out, size_t *outlen, const char *hex, size_t hexlen)
{
    HRE__API_SCOPE;
    size_t need;
    if (!outlen || (!hex && hexlen) || (!out && *outlen))
        return hre__fail(HRE_EINVAL, "hre_hex_decode: NULL argument");
    if (hexlen % 2)
        return hre__fail(HRE_EDECODE, "hex string has odd length %zu", hexlen);
    need = hexlen / 2;
    for (size_t i = 0; i < hexlen; i++)
        if (hexval((unsigned char)hex[i]) < 0)
            return hre__fail(HRE_EDECODE, "non-hex character at position %zu", i);
    if (*outlen < need) {
        *outlen = need;
        return hre__fail(HRE_EBUFSIZE, "hex decode needs %zu bytes", need);
    }
    for (size_t i = 0; i < need; i++)
        out[i] = (uint8_t)(hexval((unsigned char)hex[2 * i]) << 4 | hexval((unsigned char)hex[2 * i + 1]));
    *outlen = need;
    return hre__api_done(HRE_OK);
}
