/* Record contract: the commitments of the privacy rule (docs/PROTOCOL.md 5.3). */
#include "contract/internal.h"

HRE_API int hre_contract_commit(uint8_t out[32], uint8_t field, const uint8_t *salt, size_t saltlen,
                                const uint8_t *value, size_t len)
{
    HRE__API_SCOPE;
    uint8_t stackbuf[257];
    uint8_t *msg = stackbuf;
    int rc;
    if (!out) return hre__fail(HRE_EINVAL, "hre_contract_commit: NULL out");
    memset(out, 0, 32);
    if (!salt || (!value && len)) return hre__fail(HRE_EINVAL, "hre_contract_commit: NULL argument");
    if (field != HRE_COMMIT_PATIENT_ID && field != HRE_COMMIT_TEST_NAME)
        return hre__fail(HRE_EINVAL, "hre_contract_commit: unknown field %u", (unsigned)field);
    if (saltlen < HRE_CONTRACT_SALT_MIN || saltlen > HRE_CONTRACT_SALT_MAX)
        return hre__fail(HRE_EINVAL, "hre_contract_commit: salt must be %d..%d bytes",
                         HRE_CONTRACT_SALT_MIN, HRE_CONTRACT_SALT_MAX);
    if (len > 65536) return hre__fail(HRE_ELIMIT, "hre_contract_commit: value over 65536 bytes");
    if (len + 1 > sizeof stackbuf) {
        msg = hre__malloc(len + 1);
        if (!msg) return hre__fail(HRE_ENOMEM, "hre_contract_commit: out of memory");
    }
    msg[0] = field;
    if (len) memcpy(msg + 1, value, len);
    rc = hre_hmac_sha256(out, salt, saltlen, msg, len + 1);
    hre_wipe(msg, len + 1);   /* the cleartext is PHI */
    if (msg != stackbuf) hre__free(msg);
    return hre__api_done(rc);
}

HRE_API int hre_contract_check_commitment(const hre_contract *c, const uint8_t record_id[32],
                                          const uint8_t *salt, size_t saltlen,
                                          const uint8_t *patient_id, size_t patient_id_len,
                                          const uint8_t *test_name, size_t test_name_len)
{
    HRE__API_SCOPE;
    uint8_t a[32], b[32];
    uint32_t ri;
    int rc, ok;
    if (!c || !record_id) return hre__fail(HRE_EINVAL, "hre_contract_check_commitment: NULL argument");
    ri = hre_contract__find(c, HRE_C_T_RECORD, record_id);
    if (ri == HRE_C_NONE) return hre__fail(HRE_ENOTFOUND, "check_commitment: no such record");
    if ((rc = hre_contract_commit(a, HRE_COMMIT_PATIENT_ID, salt, saltlen, patient_id, patient_id_len)) != HRE_OK)
        return hre__api_done(rc);
    if ((rc = hre_contract_commit(b, HRE_COMMIT_TEST_NAME, salt, saltlen, test_name, test_name_len)) != HRE_OK)
        return hre__api_done(rc);
    ok = hre_ct_equal(a, c->records.v[ri].c_pid, 32) & hre_ct_equal(b, c->records.v[ri].c_test, 32);
    hre_wipe(a, 32);
    hre_wipe(b, 32);
    if (!ok) return hre__fail(HRE_EVERIFY, "check_commitment: cleartext does not match the record's commitments");
    return hre__api_done(HRE_OK);
}
