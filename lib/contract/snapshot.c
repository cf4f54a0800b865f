/* Record contract snapshots: versioned, checksummed, hostile-input decoder. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "contract/internal.h"

#define SNAP_MAGIC "HRECSNAP"
#define SNAP_VERSION 1
#define SNAP_HEADER_LEN (8 + 4 + 32 + 32 + 6 * 4)

/* Smallest encodings, used to bound counts by the input size before allocating. */
#define MIN_ORG (32 + 1 + 1 + 1)
#define MIN_ACCOUNT (32 + 1 + 1 + 4 + 8 + 4)
#define MIN_KEY (34 + 4 + 1)
#define MIN_RECORD (32 + 4 * 3 + 32 * 3 + 8 + 8 + 1 + 2 + 2 + 4 + 4 + 1 + 4)
#define MIN_GRANT (32 + 4 + 1 + 32 + 1 + 1 + 1 + 8 + 8 + 1 + 1 + 8)
#define MIN_EVENT (1 + 1 + 2 + 4 * 4 + 4)

static void put_idx(hre_writer *w, uint32_t v) { hre_writer_u32(w, v); }

HRE_API int hre_contract_snapshot_save(const hre_contract *c, uint8_t *out, size_t *len)
{
    hre_writer w;
    uint8_t h[32];
    size_t need = 0;
    int rc;
    if (!c || !len || (!out && *len)) return hre__fail(HRE_EINVAL, "hre_contract_snapshot_save: NULL argument");
    if ((rc = hre_contract_state_hash(c, h)) != HRE_OK) return rc;
    hre_writer_init(&w, out, out ? *len : 0);
    hre_writer_bytes(&w, SNAP_MAGIC, 8);
    hre_writer_u32(&w, SNAP_VERSION);
    hre_writer_bytes(&w, c->network_id, 32);
    hre_writer_bytes(&w, h, 32);
    hre_writer_u32(&w, c->orgs.n);
    hre_writer_u32(&w, c->accounts.n);
    hre_writer_u32(&w, c->keys.n);
    hre_writer_u32(&w, c->records.n);
    hre_writer_u32(&w, c->grants.n);
    hre_writer_u32(&w, c->events.n);
    for (uint32_t i = 0; i < c->orgs.n; i++) {
        const struct hre_c_org *o = &c->orgs.v[i];
        hre_writer_bytes(&w, o->id, 32);
        hre_writer_u8(&w, o->type);
        hre_writer_compact(&w, o->name_len);
        hre_writer_bytes(&w, c->arena.v + o->name_off, o->name_len);
    }
    for (uint32_t i = 0; i < c->accounts.n; i++) {
        const struct hre_c_account *a = &c->accounts.v[i];
        hre_writer_bytes(&w, a->addr, 32);
        hre_writer_u8(&w, a->role);
        hre_writer_u8(&w, a->status);
        put_idx(&w, a->org);
        hre_writer_u64(&w, a->nonce);
        put_idx(&w, a->key_entry);
    }
    for (uint32_t i = 0; i < c->keys.n; i++) {
        const struct hre_c_keyent *k = &c->keys.v[i];
        hre_writer_bytes(&w, k->key, 34);
        put_idx(&w, k->account);
        hre_writer_u8(&w, k->retired);
    }
    for (uint32_t i = 0; i < c->records.n; i++) {
        const struct hre_c_record *r = &c->records.v[i];
        hre_writer_bytes(&w, r->id, 32);
        put_idx(&w, r->patient);
        put_idx(&w, r->issuer);
        put_idx(&w, r->lab);
        hre_writer_bytes(&w, r->c_pid, 32);
        hre_writer_bytes(&w, r->c_test, 32);
        hre_writer_bytes(&w, r->doc, 32);
        hre_writer_u64(&w, hre_c_get64(r->date));
        hre_writer_u64(&w, hre_c_get64(r->price));
        hre_writer_u8(&w, r->category);
        hre_writer_compact(&w, r->hosp_len);
        hre_writer_bytes(&w, c->arena.v + r->hosp_off, r->hosp_len);
        hre_writer_compact(&w, r->uri_len);
        hre_writer_bytes(&w, c->arena.v + r->uri_off, r->uri_len);
        put_idx(&w, r->sig_issuer);
        put_idx(&w, r->sig_lab);
        hre_writer_u8(&w, r->valid);
        put_idx(&w, r->supersedes);
    }
    for (uint32_t i = 0; i < c->grants.n; i++) {
        const struct hre_c_grant *g = &c->grants.v[i];
        hre_writer_bytes(&w, g->id, 32);
        put_idx(&w, g->patient);
        hre_writer_u8(&w, g->reader_type);
        hre_writer_bytes(&w, g->reader, 32);
        hre_writer_u8(&w, g->scope);
        hre_writer_u8(&w, g->category);
        hre_writer_compact(&w, g->nids);
        hre_writer_bytes(&w, c->arena.v + g->ids_off, (size_t)g->nids * 32);
        hre_writer_u64(&w, g->expiry);
        hre_writer_u64(&w, g->created);
        hre_writer_compact(&w, g->env_len);
        hre_writer_bytes(&w, c->arena.v + g->env_off, g->env_len);
        hre_writer_u8(&w, g->revoked);
        hre_writer_u64(&w, g->revoked_time);
    }
    for (uint32_t i = 0; i < c->events.n; i++) {
        const struct hre_c_event *e = &c->events.v[i];
        hre_writer_u8(&w, e->type);
        hre_writer_u8(&w, e->detail);
        hre_writer_u16(&w, e->kind);
        put_idx(&w, e->actor);
        put_idx(&w, e->subject);
        put_idx(&w, e->record);
        put_idx(&w, e->ref);
        hre_writer_u32(&w, e->time);
    }
    need = w.len + 32;
    if (!out || need > *len) {
        *len = need;
        return hre__fail(HRE_EBUFSIZE, "snapshot_save: %zu bytes needed", need);
    }
    if ((rc = hre_sha256d(out + w.len, out, w.len)) != HRE_OK) return rc;
    *len = need;
    return HRE_OK;
}

