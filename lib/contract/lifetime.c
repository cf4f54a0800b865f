/* Record contract: options, the genesis state, account creation, free. */
#include "contract/internal.h"

/* Known layouts of hre_contract_options (rule 7): 1 ends at user_data,
 * 2 adds threads, 3 adds pool. */
static const size_t options_size[] = {
    0,
    HRE__END(hre_contract_options, user_data),
    HRE__END(hre_contract_options, threads),
    HRE__END(hre_contract_options, pool),
};
const hre__vstruct hre_contract__options_desc = {
    "hre_contract_options", HRE_CONTRACT_OPTIONS_VERSION, options_size
};
_Static_assert(sizeof options_size / sizeof options_size[0] == HRE_CONTRACT_OPTIONS_VERSION + 1,
               "one size per hre_contract_options version");

HRE_API int hre_contract_options_init(hre_contract_options *opts, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&hre_contract__options_desc, opts, version));
}

int hre_contract__alloc_state(hre_contract **out, const uint8_t network_id[32])
{
    hre_contract *c = hre__calloc(1, sizeof *c);
    uint8_t k[16];
    if (!c) return hre__fail(HRE_ENOMEM, "hre_contract_new: out of memory");
    memcpy(c->network_id, network_id, 32);
    if (hre_random_bytes(k, sizeof k) != HRE_OK) {
        /* only table probing speed depends on the key; fall back to a fixed one */
        memset(k, 0x5a, sizeof k);
    }
    hre__sipkey_set(&c->sip, k);
    if (hre_sha256_new(&c->md) != HRE_OK) {
        hre__free(c);
        return hre__fail(HRE_ENOMEM, "hre_contract_new: out of memory (hash context)");
    }
    *out = c;
    return HRE_OK;
}

HRE_API void hre_contract_free(hre_contract *c)
{
    if (!c) return;
    hre__free(c->accounts.v);
    hre__free(c->keys.v);
    hre__free(c->orgs.v);
    hre__free(c->records.v);
    hre__free(c->grants.v);
    hre__free(c->events.v);
    hre__free(c->chunks.v);
    hre__free(c->enc.v);
    hre__free(c->undo.v);
    hre__free(c->arena.v);
    hre__free(c->t_addr.slots);
    hre__free(c->t_key.slots);
    hre__free(c->t_org.slots);
    hre__free(c->t_record.slots);
    hre__free(c->t_grant.slots);
    hre_sha256_free(c->md);
    hre__free(c);
}

HRE_API void hre_contract_set_event_callback(hre_contract *c, hre_contract_event_fn fn, void *user_data)
{
    if (!c) return;
    c->on_event = fn;
    c->user_data = user_data;
}

HRE_API int hre_contract_address(uint8_t out[32], const uint8_t key[34])
{
    HRE__API_SCOPE;
    if (!out || !key) return hre__fail(HRE_EINVAL, "hre_contract_address: NULL argument");
    return hre__api_done(hre_sha256(out, key, 34));
}

HRE_API int hre_contract_genesis_org_id(uint8_t out[32], const uint8_t network_id[32])
{
    HRE__API_SCOPE;
    static const char tag[] = "HRE-GENESIS-ORG";
    uint8_t b[sizeof tag - 1 + 32];
    if (!out || !network_id) return hre__fail(HRE_EINVAL, "hre_contract_genesis_org_id: NULL argument");
    memcpy(b, tag, sizeof tag - 1);
    memcpy(b + sizeof tag - 1, network_id, 32);
    return hre__api_done(hre_sha256(out, b, sizeof b));
}

/* Append an account with key `key` (and its key entry); capacity reserved.
 * Returns the account index. Adds the account term (nonce 0). */
