/* Error codes, their texts, and thread-local detail messages. */
#include <stdarg.h>
#include <stdio.h>

#include "core/internal.h"

static _Thread_local int tl_code;
static _Thread_local char tl_detail[256];
_Thread_local unsigned int hre__tl_depth;

void hre__error_reset(void)
{
    tl_code = HRE_OK;
    tl_detail[0] = '\0';
}

HRE_API const char *hre_strerror(int code)
{
    switch (code) {
    case HRE_OK: return "success";
    case HRE_EINVAL: return "invalid argument";
    case HRE_EDECODE: return "malformed or non-canonical input";
    case HRE_EVERIFY: return "verification failed";
    case HRE_EAUTH: return "not authorised";
    case HRE_ENOTFOUND: return "not found";
    case HRE_EEXISTS: return "already exists";
    case HRE_ESTATE: return "wrong state for this operation";
    case HRE_EIO: return "I/O error";
    case HRE_ECORRUPT: return "stored data is corrupt";
    case HRE_ELIMIT: return "limit exceeded";
    case HRE_EBUFSIZE: return "buffer too small";
    case HRE_ENOMEM: return "out of memory";
    case HRE_ECRYPTO: return "crypto provider failure";
    case HRE_EUNSUPPORTED: return "not supported";
    case HRE_ECANCELED: return "cancelled";
    case HRE_EDECRYPT: return "decryption failed (wrong passphrase or key, or damaged data)";
    case HRE_ENOSPC: return "no space left on storage";
    case HRE_EEXHAUSTED: return "search range exhausted";
    case HRE_EFATAL: return "the handle failed earlier; only queries and close remain valid";
    case HRE_EAGAIN: return "would block; try again later";
    case HRE_EPROTO: return "the peer violated the wire protocol";
    case HRE_EERASED: return "the record was erased";
    default: return "unknown error";
    }
}

int hre__fail(int code, const char *fmt, ...)
{
    va_list ap;
    tl_code = code;
    va_start(ap, fmt);
    vsnprintf(tl_detail, sizeof tl_detail, fmt, ap);
    va_end(ap);
    return code;
}

HRE_API const char *hre_error_detail(void)
{
    return tl_detail;
}

HRE_API int hre_error_last(void)
{
    return tl_code;
}

HRE_API void hre_error_clear(void)
{
    tl_code = HRE_OK;
    tl_detail[0] = '\0';
}