/* ------------------------------------------------------------------------ */

#define BAD(code, ...) do { rc = hre__fail(code, __VA_ARGS__); goto fail; } while (0)
#define RD(x) do { if ((rc = (x)) != HRE_OK) goto fail; } while (0)

static int rd_idx(hre_reader *r, uint32_t *v, uint32_t n, int allow_none, const char *what)
{
    int rc = hre_reader_u32(r, v);
    if (rc != HRE_OK) return rc;
    if (*v == HRE_C_NONE && allow_none) return HRE_OK;
    if (*v >= n) return hre__fail(HRE_ECORRUPT, "snapshot: %s index %u out of range", what, *v);
    return HRE_OK;
}

static int rd_str(hre_reader *r, hre_contract *c, uint32_t *off, uint8_t *lenout, size_t max, int uri,
                  const char *what)
{
    uint64_t n = 0;
    const uint8_t *p = NULL;
    int rc = hre_reader_compact(r, &n, max);
    if (rc != HRE_OK) return rc;
    if ((rc = hre_reader_borrow(r, &p, (size_t)n)) != HRE_OK) return rc;
    if (uri ? !hre_contract__uri_ok(p, (size_t)n) : !hre_contract__name_ok(p, (size_t)n))
        return hre__fail(HRE_ECORRUPT, "snapshot: invalid %s", what);
    if ((rc = hre_contract__grow((void **)&c->arena.v, &c->arena.cap, c->arena.n + (uint32_t)n, 1)) != HRE_OK)
        return rc;
    *off = c->arena.n;
    memcpy(c->arena.v + c->arena.n, p, (size_t)n);
    c->arena.n += (uint32_t)n;
    *lenout = (uint8_t)n;
    return HRE_OK;
}

static int arena_copy(hre_contract *c, const uint8_t *p, size_t n, uint32_t *off)
{
    int rc;
    if (n > HRE_C_MAX_ITEMS - c->arena.n) return hre__fail(HRE_ELIMIT, "snapshot: byte arena full");
    if ((rc = hre_contract__grow((void **)&c->arena.v, &c->arena.cap, c->arena.n + (uint32_t)n, 1)) != HRE_OK)
        return rc;
    *off = c->arena.n;
    if (n) memcpy(c->arena.v + c->arena.n, p, n);
    c->arena.n += (uint32_t)n;
    return HRE_OK;
}

