/*
 * bench_vault: the vault (vault.h) next to the raw OpenSSL and zlib figures
 * measured in the same run. Prints one JSON document on stdout, written with
 * the harness of bench_util.h (schema: bench/README.md).
 *
 *  - seal / open MB/s of a 1 MiB and a big document (64 MiB;
 *    HRE_BENCH_VAULT_BIG_MIB) without compression (HRE_VAULT_COMPRESS_NEVER:
 *    padding, chunking, AES-256-GCM, SHA-256 of the envelope), opening with
 *    and without the hash check, against `openssl speed -evp aes-256-gcm`
 *    (16 KiB blocks) and `openssl speed sha256` (the envelope hash is a floor
 *    of seal: it is the record's doc_sha256); the bar is seal+open >= 0.8 of
 *    raw AES-GCM encrypt-then-decrypt at 1 MiB;
 *  - the same with compression (COMPRESS_AUTO, level 6) and without on the
 *    FHIR corpus (tests/data/fhir-stu3 or HRE_FHIR_DIR; the first
 *    HRE_BENCH_VAULT_BUNDLES files by name), with zlib's own deflate and
 *    inflate MB/s on the same bytes as their reference ("counting
 *    compression separately");
 *  - wraps per second (hre_vault_sealer_wrap) and unwraps per second
 *    (hre_vault_opener_new) in auth and base mode, against `openssl speed
 *    ecdhp256` (bars: wrap >= 0.45, unwrap >= 0.9) and against raw
 *    EVP_PKEY_derive timed in the same rounds (so the machine's load moves
 *    both sides alike); `--ir-loop` for instruction counts
 *    (bench/callgrind_unwrap.py);
 *  - memory while sealing the big document size in 1 MiB pieces (peak RSS
 *    growth);
 *  - scale: a vault of N documents (default 100000; HRE_BENCH_VAULT_DOCS or
 *    argv[1]) on a POSIX directory without fsync: build time, open time and
 *    memory (RSS growth and the vault's own count).
 * Rates are per CPU-second of this thread (as one `openssl speed` process);
 * each point is the best of HRE_BENCH_ROUNDS rounds (default 5), with the
 * openssl speed runs before and between the points (best of those too).
 * Environment (bench/README.md): HRE_BENCH_SECONDS (per wrap/unwrap point,
 * default 1.5), HRE_BENCH_ROUNDS, HRE_BENCH_SPEED_SECONDS (openssl speed
 * -seconds, default 1; 0 skips it), OPENSSL, HRE_BENCH_VAULT_DOCS,
 * HRE_BENCH_VAULT_BIG_MIB, HRE_BENCH_VAULT_BUNDLES, HRE_FHIR_DIR,
 * HRE_DATA_DIR, HRE_BENCH_DIR (scratch directory parent; else TMPDIR, /tmp).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include <hre/hre.h>

#include "bench_util.h"

#define MIB ((size_t)1 << 20)
#define SPEED_BYTES 16384          /* openssl speed message size for aes-256-gcm and sha256 */
#define GCM_RUNS_BEFORE 3          /* openssl speed runs before the document points ... */
#define GCM_RUNS_AFTER 2           /* ... and after them (aes-256-gcm) */
#define SHA_RUNS 3
#define ECDH_RUNS_BEFORE 3
#define ECDH_RUNS_AFTER 2          /* after the wrap points */
#define MAX_BUNDLES 256
#define SCALE_DOC_BYTES 200

static int g_rounds = 5;           /* HRE_BENCH_ROUNDS */
static double g_seconds = 1.5;     /* HRE_BENCH_SECONDS: per wrap / unwrap point */

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_vault: %s failed (%d): %s\n", what, rc, hre_error_detail());
    exit(1);
}

static double max2(double a, double b) { return a > b ? a : b; }

/* ---- openssl speed (the harness runner) ---- */

/* MB/s (10^6 bytes) of `openssl speed -bytes 16384 <alg>`, 0 if it did not run. */
static double speed_mbs(const char *alg, int seconds)
{
    double mbs = 0;
    return bench_speed_bytes(alg, SPEED_BYTES, 1, seconds, &mbs, NULL) ? mbs : 0;
}

