/*
 * Mining throughput benchmark. Prints one JSON document:
 *  - mining through the public API (hre_pow_mine_range, midstate sweeps) on 1
 *    and 2 threads, in sha256d/s;
 *  - each internal sweep backend on 1 thread;
 *  - raw OpenSSL figures from the same run: an EVP one-shot sha256d of 80 bytes
 *    in a loop (what mining without a midstate costs), and `openssl speed
 *    -mr -bytes 64 -evp sha256` (two compressions per hash, the same work
 *    as one midstate sha256d), if the openssl tool is installed;
 *  - the ratios.
 * Usage: bench_mine [seconds_per_measurement]   (default 1.5, or
 * HRE_BENCH_SECONDS; total < 15 s). HRE_BENCH_SPEED_SECONDS (default 2; 0
 * skips openssl speed). Schema: bench/README.md.
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hre/hre.h>

#include "core/internal.h"
#include "crypto/internal.h"

#include "bench_util.h"

static void sleep_s(double s)
{
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}

static void bench_header(hre_header *h)
{
    hre_chain_params p = HRE_CHAIN_PARAMS_INIT;
    if (hre_chain_params_bitcoin_mainnet(&p) != HRE_OK) abort();
    *h = p.genesis;
    h->bits = 0x03000001;   /* target 1: never met, so every nonce is hashed */
}

typedef struct {
    hre_header h;
    uint32_t first, last;
    const volatile int *cancel;
    uint64_t tries;
    double cpu;
    int rc;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    double c0 = bench_thread_cpu_s();
    j->rc = hre_pow_mine_range(&j->h, &j->tries, j->first, j->last, j->cancel);
    j->cpu = bench_thread_cpu_s() - c0;
    return NULL;
}

/* Public-API mining on nthreads threads for about secs seconds. Returns the
 * wall-clock rate; *per_cpu = hashes per CPU-second actually received (robust
 * when other processes compete for the cores). */
static double mine_rate(int nthreads, double secs, double *per_cpu)
{
    double cpu = 0;
    volatile int cancel = 0;
    job jobs[8];
    pthread_t th[8];
    uint64_t total = 0;
    double t0, t1;
    uint64_t span = ((uint64_t)1 << 32) / (uint64_t)nthreads;
    for (int i = 0; i < nthreads; i++) {
        bench_header(&jobs[i].h);
        jobs[i].first = (uint32_t)(span * (uint64_t)i);
        jobs[i].last = (uint32_t)(span * (uint64_t)(i + 1) - 1);
        jobs[i].cancel = &cancel;
        jobs[i].tries = 0;
    }
    t0 = bench_wall_s();
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, run_job, &jobs[i]) != 0) abort();
    sleep_s(secs);
    __atomic_store_n(&cancel, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    t1 = bench_wall_s();
    for (int i = 0; i < nthreads; i++) {
        if (jobs[i].rc != HRE_ECANCELED && jobs[i].rc != HRE_EEXHAUSTED) abort();
        total += jobs[i].tries;
        cpu += jobs[i].cpu;
    }
    *per_cpu = cpu > 0 ? (double)total / cpu : 0;
    return (double)total / (t1 - t0);
}

static double backend_rate(const hre_crypto__sweep_backend *be, double secs)
{
    uint8_t prefix[80], target[32] = {0}, hash[32];
    hre_header h;
    uint64_t total = 0;
    uint32_t nonce = 0;
    double t0 = bench_wall_s(), c0 = bench_thread_cpu_s(), t;
    bench_header(&h);
    hre_header_encode(&h, prefix);
    do {
        uint32_t found, done = 0;
        if (be->sweep(prefix, target, nonce, 1u << 16, &found, hash, &done) != HRE_EEXHAUSTED) abort();
        total += done;
        nonce += done;
        t = bench_wall_s() - t0;
    } while (t < secs);
    return (double)total / (bench_thread_cpu_s() - c0);   /* per CPU-second */
}

