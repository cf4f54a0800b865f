/*
 * Headers-first sync (docs/PROTOCOL.md 12.6): block locators, serving and
 * checking headers (continuity, proof of work, expected bits, median time,
 * the future-time rule that ignores instead of punishing), the bounded
 * header tree ahead of the ledger, the download path to the best header
 * (only when it has more work than the ledger's tip), parallel block fetch
 * inside a moving window with a doubling stall timeout, and in-order
 * submission to the ledger in group commits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/internal.h"
#include "hre/pow.h"
#include "node/internal.h"

#define READY_DELAY_MS 20u      /* a partial batch waits this long for more blocks */
#define FUTURE_RETRY_MS 60000u  /* time-future headers and blocks: ask again after */
#define STORAGE_RETRY_MS 1000u

/* ------------------------------------------------------------------------ */
/* Ancestors: the header tree first, then the ledger                         */
/* ------------------------------------------------------------------------ */

typedef struct anc {
    hre_header h;
    uint64_t height;
    uint8_t work[32];
    int invalid;
    int in_ledger;
    int on_main;
} anc;

static int anc_get(const hre_node *n, const uint8_t hash[32], anc *a)
{
    const hre_node__hdr *e = hre__map_get(&n->hdr_map, hash);
    hre_ledger_block_info bi;
    if (e) {
        a->h = e->h;
        a->height = e->height;
        memcpy(a->work, e->work, 32);
        a->invalid = e->invalid;
        a->in_ledger = 0;
        a->on_main = 0;
        return 1;
    }
    bi.version = HRE_LEDGER_BLOCK_INFO_VERSION;
    if (hre_ledger_block_info_get(n->l, &bi, hash) != HRE_OK)
        return 0;
    a->h = bi.header;
    a->height = bi.height;
    memcpy(a->work, bi.work, 32);
    a->invalid = bi.invalid;
    a->in_ledger = 1;
    a->on_main = bi.on_main;
    return 1;
}

int hre_node__hdr_known(const hre_node *n, const uint8_t hash[32])
{
    anc a;
    return anc_get(n, hash, &a);
}

/* Median time past of the 11 blocks ending at parent (as the ledger). */
static int mtp_of(const hre_node *n, const anc *parent, const uint8_t parent_hash[32], uint32_t *mtp)
{
    uint32_t t[11];
    size_t k = 0;
    anc a = *parent;
    uint8_t hash[32];
    (void)parent_hash;
    for (;;) {
        t[k++] = a.h.time;
        if (k == 11 || a.height == 0)
            break;
        memcpy(hash, a.h.prev_hash, 32);
        if (!anc_get(n, hash, &a))
            return HRE_ENOTFOUND;
    }
    *mtp = hre_chain__median_time(t, k);
    return HRE_OK;
}

/* The bits a child of parent must carry (the ledger's retarget rule). */
static int expected_bits(const hre_node *n, const anc *parent, uint32_t *bits)
{
    uint64_t h = parent->height + 1, steps;
    anc a = *parent;
    uint8_t hash[32];
    if (hre_chain__is_retarget(&n->params, h)) {
        for (steps = 1; steps < n->params.retarget_interval; steps++) {
            memcpy(hash, a.h.prev_hash, 32);
            if (!anc_get(n, hash, &a))
                return HRE_ENOTFOUND;
        }
    }
    return hre_chain__expected_bits(bits, &n->params, h, parent->h.bits, parent->h.time, a.h.time);
}

/* Hash of the ancestor at `target` of the block (hash, height). */
static int ancestor_hash(const hre_node *n, uint8_t out[32], const uint8_t hash[32], uint64_t height,
                         uint64_t target)
{
    uint8_t cur[32];
    anc a;
    memcpy(cur, hash, 32);
    while (height > target) {
        if (!anc_get(n, cur, &a))
            return HRE_ENOTFOUND;
        if (a.on_main) {
            hre_header h;
            return hre_ledger_header_by_height(n->l, &h, out, target);
        }
        memcpy(cur, a.h.prev_hash, 32);
        height--;
    }
    memcpy(out, cur, 32);
    return HRE_OK;
}

/* A Bitcoin-style locator from (hash, height): 10 steps of 1, then doubling,
 * genesis last; at most HRE_NODE_MAX_LOCATOR hashes. */
static size_t locator(const hre_node *n, uint8_t (*out)[32], const uint8_t hash[32], uint64_t height)
{
    uint64_t step = 1, h = height;
    size_t k = 0;
    uint8_t cur[32];
    memcpy(cur, hash, 32);
    while (k < HRE_NODE_MAX_LOCATOR - 1) {
        uint64_t next;
        memcpy(out[k++], cur, 32);
        if (h == 0)
            return k;
        if (k >= 10)
            step *= 2;
        next = h > step ? h - step : 0;
        if (ancestor_hash(n, cur, cur, h, next) != HRE_OK)
            break;
        h = next;
    }
    if (hre_ledger_header_by_height(n->l, &(hre_header){ 0 }, out[k], 0) == HRE_OK)
        k++;
    return k;
}

