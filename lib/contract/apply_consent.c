/* Record contract, apply: consent and access logs (kinds 9-11). */
#include "contract/internal.h"

int hre_contract__apply_grant(struct hre_c_actx *x)
{
    hre_contract *c = x->c;
    const struct hre_c_account *s = &c->accounts.v[x->sender];
    hre_grant_payload p;
    struct hre_c_grant *g;
    uint8_t id[32], t[32];
    uint32_t gi;
    int rc = hre_contract_decode_grant(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    if (s->role != HRE_ROLE_PATIENT) return hre__fail(HRE_EAUTH, "grant: only a patient may grant access to their records");
    if (p.reader_type == HRE_READER_ORG && hre_contract__find(c, HRE_C_T_ORG, p.reader) == HRE_C_NONE)
        return hre__fail(HRE_ENOTFOUND, "grant: reader organisation does not exist");
    for (size_t i = 0; i < p.record_count; i++) {
        uint32_t ri = hre_contract__find(c, HRE_C_T_RECORD, p.record_ids + 32 * i);
        if (ri == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "grant: record id #%zu does not exist", i);
        if (c->records.v[ri].patient != x->sender)
            return hre__fail(HRE_EAUTH, "grant: record id #%zu belongs to another patient", i);
        if (c->records.v[ri].erased) return hre__fail(HRE_EERASED, "grant: record id #%zu was erased", i);
    }
    if (p.expiry != 0 && p.expiry <= x->now)
        return hre__fail(HRE_ESTATE, "grant: expiry %llu is not after the block time %llu",
                         (unsigned long long)p.expiry, (unsigned long long)x->now);
    if ((rc = hre_tx_txid(x->tx, id)) != HRE_OK) return rc;
    if (hre_contract__find(c, HRE_C_T_GRANT, id) != HRE_C_NONE)
        return hre__fail(HRE_EEXISTS, "grant: grant id already exists");
    gi = c->grants.n;
    g = &c->grants.v[gi];
    memset(g, 0, sizeof *g);
    memcpy(g->id, id, 32);
    memcpy(g->reader, p.reader, 32);
    g->expiry = p.expiry;
    g->created = x->now;
    g->patient = x->sender;
    g->reader_type = p.reader_type;
    g->scope = p.scope;
    g->category = p.category;
    g->nids = (uint8_t)p.record_count;
    g->ids_off = hre_contract__arena_put(c, p.record_ids, p.record_count * 32);
    g->env_len = (uint16_t)p.envelope_len;
    g->env_off = hre_contract__arena_put(c, p.envelope, p.envelope_len);
    if ((rc = hre_contract__term_grant(c, c->md, g, t)) != HRE_OK) return rc;
    c->grants.n++;
    hre_contract__insert(c, HRE_C_T_GRANT, gi);
    hre_contract__link_grant(c, gi);
    hre_contract__plus(x, t);
    return hre_contract__emit(x, HRE_EVENT_GRANTED, x->sender, x->sender, HRE_C_NONE, gi, 0);
}

int hre_contract__apply_revoke(struct hre_c_actx *x)
{
    hre_contract *c = x->c;
    const struct hre_c_account *s = &c->accounts.v[x->sender];
    hre_revoke_payload p;
    struct hre_c_grant *g;
    uint8_t t[32];
    uint32_t gi;
    int rc = hre_contract_decode_revoke(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    if (s->role != HRE_ROLE_PATIENT) return hre__fail(HRE_EAUTH, "revoke: only a patient may revoke grants");
    gi = hre_contract__find(c, HRE_C_T_GRANT, p.grant_id);
    if (gi == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "revoke: no such grant");
    g = &c->grants.v[gi];
    if (g->patient != x->sender) return hre__fail(HRE_EAUTH, "revoke: grant was given by another patient");
    if (g->revoked) return hre__fail(HRE_ESTATE, "revoke: grant is already revoked");
    x->u->aux = gi;
    g->revoked = 1;
    g->revoked_time = x->now;
    if ((rc = hre_contract__term_revocation(c, c->md, g, t)) != HRE_OK) return rc;
    hre_contract__plus(x, t);
    return hre_contract__emit(x, HRE_EVENT_REVOKED, x->sender, x->sender, HRE_C_NONE, gi, 0);
}

int hre_contract__apply_log_access(struct hre_c_actx *x)
{
    hre_contract *c = x->c;
    hre_log_access_payload p;
    struct hre_c_access a;
    uint32_t ri;
    int rc = hre_contract_decode_log_access(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    ri = hre_contract__find(c, HRE_C_T_RECORD, p.record_id);
    if (ri == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "log_access: no such record");
    if ((rc = hre_contract__access_check(c, x->sender, ri, x->now, &a)) != HRE_OK) return rc;
    return hre_contract__emit(x, HRE_EVENT_ACCESS_LOGGED, x->sender, c->records.v[ri].patient, ri, a.grant, p.purpose);
}
