/* The sealer (PROTOCOL.md 14.2-14.4): document -> payload (meta, then the
 * body raw or zlib-compressed) -> padded stream -> STREAM chunks under
 * AES-256-GCM -> the sink; SHA-256 of the envelope; wraps of the data key.
 * Memory: one chunk buffer, one staging buffer for deflate output, the trial
 * window in AUTO mode, and one deflate state. */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "vault/internal.h"
#include "hre/aead.h"
#include "hre/hash.h"

#define STAGE_LEN 65536u           /* deflate output staging */
#define TRIAL_LEN 65536u           /* AUTO: document bytes judged */

enum { S_WRITING = 0, S_FINISHED = 1, S_FAILED = 2 };
enum { MODE_UNDECIDED = -1, MODE_RAW = HRE_VAULT__BODY_RAW, MODE_ZLIB = HRE_VAULT__BODY_ZLIB };

struct hre_vault_sealer {
    hre_vault_sink_fn sink;
    void *sink_ud;
    int state;
    int rc;                          /* the failure that made state S_FAILED */
    /* keys */
    uint8_t data_key[32];
    hre_aead *aead;
    hre_sha256_ctx *sha;
    /* header */
    hre_vault_header hdr;
    uint8_t hdr_bytes[HRE_VAULT_HEADER_LEN];
    int header_sent;
    /* sender of the wraps */
    uint8_t sender_type;
    uint8_t sender_id[32];
    const hre_key *sender_key;
    uint8_t sender_wire[34];
    /* payload */
    char media[HRE_VAULT_MEDIA_TYPE_MAX + 1];
    uint8_t media_len;
    int compress;                    /* HRE_VAULT_COMPRESS_* */
    int level;
    int mode;                        /* MODE_* once decided */
    z_stream zs;
    int zs_live;
    uint8_t *stage;                  /* deflate output */
    uint8_t *trial;                  /* AUTO: first TRIAL_LEN document bytes */
    size_t trial_len;
    /* chunk assembly: [u32 data_len][padded bytes ...][tag] */
    uint8_t *chunk;
    size_t fill;                     /* padded-stream bytes in the current chunk */
    uint32_t chunk_data;             /* payload bytes among them */
    uint32_t index;                  /* index of the current chunk */
    uint64_t doc_len;
    uint64_t payload_len;
    uint64_t padded_len;
    uint64_t envelope_len;
    uint8_t doc_hash[32];
};

static int fail(hre_vault_sealer *s, int rc)
{
    if (s->state != S_FAILED) {
        s->state = S_FAILED;
        s->rc = rc;
    }
    return rc;
}

/* Encrypt the current chunk and hand it (and, the first time, the header)
 * to the sink. */
static int emit_chunk(hre_vault_sealer *s, int final)
{
    uint8_t nonce[12], aad[HRE_VAULT__AAD_LEN];
    size_t ptlen = HRE_VAULT__LEN_PREFIX + s->fill;
    int rc;
    if (!s->header_sent) {
        if ((rc = hre_sha256_update(s->sha, s->hdr_bytes, sizeof s->hdr_bytes)) != HRE_OK) return rc;
        rc = s->sink(s->sink_ud, s->hdr_bytes, sizeof s->hdr_bytes);
        if (rc != HRE_OK) return hre__fail(rc, "vault seal: the sink refused the header (%d)", rc);
        s->header_sent = 1;
        s->envelope_len = HRE_VAULT_HEADER_LEN;
    }
    hre__put_le32(s->chunk, s->chunk_data);
    hre_vault__chunk_nonce(nonce, s->hdr.nonce_prefix, s->index, final);
    memcpy(aad, s->hdr_bytes, HRE_VAULT_HEADER_LEN);
    hre__put_le32(aad + HRE_VAULT_HEADER_LEN, s->index);
    aad[HRE_VAULT_HEADER_LEN + 4] = final ? 1 : 0;
    rc = hre_aead_seal(s->aead, s->chunk, s->chunk + ptlen, HRE_VAULT__TAG, nonce, sizeof nonce,
                       aad, sizeof aad, s->chunk, ptlen);
    if (rc != HRE_OK) return rc;
    if ((rc = hre_sha256_update(s->sha, s->chunk, ptlen + HRE_VAULT__TAG)) != HRE_OK) return rc;
    rc = s->sink(s->sink_ud, s->chunk, ptlen + HRE_VAULT__TAG);
    if (rc != HRE_OK)
        return hre__fail(rc, "vault seal: the sink refused chunk %u (%d)", (unsigned)s->index, rc);
    s->envelope_len += ptlen + HRE_VAULT__TAG;
    s->padded_len += s->fill;
    if (!final) {
        if (s->index == UINT32_MAX) return hre__fail(HRE_ELIMIT, "vault seal: too many chunks");
        s->index++;
    }
    s->fill = 0;
    s->chunk_data = 0;
    return HRE_OK;
}

