/*
 * Suite "vault": encrypted documents, wraps, the crash-safe store, access
 * rules and erasure (include/hre/vault.h, docs/PROTOCOL.md section 14).
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
#include <dirent.h>

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
/* A network: contract (direct) or ledger, with the seed scenario's people   */
/* ------------------------------------------------------------------------ */

#define EASY 0x207fffffu

typedef struct vw {
    uint8_t net[32];
    hre_contract *c;                  /* direct mode */
    hre_ledger *l;                    /* ledger mode */
    hre_chain_params params;
    hre_vault *ev_vault;              /* ledger events go here */
    size_t erased_events;
    uint64_t now;
    hre_key *auth, *hadmin, *ladmin, *cadmin, *doctor, *outsider, *patient, *stranger, *noenc;
    hre_key *e_patient, *e_hosp, *e_lab, *e_doctor, *e_outsider, *e_stranger;
    uint8_t a_hadmin[32], a_ladmin[32], a_doctor[32], a_outsider[32], a_patient[32], a_stranger[32],
        a_noenc[32];
    uint8_t hosp[32], lab[32], clinic[32];
} vw;

static void addr_of(uint8_t out[32], const hre_key *k)
{
    uint8_t e[34];
    keyenc(e, k);
    HRE_T_OK(hre_contract_address(out, e));
}

static const hre_contract *vw_c(vw *w)
{
    const hre_contract *c = NULL;
    if (w->c) return w->c;
    HRE_T_OK(hre_ledger_contract(w->l, &c));
    return c;
}

static uint64_t vw_nonce(vw *w, const hre_key *k)
{
    uint8_t e[34];
    hre_contract_account a = HRE_CONTRACT_ACCOUNT_INIT;
    keyenc(e, k);
    if (hre_contract_account_by_key(vw_c(w), &a, NULL, e) != HRE_OK) return 0;
    return a.nonce;
}

/* Apply (direct) or submit and mine one block (ledger); frees tx. */
static void vw_run(vw *w, hre_tx *tx, uint8_t txid[32])
{
    ck_assert_ptr_nonnull(tx);
    if (txid) HRE_T_OK(hre_tx_txid(tx, txid));
    w->now += 60;
    if (w->c) {
        HRE_T_OK(hre_contract_apply(w->c, tx, w->now, 0));
    } else {
        uint8_t b[4096];
        size_t len = sizeof b;
        hre_ledger_status st;
        HRE_T_OK(hre_tx_encode(tx, b, &len));
        HRE_T_OK(hre_ledger_submit_tx(w->l, NULL, &st, b, len, w->now));
        HRE_T_OK(hre_ledger_mine(w->l, NULL, &st, w->now, HRE_POW_ALL_NONCES, 0));
        ck_assert_int_eq(st, HRE_LEDGER_CONNECTED);
    }
    hre_tx_free(tx);
}

static void on_ledger_event(void *ud, const hre_ledger_event *ev)
{
    vw *w = ud;
    if (ev->type != HRE_LEDGER_EVENT_CONTRACT || !w->ev_vault) return;
    if (ev->contract->type == HRE_EVENT_RECORD_ERASED) w->erased_events++;
    /* the vault never calls into the ledger: safe inside its callback (a
     * nested call: the outer ledger call owns the thread's error state) */
    ck_assert_int_eq(hre_vault_handle_event(w->ev_vault, ev->contract), HRE_OK);
}

static hre_tx *b_org(vw *w, uint8_t type, const char *name, const hre_key *admin)
{
    hre_register_org_payload p;
    hre_tx *tx = NULL;
    memset(&p, 0, sizeof p);
    p.org_type = type;
    p.name = (const uint8_t *)name;
    p.name_len = strlen(name);
    keyenc(p.admin_key, admin);
    HRE_T_OK(hre_contract_build_register_org(&tx, w->net, w->auth, vw_nonce(w, w->auth), w->now, &p));
    return tx;
}

static hre_tx *b_doctor(vw *w, const hre_key *admin, const hre_key *doc)
{
    hre_register_doctor_payload p;
    hre_tx *tx = NULL;
    keyenc(p.doctor_key, doc);
    HRE_T_OK(hre_contract_build_register_doctor(&tx, w->net, admin, vw_nonce(w, admin), w->now, &p));
    return tx;
}

static hre_tx *b_patient(vw *w, const hre_key *k)
{
    hre_register_patient_payload p = {0};
    hre_tx *tx = NULL;
    HRE_T_OK(hre_contract_build_register_patient(&tx, w->net, k, vw_nonce(w, k), w->now, &p));
    return tx;
}

static hre_tx *b_enc(vw *w, const hre_key *s, uint8_t ttype, const uint8_t target[32], const hre_key *enc)
{
    hre_set_enc_key_payload p;
    hre_tx *tx = NULL;
    p.target_type = ttype;
    memcpy(p.target, target, 32);
    keyenc(p.enc_key, enc);
    HRE_T_OK(hre_contract_build_set_enc_key(&tx, w->net, s, vw_nonce(w, s), w->now, &p));
    return tx;
}

static hre_tx *b_grant(vw *w, const uint8_t reader[32], uint64_t expiry)
{
    hre_grant_payload p;
    hre_tx *tx = NULL;
    memset(&p, 0, sizeof p);
    p.reader_type = HRE_READER_ACCOUNT;
    memcpy(p.reader, reader, 32);
    p.scope = HRE_SCOPE_ALL;
    p.expiry = expiry;
    HRE_T_OK(hre_contract_build_grant(&tx, w->net, w->patient, vw_nonce(w, w->patient), w->now, &p));
    return tx;
}

static hre_tx *b_revoke(vw *w, const uint8_t grant[32])
{
    hre_revoke_payload p;
    hre_tx *tx = NULL;
    memcpy(p.grant_id, grant, 32);
    HRE_T_OK(hre_contract_build_revoke(&tx, w->net, w->patient, vw_nonce(w, w->patient), w->now, &p));
    return tx;
}

static hre_tx *b_erase(vw *w, const uint8_t rec[32])
{
    hre_erase_record_payload p;
    hre_tx *tx = NULL;
    memcpy(p.record_id, rec, 32);
    HRE_T_OK(hre_contract_build_erase_record(&tx, w->net, w->patient, vw_nonce(w, w->patient), w->now, &p));
    return tx;
}

static hre_tx *b_sign(vw *w, const hre_key *admin, const uint8_t rec[32])
{
    hre_sign_record_payload p;
    hre_tx *tx = NULL;
    memcpy(p.record_id, rec, 32);
    HRE_T_OK(hre_contract_build_sign_record(&tx, w->net, admin, vw_nonce(w, admin), w->now, &p));
    return tx;
}

static void vw_people(vw *w)
{
    hre_key **ks[] = {&w->auth, &w->hadmin, &w->ladmin, &w->cadmin, &w->doctor, &w->outsider, &w->patient,
                      &w->stranger, &w->noenc, &w->e_patient, &w->e_hosp, &w->e_lab, &w->e_doctor,
                      &w->e_outsider, &w->e_stranger};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) *ks[i] = genkey();
    addr_of(w->a_hadmin, w->hadmin);
    addr_of(w->a_ladmin, w->ladmin);
    addr_of(w->a_doctor, w->doctor);
    addr_of(w->a_outsider, w->outsider);
    addr_of(w->a_patient, w->patient);
    addr_of(w->a_stranger, w->stranger);
    addr_of(w->a_noenc, w->noenc);
    w->now = T0;
}

static void vw_scenario(vw *w)
{
    vw_run(w, b_org(w, HRE_ORG_HOSPITAL, "City Hospital", w->hadmin), w->hosp);
    vw_run(w, b_org(w, HRE_ORG_LAB, "Central Lab", w->ladmin), w->lab);
    vw_run(w, b_org(w, HRE_ORG_CLINIC, "Far Clinic", w->cadmin), w->clinic);
    vw_run(w, b_doctor(w, w->hadmin, w->doctor), NULL);
    vw_run(w, b_doctor(w, w->cadmin, w->outsider), NULL);
    vw_run(w, b_patient(w, w->patient), NULL);
    vw_run(w, b_patient(w, w->stranger), NULL);
    vw_run(w, b_patient(w, w->noenc), NULL);
    vw_run(w, b_enc(w, w->patient, HRE_ENC_TARGET_ACCOUNT, w->a_patient, w->e_patient), NULL);
    vw_run(w, b_enc(w, w->hadmin, HRE_ENC_TARGET_ORG, w->hosp, w->e_hosp), NULL);
    vw_run(w, b_enc(w, w->ladmin, HRE_ENC_TARGET_ORG, w->lab, w->e_lab), NULL);
    vw_run(w, b_enc(w, w->doctor, HRE_ENC_TARGET_ACCOUNT, w->a_doctor, w->e_doctor), NULL);
    vw_run(w, b_enc(w, w->outsider, HRE_ENC_TARGET_ACCOUNT, w->a_outsider, w->e_outsider), NULL);
    vw_run(w, b_enc(w, w->stranger, HRE_ENC_TARGET_ACCOUNT, w->a_stranger, w->e_stranger), NULL);
}

static vw *vw_new(void)
{
    hre_contract_options o;
    vw *w = calloc(1, sizeof *w);
    vw_people(w);
    memset(w->net, 0x61, 32);
    HRE_T_OK(hre_contract_options_init(&o, HRE_CONTRACT_OPTIONS_VERSION));
    memcpy(o.network_id, w->net, 32);
    keyenc(o.authority_key, w->auth);
    HRE_T_OK(hre_contract_new(&w->c, &o));
    vw_scenario(w);
    return w;
}

/* Ledger mode on `st` (shared with a vault when the caller wants). */
static vw *vw_new_ledger(hre_storage *st, hre_vault *ev_vault)
{
    hre_ledger_options o;
    vw *w = calloc(1, sizeof *w);
    vw_people(w);
    HRE_T_OK(hre_chain_params_init(&w->params, HRE_CHAIN_PARAMS_VERSION));
    HRE_T_OK(hre_pow_target_from_compact(w->params.pow_limit, NULL, NULL, EASY));
    w->params.target_spacing = 600;
    w->params.retarget_interval = 1000000;
    w->params.max_block_size = 1000000;
    w->params.max_tx_count = 1000;
    w->params.genesis.version = 1;
    w->params.genesis.time = T0;
    w->params.genesis.bits = EASY;
    HRE_T_OK(hre_pow_mine(&w->params.genesis, NULL, 1000000));
    HRE_T_OK(hre_header_hash(&w->params.genesis, w->net));
    HRE_T_OK(hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    o.storage = st;
    o.params = &w->params;
    keyenc(o.authority_key, w->auth);
    o.on_event = on_ledger_event;
    o.user_data = w;
    HRE_T_OK(hre_ledger_open(&w->l, &o));
    w->ev_vault = ev_vault;
    vw_scenario(w);
    return w;
}

static void vw_free(vw *w)
{
    hre_key *ks[] = {w->auth, w->hadmin, w->ladmin, w->cadmin, w->doctor, w->outsider, w->patient,
                     w->stranger, w->noenc, w->e_patient, w->e_hosp, w->e_lab, w->e_doctor,
                     w->e_outsider, w->e_stranger};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) hre_key_free(ks[i]);
    hre_contract_free(w->c);
    hre_ledger_close(w->l);
    free(w);
}

