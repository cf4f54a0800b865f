/*
 * Ledger chain logic: the mempool (stateless + stateful checks against the
 * pending state), connecting blocks to the tip (durable before reported),
 * side branches, orphans, reorganisation to the heaviest chain, group
 * commit, block templates and mining. docs/PROTOCOL.md section 7.
 */
#include <string.h>

#include "core/internal.h"
#include "hre/hash.h"
#include "hre/pow.h"
#include "ledger/internal.h"

#define REJ(st, sv, code, ...) (hre_ledger__set_status((st), (sv)), hre__fail((code), __VA_ARGS__))

/* ------------------------------------------------------------------------ */
/* Events                                                                    */
/* ------------------------------------------------------------------------ */

static void ev_block(hre_ledger *l, unsigned int type, const hre_ledger__node *n)
{
    hre_ledger__ev *e;
    if (l->n_evs == l->cap_evs) {
        size_t nc = l->cap_evs ? l->cap_evs * 2 : 64;
        hre_ledger__ev *ne = hre__realloc(l->evs, nc * sizeof *ne);
        if (!ne)
            return;
        l->evs = ne;
        l->cap_evs = nc;
    }
    e = &l->evs[l->n_evs++];
    memset(e, 0, sizeof *e);
    e->ev.version = HRE_LEDGER_EVENT_VERSION;
    e->ev.type = type;
    e->ev.height = n->height;
    memcpy(e->ev.block_hash, n->hash, 32);
    e->ev.tx_count = n->tx_count;
}

/* Stamp the contract events buffered since `mark` with their block. */
static void ev_stamp(hre_ledger *l, size_t mark, const hre_ledger__node *n)
{
    size_t i;
    for (i = mark; i < l->n_evs; i++) {
        if (l->evs[i].ev.type != HRE_LEDGER_EVENT_CONTRACT)
            continue;
        l->evs[i].ev.height = n->height;
        memcpy(l->evs[i].ev.block_hash, n->hash, 32);
        l->evs[i].ev.tx_count = n->tx_count;
    }
}

static void ev_flush(hre_ledger *l)
{
    size_t i, n = l->n_evs;
    l->n_evs = 0;
    if (!l->on_event)
        return;
    for (i = 0; i < n; i++) {
        hre_ledger_event ev = l->evs[i].ev;
        if (ev.type == HRE_LEDGER_EVENT_CONTRACT)
            ev.contract = &l->evs[i].cev;
        l->on_event(l->user_data, &ev);
    }
}

/* ------------------------------------------------------------------------ */
/* Mempool                                                                   */
/* ------------------------------------------------------------------------ */

static void mtx_free(hre_ledger__mtx *e)
{
    if (!e)
        return;
    hre_tx_free(e->tx);
    hre__free(e->bytes);
    hre__free(e);
}

void hre_ledger__mempool_clear(hre_ledger *l)
{
    size_t i;
    for (i = 0; i < l->mp_n; i++)
        mtx_free(l->mp[i]);
    l->mp_n = 0;
    hre_ledger__map_free(&l->mp_map);
}

void hre_ledger__orphans_clear(hre_ledger *l)
{
    size_t i;
    for (i = 0; i < l->n_orph; i++)
        hre__free(l->orph[i].bytes);
    hre__free(l->orph);
    l->orph = NULL;
    l->n_orph = 0;
}

static void mp_compact(hre_ledger *l)
{
    size_t i, k = 0;
    for (i = 0; i < l->mp_n; i++) {
        if (l->mp[i]->dead)
            mtx_free(l->mp[i]);
        else
            l->mp[k++] = l->mp[i];
    }
    l->mp_n = k;
}

static void mp_kill(hre_ledger *l, hre_ledger__mtx *e)
{
    hre_ledger__map_del(&l->mp_map, e->txid);
    e->dead = 1;
}

static uint64_t next_block_time(const hre_ledger *l, uint64_t now)
{
    uint64_t m = (uint64_t)hre_ledger__mtp(l, hre_ledger__tip(l)) + 1;
    uint64_t t = now > m ? now : m;
    return t > UINT32_MAX ? UINT32_MAX : t;
}