/* Raw OpenSSL: EVP one-shot sha256d of an 80-byte header, no midstate. */
static double evp_sha256d_rate(double secs)
{
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    uint8_t buf[80], out[32];
    uint64_t n = 0;
    double t0 = bench_wall_s(), c0 = bench_thread_cpu_s(), t;
    if (!md) abort();
    memset(buf, 0x42, sizeof buf);
    do {
        for (int i = 0; i < 4096; i++) {
            memcpy(buf + 76, &n, 4);
            if (!EVP_Digest(buf, 80, out, NULL, md, NULL) || !EVP_Digest(out, 32, out, NULL, md, NULL)) abort();
            n++;
        }
        t = bench_wall_s() - t0;
    } while (t < secs);
    EVP_MD_free(md);
    return (double)n / (bench_thread_cpu_s() - c0);   /* per CPU-second */
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : bench_env_double("HRE_BENCH_SECONDS", 1.5);
    size_t nb = 0;
    const hre_crypto__sweep_backend *be = hre_crypto__sweep_backends(&nb);
    double m1, m2, c1, c2, evp, speed = 0;
    int speed_s = bench_speed_seconds(2), have_speed;
    char cmd[256];
    bench_json j;
    if (secs <= 0 || secs > 20) secs = 1.5;

    m1 = mine_rate(1, secs, &c1);
    m2 = mine_rate(2, secs, &c2);
    evp = evp_sha256d_rate(secs);
    /* 64-byte messages: two compressions per hash, the work of one midstate sha256d */
    have_speed = bench_speed_bytes("-evp sha256", 64, 1, speed_s, NULL, &speed);

    bench_json_begin(&j, stdout);
    bench_json_head(&j, "mine");
    bench_json_num(&j, "seconds_per_measurement", secs, 2);
    bench_json_str(&j, "sweep_backend", hre_crypto__sweep_default()->name);
    bench_json_str(&j, "openssl_speed_command",
                   bench_speed_command(cmd, sizeof cmd, 1, speed_s, "-bytes 64 -evp sha256"));
    bench_json_end_object(&j);
    bench_json_object(&j, "results");
    bench_json_object(&j, "mine_1_thread");
    bench_json_num(&j, "sha256d_per_s", m1, 0);
    bench_json_num(&j, "sha256d_per_cpu_s", c1, 0);
    bench_json_num(&j, "openssl_evp_oneshot_sha256d_80B_per_cpu_s", evp, 0);
    bench_json_ratio(&j, "ratio_vs_evp_oneshot", c1, evp);
    bench_json_opt(&j, "openssl_speed_sha256_64B_per_cpu_s", have_speed, speed, 0);
    bench_json_ratio(&j, "ratio_vs_openssl_speed", c1, have_speed ? speed : 0);
    bench_json_end_object(&j);
    bench_json_object(&j, "mine_2_threads");
    bench_json_num(&j, "sha256d_per_s", m2, 0);
    bench_json_num(&j, "sha256d_per_cpu_s", c2, 0);
    bench_json_ratio(&j, "ratio_vs_1_thread", m2, m1);
    bench_json_end_object(&j);
    bench_json_object(&j, "backends_1_thread");
    for (size_t i = 0; i < nb; i++) {
        bench_json_object(&j, be[i].name);
        bench_json_num(&j, "sha256d_per_cpu_s", backend_rate(&be[i], secs), 0);
        bench_json_end_object(&j);
    }
    bench_json_end_object(&j);
    bench_json_num(&j, "floor_sha256d_per_cpu_s", 6e6, 0);
    bench_json_bool(&j, "meets_floor", c1 >= 6e6);
    bench_json_end_object(&j);
    bench_json_object(&j, "notes");
    bench_json_str(&j, "mine", "hre_pow_mine_range (midstate sweeps) through the public API; "
                   "*_per_cpu_s: hashes per CPU-second the threads received (robust on a shared "
                   "machine)");
    bench_json_str(&j, "reference", "an EVP one-shot sha256d of 80 bytes in a loop (mining "
                   "without a midstate), and openssl speed on 64-byte messages (two compressions "
                   "per hash, the same work as one midstate sha256d)");
    bench_json_end_object(&j);
    return bench_json_end(&j) == 0 ? 0 : 1;
}
