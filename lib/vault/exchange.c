/* The document exchange engine (PROTOCOL.md 15.6-15.8): the holder answers
 * requests after its own chain state allows them and streams the envelope
 * from the vault's storage under the node's back-pressure; the reader's
 * fetch feeds the answer into an opener. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vault/internal.h"
#include "vault/exchange.h"
#include "hre/hash.h"
#include "hre/tx.h"

/* ------------------------------------------------------------------------ */
/* State                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct xfer {
    struct xfer *next;
    uint64_t conn;
    uint8_t nonce[HRE_VAULT_XCH_NONCE_LEN];
    uint8_t doc_hash[32];
    uint8_t record_id[32];
    uint8_t reader[32];
    uint64_t env_len, offset;
    int header_sent;
    uint8_t header[HRE_VAULT_XCH_HEADER_LEN];
} xfer;

/* A mempool transaction the holder has decoded once (PROTOCOL.md 15.6 check
 * 9): kept, sorted by txid, while it stays in the mempool, so each
 * transaction is decoded at most once however many requests come. */
typedef struct mp_ent {
    uint8_t txid[32];
    uint8_t is_log;                    /* a well-formed LOG_ACCESS: record_id, sender, timestamp set */
    uint8_t is_revoke;                 /* a well-formed REVOKE: grant_id, sender set */
    uint8_t record_id[32];
    uint8_t grant_id[32];
    uint8_t sender[34];
    uint64_t timestamp;
} mp_ent;

/* One connection's request budget: a token bucket in thousandths of a
 * request (PROTOCOL.md 15.6 check 0). */
typedef struct rate_ent {
    uint64_t conn;
    uint64_t milli;                    /* tokens x 1000 */
    uint64_t last;                     /* ms of the last refill */
} rate_ent;

/* Connections whose budget is remembered at most (the least recently used
 * one is forgotten beyond: it starts again with a full bucket). */
#define RATE_TABLE_MAX 1024

typedef struct replay_ent {
    uint8_t nonce[HRE_VAULT_XCH_NONCE_LEN];
    uint64_t expires;                  /* ms: no longer fresh from then on */
} replay_ent;

#define FETCH_WAIT_HEADER 0
#define FETCH_RECEIVING 1
#define FETCH_DONE 2

struct hre_vault_fetch {
    hre_vault_xch *x;                  /* NULL once detached */
    struct hre_vault_fetch *next;
    uint64_t conn;
    hre_vault_sink_fn sink;
    void *sink_user_data;
    const hre_key *enc_key;
    uint64_t max_doc_len;
    hre_vault_xch_request req;
    uint8_t doc_sha256[32], locator[32], reader[32];
    int state, code, reason;
    uint64_t env_len, received, last_progress;
    hre_vault_opener *op;
    hre_vault_content content;
    int raw;                           /* no enc_key: the envelope goes to the sink as received */
    int have_wrap;
    hre_vault_wrap wrap;               /* the answer's wrap (once its header arrived) */
};

struct hre_vault_xch {
    hre_vault_xch_options o;
    uint16_t app_type;
    xfer *xfers;
    size_t n_xfers;
    replay_ent *replay;
    size_t n_replay;
    hre_vault_fetch *fetches;
    uint8_t *buf;                      /* one chunk message (holder) */
    size_t buf_len;
    uint8_t *txbuf;                    /* one mempool transaction */
    mp_ent *mp;                        /* decoded mempool transactions: [0, mp_sorted) sorted */
    size_t n_mp, mp_sorted, cap_mp;
    uint64_t mp_decodes;               /* white-box: mempool transactions decoded, ever */
    rate_ent *rate;                    /* per-connection request budgets */
    size_t n_rate;
    uint32_t rate_per_s, rate_burst;   /* 0 per_s: no limit */
    hre_vault_xch_stats st;
    hre_vault__xaud *aud;              /* the refusal audit log (holder); NULL after a failure */
    const hre_node_app_message *cur;   /* the request being judged (on_request) */
};

static const size_t xopt_sizes[] = {0, HRE__END(hre_vault_xch_options, log_user_data),
                                     HRE__END(hre_vault_xch_options, audit_max)};
static const size_t xstats_sizes[] = {0, HRE__END(hre_vault_xch_stats, fetches),
                                       HRE__END(hre_vault_xch_stats, audit_failures)};
static const size_t fparams_sizes[] = {0, HRE__END(hre_vault_fetch_params, max_doc_len)};
static const hre__vstruct xopt_vs = {"hre_vault_xch_options", 2, xopt_sizes};
static const hre__vstruct xstats_vs = {"hre_vault_xch_stats", 2, xstats_sizes};
static const hre__vstruct fparams_vs = {"hre_vault_fetch_params", 1, fparams_sizes};

HRE_API int hre_vault_xch_options_init(hre_vault_xch_options *opts, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&xopt_vs, opts, version));
}

HRE_API int hre_vault_xch_stats_init(hre_vault_xch_stats *out, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&xstats_vs, out, version));
}

HRE_API int hre_vault_fetch_params_init(hre_vault_fetch_params *p, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&fparams_vs, p, version));
}

/* ------------------------------------------------------------------------ */
/* Events and log lines (never a secret: ids are public chain values)        */
/* ------------------------------------------------------------------------ */

static void hex8(char out[17], const uint8_t *id)
{
    size_t n = 17;
    if (hre_hex_encode(out, &n, id, 8) != HRE_OK) out[0] = 0;
}

static void emit(hre_vault_xch *x, unsigned int type, uint64_t conn, int reason, int code,
                 const uint8_t *record, const uint8_t *reader, const char *detail)
{
    hre_vault_xch_event ev;
    char r1[17] = "0", r2[17] = "0";
    memset(&ev, 0, sizeof ev);
    ev.version = HRE_VAULT_XCH_EVENT_VERSION;
    ev.type = type;
    ev.conn = conn;
    ev.reason = reason;
    ev.code = code;
    if (record) memcpy(ev.record_id, record, 32);
    if (reader) memcpy(ev.reader, reader, 32);
    ev.detail = detail ? detail : "";
    if (record) hex8(r1, record);
    if (reader) hex8(r2, reader);
    hre__log(x->o.log_fn, x->o.log_user_data,
             type == HRE_VAULT_XCH_EVENT_REFUSED || type == HRE_VAULT_XCH_EVENT_ABORTED ? HRE_LOG_WARN
                                                                                    : HRE_LOG_INFO,
             "exchange: %s record %s.. reader %s.. conn %llu%s%s: %s",
             type == HRE_VAULT_XCH_EVENT_REFUSED    ? "refused"
             : type == HRE_VAULT_XCH_EVENT_SERVING  ? "serving"
             : type == HRE_VAULT_XCH_EVENT_SERVED   ? "served"
             : type == HRE_VAULT_XCH_EVENT_ABORTED  ? "aborted"
                                                    : "fetch done",
             r1, r2, (unsigned long long)conn, reason ? " reason " : "",
             reason ? hre_vault_xch_refusal_name(reason) : "", ev.detail);
    if (x->o.on_event) x->o.on_event(x->o.user_data, &ev);
}

/* ------------------------------------------------------------------------ */
/* Holder                                                                    */
/* ------------------------------------------------------------------------ */

/* Append the refusal to the audit log (PROTOCOL.md 15.8). A failure is
 * logged and closes the log; the next refusal opens it again. */
