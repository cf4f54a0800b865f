/*
 * The Noise Protocol Framework (revision 34): CipherState, SymmetricState
 * and a HandshakeState driven by a pattern table, for the suite
 * 25519_AESGCM_SHA256. Section numbers refer to the Noise specification.
 */
#include "node/noise.h"

#include "hre/aead.h"
#include "crypto/internal.h"

enum { T_E = 1, T_S, T_EE, T_ES, T_SE, T_SS, T_PSK };

#define MAX_MSGS 4
#define MAX_TOKENS 8
#define SUITE "_25519_AESGCM_SHA256"

/* Handshake patterns (7.4 one-way, 7.5 interactive, 7.6 deferred): whether
 * each side's static key is a pre-message, and each message's tokens. */
typedef struct pattern {
    const char *name;
    uint8_t pre_i, pre_r;          /* "-> s" / "<- s" before "..." */
    const char *msgs[MAX_MSGS];
} pattern;

static const pattern PATTERNS[] = {
    {"N", 0, 1, {"e,es"}},
    {"K", 1, 1, {"e,es,ss"}},
    {"X", 0, 1, {"e,es,s,ss"}},
    {"NN", 0, 0, {"e", "e,ee"}},
    {"NK", 0, 1, {"e,es", "e,ee"}},
    {"NX", 0, 0, {"e", "e,ee,s,es"}},
    {"KN", 1, 0, {"e", "e,ee,se"}},
    {"KK", 1, 1, {"e,es,ss", "e,ee,se"}},
    {"KX", 1, 0, {"e", "e,ee,se,s,es"}},
    {"XN", 0, 0, {"e", "e,ee", "s,se"}},
    {"XK", 0, 1, {"e,es", "e,ee", "s,se"}},
    {"XX", 0, 0, {"e", "e,ee,s,es", "s,se"}},
    {"IN", 0, 0, {"e,s", "e,ee,se"}},
    {"IK", 0, 1, {"e,es,s,ss", "e,ee,se"}},
    {"IX", 0, 0, {"e,s", "e,ee,se,s,es"}},
    {"NK1", 0, 1, {"e", "e,ee,es"}},
    {"NX1", 0, 0, {"e", "e,ee,s", "es"}},
    {"X1N", 0, 0, {"e", "e,ee", "s", "se"}},
    {"X1K", 0, 1, {"e,es", "e,ee", "s", "se"}},
    {"XK1", 0, 1, {"e", "e,ee,es", "s,se"}},
    {"X1K1", 0, 1, {"e", "e,ee,es", "s", "se"}},
    {"X1X", 0, 0, {"e", "e,ee,s,es", "s", "se"}},
    {"XX1", 0, 0, {"e", "e,ee,s", "es,s,se"}},
    {"X1X1", 0, 0, {"e", "e,ee,s", "es,s", "se"}},
    {"K1N", 1, 0, {"e", "e,ee", "se"}},
    {"K1K", 1, 1, {"e,es", "e,ee", "se"}},
    {"KK1", 1, 1, {"e", "e,ee,se,es"}},
    {"K1K1", 1, 1, {"e", "e,ee,es", "se"}},
    {"K1X", 1, 0, {"e", "e,ee,s,es", "se"}},
    {"KX1", 1, 0, {"e", "e,ee,se,s", "es"}},
    {"K1X1", 1, 0, {"e", "e,ee,s", "se,es"}},
    {"I1N", 0, 0, {"e,s", "e,ee", "se"}},
    {"I1K", 0, 1, {"e,es,s", "e,ee", "se"}},
    {"IK1", 0, 1, {"e,s", "e,ee,se,es"}},
    {"I1K1", 0, 1, {"e,s", "e,ee,es", "se"}},
    {"I1X", 0, 0, {"e,s", "e,ee,s,es", "se"}},
    {"IX1", 0, 0, {"e,s", "e,ee,se,s", "es"}},
    {"I1X1", 0, 0, {"e,s", "e,ee,s", "se,es"}},
};

typedef struct symmetric {
    hre_noise__cipher cs;
    uint8_t ck[HRE_NOISE__HASH_LEN];
    uint8_t h[HRE_NOISE__HASH_LEN];
} symmetric;

struct hre_noise__hs {
    symmetric ss;
    uint8_t tok[MAX_MSGS][MAX_TOKENS];
    uint8_t ntok[MAX_MSGS];
    size_t nmsgs, idx;
    int initiator, psk_mode, one_way, failed, split;
    hre_x25519__key s, e;
    uint8_t rs[32], re[32];
    int has_rs, has_re;
    uint8_t psk[HRE_NOISE__MAX_PSKS][32];
    size_t npsks, next_psk;
    uint8_t fixed_e[32];
    int has_fixed_e;
    uint8_t payload_h[HRE_NOISE__HASH_LEN];   /* h just before the last payload was hashed in */
};

