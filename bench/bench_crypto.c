/*
 * bench_crypto: the layer-1 cryptography of the channel and the vault, next
 * to the raw OpenSSL figure from `openssl speed` run by this same process:
 *  - AES-256-GCM (hre_aead, one context reused): seal MB/s, open MB/s and
 *    seal+open MB/s at 1 KiB, 64 KiB and 1 MiB, against
 *    `openssl speed -evp aes-256-gcm -bytes N` (bulk encryption) and
 *    `openssl speed -aead -evp aes-256-gcm -bytes N` (per-message IV, AAD,
 *    tag, as a seal does);
 *  - HPKE (hre_hpke_wrap / hre_hpke_unwrap of a 32-byte key) per second,
 *    against `openssl speed ecdhp256` ops/s, with the vault's bars
 *    (wrap >= 0.45, unwrap >= 0.9 of ecdhp256);
 *  - Noise_XX_25519_AESGCM_SHA256: complete handshakes per second (both
 *    sides in this thread: 3 messages and Split; 2 X25519 key generations and
 *    6 X25519 DH per handshake), against `openssl speed ecdhx25519` ops/s
 *    (ratio: handshakes/s * 8 / ecdhx25519 ops/s, the share of the X25519
 *    work), and transport MB/s at 1 KiB and 64 KiB - 16: write_read_mb_* is
 *    message bytes per second through write then read; gcm_mb_* = twice
 *    that, the bytes AES-GCM processed, compared with openssl speed (which
 *    only encrypts).
 * All libhre rates are per CPU-second of this thread, like a single
 * `openssl speed` process (which reports per CPU-second); each point is the
 * best of ROUNDS short rounds interleaved with ROUNDS `openssl speed` runs
 * (best of those too). Prints one JSON document on stdout (bench/README.md).
 * White-box (the Noise core is internal), so it links the static test library.
 * Environment: HRE_BENCH_SECONDS (per point, default 1), HRE_BENCH_SPEED_SECONDS
 * (openssl speed -seconds per run, default 1; 0 skips it), OPENSSL (the binary).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hre/aead.h"
#include "hre/errors.h"
#include "hre/hash.h"
#include "hre/hpke.h"
#include "hre/key.h"
#include "crypto/x25519.h"
#include "node/noise.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "bench_util.h"

#define ROUNDS 9        /* short libhre rounds per point, interleaved with the references */
#define SPEED_RUNS 3    /* openssl speed runs per point */

static double g_seconds = 1.0;

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_crypto: %s failed (%d): %s\n", what, rc, hre_error_detail());
    exit(1);
}

/* ---- openssl speed (the harness runner), best of several runs ---- */

static double speed_ecdh(const char *alg, int seconds)
{
    double ops = 0;
    return bench_speed_ecdh(alg, 1, seconds, &ops) ? ops : 0;
}

/* MB/s (10^6 bytes) of `openssl speed [-aead] -evp aes-256-gcm` on `bytes`-byte messages. */
static double speed_gcm(size_t bytes, int aead, int seconds)
{
    double mbs = 0;
    return bench_speed_bytes(aead ? "-aead -evp aes-256-gcm" : "-evp aes-256-gcm", bytes, 1,
                             seconds, &mbs, NULL) ? mbs : 0;
}

/* ---- timed rounds: rate per CPU-second of one round ---- */

typedef void (*op_fn)(void *ctx);

static double round_rate(op_fn fn, void *ctx)
{
    double t0 = bench_thread_cpu_s(), dt;
    unsigned long n = 0;
    do {
        for (int i = 0; i < 8; i++) fn(ctx);
        n += 8;
        dt = bench_thread_cpu_s() - t0;
    } while (dt < g_seconds / ROUNDS);
    return n / dt;
}

static double max2(double a, double b) { return a > b ? a : b; }

/* ---- in-process raw OpenSSL references, interleaved with libhre ---- */

