/*
 * Transaction inclusion proofs (include/hre/proof.h): the header chain from
 * genesis, a Merkle branch and the transaction, in the byte-exact format of
 * docs/PROTOCOL.md section 16, and their verification with the network's
 * parameters alone. Layer 3: builds on the chain layer (headers, Merkle
 * branches, proof of work) and the transaction envelope.
 */
#include <stdio.h>
#include <string.h>

#include "hre/block.h"
#include "hre/hash.h"
#include "hre/merkle.h"
#include "hre/proof.h"
#include "hre/tx.h"
#include "tx/internal.h"

_Static_assert(sizeof(HRE_PROOF_MAGIC) == 9, "the proof magic is 8 bytes");

struct hre_proof {
    size_t n_headers;
    uint64_t height;
    uint8_t txid[32];
    hre_merkle_branch branch;
    hre_tx *tx;
    uint8_t *tx_bytes;
    size_t tx_len;
    hre_header *headers;
};

HRE_API void hre_proof_free(hre_proof *p)
{
    if (!p)
        return;
    hre_tx_free(p->tx);
    hre__free(p->tx_bytes);
    hre__free(p->headers);
    hre__free(p);
}

/* A proof with room for n headers and tx_len transaction bytes. */
static int proof_alloc(hre_proof **out, size_t n, size_t tx_len)
{
    hre_proof *p = hre__calloc(1, sizeof *p);
    if (!p)
        return hre__fail(HRE_ENOMEM, "proof: out of memory");
    p->headers = hre__calloc(n, sizeof *p->headers);
    p->tx_bytes = hre__malloc(tx_len ? tx_len : 1);
    if (!p->headers || !p->tx_bytes) {
        hre_proof_free(p);
        return hre__fail(HRE_ENOMEM, "proof: out of memory");
    }
    p->n_headers = n;
    p->tx_len = tx_len;
    *out = p;
    return HRE_OK;
}

