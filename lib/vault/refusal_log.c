/* The holder's refusal audit log (PROTOCOL.md 15.8): a file of the vault's
 * storage holding a versioned header and a ring of fixed-size records, the
 * newest `cap` refusals, each with its own check so a torn write is dropped
 * without touching the others. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vault/internal.h"
#include "vault/exchange.h"

#define HDR ((size_t)HRE_VAULT_XCH_AUDIT_HEADER_LEN)
#define REC ((size_t)HRE_VAULT_XCH_AUDIT_RECORD_LEN)
#define MAGIC "HRE-XAUD"
#define FORMAT 1
#define FLAGS_KNOWN                                                                                        \
    (HRE_VAULT_XCH_AUDIT_HAS_PEER | HRE_VAULT_XCH_AUDIT_HAS_READER | HRE_VAULT_XCH_AUDIT_HAS_RECORD |     \
     HRE_VAULT_XCH_AUDIT_HAS_NONCE)

static const size_t audit_sizes[] = {0, HRE__END(hre_vault_xch_audit, request_hash)};
static const hre__vstruct audit_vs = {"hre_vault_xch_audit", 1, audit_sizes};

struct hre_vault__xaud {
    hre_vault *v;
    hre_storage_file *f;
    uint32_t cap;
    uint64_t next_seq;
    int dirty;                         /* written since the last sync */
};

static void aud_name(const hre_vault *v, char *out, const char *ext)
{
    snprintf(out, HRE_STORAGE_NAME_MAX + 1, "%s-refusals.%s", v->prefix, ext);
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    size_t i;
    for (i = 0; i < n; i++) acc |= p[i];
    return acc == 0;
}

void hre_vault__xaud_header_encode(uint8_t *b, uint32_t cap)
{
    memset(b, 0, HDR);
    memcpy(b, MAGIC, 8);
    b[8] = FORMAT;
    hre__put_le32(b + 12, (uint32_t)REC);
    hre__put_le32(b + 16, cap);
    hre__put_le32(b + 60, hre_storage__crc32(0, b, 60));
}

int hre_vault__xaud_header_decode(uint32_t *cap, const uint8_t *b, size_t len)
{
    uint32_t c;
    *cap = 0;
    if (!b || len < HDR) return hre__fail(HRE_ECORRUPT, "refusal log: header of %zu bytes (want %zu)", len, HDR);
    if (memcmp(b, MAGIC, 8) != 0) return hre__fail(HRE_ECORRUPT, "refusal log: not a refusal log (magic)");
    if (hre__le32(b + 60) != hre_storage__crc32(0, b, 60))
        return hre__fail(HRE_ECORRUPT, "refusal log: header check does not match");
    if (b[8] == 0) return hre__fail(HRE_ECORRUPT, "refusal log: header format 0");
    if (b[8] > FORMAT) return hre__fail(HRE_EUNSUPPORTED, "refusal log: format %u is newer than %u", b[8], FORMAT);
    c = hre__le32(b + 16);
    if (!all_zero(b + 9, 3) || !all_zero(b + 20, 40) || hre__le32(b + 12) != REC || c == 0 ||
        c > HRE_VAULT_XCH_AUDIT_MAX_LIMIT)
        return hre__fail(HRE_ECORRUPT, "refusal log: header fields (record length %u, capacity %u, reserved)",
                         (unsigned)hre__le32(b + 12), (unsigned)c);
    *cap = c;
    return HRE_OK;
}

void hre_vault__xaud_record_encode(uint8_t *b, const hre_vault_xch_audit *r)
{
    memset(b, 0, REC);
    hre__put_le64(b, r->seq);
    hre__put_le64(b + 8, r->time_ms);
    hre__put_le64(b + 16, r->conn);
    b[24] = r->reason;
    b[25] = r->access_reason;
    b[26] = (uint8_t)(r->flags & FLAGS_KNOWN);
    if (r->flags & HRE_VAULT_XCH_AUDIT_HAS_PEER) memcpy(b + 28, r->peer_key, 34);
    if (r->flags & HRE_VAULT_XCH_AUDIT_HAS_READER) memcpy(b + 62, r->reader, 32);
    if (r->flags & HRE_VAULT_XCH_AUDIT_HAS_RECORD) memcpy(b + 94, r->record_id, 32);
    if (r->flags & HRE_VAULT_XCH_AUDIT_HAS_NONCE) memcpy(b + 126, r->nonce, 16);
    memcpy(b + 142, r->request_hash, 32);
    hre__put_le32(b + 188, hre_storage__crc32(0, b, 188));
}

