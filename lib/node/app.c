/*
 * Application messages (node.h, "the vault's extension point"; PROTOCOL.md
 * 12.8): handlers per 16-bit type, live members only, a cap per message,
 * token buckets per peer and direction, back-pressure with an APP_WRITABLE
 * event.
 */
#include <string.h>

#include "node/internal.h"

/* Buckets hold 2 s worth of the rate; tokens are kept in thousandths. */
#define BURST_S 2u

void hre_node__bucket_init(hre_node__bucket *b, uint64_t rate, uint64_t now)
{
    b->tokens = rate * BURST_S * 1000u;
    b->at = now;
}

static void refill(hre_node__bucket *b, uint64_t rate, uint64_t now)
{
    uint64_t cap = rate * BURST_S * 1000u;
    if (now > b->at) {
        uint64_t dt = now - b->at;   /* ms: rate per second = rate thousandths per ms */
        uint64_t add = dt > UINT64_MAX / (rate ? rate : 1) ? cap : dt * rate;
        b->tokens = b->tokens + add > cap || b->tokens + add < b->tokens ? cap : b->tokens + add;
        b->at = now;
    }
}

uint64_t hre_node__bucket_avail(const hre_node__bucket *b, uint64_t rate, uint64_t now)
{
    hre_node__bucket c = *b;
    refill(&c, rate, now);
    return c.tokens / 1000u;
}

int hre_node__bucket_take(hre_node__bucket *b, uint64_t rate, uint64_t amount, uint64_t now)
{
    refill(b, rate, now);
    if (b->tokens / 1000u < amount)
        return 0;
    b->tokens -= amount * 1000u;
    return 1;
}

static const hre_node__app *app_find(const hre_node *n, uint16_t type)
{
    size_t i;
    for (i = 0; i < n->n_apps; i++)
        if (n->apps[i].type == type)
            return &n->apps[i];
    return NULL;
}

HRE_API int hre_node_app_register(hre_node *n, uint16_t app_type, hre_node_app_fn fn, void *user_data)
{
    HRE__API_SCOPE;
    size_t i;
    if (!n || app_type == 0)
        return hre__fail(HRE_EINVAL, "hre_node_app_register: NULL node or app type 0");
    if (n->fatal)
        return hre__fail(HRE_EFATAL, "hre_node_app_register: the node is fatal");
    if (n->in_cb || n->depth)
        return hre__fail(HRE_ESTATE, "hre_node_app_register: not allowed inside a node callback");
    for (i = 0; i < n->n_apps; i++)
        if (n->apps[i].type == app_type)
            break;
    if (!fn) {
        if (i == n->n_apps)
            return hre__fail(HRE_ENOTFOUND, "hre_node_app_register: no handler for app type %u", app_type);
        n->apps[i] = n->apps[--n->n_apps];
        return hre__api_done(HRE_OK);
    }
    if (i < n->n_apps)
        return hre__fail(HRE_EEXISTS, "hre_node_app_register: app type %u has a handler", app_type);
    {
        hre_node__app *na = hre_node__realloc(n, n->apps, (n->n_apps + 1) * sizeof *na);
        if (!na)
            return hre__fail(HRE_ENOMEM, "hre_node_app_register: out of memory");
        n->apps = na;
    }
    n->apps[n->n_apps].type = app_type;
    n->apps[n->n_apps].fn = fn;
    n->apps[n->n_apps].ud = user_data;
    n->n_apps++;
    return hre__api_done(HRE_OK);
}

void hre_node__on_app(hre_node *n, hre_node__peer *p, const uint8_t *d, size_t len)
{
    hre_node_app_message m;
    const hre_node__app *a;
    uint16_t type;
    const uint8_t *data;
    size_t dlen;
    if (hre_node__app_decode(&type, &data, &dlen, d, len) != HRE_OK) {
        hre_node__close(n, p, HRE_NODE_REASON_MALFORMED, 1, "app message does not decode");
        return;
    }
    if (p->member != HRE_NODE_MEMBER_LIVE || n->member != HRE_NODE_MEMBER_LIVE) {
        hre_node__emit(n, HRE_NODE_EVENT_REFUSED, p->conn, HRE_NODE_REASON_NOT_MEMBER,
                       "app message outside live members", NULL, NULL, 0, 0);
        return;
    }
    if (!hre_node__bucket_take(&p->in_msgs, n->app_rate_msgs, 1, n->now) ||
        !hre_node__bucket_take(&p->in_bytes_b, n->app_rate_bytes, dlen, n->now)) {
        hre_node__emit(n, HRE_NODE_EVENT_REFUSED, p->conn, HRE_NODE_REASON_RATE_LIMITED,
                       "app message over the peer's rate: dropped", NULL, NULL, 0, 0);
        return;
    }
    a = app_find(n, type);
    if (!a) {
        hre_node__emit(n, HRE_NODE_EVENT_REFUSED, p->conn, HRE_NODE_REASON_APP_UNKNOWN,
                       "app message of a type with no handler", NULL, NULL, 0, 0);
        return;
    }
    memset(&m, 0, sizeof m);
    m.version = HRE_NODE_APP_MESSAGE_VERSION;
    m.app_type = type;
    m.conn = p->conn;
    m.data = data;
    m.len = dlen;
    memcpy(m.peer_key, p->key, 34);
    memcpy(m.peer_address, p->member_addr, 32);
    memcpy(m.peer_org, p->org, 32);
    memcpy(m.handshake_hash, p->hh, 32);
    m.now = n->now;
    {
        int was = n->in_cb;
        n->in_cb = 1;
        a->fn(a->ud, n, &m);
        n->in_cb = was;
    }
}

