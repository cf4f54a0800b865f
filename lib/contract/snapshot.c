/* Record contract snapshots: versioned, checksummed, hostile-input decoder. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "contract/internal.h"

#define SNAP_MAGIC "HRECSNAP"
#define SNAP_VERSION 2
#define SNAP_HEADER_LEN (8 + 4 + 32 + 32 + 6 * 4)

/* Smallest encodings, used to bound counts by the input size before allocating. */
#define MIN_ORG (32 + 1 + 1 + 2 + 1)
#define MIN_ACCOUNT (32 + 1 + 1 + 4 + 8 + 4 + 1)
#define MIN_KEY (34 + 4 + 1)
#define MIN_RECORD (32 + 4 * 3 + 32 * 3 + 8 + 8 + 1 + 2 + 32 + 4 + 4 + 1 + 4 + 1 + 4)
#define MIN_ENC (1 + 34)                 /* has_enc + key: bounds the key entries */
#define MIN_GRANT (32 + 4 + 1 + 32 + 1 + 1 + 1 + 8 + 8 + 1 + 1 + 8)
#define MIN_EVENT (1 + 1 + 2 + 4 * 4 + 4)

static void put_idx(hre__writer *w, uint32_t v) { hre__writer_u32(w, v); }

static void put_enc(hre__writer *w, const hre_contract *c, uint32_t e)
{
    hre__writer_u8(w, e != HRE_C_NONE);
    if (e != HRE_C_NONE) hre__writer_bytes(w, c->enc.v[e].key, 34);
}

HRE_API int hre_contract_snapshot_save(const hre_contract *c, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    hre__writer w;
    uint8_t h[32];
    size_t need = 0;
    int rc;
    if (!c || !len || (!out && *len)) return hre__fail(HRE_EINVAL, "hre_contract_snapshot_save: NULL argument");
    if ((rc = hre_contract_state_hash(c, h)) != HRE_OK) return rc;
    hre__writer_init(&w, out, out ? *len : 0);
    hre__writer_bytes(&w, SNAP_MAGIC, 8);
    hre__writer_u32(&w, SNAP_VERSION);
    hre__writer_bytes(&w, c->network_id, 32);
    hre__writer_bytes(&w, h, 32);
    hre__writer_u32(&w, c->orgs.n);
    hre__writer_u32(&w, c->accounts.n);
    hre__writer_u32(&w, c->keys.n);
    hre__writer_u32(&w, c->records.n);
    hre__writer_u32(&w, c->grants.n);
    hre__writer_u32(&w, c->events.n);
    for (uint32_t i = 0; i < c->orgs.n; i++) {
        const struct hre_c_org *o = &c->orgs.v[i];
        hre__writer_bytes(&w, o->id, 32);
        hre__writer_u8(&w, o->type);
        hre__writer_u8(&w, o->status);
        hre__writer_compact(&w, o->name_len);
        hre__writer_bytes(&w, c->arena.v + o->name_off, o->name_len);
        put_enc(&w, c, o->enc);
    }
    for (uint32_t i = 0; i < c->accounts.n; i++) {
        const struct hre_c_account *a = &c->accounts.v[i];
        hre__writer_bytes(&w, a->addr, 32);
        hre__writer_u8(&w, a->role);
        hre__writer_u8(&w, a->status);
        put_idx(&w, a->org);
        hre__writer_u64(&w, a->nonce);
        put_idx(&w, a->key_entry);
        put_enc(&w, c, a->enc);
    }
    for (uint32_t i = 0; i < c->keys.n; i++) {
        const struct hre_c_keyent *k = &c->keys.v[i];
        hre__writer_bytes(&w, k->key, 34);
        put_idx(&w, k->account);
        hre__writer_u8(&w, k->retired);
    }
    for (uint32_t i = 0; i < c->records.n; i++) {
        const struct hre_c_record *r = &c->records.v[i];
        hre__writer_bytes(&w, r->id, 32);
        put_idx(&w, r->patient);
        put_idx(&w, r->issuer);
        put_idx(&w, r->lab);
        hre__writer_bytes(&w, r->c_pid, 32);
        hre__writer_bytes(&w, r->c_test, 32);
        hre__writer_bytes(&w, r->doc, 32);
        hre__writer_u64(&w, hre_c_get64(r->date));
        hre__writer_u64(&w, hre_c_get64(r->price));
        hre__writer_u8(&w, r->category);
        hre__writer_compact(&w, r->hosp_len);
        hre__writer_bytes(&w, c->arena.v + r->hosp_off, r->hosp_len);
        hre__writer_bytes(&w, r->locator, 32);
        put_idx(&w, r->sig_issuer);
        put_idx(&w, r->sig_lab);
        hre__writer_u8(&w, r->valid);
        put_idx(&w, r->supersedes);
        hre__writer_u8(&w, r->erased);
        hre__writer_u32(&w, r->erased_time);
    }
    for (uint32_t i = 0; i < c->grants.n; i++) {
        const struct hre_c_grant *g = &c->grants.v[i];
        hre__writer_bytes(&w, g->id, 32);
        put_idx(&w, g->patient);
        hre__writer_u8(&w, g->reader_type);
        hre__writer_bytes(&w, g->reader, 32);
        hre__writer_u8(&w, g->scope);
        hre__writer_u8(&w, g->category);
        hre__writer_compact(&w, g->nids);
        hre__writer_bytes(&w, c->arena.v + g->ids_off, (size_t)g->nids * 32);
        hre__writer_u64(&w, g->expiry);
        hre__writer_u64(&w, g->created);
        hre__writer_compact(&w, g->env_len);
        hre__writer_bytes(&w, c->arena.v + g->env_off, g->env_len);
        hre__writer_u8(&w, g->revoked);
        hre__writer_u64(&w, g->revoked_time);
    }
    for (uint32_t i = 0; i < c->events.n; i++) {
        const struct hre_c_event *e = &c->events.v[i];
        hre__writer_u8(&w, e->type);
        hre__writer_u8(&w, e->detail);
        hre__writer_u16(&w, e->kind);
        put_idx(&w, e->actor);
        put_idx(&w, e->subject);
        put_idx(&w, e->record);
        put_idx(&w, e->ref);
        hre__writer_u32(&w, e->time);
    }
    need = w.len + 32;
    if (!out || need > *len) {
        *len = need;
        return hre__fail(HRE_EBUFSIZE, "snapshot_save: %zu bytes needed", need);
    }
    if ((rc = hre_sha256d(out + w.len, out, w.len)) != HRE_OK) return rc;
    *len = need;
    return hre__api_done(HRE_OK);
}

