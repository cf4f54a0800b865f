/*
 * Loading the block tree at open: the index file, a scan of the segments
 * for records the index lacks, a rebuild from the segments when the index
 * is damaged, the torn-tail cut of the last segment.
 * docs/PROTOCOL.md section 7.
 */
#include <string.h>

#include "core/internal.h"
#include "ledger/internal.h"

typedef struct open_list {
    hre_ledger *l;
    uint32_t max_seg;
    int have_seg, have_other;
    int rc;
} open_list;

static int parse_num(const char *s, size_t n, int base, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        int d;
        char ch = s[i];
        if (ch >= '0' && ch <= '9')
            d = ch - '0';
        else if (base == 16 && ch >= 'a' && ch <= 'f')
            d = ch - 'a' + 10;
        else
            return -1;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = v;
    return 0;
}

static int list_cb(void *arg, const char *name)
{
    open_list *ol = arg;
    size_t len = strlen(name);
    uint64_t v;
    if (len == 13 && memcmp(name, "blk-", 4) == 0 && memcmp(name + 9, ".dat", 4) == 0 &&
        parse_num(name + 4, 5, 10, &v) == 0) {
        if (!ol->have_seg || v > ol->max_seg)
            ol->max_seg = (uint32_t)v;
        ol->have_seg = 1;
        ol->have_other = 1;
    } else if (len == 25 && memcmp(name, "snap-", 5) == 0 && memcmp(name + 21, ".dat", 4) == 0 &&
               parse_num(name + 5, 16, 16, &v) == 0) {
        uint8_t zero[32] = {0};
        /* hash filled in when the header is read (snap_probe) */
        if (hre_ledger__snaps_add(ol->l, v, zero) != HRE_OK)
            ol->rc = HRE_ENOMEM;
        ol->have_other = 1;
    } else if (strcmp(name, HRE_LEDGER__INDEX_FILE) == 0) {
        ol->have_other = 1;
    }
    return 0;
}

/* Read the fixed header of each snapshot file listed to learn its block hash. */
static void snap_probe(hre_ledger *l)
{
    size_t i, j = 0;
    for (i = 0; i < l->n_snaps; i++) {
        char name[40];
        hre_storage_file *f = NULL;
        uint8_t hdr[48];
        hre_ledger__snap_name(name, l->snaps[i].height);
        if (hre_storage_file_open(&f, l->st, name, HRE_STORAGE_READ) != HRE_OK)
            continue;
        if (hre_storage__read_exact(f, 0, hdr, sizeof hdr) == HRE_OK &&
            (memcmp(hdr, HRE_LEDGER__SNAP_MAGIC, 8) == 0 || memcmp(hdr, HRE_LEDGER__SNAP_MAGIC_V1, 8) == 0) &&
            hre__le64(hdr + 8) == l->snaps[i].height) {
            l->snaps[j].height = l->snaps[i].height;
            memcpy(l->snaps[j].hash, hdr + 16, 32);
            j++;
        }
        (void)hre_storage_file_close(f);
    }
    l->n_snaps = j;
}

/* Entries collected while loading. */
typedef struct load_ent {
    hre_ledger__index_entry e;
    int invalid_mark;
    uint8_t hash[32];
} load_ent;

typedef struct load_ctx {
    hre_ledger *l;
    load_ent *v;
    size_t n, cap;
    uint32_t cur_seg;
    int bad;
} load_ctx;

static int ld_push(load_ctx *c, const load_ent *e)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 256;
        load_ent *nv = hre__realloc(c->v, nc * sizeof *nv);
        if (!nv)
            return HRE_ENOMEM;
        c->v = nv;
        c->cap = nc;
    }
    c->v[c->n++] = *e;
    return HRE_OK;
}

static int idx_cb(void *arg, uint64_t offset, const uint8_t *p, size_t len)
{
    load_ctx *c = arg;
    load_ent e;
    (void)offset;
    memset(&e, 0, sizeof e);
    if (len == HRE_LEDGER__IDX_INVALID_LEN && p[0] == HRE_LEDGER__IDX_INVALID) {
        e.invalid_mark = 1;
        memcpy(e.hash, p + 1, 32);
    } else if (hre_ledger__index_decode(&e.e, p, len, c->l->max_rec) == HRE_OK) {
        int rc = hre_header_hash(&e.e.header, e.hash);
        if (rc != HRE_OK)
            return rc;
    } else {
        c->bad = 1;
        return 0;
    }
    return ld_push(c, &e) == HRE_OK ? 0 : HRE_ENOMEM;
}