/* ------------------------------------------------------------------------ */
/* CipherState (5.1)                                                         */
/* ------------------------------------------------------------------------ */

static void nonce_of(uint8_t nonce[12], uint64_t n)
{
    memset(nonce, 0, 4);   /* 32 bits of zeros, then the big-endian counter */
    for (int i = 0; i < 8; i++) nonce[4 + i] = (uint8_t)(n >> (56 - 8 * i));
}

int hre_noise__cipher_init(hre_noise__cipher *c, const uint8_t k[32])
{
    int rc;
    memcpy(c->k, k, 32);
    c->n = 0;
    if (c->aead) {
        rc = hre_aead__set_key(c->aead, k, 32);
        if (rc != HRE_OK) {
            hre_aead_free(c->aead);
            c->aead = NULL;
        }
        return rc;
    }
    return hre_aead_new(&c->aead, k, 32);
}

int hre_noise__cipher_has_key(const hre_noise__cipher *c)
{
    return c->aead != NULL;
}

void hre_noise__cipher_set_nonce(hre_noise__cipher *c, uint64_t n)
{
    c->n = n;
}

int hre_noise__cipher_encrypt(hre_noise__cipher *c, uint8_t *out, size_t *outlen,
                              const uint8_t *ad, size_t adlen, const uint8_t *pt, size_t ptlen)
{
    size_t need = ptlen + (c->aead ? HRE_NOISE__TAG_LEN : 0);
    uint8_t nonce[12];
    int rc;
    if (*outlen < need) {
        *outlen = need;
        return hre__fail(HRE_EBUFSIZE, "noise: need %zu bytes for the ciphertext", need);
    }
    if (!c->aead) {
        if (ptlen && out != pt) memmove(out, pt, ptlen);
        *outlen = ptlen;
        return HRE_OK;
    }
    if (c->n == UINT64_MAX)
        return hre__fail(HRE_ELIMIT, "noise: nonce exhausted (2^64 - 1 messages with one key)");
    nonce_of(nonce, c->n);
    rc = hre_aead_seal(c->aead, out, out + ptlen, HRE_NOISE__TAG_LEN, nonce, 12, ad, adlen, pt, ptlen);
    if (rc != HRE_OK) return rc;
    c->n++;
    *outlen = need;
    return HRE_OK;
}

int hre_noise__cipher_decrypt(hre_noise__cipher *c, uint8_t *out, size_t *outlen,
                              const uint8_t *ad, size_t adlen, const uint8_t *ct, size_t ctlen)
{
    uint8_t nonce[12];
    size_t need;
    int rc;
    if (!c->aead) {
        if (*outlen < ctlen) {
            *outlen = ctlen;
            return hre__fail(HRE_EBUFSIZE, "noise: need %zu bytes for the plaintext", ctlen);
        }
        if (ctlen && out != ct) memmove(out, ct, ctlen);
        *outlen = ctlen;
        return HRE_OK;
    }
    if (ctlen < HRE_NOISE__TAG_LEN)
        return hre__fail(HRE_EDECODE, "noise: ciphertext of %zu bytes is shorter than the tag", ctlen);
    need = ctlen - HRE_NOISE__TAG_LEN;
    if (*outlen < need) {
        *outlen = need;
        return hre__fail(HRE_EBUFSIZE, "noise: need %zu bytes for the plaintext", need);
    }
    if (c->n == UINT64_MAX)
        return hre__fail(HRE_ELIMIT, "noise: nonce exhausted (2^64 - 1 messages with one key)");
    nonce_of(nonce, c->n);
    rc = hre_aead_open(c->aead, out, nonce, 12, ad, adlen, ct, need, ct + need, HRE_NOISE__TAG_LEN);
    if (rc != HRE_OK) return rc;   /* n unchanged; out zeroed by hre_aead_open */
    c->n++;
    *outlen = need;
    return HRE_OK;
}

int hre_noise__cipher_rekey(hre_noise__cipher *c)
{
    static const uint8_t zeros[32];
    uint8_t nonce[12], k[32], tag[16];
    int rc;
    if (!c->aead) return hre__fail(HRE_ESTATE, "noise: rekey without a key");
    nonce_of(nonce, UINT64_MAX);   /* REKEY(k) = ENCRYPT(k, maxnonce, zerolen, zeros)[0:32] (4.2) */
    rc = hre_aead_seal(c->aead, k, tag, 16, nonce, 12, NULL, 0, zeros, 32);
    if (rc == HRE_OK) rc = hre_aead__set_key(c->aead, k, 32);
    if (rc == HRE_OK) memcpy(c->k, k, 32);
    hre_wipe(k, sizeof k);
    hre_wipe(tag, sizeof tag);
    return rc;
}

