/*
 * Fuzz target: the vault chunk decoder -- the opener's STREAM chunking,
 * padded-stream framing, payload meta and zlib body (PROTOCOL.md 14.3).
 * White-box: the data key is fixed (32 bytes 0x44, locator 32 bytes 0x4c,
 * version 1), so the opener runs without a wrap.
 * Input: byte 0 picks the mode.
 *  - even: the rest is an envelope, fed to the opener in pieces whose sizes
 *    come from byte 0 (so chunk boundaries fall anywhere);
 *  - odd: the rest is a list of chunk plaintexts, each u16 LE (length - 1)
 *    || bytes (1 to 65536 bytes), which the target encrypts as a key holder would
 *    (header, nonces and AAD per the spec) before opening them: this
 *    reaches the framing checks behind the tags with hostile content.
 * Invariants (abort on violation): only HRE_OK, HRE_EDECODE,
 * HRE_EUNSUPPORTED, HRE_EVERIFY, HRE_EDECRYPT or HRE_ELIMIT; no plaintext
 * before a chunk authenticated (even mode: nothing at all unless the first
 * chunk verified); after OK the sink got exactly content.doc_len bytes, the
 * padded length is the payload's bucket and the envelope length its
 * envelope length.
 *
 * Seeds: built with -DHRE_FUZZ_GEN_SEEDS this file is also the seed
 * generator for corpus/vault_chunk, vault_header and vault_wrap:
 *   cc -std=c11 -DHRE_FUZZ_GEN_SEEDS -DHRE_WHITEBOX -DHRE_TESTING -Iinclude -Ilib \
 *      tests/fuzz/fuzz_vault_chunk.c build/libhre_test.a -lcrypto -lz -lpthread -o gen \
 *      && ./gen tests/fuzz/corpus
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hre/aead.h"
#include "hre/errors.h"
#include "hre/hash.h"
#include "vault/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t g_key[32] = {
    0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
    0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44};

typedef struct fbuf {
    uint8_t *p;
    size_t n, cap;
} fbuf;

static void put(fbuf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 4096;
        while (c < b->n + n) c *= 2;
        b->p = realloc(b->p, c);
        if (!b->p) abort();
        b->cap = c;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

typedef struct sinkst {
    size_t got;
} sinkst;

static int sink(void *ud, const uint8_t *d, size_t n)
{
    sinkst *s = ud;
    (void)d;
    s->got += n;
    return HRE_OK;
}

static void fixed_header(hre_vault_header *h, uint8_t hb[HRE_VAULT_HEADER_LEN])
{
    uint8_t ck[32];
    memset(h, 0, sizeof *h);
    h->format = HRE_VAULT_FORMAT;
    h->chunk_log2 = HRE_VAULT_CHUNK_LOG2;
    memset(h->locator, 0x4c, 32);
    h->doc_version = 1;
    memset(h->nonce_prefix, 0x6e, HRE_VAULT_NONCE_PREFIX_LEN);
    if (hre_vault__derive(ck, h->key_commit, g_key) != HRE_OK) abort();
    hre_vault__header_put(hb, h);
}

/* Encrypt chunk plaintexts under the fixed key into an envelope. */
static void forge(fbuf *env, const uint8_t *const *pts, const size_t *lens, size_t n)
{
    hre_vault_header h;
    uint8_t hb[HRE_VAULT_HEADER_LEN], ck[32], commit[32], nonce[12], aad[HRE_VAULT__AAD_LEN];
    hre_aead *a = NULL;
    fixed_header(&h, hb);
    if (hre_vault__derive(ck, commit, g_key) != HRE_OK || hre_aead_new(&a, ck, 32) != HRE_OK) abort();
    put(env, hb, sizeof hb);
    for (size_t i = 0; i < n; i++) {
        uint8_t *c = malloc(lens[i] + 16);
        if (!c) abort();
        hre_vault__chunk_nonce(nonce, h.nonce_prefix, (uint32_t)i, i + 1 == n);
        memcpy(aad, hb, sizeof hb);
        hre__put_le32(aad + HRE_VAULT_HEADER_LEN, (uint32_t)i);
        aad[HRE_VAULT_HEADER_LEN + 4] = i + 1 == n;
        if (hre_aead_seal(a, c, c + lens[i], 16, nonce, 12, aad, sizeof aad, lens[i] ? pts[i] : NULL,
                          lens[i]) != HRE_OK)
            abort();
        put(env, c, lens[i] + 16);
        free(c);
    }
    hre_aead_free(a);
}