static hre_vault *vopen(hre_storage *st, const char *prefix)
{
    hre_vault_options o = HRE_VAULT_OPTIONS_INIT;
    hre_vault *v = NULL;
    o.storage = st;
    o.prefix = prefix;
    HRE_T_OK(hre_vault_open(&v, &o));
    return v;
}

static hre_storage *mem(void)
{
    hre_storage *s = NULL;
    HRE_T_OK(hre_storage_memory_new(&s, 0));
    return s;
}

/* Store a document in v as the hospital: readers patient, hospital, lab. */
static void store_doc(vw *w, hre_vault *v, uint8_t hash[32], const uint8_t locator[32], uint32_t version,
                      const uint8_t *doc, size_t len)
{
    hre_vault_seal_params p;
    hre_vault_store *st = NULL;
    hre_vault_content c = HRE_VAULT_CONTENT_INIT;
    seal_params(&p, HRE_VAULT_COMPRESS_AUTO);
    memcpy(p.locator, locator, 32);
    p.doc_version = version;
    p.sender_type = HRE_VAULT_READER_ORG;
    memcpy(p.sender_id, w->hosp, 32);
    p.sender_key = w->e_hosp;
    HRE_T_OK(hre_vault_store_new(&st, v, &p));
    for (size_t off = 0; off < len;) {
        size_t n = len - off > 100000 ? 100000 : len - off;
        HRE_T_OK(hre_vault_store_write(st, doc + off, n));
        off += n;
    }
    HRE_T_OK(hre_vault_store_add_reader_by_id(st, vw_c(w), HRE_VAULT_READER_ACCOUNT, w->a_patient));
    HRE_T_OK(hre_vault_store_add_reader_by_id(st, vw_c(w), HRE_VAULT_READER_ORG, w->hosp));
    HRE_T_OK(hre_vault_store_add_reader_by_id(st, vw_c(w), HRE_VAULT_READER_ORG, w->lab));
    HRE_T_OK(hre_vault_store_commit(st, hash, &c));
    ck_assert_uint_eq(c.doc_len, len);
    hre_vault_store_free(st);
}

/* The hospital issues a record for the document (new_record + both signatures). */
static void issue(vw *w, uint8_t record[32], const uint8_t hash[32], const uint8_t locator[32],
                  const uint8_t *supersedes)
{
    static const uint8_t salt[32] = "per-record-salt-0123456789abcdef";
    static const char hn[] = "City Hospital";
    hre_new_record_payload p;
    hre_tx *tx = NULL;
    memset(&p, 0, sizeof p);
    memcpy(p.patient, w->a_patient, 32);
    memcpy(p.lab_org, w->lab, 32);
    HRE_T_OK(hre_contract_commit(p.commit_patient_id, HRE_COMMIT_PATIENT_ID, salt, 32, (const uint8_t *)"MRN-7", 5));
    HRE_T_OK(hre_contract_commit(p.commit_test_name, HRE_COMMIT_TEST_NAME, salt, 32, (const uint8_t *)"CBC", 3));
    p.date = T0;
    p.price = 100;
    p.category = 1;
    memcpy(p.doc_sha256, hash, 32);
    p.hospital_name = (const uint8_t *)hn;
    p.hospital_name_len = strlen(hn);
    memcpy(p.locator, locator, 32);
    if (supersedes) {
        p.has_supersedes = 1;
        memcpy(p.supersedes, supersedes, 32);
    }
    HRE_T_OK(hre_contract_build_new_record(&tx, w->net, w->hadmin, vw_nonce(w, w->hadmin), w->now, &p));
    vw_run(w, tx, record);
    vw_run(w, b_sign(w, w->hadmin, record), NULL);
    vw_run(w, b_sign(w, w->ladmin, record), NULL);
}

static int read_doc(hre_vault *v, buf *out, const uint8_t hash[32], uint8_t type, const uint8_t id[32],
                    const hre_key *k)
{
    hre_vault_content c = HRE_VAULT_CONTENT_INIT;
    out->n = 0;
    return hre_vault_read(v, &c, hash, type, id, k, buf_sink, out);
}

/* Open an envelope with public primitives only, as PROTOCOL.md 14 describes
 * it: HPKE unwrap with the documented info and aad, HKDF for the chunk key
 * and the key commitment, AES-GCM per chunk with the documented nonce and
 * AAD, the length prefixes, the meta and the body. Returns the payload (the
 * meta and the body as stored: the "compressed form") in *payload, the data
 * key in key, and the document in *doc. */
