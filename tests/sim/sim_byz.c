/*
 * The byzantine peer of the simulation (sim_byz.h). White-box: it speaks the
 * node protocol with the library's internal Noise core and message codecs
 * (lib/node), exactly as check_node.c's scripted raw peer does, so what it
 * sends is well-formed on the wire and wrong only where it means to be.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/x25519.h"
#include "node/internal.h"
#include "sim_byz.h"

#define EASY_BITS 0x207fffffu

typedef struct bconn {
    uint64_t conn;
    int initiator;
    hre_noise__hs *hs;
    hre_noise__transport tr;
    int up, got_version, ready, attacked;
    int kind;
    uint8_t *in;
    size_t inlen, incap;
    uint8_t *pt;
    size_t ptlen, ptcap;
    uint64_t rcount, scount;
    uint8_t hdr[2][HRE_HEADER_LEN];
    int nh;
    uint8_t *blk[2];
    size_t blen[2];
    uint8_t bhash[2][32];
} bconn;

struct sim_byz {
    byz_host h;
    hre_x25519__key s;
    uint8_t prologue[HRE_NODE__PROLOGUE_LEN];
    bconn **c;
    size_t n, cap;
    uint64_t now;
};

const char *byz_kind_name(int kind)
{
    static const char *const names[BYZ_KINDS] = { "bad-pow", "bad-bits", "time-old", "bad-merkle",
                                                  "bad-sig", "bad-contract", "dup-tx",
                                                  "invalid-child" };
    return kind >= 0 && kind < BYZ_KINDS ? names[kind] : "?";
}

static void blog(const sim_byz *b, const char *what, const char *detail, unsigned long long conn)
{
    if (b->h.verbose) fprintf(stderr, "[%s] %s %s (conn %llu)\n", b->h.name, what, detail, conn);
}

/* ------------------------------------------------------------------------ */
/* Connections                                                               */
/* ------------------------------------------------------------------------ */

static bconn *find(sim_byz *b, uint64_t conn)
{
    size_t i;
    for (i = 0; i < b->n; i++)
        if (b->c[i]->conn == conn) return b->c[i];
    return NULL;
}

static void conn_free(bconn *c)
{
    int i;
    hre_noise__hs_free(c->hs);
    hre_noise__transport_clear(&c->tr);
    free(c->in);
    free(c->pt);
    for (i = 0; i < 2; i++) free(c->blk[i]);
    free(c);
}

static void forget(sim_byz *b, bconn *c)
{
    size_t i;
    for (i = 0; i < b->n; i++)
        if (b->c[i] == c) {
            b->c[i] = b->c[--b->n];
            break;
        }
    conn_free(c);
}

/* Close from our side (the hub tells the other end). */
static void drop(sim_byz *b, bconn *c, const char *why)
{
    blog(b, "closes:", why, (unsigned long long)c->conn);
    b->h.tm->close(b->h.tud, c->conn, 0);
    forget(b, c);
}

/* Hand bytes to the hub; a short send loses the rest (a byzantine peer does
 * not care, and the windows are far larger than what it sends). */
static void put(sim_byz *b, bconn *c, const uint8_t *d, size_t len)
{
    size_t sent = 0;
    (void)b->h.tm->send(b->h.tud, c->conn, d, len, &sent);
}

static void put_frame(sim_byz *b, bconn *c, const uint8_t *m, size_t len)
{
    uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };
    uint8_t *f = malloc(len + 2);
    if (!f) return;
    memcpy(f, hdr, 2);
    memcpy(f + 2, m, len);
    put(b, c, f, len + 2);
    free(f);
}

static int seal(sim_byz *b, bconn *c, const uint8_t *pt, size_t len)
{
    static uint8_t ct[HRE_NOISE__MAX_MSG];
    size_t cl = sizeof ct;
    if (hre_noise__transport_write(&c->tr, ct, &cl, pt, len) != HRE_OK) return -1;
    put_frame(b, c, ct, cl);
    if (++c->scount % HRE_NODE__REKEY_INTERVAL == 0 && hre_noise__transport_rekey_send(&c->tr) != HRE_OK)
        return -1;
    return 0;
}

