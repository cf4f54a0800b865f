/*
 * Contract snapshots: periodic and explicit writes (the two newest kept), load
 * with fallback, and rebuilding the state from a snapshot plus replay.
 * docs/PROTOCOL.md section 7.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "ledger/internal.h"

void hre_ledger__snap_name(char out[40], uint64_t h)
{
    snprintf(out, 40, HRE_LEDGER__SNAP_FMT, (unsigned long long)h);
}

int hre_ledger__snaps_add(hre_ledger *l, uint64_t h, const uint8_t hash[32])
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
    hre_ledger__snap_name(name, tip->height);
    rc = hre_storage__write_file_atomic(l->st, name, buf, len);
    hre__free(buf);
    if (rc != HRE_OK) {
        HRE_LEDGER__LOG(l, HRE_LOG_ERROR, "snapshot at height %llu not written: %s: %s",
                        (unsigned long long)tip->height, hre_strerror(rc), hre_error_detail());
        return rc;
    }
    HRE_LEDGER__LOG(l, HRE_LOG_INFO, "snapshot written: %s (height %llu, %zu bytes)", name,
                    (unsigned long long)tip->height, len);
    if ((rc = hre_ledger__snaps_add(l, tip->height, tip->hash)) != HRE_OK)
        return rc;
    /* Keep the two newest. */
    qsort(l->snaps, l->n_snaps, sizeof *l->snaps, cmp_snap_desc);
    for (i = 2; i < l->n_snaps; i++) {
        hre_ledger__snap_name(name, l->snaps[i].height);
        (void)hre_storage_remove(l->st, name);
    }
    if (l->n_snaps > 2) {
        l->n_snaps = 2;
        (void)hre_storage_sync_dir(l->st);
    }
    return HRE_OK;
}

#ifdef HRE_TESTING
_Thread_local hre_ledger__replay_hook_fn hre_ledger__test_replay_hook;
_Thread_local void *hre_ledger__test_replay_ud;
#endif

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
    hre_ledger__snap_name(name, si->height);
    rc = hre_storage__read_all(l->st, name, SNAP_MAX_BYTES, &buf, &len);
    if (rc != HRE_OK)
        return rc;
    rc = hre_ledger__snap_parse(buf, len, &h, hash, sh, &payload, &plen);
    if (rc == HRE_OK && (h != si->height || memcmp(hash, si->hash, 32) != 0))
        rc = hre__fail(HRE_ECORRUPT, "snapshot %s: names another block", name);
    if (rc == HRE_OK) {
        hre_ledger__contract_options(l, &o);
        o.on_event = hre_ledger__contract_event;
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

/* Build, in a new contract, the state at main-chain height h: the newest
 * usable snapshot at or below h, then the blocks after it replayed (full
 * validation when `full`). l->c is not touched. On a validation failure
 * *bad is the failing height. Out: *out (owned by the caller), *from: the
 * height the state came from (the snapshot's, or 0). The undo journal of
 * *out covers the blocks above max(*from, h - max_reorg_depth) only
 * (hre_ledger__undo_floor_after). */
int hre_ledger__build_state(hre_ledger *l, hre_contract **out, uint64_t h, int full,
                            int events, uint64_t *bad, uint64_t *from_out)
{
    hre_contract *c = NULL;
    uint64_t from = 0, k;
    size_t i;
    int rc;

    *out = NULL;
    *bad = UINT64_MAX;
    *from_out = 0;
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
    *from_out = from;
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
        if (rc == HRE_OK) {
            size_t mark = l->n_evs;
            l->ev_mode = events ? HRE_LEDGER__EV_BUFFER : HRE_LEDGER__EV_DROP;
            rc = hre_ledger__apply_txs(l, c, blk, (const uint8_t(*)[32])txids, full, 0, NULL);
            l->ev_mode = HRE_LEDGER__EV_DROP;
            if (rc == HRE_OK && events) {
                /* the open's replay: into the journal, and to the host when
                 * it asked for the replay's events */
                hre_ledger__ev_stamp(l, mark, n);
                hre_ledger__ev_block(l, HRE_LEDGER_EVENT_BLOCK_CONNECTED, n, c);
                hre_ledger__ev_flush_to(l, (l->open_flags & HRE_LEDGER_OPEN_REPLAY_EVENTS) != 0);
            } else {
                l->n_evs = mark;
            }
        }
        hre__free(txids);
        hre_block_free(blk);
        if (rc != HRE_OK) {
            *bad = k;
            hre_contract_free(c);
            return rc;
        }
        /* blocks more than max_reorg_depth below h can never be undone:
         * forget their undo entries now, so the journal stays bounded by
         * max_reorg_depth blocks however long the replay (defect 1.6) */
        if (k + l->max_reorg <= h)
            hre_contract_undo_forget(c, 0);
        HRE_LEDGER__REPLAY_HOOK(c, k);
    }
    *out = c;
    return HRE_OK;
}

HRE_API int hre_ledger_snapshot(hre_ledger *l)
{
    HRE__API_SCOPE;
    if (!l)
        return hre__fail(HRE_EINVAL, "hre_ledger_snapshot: NULL ledger");
    if (hre_ledger__usable(l, NULL) != HRE_OK)
        return hre__api_done(HRE_EFATAL);
    return hre__api_done(hre_ledger__write_snapshot(l));
}

uint64_t hre_ledger__undo_floor_after(const hre_ledger *l, uint64_t from, uint64_t h)
{
    uint64_t lo = h > l->max_reorg ? h - l->max_reorg : 0;
    return lo > from ? lo : from;
}
