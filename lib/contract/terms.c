/* Record contract: the state-hash accumulator and the term of every state
 * entry (docs/PROTOCOL.md 5.6). */
#include "contract/internal.h"

/* 256-bit little-endian add / subtract, in 64-bit limbs. */
void hre_contract__acc_add(uint8_t acc[32], const uint8_t t[32])
{
    uint64_t carry = 0;
    for (int i = 0; i < 32; i += 8) {
        uint64_t a = hre__le64(acc + i), s = a + hre__le64(t + i), s2 = s + carry;
        carry = (uint64_t)(s < a) | (uint64_t)(s2 < s);
        hre__put_le64(acc + i, s2);
    }
}

void hre_contract__acc_sub(uint8_t acc[32], const uint8_t t[32])
{
    uint64_t borrow = 0;
    for (int i = 0; i < 32; i += 8) {
        uint64_t a = hre__le64(acc + i), b = hre__le64(t + i), d = a - b, d2 = d - borrow;
        borrow = (uint64_t)(a < b) | (uint64_t)(d < borrow);
        hre__put_le64(acc + i, d2);
    }
}

static const uint8_t zero32[32];

int hre_contract__sha256(hre_sha256_ctx *md, uint8_t out[32], const void *data, size_t len)
{
    if (md) {
        if (hre_sha256_update(md, data, len) == HRE_OK && hre_sha256_final(md, out) == HRE_OK)
            return HRE_OK;
        (void)hre_sha256_final(md, out);   /* reset the context after a provider failure */
    }
    return hre_sha256(out, data, len);
}

static const uint8_t *acct_addr(const hre_contract *c, uint32_t a)
{
    return a == HRE_C_NONE ? zero32 : c->accounts.v[a].addr;
}

static const uint8_t *org_id(const hre_contract *c, uint32_t o)
{
    return o == HRE_C_NONE ? zero32 : c->orgs.v[o].id;
}

int hre_contract__term_account(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_account *a, uint8_t out[32])
{
    uint8_t b[1 + 32 + 34 + 1 + 1 + 32 + 8];
    uint8_t *p = b;
    *p++ = 'A';
    memcpy(p, a->addr, 32); p += 32;
    memcpy(p, a->key, 34); p += 34;
    *p++ = a->role;
    *p++ = a->status;
    memcpy(p, org_id(c, a->org), 32); p += 32;
    hre__put_le64(p, a->nonce);
    return hre_contract__sha256(md, out, b, sizeof b);
}

int hre_contract__term_retired_key(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_keyent *k, uint8_t out[32])
{
    uint8_t b[1 + 34 + 32];
    b[0] = 'K';
    memcpy(b + 1, k->key, 34);
    memcpy(b + 35, acct_addr(c, k->account), 32);
    return hre_contract__sha256(md, out, b, sizeof b);
}

int hre_contract__term_org(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_org *o, uint8_t out[32])
{
    uint8_t b[1 + 32 + 1 + 1 + 1 + HRE_CONTRACT_NAME_MAX];
    b[0] = 'O';
    memcpy(b + 1, o->id, 32);
    b[33] = o->type;
    b[34] = o->status;
    b[35] = o->name_len;
    memcpy(b + 36, c->arena.v + o->name_off, o->name_len);
    return hre_contract__sha256(md, out, b, 36 + (size_t)o->name_len);
}

int hre_contract__term_enc(hre_sha256_ctx *md, uint8_t target_type, const uint8_t id[32], const uint8_t key[34],
                           uint8_t out[32])
{
    uint8_t b[1 + 1 + 32 + 34];
    b[0] = 'P';
    b[1] = target_type;
    memcpy(b + 2, id, 32);
    memcpy(b + 34, key, 34);
    return hre_contract__sha256(md, out, b, sizeof b);
}

int hre_contract__term_record(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_record *r, uint8_t out[32])
{
    uint8_t b[1 + 32 * 7 + 8 + 8 + 1 + 1 + HRE_CONTRACT_NAME_MAX + 32 + 1 + 32];
    uint8_t *p = b;
    *p++ = 'R';
    memcpy(p, r->id, 32); p += 32;
    memcpy(p, acct_addr(c, r->patient), 32); p += 32;
    memcpy(p, org_id(c, r->issuer), 32); p += 32;
    memcpy(p, org_id(c, r->lab), 32); p += 32;
    memcpy(p, r->c_pid, 32); p += 32;
    memcpy(p, r->c_test, 32); p += 32;
    memcpy(p, r->doc, 32); p += 32;
    hre__put_le64(p, hre_c_get64(r->date)); p += 8;
    hre__put_le64(p, hre_c_get64(r->price)); p += 8;
    *p++ = r->category;
    *p++ = r->hosp_len;
    memcpy(p, c->arena.v + r->hosp_off, r->hosp_len); p += r->hosp_len;
    memcpy(p, r->locator, 32); p += 32;
    if (r->supersedes != HRE_C_NONE) {
        *p++ = 1;
        memcpy(p, c->records.v[r->supersedes].id, 32); p += 32;
    } else {
        *p++ = 0;
    }
    return hre_contract__sha256(md, out, b, (size_t)(p - b));
}