static int alloc_arrays(hre_contract *c, const uint32_t n[6])
{
    int rc;
    if ((rc = hre_contract__grow((void **)&c->orgs.v, &c->orgs.cap, n[0] + 1, sizeof *c->orgs.v)) != HRE_OK) return rc;
    if ((rc = hre_contract__grow((void **)&c->accounts.v, &c->accounts.cap, n[1] + 1, sizeof *c->accounts.v)) != HRE_OK) return rc;
    if ((rc = hre_contract__grow((void **)&c->keys.v, &c->keys.cap, n[2] + 1, sizeof *c->keys.v)) != HRE_OK) return rc;
    if ((rc = hre_contract__grow((void **)&c->records.v, &c->records.cap, n[3] + 1, sizeof *c->records.v)) != HRE_OK) return rc;
    if ((rc = hre_contract__grow((void **)&c->grants.v, &c->grants.cap, n[4] + 1, sizeof *c->grants.v)) != HRE_OK) return rc;
    if ((rc = hre_contract__grow((void **)&c->events.v, &c->events.cap, n[5] + 2, sizeof *c->events.v)) != HRE_OK) return rc;
    if ((rc = hre_contract__insert_reserve(c, HRE_C_T_ORG, n[0] + 1)) != HRE_OK) return rc;
    if ((rc = hre_contract__insert_reserve(c, HRE_C_T_ADDR, n[1] + 1)) != HRE_OK) return rc;
    if ((rc = hre_contract__insert_reserve(c, HRE_C_T_KEY, n[2] + 1)) != HRE_OK) return rc;
    if ((rc = hre_contract__insert_reserve(c, HRE_C_T_RECORD, n[3] + 1)) != HRE_OK) return rc;
    if ((rc = hre_contract__insert_reserve(c, HRE_C_T_GRANT, n[4] + 1)) != HRE_OK) return rc;
    return HRE_OK;
}


/* ------------------------------------------------------------------------ */
/* Load, in three parts:
 *  1. decode: every entity into the arrays, with every per-entry and
 *     cross-reference check (hostile input; sequential, the format is);
 *  2. index: the id tables (uniqueness) and the per-patient / per-record /
 *     per-account lists;
 *  3. terms: the state-hash accumulator recomputed from the content.
 * Part 3 only reads what part 1 wrote (besides the accounts' cached `term`,
 * a field part 2 never touches), so with more threads it runs beside part 2,
 * shared out in units through an atomic counter, and the checksum runs
 * beside part 1. A bad checksum takes precedence over any other failure. */

