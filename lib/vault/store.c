/* The vault handle (PROTOCOL.md 14.5-14.6): the index (a record log
 * replayed into hash tables at open), the files of a prefix, recovery at
 * open, storing and importing envelopes, wraps files, and the queries. */
#include <stdio.h>
#include <string.h>

#include "vault/internal.h"
#include "hre/hash.h"

static const uint8_t zeros[65536];

/* ------------------------------------------------------------------------ */
/* Names                                                                     */
/* ------------------------------------------------------------------------ */

static void hex(char *out, const uint8_t *p, size_t n)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void hre_vault__name(const hre_vault *v, char *out, const uint8_t hash[32], const char *ext)
{
    char h[HRE_VAULT__NAME_HASH_HEX + 1];
    hex(h, hash, HRE_VAULT__NAME_HASH_HEX / 2);
    snprintf(out, HRE_STORAGE_NAME_MAX + 1, "%s-%s.%s", v->prefix, h, ext);
}

static void index_name(const hre_vault *v, char *out)
{
    snprintf(out, HRE_STORAGE_NAME_MAX + 1, "%s-index.log", v->prefix);
}

static void temp_name(const hre_vault *v, char *out, const uint8_t rnd[8])
{
    char h[17];
    hex(h, rnd, 8);
    snprintf(out, HRE_STORAGE_NAME_MAX + 1, "%s-t%s.part", v->prefix, h);
}

/* ------------------------------------------------------------------------ */
/* In-memory index                                                           */
/* ------------------------------------------------------------------------ */

static uint64_t mix(uint64_t seed, const uint8_t *p, size_t n, uint64_t extra)
{
    uint64_t h = seed ^ (extra * 0x9E3779B97F4A7C15ULL);
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h ^= w;
        h *= 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
    }
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 29);
}

static uint64_t key_hash(const hre_vault *v, const uint8_t *hash) { return mix(v->seed, hash, 24, 1); }
static uint64_t key_loc(const hre_vault *v, const uint8_t *loc, uint32_t ver)
{
    return mix(v->seed, loc, 32, 2 + (uint64_t)ver);
}
static uint64_t key_rec(const hre_vault *v, const uint8_t *rec) { return mix(v->seed, rec, 32, 3); }

static int tab_grow(hre_vault__tab *t, const hre_vault *v, int which)
{
    size_t ncap = t->cap ? t->cap * 2 : 1024;
    uint32_t *ns = hre__calloc(ncap, sizeof *ns);
    if (!ns) return hre__fail(HRE_ENOMEM, "vault: out of memory for the index");
    for (size_t i = 0; i < t->cap; i++) {
        uint32_t s = t->slot[i];
        const hre_vault__ent *e;
        uint64_t h;
        if (!s) continue;
        e = &v->ents[s - 1];
        h = which == 0 ? key_hash(v, e->hash)
          : which == 1 ? key_loc(v, e->locator, e->doc_version) : key_rec(v, e->record);
        for (size_t j = (size_t)h & (ncap - 1);; j = (j + 1) & (ncap - 1))
            if (!ns[j]) {
                ns[j] = s;
                break;
            }
    }
    hre__free(t->slot);
    t->slot = ns;
    t->cap = ncap;
    return HRE_OK;
}

static int tab_put(hre_vault__tab *t, const hre_vault *v, int which, uint64_t h, size_t idx)
{
    int rc;
    if ((t->used + 1) * 2 > t->cap && (rc = tab_grow(t, v, which)) != HRE_OK) return rc;
    for (size_t j = (size_t)h & (t->cap - 1);; j = (j + 1) & (t->cap - 1))
        if (!t->slot[j]) {
            t->slot[j] = (uint32_t)(idx + 1);
            t->used++;
            return HRE_OK;
        }
}

hre_vault__ent *hre_vault__find_prefix(const hre_vault *v, const uint8_t prefix24[24])
{
    const hre_vault__tab *t = &v->by_hash;
    if (!t->cap) return NULL;
    for (size_t j = (size_t)key_hash(v, prefix24) & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
        uint32_t s = t->slot[j];
        if (!s) return NULL;
        if (memcmp(v->ents[s - 1].hash, prefix24, 24) == 0) return &v->ents[s - 1];
    }
}

hre_vault__ent *hre_vault__find(const hre_vault *v, const uint8_t hash[32])
{
    hre_vault__ent *e = hre_vault__find_prefix(v, hash);
    return e && memcmp(e->hash, hash, 32) == 0 ? e : NULL;
}

hre_vault__ent *hre_vault__find_locator(const hre_vault *v, const uint8_t locator[32],
                                        uint32_t doc_version)
{
    const hre_vault__tab *t = &v->by_loc;
    if (!t->cap) return NULL;
    for (size_t j = (size_t)key_loc(v, locator, doc_version) & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
        uint32_t s = t->slot[j];
        if (!s) return NULL;
        if (v->ents[s - 1].doc_version == doc_version && memcmp(v->ents[s - 1].locator, locator, 32) == 0)
            return &v->ents[s - 1];
    }
}

hre_vault__ent *hre_vault__find_record(const hre_vault *v, const uint8_t record[32])
{
    const hre_vault__tab *t = &v->by_rec;
    if (!t->cap) return NULL;
    for (size_t j = (size_t)key_rec(v, record) & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
        uint32_t s = t->slot[j];
        if (!s) return NULL;
        if (memcmp(v->ents[s - 1].record, record, 32) == 0) return &v->ents[s - 1];
    }
}

int hre_vault__pending_has(const hre_vault *v, const uint8_t record[32])
{
    for (size_t i = 0; i < v->npending; i++)
        if (memcmp(v->pending[i], record, 32) == 0) return 1;
    return 0;
}

/* Apply one index record to memory. HRE_ECORRUPT for an inconsistent one. */
static int apply(hre_vault *v, const uint8_t *p, size_t len)
{
    hre_vault__ent *e;
    int rc;
    if (len == 0) return hre__fail(HRE_ECORRUPT, "vault index: empty record");
    switch (p[0]) {
    case HRE_VAULT__REC_ADD: {
        hre_vault__ent ne;
        if (len != 1 + 32 + 32 + 4 + 8) break;
        memset(&ne, 0, sizeof ne);
        memcpy(ne.hash, p + 1, 32);
        memcpy(ne.locator, p + 33, 32);
        ne.doc_version = hre__le32(p + 65);
        ne.env_len = hre__le64(p + 69);
        ne.state = HRE_VAULT_PRESENT;
        if (ne.doc_version == 0 || ne.env_len == 0) break;
        if (hre_vault__find_prefix(v, ne.hash))
            return hre__fail(HRE_ECORRUPT, "vault index: a document added twice");
        if (v->n == UINT32_MAX - 1) return hre__fail(HRE_ELIMIT, "vault index: too many documents");
        if (v->n == v->cap) {
            size_t ncap = v->cap ? v->cap * 2 : 256;
            hre_vault__ent *ne2 = hre__realloc(v->ents, ncap * sizeof *ne2);
            if (!ne2) return hre__fail(HRE_ENOMEM, "vault: out of memory for the index");
            v->ents = ne2;
            v->cap = ncap;
        }
        v->ents[v->n] = ne;
        if ((rc = tab_put(&v->by_hash, v, 0, key_hash(v, ne.hash), v->n)) != HRE_OK) return rc;
        if (!hre_vault__find_locator(v, ne.locator, ne.doc_version) &&
            (rc = tab_put(&v->by_loc, v, 1, key_loc(v, ne.locator, ne.doc_version), v->n)) != HRE_OK)
            return rc;
        v->n++;
        v->present++;
        v->env_bytes += ne.env_len;
        return HRE_OK;
    }
    case HRE_VAULT__REC_ERASE:
        if (len != 33) break;
        if (!(e = hre_vault__find(v, p + 1)))
            return hre__fail(HRE_ECORRUPT, "vault index: erasure of an unknown document");
        if (e->state == HRE_VAULT_PRESENT) {
            e->state = HRE_VAULT_ERASED;
            v->present--;
            v->erased++;
            v->env_bytes -= e->env_len;
        }
        return HRE_OK;
    case HRE_VAULT__REC_BIND:
        if (len != 65) break;
        if (!(e = hre_vault__find(v, p + 1)))
            return hre__fail(HRE_ECORRUPT, "vault index: binding of an unknown document");
        if (e->has_record) {
            if (memcmp(e->record, p + 33, 32) == 0) return HRE_OK;
            return hre__fail(HRE_ECORRUPT, "vault index: a document bound to two records");
        }
        if (hre_vault__find_record(v, p + 33))
            return hre__fail(HRE_ECORRUPT, "vault index: a record bound to two documents");
        memcpy(e->record, p + 33, 32);
        e->has_record = 1;
        return tab_put(&v->by_rec, v, 2, key_rec(v, e->record), (size_t)(e - v->ents));
    case HRE_VAULT__REC_PENDING:
        if (len != 33) break;
        if (hre_vault__pending_has(v, p + 1)) return HRE_OK;
        if (v->npending == v->cap_pending) {
            size_t ncap = v->cap_pending ? v->cap_pending * 2 : 16;
            uint8_t (*np)[32] = hre__realloc(v->pending, ncap * 32);
            if (!np) return hre__fail(HRE_ENOMEM, "vault: out of memory");
            v->pending = np;
            v->cap_pending = ncap;
        }
        memcpy(v->pending[v->npending++], p + 1, 32);
        return HRE_OK;
    case HRE_VAULT__REC_PENDING_DONE:
        if (len != 33) break;
        for (size_t i = 0; i < v->npending; i++)
            if (memcmp(v->pending[i], p + 1, 32) == 0) {
                memmove(v->pending[i], v->pending[i + 1], (v->npending - i - 1) * 32);
                v->npending--;
                break;
            }
        return HRE_OK;
    default:
        return hre__fail(HRE_ECORRUPT, "vault index: unknown record type %u", p[0]);
    }
    return hre__fail(HRE_ECORRUPT, "vault index: malformed record of type %u (%zu bytes)", p[0], len);
}

