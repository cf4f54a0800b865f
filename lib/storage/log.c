/*
 * The framed append-only record log (PROTOCOL.md 6.3): frame encoding and
 * decoding, the recovery scan that cuts a torn tail and reports damage to
 * synced data as HRE_ECORRUPT, and the appending log object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/internal.h"

#define HDR HRE_STORAGE__REC_HDR
/* Scan window for file sources. */
#define WIN ((size_t)64 * 1024)

/* CRC over the len and batch fields of a header. */
static uint32_t hdr_crc(const uint8_t *hdr)
{
    uint32_t crc = hre_storage__crc32(0, hdr, 4);
    return hre_storage__crc32(crc, hdr + 8, 8);
}

void hre_storage__record_header(uint8_t hdr[HRE_STORAGE__REC_HDR], const void *payload,
                                uint32_t len, uint64_t batch)
{
    uint32_t crc;
    hre__put_le32(hdr, len);
    hre__put_le32(hdr + 4, 0);
    hre__put_le64(hdr + 8, batch);
    crc = hre_storage__crc32(hdr_crc(hdr), payload, len);
    hre__put_le32(hdr + 4, crc);
}

int hre_storage__record_decode(hre_storage__record *rec, const uint8_t *buf, size_t len,
                               uint32_t max_payload)
{
    uint32_t l, crc;
    memset(rec, 0, sizeof *rec);
    if (!buf || len < HDR) return HRE_EDECODE;
    l = hre__le32(buf);
    if (l > max_payload) return HRE_ELIMIT;
    if (len - HDR < l) return HRE_EDECODE;
    crc = hre_storage__crc32(hdr_crc(buf), buf + HDR, l);
    if (crc != hre__le32(buf + 4)) return HRE_ECORRUPT;
    rec->len = l;
    rec->crc = crc;
    rec->batch = hre__le64(buf + 8);
    rec->payload = buf + HDR;
    return HRE_OK;
}

/* ------------------------------------------------------------------------ */
/* Scanning                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct scan_src {
    const uint8_t *mem;         /* memory image, or NULL for a file */
    hre_storage_file *f;
    uint64_t size;
    uint8_t *win;
    uint64_t win_off;
    size_t win_len;
} scan_src;

/* Pointer to n bytes at off. Requires off + n <= size and, for files,
 * n <= WIN. */
static int src_get(scan_src *s, uint64_t off, size_t n, const uint8_t **p)
{
    size_t want;
    int rc;
    if (s->mem) {
        *p = s->mem + off;
        return HRE_OK;
    }
    if (off >= s->win_off && off - s->win_off <= s->win_len &&
        n <= s->win_len - (size_t)(off - s->win_off)) {
        *p = s->win + (off - s->win_off);
        return HRE_OK;
    }
    want = WIN;
    if (s->size - off < want) want = (size_t)(s->size - off);
    s->win_len = 0;
    rc = hre_storage__read_exact(s->f, off, s->win, want);
    if (rc == HRE_ECORRUPT)
        return hre__fail(HRE_EIO, "log '%s': file shrank during the scan",
                         hre_storage__file_name(s->f));
    if (rc != HRE_OK) return rc;
    s->win_off = off;
    s->win_len = want;
    *p = s->win;
    return HRE_OK;
}

/* Verify the record at off whose header says payload length l (already
 * checked: l <= max and the frame fits). *ok = CRC matches. When deliver and
 * ok, pass the payload to cb and put its value in *cbr. */