static double speed_ecdh(int seconds)
{
    double ops = 0;
    return bench_speed_ecdh("ecdhp256", 1, seconds, &ops) ? ops : 0;
}

/* Resident memory of this process (/proc/self/statm), 0 if unknown. */
static long long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long pages = 0, resident = 0;
    if (!f) return 0;
    if (fscanf(f, "%lld %lld", &pages, &resident) != 2) resident = 0;
    fclose(f);
    return resident * (long long)sysconf(_SC_PAGESIZE);
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

/* One document point: the best of g_rounds rounds. The timed seal makes no
 * wraps (they are timed on their own); the envelopes to open come from a
 * first, untimed seal that wraps once per document. */
typedef struct point {
    double seal, open_hash, open_nohash;   /* MB/s of document bytes per CPU second */
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
    for (int r = 0; r < g_rounds; r++) {
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

/* seal then open: MB/s of document bytes through both */
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
    for (int r = 0; r < g_rounds; r++) {
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

static const char *corpus_dir(char *dir, size_t cap)
{
    const char *fd = getenv("HRE_FHIR_DIR"), *dd = getenv("HRE_DATA_DIR");
    if (fd && *fd) snprintf(dir, cap, "%s", fd);
    else snprintf(dir, cap, "%s/fhir-stu3", dd && *dd ? dd : "tests/data");
    return dir;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first `max` *.json files of dir by name (so a cap picks the same
 * files on every machine). */
static size_t load_corpus(const char *dir, size_t max, uint8_t ***docs, size_t **lens)
{
    char *names[MAX_BUNDLES];
    DIR *d;
    struct dirent *de;
    size_t nn = 0, n = 0;
    *docs = calloc(MAX_BUNDLES, sizeof **docs);
    *lens = calloc(MAX_BUNDLES, sizeof **lens);
    if (!*docs || !*lens) die("calloc", HRE_ENOMEM);
    if (!(d = opendir(dir))) return 0;
    while ((de = readdir(d)) && nn < MAX_BUNDLES) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json")) continue;
        if (!(names[nn++] = strdup(de->d_name))) die("strdup", HRE_ENOMEM);
    }
    closedir(d);
    qsort(names, nn, sizeof *names, name_cmp);
    for (size_t i = 0; i < nn; i++) {
        char path[1400];
        FILE *f;
        long len;
        snprintf(path, sizeof path, "%.1000s/%.255s", dir, names[i]);
        free(names[i]);
        if (n >= max || !(f = fopen(path, "rb"))) continue;
        if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0) {
            fclose(f);
            continue;
        }
        if (!((*docs)[n] = malloc((size_t)len))) die("malloc", HRE_ENOMEM);
        if (fread((*docs)[n], 1, (size_t)len, f) != (size_t)len) die("read corpus", HRE_EIO);
        (*lens)[n++] = (size_t)len;
        fclose(f);
    }
    return n;
}

/* ---- wraps ---- */

typedef struct wrapbench {
    double wrap_auth, wrap_base, unwrap_auth, unwrap_base;
    double evp_derive;   /* raw EVP_PKEY_derive/s, timed in the same rounds */
} wrapbench;

/* One raw P-256 ECDH (EVP_PKEY_derive on a context made once, as `openssl
 * speed ecdhp256` times it) per call, for g_seconds / g_rounds: measured in
 * the same rounds as the unwraps, so the machine's load moves both alike. */
static double derive_rate(EVP_PKEY_CTX *c)
{
    double t0 = bench_thread_cpu_s(), dt;
    unsigned long n = 0;
    do {
        for (int i = 0; i < 16; i++) {
            uint8_t z[32];
            size_t zl = sizeof z;
            if (EVP_PKEY_derive(c, z, &zl) != 1) die("EVP_PKEY_derive", -1);
        }
        n += 16;
        dt = bench_thread_cpu_s() - t0;
    } while (dt < g_seconds / g_rounds);
    return n / dt;
}

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
    } while (dt < g_seconds / g_rounds);
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
    } while (dt < g_seconds / g_rounds);
    return n / dt;
}

