/*
 * Open-addressing hash map with 32-byte keys for the node: linear probing,
 * backward-shift deletion, grows at 3/4 and shrinks below 1/8. Some keys
 * are chosen by peers (inventory hashes, ephemeral keys), so the slot is a
 * keyed mix of the key's first 16 bytes with a per-node random seed: a peer
 * cannot aim many keys at one probe run.
 */
#include <string.h>

#include "node/internal.h"

static size_t slot_of(const hre_node__map *m, const uint8_t *key, size_t cap)
{
    uint64_t h = (hre__le64(key) ^ m->seed) * 0x9e3779b97f4a7c15ull;
    h ^= hre__le64(key + 8) + (m->seed >> 7);
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (size_t)h & (cap - 1);
}

void *hre_node__map_get(const hre_node__map *m, const uint8_t key[32])
{
    size_t i;
    if (!m->cap)
        return NULL;
    for (i = slot_of(m, key, m->cap); m->keys[i]; i = (i + 1) & (m->cap - 1))
        if (memcmp(m->keys[i], key, 32) == 0)
            return m->vals[i];
    return NULL;
}

static int resize(hre_node__map *m, size_t ncap)
{
    size_t i, j;
    const uint8_t **nk = hre_node__zalloc(m->node, ncap * sizeof *nk);
    void **nv = hre_node__zalloc(m->node, ncap * sizeof *nv);
    if (!nk || !nv) {
        hre_node__dealloc(m->node, nk);
        hre_node__dealloc(m->node, nv);
        return hre__fail(HRE_ENOMEM, "node map: out of memory");
    }
    for (i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        for (j = slot_of(m, m->keys[i], ncap); nk[j]; j = (j + 1) & (ncap - 1))
            ;
        nk[j] = m->keys[i];
        nv[j] = m->vals[i];
    }
    hre_node__dealloc(m->node, m->keys);
    hre_node__dealloc(m->node, m->vals);
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
    return HRE_OK;
}

int hre_node__map_put(hre_node__map *m, const uint8_t *key, void *val)
{
    size_t i;
    int rc;
    if ((m->count + 1) * 4 > m->cap * 3 && (rc = resize(m, m->cap ? m->cap * 2 : 16)) != HRE_OK)
        return rc;
    for (i = slot_of(m, key, m->cap); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
        if (memcmp(m->keys[i], key, 32) == 0) {
            m->keys[i] = key;
            m->vals[i] = val;
            return HRE_OK;
        }
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->count++;
    return HRE_OK;
}

void hre_node__map_del(hre_node__map *m, const uint8_t key[32])
{
    size_t i, j, k, mask;
    if (!m->cap)
        return;
    mask = m->cap - 1;
    for (i = slot_of(m, key, m->cap); m->keys[i]; i = (i + 1) & mask)
        if (memcmp(m->keys[i], key, 32) == 0)
            break;
    if (!m->keys[i])
        return;
    m->keys[i] = NULL;
    m->vals[i] = NULL;
    m->count--;
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
    if (m->cap > 64 && m->count * 8 < m->cap)
        (void)resize(m, m->cap / 4 > 16 ? m->cap / 4 : 16);
}

void hre_node__map_init(hre_node__map *m, struct hre_node *n)
{
    memset(m, 0, sizeof *m);
    m->node = n;
    m->seed = n->map_seed;
}

void hre_node__map_free(hre_node__map *m)
{
    struct hre_node *n = m->node;
    hre_node__dealloc(n, m->keys);
    hre_node__dealloc(n, m->vals);
    hre_node__map_init(m, n);
}

size_t hre_node__map_bytes(const hre_node__map *m)
{
    return m->cap * (sizeof *m->keys + sizeof *m->vals);
}
