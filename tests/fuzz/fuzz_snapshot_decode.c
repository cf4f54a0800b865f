/*
 * Fuzz target: the contract snapshot decoder (hre_contract_snapshot_load).
 * Input: 34-byte authority wire key || snapshot bytes; the network id is
 * taken from the snapshot header so seeds from any network load.
 * Each input is decoded twice: as is (exercising the checksum check), and
 * with its trailing checksum recomputed, so mutations reach the body parser.
 * Invariants: a snapshot that loads re-saves to exactly the same bytes, and
 * the reloaded state reports the same state hash; loading on 2 threads
 * gives the same result code and state hash as loading on 1.
 */
#include <stdlib.h>
#include <string.h>

#include "hre/hre.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_check(hre_contract_options *o, const uint8_t *snap, size_t len)
{
    hre_contract *c = NULL, *c2 = NULL;
    uint8_t *again, h[32], h2[32];
    size_t alen = len;
    int rc, rc2;
    o->threads = 2;
    rc2 = hre_contract_snapshot_load(&c2, o, snap, len);
    o->threads = 1;
    rc = hre_contract_snapshot_load(&c, o, snap, len);
    if (rc != rc2) abort();
    if (rc != HRE_OK) {
        if (c || c2) abort();
        return;
    }
    if (hre_contract_state_hash(c, h) != HRE_OK || hre_contract_state_hash(c2, h2) != HRE_OK) abort();
    if (memcmp(h, h2, 32) != 0) abort();
    hre_contract_free(c2);
    again = malloc(len ? len : 1);
    if (!again) abort();
    if (hre_contract_snapshot_save(c, again, &alen) != HRE_OK) abort();
    if (alen != len || memcmp(again, snap, len) != 0) abort();
    /* a loaded state must answer queries without crashing */
    {
        hre_contract_stats st;
        st.version = HRE_CONTRACT_STATS_VERSION;
        if (hre_contract_stats_get(c, &st) != HRE_OK) abort();
        if (memcmp(h, snap + 44, 32) != 0) abort();
    }
    free(again);
    hre_contract_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hre_contract_options o;
    const uint8_t *snap;
    uint8_t *fixed;
    size_t len;
    if (size < 34) return 0;
    hre_contract_options_init(&o, HRE_CONTRACT_OPTIONS_VERSION);
    memcpy(o.authority_key, data, 34);
    snap = data + 34;
    len = size - 34;
    if (len >= 44) memcpy(o.network_id, snap + 12, 32);
    load_check(&o, snap, len);
    if (len < 32) return 0;
    fixed = malloc(len);
    if (!fixed) abort();
    memcpy(fixed, snap, len);
    if (hre_sha256d(fixed + len - 32, fixed, len - 32) != HRE_OK) abort();
    load_check(&o, fixed, len);
    free(fixed);
    return 0;
}
