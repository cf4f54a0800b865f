/*
 * Ledger options, open (storage, network check, state activation) and close.
 * docs/PROTOCOL.md section 7.
 */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "hre/hash.h"
#include "ledger/internal.h"

/* Known layouts of hre_ledger_options (rule 7): 1 ends at compress_level,
 * 2 adds the log hook, 3 the pool, network, flags and journal bound. */
static const size_t options_size[] = {
    0,
    HRE__END(hre_ledger_options, compress_level),
    HRE__END(hre_ledger_options, log_user_data),
    HRE__END(hre_ledger_options, max_journal_events),
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

static int activate(hre_ledger *l)
{
    int iter, rc;
    for (iter = 0; iter < 64; iter++) {
        hre_ledger__node *best = hre_ledger__best_tip(l);
        hre_contract *c = NULL;
        uint64_t bad = UINT64_MAX, from = 0;
        hre_ledger__set_main(l, best);
        hre_ledger__journal_clear(l);
        rc = hre_ledger__build_state(l, &c, best->height, 1, 1, &bad, &from);
        if (rc == HRE_OK) {
            hre_contract_free(l->c);
            l->c = c;
            l->overlay = 0;
            l->undo_floor = hre_ledger__undo_floor_after(l, from, best->height);
            l->state_from = from;
            hre_ledger__trim_undo(l);
            /* side blocks that can no longer matter are not kept in memory
             * (nor counted against max_side_blocks) */
            if ((rc = hre_ledger__side_rebuild(l)) != HRE_OK)
                return rc;
            l->open_pruned = hre_ledger__prune_side(l);
            return HRE_OK;
        }
        if (bad == UINT64_MAX || rc == HRE_ECORRUPT || rc == HRE_EIO || rc == HRE_ENOMEM ||
            rc == HRE_ECRYPTO || rc == HRE_ENOSPC)
            return rc;
        /* The host got the replay's events up to bad - 1: take them back
         * before the chain is selected again. */
        if (l->open_flags & HRE_LEDGER_OPEN_REPLAY_EVENTS) {
            uint64_t h;
            for (h = bad - 1; h > from; h--)
                hre_ledger__ev_block(l, HRE_LEDGER_EVENT_BLOCK_DISCONNECTED, l->main[h], NULL);
            hre_ledger__ev_flush(l);
        }
        /* A stored block that never passed full validation: mark it. */
        hre_ledger__mark_invalid(l, l->main[bad]);
    }
    return hre__fail(HRE_ECORRUPT, "ledger: no valid chain found");
}

static int all_zero(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

HRE_API int hre_ledger_open(hre_ledger **out, const hre_ledger_options *opts)
{
    HRE__API_SCOPE;
    hre_ledger *l = NULL;
    hre_ledger_options ob;
    hre_network *net = NULL;
    int rc, from_file = 0;

    if (out)
        *out = NULL;
    if (!out || !opts)
        return hre__fail(HRE_EINVAL, "hre_ledger_open: NULL argument");
    /* read the options up to the caller's version (rule 7) */
    if ((rc = hre__vstruct_in(&options_desc, &ob, opts)) != HRE_OK)
        return hre__api_done(rc);
    opts = &ob;
    if (!opts->storage)
        return hre__fail(HRE_EINVAL, "hre_ledger_open: storage is required");
    if (opts->compress_level < -1 || opts->compress_level > 9)
        return hre__fail(HRE_EINVAL, "hre_ledger_open: compress_level must be -1..9");
    if (opts->verify_threads > HRE_POOL_MAX_THREADS)
        return hre__fail(HRE_EINVAL, "hre_ledger_open: at most %u verifier threads",
                         HRE_POOL_MAX_THREADS);
    if (opts->pool && opts->verify_threads)
        return hre__fail(HRE_EINVAL, "hre_ledger_open: give a pool or verify_threads, not both");
    if (opts->flags & ~HRE_LEDGER_OPEN_REPLAY_EVENTS)
        return hre__fail(HRE_EINVAL, "hre_ledger_open: unknown flags 0x%x", opts->flags);
    /* The network: given as a network, as params + authority, or (neither)
     * the one the storage keeps in network.dat. */
    if (opts->network) {
        if (opts->params || opts->genesis_org_name || !all_zero(opts->authority_key, 34))
            return hre__fail(HRE_EINVAL, "hre_ledger_open: give either a network or params, "
                             "authority_key and genesis_org_name");
        rc = hre_ledger__network_copy(&net, opts->network);
    } else if (opts->params) {
        rc = hre_network_new(&net, opts->params, opts->authority_key, opts->genesis_org_name);
        if (rc != HRE_OK && rc != HRE_ENOMEM && rc != HRE_EUNSUPPORTED) {
            char why[200];
            hre_ledger__why(why, sizeof why);
            rc = hre__fail(HRE_EINVAL, "hre_ledger_open: %s", why);
        }
    } else {
        rc = hre_ledger__read_network_file(opts->storage, &net);
        if (rc == HRE_ENOTFOUND)
            rc = hre__fail(HRE_EINVAL, "hre_ledger_open: no network given (network or params), "
                           "and the storage holds no %s", HRE_LEDGER__NETWORK_FILE);
        from_file = 1;
    }
    if (rc != HRE_OK)
        return hre__api_done(rc);

    l = hre__calloc(1, sizeof *l);
    if (!l) {
        hre_network_free(net);
        return hre__fail(HRE_ENOMEM, "hre_ledger_open: out of memory");
    }
    l->net = net;
    l->net_file_seen = from_file;
    l->st = opts->storage;
    l->params = net->params;
    l->limits.version = HRE_BLOCK_LIMITS_VERSION;
    if ((rc = hre_chain_params_block_limits(&l->params, &l->limits)) != HRE_OK)
        goto fail;
    memcpy(l->network_id, net->id, 32);
    {
        uint8_t secret[16];
        if ((rc = hre_random_bytes(secret, sizeof secret)) != HRE_OK) {
            rc = hre__fail(HRE_ECRYPTO, "hre_ledger_open: no randomness for the hash maps' key");
            goto fail;
        }
        hre__map_init(&l->node_map, secret, 0, NULL, NULL, NULL);
        hre__map_init(&l->mp_map, secret, 0, NULL, NULL, NULL);
        hre__map_init(&l->orph_map, secret, 0, NULL, NULL, NULL);
        hre__map_init(&l->orph_prev, secret, 0, NULL, NULL, NULL);
        hre__map_init(&l->bad_map, secret, 0, NULL, NULL, NULL);
        hre_wipe(secret, sizeof secret);
    }
    memcpy(l->authority_key, net->authority_key, 34);
    if (net->has_org_name) {
        snprintf(l->org_name, sizeof l->org_name, "%s", net->org_name);
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
    l->open_flags = opts->flags;
    l->journal_max = opts->max_journal_events == HRE_LEDGER_JOURNAL_OFF ? 0
                     : opts->max_journal_events ? opts->max_journal_events
                                                : HRE_LEDGER_DEFAULT_MAX_JOURNAL_EVENTS;
    if ((rc = hre_ledger__fingerprint(l)) != HRE_OK)
        goto fail;
    if ((rc = hre_keycache_new(&l->kc, 4096)) != HRE_OK)
        goto fail;
    /* keys the orphan pool's parent map (parents are attacker-chosen) */
    if ((rc = hre_random_bytes(l->orph_salt, sizeof l->orph_salt)) != HRE_OK)
        goto fail;
    /* one pool for the ledger's lifetime: signature verification, record
     * compression and snapshot loading run on it */
    if (opts->pool) {
        l->pool = opts->pool;
    } else {
        if ((rc = hre_pool_new(&l->pool, l->threads)) != HRE_OK)
            goto fail;
        l->own_pool = 1;
    }
    if ((rc = hre_ledger__tree_init(l)) != HRE_OK)
        goto fail;
    if ((rc = hre_ledger__open_storage(l)) != HRE_OK)
        goto fail;
    if ((rc = activate(l)) != HRE_OK)
        goto fail;
    if (l->log_fn) {
        char tip[65], nid[65];
        (void)hre_hash_display_encode(tip, hre_ledger__tip(l)->hash);
        (void)hre_hash_display_encode(nid, l->network_id);
        HRE_LEDGER__LOG(l, HRE_LOG_INFO,
                        "ledger open: network %.16s, tip height %llu (%s), %zu side block(s) kept "
                        "(%zu stale ones not loaded), %u segment(s)%s, state from %s %llu, "
                        "%u pool thread(s)%s",
                        nid, (unsigned long long)hre_ledger__tip(l)->height, tip, l->n_side,
                        l->open_pruned, l->n_segs,
                        l->index_rebuilt ? ", index rebuilt from the segments" : "",
                        l->state_from ? "the snapshot at height" : "genesis, replayed to",
                        (unsigned long long)(l->state_from ? l->state_from : hre_ledger__tip(l)->height),
                        hre_pool_threads(l->pool), l->own_pool ? "" : " (the host's pool)");
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
    hre_ledger__close_storage(l);
    hre_ledger__mempool_clear(l);
    hre_ledger__orphans_clear(l);
    hre__free(l->bad_ring);
    hre__map_free(&l->bad_map);
    hre__free(l->mp);
    hre__map_free(&l->mp_map);
    hre_contract_free(l->c);
    if (l->own_pool)
        hre_pool_free(l->pool);
    hre_network_free(l->net);
    hre_ledger__tree_free(l);
    hre__free(l->main);
    hre__free(l->snaps);
    hre__free(l->evs);
    hre_ledger__journal_clear(l);
    hre_keycache_free(l->kc);
    hre__free(l);
}