/* ------------------------------------------------------------------------ */
/* The header tree                                                           */
/* ------------------------------------------------------------------------ */

static hre_node__hdr *best_of(hre_node *n)
{
    hre_node__hdr *b = NULL;
    size_t i;
    for (i = 0; i < n->n_hdrs; i++) {
        hre_node__hdr *e = n->hdrs[i];
        if (!e->invalid && (!b || hre_pow_work_cmp(e->work, b->work) > 0))
            b = e;
    }
    return b;
}

static void owner_dec(hre_node *n, uint64_t uid)
{
    hre_node__peer *p = uid ? hre_node__peer_by_uid(n, uid) : NULL;
    if (p && p->headers_held)
        p->headers_held--;
}

static void drop_block(hre_node *n, hre_node__hdr *e)
{
    if (!e->block)
        return;
    hre_node__dealloc(n, e->block);
    e->block = NULL;
    if (n->blocks_buffered)
        n->blocks_buffered--;
    n->buffered_bytes -= e->block_len;
    e->block_len = 0;
}

static void release_req(hre_node *n, hre_node__hdr *e)
{
    hre_node__peer *p;
    if (!e->req_uid)
        return;
    p = hre_node__peer_by_uid(n, e->req_uid);
    if (p && p->blocks_inflight)
        p->blocks_inflight--;
    e->req_uid = 0;
}

/* Remove entry i of the tree (swap-remove). */
static void hdr_remove(hre_node *n, size_t i)
{
    hre_node__hdr *e = n->hdrs[i];
    release_req(n, e);
    drop_block(n, e);
    owner_dec(n, e->owner);
    hre__map_del(&n->hdr_map, e->hash);
    if (n->best == e)
        n->best = NULL;
    n->hdrs[i] = n->hdrs[--n->n_hdrs];
    n->hdrs[i]->idx = i;
    hre_node__dealloc(n, e);
    n->path_dirty = 1;
}

static int hdr_add(hre_node *n, hre_node__peer *p, const hre_header *h, const uint8_t hash[32],
                   const anc *parent)
{
    hre_node__hdr *e;
    uint8_t w[32];
    int rc;
    if (n->n_hdrs == n->cap_hdrs) {
        size_t nc = n->cap_hdrs ? n->cap_hdrs * 2 : 256;
        hre_node__hdr **nh = hre_node__realloc(n, n->hdrs, nc * sizeof *nh);
        if (!nh)
            return HRE_ENOMEM;
        n->hdrs = nh;
        n->cap_hdrs = nc;
    }
    e = hre_node__zalloc(n, sizeof *e);
    if (!e)
        return HRE_ENOMEM;
    memcpy(e->hash, hash, 32);
    e->h = *h;
    e->height = parent->height + 1;
    if ((rc = hre_pow_work(w, h->bits)) == HRE_OK)
        rc = hre_pow_work_add(e->work, parent->work, w);
    if (rc == HRE_OK)
        rc = hre__map_put(&n->hdr_map, e->hash, e);
    if (rc != HRE_OK) {
        hre_node__dealloc(n, e);
        return rc;
    }
    e->owner = p->uid;
    p->headers_held++;
    e->idx = n->n_hdrs;
    n->hdrs[n->n_hdrs++] = e;
    if (!n->best || hre_pow_work_cmp(e->work, n->best->work) > 0) {
        n->best = e;
        n->path_dirty = 1;
    }
    return HRE_OK;
}

static int cmp_height(const void *x, const void *y)
{
    const hre_node__hdr *a = *(hre_node__hdr *const *)x, *b = *(hre_node__hdr *const *)y;
    return a->height < b->height ? -1 : a->height > b->height;
}

/* Mark e invalid and every entry that descends from it (in height order,
 * so one pass suffices). */
static void invalidate(hre_node *n, hre_node__hdr *e)
{
    size_t i;
    e->invalid = 1;
    drop_block(n, e);
    release_req(n, e);
    qsort(n->hdrs, n->n_hdrs, sizeof *n->hdrs, cmp_height);
    for (i = 0; i < n->n_hdrs; i++)
        n->hdrs[i]->idx = i;
    for (i = 0; i < n->n_hdrs; i++) {
        hre_node__hdr *x = n->hdrs[i];
        hre_node__hdr *par = hre__map_get(&n->hdr_map, x->h.prev_hash);
        if (par && par->invalid && !x->invalid) {
            x->invalid = 1;
            drop_block(n, x);
            release_req(n, x);
        }
    }
    n->best = best_of(n);
    n->path_dirty = 1;
}

