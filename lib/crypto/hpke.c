/*
 * HPKE (RFC 9180) for DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM,
 * all four modes, from OpenSSL 3.0 primitives: ECDH (EVP_PKEY_derive), the
 * internal piecewise HMAC/HKDF (hkdf.c) and AES-256-GCM (aead.c).
 *
 * Section numbers refer to RFC 9180. Every intermediate secret lives on the
 * stack and is wiped before return; a context keeps only the AEAD key (inside
 * its hre_aead), base_nonce, the key schedule's secret and context (for
 * Export) and the sequence number; all wiped when it is freed.
 */
#include <pthread.h>

#include "hre/aead.h"
#include "hre/hpke.h"
#include "crypto/internal.h"

#define NH 32   /* HKDF-SHA256 output */
#define NK 32   /* AES-256 key */
#define NN 12   /* GCM nonce */
#define NPK 65  /* serialized P-256 public key */

static const uint8_t V1[7] = {'H', 'P', 'K', 'E', '-', 'v', '1'};
/* suite_id for the KEM (4.1) and for the rest of HPKE (5.1). */
static const uint8_t KEM_SUITE[5] = {'K', 'E', 'M', 0x00, 0x10};
static const uint8_t HPKE_SUITE[10] = {'H', 'P', 'K', 'E', 0x00, 0x10, 0x00, 0x01, 0x00, 0x02};

struct hre_hpke_ctx {
    int sender;                 /* 1: seals; 0: opens */
    hre_aead *aead;             /* holds key */
    uint8_t base_nonce[NN];
    /* exporter_secret = LabeledExpand(secret, "exp", ksc, Nh) is derived on
     * each export (rare) rather than in every setup: a one-shot wrap never
     * exports, and the HMAC saved is part of the unwrap's budget. */
    uint8_t secret[NH];
    uint8_t ksc[1 + 2 * NH];
    uint64_t seq;
};

typedef struct suite {
    const uint8_t *id;
    size_t len;
} suite;
static const suite KEM = {KEM_SUITE, sizeof KEM_SUITE};
static const suite HPKE = {HPKE_SUITE, sizeof HPKE_SUITE};

/* LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm) */
static int labeled_extract(uint8_t prk[NH], suite s, const uint8_t *salt, size_t saltlen,
                           const char *label, const uint8_t *ikm, size_t ikmlen)
{
    hre_crypto__iov v[4] = {
        {V1, sizeof V1}, {s.id, s.len}, {label, strlen(label)}, {ikm, ikmlen}};
    return hre_crypto__hkdf_extract(prk, salt, saltlen, v, 4);
}

/* LabeledExpand(prk, label, info, L) =
 *   Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L),
 * info given in at most 4 pieces; under the raw prk, or (prk NULL) under k,
 * the prk made ready as an HMAC key. */
static int labeled_expand_with(uint8_t *out, size_t L, const uint8_t *prk, const hre_crypto__hmac_key *k,
                               suite s, const char *label, const hre_crypto__iov *info, size_t n)
{
    uint8_t l2[2] = {(uint8_t)(L >> 8), (uint8_t)L};
    hre_crypto__iov v[HRE_CRYPTO__IOV_MAX];
    if (n > HRE_CRYPTO__IOV_MAX - 4) return hre__fail(HRE_ECRYPTO, "HPKE: internal error (too many pieces)");
    v[0].p = l2;
    v[0].len = 2;
    v[1].p = V1;
    v[1].len = sizeof V1;
    v[2].p = s.id;
    v[2].len = s.len;
    v[3].p = label;
    v[3].len = strlen(label);
    for (size_t i = 0; i < n; i++) v[4 + i] = info[i];
    return prk ? hre_crypto__hkdf_expand(out, L, prk, v, 4 + n)
               : hre_crypto__hkdf_expand_keyed(out, L, k, v, 4 + n);
}

static int labeled_expand(uint8_t *out, size_t L, const uint8_t prk[NH], suite s,
                          const char *label, const hre_crypto__iov *info, size_t n)
{
    return labeled_expand_with(out, L, prk, NULL, s, label, info, n);
}

/* ------------------------------------------------------------------------ */
/* DHKEM(P-256, HKDF-SHA256) (4.1, 7.1)                                      */
/* ------------------------------------------------------------------------ */