static wrapbench bench_wraps(void)
{
    wrapbench b = {0, 0, 0, 0, 0};
    EVP_PKEY *ka = EVP_EC_gen("P-256"), *kb = EVP_EC_gen("P-256");
    EVP_PKEY_CTX *dc = ka ? EVP_PKEY_CTX_new(ka, NULL) : NULL;
    if (!kb || !dc || EVP_PKEY_derive_init(dc) != 1 || EVP_PKEY_derive_set_peer(dc, kb) != 1)
        die("EVP ECDH set-up", -1);
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
        for (int r = 0; r < g_rounds; r++) {
            double wr = wrap_rate(s), ur = unwrap_rate(&w);
            b.evp_derive = max2(b.evp_derive, derive_rate(dc));
            if (auth) b.wrap_auth = max2(b.wrap_auth, wr), b.unwrap_auth = max2(b.unwrap_auth, ur);
            else b.wrap_base = max2(b.wrap_base, wr), b.unwrap_base = max2(b.unwrap_base, ur);
        }
        hre_vault_sealer_free(s);
        free(env.p);
    }
    EVP_PKEY_CTX_free(dc);
    EVP_PKEY_free(ka);
    EVP_PKEY_free(kb);
    return b;
}

/* ---- memory while streaming ---- */

typedef struct peak {
    size_t bytes;
    long long base, top;
} peak;

static int peak_sink(void *ud, const uint8_t *d, size_t n)
{
    peak *pk = ud;
    long long r = rss_bytes();
    (void)d;
    pk->bytes += n;
    if (r > pk->top) pk->top = r;
    return HRE_OK;
}

/* RSS growth (sampled at every chunk) while sealing total bytes in 1 MiB
 * pieces of random data (so the compression trial says no) into a sink that
 * keeps nothing. */