/* Free entries nobody needs: no live owner, not an ancestor of the best
 * header, and no live owner's entry descends from them. */
static void gc(hre_node *n)
{
    size_t i;
    hre_node__hdr *e;
    for (i = 0; i < n->n_hdrs; i++)
        n->hdrs[i]->mark = 0;
    for (e = n->best; e && !e->mark; e = hre__map_get(&n->hdr_map, e->h.prev_hash))
        e->mark = 1;
    for (i = 0; i < n->n_hdrs; i++) {
        if (!n->hdrs[i]->owner || !hre_node__peer_by_uid(n, n->hdrs[i]->owner) || n->hdrs[i]->invalid)
            continue;
        for (e = n->hdrs[i]; e && !e->mark; e = hre__map_get(&n->hdr_map, e->h.prev_hash))
            e->mark = 1;
    }
    i = 0;
    while (i < n->n_hdrs) {
        e = n->hdrs[i];
        if (!e->mark && !e->block)
            hdr_remove(n, i);
        else
            i++;
    }
}

/* Drop entries whose blocks the ledger holds now. */
static void prune_stored(hre_node *n)
{
    size_t i = 0;
    hre_ledger_block_info bi;
    while (i < n->n_hdrs) {
        hre_node__hdr *e = n->hdrs[i];
        bi.version = HRE_LEDGER_BLOCK_INFO_VERSION;
        if (hre_ledger_block_info_get(n->l, &bi, e->hash) == HRE_OK && !bi.invalid) {
            hdr_remove(n, i);
            continue;
        }
        i++;
    }
    if (!n->best)
        n->best = best_of(n);
}

static int path_reserve(hre_node *n, size_t want)
{
    hre_node__hdr **np;
    size_t nc;
    if (want <= n->path_cap)
        return HRE_OK;
    nc = n->path_cap ? n->path_cap : 256;
    while (nc < want)
        nc *= 2;
    np = hre_node__realloc(n, n->path, nc * sizeof *np);
    if (!np)
        return HRE_ENOMEM;
    n->path = np;
    n->path_cap = nc;
    return HRE_OK;
}

/* The entries from the ledger fork point + 1 up to the best header. */
static void rebuild_path(hre_node *n)
{
    hre_node__hdr *e;
    size_t k = 0, i;
    n->path_dirty = 0;
    n->path_n = n->path_start = 0;
    if (!n->best || hre_pow_work_cmp(n->best->work, n->tip_work) <= 0)
        return;
    for (e = n->best; e; e = hre__map_get(&n->hdr_map, e->h.prev_hash))
        k++;
    if (path_reserve(n, k) != HRE_OK)
        return;
    i = k;
    for (e = n->best; e; e = hre__map_get(&n->hdr_map, e->h.prev_hash))
        n->path[--i] = e;
    /* the first entry's parent must be a block the ledger holds */
    if (!k)
        return;
    {
        hre_ledger_block_info bi;
        bi.version = HRE_LEDGER_BLOCK_INFO_VERSION;
        if (hre_ledger_block_info_get(n->l, &bi, n->path[0]->h.prev_hash) != HRE_OK)
            return;
    }
    n->path_n = k;
}

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

void hre_node__send_getheaders(hre_node *n, hre_node__peer *p)
{
    uint8_t loc[HRE_NODE_MAX_LOCATOR][32];
    uint8_t buf[1 + HRE_NODE_MAX_LOCATOR * 32 + 32];
    size_t k, pos;
    if (p->hdr_inflight || p->state != NODE__READY || p->closing)
        return;
    if (n->best && hre_pow_work_cmp(n->best->work, n->tip_work) > 0)
        k = locator(n, loc, n->best->hash, n->best->height);
    else
        k = locator(n, loc, n->tip, n->tip_height);
    hre_node__list_begin(buf, &pos, k);
    memcpy(buf + pos, loc, 32 * k);
    pos += 32 * k;
    memset(buf + pos, 0, 32);
    pos += 32;
    if (hre_node__send(n, p, HRE_NODE__CMD_GETHEADERS, buf, pos, NULL, 0) == HRE_OK) {
        p->hdr_inflight = 1;
        p->hdr_req_at = n->now;
    }
}