/* DeriveKeyPair's scalar (7.1.3): candidates until one is in [1, n-1]. */
static int derive_scalar(uint8_t sk[32], const uint8_t *ikm, size_t ikmlen)
{
    uint8_t prk[NH];
    int rc = labeled_extract(prk, KEM, NULL, 0, "dkp_prk", ikm, ikmlen);
    for (unsigned counter = 0; rc == HRE_OK && counter <= 255; counter++) {
        uint8_t c = (uint8_t)counter;
        hre_crypto__iov info = {&c, 1};
        rc = labeled_expand(sk, 32, prk, KEM, "candidate", &info, 1);
        if (rc != HRE_OK) break;
        sk[0] &= 0xff;   /* the P-256 bitmask: every bit of the first byte kept */
        if (hre_key__scalar_in_range(sk, HRE_CURVE_P256)) {
            hre_wipe(prk, sizeof prk);
            return HRE_OK;
        }
    }
    hre_wipe(prk, sizeof prk);
    hre_wipe(sk, 32);
    if (rc == HRE_OK) rc = hre__fail(HRE_ECRYPTO, "HPKE DeriveKeyPair: no valid candidate in 256 tries");
    return rc;
}

/* ExtractAndExpand(dh, kem_context) (4.1). */
static int extract_and_expand(uint8_t shared[NH], const uint8_t *dh, size_t dhlen,
                              const hre_crypto__iov *kem_context, size_t n)
{
    uint8_t prk[NH];
    int rc = labeled_extract(prk, KEM, NULL, 0, "eae_prk", dh, dhlen);
    if (rc == HRE_OK) rc = labeled_expand(shared, NH, prk, KEM, "shared_secret", kem_context, n);
    hre_wipe(prk, sizeof prk);
    return rc;
}

/* Map an internal ECDH result to a failure with detail. */
static int dh_fail(int rc, const char *what)
{
    if (rc == HRE_EDECODE) return hre__fail(HRE_EDECODE, "HPKE: %s is not an uncompressed P-256 point on the curve", what);
    if (rc == HRE_ENOMEM) return hre__fail(HRE_ENOMEM, "HPKE: out of memory in ECDH");
    return hre__fail(rc, "HPKE: ECDH failed in the crypto provider");
}

/* kem_context = enc || pkRm (|| pkSm) */
static size_t kem_context(hre_crypto__iov kc[3], const uint8_t enc[NPK], const uint8_t *pkRm, const uint8_t *pkSm)
{
    kc[0].p = enc;
    kc[0].len = NPK;
    kc[1].p = pkRm;
    kc[1].len = NPK;
    kc[2].p = pkSm;
    kc[2].len = pkSm ? NPK : 0;
    return pkSm ? 3 : 2;
}

/* Encap / AuthEncap: enc and shared_secret. ikmE NULL: a fresh ephemeral. */
static int encap(uint8_t shared[NH], uint8_t enc[NPK], const hre_pubkey *pkR, const hre_key *skS,
                 const uint8_t *ikmE, size_t ikmElen)
{
    const uint8_t *pkRm = hre_key__pubkey_uncompressed(pkR);
    hre_pubkey *pkS = NULL;
    uint8_t sk[32], dh[64];
    hre_crypto__iov kc[3];
    size_t n;
    int rc;

    if (ikmE && (rc = derive_scalar(sk, ikmE, ikmElen)) != HRE_OK) return rc;
    rc = hre_key__ecdh_ephemeral(enc, dh, HRE_CURVE_P256, ikmE ? sk : NULL, pkRm);
    hre_wipe(sk, sizeof sk);
    if (rc != HRE_OK) return dh_fail(rc, "the receiver key");
    if (skS) {
        rc = hre_key__ecdh_sec1(dh + 32, skS, pkRm);
        if (rc == HRE_OK) rc = hre_key_pubkey(skS, &pkS);
        if (rc != HRE_OK) {
            hre_wipe(dh, sizeof dh);
            return dh_fail(rc, "the receiver key");
        }
    }
    n = kem_context(kc, enc, pkRm, pkS ? hre_key__pubkey_uncompressed(pkS) : NULL);
    rc = extract_and_expand(shared, dh, skS ? 64 : 32, kc, n);
    hre_wipe(dh, sizeof dh);
    hre_pubkey_free(pkS);
    return rc;
}

