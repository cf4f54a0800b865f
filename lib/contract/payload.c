/* Record contract payloads: canonical encoders, strict decoders, builders. */
#include <stdio.h>

#include "contract/internal.h"

int hre_contract__key_syntax_ok(const uint8_t key[34])
{
    return (key[0] == HRE_CURVE_P256 || key[0] == HRE_CURVE_SECP256K1) &&
           (key[1] == 0x02 || key[1] == 0x03);
}

int hre_contract__name_ok(const uint8_t *s, size_t n)
{
    if (n == 0 || n > HRE_CONTRACT_NAME_MAX || !s) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f) return 0;
    return 1;
}

int hre_contract__enc_key_check(const uint8_t key[34], const char *what)
{
    hre_pubkey *pk = NULL;
    int rc;
    if (key[0] != HRE_CURVE_P256)
        return hre__fail(HRE_EDECODE, "%s: encryption keys are P-256 (curve id 1), not curve id %u", what,
                         (unsigned)key[0]);
    if (key[1] != 0x02 && key[1] != 0x03)
        return hre__fail(HRE_EDECODE, "%s: encryption key is not a compressed point (prefix 0x%02x)", what,
                         (unsigned)key[1]);
    rc = hre_pubkey_parse_wire(&pk, key);
    hre_pubkey_free(pk);
    if (rc == HRE_ENOMEM || rc == HRE_ECRYPTO) return rc;
    if (rc != HRE_OK) return hre__fail(HRE_EDECODE, "%s: encryption key is not a point on P-256", what);
    return HRE_OK;
}

static int finish_enc(hre__writer *w, size_t *len)
{
    size_t need = 0;
    int rc = hre__writer_finish(w, &need);
    *len = need;
    if (rc != HRE_OK) return hre__fail(HRE_EBUFSIZE, "payload needs %zu bytes", need);
    return HRE_OK;
}

#define ENC_BEGIN(fn)                                                        \
    hre__writer w;                                                            \
    if (!len || !p || (!out && *len)) return hre__fail(HRE_EINVAL, fn ": NULL argument"); \
    hre__writer_init(&w, out, out ? *len : 0);                                \
    hre__writer_u8(&w, HRE_CONTRACT_PAYLOAD_VERSION)

static int bad_key(const char *fn, const char *what)
{
    return hre__fail(HRE_EINVAL, "%s: %s is not a 34-byte wire public key (curve 1/2, prefix 02/03)", fn, what);
}

/* Decoder prologue: zero *out, start reading, check the version byte. */
static int dec_begin(hre__reader *r, const uint8_t *in, size_t len, const char *what)
{
    uint8_t ver = 0;
    if (!in && len) return hre__fail(HRE_EINVAL, "%s payload: NULL input", what);
    hre__reader_init(r, in, len);
    if (hre__reader_u8(r, &ver) != HRE_OK)
        return hre__fail(HRE_EDECODE, "%s payload: empty", what);
    if (ver != HRE_CONTRACT_PAYLOAD_VERSION)
        return hre__fail(HRE_EDECODE, "%s payload: unknown payload version %u", what, (unsigned)ver);
    return HRE_OK;
}

static int dec_end(hre__reader *r, const char *what)
{
    int rc = r->err;
    if (rc != HRE_OK) return hre__fail(rc, "%s payload: truncated or malformed", what);
    if (hre__reader_remaining(r) != 0)
        return hre__fail(HRE_EDECODE, "%s payload: %zu trailing bytes", what, hre__reader_remaining(r));
    return HRE_OK;
}

static int dec_key(hre__reader *r, uint8_t key[34], const char *what)
{
    if (hre__reader_bytes(r, key, 34) != HRE_OK) return r->err;
    if (!hre_contract__key_syntax_ok(key))
        return hre__fail(HRE_EDECODE, "%s: bad public key encoding (curve id %u, prefix 0x%02x)",
                         what, (unsigned)key[0], (unsigned)key[1]);
    return HRE_OK;
}

/* CompactSize length with [min, max]; over max -> ELIMIT. */
static int dec_len(hre__reader *r, size_t *n, size_t min, size_t max, const char *what)
{
    uint64_t v = 0;
    int rc = hre__reader_compact(r, &v, max);
    if (rc == HRE_ELIMIT) return hre__fail(HRE_ELIMIT, "%s: length over the cap of %zu", what, max);
    if (rc != HRE_OK) return rc;
    if (v < min) return hre__fail(HRE_EDECODE, "%s: length %llu below %zu", what, (unsigned long long)v, min);
    *n = (size_t)v;
    return HRE_OK;
}

