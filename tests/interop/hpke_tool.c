/*
 * hpke_tool: a small driver around libhre's HPKE API for the cross-
 * implementation test (hpke_interop.py). Public API only. Hex arguments;
 * "-" is the empty string. Keys are given as DeriveKeyPair input (IKM), so
 * both implementations build the same key pair from the same bytes.
 *
 *   hpke_tool pub IKM
 *       prints "pub <65-byte uncompressed point>" of DeriveKeyPair(IKM)
 *   hpke_tool wrap PKR INFO AAD KEY          (base mode)
 *   hpke_tool wrap-auth PKR IKM_S INFO AAD KEY
 *       prints "wrap <113 bytes>"
 *   hpke_tool unwrap IKM_R INFO AAD WRAP
 *   hpke_tool unwrap-auth IKM_R PKS INFO AAD WRAP
 *       prints "key <32 bytes>" (exit 0) or "refused <code>" (exit 1)
 *   hpke_tool seal MODE PKR IKM_S INFO EXPCTX AAD1:PT1,AAD2:PT2,...
 *       MODE base|auth (IKM_S "-" for base); prints "enc <hex>", one
 *       "ct <hex>" per message, and "export <32 bytes>" of EXPCTX
 *   hpke_tool open MODE IKM_R PKS ENC INFO EXPCTX AAD1:CT1,...
 *       prints one "pt <hex>" per message and "export <hex>", or
 *       "refused <code> at <i>" (exit 1)
 * Exit 2 on usage or unexpected errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hre/errors.h"
#include "hre/hash.h"
#include "hre/hpke.h"
#include "hre/key.h"

#define MAXB 8192

static void die(const char *what, int rc)
{
    fprintf(stderr, "hpke_tool: %s: %s (%d): %s\n", what, hre_strerror(rc), rc, hre_error_detail());
    exit(2);
}

static size_t unhex(uint8_t *out, size_t cap, const char *hex, size_t hexlen)
{
    size_t n = cap;
    int rc;
    if (hexlen == 1 && hex[0] == '-') return 0;
    rc = hre_hex_decode(out, &n, hex, hexlen);
    if (rc != HRE_OK) die("hex", rc);
    return n;
}

static size_t arg(uint8_t *out, size_t cap, const char *hex)
{
    return unhex(out, cap, hex, strlen(hex));
}

static void print_hex(const char *label, const uint8_t *p, size_t n)
{
    static char buf[2 * MAXB + 1];
    if (hre_hex_encode(buf, &(size_t){sizeof buf}, p, n) != HRE_OK) die("hex encode", HRE_EINVAL);
    printf("%s %s\n", label, buf);
}

static hre_key *key_of(const char *ikmhex)
{
    uint8_t ikm[256];
    size_t n = arg(ikm, sizeof ikm, ikmhex);
    hre_key *k = NULL;
    int rc = hre_hpke_derive_key(&k, ikm, n);
    if (rc != HRE_OK) die("derive_key", rc);
    return k;
}

static hre_pubkey *pub_of(const char *hex)
{
    uint8_t p[65];
    size_t n = arg(p, sizeof p, hex);
    hre_pubkey *pk = NULL;
    int rc = hre_pubkey_parse(&pk, HRE_CURVE_P256, p, n);
    if (rc != HRE_OK) die("pubkey_parse", rc);
    return pk;
}

static hre_hpke_mode mode_of(const char *s)
{
    if (!strcmp(s, "base")) return HRE_HPKE_MODE_BASE;
    if (!strcmp(s, "auth")) return HRE_HPKE_MODE_AUTH;
    fprintf(stderr, "hpke_tool: unknown mode %s\n", s);
    exit(2);
}

/* Split "A1:B1,A2:B2" into pairs; calls fn(i, a, alen, b, blen). */
typedef int (*pair_fn)(size_t i, const uint8_t *a, size_t al, const uint8_t *b, size_t bl, void *ctx);
static int each_pair(const char *list, pair_fn fn, void *ctx)
{
    static uint8_t a[MAXB], b[MAXB];
    size_t i = 0;
    const char *p = list;
    while (*p) {
        const char *colon = strchr(p, ':'), *end = strchr(p, ',');
        size_t al, bl;
        int rc;
        if (!end) end = p + strlen(p);
        if (!colon || colon > end) { fprintf(stderr, "hpke_tool: bad pair list\n"); exit(2); }
        al = unhex(a, sizeof a, p, (size_t)(colon - p));
        bl = unhex(b, sizeof b, colon + 1, (size_t)(end - colon - 1));
        if ((rc = fn(i++, a, al, b, bl, ctx)) != 0) return rc;
        p = *end ? end + 1 : end;
    }
    return 0;
}

static int seal_one(size_t i, const uint8_t *aad, size_t al, const uint8_t *pt, size_t pl, void *c)
{
    static uint8_t ct[MAXB + 16];
    size_t cl = sizeof ct;
    int rc = hre_hpke_seal(c, ct, &cl, aad, al, pt, pl);
    (void)i;
    if (rc != HRE_OK) die("seal", rc);
    print_hex("ct", ct, cl);
    return 0;
}

static int open_one(size_t i, const uint8_t *aad, size_t al, const uint8_t *ct, size_t cl, void *c)
{
    static uint8_t pt[MAXB];
    size_t pl = sizeof pt;
    int rc = hre_hpke_open(c, pt, &pl, aad, al, ct, cl);
    if (rc != HRE_OK) {
        printf("refused %d at %zu\n", rc, i);
        return 1;
    }
    print_hex("pt", pt, pl);
    return 0;
}

