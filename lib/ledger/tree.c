/*
 * The in-memory block tree: nodes, the main chain, ancestors, median time
 * past, the heaviest tip.
 * docs/PROTOCOL.md section 7.
 */
#include <stdlib.h>
#include <string.h>

#include "chain/internal.h"
#include "core/internal.h"
#include "hre/pow.h"
#include "ledger/internal.h"

hre_ledger__node *hre_ledger__tip(const hre_ledger *l)
{
    return l->main[l->main_len - 1];
}

hre_ledger__node *hre_ledger__ancestor(const hre_ledger *l, hre_ledger__node *n, uint64_t h)
{
    if (!n || h > n->height)
        return NULL;
    while (n && !n->on_main && n->height > h)
        n = n->parent;
    if (n && n->on_main)
        return h < l->main_len ? l->main[h] : NULL;
    return n;
}

uint32_t hre_ledger__mtp(const hre_ledger *l, const hre_ledger__node *parent)
{
    uint32_t t[11];
    size_t n = 0;
    (void)l;
    for (; parent && n < 11; parent = parent->parent)
        t[n++] = parent->header.time;
    return hre_chain__median_time(t, n);
}

/* Room for one more node in the tree and on the main chain. */
static int node_reserve(hre_ledger *l)
{
    int rc;
    if (l->n_nodes == l->cap_nodes) {
        size_t nc = l->cap_nodes ? l->cap_nodes * 2 : 256;
        hre_ledger__node **nn = hre__realloc(l->nodes, nc * sizeof *nn);
        if (!nn)
            return hre__fail(HRE_ENOMEM, "ledger: out of memory");
        l->nodes = nn;
        l->cap_nodes = nc;
    }
    /* main[] may come to hold every node (a chain of all of them). */
    if (l->n_nodes + 1 >= l->main_cap) {
        size_t nc = l->main_cap ? l->main_cap * 2 : 256;
        hre_ledger__node **nm = hre__realloc(l->main, nc * sizeof *nm);
        if (!nm)
            return hre__fail(HRE_ENOMEM, "ledger: out of memory");
        l->main = nm;
        l->main_cap = nc;
    }
    if ((rc = hre__map_reserve(&l->node_map, 1)) != HRE_OK)
        return rc;
    return HRE_OK;
}

/* Create a node (not yet linked), with room reserved to link it; the caller
 * links it with node_link or frees it. */
hre_ledger__node *hre_ledger__node_new(hre_ledger *l, const hre_header *h, const uint8_t hash[32],
                                       hre_ledger__node *parent)
{
    hre_ledger__node *n;
    uint8_t w[32];
    if (hre_pow_work(w, h->bits) != HRE_OK || node_reserve(l) != HRE_OK)
        return NULL;
    n = hre__calloc(1, sizeof *n);
    if (!n) {
        hre__fail(HRE_ENOMEM, "ledger: out of memory");
        return NULL;
    }
    memcpy(n->hash, hash, 32);
    n->header = *h;
    n->parent = parent;
    n->height = parent ? parent->height + 1 : 0;
    if (parent) {
        if (hre_pow_work_add(n->work, parent->work, w) != HRE_OK) {
            hre__free(n);
            hre__fail(HRE_ELIMIT, "ledger: chain work overflow");
            return NULL;
        }
    } else {
        memcpy(n->work, w, 32);
    }
    return n;
}

/* Link a node made by node_new (its room is reserved: cannot fail). */
void hre_ledger__node_link(hre_ledger *l, hre_ledger__node *n)
{
    n->seq = l->n_nodes;
    l->nodes[l->n_nodes++] = n;
    (void)hre__map_put(&l->node_map, n->hash, n);
}

/* Unlink and free the most recently linked node. */
void hre_ledger__node_pop(hre_ledger *l)
{
    hre_ledger__node *n = l->nodes[--l->n_nodes];
    hre__map_del(&l->node_map, n->hash);
    hre__free(n);
}

hre_ledger__node *hre_ledger__best_tip(hre_ledger *l)
{
    hre_ledger__node *best = l->nodes[0];
    size_t i;
    for (i = 1; i < l->n_nodes; i++) {
        hre_ledger__node *n = l->nodes[i];
        if (n && !n->invalid && hre_pow_work_cmp(n->work, best->work) > 0)
            best = n;
    }
    return best;
}

/* ---- side nodes: every node in memory that is not on the main chain ---- */