/* One node message (header || payload), split into transport messages. */
static int send_msg(sim_byz *b, bconn *c, uint16_t cmd, const uint8_t *p, size_t len)
{
    uint8_t *m = malloc(HRE_NODE__MSG_HDR + len + 1);
    size_t off = 0, total = HRE_NODE__MSG_HDR + len;
    int rc = 0;
    if (!m) return -1;
    hre_node__msg_header(m, b->h.network_id, cmd, (uint32_t)len);
    if (len) memcpy(m + HRE_NODE__MSG_HDR, p, len);
    while (off < total && rc == 0) {
        size_t k = total - off > HRE_NOISE__MAX_PAYLOAD ? HRE_NOISE__MAX_PAYLOAD : total - off;
        rc = seal(b, c, m + off, k);
        off += k;
    }
    free(m);
    return rc;
}

static int write_none_identity(void *arg, const uint8_t h[32], uint8_t *payload, size_t len)
{
    (void)arg;
    (void)h;
    if (len != HRE_NODE__ID_NONE_LEN) return HRE_EINVAL;
    payload[0] = 1;   /* identity payload version */
    payload[1] = 0;   /* no identity: a byzantine peer needs none to sync blocks */
    return HRE_OK;
}

static int send_identity(sim_byz *b, bconn *c)
{
    uint8_t m[256];
    size_t ml = sizeof m;
    if (hre_noise__hs_write_fn(c->hs, m, &ml, HRE_NODE__ID_NONE_LEN, write_none_identity, NULL) != HRE_OK)
        return -1;
    put_frame(b, c, m, ml);
    return 0;
}

static int send_version(sim_byz *b, bconn *c)
{
    hre_node__version v;
    uint8_t buf[HRE_NODE__VERSION_LEN];
    uint32_t t, mtp;
    uint8_t tip[32];
    memset(&v, 0, sizeof v);
    v.protocol = HRE_NODE_PROTOCOL_VERSION;
    memcpy(v.network_id, b->h.network_id, 32);
    memcpy(v.fingerprint, b->h.fingerprint, 32);
    /* claim to be ahead: more interesting to sync from */
    if (b->h.victim_tip(b->h.ud, c->conn, tip, &v.best_height, &t, &mtp, v.best_work) == HRE_OK) {
        uint8_t w[32];
        (void)hre_pow_work(w, EASY_BITS);
        (void)hre_pow_work_add(v.best_work, v.best_work, w);
        (void)hre_pow_work_add(v.best_work, v.best_work, w);
        v.best_height += 2;
    }
    v.nonce = b->h.rand(b->h.ud);
    v.time_ms = b->now;
    hre_node__version_encode(buf, &v);
    return send_msg(b, c, HRE_NODE__CMD_VERSION, buf, sizeof buf);
}

static int go_up(sim_byz *b, bconn *c)
{
    if (hre_noise__hs_split(c->hs, &c->tr) != HRE_OK) return -1;
    hre_noise__hs_free(c->hs);
    c->hs = NULL;
    c->up = 1;
    return send_version(b, c);
}

/* ------------------------------------------------------------------------ */
/* The attack                                                                */
/* ------------------------------------------------------------------------ */

/* An encoded register_patient transaction from a fresh key. */
static size_t make_tx(uint8_t *out, size_t cap, const uint8_t net[32], uint64_t nonce, uint64_t ts)
{
    hre_key *k = NULL;
    hre_tx *tx = NULL;
    hre_register_patient_payload p = { 0 };
    size_t len = cap;
    if (hre_key_generate(&k, HRE_CURVE_P256) != HRE_OK) return 0;
    if (hre_contract_build_register_patient(&tx, net, k, nonce, ts, &p) != HRE_OK ||
        hre_tx_encode(tx, out, &len) != HRE_OK)
        len = 0;
    hre_tx_free(tx);
    hre_key_free(k);
    return len;
}

