/* The transport vtable's versioned-struct helper (sys/transport.h). */
#include "core/internal.h"
#include "hre/sys/transport.h"
#include "node/internal.h"

static const size_t methods_sizes[] = {
    0,
    HRE__END(hre_transport_methods, close),
};
const hre__vstruct hre_node__transport_desc = { "hre_transport_methods", HRE_TRANSPORT_METHODS_VERSION,
                                                methods_sizes };
_Static_assert(sizeof methods_sizes / sizeof methods_sizes[0] == HRE_TRANSPORT_METHODS_VERSION + 1,
               "one size per hre_transport_methods version");

HRE_API int hre_transport_methods_init(hre_transport_methods *m, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&hre_node__transport_desc, m, version));
}
