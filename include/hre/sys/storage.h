/*
 * libhre -- Healthcare Records Exchange ledger library.
 * sys/storage.h: the storage vtable ("the disk") for backend implementers,
 * in the style of SQLite's VFS and libgit2's sys/ backends, and the calls
 * the library (and a host testing its own backend) uses to drive any
 * backend. What a caller needs to open a ledger -- the handle type, the
 * built-in POSIX-directory and memory backends, hre_storage_free -- is in
 * <hre/storage.h>, which this header includes. See also <hre/sys/powerloss.h>
 * to crash-test a backend.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 *
 * ------------------------------------------------------------------------
 * Object model
 * ------------------------------------------------------------------------
 * - hre_storage_methods: a versioned table of function pointers that a host
 *   fills in to bring its own disk. Every method receives the host's
 *   `void *self` (the user_data given to hre_storage_new_custom) first. Files
 *   are backend-defined `void *` handles.
 * - hre_storage: an opaque handle wrapping a methods table and its self
 *   pointer. Built by hre_storage_new_custom (host backend),
 *   hre_storage_posix_open or hre_storage_memory_new; released with
 *   hre_storage_free. The ledger takes a borrowed hre_storage *.
 * - hre_storage_file: an opaque handle for one open file, created by
 *   hre_storage_file_open and released by hre_storage_file_close.
 *
 * The library validates every argument (names, flags, ranges, versions)
 * before calling a backend method, so a backend only ever sees valid input
 * as described in each method's contract below.
 *
 * ------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------
 * Storage is one flat namespace of files (no directories). A valid name is
 * 1 to HRE_STORAGE_NAME_MAX bytes from [A-Za-z0-9._-], does not start with
 * '.', and does not contain "..". So a name never contains '/', '\\', NUL or
 * a path component like "." or "..", and a backend can map it to a path or a
 * key without escaping. The library itself only uses lowercase names and
 * never uses two names that differ only in case, so case-insensitive backends
 * work.
 *
 * ------------------------------------------------------------------------
 * Durability model (what the library relies on)
 * ------------------------------------------------------------------------
 * - File contents: the bytes written by write/append and the size set by
 *   truncate or extended by writes become durable when sync on that file
 *   returns HRE_OK. Before that, a power loss may drop them, keep them, or
 *   keep them partially ("torn"), but a torn write never changes bytes
 *   outside the range that write covered (power-safe overwrite).
 * - Namespace: creating a file (open with HRE_STORAGE_CREATE when the file
 *   did not exist), rename and remove become durable no later than the next
 *   sync_dir that returns HRE_OK. Until then a power loss may undo a suffix
 *   of them (they persist in the order issued). A backend may make them
 *   durable earlier (the POSIX backend syncs the directory inside each call).
 * - rename is atomic: after a power loss the target name holds either its
 *   old file or the renamed one, never a mix or nothing (if it existed).
 * - A failed sync (any error) means the durable state of that file is
 *   unknown; the library stops writing to it and reopens (re-scans) it.
 *
 * ------------------------------------------------------------------------
 * Erasure (since 1.1)
 * ------------------------------------------------------------------------
 * The vault (vault.h) crypto-shreds erased documents: it overwrites a file
 * with zeros through write, syncs it, and only then removes it, and it
 * overwrites a file the same way before a rename replaces it. That destroys
 * the bytes on the medium only if the backend writes in place: a write to an
 * existing range must replace those bytes where they are stored, and remove
 * and rename must not keep the old content anywhere (no trash folder,
 * version history, snapshot or replica that outlives the call). A backend
 * that cannot promise this (copy-on-write or log-structured stores, cloud
 * object stores with versioning, SSD wear levelling beneath any of them)
 * should say so to its users: the vault's guarantee then rests on the
 * destruction of every wrap of the data key alone, and old ciphertext may
 * survive in such copies. The POSIX backend writes in place, so on ext4 and
 * xfs (without reflinked copies) the zeros reach the device; btrfs, ZFS and
 * SSD firmware may keep older blocks.
 *
 * ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------
 * Backend methods return HRE_OK or one of: HRE_EIO (any I/O failure),
 * HRE_ENOSPC (out of space or quota), HRE_ENOTFOUND (no such file),
 * HRE_EEXISTS (exclusive create of an existing file), HRE_ENOMEM, and, from
 * control only, HRE_EUNSUPPORTED. The library maps any other code a backend
 * returns to HRE_EIO. When a host backend fails, the library records a
 * thread-local detail message naming the method and file (hre_error_detail).
 *
 * ------------------------------------------------------------------------
 * Threads
 * ------------------------------------------------------------------------
 * An hre_storage handle and all files opened from it must be used by one
 * thread at a time (the caller serialises; the ledger does). Distinct handles
 * are independent. Host backends are called only from threads the caller
 * uses for these calls, and only while the handle is not being freed.
 */