/* Bring the contract to tip + every mempool tx; drop those no longer valid. */
static int ensure_pending(hre_ledger *l)
{
    uint64_t t;
    size_t i;
    int dropped = 0;
    if (l->overlay == l->mp_n)
        return HRE_OK;
    hre_ledger__ensure_tip_state(l);
    t = next_block_time(l, l->last_now);
    l->ev_mode = HRE_LEDGER__EV_DROP;
    for (i = 0; i < l->mp_n; i++) {
        /* Every mempool entry's signature was checked: hre_ledger_submit_tx
         * verified it, and mp_readd takes transactions of blocks that were
         * fully validated on the main chain (decoded again, so unmarked). */
        int rc = hre_contract_apply(l->c, l->mp[i]->tx, t, HRE_CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER);
        if (rc == HRE_ENOMEM) {
            size_t k;
            for (k = 0; k < l->overlay; k++)
                (void)hre_contract_undo(l->c);
            l->overlay = 0;
            if (dropped)
                mp_compact(l);
            return rc;
        }
        if (rc != HRE_OK) {
            mp_kill(l, l->mp[i]);
            dropped = 1;
        } else {
            l->overlay++;
        }
    }
    if (dropped)
        mp_compact(l);
    return HRE_OK;
}

static int mp_push(hre_ledger *l, hre_ledger__mtx *e, int front)
{
    int rc;
    if (l->mp_n == l->mp_cap) {
        size_t nc = l->mp_cap ? l->mp_cap * 2 : 64;
        hre_ledger__mtx **nm = hre__realloc(l->mp, nc * sizeof *nm);
        if (!nm)
            return hre__fail(HRE_ENOMEM, "mempool: out of memory");
        l->mp = nm;
        l->mp_cap = nc;
    }
    if ((rc = hre_ledger__map_put(&l->mp_map, e->txid, e)) != HRE_OK)
        return rc;
    if (front) {
        memmove(l->mp + 1, l->mp, l->mp_n * sizeof *l->mp);
        l->mp[0] = e;
    } else {
        l->mp[l->mp_n] = e;
    }
    l->mp_n++;
    return HRE_OK;
}

static hre_ledger__mtx *mtx_new(const uint8_t txid[32], hre_tx *tx, const uint8_t *b, size_t len)
{
    hre_ledger__mtx *e = hre__calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->bytes = hre__malloc(len ? len : 1);
    if (!e->bytes) {
        hre__free(e);
        return NULL;
    }
    memcpy(e->bytes, b, len);
    e->len = len;
    e->tx = tx;
    memcpy(e->txid, txid, 32);
    return e;
}

HRE_API int hre_ledger_submit_tx(hre_ledger *l, uint8_t txid[32], hre_ledger_status *status, const uint8_t *tx,
                                 size_t len, uint64_t now)
{
    HRE__API_SCOPE;
    hre_tx *t = NULL;
    hre_ledger__mtx *e;
    uint8_t id[32];
    int rc;

    if (txid)
        memset(txid, 0, 32);
    hre_ledger__set_status(status, HRE_LEDGER_STATUS_NONE);
    if (!l || (!tx && len))
        return hre__fail(HRE_EINVAL, "hre_ledger_submit_tx: NULL argument");
    if (now > l->last_now)
        l->last_now = now;
    rc = hre_tx_decode_cached(&t, l->kc, tx, len);
    if (rc == HRE_ENOMEM)
        return hre__api_done(rc);
    if (rc != HRE_OK) {
        char why[160];
        hre_ledger__why(why, sizeof why);
        return hre__api_done(REJ(status, HRE_LEDGER_REJECT_TX_DECODE, rc, "tx does not decode (%s)", why));
    }
    if ((rc = hre_tx_txid(t, id)) != HRE_OK)
        goto fail;
    if (hre_ledger__map_get(&l->mp_map, id)) {
        rc = REJ(status, HRE_LEDGER_REJECT_DUPLICATE, HRE_EEXISTS, "tx already in the mempool");
        goto fail;
    }
    if (l->mp_n >= l->mempool_max) {
        rc = REJ(status, HRE_LEDGER_REJECT_BOUND, HRE_ELIMIT, "mempool full (%u transactions)",
                 l->mempool_max);
        goto fail;
    }
    rc = hre_tx_verify(t, l->kc, l->network_id);
    if (rc == HRE_EVERIFY) {
        rc = REJ(status, HRE_LEDGER_REJECT_TX_SIGNATURE, HRE_EVERIFY,
                 "tx signature or network id does not verify");
        goto fail;
    }
    if (rc != HRE_OK)
        goto fail;
    if ((rc = ensure_pending(l)) != HRE_OK)
        goto fail;
    l->ev_mode = HRE_LEDGER__EV_DROP;
    rc = hre_contract_apply(l->c, t, next_block_time(l, now), 0);
    if (rc != HRE_OK) {
        if (rc != HRE_ENOMEM)
            hre_ledger__set_status(status, HRE_LEDGER_REJECT_CONTRACT);
        goto fail; /* the contract's detail message stands */
    }
    e = mtx_new(id, t, tx, len);
    if (!e || mp_push(l, e, 0) != HRE_OK) {
        if (e) {
            e->tx = NULL;
            mtx_free(e);
        }
        (void)hre_contract_undo(l->c);
        rc = hre__fail(HRE_ENOMEM, "mempool: out of memory");
        goto fail;
    }
    l->overlay++;
    if (txid)
        memcpy(txid, id, 32);
    hre_ledger__set_status(status, HRE_LEDGER_ACCEPTED_TX);
    return hre__api_done(HRE_OK);
fail:
    hre_tx_free(t);
    return hre__api_done(rc);
}

