/* Bitcoin Merkle trees: root with mutation detection, branches. */
#include "chain/internal.h"
#include "hre/hash.h"

#define MAX_LEAVES ((uint64_t)1 << HRE_MERKLE_MAX_DEPTH)

static int hash_pair(uint8_t out[32], const uint8_t left[32], const uint8_t right[32])
{
    uint8_t buf[64];
    memcpy(buf, left, 32);
    memcpy(buf + 32, right, 32);
    return hre_sha256d(out, buf, sizeof buf);
}

/*
 * Bitcoin Core's MerkleComputation (consensus/merkle.cpp before 0.21): leaves
 * are folded into eagerly computed subtree hashes inner[level], so memory is
 * O(log n). count's binary digits say which inner[] entries are live. The
 * final sweep pairs the rightmost odd nodes with themselves. Mutation is
 * flagged when two real (non-duplicated) siblings are equal. When branch is
 * non-NULL the siblings on the path of leaf branchpos are collected.
 */
int hre_chain__merkle_compute(uint8_t root[32], int *mutated, const uint8_t (*leaves)[32],
                              size_t n, size_t branchpos, hre_merkle_branch *branch)
{
    uint8_t inner[HRE_MERKLE_MAX_DEPTH + 1][32] = {{0}};
    uint8_t h[32];
    uint64_t count = 0;
    int matchlevel = -1, mut = 0, level, matchh, rc;
    uint32_t depth = 0;

#define PUSH(x) do { memcpy(branch->hashes[depth], (x), 32); depth++; } while (0)
#define HASH(l, r) do { if ((rc = hash_pair(h, (l), (r))) != HRE_OK) goto fail; } while (0)

    if (branch) memset(branch, 0, sizeof *branch);
    if (n == 0) {
        memset(root, 0, 32);
        if (mutated) *mutated = 0;
        return HRE_OK;
    }
    while (count < n) {
        memcpy(h, leaves[count], 32);
        matchh = branch && count == branchpos;
        count++;
        for (level = 0; !(count & ((uint64_t)1 << level)); level++) {
            if (branch) {
                if (matchh) {
                    PUSH(inner[level]);
                } else if (matchlevel == level) {
                    PUSH(h);
                    matchh = 1;
                }
            }
            if (memcmp(inner[level], h, 32) == 0) mut = 1;
            HASH(inner[level], h);
        }
        memcpy(inner[level], h, 32);
        if (matchh) matchlevel = level;
    }
    level = 0;
    while (!(count & ((uint64_t)1 << level))) level++;
    memcpy(h, inner[level], 32);
    matchh = matchlevel == level;
    while (count != ((uint64_t)1 << level)) {
        if (branch && matchh) PUSH(h);
        HASH(h, h);
        count += (uint64_t)1 << level;
        level++;
        while (!(count & ((uint64_t)1 << level))) {
            if (branch) {
                if (matchh) {
                    PUSH(inner[level]);
                } else if (matchlevel == level) {
                    PUSH(h);
                    matchh = 1;
                }
            }
            HASH(inner[level], h);
            level++;
        }
    }
    memcpy(root, h, 32);
    if (mutated) *mutated = mut;
    if (branch) {
        branch->index = (uint32_t)branchpos;
        branch->depth = depth;
    }
    return HRE_OK;
fail:
    memset(root, 0, 32);
    if (mutated) *mutated = 0;
    if (branch) memset(branch, 0, sizeof *branch);
    return rc;
#undef PUSH
#undef HASH
}

HRE_API int hre_merkle_root(uint8_t root[32], int *mutated, const uint8_t (*leaves)[32], size_t n)
{
    HRE__API_SCOPE;
    if (mutated) *mutated = 0;
    if (!root) return hre__fail(HRE_EINVAL, "hre_merkle_root: NULL root");
    memset(root, 0, 32);
    if (!leaves && n) return hre__fail(HRE_EINVAL, "hre_merkle_root: NULL leaves with n > 0");
    if ((uint64_t)n > MAX_LEAVES) return hre__fail(HRE_ELIMIT, "Merkle tree of %zu leaves exceeds 2^32", n);
    return hre__api_done(hre_chain__merkle_compute(root, mutated, leaves, n, 0, NULL));
}

HRE_API int hre_merkle_branch_compute(hre_merkle_branch *out, uint8_t root[32],
                                      const uint8_t (*leaves)[32], size_t n, size_t index)
{
    HRE__API_SCOPE;
    uint8_t r[32];
    int rc;
    if (!out) return hre__fail(HRE_EINVAL, "hre_merkle_branch_compute: NULL out");
    memset(out, 0, sizeof *out);
    if (root) memset(root, 0, 32);
    if (!leaves || n == 0) return hre__fail(HRE_EINVAL, "hre_merkle_branch_compute: no leaves");
    if ((uint64_t)n > MAX_LEAVES) return hre__fail(HRE_ELIMIT, "Merkle tree of %zu leaves exceeds 2^32", n);
    if (index >= n) return hre__fail(HRE_EINVAL, "leaf index %zu out of range (n = %zu)", index, n);
    rc = hre_chain__merkle_compute(r, NULL, leaves, n, index, out);
    if (rc == HRE_OK && root) memcpy(root, r, 32);
    return hre__api_done(rc);
}