/* Append padded-stream bytes (payload bytes, or zeros when data is NULL). A
 * full chunk is emitted (as not final) only when another byte needs room,
 * so the chunk that ends the stream is always the final one. */
static int push(hre_vault_sealer *s, const uint8_t *data, size_t len)
{
    while (len > 0) {
        size_t n;
        int rc;
        if (s->fill == HRE_VAULT_CHUNK_DATA_LEN && (rc = emit_chunk(s, 0)) != HRE_OK) return rc;
        n = HRE_VAULT_CHUNK_DATA_LEN - s->fill;
        if (n > len) n = len;
        if (data) {
            memcpy(s->chunk + HRE_VAULT__LEN_PREFIX + s->fill, data, n);
            s->chunk_data += (uint32_t)n;
            data += n;
        } else {
            memset(s->chunk + HRE_VAULT__LEN_PREFIX + s->fill, 0, n);
        }
        s->fill += n;
        len -= n;
    }
    return HRE_OK;
}

static int push_payload(hre_vault_sealer *s, const uint8_t *data, size_t len)
{
    if (len > HRE_VAULT_PAYLOAD_MAX - s->payload_len)
        return hre__fail(HRE_ELIMIT, "vault seal: payload over %llu bytes",
                         (unsigned long long)HRE_VAULT_PAYLOAD_MAX);
    s->payload_len += len;
    return push(s, data, len);
}

/* Run deflate over in (flush = Z_NO_FLUSH or Z_FINISH), pushing its output. */
static int deflate_feed(hre_vault_sealer *s, const uint8_t *in, size_t len, int flush)
{
    s->zs.next_in = (Bytef *)(uintptr_t)in;
    for (;;) {
        int zr, rc;
        size_t have;
        uInt take = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
        s->zs.avail_in = take;
        s->zs.next_out = s->stage;
        s->zs.avail_out = STAGE_LEN;
        zr = deflate(&s->zs, len > take ? Z_NO_FLUSH : flush);
        if (zr == Z_STREAM_ERROR) return hre__fail(HRE_ECRYPTO, "vault seal: deflate failed");
        len -= take - s->zs.avail_in;
        have = STAGE_LEN - s->zs.avail_out;
        if (have && (rc = push_payload(s, s->stage, have)) != HRE_OK) return rc;
        if (flush == Z_FINISH) {
            if (zr == Z_STREAM_END) return HRE_OK;
        } else if (len == 0 && s->zs.avail_in == 0 && s->zs.avail_out != 0) {
            return HRE_OK;
        }
    }
}

