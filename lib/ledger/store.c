/*
 * Block storage: segment files (append, sync, roll, reopen after a failure),
 * block reads, index entries and invalid marks.
 * docs/PROTOCOL.md section 7.
 */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "ledger/internal.h"

void hre_ledger__seg_name(char out[32], uint32_t n)
{
    snprintf(out, 32, HRE_LEDGER__SEG_FMT, n);
}

int hre_ledger__map_io(int rc)
{
    return rc == HRE_ESTATE ? HRE_EIO : rc;
}

int hre_ledger__read_block(hre_ledger *l, const hre_ledger__node *n, hre_block **out)
{
    uint8_t *buf;
    size_t got = 0;
    uint8_t hash[32];
    int rc;

    *out = NULL;
    if (!n->stored)
        return hre_block_new(out, &n->header, &l->limits);
    if (n->seg >= l->n_segs)
        return hre__fail(HRE_ECORRUPT, "ledger: block at height %llu in missing segment %u",
                         (unsigned long long)n->height, n->seg);
    buf = hre__malloc(n->rec_len ? n->rec_len : 1);
    if (!buf)
        return hre__fail(HRE_ENOMEM, "ledger: out of memory");
    rc = hre_storage__record_read(l->segs[n->seg], n->offset, l->max_rec, buf, n->rec_len, &got);
    if (rc == HRE_OK && got != n->rec_len)
        rc = HRE_ECORRUPT;
    if (rc != HRE_OK) {
        hre__free(buf);
        if (rc == HRE_ECORRUPT || rc == HRE_EBUFSIZE)
            return hre__fail(HRE_ECORRUPT,
                             "ledger: block record at height %llu (" HRE_LEDGER__SEG_FMT
                             " offset %llu) is damaged",
                             (unsigned long long)n->height, n->seg,
                             (unsigned long long)n->offset);
        return rc;
    }
    rc = hre_ledger__record_decode(out, buf, got, &l->limits);
    hre__free(buf);
    if (rc == HRE_ENOMEM)
        return rc;
    if (rc != HRE_OK)
        return hre__fail(HRE_ECORRUPT, "ledger: block record at height %llu does not decode",
                         (unsigned long long)n->height);
    if ((rc = hre_header_hash(hre_block_header(*out), hash)) != HRE_OK) {
        hre_block_free(*out);
        *out = NULL;
        return rc;
    }
    if (memcmp(hash, n->hash, 32) != 0) {
        hre_block_free(*out);
        *out = NULL;
        return hre__fail(HRE_ECORRUPT, "ledger: block record at height %llu has another hash",
                         (unsigned long long)n->height);
    }
    return HRE_OK;
}

int hre_ledger__seg_add_reader(hre_ledger *l, uint32_t n)
{
    char name[32];
    hre_storage_file **ns;
    int rc;
    hre_ledger__seg_name(name, n);
    ns = hre__realloc(l->segs, (size_t)(l->n_segs + 1) * sizeof *ns);
    if (!ns)
        return hre__fail(HRE_ENOMEM, "ledger: out of memory");
    l->segs = ns;
    rc = hre_storage_file_open(&l->segs[l->n_segs], l->st, name, HRE_STORAGE_READ);
    if (rc != HRE_OK)
        return rc;
    l->n_segs++;
    return HRE_OK;
}

/* Cut the last segment back to seg_good_end (the end of what was synced):
 * truncate and sync it through the handle of its log (nothing to open: this
 * runs right after a failure, maybe under memory pressure), or through a
 * fresh handle when the log is already closed. */
static int seg_cut(hre_ledger *l)
{
    hre_storage_file *f = l->seg_log ? hre_storage__log_file(l->seg_log) : NULL, *own = NULL;
    uint64_t size = 0;
    char name[32];
    int rc = HRE_OK;
    if (l->n_segs == 0)
        return HRE_OK;
    if (!f) {
        hre_ledger__seg_name(name, l->n_segs - 1);
        rc = hre_storage_file_open(&own, l->st, name, HRE_STORAGE_READ | HRE_STORAGE_WRITE);
        f = own;
    }
    if (rc == HRE_OK)
        rc = hre_storage_file_size(f, &size);
    if (rc == HRE_OK && size > l->seg_good_end) {
        rc = hre_storage_file_truncate(f, l->seg_good_end);
        if (rc == HRE_OK)
            rc = hre_storage_file_sync(f);
    }
    if (own)
        (void)hre_storage_file_close(own);
    return hre_ledger__map_io(rc);
}

