/*
 * Shared helpers for the benchmark programs (not part of the library):
 * clocks, and the raw OpenSSL reference figure from `openssl speed`, run in the
 * same process lifetime so every libhre figure has a comparison point measured
 * under the same machine load.
 */
#ifndef HRE_BENCH_UTIL_H
#define HRE_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wall-clock seconds (monotonic). */
static inline double bench_wall_s(void) { return bench_clock(CLOCK_MONOTONIC); }
/* CPU seconds of the whole process (all threads). */
static inline double bench_cpu_s(void) { return bench_clock(CLOCK_PROCESS_CPUTIME_ID); }
/* CPU seconds of the calling thread. */
static inline double bench_thread_cpu_s(void) { return bench_clock(CLOCK_THREAD_CPUTIME_ID); }

/*
 * Run `openssl speed -mr [-multi N] -seconds S ecdsap256` ($OPENSSL overrides
 * the program) and parse its machine-readable "+F4" line for the 256-bit
 * curve. Note: a single process reports ops per CPU-second; with -multi the
 * figures are summed per-process rates over wall time.
 * Returns 1 and sets *sign / *verify (either may be NULL) on success, else 0.
 */
static inline int bench_openssl_speed_ecdsap256(int multi, int seconds, double *sign, double *verify)
{
    char cmd[256], line[512];
    FILE *p;
    int found = 0;
    const char *openssl = getenv("OPENSSL") ? getenv("OPENSSL") : "openssl";
    if (multi > 1)
        snprintf(cmd, sizeof cmd, "%s speed -mr -multi %d -seconds %d ecdsap256 2>/dev/null",
                 openssl, multi, seconds);
    else
        snprintf(cmd, sizeof cmd, "%s speed -mr -seconds %d ecdsap256 2>/dev/null", openssl, seconds);
    p = popen(cmd, "r");
    if (!p) return 0;
    while (fgets(line, sizeof line, p)) {
        int idx, bits;
        double s, v;
        if (sscanf(line, "+F4:%d:%d:%lf:%lf", &idx, &bits, &s, &v) == 4 && bits == 256) {
            if (sign) *sign = s;
            if (verify) *verify = v;
            found = 1;
        }
    }
    return pclose(p) == 0 && found;
}

#endif