/* The body format is decided: emit the meta and start the body. */
static int begin_body(hre_vault_sealer *s, int mode)
{
    uint8_t meta[2];
    int rc;
    s->mode = mode;
    meta[0] = (uint8_t)mode;
    meta[1] = s->media_len;
    if ((rc = push_payload(s, meta, 2)) != HRE_OK) return rc;
    if (s->media_len && (rc = push_payload(s, (const uint8_t *)s->media, s->media_len)) != HRE_OK)
        return rc;
    if (mode == MODE_ZLIB) {
        memset(&s->zs, 0, sizeof s->zs);
        hre_vault__zinit(&s->zs);
        if (deflateInit2(&s->zs, s->level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return hre__fail(HRE_ENOMEM, "vault seal: deflateInit failed");
        s->zs_live = 1;
        s->stage = hre__malloc(STAGE_LEN);
        if (!s->stage) return hre__fail(HRE_ENOMEM, "vault seal: no memory for the deflate stage");
    }
    return HRE_OK;
}

static int body(hre_vault_sealer *s, const uint8_t *data, size_t len)
{
    if (len == 0) return HRE_OK;
    if (s->mode == MODE_ZLIB) return deflate_feed(s, data, len, Z_NO_FLUSH);
    return push_payload(s, data, len);
}

/* AUTO: compress if a level-1 trial on the first window saves >= 1/8. */
static int decide(hre_vault_sealer *s)
{
    z_stream t;
    uint8_t *out;
    uLong bound;
    int mode = MODE_RAW, rc;
    if (s->trial_len > 0) {
        bound = compressBound((uLong)s->trial_len);
        out = hre__malloc(bound);
        if (!out) return hre__fail(HRE_ENOMEM, "vault seal: no memory for the compression trial");
        memset(&t, 0, sizeof t);
        hre_vault__zinit(&t);
        if (deflateInit(&t, 1) != Z_OK) {
            hre__free(out);
            return hre__fail(HRE_ENOMEM, "vault seal: deflateInit failed");
        }
        t.next_in = s->trial;
        t.avail_in = (uInt)s->trial_len;
        t.next_out = out;
        t.avail_out = (uInt)bound;
        if (deflate(&t, Z_FINISH) == Z_STREAM_END && (uint64_t)t.total_out * 8 <= (uint64_t)s->trial_len * 7)
            mode = MODE_ZLIB;
        deflateEnd(&t);
        hre__free_secret(out, bound);
    }
    if ((rc = begin_body(s, mode)) != HRE_OK) return rc;
    rc = body(s, s->trial, s->trial_len);
    hre__free_secret(s->trial, TRIAL_LEN);
    s->trial = NULL;
    s->trial_len = 0;
    return rc;
}

static int media_ok(const char *m, size_t *len)
{
    size_t n = m ? strlen(m) : 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)m[i] < 0x20 || (unsigned char)m[i] > 0x7e) return 0;
    *len = n;
    return n <= HRE_VAULT_MEDIA_TYPE_MAX;
}