int hre_ledger__side_reserve(hre_ledger *l, size_t extra)
{
    if (l->n_side + extra > l->cap_side) {
        size_t nc = l->cap_side ? l->cap_side : 64;
        hre_ledger__node **ns;
        while (nc < l->n_side + extra)
            nc *= 2;
        ns = hre__realloc(l->side, nc * sizeof *ns);
        if (!ns)
            return hre__fail(HRE_ENOMEM, "ledger: out of memory");
        l->side = ns;
        l->cap_side = nc;
    }
    return HRE_OK;
}

void hre_ledger__side_add(hre_ledger *l, hre_ledger__node *n)
{
    n->side_idx = l->n_side;
    l->side[l->n_side++] = n;
}

void hre_ledger__side_del(hre_ledger *l, hre_ledger__node *n)
{
    hre_ledger__node *last = l->side[--l->n_side];
    l->side[n->side_idx] = last;
    last->side_idx = n->side_idx;
}

int hre_ledger__side_rebuild(hre_ledger *l)
{
    size_t i;
    int rc;
    l->n_side = 0;
    if ((rc = hre_ledger__side_reserve(l, l->n_nodes - l->n_dead)) != HRE_OK)
        return rc;
    for (i = 0; i < l->n_nodes; i++)
        if (l->nodes[i] && !l->nodes[i]->on_main)
            hre_ledger__side_add(l, l->nodes[i]);
    return HRE_OK;
}

/* Drop the tombstones of dropped nodes from nodes[] once they are the
 * majority (seq stays the index, relative order is kept). */
static void nodes_compact(hre_ledger *l)
{
    size_t i, k = 0;
    if (l->n_dead < 64 || l->n_dead * 2 < l->n_nodes)
        return;
    for (i = 0; i < l->n_nodes; i++) {
        if (l->nodes[i]) {
            l->nodes[k] = l->nodes[i];
            l->nodes[k]->seq = k;
            k++;
        }
    }
    l->n_nodes = k;
    l->n_dead = 0;
}

size_t hre_ledger__prune_side(hre_ledger *l)
{
    uint64_t tip = hre_ledger__tip(l)->height, stamp;
    size_t i, dropped = 0;

    if (!l->n_side)
        return 0;
    stamp = ++l->prune_stamp;
    /* Fork height of every side node: each node is walked over once (the
     * walk stops at the main chain or at a node already done). */
    for (i = 0; i < l->n_side; i++) {
        hre_ledger__node *m = l->side[i], *p;
        uint64_t f;
        while (!m->on_main && m->stamp != stamp)
            m = m->parent;
        f = m->on_main ? m->height : m->fork_h;
        for (p = l->side[i]; !p->on_main && p->stamp != stamp; p = p->parent) {
            p->stamp = stamp;
            p->fork_h = f;
        }
    }
    /* A node forking more than max_reorg_depth below the tip can never be
     * reorganised to (a block on it is refused): drop it. Its descendants
     * share its fork point, so they go in the same pass. */
    for (i = 0; i < l->n_side;) {
        hre_ledger__node *n = l->side[i];
        if (n->fork_h + l->max_reorg < tip) {
            hre_ledger__side_del(l, n);
            hre__map_del(&l->node_map, n->hash);
            l->nodes[n->seq] = NULL;
            l->n_dead++;
            hre__free(n);
            dropped++;
        } else {
            i++;
        }
    }
    nodes_compact(l);
    return dropped;
}

void hre_ledger__set_main(hre_ledger *l, hre_ledger__node *tip)
{
    size_t i;
    hre_ledger__node *n;
    for (i = 0; i < l->main_len; i++)
        l->main[i]->on_main = 0;
    l->main_len = (size_t)tip->height + 1;
    for (n = tip; n; n = n->parent) {
        l->main[n->height] = n;
        n->on_main = 1;
    }
}

void hre_ledger__tree_free(hre_ledger *l)
{
    size_t i;
    for (i = 0; i < l->n_nodes; i++)
        hre__free(l->nodes[i]);
    hre__free(l->nodes);
    l->nodes = NULL;
    l->n_nodes = l->cap_nodes = l->n_dead = 0;
    hre__free(l->side);
    l->side = NULL;
    l->n_side = l->cap_side = 0;
    hre__map_free(&l->node_map);
    l->main_len = 0;
}

int hre_ledger__tree_init(hre_ledger *l)
{
    hre_ledger__node *g = hre_ledger__node_new(l, &l->params.genesis, l->network_id, NULL);
    if (!g)
        return hre_error_last() == HRE_ENOMEM ? HRE_ENOMEM
                                              : hre__fail(HRE_EINVAL, "ledger: genesis bits invalid");
    hre_ledger__node_link(l, g);
    l->main[0] = g;
    l->main_len = 1;
    g->on_main = 1;
    return HRE_OK;
}
