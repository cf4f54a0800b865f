/*
 * The node handle: options, lifecycle, memory accounting, events and the
 * fatal state, the ledger listener, the public entry points for
 * connections, timers and queries, and the scheduler every entry point
 * ends with (process waiting messages round-robin within the work budget,
 * run the sync and relay steps, reap closed peers, flush).
 */
#include <stdio.h>
#include <string.h>

#include "hre/hash.h"
#include "hre/key.h"
#include "hre/pow.h"
#include "node/internal.h"

/* ------------------------------------------------------------------------ */
/* Reasons                                                                   */
/* ------------------------------------------------------------------------ */

HRE_API const char *hre_node_reason_name(int reason)
{
    switch (reason) {
    case HRE_NODE_REASON_NONE: return "none";
    case HRE_NODE_REASON_HOST_CLOSED: return "host-closed";
    case HRE_NODE_REASON_LOCAL: return "local";
    case HRE_NODE_REASON_TRANSPORT: return "transport";
    case HRE_NODE_REASON_TOO_MANY_PEERS: return "too-many-peers";
    case HRE_NODE_REASON_DISCOURAGED: return "discouraged";
    case HRE_NODE_REASON_RESOURCES: return "resources";
    case HRE_NODE_REASON_DUPLICATE: return "duplicate";
    case HRE_NODE_REASON_HANDSHAKE_TIMEOUT: return "handshake-timeout";
    case HRE_NODE_REASON_BAD_MAGIC: return "bad-magic";
    case HRE_NODE_REASON_WRONG_NETWORK: return "wrong-network";
    case HRE_NODE_REASON_HANDSHAKE_FAILED: return "handshake-failed";
    case HRE_NODE_REASON_REPLAY: return "replay";
    case HRE_NODE_REASON_IDENTITY_INVALID: return "identity-invalid";
    case HRE_NODE_REASON_IDENTITY_MALFORMED: return "identity-malformed";
    case HRE_NODE_REASON_SELF_CONNECTION: return "self-connection";
    case HRE_NODE_REASON_WRONG_PARAMS: return "wrong-params";
    case HRE_NODE_REASON_OLD_VERSION: return "old-version";
    case HRE_NODE_REASON_NOT_MEMBER: return "not-member";
    case HRE_NODE_REASON_KEY_SUSPENDED: return "key-suspended";
    case HRE_NODE_REASON_ORG_SUSPENDED: return "org-suspended";
    case HRE_NODE_REASON_KEY_ROTATED: return "key-rotated";
    case HRE_NODE_REASON_DECRYPT: return "decrypt";
    case HRE_NODE_REASON_OVERSIZE: return "oversize";
    case HRE_NODE_REASON_MALFORMED: return "malformed";
    case HRE_NODE_REASON_NONCE_EXHAUSTED: return "nonce-exhausted";
    case HRE_NODE_REASON_HEADERS_OVER_CAP: return "headers-over-cap";
    case HRE_NODE_REASON_LOCATOR_OVER_CAP: return "locator-over-cap";
    case HRE_NODE_REASON_INV_OVER_CAP: return "inv-over-cap";
    case HRE_NODE_REASON_GETDATA_OVER_CAP: return "getdata-over-cap";
    case HRE_NODE_REASON_INVALID_POW: return "invalid-pow";
    case HRE_NODE_REASON_NON_CONNECTING: return "non-connecting";
    case HRE_NODE_REASON_NON_CONTINUOUS: return "non-continuous";
    case HRE_NODE_REASON_INVALID_HEADER: return "invalid-header";
    case HRE_NODE_REASON_INVALID_BLOCK: return "invalid-block";
    case HRE_NODE_REASON_RECV_BUFFER: return "recv-buffer";
    case HRE_NODE_REASON_SEND_BUFFER: return "send-buffer";
    case HRE_NODE_REASON_STALLING: return "stalling";
    case HRE_NODE_REASON_TIMEOUT: return "timeout";
    case HRE_NODE_REASON_RATE_LIMITED: return "rate-limited";
    case HRE_NODE_REASON_APP_UNKNOWN: return "app-unknown";
    case HRE_NODE_REASON_TIME_FUTURE: return "time-future";
    case HRE_NODE_REASON_FATAL: return "fatal";
    default: return "unknown";
    }
}

HRE_API int hre_node_reason_discourages(int reason)
{
    switch (reason) {
    case HRE_NODE_REASON_OVERSIZE:
    case HRE_NODE_REASON_HEADERS_OVER_CAP:
    case HRE_NODE_REASON_LOCATOR_OVER_CAP:
    case HRE_NODE_REASON_INV_OVER_CAP:
    case HRE_NODE_REASON_GETDATA_OVER_CAP:
    case HRE_NODE_REASON_INVALID_POW:
    case HRE_NODE_REASON_NON_CONNECTING:
    case HRE_NODE_REASON_NON_CONTINUOUS:
    case HRE_NODE_REASON_INVALID_HEADER:
    case HRE_NODE_REASON_INVALID_BLOCK:
        return 1;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------------ */
/* Versioned structs                                                         */
/* ------------------------------------------------------------------------ */

static const size_t options_sizes[] = { 0, HRE__END(hre_node_options, reconnect_ms) };
static const hre__vstruct options_desc = { "hre_node_options", HRE_NODE_OPTIONS_VERSION, options_sizes };
_Static_assert(sizeof options_sizes / sizeof options_sizes[0] == HRE_NODE_OPTIONS_VERSION + 1,
               "one size per hre_node_options version");

static const size_t info_sizes[] = { 0, HRE__END(hre_node_peer_info, send_queued) };
static const hre__vstruct info_desc = { "hre_node_peer_info", HRE_NODE_PEER_INFO_VERSION, info_sizes };
_Static_assert(sizeof info_sizes / sizeof info_sizes[0] == HRE_NODE_PEER_INFO_VERSION + 1,
               "one size per hre_node_peer_info version");

static const size_t stats_sizes[] = { 0, HRE__END(hre_node_stats, stall_timeout_ms) };
static const hre__vstruct stats_desc = { "hre_node_stats", HRE_NODE_STATS_VERSION, stats_sizes };
_Static_assert(sizeof stats_sizes / sizeof stats_sizes[0] == HRE_NODE_STATS_VERSION + 1,
               "one size per hre_node_stats version");

HRE_API int hre_node_options_init(hre_node_options *opts, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&options_desc, opts, version));
}

