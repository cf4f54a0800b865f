/*
 * libhre version information.
 */
#ifndef HRE_VERSION_H
#define HRE_VERSION_H

#include "common.h"

HRE_BEGIN_DECLS

/** @{ */
/** Version of the headers you compiled against. */
#define HRE_VERSION_MAJOR 1
#define HRE_VERSION_MINOR 0
#define HRE_VERSION_PATCH 0
#define HRE_VERSION_STRING "1.0.0"
/** @} */
/** 0xMMmmpp: one byte each for major, minor and patch. */
#define HRE_VERSION_NUMBER ((HRE_VERSION_MAJOR << 16) | (HRE_VERSION_MINOR << 8) | HRE_VERSION_PATCH)

/** Version string of the library you linked against at run time, e.g. "1.0.0".
 *
 *  Returns: a static NUL-terminated string; never NULL; never free it.
 *  Thread safety: safe from any thread.
 *  Since: 1.0
 */
HRE_API const char *hre_version_string(void);

/** Version number of the linked library, encoded as HRE_VERSION_NUMBER is.
 *
 *  Returns: (major << 16) | (minor << 8) | patch.
 *  Thread safety: safe from any thread.
 *  Since: 1.0
 */
HRE_API uint32_t hre_version_number(void);

HRE_END_DECLS

#endif /* HRE_VERSION_H */
