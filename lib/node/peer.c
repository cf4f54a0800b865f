/*
 * One peer connection: Noise frame assembly (any split of the byte stream),
 * the XX handshake with the hello and identity payloads, transport
 * decryption with rekeying, message assembly with per-type caps, the
 * version exchange, dispatch of ready messages within the work budget, and
 * the send side (coalescing plaintext, sealing into frames, the queue the
 * transport drains). docs/PROTOCOL.md 12.1 - 12.4.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hre/hash.h"
#include "hre/key.h"
#include "node/internal.h"

/* Estimate of what OpenSSL holds per connection (two AES-GCM contexts and
 * the handshake's X25519 keys), counted with the peer. */
#define PEER_CRYPTO_EST 4096u

/* ------------------------------------------------------------------------ */
/* Byte queue                                                                */
/* ------------------------------------------------------------------------ */

static int buf_reserve(hre_node *n, hre_node__buf *b, size_t extra)
{
    size_t live = b->len - b->off, need, ncap;
    uint8_t *np;
    if (b->off && (b->off >= b->cap / 2 || b->len + extra > b->cap)) {
        memmove(b->p, b->p + b->off, live);
        b->len = live;
        b->off = 0;
    }
    need = b->len + extra;
    if (need <= b->cap)
        return HRE_OK;
    ncap = b->cap ? b->cap : 4096;
    while (ncap < need)
        ncap *= 2;
    np = hre_node__realloc(n, b->p, ncap);
    if (!np)
        return hre__fail(HRE_ENOMEM, "node: out of memory for a send queue");
    b->p = np;
    b->cap = ncap;
    return HRE_OK;
}

static void buf_release(hre_node *n, hre_node__buf *b)
{
    hre_node__dealloc(n, b->p);
    memset(b, 0, sizeof *b);
}

size_t hre_node__queued(const hre_node__peer *p)
{
    return p->out.len - p->out.off;
}

int hre_node__buf_take(hre_node *n, hre_node__peer *p, uint8_t *out, size_t *len)
{
    size_t live = hre_node__queued(p), k = *len < live ? *len : live;
    if (k) {
        memcpy(out, p->out.p + p->out.off, k);
        p->out.off += k;
        p->bytes_sent += k;
        n->bytes_sent += k;
    }
    *len = k;
    if (p->out.off == p->out.len) {
        if (p->out.cap > 65536)
            buf_release(n, &p->out);
        else
            p->out.off = p->out.len = 0;
    }
    return HRE_OK;
}

/* ------------------------------------------------------------------------ */
/* Closing                                                                   */
/* ------------------------------------------------------------------------ */

void hre_node__close(hre_node *n, hre_node__peer *p, int reason, int call_close, const char *fmt, ...)
{
    va_list ap;
    if (p->closing)
        return;
    p->closing = 1;
    p->close_reason = reason;
    p->close_call = call_close;
    va_start(ap, fmt);
    vsnprintf(p->close_detail, sizeof p->close_detail, fmt, ap);
    va_end(ap);
    if (hre_node_reason_discourages(reason))
        hre_node__discourage(n, p->address, p->has_identity ? p->key : NULL, reason);
    HRE_NODE__LOG(n, hre_node_reason_discourages(reason) ? HRE_LOG_WARN : HRE_LOG_INFO,
                  "peer %llu (%s) disconnected: %s: %s", (unsigned long long)p->conn,
                  p->address[0] ? p->address : "-", hre_node_reason_name(reason), p->close_detail);
}

static void msg_free(hre_node *n, hre_node__peer *p, hre_node__msg *m)
{
    if (!m)
        return;
    p->in_bytes -= m->cap + sizeof *m;
    hre_node__dealloc(n, m->data);
    hre_node__dealloc(n, m);
}

