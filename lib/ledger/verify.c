/*
 * verify-chain: re-validation of the main chain from genesis, reading every
 * block back from storage, into a fresh contract state compared with the
 * live one. docs/PROTOCOL.md section 7.
 */
#include <string.h>

#include "core/internal.h"
#include "hre/hash.h"
#include "ledger/internal.h"

HRE_API int hre_ledger_verify_chain(hre_ledger *l, uint64_t *first_bad_height, hre_ledger_progress_fn progress,
                                    void *user_data)
{
    HRE__API_SCOPE;
    hre_contract *c = NULL;
    uint64_t h, tip;
    uint8_t a[32], b[32];
    int rc;

    if (first_bad_height)
        *first_bad_height = UINT64_MAX;
    if (!l)
        return hre__fail(HRE_EINVAL, "hre_ledger_verify_chain: NULL ledger");
    if (hre_ledger__usable(l, NULL) != HRE_OK)
        return hre__api_done(HRE_EFATAL);
    hre_ledger__ensure_tip_state(l);
    if ((rc = hre_ledger__genesis_contract(l, &c, 0)) != HRE_OK)
        return hre__api_done(rc);
    tip = l->main_len - 1;
    for (h = 1; h <= tip; h++) {
        hre_ledger__node *n = l->main[h];
        hre_block *blk = NULL;
        uint8_t hash[32];
        uint8_t (*txids)[32] = NULL;
        rc = hre_ledger__read_block(l, n, &blk);
        if (rc == HRE_OK)
            rc = hre_ledger__check_block(l, blk, hash, &txids, NULL);
        if (rc == HRE_OK)
            rc = hre_ledger__check_context(l, n->parent, &n->header, 0, 0, NULL);
        if (rc == HRE_OK)
            rc = hre_ledger__apply_txs(l, c, blk, (const uint8_t(*)[32])txids, 1, 0, NULL);
        hre__free(txids);
        hre_block_free(blk);
        if (rc != HRE_OK) {
            char why[256];
            char disp[65];
            hre_ledger__why(why, sizeof why);
            (void)hre_hash_display_encode(disp, n->hash);
            hre_contract_free(c);
            if (rc == HRE_ENOMEM)
                return hre__api_done(rc);
            if (first_bad_height)
                *first_bad_height = h;
            return hre__fail(rc, "verify-chain: block %s at height %llu is bad: %s", disp,
                             (unsigned long long)h, why);
        }
        /* the fresh state never undoes a block it finished: keep its undo
         * journal empty between blocks (defect 1.6) */
        hre_contract_undo_forget(c, 0);
        HRE_LEDGER__REPLAY_HOOK(c, h);
        if (progress && progress(user_data, h, tip) != 0) {
            hre_contract_free(c);
            return hre__fail(HRE_ECANCELED, "verify-chain: cancelled at height %llu",
                             (unsigned long long)h);
        }
    }
    rc = hre_contract_state_hash(c, a);
    if (rc == HRE_OK)
        rc = hre_contract_state_hash(l->c, b);
    hre_contract_free(c);
    if (rc != HRE_OK)
        return hre__api_done(rc);
    if (memcmp(a, b, 32) != 0) {
        if (first_bad_height)
            *first_bad_height = tip;
        return hre__fail(HRE_ECORRUPT,
                         "verify-chain: the live state differs from a replay from genesis");
    }
    return hre__api_done(HRE_OK);
}
