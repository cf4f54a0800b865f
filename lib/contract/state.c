/* Record contract: state, hash tables, state hash terms, apply and undo. */
#include "contract/internal.h"

_Static_assert(sizeof(struct hre_c_record) == 216, "records are kept at 216 bytes (memory budget)");
_Static_assert(sizeof(struct hre_c_account) == 144, "accounts are kept at 144 bytes");
_Static_assert(sizeof(struct hre_c_chunk) == 32, "record chunks are half a cache line");
_Static_assert(sizeof(struct hre_c_event) == 32, "events are kept at 32 bytes (memory budget)");

/* ------------------------------------------------------------------------ */
/* Arrays                                                                    */
/* ------------------------------------------------------------------------ */

int hre_contract__grow(void **v, uint32_t *cap, uint32_t need, size_t elem)
{
    uint64_t ncap;
    void *nv;
    if (need <= *cap) return HRE_OK;
    if (need > HRE_C_MAX_ITEMS) return hre__fail(HRE_ELIMIT, "contract state: too many entries");
    ncap = *cap ? (uint64_t)*cap * 2 : 16;
    while (ncap < need) ncap *= 2;
    if (ncap > HRE_C_MAX_ITEMS) ncap = HRE_C_MAX_ITEMS;
    if (ncap > SIZE_MAX / elem) return hre__fail(HRE_ENOMEM, "contract state: array too large");
    nv = hre__realloc(*v, (size_t)ncap * elem);
    if (!nv) return hre__fail(HRE_ENOMEM, "contract state: out of memory growing an array");
    hre__advise_large(nv, (size_t)ncap * elem);
    *v = nv;
    *cap = (uint32_t)ncap;
    return HRE_OK;
}

#define GROW(arr, extra) \
    hre_contract__grow((void **)&(arr).v, &(arr).cap, (arr).n + (extra), sizeof *(arr).v)

/* ------------------------------------------------------------------------ */
/* SipHash-1-3 over 32 bytes (hash table keys; never part of the state)      */
/* ------------------------------------------------------------------------ */

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                         \
    do {                                                                 \
        v0 += v1; v1 = ROTL64(v1, 13); v1 ^= v0; v0 = ROTL64(v0, 32);   \
        v2 += v3; v3 = ROTL64(v3, 16); v3 ^= v2;                         \
        v0 += v3; v3 = ROTL64(v3, 21); v3 ^= v0;                         \
        v2 += v1; v1 = ROTL64(v1, 17); v1 ^= v2; v2 = ROTL64(v2, 32);   \
    } while (0)

