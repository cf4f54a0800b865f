/*
 * libhre -- Healthcare Records Exchange ledger library.
 * sys/powerloss.h: a power-loss and fault-injection storage for crash
 * testing, after SQLite's crash-test VFS (src/test6.c). A test-support
 * header in the implementer tier: production code never needs it.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 *
 * ------------------------------------------------------------------------
 * What it is
 * ------------------------------------------------------------------------
 * hre_powerloss_new wraps another storage handle -- the "inner" storage,
 * which may be any storage: the memory or POSIX backend, or the host's own
 * backend made with hre_storage_new_custom (<hre/sys/storage.h>). Every call
 * passes through to the inner storage, so it always holds the "page cache"
 * view, while the wrapper models what is durable:
 *   - per file: its content as of its last sync, plus the writes and
 *     truncates issued since (each one's data is copied);
 *   - the namespace as of the last sync_dir, plus the creates, renames and
 *     removes issued since, in order.
 * Files already in the inner storage when the wrapper is created count as
 * durable. The model keeps a full copy of every file's durable content in
 * memory, so it suits test data sets, not production volumes.
 *
 * ------------------------------------------------------------------------
 * A crash
 * ------------------------------------------------------------------------
 * Power is lost at the crash_at_sync-th call of sync or sync_dir (before it
 * takes effect), at the crash_at_call-th call of any method, or when the
 * host calls hre_powerloss_crash. The wrapper then computes the post-crash
 * state, REWRITES the inner storage to exactly that state (it removes every
 * inner file and writes the surviving ones back, each synced, then syncs the
 * directory), and from then on every call fails with HRE_EIO (closing a
 * file still releases it). The test then frees the wrapper and reopens its
 * data (e.g. hre_ledger_open) on the inner storage, which must recover.
 *
 * What survives, by mode:
 *   HRE_POWERLOSS_DROP: only durable state: unsynced writes and truncates
 *     are lost, and so are all namespace changes since the last sync_dir.
 *   HRE_POWERLOSS_TEAR: each unsynced write is, at random (from `seed`),
 *     lost, kept, or torn: a random prefix is kept and, half the time, one
 *     sector (sector_size bytes) of the write's range is garbled with random
 *     bytes or zeros, the file growing to cover it. Each unsynced truncate
 *     is kept or lost. A random prefix of the unsynced namespace changes
 *     survives. Bytes outside an unsynced write's range never change
 *     (power-safe overwrite, the durability model of <hre/sys/storage.h>).
 *   HRE_POWERLOSS_KEEP: everything survives (a process kill, not a power
 *     loss).
 * So the model, not the inner backend, decides what a crash leaves behind:
 * wrapping the host's own backend tests that the library (and the host's
 * use of it) recovers on that backend from every crash the durability model
 * allows, and exercises the backend's calls and the full rewrite; it does
 * not observe the backend's own behaviour under a real power cut.
 *
 * ------------------------------------------------------------------------
 * Fault injection
 * ------------------------------------------------------------------------
 * The calls fail_at_call .. fail_at_call + fail_count - 1 (1-based, counting
 * every method call, close included) fail with fail_code (HRE_EIO or
 * HRE_ENOSPC) without doing anything -- except that with fail_partial a
 * failing append or write first writes a random prefix of its data
 * (unsynced), like a disk filling up mid-write. A failing close still
 * releases the file. The storage stays powered: later calls work again.
 *
 * Threads: as any storage handle, one thread at a time.
 */
#ifndef HRE_SYS_POWERLOSS_H
#define HRE_SYS_POWERLOSS_H

#include "../common.h"
#include "../storage.h"

HRE_BEGIN_DECLS

/** @{ */
/** Crash models (hre_powerloss_options.mode).  Since: 1.0 */
#define HRE_POWERLOSS_DROP 0
#define HRE_POWERLOSS_TEAR 1
#define HRE_POWERLOSS_KEEP 2
/** @} */

/** Newest version of hre_powerloss_options this header declares (its .version field). */
#define HRE_POWERLOSS_OPTIONS_VERSION 1

/** When to lose power and which faults to inject. Start from
 *  HRE_POWERLOSS_OPTIONS_INIT or hre_powerloss_options_init (all zero: no
 *  crash, no faults, mode DROP).  Since: 1.0 */
