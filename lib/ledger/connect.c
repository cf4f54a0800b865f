/*
 * Connecting a block to the tip (durable before reported), storing
 * side-branch blocks, and the work after blocks were connected.
 * docs/PROTOCOL.md section 7.
 */
#include "core/internal.h"
#include "ledger/internal.h"

/* After blocks were connected (durable): trim the undo journal, take a
 * periodic snapshot, refresh the mempool, deliver the events. */
void hre_ledger__post_connect(hre_ledger *l)
{
    uint64_t tip = hre_ledger__tip(l)->height;
    hre_ledger__ensure_tip_state(l);
    hre_ledger__trim_undo(l);
    (void)hre_ledger__prune_side(l);
    if (l->snap_interval != HRE_LEDGER_SNAPSHOTS_OFF &&
        tip / l->snap_interval > hre_ledger__last_snap_height(l) / l->snap_interval)
        (void)hre_ledger__write_snapshot(l); /* best effort: the blocks are durable */
    if (l->mp_n)
        (void)hre_ledger__ensure_pending(l);
    hre_ledger__ev_flush(l);
}

/* The block record is compressed on a pool worker while the block is being
 * validated and applied (with a pool of at least one thread). */
typedef struct encjob {
    const hre_block *blk;
    int level;
    uint8_t *rec;
    size_t len;
    int rc;
} encjob;

static void encjob_item(void *arg, size_t i)
{
    encjob *j = arg;
    (void)i;
    j->rc = hre_ledger__record_encode(&j->rec, &j->len, j->blk, j->level);
}

/* A node for blk, about to be stored in a segment (room reserved). NULL on
 * failure, with the detail set. */
hre_ledger__node *hre_ledger__stored_node(hre_ledger *l, const hre_block *blk, const uint8_t hash[32],
                                     hre_ledger__node *parent)
{
    hre_ledger__node *n = hre_ledger__node_new(l, hre_block_header(blk), hash, parent);
    if (n) {
        n->tx_count = (uint32_t)hre_block_tx_count(blk);
        n->stored = 1;
    }
    return n;
}

int hre_ledger__connect_tip(hre_ledger *l, const hre_block *blk, const uint8_t hash[32],
                       const uint8_t (*txids)[32], int defer, hre_ledger_status *st,
                       hre_ledger__node **out)
{
    hre_ledger__node *tip = hre_ledger__tip(l), *n;
    size_t mark = l->n_evs;
    int rc, enc_started = 0;
    encjob ej;
    hre__pool_job ejob;

    *out = NULL;
    hre_ledger__ensure_tip_state(l);
    if (!(n = hre_ledger__stored_node(l, blk, hash, tip)))
        return hre_error_last() ? hre_error_last() : HRE_ENOMEM;
    ej.blk = blk;
    ej.level = l->level;
    ej.rec = NULL;
    ej.len = 0;
    ej.rc = HRE_OK;
    if (hre_pool_threads(l->pool) > 0 && n->tx_count > 0) {
        hre__pool_begin(l->pool, &ejob, 1, encjob_item, &ej);
        enc_started = 1;
    }
    l->ev_mode = HRE_LEDGER__EV_BUFFER;
    rc = hre_ledger__apply_txs(l, l->c, blk, txids, 1, 1, st);
    l->ev_mode = HRE_LEDGER__EV_DROP;
    if (enc_started)
        hre__pool_join(l->pool, &ejob);
    if (rc != HRE_OK) {
        hre__free(ej.rec);
        l->n_evs = mark;
        hre__free(n);
        return rc;
    }
    if (!enc_started)
        rc = hre_ledger__store_record(l, blk, !defer, &n->seg, &n->offset, &n->rec_len);
    else if (ej.rc != HRE_OK)
        rc = hre__fail(ej.rc, "ledger: could not encode the block record");
    else
        rc = hre_ledger__store_encoded(l, ej.rec, ej.len, !defer, &n->seg, &n->offset,
                                       &n->rec_len);
    if (rc != HRE_OK) {
        (void)hre_ledger__undo(l->c, n->tx_count);
        l->n_evs = mark;
        hre__free(n);
        hre_ledger__local_status(st, rc);
        return rc;
    }
    hre_ledger__node_link(l, n);
    l->main[l->main_len++] = n;
    l->n_joined++;
    n->on_main = 1;
    hre_ledger__ev_stamp(l, mark, n);
    hre_ledger__ev_block(l, HRE_LEDGER_EVENT_BLOCK_CONNECTED, n, l->c);
    if (!defer) {
        hre_ledger__index_block(l, n);
        hre_ledger__mp_remove_included(l, txids, n->tx_count);
    }
    *out = n;
    return HRE_OK;
}

int hre_ledger__store_side(hre_ledger *l, const hre_block *blk, const uint8_t hash[32],
                      hre_ledger__node *parent, hre_ledger_status *st, hre_ledger__node **out)
{
    hre_ledger__node *f = parent, *tip = hre_ledger__tip(l), *n;
    int rc;

    *out = NULL;
    while (!f->on_main)
        f = f->parent;
    if (tip->height - f->height > l->max_reorg)
        return HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_FORK_TOO_DEEP, HRE_ELIMIT,
                   "block forks at height %llu, more than %u below the tip",
                   (unsigned long long)f->height, l->max_reorg);
    /* Only side blocks that can still matter count: those whose fork lies
     * within max_reorg_depth of the tip (the others are dropped as the tip
     * moves on, and at open). */
    if (l->n_side >= l->max_side)
        (void)hre_ledger__prune_side(l);
    if (l->n_side >= l->max_side)
        return HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_BOUND, HRE_ELIMIT,
                               "side-branch bound reached: %u side blocks fork within %u blocks "
                               "of the tip", l->max_side, l->max_reorg);
    if ((rc = hre_ledger__side_reserve(l, 1)) != HRE_OK)
        return rc;
    if (!(n = hre_ledger__stored_node(l, blk, hash, parent)))
        return hre_error_last() ? hre_error_last() : HRE_ENOMEM;
    rc = hre_ledger__store_record(l, blk, 1, &n->seg, &n->offset, &n->rec_len);
    if (rc != HRE_OK) {
        hre__free(n);
        hre_ledger__local_status(st, rc);
        return rc;
    }
    hre_ledger__node_link(l, n);
    hre_ledger__side_add(l, n);
    hre_ledger__index_block(l, n);
    *out = n;
    return HRE_OK;
}
