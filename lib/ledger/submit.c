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

void hre_ledger__orphans_clear(hre_ledger *l)
{
    size_t i;
    for (i = 0; i < l->n_orph; i++)
        hre__free(l->orph[i].bytes);
    hre__free(l->orph);
    l->orph = NULL;
    l->n_orph = 0;
}

static int orphan_add(hre_ledger *l, const uint8_t *b, size_t len, const uint8_t hash[32],
                      const hre_header *h, uint64_t now)
{
    hre_ledger__orphan *o;
    if (l->n_orph >= l->max_orphans) {
        hre__free(l->orph[0].bytes);
        memmove(l->orph, l->orph + 1, (l->n_orph - 1) * sizeof *l->orph);
        l->n_orph--;
    } else {
        hre_ledger__orphan *no = hre__realloc(l->orph, (l->n_orph + 1) * sizeof *no);
        if (!no)
            return hre__fail(HRE_ENOMEM, "orphans: out of memory");
        l->orph = no;
    }
    o = &l->orph[l->n_orph];
    o->bytes = hre__malloc(len);
    if (!o->bytes)
        return hre__fail(HRE_ENOMEM, "orphans: out of memory");
    memcpy(o->bytes, b, len);
    o->len = len;
    memcpy(o->hash, hash, 32);
    memcpy(o->prev, h->prev_hash, 32);
    o->now = now;
    l->n_orph++;
    return HRE_OK;
}

static int submit_one_(hre_ledger *l, const uint8_t *b, size_t len, uint64_t now,
                       hre_ledger_status *st);

/* submit_one_, and a log line for every block it rejects (the reason is
 * the status name and the detail message, which never hold secrets). */
static int submit_one(hre_ledger *l, const uint8_t *b, size_t len, uint64_t now,
                      hre_ledger_status *st)
{
    hre_ledger_status s = HRE_LEDGER_STATUS_NONE;
    int rc = submit_one_(l, b, len, now, &s);
    hre_ledger__set_status(st, s);
    if (rc != HRE_OK && l->log_fn) {
        char disp[65] = "(undecodable header)";
        hre_header h;
        uint8_t hash[32];
        if (len >= HRE_HEADER_LEN && hre_header_decode(&h, b, HRE_HEADER_LEN) == HRE_OK &&
            hre_header_hash(&h, hash) == HRE_OK)
            (void)hre_hash_display_encode(disp, hash);
        HRE_LEDGER__LOG(l, s >= HRE_LEDGER_REJECT_DECODE && s != HRE_LEDGER_REJECT_STORAGE ? HRE_LOG_WARN
                                                                                          : HRE_LOG_ERROR,
                        "block %s rejected: %s (%s): %s", disp, hre_ledger_status_name((int)s),
                        hre_strerror(rc), hre_error_detail());
    }
    return rc;
}

static int submit_one_(hre_ledger *l, const uint8_t *b, size_t len, uint64_t now,
                       hre_ledger_status *st)
{
    hre_block *blk = NULL;
    uint8_t hash[32];
    uint8_t (*txids)[32] = NULL;
    hre_ledger__node *parent, *n = NULL;
    const hre_header *h;
    size_t i;
    int rc;

    rc = hre_ledger__check_bytes(l, b, len, &blk, hash, &txids, st);
    if (rc != HRE_OK)
        return rc;
    h = hre_block_header(blk);
    if (memcmp(hash, l->network_id, 32) == 0) {
        rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_GENESIS, HRE_EEXISTS, "block is the genesis block");
        goto out;
    }
    if (hre_ledger__map_get(&l->node_map, hash)) {
        rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_DUPLICATE, HRE_EEXISTS, "block already known");
        goto out;
    }
    for (i = 0; i < l->n_orph; i++) {
        if (memcmp(l->orph[i].hash, hash, 32) == 0) {
            rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_DUPLICATE, HRE_EEXISTS, "block already held as orphan");
            goto out;
        }
    }
    parent = hre_ledger__map_get(&l->node_map, h->prev_hash);
    if (!parent) {
        if (now <= UINT64_MAX - HRE_LEDGER__FUTURE_LIMIT &&
            (uint64_t)h->time > now + HRE_LEDGER__FUTURE_LIMIT) {
            rc = HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_TIME_FUTURE, HRE_ESTATE,
                     "orphan block: time %u more than 2 h after now", h->time);
            goto out;
        }
        rc = orphan_add(l, b, len, hash, h, now);
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
    rc = hre_ledger__store_side(l, blk, hash, parent, st, &n);
    if (rc != HRE_OK)
        goto out;
    if (hre_pow_work_cmp(n->work, hre_ledger__tip(l)->work) > 0)
        rc = hre_ledger__reorg_to(l, n, st);
    else
        hre_ledger__set_status(st, HRE_LEDGER_SIDE_BRANCH);
out:
    hre__free(txids);
    hre_block_free(blk);
    return rc;
}

static void process_orphans(hre_ledger *l)
{
    int progress = 1;
    while (progress && l->n_orph) {
        size_t i;
        progress = 0;
        for (i = 0; i < l->n_orph; i++) {
            if (hre_ledger__map_get(&l->node_map, l->orph[i].prev)) {
                hre_ledger__orphan o = l->orph[i];
                memmove(l->orph + i, l->orph + i + 1, (l->n_orph - i - 1) * sizeof *l->orph);
                l->n_orph--;
                (void)submit_one(l, o.bytes, o.len, o.now, NULL);
                hre__free(o.bytes);
                progress = 1;
                break;
            }
        }
    }
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
    if (now > l->last_now)
        l->last_now = now;
    rc = submit_one(l, block, len, now, &st);
    hre_ledger__set_status(status, st);
    if (rc == HRE_OK && st != HRE_LEDGER_ORPHAN && l->n_orph) {
        /* Orphans whose parent is now known are submitted in turn; their
         * own outcomes are not reported by this call (a failure among them
         * is cleared when this call returns HRE_OK, rule 4). */
        process_orphans(l);
    }
    return hre__api_done(rc);
}

