/*
 * Stateless transaction verification (layer 3): one transaction, or a batch
 * spread over a host-sized worker pool (pool.h). No global state: each
 * batch is one parallel loop whose results go to the caller's array.
 */
#include "hre/key.h"
#include "hre/tx.h"
#include "tx/internal.h"

HRE_API int hre_tx_verify(hre_tx *tx, hre_keycache *cache, const uint8_t network_id[32])
{
    HRE__API_SCOPE;
    hre_pubkey *pk = NULL;
    int rc;
    HRE__CHECK_ARG(tx != NULL);
    HRE__CHECK_ARG(network_id != NULL);
    if (HRE__UNLIKELY(!tx->is_signed))
        return hre__fail(HRE_ESTATE, "cannot verify an unsigned transaction");
    if (memcmp(tx->network_id, network_id, 32) != 0)
        return hre__fail(HRE_EVERIFY, "transaction is for another network (network id mismatch)");
    /* Warm cache: a lookup and a reference, no parsing. */
    rc = cache ? hre_keycache_get(cache, &pk, tx->sender) : hre_pubkey_parse_wire(&pk, tx->sender);
    if (HRE__UNLIKELY(rc != HRE_OK)) {
        if (rc == HRE_EDECODE)
            return hre__fail(HRE_EVERIFY, "transaction sender key is not a valid point");
        return hre__api_done(rc);
    }
    rc = hre_pubkey_verify(pk, tx->sighash, tx->sig);
    hre_pubkey_free(pk);
    if (rc == HRE_EVERIFY)
        return hre__fail(HRE_EVERIFY, "transaction signature does not verify for its sender key");
    if (rc == HRE_OK) atomic_store_explicit(&tx->verified, 1, memory_order_release);
    return hre__api_done(rc);
}

struct batch {
    int *results;
    hre_tx *const *txs;
    const uint8_t *network_id;
    hre_keycache *cache;
};

static void batch_item(void *arg, size_t i)
{
    struct batch *b = arg;
    b->results[i] = b->txs[i] ? hre_tx_verify(b->txs[i], b->cache, b->network_id) : HRE_EINVAL;
}

HRE_API int hre_tx_verify_batch(int *results, hre_keycache *cache, hre_pool *pool,
                                hre_tx *const *txs, size_t n, const uint8_t network_id[32])
{
    HRE__API_SCOPE;
    struct batch b;
    size_t failed = 0, first = 0;
    HRE__CHECK_ARG(results != NULL || n == 0);
    HRE__CHECK_ARG(txs != NULL || n == 0);
    HRE__CHECK_ARG(network_id != NULL);
    if (n == 0) return hre__api_done(HRE_OK);

    b.results = results;
    b.txs = txs;
    b.network_id = network_id;
    b.cache = cache;
    hre__pool_for(pool, n, batch_item, &b);

    for (size_t i = 0; i < n; i++) {
        if (results[i] != HRE_OK) {
            if (failed++ == 0) first = i;
        }
    }
    if (failed)
        return hre__fail(HRE_EVERIFY, "%zu of %zu transactions failed verification "
                                      "(first: index %zu, %s)",
                         failed, n, first, hre_strerror(results[first]));
    return hre__api_done(HRE_OK);
}
