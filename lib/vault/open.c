/* The opener (PROTOCOL.md 14.2-14.4): wrap -> data key; envelope bytes ->
 * header check -> STREAM chunks authenticated and decrypted one at a time ->
 * padded stream (lengths, zero padding, bucket rule) -> payload (meta, then
 * the body raw or inflated) -> the sink. The chunk that may be the last is
 * held until more bytes (not final) or finish (final) decide. */
#include <string.h>
#include <zlib.h>

#include "vault/internal.h"
#include "hre/aead.h"
#include "hre/hash.h"

#define ZOUT_LEN 65536u

enum { O_READING = 0, O_FINISHED = 1, O_FAILED = 2 };
enum { P_FORMAT = 0, P_MEDIA_LEN, P_MEDIA, P_BODY };

struct hre_vault_opener {
    hre_vault_sink_fn sink;
    void *sink_ud;
    int state;
    unsigned int flags;
    uint64_t max_doc_len;
    uint8_t want_hash[32];
    uint8_t locator[32];
    uint32_t doc_version;
    uint8_t key_commit[32];
    hre_aead *aead;
    hre_sha256_ctx *sha;
    /* header */
    uint8_t hdr_bytes[HRE_VAULT_HEADER_LEN];
    size_t hdr_fill;
    int hdr_ok;
    hre_vault_header hdr;
    /* chunk buffer */
    uint8_t *buf;
    size_t buf_fill;
    uint32_t index;
    uint64_t chunks;
    /* padded stream */
    uint64_t payload_len;
    uint64_t padded_len;
    uint64_t envelope_len;
    int data_ended;
    /* payload */
    int stage;
    uint8_t body_format;
    uint8_t media_len;
    uint8_t media_fill;
    char media[HRE_VAULT_MEDIA_TYPE_MAX + 1];
    z_stream zs;
    int zs_live;
    int z_end;
    uint8_t *zout;
    uint64_t doc_len;
};

static int fail(hre_vault_opener *o, int rc)
{
    o->state = O_FAILED;
    return rc;
}

static int deliver(hre_vault_opener *o, const uint8_t *data, size_t len)
{
    int rc;
    if (len == 0) return HRE_OK;
    if (len > o->max_doc_len - o->doc_len)
        return hre__fail(HRE_ELIMIT, "vault open: the document is longer than %llu bytes",
                         (unsigned long long)o->max_doc_len);
    o->doc_len += len;
    rc = o->sink(o->sink_ud, data, len);
    if (rc != HRE_OK) return hre__fail(rc, "vault open: the sink stopped the opener (%d)", rc);
    return HRE_OK;
}

static int inflate_feed(hre_vault_opener *o, const uint8_t *in, size_t len)
{
    if (o->z_end)
        return hre__fail(HRE_EDECODE, "vault open: payload bytes after the end of the zlib stream");
    o->zs.next_in = (Bytef *)(uintptr_t)in;
    o->zs.avail_in = (uInt)len;           /* len <= one chunk */
    for (;;) {
        int zr, rc;
        o->zs.next_out = o->zout;
        o->zs.avail_out = ZOUT_LEN;
        zr = inflate(&o->zs, Z_NO_FLUSH);
        if (zr == Z_NEED_DICT || zr == Z_DATA_ERROR)
            return hre__fail(HRE_EDECODE, "vault open: the zlib body is malformed (%s)",
                             o->zs.msg ? o->zs.msg : "data error");
        if (zr == Z_MEM_ERROR) return hre__fail(HRE_ENOMEM, "vault open: inflate out of memory");
        if (zr == Z_STREAM_ERROR) return hre__fail(HRE_ECRYPTO, "vault open: inflate state error");
        if ((rc = deliver(o, o->zout, ZOUT_LEN - o->zs.avail_out)) != HRE_OK) return rc;
        if (zr == Z_STREAM_END) {
            o->z_end = 1;
            if (o->zs.avail_in != 0)
                return hre__fail(HRE_EDECODE, "vault open: %u payload bytes after the end of the "
                                 "zlib stream", (unsigned)o->zs.avail_in);
            return HRE_OK;
        }
        if (o->zs.avail_in == 0 && o->zs.avail_out != 0) return HRE_OK;
    }
}

