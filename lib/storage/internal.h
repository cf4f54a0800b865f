/*
 * Internal storage helpers (backends layer) used by the ledger: the handle
 * internals, the framed append-only record log, the atomic "temp + sync +
 * rename + dir sync" writer, and (HRE_TESTING builds only) the power-loss and
 * fault-injection backend. Never installed; names are hre_storage__*.
 *
 * Byte formats are normative in docs/PROTOCOL.md section 6.
 */
#ifndef HRE_STORAGE_INTERNAL_H
#define HRE_STORAGE_INTERNAL_H

#include "core/internal.h"
#include "hre/sys/storage.h"

/* ------------------------------------------------------------------------ */
/* Handle internals                                                          */
/* ------------------------------------------------------------------------ */

struct hre_storage {
    hre_storage_methods m;       /* copy; fields of newer versions are NULL */
    void *self;                  /* backend user_data */
    int builtin;                 /* 1: backend records its own detail messages */
    struct hre_storage_file *files; /* open files (closed by hre_storage_free) */
};

struct hre_storage_file {
    hre_storage *st;
    void *h;                     /* backend handle */
    unsigned int flags;
    struct hre_storage_file *prev, *next;
    char name[HRE_STORAGE_NAME_MAX + 1];
};

/* Wrap a built-in backend (sets builtin = 1). On failure destroy(self) is
 * called if set, so the caller never leaks self. */
int hre_storage__new_builtin(hre_storage **out, const hre_storage_methods *m, void *self);

/* Read exactly len bytes at offset; a short read is HRE_ECORRUPT ("file
 * shorter than expected"); buf is zeroed on failure. */
int hre_storage__read_exact(hre_storage_file *f, uint64_t offset, void *buf, size_t len);

/* Read a whole file into a new buffer (hre__free it). A file larger than max
 * gives HRE_ELIMIT. Missing: HRE_ENOTFOUND. *out = NULL, *len = 0 on failure.
 * An empty file gives a non-NULL 1-byte allocation and *len = 0. */
int hre_storage__read_all(hre_storage *s, const char *name, size_t max, uint8_t **out,
                          size_t *len);

/* Name of an open file (for detail messages). */
const char *hre_storage__file_name(const hre_storage_file *f);

/* CRC-32 as zlib's crc32() (reflected poly 0xEDB88320, init/xorout 0xFFFFFFFF):
 * continue crc over len bytes. Start with crc = 0. */
uint32_t hre_storage__crc32(uint32_t crc, const void *data, size_t len);

/* ------------------------------------------------------------------------ */
/* Framed record log                                                         */
/* ------------------------------------------------------------------------ */
/*
 * Record frame (all little-endian), HRE_STORAGE__REC_HDR = 16 bytes + payload:
 *   0  u32 len    payload length L (<= the log's max_payload)
 *   4  u32 crc    CRC-32 of bytes [0,4) ++ [8, 16 + L) (len, batch, payload)
 *   8  u64 batch  offset where this record's write batch starts: the file size
 *                 at the writer's last successful sync. So batch == the
 *                 record's own offset (first record after a sync) or
 *                 batch == the previous record's batch.
 *  16  payload
 * The batch field lets recovery tell a torn tail (damage in the last,
 * unsynced batch: cut off) from damage to synced data (a later record proves
 * a sync happened past the damage: HRE_ECORRUPT). See PROTOCOL.md 6.3.
 */
#define HRE_STORAGE__REC_HDR 16u
/* Default and absolute cap on a payload (64 MiB). */
#define HRE_STORAGE__REC_MAX (64u * 1024u * 1024u)

typedef struct hre_storage__record {
    uint32_t len;                /* payload length */
    uint32_t crc;                /* stored CRC (verified) */
    uint64_t batch;              /* batch start offset */
    const uint8_t *payload;      /* points into the decoded buffer */
} hre_storage__record;

/* Encode the 16-byte header for payload[0..len) with the given batch. */
void hre_storage__record_header(uint8_t hdr[HRE_STORAGE__REC_HDR], const void *payload,
                                uint32_t len, uint64_t batch);

