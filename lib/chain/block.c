/* Blocks: a header plus transaction byte strings; encoding, caps, Merkle check. */
#include "chain/internal.h"
#include "hre/hash.h"

/* A 64-byte transaction could pose as an inner Merkle node (its txid is the
 * sha256d of 64 bytes, exactly like a node), so blocks never carry one. */
#define AMBIGUOUS_TX_LEN 64

typedef struct block_tx {
    uint8_t *data;
    size_t len;
} block_tx;

struct hre_block {
    hre_header header;
    hre_block_limits limits;
    block_tx *txs;
    size_t n, cap;
    uint64_t size;          /* encoded size of the block as it stands */
};

/* Encoded size of a block with n txs whose (len-prefixed) bodies take body bytes. */
static uint64_t block_size(uint64_t n, uint64_t body)
{
    return HRE_HEADER_LEN + hre__compact_size_len(n) + body;
}

static const size_t limits_size[] = { 0, HRE__END(hre_block_limits, max_tx_count) };
const hre__vstruct hre_chain__limits_desc = { "hre_block_limits", HRE_BLOCK_LIMITS_VERSION, limits_size };

HRE_API int hre_block_limits_init(hre_block_limits *limits, unsigned int version)
{
    HRE__API_SCOPE;
    static const hre_block_limits def = HRE_BLOCK_LIMITS_INIT;
    int rc;
    if ((rc = hre__vstruct_check(&hre_chain__limits_desc, version)) != HRE_OK) return rc;
    if (!limits) return hre__fail(HRE_EINVAL, "hre_block_limits_init: NULL limits");
    /* the defaults, as far as the caller's version reaches */
    memcpy(limits, &def, limits_size[version]);
    limits->version = version;
    return hre__api_done(HRE_OK);
}

/* Read the caller's limits (any known version; fields it lacks keep the
 * defaults) into a full struct. *dst is always written (the defaults on every
 * failure path too), so callers never hold an uninitialised copy (gcc 12 -O3
 * -Werror=maybe-uninitialized). */
static int take_limits(hre_block_limits *dst, const hre_block_limits *src)
{
    static const hre_block_limits def = HRE_BLOCK_LIMITS_INIT;
    int rc;
    *dst = def;
    if (!src) return HRE_OK;
    if ((rc = hre__vstruct_check(&hre_chain__limits_desc, src->version)) != HRE_OK) return rc;
    memcpy(dst, src, limits_size[src->version]);
    if (dst->max_block_size < HRE_HEADER_LEN + 1)
        return hre__fail(HRE_EINVAL, "max_block_size %llu is below the 81-byte empty block",
                         (unsigned long long)dst->max_block_size);
    return HRE_OK;
}

HRE_API int hre_block_new(hre_block **out, const hre_header *header, const hre_block_limits *limits)
{
    HRE__API_SCOPE;
    hre_block *b;
    hre_block_limits lim;
    int rc;
    if (!out) return hre__fail(HRE_EINVAL, "hre_block_new: NULL out");
    *out = NULL;
    if ((rc = take_limits(&lim, limits)) != HRE_OK) return rc;
    b = hre__calloc(1, sizeof *b);
    if (!b) return hre__fail(HRE_ENOMEM, "out of memory allocating a block");
    if (header) b->header = *header;
    b->limits = lim;
    b->size = block_size(0, 0);
    *out = b;
    return hre__api_done(HRE_OK);
}

HRE_API void hre_block_free(hre_block *block)
{
    if (!block) return;
    for (size_t i = 0; i < block->n; i++) hre__free(block->txs[i].data);
    hre__free(block->txs);
    hre__free(block);
}

HRE_API const hre_header *hre_block_header(const hre_block *block)
{
    return block ? &block->header : NULL;
}

HRE_API int hre_block_set_header(hre_block *block, const hre_header *header)
{
    HRE__API_SCOPE;
    if (!block || !header) return hre__fail(HRE_EINVAL, "hre_block_set_header: NULL argument");
    block->header = *header;
    return hre__api_done(HRE_OK);
}

static int reserve(hre_block *b, size_t want)
{
    block_tx *nt;
    size_t ncap;
    if (want <= b->cap) return HRE_OK;
    ncap = b->cap ? b->cap * 2 : 8;
    if (ncap < want) ncap = want;
    if (ncap > SIZE_MAX / sizeof *nt) return hre__fail(HRE_ENOMEM, "transaction list too large");
    nt = hre__realloc(b->txs, ncap * sizeof *nt);
    if (!nt) return hre__fail(HRE_ENOMEM, "out of memory growing the transaction list");
    b->txs = nt;
    b->cap = ncap;
    return HRE_OK;
}