HRE_API int hre_ledger_submit_blocks(hre_ledger *l, size_t *connected,
                                     hre_ledger_status *status, const uint8_t *const *blocks, const size_t *lens,
                                     size_t n, uint64_t now)
{
    HRE__API_SCOPE;
    hre_ledger__node **bn = NULL;
    uint8_t (**bt)[32] = NULL;
    size_t nb = 0, i, k, mark;
    hre_ledger_status st = HRE_LEDGER_STATUS_NONE;
    int rc = HRE_OK, stop = 0;

    if (connected)
        *connected = 0;
    hre_ledger__set_status(status, HRE_LEDGER_STATUS_NONE);
    if (!l || (n && (!blocks || !lens)))
        return hre__fail(HRE_EINVAL, "hre_ledger_submit_blocks: NULL argument");
    if (now > l->last_now)
        l->last_now = now;
    bn = hre__calloc(n ? n : 1, sizeof *bn);
    bt = hre__calloc(n ? n : 1, sizeof *bt);
    if (!bn || !bt) {
        hre__free(bn);
        hre__free(bt);
        return hre__fail(HRE_ENOMEM, "hre_ledger_submit_blocks: out of memory");
    }
    hre_ledger__ensure_tip_state(l);
    mark = l->n_evs;
    for (i = 0; i < n && !stop; i++) {
        hre_block *blk = NULL;
        uint8_t hash[32];
        uint8_t (*txids)[32] = NULL;
        hre_ledger__node *node = NULL;
        const hre_header *h;
        st = HRE_LEDGER_STATUS_NONE;
        if (!blocks[i]) {
            rc = hre__fail(HRE_EINVAL, "hre_ledger_submit_blocks: NULL block %zu", i);
            break;
        }
        rc = hre_ledger__check_bytes(l, blocks[i], lens[i], &blk, hash, &txids, &st);
        if (rc != HRE_OK) {
            HRE_LEDGER__LOG(l, HRE_LOG_WARN, "block %zu of a batch rejected: %s (%s): %s", i,
                            hre_ledger_status_name((int)st), hre_strerror(rc), hre_error_detail());
            break;
        }
        h = hre_block_header(blk);
        if (memcmp(h->prev_hash, hre_ledger__tip(l)->hash, 32) != 0 ||
            hre_ledger__map_get(&l->node_map, hash)) {
            /* Not a tip extension: flush, then submit it alone. */
            hre_block_free(blk);
            hre__free(txids);
            stop = 2;
            break;
        }
        rc = hre_ledger__check_context(l, hre_ledger__tip(l), h, now, 1, &st);
        if (rc == HRE_OK)
            rc = hre_ledger__connect_tip(l, blk, hash, (const uint8_t(*)[32])txids, 1, &st, &node);
        hre_block_free(blk);
        if (rc != HRE_OK) {
            char disp[65];
            (void)hre_hash_display_encode(disp, hash);
            HRE_LEDGER__LOG(l, HRE_LOG_WARN, "block %s (%zu of a batch) rejected: %s (%s): %s", disp, i,
                            hre_ledger_status_name((int)st), hre_strerror(rc), hre_error_detail());
            hre__free(txids);
            break;
        }
        bn[nb] = node;
        bt[nb++] = txids;
        st = HRE_LEDGER_CONNECTED;
    }
    if (nb) {
        int src = hre_ledger__seg_sync(l);
        if (src != HRE_OK) {
            /* Undo the whole batch. */
            for (k = nb; k > 0; k--) {
                (void)hre_ledger__undo(l->c, bn[k - 1]->tx_count);
                l->main_len--;
                hre_ledger__node_pop(l);
            }
            l->n_evs = mark;
            hre_ledger__seg_broken(l);
            for (k = 0; k < nb; k++)
                hre__free(bt[k]);
            hre__free(bn);
            hre__free(bt);
            hre_ledger__set_status(status, HRE_LEDGER_REJECT_STORAGE);
            return hre__api_done(src);
        }
        for (k = 0; k < nb; k++) {
            hre_ledger__index_block(l, bn[k]);
            hre_ledger__mp_remove_included(l, (const uint8_t(*)[32])bt[k], bn[k]->tx_count);
        }
        if (connected)
            *connected = nb;
        if (rc != HRE_OK) {
            /* keep the failure's detail across post_connect */
            char why[256];
            int code = rc;
            hre_ledger__why(why, sizeof why);
            hre_ledger__post_connect(l);
            rc = hre__fail(code, "%s", why);
        } else {
            hre_ledger__post_connect(l);
        }
    }
    for (k = 0; k < nb; k++)
        hre__free(bt[k]);
    hre__free(bn);
    hre__free(bt);
    if (stop == 2) {
        size_t c0 = nb;
        rc = hre_ledger_submit_block(l, &st, blocks[i], lens[i], now);
        if (rc == HRE_OK && (st == HRE_LEDGER_CONNECTED || st == HRE_LEDGER_REORGED))
            c0++;
        if (connected)
            *connected = c0;
        if (rc == HRE_OK && i + 1 < n) {
            size_t more = 0;
            rc = hre_ledger_submit_blocks(l, &more, &st, blocks + i + 1, lens + i + 1, n - i - 1,
                                          now);
            if (connected)
                *connected = c0 + more;
        }
    }
    hre_ledger__set_status(status, st);
    return hre__api_done(rc);
}