static uint64_t sip32(uint64_t k0, uint64_t k1, const uint8_t *p)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    for (int i = 0; i < 4; i++) {
        uint64_t m = hre__le64(p + 8 * i);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    {
        uint64_t b = (uint64_t)32 << 56;
        v3 ^= b;
        SIPROUND;
        v0 ^= b;
    }
    v2 ^= 0xff;
    SIPROUND; SIPROUND; SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ------------------------------------------------------------------------ */
/* Open-addressing tables of u32 indices                                     */
/* ------------------------------------------------------------------------ */

static struct hre_c_table *tab(hre_contract *c, int t)
{
    switch (t) {
    case HRE_C_T_ADDR: return &c->t_addr;
    case HRE_C_T_KEY: return &c->t_key;
    case HRE_C_T_ORG: return &c->t_org;
    case HRE_C_T_RECORD: return &c->t_record;
    default: return &c->t_grant;
    }
}

static const struct hre_c_table *ctab(const hre_contract *c, int t)
{
    return tab((hre_contract *)c, t);
}

/* Key bytes of entry idx in table t, and their length. */
static const uint8_t *tkey(const hre_contract *c, int t, uint32_t idx, size_t *klen)
{
    *klen = 32;
    switch (t) {
    case HRE_C_T_ADDR: return c->accounts.v[idx].addr;
    case HRE_C_T_KEY: *klen = 34; return c->keys.v[idx].key;
    case HRE_C_T_ORG: return c->orgs.v[idx].id;
    case HRE_C_T_RECORD: return c->records.v[idx].id;
    default: return c->grants.v[idx].id;
    }
}

/* Hash of an id: keys hash their 32 x-coordinate bytes (after curve id and
 * prefix), other ids their 32 bytes. */
static uint32_t thash(const hre_contract *c, int t, const uint8_t *id)
{
    return (uint32_t)sip32(c->sip_k0, c->sip_k1, t == HRE_C_T_KEY ? id + 2 : id);
}

uint32_t hre_contract__find(const hre_contract *c, int t, const uint8_t *id)
{
    const struct hre_c_table *tb = ctab(c, t);
    uint32_t i, s;
    size_t klen;
    if (!tb->mask) return HRE_C_NONE;
    i = thash(c, t, id) & tb->mask;
    while ((s = tb->slots[i]) != 0) {
        const uint8_t *k = tkey(c, t, s - 1, &klen);
        if (memcmp(k, id, klen) == 0) return s - 1;
        i = (i + 1) & tb->mask;
    }
    return HRE_C_NONE;
}

static void raw_insert(const hre_contract *c, int t, uint32_t *slots, uint32_t mask, uint32_t idx)
{
    size_t klen;
    uint32_t i = thash(c, t, tkey(c, t, idx, &klen)) & mask;
    while (slots[i]) i = (i + 1) & mask;
    slots[i] = idx + 1;
}

int hre_contract__insert_reserve(hre_contract *c, int t, uint32_t extra)
{
    struct hre_c_table *tb = tab(c, t);
    uint64_t need = (uint64_t)tb->count + extra, cap = tb->mask ? (uint64_t)tb->mask + 1 : 0;
    uint32_t *ns;
    if (need * 2 <= cap) return HRE_OK;   /* load factor <= 1/2 */
    if (cap == 0) cap = 16;
    while (need * 2 > cap) cap *= 2;
    if (cap > ((uint64_t)1 << 31)) return hre__fail(HRE_ELIMIT, "contract state: hash table too large");
    ns = hre__calloc((size_t)cap, sizeof *ns);
    if (!ns) return hre__fail(HRE_ENOMEM, "contract state: out of memory growing a hash table");
    hre__advise_large(ns, (size_t)cap * sizeof *ns);
    for (uint32_t i = 0; tb->mask && i <= tb->mask; i++)
        if (tb->slots[i]) raw_insert(c, t, ns, (uint32_t)(cap - 1), tb->slots[i] - 1);
    hre__free(tb->slots);
    tb->slots = ns;
    tb->mask = (uint32_t)(cap - 1);
    return HRE_OK;
}

int hre_contract__insert_new(hre_contract *c, int t, uint32_t idx)
{
    struct hre_c_table *tb = tab(c, t);
    size_t klen;
    const uint8_t *id = tkey(c, t, idx, &klen);
    uint32_t i = thash(c, t, id) & tb->mask, s;
    while ((s = tb->slots[i]) != 0) {
        const uint8_t *k = tkey(c, t, s - 1, &klen);
        if (memcmp(k, id, klen) == 0) return 0;
        i = (i + 1) & tb->mask;
    }
    tb->slots[i] = idx + 1;
    tb->count++;
    return 1;
}

void hre_contract__insert(hre_contract *c, int t, uint32_t idx)
{
    struct hre_c_table *tb = tab(c, t);
    raw_insert(c, t, tb->slots, tb->mask, idx);
    tb->count++;
}

/* Remove idx (which must be present) with backward-shift deletion. */
static void table_remove(hre_contract *c, int t, uint32_t idx)
{
    struct hre_c_table *tb = tab(c, t);
    size_t klen;
    uint32_t i, j, s;
    if (!tb->mask) return;
    i = thash(c, t, tkey(c, t, idx, &klen)) & tb->mask;
    while (tb->slots[i] && tb->slots[i] != idx + 1) i = (i + 1) & tb->mask;
    if (!tb->slots[i]) return;
    tb->slots[i] = 0;
    tb->count--;
    j = i;
    for (;;) {
        uint32_t home;
        j = (j + 1) & tb->mask;
        s = tb->slots[j];
        if (!s) break;
        home = thash(c, t, tkey(c, t, s - 1, &klen)) & tb->mask;
        /* move s to i if its home is not in the cyclic range (i, j] */
        if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
            tb->slots[i] = s;
            tb->slots[j] = 0;
            i = j;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Accumulator and terms                                                     */
/* ------------------------------------------------------------------------ */

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

uint32_t hre_contract__hosp_name(hre_contract *c, uint32_t issuer, const uint8_t *name, size_t len, int *reused)
{
    const struct hre_c_org *o = &c->orgs.v[issuer];
    uint32_t off;
    if (o->name_len == len && memcmp(c->arena.v + o->name_off, name, len) == 0) {
        *reused = 1;
        return o->name_off;
    }
    *reused = 0;
    off = c->arena.n;
    memmove(c->arena.v + off, name, len);   /* name may already sit at off (snapshot load) */
    c->arena.n += (uint32_t)len;
    return off;
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

/* ------------------------------------------------------------------------ */
/* Lists                                                                     */
/* ------------------------------------------------------------------------ */

void hre_contract__link_record(hre_contract *c, uint32_t ri)
{
    struct hre_c_account *p = &c->accounts.v[c->records.v[ri].patient];
    uint32_t k = p->rec_count % HRE_C_CHUNK;
    if (k == 0) {
        uint32_t ci = c->chunks.n++;
        c->chunks.v[ci].next = p->rec_count ? p->rec_chunk : HRE_C_NONE;
        p->rec_chunk = ci;
    }
    c->chunks.v[p->rec_chunk].rec[k] = ri;
    p->rec_count++;
}

void hre_contract__link_grant(hre_contract *c, uint32_t gi)
{
    struct hre_c_grant *g = &c->grants.v[gi];
    struct hre_c_account *p = &c->accounts.v[g->patient];
    g->next_patient = p->grant_head;
    p->grant_head = gi;
    p->grant_count++;
}

void hre_contract__link_event(hre_contract *c, uint32_t ei)
{
    struct hre_c_event *e = &c->events.v[ei];
    if (e->record != HRE_C_NONE) {
        struct hre_c_record *r = &c->records.v[e->record];
        e->next_record = r->ev_head;
        r->ev_head = ei;
    } else {
        e->next_record = HRE_C_NONE;
    }
    if (e->subject != HRE_C_NONE) {
        struct hre_c_account *a = &c->accounts.v[e->subject];
        e->next_subject = a->ev_head;
        a->ev_head = ei;
        a->ev_count++;
    } else {
        e->next_subject = HRE_C_NONE;
    }
}

/* ------------------------------------------------------------------------ */
/* Lifetime                                                                  */
/* ------------------------------------------------------------------------ */

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
    c->sip_k0 = hre__le64(k);
    c->sip_k1 = hre__le64(k + 8);
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
static int new_account(hre_contract *c, const uint8_t key[34], uint8_t role, uint32_t org,
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

static uint32_t arena_put(hre_contract *c, const uint8_t *p, size_t n)
{
    uint32_t off = c->arena.n;
    if (n) memcpy(c->arena.v + off, p, n);
    c->arena.n += (uint32_t)n;
    return off;
}

static int reserve_all(hre_contract *c, size_t arena_bytes)
{
    int rc;
    if (arena_bytes > HRE_C_MAX_ITEMS - c->arena.n)
        return hre__fail(HRE_ELIMIT, "contract state: byte arena full");
    if ((rc = GROW(c->accounts, 1)) != HRE_OK) return rc;
    if ((rc = GROW(c->keys, 1)) != HRE_OK) return rc;
    if ((rc = GROW(c->orgs, 1)) != HRE_OK) return rc;
    if ((rc = GROW(c->records, 1)) != HRE_OK) return rc;
    if ((rc = GROW(c->grants, 1)) != HRE_OK) return rc;
    if ((rc = GROW(c->events, 2)) != HRE_OK) return rc;
    if ((rc = GROW(c->chunks, 1)) != HRE_OK) return rc;
    if ((rc = GROW(c->enc, 1)) != HRE_OK) return rc;
    if ((rc = GROW(c->undo, 1)) != HRE_OK) return rc;
    if ((rc = GROW(c->arena, (uint32_t)arena_bytes)) != HRE_OK) return rc;
    for (int t = HRE_C_T_ADDR; t <= HRE_C_T_GRANT; t++)
        if ((rc = hre_contract__insert_reserve(c, t, 1)) != HRE_OK) return rc;
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
    rc = reserve_all(c, nlen);
    if (rc != HRE_OK) goto fail;
    o = &c->orgs.v[0];
    memset(o, 0, sizeof *o);
    rc = hre_contract_genesis_org_id(o->id, c->network_id);
    if (rc != HRE_OK) goto fail;
    o->type = HRE_ORG_HOSPITAL;
    o->status = HRE_STATUS_ACTIVE;
    o->enc = HRE_C_NONE;
    o->name_len = (uint8_t)nlen;
    o->name_off = arena_put(c, (const uint8_t *)name, nlen);
    c->orgs.n = 1;
    hre_contract__insert(c, HRE_C_T_ORG, 0);
    {
        uint8_t t[32];
        rc = hre_contract__term_org(c, c->md, o, t);
        if (rc != HRE_OK) goto fail;
        hre_contract__acc_add(c->acc, t);
    }
    rc = new_account(c, opts->authority_key, HRE_ROLE_AUTHORITY, 0, NULL, &ai);
    if (rc != HRE_OK) goto fail;
    *out = c;
    return hre__api_done(HRE_OK);
fail:
    hre_contract_free(c);
    return hre__api_done(rc);
}

/* ------------------------------------------------------------------------ */
/* Undo                                                                      */
/* ------------------------------------------------------------------------ */

/* Revert everything recorded in u. Never fails, never allocates. */
static void undo_entry(hre_contract *c, const struct hre_c_undo *u)
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
        table_remove(c, HRE_C_T_GRANT, gi);
        c->grants.n--;
    }
    while (c->records.n > u->n_records) {
        uint32_t ri = c->records.n - 1;
        struct hre_c_account *p = &c->accounts.v[c->records.v[ri].patient];
        p->rec_count--;
        if (p->rec_count % HRE_C_CHUNK == 0) {
            p->rec_chunk = c->chunks.v[p->rec_chunk].next;   /* that chunk is freed by the truncation below */
        }
        table_remove(c, HRE_C_T_RECORD, ri);
        c->records.n--;
    }
    while (c->keys.n > u->n_keys) {
        table_remove(c, HRE_C_T_KEY, c->keys.n - 1);
        c->keys.n--;
    }
    while (c->accounts.n > u->n_accounts) {
        table_remove(c, HRE_C_T_ADDR, c->accounts.n - 1);
        c->accounts.n--;
    }
    while (c->orgs.n > u->n_orgs) {
        table_remove(c, HRE_C_T_ORG, c->orgs.n - 1);
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
    undo_entry(c, &c->undo.v[c->undo.n]);
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

/* ------------------------------------------------------------------------ */
/* Apply                                                                     */
/* ------------------------------------------------------------------------ */

struct actx {
    hre_contract *c;
    const hre_tx *tx;
    uint64_t now;
    uint16_t kind;
    uint32_t sender;                   /* account, or NONE for register_patient */
    const uint8_t *sender_key;
    const uint8_t *payload;
    size_t plen;
    struct hre_c_undo *u;
};

/* Change helpers: apply +t / -t to the accumulator and the undo delta. */
static void plus(struct actx *x, const uint8_t t[32])
{
    hre_contract__acc_add(x->c->acc, t);
    hre_contract__acc_add(x->u->delta, t);
}

static void minus(struct actx *x, const uint8_t t[32])
{
    hre_contract__acc_sub(x->c->acc, t);
    hre_contract__acc_sub(x->u->delta, t);
}

/* Replace account ai's cached term by a freshly computed one. */
static int reterm_account(struct actx *x, uint32_t ai)
{
    struct hre_c_account *a = &x->c->accounts.v[ai];
    uint8_t t[32];
    int rc = hre_contract__term_account(x->c, x->c->md, a, t);
    if (rc != HRE_OK) return rc;
    minus(x, a->term);
    memcpy(a->term, t, 32);
    plus(x, t);
    return HRE_OK;
}

static int emit(struct actx *x, uint8_t type, uint32_t actor, uint32_t subject, uint32_t record,
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
    plus(x, t);
    return HRE_OK;
}

static int is_admin_of(const struct hre_c_account *a, uint32_t org)
{
    return (a->role == HRE_ROLE_ADMIN || a->role == HRE_ROLE_AUTHORITY) && a->org == org && org != HRE_C_NONE;
}

static int key_free(hre_contract *c, const uint8_t key[34], const char *what)
{
    uint32_t ki = hre_contract__find(c, HRE_C_T_KEY, key);
    if (ki != HRE_C_NONE)
        return hre__fail(HRE_EEXISTS, "%s: key already %s", what,
                         c->keys.v[ki].retired ? "used before (rotated out)" : "registered to an account");
    return HRE_OK;
}

/* Creates a staff/patient account for `key`: address must be unused. */
static int add_account(struct actx *x, const uint8_t key[34], uint8_t role, uint32_t org, uint32_t *ai)
{
    uint8_t addr[32];
    int rc = hre_contract__sha256(x->c->md, addr, key, 34);
    if (rc != HRE_OK) return rc;
    if (hre_contract__find(x->c, HRE_C_T_ADDR, addr) != HRE_C_NONE)
        return hre__fail(HRE_EEXISTS, "an account with this key's address already exists");
    return new_account(x->c, key, role, org, x->u->delta, ai);
}

static int k_register_org(struct actx *x)
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
    if ((rc = key_free(c, p.admin_key, "register_org admin")) != HRE_OK) return rc;
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
    o->name_off = arena_put(c, p.name, p.name_len);
    if ((rc = hre_contract__term_org(c, c->md, o, t)) != HRE_OK) return rc;
    c->orgs.n++;
    hre_contract__insert(c, HRE_C_T_ORG, oi);
    plus(x, t);
    if ((rc = add_account(x, p.admin_key, HRE_ROLE_ADMIN, oi, &ai)) != HRE_OK) return rc;
    if ((rc = emit(x, HRE_EVENT_ORG_REGISTERED, x->sender, ai, HRE_C_NONE, oi, p.org_type)) != HRE_OK) return rc;
    return emit(x, HRE_EVENT_ADMIN_APPOINTED, x->sender, ai, HRE_C_NONE, oi, 0);
}

static int k_appoint_admin(struct actx *x)
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
    if ((rc = key_free(c, p.admin_key, "appoint_admin")) != HRE_OK) return rc;
    if ((rc = add_account(x, p.admin_key, HRE_ROLE_ADMIN, oi, &ai)) != HRE_OK) return rc;
    return emit(x, HRE_EVENT_ADMIN_APPOINTED, x->sender, ai, HRE_C_NONE, oi, 0);
}

static int k_register_doctor(struct actx *x)
{
    hre_contract *c = x->c;
    const struct hre_c_account *s = &c->accounts.v[x->sender];
    hre_register_doctor_payload p;
    uint32_t ai, org = s->org;
    int rc = hre_contract_decode_register_doctor(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    if (!is_admin_of(s, s->org))
        return hre__fail(HRE_EAUTH, "register_doctor: only an organisation admin may register doctors");
    if ((rc = key_free(c, p.doctor_key, "register_doctor")) != HRE_OK) return rc;
    if ((rc = add_account(x, p.doctor_key, HRE_ROLE_DOCTOR, org, &ai)) != HRE_OK) return rc;
    return emit(x, HRE_EVENT_DOCTOR_REGISTERED, x->sender, ai, HRE_C_NONE, org, 0);
}

static int k_register_patient(struct actx *x)
{
    hre_register_patient_payload p;
    uint32_t ai;
    int rc = hre_contract_decode_register_patient(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    if ((rc = add_account(x, x->sender_key, HRE_ROLE_PATIENT, HRE_C_NONE, &ai)) != HRE_OK) return rc;
    x->sender = ai;
    return emit(x, HRE_EVENT_PATIENT_REGISTERED, ai, ai, HRE_C_NONE, HRE_C_NONE, 0);
}

/* May sender s manage (suspend / rotate / set the encryption key of) staff
 * account t (an admin, doctor or node)? */
static int may_manage(const hre_contract *c, uint32_t si, uint32_t ti, const char *what)
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

static int k_suspend(struct actx *x)
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
    if ((rc = may_manage(c, x->sender, ti, "suspend")) != HRE_OK) return rc;
    t = &c->accounts.v[ti];
    if (p.action == HRE_SUSPEND_SUSPEND && t->status == HRE_STATUS_SUSPENDED)
        return hre__fail(HRE_ESTATE, "suspend: account is already suspended");
    if (p.action == HRE_SUSPEND_REINSTATE && t->status == HRE_STATUS_ACTIVE)
        return hre__fail(HRE_ESTATE, "suspend: account is not suspended");
    x->u->target = ti;
    x->u->old_status = t->status;
    memcpy(x->u->target_term, t->term, 32);
    t->status = p.action == HRE_SUSPEND_SUSPEND ? HRE_STATUS_SUSPENDED : HRE_STATUS_ACTIVE;
    if ((rc = reterm_account(x, ti)) != HRE_OK) return rc;
    return emit(x, p.action == HRE_SUSPEND_SUSPEND ? HRE_EVENT_SUSPENDED : HRE_EVENT_REINSTATED,
                x->sender, ti, HRE_C_NONE, t->org, 0);
}

static int k_rotate_key(struct actx *x)
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
    if (ti != x->sender && (rc = may_manage(c, x->sender, ti, "rotate_key")) != HRE_OK) return rc;
    if ((rc = key_free(c, p.new_key, "rotate_key new")) != HRE_OK) return rc;
    t = &c->accounts.v[ti];
    old = &c->keys.v[t->key_entry];
    x->u->target = ti;
    x->u->aux = t->key_entry;
    memcpy(x->u->target_term, t->term, 32);
    old->retired = 1;
    if ((rc = hre_contract__term_retired_key(c, c->md, old, term)) != HRE_OK) return rc;
    plus(x, term);
    nki = c->keys.n;
    nk = &c->keys.v[nki];
    memset(nk, 0, sizeof *nk);
    memcpy(nk->key, p.new_key, 34);
    nk->account = ti;
    c->keys.n++;
    hre_contract__insert(c, HRE_C_T_KEY, nki);
    memcpy(t->key, p.new_key, 34);
    t->key_entry = nki;
    if ((rc = reterm_account(x, ti)) != HRE_OK) return rc;
    return emit(x, HRE_EVENT_KEY_ROTATED, x->sender, ti, HRE_C_NONE, t->org, 0);
}

static int k_new_record(struct actx *x)
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
    if (!is_admin_of(s, s->org) || (itype != HRE_ORG_HOSPITAL && itype != HRE_ORG_CLINIC))
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
    plus(x, t);
    if ((rc = hre_contract__term_record_status(c, c->md, r, t)) != HRE_OK) return rc;
    plus(x, t);
    return emit(x, HRE_EVENT_RECORD_CREATED, x->sender, pi, ri, r->issuer, 0);
}

static int k_sign_record(struct actx *x)
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
    if (is_admin_of(s, r->issuer)) {
        slot = &r->sig_issuer;
        org = r->issuer;
    } else if (is_admin_of(s, r->lab)) {
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
    minus(x, t);
    *slot = x->sender;
    count = (uint8_t)((r->sig_issuer != HRE_C_NONE) + (r->sig_lab != HRE_C_NONE));
    if (count == 2) r->valid = 1;
    if ((rc = hre_contract__term_record_status(c, c->md, r, t)) != HRE_OK) return rc;
    plus(x, t);
    if ((rc = emit(x, HRE_EVENT_RECORD_SIGNATURE, x->sender, r->patient, ri, org, count)) != HRE_OK) return rc;
    if (count == 2) return emit(x, HRE_EVENT_RECORD_SIGNED, x->sender, r->patient, ri, r->issuer, count);
    return HRE_OK;
}

static int k_grant(struct actx *x)
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
    g->ids_off = arena_put(c, p.record_ids, p.record_count * 32);
    g->env_len = (uint16_t)p.envelope_len;
    g->env_off = arena_put(c, p.envelope, p.envelope_len);
    if ((rc = hre_contract__term_grant(c, c->md, g, t)) != HRE_OK) return rc;
    c->grants.n++;
    hre_contract__insert(c, HRE_C_T_GRANT, gi);
    hre_contract__link_grant(c, gi);
    plus(x, t);
    return emit(x, HRE_EVENT_GRANTED, x->sender, x->sender, HRE_C_NONE, gi, 0);
}

static int k_revoke(struct actx *x)
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
    plus(x, t);
    return emit(x, HRE_EVENT_REVOKED, x->sender, x->sender, HRE_C_NONE, gi, 0);
}

