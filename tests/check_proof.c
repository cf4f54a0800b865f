/*
 * Header chains (hre_chain_params_check_headers) and transaction inclusion
 * proofs (proof.h, docs/PROTOCOL.md 16): round trip, every truncation, a
 * flipped byte in each part refused with its specific code, over-cap
 * counts, a chain not starting at genesis, a branch of another transaction,
 * a bad signature, another network, and a proof built on a real ledger.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>

#include "testutil.h"

#define N_HEADERS 7      /* genesis + 6 */
#define TX_HEIGHT 3      /* the block with the transactions */
#define N_TX 3

typedef struct chain {
    hre_chain_params p;
    hre_header h[N_HEADERS];
    hre_key *key;
    uint8_t net[32];
    uint8_t *tx[N_TX];
    size_t tx_len[N_TX];
    uint8_t txid[N_TX][32];
} chain;

static void mine(hre_header *h)
{
    h->nonce = 0;
    HRE_T_OK(hre_pow_mine(h, NULL, HRE_POW_ALL_NONCES));
}

/* The encoding of a signed register-patient transaction of key (with a
 * distinct timestamp per i). */
static uint8_t *patient_tx(const hre_key *key, const uint8_t net[32], uint64_t ts, size_t *len)
{
    hre_register_patient_payload pp = { 0 };
    hre_tx *tx = NULL;
    HRE_T_OK(hre_contract_build_register_patient(&tx, net, key, 0, ts, &pp));
    *len = 0;
    ck_assert_int_eq(hre_tx_encode(tx, NULL, len), HRE_EBUFSIZE);
    uint8_t *b = malloc(*len);
    ck_assert_ptr_nonnull(b);
    HRE_T_OK(hre_tx_encode(tx, b, len));
    hre_tx_free(tx);
    return b;
}

/* Block TX_HEIGHT's Merkle root over c->tx, then (re)mine headers from `from` on. */
static void relink(chain *c, size_t from)
{
    for (size_t i = from; i < N_HEADERS; i++) {
        uint8_t prev[32];
        HRE_T_OK(hre_header_hash(&c->h[i - 1], prev));
        memcpy(c->h[i].prev_hash, prev, 32);
        if (i == TX_HEIGHT) {
            for (size_t k = 0; k < N_TX; k++)
                HRE_T_OK(hre_sha256d(c->txid[k], c->tx[k], c->tx_len[k]));
            HRE_T_OK(hre_merkle_root(c->h[i].merkle_root, NULL,
                                     (const uint8_t (*)[32])c->txid, N_TX));
        }
        mine(&c->h[i]);
    }
}

/* A chain of N_HEADERS headers on a private network with a retarget every
 * 4 blocks, block TX_HEIGHT holding N_TX transactions. */
static void chain_make(chain *c, uint32_t interval, uint32_t genesis_time)
{
    memset(c, 0, sizeof *c);
    HRE_T_OK(hre_chain_params_init(&c->p, HRE_CHAIN_PARAMS_VERSION));
    int neg = 0, ovf = 0;
    HRE_T_OK(hre_pow_target_from_compact(c->p.pow_limit, &neg, &ovf, 0x207fffff));
    c->p.retarget_interval = interval;
    c->p.target_spacing = 600;
    c->p.max_block_size = 1000000;
    c->p.max_tx_count = 1000;
    c->p.genesis.version = 1;
    c->p.genesis.time = genesis_time;
    c->p.genesis.bits = 0x207fffff;
    memset(c->p.genesis.merkle_root, 0x42, 32);
    mine(&c->p.genesis);
    HRE_T_OK(hre_chain_params_check(&c->p));
    HRE_T_OK(hre_header_hash(&c->p.genesis, c->net));
    HRE_T_OK(hre_key_generate(&c->key, HRE_CURVE_P256));
    c->h[0] = c->p.genesis;
    for (size_t k = 0; k < N_TX; k++)
        c->tx[k] = patient_tx(c->key, c->net, 1700000100 + k, &c->tx_len[k]);
    for (size_t i = 1; i < N_HEADERS; i++) {
        hre_header *h = &c->h[i];
        h->version = 1;
        h->time = c->h[0].time + 400 * (uint32_t)i;
        h->bits = c->h[i - 1].bits;
        if (i % interval == 0)
            HRE_T_OK(hre_pow_retarget(&h->bits, c->h[i - 1].bits,
                                      (int64_t)c->h[i - 1].time - (int64_t)c->h[i - interval].time,
                                      (int64_t)interval * c->p.target_spacing, c->p.pow_limit));
        memset(h->merkle_root, (int)i, 32);
    }
    relink(c, 1);
}

