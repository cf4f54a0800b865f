/*
 * SipHash (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012)
 * with c compression rounds and d finalisation rounds: SipHash-2-4 (the
 * paper's) and SipHash-1-3 (cheaper, for hash tables). A keyed hash of
 * in-memory table keys only, never part of a format: an adversary who does
 * not know the 128-bit key cannot aim many keys at one bucket.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include "core/internal.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                      \
    do {                                                              \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);    \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                        \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                        \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);    \
    } while (0)

uint64_t hre__siphash(const hre__sipkey *k, const uint8_t *in, size_t len, unsigned c, unsigned d)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k->k0, v1 = 0x646f72616e646f6dULL ^ k->k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k->k0, v3 = 0x7465646279746573ULL ^ k->k1;
    uint64_t b = (uint64_t)len << 56, m;
    size_t i, end = len - len % 8;
    unsigned r;
    for (i = 0; i < end; i += 8) {
        m = hre__le64(in + i);
        v3 ^= m;
        for (r = 0; r < c; r++) SIPROUND;
        v0 ^= m;
    }
    for (i = 0; i < len % 8; i++) b |= (uint64_t)in[end + i] << (8 * i);
    v3 ^= b;
    for (r = 0; r < c; r++) SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    for (r = 0; r < d; r++) SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

void hre__sipkey_set(hre__sipkey *k, const uint8_t bytes[16])
{
    k->k0 = hre__le64(bytes);
    k->k1 = hre__le64(bytes + 8);
}
