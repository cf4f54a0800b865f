/*
 * Suite "vault": encrypted documents, wraps, the crash-safe store, access
 * rules and erasure (include/hre/vault.h, docs/PROTOCOL.md section 12).
 *
 *  - codecs: header and wrap round trips and every refusal, the Padme
 *    buckets (known values, monotone, idempotent), envelope lengths;
 *  - seal -> open round trips over sizes around every boundary, all three
 *    compression choices, random write splits (seeded), media types;
 *  - the FHIR corpus: every bundle in tests/data/fhir-stu3 (HRE_FHIR_DIR
 *    for another copy) byte for byte through store -> read, and sealed
 *    envelopes re-derived from the spec with public primitives only;
 *  - tampering: every byte of a small envelope and of an encoded wrap,
 *    sampled bytes of a big one, chunk reorder / drop / duplicate / splice,
 *    truncation at every length, extension: each refused with its own code;
 *  - readers: a wrong reader, a pruned (revoked) reader, an expired grant
 *    at a block time after expiry, the refusal reasons of re-wrap;
 *  - power loss (white-box) at every sync point and at random calls while
 *    storing, re-wrapping, pruning and erasing: no half document, no stray
 *    file or wrap, erasure completes after the restart;
 *  - erasure scan: after erasure no storage file (nor the last bytes of any
 *    removed file) holds any 16-byte window of the plaintext or of its
 *    compressed form, or the data key; the ledger still verifies.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <hre/hre.h>
#include <hre/sys/storage.h>
#include <hre/sys/powerloss.h>

#include "testutil.h"

#ifdef HRE_WHITEBOX
#include "core/internal.h"
#include "vault/internal.h"
#endif

#define T0 1700000000u

static uint32_t hre__le32_t(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    int fail_after;            /* > 0: the sink fails once this many calls passed */
    int calls;
} buf;