static int rec_verify(scan_src *s, uint64_t off, uint32_t l, int deliver,
                      hre_storage__record_cb cb, void *arg, int *ok, int *cbr)
{
    const uint8_t *p = NULL;
    uint8_t *tmp = NULL;
    uint32_t crc, want;
    int rc;

    *ok = 0;
    *cbr = 0;
    if (s->mem || HDR + (size_t)l <= WIN) {
        if ((rc = src_get(s, off, HDR + (size_t)l, &p)) != HRE_OK) return rc;
        want = hre__le32(p + 4);
        crc = hdr_crc(p);
        p += HDR;
    } else {
        uint8_t hdr[HDR];
        if ((rc = src_get(s, off, HDR, &p)) != HRE_OK) return rc;
        memcpy(hdr, p, HDR);
        tmp = hre__malloc(l);
        if (!tmp) return hre__fail(HRE_ENOMEM, "log: out of memory");
        rc = hre_storage__read_exact(s->f, off + HDR, tmp, l);
        if (rc != HRE_OK) {
            hre__free(tmp);
            if (rc == HRE_ECORRUPT)
                return hre__fail(HRE_EIO, "log '%s': file shrank during the scan",
                                 hre_storage__file_name(s->f));
            return rc;
        }
        want = hre__le32(hdr + 4);
        crc = hdr_crc(hdr);
        p = tmp;
    }
    crc = hre_storage__crc32(crc, p, l);
    if (crc == want) {
        *ok = 1;
        if (deliver && cb) *cbr = cb(arg, off, p, l);
    }
    hre__free(tmp);
    return HRE_OK;
}

/* After damage at p: is there a valid record at q > p whose batch starts in
 * (p, q]? Such a record was written after a sync that covered byte p, so the
 * damage is in synced data. Sets *proof (0 = none). The CRC work is capped so
 * crafted input cannot make the scan quadratic; over the cap the damage is
 * reported as corruption (conservative). */
static int find_proof(scan_src *s, uint32_t max, uint64_t p, uint64_t *proof, int *capped)
{
    uint64_t q, budget = s->size * 2 + ((uint64_t)64 << 20), work = 0;
    *proof = 0;
    *capped = 0;
    for (q = p + 1; q < s->size && s->size - q >= HDR; q++) {
        const uint8_t *h;
        uint32_t l;
        uint64_t b;
        int ok, cbr, rc;
        if ((rc = src_get(s, q, HDR, &h)) != HRE_OK) return rc;
        l = hre__le32(h);
        b = hre__le64(h + 8);
        /* Any CRC-valid record counts, even one over the caller's cap. */
        (void)max;
        if (l > HRE_STORAGE__REC_MAX || (uint64_t)l > s->size - q - HDR) continue;
        if (b <= p || b > q) continue;
        work += HDR + (uint64_t)l;
        if (work > budget) {
            *proof = q;
            *capped = 1;
            return HRE_OK;
        }
        if ((rc = rec_verify(s, q, l, 0, NULL, NULL, &ok, &cbr)) != HRE_OK) return rc;
        if (ok) {
            *proof = q;
            return HRE_OK;
        }
    }
    return HRE_OK;
}

