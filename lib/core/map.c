/*
 * The library's hash map with 32-byte keys (hashes, txids, record ids, key
 * x-coordinates): open addressing, linear probing, backward-shift deletion;
 * grows at 3/4 load, and (with HRE__MAP_SHRINK) shrinks below 1/8. Used by
 * the ledger and the node. Many keys are chosen or ground by peers (txids,
 * inventory hashes), so the slot is SipHash-1-3 of the whole key under the
 * map's 128-bit secret key: without it a peer cannot aim keys at one probe
 * run (the owner makes the secret with hre_random_bytes).
 *
 * The map stores the caller's key pointers, not copies: a key must stay
 * valid while it is in the map (it usually points into the value).
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include <string.h>

#include "core/internal.h"

#define MAP_MIN_CAP 16

static void *heap_zalloc(void *ctx, size_t size)
{
    (void)ctx;
    return hre__calloc(1, size);
}

static void heap_free(void *ctx, void *p)
{
    (void)ctx;
    hre__free(p);
}

void hre__map_init(hre__map *m, const uint8_t secret[16], unsigned flags,
                   void *(*zalloc)(void *ctx, size_t size), void (*dealloc)(void *ctx, void *p), void *ctx)
{
    memset(m, 0, sizeof *m);
    hre__sipkey_set(&m->key, secret);
    m->flags = flags;
    m->zalloc = zalloc ? zalloc : heap_zalloc;
    m->dealloc = zalloc ? dealloc : heap_free;
    m->ctx = ctx;
}

static size_t slot_of(const hre__map *m, const uint8_t *key, size_t cap)
{
    return (size_t)hre__siphash(&m->key, key, 32, 1, 3) & (cap - 1);
}

/* The one probe loop: the slot of key in the table (keys, cap > 0), or the
 * empty slot that ends its run (where a put goes); *visited counts the
 * slots looked at. */
static size_t find(const hre__map *m, const uint8_t **keys, size_t cap, const uint8_t *key, size_t *visited)
{
    size_t i = slot_of(m, key, cap), n = 1;
    for (; keys[i] && memcmp(keys[i], key, 32) != 0; i = (i + 1) & (cap - 1))
        n++;
    if (visited) *visited = n;
    return i;
}

void *hre__map_get(const hre__map *m, const uint8_t key[32])
{
    size_t i;
    if (!m->cap)
        return NULL;
    i = find(m, m->keys, m->cap, key, NULL);
    return m->keys[i] ? m->vals[i] : NULL;
}

static int resize(hre__map *m, size_t ncap)
{
    size_t i, j;
    const uint8_t **nk = m->zalloc(m->ctx, ncap * sizeof *nk);
    void **nv = m->zalloc(m->ctx, ncap * sizeof *nv);
    if (!nk || !nv) {
        if (nk) m->dealloc(m->ctx, nk);
        if (nv) m->dealloc(m->ctx, nv);
        return hre__fail(HRE_ENOMEM, "hash map: out of memory for %zu slots", ncap);
    }
    for (i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        j = find(m, nk, ncap, m->keys[i], NULL);   /* keys are distinct: an empty slot */
        nk[j] = m->keys[i];
        nv[j] = m->vals[i];
    }
    if (m->keys) m->dealloc(m->ctx, m->keys);
    if (m->vals) m->dealloc(m->ctx, m->vals);
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
    return HRE_OK;
}

int hre__map_reserve(hre__map *m, size_t extra)
{
    size_t ncap = m->cap ? m->cap : MAP_MIN_CAP;
    if (extra > SIZE_MAX / 16 - m->count)
        return hre__fail(HRE_ENOMEM, "hash map: %zu more entries is too many", extra);
    while ((m->count + extra) * 4 > ncap * 3)
        ncap *= 2;
    return ncap == m->cap ? HRE_OK : resize(m, ncap);
}

int hre__map_put(hre__map *m, const uint8_t *key, void *val)
{
    size_t i;
    int rc;
    if ((m->count + 1) * 4 > m->cap * 3 && (rc = resize(m, m->cap ? m->cap * 2 : MAP_MIN_CAP)) != HRE_OK)
        return rc;
    i = find(m, m->keys, m->cap, key, NULL);
    if (!m->keys[i])
        m->count++;
    m->keys[i] = key;   /* a replaced value's key is the new value's */
    m->vals[i] = val;
    return HRE_OK;
}

void hre__map_del(hre__map *m, const uint8_t key[32])
{
    size_t i, j, k, mask;
    if (!m->cap)
        return;
    mask = m->cap - 1;
    i = find(m, m->keys, m->cap, key, NULL);
    if (!m->keys[i])
        return;
    m->keys[i] = NULL;
    m->vals[i] = NULL;
    m->count--;
    /* Backward shift: move later entries of the run into the hole when their
     * home slot does not lie cyclically in (i, j]. */
    for (j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        k = slot_of(m, m->keys[j], m->cap);
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            m->keys[j] = NULL;
            m->vals[j] = NULL;
            i = j;
        }
    }
    /* Shrink when mostly empty (a failed shrink keeps the larger table). */
    if ((m->flags & HRE__MAP_SHRINK) && m->cap > 4 * MAP_MIN_CAP && m->count * 8 < m->cap)
        (void)resize(m, m->cap / 4 > MAP_MIN_CAP ? m->cap / 4 : MAP_MIN_CAP);
}

void hre__map_free(hre__map *m)
{
    if (m->keys) m->dealloc(m->ctx, m->keys);
    if (m->vals) m->dealloc(m->ctx, m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->count = 0;
}

size_t hre__map_bytes(const hre__map *m)
{
    return m->cap * (sizeof *m->keys + sizeof *m->vals);
}

size_t hre__map_probe_len(const hre__map *m, const uint8_t key[32])
{
    size_t n = 0;
    if (m->cap)
        (void)find(m, m->keys, m->cap, key, &n);
    return n;
}