#define TRY(x) do { int rc_ = (x); if (rc_ != HRE_OK) { memset(out, 0, sizeof *out); return rc_; } } while (0)

/* ---------------- register_org ---------------- */

HRE_API int hre_contract_encode_register_org(const hre_register_org_payload *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    ENC_BEGIN("hre_contract_encode_register_org");
    if (p->org_type < HRE_ORG_HOSPITAL || p->org_type > HRE_ORG_PHARMACY)
        return hre__fail(HRE_EINVAL, "register_org: unknown organisation type %u", (unsigned)p->org_type);
    if (p->name_len > HRE_CONTRACT_NAME_MAX) return hre__fail(HRE_ELIMIT, "register_org: name over %d bytes", HRE_CONTRACT_NAME_MAX);
    if (!hre_contract__name_ok(p->name, p->name_len))
        return hre__fail(HRE_EINVAL, "register_org: name empty or has control bytes");
    if (!hre_contract__key_syntax_ok(p->admin_key)) return hre__api_done(bad_key("register_org", "admin_key"));
    hre__writer_u8(&w, p->org_type);
    hre__writer_compact(&w, p->name_len);
    hre__writer_bytes(&w, p->name, p->name_len);
    hre__writer_bytes(&w, p->admin_key, 34);
    return hre__api_done(finish_enc(&w, len));
}

HRE_API int hre_contract_decode_register_org(hre_register_org_payload *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_decode_register_org: NULL out");
    memset(out, 0, sizeof *out);
    TRY(dec_begin(&r, in, len, "register_org"));
    TRY(hre__reader_u8(&r, &out->org_type));
    if (out->org_type < HRE_ORG_HOSPITAL || out->org_type > HRE_ORG_PHARMACY)
        TRY(hre__fail(HRE_EDECODE, "register_org payload: unknown organisation type %u", (unsigned)out->org_type));
    TRY(dec_len(&r, &out->name_len, 1, HRE_CONTRACT_NAME_MAX, "register_org name"));
    TRY(hre__reader_borrow(&r, &out->name, out->name_len));
    if (!hre_contract__name_ok(out->name, out->name_len))
        TRY(hre__fail(HRE_EDECODE, "register_org payload: name has control bytes"));
    TRY(dec_key(&r, out->admin_key, "register_org admin_key"));
    TRY(dec_end(&r, "register_org"));
    return hre__api_done(HRE_OK);
}

/* ---------------- appoint_admin ---------------- */

HRE_API int hre_contract_encode_appoint_admin(const hre_appoint_admin_payload *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    ENC_BEGIN("hre_contract_encode_appoint_admin");
    if (!hre_contract__key_syntax_ok(p->admin_key)) return hre__api_done(bad_key("appoint_admin", "admin_key"));
    hre__writer_bytes(&w, p->org_id, 32);
    hre__writer_bytes(&w, p->admin_key, 34);
    return hre__api_done(finish_enc(&w, len));
}

HRE_API int hre_contract_decode_appoint_admin(hre_appoint_admin_payload *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_decode_appoint_admin: NULL out");
    memset(out, 0, sizeof *out);
    TRY(dec_begin(&r, in, len, "appoint_admin"));
    TRY(hre__reader_bytes(&r, out->org_id, 32));
    TRY(dec_key(&r, out->admin_key, "appoint_admin admin_key"));
    TRY(dec_end(&r, "appoint_admin"));
    return hre__api_done(HRE_OK);
}

/* ---------------- register_doctor ---------------- */

HRE_API int hre_contract_encode_register_doctor(const hre_register_doctor_payload *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    ENC_BEGIN("hre_contract_encode_register_doctor");
    if (!hre_contract__key_syntax_ok(p->doctor_key)) return hre__api_done(bad_key("register_doctor", "doctor_key"));
    hre__writer_bytes(&w, p->doctor_key, 34);
    return hre__api_done(finish_enc(&w, len));
}