static int seg_cb(void *arg, uint64_t offset, const uint8_t *p, size_t len)
{
    load_ctx *c = arg;
    load_ent e;
    memset(&e, 0, sizeof e);
    if (hre_ledger__record_peek(p, len, &e.e.header, &e.e.tx_count) != HRE_OK) {
        c->bad = 1;
        return 0;
    }
    e.e.seg = c->cur_seg;
    e.e.offset = offset;
    e.e.rec_len = (uint32_t)len;
    if (hre_header_hash(&e.e.header, e.hash) != HRE_OK)
        return HRE_ECRYPTO;
    return ld_push(c, &e) == HRE_OK ? 0 : HRE_ENOMEM;
}

static int cmp_ent_pos(const load_ent *a, const load_ent *b)
{
    if (a->e.seg != b->e.seg)
        return a->e.seg < b->e.seg ? -1 : 1;
    return a->e.offset < b->e.offset ? -1 : a->e.offset > b->e.offset;
}

#define LEDGER__REBUILD 1

/* The first block entry at or after i (n if none). */
static size_t next_blk(const load_ctx *lc, size_t i, size_t n)
{
    while (i < n && lc->v[i].invalid_mark)
        i++;
    return i;
}

/* Load the block entries: index entries, then records of the segments from
 * the last indexed one on. Returns LEDGER__REBUILD when the index must be
 * rebuilt from all segments. */
