/*
 * Bounded LRU cache of parsed public keys, keyed by the 34-byte wire
 * encoding. A hash table (chained, keyed SipHash-2-4 so an adversary who
 * picks public keys cannot aim them at one bucket) plus a doubly linked LRU
 * list, both under one mutex. Parsing on a miss happens outside the lock.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "hre/hash.h"
#include "hre/key.h"
#include "crypto/internal.h"

typedef struct kc_node {
    struct kc_node *hnext;              /* hash chain */
    struct kc_node *prev, *next;        /* LRU list, head = most recent */
    uint8_t enc[HRE_PUBKEY_ENCODED_LEN];
    hre_pubkey *pk;                     /* one reference owned by the cache */
} kc_node;

struct hre_keycache {
    pthread_mutex_t lock;
    size_t capacity, count;
    size_t nbuckets;                    /* power of two */
    kc_node **buckets;
    kc_node *head, *tail;
    hre__sipkey sip;                    /* the buckets' SipHash key */
    _Atomic uint64_t hits, misses;
};

static size_t bucket_of(const hre_keycache *c, const uint8_t enc[34])
{
    return (size_t)(hre__siphash(&c->sip, enc, HRE_PUBKEY_ENCODED_LEN, 2, 4) & (c->nbuckets - 1));   /* SipHash-2-4 */
}

HRE_API int hre_keycache_new(hre_keycache **out, size_t capacity)
{
    HRE__API_SCOPE;
    hre_keycache *c;
    uint8_t seed[16];
    size_t nb = 16;
    if (!out) return hre__fail(HRE_EINVAL, "hre_keycache_new: NULL out");
    *out = NULL;
    if (capacity == 0 || capacity > ((size_t)1 << 24))
        return hre__fail(HRE_EINVAL, "hre_keycache_new: capacity %zu outside [1, 2^24]", capacity);
    while (nb < capacity + capacity / 2) nb <<= 1;   /* load factor <= 2/3 */
    c = hre__calloc(1, sizeof *c);
    if (!c) return hre__fail(HRE_ENOMEM, "out of memory allocating a key cache");
    c->buckets = hre__calloc(nb, sizeof *c->buckets);
    if (!c->buckets) {
        hre__free(c);
        return hre__fail(HRE_ENOMEM, "out of memory allocating a key cache table");
    }
    if (hre_random_bytes(seed, sizeof seed) != HRE_OK) {
        hre__free(c->buckets);
        hre__free(c);
        return hre__fail(HRE_ECRYPTO, "hre_keycache_new: no randomness for the hash key");
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        hre__free(c->buckets);
        hre__free(c);
        return hre__fail(HRE_ENOMEM, "hre_keycache_new: pthread_mutex_init failed");
    }
    hre__sipkey_set(&c->sip, seed);
    hre_wipe(seed, sizeof seed);
    c->capacity = capacity;
    c->nbuckets = nb;
    atomic_init(&c->hits, 0);
    atomic_init(&c->misses, 0);
    *out = c;
    return hre__api_done(HRE_OK);
}

HRE_API void hre_keycache_free(hre_keycache *cache)
{
    kc_node *n, *next;
    if (!cache) return;
    for (n = cache->head; n; n = next) {
        next = n->next;
        hre_pubkey_free(n->pk);
        hre__free(n);
    }
    pthread_mutex_destroy(&cache->lock);
    hre__free(cache->buckets);
    hre__free(cache);
}

/* --- list and table helpers; call with the lock held --- */

static void lru_unlink(hre_keycache *c, kc_node *n)
{
    if (n->prev) n->prev->next = n->next; else c->head = n->next;
    if (n->next) n->next->prev = n->prev; else c->tail = n->prev;
    n->prev = n->next = NULL;
}

static void lru_push_front(hre_keycache *c, kc_node *n)
{
    n->prev = NULL;
    n->next = c->head;
    if (c->head) c->head->prev = n; else c->tail = n;
    c->head = n;
}

static kc_node *table_find(hre_keycache *c, size_t b, const uint8_t enc[34])
{
    for (kc_node *n = c->buckets[b]; n; n = n->hnext)
        if (memcmp(n->enc, enc, HRE_PUBKEY_ENCODED_LEN) == 0) return n;
    return NULL;
}

static void table_remove(hre_keycache *c, kc_node *n)
{
    kc_node **pp = &c->buckets[bucket_of(c, n->enc)];
    while (*pp && *pp != n) pp = &(*pp)->hnext;
    if (*pp) *pp = n->hnext;
}

HRE_API int hre_keycache_get(hre_keycache *cache, hre_pubkey **out, const uint8_t enc[34])
{
    HRE__API_SCOPE;
    kc_node *n, *victim = NULL;
    hre_pubkey *pk = NULL;
    size_t b;
    int rc;

    if (!out) return hre__fail(HRE_EINVAL, "hre_keycache_get: NULL out");
    *out = NULL;
    if (!cache || !enc) return hre__fail(HRE_EINVAL, "hre_keycache_get: NULL argument");
    b = bucket_of(cache, enc);

    pthread_mutex_lock(&cache->lock);
    n = table_find(cache, b, enc);
    if (n) {
        lru_unlink(cache, n);
        lru_push_front(cache, n);
        *out = hre_pubkey_ref(n->pk);
        pthread_mutex_unlock(&cache->lock);
        atomic_fetch_add_explicit(&cache->hits, 1, memory_order_relaxed);
        return hre__api_done(HRE_OK);
    }
    pthread_mutex_unlock(&cache->lock);
    atomic_fetch_add_explicit(&cache->misses, 1, memory_order_relaxed);

    /* Miss: parse without holding the lock. */
    rc = hre_pubkey_parse_wire(&pk, enc);
    if (rc != HRE_OK) return rc;
    n = hre__calloc(1, sizeof *n);
    if (!n) {
        hre_pubkey_free(pk);
        return hre__fail(HRE_ENOMEM, "out of memory adding a key to the cache");
    }
    memcpy(n->enc, enc, HRE_PUBKEY_ENCODED_LEN);
    n->pk = pk;

    pthread_mutex_lock(&cache->lock);
    {
        kc_node *raced = table_find(cache, b, enc);
        if (raced) {
            /* another thread inserted it meanwhile: use theirs */
            lru_unlink(cache, raced);
            lru_push_front(cache, raced);
            *out = hre_pubkey_ref(raced->pk);
            pthread_mutex_unlock(&cache->lock);
            hre_pubkey_free(n->pk);
            hre__free(n);
            return hre__api_done(HRE_OK);
        }
    }
    if (cache->count >= cache->capacity) {
        victim = cache->tail;
        lru_unlink(cache, victim);
        table_remove(cache, victim);
        cache->count--;
    }
    n->hnext = cache->buckets[b];
    cache->buckets[b] = n;
    lru_push_front(cache, n);
    cache->count++;
    *out = hre_pubkey_ref(pk);
    pthread_mutex_unlock(&cache->lock);

    if (victim) {
        hre_pubkey_free(victim->pk);
        hre__free(victim);
    }
    return hre__api_done(HRE_OK);
}

HRE_API void hre_keycache_stats(const hre_keycache *cache, uint64_t *hits, uint64_t *misses)
{
    if (hits) *hits = cache ? atomic_load_explicit(&cache->hits, memory_order_relaxed) : 0;
    if (misses) *misses = cache ? atomic_load_explicit(&cache->misses, memory_order_relaxed) : 0;
}