void hre_node__peer_free(hre_node *n, hre_node__peer *p)
{
    hre_node__msg *m, *next;
    if (!p)
        return;
    hre_noise__hs_free(p->hs);
    hre_noise__transport_clear(&p->tr);
    hre_node__dealloc(n, p->frame);
    if (p->pt) {
        hre_wipe(p->pt, HRE_NOISE__MAX_PAYLOAD);
        hre_node__dealloc(n, p->pt);
    }
    for (m = p->inbox; m; m = next) {
        next = m->next;
        msg_free(n, p, m);
    }
    msg_free(n, p, p->cur);
    buf_release(n, &p->out);
    hre_node__known_free(n, &p->known);
    hre_node__dealloc(n, p->getdata);
    hre_node__mem(n, -(int64_t)PEER_CRYPTO_EST);
    hre_node__dealloc(n, p);
}

/* ------------------------------------------------------------------------ */
/* Send side                                                                 */
/* ------------------------------------------------------------------------ */

/* Encrypt len plaintext bytes into one frame on the out queue. */
static int seal(hre_node *n, hre_node__peer *p, const uint8_t *pt, size_t len)
{
    size_t clen = len + HRE_NOISE__TAG_LEN;
    int rc;
    if (p->tr.send.n >= UINT64_MAX - 1) {
        hre_node__close(n, p, HRE_NODE_REASON_NONCE_EXHAUSTED, 1, "send nonce exhausted");
        return HRE_ELIMIT;
    }
    if (hre_node__queued(p) + clen + 2 > n->peer_send_max) {
        hre_node__close(n, p, HRE_NODE_REASON_SEND_BUFFER, 1,
                        "send queue over %u bytes (the peer does not read)", n->peer_send_max);
        return HRE_ELIMIT;
    }
    if ((rc = buf_reserve(n, &p->out, clen + 2)) != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_RESOURCES, 1, "out of memory for the send queue");
        return rc;
    }
    p->out.p[p->out.len] = (uint8_t)(clen >> 8);
    p->out.p[p->out.len + 1] = (uint8_t)clen;
    rc = hre_noise__transport_write(&p->tr, p->out.p + p->out.len + 2, &clen, pt, len);
    if (rc != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_RESOURCES, 1, "sealing failed: %s", hre_error_detail());
        return rc;
    }
    p->out.len += clen + 2;
    if (++p->send_msgs % HRE_NODE__REKEY_INTERVAL == 0 &&
        (rc = hre_noise__transport_rekey_send(&p->tr)) != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_RESOURCES, 1, "rekey failed");
        return rc;
    }
    return HRE_OK;
}

static int pt_flush(hre_node *n, hre_node__peer *p)
{
    int rc = HRE_OK;
    if (p->pt_len) {
        rc = seal(n, p, p->pt, p->pt_len);
        hre_wipe(p->pt, p->pt_len);
        p->pt_len = 0;
    }
    if (p->pt) {
        hre_node__dealloc(n, p->pt);
        p->pt = NULL;
    }
    return rc;
}

static int pt_put(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len)
{
    int rc;
    while (len) {
        size_t k;
        if (p->pt_len == 0 && len >= HRE_NOISE__MAX_PAYLOAD) {
            /* a whole frame straight from the source */
            if ((rc = seal(n, p, d, HRE_NOISE__MAX_PAYLOAD)) != HRE_OK)
                return rc;
            d += HRE_NOISE__MAX_PAYLOAD;
            len -= HRE_NOISE__MAX_PAYLOAD;
            continue;
        }
        if (!p->pt) {
            p->pt = hre_node__alloc(n, HRE_NOISE__MAX_PAYLOAD);
            if (!p->pt) {
                hre_node__close(n, p, HRE_NODE_REASON_RESOURCES, 1, "out of memory");
                return HRE_ENOMEM;
            }
        }
        k = HRE_NOISE__MAX_PAYLOAD - p->pt_len;
        if (k > len)
            k = len;
        memcpy(p->pt + p->pt_len, d, k);
        p->pt_len += k;
        d += k;
        len -= k;
        if (p->pt_len == HRE_NOISE__MAX_PAYLOAD) {
            rc = seal(n, p, p->pt, p->pt_len);
            p->pt_len = 0;
            if (rc != HRE_OK)
                return rc;
        }
    }
    return HRE_OK;
}

