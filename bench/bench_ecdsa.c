/*
 * bench_ecdsa: ECDSA sign/s and verify/s through libhre (hre_key_sign /
 * hre_pubkey_verify with one shared key per curve), on 1 and 2 threads, for P-256
 * and secp256k1, next to
 *  - raw OpenSSL EVP in this process (EVP_PKEY_sign / EVP_PKEY_verify on a
 *    pre-initialised EVP_PKEY_CTX per thread, same digests, same loop), and
 *  - `openssl speed -mr -seconds 2 ecdsap256` and `... -multi 2 ...` run via
 *    popen (OpenSSL 3.0's speed has no secp256k1, so that curve has only
 *    the in-process reference),
 * and the ratios. Prints one JSON document on stdout.
 *
 * Each in-process point is ROUNDS short rounds, libhre and raw EVP
 * interleaved, and the best round is reported.
 * Environment: HRE_BENCH_SECONDS (per in-process point, default 1),
 * HRE_BENCH_SPEED_SECONDS (openssl speed -seconds, default 2; 0 skips it),
 * OPENSSL (the openssl binary, default "openssl").
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>

#include "hre/errors.h"
#include "hre/hash.h"
#include "hre/key.h"

#include "bench_util.h"

#define MAX_THREADS 2
#define NSIGS 16
#define ROUNDS 5

static void die(const char *what)
{
    fprintf(stderr, "bench_ecdsa: %s failed: %s\n", what, hre_error_detail());
    exit(1);
}

/* ---- shared benchmark state ---- */
typedef struct fixture {
    hre_curve curve;
    hre_key *key;
    hre_pubkey *pub;
    uint8_t digest[NSIGS][32];
    uint8_t sig[NSIGS][64];
    uint8_t der[NSIGS][HRE_SIG_DER_MAX];
    size_t derlen[NSIGS];
    EVP_PKEY *ossl_priv, *ossl_pub;   /* raw OpenSSL keys (same key pair) */
} fixture;

enum { OP_HRE_SIGN, OP_HRE_VERIFY, OP_SSL_SIGN, OP_SSL_VERIFY };

typedef struct worker {
    const fixture *fx;
    int op;
    double seconds;
    atomic_int *go;
    unsigned long ops;
    double cpu;        /* thread CPU seconds spent in the loop */
    int errors;
} worker;

static double thread_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *run_worker(void *argp)
{
    worker *w = argp;
    const fixture *fx = w->fx;
    EVP_PKEY_CTX *ctx = NULL;
    uint8_t sig[64], der[128];
    unsigned long n = 0;
    double end, cpu0;

    if (w->op == OP_SSL_SIGN) {
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, fx->ossl_priv, NULL);
        if (!ctx || EVP_PKEY_sign_init(ctx) <= 0) w->errors++;
    } else if (w->op == OP_SSL_VERIFY) {
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, fx->ossl_pub, NULL);
        if (!ctx || EVP_PKEY_verify_init(ctx) <= 0) w->errors++;
    }
    while (!atomic_load(w->go)) { /* spin until all threads are ready */ }
    end = bench_wall_s() + w->seconds;
    cpu0 = thread_cpu();
    while (!w->errors) {
        for (int b = 0; b < 16; b++, n++) {
            int i = (int)(n % NSIGS);
            size_t dl = sizeof der;
            switch (w->op) {
            case OP_HRE_SIGN:
                if (hre_key_sign(fx->key, sig, fx->digest[i]) != HRE_OK) w->errors++;
                break;
            case OP_HRE_VERIFY:
                if (hre_pubkey_verify(fx->pub, fx->digest[i], fx->sig[i]) != HRE_OK) w->errors++;
                break;
            case OP_SSL_SIGN:
                if (EVP_PKEY_sign(ctx, der, &dl, fx->digest[i], 32) != 1) w->errors++;
                break;
            default:
                if (EVP_PKEY_verify(ctx, fx->der[i], fx->derlen[i], fx->digest[i], 32) != 1) w->errors++;
                break;
            }
        }
        if (bench_wall_s() >= end) break;
    }
    w->ops = n;
    w->cpu = thread_cpu() - cpu0;
    EVP_PKEY_CTX_free(ctx);
    return NULL;
}

/* Returns ops per wall second (all threads); *per_cpu = sum over threads of
 * ops / thread CPU seconds, the figure `openssl speed` reports (it divides
 * by CPU time, and -multi sums its children), so it is comparable with it
 * and less sensitive to other load on the machine. */
static double measure(const fixture *fx, int op, int threads, double seconds, double *per_cpu)
{
    pthread_t th[MAX_THREADS];
    worker w[MAX_THREADS];
    atomic_int go;
    unsigned long total = 0;
    double t0, t1;
    atomic_init(&go, 0);
    for (int t = 0; t < threads; t++) {
        w[t] = (worker){fx, op, seconds, &go, 0, 0.0, 0};
        if (pthread_create(&th[t], NULL, run_worker, &w[t]) != 0) die("pthread_create");
    }
    t0 = bench_wall_s();
    atomic_store(&go, 1);
    *per_cpu = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        if (w[t].errors) die("an operation inside the benchmark loop");
        total += w[t].ops;
        *per_cpu += w[t].cpu > 0 ? (double)w[t].ops / w[t].cpu : 0;
    }
    t1 = bench_wall_s();
    return (double)total / (t1 - t0);
}