void hre_node__on_getheaders(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len)
{
    const uint8_t *hashes;
    size_t count, i, k, pos;
    uint8_t stop[32];
    uint64_t fork = 0, last;
    uint8_t *buf;
    int rc = hre_node__getheaders_decode(&hashes, &count, stop, d, len);
    if (rc == HRE_ELIMIT) {
        hre_node__close(n, p, HRE_NODE_REASON_LOCATOR_OVER_CAP, 1, "locator of more than %d hashes",
                        HRE_NODE_MAX_LOCATOR);
        return;
    }
    if (rc != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_MALFORMED, 1, "getheaders does not decode");
        return;
    }
    for (i = 0; i < count; i++) {
        hre_ledger_block_info bi;
        bi.version = HRE_LEDGER_BLOCK_INFO_VERSION;
        if (hre_ledger_block_info_get(n->l, &bi, hashes + 32 * i) == HRE_OK && bi.on_main) {
            fork = bi.height;
            break;
        }
    }
    last = n->tip_height;
    {
        hre_ledger_block_info bi;
        static const uint8_t zero[32];
        bi.version = HRE_LEDGER_BLOCK_INFO_VERSION;
        if (memcmp(stop, zero, 32) != 0 && hre_ledger_block_info_get(n->l, &bi, stop) == HRE_OK &&
            bi.on_main && bi.height > fork && bi.height < last)
            last = bi.height;
    }
    k = last > fork ? (size_t)(last - fork) : 0;
    if (k > HRE_NODE_MAX_HEADERS)
        k = HRE_NODE_MAX_HEADERS;
    buf = hre_node__alloc(n, hre_node__list_len(k, HRE_HEADER_LEN));
    if (!buf) {
        hre_node__close(n, p, HRE_NODE_REASON_RESOURCES, 1, "out of memory for headers");
        return;
    }
    hre_node__list_begin(buf, &pos, k);
    for (i = 0; i < k; i++) {
        hre_header h;
        if (hre_ledger_header_by_height(n->l, &h, NULL, fork + 1 + i) != HRE_OK ||
            hre_header_encode(&h, buf + pos) != HRE_OK)
            break;
        pos += HRE_HEADER_LEN;
    }
    if (i < k) {   /* cannot happen on a consistent ledger: send what we have */
        size_t p0;
        uint8_t tmp[9];
        hre_node__list_begin(tmp, &p0, i);
        memmove(buf + p0, buf + (pos - i * HRE_HEADER_LEN), i * HRE_HEADER_LEN);
        memcpy(buf, tmp, p0);
        pos = p0 + i * HRE_HEADER_LEN;
    }
    (void)hre_node__send(n, p, HRE_NODE__CMD_HEADERS, buf, pos, NULL, 0);
    hre_node__dealloc(n, buf);
}

static int room_for_headers(const hre_node *n, const hre_node__peer *p)
{
    return n->n_hdrs < n->max_headers && p->headers_held < n->max_headers_per_peer;
}