#ifndef HRE_SYS_STORAGE_H
#define HRE_SYS_STORAGE_H

#include "../common.h"
#include "../storage.h"

HRE_BEGIN_DECLS

/** Current version of hre_storage_methods (the struct below is version 1).
 *  Since: 1.0 */
#define HRE_STORAGE_VERSION 1

/** Longest valid file name, in bytes, without the terminating NUL.
 *  Since: 1.0 */
#define HRE_STORAGE_NAME_MAX 64

/** Largest file size and offset + length the library ever passes to a
 *  backend: 2^63 - 1. Since: 1.0 */
#define HRE_STORAGE_SIZE_MAX ((uint64_t)0x7fffffffffffffffULL)

/* Open flags (bit set). At least one of READ and WRITE is required.
 * Since: 1.0 */
#define HRE_STORAGE_READ      0x01u /* the file may be read */
#define HRE_STORAGE_WRITE     0x02u /* the file may be written, appended, truncated */
#define HRE_STORAGE_CREATE    0x04u /* create the file if missing (needs WRITE) */
#define HRE_STORAGE_EXCLUSIVE 0x08u /* with CREATE: fail with HRE_EEXISTS if it exists */
#define HRE_STORAGE_TRUNCATE  0x10u /* set the size to 0 when opening (needs WRITE) */

/** @name control() operations
 * control() operations defined by the library. A backend answers the ones it
 * knows and returns HRE_EUNSUPPORTED for every other op. Hosts may define
 * private ops at or above HRE_STORAGE_CTL_USER. Since: 1.0 */
/** @{ */
/** arg: const char ** -- set to a static, NUL-terminated backend name
 * ("posix", "memory", ...). file: ignored. */
#define HRE_STORAGE_CTL_BACKEND_NAME 1
/** arg: uint32_t * -- the write granularity in bytes the backend tears at
 * (e.g. 512 or 4096). file: NULL or an open file. */
#define HRE_STORAGE_CTL_SECTOR_SIZE  2
/** arg: uint64_t * -- bytes used by all files (memory backend: exactly;
 * others may not support it). file: ignored. */
#define HRE_STORAGE_CTL_BYTES_USED   3
/** First op number free for host-private use. */
#define HRE_STORAGE_CTL_USER 0x10000
/** @} */

/** Callback for list(): called once per file name.
 *  Args: cb_arg: the caller's pointer. name: a valid name, NUL-terminated,
 *        valid only during the call.
 *  Returns: 0 to continue; any other value stops the listing, and list
 *           returns that value.
 *  Since: 1.0 */
typedef int (*hre_storage_list_cb)(void *cb_arg, const char *name);

/**
 * The storage vtable, version 1. Fill it in after hre_storage_methods_init
 * (or start from HRE_STORAGE_METHODS_INIT). Fields are only ever appended in
 * later versions; the library reads only the fields that exist in the version
 * the struct declares and rejects versions it does not know.
 *
 * Every method receives `self`, the user_data the host passed to
 * hre_storage_new_custom. "Required" methods must be non-NULL.
 *
 * Since: 1.0
 */