static int load_entries(hre_ledger *l, load_ctx *lc, uint32_t nseg, int use_index)
{
    hre_storage__scan_info info;
    hre_storage__log *lg = NULL;
    uint32_t first = 0, s = 0, size_seg = UINT32_MAX;
    uint64_t size = 0;
    size_t i, j, k, ip = 0, n_idx, last_blk = SIZE_MAX;
    int rc;

    if (use_index) {
        rc = hre_storage__log_open(&l->idx_log, l->st, HRE_LEDGER__INDEX_FILE,
                                   HRE_STORAGE__LOG_CREATE, 256, idx_cb, lc, NULL);
        if (rc == HRE_ECORRUPT || rc == HRE_ELIMIT || lc->bad)
            return LEDGER__REBUILD;
        if (rc != HRE_OK)
            return rc;
    }
    n_idx = lc->n;
    for (i = 0; i < n_idx; i++)
        if (!lc->v[i].invalid_mark)
            last_blk = i;
    if (last_blk != SIZE_MAX)
        first = lc->v[last_blk].e.seg;
    if (last_blk != SIZE_MAX && first >= nseg)
        return hre__fail(HRE_ECORRUPT, "ledger: the index names segment %u, which is missing",
                         first);
    /* Earlier segments: readers only; entries must lie inside them. */
    for (s = 0; s < nseg; s++) {
        if ((rc = hre_ledger__seg_add_reader(l, s)) != HRE_OK)
            return rc == HRE_ENOTFOUND ? hre__fail(HRE_ECORRUPT, "ledger: segment %u missing", s)
                                       : rc;
    }
    for (i = 0; i < n_idx; i++) {
        const load_ent *e = &lc->v[i];
        if (e->invalid_mark)
            continue;
        if (e->e.seg >= nseg)
            return hre__fail(HRE_ECORRUPT, "ledger: the index names segment %u, which is missing",
                             e->e.seg);
        if (e->e.seg != size_seg) {
            size_seg = e->e.seg;
            if (hre_storage_file_size(l->segs[size_seg], &size) != HRE_OK)
                return hre__fail(HRE_EIO, "ledger: segment size unknown");
        }
        if (e->e.offset + HRE_STORAGE__REC_HDR + e->e.rec_len > size) {
            if (e->e.seg + 1 < nseg || e->e.seg < first)
                return LEDGER__REBUILD;
            /* Last segment: an indexed (hence synced) record past the end
             * means synced data was lost. */
            return hre__fail(HRE_ECORRUPT,
                             "ledger: " HRE_LEDGER__SEG_FMT " is shorter than its indexed blocks",
                             e->e.seg);
        }
    }
    /* Index block entries must be in storage order. */
    {
        const load_ent *prev = NULL;
        for (i = 0; i < n_idx; i++) {
            if (lc->v[i].invalid_mark)
                continue;
            if (prev && cmp_ent_pos(prev, &lc->v[i]) >= 0)
                return LEDGER__REBUILD;
            prev = &lc->v[i];
        }
    }
    /* Scan the segments from `first` on for records the index lacks. */
    for (s = first; s < nseg; s++) {
        char name[32];
        size_t before = lc->n;
        hre_ledger__seg_name(name, s);
        lc->cur_seg = s;
        rc = hre_storage__log_open(&lg, l->st, name, HRE_STORAGE__LOG_READONLY, l->max_rec, seg_cb,
                                   lc, &info);
        if (rc == HRE_ECORRUPT || rc == HRE_ELIMIT)
            return hre__fail(HRE_ECORRUPT, "ledger: %s damaged at offset %llu", name,
                             (unsigned long long)info.damage_at);
        if (rc != HRE_OK)
            return rc;
        (void)hre_storage__log_close(lg);
        lg = NULL;
        if (lc->bad)
            return hre__fail(HRE_ECORRUPT, "ledger: %s holds a record that is not a block", name);
        if (info.torn_tail && s + 1 < nseg)
            return hre__fail(HRE_ECORRUPT, "ledger: sealed segment %s damaged at offset %llu",
                             name, (unsigned long long)info.damage_at);
        /* Merge the index entries of this segment (ascending offsets) with
         * the scanned records (ascending): every indexed block must be a
         * scanned record with the same hash; scanned records the index
         * already has are dropped. */
        while ((ip = next_blk(lc, ip, n_idx)) < n_idx && lc->v[ip].e.seg < s)
            ip++;
        for (j = k = before; j < lc->n; j++) {
            ip = next_blk(lc, ip, n_idx);
            if (ip < n_idx && lc->v[ip].e.seg == s && lc->v[ip].e.offset < lc->v[j].e.offset)
                goto unmatched;
            if (ip < n_idx && lc->v[ip].e.seg == s && lc->v[ip].e.offset == lc->v[j].e.offset) {
                if (memcmp(lc->v[ip].hash, lc->v[j].hash, 32) != 0)
                    return LEDGER__REBUILD;
                ip++;
                continue;
            }
            lc->v[k++] = lc->v[j];
        }
        ip = next_blk(lc, ip, n_idx);
        if (ip < n_idx && lc->v[ip].e.seg == s)
            goto unmatched;
        lc->n = k;
        if (s + 1 == nseg) {
            l->seg_good_end = info.valid_end;
        }
    }
    /* Entries must be in storage order. */
    {
        const load_ent *prev = NULL;
        for (i = 0; i < lc->n; i++) {
            if (lc->v[i].invalid_mark)
                continue;
            if (prev && cmp_ent_pos(prev, &lc->v[i]) >= 0)
                return LEDGER__REBUILD;
            prev = &lc->v[i];
        }
    }
    /* Append entries found by scanning to the index. */
    if (l->idx_log) {
        for (i = n_idx; i < lc->n; i++) {
            uint8_t buf[HRE_LEDGER__IDX_LEN];
            hre_ledger__index_encode(buf, &lc->v[i].e);
            hre_ledger__index_append(l, buf, sizeof buf);
        }
        if (l->idx_log && lc->n > n_idx && hre_storage__log_sync(l->idx_log) != HRE_OK) {
            (void)hre_storage__log_close(l->idx_log);
            l->idx_log = NULL;
        }
    }
    return HRE_OK;
unmatched:
    /* An indexed block that the scan did not find where the index says. */
    if (info.torn_tail && lc->v[ip].e.offset >= info.valid_end)
        return hre__fail(HRE_ECORRUPT,
                         "ledger: " HRE_LEDGER__SEG_FMT " damaged at offset %llu (an indexed, "
                         "synced block is lost)", s, (unsigned long long)info.damage_at);
    return LEDGER__REBUILD;
}

