/*
 * Networks (network.h): the chain parameters plus the contract genesis, the
 * private-network preset, and the network file codec (docs/PROTOCOL.md
 * 7.10). The file is hostile input: exact length, magic, CRC-32, name
 * length, then the same checks as a network made in code.
 */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "chain/internal.h"   /* hre_chain__params_desc: read params up to their version */
#include "hre/hash.h"
#include "hre/pow.h"
#include "ledger/internal.h"
#include "storage/internal.h" /* hre_storage__crc32 */

/* Layout of the network file (7.10). */
#define NET_FIXED (8u + 4u + 80u + 32u + 8u + 4u + 8u + 8u + 34u + 1u)   /* before the name */
#define NET_VERSION 1u

_Static_assert(NET_FIXED + 4u == 191u, "network file without a name");
_Static_assert(NET_FIXED + HRE_CONTRACT_NAME_MAX + 4u == HRE_NETWORK_FILE_MAX,
               "largest network file");

/* Check what hre_ledger_open would check: params, block caps, and (through
 * a genesis contract, which owns those rules) the key and the name. */
static int network_check(hre_network *n)
{
    hre_contract_options o;
    hre_contract *c = NULL;
    int rc;
    if ((rc = hre_chain_params_check(&n->params)) != HRE_OK)
        return rc;
    if (n->params.max_block_size > HRE_STORAGE__REC_MAX - 2 * HRE_LEDGER__REC_FIXED)
        return hre__fail(HRE_EUNSUPPORTED, "network: max_block_size over 64 MiB");
    if ((rc = hre_header_hash(&n->params.genesis, n->id)) != HRE_OK)
        return rc;
    (void)hre_contract_options_init(&o, HRE_CONTRACT_OPTIONS_VERSION);
    memcpy(o.network_id, n->id, 32);
    memcpy(o.authority_key, n->authority_key, 34);
    o.genesis_org_name = n->has_org_name ? n->org_name : NULL;
    if ((rc = hre_contract_new(&c, &o)) != HRE_OK)
        return rc;
    hre_contract_free(c);
    return HRE_OK;
}

static int network_make(hre_network **out, const hre_chain_params *params,
                        const uint8_t authority_key[34], const char *org_name)
{
    hre_network *n;
    int rc;
    *out = NULL;
    if (org_name && (strlen(org_name) == 0 || strlen(org_name) > HRE_CONTRACT_NAME_MAX))
        return hre__fail(HRE_EINVAL, "network: org_name must be 1..%d bytes", HRE_CONTRACT_NAME_MAX);
    n = hre__calloc(1, sizeof *n);
    if (!n)
        return hre__fail(HRE_ENOMEM, "network: out of memory");
    if ((rc = hre__vstruct_in(&hre_chain__params_desc, &n->params, params)) != HRE_OK) {
        hre__free(n);
        return rc;
    }
    memcpy(n->authority_key, authority_key, 34);
    if (org_name) {
        snprintf(n->org_name, sizeof n->org_name, "%s", org_name);
        n->has_org_name = 1;
    }
    if ((rc = network_check(n)) != HRE_OK) {
        hre__free(n);
        return rc;
    }
    *out = n;
    return HRE_OK;
}

HRE_API int hre_network_new(hre_network **out, const hre_chain_params *params,
                            const uint8_t authority_key[34], const char *org_name)
{
    HRE__API_SCOPE;
    if (out)
        *out = NULL;
    if (!out || !params || !authority_key)
        return hre__fail(HRE_EINVAL, "hre_network_new: NULL argument");
    return hre__api_done(network_make(out, params, authority_key, org_name));
}