int hre_node__send(hre_node *n, hre_node__peer *p, uint16_t cmd, const uint8_t *a, size_t alen,
                   const uint8_t *b, size_t blen)
{
    uint8_t hdr[HRE_NODE__MSG_HDR];
    size_t total = alen + blen;
    int rc;
    if (p->closing || !p->have_tr)
        return HRE_ESTATE;
    if (total > UINT32_MAX)
        return HRE_ELIMIT;
    /* The whole message must fit the queue (with its frames' overhead). */
    if (hre_node__queued(p) + p->pt_len + total + HRE_NODE__MSG_HDR +
            (total / HRE_NOISE__MAX_PAYLOAD + 2) * (HRE_NOISE__TAG_LEN + 2) > n->peer_send_max) {
        hre_node__close(n, p, HRE_NODE_REASON_SEND_BUFFER, 1,
                        "send queue over %u bytes (the peer does not read)", n->peer_send_max);
        return HRE_ELIMIT;
    }
    hre_node__msg_header(hdr, n->magic, cmd, (uint32_t)total);
    if ((rc = pt_put(n, p, hdr, sizeof hdr)) != HRE_OK)
        return rc;
    if (alen && (rc = pt_put(n, p, a, alen)) != HRE_OK)
        return rc;
    if (blen && (rc = pt_put(n, p, b, blen)) != HRE_OK)
        return rc;
    p->last_send = n->now;
    return HRE_OK;
}

/* Queue a handshake frame (clear framing of a Noise handshake message). */
static int queue_frame(hre_node *n, hre_node__peer *p, const uint8_t *msg, size_t len)
{
    int rc = buf_reserve(n, &p->out, len + 2);
    if (rc != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_RESOURCES, 1, "out of memory");
        return rc;
    }
    p->out.p[p->out.len] = (uint8_t)(len >> 8);
    p->out.p[p->out.len + 1] = (uint8_t)len;
    memcpy(p->out.p + p->out.len + 2, msg, len);
    p->out.len += len + 2;
    return HRE_OK;
}

void hre_node__flush(hre_node *n, hre_node__peer *p)
{
    if (p->closing)
        return;
    if (p->have_tr && pt_flush(n, p) != HRE_OK)
        return;
    while (n->tm.send && !p->blocked && !p->closing && hre_node__queued(p)) {
        size_t live = hre_node__queued(p), sent = 0;
        int rc = n->tm.send(n->tud, p->conn, p->out.p + p->out.off, live, &sent);
        if (rc == HRE_EAGAIN || (rc == HRE_OK && sent == 0)) {
            p->blocked = 1;
            break;
        }
        if (rc != HRE_OK) {
            hre_node__close(n, p, HRE_NODE_REASON_TRANSPORT, 1, "transport send failed: %s",
                            hre_strerror(rc));
            break;
        }
        if (sent > live)
            sent = live;
        p->out.off += sent;
        p->bytes_sent += sent;
        n->bytes_sent += sent;
        if (sent < live)
            p->blocked = 1;
    }
    if (p->out.off == p->out.len) {
        if (p->out.cap > 65536)
            buf_release(n, &p->out);
        else
            p->out.off = p->out.len = 0;
    }
}

/* ------------------------------------------------------------------------ */
/* Handshake                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct id_ctx {
    hre_node *n;
    int rc;
} id_ctx;

/* Write the identity payload over handshake hash h. */
static int write_identity(void *arg, const uint8_t h[32], uint8_t *payload, size_t len)
{
    id_ctx *c = arg;
    uint8_t d[32];
    int rc;
    payload[0] = 1;
    if (!c->n->identity) {
        payload[1] = 0;
        return len == HRE_NODE__ID_NONE_LEN ? HRE_OK : HRE_EINVAL;
    }
    if (len != HRE_NODE__ID_LEN)
        return HRE_EINVAL;
    payload[1] = 1;
    memcpy(payload + 2, c->n->identity_key, 34);
    rc = hre_node__identity_digest(d, h);
    if (rc == HRE_OK)
        rc = hre_key_sign(c->n->identity, payload + 36, d);
    c->rc = rc;
    return rc;
}

