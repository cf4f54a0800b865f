/*
 * Relay (docs/PROTOCOL.md 12.7): inventory announcements with a per-peer
 * known set, getdata answers paced by the peer's send queue, transaction
 * requests tracked node-wide, transactions into the mempool (live members
 * only), the mempool offered on connect and again after a reorg, and new
 * tips announced. hre_node_submit_tx.
 */
#include <string.h>

#include "hre/hash.h"
#include "node/internal.h"

#define REJECT_MAX 4096u        /* txids recently refused by the mempool */
#define TX_REQ_MAX 256u         /* transaction requests outstanding per peer */
#define GETDATA_QUEUE_MAX (2u * HRE_NODE_MAX_INV)
#define TX_ALT_PEER_MAX (4u * TX_REQ_MAX)  /* other-announcer slots one peer may hold */
#define TX_ALT_MAX 8192u        /* other-announcer slots, all peers */

/* ------------------------------------------------------------------------ */
/* Known inventory                                                           */
/* ------------------------------------------------------------------------ */

int hre_node__known_has(const hre_node__known *k, const uint8_t h[32])
{
    return hre__map_get(&k->map, h) != NULL;
}

int hre_node__known_add(hre_node *n, hre_node__known *k, const uint8_t h[32])
{
    if (hre_node__known_has(k, h))
        return HRE_OK;
    if (!k->h) {
        k->h = hre_node__alloc(n, HRE_NODE__KNOWN_MAX * 32u);
        if (!k->h)
            return HRE_ENOMEM;
    }
    if (k->n == HRE_NODE__KNOWN_MAX) {
        hre__map_del(&k->map, k->h[k->next]);
    } else {
        k->n++;
    }
    memcpy(k->h[k->next], h, 32);
    if (hre__map_put(&k->map, k->h[k->next], k->h[k->next]) != HRE_OK) {
        k->n--;
        return HRE_ENOMEM;
    }
    k->next = (k->next + 1) % HRE_NODE__KNOWN_MAX;
    return HRE_OK;
}

void hre_node__known_free(hre_node *n, hre_node__known *k)
{
    hre__map_free(&k->map);
    hre_node__dealloc(n, k->h);
    k->h = NULL;
    k->n = k->next = 0;
}

/* ------------------------------------------------------------------------ */
/* Recently rejected transactions                                            */
/* ------------------------------------------------------------------------ */

static void reject_add(hre_node *n, const uint8_t txid[32])
{
    if (hre__map_get(&n->recent_rej, txid))
        return;
    if (!n->rej) {
        n->rej = hre_node__alloc(n, REJECT_MAX * 32u);
        if (!n->rej)
            return;
    }
    if (n->rej_n == REJECT_MAX)
        hre__map_del(&n->recent_rej, n->rej[n->rej_next]);
    else
        n->rej_n++;
    memcpy(n->rej[n->rej_next], txid, 32);
    if (hre__map_put(&n->recent_rej, n->rej[n->rej_next], n->rej[n->rej_next]) != HRE_OK) {
        n->rej_n--;
        return;
    }
    n->rej_next = (n->rej_next + 1) % REJECT_MAX;
}

static int is_member(const hre_node *n, const hre_node__peer *p)
{
    (void)n;
    return p->member == HRE_NODE_MEMBER_LIVE;
}

static void refuse(hre_node *n, hre_node__peer *p, const char *what)
{
    hre_node__emit(n, HRE_NODE_EVENT_REFUSED, p->conn, HRE_NODE_REASON_NOT_MEMBER, what, NULL, NULL, 0, 0);
}

/* ------------------------------------------------------------------------ */
/* Sending inventory                                                         */
/* ------------------------------------------------------------------------ */

static void send_inv(hre_node *n, hre_node__peer *p, uint8_t type, const uint8_t (*hashes)[32], size_t k)
{
    uint8_t buf[3 + HRE_NODE_MAX_INV * HRE_NODE__INV_ENTRY];
    size_t pos, i;
    if (k == 0)
        return;
    hre_node__list_begin(buf, &pos, k);
    for (i = 0; i < k; i++) {
        buf[pos] = type;
        memcpy(buf + pos + 1, hashes[i], 32);
        pos += HRE_NODE__INV_ENTRY;
    }
    (void)hre_node__send(n, p, HRE_NODE__CMD_INV, buf, pos, NULL, 0);
}