HRE_API int hre_node_peer_info_init(hre_node_peer_info *info, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&info_desc, info, version));
}

HRE_API int hre_node_stats_init(hre_node_stats *st, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&stats_desc, st, version));
}

/* ------------------------------------------------------------------------ */
/* Memory accounting                                                         */
/* ------------------------------------------------------------------------ */

#define ALLOC_HDR 16u

void hre_node__mem(hre_node *n, int64_t delta)
{
    if (delta < 0 && (uint64_t)-delta > n->mem_used)
        n->mem_used = 0;
    else
        n->mem_used = (uint64_t)((int64_t)n->mem_used + delta);
    if (n->mem_used > n->mem_peak)
        n->mem_peak = n->mem_used;
}

void *hre_node__alloc(hre_node *n, size_t size)
{
    uint8_t *p;
    if (size > SIZE_MAX - ALLOC_HDR)
        return NULL;
    p = hre__malloc(size + ALLOC_HDR);
    if (!p)
        return NULL;
    memcpy(p, &size, sizeof size);
    hre_node__mem(n, (int64_t)(size + ALLOC_HDR));
    return p + ALLOC_HDR;
}

void *hre_node__zalloc(hre_node *n, size_t size)
{
    void *p = hre_node__alloc(n, size);
    if (p)
        memset(p, 0, size);
    return p;
}

void *hre_node__realloc(hre_node *n, void *p, size_t size)
{
    uint8_t *b, *nb;
    size_t old;
    if (!p)
        return hre_node__alloc(n, size);
    if (size > SIZE_MAX - ALLOC_HDR)
        return NULL;
    b = (uint8_t *)p - ALLOC_HDR;
    memcpy(&old, b, sizeof old);
    nb = hre__realloc(b, size + ALLOC_HDR);
    if (!nb)
        return NULL;
    memcpy(nb, &size, sizeof size);
    hre_node__mem(n, (int64_t)size - (int64_t)old);
    return nb + ALLOC_HDR;
}

void hre_node__dealloc(hre_node *n, void *p)
{
    uint8_t *b;
    size_t old;
    if (!p)
        return;
    b = (uint8_t *)p - ALLOC_HDR;
    memcpy(&old, b, sizeof old);
    hre_node__mem(n, -(int64_t)(old + ALLOC_HDR));
    hre__free(b);
}

static void *map_zalloc(void *ctx, size_t size)
{
    return hre_node__zalloc(ctx, size);
}

static void map_dealloc(void *ctx, void *p)
{
    hre_node__dealloc(ctx, p);
}

void hre_node__map_init(hre__map *m, hre_node *n)
{
    hre__map_init(m, n->map_secret, HRE__MAP_SHRINK, map_zalloc, map_dealloc, n);
}

/* ------------------------------------------------------------------------ */
/* Events and the fatal state                                                */
/* ------------------------------------------------------------------------ */

void hre_node__emit(hre_node *n, unsigned int type, uint64_t conn, int reason, const char *detail,
                    const uint8_t hash[32], const hre_ledger_event *lev, int member, int disc)
{
    hre_node_event ev;
    int was;
    if (!n->on_event)
        return;
    memset(&ev, 0, sizeof ev);
    ev.version = HRE_NODE_EVENT_VERSION;
    ev.type = type;
    ev.conn = conn;
    ev.reason = reason;
    ev.discouraged = disc;
    ev.member = member;
    ev.detail = detail ? detail : "";
    if (hash)
        memcpy(ev.hash, hash, 32);
    ev.ledger = lev;
    ev.now = n->now;
    was = n->in_cb;
    n->in_cb = 1;
    n->on_event(n->ud, &ev);
    n->in_cb = was;
}

void hre_node__go_fatal(hre_node *n, int code, const char *what)
{
    char d[256];
    if (n->fatal)
        return;
    n->fatal = code ? code : HRE_EFATAL;
    snprintf(d, sizeof d, "%s: %s (%s)", what, hre_strerror(code), hre_error_detail());
    HRE_NODE__LOG(n, HRE_LOG_ERROR, "node is fatal: %s", d);
    hre_node__emit(n, HRE_NODE_EVENT_FATAL, 0, HRE_NODE_REASON_FATAL, d, NULL, NULL, 0, 0);
}

HRE_API int hre_node_fatal_error(const hre_node *n)
{
    if (!n)
        return HRE_EINVAL;
    return n->fatal;
}

HRE_API hre_ledger *hre_node_ledger(const hre_node *n)
{
    return n ? n->l : NULL;
}

/* ------------------------------------------------------------------------ */
/* The ledger listener                                                       */
/* ------------------------------------------------------------------------ */