typedef struct hre_storage_methods {
    /** Must be HRE_STORAGE_VERSION (or an older version this library knows).
     *  Version 0 and versions newer than this library are rejected with
     *  HRE_EUNSUPPORTED. */
    unsigned int version;

    /** open (required): open the file `name` with `flags` (see
     *  HRE_STORAGE_READ...). On success store a backend handle in *file
     *  (any non-NULL or NULL value; the library passes it back unchanged).
     *  - Missing file without HRE_STORAGE_CREATE: HRE_ENOTFOUND.
     *  - HRE_STORAGE_CREATE | HRE_STORAGE_EXCLUSIVE on an existing file:
     *    HRE_EEXISTS.
     *  - HRE_STORAGE_TRUNCATE: the size becomes 0 (durable after sync).
     *  - A newly created file is empty; its creation follows the namespace
     *    durability rule (sync_dir).
     *  The library validates name and flags (CREATE, EXCLUSIVE and TRUNCATE
     *  always come with WRITE). The same name may be open several times; the
     *  library never has one file open twice for writing. */
    int (*open)(void *self, const char *name, unsigned int flags, void **file);

    /** close (required): release the handle. Must release it even when it
     *  returns an error; the library never uses the handle again. Does NOT
     *  imply sync. */
    int (*close)(void *self, void *file);

    /** read (required): read up to len (> 0) bytes at offset into buf and
     *  set *got to the number of bytes read. (Arguments in the order of
     *  hre_storage_file_read: self, file, outputs, then the offset.) The backend must return every
     *  byte that exists in [offset, offset+len): *got < len means, and only
     *  means, that the read reached the end of the file (*got == 0 when
     *  offset >= size). Bytes between a write past the old end and the old
     *  end read as zeros. The library zero-fills buf[*got..len) itself after
     *  the call (a short read is NOT an error). On error *got is ignored. */
    int (*read)(void *self, void *file, void *buf, size_t len, size_t *got,
                uint64_t offset);

    /** append (required): write len (> 0) bytes at the current end of the
     *  file and set *offset to where they start (the size before the call).
     *  (Arguments in the order of hre_storage_file_append.)
     *  All-or-error: on error the backend should leave the size unchanged;
     *  the library tolerates a partially written tail and never relies on
     *  its absence. Durable after sync. */
    int (*append)(void *self, void *file, uint64_t *offset, const void *data,
                  size_t len);

    /** write (required): write len (> 0) bytes at offset, extending the file
     *  if needed; a gap between the old end and offset reads as zeros.
     *  All-or-error, as append. Durable after sync. */
    int (*write)(void *self, void *file, uint64_t offset, const void *data,
                 size_t len);

    /** sync (required): make the file's content and size durable (fsync /
     *  fdatasync). After HRE_OK every earlier write, append and truncate on
     *  this file survives power loss. */
    int (*sync)(void *self, void *file);

    /** size (required): set *size to the current size in bytes (including
     *  writes not yet synced). */
    int (*size)(void *self, void *file, uint64_t *size);

    /** truncate (required): set the size to `size`, dropping bytes past it or
     *  extending with zeros. Durable after sync. */
    int (*truncate)(void *self, void *file, uint64_t size);

    /** rename (required): atomically give the file `from` the name `to`,
     *  replacing any existing `to` (atomic replace). `from` missing:
     *  HRE_ENOTFOUND. from == to never happens. The library never renames
     *  a file it holds open, nor onto one. Durable after sync_dir. */
    int (*rename)(void *self, const char *from, const char *to);

    /** remove (required): delete the file `name`. Missing: HRE_ENOTFOUND.
     *  The library never removes a file it holds open. Durable after
     *  sync_dir. */
    int (*remove)(void *self, const char *name);

    /** list (required): call cb(cb_arg, name) once for every file, in any
     *  order, and stop early when cb returns non-zero, returning that value.
     *  Only valid names should be reported; the library skips others. The
     *  callback never modifies the storage. Returns HRE_OK after a full
     *  listing. */
    int (*list)(void *self, hre_storage_list_cb cb, void *cb_arg);

    /** sync_dir (required): make every completed create, rename and remove
     *  durable (fsync of the directory). A backend whose namespace changes
     *  are always durable may simply return HRE_OK. */
    int (*sync_dir)(void *self);

    /** control (optional, may be NULL): backend-specific operations (see
     *  HRE_STORAGE_CTL_*). `file` is an open file handle or NULL for
     *  storage-wide ops. Unknown ops must return HRE_EUNSUPPORTED; a NULL
     *  control behaves as if every op were unknown. */
    int (*control)(void *self, void *file, int op, void *arg);

    /** destroy (optional, may be NULL): called once by hre_storage_free,
     *  after every file has been closed, to release `self`. */
    void (*destroy)(void *self);
} hre_storage_methods;

