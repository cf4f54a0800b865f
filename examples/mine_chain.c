/*
 * Demo: mine a small chain with libhre's chain primitives, public API only.
 *
 * It sets up the parameters of a toy network (an easy, regtest-like target so
 * each block takes ~65,000 hashes), mines a genesis block and four more, each
 * carrying a few transaction byte strings, and prints height, block hash
 * (display order), nonce and tries. Then it re-reads the chain from its
 * encoded blocks and verifies every link, proof of work and Merkle root, the
 * cumulative work, and a Merkle inclusion proof. Exit status 0 on success.
 *
 * Build (installed library):  cc mine_chain.c $(pkg-config --cflags --libs libhre)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>

#define NBLOCKS 5
#define BITS 0x1f00ffffu   /* target 0xffff * 2^224: about 1 hash in 65,536 wins */

static void die(const char *what, int rc)
{
    fprintf(stderr, "mine_chain: %s failed: %s (%s)\n", what, hre_strerror(rc), hre_error_detail());
    exit(1);
}
#define TRY(what, call) do { int rc_ = (call); if (rc_ != HRE_OK) die(what, rc_); } while (0)

int main(void)
{
    hre_chain_params params;
    hre_block_limits limits;
    uint8_t *encoded[NBLOCKS] = {0};
    size_t encoded_len[NBLOCKS] = {0};
    uint8_t prev_hash[32] = {0}, chain_work[32] = {0};
    uint32_t prev_time = 1700000000;
    char disp[65];

    /* A network's parameters are data: genesis is filled in once mined. */
    TRY("params init", hre_chain_params_init(&params, HRE_CHAIN_PARAMS_VERSION));
    TRY("pow limit", hre_pow_target_from_compact(params.pow_limit, NULL, NULL, BITS));
    params.target_spacing = 600;
    params.retarget_interval = 2016;
    params.max_block_size = 100000;
    params.max_tx_count = 1000;
    TRY("limits init", hre_block_limits_init(&limits, HRE_BLOCK_LIMITS_VERSION));
    TRY("block limits", hre_chain_params_block_limits(&params, &limits));

    printf("libhre %s: mining %d blocks at bits 0x%08x\n", hre_version_string(), NBLOCKS, BITS);
    printf("%6s  %-64s  %10s  %7s\n", "height", "block hash (display order)", "nonce", "tries");
    for (int height = 0; height < NBLOCKS; height++) {
        hre_block *b = NULL;
        hre_header h;
        uint8_t hash[32], work[32];
        uint64_t tries = 0;
        char tx[128];
        size_t len = 0;

        memset(&h, 0, sizeof h);
        h.version = 1;
        memcpy(h.prev_hash, prev_hash, 32);
        h.time = prev_time + (height ? 600 : 0);
        h.bits = BITS;
        TRY("block new", hre_block_new(&b, &h, &limits));
        snprintf(tx, sizeof tx, "coinbase: height %d of the libhre demo chain", height);
        TRY("add tx", hre_block_add_tx(b, (const uint8_t *)tx, strlen(tx)));
        for (int i = 0; i < height; i++) {
            snprintf(tx, sizeof tx, "record event %d.%d: lab result signed by hospital and lab admins", height, i);
            TRY("add tx", hre_block_add_tx(b, (const uint8_t *)tx, strlen(tx)));
        }
        TRY("merkle root", hre_block_update_merkle_root(b));
        h = *hre_block_header(b);
        TRY("mine", hre_pow_mine(&h, &tries, (uint64_t)1 << 32));
        TRY("set header", hre_block_set_header(b, &h));
        TRY("pow check", hre_pow_check(&h, params.pow_limit));
        if (height == 0) {
            params.genesis = h;
            TRY("params check", hre_chain_params_check(&params));
        }
        TRY("hash", hre_header_hash(&h, hash));
        TRY("hash hex", hre_hash_display_encode(disp, hash));
        printf("%6d  %s  %10u  %7llu\n", height, disp, (unsigned)h.nonce, (unsigned long long)tries);

        if (hre_block_encode(b, NULL, &len) != HRE_EBUFSIZE) die("size query", HRE_EINVAL);
        encoded[height] = malloc(len);
        if (!encoded[height]) die("malloc", HRE_ENOMEM);
        encoded_len[height] = len;
        TRY("encode", hre_block_encode(b, encoded[height], &encoded_len[height]));
        hre_block_free(b);

        TRY("work", hre_pow_work(work, h.bits));
        TRY("work add", hre_pow_work_add(chain_work, chain_work, work));
        memcpy(prev_hash, hash, 32);
        prev_time = h.time;
    }

    /* Verify the chain again from its encoded blocks, as a receiving node would. */
    {
        uint8_t expect_prev[32] = {0}, total[32] = {0};
        for (int height = 0; height < NBLOCKS; height++) {
            hre_block *b = NULL;
            const hre_header *h;
            uint8_t hash[32], work[32];
            TRY("decode", hre_block_decode(&b, encoded[height], encoded_len[height], &limits));
            h = hre_block_header(b);
            if (memcmp(h->prev_hash, expect_prev, 32) != 0) {
                fprintf(stderr, "mine_chain: block %d does not link to its parent\n", height);
                return 1;
            }
            TRY("pow check", hre_pow_check(h, params.pow_limit));
            TRY("merkle check", hre_block_check_merkle(b));
            if (height == NBLOCKS - 1) {
                /* prove the last transaction of the tip is in the block */
                size_t n = hre_block_tx_count(b);
                uint8_t (*ids)[32] = malloc(n * 32);
                hre_merkle_branch br;
                if (!ids) die("malloc", HRE_ENOMEM);
                for (size_t i = 0; i < n; i++) TRY("txid", hre_block_txid(b, ids[i], i));
                TRY("branch", hre_merkle_branch_compute(&br, NULL, (const uint8_t (*)[32])ids, n, n - 1));
                TRY("branch verify", hre_merkle_branch_verify(&br, h->merkle_root, ids[n - 1]));
                TRY("hash hex", hre_hash_display_encode(disp, ids[n - 1]));
                printf("inclusion proof: tx %s is leaf %zu of %zu in the tip (%u hashes)\n",
                       disp, n - 1, n, (unsigned)br.depth);
                free(ids);
            }
            TRY("work", hre_pow_work(work, h->bits));
            TRY("work add", hre_pow_work_add(total, total, work));
            TRY("hash", hre_header_hash(h, hash));
            memcpy(expect_prev, hash, 32);
            hre_block_free(b);
            free(encoded[height]);
        }
        if (hre_pow_work_cmp(total, chain_work) != 0) {
            fprintf(stderr, "mine_chain: cumulative work mismatch\n");
            return 1;
        }
        TRY("work hex", hre_hash_display_encode(disp, total));
        printf("chain verified: %d blocks linked, PoW and Merkle roots valid; total work 0x%s\n",
               NBLOCKS, disp + strspn(disp, "0"));
    }
    return 0;
}