static void on_ledger_event(void *ud, const hre_ledger_event *ev)
{
    hre_node *n = ud;
    if (n->prev_fn)
        n->prev_fn(n->prev_ud, ev);
    if (ev->type == HRE_LEDGER_EVENT_BLOCK_CONNECTED || ev->type == HRE_LEDGER_EVENT_BLOCK_DISCONNECTED) {
        n->chain_changed = 1;
        n->mempool_gen++;
        n->path_dirty = 1;
        if (ev->type == HRE_LEDGER_EVENT_BLOCK_DISCONNECTED)
            n->reorged = 1;
        else
            n->announce_tip = 1;
    }
    hre_node__emit(n, HRE_NODE_EVENT_LEDGER, 0, 0, "", NULL, ev, 0, 0);
}

int hre_node__refresh_tip(hre_node *n)
{
    hre_ledger_block_info bi;
    int rc = hre_ledger_tip(n->l, &n->tip_height, n->tip);
    if (rc != HRE_OK)
        return rc;
    bi.version = HRE_LEDGER_BLOCK_INFO_VERSION;
    rc = hre_ledger_block_info_get(n->l, &bi, n->tip);
    if (rc != HRE_OK)
        return rc;
    memcpy(n->tip_work, bi.work, 32);
    return HRE_OK;
}

/* ------------------------------------------------------------------------ */
/* New and free                                                              */
/* ------------------------------------------------------------------------ */

#define DEF(field, def) (o.field ? o.field : (def))

HRE_API int hre_node_new(hre_node **out, const hre_node_options *opts, uint64_t now)
{
    HRE__API_SCOPE;
    hre_node_options o;
    hre_transport_methods tm;
    hre_node *n;
    uint8_t rnd[24];
    int rc;

    if (out)
        *out = NULL;
    if (!out || !opts)
        return hre__fail(HRE_EINVAL, "hre_node_new: NULL argument");
    if ((rc = hre__vstruct_in(&options_desc, &o, opts)) != HRE_OK)
        return rc;
    if (!o.ledger)
        return hre__fail(HRE_EINVAL, "hre_node_new: options.ledger is required");
    if (!o.transport)
        return hre__fail(HRE_EINVAL, "hre_node_new: options.transport is required");
    if ((rc = hre__vstruct_in(&hre_node__transport_desc, &tm, o.transport)) != HRE_OK)
        return rc;
    if (o.app_max_message > HRE_NODE_APP_MESSAGE_LIMIT)
        return hre__fail(HRE_EINVAL, "hre_node_new: app_max_message %u over %u", o.app_max_message,
                         HRE_NODE_APP_MESSAGE_LIMIT);
    if ((uint64_t)DEF(app_rate_bytes, HRE_NODE_DEFAULT_APP_RATE_BYTES) * 2u <
        DEF(app_max_message, HRE_NODE_DEFAULT_APP_MAX_MESSAGE))
        return hre__fail(HRE_EINVAL, "hre_node_new: app_rate_bytes must allow one app_max_message "
                                     "message per 2 s (the bucket's burst)");
    n = hre__calloc(1, sizeof *n);
    if (!n)
        return hre__fail(HRE_ENOMEM, "hre_node_new: out of memory");
    n->l = o.ledger;
    n->identity = o.identity;
    n->tm = tm;
    n->tud = o.transport_user_data;
    n->on_event = o.on_event;
    n->ud = o.user_data;
    n->log_fn = o.log_fn;
    n->log_ud = o.log_user_data;
    n->now = now;
    n->max_peers = DEF(max_peers, HRE_NODE_DEFAULT_MAX_PEERS);
    n->target_outbound = DEF(target_outbound, HRE_NODE_DEFAULT_TARGET_OUTBOUND);
    n->max_memory = DEF(max_memory, HRE_NODE_DEFAULT_MAX_MEMORY);
    n->peer_send_max = DEF(peer_send_max, HRE_NODE_DEFAULT_PEER_SEND_MAX);
    n->max_headers = DEF(max_headers, HRE_NODE_DEFAULT_MAX_HEADERS);
    n->max_headers_per_peer = DEF(max_headers_per_peer, HRE_NODE_DEFAULT_MAX_HEADERS_PER_PEER);
    n->block_window = DEF(block_window, HRE_NODE_DEFAULT_BLOCK_WINDOW);
    n->blocks_in_flight = DEF(blocks_in_flight, HRE_NODE_DEFAULT_BLOCKS_IN_FLIGHT);
    n->block_buffer_max = DEF(block_buffer_max, HRE_NODE_DEFAULT_BLOCK_BUFFER_MAX);
    n->stall_timeout_ms = DEF(stall_timeout_ms, HRE_NODE_DEFAULT_STALL_TIMEOUT_MS);
    n->stall_max_ms = DEF(stall_timeout_max_ms, HRE_NODE_DEFAULT_STALL_TIMEOUT_MAX_MS);
    n->handshake_timeout_ms = DEF(handshake_timeout_ms, HRE_NODE_DEFAULT_HANDSHAKE_TIMEOUT_MS);
    n->ping_interval_ms = DEF(ping_interval_ms, HRE_NODE_DEFAULT_PING_INTERVAL_MS);
    n->ping_timeout_ms = DEF(ping_timeout_ms, HRE_NODE_DEFAULT_PING_TIMEOUT_MS);
    n->request_timeout_ms = DEF(request_timeout_ms, HRE_NODE_DEFAULT_REQUEST_TIMEOUT_MS);
    n->max_discouraged = DEF(max_discouraged, HRE_NODE_DEFAULT_MAX_DISCOURAGED);
    n->app_max_message = DEF(app_max_message, HRE_NODE_DEFAULT_APP_MAX_MESSAGE);
    n->app_rate_msgs = DEF(app_rate_msgs, HRE_NODE_DEFAULT_APP_RATE_MSGS);
    n->app_rate_bytes = DEF(app_rate_bytes, HRE_NODE_DEFAULT_APP_RATE_BYTES);
    n->work_budget = DEF(work_budget, HRE_NODE_DEFAULT_WORK_BUDGET);
    n->submit_batch = DEF(submit_batch, HRE_NODE_DEFAULT_SUBMIT_BATCH);
    n->reconnect_ms = DEF(reconnect_ms, HRE_NODE_DEFAULT_RECONNECT_MS);
    if (n->stall_max_ms < n->stall_timeout_ms)
        n->stall_max_ms = n->stall_timeout_ms;
    n->stall_ms = n->stall_timeout_ms;
    if (n->peer_send_max < 2u * (HRE_NOISE__MAX_MSG + 2u))
        n->peer_send_max = 2u * (HRE_NOISE__MAX_MSG + 2u);

    n->params.version = HRE_CHAIN_PARAMS_VERSION;
    rc = hre_ledger_params(n->l, &n->params);
    if (rc == HRE_OK)
        rc = hre_ledger_network_id(n->l, n->network_id);
    if (rc == HRE_OK)
        rc = hre_ledger_fingerprint(n->l, n->fingerprint);
    if (rc == HRE_OK)
        rc = hre_node__refresh_tip(n);
    if (rc != HRE_OK)
        goto fail;
    /* Receive cap: two of the largest messages (a block) and a frame. */
    n->peer_recv_max = 2u * n->params.max_block_size + 2u * HRE_NOISE__MAX_MSG;
    if (n->peer_recv_max < 8u * 1024u * 1024u)
        n->peer_recv_max = 8u * 1024u * 1024u;
    memcpy(n->magic, n->network_id, 4);
    hre_node__prologue(n->prologue, n->network_id);
    if ((rc = hre_random_bytes(rnd, sizeof rnd)) != HRE_OK)
        goto fail;
    n->nonce = hre__le64(rnd);
    memcpy(n->map_secret, rnd + 8, sizeof n->map_secret);
    hre_wipe(rnd, sizeof rnd);
    hre_node__map_init(&n->hdr_map, n);
    hre_node__map_init(&n->txreq_map, n);
    n->txreq_due = UINT64_MAX;
    hre_node__map_init(&n->recent_rej, n);
    hre_node__map_init(&n->replay_map, n);
    n->next_uid = 1;
    if ((rc = hre_x25519__generate(&n->stat)) != HRE_OK) {
        rc = hre__fail(rc, "hre_node_new: X25519 key generation failed");
        goto fail;
    }
    n->scratch = hre_node__alloc(n, HRE_NOISE__MAX_MSG);
    if (!n->scratch) {
        rc = hre__fail(HRE_ENOMEM, "hre_node_new: out of memory");
        goto fail;
    }
    if (n->identity) {
        hre_pubkey *pk = NULL;
        rc = hre_key_pubkey(n->identity, &pk);
        if (rc == HRE_OK)
            rc = hre_pubkey_serialize_wire(pk, n->identity_key);
        hre_pubkey_free(pk);
        if (rc != HRE_OK)
            goto fail;
        n->member = hre_node__membership(n, n->identity_key, NULL, NULL);
    }
    hre_ledger_event_callback(n->l, &n->prev_fn, &n->prev_ud);
    hre_ledger_set_event_callback(n->l, on_ledger_event, n);
    HRE_NODE__LOG(n, HRE_LOG_INFO, "node up: tip height %llu, %s identity",
                  (unsigned long long)n->tip_height, n->identity ? "with an" : "without");
    *out = n;
    return hre__api_done(HRE_OK);
fail:
    hre_node__dealloc(n, n->scratch);
    hre_x25519__clear(&n->stat);
    hre__free(n);
    return rc;
}