/* Payload bytes of one chunk, in order. */
static int payload(hre_vault_opener *o, const uint8_t *p, size_t n)
{
    while (n > 0) {
        switch (o->stage) {
        case P_FORMAT:
            if (p[0] != HRE_VAULT__BODY_RAW && p[0] != HRE_VAULT__BODY_ZLIB)
                return hre__fail(HRE_EDECODE, "vault open: unknown body format %u", p[0]);
            o->body_format = p[0];
            o->stage = P_MEDIA_LEN;
            p++, n--;
            break;
        case P_MEDIA_LEN:
            if (p[0] > HRE_VAULT_MEDIA_TYPE_MAX)
                return hre__fail(HRE_EDECODE, "vault open: media type length %u over %d", p[0],
                                 HRE_VAULT_MEDIA_TYPE_MAX);
            o->media_len = p[0];
            o->stage = o->media_len ? P_MEDIA : P_BODY;
            p++, n--;
            break;
        case P_MEDIA:
            if (p[0] < 0x20 || p[0] > 0x7e)
                return hre__fail(HRE_EDECODE, "vault open: media type byte 0x%02x is not printable", p[0]);
            o->media[o->media_fill++] = (char)p[0];
            if (o->media_fill == o->media_len) o->stage = P_BODY;
            p++, n--;
            break;
        default:
            if (o->body_format == HRE_VAULT__BODY_ZLIB) {
                if (!o->zs_live) {
                    memset(&o->zs, 0, sizeof o->zs);
                    hre_vault__zinit(&o->zs);
                    if (inflateInit(&o->zs) != Z_OK)
                        return hre__fail(HRE_ENOMEM, "vault open: inflateInit failed");
                    o->zs_live = 1;
                    o->zout = hre__malloc(ZOUT_LEN);
                    if (!o->zout) return hre__fail(HRE_ENOMEM, "vault open: out of memory");
                }
                return inflate_feed(o, p, n);
            }
            return deliver(o, p, n);
        }
    }
    return HRE_OK;
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= p[i];
    return acc == 0;
}

/* Authenticate and decrypt the chunk at src[0..len) into buf (src may be buf
 * itself, or the caller's bytes: then no copy is made), and parse it. */
static int chunk(hre_vault_opener *o, const uint8_t *src, size_t len, int final)
{
    uint8_t nonce[12], aad[HRE_VAULT__AAD_LEN];
    size_t ptlen, cap;
    uint32_t dlen;
    int rc;
    if (!(o->flags & HRE_VAULT_OPEN_NO_HASH) && (rc = hre_sha256_update(o->sha, src, len)) != HRE_OK)
        return rc;
    ptlen = len - HRE_VAULT__TAG;
    hre_vault__chunk_nonce(nonce, o->hdr.nonce_prefix, o->index, final);
    memcpy(aad, o->hdr_bytes, HRE_VAULT_HEADER_LEN);
    hre__put_le32(aad + HRE_VAULT_HEADER_LEN, o->index);
    aad[HRE_VAULT_HEADER_LEN + 4] = final ? 1 : 0;
    rc = hre_aead_open(o->aead, o->buf, nonce, sizeof nonce, aad, sizeof aad, src, ptlen,
                       src + ptlen, HRE_VAULT__TAG);
    if (rc == HRE_EDECRYPT)
        return hre__fail(HRE_EDECRYPT, "vault open: chunk %u does not authenticate as %s chunk "
                         "(damaged, reordered, truncated or extended envelope)", (unsigned)o->index,
                         final ? "the final" : "a non-final");
    if (rc != HRE_OK) return rc;
    cap = ptlen - HRE_VAULT__LEN_PREFIX;
    dlen = hre__le32(o->buf);
    if (final && cap == 0)
        return hre__fail(HRE_EDECODE, "vault open: the final chunk %u is empty", (unsigned)o->index);
    if (dlen > cap)
        return hre__fail(HRE_EDECODE, "vault open: chunk %u claims %u payload bytes of %zu",
                         (unsigned)o->index, (unsigned)dlen, cap);
    if (o->data_ended && dlen > 0)
        return hre__fail(HRE_EDECODE, "vault open: chunk %u has payload after the padding began",
                         (unsigned)o->index);
    if (dlen < cap) o->data_ended = 1;
    if (!all_zero(o->buf + HRE_VAULT__LEN_PREFIX + dlen, cap - dlen))
        return hre__fail(HRE_EDECODE, "vault open: chunk %u has nonzero padding", (unsigned)o->index);
    o->payload_len += dlen;
    o->padded_len += cap;
    o->envelope_len += len;
    o->chunks++;
    if ((rc = payload(o, o->buf + HRE_VAULT__LEN_PREFIX, dlen)) != HRE_OK) return rc;
    if (!final) {
        if (o->index == UINT32_MAX || o->padded_len >= HRE_VAULT_PAYLOAD_MAX)
            return hre__fail(HRE_ELIMIT, "vault open: more chunks than any envelope has");
        o->index++;
    }
    return HRE_OK;
}