int hre_vault__alive(const hre_vault *v)
{
    if (v->fatal)
        return hre__fail(HRE_EFATAL, "vault: the storage failed earlier; close and reopen the vault");
    return HRE_OK;
}

int hre_vault__log_put(hre_vault *v, const uint8_t *payload, size_t len)
{
    int rc = hre_storage__log_append(v->log, payload, len, NULL);
    if (rc != HRE_OK) {
        /* Clean only if the log took the partial record back (its file is
         * as long as its end); otherwise the record may or may not be in
         * the file, and only a reopen can tell. */
        char why[256];
        uint64_t size = 0;
        int saved = hre_error_last();
        snprintf(why, sizeof why, "%s", hre_error_detail());
        if (rc == HRE_ESTATE || hre_storage_file_size(hre_storage__log_file(v->log), &size) != HRE_OK ||
            size != hre_storage__log_end(v->log))
            v->fatal = 1;
        return hre__fail(saved, "%s", why);
    }
    if ((rc = hre_storage__log_sync(v->log)) != HRE_OK) {
        v->fatal = 1;
        return rc;
    }
    if ((rc = apply(v, payload, len)) != HRE_OK) v->fatal = 1;   /* memory no longer matches */
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

int hre_vault__shred(hre_vault *v, const char *name)
{
    hre_storage_file *f = NULL;
    uint64_t size = 0, off;
    int rc = hre_storage_file_open(&f, v->st, name, HRE_STORAGE_READ | HRE_STORAGE_WRITE);
    if (rc == HRE_ENOTFOUND) return HRE_OK;
    if (rc != HRE_OK) return rc;
    rc = hre_storage_file_size(f, &size);
    for (off = 0; rc == HRE_OK && off < size;) {
        size_t n = size - off > sizeof zeros ? sizeof zeros : (size_t)(size - off);
        rc = hre_storage_file_write(f, off, zeros, n);
        off += n;
    }
    if (rc == HRE_OK && size) rc = hre_storage_file_sync(f);
    if (hre_storage_file_close(f) != HRE_OK && rc == HRE_OK) rc = HRE_EIO;
    if (rc != HRE_OK) return rc;
    rc = hre_storage_remove(v->st, name);
    return rc == HRE_ENOTFOUND ? HRE_OK : rc;
}

static int wraps_parse(const uint8_t *buf, size_t len, const uint8_t hash[32], hre_vault_wrap **out,
                       size_t *n, const char *name)
{
    hre_storage__record rec;
    size_t count;
    hre_vault_wrap *w;
    *out = NULL;
    *n = 0;
    if (hre_storage__record_decode(&rec, buf, len, HRE_VAULT__WRAPS_FILE_MAX) != HRE_OK ||
        HRE_STORAGE__REC_HDR + (size_t)rec.len != len || rec.batch != 0 ||
        rec.len < HRE_VAULT__WRAPS_HDR)
        return hre__fail(HRE_ECORRUPT, "vault: %s is damaged (frame)", name);
    if (rec.payload[0] != HRE_VAULT__WRAPS_FORMAT || memcmp(rec.payload + 1, hash, 32) != 0)
        return hre__fail(HRE_ECORRUPT, "vault: %s is not this document's wraps file", name);
    count = hre__le16(rec.payload + 33);
    if (count > HRE_VAULT_WRAPS_MAX || rec.len != HRE_VAULT__WRAPS_HDR + count * HRE_VAULT_WRAP_LEN)
        return hre__fail(HRE_ECORRUPT, "vault: %s has a bad wrap count", name);
    w = hre__calloc(count ? count : 1, sizeof *w);
    if (!w) return hre__fail(HRE_ENOMEM, "vault: out of memory");
    for (size_t i = 0; i < count; i++) {
        if (hre_vault__wrap_decode(&w[i], rec.payload + HRE_VAULT__WRAPS_HDR + i * HRE_VAULT_WRAP_LEN,
                                   HRE_VAULT_WRAP_LEN) != HRE_OK ||
            memcmp(w[i].doc_hash, hash, 32) != 0) {
            hre__free(w);
            return hre__fail(HRE_ECORRUPT, "vault: wrap %zu of %s is damaged", i, name);
        }
    }
    *out = w;
    *n = count;
    return HRE_OK;
}

static int wraps_load_name(hre_vault *v, const char *name, const uint8_t hash[32], hre_vault_wrap **out,
                           size_t *n)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = hre_storage__read_all(v->st, name, HRE_VAULT__WRAPS_FILE_MAX, &buf, &len);
    *out = NULL;
    *n = 0;
    if (rc == HRE_ELIMIT) return hre__fail(HRE_ECORRUPT, "vault: %s is too long", name);
    if (rc == HRE_ENOTFOUND) return hre__fail(HRE_ENOTFOUND, "vault: %s is missing", name);
    if (rc != HRE_OK) return rc;
    rc = wraps_parse(buf, len, hash, out, n, name);
    hre__free(buf);
    return rc;
}

int hre_vault__wraps_load(hre_vault *v, const uint8_t hash[32], hre_vault_wrap **out, size_t *n)
{
    char name[HRE_STORAGE_NAME_MAX + 1];
    int rc;
    hre_vault__name(v, name, hash, "wr");
    rc = wraps_load_name(v, name, hash, out, n);
    if (rc == HRE_ENOTFOUND) return hre__fail(HRE_ECORRUPT, "vault: %s is missing", name);
    return rc;
}

int hre_vault__wraps_write(hre_vault *v, const char *name, const uint8_t hash[32],
                           const hre_vault_wrap *w, size_t n)
{
    size_t plen = HRE_VAULT__WRAPS_HDR + n * HRE_VAULT_WRAP_LEN;
    uint8_t *buf;
    hre_storage_file *f = NULL;
    int rc, crc;
    if (n > HRE_VAULT_WRAPS_MAX) return hre__fail(HRE_ELIMIT, "vault: more than %d wraps", HRE_VAULT_WRAPS_MAX);
    buf = hre__malloc(HRE_STORAGE__REC_HDR + plen);
    if (!buf) return hre__fail(HRE_ENOMEM, "vault: out of memory");
    buf[HRE_STORAGE__REC_HDR] = HRE_VAULT__WRAPS_FORMAT;
    memcpy(buf + HRE_STORAGE__REC_HDR + 1, hash, 32);
    hre__put_le16(buf + HRE_STORAGE__REC_HDR + 33, (uint16_t)n);
    for (size_t i = 0; i < n; i++)
        hre_vault__wrap_put(buf + HRE_STORAGE__REC_HDR + HRE_VAULT__WRAPS_HDR + i * HRE_VAULT_WRAP_LEN, &w[i]);
    hre_storage__record_header(buf, buf + HRE_STORAGE__REC_HDR, (uint32_t)plen, 0);
    rc = hre_storage_file_open(&f, v->st, name,
                               HRE_STORAGE_WRITE | HRE_STORAGE_CREATE | HRE_STORAGE_TRUNCATE);
    if (rc == HRE_OK) rc = hre_storage_file_write(f, 0, buf, HRE_STORAGE__REC_HDR + plen);
    if (rc == HRE_OK) rc = hre_storage_file_sync(f);
    crc = hre_storage_file_close(f);
    if (rc == HRE_OK && crc != HRE_OK) rc = crc;
    hre__free(buf);
    return rc;
}