static void spec_open(const uint8_t *env, size_t n, const hre_vault_wrap *w, const hre_key *sk,
                      buf *payload, buf *doc, uint8_t key[32])
{
    uint8_t info[17 + 32 + 4 + 1 + 32 + 1 + 32], prk[32], ck[32], commit[32];
    hre_aead *a = NULL;
    size_t off = HRE_VAULT_HEADER_LEN;
    uint32_t idx = 0;
    memcpy(info, "HRE-VAULT-v1 wrap", 17);
    memcpy(info + 17, w->locator, 32);
    info[49] = (uint8_t)w->doc_version;
    info[50] = (uint8_t)(w->doc_version >> 8);
    info[51] = (uint8_t)(w->doc_version >> 16);
    info[52] = (uint8_t)(w->doc_version >> 24);
    info[53] = w->reader_type;
    memcpy(info + 54, w->reader_id, 32);
    info[86] = w->sender_type;
    memcpy(info + 87, w->sender_id, 32);
    if (w->mode == HRE_HPKE_MODE_AUTH) {
        hre_pubkey *spk = NULL;
        HRE_T_OK(hre_pubkey_parse_wire(&spk, w->sender_key));
        HRE_T_OK(hre_hpke_unwrap_auth(key, sk, spk, info, sizeof info, w->doc_hash, 32, w->hpke));
        hre_pubkey_free(spk);
    } else {
        HRE_T_OK(hre_hpke_unwrap(key, sk, info, sizeof info, w->doc_hash, 32, w->hpke));
    }
    HRE_T_OK(hre_hkdf_sha256_extract(prk, (const uint8_t *)"HRE-VAULT-v1", 12, key, 32));
    HRE_T_OK(hre_hkdf_sha256_expand(ck, 32, prk, 32, (const uint8_t *)"chunk key", 9));
    HRE_T_OK(hre_hkdf_sha256_expand(commit, 32, prk, 32, (const uint8_t *)"key commitment", 14));
    ck_assert_mem_eq(commit, env + 50, 32);
    ck_assert_mem_eq(env, "HREV\x01\x00\x10", 7);
    ck_assert_mem_eq(env + 7, w->locator, 32);
    HRE_T_OK(hre_aead_new(&a, ck, 32));
    payload->n = 0;
    while (off < n) {
        size_t clen = n - off > HRE_VAULT_CHUNK_WIRE_LEN ? HRE_VAULT_CHUNK_WIRE_LEN : n - off;
        int final = off + clen == n;
        uint8_t nonce[12], aad[87], *pt = malloc(clen);
        uint32_t dlen;
        memcpy(nonce, env + 43, 7);
        nonce[7] = (uint8_t)(idx >> 24);
        nonce[8] = (uint8_t)(idx >> 16);
        nonce[9] = (uint8_t)(idx >> 8);
        nonce[10] = (uint8_t)idx;
        nonce[11] = (uint8_t)final;
        memcpy(aad, env, 82);
        aad[82] = (uint8_t)idx;
        aad[83] = (uint8_t)(idx >> 8);
        aad[84] = (uint8_t)(idx >> 16);
        aad[85] = (uint8_t)(idx >> 24);
        aad[86] = (uint8_t)final;
        HRE_T_OK(hre_aead_open(a, pt, nonce, 12, aad, 87, env + off, clen - 16, env + off + clen - 16, 16));
        dlen = hre__le32_t(pt);
        ck_assert_uint_le(dlen, clen - 20);
        for (size_t j = 4 + dlen; j < clen - 16; j++) ck_assert_uint_eq(pt[j], 0);
        if (dlen) ck_assert_int_eq(buf_sink(payload, pt + 4, dlen), 0);
        free(pt);
        off += clen;
        idx++;
    }
    hre_aead_free(a);
    ck_assert_uint_ge(payload->n, 2);
    ck_assert_uint_le(payload->p[0], 1);
    {
        size_t body = 2 + payload->p[1];
        doc->n = 0;
        if (payload->p[0] == 0) {
            if (payload->n > body) ck_assert_int_eq(buf_sink(doc, payload->p + body, payload->n - body), 0);
        } else {
            z_stream z;
            uint8_t o[65536];
            int zr;
            memset(&z, 0, sizeof z);
            ck_assert_int_eq(inflateInit(&z), Z_OK);
            z.next_in = payload->p + body;
            z.avail_in = (uInt)(payload->n - body);
            do {
                z.next_out = o;
                z.avail_out = sizeof o;
                zr = inflate(&z, Z_NO_FLUSH);
                ck_assert(zr == Z_OK || zr == Z_STREAM_END);
                if (sizeof o - z.avail_out)
                    ck_assert_int_eq(buf_sink(doc, o, sizeof o - z.avail_out), 0);
            } while (zr != Z_STREAM_END);
            ck_assert_uint_eq(z.avail_in, 0);
            inflateEnd(&z);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* The FHIR corpus                                                           */
/* ------------------------------------------------------------------------ */

typedef struct corpus {
    char (*path)[512];
    size_t n;
} corpus;

static void corpus_load(corpus *c)
{
    const char *dir = getenv("HRE_FHIR_DIR");
    memset(c, 0, sizeof *c);
    c->path = calloc(256, sizeof *c->path);
    if (dir && *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        ck_assert_msg(d != NULL, "HRE_FHIR_DIR=%s cannot be opened", dir);
        while ((de = readdir(d)) && c->n < 256) {
            size_t l = strlen(de->d_name);
            if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
                snprintf(c->path[c->n++], 512, "%s/%s", dir, de->d_name);
        }
        closedir(d);
        ck_assert_uint_gt(c->n, 0);
        printf("vault: HRE_FHIR_DIR=%s: %zu bundles\n", dir, c->n);
        return;
    }
    {
        /* the in-tree copy: SHA256SUMS names every bundle and its hash */
        size_t len = 0;
        char *sums = hre_t_read_file(hre_t_data_path("fhir-stu3/SHA256SUMS"), &len);
        char *line, *save = NULL;
        ck_assert_msg(sums != NULL, "tests/data/fhir-stu3/SHA256SUMS is missing");
        for (line = strtok_r(sums, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            uint8_t want[32], got[32];
            size_t wl = 32, flen = 0;
            char *data;
            ck_assert_uint_gt(strlen(line), 66);
            HRE_T_OK(hre_hex_decode(want, &wl, line, 64));
            {
                char rel[300];
                snprintf(rel, sizeof rel, "fhir-stu3/%s", line + 66);
                snprintf(c->path[c->n], 512, "%s", hre_t_data_path(rel));
            }
            data = hre_t_read_file(c->path[c->n], &flen);
            ck_assert_msg(data != NULL, "%s is missing", c->path[c->n]);
            HRE_T_OK(hre_sha256(got, data, flen));
            ck_assert_msg(memcmp(got, want, 32) == 0, "%s differs from SHA256SUMS", c->path[c->n]);
            free(data);
            c->n++;
        }
        free(sums);
        ck_assert_uint_eq(c->n, 57);   /* every bundle of the set (README: "58"; 57 were distributed) */
    }
}

START_TEST(test_fhir_corpus)
{
    vw *w = vw_new();
    hre_storage *st = mem();
    hre_vault *v = vopen(st, NULL);
    corpus cp;
    buf out = {0}, payload = {0}, doc2 = {0};
    uint8_t (*hashes)[32];
    uint64_t total = 0, env_total = 0;
    corpus_load(&cp);
    hashes = calloc(cp.n, 32);
    for (size_t i = 0; i < cp.n; i++) {
        size_t len = 0;
        char *data = hre_t_read_file(cp.path[i], &len);
        uint8_t loc[32];
        hre_vault_entry e = HRE_VAULT_ENTRY_INIT;
        ck_assert_ptr_nonnull(data);
        hre_t_rand_bytes(loc, 32);
        store_doc(w, v, hashes[i], loc, 1, (const uint8_t *)data, len);
        HRE_T_OK(hre_vault_entry_get(v, &e, hashes[i]));
        ck_assert_uint_eq(e.wrap_count, 3);
        ck_assert_mem_eq(e.locator, loc, 32);
        /* every reader gets the bundle back byte for byte */
        HRE_T_OK(read_doc(v, &out, hashes[i], HRE_VAULT_READER_ACCOUNT, w->a_patient, w->e_patient));
        ck_assert_msg(out.n == len && memcmp(out.p, data, len) == 0, "%s differs after the vault", cp.path[i]);
        HRE_T_OK(read_doc(v, &out, hashes[i], HRE_VAULT_READER_ORG, w->hosp, w->e_hosp));
        ck_assert(out.n == len && memcmp(out.p, data, len) == 0);
        HRE_T_OK(read_doc(v, &out, hashes[i], HRE_VAULT_READER_ORG, w->lab, w->e_lab));
        ck_assert(out.n == len && memcmp(out.p, data, len) == 0);
        /* and the envelope opens by the spec alone */
        {
            hre_vault_wrap wr;
            uint8_t key[32];
            uint8_t *env = malloc(e.envelope_len);
            size_t elen = e.envelope_len;
            HRE_T_OK(hre_vault_envelope_read(v, env, &elen, hashes[i], 0));
            ck_assert_uint_eq(elen, e.envelope_len);
            HRE_T_OK(hre_vault_wrap_get(v, &wr, hashes[i], HRE_VAULT_READER_ACCOUNT, w->a_patient));
            spec_open(env, elen, &wr, w->e_patient, &payload, &doc2, key);
            ck_assert(doc2.n == len && memcmp(doc2.p, data, len) == 0);
            ck_assert_uint_eq(payload.p[0], 1);    /* JSON always compresses */
            ck_assert_uint_eq(elen, hre_vault_envelope_len(hre_vault_bucket(payload.n)));
            free(env);
        }
        total += len;
        env_total += e.envelope_len;
        free(data);
    }
    printf("vault: %zu FHIR bundles, %llu bytes -> %llu bytes of envelopes\n", cp.n,
           (unsigned long long)total, (unsigned long long)env_total);
    /* after a reopen: all there, hashes check out */
    hre_vault_close(v);
    v = vopen(st, NULL);
    {
        hre_vault_stats s = HRE_VAULT_STATS_INIT;
        uint64_t problems = 1;
        HRE_T_OK(hre_vault_stats_get(v, &s));
        ck_assert_uint_eq(s.documents, cp.n);
        ck_assert_uint_eq(s.envelope_bytes, env_total);
        HRE_T_OK(hre_vault_verify(v, &problems, HRE_VAULT_VERIFY_HASH));
        ck_assert_uint_eq(problems, 0);
    }
    for (size_t i = 0; i < cp.n; i += 7) {
        size_t len = 0;
        char *data = hre_t_read_file(cp.path[i], &len);
        HRE_T_OK(read_doc(v, &out, hashes[i], HRE_VAULT_READER_ORG, w->lab, w->e_lab));
        ck_assert(out.n == len && memcmp(out.p, data, len) == 0);
        free(data);
    }
    hre_vault_close(v);
    hre_storage_free(st);
    free(hashes);
    free(cp.path);
    buf_free(&out);
    buf_free(&payload);
    buf_free(&doc2);
    vw_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The vault handle                                                          */
/* ------------------------------------------------------------------------ */

START_TEST(test_store_basics)
{
    vw *w = vw_new();
    hre_storage *st = mem();
    hre_vault *v = vopen(st, NULL), *v2;
    hre_vault_entry e = HRE_VAULT_ENTRY_INIT;
    hre_vault_wrap wr;
    buf out = {0};
    uint8_t doc[20000], loc[32], h[32], h2[32], zero[32] = {0};
    rand_doc(doc, sizeof doc, 1);
    hre_t_rand_bytes(loc, 32);
    store_doc(w, v, h, loc, 1, doc, sizeof doc);
    HRE_T_OK(hre_vault_entry_get(v, &e, h));
    ck_assert_uint_eq(e.state, HRE_VAULT_PRESENT);
    ck_assert_uint_eq(e.doc_version, 1);
    ck_assert_uint_eq(e.has_record, 0);
    ck_assert_uint_eq(e.wrap_count, 3);
    HRE_T_OK(hre_vault_entry_by_locator(v, &e, loc, 1));
    ck_assert_mem_eq(e.doc_hash, h, 32);
    ck_assert_int_eq(hre_vault_entry_by_locator(v, &e, loc, 2), HRE_ENOTFOUND);
    ck_assert_int_eq(hre_vault_entry_get(v, &e, zero), HRE_ENOTFOUND);
    ck_assert_uint_eq(e.envelope_len, 0);                 /* zeroed when not found */
    HRE_T_OK(hre_vault_entry_get(v, &e, h));
    /* wraps: by reader and by index */
    HRE_T_OK(hre_vault_wrap_get(v, &wr, h, HRE_VAULT_READER_ORG, w->lab));
    ck_assert_uint_eq(wr.mode, HRE_HPKE_MODE_AUTH);
    ck_assert_mem_eq(wr.sender_id, w->hosp, 32);
    ck_assert_int_eq(hre_vault_wrap_get(v, &wr, h, HRE_VAULT_READER_ACCOUNT, w->a_doctor), HRE_ENOTFOUND);
    for (size_t i = 0; i < 3; i++) HRE_T_OK(hre_vault_wrap_at(v, &wr, h, i));
    ck_assert_int_eq(hre_vault_wrap_at(v, &wr, h, 3), HRE_ENOTFOUND);
    /* a wrong reader: no wrap; a wrong key for an existing wrap: EDECRYPT */
    ck_assert_int_eq(read_doc(v, &out, h, HRE_VAULT_READER_ACCOUNT, w->a_doctor, w->e_doctor), HRE_ENOTFOUND);
    ck_assert_int_eq(read_doc(v, &out, h, HRE_VAULT_READER_ACCOUNT, w->a_patient, w->e_doctor), HRE_EDECRYPT);
    HRE_T_OK(read_doc(v, &out, h, HRE_VAULT_READER_ACCOUNT, w->a_patient, w->e_patient));
    ck_assert(out.n == sizeof doc && memcmp(out.p, doc, sizeof doc) == 0);
    /* raw envelope reads, in pieces */
    {
        uint8_t piece[1000];
        size_t got = sizeof piece;
        HRE_T_OK(hre_vault_envelope_read(v, piece, &got, h, 0));
        ck_assert_uint_eq(got, sizeof piece);
        ck_assert_mem_eq(piece, "HREV", 4);
        got = sizeof piece;
        HRE_T_OK(hre_vault_envelope_read(v, piece, &got, h, e.envelope_len - 10));
        ck_assert_uint_eq(got, 10);
        got = sizeof piece;
        HRE_T_OK(hre_vault_envelope_read(v, piece, &got, h, e.envelope_len));
        ck_assert_uint_eq(got, 0);
    }
    /* a store without readers, and abort by free */
    {
        hre_vault_seal_params p;
        hre_vault_store *s = NULL;
        seal_params(&p, 0);
        HRE_T_OK(hre_vault_store_new(&s, v, &p));
        HRE_T_OK(hre_vault_store_write(s, doc, 100));
        ck_assert_int_eq(hre_vault_store_commit(s, h2, NULL), HRE_ESTATE);
        ck_assert_int_eq(hre_vault_store_add_reader_by_id(s, vw_c(w), HRE_VAULT_READER_ACCOUNT, w->a_noenc),
                         HRE_ENOTFOUND);
        hre_vault_store_free(s);
        HRE_T_OK(hre_vault_store_new(&s, v, &p));     /* left open: close aborts it */
        HRE_T_OK(hre_vault_store_write(s, doc, 100));
    }
    /* a second prefix on the same storage is another vault */
    v2 = vopen(st, "other");
    ck_assert_int_eq(hre_vault_entry_get(v2, &e, h), HRE_ENOTFOUND);
    hre_vault_close(v2);
    hre_vault_close(v);
    v = vopen(st, NULL);
    HRE_T_OK(hre_vault_verify(v, NULL, HRE_VAULT_VERIFY_HASH));
    HRE_T_OK(read_doc(v, &out, h, HRE_VAULT_READER_ORG, w->hosp, w->e_hosp));
    ck_assert(out.n == sizeof doc && memcmp(out.p, doc, sizeof doc) == 0);
    /* option errors */
    {
        hre_vault_options o = HRE_VAULT_OPTIONS_INIT;
        hre_vault *x = NULL;
        ck_assert_int_eq(hre_vault_open(&x, &o), HRE_EINVAL);
        o.storage = st;
        o.prefix = "Bad";
        ck_assert_int_eq(hre_vault_open(&x, &o), HRE_EINVAL);
        o.prefix = "toolongpx";
        ck_assert_int_eq(hre_vault_open(&x, &o), HRE_EINVAL);
        o.prefix = NULL;
        o.version = 2;
        ck_assert_int_eq(hre_vault_open(&x, &o), HRE_EUNSUPPORTED);
        ck_assert_ptr_null(x);
        ck_assert_int_eq(hre_vault_options_init(&o, 0), HRE_EUNSUPPORTED);
        HRE_T_OK(hre_vault_options_init(&o, 1));
    }
    hre_vault_close(v);
    hre_storage_free(st);
    buf_free(&out);
    vw_free(w);
}
END_TEST

START_TEST(test_rewrap_reuse)
{
    /* a re-wrap for a reader whose wrap this vault made and stored, still
     * unchanged, for the reader's current key and by the same holder, hands
     * that wrap out again: no write, no sync. Anything else makes a fresh one */
    vw *w = vw_new();
    hre_storage *inner = mem(), *st = NULL;
    hre_vault *v;
    hre_vault_wrap w1, w2, w3;
    hre_contract_access a = HRE_CONTRACT_ACCESS_INIT;
    buf out = {0};
    uint8_t doc[5000], loc[32], h[32], rec[32];
    uint64_t s0, s1;
    hre_key *e_new = NULL;
    HRE_T_OK(hre_powerloss_new(&st, inner, NULL));
    v = vopen(st, NULL);
    rand_doc(doc, sizeof doc, 1);
    hre_t_rand_bytes(loc, 32);
    store_doc(w, v, h, loc, 1, doc, sizeof doc);
    issue(w, rec, h, loc, NULL);
    HRE_T_OK(hre_vault_rewrap(v, &w1, &a, vw_c(w), rec, w->a_doctor, w->now, HRE_VAULT_READER_ORG, w->hosp,
                              w->e_hosp));
    s0 = hre_t_pl_syncs(st);
    HRE_T_OK(hre_vault_rewrap(v, &w2, &a, vw_c(w), rec, w->a_doctor, w->now, HRE_VAULT_READER_ORG, w->hosp,
                              w->e_hosp));
    ck_assert_uint_eq(a.basis, HRE_ACCESS_BY_ROLE);   /* still judged */
    ck_assert_mem_eq(&w2, &w1, sizeof w1);
    ck_assert_uint_eq(hre_t_pl_syncs(st), s0);        /* nothing written */
    HRE_T_OK(read_doc(v, &out, h, HRE_VAULT_READER_ACCOUNT, w->a_doctor, w->e_doctor));
    ck_assert(out.n == sizeof doc && memcmp(out.p, doc, sizeof doc) == 0);
    /* still refused when the chain says no: a wrong holder key, an expired grant */
    ck_assert_int_eq(hre_vault_rewrap(v, &w3, &a, vw_c(w), rec, w->a_doctor, w->now, HRE_VAULT_READER_ORG,
                                      w->hosp, w->e_lab), HRE_EDECRYPT);
    vw_run(w, b_grant(w, w->a_outsider, w->now + 1000), NULL);
    HRE_T_OK(hre_vault_rewrap(v, &w3, &a, vw_c(w), rec, w->a_outsider, w->now, HRE_VAULT_READER_ORG, w->hosp,
                              w->e_hosp));
    HRE_T_OK(hre_vault_rewrap(v, &w2, &a, vw_c(w), rec, w->a_outsider, w->now, HRE_VAULT_READER_ORG, w->hosp,
                              w->e_hosp));
    ck_assert_mem_eq(&w2, &w3, sizeof w3);
    ck_assert_int_eq(hre_vault_rewrap(v, &w2, &a, vw_c(w), rec, w->a_outsider, w->now + 1000,
                                      HRE_VAULT_READER_ORG, w->hosp, w->e_hosp), HRE_EEXPIRED);
    /* another holder (the lab, from its own wrap): a fresh wrap */
    s0 = hre_t_pl_syncs(st);
    HRE_T_OK(hre_vault_rewrap(v, &w2, &a, vw_c(w), rec, w->a_doctor, w->now, HRE_VAULT_READER_ORG, w->lab,
                              w->e_lab));
    ck_assert_mem_eq(w2.sender_id, w->lab, 32);
    ck_assert_uint_gt(hre_t_pl_syncs(st), s0);
    /* ... and back to the hospital: fresh again (the stored wrap is the lab's) */
    HRE_T_OK(hre_vault_rewrap(v, &w1, &a, vw_c(w), rec, w->a_doctor, w->now, HRE_VAULT_READER_ORG, w->hosp,
                              w->e_hosp));
    ck_assert_mem_eq(w1.sender_id, w->hosp, 32);
    /* the reader publishes a new encryption key: a fresh wrap that opens with it */
    HRE_T_OK(hre_key_generate(&e_new, HRE_CURVE_P256));
    vw_run(w, b_enc(w, w->doctor, HRE_ENC_TARGET_ACCOUNT, w->a_doctor, e_new), NULL);
    s0 = hre_t_pl_syncs(st);
    HRE_T_OK(hre_vault_rewrap(v, &w2, &a, vw_c(w), rec, w->a_doctor, w->now, HRE_VAULT_READER_ORG, w->hosp,
                              w->e_hosp));
    s1 = hre_t_pl_syncs(st);
    ck_assert_uint_gt(s1, s0);
    ck_assert(memcmp(w2.hpke, w1.hpke, sizeof w1.hpke) != 0);
    HRE_T_OK(read_doc(v, &out, h, HRE_VAULT_READER_ACCOUNT, w->a_doctor, e_new));
    ck_assert(out.n == sizeof doc && memcmp(out.p, doc, sizeof doc) == 0);
    /* the wrap removed: a fresh one */
    HRE_T_OK(hre_vault_wrap_remove(v, h, HRE_VAULT_READER_ACCOUNT, w->a_doctor));
    HRE_T_OK(hre_vault_rewrap(v, &w3, &a, vw_c(w), rec, w->a_doctor, w->now, HRE_VAULT_READER_ORG, w->hosp,
                              w->e_hosp));
    ck_assert(memcmp(w3.hpke, w2.hpke, sizeof w2.hpke) != 0);
    HRE_T_OK(read_doc(v, &out, h, HRE_VAULT_READER_ACCOUNT, w->a_doctor, e_new));
    /* a reopened vault remembers nothing: one fresh wrap, then reuse */
    hre_vault_close(v);
    v = vopen(st, NULL);
    HRE_T_OK(hre_vault_rewrap(v, &w1, &a, vw_c(w), rec, w->a_doctor, w->now, HRE_VAULT_READER_ORG, w->hosp,
                              w->e_hosp));
    ck_assert(memcmp(w1.hpke, w3.hpke, sizeof w3.hpke) != 0);
    s0 = hre_t_pl_syncs(st);
    HRE_T_OK(hre_vault_rewrap(v, &w2, &a, vw_c(w), rec, w->a_doctor, w->now, HRE_VAULT_READER_ORG, w->hosp,
                              w->e_hosp));
    ck_assert_mem_eq(&w2, &w1, sizeof w1);
    ck_assert_uint_eq(hre_t_pl_syncs(st), s0);
    hre_key_free(e_new);
    buf_free(&out);
    hre_vault_close(v);
    hre_storage_free(st);
    hre_storage_free(inner);
    vw_free(w);
}
END_TEST

START_TEST(test_access_rules)
{
    vw *w = vw_new();
    hre_storage *st = mem();
    hre_vault *v = vopen(st, NULL);
    hre_contract_access a = HRE_CONTRACT_ACCESS_INIT;
    hre_vault_wrap wr;
    hre_vault_entry e = HRE_VAULT_ENTRY_INIT;
    buf out = {0};
    uint8_t doc[30000], loc[32], h[32], rec[32], g1[32], g2[32];
    size_t removed = 9;
    rand_doc(doc, sizeof doc, 1);
    hre_t_rand_bytes(loc, 32);
    store_doc(w, v, h, loc, 1, doc, sizeof doc);
    issue(w, rec, h, loc, NULL);
    /* no grant: the outsider is refused, with the reason */
    ck_assert_int_eq(hre_vault_rewrap(v, &wr, &a, vw_c(w), rec, w->a_outsider, w->now, HRE_VAULT_READER_ORG,
                                      w->hosp, w->e_hosp), HRE_EAUTH);
    ck_assert_uint_eq(a.reason, HRE_ACCESS_NO_GRANT);
    ck_assert_int_eq(hre_vault_rewrap(v, &wr, &a, vw_c(w), rec, w->a_stranger, w->now, HRE_VAULT_READER_ORG,
                                      w->hosp, w->e_hosp), HRE_EAUTH);
    /* the hospital's doctor has access by role */
    HRE_T_OK(hre_vault_rewrap(v, &wr, &a, vw_c(w), rec, w->a_doctor, w->now, HRE_VAULT_READER_ORG, w->hosp,
                              w->e_hosp));
    ck_assert_uint_eq(a.basis, HRE_ACCESS_BY_ROLE);
    ck_assert_uint_eq(wr.mode, HRE_HPKE_MODE_AUTH);
    ck_assert_mem_eq(wr.reader_id, w->a_doctor, 32);
    HRE_T_OK(read_doc(v, &out, h, HRE_VAULT_READER_ACCOUNT, w->a_doctor, w->e_doctor));
    ck_assert(out.n == sizeof doc && memcmp(out.p, doc, sizeof doc) == 0);
    HRE_T_OK(hre_vault_entry_get(v, &e, h));
    ck_assert_uint_eq(e.has_record, 1);          /* the re-wrap bound the record */
    ck_assert_mem_eq(e.record_id, rec, 32);
    /* a grant with an expiry: allowed before, EEXPIRED after */
    vw_run(w, b_grant(w, w->a_outsider, w->now + 1000), g1);
    HRE_T_OK(hre_vault_rewrap(v, &wr, &a, vw_c(w), rec, w->a_outsider, w->now, HRE_VAULT_READER_ORG, w->hosp,
                              w->e_hosp));
    ck_assert_uint_eq(a.basis, HRE_ACCESS_BY_GRANT);
    ck_assert_mem_eq(a.grant_id, g1, 32);
    /* the outsider opens from the wrap it was sent and the raw envelope */
    {
        uint8_t *env = malloc(e.envelope_len);
        size_t elen = e.envelope_len;
        HRE_T_OK(hre_vault_envelope_read(v, env, &elen, h, 0));
        out.n = 0;
        HRE_T_OK(open_env(&out, &wr, w->e_outsider, env, elen, 3000, 0, NULL));
        ck_assert(out.n == sizeof doc && memcmp(out.p, doc, sizeof doc) == 0);
        {   /* the holder is authenticated: the wrap names the hospital's key */
            hre_vault_open_params op = HRE_VAULT_OPEN_PARAMS_INIT;
            hre_vault_opener *o = NULL;
            hre_pubkey *hp = pub(w->e_hosp);
            op.wrap = &wr;
            op.reader_key = w->e_outsider;
            op.expected_sender = hp;
            HRE_T_OK(hre_vault_opener_new(&o, &op, buf_sink, &out));
            hre_vault_opener_free(o);
            hre_pubkey_free(hp);
        }
        free(env);
    }
    ck_assert_int_eq(hre_vault_rewrap(v, &wr, &a, vw_c(w), rec, w->a_outsider, w->now + 1000,
                                      HRE_VAULT_READER_ORG, w->hosp, w->e_hosp), HRE_EEXPIRED);
    ck_assert_uint_eq(a.reason, HRE_ACCESS_EXPIRED);
    /* prune at a time after expiry removes the outsider's wrap; org wraps stay */
    HRE_T_OK(hre_vault_prune(v, &removed, vw_c(w), rec, w->now + 2000));
    ck_assert_uint_eq(removed, 1);
    ck_assert_int_eq(read_doc(v, &out, h, HRE_VAULT_READER_ACCOUNT, w->a_outsider, w->e_outsider), HRE_ENOTFOUND);
    HRE_T_OK(read_doc(v, &out, h, HRE_VAULT_READER_ORG, w->lab, w->e_lab));
    HRE_T_OK(hre_vault_entry_get(v, &e, h));
    ck_assert_uint_eq(e.wrap_count, 4);          /* patient, hospital, lab, doctor */
    /* a grant without expiry, then revoked: EREVOKED and pruned */
    vw_run(w, b_grant(w, w->a_outsider, 0), g2);
    HRE_T_OK(hre_vault_rewrap(v, &wr, &a, vw_c(w), rec, w->a_outsider, w->now, HRE_VAULT_READER_ORG, w->hosp,
                              w->e_hosp));
    HRE_T_OK(read_doc(v, &out, h, HRE_VAULT_READER_ACCOUNT, w->a_outsider, w->e_outsider));
    vw_run(w, b_revoke(w, g2), NULL);
    /* at a time when g1 has expired too (revoked wins: g2 is the newer) */
    ck_assert_int_eq(hre_vault_rewrap(v, &wr, &a, vw_c(w), rec, w->a_outsider, w->now + 5000,
                                      HRE_VAULT_READER_ORG, w->hosp, w->e_hosp), HRE_EREVOKED);
    ck_assert_uint_eq(a.reason, HRE_ACCESS_REVOKED);
    HRE_T_OK(hre_vault_prune(v, &removed, vw_c(w), rec, w->now + 5000));
    ck_assert_uint_eq(removed, 1);
    ck_assert_int_eq(read_doc(v, &out, h, HRE_VAULT_READER_ACCOUNT, w->a_outsider, w->e_outsider), HRE_ENOTFOUND);
    HRE_T_OK(hre_vault_prune(v, &removed, vw_c(w), rec, w->now));
    ck_assert_uint_eq(removed, 0);
    /* other refusals: unknown reader, no encryption key, wrong holder key, no holder wrap */
    {
        uint8_t nobody[32];
        memset(nobody, 0x99, 32);
        ck_assert_int_eq(hre_vault_rewrap(v, &wr, &a, vw_c(w), rec, nobody, w->now, HRE_VAULT_READER_ORG,
                                          w->hosp, w->e_hosp), HRE_ENOTFOUND);
        ck_assert_uint_eq(a.reason, HRE_ACCESS_UNKNOWN_READER);
        ck_assert_int_eq(hre_vault_rewrap(v, &wr, &a, vw_c(w), nobody, w->a_doctor, w->now,
                                          HRE_VAULT_READER_ORG, w->hosp, w->e_hosp), HRE_ENOTFOUND);
        ck_assert_uint_eq(a.reason, HRE_ACCESS_UNKNOWN_RECORD);
        ck_assert_int_eq(hre_vault_rewrap(v, &wr, &a, vw_c(w), rec, w->a_patient, w->now, HRE_VAULT_READER_ORG,
                                          w->hosp, w->e_lab), HRE_EDECRYPT);
        ck_assert_int_eq(hre_vault_rewrap(v, &wr, &a, vw_c(w), rec, w->a_patient, w->now,
                                          HRE_VAULT_READER_ORG, w->clinic, w->e_hosp), HRE_ENOTFOUND);
        /* the lab re-wraps too, from its own wrap */
        HRE_T_OK(hre_vault_rewrap(v, &wr, &a, vw_c(w), rec, w->a_patient, w->now, HRE_VAULT_READER_ORG, w->lab,
                                  w->e_lab));
        ck_assert_mem_eq(wr.sender_id, w->lab, 32);
        HRE_T_OK(read_doc(v, &out, h, HRE_VAULT_READER_ACCOUNT, w->a_patient, w->e_patient));
        ck_assert(out.n == sizeof doc && memcmp(out.p, doc, sizeof doc) == 0);
    }
    /* a new version: a new record superseding the old, a fresh data key */
    {
        uint8_t h2[32], rec2[32], doc2[5000], k1[32], k2[32];
        hre_vault_wrap w1, w2;
        buf pl = {0}, d = {0};
        uint8_t *env;
        size_t elen;
        rand_doc(doc2, sizeof doc2, 1);
        store_doc(w, v, h2, loc, 2, doc2, sizeof doc2);
        issue(w, rec2, h2, loc, rec);
        HRE_T_OK(hre_vault_entry_by_locator(v, &e, loc, 2));
        ck_assert_mem_eq(e.doc_hash, h2, 32);
        HRE_T_OK(hre_vault_wrap_get(v, &w1, h, HRE_VAULT_READER_ACCOUNT, w->a_patient));
        HRE_T_OK(hre_vault_wrap_get(v, &w2, h2, HRE_VAULT_READER_ACCOUNT, w->a_patient));
        HRE_T_OK(hre_vault_entry_get(v, &e, h));
        env = malloc(e.envelope_len);
        elen = e.envelope_len;
        HRE_T_OK(hre_vault_envelope_read(v, env, &elen, h, 0));
        spec_open(env, elen, &w1, w->e_patient, &pl, &d, k1);
        free(env);
        HRE_T_OK(hre_vault_entry_get(v, &e, h2));
        env = malloc(e.envelope_len);
        elen = e.envelope_len;
        HRE_T_OK(hre_vault_envelope_read(v, env, &elen, h2, 0));
        spec_open(env, elen, &w2, w->e_patient, &pl, &d, k2);
        ck_assert(d.n == sizeof doc2 && memcmp(d.p, doc2, sizeof doc2) == 0);
        ck_assert_int_ne(memcmp(k1, k2, 32), 0);
        /* a wrap of version 1 does not open version 2: the header names another
         * document (and its data key is another: the key commitment) */
        ck_assert_int_eq(open_env(&out, &w1, w->e_patient, env, elen, 0, 0, NULL), HRE_EVERIFY);
        free(env);
        buf_free(&pl);
        buf_free(&d);
        /* the patient erases the old record: re-wraps of it are refused */
        vw_run(w, b_erase(w, rec), NULL);
        ck_assert_int_eq(hre_vault_rewrap(v, &wr, &a, vw_c(w), rec, w->a_doctor, w->now,
                                          HRE_VAULT_READER_ORG, w->hosp, w->e_hosp), HRE_EERASED);
        ck_assert_uint_eq(a.reason, HRE_ACCESS_ERASED);
        HRE_T_OK(hre_vault_erase_record(v, vw_c(w), rec));
        ck_assert_int_eq(hre_vault_entry_get(v, &e, h), HRE_EERASED);
        ck_assert_uint_eq(e.state, HRE_VAULT_ERASED);
        ck_assert_int_eq(hre_vault_erase_record(v, vw_c(w), rec2), HRE_ESTATE);
        HRE_T_OK(read_doc(v, &out, h2, HRE_VAULT_READER_ACCOUNT, w->a_patient, w->e_patient));
    }
    HRE_T_OK(hre_vault_verify(v, NULL, HRE_VAULT_VERIFY_HASH));
    hre_vault_close(v);
    hre_storage_free(st);
    buf_free(&out);
    vw_free(w);
}
END_TEST

START_TEST(test_import)
{
    vw *w = vw_new();
    hre_storage *st = mem();
    hre_vault *a = vopen(st, "a"), *b = vopen(st, "b");
    hre_vault_entry e = HRE_VAULT_ENTRY_INIT;
    hre_vault_wrap wr;
    hre_vault_import *im = NULL;
    buf out = {0};
    uint8_t doc[150000], loc[32], h[32], got[32], bad[32], *env;
    size_t elen;
    rand_doc(doc, sizeof doc, 0);
    hre_t_rand_bytes(loc, 32);
    store_doc(w, a, h, loc, 1, doc, sizeof doc);
    HRE_T_OK(hre_vault_entry_get(a, &e, h));
    env = malloc(e.envelope_len);
    elen = e.envelope_len;
    HRE_T_OK(hre_vault_envelope_read(a, env, &elen, h, 0));
    HRE_T_OK(hre_vault_wrap_get(a, &wr, h, HRE_VAULT_READER_ORG, w->lab));
    /* wrong expected hash */
    memcpy(bad, h, 32);
    bad[5] ^= 1;
    HRE_T_OK(hre_vault_import_new(&im, b, bad));
    HRE_T_OK(hre_vault_import_write(im, env, elen));
    ck_assert_int_eq(hre_vault_import_commit(im, got), HRE_EVERIFY);
    hre_vault_import_free(im);
    /* truncated */
    HRE_T_OK(hre_vault_import_new(&im, b, h));
    HRE_T_OK(hre_vault_import_write(im, env, elen - 1));
    ck_assert_int_eq(hre_vault_import_commit(im, got), HRE_EDECODE);
    hre_vault_import_free(im);
    /* a malformed header is refused once 82 bytes are in */
    {
        uint8_t hb[82];
        memcpy(hb, env, 82);
        hb[0] = 'X';
        HRE_T_OK(hre_vault_import_new(&im, b, NULL));
        ck_assert_int_eq(hre_vault_import_write(im, hb, 82), HRE_EDECODE);
        ck_assert_int_eq(hre_vault_import_write(im, hb, 1), HRE_ESTATE);
        hre_vault_import_free(im);
    }
    /* a wrap for another envelope */
    HRE_T_OK(hre_vault_import_new(&im, b, h));
    HRE_T_OK(hre_vault_import_write(im, env, elen));
    {
        hre_vault_wrap x = wr;
        x.doc_version = 2;
        HRE_T_OK(hre_vault_import_add_wrap(im, &x));
    }
    ck_assert_int_eq(hre_vault_import_commit(im, got), HRE_EVERIFY);
    hre_vault_import_free(im);
    /* the real thing, in pieces, with the lab's wrap */
    HRE_T_OK(hre_vault_import_new(&im, b, h));
    for (size_t off = 0; off < elen; off += 777)
        HRE_T_OK(hre_vault_import_write(im, env + off, elen - off < 777 ? elen - off : 777));
    HRE_T_OK(hre_vault_import_add_wrap(im, &wr));
    HRE_T_OK(hre_vault_import_commit(im, got));
    ck_assert_mem_eq(got, h, 32);
    ck_assert_int_eq(hre_vault_import_commit(im, got), HRE_ESTATE);
    hre_vault_import_free(im);
    HRE_T_OK(read_doc(b, &out, h, HRE_VAULT_READER_ORG, w->lab, w->e_lab));
    ck_assert(out.n == sizeof doc && memcmp(out.p, doc, sizeof doc) == 0);
    ck_assert_int_eq(read_doc(b, &out, h, HRE_VAULT_READER_ORG, w->hosp, w->e_hosp), HRE_ENOTFOUND);
    /* importing it again merges wraps */
    HRE_T_OK(hre_vault_wrap_get(a, &wr, h, HRE_VAULT_READER_ORG, w->hosp));
    HRE_T_OK(hre_vault_import_new(&im, b, NULL));
    HRE_T_OK(hre_vault_import_write(im, env, elen));
    HRE_T_OK(hre_vault_import_add_wrap(im, &wr));
    HRE_T_OK(hre_vault_import_commit(im, got));
    hre_vault_import_free(im);
    HRE_T_OK(hre_vault_entry_get(b, &e, h));
    ck_assert_uint_eq(e.wrap_count, 2);
    HRE_T_OK(read_doc(b, &out, h, HRE_VAULT_READER_ORG, w->hosp, w->e_hosp));
    /* erased: never imported again */
    HRE_T_OK(hre_vault_erase(b, h));
    HRE_T_OK(hre_vault_erase(b, h));              /* idempotent */
    ck_assert_int_eq(hre_vault_import_new(&im, b, h), HRE_EERASED);
    HRE_T_OK(hre_vault_import_new(&im, b, NULL));
    HRE_T_OK(hre_vault_import_write(im, env, elen));
    ck_assert_int_eq(hre_vault_import_commit(im, got), HRE_EERASED);
    hre_vault_import_free(im);
    ck_assert_int_eq(read_doc(b, &out, h, HRE_VAULT_READER_ORG, w->hosp, w->e_hosp), HRE_EERASED);
    {
        uint8_t piece[10];
        size_t n = sizeof piece;
        ck_assert_int_eq(hre_vault_envelope_read(b, piece, &n, h, 0), HRE_EERASED);
        ck_assert_int_eq(hre_vault_wrap_get(b, &wr, h, HRE_VAULT_READER_ORG, w->hosp), HRE_EERASED);
    }
    HRE_T_OK(hre_vault_verify(a, NULL, HRE_VAULT_VERIFY_HASH));
    HRE_T_OK(hre_vault_verify(b, NULL, HRE_VAULT_VERIFY_HASH));
    /* the first vault still has it */
    HRE_T_OK(read_doc(a, &out, h, HRE_VAULT_READER_ORG, w->hosp, w->e_hosp));
    free(env);
    hre_vault_close(a);
    hre_vault_close(b);
    hre_storage_free(st);
    buf_free(&out);
    vw_free(w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Erasure, with a ledger, and the scan of every byte left behind            */
/* ------------------------------------------------------------------------ */

/* A storage that passes everything to a memory storage but keeps, in a
 * graveyard, the last content of every file that leaves the namespace
 * (removed, truncated, renamed over), so the scan also sees what a real
 * disk might still hold in freed blocks unless it was overwritten first. */
typedef struct dead {
    uint8_t *p;
    size_t n;
} dead;

typedef struct grave {
    hre_storage *inner;
    dead *d;
    size_t nd;
} grave;

static void grave_keep(grave *g, const char *name)
{
    hre_storage_file *f = NULL;
    uint64_t size = 0;
    size_t got = 0;
    if (hre_storage_file_open(&f, g->inner, name, HRE_STORAGE_READ) != HRE_OK) return;
    ck_assert_int_eq(hre_storage_file_size(f, &size), HRE_OK);
    g->d = realloc(g->d, (g->nd + 1) * sizeof *g->d);
    g->d[g->nd].p = malloc(size + 1);
    g->d[g->nd].n = (size_t)size;
    if (size) ck_assert_int_eq(hre_storage_file_read(f, g->d[g->nd].p, (size_t)size, &got, 0), HRE_OK);
    g->nd++;
    (void)hre_storage_file_close(f);
}

static int g_open(void *self, const char *name, unsigned int flags, void **file)
{
    grave *g = self;
    hre_storage_file *f = NULL;
    int rc;
    if (flags & HRE_STORAGE_TRUNCATE) grave_keep(g, name);
    rc = hre_storage_file_open(&f, g->inner, name, flags);
    *file = f;
    return rc;
}
static int g_close(void *self, void *file) { (void)self; return hre_storage_file_close(file); }
static int g_read(void *self, void *file, void *b, size_t len, size_t *got, uint64_t off)
{
    (void)self;
    return hre_storage_file_read(file, b, len, got, off);
}
static int g_append(void *self, void *file, uint64_t *off, const void *d, size_t len)
{
    (void)self;
    return hre_storage_file_append(file, off, d, len);
}
static int g_write(void *self, void *file, uint64_t off, const void *d, size_t len)
{
    (void)self;
    return hre_storage_file_write(file, off, d, len);
}
static int g_sync(void *self, void *file) { (void)self; return hre_storage_file_sync(file); }
static int g_size(void *self, void *file, uint64_t *size) { (void)self; return hre_storage_file_size(file, size); }
static int g_truncate(void *self, void *file, uint64_t size)
{
    grave *g = self;
    uint64_t cur = 0;
    ck_assert_int_eq(hre_storage_file_size(file, &cur), HRE_OK);
    if (size < cur) {   /* keep the whole old content: the cut part is what leaves */
        uint8_t *p = malloc(cur + 1);
        size_t got = 0;
        ck_assert_int_eq(hre_storage_file_read(file, p, (size_t)cur, &got, 0), HRE_OK);
        g->d = realloc(g->d, (g->nd + 1) * sizeof *g->d);
        g->d[g->nd].p = p;
        g->d[g->nd].n = got;
        g->nd++;
    }
    return hre_storage_file_truncate(file, size);
}
static int g_rename(void *self, const char *from, const char *to)
{
    grave *g = self;
    grave_keep(g, to);
    return hre_storage_rename(g->inner, from, to);
}
static int g_remove(void *self, const char *name)
{
    grave *g = self;
    grave_keep(g, name);
    return hre_storage_remove(g->inner, name);
}
static int g_list(void *self, hre_storage_list_cb cb, void *arg)
{
    grave *g = self;
    return hre_storage_list(g->inner, cb, arg);
}
static int g_sync_dir(void *self)
{
    grave *g = self;
    return hre_storage_sync_dir(g->inner);
}

static hre_storage *grave_new(grave *g)
{
    hre_storage_methods m;
    hre_storage *s = NULL;
    memset(g, 0, sizeof *g);
    g->inner = mem();
    HRE_T_OK(hre_storage_methods_init(&m, HRE_STORAGE_VERSION));
    m.open = g_open;
    m.close = g_close;
    m.read = g_read;
    m.append = g_append;
    m.write = g_write;
    m.sync = g_sync;
    m.size = g_size;
    m.truncate = g_truncate;
    m.rename = g_rename;
    m.remove = g_remove;
    m.list = g_list;
    m.sync_dir = g_sync_dir;
    HRE_T_OK(hre_storage_new_custom(&s, &m, g));
    return s;
}

static void grave_free(grave *g)
{
    for (size_t i = 0; i < g->nd; i++) free(g->d[i].p);
    free(g->d);
    hre_storage_free(g->inner);
}

/* A set of 16-byte windows (pointers into the target buffers). */
typedef struct wset {
    const uint8_t **slot;
    size_t cap;
} wset;

static uint64_t whash(const uint8_t *p)
{
    uint64_t a, b;
    memcpy(&a, p, 8);
    memcpy(&b, p + 8, 8);
    a *= 0x9E3779B97F4A7C15ULL;
    b *= 0xC2B2AE3D27D4EB4FULL;
    return (a ^ (b >> 7) ^ (b << 29)) * 0x165667B19E3779F9ULL;
}

static void wset_add(wset *ws, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 16 <= n; i++) {
        size_t j = (size_t)(whash(p + i) >> 20) & (ws->cap - 1);
        while (ws->slot[j] && memcmp(ws->slot[j], p + i, 16) != 0) j = (j + 1) & (ws->cap - 1);
        ws->slot[j] = p + i;
    }
}

static size_t wset_scan(const wset *ws, const uint8_t *p, size_t n)
{
    size_t hits = 0;
    for (size_t i = 0; i + 16 <= n; i++) {
        size_t j = (size_t)(whash(p + i) >> 20) & (ws->cap - 1);
        while (ws->slot[j]) {
            if (memcmp(ws->slot[j], p + i, 16) == 0) {
                hits++;
                break;
            }
            j = (j + 1) & (ws->cap - 1);
        }
    }
    return hits;
}

typedef struct scanctx {
    grave *g;
    const wset *ws;
    size_t hits, files, bytes;
} scanctx;

static int scan_file(void *arg, const char *name)
{
    scanctx *sc = arg;
    hre_storage_file *f = NULL;
    uint64_t size = 0;
    size_t got = 0;
    uint8_t *p;
    ck_assert_int_eq(hre_storage_file_open(&f, sc->g->inner, name, HRE_STORAGE_READ), HRE_OK);
    ck_assert_int_eq(hre_storage_file_size(f, &size), HRE_OK);
    p = malloc(size + 1);
    if (size) ck_assert_int_eq(hre_storage_file_read(f, p, (size_t)size, &got, 0), HRE_OK);
    (void)hre_storage_file_close(f);
    sc->hits += wset_scan(sc->ws, p, got);
    sc->files++;
    sc->bytes += got;
    free(p);
    return 0;
}

/* Hits of any target window in every live file and every graveyard entry. */
static size_t scan_all(grave *g, const wset *ws, size_t *files, size_t *bytes)
{
    scanctx sc = {g, ws, 0, 0, 0};
    HRE_T_OK(hre_storage_list(g->inner, scan_file, &sc));
    for (size_t i = 0; i < g->nd; i++) {
        sc.hits += wset_scan(ws, g->d[i].p, g->d[i].n);
        sc.bytes += g->d[i].n;
    }
    if (files) *files = sc.files;
    if (bytes) *bytes = sc.bytes;
    return sc.hits;
}

START_TEST(test_erasure_scan)
{
    grave g;
    hre_storage *st = grave_new(&g);
    hre_vault *v = vopen(st, NULL);
    vw *w = vw_new_ledger(st, v);
    hre_vault_entry e = HRE_VAULT_ENTRY_INIT;
    hre_vault_wrap wr, wraps[4];
    buf out = {0}, payload = {0}, doc2 = {0}, envb = {0};
    wset plain = {0}, secret = {0};
    size_t len = 0, files = 0, bytes = 0, hits;
    uint8_t loc[32], h[32], rec[32], key[32], hc[32], recc[32];
    char *data = hre_t_read_file(hre_t_data_path("fhir-stu3/patient-665677.fhir-bundle.01.json"), &len);
    ck_assert_ptr_nonnull(data);
    /* a document to erase and a control document to keep */
    hre_t_rand_bytes(loc, 32);
    store_doc(w, v, h, loc, 1, (const uint8_t *)data, len);
    issue(w, rec, h, loc, NULL);
    HRE_T_OK(hre_vault_bind_record(v, h, rec));
    HRE_T_OK(hre_vault_bind_record(v, h, rec));               /* again: fine */
    ck_assert_int_eq(hre_vault_bind_record(v, h, loc), HRE_EEXISTS);
    HRE_T_OK(hre_vault_rewrap(v, &wr, NULL, vw_c(w), rec, w->a_doctor, w->now, HRE_VAULT_READER_ORG, w->hosp,
                              w->e_hosp));
    {
        uint8_t l2[32], d2[3000];
        rand_doc(d2, sizeof d2, 1);
        hre_t_rand_bytes(l2, 32);
        store_doc(w, v, hc, l2, 1, d2, sizeof d2);
        issue(w, recc, hc, l2, NULL);
        HRE_T_OK(hre_vault_bind_record(v, hc, recc));
    }
    /* what erasure must destroy: the plaintext and its compressed form
     * (the payload), the envelope's chunks, every wrap, the data key */
    HRE_T_OK(hre_vault_entry_get(v, &e, h));
    ck_assert_uint_eq(e.wrap_count, 4);
    envb.p = malloc(e.envelope_len);
    envb.n = e.envelope_len;
    {
        size_t n = envb.n;
        HRE_T_OK(hre_vault_envelope_read(v, envb.p, &n, h, 0));
    }
    for (size_t i = 0; i < 4; i++) HRE_T_OK(hre_vault_wrap_at(v, &wraps[i], h, i));
    HRE_T_OK(hre_vault_wrap_get(v, &wr, h, HRE_VAULT_READER_ACCOUNT, w->a_patient));
    spec_open(envb.p, envb.n, &wr, w->e_patient, &payload, &doc2, key);
    ck_assert(doc2.n == len && memcmp(doc2.p, data, len) == 0);
    plain.cap = (size_t)1 << 21;
    plain.slot = calloc(plain.cap, sizeof *plain.slot);
    secret.cap = (size_t)1 << 19;
    secret.slot = calloc(secret.cap, sizeof *secret.slot);
    wset_add(&plain, (const uint8_t *)data, len);
    wset_add(&plain, payload.p, payload.n);
    wset_add(&plain, key, 32);
    wset_add(&secret, envb.p + HRE_VAULT_HEADER_LEN, envb.n - HRE_VAULT_HEADER_LEN);
    for (size_t i = 0; i < 4; i++) wset_add(&secret, wraps[i].hpke, sizeof wraps[i].hpke);
    /* before: the plaintext, its compressed form and the key are nowhere;
     * the envelope and the wraps are (so the scanner sees what is there) */
    ck_assert_uint_eq(scan_all(&g, &plain, &files, &bytes), 0);
    hits = scan_all(&g, &secret, NULL, NULL);
    ck_assert_uint_ge(hits, envb.n - HRE_VAULT_HEADER_LEN - 16);
    /* the patient erases the record: the ledger event erases it in the vault */
    vw_run(w, b_erase(w, rec), NULL);
    ck_assert_uint_eq(w->erased_events, 1);
    ck_assert_int_eq(hre_vault_entry_get(v, &e, h), HRE_EERASED);
    ck_assert_int_eq(read_doc(v, &out, h, HRE_VAULT_READER_ACCOUNT, w->a_patient, w->e_patient), HRE_EERASED);
    hits = scan_all(&g, &plain, &files, &bytes);
    ck_assert_msg(hits == 0, "%zu plaintext windows left", hits);
    hits = scan_all(&g, &secret, NULL, NULL);
    ck_assert_msg(hits == 0, "%zu envelope or wrap windows left in %zu files + %zu removed (%zu bytes)", hits,
                  files, g.nd, bytes);
    printf("vault: erasure scan of %zu files and %zu removed ones, %zu bytes: clean\n", files, g.nd, bytes);
    /* the chain still verifies, the control document is intact */
    {
        uint64_t bad = 0;
        HRE_T_OK(hre_ledger_verify_chain(w->l, &bad, NULL, NULL));
        ck_assert_uint_eq(bad, UINT64_MAX);
    }
    HRE_T_OK(read_doc(v, &out, hc, HRE_VAULT_READER_ORG, w->lab, w->e_lab));
    HRE_T_OK(hre_vault_verify(v, NULL, HRE_VAULT_VERIFY_HASH));
    /* an erasure the vault learns without a binding: pending, then reconciled */
    {
        uint8_t l3[32], h3[32], r3[32], d3[2000];
        hre_vault_stats stats = HRE_VAULT_STATS_INIT;
        size_t n = 9;
        rand_doc(d3, sizeof d3, 1);
        hre_t_rand_bytes(l3, 32);
        store_doc(w, v, h3, l3, 1, d3, sizeof d3);
        issue(w, r3, h3, l3, NULL);
        vw_run(w, b_erase(w, r3), NULL);
        HRE_T_OK(hre_vault_stats_get(v, &stats));
        ck_assert_uint_eq(stats.pending_erasures, 1);
        HRE_T_OK(hre_vault_entry_get(v, &e, h3));           /* still there: not bound */
        hre_vault_close(v);                                 /* the pending erasure is durable */
        v = vopen(st, NULL);
        w->ev_vault = v;
        HRE_T_OK(hre_vault_stats_get(v, &stats));
        ck_assert_uint_eq(stats.pending_erasures, 1);
        HRE_T_OK(hre_vault_reconcile(v, &n, vw_c(w)));
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(hre_vault_entry_get(v, &e, h3), HRE_EERASED);
        HRE_T_OK(hre_vault_stats_get(v, &stats));
        ck_assert_uint_eq(stats.pending_erasures, 0);
        ck_assert_uint_eq(stats.erased, 2);
    }
    /* an erasure while the vault was closed (a missed event): reconcile */
    {
        uint8_t l4[32], h4[32], r4[32], d4[2000];
        size_t n = 0;
        rand_doc(d4, sizeof d4, 1);
        hre_t_rand_bytes(l4, 32);
        store_doc(w, v, h4, l4, 1, d4, sizeof d4);
        issue(w, r4, h4, l4, NULL);
        HRE_T_OK(hre_vault_bind_record(v, h4, r4));
        hre_vault_close(v);
        w->ev_vault = NULL;
        vw_run(w, b_erase(w, r4), NULL);
        v = vopen(st, NULL);
        w->ev_vault = v;
        HRE_T_OK(hre_vault_entry_get(v, &e, h4));
        HRE_T_OK(hre_vault_reconcile(v, &n, vw_c(w)));
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(hre_vault_entry_get(v, &e, h4), HRE_EERASED);
        HRE_T_OK(hre_vault_reconcile(v, &n, vw_c(w)));
        ck_assert_uint_eq(n, 0);
    }
    HRE_T_OK(hre_vault_verify(v, NULL, 0));
    {
        uint64_t bad = 0;
        HRE_T_OK(hre_ledger_verify_chain(w->l, &bad, NULL, NULL));
    }
    ck_assert_uint_eq(scan_all(&g, &plain, NULL, NULL), 0);
    ck_assert_uint_eq(scan_all(&g, &secret, NULL, NULL), 0);
    hre_vault_close(v);
    vw_free(w);
    hre_storage_free(st);
    grave_free(&g);
    free(plain.slot);
    free(secret.slot);
    free(data);
    buf_free(&out);
    buf_free(&payload);
    buf_free(&doc2);
    buf_free(&envb);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Power loss and I/O errors                                                 */
/* ------------------------------------------------------------------------ */

typedef struct plfix {
    vw *w;
    hre_storage *base;                /* the vault before the workload */
    uint8_t ha[32], ra[32], he[32], re[32], locb[32];
    uint8_t docb[90000], doca[20000], doce[7000];
} plfix;

static int clone_cb(void *arg, const char *name)
{
    hre_storage **pair = arg;
    hre_storage_file *f = NULL, *t = NULL;
    uint64_t size = 0;
    size_t got = 0;
    uint8_t *p;
    ck_assert_int_eq(hre_storage_file_open(&f, pair[0], name, HRE_STORAGE_READ), HRE_OK);
    ck_assert_int_eq(hre_storage_file_size(f, &size), HRE_OK);
    p = malloc(size + 1);
    if (size) ck_assert_int_eq(hre_storage_file_read(f, p, (size_t)size, &got, 0), HRE_OK);
    ck_assert_int_eq(hre_storage_file_open(&t, pair[1], name, HRE_STORAGE_WRITE | HRE_STORAGE_CREATE), HRE_OK);
    if (size) ck_assert_int_eq(hre_storage_file_write(t, 0, p, (size_t)size), HRE_OK);
    (void)hre_storage_file_close(t);
    (void)hre_storage_file_close(f);
    free(p);
    return 0;
}

static hre_storage *clone_storage(hre_storage *src)
{
    hre_storage *pair[2] = {src, mem()};
    HRE_T_OK(hre_storage_list(src, clone_cb, pair));
    return pair[1];
}

static void plfix_new(plfix *f)
{
    hre_vault *v;
    uint8_t la[32], le[32], g[32];
    hre_vault_wrap wr;
    memset(f, 0, sizeof *f);
    f->w = vw_new();
    f->base = mem();
    v = vopen(f->base, NULL);
    rand_doc(f->doca, sizeof f->doca, 1);
    rand_doc(f->doce, sizeof f->doce, 1);
    rand_doc(f->docb, sizeof f->docb, 0);
    hre_t_rand_bytes(la, 32);
    hre_t_rand_bytes(le, 32);
    hre_t_rand_bytes(f->locb, 32);
    store_doc(f->w, v, f->ha, la, 1, f->doca, sizeof f->doca);
    issue(f->w, f->ra, f->ha, la, NULL);
    store_doc(f->w, v, f->he, le, 1, f->doce, sizeof f->doce);
    issue(f->w, f->re, f->he, le, NULL);
    HRE_T_OK(hre_vault_bind_record(v, f->he, f->re));
    /* the outsider had a grant and a wrap; the grant is revoked now */
    vw_run(f->w, b_grant(f->w, f->w->a_outsider, 0), g);
    HRE_T_OK(hre_vault_rewrap(v, &wr, NULL, vw_c(f->w), f->ra, f->w->a_outsider, f->w->now,
                              HRE_VAULT_READER_ORG, f->w->hosp, f->w->e_hosp));
    vw_run(f->w, b_revoke(f->w, g), NULL);
    /* E is erased on the chain; the vault has not heard yet */
    vw_run(f->w, b_erase(f->w, f->re), NULL);
    hre_vault_close(v);
}

static void plfix_free(plfix *f)
{
    hre_storage_free(f->base);
    vw_free(f->w);
}

/* The workload; every failure is ignored (the power may be off). */
static void pl_workload(plfix *f, hre_storage *st)
{
    vw *w = f->w;
    hre_vault_options o = HRE_VAULT_OPTIONS_INIT;
    hre_vault *v = NULL;
    hre_vault_seal_params p;
    hre_vault_store *s = NULL;
    hre_vault_wrap wr;
    uint8_t h[32];
    size_t n;
    o.storage = st;
    if (hre_vault_open(&v, &o) != HRE_OK) return;
    seal_params(&p, HRE_VAULT_COMPRESS_NEVER);
    memcpy(p.locator, f->locb, 32);
    p.sender_type = HRE_VAULT_READER_ORG;
    memcpy(p.sender_id, w->hosp, 32);
    p.sender_key = w->e_hosp;
    if (hre_vault_store_new(&s, v, &p) == HRE_OK) {
        if (hre_vault_store_write(s, f->docb, sizeof f->docb) == HRE_OK &&
            hre_vault_store_add_reader_by_id(s, vw_c(w), HRE_VAULT_READER_ACCOUNT, w->a_patient) == HRE_OK &&
            hre_vault_store_add_reader_by_id(s, vw_c(w), HRE_VAULT_READER_ORG, w->hosp) == HRE_OK &&
            hre_vault_store_add_reader_by_id(s, vw_c(w), HRE_VAULT_READER_ORG, w->lab) == HRE_OK)
            (void)hre_vault_store_commit(s, h, NULL);
        hre_vault_store_free(s);
    }
    if (hre_vault_rewrap(v, &wr, NULL, vw_c(w), f->ra, w->a_doctor, w->now, HRE_VAULT_READER_ORG, w->hosp,
                         w->e_hosp) != HRE_OK)
        memset(&wr, 0, sizeof wr);      /* the power may be off: any outcome is checked later */
    (void)hre_vault_prune(v, &n, vw_c(w), f->ra, w->now);
    (void)hre_vault_erase_record(v, vw_c(w), f->re);
    hre_vault_close(v);
}

/* After the crash (or the failures), on the surviving storage. */
static void pl_check(plfix *f, hre_storage *st, const char *what)
{
    vw *w = f->w;
    hre_vault *v = vopen(st, NULL);
    hre_vault_entry e = HRE_VAULT_ENTRY_INIT;
    buf out = {0};
    uint64_t problems = 0;
    size_t n = 0;
    int rc;
    rc = hre_vault_verify(v, &problems, HRE_VAULT_VERIFY_HASH);
    ck_assert_msg(rc == HRE_OK, "%s: verify after recovery: %s", what, hre_error_detail());
    /* A: present; every wrap it has opens (its readers can read it) */
    HRE_T_OK(hre_vault_entry_get(v, &e, f->ha));
    ck_assert_msg(e.wrap_count >= 3 && e.wrap_count <= 5, "%s: A has %u wraps", what, e.wrap_count);
    HRE_T_OK(read_doc(v, &out, f->ha, HRE_VAULT_READER_ACCOUNT, w->a_patient, w->e_patient));
    ck_assert(out.n == sizeof f->doca && memcmp(out.p, f->doca, out.n) == 0);
    rc = read_doc(v, &out, f->ha, HRE_VAULT_READER_ACCOUNT, w->a_doctor, w->e_doctor);
    ck_assert_msg(rc == HRE_OK || rc == HRE_ENOTFOUND, "%s: doctor read %d", what, rc);
    if (rc == HRE_OK) ck_assert(out.n == sizeof f->doca && memcmp(out.p, f->doca, out.n) == 0);
    rc = read_doc(v, &out, f->ha, HRE_VAULT_READER_ACCOUNT, w->a_outsider, w->e_outsider);
    ck_assert_msg(rc == HRE_OK || rc == HRE_ENOTFOUND, "%s: outsider read %d", what, rc);
    /* B: all or nothing */
    rc = hre_vault_entry_by_locator(v, &e, f->locb, 1);
    ck_assert_msg(rc == HRE_OK || rc == HRE_ENOTFOUND, "%s: B %d", what, rc);
    if (rc == HRE_OK) {
        ck_assert_uint_eq(e.wrap_count, 3);
        HRE_T_OK(read_doc(v, &out, e.doc_hash, HRE_VAULT_READER_ACCOUNT, w->a_patient, w->e_patient));
        ck_assert(out.n == sizeof f->docb && memcmp(out.p, f->docb, out.n) == 0);
        HRE_T_OK(read_doc(v, &out, e.doc_hash, HRE_VAULT_READER_ORG, w->hosp, w->e_hosp));
        HRE_T_OK(read_doc(v, &out, e.doc_hash, HRE_VAULT_READER_ORG, w->lab, w->e_lab));
    }
    /* E: erased or not yet; after reconciling, erased and shredded */
    rc = hre_vault_entry_get(v, &e, f->he);
    ck_assert_msg(rc == HRE_OK || rc == HRE_EERASED, "%s: E %d", what, rc);
    if (rc == HRE_OK) HRE_T_OK(read_doc(v, &out, f->he, HRE_VAULT_READER_ORG, w->lab, w->e_lab));
    HRE_T_OK(hre_vault_reconcile(v, &n, vw_c(w)));
    ck_assert_int_eq(hre_vault_entry_get(v, &e, f->he), HRE_EERASED);
    HRE_T_OK(hre_vault_verify(v, NULL, 0));
    hre_vault_close(v);
    /* and once more from cold: nothing left to repair */
    v = vopen(st, NULL);
    HRE_T_OK(hre_vault_verify(v, NULL, HRE_VAULT_VERIFY_HASH));
    ck_assert_int_eq(hre_vault_entry_get(v, &e, f->he), HRE_EERASED);
    hre_vault_close(v);
    buf_free(&out);
}

static int pl_run(plfix *f, const hre_powerloss_options *po, uint64_t *calls, uint64_t *syncs)
{
    hre_storage *inner = clone_storage(f->base), *pls = NULL;
    int crashed;
    char what[128];
    HRE_T_OK(hre_powerloss_new(&pls, inner, po));
    pl_workload(f, pls);
    crashed = hre_t_pl_crashed(pls);
    if (calls) *calls = hre_t_pl_calls(pls);
    if (syncs) *syncs = hre_t_pl_syncs(pls);
    hre_storage_free(pls);
    snprintf(what, sizeof what, "mode %d sync %llu call %llu fail %llu seed %llu", po->mode,
             (unsigned long long)po->crash_at_sync, (unsigned long long)po->crash_at_call,
             (unsigned long long)po->fail_at_call, (unsigned long long)po->seed);
    pl_check(f, inner, what);
    hre_storage_free(inner);
    return crashed;
}

START_TEST(test_powerloss_every_sync)
{
    plfix f;
    uint64_t calls = 0, syncs = 0;
    hre_powerloss_options po = HRE_POWERLOSS_OPTIONS_INIT;
    hre_t_reseed(hre_t_seed() ^ 0x91a50001);
    plfix_new(&f);
    /* the clean run: everything happens */
    ck_assert_int_eq(pl_run(&f, &po, &calls, &syncs), 0);
    ck_assert_uint_gt(syncs, 10);
    for (int mode = HRE_POWERLOSS_DROP; mode <= HRE_POWERLOSS_TEAR; mode++)
        for (uint64_t k = 1; k <= syncs; k++) {
            HRE_T_OK(hre_powerloss_options_init(&po, HRE_POWERLOSS_OPTIONS_VERSION));
            po.mode = mode;
            po.crash_at_sync = k;
            po.seed = hre_t_rand();
            ck_assert_int_eq(pl_run(&f, &po, NULL, NULL), 1);
        }
    /* random points among all calls, torn writes */
    for (int i = 0; i < 60; i++) {
        HRE_T_OK(hre_powerloss_options_init(&po, HRE_POWERLOSS_OPTIONS_VERSION));
        po.mode = HRE_POWERLOSS_TEAR;
        po.crash_at_call = 1 + hre_t_rand_below(calls);
        po.seed = hre_t_rand();
        po.sector_size = 64;
        (void)pl_run(&f, &po, NULL, NULL);
    }
    printf("vault: power loss at each of %llu sync points (drop and tear) and 60 random calls of %llu\n",
           (unsigned long long)syncs, (unsigned long long)calls);
    plfix_free(&f);
}
END_TEST

START_TEST(test_io_errors_every_call)
{
    plfix f;
    uint64_t calls = 0;
    hre_powerloss_options po = HRE_POWERLOSS_OPTIONS_INIT;
    hre_t_reseed(hre_t_seed() ^ 0x91a50002);
    plfix_new(&f);
    ck_assert_int_eq(pl_run(&f, &po, &calls, NULL), 0);
    for (uint64_t k = 1; k <= calls; k++) {
        HRE_T_OK(hre_powerloss_options_init(&po, HRE_POWERLOSS_OPTIONS_VERSION));
        po.fail_at_call = k;
        po.fail_count = 1 + hre_t_rand_below(3);
        po.fail_code = k % 2 ? HRE_EIO : HRE_ENOSPC;
        po.fail_partial = (int)(k % 3 == 0);
        po.seed = hre_t_rand();
        (void)pl_run(&f, &po, NULL, NULL);
    }
    printf("vault: EIO / ENOSPC injected at each of %llu storage calls\n", (unsigned long long)calls);
    plfix_free(&f);
}
END_TEST

#ifdef HRE_WHITEBOX
/* Allocation failures anywhere in store, re-wrap, prune and erase: each call
 * fails cleanly, and the vault (reopened) is consistent. */
START_TEST(test_store_alloc_failures)
{
    plfix f;
    long total;
    hre_t_reseed(hre_t_seed() ^ 0x91a50003);
    plfix_new(&f);
    {   /* how many allocations the whole workload makes */
        hre_storage *inner = clone_storage(f.base);
        hre_test__alloc_fail_after(-1);
        pl_workload(&f, inner);
        total = hre_test__alloc_count();
        hre_storage_free(inner);
    }
    ck_assert_int_gt(total, 30);
    printf("vault: allocation failures across a workload of %ld allocations\n", total);
    for (long n = 0; n < total + 10; n += 1 + n / 60) {
        hre_storage *inner = clone_storage(f.base);
        hre_vault *v = NULL;
        hre_vault_options o = HRE_VAULT_OPTIONS_INIT;
        int rc;
        o.storage = inner;
        hre_test__alloc_fail_after(n);
        rc = hre_vault_open(&v, &o);
        hre_test__alloc_fail_after(-1);
        if (rc == HRE_OK) {
            hre_vault_close(v);
            /* the workload with the same failure budget */
            hre_test__alloc_fail_after(n);
            pl_workload(&f, inner);
            hre_test__alloc_fail_after(-1);
        } else {
            ck_assert_msg(rc == HRE_ENOMEM || rc == HRE_ECRYPTO, "open with alloc failure %ld: %d", n, rc);
        }
        pl_check(&f, inner, "alloc failure");
        hre_storage_free(inner);
    }
    plfix_free(&f);
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
    tc = tcase_create("store");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_fhir_corpus);
    tcase_add_test(tc, test_store_basics);
    tcase_add_test(tc, test_access_rules);
    tcase_add_test(tc, test_rewrap_reuse);
    tcase_add_test(tc, test_import);
    tcase_add_test(tc, test_erasure_scan);
    suite_add_tcase(s, tc);
    tc = tcase_create("powerloss");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_powerloss_every_sync);
    tcase_add_test(tc, test_io_errors_every_call);
#ifdef HRE_WHITEBOX
    tcase_add_test(tc, test_store_alloc_failures);
#endif
    suite_add_tcase(s, tc);
    return s;
}
