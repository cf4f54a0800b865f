/*
 * ECDSA private and public keys, signing and verification through OpenSSL 3
 * EVP (EVP_PKEY_fromdata, EVP_PKEY_sign / EVP_PKEY_verify on precomputed
 * digests), and PKCS#8 PEM import/export.
 *
 * Performance notes: a public key is parsed once (hre_pubkey holds the
 * EVP_PKEY), and each key keeps a small lock-free pool of initialised
 * EVP_PKEY_CTX objects, so a verification neither parses nor fetches
 * algorithms. EVP_PKEY_CTX is not thread-safe, so a context is taken out of
 * the pool (atomic exchange) for the duration of one call and put back
 * afterwards; when the pool is empty a fresh context is made and, if no slot
 * is free on return, discarded.
 */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "hre/key.h"
#include "crypto/internal.h"

#define CTX_SLOTS 4
#define PEM_MAX_INPUT (64u * 1024u)
#define PASS_MAX 1024u
/* PBKDF2-HMAC-SHA256 iterations for exported keys (OpenSSL's default is
 * only 2048), and the most an imported key may ask for (bounds the CPU time
 * a hostile PEM file can cost). */
#define PBKDF2_ITER 100000
#define PBKDF2_ITER_MAX 10000000L

typedef struct ctx_pool {
    _Atomic(EVP_PKEY_CTX *) slot[CTX_SLOTS];
} ctx_pool;

struct hre_pubkey {
    atomic_long refs;
    hre_curve curve;
    EVP_PKEY *pkey;                                 /* public only */
    uint8_t wire[HRE_PUBKEY_ENCODED_LEN];           /* curve id || compressed */
    uint8_t uncompressed[HRE_PUBKEY_UNCOMPRESSED_LEN];
    ctx_pool pool;                                  /* verify contexts */
};

struct hre_key {
    hre_curve curve;
    EVP_PKEY *pkey;                                 /* holds the secret */
    hre_pubkey *pub;                                /* parsed public key (one reference) */
    ctx_pool pool;                                  /* sign contexts */
    BIGNUM *scalar;                                 /* 1.1: private scalar for ECDH on encoded points (or NULL) */
};

static const char *group_name(hre_curve curve)
{
    switch (curve) {
    case HRE_CURVE_P256: return "prime256v1";
    case HRE_CURVE_SECP256K1: return "secp256k1";
    default: return NULL;
    }
}

/* Map an OpenSSL group name to our curve id (0 if unsupported). */
static hre_curve curve_of_group(const char *name)
{
    if (!strcmp(name, "prime256v1") || !strcmp(name, "P-256") || !strcmp(name, "secp256r1"))
        return HRE_CURVE_P256;
    if (!strcmp(name, "secp256k1")) return HRE_CURVE_SECP256K1;
    return (hre_curve)0;
}

/* ------------------------------------------------------------------------ */
/* Context pool                                                              */
/* ------------------------------------------------------------------------ */

static EVP_PKEY_CTX *pool_take(ctx_pool *p)
{
    for (int i = 0; i < CTX_SLOTS; i++) {
        if (atomic_load_explicit(&p->slot[i], memory_order_relaxed) == NULL) continue;
        EVP_PKEY_CTX *c = atomic_exchange_explicit(&p->slot[i], NULL, memory_order_acquire);
        if (c) return c;
    }
    return NULL;
}

static void pool_put(ctx_pool *p, EVP_PKEY_CTX *c)
{
    for (int i = 0; i < CTX_SLOTS; i++) {
        EVP_PKEY_CTX *expected = NULL;
        if (atomic_compare_exchange_strong_explicit(&p->slot[i], &expected, c,
                                                    memory_order_release, memory_order_relaxed))
            return;
    }
    EVP_PKEY_CTX_free(c);
}

static void pool_clear(ctx_pool *p)
{
    for (int i = 0; i < CTX_SLOTS; i++)
        EVP_PKEY_CTX_free(atomic_exchange_explicit(&p->slot[i], NULL, memory_order_acquire));
}

/* ------------------------------------------------------------------------ */
/* Public keys                                                               */
/* ------------------------------------------------------------------------ */

/* Per-curve template public keys (the generator point), made once per
 * process and only ever read afterwards. A parse duplicates the template
 * (EVP_PKEY_dup copies the already set-up EC group) and sets the point:
 * about 4.5 us for an uncompressed point and 25 us for a compressed one
 * (the square root), against 35 / 58 us for EVP_PKEY_fromdata, which
 * rebuilds the group from its name every time. */
static const uint8_t P256_G[65] = {
    0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40,
    0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2,
    0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e,
    0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51,
    0xf5};
