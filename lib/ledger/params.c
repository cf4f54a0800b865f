/*
 * The network fingerprint and params.dat, which binds a storage to one network.
 * docs/PROTOCOL.md section 7.
 */
#include <string.h>

#include "core/internal.h"
#include "hre/hash.h"
#include "ledger/internal.h"
#include "storage/internal.h"

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

/* Write network.dat (the network file, 7.10) with the 6.4 protocol. */
static int write_network_file(hre_ledger *l)
{
    uint8_t buf[HRE_NETWORK_FILE_MAX];
    size_t len = sizeof buf;
    int rc = hre_network_encode(l->net, buf, &len);
    if (rc != HRE_OK)
        return rc;
    return hre_storage__write_file_atomic(l->st, HRE_LEDGER__NETWORK_FILE, buf, len);
}

int hre_ledger__read_network_file(hre_storage *st, hre_network **out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;
    *out = NULL;
    rc = hre_storage__read_all(st, HRE_LEDGER__NETWORK_FILE, HRE_NETWORK_FILE_MAX, &buf, &len);
    if (rc == HRE_ELIMIT)
        return hre__fail(HRE_ECORRUPT, "ledger: %s is too large", HRE_LEDGER__NETWORK_FILE);
    if (rc != HRE_OK)
        return rc;
    rc = hre_network_decode(out, buf, len);
    hre__free(buf);
    if (rc != HRE_OK && rc != HRE_ENOMEM) {
        char why[200];
        hre_ledger__why(why, sizeof why);
        return hre__fail(HRE_ECORRUPT, "ledger: %s is damaged: %s", HRE_LEDGER__NETWORK_FILE, why);
    }
    return rc;
}

/* The fingerprint differs: name the field, from the network file the
 * storage holds (ledgers made before it existed have none). */
static int mismatch(hre_ledger *l)
{
    hre_network *stored = NULL;
    char field[64];
    int rc = hre_ledger__read_network_file(l->st, &stored);
    if (rc == HRE_OK && hre_ledger__network_diff(stored, l->net, field, sizeof field)) {
        hre_network_free(stored);
        return hre__fail(HRE_EINVAL,
                         "ledger: params fingerprint mismatch: the storage holds a ledger of "
                         "another network: %s differs", field);
    }
    hre_network_free(stored);
    return hre__fail(HRE_EINVAL,
                     "ledger: params fingerprint mismatch: the storage holds a ledger of "
                     "another network (genesis, PoW limit, spacing, interval, caps, authority "
                     "key or org name differ)");
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
        /* a new ledger: the network file first, params.dat last (its
         * presence says the storage belongs to this network) */
        if ((rc = write_network_file(l)) != HRE_OK)
            return rc;
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
        return mismatch(l);
    }
    hre__free(buf);
    if (!l->net_file_seen) {
        /* a ledger made before the network file existed: add it (best
         * effort; the ledger works without it) */
        hre_network *stored = NULL;
        if (hre_ledger__read_network_file(l->st, &stored) == HRE_ENOTFOUND)
            (void)write_network_file(l);
        hre_network_free(stored);
    }
    return HRE_OK;
}