/** Static initializer: version HRE_STORAGE_VERSION, every method NULL.
 *  Since: 1.0 */
#define HRE_STORAGE_METHODS_INIT { HRE_STORAGE_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/** Opaque open-file handle.  Since: 1.0 */
typedef struct hre_storage_file hre_storage_file;

/** Initialise a methods table: zero every field `version` declares, then
 *  set version (nothing past that version's fields is written).
 *  Args: m: the table to fill (out). version: normally HRE_STORAGE_VERSION.
 *  Returns: HRE_OK; HRE_EINVAL if m is NULL; HRE_EUNSUPPORTED if version is
 *           0 or newer than this library (m is not written: its size for
 *           an unknown version is unknown).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_storage_methods_init(hre_storage_methods *m, unsigned int version);

/** Wrap a host backend in a storage handle.
 *  Out: *out: the new handle, owned by the caller, freed with
 *       hre_storage_free (NULL on failure).
 *  In:  methods: the vtable; copied, so it need not outlive the call.
 *       user_data: passed as `self` to every method; borrowed (the host keeps
 *       it alive until hre_storage_free, which calls methods->destroy if set).
 *  Returns: HRE_OK; HRE_EINVAL if out or methods is NULL or a required method
 *           is NULL; HRE_EUNSUPPORTED if methods->version is 0 or newer than
 *           HRE_STORAGE_VERSION; HRE_ENOMEM.
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_storage_new_custom(hre_storage **out, const hre_storage_methods *methods,
                                   void *user_data);


/* ------------------------------------------------------------------------ */
/* Calls on any storage (what the library uses; hosts may use them too)      */
/* ------------------------------------------------------------------------ */

/** Is `name` a valid storage file name (see "Names" above)?
 *  Returns: 1 if valid, 0 if not (including NULL).
 *  Since: 1.0 */
HRE_API int hre_storage_name_valid(const char *name) HRE_WARN_UNUSED_RESULT;

/** Open a file. See the open method for the semantics of flags.
 *  Out: *out: new file handle, closed with hre_storage_file_close (NULL on
 *       failure). Valid until closed or until the storage is freed.
 *  Returns: HRE_OK; HRE_EINVAL (bad name, NULL, unknown flag bits, neither
 *           READ nor WRITE, CREATE/EXCLUSIVE/TRUNCATE without WRITE, or
 *           EXCLUSIVE without CREATE); HRE_ENOTFOUND; HRE_EEXISTS; HRE_EIO;
 *           HRE_ENOSPC; HRE_ENOMEM.
 *  Since: 1.0 */
HRE_API int hre_storage_file_open(hre_storage_file **out, hre_storage *storage,
                                  const char *name, unsigned int flags);

/** Close a file and free its handle (always, even on error). NULL is fine.
 *  Does not sync.
 *  Returns: HRE_OK; HRE_EIO if the backend reported an error on close.
 *  Since: 1.0 */
HRE_API int hre_storage_file_close(hre_storage_file *file);