void hre_node__announce_tx(hre_node *n, const uint8_t txid[32], const hre_node__peer *except)
{
    size_t i;
    if (n->member != HRE_NODE_MEMBER_LIVE)
        return;   /* our transactions would be refused */
    for (i = 0; i < n->n_peers; i++) {
        hre_node__peer *p = n->peers[i];
        if (p == except || p->closing || p->state != NODE__READY || !is_member(n, p) ||
            hre_node__known_has(&p->known, txid))
            continue;
        (void)hre_node__known_add(n, &p->known, txid);
        send_inv(n, p, HRE_NODE__INV_TX, (const uint8_t(*)[32])txid, 1);
    }
}

void hre_node__announce_block(hre_node *n, const uint8_t hash[32])
{
    size_t i;
    for (i = 0; i < n->n_peers; i++) {
        hre_node__peer *p = n->peers[i];
        if (p->closing || p->state != NODE__READY || hre_node__known_has(&p->known, hash))
            continue;
        (void)hre_node__known_add(n, &p->known, hash);
        send_inv(n, p, HRE_NODE__INV_BLOCK, (const uint8_t(*)[32])hash, 1);
    }
}

void hre_node__offer_mempool(hre_node *n, hre_node__peer *p)
{
    if (is_member(n, p) && n->member == HRE_NODE_MEMBER_LIVE)
        p->offer_pos = 1;   /* index + 1 of the next mempool entry to offer */
}

/* One page of the mempool offer, while the peer's queue has room. */
static void offer_step(hre_node *n, hre_node__peer *p)
{
    uint8_t (*ids)[32];
    size_t cnt, i, k;
    if (!p->offer_pos || p->closing)
        return;
    if (!is_member(n, p) || n->member != HRE_NODE_MEMBER_LIVE) {
        p->offer_pos = 0;
        return;
    }
    ids = hre_node__alloc(n, (size_t)HRE_NODE_MAX_INV * 32u);
    if (!ids)
        return;
    while (p->offer_pos && hre_node__queued(p) < n->peer_send_max / 4) {
        uint8_t (*fresh)[32] = ids;
        cnt = HRE_NODE_MAX_INV;
        if (hre_ledger_mempool_list(n->l, (uint8_t *)ids, &cnt, p->offer_pos - 1) != HRE_OK)
            cnt = 0;
        for (i = 0, k = 0; i < cnt; i++) {
            if (hre_node__known_has(&p->known, ids[i]))
                continue;
            (void)hre_node__known_add(n, &p->known, ids[i]);
            if (k != i)
                memcpy(fresh[k], ids[i], 32);
            k++;
        }
        send_inv(n, p, HRE_NODE__INV_TX, (const uint8_t(*)[32])fresh, k);
        if (cnt < HRE_NODE_MAX_INV)
            p->offer_pos = 0;
        else
            p->offer_pos += cnt;
    }
    hre_node__dealloc(n, ids);
}

/* ------------------------------------------------------------------------ */
/* Transaction requests                                                      */
/* ------------------------------------------------------------------------ */

/*
 * One entry per txid being fetched (n->txreq_map): the peer asked (uid, at)
 * and up to HRE_NODE__TXREQ_ALT other peers that announced the txid while it
 * was outstanding, in the order they announced. When the request fails (it
 * expires, the peer answers NOTFOUND or goes away) the first of them that is
 * still a READY live member with a free request slot is asked; announcers
 * without a free slot stay, and the entry waits (uid 0) until a slot frees.
 * The entry goes when the transaction arrives or no announcer is left. The
 * other announcers are bounded per entry, per peer (TX_ALT_PEER_MAX) and in
 * all (TX_ALT_MAX); the entries are node memory (hre_node__alloc).
 */

static hre_node__txreq *req_get(const hre_node *n, const uint8_t txid[32])
{
    return hre__map_get(&n->txreq_map, txid);
}

