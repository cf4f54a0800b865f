/*
 * libhre layer 2: proof of work, Bitcoin-compatible. Compact targets (nBits),
 * the PoW check, work of a target (for the heaviest-chain rule), retargeting,
 * and mining (whole header or a nonce range, cancellable).
 *
 * Thread safety: every function is reentrant and may be called from any thread
 * (mining threads each work on their own header copy).
 *
 * Targets, hashes and work values are 256-bit unsigned numbers stored as 32
 * bytes, little-endian (so a block hash in internal byte order compares
 * directly). See docs/PROTOCOL.md section 2.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef HRE_POW_H
#define HRE_POW_H

#include "common.h"
#include "block.h"

HRE_BEGIN_DECLS

/** The max_tries value of hre_pow_mine and hre_ledger_mine that sweeps the
 *  whole 32-bit nonce space once (2^32 nonces). max_tries counts nonces:
 *  0 tries none (HRE_EEXHAUSTED at once) and larger values are clamped to
 *  this (after a full sweep the caller must change time or merkle_root).
 *  Since: 1.0 */
#define HRE_POW_ALL_NONCES ((uint64_t)1 << 32)

/** Decode compact bits into a 256-bit target, as Bitcoin Core's SetCompact.
 *  Out: target: the value (zeroed when a flag is set); *negative, *overflow
 *       (each may be NULL): the flags SetCompact reports.
 *  In:  bits: the compact value.
 *  Returns: HRE_OK (neither flag set; the target may be zero);
 *           HRE_EDECODE (negative or overflow); HRE_EINVAL (NULL target).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_pow_target_from_compact(uint8_t target[32], int *negative, int *overflow,
                                        uint32_t bits) HRE_WARN_UNUSED_RESULT;

/** Encode a target as compact bits (Bitcoin Core's GetCompact, never negative).
 *  Out: *bits (0 on failure).
 *  In:  target: 32 bytes little-endian.
 *  Returns: HRE_OK; HRE_EINVAL (NULL argument).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_pow_target_to_compact(uint32_t *bits, const uint8_t target[32]);

/** Check the header's proof of work: its bits must decode to a target that is
 *  positive, not negative, not overflowing and <= pow_limit, and its hash
 *  (little-endian) must be <= that target.
 *  Args: h: the header. In: pow_limit: 32 bytes little-endian.
 *  Returns: HRE_OK; HRE_EVERIFY (detail says why); HRE_EINVAL (NULL);
 *           HRE_ECRYPTO.
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_pow_check(const hre_header *h, const uint8_t pow_limit[32]) HRE_WARN_UNUSED_RESULT;

/** As hre_pow_check, for a block hash the caller already has.
 *  In: hash (internal byte order), bits, pow_limit.
 *  Returns: as hre_pow_check.  Since: 1.0 */
HRE_API int hre_pow_check_hash(const uint8_t hash[32], uint32_t bits,
                               const uint8_t pow_limit[32]) HRE_WARN_UNUSED_RESULT;

/** Next compact target after a difficulty period (Bitcoin's
 *  CalculateNextWorkRequired): actual_timespan is clamped to
 *  [target_timespan / 4, target_timespan * 4] (integer division), the old
 *  target is multiplied by it and divided by target_timespan, and the result is
 *  capped at pow_limit. The arithmetic is exact (no 256-bit wrap-around).
 *  Out: *bits: the new compact target (0 on failure).
 *  In:  last_bits, actual_timespan, target_timespan, pow_limit.
 *  Returns: HRE_OK; HRE_EINVAL (NULL argument, target_timespan <= 0 or
 *           > INT64_MAX / 4, or last_bits negative, overflowing or zero;
 *           the detail says which).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_pow_retarget(uint32_t *bits, uint32_t last_bits, int64_t actual_timespan,
                             int64_t target_timespan, const uint8_t pow_limit[32]);

/** Work of a target: floor(2^256 / (target + 1)), as Bitcoin Core's
 *  GetBlockProof; the expected number of hashes to meet it.
 *  Out: work: 256-bit little-endian (zeroed on failure).
 *  In:  bits.
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EDECODE (bits negative, overflowing
 *           or zero: such a header has no valid proof of work).
 *  Since: 1.0 */
HRE_API int hre_pow_work(uint8_t work[32], uint32_t bits);

/** Cumulative work: sum = a + b (sum may alias a or b).
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_ELIMIT (the sum exceeds 2^256 - 1;
 *           sum zeroed).
 *  Since: 1.0 */
HRE_API int hre_pow_work_add(uint8_t sum[32], const uint8_t a[32], const uint8_t b[32]);

/** Compare two 256-bit little-endian numbers (works, targets or hashes).
 *  A NULL argument sorts below every number (two NULLs are equal).
 *  Returns: -1 if a < b, 0 if equal, 1 if a > b.  Since: 1.0 */
HRE_API int hre_pow_work_cmp(const uint8_t a[32], const uint8_t b[32]) HRE_WARN_UNUSED_RESULT;

/** Mine: try nonces h->nonce, h->nonce + 1, ... (wrapping at 2^32) until the
 *  header's hash meets the target of h->bits. The first 64 header bytes are
 *  hashed once per sweep (midstate).
 *  Args: h: the header (self, in/out): on HRE_OK its nonce is the winning
 *        one; otherwise it is the next untried nonce.
 *  Out: *tries (may be NULL): hashes computed.
 *  In:  max_tries: nonces to try at most; 0 tries none (HRE_EEXHAUSTED at
 *       once, after the bits are checked); HRE_POW_ALL_NONCES (2^32) sweeps
 *       every nonce once; larger values are clamped to HRE_POW_ALL_NONCES.
 *  Returns: HRE_OK; HRE_EEXHAUSTED (no nonce found in max_tries);
 *           HRE_EINVAL (NULL, or bits not a positive target); HRE_ENOMEM;
 *           HRE_ECRYPTO.
 *  Thread safety: safe from any thread on distinct headers.
 *  Since: 1.0 */
HRE_API int hre_pow_mine(hre_header *h, uint64_t *tries, uint64_t max_tries) HRE_WARN_UNUSED_RESULT;

/** Mine over the inclusive nonce range [first_nonce, last_nonce], so a host can
 *  split the nonce space across threads (each with its own header copy).
 *  cancel (may be NULL) is polled about every 16384 nonces; once *cancel is
 *  nonzero the call stops with HRE_ECANCELED. The library reads it with an
 *  atomic (relaxed) load; another thread should set it with an atomic store
 *  too (e.g. GCC/Clang __atomic_store_n(&flag, 1, __ATOMIC_RELAXED)), so the
 *  pair is race-free in the C11 memory model.
 *  Args: h: the header (self, in/out): on HRE_OK its nonce is the winning
 *        one; on HRE_EEXHAUSTED or HRE_ECANCELED it is the next untried nonce
 *        (last_nonce + 1 wraps).
 *  Out: *tries (may be NULL): hashes computed.
 *  In:  first_nonce <= last_nonce; cancel (may be NULL).
 *  Returns: HRE_OK; HRE_EEXHAUSTED; HRE_ECANCELED; HRE_EINVAL (NULL,
 *           first_nonce > last_nonce, or bits not a positive target);
 *           HRE_ENOMEM; HRE_ECRYPTO.
 *  Since: 1.0 */
HRE_API int hre_pow_mine_range(hre_header *h, uint64_t *tries, uint32_t first_nonce,
                               uint32_t last_nonce, const volatile int *cancel) HRE_WARN_UNUSED_RESULT;

HRE_END_DECLS

#endif /* HRE_POW_H */
