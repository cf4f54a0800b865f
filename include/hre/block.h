/*
 * libhre layer 2: the 80-byte block header (Bitcoin's, byte for byte), the
 * block type (a header plus a list of transaction byte strings), network
 * parameters. (The display-order hash hex helpers are in hash.h.)
 *
 * Thread safety: every function is reentrant and may be called from any thread;
 * header and params functions touch only their arguments. An hre_block may be
 * read from several threads at once but must not be mutated concurrently.
 *
 * Byte order: hashes are kept in internal byte order, the raw sha256d output.
 * Bitcoin tools display them byte-reversed ("display order");
 * hre_hash_display_encode and hre_hash_display_decode (hash.h) convert. See
 * docs/PROTOCOL.md section 2.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef HRE_BLOCK_H
#define HRE_BLOCK_H

#include "common.h"

HRE_BEGIN_DECLS

/** Size of an encoded block header in bytes. */
#define HRE_HEADER_LEN 80

/** A block header, a value type. Encoded as version (u32 LE), prev_hash (32),
 *  merkle_root (32), time (u32 LE), bits (u32 LE), nonce (u32 LE).
 *  prev_hash and merkle_root are in internal byte order.  Since: 1.0 */
typedef struct hre_header {
    uint32_t version;  /**< block version */
    uint8_t prev_hash[32];  /**< hash of the previous header, internal byte order */
    uint8_t merkle_root[32];  /**< Merkle root of the transactions, internal byte order */
    uint32_t time;  /**< block time, seconds since the epoch */
    uint32_t bits;  /**< compact proof-of-work target */
    uint32_t nonce;  /**< proof-of-work nonce */
} hre_header;

/** Decode an 80-byte header.
 *  Out: *out: the header (zeroed on failure).
 *  In:  in/len: exactly HRE_HEADER_LEN bytes; any 80 bytes form a header.
 *  Returns: HRE_OK; HRE_EINVAL (NULL out, or NULL in); HRE_EDECODE (len != 80).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_header_decode(hre_header *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;

/** Encode a header into exactly 80 bytes.
 *  Args: h: the header (self).
 *  Out: out: HRE_HEADER_LEN bytes (zeroed if h is NULL).
 *  Returns: HRE_OK; HRE_EINVAL (NULL argument).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_header_encode(const hre_header *h, uint8_t out[80]);

/** Block hash: sha256d of the 80-byte encoding, internal byte order.
 *  Args: h: the header (self).
 *  Out: out: 32 bytes (zeroed on failure: check the result, a zeroed hash
 *       would meet any target).
 *  Returns: HRE_OK; HRE_EINVAL (NULL argument); HRE_ECRYPTO (the provider
 *           failed).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_header_hash(const hre_header *h, uint8_t out[32]) HRE_WARN_UNUSED_RESULT;

/* ------------------------------------------------------------------------ */
/* Blocks                                                                   */
/* ------------------------------------------------------------------------ */

/** Newest version of hre_block_limits this header declares (its .version field). */
#define HRE_BLOCK_LIMITS_VERSION 1
/** @{ */
/** Default caps used when a function is given NULL limits. */
#define HRE_BLOCK_DEFAULT_MAX_SIZE 1000000u
#define HRE_BLOCK_DEFAULT_MAX_TXS 100000u
/** @} */

/** Caps on a block, chosen by the caller (usually from hre_chain_params).
 *  max_block_size caps the whole encoding (header included) in bytes;
 *  max_tx_count caps the number of transactions.
 *  Since: 1.0 */
typedef struct hre_block_limits {
    unsigned int version;     /* HRE_BLOCK_LIMITS_VERSION */
    uint64_t max_block_size;  /**< cap on the whole encoding in bytes */
    uint64_t max_tx_count;  /**< cap on the number of transactions */
} hre_block_limits;

/** Static initializer for hre_block_limits: HRE_BLOCK_LIMITS_VERSION, every other field at its default. */
#define HRE_BLOCK_LIMITS_INIT \
    { HRE_BLOCK_LIMITS_VERSION, HRE_BLOCK_DEFAULT_MAX_SIZE, HRE_BLOCK_DEFAULT_MAX_TXS }

/** Set *limits to the defaults of the given struct version (1 up to
 *  HRE_BLOCK_LIMITS_VERSION; nothing past that version's fields is written).
 *  Functions taking limits accept every known version (fields an older
 *  version lacks take the defaults).
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (unknown version).
 *  Since: 1.0 */
HRE_API int hre_block_limits_init(hre_block_limits *limits, unsigned int version);

/** A block: a header plus an ordered list of transactions, each an opaque byte
 *  string (layer 3 gives them meaning). The txid of a transaction is
 *  sha256d(its bytes). A transaction of exactly 64 bytes is never accepted:
 *  it could be confused with an inner Merkle node (see PROTOCOL.md).
 *  Opaque handle; not thread-safe for concurrent mutation, but concurrent
 *  read-only calls on one block are fine.  Since: 1.0 */