static int scan(scan_src *s, uint32_t max, hre_storage__record_cb cb, void *arg,
                hre_storage__scan_info *info)
{
    uint64_t pos = 0, prev_batch = 0, proof = 0;
    int have_prev = 0, capped = 0, rc;

    memset(info, 0, sizeof *info);
    info->size = s->size;
    while (pos < s->size) {
        const uint8_t *h;
        uint32_t l;
        uint64_t b;
        int ok, cbr, struct_ok;
        if (s->size - pos < HDR) break;
        if ((rc = src_get(s, pos, HDR, &h)) != HRE_OK) return rc;
        l = hre__le32(h);
        b = hre__le64(h + 8);
        if ((uint64_t)l > s->size - pos - HDR) break;
        if (l > max) {
            /* A whole, CRC-valid record over the cap is not a torn write:
             * never cut it (a lowered cap must not truncate a log). */
            if (l <= HRE_STORAGE__REC_MAX) {
                if ((rc = rec_verify(s, pos, l, 0, NULL, NULL, &ok, &cbr)) != HRE_OK) return rc;
                if (ok) {
                    info->valid_end = pos;
                    info->damage_at = pos;
                    return hre__fail(HRE_ELIMIT, "log: record of %lu bytes at offset %llu is "
                                     "over the %lu limit", (unsigned long)l,
                                     (unsigned long long)pos, (unsigned long)max);
                }
            }
            break;
        }
        struct_ok = b == pos || (have_prev && b == prev_batch);
        if ((rc = rec_verify(s, pos, l, struct_ok, cb, arg, &ok, &cbr)) != HRE_OK) return rc;
        if (!ok) break;
        if (!struct_ok) {
            info->valid_end = pos;
            info->damage_at = pos;
            return hre__fail(HRE_ECORRUPT, "log: record at offset %llu claims batch %llu "
                             "(expected %llu or its own offset)", (unsigned long long)pos,
                             (unsigned long long)b, (unsigned long long)prev_batch);
        }
        info->records++;
        prev_batch = b;
        have_prev = 1;
        pos += HDR + (uint64_t)l;
        info->valid_end = pos;
        if (cbr != 0) return cbr;
    }
    info->valid_end = pos;
    if (pos == s->size) return HRE_OK;
    info->damage_at = pos;
    if ((rc = find_proof(s, max, pos, &proof, &capped)) != HRE_OK) return rc;
    if (proof) {
        info->proof_at = proof;
        if (capped)
            return hre__fail(HRE_ECORRUPT, "log: damaged record at offset %llu (the damage "
                             "could not be classified)", (unsigned long long)pos);
        return hre__fail(HRE_ECORRUPT, "log: damaged record at offset %llu; a record of a "
                         "later synced batch follows at offset %llu",
                         (unsigned long long)pos, (unsigned long long)proof);
    }
    info->torn_tail = 1;
    return HRE_OK;
}

int hre_storage__log_scan_buf(const uint8_t *buf, size_t len, uint32_t max_payload,
                              hre_storage__record_cb cb, void *arg,
                              hre_storage__scan_info *info)
{
    hre_storage__scan_info tmp;
    scan_src s;
    if (!info) info = &tmp;
    memset(info, 0, sizeof *info);
    HRE__CHECK_ARG(buf != NULL || len == 0);
    memset(&s, 0, sizeof s);
    s.mem = buf ? buf : (const uint8_t *)"";
    s.size = len;
    return scan(&s, max_payload, cb, arg, info);
}

int hre_storage__log_scan(hre_storage_file *f, uint32_t max_payload,
                          hre_storage__record_cb cb, void *arg,
                          hre_storage__scan_info *info)
{
    hre_storage__scan_info tmp;
    scan_src s;
    int rc;
    if (!info) info = &tmp;
    memset(info, 0, sizeof *info);
    HRE__CHECK_ARG(f != NULL);
    memset(&s, 0, sizeof s);
    s.f = f;
    if ((rc = hre_storage_file_size(f, &s.size)) != HRE_OK) return rc;
    s.win = hre__malloc(WIN);
    if (!s.win) return hre__fail(HRE_ENOMEM, "log: out of memory");
    rc = scan(&s, max_payload, cb, arg, info);
    hre__free(s.win);
    return rc;
}

/* Read the record at offset; `limit` bounds the frame's end. */
static int record_read(hre_storage_file *f, uint64_t offset, uint64_t limit, uint32_t max,
                       uint8_t *buf, size_t cap, size_t *len)
{
    uint8_t hdr[HDR];
    uint32_t l, crc;
    int rc;

    *len = 0;
    if (offset > limit || limit - offset < HDR)
        return hre__fail(HRE_ECORRUPT, "log '%s': no record at offset %llu",
                         hre_storage__file_name(f), (unsigned long long)offset);
    if ((rc = hre_storage__read_exact(f, offset, hdr, HDR)) != HRE_OK) return rc;
    l = hre__le32(hdr);
    if (l > max || (uint64_t)l > limit - offset - HDR)
        return hre__fail(HRE_ECORRUPT, "log '%s': bad record length %lu at offset %llu",
                         hre_storage__file_name(f), (unsigned long)l,
                         (unsigned long long)offset);
    *len = l;
    if (cap < l)
        return hre__fail(HRE_EBUFSIZE, "log: record of %lu bytes, buffer of %lu",
                         (unsigned long)l, (unsigned long)cap);
    if ((rc = hre_storage__read_exact(f, offset + HDR, buf, l)) != HRE_OK) {
        *len = 0;
        return rc;
    }
    crc = hre_storage__crc32(hdr_crc(hdr), buf, l);
    if (crc != hre__le32(hdr + 4)) {
        if (l) memset(buf, 0, l);
        *len = 0;
        return hre__fail(HRE_ECORRUPT, "log '%s': CRC mismatch in the record at offset %llu",
                         hre_storage__file_name(f), (unsigned long long)offset);
    }
    return HRE_OK;
}

