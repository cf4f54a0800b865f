/* Document exchange wire codecs (PROTOCOL.md 15.2-15.5): the request (and
 * its signature), the answer header, the chunk and the refusal. Sans-I/O,
 * safe from any thread. */
#include <string.h>

#include "vault/internal.h"
#include "vault/exchange.h"
#include "hre/hash.h"

static const char *const refusal_names[HRE_VAULT_XCH_REFUSE_MAX + 1] = {
    "unknown", "no_grant", "revoked", "expired", "erased", "unknown_record", "not_member",
    "suspended", "no_log_access", "not_held", "bad_signature", "stale", "replay",
    "wrong_channel", "busy", "malformed", "internal"};

HRE_API const char *hre_vault_xch_refusal_name(int reason)
{
    if (reason < 1 || reason > HRE_VAULT_XCH_REFUSE_MAX) return "unknown";
    return refusal_names[reason];
}

HRE_API int hre_vault_xch_refusal_code(int reason)
{
    switch (reason) {
    case HRE_VAULT_XCH_REFUSE_NO_GRANT: return HRE_EAUTH;
    case HRE_VAULT_XCH_REFUSE_REVOKED: return HRE_EREVOKED;
    case HRE_VAULT_XCH_REFUSE_EXPIRED: return HRE_EEXPIRED;
    case HRE_VAULT_XCH_REFUSE_ERASED: return HRE_EERASED;
    case HRE_VAULT_XCH_REFUSE_UNKNOWN_RECORD: return HRE_ENOTFOUND;
    case HRE_VAULT_XCH_REFUSE_NOT_MEMBER: return HRE_EAUTH;
    case HRE_VAULT_XCH_REFUSE_SUSPENDED: return HRE_EAUTH;
    case HRE_VAULT_XCH_REFUSE_NO_LOG_ACCESS: return HRE_EAUTH;
    case HRE_VAULT_XCH_REFUSE_NOT_HELD: return HRE_ENOTFOUND;
    case HRE_VAULT_XCH_REFUSE_BAD_SIGNATURE: return HRE_EVERIFY;
    case HRE_VAULT_XCH_REFUSE_STALE: return HRE_EEXPIRED;
    case HRE_VAULT_XCH_REFUSE_REPLAY: return HRE_EEXISTS;
    case HRE_VAULT_XCH_REFUSE_WRONG_CHANNEL: return HRE_EVERIFY;
    case HRE_VAULT_XCH_REFUSE_BUSY: return HRE_ELIMIT;
    case HRE_VAULT_XCH_REFUSE_MALFORMED: return HRE_EDECODE;
    case HRE_VAULT_XCH_REFUSE_INTERNAL: return HRE_EIO;
    default: return HRE_EPROTO;
    }
}

/* Type and format bytes: HRE_EDECODE for another type, HRE_EUNSUPPORTED for a
 * newer format, HRE_EDECODE for format 0. */
static int check_tf(const uint8_t *in, size_t len, uint8_t type, const char *what)
{
    if (len < 2) return hre__fail(HRE_EDECODE, "exchange: %s: %zu bytes is too short", what, len);
    if (in[0] != type) return hre__fail(HRE_EDECODE, "exchange: %s: message type %u", what, in[0]);
    if (in[1] == 0) return hre__fail(HRE_EDECODE, "exchange: %s: format 0", what);
    if (in[1] > HRE_VAULT_XCH_FORMAT)
        return hre__fail(HRE_EUNSUPPORTED, "exchange: %s: format %u is newer than %u", what, in[1],
                         HRE_VAULT_XCH_FORMAT);
    return HRE_OK;
}

static int key_shape_ok(const uint8_t k[34])
{
    return (k[0] == HRE_CURVE_P256 || k[0] == HRE_CURVE_SECP256K1) && (k[1] == 2 || k[1] == 3);
}

/* ---- request ---- */

