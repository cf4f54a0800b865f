/*
 * Reorganisation to a heavier branch: disconnect, connect, and restore the
 * old chain when the branch fails.
 * docs/PROTOCOL.md section 7.
 */
#include "core/internal.h"
#include "hre/hash.h"
#include "ledger/internal.h"

int hre_ledger__reorg_to(hre_ledger *l, hre_ledger__node *target, hre_ledger_status *st)
{
    hre_ledger__node *fork = target, *old_tip = hre_ledger__tip(l);
    hre_ledger__node **newn = NULL, **oldn = NULL;
    hre_block **oldb = NULL, **newb = NULL;
    uint64_t fh, nold, nnew, i, k, bad;
    size_t mark = l->n_evs;
    int rc = HRE_OK, failed_at = -1;

    while (!fork->on_main)
        fork = fork->parent;
    fh = fork->height;
    nold = old_tip->height - fh;
    nnew = target->height - fh;
    if (nold > l->max_reorg)
        return HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_FORK_TOO_DEEP, HRE_ELIMIT, "reorg of %llu blocks too deep",
                   (unsigned long long)nold);
    newn = hre__calloc(nnew ? nnew : 1, sizeof *newn);
    newb = hre__calloc(nnew ? nnew : 1, sizeof *newb);
    oldb = hre__calloc(nold ? nold : 1, sizeof *oldb);
    oldn = hre__calloc(nold ? nold : 1, sizeof *oldn);
    if (!newn || !newb || !oldb || !oldn) {
        rc = hre__fail(HRE_ENOMEM, "reorg: out of memory");
        goto out;
    }
    if ((rc = hre_ledger__side_reserve(l, (size_t)nold)) != HRE_OK)
        goto out;
    for (k = nnew, fork = target; k > 0; k--, fork = fork->parent)
        newn[k - 1] = fork;
    fork = newn[0]->parent;
    for (i = 0; i < nold; i++) {
        oldn[i] = l->main[fh + 1 + i];
        if ((rc = hre_ledger__read_block(l, oldn[i], &oldb[i])) != HRE_OK)
            goto out;
    }
    hre_ledger__ensure_tip_state(l);
    /* Disconnect the old branch. */
    if (fh < l->undo_floor) {
        if ((rc = hre_ledger__rebuild_state(l, fh, 0, &bad)) != HRE_OK)
            goto restore_hard;
    } else {
        for (i = old_tip->height; i > fh; i--)
            (void)hre_ledger__undo(l->c, l->main[i]->tx_count);
    }
    for (i = old_tip->height; i > fh; i--) {
        hre_ledger__ev_block(l, HRE_LEDGER_EVENT_BLOCK_DISCONNECTED, l->main[i]);
        l->main[i]->on_main = 0;
    }
    l->main_len = (size_t)fh + 1;
    /* Connect the new branch. */
    for (i = 0; i < nnew; i++) {
        hre_ledger__node *n = newn[i];
        uint8_t hash[32];
        uint8_t (*txids)[32] = NULL;
        size_t emark = l->n_evs;
        rc = hre_ledger__read_block(l, n, &newb[i]);
        if (rc == HRE_OK)
            rc = hre_ledger__check_block(l, newb[i], hash, &txids, st);
        if (rc == HRE_OK) {
            l->ev_mode = HRE_LEDGER__EV_BUFFER;
            rc = hre_ledger__apply_txs(l, l->c, newb[i], (const uint8_t(*)[32])txids, 1, 1, st);
            l->ev_mode = HRE_LEDGER__EV_DROP;
        }
        hre__free(txids);
        if (rc != HRE_OK) {
            failed_at = (int)i;
            break;
        }
        l->main[l->main_len++] = n;
        n->on_main = 1;
        hre_ledger__ev_stamp(l, emark, n);
        hre_ledger__ev_block(l, HRE_LEDGER_EVENT_BLOCK_CONNECTED, n);
    }
    if (failed_at >= 0) {
        int vrc = rc;
        char why[256];
        hre_ledger__why(why, sizeof why);
        if (vrc != HRE_ENOMEM && vrc != HRE_EIO && vrc != HRE_ECORRUPT)
            hre_ledger__mark_invalid(l, newn[failed_at]);
        for (i = (uint64_t)failed_at; i > 0; i--) {
            (void)hre_ledger__undo(l->c, newn[i - 1]->tx_count);
            newn[i - 1]->on_main = 0;
        }
        l->main_len = (size_t)fh + 1;
        l->n_evs = mark;
        for (i = 0; i < nold; i++) {
            rc = hre_ledger__apply_txs(l, l->c, oldb[i], NULL, 0, 0, NULL);
            if (rc != HRE_OK)
                goto restore_hard;
            l->main[l->main_len++] = oldn[i];
            oldn[i]->on_main = 1;
        }
        hre_ledger__set_status(st, newn[failed_at] == target ? (st ? *st : 0)
                                                              : HRE_LEDGER_REJECT_INVALID_PARENT);
        rc = hre__fail(vrc, "reorg to height %llu failed at height %llu: %s",
                       (unsigned long long)target->height,
                       (unsigned long long)newn[failed_at]->height, why);
        HRE_LEDGER__LOG(l, HRE_LOG_WARN, "reorg abandoned, the old chain is kept: %s",
                        hre_error_detail());
        goto out;
    }
    /* Success: the branches swap places in the side list (room reserved). */
    for (i = 0; i < nnew; i++)
        hre_ledger__side_del(l, newn[i]);
    for (i = 0; i < nold; i++)
        hre_ledger__side_add(l, oldn[i]);
    /* The mempool gets the losing branch's transactions back. */
    hre_ledger__mp_readd(l, oldb, (size_t)nold);
    for (i = 0; i < nnew; i++) {
        uint8_t (*ids)[32] = NULL;
        if (hre_ledger__block_txids(newb[i], &ids) == HRE_OK)
            hre_ledger__mp_remove_included(l, (const uint8_t(*)[32])ids, hre_block_tx_count(newb[i]));
        hre__free(ids);
    }
    l->n_joined += nnew;
    hre_ledger__set_status(st, HRE_LEDGER_REORGED);
    if (l->log_fn) {
        char oldh[65], newh[65];
        (void)hre_hash_display_encode(oldh, old_tip->hash);
        (void)hre_hash_display_encode(newh, target->hash);
        HRE_LEDGER__LOG(l, HRE_LOG_INFO,
                        "reorg at fork height %llu: %llu block(s) disconnected (old tip %llu %s), "
                        "%llu connected (new tip %llu %s)",
                        (unsigned long long)fh, (unsigned long long)nold,
                        (unsigned long long)old_tip->height, oldh, (unsigned long long)nnew,
                        (unsigned long long)target->height, newh);
    }
    hre_ledger__post_connect(l);
    rc = HRE_OK;
    goto out;
restore_hard:
    /* Could not restore the old state incrementally: rebuild it. */
    {
        int rrc;
        hre_ledger__set_main(l, old_tip);
        rrc = hre_ledger__rebuild_state(l, old_tip->height, 0, &bad);
        l->n_evs = mark;
        if (rrc != HRE_OK)
            rc = hre__fail(HRE_ECORRUPT, "reorg: could not restore the state");
    }
out:
    if (oldb)
        for (i = 0; i < nold; i++)
            hre_block_free(oldb[i]);
    if (newb)
        for (i = 0; i < nnew; i++)
            hre_block_free(newb[i]);
    hre__free(oldb);
    hre__free(newb);
    hre__free(newn);
    hre__free(oldn);
    return rc;
}
