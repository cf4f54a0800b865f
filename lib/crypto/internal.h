/*
 * Internal crypto helpers (layer 1) shared with the layers above. OpenSSL
 * types may appear here: this header is never installed.
 */
#ifndef HRE_CRYPTO_INTERNAL_H
#define HRE_CRYPTO_INTERNAL_H

#include <openssl/evp.h>

#include "core/internal.h"

/* SHA-256 fetched once per process (EVP_MD_fetch), never per call. Returns
 * NULL only if the provider has no SHA-256 (then every hash call fails with
 * HRE_ECRYPTO). */
const EVP_MD *hre_crypto__sha256_md(void);


#endif
