/*
 * Membership from the chain (hre_contract_node_status on the ledger's tip
 * state), the discouragement list, the replay cache of initiator
 * ephemerals, and the address book with its outbound connections
 * (docs/PROTOCOL.md 12.3, 12.9).
 */
#include <stdio.h>
#include <string.h>

#include "hre/contract.h"
#include "node/internal.h"

/* ------------------------------------------------------------------------ */
/* Membership                                                                */
/* ------------------------------------------------------------------------ */

int hre_node__membership(hre_node *n, const uint8_t key[34], uint8_t addr[32], uint8_t org[32])
{
    if (addr)
        memset(addr, 0, 32);
    if (org)
        memset(org, 0, 32);
    {
        const hre_contract *c = NULL;
        hre_contract_node st = HRE_CONTRACT_NODE_INIT;
        int rc;
        if (hre_ledger_contract(n->l, &c) != HRE_OK)
            return HRE_NODE_MEMBER_UNKNOWN_KEY;
        rc = hre_contract_node_status(c, &st, key);
        if (rc == HRE_OK) {
            if (addr)
                memcpy(addr, st.address, 32);
            if (org)
                memcpy(org, st.org_id, 32);
            return HRE_NODE_MEMBER_LIVE;
        }
        switch (st.reason) {
        case HRE_NODE_KEY_ROTATED: return HRE_NODE_MEMBER_ROTATED;
        case HRE_NODE_SUSPENDED: return HRE_NODE_MEMBER_SUSPENDED;
        case HRE_NODE_ORG_SUSPENDED: return HRE_NODE_MEMBER_ORG_SUSPENDED;
        default: return HRE_NODE_MEMBER_UNKNOWN_KEY;
        }
    }
}

static int lost_reason(int member)
{
    switch (member) {
    case HRE_NODE_MEMBER_SUSPENDED: return HRE_NODE_REASON_KEY_SUSPENDED;
    case HRE_NODE_MEMBER_ORG_SUSPENDED: return HRE_NODE_REASON_ORG_SUSPENDED;
    case HRE_NODE_MEMBER_ROTATED: return HRE_NODE_REASON_KEY_ROTATED;
    default: return HRE_NODE_REASON_NOT_MEMBER;
    }
}

void hre_node__recheck_members(hre_node *n)
{
    size_t i;
    int was = n->member;
    if (n->identity)
        n->member = hre_node__membership(n, n->identity_key, NULL, NULL);
    for (i = 0; i < n->n_peers; i++) {
        hre_node__peer *p = n->peers[i];
        int m;
        if (p->closing || !p->has_identity)
            continue;
        m = hre_node__membership(n, p->key, p->member_addr, p->org);
        if (m == p->member)
            continue;
        p->member = m;
        if (p->was_live && m != HRE_NODE_MEMBER_LIVE) {
            hre_node__close(n, p, lost_reason(m), 1, "its node key is no longer a live member (%s)",
                            hre_node_reason_name(lost_reason(m)));
            continue;
        }
        hre_node__emit(n, HRE_NODE_EVENT_MEMBERSHIP, p->conn, 0, "membership changed", NULL, NULL, m, 0);
        if (m == HRE_NODE_MEMBER_LIVE) {
            p->was_live = 1;
            if (p->state == NODE__READY)
                hre_node__offer_mempool(n, p);
        }
    }
    if (was != HRE_NODE_MEMBER_LIVE && n->member == HRE_NODE_MEMBER_LIVE)
        for (i = 0; i < n->n_peers; i++)
            if (n->peers[i]->state == NODE__READY)
                hre_node__offer_mempool(n, n->peers[i]);
}

/* ------------------------------------------------------------------------ */
/* Discouragement                                                            */
/* ------------------------------------------------------------------------ */

static const size_t disc_sizes[] = { 0, HRE__END(hre_node_discouraged, time) };
static const hre__vstruct disc_desc = { "hre_node_discouraged", HRE_NODE_DISCOURAGED_VERSION, disc_sizes };
_Static_assert(sizeof disc_sizes / sizeof disc_sizes[0] == HRE_NODE_DISCOURAGED_VERSION + 1,
               "one size per hre_node_discouraged version");

HRE_API int hre_node_discouraged_init(hre_node_discouraged *d, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&disc_desc, d, version));
}

static hre_node_discouraged *disc_at(const hre_node *n, size_t i)
{
    return &n->disc[(n->disc_start + i) % n->max_discouraged];
}