static int decode(hre_contract **out, const hre_contract_options *opts, const uint8_t *in, size_t len,
                  uint8_t stored_hash[32])
{
    hre_contract *c = NULL;
    hre_reader r;
    uint8_t h[32], gorg[32], auth_addr[32];
    const uint8_t *network_id = opts->network_id, *authority_key = opts->authority_key;
    uint32_t ver = 0, n[6];
    uint32_t *first_key = NULL;
    int rc;

    if (memcmp(in + 12, network_id, 32) != 0)
        return hre__fail(HRE_EINVAL, "snapshot: belongs to another network");
    hre_reader_init(&r, in, len - 32);
    RD(hre_reader_bytes(&r, NULL, 8));
    RD(hre_reader_u32(&r, &ver));
    RD(hre_reader_bytes(&r, NULL, 32));
    RD(hre_reader_bytes(&r, stored_hash, 32));
    for (int i = 0; i < 6; i++) RD(hre_reader_u32(&r, &n[i]));
    {
        /* every entry takes at least its minimum size: bound counts by the input */
        static const size_t mins[6] = { MIN_ORG, MIN_ACCOUNT, MIN_KEY, MIN_RECORD, MIN_GRANT, MIN_EVENT };
        uint64_t total = 0;
        for (int i = 0; i < 6; i++) {
            if (n[i] > HRE_C_MAX_ITEMS / 2) return hre__fail(HRE_ELIMIT, "snapshot: count %u over the limit", n[i]);
            total += (uint64_t)n[i] * mins[i];
        }
        if (total > hre_reader_remaining(&r)) return hre__fail(HRE_EDECODE, "snapshot: counts exceed the input size");
    }
    if (n[0] < 1 || n[1] < 1 || n[2] < n[1])
        return hre__fail(HRE_ECORRUPT, "snapshot: missing genesis organisation, authority or keys");

    if ((rc = hre_contract__alloc_state(&c, network_id)) != HRE_OK) return rc;
    c->on_event = opts->on_event;
    c->user_data = opts->user_data;
    RD(alloc_arrays(c, n));
    first_key = hre__malloc((size_t)n[1] * sizeof *first_key + 1);
    if (!first_key) BAD(HRE_ENOMEM, "snapshot_load: out of memory");
    for (uint32_t i = 0; i < n[1]; i++) first_key[i] = HRE_C_NONE;

    /* organisations */
    for (uint32_t i = 0; i < n[0]; i++) {
        struct hre_c_org *o = &c->orgs.v[i];
        memset(o, 0, sizeof *o);
        RD(hre_reader_bytes(&r, o->id, 32));
        RD(hre_reader_u8(&r, &o->type));
        if (o->type < HRE_ORG_HOSPITAL || o->type > HRE_ORG_PHARMACY) BAD(HRE_ECORRUPT, "snapshot: bad organisation type");
        RD(rd_str(&r, c, &o->name_off, &o->name_len, HRE_CONTRACT_NAME_MAX, 0, "organisation name"));
        c->orgs.n++;
    }
    RD(hre_contract_genesis_org_id(gorg, network_id));
    if (memcmp(c->orgs.v[0].id, gorg, 32) != 0 || c->orgs.v[0].type != HRE_ORG_HOSPITAL)
        BAD(HRE_ECORRUPT, "snapshot: first organisation is not the genesis hospital");

    /* accounts (key filled in after the key entries) */
    for (uint32_t i = 0; i < n[1]; i++) {
        struct hre_c_account *a = &c->accounts.v[i];
        memset(a, 0, sizeof *a);
        RD(hre_reader_bytes(&r, a->addr, 32));
        RD(hre_reader_u8(&r, &a->role));
        RD(hre_reader_u8(&r, &a->status));
        RD(rd_idx(&r, &a->org, n[0], 1, "account organisation"));
        RD(hre_reader_u64(&r, &a->nonce));
        RD(rd_idx(&r, &a->key_entry, n[2], 0, "account key"));
        if (a->role < HRE_ROLE_AUTHORITY || a->role > HRE_ROLE_PATIENT || a->status > HRE_STATUS_SUSPENDED)
            BAD(HRE_ECORRUPT, "snapshot: bad account role or status");
        if ((a->role == HRE_ROLE_PATIENT) != (a->org == HRE_C_NONE))
            BAD(HRE_ECORRUPT, "snapshot: account organisation inconsistent with its role");
        if ((a->role == HRE_ROLE_AUTHORITY) != (i == 0))
            BAD(HRE_ECORRUPT, "snapshot: the authority must be account 0 and only it");
        if (a->role == HRE_ROLE_AUTHORITY && (a->org != 0 || a->status != HRE_STATUS_ACTIVE))
            BAD(HRE_ECORRUPT, "snapshot: bad authority account");
        if (a->role == HRE_ROLE_PATIENT && a->status != HRE_STATUS_ACTIVE)
            BAD(HRE_ECORRUPT, "snapshot: suspended patient");
        a->rec_chunk = a->grant_head = a->ev_head = HRE_C_NONE;
        c->accounts.n++;
    }
    RD(hre_contract_address(auth_addr, authority_key));
    if (memcmp(c->accounts.v[0].addr, auth_addr, 32) != 0)
        BAD(HRE_EINVAL, "snapshot: belongs to another authority");

    /* keys */
    for (uint32_t i = 0; i < n[2]; i++) {
        struct hre_c_keyent *k = &c->keys.v[i];
        struct hre_c_account *a;
        memset(k, 0, sizeof *k);
        RD(hre_reader_bytes(&r, k->key, 34));
        RD(rd_idx(&r, &k->account, n[1], 0, "key account"));
        RD(hre_reader_u8(&r, &k->retired));
        if (!hre_contract__key_syntax_ok(k->key) || k->retired > 1) BAD(HRE_ECORRUPT, "snapshot: bad key entry");
        a = &c->accounts.v[k->account];
        if ((a->key_entry == i) == (k->retired != 0))
            BAD(HRE_ECORRUPT, "snapshot: key entry retired flag inconsistent with its account");
        if (first_key[k->account] == HRE_C_NONE) {
            first_key[k->account] = i;
            RD(hre_contract_address(h, k->key));
            if (memcmp(h, a->addr, 32) != 0) BAD(HRE_ECORRUPT, "snapshot: address is not the hash of the first key");
        }
        if (a->key_entry == i) memcpy(a->key, k->key, 34);
        c->keys.n++;
    }
    for (uint32_t i = 0; i < n[1]; i++)
        if (c->keys.v[c->accounts.v[i].key_entry].account != i)
            BAD(HRE_ECORRUPT, "snapshot: account's current key belongs to another account");

    /* records */
    for (uint32_t i = 0; i < n[3]; i++) {
        struct hre_c_record *rec = &c->records.v[i];
        memset(rec, 0, sizeof *rec);
        RD(hre_reader_bytes(&r, rec->id, 32));
        RD(rd_idx(&r, &rec->patient, n[1], 0, "record patient"));
        RD(rd_idx(&r, &rec->issuer, n[0], 0, "record issuer"));
        RD(rd_idx(&r, &rec->lab, n[0], 0, "record lab"));
        RD(hre_reader_bytes(&r, rec->c_pid, 32));
        RD(hre_reader_bytes(&r, rec->c_test, 32));
        RD(hre_reader_bytes(&r, rec->doc, 32));
        {
            uint64_t d = 0, pr = 0;
            RD(hre_reader_u64(&r, &d));
            RD(hre_reader_u64(&r, &pr));
            hre_c_put64(rec->date, d);
            hre_c_put64(rec->price, pr);
        }
        RD(hre_reader_u8(&r, &rec->category));
        RD(rd_str(&r, c, &rec->hosp_off, &rec->hosp_len, HRE_CONTRACT_NAME_MAX, 0, "hospital name"));
        {
            /* share the issuer's name bytes, as apply does */
            int reused;
            uint32_t off = rec->hosp_off;
            c->arena.n = off;
            rec->hosp_off = hre_contract__hosp_name(c, rec->issuer, c->arena.v + off, rec->hosp_len, &reused);
        }
        RD(rd_str(&r, c, &rec->uri_off, &rec->uri_len, HRE_CONTRACT_URI_MAX, 1, "uri"));
        RD(rd_idx(&r, &rec->sig_issuer, n[1], 1, "record issuer signer"));
        RD(rd_idx(&r, &rec->sig_lab, n[1], 1, "record lab signer"));
        RD(hre_reader_u8(&r, &rec->valid));
        RD(rd_idx(&r, &rec->supersedes, i, 1, "superseded record"));
        if (c->accounts.v[rec->patient].role != HRE_ROLE_PATIENT) BAD(HRE_ECORRUPT, "snapshot: record patient is not a patient");
        if (c->orgs.v[rec->lab].type != HRE_ORG_LAB) BAD(HRE_ECORRUPT, "snapshot: record lab is not a lab");
        if (rec->valid != (rec->sig_issuer != HRE_C_NONE && rec->sig_lab != HRE_C_NONE))
            BAD(HRE_ECORRUPT, "snapshot: record validity inconsistent with its signers");
        if (rec->supersedes != HRE_C_NONE && c->records.v[rec->supersedes].patient != rec->patient)
            BAD(HRE_ECORRUPT, "snapshot: superseded record of another patient");
        rec->ev_head = HRE_C_NONE;
        c->records.n++;
    }

    /* grants */
    for (uint32_t i = 0; i < n[4]; i++) {
        struct hre_c_grant *g = &c->grants.v[i];
        uint64_t cnt = 0, elen = 0;
        const uint8_t *p = NULL;
        memset(g, 0, sizeof *g);
        RD(hre_reader_bytes(&r, g->id, 32));
        RD(rd_idx(&r, &g->patient, n[1], 0, "grant patient"));
        RD(hre_reader_u8(&r, &g->reader_type));
        RD(hre_reader_bytes(&r, g->reader, 32));
        RD(hre_reader_u8(&r, &g->scope));
        RD(hre_reader_u8(&r, &g->category));
        RD(hre_reader_compact(&r, &cnt, HRE_CONTRACT_GRANT_IDS_MAX));
        RD(hre_reader_borrow(&r, &p, (size_t)cnt * 32));
        for (uint64_t j = 1; j < cnt; j++)
            if (memcmp(p + (j - 1) * 32, p + j * 32, 32) >= 0) BAD(HRE_ECORRUPT, "snapshot: grant ids not increasing");
        RD(arena_copy(c, p, (size_t)cnt * 32, &g->ids_off));
        g->nids = (uint8_t)cnt;
        RD(hre_reader_u64(&r, &g->expiry));
        RD(hre_reader_u64(&r, &g->created));
        RD(hre_reader_compact(&r, &elen, HRE_CONTRACT_ENVELOPE_MAX));
        RD(hre_reader_borrow(&r, &p, (size_t)elen));
        RD(arena_copy(c, p, (size_t)elen, &g->env_off));
        g->env_len = (uint16_t)elen;
        RD(hre_reader_u8(&r, &g->revoked));
        RD(hre_reader_u64(&r, &g->revoked_time));
        if (c->accounts.v[g->patient].role != HRE_ROLE_PATIENT || g->reader_type > HRE_READER_ORG ||
            g->scope > HRE_SCOPE_RECORDS || (g->scope != HRE_SCOPE_CATEGORY && g->category != 0) ||
            ((g->scope == HRE_SCOPE_RECORDS) != (cnt != 0)) || g->revoked > 1 ||
            (!g->revoked && g->revoked_time != 0))
            BAD(HRE_ECORRUPT, "snapshot: inconsistent grant");
        c->grants.n++;
    }

    /* events */
    for (uint32_t i = 0; i < n[5]; i++) {
        struct hre_c_event *e = &c->events.v[i];
        uint32_t refmax;
        memset(e, 0, sizeof *e);
        RD(hre_reader_u8(&r, &e->type));
        RD(hre_reader_u8(&r, &e->detail));
        RD(hre_reader_u16(&r, &e->kind));
        if (e->type < HRE_EVENT_ORG_REGISTERED || e->type > HRE_EVENT_ACCESS_LOGGED || e->kind < 1 ||
            e->kind > HRE_KIND_MAX)
            BAD(HRE_ECORRUPT, "snapshot: bad event type or kind");
        refmax = (e->type == HRE_EVENT_GRANTED || e->type == HRE_EVENT_REVOKED || e->type == HRE_EVENT_ACCESS_LOGGED)
                     ? n[4] : n[0];
        RD(rd_idx(&r, &e->actor, n[1], 1, "event actor"));
        RD(rd_idx(&r, &e->subject, n[1], 1, "event subject"));
        RD(rd_idx(&r, &e->record, n[3], 1, "event record"));
        RD(rd_idx(&r, &e->ref, refmax, 1, "event reference"));
        RD(hre_reader_u32(&r, &e->time));
        c->events.n++;
    }
    RD(hre_reader_finish(&r));
    hre__free(first_key);
    *out = c;
    return HRE_OK;
fail:
    hre__free(first_key);
    hre_contract_free(c);
    if (rc == HRE_OK) rc = hre__fail(HRE_ECORRUPT, "snapshot: inconsistent content");
    return rc;
}