HRE_API int hre_contract_decode_register_doctor(hre_register_doctor_payload *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_decode_register_doctor: NULL out");
    memset(out, 0, sizeof *out);
    TRY(dec_begin(&r, in, len, "register_doctor"));
    TRY(dec_key(&r, out->doctor_key, "register_doctor doctor_key"));
    TRY(dec_end(&r, "register_doctor"));
    return hre__api_done(HRE_OK);
}

/* ---------------- register_patient ---------------- */

HRE_API int hre_contract_encode_register_patient(const hre_register_patient_payload *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    ENC_BEGIN("hre_contract_encode_register_patient");
    if (p->reserved != 0) return hre__fail(HRE_EINVAL, "register_patient: reserved must be 0");
    return hre__api_done(finish_enc(&w, len));
}

HRE_API int hre_contract_decode_register_patient(hre_register_patient_payload *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_decode_register_patient: NULL out");
    memset(out, 0, sizeof *out);
    TRY(dec_begin(&r, in, len, "register_patient"));
    TRY(dec_end(&r, "register_patient"));
    return hre__api_done(HRE_OK);
}

/* ---------------- suspend ---------------- */

HRE_API int hre_contract_encode_suspend(const hre_suspend_payload *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    ENC_BEGIN("hre_contract_encode_suspend");
    if (p->action > HRE_SUSPEND_SUSPEND) return hre__fail(HRE_EINVAL, "suspend: action must be 0 or 1");
    hre__writer_bytes(&w, p->target, 32);
    hre__writer_u8(&w, p->action);
    return hre__api_done(finish_enc(&w, len));
}

HRE_API int hre_contract_decode_suspend(hre_suspend_payload *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_decode_suspend: NULL out");
    memset(out, 0, sizeof *out);
    TRY(dec_begin(&r, in, len, "suspend"));
    TRY(hre__reader_bytes(&r, out->target, 32));
    TRY(hre__reader_u8(&r, &out->action));
    if (out->action > HRE_SUSPEND_SUSPEND)
        TRY(hre__fail(HRE_EDECODE, "suspend payload: action %u is not 0 or 1", (unsigned)out->action));
    TRY(dec_end(&r, "suspend"));
    return hre__api_done(HRE_OK);
}

/* ---------------- rotate_key ---------------- */

HRE_API int hre_contract_encode_rotate_key(const hre_rotate_key_payload *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    ENC_BEGIN("hre_contract_encode_rotate_key");
    if (!hre_contract__key_syntax_ok(p->new_key)) return hre__api_done(bad_key("rotate_key", "new_key"));
    hre__writer_bytes(&w, p->target, 32);
    hre__writer_bytes(&w, p->new_key, 34);
    return hre__api_done(finish_enc(&w, len));
}

HRE_API int hre_contract_decode_rotate_key(hre_rotate_key_payload *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_decode_rotate_key: NULL out");
    memset(out, 0, sizeof *out);
    TRY(dec_begin(&r, in, len, "rotate_key"));
    TRY(hre__reader_bytes(&r, out->target, 32));
    TRY(dec_key(&r, out->new_key, "rotate_key new_key"));
    TRY(dec_end(&r, "rotate_key"));
    return hre__api_done(HRE_OK);
}

/* ---------------- new_record ---------------- */

HRE_API int hre_contract_encode_new_record(const hre_new_record_payload *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    ENC_BEGIN("hre_contract_encode_new_record");
    if (p->hospital_name_len > HRE_CONTRACT_NAME_MAX)
        return hre__fail(HRE_ELIMIT, "new_record: hospital name over %d bytes", HRE_CONTRACT_NAME_MAX);
    if (!hre_contract__name_ok(p->hospital_name, p->hospital_name_len))
        return hre__fail(HRE_EINVAL, "new_record: hospital name empty or has control bytes");
    if (p->has_supersedes > 1) return hre__fail(HRE_EINVAL, "new_record: has_supersedes must be 0 or 1");
    hre__writer_bytes(&w, p->patient, 32);
    hre__writer_bytes(&w, p->lab_org, 32);
    hre__writer_bytes(&w, p->commit_patient_id, 32);
    hre__writer_bytes(&w, p->commit_test_name, 32);
    hre__writer_u64(&w, p->date);
    hre__writer_u64(&w, p->price);
    hre__writer_u8(&w, p->category);
    hre__writer_bytes(&w, p->doc_sha256, 32);
    hre__writer_compact(&w, p->hospital_name_len);
    hre__writer_bytes(&w, p->hospital_name, p->hospital_name_len);
    hre__writer_bytes(&w, p->locator, 32);
    hre__writer_u8(&w, p->has_supersedes);
    if (p->has_supersedes) hre__writer_bytes(&w, p->supersedes, 32);
    return hre__api_done(finish_enc(&w, len));
}

