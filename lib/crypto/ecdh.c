/*
 * ECDH on P-256 / secp256k1 through OpenSSL 3 EVP (EVP_PKEY_derive), and
 * private keys from a raw scalar (HPKE's DeriveKeyPair, scalar test vectors).
 */
#include <pthread.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include "hre/hash.h"
#include "hre/key.h"
#include "crypto/internal.h"

int hre_key__ecdh_pkey(uint8_t shared[32], EVP_PKEY *priv, EVP_PKEY *peer)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    size_t len = 32;
    int ok;
    /* validate_peer = 0: every peer was validated when it was parsed (on the
     * curve, not infinity; both curves have cofactor 1), and OpenSSL's full
     * public check would add a second scalar multiplication per call. */
    ok = ctx && EVP_PKEY_derive_init(ctx) == 1 &&
         EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) == 1 &&
         EVP_PKEY_derive(ctx, shared, &len) == 1 && len == 32;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        hre_wipe(shared, 32);
        ERR_clear_error();
        return HRE_ECRYPTO;
    }
    return HRE_OK;
}

HRE_API int hre_key_ecdh(const hre_key *key, uint8_t shared[32], const hre_pubkey *peer)
{
    HRE__API_SCOPE;
    if (!shared) return hre__fail(HRE_EINVAL, "hre_key_ecdh: NULL shared");
    memset(shared, 0, 32);
    if (!key || !peer) return hre__fail(HRE_EINVAL, "hre_key_ecdh: NULL key");
    if (hre_key_curve(key) != hre_pubkey_curve(peer))
        return hre__fail(HRE_EINVAL, "hre_key_ecdh: private key and peer are on different curves");
    if (hre_key__ecdh_pkey(shared, hre_key__pkey(key), hre_key__pubkey_pkey(peer)) != HRE_OK)
        return hre__fail(HRE_ECRYPTO, "ECDH failed in the crypto provider");
    return hre_crypto__ok();
}

static int curve_nid(hre_curve curve)
{
    switch (curve) {
    case HRE_CURVE_P256: return NID_X9_62_prime256v1;
    case HRE_CURVE_SECP256K1: return NID_secp256k1;
    default: return NID_undef;
    }
}

int hre_key__from_scalar(hre_key **out, hre_curve curve, const uint8_t scalar[32])
{
    EC_GROUP *group = NULL;
    EC_POINT *pub = NULL;
    BIGNUM *priv = NULL;
    BN_CTX *bn = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    uint8_t point[65];
    int nid = curve_nid(curve), rc;

    *out = NULL;
    if (nid == NID_undef) return hre__fail(HRE_EINVAL, "private key: unknown curve id %d", (int)curve);
    if (!hre_key__scalar_in_range(scalar, curve))
        return hre__fail(HRE_EINVAL, "private key: scalar outside [1, n-1]");
    group = EC_GROUP_new_by_curve_name(nid);
    bn = BN_CTX_secure_new();
    priv = BN_secure_new();
    pub = group ? EC_POINT_new(group) : NULL;
    if (!group || !bn || !priv || !pub || !BN_bin2bn(scalar, 32, priv)) {
        rc = hre__fail(HRE_ENOMEM, "private key: out of memory");
        goto done;
    }
    BN_set_flags(priv, BN_FLG_CONSTTIME);
    if (!EC_POINT_mul(group, pub, priv, NULL, NULL, bn) ||
        EC_POINT_point2oct(group, pub, POINT_CONVERSION_UNCOMPRESSED, point, sizeof point, bn) != 65) {
        rc = hre__fail(HRE_ECRYPTO, "private key: computing the public point failed");
        goto done;
    }
    bld = OSSL_PARAM_BLD_new();
    if (!bld ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, OBJ_nid2sn(nid), 0) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point) ||
        !(params = OSSL_PARAM_BLD_to_param(bld))) {
        rc = hre__fail(HRE_ENOMEM, "private key: out of memory building parameters");
        goto done;
    }
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0) {
        rc = hre__fail(HRE_ECRYPTO, "private key: the crypto provider refused the key");
        goto done;
    }
    rc = hre_key__wrap(out, pkey, curve);
    pkey = NULL;
done:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);   /* the secure BN's copy lives in secure memory */
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(priv);
    EC_POINT_free(pub);
    BN_CTX_free(bn);
    EC_GROUP_free(group);
    ERR_clear_error();
    return rc;
}

int hre_key__scalar(uint8_t out[32], const hre_key *key)
{
    BIGNUM *bn = NULL;
    int ok = key && EVP_PKEY_get_bn_param(hre_key__pkey(key), OSSL_PKEY_PARAM_PRIV_KEY, &bn) &&
             BN_bn2binpad(bn, out, 32) == 32;
    BN_clear_free(bn);
    ERR_clear_error();
    if (!ok) {
        hre_wipe(out, 32);
        return hre__fail(HRE_ECRYPTO, "private key: cannot read the scalar");
    }
    return HRE_OK;
}

/* ------------------------------------------------------------------------ */
/* ECDH on encoded points (HPKE's Encap/Decap)                               */
/* ------------------------------------------------------------------------ */
/*
 * HPKE's peer keys arrive as 65-byte points. Turning each into an EVP_PKEY
 * (EVP_PKEY_dup of a template plus EVP_PKEY_set1_encoded_public_key, then a
 * derive context and set_peer) costs about 20 us here, a fifth of the
 * scalar multiplication itself, which would put an HPKE unwrap far below the
 * vault's bar (0.9 x `openssl speed ecdhp256`). So these calls use OpenSSL
 * 3.0's (non-deprecated) EC_POINT API on one immutable EC_GROUP per curve,
 * exactly what OpenSSL's own ECDH provider runs underneath
 * (ossl_ecdh_simple_compute_key: EC_POINT_mul with a BN_FLG_CONSTTIME
 * scalar, then the affine x): EC_POINT_oct2point checks the coordinates
 * (< p) and that the point is on the curve, and the P-256 multiplication is
 * OpenSSL's constant-time one (ecp_nistz256 on x86-64). Private keys stay
 * EVP_PKEY objects; the scalar is copied out per call and cleared.
 */