static int send_hs(hre_node *n, hre_node__peer *p, int with_identity)
{
    uint8_t msg[256];
    size_t ml = sizeof msg;
    int rc;
    if (with_identity) {
        id_ctx c = { n, HRE_OK };
        rc = hre_noise__hs_write_fn(p->hs, msg, &ml, n->identity ? HRE_NODE__ID_LEN : HRE_NODE__ID_NONE_LEN,
                                    write_identity, &c);
    } else {
        uint8_t hello[HRE_NODE__HELLO_LEN];
        hre_node__hello_encode(hello, n->network_id);
        rc = hre_noise__hs_write(p->hs, msg, &ml, hello, sizeof hello);
    }
    if (rc != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_RESOURCES, 1, "handshake write failed: %s",
                        hre_error_detail());
        return rc;
    }
    return queue_frame(n, p, msg, ml);
}

static void send_version(hre_node *n, hre_node__peer *p)
{
    hre_node__version v;
    uint8_t b[HRE_NODE__VERSION_LEN];
    memset(&v, 0, sizeof v);
    v.protocol = HRE_NODE_PROTOCOL_VERSION;
    memcpy(v.network_id, n->network_id, 32);
    memcpy(v.fingerprint, n->fingerprint, 32);
    v.best_height = n->tip_height;
    memcpy(v.best_work, n->tip_work, 32);
    v.nonce = n->nonce;
    v.time_ms = n->now;
    hre_node__version_encode(b, &v);
    if (hre_node__send(n, p, HRE_NODE__CMD_VERSION, b, sizeof b, NULL, 0) == HRE_OK)
        p->sent_version = 1;
}

/* The channel is up: keep the transport, drop the handshake. */
static int go_transport(hre_node *n, hre_node__peer *p)
{
    int rc = hre_noise__hs_split(p->hs, &p->tr);
    if (rc != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_RESOURCES, 1, "split failed: %s", hre_error_detail());
        return rc;
    }
    memcpy(p->hh, p->tr.h, 32);
    hre_noise__hs_free(p->hs);
    p->hs = NULL;
    p->have_tr = 1;
    p->state = NODE__VER;
    send_version(n, p);
    return HRE_OK;
}

/* Check the peer's identity payload against the handshake hash it covers. */
static int check_identity(hre_node *n, hre_node__peer *p, const uint8_t *pl, size_t len)
{
    uint8_t key[34], sig[64], h[32], d[32];
    hre_pubkey *pk = NULL;
    int has, rc;
    if (hre_node__identity_decode(&has, key, sig, pl, len) != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_IDENTITY_MALFORMED, 1, "identity payload does not decode");
        return HRE_EPROTO;
    }
    if (!has) {
        p->has_identity = 0;
        p->member = HRE_NODE_MEMBER_NONE;
        return HRE_OK;
    }
    if (hre_pubkey_parse_wire(&pk, key) != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_IDENTITY_MALFORMED, 1, "identity key does not parse");
        return HRE_EPROTO;
    }
    hre_noise__hs_payload_hash(p->hs, h);
    rc = hre_node__identity_digest(d, h);
    if (rc == HRE_OK)
        rc = hre_pubkey_verify(pk, d, sig);
    hre_pubkey_free(pk);
    if (rc != HRE_OK) {
        hre_node__close(n, p, rc == HRE_EVERIFY ? HRE_NODE_REASON_IDENTITY_INVALID : HRE_NODE_REASON_RESOURCES,
                        1, "identity signature does not verify over this handshake (man in the middle?)");
        return HRE_EPROTO;
    }
    if (hre_node__is_discouraged(n, NULL, key)) {
        hre_node__close(n, p, HRE_NODE_REASON_DISCOURAGED, 1, "identity is discouraged");
        return HRE_EPROTO;
    }
    p->has_identity = 1;
    memcpy(p->key, key, 34);
    p->member = hre_node__membership(n, key, p->member_addr, p->org);
    p->was_live = p->member == HRE_NODE_MEMBER_LIVE;
    return HRE_OK;
}

