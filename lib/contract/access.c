/* Record contract: the access rule (docs/PROTOCOL.md 5.2, "Access"). */
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
