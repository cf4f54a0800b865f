/*
 * Block templates and mining.
 * docs/PROTOCOL.md section 7.
 */
#include <string.h>

#include "core/internal.h"
#include "hre/pow.h"
#include "ledger/internal.h"

static int build_template(hre_ledger *l, uint64_t now, hre_block **out)
{
    hre_ledger__node *tip = hre_ledger__tip(l);
    hre_header h;
    hre_block *blk = NULL;
    size_t i;
    int rc;

    *out = NULL;
    if (now > l->last_now)
        l->last_now = now;
    if ((rc = hre_ledger__ensure_pending(l)) != HRE_OK)
        return rc;
    memset(&h, 0, sizeof h);
    h.version = 1;
    memcpy(h.prev_hash, tip->hash, 32);
    h.time = (uint32_t)hre_ledger__next_block_time(l, now);
    if ((rc = hre_ledger__expected_bits(l, tip, &h.bits)) != HRE_OK)
        return rc;
    if ((rc = hre_block_new(&blk, &h, &l->limits)) != HRE_OK)
        return rc;
    for (i = 0; i < l->mp_n; i++) {
        rc = hre_block_add_tx(blk, l->mp[i]->bytes, l->mp[i]->len);
        if (rc == HRE_ELIMIT)
            break;
        if (rc != HRE_OK) {
            hre_block_free(blk);
            return rc;
        }
    }
    if ((rc = hre_block_update_merkle_root(blk)) != HRE_OK) {
        hre_block_free(blk);
        return rc;
    }
    *out = blk;
    return HRE_OK;
}

HRE_API int hre_ledger_block_template(hre_ledger *l, uint8_t *out, size_t *len, uint64_t now)
{
    HRE__API_SCOPE;
    hre_block *blk = NULL;
    int rc;
    if (!l || !len)
        return hre__fail(HRE_EINVAL, "hre_ledger_block_template: NULL argument");
    if (hre_ledger__usable(l, NULL) != HRE_OK) {
        *len = 0;
        return hre__api_done(HRE_EFATAL);
    }
    if ((rc = build_template(l, now, &blk)) != HRE_OK) {
        *len = 0;
        return hre__api_done(rc);
    }
    rc = hre_block_encode(blk, out, len);
    hre_block_free(blk);
    return hre__api_done(rc);
}

HRE_API int hre_ledger_mine(hre_ledger *l, uint8_t hash[32], hre_ledger_status *status, uint64_t now,
                            uint64_t max_tries, unsigned int flags)
{
    HRE__API_SCOPE;
    int attempt, rc = HRE_OK;
    if (hash)
        memset(hash, 0, 32);
    hre_ledger__set_status(status, HRE_LEDGER_STATUS_NONE);
    if (!l)
        return hre__fail(HRE_EINVAL, "hre_ledger_mine: NULL ledger");
    if (flags & ~HRE_LEDGER_MINE_ALLOW_EMPTY)
        return hre__fail(HRE_EINVAL, "hre_ledger_mine: unknown flags 0x%x", flags);
    if (hre_ledger__usable(l, status) != HRE_OK)
        return hre__api_done(HRE_EFATAL);
    for (attempt = 0; attempt < 16; attempt++) {
        hre_block *blk = NULL;
        hre_header h;
        uint8_t *buf;
        size_t len = 0;
        hre_ledger_status st = HRE_LEDGER_STATUS_NONE;
        if ((rc = build_template(l, now, &blk)) != HRE_OK)
            return hre__api_done(rc);
        if (hre_block_tx_count(blk) == 0 && !(flags & HRE_LEDGER_MINE_ALLOW_EMPTY)) {
            hre_block_free(blk);
            return hre__fail(HRE_ESTATE, "hre_ledger_mine: mempool empty: nothing to mine "
                             "(HRE_LEDGER_MINE_ALLOW_EMPTY mines an empty block)");
        }
        h = *hre_block_header(blk);
        rc = hre_pow_mine(&h, NULL, max_tries);   /* 0 tries none: HRE_EEXHAUSTED */
        if (rc == HRE_OK)
            rc = hre_block_set_header(blk, &h);
        if (rc != HRE_OK) {
            hre_block_free(blk);
            return hre__api_done(rc);
        }
        len = hre_block_size(blk);
        buf = hre__malloc(len);
        if (!buf) {
            hre_block_free(blk);
            return hre__fail(HRE_ENOMEM, "hre_ledger_mine: out of memory");
        }
        rc = hre_block_encode(blk, buf, &len);
        hre_block_free(blk);
        if (rc == HRE_OK)
            rc = hre_ledger_submit_block(l, &st, buf, len, now);
        hre__free(buf);
        hre_ledger__set_status(status, st);
        if (rc == HRE_OK) {
            if (hash)
                return hre__api_done(hre_header_hash(&h, hash));
            return hre__api_done(HRE_OK);
        }
        if (st != HRE_LEDGER_REJECT_CONTRACT || l->bad_tx >= l->mp_n)
            return hre__api_done(rc);
        /* A mempool tx no longer applies at this block time: drop it, retry. */
        hre_ledger__ensure_tip_state(l);
        hre_ledger__mp_kill(l, l->mp[l->bad_tx]);
        hre_ledger__mp_compact(l);
    }
    return hre__api_done(rc);
}