/* Decode one frame at the start of buf[0..len). The frame occupies
 * HRE_STORAGE__REC_HDR + rec->len bytes; trailing bytes are allowed (they are
 * the next record).
 * Returns: HRE_OK; HRE_EDECODE if buf is shorter than the frame (incomplete);
 *          HRE_ELIMIT if the length exceeds max_payload; HRE_ECORRUPT on a
 *          CRC mismatch. rec is zeroed on failure. No detail message is set
 *          (this runs in hot scan loops); callers set their own. */
int hre_storage__record_decode(hre_storage__record *rec, const uint8_t *buf, size_t len,
                               uint32_t max_payload);

/* Called once per valid record, in file order. payload is valid only during
 * the call. Return 0 to continue; a non-zero value stops the scan, which then
 * returns that value. */
typedef int (*hre_storage__record_cb)(void *arg, uint64_t offset, const uint8_t *payload,
                                      size_t len);

typedef struct hre_storage__scan_info {
    uint64_t records;            /* valid records delivered */
    uint64_t valid_end;          /* offset just past the last valid record */
    uint64_t size;               /* size of the scanned data */
    uint64_t damage_at;          /* first damaged byte (== valid_end) if any damage */
    uint64_t proof_at;           /* HRE_ECORRUPT: offset of the later synced record */
    int torn_tail;               /* 1: [valid_end, size) is a torn tail to cut off */
} hre_storage__scan_info;

/* Scan a log image in memory: deliver every valid record from offset 0, then
 * classify what follows the last valid record.
 * Returns: HRE_OK (info->torn_tail says whether a tail must be cut);
 *          HRE_ECORRUPT for damage followed by a record of a later synced
 *          batch, or a CRC-valid record that breaks the batch rule;
 *          HRE_ELIMIT for a whole, CRC-valid record longer than max_payload
 *          (damage_at = its offset; never treated as a torn tail);
 *          the callback's non-zero value. info may be NULL.
 * Cost: linear in the size; after damage, one header check per byte offset
 * (CRC work capped at 2 x size + 64 MiB, beyond which the damage is
 * reported as HRE_ECORRUPT). */
int hre_storage__log_scan_buf(const uint8_t *buf, size_t len, uint32_t max_payload,
                              hre_storage__record_cb cb, void *arg,
                              hre_storage__scan_info *info);

/* The same over an open file (read in windows; payloads above the window are
 * read into a temporary buffer). Also HRE_EIO / HRE_ENOMEM from reading. */
int hre_storage__log_scan(hre_storage_file *f, uint32_t max_payload,
                          hre_storage__record_cb cb, void *arg,
                          hre_storage__scan_info *info);

/* Read the record at offset of an open file into buf (capacity cap).
 * Out: *len = payload length (also when HRE_EBUFSIZE).
 * Returns: HRE_OK; HRE_EBUFSIZE; HRE_ECORRUPT (bad frame, CRC, over
 *          max_payload, or past the end); HRE_EIO. */
int hre_storage__record_read(hre_storage_file *f, uint64_t offset, uint32_t max_payload,
                             uint8_t *buf, size_t cap, size_t *len);

/* A log file opened for appending (or read-only). */
typedef struct hre_storage__log hre_storage__log;

#define HRE_STORAGE__LOG_CREATE   0x01u /* create the file if missing (+ sync_dir) */
#define HRE_STORAGE__LOG_READONLY 0x02u /* never write: a torn tail is reported, not cut */

/* Open `name`, scan it (cb may be NULL) and, unless READONLY, cut off a torn
 * tail (truncate + sync). A writable log syncs the file before scanning, so
 * the batch of the next record (= the size) never claims unsynced bytes.
 * Out: *out (NULL on failure); info (may be NULL) as for the scan.
 * Returns: HRE_OK; HRE_ENOTFOUND (missing, no CREATE); HRE_ECORRUPT or
 *          HRE_ELIMIT from the scan (the log is not opened, nothing is cut); HRE_EIO; HRE_ENOSPC; HRE_ENOMEM; HRE_EINVAL; the
 *          callback's non-zero value. */
int hre_storage__log_open(hre_storage__log **out, hre_storage *s, const char *name,
                          unsigned int flags, uint32_t max_payload,
                          hre_storage__record_cb cb, void *arg,
                          hre_storage__scan_info *info);