/* ECDH derive on a reused, peer-set EVP_PKEY_CTX: the loop `openssl speed
 * ecdhp256` / `ecdhx25519` times. */
typedef struct evp_dh {
    EVP_PKEY_CTX *ctx;
    uint8_t out[64];
} evp_dh;

static void evp_dh_init(evp_dh *d, const char *type, const char *group)
{
    EVP_PKEY *a = group ? EVP_PKEY_Q_keygen(NULL, NULL, type, group) : EVP_PKEY_Q_keygen(NULL, NULL, type);
    EVP_PKEY *b = group ? EVP_PKEY_Q_keygen(NULL, NULL, type, group) : EVP_PKEY_Q_keygen(NULL, NULL, type);
    d->ctx = a ? EVP_PKEY_CTX_new_from_pkey(NULL, a, NULL) : NULL;
    if (!d->ctx || EVP_PKEY_derive_init(d->ctx) != 1 || EVP_PKEY_derive_set_peer(d->ctx, b) != 1)
        die("raw EVP ECDH setup", HRE_ECRYPTO);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
}

static void evp_dh_op(void *p)
{
    evp_dh *d = p;
    size_t len = sizeof d->out;
    if (EVP_PKEY_derive(d->ctx, d->out, &len) != 1) die("raw EVP derive", HRE_ECRYPTO);
}

/* AES-256-GCM seal on a reused EVP_CIPHER_CTX: new IV, AAD, data in place,
 * final, tag (`openssl speed -aead`). */
typedef struct evp_gcm {
    EVP_CIPHER_CTX *ctx;
    uint8_t *buf, iv[12], tag[16];
    size_t len;
} evp_gcm;

static void evp_gcm_op(void *p)
{
    evp_gcm *g = p;
    int l;
    g->iv[11]++;
    if (EVP_EncryptInit_ex2(g->ctx, NULL, NULL, g->iv, NULL) != 1 ||
        EVP_EncryptUpdate(g->ctx, NULL, &l, g->iv, 12) != 1 ||
        EVP_EncryptUpdate(g->ctx, g->buf, &l, g->buf, (int)g->len) != 1 ||
        EVP_EncryptFinal_ex(g->ctx, g->tag, &l) != 1 ||
        EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_AEAD_GET_TAG, 16, g->tag) != 1)
        die("raw EVP AES-GCM", HRE_ECRYPTO);
}

/* ---- AES-256-GCM ---- */

typedef struct gcm_ctx {
    hre_aead *a;
    uint8_t *buf, *ct, tag[16], nonce[12];   /* seal in place, as openssl speed does */
    size_t len;
    int op;   /* 0 seal, 1 open, 2 seal + open */
} gcm_ctx;

static void gcm_op(void *p)
{
    gcm_ctx *g = p;
    int rc;
    if (g->op != 1) {
        g->nonce[11]++;
        if ((rc = hre_aead_seal(g->a, g->buf, g->tag, 16, g->nonce, 12, g->nonce, 12, g->buf, g->len)) != HRE_OK)
            die("hre_aead_seal", rc);
    }
    /* open in place after a seal; open-only (op 1) reads the fixed message in ct */
    if (g->op != 0 && (rc = hre_aead_open(g->a, g->buf, g->nonce, 12, g->nonce, 12, g->op == 1 ? g->ct : g->buf,
                                          g->len, g->tag, 16)) != HRE_OK)
        die("hre_aead_open", rc);
}

/* ---- HPKE ---- */

typedef struct hpke_ctx {
    hre_key *r;
    hre_pubkey *p;
    uint8_t w[HRE_HPKE_WRAP_LEN], dek[32], back[32];
} hpke_ctx;

static void wrap_op(void *p)
{
    hpke_ctx *h = p;
    int rc = hre_hpke_wrap(h->w, h->p, (const uint8_t *)"doc", 3, NULL, 0, h->dek);
    if (rc != HRE_OK) die("hre_hpke_wrap", rc);
}