/* A peer that may be asked for a transaction now. */
static int can_ask(const hre_node *n, const hre_node__peer *q)
{
    return q && !q->closing && q->state == NODE__READY && is_member(n, q) && q->tx_inflight < TX_REQ_MAX;
}

static void alt_drop(hre_node *n, hre_node__txreq *r, uint32_t i)
{
    hre_node__peer *q = hre_node__peer_by_uid(n, r->alt[i]);
    if (q && q->tx_alts)
        q->tx_alts--;
    if (n->txreq_alts)
        n->txreq_alts--;
    memmove(&r->alt[i], &r->alt[i + 1], (r->n_alt - i - 1) * sizeof r->alt[0]);
    r->n_alt--;
}

static int alt_find(const hre_node__txreq *r, uint64_t uid)
{
    uint32_t i;
    for (i = 0; i < r->n_alt; i++)
        if (r->alt[i] == uid)
            return (int)i;
    return -1;
}

/* Remember p as another announcer of r's txid (within the caps). */
static void alt_add(hre_node *n, hre_node__txreq *r, hre_node__peer *p)
{
    if (r->uid == p->uid || alt_find(r, p->uid) >= 0 || r->n_alt >= HRE_NODE__TXREQ_ALT ||
        p->tx_alts >= TX_ALT_PEER_MAX || n->txreq_alts >= TX_ALT_MAX)
        return;
    r->alt[r->n_alt++] = p->uid;
    p->tx_alts++;
    n->txreq_alts++;
}

static void send_getdata_tx(hre_node *n, hre_node__peer *p, const uint8_t txid[32])
{
    uint8_t buf[3 + HRE_NODE__INV_ENTRY];
    size_t pos;
    hre_node__list_begin(buf, &pos, 1);
    buf[pos] = HRE_NODE__INV_TX;
    memcpy(buf + pos + 1, txid, 32);
    (void)hre_node__send(n, p, HRE_NODE__CMD_GETDATA, buf, pos + HRE_NODE__INV_ENTRY, NULL, 0);
}

/* r is being requested from p now (the caller sends the GETDATA). */
static void req_assign(hre_node *n, hre_node__txreq *r, hre_node__peer *p)
{
    if (!r->uid && n->txreq_waiting)
        n->txreq_waiting--;
    r->uid = p->uid;
    r->at = n->now;
    p->tx_inflight++;
    if (n->now + n->request_timeout_ms < n->txreq_due)
        n->txreq_due = n->now + n->request_timeout_ms;
}

static void req_free(hre_node *n, hre_node__txreq *r)
{
    while (r->n_alt)
        alt_drop(n, r, r->n_alt - 1);
    if (!r->uid && n->txreq_waiting)
        n->txreq_waiting--;
    hre__map_del(&n->txreq_map, r->txid);
    hre_node__dealloc(n, r);
    if (!n->txreq_map.count)
        n->txreq_due = UINT64_MAX;
}

/* r has no request outstanding: ask the first announcer that can be asked,
 * drop the ones that are gone, wait if the rest have no free slot, and
 * forget r when no announcer is left. */
static void req_next(hre_node *n, hre_node__txreq *r)
{
    uint32_t i = 0;
    if (hre_ledger_mempool_contains(n->l, r->txid)) {
        req_free(n, r);   /* it came another way */
        return;
    }
    while (i < r->n_alt) {
        hre_node__peer *q = hre_node__peer_by_uid(n, r->alt[i]);
        if (!q || q->closing || q->state != NODE__READY || !is_member(n, q)) {
            alt_drop(n, r, i);
            continue;
        }
        if (can_ask(n, q)) {
            alt_drop(n, r, i);
            req_assign(n, r, q);
            send_getdata_tx(n, q, r->txid);
            return;
        }
        i++;
    }
    if (!r->n_alt)
        req_free(n, r);
}

/* The request outstanding for r failed: release the slot, try the others. */
static void req_fail(hre_node *n, hre_node__txreq *r)
{
    hre_node__peer *q = r->uid ? hre_node__peer_by_uid(n, r->uid) : NULL;
    if (q && q->tx_inflight)
        q->tx_inflight--;
    if (r->uid) {
        r->uid = 0;
        n->txreq_waiting++;
        n->txreq_retry = 1;   /* q has a free slot again */
    }
    req_next(n, r);
}