static const uint8_t K256_G[65] = {
    0x04, 0x79, 0xbe, 0x66, 0x7e, 0xf9, 0xdc, 0xbb, 0xac, 0x55, 0xa0, 0x62, 0x95, 0xce, 0x87, 0x0b,
    0x07, 0x02, 0x9b, 0xfc, 0xdb, 0x2d, 0xce, 0x28, 0xd9, 0x59, 0xf2, 0x81, 0x5b, 0x16, 0xf8, 0x17,
    0x98, 0x48, 0x3a, 0xda, 0x77, 0x26, 0xa3, 0xc4, 0x65, 0x5d, 0xa4, 0xfb, 0xfc, 0x0e, 0x11, 0x08,
    0xa8, 0xfd, 0x17, 0xb4, 0x48, 0xa6, 0x85, 0x54, 0x19, 0x9c, 0x47, 0xd0, 0x8f, 0xfb, 0x10, 0xd4,
    0xb8};

static pthread_once_t g_tpl_once = PTHREAD_ONCE_INIT;
static EVP_PKEY *g_tpl[3];   /* indexed by hre_curve */

static EVP_PKEY *template_from_name(hre_curve curve, const uint8_t g[65])
{
    OSSL_PARAM params[4];
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)group_name(curve), 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)g, 65);
    params[2] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                                 (char *)"uncompressed", 0);
    params[3] = OSSL_PARAM_construct_end();
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return pkey;
}

static void make_templates(void)
{
    g_tpl[HRE_CURVE_P256] = template_from_name(HRE_CURVE_P256, P256_G);
    g_tpl[HRE_CURVE_SECP256K1] = template_from_name(HRE_CURVE_SECP256K1, K256_G);
}

__attribute__((destructor)) static void free_templates(void)
{
    EVP_PKEY_free(g_tpl[HRE_CURVE_P256]);
    EVP_PKEY_free(g_tpl[HRE_CURVE_SECP256K1]);
    g_tpl[HRE_CURVE_P256] = g_tpl[HRE_CURVE_SECP256K1] = NULL;
}

/* Build a public-key EVP_PKEY from a SEC1 point (validated by OpenSSL: the
 * coordinates must be < p and the point on the curve) and read back its
 * uncompressed encoding. Returns HRE_OK, HRE_EDECODE or HRE_ECRYPTO. */
static int pkey_from_point(EVP_PKEY **out, uint8_t unc[65], hre_curve curve,
                           const uint8_t *sec1, size_t len)
{
    EVP_PKEY *pkey;
    size_t got = 0;
    int rc;

    *out = NULL;
    pthread_once(&g_tpl_once, make_templates);
    if (!g_tpl[curve]) return HRE_ECRYPTO;
    pkey = EVP_PKEY_dup(g_tpl[curve]);
    if (!pkey) {
        rc = HRE_ECRYPTO;
    } else if (!EVP_PKEY_set1_encoded_public_key(pkey, sec1, len)) {
        rc = HRE_EDECODE;          /* off the curve, coordinate >= p, bad encoding */
    } else if (!EVP_PKEY_set_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                               "uncompressed") ||
               !EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, unc, 65, &got) ||
               got != 65 || unc[0] != 0x04) {
        rc = HRE_ECRYPTO;
    } else {
        rc = HRE_OK;
    }
    if (rc != HRE_OK) {
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        return rc;
    }
    *out = pkey;
    return HRE_OK;
}

/* Parse with all checks; detail messages are set here. */
static int pubkey_parse(hre_pubkey **out, hre_curve curve, const uint8_t *sec1, size_t len)
{
    hre_pubkey *pk;
    int rc;

    if (len == HRE_PUBKEY_COMPRESSED_LEN) {
        if (sec1[0] != 0x02 && sec1[0] != 0x03)
            return hre__fail(HRE_EDECODE, "public key: bad prefix 0x%02x for a compressed point", sec1[0]);
    } else if (len == HRE_PUBKEY_UNCOMPRESSED_LEN) {
        if (sec1[0] != 0x04)
            return hre__fail(HRE_EDECODE, "public key: bad prefix 0x%02x for an uncompressed point", sec1[0]);
    } else {
        return hre__fail(HRE_EDECODE, "public key: length %zu is neither 33 nor 65", len);
    }

    pk = hre__calloc(1, sizeof *pk);
    if (!pk) return hre__fail(HRE_ENOMEM, "out of memory allocating a public key");
    rc = pkey_from_point(&pk->pkey, pk->uncompressed, curve, sec1, len);
    if (rc != HRE_OK) {
        hre__free(pk);
        if (rc == HRE_EDECODE)
            return hre__fail(HRE_EDECODE, "public key: not a valid point on the curve");
        return hre__fail(rc, "public key: the crypto provider failed to import the point");
    }
    pk->curve = curve;
    pk->wire[0] = (uint8_t)curve;
    pk->wire[1] = (uint8_t)(0x02 | (pk->uncompressed[64] & 1));
    memcpy(pk->wire + 2, pk->uncompressed + 1, 32);
    /* Canonical: the input must be exactly one of our two encodings. */
    if ((len == 33 && memcmp(sec1, pk->wire + 1, 33) != 0) ||
        (len == 65 && memcmp(sec1, pk->uncompressed, 65) != 0)) {
        EVP_PKEY_free(pk->pkey);
        hre__free(pk);
        return hre__fail(HRE_EDECODE, "public key: non-canonical point encoding");
    }
    atomic_init(&pk->refs, 1);
    for (int i = 0; i < CTX_SLOTS; i++) atomic_init(&pk->pool.slot[i], NULL);
    *out = pk;
    return HRE_OK;
}

