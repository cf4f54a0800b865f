/*
 * libhre error codes and detail messages.
 *
 * Every fallible function returns int: HRE_OK (0) on success or one of the
 * negative codes below. The numeric values are part of the ABI and never change;
 * new codes are only ever added at the end.
 *
 * Detail messages are THREAD-LOCAL: when a call fails it records a short
 * human-readable reason for the calling thread, readable with
 * hre_error_detail() (and the code with hre_error_last()) until the next
 * int-returning libhre call on the same thread: a failing call replaces
 * them, a successful one clears them (common.h, rule 4). Detail messages
 * never contain secret material (keys, passphrases, plaintext).
 */
#ifndef HRE_ERRORS_H
#define HRE_ERRORS_H

#include "common.h"

HRE_BEGIN_DECLS

/** Error codes: HRE_OK (0) or a negative value (common.h rule 4).  Since: 1.0 */
typedef enum hre_error {
    HRE_OK           =   0, /* success */
    HRE_EINVAL       =  -1, /* bad argument (NULL pointer, out-of-range value) */
    HRE_EDECODE      =  -2, /* input is malformed, truncated or not canonical */
    HRE_EVERIFY      =  -3, /* a signature, proof of work, hash or proof did not verify */
    HRE_EAUTH        =  -4, /* the sender is not authorised to do this */
    HRE_ENOTFOUND    =  -5, /* no such object */
    HRE_EEXISTS      =  -6, /* the object already exists */
    HRE_ESTATE       =  -7, /* the object is in the wrong state for this operation */
    HRE_EIO          =  -8, /* the storage or transport backend reported an I/O error */
    HRE_ECORRUPT     =  -9, /* stored data is damaged */
    HRE_ELIMIT       = -10, /* a size, count or other limit was exceeded */
    HRE_EBUFSIZE     = -11, /* the output buffer is too small; *len holds the size needed */
    HRE_ENOMEM       = -12, /* out of memory */
    HRE_ECRYPTO      = -13, /* the crypto provider failed unexpectedly */
    HRE_EUNSUPPORTED = -14, /* operation, version or option not supported */
    HRE_ECANCELED    = -15, /* the operation was cancelled by the caller */
    HRE_EDECRYPT     = -16, /* decryption failed: wrong passphrase or key, or damaged data */
    HRE_ENOSPC       = -17, /* the storage backend is out of space */
    HRE_EEXHAUSTED   = -18, /* a search range was used up without success (e.g. mining) */
    HRE_EFATAL       = -19, /* the handle failed earlier: only queries and free/close remain
                               valid (each handle's header lists them) */
    HRE_EAGAIN       = -20, /* would block, try again later (transport back-pressure)  (1.1) */
    HRE_EPROTO       = -21, /* a peer violated the wire protocol and was disconnected  (1.1) */
    HRE_EERASED      = -22, /* the record was erased (since 1.1) */
    HRE_EEXPIRED     = -23, /* a grant or request is expired / not fresh (since 1.1) */
    HRE_EREVOKED     = -24  /* the grant was revoked (since 1.1) */
} hre_error;

/** Text describing an error code.
 *
 *  Args:  code: any int; unknown codes give "unknown error".
 *  Returns: a static NUL-terminated string; never NULL.
 *  Thread safety: safe from any thread.
 *  Since: 1.0
 */
HRE_API const char *hre_strerror(int code);

/** Detail message for the most recent failure on the calling thread.
 *
 *  Returns: a NUL-terminated string owned by the library, valid until the next
 *           libhre call on this thread; "" if no failure has been recorded
 *           or the last int-returning call on this thread succeeded.
 *  Thread safety: thread-local; each thread sees its own last failure.
 *  Since: 1.0
 */
HRE_API const char *hre_error_detail(void);

/** Code of the most recent failure on the calling thread: HRE_OK if none,
 *  or if the last int-returning libhre call on this thread succeeded.
 *
 *  Thread safety: thread-local.
 *  Since: 1.0
 */
HRE_API int hre_error_last(void);

/** Forget the calling thread's last failure (code and detail).
 *
 *  Thread safety: thread-local.
 *  Since: 1.0
 */
HRE_API void hre_error_clear(void);

HRE_END_DECLS

#endif /* HRE_ERRORS_H */
