/*
 * Fuzz target: the `hre` tool's control protocol (docs/PROTOCOL.md section
 * 17; tools/hre/control_codec.c): the frame length and body decoders, every
 * request payload the node decodes (RUN, NONCE, NETWORK_ID, SUBMIT,
 * VAULT_GET, XCH_PEERS, XCH_FETCH, the VAULT_PUT header, the PUT_DATA /
 * PUT_END check inside an upload) and every answer the client decodes (OUT,
 * ERR, DATA, DONE, CONTINUE, and the results in DONE: nonce, submit, peer
 * list, vault put).
 *
 * The first byte picks the decoder (its value modulo 20):
 *   0        the rest is a stream of frames, each decoded like the node and
 *            the client read them (length, body), its payload then decoded
 *            by its type (requests and answers alike)
 *   1..8     the rest is the payload of request type 0x01..0x08
 *   9, 10    total:u64 got:u64 then the payload of a PUT_DATA / PUT_END
 *            frame in an upload that has taken `got` of `total` bytes
 *   11..15   the rest is the payload of answer type 0x81..0x85
 *   16..19   the rest is a DONE result: nonce, submit, XCH_PEERS (after one
 *            byte: the caller's capacity), VAULT_PUT
 * Invariants (abort on violation): each decoder returns CTL_OK or one of
 * its documented CTL_E* codes and zeroes its output on failure; whatever
 * decodes encodes back to exactly the input bytes (the decoders take only
 * the canonical form); lengths, counts and caps hold on what decoded.
 * Seeds: corpus/control_frame/ (tests/fuzz/corpus/gen_control_frame_seeds.py).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

static int same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static int has_nul(ctl_str s)
{
    return s.len && memchr(s.p, 0, s.len) != NULL;
}

static void check_run(const uint8_t *p, size_t n)
{
    static ctl_run r;
    static uint8_t back[CTL_REQ_MAX];
    size_t len = 0;
    int rc = ctl_run_decode(p, n, &r);
    if (rc != CTL_OK) {
        if (rc != CTL_E_MALFORMED && rc != CTL_E_COUNT && rc != CTL_E_NUL) abort();
        size_t argc = r.argc;
        if (rc == CTL_E_COUNT) {
            if (argc >= 1 && argc <= CTL_ARGS_MAX) abort();
            r.argc = 0;
        }
        if (!all_zero(&r, sizeof r)) abort();
        return;
    }
    if (r.argc < 1 || r.argc > CTL_ARGS_MAX || r.cwd.len > CTL_ARG_MAX || has_nul(r.cwd)) abort();
    for (size_t i = 0; i < r.argc; i++)
        if (r.argv[i].len > CTL_ARG_MAX || has_nul(r.argv[i])) abort();
    if (ctl_run_encoded_len(&r) != n) abort();
    if (n && ctl_run_encode(&r, back, n - 1, &len) != CTL_E_BUFSIZE) abort();
    if (ctl_run_encode(&r, back, sizeof back, &len) != CTL_OK || !same(back, len, p, n)) abort();
}

static void check_nonce_req(const uint8_t *p, size_t n)
{
    ctl_nonce_req r;
    uint8_t back[CTL_NONCE_REQ_MAX];
    size_t len = 0;
    int rc = ctl_nonce_req_decode(p, n, &r);
    if (rc != CTL_OK) {
        if ((rc != CTL_E_COUNT && rc != CTL_E_MALFORMED) || !all_zero(&r, sizeof r)) abort();
        return;
    }
    if (r.id_len != 32 && r.id_len != 34) abort();
    if (ctl_nonce_req_encode(r.id, r.id_len, back, &len) != CTL_OK || !same(back, len, p, n))
        abort();
}

static void check_put_hdr(const uint8_t *p, size_t n)
{
    static ctl_put_hdr h;
    static uint8_t back[CTL_PUT_HDR_MAX];
    size_t len = 0;
    int rc = ctl_put_hdr_decode(p, n, &h);
    if (rc != CTL_OK) {
        if (rc != CTL_E_MALFORMED || !all_zero(&h, sizeof h)) abort();
        return;
    }
    if (n > CTL_PUT_HDR_MAX || h.media.len > CTL_PUT_MEDIA_LEN || has_nul(h.media) ||
        h.n_readers < 1 || h.n_readers > CTL_PUT_READERS_MAX) abort();
    for (size_t i = 0; i < h.n_readers; i++)
        if (h.readers[i].len < 1 || h.readers[i].len > CTL_PUT_READER_LEN || has_nul(h.readers[i]))
            abort();
    if (ctl_put_hdr_encode(&h, back, n - 1, &len) != CTL_E_BUFSIZE) abort();
    if (ctl_put_hdr_encode(&h, back, sizeof back, &len) != CTL_OK || !same(back, len, p, n))
        abort();
}

static void check_put_frame(uint8_t type, const uint8_t *p, size_t n)
{
    if (n < 16)
        return;
    uint64_t total = ctl_get_u64(p), got = ctl_get_u64(p + 8);
    size_t len = n - 16;
    int rc = ctl_put_frame_check(type, len, total, got);
    int ok = type == CTL_REQ_PUT_DATA ? len >= 1 && got <= total && len <= total - got
                                      : len == 0 && got == total;
    if ((rc == CTL_OK) != ok) abort();
    if (type == CTL_REQ_PUT_DATA && rc != CTL_OK && rc != CTL_E_EMPTY && rc != CTL_E_OVER) abort();
    if (type == CTL_REQ_PUT_END && rc != CTL_OK && rc != CTL_E_BODY && rc != CTL_E_UNDER) abort();
    if (ctl_put_frame_check((uint8_t)(type + 0x80), len, total, got) != CTL_E_TYPE) abort();
}

static void check_results(const uint8_t *p, size_t n, int which, size_t cap);

static void check_request(uint8_t type, const uint8_t *p, size_t n)
{
    int rc;
    switch (type) {
    case CTL_REQ_RUN:
        check_run(p, n);
        break;
    case CTL_REQ_NONCE:
        check_nonce_req(p, n);
        break;
    case CTL_REQ_NETWORK_ID:
        rc = ctl_network_id_req_decode(p, n);
        if ((rc == CTL_OK) != (n == 0) || (rc != CTL_OK && rc != CTL_E_MALFORMED)) abort();
        break;
    case CTL_REQ_SUBMIT: {
        ctl_str tx;
        rc = ctl_submit_req_decode(p, n, &tx);
        if ((rc == CTL_OK) != (n >= 1 && n <= HRE_TX_MAX_LEN)) abort();
        if (rc == CTL_OK ? tx.p != p || tx.len != n : tx.p != NULL || tx.len != 0) abort();
        break;
    }
    case CTL_REQ_VAULT_GET: {
        ctl_vault_get_req r;
        uint8_t back[CTL_VAULT_GET_REQ_LEN];
        rc = ctl_vault_get_req_decode(p, n, &r);
        if ((rc == CTL_OK) != (n == CTL_VAULT_GET_REQ_LEN)) abort();
        if (rc != CTL_OK) {
            if (rc != CTL_E_MALFORMED || !all_zero(&r, sizeof r)) abort();
            break;
        }
        ctl_vault_get_req_encode(r.record_id, r.enc_key, back);
        if (!same(back, sizeof back, p, n)) abort();
        break;
    }
    case CTL_REQ_XCH_PEERS: {
        const uint8_t *id;
        rc = ctl_xch_peers_req_decode(p, n, &id);
        if ((rc == CTL_OK) != (n == CTL_XCH_PEERS_REQ_LEN)) abort();
        if (rc == CTL_OK ? id != p : id != NULL) abort();
        break;
    }
    case CTL_REQ_XCH_FETCH: {
        ctl_xch_fetch_req r;
        uint8_t back[CTL_XCH_FETCH_REQ_LEN];
        rc = ctl_xch_fetch_req_decode(p, n, &r);
        if ((rc == CTL_OK) != (n == CTL_XCH_FETCH_REQ_LEN)) abort();
        if (rc != CTL_OK) {
            if (rc != CTL_E_MALFORMED || !all_zero(&r, sizeof r)) abort();
            break;
        }
        ctl_xch_fetch_req_encode(r.conn, r.request, back);
        if (!same(back, sizeof back, p, n)) abort();
        break;
    }
    case CTL_REQ_VAULT_PUT:
        check_put_hdr(p, n);
        break;
    default:
        break;
    }
}

static void check_answer(uint8_t type, const uint8_t *p, size_t n)
{
    ctl_rep a;
    int rc = ctl_rep_decode(type, p, n, &a);
    int known = type >= CTL_REP_OUT && type <= CTL_REP_CONTINUE;
    if (rc != CTL_OK) {
        if (!all_zero(&a, sizeof a)) abort();
        if (!known ? rc != CTL_E_TYPE
                   : type == CTL_REP_DONE ? rc != CTL_E_MALFORMED || n != 0
                   : type == CTL_REP_CONTINUE ? rc != CTL_E_BODY || n == 0 : 1)
            abort();
        return;
    }
    if (!known || a.type != type) abort();
    if (type == CTL_REP_CONTINUE) {
        if (n != 0 || a.data.len != 0) abort();
    } else if (type == CTL_REP_DONE) {
        static uint8_t back[CTL_REP_FRAME];
        size_t len = 0;
        if (a.exit_code != p[0] || a.data.p != p + 1 || a.data.len != n - 1) abort();
        if (ctl_done_encode(a.exit_code, a.data.p, a.data.len, back, sizeof back, &len) != CTL_OK)
            abort();
        /* a failure's answer carries no result: the encoder drops it */
        if (a.exit_code == 0 ? !same(back, len, p, n) : len != 1 || back[0] != p[0]) abort();
        if (ctl_done_encode(a.exit_code, a.data.p, a.data.len, back, len - 1, &len) !=
            CTL_E_BUFSIZE) abort();
        if (a.exit_code == 0) {
            /* the result as each request's client reads it, chosen by length */
            size_t rl = a.data.len;
            check_results(a.data.p, rl, rl == CTL_NONCE_RESULT_LEN ? 16
                                        : rl == CTL_SUBMIT_RESULT_LEN ? 17
                                        : rl == CTL_PUT_RESULT_LEN ? 19 : 18, CTL_XCH_PEERS_MAX);
        }
    } else if (a.data.p != p || a.data.len != n) {
        abort();
    }
}