static long long stream_peak_bytes(size_t total)
{
    hre_vault_seal_params p;
    hre_vault_sealer *s = NULL;
    uint8_t *piece = malloc(MIB), h[32];
    peak pk = {0, 0, 0};
    int rc;
    if (!piece) die("malloc", HRE_ENOMEM);
    if ((rc = hre_random_bytes(piece, MIB)) != HRE_OK) die("random", rc);
    params(&p, HRE_VAULT_COMPRESS_AUTO, 1);
    pk.base = pk.top = rss_bytes();
    if ((rc = hre_vault_sealer_new(&s, &p, peak_sink, &pk)) != HRE_OK) die("sealer", rc);
    for (size_t off = 0; off < total; off += MIB)
        if ((rc = hre_vault_sealer_write(s, piece, MIB)) != HRE_OK) die("write", rc);
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
    long long rss_bytes;
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

/* The scratch directory's parent: HRE_BENCH_DIR, else TMPDIR, else /tmp. */
static const char *scratch_parent(void)
{
    const char *d = getenv("HRE_BENCH_DIR");
    if (!d || !*d) d = getenv("TMPDIR");
    return d && *d ? d : "/tmp";
}

static scale bench_scale(size_t n, const char dir[1024])
{
    scale sc;
    hre_storage_posix_options po = HRE_STORAGE_POSIX_OPTIONS_INIT;
    hre_storage *st = NULL;
    hre_vault_options vo = HRE_VAULT_OPTIONS_INIT;
    hre_vault *v = NULL;
    hre_vault_seal_params p;
    hre_vault_stats stats = HRE_VAULT_STATS_INIT;
    uint8_t doc[SCALE_DOC_BYTES];
    double t0;
    long long r0;
    int rc;
    memset(&sc, 0, sizeof sc);
    sc.docs = n;
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
    r0 = rss_bytes();
    t0 = bench_wall_s();
    {
        double c0 = bench_thread_cpu_s();
        if ((rc = hre_vault_open(&v, &vo)) != HRE_OK) die("vault_reopen", rc);
        sc.open_cpu_s = bench_thread_cpu_s() - c0;
    }
    sc.open_wall_s = bench_wall_s() - t0;
    sc.rss_bytes = rss_bytes() - r0;
    if ((rc = hre_vault_stats_get(v, &stats)) != HRE_OK) die("stats", rc);
    if (stats.documents != n) die("document count", HRE_ECORRUPT);
    sc.vault_memory_bytes = stats.memory_bytes;
    sc.index_bytes = stats.index_bytes;
    hre_vault_close(v);
    hre_storage_free(st);
    rm_rf(dir);
    return sc;
}

/* ---- the document ---- */

/* A document point: figures, the openssl speed references and the ratios. */
static void json_point(bench_json *j, const char *key, point p, size_t doc_bytes, uint64_t env_bytes,
                       double gcm, double sha)
{
    double sealopen = both(p);
    /* raw AES-GCM encrypt then decrypt: half the openssl speed rate; the
     * envelope hash on top of the encryption: gcm and sha256 in series */
    double gcm_twice = gcm > 0 ? gcm / 2 : 0;
    double gcm_sha = gcm > 0 && sha > 0 ? 1.0 / (1.0 / gcm + 1.0 / sha) : 0;
    bench_json_object(j, key);
    bench_json_int(j, "document_bytes", (long long)doc_bytes);
    bench_json_int(j, "envelope_bytes", (long long)env_bytes);
    bench_json_ratio(j, "ratio_envelope_vs_document", (double)env_bytes, (double)doc_bytes);
    bench_json_num(j, "seal_mb_per_cpu_s", p.seal, 1);
    bench_json_num(j, "open_mb_per_cpu_s", p.open_hash, 1);
    bench_json_num(j, "open_no_hash_mb_per_cpu_s", p.open_nohash, 1);
    bench_json_num(j, "seal_open_mb_per_cpu_s", sealopen, 1);
    bench_json_opt(j, "openssl_speed_aes_256_gcm_mb_per_cpu_s", gcm > 0, gcm, 1);
    bench_json_ratio(j, "ratio_seal_vs_openssl_speed", p.seal, gcm);
    bench_json_ratio(j, "ratio_open_vs_openssl_speed", p.open_hash, gcm);
    bench_json_ratio(j, "ratio_open_no_hash_vs_openssl_speed", p.open_nohash, gcm);
    bench_json_ratio(j, "ratio_seal_open_vs_openssl_speed_encrypt_decrypt", sealopen, gcm_twice);
    bench_json_opt(j, "openssl_speed_sha256_mb_per_cpu_s", sha > 0, sha, 1);
    bench_json_ratio(j, "ratio_seal_vs_openssl_speed_gcm_plus_sha256", p.seal, gcm_sha);
    /* the raw floor of the whole round trip: seal and open each run AES-GCM
     * and SHA-256 over the envelope (open checks it against doc_sha256) */
    bench_json_ratio(j, "ratio_seal_open_vs_openssl_speed_gcm_plus_sha256_each_way", sealopen, gcm_sha / 2);
}

/* ---- instruction counts (bench/callgrind_unwrap.py) ---- */

/* `bench_vault --ir-loop derive|unwrap N`: only N operations of one kind, for
 * valgrind --tool=callgrind, whose instruction counts repeat exactly (the
 * script runs two N and takes the difference, so set-up cancels out):
 *  - derive: EVP_PKEY_derive on a context made once, as `openssl speed
 *    ecdhp256` times it;
 *  - unwrap: hre_vault_opener_new + hre_vault_opener_free on a base-mode wrap,
 *    as the unwrap points above. */
static int ir_loop(const char *mode, long n)
{
    size_t got = 0;
    int rc;
    if (!strcmp(mode, "derive")) {
        EVP_PKEY *a = EVP_EC_gen("P-256"), *b = EVP_EC_gen("P-256");
        EVP_PKEY_CTX *c = a ? EVP_PKEY_CTX_new(a, NULL) : NULL;
        if (!b || !c || EVP_PKEY_derive_init(c) != 1 || EVP_PKEY_derive_set_peer(c, b) != 1)
            die("EVP ECDH set-up", -1);
        for (long i = 0; i < n; i++) {
            uint8_t z[32];
            size_t zl = sizeof z;
            if (EVP_PKEY_derive(c, z, &zl) != 1) die("EVP_PKEY_derive", -1);
        }
        EVP_PKEY_CTX_free(c);
        EVP_PKEY_free(a);
        EVP_PKEY_free(b);
        return 0;
    }
    if (strcmp(mode, "unwrap")) {
        fprintf(stderr, "bench_vault: --ir-loop derive|unwrap N\n");
        return 2;
    }
    {
        hre_vault_seal_params p;
        hre_vault_open_params op = HRE_VAULT_OPEN_PARAMS_INIT;
        hre_vault_sealer *s = NULL;
        hre_vault_wrap w;
        uint8_t h[32];
        mbuf env = {0};
        if ((rc = hre_key_generate(&g_reader, HRE_CURVE_P256)) != HRE_OK ||
            (rc = hre_key_pubkey(g_reader, &g_reader_pub)) != HRE_OK)
            die("keys", rc);
        params(&p, HRE_VAULT_COMPRESS_NEVER, 0);
        if ((rc = hre_vault_sealer_new(&s, &p, mbuf_sink, &env)) != HRE_OK) die("sealer", rc);
        if ((rc = hre_vault_sealer_finish(s, h, NULL)) != HRE_OK) die("finish", rc);
        if ((rc = hre_vault_sealer_wrap(s, &w, 0, g_rid, g_reader_pub)) != HRE_OK) die("wrap", rc);
        op.wrap = &w;
        op.reader_key = g_reader;
        for (long i = 0; i < n; i++) {
            hre_vault_opener *o = NULL;
            if ((rc = hre_vault_opener_new(&o, &op, null_sink, &got)) != HRE_OK) die("unwrap", rc);
            hre_vault_opener_free(o);
        }
        hre_vault_sealer_free(s);
        free(env.p);
        hre_pubkey_free(g_reader_pub);
        hre_key_free(g_reader);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int speed_s = bench_speed_seconds(1);
    long ndocs_env = bench_env_long("HRE_BENCH_VAULT_DOCS", 100000);
    size_t ndocs = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : (size_t)ndocs_env;
    long big_mib = bench_env_long("HRE_BENCH_VAULT_BIG_MIB", 64);
    long max_bundles = bench_env_long("HRE_BENCH_VAULT_BUNDLES", MAX_BUNDLES);
    double ossl_gcm = 0, ossl_sha = 0, ossl_ecdh = 0, zdef = 0, zinf = 0;
    uint8_t *one, *big, **corpus = NULL;
    size_t *clens = NULL, ncorpus, one_len = MIB, big_len, ctotal = 0;
    uint64_t env1 = 0, envbig = 0, envc = 0, envc_never = 0;
    point p1, pbig, pc, pc_never;
    wrapbench wb;
    long long stream_bytes;
    scale sc;
    char cdir[1024], sdir[1024], cmd[256], key[64];
    bench_json j;
    int rc;

    if (argc == 4 && !strcmp(argv[1], "--ir-loop")) return ir_loop(argv[2], strtol(argv[3], NULL, 10));
    g_seconds = bench_env_double("HRE_BENCH_SECONDS", g_seconds);
    g_rounds = (int)bench_env_long("HRE_BENCH_ROUNDS", g_rounds);
    if (g_rounds < 1) g_rounds = 1;
    if (big_mib < 1) big_mib = 1;
    if (max_bundles > MAX_BUNDLES) max_bundles = MAX_BUNDLES;
    big_len = (size_t)big_mib * MIB;
    corpus_dir(cdir, sizeof cdir);
    snprintf(sdir, sizeof sdir, "%.900s/hre-bench-vault-%ld", scratch_parent(), (long)getpid());

    if ((rc = hre_key_generate(&g_reader, HRE_CURVE_P256)) != HRE_OK ||
        (rc = hre_key_generate(&g_sender, HRE_CURVE_P256)) != HRE_OK ||
        (rc = hre_key_pubkey(g_reader, &g_reader_pub)) != HRE_OK)
        die("keys", rc);
    stream_bytes = stream_peak_bytes(big_len);
    one = malloc(one_len);
    big = malloc(big_len);
    if (!one || !big) die("malloc", HRE_ENOMEM);
    if ((rc = hre_random_bytes(one, one_len)) != HRE_OK || (rc = hre_random_bytes(big, big_len)) != HRE_OK)
        die("random", rc);
    ncorpus = load_corpus(cdir, (size_t)max_bundles, &corpus, &clens);
    for (size_t i = 0; i < ncorpus; i++) ctotal += clens[i];

    /* the references first (best of the runs), the points, then more runs */
    for (int r = 0; r < GCM_RUNS_BEFORE && speed_s > 0; r++) {
        ossl_gcm = max2(ossl_gcm, speed_mbs("-evp aes-256-gcm", speed_s));
        if (r < SHA_RUNS) ossl_sha = max2(ossl_sha, speed_mbs("sha256", speed_s));
        if (r < ECDH_RUNS_BEFORE) ossl_ecdh = max2(ossl_ecdh, speed_ecdh(speed_s));
    }
    {
        const uint8_t *d1[1] = {one}, *dbig[1] = {big};
        p1 = measure(d1, &one_len, 1, HRE_VAULT_COMPRESS_NEVER, one_len, &env1);
        pbig = measure(dbig, &big_len, 1, HRE_VAULT_COMPRESS_NEVER, MIB, &envbig);
    }
    memset(&pc, 0, sizeof pc);
    pc_never = pc;
    if (ncorpus) {
        pc = measure((const uint8_t *const *)corpus, clens, ncorpus, HRE_VAULT_COMPRESS_AUTO, MIB, &envc);
        pc_never = measure((const uint8_t *const *)corpus, clens, ncorpus, HRE_VAULT_COMPRESS_NEVER, MIB,
                           &envc_never);
        zlib_rates((const uint8_t *const *)corpus, clens, ncorpus, &zdef, &zinf);
    }
    for (int r = 0; r < GCM_RUNS_AFTER && speed_s > 0; r++)
        ossl_gcm = max2(ossl_gcm, speed_mbs("-evp aes-256-gcm", speed_s));
    wb = bench_wraps();
    for (int r = 0; r < ECDH_RUNS_AFTER && speed_s > 0; r++) ossl_ecdh = max2(ossl_ecdh, speed_ecdh(speed_s));
    sc = bench_scale(ndocs, sdir);

    bench_json_begin(&j, stdout);
    bench_json_head(&j, "vault");
    bench_json_int(&j, "rounds_per_point", g_rounds);
    bench_json_num(&j, "wrap_seconds_per_point", g_seconds, 2);
    bench_json_int(&j, "big_document_mib", big_mib);
    bench_json_int(&j, "piece_bytes", (long long)MIB);
    bench_json_str(&j, "fhir_dir", cdir);
    bench_json_int(&j, "fhir_bundles_max", max_bundles);
    bench_json_int(&j, "scale_documents", (long long)ndocs);
    bench_json_int(&j, "scale_document_bytes", SCALE_DOC_BYTES);
    bench_json_str(&j, "scale_storage", "posix, no fsync");
    bench_json_str(&j, "scratch_dir", sdir);
    bench_json_int(&j, "openssl_speed_aes_256_gcm_runs", speed_s > 0 ? GCM_RUNS_BEFORE + GCM_RUNS_AFTER : 0);
    bench_json_int(&j, "openssl_speed_sha256_runs", speed_s > 0 ? SHA_RUNS : 0);
    bench_json_int(&j, "openssl_speed_ecdhp256_runs", speed_s > 0 ? ECDH_RUNS_BEFORE + ECDH_RUNS_AFTER : 0);
    snprintf(key, sizeof key, "-bytes %d -evp aes-256-gcm | -bytes %d sha256 | ecdhp256", SPEED_BYTES,
             SPEED_BYTES);
    bench_json_str(&j, "openssl_speed_command", bench_speed_command(cmd, sizeof cmd, 1, speed_s, key));
    bench_json_end_object(&j);

    bench_json_object(&j, "results");
    json_point(&j, "doc_1mib_no_compression", p1, one_len, env1, ossl_gcm, ossl_sha);
    {
        double r = ossl_gcm > 0 ? both(p1) / (ossl_gcm / 2) : 0;
        bench_json_num(&j, "bar_seal_open_ratio", 0.8, 2);
        if (ossl_gcm > 0) bench_json_bool(&j, "meets_seal_open_bar", r >= 0.8);   /* no verdict without it */
    }
    bench_json_end_object(&j);
    json_point(&j, "doc_big_no_compression", pbig, big_len, envbig, ossl_gcm, ossl_sha);
    bench_json_end_object(&j);
    if (ncorpus) {
        json_point(&j, "fhir_corpus_compressed", pc, ctotal, envc, ossl_gcm, ossl_sha);
        bench_json_int(&j, "bundles_count", (long long)ncorpus);
        bench_json_num(&j, "zlib_deflate6_mb_per_cpu_s", zdef, 1);
        bench_json_ratio(&j, "ratio_seal_vs_zlib_deflate6", pc.seal, zdef);
        bench_json_num(&j, "zlib_inflate_mb_per_cpu_s", zinf, 1);
        bench_json_ratio(&j, "ratio_open_vs_zlib_inflate", pc.open_hash, zinf);
        bench_json_end_object(&j);
        json_point(&j, "fhir_corpus_no_compression", pc_never, ctotal, envc_never, ossl_gcm, ossl_sha);
        bench_json_int(&j, "bundles_count", (long long)ncorpus);
        bench_json_end_object(&j);
    }
    bench_json_object(&j, "wraps");
    bench_json_num(&j, "wrap_auth_per_cpu_s", wb.wrap_auth, 0);
    bench_json_num(&j, "wrap_base_per_cpu_s", wb.wrap_base, 0);
    bench_json_num(&j, "unwrap_auth_per_cpu_s", wb.unwrap_auth, 0);
    bench_json_num(&j, "unwrap_base_per_cpu_s", wb.unwrap_base, 0);
    bench_json_opt(&j, "openssl_speed_ecdhp256_per_cpu_s", ossl_ecdh > 0, ossl_ecdh, 0);
    bench_json_ratio(&j, "ratio_wrap_auth_vs_openssl_speed", wb.wrap_auth, ossl_ecdh);
    bench_json_ratio(&j, "ratio_wrap_base_vs_openssl_speed", wb.wrap_base, ossl_ecdh);
    bench_json_ratio(&j, "ratio_unwrap_auth_vs_openssl_speed", wb.unwrap_auth, ossl_ecdh);
    bench_json_ratio(&j, "ratio_unwrap_base_vs_openssl_speed", wb.unwrap_base, ossl_ecdh);
    /* the same against raw EVP ECDH timed in the same rounds as the unwraps
     * (openssl speed runs before and after them, so load between moves one
     * side only) */
    bench_json_num(&j, "evp_derive_p256_interleaved_per_cpu_s", wb.evp_derive, 0);
    bench_json_ratio(&j, "ratio_wrap_base_vs_evp_derive_interleaved", wb.wrap_base, wb.evp_derive);
    bench_json_ratio(&j, "ratio_unwrap_base_vs_evp_derive_interleaved", wb.unwrap_base, wb.evp_derive);
    bench_json_ratio(&j, "ratio_unwrap_auth_vs_evp_derive_interleaved", wb.unwrap_auth, wb.evp_derive);
    bench_json_num(&j, "bar_wrap_ratio", 0.45, 2);
    bench_json_num(&j, "bar_unwrap_ratio", 0.9, 2);
    if (ossl_ecdh > 0) {   /* no verdicts without the reference */
        bench_json_bool(&j, "meets_wrap_auth_bar", wb.wrap_auth / ossl_ecdh >= 0.45);
        bench_json_bool(&j, "meets_wrap_base_bar", wb.wrap_base / ossl_ecdh >= 0.45);
        bench_json_bool(&j, "meets_unwrap_auth_bar", wb.unwrap_auth / ossl_ecdh >= 0.9);
        bench_json_bool(&j, "meets_unwrap_base_bar", wb.unwrap_base / ossl_ecdh >= 0.9);
    }
    bench_json_end_object(&j);
    bench_json_object(&j, "streaming_seal");
    bench_json_int(&j, "document_bytes", (long long)big_len);
    bench_json_int(&j, "piece_bytes", (long long)MIB);
    bench_json_int(&j, "peak_rss_growth_bytes", stream_bytes);
    bench_json_end_object(&j);
    bench_json_object(&j, "scale");
    bench_json_int(&j, "documents_count", (long long)sc.docs);
    bench_json_num(&j, "build_seconds", sc.build_s, 2);
    bench_json_num(&j, "open_seconds", sc.open_wall_s, 3);
    bench_json_num(&j, "open_cpu_seconds", sc.open_cpu_s, 3);
    bench_json_int(&j, "open_rss_growth_bytes", sc.rss_bytes);
    bench_json_int(&j, "vault_memory_bytes", (long long)sc.vault_memory_bytes);
    bench_json_int(&j, "index_bytes", (long long)sc.index_bytes);
    bench_json_end_object(&j);
    bench_json_end_object(&j);

    bench_json_object(&j, "notes");
    bench_json_str(&j, "units", "every rate is per CPU-second of this thread, like a single openssl "
                   "speed process (which reports per CPU-second); each point is the best of the "
                   "rounds, each openssl speed figure the best of its runs");
    bench_json_str(&j, "documents", "document_bytes of random data (the fhir_corpus_* points: the "
                   "bundles' total); seal: padding, chunking, AES-256-GCM and the SHA-256 of the "
                   "envelope (its doc_sha256), without the wraps; open: chunk by chunk with the "
                   "hash check (open_no_hash: HRE_VAULT_OPEN_NO_HASH), without the unwrap");
    bench_json_str(&j, "ratios", "ratio_*_vs_openssl_speed: against openssl speed aes-256-gcm "
                   "(encryption only, 16 KiB blocks); _encrypt_decrypt: seal_open (1 / (1/seal + "
                   "1/open)) against half that (raw AES-GCM encrypt then decrypt; the bar is 0.8 at "
                   "1 MiB); _gcm_plus_sha256: seal against 1 / (1/aes_256_gcm + 1/sha256), both "
                   "openssl speed figures, as seal hashes the envelope it encrypts; "
                   "_gcm_plus_sha256_each_way: seal_open against half that (seal and open each "
                   "run AES-GCM and SHA-256 over the envelope: the floor of the round trip while "
                   "the record's doc_sha256 is SHA-256 of the envelope)");
    if (speed_s <= 0 || ossl_gcm <= 0 || ossl_ecdh <= 0)
        bench_json_str(&j, "references", "an openssl speed reference is missing (not installed, "
                       "failed, or HRE_BENCH_SPEED_SECONDS=0): it and its ratios are null, and the "
                       "meets_*_bar verdicts against it are left out");
    bench_json_str(&j, "fhir_corpus", ncorpus ? "compressed: HRE_VAULT_COMPRESS_AUTO (level 6); "
                   "zlib_*: compress2 level 6 and uncompress of the same bundles one by one, the "
                   "reference for counting compression separately"
                   : "no FHIR bundles found in fhir_dir (set HRE_FHIR_DIR): no corpus points");
    bench_json_str(&j, "wraps", "wrap: hre_vault_sealer_wrap (one HPKE wrap of the data key); "
                   "unwrap: hre_vault_opener_new (the HPKE unwrap and key schedule); auth mode "
                   "with a sender key, base mode without; against openssl speed ecdhp256 ops/s");
    bench_json_str(&j, "streaming_seal", "resident memory growth, sampled at every chunk, while "
                   "sealing document_bytes of random data in 1 MiB pieces into a sink that keeps "
                   "nothing (COMPRESS_AUTO: the trial says no)");
    bench_json_str(&j, "scale", "hre_vault_store of documents_count documents with one reader "
                   "each, then hre_vault_open of the same directory (wall and CPU seconds, "
                   "resident memory growth; vault_memory_bytes and index_bytes from "
                   "hre_vault_stats_get); set HRE_BENCH_VAULT_DOCS or argv[1]");
    bench_json_end_object(&j);
    rc = bench_json_end(&j);

    for (size_t i = 0; i < ncorpus; i++) free(corpus[i]);
    free(corpus);
    free(clens);
    free(one);
    free(big);
    hre_pubkey_free(g_reader_pub);
    hre_key_free(g_reader);
    hre_key_free(g_sender);
    return rc == 0 ? 0 : 1;
}