static void chain_free(chain *c)
{
    for (size_t k = 0; k < N_TX; k++)
        free(c->tx[k]);
    hre_key_free(c->key);
}

static hre_proof *make_proof(const chain *c, size_t k)
{
    hre_merkle_branch br;
    hre_proof *p = NULL;
    HRE_T_OK(hre_merkle_branch_compute(&br, NULL, (const uint8_t (*)[32])c->txid, N_TX, k));
    HRE_T_OK(hre_proof_new(&p, c->h, N_HEADERS, TX_HEIGHT, &br, c->tx[k], c->tx_len[k]));
    return p;
}

static uint8_t *encode(const hre_proof *p, size_t *len)
{
    *len = 0;
    ck_assert_int_eq(hre_proof_encode(p, NULL, len), HRE_EBUFSIZE);
    uint8_t *b = malloc(*len);
    ck_assert_ptr_nonnull(b);
    HRE_T_OK(hre_proof_encode(p, b, len));
    return b;
}

/* Decode then verify; *why the reason. Returns the first failing code. */
static int check_bytes(const uint8_t *b, size_t len, const hre_chain_params *params, int *why,
                       size_t *bad)
{
    hre_proof *p = NULL;
    int rc = hre_proof_decode(&p, b, len);
    *why = -1;
    if (rc != HRE_OK) {
        ck_assert_ptr_null(p);
        return rc;
    }
    rc = hre_proof_verify(p, why, bad, params);
    hre_proof_free(p);
    return rc;
}

START_TEST(test_headers_check)
{
    chain c;
    chain_make(&c, 4, 1700000000);
    size_t bad = 0;
    ck_assert_uint_ne(c.h[4].bits, 0x207fffff);        /* the retarget changed the bits */
    HRE_T_OK(hre_chain_params_check_headers(&c.p, &bad, c.h, N_HEADERS));
    ck_assert_uint_eq(bad, SIZE_MAX);
    HRE_T_OK(hre_chain_params_check_headers(&c.p, &bad, c.h, 1));   /* genesis alone */
    /* not starting at genesis */
    ck_assert_int_eq(hre_chain_params_check_headers(&c.p, &bad, c.h + 1, N_HEADERS - 1),
                     HRE_EVERIFY);
    ck_assert_uint_eq(bad, 0);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "genesis"));
    /* the parent's bits where the retarget rule wants new ones */
    hre_header keep = c.h[4];
    c.h[4].bits = c.h[3].bits;
    relink(&c, 4);
    ck_assert_int_eq(hre_chain_params_check_headers(&c.p, &bad, c.h, N_HEADERS), HRE_EVERIFY);
    ck_assert_uint_eq(bad, 4);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "bits"));
    c.h[4] = keep;
    relink(&c, 4);
    HRE_T_OK(hre_chain_params_check_headers(&c.p, &bad, c.h, N_HEADERS));
    /* a time not above the median time past */
    c.h[5].time = c.h[2].time;
    relink(&c, 5);
    ck_assert_int_eq(hre_chain_params_check_headers(&c.p, &bad, c.h, N_HEADERS), HRE_EVERIFY);
    ck_assert_uint_eq(bad, 5);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "median"));
    c.h[5].time = c.h[4].time + 400;
    relink(&c, 5);
    /* a broken link */
    c.h[2].prev_hash[7] ^= 1;
    ck_assert_int_eq(hre_chain_params_check_headers(&c.p, &bad, c.h, N_HEADERS), HRE_EVERIFY);
    ck_assert_uint_eq(bad, 2);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "prev_hash"));
    relink(&c, 2);
    /* no proof of work: the first nonce whose hash is above the target */
    hre_header h = c.h[6];
    for (h.nonce = 0;; h.nonce++)
        if (hre_pow_check(&h, c.p.pow_limit) == HRE_EVERIFY)
            break;
    c.h[6] = h;
    ck_assert_int_eq(hre_chain_params_check_headers(&c.p, &bad, c.h, N_HEADERS), HRE_EVERIFY);
    ck_assert_uint_eq(bad, 6);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "proof of work"));
    ck_assert_int_eq(hre_chain_params_check_headers(&c.p, &bad, c.h, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_chain_params_check_headers(NULL, &bad, c.h, 2), HRE_EINVAL);
    chain_free(&c);
}
END_TEST

