/*
 * The worker pool (include/hre/pool.h) and its internal parallel loop
 * (lib/core/internal.h: hre__pool_begin / hre__pool_join / hre__pool_for).
 *
 * A loop ("job") lives in the caller's memory. hre__pool_begin queues it;
 * idle workers take the oldest queued job and claim its items with an
 * atomic counter. hre__pool_join claims items on the calling thread too,
 * then unqueues the job and waits until no worker still holds it, so when
 * join returns every item has run and the job's memory may go.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "core/internal.h"
#include "hre/pool.h"

struct hre_pool {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;      /* workers: a job was queued, or shutdown */
    pthread_cond_t idle_cv;      /* joiners: a worker let go of a job */
    hre__pool_job *head, *tail;  /* queued jobs, oldest first */
    int shutdown;
    unsigned int nthreads;
    pthread_t *tids;
};

/* Run items of job until none is left. */
static void run_items(hre__pool_job *job)
{
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (i >= job->n) return;
        job->fn(job->arg, i);
    }
}

/* Take job off the queue (pool->mu held). */
static void unqueue(hre_pool *pool, hre__pool_job *job)
{
    hre__pool_job **pp;
    if (!job->queued) return;
    for (pp = &pool->head; *pp; pp = &(*pp)->link) {
        if (*pp == job) {
            *pp = job->link;
            break;
        }
    }
    if (pool->tail == job) {
        pool->tail = NULL;
        for (hre__pool_job *j = pool->head; j; j = j->link) pool->tail = j;
    }
    job->link = NULL;
    job->queued = 0;
}

static void *worker_main(void *arg)
{
    hre_pool *pool = arg;
    pthread_mutex_lock(&pool->mu);
    for (;;) {
        hre__pool_job *job;
        while (!pool->shutdown && !pool->head) pthread_cond_wait(&pool->work_cv, &pool->mu);
        if (pool->shutdown) break;
        job = pool->head;
        job->users++;
        pthread_mutex_unlock(&pool->mu);
        run_items(job);
        pthread_mutex_lock(&pool->mu);
        unqueue(pool, job);          /* exhausted: nobody else needs to find it */
        if (--job->users == 0) pthread_cond_broadcast(&pool->idle_cv);
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

static void stop_workers(hre_pool *pool, unsigned int started)
{
    pthread_mutex_lock(&pool->mu);
    pool->shutdown = 1;
    pthread_cond_broadcast(&pool->work_cv);
    pthread_mutex_unlock(&pool->mu);
    for (unsigned int i = 0; i < started; i++) (void)pthread_join(pool->tids[i], NULL);
}

HRE_API int hre_pool_new(hre_pool **out, unsigned int threads)
{
    HRE__API_SCOPE;
    hre_pool *pool;
    unsigned int started = 0;
    if (out) *out = NULL;
    HRE__CHECK_ARG(out != NULL);
    if (threads > HRE_POOL_MAX_THREADS)
        return hre__fail(HRE_EINVAL, "hre_pool_new: %u threads, at most %u", threads,
                         HRE_POOL_MAX_THREADS);
    pool = hre__calloc(1, sizeof *pool);
    if (!pool) return hre__fail(HRE_ENOMEM, "hre_pool_new: out of memory");
    if (threads) {
        pool->tids = hre__calloc(threads, sizeof *pool->tids);
        if (!pool->tids) {
            hre__free(pool);
            return hre__fail(HRE_ENOMEM, "hre_pool_new: out of memory");
        }
    }
    if (pthread_mutex_init(&pool->mu, NULL) != 0) goto nomutex;
    if (pthread_cond_init(&pool->work_cv, NULL) != 0) goto nowork;
    if (pthread_cond_init(&pool->idle_cv, NULL) != 0) goto noidle;
    while (started < threads && pthread_create(&pool->tids[started], NULL, worker_main, pool) == 0)
        started++;
    if (started < threads) {
        stop_workers(pool, started);
        pthread_cond_destroy(&pool->idle_cv);
        pthread_cond_destroy(&pool->work_cv);
        pthread_mutex_destroy(&pool->mu);
        hre__free(pool->tids);
        hre__free(pool);
        return hre__fail(HRE_ENOMEM, "hre_pool_new: could only start %u of %u threads", started,
                         threads);
    }
    pool->nthreads = threads;
    *out = pool;
    return hre__api_done(HRE_OK);
noidle:
    pthread_cond_destroy(&pool->work_cv);
nowork:
    pthread_mutex_destroy(&pool->mu);
nomutex:
    hre__free(pool->tids);
    hre__free(pool);
    return hre__fail(HRE_ENOMEM, "hre_pool_new: cannot create its lock");
}

HRE_API void hre_pool_free(hre_pool *pool)
{
    if (!pool) return;
    stop_workers(pool, pool->nthreads);
    pthread_cond_destroy(&pool->idle_cv);
    pthread_cond_destroy(&pool->work_cv);
    pthread_mutex_destroy(&pool->mu);
    hre__free(pool->tids);
    hre__free(pool);
}

HRE_API unsigned int hre_pool_threads(const hre_pool *pool)
{
    return pool ? pool->nthreads : 0;
}

void hre__pool_begin(hre_pool *pool, hre__pool_job *job, size_t n, hre__pool_fn fn, void *arg)
{
    job->fn = fn;
    job->arg = arg;
    job->n = n;
    atomic_init(&job->next, 0);
    job->users = 0;
    job->queued = 0;
    job->link = NULL;
    if (!pool || pool->nthreads == 0 || n == 0) return;
    pthread_mutex_lock(&pool->mu);
    job->queued = 1;
    if (pool->tail) pool->tail->link = job;
    else pool->head = job;
    pool->tail = job;
    pthread_cond_broadcast(&pool->work_cv);
    pthread_mutex_unlock(&pool->mu);
}

void hre__pool_join(hre_pool *pool, hre__pool_job *job)
{
    run_items(job);
    if (!pool || pool->nthreads == 0) return;
    pthread_mutex_lock(&pool->mu);
    unqueue(pool, job);
    while (job->users > 0) pthread_cond_wait(&pool->idle_cv, &pool->mu);
    pthread_mutex_unlock(&pool->mu);
}

void hre__pool_for(hre_pool *pool, size_t n, hre__pool_fn fn, void *arg)
{
    hre__pool_job job;
    hre__pool_begin(pool, &job, n, fn, arg);
    hre__pool_join(pool, &job);
}
