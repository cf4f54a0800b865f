/*
 * vault_tool: a small driver around libhre's vault API for the cross-
 * implementation test (vault_interop.py). Public API only. Keys are given as
 * HPKE DeriveKeyPair input (IKM, hex), so both sides build the same pair.
 *
 *   vault_tool pub IKM
 *       prints "pub <65-byte uncompressed point>"
 *   vault_tool seal IKM_S|- PKR READER_TYPE READER_ID SENDER_TYPE SENDER_ID LOCATOR VERSION
 *                   auto|never|always MEDIA|- DOC ENV WRAP
 *       seals the file DOC (IKM_S "-": base mode), writes the envelope to ENV
 *       and the reader's 287-byte wrap to WRAP; prints "hash <hex>",
 *       "padded <n>", "compressed <0|1>"
 *   vault_tool open IKM_R ENV WRAP OUT
 *       opens ENV with the wrap and the reader key, writes the document to
 *       OUT; prints "ok <bytes> <media type>" (exit 0) or "refused <code>"
 *       (exit 1)
 * Exit 2 on usage or unexpected errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hre/errors.h"
#include "hre/hpke.h"
#include "hre/key.h"
#include "hre/vault.h"

static void die(const char *what, int rc)
{
    fprintf(stderr, "vault_tool: %s: %s (%d): %s\n", what, hre_strerror(rc), rc, hre_error_detail());
    exit(2);
}

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = cap;
    int rc;
    if (!strcmp(hex, "-")) return 0;
    if ((rc = hre_hex_decode(out, &n, hex, strlen(hex))) != HRE_OK) die("hex", rc);
    return n;
}

static void print_hex(const char *label, const uint8_t *p, size_t n)
{
    char buf[256];
    size_t len = sizeof buf;
    if (hre_hex_encode(buf, &len, p, n) != HRE_OK) die("hex encode", HRE_EINVAL);
    printf("%s %s\n", label, buf);
}

static hre_key *key_of(const char *ikmhex)
{
    uint8_t ikm[256];
    size_t n = unhex(ikm, sizeof ikm, ikmhex);
    hre_key *k = NULL;
    int rc = hre_hpke_derive_key(&k, ikm, n);
    if (rc != HRE_OK) die("derive_key", rc);
    return k;
}

static void fixed(uint8_t *out, size_t len, const char *hex)
{
    if (unhex(out, len, hex) != len) die("argument length", HRE_EINVAL);
}

static int file_sink(void *ud, const uint8_t *d, size_t n)
{
    return fwrite(d, 1, n, ud) == n ? HRE_OK : HRE_EIO;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *p = NULL;
    size_t cap = 0, n = 0, got;
    if (!f) die(path, HRE_ENOTFOUND);
    do {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            if (!(p = realloc(p, cap))) die("memory", HRE_ENOMEM);
        }
        got = fread(p + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return p;
}

int main(int argc, char **argv)
{
    int rc;
    if (argc == 3 && !strcmp(argv[1], "pub")) {
        hre_key *k = key_of(argv[2]);
        hre_pubkey *p = NULL;
        uint8_t pt[65];
        size_t n = sizeof pt;
        if ((rc = hre_key_pubkey(k, &p)) != HRE_OK || (rc = hre_pubkey_serialize(p, pt, &n, 0)) != HRE_OK)
            die("pub", rc);
        print_hex("pub", pt, n);
        hre_pubkey_free(p);
        hre_key_free(k);
        return 0;
    }
    if (argc == 15 && !strcmp(argv[1], "seal")) {
        hre_vault_seal_params prm = HRE_VAULT_SEAL_PARAMS_INIT;
        hre_vault_sealer *s = NULL;
        hre_vault_content c = HRE_VAULT_CONTENT_INIT;
        hre_vault_wrap w;
        hre_key *sender = strcmp(argv[2], "-") ? key_of(argv[2]) : NULL;
        hre_pubkey *pkr = NULL;
        uint8_t pkb[65], rid[32], hash[32], enc[HRE_VAULT_WRAP_LEN], *doc;
        size_t n = unhex(pkb, sizeof pkb, argv[3]), dlen, elen = sizeof enc;
        FILE *env, *wf;
        if ((rc = hre_pubkey_parse(&pkr, HRE_CURVE_P256, pkb, n)) != HRE_OK) die("reader key", rc);
        fixed(rid, 32, argv[5]);
        prm.sender_type = (uint8_t)atoi(argv[6]);
        fixed(prm.sender_id, 32, argv[7]);
        prm.sender_key = sender;
        fixed(prm.locator, 32, argv[8]);
        prm.doc_version = (uint32_t)strtoul(argv[9], NULL, 10);
        prm.compress = !strcmp(argv[10], "never") ? HRE_VAULT_COMPRESS_NEVER
                     : !strcmp(argv[10], "always") ? HRE_VAULT_COMPRESS_ALWAYS : HRE_VAULT_COMPRESS_AUTO;
        prm.media_type = strcmp(argv[11], "-") ? argv[11] : NULL;
        doc = slurp(argv[12], &dlen);
        env = fopen(argv[13], "wb");
        if (!env) die(argv[13], HRE_EIO);
        if ((rc = hre_vault_sealer_new(&s, &prm, file_sink, env)) != HRE_OK) die("sealer_new", rc);
        /* in uneven pieces, as a stream would come */
        for (size_t off = 0, step = 1000; off < dlen; off += step, step = step * 3 % 70001 + 1)
            if ((rc = hre_vault_sealer_write(s, doc + off, dlen - off < step ? dlen - off : step)) != HRE_OK)
                die("sealer_write", rc);
        if ((rc = hre_vault_sealer_finish(s, hash, &c)) != HRE_OK) die("sealer_finish", rc);
        if ((rc = hre_vault_sealer_wrap(s, &w, (uint8_t)atoi(argv[4]), rid, pkr)) != HRE_OK) die("sealer_wrap", rc);
        if ((rc = hre_vault_wrap_encode(&w, enc, &elen)) != HRE_OK) die("wrap_encode", rc);
        fclose(env);
        wf = fopen(argv[14], "wb");
        if (!wf || fwrite(enc, 1, elen, wf) != elen) die(argv[14], HRE_EIO);
        fclose(wf);
        print_hex("hash", hash, 32);
        printf("padded %llu\ncompressed %u\n", (unsigned long long)c.padded_len, c.compressed);
        hre_vault_sealer_free(s);
        hre_pubkey_free(pkr);
        hre_key_free(sender);
        free(doc);
        return 0;
    }
    if (argc == 6 && !strcmp(argv[1], "open")) {
        hre_key *r = key_of(argv[2]);
        hre_vault_open_params op = HRE_VAULT_OPEN_PARAMS_INIT;
        hre_vault_opener *o = NULL;
        hre_vault_content c = HRE_VAULT_CONTENT_INIT;
        hre_vault_wrap w;
        size_t elen, wlen;
        uint8_t *env = slurp(argv[3], &elen), *wb = slurp(argv[4], &wlen);
        FILE *out = fopen(argv[5], "wb");
        if (!out) die(argv[5], HRE_EIO);
        rc = hre_vault_wrap_decode(&w, wb, wlen);
        if (rc == HRE_OK) {
            op.wrap = &w;
            op.reader_key = r;
            rc = hre_vault_opener_new(&o, &op, file_sink, out);
        }
        for (size_t off = 0, step = 777; rc == HRE_OK && off < elen; off += step, step = step * 5 % 90001 + 1)
            rc = hre_vault_opener_write(o, env + off, elen - off < step ? elen - off : step);
        if (rc == HRE_OK) rc = hre_vault_opener_finish(o, &c);
        hre_vault_opener_free(o);
        fclose(out);
        free(env);
        free(wb);
        hre_key_free(r);
        if (rc != HRE_OK) {
            printf("refused %d\n", rc);
            return 1;
        }
        printf("ok %llu %s\n", (unsigned long long)c.doc_len, c.media_type_len ? c.media_type : "-");
        return 0;
    }
    fprintf(stderr, "usage: see the comment at the top of vault_tool.c\n");
    return 2;
}
