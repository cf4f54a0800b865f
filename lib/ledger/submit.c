/*
 * Submitting blocks: the orphan pool, single blocks (tip extension, side
 * branch, reorg), and batches with group commit.
 * docs/PROTOCOL.md section 7.
 */
#include <string.h>

#include "core/internal.h"
#include "hre/hash.h"
#include "hre/pow.h"
#include "ledger/internal.h"

static int submit_one_(hre_ledger *l, const uint8_t *b, size_t len, uint64_t now,
                       hre_ledger_status *st, uint8_t hash[32]);

/* submit_one_, and a log line for every block it rejects (the reason is
 * the status name and the detail message, which never hold secrets). */
static int submit_one(hre_ledger *l, const uint8_t *b, size_t len, uint64_t now,
                      hre_ledger_status *st, uint8_t hash[32])
{
    hre_ledger_status s = HRE_LEDGER_STATUS_NONE;
    int rc = submit_one_(l, b, len, now, &s, hash);
    hre_ledger__set_status(st, s);
    if (rc != HRE_OK && hre_ledger__verdict_final(s))
        hre_ledger__bad_add(l, hash);   /* set by check_bytes before any such verdict */
    if (rc != HRE_OK && l->log_fn) {
        char disp[65] = "(undecodable header)";
        hre_header h;
        uint8_t hh[32];
        if (len >= HRE_HEADER_LEN && hre_header_decode(&h, b, HRE_HEADER_LEN) == HRE_OK &&
            hre_header_hash(&h, hh) == HRE_OK)
            (void)hre_hash_display_encode(disp, hh);
        HRE_LEDGER__LOG(l, s >= HRE_LEDGER_REJECT_DECODE && s != HRE_LEDGER_REJECT_STORAGE ? HRE_LOG_WARN
                                                                                          : HRE_LOG_ERROR,
                        "block %s rejected: %s (%s): %s", disp, hre_ledger_status_name((int)s),
                        hre_strerror(rc), hre_error_detail());
    }
    return rc;
}

static int submit_one_(hre_ledger *l, const uint8_t *b, size_t len, uint64_t now,
                       hre_ledger_status *st, uint8_t hash[32])
{
    hre_block *blk = NULL;
    uint8_t (*txids)[32] = NULL;
    hre_ledger__node *parent, *n = NULL;
    const hre_header *h;
    int rc;

    if ((rc = hre_ledger__usable(l, st)) != HRE_OK)
        return rc;
    rc = hre_ledger__check_bytes(l, b, len, &blk, hash, &txids, st);
    if (rc != HRE_OK)
        return rc;
    h = hre_block_header(blk);
    if (memcmp(hash, l->network_id, 32) == 0) {
        rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_GENESIS, HRE_EEXISTS, "block is the genesis block");
        goto out;
    }
    if (hre__map_get(&l->node_map, hash)) {
        rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_DUPLICATE, HRE_EEXISTS, "block already known");
        goto out;
    }
    if (hre_ledger__bad_known(l, hash)) {
        rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_DUPLICATE, HRE_EEXISTS,
                             "block already rejected as invalid");
        goto out;
    }
    if (hre_ledger__orphan_known(l, hash)) {
        rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_DUPLICATE, HRE_EEXISTS,
                             "block already held as orphan");
        goto out;
    }
    parent = hre__map_get(&l->node_map, h->prev_hash);
    if (!parent && hre_ledger__bad_known(l, h->prev_hash)) {
        rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_INVALID_PARENT, HRE_EVERIFY,
                             "block builds on a block rejected as invalid");
        goto out;
    }
    if (!parent) {
        if (now <= UINT64_MAX - HRE_LEDGER__FUTURE_LIMIT &&
            (uint64_t)h->time > now + HRE_LEDGER__FUTURE_LIMIT) {
            rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_TIME_FUTURE, HRE_ESTATE,
                     "orphan block: time %u more than 2 h after now", h->time);
            goto out;
        }
        rc = hre_ledger__orphan_add(l, b, len, hash, h->prev_hash, now);
        if (rc == HRE_OK)
            hre_ledger__set_status(st, HRE_LEDGER_ORPHAN);
        goto out;
    }
    if (parent->invalid) {
        rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_INVALID_PARENT, HRE_EVERIFY,
                 "block builds on an invalid block");
        goto out;
    }
    if ((rc = hre_ledger__check_context(l, parent, h, now, 1, st)) != HRE_OK)
        goto out;
    if (parent == hre_ledger__tip(l)) {
        rc = hre_ledger__connect_tip(l, blk, hash, (const uint8_t(*)[32])txids, 0, st, &n);
        if (rc == HRE_OK) {
            hre_ledger__set_status(st, HRE_LEDGER_CONNECTED);
            hre_ledger__post_connect(l);
        }
        goto out;
    }
    if (!(n = hre_ledger__stored_node(l, blk, hash, parent))) {
        rc = hre_error_last() ? hre_error_last() : hre__fail(HRE_ENOMEM, "ledger: out of memory");
        hre_ledger__local_status(st, rc);
        goto out;
    }
    if (hre_pow_work_cmp(n->work, hre_ledger__tip(l)->work) > 0) {
        /* Heavier than the main chain: reorganise with the block still in
         * memory; it is stored only once it is the tip (reorg.c). */
        rc = hre_ledger__reorg_to(l, n, blk, st);
        if (rc != HRE_OK)
            hre__free(n);   /* not linked */
        goto out;
    }
    hre__free(n);
    rc = hre_ledger__store_side(l, blk, hash, parent, st, &n);
    if (rc == HRE_OK)
        hre_ledger__set_status(st, HRE_LEDGER_SIDE_BRANCH);
