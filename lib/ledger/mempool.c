/*
 * The mempool: stateless and stateful checks against the pending state (the
 * tip state plus every mempool transaction), removal of included
 * transactions, re-adding a losing branch's transactions.
 * docs/PROTOCOL.md section 7.
 */
#include <string.h>

#include "core/internal.h"
#include "ledger/internal.h"

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
    hre__map_free(&l->mp_map);
}

void hre_ledger__mp_compact(hre_ledger *l)
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

void hre_ledger__mp_kill(hre_ledger *l, hre_ledger__mtx *e)
{
    hre__map_del(&l->mp_map, e->txid);
    e->dead = 1;
}

uint64_t hre_ledger__next_block_time(const hre_ledger *l, uint64_t now)
{
    uint64_t m = (uint64_t)hre_ledger__mtp(l, hre_ledger__tip(l)) + 1;
    uint64_t t = now > m ? now : m;
    return t > UINT32_MAX ? UINT32_MAX : t;
}

/* Bring the contract to tip + every mempool tx; drop those no longer valid. */
int hre_ledger__ensure_pending(hre_ledger *l)
{
    uint64_t t;
    size_t i;
    int dropped = 0;
    if (l->overlay == l->mp_n)
        return HRE_OK;
    hre_ledger__ensure_tip_state(l);
    t = hre_ledger__next_block_time(l, l->last_now);
    l->ev_mode = HRE_LEDGER__EV_DROP;
    for (i = 0; i < l->mp_n; i++) {
        /* Every mempool entry's signature was checked: hre_ledger_submit_tx
         * verified it, and mp_readd takes transactions of blocks that were
         * fully validated on the main chain (decoded again, so unmarked). */
        int rc = hre_contract_apply(l->c, l->mp[i]->tx, t, HRE_CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER);
        if (rc == HRE_ENOMEM) {
            (void)hre_ledger__undo(l->c, l->overlay);
            l->overlay = 0;
            if (dropped)
                hre_ledger__mp_compact(l);
            return rc;
        }
        if (rc != HRE_OK) {
            hre_ledger__mp_kill(l, l->mp[i]);
            dropped = 1;
        } else {
            l->overlay++;
        }
    }
    if (dropped)
        hre_ledger__mp_compact(l);
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
    if ((rc = hre__map_put(&l->mp_map, e->txid, e)) != HRE_OK)
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
    if (hre_ledger__usable(l, status) != HRE_OK)
        return hre__api_done(HRE_EFATAL);
    if (now > l->last_now)
        l->last_now = now;
    rc = hre_tx_decode_cached(&t, l->kc, tx, len);
    if (rc == HRE_ENOMEM)
        return hre__api_done(rc);
    if (rc != HRE_OK) {
        char why[160];
        hre_ledger__why(why, sizeof why);
        return hre__api_done(HRE_LEDGER__REJ(status, HRE_LEDGER_REJECT_TX_DECODE, rc, "tx does not decode (%s)", why));
    }
    if ((rc = hre_tx_txid(t, id)) != HRE_OK)
        goto fail;
    if (hre__map_get(&l->mp_map, id)) {
        rc = HRE_LEDGER__REJ(status, HRE_LEDGER_REJECT_DUPLICATE, HRE_EEXISTS, "tx already in the mempool");
        goto fail;
    }
    if (l->mp_n >= l->mempool_max) {
        rc = HRE_LEDGER__REJ(status, HRE_LEDGER_REJECT_BOUND, HRE_ELIMIT, "mempool full (%u transactions)",
                 l->mempool_max);
        goto fail;
    }
    rc = hre_tx_verify(t, l->kc, l->network_id);
    if (rc == HRE_EVERIFY) {
        rc = HRE_LEDGER__REJ(status, HRE_LEDGER_REJECT_TX_SIGNATURE, HRE_EVERIFY,
                 "tx signature or network id does not verify");
        goto fail;
    }
    if (rc != HRE_OK)
        goto fail;
    if ((rc = hre_ledger__ensure_pending(l)) != HRE_OK)
        goto fail;
    l->ev_mode = HRE_LEDGER__EV_DROP;
    rc = hre_contract_apply(l->c, t, hre_ledger__next_block_time(l, now), 0);
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
        (void)hre_ledger__undo(l->c, 1);
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
    return l && txid && hre__map_get(&l->mp_map, txid) != NULL;
}

/* Remove the block's transactions from the mempool (state must be at the tip). */
void hre_ledger__mp_remove_included(hre_ledger *l, const uint8_t (*txids)[32], size_t n)
{
    size_t i;
    int any = 0;
    for (i = 0; i < n; i++) {
        hre_ledger__mtx *e = hre__map_get(&l->mp_map, txids[i]);
        if (e) {
            hre_ledger__mp_kill(l, e);
            any = 1;
        }
    }
    if (any)
        hre_ledger__mp_compact(l);
}

int hre_ledger__block_txids(const hre_block *blk, uint8_t (**out)[32])
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

/* Put the transactions of disconnected blocks back in front of the mempool
 * (state at the tip); ensure_pending later drops those no longer valid. */
void hre_ledger__mp_readd(hre_ledger *l, hre_block **blocks, size_t nb)
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
                hre__map_get(&l->mp_map, id))
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

HRE_API int hre_ledger_next_nonce(hre_ledger *l, uint64_t *nonce, const uint8_t *id, size_t id_len)
{
    HRE__API_SCOPE;
    hre_contract_account a = HRE_CONTRACT_ACCOUNT_INIT;
    int rc;
    if (nonce)
        *nonce = 0;
    if (!l || !nonce || !id)
        return hre__fail(HRE_EINVAL, "hre_ledger_next_nonce: NULL argument");
    if (id_len != 32 && id_len != 34)
        return hre__fail(HRE_EINVAL, "hre_ledger_next_nonce: id_len %zu: give a 32-byte address "
                         "or a 34-byte wire key", id_len);
    if (hre_ledger__usable(l, NULL) != HRE_OK)
        return hre__api_done(HRE_EFATAL);
    /* the pending state: the tip plus every mempool transaction, so the
     * sender's transactions waiting in the mempool are counted */
    if ((rc = hre_ledger__ensure_pending(l)) != HRE_OK)
        return hre__api_done(rc);
    rc = id_len == 34 ? hre_contract_account_by_key(l->c, &a, NULL, id)
                      : hre_contract_account_get(l->c, &a, id);
    if (rc == HRE_ENOTFOUND)
        return hre__api_done(HRE_OK);   /* no account yet: its first transaction has nonce 0 */
    if (rc != HRE_OK)
        return hre__api_done(rc);
    *nonce = a.nonce;
    return hre__api_done(HRE_OK);
}