static void audit(hre_vault_xch *x, uint64_t conn, const uint8_t *nonce, int reason, int access_reason,
                  const uint8_t *record, const uint8_t *reader, uint64_t now)
{
    hre_vault_xch_audit a;
    int rc = HRE_OK;
    if (!x->o.vault) return;
    if (!x->aud) {
        if ((rc = hre_vault__xaud_open(&x->aud, x->o.vault, x->o.audit_max)) != HRE_OK) goto fail;
    }
    memset(&a, 0, sizeof a);
    a.version = HRE_VAULT_XCH_AUDIT_VERSION;
    a.time_ms = now;
    a.conn = conn;
    a.reason = (uint8_t)reason;
    a.access_reason = (uint8_t)access_reason;
    if (x->cur) {
        a.flags |= HRE_VAULT_XCH_AUDIT_HAS_PEER;
        memcpy(a.peer_key, x->cur->peer_key, 34);
        if ((rc = hre_sha256(a.request_hash, x->cur->data, x->cur->len)) != HRE_OK) goto fail;
    }
    if (reader) {
        a.flags |= HRE_VAULT_XCH_AUDIT_HAS_READER;
        memcpy(a.reader, reader, 32);
    }
    if (record) {
        a.flags |= HRE_VAULT_XCH_AUDIT_HAS_RECORD;
        memcpy(a.record_id, record, 32);
    }
    if (nonce) {
        a.flags |= HRE_VAULT_XCH_AUDIT_HAS_NONCE;
        memcpy(a.nonce, nonce, 16);
    }
    if ((rc = hre_vault__xaud_append(x->aud, &a)) == HRE_OK) return;
fail:
    hre__log(x->o.log_fn, x->o.log_user_data, HRE_LOG_ERROR, "exchange: the refusal audit log failed: %s (%s)",
             hre_strerror(rc), hre_error_detail());
    x->st.audit_failures++;
    hre_vault__xaud_close(x->aud);
    x->aud = NULL;
}

static void refuse(hre_vault_xch *x, uint64_t conn, const uint8_t nonce[16], int reason, int access_reason,
                   const uint8_t *record, const uint8_t *reader, uint64_t now, const char *detail)
{
    hre_vault_xch_refusal r;
    uint8_t b[HRE_VAULT_XCH_REFUSAL_LEN];
    size_t len = sizeof b;
    memset(&r, 0, sizeof r);
    if (nonce) memcpy(r.nonce, nonce, 16);
    r.reason = (uint8_t)reason;
    r.access_reason = (uint8_t)access_reason;
    x->st.refused++;
    audit(x, conn, nonce, reason, access_reason, record, reader, now);
    emit(x, HRE_VAULT_XCH_EVENT_REFUSED, conn, reason, hre_vault_xch_refusal_code(reason), record, reader,
         detail);
    /* a refusal the node cannot take now (back-pressure) is dropped: the
     * reader's fetch times out; the event and the log line stand */
    if (hre_vault_xch_refusal_encode(&r, b, &len) == HRE_OK &&
        hre_node_app_send(x->o.node, conn, x->app_type, b, len, now) != HRE_OK)
        hre__log(x->o.log_fn, x->o.log_user_data, HRE_LOG_DEBUG,
                 "exchange: the refusal for conn %llu could not be queued", (unsigned long long)conn);
}

static void replay_sweep(hre_vault_xch *x, uint64_t now)
{
    size_t i = 0;
    while (i < x->n_replay) {
        if (x->replay[i].expires <= now)
            x->replay[i] = x->replay[--x->n_replay];
        else
            i++;
    }
}

/* 0: recorded; REPLAY or BUSY otherwise. */
static int replay_check(hre_vault_xch *x, const hre_vault_xch_request *r, uint64_t now)
{
    size_t i;
    replay_sweep(x, now);
    for (i = 0; i < x->n_replay; i++)
        if (memcmp(x->replay[i].nonce, r->nonce, 16) == 0) return HRE_VAULT_XCH_REFUSE_REPLAY;
    if (x->n_replay >= x->o.replay_max) return HRE_VAULT_XCH_REFUSE_BUSY;
    memcpy(x->replay[x->n_replay].nonce, r->nonce, 16);
    /* fresh while timestamp + fresh_ms >= now: remembered until then */
    x->replay[x->n_replay].expires = r->timestamp_ms + x->o.fresh_ms + 1;
    x->n_replay++;
    return 0;
}

static int access_to_refusal(uint8_t reason)
{
    switch (reason) {
    case HRE_ACCESS_NO_GRANT: return HRE_VAULT_XCH_REFUSE_NO_GRANT;
    case HRE_ACCESS_REVOKED: return HRE_VAULT_XCH_REFUSE_REVOKED;
    case HRE_ACCESS_EXPIRED: return HRE_VAULT_XCH_REFUSE_EXPIRED;
    case HRE_ACCESS_ERASED: return HRE_VAULT_XCH_REFUSE_ERASED;
    case HRE_ACCESS_UNKNOWN_RECORD: return HRE_VAULT_XCH_REFUSE_UNKNOWN_RECORD;
    case HRE_ACCESS_UNKNOWN_READER: return HRE_VAULT_XCH_REFUSE_NOT_MEMBER;
    case HRE_ACCESS_READER_SUSPENDED:
    case HRE_ACCESS_ORG_SUSPENDED: return HRE_VAULT_XCH_REFUSE_SUSPENDED;
    default: return HRE_VAULT_XCH_REFUSE_INTERNAL;
    }
}

/* The time the holder judges a request at (PROTOCOL.md 15.6 "Judging
 * time"): the later of its wall clock and its tip's block time, in seconds,
 * so neither a slow clock nor a stale tip keeps a grant alive. */
static int judge_time(hre_ledger *l, uint64_t now_ms, uint64_t *out)
{
    hre_header hd;
    uint64_t height = 0;
    int rc;
    *out = now_ms / 1000;
    if ((rc = hre_ledger_tip(l, &height, NULL)) != HRE_OK ||
        (rc = hre_ledger_header_by_height(l, &hd, NULL, height)) != HRE_OK)
        return rc;
    if ((uint64_t)hd.time > *out) *out = hd.time;
    return HRE_OK;
}

/* May the requesting node (msg->peer_key) carry this reader's request
 * (PROTOCOL.md 15.6 check 6)? 0, or 1 with the refusal detail in d. */
static int node_org_check(const hre_contract *c, const hre_node_app_message *msg,
                          const hre_contract_account *acct, char *d, size_t dn)
{
    hre_contract_node ns = HRE_CONTRACT_NODE_INIT;
    if (hre_contract_node_status(c, &ns, msg->peer_key) != HRE_OK) {
        snprintf(d, dn, "the requesting node is not a member on the holder's chain (node reason %u)",
                 (unsigned)ns.reason);
        return 1;
    }
    if (acct->has_org && memcmp(acct->org_id, ns.org_id, 32) != 0) {
        snprintf(d, dn, "the reader's organisation did not register the requesting node");
        return 1;
    }
    return 0;
}

static int mp_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);   /* txid is an mp_ent's first member */
}

/* Decode mempool transaction id into e (is_log and is_revoke 0 when it is
 * neither a LOG_ACCESS nor a REVOKE, or is gone). */
static void mp_decode_bytes(mp_ent *e, const uint8_t *b, size_t len)
{
    size_t plen = 0;
    hre_tx *tx = NULL;
    const uint8_t *pl;
    hre_log_access_payload p;
    hre_revoke_payload rv;
    if (hre_tx_decode(&tx, b, len) != HRE_OK) return;
    if (hre_tx_kind(tx) == HRE_KIND_LOG_ACCESS && (pl = hre_tx_payload(tx, &plen)) != NULL &&
        hre_contract_decode_log_access(&p, pl, plen) == HRE_OK && hre_tx_sender(tx)) {
        e->is_log = 1;
        memcpy(e->record_id, p.record_id, 32);
        memcpy(e->sender, hre_tx_sender(tx), 34);
        e->timestamp = hre_tx_timestamp(tx);
    } else if (hre_tx_kind(tx) == HRE_KIND_REVOKE && (pl = hre_tx_payload(tx, &plen)) != NULL &&
               hre_contract_decode_revoke(&rv, pl, plen) == HRE_OK && hre_tx_sender(tx)) {
        e->is_revoke = 1;
        memcpy(e->grant_id, rv.grant_id, 32);
        memcpy(e->sender, hre_tx_sender(tx), 34);
    }
    hre_tx_free(tx);
}