HRE_API int hre_network_new_private(hre_network **out, const uint8_t authority_key[34],
                                    const char *org_name, uint64_t now)
{
    HRE__API_SCOPE;
    hre_chain_params p;
    hre__writer w;
    uint8_t buf[24 + 34 + 1 + HRE_CONTRACT_NAME_MAX + 8];
    size_t nlen = org_name ? strlen(org_name) : 0, len;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !authority_key)
        return hre__fail(HRE_EINVAL, "hre_network_new_private: NULL argument");
    if (now > UINT32_MAX)
        return hre__fail(HRE_EINVAL, "hre_network_new_private: now is past 2106");
    if (nlen > HRE_CONTRACT_NAME_MAX || (org_name && nlen == 0))
        return hre__fail(HRE_EINVAL, "hre_network_new_private: org_name must be 1..%d bytes",
                         HRE_CONTRACT_NAME_MAX);
    (void)hre_chain_params_init(&p, HRE_CHAIN_PARAMS_VERSION);
    if ((rc = hre_pow_target_from_compact(p.pow_limit, NULL, NULL, HRE_LEDGER__PRIVATE_BITS)) != HRE_OK)
        return hre__api_done(rc);
    p.target_spacing = 600;
    p.retarget_interval = UINT32_MAX;
    p.max_block_size = 1000000;
    p.max_tx_count = 10000;
    p.genesis.version = 1;
    p.genesis.time = (uint32_t)now;
    p.genesis.bits = HRE_LEDGER__PRIVATE_BITS;
    hre__writer_init(&w, buf, sizeof buf);
    hre__writer_bytes(&w, "HRE-PRIVATE-NET-v1", 18);
    hre__writer_bytes(&w, authority_key, 34);
    hre__writer_u8(&w, (uint8_t)nlen);
    hre__writer_bytes(&w, org_name, nlen);
    hre__writer_u64(&w, now);
    if ((rc = hre__writer_finish(&w, &len)) != HRE_OK ||
        (rc = hre_sha256d(p.genesis.merkle_root, buf, len)) != HRE_OK)
        return hre__api_done(rc);
    /* at the easiest target about one nonce in two meets it */
    if ((rc = hre_pow_mine(&p.genesis, NULL, HRE_POW_ALL_NONCES)) != HRE_OK)
        return hre__api_done(rc);
    return hre__api_done(network_make(out, &p, authority_key, org_name));
}

HRE_API void hre_network_free(hre_network *net)
{
    hre__free(net);
}

