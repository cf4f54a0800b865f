/* Fuzz the inclusion proof decoder (docs/PROTOCOL.md 16) and its verifier.
 * Invariants: a failed decode returns HRE_EDECODE, HRE_ELIMIT or
 * HRE_EUNSUPPORTED and no proof; a decoded proof re-encodes byte for byte,
 * its accessors agree with the bytes, and hre_proof_verify against
 * parameters whose genesis is the proof's own first header returns HRE_OK or
 * HRE_EVERIFY with a reason (never a crash or another code); against a
 * different genesis it is refused as bad-genesis.
 * Seeds (corpus/proof_decode): proofs written by `hre chain proof` on the
 * ledger examples/hre_demo leaves (one access in a block of two, one record
 * alone in its block), and their truncated and damaged variants.
 * abort() on any violation. */
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre_proof *p = NULL;
    int rc = hre_proof_decode(&p, data, size);
    if (rc != HRE_OK) {
        if (p || (rc != HRE_EDECODE && rc != HRE_ELIMIT && rc != HRE_EUNSUPPORTED))
            abort();
        return 0;
    }
    size_t len = 0;
    if (hre_proof_encode(p, NULL, &len) != HRE_EBUFSIZE || len != size)
        abort();
    uint8_t *enc = malloc(len);
    if (!enc || hre_proof_encode(p, enc, &len) != HRE_OK || len != size ||
        memcmp(enc, data, size) != 0)
        abort();
    free(enc);
    size_t n = hre_proof_header_count(p), tl = 0;
    uint64_t h = hre_proof_height(p);
    if (n < 2 || n > HRE_PROOF_MAX_HEADERS || h < 1 || h >= n || !hre_proof_header(p, n - 1) ||
        hre_proof_header(p, n) || !hre_proof_tx(p) || !hre_proof_tx_bytes(p, &tl) || tl == 0 ||
        hre_proof_branch(p)->depth > HRE_MERKLE_MAX_DEPTH)
        abort();
    hre_chain_params params = HRE_CHAIN_PARAMS_INIT;
    int neg = 0, ovf = 0;
    if (hre_pow_target_from_compact(params.pow_limit, &neg, &ovf, 0x207fffff) != HRE_OK)
        abort();
    params.genesis = *hre_proof_header(p, 0);
    params.retarget_interval = UINT32_MAX;   /* the private preset: no retargeting */
    params.target_spacing = 600;
    params.max_block_size = 1000000;
    params.max_tx_count = 10000;
    int why = -1;
    size_t bad = 0;
    rc = hre_proof_verify(p, &why, &bad, &params);
    if (rc == HRE_OK) {
        if (why != HRE_PROOF_OK || bad != SIZE_MAX || !hre_tx_verified(hre_proof_tx(p)))
            abort();
    } else if (rc == HRE_EVERIFY) {
        if (why < HRE_PROOF_BAD_HEADERS || why > HRE_PROOF_BAD_SIGNATURE)
            abort();
        if (why == HRE_PROOF_BAD_HEADERS ? (bad == 0 || bad >= n) : bad != SIZE_MAX)
            abort();
    } else {
        abort();
    }
    params.genesis.nonce ^= 1;
    if (hre_proof_verify(p, &why, &bad, &params) != HRE_EVERIFY || why != HRE_PROOF_BAD_GENESIS ||
        bad != 0)
        abort();
    hre_proof_free(p);
    return 0;
}
