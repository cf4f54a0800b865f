/*
 * Deterministic OpenSSL randomness for the simulation process (tests only).
 *
 * A simulation replays exactly only if every random byte does: the hub's
 * faults come from its own seeded PRNG, but the nodes' Noise keys, version
 * nonces, map seeds and ECDSA nonces come from OpenSSL. This file swaps
 * OpenSSL's RAND method for a counter-mode generator (SHA-256 over a key
 * derived from the simulation seed and a counter), for this
 * process only. The library itself is unchanged and never does this: it is
 * what a test harness does (like a fixed-entropy DRBG in a test build).
 * Never use this outside tests: the "randomness" is a function of a seed.
 *
 * RAND_set_rand_method is deprecated in OpenSSL 3 (providers replace it),
 * but it is still honoured by RAND_bytes_ex / RAND_priv_bytes_ex, which every
 * key generation, signing nonce and libhre's hre_random_bytes go through.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

#include "sim_rand.h"

static struct {
    uint8_t key[32];
    uint64_t counter;
    uint8_t block[32];
    size_t avail;
    uint64_t drawn;
} g_sr;

static void refill(void)
{
    uint8_t in[40];
    memcpy(in, g_sr.key, 32);
    for (int i = 0; i < 8; i++) in[32 + i] = (uint8_t)(g_sr.counter >> (8 * i));
    g_sr.counter++;
    SHA256(in, sizeof in, g_sr.block);
    g_sr.avail = 32;
}

static int sr_bytes(unsigned char *buf, int num)
{
    int i;
    for (i = 0; i < num; i++) {
        if (g_sr.avail == 0) refill();
        buf[i] = g_sr.block[32 - g_sr.avail--];
    }
    g_sr.drawn += (uint64_t)num;
    return 1;
}

static int sr_status(void)
{
    return 1;
}

static int sr_seed(const void *buf, int num)
{
    (void)buf;
    (void)num;
    return 1;
}

static int sr_add(const void *buf, int num, double entropy)
{
    (void)buf;
    (void)num;
    (void)entropy;
    return 1;
}

static RAND_METHOD g_method = { sr_seed, sr_bytes, NULL, sr_add, sr_bytes, sr_status };

void sim_rand_reseed(uint64_t seed)
{
    uint8_t s[16] = { 'h', 'r', 'e', '-', 's', 'i', 'm', 0 };
    for (int i = 0; i < 8; i++) s[8 + i] = (uint8_t)(seed >> (8 * i));
    SHA256(s, sizeof s, g_sr.key);
    g_sr.counter = 0;
    g_sr.avail = 0;
    g_sr.drawn = 0;
    RAND_set_rand_method(&g_method);
}

uint64_t sim_rand_drawn(void)
{
    return g_sr.drawn;
}
