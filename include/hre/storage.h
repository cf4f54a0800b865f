/*
 * libhre -- Healthcare Records Exchange ledger library.
 * storage.h: what a caller needs to give the ledger a disk -- the storage
 * handle, the built-in POSIX-directory and memory backends, and
 * hre_storage_free. Hosts that bring their own backend (the methods table,
 * hre_storage_new_custom) or drive files themselves include
 * <hre/sys/storage.h>, the implementer tier, as libgit2's sys/ headers.
 *
 * Thread safety: a storage handle and the files opened from it are used by
 * one thread at a time (the ledger serialises its calls); distinct handles
 * are independent.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef HRE_STORAGE_H
#define HRE_STORAGE_H

#include "common.h"

HRE_BEGIN_DECLS

/** Opaque storage handle (a methods table plus its self pointer).  Since: 1.0 */
typedef struct hre_storage hre_storage;

/** Free a storage handle: closes any file still open (their handles become
 *  invalid), then calls the backend's destroy. NULL is fine. A memory
 *  storage loses its content.
 *  Thread safety: not while another thread uses the handle or its files.
 *  Since: 1.0 */
HRE_API void hre_storage_free(hre_storage *storage);

/* ------------------------------------------------------------------------ */
/* Built-in backends                                                         */
/* ------------------------------------------------------------------------ */

/** Newest version of hre_storage_posix_options this header declares. */
#define HRE_STORAGE_POSIX_OPTIONS_VERSION 1

/* hre_storage_posix_options.flags. Since: 1.0 */
/** Use fsync() instead of fdatasync() for sync (also flushes metadata such as
 * mtime; slower). */
#define HRE_STORAGE_POSIX_FULLSYNC 0x01u
/** Skip every fsync/fdatasync (file and directory). NOT crash-safe: for tests
 * and benchmarks on scratch data only. */
#define HRE_STORAGE_POSIX_NOSYNC   0x02u
/** Do not take the exclusive advisory lock (flock) on the directory. By
 * default a second handle on the same directory, from this or another
 * process, fails with HRE_ESTATE. */
#define HRE_STORAGE_POSIX_NOLOCK   0x04u

/** Options for the POSIX backend, versioned.  Since: 1.0 */
typedef struct hre_storage_posix_options {
    unsigned int version;    /* HRE_STORAGE_POSIX_OPTIONS_VERSION */
    unsigned int flags;      /* HRE_STORAGE_POSIX_* bits; 0 = crash-safe default */
    unsigned int dir_mode;   /* mode for a created directory; 0 = 0700 */
    unsigned int file_mode;  /* mode for created files; 0 = 0600 */
} hre_storage_posix_options;

/** Static initializer for hre_storage_posix_options (the defaults).  Since: 1.0 */
#define HRE_STORAGE_POSIX_OPTIONS_INIT { HRE_STORAGE_POSIX_OPTIONS_VERSION, 0, 0, 0 }

/** Initialise POSIX options to the defaults of `version` (the fields it
 *  declares are zeroed; nothing past them is written). hre_storage_posix_open
 *  accepts every known version.
 *  Returns: HRE_OK; HRE_EINVAL if opts is NULL; HRE_EUNSUPPORTED for an
 *           unknown version (opts is not written).
 *  Since: 1.0 */
HRE_API int hre_storage_posix_options_init(hre_storage_posix_options *opts,
                                           unsigned int version);

/** Open (and create if missing, including missing parents) the directory
 *  `dir` as a storage: each file is a regular file `dir/<name>`. sync uses
 *  fdatasync (fsync with HRE_STORAGE_POSIX_FULLSYNC); create, rename and
 *  remove fsync the directory before returning, so namespace changes are
 *  durable at once (sync_dir fsyncs it again). Entries whose names are not
 *  valid storage names, and non-regular files, are ignored by list.
 *  Out: *out: new handle, free with hre_storage_free (NULL on failure).
 *  In:  dir: path of the directory. opts: NULL for the defaults.
 *  Returns: HRE_OK; HRE_EINVAL (NULL or empty dir, bad flags);
 *           HRE_EUNSUPPORTED (opts version); HRE_ESTATE (directory locked by
 *           another handle); HRE_ENOTFOUND / HRE_EIO / HRE_ENOSPC (the
 *           directory could not be created or opened); HRE_ENOMEM.
 *  Thread safety: safe from any thread; see the file comment for the handle.
 *  Since: 1.0 */
HRE_API int hre_storage_posix_open(hre_storage **out, const char *dir,
                                   const hre_storage_posix_options *opts);

/** Create an empty in-memory storage (a RAM disk; everything is durable at
 *  once and lost on hre_storage_free). Removed files that are still open
 *  stay readable through their handles (POSIX unlink semantics).
 *  Out: *out: new handle, free with hre_storage_free.
 *  In:  max_bytes: total size limit of all files (writes past it fail with
 *       HRE_ENOSPC); 0 means no limit other than 1 GiB per file.
 *  Returns: HRE_OK; HRE_EINVAL (out NULL); HRE_ENOMEM.
 *  Since: 1.0 */
HRE_API int hre_storage_memory_new(hre_storage **out, uint64_t max_bytes);

HRE_END_DECLS

#endif /* HRE_STORAGE_H */
