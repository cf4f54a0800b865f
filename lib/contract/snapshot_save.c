/* Record contract: writing a snapshot (docs/PROTOCOL.md 5.7). */
#include "contract/internal.h"

static void put_idx(hre__writer *w, uint32_t v) { hre__writer_u32(w, v); }

static void put_enc(hre__writer *w, const hre_contract *c, uint32_t e)
{
    hre__writer_u8(w, e != HRE_C_NONE);
    if (e != HRE_C_NONE) hre__writer_bytes(w, c->enc.v[e].key, 34);
}

HRE_API int hre_contract_snapshot_save(const hre_contract *c, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    hre__writer w;
    uint8_t h[32];
    size_t need = 0;
    int rc;
    if (!c || !len || (!out && *len)) return hre__fail(HRE_EINVAL, "hre_contract_snapshot_save: NULL argument");
    if ((rc = hre_contract_state_hash(c, h)) != HRE_OK) return rc;
    hre__writer_init(&w, out, out ? *len : 0);
    hre__writer_bytes(&w, SNAP_MAGIC, 8);
    hre__writer_u32(&w, SNAP_VERSION);
    hre__writer_bytes(&w, c->network_id, 32);
    hre__writer_bytes(&w, h, 32);
    hre__writer_u32(&w, c->orgs.n);
    hre__writer_u32(&w, c->accounts.n);
    hre__writer_u32(&w, c->keys.n);
    hre__writer_u32(&w, c->records.n);
    hre__writer_u32(&w, c->grants.n);
    hre__writer_u32(&w, c->events.n);
    for (uint32_t i = 0; i < c->orgs.n; i++) {
        const struct hre_c_org *o = &c->orgs.v[i];
        hre__writer_bytes(&w, o->id, 32);
        hre__writer_u8(&w, o->type);
        hre__writer_u8(&w, o->status);
        hre__writer_compact(&w, o->name_len);
        hre__writer_bytes(&w, c->arena.v + o->name_off, o->name_len);
        put_enc(&w, c, o->enc);
    }
    for (uint32_t i = 0; i < c->accounts.n; i++) {
        const struct hre_c_account *a = &c->accounts.v[i];
        hre__writer_bytes(&w, a->addr, 32);
        hre__writer_u8(&w, a->role);
        hre__writer_u8(&w, a->status);
        put_idx(&w, a->org);
        hre__writer_u64(&w, a->nonce);
        put_idx(&w, a->key_entry);
        put_enc(&w, c, a->enc);
    }
    for (uint32_t i = 0; i < c->keys.n; i++) {
        const struct hre_c_keyent *k = &c->keys.v[i];
        hre__writer_bytes(&w, k->key, 34);
        put_idx(&w, k->account);
        hre__writer_u8(&w, k->retired);
    }
    for (uint32_t i = 0; i < c->records.n; i++) {
        const struct hre_c_record *r = &c->records.v[i];
        hre__writer_bytes(&w, r->id, 32);
        put_idx(&w, r->patient);
        put_idx(&w, r->issuer);
        put_idx(&w, r->lab);
        hre__writer_bytes(&w, r->c_pid, 32);
        hre__writer_bytes(&w, r->c_test, 32);
        hre__writer_bytes(&w, r->doc, 32);
        hre__writer_u64(&w, hre_c_get64(r->date));
        hre__writer_u64(&w, hre_c_get64(r->price));
        hre__writer_u8(&w, r->category);
        hre__writer_compact(&w, r->hosp_len);
        hre__writer_bytes(&w, c->arena.v + r->hosp_off, r->hosp_len);
        hre__writer_bytes(&w, r->locator, 32);
        put_idx(&w, r->sig_issuer);
        put_idx(&w, r->sig_lab);
        hre__writer_u8(&w, r->valid);
        put_idx(&w, r->supersedes);
        hre__writer_u8(&w, r->erased);
        hre__writer_u32(&w, r->erased_time);
    }
    for (uint32_t i = 0; i < c->grants.n; i++) {
        const struct hre_c_grant *g = &c->grants.v[i];
        hre__writer_bytes(&w, g->id, 32);
        put_idx(&w, g->patient);
        hre__writer_u8(&w, g->reader_type);
        hre__writer_bytes(&w, g->reader, 32);
        hre__writer_u8(&w, g->scope);
        hre__writer_u8(&w, g->category);
        hre__writer_compact(&w, g->nids);
        hre__writer_bytes(&w, c->arena.v + g->ids_off, (size_t)g->nids * 32);
        hre__writer_u64(&w, g->expiry);
        hre__writer_u64(&w, g->created);
        hre__writer_compact(&w, g->env_len);
        hre__writer_bytes(&w, c->arena.v + g->env_off, g->env_len);
        hre__writer_u8(&w, g->revoked);
        hre__writer_u64(&w, g->revoked_time);
    }
    for (uint32_t i = 0; i < c->events.n; i++) {
        const struct hre_c_event *e = &c->events.v[i];
        hre__writer_u8(&w, e->type);
        hre__writer_u8(&w, e->detail);
        hre__writer_u16(&w, e->kind);
        put_idx(&w, e->actor);
        put_idx(&w, e->subject);
        put_idx(&w, e->record);
        put_idx(&w, e->ref);
        hre__writer_u32(&w, e->time);
    }
    need = w.len + 32;
    if (!out || need > *len) {
        *len = need;
        return hre__fail(HRE_EBUFSIZE, "snapshot_save: %zu bytes needed", need);
    }
    if ((rc = hre_sha256d(out + w.len, out, w.len)) != HRE_OK) return rc;
    *len = need;
    return hre__api_done(HRE_OK);
}
