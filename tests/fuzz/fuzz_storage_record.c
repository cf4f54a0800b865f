/*
 * Fuzz target: the storage record frame decoder and the log recovery scan
 * (PROTOCOL.md 6.3), over a memory image and over a memory-backed file.
 * Invariants (abort on violation):
 *  - a decoded frame re-encodes byte for byte, its payload lies inside the
 *    input, and the decoder only returns its documented codes;
 *  - the scan delivers records contiguously from offset 0, each one a valid
 *    frame at its offset; it returns OK, ECORRUPT or ELIMIT; valid_end is the
 *    end of the last delivered record; OK means "torn tail" exactly when
 *    bytes follow valid_end;
 *  - the file scanner (hre_storage__log_open) agrees with the memory scan;
 *    after it cuts a torn tail the file ends at valid_end, reopens clean with
 *    the same records, and takes a new record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXP 4096u

struct chk {
    const uint8_t *data;
    size_t size;
    uint64_t next;      /* expected offset of the next record */
    uint64_t n;
};

static int chk_cb(void *arg, uint64_t off, const uint8_t *payload, size_t len)
{
    struct chk *c = arg;
    hre_storage__record rec;
    if (off != c->next) abort();
    if (c->data) {
        if (off > c->size) abort();
        if (hre_storage__record_decode(&rec, c->data + off, c->size - (size_t)off, MAXP) !=
            HRE_OK)
            abort();
        if (rec.len != len || payload != c->data + off + HRE_STORAGE__REC_HDR) abort();
    }
    c->next = off + HRE_STORAGE__REC_HDR + len;
    c->n++;
    return 0;
}

static void check_decode(const uint8_t *data, size_t size)
{
    hre_storage__record rec;
    uint8_t hdr[HRE_STORAGE__REC_HDR];
    int rc = hre_storage__record_decode(&rec, data, size, MAXP);
    if (rc == HRE_OK) {
        if (rec.len > MAXP || HRE_STORAGE__REC_HDR + (size_t)rec.len > size) abort();
        if (rec.payload != data + HRE_STORAGE__REC_HDR) abort();
        hre_storage__record_header(hdr, rec.payload, rec.len, rec.batch);
        if (memcmp(hdr, data, HRE_STORAGE__REC_HDR) != 0) abort();
    } else if (rc != HRE_EDECODE && rc != HRE_ELIMIT && rc != HRE_ECORRUPT) {
        abort();
    } else if (rec.payload != NULL || rec.len != 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre_storage__scan_info info, finfo, rinfo;
    struct chk c, fc, rc2;
    hre_storage *mem = NULL;
    hre_storage_file *f = NULL;
    hre_storage__log *log = NULL;
    int rc, frc;

    check_decode(data, size);

    memset(&c, 0, sizeof c);
    c.data = data;
    c.size = size;
    rc = hre_storage__log_scan_buf(data, size, MAXP, chk_cb, &c, &info);
    if (rc != HRE_OK && rc != HRE_ECORRUPT && rc != HRE_ELIMIT) abort();
    if (info.valid_end != c.next || info.records != c.n || info.valid_end > size) abort();
    if (info.size != size) abort();
    if (rc == HRE_OK && info.torn_tail != (info.valid_end != size)) abort();
    if (rc != HRE_OK && (info.torn_tail || info.damage_at != info.valid_end)) abort();
    if (info.torn_tail && info.damage_at != info.valid_end) abort();

    /* The same bytes as a file. */
    if (size > 65536) return 0;
    if (hre_storage_memory_new(&mem, 0) != HRE_OK) abort();
    if (hre_storage_file_open(&f, mem, "seg", HRE_STORAGE_WRITE | HRE_STORAGE_CREATE) != HRE_OK)
        abort();
    if (size && hre_storage_file_write(f, 0, data, size) != HRE_OK) abort();
    if (hre_storage_file_close(f) != HRE_OK) abort();
    memset(&fc, 0, sizeof fc);
    frc = hre_storage__log_open(&log, mem, "seg", 0, MAXP, chk_cb, &fc, &finfo);
    if (frc != rc || fc.n != c.n || finfo.valid_end != info.valid_end ||
        finfo.torn_tail != info.torn_tail || finfo.damage_at != info.damage_at)
        abort();
    if (frc == HRE_OK) {
        uint64_t sz = 0;
        if (hre_storage__log_end(log) != info.valid_end) abort();
        if (hre_storage_file_size(hre_storage__log_file(log), &sz) != HRE_OK) abort();
        if (sz != info.valid_end) abort();              /* the torn tail is gone */
        if (hre_storage__log_append(log, "fuzz", 4, NULL) != HRE_OK) abort();
        if (hre_storage__log_sync(log) != HRE_OK) abort();
        if (hre_storage__log_close(log) != HRE_OK) abort();
        memset(&rc2, 0, sizeof rc2);
        if (hre_storage__log_open(&log, mem, "seg", HRE_STORAGE__LOG_READONLY, MAXP, chk_cb,
                                  &rc2, &rinfo) != HRE_OK)
            abort();
        if (rc2.n != c.n + 1 || rinfo.torn_tail) abort();
        if (hre_storage__log_close(log) != HRE_OK) abort();
    } else if (log != NULL) {
        abort();
    }
    hre_storage_free(mem);
    return 0;
}
