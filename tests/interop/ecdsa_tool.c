/*
 * ecdsa_tool: a small driver around libhre's key API for the cross-
 * implementation test (ecdsa_interop.py). Public API only.
 *
 *   ecdsa_tool sign CURVE MSGHEX
 *       generate a key, sign SHA-256(msg); prints "pub <uncompressed hex>",
 *       "der <DER hex>" and "raw <r||s hex>"
 *   ecdsa_tool verify CURVE PUBHEX MSGHEX DERHEX
 *       strict DER import, normalise, verify; prints "valid" (exit 0) or
 *       "invalid <code>" (exit 1)
 *   ecdsa_tool pem-sign PEMFILE PASS MSGHEX   (PASS "-" for a clear key)
 *       import a PKCS#8 PEM key, sign; prints "curve", "pub", "der"
 *   ecdsa_tool pem-export CURVE PASS           (PASS "-" for a clear key)
 *       generate a key; prints "pub <hex>" then the PEM
 * CURVE is p256 or secp256k1. Exit 2 on usage or unexpected errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hre/errors.h"
#include "hre/hash.h"
#include "hre/key.h"

static int die(const char *what, int rc)
{
    fprintf(stderr, "ecdsa_tool: %s: %s (%d): %s\n", what, hre_strerror(rc), rc, hre_error_detail());
    exit(2);
}

static hre_curve parse_curve(const char *s)
{
    if (!strcmp(s, "p256")) return HRE_CURVE_P256;
    if (!strcmp(s, "secp256k1")) return HRE_CURVE_SECP256K1;
    fprintf(stderr, "ecdsa_tool: unknown curve %s\n", s);
    exit(2);
}

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = cap;
    int rc = hre_hex_decode(out, &n, hex, strlen(hex));
    if (rc != HRE_OK) die("hex", rc);
    return n;
}

static void print_hex(const char *label, const uint8_t *p, size_t n)
{
    char buf[2 * 128 + 1];
    size_t blen = sizeof buf;
    if (hre_hex_encode(buf, &blen, p, n) != HRE_OK) die("hex encode", HRE_EINVAL);
    printf("%s %s\n", label, buf);
}

static void sign_and_print(const hre_key *k, const char *msghex)
{
    uint8_t msg[4096], d[32], sig[64], der[HRE_SIG_DER_MAX], pub[65];
    size_t mlen = unhex(msg, sizeof msg, msghex), dlen = sizeof der, plen = sizeof pub;
    hre_pubkey *pk = NULL;
    int rc;
    if ((rc = hre_sha256(d, msg, mlen)) != HRE_OK) die("sha256", rc);
    if ((rc = hre_key_sign(k, sig, d)) != HRE_OK) die("sign", rc);
    if ((rc = hre_sig_serialize_der(der, &dlen, hre_key_curve(k), sig)) != HRE_OK) die("to_der", rc);
    if ((rc = hre_key_pubkey(k, &pk)) != HRE_OK) die("pubkey", rc);
    if ((rc = hre_pubkey_serialize(pk, pub, &plen, 0)) != HRE_OK) die("serialize", rc);
    printf("curve %s\n", hre_key_curve(k) == HRE_CURVE_P256 ? "p256" : "secp256k1");
    print_hex("pub", pub, plen);
    print_hex("der", der, dlen);
    print_hex("raw", sig, 64);
    hre_pubkey_free(pk);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    if (!f) { perror(path); exit(2); }
    buf = malloc(65536);
    if (!buf) exit(2);
    *len = fread(buf, 1, 65535, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    int rc;
    if (argc == 4 && !strcmp(argv[1], "sign")) {
        hre_key *k = NULL;
        if ((rc = hre_key_generate(&k, parse_curve(argv[2]))) != HRE_OK) die("keygen", rc);
        sign_and_print(k, argv[3]);
        hre_key_free(k);
        return 0;
    }
    if (argc == 6 && !strcmp(argv[1], "verify")) {
        hre_curve c = parse_curve(argv[2]);
        uint8_t pub[65], msg[4096], der[256], d[32], sig[64];
        size_t plen = unhex(pub, sizeof pub, argv[3]), mlen = unhex(msg, sizeof msg, argv[4]);
        size_t dlen = unhex(der, sizeof der, argv[5]);
        hre_pubkey *pk = NULL;
        if ((rc = hre_pubkey_parse(&pk, c, pub, plen)) != HRE_OK) die("pubkey_parse", rc);
        if ((rc = hre_sha256(d, msg, mlen)) != HRE_OK) die("sha256", rc);
        rc = hre_sig_parse_der(sig, c, der, dlen);
        if (rc == HRE_OK) rc = hre_sig_normalize(sig, c);
        if (rc == HRE_OK) rc = hre_pubkey_verify(pk, d, sig);
        hre_pubkey_free(pk);
        if (rc == HRE_OK) {
            printf("valid\n");
            return 0;
        }
        printf("invalid %d %s\n", rc, hre_error_detail());
        return 1;
    }
    if (argc == 5 && !strcmp(argv[1], "pem-sign")) {
        size_t len;
        char *pem = read_file(argv[2], &len);
        const char *pass = strcmp(argv[3], "-") ? argv[3] : NULL;
        hre_key *k = NULL;
        rc = hre_key_import_pem(&k, pem, len, pass, pass ? strlen(pass) : 0);
        free(pem);
        if (rc != HRE_OK) die("import_pem", rc);
        sign_and_print(k, argv[4]);
        hre_key_free(k);
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "pem-export")) {
        const char *pass = strcmp(argv[3], "-") ? argv[3] : NULL;
        hre_key *k = NULL;
        hre_pubkey *pk = NULL;
        uint8_t pub[65];
        size_t plen = sizeof pub;
        char pem[4096];
        size_t len = sizeof pem;
        if ((rc = hre_key_generate(&k, parse_curve(argv[2]))) != HRE_OK) die("keygen", rc);
        if ((rc = hre_key_pubkey(k, &pk)) != HRE_OK) die("pubkey", rc);
        if ((rc = hre_pubkey_serialize(pk, pub, &plen, 0)) != HRE_OK) die("serialize", rc);
        if ((rc = hre_key_export_pem(k, pem, &len, pass, pass ? strlen(pass) : 0)) != HRE_OK)
            die("export_pem", rc);
        print_hex("pub", pub, plen);
        fputs(pem, stdout);
        hre_pubkey_free(pk);
        hre_key_free(k);
        return 0;
    }
    fprintf(stderr, "usage: ecdsa_tool sign|verify|pem-sign|pem-export ... (see the source)\n");
    return 2;
}
