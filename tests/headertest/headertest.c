/* Compiled alone by headertest.sh: the public headers must be
 * self-contained and warning-free as pedantic C99 and as C++. */
#include <hre/hre.h>
#include <hre/sys/storage.h>
#include <hre/sys/powerloss.h>
#include <hre/sys/transport.h>
#include <hre/sys/hub.h>

int main(void)
{
    return hre_strerror(HRE_OK) == 0;
}