static int hs_frame(hre_node *n, hre_node__peer *p, const uint8_t *msg, size_t len)
{
    uint8_t pl[HRE_NOISE__MAX_MSG];
    size_t pll = sizeof pl;
    size_t idx = hre_noise__hs_message_index(p->hs);
    int rc;

    if (hre_noise__hs_action(p->hs) != HRE_NOISE__READ) {
        hre_node__close(n, p, HRE_NODE_REASON_HANDSHAKE_FAILED, 1, "handshake message out of turn");
        return HRE_EPROTO;
    }
    if (idx == 0 && len >= 32 && hre_node__replay_seen(n, msg)) {
        hre_node__close(n, p, HRE_NODE_REASON_REPLAY, 1,
                        "replayed handshake: initiator ephemeral key seen recently");
        return HRE_EPROTO;
    }
    rc = hre_noise__hs_read(p->hs, pl, &pll, msg, len);
    if (rc != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_HANDSHAKE_FAILED, 1, "handshake message %zu: %s", idx,
                        hre_error_detail());
        return HRE_EPROTO;
    }
    if (idx == 0) {
        uint32_t ver;
        uint8_t net[32];
        rc = hre_node__hello_decode(&ver, net, pl, pll);
        if (rc == HRE_EVERIFY || rc == HRE_EDECODE) {
            hre_node__close(n, p, HRE_NODE_REASON_BAD_MAGIC, 1, "handshake hello: bad magic or length");
            return HRE_EPROTO;
        }
        if (rc == HRE_ESTATE) {
            hre_node__close(n, p, HRE_NODE_REASON_OLD_VERSION, 1, "handshake hello: protocol version 0");
            return HRE_EPROTO;
        }
        if (memcmp(net, n->network_id, 32) != 0) {
            hre_node__close(n, p, HRE_NODE_REASON_WRONG_NETWORK, 1, "handshake hello: another network");
            return HRE_EPROTO;
        }
        return send_hs(n, p, 1) == HRE_OK ? HRE_OK : HRE_EPROTO;
    }
    if ((rc = check_identity(n, p, pl, pll)) != HRE_OK)
        return rc;
    if (idx == 1) {
        /* initiator: message 3 carries our identity, then the channel is up */
        if (send_hs(n, p, 1) != HRE_OK)
            return HRE_EPROTO;
    }
    return go_transport(n, p) == HRE_OK ? HRE_OK : HRE_EPROTO;
}

int hre_node__peer_start(hre_node *n, hre_node__peer *p)
{
    hre_noise__config cfg;
    int rc;
    memset(&cfg, 0, sizeof cfg);
    cfg.protocol = HRE_NODE__NOISE_NAME;
    cfg.initiator = (p->flags & HRE_NODE_PEER_OUTBOUND) != 0;
    cfg.prologue = n->prologue;
    cfg.prologuelen = sizeof n->prologue;
    cfg.s = &n->stat;
    if ((rc = hre_noise__hs_new(&p->hs, &cfg)) != HRE_OK)
        return rc;
    hre_node__mem(n, (int64_t)PEER_CRYPTO_EST);
    p->state = NODE__HS;
    if (cfg.initiator)
        return send_hs(n, p, 0);
    return HRE_OK;
}

/* ------------------------------------------------------------------------ */
/* Receive side                                                              */
/* ------------------------------------------------------------------------ */

static int over_cap_reason(uint16_t cmd)
{
    switch (cmd) {
    case HRE_NODE__CMD_HEADERS: return HRE_NODE_REASON_HEADERS_OVER_CAP;
    case HRE_NODE__CMD_GETHEADERS: return HRE_NODE_REASON_LOCATOR_OVER_CAP;
    case HRE_NODE__CMD_INV:
    case HRE_NODE__CMD_NOTFOUND: return HRE_NODE_REASON_INV_OVER_CAP;
    case HRE_NODE__CMD_GETDATA: return HRE_NODE_REASON_GETDATA_OVER_CAP;
    default: return HRE_NODE_REASON_OVERSIZE;
    }
}

static int known_cmd(uint16_t cmd)
{
    return cmd >= HRE_NODE__CMD_VERSION && cmd <= HRE_NODE__CMD_APP;
}