START_TEST(test_proof_round_trip)
{
    chain c;
    chain_make(&c, 4, 1700000000);
    for (size_t k = 0; k < N_TX; k++) {
        hre_proof *p = make_proof(&c, k), *q = NULL;
        size_t len = 0, len2 = 0;
        uint8_t *b = encode(p, &len);
        ck_assert_uint_eq(len, HRE_PROOF_FIXED_LEN + 80 * N_HEADERS + 32 * 2 + c.tx_len[k]);
        ck_assert_mem_eq(b, HRE_PROOF_MAGIC, 8);
        HRE_T_OK(hre_proof_decode(&q, b, len));
        uint8_t *b2 = encode(q, &len2);
        ck_assert_uint_eq(len, len2);
        ck_assert_mem_eq(b, b2, len);
        ck_assert_uint_eq(hre_proof_header_count(q), N_HEADERS);
        ck_assert_uint_eq(hre_proof_height(q), TX_HEIGHT);
        ck_assert_mem_eq(hre_proof_txid(q), c.txid[k], 32);
        ck_assert_uint_eq(hre_proof_branch(q)->index, k);
        ck_assert_uint_eq(hre_proof_branch(q)->depth, 2);
        ck_assert_mem_eq(hre_proof_header(q, 4), &c.h[4], sizeof c.h[4]);
        ck_assert_ptr_null(hre_proof_header(q, N_HEADERS));
        size_t tl = 0;
        ck_assert_mem_eq(hre_proof_tx_bytes(q, &tl), c.tx[k], c.tx_len[k]);
        ck_assert_uint_eq(tl, c.tx_len[k]);
        ck_assert_int_eq(hre_tx_verified(hre_proof_tx(q)), 0);
        int why = -1;
        size_t bad = 0;
        HRE_T_OK(hre_proof_verify(q, &why, &bad, &c.p));
        ck_assert_int_eq(why, HRE_PROOF_OK);
        ck_assert_uint_eq(bad, SIZE_MAX);
        ck_assert_int_eq(hre_tx_verified(hre_proof_tx(q)), 1);
        /* trailing bytes */
        uint8_t *longer = malloc(len + 1);
        memcpy(longer, b, len);
        longer[len] = 0;
        hre_proof *r = NULL;
        ck_assert_int_eq(hre_proof_decode(&r, longer, len + 1), HRE_EDECODE);
        ck_assert_ptr_null(r);
        free(longer);
        free(b);
        free(b2);
        hre_proof_free(p);
        hre_proof_free(q);
    }
    ck_assert_str_eq(hre_proof_why_name(HRE_PROOF_BAD_BRANCH), "bad-branch");
    ck_assert_str_eq(hre_proof_why_name(99), "unknown");
    chain_free(&c);
}
END_TEST

START_TEST(test_proof_truncations)
{
    chain c;
    chain_make(&c, 4, 1700000000);
    hre_proof *p = make_proof(&c, 1);
    size_t len = 0;
    uint8_t *b = encode(p, &len);
    for (size_t n = 0; n < len; n++) {
        hre_proof *q = NULL;
        int rc = hre_proof_decode(&q, b, n);
        ck_assert_msg(rc == HRE_EDECODE, "truncated to %zu of %zu: %d (%s)", n, len, rc,
                      hre_error_detail());
        ck_assert_ptr_null(q);
    }
    free(b);
    hre_proof_free(p);
    chain_free(&c);
}
END_TEST

/* Offsets of the parts of an encoded proof with N_HEADERS headers, depth 2. */
#define OFF_VERSION 8
#define OFF_COUNT 12
#define OFF_HEIGHT 16
#define OFF_HEADERS 20
#define OFF_TXID (OFF_HEADERS + 80 * N_HEADERS)
#define OFF_INDEX (OFF_TXID + 32)
#define OFF_DEPTH (OFF_INDEX + 4)
#define OFF_HASHES (OFF_DEPTH + 1)
#define OFF_TXLEN (OFF_HASHES + 64)
#define OFF_TX (OFF_TXLEN + 4)