static int header(hre_vault_opener *o)
{
    int rc = hre_vault__header_decode(&o->hdr, o->hdr_bytes, sizeof o->hdr_bytes);
    if (rc != HRE_OK) return rc;
    if (memcmp(o->hdr.locator, o->locator, 32) != 0 || o->hdr.doc_version != o->doc_version)
        return hre__fail(HRE_EVERIFY, "vault open: the envelope is locator/version %u, not the "
                         "wrapped document's", (unsigned)o->hdr.doc_version);
    if (!hre_ct_equal(o->hdr.key_commit, o->key_commit, 32))
        return hre__fail(HRE_EDECRYPT, "vault open: the data key does not match the envelope's "
                         "key commitment (another document, or a damaged header)");
    if (!(o->flags & HRE_VAULT_OPEN_NO_HASH) &&
        (rc = hre_sha256_update(o->sha, o->hdr_bytes, sizeof o->hdr_bytes)) != HRE_OK)
        return rc;
    o->envelope_len = HRE_VAULT_HEADER_LEN;
    o->hdr_ok = 1;
    return HRE_OK;
}

int hre_vault__opener_new_key(hre_vault_opener **out, const uint8_t data_key[32],
                              const hre_vault_wrap *wrap, unsigned int flags, uint64_t max_doc_len,
                              hre_vault_sink_fn sink, void *sink_user_data)
{
    hre_vault_opener *o;
    uint8_t chunk_key[32];
    int rc;
    *out = NULL;
    if (flags & ~HRE_VAULT_OPEN_NO_HASH)
        return hre__fail(HRE_EINVAL, "vault open: unknown flags 0x%x", flags);
    o = hre__calloc(1, sizeof *o);
    if (!o) return hre__fail(HRE_ENOMEM, "vault open: out of memory");
    o->sink = sink;
    o->sink_ud = sink_user_data;
    o->flags = flags;
    o->max_doc_len = max_doc_len == 0 || max_doc_len > HRE_VAULT_DOC_MAX ? HRE_VAULT_DOC_MAX : max_doc_len;
    memcpy(o->want_hash, wrap->doc_hash, 32);
    memcpy(o->locator, wrap->locator, 32);
    o->doc_version = wrap->doc_version;
    rc = hre_vault__derive(chunk_key, o->key_commit, data_key);
    if (rc == HRE_OK) rc = hre_aead_new(&o->aead, chunk_key, 32);
    hre_wipe(chunk_key, sizeof chunk_key);
    if (rc == HRE_OK && !(flags & HRE_VAULT_OPEN_NO_HASH)) rc = hre_sha256_new(&o->sha);
    if (rc != HRE_OK) {
        hre_vault__opener_free(o);
        return rc;
    }
    *out = o;
    return HRE_OK;
}

int hre_vault__opener_write(hre_vault_opener *o, const uint8_t *data, size_t len)
{
    int rc;
    if (!o || (!data && len)) return hre__fail(HRE_EINVAL, "hre_vault_opener_write: NULL argument");
    if (o->state != O_READING)
        return hre__fail(HRE_ESTATE, "vault open: %s", o->state == O_FINISHED ? "already finished"
                                                                              : "failed earlier");
    while (len > 0) {
        size_t n;
        if (!o->hdr_ok) {
            n = HRE_VAULT_HEADER_LEN - o->hdr_fill;
            if (n > len) n = len;
            memcpy(o->hdr_bytes + o->hdr_fill, data, n);
            o->hdr_fill += n;
            data += n;
            len -= n;
            if (o->hdr_fill == HRE_VAULT_HEADER_LEN && (rc = header(o)) != HRE_OK) return fail(o, rc);
            continue;
        }
        /* the chunk buffer comes with the first byte after the header, so
         * an opener that only unwraps (or fails early) never allocates, nor
         * wipes, a whole chunk */
        if (!o->buf && !(o->buf = hre__malloc(HRE_VAULT_CHUNK_WIRE_LEN)))
            return fail(o, hre__fail(HRE_ENOMEM, "vault open: no memory for a chunk"));
        if (o->buf_fill == HRE_VAULT_CHUNK_WIRE_LEN) {
            if ((rc = chunk(o, o->buf, o->buf_fill, 0)) != HRE_OK) return fail(o, rc);
            o->buf_fill = 0;
        }
        if (o->buf_fill == 0 && len > HRE_VAULT_CHUNK_WIRE_LEN) {
            /* a whole chunk with more bytes after it: not the final one, and
             * decrypted straight from the caller's buffer */
            if ((rc = chunk(o, data, HRE_VAULT_CHUNK_WIRE_LEN, 0)) != HRE_OK) return fail(o, rc);
            data += HRE_VAULT_CHUNK_WIRE_LEN;
            len -= HRE_VAULT_CHUNK_WIRE_LEN;
            continue;
        }
        n = HRE_VAULT_CHUNK_WIRE_LEN - o->buf_fill;
        if (n > len) n = len;
        memcpy(o->buf + o->buf_fill, data, n);
        o->buf_fill += n;
        data += n;
        len -= n;
    }
    return HRE_OK;
}

