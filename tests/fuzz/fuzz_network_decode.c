/* Fuzz the network file decoder (hre_network_decode, lib/ledger/network.c;
 * docs/PROTOCOL.md 7.10). Invariants (abort() on violation): a failure is
 * one of the documented codes and leaves *out NULL; a decoded network
 * re-encodes byte-exactly, and its parameters pass hre_chain_params_check. */
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre_network *net = (hre_network *)1;
    hre_chain_params p = HRE_CHAIN_PARAMS_INIT;
    uint8_t out[HRE_NETWORK_FILE_MAX];
    size_t len = sizeof out;
    int rc = hre_network_decode(&net, data, size);
    if (rc != HRE_OK) {
        if (rc != HRE_EDECODE && rc != HRE_ECORRUPT && rc != HRE_EINVAL && rc != HRE_EUNSUPPORTED &&
            rc != HRE_ENOMEM)
            abort();
        if (net != NULL)
            abort();
        return 0;
    }
    if (hre_network_encode(net, out, &len) != HRE_OK || len != size || memcmp(out, data, size) != 0)
        abort();
    if (hre_network_params(net, &p) != HRE_OK || hre_chain_params_check(&p) != HRE_OK)
        abort();
    hre_network_free(net);
    return 0;
}