HRE_API int hre_pubkey_parse(hre_pubkey **out, hre_curve curve, const uint8_t *sec1, size_t len)
{
    HRE__API_SCOPE;
    if (!out) return hre__fail(HRE_EINVAL, "hre_pubkey_parse: NULL out");
    *out = NULL;
    if (!sec1 && len) return hre__fail(HRE_EINVAL, "hre_pubkey_parse: NULL input");
    if (!group_name(curve)) return hre__fail(HRE_EINVAL, "hre_pubkey_parse: unknown curve id %d", (int)curve);
    if (!sec1) return hre__fail(HRE_EDECODE, "public key: empty input");
    return hre__api_done(pubkey_parse(out, curve, sec1, len));
}

HRE_API int hre_pubkey_serialize(const hre_pubkey *pk, uint8_t *out, size_t *outlen, int compressed)
{
    HRE__API_SCOPE;
    size_t need;
    if (!outlen || !pk || (!out && *outlen))
        return hre__fail(HRE_EINVAL, "hre_pubkey_serialize: NULL argument");
    need = compressed ? HRE_PUBKEY_COMPRESSED_LEN : HRE_PUBKEY_UNCOMPRESSED_LEN;
    if (*outlen < need) {
        *outlen = need;
        return hre__fail(HRE_EBUFSIZE, "hre_pubkey_serialize: need %zu bytes", need);
    }
    memcpy(out, compressed ? pk->wire + 1 : pk->uncompressed, need);
    *outlen = need;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_pubkey_serialize_wire(const hre_pubkey *pk, uint8_t out[34])
{
    HRE__API_SCOPE;
    if (!out) return hre__fail(HRE_EINVAL, "hre_pubkey_serialize_wire: NULL out");
    if (!pk) {
        memset(out, 0, HRE_PUBKEY_ENCODED_LEN);
        return hre__fail(HRE_EINVAL, "hre_pubkey_serialize_wire: NULL key");
    }
    memcpy(out, pk->wire, HRE_PUBKEY_ENCODED_LEN);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_pubkey_parse_wire(hre_pubkey **out, const uint8_t in[34])
{
    HRE__API_SCOPE;
    if (!out) return hre__fail(HRE_EINVAL, "hre_pubkey_parse_wire: NULL out");
    *out = NULL;
    if (!in) return hre__fail(HRE_EINVAL, "hre_pubkey_parse_wire: NULL input");
    if (!group_name((hre_curve)in[0]))
        return hre__fail(HRE_EDECODE, "encoded public key: unknown curve id %u", in[0]);
    if (in[1] != 0x02 && in[1] != 0x03)
        return hre__fail(HRE_EDECODE, "encoded public key: bad point prefix 0x%02x (compressed form required)", in[1]);
    return hre__api_done(pubkey_parse(out, (hre_curve)in[0], in + 1, HRE_PUBKEY_COMPRESSED_LEN));
}

HRE_API hre_curve hre_pubkey_curve(const hre_pubkey *pk)
{
    return pk ? pk->curve : (hre_curve)0;
}

HRE_API hre_pubkey *hre_pubkey_ref(hre_pubkey *pk)
{
    if (pk) atomic_fetch_add_explicit(&pk->refs, 1, memory_order_relaxed);
    return pk;
}

HRE_API int hre_pubkey_equal(const hre_pubkey *a, const hre_pubkey *b)
{
    if (!a || !b) return 0;
    return memcmp(a->wire, b->wire, HRE_PUBKEY_ENCODED_LEN) == 0;
}

HRE_API void hre_pubkey_free(hre_pubkey *pk)
{
    if (!pk) return;
    if (atomic_fetch_sub_explicit(&pk->refs, 1, memory_order_acq_rel) != 1) return;
    pool_clear(&pk->pool);
    EVP_PKEY_free(pk->pkey);
    hre__free(pk);
}

const uint8_t *hre_key__pubkey_wire(const hre_pubkey *pk)
{
    return pk->wire;
}

/* ------------------------------------------------------------------------ */
/* Verification                                                              */
/* ------------------------------------------------------------------------ */

HRE_API int hre_pubkey_verify(const hre_pubkey *pk, const uint8_t digest[32], const uint8_t sig[64])
{
    HRE__API_SCOPE;
    hre_pubkey *m = (hre_pubkey *)pk;   /* only the context pool is touched */
    uint8_t der[HRE_SIG_DER_MAX];
    size_t derlen;
    EVP_PKEY_CTX *ctx;
    int r;

    if (!pk || !digest || !sig) return hre__fail(HRE_EINVAL, "hre_pubkey_verify: NULL argument");
    if (!hre_key__scalar_in_range(sig, pk->curve) || !hre_key__scalar_in_range(sig + 32, pk->curve))
        return hre__fail(HRE_EVERIFY, "signature: r or s outside [1, n-1]");
    if (!hre_key__sig_is_canonical(sig, pk->curve))
        return hre__fail(HRE_EVERIFY, "signature: high S (not normalised)");
    derlen = hre_key__der_encode(der, sig);

    ctx = pool_take(&m->pool);
    if (!ctx) {
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk->pkey, NULL);
        if (!ctx) {
            ERR_clear_error();
            return hre__fail(HRE_ENOMEM, "hre_pubkey_verify: cannot allocate an EVP_PKEY_CTX");
        }
        if (EVP_PKEY_verify_init(ctx) <= 0) {
            EVP_PKEY_CTX_free(ctx);
            ERR_clear_error();
            return hre__fail(HRE_ECRYPTO, "hre_pubkey_verify: EVP_PKEY_verify_init failed");
        }
    }
    r = EVP_PKEY_verify(ctx, der, derlen, digest, 32);
    if (r < 0) {
        /* provider error: don't reuse a context in an unknown state */
        EVP_PKEY_CTX_free(ctx);
        ERR_clear_error();
        return hre__fail(HRE_EVERIFY, "signature did not verify (provider error)");
    }
    pool_put(&m->pool, ctx);
    if (r != 1) {
        ERR_clear_error();
        return hre__fail(HRE_EVERIFY, "signature did not verify");
    }
    return hre__api_done(HRE_OK);
}

/* ------------------------------------------------------------------------ */
/* Private keys                                                              */
/* ------------------------------------------------------------------------ */

/* The private scalar as a constant-time BIGNUM (secure allocation, cleared
 * when freed), kept so ECDH on encoded points (ecdh.c) does not export it
 * from the provider per call; NULL if it cannot be read (ecdh.c then does). */
static BIGNUM *scalar_of(EVP_PKEY *pkey)
{
    BIGNUM *tmp = NULL, *k = NULL;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &tmp) && (k = BN_secure_new()) && BN_copy(k, tmp))
        BN_set_flags(k, BN_FLG_CONSTTIME);
    else
        BN_clear_free(k), k = NULL;
    BN_clear_free(tmp);
    ERR_clear_error();
    return k;
}