START_TEST(test_proof_flipped_bytes)
{
    chain c;
    chain_make(&c, 4, 1700000000);
    hre_proof *p = make_proof(&c, 1);
    size_t len = 0, bad = 0;
    uint8_t *b = encode(p, &len);
    int why = 0;
    ck_assert_uint_eq(len, OFF_TX + c.tx_len[1]);
    HRE_T_OK(check_bytes(b, len, &c.p, &why, &bad));
    for (size_t at = 0; at < len; at++) {
        b[at] ^= 0x01;
        int rc = check_bytes(b, len, &c.p, &why, &bad);
        const char *d = hre_error_detail();
        b[at] ^= 0x01;
        if (rc == HRE_OK) {
            /* only the last header can pass: nothing links to it, so its own
               proof of work is all that vouches for it (at this test's
               easiest target about half of all hashes meet it) */
            ck_assert_msg(at >= OFF_HEADERS + 80 * (N_HEADERS - 1) && at < OFF_TXID,
                          "flipped byte %zu accepted", at);
            continue;
        }
        if (at < OFF_VERSION) {
            ck_assert_int_eq(rc, HRE_EDECODE);
            ck_assert_ptr_nonnull(strstr(d, "magic"));
        } else if (at < OFF_COUNT) {
            ck_assert_int_eq(rc, HRE_EUNSUPPORTED);
        } else if (at < OFF_HEIGHT) {
            /* another count: the length no longer fits (or over the cap) */
            ck_assert_msg(rc == HRE_EDECODE || rc == HRE_ELIMIT, "count byte %zu: %d", at, rc);
        } else if (at < OFF_HEADERS) {
            /* another height: out of range, or another block's Merkle root */
            ck_assert_msg(rc == HRE_EDECODE || (rc == HRE_EVERIFY && why == HRE_PROOF_BAD_BRANCH),
                          "height byte %zu: %d why %d", at, rc, why);
        } else if (at < OFF_HEADERS + 80) {
            ck_assert_int_eq(rc, HRE_EVERIFY);
            ck_assert_int_eq(why, HRE_PROOF_BAD_GENESIS);
            ck_assert_uint_eq(bad, 0);
        } else if (at < OFF_TXID) {
            size_t k = (at - OFF_HEADERS) / 80;
            ck_assert_int_eq(rc, HRE_EVERIFY);
            /* its own rules or the next header's link; the Merkle root of the
               last header only shows in its hash (or, at the tx's block, in the branch) */
            ck_assert_msg(why == HRE_PROOF_BAD_HEADERS || why == HRE_PROOF_BAD_BRANCH,
                          "header byte %zu: why %d", at, why);
            if (why == HRE_PROOF_BAD_HEADERS)
                ck_assert_msg(bad == k || bad == k + 1, "header %zu byte %zu: bad %zu", k, at, bad);
            else
                ck_assert_uint_eq(k, TX_HEIGHT);
        } else if (at < OFF_INDEX) {
            ck_assert_int_eq(rc, HRE_EVERIFY);
            ck_assert_int_eq(why, HRE_PROOF_BAD_TXID);
        } else if (at < OFF_DEPTH) {
            ck_assert_msg(rc == HRE_EDECODE || (rc == HRE_EVERIFY && why == HRE_PROOF_BAD_BRANCH),
                          "index byte %zu: %d why %d", at, rc, why);
        } else if (at < OFF_HASHES) {
            ck_assert_msg(rc == HRE_EDECODE || rc == HRE_ELIMIT, "depth byte: %d", rc);
        } else if (at < OFF_TXLEN) {
            ck_assert_int_eq(rc, HRE_EVERIFY);
            ck_assert_int_eq(why, HRE_PROOF_BAD_BRANCH);
        } else if (at < OFF_TX) {
            ck_assert_msg(rc == HRE_EDECODE || rc == HRE_ELIMIT, "tx length byte %zu: %d", at, rc);
        } else {
            /* the transaction: it no longer decodes, or no longer hashes to the txid */
            ck_assert_msg(rc == HRE_EDECODE || (rc == HRE_EVERIFY && why == HRE_PROOF_BAD_TXID),
                          "tx byte %zu: %d why %d", at, rc, why);
        }
    }
    free(b);
    hre_proof_free(p);
    chain_free(&c);
}
END_TEST

static void put_u32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

