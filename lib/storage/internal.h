/*
 * Internal storage helpers (backends layer) used by the ledger: the handle
 * internals, the framed append-only record log and the atomic "temp + sync +
 * rename + dir sync" writer. Never installed; names are hre_storage__*.
 * (The power-loss backend's API is public: include/hre/sys/powerloss.h.)
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

/* The power-loss and fault-injection backend (lib/storage/powerloss.c) is
 * public: include/hre/sys/powerloss.h describes its model. */

#endif /* HRE_STORAGE_INTERNAL_H */