static void mp_decode(hre_vault_xch *x, hre_ledger *l, mp_ent *e, const uint8_t id[32])
{
    size_t len = HRE_TX_MAX_LEN;
    memset(e, 0, sizeof *e);
    memcpy(e->txid, id, 32);
    x->mp_decodes++;
    if (hre_ledger_mempool_tx(l, x->txbuf, &len, id) != HRE_OK) return;   /* gone */
    mp_decode_bytes(e, x->txbuf, len);
}

static int mp_match(const mp_ent *e, const hre_contract *c, const uint8_t reader[32], const uint8_t record[32],
                    uint64_t oldest)
{
    hre_contract_account a = HRE_CONTRACT_ACCOUNT_INIT;
    return e->is_log && e->timestamp >= oldest && memcmp(e->record_id, record, 32) == 0 &&
           hre_contract_account_by_key(c, &a, NULL, e->sender) == HRE_OK && memcmp(a.address, reader, 32) == 0;
}

/* Does cached entry e revoke grant `grant` (a REVOKE of it whose sender key
 * is a current key of the grant's patient account on c)? The mempool took
 * it, so its signature verified; the sender check keeps a REVOKE by anyone
 * else from counting (PROTOCOL.md 15.6 check 9). */
static int mp_revokes(const mp_ent *e, const hre_contract *c, const uint8_t grant[32], const uint8_t patient[32])
{
    hre_contract_account a = HRE_CONTRACT_ACCOUNT_INIT;
    int retired = 0;
    return e->is_revoke && memcmp(e->grant_id, grant, 32) == 0 &&
           hre_contract_account_by_key(c, &a, &retired, e->sender) == HRE_OK && !retired &&
           memcmp(a.address, patient, 32) == 0;
}

/* Sort the cache and drop what left the mempool once it is much larger than
 * the mempool. */
static void mp_settle(hre_vault_xch *x, hre_ledger *l, size_t live)
{
    if (x->n_mp > 2 * live + 64) {
        /* compaction keeps the order: the sorted prefix stays sorted */
        size_t i, k = 0, ks = 0;
        for (i = 0; i < x->n_mp; i++)
            if (hre_ledger_mempool_contains(l, x->mp[i].txid)) {
                x->mp[k++] = x->mp[i];
                if (i < x->mp_sorted) ks = k;
            }
        x->n_mp = k;
        x->mp_sorted = ks;
    }
    if (x->n_mp != x->mp_sorted) qsort(x->mp, x->n_mp, sizeof *x->mp, mp_cmp);
    x->mp_sorted = x->n_mp;
}

#define MP_LOG_FOUND 1                 /* a matching LOG_ACCESS */
#define MP_SHORT 2                     /* the budget ran out before the answer was sure: retry */
#define MP_REVOKE_PENDING 3            /* a REVOKE of the watched grant waits in the mempool */

/* Is a LOG_ACCESS by reader for record on the chain (an ACCESS_LOGGED event)
 * or in the mempool, and (grant non-NULL: the live grant the access stands
 * on) does a REVOKE of that grant by its patient wait in the mempool?
 * MP_REVOKE_PENDING, MP_LOG_FOUND, 0 (no LOG_ACCESS), MP_SHORT (the mempool
 * scan could not decode all it had to within its budget: retry), or a
 * negative error. The mempool is walked newest first, in one pass for both
 * questions; a transaction is decoded once and remembered while it stays
 * there, and one request decodes at most HRE_VAULT__XCH_MEMPOOL_DECODE_MAX.
 * With a grant to watch the pass cannot stop at the LOG_ACCESS: only a
 * REVOKE (or the end of the mempool) ends it. */
static int log_access_present(hre_vault_xch *x, hre_ledger *l, const hre_contract *c, const uint8_t reader[32],
                              const uint8_t record[32], uint64_t now_s, const uint8_t *grant,
                              const uint8_t *patient)
{
    const uint64_t oldest = x->o.log_max_age_s && now_s > x->o.log_max_age_s ? now_s - x->o.log_max_age_s : 0;
    hre_contract_event *ev = NULL;
    uint8_t *ids = NULL;
    size_t n = 0, i, count, got = 0, budget = HRE_VAULT__XCH_MEMPOOL_DECODE_MAX;
    int rc, found = 0, revoked = 0, short_of_budget = 0;
    rc = hre_contract_record_events(c, NULL, sizeof *ev, &n, record);
    if (rc == HRE_EBUFSIZE && n > 0) {
        if (!(ev = calloc(n, sizeof *ev))) return hre__fail(HRE_ENOMEM, "exchange: out of memory");
        rc = hre_contract_record_events(c, ev, sizeof *ev, &n, record);
        for (i = 0; rc == HRE_OK && i < n && !found; i++)
            if (ev[i].type == HRE_EVENT_ACCESS_LOGGED && memcmp(ev[i].actor, reader, 32) == 0 &&
                ev[i].time >= oldest)
                found = 1;
        free(ev);
    }
    if (rc != HRE_OK && rc != HRE_EBUFSIZE) return rc;
    if (found && !grant) return MP_LOG_FOUND;
    if (!(count = hre_ledger_mempool_count(l))) {
        x->n_mp = x->mp_sorted = 0;    /* nothing to remember */
        return found ? MP_LOG_FOUND : 0;
    }
    if (!x->txbuf && !(x->txbuf = malloc(HRE_TX_MAX_LEN))) return hre__fail(HRE_ENOMEM, "exchange: out of memory");
    if (!(ids = malloc(count * 32))) return hre__fail(HRE_ENOMEM, "exchange: out of memory");
    while (got < count) {
        size_t k = count - got;
        if ((rc = hre_ledger_mempool_list(l, ids + 32 * got, &k, got)) != HRE_OK) goto done;
        if (k == 0) break;
        got += k;
    }
    if (x->n_mp + budget > x->cap_mp) {
        size_t nc = x->n_mp + budget + 64;
        mp_ent *nm = realloc(x->mp, nc * sizeof *nm);
        if (!nm) {
            rc = hre__fail(HRE_ENOMEM, "exchange: out of memory");
            goto done;
        }
        x->mp = nm;
        x->cap_mp = nc;
    }
    /* newest first; ids are distinct, so this request's new entries (the
     * unsorted tail) need no lookup */
    for (i = got; i-- > 0 && !revoked && !(found && !grant);) {
        const uint8_t *id = ids + 32 * i;
        mp_ent *e = bsearch(id, x->mp, x->mp_sorted, sizeof *x->mp, mp_cmp);
        if (!e) {
            if (budget == 0) {
                short_of_budget = 1;
                continue;
            }
            budget--;
            e = &x->mp[x->n_mp++];
            mp_decode(x, l, e, id);
        }
        if (!found && mp_match(e, c, reader, record, oldest)) found = 1;
        if (grant && mp_revokes(e, c, grant, patient)) revoked = 1;
    }
    rc = HRE_OK;
done:
    free(ids);
    mp_settle(x, l, got);
    if (rc != HRE_OK) return rc;
    if (revoked) return MP_REVOKE_PENDING;
    if (found && (!grant || !short_of_budget)) return MP_LOG_FOUND;
    return short_of_budget ? MP_SHORT : 0;
}

