/*
 * bench_vault: the vault (vault.h) next to the raw OpenSSL figures measured
 * by `openssl speed` in the same run. Prints one JSON document.
 *
 *  - seal / open MB/s of a 1 MiB and a 64 MiB document without compression
 *    (HRE_VAULT_COMPRESS_NEVER: padding, chunking, AES-256-GCM, SHA-256 of
 *    the envelope), opening with and without the hash check, against
 *    `openssl speed -evp aes-256-gcm` (16 KiB blocks) and `openssl speed
 *    sha256` (the envelope hash is a floor of seal: it is the record's
 *    doc_sha256); the bar is seal+open >= 0.8 of raw AES-GCM at 1 MiB;
 *  - the same with compression (COMPRESS_AUTO, level 6) on the FHIR corpus
 *    (tests/data/fhir-stu3 or HRE_FHIR_DIR), with zlib's own deflate and
 *    inflate MB/s on the same bytes as their reference ("counting
 *    compression separately");
 *  - wraps per second (hre_vault_sealer_wrap) and unwraps per second
 *    (hre_vault_opener_new) in auth and base mode, against `openssl speed
 *    ecdhp256` (bars: wrap >= 0.45, unwrap >= 0.9);
 *  - memory while sealing 64 MiB in 1 MiB pieces (peak RSS growth);
 *  - scale: a vault of N documents (default 100000; HRE_BENCH_VAULT_DOCS or
 *    argv[1]) on a POSIX directory without fsync: build time, open time and
 *    memory (RSS growth and the vault's own count).
 * Rates are per CPU-second of this thread (as one `openssl speed` process);
 * each point is the best of ROUNDS rounds, with openssl speed runs between.
 * Environment: HRE_BENCH_SPEED_SECONDS (openssl speed -seconds, default 1; 0
 * skips it), OPENSSL (the binary), HRE_BENCH_DIR (scratch directory parent,
 * default /tmp), HRE_FHIR_DIR, HRE_DATA_DIR.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <hre/hre.h>

#include "bench_util.h"

#define ROUNDS 5

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_vault: %s failed (%d): %s\n", what, rc, hre_error_detail());
    exit(1);
}

static double max2(double a, double b) { return a > b ? a : b; }

static const char *openssl_bin(void) { return getenv("OPENSSL") ? getenv("OPENSSL") : "openssl"; }

/* `openssl speed -mr -seconds S [-bytes N] [-evp] ALG`: "+F:idx:name:bytes/s..." -> MB/s of the last column */
static double speed_bulk(const char *alg, int evp, size_t bytes, int seconds)
{
    char cmd[256], line[512];
    FILE *p;
    double bps = 0;
    snprintf(cmd, sizeof cmd, "%s speed -mr -seconds %d -bytes %zu %s%s 2>/dev/null", openssl_bin(), seconds,
             bytes, evp ? "-evp " : "", alg);
    if (!(p = popen(cmd, "r"))) return 0;
    while (fgets(line, sizeof line, p)) {
        char *c = strrchr(line, ':');
        if (!strncmp(line, "+F:", 3) && c) bps = strtod(c + 1, NULL);
    }
    return pclose(p) == 0 ? bps / 1e6 : 0;
}