/* Wrap an EVP_PKEY holding a private key on `curve` (ownership taken). */
static int key_wrap(hre_key **out, EVP_PKEY *pkey, hre_curve curve)
{
    hre_key *k;
    size_t got = 0;
    hre_pubkey *pub = NULL;
    uint8_t unc[65];
    int rc;

    *out = NULL;
    if (!EVP_PKEY_set_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed") ||
        !EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, unc, sizeof unc, &got) ||
        got != 65 || unc[0] != 0x04) {
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        return hre__fail(HRE_ECRYPTO, "private key: cannot read the public point");
    }
    /* The public key, parsed and validated like any other, kept for
     * hre_key_pubkey. */
    rc = pubkey_parse(&pub, curve, unc, 65);
    if (rc != HRE_OK) {
        EVP_PKEY_free(pkey);
        if (rc == HRE_ENOMEM) return rc;
        return hre__fail(HRE_ECRYPTO, "private key: its public point does not validate");
    }
    k = hre__calloc(1, sizeof *k);
    if (!k) {
        hre_pubkey_free(pub);
        EVP_PKEY_free(pkey);
        return hre__fail(HRE_ENOMEM, "out of memory allocating a private key");
    }
    k->curve = curve;
    k->pkey = pkey;
    k->pub = pub;
    k->scalar = scalar_of(pkey);
    for (int i = 0; i < CTX_SLOTS; i++) atomic_init(&k->pool.slot[i], NULL);
    *out = k;
    return HRE_OK;
}