/* Assemble a block on parent: time, bits, the given transactions; mine it
 * (good_pow) or find a nonce that fails (bad pow). commit: transactions the
 * Merkle root commits to; body: the ones sent (NULL: the same). */
static int make_block(bconn *c, int idx, const uint8_t parent[32], uint32_t time, uint32_t bits,
                      const uint8_t *const *txs, const size_t *lens, size_t n, int good_pow,
                      const uint8_t *const *body, const size_t *blens, size_t bn)
{
    hre_block_limits lim = { HRE_BLOCK_LIMITS_VERSION, 64u << 20, 1u << 20 };
    hre_block *blk = NULL, *sent = NULL;
    hre_header h;
    size_t i, len = 0;
    int rc;
    memset(&h, 0, sizeof h);
    h.version = 1;
    memcpy(h.prev_hash, parent, 32);
    h.time = time;
    h.bits = bits;
    if ((rc = hre_block_new(&blk, &h, &lim)) != HRE_OK) return rc;
    for (i = 0; i < n; i++)
        if ((rc = hre_block_add_tx(blk, txs[i], lens[i])) != HRE_OK) goto out;
    /* the root of the list as it is, mutated or not (hre_block_update_merkle_root
     * leaves a mutated list's root at zero, which an empty block has too) */
    h = *hre_block_header(blk);
    if ((rc = hre_block_merkle_root(blk, h.merkle_root, NULL)) != HRE_OK) goto out;
    if (good_pow) {
        if ((rc = hre_pow_mine(&h, NULL, 1u << 24)) != HRE_OK) goto out;
    } else {
        uint8_t limit[32];
        if ((rc = hre_pow_target_from_compact(limit, NULL, NULL, bits)) != HRE_OK) goto out;
        for (h.nonce = 0; hre_pow_check(&h, limit) == HRE_OK; h.nonce++) {}
    }
    if ((rc = hre_block_set_header(blk, &h)) != HRE_OK) goto out;
    if (body) {
        if ((rc = hre_block_new(&sent, &h, &lim)) != HRE_OK) goto out;
        for (i = 0; i < bn; i++)
            if ((rc = hre_block_add_tx(sent, body[i], blens[i])) != HRE_OK) goto out;
    }
    (void)hre_block_encode(body ? sent : blk, NULL, &len);
    c->blk[idx] = malloc(len);
    if (!c->blk[idx]) {
        rc = HRE_ENOMEM;
        goto out;
    }
    c->blen[idx] = len;
    if ((rc = hre_block_encode(body ? sent : blk, c->blk[idx], &c->blen[idx])) != HRE_OK) goto out;
    if ((rc = hre_header_encode(&h, c->hdr[idx])) != HRE_OK) goto out;
    rc = hre_header_hash(&h, c->bhash[idx]);
out:
    hre_block_free(blk);
    hre_block_free(sent);
    return rc;
}

