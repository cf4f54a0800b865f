/*
 * hre: the control protocol's wire format (control_codec.h; the spec is
 * docs/PROTOCOL.md section 17). Pure functions: no I/O, no allocation.
 * Fuzzed by tests/fuzz/fuzz_control_frame.c.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include <string.h>

#include "control_codec.h"

void ctl_put_u16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
void ctl_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
void ctl_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}
uint32_t ctl_get_u16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
uint32_t ctl_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
uint64_t ctl_get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

const char *ctl_err_detail(int e)
{
    switch (e) {
    case CTL_OK: return "ok";
    case CTL_E_FRAME_LEN: return "a frame length out of range";
    case CTL_E_VERSION: return "unsupported protocol version";
    case CTL_E_TYPE: return "a frame type not allowed here";
    case CTL_E_MALFORMED: return "malformed";
    case CTL_E_COUNT: return "a count out of range";
    case CTL_E_NUL: return "a string holds a NUL byte";
    case CTL_E_EMPTY: return "an empty PUT_DATA frame";
    case CTL_E_OVER: return "more bytes than announced";
    case CTL_E_BODY: return "a payload where none belongs";
    case CTL_E_UNDER: return "fewer bytes than announced";
    case CTL_E_BUFSIZE: return "the output buffer is too small";
    default: return "unknown";
    }
}

/* ---- frames ---------------------------------------------------------------- */

void ctl_frame_head(uint8_t out[CTL_FRAME_HEAD], uint8_t type, size_t payload_len)
{
    ctl_put_u32(out, (uint32_t)(payload_len + 2));
    out[4] = CTL_VERSION;
    out[5] = type;
}

int ctl_frame_len_decode(const uint8_t p[CTL_FRAME_LEN_BYTES], uint32_t cap, uint32_t *body_len)
{
    uint32_t n = ctl_get_u32(p);
    *body_len = 0;
    if (n < 2 || n > cap)
        return CTL_E_FRAME_LEN;
    *body_len = n;
    return CTL_OK;
}

int ctl_frame_body_decode(const uint8_t *body, size_t n, ctl_frame *out)
{
    memset(out, 0, sizeof *out);
    if (n < 2)
        return CTL_E_MALFORMED;
    out->type = body[1];
    if (body[0] != CTL_VERSION)
        return CTL_E_VERSION;
    out->payload = body + 2;
    out->len = n - 2;
    return CTL_OK;
}

/* ---- requests ---------------------------------------------------------------- */

static int run_fail(ctl_run *out, int e)
{
    size_t argc = out->argc;
    memset(out, 0, sizeof *out);
    if (e == CTL_E_COUNT)
        out->argc = argc;   /* for the message ("RUN with N arguments") */
    return e;
}

int ctl_run_decode(const uint8_t *p, size_t n, ctl_run *out)
{
    memset(out, 0, sizeof *out);
    /* cwd, argc, args: every length checked against what is left */
    if (n < 2 || ctl_get_u16(p) > CTL_ARG_MAX || 2 + (size_t)ctl_get_u16(p) + 2 > n)
        return CTL_E_MALFORMED;
    size_t cl = ctl_get_u16(p), off = 2 + cl;
    out->cwd.p = p + 2;
    out->cwd.len = cl;
    out->argc = ctl_get_u16(p + off);
    off += 2;
    if (out->argc < 1 || out->argc > CTL_ARGS_MAX)
        return run_fail(out, CTL_E_COUNT);
    for (size_t i = 0; i < out->argc; i++) {
        if (off + 2 > n || ctl_get_u16(p + off) > CTL_ARG_MAX || off + 2 + ctl_get_u16(p + off) > n)
            return run_fail(out, CTL_E_MALFORMED);
        size_t al = ctl_get_u16(p + off);
        if (memchr(p + off + 2, 0, al))
            return run_fail(out, CTL_E_NUL);
        out->argv[i].p = p + off + 2;
        out->argv[i].len = al;
        off += 2 + al;
    }
    if (off != n || memchr(out->cwd.p, 0, cl))
        return run_fail(out, CTL_E_MALFORMED);
    return CTL_OK;
}

