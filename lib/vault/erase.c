/* Records and erasure (PROTOCOL.md 14.6): record bindings, crypto-shredding
 * (tombstone first, then overwrite and remove), ERASE_RECORD events, pending
 * erasures and the reconciliation with a contract state. */
#include <stdio.h>
#include <string.h>

#include "vault/internal.h"

static int shred_files(hre_vault *v, const hre_vault__ent *e)
{
    static const char *const ext[] = {"wr", "wn", "env"};
    char name[HRE_STORAGE_NAME_MAX + 1];
    int rc = HRE_OK;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0] && rc == HRE_OK; i++) {
        hre_vault__name(v, name, e->hash, ext[i]);
        rc = hre_vault__shred(v, name);
    }
    if (rc == HRE_OK) rc = hre_storage_sync_dir(v->st);
    return rc;
}

int hre_vault__erase_ent(hre_vault *v, hre_vault__ent *e)
{
    int rc;
    if (e->state == HRE_VAULT_PRESENT) {
        uint8_t rec[33];
        rec[0] = HRE_VAULT__REC_ERASE;
        memcpy(rec + 1, e->hash, 32);
        /* The tombstone is the erase journal: once it is durable, the
         * erasure is decided and the next open finishes the shredding. */
        if ((rc = hre_vault__log_put(v, rec, sizeof rec)) != HRE_OK) return rc;
    }
    rc = shred_files(v, e);
    if (rc != HRE_OK) {
        hre__log(v->log_fn, v->log_ud, HRE_LOG_ERROR,
                 "vault: erasure decided but the shredding failed (%d); it is retried at open", rc);
        return rc;
    }
    hre__log(v->log_fn, v->log_ud, HRE_LOG_INFO, "vault: a document was erased (crypto-shredded)");
    return HRE_OK;
}

static int pending_done(hre_vault *v, const uint8_t record[32])
{
    uint8_t rec[33];
    if (!hre_vault__pending_has(v, record)) return HRE_OK;
    rec[0] = HRE_VAULT__REC_PENDING_DONE;
    memcpy(rec + 1, record, 32);
    return hre_vault__log_put(v, rec, sizeof rec);
}

int hre_vault__bind(hre_vault *v, hre_vault__ent *e, const uint8_t record[32])
{
    uint8_t rec[65];
    int rc;
    rec[0] = HRE_VAULT__REC_BIND;
    memcpy(rec + 1, e->hash, 32);
    memcpy(rec + 33, record, 32);
    if ((rc = hre_vault__log_put(v, rec, sizeof rec)) != HRE_OK) return rc;
    if (hre_vault__pending_has(v, record)) {
        /* The chain erased this record before the vault knew the binding. */
        if ((rc = hre_vault__erase_ent(v, e)) != HRE_OK) return rc;
        rc = pending_done(v, record);
    }
    return rc;
}

HRE_API int hre_vault_bind_record(hre_vault *v, const uint8_t doc_hash[32], const uint8_t record_id[32])
{
    hre_vault__ent *e, *o;
    int rc;
    HRE__API_SCOPE;
    if (!v || !doc_hash || !record_id) return hre__fail(HRE_EINVAL, "hre_vault_bind_record: NULL argument");
    if ((rc = hre_vault__alive(v)) != HRE_OK) return rc;
    if (!(e = hre_vault__find(v, doc_hash))) return hre__fail(HRE_ENOTFOUND, "vault: no such document");
    if (e->state == HRE_VAULT_ERASED) return hre__fail(HRE_EERASED, "vault: the document was erased");
    o = hre_vault__find_record(v, record_id);
    if (e->has_record || o) {
        if (o == e) return hre__api_done(HRE_OK);
        return hre__fail(HRE_EEXISTS, "vault: %s", e->has_record ? "the document is bound to another record"
                                                                 : "the record is bound to another document");
    }
    return hre__api_done(hre_vault__bind(v, e, record_id));
}

HRE_API int hre_vault_erase(hre_vault *v, const uint8_t doc_hash[32])
{
    hre_vault__ent *e;
    int rc;
    HRE__API_SCOPE;
    if (!v || !doc_hash) return hre__fail(HRE_EINVAL, "hre_vault_erase: NULL argument");
    if ((rc = hre_vault__alive(v)) != HRE_OK) return rc;
    if (!(e = hre_vault__find(v, doc_hash))) return hre__fail(HRE_ENOTFOUND, "vault: no such document");
    return hre__api_done(hre_vault__erase_ent(v, e));
}

/* The contract's record: HRE_OK with *erased and doc_sha256, or a code. */
static int chain_record(const hre_contract *c, const uint8_t record_id[32], hre_contract_record *r)
{
    int rc = hre_contract_record_get(c, r, record_id);
    if (rc == HRE_ENOTFOUND) return hre__fail(HRE_ENOTFOUND, "vault: the contract knows no such record");
    return rc;
}