/* Raw OpenSSL keys for the same key pair, from the libhre PEM export. */
static EVP_PKEY *load_pem_private(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return k;
}

static void setup(fixture *fx, hre_curve curve)
{
    char pem[2048];
    size_t len = sizeof pem;
    uint8_t unc[65];
    size_t ulen = sizeof unc;
    memset(fx, 0, sizeof *fx);
    fx->curve = curve;
    if (hre_key_generate(&fx->key, curve) != HRE_OK) die("hre_key_generate");
    if (hre_key_pubkey(fx->key, &fx->pub) != HRE_OK) die("hre_key_pubkey");
    for (int i = 0; i < NSIGS; i++) {
        uint8_t m[8] = {(uint8_t)i, 'b', 'e', 'n', 'c', 'h'};
        if (hre_sha256(fx->digest[i], m, sizeof m) != HRE_OK) die("hre_sha256");
        if (hre_key_sign(fx->key, fx->sig[i], fx->digest[i]) != HRE_OK) die("hre_key_sign");
        fx->derlen[i] = sizeof fx->der[i];
        if (hre_sig_serialize_der(fx->der[i], &fx->derlen[i], curve, fx->sig[i]) != HRE_OK) die("hre_sig_serialize_der");
    }
    if (hre_key_export_pem(fx->key, pem, &len, NULL, 0) != HRE_OK) die("hre_key_export_pem");
    fx->ossl_priv = load_pem_private(pem);
    hre_wipe(pem, sizeof pem);
    if (hre_pubkey_serialize(fx->pub, unc, &ulen, 0) != HRE_OK) die("hre_pubkey_serialize");
    {
        OSSL_PARAM params[3];
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        params[0] = OSSL_PARAM_construct_utf8_string("group",
                        (char *)(curve == HRE_CURVE_P256 ? "prime256v1" : "secp256k1"), 0);
        params[1] = OSSL_PARAM_construct_octet_string("pub", unc, ulen);
        params[2] = OSSL_PARAM_construct_end();
        if (!c || EVP_PKEY_fromdata_init(c) <= 0 ||
            EVP_PKEY_fromdata(c, &fx->ossl_pub, EVP_PKEY_PUBLIC_KEY, params) <= 0)
            die("EVP_PKEY_fromdata");
        EVP_PKEY_CTX_free(c);
    }
    if (!fx->ossl_priv || !fx->ossl_pub) die("raw OpenSSL key setup");
}

static void teardown(fixture *fx)
{
    hre_pubkey_free(fx->pub);
    hre_key_free(fx->key);
    EVP_PKEY_free(fx->ossl_priv);
    EVP_PKEY_free(fx->ossl_pub);
}

static void read_loadavg(double l[3])
{
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f) return;
    if (fscanf(f, "%lf %lf %lf", &l[0], &l[1], &l[2]) != 3) l[0] = l[1] = l[2] = 0;
    fclose(f);
}