size_t ctl_run_encoded_len(const ctl_run *r)
{
    if (r->argc < 1 || r->argc > CTL_ARGS_MAX || r->cwd.len > CTL_ARG_MAX)
        return 0;
    size_t len = 2 + r->cwd.len + 2;
    for (size_t i = 0; i < r->argc; i++) {
        if (r->argv[i].len > CTL_ARG_MAX)
            return 0;
        len += 2 + r->argv[i].len;
    }
    return len;
}

int ctl_run_encode(const ctl_run *r, uint8_t *out, size_t cap, size_t *len)
{
    size_t need = ctl_run_encoded_len(r), off;
    *len = 0;
    if (need == 0)
        return r->argc < 1 || r->argc > CTL_ARGS_MAX ? CTL_E_COUNT : CTL_E_MALFORMED;
    if (r->cwd.len && memchr(r->cwd.p, 0, r->cwd.len))
        return CTL_E_MALFORMED;
    for (size_t i = 0; i < r->argc; i++)
        if (r->argv[i].len && memchr(r->argv[i].p, 0, r->argv[i].len))
            return CTL_E_NUL;
    if (cap < need)
        return CTL_E_BUFSIZE;
    ctl_put_u16(out, (uint32_t)r->cwd.len);
    if (r->cwd.len)
        memcpy(out + 2, r->cwd.p, r->cwd.len);
    off = 2 + r->cwd.len;
    ctl_put_u16(out + off, (uint32_t)r->argc);
    off += 2;
    for (size_t i = 0; i < r->argc; i++) {
        ctl_put_u16(out + off, (uint32_t)r->argv[i].len);
        if (r->argv[i].len)
            memcpy(out + off + 2, r->argv[i].p, r->argv[i].len);
        off += 2 + r->argv[i].len;
    }
    *len = off;
    return CTL_OK;
}

int ctl_nonce_req_decode(const uint8_t *p, size_t n, ctl_nonce_req *out)
{
    memset(out, 0, sizeof *out);
    if (n < 1 || (p[0] != 32 && p[0] != 34))
        return CTL_E_COUNT;
    if (n != 1u + p[0])
        return CTL_E_MALFORMED;
    out->id = p + 1;
    out->id_len = p[0];
    return CTL_OK;
}

int ctl_nonce_req_encode(const uint8_t *id, size_t id_len, uint8_t out[CTL_NONCE_REQ_MAX],
                         size_t *len)
{
    *len = 0;
    if (id_len != 32 && id_len != 34)
        return CTL_E_COUNT;
    out[0] = (uint8_t)id_len;
    memcpy(out + 1, id, id_len);
    *len = 1 + id_len;
    return CTL_OK;
}

int ctl_network_id_req_decode(const uint8_t *p, size_t n)
{
    (void)p;
    return n == 0 ? CTL_OK : CTL_E_MALFORMED;
}

int ctl_submit_req_decode(const uint8_t *p, size_t n, ctl_str *tx)
{
    tx->p = NULL;
    tx->len = 0;
    if (n == 0 || n > HRE_TX_MAX_LEN)
        return CTL_E_MALFORMED;
    tx->p = p;
    tx->len = n;
    return CTL_OK;
}

int ctl_vault_get_req_decode(const uint8_t *p, size_t n, ctl_vault_get_req *out)
{
    memset(out, 0, sizeof *out);
    if (n != CTL_VAULT_GET_REQ_LEN)
        return CTL_E_MALFORMED;
    out->record_id = p;
    out->enc_key = p + 32;
    return CTL_OK;
}

void ctl_vault_get_req_encode(const uint8_t record_id[32], const uint8_t enc_key[34],
                              uint8_t out[CTL_VAULT_GET_REQ_LEN])
{
    memcpy(out, record_id, 32);
    memcpy(out + 32, enc_key, 34);
}

int ctl_xch_peers_req_decode(const uint8_t *p, size_t n, const uint8_t **record_id)
{
    *record_id = NULL;
    if (n != CTL_XCH_PEERS_REQ_LEN)
        return CTL_E_MALFORMED;
    *record_id = p;
    return CTL_OK;
}

int ctl_xch_fetch_req_decode(const uint8_t *p, size_t n, ctl_xch_fetch_req *out)
{
    memset(out, 0, sizeof *out);
    if (n != CTL_XCH_FETCH_REQ_LEN)
        return CTL_E_MALFORMED;
    out->conn = ctl_get_u64(p);
    out->request = p + 8;
    return CTL_OK;
}