/* Append one record (not yet durable: call hre_storage__log_sync).
 * Out: *offset (may be NULL): the record's offset (for hre_storage__log_read).
 * Returns: HRE_OK; HRE_ELIMIT (len > max_payload); HRE_ESTATE (read-only, or
 *          broken by an earlier failure that could not be rolled back);
 *          HRE_EIO; HRE_ENOSPC; HRE_ENOMEM. On failure the log truncates the
 *          partial record away; if that fails too the log becomes broken. */
int hre_storage__log_append(hre_storage__log *log, const void *payload, size_t len,
                            uint64_t *offset);

/* Make every appended record durable (group commit: append many, sync once).
 * A failed sync breaks the log (HRE_ESTATE afterwards): reopen it.
 * Returns: HRE_OK; HRE_ESTATE; HRE_EIO; HRE_ENOSPC. */
int hre_storage__log_sync(hre_storage__log *log);

/* Read the record at offset (as hre_storage__record_read, bounded by the
 * log's end). */
int hre_storage__log_read(hre_storage__log *log, uint64_t offset, uint8_t *buf, size_t cap,
                          size_t *len);

/* Current end offset (size including unsynced records) and durable end. */
uint64_t hre_storage__log_end(const hre_storage__log *log);
uint64_t hre_storage__log_synced(const hre_storage__log *log);
/* The underlying file (borrowed). */
hre_storage_file *hre_storage__log_file(hre_storage__log *log);

/* Close (does not sync). NULL is fine. Returns the close result. */
int hre_storage__log_close(hre_storage__log *log);

/* ------------------------------------------------------------------------ */
/* Atomic whole-file writes (snapshots)                                      */
/* ------------------------------------------------------------------------ */
/*
 * Protocol: write "<name>.tmp" (created or truncated), sync it, close it,
 * rename it over <name>, sync_dir. After a power loss <name> is either the old
 * file (or absent) or the complete new one. Stale "*.tmp" files are left only
 * by an interrupted write; hre_storage__remove_temps deletes them.
 */
#define HRE_STORAGE__TMP_SUFFIX ".tmp"
/* Longest name an atomic write accepts (room for the suffix). */
#define HRE_STORAGE__ATOMIC_NAME_MAX (HRE_STORAGE_NAME_MAX - 4)

typedef struct hre_storage__atomic hre_storage__atomic;

/* Start writing name atomically. Returns HRE_OK; HRE_EINVAL (bad or too
 * long name, or a name ending in ".tmp"); HRE_EIO; HRE_ENOSPC; HRE_ENOMEM. */
int hre_storage__atomic_begin(hre_storage__atomic **out, hre_storage *s, const char *name);
/* Append bytes to the temp file. After a failure the writer only accepts
 * abort (commit returns HRE_ESTATE). */
int hre_storage__atomic_write(hre_storage__atomic *w, const void *data, size_t len);
/* sync + close + rename + sync_dir. Frees w in every case; on failure removes
 * the temp file (best effort) and the old file stays in place. */
int hre_storage__atomic_commit(hre_storage__atomic *w);
/* Drop the temp file and free w. NULL is fine. */
void hre_storage__atomic_abort(hre_storage__atomic *w);

/* begin + write + commit. */
int hre_storage__write_file_atomic(hre_storage *s, const char *name, const void *data,
                                   size_t len);

/* Remove every file whose name ends in ".tmp", then sync_dir.
 * Out: *removed (may be NULL). Returns HRE_OK or the first error. */
int hre_storage__remove_temps(hre_storage *s, size_t *removed);

