/* Record contract: entity arrays, the id hash tables, the byte arena and the
 * per-patient / per-record / per-account lists. */
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
    return (uint32_t)hre__siphash(&c->sip, t == HRE_C_T_KEY ? id + 2 : id, 32, 1, 3);   /* SipHash-1-3 */
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
void hre_contract__table_remove(hre_contract *c, int t, uint32_t idx)
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

uint32_t hre_contract__arena_put(hre_contract *c, const uint8_t *p, size_t n)
{
    uint32_t off = c->arena.n;
    if (n) memcpy(c->arena.v + off, p, n);
    c->arena.n += (uint32_t)n;
    return off;
}

int hre_contract__reserve_all(hre_contract *c, size_t arena_bytes)
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