HRE_API int hre_vault_erase_record(hre_vault *v, const hre_contract *c, const uint8_t record_id[32])
{
    hre_contract_record r = HRE_CONTRACT_RECORD_INIT;
    hre_vault__ent *e;
    int rc;
    HRE__API_SCOPE;
    if (!v || !c || !record_id) return hre__fail(HRE_EINVAL, "hre_vault_erase_record: NULL argument");
    if ((rc = hre_vault__alive(v)) != HRE_OK) return rc;
    if ((rc = chain_record(c, record_id, &r)) != HRE_OK) return rc;
    if (!r.erased) return hre__fail(HRE_ESTATE, "vault: the record is not erased on the chain");
    e = hre_vault__find(v, r.doc_sha256);
    if (!e) {
        if ((rc = pending_done(v, record_id)) != HRE_OK) return rc;
        return hre__fail(HRE_ENOTFOUND, "vault: this vault does not hold the record's document");
    }
    if ((rc = hre_vault__erase_ent(v, e)) != HRE_OK) return rc;
    if (!e->has_record && !hre_vault__find_record(v, record_id) &&
        (rc = hre_vault__bind(v, e, record_id)) != HRE_OK)
        return rc;
    return hre__api_done(pending_done(v, record_id));
}

HRE_API int hre_vault_handle_event(hre_vault *v, const hre_contract_event *ev)
{
    hre_vault__ent *e;
    uint8_t rec[33];
    int rc;
    HRE__API_SCOPE;
    if (!v || !ev) return hre__fail(HRE_EINVAL, "hre_vault_handle_event: NULL argument");
    if (ev->version < 1) return hre__fail(HRE_EINVAL, "hre_vault_handle_event: event version 0");
    if (ev->type != HRE_EVENT_RECORD_ERASED || !(ev->flags & HRE_EVENT_HAS_RECORD))
        return hre__api_done(HRE_OK);
    if ((rc = hre_vault__alive(v)) != HRE_OK) return rc;
    if ((e = hre_vault__find_record(v, ev->record_id)) != NULL)
        return hre__api_done(hre_vault__erase_ent(v, e));
    if (hre_vault__pending_has(v, ev->record_id)) return hre__api_done(HRE_OK);
    rec[0] = HRE_VAULT__REC_PENDING;
    memcpy(rec + 1, ev->record_id, 32);
    if ((rc = hre_vault__log_put(v, rec, sizeof rec)) != HRE_OK) return rc;
    hre__log(v->log_fn, v->log_ud, HRE_LOG_INFO,
             "vault: a record erased on the chain is not bound here; pending until reconciled");
    return hre__api_done(HRE_OK);
}

HRE_API int hre_vault_reconcile(hre_vault *v, size_t *erased, const hre_contract *c)
{
    size_t count = 0;
    int rc;
    HRE__API_SCOPE;
    if (erased) *erased = 0;
    if (!v || !c) return hre__fail(HRE_EINVAL, "hre_vault_reconcile: NULL argument");
    if ((rc = hre_vault__alive(v)) != HRE_OK) return rc;
    /* bound documents whose record the chain erased (a missed event) */
    for (size_t i = 0; i < v->n; i++) {
        hre_vault__ent *e = &v->ents[i];
        hre_contract_record r = HRE_CONTRACT_RECORD_INIT;
        if (!e->has_record || e->state != HRE_VAULT_PRESENT) continue;
        if (hre_contract_record_get(c, &r, e->record) != HRE_OK || !r.erased) continue;
        if ((rc = hre_vault__erase_ent(v, e)) != HRE_OK) return rc;
        count++;
    }
    /* pending erasures: resolve through the contract */
    for (size_t i = 0; i < v->npending;) {
        hre_contract_record r = HRE_CONTRACT_RECORD_INIT;
        uint8_t record[32];
        hre_vault__ent *e;
        size_t before = v->npending;
        memcpy(record, v->pending[i], 32);
        if (hre_contract_record_get(c, &r, record) != HRE_OK || !r.erased) {
            i++;                  /* not (or no longer) erased on this chain: keep waiting */
            continue;
        }
        e = hre_vault__find(v, r.doc_sha256);
        if (e) {
            if (e->state == HRE_VAULT_PRESENT) count++;
            if ((rc = hre_vault__erase_ent(v, e)) != HRE_OK) return rc;
            if (!e->has_record && !hre_vault__find_record(v, record) &&
                (rc = hre_vault__bind(v, e, record)) != HRE_OK)
                return rc;
        }
        if ((rc = pending_done(v, record)) != HRE_OK) return rc;
        if (v->npending == before) i++;
    }
    if (erased) *erased = count;
    return hre__api_done(HRE_OK);
}