int hre_vault__opener_finish(hre_vault_opener *o, hre_vault_content *content)
{
    hre_vault_content c;
    uint8_t got[32];
    int rc;
    if (!o) return hre__fail(HRE_EINVAL, "hre_vault_opener_finish: NULL opener");
    if (content && (rc = hre__vstruct_check(&hre_vault__content_vs, content->version)) != HRE_OK)
        return rc;
    if (o->state != O_READING)
        return hre__fail(HRE_ESTATE, "vault open: %s", o->state == O_FINISHED ? "already finished"
                                                                              : "failed earlier");
    if (!o->hdr_ok)
        return fail(o, hre__fail(HRE_EDECODE, "vault open: truncated envelope (%zu of %d header bytes)",
                                 o->hdr_fill, HRE_VAULT_HEADER_LEN));
    if (o->buf_fill < HRE_VAULT__MIN_FINAL_WIRE)
        return fail(o, hre__fail(HRE_EDECODE, "vault open: truncated envelope (no final chunk: "
                                 "%zu bytes after chunk %u)", o->buf_fill, (unsigned)o->index));
    if ((rc = chunk(o, o->buf, o->buf_fill, 1)) != HRE_OK) return fail(o, rc);
    o->buf_fill = 0;
    if (hre_vault_bucket(o->payload_len) != o->padded_len)
        return fail(o, hre__fail(HRE_EDECODE, "vault open: %llu padded bytes is not the bucket of a "
                                 "%llu-byte payload", (unsigned long long)o->padded_len,
                                 (unsigned long long)o->payload_len));
    if (o->stage != P_BODY)
        return fail(o, hre__fail(HRE_EDECODE, "vault open: the payload ends inside its media type"));
    if (o->body_format == HRE_VAULT__BODY_ZLIB && !o->z_end)
        return fail(o, hre__fail(HRE_EDECODE, "vault open: the zlib body is truncated"));
    if (!(o->flags & HRE_VAULT_OPEN_NO_HASH)) {
        if ((rc = hre_sha256_final(o->sha, got)) != HRE_OK) return fail(o, rc);
        if (memcmp(got, o->want_hash, 32) != 0)
            return fail(o, hre__fail(HRE_EVERIFY, "vault open: the envelope's SHA-256 is not the "
                                     "wrap's document hash"));
    } else {
        memcpy(got, o->want_hash, 32);
    }
    o->state = O_FINISHED;
    if (content) {
        memset(&c, 0, sizeof c);
        c.version = HRE_VAULT_CONTENT_VERSION;
        memcpy(c.doc_hash, got, 32);
        c.doc_len = o->doc_len;
        c.payload_len = o->payload_len;
        c.padded_len = o->padded_len;
        c.envelope_len = o->envelope_len;
        c.compressed = o->body_format == HRE_VAULT__BODY_ZLIB;
        c.media_type_len = o->media_len;
        memcpy(c.media_type, o->media, o->media_len);
        (void)hre__vstruct_out(&hre_vault__content_vs, content, &c);
    }
    return HRE_OK;
}

void hre_vault__opener_free(hre_vault_opener *o)
{
    if (!o) return;
    hre_aead_free(o->aead);
    hre_sha256_free(o->sha);
    if (o->zs_live) inflateEnd(&o->zs);
    if (o->zout) hre__free_secret(o->zout, ZOUT_LEN);
    if (o->buf) hre__free_secret(o->buf, HRE_VAULT_CHUNK_WIRE_LEN);
    hre__free_secret(o, sizeof *o);
}