static int dup(const char *what)
{
    return hre__fail(HRE_ECORRUPT, "snapshot: duplicate %s", what);
}

/* Part 2: id tables and lists, in entity order (the lists come out as apply
 * builds them: newest first). */
static int index_all(hre_contract *c)
{
    int rc;
    for (uint32_t i = 0; i < c->orgs.n; i++)
        if (!hre_contract__insert_new(c, HRE_C_T_ORG, i)) return dup("organisation id");
    for (uint32_t i = 0; i < c->accounts.n; i++)
        if (!hre_contract__insert_new(c, HRE_C_T_ADDR, i)) return dup("account address");
    for (uint32_t i = 0; i < c->keys.n; i++)
        if (!hre_contract__insert_new(c, HRE_C_T_KEY, i)) return dup("key");
    for (uint32_t i = 0; i < c->records.n; i++) {
        if (!hre_contract__insert_new(c, HRE_C_T_RECORD, i)) return dup("record id");
        if ((rc = hre_contract__grow((void **)&c->chunks.v, &c->chunks.cap, c->chunks.n + 1,
                                     sizeof *c->chunks.v)) != HRE_OK)
            return rc;
        hre_contract__link_record(c, i);
    }
    for (uint32_t i = 0; i < c->grants.n; i++) {
        if (!hre_contract__insert_new(c, HRE_C_T_GRANT, i)) return dup("grant id");
        hre_contract__link_grant(c, i);
    }
    for (uint32_t i = 0; i < c->events.n; i++) hre_contract__link_event(c, i);
    return HRE_OK;
}