/* The transaction arrived (or was refused): forget the entry. */
static void req_done(hre_node *n, const uint8_t txid[32])
{
    hre_node__txreq *r = req_get(n, txid);
    hre_node__peer *q;
    if (!r)
        return;
    q = r->uid ? hre_node__peer_by_uid(n, r->uid) : NULL;
    if (q && q->tx_inflight) {
        q->tx_inflight--;
        n->txreq_retry = 1;
    }
    req_free(n, r);
}

/* p does not have txid (NOTFOUND). */
static void req_notfound(hre_node *n, const uint8_t txid[32], hre_node__peer *p)
{
    hre_node__txreq *r = req_get(n, txid);
    int i;
    if (!r)
        return;
    if (r->uid == p->uid) {
        req_fail(n, r);
        return;
    }
    if ((i = alt_find(r, p->uid)) >= 0)
        alt_drop(n, r, (uint32_t)i);
    if (!r->uid && !r->n_alt)
        req_free(n, r);
}

/* p announced txid and may be asked: a new request, or p joins the
 * announcers of the one in progress. Returns 1 if the caller must put txid
 * in its GETDATA to p. */
static int req_announced(hre_node *n, hre_node__peer *p, const uint8_t txid[32])
{
    hre_node__txreq *r = req_get(n, txid);
    int i;
    if (r) {
        if (r->uid == p->uid)
            return 0;
        if (!r->uid && can_ask(n, p)) {
            if ((i = alt_find(r, p->uid)) >= 0)
                alt_drop(n, r, (uint32_t)i);
            req_assign(n, r, p);
            return 1;
        }
        alt_add(n, r, p);
        return 0;
    }
    r = hre_node__alloc(n, sizeof *r);
    if (!r)
        return 0;
    memset(r, 0, sizeof *r);
    memcpy(r->txid, txid, 32);
    if (hre__map_put(&n->txreq_map, r->txid, r) != HRE_OK) {
        hre_node__dealloc(n, r);
        return 0;
    }
    if (can_ask(n, p)) {
        req_assign(n, r, p);
        return 1;
    }
    /* p has no free slot: wait for one, with p as the announcer */
    n->txreq_waiting++;
    alt_add(n, r, p);
    if (!r->n_alt)
        req_free(n, r);
    return 0;
}

/* Requests whose peer is gone or that timed out fail over to the next
 * announcer; entries waiting for a slot are retried when slots or peers
 * changed. */
static void req_expire(hre_node *n)
{
    hre_node__txreq **todo;
    size_t i, k = 0;
    uint64_t due = UINT64_MAX;
    int retry = n->txreq_retry && n->txreq_waiting;
    n->txreq_retry = 0;
    if (n->now < n->txreq_due && !retry)
        return;
    todo = hre_node__alloc(n, n->txreq_map.count * sizeof *todo);
    if (!todo) {
        n->txreq_retry = retry;
        n->txreq_due = n->now + 100;   /* try again soon, without spinning */
        return;
    }
    for (i = 0; i < n->txreq_map.cap; i++) {
        hre_node__txreq *r;
        hre_node__peer *q;
        if (!n->txreq_map.keys[i])
            continue;
        r = n->txreq_map.vals[i];
        if (!r->uid) {
            if (retry)
                todo[k++] = r;
            continue;
        }
        q = hre_node__peer_by_uid(n, r->uid);
        if (!q || q->closing || n->now >= r->at + n->request_timeout_ms)
            todo[k++] = r;
        else if (r->at + n->request_timeout_ms < due)
            due = r->at + n->request_timeout_ms;
    }
    n->txreq_due = due;   /* req_assign lowers it for the requests made below */
    for (i = 0; i < k; i++) {
        if (todo[i]->uid)
            req_fail(n, todo[i]);
        else
            req_next(n, todo[i]);
    }
    hre_node__dealloc(n, todo);
}

void hre_node__relay_on_close(hre_node *n, hre_node__peer *p)
{
    (void)p;
    if (n->txreq_map.count) {
        n->txreq_retry = 1;
        n->txreq_due = n->now;   /* its requests fail over in the next relay step */
    }
}