static double speed_ecdh(int seconds)
{
    char cmd[256], line[512];
    FILE *p;
    double ops = 0;
    snprintf(cmd, sizeof cmd, "%s speed -mr -seconds %d ecdhp256 2>/dev/null", openssl_bin(), seconds);
    if (!(p = popen(cmd, "r"))) return 0;
    while (fgets(line, sizeof line, p)) {
        int idx, bits;
        double o, t;
        if (sscanf(line, "+F5:%d:%d:%lf:%lf", &idx, &bits, &o, &t) == 4) ops = o;
    }
    return pclose(p) == 0 ? ops : 0;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- sinks ---- */

typedef struct mbuf {
    uint8_t *p;
    size_t n, cap;
} mbuf;

static int mbuf_sink(void *ud, const uint8_t *d, size_t n)
{
    mbuf *b = ud;
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 1 << 20;
        while (c < b->n + n) c *= 2;
        if (!(b->p = realloc(b->p, c))) return HRE_ENOMEM;
        b->cap = c;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
    return HRE_OK;
}

static int null_sink(void *ud, const uint8_t *d, size_t n)
{
    size_t *count = ud;
    (void)d;
    *count += n;
    return HRE_OK;
}

/* ---- keys and params ---- */

static hre_key *g_reader, *g_sender;
static hre_pubkey *g_reader_pub;
static const uint8_t g_rid[32] = {0x52};

static void params(hre_vault_seal_params *p, int compress, int auth)
{
    if (hre_vault_seal_params_init(p, HRE_VAULT_SEAL_PARAMS_VERSION) != HRE_OK) die("params", -1);
    memset(p->locator, 0x4c, 32);
    p->doc_version = 1;
    p->compress = compress;
    p->media_type = "application/octet-stream";
    if (auth) {
        p->sender_key = g_sender;
        p->sender_type = HRE_VAULT_READER_ORG;
        memset(p->sender_id, 0x53, 32);
    }
}

/* Seal docs[0..n) (each len[i]) into envs; returns CPU seconds. */
static double seal_all(mbuf *envs, hre_vault_wrap *wraps, const uint8_t *const *docs, const size_t *lens,
                       size_t n, int compress, size_t piece)
{
    hre_vault_seal_params p;
    double t0 = bench_thread_cpu_s();
    params(&p, compress, 1);
    for (size_t i = 0; i < n; i++) {
        hre_vault_sealer *s = NULL;
        uint8_t h[32];
        int rc;
        envs[i].n = 0;
        if ((rc = hre_vault_sealer_new(&s, &p, mbuf_sink, &envs[i])) != HRE_OK) die("sealer_new", rc);
        for (size_t off = 0; off < lens[i]; off += piece)
            if ((rc = hre_vault_sealer_write(s, docs[i] + off, lens[i] - off < piece ? lens[i] - off : piece)) != HRE_OK)
                die("sealer_write", rc);
        if ((rc = hre_vault_sealer_finish(s, h, NULL)) != HRE_OK) die("sealer_finish", rc);
        if (wraps && (rc = hre_vault_sealer_wrap(s, &wraps[i], 0, g_rid, g_reader_pub)) != HRE_OK) die("wrap", rc);
        hre_vault_sealer_free(s);
    }
    return bench_thread_cpu_s() - t0;
}

/* Open envs; returns CPU seconds (the unwrap is excluded: timed separately). */
static double open_all(const mbuf *envs, const hre_vault_wrap *wraps, size_t n, unsigned int flags, size_t total)
{
    double t = 0;
    for (size_t i = 0; i < n; i++) {
        hre_vault_open_params op = HRE_VAULT_OPEN_PARAMS_INIT;
        hre_vault_opener *o = NULL;
        size_t got = 0;
        double t0;
        int rc;
        op.wrap = &wraps[i];
        op.reader_key = g_reader;
        op.flags = flags;
        if ((rc = hre_vault_opener_new(&o, &op, null_sink, &got)) != HRE_OK) die("opener_new", rc);
        t0 = bench_thread_cpu_s();
        if ((rc = hre_vault_opener_write(o, envs[i].p, envs[i].n)) != HRE_OK) die("opener_write", rc);
        if ((rc = hre_vault_opener_finish(o, NULL)) != HRE_OK) die("opener_finish", rc);
        t += bench_thread_cpu_s() - t0;
        hre_vault_opener_free(o);
        total -= got;
    }
    if (total != 0) die("open length", HRE_EDECODE);
    return t;
}

/* The sealing time without the wraps: seal_all with wraps costs the wraps too;
 * this bench seals without wraps for the timing and wraps once per document. */
typedef struct point {
    double seal, open_hash, open_nohash;   /* MB/s of document bytes */
} point;

static point measure(const uint8_t *const *docs, const size_t *lens, size_t n, int compress, size_t piece,
                     uint64_t *env_bytes)
{
    mbuf *envs = calloc(n, sizeof *envs);
    hre_vault_wrap *wraps = calloc(n, sizeof *wraps);
    point best = {0, 0, 0};
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += lens[i];
    seal_all(envs, wraps, docs, lens, n, compress, piece);   /* the wraps to open with */
    *env_bytes = 0;
    for (size_t i = 0; i < n; i++) *env_bytes += envs[i].n;
    for (int r = 0; r < ROUNDS; r++) {
        mbuf *tmp = calloc(n, sizeof *tmp);
        double ts = seal_all(tmp, NULL, docs, lens, n, compress, piece);
        for (size_t i = 0; i < n; i++) free(tmp[i].p);
        free(tmp);
        best.seal = max2(best.seal, total / ts / 1e6);
        best.open_hash = max2(best.open_hash, total / open_all(envs, wraps, n, 0, total) / 1e6);
        best.open_nohash = max2(best.open_nohash, total / open_all(envs, wraps, n, HRE_VAULT_OPEN_NO_HASH, total) / 1e6);
    }
    for (size_t i = 0; i < n; i++) free(envs[i].p);
    free(envs);
    free(wraps);
    return best;
}

static double both(point p) { return 1.0 / (1.0 / p.seal + 1.0 / p.open_hash); }

/* zlib level 6 and inflate MB/s on the same documents */
static void zlib_rates(const uint8_t *const *docs, const size_t *lens, size_t n, double *def, double *inf)
{
    size_t total = 0;
    uLongf cap = 0;
    uint8_t *out, *back;
    for (size_t i = 0; i < n; i++) {
        total += lens[i];
        if (compressBound((uLong)lens[i]) > cap) cap = compressBound((uLong)lens[i]);
    }
    out = malloc(cap);
    back = malloc(cap + 1);
    *def = *inf = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double td = 0, ti = 0;
        for (size_t i = 0; i < n; i++) {
            uLongf ol = cap, bl = cap;
            double t0 = bench_thread_cpu_s();
            if (compress2(out, &ol, docs[i], (uLong)lens[i], 6) != Z_OK) die("compress2", -1);
            td += bench_thread_cpu_s() - t0;
            t0 = bench_thread_cpu_s();
            if (uncompress(back, &bl, out, ol) != Z_OK || bl != lens[i]) die("uncompress", -1);
            ti += bench_thread_cpu_s() - t0;
        }
        *def = max2(*def, total / td / 1e6);
        *inf = max2(*inf, total / ti / 1e6);
    }
    free(out);
    free(back);
}