HRE_API int hre_contract_decode_new_record(hre_new_record_payload *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_decode_new_record: NULL out");
    memset(out, 0, sizeof *out);
    TRY(dec_begin(&r, in, len, "new_record"));
    TRY(hre__reader_bytes(&r, out->patient, 32));
    TRY(hre__reader_bytes(&r, out->lab_org, 32));
    TRY(hre__reader_bytes(&r, out->commit_patient_id, 32));
    TRY(hre__reader_bytes(&r, out->commit_test_name, 32));
    TRY(hre__reader_u64(&r, &out->date));
    TRY(hre__reader_u64(&r, &out->price));
    TRY(hre__reader_u8(&r, &out->category));
    TRY(hre__reader_bytes(&r, out->doc_sha256, 32));
    TRY(dec_len(&r, &out->hospital_name_len, 1, HRE_CONTRACT_NAME_MAX, "new_record hospital name"));
    TRY(hre__reader_borrow(&r, &out->hospital_name, out->hospital_name_len));
    if (!hre_contract__name_ok(out->hospital_name, out->hospital_name_len))
        TRY(hre__fail(HRE_EDECODE, "new_record payload: hospital name has control bytes"));
    TRY(hre__reader_bytes(&r, out->locator, 32));
    TRY(hre__reader_u8(&r, &out->has_supersedes));
    if (out->has_supersedes > 1)
        TRY(hre__fail(HRE_EDECODE, "new_record payload: has_supersedes %u is not 0 or 1", (unsigned)out->has_supersedes));
    if (out->has_supersedes) TRY(hre__reader_bytes(&r, out->supersedes, 32));
    TRY(dec_end(&r, "new_record"));
    return hre__api_done(HRE_OK);
}

/* ---------------- sign_record ---------------- */

HRE_API int hre_contract_encode_sign_record(const hre_sign_record_payload *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    ENC_BEGIN("hre_contract_encode_sign_record");
    hre__writer_bytes(&w, p->record_id, 32);
    return hre__api_done(finish_enc(&w, len));
}

HRE_API int hre_contract_decode_sign_record(hre_sign_record_payload *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_decode_sign_record: NULL out");
    memset(out, 0, sizeof *out);
    TRY(dec_begin(&r, in, len, "sign_record"));
    TRY(hre__reader_bytes(&r, out->record_id, 32));
    TRY(dec_end(&r, "sign_record"));
    return hre__api_done(HRE_OK);
}

/* ---------------- grant ---------------- */

static int grant_ids_ok(const uint8_t *ids, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (memcmp(ids + (i - 1) * 32, ids + i * 32, 32) >= 0) return 0;
    return 1;
}

HRE_API int hre_contract_encode_grant(const hre_grant_payload *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    ENC_BEGIN("hre_contract_encode_grant");
    if (p->reader_type > HRE_READER_ORG) return hre__fail(HRE_EINVAL, "grant: unknown reader type %u", (unsigned)p->reader_type);
    if (p->scope > HRE_SCOPE_RECORDS) return hre__fail(HRE_EINVAL, "grant: unknown scope %u", (unsigned)p->scope);
    if (p->scope != HRE_SCOPE_CATEGORY && p->category != 0)
        return hre__fail(HRE_EINVAL, "grant: category must be 0 unless scope is HRE_SCOPE_CATEGORY");
    if (p->scope == HRE_SCOPE_RECORDS) {
        if (p->record_count > HRE_CONTRACT_GRANT_IDS_MAX)
            return hre__fail(HRE_ELIMIT, "grant: more than %d record ids", HRE_CONTRACT_GRANT_IDS_MAX);
        if (p->record_count == 0 || !p->record_ids)
            return hre__fail(HRE_EINVAL, "grant: HRE_SCOPE_RECORDS needs at least one record id");
        if (!grant_ids_ok(p->record_ids, p->record_count))
            return hre__fail(HRE_EINVAL, "grant: record ids must be strictly increasing (sorted, no duplicates)");
    } else if (p->record_count != 0) {
        return hre__fail(HRE_EINVAL, "grant: record ids given for a scope other than HRE_SCOPE_RECORDS");
    }
    if (p->envelope_len > HRE_CONTRACT_ENVELOPE_MAX)
        return hre__fail(HRE_ELIMIT, "grant: envelope over %d bytes", HRE_CONTRACT_ENVELOPE_MAX);
    if (p->envelope_len && !p->envelope) return hre__fail(HRE_EINVAL, "grant: NULL envelope");
    hre__writer_u8(&w, p->reader_type);
    hre__writer_bytes(&w, p->reader, 32);
    hre__writer_u8(&w, p->scope);
    if (p->scope == HRE_SCOPE_CATEGORY) hre__writer_u8(&w, p->category);
    if (p->scope == HRE_SCOPE_RECORDS) {
        hre__writer_compact(&w, p->record_count);
        hre__writer_bytes(&w, p->record_ids, p->record_count * 32);
    }
    hre__writer_u64(&w, p->expiry);
    hre__writer_compact(&w, p->envelope_len);
    if (p->envelope_len) hre__writer_bytes(&w, p->envelope, p->envelope_len);
    return hre__api_done(finish_enc(&w, len));
}

