/*
 * Fuzz target: every record-contract payload decoder. The first input byte
 * selects the kind (1..HRE_KIND_MAX, taken modulo); the rest is the payload.
 * Invariant: whatever decodes must re-encode to exactly the same bytes
 * (the codecs are canonical), and the encoder must accept the decoded struct.
 */
#include <stdlib.h>
#include <string.h>

#include "hre/hre.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROUNDTRIP(name, type)                                                   \
    do {                                                                        \
        type p;                                                                 \
        uint8_t out[4096];                                                      \
        size_t olen = sizeof out;                                               \
        if (hre_contract_decode_##name(&p, in, len) != HRE_OK) return 0;        \
        if (hre_contract_encode_##name(&p, out, &olen) != HRE_OK) abort();      \
        if (olen != len || memcmp(out, in, len) != 0) abort();                  \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *in;
    size_t len;
    if (size < 1) return 0;
    in = data + 1;
    len = size - 1;
    switch (1 + data[0] % HRE_KIND_MAX) {
    case HRE_KIND_REGISTER_ORG: ROUNDTRIP(register_org, hre_register_org_payload); break;
    case HRE_KIND_APPOINT_ADMIN: ROUNDTRIP(appoint_admin, hre_appoint_admin_payload); break;
    case HRE_KIND_REGISTER_DOCTOR: ROUNDTRIP(register_doctor, hre_register_doctor_payload); break;
    case HRE_KIND_REGISTER_PATIENT: ROUNDTRIP(register_patient, hre_register_patient_payload); break;
    case HRE_KIND_SUSPEND: ROUNDTRIP(suspend, hre_suspend_payload); break;
    case HRE_KIND_ROTATE_KEY: ROUNDTRIP(rotate_key, hre_rotate_key_payload); break;
    case HRE_KIND_NEW_RECORD: ROUNDTRIP(new_record, hre_new_record_payload); break;
    case HRE_KIND_SIGN_RECORD: ROUNDTRIP(sign_record, hre_sign_record_payload); break;
    case HRE_KIND_GRANT: ROUNDTRIP(grant, hre_grant_payload); break;
    case HRE_KIND_REVOKE: ROUNDTRIP(revoke, hre_revoke_payload); break;
    case HRE_KIND_LOG_ACCESS: ROUNDTRIP(log_access, hre_log_access_payload); break;
    case HRE_KIND_REGISTER_NODE: ROUNDTRIP(register_node, hre_register_node_payload); break;
    case HRE_KIND_SUSPEND_ORG: ROUNDTRIP(suspend_org, hre_suspend_org_payload); break;
    case HRE_KIND_SET_ENC_KEY: ROUNDTRIP(set_enc_key, hre_set_enc_key_payload); break;
    case HRE_KIND_ERASE_RECORD: ROUNDTRIP(erase_record, hre_erase_record_payload); break;
    default: abort();   /* 1 + x % HRE_KIND_MAX is always a kind */
    }
    return 0;
}
