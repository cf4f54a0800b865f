/* Record contract: read-only queries, access rule, commitments. */
#include <stdio.h>

#include "contract/internal.h"

int hre_contract__org_active(const hre_contract *c, const struct hre_c_account *a)
{
    return a->org == HRE_C_NONE || c->orgs.v[a->org].status == HRE_STATUS_ACTIVE;
}

/* Staff of an organisation for access purposes: its admins and doctors (the
 * authority is the genesis organisation's admin). Nodes and patients are
 * not. */
static int is_staff(const struct hre_c_account *a)
{
    return a->role == HRE_ROLE_ADMIN || a->role == HRE_ROLE_DOCTOR || a->role == HRE_ROLE_AUTHORITY;
}

/* Do grant g's reader and scope match reader account rd and record ri
 * (whether or not g is live)? */
static int grant_matches(const hre_contract *c, const struct hre_c_grant *g, uint32_t rd, uint32_t ri)
{
    const struct hre_c_account *a = &c->accounts.v[rd];
    const struct hre_c_record *r = &c->records.v[ri];
    if (g->reader_type == HRE_READER_ACCOUNT) {
        if (memcmp(g->reader, a->addr, 32) != 0) return 0;
    } else {
        if (a->org == HRE_C_NONE || !is_staff(a)) return 0;
        if (memcmp(g->reader, c->orgs.v[a->org].id, 32) != 0) return 0;
    }
    switch (g->scope) {
    case HRE_SCOPE_ALL: return 1;
    case HRE_SCOPE_CATEGORY: return g->category == r->category;
    default: {
        /* ids are strictly increasing: binary search */
        const uint8_t *ids = c->arena.v + g->ids_off;
        size_t lo = 0, hi = g->nids;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            int cmp = memcmp(ids + mid * 32, r->id, 32);
            if (cmp == 0) return 1;
            if (cmp < 0) lo = mid + 1; else hi = mid;
        }
        return 0;
    }
    }
}

int hre_contract__access_check(const hre_contract *c, uint32_t reader, uint32_t ri,
                               uint64_t now, struct hre_c_access *out)
{
    const struct hre_c_record *r = &c->records.v[ri];
    const struct hre_c_account *a = &c->accounts.v[reader];
    uint32_t gi, dead = HRE_C_NONE;
    out->reason = HRE_ACCESS_ALLOWED;
    out->basis = 0;
    out->grant = HRE_C_NONE;
    if (r->erased) {
        out->reason = HRE_ACCESS_ERASED;
        return hre__fail(HRE_EERASED, "access: the record was erased");
    }
    if (a->status != HRE_STATUS_ACTIVE) {
        out->reason = HRE_ACCESS_READER_SUSPENDED;
        return hre__fail(HRE_EAUTH, "access: reader account is suspended");
    }
    if (!hre_contract__org_active(c, a)) {
        out->reason = HRE_ACCESS_ORG_SUSPENDED;
        return hre__fail(HRE_EAUTH, "access: the reader's organisation is suspended");
    }
    if (reader == r->patient) {
        out->basis = HRE_ACCESS_BY_PATIENT;
        return HRE_OK;
    }
    if (is_staff(a) && a->org != HRE_C_NONE && (a->org == r->issuer || a->org == r->lab)) {
        out->basis = HRE_ACCESS_BY_ROLE;
        return HRE_OK;
    }
    /* newest grant first: the first live one allows; else the first dead
     * one that matches decides between REVOKED and EXPIRED */
    for (gi = c->accounts.v[r->patient].grant_head; gi != HRE_C_NONE; gi = c->grants.v[gi].next_patient) {
        const struct hre_c_grant *g = &c->grants.v[gi];
        if (!grant_matches(c, g, reader, ri)) continue;
        if (!g->revoked && (g->expiry == 0 || now < g->expiry)) {
            out->basis = HRE_ACCESS_BY_GRANT;
            out->grant = gi;
            return HRE_OK;
        }
        if (dead == HRE_C_NONE) dead = gi;
    }
    if (dead != HRE_C_NONE) {
        out->grant = dead;
        if (c->grants.v[dead].revoked) {
            out->reason = HRE_ACCESS_REVOKED;
            return hre__fail(HRE_EAUTH, "access: the grant covering this record for this reader was revoked");
        }
        out->reason = HRE_ACCESS_EXPIRED;
        return hre__fail(HRE_EAUTH, "access: the grant covering this record for this reader has expired");
    }
    out->reason = HRE_ACCESS_NO_GRANT;
    return hre__fail(HRE_EAUTH, "access: no role and no live grant (unrevoked, unexpired, matching reader "
                                "and scope) gives this reader access to this record");
}