static void request_put(const hre_vault_xch_request *r, uint8_t out[HRE_VAULT_XCH_REQUEST_LEN])
{
    out[0] = HRE_VAULT_XCH_MSG_REQUEST;
    out[1] = HRE_VAULT_XCH_FORMAT;
    memcpy(out + 2, r->nonce, 16);
    hre__put_le64(out + 18, r->timestamp_ms);
    memcpy(out + 26, r->reader_key, 34);
    memcpy(out + 60, r->record_id, 32);
    memcpy(out + 92, r->binding, 32);
    memcpy(out + 124, r->sig, 64);
}

/* SHA-256(HRE_VAULT_XCH__REQ_DOMAIN || first 124 bytes of the encoding). */
static int request_digest(uint8_t d[32], const hre_vault_xch_request *r)
{
    uint8_t b[sizeof HRE_VAULT_XCH__REQ_DOMAIN - 1 + HRE_VAULT_XCH_REQUEST_LEN];
    const size_t dl = sizeof HRE_VAULT_XCH__REQ_DOMAIN - 1;
    memcpy(b, HRE_VAULT_XCH__REQ_DOMAIN, dl);
    request_put(r, b + dl);
    return hre_sha256(d, b, dl + HRE_VAULT_XCH_REQUEST_SIGNED_LEN);
}

HRE_API int hre_vault_xch_request_sign(hre_vault_xch_request *r, const hre_key *key)
{
    HRE__API_SCOPE;
    hre_pubkey *pk = NULL;
    uint8_t d[32];
    int rc;
    HRE__CHECK_ARG(r && key);
    if ((rc = hre_key_pubkey(key, &pk)) != HRE_OK) return rc;
    rc = hre_pubkey_serialize_wire(pk, r->reader_key);
    hre_pubkey_free(pk);
    if (rc != HRE_OK) return rc;
    if ((rc = request_digest(d, r)) != HRE_OK) return rc;
    return hre__api_done(hre_key_sign(key, r->sig, d));
}

HRE_API int hre_vault_xch_request_verify(const hre_vault_xch_request *r)
{
    HRE__API_SCOPE;
    hre_pubkey *pk = NULL;
    uint8_t d[32];
    int rc;
    HRE__CHECK_ARG(r);
    if (hre_pubkey_parse_wire(&pk, r->reader_key) != HRE_OK)
        return hre__fail(HRE_EDECODE, "exchange: the request's reader key is not a valid point");
    rc = request_digest(d, r);
    if (rc == HRE_OK && hre_pubkey_verify(pk, d, r->sig) != HRE_OK)
        rc = hre__fail(HRE_EVERIFY, "exchange: the request's signature does not verify");
    hre_pubkey_free(pk);
    return hre__api_done(rc);
}

