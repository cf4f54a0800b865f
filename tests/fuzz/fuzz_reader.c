/* Fuzz the bounded reader: a script of reads driven by the input itself.
 * Invariants: never reads out of bounds (ASan), a CompactSize accepted by the
 * reader re-encodes to exactly the bytes consumed, and a poisoned reader
 * stays poisoned. */
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>

#include "core/internal.h"   /* the byte reader and writer (internal) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre__reader r;
    if (size == 0) return 0;
    hre__reader_init(&r, data + 1, size - 1);
    for (unsigned step = 0; step < 64; step++) {
        size_t before = r.pos;
        int rc;
        switch ((data[0] >> (step % 8) ^ step) % 6) {
        case 0: { uint8_t v; rc = hre__reader_u8(&r, &v); break; }
        case 1: { uint16_t v; rc = hre__reader_u16(&r, &v); break; }
        case 2: { uint32_t v; rc = hre__reader_u32(&r, &v); break; }
        case 3: { uint64_t v; rc = hre__reader_u64(&r, &v); break; }
        case 4: {
            uint64_t v;
            rc = hre__reader_compact(&r, &v, UINT64_MAX);
            if (rc == HRE_OK) {
                uint8_t enc[9];
                hre__writer w;
                size_t n;
                hre__writer_init(&w, enc, sizeof enc);
                hre__writer_compact(&w, v);
                if (hre__writer_finish(&w, &n) != HRE_OK || n != r.pos - before ||
                    memcmp(enc, r.data + before, n) != 0)
                    abort(); /* accepted a non-canonical CompactSize */
            }
            break;
        }
        default: {
            const uint8_t *p;
            size_t n = step * 3;
            rc = hre__reader_borrow(&r, &p, n);
            if (rc == HRE_OK && n && (p < r.data || p + n > r.data + r.len)) abort();
            break;
        }
        }
        if (rc != HRE_OK) {
            uint8_t v;
            if (hre__reader_u8(&r, &v) == HRE_OK || hre__reader_finish(&r) == HRE_OK) abort();
            break;
        }
        if (r.pos > r.len) abort();
    }
    return 0;
}
