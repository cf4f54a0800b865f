/*
 * libhre -- Healthcare Records Exchange ledger library.
 * common.h: the calling convention, export macros and the basic includes
 * shared by every public header.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 *
 * ========================================================================
 * The libhre calling convention
 * ========================================================================
 * Every public function of libhre follows these rules. A function that
 * cannot follow one says so in its own comment, with the reason.
 *
 * 1. Names. Functions are hre_<module>_<verb>[_<object>]; each is declared in
 *    the header of the module its name starts with (hre_key_* in key.h,
 *    hre_pow_* in pow.h, hre_hash_* in hash.h ...). Types are hre_<thing>;
 *    macros and enum values HRE_<NAME>. Internals are hre_<module>__<name>
 *    (hre__<name> in core) and are never exported.
 *
 * 2. Argument order: self, outputs, in/outs, inputs.
 *    - "self" is the object the function is named after: an opaque handle
 *      (hre_ledger *, hre_contract *, hre_tx *, hre_block *, hre_key *,
 *      hre_pubkey *, hre_keycache *, hre_sha256_ctx *, hre_storage *,
 *      hre_pool * ...) or a value struct of that module (hre_header,
 *      hre_merkle_branch, a contract payload). It comes first.
 *    - Then the outputs, then the in/outs, then the plain inputs. Helper
 *      handles that a call uses but does not work on (a key cache, a worker
 *      pool) count as in/outs.
 *    - A length or capacity comes right after its pointer.
 *    - Calls that create an object (_new, _open, _generate, _decode, _parse,
 *      _import, _build) have no self: their first argument is the hre_x **out
 *      (or the value struct they fill).
 *    - Free functions with no self (hashing, hex, commitments, signature
 *      byte strings) start with their outputs. Raw byte arrays (hashes,
 *      signatures, targets) are never "self".
 *    Examples: hre_tx_txid(tx, out); hre_block_encode(block, out, &len);
 *    hre_block_txid(block, out, i); hre_keycache_get(cache, &pk, enc);
 *    hre_contract_account_get(c, &acct, address);
 *    hre_ledger_submit_tx(l, txid, &status, bytes, len, now);
 *    hre_key_sign(key, sig, digest); hre_pubkey_verify(pk, digest, sig).
 *
 * 3. Verbs: one pair per kind of conversion, never two pairs on one type.
 *    - encode / decode: an object to and from its wire bytes (tx, block,
 *      header, payloads, Merkle branch, and later node messages and vault
 *      envelopes); hex text: hre_hex_encode / hre_hex_decode and
 *      hre_hash_display_encode / hre_hash_display_decode;
 *    - parse / serialize: value types. Public keys: hre_pubkey_parse /
 *      hre_pubkey_serialize (SEC1) and hre_pubkey_parse_wire /
 *      hre_pubkey_serialize_wire (the 34-byte curve id || point form);
 *      signatures: hre_sig_parse_der / hre_sig_serialize_der;
 *    - import / export: secret keys (PEM);
 *    - new / free, open / close, and _init(&struct, version);
 *    - get (look up by id), verify (a cryptographic check), check (a rule
 *      check), apply (a state transition).
 *
 * 4. Results.
 *    - Every fallible call returns int: HRE_OK (0) or a negative hre_error
 *      (errors.h). Failure is never reported in band: no 0xff-filled hash,
 *      no "returns 0 on error", no sentinel value in an output.
 *    - On failure, outputs are zeroed (handles set to NULL) and secrets
 *      wiped, and a thread-local detail is recorded (hre_error_detail(),
 *      hre_error_last()).
 *    - After a SUCCESSFUL int-returning call, hre_error_last() == HRE_OK and
 *      hre_error_detail() is "": the entry point clears the thread's error,
 *      so a failure the library met and handled internally (a lookup that
 *      missed, a file that did not exist yet) never leaks out. void calls
 *      and plain accessors leave the thread's error as it was.
 *    - Calls that cannot fail return void. Plain accessors return the value
 *      and document what a NULL argument gives. Predicates (hre_ct_equal,
 *      hre_pubkey_equal, hre_storage_name_valid ...) return 1 or 0.
 *    - Every verify, check, parse, decode, import and apply, and every other
 *      call whose result is a verdict (mining, submitting a block or a
 *      transaction, predicates), carries HRE_WARN_UNUSED_RESULT. Compare
 *      with HRE_OK explicitly: if (hre_pubkey_verify(pk, d, sig) == HRE_OK).
 *
 * 5. Ownership.
 *    - An hre_x **out result is owned by the caller and released with
 *      hre_x_free or hre_x_close (both accept NULL).
 *    - A returned const pointer is borrowed; its comment states how long it
 *      stays valid.
 *    - Serialized output is (uint8_t *out, size_t *len): *len is the
 *      capacity on input and the bytes written on output; HRE_EBUFSIZE sets
 *      *len to the bytes needed; out may be NULL with *len == 0 to ask for
 *      the size. Text output (hex, PEM) is NUL-terminated: on success *len
 *      is the text length without the NUL, with HRE_EBUFSIZE the capacity
 *      needed including it.
 *    - Lists of ids are (uint8_t *ids, size_t *n) with *n counted in ids,
 *      the same capacity-in / count-out rule.
 *    - The host never frees library memory with plain free(), and there is
 *      no global allocator hook (see the end of this comment).
 *
 * 6. const. A const handle is only read. A call that changes what later
 *    calls observe -- a memo such as a transaction's "verified" mark, a
 *    lazily rebuilt view, undoing the ledger's mempool overlay -- takes a
 *    non-const handle, however small the change. An invisible, thread-safe
 *    performance cache (a key's pool of OpenSSL contexts) does not count.
 *
 * 7. Versioned structs (options, vtables, query results) start with
 *    `unsigned int version` and come with HRE_X_VERSION, HRE_X_INIT and
 *    hre_x_init(&x, version) (ctypes cannot use macros).
 *    - The library accepts every version from 1 up to its own, and reads or
 *      writes only the prefix that the caller's version declares, so a
 *      binary built against an older header keeps working. Version 0 and
 *      versions newer than the library give HRE_EUNSUPPORTED.
 *    - Input structs (options, vtables): fields a version does not declare
 *      take their defaults (zero / NULL).
 *    - Output structs (query results, and the structs hre_x_init fills):
 *      the caller sets .version first (HRE_X_INIT or hre_x_init); the
 *      library fills that version's fields and leaves the rest untouched.
 *    - Lists of versioned structs take the element size from the caller:
 *      (hre_x *out, size_t elem_size, size_t *n, ...), elem_size =
 *      sizeof(hre_x) as the caller compiled it, *n as in rule 5 (counted in
 *      elements). The library fills in each element every field that lies
 *      inside elem_size bytes (the newest version whose fields fit), sets
 *      each element's .version to that version, and never writes past
 *      elem_size bytes of an element. An elem_size smaller than version 1
 *      gives HRE_EUNSUPPORTED.
 *    - Structs the library only hands out (events passed to a callback)
 *      carry their version too; a host checks it before reading newer
 *      fields.
 *    - Fixed-size arrays in a public layout are frozen: a larger limit needs
 *      a new struct version (and, for consensus limits, a new payload
 *      version).
 *
 * 8. One meaning per argument. 0 never silently means "unlimited" in one
 *    call and "none" in another. Counts mean what they say (max_tries = 0
 *    tries nothing); "everything" has its own macro (HRE_POW_ALL_NONCES).
 *
 * 9. Threads. Nothing global is mutable. Each header states the thread
 *    safety of its handle. Worker threads come from an hre_pool (pool.h)
 *    that the host creates and sizes; 0 threads means the caller's thread
 *    does everything.
 *
 * 10. Fatal state (after nghttp2's "below FATAL, only free"): a handle that
 *     hit an unrecoverable error returns HRE_EFATAL from every state-changing
 *     call until it is closed. Each handle's header lists the calls that stay
 *     valid (queries and free / close).
 *
 * 11. Docs. Every public function has a comment: what it does; Args: / Out:
 *     / In: / In/Out:; Returns: (each code); ownership and lifetime; thread
 *     safety; Since: 1.0 (1.1 for the node, the vault and later additions).
 *
 * 12. No OpenSSL or zlib type appears in a public header. Every export
 *     carries HRE_API and is listed in lib/libhre.map.
 *
 * Hooks the library deliberately does not have:
 * - No global allocator hook (hre_set_allocator). It would be global
 *   mutable state shared by every handle in the process (rule 9); OpenSSL's
 *   and zlib's allocations inside the library could not be routed through a
 *   per-handle hook anyway; and "fail the Nth allocation" testing lives in
 *   the test build (HRE_TESTING), where it needs no public API.
 * - Logging is per handle: hre_log_fn below, passed in a handle's options
 *   (hre_ledger_options.log_fn), never a process-wide logger.
 * ========================================================================
 */
