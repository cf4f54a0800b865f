/*
 * Fuzz target: the vault wrap decoder and the unwrap behind an opener
 * (hre_vault_wrap_decode, hre_vault_opener_new; PROTOCOL.md 14.4).
 * The reader key is fixed (DeriveKeyPair of 32 bytes 0x42), so a seed wrap
 * made to it opens; the input is the 287-byte wrap.
 * Invariants (abort on violation): decode gives HRE_OK, HRE_EDECODE or
 * HRE_EUNSUPPORTED (output zero on failure; a decoded wrap encodes back to
 * the input); the opener gives HRE_OK, HRE_EDECODE or HRE_EDECRYPT (and
 * HRE_EAUTH when the fixed sender key is expected), NULL on failure; an
 * opener made from a wrap refuses an empty envelope with HRE_EDECODE.
 * Seeds: corpus/vault_wrap/ (gen_vault_seeds, see fuzz_vault_chunk.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hre/errors.h"
#include "hre/hpke.h"
#include "hre/vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hre_key *g_r, *g_s;
static hre_pubkey *g_ps;

static int sink(void *ud, const uint8_t *d, size_t n)
{
    (void)ud;
    (void)d;
    (void)n;
    abort();   /* an empty envelope has no plaintext */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre_vault_wrap w;
    uint8_t back[HRE_VAULT_WRAP_LEN];
    size_t len = sizeof back;
    int rc;
    if (!g_r) {
        uint8_t ikm[32];
        memset(ikm, 0x42, 32);
        if (hre_hpke_derive_key(&g_r, ikm, 32) != HRE_OK) abort();
        memset(ikm, 0x53, 32);
        if (hre_hpke_derive_key(&g_s, ikm, 32) != HRE_OK || hre_key_pubkey(g_s, &g_ps) != HRE_OK) abort();
    }
    rc = hre_vault_wrap_decode(&w, data, size);
    if (rc != HRE_OK) {
        const uint8_t *p = (const uint8_t *)&w;
        if (rc != HRE_EDECODE && rc != HRE_EUNSUPPORTED && !(rc == HRE_EINVAL && !data)) abort();
        for (size_t i = 0; i < sizeof w; i++)
            if (p[i]) abort();
        return 0;
    }
    if (hre_vault_wrap_encode(&w, back, &len) != HRE_OK || len != size || memcmp(back, data, size) != 0)
        abort();
    for (int expect = 0; expect < 2; expect++) {
        hre_vault_open_params op = HRE_VAULT_OPEN_PARAMS_INIT;
        hre_vault_opener *o = (hre_vault_opener *)&op;
        op.wrap = &w;
        op.reader_key = g_r;
        op.expected_sender = expect ? g_ps : NULL;
        rc = hre_vault_opener_new(&o, &op, sink, NULL);
        if (rc != HRE_OK) {
            if (o != NULL) abort();
            if (rc != HRE_EDECODE && rc != HRE_EDECRYPT && !(expect && rc == HRE_EAUTH)) abort();
            continue;
        }
        if (hre_vault_opener_finish(o, NULL) != HRE_EDECODE) abort();
        hre_vault_opener_free(o);
    }
    return 0;
}