int hre_vault__wraps_replace(hre_vault *v, const uint8_t hash[32], const hre_vault_wrap *w,
                             size_t n)
{
    char wr[HRE_STORAGE_NAME_MAX + 1], wn[HRE_STORAGE_NAME_MAX + 1];
    int rc;
    hre_vault__name(v, wr, hash, "wr");
    hre_vault__name(v, wn, hash, "wn");
    if ((rc = hre_vault__wraps_write(v, wn, hash, w, n)) != HRE_OK) {
        (void)hre_storage_remove(v->st, wn);
        return rc;
    }
    if ((rc = hre_storage_sync_dir(v->st)) != HRE_OK) {
        (void)hre_storage_remove(v->st, wn);
        return rc;
    }
    {
        hre_storage_file *f = NULL;
        uint64_t size = 0;
        rc = hre_storage_file_open(&f, v->st, wr, HRE_STORAGE_READ | HRE_STORAGE_WRITE);
        if (rc == HRE_OK) rc = hre_storage_file_size(f, &size);
        for (uint64_t off = 0; rc == HRE_OK && off < size;) {
            size_t k = size - off > sizeof zeros ? sizeof zeros : (size_t)(size - off);
            rc = hre_storage_file_write(f, off, zeros, k);
            off += k;
        }
        if (rc == HRE_OK) rc = hre_storage_file_sync(f);
        if (f && hre_storage_file_close(f) != HRE_OK && rc == HRE_OK) rc = HRE_EIO;
        if (rc != HRE_OK) {
            /* The old file may be half zeroed: only the new one is whole now. */
            v->fatal = 1;
            return rc;
        }
    }
    rc = hre_storage_rename(v->st, wn, wr);
    if (rc == HRE_OK) rc = hre_storage_sync_dir(v->st);
    if (rc != HRE_OK) v->fatal = 1;   /* the next open completes the rename */
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Open and recovery                                                         */
/* ------------------------------------------------------------------------ */

static int replay_cb(void *arg, uint64_t offset, const uint8_t *payload, size_t len)
{
    hre_vault *v = arg;
    if (offset == 0) {
        if (len != 1 + 8 + 1 || payload[0] != HRE_VAULT__REC_HEADER ||
            memcmp(payload + 1, HRE_VAULT__INDEX_MAGIC, 8) != 0)
            return hre__fail(HRE_ECORRUPT, "vault index: the first record is not the index header");
        if (payload[9] != HRE_VAULT__INDEX_FORMAT)
            return hre__fail(HRE_EUNSUPPORTED, "vault index: format %u (this library knows %d)",
                             payload[9], HRE_VAULT__INDEX_FORMAT);
        return HRE_OK;
    }
    if (len > 0 && payload[0] == HRE_VAULT__REC_HEADER)
        return hre__fail(HRE_ECORRUPT, "vault index: a second header at offset %llu",
                         (unsigned long long)offset);
    {
        int rc = apply(v, payload, len);
        if (rc != HRE_OK) {
            char why[200];
            snprintf(why, sizeof why, "%s", hre_error_detail());
            return hre__fail(rc, "%s (index offset %llu)", why, (unsigned long long)offset);
        }
    }
    return HRE_OK;
}

/* Names of the prefix that recovery has to act on. */
typedef struct scan {
    hre_vault *v;
    char (*names)[HRE_STORAGE_NAME_MAX + 1];
    size_t n, cap;
    int rc;
} scan;

static int classify(const hre_vault *v, const char *name, uint8_t prefix24[24]);

static int scan_cb(void *arg, const char *name)
{
    scan *s = arg;
    size_t pl = strlen(s->v->prefix);
    uint8_t p24[24];
    int kind;
    const hre_vault__ent *e;
    if (strncmp(name, s->v->prefix, pl) != 0 || name[pl] != '-') return 0;
    /* Only the names that need action (or, for verify, are a problem) are
     * kept: the index and the files of present documents are the rest. */
    kind = classify(s->v, name, p24);
    if (kind == 0 || kind == 5) return 0;
    e = kind <= 3 ? hre_vault__find_prefix(s->v, p24) : NULL;
    if ((kind == 1 || kind == 2) && e && e->state == HRE_VAULT_PRESENT) return 0;
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        char (*nn)[HRE_STORAGE_NAME_MAX + 1] = hre__realloc(s->names, ncap * sizeof *nn);
        if (!nn) {
            s->rc = hre__fail(HRE_ENOMEM, "vault open: out of memory listing files");
            return 1;
        }
        s->names = nn;
        s->cap = ncap;
    }
    snprintf(s->names[s->n++], HRE_STORAGE_NAME_MAX + 1, "%s", name);
    return 0;
}

/* Classify a name of the prefix: 1 = envelope, 2 = wraps, 3 = new wraps,
 * 4 = temporary, 5 = the index, 0 = unknown. prefix24 gets the hash prefix. */
static int classify(const hre_vault *v, const char *name, uint8_t prefix24[24])
{
    const char *p = name + strlen(v->prefix) + 1;
    size_t len = strlen(p);
    if (strcmp(p, "index.log") == 0) return 5;
    if (len == 1 + 16 + 5 && p[0] == 't' && strcmp(p + 17, ".part") == 0) return 4;
    if (strcmp(p, "refusals.aun") == 0) return 4;   /* a refusal log's interrupted (re)creation */
    if (len > HRE_VAULT__NAME_HASH_HEX + 1 && p[HRE_VAULT__NAME_HASH_HEX] == '.') {
        size_t n = 24;
        const char *ext = p + HRE_VAULT__NAME_HASH_HEX + 1;
        for (int i = 0; i < HRE_VAULT__NAME_HASH_HEX; i++)
            if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) return 0;
        if (hre_hex_decode(prefix24, &n, p, HRE_VAULT__NAME_HASH_HEX) != HRE_OK) return 0;
        if (strcmp(ext, "env") == 0) return 1;
        if (strcmp(ext, "wr") == 0) return 2;
        if (strcmp(ext, "wn") == 0) return 3;
    }
    return 0;
}

/* Make the files agree with the index (PROTOCOL.md 14.6, "Recovery"). */
static int recover(hre_vault *v, uint64_t *removed, uint64_t *shredded, uint64_t *completed)
{
    scan s;
    int rc, changed = 0;
    memset(&s, 0, sizeof s);
    s.v = v;
    rc = hre_storage_list(v->st, scan_cb, &s);
    if (s.rc != HRE_OK) rc = s.rc;
    for (size_t i = 0; rc == HRE_OK && i < s.n; i++) {
        uint8_t p24[24];
        int kind = classify(v, s.names[i], p24);
        hre_vault__ent *e = kind >= 1 && kind <= 3 ? hre_vault__find_prefix(v, p24) : NULL;
        if (kind == 0 || kind == 5) continue;
        if (kind == 4) {                       /* an uncommitted store or import */
            rc = hre_storage_remove(v->st, s.names[i]);
            if (rc == HRE_ENOTFOUND) rc = HRE_OK;
            (*removed)++;
            changed = 1;
            continue;
        }
        if (!e || e->state == HRE_VAULT_ERASED) {   /* uncommitted, or erasure to finish */
            rc = hre_vault__shred(v, s.names[i]);
            if (e) (*shredded)++;
            else (*removed)++;
            changed = 1;
            continue;
        }
        if (kind == 3) {                       /* an interrupted wraps update */
            hre_vault_wrap *w = NULL;
            size_t n = 0;
            char wr[HRE_STORAGE_NAME_MAX + 1];
            int prc = wraps_load_name(v, s.names[i], e->hash, &w, &n);
            hre__free(w);
            hre_vault__name(v, wr, e->hash, "wr");
            if (prc == HRE_OK) {
                rc = hre_storage_rename(v->st, s.names[i], wr);
                (*completed)++;
            } else if (prc == HRE_ECORRUPT) {
                rc = hre_vault__shred(v, s.names[i]);
                (*removed)++;
            } else {
                rc = prc;
            }
            changed = 1;
        }
    }
    hre__free(s.names);
    if (rc == HRE_OK && changed) rc = hre_storage_sync_dir(v->st);
    return rc;
}