/* ---- the FHIR corpus ---- */

static size_t load_corpus(uint8_t ***docs, size_t **lens)
{
    char dir[1024];
    const char *fd = getenv("HRE_FHIR_DIR");
    DIR *d;
    struct dirent *de;
    size_t n = 0;
    if (fd && *fd) snprintf(dir, sizeof dir, "%s", fd);
    else snprintf(dir, sizeof dir, "%s/fhir-stu3", getenv("HRE_DATA_DIR") ? getenv("HRE_DATA_DIR") : "tests/data");
    *docs = calloc(256, sizeof **docs);
    *lens = calloc(256, sizeof **lens);
    if (!(d = opendir(dir))) return 0;
    while ((de = readdir(d)) && n < 256) {
        char path[1400];
        FILE *f;
        long len;
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (!(f = fopen(path, "rb"))) continue;
        fseek(f, 0, SEEK_END);
        len = ftell(f);
        fseek(f, 0, SEEK_SET);
        (*docs)[n] = malloc((size_t)len + 1);
        if (fread((*docs)[n], 1, (size_t)len, f) != (size_t)len) die("read corpus", HRE_EIO);
        (*lens)[n++] = (size_t)len;
        fclose(f);
    }
    closedir(d);
    return n;
}

/* ---- wraps ---- */

typedef struct wrapbench {
    double wrap_auth, wrap_base, unwrap_auth, unwrap_base;
} wrapbench;

static double wrap_rate(hre_vault_sealer *s)
{
    hre_vault_wrap w;
    double t0 = bench_thread_cpu_s(), dt;
    unsigned long n = 0;
    int rc;
    do {
        for (int i = 0; i < 16; i++)
            if ((rc = hre_vault_sealer_wrap(s, &w, 0, g_rid, g_reader_pub)) != HRE_OK) die("wrap", rc);
        n += 16;
        dt = bench_thread_cpu_s() - t0;
    } while (dt < 0.3);
    return n / dt;
}

