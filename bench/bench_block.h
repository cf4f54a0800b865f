/*
 * A mined block from transactions, for the bench programs that need chains
 * of real blocks (bench_ledger, bench_node). Not part of the library.
 */
#ifndef HRE_BENCH_BLOCK_H
#define HRE_BENCH_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include <hre/hre.h>

/* An encoded block; b is malloc'd (free it). */
typedef struct bench_blk {
    uint8_t *b;
    size_t len;
} bench_blk;

/* Build the block on prev with time and bits, holding txs[0..n), set its
 * Merkle root, mine it (hre_pow_mine), encode it into out and write its hash.
 * Returns HRE_OK or the failing call's code (out->b is NULL then). */
int bench_mined_block(bench_blk *out, uint8_t hash[32], const uint8_t prev[32], uint32_t time,
                      uint32_t bits, hre_tx **txs, size_t n);

#endif