out:
    hre__free(txids);
    hre_block_free(blk);
    return rc;
}

/* The orphans that descend from `known` (a block that just joined the tree)
 * are submitted in turn, breadth first, each at most once: the work is
 * bounded by the pool (max_orphans), there is no recursion, and the work
 * list was sized as the pool grew. Their own outcomes are not reported (a
 * failure among them is cleared when the call returns HRE_OK, rule 4). */
static void process_orphans(hre_ledger *l, const uint8_t known[32])
{
    size_t n_work = 0;
    if (!l->n_orph)
        return;
    memcpy(l->orph_work[n_work++], known, 32);
    while (n_work && l->n_orph) {
        uint8_t parent[32];
        hre_ledger__orphan *o;
        memcpy(parent, l->orph_work[--n_work], 32);
        while ((o = hre_ledger__orphan_take(l, parent)) != NULL) {
            hre_ledger_status s = HRE_LEDGER_STATUS_NONE;
            uint8_t h[32];
            if (submit_one(l, o->bytes, o->len, o->now, &s, h) == HRE_OK &&
                s != HRE_LEDGER_ORPHAN && n_work < l->orph_work_cap)
                memcpy(l->orph_work[n_work++], h, 32);
            hre_ledger__orphan_free(o);
        }
    }
}

/* One block on its own, then the orphans it lets in. */
static int submit_single(hre_ledger *l, const uint8_t *b, size_t len, uint64_t now,
                         hre_ledger_status *st)
{
    uint8_t hash[32];
    int rc = submit_one(l, b, len, now, st, hash);
    if (rc == HRE_OK && *st != HRE_LEDGER_ORPHAN)
        process_orphans(l, hash);
    return rc;
}

HRE_API int hre_ledger_submit_block(hre_ledger *l, hre_ledger_status *status, const uint8_t *block,
                                    size_t len, uint64_t now)
{
    HRE__API_SCOPE;
    hre_ledger_status st = HRE_LEDGER_STATUS_NONE;
    int rc;
    hre_ledger__set_status(status, HRE_LEDGER_STATUS_NONE);
    if (!l || !block)
        return hre__fail(HRE_EINVAL, "hre_ledger_submit_block: NULL argument");
    if (hre_ledger__usable(l, status) != HRE_OK)
        return hre__api_done(HRE_EFATAL);
    if (now > l->last_now)
        l->last_now = now;
    rc = submit_single(l, block, len, now, &st);
    hre_ledger__set_status(status, st);
    return hre__api_done(rc);
}