static int disc_match(const hre_node_discouraged *d, const char *address, const uint8_t *key)
{
    if (address && address[0] && d->address[0] && strcmp(d->address, address) == 0)
        return 1;
    return key && d->has_key && memcmp(d->key, key, 34) == 0;
}

int hre_node__discourage(hre_node *n, const char *address, const uint8_t *key, int reason)
{
    hre_node_discouraged *d = NULL;
    size_t i;
    if ((!address || !address[0]) && !key)
        return 0;
    for (i = 0; i < n->n_disc; i++)
        if (disc_match(disc_at(n, i), address, key)) {
            d = disc_at(n, i);
            break;
        }
    if (!d) {
        if (!n->disc) {
            n->disc = hre_node__zalloc(n, (size_t)n->max_discouraged * sizeof *n->disc);
            if (!n->disc)
                return 0;
        }
        if (n->n_disc == n->max_discouraged) {
            d = disc_at(n, 0);   /* the oldest makes room */
            n->disc_start = (n->disc_start + 1) % n->max_discouraged;
        } else {
            d = disc_at(n, n->n_disc++);
        }
        memset(d, 0, sizeof *d);
    }
    d->version = HRE_NODE_DISCOURAGED_VERSION;
    d->reason = reason;
    d->time = n->now;
    if (address && address[0])
        snprintf(d->address, sizeof d->address, "%s", address);
    if (key) {
        d->has_key = 1;
        memcpy(d->key, key, 34);
    }
    return 1;
}

int hre_node__is_discouraged(const hre_node *n, const char *address, const uint8_t *key)
{
    size_t i;
    for (i = 0; i < n->n_disc; i++)
        if (disc_match(disc_at(n, i), address, key))
            return 1;
    return 0;
}

HRE_API int hre_node_discouraged_get(const hre_node *n, hre_node_discouraged *out, const char *address,
                                     const uint8_t key[34])
{
    HRE__API_SCOPE;
    size_t i;
    int rc;
    if (!n || ((!address || !address[0]) && !key))
        return hre__fail(HRE_EINVAL, "hre_node_discouraged_get: NULL node, or neither address nor key");
    if (out && (rc = hre__vstruct_check(&disc_desc, out->version)) != HRE_OK)
        return rc;
    for (i = n->n_disc; i > 0; i--) {
        const hre_node_discouraged *d = disc_at(n, i - 1);
        if (disc_match(d, address, key)) {
            if (out)
                (void)hre__vstruct_out(&disc_desc, out, d);
            return hre__api_done(HRE_OK);
        }
    }
    return hre__fail(HRE_ENOTFOUND, "not discouraged");
}

HRE_API size_t hre_node_discouraged_count(const hre_node *n)
{
    return n ? n->n_disc : 0;
}

HRE_API int hre_node_discouraged_entry(const hre_node *n, hre_node_discouraged *out, size_t i)
{
    HRE__API_SCOPE;
    int rc;
    if (!n || !out)
        return hre__fail(HRE_EINVAL, "hre_node_discouraged_entry: NULL argument");
    if ((rc = hre__vstruct_check(&disc_desc, out->version)) != HRE_OK)
        return rc;
    if (i >= n->n_disc)
        return hre__fail(HRE_ENOTFOUND, "hre_node_discouraged_entry: %zu entries", n->n_disc);
    return hre__api_done(hre__vstruct_out(&disc_desc, out, disc_at(n, i)));
}

HRE_API int hre_node_discouraged_clear(hre_node *n)
{
    HRE__API_SCOPE;
    if (!n)
        return hre__fail(HRE_EINVAL, "hre_node_discouraged_clear: NULL node");
    if (n->fatal)
        return hre__fail(HRE_EFATAL, "hre_node_discouraged_clear: the node is fatal");
    if (n->in_cb || n->depth)
        return hre__fail(HRE_ESTATE, "hre_node_discouraged_clear: not allowed inside a node callback");
    n->n_disc = n->disc_start = 0;
    return hre__api_done(HRE_OK);
}

/* ------------------------------------------------------------------------ */
/* Replay cache                                                              */
/* ------------------------------------------------------------------------ */

