/* PLACEHOLDER (step 1 of the vault): every call not implemented yet fails
 * with HRE_EUNSUPPORTED. Replaced by the real implementation. */
#include "vault/internal.h"

HRE_API int hre_vault_sealer_new(hre_vault_sealer **out, const hre_vault_seal_params *p, hre_vault_sink_fn sink, void *sink_user_data)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_sealer_write(hre_vault_sealer *s, const uint8_t *data, size_t len)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_sealer_finish(hre_vault_sealer *s, uint8_t doc_hash[32], hre_vault_content *content)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_sealer_wrap(hre_vault_sealer *s, hre_vault_wrap *out, uint8_t reader_type, const uint8_t reader_id[32], const hre_pubkey *reader_key)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API void hre_vault_sealer_free(hre_vault_sealer *s)
{
}

HRE_API int hre_vault_opener_new(hre_vault_opener **out, const hre_vault_open_params *p, hre_vault_sink_fn sink, void *sink_user_data)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_opener_write(hre_vault_opener *o, const uint8_t *data, size_t len)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_opener_finish(hre_vault_opener *o, hre_vault_content *content)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API void hre_vault_opener_free(hre_vault_opener *o)
{
}

HRE_API int hre_vault_open(hre_vault **out, const hre_vault_options *opts)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API void hre_vault_close(hre_vault *v)
{
}

HRE_API int hre_vault_store_new(hre_vault_store **out, hre_vault *v, const hre_vault_seal_params *p)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_store_write(hre_vault_store *st, const uint8_t *data, size_t len)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_store_add_reader(hre_vault_store *st, uint8_t reader_type, const uint8_t reader_id[32], const hre_pubkey *reader_key)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_store_add_reader_by_id(hre_vault_store *st, const hre_contract *c, uint8_t reader_type, const uint8_t reader_id[32])
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_store_commit(hre_vault_store *st, uint8_t doc_hash[32], hre_vault_content *content)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API void hre_vault_store_free(hre_vault_store *st)
{
}

HRE_API int hre_vault_import_new(hre_vault_import **out, hre_vault *v, const uint8_t expected_hash[32])
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_import_write(hre_vault_import *im, const uint8_t *data, size_t len)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_import_add_wrap(hre_vault_import *im, const hre_vault_wrap *wrap)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_import_commit(hre_vault_import *im, uint8_t doc_hash[32])
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API void hre_vault_import_free(hre_vault_import *im)
{
}

HRE_API int hre_vault_entry_get(hre_vault *v, hre_vault_entry *out, const uint8_t doc_hash[32])
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_entry_by_locator(hre_vault *v, hre_vault_entry *out, const uint8_t locator[32], uint32_t doc_version)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_wrap_get(hre_vault *v, hre_vault_wrap *out, const uint8_t doc_hash[32], uint8_t reader_type, const uint8_t reader_id[32])
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_wrap_at(hre_vault *v, hre_vault_wrap *out, const uint8_t doc_hash[32], size_t index)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_read(hre_vault *v, hre_vault_content *content, const uint8_t doc_hash[32], uint8_t reader_type, const uint8_t reader_id[32], const hre_key *reader_key, hre_vault_sink_fn sink, void *sink_user_data)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_envelope_read(hre_vault *v, uint8_t *buf, size_t *len, const uint8_t doc_hash[32], uint64_t offset)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_stats_get(const hre_vault *v, hre_vault_stats *out)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_verify(hre_vault *v, uint64_t *problems, unsigned int flags)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_rewrap(hre_vault *v, hre_vault_wrap *out, hre_contract_access *access, const hre_contract *c, const uint8_t record_id[32], const uint8_t reader[32], uint64_t block_time, uint8_t holder_type, const uint8_t holder_id[32], const hre_key *holder_key)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_prune(hre_vault *v, size_t *removed, const hre_contract *c, const uint8_t record_id[32], uint64_t block_time)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_wrap_remove(hre_vault *v, const uint8_t doc_hash[32], uint8_t reader_type, const uint8_t reader_id[32])
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_bind_record(hre_vault *v, const uint8_t doc_hash[32], const uint8_t record_id[32])
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_erase(hre_vault *v, const uint8_t doc_hash[32])
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_erase_record(hre_vault *v, const hre_contract *c, const uint8_t record_id[32])
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_handle_event(hre_vault *v, const hre_contract_event *ev)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}

HRE_API int hre_vault_reconcile(hre_vault *v, size_t *erased, const hre_contract *c)
{
    HRE__API_SCOPE;
    return hre__fail(HRE_EUNSUPPORTED, "%s: not implemented yet", __func__);
}
