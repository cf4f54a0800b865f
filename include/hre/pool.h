/*
 * libhre worker pool (layer 0): threads the host creates once, sizes itself
 * and hands to the handles that can use them (hre_tx_verify_batch, the
 * contract's snapshot load, the ledger). The library never starts a thread
 * of its own outside a pool, except where a call documents otherwise.
 *
 * A pool runs parallel loops: the calling thread always takes part, and the
 * items are handed out one at a time from an atomic counter, so slow and
 * fast items balance. A pool with 0 threads is valid and means "the caller's
 * thread does everything" (single-threaded hosts); so does a NULL pool
 * wherever a call accepts one.
 *
 * Thread safety: one pool may be shared by several handles and used by
 * several threads at once (their loops queue up, first come first served;
 * each caller still works on its own loop, so no call waits on another's).
 * hre_pool_free must not run while any call is using the pool.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef HRE_POOL_H
#define HRE_POOL_H

#include "common.h"

HRE_BEGIN_DECLS

/** Largest thread count hre_pool_new accepts.  Since: 1.0 */
#define HRE_POOL_MAX_THREADS 256u

/** A pool of worker threads. Opaque handle.  Since: 1.0 */
typedef struct hre_pool hre_pool;

/** Create a pool and start its worker threads.
 *  Out: *out: new pool owned by the caller, free with hre_pool_free (NULL on
 *       failure).
 *  In:  threads: worker threads to start, 0..HRE_POOL_MAX_THREADS. 0 starts
 *       none: every loop then runs on the calling thread. The caller's
 *       thread is not counted: a loop on a pool of N threads runs on up to
 *       N + 1 threads.
 *  Returns: HRE_OK; HRE_EINVAL (NULL out, threads over the maximum);
 *           HRE_ENOMEM (out of memory, or a thread could not be started:
 *           none is left running).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_pool_new(hre_pool **out, unsigned int threads);

/** Stop the worker threads (each finishes the item it is working on; no
 *  loop may be running) and free the pool. NULL is fine.
 *  Thread safety: not while any call uses the pool.
 *  Since: 1.0 */
HRE_API void hre_pool_free(hre_pool *pool);

/** Number of worker threads of the pool (0 for a NULL pool).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API unsigned int hre_pool_threads(const hre_pool *pool);

HRE_END_DECLS

#endif /* HRE_POOL_H */
