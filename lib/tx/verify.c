/*
 * Stateless transaction verification (layer 3): one transaction, or a batch
 * spread over caller-chosen worker threads. No global state: every batch
 * owns its work counter, lock and threads.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "hre/key.h"
#include "hre/tx.h"
#include "tx/internal.h"

/* Upper bound on workers one batch starts, whatever the caller asks. */
#define HRE_TX__MAX_WORKERS 256

HRE_API int hre_tx_verify(const hre_tx *tx, const uint8_t network_id[32], hre_keycache *cache)
{
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
        return rc;
    }
    rc = hre_pubkey_verify(pk, tx->sighash, tx->sig);
    hre_pubkey_free(pk);
    if (rc == HRE_EVERIFY)
        return hre__fail(HRE_EVERIFY, "transaction signature does not verify for its sender key");
    return rc;
}

struct batch {
    int *results;
    const hre_tx *const *txs;
    size_t n;
    const uint8_t *network_id;
    hre_keycache *cache;
    atomic_size_t next;      /* index of the next unclaimed transaction */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int go;                  /* 0 = wait, 1 = run, -1 = abort (a worker failed to start) */
};

static void batch_run(struct batch *b)
{
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&b->next, 1, memory_order_relaxed);
        if (i >= b->n) break;
        b->results[i] = hre_tx_verify(b->txs[i], b->network_id, b->cache);
    }
}

static void *batch_worker(void *arg)
{
    struct batch *b = arg;
    int go;
    pthread_mutex_lock(&b->mu);
    while (b->go == 0) pthread_cond_wait(&b->cv, &b->mu);
    go = b->go;
    pthread_mutex_unlock(&b->mu);
    if (go > 0) batch_run(b);
    return NULL;
}

/* Start nw workers, release them together (or abort them all if one could
 * not be started), and wait for them. Returns HRE_OK or HRE_ENOMEM. */
static int batch_threads(struct batch *b, size_t nw)
{
    pthread_t *tids;
    size_t started = 0;
    int ok;
    tids = hre__calloc(nw, sizeof *tids);
    if (!tids) return hre__fail(HRE_ENOMEM, "out of memory starting %zu verify workers", nw);
    if (pthread_mutex_init(&b->mu, NULL) != 0) {
        hre__free(tids);
        return hre__fail(HRE_ENOMEM, "cannot create a mutex for the verify workers");
    }
    if (pthread_cond_init(&b->cv, NULL) != 0) {
        pthread_mutex_destroy(&b->mu);
        hre__free(tids);
        return hre__fail(HRE_ENOMEM, "cannot create a condition variable for the verify workers");
    }
    while (started < nw && pthread_create(&tids[started], NULL, batch_worker, b) == 0) started++;
    ok = started == nw;
    pthread_mutex_lock(&b->mu);
    b->go = ok ? 1 : -1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    for (size_t k = 0; k < started; k++) pthread_join(tids[k], NULL);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    hre__free(tids);
    if (!ok)
        return hre__fail(HRE_ENOMEM, "could only start %zu of %zu verify worker threads; "
                                     "nothing was verified", started, nw);
    return HRE_OK;
}

HRE_API int hre_tx_verify_batch(int *results, const hre_tx *const *txs, size_t n,
                                const uint8_t network_id[32], hre_keycache *cache,
                                unsigned threads)
{
    struct batch b;
    size_t nw, failed = 0, first = 0;
    int rc;
    HRE__CHECK_ARG(results != NULL || n == 0);
    HRE__CHECK_ARG(txs != NULL || n == 0);
    HRE__CHECK_ARG(network_id != NULL);
    if (n == 0) return HRE_OK;

    memset(&b, 0, sizeof b);
    b.results = results;
    b.txs = txs;
    b.n = n;
    b.network_id = network_id;
    b.cache = cache;
    atomic_init(&b.next, 0);

    nw = threads;
    if (nw > n) nw = n;
    if (nw > HRE_TX__MAX_WORKERS) nw = HRE_TX__MAX_WORKERS;
    if (nw == 0) {
        batch_run(&b);
    } else if ((rc = batch_threads(&b, nw)) != HRE_OK) {
        for (size_t i = 0; i < n; i++) results[i] = rc;
        return rc;
    }

    for (size_t i = 0; i < n; i++) {
        if (results[i] != HRE_OK) {
            if (failed++ == 0) first = i;
        }
    }
    if (failed)
        return hre__fail(HRE_EVERIFY, "%zu of %zu transactions failed verification "
                                      "(first: index %zu, %s)",
                         failed, n, first, hre_strerror(results[first]));
    return HRE_OK;
}
