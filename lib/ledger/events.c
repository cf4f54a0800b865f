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

void hre_ledger__ev_block(hre_ledger *l, unsigned int type, hre_ledger__node *n,
                          const hre_contract *c)
{
    hre_ledger__ev *e;
    if (type == HRE_LEDGER_EVENT_BLOCK_CONNECTED && c) {
        /* its place in the main chain's event stream: every contract event
         * and every BLOCK_CONNECTED so far, 1-based */
        hre_contract_stats cs = HRE_CONTRACT_STATS_INIT;
        if (hre_contract_stats_get(c, &cs) == HRE_OK)
            n->ev_seq = cs.events + n->height;
    }
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
    e->ev.seq = type == HRE_LEDGER_EVENT_BLOCK_CONNECTED ? n->ev_seq : 0;
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
        /* the contract counts its events from 0; blocks 1..height-1 added
         * one BLOCK_CONNECTED each */
        l->evs[i].ev.seq = l->evs[i].cev.seq + n->height;
    }
}

/* ---- the journal: the newest journal_max events of the main chain ---- */

static hre_ledger__ev *jr_at(const hre_ledger *l, size_t i)
{
    return &l->jr[(l->jr_head + i) % l->jr_cap];
}

static void jr_push(hre_ledger *l, const hre_ledger__ev *e)
{
    if (!l->journal_max)
        return;
    if (l->jr_n == l->jr_cap && l->jr_cap < l->journal_max) {
        /* grow (unrolling the ring) */
        size_t nc = l->jr_cap ? l->jr_cap * 2 : 256, i;
        hre_ledger__ev *nj;
        if (nc > l->journal_max)
            nc = l->journal_max;
        nj = hre__malloc(nc * sizeof *nj);
        if (nj) {
            for (i = 0; i < l->jr_n; i++)
                nj[i] = *jr_at(l, i);
            hre__free(l->jr);
            l->jr = nj;
            l->jr_cap = nc;
            l->jr_head = 0;
        }
    }
    if (!l->jr_cap)
        return;   /* best effort: events_since then reports the gap */
    if (l->jr_n == l->jr_cap) {
        l->jr_head = (l->jr_head + 1) % l->jr_cap;
        l->jr_n--;
        l->jr_lost = 1;
    }
    *jr_at(l, l->jr_n++) = *e;
}

/* A block left the main chain: its events leave the journal (they are the
 * newest ones). */
static void jr_withdraw(hre_ledger *l, const uint8_t hash[32])
{
    while (l->jr_n && memcmp(jr_at(l, l->jr_n - 1)->ev.block_hash, hash, 32) == 0)
        l->jr_n--;
}

void hre_ledger__journal_clear(hre_ledger *l)
{
    hre__free(l->jr);
    l->jr = NULL;
    l->jr_n = l->jr_cap = l->jr_head = 0;
    l->jr_lost = 0;
}

void hre_ledger__ev_flush_to(hre_ledger *l, int deliver)
{
    size_t i, n = l->n_evs;
    l->n_evs = 0;
    for (i = 0; i < n; i++) {
        hre_ledger__ev *e = &l->evs[i];
        if (e->ev.type == HRE_LEDGER_EVENT_BLOCK_DISCONNECTED)
            jr_withdraw(l, e->ev.block_hash);
        else
            jr_push(l, e);
        if (deliver && l->on_event) {
            hre_ledger_event ev = e->ev;
            if (ev.type == HRE_LEDGER_EVENT_CONTRACT)
                ev.contract = &e->cev;
            l->on_event(l->user_data, &ev);
        }
    }
}

void hre_ledger__ev_flush(hre_ledger *l)
{
    hre_ledger__ev_flush_to(l, 1);
}

size_t hre_ledger__journal_count(const hre_ledger *l)
{
    return l->jr_n;
}

const hre_ledger__ev *hre_ledger__journal_at(const hre_ledger *l, size_t i)
{
    return jr_at(l, i);
}