/* ------------------------------------------------------------------------ */
/* Power-loss and fault-injection backend (test builds only)                 */
/* ------------------------------------------------------------------------ */
/*
 * Why internal and not exported: it is a test instrument (it keeps a full
 * copy of the durable image of every file in memory), its knobs will change
 * with the tests, and a hospital's production library should not carry it
 * in its frozen 1.0 ABI. It is compiled only into the static test library
 * (HRE_TESTING); the white-box suites (storage, ledger) and fuzzers use it.
 *
 * It wraps another storage (borrowed, e.g. a memory storage) and passes every
 * call through, so the inner storage always holds the "page cache" view. It
 * also models what is durable:
 *   - per file: the content as of its last sync, plus the writes and
 *     truncates issued since (each data copied);
 *   - the namespace as of the last sync_dir, plus the creates, renames and
 *     removes issued since, in order.
 * When power is lost (at the crash_at_sync-th call of sync or sync_dir,
 * before it takes effect; at the crash_at_call-th call of any kind; or on
 * hre_storage__powerloss_crash) it computes the post-crash state, rewrites the
 * inner storage to exactly that state (every file synced, dir synced), and
 * from then on every call fails with HRE_EIO (close still releases). The
 * caller then frees this storage and reopens its data on the inner one.
 *
 * Post-crash state by mode:
 *   HRE_STORAGE__PL_DROP: only durable state survives: unsynced writes and
 *     truncates are lost, and so are all namespace changes since the last
 *     sync_dir.
 *   HRE_STORAGE__PL_TEAR: each unsynced write is, at random, lost, kept, or
 *     torn (a random prefix is kept and, half the time, one sector of the
 *     write's range is garbled with random bytes or zeros; the file grows to
 *     cover the garbled sector). Each unsynced truncate is kept or lost. A
 *     random prefix of the unsynced namespace changes survives. Bytes outside
 *     an unsynced write's range are never changed (power-safe overwrite).
 *   HRE_STORAGE__PL_KEEP: everything survives (a process kill, not a power
 *     loss).
 *
 * Fault injection: the calls fail_at_call .. fail_at_call + fail_count - 1
 * (1-based, counting every method call including close) fail with fail_code
 * (HRE_EIO or HRE_ENOSPC) without doing anything -- except that with
 * fail_partial a failing append or write first writes a random prefix of its
 * data (unsynced), like a disk filling up mid-write. A failing close still
 * releases the handle.
 */
#ifdef HRE_TESTING

#define HRE_STORAGE__PL_DROP 0
#define HRE_STORAGE__PL_TEAR 1
#define HRE_STORAGE__PL_KEEP 2

typedef struct hre_storage__pl_options {
    uint64_t crash_at_sync;      /* 1-based count of sync + sync_dir calls; 0 = never */
    uint64_t crash_at_call;      /* 1-based count of all calls; 0 = never */
    uint64_t seed;               /* for TEAR decisions and partial writes */
    int mode;                    /* HRE_STORAGE__PL_* */
    uint64_t fail_at_call;       /* 1-based; 0 = no fault injection */
    uint64_t fail_count;         /* consecutive failing calls; 0 means 1 */
    int fail_code;               /* HRE_EIO (default when 0) or HRE_ENOSPC */
    int fail_partial;            /* failing append/write writes a random prefix */
    uint32_t sector_size;        /* tear granularity; 0 = 512 */
} hre_storage__pl_options;

/* Wrap inner (borrowed: must outlive the returned storage; nothing else may
 * modify it meanwhile). Loads every existing inner file as durable.
 * opts may be NULL (no crash, no faults). */
int hre_storage__powerloss_new(hre_storage **out, hre_storage *inner,
                               const hre_storage__pl_options *opts);
/* Lose power now. Returns HRE_OK if the inner storage was rewritten, else the
 * inner error; HRE_EINVAL if pl is not a power-loss storage; HRE_ESTATE if
 * the power is already off. */
int hre_storage__powerloss_crash(hre_storage *pl);
/* 0 while the power is on; 1 once it is off and the inner storage holds the
 * post-crash state; a negative code if rewriting the inner storage failed. */
int hre_storage__powerloss_crashed(const hre_storage *pl);
/* Calls seen so far (all methods), sync + sync_dir calls seen, injected
 * failures so far. 0 for a storage that is not a power-loss one. */
uint64_t hre_storage__powerloss_calls(const hre_storage *pl);
uint64_t hre_storage__powerloss_syncs(const hre_storage *pl);
uint64_t hre_storage__powerloss_failures(const hre_storage *pl);

#endif /* HRE_TESTING */

#endif /* HRE_STORAGE_INTERNAL_H */