HRE_API size_t hre_ledger_mempool_count(const hre_ledger *l)
{
    return l ? l->mp_n : 0;
}

HRE_API int hre_ledger_mempool_contains(const hre_ledger *l, const uint8_t txid[32])
{
    return l && txid && hre_ledger__map_get(&l->mp_map, txid) != NULL;
}

/* Remove the block's transactions from the mempool (state must be at the tip). */
static void mp_remove_included(hre_ledger *l, const uint8_t (*txids)[32], size_t n)
{
    size_t i;
    int any = 0;
    for (i = 0; i < n; i++) {
        hre_ledger__mtx *e = hre_ledger__map_get(&l->mp_map, txids[i]);
        if (e) {
            mp_kill(l, e);
            any = 1;
        }
    }
    if (any)
        mp_compact(l);
}

static int block_txids(const hre_block *blk, uint8_t (**out)[32])
{
    size_t n = hre_block_tx_count(blk), i;
    uint8_t (*ids)[32] = hre__malloc((n ? n : 1) * 32);
    *out = NULL;
    if (!ids)
        return hre__fail(HRE_ENOMEM, "ledger: out of memory");
    for (i = 0; i < n; i++) {
        int rc = hre_block_txid(blk, ids[i], i);
        if (rc != HRE_OK) {
            hre__free(ids);
            return rc;
        }
    }
    *out = ids;
    return HRE_OK;
}

/* ------------------------------------------------------------------------ */
/* Connecting blocks                                                         */
/* ------------------------------------------------------------------------ */

/* After blocks were connected (durable): trim the undo journal, take a
 * periodic snapshot, refresh the mempool, deliver the events. */
static void post_connect(hre_ledger *l)
{
    uint64_t tip = hre_ledger__tip(l)->height;
    hre_ledger__ensure_tip_state(l);
    hre_ledger__trim_undo(l);
    if (l->snap_interval != HRE_LEDGER_SNAPSHOTS_OFF &&
        tip / l->snap_interval > hre_ledger__last_snap_height(l) / l->snap_interval)
        (void)hre_ledger__write_snapshot(l); /* best effort: the blocks are durable */
    if (l->mp_n)
        (void)ensure_pending(l);
    ev_flush(l);
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
static hre_ledger__node *stored_node(hre_ledger *l, const hre_block *blk, const uint8_t hash[32],
                                     hre_ledger__node *parent)
{
    hre_ledger__node *n = hre_ledger__node_new(l, hre_block_header(blk), hash, parent);
    if (n) {
        n->tx_count = (uint32_t)hre_block_tx_count(blk);
        n->stored = 1;
    }
    return n;
}

static int connect_tip(hre_ledger *l, const hre_block *blk, const uint8_t hash[32],
                       const uint8_t (*txids)[32], int defer, hre_ledger_status *st,
                       hre_ledger__node **out)
{
    hre_ledger__node *tip = hre_ledger__tip(l), *n;
    size_t mark = l->n_evs, k;
    int rc, enc_started = 0;
    encjob ej;
    hre__pool_job ejob;

    *out = NULL;
    hre_ledger__ensure_tip_state(l);
    if (!(n = stored_node(l, blk, hash, tip)))
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
        for (k = 0; k < n->tx_count; k++)
            (void)hre_contract_undo(l->c);
        l->n_evs = mark;
        hre__free(n);
        hre_ledger__set_status(st, HRE_LEDGER_REJECT_STORAGE);
        return rc;
    }
    hre_ledger__node_link(l, n);
    l->main[l->main_len++] = n;
    n->on_main = 1;
    ev_stamp(l, mark, n);
    ev_block(l, HRE_LEDGER_EVENT_BLOCK_CONNECTED, n);
    if (!defer) {
        hre_ledger__index_block(l, n);
        mp_remove_included(l, txids, n->tx_count);
    }
    *out = n;
    return HRE_OK;
}