static void check_results(const uint8_t *p, size_t n, int which, size_t cap)
{
    int rc;
    switch (which) {
    case 16: {
        uint64_t v;
        uint8_t back[CTL_NONCE_RESULT_LEN];
        rc = ctl_nonce_result_decode(p, n, &v);
        if ((rc == CTL_OK) != (n == CTL_NONCE_RESULT_LEN)) abort();
        if (rc != CTL_OK) {
            if (rc != CTL_E_MALFORMED || v != 0) abort();
            break;
        }
        ctl_nonce_result_encode(v, back);
        if (!same(back, sizeof back, p, n)) abort();
        break;
    }
    case 17: {
        cli_submitted s;
        uint8_t back[CTL_SUBMIT_RESULT_LEN];
        rc = ctl_submit_result_decode(p, n, &s);
        if ((rc == CTL_OK) != (n == CTL_SUBMIT_RESULT_LEN)) abort();
        if (rc != CTL_OK) {
            if (rc != CTL_E_MALFORMED || !all_zero(&s, sizeof s)) abort();
            break;
        }
        if (s.status < 0 || s.status > 255 || s.in_block != 0) abort();
        ctl_submit_result_encode(s.txid, (uint8_t)s.status, s.height, back);
        if (!same(back, sizeof back, p, n)) abort();
        break;
    }
    case 18: {
        static cli_xch_peer peers[CTL_XCH_PEERS_MAX];
        static uint8_t back[CTL_XCH_PEERS_RESULT_MAX];
        size_t got = 99, len = 0;
        if (cap > CTL_XCH_PEERS_MAX)
            cap = CTL_XCH_PEERS_MAX;
        memset(peers, 0, sizeof peers);
        rc = ctl_xch_peers_result_decode(p, n, peers, cap, &got);
        if (rc != CTL_OK) {
            if ((rc != CTL_E_MALFORMED && rc != CTL_E_COUNT) || got != 0 ||
                !all_zero(peers, sizeof peers)) abort();
            break;
        }
        if (n < 1 || p[0] > CTL_XCH_PEERS_MAX || n != 1 + (size_t)p[0] * CTL_XCH_PEER_LEN ||
            got != (p[0] < cap ? p[0] : cap)) abort();
        for (size_t i = got; i < CTL_XCH_PEERS_MAX; i++)
            if (!all_zero(&peers[i], sizeof peers[i])) abort();   /* nothing past cap */
        if (got == p[0]) {
            if (ctl_xch_peers_result_encode(peers, got, back, &len) != CTL_OK ||
                !same(back, len, p, n)) abort();
        } else if (ctl_xch_peers_result_encode(peers, got, back, &len) != CTL_OK ||
                   len != 1 + got * CTL_XCH_PEER_LEN || memcmp(back + 1, p + 1, len - 1) != 0) {
            abort();   /* the first `cap` peers, as sent */
        }
        if (ctl_xch_peers_result_encode(peers, CTL_XCH_PEERS_MAX + 1, back, &len) != CTL_E_COUNT)
            abort();
        break;
    }
    case 19: {
        cli_put_result r;
        uint8_t back[CTL_PUT_RESULT_LEN];
        rc = ctl_put_result_decode(p, n, &r);
        if ((rc == CTL_OK) != (n == CTL_PUT_RESULT_LEN)) abort();
        if (rc != CTL_OK) {
            if (rc != CTL_E_MALFORMED || !all_zero(&r, sizeof r)) abort();
            break;
        }
        ctl_put_result_encode(&r, back);
        if (!same(back, sizeof back, p, n)) abort();
        break;
    }
    default:
        abort();
    }
}