HRE_API int hre_network_encode(const hre_network *net, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    hre__writer w;
    uint8_t buf[HRE_NETWORK_FILE_MAX], h[HRE_HEADER_LEN];
    size_t nlen, n;
    if (!net || !len)
        return hre__fail(HRE_EINVAL, "hre_network_encode: NULL argument");
    nlen = net->has_org_name ? strlen(net->org_name) : 0;
    hre__writer_init(&w, buf, sizeof buf);
    hre__writer_bytes(&w, HRE_LEDGER__NET_MAGIC, 8);
    hre__writer_u32(&w, NET_VERSION);
    hre_header_encode(&net->params.genesis, h);
    hre__writer_bytes(&w, h, sizeof h);
    hre__writer_bytes(&w, net->params.pow_limit, 32);
    hre__writer_u64(&w, (uint64_t)net->params.target_spacing);
    hre__writer_u32(&w, net->params.retarget_interval);
    hre__writer_u64(&w, net->params.max_block_size);
    hre__writer_u64(&w, net->params.max_tx_count);
    hre__writer_bytes(&w, net->authority_key, 34);
    hre__writer_u8(&w, (uint8_t)nlen);
    hre__writer_bytes(&w, net->org_name, nlen);
    if (hre__writer_finish(&w, &n) != HRE_OK)
        return hre__fail(HRE_EINVAL, "hre_network_encode: name too long");
    hre__put_le32(buf + n, hre_storage__crc32(0, buf, n));
    n += 4;
    if (!out || *len < n) {
        *len = n;
        return hre__fail(HRE_EBUFSIZE, "hre_network_encode: %zu bytes needed", n);
    }
    memcpy(out, buf, n);
    *len = n;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_network_decode(hre_network **out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    hre_chain_params p;
    uint8_t key[34], hb[HRE_HEADER_LEN], nl;
    char name[HRE_CONTRACT_NAME_MAX + 1];
    uint64_t spacing;
    size_t i;
    int rc;

    if (out)
        *out = NULL;
    if (!out || (!in && len))
        return hre__fail(HRE_EINVAL, "hre_network_decode: NULL argument");
    if (len < NET_FIXED + 4 || len > HRE_NETWORK_FILE_MAX)
        return hre__fail(HRE_EDECODE, "network file: %zu bytes, not %u..%u", len, NET_FIXED + 4,
                         HRE_NETWORK_FILE_MAX);
    if (memcmp(in, HRE_LEDGER__NET_MAGIC, 8) != 0)
        return hre__fail(HRE_EDECODE, "network file: bad magic");
    if (hre__le32(in + 8) != NET_VERSION)
        return hre__fail(HRE_EUNSUPPORTED, "network file: version %u, this library reads %u",
                         hre__le32(in + 8), NET_VERSION);
    nl = in[NET_FIXED - 1];
    if (nl > HRE_CONTRACT_NAME_MAX)
        return hre__fail(HRE_EDECODE, "network file: name length %u over %d", nl,
                         HRE_CONTRACT_NAME_MAX);
    if (len != NET_FIXED + nl + 4u)
        return hre__fail(HRE_EDECODE, "network file: %zu bytes, the name length says %u", len,
                         NET_FIXED + nl + 4u);
    if (hre_storage__crc32(0, in, len - 4) != hre__le32(in + len - 4))
        return hre__fail(HRE_ECORRUPT, "network file: CRC-32 mismatch");
    (void)hre_chain_params_init(&p, HRE_CHAIN_PARAMS_VERSION);
    hre__reader_init(&r, in + 12, len - 12 - 4);
    (void)hre__reader_bytes(&r, hb, sizeof hb);
    (void)hre__reader_bytes(&r, p.pow_limit, 32);
    (void)hre__reader_u64(&r, &spacing);
    (void)hre__reader_u32(&r, &p.retarget_interval);
    (void)hre__reader_u64(&r, &p.max_block_size);
    (void)hre__reader_u64(&r, &p.max_tx_count);
    (void)hre__reader_bytes(&r, key, 34);
    (void)hre__reader_u8(&r, &nl);
    (void)hre__reader_bytes(&r, name, nl);
    if (hre__reader_finish(&r) != HRE_OK)
        return hre__fail(HRE_EDECODE, "network file: truncated");
    if (hre_header_decode(&p.genesis, hb, sizeof hb) != HRE_OK)
        return hre__fail(HRE_EDECODE, "network file: bad genesis header");
    if (spacing > INT64_MAX)
        return hre__fail(HRE_EDECODE, "network file: target spacing out of range");
    p.target_spacing = (int64_t)spacing;
    name[nl] = '\0';
    for (i = 0; i < nl; i++)
        if (name[i] == '\0')
            return hre__fail(HRE_EDECODE, "network file: NUL byte in the organisation name");
    rc = network_make(out, &p, key, nl ? name : NULL);
    if (rc != HRE_OK && rc != HRE_ENOMEM) {
        char why[200];
        hre_ledger__why(why, sizeof why);
        return hre__fail(rc == HRE_EUNSUPPORTED ? rc : HRE_EINVAL,
                         "network file: not a usable network: %s", why);
    }
    return hre__api_done(rc);
}

HRE_API int hre_network_params(const hre_network *net, hre_chain_params *out)
{
    HRE__API_SCOPE;
    if (!net || !out)
        return hre__fail(HRE_EINVAL, "hre_network_params: NULL argument");
    return hre__api_done(hre__vstruct_out(&hre_chain__params_desc, out, &net->params));
}

HRE_API int hre_network_id(const hre_network *net, uint8_t out[32])
{
    HRE__API_SCOPE;
    if (!net || !out)
        return hre__fail(HRE_EINVAL, "hre_network_id: NULL argument");
    memcpy(out, net->id, 32);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_network_authority_key(const hre_network *net, uint8_t out[34])
{
    HRE__API_SCOPE;
    if (!net || !out)
        return hre__fail(HRE_EINVAL, "hre_network_authority_key: NULL argument");
    memcpy(out, net->authority_key, 34);
    return hre__api_done(HRE_OK);
}

HRE_API const char *hre_network_org_name(const hre_network *net)
{
    return net && net->has_org_name ? net->org_name : NULL;
}

/* ---- for the ledger ---- */

int hre_ledger__network_copy(hre_network **out, const hre_network *net)
{
    *out = hre__malloc(sizeof **out);
    if (!*out)
        return hre__fail(HRE_ENOMEM, "network: out of memory");
    memcpy(*out, net, sizeof **out);
    return HRE_OK;
}

int hre_ledger__network_diff(const hre_network *a, const hre_network *b, char *out, size_t n)
{
    const char *f = NULL;
    if (memcmp(a->id, b->id, 32) != 0)
        f = "the genesis block";
    else if (memcmp(a->params.pow_limit, b->params.pow_limit, 32) != 0)
        f = "the PoW limit";
    else if (a->params.target_spacing != b->params.target_spacing)
        f = "the target spacing";
    else if (a->params.retarget_interval != b->params.retarget_interval)
        f = "the retarget interval";
    else if (a->params.max_block_size != b->params.max_block_size ||
             a->params.max_tx_count != b->params.max_tx_count)
        f = "the block caps (max_block_size, max_tx_count)";
    else if (memcmp(a->authority_key, b->authority_key, 34) != 0)
        f = "the authority key";
    else if (a->has_org_name != b->has_org_name ||
             (a->has_org_name && strcmp(a->org_name, b->org_name) != 0))
        f = "the genesis organisation name";
    if (f)
        snprintf(out, n, "%s", f);
    return f != NULL;
}