int hre_vault__sealer_new(hre_vault_sealer **out, const hre_vault_seal_params *p,
                          hre_vault_sink_fn sink, void *sink_user_data)
{
    hre_vault_seal_params prm;
    hre_vault_sealer *s;
    uint8_t chunk_key[32];
    size_t mlen = 0;
    int rc;
    if (out) *out = NULL;
    if (!out || !p || !sink) return hre__fail(HRE_EINVAL, "hre_vault_sealer_new: NULL argument");
    if ((rc = hre__vstruct_in(&hre_vault__seal_vs, &prm, p)) != HRE_OK) return rc;
    if (prm.doc_version == 0) return hre__fail(HRE_EINVAL, "vault seal: document version 0");
    if (!media_ok(prm.media_type, &mlen))
        return hre__fail(HRE_EINVAL, "vault seal: media type is not 0..127 printable ASCII bytes");
    if (prm.compress < HRE_VAULT_COMPRESS_AUTO || prm.compress > HRE_VAULT_COMPRESS_ALWAYS)
        return hre__fail(HRE_EINVAL, "vault seal: unknown compress value %d", prm.compress);
    if (prm.compress_level < 0 || prm.compress_level > 9)
        return hre__fail(HRE_EINVAL, "vault seal: compress_level %d (0..9)", prm.compress_level);
    if (prm.sender_key) {
        if (prm.sender_type > HRE_VAULT_READER_ORG)
            return hre__fail(HRE_EINVAL, "vault seal: unknown sender type %u", prm.sender_type);
        if (hre_key_curve(prm.sender_key) != HRE_CURVE_P256)
            return hre__fail(HRE_EINVAL, "vault seal: the sender key is not a P-256 key");
    }
    s = hre__calloc(1, sizeof *s);
    if (!s) return hre__fail(HRE_ENOMEM, "vault seal: out of memory");
    s->sink = sink;
    s->sink_ud = sink_user_data;
    s->mode = MODE_UNDECIDED;
    s->compress = prm.compress;
    s->level = prm.compress_level ? prm.compress_level : 6;
    s->media_len = (uint8_t)mlen;
    if (mlen) memcpy(s->media, prm.media_type, mlen);
    s->sender_type = prm.sender_key ? prm.sender_type : 0;
    if (prm.sender_key) {
        hre_pubkey *pub = NULL;
        memcpy(s->sender_id, prm.sender_id, 32);
        s->sender_key = prm.sender_key;
        rc = hre_key_pubkey(prm.sender_key, &pub);
        if (rc == HRE_OK) rc = hre_pubkey_serialize_wire(pub, s->sender_wire);
        hre_pubkey_free(pub);
        if (rc != HRE_OK) goto fail;
    }
    s->chunk = hre__malloc(HRE_VAULT_CHUNK_LEN + HRE_VAULT__TAG);
    if (!s->chunk) {
        rc = hre__fail(HRE_ENOMEM, "vault seal: no memory for a chunk");
        goto fail;
    }
    s->hdr.format = HRE_VAULT_FORMAT;
    s->hdr.chunk_log2 = HRE_VAULT_CHUNK_LOG2;
    memcpy(s->hdr.locator, prm.locator, 32);
    s->hdr.doc_version = prm.doc_version;
    if ((rc = hre_random_bytes(s->data_key, 32)) != HRE_OK) goto fail;
    if ((rc = hre_random_bytes(s->hdr.nonce_prefix, HRE_VAULT_NONCE_PREFIX_LEN)) != HRE_OK) goto fail;
    if ((rc = hre_vault__derive(chunk_key, s->hdr.key_commit, s->data_key)) != HRE_OK) goto fail;
    rc = hre_aead_new(&s->aead, chunk_key, 32);
    hre_wipe(chunk_key, sizeof chunk_key);
    if (rc != HRE_OK) goto fail;
    if ((rc = hre_sha256_new(&s->sha)) != HRE_OK) goto fail;
    hre_vault__header_put(s->hdr_bytes, &s->hdr);
    if (s->compress == HRE_VAULT_COMPRESS_AUTO) {
        s->trial = hre__malloc(TRIAL_LEN);
        if (!s->trial) {
            rc = hre__fail(HRE_ENOMEM, "vault seal: no memory for the compression trial");
            goto fail;
        }
    } else if ((rc = begin_body(s, s->compress == HRE_VAULT_COMPRESS_ALWAYS ? MODE_ZLIB : MODE_RAW))
               != HRE_OK) {
        goto fail;
    }
    *out = s;
    return HRE_OK;
fail:
    hre_vault__sealer_free(s);
    return rc;
}

int hre_vault__sealer_write(hre_vault_sealer *s, const uint8_t *data, size_t len)
{
    int rc;
    if (!s || (!data && len)) return hre__fail(HRE_EINVAL, "hre_vault_sealer_write: NULL argument");
    if (s->state != S_WRITING)
        return hre__fail(HRE_ESTATE, "vault seal: %s", s->state == S_FINISHED ? "already finished"
                                                                              : "failed earlier");
    if (len > HRE_VAULT_DOC_MAX - s->doc_len)
        return fail(s, hre__fail(HRE_ELIMIT, "vault seal: document over %llu bytes",
                                 (unsigned long long)HRE_VAULT_DOC_MAX));
    s->doc_len += len;
    if (s->mode == MODE_UNDECIDED) {
        size_t n = TRIAL_LEN - s->trial_len;
        if (n > len) n = len;
        memcpy(s->trial + s->trial_len, data, n);
        s->trial_len += n;
        data += n;
        len -= n;
        if (s->trial_len < TRIAL_LEN) return HRE_OK;
        if ((rc = decide(s)) != HRE_OK) return fail(s, rc);
    }
    if ((rc = body(s, data, len)) != HRE_OK) return fail(s, rc);
    return HRE_OK;
}

