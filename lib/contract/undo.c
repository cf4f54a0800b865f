/* Record contract: the undo journal. */
#include "contract/internal.h"

/* Revert everything recorded in u. Never fails, never allocates. */
void hre_contract__undo_entry(hre_contract *c, const struct hre_c_undo *u)
{
    /* in-place fields of entities that existed before the tx */
    if (u->target != HRE_C_NONE && u->target < u->n_accounts) {
        struct hre_c_account *t = &c->accounts.v[u->target];
        if (u->kind == HRE_KIND_SUSPEND) t->status = u->old_status;
        if (u->kind == HRE_KIND_ROTATE_KEY && u->aux != HRE_C_NONE) {
            struct hre_c_keyent *k = &c->keys.v[u->aux];
            k->retired = 0;
            memcpy(t->key, k->key, 34);
            t->key_entry = u->aux;
        }
        memcpy(t->term, u->target_term, 32);
    }
    if (u->kind == HRE_KIND_SIGN_RECORD && u->aux != HRE_C_NONE) {
        struct hre_c_record *r = &c->records.v[u->aux];
        r->sig_issuer = u->old_sig_issuer;
        r->sig_lab = u->old_sig_lab;
        r->valid = u->old_valid;
    }
    if (u->kind == HRE_KIND_REVOKE && u->aux != HRE_C_NONE) {
        c->grants.v[u->aux].revoked = 0;
        c->grants.v[u->aux].revoked_time = 0;
    }
    if (u->kind == HRE_KIND_SUSPEND_ORG && u->aux != HRE_C_NONE) c->orgs.v[u->aux].status = u->old_status;
    if (u->kind == HRE_KIND_SET_ENC_KEY && u->aux != HRE_C_NONE) {
        if (u->old_status == HRE_ENC_TARGET_ACCOUNT) c->accounts.v[u->aux].enc = u->aux2;
        else c->orgs.v[u->aux].enc = u->aux2;
    }
    if (u->kind == HRE_KIND_ERASE_RECORD && u->aux != HRE_C_NONE) {
        c->records.v[u->aux].erased = 0;
        c->records.v[u->aux].erased_time = 0;
    }
    if (u->sender != HRE_C_NONE && u->sender < u->n_accounts) {
        struct hre_c_account *a = &c->accounts.v[u->sender];
        a->nonce = u->old_nonce;
        memcpy(a->term, u->sender_term, 32);
    }
    /* appended entities, newest first */
    while (c->events.n > u->n_events) {
        struct hre_c_event *e = &c->events.v[--c->events.n];
        if (e->record != HRE_C_NONE) {
            c->records.v[e->record].ev_head = e->next_record;
        }
        if (e->subject != HRE_C_NONE) {
            c->accounts.v[e->subject].ev_head = e->next_subject;
            c->accounts.v[e->subject].ev_count--;
        }
    }
    while (c->grants.n > u->n_grants) {
        uint32_t gi = c->grants.n - 1;
        struct hre_c_grant *g = &c->grants.v[gi];
        c->accounts.v[g->patient].grant_head = g->next_patient;
        c->accounts.v[g->patient].grant_count--;
        hre_contract__table_remove(c, HRE_C_T_GRANT, gi);
        c->grants.n--;
    }
    while (c->records.n > u->n_records) {
        uint32_t ri = c->records.n - 1;
        struct hre_c_account *p = &c->accounts.v[c->records.v[ri].patient];
        p->rec_count--;
        if (p->rec_count % HRE_C_CHUNK == 0) {
            p->rec_chunk = c->chunks.v[p->rec_chunk].next;   /* that chunk is freed by the truncation below */
        }
        hre_contract__table_remove(c, HRE_C_T_RECORD, ri);
        c->records.n--;
    }
    while (c->keys.n > u->n_keys) {
        hre_contract__table_remove(c, HRE_C_T_KEY, c->keys.n - 1);
        c->keys.n--;
    }
    while (c->accounts.n > u->n_accounts) {
        hre_contract__table_remove(c, HRE_C_T_ADDR, c->accounts.n - 1);
        c->accounts.n--;
    }
    while (c->orgs.n > u->n_orgs) {
        hre_contract__table_remove(c, HRE_C_T_ORG, c->orgs.n - 1);
        c->orgs.n--;
    }
    c->chunks.n = u->n_chunks;
    c->enc.n = u->n_enc;
    c->arena.n = u->arena_len;
    hre_contract__acc_sub(c->acc, u->delta);
}

HRE_API int hre_contract_undo(hre_contract *c)
{
    HRE__API_SCOPE;
    if (!c) return hre__fail(HRE_EINVAL, "hre_contract_undo: NULL contract");
    if (c->undo.n == c->undo_start) return hre__fail(HRE_ESTATE, "hre_contract_undo: undo journal is empty");
    c->undo.n--;
    hre_contract__undo_entry(c, &c->undo.v[c->undo.n]);
    if (c->undo.n == c->undo_start) c->undo.n = c->undo_start = 0;
    return hre__api_done(HRE_OK);
}

HRE_API size_t hre_contract_undo_depth(const hre_contract *c)
{
    return c ? (size_t)(c->undo.n - c->undo_start) : 0;
}

HRE_API void hre_contract_undo_forget(hre_contract *c, size_t keep)
{
    size_t depth;
    if (!c) return;
    depth = c->undo.n - c->undo_start;
    if (keep >= depth) return;
    c->undo_start += (uint32_t)(depth - keep);
    /* compact once the dead prefix dominates, so memory stays bounded */
    if (c->undo_start > c->undo.n - c->undo_start) {
        memmove(c->undo.v, c->undo.v + c->undo_start, (size_t)(c->undo.n - c->undo_start) * sizeof *c->undo.v);
        c->undo.n -= c->undo_start;
        c->undo_start = 0;
    }
}