static int k_log_access(struct actx *x)
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
    return emit(x, HRE_EVENT_ACCESS_LOGGED, x->sender, c->records.v[ri].patient, ri, a.grant, p.purpose);
}

static int k_register_node(struct actx *x)
{
    hre_contract *c = x->c;
    const struct hre_c_account *s = &c->accounts.v[x->sender];
    hre_register_node_payload p;
    uint32_t ai, org = s->org;
    int rc = hre_contract_decode_register_node(&p, x->payload, x->plen);
    if (rc != HRE_OK) return rc;
    if (!is_admin_of(s, s->org))
        return hre__fail(HRE_EAUTH, "register_node: only an organisation admin may register nodes");
    if ((rc = key_free(c, p.node_key, "register_node")) != HRE_OK) return rc;
    if ((rc = add_account(x, p.node_key, HRE_ROLE_NODE, org, &ai)) != HRE_OK) return rc;
    return emit(x, HRE_EVENT_NODE_REGISTERED, x->sender, ai, HRE_C_NONE, org, 0);
}

static int k_suspend_org(struct actx *x)
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
    minus(x, t);
    o->status = p.action == HRE_SUSPEND_SUSPEND ? HRE_STATUS_SUSPENDED : HRE_STATUS_ACTIVE;
    if ((rc = hre_contract__term_org(c, c->md, o, t)) != HRE_OK) return rc;
    plus(x, t);
    return emit(x, p.action == HRE_SUSPEND_SUSPEND ? HRE_EVENT_ORG_SUSPENDED : HRE_EVENT_ORG_REINSTATED,
                x->sender, HRE_C_NONE, HRE_C_NONE, oi, 0);
}