int hre_vault__sealer_finish(hre_vault_sealer *s, uint8_t doc_hash[32], hre_vault_content *content)
{
    hre_vault_content c;
    uint64_t pad;
    int rc;
    if (doc_hash) memset(doc_hash, 0, 32);
    if (!s || !doc_hash) return hre__fail(HRE_EINVAL, "hre_vault_sealer_finish: NULL argument");
    if (content && (rc = hre__vstruct_check(&hre_vault__content_vs, content->version)) != HRE_OK)
        return rc;
    if (s->state != S_WRITING)
        return hre__fail(HRE_ESTATE, "vault seal: %s", s->state == S_FINISHED ? "already finished"
                                                                              : "failed earlier");
    if (s->mode == MODE_UNDECIDED && (rc = decide(s)) != HRE_OK) return fail(s, rc);
    if (s->mode == MODE_ZLIB) {
        rc = deflate_feed(s, NULL, 0, Z_FINISH);
        if (rc != HRE_OK) return fail(s, rc);
    }
    pad = hre_vault_bucket(s->payload_len);
    if (pad == 0) return fail(s, hre__fail(HRE_ELIMIT, "vault seal: payload has no bucket"));
    if ((rc = push(s, NULL, pad - s->payload_len)) != HRE_OK) return fail(s, rc);
    if ((rc = emit_chunk(s, 1)) != HRE_OK) return fail(s, rc);
    if ((rc = hre_sha256_final(s->sha, s->doc_hash)) != HRE_OK) return fail(s, rc);
    s->state = S_FINISHED;
    if (s->zs_live) {
        deflateEnd(&s->zs);
        s->zs_live = 0;
    }
    hre__free(s->stage);
    s->stage = NULL;
    memcpy(doc_hash, s->doc_hash, 32);
    if (content) {
        memset(&c, 0, sizeof c);
        c.version = HRE_VAULT_CONTENT_VERSION;
        memcpy(c.doc_hash, s->doc_hash, 32);
        c.doc_len = s->doc_len;
        c.payload_len = s->payload_len;
        c.padded_len = s->padded_len;
        c.envelope_len = s->envelope_len;
        c.compressed = s->mode == MODE_ZLIB;
        c.media_type_len = s->media_len;
        memcpy(c.media_type, s->media, s->media_len);
        (void)hre__vstruct_out(&hre_vault__content_vs, content, &c);
    }
    return HRE_OK;
}