HRE_API int hre_contract_decode_grant(hre_grant_payload *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_decode_grant: NULL out");
    memset(out, 0, sizeof *out);
    TRY(dec_begin(&r, in, len, "grant"));
    TRY(hre__reader_u8(&r, &out->reader_type));
    if (out->reader_type > HRE_READER_ORG)
        TRY(hre__fail(HRE_EDECODE, "grant payload: unknown reader type %u", (unsigned)out->reader_type));
    TRY(hre__reader_bytes(&r, out->reader, 32));
    TRY(hre__reader_u8(&r, &out->scope));
    if (out->scope > HRE_SCOPE_RECORDS)
        TRY(hre__fail(HRE_EDECODE, "grant payload: unknown scope %u", (unsigned)out->scope));
    if (out->scope == HRE_SCOPE_CATEGORY) TRY(hre__reader_u8(&r, &out->category));
    if (out->scope == HRE_SCOPE_RECORDS) {
        TRY(dec_len(&r, &out->record_count, 1, HRE_CONTRACT_GRANT_IDS_MAX, "grant record ids"));
        TRY(hre__reader_borrow(&r, &out->record_ids, out->record_count * 32));
        if (!grant_ids_ok(out->record_ids, out->record_count))
            TRY(hre__fail(HRE_EDECODE, "grant payload: record ids not strictly increasing"));
    }
    TRY(hre__reader_u64(&r, &out->expiry));
    TRY(dec_len(&r, &out->envelope_len, 0, HRE_CONTRACT_ENVELOPE_MAX, "grant envelope"));
    if (out->envelope_len) TRY(hre__reader_borrow(&r, &out->envelope, out->envelope_len));
    TRY(dec_end(&r, "grant"));
    return hre__api_done(HRE_OK);
}

/* ---------------- revoke ---------------- */

HRE_API int hre_contract_encode_revoke(const hre_revoke_payload *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    ENC_BEGIN("hre_contract_encode_revoke");
    hre__writer_bytes(&w, p->grant_id, 32);
    return hre__api_done(finish_enc(&w, len));
}

HRE_API int hre_contract_decode_revoke(hre_revoke_payload *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_decode_revoke: NULL out");
    memset(out, 0, sizeof *out);
    TRY(dec_begin(&r, in, len, "revoke"));
    TRY(hre__reader_bytes(&r, out->grant_id, 32));
    TRY(dec_end(&r, "revoke"));
    return hre__api_done(HRE_OK);
}

/* ---------------- log_access ---------------- */

HRE_API int hre_contract_encode_log_access(const hre_log_access_payload *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    ENC_BEGIN("hre_contract_encode_log_access");
    hre__writer_bytes(&w, p->record_id, 32);
    hre__writer_u8(&w, p->purpose);
    return hre__api_done(finish_enc(&w, len));
}

HRE_API int hre_contract_decode_log_access(hre_log_access_payload *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_decode_log_access: NULL out");
    memset(out, 0, sizeof *out);
    TRY(dec_begin(&r, in, len, "log_access"));
    TRY(hre__reader_bytes(&r, out->record_id, 32));
    TRY(hre__reader_u8(&r, &out->purpose));
    TRY(dec_end(&r, "log_access"));
    return hre__api_done(HRE_OK);
}