static int msg_grow(hre_node *n, hre_node__peer *p, size_t need)
{
    hre_node__msg *m = p->cur;
    size_t ncap = m->cap ? m->cap : 0;
    uint8_t *nd;
    if (need <= m->cap)
        return HRE_OK;
    if (ncap < 4096)
        ncap = 4096;
    while (ncap < need)
        ncap *= 2;
    if (ncap > m->len)
        ncap = m->len;
    if (p->in_bytes + (ncap - m->cap) > n->peer_recv_max) {
        hre_node__close(n, p, HRE_NODE_REASON_RECV_BUFFER, 1, "receive buffer over %llu bytes",
                        (unsigned long long)n->peer_recv_max);
        return HRE_EPROTO;
    }
    if (n->mem_used + (ncap - m->cap) > n->max_memory) {
        hre_node__close(n, p, HRE_NODE_REASON_RECV_BUFFER, 1,
                        "the node's memory cap (%llu bytes) would be exceeded",
                        (unsigned long long)n->max_memory);
        return HRE_EPROTO;
    }
    nd = hre_node__realloc(n, m->data, ncap);
    if (!nd) {
        hre_node__close(n, p, HRE_NODE_REASON_RESOURCES, 1, "out of memory for a message");
        return HRE_EPROTO;
    }
    p->in_bytes += ncap - m->cap;
    m->data = nd;
    m->cap = ncap;
    return HRE_OK;
}

static void enqueue(hre_node__peer *p, hre_node__msg *m)
{
    m->next = NULL;
    if (p->inbox_tail)
        p->inbox_tail->next = m;
    else
        p->inbox = m;
    p->inbox_tail = m;
    p->inbox_n++;
}

static int msg_header(hre_node *n, hre_node__peer *p)
{
    size_t cap;
    if (memcmp(p->mhdr, n->magic, 4) != 0) {
        hre_node__close(n, p, HRE_NODE_REASON_BAD_MAGIC, 1, "message with another network's magic");
        return HRE_EPROTO;
    }
    p->mcmd = hre__le16(p->mhdr + 4);
    p->mlen = hre__le32(p->mhdr + 6);
    p->mgot = 0;
    cap = hre_node__cap(p->mcmd, n->params.max_block_size, n->app_max_message);
    if (p->mlen > cap) {
        hre_node__close(n, p, over_cap_reason(p->mcmd), 1, "message %u of %zu bytes over its cap %zu",
                        (unsigned)p->mcmd, p->mlen, cap);
        return HRE_EPROTO;
    }
    p->mskip = !known_cmd(p->mcmd) ||
               (p->mcmd == HRE_NODE__CMD_BLOCK && !hre_node__block_wanted(n, p, (uint32_t)p->mlen));
    if (!p->mskip) {
        hre_node__msg *m = hre_node__zalloc(n, sizeof *m);
        if (!m) {
            hre_node__close(n, p, HRE_NODE_REASON_RESOURCES, 1, "out of memory for a message");
            return HRE_EPROTO;
        }
        m->cmd = p->mcmd;
        m->len = p->mlen;
        p->in_bytes += sizeof *m;
        p->cur = m;
    }
    return HRE_OK;
}

/* Plaintext stream -> messages. */
static int assemble(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len)
{
    while (len && !p->closing) {
        size_t k;
        if (p->mhdr_len < HRE_NODE__MSG_HDR) {
            k = HRE_NODE__MSG_HDR - p->mhdr_len;
            if (k > len)
                k = len;
            memcpy(p->mhdr + p->mhdr_len, d, k);
            p->mhdr_len += k;
            d += k;
            len -= k;
            if (p->mhdr_len < HRE_NODE__MSG_HDR)
                break;
            if (msg_header(n, p) != HRE_OK)
                return HRE_EPROTO;
        } else {
            k = p->mlen - p->mgot;
            if (k > len)
                k = len;
            if (!p->mskip) {
                if (msg_grow(n, p, p->mgot + k) != HRE_OK)
                    return HRE_EPROTO;
                memcpy(p->cur->data + p->mgot, d, k);
            }
            p->mgot += k;
            d += k;
            len -= k;
        }
        if (p->mhdr_len == HRE_NODE__MSG_HDR && p->mgot == p->mlen) {
            if (!p->mskip) {
                enqueue(p, p->cur);
                p->cur = NULL;
            }
            p->msgs_recv++;
            p->mhdr_len = 0;
            p->mgot = p->mlen = 0;
        }
    }
    return p->closing ? HRE_EPROTO : HRE_OK;
}