#ifdef HRE_TESTING
uint64_t hre_vault__xch_mempool_decodes(const hre_vault_xch *x)
{
    return x->mp_decodes;
}

size_t hre_vault__xch_mempool_cached(const hre_vault_xch *x)
{
    return x->n_mp;
}

int hre_vault__xch_tx_revokes(const hre_contract *c, const uint8_t *tx, size_t len, const uint8_t grant[32],
                              const uint8_t patient[32])
{
    mp_ent e;
    memset(&e, 0, sizeof e);
    mp_decode_bytes(&e, tx, len);
    return mp_revokes(&e, c, grant, patient);
}
#endif

static void xfer_remove(hre_vault_xch *x, xfer *t)
{
    xfer **pp = &x->xfers;
    while (*pp && *pp != t) pp = &(*pp)->next;
    if (*pp) {
        *pp = t->next;
        x->n_xfers--;
    }
    free(t);
}

/* Send what room allows. 1: the transfer is finished or gone; 0: waiting. */
static int pump(hre_vault_xch *x, xfer *t, uint64_t now)
{
    int rc;
    for (;;) {
        size_t space = 0, n;
        if (!t->header_sent) {
            rc = hre_node_app_send(x->o.node, t->conn, x->app_type, t->header, sizeof t->header, now);
            if (rc == HRE_EAGAIN) {
                x->st.stalls++;
                return 0;
            }
            if (rc != HRE_OK) break;
            t->header_sent = 1;
            continue;
        }
        if (t->offset == t->env_len) {
            x->st.served++;
            emit(x, HRE_VAULT_XCH_EVENT_SERVED, t->conn, 0, HRE_OK, t->record_id, t->reader, "");
            xfer_remove(x, t);
            return 1;
        }
        if ((rc = hre_node_app_send_space(x->o.node, &space, t->conn, now)) != HRE_OK) break;
        /* no room: a one-byte chunk meets the HRE_EAGAIN that arms the
         * node's APP_WRITABLE event */
        n = space > HRE_VAULT_XCH_CHUNK_OVERHEAD ? space - HRE_VAULT_XCH_CHUNK_OVERHEAD : 1;
        if (n > x->buf_len - HRE_VAULT_XCH_CHUNK_OVERHEAD) n = x->buf_len - HRE_VAULT_XCH_CHUNK_OVERHEAD;
        if ((uint64_t)n > t->env_len - t->offset) n = (size_t)(t->env_len - t->offset);
        rc = hre_vault_envelope_read(x->o.vault, x->buf + HRE_VAULT_XCH_CHUNK_OVERHEAD, &n, t->doc_hash,
                                     t->offset);
        if (rc != HRE_OK) break;
        if (n == 0) {
            rc = hre__fail(HRE_ECORRUPT, "exchange: the stored envelope is shorter than its index entry");
            break;
        }
        x->buf[0] = HRE_VAULT_XCH_MSG_CHUNK;
        x->buf[1] = HRE_VAULT_XCH_FORMAT;
        memcpy(x->buf + 2, t->nonce, 16);
        hre__put_le64(x->buf + 18, t->offset);
        hre__put_le32(x->buf + 26, (uint32_t)n);
        rc = hre_node_app_send(x->o.node, t->conn, x->app_type, x->buf, HRE_VAULT_XCH_CHUNK_OVERHEAD + n, now);
        if (rc == HRE_EAGAIN) {
            x->st.stalls++;
            return 0;
        }
        if (rc != HRE_OK) break;
        t->offset += n;
        x->st.bytes_sent += n;
    }
    {
        char d[160];
        snprintf(d, sizeof d, "%s (%s)", hre_strerror(rc), hre_error_detail());
        emit(x, HRE_VAULT_XCH_EVENT_ABORTED, t->conn, 0, rc, t->record_id, t->reader, d);
    }
    xfer_remove(x, t);
    return 1;
}

static void pump_conn(hre_vault_xch *x, uint64_t conn, int all, uint64_t now)
{
    xfer *t = x->xfers, *next;
    while (t) {
        next = t->next;
        if (all || t->conn == conn) (void)pump(x, t, now);
        t = next;
    }
}

/* Take one request from conn's bucket: 1 if it may be served, 0 over its
 * rate, -1 out of memory. */
static int rate_take(hre_vault_xch *x, uint64_t conn, uint64_t now)
{
    const uint64_t cap = (uint64_t)x->rate_burst * 1000;
    rate_ent *e = NULL;
    size_t i;
    if (!x->rate_per_s) return 1;
    for (i = 0; i < x->n_rate; i++)
        if (x->rate[i].conn == conn) {
            e = &x->rate[i];
            break;
        }
    if (!e) {
        if (x->n_rate == RATE_TABLE_MAX) {
            size_t old = 0;
            for (i = 1; i < x->n_rate; i++)
                if (x->rate[i].last < x->rate[old].last) old = i;
            x->rate[old] = x->rate[--x->n_rate];
        }
        if (!x->rate && !(x->rate = calloc(RATE_TABLE_MAX, sizeof *x->rate))) return -1;
        e = &x->rate[x->n_rate++];
        e->conn = conn;
        e->milli = cap;
        e->last = now;
    }
    if (now > e->last) {
        const uint64_t dt = now - e->last;   /* ms x per_s = thousandths of a request */
        e->milli = dt >= cap || e->milli + dt * x->rate_per_s >= cap ? cap : e->milli + dt * x->rate_per_s;
        e->last = now;
    }
    if (e->milli < 1000) return 0;
    e->milli -= 1000;
    return 1;
}

static void rate_forget(hre_vault_xch *x, uint64_t conn)
{
    size_t i;
    for (i = 0; i < x->n_rate; i++)
        if (x->rate[i].conn == conn) {
            x->rate[i] = x->rate[--x->n_rate];
            return;
        }
}

static int rewrap_refusal(int rc)
{
    switch (rc) {
    case HRE_EERASED: return HRE_VAULT_XCH_REFUSE_ERASED;
    case HRE_EREVOKED: return HRE_VAULT_XCH_REFUSE_REVOKED;
    case HRE_EEXPIRED: return HRE_VAULT_XCH_REFUSE_EXPIRED;
    case HRE_EAUTH: return HRE_VAULT_XCH_REFUSE_NO_GRANT;
    case HRE_ENOTFOUND:
    case HRE_EVERIFY:
    case HRE_EDECRYPT: return HRE_VAULT_XCH_REFUSE_NOT_HELD;
    case HRE_ELIMIT: return HRE_VAULT_XCH_REFUSE_BUSY;
    default: return HRE_VAULT_XCH_REFUSE_INTERNAL;
    }
}

