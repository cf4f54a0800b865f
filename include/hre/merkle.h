/*
 * libhre layer 2: Bitcoin Merkle trees over 32-byte leaves (txids): the root
 * with CVE-2012-2459 mutation detection, and inclusion proofs ("branches").
 *
 * Thread safety: every function is reentrant, touches only its arguments, and
 * may be called from any thread.
 *
 * Node hash: sha256d(left || right). On a level with an odd number of nodes
 * the last node is paired with itself. See docs/PROTOCOL.md section 2.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef HRE_MERKLE_H
#define HRE_MERKLE_H

#include "common.h"

HRE_BEGIN_DECLS

/** Maximum depth of a branch: trees of up to 2^32 leaves. */
#define HRE_MERKLE_MAX_DEPTH 32
/** Largest encoded branch: u32 index + 1-byte depth + 32 hashes. */
#define HRE_MERKLE_BRANCH_MAX_LEN (4 + 1 + 32 * HRE_MERKLE_MAX_DEPTH)

/** Merkle root of n leaves, as Bitcoin Core's ComputeMerkleRoot.
 *  Out: root: the root (all zero for n == 0, as Bitcoin Core does);
 *       *mutated (may be NULL): 1 if some level has two equal adjacent nodes
 *       (2k, 2k+1), the CVE-2012-2459 pattern where different leaf lists
 *       share a root; else 0.
 *  In:  leaves: n hashes (may be NULL only if n == 0); n <= 2^32.
 *  Memory: O(log n) on the stack, no allocation.
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_ELIMIT (n > 2^32);
 *           HRE_ECRYPTO (root zeroed).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_merkle_root(uint8_t root[32], int *mutated, const uint8_t (*leaves)[32], size_t n);

/** An inclusion proof for one leaf: the sibling hashes from the leaf level up
 *  (hashes[0] is the leaf's sibling) and the leaf's index. Value type.
 *  Since: 1.0 */
typedef struct hre_merkle_branch {
    uint32_t index;                            /* leaf position in the tree */
    uint32_t depth;                            /* number of hashes used, <= 32 */
    uint8_t hashes[HRE_MERKLE_MAX_DEPTH][32];  /* entries >= depth are zero */
} hre_merkle_branch;

/** Build the branch for leaf `index` of n leaves.
 *  Out: *out (zeroed on failure). root (may be NULL): the tree's root.
 *  Returns: HRE_OK; HRE_EINVAL (NULL, n == 0, index >= n); HRE_ELIMIT (n > 2^32);
 *           HRE_ECRYPTO.
 *  Since: 1.0 */
HRE_API int hre_merkle_branch_compute(hre_merkle_branch *out, uint8_t root[32],
                                      const uint8_t (*leaves)[32], size_t n, size_t index);

/** Root implied by a leaf and its branch (Bitcoin's ComputeMerkleRootFromBranch):
 *  at level i, if bit i of index is 1 hash (sibling || h), else (h || sibling).
 *  Args: branch (self). Out: root (zeroed on failure). In: leaf.
 *  Returns: HRE_OK; HRE_EINVAL (NULL, depth > 32, or index >= 2^depth);
 *           HRE_ECRYPTO.
 *  Since: 1.0 */
HRE_API int hre_merkle_branch_root(const hre_merkle_branch *branch, uint8_t root[32],
                                   const uint8_t leaf[32]);

/** Check that leaf is included under root at branch->index.
 *  Args: branch (self). In: root, leaf.
 *  Returns: HRE_OK; HRE_EVERIFY (the root differs, or the branch is malformed:
 *           depth > 32 or index >= 2^depth); HRE_EINVAL (NULL); HRE_ECRYPTO.
 *  Since: 1.0 */
HRE_API int hre_merkle_branch_verify(const hre_merkle_branch *branch, const uint8_t root[32],
                                     const uint8_t leaf[32]) HRE_WARN_UNUSED_RESULT;

/** Encode a branch: index (u32 LE) || depth (u8, <= 32) || depth * 32 bytes.
 *  Args: branch (self). Out: out (may be NULL with *len == 0).
 *  In/Out: *len: capacity on input, bytes written (or needed) on output.
 *  Returns: HRE_OK; HRE_EINVAL (NULL, or a malformed branch);
 *           HRE_EBUFSIZE (*len = size needed).
 *  Since: 1.0 */
HRE_API int hre_merkle_branch_encode(const hre_merkle_branch *branch, uint8_t *out, size_t *len);

/** Decode a branch (hostile input): depth capped at 32, index < 2^depth,
 *  exact length, no trailing bytes.
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EDECODE (malformed or truncated;
 *           *out zeroed); HRE_ELIMIT (depth > 32).
 *  Since: 1.0 */
HRE_API int hre_merkle_branch_decode(hre_merkle_branch *out, const uint8_t *in,
                                     size_t len) HRE_WARN_UNUSED_RESULT;

HRE_END_DECLS

#endif /* HRE_MERKLE_H */