HRE_API void hre_node_free(hre_node *n)
{
    size_t i;
    if (!n)
        return;
    hre_ledger_set_event_callback(n->l, n->prev_fn, n->prev_ud);
    for (i = 0; i < n->n_peers; i++)
        hre_node__peer_free(n, n->peers[i]);
    hre_node__dealloc(n, n->peers);
    hre_node__sync_free(n);
    hre_node__relay_free(n);
    hre_node__mine_free(n);
    hre_node__dealloc(n, n->book);
    hre_node__dealloc(n, n->disc);
    hre_node__dealloc(n, n->apps);
    hre_node__dealloc(n, n->replay);
    hre__map_free(&n->replay_map);
    hre_node__dealloc(n, n->scratch);
    hre_x25519__clear(&n->stat);
    hre_wipe(n, sizeof *n);
    hre__free(n);
}

/* ------------------------------------------------------------------------ */
/* Peers: lookup and the scheduler                                           */
/* ------------------------------------------------------------------------ */

hre_node__peer *hre_node__peer_find(const hre_node *n, uint64_t conn)
{
    size_t i;
    for (i = 0; i < n->n_peers; i++)
        if (n->peers[i]->conn == conn && !n->peers[i]->closing)
            return n->peers[i];
    return NULL;
}

hre_node__peer *hre_node__peer_by_uid(const hre_node *n, uint64_t uid)
{
    size_t i;
    for (i = 0; i < n->n_peers; i++)
        if (n->peers[i]->uid == uid)
            return n->peers[i];
    return NULL;
}

