/*
 * Ledger queries: tip, headers, stored blocks, the contract state, Merkle
 * inclusion proofs.
 */
#include <string.h>

#include "core/internal.h"
#include "hre/hash.h"
#include "hre/merkle.h"
#include "ledger/internal.h"

HRE_API int hre_ledger_contract(hre_ledger *l, const hre_contract **out)
{
    HRE__API_SCOPE;
    if (out)
        *out = NULL;
    if (!l || !out)
        return hre__fail(HRE_EINVAL, "hre_ledger_contract: NULL argument");
    if (hre_ledger__usable(l, NULL) != HRE_OK)
        return hre__api_done(HRE_EFATAL);
    /* Undoing the mempool overlay changes the ledger (it is re-applied on
     * the next call that needs it): hence the non-const handle. */
    hre_ledger__ensure_tip_state(l);
    *out = l->c;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_ledger_network_id(const hre_ledger *l, uint8_t out[32])
{
    HRE__API_SCOPE;
    if (!l || !out)
        return hre__fail(HRE_EINVAL, "hre_ledger_network_id: NULL argument");
    memcpy(out, l->network_id, 32);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_ledger_tip(const hre_ledger *l, uint64_t *height, uint8_t hash[32])
{
    HRE__API_SCOPE;
    if (height)
        *height = 0;
    if (hash)
        memset(hash, 0, 32);
    if (!l)
        return hre__fail(HRE_EINVAL, "hre_ledger_tip: NULL ledger");
    if (height)
        *height = hre_ledger__tip(l)->height;
    if (hash)
        memcpy(hash, hre_ledger__tip(l)->hash, 32);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_ledger_header_by_height(const hre_ledger *l, hre_header *out, uint8_t hash[32],
                                        uint64_t height)
{
    HRE__API_SCOPE;
    if (out)
        memset(out, 0, sizeof *out);
    if (hash)
        memset(hash, 0, 32);
    if (!l || !out)
        return hre__fail(HRE_EINVAL, "hre_ledger_header_by_height: NULL argument");
    if (height >= l->main_len)
        return hre__fail(HRE_ENOTFOUND, "no main-chain block at height %llu (tip %llu)",
                         (unsigned long long)height, (unsigned long long)(l->main_len - 1));
    *out = l->main[height]->header;
    if (hash)
        memcpy(hash, l->main[height]->hash, 32);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_ledger_header_by_hash(const hre_ledger *l, hre_header *out, uint64_t *height,
                                      int *on_main, const uint8_t hash[32])
{
    HRE__API_SCOPE;
    hre_ledger__node *n;
    if (out)
        memset(out, 0, sizeof *out);
    if (height)
        *height = 0;
    if (on_main)
        *on_main = 0;
    if (!l || !hash || !out)
        return hre__fail(HRE_EINVAL, "hre_ledger_header_by_hash: NULL argument");
    n = hre__map_get(&l->node_map, hash);
    if (!n)
        return hre__fail(HRE_ENOTFOUND, "no such block");
    *out = n->header;
    if (height)
        *height = n->height;
    if (on_main)
        *on_main = n->on_main;
    return hre__api_done(HRE_OK);
}

static int encode_node(hre_ledger *l, const hre_ledger__node *n, uint8_t *out, size_t *len)
{
    hre_block *blk = NULL;
    int rc = hre_ledger__read_block(l, n, &blk);
    if (rc != HRE_OK) {
        *len = 0;
        return rc;
    }
    rc = hre_block_encode(blk, out, len);
    hre_block_free(blk);
    return rc;
}

HRE_API int hre_ledger_block_by_height(hre_ledger *l, uint8_t *out, size_t *len, uint64_t height)
{
    HRE__API_SCOPE;
    if (!l || !len)
        return hre__fail(HRE_EINVAL, "hre_ledger_block_by_height: NULL argument");
    if (height >= l->main_len) {
        *len = 0;
        return hre__fail(HRE_ENOTFOUND, "no main-chain block at height %llu",
                         (unsigned long long)height);
    }
    return hre__api_done(encode_node(l, l->main[height], out, len));
}

HRE_API int hre_ledger_block_by_hash(hre_ledger *l, uint8_t *out, size_t *len,
                                     const uint8_t hash[32])
{
    HRE__API_SCOPE;
    hre_ledger__node *n;
    if (!l || !hash || !len)
        return hre__fail(HRE_EINVAL, "hre_ledger_block_by_hash: NULL argument");
    n = hre__map_get(&l->node_map, hash);
    if (!n) {
        *len = 0;
        return hre__fail(HRE_ENOTFOUND, "no such block");
    }
    return hre__api_done(encode_node(l, n, out, len));
}

/* Look for txid in the main-chain block at height h. 1 = found. */
static int proof_at(hre_ledger *l, uint64_t h, const uint8_t txid[32], hre_header *header,
                    hre_merkle_branch *branch, int *rc)
{
    hre_block *blk = NULL;
    size_t n, i;
    uint8_t (*ids)[32];
    const hre_ledger__node *node = l->main[h];

    *rc = HRE_OK;
    if (node->tx_count == 0)
        return 0;
    if ((*rc = hre_ledger__read_block(l, node, &blk)) != HRE_OK)
        return 0;
    n = hre_block_tx_count(blk);
    ids = hre__malloc(n * 32);
    if (!ids) {
        hre_block_free(blk);
        *rc = hre__fail(HRE_ENOMEM, "tx_proof: out of memory");
        return 0;
    }
    for (i = 0; i < n; i++) {
        if ((*rc = hre_block_txid(blk, ids[i], i)) != HRE_OK)
            break;
    }
    if (*rc == HRE_OK) {
        for (i = 0; i < n; i++)
            if (memcmp(ids[i], txid, 32) == 0)
                break;
        if (i < n) {
            *rc = hre_merkle_branch_compute(branch, NULL, (const uint8_t(*)[32])ids, n, i);
            *header = node->header;
        }
    }
    hre__free(ids);
    hre_block_free(blk);
    return *rc == HRE_OK && i < n;
}

HRE_API int hre_ledger_tx_proof(hre_ledger *l, hre_header *header, hre_merkle_branch *branch,
                                uint64_t *height, const uint8_t txid[32], uint64_t height_hint)
{
    HRE__API_SCOPE;
    uint64_t h;
    int rc;
    if (header)
        memset(header, 0, sizeof *header);
    if (branch)
        memset(branch, 0, sizeof *branch);
    if (height)
        *height = 0;
    if (!l || !txid || !header || !branch)
        return hre__fail(HRE_EINVAL, "hre_ledger_tx_proof: NULL argument");
    if (height_hint != UINT64_MAX && height_hint > 0 && height_hint < l->main_len) {
        if (proof_at(l, height_hint, txid, header, branch, &rc)) {
            if (height)
                *height = height_hint;
            return hre__api_done(HRE_OK);
        }
        if (rc != HRE_OK)
            return hre__api_done(rc);
    }
    for (h = l->main_len - 1; h > 0; h--) {
        if (h == height_hint)
            continue;
        if (proof_at(l, h, txid, header, branch, &rc)) {
            if (height)
                *height = h;
            return hre__api_done(HRE_OK);
        }
        if (rc != HRE_OK) {
            memset(header, 0, sizeof *header);
            memset(branch, 0, sizeof *branch);
            return hre__api_done(rc);
        }
    }
    return hre__fail(HRE_ENOTFOUND, "transaction not in the main chain");
}

HRE_API int hre_ledger_tip_work(const hre_ledger *l, uint8_t work[32])
{
    HRE__API_SCOPE;
    if (work)
        memset(work, 0, 32);
    if (!l || !work)
        return hre__fail(HRE_EINVAL, "hre_ledger_tip_work: NULL argument");
    memcpy(work, hre_ledger__tip(l)->work, 32);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_ledger_network(const hre_ledger *l, const hre_network **out)
{
    HRE__API_SCOPE;
    if (out)
        *out = NULL;
    if (!l || !out)
        return hre__fail(HRE_EINVAL, "hre_ledger_network: NULL argument");
    *out = l->net;
    return hre__api_done(HRE_OK);
}

/* Layouts of hre_ledger_event (rule 7): 1 ends at contract, 2 adds seq. */
static const size_t event_size[] = {
    0,
    HRE__END(hre_ledger_event, contract),
    HRE__END(hre_ledger_event, seq),
};
static const hre__vstruct event_desc = { "hre_ledger_event", HRE_LEDGER_EVENT_VERSION, event_size };
_Static_assert(sizeof event_size / sizeof event_size[0] == HRE_LEDGER_EVENT_VERSION + 1,
               "one size per hre_ledger_event version");

/* The first journal index with seq > after; SIZE_MAX when the journal does
 * not reach back to after + 1. */
static size_t journal_from(const hre_ledger *l, uint64_t after)
{
    size_t n = hre_ledger__journal_count(l), lo = 0, hi = n;
    if (n == 0)
        return l->jr_lost ? SIZE_MAX : 0;
    if (hre_ledger__journal_at(l, 0)->ev.seq > after + 1)
        return SIZE_MAX;
    while (lo < hi) {   /* seq ascends along the journal */
        size_t mid = lo + (hi - lo) / 2;
        if (hre_ledger__journal_at(l, mid)->ev.seq <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

HRE_API int hre_ledger_events_since(hre_ledger *l, hre_ledger_event *out, size_t elem_size,
                                    size_t *n, uint64_t since_seq, const uint8_t since_block[32])
{
    HRE__API_SCOPE;
    hre_ledger__node *b = NULL, *f = NULL, *p;
    unsigned int ver;
    size_t nd = 0, first, total, i, k = 0;
    uint64_t after = since_seq;
    int rc;

    if (!l || !n || (*n && !out))
        return hre__fail(HRE_EINVAL, "hre_ledger_events_since: NULL argument");
    if ((rc = hre__vstruct_for_size(&event_desc, elem_size, &ver)) != HRE_OK)
        return hre__api_done(rc);
    if (hre_ledger__usable(l, NULL) != HRE_OK)
        return hre__api_done(HRE_EFATAL);
    if (since_seq) {
        if (!since_block)
            return hre__fail(HRE_EINVAL, "hre_ledger_events_since: since_block is required "
                             "with since_seq");
        b = hre__map_get(&l->node_map, since_block);
        if (!b)
            return hre__fail(HRE_ENOTFOUND, "events since: block not known (it may have been "
                             "dropped as a stale fork): resync from the contract state");
        if (!b->on_main) {
            /* the host's block left the main chain: it first gets those
             * blocks back as BLOCK_DISCONNECTED, tip first */
            for (f = b; !f->on_main; f = f->parent)
                nd++;
            if (f->height && !f->ev_seq)
                return hre__fail(HRE_ENOTFOUND, "events since: the fork at height %llu is "
                                 "older than the event journal: resync from the contract state",
                                 (unsigned long long)f->height);
            after = f->ev_seq;
        }
    }
    first = journal_from(l, after);
    if (first == SIZE_MAX)
        return hre__fail(HRE_ENOTFOUND, "events since %llu: older events are no longer kept "
                         "(max_journal_events, or before the snapshot the ledger opened from): "
                         "resync from the contract state", (unsigned long long)after);
    total = nd + (hre_ledger__journal_count(l) - first);
    if (*n < total) {
        *n = total;
        return hre__fail(HRE_EBUFSIZE, "events since %llu: %zu events", (unsigned long long)since_seq,
                         total);
    }
    for (p = b; nd && p != f; p = p->parent) {
        hre_ledger_event ev;
        memset(&ev, 0, sizeof ev);
        ev.version = HRE_LEDGER_EVENT_VERSION;
        ev.type = HRE_LEDGER_EVENT_BLOCK_DISCONNECTED;
        ev.height = p->height;
        memcpy(ev.block_hash, p->hash, 32);
        ev.tx_count = p->tx_count;
        hre__vstruct_put(&event_desc, out, elem_size, k++, ver, &ev);
    }
    for (i = first; i < hre_ledger__journal_count(l); i++) {
        const hre_ledger__ev *e = hre_ledger__journal_at(l, i);
        hre_ledger_event ev = e->ev;
        ev.contract = ev.type == HRE_LEDGER_EVENT_CONTRACT ? &e->cev : NULL;
        hre__vstruct_put(&event_desc, out, elem_size, k++, ver, &ev);
    }
    *n = total;
    return hre__api_done(HRE_OK);
}
