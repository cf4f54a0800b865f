/*
 * A small open-addressing hash map with 32-byte keys (block hashes, txids:
 * sha256d outputs, so their first bytes are already uniform). Linear probing
 * with backward-shift deletion. Internal to the ledger.
 */
#include <string.h>

#include "core/internal.h"
#include "ledger/internal.h"

static size_t slot_of(const uint8_t *key, size_t cap)
{
    return (size_t)hre__le64(key) & (cap - 1);
}

void *hre_ledger__map_get(const hre_ledger__map *m, const uint8_t key[32])
{
    size_t i;
    if (!m->cap)
        return NULL;
    for (i = slot_of(key, m->cap); m->keys[i]; i = (i + 1) & (m->cap - 1))
        if (memcmp(m->keys[i], key, 32) == 0)
            return m->vals[i];
    return NULL;
}

static int grow(hre_ledger__map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64, i, j;
    const uint8_t **nk = hre__calloc(ncap, sizeof *nk);
    void **nv = hre__calloc(ncap, sizeof *nv);
    if (!nk || !nv) {
        hre__free(nk);
        hre__free(nv);
        return hre__fail(HRE_ENOMEM, "ledger map: out of memory");
    }
    for (i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        for (j = slot_of(m->keys[i], ncap); nk[j]; j = (j + 1) & (ncap - 1))
            ;
        nk[j] = m->keys[i];
        nv[j] = m->vals[i];
    }
    hre__free(m->keys);
    hre__free(m->vals);
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
    return HRE_OK;
}

int hre_ledger__map_put(hre_ledger__map *m, const uint8_t *key, void *val)
{
    size_t i;
    int rc;
    if ((m->count + 1) * 4 > m->cap * 3 && (rc = grow(m)) != HRE_OK)
        return rc;
    for (i = slot_of(key, m->cap); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
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

void hre_ledger__map_del(hre_ledger__map *m, const uint8_t key[32])
{
    size_t i, j, k, mask;
    if (!m->cap)
        return;
    mask = m->cap - 1;
    for (i = slot_of(key, m->cap); m->keys[i]; i = (i + 1) & mask)
        if (memcmp(m->keys[i], key, 32) == 0)
            break;
    if (!m->keys[i])
        return;
    m->keys[i] = NULL;
    m->vals[i] = NULL;
    m->count--;
    /* Backward-shift: move later entries of the run into the hole when their
     * home slot does not lie cyclically in (i, j]. */
    for (j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        k = slot_of(m->keys[j], m->cap);
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            m->keys[j] = NULL;
            m->vals[j] = NULL;
            i = j;
        }
    }
}

void hre_ledger__map_free(hre_ledger__map *m)
{
    hre__free(m->keys);
    hre__free(m->vals);
    memset(m, 0, sizeof *m);
}

int hre_ledger__map_reserve(hre_ledger__map *m, size_t extra)
{
    while ((m->count + extra) * 4 > m->cap * 3) {
        int rc = grow(m);
        if (rc != HRE_OK)
            return rc;
    }
    return HRE_OK;
}