static int transport_frame(hre_node *n, hre_node__peer *p, const uint8_t *msg, size_t len,
                           uint8_t *scratch)
{
    size_t pl = HRE_NOISE__MAX_MSG;
    int rc;
    if (p->tr.recv.n >= UINT64_MAX - 1) {
        hre_node__close(n, p, HRE_NODE_REASON_NONCE_EXHAUSTED, 1, "receive nonce exhausted");
        return HRE_EPROTO;
    }
    if (len <= HRE_NOISE__TAG_LEN) {
        hre_node__close(n, p, HRE_NODE_REASON_MALFORMED, 1, "transport message of %zu bytes", len);
        return HRE_EPROTO;
    }
    rc = hre_noise__transport_read(&p->tr, scratch, &pl, msg, len);
    if (rc != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_DECRYPT, 1, "transport message does not authenticate");
        return HRE_EPROTO;
    }
    if (++p->recv_msgs % HRE_NODE__REKEY_INTERVAL == 0 &&
        hre_noise__transport_rekey_recv(&p->tr) != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_RESOURCES, 1, "rekey failed");
        return HRE_EPROTO;
    }
    rc = assemble(n, p, scratch, pl);
    hre_wipe(scratch, pl);
    return rc;
}

static int frame(hre_node *n, hre_node__peer *p, const uint8_t *msg, size_t len, uint8_t *scratch)
{
    if (p->state == NODE__HS)
        return hs_frame(n, p, msg, len);
    return transport_frame(n, p, msg, len, scratch);
}

int hre_node__peer_feed(hre_node *n, hre_node__peer *p, const uint8_t *data, size_t len)
{
    uint8_t *scratch = n->scratch;
    int rc = HRE_OK;
    p->bytes_recv += len;
    n->bytes_recv += len;
    if (len)
        p->last_recv = n->now;
    while (len && rc == HRE_OK && !p->closing) {
        size_t k;
        if (p->fhdr_len < 2) {
            p->fhdr[p->fhdr_len++] = *data++;
            len--;
            if (p->fhdr_len == 2) {
                p->frame_need = (size_t)p->fhdr[0] << 8 | p->fhdr[1];
                p->frame_len = 0;
                if (p->frame_need == 0) {
                    rc = frame(n, p, NULL, 0, scratch);
                    p->fhdr_len = 0;
                }
            }
            continue;
        }
        if (p->frame_len == 0 && len >= p->frame_need) {
            rc = frame(n, p, data, p->frame_need, scratch);
            data += p->frame_need;
            len -= p->frame_need;
            p->fhdr_len = 0;
            continue;
        }
        if (!p->frame) {
            p->frame = hre_node__alloc(n, HRE_NOISE__MAX_MSG);
            if (!p->frame) {
                hre_node__close(n, p, HRE_NODE_REASON_RESOURCES, 1, "out of memory");
                rc = HRE_EPROTO;
                break;
            }
        }
        k = p->frame_need - p->frame_len;
        if (k > len)
            k = len;
        memcpy(p->frame + p->frame_len, data, k);
        p->frame_len += k;
        data += k;
        len -= k;
        if (p->frame_len == p->frame_need) {
            rc = frame(n, p, p->frame, p->frame_need, scratch);
            p->fhdr_len = 0;
            p->frame_len = 0;
            hre_node__dealloc(n, p->frame);
            p->frame = NULL;
        }
    }
    return p->closing ? HRE_EPROTO : HRE_OK;
}

/* ------------------------------------------------------------------------ */
/* Version exchange and dispatch                                             */
/* ------------------------------------------------------------------------ */

void hre_node__peer_ready(hre_node *n, hre_node__peer *p)
{
    p->state = NODE__READY;
    p->next_ping = n->now + n->ping_interval_ms;
    hre_node__emit(n, HRE_NODE_EVENT_PEER_READY, p->conn, 0, "", NULL, NULL, 0, 0);
    if (p->closing)
        return;
    hre_node__sync_on_ready(n, p);
    if (p->member == HRE_NODE_MEMBER_LIVE && n->member == HRE_NODE_MEMBER_LIVE)
        hre_node__offer_mempool(n, p);
}