int hre_vault__xaud_record_decode(hre_vault_xch_audit *out, const uint8_t *b, size_t len)
{
    hre_vault_xch_audit r;
    memset(out, 0, sizeof *out);
    if (!b || len != REC) return hre__fail(HRE_EDECODE, "refusal log: a record is %zu bytes, not %zu", REC, len);
    if (all_zero(b, REC)) return HRE_ENOTFOUND;   /* an empty slot (no detail: not an error) */
    if (hre__le32(b + 188) != hre_storage__crc32(0, b, 188))
        return hre__fail(HRE_EDECODE, "refusal log: record check does not match (torn)");
    memset(&r, 0, sizeof r);
    r.version = HRE_VAULT_XCH_AUDIT_VERSION;
    r.seq = hre__le64(b);
    r.time_ms = hre__le64(b + 8);
    r.conn = hre__le64(b + 16);
    r.reason = b[24];
    r.access_reason = b[25];
    r.flags = b[26];
    memcpy(r.peer_key, b + 28, 34);
    memcpy(r.reader, b + 62, 32);
    memcpy(r.record_id, b + 94, 32);
    memcpy(r.nonce, b + 126, 16);
    memcpy(r.request_hash, b + 142, 32);
    if (r.seq == 0 || r.reason < 1 || r.reason > HRE_VAULT_XCH_REFUSE_MAX || r.access_reason > 8 ||
        (r.flags & ~FLAGS_KNOWN) || b[27] != 0 || !all_zero(b + 174, 14) ||
        (!(r.flags & HRE_VAULT_XCH_AUDIT_HAS_PEER) && !all_zero(r.peer_key, 34)) ||
        (!(r.flags & HRE_VAULT_XCH_AUDIT_HAS_READER) && !all_zero(r.reader, 32)) ||
        (!(r.flags & HRE_VAULT_XCH_AUDIT_HAS_RECORD) && !all_zero(r.record_id, 32)) ||
        (!(r.flags & HRE_VAULT_XCH_AUDIT_HAS_NONCE) && !all_zero(r.nonce, 16)))
        return hre__fail(HRE_ECORRUPT, "refusal log: record %llu is not canonical (reason %u, access %u, "
                                       "flags 0x%02x, reserved bytes)",
                         (unsigned long long)r.seq, r.reason, r.access_reason, r.flags);
    *out = r;
    return HRE_OK;
}