static int branch_wellformed(const hre_merkle_branch *b)
{
    if (b->depth > HRE_MERKLE_MAX_DEPTH) return 0;
    if (b->depth < 32 && (b->index >> b->depth) != 0) return 0;
    return 1;
}

HRE_API int hre_merkle_branch_root(const hre_merkle_branch *branch, uint8_t root[32],
                                   const uint8_t leaf[32])
{
    HRE__API_SCOPE;
    uint8_t h[32];
    uint32_t idx;
    int rc;
    if (!root) return hre__fail(HRE_EINVAL, "hre_merkle_branch_root: NULL root");
    memset(root, 0, 32);
    if (!leaf || !branch) return hre__fail(HRE_EINVAL, "hre_merkle_branch_root: NULL argument");
    if (!branch_wellformed(branch))
        return hre__fail(HRE_EINVAL, "malformed Merkle branch (depth %u, index %u)",
                         (unsigned)branch->depth, (unsigned)branch->index);
    memcpy(h, leaf, 32);
    idx = branch->index;
    for (uint32_t i = 0; i < branch->depth; i++) {
        rc = (idx & 1) ? hash_pair(h, branch->hashes[i], h) : hash_pair(h, h, branch->hashes[i]);
        if (rc != HRE_OK) return rc;
        idx >>= 1;
    }
    memcpy(root, h, 32);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_merkle_branch_verify(const hre_merkle_branch *branch, const uint8_t root[32],
                                     const uint8_t leaf[32])
{
    HRE__API_SCOPE;
    uint8_t r[32];
    int rc;
    if (!root || !leaf || !branch) return hre__fail(HRE_EINVAL, "hre_merkle_branch_verify: NULL argument");
    if (!branch_wellformed(branch))
        return hre__fail(HRE_EVERIFY, "malformed Merkle branch (depth %u, index %u)",
                         (unsigned)branch->depth, (unsigned)branch->index);
    rc = hre_merkle_branch_root(branch, r, leaf);
    if (rc != HRE_OK) return rc;
    if (memcmp(r, root, 32) != 0) return hre__fail(HRE_EVERIFY, "Merkle branch does not lead to the root");
    return hre__api_done(HRE_OK);
}

HRE_API int hre_merkle_branch_encode(const hre_merkle_branch *branch, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    size_t need;
    if (!branch || !len) return hre__fail(HRE_EINVAL, "hre_merkle_branch_encode: NULL argument");
    if (!branch_wellformed(branch)) {
        *len = 0;
        return hre__fail(HRE_EINVAL, "malformed Merkle branch (depth %u, index %u)",
                         (unsigned)branch->depth, (unsigned)branch->index);
    }
    need = 5 + 32 * (size_t)branch->depth;
    if (!out || *len < need) {
        *len = need;
        return hre__fail(HRE_EBUFSIZE, "Merkle branch needs %zu bytes", need);
    }
    hre__put_le32(out, branch->index);
    out[4] = (uint8_t)branch->depth;
    for (uint32_t i = 0; i < branch->depth; i++) memcpy(out + 5 + 32 * i, branch->hashes[i], 32);
    *len = need;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_merkle_branch_decode(hre_merkle_branch *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    uint32_t depth, index;
    if (!out) return hre__fail(HRE_EINVAL, "hre_merkle_branch_decode: NULL out");
    memset(out, 0, sizeof *out);
    if (!in && len) return hre__fail(HRE_EINVAL, "hre_merkle_branch_decode: NULL input");
    if (len < 5) return hre__fail(HRE_EDECODE, "Merkle branch truncated (%zu bytes)", len);
    index = hre__le32(in);
    depth = in[4];
    if (depth > HRE_MERKLE_MAX_DEPTH)
        return hre__fail(HRE_ELIMIT, "Merkle branch depth %u exceeds %d", (unsigned)depth, HRE_MERKLE_MAX_DEPTH);
    if (len != 5 + 32 * (size_t)depth)
        return hre__fail(HRE_EDECODE, "Merkle branch of depth %u must be %zu bytes, got %zu",
                         (unsigned)depth, 5 + 32 * (size_t)depth, len);
    if (depth < 32 && (index >> depth) != 0)
        return hre__fail(HRE_EDECODE, "Merkle branch index %u does not fit depth %u",
                         (unsigned)index, (unsigned)depth);
    out->index = index;
    out->depth = depth;
    for (uint32_t i = 0; i < depth; i++) memcpy(out->hashes[i], in + 5 + 32 * i, 32);
    return hre__api_done(HRE_OK);
}
