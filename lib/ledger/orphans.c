/*
 * The orphan pool: blocks whose parent is unknown, held (bounded by
 * max_orphans, the oldest evicted first) until the parent arrives. Lookups
 * by hash (duplicates) and by parent (resolution) are hash-map lookups, so
 * one resolution costs O(orphans resolved), and resolution needs no memory
 * of its own (the work list is sized as the pool grows).
 * docs/PROTOCOL.md section 7.
 */
#include <string.h>

#include "core/internal.h"
#include "hre/hash.h"
#include "ledger/internal.h"

/* Parent hashes are chosen by whoever made the block, so they are keyed
 * with the ledger's random salt before they index a map whose slot is the
 * key's first bytes. */
static int prev_key(const hre_ledger *l, uint8_t out[32], const uint8_t prev[32])
{
    return hre_hmac_sha256(out, l->orph_salt, sizeof l->orph_salt, prev, 32);
}

static void orphan_free(hre_ledger__orphan *o)
{
    if (o) {
        hre__free(o->bytes);
        hre__free(o);
    }
}

void hre_ledger__orphan_free(hre_ledger__orphan *o)
{
    orphan_free(o);
}

void hre_ledger__orphans_clear(hre_ledger *l)
{
    size_t i;
    for (i = l->orph_head; i < l->orph_len; i++)
        orphan_free(l->orph[i]);
    hre__free(l->orph);
    l->orph = NULL;
    l->orph_len = l->orph_cap = l->orph_head = 0;
    l->n_orph = 0;
    hre__map_free(&l->orph_map);
    hre__map_free(&l->orph_prev);
    hre__free(l->orph_work);
    l->orph_work = NULL;
    l->orph_work_cap = 0;
}

int hre_ledger__orphan_known(const hre_ledger *l, const uint8_t hash[32])
{
    return hre__map_get(&l->orph_map, hash) != NULL;
}

/* Unlink o from the pool (not freed). Allocation-free. */
static void orphan_unlink(hre_ledger *l, hre_ledger__orphan *o)
{
    hre_ledger__orphan *head = hre__map_get(&l->orph_prev, o->prev_key);
    l->orph[o->slot] = NULL;
    hre__map_del(&l->orph_map, o->hash);
    if (head == o) {
        hre__map_del(&l->orph_prev, o->prev_key);
        /* a put right after a del never grows the map */
        if (o->sib)
            (void)hre__map_put(&l->orph_prev, o->sib->prev_key, o->sib);
    } else {
        while (head && head->sib != o)
            head = head->sib;
        if (head)
            head->sib = o->sib;
    }
    o->sib = NULL;
    l->n_orph--;
    while (l->orph_head < l->orph_len && !l->orph[l->orph_head])
        l->orph_head++;
    if (l->orph_head == l->orph_len)
        l->orph_head = l->orph_len = 0;
}

/* Room for one more slot in l->orph: compact the taken slots away, then
 * grow. */
static int slot_reserve(hre_ledger *l)
{
    size_t i, k = 0;
    if (l->orph_len < l->orph_cap)
        return HRE_OK;
    for (i = l->orph_head; i < l->orph_len; i++) {
        if (l->orph[i]) {
            l->orph[k] = l->orph[i];
            l->orph[k]->slot = k;
            k++;
        }
    }
    l->orph_head = 0;
    l->orph_len = k;
    if (k * 2 > l->orph_cap || l->orph_cap == 0) {
        size_t nc = l->orph_cap ? l->orph_cap * 2 : 16;
        hre_ledger__orphan **no = hre__realloc(l->orph, nc * sizeof *no);
        if (!no)
            return hre__fail(HRE_ENOMEM, "orphans: out of memory");
        l->orph = no;
        l->orph_cap = nc;
    }
    return HRE_OK;
}

int hre_ledger__orphan_add(hre_ledger *l, const uint8_t *b, size_t len, const uint8_t hash[32],
                           const uint8_t prev[32], uint64_t now)
{
    hre_ledger__orphan *o, *head;
    int rc;

    if (l->n_orph >= l->max_orphans) {
        /* evict the oldest */
        hre_ledger__orphan *old = l->orph[l->orph_head];
        orphan_unlink(l, old);
        orphan_free(old);
    }
    if ((rc = slot_reserve(l)) != HRE_OK ||
        (rc = hre__map_reserve(&l->orph_map, 1)) != HRE_OK ||
        (rc = hre__map_reserve(&l->orph_prev, 1)) != HRE_OK)
        return rc;
    /* the resolution work list holds at most every orphan plus the block
     * that started it */
    if (l->orph_work_cap < l->n_orph + 2) {
        size_t nc = l->orph_work_cap ? l->orph_work_cap * 2 : 16;
        uint8_t (*nw)[32];
        while (nc < l->n_orph + 2)
            nc *= 2;
        nw = hre__realloc(l->orph_work, nc * 32);
        if (!nw)
            return hre__fail(HRE_ENOMEM, "orphans: out of memory");
        l->orph_work = nw;
        l->orph_work_cap = nc;
    }
    o = hre__calloc(1, sizeof *o);
    if (!o)
        return hre__fail(HRE_ENOMEM, "orphans: out of memory");
    o->bytes = hre__malloc(len ? len : 1);
    if (!o->bytes) {
        hre__free(o);
        return hre__fail(HRE_ENOMEM, "orphans: out of memory");
    }
    if ((rc = prev_key(l, o->prev_key, prev)) != HRE_OK) {
        orphan_free(o);
        return rc;
    }
    memcpy(o->bytes, b, len);
    o->len = len;
    memcpy(o->hash, hash, 32);
    memcpy(o->prev, prev, 32);
    o->now = now;
    o->slot = l->orph_len;
    l->orph[l->orph_len++] = o;
    (void)hre__map_put(&l->orph_map, o->hash, o);   /* reserved */
    head = hre__map_get(&l->orph_prev, o->prev_key);
    o->sib = head;
    if (head)
        hre__map_del(&l->orph_prev, head->prev_key);
    (void)hre__map_put(&l->orph_prev, o->prev_key, o);   /* reserved */
    l->n_orph++;
    return HRE_OK;
}

hre_ledger__orphan *hre_ledger__orphan_take(hre_ledger *l, const uint8_t parent[32])
{
    uint8_t key[32];
    hre_ledger__orphan *o;
    if (l->n_orph == 0 || prev_key(l, key, parent) != HRE_OK)
        return NULL;
    o = hre__map_get(&l->orph_prev, key);
    if (o)
        orphan_unlink(l, o);
    return o;
}