void hre_node__on_headers(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len)
{
    const uint8_t *hd;
    size_t count, i;
    uint8_t last[32] = { 0 };
    uint64_t now_s = n->now / 1000, last_height = 0;
    int stopped = 0, capped = 0, have_last = 0, rc;
    rc = hre_node__headers_decode(&hd, &count, d, len);
    p->hdr_inflight = 0;
    if (rc == HRE_ELIMIT) {
        hre_node__close(n, p, HRE_NODE_REASON_HEADERS_OVER_CAP, 1, "more than %d headers",
                        HRE_NODE_MAX_HEADERS);
        return;
    }
    if (rc != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_MALFORMED, 1, "headers do not decode");
        return;
    }
    if (count == 0) {
        p->hdr_more = 0;
        p->synced_from = 1;
        return;
    }
    for (i = 0; i < count; i++) {
        hre_header h;
        uint8_t hash[32];
        anc parent, self;
        uint32_t bits, mtp;
        if (hre_header_decode(&h, hd + HRE_HEADER_LEN * i, HRE_HEADER_LEN) != HRE_OK ||
            hre_header_hash(&h, hash) != HRE_OK) {
            hre_node__close(n, p, HRE_NODE_REASON_RESOURCES, 1, "header hashing failed");
            return;
        }
        if (i > 0 && memcmp(h.prev_hash, last, 32) != 0) {
            hre_node__close(n, p, HRE_NODE_REASON_NON_CONTINUOUS, 1,
                            "header %zu does not follow header %zu", i, i - 1);
            return;
        }
        if (!anc_get(n, h.prev_hash, &parent)) {
            if (i == 0) {
                /* our view may be behind (the peer announced a block we
                   cannot place yet): ask from our locator, and only a peer
                   that keeps sending what does not connect is punished */
                if (++p->unconnecting > HRE_NODE__MAX_UNCONNECTING) {
                    hre_node__close(n, p, HRE_NODE_REASON_NON_CONNECTING, 1,
                                    "the first header's parent is unknown (%u times in a row)",
                                    (unsigned)p->unconnecting);
                    return;
                }
                hre_node__send_getheaders(n, p);
                return;
            }
            /* the previous header was not kept (caps): stop here */
            stopped = 1;
            break;
        }
        if (i == 0)
            p->unconnecting = 0;
        if (anc_get(n, hash, &self)) {
            memcpy(last, hash, 32);
            have_last = 1;
            if (self.invalid) {
                hre_node__close(n, p, HRE_NODE_REASON_INVALID_HEADER, 1, "a header known to be invalid");
                return;
            }
            last_height = self.height;
            continue;
        }
        if (parent.invalid) {
            hre_node__close(n, p, HRE_NODE_REASON_INVALID_HEADER, 1, "a header on an invalid block");
            return;
        }
        if (hre_pow_check_hash(hash, h.bits, n->params.pow_limit) != HRE_OK) {
            hre_node__close(n, p, HRE_NODE_REASON_INVALID_POW, 1, "header %zu: proof of work invalid", i);
            return;
        }
        if (now_s <= UINT64_MAX - HRE_NODE__FUTURE_LIMIT && (uint64_t)h.time > now_s + HRE_NODE__FUTURE_LIMIT) {
            /* as Bitcoin Core: not punished; ignored, asked for again later */
            hre_node__emit(n, HRE_NODE_EVENT_REFUSED, p->conn, HRE_NODE_REASON_TIME_FUTURE,
                           "header time more than 2 h ahead: ignored, asked again later", NULL, NULL, 0, 0);
            p->hdr_retry_at = n->now + FUTURE_RETRY_MS;
            stopped = 1;
            break;
        }
        if ((rc = expected_bits(n, &parent, &bits)) != HRE_OK) {
            stopped = 1;   /* an ancestor we cannot see (pruned): no verdict */
            break;
        }
        if (h.bits != bits) {
            hre_node__close(n, p, HRE_NODE_REASON_INVALID_HEADER, 1, "header %zu: bits 0x%08x, expected 0x%08x",
                            i, h.bits, bits);
            return;
        }
        if (mtp_of(n, &parent, h.prev_hash, &mtp) != HRE_OK) {
            stopped = 1;
            break;
        }
        if (h.time <= mtp) {
            hre_node__close(n, p, HRE_NODE_REASON_INVALID_HEADER, 1,
                            "header %zu: time %u not above the median time past %u", i, h.time, mtp);
            return;
        }
        if (!room_for_headers(n, p)) {
            stopped = capped = 1;   /* memory caps: keep what we have, no punishment; ask
                                       again when blocks have made room */
            break;
        }
        if (hdr_add(n, p, &h, hash, &parent) != HRE_OK) {
            hre_node__close(n, p, HRE_NODE_REASON_RESOURCES, 1, "out of memory for headers");
            return;
        }
        memcpy(last, hash, 32);
        have_last = 1;
        last_height = parent.height + 1;
    }
    if (last_height > p->best_height)
        p->best_height = last_height;
    {
        anc a;
        if (have_last && anc_get(n, last, &a) && hre_pow_work_cmp(a.work, p->best_work) > 0)
            memcpy(p->best_work, a.work, 32);
    }
    p->hdr_more = count == HRE_NODE_MAX_HEADERS && !stopped;
    if (p->hdr_more)
        hre_node__send_getheaders(n, p);
    else
        p->synced_from = !capped;
}

int hre_node__block_wanted(const hre_node *n, const hre_node__peer *p, uint32_t len)
{
    return p->blocks_inflight > 0 && len >= HRE_HEADER_LEN && len <= n->params.max_block_size;
}

void hre_node__on_block(hre_node *n, hre_node__peer *p, hre_node__msg *m)
{
    hre_header h;
    uint8_t hash[32];
    hre_node__hdr *e;
    if (m->len < HRE_HEADER_LEN || hre_header_decode(&h, m->data, HRE_HEADER_LEN) != HRE_OK ||
        hre_header_hash(&h, hash) != HRE_OK)
        return;
    e = hre__map_get(&n->hdr_map, hash);
    if (!e || e->req_uid != p->uid || e->block)
        return;   /* unrequested: ignored */
    release_req(n, e);
    e->block = m->data;
    e->block_len = m->len;
    m->data = NULL;
    e->from_uid = p->uid;
    memcpy(e->from_addr, p->address, sizeof e->from_addr);
    e->from_has_key = p->has_identity;
    memcpy(e->from_key, p->key, 34);
    e->req_at = n->now;   /* now: when it arrived */
    n->blocks_buffered++;
    n->buffered_bytes += m->len;
    n->blocks_recv++;
    p->last_block_at = n->now;
    if (e->height > p->best_height)
        p->best_height = e->height;
    /* progress: the stall timeout decays back toward its start value */
    if (n->stall_ms > n->stall_timeout_ms) {
        uint32_t dec = n->stall_ms - n->stall_ms / 8;
        n->stall_ms = dec > n->stall_timeout_ms ? dec : n->stall_timeout_ms;
    }
}