int hre_node__replay_seen(hre_node *n, const uint8_t e[32])
{
    if (hre__map_get(&n->replay_map, e))
        return 1;
    if (!n->replay) {
        n->replay = hre_node__alloc(n, HRE_NODE__REPLAY_MAX * 32u);
        if (!n->replay)
            return 0;
    }
    if (n->replay_n == HRE_NODE__REPLAY_MAX)
        hre__map_del(&n->replay_map, n->replay[n->replay_next]);
    else
        n->replay_n++;
    memcpy(n->replay[n->replay_next], e, 32);
    if (hre__map_put(&n->replay_map, n->replay[n->replay_next], n->replay[n->replay_next]) != HRE_OK) {
        n->replay_n--;
        return 0;
    }
    n->replay_next = (n->replay_next + 1) % HRE_NODE__REPLAY_MAX;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Address book                                                              */
/* ------------------------------------------------------------------------ */

static hre_node__addr *book_find(const hre_node *n, const char *address)
{
    size_t i;
    for (i = 0; i < n->n_book; i++)
        if (strcmp(n->book[i].address, address) == 0)
            return &n->book[i];
    return NULL;
}

static int addr_ok(const char *address)
{
    size_t l = address ? strlen(address) : 0;
    return l >= 1 && l <= HRE_NODE_ADDRESS_MAX;
}

HRE_API int hre_node_address_add(hre_node *n, const char *address, unsigned int flags, uint64_t now)
{
    HRE__API_SCOPE;
    hre_node__addr *a;
    int rc;
    if (!addr_ok(address) || (flags & ~HRE_NODE_ADDR_PERSISTENT))
        return hre__fail(HRE_EINVAL, "hre_node_address_add: address of 1..%d bytes and known flags",
                         HRE_NODE_ADDRESS_MAX);
    if ((rc = hre_node__enter(n, now, "hre_node_address_add")) != HRE_OK)
        return rc;
    a = book_find(n, address);
    if (a) {
        a->flags = flags;
        return hre_node__leave(n, hre__fail(HRE_EEXISTS, "hre_node_address_add: %s is in the book", address));
    }
    if (n->n_book >= HRE_NODE__BOOK_MAX)
        return hre_node__leave(n, hre__fail(HRE_ELIMIT, "hre_node_address_add: the book holds %u entries",
                                            HRE_NODE__BOOK_MAX));
    a = hre_node__realloc(n, n->book, (n->n_book + 1) * sizeof *a);
    if (!a)
        return hre_node__leave(n, hre__fail(HRE_ENOMEM, "hre_node_address_add: out of memory"));
    n->book = a;
    a = &n->book[n->n_book++];
    memset(a, 0, sizeof *a);
    snprintf(a->address, sizeof a->address, "%s", address);
    a->flags = flags;
    a->backoff = n->reconnect_ms;
    a->next_try = n->now;
    return hre__api_done(hre_node__leave(n, HRE_OK));
}

HRE_API int hre_node_address_remove(hre_node *n, const char *address)
{
    HRE__API_SCOPE;
    hre_node__addr *a;
    int rc;
    if (!addr_ok(address))
        return hre__fail(HRE_EINVAL, "hre_node_address_remove: bad address");
    if ((rc = hre_node__enter(n, n ? n->now : 0, "hre_node_address_remove")) != HRE_OK)
        return rc;
    a = book_find(n, address);
    if (!a)
        return hre_node__leave(n, hre__fail(HRE_ENOTFOUND, "hre_node_address_remove: %s is not in the book",
                                            address));
    *a = n->book[--n->n_book];
    return hre__api_done(hre_node__leave(n, HRE_OK));
}

/* Outbound connections: live outbound peers plus book attempts the host
 * has not reported connected yet; *pending gets the attempts alone (they
 * hold a slot of max_peers but are not in n->peers). */
static size_t outbound_count(const hre_node *n, size_t *pending)
{
    size_t i, k = 0, w = 0;
    for (i = 0; i < n->n_peers; i++)
        if (!n->peers[i]->closing && (n->peers[i]->flags & HRE_NODE_PEER_OUTBOUND))
            k++;
    for (i = 0; i < n->n_book; i++)
        if (n->book[i].connected == 2)
            w++;
    *pending = w;
    return k + w;
}

static int connected_to(const hre_node *n, const char *address)
{
    size_t i;
    for (i = 0; i < n->n_peers; i++)
        if (!n->peers[i]->closing && strcmp(n->peers[i]->address, address) == 0)
            return 1;
    return 0;
}

static int try_connect(hre_node *n, hre_node__addr *a)
{
    uint64_t conn = 0;
    int rc = n->tm.connect(n->tud, &conn, a->address);
    if (rc != HRE_OK) {
        a->next_try = n->now + a->backoff;
        a->backoff = a->backoff * 2 > 64u * n->reconnect_ms ? 64u * n->reconnect_ms : a->backoff * 2;
        return rc;
    }
    a->conn = conn;
    a->connected = 2;
    return HRE_OK;
}

/* The one dialling rule, shared by book_step (which dials an entry once
 * now >= next_try) and book_timers (which reports next_try): an entry is
 * dialled only if it is not connected or being dialled, not discouraged,
 * a slot of max_peers is free, and either it is persistent or fewer than
 * target_outbound outbound connections exist. An entry this refuses has no
 * timer, so a host that follows hre_node_next_timer never spins on it; it
 * becomes due again when a connection closes (the count drops). */
static int book_dialable(const hre_node *n, const hre_node__addr *a, size_t out, size_t pending)
{
    if (a->connected || connected_to(n, a->address) || hre_node__is_discouraged(n, a->address, NULL))
        return 0;
    if (n->n_peers + pending >= n->max_peers)
        return 0;
    return (a->flags & HRE_NODE_ADDR_PERSISTENT) || out < n->target_outbound;
}

void hre_node__book_step(hre_node *n)
{
    size_t i, out, pending;
    int pass;
    if (!n->tm.connect || n->fatal)
        return;
    out = outbound_count(n, &pending);
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < n->n_book; i++) {
            hre_node__addr *a = &n->book[i];
            int persistent = (a->flags & HRE_NODE_ADDR_PERSISTENT) != 0;
            if (pass == 0 ? !persistent : persistent)
                continue;
            if (n->now < a->next_try || !book_dialable(n, a, out, pending))
                continue;
            if (try_connect(n, a) == HRE_OK) {
                out++;
                pending++;
            }
        }
    }
}

