/* Record contract, apply: organisations, accounts and their keys (kinds 1-6,
 * 12-14). */
#include "contract/internal.h"

int hre_contract__apply_register_org(struct hre_c_actx *x)
{
    hre_contract *c = x->c;
    const struct hre_c_account *s = &c->accounts.v[x->sender];
    hre_register_org_payload p;
    struct hre_c_org *o;
    uint8_t id[32], t[32];
    uint32_t oi, ai;
    int rc = hre_contract_decode_register_org(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    if (s->role != HRE_ROLE_AUTHORITY)
        return hre__fail(HRE_EAUTH, "register_org: only the authority may register organisations");
    if ((rc = hre_contract__key_free(c, p.admin_key, "register_org admin")) != HRE_OK) return rc;
    if ((rc = hre_tx_txid(x->tx, id)) != HRE_OK) return rc;
    if (hre_contract__find(c, HRE_C_T_ORG, id) != HRE_C_NONE)
        return hre__fail(HRE_EEXISTS, "register_org: organisation id already exists");
    oi = c->orgs.n;
    o = &c->orgs.v[oi];
    memset(o, 0, sizeof *o);
    memcpy(o->id, id, 32);
    o->type = p.org_type;
    o->status = HRE_STATUS_ACTIVE;
    o->enc = HRE_C_NONE;
    o->name_len = (uint8_t)p.name_len;
    o->name_off = hre_contract__arena_put(c, p.name, p.name_len);
    if ((rc = hre_contract__term_org(c, c->md, o, t)) != HRE_OK) return rc;
    c->orgs.n++;
    hre_contract__insert(c, HRE_C_T_ORG, oi);
    hre_contract__plus(x, t);
    if ((rc = hre_contract__add_account(x, p.admin_key, HRE_ROLE_ADMIN, oi, &ai)) != HRE_OK) return rc;
    if ((rc = hre_contract__emit(x, HRE_EVENT_ORG_REGISTERED, x->sender, ai, HRE_C_NONE, oi, p.org_type)) != HRE_OK) return rc;
    return hre_contract__emit(x, HRE_EVENT_ADMIN_APPOINTED, x->sender, ai, HRE_C_NONE, oi, 0);
}

int hre_contract__apply_appoint_admin(struct hre_c_actx *x)
{
    hre_contract *c = x->c;
    const struct hre_c_account *s = &c->accounts.v[x->sender];
    hre_appoint_admin_payload p;
    uint32_t oi, ai;
    int rc = hre_contract_decode_appoint_admin(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    if (s->role != HRE_ROLE_AUTHORITY)
        return hre__fail(HRE_EAUTH, "appoint_admin: only the authority may appoint admins");
    oi = hre_contract__find(c, HRE_C_T_ORG, p.org_id);
    if (oi == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "appoint_admin: no such organisation");
    if ((rc = hre_contract__key_free(c, p.admin_key, "appoint_admin")) != HRE_OK) return rc;
    if ((rc = hre_contract__add_account(x, p.admin_key, HRE_ROLE_ADMIN, oi, &ai)) != HRE_OK) return rc;
    return hre_contract__emit(x, HRE_EVENT_ADMIN_APPOINTED, x->sender, ai, HRE_C_NONE, oi, 0);
}

int hre_contract__apply_register_doctor(struct hre_c_actx *x)
{
    hre_contract *c = x->c;
    const struct hre_c_account *s = &c->accounts.v[x->sender];
    hre_register_doctor_payload p;
    uint32_t ai, org = s->org;
    int rc = hre_contract_decode_register_doctor(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    if (!hre_contract__is_admin_of(s, s->org))
        return hre__fail(HRE_EAUTH, "register_doctor: only an organisation admin may register doctors");
    if ((rc = hre_contract__key_free(c, p.doctor_key, "register_doctor")) != HRE_OK) return rc;
    if ((rc = hre_contract__add_account(x, p.doctor_key, HRE_ROLE_DOCTOR, org, &ai)) != HRE_OK) return rc;
    return hre_contract__emit(x, HRE_EVENT_DOCTOR_REGISTERED, x->sender, ai, HRE_C_NONE, org, 0);
}

int hre_contract__apply_register_patient(struct hre_c_actx *x)
{
    hre_register_patient_payload p;
    uint32_t ai;
    int rc = hre_contract_decode_register_patient(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    if ((rc = hre_contract__add_account(x, x->sender_key, HRE_ROLE_PATIENT, HRE_C_NONE, &ai)) != HRE_OK) return rc;
    x->sender = ai;
    return hre_contract__emit(x, HRE_EVENT_PATIENT_REGISTERED, ai, ai, HRE_C_NONE, HRE_C_NONE, 0);
}

int hre_contract__apply_suspend(struct hre_c_actx *x)
{
    hre_contract *c = x->c;
    hre_suspend_payload p;
    struct hre_c_account *t;
    uint32_t ti;
    int rc = hre_contract_decode_suspend(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    ti = hre_contract__find(c, HRE_C_T_ADDR, p.target);
    if (ti == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "suspend: no account with this address");
    if (ti == x->sender) return hre__fail(HRE_EAUTH, "suspend: an account cannot suspend or reinstate itself");
    if ((rc = hre_contract__may_manage(c, x->sender, ti, "suspend")) != HRE_OK) return rc;
    t = &c->accounts.v[ti];
    if (p.action == HRE_SUSPEND_SUSPEND && t->status == HRE_STATUS_SUSPENDED)
        return hre__fail(HRE_ESTATE, "suspend: account is already suspended");
    if (p.action == HRE_SUSPEND_REINSTATE && t->status == HRE_STATUS_ACTIVE)
        return hre__fail(HRE_ESTATE, "suspend: account is not suspended");
    x->u->target = ti;
    x->u->old_status = t->status;
    memcpy(x->u->target_term, t->term, 32);
    t->status = p.action == HRE_SUSPEND_SUSPEND ? HRE_STATUS_SUSPENDED : HRE_STATUS_ACTIVE;
    if ((rc = hre_contract__reterm_account(x, ti)) != HRE_OK) return rc;
    return hre_contract__emit(x, p.action == HRE_SUSPEND_SUSPEND ? HRE_EVENT_SUSPENDED : HRE_EVENT_REINSTATED,
                x->sender, ti, HRE_C_NONE, t->org, 0);
}

int hre_contract__apply_rotate_key(struct hre_c_actx *x)
{
    hre_contract *c = x->c;
    hre_rotate_key_payload p;
    struct hre_c_account *t;
    struct hre_c_keyent *old, *nk;
    uint8_t term[32];
    uint32_t ti, nki;
    int rc = hre_contract_decode_rotate_key(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    ti = hre_contract__find(c, HRE_C_T_ADDR, p.target);
    if (ti == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "rotate_key: no account with this address");
    if (ti != x->sender && c->accounts.v[x->sender].role == HRE_ROLE_NODE)
        return hre__fail(HRE_EAUTH, "rotate_key: a node account may rotate only its own key");
    if (ti != x->sender && (rc = hre_contract__may_manage(c, x->sender, ti, "rotate_key")) != HRE_OK) return rc;
    if ((rc = hre_contract__key_free(c, p.new_key, "rotate_key new")) != HRE_OK) return rc;
    t = &c->accounts.v[ti];
    old = &c->keys.v[t->key_entry];
    x->u->target = ti;
    x->u->aux = t->key_entry;
    memcpy(x->u->target_term, t->term, 32);
    old->retired = 1;
    if ((rc = hre_contract__term_retired_key(c, c->md, old, term)) != HRE_OK) return rc;
    hre_contract__plus(x, term);
    nki = c->keys.n;
    nk = &c->keys.v[nki];
    memset(nk, 0, sizeof *nk);
    memcpy(nk->key, p.new_key, 34);
    nk->account = ti;
    c->keys.n++;
    hre_contract__insert(c, HRE_C_T_KEY, nki);
    memcpy(t->key, p.new_key, 34);
    t->key_entry = nki;
    if ((rc = hre_contract__reterm_account(x, ti)) != HRE_OK) return rc;
    return hre_contract__emit(x, HRE_EVENT_KEY_ROTATED, x->sender, ti, HRE_C_NONE, t->org, 0);
}

int hre_contract__apply_register_node(struct hre_c_actx *x)
{
    hre_contract *c = x->c;
    const struct hre_c_account *s = &c->accounts.v[x->sender];
    hre_register_node_payload p;
    uint32_t ai, org = s->org;
    int rc = hre_contract_decode_register_node(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    if (!hre_contract__is_admin_of(s, s->org))
        return hre__fail(HRE_EAUTH, "register_node: only an organisation admin may register nodes");
    if ((rc = hre_contract__key_free(c, p.node_key, "register_node")) != HRE_OK) return rc;
    if ((rc = hre_contract__add_account(x, p.node_key, HRE_ROLE_NODE, org, &ai)) != HRE_OK) return rc;
    return hre_contract__emit(x, HRE_EVENT_NODE_REGISTERED, x->sender, ai, HRE_C_NONE, org, 0);
}

int hre_contract__apply_suspend_org(struct hre_c_actx *x)
{
    hre_contract *c = x->c;
    const struct hre_c_account *s = &c->accounts.v[x->sender];
    hre_suspend_org_payload p;
    struct hre_c_org *o;
    uint8_t t[32];
    uint32_t oi;
    int rc = hre_contract_decode_suspend_org(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    if (s->role != HRE_ROLE_AUTHORITY)
        return hre__fail(HRE_EAUTH, "suspend_org: only the authority may suspend or reinstate organisations");
    oi = hre_contract__find(c, HRE_C_T_ORG, p.org_id);
    if (oi == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "suspend_org: no such organisation");
    if (oi == 0) return hre__fail(HRE_EAUTH, "suspend_org: the genesis organisation cannot be suspended");
    o = &c->orgs.v[oi];
    if (p.action == HRE_SUSPEND_SUSPEND && o->status == HRE_STATUS_SUSPENDED)
        return hre__fail(HRE_ESTATE, "suspend_org: organisation is already suspended");
    if (p.action == HRE_SUSPEND_REINSTATE && o->status == HRE_STATUS_ACTIVE)
        return hre__fail(HRE_ESTATE, "suspend_org: organisation is not suspended");
    x->u->aux = oi;
    x->u->old_status = o->status;
    if ((rc = hre_contract__term_org(c, c->md, o, t)) != HRE_OK) return rc;
    hre_contract__minus(x, t);
    o->status = p.action == HRE_SUSPEND_SUSPEND ? HRE_STATUS_SUSPENDED : HRE_STATUS_ACTIVE;
    if ((rc = hre_contract__term_org(c, c->md, o, t)) != HRE_OK) return rc;
    hre_contract__plus(x, t);
    return hre_contract__emit(x, p.action == HRE_SUSPEND_SUSPEND ? HRE_EVENT_ORG_SUSPENDED : HRE_EVENT_ORG_REINSTATED,
                x->sender, HRE_C_NONE, HRE_C_NONE, oi, 0);
}

int hre_contract__apply_set_enc_key(struct hre_c_actx *x)
{
    hre_contract *c = x->c;
    const struct hre_c_account *s = &c->accounts.v[x->sender];
    hre_set_enc_key_payload p;
    uint8_t t[32];
    uint32_t ti, cur, ni, *slot, subject, ref;
    int rc = hre_contract_decode_set_enc_key(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    if (p.target_type == HRE_ENC_TARGET_ACCOUNT) {
        ti = hre_contract__find(c, HRE_C_T_ADDR, p.target);
        if (ti == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "set_enc_key: no account with this address");
        if (ti != x->sender && (rc = hre_contract__may_manage(c, x->sender, ti, "set_enc_key")) != HRE_OK) return rc;
        slot = &c->accounts.v[ti].enc;
        subject = ti;
        ref = c->accounts.v[ti].org;
    } else {
        ti = hre_contract__find(c, HRE_C_T_ORG, p.target);
        if (ti == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "set_enc_key: no such organisation");
        if (s->role != HRE_ROLE_AUTHORITY && !hre_contract__is_admin_of(s, ti))
            return hre__fail(HRE_EAUTH, "set_enc_key: only the authority or an admin of the organisation may "
                                        "set its encryption key");
        slot = &c->orgs.v[ti].enc;
        subject = HRE_C_NONE;
        ref = ti;
    }
    if (hre_contract__find(c, HRE_C_T_KEY, p.enc_key) != HRE_C_NONE)
        return hre__fail(HRE_EEXISTS, "set_enc_key: the key is (or was) a signing key of an account; signing and "
                                      "encryption keys stay separate");
    cur = *slot;
    if (cur != HRE_C_NONE && memcmp(c->enc.v[cur].key, p.enc_key, 34) == 0)
        return hre__fail(HRE_EEXISTS, "set_enc_key: this is already the target's encryption key");
    x->u->aux = ti;
    x->u->aux2 = cur;
    x->u->old_status = p.target_type;
    if (cur != HRE_C_NONE) {
        if ((rc = hre_contract__term_enc(c->md, p.target_type, p.target, c->enc.v[cur].key, t)) != HRE_OK) return rc;
        hre_contract__minus(x, t);
    }
    ni = c->enc.n++;
    memcpy(c->enc.v[ni].key, p.enc_key, 34);
    *slot = ni;
    if ((rc = hre_contract__term_enc(c->md, p.target_type, p.target, p.enc_key, t)) != HRE_OK) return rc;
    hre_contract__plus(x, t);
    return hre_contract__emit(x, HRE_EVENT_ENC_KEY_SET, x->sender, subject, HRE_C_NONE, ref, p.target_type);
}