static int store_side(hre_ledger *l, const hre_block *blk, const uint8_t hash[32],
                      hre_ledger__node *parent, hre_ledger_status *st, hre_ledger__node **out)
{
    hre_ledger__node *f = parent, *tip = hre_ledger__tip(l), *n;
    int rc;

    *out = NULL;
    while (!f->on_main)
        f = f->parent;
    if (tip->height - f->height > l->max_reorg)
        return REJ(st, HRE_LEDGER_REJECT_FORK_TOO_DEEP, HRE_ELIMIT,
                   "block forks at height %llu, more than %u below the tip",
                   (unsigned long long)f->height, l->max_reorg);
    if (l->n_nodes - l->main_len >= l->max_side)
        return REJ(st, HRE_LEDGER_REJECT_BOUND, HRE_ELIMIT, "side-branch bound (%u blocks) reached",
                   l->max_side);
    if (!(n = stored_node(l, blk, hash, parent)))
        return hre_error_last() ? hre_error_last() : HRE_ENOMEM;
    rc = hre_ledger__store_record(l, blk, 1, &n->seg, &n->offset, &n->rec_len);
    if (rc != HRE_OK) {
        hre__free(n);
        hre_ledger__set_status(st, HRE_LEDGER_REJECT_STORAGE);
        return rc;
    }
    hre_ledger__node_link(l, n);
    hre_ledger__index_block(l, n);
    *out = n;
    return HRE_OK;
}

/* Put the transactions of disconnected blocks back in front of the mempool
 * (state at the tip); ensure_pending later drops those no longer valid. */
static void mp_readd(hre_ledger *l, hre_block **blocks, size_t nb)
{
    size_t b, i, pos = 0;
    for (b = 0; b < nb; b++) {
        for (i = 0; i < hre_block_tx_count(blocks[b]); i++) {
            const uint8_t *p;
            size_t len;
            uint8_t id[32];
            hre_tx *t = NULL;
            hre_ledger__mtx *e;
            if (l->mp_n >= l->mempool_max)
                return;
            (void)hre_block_tx(blocks[b], &p, &len, i);
            if (hre_block_txid(blocks[b], id, i) != HRE_OK ||
                hre_ledger__map_get(&l->mp_map, id))
                continue;
            if (hre_tx_decode_cached(&t, l->kc, p, len) != HRE_OK)
                continue;
            e = mtx_new(id, t, p, len);
            if (!e) {
                hre_tx_free(t);
                return;
            }
            if (mp_push(l, e, 0) != HRE_OK) {
                mtx_free(e);
                return;
            }
            /* move it to position pos (chain order before older entries) */
            memmove(l->mp + pos + 1, l->mp + pos, (l->mp_n - 1 - pos) * sizeof *l->mp);
            l->mp[pos++] = e;
        }
    }
}

