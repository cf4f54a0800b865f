/*
 * Ledger core: options, status names, the block tree helpers, full block
 * validation, storage of block records and index entries, contract
 * snapshots, and open/close (index load or rebuild, torn-tail recovery,
 * snapshot load and replay). docs/PROTOCOL.md section 7.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "chain/internal.h"   /* hre_chain__params_desc: read params up to their version */
#include "hre/hash.h"
#include "hre/merkle.h"
#include "hre/pow.h"
#include "ledger/internal.h"

/* ------------------------------------------------------------------------ */
/* Small public helpers                                                      */
/* ------------------------------------------------------------------------ */

HRE_API const char *hre_ledger_status_name(int status)
{
    switch (status) {
    case HRE_LEDGER_STATUS_NONE: return "none";
    case HRE_LEDGER_CONNECTED: return "connected";
    case HRE_LEDGER_REORGED: return "reorged";
    case HRE_LEDGER_SIDE_BRANCH: return "side-branch";
    case HRE_LEDGER_ORPHAN: return "orphan";
    case HRE_LEDGER_ACCEPTED_TX: return "accepted-tx";
    case HRE_LEDGER_REJECT_DECODE: return "reject-decode";
    case HRE_LEDGER_REJECT_SIZE: return "reject-size";
    case HRE_LEDGER_REJECT_TX_COUNT: return "reject-tx-count";
    case HRE_LEDGER_REJECT_POW: return "reject-pow";
    case HRE_LEDGER_REJECT_BITS: return "reject-bits";
    case HRE_LEDGER_REJECT_TIME_OLD: return "reject-time-old";
    case HRE_LEDGER_REJECT_TIME_FUTURE: return "reject-time-future";
    case HRE_LEDGER_REJECT_MERKLE: return "reject-merkle";
    case HRE_LEDGER_REJECT_MERKLE_MUTATED: return "reject-merkle-mutated";
    case HRE_LEDGER_REJECT_DUPLICATE_TX: return "reject-duplicate-tx";
    case HRE_LEDGER_REJECT_TX_DECODE: return "reject-tx-decode";
    case HRE_LEDGER_REJECT_TX_SIGNATURE: return "reject-tx-signature";
    case HRE_LEDGER_REJECT_CONTRACT: return "reject-contract";
    case HRE_LEDGER_REJECT_INVALID_PARENT: return "reject-invalid-parent";
    case HRE_LEDGER_REJECT_DUPLICATE: return "reject-duplicate";
    case HRE_LEDGER_REJECT_FORK_TOO_DEEP: return "reject-fork-too-deep";
    case HRE_LEDGER_REJECT_BOUND: return "reject-bound";
    case HRE_LEDGER_REJECT_STORAGE: return "reject-storage";
    case HRE_LEDGER_REJECT_GENESIS: return "reject-genesis";
    default: return "unknown";
    }
}

/* Known layouts of hre_ledger_options (rule 7): 1 ends at compress_level,
 * 2 adds the log hook. */
static const size_t options_size[] = {
    0,
    HRE__END(hre_ledger_options, compress_level),
    HRE__END(hre_ledger_options, log_user_data),
};
static const hre__vstruct options_desc = { "hre_ledger_options", HRE_LEDGER_OPTIONS_VERSION,
                                           options_size };
_Static_assert(sizeof options_size / sizeof options_size[0] == HRE_LEDGER_OPTIONS_VERSION + 1,
               "one size per hre_ledger_options version");

HRE_API int hre_ledger_options_init(hre_ledger_options *opts, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&options_desc, opts, version));
}

/* ------------------------------------------------------------------------ */
/* Block tree                                                                */
/* ------------------------------------------------------------------------ */

hre_ledger__node *hre_ledger__tip(const hre_ledger *l)
{
    return l->main[l->main_len - 1];
}

