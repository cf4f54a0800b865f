#include "hre/version.h"

#include "core/internal.h"

HRE_API const char *hre_version_string(void)
{
    return HRE_VERSION_STRING;
}

HRE_API uint32_t hre_version_number(void)
{
    return HRE_VERSION_NUMBER;
}