/* ---------------- register_node (1.1) ---------------- */

HRE_API int hre_contract_encode_register_node(const hre_register_node_payload *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    ENC_BEGIN("hre_contract_encode_register_node");
    if (!hre_contract__key_syntax_ok(p->node_key)) return hre__api_done(bad_key("register_node", "node_key"));
    hre__writer_bytes(&w, p->node_key, 34);
    return hre__api_done(finish_enc(&w, len));
}

HRE_API int hre_contract_decode_register_node(hre_register_node_payload *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_decode_register_node: NULL out");
    memset(out, 0, sizeof *out);
    TRY(dec_begin(&r, in, len, "register_node"));
    TRY(dec_key(&r, out->node_key, "register_node node_key"));
    TRY(dec_end(&r, "register_node"));
    return hre__api_done(HRE_OK);
}

/* ---------------- suspend_org (1.1) ---------------- */

HRE_API int hre_contract_encode_suspend_org(const hre_suspend_org_payload *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    ENC_BEGIN("hre_contract_encode_suspend_org");
    if (p->action > HRE_SUSPEND_SUSPEND) return hre__fail(HRE_EINVAL, "suspend_org: action must be 0 or 1");
    hre__writer_bytes(&w, p->org_id, 32);
    hre__writer_u8(&w, p->action);
    return hre__api_done(finish_enc(&w, len));
}

HRE_API int hre_contract_decode_suspend_org(hre_suspend_org_payload *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_decode_suspend_org: NULL out");
    memset(out, 0, sizeof *out);
    TRY(dec_begin(&r, in, len, "suspend_org"));
    TRY(hre__reader_bytes(&r, out->org_id, 32));
    TRY(hre__reader_u8(&r, &out->action));
    if (out->action > HRE_SUSPEND_SUSPEND)
        TRY(hre__fail(HRE_EDECODE, "suspend_org payload: action %u is not 0 or 1", (unsigned)out->action));
    TRY(dec_end(&r, "suspend_org"));
    return hre__api_done(HRE_OK);
}

/* ---------------- set_enc_key (1.1) ---------------- */

HRE_API int hre_contract_encode_set_enc_key(const hre_set_enc_key_payload *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    int rc;
    ENC_BEGIN("hre_contract_encode_set_enc_key");
    if (p->target_type > HRE_ENC_TARGET_ORG)
        return hre__fail(HRE_EINVAL, "set_enc_key: unknown target type %u", (unsigned)p->target_type);
    rc = hre_contract__enc_key_check(p->enc_key, "set_enc_key");
    if (rc == HRE_EDECODE) {
        char why[256];
        snprintf(why, sizeof why, "%s", hre_error_detail());
        return hre__fail(HRE_EINVAL, "%s", why);   /* an argument, not input, here */
    }
    if (rc != HRE_OK) return rc;
    hre__writer_u8(&w, p->target_type);
    hre__writer_bytes(&w, p->target, 32);
    hre__writer_bytes(&w, p->enc_key, 34);
    return hre__api_done(finish_enc(&w, len));
}

HRE_API int hre_contract_decode_set_enc_key(hre_set_enc_key_payload *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_decode_set_enc_key: NULL out");
    memset(out, 0, sizeof *out);
    TRY(dec_begin(&r, in, len, "set_enc_key"));
    TRY(hre__reader_u8(&r, &out->target_type));
    if (out->target_type > HRE_ENC_TARGET_ORG)
        TRY(hre__fail(HRE_EDECODE, "set_enc_key payload: unknown target type %u", (unsigned)out->target_type));
    TRY(hre__reader_bytes(&r, out->target, 32));
    TRY(hre__reader_bytes(&r, out->enc_key, 34));
    TRY(dec_end(&r, "set_enc_key"));
    /* last: the point is parsed only once the bytes are well-formed */
    TRY(hre_contract__enc_key_check(out->enc_key, "set_enc_key payload"));
    return hre__api_done(HRE_OK);
}

/* ---------------- erase_record (1.1) ---------------- */