#ifndef HRE_COMMON_H
#define HRE_COMMON_H

#include <stddef.h>
#include <stdint.h>

/**
 * HRE_API marks every exported declaration. The library is built with
 * -fvisibility=hidden and a linker version script, so only symbols carrying
 * HRE_API and listed in lib/libhre.map are visible in libhre.so.1.
 */
#if defined(HRE_BUILD)
#  if defined(_WIN32)
#    define HRE_API __declspec(dllexport)
#  elif defined(__GNUC__) && __GNUC__ >= 4
#    define HRE_API __attribute__((visibility("default")))
#  else
#    define HRE_API
#  endif
#else
#  if defined(_WIN32) && !defined(HRE_STATIC)
#    define HRE_API __declspec(dllimport)
#  else
#    define HRE_API
#  endif
#endif

/** Results that must be checked: ignoring them is a bug in the caller. */
#if defined(__GNUC__) && (__GNUC__ > 3 || (__GNUC__ == 3 && __GNUC_MINOR__ >= 4))
#  define HRE_WARN_UNUSED_RESULT __attribute__((__warn_unused_result__))
#else
#  define HRE_WARN_UNUSED_RESULT
#endif

/** @{ */
/** Wrap the declarations of a header in extern "C" for C++. */
#ifdef __cplusplus
#  define HRE_BEGIN_DECLS extern "C" {
#  define HRE_END_DECLS }
#else
#  define HRE_BEGIN_DECLS
#  define HRE_END_DECLS
#endif
/** @} */


