/*
 * libhre layer 3 (since 1.1): a self-contained transaction inclusion proof,
 * checkable by anyone who holds the network's parameters and nothing else
 * (no ledger, no node). It carries the header chain from the genesis block
 * up to at least the block holding the transaction (usually up to the tip,
 * so the confirmations can be counted), the Merkle branch of the
 * transaction in that block and the encoded transaction itself.
 * docs/PROTOCOL.md section 16 is the byte-exact format.
 *
 * The verifier (hre_proof_verify) checks that the first header is the
 * network's genesis, the header chain (hre_chain_params_check_headers:
 * links, proof of work, expected bits, median time), that the transaction
 * hashes to the proof's txid, that the branch leads from that txid to the
 * block's Merkle root, that the transaction names the network, and its
 * signature. It does not say that the headers are the heaviest chain: a
 * host that knows the network's tip compares.
 *
 *   hre_proof *p = NULL;
 *   hre_proof_decode(&p, file, len);           // hostile input
 *   int why = 0; size_t bad = 0;
 *   if (hre_proof_verify(p, &why, &bad, &params) == HRE_OK) ... hre_proof_tx(p) ...
 *   hre_proof_free(p);
 *
 * Thread safety: an hre_proof is immutable after it is made, except the
 * "verified" mark of its transaction (hre_tx_verify), an atomic store; it
 * may be read from several threads at once.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef HRE_PROOF_H
#define HRE_PROOF_H

#include "common.h"
#include "block.h"
#include "merkle.h"
#include "tx.h"

HRE_BEGIN_DECLS

/** The 8 magic bytes that start a proof file ("HREPROF1", no NUL).  Since: 1.1 */
#define HRE_PROOF_MAGIC "HREPROF1"
/** The format version this library writes and reads.  Since: 1.1 */
#define HRE_PROOF_FORMAT 1
/** Most headers a proof may carry (genesis included): 2^20, 80 MiB of headers.  Since: 1.1 */
#define HRE_PROOF_MAX_HEADERS (1u << 20)
/** Fixed bytes of a proof besides the headers, the branch hashes and the
 *  transaction: magic, version, header count, height, txid, branch index
 *  and depth, transaction length.  Since: 1.1 */
#define HRE_PROOF_FIXED_LEN (8 + 4 + 4 + 4 + 32 + 5 + 4)
/** Largest encoded proof in bytes.  Since: 1.1 */
#define HRE_PROOF_MAX_LEN \
    ((size_t)HRE_PROOF_FIXED_LEN + (size_t)80 * HRE_PROOF_MAX_HEADERS + 32 * HRE_MERKLE_MAX_DEPTH + \
     HRE_TX_MAX_LEN)

/** Why hre_proof_verify refused (its *why output).  Since: 1.1 */
#define HRE_PROOF_OK           0  /* verified */
#define HRE_PROOF_BAD_GENESIS  1  /* the first header is not the network's genesis */
#define HRE_PROOF_BAD_HEADERS  2  /* a header does not link, lacks its proof of work,
                                     carries other bits than expected, or is too old */
#define HRE_PROOF_BAD_TXID     3  /* the transaction does not hash to the proof's txid */
#define HRE_PROOF_BAD_BRANCH   4  /* the branch does not lead to the block's Merkle root */
#define HRE_PROOF_BAD_NETWORK  5  /* the transaction names another network */
#define HRE_PROOF_BAD_SIGNATURE 6 /* the transaction's signature does not verify */

/** A proof. Opaque.  Since: 1.1 */
typedef struct hre_proof hre_proof;

/** Make a proof from its parts (the prover's side: the headers come from
 *  hre_ledger_header_by_height, the branch from hre_ledger_tx_proof, the
 *  transaction from the block). Everything is copied; the transaction is
 *  decoded strictly (hre_tx_decode) and the txid is computed from it. The
 *  parts are not checked against each other here: hre_proof_verify does.
 *  Out: *out: new proof owned by the caller (free with hre_proof_free; NULL
 *       on failure).
 *  In:  headers/n_headers: the header chain, genesis first, 2 ..
 *       HRE_PROOF_MAX_HEADERS of them; height: the index in headers of the
 *       block holding the transaction, 1 .. n_headers - 1; branch: its
 *       Merkle branch (depth <= 32, index < 2^depth); tx/tx_len: the
 *       encoded transaction.
 *  Returns: HRE_OK; HRE_EINVAL (NULL, n_headers < 2, height out of range, a
 *           malformed branch); HRE_ELIMIT (too many headers, a transaction
 *           over HRE_TX_MAX_LEN); HRE_EDECODE (the transaction does not
 *           decode); HRE_ENOMEM; HRE_ECRYPTO.
 *  Thread safety: safe from any thread.  Since: 1.1 */