/* Room for one run of tip extensions (n blocks at most). */
typedef struct batch {
    hre_ledger__node **node;
    uint8_t (**txids)[32];
    uint8_t (*hash)[32];
    size_t *ev_end;                   /* l->n_evs after each block */
} batch;

/* Validate, apply and append the blocks from blocks[*ip] on that extend the
 * tip, one after another, and make them durable with one sync; then let in
 * the orphans they are parents of. Stops at the end, at a rejected block
 * (its code), or at a block that does not extend the tip (*detour = 1,
 * *ip points at it). */
static int batch_run(hre_ledger *l, batch *bt, const uint8_t *const *blocks, const size_t *lens,
                     size_t n, size_t *ip, uint64_t now, hre_ledger_status *st, int *detour)
{
    size_t nb = 0, i = *ip, k, mark;
    int rc = HRE_OK;

    *detour = 0;
    hre_ledger__ensure_tip_state(l);
    mark = l->n_evs;
    for (; i < n; i++) {
        hre_block *blk = NULL;
        uint8_t hash[32];
        uint8_t (*txids)[32] = NULL;
        hre_ledger__node *node = NULL;
        const hre_header *h;
        *st = HRE_LEDGER_STATUS_NONE;
        if ((rc = hre_ledger__usable(l, st)) != HRE_OK)
            break;
        if (!blocks[i]) {
            rc = hre__fail(HRE_EINVAL, "hre_ledger_submit_blocks: NULL block %zu", i);
            break;
        }
        rc = hre_ledger__check_bytes(l, blocks[i], lens[i], &blk, hash, &txids, st);
        if (rc != HRE_OK) {
            HRE_LEDGER__LOG(l, HRE_LOG_WARN, "block %zu of a batch rejected: %s (%s): %s", i,
                            hre_ledger_status_name((int)*st), hre_strerror(rc), hre_error_detail());
            break;
        }
        h = hre_block_header(blk);
        if (memcmp(h->prev_hash, hre_ledger__tip(l)->hash, 32) != 0 ||
            hre__map_get(&l->node_map, hash)) {
            /* not a tip extension: the caller submits it on its own */
            hre_block_free(blk);
            hre__free(txids);
            *detour = 1;
            break;
        }
        rc = hre_ledger__check_context(l, hre_ledger__tip(l), h, now, 1, st);
        if (rc == HRE_OK)
            rc = hre_ledger__connect_tip(l, blk, hash, (const uint8_t(*)[32])txids, 1, st, &node);
        hre_block_free(blk);
        if (rc != HRE_OK) {
            char disp[65];
            (void)hre_hash_display_encode(disp, hash);
            HRE_LEDGER__LOG(l, HRE_LOG_WARN, "block %s (%zu of a batch) rejected: %s (%s): %s", disp, i,
                            hre_ledger_status_name((int)*st), hre_strerror(rc), hre_error_detail());
            hre__free(txids);
            break;
        }
        bt->node[nb] = node;
        memcpy(bt->hash[nb], hash, 32);
        bt->ev_end[nb] = l->n_evs;
        bt->txids[nb++] = txids;
        *st = HRE_LEDGER_CONNECTED;
    }
    *ip = i;
    if (nb) {
        int src = hre_ledger__seg_sync(l);
        size_t keep = nb;
        if (src != HRE_OK) {
            /* Undo the run, except its blocks in segments before the last:
             * rolling to a new segment synced them, so they are durable
             * and stay connected. */
            for (keep = 0; keep < nb && bt->node[keep]->seg + 1 < l->n_segs; keep++)
                ;
            for (k = nb; k > keep; k--) {
                (void)hre_ledger__undo(l->c, bt->node[k - 1]->tx_count);
                l->main_len--;
                hre_ledger__node_pop(l);
                hre__free(bt->txids[k - 1]);
            }
            l->n_joined -= nb - keep;
            l->n_evs = keep ? bt->ev_end[keep - 1] : mark;
            *detour = 0;
            hre_ledger__local_status(st, src);
            nb = keep;
            if (!nb || src == HRE_EFATAL) {
                for (k = 0; k < nb; k++)
                    hre__free(bt->txids[k]);
                return src;
            }
            rc = src;
        }
        for (k = 0; k < nb; k++) {
            hre_ledger__index_block(l, bt->node[k]);
            hre_ledger__mp_remove_included(l, (const uint8_t(*)[32])bt->txids[k],
                                           bt->node[k]->tx_count);
            hre__free(bt->txids[k]);
        }
        if (rc != HRE_OK) {
            /* keep the failure's detail across post_connect */
            char why[256];
            int code = rc;
            hre_ledger__why(why, sizeof why);
            hre_ledger__post_connect(l);
            for (k = 0; k < nb; k++)
                process_orphans(l, bt->hash[k]);
            rc = hre__fail(code, "%s", why);
        } else {
            hre_ledger__post_connect(l);
            for (k = 0; k < nb; k++)
                process_orphans(l, bt->hash[k]);
        }
    }
    return rc;
}

