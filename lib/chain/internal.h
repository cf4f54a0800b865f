/*
 * Internal helpers of the chain layer (layer 2). Never installed.
 */
#ifndef HRE_CHAIN_INTERNAL_H
#define HRE_CHAIN_INTERNAL_H

#include "core/internal.h"
#include "hre/block.h"
#include "hre/merkle.h"
#include "hre/pow.h"

/* Unsigned big integer for target/work/retarget arithmetic: 384 bits in
 * little-endian 32-bit limbs, so products of a 256-bit target and a 64-bit
 * timespan never wrap. Not constant time (nothing here is secret). */
#define HRE_CHAIN__BIG_LIMBS 12
typedef struct hre_chain__big {
    uint32_t w[HRE_CHAIN__BIG_LIMBS];
} hre_chain__big;

/* The median time past rule's median (docs/PROTOCOL.md 7.6): sorts t[0..n)
 * in place (n 1..11: the times of a block's parent and its up to 10
 * ancestors) and returns t[n / 2]. Shared by the header-chain check, the
 * ledger and the node so the rule has one definition. */
uint32_t hre_chain__median_time(uint32_t *t, size_t n);

/* The retarget rule (docs/PROTOCOL.md 2.8), one definition for the
 * header-chain check, the ledger and the node. A block at height h whose h is
 * not a multiple of p->retarget_interval (or interval 0) carries its parent's
 * bits; hre_chain__is_retarget says which heights retarget. At one that does,
 * the bits are hre_pow_retarget of the parent's bits over the span from
 * first_time (the block at h - interval, the first of the closing period) to
 * parent_time. Returns hre_pow_retarget's code (HRE_OK or HRE_EINVAL). */
int hre_chain__is_retarget(const hre_chain_params *p, uint64_t h);
int hre_chain__expected_bits(uint32_t *bits, const hre_chain_params *p, uint64_t h,
                             uint32_t parent_bits, uint32_t parent_time, uint32_t first_time);

void hre_chain__big_from_le32(hre_chain__big *r, const uint8_t in[32]);
/* Returns 0 if r needs more than 256 bits (out is then filled with the low 256). */
int hre_chain__big_to_le32(uint8_t out[32], const hre_chain__big *r);
int hre_chain__big_cmp(const hre_chain__big *a, const hre_chain__big *b);
int hre_chain__big_is_zero(const hre_chain__big *a);
/* r = a + b (mod 2^384); r may alias. */
void hre_chain__big_add(hre_chain__big *r, const hre_chain__big *a, const hre_chain__big *b);
/* r = a * m (mod 2^384). */
void hre_chain__big_mul_u64(hre_chain__big *r, const hre_chain__big *a, uint64_t m);
/* q = a / d (d != 0); q may alias a. */
void hre_chain__big_div(hre_chain__big *q, const hre_chain__big *a, const hre_chain__big *d);
/* Number of significant bits (0 for zero). */
unsigned hre_chain__big_bits(const hre_chain__big *a);

/* Core's SetCompact into a big (no truncation); flags as Core reports them. */
void hre_chain__big_set_compact(hre_chain__big *r, uint32_t bits, int *negative, int *overflow);
/* Core's GetCompact of a value < 2^256 (larger values: top bytes are used too). */
uint32_t hre_chain__big_get_compact(const hre_chain__big *a);

/* Versioned struct families of the chain layer (rule 7). */
extern const hre__vstruct hre_chain__limits_desc;
extern const hre__vstruct hre_chain__params_desc;

/* sha256d of the header encoding, with an error channel. */
int hre_chain__header_hash(uint8_t out[32], const hre_header *h);

/* Shared core of the merkle root and branch: Bitcoin Core's
 * MerkleComputation (O(log n) memory). branch may be NULL. */
int hre_chain__merkle_compute(uint8_t root[32], int *mutated, const uint8_t (*leaves)[32],
                              size_t n, size_t branchpos, hre_merkle_branch *branch);

#endif