/* ------------------------------------------------------------------------ */
/* Wraps                                                                     */
/* ------------------------------------------------------------------------ */

int hre_vault__unwrap(uint8_t key[32], const hre_vault_wrap *w, const hre_key *reader_key,
                      const hre_pubkey *expected_sender)
{
    uint8_t info[HRE_VAULT__WRAP_INFO_LEN];
    hre_pubkey *sender = NULL;
    int rc;
    memset(key, 0, 32);
    if ((rc = hre_vault__wrap_check(w)) != HRE_OK) return rc;
    if (hre_key_curve(reader_key) != HRE_CURVE_P256)
        return hre__fail(HRE_EUNSUPPORTED, "vault unwrap: the reader key is not a P-256 key");
    hre_vault__wrap_info(info, w->locator, w->doc_version, w->reader_type, w->reader_id,
                         w->sender_type, w->mode == HRE_HPKE_MODE_AUTH ? w->sender_id : NULL);
    if (w->mode == HRE_HPKE_MODE_AUTH) {
        uint8_t want[34];
        if (expected_sender) {
            /* the caller's parsed key, when it is the wrap's (no parse) */
            if (hre_pubkey_serialize_wire(expected_sender, want) != HRE_OK || memcmp(want, w->sender_key, 34) != 0)
                return hre__fail(HRE_EAUTH, "vault unwrap: the wrap was made by another sender key");
            sender = hre_pubkey_ref((hre_pubkey *)(uintptr_t)expected_sender);
        } else if ((rc = hre_pubkey_parse_wire(&sender, w->sender_key)) != HRE_OK) {
            return hre__fail(HRE_EDECODE, "vault unwrap: the wrap's sender key is not a valid point");
        }
        rc = hre_hpke_unwrap_auth(key, reader_key, sender, info, sizeof info, w->doc_hash, 32, w->hpke);
        hre_pubkey_free(sender);
    } else {
        if (expected_sender)
            return hre__fail(HRE_EAUTH, "vault unwrap: a base-mode wrap names no sender");
        rc = hre_hpke_unwrap(key, reader_key, info, sizeof info, w->doc_hash, 32, w->hpke);
    }
    if (rc == HRE_EDECRYPT)
        return hre__fail(HRE_EDECRYPT, "vault unwrap: the wrap does not open with this reader key "
                         "(another reader's wrap, a wrong key, or a damaged wrap)");
    if (rc == HRE_EDECODE)
        return hre__fail(HRE_EDECODE, "vault unwrap: the wrap's enc is not a valid P-256 point");
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Public entry points                                                       */
/* ------------------------------------------------------------------------ */

HRE_API int hre_vault_opener_new(hre_vault_opener **out, const hre_vault_open_params *p,
                                 hre_vault_sink_fn sink, void *sink_user_data)
{
    hre_vault_open_params prm;
    uint8_t key[32];
    int rc;
    HRE__API_SCOPE;
    if (out) *out = NULL;
    if (!out || !p || !sink) return hre__fail(HRE_EINVAL, "hre_vault_opener_new: NULL argument");
    if ((rc = hre__vstruct_in(&hre_vault__open_vs, &prm, p)) != HRE_OK) return rc;
    if (!prm.wrap || !prm.reader_key)
        return hre__fail(HRE_EINVAL, "hre_vault_opener_new: params without a wrap or a reader key");
    if ((rc = hre_vault__unwrap(key, prm.wrap, prm.reader_key, prm.expected_sender)) != HRE_OK)
        return rc;
    rc = hre_vault__opener_new_key(out, key, prm.wrap, prm.flags, prm.max_doc_len, sink,
                                   sink_user_data);
    hre_wipe(key, sizeof key);
    return hre__api_done(rc);
}

HRE_API int hre_vault_opener_write(hre_vault_opener *o, const uint8_t *data, size_t len)
{
    HRE__API_SCOPE;
    return hre__api_done(hre_vault__opener_write(o, data, len));
}

HRE_API int hre_vault_opener_finish(hre_vault_opener *o, hre_vault_content *content)
{
    HRE__API_SCOPE;
    return hre__api_done(hre_vault__opener_finish(o, content));
}

HRE_API void hre_vault_opener_free(hre_vault_opener *o)
{
    hre_vault__opener_free(o);
}