static int build_attack(sim_byz *b, bconn *c)
{
    uint8_t tip[32], work[32];
    uint64_t height;
    uint32_t tip_time, mtp, t;
    uint8_t tx1[512], tx2[512];
    size_t l1, l2;
    const uint8_t *txs[2];
    size_t lens[2];
    int rc;
    if (b->h.victim_tip(b->h.ud, c->conn, tip, &height, &tip_time, &mtp, work) != HRE_OK) return -1;
    t = (uint32_t)(b->now / 1000);
    if (t <= mtp) t = mtp + 1;
    l1 = make_tx(tx1, sizeof tx1, b->h.network_id, 0, t);
    l2 = make_tx(tx2, sizeof tx2, b->h.network_id, 0, t);
    if (!l1 || !l2) return -1;
    c->nh = 1;
    txs[0] = tx1;
    lens[0] = l1;
    switch (c->kind) {
    case BYZ_BAD_POW:
        rc = make_block(c, 0, tip, t, EASY_BITS, txs, lens, 1, 0, NULL, NULL, 0);
        break;
    case BYZ_BAD_BITS:
        rc = make_block(c, 0, tip, t, 0x207ffff0u, txs, lens, 1, 1, NULL, NULL, 0);
        break;
    case BYZ_TIME_OLD:
        rc = make_block(c, 0, tip, mtp, EASY_BITS, txs, lens, 1, 1, NULL, NULL, 0);
        break;
    case BYZ_BAD_MERKLE: {
        /* the header commits to a transaction with a broken signature (so no
         * valid body exists for it); the body sent is another, valid one */
        const uint8_t *body[1] = { tx2 };
        size_t blens[1] = { l2 };
        tx1[l1 - 1] ^= 0x01;
        rc = make_block(c, 0, tip, t, EASY_BITS, txs, lens, 1, 1, body, blens, 1);
        break;
    }
    case BYZ_BAD_SIG:
        tx1[l1 - 7] ^= 0x40;   /* inside the 64-byte signature at the end */
        rc = make_block(c, 0, tip, t, EASY_BITS, txs, lens, 1, 1, NULL, NULL, 0);
        break;
    case BYZ_BAD_CONTRACT: {
        /* properly signed, but nonce 5 for a new account: the contract refuses */
        l1 = make_tx(tx1, sizeof tx1, b->h.network_id, 5, t);
        lens[0] = l1;
        rc = l1 ? make_block(c, 0, tip, t, EASY_BITS, txs, lens, 1, 1, NULL, NULL, 0) : -1;
        break;
    }
    case BYZ_DUP_TX:
        txs[1] = tx1;
        lens[1] = l1;
        rc = make_block(c, 0, tip, t, EASY_BITS, txs, lens, 2, 1, NULL, NULL, 0);
        break;
    case BYZ_INVALID_CHILD:
    default:
        tx1[l1 - 7] ^= 0x40;
        rc = make_block(c, 0, tip, t, EASY_BITS, txs, lens, 1, 1, NULL, NULL, 0);
        if (rc == HRE_OK) {
            txs[0] = tx2;
            lens[0] = l2;
            rc = make_block(c, 1, c->bhash[0], t + 1, EASY_BITS, txs, lens, 1, 1, NULL, NULL, 0);
            c->nh = 2;
        }
        break;
    }
    if (rc != HRE_OK) return -1;
    b->h.invalid_add(b->h.ud, c->bhash[0], c->kind);
    if (c->nh == 2) b->h.invalid_add(b->h.ud, c->bhash[1], c->kind);
    return 0;
}

static int send_headers(sim_byz *b, bconn *c)
{
    uint8_t buf[9 + 2 * HRE_HEADER_LEN];
    size_t pos;
    int i;
    hre_node__list_begin(buf, &pos, (size_t)c->nh);
    for (i = 0; i < c->nh; i++) {
        memcpy(buf + pos, c->hdr[i], HRE_HEADER_LEN);
        pos += HRE_HEADER_LEN;
    }
    return send_msg(b, c, HRE_NODE__CMD_HEADERS, buf, pos);
}

static int attack(sim_byz *b, bconn *c)
{
    if (c->attacked) return send_headers(b, c);
    c->attacked = 1;
    if (build_attack(b, c) != 0) return 0;   /* nothing to build on: stay quiet */
    b->h.attack_sent(b->h.ud, c->conn, c->kind);
    blog(b, "attack", byz_kind_name(c->kind), (unsigned long long)c->conn);
    return send_headers(b, c);
}

