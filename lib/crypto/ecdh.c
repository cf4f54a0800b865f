/*
 * ECDH on P-256 / secp256k1 through OpenSSL 3 EVP (EVP_PKEY_derive), and
 * private keys from a raw scalar (HPKE's DeriveKeyPair, scalar test vectors).
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

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