static double unwrap_rate(const hre_vault_wrap *w)
{
    hre_vault_open_params op = HRE_VAULT_OPEN_PARAMS_INIT;
    double t0 = bench_thread_cpu_s(), dt;
    unsigned long n = 0;
    size_t got = 0;
    int rc;
    op.wrap = w;
    op.reader_key = g_reader;
    do {
        for (int i = 0; i < 16; i++) {
            hre_vault_opener *o = NULL;
            if ((rc = hre_vault_opener_new(&o, &op, null_sink, &got)) != HRE_OK) die("unwrap", rc);
            hre_vault_opener_free(o);
        }
        n += 16;
        dt = bench_thread_cpu_s() - t0;
    } while (dt < 0.3);
    return n / dt;
}

static wrapbench bench_wraps(void)
{
    wrapbench b = {0, 0, 0, 0};
    for (int auth = 0; auth < 2; auth++) {
        hre_vault_seal_params p;
        hre_vault_sealer *s = NULL;
        hre_vault_wrap w;
        mbuf env = {0};
        uint8_t h[32];
        int rc;
        params(&p, HRE_VAULT_COMPRESS_NEVER, auth);
        if ((rc = hre_vault_sealer_new(&s, &p, mbuf_sink, &env)) != HRE_OK) die("sealer", rc);
        if ((rc = hre_vault_sealer_finish(s, h, NULL)) != HRE_OK) die("finish", rc);
        if ((rc = hre_vault_sealer_wrap(s, &w, 0, g_rid, g_reader_pub)) != HRE_OK) die("wrap", rc);
        for (int r = 0; r < ROUNDS; r++) {
            double wr = wrap_rate(s), ur = unwrap_rate(&w);
            if (auth) b.wrap_auth = max2(b.wrap_auth, wr), b.unwrap_auth = max2(b.unwrap_auth, ur);
            else b.wrap_base = max2(b.wrap_base, wr), b.unwrap_base = max2(b.unwrap_base, ur);
        }
        hre_vault_sealer_free(s);
        free(env.p);
    }
    return b;
}

/* ---- memory while streaming ---- */

typedef struct peak {
    size_t bytes;
    long base, top;
} peak;

static int peak_sink(void *ud, const uint8_t *d, size_t n)
{
    peak *pk = ud;
    long r = rss_kib();
    (void)d;
    pk->bytes += n;
    if (r > pk->top) pk->top = r;
    return HRE_OK;
}

/* RSS growth (sampled at every chunk) while sealing total bytes in 1 MiB
 * pieces of random data (so the compression trial says no) into a sink that
 * keeps nothing. */
static long stream_peak_kib(size_t total)
{
    hre_vault_seal_params p;
    hre_vault_sealer *s = NULL;
    uint8_t *piece = malloc(1 << 20), h[32];
    peak pk = {0, 0, 0};
    int rc;
    if ((rc = hre_random_bytes(piece, 1 << 20)) != HRE_OK) die("random", rc);
    params(&p, HRE_VAULT_COMPRESS_AUTO, 1);
    pk.base = pk.top = rss_kib();
    if ((rc = hre_vault_sealer_new(&s, &p, peak_sink, &pk)) != HRE_OK) die("sealer", rc);
    for (size_t off = 0; off < total; off += 1 << 20)
        if ((rc = hre_vault_sealer_write(s, piece, 1 << 20)) != HRE_OK) die("write", rc);
    if ((rc = hre_vault_sealer_finish(s, h, NULL)) != HRE_OK) die("finish", rc);
    hre_vault_sealer_free(s);
    free(piece);
    if (pk.bytes < total) die("stream length", HRE_EDECODE);
    return pk.top - pk.base;
}

/* ---- scale ---- */

typedef struct scale {
    size_t docs;
    double build_s, open_wall_s, open_cpu_s;
    long rss_kib;
    uint64_t vault_memory_bytes, index_bytes;
} scale;

static void rm_rf(const char dir[1024])
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[1400];
    if (!d) return;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') {
            snprintf(path, sizeof path, "%.1023s/%.255s", dir, de->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(dir);
}