static void check_payload(uint8_t type, const uint8_t *p, size_t n)
{
    if (type & 0x80)
        check_answer(type, p, n);
    else
        check_request(type, p, n);
}

/* A stream of frames as the node (requests) and the client (answers) read it. */
static void check_stream(const uint8_t *p, size_t n)
{
    while (n >= CTL_FRAME_LEN_BYTES) {
        uint32_t body = 7;
        uint8_t head[CTL_FRAME_HEAD];
        int rc = ctl_frame_len_decode(p, CTL_REQ_MAX, &body);
        uint32_t raw = ctl_get_u32(p);
        if ((rc == CTL_OK) != (raw >= 2 && raw <= CTL_REQ_MAX)) abort();
        if (rc != CTL_OK) {
            if (rc != CTL_E_FRAME_LEN || body != 0) abort();
            return;   /* the node closes the connection */
        }
        if (body != raw) abort();
        p += CTL_FRAME_LEN_BYTES;
        n -= CTL_FRAME_LEN_BYTES;
        if (body > n)
            return;   /* a short read: the connection ends */
        ctl_frame f;
        rc = ctl_frame_body_decode(p, body, &f);
        if (rc == CTL_E_VERSION) {
            if (p[0] == CTL_VERSION || f.type != p[1] || f.payload || f.len) abort();
        } else if (rc != CTL_OK || p[0] != CTL_VERSION || f.type != p[1] || f.payload != p + 2 ||
                   f.len != body - 2) {
            abort();
        } else {
            ctl_frame_head(head, f.type, f.len);
            if (memcmp(head, p - CTL_FRAME_LEN_BYTES, CTL_FRAME_HEAD) != 0) abort();
            check_payload(f.type, f.payload, f.len);
        }
        p += body;
        n -= body;
    }
    if (n) {   /* a frame too short for its body decoder */
        ctl_frame f;
        if (n < 2 && ctl_frame_body_decode(p, n, &f) != CTL_E_MALFORMED) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int sel = data[0] % 20;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (sel == 0)
        check_stream(p, n);
    else if (sel <= 8)
        check_request((uint8_t)sel, p, n);
    else if (sel <= 10)
        check_put_frame(sel == 9 ? CTL_REQ_PUT_DATA : CTL_REQ_PUT_END, p, n);
    else if (sel <= 15)
        check_answer((uint8_t)(CTL_REP_OUT + (sel - 11)), p, n);
    else if (sel != 18)
        check_results(p, n, sel, 0);
    else if (n >= 1)
        check_results(p + 1, n - 1, sel, p[0]);   /* the caller's capacity first */
    return 0;
}
