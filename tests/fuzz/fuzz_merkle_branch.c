/* Fuzz Merkle branches. First byte selects the mode:
 *  even: the rest is an encoded branch. Invariants: decode -> encode is
 *        byte-exact; the root it implies for a leaf verifies, and a different
 *        leaf does not.
 *  odd:  the rest is a list of 32-byte leaves (at most 64). Invariants: for
 *        every leaf the computed branch verifies against hre_merkle_root's
 *        root and round-trips through its encoding.
 * abort() on any violation. */
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre_merkle_branch br, dec;
    uint8_t enc[HRE_MERKLE_BRANCH_MAX_LEN], root[32], leaf[32], other[32];
    size_t len;
    int rc;

    if (size == 0) return 0;
    if ((data[0] & 1) == 0) {
        rc = hre_merkle_branch_decode(&br, data + 1, size - 1);
        if (rc != HRE_OK) {
            if (rc != HRE_EDECODE && rc != HRE_ELIMIT) abort();
            return 0;
        }
        len = sizeof enc;
        if (hre_merkle_branch_encode(&br, enc, &len) != HRE_OK || len != size - 1 ||
            memcmp(enc, data + 1, len) != 0)
            abort();
        memset(leaf, data[0], sizeof leaf);
        if (hre_merkle_branch_root(&br, root, leaf) != HRE_OK) abort();
        if (hre_merkle_branch_verify(&br, root, leaf) != HRE_OK) abort();
        memcpy(other, leaf, 32);
        other[0] ^= 1;
        if (hre_merkle_branch_verify(&br, root, other) != HRE_EVERIFY) abort();
        return 0;
    } else {
        size_t n = (size - 1) / 32;
        const uint8_t (*leaves)[32] = (const uint8_t (*)[32])(const void *)(data + 1);
        int mutated;
        uint8_t (*copy)[32];
        if (n == 0) return 0;
        if (n > 64) n = 64;
        /* copy to get 32-byte aligned rows independent of the input buffer */
        copy = malloc(n * 32);
        if (!copy) abort();
        memcpy(copy, leaves, n * 32);
        if (hre_merkle_root(root, &mutated, (const uint8_t (*)[32])copy, n) != HRE_OK) abort();
        for (size_t i = 0; i < n; i++) {
            uint8_t r2[32];
            if (hre_merkle_branch_compute(&br, r2, (const uint8_t (*)[32])copy, n, i) != HRE_OK) abort();
            if (memcmp(r2, root, 32) != 0 || br.index != i) abort();
            if (hre_merkle_branch_verify(&br, root, copy[i]) != HRE_OK) abort();
            len = sizeof enc;
            if (hre_merkle_branch_encode(&br, enc, &len) != HRE_OK) abort();
            if (hre_merkle_branch_decode(&dec, enc, len) != HRE_OK) abort();
            if (memcmp(&dec, &br, sizeof br) != 0) abort();
        }
        free(copy);
        return 0;
    }
}
