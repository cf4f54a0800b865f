/* Record contract: what every kind's apply step shares (accumulator and undo
 * delta changes, events, role tests, new accounts). */
#include "contract/internal.h"


/* Change helpers: apply +t / -t to the accumulator and the undo delta. */
void hre_contract__plus(struct hre_c_actx *x, const uint8_t t[32])
{
    hre_contract__acc_add(x->c->acc, t);
    hre_contract__acc_add(x->u->delta, t);
}

void hre_contract__minus(struct hre_c_actx *x, const uint8_t t[32])
{
    hre_contract__acc_sub(x->c->acc, t);
    hre_contract__acc_sub(x->u->delta, t);
}

/* Replace account ai's cached term by a freshly computed one. */
int hre_contract__reterm_account(struct hre_c_actx *x, uint32_t ai)
{
    struct hre_c_account *a = &x->c->accounts.v[ai];
    uint8_t t[32];
    int rc = hre_contract__term_account(x->c, x->c->md, a, t);
    if (rc != HRE_OK) return rc;
    hre_contract__minus(x, a->term);
    memcpy(a->term, t, 32);
    hre_contract__plus(x, t);
    return HRE_OK;
}

int hre_contract__emit(struct hre_c_actx *x, uint8_t type, uint32_t actor, uint32_t subject, uint32_t record,
                uint32_t ref, uint8_t detail)
{
    hre_contract *c = x->c;
    uint32_t ei = c->events.n;
    struct hre_c_event *e = &c->events.v[ei];
    uint8_t t[32];
    int rc;
    e->type = type;
    e->detail = detail;
    e->kind = x->kind;
    e->actor = actor;
    e->subject = subject;
    e->record = record;
    e->ref = ref;
    e->time = (uint32_t)x->now;
    rc = hre_contract__term_event(c, c->md, e, ei, t);
    if (rc != HRE_OK) return rc;
    c->events.n++;
    hre_contract__link_event(c, ei);
    hre_contract__plus(x, t);
    return HRE_OK;
}

int hre_contract__is_admin_of(const struct hre_c_account *a, uint32_t org)
{
    return (a->role == HRE_ROLE_ADMIN || a->role == HRE_ROLE_AUTHORITY) && a->org == org && org != HRE_C_NONE;
}

int hre_contract__key_free(hre_contract *c, const uint8_t key[34], const char *what)
{
    uint32_t ki = hre_contract__find(c, HRE_C_T_KEY, key);
    if (ki != HRE_C_NONE)
        return hre__fail(HRE_EEXISTS, "%s: key already %s", what,
                         c->keys.v[ki].retired ? "used before (rotated out)" : "registered to an account");
    return HRE_OK;
}

/* Creates a staff/patient account for `key`: address must be unused. */
int hre_contract__add_account(struct hre_c_actx *x, const uint8_t key[34], uint8_t role, uint32_t org, uint32_t *ai)
{
    uint8_t addr[32];
    int rc = hre_contract__sha256(x->c->md, addr, key, 34);
    if (rc != HRE_OK) return rc;
    if (hre_contract__find(x->c, HRE_C_T_ADDR, addr) != HRE_C_NONE)
        return hre__fail(HRE_EEXISTS, "an account with this key's address already exists");
    return hre_contract__new_account(x->c, key, role, org, x->u->delta, ai);
}

/* May sender s manage (suspend / rotate / set the encryption key of) staff
 * account t (an admin, doctor or node)? */
int hre_contract__may_manage(const hre_contract *c, uint32_t si, uint32_t ti, const char *what)
{
    const struct hre_c_account *s = &c->accounts.v[si], *t = &c->accounts.v[ti];
    if (t->role == HRE_ROLE_AUTHORITY)
        return hre__fail(HRE_EAUTH, "%s: the authority account cannot be managed by another account", what);
    if (t->role == HRE_ROLE_PATIENT)
        return hre__fail(HRE_EAUTH, "%s: only the patient themself may do this to a patient account", what);
    if (s->role == HRE_ROLE_AUTHORITY) return HRE_OK;
    if (s->role == HRE_ROLE_ADMIN && s->org == t->org) return HRE_OK;
    return hre__fail(HRE_EAUTH, "%s: only the authority or an admin of the account's organisation may do this", what);
}