START_TEST(test_proof_caps)
{
    chain c;
    chain_make(&c, 4, 1700000000);
    hre_proof *p = make_proof(&c, 0), *q = NULL;
    size_t len = 0;
    uint8_t *b = encode(p, &len);
    put_u32(b + OFF_COUNT, HRE_PROOF_MAX_HEADERS + 1);
    ck_assert_int_eq(hre_proof_decode(&q, b, len), HRE_ELIMIT);
    put_u32(b + OFF_COUNT, UINT32_MAX);
    ck_assert_int_eq(hre_proof_decode(&q, b, len), HRE_ELIMIT);
    put_u32(b + OFF_COUNT, HRE_PROOF_MAX_HEADERS);   /* in the cap: the bytes are not there */
    ck_assert_int_eq(hre_proof_decode(&q, b, len), HRE_EDECODE);
    put_u32(b + OFF_COUNT, 1);
    ck_assert_int_eq(hre_proof_decode(&q, b, len), HRE_EDECODE);
    put_u32(b + OFF_COUNT, N_HEADERS);
    put_u32(b + OFF_HEIGHT, 0);                      /* genesis holds no transactions */
    ck_assert_int_eq(hre_proof_decode(&q, b, len), HRE_EDECODE);
    put_u32(b + OFF_HEIGHT, N_HEADERS);
    ck_assert_int_eq(hre_proof_decode(&q, b, len), HRE_EDECODE);
    put_u32(b + OFF_HEIGHT, TX_HEIGHT);
    b[OFF_DEPTH] = HRE_MERKLE_MAX_DEPTH + 1;
    ck_assert_int_eq(hre_proof_decode(&q, b, len), HRE_ELIMIT);
    b[OFF_DEPTH] = 2;
    put_u32(b + OFF_INDEX, 4);                       /* index >= 2^depth */
    ck_assert_int_eq(hre_proof_decode(&q, b, len), HRE_EDECODE);
    put_u32(b + OFF_INDEX, 0);
    put_u32(b + OFF_TXLEN, HRE_TX_MAX_LEN + 1);
    ck_assert_int_eq(hre_proof_decode(&q, b, len), HRE_ELIMIT);
    put_u32(b + OFF_TXLEN, (uint32_t)c.tx_len[0]);
    b[OFF_VERSION] = 2;
    ck_assert_int_eq(hre_proof_decode(&q, b, len), HRE_EUNSUPPORTED);
    b[OFF_VERSION] = 1;
    HRE_T_OK(hre_proof_decode(&q, b, len));
    hre_proof_free(q);
    /* the builder's caps */
    hre_merkle_branch br = *hre_proof_branch(p);
    ck_assert_int_eq(hre_proof_new(&q, c.h, 1, 1, &br, c.tx[0], c.tx_len[0]), HRE_EINVAL);
    ck_assert_int_eq(hre_proof_new(&q, c.h, N_HEADERS, 0, &br, c.tx[0], c.tx_len[0]), HRE_EINVAL);
    ck_assert_int_eq(hre_proof_new(&q, c.h, (size_t)HRE_PROOF_MAX_HEADERS + 1, 1, &br, c.tx[0],
                                   c.tx_len[0]), HRE_ELIMIT);
    ck_assert_int_eq(hre_proof_new(&q, c.h, N_HEADERS, 1, &br, c.tx[0], 10), HRE_EDECODE);
    ck_assert_ptr_null(q);
    br.depth = 33;
    ck_assert_int_eq(hre_proof_new(&q, c.h, N_HEADERS, 1, &br, c.tx[0], c.tx_len[0]), HRE_EINVAL);
    free(b);
    hre_proof_free(p);
    chain_free(&c);
}
END_TEST