/* ------------------------------------------------------------------------ */

#define BAD(code, ...) do { rc = hre__fail(code, __VA_ARGS__); goto fail; } while (0)
#define RD(x) do { if ((rc = (x)) != HRE_OK) goto fail; } while (0)

static int rd_idx(hre__reader *r, uint32_t *v, uint32_t n, int allow_none, const char *what)
{
    int rc = hre__reader_u32(r, v);
    if (rc != HRE_OK) return rc;
    if (*v == HRE_C_NONE && allow_none) return HRE_OK;
    if (*v >= n) return hre__fail(HRE_ECORRUPT, "snapshot: %s index %u out of range", what, *v);
    return HRE_OK;
}

static int rd_str(hre__reader *r, hre_contract *c, uint32_t *off, uint8_t *lenout, size_t max, const char *what)
{
    uint64_t n = 0;
    const uint8_t *p = NULL;
    int rc = hre__reader_compact(r, &n, max);
    if (rc != HRE_OK) return rc;
    if ((rc = hre__reader_borrow(r, &p, (size_t)n)) != HRE_OK) return rc;
    if (!hre_contract__name_ok(p, (size_t)n)) return hre__fail(HRE_ECORRUPT, "snapshot: invalid %s", what);
    if ((rc = hre_contract__grow((void **)&c->arena.v, &c->arena.cap, c->arena.n + (uint32_t)n, 1)) != HRE_OK)
        return rc;
    *off = c->arena.n;
    memcpy(c->arena.v + c->arena.n, p, (size_t)n);
    c->arena.n += (uint32_t)n;
    *lenout = (uint8_t)n;
    return HRE_OK;
}

/* u8 has_enc [key 34]: a key entry (capacity reserved by alloc_arrays) or
 * NONE. Only the syntax is checked here; the point is parsed with the
 * state-hash terms (part 3), which may run on other threads. */