/* An append to or a sync of the last segment failed with rc: whether what
 * was written past seg_good_end is durable is unknown (6.1). It is cut back
 * at once, so that no block the ledger reports as failed can come back at
 * the next open (docs/PROTOCOL.md 7.8); if even that fails, the ledger
 * enters the fatal state. Returns rc with the failure's detail, or
 * HRE_EFATAL. */
static int seg_failed(hre_ledger *l, int rc, const char *what)
{
    char why[200], cwhy[160];
    int crc;
    rc = hre_ledger__map_io(rc);
    if (hre_error_last() == rc && hre_error_detail()[0])
        hre_ledger__why(why, sizeof why);
    else
        snprintf(why, sizeof why, "ledger: %s failed (%s)", what, hre_strerror(rc));
    HRE_LEDGER__LOG(l, HRE_LOG_ERROR, "storage error: %s: %s", what, why);
    crc = seg_cut(l);
    hre_ledger__seg_broken(l);   /* reopened (and checked again) for the next append */
    if (crc != HRE_OK) {
        hre_ledger__why(cwhy, sizeof cwhy);
        return hre_ledger__fatal(l, NULL, "storage: %s failed (%s), and the unsynced tail of the "
                                 "last segment could not be cut back (%s): blocks reported as "
                                 "failed may be on disk", what, why, cwhy);
    }
    return hre__fail(rc, "%s", why);
}

/* Make l->seg_log usable for an append of about `need` bytes: reopen it after
 * a failure (cutting anything past the last known record), or roll to a new
 * segment when the current one is full. */
static int seg_ensure(hre_ledger *l)
{
    char name[32];
    int rc;

    if (!l->seg_log) {
        hre_storage_file *f = NULL;
        uint64_t size = 0;
        if (l->n_segs == 0)
            goto roll;
        hre_ledger__seg_name(name, l->n_segs - 1);
        rc = hre_storage_file_open(&f, l->st, name, HRE_STORAGE_READ | HRE_STORAGE_WRITE);
        if (rc != HRE_OK)
            return rc;
        rc = hre_storage_file_size(f, &size);
        if (rc == HRE_OK && size != l->seg_good_end) {
            rc = hre_storage_file_truncate(f, l->seg_good_end);
            if (rc == HRE_OK)
                rc = hre_storage_file_sync(f);
        }
        (void)hre_storage_file_close(f);
        if (rc != HRE_OK)
            return rc;
        rc = hre_storage__log_open(&l->seg_log, l->st, name, 0, l->max_rec, NULL, NULL, NULL);
        if (rc != HRE_OK)
            return hre_ledger__map_io(rc);
    }
    if (hre_storage__log_end(l->seg_log) < l->segment_size)
        return HRE_OK;
    /* Roll: everything in the old segment becomes durable first. */
    if ((rc = hre_storage__log_sync(l->seg_log)) != HRE_OK)
        return seg_failed(l, rc, "sync of the last segment before a roll");
    l->seg_good_end = hre_storage__log_end(l->seg_log);
    (void)hre_storage__log_close(l->seg_log);
    l->seg_log = NULL;
roll:
    if (l->n_segs >= HRE_LEDGER__MAX_SEGS)
        return hre__fail(HRE_ELIMIT, "ledger: too many segments");
    hre_ledger__seg_name(name, l->n_segs);
    rc = hre_storage__log_open(&l->seg_log, l->st, name, HRE_STORAGE__LOG_CREATE, l->max_rec,
                               NULL, NULL, NULL);
    if (rc != HRE_OK)
        return hre_ledger__map_io(rc);
    rc = hre_ledger__seg_add_reader(l, l->n_segs);
    if (rc != HRE_OK) {
        (void)hre_storage__log_close(l->seg_log);
        l->seg_log = NULL;
        return rc;
    }
    l->seg_good_end = 0;
    return HRE_OK;
}