/* Part 3: the accumulator term(s) of entity g of the flat sequence orgs,
 * accounts, keys, records, grants, events, added to acc. */
static int term_of(hre_contract *c, hre_sha256_ctx *md, uint64_t g, uint8_t acc[32])
{
    uint8_t t[32];
    int rc;
    if (g < c->orgs.n) {
        if ((rc = hre_contract__term_org(c, md, &c->orgs.v[g], t)) != HRE_OK) return rc;
        hre_contract__acc_add(acc, t);
        return HRE_OK;
    }
    g -= c->orgs.n;
    if (g < c->accounts.n) {
        struct hre_c_account *a = &c->accounts.v[g];
        if ((rc = hre_contract__term_account(c, md, a, a->term)) != HRE_OK) return rc;
        hre_contract__acc_add(acc, a->term);
        return HRE_OK;
    }
    g -= c->accounts.n;
    if (g < c->keys.n) {
        if (!c->keys.v[g].retired) return HRE_OK;
        if ((rc = hre_contract__term_retired_key(c, md, &c->keys.v[g], t)) != HRE_OK) return rc;
        hre_contract__acc_add(acc, t);
        return HRE_OK;
    }
    g -= c->keys.n;
    if (g < c->records.n) {
        if ((rc = hre_contract__term_record(c, md, &c->records.v[g], t)) != HRE_OK) return rc;
        hre_contract__acc_add(acc, t);
        if ((rc = hre_contract__term_record_status(c, md, &c->records.v[g], t)) != HRE_OK) return rc;
        hre_contract__acc_add(acc, t);
        return HRE_OK;
    }
    g -= c->records.n;
    if (g < c->grants.n) {
        if ((rc = hre_contract__term_grant(c, md, &c->grants.v[g], t)) != HRE_OK) return rc;
        hre_contract__acc_add(acc, t);
        if (c->grants.v[g].revoked) {
            if ((rc = hre_contract__term_revocation(c, md, &c->grants.v[g], t)) != HRE_OK) return rc;
            hre_contract__acc_add(acc, t);
        }
        return HRE_OK;
    }
    g -= c->grants.n;
    if ((rc = hre_contract__term_event(c, md, &c->events.v[g], g, t)) != HRE_OK) return rc;
    hre_contract__acc_add(acc, t);
    return HRE_OK;
}