void hre_contract__event_export(const hre_contract *c, uint32_t ei, hre_contract_event *out)
{
    const struct hre_c_event *e = &c->events.v[ei];
    memset(out, 0, sizeof *out);
    out->version = HRE_CONTRACT_EVENT_VERSION;
    out->type = e->type;
    out->kind = e->kind;
    out->detail = e->detail;
    out->seq = ei;
    out->time = e->time;
    if (e->actor != HRE_C_NONE) memcpy(out->actor, c->accounts.v[e->actor].addr, 32);
    if (e->subject != HRE_C_NONE) memcpy(out->subject, c->accounts.v[e->subject].addr, 32);
    if (e->record != HRE_C_NONE) {
        out->flags |= HRE_EVENT_HAS_RECORD;
        memcpy(out->record_id, c->records.v[e->record].id, 32);
    }
    if (e->ref != HRE_C_NONE) {
        if (e->type == HRE_EVENT_GRANTED || e->type == HRE_EVENT_REVOKED || e->type == HRE_EVENT_ACCESS_LOGGED) {
            out->flags |= HRE_EVENT_HAS_GRANT;
            memcpy(out->grant_id, c->grants.v[e->ref].id, 32);
        } else {
            out->flags |= HRE_EVENT_HAS_ORG;
            memcpy(out->org_id, c->orgs.v[e->ref].id, 32);
        }
    }
}

/* Query result layouts (rule 7). A new version of a struct appends fields
 * and an entry here. */
static const size_t account_size[] = { 0, HRE__END(hre_contract_account, grant_count),
                                       HRE__END(hre_contract_account, enc_key) };
static const size_t org_size[] = { 0, HRE__END(hre_contract_org, name), HRE__END(hre_contract_org, enc_key) };
static const size_t record_size[] = { 0, HRE__END(hre_contract_record, erased_time) };
static const size_t access_size[] = { 0, HRE__END(hre_contract_access, grant_id) };
static const size_t node_size[] = { 0, HRE__END(hre_contract_node, org_id) };
static const size_t grant_size[] = { 0, HRE__END(hre_contract_grant, revoked_time) };
static const size_t stats_size[] = { 0, HRE__END(hre_contract_stats, undo_depth) };
static const size_t event_size[] = { 0, HRE__END(hre_contract_event, grant_id) };
static const hre__vstruct account_desc = { "hre_contract_account", HRE_CONTRACT_ACCOUNT_VERSION, account_size };
static const hre__vstruct org_desc = { "hre_contract_org", HRE_CONTRACT_ORG_VERSION, org_size };
static const hre__vstruct record_desc = { "hre_contract_record", HRE_CONTRACT_RECORD_VERSION, record_size };
static const hre__vstruct grant_desc = { "hre_contract_grant", HRE_CONTRACT_GRANT_VERSION, grant_size };
static const hre__vstruct stats_desc = { "hre_contract_stats", HRE_CONTRACT_STATS_VERSION, stats_size };
static const hre__vstruct event_desc = { "hre_contract_event", HRE_CONTRACT_EVENT_VERSION, event_size };
static const hre__vstruct access_desc = { "hre_contract_access", HRE_CONTRACT_ACCESS_VERSION, access_size };
static const hre__vstruct node_desc = { "hre_contract_node", HRE_CONTRACT_NODE_VERSION, node_size };
_Static_assert(sizeof account_size / sizeof account_size[0] == HRE_CONTRACT_ACCOUNT_VERSION + 1, "account sizes");
_Static_assert(sizeof org_size / sizeof org_size[0] == HRE_CONTRACT_ORG_VERSION + 1, "org sizes");
_Static_assert(sizeof record_size / sizeof record_size[0] == HRE_CONTRACT_RECORD_VERSION + 1, "record sizes");

HRE_API int hre_contract_account_init(hre_contract_account *out, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&account_desc, out, version));
}

HRE_API int hre_contract_org_init(hre_contract_org *out, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&org_desc, out, version));
}

HRE_API int hre_contract_record_init(hre_contract_record *out, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&record_desc, out, version));
}

HRE_API int hre_contract_grant_init(hre_contract_grant *out, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&grant_desc, out, version));
}

HRE_API int hre_contract_stats_init(hre_contract_stats *out, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&stats_desc, out, version));
}

HRE_API int hre_contract_access_init(hre_contract_access *out, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&access_desc, out, version));
}