int main(int argc, char **argv)
{
    static uint8_t info[MAXB], aad[MAXB], expctx[MAXB];
    uint8_t key[32], w[HRE_HPKE_WRAP_LEN], enc[65], exp[32];
    size_t il, al, el;
    int rc;

    if (argc == 3 && !strcmp(argv[1], "pub")) {
        hre_key *k = key_of(argv[2]);
        hre_pubkey *p = NULL;
        size_t n = 65;
        if ((rc = hre_key_pubkey(k, &p)) != HRE_OK || (rc = hre_pubkey_serialize(p, enc, &n, 0)) != HRE_OK)
            die("pubkey", rc);
        print_hex("pub", enc, n);
        hre_pubkey_free(p);
        hre_key_free(k);
        return 0;
    }
    if ((argc == 6 && !strcmp(argv[1], "wrap")) || (argc == 7 && !strcmp(argv[1], "wrap-auth"))) {
        int auth = argc == 7;
        hre_pubkey *pr = pub_of(argv[2]);
        hre_key *s = auth ? key_of(argv[3]) : NULL;
        il = arg(info, sizeof info, argv[3 + auth]);
        al = arg(aad, sizeof aad, argv[4 + auth]);
        if (arg(key, sizeof key, argv[5 + auth]) != 32) die("key length", HRE_EINVAL);
        rc = auth ? hre_hpke_wrap_auth(w, pr, s, info, il, aad, al, key) : hre_hpke_wrap(w, pr, info, il, aad, al, key);
        if (rc != HRE_OK) die("wrap", rc);
        print_hex("wrap", w, sizeof w);
        hre_pubkey_free(pr);
        hre_key_free(s);
        return 0;
    }
    if ((argc == 6 && !strcmp(argv[1], "unwrap")) || (argc == 7 && !strcmp(argv[1], "unwrap-auth"))) {
        int auth = argc == 7;
        hre_key *r = key_of(argv[2]);
        hre_pubkey *ps = auth ? pub_of(argv[3]) : NULL;
        il = arg(info, sizeof info, argv[3 + auth]);
        al = arg(aad, sizeof aad, argv[4 + auth]);
        if (arg(w, sizeof w, argv[5 + auth]) != sizeof w) {
            printf("refused %d\n", HRE_EDECODE);
            hre_key_free(r);
            hre_pubkey_free(ps);
            fflush(stdout);
            return 1;
        }
        rc = auth ? hre_hpke_unwrap_auth(key, r, ps, info, il, aad, al, w) : hre_hpke_unwrap(key, r, info, il, aad, al, w);
        hre_key_free(r);
        hre_pubkey_free(ps);
        if (rc != HRE_OK) {
            printf("refused %d\n", rc);
            fflush(stdout);
            return 1;
        }
        print_hex("key", key, 32);
        return 0;
    }
    if (argc == 8 && !strcmp(argv[1], "seal")) {
        hre_hpke_mode m = mode_of(argv[2]);
        hre_pubkey *pr = pub_of(argv[3]);
        hre_key *s = m == HRE_HPKE_MODE_AUTH ? key_of(argv[4]) : NULL;
        hre_hpke_ctx *c = NULL;
        il = arg(info, sizeof info, argv[5]);
        el = arg(expctx, sizeof expctx, argv[6]);
        if ((rc = hre_hpke_setup_sender(&c, enc, m, pr, s, info, il, NULL, 0, NULL, 0)) != HRE_OK)
            die("setup_sender", rc);
        print_hex("enc", enc, 65);
        each_pair(argv[7], seal_one, c);
        if ((rc = hre_hpke_export(c, exp, 32, expctx, el)) != HRE_OK) die("export", rc);
        print_hex("export", exp, 32);
        hre_hpke_free(c);
        hre_pubkey_free(pr);
        hre_key_free(s);
        return 0;
    }
    if (argc == 9 && !strcmp(argv[1], "open")) {
        hre_hpke_mode m = mode_of(argv[2]);
        hre_key *r = key_of(argv[3]);
        hre_pubkey *ps = m == HRE_HPKE_MODE_AUTH ? pub_of(argv[4]) : NULL;
        hre_hpke_ctx *c = NULL;
        if (arg(enc, sizeof enc, argv[5]) != 65) die("enc length", HRE_EINVAL);
        il = arg(info, sizeof info, argv[6]);
        el = arg(expctx, sizeof expctx, argv[7]);
        rc = hre_hpke_setup_receiver(&c, m, r, ps, enc, info, il, NULL, 0, NULL, 0);
        if (rc != HRE_OK) {
            printf("refused %d at setup\n", rc);
        } else if (each_pair(argv[8], open_one, c) == 0) {
            if ((rc = hre_hpke_export(c, exp, 32, expctx, el)) != HRE_OK) die("export", rc);
            print_hex("export", exp, 32);
        } else {
            rc = HRE_EDECRYPT;
        }
        hre_hpke_free(c);
        hre_key_free(r);
        hre_pubkey_free(ps);
        fflush(stdout);
        return rc == HRE_OK ? 0 : 1;
    }
    fprintf(stderr, "usage: see the comment at the top of hpke_tool.c\n");
    return 2;
}