static void judge_request(hre_vault_xch *x, hre_node *node, const hre_node_app_message *msg)
{
    hre_vault_xch_request r;
    hre_contract_account acct = HRE_CONTRACT_ACCOUNT_INIT;
    hre_contract_access acc = HRE_CONTRACT_ACCESS_INIT;
    hre_contract_record rec = HRE_CONTRACT_RECORD_INIT;
    hre_contract_grant gr = HRE_CONTRACT_GRANT_INIT;
    hre_vault_entry ent = HRE_VAULT_ENTRY_INIT;
    hre_vault_xch_header h;
    const hre_contract *c = NULL;
    hre_ledger *l = hre_node_ledger(node);
    const uint64_t now = msg->now;
    uint64_t at = 0;                   /* the judging time, s */
    int retired = 0, rc, why;
    size_t per_peer = 0, hl = HRE_VAULT_XCH_HEADER_LEN;
    xfer *t;
    char d[200];
    x->st.requests++;
    if ((why = rate_take(x, msg->conn, now)) != 1) {
        const uint8_t *nonce = msg->len >= 18 ? msg->data + 2 : NULL;
        if (why == 0)
            snprintf(d, sizeof d, "rate: more than %u requests a second (burst %u) from this peer",
                     (unsigned)x->rate_per_s, (unsigned)x->rate_burst);
        refuse(x, msg->conn, nonce, why == 0 ? HRE_VAULT_XCH_REFUSE_BUSY : HRE_VAULT_XCH_REFUSE_INTERNAL, 0,
               NULL, NULL, now, why == 0 ? d : "exchange: out of memory");
        return;
    }
    if ((rc = hre_vault_xch_request_decode(&r, msg->data, msg->len)) != HRE_OK) {
        snprintf(d, sizeof d, "%s", hre_error_detail());
        refuse(x, msg->conn, NULL, HRE_VAULT_XCH_REFUSE_MALFORMED, 0, NULL, NULL, now, d);
        return;
    }
    if ((rc = hre_vault_xch_request_verify(&r)) != HRE_OK) {
        snprintf(d, sizeof d, "%s", hre_error_detail());
        refuse(x, msg->conn, r.nonce, rc == HRE_EVERIFY || rc == HRE_EDECODE ? HRE_VAULT_XCH_REFUSE_BAD_SIGNATURE
                                                                             : HRE_VAULT_XCH_REFUSE_INTERNAL,
               0, r.record_id, NULL, now, d);
        return;
    }
    if (r.timestamp_ms + x->o.fresh_ms < now || r.timestamp_ms > now + x->o.fresh_ms) {
        snprintf(d, sizeof d, "timestamp %llu ms is outside %u ms of now %llu", (unsigned long long)r.timestamp_ms,
                 x->o.fresh_ms, (unsigned long long)now);
        refuse(x, msg->conn, r.nonce, HRE_VAULT_XCH_REFUSE_STALE, 0, r.record_id, NULL, now, d);
        return;
    }
    if (!hre_ct_equal(r.binding, msg->handshake_hash, 32)) {
        refuse(x, msg->conn, r.nonce, HRE_VAULT_XCH_REFUSE_WRONG_CHANNEL, 0, r.record_id, NULL, now,
               "the request is bound to another connection");
        return;
    }
    if ((why = replay_check(x, &r, now)) != 0) {
        refuse(x, msg->conn, r.nonce, why, 0, r.record_id, NULL, now,
               why == HRE_VAULT_XCH_REFUSE_REPLAY ? "the nonce was already used" : "the replay cache is full");
        return;
    }
    if (!l || hre_ledger_contract(l, &c) != HRE_OK) {
        refuse(x, msg->conn, r.nonce, HRE_VAULT_XCH_REFUSE_INTERNAL, 0, r.record_id, NULL, now, "no contract state");
        return;
    }
    if (hre_contract_account_by_key(c, &acct, &retired, r.reader_key) != HRE_OK || retired) {
        refuse(x, msg->conn, r.nonce, HRE_VAULT_XCH_REFUSE_NOT_MEMBER, 0, r.record_id, NULL, now,
               retired ? "the reader key was rotated out" : "the reader key is no account's");
        return;
    }
    if (node_org_check(c, msg, &acct, d, sizeof d)) {
        refuse(x, msg->conn, r.nonce, HRE_VAULT_XCH_REFUSE_NOT_MEMBER, 0, r.record_id, acct.address, now, d);
        return;
    }
    for (t = x->xfers; t; t = t->next)
        if (t->conn == msg->conn) per_peer++;
    if (x->n_xfers >= x->o.max_transfers || per_peer >= x->o.max_per_peer) {
        refuse(x, msg->conn, r.nonce, HRE_VAULT_XCH_REFUSE_BUSY, 0, r.record_id, acct.address, now,
               per_peer >= x->o.max_per_peer ? "too many transfers to this peer" : "too many transfers");
        return;
    }
    if ((rc = judge_time(l, now, &at)) != HRE_OK) {
        snprintf(d, sizeof d, "no chain tip: %s", hre_error_detail());
        refuse(x, msg->conn, r.nonce, HRE_VAULT_XCH_REFUSE_INTERNAL, 0, r.record_id, acct.address, now, d);
        return;
    }
    if ((rc = hre_contract_access_check(c, &acc, acct.address, r.record_id, at)) != HRE_OK) {
        snprintf(d, sizeof d, "%s", hre_error_detail());
        refuse(x, msg->conn, r.nonce, rc == HRE_EINVAL ? HRE_VAULT_XCH_REFUSE_INTERNAL : access_to_refusal(acc.reason),
               acc.reason, r.record_id, acct.address, now, d);
        return;
    }
    if (acc.basis == HRE_ACCESS_BY_GRANT && acc.has_grant &&
        (rc = hre_contract_grant_get(c, &gr, acc.grant_id)) != HRE_OK) {
        snprintf(d, sizeof d, "the allowing grant: %s", hre_error_detail());
        refuse(x, msg->conn, r.nonce, HRE_VAULT_XCH_REFUSE_INTERNAL, 0, r.record_id, acct.address, now, d);
        return;
    }
    rc = log_access_present(x, l, c, acct.address, r.record_id, at,
                            acc.basis == HRE_ACCESS_BY_GRANT && acc.has_grant ? acc.grant_id : NULL, gr.patient);
    if (rc == MP_REVOKE_PENDING) {
        char gh[17] = "0";
        hex8(gh, acc.grant_id);
        snprintf(d, sizeof d, "the grant %s.. is revoked by a REVOKE of the patient pending in the mempool", gh);
        refuse(x, msg->conn, r.nonce, HRE_VAULT_XCH_REFUSE_REVOKED, HRE_ACCESS_REVOKED, r.record_id, acct.address,
               now, d);
        return;
    }
    if (rc != MP_LOG_FOUND) {
        if (rc == 0)
            snprintf(d, sizeof d, "no (recent enough) LOG_ACCESS by this reader for this record on the chain or in "
                                  "the mempool");
        else if (rc == MP_SHORT)
            snprintf(d, sizeof d, "no LOG_ACCESS found yet, or a pending REVOKE of the grant not ruled out: the "
                                  "mempool holds more new transactions than one request examines (%u); retry",
                     (unsigned)HRE_VAULT__XCH_MEMPOOL_DECODE_MAX);
        else
            snprintf(d, sizeof d, "%s", hre_error_detail());
        refuse(x, msg->conn, r.nonce, rc == 0          ? HRE_VAULT_XCH_REFUSE_NO_LOG_ACCESS
                                      : rc == MP_SHORT ? HRE_VAULT_XCH_REFUSE_BUSY
                                                : HRE_VAULT_XCH_REFUSE_INTERNAL,
               0, r.record_id, acct.address, now, d);
        return;
    }
    if (!x->o.vault || hre_contract_record_get(c, &rec, r.record_id) != HRE_OK) {
        refuse(x, msg->conn, r.nonce, HRE_VAULT_XCH_REFUSE_NOT_HELD, 0, r.record_id, acct.address, now,
               "this node keeps no vault");
        return;
    }
    rc = hre_vault_entry_get(x->o.vault, &ent, rec.doc_sha256);
    if (rc != HRE_OK) {
        snprintf(d, sizeof d, "%s", hre_error_detail());
        refuse(x, msg->conn, r.nonce, rc == HRE_EERASED ? HRE_VAULT_XCH_REFUSE_ERASED
                                      : rc == HRE_ENOTFOUND ? HRE_VAULT_XCH_REFUSE_NOT_HELD
                                                            : HRE_VAULT_XCH_REFUSE_INTERNAL,
               0, r.record_id, acct.address, now, d);
        return;
    }
    memset(&h, 0, sizeof h);
    rc = hre_vault_rewrap(x->o.vault, &h.wrap, NULL, c, r.record_id, acct.address, at, x->o.holder_type,
                          x->o.holder_id, x->o.holder_key);
    if (rc != HRE_OK) {
        snprintf(d, sizeof d, "re-wrap: %s (%s)", hre_strerror(rc), hre_error_detail());
        refuse(x, msg->conn, r.nonce, rewrap_refusal(rc), 0, r.record_id, acct.address, now, d);
        return;
    }
    memcpy(h.nonce, r.nonce, 16);
    h.envelope_len = ent.envelope_len;
    memcpy(h.doc_hash, rec.doc_sha256, 32);
    if (!(t = calloc(1, sizeof *t)) || hre_vault_xch_header_encode(&h, t->header, &hl) != HRE_OK) {
        free(t);
        refuse(x, msg->conn, r.nonce, HRE_VAULT_XCH_REFUSE_INTERNAL, 0, r.record_id, acct.address, now,
               "cannot start the transfer");
        return;
    }
    t->conn = msg->conn;
    memcpy(t->nonce, r.nonce, 16);
    memcpy(t->doc_hash, rec.doc_sha256, 32);
    memcpy(t->record_id, r.record_id, 32);
    memcpy(t->reader, acct.address, 32);
    t->env_len = ent.envelope_len;
    t->next = x->xfers;
    x->xfers = t;
    x->n_xfers++;
    emit(x, HRE_VAULT_XCH_EVENT_SERVING, msg->conn, 0, HRE_OK, r.record_id, acct.address,
         acc.basis == HRE_ACCESS_BY_GRANT ? "by grant" : acc.basis == HRE_ACCESS_BY_ROLE ? "by role" : "patient");
    (void)pump(x, t, now);
}