void hre_node__book_timers(const hre_node *n, uint64_t *when)
{
    size_t i, out, pending;
    if (!n->tm.connect || n->fatal)
        return;
    out = outbound_count(n, &pending);
    for (i = 0; i < n->n_book; i++) {
        const hre_node__addr *a = &n->book[i];
        if (a->next_try < *when && book_dialable(n, a, out, pending))
            *when = a->next_try;
    }
}

void hre_node__book_on_connected(hre_node *n, hre_node__peer *p)
{
    size_t i;
    for (i = 0; i < n->n_book; i++) {
        hre_node__addr *a = &n->book[i];
        if ((a->connected == 2 && a->conn == p->conn) || (!a->connected && strcmp(a->address, p->address) == 0 &&
                                                          (p->flags & HRE_NODE_PEER_OUTBOUND))) {
            a->connected = 1;
            a->conn = p->conn;
            a->backoff = n->reconnect_ms;
        }
    }
}

int hre_node__book_pending(const hre_node *n, uint64_t conn)
{
    size_t i;
    for (i = 0; i < n->n_book; i++)
        if (n->book[i].connected == 2 && n->book[i].conn == conn)
            return 1;
    return 0;
}

void hre_node__book_on_close(hre_node *n, uint64_t conn)
{
    size_t i;
    for (i = 0; i < n->n_book; i++) {
        hre_node__addr *a = &n->book[i];
        if (a->connected && a->conn == conn) {
            a->connected = 0;
            a->next_try = n->now + a->backoff;
            a->backoff = a->backoff * 2 > 64u * n->reconnect_ms ? 64u * n->reconnect_ms : a->backoff * 2;
        }
    }
}

HRE_API int hre_node_connect(hre_node *n, uint64_t *conn, const char *address, uint64_t now)
{
    HRE__API_SCOPE;
    uint64_t c = 0;
    hre_node__addr *a;
    int rc;
    if (conn)
        *conn = 0;
    if (!addr_ok(address))
        return hre__fail(HRE_EINVAL, "hre_node_connect: bad address");
    if ((rc = hre_node__enter(n, now, "hre_node_connect")) != HRE_OK)
        return rc;
    if (!n->tm.connect)
        return hre_node__leave(n, hre__fail(HRE_EUNSUPPORTED, "hre_node_connect: the transport has no connect"));
    if (hre_node__is_discouraged(n, address, NULL))
        return hre_node__leave(n, hre__fail(HRE_EAUTH, "hre_node_connect: %s is discouraged", address));
    if (n->n_peers >= n->max_peers)
        return hre_node__leave(n, hre__fail(HRE_ELIMIT, "hre_node_connect: %u peers", n->max_peers));
    rc = n->tm.connect(n->tud, &c, address);
    if (rc != HRE_OK)
        return hre_node__leave(n, hre__fail(rc, "hre_node_connect: the transport refused: %s", hre_strerror(rc)));
    a = book_find(n, address);
    if (a && !a->connected) {
        a->conn = c;
        a->connected = 2;
    }
    if (conn)
        *conn = c;
    return hre__api_done(hre_node__leave(n, HRE_OK));
}