HRE_API int hre_contract_node_init(hre_contract_node *out, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&node_desc, out, version));
}

/* Arguments and the caller's struct version of a get: fn names the call. */
static int check_get(const char *fn, const hre__vstruct *d, const hre_contract *c, const void *id,
                     const void *out)
{
    if (!c || !id || !out) return hre__fail(HRE_EINVAL, "%s: NULL argument", fn);
    return hre__vstruct_check(d, *(const unsigned int *)out);
}

/* Not found: the caller's struct is zeroed except its version. */
static int not_found(const hre__vstruct *d, void *out, const char *what)
{
    union {
        hre_contract_account a;
        hre_contract_org o;
        hre_contract_record r;
        hre_contract_grant g;
        hre_contract_access x;
        hre_contract_node n;
    } zero;
    memset(&zero, 0, sizeof zero);
    (void)hre__vstruct_out(d, out, &zero);
    return hre__fail(HRE_ENOTFOUND, "%s not found", what);
}

static void fill_account(const hre_contract *c, uint32_t ai, hre_contract_account *out)
{
    const struct hre_c_account *a = &c->accounts.v[ai];
    memset(out, 0, sizeof *out);
    out->version = HRE_CONTRACT_ACCOUNT_VERSION;
    memcpy(out->address, a->addr, 32);
    memcpy(out->key, a->key, 34);
    out->role = a->role;
    out->status = a->status;
    if (a->org != HRE_C_NONE) {
        out->has_org = 1;
        out->org_type = c->orgs.v[a->org].type;
        memcpy(out->org_id, c->orgs.v[a->org].id, 32);
    }
    out->nonce = a->nonce;
    out->record_count = a->rec_count;
    out->grant_count = a->grant_count;
    if (a->org != HRE_C_NONE) out->org_status = c->orgs.v[a->org].status;
    if (a->enc != HRE_C_NONE) {
        out->has_enc_key = 1;
        memcpy(out->enc_key, c->enc.v[a->enc].key, 34);
    }
}

HRE_API int hre_contract_account_get(const hre_contract *c, hre_contract_account *out,
                                     const uint8_t address[32])
{
    HRE__API_SCOPE;
    hre_contract_account full;
    uint32_t ai;
    int rc;
    if ((rc = check_get("hre_contract_account_get", &account_desc, c, address, out)) != HRE_OK) return rc;
    ai = hre_contract__find(c, HRE_C_T_ADDR, address);
    if (ai == HRE_C_NONE) return hre__api_done(not_found(&account_desc, out, "account"));
    fill_account(c, ai, &full);
    return hre__api_done(hre__vstruct_out(&account_desc, out, &full));
}

HRE_API int hre_contract_account_by_key(const hre_contract *c, hre_contract_account *out, int *retired,
                                        const uint8_t key[34])
{
    HRE__API_SCOPE;
    hre_contract_account full;
    uint32_t ki;
    int rc;
    if (retired) *retired = 0;
    if ((rc = check_get("hre_contract_account_by_key", &account_desc, c, key, out)) != HRE_OK) return rc;
    ki = hre_contract__find(c, HRE_C_T_KEY, key);
    if (ki == HRE_C_NONE) return hre__api_done(not_found(&account_desc, out, "key"));
    fill_account(c, c->keys.v[ki].account, &full);
    if (retired) *retired = c->keys.v[ki].retired;
    return hre__api_done(hre__vstruct_out(&account_desc, out, &full));
}

HRE_API int hre_contract_org_get(const hre_contract *c, hre_contract_org *out, const uint8_t org_id[32])
{
    HRE__API_SCOPE;
    hre_contract_org full;
    uint32_t oi;
    const struct hre_c_org *o;
    int rc;
    if ((rc = check_get("hre_contract_org_get", &org_desc, c, org_id, out)) != HRE_OK) return rc;
    oi = hre_contract__find(c, HRE_C_T_ORG, org_id);
    if (oi == HRE_C_NONE) return hre__api_done(not_found(&org_desc, out, "organisation"));
    o = &c->orgs.v[oi];
    memset(&full, 0, sizeof full);
    full.version = HRE_CONTRACT_ORG_VERSION;
    memcpy(full.org_id, o->id, 32);
    full.type = o->type;
    full.name_len = o->name_len;
    memcpy(full.name, c->arena.v + o->name_off, o->name_len);
    full.status = o->status;
    if (o->enc != HRE_C_NONE) {
        full.has_enc_key = 1;
        memcpy(full.enc_key, c->enc.v[o->enc].key, 34);
    }
    return hre__api_done(hre__vstruct_out(&org_desc, out, &full));
}

