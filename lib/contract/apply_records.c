/* Record contract, apply: records (kinds 7, 8, 15). */
#include "contract/internal.h"

int hre_contract__apply_new_record(struct hre_c_actx *x)
{
    hre_contract *c = x->c;
    const struct hre_c_account *s = &c->accounts.v[x->sender];
    hre_new_record_payload p;
    struct hre_c_record *r;
    uint8_t id[32], t[32];
    uint32_t pi, li, si = HRE_C_NONE, ri;
    uint8_t itype;
    int rc = hre_contract_decode_new_record(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    itype = s->org != HRE_C_NONE ? c->orgs.v[s->org].type : 0;
    if (!hre_contract__is_admin_of(s, s->org) || (itype != HRE_ORG_HOSPITAL && itype != HRE_ORG_CLINIC))
        return hre__fail(HRE_EAUTH, "new_record: only an admin of a hospital or clinic may create records");
    pi = hre_contract__find(c, HRE_C_T_ADDR, p.patient);
    if (pi == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "new_record: patient address is not registered");
    if (c->accounts.v[pi].role != HRE_ROLE_PATIENT)
        return hre__fail(HRE_ESTATE, "new_record: patient address belongs to a non-patient account");
    li = hre_contract__find(c, HRE_C_T_ORG, p.lab_org);
    if (li == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "new_record: no such lab organisation");
    if (c->orgs.v[li].type != HRE_ORG_LAB)
        return hre__fail(HRE_ESTATE, "new_record: lab_org is not an organisation of type lab");
    if (p.has_supersedes) {
        si = hre_contract__find(c, HRE_C_T_RECORD, p.supersedes);
        if (si == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "new_record: superseded record not found");
        if (c->records.v[si].patient != pi)
            return hre__fail(HRE_ESTATE, "new_record: superseded record belongs to another patient");
    }
    if ((rc = hre_tx_txid(x->tx, id)) != HRE_OK) return rc;
    if (hre_contract__find(c, HRE_C_T_RECORD, id) != HRE_C_NONE)
        return hre__fail(HRE_EEXISTS, "new_record: record id already exists");
    ri = c->records.n;
    r = &c->records.v[ri];
    memcpy(r->id, id, 32);
    memcpy(r->c_pid, p.commit_patient_id, 32);
    memcpy(r->c_test, p.commit_test_name, 32);
    memcpy(r->doc, p.doc_sha256, 32);
    hre_c_put64(r->date, p.date);
    hre_c_put64(r->price, p.price);
    r->patient = pi;
    r->issuer = s->org;
    r->lab = li;
    r->sig_issuer = r->sig_lab = HRE_C_NONE;
    r->supersedes = si;
    r->ev_head = HRE_C_NONE;
    {
        int reused;
        r->hosp_len = (uint8_t)p.hospital_name_len;
        r->hosp_off = hre_contract__hosp_name(c, s->org, p.hospital_name, p.hospital_name_len, &reused);
    }
    memcpy(r->locator, p.locator, 32);
    r->category = p.category;
    r->valid = 0;
    r->erased = 0;
    r->erased_time = 0;
    if ((rc = hre_contract__term_record(c, c->md, r, t)) != HRE_OK) return rc;
    c->records.n++;
    hre_contract__insert(c, HRE_C_T_RECORD, ri);
    hre_contract__link_record(c, ri);
    hre_contract__plus(x, t);
    if ((rc = hre_contract__term_record_status(c, c->md, r, t)) != HRE_OK) return rc;
    hre_contract__plus(x, t);
    return hre_contract__emit(x, HRE_EVENT_RECORD_CREATED, x->sender, pi, ri, r->issuer, 0);
}

int hre_contract__apply_sign_record(struct hre_c_actx *x)
{
    hre_contract *c = x->c;
    const struct hre_c_account *s = &c->accounts.v[x->sender];
    hre_sign_record_payload p;
    struct hre_c_record *r;
    uint8_t t[32];
    uint32_t ri, *slot, org;
    uint8_t count;
    int rc = hre_contract_decode_sign_record(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    ri = hre_contract__find(c, HRE_C_T_RECORD, p.record_id);
    if (ri == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "sign_record: no such record");
    r = &c->records.v[ri];
    if (r->erased) return hre__fail(HRE_EERASED, "sign_record: the record was erased");
    if (r->valid) return hre__fail(HRE_ESTATE, "sign_record: record is already valid (signed by both organisations)");
    if (hre_contract__is_admin_of(s, r->issuer)) {
        slot = &r->sig_issuer;
        org = r->issuer;
    } else if (hre_contract__is_admin_of(s, r->lab)) {
        slot = &r->sig_lab;
        org = r->lab;
    } else {
        return hre__fail(HRE_EAUTH, "sign_record: only an admin of the record's issuing or lab organisation may sign");
    }
    if (*slot == x->sender) return hre__fail(HRE_EEXISTS, "sign_record: this admin has already signed this record");
    if (*slot != HRE_C_NONE)
        return hre__fail(HRE_EEXISTS, "sign_record: another admin of this organisation has already signed this record");
    x->u->aux = ri;
    x->u->old_sig_issuer = r->sig_issuer;
    x->u->old_sig_lab = r->sig_lab;
    x->u->old_valid = r->valid;
    if ((rc = hre_contract__term_record_status(c, c->md, r, t)) != HRE_OK) return rc;
    hre_contract__minus(x, t);
    *slot = x->sender;
    count = (uint8_t)((r->sig_issuer != HRE_C_NONE) + (r->sig_lab != HRE_C_NONE));
    if (count == 2) r->valid = 1;
    if ((rc = hre_contract__term_record_status(c, c->md, r, t)) != HRE_OK) return rc;
    hre_contract__plus(x, t);
    if ((rc = hre_contract__emit(x, HRE_EVENT_RECORD_SIGNATURE, x->sender, r->patient, ri, org, count)) != HRE_OK) return rc;
    if (count == 2) return hre_contract__emit(x, HRE_EVENT_RECORD_SIGNED, x->sender, r->patient, ri, r->issuer, count);
    return HRE_OK;
}

int hre_contract__apply_erase_record(struct hre_c_actx *x)
{
    hre_contract *c = x->c;
    const struct hre_c_account *s = &c->accounts.v[x->sender];
    hre_erase_record_payload p;
    struct hre_c_record *r;
    uint8_t t[32];
    uint32_t ri;
    int rc = hre_contract_decode_erase_record(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    ri = hre_contract__find(c, HRE_C_T_RECORD, p.record_id);
    if (ri == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "erase_record: no such record");
    r = &c->records.v[ri];
    if (r->patient != x->sender && s->role != HRE_ROLE_AUTHORITY)
        return hre__fail(HRE_EAUTH, "erase_record: only the record's patient or the authority may erase a record");
    if (r->erased) return hre__fail(HRE_EERASED, "erase_record: the record is already erased");
    x->u->aux = ri;
    if ((rc = hre_contract__term_record_status(c, c->md, r, t)) != HRE_OK) return rc;
    hre_contract__minus(x, t);
    r->erased = 1;
    r->erased_time = (uint32_t)x->now;
    if ((rc = hre_contract__term_record_status(c, c->md, r, t)) != HRE_OK) return rc;
    hre_contract__plus(x, t);
    return hre_contract__emit(x, HRE_EVENT_RECORD_ERASED, x->sender, r->patient, ri, HRE_C_NONE, 0);
}