int hre_storage__record_read(hre_storage_file *f, uint64_t offset, uint32_t max_payload,
                             uint8_t *buf, size_t cap, size_t *len)
{
    uint64_t size;
    int rc;
    if (len) *len = 0;
    HRE__CHECK_ARG(f != NULL && len != NULL && (buf != NULL || cap == 0));
    if ((rc = hre_storage_file_size(f, &size)) != HRE_OK) return rc;
    return record_read(f, offset, size, max_payload, buf, cap, len);
}

/* ------------------------------------------------------------------------ */
/* The log object                                                            */
/* ------------------------------------------------------------------------ */

struct hre_storage__log {
    hre_storage *s;
    hre_storage_file *f;
    uint32_t max;
    uint64_t end;        /* next record goes here */
    uint64_t synced;     /* durable end: the batch field of new records */
    int readonly;
    int broken;
};

int hre_storage__log_open(hre_storage__log **out, hre_storage *s, const char *name,
                          unsigned int flags, uint32_t max_payload,
                          hre_storage__record_cb cb, void *arg,
                          hre_storage__scan_info *info)
{
    hre_storage__scan_info tmp;
    hre_storage__log *log;
    hre_storage_file *f = NULL;
    int rc, readonly = (flags & HRE_STORAGE__LOG_READONLY) != 0, created = 0;

    if (!info) info = &tmp;
    memset(info, 0, sizeof *info);
    if (out) *out = NULL;
    HRE__CHECK_ARG(out != NULL && s != NULL);
    if (flags & ~(HRE_STORAGE__LOG_CREATE | HRE_STORAGE__LOG_READONLY))
        return hre__fail(HRE_EINVAL, "log: unknown flags");
    if (readonly && (flags & HRE_STORAGE__LOG_CREATE))
        return hre__fail(HRE_EINVAL, "log: READONLY and CREATE");
    if (max_payload == 0 || max_payload > HRE_STORAGE__REC_MAX)
        return hre__fail(HRE_EINVAL, "log: max_payload must be 1..%u", HRE_STORAGE__REC_MAX);

    if (readonly) {
        rc = hre_storage_file_open(&f, s, name, HRE_STORAGE_READ);
    } else {
        rc = hre_storage_file_open(&f, s, name, HRE_STORAGE_READ | HRE_STORAGE_WRITE);
        if (rc == HRE_ENOTFOUND && (flags & HRE_STORAGE__LOG_CREATE)) {
            rc = hre_storage_file_open(&f, s, name, HRE_STORAGE_READ | HRE_STORAGE_WRITE |
                                       HRE_STORAGE_CREATE | HRE_STORAGE_EXCLUSIVE);
            if (rc == HRE_OK) {
                created = 1;
                rc = hre_storage_sync_dir(s);
            }
        }
    }
    if (rc != HRE_OK) goto fail;
    /* Existing bytes may still be only in a cache (e.g. a process died
     * without syncing). Make them durable first: new records claim that
     * everything before them is durable. */
    if (!readonly && !created && (rc = hre_storage_file_sync(f)) != HRE_OK) goto fail;

    rc = hre_storage__log_scan(f, max_payload, cb, arg, info);
    if (rc != HRE_OK) goto fail;
    if (info->torn_tail && !readonly) {
        if ((rc = hre_storage_file_truncate(f, info->valid_end)) != HRE_OK) goto fail;
        if ((rc = hre_storage_file_sync(f)) != HRE_OK) goto fail;
    }
    log = hre__calloc(1, sizeof *log);
    if (!log) {
        rc = hre__fail(HRE_ENOMEM, "log: out of memory");
        goto fail;
    }
    log->s = s;
    log->f = f;
    log->max = max_payload;
    log->end = log->synced = info->valid_end;
    log->readonly = readonly;
    *out = log;
    return HRE_OK;
fail:
    (void)hre_storage_file_close(f);
    return rc;
}