typedef struct hre_block hre_block;

/** Create an empty block.
 *  Out: *out: new block owned by the caller, free with hre_block_free (NULL on failure).
 *  In:  header: initial header (NULL for an all-zero header).
 *       limits: caps enforced by hre_block_add_tx (NULL for HRE_BLOCK_LIMITS_INIT);
 *       copied. The limits must allow at least the 81-byte empty block.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED (limits version); HRE_ENOMEM.
 *  Since: 1.0 */
HRE_API int hre_block_new(hre_block **out, const hre_header *header,
                          const hre_block_limits *limits);

/** Free a block and its transactions. NULL is fine.  Since: 1.0 */
HRE_API void hre_block_free(hre_block *block);

/** Borrow the block's header (valid until the block is freed or its header set).
 *  Returns NULL if block is NULL.  Since: 1.0 */
HRE_API const hre_header *hre_block_header(const hre_block *block);

/** Replace the block's header.  Returns: HRE_OK; HRE_EINVAL.  Since: 1.0 */
HRE_API int hre_block_set_header(hre_block *block, const hre_header *header);

/** Append a copy of a transaction.
 *  In: tx/len: the transaction bytes (tx may be NULL only if len == 0).
 *  Returns: HRE_OK; HRE_EINVAL (NULL, or len == 64); HRE_ELIMIT (the block
 *           would exceed its max_block_size or max_tx_count; nothing added);
 *           HRE_ENOMEM (nothing added).
 *  Since: 1.0 */
HRE_API int hre_block_add_tx(hre_block *block, const uint8_t *tx, size_t len);

/** Number of transactions (0 if block is NULL).  Since: 1.0 */
HRE_API size_t hre_block_tx_count(const hre_block *block);

/** Borrow transaction i.
 *  Args: block (self).
 *  Out: *tx: points into the block, valid until the block is freed;
 *       *len: its length (NULL / 0 on failure).
 *  In:  i: the index, 0 <= i < hre_block_tx_count(block).
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_ENOTFOUND (i out of range).
 *  Since: 1.0 */
HRE_API int hre_block_tx(const hre_block *block, const uint8_t **tx, size_t *len, size_t i);

/** txid of transaction i: sha256d of its bytes, internal byte order.
 *  Args: block (self). Out: out: 32 bytes (zeroed on failure). In: i.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOTFOUND; HRE_ECRYPTO.  Since: 1.0 */
HRE_API int hre_block_txid(const hre_block *block, uint8_t out[32], size_t i);

/** Size in bytes of the block's encoding (0 if block is NULL).  Since: 1.0 */
HRE_API size_t hre_block_size(const hre_block *block);

/** Encode: header (80) || CompactSize(tx count) || per tx CompactSize(len) || bytes.
 *  Args: block (self).
 *  Out: out: the encoding (may be NULL with *len == 0 to ask the size).
 *  In/Out: *len: capacity of out on input; bytes written (or needed) on output.
 *  Returns: HRE_OK; HRE_EINVAL (NULL block or len); HRE_EBUFSIZE (out NULL or
 *           too small; *len = size needed).
 *  Since: 1.0 */
HRE_API int hre_block_encode(const hre_block *block, uint8_t *out, size_t *len);

/** Decode a block, treating the input as hostile: the size and count caps are
 *  checked before anything is allocated; truncation, non-minimal CompactSize,
 *  64-byte transactions and trailing bytes are rejected.
 *  Out: *out: new block (NULL on failure), free with hre_block_free. It keeps
 *       the limits it was decoded with for later hre_block_add_tx calls.
 *  In:  in/len: the encoding. limits: caps (NULL for HRE_BLOCK_LIMITS_INIT).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED (limits version);
 *           HRE_EDECODE (malformed); HRE_ELIMIT (over a cap); HRE_ENOMEM.
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_block_decode(hre_block **out, const uint8_t *in, size_t len,
                             const hre_block_limits *limits) HRE_WARN_UNUSED_RESULT;

/** Merkle root over the block's txids (Bitcoin rules; see hre_merkle_root).
 *  Args: block (self).
 *  Out: root (zeroed on failure); *mutated (may be NULL): 1 on the
 *       CVE-2012-2459 pattern.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOMEM; HRE_ECRYPTO.  Since: 1.0 */
HRE_API int hre_block_merkle_root(const hre_block *block, uint8_t root[32], int *mutated);

/** Check that the header's merkle_root equals the root over the txids and
 *  that the tree is not mutated.
 *  Returns: HRE_OK; HRE_EVERIFY (mismatch or mutation; the detail says which);
 *           HRE_EINVAL; HRE_ENOMEM; HRE_ECRYPTO.
 *  Since: 1.0 */
HRE_API int hre_block_check_merkle(const hre_block *block) HRE_WARN_UNUSED_RESULT;

