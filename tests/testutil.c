#include "testutil.h"

#include <hre/errors.h>
#include <hre/sys/powerloss.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t g_seed;
static int g_seeded;
static uint64_t s[4];

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void hre_t_reseed(uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) s[i] = splitmix(&x);
}

uint64_t hre_t_seed(void)
{
    if (!g_seeded) {
        const char *env = getenv("HRE_SEED");
        if (env && *env) {
            g_seed = strtoull(env, NULL, 0);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            g_seed = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec;
        }
        g_seeded = 1;
        hre_t_reseed(g_seed);
    }
    return g_seed;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t hre_t_rand(void)
{
    (void)hre_t_seed();
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return r;
}

uint64_t hre_t_rand_below(uint64_t n)
{
    return n ? hre_t_rand() % n : 0;
}

void hre_t_rand_bytes(void *out, size_t len)
{
    uint8_t *p = out;
    while (len) {
        uint64_t r = hre_t_rand();
        size_t k = len < 8 ? len : 8;
        memcpy(p, &r, k);
        p += k; len -= k;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

size_t hre_t_unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = strlen(hex);
    ck_assert_msg(n % 2 == 0, "odd hex length");
    ck_assert_msg(n / 2 <= cap, "hex too long for buffer (%zu > %zu)", n / 2, cap);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        ck_assert_msg(hi >= 0 && lo >= 0, "bad hex digit");
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return n / 2;
}

void hre_t_reverse(uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len / 2; i++) {
        uint8_t t = p[i];
        p[i] = p[len - 1 - i];
        p[len - 1 - i] = t;
    }
}

const char *hre_t_vector_path(const char *relative)
{
    static char buf[4096];
    const char *dir = getenv("HRE_VECTORS_DIR");
    if (!dir || !*dir) return NULL;
    snprintf(buf, sizeof buf, "%s/%s", dir, relative);
    return buf;
}

char *hre_t_read_file(const char *path, size_t *len)
{
    FILE *f;
    char *buf;
    long n;
    if (!path || !(f = fopen(path, "rb"))) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = 0;
    if (len) *len = (size_t)n;
    return buf;
}

static hre_powerloss_stats pl_stats(const hre_storage *pl)
{
    hre_powerloss_stats st = HRE_POWERLOSS_STATS_INIT;
    if (hre_powerloss_stats_get(pl, &st) != HRE_OK) {
        memset(&st, 0, sizeof st);
        st.version = HRE_POWERLOSS_STATS_VERSION;
    }
    return st;
}

int hre_t_pl_crashed(const hre_storage *pl)
{
    hre_powerloss_stats st = pl_stats(pl);
    if (!st.crashed) return 0;
    return st.crash_rc == HRE_OK ? 1 : st.crash_rc;
}

uint64_t hre_t_pl_calls(const hre_storage *pl) { return pl_stats(pl).calls; }
uint64_t hre_t_pl_syncs(const hre_storage *pl) { return pl_stats(pl).syncs; }
uint64_t hre_t_pl_failures(const hre_storage *pl) { return pl_stats(pl).failures; }