void ctl_xch_fetch_req_encode(uint64_t conn, const uint8_t request[HRE_VAULT_XCH_REQUEST_LEN],
                              uint8_t out[CTL_XCH_FETCH_REQ_LEN])
{
    ctl_put_u64(out, conn);
    memcpy(out + 8, request, HRE_VAULT_XCH_REQUEST_LEN);
}

int ctl_put_hdr_decode(const uint8_t *p, size_t n, ctl_put_hdr *out)
{
    memset(out, 0, sizeof *out);
    /* u64 doc_len, u8 media_len, media, u8 n_readers, n x (u8 len, reader) */
    if (n < 10 || 9 + (size_t)p[8] + 1 > n)
        return CTL_E_MALFORMED;
    size_t ml = p[8], off = 9 + ml, nr = p[off++];
    if (ml > CTL_PUT_MEDIA_LEN || memchr(p + 9, 0, ml) || nr < 1 || nr > CTL_PUT_READERS_MAX)
        return CTL_E_MALFORMED;
    for (size_t i = 0; i < nr; i++) {
        size_t rl = off < n ? p[off] : 0;
        if (rl < 1 || rl > CTL_PUT_READER_LEN || off + 1 + rl > n ||
            memchr(p + off + 1, 0, rl)) {
            memset(out, 0, sizeof *out);
            return CTL_E_MALFORMED;
        }
        out->readers[i].p = p + off + 1;
        out->readers[i].len = rl;
        off += 1 + rl;
    }
    if (off != n) {
        memset(out, 0, sizeof *out);
        return CTL_E_MALFORMED;
    }
    out->doc_len = ctl_get_u64(p);
    out->media.p = p + 9;
    out->media.len = ml;
    out->n_readers = nr;
    return CTL_OK;
}

int ctl_put_hdr_encode(const ctl_put_hdr *h, uint8_t *out, size_t cap, size_t *len)
{
    size_t need = 8 + 1 + h->media.len + 1, off;
    *len = 0;
    if (h->media.len > CTL_PUT_MEDIA_LEN || h->n_readers < 1 ||
        h->n_readers > CTL_PUT_READERS_MAX ||
        (h->media.len && memchr(h->media.p, 0, h->media.len)))
        return CTL_E_MALFORMED;
    for (size_t i = 0; i < h->n_readers; i++) {
        if (h->readers[i].len < 1 || h->readers[i].len > CTL_PUT_READER_LEN ||
            memchr(h->readers[i].p, 0, h->readers[i].len))
            return CTL_E_MALFORMED;
        need += 1 + h->readers[i].len;
    }
    if (cap < need)
        return CTL_E_BUFSIZE;
    ctl_put_u64(out, h->doc_len);
    out[8] = (uint8_t)h->media.len;
    if (h->media.len)
        memcpy(out + 9, h->media.p, h->media.len);
    off = 9 + h->media.len;
    out[off++] = (uint8_t)h->n_readers;
    for (size_t i = 0; i < h->n_readers; i++) {
        out[off++] = (uint8_t)h->readers[i].len;
        memcpy(out + off, h->readers[i].p, h->readers[i].len);
        off += h->readers[i].len;
    }
    *len = off;
    return CTL_OK;
}

int ctl_put_frame_check(uint8_t type, size_t n, uint64_t total, uint64_t got)
{
    if (type == CTL_REQ_PUT_DATA) {
        if (n == 0)
            return CTL_E_EMPTY;
        if (got > total || n > total - got)
            return CTL_E_OVER;
        return CTL_OK;
    }
    if (type != CTL_REQ_PUT_END)
        return CTL_E_TYPE;
    if (n != 0)
        return CTL_E_BODY;
    if (got != total)
        return CTL_E_UNDER;
    return CTL_OK;
}

/* ---- answers ------------------------------------------------------------------ */

int ctl_rep_decode(uint8_t type, const uint8_t *p, size_t n, ctl_rep *out)
{
    memset(out, 0, sizeof *out);
    switch (type) {
    case CTL_REP_OUT:
    case CTL_REP_ERR:
    case CTL_REP_DATA:
        out->data.p = p;
        out->data.len = n;
        break;
    case CTL_REP_DONE:
        if (n < 1)
            return CTL_E_MALFORMED;
        out->exit_code = p[0];
        out->data.p = p + 1;
        out->data.len = n - 1;
        break;
    case CTL_REP_CONTINUE:
        if (n != 0)
            return CTL_E_BODY;
        break;
    default:
        return CTL_E_TYPE;
    }
    out->type = type;
    return CTL_OK;
}

