/*
 * The network fingerprint and params.dat, which binds a storage to one network.
 * docs/PROTOCOL.md section 7.
 */
#include <string.h>

#include "core/internal.h"
#include "hre/hash.h"
#include "ledger/internal.h"

int hre_ledger__fingerprint(hre_ledger *l)
{
    hre__writer w;
    uint8_t buf[512];
    size_t n;
    hre__writer_init(&w, buf, sizeof buf);
    hre__writer_bytes(&w, "HRE-LEDGER-PARAMS-v1", 20);
    /* the layout of these fields (1), not the caller's struct version: a
     * newer hre_chain_params with the same values names the same network */
    hre__writer_u32(&w, 1);
    {
        uint8_t h[80];
        hre_header_encode(&l->params.genesis, h);
        hre__writer_bytes(&w, h, 80);
    }
    hre__writer_u32(&w, l->params.retarget_interval);
    hre__writer_bytes(&w, l->params.pow_limit, 32);
    hre__writer_u64(&w, (uint64_t)l->params.target_spacing);
    hre__writer_u64(&w, l->params.max_block_size);
    hre__writer_u64(&w, l->params.max_tx_count);
    hre__writer_bytes(&w, l->authority_key, 34);
    n = l->has_org_name ? strlen(l->org_name) : 0;
    hre__writer_u8(&w, (uint8_t)n);
    hre__writer_bytes(&w, l->org_name, n);
    if (hre__writer_finish(&w, &n) != HRE_OK)
        return hre__fail(HRE_EINVAL, "ledger: params too long");
    return hre_sha256(l->fingerprint, buf, n);
}

int hre_ledger__params_file(hre_ledger *l, int exists_other)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = hre_storage__read_all(l->st, HRE_LEDGER__PARAMS_FILE, 4096, &buf, &len);
    if (rc == HRE_ENOTFOUND) {
        uint8_t out[HRE_LEDGER__PARAMS_LEN];
        if (exists_other)
            return hre__fail(HRE_ECORRUPT, "ledger: %s is missing but block files exist",
                             HRE_LEDGER__PARAMS_FILE);
        memcpy(out, HRE_LEDGER__PARAMS_MAGIC, 8);
        memcpy(out + 8, l->fingerprint, 32);
        memcpy(out + 40, l->network_id, 32);
        hre__put_le32(out + 72, hre_storage__crc32(0, out, 72));
        return hre_storage__write_file_atomic(l->st, HRE_LEDGER__PARAMS_FILE, out, sizeof out);
    }
    if (rc != HRE_OK)
        return rc == HRE_ELIMIT ? hre__fail(HRE_ECORRUPT, "ledger: %s too large",
                                            HRE_LEDGER__PARAMS_FILE) : rc;
    if (len != HRE_LEDGER__PARAMS_LEN || memcmp(buf, HRE_LEDGER__PARAMS_MAGIC, 8) != 0 ||
        hre_storage__crc32(0, buf, 72) != hre__le32(buf + 72)) {
        hre__free(buf);
        return hre__fail(HRE_ECORRUPT, "ledger: %s is damaged", HRE_LEDGER__PARAMS_FILE);
    }
    if (memcmp(buf + 8, l->fingerprint, 32) != 0) {
        hre__free(buf);
        return hre__fail(HRE_EINVAL,
                         "ledger: params fingerprint mismatch: the storage holds a ledger of "
                         "another network (genesis, PoW limit, spacing, interval, caps or "
                         "authority differ)");
    }
    hre__free(buf);
    return HRE_OK;
}