/** Compute the Merkle root over the txids and store it in the header.
 *  Returns: HRE_OK; HRE_EVERIFY (mutated tree: duplicate transactions; the
 *           header is left unchanged); HRE_EINVAL; HRE_ENOMEM; HRE_ECRYPTO.
 *  Since: 1.0 */
HRE_API int hre_block_update_merkle_root(hre_block *block) HRE_WARN_UNUSED_RESULT;

/* ------------------------------------------------------------------------ */
/* Network parameters                                                       */
/* ------------------------------------------------------------------------ */

/** Newest version of hre_chain_params this header declares (its .version field). */
#define HRE_CHAIN_PARAMS_VERSION 1

/** Parameters of a network. Data, not code: an HRE network picks its own.
 *  Since: 1.0 */
typedef struct hre_chain_params {
    unsigned int version;        /* HRE_CHAIN_PARAMS_VERSION */
    hre_header genesis;          /* the genesis block header */
    uint32_t retarget_interval;  /* blocks per difficulty period */
    uint8_t pow_limit[32];       /* easiest allowed target, little-endian */
    int64_t target_spacing;      /* seconds between blocks */
    uint64_t max_block_size;     /* bytes, whole block encoding */
    uint64_t max_tx_count;       /* transactions per block */
} hre_chain_params;              /* (field order leaves no padding on common ABIs) */

/** Static initialiser: version set, everything else zero. */
#define HRE_CHAIN_PARAMS_INIT { HRE_CHAIN_PARAMS_VERSION, { 0, {0}, {0}, 0, 0, 0 }, 0, {0}, 0, 0, 0 }

/** Zero the fields `version` declares and set the version (for bindings
 *  that cannot use the macro). Functions taking params accept every known
 *  version.
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (unknown version).
 *  Since: 1.0 */
HRE_API int hre_chain_params_init(hre_chain_params *p, unsigned int version);

/** Fill *p with Bitcoin main-net values: genesis block 0, PoW limit
 *  2^224 - 1 (compact 0x1d00ffff), 600 s spacing, 2016-block interval,
 *  1,000,000-byte blocks, and libhre's default tx-count cap (100,000).
 *  An output struct (rule 7): set p->version first (HRE_CHAIN_PARAMS_INIT or
 *  hre_chain_params_init); the fields of that version are written.
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (p->version).
 *  Since: 1.0 */
HRE_API int hre_chain_params_bitcoin_mainnet(hre_chain_params *p);

/** Sanity-check a parameter set (read up to its version): known version, nonzero pow_limit, positive
 *  spacing and interval, spacing * interval representable, block caps large
 *  enough for a one-transaction block, and a genesis header whose proof of
 *  work is valid under pow_limit.
 *  Returns: HRE_OK; HRE_EINVAL (the detail names the field); HRE_EUNSUPPORTED
 *           (version); HRE_ECRYPTO.
 *  Since: 1.0 */
HRE_API int hre_chain_params_check(const hre_chain_params *p) HRE_WARN_UNUSED_RESULT;

/** Block caps of a network, for hre_block_new / hre_block_decode.
 *  Args: p: the parameters (read up to their version).
 *  Out: *out: set out->version first (HRE_BLOCK_LIMITS_INIT or
 *       hre_block_limits_init); the fields of that version are written.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED (either version).  Since: 1.0 */
HRE_API int hre_chain_params_block_limits(const hre_chain_params *p, hre_block_limits *out);

/** Check a header chain that starts at the network's genesis, with the
 *  headers alone (a light client's check; docs/PROTOCOL.md 2.11): headers[0]
 *  must equal p->genesis byte for byte, and every later header must carry
 *  the hash of the one before it as prev_hash, a valid proof of work under
 *  p->pow_limit (2.6), the bits the retarget rule expects (7.6: the parent's
 *  bits, recomputed with hre_pow_retarget at multiples of
 *  retarget_interval), and a time above the median of the 11 (fewer near
 *  genesis) headers before it. No host clock is read: the future-time rule
 *  of the ledger is not applied.
 *  Args: p: the network's parameters (read up to their version; self).
 *  Out: *bad_index (may be NULL): the index of the first header that fails
 *       (0: not the genesis header), SIZE_MAX when all pass or the call
 *       could not check (HRE_EINVAL, HRE_EUNSUPPORTED).
 *  In:  headers/n: the chain, genesis first (n >= 1).
 *  Returns: HRE_OK; HRE_EVERIFY (the detail names the header and the rule);
 *           HRE_EINVAL (NULL, n == 0); HRE_EUNSUPPORTED (params version);
 *           HRE_ECRYPTO.
 *  Cost: one header hash per header, no allocation.
 *  Thread safety: safe from any thread.  Since: 1.1 */
HRE_API int hre_chain_params_check_headers(const hre_chain_params *p, size_t *bad_index,
                                           const hre_header *headers,
                                           size_t n) HRE_WARN_UNUSED_RESULT;

HRE_END_DECLS

#endif /* HRE_BLOCK_H */
