/*
 * Fuzz target: the HPKE wrap wire form and receiver context (include/hre/hpke.h).
 * The receiver key is fixed (DeriveKeyPair of 32 bytes 0x42), so a seed wrap
 * made to it (corpus/hpke_unwrap/valid_*) opens.
 * Input: wrap (113 bytes) || info. Then, base and auth mode (sender key:
 * DeriveKeyPair of 32 bytes 0x53): hre_hpke_unwrap / _unwrap_auth, and a
 * receiver context from the first 65 bytes opening the rest of the input.
 * Invariants (abort on violation): only HRE_OK, HRE_EDECODE or HRE_EDECRYPT;
 * the key output is all zero on failure; a context is made iff enc is a
 * valid point; an opened plaintext is the ciphertext length minus 16.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hre/errors.h"
#include "hre/hpke.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hre_key *g_r, *g_s;
static hre_pubkey *g_ps;

static void init(void)
{
    uint8_t ikm[32];
    if (g_r) return;
    memset(ikm, 0x42, 32);
    if (hre_hpke_derive_key(&g_r, ikm, 32) != HRE_OK) abort();
    memset(ikm, 0x53, 32);
    if (hre_hpke_derive_key(&g_s, ikm, 32) != HRE_OK || hre_key_pubkey(g_s, &g_ps) != HRE_OK) abort();
}

static int zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t key[32];
    int rc;
    init();
    if (size >= HRE_HPKE_WRAP_LEN) {
        const uint8_t *info = data + HRE_HPKE_WRAP_LEN;
        size_t infolen = size - HRE_HPKE_WRAP_LEN;
        if (infolen > HRE_HPKE_INPUT_MAX) infolen = HRE_HPKE_INPUT_MAX;
        rc = hre_hpke_unwrap(key, g_r, info, infolen, NULL, 0, data);
        if (rc != HRE_OK && (rc != HRE_EDECODE && rc != HRE_EDECRYPT)) abort();
        if (rc != HRE_OK && !zero(key, 32)) abort();
        rc = hre_hpke_unwrap_auth(key, g_r, g_ps, info, infolen, NULL, 0, data);
        if (rc != HRE_OK && (rc != HRE_EDECODE && rc != HRE_EDECRYPT)) abort();
        if (rc != HRE_OK && !zero(key, 32)) abort();
    }
    if (size >= HRE_HPKE_ENC_LEN) {
        hre_hpke_ctx *ctx = (hre_hpke_ctx *)1;
        rc = hre_hpke_setup_receiver(&ctx, HRE_HPKE_MODE_BASE, g_r, NULL, data, NULL, 0, NULL, 0, NULL, 0);
        if (rc == HRE_OK) {
            size_t ctlen = size - HRE_HPKE_ENC_LEN, ptlen = ctlen;
            uint8_t *pt = malloc(ctlen + 1), exp[32];
            if (!ctx || !pt) abort();
            rc = hre_hpke_open(ctx, pt, &ptlen, NULL, 0, data + HRE_HPKE_ENC_LEN, ctlen);
            if (rc == HRE_OK) {
                if (ptlen + 16 != ctlen) abort();
            } else if (rc == HRE_EDECODE) {
                if (ctlen >= 16) abort();
            } else if (rc != HRE_EDECRYPT) {
                abort();
            }
            if (hre_hpke_export(ctx, exp, sizeof exp, data, size > 64 ? 64 : size) != HRE_OK) abort();
            free(pt);
            hre_hpke_free(ctx);
        } else if (rc != HRE_EDECODE || ctx != NULL) {
            abort();
        }
    }
    return 0;
}
