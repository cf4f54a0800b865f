/*
 * Reorganisation to a heavier branch, in three steps:
 *  1. Read and check everything the reorg needs, changing nothing: the old
 *     branch's blocks (read back and decoded: they are re-applied if the
 *     reorg fails, and their transactions go back to the mempool if it
 *     succeeds) and the new branch's (read back, stateless checks, context,
 *     decoding, every signature on the pool). A failure here leaves the
 *     ledger as it was: a storage error is REJECT_STORAGE, a bad block is
 *     marked invalid (with its descendants).
 *  2. Change the state: undo the old branch (allocation-free) and apply the
 *     new one. When the fork lies below what the undo journal covers, the
 *     state at the fork is built in a separate contract (snapshot and
 *     replay, reads included) and the new branch applied there, so that a
 *     failure only discards it.
 *  3. If applying the new branch fails: undo what it applied (allocation-
 *     free) and re-apply the old branch from its decoded transactions. If
 *     that fails too, the ledger enters the fatal state (HRE_EFATAL): it
 *     never goes on with a state that does not match its tip.
 * docs/PROTOCOL.md section 7.
 */
#include <string.h>

#include "core/internal.h"
#include "hre/hash.h"
#include "ledger/internal.h"

/* One block of a branch. */
typedef struct rblk {
    hre_ledger__node *n;
    hre_block *blk;                  /* read back, or the pending block (borrowed) */
    uint8_t (*txids)[32];            /* new branch only */
    hre_ledger__btx t;
} rblk;

static void rblk_free(rblk *v, size_t n, const hre_block *pending)
{
    size_t i;
    if (!v)
        return;
    for (i = 0; i < n; i++) {
        if (v[i].blk != pending)
            hre_block_free(v[i].blk);
        hre__free(v[i].txids);
        hre_ledger__btx_free(&v[i].t);
    }
    hre__free(v);
}

/* A failure that says nothing about the block: the storage, or resources. */
static int is_local_failure(int rc)
{
    return hre_ledger__storage_code(rc) || rc == HRE_ENOMEM || rc == HRE_ECRYPTO || rc == HRE_EFATAL;
}