int hre_vault__wrap_make(hre_vault_wrap *out, const uint8_t data_key[32], const uint8_t doc_hash[32],
                         const uint8_t locator[32], uint32_t doc_version, uint8_t reader_type,
                         const uint8_t reader_id[32], const hre_pubkey *reader_key,
                         uint8_t sender_type, const uint8_t sender_id[32], const hre_key *sender_key,
                         const uint8_t sender_wire[34])
{
    uint8_t info[HRE_VAULT__WRAP_INFO_LEN];
    int rc;
    memset(out, 0, sizeof *out);
    if (reader_type > HRE_VAULT_READER_ORG)
        return hre__fail(HRE_EINVAL, "vault wrap: unknown reader type %u", reader_type);
    if (hre_pubkey_curve(reader_key) != HRE_CURVE_P256)
        return hre__fail(HRE_EUNSUPPORTED, "vault wrap: the reader key is not a P-256 key");
    hre_vault__wrap_info(info, locator, doc_version, reader_type, reader_id, sender_type,
                         sender_key ? sender_id : NULL);
    if (sender_key)
        rc = hre_hpke_wrap_auth(out->hpke, reader_key, sender_key, info, sizeof info, doc_hash, 32,
                                data_key);
    else
        rc = hre_hpke_wrap(out->hpke, reader_key, info, sizeof info, doc_hash, 32, data_key);
    if (rc != HRE_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    memcpy(out->doc_hash, doc_hash, 32);
    memcpy(out->locator, locator, 32);
    out->doc_version = doc_version;
    out->reader_type = reader_type;
    memcpy(out->reader_id, reader_id, 32);
    if (sender_key) {
        out->mode = HRE_HPKE_MODE_AUTH;
        out->sender_type = sender_type;
        memcpy(out->sender_id, sender_id, 32);
        memcpy(out->sender_key, sender_wire, 34);
    } else {
        out->mode = HRE_HPKE_MODE_BASE;
    }
    return HRE_OK;
}

int hre_vault__sealer_wrap(hre_vault_sealer *s, hre_vault_wrap *out, uint8_t reader_type,
                           const uint8_t reader_id[32], const hre_pubkey *reader_key)
{
    if (out) memset(out, 0, sizeof *out);
    if (!s || !out || !reader_id || !reader_key)
        return hre__fail(HRE_EINVAL, "hre_vault_sealer_wrap: NULL argument");
    if (s->state != S_FINISHED)
        return hre__fail(HRE_ESTATE, "vault seal: wrap before a successful finish");
    return hre_vault__wrap_make(out, s->data_key, s->doc_hash, s->hdr.locator, s->hdr.doc_version,
                                reader_type, reader_id, reader_key, s->sender_type, s->sender_id,
                                s->sender_key, s->sender_wire);
}

void hre_vault__sealer_free(hre_vault_sealer *s)
{
    if (!s) return;
    hre_wipe(s->data_key, sizeof s->data_key);
    hre_aead_free(s->aead);
    hre_sha256_free(s->sha);
    if (s->zs_live) deflateEnd(&s->zs);
    if (s->stage) hre__free_secret(s->stage, STAGE_LEN);
    if (s->trial) hre__free_secret(s->trial, TRIAL_LEN);
    if (s->chunk) hre__free_secret(s->chunk, HRE_VAULT_CHUNK_LEN + HRE_VAULT__TAG);
    hre__free_secret(s, sizeof *s);
}

uint64_t hre_vault__sealer_doc_len(const hre_vault_sealer *s) { return s->doc_len; }

/* ------------------------------------------------------------------------ */
/* Public entry points                                                       */
/* ------------------------------------------------------------------------ */

HRE_API int hre_vault_sealer_new(hre_vault_sealer **out, const hre_vault_seal_params *p,
                                 hre_vault_sink_fn sink, void *sink_user_data)
{
    HRE__API_SCOPE;
    return hre__api_done(hre_vault__sealer_new(out, p, sink, sink_user_data));
}

HRE_API int hre_vault_sealer_write(hre_vault_sealer *s, const uint8_t *data, size_t len)
{
    HRE__API_SCOPE;
    return hre__api_done(hre_vault__sealer_write(s, data, len));
}

HRE_API int hre_vault_sealer_finish(hre_vault_sealer *s, uint8_t doc_hash[32],
                                    hre_vault_content *content)
{
    HRE__API_SCOPE;
    return hre__api_done(hre_vault__sealer_finish(s, doc_hash, content));
}

HRE_API int hre_vault_sealer_wrap(hre_vault_sealer *s, hre_vault_wrap *out, uint8_t reader_type,
                                  const uint8_t reader_id[32], const hre_pubkey *reader_key)
{
    HRE__API_SCOPE;
    return hre__api_done(hre_vault__sealer_wrap(s, out, reader_type, reader_id, reader_key));
}

HRE_API void hre_vault_sealer_free(hre_vault_sealer *s)
{
    hre_vault__sealer_free(s);
}