HRE_API int hre_proof_new(hre_proof **out, const hre_header *headers, size_t n_headers,
                          uint64_t height, const hre_merkle_branch *branch, const uint8_t *tx,
                          size_t tx_len);

/** Free a proof; NULL is fine.  Since: 1.1 */
HRE_API void hre_proof_free(hre_proof *p);

/** Encode a proof (docs/PROTOCOL.md 16).
 *  Args: p (self). Out: out (may be NULL with *len == 0 to ask the size).
 *  In/Out: *len: capacity in; bytes written (or needed, HRE_EBUFSIZE) out.
 *  Returns: HRE_OK; HRE_EBUFSIZE; HRE_EINVAL (NULL).
 *  Thread safety: safe from any thread.  Since: 1.1 */
HRE_API int hre_proof_encode(const hre_proof *p, uint8_t *out, size_t *len);

/** Decode a proof (hostile input): magic, format version, the header count
 *  against its cap and against the bytes left before anything is
 *  allocated, the height's range, the branch (2.4's rules), the
 *  transaction's length and its strict decoding, the exact length. Nothing
 *  is verified: call hre_proof_verify.
 *  Out: *out: new proof owned by the caller (NULL on failure).
 *  In:  in/len: the bytes.
 *  Returns: HRE_OK; HRE_EDECODE (malformed or truncated; the detail names
 *           the field); HRE_ELIMIT (a count or length over its cap);
 *           HRE_EUNSUPPORTED (another format version); HRE_EINVAL (NULL);
 *           HRE_ENOMEM.
 *  Thread safety: safe from any thread.  Since: 1.1 */
HRE_API int hre_proof_decode(hre_proof **out, const uint8_t *in,
                             size_t len) HRE_WARN_UNUSED_RESULT;

/** Verify a proof against a network's parameters, in this order: the
 *  genesis header, the header chain (hre_chain_params_check_headers), the
 *  txid, the Merkle branch under the Merkle root of header `height`, the
 *  transaction's network id (the genesis hash), its signature
 *  (hre_tx_verify, which marks the transaction verified: p is not const).
 *  Args: p (self).
 *  Out: *why (may be NULL): HRE_PROOF_OK or the first HRE_PROOF_BAD_* that
 *       failed; *bad_header (may be NULL): the index of the header that
 *       failed (HRE_PROOF_BAD_GENESIS / _HEADERS), else SIZE_MAX.
 *  In:  params: the network's parameters (hre_network_params of the
 *       network file; read up to their version).
 *  Returns: HRE_OK; HRE_EVERIFY (refused: *why says which check, the detail
 *           says how); HRE_EINVAL (NULL); HRE_EUNSUPPORTED (params
 *           version); HRE_ENOMEM / HRE_ECRYPTO (no verdict).
 *  Thread safety: safe for a shared proof.  Since: 1.1 */
HRE_API int hre_proof_verify(hre_proof *p, int *why, size_t *bad_header,
                             const hre_chain_params *params) HRE_WARN_UNUSED_RESULT;

/** @{ */
/** Accessors (a NULL p gives 0 or NULL). Borrowed pointers live as long as
 *  p. hre_proof_header: header i (0 = genesis), NULL past the last;
 *  hre_proof_height: the index of the block holding the transaction;
 *  hre_proof_txid: 32 bytes; hre_proof_tx: the decoded transaction;
 *  hre_proof_tx_bytes: its encoding (*len set, 0 for NULL p).
 *  Since: 1.1 */
HRE_API size_t hre_proof_header_count(const hre_proof *p);
HRE_API const hre_header *hre_proof_header(const hre_proof *p, size_t i);
HRE_API uint64_t hre_proof_height(const hre_proof *p);
HRE_API const uint8_t *hre_proof_txid(const hre_proof *p);
HRE_API const hre_merkle_branch *hre_proof_branch(const hre_proof *p);
HRE_API const hre_tx *hre_proof_tx(const hre_proof *p);
HRE_API const uint8_t *hre_proof_tx_bytes(const hre_proof *p, size_t *len);
/** @} */

/** A static name for a HRE_PROOF_* value ("ok", "bad-genesis", ...);
 *  "unknown" for others.  Since: 1.1 */
HRE_API const char *hre_proof_why_name(int why);

HRE_END_DECLS

#endif /* HRE_PROOF_H */