HRE_API int hre_key_generate(hre_key **out, hre_curve curve)
{
    HRE__API_SCOPE;
    EVP_PKEY *pkey;
    const char *g;
    if (!out) return hre__fail(HRE_EINVAL, "hre_key_generate: NULL out");
    *out = NULL;
    g = group_name(curve);
    if (!g) return hre__fail(HRE_EINVAL, "hre_key_generate: unknown curve id %d", (int)curve);
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", g);
    if (!pkey) {
        ERR_clear_error();
        return hre__fail(HRE_ECRYPTO, "EC key generation failed in the crypto provider");
    }
    return hre__api_done(key_wrap(out, pkey, curve));
}

HRE_API void hre_key_free(hre_key *key)
{
    if (!key) return;
    pool_clear(&key->pool);
    hre_pubkey_free(key->pub);
    BN_clear_free(key->scalar);
    EVP_PKEY_free(key->pkey);   /* OpenSSL clears the private scalar */
    hre__free_secret(key, sizeof *key);
}

HRE_API hre_curve hre_key_curve(const hre_key *key)
{
    return key ? key->curve : (hre_curve)0;
}

HRE_API int hre_key_pubkey(const hre_key *key, hre_pubkey **out)
{
    HRE__API_SCOPE;
    if (!out) return hre__fail(HRE_EINVAL, "hre_key_pubkey: NULL out");
    *out = NULL;
    if (!key) return hre__fail(HRE_EINVAL, "hre_key_pubkey: NULL key");
    *out = hre_pubkey_ref(key->pub);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_key_sign(const hre_key *key, uint8_t sig[64], const uint8_t digest[32])
{
    HRE__API_SCOPE;
    hre_key *m = (hre_key *)key;   /* only the context pool is touched */
    uint8_t der[80];
    size_t derlen = sizeof der;
    EVP_PKEY_CTX *ctx;
    int r;

    if (!sig) return hre__fail(HRE_EINVAL, "hre_key_sign: NULL sig");
    memset(sig, 0, 64);
    if (!key || !digest) return hre__fail(HRE_EINVAL, "hre_key_sign: NULL argument");

    ctx = pool_take(&m->pool);
    if (!ctx) {
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
        if (!ctx) {
            ERR_clear_error();
            return hre__fail(HRE_ECRYPTO, "hre_key_sign: cannot create an EVP_PKEY_CTX");
        }
        if (EVP_PKEY_sign_init(ctx) <= 0) {
            EVP_PKEY_CTX_free(ctx);
            ERR_clear_error();
            return hre__fail(HRE_ECRYPTO, "hre_key_sign: EVP_PKEY_sign_init failed");
        }
    }
    r = EVP_PKEY_sign(ctx, der, &derlen, digest, 32);
    if (r <= 0) {
        EVP_PKEY_CTX_free(ctx);
        ERR_clear_error();
        return hre__fail(HRE_ECRYPTO, "ECDSA signing failed in the crypto provider");
    }
    pool_put(&m->pool, ctx);
    if (hre_key__der_decode(sig, der, derlen) != HRE_OK ||
        hre_sig_normalize(sig, key->curve) != HRE_OK) {
        memset(sig, 0, 64);
        return hre__fail(HRE_ECRYPTO, "ECDSA signing produced an unexpected signature encoding");
    }
    return hre__api_done(HRE_OK);
}

/* ------------------------------------------------------------------------ */
/* PKCS#8 PEM                                                                */
/* ------------------------------------------------------------------------ */

/* PKCS#8 PEM into bio: PBES2 (PBKDF2-HMAC-SHA256, PBKDF2_ITER iterations,
 * random salt, AES-256-CBC) when passlen > 0, else clear. Returns 1 on success. */
static int write_pkcs8(BIO *bio, EVP_PKEY *pkey, const char *pass, size_t passlen)
{
    PKCS8_PRIV_KEY_INFO *inf = EVP_PKEY2PKCS8(pkey);
    X509_ALGOR *pbe = NULL;
    X509_SIG *p8 = NULL;
    int ok = 0;
    if (!inf) return 0;
    if (!passlen) {
        ok = PEM_write_bio_PKCS8_PRIV_KEY_INFO(bio, inf);
    } else {
        pbe = PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), PBKDF2_ITER, NULL, 0, NULL, NID_hmacWithSHA256);
        if (pbe) p8 = PKCS8_set0_pbe(pass, (int)passlen, inf, pbe);
        if (p8) {
            ok = PEM_write_bio_PKCS8(bio, p8);
            X509_SIG_free(p8);           /* owns pbe now */
        } else {
            X509_ALGOR_free(pbe);
        }
    }
    PKCS8_PRIV_KEY_INFO_free(inf);       /* clears the key octets */
    return ok > 0;
}