int hre_storage__log_append(hre_storage__log *log, const void *payload, size_t len,
                            uint64_t *offset)
{
    uint8_t small[4096];
    uint8_t hdr[HDR];
    int rc;

    if (offset) *offset = 0;
    HRE__CHECK_ARG(log != NULL && (payload != NULL || len == 0));
    if (log->readonly) return hre__fail(HRE_ESTATE, "log: opened read-only");
    if (log->broken) return hre__fail(HRE_ESTATE, "log: broken by an earlier I/O failure; "
                                      "reopen it");
    if (len > log->max)
        return hre__fail(HRE_ELIMIT, "log: record of %lu bytes over the %lu limit",
                         (unsigned long)len, (unsigned long)log->max);
    if (HDR + (uint64_t)len > HRE_STORAGE_SIZE_MAX - log->end)
        return hre__fail(HRE_ELIMIT, "log: file size limit");
    hre_storage__record_header(hdr, payload, (uint32_t)len, log->synced);
    if (HDR + len <= sizeof small) {
        memcpy(small, hdr, HDR);
        if (len) memcpy(small + HDR, payload, len);
        rc = hre_storage_file_write(log->f, log->end, small, HDR + len);
    } else {
        rc = hre_storage_file_write(log->f, log->end, hdr, HDR);
        if (rc == HRE_OK) rc = hre_storage_file_write(log->f, log->end + HDR, payload, len);
    }
    if (rc != HRE_OK) {
        /* Take the partial record back; if that fails the file state is
         * unknown and the log refuses further appends. */
        int saved = hre_error_last();
        char detail[256];
        snprintf(detail, sizeof detail, "%s", hre_error_detail());
        if (hre_storage_file_truncate(log->f, log->end) != HRE_OK) log->broken = 1;
        (void)hre__fail(saved, "%s", detail);
        return rc;
    }
    if (offset) *offset = log->end;
    log->end += HDR + len;
    return HRE_OK;
}

int hre_storage__log_sync(hre_storage__log *log)
{
    int rc;
    HRE__CHECK_ARG(log != NULL);
    if (log->readonly) return hre__fail(HRE_ESTATE, "log: opened read-only");
    if (log->broken) return hre__fail(HRE_ESTATE, "log: broken by an earlier I/O failure; "
                                      "reopen it");
    if (log->end == log->synced) return HRE_OK;
    rc = hre_storage_file_sync(log->f);
    if (rc != HRE_OK) {
        log->broken = 1;
        return rc;
    }
    log->synced = log->end;
    return HRE_OK;
}

int hre_storage__log_read(hre_storage__log *log, uint64_t offset, uint8_t *buf, size_t cap,
                          size_t *len)
{
    if (len) *len = 0;
    HRE__CHECK_ARG(log != NULL && len != NULL && (buf != NULL || cap == 0));
    return record_read(log->f, offset, log->end, log->max, buf, cap, len);
}

uint64_t hre_storage__log_end(const hre_storage__log *log)
{
    return log ? log->end : 0;
}

uint64_t hre_storage__log_synced(const hre_storage__log *log)
{
    return log ? log->synced : 0;
}

hre_storage_file *hre_storage__log_file(hre_storage__log *log)
{
    return log ? log->f : NULL;
}

int hre_storage__log_close(hre_storage__log *log)
{
    int rc;
    if (!log) return HRE_OK;
    rc = hre_storage_file_close(log->f);
    hre__free(log);
    return rc;
}
