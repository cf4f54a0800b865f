/*
 * Ledger events: contract events and block (dis)connections are buffered and
 * delivered to the host once the block is durable.
 * docs/PROTOCOL.md section 7.
 */
#include <string.h>

#include "core/internal.h"
#include "ledger/internal.h"

void hre_ledger__contract_event(void *user_data, const hre_contract_event *cev)
{
    hre_ledger *l = user_data;
    hre_ledger__ev *e;
    if (l->ev_mode != HRE_LEDGER__EV_BUFFER)
        return;
    if (l->n_evs == l->cap_evs) {
        size_t nc = l->cap_evs ? l->cap_evs * 2 : 64;
        hre_ledger__ev *ne = hre__realloc(l->evs, nc * sizeof *ne);
        if (!ne)
            return; /* events are best effort under memory pressure */
        l->evs = ne;
        l->cap_evs = nc;
    }
    e = &l->evs[l->n_evs++];
    memset(e, 0, sizeof *e);
    e->ev.version = HRE_LEDGER_EVENT_VERSION;
    e->ev.type = HRE_LEDGER_EVENT_CONTRACT;
    e->ev.tx_index = l->cur_tx;
    e->cev = *cev;
}

void hre_ledger__ev_block(hre_ledger *l, unsigned int type, const hre_ledger__node *n)
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
void hre_ledger__ev_stamp(hre_ledger *l, size_t mark, const hre_ledger__node *n)
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

void hre_ledger__ev_flush(hre_ledger *l)
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