/* scrypt parameters an imported key may ask for (defect 1.4: OpenSSL caps
 * only scrypt's memory, so p alone could pin a CPU for an hour). The caps and
 * their reasoning are public: HRE_KEY_SCRYPT_* at the end of key.h. Checked
 * before any derivation; each refusal names the parameter. */
static int check_scrypt(const void *pval)
{
    const unsigned char *q = ASN1_STRING_get0_data(pval), *end;
    SCRYPT_PARAMS *sp;
    uint64_t N = 0, r = 0, p = 0, mem;
    int rc = HRE_OK;

    end = q + ASN1_STRING_length(pval);
    sp = d2i_SCRYPT_PARAMS(NULL, &q, ASN1_STRING_length(pval));
    if (!sp || q != end) {
        SCRYPT_PARAMS_free(sp);
        return hre__fail(HRE_EDECODE, "encrypted PKCS#8: malformed scrypt parameters");
    }
    if (!ASN1_INTEGER_get_uint64(&p, sp->parallelizationParameter) || p < 1 || p > HRE_KEY_SCRYPT_P_MAX)
        rc = hre__fail(HRE_EUNSUPPORTED, "encrypted PKCS#8: scrypt parallelization p = %llu outside [1, %d]",
                       (unsigned long long)p, HRE_KEY_SCRYPT_P_MAX);
    else if (!ASN1_INTEGER_get_uint64(&r, sp->blockSize) || r < 1 || r > HRE_KEY_SCRYPT_WORK_MAX)
        rc = hre__fail(HRE_EUNSUPPORTED, "encrypted PKCS#8: scrypt block size r = %llu outside [1, %ld]",
                       (unsigned long long)r, (long)HRE_KEY_SCRYPT_WORK_MAX);
    else if (!ASN1_INTEGER_get_uint64(&N, sp->costParameter) || N < 2 || (N & (N - 1)) != 0)
        rc = hre__fail(HRE_EUNSUPPORTED, "encrypted PKCS#8: scrypt cost N = %llu is not a power of two >= 2",
                       (unsigned long long)N);
    else if (r < 4 && N >= (UINT64_C(1) << (16 * r)))   /* RFC 7914: N < 2^(128 r / 8) */
        rc = hre__fail(HRE_EUNSUPPORTED, "encrypted PKCS#8: scrypt cost N = %llu is not below 2^(16 r) for r = %llu",
                       (unsigned long long)N, (unsigned long long)r);
    else if (N > HRE_KEY_SCRYPT_WORK_MAX || N * r > HRE_KEY_SCRYPT_WORK_MAX ||
             N * r * p > HRE_KEY_SCRYPT_WORK_MAX)   /* each factor <= 2^23: no overflow */
        rc = hre__fail(HRE_EUNSUPPORTED, "encrypted PKCS#8: scrypt work N*r*p = %llu*%llu*%llu exceeds 2^23",
                       (unsigned long long)N, (unsigned long long)r, (unsigned long long)p);
    else if ((mem = 128 * r * (N + 2) + 128 * r * p) > HRE_KEY_SCRYPT_MEM_MAX)
        rc = hre__fail(HRE_EUNSUPPORTED, "encrypted PKCS#8: scrypt memory 128*r*(N+p+2) = %llu bytes "
                       "exceeds %d (N = %llu, r = %llu)", (unsigned long long)mem, HRE_KEY_SCRYPT_MEM_MAX,
                       (unsigned long long)N, (unsigned long long)r);
    SCRYPT_PARAMS_free(sp);
    return rc;
}

/* Before running a KDF chosen by the input: only PBES2 with PBKDF2 (at
 * most PBKDF2_ITER_MAX iterations) or scrypt (within HRE_KEY_SCRYPT_*). */