static void unwrap_op(void *p)
{
    hpke_ctx *h = p;
    int rc = hre_hpke_unwrap(h->back, h->r, (const uint8_t *)"doc", 3, NULL, 0, h->w);
    if (rc != HRE_OK) die("hre_hpke_unwrap", rc);
}

/* ---- Noise ---- */

typedef struct noise_ctx {
    hre_x25519__key si, sr;
    hre_noise__transport ti, tr;
    uint8_t *buf, *ct;
    size_t len;
} noise_ctx;

static void hs_step(hre_noise__hs *w, hre_noise__hs *r)
{
    uint8_t m[256], pl[64];
    size_t ml = sizeof m, pll = sizeof pl;
    int rc;
    if ((rc = hre_noise__hs_write(w, m, &ml, NULL, 0)) != HRE_OK) die("noise write", rc);
    if ((rc = hre_noise__hs_read(r, pl, &pll, m, ml)) != HRE_OK) die("noise read", rc);
}

static void handshake(noise_ctx *n, int keep)
{
    hre_noise__config ci = {0}, cr = {0};
    hre_noise__hs *i = NULL, *r = NULL;
    hre_noise__transport ti, tr;
    int rc;
    ci.protocol = cr.protocol = "Noise_XX_25519_AESGCM_SHA256";
    ci.initiator = 1;
    ci.s = &n->si;
    cr.s = &n->sr;
    if ((rc = hre_noise__hs_new(&i, &ci)) != HRE_OK || (rc = hre_noise__hs_new(&r, &cr)) != HRE_OK)
        die("noise hs_new", rc);
    hs_step(i, r);
    hs_step(r, i);
    hs_step(i, r);
    if ((rc = hre_noise__hs_split(i, &ti)) != HRE_OK || (rc = hre_noise__hs_split(r, &tr)) != HRE_OK)
        die("noise split", rc);
    hre_noise__hs_free(i);
    hre_noise__hs_free(r);
    if (keep) {
        n->ti = ti;
        n->tr = tr;
    } else {
        hre_noise__transport_clear(&ti);
        hre_noise__transport_clear(&tr);
    }
}

static void handshake_op(void *p)
{
    handshake(p, 0);
}

static void transport_op(void *p)
{
    noise_ctx *n = p;
    size_t cl = n->len + 16, pl = n->len;
    int rc;
    if ((rc = hre_noise__transport_write(&n->ti, n->ct, &cl, n->buf, n->len)) != HRE_OK) die("noise transport write", rc);
    if ((rc = hre_noise__transport_read(&n->tr, n->buf, &pl, n->ct, cl)) != HRE_OK) die("noise transport read", rc);
}