int ctl_done_encode(uint8_t exit_code, const uint8_t *res, size_t res_len, uint8_t *out,
                    size_t cap, size_t *len)
{
    size_t rl = exit_code == 0 ? res_len : 0;
    *len = 0;
    if (cap < 1 || cap - 1 < rl)
        return CTL_E_BUFSIZE;
    out[0] = exit_code;
    if (rl)
        memcpy(out + 1, res, rl);
    *len = 1 + rl;
    return CTL_OK;
}

int ctl_nonce_result_decode(const uint8_t *p, size_t n, uint64_t *nonce)
{
    *nonce = 0;
    if (n != CTL_NONCE_RESULT_LEN)
        return CTL_E_MALFORMED;
    *nonce = ctl_get_u64(p);
    return CTL_OK;
}

void ctl_nonce_result_encode(uint64_t nonce, uint8_t out[CTL_NONCE_RESULT_LEN])
{
    ctl_put_u64(out, nonce);
}

int ctl_submit_result_decode(const uint8_t *p, size_t n, cli_submitted *out)
{
    memset(out, 0, sizeof *out);
    if (n != CTL_SUBMIT_RESULT_LEN)
        return CTL_E_MALFORMED;
    memcpy(out->txid, p, 32);
    out->status = p[32];
    out->height = ctl_get_u64(p + 33);
    out->in_block = 0;
    return CTL_OK;
}

void ctl_submit_result_encode(const uint8_t txid[32], uint8_t status, uint64_t height,
                              uint8_t out[CTL_SUBMIT_RESULT_LEN])
{
    memcpy(out, txid, 32);
    out[32] = status;
    ctl_put_u64(out + 33, height);
}

int ctl_xch_peers_result_decode(const uint8_t *p, size_t n, cli_xch_peer *out, size_t cap,
                                size_t *n_out)
{
    *n_out = 0;
    if (n < 1)
        return CTL_E_MALFORMED;
    if (p[0] > CTL_XCH_PEERS_MAX)
        return CTL_E_COUNT;
    if (n != 1 + (size_t)p[0] * CTL_XCH_PEER_LEN)
        return CTL_E_MALFORMED;
    for (size_t i = 0; i < p[0] && i < cap; i++) {
        const uint8_t *e = p + 1 + i * CTL_XCH_PEER_LEN;
        out[i].conn = ctl_get_u64(e);
        memcpy(out[i].binding, e + 8, 32);
        memcpy(out[i].org_id, e + 40, 32);
        (*n_out)++;
    }
    return CTL_OK;
}

int ctl_xch_peers_result_encode(const cli_xch_peer *peers, size_t n,
                                uint8_t out[CTL_XCH_PEERS_RESULT_MAX], size_t *len)
{
    *len = 0;
    if (n > CTL_XCH_PEERS_MAX)
        return CTL_E_COUNT;
    out[0] = (uint8_t)n;
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = out + 1 + i * CTL_XCH_PEER_LEN;
        ctl_put_u64(e, peers[i].conn);
        memcpy(e + 8, peers[i].binding, 32);
        memcpy(e + 40, peers[i].org_id, 32);
    }
    *len = 1 + n * CTL_XCH_PEER_LEN;
    return CTL_OK;
}

int ctl_put_result_decode(const uint8_t *p, size_t n, cli_put_result *out)
{
    memset(out, 0, sizeof *out);
    if (n != CTL_PUT_RESULT_LEN)
        return CTL_E_MALFORMED;
    memcpy(out->doc_hash, p, 32);
    memcpy(out->locator, p + 32, 32);
    out->doc_len = ctl_get_u64(p + 64);
    out->envelope_len = ctl_get_u64(p + 72);
    return CTL_OK;
}

void ctl_put_result_encode(const cli_put_result *r, uint8_t out[CTL_PUT_RESULT_LEN])
{
    memcpy(out, r->doc_hash, 32);
    memcpy(out + 32, r->locator, 32);
    ctl_put_u64(out + 64, r->doc_len);
    ctl_put_u64(out + 72, r->envelope_len);
}