static scale bench_scale(size_t n)
{
    scale sc;
    char dir[1024];
    hre_storage_posix_options po = HRE_STORAGE_POSIX_OPTIONS_INIT;
    hre_storage *st = NULL;
    hre_vault_options vo = HRE_VAULT_OPTIONS_INIT;
    hre_vault *v = NULL;
    hre_vault_seal_params p;
    hre_vault_stats stats = HRE_VAULT_STATS_INIT;
    uint8_t doc[200];
    double t0;
    long r0;
    int rc;
    memset(&sc, 0, sizeof sc);
    sc.docs = n;
    snprintf(dir, sizeof dir, "%.900s/hre-bench-vault-%ld",
             getenv("HRE_BENCH_DIR") ? getenv("HRE_BENCH_DIR") : "/tmp", (long)getpid());
    po.flags = HRE_STORAGE_POSIX_NOSYNC;
    if ((rc = hre_storage_posix_open(&st, dir, &po)) != HRE_OK) die("posix_open", rc);
    vo.storage = st;
    if ((rc = hre_vault_open(&v, &vo)) != HRE_OK) die("vault_open", rc);
    params(&p, HRE_VAULT_COMPRESS_NEVER, 0);
    memset(doc, 0x44, sizeof doc);
    t0 = bench_wall_s();
    for (size_t i = 0; i < n; i++) {
        hre_vault_store *s = NULL;
        uint8_t h[32];
        memcpy(p.locator, &i, sizeof i);
        if ((rc = hre_vault_store_new(&s, v, &p)) != HRE_OK) die("store_new", rc);
        if ((rc = hre_vault_store_write(s, doc, sizeof doc)) != HRE_OK) die("store_write", rc);
        if ((rc = hre_vault_store_add_reader(s, 0, g_rid, g_reader_pub)) != HRE_OK) die("add_reader", rc);
        if ((rc = hre_vault_store_commit(s, h, NULL)) != HRE_OK) die("store_commit", rc);
        hre_vault_store_free(s);
    }
    sc.build_s = bench_wall_s() - t0;
    hre_vault_close(v);
    v = NULL;
    r0 = rss_kib();
    t0 = bench_wall_s();
    {
        double c0 = bench_thread_cpu_s();
        if ((rc = hre_vault_open(&v, &vo)) != HRE_OK) die("vault_reopen", rc);
        sc.open_cpu_s = bench_thread_cpu_s() - c0;
    }
    sc.open_wall_s = bench_wall_s() - t0;
    sc.rss_kib = rss_kib() - r0;
    if ((rc = hre_vault_stats_get(v, &stats)) != HRE_OK) die("stats", rc);
    if (stats.documents != n) die("document count", HRE_ECORRUPT);
    sc.vault_memory_bytes = stats.memory_bytes;
    sc.index_bytes = stats.index_bytes;
    hre_vault_close(v);
    hre_storage_free(st);
    rm_rf(dir);
    return sc;
}