/* Remove closed peers: their bookkeeping, the event, the vtable's close. */
static void reap(hre_node *n)
{
    size_t i = 0;
    while (i < n->n_peers) {
        hre_node__peer *p = n->peers[i];
        char detail[sizeof p->close_detail];
        uint64_t conn;
        int reason, call, disc;
        if (!p->closing) {
            i++;
            continue;
        }
        hre_node__sync_on_close(n, p);
        hre_node__relay_on_close(n, p);
        hre_node__book_on_close(n, p->conn);
        conn = p->conn;
        reason = p->close_reason;
        call = p->close_call;
        disc = p->discouraged;
        memcpy(detail, p->close_detail, sizeof detail);
        n->peers[i] = n->peers[--n->n_peers];
        hre_node__peer_free(n, p);
        hre_node__emit(n, HRE_NODE_EVENT_PEER_DISCONNECTED, conn, reason, detail, NULL, NULL, 0, disc);
        if (call && n->tm.close && !n->fatal)
            n->tm.close(n->tud, conn, reason);
    }
}

static void run(hre_node *n)
{
    size_t round, i, k;
    int again;
    if (n->fatal)
        return;
    for (round = 0; round < 4; round++) {
        /* Messages: each peer up to its budget, starting at a rotating peer. */
        if (n->n_peers) {
            size_t start = n->rr++ % n->n_peers;
            for (k = 0; k < n->n_peers && !n->fatal; k++) {
                i = (start + k) % n->n_peers;
                if (i < n->n_peers && !n->peers[i]->closing)
                    hre_node__peer_work(n, n->peers[i]);
            }
        }
        if (n->fatal)
            return;
        if (n->chain_changed) {
            n->chain_changed = 0;
            if (hre_node__refresh_tip(n) != HRE_OK) {
                hre_node__go_fatal(n, hre_error_last(), "reading the ledger's tip");
                return;
            }
            hre_node__recheck_members(n);
        }
        hre_node__relay_step(n);
        hre_node__sync_step(n, 0);
        hre_node__book_step(n);
        for (i = 0; i < n->n_peers; i++)
            hre_node__app_step(n, n->peers[i]);
        reap(n);
        for (i = 0; i < n->n_peers; i++)
            hre_node__flush(n, n->peers[i]);
        again = 0;
        for (i = 0; i < n->n_peers; i++)
            if (n->peers[i]->closing)
                again = 1;
        reap(n);
        if (!again && !n->chain_changed)
            break;
    }
}

/* Entry point discipline: argument checks, the fatal state, re-entrancy. */
static int enter(hre_node *n, uint64_t now, const char *fn)
{
    size_t i;
    if (!n)
        return hre__fail(HRE_EINVAL, "%s: NULL node", fn);
    if (n->fatal)
        return hre__fail(HRE_EFATAL, "%s: the node is fatal (%s); only free and queries remain",
                         fn, hre_strerror(n->fatal));
    if (n->in_cb || n->depth)
        return hre__fail(HRE_ESTATE, "%s: not allowed inside a node callback", fn);
    n->depth = 1;
    if (now > n->now)
        n->now = now;
    for (i = 0; i < n->n_peers; i++)
        n->peers[i]->budget_used = 0;
    return HRE_OK;
}

