/* Record contract: hre_contract_apply (the checks common to every kind, then
 * the kind's handler) and event delivery. */
#include "contract/internal.h"

static int (*const handlers[HRE_KIND_MAX + 1])(struct hre_c_actx *) = {
    [HRE_KIND_REGISTER_ORG] = hre_contract__apply_register_org,
    [HRE_KIND_APPOINT_ADMIN] = hre_contract__apply_appoint_admin,
    [HRE_KIND_REGISTER_DOCTOR] = hre_contract__apply_register_doctor,
    [HRE_KIND_REGISTER_PATIENT] = hre_contract__apply_register_patient,
    [HRE_KIND_SUSPEND] = hre_contract__apply_suspend,
    [HRE_KIND_ROTATE_KEY] = hre_contract__apply_rotate_key,
    [HRE_KIND_NEW_RECORD] = hre_contract__apply_new_record,
    [HRE_KIND_SIGN_RECORD] = hre_contract__apply_sign_record,
    [HRE_KIND_GRANT] = hre_contract__apply_grant,
    [HRE_KIND_REVOKE] = hre_contract__apply_revoke,
    [HRE_KIND_LOG_ACCESS] = hre_contract__apply_log_access,
    [HRE_KIND_REGISTER_NODE] = hre_contract__apply_register_node,
    [HRE_KIND_SUSPEND_ORG] = hre_contract__apply_suspend_org,
    [HRE_KIND_SET_ENC_KEY] = hre_contract__apply_set_enc_key,
    [HRE_KIND_ERASE_RECORD] = hre_contract__apply_erase_record,
};

static void deliver(hre_contract *c, uint32_t from)
{
    hre_contract_event ev;
    if (!c->on_event) return;
    for (uint32_t i = from; i < c->events.n; i++) {
        hre_contract__event_export(c, i, &ev);
        c->on_event(c->user_data, &ev);
    }
}

HRE_API int hre_contract_apply(hre_contract *c, const hre_tx *tx, uint64_t block_time,
                               unsigned int flags)
{
    HRE__API_SCOPE;
    struct hre_c_actx x;
    struct hre_c_undo *u;
    const uint8_t *skey, *net;
    uint64_t expect;
    uint32_t ki;
    uint16_t kind;
    int rc;
    if (!c || !tx) return hre__fail(HRE_EINVAL, "hre_contract_apply: NULL argument");
    if (flags & ~(unsigned int)HRE_CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER)
        return hre__fail(HRE_EINVAL, "hre_contract_apply: unknown flag bits 0x%x", flags);
    skey = hre_tx_sender(tx);
    net = hre_tx_network_id(tx);
    if (!skey || !net) return hre__fail(HRE_EINVAL, "hre_contract_apply: transaction is not signed");
    /* Defect 1.7: the contract trusts the sender field, so the signature
     * must have been checked -- by hre_tx_verify on this very object, or by
     * a caller that says so (the ledger's verification beside apply). */
    if (!(flags & HRE_CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER) && !hre_tx_verified(tx))
        return hre__fail(HRE_EVERIFY, "apply: signature not verified (call hre_tx_verify first, or "
                                      "pass HRE_CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER)");
    if (memcmp(net, c->network_id, 32) != 0)
        return hre__fail(HRE_EVERIFY, "apply: transaction is for another network");
    if (block_time > UINT32_MAX)
        return hre__fail(HRE_EINVAL, "apply: block time %llu does not fit the u32 block header time",
                         (unsigned long long)block_time);
    kind = hre_tx_kind(tx);
    if (kind < 1 || kind > HRE_KIND_MAX) return hre__fail(HRE_EUNSUPPORTED, "apply: unknown transaction kind %u", (unsigned)kind);

    memset(&x, 0, sizeof x);
    x.c = c;
    x.tx = tx;
    x.now = block_time;
    x.kind = kind;
    x.sender_key = skey;
    x.sender = HRE_C_NONE;
    ki = hre_contract__find(c, HRE_C_T_KEY, skey);
    if (ki == HRE_C_NONE) {
        if (kind != HRE_KIND_REGISTER_PATIENT)
            return hre__fail(HRE_EAUTH, "apply: sender key is not registered (stranger)");
        expect = 0;
    } else {
        const struct hre_c_keyent *k = &c->keys.v[ki];
        const struct hre_c_account *a = &c->accounts.v[k->account];
        if (k->retired) return hre__fail(HRE_EAUTH, "apply: sender key was rotated out");
        if (a->status != HRE_STATUS_ACTIVE) return hre__fail(HRE_EAUTH, "apply: sender account is suspended");
        if (!hre_contract__org_active(c, a))
            return hre__fail(HRE_EAUTH, "apply: the sender's organisation is suspended");
        if (a->role == HRE_ROLE_NODE && kind != HRE_KIND_ROTATE_KEY)
            return hre__fail(HRE_EAUTH, "apply: a node account may send only ROTATE_KEY (of its own key)");
        if (kind == HRE_KIND_REGISTER_PATIENT)
            return hre__fail(HRE_EEXISTS, "register_patient: sender key is already registered");
        x.sender = k->account;
        expect = a->nonce;
    }
    if (hre_tx_nonce(tx) != expect)
        return hre__fail(HRE_ESTATE, "apply: nonce %llu, expected %llu (replayed or out of order)",
                         (unsigned long long)hre_tx_nonce(tx), (unsigned long long)expect);
    x.payload = hre_tx_payload(tx, &x.plen);
    if ((rc = hre_contract__reserve_all(c, x.plen)) != HRE_OK) return rc;

    u = &c->undo.v[c->undo.n];
    memset(u, 0, sizeof *u);
    u->kind = kind;
    u->sender = x.sender;
    u->target = HRE_C_NONE;
    u->aux = u->aux2 = HRE_C_NONE;
    u->n_accounts = c->accounts.n;
    u->n_keys = c->keys.n;
    u->n_orgs = c->orgs.n;
    u->n_records = c->records.n;
    u->n_grants = c->grants.n;
    u->n_events = c->events.n;
    u->n_chunks = c->chunks.n;
    u->n_enc = c->enc.n;
    u->arena_len = c->arena.n;
    if (x.sender != HRE_C_NONE) {
        u->old_nonce = c->accounts.v[x.sender].nonce;
        memcpy(u->sender_term, c->accounts.v[x.sender].term, 32);
    }
    x.u = u;

    rc = handlers[kind](&x);
    if (rc == HRE_OK) {
        /* the sender's nonce advances (a new patient's from 0 to 1) */
        c->accounts.v[x.sender].nonce++;
        rc = hre_contract__reterm_account(&x, x.sender);
    }
    if (rc != HRE_OK) {
        hre_contract__undo_entry(c, u);   /* nothing of the refused tx remains */
        return hre__api_done(rc);
    }
    c->undo.n++;
    deliver(c, u->n_events);
    return hre__api_done(HRE_OK);
}
