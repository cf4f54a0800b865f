/* Fuzz the ledger's snapshot-file frame decoder (hre_ledger__snap_parse,
 * lib/ledger/blockrec.c; docs/PROTOCOL.md 7.5). The payload it hands on is
 * fuzzed by fuzz_snapshot_decode.
 * Invariants (abort() on violation): failure is HRE_ECORRUPT only; on
 * success the file has a known magic, the header CRC (version 2) or the
 * whole-file CRC (version 1) holds, the payload lies inside the input at the
 * version's offset with the length the header declares, and height, block
 * hash and state hash are the header's bytes. */
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>
#include "core/internal.h"
#include "storage/internal.h"
#include "ledger/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t height = 0;
    uint8_t hash[32], sh[32];
    const uint8_t *payload = NULL;
    size_t plen = 0;
    int v1, rc = hre_ledger__snap_parse(data, size, &height, hash, sh, &payload, &plen);
    if (rc != HRE_OK) {
        if (rc != HRE_ECORRUPT) abort();
        return 0;
    }
    if (size < HRE_LEDGER__SNAP_OVERHEAD) abort();
    v1 = memcmp(data, HRE_LEDGER__SNAP_MAGIC_V1, 8) == 0;
    if (!v1 && memcmp(data, HRE_LEDGER__SNAP_MAGIC, 8) != 0) abort();
    if (v1 ? hre_storage__crc32(0, data, size - 4) != hre__le32(data + size - 4)
           : hre_storage__crc32(0, data, 88) != hre__le32(data + 88))
        abort();
    if (plen != size - HRE_LEDGER__SNAP_OVERHEAD || hre__le64(data + 80) != plen) abort();
    if (payload != data + (v1 ? 88 : HRE_LEDGER__SNAP_HEADER)) abort();
    if (height != hre__le64(data + 8) || memcmp(hash, data + 16, 32) != 0 ||
        memcmp(sh, data + 48, 32) != 0)
        abort();
    return 0;
}
