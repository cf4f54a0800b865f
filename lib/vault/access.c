/* Access (PROTOCOL.md 14.7): re-wrapping a record's data key for a reader the
 * holder's contract state allows, pruning the wraps of readers who lost
 * access, and removing one wrap. */
#include <stdio.h>
#include <string.h>

#include "vault/internal.h"
#include "hre/hash.h"

/* Record -> the vault's entry, checked: the record exists, the vault holds
 * its document (by doc_sha256), and the envelope's locator is the record's. */
int hre_vault__resolve(hre_vault *v, hre_vault__ent **out, const hre_contract *c,
                       const uint8_t record_id[32])
{
    hre_contract_record r = HRE_CONTRACT_RECORD_INIT;
    hre_vault__ent *e;
    int rc;
    *out = NULL;
    if ((rc = hre_contract_record_get(c, &r, record_id)) != HRE_OK)
        return rc == HRE_ENOTFOUND ? hre__fail(HRE_ENOTFOUND, "vault: the contract knows no such record")
                                   : rc;
    if (!(e = hre_vault__find(v, r.doc_sha256)))
        return hre__fail(HRE_ENOTFOUND, "vault: this vault does not hold the record's document");
    *out = e;
    if (memcmp(e->locator, r.locator, 32) != 0)
        return hre__fail(HRE_EVERIFY, "vault: the stored envelope's locator is not the record's");
    if (e->state == HRE_VAULT_ERASED) return hre__fail(HRE_EERASED, "vault: the document was erased");
    return HRE_OK;
}

/* Map a refusal of hre_contract_access_check to the vault's code. */
static int access_refusal(int rc, const hre_contract_access *a)
{
    char why[200];
    snprintf(why, sizeof why, "%s", hre_error_detail());
    switch (a->reason) {
    case HRE_ACCESS_REVOKED: return hre__fail(HRE_EREVOKED, "vault: access refused, the grant was revoked");
    case HRE_ACCESS_EXPIRED: return hre__fail(HRE_EEXPIRED, "vault: access refused, the grant has expired");
    case HRE_ACCESS_ERASED: return hre__fail(HRE_EERASED, "vault: access refused, the record was erased");
    case HRE_ACCESS_NO_GRANT: return hre__fail(HRE_EAUTH, "vault: access refused, no grant or role covers "
                                               "this reader");
    case HRE_ACCESS_READER_SUSPENDED: return hre__fail(HRE_EAUTH, "vault: access refused, the reader is suspended");
    case HRE_ACCESS_ORG_SUSPENDED: return hre__fail(HRE_EAUTH, "vault: access refused, the reader's "
                                                    "organisation is suspended");
    case HRE_ACCESS_UNKNOWN_RECORD: return hre__fail(HRE_ENOTFOUND, "vault: access refused, unknown record");
    case HRE_ACCESS_UNKNOWN_READER: return hre__fail(HRE_ENOTFOUND, "vault: access refused, unknown reader");
    default: return hre__fail(rc, "vault: access refused: %s", why);
    }
}

#define REUSE_DOMAIN "HRE-VAULT-REWRAP-REUSE"

/* The reuse tag of wrap w: what must not change for it to be handed out
 * again (the wrap's bytes, the reader's current encryption key, the holder). */
static int reuse_tag(uint8_t tag[32], const hre_vault_wrap *w, const uint8_t reader_enc[34], uint8_t holder_type,
                     const uint8_t holder_id[32], const uint8_t holder_pub[34])
{
    uint8_t b[sizeof REUSE_DOMAIN - 1 + HRE_VAULT_WRAP_LEN + 34 + 1 + 32 + 34], *q = b;
    memcpy(q, REUSE_DOMAIN, sizeof REUSE_DOMAIN - 1);
    q += sizeof REUSE_DOMAIN - 1;
    hre_vault__wrap_put(q, w);
    q += HRE_VAULT_WRAP_LEN;
    memcpy(q, reader_enc, 34);
    q += 34;
    *q++ = holder_type;
    memcpy(q, holder_id, 32);
    q += 32;
    memcpy(q, holder_pub, 34);
    return hre_sha256(tag, b, sizeof b);
}

static hre_vault__reuse *reuse_slot(hre_vault *v, const uint8_t doc[32], const uint8_t reader[32])
{
    return &v->reuse[(doc[0] ^ reader[0] ^ (unsigned)(doc[1] + reader[1])) % HRE_VAULT__REUSE_SLOTS];
}