static int check_pbe(const X509_SIG *p8)
{
    const X509_ALGOR *alg = NULL, *kalg;
    const ASN1_OBJECT *oid = NULL;
    const void *pval = NULL;
    const unsigned char *q;
    PBE2PARAM *pbe2 = NULL;
    PBKDF2PARAM *kdf = NULL;
    int ptype = 0, rc;
    long iter;

    X509_SIG_get0(p8, &alg, NULL);
    X509_ALGOR_get0(&oid, &ptype, &pval, alg);
    if (OBJ_obj2nid(oid) != NID_pbes2 || ptype != V_ASN1_SEQUENCE)
        return hre__fail(HRE_EUNSUPPORTED, "encrypted PKCS#8: only PBES2 encryption is supported");
    q = ASN1_STRING_get0_data(pval);
    pbe2 = d2i_PBE2PARAM(NULL, &q, ASN1_STRING_length(pval));
    if (!pbe2) return hre__fail(HRE_EDECODE, "encrypted PKCS#8: malformed PBES2 parameters");
    kalg = pbe2->keyfunc;
    X509_ALGOR_get0(&oid, &ptype, &pval, kalg);
    if (OBJ_obj2nid(oid) == NID_id_scrypt) {
        rc = ptype == V_ASN1_SEQUENCE ? check_scrypt(pval)
                                      : hre__fail(HRE_EDECODE, "encrypted PKCS#8: malformed scrypt parameters");
    } else if (OBJ_obj2nid(oid) != NID_id_pbkdf2 || ptype != V_ASN1_SEQUENCE) {
        rc = hre__fail(HRE_EUNSUPPORTED, "encrypted PKCS#8: unsupported key derivation function");
    } else {
        q = ASN1_STRING_get0_data(pval);
        kdf = d2i_PBKDF2PARAM(NULL, &q, ASN1_STRING_length(pval));
        iter = kdf ? ASN1_INTEGER_get(kdf->iter) : -1;
        if (!kdf)
            rc = hre__fail(HRE_EDECODE, "encrypted PKCS#8: malformed PBKDF2 parameters");
        else if (iter < 1 || iter > PBKDF2_ITER_MAX)
            rc = hre__fail(HRE_EUNSUPPORTED, "encrypted PKCS#8: PBKDF2 iteration count %ld outside [1, %ld]",
                           iter, PBKDF2_ITER_MAX);
        else
            rc = HRE_OK;
    }
    PBKDF2PARAM_free(kdf);
    PBE2PARAM_free(pbe2);
    return rc;
}