void hre_node__relay_timers(const hre_node *n, uint64_t *when)
{
    if (n->txreq_map.count && n->txreq_due < *when)
        *when = n->txreq_due;
}

/* ------------------------------------------------------------------------ */
/* Received messages                                                         */
/* ------------------------------------------------------------------------ */

void hre_node__on_inv(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len)
{
    const uint8_t *e;
    size_t count, i, k = 0, pos;
    uint8_t buf[3 + HRE_NODE_MAX_INV * HRE_NODE__INV_ENTRY];
    int refused = 0;
    int rc = hre_node__inv_decode(&e, &count, d, len);
    if (rc == HRE_ELIMIT) {
        hre_node__close(n, p, HRE_NODE_REASON_INV_OVER_CAP, 1, "inv of more than %d entries", HRE_NODE_MAX_INV);
        return;
    }
    if (rc != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_MALFORMED, 1, "inv does not decode");
        return;
    }
    for (i = 0; i < count; i++) {
        const uint8_t *h = e + HRE_NODE__INV_ENTRY * i + 1;
        (void)hre_node__known_add(n, &p->known, h);
        if (e[HRE_NODE__INV_ENTRY * i] == HRE_NODE__INV_BLOCK) {
            hre_node__on_block_inv(n, p, h);
            continue;
        }
        if (!is_member(n, p)) {
            refused = 1;
            continue;
        }
        if (hre_ledger_mempool_contains(n->l, h) || hre__map_get(&n->recent_rej, h) ||
            !req_announced(n, p, h))
            continue;
        if (k == 0)
            hre_node__list_begin(buf, &pos, HRE_NODE_MAX_INV);   /* reserve 3 bytes, fixed below */
        buf[3 + HRE_NODE__INV_ENTRY * k] = HRE_NODE__INV_TX;
        memcpy(buf + 4 + HRE_NODE__INV_ENTRY * k, h, 32);
        k++;
    }
    if (refused)
        refuse(n, p, "transaction inventory from a peer that is not a live member");
    if (k) {
        uint8_t hdr[9];
        hre_node__list_begin(hdr, &pos, k);
        memcpy(buf + 3 - pos, hdr, pos);
        (void)hre_node__send(n, p, HRE_NODE__CMD_GETDATA, buf + 3 - pos, pos + HRE_NODE__INV_ENTRY * k,
                             NULL, 0);
    }
}

void hre_node__on_getdata(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len)
{
    const uint8_t *e;
    size_t count;
    int rc = hre_node__inv_decode(&e, &count, d, len);
    if (rc == HRE_ELIMIT) {
        hre_node__close(n, p, HRE_NODE_REASON_GETDATA_OVER_CAP, 1, "getdata of more than %d entries",
                        HRE_NODE_MAX_INV);
        return;
    }
    if (rc != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_MALFORMED, 1, "getdata does not decode");
        return;
    }
    if (p->gd_n - p->gd_off + count > GETDATA_QUEUE_MAX) {
        hre_node__close(n, p, HRE_NODE_REASON_GETDATA_OVER_CAP, 1,
                        "more than %u getdata entries waiting (the peer does not read)", GETDATA_QUEUE_MAX);
        return;
    }
    if (p->gd_off && p->gd_off == p->gd_n)
        p->gd_off = p->gd_n = 0;
    if (p->gd_n + count > p->gd_cap) {
        size_t nc = p->gd_n - p->gd_off + count;
        uint8_t (*ng)[HRE_NODE__INV_ENTRY];
        if (nc < 64)
            nc = 64;
        ng = hre_node__alloc(n, nc * HRE_NODE__INV_ENTRY);
        if (!ng) {
            hre_node__close(n, p, HRE_NODE_REASON_RESOURCES, 1, "out of memory for getdata");
            return;
        }
        if (p->gd_n > p->gd_off)
            memcpy(ng, p->getdata + p->gd_off, (p->gd_n - p->gd_off) * HRE_NODE__INV_ENTRY);
        hre_node__dealloc(n, p->getdata);
        p->getdata = ng;
        p->gd_n -= p->gd_off;
        p->gd_off = 0;
        p->gd_cap = nc;
    }
    memcpy(p->getdata + p->gd_n, e, count * HRE_NODE__INV_ENTRY);
    p->gd_n += count;
    hre_node__serve_getdata(n, p);
}