void hre_node__on_block_inv(hre_node *n, hre_node__peer *p, const uint8_t hash[32])
{
    if (hre_node__hdr_known(n, hash))
        return;
    p->synced_from = 0;
    hre_node__send_getheaders(n, p);
}

/* ------------------------------------------------------------------------ */
/* Download and submission                                                   */
/* ------------------------------------------------------------------------ */

static void discourage_source(hre_node *n, hre_node__hdr *e, const char *why)
{
    hre_node__peer *p = e->from_uid ? hre_node__peer_by_uid(n, e->from_uid) : NULL;
    if (p && !p->closing)
        hre_node__close(n, p, HRE_NODE_REASON_INVALID_BLOCK, 1, "invalid block: %s", why);
    else
        (void)hre_node__discourage(n, e->from_addr, e->from_has_key ? e->from_key : NULL,
                                   HRE_NODE_REASON_INVALID_BLOCK);
}

/* The ledger refused path[path_start] (rc, st). */
static void on_refused(hre_node *n, hre_node__hdr *e, int rc, hre_ledger_status st)
{
    hre_ledger_block_info bi;
    char why[160];
    snprintf(why, sizeof why, "%s: %s", hre_ledger_status_name((int)st), hre_error_detail());
    if (rc == HRE_EFATAL || rc == HRE_ECORRUPT) {
        hre_node__go_fatal(n, rc, "the ledger failed");
        return;
    }
    if (st == HRE_LEDGER_REJECT_STORAGE || rc == HRE_EIO || rc == HRE_ENOSPC || rc == HRE_ENOMEM ||
        st == HRE_LEDGER_STATUS_NONE) {
        n->submit_retry_at = n->now + STORAGE_RETRY_MS;
        HRE_NODE__LOG(n, HRE_LOG_WARN, "block submission failed, retrying: %s", why);
        return;
    }
    if (st == HRE_LEDGER_REJECT_DUPLICATE) {
        n->path_dirty = 1;
        drop_block(n, e);
        return;
    }
    if (st == HRE_LEDGER_REJECT_TIME_FUTURE || st == HRE_LEDGER_ORPHAN) {
        drop_block(n, e);
        e->not_before = n->now + FUTURE_RETRY_MS;
        return;
    }
    bi.version = HRE_LEDGER_BLOCK_INFO_VERSION;
    if (hre_ledger_block_info_get(n->l, &bi, e->hash) == HRE_OK && bi.invalid) {
        /* the block (its committed contents) is invalid */
        discourage_source(n, e, why);
        invalidate(n, e);
        return;
    }
    /* a body that does not match its header (Merkle root, mutation,
     * decoding): the peer lied, the header may still be good */
    discourage_source(n, e, why);
    drop_block(n, e);
}

static void submitted(hre_node *n, size_t count)
{
    size_t i;
    for (i = 0; i < count; i++) {
        hre_node__hdr *e = n->path[n->path_start + i];
        n->path[n->path_start + i] = NULL;
        hdr_remove(n, e->idx);
    }
    n->path_start += count;
    if (!n->best && n->n_hdrs) {
        n->best = best_of(n);
        n->path_dirty = 1;
    }
}

static int hre_node__refresh(hre_node *n)
{
    int rc = hre_node__refresh_tip(n);
    if (rc != HRE_OK)
        hre_node__go_fatal(n, rc, "reading the ledger's tip");
    return rc;
}