/* Decap / AuthDecap. */
static int decap(uint8_t shared[NH], const uint8_t enc[NPK], const hre_key *skR, const hre_pubkey *pkS)
{
    hre_pubkey *pkR = NULL;
    uint8_t dh[64];
    hre_crypto__iov kc[3];
    size_t n;
    int rc;

    rc = hre_key__ecdh_sec1(dh, skR, enc);
    if (rc != HRE_OK) return dh_fail(rc, "enc");
    if (pkS) rc = hre_key__ecdh_sec1(dh + 32, skR, hre_key__pubkey_uncompressed(pkS));
    if (rc == HRE_OK) rc = hre_key_pubkey(skR, &pkR);
    if (rc != HRE_OK) {
        hre_wipe(dh, sizeof dh);
        return dh_fail(rc, "the sender key");
    }
    n = kem_context(kc, enc, hre_key__pubkey_uncompressed(pkR), pkS ? hre_key__pubkey_uncompressed(pkS) : NULL);
    rc = extract_and_expand(shared, dh, pkS ? 64 : 32, kc, n);
    hre_wipe(dh, sizeof dh);
    hre_pubkey_free(pkR);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Key schedule (5.1)                                                        */
/* ------------------------------------------------------------------------ */

typedef struct inputs {
    hre_hpke_mode mode;
    const uint8_t *info;
    size_t infolen;
    const uint8_t *psk;
    size_t psklen;
    const uint8_t *psk_id;
    size_t psk_idlen;
} inputs;

static int mode_has_psk(hre_hpke_mode m) { return m == HRE_HPKE_MODE_PSK || m == HRE_HPKE_MODE_AUTH_PSK; }
static int mode_has_auth(hre_hpke_mode m) { return m == HRE_HPKE_MODE_AUTH || m == HRE_HPKE_MODE_AUTH_PSK; }

/* Argument checks shared by both setups (VerifyPSKInputs and our caps). */
static int check_inputs(const char *fn, const inputs *in, int have_auth_key)
{
    if ((unsigned)in->mode > HRE_HPKE_MODE_AUTH_PSK)
        return hre__fail(HRE_EINVAL, "%s: unknown HPKE mode %d", fn, (int)in->mode);
    if ((!in->info && in->infolen) || (!in->psk && in->psklen) || (!in->psk_id && in->psk_idlen))
        return hre__fail(HRE_EINVAL, "%s: NULL pointer with a nonzero length", fn);
    if (in->infolen > HRE_HPKE_INPUT_MAX || in->psklen > HRE_HPKE_INPUT_MAX ||
        in->psk_idlen > HRE_HPKE_INPUT_MAX)
        return hre__fail(HRE_ELIMIT, "%s: info, psk or psk_id longer than %d bytes", fn, HRE_HPKE_INPUT_MAX);
    if ((in->psklen != 0) != (in->psk_idlen != 0))
        return hre__fail(HRE_EINVAL, "%s: psk and psk_id must be given together", fn);
    if (mode_has_psk(in->mode)) {
        if (!in->psklen) return hre__fail(HRE_EINVAL, "%s: the psk modes need a psk and psk_id", fn);
        if (in->psklen < HRE_HPKE_PSK_MIN)
            return hre__fail(HRE_EINVAL, "%s: psk of %zu bytes is shorter than %d", fn, in->psklen,
                             HRE_HPKE_PSK_MIN);
    } else if (in->psklen) {
        return hre__fail(HRE_EINVAL, "%s: a psk was given for a mode without one", fn);
    }
    if (mode_has_auth(in->mode) != (have_auth_key != 0))
        return hre__fail(HRE_EINVAL, "%s: the sender key must be given exactly for the auth modes", fn);
    return HRE_OK;
}

/* psk_id_hash of the empty psk_id (base and auth mode): a constant, computed
 * once per process and only read afterwards. */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static uint8_t g_empty_psk_id_hash[NH];
static int g_empty_ok;

static void make_empty_psk_id_hash(void)
{
    g_empty_ok = labeled_extract(g_empty_psk_id_hash, HPKE, NULL, 0, "psk_id_hash", NULL, 0) == HRE_OK;
}

static int exporter_secret(uint8_t out[NH], const hre_hpke_ctx *ctx)
{
    hre_crypto__iov k = {ctx->ksc, sizeof ctx->ksc};
    return labeled_expand(out, NH, ctx->secret, HPKE, "exp", &k, 1);
}

static int key_schedule(hre_hpke_ctx *ctx, const inputs *in, const uint8_t shared[NH],
                        hre_hpke__secrets *sec)
{
    uint8_t key[NK];
    hre_crypto__iov k = {ctx->ksc, sizeof ctx->ksc};
    hre_crypto__hmac_key sk = {NULL, NULL};
    int rc = HRE_OK;
    ctx->ksc[0] = (uint8_t)in->mode;
    if (in->psk_idlen) {
        rc = labeled_extract(ctx->ksc + 1, HPKE, NULL, 0, "psk_id_hash", in->psk_id, in->psk_idlen);
    } else {
        pthread_once(&g_once, make_empty_psk_id_hash);
        if (!g_empty_ok) rc = hre__fail(HRE_ECRYPTO, "HPKE: HMAC-SHA256 failed in the crypto provider");
        else memcpy(ctx->ksc + 1, g_empty_psk_id_hash, NH);
    }
    if (rc == HRE_OK) rc = labeled_extract(ctx->ksc + 1 + NH, HPKE, NULL, 0, "info_hash", in->info, in->infolen);
    if (rc == HRE_OK) rc = labeled_extract(ctx->secret, HPKE, shared, NH, "secret", in->psk, in->psklen);
    /* key and base_nonce both expand secret: its HMAC pads are made once */
    if (rc == HRE_OK) rc = hre_crypto__hmac_key_init(&sk, ctx->secret, NH);
    if (rc == HRE_OK) rc = labeled_expand_with(key, NK, NULL, &sk, HPKE, "key", &k, 1);
    if (rc == HRE_OK) rc = labeled_expand_with(ctx->base_nonce, NN, NULL, &sk, HPKE, "base_nonce", &k, 1);
    hre_crypto__hmac_key_clear(&sk);
    if (rc == HRE_OK) rc = hre_aead_new(&ctx->aead, key, NK);
    if (rc == HRE_OK && sec) {
        memcpy(sec->shared_secret, shared, NH);
        memcpy(sec->key, key, NK);
        memcpy(sec->base_nonce, ctx->base_nonce, NN);
        rc = exporter_secret(sec->exporter_secret, ctx);
    }
    hre_wipe(key, sizeof key);
    return rc;
}

static int check_p256(const char *fn, const char *what, hre_curve c)
{
    if (c != HRE_CURVE_P256)
        return hre__fail(HRE_EUNSUPPORTED, "%s: the %s is not a P-256 key (HPKE uses DHKEM(P-256))", fn, what);
    return HRE_OK;
}

static int setup_sender(hre_hpke_ctx **out, uint8_t enc[NPK], const inputs *in,
                        const hre_pubkey *pkR, const hre_key *skS,
                        const uint8_t *ikmE, size_t ikmElen, hre_hpke__secrets *sec)
{
    static const char fn[] = "hre_hpke_setup_sender";
    hre_hpke_ctx *ctx;
    uint8_t shared[NH];
    int rc;

    if (!out) {
        if (enc) memset(enc, 0, NPK);
        return hre__fail(HRE_EINVAL, "%s: NULL out", fn);
    }
    *out = NULL;
    if (!enc) return hre__fail(HRE_EINVAL, "%s: NULL enc", fn);
    memset(enc, 0, NPK);
    if (sec) memset(sec, 0, sizeof *sec);
    if (!pkR) return hre__fail(HRE_EINVAL, "%s: NULL receiver key", fn);
    if ((rc = check_inputs(fn, in, skS != NULL)) != HRE_OK) return rc;
    if ((rc = check_p256(fn, "receiver key", hre_pubkey_curve(pkR))) != HRE_OK) return rc;
    if (skS && (rc = check_p256(fn, "sender key", hre_key_curve(skS))) != HRE_OK) return rc;
    ctx = hre__calloc(1, sizeof *ctx);
    if (!ctx) return hre__fail(HRE_ENOMEM, "out of memory allocating an HPKE context");
    ctx->sender = 1;
    rc = encap(shared, enc, pkR, skS, ikmE, ikmElen);
    if (rc == HRE_OK) rc = key_schedule(ctx, in, shared, sec);
    hre_wipe(shared, sizeof shared);
    if (rc != HRE_OK) {
        hre_hpke_free(ctx);
        memset(enc, 0, NPK);
        if (sec) hre_wipe(sec, sizeof *sec);
        return rc;
    }
    *out = ctx;
    return hre_crypto__ok();
}

static int setup_receiver(hre_hpke_ctx **out, const inputs *in, const hre_key *skR,
                          const hre_pubkey *pkS, const uint8_t enc[NPK], hre_hpke__secrets *sec)
{
    static const char fn[] = "hre_hpke_setup_receiver";
    hre_hpke_ctx *ctx;
    uint8_t shared[NH];
    int rc;

    if (!out) return hre__fail(HRE_EINVAL, "%s: NULL out", fn);
    *out = NULL;
    if (sec) memset(sec, 0, sizeof *sec);
    if (!skR || !enc) return hre__fail(HRE_EINVAL, "%s: NULL key or enc", fn);
    if ((rc = check_inputs(fn, in, pkS != NULL)) != HRE_OK) return rc;
    if ((rc = check_p256(fn, "receiver key", hre_key_curve(skR))) != HRE_OK) return rc;
    if (pkS && (rc = check_p256(fn, "sender key", hre_pubkey_curve(pkS))) != HRE_OK) return rc;
    ctx = hre__calloc(1, sizeof *ctx);
    if (!ctx) return hre__fail(HRE_ENOMEM, "out of memory allocating an HPKE context");
    rc = decap(shared, enc, skR, pkS);
    if (rc == HRE_OK) rc = key_schedule(ctx, in, shared, sec);
    hre_wipe(shared, sizeof shared);
    if (rc != HRE_OK) {
        hre_hpke_free(ctx);
        if (sec) hre_wipe(sec, sizeof *sec);
        return rc;
    }
    *out = ctx;
    return hre_crypto__ok();
}

HRE_API int hre_hpke_setup_sender(hre_hpke_ctx **out, uint8_t enc[65], hre_hpke_mode mode,
                                  const hre_pubkey *pkR, const hre_key *skS,
                                  const uint8_t *info, size_t infolen,
                                  const uint8_t *psk, size_t psklen,
                                  const uint8_t *psk_id, size_t psk_idlen)
{
    HRE__API_SCOPE;
    inputs in = {mode, info, infolen, psk, psklen, psk_id, psk_idlen};
    return hre__api_done(setup_sender(out, enc, &in, pkR, skS, NULL, 0, NULL));
}

HRE_API int hre_hpke_setup_receiver(hre_hpke_ctx **out, hre_hpke_mode mode,
                                    const hre_key *skR, const hre_pubkey *pkS,
                                    const uint8_t enc[65],
                                    const uint8_t *info, size_t infolen,
                                    const uint8_t *psk, size_t psklen,
                                    const uint8_t *psk_id, size_t psk_idlen)
{
    HRE__API_SCOPE;
    inputs in = {mode, info, infolen, psk, psklen, psk_id, psk_idlen};
    return hre__api_done(setup_receiver(out, &in, skR, pkS, enc, NULL));
}

int hre_hpke__setup_sender_derand(hre_hpke_ctx **out, uint8_t enc[65], hre_hpke_mode mode,
                                  const hre_pubkey *pkR, const hre_key *skS,
                                  const uint8_t *info, size_t infolen,
                                  const uint8_t *psk, size_t psklen,
                                  const uint8_t *psk_id, size_t psk_idlen,
                                  const uint8_t *ikmE, size_t ikmElen, hre_hpke__secrets *sec)
{
    inputs in = {mode, info, infolen, psk, psklen, psk_id, psk_idlen};
    if (!ikmE) {
        if (out) *out = NULL;
        return hre__fail(HRE_EINVAL, "hre_hpke__setup_sender_derand: NULL ikmE");
    }
    return setup_sender(out, enc, &in, pkR, skS, ikmE, ikmElen, sec);
}

int hre_hpke__setup_receiver_secrets(hre_hpke_ctx **out, hre_hpke_mode mode,
                                     const hre_key *skR, const hre_pubkey *pkS,
                                     const uint8_t enc[65],
                                     const uint8_t *info, size_t infolen,
                                     const uint8_t *psk, size_t psklen,
                                     const uint8_t *psk_id, size_t psk_idlen,
                                     hre_hpke__secrets *sec)
{
    inputs in = {mode, info, infolen, psk, psklen, psk_id, psk_idlen};
    return setup_receiver(out, &in, skR, pkS, enc, sec);
}

void hre_hpke__set_seq(hre_hpke_ctx *ctx, uint64_t seq)
{
    ctx->seq = seq;
}

HRE_API void hre_hpke_free(hre_hpke_ctx *ctx)
{
    if (!ctx) return;
    hre_aead_free(ctx->aead);
    hre__free_secret(ctx, sizeof *ctx);
}

/* ------------------------------------------------------------------------ */
/* Seal, open, export (5.2, 5.3)                                             */
/* ------------------------------------------------------------------------ */

/* ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn). */
static void compute_nonce(uint8_t nonce[NN], const hre_hpke_ctx *ctx)
{
    memcpy(nonce, ctx->base_nonce, NN);
    for (int i = 0; i < 8; i++) nonce[NN - 1 - i] ^= (uint8_t)(ctx->seq >> (8 * i));
}

HRE_API int hre_hpke_seal(hre_hpke_ctx *ctx, uint8_t *ct, size_t *ctlen,
                          const uint8_t *aad, size_t aadlen,
                          const uint8_t *pt, size_t ptlen)
{
    HRE__API_SCOPE;
    uint8_t nonce[NN];
    size_t need;
    int rc;

    if (!ctlen || (!ct && *ctlen)) return hre__fail(HRE_EINVAL, "hre_hpke_seal: NULL ct or ctlen");
    if (!ctx || (!aad && aadlen) || (!pt && ptlen)) {
        rc = hre__fail(HRE_EINVAL, "hre_hpke_seal: NULL argument");
        goto fail;
    }
    if ((uint64_t)ptlen > HRE_AEAD_MAX_PLAINTEXT) {
        rc = hre__fail(HRE_ELIMIT, "hre_hpke_seal: plaintext of %zu bytes exceeds the AES-GCM limit", ptlen);
        goto fail;
    }
    need = ptlen + HRE_HPKE_TAG_LEN;
    if (*ctlen < need) {
        if (ct) hre_wipe(ct, *ctlen);
        *ctlen = need;
        return hre__fail(HRE_EBUFSIZE, "hre_hpke_seal: need %zu bytes", need);
    }
    if (!ctx->sender) {
        rc = hre__fail(HRE_ESTATE, "hre_hpke_seal: a receiver context cannot seal");
        goto fail;
    }
    if (ctx->seq == UINT64_MAX) {
        rc = hre__fail(HRE_ELIMIT, "hre_hpke_seal: sequence number exhausted (2^64 - 1 messages)");
        goto fail;
    }
    compute_nonce(nonce, ctx);
    rc = hre_aead_seal(ctx->aead, ct, ct + ptlen, HRE_HPKE_TAG_LEN, nonce, NN, aad, aadlen, pt, ptlen);
    hre_wipe(nonce, sizeof nonce);
    if (rc != HRE_OK) goto fail;
    ctx->seq++;
    *ctlen = need;
    return HRE_OK;   /* hre_aead_seal cleared the last error */
fail:
    if (ct) hre_wipe(ct, *ctlen);
    return hre__api_done(rc);
}

HRE_API int hre_hpke_open(hre_hpke_ctx *ctx, uint8_t *pt, size_t *ptlen,
                          const uint8_t *aad, size_t aadlen,
                          const uint8_t *ct, size_t ctlen)
{
    HRE__API_SCOPE;
    uint8_t nonce[NN];
    size_t need;
    int rc;

    if (!ptlen || (!pt && *ptlen)) return hre__fail(HRE_EINVAL, "hre_hpke_open: NULL pt or ptlen");
    if (!ctx || (!aad && aadlen) || (!ct && ctlen)) {
        rc = hre__fail(HRE_EINVAL, "hre_hpke_open: NULL argument");
        goto fail;
    }
    if (ctlen < HRE_HPKE_TAG_LEN) {
        rc = hre__fail(HRE_EDECODE, "hre_hpke_open: ciphertext of %zu bytes is shorter than the tag", ctlen);
        goto fail;
    }
    need = ctlen - HRE_HPKE_TAG_LEN;
    if (*ptlen < need) {
        if (pt) hre_wipe(pt, *ptlen);
        *ptlen = need;
        return hre__fail(HRE_EBUFSIZE, "hre_hpke_open: need %zu bytes", need);
    }
    if (ctx->sender) {
        rc = hre__fail(HRE_ESTATE, "hre_hpke_open: a sender context cannot open");
        goto fail;
    }
    if (ctx->seq == UINT64_MAX) {
        rc = hre__fail(HRE_ELIMIT, "hre_hpke_open: sequence number exhausted (2^64 - 1 messages)");
        goto fail;
    }
    compute_nonce(nonce, ctx);
    rc = hre_aead_open(ctx->aead, pt, nonce, NN, aad, aadlen, ct, need, ct + need, HRE_HPKE_TAG_LEN);
    hre_wipe(nonce, sizeof nonce);
    if (rc != HRE_OK) goto fail;
    ctx->seq++;
    *ptlen = need;
    return hre__api_done(HRE_OK);
fail:
    if (pt) hre_wipe(pt, *ptlen);
    return hre__api_done(rc);
}

HRE_API int hre_hpke_export(const hre_hpke_ctx *ctx, uint8_t *out, size_t outlen,
                            const uint8_t *exporter_context, size_t exporter_contextlen)
{
    HRE__API_SCOPE;
    hre_crypto__iov v;
    uint8_t es[NH];
    int rc;
    if (!out) return hre__fail(HRE_EINVAL, "hre_hpke_export: NULL out");
    if (outlen == 0 || outlen > HRE_HPKE_EXPORT_MAX)
        return hre__fail(HRE_EINVAL, "hre_hpke_export: length %zu outside [1, %d]", outlen, HRE_HPKE_EXPORT_MAX);
    if (!ctx || (!exporter_context && exporter_contextlen)) {
        hre_wipe(out, outlen);
        return hre__fail(HRE_EINVAL, "hre_hpke_export: NULL argument");
    }
    if (exporter_contextlen > HRE_HPKE_INPUT_MAX) {
        hre_wipe(out, outlen);
        return hre__fail(HRE_ELIMIT, "hre_hpke_export: exporter_context longer than %d bytes", HRE_HPKE_INPUT_MAX);
    }
    v.p = exporter_context;
    v.len = exporter_contextlen;
    rc = exporter_secret(es, ctx);
    if (rc == HRE_OK) rc = labeled_expand(out, outlen, es, HPKE, "sec", &v, 1);
    hre_wipe(es, sizeof es);
    if (rc != HRE_OK) {
        hre_wipe(out, outlen);
        return hre__api_done(rc);
    }
    return hre_crypto__ok();
}

/* ------------------------------------------------------------------------ */
/* DeriveKeyPair                                                             */
/* ------------------------------------------------------------------------ */

HRE_API int hre_hpke_derive_key(hre_key **out, const uint8_t *ikm, size_t ikmlen)
{
    HRE__API_SCOPE;
    uint8_t sk[32];
    int rc;
    if (!out) return hre__fail(HRE_EINVAL, "hre_hpke_derive_key: NULL out");
    *out = NULL;
    if (!ikm) return hre__fail(HRE_EINVAL, "hre_hpke_derive_key: NULL ikm");
    if (ikmlen < 32)
        return hre__fail(HRE_EINVAL, "hre_hpke_derive_key: ikm of %zu bytes is shorter than 32", ikmlen);
    if (ikmlen > HRE_HPKE_INPUT_MAX)
        return hre__fail(HRE_ELIMIT, "hre_hpke_derive_key: ikm longer than %d bytes", HRE_HPKE_INPUT_MAX);
    rc = derive_scalar(sk, ikm, ikmlen);
    if (rc == HRE_OK) rc = hre_key__from_scalar(out, HRE_CURVE_P256, sk);
    hre_wipe(sk, sizeof sk);
    if (rc != HRE_OK) return hre__api_done(rc);
    return hre_crypto__ok();
}

/* ------------------------------------------------------------------------ */
/* One-shot key wraps                                                        */
/* ------------------------------------------------------------------------ */

static int wrap(uint8_t out[HRE_HPKE_WRAP_LEN], hre_hpke_mode mode, const hre_pubkey *pkR,
                const hre_key *skS, const uint8_t *info, size_t infolen,
                const uint8_t *aad, size_t aadlen, const uint8_t key[32])
{
    hre_hpke_ctx *ctx = NULL;
    size_t len = HRE_HPKE_WRAP_LEN - NPK;
    int rc;
    if (!out) return hre__fail(HRE_EINVAL, "hre_hpke_wrap: NULL out");
    memset(out, 0, HRE_HPKE_WRAP_LEN);
    if (!key || (!aad && aadlen)) return hre__fail(HRE_EINVAL, "hre_hpke_wrap: NULL argument");
    if (mode == HRE_HPKE_MODE_AUTH && !skS) return hre__fail(HRE_EINVAL, "hre_hpke_wrap_auth: NULL sender key");
    rc = hre_hpke_setup_sender(&ctx, out, mode, pkR, skS, info, infolen, NULL, 0, NULL, 0);
    if (rc == HRE_OK) rc = hre_hpke_seal(ctx, out + NPK, &len, aad, aadlen, key, HRE_HPKE_WRAP_KEY_LEN);
    hre_hpke_free(ctx);
    if (rc != HRE_OK) memset(out, 0, HRE_HPKE_WRAP_LEN);
    return rc;
}

static int unwrap(uint8_t key[32], hre_hpke_mode mode, const hre_key *skR, const hre_pubkey *pkS,
                  const uint8_t *info, size_t infolen, const uint8_t *aad, size_t aadlen,
                  const uint8_t w[HRE_HPKE_WRAP_LEN])
{
    hre_hpke_ctx *ctx = NULL;
    size_t len = HRE_HPKE_WRAP_KEY_LEN;
    int rc;
    if (!key) return hre__fail(HRE_EINVAL, "hre_hpke_unwrap: NULL key");
    memset(key, 0, HRE_HPKE_WRAP_KEY_LEN);
    if (!w || (!aad && aadlen)) return hre__fail(HRE_EINVAL, "hre_hpke_unwrap: NULL argument");
    if (mode == HRE_HPKE_MODE_AUTH && !pkS) return hre__fail(HRE_EINVAL, "hre_hpke_unwrap_auth: NULL sender key");
    rc = hre_hpke_setup_receiver(&ctx, mode, skR, pkS, w, info, infolen, NULL, 0, NULL, 0);
    if (rc == HRE_OK)
        rc = hre_hpke_open(ctx, key, &len, aad, aadlen, w + NPK, HRE_HPKE_WRAP_LEN - NPK);
    hre_hpke_free(ctx);
    if (rc != HRE_OK) memset(key, 0, HRE_HPKE_WRAP_KEY_LEN);
    return rc;
}

HRE_API int hre_hpke_wrap(uint8_t out[113], const hre_pubkey *pkR,
                          const uint8_t *info, size_t infolen,
                          const uint8_t *aad, size_t aadlen,
                          const uint8_t key[32])
{
    HRE__API_SCOPE;
    return hre__api_done(wrap(out, HRE_HPKE_MODE_BASE, pkR, NULL, info, infolen, aad, aadlen, key));
}

HRE_API int hre_hpke_unwrap(uint8_t key[32], const hre_key *skR,
                            const uint8_t *info, size_t infolen,
                            const uint8_t *aad, size_t aadlen,
                            const uint8_t w[113])
{
    HRE__API_SCOPE;
    return hre__api_done(unwrap(key, HRE_HPKE_MODE_BASE, skR, NULL, info, infolen, aad, aadlen, w));
}

HRE_API int hre_hpke_wrap_auth(uint8_t out[113], const hre_pubkey *pkR, const hre_key *skS,
                               const uint8_t *info, size_t infolen,
                               const uint8_t *aad, size_t aadlen,
                               const uint8_t key[32])
{
    HRE__API_SCOPE;
    return hre__api_done(wrap(out, HRE_HPKE_MODE_AUTH, pkR, skS, info, infolen, aad, aadlen, key));
}

HRE_API int hre_hpke_unwrap_auth(uint8_t key[32], const hre_key *skR, const hre_pubkey *pkS,
                                 const uint8_t *info, size_t infolen,
                                 const uint8_t *aad, size_t aadlen,
                                 const uint8_t w[113])
{
    HRE__API_SCOPE;
    return hre__api_done(unwrap(key, HRE_HPKE_MODE_AUTH, skR, pkS, info, infolen, aad, aadlen, w));
}