#define TERM_UNIT 1024u          /* entities per unit of shared-out work */
#define MAX_LOAD_THREADS 16u

struct load_par {
    hre_contract *c;             /* set before go = 1 */
    uint64_t total;              /* entities */
    atomic_uint_fast64_t next;   /* next unit to take */
    atomic_int stop;             /* a failure somewhere: stop taking units */
    const uint8_t *in;           /* checksummed bytes (len - 32 of them, then the sum) */
    size_t len;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int go;                      /* 0 wait, 1 terms, -1 quit */
};

struct load_worker {
    pthread_t th;
    struct load_par *p;
    int started, do_sum;
    int sum_rc;                  /* do_sum: HRE_OK, HRE_ECORRUPT (mismatch) or the hash error */
    int rc;
    uint8_t acc[32];
    char why[160];               /* the failure's detail (thread-local in the worker) */
};

static int checksum(const uint8_t *in, size_t len)
{
    uint8_t sum[32];
    int rc = hre_sha256d(sum, in, len - 32);
    if (rc != HRE_OK) return rc;
    return hre_ct_equal(sum, in + len - 32, 32) ? HRE_OK : HRE_ECORRUPT;
}

/* Take units until none is left or someone failed. */
static int terms_run(struct load_par *p, hre_sha256_ctx *md, uint8_t acc[32])
{
    for (;;) {
        uint64_t g = (uint64_t)atomic_fetch_add(&p->next, 1) * TERM_UNIT, end;
        int rc;
        if (g >= p->total || atomic_load(&p->stop)) return HRE_OK;
        end = p->total - g < TERM_UNIT ? p->total : g + TERM_UNIT;
        for (; g < end; g++) {
            if ((rc = term_of(p->c, md, g, acc)) != HRE_OK) {
                atomic_store(&p->stop, 1);
                return rc;
            }
        }
    }
}

static void *load_worker_main(void *arg)
{
    struct load_worker *w = arg;
    struct load_par *p = w->p;
    hre_sha256_ctx *md = NULL;
    int go;
    if (w->do_sum) {
        w->sum_rc = checksum(p->in, p->len);
        if (w->sum_rc != HRE_OK) atomic_store(&p->stop, 1);
    }
    pthread_mutex_lock(&p->mu);
    while (p->go == 0) pthread_cond_wait(&p->cv, &p->mu);
    go = p->go;
    pthread_mutex_unlock(&p->mu);
    if (go < 0) return NULL;
    /* no context (out of memory): leave the units to the other threads */
    if (hre_sha256_new(&md) != HRE_OK) return NULL;
    w->rc = terms_run(p, md, w->acc);
    if (w->rc != HRE_OK) snprintf(w->why, sizeof w->why, "%s", hre_error_detail());
    hre_sha256_free(md);
    return NULL;
}