/* ------------------------------------------------------------------------ */
/* Reader                                                                    */
/* ------------------------------------------------------------------------ */

static void fetch_done(hre_vault_fetch *f, int code, int reason, const char *detail)
{
    if (f->state == FETCH_DONE) return;
    f->state = FETCH_DONE;
    f->code = code;
    f->reason = reason;
    hre_vault_opener_free(f->op);
    f->op = NULL;
    if (f->x) emit(f->x, HRE_VAULT_XCH_EVENT_FETCH_DONE, f->conn, reason, code, f->req.record_id, f->reader, detail);
}

static hre_vault_fetch *fetch_find(hre_vault_xch *x, uint64_t conn, const uint8_t *nonce)
{
    hre_vault_fetch *f;
    for (f = x->fetches; f; f = f->next)
        if (f->conn == conn && f->state != FETCH_DONE && memcmp(f->req.nonce, nonce, 16) == 0) return f;
    return NULL;
}

static void on_answer(hre_vault_xch *x, const hre_node_app_message *msg)
{
    hre_vault_fetch *f;
    char d[200];
    int rc;
    if (msg->len < 18 || !(f = fetch_find(x, msg->conn, msg->data + 2))) {
        hre__log(x->o.log_fn, x->o.log_user_data, HRE_LOG_DEBUG,
                 "exchange: an answer on conn %llu matches no fetch (dropped)", (unsigned long long)msg->conn);
        return;
    }
    f->last_progress = msg->now;
    if (msg->data[0] == HRE_VAULT_XCH_MSG_REFUSAL) {
        hre_vault_xch_refusal r;
        if (hre_vault_xch_refusal_decode(&r, msg->data, msg->len) != HRE_OK) {
            snprintf(d, sizeof d, "malformed refusal: %s", hre_error_detail());
            fetch_done(f, HRE_EPROTO, 0, d);
            return;
        }
        snprintf(d, sizeof d, "refused: %s", hre_vault_xch_refusal_name(r.reason));
        fetch_done(f, hre_vault_xch_refusal_code(r.reason), r.reason, d);
        return;
    }
    if (msg->data[0] == HRE_VAULT_XCH_MSG_HEADER) {
        hre_vault_xch_header h;
        hre_vault_open_params op = HRE_VAULT_OPEN_PARAMS_INIT;
        if (f->state != FETCH_WAIT_HEADER || hre_vault_xch_header_decode(&h, msg->data, msg->len) != HRE_OK) {
            snprintf(d, sizeof d, "unexpected or malformed header: %s", hre_error_detail());
            fetch_done(f, HRE_EPROTO, 0, d);
            return;
        }
        if (memcmp(h.doc_hash, f->doc_sha256, 32) != 0 || memcmp(h.wrap.locator, f->locator, 32) != 0 ||
            h.wrap.reader_type != HRE_VAULT_READER_ACCOUNT || memcmp(h.wrap.reader_id, f->reader, 32) != 0) {
            fetch_done(f, HRE_EVERIFY, 0, "the answer is not this record's document for this reader");
            return;
        }
        f->wrap = h.wrap;
        f->have_wrap = 1;
        f->env_len = h.envelope_len;
        if (f->raw) {
            /* the reader's own process opens it: keep the wrap, pass the bytes on */
            memcpy(f->content.doc_hash, h.doc_hash, 32);
            f->content.envelope_len = h.envelope_len;
            f->state = FETCH_RECEIVING;
            return;
        }
        op.wrap = &h.wrap;
        op.reader_key = f->enc_key;
        op.max_doc_len = f->max_doc_len;
        if ((rc = hre_vault_opener_new(&f->op, &op, f->sink, f->sink_user_data)) != HRE_OK) {
            snprintf(d, sizeof d, "the wrap does not open: %s", hre_error_detail());
            fetch_done(f, rc, 0, d);
            return;
        }
        f->env_len = h.envelope_len;
        f->state = FETCH_RECEIVING;
        return;
    }
    if (msg->data[0] == HRE_VAULT_XCH_MSG_CHUNK) {
        hre_vault_xch_chunk ch;
        if (f->state != FETCH_RECEIVING || hre_vault_xch_chunk_decode(&ch, msg->data, msg->len) != HRE_OK ||
            ch.offset != f->received || ch.len > f->env_len - f->received) {
            fetch_done(f, HRE_EPROTO, 0, "unexpected, malformed or out-of-order chunk");
            return;
        }
        if (f->raw) {
            if ((rc = f->sink(f->sink_user_data, ch.data, ch.len)) != HRE_OK) {
                fetch_done(f, rc, 0, "the sink refused the envelope bytes");
                return;
            }
            f->received += ch.len;
            if (f->received == f->env_len) {
                f->content.version = HRE_VAULT_CONTENT_VERSION;
                fetch_done(f, HRE_OK, 0, "");
            }
            return;
        }
        if ((rc = hre_vault_opener_write(f->op, ch.data, ch.len)) != HRE_OK) {
            snprintf(d, sizeof d, "chunk at %llu: %s", (unsigned long long)ch.offset, hre_error_detail());
            fetch_done(f, rc, 0, d);
            return;
        }
        f->received += ch.len;
        if (f->received == f->env_len) {
            f->content.version = HRE_VAULT_CONTENT_VERSION;
            rc = hre_vault_opener_finish(f->op, &f->content);
            snprintf(d, sizeof d, "%s", rc == HRE_OK ? "" : hre_error_detail());
            fetch_done(f, rc, 0, d);
        }
        return;
    }
    fetch_done(f, HRE_EPROTO, 0, "unknown answer type");
}