void hre_noise__cipher_clear(hre_noise__cipher *c)
{
    hre_aead_free(c->aead);
    hre_wipe(c, sizeof *c);
}

/* ------------------------------------------------------------------------ */
/* SymmetricState (5.2)                                                      */
/* ------------------------------------------------------------------------ */

static int mix_hash(symmetric *ss, const uint8_t *data, size_t len)
{
    hre_crypto__iov v[2] = {{ss->h, 32}, {data, len}};
    return hre_crypto__sha256_v(ss->h, v, 2);
}

/* HKDF(ck, ikm, n) with n = 2 or 3 outputs of 32 bytes (4.3). */
static int hkdf(uint8_t *out, size_t n, const uint8_t ck[32], const uint8_t *ikm, size_t ikmlen)
{
    uint8_t prk[32];
    hre_crypto__iov v = {ikm, ikmlen};
    int rc = hre_crypto__hkdf_extract(prk, ck, 32, &v, 1);
    if (rc == HRE_OK) rc = hre_crypto__hkdf_expand(out, 32 * n, prk, NULL, 0);
    hre_wipe(prk, sizeof prk);
    return rc;
}

static int mix_key(symmetric *ss, const uint8_t *ikm, size_t len)
{
    uint8_t out[64];
    int rc = hkdf(out, 2, ss->ck, ikm, len);
    if (rc == HRE_OK) {
        memcpy(ss->ck, out, 32);
        rc = hre_noise__cipher_init(&ss->cs, out + 32);
    }
    hre_wipe(out, sizeof out);
    return rc;
}

static int mix_key_and_hash(symmetric *ss, const uint8_t *ikm, size_t len)
{
    uint8_t out[96];
    int rc = hkdf(out, 3, ss->ck, ikm, len);
    if (rc == HRE_OK) {
        memcpy(ss->ck, out, 32);
        rc = mix_hash(ss, out + 32, 32);
    }
    if (rc == HRE_OK) rc = hre_noise__cipher_init(&ss->cs, out + 64);
    hre_wipe(out, sizeof out);
    return rc;
}

/* EncryptAndHash into out (capacity *outlen). */
static int encrypt_and_hash(symmetric *ss, uint8_t *out, size_t *outlen, const uint8_t *pt, size_t ptlen)
{
    int rc = hre_noise__cipher_encrypt(&ss->cs, out, outlen, ss->h, 32, pt, ptlen);
    if (rc == HRE_OK) rc = mix_hash(ss, out, *outlen);
    return rc;
}