static int bind_if_free(hre_vault *v, hre_vault__ent *e, const uint8_t record_id[32])
{
    if (e->has_record || hre_vault__find_record(v, record_id)) return HRE_OK;
    return hre_vault__bind(v, e, record_id);
}

HRE_API int hre_vault_rewrap(hre_vault *v, hre_vault_wrap *out, hre_contract_access *access,
                             const hre_contract *c, const uint8_t record_id[32], const uint8_t reader[32],
                             uint64_t block_time, uint8_t holder_type, const uint8_t holder_id[32],
                             const hre_key *holder_key)
{
    hre_contract_access a = HRE_CONTRACT_ACCESS_INIT, *ap;
    hre_vault__ent *e;
    hre_vault_wrap mine, *set = NULL, nw;
    hre_pubkey *rk = NULL, *hp = NULL;
    uint8_t wire[34], hwire[34], key[32], tag[32];
    hre_vault__reuse *slot;
    size_t n = 0, j;
    int rc;
    HRE__API_SCOPE;
    if (out) memset(out, 0, sizeof *out);
    if (!v || !out || !c || !record_id || !reader || !holder_id || !holder_key)
        return hre__fail(HRE_EINVAL, "hre_vault_rewrap: NULL argument");
    if (holder_type > HRE_VAULT_READER_ORG)
        return hre__fail(HRE_EINVAL, "hre_vault_rewrap: unknown holder type %u", holder_type);
    if ((rc = hre_vault__alive(v)) != HRE_OK) return rc;
    /* the caller's struct (its version) gets the verdict; ours otherwise */
    ap = access ? access : &a;
    rc = hre_contract_access_check(c, ap, reader, record_id, block_time);
    if (rc == HRE_EUNSUPPORTED || rc == HRE_EINVAL) return rc;
    if (rc != HRE_OK) {
        hre__log(v->log_fn, v->log_ud, HRE_LOG_WARN, "vault: re-wrap refused (access reason %u)", ap->reason);
        return access_refusal(rc, ap);
    }
    if ((rc = hre_vault__resolve(v, &e, c, record_id)) != HRE_OK) return rc;
    if ((rc = hre_contract_enc_key_get(c, wire, HRE_ENC_TARGET_ACCOUNT, reader)) != HRE_OK)
        return hre__fail(HRE_ENOTFOUND, "vault: the reader has published no encryption key");
    if ((rc = hre_pubkey_parse_wire(&rk, wire)) != HRE_OK) return rc;
    if ((rc = hre_vault__wraps_load(v, e->hash, &set, &n)) != HRE_OK) goto done;
    for (j = 0; j < n; j++)
        if (set[j].reader_type == holder_type && memcmp(set[j].reader_id, holder_id, 32) == 0) break;
    if (j == n) {
        rc = hre__fail(HRE_ENOTFOUND, "vault: no wrap for the holder, so it cannot re-wrap");
        goto done;
    }
    mine = set[j];
    rc = hre_key_pubkey(holder_key, &hp);
    if (rc == HRE_OK) rc = hre_pubkey_serialize_wire(hp, hwire);
    if (rc != HRE_OK) goto done;
    /* the reader's wrap this vault made, unchanged, for the reader's current
     * key and by this holder: hand it out again (no write, no sync) */
    slot = reuse_slot(v, e->hash, reader);
    if (slot->used && memcmp(slot->doc, e->hash, 32) == 0 && memcmp(slot->reader, reader, 32) == 0) {
        for (j = 0; j < n; j++)
            if (set[j].reader_type == HRE_VAULT_READER_ACCOUNT && memcmp(set[j].reader_id, reader, 32) == 0) break;
        if (j < n && (rc = reuse_tag(tag, &set[j], wire, holder_type, holder_id, hwire)) == HRE_OK &&
            hre_ct_equal(tag, slot->tag, 32)) {
            if ((rc = bind_if_free(v, e, record_id)) == HRE_OK) *out = set[j];
            goto done;
        }
        if (rc != HRE_OK) goto done;
    }
    if ((rc = hre_vault__unwrap(key, &mine, holder_key, NULL)) != HRE_OK) goto done;
    if (rc == HRE_OK)
        rc = hre_vault__wrap_make(&nw, key, e->hash, e->locator, e->doc_version, HRE_VAULT_READER_ACCOUNT,
                                  reader, rk, holder_type, holder_id, holder_key, hwire);
    hre_wipe(key, sizeof key);
    if (rc != HRE_OK) goto done;
    for (j = 0; j < n; j++)
        if (set[j].reader_type == HRE_VAULT_READER_ACCOUNT && memcmp(set[j].reader_id, reader, 32) == 0) break;
    if (j == n) {
        hre_vault_wrap *ns;
        if (n == HRE_VAULT_WRAPS_MAX) {
            rc = hre__fail(HRE_ELIMIT, "vault: the document already has %d wraps", HRE_VAULT_WRAPS_MAX);
            goto done;
        }
        ns = hre__realloc(set, (n + 1) * sizeof *ns);
        if (!ns) {
            rc = hre__fail(HRE_ENOMEM, "hre_vault_rewrap: out of memory");
            goto done;
        }
        set = ns;
        n++;
    }
    set[j] = nw;
    slot->used = 0;                    /* the stored set changes now: forget what it held */
    if ((rc = hre_vault__wraps_replace(v, e->hash, set, n)) != HRE_OK) goto done;
    if (reuse_tag(slot->tag, &nw, wire, holder_type, holder_id, hwire) == HRE_OK) {
        memcpy(slot->doc, e->hash, 32);
        memcpy(slot->reader, reader, 32);
        slot->used = 1;
    }
    if ((rc = bind_if_free(v, e, record_id)) != HRE_OK) goto done;
    *out = nw;
done:
    hre_pubkey_free(rk);
    hre_pubkey_free(hp);
    hre__free(set);
    return hre__api_done(rc);
}