hre_ledger__node *hre_ledger__ancestor(const hre_ledger *l, hre_ledger__node *n, uint64_t h)
{
    if (!n || h > n->height)
        return NULL;
    while (n && !n->on_main && n->height > h)
        n = n->parent;
    if (n && n->on_main)
        return h < l->main_len ? l->main[h] : NULL;
    return n;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

uint32_t hre_ledger__mtp(const hre_ledger *l, const hre_ledger__node *parent)
{
    uint32_t t[11];
    size_t n = 0;
    (void)l;
    for (; parent && n < 11; parent = parent->parent)
        t[n++] = parent->header.time;
    qsort(t, n, sizeof t[0], cmp_u32);
    return t[n / 2];
}

int hre_ledger__expected_bits(const hre_ledger *l, hre_ledger__node *parent, uint32_t *bits)
{
    uint64_t h = parent->height + 1, interval = l->params.retarget_interval;
    hre_ledger__node *first;
    int64_t span;
    uint32_t nb;

    if (h % interval != 0) {
        *bits = parent->header.bits;
        return HRE_OK;
    }
    first = hre_ledger__ancestor(l, parent, h - interval);
    if (!first)
        return hre__fail(HRE_ECORRUPT, "ledger: retarget ancestor at height %llu missing",
                         (unsigned long long)(h - interval));
    span = (int64_t)parent->header.time - (int64_t)first->header.time;
    if (hre_pow_retarget(&nb, parent->header.bits, span,
                         (int64_t)interval * l->params.target_spacing, l->params.pow_limit) != HRE_OK)
        return hre__fail(HRE_ECORRUPT, "ledger: retarget failed at height %llu",
                         (unsigned long long)h);
    *bits = nb;
    return HRE_OK;
}

void hre_ledger__set_status(hre_ledger_status *st, hre_ledger_status v)
{
    if (st)
        *st = v;
}

#define REJ(st, sv, code, ...) (hre_ledger__set_status((st), (sv)), hre__fail((code), __VA_ARGS__))

static int cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

int hre_ledger__check_block(hre_ledger *l, const hre_block *blk, uint8_t hash[32],
                            uint8_t (**txids_out)[32], hre_ledger_status *st)
{
    const hre_header *h = hre_block_header(blk);
    size_t n = hre_block_tx_count(blk), i;
    uint8_t (*txids)[32] = NULL, (*sorted)[32] = NULL, root[32];
    int rc, mutated = 0;

    *txids_out = NULL;
    if ((rc = hre_header_hash(h, hash)) != HRE_OK)
        return rc;
    rc = hre_pow_check_hash(hash, h->bits, l->params.pow_limit);
    if (rc == HRE_EVERIFY) {
        char why[160];
        hre_ledger__why(why, sizeof why);
        return REJ(st, HRE_LEDGER_REJECT_POW, HRE_EVERIFY, "block: proof of work invalid (%s)", why);
    }
    if (rc != HRE_OK)
        return rc;
    txids = hre__malloc((n ? n : 1) * 32);
    sorted = hre__malloc((n ? n : 1) * 32);
    if (!txids || !sorted) {
        rc = hre__fail(HRE_ENOMEM, "block: out of memory");
        goto out;
    }
    for (i = 0; i < n; i++)
        if ((rc = hre_block_txid(blk, txids[i], i)) != HRE_OK)
            goto out;
    if ((rc = hre_merkle_root(root, &mutated, (const uint8_t(*)[32])txids, n)) != HRE_OK)
        goto out;
    if (memcmp(root, h->merkle_root, 32) != 0) {
        rc = REJ(st, HRE_LEDGER_REJECT_MERKLE, HRE_EVERIFY,
                 "block: merkle root differs from the root over its %zu txids", n);
        goto out;
    }
    if (mutated) {
        rc = REJ(st, HRE_LEDGER_REJECT_MERKLE_MUTATED, HRE_EVERIFY,
                 "block: mutated merkle tree (CVE-2012-2459 duplicate pattern)");
        goto out;
    }
    memcpy(sorted, txids, n * 32);
    qsort(sorted, n, 32, cmp_hash);
    for (i = 1; i < n; i++) {
        if (memcmp(sorted[i - 1], sorted[i], 32) == 0) {
            rc = REJ(st, HRE_LEDGER_REJECT_DUPLICATE_TX, HRE_EEXISTS,
                     "block: the same transaction appears twice");
            goto out;
        }
    }
    *txids_out = txids;
    txids = NULL;
    rc = HRE_OK;
out:
    hre__free(txids);
    hre__free(sorted);
    return rc;
}

int hre_ledger__check_bytes(hre_ledger *l, const uint8_t *b, size_t len, hre_block **out,
                            uint8_t hash[32], uint8_t (**txids)[32], hre_ledger_status *st)
{
    hre__reader r;
    uint64_t count;
    int rc;

    *out = NULL;
    *txids = NULL;
    if (len > l->limits.max_block_size)
        return REJ(st, HRE_LEDGER_REJECT_SIZE, HRE_ELIMIT,
                   "block: %zu bytes, over the %llu-byte cap", len,
                   (unsigned long long)l->limits.max_block_size);
    if (len < HRE_HEADER_LEN + 1)
        return REJ(st, HRE_LEDGER_REJECT_DECODE, HRE_EDECODE, "block: %zu bytes, too short", len);
    hre__reader_init(&r, b + HRE_HEADER_LEN, len - HRE_HEADER_LEN);
    if (hre__reader_compact(&r, &count, UINT64_MAX) != HRE_OK)
        return REJ(st, HRE_LEDGER_REJECT_DECODE, HRE_EDECODE, "block: bad transaction count");
    if (count > l->limits.max_tx_count)
        return REJ(st, HRE_LEDGER_REJECT_TX_COUNT, HRE_ELIMIT,
                   "block: %llu transactions, over the cap of %llu", (unsigned long long)count,
                   (unsigned long long)l->limits.max_tx_count);
    rc = hre_block_decode(out, b, len, &l->limits);
    if (rc == HRE_ENOMEM)
        return rc;
    if (rc != HRE_OK) {
        char why[160];
        hre_ledger__why(why, sizeof why);
        return REJ(st, HRE_LEDGER_REJECT_DECODE, rc, "block: does not decode (%s)", why);
    }
    rc = hre_ledger__check_block(l, *out, hash, txids, st);
    if (rc != HRE_OK) {
        hre_block_free(*out);
        *out = NULL;
    }
    return rc;
}

int hre_ledger__check_context(hre_ledger *l, hre_ledger__node *parent, const hre_header *h,
                              uint64_t now, int check_future, hre_ledger_status *st)
{
    uint32_t bits = 0, mtp;
    int rc = hre_ledger__expected_bits(l, parent, &bits);
    if (rc != HRE_OK)
        return rc;
    if (h->bits != bits)
        return REJ(st, HRE_LEDGER_REJECT_BITS, HRE_EVERIFY,
                   "block at height %llu: bits 0x%08x, expected 0x%08x",
                   (unsigned long long)(parent->height + 1), h->bits, bits);
    mtp = hre_ledger__mtp(l, parent);
    if (h->time <= mtp)
        return REJ(st, HRE_LEDGER_REJECT_TIME_OLD, HRE_ESTATE,
                   "block at height %llu: time %u not above the median time past %u",
                   (unsigned long long)(parent->height + 1), h->time, mtp);
    if (check_future && now <= UINT64_MAX - HRE_LEDGER__FUTURE_LIMIT &&
        (uint64_t)h->time > now + HRE_LEDGER__FUTURE_LIMIT)
        return REJ(st, HRE_LEDGER_REJECT_TIME_FUTURE, HRE_ESTATE,
                   "block at height %llu: time %u more than 2 h after now (%llu)",
                   (unsigned long long)(parent->height + 1), h->time, (unsigned long long)now);
    return HRE_OK;
}

/* Signature verification of a block's transactions, one loop item each. */
typedef struct vctx {
    int *res;
    hre_tx **vtx;
    const uint8_t *net;
    hre_keycache *kc;
} vctx;

static void verify_item(void *arg, size_t i)
{
    vctx *v = arg;
    v->res[i] = hre_tx_verify(v->vtx[i], v->kc, v->net);
}

int hre_ledger__apply_txs(hre_ledger *l, hre_contract *c, const hre_block *blk,
                          const uint8_t (*txids)[32], int verify, int skip_known,
                          hre_ledger_status *st)
{
    size_t n = hre_block_tx_count(blk), i, nv = 0;
    hre_tx **txs = NULL, **vtx = NULL;
    size_t *vidx = NULL, k;
    int *res = NULL, rc = HRE_OK, crc = HRE_OK, parallel, vfail = 0;
    uint32_t btime = hre_block_header(blk)->time;
    size_t applied = 0, cbad = 0;
    char cwhy[200] = "";
    vctx vc;
    hre__pool_job vjob;

    if (n == 0)
        return HRE_OK;
    txs = hre__calloc(n, sizeof *txs);
    vtx = hre__calloc(n, sizeof *vtx);
    vidx = hre__calloc(n, sizeof *vidx);
    res = hre__calloc(n, sizeof *res);
    if (!txs || !vtx || !vidx || !res) {
        rc = hre__fail(HRE_ENOMEM, "block: out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        const uint8_t *p;
        size_t len;
        (void)hre_block_tx(blk, &p, &len, i);
        rc = hre_tx_decode_cached(&txs[i], l->kc, p, len);
        if (rc == HRE_ENOMEM)
            goto out;
        if (rc != HRE_OK) {
            char why[160];
            hre_ledger__why(why, sizeof why);
            rc = REJ(st, HRE_LEDGER_REJECT_TX_DECODE, rc, "block tx %zu does not decode (%s)", i, why);
            goto out;
        }
        if (verify && !(skip_known && txids && hre_ledger__map_get(&l->mp_map, txids[i]))) {
            vtx[nv] = txs[i];
            vidx[nv++] = i;
        }
    }
    /* Signatures are verified on the pool's workers while this thread
     * applies the transactions to the contract (apply is undoable, so a bad
     * signature found afterwards just undoes the block); this thread joins
     * the verification when it is done applying. With a pool of 0 threads
     * everything runs here, verification first. */
    vc.res = res;
    vc.vtx = vtx;
    vc.net = l->network_id;
    vc.kc = l->kc;
    parallel = nv > 0 && hre_pool_threads(l->pool) > 0;
    if (parallel) {
        hre__pool_begin(l->pool, &vjob, nv, verify_item, &vc);
    } else if (nv) {
        hre__pool_for(NULL, nv, verify_item, &vc);
        for (i = 0; i < nv; i++)
            vfail |= res[i] != HRE_OK;
    }
    for (i = 0, k = 0; i < n && !vfail; i++) {
        /* The signature of txs[i] is settled when it was verified in the
         * mempool (not in vtx) or on the serial path (already marked); on
         * the parallel path it is being verified right now, and a failure
         * undoes the block below: the ledger vouches for it (defect 1.7). */
        int in_flight = k < nv && vidx[k] == i;
        if (in_flight)
            k++;
        l->cur_tx = (uint32_t)i;
        crc = hre_contract_apply(c, txs[i], btime,
                                 !in_flight || parallel ? HRE_CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER : 0);
        if (crc != HRE_OK) {
            hre_ledger__why(cwhy, sizeof cwhy);
            cbad = i;
            for (k = 0; k < applied; k++)
                (void)hre_contract_undo(c);
            applied = 0;
            break;
        }
        applied++;
    }
    if (parallel) {
        hre__pool_join(l->pool, &vjob);
        for (i = 0; i < nv; i++)
            vfail |= res[i] != HRE_OK;
    }
    if (vfail) {
        for (k = 0; k < applied; k++)
            (void)hre_contract_undo(c);
        applied = 0;
        for (i = 0; i < nv; i++) {
            if (res[i] == HRE_ENOMEM || res[i] == HRE_ECRYPTO) {
                rc = hre__fail(res[i], "block tx %zu: verification could not run", vidx[i]);
                goto out;
            }
        }
        for (i = 0; i < nv && res[i] == HRE_OK; i++)
            ;
        if (i == nv)
            i = 0;
        rc = REJ(st, HRE_LEDGER_REJECT_TX_SIGNATURE, HRE_EVERIFY,
                 "block tx %zu: signature or network id does not verify", vidx[i]);
        goto out;
    }
    if (crc != HRE_OK) {
        l->bad_tx = cbad;
        if (crc == HRE_ENOMEM)
            rc = hre__fail(HRE_ENOMEM, "block tx %zu: out of memory", cbad);
        else
            rc = REJ(st, HRE_LEDGER_REJECT_CONTRACT, crc,
                     "block tx %zu refused by the contract: %s", cbad, cwhy);
        goto out;
    }
    rc = HRE_OK;
out:
    if (txs)
        for (i = 0; i < n; i++)
            hre_tx_free(txs[i]);
    hre__free(txs);
    hre__free(vtx);
    hre__free(vidx);
    hre__free(res);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Contract helpers                                                          */
/* ------------------------------------------------------------------------ */

static void contract_event(void *user_data, const hre_contract_event *cev)
{
    hre_ledger *l = user_data;
    hre_ledger__ev *e;
    if (l->ev_mode != HRE_LEDGER__EV_BUFFER)
        return;
    if (l->n_evs == l->cap_evs) {
        size_t nc = l->cap_evs ? l->cap_evs * 2 : 64;
        hre_ledger__ev *ne = hre__realloc(l->evs, nc * sizeof *ne);
        if (!ne)
            return; /* events are best effort under memory pressure */
        l->evs = ne;
        l->cap_evs = nc;
    }
    e = &l->evs[l->n_evs++];
    memset(e, 0, sizeof *e);
    e->ev.version = HRE_LEDGER_EVENT_VERSION;
    e->ev.type = HRE_LEDGER_EVENT_CONTRACT;
    e->ev.tx_index = l->cur_tx;
    e->cev = *cev;
}

void hre_ledger__contract_options(const hre_ledger *l, hre_contract_options *o)
{
    (void)hre_contract_options_init(o, HRE_CONTRACT_OPTIONS_VERSION);
    memcpy(o->network_id, l->network_id, 32);
    memcpy(o->authority_key, l->authority_key, 34);
    o->genesis_org_name = l->has_org_name ? l->org_name : NULL;
}

int hre_ledger__genesis_contract(hre_ledger *l, hre_contract **out, int events)
{
    hre_contract_options o;
    hre_ledger__contract_options(l, &o);
    if (events) {
        o.on_event = contract_event;   /* it writes to l: hence l is not const */
        o.user_data = l;
    }
    return hre_contract_new(out, &o);
}

void hre_ledger__ensure_tip_state(hre_ledger *l)
{
    while (l->overlay > 0) {
        (void)hre_contract_undo(l->c);
        l->overlay--;
    }
}

/* Keep undo entries for the last max_reorg blocks. */
void hre_ledger__trim_undo(hre_ledger *l)
{
    size_t keep = 0;
    uint64_t tip = l->main_len - 1, h, lo;
    lo = tip > l->max_reorg ? tip - l->max_reorg : 0;
    if (lo < l->undo_floor)
        lo = l->undo_floor;
    for (h = tip; h > lo; h--)
        keep += l->main[h]->tx_count;
    hre_contract_undo_forget(l->c, keep + l->overlay);
    l->undo_floor = lo;
}

/* ------------------------------------------------------------------------ */
/* Storage: segments and index                                               */
/* ------------------------------------------------------------------------ */

static void seg_name(char out[32], uint32_t n)
{
    snprintf(out, 32, HRE_LEDGER__SEG_FMT, n);
}

static void snap_name(char out[40], uint64_t h)
{
    snprintf(out, 40, HRE_LEDGER__SNAP_FMT, (unsigned long long)h);
}

static int map_io(int rc)
{
    return rc == HRE_ESTATE ? HRE_EIO : rc;
}

int hre_ledger__read_block(hre_ledger *l, const hre_ledger__node *n, hre_block **out)
{
    uint8_t *buf;
    size_t got = 0;
    uint8_t hash[32];
    int rc;

    *out = NULL;
    if (!n->stored)
        return hre_block_new(out, &n->header, &l->limits);
    if (n->seg >= l->n_segs)
        return hre__fail(HRE_ECORRUPT, "ledger: block at height %llu in missing segment %u",
                         (unsigned long long)n->height, n->seg);
    buf = hre__malloc(n->rec_len ? n->rec_len : 1);
    if (!buf)
        return hre__fail(HRE_ENOMEM, "ledger: out of memory");
    rc = hre_storage__record_read(l->segs[n->seg], n->offset, l->max_rec, buf, n->rec_len, &got);
    if (rc == HRE_OK && got != n->rec_len)
        rc = HRE_ECORRUPT;
    if (rc != HRE_OK) {
        hre__free(buf);
        if (rc == HRE_ECORRUPT || rc == HRE_EBUFSIZE)
            return hre__fail(HRE_ECORRUPT,
                             "ledger: block record at height %llu (" HRE_LEDGER__SEG_FMT
                             " offset %llu) is damaged",
                             (unsigned long long)n->height, n->seg,
                             (unsigned long long)n->offset);
        return rc;
    }
    rc = hre_ledger__record_decode(out, buf, got, &l->limits);
    hre__free(buf);
    if (rc == HRE_ENOMEM)
        return rc;
    if (rc != HRE_OK)
        return hre__fail(HRE_ECORRUPT, "ledger: block record at height %llu does not decode",
                         (unsigned long long)n->height);
    if ((rc = hre_header_hash(hre_block_header(*out), hash)) != HRE_OK) {
        hre_block_free(*out);
        *out = NULL;
        return rc;
    }
    if (memcmp(hash, n->hash, 32) != 0) {
        hre_block_free(*out);
        *out = NULL;
        return hre__fail(HRE_ECORRUPT, "ledger: block record at height %llu has another hash",
                         (unsigned long long)n->height);
    }
    return HRE_OK;
}

static int seg_add_reader(hre_ledger *l, uint32_t n)
{
    char name[32];
    hre_storage_file **ns;
    int rc;
    seg_name(name, n);
    ns = hre__realloc(l->segs, (size_t)(l->n_segs + 1) * sizeof *ns);
    if (!ns)
        return hre__fail(HRE_ENOMEM, "ledger: out of memory");
    l->segs = ns;
    rc = hre_storage_file_open(&l->segs[l->n_segs], l->st, name, HRE_STORAGE_READ);
    if (rc != HRE_OK)
        return rc;
    l->n_segs++;
    return HRE_OK;
}

/* Make l->seg_log usable for an append of about `need` bytes: reopen it after
 * a failure (cutting anything past the last known record), or roll to a new
 * segment when the current one is full. */
static int seg_ensure(hre_ledger *l)
{
    char name[32];
    int rc;

    if (!l->seg_log) {
        hre_storage_file *f = NULL;
        uint64_t size = 0;
        if (l->n_segs == 0)
            goto roll;
        seg_name(name, l->n_segs - 1);
        rc = hre_storage_file_open(&f, l->st, name, HRE_STORAGE_READ | HRE_STORAGE_WRITE);
        if (rc != HRE_OK)
            return rc;
        rc = hre_storage_file_size(f, &size);
        if (rc == HRE_OK && size != l->seg_good_end) {
            rc = hre_storage_file_truncate(f, l->seg_good_end);
            if (rc == HRE_OK)
                rc = hre_storage_file_sync(f);
        }
        (void)hre_storage_file_close(f);
        if (rc != HRE_OK)
            return rc;
        rc = hre_storage__log_open(&l->seg_log, l->st, name, 0, l->max_rec, NULL, NULL, NULL);
        if (rc != HRE_OK)
            return map_io(rc);
    }
    if (hre_storage__log_end(l->seg_log) < l->segment_size)
        return HRE_OK;
    /* Roll: everything in the old segment becomes durable first. */
    if ((rc = hre_storage__log_sync(l->seg_log)) != HRE_OK) {
        hre_ledger__seg_broken(l);
        return map_io(rc);
    }
    (void)hre_storage__log_close(l->seg_log);
    l->seg_log = NULL;
roll:
    if (l->n_segs >= HRE_LEDGER__MAX_SEGS)
        return hre__fail(HRE_ELIMIT, "ledger: too many segments");
    seg_name(name, l->n_segs);
    rc = hre_storage__log_open(&l->seg_log, l->st, name, HRE_STORAGE__LOG_CREATE, l->max_rec,
                               NULL, NULL, NULL);
    if (rc != HRE_OK)
        return map_io(rc);
    rc = seg_add_reader(l, l->n_segs);
    if (rc != HRE_OK) {
        (void)hre_storage__log_close(l->seg_log);
        l->seg_log = NULL;
        return rc;
    }
    l->seg_good_end = 0;
    return HRE_OK;
}

void hre_ledger__seg_broken(hre_ledger *l)
{
    if (l->seg_log)
        (void)hre_storage__log_close(l->seg_log);
    l->seg_log = NULL;
}

int hre_ledger__store_record(hre_ledger *l, const hre_block *blk, int sync, uint32_t *seg,
                             uint64_t *off, uint32_t *rec_len)
{
    uint8_t *rec = NULL;
    size_t len = 0;
    int rc = hre_ledger__record_encode(&rec, &len, blk, l->level);
    if (rc != HRE_OK)
        return rc;
    return hre_ledger__store_encoded(l, rec, len, sync, seg, off, rec_len);
}

int hre_ledger__store_encoded(hre_ledger *l, uint8_t *rec, size_t len, int sync, uint32_t *seg,
                              uint64_t *off, uint32_t *rec_len)
{
    int rc;
    if (len > l->max_rec) {
        hre__free(rec);
        return hre__fail(HRE_ELIMIT, "ledger: block record of %zu bytes over the cap", len);
    }
    rc = seg_ensure(l);
    if (rc == HRE_OK)
        rc = hre_storage__log_append(l->seg_log, rec, len, off);
    hre__free(rec);
    if (rc != HRE_OK) {
        hre_ledger__seg_broken(l);
        return map_io(rc);
    }
    if (sync && (rc = hre_ledger__seg_sync(l)) != HRE_OK)
        return rc;
    *seg = l->n_segs - 1;
    *rec_len = (uint32_t)len;
    return HRE_OK;
}

int hre_ledger__seg_sync(hre_ledger *l)
{
    int rc;
    if (!l->seg_log)
        return hre__fail(HRE_EIO, "ledger: segment log is not open");
    rc = hre_storage__log_sync(l->seg_log);
    if (rc != HRE_OK) {
        hre_ledger__seg_broken(l);
        return map_io(rc);
    }
    l->seg_good_end = hre_storage__log_end(l->seg_log);
    return HRE_OK;
}

static void index_append(hre_ledger *l, const uint8_t *p, size_t len)
{
    if (!l->idx_log)
        return;
    if (hre_storage__log_append(l->idx_log, p, len, NULL) != HRE_OK) {
        /* Not fatal: the index is extended from the segments on the next open. */
        (void)hre_storage__log_close(l->idx_log);
        l->idx_log = NULL;
    }
}

void hre_ledger__index_block(hre_ledger *l, const hre_ledger__node *n)
{
    hre_ledger__index_entry e;
    uint8_t buf[HRE_LEDGER__IDX_LEN];
    e.seg = n->seg;
    e.offset = n->offset;
    e.rec_len = n->rec_len;
    e.tx_count = n->tx_count;
    e.header = n->header;
    hre_ledger__index_encode(buf, &e);
    index_append(l, buf, sizeof buf);
}

void hre_ledger__mark_invalid(hre_ledger *l, hre_ledger__node *n)
{
    uint8_t buf[HRE_LEDGER__IDX_INVALID_LEN];
    size_t i;
    n->invalid = 1;
    for (i = (size_t)n->seq + 1; i < l->n_nodes; i++)
        if (l->nodes[i]->parent && l->nodes[i]->parent->invalid)
            l->nodes[i]->invalid = 1;
    buf[0] = HRE_LEDGER__IDX_INVALID;
    memcpy(buf + 1, n->hash, 32);
    index_append(l, buf, sizeof buf);
}


/* Room for one more node in the tree and on the main chain. */
static int node_reserve(hre_ledger *l)
{
    int rc;
    if (l->n_nodes == l->cap_nodes) {
        size_t nc = l->cap_nodes ? l->cap_nodes * 2 : 256;
        hre_ledger__node **nn = hre__realloc(l->nodes, nc * sizeof *nn);
        if (!nn)
            return hre__fail(HRE_ENOMEM, "ledger: out of memory");
        l->nodes = nn;
        l->cap_nodes = nc;
    }
    /* main[] may come to hold every node (a chain of all of them). */
    if (l->n_nodes + 1 >= l->main_cap) {
        size_t nc = l->main_cap ? l->main_cap * 2 : 256;
        hre_ledger__node **nm = hre__realloc(l->main, nc * sizeof *nm);
        if (!nm)
            return hre__fail(HRE_ENOMEM, "ledger: out of memory");
        l->main = nm;
        l->main_cap = nc;
    }
    if ((rc = hre_ledger__map_reserve(&l->node_map, 1)) != HRE_OK)
        return rc;
    return HRE_OK;
}

/* Create a node (not yet linked), with room reserved to link it; the caller
 * links it with node_link or frees it. */
hre_ledger__node *hre_ledger__node_new(hre_ledger *l, const hre_header *h, const uint8_t hash[32],
                                       hre_ledger__node *parent)
{
    hre_ledger__node *n;
    uint8_t w[32];
    if (hre_pow_work(w, h->bits) != HRE_OK || node_reserve(l) != HRE_OK)
        return NULL;
    n = hre__calloc(1, sizeof *n);
    if (!n) {
        hre__fail(HRE_ENOMEM, "ledger: out of memory");
        return NULL;
    }
    memcpy(n->hash, hash, 32);
    n->header = *h;
    n->parent = parent;
    n->height = parent ? parent->height + 1 : 0;
    if (parent) {
        if (hre_pow_work_add(n->work, parent->work, w) != HRE_OK) {
            hre__free(n);
            hre__fail(HRE_ELIMIT, "ledger: chain work overflow");
            return NULL;
        }
    } else {
        memcpy(n->work, w, 32);
    }
    return n;
}

/* Link a node made by node_new (its room is reserved: cannot fail). */
void hre_ledger__node_link(hre_ledger *l, hre_ledger__node *n)
{
    n->seq = l->n_nodes;
    l->nodes[l->n_nodes++] = n;
    (void)hre_ledger__map_put(&l->node_map, n->hash, n);
}

/* Unlink and free the most recently linked node. */
void hre_ledger__node_pop(hre_ledger *l)
{
    hre_ledger__node *n = l->nodes[--l->n_nodes];
    hre_ledger__map_del(&l->node_map, n->hash);
    hre__free(n);
}

/* ------------------------------------------------------------------------ */
/* Snapshots                                                                 */
/* ------------------------------------------------------------------------ */

static int snaps_add(hre_ledger *l, uint64_t h, const uint8_t hash[32])
{
    size_t i;
    for (i = 0; i < l->n_snaps; i++) {
        if (l->snaps[i].height == h) {
            memcpy(l->snaps[i].hash, hash, 32);
            return HRE_OK;
        }
    }
    if (l->n_snaps == l->cap_snaps) {
        size_t nc = l->cap_snaps ? l->cap_snaps * 2 : 8;
        hre_ledger__snapinfo *ns = hre__realloc(l->snaps, nc * sizeof *ns);
        if (!ns)
            return hre__fail(HRE_ENOMEM, "ledger: out of memory");
        l->snaps = ns;
        l->cap_snaps = nc;
    }
    l->snaps[l->n_snaps].height = h;
    memcpy(l->snaps[l->n_snaps].hash, hash, 32);
    l->n_snaps++;
    return HRE_OK;
}

static int cmp_snap_desc(const void *a, const void *b)
{
    const hre_ledger__snapinfo *x = a, *y = b;
    return x->height > y->height ? -1 : x->height < y->height;
}

uint64_t hre_ledger__last_snap_height(const hre_ledger *l)
{
    uint64_t m = 0;
    size_t i;
    for (i = 0; i < l->n_snaps; i++)
        if (l->snaps[i].height > m)
            m = l->snaps[i].height;
    return m;
}

int hre_ledger__write_snapshot(hre_ledger *l)
{
    hre_ledger__node *tip;
    uint8_t *buf = NULL, sh[32];
    size_t plen = 0, len, i;
    char name[40];
    int rc;

    hre_ledger__ensure_tip_state(l);
    tip = hre_ledger__tip(l);
    if (tip->height == 0)
        return HRE_OK;
    (void)hre_contract_snapshot_save(l->c, NULL, &plen);
    if (plen == 0)
        return hre__fail(HRE_EIO, "ledger: snapshot size unknown");
    len = HRE_LEDGER__SNAP_OVERHEAD + plen;
    buf = hre__malloc(len);
    if (!buf)
        return hre__fail(HRE_ENOMEM, "ledger: out of memory for a snapshot");
    hre__advise_large(buf, len);
    if ((rc = hre_contract_snapshot_save(l->c, buf + HRE_LEDGER__SNAP_HEADER, &plen)) != HRE_OK ||
        (rc = hre_contract_state_hash(l->c, sh)) != HRE_OK) {
        hre__free(buf);
        return rc;
    }
    memcpy(buf, HRE_LEDGER__SNAP_MAGIC, 8);
    hre__put_le64(buf + 8, tip->height);
    memcpy(buf + 16, tip->hash, 32);
    memcpy(buf + 48, sh, 32);
    hre__put_le64(buf + 80, plen);
    hre__put_le32(buf + 88, hre_storage__crc32(0, buf, 88));
    if (l->idx_log && hre_storage__log_sync(l->idx_log) != HRE_OK) {
        (void)hre_storage__log_close(l->idx_log);
        l->idx_log = NULL;
    }
    snap_name(name, tip->height);
    rc = hre_storage__write_file_atomic(l->st, name, buf, len);
    hre__free(buf);
    if (rc != HRE_OK) {
        HRE_LEDGER__LOG(l, HRE_LOG_ERROR, "snapshot at height %llu not written: %s: %s",
                        (unsigned long long)tip->height, hre_strerror(rc), hre_error_detail());
        return rc;
    }
    HRE_LEDGER__LOG(l, HRE_LOG_INFO, "snapshot written: %s (height %llu, %zu bytes)", name,
                    (unsigned long long)tip->height, len);
    if ((rc = snaps_add(l, tip->height, tip->hash)) != HRE_OK)
        return rc;
    /* Keep the two newest. */
    qsort(l->snaps, l->n_snaps, sizeof *l->snaps, cmp_snap_desc);
    for (i = 2; i < l->n_snaps; i++) {
        snap_name(name, l->snaps[i].height);
        (void)hre_storage_remove(l->st, name);
    }
    if (l->n_snaps > 2) {
        l->n_snaps = 2;
        (void)hre_storage_sync_dir(l->st);
    }
    return HRE_OK;
}

/* Largest snapshot file read back (a larger one counts as unusable: the
 * state is then replayed from an older snapshot or genesis). */
#define SNAP_MAX_BYTES ((size_t)1 << (sizeof(size_t) > 4 ? 34 : 30))

/* Try to load the snapshot of main-chain height h. */
static int snap_load(hre_ledger *l, const hre_ledger__snapinfo *si, hre_contract **out)
{
    char name[40];
    uint8_t *buf = NULL, hash[32], sh[32], got[32];
    const uint8_t *payload;
    size_t len = 0, plen;
    uint64_t h;
    hre_contract_options o;
    int rc;

    *out = NULL;
    snap_name(name, si->height);
    rc = hre_storage__read_all(l->st, name, SNAP_MAX_BYTES, &buf, &len);
    if (rc != HRE_OK)
        return rc;
    rc = hre_ledger__snap_parse(buf, len, &h, hash, sh, &payload, &plen);
    if (rc == HRE_OK && (h != si->height || memcmp(hash, si->hash, 32) != 0))
        rc = hre__fail(HRE_ECORRUPT, "snapshot %s: names another block", name);
    if (rc == HRE_OK) {
        hre_ledger__contract_options(l, &o);
        o.on_event = contract_event;
        o.user_data = l;
        /* the ledger's pool, plus this thread */
        o.pool = l->pool;
        rc = hre_contract_snapshot_load(out, &o, payload, plen);
    }
    if (rc == HRE_OK && (hre_contract_state_hash(*out, got) != HRE_OK || memcmp(got, sh, 32) != 0)) {
        hre_contract_free(*out);
        *out = NULL;
        rc = hre__fail(HRE_ECORRUPT, "snapshot %s: state hash mismatch", name);
    }
    hre__free(buf);
    if (rc != HRE_OK && rc != HRE_ENOMEM)
        HRE_LEDGER__LOG(l, HRE_LOG_WARN, "snapshot %s is unusable (%s: %s); using an older one or "
                        "replaying", name, hre_strerror(rc), hre_error_detail());
    return rc;
}

/* Rebuild l->c as the state at main-chain height h: the newest usable
 * snapshot at or below h, then blocks replayed (full validation when
 * `full`). On a validation failure *bad is the failing height. */
int hre_ledger__rebuild_state(hre_ledger *l, uint64_t h, int full, uint64_t *bad)
{
    hre_contract *c = NULL;
    uint64_t from = 0, k;
    size_t i;
    int rc;

    *bad = UINT64_MAX;
    if (l->n_snaps > 1)
        qsort(l->snaps, l->n_snaps, sizeof *l->snaps, cmp_snap_desc);
    for (i = 0; i < l->n_snaps; i++) {
        const hre_ledger__snapinfo *si = &l->snaps[i];
        if (si->height > h || si->height >= l->main_len ||
            memcmp(l->main[si->height]->hash, si->hash, 32) != 0)
            continue;
        rc = snap_load(l, si, &c);
        if (rc == HRE_ENOMEM)
            return rc;
        if (rc == HRE_OK) {
            from = si->height;
            break;
        }
        /* damaged or unusable: fall back to an older one, or to replay */
    }
    if (!c && (rc = hre_ledger__genesis_contract(l, &c, 1)) != HRE_OK)
        return rc;
    l->state_from = from;
    hre_contract_free(l->c);
    l->c = c;
    l->overlay = 0;
    l->ev_mode = HRE_LEDGER__EV_DROP;
    for (k = from + 1; k <= h; k++) {
        hre_ledger__node *n = l->main[k];
        hre_block *blk = NULL;
        uint8_t hash[32];
        uint8_t (*txids)[32] = NULL;
        rc = hre_ledger__read_block(l, n, &blk);
        if (rc == HRE_OK && full) {
            rc = hre_ledger__check_block(l, blk, hash, &txids, NULL);
            if (rc == HRE_OK)
                rc = hre_ledger__check_context(l, n->parent, &n->header, 0, 0, NULL);
        }
        if (rc == HRE_OK)
            rc = hre_ledger__apply_txs(l, l->c, blk, (const uint8_t(*)[32])txids, full, 0, NULL);
        hre__free(txids);
        hre_block_free(blk);
        if (rc != HRE_OK) {
            *bad = k;
            /* leave a consistent state at k - 1 */
            l->undo_floor = from;
            return rc;
        }
    }
    l->undo_floor = from;
    return HRE_OK;
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                            */
/* ------------------------------------------------------------------------ */

static int fingerprint(hre_ledger *l)
{
    hre__writer w;
    uint8_t buf[512];
    size_t n;
    hre__writer_init(&w, buf, sizeof buf);
    hre__writer_bytes(&w, "HRE-LEDGER-PARAMS-v1", 20);
    /* the layout of these fields (1), not the caller's struct version: a
     * newer hre_chain_params with the same values names the same network */
    hre__writer_u32(&w, 1);
    {
        uint8_t h[80];
        hre_header_encode(&l->params.genesis, h);
        hre__writer_bytes(&w, h, 80);
    }
    hre__writer_u32(&w, l->params.retarget_interval);
    hre__writer_bytes(&w, l->params.pow_limit, 32);
    hre__writer_u64(&w, (uint64_t)l->params.target_spacing);
    hre__writer_u64(&w, l->params.max_block_size);
    hre__writer_u64(&w, l->params.max_tx_count);
    hre__writer_bytes(&w, l->authority_key, 34);
    n = l->has_org_name ? strlen(l->org_name) : 0;
    hre__writer_u8(&w, (uint8_t)n);
    hre__writer_bytes(&w, l->org_name, n);
    if (hre__writer_finish(&w, &n) != HRE_OK)
        return hre__fail(HRE_EINVAL, "ledger: params too long");
    return hre_sha256(l->fingerprint, buf, n);
}

typedef struct open_list {
    hre_ledger *l;
    uint32_t max_seg;
    int have_seg, have_other;
    int rc;
} open_list;

static int parse_num(const char *s, size_t n, int base, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        int d;
        char ch = s[i];
        if (ch >= '0' && ch <= '9')
            d = ch - '0';
        else if (base == 16 && ch >= 'a' && ch <= 'f')
            d = ch - 'a' + 10;
        else
            return -1;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = v;
    return 0;
}

static int list_cb(void *arg, const char *name)
{
    open_list *ol = arg;
    size_t len = strlen(name);
    uint64_t v;
    if (len == 13 && memcmp(name, "blk-", 4) == 0 && memcmp(name + 9, ".dat", 4) == 0 &&
        parse_num(name + 4, 5, 10, &v) == 0) {
        if (!ol->have_seg || v > ol->max_seg)
            ol->max_seg = (uint32_t)v;
        ol->have_seg = 1;
        ol->have_other = 1;
    } else if (len == 25 && memcmp(name, "snap-", 5) == 0 && memcmp(name + 21, ".dat", 4) == 0 &&
               parse_num(name + 5, 16, 16, &v) == 0) {
        uint8_t zero[32] = {0};
        /* hash filled in when the header is read (snap_probe) */
        if (snaps_add(ol->l, v, zero) != HRE_OK)
            ol->rc = HRE_ENOMEM;
        ol->have_other = 1;
    } else if (strcmp(name, HRE_LEDGER__INDEX_FILE) == 0) {
        ol->have_other = 1;
    }
    return 0;
}

/* Read the fixed header of each snapshot file listed to learn its block hash. */
static void snap_probe(hre_ledger *l)
{
    size_t i, j = 0;
    for (i = 0; i < l->n_snaps; i++) {
        char name[40];
        hre_storage_file *f = NULL;
        uint8_t hdr[48];
        snap_name(name, l->snaps[i].height);
        if (hre_storage_file_open(&f, l->st, name, HRE_STORAGE_READ) != HRE_OK)
            continue;
        if (hre_storage__read_exact(f, 0, hdr, sizeof hdr) == HRE_OK &&
            (memcmp(hdr, HRE_LEDGER__SNAP_MAGIC, 8) == 0 || memcmp(hdr, HRE_LEDGER__SNAP_MAGIC_V1, 8) == 0) &&
            hre__le64(hdr + 8) == l->snaps[i].height) {
            l->snaps[j].height = l->snaps[i].height;
            memcpy(l->snaps[j].hash, hdr + 16, 32);
            j++;
        }
        (void)hre_storage_file_close(f);
    }
    l->n_snaps = j;
}

static int params_file(hre_ledger *l, int exists_other)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = hre_storage__read_all(l->st, HRE_LEDGER__PARAMS_FILE, 4096, &buf, &len);
    if (rc == HRE_ENOTFOUND) {
        uint8_t out[HRE_LEDGER__PARAMS_LEN];
        if (exists_other)
            return hre__fail(HRE_ECORRUPT, "ledger: %s is missing but block files exist",
                             HRE_LEDGER__PARAMS_FILE);
        memcpy(out, HRE_LEDGER__PARAMS_MAGIC, 8);
        memcpy(out + 8, l->fingerprint, 32);
        memcpy(out + 40, l->network_id, 32);
        hre__put_le32(out + 72, hre_storage__crc32(0, out, 72));
        return hre_storage__write_file_atomic(l->st, HRE_LEDGER__PARAMS_FILE, out, sizeof out);
    }
    if (rc != HRE_OK)
        return rc == HRE_ELIMIT ? hre__fail(HRE_ECORRUPT, "ledger: %s too large",
                                            HRE_LEDGER__PARAMS_FILE) : rc;
    if (len != HRE_LEDGER__PARAMS_LEN || memcmp(buf, HRE_LEDGER__PARAMS_MAGIC, 8) != 0 ||
        hre_storage__crc32(0, buf, 72) != hre__le32(buf + 72)) {
        hre__free(buf);
        return hre__fail(HRE_ECORRUPT, "ledger: %s is damaged", HRE_LEDGER__PARAMS_FILE);
    }
    if (memcmp(buf + 8, l->fingerprint, 32) != 0) {
        hre__free(buf);
        return hre__fail(HRE_EINVAL,
                         "ledger: params fingerprint mismatch: the storage holds a ledger of "
                         "another network (genesis, PoW limit, spacing, interval, caps or "
                         "authority differ)");
    }
    hre__free(buf);
    return HRE_OK;
}

/* Entries collected while loading. */
typedef struct load_ent {
    hre_ledger__index_entry e;
    int invalid_mark;
    uint8_t hash[32];
} load_ent;

typedef struct load_ctx {
    hre_ledger *l;
    load_ent *v;
    size_t n, cap;
    uint32_t cur_seg;
    int bad;
} load_ctx;

static int ld_push(load_ctx *c, const load_ent *e)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 256;
        load_ent *nv = hre__realloc(c->v, nc * sizeof *nv);
        if (!nv)
            return HRE_ENOMEM;
        c->v = nv;
        c->cap = nc;
    }
    c->v[c->n++] = *e;
    return HRE_OK;
}

static int idx_cb(void *arg, uint64_t offset, const uint8_t *p, size_t len)
{
    load_ctx *c = arg;
    load_ent e;
    (void)offset;
    memset(&e, 0, sizeof e);
    if (len == HRE_LEDGER__IDX_INVALID_LEN && p[0] == HRE_LEDGER__IDX_INVALID) {
        e.invalid_mark = 1;
        memcpy(e.hash, p + 1, 32);
    } else if (hre_ledger__index_decode(&e.e, p, len, c->l->max_rec) == HRE_OK) {
        int rc = hre_header_hash(&e.e.header, e.hash);
        if (rc != HRE_OK)
            return rc;
    } else {
        c->bad = 1;
        return 0;
    }
    return ld_push(c, &e) == HRE_OK ? 0 : HRE_ENOMEM;
}

static int seg_cb(void *arg, uint64_t offset, const uint8_t *p, size_t len)
{
    load_ctx *c = arg;
    load_ent e;
    memset(&e, 0, sizeof e);
    if (hre_ledger__record_peek(p, len, &e.e.header, &e.e.tx_count) != HRE_OK) {
        c->bad = 1;
        return 0;
    }
    e.e.seg = c->cur_seg;
    e.e.offset = offset;
    e.e.rec_len = (uint32_t)len;
    if (hre_header_hash(&e.e.header, e.hash) != HRE_OK)
        return HRE_ECRYPTO;
    return ld_push(c, &e) == HRE_OK ? 0 : HRE_ENOMEM;
}

static int cmp_ent_pos(const load_ent *a, const load_ent *b)
{
    if (a->e.seg != b->e.seg)
        return a->e.seg < b->e.seg ? -1 : 1;
    return a->e.offset < b->e.offset ? -1 : a->e.offset > b->e.offset;
}

#define LEDGER__REBUILD 1

/* The first block entry at or after i (n if none). */
static size_t next_blk(const load_ctx *lc, size_t i, size_t n)
{
    while (i < n && lc->v[i].invalid_mark)
        i++;
    return i;
}

/* Load the block entries: index entries, then records of the segments from
 * the last indexed one on. Returns LEDGER__REBUILD when the index must be
 * rebuilt from all segments. */
static int load_entries(hre_ledger *l, load_ctx *lc, uint32_t nseg, int use_index)
{
    hre_storage__scan_info info;
    hre_storage__log *lg = NULL;
    uint32_t first = 0, s = 0, size_seg = UINT32_MAX;
    uint64_t size = 0;
    size_t i, j, k, ip = 0, n_idx, last_blk = SIZE_MAX;
    int rc;

    if (use_index) {
        rc = hre_storage__log_open(&l->idx_log, l->st, HRE_LEDGER__INDEX_FILE,
                                   HRE_STORAGE__LOG_CREATE, 256, idx_cb, lc, NULL);
        if (rc == HRE_ECORRUPT || rc == HRE_ELIMIT || lc->bad)
            return LEDGER__REBUILD;
        if (rc != HRE_OK)
            return rc;
    }
    n_idx = lc->n;
    for (i = 0; i < n_idx; i++)
        if (!lc->v[i].invalid_mark)
            last_blk = i;
    if (last_blk != SIZE_MAX)
        first = lc->v[last_blk].e.seg;
    if (last_blk != SIZE_MAX && first >= nseg)
        return hre__fail(HRE_ECORRUPT, "ledger: the index names segment %u, which is missing",
                         first);
    /* Earlier segments: readers only; entries must lie inside them. */
    for (s = 0; s < nseg; s++) {
        if ((rc = seg_add_reader(l, s)) != HRE_OK)
            return rc == HRE_ENOTFOUND ? hre__fail(HRE_ECORRUPT, "ledger: segment %u missing", s)
                                       : rc;
    }
    for (i = 0; i < n_idx; i++) {
        const load_ent *e = &lc->v[i];
        if (e->invalid_mark)
            continue;
        if (e->e.seg >= nseg)
            return hre__fail(HRE_ECORRUPT, "ledger: the index names segment %u, which is missing",
                             e->e.seg);
        if (e->e.seg != size_seg) {
            size_seg = e->e.seg;
            if (hre_storage_file_size(l->segs[size_seg], &size) != HRE_OK)
                return hre__fail(HRE_EIO, "ledger: segment size unknown");
        }
        if (e->e.offset + HRE_STORAGE__REC_HDR + e->e.rec_len > size) {
            if (e->e.seg + 1 < nseg || e->e.seg < first)
                return LEDGER__REBUILD;
            /* Last segment: an indexed (hence synced) record past the end
             * means synced data was lost. */
            return hre__fail(HRE_ECORRUPT,
                             "ledger: " HRE_LEDGER__SEG_FMT " is shorter than its indexed blocks",
                             e->e.seg);
        }
    }
    /* Index block entries must be in storage order. */
    {
        const load_ent *prev = NULL;
        for (i = 0; i < n_idx; i++) {
            if (lc->v[i].invalid_mark)
                continue;
            if (prev && cmp_ent_pos(prev, &lc->v[i]) >= 0)
                return LEDGER__REBUILD;
            prev = &lc->v[i];
        }
    }
    /* Scan the segments from `first` on for records the index lacks. */
    for (s = first; s < nseg; s++) {
        char name[32];
        size_t before = lc->n;
        seg_name(name, s);
        lc->cur_seg = s;
        rc = hre_storage__log_open(&lg, l->st, name, HRE_STORAGE__LOG_READONLY, l->max_rec, seg_cb,
                                   lc, &info);
        if (rc == HRE_ECORRUPT || rc == HRE_ELIMIT)
            return hre__fail(HRE_ECORRUPT, "ledger: %s damaged at offset %llu", name,
                             (unsigned long long)info.damage_at);
        if (rc != HRE_OK)
            return rc;
        (void)hre_storage__log_close(lg);
        lg = NULL;
        if (lc->bad)
            return hre__fail(HRE_ECORRUPT, "ledger: %s holds a record that is not a block", name);
        if (info.torn_tail && s + 1 < nseg)
            return hre__fail(HRE_ECORRUPT, "ledger: sealed segment %s damaged at offset %llu",
                             name, (unsigned long long)info.damage_at);
        /* Merge the index entries of this segment (ascending offsets) with
         * the scanned records (ascending): every indexed block must be a
         * scanned record with the same hash; scanned records the index
         * already has are dropped. */
        while ((ip = next_blk(lc, ip, n_idx)) < n_idx && lc->v[ip].e.seg < s)
            ip++;
        for (j = k = before; j < lc->n; j++) {
            ip = next_blk(lc, ip, n_idx);
            if (ip < n_idx && lc->v[ip].e.seg == s && lc->v[ip].e.offset < lc->v[j].e.offset)
                goto unmatched;
            if (ip < n_idx && lc->v[ip].e.seg == s && lc->v[ip].e.offset == lc->v[j].e.offset) {
                if (memcmp(lc->v[ip].hash, lc->v[j].hash, 32) != 0)
                    return LEDGER__REBUILD;
                ip++;
                continue;
            }
            lc->v[k++] = lc->v[j];
        }
        ip = next_blk(lc, ip, n_idx);
        if (ip < n_idx && lc->v[ip].e.seg == s)
            goto unmatched;
        lc->n = k;
        if (s + 1 == nseg) {
            l->seg_good_end = info.valid_end;
        }
    }
    /* Entries must be in storage order. */
    {
        const load_ent *prev = NULL;
        for (i = 0; i < lc->n; i++) {
            if (lc->v[i].invalid_mark)
                continue;
            if (prev && cmp_ent_pos(prev, &lc->v[i]) >= 0)
                return LEDGER__REBUILD;
            prev = &lc->v[i];
        }
    }
    /* Append entries found by scanning to the index. */
    if (l->idx_log) {
        for (i = n_idx; i < lc->n; i++) {
            uint8_t buf[HRE_LEDGER__IDX_LEN];
            hre_ledger__index_encode(buf, &lc->v[i].e);
            index_append(l, buf, sizeof buf);
        }
        if (l->idx_log && lc->n > n_idx && hre_storage__log_sync(l->idx_log) != HRE_OK) {
            (void)hre_storage__log_close(l->idx_log);
            l->idx_log = NULL;
        }
    }
    return HRE_OK;
unmatched:
    /* An indexed block that the scan did not find where the index says. */
    if (info.torn_tail && lc->v[ip].e.offset >= info.valid_end)
        return hre__fail(HRE_ECORRUPT,
                         "ledger: " HRE_LEDGER__SEG_FMT " damaged at offset %llu (an indexed, "
                         "synced block is lost)", s, (unsigned long long)info.damage_at);
    return LEDGER__REBUILD;
}

static void close_storage(hre_ledger *l)
{
    uint32_t i;
    if (l->seg_log)
        (void)hre_storage__log_close(l->seg_log);
    l->seg_log = NULL;
    if (l->idx_log)
        (void)hre_storage__log_close(l->idx_log);
    l->idx_log = NULL;
    for (i = 0; i < l->n_segs; i++)
        (void)hre_storage_file_close(l->segs[i]);
    hre__free(l->segs);
    l->segs = NULL;
    l->n_segs = 0;
}

static int build_tree(hre_ledger *l, load_ctx *lc)
{
    size_t i;
    for (i = 0; i < lc->n; i++) {
        const load_ent *e = &lc->v[i];
        hre_ledger__node *parent, *n;
        if (e->invalid_mark) {
            n = hre_ledger__map_get(&l->node_map, e->hash);
            if (n && n->parent)
                n->invalid = 1;
            continue;
        }
        if (hre_ledger__map_get(&l->node_map, e->hash))
            continue; /* stored twice (a retried write): keep the first */
        parent = hre_ledger__map_get(&l->node_map, e->e.header.prev_hash);
        if (!parent)
            return LEDGER__REBUILD;
        n = hre_ledger__node_new(l, &e->e.header, e->hash, parent);
        if (!n)
            return hre_error_last() == HRE_ENOMEM
                       ? HRE_ENOMEM
                       : hre__fail(HRE_ECORRUPT, "ledger: stored block with invalid bits");
        n->seg = e->e.seg;
        n->offset = e->e.offset;
        n->rec_len = e->e.rec_len;
        n->tx_count = e->e.tx_count;
        n->stored = 1;
        if (parent->invalid)
            n->invalid = 1;
        hre_ledger__node_link(l, n);
    }
    return HRE_OK;
}

static hre_ledger__node *select_best(hre_ledger *l)
{
    hre_ledger__node *best = l->nodes[0];
    size_t i;
    for (i = 1; i < l->n_nodes; i++) {
        hre_ledger__node *n = l->nodes[i];
        if (!n->invalid && hre_pow_work_cmp(n->work, best->work) > 0)
            best = n;
    }
    return best;
}

void hre_ledger__set_main(hre_ledger *l, hre_ledger__node *tip)
{
    size_t i;
    hre_ledger__node *n;
    for (i = 0; i < l->main_len; i++)
        l->main[i]->on_main = 0;
    l->main_len = (size_t)tip->height + 1;
    for (n = tip; n; n = n->parent) {
        l->main[n->height] = n;
        n->on_main = 1;
    }
}

static void free_tree(hre_ledger *l)
{
    size_t i;
    for (i = 0; i < l->n_nodes; i++)
        hre__free(l->nodes[i]);
    hre__free(l->nodes);
    l->nodes = NULL;
    l->n_nodes = l->cap_nodes = 0;
    hre_ledger__map_free(&l->node_map);
    l->main_len = 0;
}

static int init_tree(hre_ledger *l)
{
    hre_ledger__node *g = hre_ledger__node_new(l, &l->params.genesis, l->network_id, NULL);
    if (!g)
        return hre_error_last() == HRE_ENOMEM ? HRE_ENOMEM
                                              : hre__fail(HRE_EINVAL, "ledger: genesis bits invalid");
    hre_ledger__node_link(l, g);
    l->main[0] = g;
    l->main_len = 1;
    g->on_main = 1;
    return HRE_OK;
}

static int rebuild_index_file(hre_ledger *l, load_ctx *lc)
{
    size_t i;
    int rc;
    (void)hre_storage_remove(l->st, HRE_LEDGER__INDEX_FILE);
    rc = hre_storage__log_open(&l->idx_log, l->st, HRE_LEDGER__INDEX_FILE, HRE_STORAGE__LOG_CREATE,
                               256, NULL, NULL, NULL);
    if (rc != HRE_OK)
        return map_io(rc);
    for (i = 0; i < lc->n; i++) {
        uint8_t buf[HRE_LEDGER__IDX_LEN];
        hre_ledger__index_encode(buf, &lc->v[i].e);
        index_append(l, buf, sizeof buf);
    }
    if (l->idx_log && (rc = hre_storage__log_sync(l->idx_log)) != HRE_OK)
        return map_io(rc);
    return HRE_OK;
}

static int open_storage(hre_ledger *l)
{
    open_list ol;
    load_ctx lc;
    uint32_t nseg;
    int rc, attempt;
    char name[32];

    memset(&ol, 0, sizeof ol);
    ol.l = l;
    if ((rc = hre_storage__remove_temps(l->st, NULL)) != HRE_OK)
        return rc;
    if ((rc = hre_storage_list(l->st, list_cb, &ol)) != HRE_OK)
        return rc;
    if (ol.rc)
        return hre__fail(ol.rc, "ledger: out of memory");
    if ((rc = params_file(l, ol.have_other)) != HRE_OK)
        return rc;
    snap_probe(l);
    nseg = ol.have_seg ? ol.max_seg + 1 : 0;
    for (attempt = 0; attempt < 2; attempt++) {
        memset(&lc, 0, sizeof lc);
        lc.l = l;
        rc = load_entries(l, &lc, nseg, attempt == 0);
        if (rc == HRE_OK)
            rc = build_tree(l, &lc);
        if (rc == HRE_OK && attempt == 1) {
            rc = rebuild_index_file(l, &lc);
            l->index_rebuilt = 1;
        }
        hre__free(lc.v);
        if (rc != LEDGER__REBUILD)
            break;
        /* Start over from the segments alone. */
        close_storage(l);
        free_tree(l);
        if ((rc = init_tree(l)) != HRE_OK)
            return rc;
        rc = LEDGER__REBUILD;
    }
    if (rc == LEDGER__REBUILD)
        return hre__fail(HRE_ECORRUPT, "ledger: block segments are inconsistent");
    if (rc != HRE_OK)
        return rc;
    /* Open the last segment for appends (this cuts a torn tail). */
    if (nseg > 0) {
        seg_name(name, nseg - 1);
        rc = hre_storage__log_open(&l->seg_log, l->st, name, 0, l->max_rec, NULL, NULL, NULL);
        if (rc == HRE_ECORRUPT || rc == HRE_ELIMIT)
            return hre__fail(HRE_ECORRUPT, "ledger: %s is damaged", name);
        if (rc != HRE_OK)
            return map_io(rc);
        l->seg_good_end = hre_storage__log_end(l->seg_log);
    }
    return HRE_OK;
}

static int activate(hre_ledger *l)
{
    int iter, rc;
    for (iter = 0; iter < 64; iter++) {
        hre_ledger__node *best = select_best(l);
        uint64_t bad = UINT64_MAX;
        hre_ledger__set_main(l, best);
        rc = hre_ledger__rebuild_state(l, best->height, 1, &bad);
        if (rc == HRE_OK) {
            hre_ledger__trim_undo(l);
            return HRE_OK;
        }
        if (bad == UINT64_MAX || rc == HRE_ECORRUPT || rc == HRE_EIO || rc == HRE_ENOMEM ||
            rc == HRE_ECRYPTO || rc == HRE_ENOSPC)
            return rc;
        /* A stored block that never passed full validation: mark it. */
        hre_ledger__mark_invalid(l, l->main[bad]);
    }
    return hre__fail(HRE_ECORRUPT, "ledger: no valid chain found");
}

HRE_API int hre_ledger_open(hre_ledger **out, const hre_ledger_options *opts)
{
    HRE__API_SCOPE;
    hre_ledger *l;
    hre_ledger_options ob;
    hre_chain_params params;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !opts)
        return hre__fail(HRE_EINVAL, "hre_ledger_open: NULL argument");
    /* read the options and params up to the caller's versions (rule 7) */
    if ((rc = hre__vstruct_in(&options_desc, &ob, opts)) != HRE_OK)
        return hre__api_done(rc);
    opts = &ob;
    if (!opts->storage || !opts->params)
        return hre__fail(HRE_EINVAL, "hre_ledger_open: storage and params are required");
    if ((rc = hre_chain_params_check(opts->params)) != HRE_OK)
        return hre__api_done(rc);
    if ((rc = hre__vstruct_in(&hre_chain__params_desc, &params, opts->params)) != HRE_OK)
        return hre__api_done(rc);
    if (params.max_block_size > HRE_STORAGE__REC_MAX - 2 * HRE_LEDGER__REC_FIXED)
        return hre__fail(HRE_EUNSUPPORTED, "hre_ledger_open: max_block_size over 64 MiB");
    if (opts->compress_level < -1 || opts->compress_level > 9)
        return hre__fail(HRE_EINVAL, "hre_ledger_open: compress_level must be -1..9");
    if (opts->genesis_org_name &&
        (strlen(opts->genesis_org_name) == 0 || strlen(opts->genesis_org_name) > HRE_CONTRACT_NAME_MAX))
        return hre__fail(HRE_EINVAL, "hre_ledger_open: genesis_org_name must be 1..64 bytes");
    if (opts->verify_threads > HRE_POOL_MAX_THREADS)
        return hre__fail(HRE_EINVAL, "hre_ledger_open: at most %u verifier threads",
                         HRE_POOL_MAX_THREADS);

    l = hre__calloc(1, sizeof *l);
    if (!l)
        return hre__fail(HRE_ENOMEM, "hre_ledger_open: out of memory");
    l->st = opts->storage;
    l->params = params;
    l->limits.version = HRE_BLOCK_LIMITS_VERSION;
    if ((rc = hre_chain_params_block_limits(&l->params, &l->limits)) != HRE_OK)
        goto fail;
    if ((rc = hre_header_hash(&l->params.genesis, l->network_id)) != HRE_OK)
        goto fail;
    memcpy(l->authority_key, opts->authority_key, 34);
    if (opts->genesis_org_name) {
        snprintf(l->org_name, sizeof l->org_name, "%s", opts->genesis_org_name);
        l->has_org_name = 1;
    }
    l->threads = opts->verify_threads;
    l->on_event = opts->on_event;
    l->user_data = opts->user_data;
    l->log_fn = opts->log_fn;
    l->log_ud = opts->log_user_data;
    l->snap_interval = opts->snapshot_interval ? opts->snapshot_interval
                                               : HRE_LEDGER_DEFAULT_SNAPSHOT_INTERVAL;
    l->max_reorg = opts->max_reorg_depth ? opts->max_reorg_depth : HRE_LEDGER_DEFAULT_MAX_REORG_DEPTH;
    l->max_orphans = opts->max_orphans ? opts->max_orphans : HRE_LEDGER_DEFAULT_MAX_ORPHANS;
    l->max_side = opts->max_side_blocks ? opts->max_side_blocks : HRE_LEDGER_DEFAULT_MAX_SIDE_BLOCKS;
    l->mempool_max = opts->mempool_max_txs ? opts->mempool_max_txs : HRE_LEDGER_DEFAULT_MEMPOOL_MAX_TXS;
    l->segment_size = opts->segment_size ? opts->segment_size : HRE_LEDGER_DEFAULT_SEGMENT_SIZE;
    l->level = opts->compress_level == 0 ? 1 : opts->compress_level;
    l->max_rec = (uint32_t)(l->limits.max_block_size + HRE_LEDGER__REC_FIXED);
    {
        /* Syntax of the authority key is checked by the contract. */
        hre_contract *probe = NULL;
        if ((rc = hre_ledger__genesis_contract(l, &probe, 0)) != HRE_OK)
            goto fail;
        hre_contract_free(probe);
    }
    if ((rc = fingerprint(l)) != HRE_OK)
        goto fail;
    if ((rc = hre_keycache_new(&l->kc, 4096)) != HRE_OK)
        goto fail;
    /* one pool for the ledger's lifetime: signature verification, record
     * compression and snapshot loading run on it */
    if ((rc = hre_pool_new(&l->pool, l->threads)) != HRE_OK)
        goto fail;
    if ((rc = init_tree(l)) != HRE_OK)
        goto fail;
    if ((rc = open_storage(l)) != HRE_OK)
        goto fail;
    if ((rc = activate(l)) != HRE_OK)
        goto fail;
    if (l->log_fn) {
        char tip[65], net[65];
        (void)hre_hash_display_encode(tip, hre_ledger__tip(l)->hash);
        (void)hre_hash_display_encode(net, l->network_id);
        HRE_LEDGER__LOG(l, HRE_LOG_INFO,
                        "ledger open: network %.16s, tip height %llu (%s), %zu blocks known, "
                        "%u segment(s)%s, state from %s %llu, %u pool thread(s)",
                        net, (unsigned long long)hre_ledger__tip(l)->height, tip, l->n_nodes, l->n_segs,
                        l->index_rebuilt ? ", index rebuilt from the segments" : "",
                        l->state_from ? "the snapshot at height" : "genesis, replayed to",
                        (unsigned long long)(l->state_from ? l->state_from : hre_ledger__tip(l)->height),
                        hre_pool_threads(l->pool));
    }
    *out = l;
    return hre__api_done(HRE_OK);
fail:
    if (opts->log_fn)
        hre__log(opts->log_fn, opts->log_user_data, HRE_LOG_ERROR, "ledger open failed: %s: %s",
                 hre_strerror(rc), hre_error_detail());
    hre_ledger_close(l);
    return hre__api_done(rc);
}

HRE_API void hre_ledger_close(hre_ledger *l)
{
    if (!l)
        return;
    if (l->idx_log)
        (void)hre_storage__log_sync(l->idx_log);
    close_storage(l);
    hre_ledger__mempool_clear(l);
    hre_ledger__orphans_clear(l);
    hre__free(l->mp);
    hre_ledger__map_free(&l->mp_map);
    hre_contract_free(l->c);
    hre_pool_free(l->pool);
    free_tree(l);
    hre__free(l->main);
    hre__free(l->snaps);
    hre__free(l->evs);
    hre_keycache_free(l->kc);
    hre__free(l);
}