typedef struct hre_powerloss_options {
    unsigned int version;        /* HRE_POWERLOSS_OPTIONS_VERSION */
    int mode;                    /* HRE_POWERLOSS_DROP, _TEAR or _KEEP */
    uint64_t crash_at_sync;      /* 1-based count of sync + sync_dir calls; 0 = never */
    uint64_t crash_at_call;      /* 1-based count of all method calls; 0 = never */
    uint64_t seed;               /* for TEAR decisions and partial writes */
    uint64_t fail_at_call;       /* 1-based; 0 = no fault injection */
    uint64_t fail_count;         /* consecutive failing calls; 0 means 1 */
    int fail_code;               /* HRE_EIO (also when 0) or HRE_ENOSPC */
    int fail_partial;            /* nonzero: a failing append / write writes a random prefix */
    uint32_t sector_size;        /* tear granularity in bytes; 0 = 512 */
} hre_powerloss_options;

/** Static initializer for hre_powerloss_options: HRE_POWERLOSS_OPTIONS_VERSION, every other field at its default. */
#define HRE_POWERLOSS_OPTIONS_INIT \
    { HRE_POWERLOSS_OPTIONS_VERSION, HRE_POWERLOSS_DROP, 0, 0, 0, 0, 0, 0, 0, 0 }

/** Initialise opts to the defaults of `version` (every field zero).
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (unknown version).
 *  Since: 1.0 */
HRE_API int hre_powerloss_options_init(hre_powerloss_options *opts, unsigned int version);

/** Wrap inner in a power-loss storage. Reads every file of inner (its
 *  content becomes the durable state).
 *  Out: *out: the new storage, free with hre_storage_free (NULL on failure);
 *       use it wherever a storage is taken (hre_ledger_options.storage).
 *  In/Out: inner: borrowed; must outlive *out, and nothing else may modify
 *          it meanwhile; rewritten at a crash (see the file comment).
 *  In:  opts: copied; NULL for no crash and no faults.
 *  Returns: HRE_OK; HRE_EINVAL (NULL, unknown mode, fail_code other than
 *           EIO/ENOSPC); HRE_EUNSUPPORTED (opts version); HRE_ENOMEM; or the
 *           error of reading inner.
 *  Since: 1.0 */
HRE_API int hre_powerloss_new(hre_storage **out, hre_storage *inner,
                              const hre_powerloss_options *opts);

/** Lose power now (as a crash point would).
 *  Args: pl: a power-loss storage (self).
 *  Returns: HRE_OK (the inner storage holds the post-crash state);
 *           HRE_EINVAL (not a power-loss storage); HRE_ESTATE (the power is
 *           already off); or the inner storage's error while rewriting it.
 *  Since: 1.0 */
HRE_API int hre_powerloss_crash(hre_storage *pl);

/** Newest version of hre_powerloss_stats this header declares (its .version field). */
#define HRE_POWERLOSS_STATS_VERSION 1

/** What a power-loss storage has seen (a versioned query result).
 *  Since: 1.0 */
typedef struct hre_powerloss_stats {
    unsigned int version;        /* in: HRE_POWERLOSS_STATS_VERSION */
    int crashed;                 /* 1 once the power is off, else 0 */
    int crash_rc;                /* HRE_OK, or the error rewriting the inner storage */
    uint64_t calls;              /* method calls so far (all methods) */
    uint64_t syncs;              /* sync + sync_dir calls so far */
    uint64_t failures;           /* injected failures so far */
} hre_powerloss_stats;

/** Static initializer for hre_powerloss_stats: HRE_POWERLOSS_STATS_VERSION, every other field at its default. */
#define HRE_POWERLOSS_STATS_INIT { HRE_POWERLOSS_STATS_VERSION, 0, 0, 0, 0, 0 }

/** Initialise a stats struct for `version` (fields zero).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.0 */
HRE_API int hre_powerloss_stats_init(hre_powerloss_stats *out, unsigned int version);

/** Counters and power state.
 *  Args: pl (self). Out: *out, in the version out->version names.
 *  Returns: HRE_OK; HRE_EINVAL (NULL, or not a power-loss storage);
 *           HRE_EUNSUPPORTED (out->version).
 *  Since: 1.0 */
HRE_API int hre_powerloss_stats_get(const hre_storage *pl, hre_powerloss_stats *out);

HRE_END_DECLS

#endif /* HRE_SYS_POWERLOSS_H */
