/*
 * Bounded mining steps (node.h hre_node_mine): a block template kept across
 * calls, rebuilt when the tip or the mempool changed or its nonces ran
 * out, mined max_nonces at a time; a block found is submitted and (through
 * the ledger's event) announced.
 */
#include <string.h>

#include "hre/pow.h"
#include "node/internal.h"

void hre_node__mine_free(hre_node *n)
{
    hre_node__dealloc(n, n->tmpl);
    n->tmpl = NULL;
    n->tmpl_len = n->tmpl_cap = 0;
}

static int build(hre_node *n, int bump)
{
    size_t len = 0;
    int rc = hre_ledger_block_template(n->l, NULL, &len, n->now / 1000);
    if (rc != HRE_EBUFSIZE && rc != HRE_OK)
        return rc;
    if (len > n->tmpl_cap) {
        uint8_t *nt = hre_node__realloc(n, n->tmpl, len);
        if (!nt)
            return hre__fail(HRE_ENOMEM, "hre_node_mine: out of memory for the template");
        n->tmpl = nt;
        n->tmpl_cap = len;
    }
    len = n->tmpl_cap;
    if ((rc = hre_ledger_block_template(n->l, n->tmpl, &len, n->now / 1000)) != HRE_OK)
        return rc;
    n->tmpl_len = len;
    memcpy(n->tmpl_prev, n->tip, 32);
    n->tmpl_gen = n->mempool_gen;
    n->tmpl_mp = hre_ledger_mempool_count(n->l);
    n->tmpl_nonce = 0;
    /* a template rebuilt at the same second after a full sweep gets a later
     * time (still far below the ledger's 2 h limit) */
    if (bump && n->tmpl_made) {
        hre_header h;
        if (hre_header_decode(&h, n->tmpl, HRE_HEADER_LEN) == HRE_OK && h.time <= n->tmpl_made) {
            h.time = (uint32_t)n->tmpl_made + 1;
            (void)hre_header_encode(&h, n->tmpl);
        }
    }
    {
        hre_header h;
        if (hre_header_decode(&h, n->tmpl, HRE_HEADER_LEN) == HRE_OK)
            n->tmpl_made = h.time;
    }
    return HRE_OK;
}

HRE_API int hre_node_mine(hre_node *n, uint8_t hash[32], hre_ledger_status *status, uint64_t now,
                          uint64_t max_nonces)
{
    HRE__API_SCOPE;
    hre_header h;
    hre_ledger_status st = HRE_LEDGER_STATUS_NONE;
    uint64_t last;
    int rc;
    if (hash)
        memset(hash, 0, 32);
    if (status)
        *status = HRE_LEDGER_STATUS_NONE;
    if ((rc = hre_node__enter(n, now, "hre_node_mine")) != HRE_OK)
        return rc;
    if (max_nonces == 0)
        return hre_node__leave(n, hre__fail(HRE_EEXHAUSTED, "hre_node_mine: max_nonces 0 tries nothing"));
    if (max_nonces > HRE_POW_ALL_NONCES)
        max_nonces = HRE_POW_ALL_NONCES;
    {
        int same = n->tmpl && memcmp(n->tmpl_prev, n->tip, 32) == 0 && n->tmpl_gen == n->mempool_gen &&
                   n->tmpl_mp == hre_ledger_mempool_count(n->l);
        if (!same || n->tmpl_nonce >= HRE_POW_ALL_NONCES) {
            /* same tip and mempool after a full sweep: a later time */
            if ((rc = build(n, same)) != HRE_OK)
                return hre_node__leave(n, rc);
        }
    }
    if ((rc = hre_header_decode(&h, n->tmpl, HRE_HEADER_LEN)) != HRE_OK)
        return hre_node__leave(n, rc);
    h.nonce = (uint32_t)n->tmpl_nonce;
    last = n->tmpl_nonce + max_nonces - 1;
    if (last > UINT32_MAX)
        last = UINT32_MAX;
    rc = hre_pow_mine_range(&h, NULL, (uint32_t)n->tmpl_nonce, (uint32_t)last, NULL);
    if (rc == HRE_EEXHAUSTED) {
        n->tmpl_nonce = last + 1;
        return hre_node__leave(n, hre__fail(HRE_EEXHAUSTED, "hre_node_mine: no block in this step"));
    }
    if (rc != HRE_OK)
        return hre_node__leave(n, rc);
    if ((rc = hre_header_encode(&h, n->tmpl)) != HRE_OK)
        return hre_node__leave(n, rc);
    rc = hre_ledger_submit_block(n->l, &st, n->tmpl, n->tmpl_len, n->now / 1000);
    if (status)
        *status = st;
    n->tmpl_nonce = HRE_POW_ALL_NONCES;   /* rebuilt next time */
    if (rc != HRE_OK) {
        if (rc == HRE_EFATAL || rc == HRE_ECORRUPT)
            hre_node__go_fatal(n, rc, "the ledger failed");
        return hre_node__leave(n, rc);
    }
    if (hash && hre_header_hash(&h, hash) != HRE_OK)
        memset(hash, 0, 32);
    n->chain_changed = 1;
    return hre__api_done(hre_node__leave(n, HRE_OK));
}