int hre_contract__new_account(hre_contract *c, const uint8_t key[34], uint8_t role, uint32_t org,
                       uint8_t delta[32], uint32_t *out)
{
    uint32_t ai = c->accounts.n, ki = c->keys.n;
    struct hre_c_account *a = &c->accounts.v[ai];
    struct hre_c_keyent *k = &c->keys.v[ki];
    int rc;
    memset(a, 0, sizeof *a);
    rc = hre_contract__sha256(c->md, a->addr, key, 34);
    if (rc != HRE_OK) return rc;
    memcpy(a->key, key, 34);
    a->role = role;
    a->status = HRE_STATUS_ACTIVE;
    a->org = org;
    a->key_entry = ki;
    a->enc = HRE_C_NONE;
    a->rec_chunk = a->grant_head = a->ev_head = HRE_C_NONE;
    memset(k, 0, sizeof *k);
    memcpy(k->key, key, 34);
    k->account = ai;
    rc = hre_contract__term_account(c, c->md, a, a->term);
    if (rc != HRE_OK) return rc;
    c->accounts.n++;
    c->keys.n++;
    hre_contract__insert(c, HRE_C_T_ADDR, ai);
    hre_contract__insert(c, HRE_C_T_KEY, ki);
    hre_contract__acc_add(c->acc, a->term);
    if (delta) hre_contract__acc_add(delta, a->term);
    *out = ai;
    return HRE_OK;
}

HRE_API int hre_contract_new(hre_contract **out, const hre_contract_options *opts)
{
    HRE__API_SCOPE;
    hre_contract *c = NULL;
    struct hre_c_org *o;
    const char *name;
    size_t nlen;
    uint32_t ai;
    hre_contract_options ob;
    int rc;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_new: NULL out");
    *out = NULL;
    if (!opts) return hre__fail(HRE_EINVAL, "hre_contract_new: NULL opts");
    /* only the fields the caller's version declares are read */
    if ((rc = hre__vstruct_in(&hre_contract__options_desc, &ob, opts)) != HRE_OK) return rc;
    opts = &ob;
    if (!hre_contract__key_syntax_ok(opts->authority_key))
        return hre__fail(HRE_EINVAL, "hre_contract_new: authority_key is not a 34-byte wire public key");
    name = opts->genesis_org_name ? opts->genesis_org_name : "Genesis Hospital";
    nlen = strlen(name);
    if (!hre_contract__name_ok((const uint8_t *)name, nlen))
        return hre__fail(HRE_EINVAL, "hre_contract_new: genesis_org_name must be 1..%d bytes without control bytes",
                         HRE_CONTRACT_NAME_MAX);
    rc = hre_contract__alloc_state(&c, opts->network_id);
    if (rc != HRE_OK) return rc;
    c->on_event = opts->on_event;
    c->user_data = opts->user_data;
    rc = hre_contract__reserve_all(c, nlen);
    if (rc != HRE_OK) goto fail;
    o = &c->orgs.v[0];
    memset(o, 0, sizeof *o);
    rc = hre_contract_genesis_org_id(o->id, c->network_id);
    if (rc != HRE_OK) goto fail;
    o->type = HRE_ORG_HOSPITAL;
    o->status = HRE_STATUS_ACTIVE;
    o->enc = HRE_C_NONE;
    o->name_len = (uint8_t)nlen;
    o->name_off = hre_contract__arena_put(c, (const uint8_t *)name, nlen);
    c->orgs.n = 1;
    hre_contract__insert(c, HRE_C_T_ORG, 0);
    {
        uint8_t t[32];
        rc = hre_contract__term_org(c, c->md, o, t);
        if (rc != HRE_OK) goto fail;
        hre_contract__acc_add(c->acc, t);
    }
    rc = hre_contract__new_account(c, opts->authority_key, HRE_ROLE_AUTHORITY, 0, NULL, &ai);
    if (rc != HRE_OK) goto fail;
    *out = c;
    return hre__api_done(HRE_OK);
fail:
    hre_contract_free(c);
    return hre__api_done(rc);
}