HRE_API int hre_key_export_pem(const hre_key *key, char *out, size_t *outlen,
                               const char *pass, size_t passlen)
{
    HRE__API_SCOPE;
    BIO *bio;
    char *data = NULL;
    long n;
    int ok;

    if (!outlen || !key || (!out && *outlen))
        return hre__fail(HRE_EINVAL, "hre_key_export_pem: NULL argument");
    if ((pass == NULL) != (passlen == 0)) {
        if (out && *outlen) out[0] = '\0';
        return hre__fail(HRE_EINVAL, "hre_key_export_pem: pass and passlen disagree "
                                     "(use NULL/0 for a clear key, or a non-empty passphrase)");
    }
    if (passlen > PASS_MAX) {
        if (out && *outlen) out[0] = '\0';
        return hre__fail(HRE_EINVAL, "hre_key_export_pem: passphrase longer than %u bytes", PASS_MAX);
    }
    bio = BIO_new(BIO_s_secmem());   /* cleared on free */
    if (!bio) {
        ERR_clear_error();
        return hre__fail(HRE_ENOMEM, "hre_key_export_pem: cannot allocate a memory BIO");
    }
    ok = write_pkcs8(bio, key->pkey, pass, passlen);
    n = ok ? BIO_get_mem_data(bio, &data) : 0;
    if (!ok || n <= 0 || !data) {
        BIO_free(bio);
        ERR_clear_error();
        if (out && *outlen) out[0] = '\0';
        return hre__fail(HRE_ECRYPTO, "PKCS#8 PEM encoding failed in the crypto provider");
    }
    if (*outlen < (size_t)n + 1) {
        BIO_free(bio);
        if (out && *outlen) hre_wipe(out, *outlen);
        *outlen = (size_t)n + 1;
        return hre__fail(HRE_EBUFSIZE, "hre_key_export_pem: need %zu bytes", (size_t)n + 1);
    }
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    *outlen = (size_t)n;
    BIO_free(bio);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_key_import_pem(hre_key **out, const char *pem, size_t pemlen,
                               const char *pass, size_t passlen)
{
    HRE__API_SCOPE;
    BIO *bio = NULL;
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long dlen = 0;
    const unsigned char *p;
    X509_SIG *p8 = NULL;
    PKCS8_PRIV_KEY_INFO *inf = NULL;
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *cctx = NULL;
    const ASN1_OBJECT *alg = NULL;
    const X509_ALGOR *palg = NULL;
    const void *pval = NULL;
    int ptype = 0, damaged;
    char gname[64];
    hre_curve curve;
    int rc;

    if (!out) return hre__fail(HRE_EINVAL, "hre_key_import_pem: NULL out");
    *out = NULL;
    if (!pem || (!pass && passlen))
        return hre__fail(HRE_EINVAL, "hre_key_import_pem: NULL argument");
    if (pemlen > PEM_MAX_INPUT)
        return hre__fail(HRE_EDECODE, "PEM input larger than %u bytes", PEM_MAX_INPUT);
    if (passlen > PASS_MAX)
        return hre__fail(HRE_EINVAL, "hre_key_import_pem: passphrase longer than %u bytes", PASS_MAX);

    bio = BIO_new_mem_buf(pem, (int)pemlen);
    if (!bio) {
        rc = hre__fail(HRE_ENOMEM, "hre_key_import_pem: cannot allocate a memory BIO");
        goto done;
    }
    if (!PEM_read_bio_ex(bio, &name, &header, &data, &dlen, PEM_FLAG_SECURE | PEM_FLAG_ONLY_B64)) {
        rc = hre__fail(HRE_EDECODE, "not a PEM document");
        goto done;
    }
    p = data;
    if (!strcmp(name, "ENCRYPTED PRIVATE KEY")) {
        p8 = d2i_X509_SIG(NULL, &p, dlen);
        if (!p8 || p != data + dlen) {
            rc = hre__fail(HRE_EDECODE, "encrypted PKCS#8: malformed EncryptedPrivateKeyInfo");
            goto done;
        }
        if (!passlen) {
            rc = hre__fail(HRE_EDECRYPT, "encrypted PKCS#8 key: a passphrase is required");
            goto done;
        }
        if ((rc = check_pbe(p8)) != HRE_OK) goto done;
        inf = PKCS8_decrypt(p8, pass, (int)passlen);
        if (!inf) {
            rc = hre__fail(HRE_EDECRYPT, "encrypted PKCS#8 key: wrong passphrase or damaged data");
            goto done;
        }
    } else if (!strcmp(name, "PRIVATE KEY")) {
        inf = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, dlen);
        if (!inf || p != data + dlen) {
            rc = hre__fail(HRE_EDECODE, "PKCS#8: malformed PrivateKeyInfo");
            goto done;
        }
    } else {
        rc = hre__fail(HRE_EDECODE, "PEM block is not a PKCS#8 private key");
        goto done;
    }
    if (!PKCS8_pkey_get0(&alg, NULL, NULL, &palg, inf) || OBJ_obj2nid(alg) != NID_X9_62_id_ecPublicKey) {
        rc = hre__fail(HRE_EUNSUPPORTED, "PKCS#8 key is not an EC key");
        goto done;
    }
    /* The curve must be named, and one of ours (explicit parameters are refused). */
    X509_ALGOR_get0(NULL, &ptype, &pval, palg);
    if (ptype != V_ASN1_OBJECT ||
        (OBJ_obj2nid(pval) != NID_X9_62_prime256v1 && OBJ_obj2nid(pval) != NID_secp256k1)) {
        rc = hre__fail(HRE_EUNSUPPORTED, "PKCS#8 EC key is not on P-256 or secp256k1 (named curve)");
        goto done;
    }
    /* From here on a failure means damaged key data: after a successful
     * decryption that is damaged ciphertext (or a passphrase collision). */
    damaged = p8 ? HRE_EDECRYPT : HRE_EDECODE;
    pkey = EVP_PKCS82PKEY(inf);
    if (!pkey) {
        rc = hre__fail(damaged, "PKCS#8 EC key: the key data is damaged");
        goto done;
    }
    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, gname, sizeof gname, NULL) ||
        !(curve = curve_of_group(gname))) {
        rc = hre__fail(HRE_EUNSUPPORTED, "PKCS#8 EC key is on an unsupported curve");
        goto done;
    }
    cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!cctx || EVP_PKEY_check(cctx) != 1) {
        rc = hre__fail(damaged, "PKCS#8 EC key fails the key consistency check");
        goto done;
    }
    rc = key_wrap(out, pkey, curve);
    pkey = NULL;   /* owned by key_wrap now */
done:
    EVP_PKEY_CTX_free(cctx);
    EVP_PKEY_free(pkey);
    PKCS8_PRIV_KEY_INFO_free(inf);
    X509_SIG_free(p8);
    if (data) OPENSSL_secure_clear_free(data, (size_t)dlen);
    OPENSSL_secure_free(name);
    OPENSSL_secure_free(header);
    BIO_free(bio);
    ERR_clear_error();
    hre_wipe(gname, sizeof gname);
    return hre__api_done(rc);
}

/* ------------------------------------------------------------------------ */
/* 1.1: internal accessors for ECDH and HPKE (lib/crypto/ecdh.c, hpke.c)     */
/* ------------------------------------------------------------------------ */

EVP_PKEY *hre_key__pkey(const hre_key *key)
{
    return key ? key->pkey : NULL;
}

EVP_PKEY *hre_key__pubkey_pkey(const hre_pubkey *pk)
{
    return pk ? pk->pkey : NULL;
}

const uint8_t *hre_key__pubkey_uncompressed(const hre_pubkey *pk)
{
    return pk->uncompressed;
}

int hre_key__wrap(hre_key **out, EVP_PKEY *pkey, hre_curve curve)
{
    return key_wrap(out, pkey, curve);
}

const BIGNUM *hre_key__scalar_bn(const hre_key *key)
{
    return key ? key->scalar : NULL;
}
