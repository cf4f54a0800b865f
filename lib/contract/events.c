/* Record contract: events as the public struct. */
#include "contract/internal.h"

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