static int reorg_to(hre_ledger *l, hre_ledger__node *target, hre_ledger_status *st)
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
        return REJ(st, HRE_LEDGER_REJECT_FORK_TOO_DEEP, HRE_ELIMIT, "reorg of %llu blocks too deep",
                   (unsigned long long)nold);
    newn = hre__calloc(nnew ? nnew : 1, sizeof *newn);
    newb = hre__calloc(nnew ? nnew : 1, sizeof *newb);
    oldb = hre__calloc(nold ? nold : 1, sizeof *oldb);
    oldn = hre__calloc(nold ? nold : 1, sizeof *oldn);
    if (!newn || !newb || !oldb || !oldn) {
        rc = hre__fail(HRE_ENOMEM, "reorg: out of memory");
        goto out;
    }
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
            for (k = 0; k < l->main[i]->tx_count; k++)
                (void)hre_contract_undo(l->c);
    }
    for (i = old_tip->height; i > fh; i--) {
        ev_block(l, HRE_LEDGER_EVENT_BLOCK_DISCONNECTED, l->main[i]);
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
        ev_stamp(l, emark, n);
        ev_block(l, HRE_LEDGER_EVENT_BLOCK_CONNECTED, n);
    }
    if (failed_at >= 0) {
        int vrc = rc;
        char why[256];
        hre_ledger__why(why, sizeof why);
        if (vrc != HRE_ENOMEM && vrc != HRE_EIO && vrc != HRE_ECORRUPT)
            hre_ledger__mark_invalid(l, newn[failed_at]);
        for (i = (uint64_t)failed_at; i > 0; i--) {
            for (k = 0; k < newn[i - 1]->tx_count; k++)
                (void)hre_contract_undo(l->c);
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
    /* Success: mempool gets the losing branch's transactions back. */
    mp_readd(l, oldb, (size_t)nold);
    for (i = 0; i < nnew; i++) {
        uint8_t (*ids)[32] = NULL;
        if (block_txids(newb[i], &ids) == HRE_OK)
            mp_remove_included(l, (const uint8_t(*)[32])ids, hre_block_tx_count(newb[i]));
        hre__free(ids);
    }
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
    post_connect(l);
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

/* ------------------------------------------------------------------------ */
/* Submitting blocks                                                         */
/* ------------------------------------------------------------------------ */

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
        rc = REJ(st, HRE_LEDGER_REJECT_GENESIS, HRE_EEXISTS, "block is the genesis block");
        goto out;
    }
    if (hre_ledger__map_get(&l->node_map, hash)) {
        rc = REJ(st, HRE_LEDGER_REJECT_DUPLICATE, HRE_EEXISTS, "block already known");
        goto out;
    }
    for (i = 0; i < l->n_orph; i++) {
        if (memcmp(l->orph[i].hash, hash, 32) == 0) {
            rc = REJ(st, HRE_LEDGER_REJECT_DUPLICATE, HRE_EEXISTS, "block already held as orphan");
            goto out;
        }
    }
    parent = hre_ledger__map_get(&l->node_map, h->prev_hash);
    if (!parent) {
        if (now <= UINT64_MAX - HRE_LEDGER__FUTURE_LIMIT &&
            (uint64_t)h->time > now + HRE_LEDGER__FUTURE_LIMIT) {
            rc = REJ(st, HRE_LEDGER_REJECT_TIME_FUTURE, HRE_ESTATE,
                     "orphan block: time %u more than 2 h after now", h->time);
            goto out;
        }
        rc = orphan_add(l, b, len, hash, h, now);
        if (rc == HRE_OK)
            hre_ledger__set_status(st, HRE_LEDGER_ORPHAN);
        goto out;
    }
    if (parent->invalid) {
        rc = REJ(st, HRE_LEDGER_REJECT_INVALID_PARENT, HRE_EVERIFY,
                 "block builds on an invalid block");
        goto out;
    }
    if ((rc = hre_ledger__check_context(l, parent, h, now, 1, st)) != HRE_OK)
        goto out;
    if (parent == hre_ledger__tip(l)) {
        rc = connect_tip(l, blk, hash, (const uint8_t(*)[32])txids, 0, st, &n);
        if (rc == HRE_OK) {
            hre_ledger__set_status(st, HRE_LEDGER_CONNECTED);
            post_connect(l);
        }
        goto out;
    }
    rc = store_side(l, blk, hash, parent, st, &n);
    if (rc != HRE_OK)
        goto out;
    if (hre_pow_work_cmp(n->work, hre_ledger__tip(l)->work) > 0)
        rc = reorg_to(l, n, st);
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
            rc = connect_tip(l, blk, hash, (const uint8_t(*)[32])txids, 1, &st, &node);
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
                size_t j;
                for (j = 0; j < bn[k - 1]->tx_count; j++)
                    (void)hre_contract_undo(l->c);
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
            mp_remove_included(l, (const uint8_t(*)[32])bt[k], bn[k]->tx_count);
        }
        if (connected)
            *connected = nb;
        if (rc != HRE_OK) {
            /* keep the failure's detail across post_connect */
            char why[256];
            int code = rc;
            hre_ledger__why(why, sizeof why);
            post_connect(l);
            rc = hre__fail(code, "%s", why);
        } else {
            post_connect(l);
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

/* ------------------------------------------------------------------------ */
/* Templates and mining                                                      */
/* ------------------------------------------------------------------------ */

static int build_template(hre_ledger *l, uint64_t now, hre_block **out)
{
    hre_ledger__node *tip = hre_ledger__tip(l);
    hre_header h;
    hre_block *blk = NULL;
    size_t i;
    int rc;

    *out = NULL;
    if (now > l->last_now)
        l->last_now = now;
    if ((rc = ensure_pending(l)) != HRE_OK)
        return rc;
    memset(&h, 0, sizeof h);
    h.version = 1;
    memcpy(h.prev_hash, tip->hash, 32);
    h.time = (uint32_t)next_block_time(l, now);
    if ((rc = hre_ledger__expected_bits(l, tip, &h.bits)) != HRE_OK)
        return rc;
    if ((rc = hre_block_new(&blk, &h, &l->limits)) != HRE_OK)
        return rc;
    for (i = 0; i < l->mp_n; i++) {
        rc = hre_block_add_tx(blk, l->mp[i]->bytes, l->mp[i]->len);
        if (rc == HRE_ELIMIT)
            break;
        if (rc != HRE_OK) {
            hre_block_free(blk);
            return rc;
        }
    }
    if ((rc = hre_block_update_merkle_root(blk)) != HRE_OK) {
        hre_block_free(blk);
        return rc;
    }
    *out = blk;
    return HRE_OK;
}

HRE_API int hre_ledger_block_template(hre_ledger *l, uint8_t *out, size_t *len, uint64_t now)
{
    HRE__API_SCOPE;
    hre_block *blk = NULL;
    int rc;
    if (!l || !len)
        return hre__fail(HRE_EINVAL, "hre_ledger_block_template: NULL argument");
    if ((rc = build_template(l, now, &blk)) != HRE_OK) {
        *len = 0;
        return hre__api_done(rc);
    }
    rc = hre_block_encode(blk, out, len);
    hre_block_free(blk);
    return hre__api_done(rc);
}

HRE_API int hre_ledger_mine(hre_ledger *l, uint8_t hash[32], hre_ledger_status *status, uint64_t now,
                            uint64_t max_tries)
{
    HRE__API_SCOPE;
    int attempt, rc = HRE_OK;
    if (hash)
        memset(hash, 0, 32);
    hre_ledger__set_status(status, HRE_LEDGER_STATUS_NONE);
    if (!l)
        return hre__fail(HRE_EINVAL, "hre_ledger_mine: NULL ledger");
    for (attempt = 0; attempt < 16; attempt++) {
        hre_block *blk = NULL;
        hre_header h;
        uint8_t *buf;
        size_t len = 0;
        hre_ledger_status st = HRE_LEDGER_STATUS_NONE;
        if ((rc = build_template(l, now, &blk)) != HRE_OK)
            return hre__api_done(rc);
        h = *hre_block_header(blk);
        rc = hre_pow_mine(&h, NULL, max_tries);   /* 0 tries none: HRE_EEXHAUSTED */
        if (rc == HRE_OK)
            rc = hre_block_set_header(blk, &h);
        if (rc != HRE_OK) {
            hre_block_free(blk);
            return hre__api_done(rc);
        }
        len = hre_block_size(blk);
        buf = hre__malloc(len);
        if (!buf) {
            hre_block_free(blk);
            return hre__fail(HRE_ENOMEM, "hre_ledger_mine: out of memory");
        }
        rc = hre_block_encode(blk, buf, &len);
        hre_block_free(blk);
        if (rc == HRE_OK)
            rc = hre_ledger_submit_block(l, &st, buf, len, now);
        hre__free(buf);
        hre_ledger__set_status(status, st);
        if (rc == HRE_OK) {
            if (hash)
                return hre__api_done(hre_header_hash(&h, hash));
            return hre__api_done(HRE_OK);
        }
        if (st != HRE_LEDGER_REJECT_CONTRACT || l->bad_tx >= l->mp_n)
            return hre__api_done(rc);
        /* A mempool tx no longer applies at this block time: drop it, retry. */
        hre_ledger__ensure_tip_state(l);
        mp_kill(l, l->mp[l->bad_tx]);
        mp_compact(l);
    }
    return hre__api_done(rc);
}

HRE_API int hre_ledger_snapshot(hre_ledger *l)
{
    HRE__API_SCOPE;
    if (!l)
        return hre__fail(HRE_EINVAL, "hre_ledger_snapshot: NULL ledger");
    return hre__api_done(hre_ledger__write_snapshot(l));
}
