/* Small unsigned big-integer arithmetic for targets, work and retargeting. */
#include "chain/internal.h"

#define NL HRE_CHAIN__BIG_LIMBS

void hre_chain__big_from_le32(hre_chain__big *r, const uint8_t in[32])
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < 8; i++) r->w[i] = hre__le32(in + 4 * i);
}

int hre_chain__big_to_le32(uint8_t out[32], const hre_chain__big *r)
{
    int fits = 1;
    for (int i = 0; i < 8; i++) hre__put_le32(out + 4 * i, r->w[i]);
    for (int i = 8; i < NL; i++) if (r->w[i]) fits = 0;
    return fits;
}

int hre_chain__big_cmp(const hre_chain__big *a, const hre_chain__big *b)
{
    for (int i = NL - 1; i >= 0; i--) {
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
    }
    return 0;
}

int hre_chain__big_is_zero(const hre_chain__big *a)
{
    for (int i = 0; i < NL; i++) if (a->w[i]) return 0;
    return 1;
}

void hre_chain__big_add(hre_chain__big *r, const hre_chain__big *a, const hre_chain__big *b)
{
    uint64_t carry = 0;
    for (int i = 0; i < NL; i++) {
        uint64_t s = (uint64_t)a->w[i] + b->w[i] + carry;
        r->w[i] = (uint32_t)s;
        carry = s >> 32;
    }
}

static void big_sub(hre_chain__big *r, const hre_chain__big *a, const hre_chain__big *b)
{
    uint64_t borrow = 0;
    for (int i = 0; i < NL; i++) {
        uint64_t d = (uint64_t)a->w[i] - b->w[i] - borrow;
        r->w[i] = (uint32_t)d;
        borrow = (d >> 32) & 1;
    }
}

void hre_chain__big_mul_u64(hre_chain__big *r, const hre_chain__big *a, uint64_t m)
{
    uint32_t res[NL] = {0};
    uint32_t mw[2] = { (uint32_t)m, (uint32_t)(m >> 32) };
    for (int j = 0; j < 2; j++) {
        uint64_t carry = 0;
        for (int i = 0; i + j < NL; i++) {
            uint64_t cur = (uint64_t)a->w[i] * mw[j] + res[i + j] + carry;
            res[i + j] = (uint32_t)cur;
            carry = cur >> 32;
        }
    }
    memcpy(r->w, res, sizeof res);
}

unsigned hre_chain__big_bits(const hre_chain__big *a)
{
    for (int i = NL - 1; i >= 0; i--) {
        if (a->w[i]) {
            unsigned b = 32;
            while (!(a->w[i] >> (b - 1))) b--;
            return (unsigned)i * 32 + b;
        }
    }
    return 0;
}

static int big_bit(const hre_chain__big *a, unsigned n)
{
    return (a->w[n / 32] >> (n % 32)) & 1;
}

void hre_chain__big_div(hre_chain__big *q, const hre_chain__big *a, const hre_chain__big *d)
{
    hre_chain__big num = *a, rem, quo;
    unsigned n = hre_chain__big_bits(&num);
    memset(&rem, 0, sizeof rem);
    memset(&quo, 0, sizeof quo);
    if (hre_chain__big_is_zero(d)) { *q = quo; return; }  /* callers never divide by 0 */
    while (n--) {
        /* rem = rem << 1 | bit n of num */
        for (int i = NL - 1; i > 0; i--) rem.w[i] = rem.w[i] << 1 | rem.w[i - 1] >> 31;
        rem.w[0] = rem.w[0] << 1 | (uint32_t)big_bit(&num, n);
        if (hre_chain__big_cmp(&rem, d) >= 0) {
            big_sub(&rem, &rem, d);
            quo.w[n / 32] |= (uint32_t)1 << (n % 32);
        }
    }
    *q = quo;
}

static unsigned big_byte(const hre_chain__big *a, unsigned k)
{
    return (a->w[k / 4] >> (8 * (k % 4))) & 0xff;
}

void hre_chain__big_set_compact(hre_chain__big *r, uint32_t bits, int *negative, int *overflow)
{
    unsigned size = bits >> 24;
    uint32_t word = bits & 0x007fffff;
    memset(r, 0, sizeof *r);
    if (size <= 3) {
        word >>= 8 * (3 - size);
        r->w[0] = word;
    } else {
        /* word << 8 * (size - 3): place its three bytes at size-3 .. size-1 */
        for (unsigned k = 0; k < 3; k++) {
            unsigned pos = size - 3 + k;
            if (pos < 4 * NL) r->w[pos / 4] |= ((word >> (8 * k)) & 0xff) << (8 * (pos % 4));
        }
    }
    if (negative) *negative = word != 0 && (bits & 0x00800000) != 0;
    if (overflow)
        *overflow = word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
}

uint32_t hre_chain__big_get_compact(const hre_chain__big *a)
{
    unsigned size = (hre_chain__big_bits(a) + 7) / 8;
    uint32_t compact = 0;
    if (size <= 3) {
        compact = a->w[0] << (8 * (3 - size));
    } else {
        for (unsigned k = 0; k < 3; k++) compact |= (uint32_t)big_byte(a, size - 3 + k) << (8 * k);
    }
    if (compact & 0x00800000) {
        compact >>= 8;
        size++;
    }
    return compact | (uint32_t)size << 24;
}