HRE_API int hre_vault_xch_request_encode(const hre_vault_xch_request *r, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(r && len && (out || *len == 0));
    if (!key_shape_ok(r->reader_key)) return hre__fail(HRE_EINVAL, "exchange: request: bad reader key form");
    if (*len < HRE_VAULT_XCH_REQUEST_LEN) {
        *len = HRE_VAULT_XCH_REQUEST_LEN;
        return hre__fail(HRE_EBUFSIZE, "exchange: request needs %u bytes", HRE_VAULT_XCH_REQUEST_LEN);
    }
    request_put(r, out);
    *len = HRE_VAULT_XCH_REQUEST_LEN;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_vault_xch_request_decode(hre_vault_xch_request *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    int rc;
    HRE__CHECK_ARG(out);
    memset(out, 0, sizeof *out);
    HRE__CHECK_ARG(in || len == 0);
    if ((rc = check_tf(in, len, HRE_VAULT_XCH_MSG_REQUEST, "request")) != HRE_OK) return rc;
    if (len != HRE_VAULT_XCH_REQUEST_LEN)
        return hre__fail(HRE_EDECODE, "exchange: request: %zu bytes, want %u", len, HRE_VAULT_XCH_REQUEST_LEN);
    if (!key_shape_ok(in + 26)) return hre__fail(HRE_EDECODE, "exchange: request: bad reader key form");
    memcpy(out->nonce, in + 2, 16);
    out->timestamp_ms = hre__le64(in + 18);
    memcpy(out->reader_key, in + 26, 34);
    memcpy(out->record_id, in + 60, 32);
    memcpy(out->binding, in + 92, 32);
    memcpy(out->sig, in + 124, 64);
    return hre__api_done(HRE_OK);
}

/* ---- header ---- */

static uint64_t env_min(void) { return hre_vault_envelope_len(HRE_VAULT_PAD_MIN); }
static uint64_t env_max(void) { return hre_vault_envelope_len(HRE_VAULT_PAYLOAD_MAX); }

HRE_API int hre_vault_xch_header_encode(const hre_vault_xch_header *h, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    size_t wl = HRE_VAULT_WRAP_LEN;
    int rc;
    HRE__CHECK_ARG(h && len && (out || *len == 0));
    if (h->envelope_len < env_min() || h->envelope_len > env_max() ||
        memcmp(h->wrap.doc_hash, h->doc_hash, 32) != 0)
        return hre__fail(HRE_EINVAL, "exchange: header: envelope length or wrap does not fit");
    if (*len < HRE_VAULT_XCH_HEADER_LEN) {
        *len = HRE_VAULT_XCH_HEADER_LEN;
        return hre__fail(HRE_EBUFSIZE, "exchange: header needs %u bytes", (unsigned)HRE_VAULT_XCH_HEADER_LEN);
    }
    out[0] = HRE_VAULT_XCH_MSG_HEADER;
    out[1] = HRE_VAULT_XCH_FORMAT;
    memcpy(out + 2, h->nonce, 16);
    hre__put_le64(out + 18, h->envelope_len);
    memcpy(out + 26, h->doc_hash, 32);
    if ((rc = hre_vault_wrap_encode(&h->wrap, out + 58, &wl)) != HRE_OK) return rc;
    *len = HRE_VAULT_XCH_HEADER_LEN;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_vault_xch_header_decode(hre_vault_xch_header *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    int rc;
    HRE__CHECK_ARG(out);
    memset(out, 0, sizeof *out);
    HRE__CHECK_ARG(in || len == 0);
    if ((rc = check_tf(in, len, HRE_VAULT_XCH_MSG_HEADER, "header")) != HRE_OK) return rc;
    if (len != HRE_VAULT_XCH_HEADER_LEN)
        return hre__fail(HRE_EDECODE, "exchange: header: %zu bytes, want %u", len,
                         (unsigned)HRE_VAULT_XCH_HEADER_LEN);
    memcpy(out->nonce, in + 2, 16);
    out->envelope_len = hre__le64(in + 18);
    memcpy(out->doc_hash, in + 26, 32);
    if ((rc = hre_vault_wrap_decode(&out->wrap, in + 58, HRE_VAULT_WRAP_LEN)) != HRE_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    if (out->envelope_len < env_min() || out->envelope_len > env_max()) {
        memset(out, 0, sizeof *out);
        return hre__fail(HRE_EDECODE, "exchange: header: no envelope is that long");
    }
    if (memcmp(out->wrap.doc_hash, out->doc_hash, 32) != 0) {
        memset(out, 0, sizeof *out);
        return hre__fail(HRE_EDECODE, "exchange: header: the wrap is for another document");
    }
    return hre__api_done(HRE_OK);
}

/* ---- chunk ---- */

HRE_API int hre_vault_xch_chunk_encode(const hre_vault_xch_chunk *c, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    size_t need;
    HRE__CHECK_ARG(c && len && (out || *len == 0));
    if (c->len == 0 || c->len > HRE_VAULT_XCH_CHUNK_DATA_MAX || !c->data || c->offset > env_max() ||
        c->len > env_max() - c->offset)
        return hre__fail(HRE_EINVAL, "exchange: chunk: length or offset out of range");
    need = HRE_VAULT_XCH_CHUNK_OVERHEAD + (size_t)c->len;
    if (*len < need) {
        *len = need;
        return hre__fail(HRE_EBUFSIZE, "exchange: chunk needs %zu bytes", need);
    }
    out[0] = HRE_VAULT_XCH_MSG_CHUNK;
    out[1] = HRE_VAULT_XCH_FORMAT;
    memcpy(out + 2, c->nonce, 16);
    hre__put_le64(out + 18, c->offset);
    hre__put_le32(out + 26, c->len);
    memcpy(out + 30, c->data, c->len);
    *len = need;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_vault_xch_chunk_decode(hre_vault_xch_chunk *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    uint64_t off;
    uint32_t n;
    int rc;
    HRE__CHECK_ARG(out);
    memset(out, 0, sizeof *out);
    HRE__CHECK_ARG(in || len == 0);
    if ((rc = check_tf(in, len, HRE_VAULT_XCH_MSG_CHUNK, "chunk")) != HRE_OK) return rc;
    if (len <= HRE_VAULT_XCH_CHUNK_OVERHEAD)
        return hre__fail(HRE_EDECODE, "exchange: chunk: %zu bytes carries no data", len);
    off = hre__le64(in + 18);
    n = hre__le32(in + 26);
    if (n == 0 || n > HRE_VAULT_XCH_CHUNK_DATA_MAX || (size_t)n != len - HRE_VAULT_XCH_CHUNK_OVERHEAD)
        return hre__fail(HRE_EDECODE, "exchange: chunk: length field %u does not match %zu bytes", n,
                         len - HRE_VAULT_XCH_CHUNK_OVERHEAD);
    if (off > env_max() || n > env_max() - off)
        return hre__fail(HRE_EDECODE, "exchange: chunk: past the longest envelope");
    memcpy(out->nonce, in + 2, 16);
    out->offset = off;
    out->len = n;
    out->data = in + 30;
    return hre__api_done(HRE_OK);
}

/* ---- refusal ---- */

HRE_API int hre_vault_xch_refusal_encode(const hre_vault_xch_refusal *r, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(r && len && (out || *len == 0));
    if (r->reason < 1 || r->reason > HRE_VAULT_XCH_REFUSE_MAX || r->access_reason > HRE_ACCESS_ORG_SUSPENDED)
        return hre__fail(HRE_EINVAL, "exchange: refusal: reason %u / access reason %u out of range", r->reason,
                         r->access_reason);
    if (*len < HRE_VAULT_XCH_REFUSAL_LEN) {
        *len = HRE_VAULT_XCH_REFUSAL_LEN;
        return hre__fail(HRE_EBUFSIZE, "exchange: refusal needs %u bytes", HRE_VAULT_XCH_REFUSAL_LEN);
    }
    out[0] = HRE_VAULT_XCH_MSG_REFUSAL;
    out[1] = HRE_VAULT_XCH_FORMAT;
    memcpy(out + 2, r->nonce, 16);
    out[18] = r->reason;
    out[19] = r->access_reason;
    *len = HRE_VAULT_XCH_REFUSAL_LEN;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_vault_xch_refusal_decode(hre_vault_xch_refusal *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    int rc;
    HRE__CHECK_ARG(out);
    memset(out, 0, sizeof *out);
    HRE__CHECK_ARG(in || len == 0);
    if ((rc = check_tf(in, len, HRE_VAULT_XCH_MSG_REFUSAL, "refusal")) != HRE_OK) return rc;
    if (len != HRE_VAULT_XCH_REFUSAL_LEN)
        return hre__fail(HRE_EDECODE, "exchange: refusal: %zu bytes, want %u", len, HRE_VAULT_XCH_REFUSAL_LEN);
    if (in[18] < 1 || in[18] > HRE_VAULT_XCH_REFUSE_MAX || in[19] > HRE_ACCESS_ORG_SUSPENDED)
        return hre__fail(HRE_EDECODE, "exchange: refusal: reason %u / access reason %u unknown", in[18], in[19]);
    memcpy(out->nonce, in + 2, 16);
    out->reason = in[18];
    out->access_reason = in[19];
    return hre__api_done(HRE_OK);
}