int main(void)
{
    const char *env = getenv("HRE_BENCH_SECONDS");
    double secs = env ? atof(env) : 1.0;
    int speed_secs = getenv("HRE_BENCH_SPEED_SECONDS") ? atoi(getenv("HRE_BENCH_SPEED_SECONDS")) : 2;
    const char *openssl = getenv("OPENSSL") ? getenv("OPENSSL") : "openssl";
    const hre_curve curves[2] = {HRE_CURVE_P256, HRE_CURVE_SECP256K1};
    const char *cname[2] = {"p256", "secp256k1"};
    double r[2][4][MAX_THREADS + 1];   /* [curve][op][threads], per wall second */
    double rc[2][4][MAX_THREADS + 1];  /* per CPU second (see measure) */
    double load[3] = {0}, load_end[3] = {0};
    double sp_sign[3] = {0}, sp_verify[3] = {0};
    int have_speed[3] = {0};
    if (secs <= 0) secs = 1.0;
    read_loadavg(load);

    /* openssl speed first, while nothing else of ours runs */
    if (speed_secs > 0) {
        have_speed[1] = bench_openssl_speed_ecdsap256(1, speed_secs, &sp_sign[1], &sp_verify[1]);
        have_speed[2] = bench_openssl_speed_ecdsap256(2, speed_secs, &sp_sign[2], &sp_verify[2]);
    }
    for (int c = 0; c < 2; c++) {
        fixture fx;
        setup(&fx, curves[c]);
        /* ROUNDS short rounds per point, libhre and raw OpenSSL interleaved
         * round-robin, best round kept: other load on a shared machine
         * then hurts both sides alike and mostly drops out. */
        for (int t = 1; t <= MAX_THREADS; t++) {
            for (int op = 0; op < 4; op++) r[c][op][t] = rc[c][op][t] = 0;
            for (int round = 0; round < ROUNDS; round++)
                for (int op = 0; op < 4; op++) {
                    double cpu, wall = measure(&fx, op, t, secs / ROUNDS, &cpu);
                    if (wall > r[c][op][t]) r[c][op][t] = wall;
                    if (cpu > rc[c][op][t]) rc[c][op][t] = cpu;
                }
        }
        teardown(&fx);
    }
    read_loadavg(load_end);

    printf("{\n  \"bench\": \"ecdsa\",\n  \"seconds_per_point\": %.2f,\n  \"rounds_per_point\": %d,\n"
           "  \"aggregation\": \"best of the rounds, libhre and raw EVP interleaved\",\n", secs, ROUNDS);
    printf("  \"loadavg_start\": [%.2f, %.2f, %.2f], \"loadavg_end\": [%.2f, %.2f, %.2f],\n",
           load[0], load[1], load[2], load_end[0], load_end[1], load_end[2]);
    printf("  \"note\": \"libhre = hre_key_sign/hre_pubkey_verify (64-byte r||s, low-S checks, DER conversion, "
           "context pool) with one key shared by all threads; openssl_evp = EVP_PKEY_sign/verify on a "
           "per-thread EVP_PKEY_CTX in this process. *_per_s: total ops per wall second; *_per_cpu_s: "
           "sum over threads of ops per thread CPU second. openssl speed reports ops per user CPU second "
           "for one process but ops per wall second with -multi, so the ratios against it use the "
           "matching libhre figure. The machine is shared: see loadavg\",\n");
    printf("  \"curves\": {\n");
    for (int c = 0; c < 2; c++) {
        printf("    \"%s\": {\n", cname[c]);
        for (int t = 1; t <= MAX_THREADS; t++) {
            printf("      \"threads_%d\": {\"libhre_sign_per_s\": %.0f, \"libhre_verify_per_s\": %.0f, "
                   "\"openssl_evp_sign_per_s\": %.0f, \"openssl_evp_verify_per_s\": %.0f, "
                   "\"libhre_sign_per_cpu_s\": %.0f, \"libhre_verify_per_cpu_s\": %.0f, "
                   "\"openssl_evp_sign_per_cpu_s\": %.0f, \"openssl_evp_verify_per_cpu_s\": %.0f, "
                   "\"ratio_sign_vs_evp\": %.3f, \"ratio_verify_vs_evp\": %.3f},\n",
                   t, r[c][OP_HRE_SIGN][t], r[c][OP_HRE_VERIFY][t], r[c][OP_SSL_SIGN][t],
                   r[c][OP_SSL_VERIFY][t], rc[c][OP_HRE_SIGN][t], rc[c][OP_HRE_VERIFY][t],
                   rc[c][OP_SSL_SIGN][t], rc[c][OP_SSL_VERIFY][t],
                   rc[c][OP_HRE_SIGN][t] / rc[c][OP_SSL_SIGN][t],
                   rc[c][OP_HRE_VERIFY][t] / rc[c][OP_SSL_VERIFY][t]);
        }
        printf("      \"libhre_scaling_2_threads_wall\": {\"sign\": %.2f, \"verify\": %.2f}\n",
               r[c][OP_HRE_SIGN][2] / r[c][OP_HRE_SIGN][1], r[c][OP_HRE_VERIFY][2] / r[c][OP_HRE_VERIFY][1]);
        printf("    }%s\n", c == 0 ? "," : "");
    }
    printf("  },\n  \"openssl_speed_ecdsap256\": {\n");
    printf("    \"command\": \"%s speed -mr [-multi 2] -seconds %d ecdsap256\",\n", openssl, speed_secs);
    for (int t = 1; t <= 2; t++) {
        /* openssl speed divides by user CPU time, but with -multi by wall
         * time (measured: -multi 1 == -elapsed), so compare like with like */
        double (*mine)[MAX_THREADS + 1] = t == 1 ? rc[0] : r[0];
        if (have_speed[t])
            printf("    \"threads_%d\": {\"basis\": \"%s\", \"sign_per_s\": %.0f, \"verify_per_s\": %.0f, "
                   "\"libhre_ratio_sign\": %.3f, \"libhre_ratio_verify\": %.3f}%s\n",
                   t, t == 1 ? "per CPU second (libhre *_per_cpu_s)" : "per wall second (libhre *_per_s)",
                   sp_sign[t], sp_verify[t], mine[OP_HRE_SIGN][t] / sp_sign[t],
                   mine[OP_HRE_VERIFY][t] / sp_verify[t], t == 1 ? "," : "");
        else
            printf("    \"threads_%d\": null%s\n", t, t == 1 ? "," : "");
    }
    printf("  }\n}\n");
    return 0;
}