START_TEST(test_proof_refusals)
{
    chain c;
    chain_make(&c, 4, 1700000000);
    hre_merkle_branch br;
    hre_proof *p = NULL;
    int why = 0;
    size_t bad = 0;
    /* a header chain that does not start at genesis */
    HRE_T_OK(hre_merkle_branch_compute(&br, NULL, (const uint8_t (*)[32])c.txid, N_TX, 0));
    HRE_T_OK(hre_proof_new(&p, c.h + 1, N_HEADERS - 1, TX_HEIGHT - 1, &br, c.tx[0], c.tx_len[0]));
    ck_assert_int_eq(hre_proof_verify(p, &why, &bad, &c.p), HRE_EVERIFY);
    ck_assert_int_eq(why, HRE_PROOF_BAD_GENESIS);
    ck_assert_uint_eq(bad, 0);
    ck_assert_ptr_nonnull(strstr(hre_error_detail(), "genesis"));
    hre_proof_free(p);
    /* the branch of another transaction of the block */
    HRE_T_OK(hre_proof_new(&p, c.h, N_HEADERS, TX_HEIGHT, &br, c.tx[1], c.tx_len[1]));
    ck_assert_int_eq(hre_proof_verify(p, &why, &bad, &c.p), HRE_EVERIFY);
    ck_assert_int_eq(why, HRE_PROOF_BAD_BRANCH);
    ck_assert_uint_eq(bad, SIZE_MAX);
    hre_proof_free(p);
    /* the right branch, at another height */
    HRE_T_OK(hre_proof_new(&p, c.h, N_HEADERS, TX_HEIGHT + 1, &br, c.tx[0], c.tx_len[0]));
    ck_assert_int_eq(hre_proof_verify(p, &why, &bad, &c.p), HRE_EVERIFY);
    ck_assert_int_eq(why, HRE_PROOF_BAD_BRANCH);
    hre_proof_free(p);
    /* another network's parameters: its genesis differs */
    chain d;
    chain_make(&d, 4, 1700000001);
    HRE_T_OK(hre_proof_new(&p, c.h, N_HEADERS, TX_HEIGHT, &br, c.tx[0], c.tx_len[0]));
    ck_assert_int_eq(hre_proof_verify(p, &why, &bad, &d.p), HRE_EVERIFY);
    ck_assert_int_eq(why, HRE_PROOF_BAD_GENESIS);
    HRE_T_OK(hre_proof_verify(p, &why, &bad, &c.p));
    hre_proof_free(p);
    /* a transaction of another network, in a block of this chain */
    free(c.tx[2]);
    c.tx[2] = patient_tx(c.key, d.net, 1700000200, &c.tx_len[2]);
    relink(&c, TX_HEIGHT);
    HRE_T_OK(hre_merkle_branch_compute(&br, NULL, (const uint8_t (*)[32])c.txid, N_TX, 2));
    HRE_T_OK(hre_proof_new(&p, c.h, N_HEADERS, TX_HEIGHT, &br, c.tx[2], c.tx_len[2]));
    ck_assert_int_eq(hre_proof_verify(p, &why, &bad, &c.p), HRE_EVERIFY);
    ck_assert_int_eq(why, HRE_PROOF_BAD_NETWORK);
    hre_proof_free(p);
    /* a bad signature: a timestamp byte changed after signing (still decodes) */
    c.tx[1][1 + 32 + 2 + 34 + 8] ^= 0x01;
    relink(&c, TX_HEIGHT);
    HRE_T_OK(hre_merkle_branch_compute(&br, NULL, (const uint8_t (*)[32])c.txid, N_TX, 1));
    HRE_T_OK(hre_proof_new(&p, c.h, N_HEADERS, TX_HEIGHT, &br, c.tx[1], c.tx_len[1]));
    ck_assert_int_eq(hre_proof_verify(p, &why, &bad, &c.p), HRE_EVERIFY);
    ck_assert_int_eq(why, HRE_PROOF_BAD_SIGNATURE);
    ck_assert_int_eq(hre_tx_verified(hre_proof_tx(p)), 0);
    ck_assert_int_eq(hre_proof_verify(NULL, &why, &bad, &c.p), HRE_EINVAL);
    ck_assert_int_eq(hre_proof_verify(p, &why, &bad, NULL), HRE_EINVAL);
    hre_proof_free(p);
    chain_free(&d);
    chain_free(&c);
}
END_TEST

/* Known answer on a real ledger: a private network in memory, a patient
 * registered and mined, the proof made as `hre chain proof` makes it. */