static int leave(hre_node *n, int rc)
{
    char why[256];
    if (rc != HRE_OK)
        snprintf(why, sizeof why, "%s", hre_error_detail());
    run(n);
    n->depth = 0;
    if (rc != HRE_OK)
        return hre__fail(rc, "%s", why);
    if (n->fatal)
        return hre__fail(HRE_EFATAL, "the node became fatal: %s", hre_strerror(n->fatal));
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Connections                                                               */
/* ------------------------------------------------------------------------ */

static int peers_reserve(hre_node *n)
{
    hre_node__peer **np;
    size_t nc;
    if (n->n_peers < n->cap_peers)
        return HRE_OK;
    nc = n->cap_peers ? n->cap_peers * 2 : 8;
    np = hre_node__realloc(n, n->peers, nc * sizeof *np);
    if (!np)
        return hre__fail(HRE_ENOMEM, "node: out of memory");
    n->peers = np;
    n->cap_peers = nc;
    return HRE_OK;
}

HRE_API int hre_node_peer_connected(hre_node *n, uint64_t conn, const char *address, unsigned int flags,
                                    uint64_t now)
{
    HRE__API_SCOPE;
    hre_node__peer *p;
    size_t alen = address ? strlen(address) : 0;
    int rc = enter(n, now, "hre_node_peer_connected");
    if (rc != HRE_OK)
        return rc;
    if (alen > HRE_NODE_ADDRESS_MAX || (flags & ~HRE_NODE_PEER_OUTBOUND)) {
        rc = hre__fail(HRE_EINVAL, "hre_node_peer_connected: address over %d bytes or unknown flags",
                       HRE_NODE_ADDRESS_MAX);
        return leave(n, rc);
    }
    if (hre_node__peer_find(n, conn))
        return leave(n, hre__fail(HRE_EEXISTS, "hre_node_peer_connected: connection %llu is live",
                                  (unsigned long long)conn));
    if (alen && hre_node__is_discouraged(n, address, NULL)) {
        hre_node__book_on_close(n, conn);
        return leave(n, hre__fail(HRE_EAUTH, "peer address %s is discouraged", address));
    }
    if (n->n_peers >= n->max_peers || n->mem_used + 65536 > n->max_memory) {
        hre_node__book_on_close(n, conn);
        return leave(n, hre__fail(HRE_ELIMIT, "hre_node_peer_connected: %u peers or the memory cap reached",
                                  n->max_peers));
    }
    if ((rc = peers_reserve(n)) != HRE_OK)
        return leave(n, rc);
    p = hre_node__zalloc(n, sizeof *p);
    if (!p)
        return leave(n, hre__fail(HRE_ENOMEM, "hre_node_peer_connected: out of memory"));
    p->conn = conn;
    p->uid = n->next_uid++;
    if (alen)
        memcpy(p->address, address, alen);
    p->flags = flags;
    p->connected_at = p->last_recv = n->now;
    hre_node__map_init(&p->known.map, n);
    hre_node__bucket_init(&p->in_msgs, n->app_rate_msgs, n->now);
    hre_node__bucket_init(&p->in_bytes_b, n->app_rate_bytes, n->now);
    hre_node__bucket_init(&p->out_msgs, n->app_rate_msgs, n->now);
    hre_node__bucket_init(&p->out_bytes_b, n->app_rate_bytes, n->now);
    if ((rc = hre_node__peer_start(n, p)) != HRE_OK) {
        int code = rc;
        hre_node__peer_free(n, p);
        return leave(n, code == HRE_ENOMEM || code == HRE_ECRYPTO ? code : hre__fail(code, "handshake start failed"));
    }
    n->peers[n->n_peers++] = p;
    hre_node__book_on_connected(n, p);
    return hre__api_done(leave(n, HRE_OK));
}

HRE_API int hre_node_peer_recv(hre_node *n, uint64_t conn, const uint8_t *data, size_t len, uint64_t now)
{
    HRE__API_SCOPE;
    hre_node__peer *p;
    char why[200];
    int rc = enter(n, now, "hre_node_peer_recv");
    if (rc != HRE_OK)
        return rc;
    if (!data && len)
        return leave(n, hre__fail(HRE_EINVAL, "hre_node_peer_recv: NULL data"));
    p = hre_node__peer_find(n, conn);
    if (!p)
        return leave(n, hre__fail(HRE_ENOTFOUND, "hre_node_peer_recv: connection %llu is not live",
                                  (unsigned long long)conn));
    rc = hre_node__peer_feed(n, p, data, len);
    if (rc == HRE_OK)
        hre_node__peer_work(n, p);
    if (p->closing) {
        snprintf(why, sizeof why, "%s: %s", hre_node_reason_name(p->close_reason), p->close_detail);
        rc = leave(n, HRE_EPROTO);
        if (rc == HRE_EPROTO)
            return hre__fail(HRE_EPROTO, "peer %llu disconnected: %s", (unsigned long long)conn, why);
        return rc;
    }
    return hre__api_done(leave(n, HRE_OK));
}

HRE_API int hre_node_peer_writable(hre_node *n, uint64_t conn, uint64_t now)
{
    HRE__API_SCOPE;
    hre_node__peer *p;
    int rc = enter(n, now, "hre_node_peer_writable");
    if (rc != HRE_OK)
        return rc;
    p = hre_node__peer_find(n, conn);
    if (!p)
        return leave(n, hre__fail(HRE_ENOTFOUND, "hre_node_peer_writable: connection %llu is not live",
                                  (unsigned long long)conn));
    p->blocked = 0;
    return hre__api_done(leave(n, HRE_OK));
}

HRE_API int hre_node_peer_closed(hre_node *n, uint64_t conn, uint64_t now)
{
    HRE__API_SCOPE;
    hre_node__peer *p;
    int rc = enter(n, now, "hre_node_peer_closed");
    if (rc != HRE_OK)
        return rc;
    p = hre_node__peer_find(n, conn);
    if (!p) {
        /* a pending outbound attempt that failed */
        if (hre_node__book_pending(n, conn)) {
            hre_node__book_on_close(n, conn);
            return hre__api_done(leave(n, HRE_OK));
        }
        return leave(n, hre__fail(HRE_ENOTFOUND, "hre_node_peer_closed: connection %llu is not live",
                                  (unsigned long long)conn));
    }
    hre_node__close(n, p, HRE_NODE_REASON_HOST_CLOSED, 0, "the host closed the connection");
    return hre__api_done(leave(n, HRE_OK));
}

HRE_API int hre_node_peer_disconnect(hre_node *n, uint64_t conn, uint64_t now)
{
    HRE__API_SCOPE;
    hre_node__peer *p;
    if (!n)
        return hre__fail(HRE_EINVAL, "hre_node_peer_disconnect: NULL node");
    if (n->fatal)
        return hre__fail(HRE_EFATAL, "hre_node_peer_disconnect: the node is fatal");
    p = hre_node__peer_find(n, conn);
    if (!p)
        return hre__fail(HRE_ENOTFOUND, "hre_node_peer_disconnect: connection %llu is not live",
                         (unsigned long long)conn);
    hre_node__close(n, p, HRE_NODE_REASON_LOCAL, 1, "disconnected on the host's request");
    if (n->in_cb || n->depth)
        return hre__api_done(HRE_OK);   /* reaped when the outer call returns */
    if (now > n->now)
        n->now = now;
    n->depth = 1;
    return hre__api_done(leave(n, HRE_OK));
}

HRE_API int hre_node_peer_want_read(const hre_node *n, uint64_t conn)
{
    const hre_node__peer *p;
    if (!n)
        return 0;
    p = hre_node__peer_find(n, conn);
    return p && p->in_bytes <= n->peer_recv_max / 2;
}

HRE_API size_t hre_node_peer_pending(const hre_node *n, uint64_t conn)
{
    const hre_node__peer *p;
    if (!n)
        return 0;
    p = hre_node__peer_find(n, conn);
    return p ? hre_node__queued(p) : 0;
}

HRE_API int hre_node_peer_pull(hre_node *n, uint64_t conn, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    hre_node__peer *p;
    if (!n || !len || (!out && *len))
        return hre__fail(HRE_EINVAL, "hre_node_peer_pull: NULL argument");
    if (n->fatal)
        return hre__fail(HRE_EFATAL, "hre_node_peer_pull: the node is fatal");
    if (n->in_cb || n->depth)
        return hre__fail(HRE_ESTATE, "hre_node_peer_pull: not allowed inside a node callback");
    p = hre_node__peer_find(n, conn);
    if (!p) {
        *len = 0;
        return hre__fail(HRE_ENOTFOUND, "hre_node_peer_pull: connection %llu is not live",
                         (unsigned long long)conn);
    }
    if (!out) {
        *len = hre_node__queued(p);
        return hre__api_done(HRE_OK);
    }
    return hre__api_done(hre_node__buf_take(n, p, out, len));
}

HRE_API int hre_node_pull(hre_node *n, uint64_t *conn, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    size_t k;
    if (!n || !conn || !out || !len || *len == 0)
        return hre__fail(HRE_EINVAL, "hre_node_pull: NULL argument or zero capacity");
    if (n->fatal)
        return hre__fail(HRE_EFATAL, "hre_node_pull: the node is fatal");
    if (n->in_cb || n->depth)
        return hre__fail(HRE_ESTATE, "hre_node_pull: not allowed inside a node callback");
    for (k = 0; k < n->n_peers; k++) {
        hre_node__peer *p = n->peers[(n->rr + k) % n->n_peers];
        if (!p->closing && hre_node__queued(p)) {
            n->rr = (n->rr + k + 1) % n->n_peers;
            *conn = p->conn;
            return hre__api_done(hre_node__buf_take(n, p, out, len));
        }
    }
    *len = 0;
    *conn = 0;
    return hre__fail(HRE_ENOTFOUND, "hre_node_pull: nothing queued");
}

HRE_API int hre_node_peer_list(const hre_node *n, uint64_t *conns, size_t *count)
{
    HRE__API_SCOPE;
    size_t i, k = 0, live = 0;
    if (!n || !count || (!conns && *count))
        return hre__fail(HRE_EINVAL, "hre_node_peer_list: NULL argument");
    for (i = 0; i < n->n_peers; i++)
        if (!n->peers[i]->closing)
            live++;
    if (*count < live) {
        *count = live;
        return hre__fail(HRE_EBUFSIZE, "hre_node_peer_list: %zu connections", live);
    }
    for (i = 0; i < n->n_peers; i++)
        if (!n->peers[i]->closing)
            conns[k++] = n->peers[i]->conn;
    *count = k;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_node_peer_info_get(const hre_node *n, hre_node_peer_info *info, uint64_t conn)
{
    HRE__API_SCOPE;
    hre_node_peer_info full;
    const hre_node__peer *p;
    int rc;
    if (!n || !info)
        return hre__fail(HRE_EINVAL, "hre_node_peer_info_get: NULL argument");
    if ((rc = hre__vstruct_check(&info_desc, info->version)) != HRE_OK)
        return rc;
    p = hre_node__peer_find(n, conn);
    if (!p)
        return hre__fail(HRE_ENOTFOUND, "hre_node_peer_info_get: connection %llu is not live",
                         (unsigned long long)conn);
    memset(&full, 0, sizeof full);
    full.version = HRE_NODE_PEER_INFO_VERSION;
    full.conn = p->conn;
    memcpy(full.address, p->address, sizeof full.address);
    full.flags = p->flags;
    full.state = p->state;
    full.has_identity = p->has_identity;
    memcpy(full.identity_key, p->key, 34);
    full.member = p->member;
    if (p->member == HRE_NODE_MEMBER_LIVE) {
        memcpy(full.member_address, p->member_addr, 32);
        memcpy(full.org_id, p->org, 32);
    }
    if (p->have_tr)
        memcpy(full.handshake_hash, p->hh, 32);
    full.best_height = p->best_height;
    full.connected_at = p->connected_at;
    full.last_recv = p->last_recv;
    full.bytes_sent = p->bytes_sent;
    full.bytes_received = p->bytes_recv;
    full.messages_received = p->msgs_recv;
    full.mem_used = sizeof *p + 16u + 4096u + p->in_bytes + p->out.cap + (p->pt ? HRE_NOISE__MAX_PAYLOAD : 0) +
                    (p->frame ? HRE_NOISE__MAX_MSG : 0) + hre__map_bytes(&p->known.map) +
                    (p->known.h ? HRE_NODE__KNOWN_MAX * 32u : 0) + p->gd_cap * HRE_NODE__INV_ENTRY;
    full.blocks_in_flight = p->blocks_inflight;
    full.headers_held = p->headers_held;
    full.send_queued = hre_node__queued(p);
    return hre__api_done(hre__vstruct_out(&info_desc, info, &full));
}

/* ------------------------------------------------------------------------ */
/* Timers                                                                    */
/* ------------------------------------------------------------------------ */

static void at(uint64_t *when, uint64_t t)
{
    if (t < *when)
        *when = t;
}

HRE_API int hre_node_next_timer(const hre_node *n, uint64_t *when)
{
    HRE__API_SCOPE;
    size_t i;
    if (!n || !when)
        return hre__fail(HRE_EINVAL, "hre_node_next_timer: NULL argument");
    *when = UINT64_MAX;
    if (n->fatal)
        return hre__api_done(HRE_OK);
    for (i = 0; i < n->n_peers; i++) {
        const hre_node__peer *p = n->peers[i];
        if (p->closing)
            continue;
        if (p->inbox)
            at(when, n->now);
        if (p->state != NODE__READY) {
            at(when, p->connected_at + n->handshake_timeout_ms);
            continue;
        }
        at(when, p->ping_at ? p->ping_at + n->ping_timeout_ms : p->next_ping);
        if (p->hdr_inflight)
            at(when, p->hdr_req_at + n->request_timeout_ms);
        if (p->hdr_retry_at)
            at(when, p->hdr_retry_at);
        if (p->gd_n > p->gd_off || p->offer_pos)
            at(when, n->now);
        if (p->app_blocked)
            at(when, n->now + 50);   /* buckets refill: APP_WRITABLE */
    }
    hre_node__sync_timers((hre_node *)n, when);
    hre_node__relay_timers(n, when);
    hre_node__book_timers(n, when);
    return hre__api_done(HRE_OK);
}

static void peer_timers(hre_node *n, hre_node__peer *p)
{
    uint64_t now = n->now;
    if (p->closing)
        return;
    if (p->state != NODE__READY) {
        if (now >= p->connected_at + n->handshake_timeout_ms)
            hre_node__close(n, p, HRE_NODE_REASON_HANDSHAKE_TIMEOUT, 1,
                            "handshake and version exchange not done in %u ms", n->handshake_timeout_ms);
        return;
    }
    if (p->ping_at && now >= p->ping_at + n->ping_timeout_ms) {
        hre_node__close(n, p, HRE_NODE_REASON_TIMEOUT, 1, "no pong in %u ms", n->ping_timeout_ms);
        return;
    }
    if (p->hdr_inflight && now >= p->hdr_req_at + n->request_timeout_ms) {
        hre_node__close(n, p, HRE_NODE_REASON_TIMEOUT, 1, "no headers in %u ms", n->request_timeout_ms);
        return;
    }
    if (!p->ping_at && now >= p->next_ping) {
        uint8_t b[8];
        if (hre_random_bytes(b, sizeof b) != HRE_OK)
            memset(b, 0x5a, sizeof b);
        p->ping_nonce = hre__le64(b);
        if (hre_node__send(n, p, HRE_NODE__CMD_PING, b, 8, NULL, 0) == HRE_OK) {
            p->ping_at = now;
            p->next_ping = now + n->ping_interval_ms;
        }
    }
    if (p->hdr_retry_at && now >= p->hdr_retry_at) {
        p->hdr_retry_at = 0;
        hre_node__send_getheaders(n, p);
    }
}

HRE_API int hre_node_tick(hre_node *n, uint64_t now)
{
    HRE__API_SCOPE;
    size_t i;
    int rc = enter(n, now, "hre_node_tick");
    if (rc != HRE_OK)
        return rc;
    for (i = 0; i < n->n_peers; i++)
        peer_timers(n, n->peers[i]);
    hre_node__sync_step(n, 1);
    return hre__api_done(leave(n, HRE_OK));
}

/* ------------------------------------------------------------------------ */
/* Statistics                                                                */
/* ------------------------------------------------------------------------ */

HRE_API int hre_node_stats_get(const hre_node *n, hre_node_stats *out)
{
    HRE__API_SCOPE;
    hre_node_stats full;
    size_t i;
    int rc;
    if (!n || !out)
        return hre__fail(HRE_EINVAL, "hre_node_stats_get: NULL argument");
    if ((rc = hre__vstruct_check(&stats_desc, out->version)) != HRE_OK)
        return rc;
    memset(&full, 0, sizeof full);
    full.version = HRE_NODE_STATS_VERSION;
    full.member = n->member;
    for (i = 0; i < n->n_peers; i++) {
        const hre_node__peer *p = n->peers[i];
        if (p->closing)
            continue;
        full.peers++;
        if (p->state == NODE__READY)
            full.peers_ready++;
        if (p->flags & HRE_NODE_PEER_OUTBOUND)
            full.peers_outbound++;
        full.blocks_in_flight += p->blocks_inflight;
    }
    full.mem_used = n->mem_used + sizeof *n;
    full.mem_peak = n->mem_peak + sizeof *n;
    full.mem_cap = n->max_memory;
    full.headers_held = (uint32_t)n->n_hdrs;
    full.blocks_buffered = n->blocks_buffered;
    full.tip_height = n->tip_height;
    full.best_header_height = n->best && hre_pow_work_cmp(n->best->work, n->tip_work) > 0 ? n->best->height
                                                                                         : n->tip_height;
    full.synced = !(n->best && hre_pow_work_cmp(n->best->work, n->tip_work) > 0);
    full.discouraged = (uint32_t)n->n_disc;
    full.bytes_sent = n->bytes_sent;
    full.bytes_received = n->bytes_recv;
    full.blocks_received = n->blocks_recv;
    full.txs_received = n->txs_recv;
    full.messages_deferred = n->deferred;
    full.stall_timeout_ms = n->stall_ms;
    return hre__api_done(hre__vstruct_out(&stats_desc, out, &full));
}

/* Entry points used by the other files (submit_tx, mine, book, app). */
int hre_node__enter(hre_node *n, uint64_t now, const char *fn)
{
    return enter(n, now, fn);
}

int hre_node__leave(hre_node *n, int rc)
{
    return leave(n, rc);
}