HRE_API int hre_proof_new(hre_proof **out, const hre_header *headers, size_t n_headers,
                          uint64_t height, const hre_merkle_branch *branch, const uint8_t *tx,
                          size_t tx_len)
{
    HRE__API_SCOPE;
    hre_proof *p = NULL;
    int rc;
    if (out)
        *out = NULL;
    if (!out || !headers || !branch || !tx)
        return hre__fail(HRE_EINVAL, "hre_proof_new: NULL argument");
    if (n_headers < 2)
        return hre__fail(HRE_EINVAL, "proof: %zu headers (genesis and the block at least)", n_headers);
    if (n_headers > HRE_PROOF_MAX_HEADERS)
        return hre__fail(HRE_ELIMIT, "proof: %zu headers, more than %u", n_headers,
                         HRE_PROOF_MAX_HEADERS);
    if (height < 1 || height >= n_headers)
        return hre__fail(HRE_EINVAL, "proof: height %llu outside 1..%zu",
                         (unsigned long long)height, n_headers - 1);
    if (branch->depth > HRE_MERKLE_MAX_DEPTH ||
        (branch->depth < 32 && (uint64_t)branch->index >> branch->depth))
        return hre__fail(HRE_EINVAL, "proof: malformed Merkle branch");
    if (tx_len > HRE_TX_MAX_LEN)
        return hre__fail(HRE_ELIMIT, "proof: transaction of %zu bytes, more than %u", tx_len,
                         (unsigned)HRE_TX_MAX_LEN);
    if ((rc = proof_alloc(&p, n_headers, tx_len)) != HRE_OK)
        return rc;
    memcpy(p->headers, headers, n_headers * sizeof *headers);
    p->height = height;
    p->branch = *branch;
    memcpy(p->tx_bytes, tx, tx_len);
    if ((rc = hre_tx_decode(&p->tx, p->tx_bytes, tx_len)) != HRE_OK ||
        (rc = hre_tx_txid(p->tx, p->txid)) != HRE_OK) {
        hre_proof_free(p);
        return rc;
    }
    *out = p;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_proof_encode(const hre_proof *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    hre__writer w;
    uint8_t hb[80], br[HRE_MERKLE_BRANCH_MAX_LEN];
    size_t blen = sizeof br, need = 0, i;
    int rc;
    if (!p || !len)
        return hre__fail(HRE_EINVAL, "hre_proof_encode: NULL argument");
    if ((rc = hre_merkle_branch_encode(&p->branch, br, &blen)) != HRE_OK)
        return rc;
    hre__writer_init(&w, out, out ? *len : 0);
    hre__writer_bytes(&w, HRE_PROOF_MAGIC, 8);
    hre__writer_u32(&w, HRE_PROOF_FORMAT);
    hre__writer_u32(&w, (uint32_t)p->n_headers);
    hre__writer_u32(&w, (uint32_t)p->height);
    for (i = 0; i < p->n_headers; i++) {
        (void)hre_header_encode(&p->headers[i], hb);
        hre__writer_bytes(&w, hb, 80);
    }
    hre__writer_bytes(&w, p->txid, 32);
    hre__writer_bytes(&w, br, blen);
    hre__writer_u32(&w, (uint32_t)p->tx_len);
    hre__writer_bytes(&w, p->tx_bytes, p->tx_len);
    rc = hre__writer_finish(&w, &need);
    *len = need;
    if (rc != HRE_OK)
        return hre__fail(HRE_EBUFSIZE, "proof: %zu bytes needed", need);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_proof_decode(hre_proof **out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    uint8_t magic[8], txid[32], depth = 0;
    uint32_t version = 0, n = 0, height = 0, tx_len = 0, index = 0;
    const uint8_t *hdrs = NULL, *br = NULL, *tx = NULL;
    hre_merkle_branch branch;
    hre_proof *p = NULL;
    size_t i;
    int rc;

    if (out)
        *out = NULL;
    if (!out || (!in && len))
        return hre__fail(HRE_EINVAL, "hre_proof_decode: NULL argument");
    hre__reader_init(&r, in, len);
    if (hre__reader_bytes(&r, magic, 8) != HRE_OK || memcmp(magic, HRE_PROOF_MAGIC, 8) != 0)
        return hre__fail(HRE_EDECODE, "proof: not a proof file (magic)");
    if (hre__reader_u32(&r, &version) != HRE_OK)
        return hre__fail(HRE_EDECODE, "proof: truncated in the format version");
    if (version != HRE_PROOF_FORMAT)
        return hre__fail(HRE_EUNSUPPORTED, "proof: format version %u (this library reads %u)",
                         version, HRE_PROOF_FORMAT);
    if (hre__reader_u32(&r, &n) != HRE_OK || hre__reader_u32(&r, &height) != HRE_OK)
        return hre__fail(HRE_EDECODE, "proof: truncated in the header count or height");
    if (n > HRE_PROOF_MAX_HEADERS)
        return hre__fail(HRE_ELIMIT, "proof: %u headers, more than %u", n, HRE_PROOF_MAX_HEADERS);
    if (n < 2)
        return hre__fail(HRE_EDECODE, "proof: %u headers (genesis and the block at least)", n);
    if (height < 1 || height >= n)
        return hre__fail(HRE_EDECODE, "proof: height %u outside 1..%u", height, n - 1);
    /* the headers must all be there before anything is allocated */
    if (hre__reader_remaining(&r) < (size_t)n * 80 ||
        hre__reader_borrow(&r, &hdrs, (size_t)n * 80) != HRE_OK)
        return hre__fail(HRE_EDECODE, "proof: truncated in the %u headers", n);
    if (hre__reader_bytes(&r, txid, 32) != HRE_OK)
        return hre__fail(HRE_EDECODE, "proof: truncated in the txid");
    if (hre__reader_u32(&r, &index) != HRE_OK || hre__reader_u8(&r, &depth) != HRE_OK)
        return hre__fail(HRE_EDECODE, "proof: truncated in the Merkle branch");
    if (depth > HRE_MERKLE_MAX_DEPTH)
        return hre__fail(HRE_ELIMIT, "proof: Merkle branch depth %u, more than %u", depth,
                         HRE_MERKLE_MAX_DEPTH);
    if (hre__reader_borrow(&r, &br, (size_t)depth * 32) != HRE_OK)
        return hre__fail(HRE_EDECODE, "proof: truncated in the Merkle branch hashes");
    if ((rc = hre_merkle_branch_decode(&branch, br - 5, 5 + (size_t)depth * 32)) != HRE_OK) {
        char why[200];
        snprintf(why, sizeof why, "%s", hre_error_detail());
        return hre__fail(rc, "proof: Merkle branch: %s", why);
    }
    if (hre__reader_u32(&r, &tx_len) != HRE_OK)
        return hre__fail(HRE_EDECODE, "proof: truncated in the transaction length");
    if (tx_len > HRE_TX_MAX_LEN)
        return hre__fail(HRE_ELIMIT, "proof: transaction of %u bytes, more than %u", tx_len,
                         (unsigned)HRE_TX_MAX_LEN);
    if (hre__reader_borrow(&r, &tx, tx_len) != HRE_OK)
        return hre__fail(HRE_EDECODE, "proof: truncated in the transaction");
    if (hre__reader_finish(&r) != HRE_OK)
        return hre__fail(HRE_EDECODE, "proof: %zu trailing bytes", hre__reader_remaining(&r));
    if ((rc = proof_alloc(&p, n, tx_len)) != HRE_OK)
        return rc;
    for (i = 0; i < n; i++)
        if (hre_header_decode(&p->headers[i], hdrs + 80 * i, 80) != HRE_OK) {
            hre_proof_free(p);
            return hre__fail(HRE_EDECODE, "proof: header %zu does not decode", i);
        }
    p->height = height;
    p->branch = branch;
    memcpy(p->txid, txid, 32);
    memcpy(p->tx_bytes, tx, tx_len);
    if ((rc = hre_tx_decode(&p->tx, p->tx_bytes, tx_len)) != HRE_OK) {
        char why[200];
        snprintf(why, sizeof why, "%s", hre_error_detail());
        hre_proof_free(p);
        return hre__fail(rc, "proof: the transaction does not decode (%s)", why);
    }
    *out = p;
    return hre__api_done(HRE_OK);
}

static int refuse(int *why, int reason, int rc)
{
    if (why)
        *why = reason;
    return rc;
}

HRE_API int hre_proof_verify(hre_proof *p, int *why, size_t *bad_header,
                             const hre_chain_params *params)
{
    HRE__API_SCOPE;
    uint8_t net[32], txid[32];
    size_t bad = SIZE_MAX;
    const hre_header *blk;
    char detail[200];
    int rc;

    if (why)
        *why = HRE_PROOF_OK;
    if (bad_header)
        *bad_header = SIZE_MAX;
    if (!p || !params)
        return hre__fail(HRE_EINVAL, "hre_proof_verify: NULL argument");
    rc = hre_chain_params_check_headers(params, &bad, p->headers, p->n_headers);
    if (rc == HRE_EVERIFY) {
        if (bad_header)
            *bad_header = bad;
        snprintf(detail, sizeof detail, "%s", hre_error_detail());
        return refuse(why, bad == 0 ? HRE_PROOF_BAD_GENESIS : HRE_PROOF_BAD_HEADERS,
                      hre__fail(HRE_EVERIFY, "proof: %s", bad == 0 ?
                                "the first header is not this network's genesis" : detail));
    }
    if (rc != HRE_OK)
        return rc;
    if ((rc = hre_header_hash(&p->headers[0], net)) != HRE_OK ||
        (rc = hre_tx_txid(p->tx, txid)) != HRE_OK)
        return rc;
    if (!hre_ct_equal(txid, p->txid, 32))
        return refuse(why, HRE_PROOF_BAD_TXID,
                      hre__fail(HRE_EVERIFY, "proof: the transaction does not hash to the proof's txid"));
    blk = &p->headers[p->height];
    rc = hre_merkle_branch_verify(&p->branch, blk->merkle_root, txid);
    if (rc == HRE_EVERIFY)
        return refuse(why, HRE_PROOF_BAD_BRANCH,
                      hre__fail(HRE_EVERIFY, "proof: the Merkle branch does not lead to the Merkle "
                                "root of block %llu", (unsigned long long)p->height));
    if (rc != HRE_OK)
        return rc;
    if (memcmp(hre_tx_network_id(p->tx), net, 32) != 0)
        return refuse(why, HRE_PROOF_BAD_NETWORK,
                      hre__fail(HRE_EVERIFY, "proof: the transaction names another network"));
    rc = hre_tx_verify(p->tx, NULL, net);
    if (rc == HRE_EVERIFY)
        return refuse(why, HRE_PROOF_BAD_SIGNATURE,
                      hre__fail(HRE_EVERIFY, "proof: the transaction's signature does not verify"));
    if (rc != HRE_OK)
        return rc;
    return hre__api_done(HRE_OK);
}

HRE_API size_t hre_proof_header_count(const hre_proof *p)
{
    return p ? p->n_headers : 0;
}

HRE_API const hre_header *hre_proof_header(const hre_proof *p, size_t i)
{
    return p && i < p->n_headers ? &p->headers[i] : NULL;
}

HRE_API uint64_t hre_proof_height(const hre_proof *p)
{
    return p ? p->height : 0;
}

HRE_API const uint8_t *hre_proof_txid(const hre_proof *p)
{
    return p ? p->txid : NULL;
}

HRE_API const hre_merkle_branch *hre_proof_branch(const hre_proof *p)
{
    return p ? &p->branch : NULL;
}

HRE_API const hre_tx *hre_proof_tx(const hre_proof *p)
{
    return p ? p->tx : NULL;
}

HRE_API const uint8_t *hre_proof_tx_bytes(const hre_proof *p, size_t *len)
{
    if (len)
        *len = p ? p->tx_len : 0;
    return p ? p->tx_bytes : NULL;
}

HRE_API const char *hre_proof_why_name(int why)
{
    switch (why) {
    case HRE_PROOF_OK: return "ok";
    case HRE_PROOF_BAD_GENESIS: return "bad-genesis";
    case HRE_PROOF_BAD_HEADERS: return "bad-headers";
    case HRE_PROOF_BAD_TXID: return "bad-txid";
    case HRE_PROOF_BAD_BRANCH: return "bad-branch";
    case HRE_PROOF_BAD_NETWORK: return "bad-network";
    case HRE_PROOF_BAD_SIGNATURE: return "bad-signature";
    default: return "unknown";
    }
}