static void on_version(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len)
{
    hre_node__version v;
    if (p->got_version)
        return;   /* a duplicate version is ignored */
    if (hre_node__version_decode(&v, d, len) != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_MALFORMED, 1, "version message does not decode");
        return;
    }
    if (v.protocol < HRE_NODE_PROTOCOL_VERSION) {
        hre_node__close(n, p, HRE_NODE_REASON_OLD_VERSION, 1, "protocol version %u", v.protocol);
        return;
    }
    if (memcmp(v.network_id, n->network_id, 32) != 0 || memcmp(v.fingerprint, n->fingerprint, 32) != 0) {
        hre_node__close(n, p, HRE_NODE_REASON_WRONG_PARAMS, 1,
                        "version: another network id or params fingerprint");
        return;
    }
    if (v.nonce == n->nonce) {
        hre_node__close(n, p, HRE_NODE_REASON_SELF_CONNECTION, 1, "connected to itself");
        return;
    }
    p->got_version = 1;
    p->best_height = v.best_height;
    memcpy(p->best_work, v.best_work, 32);
    (void)hre_node__send(n, p, HRE_NODE__CMD_VERACK, NULL, 0, NULL, 0);
    if (p->got_verack && !p->closing)
        hre_node__peer_ready(n, p);
}

static void dispatch(hre_node *n, hre_node__peer *p, hre_node__msg *m)
{
    const uint8_t *d = m->data;
    size_t len = m->len;
    uint64_t nonce;

    if (p->state != NODE__READY) {
        if (m->cmd == HRE_NODE__CMD_VERSION) {
            on_version(n, p, d, len);
        } else if (m->cmd == HRE_NODE__CMD_VERACK && p->got_version) {
            if (len != 0) {
                hre_node__close(n, p, HRE_NODE_REASON_MALFORMED, 1, "verack with a payload");
                return;
            }
            p->got_verack = 1;
            hre_node__peer_ready(n, p);
        }
        /* anything else before the version exchange is ignored */
        return;
    }
    switch (m->cmd) {
    case HRE_NODE__CMD_PING:
        if (hre_node__nonce_decode(&nonce, d, len) != HRE_OK) {
            hre_node__close(n, p, HRE_NODE_REASON_MALFORMED, 1, "ping does not decode");
            return;
        }
        (void)hre_node__send(n, p, HRE_NODE__CMD_PONG, d, len, NULL, 0);
        break;
    case HRE_NODE__CMD_PONG:
        if (hre_node__nonce_decode(&nonce, d, len) != HRE_OK) {
            hre_node__close(n, p, HRE_NODE_REASON_MALFORMED, 1, "pong does not decode");
            return;
        }
        if (p->ping_at && nonce == p->ping_nonce)
            p->ping_at = 0;
        break;
    case HRE_NODE__CMD_GETHEADERS: hre_node__on_getheaders(n, p, d, len); break;
    case HRE_NODE__CMD_HEADERS: hre_node__on_headers(n, p, d, len); break;
    case HRE_NODE__CMD_INV: hre_node__on_inv(n, p, d, len); break;
    case HRE_NODE__CMD_GETDATA: hre_node__on_getdata(n, p, d, len); break;
    case HRE_NODE__CMD_NOTFOUND: hre_node__on_notfound(n, p, d, len); break;
    case HRE_NODE__CMD_BLOCK: hre_node__on_block(n, p, m); break;
    case HRE_NODE__CMD_TX: hre_node__on_tx(n, p, d, len); break;
    case HRE_NODE__CMD_APP: hre_node__on_app(n, p, d, len); break;
    default: break;   /* version, verack again: ignored */
    }
}

void hre_node__peer_work(hre_node *n, hre_node__peer *p)
{
    while (p->inbox && !p->closing && p->budget_used < n->work_budget) {
        hre_node__msg *m = p->inbox;
        p->inbox = m->next;
        if (!p->inbox)
            p->inbox_tail = NULL;
        p->inbox_n--;
        p->budget_used++;
        dispatch(n, p, m);
        msg_free(n, p, m);   /* on_block takes the data it keeps (m->data = NULL) */
    }
    if (p->inbox && !p->closing)
        n->deferred++;
}