HRE_API int hre_contract_encode_erase_record(const hre_erase_record_payload *p, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    ENC_BEGIN("hre_contract_encode_erase_record");
    hre__writer_bytes(&w, p->record_id, 32);
    return hre__api_done(finish_enc(&w, len));
}

HRE_API int hre_contract_decode_erase_record(hre_erase_record_payload *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    hre__reader r;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_decode_erase_record: NULL out");
    memset(out, 0, sizeof *out);
    TRY(dec_begin(&r, in, len, "erase_record"));
    TRY(hre__reader_bytes(&r, out->record_id, 32));
    TRY(dec_end(&r, "erase_record"));
    return hre__api_done(HRE_OK);
}

/* ---------------- builders ---------------- */

/* Largest payload: new_record with its name at the cap, or a grant with 64
 * ids and a full envelope. */
#define PAYLOAD_BUF (1 + 1 + 32 + 1 + 1 + 1 + 64 * 32 + 8 + 3 + HRE_CONTRACT_ENVELOPE_MAX + 64)

static int build(hre_tx **out, const uint8_t network_id[32], const hre_key *signer, uint16_t kind,
                 uint64_t nonce, uint64_t timestamp, const uint8_t *payload, size_t plen)
{
    hre_tx *tx = NULL;
    int rc = hre_tx_new(&tx, network_id, kind, nonce, timestamp, payload, plen);
    if (rc != HRE_OK) return rc;
    rc = hre_tx_sign(tx, signer);
    if (rc != HRE_OK) {
        hre_tx_free(tx);
        return rc;
    }
    *out = tx;
    return HRE_OK;
}

#define DEFINE_BUILDER(name, KIND, ptype)                                                   \
    HRE_API int hre_contract_build_##name(hre_tx **out, const uint8_t network_id[32],      \
                                          const hre_key *signer, uint64_t nonce,           \
                                          uint64_t timestamp, const ptype *p)              \
    {                                                                                      \
        HRE__API_SCOPE;                                                                    \
        uint8_t buf[PAYLOAD_BUF];                                                          \
        size_t len = sizeof buf;                                                           \
        int rc;                                                                            \
        if (!out) return hre__fail(HRE_EINVAL, "hre_contract_build_" #name ": NULL out");   \
        *out = NULL;                                                                       \
        if (!network_id || !signer || !p)                                                  \
            return hre__fail(HRE_EINVAL, "hre_contract_build_" #name ": NULL argument");    \
        rc = hre_contract_encode_##name(p, buf, &len);                                     \
        if (rc != HRE_OK) return rc;                                                       \
        return hre__api_done(build(out, network_id, signer, KIND, nonce, timestamp, buf, len)); \
    }

DEFINE_BUILDER(register_org, HRE_KIND_REGISTER_ORG, hre_register_org_payload)
DEFINE_BUILDER(appoint_admin, HRE_KIND_APPOINT_ADMIN, hre_appoint_admin_payload)
DEFINE_BUILDER(register_doctor, HRE_KIND_REGISTER_DOCTOR, hre_register_doctor_payload)
DEFINE_BUILDER(register_patient, HRE_KIND_REGISTER_PATIENT, hre_register_patient_payload)
DEFINE_BUILDER(suspend, HRE_KIND_SUSPEND, hre_suspend_payload)
DEFINE_BUILDER(rotate_key, HRE_KIND_ROTATE_KEY, hre_rotate_key_payload)
DEFINE_BUILDER(new_record, HRE_KIND_NEW_RECORD, hre_new_record_payload)
DEFINE_BUILDER(sign_record, HRE_KIND_SIGN_RECORD, hre_sign_record_payload)
DEFINE_BUILDER(grant, HRE_KIND_GRANT, hre_grant_payload)
DEFINE_BUILDER(revoke, HRE_KIND_REVOKE, hre_revoke_payload)
DEFINE_BUILDER(log_access, HRE_KIND_LOG_ACCESS, hre_log_access_payload)
DEFINE_BUILDER(register_node, HRE_KIND_REGISTER_NODE, hre_register_node_payload)
DEFINE_BUILDER(suspend_org, HRE_KIND_SUSPEND_ORG, hre_suspend_org_payload)
DEFINE_BUILDER(set_enc_key, HRE_KIND_SET_ENC_KEY, hre_set_enc_key_payload)
DEFINE_BUILDER(erase_record, HRE_KIND_ERASE_RECORD, hre_erase_record_payload)