int main(int argc, char **argv)
{
    int speed_s = getenv("HRE_BENCH_SPEED_SECONDS") ? atoi(getenv("HRE_BENCH_SPEED_SECONDS")) : 1;
    size_t ndocs = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10)
                 : getenv("HRE_BENCH_VAULT_DOCS") ? (size_t)strtoull(getenv("HRE_BENCH_VAULT_DOCS"), NULL, 10)
                                                  : 100000;
    double ossl_gcm = 0, ossl_sha = 0, ossl_ecdh = 0, zdef = 0, zinf = 0;
    uint8_t *one, *big, **corpus = NULL;
    size_t *clens = NULL, ncorpus, one_len = 1 << 20, big_len = (size_t)64 << 20, ctotal = 0;
    uint64_t env1, env64, envc, envc_never;
    point p1, p64, pc, pc_never;
    wrapbench wb;
    long stream_kib;
    scale sc;
    int rc;

    if ((rc = hre_key_generate(&g_reader, HRE_CURVE_P256)) != HRE_OK ||
        (rc = hre_key_generate(&g_sender, HRE_CURVE_P256)) != HRE_OK ||
        (rc = hre_key_pubkey(g_reader, &g_reader_pub)) != HRE_OK)
        die("keys", rc);
    stream_kib = stream_peak_kib((size_t)64 << 20);
    one = malloc(one_len);
    big = malloc(big_len);
    if (!one || !big) die("malloc", HRE_ENOMEM);
    if ((rc = hre_random_bytes(one, one_len)) != HRE_OK || (rc = hre_random_bytes(big, big_len)) != HRE_OK)
        die("random", rc);
    ncorpus = load_corpus(&corpus, &clens);
    for (size_t i = 0; i < ncorpus; i++) ctotal += clens[i];

    for (int r = 0; r < 3 && speed_s > 0; r++) {
        ossl_gcm = max2(ossl_gcm, speed_bulk("aes-256-gcm", 1, 16384, speed_s));
        ossl_sha = max2(ossl_sha, speed_bulk("sha256", 0, 16384, speed_s));
        ossl_ecdh = max2(ossl_ecdh, speed_ecdh(speed_s));
    }
    {
        const uint8_t *d1[1] = {one}, *d64[1] = {big};
        p1 = measure(d1, &one_len, 1, HRE_VAULT_COMPRESS_NEVER, one_len, &env1);
        p64 = measure(d64, &big_len, 1, HRE_VAULT_COMPRESS_NEVER, 1 << 20, &env64);
    }
    if (ncorpus) {
        pc = measure((const uint8_t *const *)corpus, clens, ncorpus, HRE_VAULT_COMPRESS_AUTO, 1 << 20, &envc);
        pc_never = measure((const uint8_t *const *)corpus, clens, ncorpus, HRE_VAULT_COMPRESS_NEVER, 1 << 20,
                           &envc_never);
        zlib_rates((const uint8_t *const *)corpus, clens, ncorpus, &zdef, &zinf);
    } else {
        memset(&pc, 0, sizeof pc);
        pc_never = pc;
        envc = envc_never = 0;
    }
    for (int r = 0; r < 2 && speed_s > 0; r++) ossl_gcm = max2(ossl_gcm, speed_bulk("aes-256-gcm", 1, 16384, speed_s));
    wb = bench_wraps();
    for (int r = 0; r < 2 && speed_s > 0; r++) ossl_ecdh = max2(ossl_ecdh, speed_ecdh(speed_s));
    sc = bench_scale(ndocs);

    printf("{\n  \"bench\": \"vault\",\n  \"openssl_speed_seconds\": %d,\n", speed_s);
    printf("  \"openssl_speed\": {\"aes_256_gcm_MBps\": %.1f, \"sha256_MBps\": %.1f, \"ecdhp256_ops\": %.0f,\n"
           "    \"aes_gcm_plus_sha256_MBps\": %.1f},\n",
           ossl_gcm, ossl_sha, ossl_ecdh, ossl_gcm > 0 && ossl_sha > 0 ? 1 / (1 / ossl_gcm + 1 / ossl_sha) : 0);