/* What app_send would accept now (0: back-pressure). */
static size_t space_of(const hre_node *n, const hre_node__peer *p)
{
    uint64_t room, msgs, bytes;
    size_t q = hre_node__queued(p) + p->pt_len;
    if (q >= n->peer_send_max / 2)
        return 0;
    room = n->peer_send_max / 2 - q;
    msgs = hre_node__bucket_avail(&p->out_msgs, n->app_rate_msgs, n->now);
    bytes = hre_node__bucket_avail(&p->out_bytes_b, n->app_rate_bytes, n->now);
    if (msgs == 0)
        return 0;
    if (room > bytes)
        room = bytes;
    if (room > n->app_max_message)
        room = n->app_max_message;
    return (size_t)room;
}

static int check_peer(const hre_node *n, const hre_node__peer *p, uint64_t conn)
{
    if (!p)
        return hre__fail(HRE_ENOTFOUND, "app: connection %llu is not live", (unsigned long long)conn);
    if (p->state != NODE__READY)
        return hre__fail(HRE_ESTATE, "app: connection %llu is not ready", (unsigned long long)conn);
    if (n->member != HRE_NODE_MEMBER_LIVE)
        return hre__fail(HRE_EAUTH, "app: this node is not a live member");
    if (p->member != HRE_NODE_MEMBER_LIVE)
        return hre__fail(HRE_EAUTH, "app: connection %llu is not a live member", (unsigned long long)conn);
    return HRE_OK;
}

HRE_API int hre_node_app_send(hre_node *n, uint64_t conn, uint16_t app_type, const uint8_t *data, size_t len,
                              uint64_t now)
{
    HRE__API_SCOPE;
    hre_node__peer *p;
    uint8_t t[2];
    int rc, outer;
    if (!n || app_type == 0 || (!data && len))
        return hre__fail(HRE_EINVAL, "hre_node_app_send: NULL argument or app type 0");
    if (n->fatal)
        return hre__fail(HRE_EFATAL, "hre_node_app_send: the node is fatal");
    if (now > n->now)
        n->now = now;
    p = hre_node__peer_find(n, conn);
    if ((rc = check_peer(n, p, conn)) != HRE_OK)
        return rc;
    if (len > n->app_max_message)
        return hre__fail(HRE_ELIMIT, "hre_node_app_send: %zu bytes over app_max_message %u", len,
                         n->app_max_message);
    if (space_of(n, p) < len || !hre_node__bucket_take(&p->out_msgs, n->app_rate_msgs, 1, n->now) ||
        !hre_node__bucket_take(&p->out_bytes_b, n->app_rate_bytes, len, n->now)) {
        p->app_blocked = 1;
        return hre__fail(HRE_EAGAIN, "hre_node_app_send: back-pressure; wait for APP_WRITABLE");
    }
    hre__put_le16(t, app_type);
    outer = !n->in_cb && !n->depth;
    if (outer)
        n->depth = 1;
    rc = hre_node__send(n, p, HRE_NODE__CMD_APP, t, 2, data, len);
    if (rc != HRE_OK && !p->closing)
        rc = hre__fail(rc == HRE_ELIMIT ? HRE_EAGAIN : rc, "hre_node_app_send: could not queue");
    else if (rc != HRE_OK)
        rc = hre__fail(HRE_ENOTFOUND, "hre_node_app_send: the connection was closed (send queue)");
    if (outer)
        return rc == HRE_OK ? hre__api_done(hre_node__leave(n, HRE_OK)) : hre_node__leave(n, rc);
    return rc == HRE_OK ? hre__api_done(HRE_OK) : rc;
}

HRE_API int hre_node_app_send_space(const hre_node *n, size_t *space, uint64_t conn, uint64_t now)
{
    HRE__API_SCOPE;
    const hre_node__peer *p;
    int rc;
    if (space)
        *space = 0;
    if (!n || !space)
        return hre__fail(HRE_EINVAL, "hre_node_app_send_space: NULL argument");
    if (n->fatal)
        return hre__fail(HRE_EFATAL, "hre_node_app_send_space: the node is fatal");
    (void)now;
    p = hre_node__peer_find(n, conn);
    if ((rc = check_peer(n, p, conn)) != HRE_OK)
        return rc;
    *space = space_of(n, p);
    return hre__api_done(HRE_OK);
}

void hre_node__app_step(hre_node *n, hre_node__peer *p)
{
    if (!p->app_blocked || p->closing || p->state != NODE__READY)
        return;
    if (space_of(n, p) > 0) {
        p->app_blocked = 0;
        hre_node__emit(n, HRE_NODE_EVENT_APP_WRITABLE, p->conn, 0, "", NULL, NULL, 0, 0);
    }
}