static void on_request(hre_vault_xch *x, hre_node *node, const hre_node_app_message *msg)
{
    x->cur = msg;
    judge_request(x, node, msg);
    x->cur = NULL;
}

static void on_app(void *ud, hre_node *node, const hre_node_app_message *msg)
{
    hre_vault_xch *x = ud;
    if (msg->len == 0) return;
    if (msg->data[0] == HRE_VAULT_XCH_MSG_REQUEST)
        on_request(x, node, msg);
    else
        on_answer(x, msg);
}

/* ------------------------------------------------------------------------ */
/* Lifetime                                                                  */
/* ------------------------------------------------------------------------ */

HRE_API int hre_vault_xch_new(hre_vault_xch **out, const hre_vault_xch_options *opts)
{
    HRE__API_SCOPE;
    hre_vault_xch *x;
    int rc;
    HRE__CHECK_ARG(out);
    *out = NULL;
    HRE__CHECK_ARG(opts);
    if ((rc = hre__vstruct_check(&xopt_vs, opts->version)) != HRE_OK) return rc;
    if (!(x = calloc(1, sizeof *x))) return hre__fail(HRE_ENOMEM, "exchange: out of memory");
    if ((rc = hre__vstruct_in(&xopt_vs, &x->o, opts)) != HRE_OK) goto fail;
    if (!x->o.node || (x->o.vault && !x->o.holder_key) ||
        (x->o.holder_type != HRE_VAULT_READER_ACCOUNT && x->o.holder_type != HRE_VAULT_READER_ORG)) {
        rc = hre__fail(HRE_EINVAL, "exchange: a node is required, and a vault needs the holder's key");
        goto fail;
    }
    x->app_type = x->o.app_type ? x->o.app_type : HRE_VAULT_XCH_APP_TYPE;
    if (!x->o.fresh_ms) x->o.fresh_ms = HRE_VAULT_XCH_DEFAULT_FRESH_MS;
    if (!x->o.replay_max) x->o.replay_max = HRE_VAULT_XCH_DEFAULT_REPLAY_MAX;
    if (!x->o.max_transfers) x->o.max_transfers = HRE_VAULT_XCH_DEFAULT_MAX_TRANSFERS;
    if (!x->o.max_per_peer) x->o.max_per_peer = HRE_VAULT_XCH_DEFAULT_MAX_PER_PEER;
    if (!x->o.fetch_timeout_ms) x->o.fetch_timeout_ms = HRE_VAULT_XCH_DEFAULT_FETCH_TIMEOUT_MS;
    x->rate_per_s = HRE_VAULT_XCH_DEFAULT_RATE_PER_S;
    x->rate_burst = HRE_VAULT_XCH_DEFAULT_RATE_BURST;
    if (x->o.replay_max > (1u << 20)) {
        rc = hre__fail(HRE_EINVAL, "exchange: replay_max above 2^20");
        goto fail;
    }
    if (!x->o.audit_max) x->o.audit_max = HRE_VAULT_XCH_DEFAULT_AUDIT_MAX;
    if (x->o.audit_max > HRE_VAULT_XCH_AUDIT_MAX_LIMIT) {
        rc = hre__fail(HRE_EINVAL, "exchange: audit_max above %u", (unsigned)HRE_VAULT_XCH_AUDIT_MAX_LIMIT);
        goto fail;
    }
    if (x->o.vault && (rc = hre_vault__xaud_open(&x->aud, x->o.vault, x->o.audit_max)) != HRE_OK) goto fail;
    x->buf_len = HRE_NODE_APP_MESSAGE_LIMIT;
    if (!(x->replay = calloc(x->o.replay_max, sizeof *x->replay)) ||
        (x->o.vault && !(x->buf = malloc(x->buf_len)))) {
        rc = hre__fail(HRE_ENOMEM, "exchange: out of memory");
        goto fail;
    }
    x->st.version = HRE_VAULT_XCH_STATS_VERSION;
    if ((rc = hre_node_app_register(x->o.node, x->app_type, on_app, x)) != HRE_OK) goto fail;
    *out = x;
    return hre__api_done(HRE_OK);
fail:
    hre_vault__xaud_close(x->aud);
    free(x->replay);
    free(x->buf);
    free(x);
    return rc;
}

HRE_API void hre_vault_xch_free(hre_vault_xch *x)
{
    hre_vault_fetch *f;
    if (!x) return;
    (void)hre_node_app_register(x->o.node, x->app_type, NULL, NULL);
    while (x->xfers) xfer_remove(x, x->xfers);
    for (f = x->fetches; f; f = f->next) {
        fetch_done(f, HRE_ECANCELED, 0, "the exchange was freed");
        f->x = NULL;
    }
    hre_vault__xaud_close(x->aud);
    free(x->replay);
    free(x->buf);
    free(x->txbuf);
    free(x->mp);
    free(x->rate);
    free(x);
}

HRE_API int hre_vault_xch_set_rate_limit(hre_vault_xch *x, uint32_t per_s, uint32_t burst)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(x);
    if (per_s && (burst == 0 || burst > HRE_VAULT_XCH_RATE_BURST_MAX || per_s > HRE_VAULT_XCH_RATE_BURST_MAX))
        return hre__fail(HRE_EINVAL, "exchange: a rate limit needs 1 <= per_s, burst <= %u",
                         (unsigned)HRE_VAULT_XCH_RATE_BURST_MAX);
    x->rate_per_s = per_s;
    x->rate_burst = per_s ? burst : 0;
    x->n_rate = 0;                     /* every peer starts again with a full bucket */
    return hre__api_done(HRE_OK);
}

HRE_API int hre_vault_xch_handle_node_event(hre_vault_xch *x, const hre_node_event *ev)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(x && ev);
    if (ev->type == HRE_NODE_EVENT_APP_WRITABLE) {
        pump_conn(x, ev->conn, 0, ev->now);
    } else if (ev->type == HRE_NODE_EVENT_PEER_DISCONNECTED) {
        xfer *t = x->xfers, *next;
        hre_vault_fetch *f;
        while (t) {
            next = t->next;
            if (t->conn == ev->conn) {
                emit(x, HRE_VAULT_XCH_EVENT_ABORTED, t->conn, 0, HRE_ECANCELED, t->record_id, t->reader,
                     "the peer disconnected");
                xfer_remove(x, t);
            }
            t = next;
        }
        rate_forget(x, ev->conn);
        for (f = x->fetches; f; f = f->next)
            if (f->conn == ev->conn) fetch_done(f, HRE_ECANCELED, 0, "the holder disconnected");
    }
    return hre__api_done(HRE_OK);
}

HRE_API int hre_vault_xch_tick(hre_vault_xch *x, uint64_t now)
{
    HRE__API_SCOPE;
    hre_vault_fetch *f;
    HRE__CHECK_ARG(x);
    replay_sweep(x, now);
    if (x->aud && hre_vault__xaud_sync(x->aud) != HRE_OK) {
        hre__log(x->o.log_fn, x->o.log_user_data, HRE_LOG_ERROR,
                 "exchange: syncing the refusal audit log failed: %s", hre_error_detail());
        x->st.audit_failures++;
        hre_vault__xaud_close(x->aud);   /* its durable state is unknown: reopened (re-scanned) on use */
        x->aud = NULL;
    }
    pump_conn(x, 0, 1, now);
    for (f = x->fetches; f; f = f->next)
        if (f->state != FETCH_DONE && now >= f->last_progress + x->o.fetch_timeout_ms)
            fetch_done(f, HRE_EEXPIRED, 0, "no answer in time");
    return hre__api_done(HRE_OK);
}