static void run_opener(const uint8_t *env, size_t n, size_t piece)
{
    hre_vault_wrap w;
    hre_vault_opener *o = NULL;
    hre_vault_content c = HRE_VAULT_CONTENT_INIT;
    sinkst s = {0};
    int rc;
    memset(&w, 0, sizeof w);
    if (hre_sha256(w.doc_hash, env, n) != HRE_OK) abort();
    memset(w.locator, 0x4c, 32);
    w.doc_version = 1;
    if (hre_vault__opener_new_key(&o, g_key, &w, 0, 0, sink, &s) != HRE_OK) abort();
    rc = HRE_OK;
    for (size_t off = 0; off < n && rc == HRE_OK; off += piece)
        rc = hre_vault__opener_write(o, env + off, n - off < piece ? n - off : piece);
    if (rc == HRE_OK) rc = hre_vault__opener_finish(o, &c);
    hre_vault__opener_free(o);
    if (rc == HRE_OK) {
        if (s.got != c.doc_len) abort();
        if (c.padded_len != hre_vault_bucket(c.payload_len)) abort();
        if (c.envelope_len != n || hre_vault_envelope_len(c.padded_len) != n) abort();
    } else if (rc != HRE_EDECODE && rc != HRE_EUNSUPPORTED && rc != HRE_EVERIFY && rc != HRE_EDECRYPT &&
               rc != HRE_ELIMIT) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    if (!(data[0] & 1)) {
        size_t piece = 1 + ((size_t)data[0] << 8);
        run_opener(data + 1, size - 1, piece);
        return 0;
    }
    {
        const uint8_t *pts[64];
        size_t lens[64], n = 0, off = 1;
        fbuf env = {0};
        while (off + 2 <= size && n < 64) {
            size_t l = ((size_t)data[off] | (size_t)data[off + 1] << 8) + 1;
            off += 2;
            if (l > size - off) l = size - off;
            pts[n] = data + off;
            lens[n] = l;
            n++;
            off += l;
        }
        if (n == 0) return 0;
        forge(&env, pts, lens, n);
        run_opener(env.p, env.n, 4096 + data[0]);
        free(env.p);
    }
    return 0;
}

#ifdef HRE_FUZZ_GEN_SEEDS
/* ---- seed generator (see the file comment) ---- */
#include "hre/hpke.h"

static void write_file(const char *dir, const char *sub, const char *name, const void *p, size_t n)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) abort();
    fclose(f);
}

/* One chunk plaintext: u32 dlen || payload || zeros up to cap. */
static size_t chunk_pt(uint8_t *pt, const uint8_t *payload, size_t plen, size_t cap)
{
    hre__put_le32(pt, (uint32_t)plen);
    memset(pt + 4, 0, cap);
    memcpy(pt + 4, payload, plen);
    return 4 + cap;
}

/* framing-mode input: 0x01 || (u16 (len - 1) || plaintext)* */
static void framing_seed(fbuf *in, const uint8_t *const *pts, const size_t *lens, size_t n)
{
    uint8_t m = 1;
    put(in, &m, 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t l[2] = {(uint8_t)(lens[i] - 1), (uint8_t)((lens[i] - 1) >> 8)};
        put(in, l, 2);
        put(in, pts[i], lens[i]);
    }
}

