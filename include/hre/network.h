/*
 * libhre layer 5: a network, as a value the institutions of one network
 * share. It holds what makes a network: the chain parameters (genesis
 * header, PoW limit, spacing, retarget interval, block caps), the founding
 * authority's key and the genesis organisation's name. Its encoding, the
 * network file (docs/PROTOCOL.md 7.10), is written once into the ledger's
 * storage (network.dat) and can be handed to the next institution, which
 * opens its ledger with the same network (hre_ledger_options.network).
 *
 *   hre_network *net = NULL;
 *   hre_network_new_private(&net, authority_key, "St Mary's", now);  // once
 *   ... opts.network = net; hre_ledger_open(&ledger, &opts); ...
 *   hre_network_encode(net, buf, &len);      // the file to give the others
 *   hre_network_decode(&net2, buf, len);     // at the second institution
 *
 * Thread safety: an hre_network is immutable after it is made; it may be
 * read from several threads at once.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef HRE_NETWORK_H
#define HRE_NETWORK_H

#include "common.h"
#include "block.h"

HRE_BEGIN_DECLS

/** A network. Opaque, immutable.  Since: 1.0 */
typedef struct hre_network hre_network;

/** Largest network file (hre_network_encode output): 191 bytes plus an
 *  organisation name of at most HRE_CONTRACT_NAME_MAX (64) bytes.
 *  Since: 1.0 */
#define HRE_NETWORK_FILE_MAX 255u

/** Make a network from chain parameters and the contract genesis.
 *  Out: *out: new network owned by the caller, free with hre_network_free
 *       (NULL on failure).
 *  In:  params: read up to its version and copied; must pass
 *       hre_chain_params_check. authority_key: the founding hospital
 *       admin's 34-byte wire key (curve id 1 or 2, prefix 0x02 / 0x03).
 *       org_name: the genesis organisation's name, 1..64 bytes with no NUL,
 *       or NULL for the contract's default.
 *  Returns: HRE_OK; HRE_EINVAL (NULL, bad params, key or name; the detail
 *           names it); HRE_EUNSUPPORTED (params version, or a block cap
 *           over 64 MiB); HRE_ENOMEM.
 *  Thread safety: safe from any thread.  Since: 1.0 */
HRE_API int hre_network_new(hre_network **out, const hre_chain_params *params,
                            const uint8_t authority_key[34], const char *org_name);

/** The private-network preset: a new network of its own for a group of
 *  institutions, with parameters a host can mine on at once (as Bitcoin's
 *  regtest): PoW limit compact 0x207fffff, no retargeting in practice
 *  (interval 2^32 - 1 blocks, spacing 600 s), blocks of at most 1,000,000
 *  bytes and 10,000 transactions, and a genesis block mined here: version
 *  1, time `now`, bits 0x207fffff, Merkle root sha256d("HRE-PRIVATE-NET-v1"
 *  || authority key || u8 name length || name || u64 now), so every
 *  authority and moment gives another network id.
 *  Out: *out: as hre_network_new.
 *  In:  authority_key, org_name: as hre_network_new; now: the host's clock
 *       (seconds since the epoch, at most UINT32_MAX).
 *  Returns: as hre_network_new; HRE_EINVAL also for now > UINT32_MAX.
 *  Thread safety: safe from any thread.  Since: 1.0 */
HRE_API int hre_network_new_private(hre_network **out, const uint8_t authority_key[34],
                                    const char *org_name, uint64_t now);

/** Free a network; NULL is fine.  Since: 1.0 */
HRE_API void hre_network_free(hre_network *net);

/** Encode a network as the network file (docs/PROTOCOL.md 7.10).
 *  Args: net (self). Out: out (may be NULL with *len == 0).
 *  In/Out: *len: capacity in; bytes written (or needed, HRE_EBUFSIZE) out;
 *          at most HRE_NETWORK_FILE_MAX.
 *  Returns: HRE_OK; HRE_EBUFSIZE; HRE_EINVAL (NULL).
 *  Thread safety: safe from any thread.  Since: 1.0 */
HRE_API int hre_network_encode(const hre_network *net, uint8_t *out, size_t *len);

/** Decode a network file (hostile input): exact length, magic, CRC-32,
 *  name length and bytes, the key's syntax, and the parameters
 *  (hre_chain_params_check, including the genesis proof of work).
 *  Out: *out: new network owned by the caller (NULL on failure).
 *  In:  in/len: the file's bytes.
 *  Returns: HRE_OK; HRE_EDECODE (malformed; the detail names the field);
 *           HRE_ECORRUPT (CRC mismatch); HRE_EINVAL (NULL, or values that
 *           make no network); HRE_EUNSUPPORTED (unknown file version);
 *           HRE_ENOMEM.
 *  Thread safety: safe from any thread.  Since: 1.0 */
HRE_API int hre_network_decode(hre_network **out, const uint8_t *in,
                               size_t len) HRE_WARN_UNUSED_RESULT;

/** The chain parameters. An output struct (common.h rule 7): set
 *  out->version first (HRE_CHAIN_PARAMS_INIT or hre_chain_params_init).
 *  Args: net (self). Out: *out.
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (out->version).
 *  Since: 1.0 */
HRE_API int hre_network_params(const hre_network *net, hre_chain_params *out);

/** @{ */
/** The network id (the genesis block hash), the authority's wire key.
 *  Args: net (self). Out: out.
 *  Returns: HRE_OK; HRE_EINVAL (NULL).  Since: 1.0 */
HRE_API int hre_network_id(const hre_network *net, uint8_t out[32]);
HRE_API int hre_network_authority_key(const hre_network *net, uint8_t out[34]);
/** @} */

/** The genesis organisation's name: a NUL-terminated string borrowed from
 *  net (valid while net lives); NULL when the network uses the contract's
 *  default name, or for a NULL net.  Since: 1.0 */
HRE_API const char *hre_network_org_name(const hre_network *net);

HRE_END_DECLS

#endif /* HRE_NETWORK_H */