HRE_API int hre_block_add_tx(hre_block *block, const uint8_t *tx, size_t len)
{
    HRE__API_SCOPE;
    uint64_t body, nsize;
    uint8_t *copy;
    int rc;
    if (!block || (!tx && len)) return hre__fail(HRE_EINVAL, "hre_block_add_tx: NULL argument");
    if (len == AMBIGUOUS_TX_LEN)
        return hre__fail(HRE_EINVAL, "a 64-byte transaction is not allowed in a block");
    if ((uint64_t)block->n + 1 > block->limits.max_tx_count)
        return hre__fail(HRE_ELIMIT, "block already holds the maximum of %llu transactions",
                         (unsigned long long)block->limits.max_tx_count);
    body = block->size - block_size(block->n, 0);
    if ((uint64_t)len > block->limits.max_block_size)
        return hre__fail(HRE_ELIMIT, "transaction of %zu bytes exceeds the block size cap", len);
    nsize = block_size(block->n + 1, body + hre__compact_size_len(len) + len);
    if (nsize > block->limits.max_block_size)
        return hre__fail(HRE_ELIMIT, "block would be %llu bytes, over the cap of %llu",
                         (unsigned long long)nsize, (unsigned long long)block->limits.max_block_size);
    if ((rc = reserve(block, block->n + 1)) != HRE_OK) return rc;
    copy = hre__malloc(len ? len : 1);
    if (!copy) return hre__fail(HRE_ENOMEM, "out of memory copying a transaction");
    if (len) memcpy(copy, tx, len);
    block->txs[block->n].data = copy;
    block->txs[block->n].len = len;
    block->n++;
    block->size = nsize;
    return hre__api_done(HRE_OK);
}

HRE_API size_t hre_block_tx_count(const hre_block *block)
{
    return block ? block->n : 0;
}

HRE_API int hre_block_tx(const hre_block *block, const uint8_t **tx, size_t *len, size_t i)
{
    HRE__API_SCOPE;
    if (tx) *tx = NULL;
    if (len) *len = 0;
    if (!block || !tx || !len) return hre__fail(HRE_EINVAL, "hre_block_tx: NULL argument");
    if (i >= block->n) return hre__fail(HRE_ENOTFOUND, "no transaction %zu (block has %zu)", i, block->n);
    *tx = block->txs[i].data;
    *len = block->txs[i].len;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_block_txid(const hre_block *block, uint8_t out[32], size_t i)
{
    HRE__API_SCOPE;
    if (!out) return hre__fail(HRE_EINVAL, "hre_block_txid: NULL out");
    memset(out, 0, 32);
    if (!block) return hre__fail(HRE_EINVAL, "hre_block_txid: NULL block");
    if (i >= block->n) return hre__fail(HRE_ENOTFOUND, "no transaction %zu (block has %zu)", i, block->n);
    return hre__api_done(hre_sha256d(out, block->txs[i].data, block->txs[i].len));
}

HRE_API size_t hre_block_size(const hre_block *block)
{
    return block ? (size_t)block->size : 0;
}

HRE_API int hre_block_encode(const hre_block *block, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    hre__writer w;
    uint8_t hdr[HRE_HEADER_LEN];
    if (!block || !len) return hre__fail(HRE_EINVAL, "hre_block_encode: NULL argument");
    if (!out || *len < block->size) {
        *len = (size_t)block->size;
        return hre__fail(HRE_EBUFSIZE, "block encoding needs %llu bytes", (unsigned long long)block->size);
    }
    hre__writer_init(&w, out, *len);
    hre_header_encode(&block->header, hdr);
    hre__writer_bytes(&w, hdr, sizeof hdr);
    hre__writer_compact(&w, block->n);
    for (size_t i = 0; i < block->n; i++) {
        hre__writer_compact(&w, block->txs[i].len);
        hre__writer_bytes(&w, block->txs[i].data, block->txs[i].len);
    }
    return hre__api_done(hre__writer_finish(&w, len));
}

HRE_API int hre_block_decode(hre_block **out, const uint8_t *in, size_t len, const hre_block_limits *limits)
{
    HRE__API_SCOPE;
    hre__reader r;
    hre_block_limits lim;
    hre_block *b = NULL;
    const uint8_t *hdr;
    uint64_t count;
    int rc;

    if (!out) return hre__fail(HRE_EINVAL, "hre_block_decode: NULL out");
    *out = NULL;
    if (!in && len) return hre__fail(HRE_EINVAL, "hre_block_decode: NULL input");
    if ((rc = take_limits(&lim, limits)) != HRE_OK) return rc;
    if ((uint64_t)len > lim.max_block_size)
        return hre__fail(HRE_ELIMIT, "block of %zu bytes exceeds the cap of %llu", len,
                         (unsigned long long)lim.max_block_size);
    hre__reader_init(&r, in, len);
    if (hre__reader_borrow(&r, &hdr, HRE_HEADER_LEN) != HRE_OK)
        return hre__fail(HRE_EDECODE, "block truncated inside its header (%zu bytes)", len);
    rc = hre__reader_compact(&r, &count, UINT64_MAX);
    if (rc != HRE_OK) return hre__fail(HRE_EDECODE, "block transaction count is truncated or non-minimal");
    if (count > lim.max_tx_count)
        return hre__fail(HRE_ELIMIT, "block claims %llu transactions, over the cap of %llu",
                         (unsigned long long)count, (unsigned long long)lim.max_tx_count);
    /* every transaction takes at least its one-byte length prefix */
    if (count > hre__reader_remaining(&r))
        return hre__fail(HRE_EDECODE, "block claims %llu transactions in %zu bytes",
                         (unsigned long long)count, hre__reader_remaining(&r));
    if ((rc = hre_block_new(&b, NULL, &lim)) != HRE_OK) return rc;
    /* any 80 bytes form a header: this cannot fail */
    if ((rc = hre_header_decode(&b->header, hdr, HRE_HEADER_LEN)) != HRE_OK) goto fail;
    if ((rc = reserve(b, (size_t)count)) != HRE_OK) goto fail;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t tlen;
        const uint8_t *p;
        uint8_t *copy;
        if (hre__reader_compact(&r, &tlen, UINT64_MAX) != HRE_OK) {
            rc = hre__fail(HRE_EDECODE, "transaction %llu: length truncated or non-minimal",
                           (unsigned long long)i);
            goto fail;
        }
        if (tlen > hre__reader_remaining(&r)) {
            rc = hre__fail(HRE_EDECODE, "transaction %llu: %llu bytes claimed, %zu left",
                           (unsigned long long)i, (unsigned long long)tlen, hre__reader_remaining(&r));
            goto fail;
        }
        if (tlen == AMBIGUOUS_TX_LEN) {
            rc = hre__fail(HRE_EDECODE, "transaction %llu is 64 bytes long, which blocks forbid",
                           (unsigned long long)i);
            goto fail;
        }
        (void)hre__reader_borrow(&r, &p, (size_t)tlen);
        copy = hre__malloc(tlen ? (size_t)tlen : 1);
        if (!copy) {
            rc = hre__fail(HRE_ENOMEM, "out of memory copying transaction %llu", (unsigned long long)i);
            goto fail;
        }
        if (tlen) memcpy(copy, p, (size_t)tlen);
        b->txs[b->n].data = copy;
        b->txs[b->n].len = (size_t)tlen;
        b->n++;
    }
    if (hre__reader_remaining(&r) != 0) {
        rc = hre__fail(HRE_EDECODE, "%zu trailing bytes after the block", hre__reader_remaining(&r));
        goto fail;
    }
    b->size = len;
    *out = b;
    return hre__api_done(HRE_OK);
fail:
    hre_block_free(b);
    return hre__api_done(rc);
}