HRE_API int hre_ledger_submit_blocks(hre_ledger *l, size_t *connected,
                                     hre_ledger_status *status, const uint8_t *const *blocks, const size_t *lens,
                                     size_t n, uint64_t now)
{
    HRE__API_SCOPE;
    batch bt;
    uint64_t joined0, detours = 0, budget;
    size_t i = 0;
    hre_ledger_status st = HRE_LEDGER_STATUS_NONE;
    int rc = HRE_OK;

    if (connected)
        *connected = 0;
    hre_ledger__set_status(status, HRE_LEDGER_STATUS_NONE);
    if (!l || (n && (!blocks || !lens)))
        return hre__fail(HRE_EINVAL, "hre_ledger_submit_blocks: NULL argument");
    if (hre_ledger__usable(l, status) != HRE_OK)
        return hre__api_done(HRE_EFATAL);
    if (now > l->last_now)
        l->last_now = now;
    bt.node = hre__calloc(n ? n : 1, sizeof *bt.node);
    bt.txids = hre__calloc(n ? n : 1, sizeof *bt.txids);
    bt.hash = hre__malloc((n ? n : 1) * sizeof *bt.hash);
    bt.ev_end = hre__malloc((n ? n : 1) * sizeof *bt.ev_end);
    if (!bt.node || !bt.txids || !bt.hash || !bt.ev_end) {
        hre__free(bt.node);
        hre__free(bt.txids);
        hre__free(bt.hash);
        hre__free(bt.ev_end);
        return hre__fail(HRE_ENOMEM, "hre_ledger_submit_blocks: out of memory");
    }
    joined0 = l->n_joined;
    /* A batch's work is bounded: blocks that do not extend the tip (orphans,
     * side-branch blocks, reorgs) are submitted one at a time, in a loop,
     * and at most as many as the orphan pool and the side-branch bound can
     * hold together; more could not be of use. */
    budget = (uint64_t)l->max_orphans + l->max_side;
    while (i < n) {
        int detour = 0;
        rc = batch_run(l, &bt, blocks, lens, n, &i, now, &st, &detour);
        if (rc != HRE_OK || !detour)
            break;
        if (++detours > budget) {
            rc = HRE_LEDGER__REJ(&st, HRE_LEDGER_REJECT_BOUND, HRE_ELIMIT,
                                 "batch: more than %llu blocks that do not extend the tip "
                                 "(max_orphans + max_side_blocks); block %zu and the rest were "
                                 "not looked at", (unsigned long long)budget, i);
            break;
        }
        rc = submit_single(l, blocks[i], lens[i], now, &st);
        if (rc != HRE_OK)
            break;
        i++;
    }
    hre__free(bt.node);
    hre__free(bt.txids);
    hre__free(bt.hash);
    hre__free(bt.ev_end);
    if (connected)
        *connected = (size_t)(l->n_joined - joined0);
    hre_ledger__set_status(status, st);
    return hre__api_done(rc);
}