START_TEST(test_proof_ledger)
{
    hre_key *auth = NULL, *pat = NULL;
    uint8_t wire[34], net[32], txid[32];
    hre_network *nw = NULL;
    hre_storage *st = NULL;
    hre_ledger *l = NULL;
    HRE_T_OK(hre_key_generate(&auth, HRE_CURVE_P256));
    HRE_T_OK(hre_key_generate(&pat, HRE_CURVE_P256));
    hre_pubkey *pk = NULL;
    HRE_T_OK(hre_key_pubkey(auth, &pk));
    HRE_T_OK(hre_pubkey_serialize_wire(pk, wire));
    hre_pubkey_free(pk);
    HRE_T_OK(hre_network_new_private(&nw, wire, "Proof Hospital", 1700000000));
    HRE_T_OK(hre_storage_memory_new(&st, 0));
    hre_ledger_options o;
    HRE_T_OK(hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    o.storage = st;
    o.network = nw;
    HRE_T_OK(hre_ledger_open(&l, &o));
    HRE_T_OK(hre_ledger_network_id(l, net));
    uint64_t now = 1700000600;
    for (int b = 0; b < 4; b++) {
        uint8_t hash[32];
        hre_ledger_status s;
        if (b == 1) {
            size_t len = 0;
            uint8_t *tx = patient_tx(pat, net, now, &len);
            HRE_T_OK(hre_ledger_submit_tx(l, txid, &s, tx, len, now));
            free(tx);
        }
        HRE_T_OK(hre_ledger_mine(l, hash, &s, now, HRE_POW_ALL_NONCES,
                                 b == 1 ? 0 : HRE_LEDGER_MINE_ALLOW_EMPTY));
        now += 600;
    }
    uint64_t tip = 0, height = 0;
    HRE_T_OK(hre_ledger_tip(l, &tip, NULL));
    ck_assert_uint_eq(tip, 4);
    hre_header hdr, hs[5];
    hre_merkle_branch br;
    HRE_T_OK(hre_ledger_tx_proof(l, &hdr, &br, &height, txid, UINT64_MAX));
    ck_assert_uint_eq(height, 2);
    for (uint64_t i = 0; i <= tip; i++)
        HRE_T_OK(hre_ledger_header_by_height(l, &hs[i], NULL, i));
    size_t blen = 0;
    ck_assert_int_eq(hre_ledger_block_by_height(l, NULL, &blen, height), HRE_EBUFSIZE);
    uint8_t *raw = malloc(blen);
    HRE_T_OK(hre_ledger_block_by_height(l, raw, &blen, height));
    hre_block *blk = NULL;
    HRE_T_OK(hre_block_decode(&blk, raw, blen, NULL));
    ck_assert_uint_eq(hre_block_tx_count(blk), 1);
    const uint8_t *tb = NULL;
    size_t tl = 0;
    HRE_T_OK(hre_block_tx(blk, &tb, &tl, 0));
    hre_proof *p = NULL, *q = NULL;
    HRE_T_OK(hre_proof_new(&p, hs, (size_t)tip + 1, height, &br, tb, tl));
    size_t len = 0;
    uint8_t *enc = encode(p, &len);
    HRE_T_OK(hre_proof_decode(&q, enc, len));
    hre_chain_params params = HRE_CHAIN_PARAMS_INIT;
    HRE_T_OK(hre_network_params(nw, &params));
    int why = -1;
    size_t bad = 0;
    HRE_T_OK(hre_proof_verify(q, &why, &bad, &params));
    ck_assert_mem_eq(hre_proof_txid(q), txid, 32);
    ck_assert_uint_eq(hre_tx_kind(hre_proof_tx(q)), HRE_KIND_REGISTER_PATIENT);
    /* the private preset's params: a ledger's params give the same verdict */
    hre_chain_params lp = HRE_CHAIN_PARAMS_INIT;
    HRE_T_OK(hre_ledger_params(l, &lp));
    HRE_T_OK(hre_proof_verify(q, &why, &bad, &lp));
    free(enc);
    free(raw);
    hre_block_free(blk);
    hre_proof_free(p);
    hre_proof_free(q);
    hre_ledger_close(l);
    hre_storage_free(st);
    hre_network_free(nw);
    hre_key_free(auth);
    hre_key_free(pat);
}
END_TEST

Suite *hre_suite_proof(void)
{
    Suite *s = suite_create("proof");
    TCase *tc = tcase_create("proof");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_headers_check);
    tcase_add_test(tc, test_proof_round_trip);
    tcase_add_test(tc, test_proof_truncations);
    tcase_add_test(tc, test_proof_flipped_bytes);
    tcase_add_test(tc, test_proof_caps);
    tcase_add_test(tc, test_proof_refusals);
    tcase_add_test(tc, test_proof_ledger);
    suite_add_tcase(s, tc);
    return s;
}