#define POINT(name, p, bytes, env, last)                                                                         \
    printf("  \"%s\": {\"doc_bytes\": %zu, \"envelope_bytes\": %llu, \"seal_MBps\": %.1f, \"open_MBps\": %.1f, " \
           "\"open_nohash_MBps\": %.1f, \"seal_open_MBps\": %.1f, \"seal_vs_aes_gcm\": %.3f, "                   \
           "\"open_vs_aes_gcm\": %.3f, \"open_nohash_vs_aes_gcm\": %.3f, \"seal_open_vs_aes_gcm\": %.3f, "       \
           "\"seal_vs_aes_gcm_plus_sha256\": %.3f}%s\n",                                                         \
           name, (size_t)(bytes), (unsigned long long)(env), p.seal, p.open_hash, p.open_nohash, both(p),         \
           ossl_gcm > 0 ? p.seal / ossl_gcm : 0, ossl_gcm > 0 ? p.open_hash / ossl_gcm : 0,                       \
           ossl_gcm > 0 ? p.open_nohash / ossl_gcm : 0, ossl_gcm > 0 ? both(p) / (ossl_gcm / 2) : 0,              \
           ossl_gcm > 0 && ossl_sha > 0 ? p.seal / (1 / (1 / ossl_gcm + 1 / ossl_sha)) : 0, last)
    POINT("doc_1MiB_no_compression", p1, one_len, env1, ",");
    POINT("doc_64MiB_no_compression", p64, big_len, env64, ",");
    POINT("fhir_corpus_compressed", pc, ctotal, envc, ",");
    POINT("fhir_corpus_no_compression", pc_never, ctotal, envc_never, ",");
    printf("  \"fhir_corpus\": {\"bundles\": %zu, \"zlib6_deflate_MBps\": %.1f, \"zlib_inflate_MBps\": %.1f, "
           "\"compression_ratio\": %.3f},\n",
           ncorpus, zdef, zinf, ctotal ? (double)envc / (double)ctotal : 0);
    printf("  \"bar_seal_open_1MiB\": {\"value\": %.3f, \"bar\": 0.8, \"met\": %s, \"note\": \"seal_open_MBps "
           "against raw AES-GCM encrypt-then-decrypt (openssl speed / 2); seal includes the SHA-256 of the "
           "envelope, see seal_vs_aes_gcm_plus_sha256\"},\n",
           ossl_gcm > 0 ? both(p1) / (ossl_gcm / 2) : 0,
           ossl_gcm > 0 ? (both(p1) / (ossl_gcm / 2) >= 0.8 ? "true" : "false") : "null");
    printf("  \"wraps\": {\"wrap_auth_per_s\": %.0f, \"wrap_base_per_s\": %.0f, \"unwrap_auth_per_s\": %.0f, "
           "\"unwrap_base_per_s\": %.0f,\n    \"wrap_auth_vs_ecdhp256\": %.3f, \"wrap_base_vs_ecdhp256\": %.3f, "
           "\"unwrap_auth_vs_ecdhp256\": %.3f, \"unwrap_base_vs_ecdhp256\": %.3f,\n"
           "    \"wrap_bar\": 0.45, \"unwrap_bar\": 0.9, \"wrap_auth_met\": %s, \"unwrap_auth_met\": %s, "
           "\"wrap_base_met\": %s, \"unwrap_base_met\": %s},\n",
           wb.wrap_auth, wb.wrap_base, wb.unwrap_auth, wb.unwrap_base,
           ossl_ecdh > 0 ? wb.wrap_auth / ossl_ecdh : 0, ossl_ecdh > 0 ? wb.wrap_base / ossl_ecdh : 0,
           ossl_ecdh > 0 ? wb.unwrap_auth / ossl_ecdh : 0, ossl_ecdh > 0 ? wb.unwrap_base / ossl_ecdh : 0,
           ossl_ecdh > 0 ? (wb.wrap_auth / ossl_ecdh >= 0.45 ? "true" : "false") : "null",
           ossl_ecdh > 0 ? (wb.unwrap_auth / ossl_ecdh >= 0.9 ? "true" : "false") : "null",
           ossl_ecdh > 0 ? (wb.wrap_base / ossl_ecdh >= 0.45 ? "true" : "false") : "null",
           ossl_ecdh > 0 ? (wb.unwrap_base / ossl_ecdh >= 0.9 ? "true" : "false") : "null");
    printf("  \"streaming_64MiB_seal_peak_rss_growth_KiB\": %ld,\n", stream_kib);
    printf("  \"scale\": {\"documents\": %zu, \"build_s\": %.2f, \"open_wall_s\": %.3f, \"open_cpu_s\": %.3f, "
           "\"open_rss_growth_KiB\": %ld, \"vault_memory_bytes\": %llu, \"index_bytes\": %llu, "
           "\"storage\": \"posix, no fsync\"}\n}\n",
           sc.docs, sc.build_s, sc.open_wall_s, sc.open_cpu_s, sc.rss_kib,
           (unsigned long long)sc.vault_memory_bytes, (unsigned long long)sc.index_bytes);
    for (size_t i = 0; i < ncorpus; i++) free(corpus[i]);
    free(corpus);
    free(clens);
    free(one);
    free(big);
    hre_pubkey_free(g_reader_pub);
    hre_key_free(g_reader);
    hre_key_free(g_sender);
    return 0;
}
