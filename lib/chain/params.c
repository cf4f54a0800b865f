/* Network parameters: data, not code. */
#include "chain/internal.h"

static const size_t params_size[] = { 0, HRE__END(hre_chain_params, max_tx_count) };
const hre__vstruct hre_chain__params_desc = { "hre_chain_params", HRE_CHAIN_PARAMS_VERSION, params_size };

HRE_API int hre_chain_params_init(hre_chain_params *p, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&hre_chain__params_desc, p, version));
}

HRE_API int hre_chain_params_bitcoin_mainnet(hre_chain_params *p)
{
    HRE__API_SCOPE;
    /* Genesis Merkle root 4a5e1e4b...da33b (display order), internal order here. */
    static const uint8_t genesis_root[32] = {
        0x3b, 0xa3, 0xed, 0xfd, 0x7a, 0x7b, 0x12, 0xb2, 0x7a, 0xc7, 0x2c, 0x3e, 0x67, 0x76, 0x8f, 0x61,
        0x7f, 0xc8, 0x1b, 0xc3, 0x88, 0x8a, 0x51, 0x32, 0x3a, 0x9f, 0xb8, 0xaa, 0x4b, 0x1e, 0x5e, 0x4a,
    };
    hre_chain_params full;
    if (!p) return hre__fail(HRE_EINVAL, "hre_chain_params_bitcoin_mainnet: NULL params");
    memset(&full, 0, sizeof full);
    full.version = HRE_CHAIN_PARAMS_VERSION;
    full.genesis.version = 1;
    memcpy(full.genesis.merkle_root, genesis_root, 32);
    full.genesis.time = 1231006505;
    full.genesis.bits = 0x1d00ffff;
    full.genesis.nonce = 2083236893;
    /* powLimit = 00000000ffff...ff (display), i.e. 2^224 - 1 */
    memset(full.pow_limit, 0xff, 28);
    full.target_spacing = 600;
    full.retarget_interval = 2016;
    full.max_block_size = 1000000;
    full.max_tx_count = HRE_BLOCK_DEFAULT_MAX_TXS;
    /* an output struct: p->version (set by the caller) says how much */
    return hre__api_done(hre__vstruct_out(&hre_chain__params_desc, p, &full));
}

HRE_API int hre_chain_params_check(const hre_chain_params *p)
{
    HRE__API_SCOPE;
    static const uint8_t zero[32];
    int rc;
    hre_chain_params full;
    if (!p) return hre__fail(HRE_EINVAL, "hre_chain_params_check: NULL params");
    if ((rc = hre__vstruct_in(&hre_chain__params_desc, &full, p)) != HRE_OK) return rc;
    p = &full;
    if (memcmp(p->pow_limit, zero, 32) == 0) return hre__fail(HRE_EINVAL, "chain params: pow_limit is zero");
    if (p->target_spacing <= 0) return hre__fail(HRE_EINVAL, "chain params: target_spacing must be positive");
    if (p->retarget_interval == 0) return hre__fail(HRE_EINVAL, "chain params: retarget_interval is zero");
    if (p->target_spacing > INT64_MAX / 4 / p->retarget_interval)
        return hre__fail(HRE_EINVAL, "chain params: target timespan overflows");
    if (p->max_tx_count == 0) return hre__fail(HRE_EINVAL, "chain params: max_tx_count is zero");
    if (p->max_block_size < HRE_HEADER_LEN + 2)
        return hre__fail(HRE_EINVAL, "chain params: max_block_size is below a one-transaction block");
    rc = hre_pow_check(&p->genesis, p->pow_limit);
    if (rc == HRE_EVERIFY) return hre__fail(HRE_EINVAL, "chain params: genesis proof of work is invalid");
    return hre__api_done(rc);
}

HRE_API int hre_chain_params_block_limits(const hre_chain_params *p, hre_block_limits *out)
{
    HRE__API_SCOPE;
    hre_chain_params full;
    hre_block_limits lim;
    int rc;
    if (!p || !out) return hre__fail(HRE_EINVAL, "hre_chain_params_block_limits: NULL argument");
    if ((rc = hre__vstruct_in(&hre_chain__params_desc, &full, p)) != HRE_OK) return rc;
    lim.version = HRE_BLOCK_LIMITS_VERSION;
    lim.max_block_size = full.max_block_size;
    lim.max_tx_count = full.max_tx_count;
    /* an output struct: out->version (set by the caller) says how much */
    return hre__api_done(hre__vstruct_out(&hre_chain__limits_desc, out, &lim));
}