static int on_getdata(sim_byz *b, bconn *c, const uint8_t *d, size_t len)
{
    const uint8_t *e;
    size_t n, i;
    int k;
    if (hre_node__inv_decode(&e, &n, d, len) != HRE_OK) return -1;
    for (i = 0; i < n; i++) {
        const uint8_t *ent = e + HRE_NODE__INV_ENTRY * i;
        if (ent[0] != HRE_NODE__INV_BLOCK) continue;
        for (k = 0; k < c->nh; k++)
            if (c->blk[k] && memcmp(ent + 1, c->bhash[k], 32) == 0 &&
                send_msg(b, c, HRE_NODE__CMD_BLOCK, c->blk[k], c->blen[k]) != 0)
                return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Receiving                                                                 */
/* ------------------------------------------------------------------------ */

static int on_msg(sim_byz *b, bconn *c, uint16_t cmd, const uint8_t *d, size_t len)
{
    switch (cmd) {
    case HRE_NODE__CMD_VERSION:
        if (c->got_version) return 0;
        c->got_version = 1;
        return send_msg(b, c, HRE_NODE__CMD_VERACK, NULL, 0);
    case HRE_NODE__CMD_VERACK:
        if (!c->got_version || c->ready) return 0;
        c->ready = 1;
        return attack(b, c);
    case HRE_NODE__CMD_PING:
        return send_msg(b, c, HRE_NODE__CMD_PONG, d, len);
    case HRE_NODE__CMD_GETHEADERS:
        return c->ready ? attack(b, c) : 0;
    case HRE_NODE__CMD_GETDATA:
        return on_getdata(b, c, d, len);
    default:
        return 0;
    }
}

static int parse_stream(sim_byz *b, bconn *c)
{
    size_t off = 0;
    int rc = 0;
    while (rc == 0 && c->ptlen - off >= HRE_NODE__MSG_HDR) {
        const uint8_t *h = c->pt + off;
        uint32_t len = (uint32_t)h[6] | (uint32_t)h[7] << 8 | (uint32_t)h[8] << 16 | (uint32_t)h[9] << 24;
        uint16_t cmd = (uint16_t)(h[4] | h[5] << 8);
        if (memcmp(h, b->h.network_id, 4) != 0 || len > (64u << 20)) return -1;
        if (c->ptlen - off - HRE_NODE__MSG_HDR < len) break;
        rc = on_msg(b, c, cmd, h + HRE_NODE__MSG_HDR, len);
        off += HRE_NODE__MSG_HDR + len;
    }
    memmove(c->pt, c->pt + off, c->ptlen - off);
    c->ptlen -= off;
    return rc;
}

static int grow(uint8_t **p, size_t *cap, size_t need)
{
    if (need > *cap) {
        size_t nc = need * 2;
        uint8_t *np = realloc(*p, nc);
        if (!np) return -1;
        *p = np;
        *cap = nc;
    }
    return 0;
}

/* One frame of the stream. */
static int on_frame(sim_byz *b, bconn *c, const uint8_t *m, size_t fl)
{
    static uint8_t buf[HRE_NOISE__MAX_MSG];
    size_t bl = sizeof buf;
    if (!c->up) {
        size_t idx;
        if (!c->hs || hre_noise__hs_action(c->hs) != HRE_NOISE__READ) return -1;
        idx = hre_noise__hs_message_index(c->hs);
        if (hre_noise__hs_read(c->hs, buf, &bl, m, fl) != HRE_OK) return -1;
        if (c->initiator && idx == 1) {
            if (send_identity(b, c) != 0) return -1;
            return go_up(b, c);
        }
        if (!c->initiator && idx == 0) return send_identity(b, c);
        if (!c->initiator && idx == 2) return go_up(b, c);
        return -1;
    }
    if (hre_noise__transport_read(&c->tr, buf, &bl, m, fl) != HRE_OK) return -1;
    if (++c->rcount % HRE_NODE__REKEY_INTERVAL == 0 && hre_noise__transport_rekey_recv(&c->tr) != HRE_OK)
        return -1;
    if (grow(&c->pt, &c->ptcap, c->ptlen + bl) != 0) return -1;
    memcpy(c->pt + c->ptlen, buf, bl);
    c->ptlen += bl;
    return parse_stream(b, c);
}

void byz_on_data(sim_byz *b, uint64_t conn, const uint8_t *d, size_t len, uint64_t now)
{
    bconn *c = find(b, conn);
    size_t off = 0;
    b->now = now;
    if (!c) return;
    if (grow(&c->in, &c->incap, c->inlen + len) != 0) {
        drop(b, c, "out of memory");
        return;
    }
    memcpy(c->in + c->inlen, d, len);
    c->inlen += len;
    for (;;) {
        size_t fl;
        if (c->inlen - off < 2) break;
        fl = (size_t)c->in[off] << 8 | c->in[off + 1];
        if (c->inlen - off - 2 < fl) break;
        if (on_frame(b, c, c->in + off + 2, fl) != 0) {
            /* a corrupted or out-of-order stream (the hub's faults): give up */
            drop(b, c, "stream broken");
            return;
        }
        off += 2 + fl;
    }
    memmove(c->in, c->in + off, c->inlen - off);
    c->inlen -= off;
}

void byz_on_connected(sim_byz *b, uint64_t conn, int outbound, uint64_t now)
{
    hre_noise__config cfg;
    bconn *c;
    b->now = now;
    if (find(b, conn)) return;
    c = calloc(1, sizeof *c);
    if (!c) return;
    c->conn = conn;
    c->initiator = outbound;
    c->kind = (int)(b->h.rand(b->h.ud) % BYZ_KINDS);
    memset(&cfg, 0, sizeof cfg);
    cfg.protocol = HRE_NODE__NOISE_NAME;
    cfg.initiator = outbound;
    cfg.prologue = b->prologue;
    cfg.prologuelen = sizeof b->prologue;
    cfg.s = &b->s;
    if (hre_noise__hs_new(&c->hs, &cfg) != HRE_OK) {
        free(c);
        b->h.tm->close(b->h.tud, conn, 0);
        return;
    }
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 8;
        bconn **nb = realloc(b->c, nc * sizeof *nb);
        if (!nb) {
            conn_free(c);
            b->h.tm->close(b->h.tud, conn, 0);
            return;
        }
        b->c = nb;
        b->cap = nc;
    }
    b->c[b->n++] = c;
    if (outbound) {
        uint8_t hello[HRE_NODE__HELLO_LEN], m[256];
        size_t ml = sizeof m;
        hre_node__hello_encode(hello, b->h.network_id);
        if (hre_noise__hs_write(c->hs, m, &ml, hello, sizeof hello) != HRE_OK) {
            drop(b, c, "handshake write failed");
            return;
        }
        put_frame(b, c, m, ml);
    }
}

void byz_on_closed(sim_byz *b, uint64_t conn, uint64_t now)
{
    bconn *c = find(b, conn);
    b->now = now;
    if (c) forget(b, c);
}

size_t byz_connections(const sim_byz *b)
{
    return b ? b->n : 0;
}

int byz_new(sim_byz **out, const byz_host *h)
{
    sim_byz *b = calloc(1, sizeof *b);
    *out = NULL;
    if (!b) return HRE_ENOMEM;
    b->h = *h;
    if (hre_x25519__generate(&b->s) != HRE_OK) {
        free(b);
        return HRE_ECRYPTO;
    }
    hre_node__prologue(b->prologue, h->network_id);
    *out = b;
    return HRE_OK;
}

void byz_free(sim_byz *b)
{
    size_t i;
    if (!b) return;
    for (i = 0; i < b->n; i++) conn_free(b->c[i]);
    free(b->c);
    hre_x25519__clear(&b->s);
    free(b);
}