/** Read up to len bytes at offset.
 *  Out: buf: len bytes; bytes past the end of the file are zero-filled.
 *       *got: bytes actually read. *got < len exactly when the read reached
 *       the end of the file (a short read, not an error).
 *  Returns: HRE_OK (also for a short read); HRE_EINVAL (NULL, file not open
 *           for reading, offset + len over HRE_STORAGE_SIZE_MAX); HRE_EIO.
 *           On error buf is zeroed and *got = 0. len == 0 reads nothing.
 *  Since: 1.0 */
HRE_API int hre_storage_file_read(hre_storage_file *file, void *buf, size_t len,
                                  size_t *got, uint64_t offset);

/** Append len bytes at the end of the file.
 *  Out: *offset (may be NULL): where the bytes start.
 *  Returns: HRE_OK; HRE_EINVAL (NULL, not open for writing, size limit);
 *           HRE_EIO; HRE_ENOSPC. len == 0 appends nothing (*offset = size).
 *  Since: 1.0 */
HRE_API int hre_storage_file_append(hre_storage_file *file, uint64_t *offset, const void *data,
                                    size_t len);

/** Write len bytes at offset (a gap past the end reads as zeros).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EIO; HRE_ENOSPC.
 *  Since: 1.0 */
HRE_API int hre_storage_file_write(hre_storage_file *file, uint64_t offset,
                                   const void *data, size_t len);

/** Make the file's content and size durable.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EIO; HRE_ENOSPC.
 *  Since: 1.0 */
HRE_API int hre_storage_file_sync(hre_storage_file *file);

/** Current size in bytes.
 *  Out: *size (0 on failure).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EIO.
 *  Since: 1.0 */
HRE_API int hre_storage_file_size(hre_storage_file *file, uint64_t *size);

/** Shrink or zero-extend the file to size bytes.
 *  Returns: HRE_OK; HRE_EINVAL (NULL, not open for writing, size over
 *           HRE_STORAGE_SIZE_MAX); HRE_EIO; HRE_ENOSPC.
 *  Since: 1.0 */
HRE_API int hre_storage_file_truncate(hre_storage_file *file, uint64_t size);

/** Rename from -> to, atomically replacing `to`. Both names must be valid
 *  and different.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOTFOUND; HRE_EIO; HRE_ENOSPC.
 *  Since: 1.0 */
HRE_API int hre_storage_rename(hre_storage *storage, const char *from, const char *to);

/** Remove a file.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOTFOUND; HRE_EIO.
 *  Since: 1.0 */
HRE_API int hre_storage_remove(hre_storage *storage, const char *name);

/** Call cb once per file (valid names only, any order).
 *  Args: storage (self). In: cb, cb_arg (passed to cb).
 *  Returns: HRE_OK; the callback's non-zero value if it stopped the listing
 *           (use a positive value to tell a stop from a library error);
 *           HRE_EINVAL; HRE_EIO.
 *  Since: 1.0 */
HRE_API int hre_storage_list(hre_storage *storage, hre_storage_list_cb cb, void *cb_arg);

/** Make completed creates, renames and removes durable.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EIO.
 *  Since: 1.0 */
HRE_API int hre_storage_sync_dir(hre_storage *storage);

/** Backend-specific operation (HRE_STORAGE_CTL_*), the escape hatch of
 *  SQLite's xFileControl: whether arg is read or written depends on op, so
 *  it keeps the (storage, file, op, arg) order of that call rather than
 *  rule 2's outputs-first.
 *  Args: storage (self).
 *  In: file: an open file of this storage, or NULL for storage-wide ops;
 *      op: HRE_STORAGE_CTL_* or a host op >= HRE_STORAGE_CTL_USER.
 *  In/Out: arg: as op defines.
 *  Returns: HRE_OK; HRE_EUNSUPPORTED for an op the backend does not know;
 *           HRE_EINVAL (NULL storage, file of another storage); or the
 *           backend's error.
 *  Since: 1.0 */
HRE_API int hre_storage_control(hre_storage *storage, hre_storage_file *file, int op,
                                void *arg);

HRE_END_DECLS

#endif /* HRE_SYS_STORAGE_H */