int main(void)
{
    static const size_t gcm_sizes[3] = {1024, 65536, 1048576};
    static const size_t noise_sizes[2] = {1024, HRE_NOISE__MAX_PAYLOAD};
    int speed_s = bench_speed_seconds(1);
    double ossl_gcm[3] = {0}, ossl_gcm_aead[3] = {0}, ossl_p256 = 0, ossl_x25519 = 0, ossl_noise[2] = {0};
    double seal[3], open_[3], both[3], wrap_s, unwrap_s, hs_s, tr_mbs[2];
    double evp_gcm_mbs[3], evp_p256, evp_x25519;
    uint8_t key[32];
    int rc;
    char cmd[256];
    bench_json j;

    g_seconds = bench_env_double("HRE_BENCH_SECONDS", g_seconds);
    if ((rc = hre_random_bytes(key, sizeof key)) != HRE_OK) die("random", rc);

    /* Every point: ROUNDS short rounds of libhre interleaved with the same
     * number of rounds of the raw EVP loop in this process, and SPEED_RUNS
     * `openssl speed` runs spread between them; best of each (the VM is
     * shared, so interleaving puts both under the same load). */

    /* AES-256-GCM */
    for (int s = 0; s < 3; s++) {
        gcm_ctx g = {0};
        evp_gcm e = {0};
        g.len = e.len = gcm_sizes[s];
        g.buf = calloc(1, g.len);
        g.ct = calloc(1, g.len);
        e.buf = calloc(1, g.len);
        e.ctx = EVP_CIPHER_CTX_new();
        if (!g.buf || !g.ct || !e.buf || !e.ctx) die("calloc", HRE_ENOMEM);
        if (EVP_EncryptInit_ex2(e.ctx, EVP_aes_256_gcm(), key, NULL, NULL) != 1) die("EVP init", HRE_ECRYPTO);
        if ((rc = hre_aead_new(&g.a, key, 32)) != HRE_OK) die("hre_aead_new", rc);
        seal[s] = open_[s] = both[s] = evp_gcm_mbs[s] = 0;
        for (int r = 0; r < ROUNDS; r++) {
            g.op = 0;
            seal[s] = max2(seal[s], round_rate(gcm_op, &g) * (double)g.len / 1e6);
            evp_gcm_mbs[s] = max2(evp_gcm_mbs[s], round_rate(evp_gcm_op, &e) * (double)g.len / 1e6);
            /* open-only: the same sealed message over and over (the nonce fixed) */
            {
                gcm_ctx o = g;
                o.op = 0;
                gcm_op(&o);   /* seal once (nonce + 1) and keep the message in ct */
                memcpy(o.ct, o.buf, o.len);
                o.op = 1;
                open_[s] = max2(open_[s], round_rate(gcm_op, &o) * (double)g.len / 1e6);
                memcpy(g.nonce, o.nonce, 12);
            }
            g.op = 2;
            both[s] = max2(both[s], round_rate(gcm_op, &g) * (double)g.len / 1e6);
            if (speed_s > 0 && r % (ROUNDS / SPEED_RUNS) == 0) {
                ossl_gcm[s] = max2(ossl_gcm[s], speed_gcm(gcm_sizes[s], 0, speed_s));
                ossl_gcm_aead[s] = max2(ossl_gcm_aead[s], speed_gcm(gcm_sizes[s], 1, speed_s));
            }
        }
        hre_aead_free(g.a);
        EVP_CIPHER_CTX_free(e.ctx);
        free(g.buf);
        free(g.ct);
        free(e.buf);
    }

    /* HPKE */
    {
        hpke_ctx h;
        evp_dh d;
        memset(&h, 0, sizeof h);
        if ((rc = hre_key_generate(&h.r, HRE_CURVE_P256)) != HRE_OK || (rc = hre_key_pubkey(h.r, &h.p)) != HRE_OK)
            die("key", rc);
        evp_dh_init(&d, "EC", "P-256");
        memset(h.dek, 0x5a, 32);
        wrap_s = unwrap_s = evp_p256 = 0;
        for (int r = 0; r < ROUNDS; r++) {
            wrap_s = max2(wrap_s, round_rate(wrap_op, &h));
            evp_p256 = max2(evp_p256, round_rate(evp_dh_op, &d));
            unwrap_s = max2(unwrap_s, round_rate(unwrap_op, &h));
            if (speed_s > 0 && r % (ROUNDS / SPEED_RUNS) == 0)
                ossl_p256 = max2(ossl_p256, speed_ecdh("ecdhp256", speed_s));
        }
        if (memcmp(h.back, h.dek, 32) != 0) die("unwrap result", HRE_EDECRYPT);
        EVP_PKEY_CTX_free(d.ctx);
        hre_key_free(h.r);
        hre_pubkey_free(h.p);
    }

    /* Noise */
    {
        noise_ctx n;
        evp_dh d;
        memset(&n, 0, sizeof n);
        if ((rc = hre_x25519__generate(&n.si)) != HRE_OK || (rc = hre_x25519__generate(&n.sr)) != HRE_OK)
            die("x25519", rc);
        evp_dh_init(&d, "X25519", NULL);
        hs_s = evp_x25519 = 0;
        for (int r = 0; r < ROUNDS; r++) {
            hs_s = max2(hs_s, round_rate(handshake_op, &n));
            evp_x25519 = max2(evp_x25519, round_rate(evp_dh_op, &d));
            if (speed_s > 0 && r % (ROUNDS / SPEED_RUNS) == 0)
                ossl_x25519 = max2(ossl_x25519, speed_ecdh("ecdhx25519", speed_s));
        }
        EVP_PKEY_CTX_free(d.ctx);
        for (int s = 0; s < 2; s++) {
            handshake(&n, 1);
            n.len = noise_sizes[s];
            n.buf = calloc(1, n.len + 16);
            n.ct = calloc(1, n.len + 16);
            if (!n.buf || !n.ct) die("calloc", HRE_ENOMEM);
            tr_mbs[s] = 0;
            for (int r = 0; r < ROUNDS; r++) {
                tr_mbs[s] = max2(tr_mbs[s], round_rate(transport_op, &n) * (double)n.len / 1e6);
                if (speed_s > 0 && r % (ROUNDS / SPEED_RUNS) == 0)
                    ossl_noise[s] = max2(ossl_noise[s], speed_gcm(noise_sizes[s], 0, speed_s));
            }
            free(n.buf);
            free(n.ct);
            hre_noise__transport_clear(&n.ti);
            hre_noise__transport_clear(&n.tr);
        }
        hre_x25519__clear(&n.si);
        hre_x25519__clear(&n.sr);
    }

    bench_json_begin(&j, stdout);
    bench_json_head(&j, "crypto");
    bench_json_num(&j, "seconds_per_point", g_seconds, 2);
    bench_json_int(&j, "rounds_per_point", ROUNDS);
    bench_json_int(&j, "openssl_speed_runs_per_point", speed_s > 0 ? SPEED_RUNS : 0);
    bench_json_str(&j, "openssl_speed_command",
                   bench_speed_command(cmd, sizeof cmd, 1, speed_s,
                                       "[-aead] -bytes N -evp aes-256-gcm | ecdhp256 | ecdhx25519"));
    bench_json_end_object(&j);
    bench_json_object(&j, "results");
    bench_json_array(&j, "aes_256_gcm");
    for (int s = 0; s < 3; s++) {
        int have = ossl_gcm[s] > 0, have_aead = ossl_gcm_aead[s] > 0;
        bench_json_object(&j, NULL);
        bench_json_int(&j, "message_bytes", (long long)gcm_sizes[s]);
        bench_json_num(&j, "seal_mb_per_cpu_s", seal[s], 1);
        bench_json_num(&j, "open_mb_per_cpu_s", open_[s], 1);
        bench_json_num(&j, "seal_open_mb_per_cpu_s", both[s], 1);
        bench_json_num(&j, "openssl_evp_seal_mb_per_cpu_s", evp_gcm_mbs[s], 1);
        bench_json_ratio(&j, "ratio_seal_vs_evp", seal[s], evp_gcm_mbs[s]);
        bench_json_opt(&j, "openssl_speed_mb_per_cpu_s", have, ossl_gcm[s], 1);
        bench_json_ratio(&j, "ratio_seal_vs_openssl_speed", seal[s], ossl_gcm[s]);
        bench_json_ratio(&j, "ratio_open_vs_openssl_speed", open_[s], ossl_gcm[s]);
        bench_json_opt(&j, "openssl_speed_aead_mb_per_cpu_s", have_aead, ossl_gcm_aead[s], 1);
        bench_json_ratio(&j, "ratio_seal_vs_openssl_speed_aead", seal[s], ossl_gcm_aead[s]);
        bench_json_end_object(&j);
    }
    bench_json_end_array(&j);
    bench_json_object(&j, "hpke");
    bench_json_num(&j, "wrap_per_cpu_s", wrap_s, 0);
    bench_json_num(&j, "unwrap_per_cpu_s", unwrap_s, 0);
    bench_json_num(&j, "openssl_evp_ecdhp256_per_cpu_s", evp_p256, 0);
    bench_json_ratio(&j, "ratio_wrap_vs_evp", wrap_s, evp_p256);
    bench_json_ratio(&j, "ratio_unwrap_vs_evp", unwrap_s, evp_p256);
    bench_json_opt(&j, "openssl_speed_ecdhp256_per_cpu_s", ossl_p256 > 0, ossl_p256, 0);
    bench_json_ratio(&j, "ratio_wrap_vs_openssl_speed", wrap_s, ossl_p256);
    bench_json_ratio(&j, "ratio_unwrap_vs_openssl_speed", unwrap_s, ossl_p256);
    bench_json_num(&j, "bar_wrap_ratio", 0.45, 2);
    bench_json_num(&j, "bar_unwrap_ratio", 0.9, 2);
    if (ossl_p256 > 0) {
        bench_json_bool(&j, "meets_wrap_bar", wrap_s / ossl_p256 >= 0.45);
        bench_json_bool(&j, "meets_unwrap_bar", unwrap_s / ossl_p256 >= 0.9);
    } else {
        bench_json_null(&j, "meets_wrap_bar");
        bench_json_null(&j, "meets_unwrap_bar");
    }
    bench_json_end_object(&j);
    bench_json_object(&j, "noise_xx");
    bench_json_num(&j, "handshakes_per_cpu_s", hs_s, 0);
    bench_json_int(&j, "x25519_ops_per_handshake_count", 8);
    bench_json_num(&j, "openssl_evp_x25519_per_cpu_s", evp_x25519, 0);
    bench_json_ratio(&j, "ratio_x25519_share_vs_evp", hs_s * 8, evp_x25519);
    bench_json_opt(&j, "openssl_speed_ecdhx25519_per_cpu_s", ossl_x25519 > 0, ossl_x25519, 0);
    bench_json_ratio(&j, "ratio_x25519_share_vs_openssl_speed", hs_s * 8, ossl_x25519);
    bench_json_array(&j, "transport");
    for (int s = 0; s < 2; s++) {
        bench_json_object(&j, NULL);
        bench_json_int(&j, "message_bytes", (long long)noise_sizes[s]);
        bench_json_num(&j, "write_read_mb_per_cpu_s", tr_mbs[s], 1);
        bench_json_num(&j, "gcm_mb_per_cpu_s", 2 * tr_mbs[s], 1);
        bench_json_opt(&j, "openssl_speed_mb_per_cpu_s", ossl_noise[s] > 0, ossl_noise[s], 1);
        bench_json_ratio(&j, "ratio_gcm_vs_openssl_speed", 2 * tr_mbs[s], ossl_noise[s]);
        bench_json_end_object(&j);
    }
    bench_json_end_array(&j);
    bench_json_end_object(&j);
    bench_json_end_object(&j);
    bench_json_object(&j, "notes");
    bench_json_str(&j, "units", "every libhre rate is per CPU-second of this thread, like a single "
                   "openssl speed process; each point is the best of the rounds, interleaved with "
                   "the in-process EVP loop (openssl_evp_*) and the openssl speed runs (best of "
                   "those too)");
    bench_json_str(&j, "noise_xx", "handshakes: both sides in this thread (3 messages and Split: 2 "
                   "X25519 key generations and 6 DH); ratio_x25519_share: handshakes * 8 / X25519 "
                   "ops, the share of the X25519 work; transport: write_read = message bytes "
                   "through write then read, gcm = twice that, the bytes AES-GCM processed");
    bench_json_end_object(&j);
    return bench_json_end(&j) == 0 ? 0 : 1;
}