static int decrypt_and_hash(symmetric *ss, uint8_t *out, size_t *outlen, const uint8_t *ct, size_t ctlen)
{
    uint8_t h[32];
    int rc;
    memcpy(h, ss->h, 32);
    rc = hre_noise__cipher_decrypt(&ss->cs, out, outlen, h, 32, ct, ctlen);
    if (rc == HRE_OK) rc = mix_hash(ss, ct, ctlen);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* HandshakeState (5.3)                                                      */
/* ------------------------------------------------------------------------ */

static int parse_tokens(uint8_t *tok, uint8_t *n, const char *s)
{
    while (*s) {
        size_t len = strcspn(s, ",");
        uint8_t t = 0;
        if (len == 1 && s[0] == 'e') t = T_E;
        else if (len == 1 && s[0] == 's') t = T_S;
        else if (len == 2 && !strncmp(s, "ee", 2)) t = T_EE;
        else if (len == 2 && !strncmp(s, "es", 2)) t = T_ES;
        else if (len == 2 && !strncmp(s, "se", 2)) t = T_SE;
        else if (len == 2 && !strncmp(s, "ss", 2)) t = T_SS;
        if (!t || *n >= MAX_TOKENS - 2) return 0;   /* room for two psk tokens */
        tok[(*n)++] = t;
        s += len;
        if (*s == ',') s++;
    }
    return 1;
}

/* "Noise_<pattern><modifiers>_25519_AESGCM_SHA256": the pattern's tokens
 * with psk modifiers applied (9.2). Sets hs->tok/ntok/nmsgs/psk_mode/one_way
 * and *pre_i / *pre_r; returns the number of psk tokens, or a negative error
 * code (detail set). */
static int load_pattern(hre_noise__hs *hs, const char *name, int *pre_i, int *pre_r)
{
    const pattern *p = NULL;
    char base[16], mods[64];
    size_t len = strlen(name), blen = 0, mlen, suffix = strlen(SUITE);
    const char *q;
    int npsk = 0, seen = 0;

    if (len < 6 + suffix || strncmp(name, "Noise_", 6) != 0 || strcmp(name + len - suffix, SUITE) != 0) {
        return hre__fail(HRE_EUNSUPPORTED, "noise: protocol '%.80s' is not Noise_*%s", name, SUITE);
    }
    q = name + 6;
    while (q + blen < name + len - suffix && ((q[blen] >= 'A' && q[blen] <= 'Z') || (q[blen] >= '0' && q[blen] <= '9')))
        blen++;
    mlen = (size_t)(name + len - suffix - (q + blen));
    if (blen == 0 || blen >= sizeof base || mlen >= sizeof mods) {
        return hre__fail(HRE_EUNSUPPORTED, "noise: unknown handshake pattern in '%.80s'", name);
    }
    memcpy(base, q, blen);
    base[blen] = '\0';
    memcpy(mods, q + blen, mlen);
    mods[mlen] = '\0';
    for (size_t i = 0; i < sizeof PATTERNS / sizeof PATTERNS[0]; i++)
        if (!strcmp(PATTERNS[i].name, base)) p = &PATTERNS[i];
    if (!p) {
        return hre__fail(HRE_EUNSUPPORTED, "noise: unknown handshake pattern '%s'", base);
    }
    hs->nmsgs = 0;
    for (size_t m = 0; m < MAX_MSGS && p->msgs[m]; m++) {
        if (!parse_tokens(hs->tok[m], &hs->ntok[m], p->msgs[m])) {
            return hre__fail(HRE_ECRYPTO, "noise: internal error in pattern %s", base);
        }
        hs->nmsgs++;
    }
    hs->one_way = blen == 1;
    *pre_i = p->pre_i;
    *pre_r = p->pre_r;
    /* modifiers: psk0 .. psk9, joined with '+', each at most once */
    for (char *m = mods; *m;) {
        size_t l = strcspn(m, "+");
        int k;
        if (l != 4 || strncmp(m, "psk", 3) != 0 || m[3] < '0' || m[3] > '9') {
            return hre__fail(HRE_EUNSUPPORTED, "noise: unsupported modifier '%.*s'", (int)l, m);
        }
        k = m[3] - '0';
        if ((seen >> k) & 1 || (k > 0 && (size_t)k > hs->nmsgs) || npsk >= HRE_NOISE__MAX_PSKS) {
            return hre__fail(HRE_EUNSUPPORTED, "noise: modifier psk%d does not fit pattern %s", k, base);
        }
        seen |= 1 << k;
        if (k == 0) {
            memmove(hs->tok[0] + 1, hs->tok[0], hs->ntok[0]);
            hs->tok[0][0] = T_PSK;
            hs->ntok[0]++;
        } else {
            hs->tok[k - 1][hs->ntok[k - 1]++] = T_PSK;
        }
        npsk++;
        m += l;
        if (*m == '+') {
            m++;
            if (!*m) {
                return hre__fail(HRE_EUNSUPPORTED, "noise: empty modifier in '%.80s'", name);
            }
        }
    }
    hs->psk_mode = npsk > 0;
    return npsk;
}

/* Whether `initiator`'s side sends an "s" token. */
static int sends_static(const hre_noise__hs *hs, int initiator)
{
    for (size_t m = initiator ? 0 : 1; m < hs->nmsgs; m += 2)
        for (size_t t = 0; t < hs->ntok[m]; t++)
            if (hs->tok[m][t] == T_S) return 1;
    return 0;
}

static void hs_kill(hre_noise__hs *hs)
{
    hs->failed = 1;
    hre_noise__cipher_clear(&hs->ss.cs);
    hre_wipe(hs->ss.ck, sizeof hs->ss.ck);
    hre_x25519__clear(&hs->e);
    hre_x25519__clear(&hs->s);
    hre_wipe(hs->psk, sizeof hs->psk);
    hre_wipe(hs->fixed_e, sizeof hs->fixed_e);
}

int hre_noise__hs_new(hre_noise__hs **out, const hre_noise__config *cfg)
{
    hre_noise__hs *hs;
    int pre_i = 0, pre_r = 0, npsk, need_s, need_rs, rc;
    size_t nlen;

    *out = NULL;
    if (!cfg || !cfg->protocol || (!cfg->prologue && cfg->prologuelen) || (!cfg->psks && cfg->npsks))
        return hre__fail(HRE_EINVAL, "noise: NULL argument");
    if (cfg->prologuelen > HRE_NOISE__MAX_MSG)
        return hre__fail(HRE_EINVAL, "noise: prologue longer than %d bytes", HRE_NOISE__MAX_MSG);
    hs = hre__calloc(1, sizeof *hs);
    if (!hs) return hre__fail(HRE_ENOMEM, "noise: out of memory");
    hs->initiator = cfg->initiator != 0;
    npsk = load_pattern(hs, cfg->protocol, &pre_i, &pre_r);
    if (npsk < 0) {
        rc = npsk;
        goto fail;
    }
    need_s = sends_static(hs, hs->initiator) || (hs->initiator ? pre_i : pre_r);
    need_rs = hs->initiator ? pre_r : pre_i;
    if (need_s != (cfg->s != NULL)) {
        rc = hre__fail(HRE_EINVAL, "noise: pattern %s %s a local static key", cfg->protocol,
                       need_s ? "needs" : "does not use");
        goto fail;
    }
    if (need_rs != (cfg->rs != NULL)) {
        rc = hre__fail(HRE_EINVAL, "noise: pattern %s %s the remote static key in advance", cfg->protocol,
                       need_rs ? "needs" : "does not take");
        goto fail;
    }
    if ((size_t)npsk != cfg->npsks) {
        rc = hre__fail(HRE_EINVAL, "noise: pattern %s takes %d pre-shared keys, %zu given", cfg->protocol,
                       npsk, cfg->npsks);
        goto fail;
    }
    for (size_t i = 0; i < cfg->npsks; i++) memcpy(hs->psk[i], cfg->psks[i], 32);
    hs->npsks = cfg->npsks;
    if (cfg->s) {
        hre_x25519__copy(&hs->s, cfg->s);
        if (!hs->s.pkey) {
            rc = hre__fail(HRE_EINVAL, "noise: the static key is empty");
            goto fail;
        }
    }
    if (cfg->rs) {
        memcpy(hs->rs, cfg->rs, 32);
        hs->has_rs = 1;
    }
    if (cfg->e) {
        memcpy(hs->fixed_e, cfg->e, 32);
        hs->has_fixed_e = 1;
    }
    /* InitializeSymmetric(protocol_name), MixHash(prologue), pre-messages */
    nlen = strlen(cfg->protocol);
    if (nlen <= 32) {
        memcpy(hs->ss.h, cfg->protocol, nlen);
    } else {
        hre_crypto__iov v = {cfg->protocol, nlen};
        if ((rc = hre_crypto__sha256_v(hs->ss.h, &v, 1)) != HRE_OK) goto fail;
    }
    memcpy(hs->ss.ck, hs->ss.h, 32);
    rc = mix_hash(&hs->ss, cfg->prologue, cfg->prologuelen);
    if (rc == HRE_OK && pre_i) rc = mix_hash(&hs->ss, hs->initiator ? hs->s.pub : hs->rs, 32);
    if (rc == HRE_OK && pre_r) rc = mix_hash(&hs->ss, hs->initiator ? hs->rs : hs->s.pub, 32);
    if (rc != HRE_OK) goto fail;
    *out = hs;
    return HRE_OK;
fail:
    hs_kill(hs);
    hre__free_secret(hs, sizeof *hs);
    return rc;
}

void hre_noise__hs_free(hre_noise__hs *hs)
{
    if (!hs) return;
    hs_kill(hs);
    hre__free_secret(hs, sizeof *hs);
}

hre_noise__action hre_noise__hs_action(const hre_noise__hs *hs)
{
    if (hs->failed) return HRE_NOISE__FAILED;
    if (hs->idx >= hs->nmsgs) return HRE_NOISE__DONE;
    return ((hs->idx % 2 == 0) == hs->initiator) ? HRE_NOISE__WRITE : HRE_NOISE__READ;
}

void hre_noise__hs_hash(const hre_noise__hs *hs, uint8_t h[32])
{
    memcpy(h, hs->ss.h, 32);
}

int hre_noise__hs_remote_static(const hre_noise__hs *hs, uint8_t rs[32])
{
    if (!hs->has_rs) return hre__fail(HRE_ENOTFOUND, "noise: no remote static key yet");
    memcpy(rs, hs->rs, 32);
    return HRE_OK;
}

size_t hre_noise__hs_message_index(const hre_noise__hs *hs) { return hs->idx; }
size_t hre_noise__hs_message_count(const hre_noise__hs *hs) { return hs->nmsgs; }

/* Bytes the tokens of message idx add, and whether the payload is encrypted. */
static size_t overhead(const hre_noise__hs *hs, size_t idx, int *keyed)
{
    int k = hre_noise__cipher_has_key(&hs->ss.cs);
    size_t n = 0;
    for (size_t t = 0; t < hs->ntok[idx]; t++) {
        switch (hs->tok[idx][t]) {
        case T_E: n += 32; if (hs->psk_mode) k = 1; break;
        case T_S: n += 32 + (k ? 16u : 0u); break;
        default: k = 1; break;   /* ee, es, se, ss, psk all call MixKey */
        }
    }
    *keyed = k;
    return n + (k ? 16u : 0u);
}

/* One DH token, the same whichever side writes the message. */
static int dh_token(hre_noise__hs *hs, int t)
{
    const hre_x25519__key *mine;
    const uint8_t *theirs;
    uint8_t out[32];
    int rc, have;
    switch (t) {
    case T_EE: mine = &hs->e; theirs = hs->re; have = hs->has_re; break;
    case T_ES: mine = hs->initiator ? &hs->e : &hs->s; theirs = hs->initiator ? hs->rs : hs->re;
               have = hs->initiator ? hs->has_rs : hs->has_re; break;
    case T_SE: mine = hs->initiator ? &hs->s : &hs->e; theirs = hs->initiator ? hs->re : hs->rs;
               have = hs->initiator ? hs->has_re : hs->has_rs; break;
    default:   mine = &hs->s; theirs = hs->rs; have = hs->has_rs; break;
    }
    if (!have || !mine->pkey) return hre__fail(HRE_ECRYPTO, "noise: internal error (DH key missing)");
    rc = hre_x25519__dh(out, mine, theirs);
    if (rc == HRE_EDECODE) return hre__fail(HRE_EDECODE, "noise: the peer's key is a low-order X25519 point");
    if (rc != HRE_OK) return hre__fail(rc, "noise: X25519 failed in the crypto provider");
    rc = mix_key(&hs->ss, out, 32);
    hre_wipe(out, sizeof out);
    return rc;
}

static int finish_message(hre_noise__hs *hs)
{
    hs->idx++;
    if (hs->idx >= hs->nmsgs) hre_x25519__clear(&hs->e);   /* the ephemeral is not needed any more */
    return HRE_OK;
}

static int hs_write(hre_noise__hs *hs, uint8_t *msg, size_t *msglen, const uint8_t *payload,
                    size_t payloadlen, hre_noise__payload_fn fn, void *arg)
{
    size_t need, pos = 0, n;
    int keyed, rc = HRE_OK;

    if (hs->failed) return hre__fail(HRE_EFATAL, "noise: the handshake failed earlier");
    if (hre_noise__hs_action(hs) != HRE_NOISE__WRITE)
        return hre__fail(HRE_ESTATE, "noise: not our turn to write (message %zu)", hs->idx);
    need = overhead(hs, hs->idx, &keyed);
    if (payloadlen > HRE_NOISE__MAX_MSG || need + payloadlen > HRE_NOISE__MAX_MSG)
        return hre__fail(HRE_ELIMIT, "noise: handshake message of %zu bytes exceeds %d",
                         need + payloadlen, HRE_NOISE__MAX_MSG);
    need += payloadlen;
    if (*msglen < need) {
        *msglen = need;
        return hre__fail(HRE_EBUFSIZE, "noise: need %zu bytes for handshake message %zu", need, hs->idx);
    }
    for (size_t t = 0; rc == HRE_OK && t < hs->ntok[hs->idx]; t++) {
        switch (hs->tok[hs->idx][t]) {
        case T_E:
            rc = hs->has_fixed_e ? hre_x25519__from_private(&hs->e, hs->fixed_e) : hre_x25519__generate(&hs->e);
            if (rc != HRE_OK) {
                rc = hre__fail(rc, "noise: ephemeral key generation failed");
                break;
            }
            memcpy(msg + pos, hs->e.pub, 32);
            pos += 32;
            rc = mix_hash(&hs->ss, hs->e.pub, 32);
            if (rc == HRE_OK && hs->psk_mode) rc = mix_key(&hs->ss, hs->e.pub, 32);
            break;
        case T_S:
            n = need - pos;
            rc = encrypt_and_hash(&hs->ss, msg + pos, &n, hs->s.pub, 32);
            pos += n;
            break;
        case T_PSK:
            rc = mix_key_and_hash(&hs->ss, hs->psk[hs->next_psk++], 32);
            break;
        default:
            rc = dh_token(hs, hs->tok[hs->idx][t]);
            break;
        }
    }
    if (rc == HRE_OK) {
        memcpy(hs->payload_h, hs->ss.h, 32);
        n = need - pos;
        if (fn) {
            /* The payload is written now, over the hash it may sign; it
             * goes where its ciphertext will be and is encrypted in place. */
            rc = fn(arg, hs->ss.h, msg + pos, payloadlen);
            if (rc == HRE_OK)
                rc = encrypt_and_hash(&hs->ss, msg + pos, &n, msg + pos, payloadlen);
        } else {
            rc = encrypt_and_hash(&hs->ss, msg + pos, &n, payload, payloadlen);
        }
        pos += n;
    }
    if (rc != HRE_OK || pos != need) {
        if (rc == HRE_OK) rc = hre__fail(HRE_ECRYPTO, "noise: internal error (message length)");
        hre_wipe(msg, need);
        hs_kill(hs);
        return rc;
    }
    *msglen = need;
    return finish_message(hs);
}

int hre_noise__hs_write(hre_noise__hs *hs, uint8_t *msg, size_t *msglen,
                        const uint8_t *payload, size_t payloadlen)
{
    if (!hs || !msglen || (!msg && *msglen) || (!payload && payloadlen))
        return hre__fail(HRE_EINVAL, "noise: NULL argument");
    return hs_write(hs, msg, msglen, payload, payloadlen, NULL, NULL);
}

int hre_noise__hs_write_fn(hre_noise__hs *hs, uint8_t *msg, size_t *msglen, size_t payloadlen,
                           hre_noise__payload_fn fn, void *arg)
{
    if (!hs || !msglen || (!msg && *msglen) || !fn)
        return hre__fail(HRE_EINVAL, "noise: NULL argument");
    return hs_write(hs, msg, msglen, NULL, payloadlen, fn, arg);
}

void hre_noise__hs_payload_hash(const hre_noise__hs *hs, uint8_t h[32])
{
    memcpy(h, hs->payload_h, 32);
}

int hre_noise__hs_read(hre_noise__hs *hs, uint8_t *payload, size_t *payloadlen,
                       const uint8_t *msg, size_t msglen)
{
    size_t over, pos = 0, n;
    int keyed, rc = HRE_OK;
    uint8_t rs[32];

    if (!hs || !payloadlen || (!payload && *payloadlen) || (!msg && msglen))
        return hre__fail(HRE_EINVAL, "noise: NULL argument");
    if (hs->failed) return hre__fail(HRE_EFATAL, "noise: the handshake failed earlier");
    if (hre_noise__hs_action(hs) != HRE_NOISE__READ)
        return hre__fail(HRE_ESTATE, "noise: not the peer's turn (message %zu)", hs->idx);
    if (msglen > HRE_NOISE__MAX_MSG) {
        hs_kill(hs);
        return hre__fail(HRE_ELIMIT, "noise: handshake message of %zu bytes exceeds %d", msglen, HRE_NOISE__MAX_MSG);
    }
    over = overhead(hs, hs->idx, &keyed);
    if (msglen < over) {
        hs_kill(hs);
        return hre__fail(HRE_EDECODE, "noise: handshake message %zu of %zu bytes is shorter than %zu",
                         hs->idx, msglen, over);
    }
    if (*payloadlen < msglen - over) {
        *payloadlen = msglen - over;
        return hre__fail(HRE_EBUFSIZE, "noise: need %zu bytes for the payload", msglen - over);
    }
    for (size_t t = 0; rc == HRE_OK && t < hs->ntok[hs->idx]; t++) {
        switch (hs->tok[hs->idx][t]) {
        case T_E:
            memcpy(hs->re, msg + pos, 32);
            hs->has_re = 1;
            pos += 32;
            rc = mix_hash(&hs->ss, hs->re, 32);
            if (rc == HRE_OK && hs->psk_mode) rc = mix_key(&hs->ss, hs->re, 32);
            break;
        case T_S: {
            size_t clen = 32 + (hre_noise__cipher_has_key(&hs->ss.cs) ? 16u : 0u);
            n = sizeof rs;
            rc = decrypt_and_hash(&hs->ss, rs, &n, msg + pos, clen);
            if (rc == HRE_OK) {
                memcpy(hs->rs, rs, 32);
                hs->has_rs = 1;
            }
            pos += clen;
            break;
        }
        case T_PSK:
            rc = mix_key_and_hash(&hs->ss, hs->psk[hs->next_psk++], 32);
            break;
        default:
            rc = dh_token(hs, hs->tok[hs->idx][t]);
            break;
        }
    }
    if (rc == HRE_OK) {
        memcpy(hs->payload_h, hs->ss.h, 32);
        n = *payloadlen;
        rc = decrypt_and_hash(&hs->ss, payload, &n, msg + pos, msglen - pos);
    }
    hre_wipe(rs, sizeof rs);
    if (rc != HRE_OK) {
        if (payload && *payloadlen) hre_wipe(payload, *payloadlen);
        hs_kill(hs);
        if (rc == HRE_EDECRYPT) return hre__fail(HRE_EDECRYPT, "noise: handshake message %zu does not authenticate", hs->idx);
        return rc;
    }
    *payloadlen = n;
    return finish_message(hs);
}

int hre_noise__hs_split(hre_noise__hs *hs, hre_noise__transport *t)
{
    uint8_t k[64];
    hre_noise__cipher c1 = {0}, c2 = {0};
    int rc;
    memset(t, 0, sizeof *t);
    if (hs->failed) return hre__fail(HRE_EFATAL, "noise: the handshake failed earlier");
    if (hre_noise__hs_action(hs) != HRE_NOISE__DONE || hs->split)
        return hre__fail(HRE_ESTATE, "noise: split before the handshake is complete, or twice");
    rc = hkdf(k, 2, hs->ss.ck, NULL, 0);
    if (rc == HRE_OK) rc = hre_noise__cipher_init(&c1, k);
    if (rc == HRE_OK && !hs->one_way) rc = hre_noise__cipher_init(&c2, k + 32);
    hre_wipe(k, sizeof k);
    if (rc != HRE_OK) {
        hre_noise__cipher_clear(&c1);
        hre_noise__cipher_clear(&c2);
        hs_kill(hs);
        return rc;
    }
    /* c1 carries initiator -> responder, c2 the other way; a one-way
     * pattern has only c1 (7.4: the responder never sends). */
    t->send = hs->initiator ? c1 : c2;
    t->recv = hs->initiator ? c2 : c1;
    memcpy(t->h, hs->ss.h, 32);
    t->initiator = hs->initiator;
    t->one_way = hs->one_way;
    hs->split = 1;
    hre_noise__cipher_clear(&hs->ss.cs);
    hre_wipe(hs->ss.ck, sizeof hs->ss.ck);
    return HRE_OK;
}

/* ------------------------------------------------------------------------ */
/* Transport                                                                 */
/* ------------------------------------------------------------------------ */

int hre_noise__transport_write(hre_noise__transport *t, uint8_t *out, size_t *outlen,
                               const uint8_t *pt, size_t ptlen)
{
    if (!t || !outlen || (!out && *outlen) || (!pt && ptlen)) return hre__fail(HRE_EINVAL, "noise: NULL argument");
    if (!hre_noise__cipher_has_key(&t->send))
        return hre__fail(HRE_ESTATE, "noise: this side of a one-way pattern cannot send");
    if (ptlen > HRE_NOISE__MAX_PAYLOAD)
        return hre__fail(HRE_ELIMIT, "noise: transport payload of %zu bytes exceeds %d", ptlen, HRE_NOISE__MAX_PAYLOAD);
    return hre_noise__cipher_encrypt(&t->send, out, outlen, NULL, 0, pt, ptlen);
}

int hre_noise__transport_read(hre_noise__transport *t, uint8_t *out, size_t *outlen,
                              const uint8_t *ct, size_t ctlen)
{
    if (!t || !outlen || (!out && *outlen) || (!ct && ctlen)) return hre__fail(HRE_EINVAL, "noise: NULL argument");
    if (!hre_noise__cipher_has_key(&t->recv))
        return hre__fail(HRE_ESTATE, "noise: this side of a one-way pattern cannot receive");
    if (ctlen > HRE_NOISE__MAX_MSG)
        return hre__fail(HRE_ELIMIT, "noise: transport message of %zu bytes exceeds %d", ctlen, HRE_NOISE__MAX_MSG);
    return hre_noise__cipher_decrypt(&t->recv, out, outlen, NULL, 0, ct, ctlen);
}

int hre_noise__transport_rekey_send(hre_noise__transport *t)
{
    return hre_noise__cipher_rekey(&t->send);
}

int hre_noise__transport_rekey_recv(hre_noise__transport *t)
{
    return hre_noise__cipher_rekey(&t->recv);
}

void hre_noise__transport_clear(hre_noise__transport *t)
{
    hre_noise__cipher_clear(&t->send);
    hre_noise__cipher_clear(&t->recv);
    hre_wipe(t, sizeof *t);
}

/* ------------------------------------------------------------------------ */
/* Framing                                                                   */
/* ------------------------------------------------------------------------ */

int hre_noise__frame_encode(uint8_t *out, size_t *outlen, const uint8_t *msg, size_t msglen)
{
    if (!outlen || (!out && *outlen) || (!msg && msglen)) return hre__fail(HRE_EINVAL, "noise: NULL argument");
    if (msglen > HRE_NOISE__MAX_MSG)
        return hre__fail(HRE_ELIMIT, "noise: message of %zu bytes exceeds %d", msglen, HRE_NOISE__MAX_MSG);
    if (*outlen < HRE_NOISE__FRAME_HDR + msglen) {
        *outlen = HRE_NOISE__FRAME_HDR + msglen;
        return hre__fail(HRE_EBUFSIZE, "noise: need %zu bytes for the frame", *outlen);
    }
    out[0] = (uint8_t)(msglen >> 8);
    out[1] = (uint8_t)msglen;
    if (msglen) memmove(out + HRE_NOISE__FRAME_HDR, msg, msglen);
    *outlen = HRE_NOISE__FRAME_HDR + msglen;
    return HRE_OK;
}

int hre_noise__frame_decode(const uint8_t **msg, size_t *msglen, size_t *consumed,
                            const uint8_t *buf, size_t len)
{
    size_t l;
    *msg = NULL;
    *msglen = 0;
    *consumed = 0;
    if (!buf && len) return hre__fail(HRE_EINVAL, "noise: NULL buffer");
    if (len < HRE_NOISE__FRAME_HDR) return HRE_OK;
    l = (size_t)buf[0] << 8 | buf[1];
    if (len - HRE_NOISE__FRAME_HDR < l) return HRE_OK;
    *msg = buf + HRE_NOISE__FRAME_HDR;
    *msglen = l;
    *consumed = HRE_NOISE__FRAME_HDR + l;
    return HRE_OK;
}