HRE_API int hre_contract_record_get(const hre_contract *c, hre_contract_record *out,
                                    const uint8_t record_id[32])
{
    HRE__API_SCOPE;
    hre_contract_record full;
    uint32_t ri;
    const struct hre_c_record *r;
    int rc;
    if ((rc = check_get("hre_contract_record_get", &record_desc, c, record_id, out)) != HRE_OK) return rc;
    ri = hre_contract__find(c, HRE_C_T_RECORD, record_id);
    if (ri == HRE_C_NONE) return hre__api_done(not_found(&record_desc, out, "record"));
    r = &c->records.v[ri];
    memset(&full, 0, sizeof full);
    full.version = HRE_CONTRACT_RECORD_VERSION;
    memcpy(full.id, r->id, 32);
    memcpy(full.patient, c->accounts.v[r->patient].addr, 32);
    memcpy(full.issuer_org, c->orgs.v[r->issuer].id, 32);
    memcpy(full.lab_org, c->orgs.v[r->lab].id, 32);
    memcpy(full.commit_patient_id, r->c_pid, 32);
    memcpy(full.commit_test_name, r->c_test, 32);
    memcpy(full.doc_sha256, r->doc, 32);
    full.date = hre_c_get64(r->date);
    full.price = hre_c_get64(r->price);
    full.category = r->category;
    full.is_valid = r->valid;
    if (r->sig_issuer != HRE_C_NONE) {
        full.has_issuer_signer = 1;
        memcpy(full.issuer_signer, c->accounts.v[r->sig_issuer].addr, 32);
    }
    if (r->sig_lab != HRE_C_NONE) {
        full.has_lab_signer = 1;
        memcpy(full.lab_signer, c->accounts.v[r->sig_lab].addr, 32);
    }
    full.signature_count = (uint8_t)(full.has_issuer_signer + full.has_lab_signer);
    if (r->supersedes != HRE_C_NONE) {
        full.has_supersedes = 1;
        memcpy(full.supersedes, c->records.v[r->supersedes].id, 32);
    }
    full.hospital_name_len = r->hosp_len;
    memcpy(full.hospital_name, c->arena.v + r->hosp_off, r->hosp_len);
    memcpy(full.locator, r->locator, 32);
    full.erased = r->erased;
    full.erased_time = r->erased_time;
    return hre__api_done(hre__vstruct_out(&record_desc, out, &full));
}

HRE_API int hre_contract_records_by_patient(const hre_contract *c, uint8_t *ids, size_t *n,
                                            const uint8_t patient[32])
{
    HRE__API_SCOPE;
    const struct hre_c_account *a;
    uint32_t ai, ci, k;
    size_t i;
    if (!c || !patient || !n || (!ids && *n)) return hre__fail(HRE_EINVAL, "hre_contract_records_by_patient: NULL argument");
    ai = hre_contract__find(c, HRE_C_T_ADDR, patient);
    if (ai == HRE_C_NONE) {
        *n = 0;
        return hre__fail(HRE_ENOTFOUND, "records_by_patient: no such account");
    }
    a = &c->accounts.v[ai];
    if (*n < a->rec_count) {
        *n = a->rec_count;
        return hre__fail(HRE_EBUFSIZE, "records_by_patient: room for %u ids needed", a->rec_count);
    }
    /* chunks run newest first: fill from the back to return oldest first */
    i = a->rec_count;
    k = a->rec_count ? (a->rec_count - 1) % HRE_C_CHUNK + 1 : 0;
    for (ci = a->rec_count ? a->rec_chunk : HRE_C_NONE; ci != HRE_C_NONE; ci = c->chunks.v[ci].next) {
        const struct hre_c_chunk *ch = &c->chunks.v[ci];
        while (k) {
            k--;
            memcpy(ids + 32 * --i, c->records.v[ch->rec[k]].id, 32);
        }
        k = HRE_C_CHUNK;
    }
    *n = a->rec_count;
    return hre__api_done(HRE_OK);
}

