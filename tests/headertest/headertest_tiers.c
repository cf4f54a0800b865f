/* Header tiers (as libgit2's): the caller tier never pulls in the
 * implementer tier <hre/sys/...>. Compiled alone by headertest.sh. */
#include <hre/ledger.h>
#include <hre/node.h>
#include <hre/hre.h>

#if defined(HRE_SYS_STORAGE_H) || defined(HRE_SYS_POWERLOSS_H) || defined(HRE_SYS_TRANSPORT_H)
#error "a caller-tier header (ledger.h, node.h, hre.h) includes a <hre/sys/...> header"
#endif

int main(void)
{
    hre_storage *s = 0;        /* the handle type is caller tier (storage.h) */
    hre_storage_free(s);
    return 0;
}
