/* A mined block from transactions (bench_block.h). */
#include "bench_block.h"

#include <stdlib.h>
#include <string.h>

int bench_mined_block(bench_blk *out, uint8_t hash[32], const uint8_t prev[32], uint32_t time,
                      uint32_t bits, hre_tx **txs, size_t n)
{
    hre_block *b = NULL;
    hre_block_limits lim = { HRE_BLOCK_LIMITS_VERSION, 64u << 20, 1u << 20 };
    hre_header h;
    size_t i;
    int rc;
    out->b = NULL;
    out->len = 0;
    memset(&h, 0, sizeof h);
    h.version = 1;
    memcpy(h.prev_hash, prev, 32);
    h.time = time;
    h.bits = bits;
    if ((rc = hre_block_new(&b, &h, &lim)) != HRE_OK) return rc;
    for (i = 0; i < n && rc == HRE_OK; i++) {
        uint8_t buf[HRE_TX_MAX_LEN];
        size_t len = sizeof buf;
        if ((rc = hre_tx_encode(txs[i], buf, &len)) == HRE_OK) rc = hre_block_add_tx(b, buf, len);
    }
    if (rc == HRE_OK) rc = hre_block_update_merkle_root(b);
    if (rc == HRE_OK) {
        h = *hre_block_header(b);
        rc = hre_pow_mine(&h, NULL, 1u << 30);
    }
    if (rc == HRE_OK) rc = hre_block_set_header(b, &h);
    if (rc == HRE_OK) rc = hre_header_hash(&h, hash);
    if (rc == HRE_OK) {
        (void)hre_block_encode(b, NULL, &out->len);
        out->b = malloc(out->len);
        rc = out->b ? hre_block_encode(b, out->b, &out->len) : HRE_ENOMEM;
        if (rc != HRE_OK) {
            free(out->b);
            out->b = NULL;
        }
    }
    hre_block_free(b);
    return rc;
}
