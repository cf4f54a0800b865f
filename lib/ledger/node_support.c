/*
 * Read-only ledger queries for the node layer (node.h), declared at the end
 * of ledger.h: the event listener hook, the network fingerprint and chain
 * parameters, index entries of any known block (with cumulative work), and
 * the mempool's txids and bytes. General-purpose: any host may use them.
 */
#include <string.h>

#include "chain/internal.h"
#include "core/internal.h"
#include "ledger/internal.h"

HRE_API void hre_ledger_set_event_callback(hre_ledger *l, hre_ledger_event_fn fn, void *user_data)
{
    if (!l)
        return;
    l->on_event = fn;
    l->user_data = user_data;
}

HRE_API void hre_ledger_event_callback(const hre_ledger *l, hre_ledger_event_fn *fn, void **user_data)
{
    if (fn)
        *fn = l ? l->on_event : NULL;
    if (user_data)
        *user_data = l ? l->user_data : NULL;
}

HRE_API int hre_ledger_fingerprint(const hre_ledger *l, uint8_t out[32])
{
    HRE__API_SCOPE;
    if (out)
        memset(out, 0, 32);
    if (!l || !out)
        return hre__fail(HRE_EINVAL, "hre_ledger_fingerprint: NULL argument");
    memcpy(out, l->fingerprint, 32);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_ledger_params(const hre_ledger *l, hre_chain_params *out)
{
    HRE__API_SCOPE;
    if (!l || !out)
        return hre__fail(HRE_EINVAL, "hre_ledger_params: NULL argument");
    return hre__api_done(hre__vstruct_out(&hre_chain__params_desc, out, &l->params));
}

static const size_t block_info_sizes[] = {
    0,
    HRE__END(hre_ledger_block_info, tx_count),
};
static const hre__vstruct block_info_desc = { "hre_ledger_block_info", HRE_LEDGER_BLOCK_INFO_VERSION,
                                              block_info_sizes };
_Static_assert(sizeof block_info_sizes / sizeof block_info_sizes[0] == HRE_LEDGER_BLOCK_INFO_VERSION + 1,
               "one size per hre_ledger_block_info version");

HRE_API int hre_ledger_block_info_init(hre_ledger_block_info *info, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&block_info_desc, info, version));
}

HRE_API int hre_ledger_block_info_get(const hre_ledger *l, hre_ledger_block_info *info,
                                      const uint8_t hash[32])
{
    HRE__API_SCOPE;
    hre_ledger_block_info full;
    const hre_ledger__node *n;
    int rc;
    if (!l || !info || !hash)
        return hre__fail(HRE_EINVAL, "hre_ledger_block_info_get: NULL argument");
    if ((rc = hre__vstruct_check(&block_info_desc, info->version)) != HRE_OK)
        return rc;
    n = hre__map_get(&l->node_map, hash);
    if (!n)
        return hre__fail(HRE_ENOTFOUND, "no such block");
    memset(&full, 0, sizeof full);
    full.version = HRE_LEDGER_BLOCK_INFO_VERSION;
    full.header = n->header;
    full.height = n->height;
    memcpy(full.work, n->work, 32);
    full.on_main = n->on_main != 0;
    full.invalid = n->invalid != 0;
    full.tx_count = n->tx_count;
    return hre__api_done(hre__vstruct_out(&block_info_desc, info, &full));
}

HRE_API int hre_ledger_mempool_list(const hre_ledger *l, uint8_t *ids, size_t *n, size_t start)
{
    HRE__API_SCOPE;
    size_t cap, i, out = 0, live = 0;
    if (!l || !n || (!ids && *n))
        return hre__fail(HRE_EINVAL, "hre_ledger_mempool_list: NULL argument");
    cap = *n;
    for (i = 0; i < l->mp_n && out < cap; i++) {
        if (l->mp[i]->dead)
            continue;
        if (live++ < start)
            continue;
        memcpy(ids + 32 * out++, l->mp[i]->txid, 32);
    }
    *n = out;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_ledger_mempool_tx(const hre_ledger *l, uint8_t *out, size_t *len, const uint8_t txid[32])
{
    HRE__API_SCOPE;
    const hre_ledger__mtx *e;
    if (!l || !len || !txid || (!out && *len))
        return hre__fail(HRE_EINVAL, "hre_ledger_mempool_tx: NULL argument");
    e = hre__map_get(&l->mp_map, txid);
    if (!e || e->dead) {
        *len = 0;
        return hre__fail(HRE_ENOTFOUND, "transaction not in the mempool");
    }
    if (*len < e->len) {
        *len = e->len;
        return hre__fail(HRE_EBUFSIZE, "need %zu bytes for the transaction", e->len);
    }
    memcpy(out, e->bytes, e->len);
    *len = e->len;
    return hre__api_done(HRE_OK);
}