static void release(struct load_par *p, int go)
{
    pthread_mutex_lock(&p->mu);
    p->go = go;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

HRE_API int hre_contract_snapshot_load(hre_contract **out, const hre_contract_options *opts,
                                       const uint8_t *in, size_t len)
{
    struct load_par p;
    struct load_worker w[MAX_LOAD_THREADS - 1];
    hre_contract *c = NULL;
    uint8_t stored_hash[32], h[32];
    uint32_t ver, nthreads, nw = 0;
    int rc = HRE_OK, sum_rc = HRE_OK, sum_done = 0;

    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_snapshot_load: NULL out");
    *out = NULL;
    if (!opts || (!in && len)) return hre__fail(HRE_EINVAL, "hre_contract_snapshot_load: NULL argument");
    if (opts->version < 1 || opts->version > HRE_CONTRACT_OPTIONS_VERSION)
        return hre__fail(HRE_EUNSUPPORTED, "snapshot_load: unknown options version %u", opts->version);
    if (len < SNAP_HEADER_LEN + 32) return hre__fail(HRE_EDECODE, "snapshot: %zu bytes is too short", len);
    if (memcmp(in, SNAP_MAGIC, 8) != 0) return hre__fail(HRE_EDECODE, "snapshot: bad magic");
    ver = hre__le32(in + 8);
    if (ver != SNAP_VERSION) return hre__fail(HRE_EUNSUPPORTED, "snapshot: unknown format version %u", ver);
    nthreads = opts->version >= 2 ? opts->threads : 1;
    if (nthreads < 1) nthreads = 1;
    if (nthreads > MAX_LOAD_THREADS) nthreads = MAX_LOAD_THREADS;

    memset(&p, 0, sizeof p);
    atomic_init(&p.next, 0);
    atomic_init(&p.stop, 0);
    p.in = in;
    p.len = len;
    if (nthreads > 1) {
        if (pthread_mutex_init(&p.mu, NULL) != 0) {
            nthreads = 1;
        } else if (pthread_cond_init(&p.cv, NULL) != 0) {
            pthread_mutex_destroy(&p.mu);
            nthreads = 1;
        }
    }
    for (uint32_t i = 0; i + 1 < nthreads; i++) {
        memset(&w[nw], 0, sizeof w[nw]);
        w[nw].p = &p;
        w[nw].do_sum = nw == 0;
        if (pthread_create(&w[nw].th, NULL, load_worker_main, &w[nw]) != 0) break;
        w[nw].started = 1;
        nw++;
    }
    if (nw == 0) {
        /* alone: the checksum first, so nothing unchecked is decoded */
        sum_done = 1;
        if ((sum_rc = checksum(in, len)) != HRE_OK) goto joined;
    }

    rc = decode(&c, opts, in, len, stored_hash);
    if (rc == HRE_OK) {
        p.c = c;
        p.total = (uint64_t)c->orgs.n + c->accounts.n + c->keys.n + c->records.n + c->grants.n + c->events.n;
        if (nw) release(&p, 1);
        rc = index_all(c);
        if (rc != HRE_OK) {
            atomic_store(&p.stop, 1);
        } else {
            rc = terms_run(&p, c->md, c->acc);
        }
    } else if (nw) {
        atomic_store(&p.stop, 1);
        release(&p, -1);
    }
    for (uint32_t i = 0; i < nw; i++) {
        (void)pthread_join(w[i].th, NULL);
        if (w[i].do_sum) {
            sum_done = 1;
            sum_rc = w[i].sum_rc;
        }
        if (rc == HRE_OK && w[i].rc != HRE_OK) rc = hre__fail(w[i].rc, "%s", w[i].why);
        if (rc == HRE_OK) hre_contract__acc_add(c->acc, w[i].acc);
    }
joined:
    if (nthreads > 1) {
        pthread_cond_destroy(&p.cv);
        pthread_mutex_destroy(&p.mu);
    }
    if (sum_done && sum_rc != HRE_OK) {
        hre_contract_free(c);
        if (sum_rc == HRE_ECORRUPT) return hre__fail(HRE_ECORRUPT, "snapshot: checksum mismatch");
        return hre__fail(sum_rc, "snapshot: checksum could not be computed");
    }
    if (rc == HRE_OK && (rc = hre_contract_state_hash(c, h)) == HRE_OK && memcmp(h, stored_hash, 32) != 0)
        rc = hre__fail(HRE_ECORRUPT, "snapshot: content does not match the recorded state hash");
    if (rc != HRE_OK) {
        hre_contract_free(c);
        return rc;
    }
    *out = c;
    return HRE_OK;
}
