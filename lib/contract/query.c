/* Record contract: read-only queries, access rule, commitments. */
#include "contract/internal.h"

/* Does grant g cover record ri for reader account rd at time now? */
static int grant_covers(const hre_contract *c, const struct hre_c_grant *g, uint32_t rd,
                        uint32_t ri, uint64_t now)
{
    const struct hre_c_account *a = &c->accounts.v[rd];
    const struct hre_c_record *r = &c->records.v[ri];
    if (g->revoked) return 0;
    if (g->expiry != 0 && now >= g->expiry) return 0;
    if (g->reader_type == HRE_READER_ACCOUNT) {
        if (memcmp(g->reader, a->addr, 32) != 0) return 0;
    } else {
        if (a->org == HRE_C_NONE || a->role == HRE_ROLE_PATIENT) return 0;
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
                               uint64_t now, uint32_t *grant_out)
{
    const struct hre_c_record *r = &c->records.v[ri];
    uint32_t gi;
    *grant_out = HRE_C_NONE;
    if (c->accounts.v[reader].status != HRE_STATUS_ACTIVE)
        return hre__fail(HRE_EAUTH, "access: reader account is suspended");
    if (reader == r->patient) return HRE_OK;
    for (gi = c->accounts.v[r->patient].grant_head; gi != HRE_C_NONE; gi = c->grants.v[gi].next_patient) {
        if (grant_covers(c, &c->grants.v[gi], reader, ri, now)) {
            *grant_out = gi;
            return HRE_OK;
        }
    }
    return hre__fail(HRE_EAUTH, "access: no live grant (unrevoked, unexpired, matching reader and scope) covers this record");
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

#define CHECK_OUT(fn, ver)                                                              \
    do {                                                                                \
        if (!c || !id || !out) return hre__fail(HRE_EINVAL, fn ": NULL argument");      \
        if (out->version != (ver))                                                      \
            return hre__fail(HRE_EINVAL, fn ": unknown struct version %u", out->version); \
    } while (0)

static void fill_account(const hre_contract *c, uint32_t ai, hre_contract_account *out)
{
    const struct hre_c_account *a = &c->accounts.v[ai];
    unsigned v = out->version;
    memset(out, 0, sizeof *out);
    out->version = v;
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
}

static int not_found(void *out, size_t size, unsigned version, const char *what)
{
    memset(out, 0, size);
    *(unsigned *)out = version;
    return hre__fail(HRE_ENOTFOUND, "%s not found", what);
}

HRE_API int hre_contract_account_get(const hre_contract *c, const uint8_t id[32], hre_contract_account *out)
{
    uint32_t ai;
    CHECK_OUT("hre_contract_account_get", HRE_CONTRACT_ACCOUNT_VERSION);
    ai = hre_contract__find(c, HRE_C_T_ADDR, id);
    if (ai == HRE_C_NONE) return not_found(out, sizeof *out, out->version, "account");
    fill_account(c, ai, out);
    return HRE_OK;
}

HRE_API int hre_contract_account_by_key(const hre_contract *c, const uint8_t id[34], hre_contract_account *out,
                                        int *retired)
{
    uint32_t ki;
    if (retired) *retired = 0;
    CHECK_OUT("hre_contract_account_by_key", HRE_CONTRACT_ACCOUNT_VERSION);
    ki = hre_contract__find(c, HRE_C_T_KEY, id);
    if (ki == HRE_C_NONE) return not_found(out, sizeof *out, out->version, "key");
    fill_account(c, c->keys.v[ki].account, out);
    if (retired) *retired = c->keys.v[ki].retired;
    return HRE_OK;
}

HRE_API int hre_contract_org_get(const hre_contract *c, const uint8_t id[32], hre_contract_org *out)
{
    uint32_t oi;
    const struct hre_c_org *o;
    CHECK_OUT("hre_contract_org_get", HRE_CONTRACT_ORG_VERSION);
    oi = hre_contract__find(c, HRE_C_T_ORG, id);
    if (oi == HRE_C_NONE) return not_found(out, sizeof *out, out->version, "organisation");
    o = &c->orgs.v[oi];
    memset(out, 0, sizeof *out);
    out->version = HRE_CONTRACT_ORG_VERSION;
    memcpy(out->org_id, o->id, 32);
    out->type = o->type;
    out->name_len = o->name_len;
    memcpy(out->name, c->arena.v + o->name_off, o->name_len);
    return HRE_OK;
}

HRE_API int hre_contract_record_get(const hre_contract *c, const uint8_t id[32], hre_contract_record *out)
{
    uint32_t ri;
    const struct hre_c_record *r;
    CHECK_OUT("hre_contract_record_get", HRE_CONTRACT_RECORD_VERSION);
    ri = hre_contract__find(c, HRE_C_T_RECORD, id);
    if (ri == HRE_C_NONE) return not_found(out, sizeof *out, out->version, "record");
    r = &c->records.v[ri];
    memset(out, 0, sizeof *out);
    out->version = HRE_CONTRACT_RECORD_VERSION;
    memcpy(out->id, r->id, 32);
    memcpy(out->patient, c->accounts.v[r->patient].addr, 32);
    memcpy(out->issuer_org, c->orgs.v[r->issuer].id, 32);
    memcpy(out->lab_org, c->orgs.v[r->lab].id, 32);
    memcpy(out->commit_patient_id, r->c_pid, 32);
    memcpy(out->commit_test_name, r->c_test, 32);
    memcpy(out->doc_sha256, r->doc, 32);
    out->date = hre_c_get64(r->date);
    out->price = hre_c_get64(r->price);
    out->category = r->category;
    out->is_valid = r->valid;
    if (r->sig_issuer != HRE_C_NONE) {
        out->has_issuer_signer = 1;
        memcpy(out->issuer_signer, c->accounts.v[r->sig_issuer].addr, 32);
    }
    if (r->sig_lab != HRE_C_NONE) {
        out->has_lab_signer = 1;
        memcpy(out->lab_signer, c->accounts.v[r->sig_lab].addr, 32);
    }
    out->signature_count = (uint8_t)(out->has_issuer_signer + out->has_lab_signer);
    if (r->supersedes != HRE_C_NONE) {
        out->has_supersedes = 1;
        memcpy(out->supersedes, c->records.v[r->supersedes].id, 32);
    }
    out->hospital_name_len = r->hosp_len;
    memcpy(out->hospital_name, c->arena.v + r->hosp_off, r->hosp_len);
    out->uri_len = r->uri_len;
    memcpy(out->uri, c->arena.v + r->uri_off, r->uri_len);
    return HRE_OK;
}

HRE_API int hre_contract_records_by_patient(const hre_contract *c, const uint8_t patient[32],
                                            uint8_t *ids, size_t *n)
{
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
    return HRE_OK;
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

HRE_API int hre_contract_grants_by_patient(const hre_contract *c, const uint8_t patient[32],
                                           hre_contract_grant *out, size_t *n)
{
    const struct hre_c_account *a;
    uint32_t ai, gi;
    size_t i;
    if (!c || !patient || !n || (!out && *n)) return hre__fail(HRE_EINVAL, "hre_contract_grants_by_patient: NULL argument");
    if (*n && out[0].version != HRE_CONTRACT_GRANT_VERSION)
        return hre__fail(HRE_EINVAL, "grants_by_patient: unknown struct version %u", out[0].version);
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
    for (gi = a->grant_head; gi != HRE_C_NONE; gi = c->grants.v[gi].next_patient) fill_grant(c, gi, &out[--i]);
    *n = a->grant_count;
    return HRE_OK;
}

HRE_API int hre_contract_grant_get(const hre_contract *c, const uint8_t id[32], hre_contract_grant *out)
{
    uint32_t gi;
    CHECK_OUT("hre_contract_grant_get", HRE_CONTRACT_GRANT_VERSION);
    gi = hre_contract__find(c, HRE_C_T_GRANT, id);
    if (gi == HRE_C_NONE) return not_found(out, sizeof *out, out->version, "grant");
    fill_grant(c, gi, out);
    return HRE_OK;
}

HRE_API int hre_contract_grant_records(const hre_contract *c, const uint8_t grant_id[32], uint8_t *ids, size_t *n)
{
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
    return HRE_OK;
}

HRE_API int hre_contract_grant_envelope(const hre_contract *c, const uint8_t grant_id[32], uint8_t *out, size_t *len)
{
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
    return HRE_OK;
}

HRE_API int hre_contract_record_events(const hre_contract *c, const uint8_t record_id[32],
                                       hre_contract_event *out, size_t *n)
{
    uint32_t ri, ei;
    size_t i, count;
    const struct hre_c_record *r;
    if (!c || !record_id || !n || (!out && *n)) return hre__fail(HRE_EINVAL, "hre_contract_record_events: NULL argument");
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
    for (ei = r->ev_head; ei != HRE_C_NONE; ei = c->events.v[ei].next_record)
        hre_contract__event_export(c, ei, &out[--i]);
    *n = count;
    return HRE_OK;
}

HRE_API int hre_contract_account_events(const hre_contract *c, const uint8_t address[32],
                                        hre_contract_event *out, size_t *n)
{
    uint32_t ai, ei;
    size_t i;
    const struct hre_c_account *a;
    if (!c || !address || !n || (!out && *n)) return hre__fail(HRE_EINVAL, "hre_contract_account_events: NULL argument");
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
    for (ei = a->ev_head; ei != HRE_C_NONE; ei = c->events.v[ei].next_subject)
        hre_contract__event_export(c, ei, &out[--i]);
    *n = a->ev_count;
    return HRE_OK;
}

HRE_API int hre_contract_can_access(const hre_contract *c, const uint8_t reader[32],
                                    const uint8_t record_id[32], uint64_t block_time)
{
    uint32_t ai, ri, gi;
    if (!c || !reader || !record_id) return hre__fail(HRE_EINVAL, "hre_contract_can_access: NULL argument");
    ri = hre_contract__find(c, HRE_C_T_RECORD, record_id);
    if (ri == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "can_access: no such record");
    ai = hre_contract__find(c, HRE_C_T_ADDR, reader);
    if (ai == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "can_access: reader is not a registered account");
    return hre_contract__access_check(c, ai, ri, block_time, &gi);
}

HRE_API int hre_contract_stats_get(const hre_contract *c, hre_contract_stats *out)
{
    if (!c || !out) return hre__fail(HRE_EINVAL, "hre_contract_stats_get: NULL argument");
    if (out->version != HRE_CONTRACT_STATS_VERSION)
        return hre__fail(HRE_EINVAL, "hre_contract_stats_get: unknown struct version %u", out->version);
    out->accounts = c->accounts.n;
    out->keys = c->keys.n;
    out->orgs = c->orgs.n;
    out->records = c->records.n;
    out->grants = c->grants.n;
    out->events = c->events.n;
    out->undo_depth = c->undo.n - c->undo_start;
    return HRE_OK;
}

HRE_API int hre_contract_commit(uint8_t out[32], uint8_t field, const uint8_t *salt, size_t saltlen,
                                const uint8_t *value, size_t len)
{
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
    return rc;
}

HRE_API int hre_contract_check_commitment(const hre_contract *c, const uint8_t record_id[32],
                                          const uint8_t *salt, size_t saltlen,
                                          const uint8_t *patient_id, size_t patient_id_len,
                                          const uint8_t *test_name, size_t test_name_len)
{
    uint8_t a[32], b[32];
    uint32_t ri;
    int rc, ok;
    if (!c || !record_id) return hre__fail(HRE_EINVAL, "hre_contract_check_commitment: NULL argument");
    ri = hre_contract__find(c, HRE_C_T_RECORD, record_id);
    if (ri == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "check_commitment: no such record");
    if ((rc = hre_contract_commit(a, HRE_COMMIT_PATIENT_ID, salt, saltlen, patient_id, patient_id_len)) != HRE_OK)
        return rc;
    if ((rc = hre_contract_commit(b, HRE_COMMIT_TEST_NAME, salt, saltlen, test_name, test_name_len)) != HRE_OK)
        return rc;
    ok = hre_ct_equal(a, c->records.v[ri].c_pid, 32) & hre_ct_equal(b, c->records.v[ri].c_test, 32);
    hre_wipe(a, 32);
    hre_wipe(b, 32);
    if (!ok) return hre__fail(HRE_EVERIFY, "check_commitment: cleartext does not match the record's commitments");
    return HRE_OK;
}