static void submit_ready(hre_node *n, int force)
{
    int loops = 0;
    while (!n->fatal && n->path_start < n->path_n && loops++ < 64) {
        size_t s = n->path_start, k = 0, inflight = 0, i;
        hre_node__hdr *first = n->path[s];
        hre_ledger_status st = HRE_LEDGER_STATUS_NONE;
        int rc;
        if (n->now < n->submit_retry_at)
            return;
        while (s + k < n->path_n && n->path[s + k]->block)
            k++;
        if (k == 0)
            return;
        for (i = 0; i < n->n_peers; i++)
            inflight += n->peers[i]->blocks_inflight;
        if (k < n->submit_batch && inflight && s + k < n->path_n &&
            n->buffered_bytes < n->block_buffer_max / 2 &&
            !(force && n->now >= first->req_at + READY_DELAY_MS))
            return;
        if (memcmp(first->h.prev_hash, n->tip, 32) == 0) {
            const uint8_t **bl = hre_node__alloc(n, k * sizeof *bl);
            size_t *ll = hre_node__alloc(n, k * sizeof *ll), c = 0;
            if (!bl || !ll) {
                hre_node__dealloc(n, bl);
                hre_node__dealloc(n, ll);
                n->submit_retry_at = n->now + STORAGE_RETRY_MS;
                return;
            }
            for (i = 0; i < k; i++) {
                bl[i] = n->path[s + i]->block;
                ll[i] = n->path[s + i]->block_len;
            }
            rc = hre_ledger_submit_blocks(n->l, &c, &st, bl, ll, k, n->now / 1000);
            hre_node__dealloc(n, bl);
            hre_node__dealloc(n, ll);
            if (c > k)
                c = k;
            submitted(n, c);
            if (hre_node__refresh(n) != HRE_OK)
                return;
            if (rc != HRE_OK) {
                if (n->path_start < n->path_n)
                    on_refused(n, n->path[n->path_start], rc, st);
                n->path_dirty = 1;
                return;
            }
        } else {
            rc = hre_ledger_submit_block(n->l, &st, first->block, first->block_len, n->now / 1000);
            if (rc == HRE_OK && st != HRE_LEDGER_ORPHAN) {
                submitted(n, 1);
                if (hre_node__refresh(n) != HRE_OK)
                    return;
            } else {
                on_refused(n, first, rc, st);
                n->path_dirty = 1;
                return;
            }
        }
        n->path_dirty = 0;   /* our own submissions moved path_start */
    }
}

/* Choose peers for the blocks of the window and send the requests. */
static void schedule(hre_node *n)
{
    size_t i, end = n->path_start + n->block_window, np = n->n_peers, start;
    uint8_t *req[64];
    size_t reqn[64];
    if (!np)
        return;
    if (np > 64)
        np = 64;
    memset(req, 0, sizeof req);
    memset(reqn, 0, sizeof reqn);
    if (end > n->path_n)
        end = n->path_n;
    start = n->rr;
    for (i = n->path_start; i < end; i++) {
        hre_node__hdr *e = n->path[i];
        size_t k;
        if (e->block || e->req_uid || n->now < e->not_before)
            continue;
        if (n->buffered_bytes >= n->block_buffer_max)
            break;
        for (k = 0; k < np; k++) {
            size_t pi = (start + k) % np;
            hre_node__peer *p = n->peers[pi];
            if (p->closing || p->state != NODE__READY || p->blocks_inflight >= n->blocks_in_flight ||
                p->best_height < e->height)
                continue;
            if (!req[pi]) {
                req[pi] = hre_node__alloc(n, 9u + (size_t)HRE_NODE__INV_ENTRY * n->blocks_in_flight);
                if (!req[pi])
                    continue;
            }
            req[pi][9 + HRE_NODE__INV_ENTRY * reqn[pi]] = HRE_NODE__INV_BLOCK;
            memcpy(req[pi] + 10 + HRE_NODE__INV_ENTRY * reqn[pi], e->hash, 32);
            reqn[pi]++;
            p->blocks_inflight++;
            e->req_uid = p->uid;
            e->req_at = n->now;
            start = pi + 1;
            break;
        }
    }
    for (i = 0; i < np; i++) {
        if (!req[i])
            continue;
        if (reqn[i]) {
            size_t pos;
            uint8_t hdr[9];
            hre_node__list_begin(hdr, &pos, reqn[i]);
            memcpy(req[i] + 9 - pos, hdr, pos);
            (void)hre_node__send(n, n->peers[i], HRE_NODE__CMD_GETDATA, req[i] + 9 - pos,
                                 pos + HRE_NODE__INV_ENTRY * reqn[i], NULL, 0);
        }
        hre_node__dealloc(n, req[i]);
    }
}

/* The window's first block: its peer stalls us when it is late. */
static void check_stall(hre_node *n)
{
    size_t i, end = n->path_start + n->block_window;
    if (end > n->path_n)
        end = n->path_n;
    for (i = n->path_start; i < end; i++) {
        hre_node__hdr *e = n->path[i];
        hre_node__peer *p;
        if (e->block)
            continue;
        if (!e->req_uid)
            return;
        p = hre_node__peer_by_uid(n, e->req_uid);
        /* late, and no block from that peer either for as long: a node
         * that was busy (a long submission inside one call) does not see
         * its own delay as the peer's; a peer that delivers others but
         * withholds this one meets the request timeout instead */
        if (p && !p->closing && n->now >= e->req_at + n->stall_ms &&
            n->now >= p->last_block_at + n->stall_ms) {
            hre_node__close(n, p, HRE_NODE_REASON_STALLING, 1,
                            "block at height %llu not delivered in %u ms (the download window waits)",
                            (unsigned long long)e->height, n->stall_ms);
            n->stall_ms = n->stall_ms * 2 > n->stall_max_ms ? n->stall_max_ms : n->stall_ms * 2;
        }
        return;
    }
}