void hre_ledger__seg_broken(hre_ledger *l)
{
    if (l->seg_log)
        (void)hre_storage__log_close(l->seg_log);
    l->seg_log = NULL;
}

int hre_ledger__store_record(hre_ledger *l, const hre_block *blk, int sync, uint32_t *seg,
                             uint64_t *off, uint32_t *rec_len)
{
    uint8_t *rec = NULL;
    size_t len = 0;
    int rc = hre_ledger__record_encode(&rec, &len, blk, l->level);
    if (rc != HRE_OK)
        return rc;
    return hre_ledger__store_encoded(l, rec, len, sync, seg, off, rec_len);
}

int hre_ledger__store_encoded(hre_ledger *l, uint8_t *rec, size_t len, int sync, uint32_t *seg,
                              uint64_t *off, uint32_t *rec_len)
{
    int rc;
    if (len > l->max_rec) {
        hre__free(rec);
        return hre__fail(HRE_ELIMIT, "ledger: block record of %zu bytes over the cap", len);
    }
    rc = seg_ensure(l);
    if (rc != HRE_OK) {
        hre__free(rec);
        if (rc != HRE_EFATAL)
            HRE_LEDGER__LOG(l, HRE_LOG_ERROR, "storage error: the last segment could not be "
                            "opened for a block: %s", hre_error_detail());
        return rc == HRE_EFATAL ? rc : hre_ledger__map_io(rc);
    }
    rc = hre_storage__log_append(l->seg_log, rec, len, off);
    hre__free(rec);
    if (rc != HRE_OK)
        return seg_failed(l, rc, "append of a block record");
    if (sync && (rc = hre_ledger__seg_sync(l)) != HRE_OK)
        return rc;
    *seg = l->n_segs - 1;
    *rec_len = (uint32_t)len;
    return HRE_OK;
}

int hre_ledger__seg_sync(hre_ledger *l)
{
    int rc;
    if (!l->seg_log)
        return hre__fail(HRE_EIO, "ledger: segment log is not open");
    rc = hre_storage__log_sync(l->seg_log);
    if (rc != HRE_OK)
        return seg_failed(l, rc, "sync of the last segment");
    l->seg_good_end = hre_storage__log_end(l->seg_log);
    return HRE_OK;
}

void hre_ledger__index_append(hre_ledger *l, const uint8_t *p, size_t len)
{
    if (!l->idx_log)
        return;
    if (hre_storage__log_append(l->idx_log, p, len, NULL) != HRE_OK) {
        /* Not fatal: the index is extended from the segments on the next open. */
        (void)hre_storage__log_close(l->idx_log);
        l->idx_log = NULL;
    }
}

void hre_ledger__index_block(hre_ledger *l, const hre_ledger__node *n)
{
    hre_ledger__index_entry e;
    uint8_t buf[HRE_LEDGER__IDX_LEN];
    e.seg = n->seg;
    e.offset = n->offset;
    e.rec_len = n->rec_len;
    e.tx_count = n->tx_count;
    e.header = n->header;
    hre_ledger__index_encode(buf, &e);
    hre_ledger__index_append(l, buf, sizeof buf);
}

void hre_ledger__mark_invalid(hre_ledger *l, hre_ledger__node *n)
{
    uint8_t buf[HRE_LEDGER__IDX_INVALID_LEN];
    size_t i;
    n->invalid = 1;
    for (i = (size_t)n->seq + 1; i < l->n_nodes; i++)
        if (l->nodes[i] && l->nodes[i]->parent && l->nodes[i]->parent->invalid)
            l->nodes[i]->invalid = 1;
    buf[0] = HRE_LEDGER__IDX_INVALID;
    memcpy(buf + 1, n->hash, 32);
    hre_ledger__index_append(l, buf, sizeof buf);
}

void hre_ledger__close_storage(hre_ledger *l)
{
    uint32_t i;
    if (l->seg_log)
        (void)hre_storage__log_close(l->seg_log);
    l->seg_log = NULL;
    if (l->idx_log)
        (void)hre_storage__log_close(l->idx_log);
    l->idx_log = NULL;
    for (i = 0; i < l->n_segs; i++)
        (void)hre_storage_file_close(l->segs[i]);
    hre__free(l->segs);
    l->segs = NULL;
    l->n_segs = 0;
}