int main(int argc, char **argv)
{
    static uint8_t pt1[65536], pt2[65536], payload[70000];
    const uint8_t *pts[2] = {pt1, pt2};
    size_t lens[2];
    fbuf in = {0}, env = {0};
    uint8_t hb[HRE_VAULT_HEADER_LEN];
    hre_vault_header h;
    if (argc < 2) return 2;
    /* raw body, media type */
    memcpy(payload, "\x00\x10" "application/json" "{\"resourceType\":\"Bundle\"}", 2 + 16 + 25);
    lens[0] = chunk_pt(pt1, payload, 43, 512);
    framing_seed(&in, pts, lens, 1);
    write_file(argv[1], "vault_chunk", "framing_raw", in.p, in.n);
    forge(&env, pts, lens, 1);
    {
        uint8_t m = 0;
        fbuf e0 = {0};
        put(&e0, &m, 1);
        put(&e0, env.p, env.n);
        write_file(argv[1], "vault_chunk", "envelope_raw", e0.p, e0.n);
        write_file(argv[1], "vault_header", "valid", env.p, HRE_VAULT_HEADER_LEN);
        free(e0.p);
    }
    /* zlib body */
    {
        uLongf zl = sizeof payload - 2;
        payload[0] = 1;
        payload[1] = 0;
        if (compress2(payload + 2, &zl, (const Bytef *)"hello vault hello vault hello vault", 35, 6) != Z_OK)
            abort();
        in.n = 0;
        lens[0] = chunk_pt(pt1, payload, 2 + zl, 512);
        framing_seed(&in, pts, lens, 1);
        write_file(argv[1], "vault_chunk", "framing_zlib", in.p, in.n);
    }
    /* two chunks: a full one and a final one (payload 65532 + 100, bucket 67584) */
    {
        memset(payload, 'x', sizeof payload);
        payload[0] = 0;
        payload[1] = 0;
        in.n = 0;
        lens[0] = chunk_pt(pt1, payload, 65532, 65532);
        lens[1] = chunk_pt(pt2, payload, 100, 67584 - 65532);
        framing_seed(&in, pts, lens, 2);
        write_file(argv[1], "vault_chunk", "framing_two_chunks", in.p, in.n);
        env.n = 0;
        forge(&env, pts, lens, 2);
        {
            uint8_t m = 0x10;
            fbuf e0 = {0};
            put(&e0, &m, 1);
            put(&e0, env.p, env.n);
            write_file(argv[1], "vault_chunk", "envelope_two_chunks", e0.p, e0.n);
            free(e0.p);
        }
    }
    /* headers: a newer format */
    fixed_header(&h, hb);
    hb[4] = 2;
    write_file(argv[1], "vault_header", "format2", hb, sizeof hb);
    /* wraps to the fuzz_vault_wrap reader key: base and auth */
    {
        hre_key *r = NULL, *s = NULL;
        hre_pubkey *rp = NULL, *sp = NULL;
        hre_vault_wrap w;
        uint8_t ikm[32], info[HRE_VAULT__WRAP_INFO_LEN], enc[HRE_VAULT_WRAP_LEN];
        size_t len;
        memset(ikm, 0x42, 32);
        if (hre_hpke_derive_key(&r, ikm, 32) != HRE_OK || hre_key_pubkey(r, &rp) != HRE_OK) abort();
        memset(ikm, 0x53, 32);
        if (hre_hpke_derive_key(&s, ikm, 32) != HRE_OK || hre_key_pubkey(s, &sp) != HRE_OK) abort();
        memset(&w, 0, sizeof w);
        if (hre_sha256(w.doc_hash, env.p, env.n) != HRE_OK) abort();
        memset(w.locator, 0x4c, 32);
        w.doc_version = 1;
        w.reader_type = HRE_VAULT_READER_ACCOUNT;
        memset(w.reader_id, 0x72, 32);
        w.mode = HRE_HPKE_MODE_BASE;
        hre_vault__wrap_info(info, w.locator, 1, w.reader_type, w.reader_id, 0, NULL);
        if (hre_hpke_wrap(w.hpke, rp, info, sizeof info, w.doc_hash, 32, g_key) != HRE_OK) abort();
        len = sizeof enc;
        if (hre_vault_wrap_encode(&w, enc, &len) != HRE_OK) abort();
        write_file(argv[1], "vault_wrap", "valid_base", enc, len);
        w.mode = HRE_HPKE_MODE_AUTH;
        w.sender_type = HRE_VAULT_READER_ORG;
        memset(w.sender_id, 0x73, 32);
        if (hre_pubkey_serialize_wire(sp, w.sender_key) != HRE_OK) abort();
        hre_vault__wrap_info(info, w.locator, 1, w.reader_type, w.reader_id, w.sender_type, w.sender_id);
        if (hre_hpke_wrap_auth(w.hpke, rp, s, info, sizeof info, w.doc_hash, 32, g_key) != HRE_OK) abort();
        len = sizeof enc;
        if (hre_vault_wrap_encode(&w, enc, &len) != HRE_OK) abort();
        write_file(argv[1], "vault_wrap", "valid_auth", enc, len);
        hre_key_free(r);
        hre_key_free(s);
        hre_pubkey_free(rp);
        hre_pubkey_free(sp);
    }
    free(in.p);
    free(env.p);
    return 0;
}
#endif