static void check_timeouts(hre_node *n)
{
    size_t i;
    for (i = 0; i < n->n_hdrs; i++) {
        hre_node__hdr *e = n->hdrs[i];
        hre_node__peer *p;
        if (!e->req_uid || n->now < e->req_at + n->request_timeout_ms)
            continue;
        p = hre_node__peer_by_uid(n, e->req_uid);
        if (p && !p->closing)
            hre_node__close(n, p, HRE_NODE_REASON_TIMEOUT, 1, "block request unanswered for %u ms",
                            n->request_timeout_ms);
    }
}

/* Ask the peer with the most work for headers when it has more than us. */
static void want_headers(hre_node *n)
{
    const uint8_t *ours = n->best && hre_pow_work_cmp(n->best->work, n->tip_work) > 0 ? n->best->work
                                                                                     : n->tip_work;
    hre_node__peer *cand = NULL;
    size_t i;
    for (i = 0; i < n->n_peers; i++) {
        hre_node__peer *p = n->peers[i];
        if (p->closing || p->state != NODE__READY)
            continue;
        if (p->hdr_inflight && hre_pow_work_cmp(p->best_work, ours) > 0)
            return;   /* a headers sync is under way */
        if (p->hdr_inflight || p->hdr_retry_at || p->synced_from || !room_for_headers(n, p))
            continue;
        if (hre_pow_work_cmp(p->best_work, ours) > 0 &&
            (!cand || hre_pow_work_cmp(p->best_work, cand->best_work) > 0))
            cand = p;
    }
    if (cand)
        hre_node__send_getheaders(n, cand);
}

void hre_node__sync_step(hre_node *n, int force_submit)
{
    if (n->fatal)
        return;
    if (n->path_dirty) {
        prune_stored(n);
        rebuild_path(n);
    }
    submit_ready(n, force_submit);
    if (n->fatal)
        return;
    if (n->path_dirty) {
        prune_stored(n);
        rebuild_path(n);
    }
    check_stall(n);
    if (force_submit)
        check_timeouts(n);
    schedule(n);
    want_headers(n);
}

void hre_node__sync_timers(hre_node *n, uint64_t *when)
{
    size_t i, end = n->path_start + n->block_window;
    int first = 1;
    if (n->path_dirty) {
        *when = *when < n->now ? *when : n->now;
        return;
    }
    if (end > n->path_n)
        end = n->path_n;
    for (i = n->path_start; i < end; i++) {
        hre_node__hdr *e = n->path[i];
        uint64_t t = UINT64_MAX;
        if (e->block && first)
            t = n->now < n->submit_retry_at ? n->submit_retry_at : e->req_at + READY_DELAY_MS;
        else if (e->req_uid)
            t = e->req_at + (first ? n->stall_ms : n->request_timeout_ms);
        else if (e->not_before)
            t = e->not_before;
        if (t < *when)
            *when = t;
        if (!e->block)
            first = 0;
    }
}

void hre_node__sync_on_ready(hre_node *n, hre_node__peer *p)
{
    const uint8_t *ours = n->best && hre_pow_work_cmp(n->best->work, n->tip_work) > 0 ? n->best->work
                                                                                     : n->tip_work;
    if (hre_pow_work_cmp(p->best_work, ours) > 0)
        hre_node__send_getheaders(n, p);
}

void hre_node__sync_on_close(hre_node *n, hre_node__peer *p)
{
    size_t i;
    int owned = 0;
    for (i = 0; i < n->n_hdrs; i++) {
        hre_node__hdr *e = n->hdrs[i];
        if (e->req_uid == p->uid)
            e->req_uid = 0;
        if (e->owner == p->uid) {
            e->owner = 0;
            owned = 1;
        }
    }
    p->blocks_inflight = 0;
    p->headers_held = 0;
    if (owned) {
        gc(n);
        n->path_dirty = 1;
    }
}

void hre_node__sync_free(hre_node *n)
{
    size_t i;
    for (i = 0; i < n->n_hdrs; i++) {
        hre_node__dealloc(n, n->hdrs[i]->block);
        hre_node__dealloc(n, n->hdrs[i]);
    }
    hre_node__dealloc(n, n->hdrs);
    hre__map_free(&n->hdr_map);
    hre_node__dealloc(n, n->path);
    hre_node__dealloc(n, n->blkbuf);
    n->hdrs = NULL;
    n->n_hdrs = n->cap_hdrs = 0;
}