int hre_contract__term_record_status(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_record *r, uint8_t out[32])
{
    uint8_t b[1 + 32 + 32 + 32 + 1 + 1 + 8];
    b[0] = 'S';
    memcpy(b + 1, r->id, 32);
    memcpy(b + 33, acct_addr(c, r->sig_issuer), 32);
    memcpy(b + 65, acct_addr(c, r->sig_lab), 32);
    b[97] = r->valid;
    b[98] = r->erased;
    hre__put_le64(b + 99, r->erased_time);
    return hre_contract__sha256(md, out, b, sizeof b);
}

int hre_contract__term_grant(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_grant *g, uint8_t out[32])
{
    uint8_t b[1 + 32 + 32 + 1 + 32 + 1 + 1 + 1 + HRE_CONTRACT_GRANT_IDS_MAX * 32 + 8 + 8 + 2 + HRE_CONTRACT_ENVELOPE_MAX];
    uint8_t *p = b;
    *p++ = 'G';
    memcpy(p, g->id, 32); p += 32;
    memcpy(p, acct_addr(c, g->patient), 32); p += 32;
    *p++ = g->reader_type;
    memcpy(p, g->reader, 32); p += 32;
    *p++ = g->scope;
    *p++ = g->category;
    *p++ = g->nids;
    memcpy(p, c->arena.v + g->ids_off, (size_t)g->nids * 32); p += (size_t)g->nids * 32;
    hre__put_le64(p, g->expiry); p += 8;
    hre__put_le64(p, g->created); p += 8;
    hre__put_le16(p, g->env_len); p += 2;
    memcpy(p, c->arena.v + g->env_off, g->env_len); p += g->env_len;
    return hre_contract__sha256(md, out, b, (size_t)(p - b));
}

int hre_contract__term_revocation(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_grant *g, uint8_t out[32])
{
    uint8_t b[1 + 32 + 8];
    (void)c;
    b[0] = 'V';
    memcpy(b + 1, g->id, 32);
    hre__put_le64(b + 33, g->revoked_time);
    return hre_contract__sha256(md, out, b, sizeof b);
}

int hre_contract__term_event(const hre_contract *c, hre_sha256_ctx *md, const struct hre_c_event *e, uint64_t seq, uint8_t out[32])
{
    uint8_t b[1 + 8 + 1 + 1 + 2 + 32 * 4 + 8];
    uint8_t *p = b;
    const uint8_t *ref = zero32;
    if (e->ref != HRE_C_NONE) {
        switch (e->type) {
        case HRE_EVENT_GRANTED: case HRE_EVENT_REVOKED: case HRE_EVENT_ACCESS_LOGGED:
            ref = c->grants.v[e->ref].id; break;
        default:
            ref = c->orgs.v[e->ref].id; break;
        }
    }
    *p++ = 'E';
    hre__put_le64(p, seq); p += 8;
    *p++ = e->type;
    *p++ = e->detail;
    hre__put_le16(p, e->kind); p += 2;
    memcpy(p, acct_addr(c, e->actor), 32); p += 32;
    memcpy(p, acct_addr(c, e->subject), 32); p += 32;
    memcpy(p, e->record == HRE_C_NONE ? zero32 : c->records.v[e->record].id, 32); p += 32;
    memcpy(p, ref, 32); p += 32;
    hre__put_le64(p, e->time); p += 8;
    return hre_contract__sha256(md, out, b, (size_t)(p - b));
}

HRE_API int hre_contract_state_hash(const hre_contract *c, uint8_t out[32])
{
    HRE__API_SCOPE;
    static const char tag[] = "HRE-CONTRACT-STATE-v1";
    uint8_t b[sizeof tag - 1 + 32 + 32];
    if (!c || !out) return hre__fail(HRE_EINVAL, "hre_contract_state_hash: NULL argument");
    memcpy(b, tag, sizeof tag - 1);
    memcpy(b + sizeof tag - 1, c->network_id, 32);
    memcpy(b + sizeof tag - 1 + 32, c->acc, 32);
    return hre__api_done(hre_sha256(out, b, sizeof b));
}
