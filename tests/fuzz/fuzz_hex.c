/* Fuzz strict hex decoding: accepted input re-encodes to the lowercase form
 * of the input; rejected input leaves no partial result claimed. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t out[512];
    char back[1025];
    size_t n = sizeof out;
    if (size > 1024) return 0;
    int rc = hre_hex_decode(out, &n, (const char *)data, size);
    if (rc == HRE_OK) {
        if (n * 2 != size) abort();
        size_t blen = sizeof back;
        if (hre_hex_encode(back, &blen, out, n) != HRE_OK || blen != 2 * n) abort();
        for (size_t i = 0; i < size; i++)
            if (back[i] != tolower(data[i])) abort();
    } else if (rc != HRE_EDECODE && rc != HRE_EBUFSIZE) {
        abort();
    }
    return 0;
}