HRE_API int hre_block_merkle_root(const hre_block *block, uint8_t root[32], int *mutated)
{
    HRE__API_SCOPE;
    uint8_t (*ids)[32] = NULL;
    int rc = HRE_OK;
    if (mutated) *mutated = 0;
    if (!root) return hre__fail(HRE_EINVAL, "hre_block_merkle_root: NULL root");
    memset(root, 0, 32);
    if (!block) return hre__fail(HRE_EINVAL, "hre_block_merkle_root: NULL block");
    if (block->n) {
        if (block->n > SIZE_MAX / 32) return hre__fail(HRE_ENOMEM, "too many transactions");
        ids = hre__malloc(block->n * 32);
        if (!ids) return hre__fail(HRE_ENOMEM, "out of memory for %zu txids", block->n);
    }
    for (size_t i = 0; i < block->n && rc == HRE_OK; i++)
        rc = hre_sha256d(ids[i], block->txs[i].data, block->txs[i].len);
    if (rc == HRE_OK) rc = hre_merkle_root(root, mutated, (const uint8_t (*)[32])ids, block->n);
    hre__free(ids);
    return hre__api_done(rc);
}

HRE_API int hre_block_check_merkle(const hre_block *block)
{
    HRE__API_SCOPE;
    uint8_t root[32];
    int mutated = 0, rc;
    if (!block) return hre__fail(HRE_EINVAL, "hre_block_check_merkle: NULL block");
    rc = hre_block_merkle_root(block, root, &mutated);
    if (rc != HRE_OK) return rc;
    if (mutated) return hre__fail(HRE_EVERIFY, "block Merkle tree is mutated (CVE-2012-2459 pattern)");
    if (memcmp(root, block->header.merkle_root, 32) != 0)
        return hre__fail(HRE_EVERIFY, "block Merkle root does not match its transactions");
    return hre__api_done(HRE_OK);
}

HRE_API int hre_block_update_merkle_root(hre_block *block)
{
    HRE__API_SCOPE;
    uint8_t root[32];
    int mutated = 0, rc;
    if (!block) return hre__fail(HRE_EINVAL, "hre_block_update_merkle_root: NULL block");
    rc = hre_block_merkle_root(block, root, &mutated);
    if (rc != HRE_OK) return rc;
    if (mutated) return hre__fail(HRE_EVERIFY, "block Merkle tree is mutated (duplicate transactions)");
    memcpy(block->header.merkle_root, root, 32);
    return hre__api_done(HRE_OK);
}
