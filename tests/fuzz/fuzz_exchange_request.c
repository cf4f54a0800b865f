/*
 * Fuzz target: the document exchange request decoder and its signature
 * check (hre_vault_xch_request_decode / _verify; PROTOCOL.md 15.2), the
 * first thing a holder runs on bytes from a peer.
 * Invariants (abort on violation): decode gives HRE_OK, HRE_EDECODE or
 * HRE_EUNSUPPORTED, and a zeroed struct on failure; a decoded request
 * encodes back to the input; verify gives HRE_OK, HRE_EVERIFY or
 * HRE_EDECODE (the key is not a point) and never anything else.
 * Seeds: corpus/exchange_request/ (written by the generator below:
 *   cc -std=c11 -DHRE_FUZZ_GEN_SEEDS -Iinclude tests/fuzz/fuzz_exchange_request.c \
 *      build/libhre.so -o gen && LD_LIBRARY_PATH=build ./gen tests/fuzz/corpus
 * which also writes corpus/exchange_chunk/).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hre/errors.h"
#include "hre/hash.h"
#include "hre/vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre_vault_xch_request r;
    uint8_t back[HRE_VAULT_XCH_REQUEST_LEN];
    size_t len = sizeof back;
    int rc = hre_vault_xch_request_decode(&r, data, size);
    if (rc != HRE_OK) {
        const uint8_t *p = (const uint8_t *)&r;
        if (rc != HRE_EDECODE && rc != HRE_EUNSUPPORTED && !(rc == HRE_EINVAL && !data)) abort();
        for (size_t i = 0; i < sizeof r; i++)
            if (p[i]) abort();
        return 0;
    }
    if (hre_vault_xch_request_encode(&r, back, &len) != HRE_OK || len != size || memcmp(back, data, size) != 0)
        abort();
    rc = hre_vault_xch_request_verify(&r);
    if (rc != HRE_OK && rc != HRE_EVERIFY && rc != HRE_EDECODE) abort();
    return 0;
}

#ifdef HRE_FUZZ_GEN_SEEDS
static void write_file(const char *dir, const char *sub, const char *name, const void *p, size_t n)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) abort();
    fclose(f);
}

int main(int argc, char **argv)
{
    hre_key *k = NULL;
    hre_vault_xch_request r;
    hre_vault_xch_chunk c;
    hre_vault_xch_refusal rf;
    hre_vault_xch_header h;
    uint8_t b[HRE_VAULT_XCH_HEADER_LEN], data[64];
    size_t len;
    if (argc < 2 || hre_key_generate(&k, HRE_CURVE_P256) != HRE_OK) return 2;
    memset(&r, 0, sizeof r);
    memset(r.nonce, 0x4e, 16);
    r.timestamp_ms = 1700000000000ull;
    memset(r.record_id, 0x52, 32);
    memset(r.binding, 0x42, 32);
    if (hre_vault_xch_request_sign(&r, k) != HRE_OK) return 1;
    len = sizeof b;
    if (hre_vault_xch_request_encode(&r, b, &len) != HRE_OK) return 1;
    write_file(argv[1], "exchange_request", "signed_p256", b, len);
    hre_key_free(k);
    if (hre_key_generate(&k, HRE_CURVE_SECP256K1) != HRE_OK || hre_vault_xch_request_sign(&r, k) != HRE_OK) return 1;
    len = sizeof b;
    if (hre_vault_xch_request_encode(&r, b, &len) != HRE_OK) return 1;
    write_file(argv[1], "exchange_request", "signed_secp256k1", b, len);
    b[100] ^= 1;
    write_file(argv[1], "exchange_request", "bad_signature", b, len);
    hre_key_free(k);
    /* answers */
    memset(&c, 0, sizeof c);
    memset(c.nonce, 0x4e, 16);
    memset(data, 0x63, sizeof data);
    c.offset = 82;
    c.data = data;
    c.len = sizeof data;
    len = sizeof b;
    if (hre_vault_xch_chunk_encode(&c, b, &len) != HRE_OK) return 1;
    write_file(argv[1], "exchange_chunk", "chunk", b, len);
    memset(&rf, 0, sizeof rf);
    memset(rf.nonce, 0x4e, 16);
    rf.reason = HRE_VAULT_XCH_REFUSE_REVOKED;
    rf.access_reason = HRE_ACCESS_REVOKED;
    len = sizeof b;
    if (hre_vault_xch_refusal_encode(&rf, b, &len) != HRE_OK) return 1;
    write_file(argv[1], "exchange_chunk", "refusal", b, len);
    memset(&h, 0, sizeof h);
    memset(h.nonce, 0x4e, 16);
    h.envelope_len = hre_vault_envelope_len(512);
    memset(h.doc_hash, 0x44, 32);
    memcpy(h.wrap.doc_hash, h.doc_hash, 32);
    memset(h.wrap.locator, 0x4c, 32);
    h.wrap.doc_version = 1;
    h.wrap.mode = HRE_HPKE_MODE_BASE;
    memset(h.wrap.reader_id, 0x52, 32);
    memset(h.wrap.hpke, 0x48, sizeof h.wrap.hpke);
    len = sizeof b;
    if (hre_vault_xch_header_encode(&h, b, &len) != HRE_OK) return 1;
    write_file(argv[1], "exchange_chunk", "header", b, len);
    return 0;
}
#endif