HRE_API int hre_vault_prune(hre_vault *v, size_t *removed, const hre_contract *c,
                            const uint8_t record_id[32], uint64_t block_time)
{
    hre_vault__ent *e;
    hre_vault_wrap *set = NULL;
    size_t n = 0, k = 0, gone = 0;
    int rc;
    HRE__API_SCOPE;
    if (removed) *removed = 0;
    if (!v || !c || !record_id) return hre__fail(HRE_EINVAL, "hre_vault_prune: NULL argument");
    if ((rc = hre_vault__alive(v)) != HRE_OK) return rc;
    if ((rc = hre_vault__resolve(v, &e, c, record_id)) != HRE_OK) return rc;
    if ((rc = hre_vault__wraps_load(v, e->hash, &set, &n)) != HRE_OK) return rc;
    for (size_t i = 0; i < n; i++) {
        if (set[i].reader_type == HRE_VAULT_READER_ACCOUNT &&
            hre_contract_access_check(c, NULL, set[i].reader_id, record_id, block_time) != HRE_OK) {
            gone++;
            continue;
        }
        set[k++] = set[i];
    }
    if (gone) rc = hre_vault__wraps_replace(v, e->hash, set, k);
    hre__free(set);
    if (rc == HRE_OK) rc = bind_if_free(v, e, record_id);
    if (rc != HRE_OK) return rc;
    if (gone)
        hre__log(v->log_fn, v->log_ud, HRE_LOG_INFO, "vault: pruned %zu wraps of readers without access", gone);
    if (removed) *removed = gone;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_vault_wrap_remove(hre_vault *v, const uint8_t doc_hash[32], uint8_t reader_type,
                                  const uint8_t reader_id[32])
{
    hre_vault__ent *e;
    hre_vault_wrap *set = NULL;
    size_t n = 0, k = 0;
    int rc;
    HRE__API_SCOPE;
    if (!v || !doc_hash || !reader_id) return hre__fail(HRE_EINVAL, "hre_vault_wrap_remove: NULL argument");
    if ((rc = hre_vault__alive(v)) != HRE_OK) return rc;
    if (!(e = hre_vault__find(v, doc_hash))) return hre__fail(HRE_ENOTFOUND, "vault: no such document");
    if (e->state == HRE_VAULT_ERASED) return hre__fail(HRE_EERASED, "vault: the document was erased");
    if ((rc = hre_vault__wraps_load(v, doc_hash, &set, &n)) != HRE_OK) return rc;
    for (size_t i = 0; i < n; i++)
        if (!(set[i].reader_type == reader_type && memcmp(set[i].reader_id, reader_id, 32) == 0))
            set[k++] = set[i];
    if (k == n) rc = hre__fail(HRE_ENOTFOUND, "vault: no wrap for this reader");
    else rc = hre_vault__wraps_replace(v, doc_hash, set, k);
    hre__free(set);
    return hre__api_done(rc);
}