static int seq_cmp(const void *a, const void *b)
{
    const hre_vault_xch_audit *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Read every record of an open log file, oldest first, into *out (malloc'd,
 * *n records; torn and empty slots left out) and its capacity into *cap. */
static int load(hre_storage_file *f, uint32_t *cap, hre_vault_xch_audit **out, size_t *n)
{
    uint8_t h[HDR], *buf = NULL;
    uint64_t size = 0, slots, i;
    size_t got = sizeof h, k = 0;
    hre_vault_xch_audit *recs = NULL;
    int rc;
    *out = NULL;
    *n = 0;
    if ((rc = hre_storage_file_size(f, &size)) != HRE_OK) return rc;
    if (size < HDR) return hre__fail(HRE_ECORRUPT, "refusal log: %llu bytes, shorter than its header",
                                     (unsigned long long)size);
    if ((rc = hre_storage_file_read(f, h, sizeof h, &got, 0)) != HRE_OK) return rc;
    if ((rc = hre_vault__xaud_header_decode(cap, h, got)) != HRE_OK) return rc;
    if (size > HDR + (uint64_t)*cap * REC)
        return hre__fail(HRE_ECORRUPT, "refusal log: %llu bytes, more than %u records hold",
                         (unsigned long long)size, (unsigned)*cap);
    slots = (size - HDR) / REC;        /* a partial last slot is a torn append: dropped */
    if (slots == 0) return HRE_OK;
    if (!(buf = malloc((size_t)slots * REC)) || !(recs = calloc((size_t)slots, sizeof *recs))) {
        free(buf);
        return hre__fail(HRE_ENOMEM, "refusal log: out of memory");
    }
    got = (size_t)slots * REC;
    if ((rc = hre_storage_file_read(f, buf, got, &got, HDR)) != HRE_OK) goto done;
    if (got != (size_t)slots * REC) {
        rc = hre__fail(HRE_EIO, "refusal log: short read");
        goto done;
    }
    for (i = 0; i < slots; i++) {
        rc = hre_vault__xaud_record_decode(&recs[k], buf + i * REC, REC);
        if (rc == HRE_ENOTFOUND || rc == HRE_EDECODE) continue;   /* empty, or torn */
        if (rc != HRE_OK) {
            char d[200];
            snprintf(d, sizeof d, "%s", hre_error_detail());
            rc = hre__fail(rc, "slot %llu (offset %llu): %s", (unsigned long long)i,
                           (unsigned long long)(HDR + i * REC), d);
            goto done;
        }
        if ((recs[k].seq - 1) % *cap != i) {
            rc = hre__fail(HRE_ECORRUPT, "refusal log: record %llu in slot %llu, not its own",
                           (unsigned long long)recs[k].seq, (unsigned long long)i);
            goto done;
        }
        k++;
    }
    qsort(recs, k, sizeof *recs, seq_cmp);
    *out = recs;
    *n = k;
    recs = NULL;
    rc = HRE_OK;
done:
    free(buf);
    free(recs);
    return rc;
}

/* A new log file named `name` of capacity cap holding recs (the newest cap
 * of them), written through `tmp`, synced and renamed into place. */
static int create(hre_vault *v, uint32_t cap, const hre_vault_xch_audit *recs, size_t n)
{
    char tmp[HRE_STORAGE_NAME_MAX + 1], name[HRE_STORAGE_NAME_MAX + 1];
    uint8_t b[HRE_VAULT_XCH_AUDIT_RECORD_LEN];
    hre_storage_file *f = NULL;
    size_t i = n > cap ? n - cap : 0;
    int rc, crc;
    aud_name(v, tmp, "aun");
    aud_name(v, name, "aud");
    rc = hre_storage_file_open(&f, v->st, tmp, HRE_STORAGE_READ | HRE_STORAGE_WRITE | HRE_STORAGE_CREATE |
                                                    HRE_STORAGE_TRUNCATE);
    if (rc != HRE_OK) return rc;
    hre_vault__xaud_header_encode(b, cap);
    rc = hre_storage_file_write(f, 0, b, HDR);
    /* the kept records have seqs > newest - cap: distinct slots */
    for (; rc == HRE_OK && i < n; i++) {
        if (recs[i].seq + cap <= recs[n - 1].seq) continue;
        hre_vault__xaud_record_encode(b, &recs[i]);
        rc = hre_storage_file_write(f, HDR + ((recs[i].seq - 1) % cap) * (uint64_t)REC, b, REC);
    }
    if (rc == HRE_OK) rc = hre_storage_file_sync(f);
    crc = hre_storage_file_close(f);
    if (rc == HRE_OK) rc = crc;
    if (rc == HRE_OK) rc = hre_storage_rename(v->st, tmp, name);
    if (rc == HRE_OK) rc = hre_storage_sync_dir(v->st);
    if (rc != HRE_OK) (void)hre_storage_remove(v->st, tmp);
    return rc;
}

int hre_vault__xaud_open(hre_vault__xaud **out, hre_vault *v, uint32_t cap)
{
    char name[HRE_STORAGE_NAME_MAX + 1];
    hre_vault__xaud *a;
    hre_vault_xch_audit *recs = NULL;
    size_t n = 0;
    uint32_t fcap = 0;
    hre_storage_file *f = NULL;
    int rc;
    *out = NULL;
    aud_name(v, name, "aud");
    rc = hre_storage_file_open(&f, v->st, name, HRE_STORAGE_READ | HRE_STORAGE_WRITE);
    if (rc == HRE_ENOTFOUND) {
        if ((rc = create(v, cap, NULL, 0)) != HRE_OK) return rc;
        fcap = cap;
    } else if (rc != HRE_OK) {
        return rc;
    } else {
        rc = load(f, &fcap, &recs, &n);
        (void)hre_storage_file_close(f);
        f = NULL;
        if (rc != HRE_OK) return rc;
        if (fcap != cap) {
            /* the operator changed the cap: keep the newest records */
            rc = create(v, cap, recs, n);
            if (rc != HRE_OK) {
                free(recs);
                return rc;
            }
        }
    }
    if (!(a = calloc(1, sizeof *a))) {
        free(recs);
        return hre__fail(HRE_ENOMEM, "refusal log: out of memory");
    }
    a->v = v;
    a->cap = cap;
    a->next_seq = n ? recs[n - 1].seq + 1 : 1;
    free(recs);
    if ((rc = hre_storage_file_open(&a->f, v->st, name, HRE_STORAGE_READ | HRE_STORAGE_WRITE)) != HRE_OK) {
        free(a);
        return rc;
    }
    *out = a;
    return HRE_OK;
}

int hre_vault__xaud_append(hre_vault__xaud *a, hre_vault_xch_audit *r)
{
    uint8_t b[REC];
    int rc;
    r->seq = a->next_seq;
    hre_vault__xaud_record_encode(b, r);
    rc = hre_storage_file_write(a->f, HDR + ((r->seq - 1) % a->cap) * (uint64_t)REC, b, REC);
    if (rc != HRE_OK) return rc;
    a->next_seq++;
    a->dirty = 1;
    return HRE_OK;
}

int hre_vault__xaud_sync(hre_vault__xaud *a)
{
    int rc;
    if (!a->dirty) return HRE_OK;
    if ((rc = hre_storage_file_sync(a->f)) != HRE_OK) return rc;
    a->dirty = 0;
    return HRE_OK;
}

void hre_vault__xaud_close(hre_vault__xaud *a)
{
    if (!a) return;
    (void)hre_vault__xaud_sync(a);
    (void)hre_storage_file_close(a->f);
    free(a);
}

HRE_API int hre_vault_xch_refusals(hre_vault *v, hre_vault_xch_audit *out, size_t elem_size, size_t *n)
{
    HRE__API_SCOPE;
    char name[HRE_STORAGE_NAME_MAX + 1];
    hre_storage_file *f = NULL;
    hre_vault_xch_audit *recs = NULL;
    size_t k = 0, i;
    uint32_t cap = 0;
    unsigned int ver;
    int rc;
    HRE__CHECK_ARG(v && n && (out || *n == 0));
    if ((rc = hre__vstruct_for_size(&audit_vs, elem_size, &ver)) != HRE_OK) return rc;
    aud_name(v, name, "aud");
    rc = hre_storage_file_open(&f, v->st, name, HRE_STORAGE_READ);
    if (rc == HRE_ENOTFOUND) {
        *n = 0;
        return hre__api_done(HRE_OK);
    }
    if (rc != HRE_OK) return rc;
    rc = load(f, &cap, &recs, &k);
    (void)hre_storage_file_close(f);
    if (rc != HRE_OK) return rc;
    if (*n < k) {
        *n = k;
        free(recs);
        return hre__fail(HRE_EBUFSIZE, "hre_vault_xch_refusals: room for %zu records needed", k);
    }
    for (i = 0; i < k; i++) hre__vstruct_put(&audit_vs, out, elem_size, i, ver, &recs[i]);
    *n = k;
    free(recs);
    return hre__api_done(HRE_OK);
}