HRE_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Log hook                                                                  */
/* ------------------------------------------------------------------------ */

/** Log levels passed to an hre_log_fn, most severe first. A host filters by
 *  level itself (the library calls the hook for every level).  Since: 1.0 */
#define HRE_LOG_ERROR 1   /* an operation failed and the host should know */
#define HRE_LOG_WARN  2   /* something was refused, repaired or dropped */
#define HRE_LOG_INFO  3   /* a notable state change (open, reorg, snapshot) */
#define HRE_LOG_DEBUG 4   /* detail for diagnosing the library */

/** A host log hook, given in a handle's options (e.g. hre_ledger_options).
 *  Args: user_data: the pointer given with the hook; level: HRE_LOG_*;
 *        msg: one NUL-terminated line without a trailing newline, valid only
 *        during the call, at most 511 bytes (longer messages are cut).
 *  The library never passes secrets (keys, passphrases, plaintext records)
 *  to the hook. It is called on the thread that made the library call; it
 *  must not call back into the handle that is logging.
 *  Since: 1.0 */
typedef void (*hre_log_fn)(void *user_data, int level, const char *msg);

/* ------------------------------------------------------------------------ */
/* Hex                                                                       */
/* ------------------------------------------------------------------------ */

/** Encode len bytes as lowercase hex plus a terminating NUL.
 *  Out: out: the hex text, NUL-terminated (may be NULL with *outlen == 0 to
 *       ask the size).
 *  In/Out: *outlen: capacity of out in chars on input; on HRE_OK the text
 *          length 2*len (without the NUL); with HRE_EBUFSIZE the capacity
 *          needed, 2*len + 1 (common.h rule 5, text output).
 *  In:  in/len: the bytes (in may be NULL only if len == 0).
 *  Returns: HRE_OK; HRE_EBUFSIZE; HRE_EINVAL (NULL); HRE_ELIMIT (len too
 *           large for a size_t of hex).
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_hex_encode(char *out, size_t *outlen, const uint8_t *in, size_t len);

/** Decode hexlen hex digits (either case, no prefix, no spaces).
 *  Out: out: the bytes.
 *  In/Out: *outlen: capacity of out on input, decoded length on output
 *          (the length needed with HRE_EBUFSIZE).
 *  In:  hex/hexlen: the digits.
 *  Returns: HRE_OK; HRE_EDECODE on odd length or a non-hex digit;
 *           HRE_EBUFSIZE if out is too small (*outlen = needed); HRE_EINVAL.
 *  Thread safety: safe from any thread.
 *  Since: 1.0 */
HRE_API int hre_hex_decode(uint8_t *out, size_t *outlen, const char *hex,
                           size_t hexlen) HRE_WARN_UNUSED_RESULT;

/** Overwrite len bytes at p with zeros in a way the compiler cannot elide.
 *  Since: 1.0 */
HRE_API void hre_wipe(void *p, size_t len);

HRE_END_DECLS

#endif /* HRE_COMMON_H */
