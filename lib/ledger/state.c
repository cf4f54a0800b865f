/*
 * The contract state the ledger keeps: contract options and genesis state,
 * the mempool overlay, the undo journal bound.
 * docs/PROTOCOL.md section 7.
 */
#include <string.h>

#include "core/internal.h"
#include "ledger/internal.h"

void hre_ledger__contract_options(const hre_ledger *l, hre_contract_options *o)
{
    (void)hre_contract_options_init(o, HRE_CONTRACT_OPTIONS_VERSION);
    memcpy(o->network_id, l->network_id, 32);
    memcpy(o->authority_key, l->authority_key, 34);
    o->genesis_org_name = l->has_org_name ? l->org_name : NULL;
}

int hre_ledger__genesis_contract(hre_ledger *l, hre_contract **out, int events)
{
    hre_contract_options o;
    hre_ledger__contract_options(l, &o);
    if (events) {
        o.on_event = hre_ledger__contract_event;   /* it writes to l: hence l is not const */
        o.user_data = l;
    }
    return hre_contract_new(out, &o);
}

int hre_ledger__undo(hre_contract *c, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (hre_contract_undo(c) != HRE_OK)
            return hre__fail(HRE_ECORRUPT, "ledger: the undo journal holds %zu of %zu entries",
                             i, n);
    return HRE_OK;
}

void hre_ledger__ensure_tip_state(hre_ledger *l)
{
    (void)hre_ledger__undo(l->c, l->overlay);
    l->overlay = 0;
}

/* Keep undo entries for the last max_reorg blocks. */
void hre_ledger__trim_undo(hre_ledger *l)
{
    size_t keep = 0;
    uint64_t tip = l->main_len - 1, h, lo;
    lo = tip > l->max_reorg ? tip - l->max_reorg : 0;
    if (lo < l->undo_floor)
        lo = l->undo_floor;
    for (h = tip; h > lo; h--)
        keep += l->main[h]->tx_count;
    hre_contract_undo_forget(l->c, keep + l->overlay);
    l->undo_floor = lo;
}
