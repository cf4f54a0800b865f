/* X25519 key pairs and Diffie-Hellman through OpenSSL 3 EVP (internal). */
#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/x25519.h"

static int read_pub(hre_x25519__key *k)
{
    size_t len = HRE_X25519__LEN;
    if (EVP_PKEY_get_raw_public_key(k->pkey, k->pub, &len) != 1 || len != HRE_X25519__LEN) {
        hre_x25519__clear(k);
        ERR_clear_error();
        return HRE_ECRYPTO;
    }
    return HRE_OK;
}

int hre_x25519__generate(hre_x25519__key *k)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
    EVP_PKEY *pkey = NULL;
    memset(k, 0, sizeof *k);
    if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &pkey) != 1) {
        EVP_PKEY_CTX_free(ctx);
        ERR_clear_error();
        return HRE_ECRYPTO;
    }
    EVP_PKEY_CTX_free(ctx);
    k->pkey = pkey;
    return read_pub(k);
}

int hre_x25519__from_private(hre_x25519__key *k, const uint8_t priv[32])
{
    memset(k, 0, sizeof *k);
    k->pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv, HRE_X25519__LEN);
    if (!k->pkey) {
        ERR_clear_error();
        return HRE_ECRYPTO;
    }
    return read_pub(k);
}

int hre_x25519__private(uint8_t out[32], const hre_x25519__key *k)
{
    size_t len = HRE_X25519__LEN;
    if (!k->pkey || EVP_PKEY_get_raw_private_key(k->pkey, out, &len) != 1 || len != HRE_X25519__LEN) {
        hre_wipe(out, HRE_X25519__LEN);
        ERR_clear_error();
        return HRE_ECRYPTO;
    }
    return HRE_OK;
}

void hre_x25519__copy(hre_x25519__key *dst, const hre_x25519__key *src)
{
    *dst = *src;
    if (dst->pkey && EVP_PKEY_up_ref(dst->pkey) != 1) memset(dst, 0, sizeof *dst);
}

void hre_x25519__clear(hre_x25519__key *k)
{
    EVP_PKEY_free(k->pkey);   /* ECX keys are freed with OPENSSL_secure_clear_free */
    memset(k, 0, sizeof *k);
}

int hre_x25519__dh(uint8_t out[32], const hre_x25519__key *k, const uint8_t peer[32])
{
    EVP_PKEY *p;
    EVP_PKEY_CTX *ctx = NULL;
    size_t len = HRE_X25519__LEN;
    int rc = HRE_OK;

    if (!k->pkey) return HRE_ECRYPTO;
    p = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer, HRE_X25519__LEN);
    if (!p) {
        rc = HRE_ENOMEM;
    } else if (!(ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL)) ||
               EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer_ex(ctx, p, 0) != 1) {
        rc = HRE_ECRYPTO;
    } else if (EVP_PKEY_derive(ctx, out, &len) != 1 || len != HRE_X25519__LEN) {
        /* OpenSSL's X25519 refuses an all-zero result (low-order points) */
        rc = HRE_EDECODE;
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(p);
    if (rc != HRE_OK) {
        hre_wipe(out, HRE_X25519__LEN);
        ERR_clear_error();
    }
    return rc;
}