static int k_set_enc_key(struct actx *x)
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
        if (ti != x->sender && (rc = may_manage(c, x->sender, ti, "set_enc_key")) != HRE_OK) return rc;
        slot = &c->accounts.v[ti].enc;
        subject = ti;
        ref = c->accounts.v[ti].org;
    } else {
        ti = hre_contract__find(c, HRE_C_T_ORG, p.target);
        if (ti == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "set_enc_key: no such organisation");
        if (s->role != HRE_ROLE_AUTHORITY && !is_admin_of(s, ti))
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
        minus(x, t);
    }
    ni = c->enc.n++;
    memcpy(c->enc.v[ni].key, p.enc_key, 34);
    *slot = ni;
    if ((rc = hre_contract__term_enc(c->md, p.target_type, p.target, p.enc_key, t)) != HRE_OK) return rc;
    plus(x, t);
    return emit(x, HRE_EVENT_ENC_KEY_SET, x->sender, subject, HRE_C_NONE, ref, p.target_type);
}

static int k_erase_record(struct actx *x)
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
    minus(x, t);
    r->erased = 1;
    r->erased_time = (uint32_t)x->now;
    if ((rc = hre_contract__term_record_status(c, c->md, r, t)) != HRE_OK) return rc;
    plus(x, t);
    return emit(x, HRE_EVENT_RECORD_ERASED, x->sender, r->patient, ri, HRE_C_NONE, 0);
}

static int (*const handlers[HRE_KIND_MAX + 1])(struct actx *) = {
    NULL, k_register_org, k_appoint_admin, k_register_doctor, k_register_patient, k_suspend,
    k_rotate_key, k_new_record, k_sign_record, k_grant, k_revoke, k_log_access,
    k_register_node, k_suspend_org, k_set_enc_key, k_erase_record,
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
    struct actx x;
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
    if ((rc = reserve_all(c, x.plen)) != HRE_OK) return rc;

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
        rc = reterm_account(&x, x.sender);
    }
    if (rc != HRE_OK) {
        undo_entry(c, u);   /* nothing of the refused tx remains */
        return hre__api_done(rc);
    }
    c->undo.n++;
    deliver(c, u->n_events);
    return hre__api_done(HRE_OK);
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