static int build_tree(hre_ledger *l, load_ctx *lc)
{
    size_t i;
    for (i = 0; i < lc->n; i++) {
        const load_ent *e = &lc->v[i];
        hre_ledger__node *parent, *n;
        if (e->invalid_mark) {
            n = hre__map_get(&l->node_map, e->hash);
            if (n && n->parent)
                n->invalid = 1;
            continue;
        }
        if (hre__map_get(&l->node_map, e->hash))
            continue; /* stored twice (a retried write): keep the first */
        parent = hre__map_get(&l->node_map, e->e.header.prev_hash);
        if (!parent)
            return LEDGER__REBUILD;
        n = hre_ledger__node_new(l, &e->e.header, e->hash, parent);
        if (!n)
            return hre_error_last() == HRE_ENOMEM
                       ? HRE_ENOMEM
                       : hre__fail(HRE_ECORRUPT, "ledger: stored block with invalid bits");
        n->seg = e->e.seg;
        n->offset = e->e.offset;
        n->rec_len = e->e.rec_len;
        n->tx_count = e->e.tx_count;
        n->stored = 1;
        if (parent->invalid)
            n->invalid = 1;
        hre_ledger__node_link(l, n);
    }
    return HRE_OK;
}

static int rebuild_index_file(hre_ledger *l, load_ctx *lc)
{
    size_t i;
    int rc;
    (void)hre_storage_remove(l->st, HRE_LEDGER__INDEX_FILE);
    rc = hre_storage__log_open(&l->idx_log, l->st, HRE_LEDGER__INDEX_FILE, HRE_STORAGE__LOG_CREATE,
                               256, NULL, NULL, NULL);
    if (rc != HRE_OK)
        return hre_ledger__map_io(rc);
    for (i = 0; i < lc->n; i++) {
        uint8_t buf[HRE_LEDGER__IDX_LEN];
        hre_ledger__index_encode(buf, &lc->v[i].e);
        hre_ledger__index_append(l, buf, sizeof buf);
    }
    if (l->idx_log && (rc = hre_storage__log_sync(l->idx_log)) != HRE_OK)
        return hre_ledger__map_io(rc);
    return HRE_OK;
}

int hre_ledger__open_storage(hre_ledger *l)
{
    open_list ol;
    load_ctx lc;
    uint32_t nseg;
    int rc, attempt;
    char name[32];

    memset(&ol, 0, sizeof ol);
    ol.l = l;
    if ((rc = hre_storage__remove_temps(l->st, NULL)) != HRE_OK)
        return rc;
    if ((rc = hre_storage_list(l->st, list_cb, &ol)) != HRE_OK)
        return rc;
    if (ol.rc)
        return hre__fail(ol.rc, "ledger: out of memory");
    if ((rc = hre_ledger__params_file(l, ol.have_other)) != HRE_OK)
        return rc;
    snap_probe(l);
    nseg = ol.have_seg ? ol.max_seg + 1 : 0;
    for (attempt = 0; attempt < 2; attempt++) {
        memset(&lc, 0, sizeof lc);
        lc.l = l;
        rc = load_entries(l, &lc, nseg, attempt == 0);
        if (rc == HRE_OK)
            rc = build_tree(l, &lc);
        if (rc == HRE_OK && attempt == 1) {
            rc = rebuild_index_file(l, &lc);
            l->index_rebuilt = 1;
        }
        hre__free(lc.v);
        if (rc != LEDGER__REBUILD)
            break;
        /* Start over from the segments alone. */
        hre_ledger__close_storage(l);
        hre_ledger__tree_free(l);
        if ((rc = hre_ledger__tree_init(l)) != HRE_OK)
            return rc;
        rc = LEDGER__REBUILD;
    }
    if (rc == LEDGER__REBUILD)
        return hre__fail(HRE_ECORRUPT, "ledger: block segments are inconsistent");
    if (rc != HRE_OK)
        return rc;
    /* Open the last segment for appends (this cuts a torn tail). */
    if (nseg > 0) {
        hre_ledger__seg_name(name, nseg - 1);
        rc = hre_storage__log_open(&l->seg_log, l->st, name, 0, l->max_rec, NULL, NULL, NULL);
        if (rc == HRE_ECORRUPT || rc == HRE_ELIMIT)
            return hre__fail(HRE_ECORRUPT, "ledger: %s is damaged", name);
        if (rc != HRE_OK)
            return hre_ledger__map_io(rc);
        l->seg_good_end = hre_storage__log_end(l->seg_log);
    }
    return HRE_OK;
}