static int read_block(hre_node *n, const uint8_t hash[32], size_t *len)
{
    int rc;
    for (;;) {
        *len = n->blkbuf_cap;
        rc = hre_ledger_block_by_hash(n->l, n->blkbuf, len, hash);
        if (rc != HRE_EBUFSIZE)
            return rc;
        {
            uint8_t *nb = hre_node__realloc(n, n->blkbuf, *len);
            if (!nb)
                return HRE_ENOMEM;
            n->blkbuf = nb;
            n->blkbuf_cap = *len;
        }
    }
}

void hre_node__serve_getdata(hre_node *n, hre_node__peer *p)
{
    uint8_t nf[3 + HRE_NODE_MAX_INV * HRE_NODE__INV_ENTRY];
    size_t nfk = 0, pos;
    while (p->gd_off < p->gd_n && !p->closing && hre_node__queued(p) < n->peer_send_max / 2 &&
           p->budget_used < n->work_budget * 4) {
        const uint8_t *e = p->getdata[p->gd_off++];
        size_t len = 0;
        int ok = 0;
        if (e[0] == HRE_NODE__INV_BLOCK) {
            hre_ledger_block_info bi;
            bi.version = HRE_LEDGER_BLOCK_INFO_VERSION;
            if (hre_ledger_block_info_get(n->l, &bi, e + 1) == HRE_OK && !bi.invalid &&
                read_block(n, e + 1, &len) == HRE_OK) {
                (void)hre_node__send(n, p, HRE_NODE__CMD_BLOCK, n->blkbuf, len, NULL, 0);
                ok = 1;
            }
        } else if (is_member(n, p)) {
            uint8_t tx[HRE_TX_MAX_LEN];
            len = sizeof tx;
            if (hre_ledger_mempool_tx(n->l, tx, &len, e + 1) == HRE_OK) {
                (void)hre_node__send(n, p, HRE_NODE__CMD_TX, tx, len, NULL, 0);
                ok = 1;
            }
        }
        p->budget_used++;
        if (!ok && nfk < HRE_NODE_MAX_INV) {
            memcpy(nf + 3 + HRE_NODE__INV_ENTRY * nfk, e, HRE_NODE__INV_ENTRY);
            nfk++;
        }
    }
    if (nfk && !p->closing) {
        uint8_t hdr[9];
        hre_node__list_begin(hdr, &pos, nfk);
        memcpy(nf + 3 - pos, hdr, pos);
        (void)hre_node__send(n, p, HRE_NODE__CMD_NOTFOUND, nf + 3 - pos, pos + HRE_NODE__INV_ENTRY * nfk, NULL, 0);
    }
    if (p->gd_off == p->gd_n) {
        p->gd_off = p->gd_n = 0;
        if (p->gd_cap > 256) {
            hre_node__dealloc(n, p->getdata);
            p->getdata = NULL;
            p->gd_cap = 0;
        }
    }
}

void hre_node__on_notfound(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len)
{
    const uint8_t *e;
    size_t count, i;
    int rc = hre_node__inv_decode(&e, &count, d, len);
    if (rc == HRE_ELIMIT) {
        hre_node__close(n, p, HRE_NODE_REASON_INV_OVER_CAP, 1, "notfound of more than %d entries",
                        HRE_NODE_MAX_INV);
        return;
    }
    if (rc != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_MALFORMED, 1, "notfound does not decode");
        return;
    }
    for (i = 0; i < count; i++) {
        const uint8_t *h = e + HRE_NODE__INV_ENTRY * i + 1;
        if (e[HRE_NODE__INV_ENTRY * i] == HRE_NODE__INV_TX) {
            req_notfound(n, h, p);
        } else {
            hre_node__hdr *x = hre__map_get(&n->hdr_map, h);
            if (x && x->req_uid == p->uid) {
                x->req_uid = 0;
                if (p->blocks_inflight)
                    p->blocks_inflight--;
                /* it does not have it: look elsewhere first */
                if (p->best_height >= x->height)
                    p->best_height = x->height ? x->height - 1 : 0;
            }
        }
    }
}