static int rd_enc(hre__reader *r, hre_contract *c, uint32_t *e, const char *what)
{
    uint8_t has = 0;
    int rc = hre__reader_u8(r, &has);
    *e = HRE_C_NONE;
    if (rc != HRE_OK) return rc;
    if (has > 1) return hre__fail(HRE_ECORRUPT, "snapshot: %s encryption key flag %u", what, (unsigned)has);
    if (!has) return HRE_OK;
    if (c->enc.n >= c->enc.cap) return hre__fail(HRE_ECORRUPT, "snapshot: more encryption keys than the input holds");
    if ((rc = hre__reader_bytes(r, c->enc.v[c->enc.n].key, 34)) != HRE_OK) return rc;
    if (c->enc.v[c->enc.n].key[0] != HRE_CURVE_P256 ||
        (c->enc.v[c->enc.n].key[1] != 0x02 && c->enc.v[c->enc.n].key[1] != 0x03))
        return hre__fail(HRE_ECORRUPT, "snapshot: %s encryption key is not a compressed P-256 key", what);
    *e = c->enc.n++;
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

static int alloc_arrays(hre_contract *c, const uint32_t n[6], size_t len)
{
    uint64_t nenc = (uint64_t)n[0] + n[1];
    int rc;
    /* encryption keys: at most one per org and account, and each takes
     * MIN_ENC input bytes; the array never moves while terms are computed */
    if (nenc > len / MIN_ENC) nenc = len / MIN_ENC;
    if ((rc = hre_contract__grow((void **)&c->enc.v, &c->enc.cap, (uint32_t)nenc + 1, sizeof *c->enc.v)) != HRE_OK)
        return rc;
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
 *
 * With more threads, part 3 is shared out in TERM_UNIT-entity units of the
 * flat sequence orgs, accounts, keys, records, grants, events (an atomic
 * counter hands them out) and runs beside parts 1 and 2: decode publishes
 * how far the entities are final (`ready`; accounts only once the keys are
 * read, as the keys fill them in), and a unit is worked on once it is below
 * that mark. This is safe because part 3 reads only entity fields decode has
 * finished writing, entity counts from the header (not the growing n
 * fields), and arrays that never move while it runs: alloc_arrays sizes them
 * all up front (the byte arena to the input length when threaded), and the
 * chunks part 2 grows are never read by part 3. Part 3 writes only partial
 * sums and the accounts' cached `term`, a field part 2 never touches. The
 * first extra thread checksums the input before taking units. A bad
 * checksum is reported as such whatever else failed, as the one-thread order
 * (checksum first) would, so the result never depends on the thread count. */

#define TERM_UNIT 1024u          /* entities per unit of shared-out work */
#define MAX_LOAD_THREADS 16u

struct load_par {
    hre_contract *c;             /* set before the first publish */
    uint64_t start[6], total;    /* flat index of each kind's first entity; entities */
    atomic_uint_fast64_t next;   /* next unit to take */
    atomic_uint_fast64_t ready;  /* entities [0, ready) are final */
    atomic_int stop;             /* a failure somewhere: stop taking units */
    const uint8_t *in;           /* checksummed bytes (len - 32 of them, then the sum) */
    size_t len;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

struct load_worker {
    struct load_par *p;
    int do_sum;
    int sum_rc;                  /* do_sum: HRE_OK, HRE_ECORRUPT (mismatch) or the hash error */
    int rc;
    uint8_t acc[32];
    char why[160];               /* the failure's detail (thread-local in the worker) */
};

static void wake_all(struct load_par *p)
{
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void halt(struct load_par *p)
{
    atomic_store(&p->stop, 1);
    wake_all(p);
}

/* Entities [0, v) are final. No-op when loading alone (p NULL). */
static void publish(struct load_par *p, uint64_t v)
{
    if (!p) return;
    atomic_store(&p->ready, v);
    wake_all(p);
}

/* publish() at unit boundaries only (a unit is taken whole). */
static void publish_unit(struct load_par *p, uint64_t v)
{
    if (p && v % TERM_UNIT == 0) publish(p, v);
}

/* Parse the fixed head: stored state hash and the six counts, bounded by
 * the input size. */
static int parse_head(const uint8_t *in, size_t len, uint8_t stored_hash[32], uint32_t n[6])
{
    /* every entry takes at least its minimum size: bound counts by the input */
    static const size_t mins[6] = { MIN_ORG, MIN_ACCOUNT, MIN_KEY, MIN_RECORD, MIN_GRANT, MIN_EVENT };
    uint64_t total = 0;
    memcpy(stored_hash, in + 44, 32);
    for (int i = 0; i < 6; i++) {
        n[i] = hre__le32(in + 76 + 4 * i);
        if (n[i] > HRE_C_MAX_ITEMS / 2) return hre__fail(HRE_ELIMIT, "snapshot: count %u over the limit", n[i]);
        total += (uint64_t)n[i] * mins[i];
    }
    if (total > len - 32 - SNAP_HEADER_LEN) return hre__fail(HRE_EDECODE, "snapshot: counts exceed the input size");
    if (n[0] < 1 || n[1] < 1 || n[2] < n[1])
        return hre__fail(HRE_ECORRUPT, "snapshot: missing genesis organisation, authority or keys");
    return HRE_OK;
}

/* Part 1. *out is set as soon as the state is allocated and left for the
 * caller to free, also on failure (other threads may still be reading it). */
static int decode(hre_contract **out, const hre_contract_options *opts, const uint8_t *in, size_t len,
                  const uint32_t n[6], struct load_par *par)
{
    hre_contract *c = NULL;
    hre__reader r;
    uint8_t h[32], gorg[32], auth_addr[32];
    const uint8_t *network_id = opts->network_id, *authority_key = opts->authority_key;
    uint32_t *first_key = NULL;
    int rc;

    if (memcmp(in + 12, network_id, 32) != 0)
        return hre__fail(HRE_EINVAL, "snapshot: belongs to another network");
    if ((rc = hre_contract__alloc_state(&c, network_id)) != HRE_OK) return rc;
    *out = c;
    c->on_event = opts->on_event;
    c->user_data = opts->user_data;
    RD(alloc_arrays(c, n, len));
    /* threaded: no arena move while other threads read it (strings take
     * fewer bytes than the input) */
    if (par) {
        uint32_t cap = len > HRE_C_MAX_ITEMS ? HRE_C_MAX_ITEMS : (uint32_t)len;
        RD(hre_contract__grow((void **)&c->arena.v, &c->arena.cap, cap, 1));
    }
    if (par) par->c = c;
    first_key = hre__malloc((size_t)n[1] * sizeof *first_key + 1);
    if (!first_key) BAD(HRE_ENOMEM, "snapshot_load: out of memory");
    for (uint32_t i = 0; i < n[1]; i++) first_key[i] = HRE_C_NONE;
    hre__reader_init(&r, in, len - 32);
    RD(hre__reader_bytes(&r, NULL, SNAP_HEADER_LEN));

    /* organisations */
    for (uint32_t i = 0; i < n[0]; i++) {
        struct hre_c_org *o = &c->orgs.v[i];
        memset(o, 0, sizeof *o);
        RD(hre__reader_bytes(&r, o->id, 32));
        RD(hre__reader_u8(&r, &o->type));
        if (o->type < HRE_ORG_HOSPITAL || o->type > HRE_ORG_PHARMACY) BAD(HRE_ECORRUPT, "snapshot: bad organisation type");
        RD(hre__reader_u8(&r, &o->status));
        if (o->status > HRE_STATUS_SUSPENDED) BAD(HRE_ECORRUPT, "snapshot: bad organisation status");
        RD(rd_str(&r, c, &o->name_off, &o->name_len, HRE_CONTRACT_NAME_MAX, "organisation name"));
        RD(rd_enc(&r, c, &o->enc, "organisation"));
        c->orgs.n++;
    }
    publish(par, n[0]);
    RD(hre_contract_genesis_org_id(gorg, network_id));
    if (memcmp(c->orgs.v[0].id, gorg, 32) != 0 || c->orgs.v[0].type != HRE_ORG_HOSPITAL)
        BAD(HRE_ECORRUPT, "snapshot: first organisation is not the genesis hospital");
    if (c->orgs.v[0].status != HRE_STATUS_ACTIVE) BAD(HRE_ECORRUPT, "snapshot: the genesis organisation is suspended");

    /* accounts (key filled in after the key entries) */
    for (uint32_t i = 0; i < n[1]; i++) {
        struct hre_c_account *a = &c->accounts.v[i];
        memset(a, 0, sizeof *a);
        RD(hre__reader_bytes(&r, a->addr, 32));
        RD(hre__reader_u8(&r, &a->role));
        RD(hre__reader_u8(&r, &a->status));
        RD(rd_idx(&r, &a->org, n[0], 1, "account organisation"));
        RD(hre__reader_u64(&r, &a->nonce));
        RD(rd_idx(&r, &a->key_entry, n[2], 0, "account key"));
        RD(rd_enc(&r, c, &a->enc, "account"));
        if (a->role < HRE_ROLE_AUTHORITY || a->role > HRE_ROLE_NODE || a->status > HRE_STATUS_SUSPENDED)
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
        RD(hre__reader_bytes(&r, k->key, 34));
        RD(rd_idx(&r, &k->account, n[1], 0, "key account"));
        RD(hre__reader_u8(&r, &k->retired));
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
    /* accounts are final only now (their current key came with the keys) */
    publish(par, (uint64_t)n[0] + n[1] + n[2]);

    /* records */
    for (uint32_t i = 0; i < n[3]; i++) {
        struct hre_c_record *rec = &c->records.v[i];
        memset(rec, 0, sizeof *rec);
        RD(hre__reader_bytes(&r, rec->id, 32));
        RD(rd_idx(&r, &rec->patient, n[1], 0, "record patient"));
        RD(rd_idx(&r, &rec->issuer, n[0], 0, "record issuer"));
        RD(rd_idx(&r, &rec->lab, n[0], 0, "record lab"));
        RD(hre__reader_bytes(&r, rec->c_pid, 32));
        RD(hre__reader_bytes(&r, rec->c_test, 32));
        RD(hre__reader_bytes(&r, rec->doc, 32));
        {
            uint64_t d = 0, pr = 0;
            RD(hre__reader_u64(&r, &d));
            RD(hre__reader_u64(&r, &pr));
            hre_c_put64(rec->date, d);
            hre_c_put64(rec->price, pr);
        }
        RD(hre__reader_u8(&r, &rec->category));
        RD(rd_str(&r, c, &rec->hosp_off, &rec->hosp_len, HRE_CONTRACT_NAME_MAX, "hospital name"));
        {
            /* share the issuer's name bytes, as apply does */
            int reused;
            uint32_t off = rec->hosp_off;
            c->arena.n = off;
            rec->hosp_off = hre_contract__hosp_name(c, rec->issuer, c->arena.v + off, rec->hosp_len, &reused);
        }
        RD(hre__reader_bytes(&r, rec->locator, 32));
        RD(rd_idx(&r, &rec->sig_issuer, n[1], 1, "record issuer signer"));
        RD(rd_idx(&r, &rec->sig_lab, n[1], 1, "record lab signer"));
        RD(hre__reader_u8(&r, &rec->valid));
        RD(rd_idx(&r, &rec->supersedes, i, 1, "superseded record"));
        RD(hre__reader_u8(&r, &rec->erased));
        RD(hre__reader_u32(&r, &rec->erased_time));
        if (rec->erased > 1 || (!rec->erased && rec->erased_time != 0))
            BAD(HRE_ECORRUPT, "snapshot: bad record erasure fields");
        if (c->accounts.v[rec->patient].role != HRE_ROLE_PATIENT) BAD(HRE_ECORRUPT, "snapshot: record patient is not a patient");
        if (c->orgs.v[rec->lab].type != HRE_ORG_LAB) BAD(HRE_ECORRUPT, "snapshot: record lab is not a lab");
        if (rec->valid != (rec->sig_issuer != HRE_C_NONE && rec->sig_lab != HRE_C_NONE))
            BAD(HRE_ECORRUPT, "snapshot: record validity inconsistent with its signers");
        if (rec->supersedes != HRE_C_NONE && c->records.v[rec->supersedes].patient != rec->patient)
            BAD(HRE_ECORRUPT, "snapshot: superseded record of another patient");
        rec->ev_head = HRE_C_NONE;
        c->records.n++;
        publish_unit(par, par ? par->start[3] + i + 1 : 0);
    }

    /* grants */
    for (uint32_t i = 0; i < n[4]; i++) {
        struct hre_c_grant *g = &c->grants.v[i];
        uint64_t cnt = 0, elen = 0;
        const uint8_t *p = NULL;
        memset(g, 0, sizeof *g);
        RD(hre__reader_bytes(&r, g->id, 32));
        RD(rd_idx(&r, &g->patient, n[1], 0, "grant patient"));
        RD(hre__reader_u8(&r, &g->reader_type));
        RD(hre__reader_bytes(&r, g->reader, 32));
        RD(hre__reader_u8(&r, &g->scope));
        RD(hre__reader_u8(&r, &g->category));
        RD(hre__reader_compact(&r, &cnt, HRE_CONTRACT_GRANT_IDS_MAX));
        RD(hre__reader_borrow(&r, &p, (size_t)cnt * 32));
        for (uint64_t j = 1; j < cnt; j++)
            if (memcmp(p + (j - 1) * 32, p + j * 32, 32) >= 0) BAD(HRE_ECORRUPT, "snapshot: grant ids not increasing");
        RD(arena_copy(c, p, (size_t)cnt * 32, &g->ids_off));
        g->nids = (uint8_t)cnt;
        RD(hre__reader_u64(&r, &g->expiry));
        RD(hre__reader_u64(&r, &g->created));
        RD(hre__reader_compact(&r, &elen, HRE_CONTRACT_ENVELOPE_MAX));
        RD(hre__reader_borrow(&r, &p, (size_t)elen));
        RD(arena_copy(c, p, (size_t)elen, &g->env_off));
        g->env_len = (uint16_t)elen;
        RD(hre__reader_u8(&r, &g->revoked));
        RD(hre__reader_u64(&r, &g->revoked_time));
        if (c->accounts.v[g->patient].role != HRE_ROLE_PATIENT || g->reader_type > HRE_READER_ORG ||
            g->scope > HRE_SCOPE_RECORDS || (g->scope != HRE_SCOPE_CATEGORY && g->category != 0) ||
            ((g->scope == HRE_SCOPE_RECORDS) != (cnt != 0)) || g->revoked > 1 ||
            (!g->revoked && g->revoked_time != 0))
            BAD(HRE_ECORRUPT, "snapshot: inconsistent grant");
        c->grants.n++;
        publish_unit(par, par ? par->start[4] + i + 1 : 0);
    }

    /* events */
    for (uint32_t i = 0; i < n[5]; i++) {
        struct hre_c_event *e = &c->events.v[i];
        uint32_t refmax;
        memset(e, 0, sizeof *e);
        RD(hre__reader_u8(&r, &e->type));
        RD(hre__reader_u8(&r, &e->detail));
        RD(hre__reader_u16(&r, &e->kind));
        if (e->type < HRE_EVENT_ORG_REGISTERED || e->type > HRE_EVENT_RECORD_ERASED || e->kind < 1 ||
            e->kind > HRE_KIND_MAX)
            BAD(HRE_ECORRUPT, "snapshot: bad event type or kind");
        refmax = (e->type == HRE_EVENT_GRANTED || e->type == HRE_EVENT_REVOKED || e->type == HRE_EVENT_ACCESS_LOGGED)
                     ? n[4] : n[0];
        RD(rd_idx(&r, &e->actor, n[1], 1, "event actor"));
        RD(rd_idx(&r, &e->subject, n[1], 1, "event subject"));
        RD(rd_idx(&r, &e->record, n[3], 1, "event record"));
        RD(rd_idx(&r, &e->ref, refmax, 1, "event reference"));
        RD(hre__reader_u32(&r, &e->time));
        c->events.n++;
        publish_unit(par, par ? par->start[5] + i + 1 : 0);
    }
    RD(hre__reader_finish(&r));
    publish(par, par ? par->total : 0);
    hre__free(first_key);
    return HRE_OK;
fail:
    hre__free(first_key);
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

/* An encryption key's term, after its point is checked (apply parsed it;
 * a snapshot must not smuggle in a key apply would have refused). */
static int enc_term(hre_sha256_ctx *md, uint8_t type, const uint8_t id[32], const uint8_t key[34], uint8_t t[32])
{
    int rc = hre_contract__enc_key_check(key, "snapshot");
    if (rc == HRE_EDECODE) return hre__fail(HRE_ECORRUPT, "snapshot: an encryption key is not a point on P-256");
    if (rc != HRE_OK) return rc;
    return hre_contract__term_enc(md, type, id, key, t);
}

/* Part 3: the accumulator term(s) of entity g of the flat sequence, added to
 * acc. Kinds are told apart with the header counts in start[]. */
static int term_of(const struct load_par *p, hre_sha256_ctx *md, uint64_t g, uint8_t acc[32])
{
    hre_contract *c = p->c;
    uint8_t t[32];
    int rc;
    if (g < p->start[1]) {
        const struct hre_c_org *o = &c->orgs.v[g];
        if ((rc = hre_contract__term_org(c, md, o, t)) != HRE_OK) return rc;
        hre_contract__acc_add(acc, t);
        if (o->enc != HRE_C_NONE) {
            if ((rc = enc_term(md, HRE_ENC_TARGET_ORG, o->id, c->enc.v[o->enc].key, t)) != HRE_OK) return rc;
            hre_contract__acc_add(acc, t);
        }
    } else if (g < p->start[2]) {
        struct hre_c_account *a = &c->accounts.v[g - p->start[1]];
        if ((rc = hre_contract__term_account(c, md, a, a->term)) != HRE_OK) return rc;
        hre_contract__acc_add(acc, a->term);
        if (a->enc != HRE_C_NONE) {
            if ((rc = enc_term(md, HRE_ENC_TARGET_ACCOUNT, a->addr, c->enc.v[a->enc].key, t)) != HRE_OK) return rc;
            hre_contract__acc_add(acc, t);
        }
    } else if (g < p->start[3]) {
        const struct hre_c_keyent *k = &c->keys.v[g - p->start[2]];
        if (!k->retired) return HRE_OK;
        if ((rc = hre_contract__term_retired_key(c, md, k, t)) != HRE_OK) return rc;
        hre_contract__acc_add(acc, t);
    } else if (g < p->start[4]) {
        const struct hre_c_record *r = &c->records.v[g - p->start[3]];
        if ((rc = hre_contract__term_record(c, md, r, t)) != HRE_OK) return rc;
        hre_contract__acc_add(acc, t);
        if ((rc = hre_contract__term_record_status(c, md, r, t)) != HRE_OK) return rc;
        hre_contract__acc_add(acc, t);
    } else if (g < p->start[5]) {
        const struct hre_c_grant *gr = &c->grants.v[g - p->start[4]];
        if ((rc = hre_contract__term_grant(c, md, gr, t)) != HRE_OK) return rc;
        hre_contract__acc_add(acc, t);
        if (gr->revoked) {
            if ((rc = hre_contract__term_revocation(c, md, gr, t)) != HRE_OK) return rc;
            hre_contract__acc_add(acc, t);
        }
    } else {
        uint64_t e = g - p->start[5];
        if ((rc = hre_contract__term_event(c, md, &c->events.v[e], e, t)) != HRE_OK) return rc;
        hre_contract__acc_add(acc, t);
    }
    return HRE_OK;
}

/* The accounts and records entity g's terms will read (patients are spread
 * over a large array: a cache miss each, so fetch them a few entities
 * ahead). Only for entities known final, like term_of. */
#define PREFETCH_AHEAD 8u
static void prefetch_refs(const struct load_par *p, uint64_t g)
{
    const hre_contract *c = p->c;
    if (g >= p->total || g >= atomic_load_explicit(&p->ready, memory_order_acquire)) return;
    if (g >= p->start[5]) {
        const struct hre_c_event *e = &c->events.v[g - p->start[5]];
        if (e->subject != HRE_C_NONE) __builtin_prefetch(c->accounts.v[e->subject].addr);
        if (e->record != HRE_C_NONE) __builtin_prefetch(c->records.v[e->record].id);
    } else if (g >= p->start[3] && g < p->start[4]) {
        __builtin_prefetch(c->accounts.v[c->records.v[g - p->start[3]].patient].addr);
    }
}

/* Wait until entities [0, end) are final; 0 if told to stop instead. */
static int wait_ready(struct load_par *p, uint64_t end)
{
    if (atomic_load(&p->ready) >= end) return 1;
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->ready) < end && !atomic_load(&p->stop)) pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return !atomic_load(&p->stop);
}

/* Take units until none is left or someone failed. */
static int terms_run(struct load_par *p, hre_sha256_ctx *md, uint8_t acc[32])
{
    for (;;) {
        uint64_t g = (uint64_t)atomic_fetch_add(&p->next, 1) * TERM_UNIT, end;
        int rc;
        if (g >= p->total || atomic_load(&p->stop)) return HRE_OK;
        end = p->total - g < TERM_UNIT ? p->total : g + TERM_UNIT;
        if (!wait_ready(p, end)) return HRE_OK;
        for (; g < end; g++) {
            prefetch_refs(p, g + PREFETCH_AHEAD);
            if ((rc = term_of(p, md, g, acc)) != HRE_OK) {
                halt(p);
                return rc;
            }
        }
    }
}

static int checksum(const uint8_t *in, size_t len)
{
    uint8_t sum[32];
    int rc = hre_sha256d(sum, in, len - 32);
    if (rc != HRE_OK) return rc;
    return hre_ct_equal(sum, in + len - 32, 32) ? HRE_OK : HRE_ECORRUPT;
}

/* One pool loop item per extra worker (w is the array of workers). An item
 * the pool's threads do not take in time runs on the loading thread when it
 * joins, after decoding: it then finds every entity final. */
static void load_worker_item(void *arg, size_t i)
{
    struct load_worker *w = (struct load_worker *)arg + i;
    struct load_par *p = w->p;
    hre_sha256_ctx *md = NULL;
    if (w->do_sum) {
        w->sum_rc = checksum(p->in, p->len);
        if (w->sum_rc != HRE_OK) {
            halt(p);
            return;
        }
    }
    /* no context (out of memory): leave the units to the other threads */
    if (hre_sha256_new(&md) != HRE_OK) return;
    w->rc = terms_run(p, md, w->acc);
    if (w->rc != HRE_OK) snprintf(w->why, sizeof w->why, "%s", hre_error_detail());
    hre_sha256_free(md);
}

HRE_API int hre_contract_snapshot_load(hre_contract **out, const hre_contract_options *opts,
                                       const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    struct load_par p;
    struct load_worker w[MAX_LOAD_THREADS - 1];
    hre_contract_options o;
    hre_contract *c = NULL;
    hre_pool *pool = NULL, *own_pool = NULL;
    hre__pool_job job;
    uint8_t stored_hash[32], h[32];
    uint32_t ver, n[6], nthreads, nw = 0;
    int rc = HRE_OK, sum_rc = HRE_OK, sum_done = 0, sync_ok = 0;

    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_snapshot_load: NULL out");
    *out = NULL;
    if (!opts || (!in && len)) return hre__fail(HRE_EINVAL, "hre_contract_snapshot_load: NULL argument");
    if ((rc = hre__vstruct_in(&hre_contract__options_desc, &o, opts)) != HRE_OK) return rc;
    opts = &o;
    if (len < SNAP_HEADER_LEN + 32) return hre__fail(HRE_EDECODE, "snapshot: %zu bytes is too short", len);
    if (memcmp(in, SNAP_MAGIC, 8) != 0) return hre__fail(HRE_EDECODE, "snapshot: bad magic");
    ver = hre__le32(in + 8);
    if (ver != SNAP_VERSION) return hre__fail(HRE_EUNSUPPORTED, "snapshot: unknown format version %u", ver);
    /* Threads: the pool (version 3) if given -- its workers plus this
     * thread; else version 2's `threads` on a pool that lives for this
     * call; else this thread alone. Fields an older version lacks are 0. */
    if (o.pool) {
        pool = o.pool;
        nthreads = hre_pool_threads(pool) + 1;
    } else {
        nthreads = o.threads;
        if (nthreads > MAX_LOAD_THREADS) nthreads = MAX_LOAD_THREADS;
        if (nthreads > 1 && hre_pool_new(&own_pool, nthreads - 1) == HRE_OK) pool = own_pool;
        else nthreads = 1;   /* no threads to be had: the work is done on fewer */
    }
    if (nthreads < 1) nthreads = 1;
    if (nthreads > MAX_LOAD_THREADS) nthreads = MAX_LOAD_THREADS;

    memset(&p, 0, sizeof p);
    atomic_init(&p.next, 0);
    atomic_init(&p.ready, 0);
    atomic_init(&p.stop, 0);
    p.in = in;
    p.len = len;
    /* the counts are known before the checksum is: bounded by the input
     * size, they only size arrays; any other trust waits for the checksum */
    if ((rc = parse_head(in, len, stored_hash, n)) == HRE_OK) {
        for (int i = 1; i < 6; i++) p.start[i] = p.start[i - 1] + n[i - 1];
        p.total = p.start[5] + n[5];
        if (nthreads > 1 && pthread_mutex_init(&p.mu, NULL) == 0) {
            if (pthread_cond_init(&p.cv, NULL) == 0) sync_ok = 1;
            else pthread_mutex_destroy(&p.mu);
        }
        for (uint32_t i = 0; sync_ok && i + 1 < nthreads; i++) {
            memset(&w[nw], 0, sizeof w[nw]);
            w[nw].p = &p;
            w[nw].do_sum = nw == 0;
            nw++;
        }
        if (nw) hre__pool_begin(pool, &job, nw, load_worker_item, w);
    }
    if (nw == 0) {
        /* alone: the checksum first, so nothing unchecked is decoded */
        sum_done = 1;
        if ((sum_rc = checksum(in, len)) != HRE_OK || rc != HRE_OK) goto done;
    }

    rc = decode(&c, opts, in, len, n, nw ? &p : NULL);
    if (rc == HRE_OK) rc = index_all(c);
    if (rc != HRE_OK) {
        if (nw) halt(&p);
    } else {
        if (nw == 0) {
            /* alone: nothing was published */
            p.c = c;
            atomic_store(&p.ready, p.total);
        }
        rc = terms_run(&p, c->md, c->acc);
    }
    if (nw) hre__pool_join(pool, &job);
    for (uint32_t i = 0; i < nw; i++) {
        if (w[i].do_sum) {
            sum_done = 1;
            sum_rc = w[i].sum_rc;
        }
        if (rc == HRE_OK && w[i].rc != HRE_OK) rc = hre__fail(w[i].rc, "%s", w[i].why);
        if (rc == HRE_OK) hre_contract__acc_add(c->acc, w[i].acc);
    }
done:
    if (sync_ok) {
        pthread_cond_destroy(&p.cv);
        pthread_mutex_destroy(&p.mu);
    }
    hre_pool_free(own_pool);
    if (sum_done && sum_rc != HRE_OK) {
        hre_contract_free(c);
        if (sum_rc == HRE_ECORRUPT) return hre__fail(HRE_ECORRUPT, "snapshot: checksum mismatch");
        return hre__fail(sum_rc, "snapshot: checksum could not be computed");
    }
    if (rc == HRE_OK && (rc = hre_contract_state_hash(c, h)) == HRE_OK && memcmp(h, stored_hash, 32) != 0)
        rc = hre__fail(HRE_ECORRUPT, "snapshot: content does not match the recorded state hash");
    if (rc != HRE_OK) {
        hre_contract_free(c);
        return hre__api_done(rc);
    }
    *out = c;
    return hre__api_done(HRE_OK);
}