int hre_ledger__reorg_to(hre_ledger *l, hre_ledger__node *target, const hre_block *pending,
                         hre_ledger_status *st)
{
    hre_ledger__node *fork = target, *old_tip = hre_ledger__tip(l), *n;
    rblk *oldv = NULL, *newv = NULL;
    hre_block **oldb = NULL;
    hre_contract *fresh = NULL, *c;
    uint8_t (**txv)[32] = NULL;
    hre_ledger__btx *bv = NULL;
    uint64_t fh, nold, nnew, i, fresh_from = 0, bad = UINT64_MAX;
    size_t mark, old_txs = 0, new_txs = 0, bad_block = SIZE_MAX;
    hre_ledger_status s = HRE_LEDGER_STATUS_NONE;
    int rc = HRE_OK, deep;
    char why[256];

    while (!fork->on_main)
        fork = fork->parent;
    fh = fork->height;
    nold = old_tip->height - fh;
    nnew = target->height - fh;
    if (nold > l->max_reorg)
        return HRE_LEDGER__REJ(st, HRE_LEDGER_REJECT_FORK_TOO_DEEP, HRE_ELIMIT,
                               "reorg of %llu blocks too deep", (unsigned long long)nold);
    oldv = hre__calloc(nold ? nold : 1, sizeof *oldv);
    newv = hre__calloc(nnew ? nnew : 1, sizeof *newv);
    oldb = hre__calloc(nold ? nold : 1, sizeof *oldb);
    txv = hre__calloc(nnew ? nnew : 1, sizeof *txv);
    bv = hre__calloc(nnew ? nnew : 1, sizeof *bv);
    if (!oldv || !newv || !oldb || !txv || !bv) {
        rc = hre__fail(HRE_ENOMEM, "reorg: out of memory");
        goto local;
    }
    /* room for the old branch in the side list, so the switch cannot fail */
    if ((rc = hre_ledger__side_reserve(l, (size_t)nold + 1)) != HRE_OK)
        goto local;
    for (i = nnew, n = target; i > 0; i--, n = n->parent)
        newv[i - 1].n = n;

    /* 1. Read and check; nothing changes. */
    for (i = 0; i < nold; i++) {
        oldv[i].n = l->main[fh + 1 + i];
        if ((rc = hre_ledger__read_block(l, oldv[i].n, &oldv[i].blk)) != HRE_OK)
            goto local;
        oldb[i] = oldv[i].blk;
        rc = hre_ledger__btx_decode(l, &oldv[i].t, oldv[i].blk, NULL);
        if (rc != HRE_OK) {
            if (rc != HRE_ENOMEM)
                rc = hre__fail(HRE_ECORRUPT, "reorg: main-chain block at height %llu no longer "
                               "decodes", (unsigned long long)oldv[i].n->height);
            goto local;
        }
        old_txs += oldv[i].t.n;
    }
    for (i = 0; i < nnew; i++) {
        uint8_t hash[32];
        rblk *v = &newv[i];
        if (v->n == target && pending)
            v->blk = (hre_block *)pending;   /* not stored yet; never freed here */
        else if ((rc = hre_ledger__read_block(l, v->n, &v->blk)) != HRE_OK)
            goto local;
        rc = hre_ledger__check_block(l, v->blk, hash, &v->txids, &s);
        if (rc == HRE_OK)
            rc = hre_ledger__check_context(l, v->n->parent, &v->n->header, 0, 0, &s);
        if (rc == HRE_OK)
            rc = hre_ledger__btx_decode(l, &v->t, v->blk, &s);
        if (rc != HRE_OK) {
            if (is_local_failure(rc))
                goto local;
            bad_block = (size_t)i;
            goto bad;
        }
        txv[i] = v->txids;
        bv[i] = v->t;
    }
    rc = hre_ledger__btx_verify(l, bv, (size_t)nnew, (const uint8_t(*const *)[32])txv, &bad_block, &s);
    if (rc != HRE_OK)
        goto failed;

    /* 2. Change the state. */
    hre_ledger__ensure_tip_state(l);
    mark = l->n_evs;
    deep = fh < l->undo_floor;
    if (deep) {
        /* the undo journal does not reach the fork: build the state there
         * beside the live one */
        rc = hre_ledger__build_state(l, &fresh, fh, 0, 0, &bad, &fresh_from);
        if (rc != HRE_OK)
            goto local;
        c = fresh;
    } else {
        if ((rc = hre_ledger__undo(l->c, old_txs)) != HRE_OK) {
            rc = hre_ledger__fatal(l, st, "reorg: could not undo the old branch: %s",
                                   hre_error_detail());
            goto out;
        }
        c = l->c;
    }
    for (i = old_tip->height; i > fh; i--)
        hre_ledger__ev_block(l, HRE_LEDGER_EVENT_BLOCK_DISCONNECTED, l->main[i], NULL);
    for (i = 0; i < nnew; i++) {
        size_t emark = l->n_evs;
        l->ev_mode = HRE_LEDGER__EV_BUFFER;
        rc = hre_ledger__btx_apply(l, c, &newv[i].t, &s);
        l->ev_mode = HRE_LEDGER__EV_DROP;
        if (rc != HRE_OK)
            break;
        hre_ledger__ev_stamp(l, emark, newv[i].n);
        hre_ledger__ev_block(l, HRE_LEDGER_EVENT_BLOCK_CONNECTED, newv[i].n, c);
        new_txs += newv[i].t.n;
    }
    if (rc != HRE_OK)
        bad_block = (size_t)i;
    else if (pending) {
        /* The branch holds. Its new block is stored (and synced) only now,
         * so that a heavier block is on disk only once the ledger has made
         * it its tip: the chain the next open selects (most work, the block
         * stored first on a tie) is always the one last acknowledged
         * (docs/PROTOCOL.md 7.8). */
        rc = hre_ledger__store_record(l, pending, 1, &target->seg, &target->offset,
                                      &target->rec_len);
        if (rc == HRE_EFATAL) {
            l->n_evs = mark;
            hre_ledger__local_status(st, rc);
            goto out;
        }
    }
    if (rc != HRE_OK) {
        /* 3. Restore the old chain. */
        int vrc = rc;
        l->n_evs = mark;
        hre_ledger__why(why, sizeof why);
        if (deep) {
            hre_contract_free(fresh);   /* the live state was never touched */
            fresh = NULL;
        } else {
            size_t k;
            if (hre_ledger__undo(l->c, new_txs) != HRE_OK) {
                rc = hre_ledger__fatal(l, st, "reorg: could not undo the new branch after: %s", why);
                goto out;
            }
            for (k = 0; k < nold; k++) {
                if (hre_ledger__btx_apply(l, l->c, &oldv[k].t, NULL) != HRE_OK) {
                    char rwhy[160];
                    hre_ledger__why(rwhy, sizeof rwhy);
                    rc = hre_ledger__fatal(l, st, "reorg: the old chain could not be restored at "
                                           "height %llu (%s) after the new branch failed: %s",
                                           (unsigned long long)oldv[k].n->height, rwhy, why);
                    goto out;
                }
            }
        }
        rc = vrc;
        hre__fail(rc, "%s", why);
        goto failed;
    }

    /* The new branch holds: switch the tip. */
    if (pending) {
        hre_ledger__node_link(l, target);   /* room reserved by node_new */
        hre_ledger__side_add(l, target);    /* (taken out again below with the branch) */
        hre_ledger__index_block(l, target);
    }
    if (deep) {
        hre_contract_free(l->c);
        l->c = fresh;
        fresh = NULL;
        l->undo_floor = hre_ledger__undo_floor_after(l, fresh_from, fh);
    }
    for (i = old_tip->height; i > fh; i--)
        l->main[i]->on_main = 0;
    l->main_len = (size_t)fh + 1;
    for (i = 0; i < nnew; i++) {
        l->main[l->main_len++] = newv[i].n;
        newv[i].n->on_main = 1;
        hre_ledger__side_del(l, newv[i].n);
    }
    for (i = 0; i < nold; i++)
        hre_ledger__side_add(l, oldv[i].n);
    /* The mempool gets the losing branch's transactions back, and loses
     * those the new one includes. */
    hre_ledger__mp_readd(l, oldb, (size_t)nold);
    for (i = 0; i < nnew; i++)
        hre_ledger__mp_remove_included(l, (const uint8_t(*)[32])newv[i].txids, newv[i].n->tx_count);
    l->n_joined += nnew;
    hre_ledger__set_status(st, HRE_LEDGER_REORGED);
    if (l->log_fn) {
        char oldh[65], newh[65];
        (void)hre_hash_display_encode(oldh, old_tip->hash);
        (void)hre_hash_display_encode(newh, target->hash);
        HRE_LEDGER__LOG(l, HRE_LOG_INFO,
                        "reorg at fork height %llu: %llu block(s) disconnected (old tip %llu %s), "
                        "%llu connected (new tip %llu %s)%s",
                        (unsigned long long)fh, (unsigned long long)nold,
                        (unsigned long long)old_tip->height, oldh, (unsigned long long)nnew,
                        (unsigned long long)target->height, newh,
                        deep ? ", the state at the fork rebuilt from a snapshot" : "");
    }
    hre_ledger__post_connect(l);
    rc = HRE_OK;
    goto out;

failed:
    if (is_local_failure(rc))
        goto local;
bad:
    /* newv[bad_block] (or a block of the new branch, for a signature) is
     * invalid: mark it and its descendants, unless it is the pending block,
     * which is not in the tree's storage. */
    if (bad_block < nnew) {
        hre_ledger__node *b = newv[bad_block].n;
        hre_ledger__why(why, sizeof why);
        if (!(b == target && pending))
            hre_ledger__mark_invalid(l, b);
        hre_ledger__set_status(st, b == target ? s : HRE_LEDGER_REJECT_INVALID_PARENT);
        rc = hre__fail(rc, "reorg to height %llu failed: block at height %llu is invalid: %s",
                       (unsigned long long)target->height, (unsigned long long)b->height, why);
    } else {
        hre_ledger__set_status(st, s);
    }
    HRE_LEDGER__LOG(l, HRE_LOG_WARN, "reorg abandoned, the old chain is kept: %s",
                    hre_error_detail());
    goto out;
local:
    hre_ledger__why(why, sizeof why);
    hre_ledger__local_status(st, rc);
    rc = hre__fail(rc, "reorg to height %llu not done, the old chain is kept: %s",
                   (unsigned long long)target->height, why);
    HRE_LEDGER__LOG(l, hre_ledger__storage_code(rc) ? HRE_LOG_ERROR : HRE_LOG_WARN, "%s",
                    hre_error_detail());
out:
    hre_contract_free(fresh);
    rblk_free(oldv, (size_t)nold, pending);
    rblk_free(newv, (size_t)nnew, pending);
    hre__free(oldb);
    hre__free(txv);
    hre__free(bv);
    return rc;
}