HRE_API int hre_vault_xch_stats_get(const hre_vault_xch *x, hre_vault_xch_stats *out)
{
    HRE__API_SCOPE;
    hre_vault_xch_stats s;
    const hre_vault_fetch *f;
    HRE__CHECK_ARG(x && out);
    s = x->st;
    s.transfers = x->n_xfers;
    s.replay_entries = x->n_replay;
    s.fetches = 0;
    for (f = x->fetches; f; f = f->next)
        if (f->state != FETCH_DONE) s.fetches++;
    return hre__api_done(hre__vstruct_out(&xstats_vs, out, &s));
}

/* ------------------------------------------------------------------------ */
/* Fetch                                                                     */
/* ------------------------------------------------------------------------ */

/* Both ways to start a fetch: sign_key set (sign the request here) or req
 * set (signed by the reader elsewhere); enc_key NULL is the raw mode. */
static int fetch_start(hre_vault_fetch **out, hre_vault_xch *x, uint64_t conn, const uint8_t record_id[32],
                       const hre_key *sign_key, const hre_vault_xch_request *req, const hre_key *enc_key,
                       uint64_t max_doc_len, hre_vault_sink_fn sink, void *sink_user_data, uint64_t now)
{
    hre_vault_fetch *f, *g2;
    const hre_contract *c = NULL;
    hre_contract_record rec = HRE_CONTRACT_RECORD_INIT;
    hre_contract_account acct = HRE_CONTRACT_ACCOUNT_INIT;
    hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
    hre_ledger *l;
    uint8_t b[HRE_VAULT_XCH_REQUEST_LEN];
    size_t len = sizeof b;
    int rc;
    if (!(l = hre_node_ledger(x->o.node)) || (rc = hre_ledger_contract(l, &c)) != HRE_OK)
        return hre__fail(HRE_ESTATE, "exchange: the node has no contract state");
    if ((rc = hre_contract_record_get(c, &rec, record_id)) != HRE_OK)
        return rc == HRE_ENOTFOUND ? hre__fail(HRE_ENOTFOUND, "exchange: this chain knows no such record") : rc;
    if (rec.erased) return hre__fail(HRE_EERASED, "exchange: the record was erased");
    if ((rc = hre_node_peer_info_get(x->o.node, &pi, conn)) != HRE_OK) return rc;
    if (req) {
        if (memcmp(req->binding, pi.handshake_hash, 32) != 0)
            return hre__fail(HRE_EINVAL, "exchange: the request is bound to another connection");
        if ((rc = hre_vault_xch_request_verify(req)) != HRE_OK) return rc;
        for (g2 = x->fetches; g2; g2 = g2->next)
            if (g2->conn == conn && g2->state != FETCH_DONE && memcmp(g2->req.nonce, req->nonce, 16) == 0)
                return hre__fail(HRE_EEXISTS, "exchange: a fetch with this nonce is in progress");
    }
    if (!(f = calloc(1, sizeof *f))) return hre__fail(HRE_ENOMEM, "exchange: out of memory");
    f->conn = conn;
    f->sink = sink;
    f->sink_user_data = sink_user_data;
    f->enc_key = enc_key;
    f->raw = enc_key == NULL;
    f->max_doc_len = max_doc_len;
    memcpy(f->doc_sha256, rec.doc_sha256, 32);
    memcpy(f->locator, rec.locator, 32);
    if (req) {
        f->req = *req;
    } else {
        if ((rc = hre_random_bytes(f->req.nonce, sizeof f->req.nonce)) != HRE_OK) goto fail;
        f->req.timestamp_ms = now;
        memcpy(f->req.record_id, record_id, 32);
        memcpy(f->req.binding, pi.handshake_hash, 32);
        if ((rc = hre_vault_xch_request_sign(&f->req, sign_key)) != HRE_OK) goto fail;
    }
    /* the address the wrap must name: the account this key is on, or the
     * address a first key gives */
    if (hre_contract_account_by_key(c, &acct, NULL, f->req.reader_key) == HRE_OK)
        memcpy(f->reader, acct.address, 32);
    else if ((rc = hre_contract_address(f->reader, f->req.reader_key)) != HRE_OK)
        goto fail;
    if ((rc = hre_vault_xch_request_encode(&f->req, b, &len)) != HRE_OK) goto fail;
    if ((rc = hre_node_app_send(x->o.node, conn, x->app_type, b, len, now)) != HRE_OK) goto fail;
    f->last_progress = now;
    f->x = x;
    f->next = x->fetches;
    x->fetches = f;
    *out = f;
    return HRE_OK;
fail:
    free(f);
    return rc;
}

HRE_API int hre_vault_fetch_new(hre_vault_fetch **out, hre_vault_xch *x, const hre_vault_fetch_params *p,
                                hre_vault_sink_fn sink, void *sink_user_data, uint64_t now)
{
    HRE__API_SCOPE;
    hre_vault_fetch_params pp;
    int rc;
    HRE__CHECK_ARG(out);
    *out = NULL;
    HRE__CHECK_ARG(x && p && sink);
    if ((rc = hre__vstruct_in(&fparams_vs, &pp, p)) != HRE_OK) return rc;
    HRE__CHECK_ARG(pp.sign_key && pp.enc_key);
    rc = fetch_start(out, x, pp.conn, pp.record_id, pp.sign_key, NULL, pp.enc_key, pp.max_doc_len, sink,
                     sink_user_data, now);
    return rc == HRE_OK ? hre__api_done(HRE_OK) : rc;
}

HRE_API int hre_vault_fetch_new_signed(hre_vault_fetch **out, hre_vault_xch *x, uint64_t conn,
                                       const hre_vault_xch_request *req, hre_vault_sink_fn sink,
                                       void *sink_user_data, uint64_t now)
{
    HRE__API_SCOPE;
    int rc;
    HRE__CHECK_ARG(out);
    *out = NULL;
    HRE__CHECK_ARG(x && req && sink);
    rc = fetch_start(out, x, conn, req->record_id, NULL, req, NULL, 0, sink, sink_user_data, now);
    return rc == HRE_OK ? hre__api_done(HRE_OK) : rc;
}

HRE_API int hre_vault_fetch_wrap(const hre_vault_fetch *f, hre_vault_wrap *out)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(out);
    memset(out, 0, sizeof *out);
    HRE__CHECK_ARG(f);
    if (!f->have_wrap) return hre__fail(HRE_ESTATE, "exchange: no answer header yet");
    *out = f->wrap;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_vault_fetch_status(const hre_vault_fetch *f, int *done, int *code, int *reason,
                                   hre_vault_content *content)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(f && done && code);
    *done = f->state == FETCH_DONE;
    *code = *done ? f->code : HRE_OK;
    if (reason) *reason = *done ? f->reason : 0;
    if (content) {
        hre_vault_content z = HRE_VAULT_CONTENT_INIT;
        int rc = hre__vstruct_out(&hre_vault__content_vs, content,
                                  *done && f->code == HRE_OK ? &f->content : &z);
        if (rc != HRE_OK) return rc;
    }
    return hre__api_done(HRE_OK);
}

HRE_API int hre_vault_fetch_request(const hre_vault_fetch *f, hre_vault_xch_request *out)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(f && out);
    *out = f->req;
    return hre__api_done(HRE_OK);
}

HRE_API void hre_vault_fetch_free(hre_vault_fetch *f)
{
    if (!f) return;
    if (f->x) {
        hre_vault_fetch **pp = &f->x->fetches;
        while (*pp && *pp != f) pp = &(*pp)->next;
        if (*pp) *pp = f->next;
    }
    hre_vault_opener_free(f->op);
    hre_wipe(f, sizeof *f);
    free(f);
}