static int prefix_ok(const char *p)
{
    size_t n = strlen(p);
    if (n < 1 || n > HRE_VAULT_PREFIX_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9'))) return 0;
    return 1;
}

static void vault_free(hre_vault *v)
{
    if (!v) return;
    if (v->log) (void)hre_storage__log_close(v->log);
    hre__free(v->ents);
    hre__free(v->by_hash.slot);
    hre__free(v->by_loc.slot);
    hre__free(v->by_rec.slot);
    hre__free(v->pending);
    hre__free(v);
}

HRE_API int hre_vault_open(hre_vault **out, const hre_vault_options *opts)
{
    hre_vault_options o;
    hre_vault *v;
    char name[HRE_STORAGE_NAME_MAX + 1];
    uint64_t removed = 0, shredded = 0, completed = 0;
    int rc;
    HRE__API_SCOPE;
    if (out) *out = NULL;
    if (!out) return hre__fail(HRE_EINVAL, "hre_vault_open: NULL out");
    if ((rc = hre__vstruct_in(&hre_vault__options_vs, &o, opts)) != HRE_OK) return rc;
    if (!o.storage) return hre__fail(HRE_EINVAL, "hre_vault_open: no storage");
    if (o.prefix && !prefix_ok(o.prefix))
        return hre__fail(HRE_EINVAL, "hre_vault_open: prefix must be 1..%d of [a-z0-9]",
                         HRE_VAULT_PREFIX_MAX);
    v = hre__calloc(1, sizeof *v);
    if (!v) return hre__fail(HRE_ENOMEM, "hre_vault_open: out of memory");
    v->st = o.storage;
    snprintf(v->prefix, sizeof v->prefix, "%s", o.prefix ? o.prefix : "vault");
    v->log_fn = o.log_fn;
    v->log_ud = o.log_user_data;
    if ((rc = hre_random_bytes((uint8_t *)&v->seed, sizeof v->seed)) != HRE_OK) goto fail;
    index_name(v, name);
    rc = hre_storage__log_open(&v->log, v->st, name, HRE_STORAGE__LOG_CREATE,
                               HRE_VAULT__INDEX_MAX_PAYLOAD, replay_cb, v, NULL);
    if (rc != HRE_OK) goto fail;
    if (hre_storage__log_end(v->log) == 0) {
        uint8_t hdr[10];
        hdr[0] = HRE_VAULT__REC_HEADER;
        memcpy(hdr + 1, HRE_VAULT__INDEX_MAGIC, 8);
        hdr[9] = HRE_VAULT__INDEX_FORMAT;
        rc = hre_storage__log_append(v->log, hdr, sizeof hdr, NULL);
        if (rc == HRE_OK) rc = hre_storage__log_sync(v->log);
        if (rc != HRE_OK) goto fail;
    }
    if ((rc = recover(v, &removed, &shredded, &completed)) != HRE_OK) goto fail;
    hre__log(v->log_fn, v->log_ud, HRE_LOG_INFO,
             "vault open (%s): %llu documents, %llu erased, %zu pending erasures; recovery removed "
             "%llu uncommitted files, finished %llu erasures' shredding, completed %llu wrap updates",
             v->prefix, (unsigned long long)v->present, (unsigned long long)v->erased, v->npending,
             (unsigned long long)removed, (unsigned long long)shredded,
             (unsigned long long)completed);
    *out = v;
    return hre__api_done(HRE_OK);
fail:
    hre__log(v->log_fn, v->log_ud, HRE_LOG_ERROR, "vault open (%s) failed: %s", v->prefix,
             hre_error_detail());
    vault_free(v);
    return rc;
}

void hre_vault__store_abort_all(hre_vault *v);

HRE_API void hre_vault_close(hre_vault *v)
{
    if (!v) return;
    hre_vault__store_abort_all(v);
    vault_free(v);
}

/* ------------------------------------------------------------------------ */
/* Storing                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct reader {
    uint8_t type;
    uint8_t id[32];
    hre_pubkey *key;
} reader;

enum { W_OPEN = 0, W_DONE = 1, W_FAILED = 2 };

struct hre_vault_store {
    hre_vault *v;
    struct hre_vault_store *prev, *next;
    hre_vault_sealer *sealer;
    hre_storage_file *part;
    char part_name[HRE_STORAGE_NAME_MAX + 1];
    int state;
    reader *readers;
    size_t nreaders;
};

struct hre_vault_import {
    hre_vault *v;
    struct hre_vault_import *prev, *next;
    hre_storage_file *part;
    char part_name[HRE_STORAGE_NAME_MAX + 1];
    int state;
    hre_sha256_ctx *sha;
    uint8_t hdr_bytes[HRE_VAULT_HEADER_LEN];
    size_t hdr_fill;
    hre_vault_header hdr;
    uint64_t total;
    int has_expected;
    uint8_t expected[32];
    hre_vault_wrap *wraps;
    size_t nwraps;
};

static int part_sink(void *ud, const uint8_t *data, size_t len)
{
    hre_vault_store *st = ud;
    return hre_storage_file_append(st->part, NULL, data, len);
}

static int part_create(hre_vault *v, hre_storage_file **f, char *name)
{
    for (int tries = 0; tries < 4; tries++) {
        uint8_t rnd[8];
        int rc = hre_random_bytes(rnd, sizeof rnd);
        if (rc != HRE_OK) return rc;
        temp_name(v, name, rnd);
        rc = hre_storage_file_open(f, v->st, name,
                                   HRE_STORAGE_READ | HRE_STORAGE_WRITE | HRE_STORAGE_CREATE |
                                   HRE_STORAGE_EXCLUSIVE);
        if (rc != HRE_EEXISTS) return rc;
    }
    return hre__fail(HRE_EEXISTS, "vault: no free temporary name");
}

static void store_release(hre_vault_store *st)
{
    hre_vault *v = st->v;
    if (st->part) {
        (void)hre_storage_file_close(st->part);
        st->part = NULL;
    }
    if (st->state != W_DONE && st->part_name[0]) (void)hre_storage_remove(v->st, st->part_name);
    st->part_name[0] = '\0';
    hre_vault__sealer_free(st->sealer);
    st->sealer = NULL;
    for (size_t i = 0; i < st->nreaders; i++) hre_pubkey_free(st->readers[i].key);
    hre__free(st->readers);
    st->readers = NULL;
    st->nreaders = 0;
}

static void import_release(hre_vault_import *im)
{
    if (im->part) {
        (void)hre_storage_file_close(im->part);
        im->part = NULL;
    }
    if (im->state != W_DONE && im->part_name[0]) (void)hre_storage_remove(im->v->st, im->part_name);
    im->part_name[0] = '\0';
    hre_sha256_free(im->sha);
    im->sha = NULL;
    hre__free(im->wraps);
    im->wraps = NULL;
}

void hre_vault__store_abort_all(hre_vault *v)
{
    while (v->stores) {
        hre_vault_store *st = v->stores;
        v->stores = st->next;
        store_release(st);
        hre__free(st);
    }
    while (v->imports) {
        hre_vault_import *im = v->imports;
        v->imports = im->next;
        import_release(im);
        hre__free(im);
    }
}

HRE_API int hre_vault_store_new(hre_vault_store **out, hre_vault *v, const hre_vault_seal_params *p)
{
    hre_vault_store *st;
    int rc;
    HRE__API_SCOPE;
    if (out) *out = NULL;
    if (!out || !v || !p) return hre__fail(HRE_EINVAL, "hre_vault_store_new: NULL argument");
    if ((rc = hre_vault__alive(v)) != HRE_OK) return rc;
    st = hre__calloc(1, sizeof *st);
    if (!st) return hre__fail(HRE_ENOMEM, "hre_vault_store_new: out of memory");
    st->v = v;
    if ((rc = part_create(v, &st->part, st->part_name)) != HRE_OK) {
        st->part_name[0] = '\0';
        hre__free(st);
        return rc;
    }
    if ((rc = hre_vault__sealer_new(&st->sealer, p, part_sink, st)) != HRE_OK) {
        st->state = W_FAILED;
        store_release(st);
        hre__free(st);
        return rc;
    }
    st->next = v->stores;
    if (v->stores) v->stores->prev = st;
    v->stores = st;
    *out = st;
    return hre__api_done(HRE_OK);
}

static int store_usable(const hre_vault_store *st, const char *fn)
{
    if (!st) return hre__fail(HRE_EINVAL, "%s: NULL store", fn);
    if (st->state != W_OPEN)
        return hre__fail(HRE_ESTATE, "%s: the store is %s", fn,
                         st->state == W_DONE ? "committed" : "failed");
    return hre_vault__alive(st->v);
}

HRE_API int hre_vault_store_write(hre_vault_store *st, const uint8_t *data, size_t len)
{
    int rc;
    HRE__API_SCOPE;
    if ((rc = store_usable(st, "hre_vault_store_write")) != HRE_OK) return rc;
    if ((rc = hre_vault__sealer_write(st->sealer, data, len)) != HRE_OK) {
        if (rc != HRE_EINVAL) st->state = W_FAILED;
        return rc;
    }
    return hre__api_done(HRE_OK);
}

HRE_API int hre_vault_store_add_reader(hre_vault_store *st, uint8_t reader_type,
                                       const uint8_t reader_id[32], const hre_pubkey *reader_key)
{
    int rc;
    HRE__API_SCOPE;
    if ((rc = store_usable(st, "hre_vault_store_add_reader")) != HRE_OK) return rc;
    if (!reader_id || !reader_key) return hre__fail(HRE_EINVAL, "hre_vault_store_add_reader: NULL argument");
    if (reader_type > HRE_VAULT_READER_ORG)
        return hre__fail(HRE_EINVAL, "hre_vault_store_add_reader: unknown reader type %u", reader_type);
    if (hre_pubkey_curve(reader_key) != HRE_CURVE_P256)
        return hre__fail(HRE_EUNSUPPORTED, "hre_vault_store_add_reader: not a P-256 key");
    for (size_t i = 0; i < st->nreaders; i++)
        if (st->readers[i].type == reader_type && memcmp(st->readers[i].id, reader_id, 32) == 0) {
            hre_pubkey_free(st->readers[i].key);
            st->readers[i].key = hre_pubkey_ref((hre_pubkey *)(uintptr_t)reader_key);
            return hre__api_done(HRE_OK);
        }
    if (st->nreaders == HRE_VAULT_WRAPS_MAX)
        return hre__fail(HRE_ELIMIT, "hre_vault_store_add_reader: more than %d readers",
                         HRE_VAULT_WRAPS_MAX);
    if (st->nreaders % 8 == 0) {
        reader *nr = hre__realloc(st->readers, (st->nreaders + 8) * sizeof *nr);
        if (!nr) return hre__fail(HRE_ENOMEM, "hre_vault_store_add_reader: out of memory");
        st->readers = nr;
    }
    st->readers[st->nreaders].type = reader_type;
    memcpy(st->readers[st->nreaders].id, reader_id, 32);
    st->readers[st->nreaders].key = hre_pubkey_ref((hre_pubkey *)(uintptr_t)reader_key);
    st->nreaders++;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_vault_store_add_reader_by_id(hre_vault_store *st, const hre_contract *c,
                                             uint8_t reader_type, const uint8_t reader_id[32])
{
    uint8_t wire[34];
    hre_pubkey *pk = NULL;
    int rc;
    HRE__API_SCOPE;
    if ((rc = store_usable(st, "hre_vault_store_add_reader_by_id")) != HRE_OK) return rc;
    if (!c || !reader_id) return hre__fail(HRE_EINVAL, "hre_vault_store_add_reader_by_id: NULL argument");
    if (reader_type > HRE_VAULT_READER_ORG)
        return hre__fail(HRE_EINVAL, "hre_vault_store_add_reader_by_id: unknown reader type %u",
                         reader_type);
    if ((rc = hre_contract_enc_key_get(c, wire, reader_type, reader_id)) != HRE_OK) return rc;
    if ((rc = hre_pubkey_parse_wire(&pk, wire)) != HRE_OK) return rc;
    rc = hre_vault_store_add_reader(st, reader_type, reader_id, pk);
    hre_pubkey_free(pk);
    return hre__api_done(rc);
}

static void ent_record_add(uint8_t rec[77], const uint8_t hash[32], const hre_vault_header *h,
                           uint64_t env_len)
{
    rec[0] = HRE_VAULT__REC_ADD;
    memcpy(rec + 1, hash, 32);
    memcpy(rec + 33, h->locator, 32);
    hre__put_le32(rec + 65, h->doc_version);
    hre__put_le64(rec + 69, env_len);
}

/* rename part -> <h>.env, write <h>.wr, sync_dir, index ADD (the commit). */
static int commit_files(hre_vault *v, hre_storage_file **part, const char *part_name,
                        const uint8_t hash[32], const hre_vault_header *h, uint64_t env_len,
                        const hre_vault_wrap *w, size_t n)
{
    char env[HRE_STORAGE_NAME_MAX + 1], wr[HRE_STORAGE_NAME_MAX + 1];
    uint8_t rec[77];
    int rc = hre_storage_file_sync(*part), crc;
    crc = hre_storage_file_close(*part);
    *part = NULL;
    if (rc == HRE_OK) rc = crc;
    if (rc != HRE_OK) return rc;
    hre_vault__name(v, env, hash, "env");
    hre_vault__name(v, wr, hash, "wr");
    if ((rc = hre_storage_rename(v->st, part_name, env)) != HRE_OK) return rc;
    rc = hre_vault__wraps_write(v, wr, hash, w, n);
    if (rc == HRE_OK) rc = hre_storage_sync_dir(v->st);
    if (rc == HRE_OK) {
        ent_record_add(rec, hash, h, env_len);
        rc = hre_vault__log_put(v, rec, sizeof rec);
    }
    if (rc != HRE_OK && !v->fatal) {
        /* Not committed: nothing may stay visible (the next open would
         * remove these too). When the vault went fatal (the index append or
         * its sync failed), the ADD may be durable: the files stay, and the
         * next open keeps or removes them by what the index says. */
        char why[256];
        int saved = hre_error_last();
        snprintf(why, sizeof why, "%s", hre_error_detail());
        (void)hre_vault__shred(v, wr);
        (void)hre_storage_remove(v->st, env);
        (void)hre_storage_sync_dir(v->st);
        (void)hre__fail(saved, "%s", why);
    }
    return rc;
}

HRE_API int hre_vault_store_commit(hre_vault_store *st, uint8_t doc_hash[32], hre_vault_content *content)
{
    hre_vault_content c = HRE_VAULT_CONTENT_INIT;
    hre_vault_wrap *w = NULL;
    hre_vault_header h;
    hre_vault__ent *e;
    uint8_t hash[32];
    int rc;
    HRE__API_SCOPE;
    if (doc_hash) memset(doc_hash, 0, 32);
    if ((rc = store_usable(st, "hre_vault_store_commit")) != HRE_OK) return rc;
    if (!doc_hash) return hre__fail(HRE_EINVAL, "hre_vault_store_commit: NULL doc_hash");
    if (content && (rc = hre__vstruct_check(&hre_vault__content_vs, content->version)) != HRE_OK)
        return rc;
    if (st->nreaders == 0)
        return hre__fail(HRE_ESTATE, "hre_vault_store_commit: no reader (nobody could open it)");
    if ((rc = hre_vault__sealer_finish(st->sealer, hash, &c)) != HRE_OK) goto fail;
    if ((e = hre_vault__find(st->v, hash)) != NULL) {
        rc = e->state == HRE_VAULT_ERASED ? hre__fail(HRE_EERASED, "vault: this envelope was erased")
                                          : hre__fail(HRE_EEXISTS, "vault: the envelope is already stored");
        goto fail;
    }
    w = hre__calloc(st->nreaders, sizeof *w);
    if (!w) {
        rc = hre__fail(HRE_ENOMEM, "hre_vault_store_commit: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < st->nreaders; i++)
        if ((rc = hre_vault__sealer_wrap(st->sealer, &w[i], st->readers[i].type, st->readers[i].id,
                                         st->readers[i].key)) != HRE_OK)
            goto fail;
    memset(&h, 0, sizeof h);
    memcpy(h.locator, w[0].locator, 32);
    h.doc_version = w[0].doc_version;
    rc = commit_files(st->v, &st->part, st->part_name, hash, &h, c.envelope_len, w, st->nreaders);
    if (rc != HRE_OK) goto fail;
    st->state = W_DONE;
    st->part_name[0] = '\0';
    hre__free(w);
    hre_vault__sealer_free(st->sealer);
    st->sealer = NULL;
    memcpy(doc_hash, hash, 32);
    if (content) (void)hre__vstruct_out(&hre_vault__content_vs, content, &c);
    return hre__api_done(HRE_OK);
fail:
    hre__free(w);
    st->state = W_FAILED;
    if (st->part) {
        (void)hre_storage_file_close(st->part);
        st->part = NULL;
    }
    if (st->part_name[0]) {
        (void)hre_storage_remove(st->v->st, st->part_name);
        st->part_name[0] = '\0';
    }
    return rc;
}

HRE_API void hre_vault_store_free(hre_vault_store *st)
{
    hre_vault *v;
    if (!st) return;
    v = st->v;
    if (st->prev) st->prev->next = st->next;
    else v->stores = st->next;
    if (st->next) st->next->prev = st->prev;
    store_release(st);
    hre__free(st);
}

/* ---- import ---- */

HRE_API int hre_vault_import_new(hre_vault_import **out, hre_vault *v, const uint8_t expected_hash[32])
{
    hre_vault_import *im;
    hre_vault__ent *e;
    int rc;
    HRE__API_SCOPE;
    if (out) *out = NULL;
    if (!out || !v) return hre__fail(HRE_EINVAL, "hre_vault_import_new: NULL argument");
    if ((rc = hre_vault__alive(v)) != HRE_OK) return rc;
    if (expected_hash && (e = hre_vault__find(v, expected_hash)) && e->state == HRE_VAULT_ERASED)
        return hre__fail(HRE_EERASED, "hre_vault_import_new: this vault erased that document");
    im = hre__calloc(1, sizeof *im);
    if (!im) return hre__fail(HRE_ENOMEM, "hre_vault_import_new: out of memory");
    im->v = v;
    if (expected_hash) {
        im->has_expected = 1;
        memcpy(im->expected, expected_hash, 32);
    }
    if ((rc = hre_sha256_new(&im->sha)) != HRE_OK || (rc = part_create(v, &im->part, im->part_name)) != HRE_OK) {
        im->part_name[0] = '\0';
        import_release(im);
        hre__free(im);
        return rc;
    }
    im->next = v->imports;
    if (v->imports) v->imports->prev = im;
    v->imports = im;
    *out = im;
    return hre__api_done(HRE_OK);
}

static int import_usable(const hre_vault_import *im, const char *fn)
{
    if (!im) return hre__fail(HRE_EINVAL, "%s: NULL import", fn);
    if (im->state != W_OPEN)
        return hre__fail(HRE_ESTATE, "%s: the import is %s", fn,
                         im->state == W_DONE ? "committed" : "failed");
    return hre_vault__alive(im->v);
}

HRE_API int hre_vault_import_write(hre_vault_import *im, const uint8_t *data, size_t len)
{
    int rc;
    HRE__API_SCOPE;
    if ((rc = import_usable(im, "hre_vault_import_write")) != HRE_OK) return rc;
    if (!data && len) return hre__fail(HRE_EINVAL, "hre_vault_import_write: NULL data");
    if (len > HRE_VAULT__ENVELOPE_MAX - im->total) {
        im->state = W_FAILED;
        return hre__fail(HRE_ELIMIT, "hre_vault_import_write: longer than any envelope");
    }
    if (im->hdr_fill < HRE_VAULT_HEADER_LEN) {
        size_t n = HRE_VAULT_HEADER_LEN - im->hdr_fill;
        if (n > len) n = len;
        memcpy(im->hdr_bytes + im->hdr_fill, data, n);
        im->hdr_fill += n;
        if (im->hdr_fill == HRE_VAULT_HEADER_LEN &&
            (rc = hre_vault__header_decode(&im->hdr, im->hdr_bytes, HRE_VAULT_HEADER_LEN)) != HRE_OK) {
            im->state = W_FAILED;
            return rc;
        }
    }
    if (len == 0) return hre__api_done(HRE_OK);
    rc = hre_sha256_update(im->sha, data, len);
    if (rc == HRE_OK) rc = hre_storage_file_append(im->part, NULL, data, len);
    if (rc != HRE_OK) {
        im->state = W_FAILED;
        return rc;
    }
    im->total += len;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_vault_import_add_wrap(hre_vault_import *im, const hre_vault_wrap *wrap)
{
    int rc;
    HRE__API_SCOPE;
    if ((rc = import_usable(im, "hre_vault_import_add_wrap")) != HRE_OK) return rc;
    if (!wrap) return hre__fail(HRE_EINVAL, "hre_vault_import_add_wrap: NULL wrap");
    if ((rc = hre_vault__wrap_check(wrap)) != HRE_OK)
        return hre__fail(HRE_EINVAL, "hre_vault_import_add_wrap: not a valid wrap");
    if (im->nwraps == HRE_VAULT_WRAPS_MAX)
        return hre__fail(HRE_ELIMIT, "hre_vault_import_add_wrap: more than %d wraps", HRE_VAULT_WRAPS_MAX);
    if (im->nwraps % 8 == 0) {
        hre_vault_wrap *nw = hre__realloc(im->wraps, (im->nwraps + 8) * sizeof *nw);
        if (!nw) return hre__fail(HRE_ENOMEM, "hre_vault_import_add_wrap: out of memory");
        im->wraps = nw;
    }
    im->wraps[im->nwraps++] = *wrap;
    return hre__api_done(HRE_OK);
}

/* Is total a length some envelope has? */
static int envelope_len_valid(uint64_t total)
{
    uint64_t rest, n, padded;
    if (total < HRE_VAULT_HEADER_LEN + HRE_VAULT__MIN_FINAL_WIRE + 1) return 0;
    rest = total - HRE_VAULT_HEADER_LEN;
    n = (rest + HRE_VAULT_CHUNK_WIRE_LEN - 1) / HRE_VAULT_CHUNK_WIRE_LEN;
    if (rest - (n - 1) * HRE_VAULT_CHUNK_WIRE_LEN < HRE_VAULT__MIN_FINAL_WIRE + 1) return 0;
    padded = rest - n * (HRE_VAULT__LEN_PREFIX + HRE_VAULT__TAG);
    return padded >= HRE_VAULT_PAD_MIN && hre_vault_bucket(padded) == padded &&
           hre_vault_envelope_len(padded) == total;
}

/* Merge wraps into an existing set: a wrap for the same reader replaces the
 * old one. *n grows; cap is HRE_VAULT_WRAPS_MAX. */
static int merge_wraps(hre_vault_wrap **set, size_t *n, const hre_vault_wrap *add, size_t nadd)
{
    hre_vault_wrap *s = hre__realloc(*set, (*n + nadd + 1) * sizeof *s);
    if (!s) return hre__fail(HRE_ENOMEM, "vault: out of memory");
    *set = s;
    for (size_t i = 0; i < nadd; i++) {
        size_t j;
        for (j = 0; j < *n; j++)
            if (s[j].reader_type == add[i].reader_type && memcmp(s[j].reader_id, add[i].reader_id, 32) == 0)
                break;
        if (j == *n) {
            if (*n == HRE_VAULT_WRAPS_MAX) return hre__fail(HRE_ELIMIT, "vault: more than %d wraps",
                                                            HRE_VAULT_WRAPS_MAX);
            (*n)++;
        }
        s[j] = add[i];
    }
    return HRE_OK;
}

HRE_API int hre_vault_import_commit(hre_vault_import *im, uint8_t doc_hash[32])
{
    uint8_t hash[32];
    hre_vault__ent *e;
    hre_vault *v;
    int rc;
    HRE__API_SCOPE;
    if (doc_hash) memset(doc_hash, 0, 32);
    if ((rc = import_usable(im, "hre_vault_import_commit")) != HRE_OK) return rc;
    if (!doc_hash) return hre__fail(HRE_EINVAL, "hre_vault_import_commit: NULL doc_hash");
    v = im->v;
    if (im->hdr_fill < HRE_VAULT_HEADER_LEN || !envelope_len_valid(im->total)) {
        rc = hre__fail(HRE_EDECODE, "hre_vault_import_commit: %llu bytes is not the length of an "
                       "envelope (truncated?)", (unsigned long long)im->total);
        goto fail;
    }
    if ((rc = hre_sha256_final(im->sha, hash)) != HRE_OK) goto fail;
    if (im->has_expected && memcmp(hash, im->expected, 32) != 0) {
        rc = hre__fail(HRE_EVERIFY, "hre_vault_import_commit: the envelope is not the expected one "
                       "(SHA-256 differs)");
        goto fail;
    }
    for (size_t i = 0; i < im->nwraps; i++)
        if (memcmp(im->wraps[i].doc_hash, hash, 32) != 0 ||
            memcmp(im->wraps[i].locator, im->hdr.locator, 32) != 0 ||
            im->wraps[i].doc_version != im->hdr.doc_version) {
            rc = hre__fail(HRE_EVERIFY, "hre_vault_import_commit: wrap %zu is for another envelope", i);
            goto fail;
        }
    e = hre_vault__find(v, hash);
    if (e && e->state == HRE_VAULT_ERASED) {
        rc = hre__fail(HRE_EERASED, "hre_vault_import_commit: this vault erased that document");
        goto fail;
    }
    if (e) {                                  /* already held: merge the wraps */
        hre_vault_wrap *set = NULL;
        size_t n = 0;
        if (im->nwraps) {
            rc = hre_vault__wraps_load(v, hash, &set, &n);
            if (rc == HRE_OK) rc = merge_wraps(&set, &n, im->wraps, im->nwraps);
            if (rc == HRE_OK) rc = hre_vault__wraps_replace(v, hash, set, n);
            hre__free(set);
            if (rc != HRE_OK) goto fail;
        }
        (void)hre_storage_file_close(im->part);
        im->part = NULL;
        (void)hre_storage_remove(v->st, im->part_name);
        im->part_name[0] = '\0';
    } else {
        /* one wrap per reader: merge duplicates among the received ones */
        hre_vault_wrap *set = NULL;
        size_t n = 0;
        rc = merge_wraps(&set, &n, im->wraps, im->nwraps);
        if (rc == HRE_OK)
            rc = commit_files(v, &im->part, im->part_name, hash, &im->hdr, im->total, set, n);
        hre__free(set);
        if (rc != HRE_OK) goto fail;
        im->part_name[0] = '\0';
    }
    im->state = W_DONE;
    memcpy(doc_hash, hash, 32);
    return hre__api_done(HRE_OK);
fail:
    im->state = W_FAILED;
    if (im->part) {
        (void)hre_storage_file_close(im->part);
        im->part = NULL;
    }
    if (im->part_name[0]) {
        (void)hre_storage_remove(v->st, im->part_name);
        im->part_name[0] = '\0';
    }
    return rc;
}

HRE_API void hre_vault_import_free(hre_vault_import *im)
{
    hre_vault *v;
    if (!im) return;
    v = im->v;
    if (im->prev) im->prev->next = im->next;
    else v->imports = im->next;
    if (im->next) im->next->prev = im->prev;
    import_release(im);
    hre__free(im);
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                   */
/* ------------------------------------------------------------------------ */

static int entry_fill(hre_vault *v, hre_vault_entry *out, const hre_vault__ent *e)
{
    hre_vault_entry x;
    int rc;
    memset(&x, 0, sizeof x);
    x.version = HRE_VAULT_ENTRY_VERSION;
    memcpy(x.doc_hash, e->hash, 32);
    memcpy(x.locator, e->locator, 32);
    x.doc_version = e->doc_version;
    x.state = e->state;
    x.has_record = e->has_record;
    memcpy(x.record_id, e->record, 32);
    if (e->state == HRE_VAULT_PRESENT) {
        hre_vault_wrap *w = NULL;
        size_t n = 0;
        x.envelope_len = e->env_len;
        if ((rc = hre_vault__wraps_load(v, e->hash, &w, &n)) != HRE_OK) return rc;
        hre__free(w);
        x.wrap_count = (uint32_t)n;
    }
    (void)hre__vstruct_out(&hre_vault__entry_vs, out, &x);
    if (e->state == HRE_VAULT_ERASED)
        return hre__fail(HRE_EERASED, "vault: the document was erased");
    return HRE_OK;
}

static int entry_query(hre_vault *v, hre_vault_entry *out, hre_vault__ent *e, const char *what)
{
    unsigned int ver;
    int rc;
    if (!v || !out) return hre__fail(HRE_EINVAL, "vault entry query: NULL argument");
    ver = out->version;
    if ((rc = hre__vstruct_init(&hre_vault__entry_vs, out, ver)) != HRE_OK) return rc;
    if (!e) return hre__fail(HRE_ENOTFOUND, "vault: no document with this %s", what);
    return entry_fill(v, out, e);
}

HRE_API int hre_vault_entry_get(hre_vault *v, hre_vault_entry *out, const uint8_t doc_hash[32])
{
    HRE__API_SCOPE;
    if (!doc_hash) return hre__fail(HRE_EINVAL, "hre_vault_entry_get: NULL doc_hash");
    return hre__api_done(entry_query(v, out, v ? hre_vault__find(v, doc_hash) : NULL, "hash"));
}

HRE_API int hre_vault_entry_by_locator(hre_vault *v, hre_vault_entry *out, const uint8_t locator[32],
                                       uint32_t doc_version)
{
    HRE__API_SCOPE;
    if (!locator) return hre__fail(HRE_EINVAL, "hre_vault_entry_by_locator: NULL locator");
    return hre__api_done(entry_query(v, out, v ? hre_vault__find_locator(v, locator, doc_version) : NULL,
                                     "locator and version"));
}

static int present_ent(hre_vault *v, hre_vault__ent **out, const uint8_t hash[32])
{
    hre_vault__ent *e = hre_vault__find(v, hash);
    *out = e;
    if (!e) return hre__fail(HRE_ENOTFOUND, "vault: no such document");
    if (e->state == HRE_VAULT_ERASED) return hre__fail(HRE_EERASED, "vault: the document was erased");
    return HRE_OK;
}

static int wrap_find(hre_vault *v, hre_vault_wrap *out, const uint8_t hash[32], uint8_t type,
                     const uint8_t id[32])
{
    hre_vault_wrap *w = NULL;
    size_t n = 0;
    int rc = hre_vault__wraps_load(v, hash, &w, &n);
    if (rc != HRE_OK) return rc;
    rc = hre__fail(HRE_ENOTFOUND, "vault: no wrap for this reader");
    for (size_t i = 0; i < n; i++)
        if (w[i].reader_type == type && memcmp(w[i].reader_id, id, 32) == 0) {
            *out = w[i];
            rc = HRE_OK;
            break;
        }
    hre__free(w);
    return rc;
}

HRE_API int hre_vault_wrap_get(hre_vault *v, hre_vault_wrap *out, const uint8_t doc_hash[32],
                               uint8_t reader_type, const uint8_t reader_id[32])
{
    hre_vault__ent *e;
    int rc;
    HRE__API_SCOPE;
    if (out) memset(out, 0, sizeof *out);
    if (!v || !out || !doc_hash || !reader_id) return hre__fail(HRE_EINVAL, "hre_vault_wrap_get: NULL argument");
    if ((rc = present_ent(v, &e, doc_hash)) != HRE_OK) return rc;
    if ((rc = wrap_find(v, out, doc_hash, reader_type, reader_id)) != HRE_OK) memset(out, 0, sizeof *out);
    return hre__api_done(rc);
}

HRE_API int hre_vault_wrap_at(hre_vault *v, hre_vault_wrap *out, const uint8_t doc_hash[32], size_t index)
{
    hre_vault__ent *e;
    hre_vault_wrap *w = NULL;
    size_t n = 0;
    int rc;
    HRE__API_SCOPE;
    if (out) memset(out, 0, sizeof *out);
    if (!v || !out || !doc_hash) return hre__fail(HRE_EINVAL, "hre_vault_wrap_at: NULL argument");
    if ((rc = present_ent(v, &e, doc_hash)) != HRE_OK) return rc;
    if ((rc = hre_vault__wraps_load(v, doc_hash, &w, &n)) != HRE_OK) return rc;
    if (index >= n) rc = hre__fail(HRE_ENOTFOUND, "vault: wrap %zu of %zu", index, n);
    else *out = w[index];
    hre__free(w);
    return hre__api_done(rc);
}

HRE_API int hre_vault_read(hre_vault *v, hre_vault_content *content, const uint8_t doc_hash[32],
                           uint8_t reader_type, const uint8_t reader_id[32], const hre_key *reader_key,
                           hre_vault_sink_fn sink, void *sink_user_data)
{
    char env[HRE_STORAGE_NAME_MAX + 1];
    hre_vault__ent *e;
    hre_vault_wrap w;
    hre_vault_opener *o = NULL;
    hre_storage_file *f = NULL;
    uint8_t key[32], *buf = NULL;
    uint64_t off = 0;
    int rc;
    HRE__API_SCOPE;
    if (!v || !doc_hash || !reader_id || !reader_key || !sink)
        return hre__fail(HRE_EINVAL, "hre_vault_read: NULL argument");
    if (content && (rc = hre__vstruct_check(&hre_vault__content_vs, content->version)) != HRE_OK)
        return rc;
    if ((rc = present_ent(v, &e, doc_hash)) != HRE_OK) return rc;
    if ((rc = wrap_find(v, &w, doc_hash, reader_type, reader_id)) != HRE_OK) return rc;
    if ((rc = hre_vault__unwrap(key, &w, reader_key, NULL)) != HRE_OK) return rc;
    rc = hre_vault__opener_new_key(&o, key, &w, HRE_VAULT_OPEN_NO_HASH, 0, sink, sink_user_data);
    hre_wipe(key, sizeof key);
    if (rc != HRE_OK) return rc;
    hre_vault__name(v, env, doc_hash, "env");
    rc = hre_storage_file_open(&f, v->st, env, HRE_STORAGE_READ);
    if (rc == HRE_ENOTFOUND) rc = hre__fail(HRE_ECORRUPT, "vault: %s is missing", env);
    if (rc == HRE_OK && !(buf = hre__malloc(HRE_VAULT_CHUNK_WIRE_LEN)))
        rc = hre__fail(HRE_ENOMEM, "hre_vault_read: out of memory");
    while (rc == HRE_OK) {
        size_t got = 0;
        rc = hre_storage_file_read(f, buf, HRE_VAULT_CHUNK_WIRE_LEN, &got, off);
        if (rc != HRE_OK || got == 0) break;
        off += got;
        rc = hre_vault__opener_write(o, buf, got);
    }
    if (rc == HRE_OK && off != e->env_len)
        rc = hre__fail(HRE_ECORRUPT, "vault: %s has %llu bytes, the index says %llu", env,
                       (unsigned long long)off, (unsigned long long)e->env_len);
    if (rc == HRE_OK) rc = hre_vault__opener_finish(o, content);
    (void)hre_storage_file_close(f);
    if (buf) hre__free_secret(buf, HRE_VAULT_CHUNK_WIRE_LEN);
    hre_vault__opener_free(o);
    return hre__api_done(rc);
}

HRE_API int hre_vault_envelope_read(hre_vault *v, uint8_t *buf, size_t *len, const uint8_t doc_hash[32],
                                    uint64_t offset)
{
    char env[HRE_STORAGE_NAME_MAX + 1];
    hre_vault__ent *e;
    hre_storage_file *f = NULL;
    size_t got = 0, want;
    int rc;
    HRE__API_SCOPE;
    if (!v || !len || (!buf && *len) || !doc_hash) return hre__fail(HRE_EINVAL, "hre_vault_envelope_read: NULL argument");
    want = *len;
    *len = 0;
    if ((rc = present_ent(v, &e, doc_hash)) != HRE_OK) return rc;
    if (offset >= e->env_len || want == 0) return hre__api_done(HRE_OK);
    if (want > e->env_len - offset) want = (size_t)(e->env_len - offset);
    hre_vault__name(v, env, doc_hash, "env");
    rc = hre_storage_file_open(&f, v->st, env, HRE_STORAGE_READ);
    if (rc == HRE_ENOTFOUND) rc = hre__fail(HRE_ECORRUPT, "vault: %s is missing", env);
    if (rc == HRE_OK) rc = hre_storage_file_read(f, buf, want, &got, offset);
    (void)hre_storage_file_close(f);
    if (rc == HRE_OK && got != want) rc = hre__fail(HRE_ECORRUPT, "vault: %s is shorter than indexed", env);
    if (rc == HRE_OK) *len = got;
    return hre__api_done(rc);
}

HRE_API int hre_vault_stats_get(const hre_vault *v, hre_vault_stats *out)
{
    hre_vault_stats s;
    HRE__API_SCOPE;
    if (!v || !out) return hre__fail(HRE_EINVAL, "hre_vault_stats_get: NULL argument");
    memset(&s, 0, sizeof s);
    s.version = HRE_VAULT_STATS_VERSION;
    s.documents = v->present;
    s.erased = v->erased;
    s.pending_erasures = v->npending;
    s.envelope_bytes = v->env_bytes;
    s.index_bytes = hre_storage__log_end(v->log);
    s.memory_bytes = sizeof *v + v->cap * sizeof *v->ents +
                     (v->by_hash.cap + v->by_loc.cap + v->by_rec.cap) * sizeof(uint32_t) +
                     v->cap_pending * 32;
    s.fatal = v->fatal;
    return hre__api_done(hre__vstruct_out(&hre_vault__stats_vs, out, &s));
}

/* ------------------------------------------------------------------------ */
/* Verify                                                                    */
/* ------------------------------------------------------------------------ */

HRE_API int hre_vault_verify(hre_vault *v, uint64_t *problems, unsigned int flags)
{
    char name[HRE_STORAGE_NAME_MAX + 1];
    char detail[256] = "";
    uint64_t count = 0;
    int first = 0, rc = HRE_OK;
    scan s;
    uint8_t *buf = NULL;
    HRE__API_SCOPE;
    if (problems) *problems = 0;
    if (!v || (flags & ~HRE_VAULT_VERIFY_HASH)) return hre__fail(HRE_EINVAL, "hre_vault_verify: bad argument");
    buf = hre__malloc(HRE_VAULT_CHUNK_WIRE_LEN);
    if (!buf) return hre__fail(HRE_ENOMEM, "hre_vault_verify: out of memory");
#define PROBLEM(...) do { if (!first) { first = 1; snprintf(detail, sizeof detail, __VA_ARGS__); } count++; } while (0)
    for (size_t i = 0; rc == HRE_OK && i < v->n; i++) {
        hre_vault__ent *e = &v->ents[i];
        hre_storage_file *f = NULL;
        hre_vault_wrap *w = NULL;
        size_t nw = 0;
        uint64_t size = 0;
        int orc;
        if (e->state != HRE_VAULT_PRESENT) continue;     /* leftovers show up in the listing */
        hre_vault__name(v, name, e->hash, "env");
        orc = hre_storage_file_open(&f, v->st, name, HRE_STORAGE_READ);
        if (orc != HRE_OK) {
            PROBLEM("vault verify: %s is missing", name);
        } else if (hre_storage_file_size(f, &size) != HRE_OK || size != e->env_len) {
            PROBLEM("vault verify: %s has %llu bytes, the index says %llu", name,
                    (unsigned long long)size, (unsigned long long)e->env_len);
        } else if (flags & HRE_VAULT_VERIFY_HASH) {
            hre_sha256_ctx *sha = NULL;
            uint8_t got[32];
            uint64_t off = 0;
            rc = hre_sha256_new(&sha);
            while (rc == HRE_OK && off < size) {
                size_t n = 0;
                rc = hre_storage_file_read(f, buf, HRE_VAULT_CHUNK_WIRE_LEN, &n, off);
                if (rc == HRE_OK && n == 0) break;
                if (rc == HRE_OK) rc = hre_sha256_update(sha, buf, n);
                off += n;
            }
            if (rc == HRE_OK) rc = hre_sha256_final(sha, got);
            hre_sha256_free(sha);
            if (rc == HRE_OK && memcmp(got, e->hash, 32) != 0)
                PROBLEM("vault verify: %s does not hash to its document hash", name);
        }
        (void)hre_storage_file_close(f);
        if (rc != HRE_OK) break;
        hre_vault__name(v, name, e->hash, "wr");
        orc = wraps_load_name(v, name, e->hash, &w, &nw);
        hre__free(w);
        if (orc == HRE_ENOTFOUND || orc == HRE_ECORRUPT) PROBLEM("vault verify: %s is missing or damaged", name);
        else if (orc != HRE_OK) rc = orc;
    }
    hre__free(buf);
    memset(&s, 0, sizeof s);
    s.v = v;
    if (rc == HRE_OK) {
        rc = hre_storage_list(v->st, scan_cb, &s);
        if (s.rc != HRE_OK) rc = s.rc;
    }
    for (size_t i = 0; rc == HRE_OK && i < s.n; i++) {
        uint8_t p24[24];
        int kind = classify(v, s.names[i], p24);
        hre_vault__ent *e = kind >= 1 && kind <= 3 ? hre_vault__find_prefix(v, p24) : NULL;
        if (e && e->state == HRE_VAULT_ERASED) PROBLEM("vault verify: %s of an erased document is left", s.names[i]);
        else if (kind == 4 || kind == 3) PROBLEM("vault verify: %s is left over from an interrupted write", s.names[i]);
        else PROBLEM("vault verify: %s belongs to no document", s.names[i]);
    }
#undef PROBLEM
    hre__free(s.names);
    if (rc != HRE_OK) return rc;
    if (problems) *problems = count;
    if (count) return hre__fail(HRE_ECORRUPT, "%s (%llu problems)", detail, (unsigned long long)count);
    return hre__api_done(HRE_OK);
}