static pthread_once_t g_grp_once = PTHREAD_ONCE_INIT;
static EC_GROUP *g_grp[3];   /* indexed by hre_curve; immutable after creation */

static void make_groups(void)
{
    g_grp[HRE_CURVE_P256] = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    g_grp[HRE_CURVE_SECP256K1] = EC_GROUP_new_by_curve_name(NID_secp256k1);
    ERR_clear_error();
}

__attribute__((destructor)) static void free_groups(void)
{
    EC_GROUP_free(g_grp[HRE_CURVE_P256]);
    EC_GROUP_free(g_grp[HRE_CURVE_SECP256K1]);
    g_grp[HRE_CURVE_P256] = g_grp[HRE_CURVE_SECP256K1] = NULL;
}

static const EC_GROUP *group_of(hre_curve curve)
{
    if (curve != HRE_CURVE_P256 && curve != HRE_CURVE_SECP256K1) return NULL;
    pthread_once(&g_grp_once, make_groups);
    return g_grp[curve];
}

/* shared = x(k * peer). Returns HRE_OK, HRE_EDECODE (peer not a valid
 * uncompressed point on the curve) or HRE_ECRYPTO / HRE_ENOMEM. */
static int mul_x(uint8_t shared[32], const EC_GROUP *g, const BIGNUM *k, const uint8_t peer[65], BN_CTX *bn)
{
    EC_POINT *p = EC_POINT_new(g), *r = EC_POINT_new(g);
    BIGNUM *x;
    int rc = HRE_OK;
    BN_CTX_start(bn);
    x = BN_CTX_get(bn);
    if (!p || !r || !x) {
        rc = HRE_ENOMEM;
    } else if (peer[0] != 0x04 || !EC_POINT_oct2point(g, p, peer, 65, bn)) {
        rc = HRE_EDECODE;
    } else if (!EC_POINT_mul(g, r, NULL, p, k, bn) ||
               !EC_POINT_get_affine_coordinates(g, r, x, NULL, bn) ||   /* fails for infinity */
               BN_bn2binpad(x, shared, 32) != 32) {
        rc = HRE_ECRYPTO;
    }
    BN_CTX_end(bn);   /* clears the secure context's intermediates */
    EC_POINT_clear_free(r);
    EC_POINT_free(p);
    if (rc != HRE_OK) hre_wipe(shared, 32);
    ERR_clear_error();
    return rc;
}

int hre_key__ecdh_sec1(uint8_t shared[32], const hre_key *key, const uint8_t peer[65])
{
    const EC_GROUP *g = group_of(hre_key_curve(key));
    const BIGNUM *kept = hre_key__scalar_bn(key);
    BIGNUM *k = NULL;
    BN_CTX *bn;
    int rc;
    if (!g) return HRE_ECRYPTO;
    bn = BN_CTX_secure_new();
    if (!bn || (!kept && !EVP_PKEY_get_bn_param(hre_key__pkey(key), OSSL_PKEY_PARAM_PRIV_KEY, &k))) {
        BN_CTX_free(bn);
        ERR_clear_error();
        hre_wipe(shared, 32);
        return HRE_ECRYPTO;
    }
    if (k) BN_set_flags(k, BN_FLG_CONSTTIME);
    rc = mul_x(shared, g, kept ? kept : k, peer, bn);
    BN_clear_free(k);
    BN_CTX_free(bn);
    return rc;
}

int hre_key__ecdh_ephemeral(uint8_t pub[65], uint8_t shared[32], hre_curve curve,
                            const uint8_t *scalar, const uint8_t peer[65])
{
    const EC_GROUP *g = group_of(curve);
    uint8_t s[32];
    BIGNUM *k = NULL;
    EC_POINT *e = NULL;
    BN_CTX *bn = NULL;
    int rc = HRE_OK, tries = 0;

    if (!g) return HRE_ECRYPTO;
    if (scalar) {
        if (!hre_key__scalar_in_range(scalar, curve)) return HRE_EINVAL;
        memcpy(s, scalar, 32);
    } else {
        /* uniform in [1, n-1] by rejection (a retry has probability < 2^-32) */
        do {
            if (++tries > 64 || hre_random_bytes(s, 32) != HRE_OK) {
                hre_wipe(s, sizeof s);
                return HRE_ECRYPTO;
            }
        } while (!hre_key__scalar_in_range(s, curve));
    }
    bn = BN_CTX_secure_new();
    k = BN_secure_new();
    e = EC_POINT_new(g);
    if (!bn || !k || !e || !BN_bin2bn(s, 32, k)) {
        rc = HRE_ENOMEM;
    } else {
        BN_set_flags(k, BN_FLG_CONSTTIME);
        if (!EC_POINT_mul(g, e, k, NULL, NULL, bn) ||
            EC_POINT_point2oct(g, e, POINT_CONVERSION_UNCOMPRESSED, pub, 65, bn) != 65)
            rc = HRE_ECRYPTO;
        else
            rc = mul_x(shared, g, k, peer, bn);
    }
    hre_wipe(s, sizeof s);
    BN_clear_free(k);
    EC_POINT_clear_free(e);
    BN_CTX_free(bn);
    ERR_clear_error();
    if (rc != HRE_OK) {
        memset(pub, 0, 65);
        hre_wipe(shared, 32);
    }
    return rc;
}