void hre_node__on_tx(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len)
{
    uint8_t txid[32];
    hre_ledger_status st = HRE_LEDGER_STATUS_NONE;
    int rc;
    if (!is_member(n, p)) {
        refuse(n, p, "transaction from a peer that is not a live member");
        return;
    }
    rc = hre_ledger_submit_tx(n->l, txid, &st, d, len, n->now / 1000);
    if (rc == HRE_OK) {
        req_done(n, txid);
        (void)hre_node__known_add(n, &p->known, txid);
        n->txs_recv++;
        n->mempool_gen++;
        hre_node__emit(n, HRE_NODE_EVENT_TX_ACCEPTED, p->conn, 0, "", txid, NULL, 0, 0);
        hre_node__announce_tx(n, txid, p);
        return;
    }
    if (rc == HRE_EFATAL || rc == HRE_ECORRUPT) {
        hre_node__go_fatal(n, rc, "the ledger failed");
        return;
    }
    if (hre_sha256d(txid, d, len) != HRE_OK)
        return;
    req_done(n, txid);
    (void)hre_node__known_add(n, &p->known, txid);
    if (rc != HRE_EEXISTS && rc != HRE_ENOMEM)
        reject_add(n, txid);   /* not punished: it may be valid on another peer's mempool */
}

/* ------------------------------------------------------------------------ */
/* The relay step of every call                                              */
/* ------------------------------------------------------------------------ */

void hre_node__relay_step(hre_node *n)
{
    size_t i;
    if (n->announce_tip) {
        /* announce the tip once we are not behind a better header chain */
        int behind = 0;
        size_t k;
        for (k = 0; k < n->n_hdrs; k++)
            if (!n->hdrs[k]->invalid && memcmp(n->hdrs[k]->h.prev_hash, n->tip, 32) == 0)
                behind = 1;
        if (!behind) {
            n->announce_tip = 0;
            hre_node__announce_block(n, n->tip);
        }
    }
    if (n->reorged) {
        n->reorged = 0;
        for (i = 0; i < n->n_peers; i++)
            hre_node__offer_mempool(n, n->peers[i]);
    }
    for (i = 0; i < n->n_peers; i++) {
        hre_node__peer *p = n->peers[i];
        if (p->closing || p->state != NODE__READY)
            continue;
        offer_step(n, p);
        if (p->gd_off < p->gd_n)
            hre_node__serve_getdata(n, p);
    }
    if (n->txreq_map.count)
        req_expire(n);
}

void hre_node__relay_free(hre_node *n)
{
    size_t i;
    for (i = 0; i < n->txreq_map.cap; i++)
        if (n->txreq_map.keys[i])
            hre_node__dealloc(n, n->txreq_map.vals[i]);
    hre__map_free(&n->txreq_map);
    hre__map_free(&n->recent_rej);
    hre_node__dealloc(n, n->rej);
    n->rej = NULL;
}

/* ------------------------------------------------------------------------ */
/* Submitting a transaction                                                  */
/* ------------------------------------------------------------------------ */

HRE_API int hre_node_submit_tx(hre_node *n, uint8_t txid[32], hre_ledger_status *status, const uint8_t *tx,
                               size_t len, uint64_t now)
{
    HRE__API_SCOPE;
    uint8_t id[32];
    int rc = hre_node__enter(n, now, "hre_node_submit_tx");
    if (txid)
        memset(txid, 0, 32);
    if (status)
        *status = HRE_LEDGER_STATUS_NONE;
    if (rc != HRE_OK)
        return rc;
    rc = hre_ledger_submit_tx(n->l, id, status, tx, len, n->now / 1000);
    if (rc == HRE_OK) {
        if (txid)
            memcpy(txid, id, 32);
        n->mempool_gen++;
        req_done(n, id);
        hre_node__announce_tx(n, id, NULL);
        return hre__api_done(hre_node__leave(n, HRE_OK));
    }
    if (rc == HRE_EFATAL || rc == HRE_ECORRUPT)
        hre_node__go_fatal(n, rc, "the ledger failed");
    return hre_node__leave(n, rc);
}