static int buf_sink(void *ud, const uint8_t *data, size_t len)
{
    buf *b = ud;
    ck_assert_uint_gt(len, 0);
    if (b->fail_after && ++b->calls > b->fail_after) return HRE_ECANCELED;
    if (b->n + len > b->cap) {
        size_t ncap = b->cap ? b->cap : 4096;
        while (ncap < b->n + len) ncap *= 2;
        b->p = realloc(b->p, ncap);
        ck_assert_ptr_nonnull(b->p);
        b->cap = ncap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    return HRE_OK;
}

static void buf_free(buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static hre_key *genkey(void)
{
    hre_key *k = NULL;
    HRE_T_OK(hre_key_generate(&k, HRE_CURVE_P256));
    return k;
}

static hre_pubkey *pub(const hre_key *k)
{
    hre_pubkey *p = NULL;
    HRE_T_OK(hre_key_pubkey(k, &p));
    return p;
}

static void keyenc(uint8_t out[34], const hre_key *k)
{
    hre_pubkey *p = pub(k);
    HRE_T_OK(hre_pubkey_serialize_wire(p, out));
    hre_pubkey_free(p);
}

static void rand_doc(uint8_t *p, size_t n, int compressible)
{
    if (!compressible) {
        hre_t_rand_bytes(p, n);
        return;
    }
    static const char words[][12] = {"resource", "Patient", "\"code\": ", "Observation", "  ", "value",
                                     "{\n", "}\n", "2017-04-", "mmol/L", "LOINC", "\"display\""};
    for (size_t i = 0; i < n;) {
        const char *w = words[hre_t_rand_below(12)];
        size_t l = strlen(w);
        if (l > n - i) l = n - i;
        memcpy(p + i, w, l);
        i += l;
    }
}

/* A sealer's whole envelope and its wraps for `nreaders` readers. */
typedef struct sealed {
    buf env;
    uint8_t hash[32];
    hre_vault_content content;
    hre_vault_wrap wrap[4];
} sealed;

static void seal_doc(sealed *s, const hre_vault_seal_params *p, const uint8_t *doc, size_t len,
                     hre_key *const *readers, size_t nreaders, int split)
{
    hre_vault_sealer *sl = NULL;
    memset(s, 0, sizeof *s);
    s->content.version = HRE_VAULT_CONTENT_VERSION;
    HRE_T_OK(hre_vault_sealer_new(&sl, p, buf_sink, &s->env));
    for (size_t off = 0; off < len;) {
        size_t n = split ? 1 + hre_t_rand_below(split) : len - off;
        if (n > len - off) n = len - off;
        HRE_T_OK(hre_vault_sealer_write(sl, doc + off, n));
        off += n;
    }
    HRE_T_OK(hre_vault_sealer_finish(sl, s->hash, &s->content));
    for (size_t i = 0; i < nreaders; i++) {
        hre_pubkey *rk = pub(readers[i]);
        uint8_t id[32];
        memset(id, 0x50 + (int)i, 32);
        HRE_T_OK(hre_vault_sealer_wrap(sl, &s->wrap[i], HRE_VAULT_READER_ACCOUNT, id, rk));
        hre_pubkey_free(rk);
    }
    hre_vault_sealer_free(sl);
}

/* Open env with a wrap; returns the code, the plaintext in *out. */
static int open_env(buf *out, const hre_vault_wrap *w, const hre_key *k, const uint8_t *env, size_t n,
                    size_t split, unsigned int flags, hre_vault_content *content)
{
    hre_vault_open_params p = HRE_VAULT_OPEN_PARAMS_INIT;
    hre_vault_opener *o = NULL;
    int rc;
    p.wrap = w;
    p.reader_key = k;
    p.flags = flags;
    rc = hre_vault_opener_new(&o, &p, buf_sink, out);
    if (rc != HRE_OK) {
        ck_assert_ptr_null(o);
        return rc;
    }
    for (size_t off = 0; off < n;) {
        size_t m = split ? 1 + hre_t_rand_below(split) : n - off;
        if (m > n - off) m = n - off;
        rc = hre_vault_opener_write(o, env + off, m);
        if (rc != HRE_OK) {
            hre_vault_opener_free(o);
            return rc;
        }
        off += m;
    }
    rc = hre_vault_opener_finish(o, content);
    hre_vault_opener_free(o);
    return rc;
}

static void seal_params(hre_vault_seal_params *p, int compress)
{
    HRE_T_OK(hre_vault_seal_params_init(p, HRE_VAULT_SEAL_PARAMS_VERSION));
    hre_t_rand_bytes(p->locator, 32);
    p->doc_version = 1;
    p->compress = compress;
    p->media_type = "application/fhir+json";
}

/* ------------------------------------------------------------------------ */
/* Codecs                                                                    */
/* ------------------------------------------------------------------------ */

START_TEST(test_error_codes)
{
    ck_assert_int_eq(HRE_EERASED, -22);
    ck_assert_int_eq(HRE_EEXPIRED, -23);
    ck_assert_int_eq(HRE_EREVOKED, -24);
    ck_assert_str_ne(hre_strerror(HRE_EEXPIRED), hre_strerror(12345));
    ck_assert_str_ne(hre_strerror(HRE_EREVOKED), hre_strerror(12345));
    ck_assert_str_ne(hre_strerror(HRE_EREVOKED), hre_strerror(HRE_EEXPIRED));
    ck_assert_str_ne(hre_strerror(HRE_EREVOKED), hre_strerror(HRE_EERASED));
}
END_TEST

START_TEST(test_buckets)
{
    /* Padme (Nikitin et al., PETS 2019) with a 512-byte floor */
    static const struct { uint64_t in, out; } known[] = {
        {0, 512}, {1, 512}, {511, 512}, {512, 512}, {513, 544}, {1000, 1024}, {1024, 1024},
        {1025, 1088}, {5000, 5120}, {65532, 65536}, {65537, 67584}, {1446636, 1474560},
        {(uint64_t)1 << 40, (uint64_t)1 << 40}, {((uint64_t)1 << 41), (uint64_t)1 << 41},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        ck_assert_msg(hre_vault_bucket(known[i].in) == known[i].out, "bucket(%llu) = %llu, want %llu",
                      (unsigned long long)known[i].in, (unsigned long long)hre_vault_bucket(known[i].in),
                      (unsigned long long)known[i].out);
    ck_assert_uint_eq(hre_vault_bucket(((uint64_t)1 << 41) + 1), 0);
    {
        uint64_t prev = 0;
        for (uint64_t l = 0; l < 200000; l += 1 + hre_t_rand_below(97)) {
            uint64_t b = hre_vault_bucket(l);
            ck_assert_uint_ge(b, l);
            ck_assert_uint_ge(b, prev);
            ck_assert_uint_eq(hre_vault_bucket(b), b);      /* a bucket is its own bucket */
            /* overhead below 12% (Padme's bound) above the floor */
            if (l > 512) ck_assert_uint_le((b - l) * 100, l * 12);
            prev = b;
        }
    }
    /* envelope lengths: header + padded + 20 bytes per chunk */
    ck_assert_uint_eq(hre_vault_envelope_len(512), 82 + 512 + 20);
    ck_assert_uint_eq(hre_vault_envelope_len(65532), 82 + 65532 + 20);
    ck_assert_uint_eq(hre_vault_envelope_len(65533), 82 + 65533 + 40);
    ck_assert_uint_eq(hre_vault_envelope_len(0), 0);
    ck_assert_uint_eq(hre_vault_envelope_len(((uint64_t)1 << 41) + 1), 0);
}
END_TEST

START_TEST(test_header_codec)
{
    hre_vault_header h, d;
    uint8_t enc[HRE_VAULT_HEADER_LEN + 1];
    size_t len = 0;
    memset(&h, 0, sizeof h);
    h.format = HRE_VAULT_FORMAT;
    h.chunk_log2 = HRE_VAULT_CHUNK_LOG2;
    hre_t_rand_bytes(h.locator, 32);
    h.doc_version = 7;
    hre_t_rand_bytes(h.nonce_prefix, 7);
    hre_t_rand_bytes(h.key_commit, 32);
    ck_assert_int_eq(hre_vault_header_encode(&h, NULL, &len), HRE_EBUFSIZE);
    ck_assert_uint_eq(len, HRE_VAULT_HEADER_LEN);
    len = sizeof enc;
    HRE_T_OK(hre_vault_header_encode(&h, enc, &len));
    ck_assert_uint_eq(len, 82);
    ck_assert_mem_eq(enc, "HREV\x01\x00\x10", 7);
    ck_assert_mem_eq(enc + 7, h.locator, 32);
    ck_assert_uint_eq(enc[39], 7);
    HRE_T_OK(hre_vault_header_decode(&d, enc, 82));
    ck_assert_int_eq(memcmp(&h, &d, sizeof h), 0);
    ck_assert_int_eq(hre_vault_header_decode(&d, enc, 81), HRE_EDECODE);
    ck_assert_int_eq(hre_vault_header_decode(&d, enc, 83), HRE_EDECODE);
    /* every byte of the fixed part refused when changed */
    for (int i = 0; i < 7; i++) {
        uint8_t t[82];
        memcpy(t, enc, 82);
        t[i] ^= i == 4 ? 0x02 : 0x01;   /* format 3: newer; other bytes: malformed */
        int rc = hre_vault_header_decode(&d, t, 82);
        ck_assert_msg(rc == (i == 4 ? HRE_EUNSUPPORTED : HRE_EDECODE), "byte %d: %d", i, rc);
        ck_assert_str_ne(hre_error_detail(), "");
    }
    {   /* format 0 and version 0 */
        uint8_t t[82];
        memcpy(t, enc, 82);
        t[4] = 0;
        ck_assert_int_eq(hre_vault_header_decode(&d, t, 82), HRE_EDECODE);
        memcpy(t, enc, 82);
        memset(t + 39, 0, 4);
        ck_assert_int_eq(hre_vault_header_decode(&d, t, 82), HRE_EDECODE);
    }
    h.flags = 1;
    len = sizeof enc;
    ck_assert_int_eq(hre_vault_header_encode(&h, enc, &len), HRE_EINVAL);
    ck_assert_int_eq(hre_vault_header_decode(NULL, enc, 82), HRE_EINVAL);
    ck_assert_int_eq(hre_vault_header_decode(&d, NULL, 82), HRE_EINVAL);
}
END_TEST

START_TEST(test_wrap_codec)
{
    hre_vault_wrap w, d;
    uint8_t enc[HRE_VAULT_WRAP_LEN];
    size_t len = sizeof enc;
    hre_key *s = genkey();
    memset(&w, 0, sizeof w);
    hre_t_rand_bytes(w.doc_hash, 32);
    hre_t_rand_bytes(w.locator, 32);
    w.doc_version = 3;
    w.mode = HRE_HPKE_MODE_AUTH;
    w.reader_type = HRE_VAULT_READER_ORG;
    hre_t_rand_bytes(w.reader_id, 32);
    w.sender_type = HRE_VAULT_READER_ACCOUNT;
    hre_t_rand_bytes(w.sender_id, 32);
    keyenc(w.sender_key, s);
    hre_t_rand_bytes(w.hpke, sizeof w.hpke);
    HRE_T_OK(hre_vault_wrap_encode(&w, enc, &len));
    ck_assert_uint_eq(len, 287);
    ck_assert_mem_eq(enc, "HREW\x01\x02", 6);
    HRE_T_OK(hre_vault_wrap_decode(&d, enc, len));
    ck_assert_int_eq(memcmp(&w, &d, sizeof w), 0);
    ck_assert_int_eq(hre_vault_wrap_decode(&d, enc, len - 1), HRE_EDECODE);
    {   /* refusals: magic, format, mode, types, sender key form */
        static const struct { size_t off; uint8_t val; int code; } bad[] = {
            {0, 'X', HRE_EDECODE}, {4, 0, HRE_EDECODE}, {4, 2, HRE_EUNSUPPORTED}, {5, 1, HRE_EDECODE},
            {5, 3, HRE_EDECODE}, {74, 2, HRE_EDECODE}, {107, 2, HRE_EDECODE}, {140, 2, HRE_EDECODE},
            {141, 4, HRE_EDECODE},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            uint8_t t[HRE_VAULT_WRAP_LEN];
            memcpy(t, enc, sizeof t);
            t[bad[i].off] = bad[i].val;
            ck_assert_msg(hre_vault_wrap_decode(&d, t, sizeof t) == bad[i].code, "offset %zu", bad[i].off);
            for (size_t j = 0; j < sizeof d; j++) ck_assert_uint_eq(((uint8_t *)&d)[j], 0);
        }
        /* version 0 */
        uint8_t t[HRE_VAULT_WRAP_LEN];
        memcpy(t, enc, sizeof t);
        memset(t + 70, 0, 4);
        ck_assert_int_eq(hre_vault_wrap_decode(&d, t, sizeof t), HRE_EDECODE);
    }
    /* base mode: the sender fields must be zero */
    w.mode = HRE_HPKE_MODE_BASE;
    len = sizeof enc;
    ck_assert_int_eq(hre_vault_wrap_encode(&w, enc, &len), HRE_EINVAL);
    w.sender_type = 0;
    memset(w.sender_id, 0, 32);
    memset(w.sender_key, 0, 34);
    len = sizeof enc;
    HRE_T_OK(hre_vault_wrap_encode(&w, enc, &len));
    HRE_T_OK(hre_vault_wrap_decode(&d, enc, len));
    enc[120] = 1;   /* a sender id byte in a base-mode wrap */
    ck_assert_int_eq(hre_vault_wrap_decode(&d, enc, len), HRE_EDECODE);
    hre_key_free(s);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Seal and open                                                             */
/* ------------------------------------------------------------------------ */

START_TEST(test_roundtrip_sizes)
{
    static const size_t sizes[] = {0, 1, 2, 300, 508, 509, 510, 511, 512, 513, 1000, 65527, 65528,
                                   65529, 65530, 65531, 65532, 65533, 65536, 65537, 131064, 131065,
                                   200000, 400000};
    hre_key *r[2] = {genkey(), genkey()};
    hre_key *sender = genkey();
    uint8_t *doc = malloc(400000);
    hre_t_reseed(hre_t_seed() ^ 0x5eed0001);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int comp = 0; comp < 3; comp++) {
            hre_vault_seal_params p;
            sealed s;
            buf out = {0};
            hre_vault_content c = HRE_VAULT_CONTENT_INIT;
            uint8_t h[32];
            size_t n = sizes[i];
            int compressible = (int)(i % 2);
            rand_doc(doc, n, compressible);
            seal_params(&p, comp);
            if (i % 3 == 0) p.media_type = NULL;
            if (i % 4 == 1) p.sender_key = sender, p.sender_type = HRE_VAULT_READER_ORG, memset(p.sender_id, 7, 32);
            seal_doc(&s, &p, doc, n, r, 2, i % 2 ? 7000 : 0);
            /* the envelope's length is the bucket's, its hash the sink's bytes' */
            ck_assert_uint_eq(s.env.n, s.content.envelope_len);
            ck_assert_uint_eq(s.content.padded_len, hre_vault_bucket(s.content.payload_len));
            ck_assert_uint_eq(s.env.n, hre_vault_envelope_len(s.content.padded_len));
            HRE_T_OK(hre_sha256(h, s.env.p, s.env.n));
            ck_assert_mem_eq(h, s.hash, 32);
            ck_assert_uint_eq(s.content.doc_len, n);
            if (comp == HRE_VAULT_COMPRESS_NEVER) ck_assert_uint_eq(s.content.compressed, 0);
            if (comp == HRE_VAULT_COMPRESS_ALWAYS) ck_assert_uint_eq(s.content.compressed, 1);
            if (comp == HRE_VAULT_COMPRESS_AUTO && n >= 1000)
                ck_assert_uint_eq(s.content.compressed, (unsigned)compressible);
            for (int reader = 0; reader < 2; reader++) {
                out.n = 0;
                HRE_T_OK(open_env(&out, &s.wrap[reader], r[reader], s.env.p, s.env.n, (i + reader) % 3 ? 9000 : 0,
                                  0, &c));
                ck_assert_uint_eq(out.n, n);
                if (n) ck_assert_mem_eq(out.p, doc, n);
                ck_assert_mem_eq(c.doc_hash, s.hash, 32);
                ck_assert_uint_eq(c.doc_len, n);
                ck_assert_uint_eq(c.padded_len, s.content.padded_len);
                ck_assert_uint_eq(c.payload_len, s.content.payload_len);
                ck_assert_uint_eq(c.envelope_len, s.env.n);
                ck_assert_uint_eq(c.compressed, s.content.compressed);
                ck_assert_str_eq(c.media_type, p.media_type ? p.media_type : "");
            }
            ck_assert_uint_eq(s.wrap[0].mode, p.sender_key ? HRE_HPKE_MODE_AUTH : HRE_HPKE_MODE_BASE);
            /* the other reader's key does not open a wrap */
            ck_assert_int_eq(open_env(&out, &s.wrap[0], r[1], s.env.p, s.env.n, 0, 0, NULL), HRE_EDECRYPT);
            buf_free(&out);
            buf_free(&s.env);
        }
    free(doc);
    hre_key_free(r[0]);
    hre_key_free(r[1]);
    hre_key_free(sender);
}
END_TEST


/* ------------------------------------------------------------------------ */
/* Tampering                                                                 */
/* ------------------------------------------------------------------------ */

/* The code a changed envelope byte at pos must give (single-chunk or not). */
static int want_env_code(size_t pos, uint8_t newval)
{
    if (pos < 4) return HRE_EDECODE;
    if (pos == 4) return newval == 0 ? HRE_EDECODE : HRE_EUNSUPPORTED;
    if (pos == 5 || pos == 6) return HRE_EDECODE;
    if (pos < 39) return HRE_EVERIFY;                 /* locator */
    if (pos < 43) return HRE_EVERIFY;                 /* version (or 0: EDECODE, see caller) */
    return HRE_EDECRYPT;                              /* nonce prefix, key commitment, chunks */
}

static void tamper_at(const sealed *s, const hre_key *k, size_t pos, buf *out)
{
    uint8_t *t = malloc(s->env.n);
    uint8_t x = (uint8_t)(1 + hre_t_rand_below(255));
    int rc, want;
    memcpy(t, s->env.p, s->env.n);
    t[pos] ^= x;
    want = want_env_code(pos, t[pos]);
    if (pos >= 39 && pos < 43 && hre__le32_t(t + 39) == 0) want = HRE_EDECODE;
    out->n = 0;
    rc = open_env(out, &s->wrap[0], k, t, s->env.n, pos % 2 ? 5000 : 0, 0, NULL);
    ck_assert_msg(rc == want, "byte %zu ^ 0x%02x: got %d (%s), want %d: %s", pos, x, rc, hre_strerror(rc),
                  want, hre_error_detail());
    ck_assert_str_ne(hre_error_detail(), "");
    free(t);
}

START_TEST(test_tamper_envelope_small)
{
    hre_key *r = genkey();
    hre_vault_seal_params p;
    sealed s;
    buf out = {0};
    uint8_t doc[3000];
    hre_t_reseed(hre_t_seed() ^ 0x7a3e0001);
    rand_doc(doc, sizeof doc, 1);
    seal_params(&p, HRE_VAULT_COMPRESS_AUTO);
    seal_doc(&s, &p, doc, sizeof doc, &r, 1, 0);
    ck_assert_uint_lt(s.env.n, HRE_VAULT_CHUNK_WIRE_LEN);
    /* every byte position */
    for (size_t pos = 0; pos < s.env.n; pos++) tamper_at(&s, r, pos, &out);
    /* truncation at every length, and extension */
    for (size_t n = 0; n < s.env.n; n++) {
        int rc = open_env(&out, &s.wrap[0], r, s.env.p, n, 0, 0, NULL);
        int want = n < HRE_VAULT_HEADER_LEN + 20 ? HRE_EDECODE : HRE_EDECRYPT;
        ck_assert_msg(rc == want, "truncated to %zu: %d (%s)", n, rc, hre_error_detail());
    }
    for (size_t extra = 1; extra < 70000; extra = extra * 3 + 1) {
        uint8_t *t = malloc(s.env.n + extra);
        memcpy(t, s.env.p, s.env.n);
        hre_t_rand_bytes(t + s.env.n, extra);
        ck_assert_int_eq(open_env(&out, &s.wrap[0], r, t, s.env.n + extra, 0, 0, NULL), HRE_EDECRYPT);
        free(t);
    }
    buf_free(&out);
    buf_free(&s.env);
    hre_key_free(r);
}
END_TEST

static size_t chunk_off(size_t i) { return HRE_VAULT_HEADER_LEN + i * HRE_VAULT_CHUNK_WIRE_LEN; }

START_TEST(test_tamper_envelope_big)
{
    hre_key *r = genkey();
    hre_vault_seal_params p;
    sealed s, other;
    buf out = {0};
    size_t n = 5 * 65532 + 1000, nchunks;
    uint8_t *doc = malloc(n), *t;
    hre_t_reseed(hre_t_seed() ^ 0x7a3e0002);
    rand_doc(doc, n, 0);
    seal_params(&p, HRE_VAULT_COMPRESS_NEVER);
    seal_doc(&s, &p, doc, n, &r, 1, 0);
    seal_doc(&other, &p, doc, n, &r, 1, 0);      /* same document and locator, another data key */
    nchunks = (s.env.n - HRE_VAULT_HEADER_LEN + HRE_VAULT_CHUNK_WIRE_LEN - 1) / HRE_VAULT_CHUNK_WIRE_LEN;
    ck_assert_uint_ge(nchunks, 6);
    HRE_T_OK(open_env(&out, &s.wrap[0], r, s.env.p, s.env.n, 0, 0, NULL));
    ck_assert_uint_eq(out.n, n);
    ck_assert_mem_eq(out.p, doc, n);
    /* sampled positions: the whole header, every chunk's first and last bytes, random ones */
    for (size_t pos = 0; pos < HRE_VAULT_HEADER_LEN; pos++) tamper_at(&s, r, pos, &out);
    for (size_t i = 0; i < nchunks; i++) {
        size_t a = chunk_off(i), b = i + 1 < nchunks ? chunk_off(i + 1) : s.env.n;
        tamper_at(&s, r, a, &out);
        tamper_at(&s, r, a + 4, &out);
        tamper_at(&s, r, b - 17, &out);
        tamper_at(&s, r, b - 1, &out);
    }
    for (int k = 0; k < 200; k++) tamper_at(&s, r, (size_t)hre_t_rand_below(s.env.n), &out);
    t = malloc(s.env.n + HRE_VAULT_CHUNK_WIRE_LEN);
    /* reorder two full chunks */
    memcpy(t, s.env.p, s.env.n);
    memcpy(t + chunk_off(1), s.env.p + chunk_off(2), HRE_VAULT_CHUNK_WIRE_LEN);
    memcpy(t + chunk_off(2), s.env.p + chunk_off(1), HRE_VAULT_CHUNK_WIRE_LEN);
    ck_assert_int_eq(open_env(&out, &s.wrap[0], r, t, s.env.n, 0, 0, NULL), HRE_EDECRYPT);
    /* drop the final chunk: the last full chunk is not a final one */
    ck_assert_int_eq(open_env(&out, &s.wrap[0], r, s.env.p, chunk_off(nchunks - 1), 0, 0, NULL), HRE_EDECRYPT);
    /* drop a middle chunk */
    memcpy(t, s.env.p, chunk_off(2));
    memcpy(t + chunk_off(2), s.env.p + chunk_off(3), s.env.n - chunk_off(3));
    ck_assert_int_eq(open_env(&out, &s.wrap[0], r, t, s.env.n - HRE_VAULT_CHUNK_WIRE_LEN, 0, 0, NULL),
                     HRE_EDECRYPT);
    /* duplicate a chunk (extension by a whole chunk) */
    memcpy(t, s.env.p, chunk_off(3));
    memcpy(t + chunk_off(3), s.env.p + chunk_off(2), s.env.n - chunk_off(2));
    ck_assert_int_eq(open_env(&out, &s.wrap[0], r, t, s.env.n + HRE_VAULT_CHUNK_WIRE_LEN, 0, 0, NULL),
                     HRE_EDECRYPT);
    /* splice a chunk of another envelope of the same document and locator */
    memcpy(t, s.env.p, s.env.n);
    memcpy(t + chunk_off(1), other.env.p + chunk_off(1), HRE_VAULT_CHUNK_WIRE_LEN);
    ck_assert_int_eq(open_env(&out, &s.wrap[0], r, t, s.env.n, 0, 0, NULL), HRE_EDECRYPT);
    /* the other envelope's header with this key: the key commitment */
    memcpy(t, s.env.p, s.env.n);
    memcpy(t, other.env.p, HRE_VAULT_HEADER_LEN);
    ck_assert_int_eq(open_env(&out, &s.wrap[0], r, t, s.env.n, 0, 0, NULL), HRE_EDECRYPT);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "key commitment"));
    /* a wrap of the other envelope does not open this one (doc_hash in the aad) */
    {
        hre_vault_wrap w = other.wrap[0];
        memcpy(w.doc_hash, s.hash, 32);
        ck_assert_int_eq(open_env(&out, &w, r, s.env.p, s.env.n, 0, 0, NULL), HRE_EDECRYPT);
    }
    free(t);
    free(doc);
    buf_free(&out);
    buf_free(&s.env);
    buf_free(&other.env);
    hre_key_free(r);
}
END_TEST

START_TEST(test_tamper_wrap)
{
    hre_key *r = genkey(), *sender = genkey();
    hre_vault_seal_params p;
    sealed s;
    buf out = {0};
    uint8_t doc[700], enc[HRE_VAULT_WRAP_LEN];
    size_t len = sizeof enc;
    hre_t_reseed(hre_t_seed() ^ 0x7a3e0003);
    rand_doc(doc, sizeof doc, 1);
    seal_params(&p, HRE_VAULT_COMPRESS_AUTO);
    p.sender_key = sender;
    p.sender_type = HRE_VAULT_READER_ORG;
    memset(p.sender_id, 0x33, 32);
    seal_doc(&s, &p, doc, sizeof doc, &r, 1, 0);
    HRE_T_OK(hre_vault_wrap_encode(&s.wrap[0], enc, &len));
    for (size_t pos = 0; pos < sizeof enc; pos++) {
        uint8_t t[HRE_VAULT_WRAP_LEN];
        hre_vault_wrap w;
        int rc;
        uint8_t x = (uint8_t)(1 + hre_t_rand_below(255));
        memcpy(t, enc, sizeof t);
        t[pos] ^= x;
        rc = hre_vault_wrap_decode(&w, t, sizeof t);
        if (rc == HRE_OK) rc = open_env(&out, &w, r, s.env.p, s.env.n, 0, 0, NULL);
        /* decode refusals in the structural bytes, decryption refusals in the bound ones */
        if (pos < 4 || pos == 5 || pos == 140)
            ck_assert_msg(rc == HRE_EDECODE, "wrap byte %zu: %d", pos, rc);
        else if (pos == 4)
            ck_assert_msg(rc == HRE_EDECODE || rc == HRE_EUNSUPPORTED, "wrap byte 4: %d", rc);
        else if (pos == 74 || pos == 107 || (pos >= 70 && pos < 74) || (pos >= 141 && pos < 239))
            ck_assert_msg(rc == HRE_EDECODE || rc == HRE_EDECRYPT, "wrap byte %zu: %d", pos, rc);
        else
            ck_assert_msg(rc == HRE_EDECRYPT, "wrap byte %zu: %d (%s)", pos, rc, hre_error_detail());
    }
    /* the expected sender: right key passes, another key or a base-mode wrap fails */
    {
        hre_vault_open_params op = HRE_VAULT_OPEN_PARAMS_INIT;
        hre_vault_opener *o = NULL;
        hre_pubkey *sp = pub(sender), *rp = pub(r);
        op.wrap = &s.wrap[0];
        op.reader_key = r;
        op.expected_sender = sp;
        HRE_T_OK(hre_vault_opener_new(&o, &op, buf_sink, &out));
        hre_vault_opener_free(o);
        op.expected_sender = rp;
        ck_assert_int_eq(hre_vault_opener_new(&o, &op, buf_sink, &out), HRE_EAUTH);
        ck_assert_ptr_null(o);
        hre_pubkey_free(sp);
        hre_pubkey_free(rp);
    }
    buf_free(&out);
    buf_free(&s.env);
    hre_key_free(r);
    hre_key_free(sender);
}
END_TEST

START_TEST(test_opener_args)
{
    hre_key *r = genkey();
    hre_vault_seal_params p;
    hre_vault_sealer *sl = NULL;
    hre_vault_opener *o = NULL;
    hre_vault_open_params op = HRE_VAULT_OPEN_PARAMS_INIT;
    sealed s;
    buf out = {0}, sink_fail = {0};
    uint8_t doc[100000];
    hre_t_reseed(hre_t_seed() ^ 0x7a3e0004);
    rand_doc(doc, sizeof doc, 0);
    seal_params(&p, HRE_VAULT_COMPRESS_NEVER);
    /* params refused */
    p.doc_version = 0;
    ck_assert_int_eq(hre_vault_sealer_new(&sl, &p, buf_sink, &out), HRE_EINVAL);
    p.doc_version = 1;
    p.media_type = "text/\x01";
    ck_assert_int_eq(hre_vault_sealer_new(&sl, &p, buf_sink, &out), HRE_EINVAL);
    p.media_type = NULL;
    p.compress = 3;
    ck_assert_int_eq(hre_vault_sealer_new(&sl, &p, buf_sink, &out), HRE_EINVAL);
    p.compress = 0;
    p.compress_level = 10;
    ck_assert_int_eq(hre_vault_sealer_new(&sl, &p, buf_sink, &out), HRE_EINVAL);
    p.compress_level = 0;
    p.version = 2;
    ck_assert_int_eq(hre_vault_sealer_new(&sl, &p, buf_sink, &out), HRE_EUNSUPPORTED);
    p.version = HRE_VAULT_SEAL_PARAMS_VERSION;
    ck_assert_int_eq(hre_vault_sealer_new(&sl, &p, NULL, &out), HRE_EINVAL);
    ck_assert_ptr_null(sl);
    /* a secp256k1 sender key is refused */
    {
        hre_key *k1 = NULL;
        HRE_T_OK(hre_key_generate(&k1, HRE_CURVE_SECP256K1));
        p.sender_key = k1;
        ck_assert_int_eq(hre_vault_sealer_new(&sl, &p, buf_sink, &out), HRE_EINVAL);
        p.sender_key = NULL;
        hre_key_free(k1);
    }
    /* a sink error stops the sealer for good */
    sink_fail.fail_after = 1;
    HRE_T_OK(hre_vault_sealer_new(&sl, &p, buf_sink, &sink_fail));
    ck_assert_int_eq(hre_vault_sealer_write(sl, doc, sizeof doc), HRE_ECANCELED);
    ck_assert_int_eq(hre_vault_sealer_write(sl, doc, 1), HRE_ESTATE);
    {
        uint8_t h[32];
        ck_assert_int_eq(hre_vault_sealer_finish(sl, h, NULL), HRE_ESTATE);
        for (int i = 0; i < 32; i++) ck_assert_uint_eq(h[i], 0);
    }
    hre_vault_sealer_free(sl);
    sl = NULL;
    /* wrap before finish; finish twice */
    HRE_T_OK(hre_vault_sealer_new(&sl, &p, buf_sink, &out));
    {
        hre_vault_wrap w;
        hre_pubkey *rk = pub(r);
        uint8_t id[32] = {1}, h[32];
        ck_assert_int_eq(hre_vault_sealer_wrap(sl, &w, 0, id, rk), HRE_ESTATE);
        HRE_T_OK(hre_vault_sealer_finish(sl, h, NULL));
        ck_assert_int_eq(hre_vault_sealer_finish(sl, h, NULL), HRE_ESTATE);
        ck_assert_int_eq(hre_vault_sealer_wrap(sl, &w, 2, id, rk), HRE_EINVAL);
        HRE_T_OK(hre_vault_sealer_wrap(sl, &w, 0, id, rk));
        hre_pubkey_free(rk);
    }
    hre_vault_sealer_free(sl);
    buf_free(&out);
    /* opener: params, limits, sink errors */
    seal_doc(&s, &p, doc, sizeof doc, &r, 1, 0);
    ck_assert_int_eq(hre_vault_opener_new(&o, &op, buf_sink, &out), HRE_EINVAL);
    op.wrap = &s.wrap[0];
    op.reader_key = r;
    op.flags = 0x80;
    ck_assert_int_eq(hre_vault_opener_new(&o, &op, buf_sink, &out), HRE_EINVAL);
    op.flags = 0;
    op.version = 0;
    ck_assert_int_eq(hre_vault_opener_new(&o, &op, buf_sink, &out), HRE_EUNSUPPORTED);
    op.version = HRE_VAULT_OPEN_PARAMS_VERSION;
    op.max_doc_len = sizeof doc - 1;
    HRE_T_OK(hre_vault_opener_new(&o, &op, buf_sink, &out));
    {
        int rc = hre_vault_opener_write(o, s.env.p, s.env.n);
        if (rc == HRE_OK) rc = hre_vault_opener_finish(o, NULL);
        ck_assert_int_eq(rc, HRE_ELIMIT);
    }
    ck_assert_int_eq(hre_vault_opener_write(o, s.env.p, 1), HRE_ESTATE);
    ck_assert_int_eq(hre_vault_opener_finish(o, NULL), HRE_ESTATE);
    hre_vault_opener_free(o);
    op.max_doc_len = 0;
    sink_fail.fail_after = 1;
    sink_fail.calls = 0;
    HRE_T_OK(hre_vault_opener_new(&o, &op, buf_sink, &sink_fail));
    {
        int rc = hre_vault_opener_write(o, s.env.p, s.env.n);
        if (rc == HRE_OK) rc = hre_vault_opener_finish(o, NULL);
        ck_assert_int_eq(rc, HRE_ECANCELED);
    }
    hre_vault_opener_free(o);
    {
        hre_vault_content c;
        c.version = 9;
        HRE_T_OK(hre_vault_opener_new(&o, &op, buf_sink, &out));
        HRE_T_OK(hre_vault_opener_write(o, s.env.p, s.env.n));
        ck_assert_int_eq(hre_vault_opener_finish(o, &c), HRE_EUNSUPPORTED);
        c.version = 1;
        HRE_T_OK(hre_vault_opener_finish(o, &c));
        ck_assert_uint_eq(c.doc_len, sizeof doc);
        hre_vault_opener_free(o);
    }
    HRE_T_OK(hre_vault_content_init(&s.content, 1));
    ck_assert_int_eq(hre_vault_content_init(&s.content, 2), HRE_EUNSUPPORTED);
    buf_free(&out);
    buf_free(&sink_fail);
    buf_free(&s.env);
    hre_key_free(r);
}
END_TEST

#ifdef HRE_WHITEBOX
/* Forge an envelope whose chunks carry the given plaintexts (white-box: a
 * key holder can write any authenticated content; the opener must still
 * refuse malformed framing with HRE_EDECODE). */
static void forge(buf *env, hre_vault_wrap *w, uint8_t key[32], const uint8_t *const *pts,
                  const size_t *lens, size_t n)
{
    hre_vault_header h;
    uint8_t ck[32], hb[82], aad[87], nonce[12];
    hre_aead *a = NULL;
    memset(&h, 0, sizeof h);
    h.format = 1;
    h.chunk_log2 = 16;
    memset(h.locator, 0x4c, 32);
    h.doc_version = 1;
    hre_t_rand_bytes(key, 32);
    hre_t_rand_bytes(h.nonce_prefix, 7);
    ck_assert_int_eq(hre_vault__derive(ck, h.key_commit, key), HRE_OK);
    hre_vault__header_put(hb, &h);
    env->n = 0;
    ck_assert_int_eq(buf_sink(env, hb, 82), 0);
    HRE_T_OK(hre_aead_new(&a, ck, 32));
    for (size_t i = 0; i < n; i++) {
        uint8_t *c = malloc(lens[i] + 16);
        hre_vault__chunk_nonce(nonce, h.nonce_prefix, (uint32_t)i, i + 1 == n);
        memcpy(aad, hb, 82);
        hre__put_le32(aad + 82, (uint32_t)i);
        aad[86] = i + 1 == n;
        HRE_T_OK(hre_aead_seal(a, c, c + lens[i], 16, nonce, 12, aad, 87, pts[i], lens[i]));
        ck_assert_int_eq(buf_sink(env, c, lens[i] + 16), 0);
        free(c);
    }
    hre_aead_free(a);
    memset(w, 0, sizeof *w);
    HRE_T_OK(hre_sha256(w->doc_hash, env->p, env->n));
    memcpy(w->locator, h.locator, 32);
    w->doc_version = 1;
}

static int open_forged(const uint8_t *const *pts, const size_t *lens, size_t n, buf *out)
{
    buf env = {0};
    hre_vault_wrap w;
    hre_vault_opener *o = NULL;
    uint8_t key[32];
    int rc;
    forge(&env, &w, key, pts, lens, n);
    ck_assert_int_eq(hre_vault__opener_new_key(&o, key, &w, 0, 0, buf_sink, out), HRE_OK);
    out->n = 0;
    rc = hre_vault__opener_write(o, env.p, env.n);
    if (rc == HRE_OK) rc = hre_vault__opener_finish(o, NULL);
    hre_vault__opener_free(o);
    buf_free(&env);
    return rc;
}

/* One chunk: u32 dlen, then meta + body + zeros up to cap bytes. */
static size_t one_chunk(uint8_t *pt, uint32_t dlen, const uint8_t *payload, size_t plen, size_t cap)
{
    hre__put_le32(pt, dlen);
    memset(pt + 4, 0, cap);
    memcpy(pt + 4, payload, plen);
    return 4 + cap;
}

START_TEST(test_forged_framing)
{
    uint8_t *pt = calloc(1, 65536), *pt2 = calloc(1, 65536);
    const uint8_t *pts[2] = {pt, pt2};
    size_t lens[2];
    buf out = {0};
    uint8_t raw[] = {0, 4, 't', 'e', 'x', 't', 'h', 'i'};
    /* the honest form opens */
    lens[0] = one_chunk(pt, sizeof raw, raw, sizeof raw, 512);
    HRE_T_OK(open_forged(pts, lens, 1, &out));
    ck_assert_uint_eq(out.n, 2);
    ck_assert_mem_eq(out.p, "hi", 2);
    /* a length over the chunk */
    lens[0] = one_chunk(pt, 513, raw, sizeof raw, 512);
    ck_assert_int_eq(open_forged(pts, lens, 1, &out), HRE_EDECODE);
    /* nonzero padding */
    lens[0] = one_chunk(pt, sizeof raw, raw, sizeof raw, 512);
    pt[4 + 300] = 1;
    ck_assert_int_eq(open_forged(pts, lens, 1, &out), HRE_EDECODE);
    /* padded length not the payload's bucket */
    lens[0] = one_chunk(pt, sizeof raw, raw, sizeof raw, 600);
    ck_assert_int_eq(open_forged(pts, lens, 1, &out), HRE_EDECODE);
    /* unknown body format, media length, media byte */
    raw[0] = 2;
    lens[0] = one_chunk(pt, sizeof raw, raw, sizeof raw, 512);
    ck_assert_int_eq(open_forged(pts, lens, 1, &out), HRE_EDECODE);
    raw[0] = 0;
    raw[1] = 200;
    lens[0] = one_chunk(pt, sizeof raw, raw, sizeof raw, 512);
    ck_assert_int_eq(open_forged(pts, lens, 1, &out), HRE_EDECODE);
    raw[1] = 4;
    raw[3] = 0x7f;
    lens[0] = one_chunk(pt, sizeof raw, raw, sizeof raw, 512);
    ck_assert_int_eq(open_forged(pts, lens, 1, &out), HRE_EDECODE);
    raw[3] = 'e';
    /* the payload ends inside the media type */
    lens[0] = one_chunk(pt, 4, raw, 4, 512);
    ck_assert_int_eq(open_forged(pts, lens, 1, &out), HRE_EDECODE);
    /* zlib: garbage, truncated, trailing bytes after the stream */
    {
        uint8_t z[64] = {1, 0};
        uLongf zl = sizeof z - 2;
        ck_assert_int_eq(compress2(z + 2, &zl, (const Bytef *)"hello hello hello", 17, 6), Z_OK);
        lens[0] = one_chunk(pt, (uint32_t)(2 + zl), z, 2 + zl, 512);
        HRE_T_OK(open_forged(pts, lens, 1, &out));
        ck_assert_uint_eq(out.n, 17);
        lens[0] = one_chunk(pt, (uint32_t)(2 + zl - 3), z, 2 + zl - 3, 512);
        ck_assert_int_eq(open_forged(pts, lens, 1, &out), HRE_EDECODE);
        z[2 + zl] = 0x55;
        lens[0] = one_chunk(pt, (uint32_t)(2 + zl + 1), z, 2 + zl + 1, 512);
        ck_assert_int_eq(open_forged(pts, lens, 1, &out), HRE_EDECODE);
        z[4] ^= 0xff;
        lens[0] = one_chunk(pt, (uint32_t)(2 + zl), z, 2 + zl, 512);
        ck_assert_int_eq(open_forged(pts, lens, 1, &out), HRE_EDECODE);
    }
    /* two chunks: payload after the padding began, an empty final chunk */
    {
        uint8_t big[65532];
        memset(big, 'a', sizeof big);
        big[0] = 0;
        big[1] = 0;
        lens[0] = one_chunk(pt, 100, big, 100, 65532);
        lens[1] = one_chunk(pt2, 10, big, 10, 65532 * 0 + 4000);
        ck_assert_int_eq(open_forged(pts, lens, 2, &out), HRE_EDECODE);
        lens[0] = one_chunk(pt, 65532, big, 65532, 65532);
        lens[1] = one_chunk(pt2, 0, big, 0, 0);
        ck_assert_int_eq(open_forged(pts, lens, 2, &out), HRE_EDECODE);
    }
    /* the hash check: an envelope other than the wrap's (same key) */
    {
        buf env = {0};
        hre_vault_wrap w;
        hre_vault_opener *o = NULL;
        uint8_t key[32];
        lens[0] = one_chunk(pt, sizeof raw, raw, sizeof raw, 512);
        forge(&env, &w, key, pts, lens, 1);
        w.doc_hash[0] ^= 1;
        ck_assert_int_eq(hre_vault__opener_new_key(&o, key, &w, 0, 0, buf_sink, &out), HRE_OK);
        ck_assert_int_eq(hre_vault__opener_write(o, env.p, env.n), HRE_OK);
        ck_assert_int_eq(hre_vault__opener_finish(o, NULL), HRE_EVERIFY);
        hre_vault__opener_free(o);
        ck_assert_int_eq(hre_vault__opener_new_key(&o, key, &w, HRE_VAULT_OPEN_NO_HASH, 0, buf_sink, &out), HRE_OK);
        ck_assert_int_eq(hre_vault__opener_write(o, env.p, env.n), HRE_OK);
        ck_assert_int_eq(hre_vault__opener_finish(o, NULL), HRE_OK);
        hre_vault__opener_free(o);
        buf_free(&env);
    }
    buf_free(&out);
    free(pt);
    free(pt2);
}
END_TEST

/* Allocation failures anywhere in seal and open fail cleanly. */
START_TEST(test_alloc_failures)
{
    hre_key *r = genkey();
    hre_vault_seal_params p;
    uint8_t doc[150000];
    rand_doc(doc, sizeof doc, 1);
    seal_params(&p, HRE_VAULT_COMPRESS_AUTO);
    for (long n = 0; n < 400; n++) {
        hre_vault_sealer *sl = NULL;
        buf env = {0};
        uint8_t h[32];
        hre_vault_wrap w;
        hre_pubkey *rk = pub(r);
        uint8_t id[32] = {9};
        int rc;
        hre_test__alloc_fail_after(n);
        rc = hre_vault_sealer_new(&sl, &p, buf_sink, &env);
        if (rc == HRE_OK) rc = hre_vault_sealer_write(sl, doc, sizeof doc);
        if (rc == HRE_OK) rc = hre_vault_sealer_finish(sl, h, NULL);
        if (rc == HRE_OK) rc = hre_vault_sealer_wrap(sl, &w, 0, id, rk);
        hre_test__alloc_fail_after(-1);
        hre_vault_sealer_free(sl);
        if (rc == HRE_OK) {
            buf out = {0};
            for (long m = 0; m < 100; m++) {
                hre_test__alloc_fail_after(m);
                rc = open_env(&out, &w, r, env.p, env.n, 0, 0, NULL);
                hre_test__alloc_fail_after(-1);
                if (rc == HRE_OK) break;
                ck_assert_msg(rc == HRE_ENOMEM || rc == HRE_ECRYPTO, "open with alloc failure %ld: %d", m, rc);
            }
            ck_assert_int_eq(rc, HRE_OK);
            ck_assert_uint_eq(out.n, sizeof doc);
            buf_free(&out);
        } else {
            ck_assert_msg(rc == HRE_ENOMEM || rc == HRE_ECRYPTO, "seal with alloc failure %ld: %d", n, rc);
        }
        hre_pubkey_free(rk);
        buf_free(&env);
        if (rc == HRE_OK && n > 60) break;
    }
    hre_key_free(r);
}
END_TEST
#endif
/* ------------------------------------------------------------------------ */
/* Suite                                                                     */
/* ------------------------------------------------------------------------ */

Suite *hre_suite_vault(void);
Suite *hre_suite_vault(void)
{
    Suite *s = suite_create("vault");
    TCase *tc = tcase_create("codecs");
    tcase_add_test(tc, test_error_codes);
    tcase_add_test(tc, test_buckets);
    tcase_add_test(tc, test_header_codec);
    tcase_add_test(tc, test_wrap_codec);
    suite_add_tcase(s, tc);
    tc = tcase_create("seal_open");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_roundtrip_sizes);
    tcase_add_test(tc, test_opener_args);
    suite_add_tcase(s, tc);
    tc = tcase_create("tamper");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_tamper_envelope_small);
    tcase_add_test(tc, test_tamper_envelope_big);
    tcase_add_test(tc, test_tamper_wrap);
#ifdef HRE_WHITEBOX
    tcase_add_test(tc, test_forged_framing);
    tcase_add_test(tc, test_alloc_failures);
#endif
    suite_add_tcase(s, tc);
    return s;
}