static void fill_grant(const hre_contract *c, uint32_t gi, hre_contract_grant *out)
{
    const struct hre_c_grant *g = &c->grants.v[gi];
    memset(out, 0, sizeof *out);
    out->version = HRE_CONTRACT_GRANT_VERSION;
    memcpy(out->id, g->id, 32);
    memcpy(out->patient, c->accounts.v[g->patient].addr, 32);
    out->reader_type = g->reader_type;
    out->scope = g->scope;
    out->category = g->category;
    out->revoked = g->revoked;
    memcpy(out->reader, g->reader, 32);
    out->record_count = g->nids;
    out->envelope_len = g->env_len;
    out->expiry = g->expiry;
    out->created_time = g->created;
    out->revoked_time = g->revoked_time;
}

/* Arguments of a list of versioned structs (rule 7): the element version
 * the caller's elem_size holds. */
static int check_list(const char *fn, const hre__vstruct *d, const hre_contract *c, const void *key,
                      const void *out, size_t elem_size, size_t *n, unsigned int *version)
{
    if (!c || !key || !n || (!out && *n)) return hre__fail(HRE_EINVAL, "%s: NULL argument", fn);
    return hre__vstruct_for_size(d, elem_size, version);
}

HRE_API int hre_contract_grants_by_patient(const hre_contract *c, hre_contract_grant *out,
                                           size_t elem_size, size_t *n, const uint8_t patient[32])
{
    HRE__API_SCOPE;
    const struct hre_c_account *a;
    hre_contract_grant g;
    uint32_t ai, gi;
    unsigned int v;
    size_t i;
    int rc;
    if ((rc = check_list("hre_contract_grants_by_patient", &grant_desc, c, patient, out, elem_size, n,
                         &v)) != HRE_OK)
        return hre__api_done(rc);
    ai = hre_contract__find(c, HRE_C_T_ADDR, patient);
    if (ai == HRE_C_NONE) {
        *n = 0;
        return hre__fail(HRE_ENOTFOUND, "grants_by_patient: no such account");
    }
    a = &c->accounts.v[ai];
    if (*n < a->grant_count) {
        *n = a->grant_count;
        return hre__fail(HRE_EBUFSIZE, "grants_by_patient: room for %u grants needed", a->grant_count);
    }
    i = a->grant_count;
    for (gi = a->grant_head; gi != HRE_C_NONE; gi = c->grants.v[gi].next_patient) {
        fill_grant(c, gi, &g);
        hre__vstruct_put(&grant_desc, out, elem_size, --i, v, &g);
    }
    *n = a->grant_count;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_contract_grant_get(const hre_contract *c, hre_contract_grant *out,
                                   const uint8_t grant_id[32])
{
    HRE__API_SCOPE;
    hre_contract_grant full;
    uint32_t gi;
    int rc;
    if ((rc = check_get("hre_contract_grant_get", &grant_desc, c, grant_id, out)) != HRE_OK) return rc;
    gi = hre_contract__find(c, HRE_C_T_GRANT, grant_id);
    if (gi == HRE_C_NONE) return hre__api_done(not_found(&grant_desc, out, "grant"));
    fill_grant(c, gi, &full);
    return hre__api_done(hre__vstruct_out(&grant_desc, out, &full));
}

HRE_API int hre_contract_grant_records(const hre_contract *c, uint8_t *ids, size_t *n,
                                       const uint8_t grant_id[32])
{
    HRE__API_SCOPE;
    uint32_t gi;
    const struct hre_c_grant *g;
    if (!c || !grant_id || !n || (!ids && *n)) return hre__fail(HRE_EINVAL, "hre_contract_grant_records: NULL argument");
    gi = hre_contract__find(c, HRE_C_T_GRANT, grant_id);
    if (gi == HRE_C_NONE) {
        *n = 0;
        return hre__fail(HRE_ENOTFOUND, "grant_records: no such grant");
    }
    g = &c->grants.v[gi];
    if (*n < g->nids) {
        *n = g->nids;
        return hre__fail(HRE_EBUFSIZE, "grant_records: room for %u ids needed", (unsigned)g->nids);
    }
    if (g->nids) memcpy(ids, c->arena.v + g->ids_off, (size_t)g->nids * 32);
    *n = g->nids;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_contract_grant_envelope(const hre_contract *c, uint8_t *out, size_t *len,
                                        const uint8_t grant_id[32])
{
    HRE__API_SCOPE;
    uint32_t gi;
    const struct hre_c_grant *g;
    if (!c || !grant_id || !len || (!out && *len)) return hre__fail(HRE_EINVAL, "hre_contract_grant_envelope: NULL argument");
    gi = hre_contract__find(c, HRE_C_T_GRANT, grant_id);
    if (gi == HRE_C_NONE) {
        *len = 0;
        return hre__fail(HRE_ENOTFOUND, "grant_envelope: no such grant");
    }
    g = &c->grants.v[gi];
    if (*len < g->env_len) {
        *len = g->env_len;
        return hre__fail(HRE_EBUFSIZE, "grant_envelope: %u bytes needed", (unsigned)g->env_len);
    }
    if (g->env_len) memcpy(out, c->arena.v + g->env_off, g->env_len);
    *len = g->env_len;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_contract_record_events(const hre_contract *c, hre_contract_event *out,
                                       size_t elem_size, size_t *n, const uint8_t record_id[32])
{
    HRE__API_SCOPE;
    hre_contract_event ev;
    uint32_t ri, ei;
    unsigned int v;
    size_t i, count;
    const struct hre_c_record *r;
    int rc;
    if ((rc = check_list("hre_contract_record_events", &event_desc, c, record_id, out, elem_size, n,
                         &v)) != HRE_OK)
        return hre__api_done(rc);
    ri = hre_contract__find(c, HRE_C_T_RECORD, record_id);
    if (ri == HRE_C_NONE) {
        *n = 0;
        return hre__fail(HRE_ENOTFOUND, "record_events: no such record");
    }
    r = &c->records.v[ri];
    for (ei = r->ev_head, count = 0; ei != HRE_C_NONE; ei = c->events.v[ei].next_record) count++;
    if (*n < count) {
        *n = count;
        return hre__fail(HRE_EBUFSIZE, "record_events: room for %zu events needed", count);
    }
    i = count;
    for (ei = r->ev_head; ei != HRE_C_NONE; ei = c->events.v[ei].next_record) {
        hre_contract__event_export(c, ei, &ev);
        hre__vstruct_put(&event_desc, out, elem_size, --i, v, &ev);
    }
    *n = count;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_contract_account_events(const hre_contract *c, hre_contract_event *out,
                                        size_t elem_size, size_t *n, const uint8_t address[32])
{
    HRE__API_SCOPE;
    hre_contract_event ev;
    uint32_t ai, ei;
    unsigned int v;
    size_t i;
    const struct hre_c_account *a;
    int rc;
    if ((rc = check_list("hre_contract_account_events", &event_desc, c, address, out, elem_size, n,
                         &v)) != HRE_OK)
        return hre__api_done(rc);
    ai = hre_contract__find(c, HRE_C_T_ADDR, address);
    if (ai == HRE_C_NONE) {
        *n = 0;
        return hre__fail(HRE_ENOTFOUND, "account_events: no such account");
    }
    a = &c->accounts.v[ai];
    if (*n < a->ev_count) {
        *n = a->ev_count;
        return hre__fail(HRE_EBUFSIZE, "account_events: room for %u events needed", a->ev_count);
    }
    i = a->ev_count;
    for (ei = a->ev_head; ei != HRE_C_NONE; ei = c->events.v[ei].next_subject) {
        hre_contract__event_export(c, ei, &ev);
        hre__vstruct_put(&event_desc, out, elem_size, --i, v, &ev);
    }
    *n = a->ev_count;
    return hre__api_done(HRE_OK);
}

/* The access verdict for reader address / record id (both looked up). */
static int access_of(const hre_contract *c, const uint8_t reader[32], const uint8_t record_id[32],
                     uint64_t block_time, struct hre_c_access *a)
{
    uint32_t ai, ri;
    a->reason = HRE_ACCESS_ALLOWED;
    a->basis = 0;
    a->grant = HRE_C_NONE;
    ri = hre_contract__find(c, HRE_C_T_RECORD, record_id);
    if (ri == HRE_C_NONE) {
        a->reason = HRE_ACCESS_UNKNOWN_RECORD;
        return hre__fail(HRE_ENOTFOUND, "access: no such record");
    }
    ai = hre_contract__find(c, HRE_C_T_ADDR, reader);
    if (ai == HRE_C_NONE) {
        a->reason = HRE_ACCESS_UNKNOWN_READER;
        return hre__fail(HRE_ENOTFOUND, "access: reader is not a registered account");
    }
    return hre_contract__access_check(c, ai, ri, block_time, a);
}

HRE_API int hre_contract_access_check(const hre_contract *c, hre_contract_access *out,
                                      const uint8_t reader[32], const uint8_t record_id[32],
                                      uint64_t block_time)
{
    HRE__API_SCOPE;
    struct hre_c_access a;
    hre_contract_access full;
    char why[256];
    int rc, wrc;
    if (!c || !reader || !record_id) return hre__fail(HRE_EINVAL, "hre_contract_access_check: NULL argument");
    if (out && (rc = hre__vstruct_check(&access_desc, out->version)) != HRE_OK) return rc;
    rc = access_of(c, reader, record_id, block_time, &a);
    if (!out) return hre__api_done(rc);
    snprintf(why, sizeof why, "%s", rc == HRE_OK ? "" : hre_error_detail());
    memset(&full, 0, sizeof full);
    full.version = HRE_CONTRACT_ACCESS_VERSION;
    full.reason = a.reason;
    full.basis = a.basis;
    if (a.grant != HRE_C_NONE) {
        full.has_grant = 1;
        memcpy(full.grant_id, c->grants.v[a.grant].id, 32);
    }
    wrc = hre__vstruct_out(&access_desc, out, &full);
    if (wrc != HRE_OK) return wrc;
    if (rc != HRE_OK) return hre__fail(rc, "%s", why);   /* the refusal's detail, not the copy's */
    return hre__api_done(HRE_OK);
}

HRE_API int hre_contract_can_access(const hre_contract *c, const uint8_t reader[32],
                                    const uint8_t record_id[32], uint64_t block_time)
{
    HRE__API_SCOPE;
    struct hre_c_access a;
    if (!c || !reader || !record_id) return hre__fail(HRE_EINVAL, "hre_contract_can_access: NULL argument");
    return hre__api_done(access_of(c, reader, record_id, block_time, &a));
}

HRE_API int hre_contract_node_status(const hre_contract *c, hre_contract_node *out, const uint8_t node_key[34])
{
    HRE__API_SCOPE;
    hre_contract_node full;
    const struct hre_c_keyent *k;
    const struct hre_c_account *a;
    uint32_t ki;
    int rc = HRE_OK, wrc;
    char why[256];
    if (!c || !node_key) return hre__fail(HRE_EINVAL, "hre_contract_node_status: NULL argument");
    if (out && (rc = hre__vstruct_check(&node_desc, out->version)) != HRE_OK) return rc;
    memset(&full, 0, sizeof full);
    full.version = HRE_CONTRACT_NODE_VERSION;
    ki = hre_contract__find(c, HRE_C_T_KEY, node_key);
    if (ki == HRE_C_NONE) {
        full.reason = HRE_NODE_UNKNOWN_KEY;
        rc = hre__fail(HRE_ENOTFOUND, "node_status: the key was never registered");
    } else {
        k = &c->keys.v[ki];
        a = &c->accounts.v[k->account];
        full.has_account = 1;
        full.role = a->role;
        memcpy(full.address, a->addr, 32);
        if (a->org != HRE_C_NONE) {
            full.org_type = c->orgs.v[a->org].type;
            memcpy(full.org_id, c->orgs.v[a->org].id, 32);
        }
        if (a->role != HRE_ROLE_NODE) {
            full.reason = HRE_NODE_NOT_A_NODE;
            rc = hre__fail(HRE_ENOTFOUND, "node_status: the key belongs to an account that is not a node");
        } else if (k->retired) {
            full.reason = HRE_NODE_KEY_ROTATED;
            rc = hre__fail(HRE_EAUTH, "node_status: the key was rotated out of its node account");
        } else if (a->status != HRE_STATUS_ACTIVE) {
            full.reason = HRE_NODE_SUSPENDED;
            rc = hre__fail(HRE_EAUTH, "node_status: the node account is suspended");
        } else if (!hre_contract__org_active(c, a)) {
            full.reason = HRE_NODE_ORG_SUSPENDED;
            rc = hre__fail(HRE_EAUTH, "node_status: the node's organisation is suspended");
        }
    }
    if (!out) return hre__api_done(rc);
    snprintf(why, sizeof why, "%s", rc == HRE_OK ? "" : hre_error_detail());
    wrc = hre__vstruct_out(&node_desc, out, &full);
    if (wrc != HRE_OK) return wrc;
    if (rc != HRE_OK) return hre__fail(rc, "%s", why);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_contract_enc_key_get(const hre_contract *c, uint8_t key[34], uint8_t target_type,
                                     const uint8_t id[32])
{
    HRE__API_SCOPE;
    uint32_t i, e;
    if (!key) return hre__fail(HRE_EINVAL, "hre_contract_enc_key_get: NULL key");
    memset(key, 0, 34);
    if (!c || !id) return hre__fail(HRE_EINVAL, "hre_contract_enc_key_get: NULL argument");
    if (target_type == HRE_ENC_TARGET_ACCOUNT) {
        i = hre_contract__find(c, HRE_C_T_ADDR, id);
        if (i == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "enc_key_get: no account with this address");
        e = c->accounts.v[i].enc;
    } else if (target_type == HRE_ENC_TARGET_ORG) {
        i = hre_contract__find(c, HRE_C_T_ORG, id);
        if (i == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "enc_key_get: no such organisation");
        e = c->orgs.v[i].enc;
    } else {
        return hre__fail(HRE_EINVAL, "hre_contract_enc_key_get: unknown target type %u", (unsigned)target_type);
    }
    if (e == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "enc_key_get: no encryption key was set");
    memcpy(key, c->enc.v[e].key, 34);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_contract_stats_get(const hre_contract *c, hre_contract_stats *out)
{
    HRE__API_SCOPE;
    hre_contract_stats full;
    int rc;
    if ((rc = check_get("hre_contract_stats_get", &stats_desc, c, c, out)) != HRE_OK) return rc;
    memset(&full, 0, sizeof full);
    full.version = HRE_CONTRACT_STATS_VERSION;
    full.accounts = c->accounts.n;
    full.keys = c->keys.n;
    full.orgs = c->orgs.n;
    full.records = c->records.n;
    full.grants = c->grants.n;
    full.events = c->events.n;
    full.undo_depth = c->undo.n - c->undo_start;
    return hre__api_done(hre__vstruct_out(&stats_desc, out, &full));
}

HRE_API int hre_contract_commit(uint8_t out[32], uint8_t field, const uint8_t *salt, size_t saltlen,
                                const uint8_t *value, size_t len)
{
    HRE__API_SCOPE;
    uint8_t stackbuf[257];
    uint8_t *msg = stackbuf;
    int rc;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_commit: NULL out");
    memset(out, 0, 32);
    if (!salt || (!value && len)) return hre__fail(HRE_EINVAL, "hre_contract_commit: NULL argument");
    if (field != HRE_COMMIT_PATIENT_ID && field != HRE_COMMIT_TEST_NAME)
        return hre__fail(HRE_EINVAL, "hre_contract_commit: unknown field %u", (unsigned)field);
    if (saltlen < HRE_CONTRACT_SALT_MIN || saltlen > HRE_CONTRACT_SALT_MAX)
        return hre__fail(HRE_EINVAL, "hre_contract_commit: salt must be %d..%d bytes",
                         HRE_CONTRACT_SALT_MIN, HRE_CONTRACT_SALT_MAX);
    if (len > 65536) return hre__fail(HRE_ELIMIT, "hre_contract_commit: value over 65536 bytes");
    if (len + 1 > sizeof stackbuf) {
        msg = hre__malloc(len + 1);
        if (!msg) return hre__fail(HRE_ENOMEM, "hre_contract_commit: out of memory");
    }
    msg[0] = field;
    if (len) memcpy(msg + 1, value, len);
    rc = hre_hmac_sha256(out, salt, saltlen, msg, len + 1);
    hre_wipe(msg, len + 1);   /* the cleartext is PHI */
    if (msg != stackbuf) hre__free(msg);
    return hre__api_done(rc);
}

HRE_API int hre_contract_check_commitment(const hre_contract *c, const uint8_t record_id[32],
                                          const uint8_t *salt, size_t saltlen,
                                          const uint8_t *patient_id, size_t patient_id_len,
                                          const uint8_t *test_name, size_t test_name_len)
{
    HRE__API_SCOPE;
    uint8_t a[32], b[32];
    uint32_t ri;
    int rc, ok;
    if (!c || !record_id) return hre__fail(HRE_EINVAL, "hre_contract_check_commitment: NULL argument");
    ri = hre_contract__find(c, HRE_C_T_RECORD, record_id);
    if (ri == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "check_commitment: no such record");
    if ((rc = hre_contract_commit(a, HRE_COMMIT_PATIENT_ID, salt, saltlen, patient_id, patient_id_len)) != HRE_OK)
        return hre__api_done(rc);
    if ((rc = hre_contract_commit(b, HRE_COMMIT_TEST_NAME, salt, saltlen, test_name, test_name_len)) != HRE_OK)
        return hre__api_done(rc);
    ok = hre_ct_equal(a, c->records.v[ri].c_pid, 32) & hre_ct_equal(b, c->records.v[ri].c_test, 32);
    hre_wipe(a, 32);
    hre_wipe(b, 32);
    if (!ok) return hre__fail(HRE_EVERIFY, "check_commitment: cleartext does not match the record's commitments");
    return hre__api_done(HRE_OK);
}
