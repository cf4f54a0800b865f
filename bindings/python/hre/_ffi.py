"""Low-level ctypes declarations for libhre.so.1.

Every function the Python package uses is declared ONCE here, in _FUNCS, as
(name, restype, argtypes). tests/python/test_bindings.py parses the C headers
in include/hre/ and fails if any declaration here disagrees with the header
(argument count, integer widths and signedness, pointer vs. value), so the
bindings cannot silently drift from the C API.
"""
import ctypes
import ctypes.util
import os

c_int, c_uint, c_size_t = ctypes.c_int, ctypes.c_uint, ctypes.c_size_t
c_u8, c_u16, c_u32, c_u64 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64
c_i64 = ctypes.c_int64
c_char_p, c_void_p = ctypes.c_char_p, ctypes.c_void_p
P = ctypes.POINTER
u8p = P(c_u8)          # uint8_t * / const uint8_t * / uint8_t[N]
handle = c_void_p      # opaque handle (hre_key *, hre_tx *, ...)
handle_out = P(c_void_p)  # hre_x **out


class HreHeader(ctypes.Structure):
    """Mirror of struct hre_header (include/hre/block.h)."""
    _c_name_ = "hre_header"
    _fields_ = [("version", c_u32), ("prev_hash", c_u8 * 32), ("merkle_root", c_u8 * 32),
                ("time", c_u32), ("bits", c_u32), ("nonce", c_u32)]


# --------------------------------------------------------------------------
# Every ctypes.Structure below names its C typedef in _c_name_;
# tests/python/test_bindings.py compares field names, order, kinds, sizes and
# offsets with a parse of that typedef. Versioned structs: never fill them by
# hand from zero; call the library's *_init(&x, VERSION) function (the
# HRE_*_INIT macros are not reachable from ctypes).
# _ptrlen_ maps a borrowed pointer field to (its count field, bytes per unit).
# --------------------------------------------------------------------------

# chain (block.h, merkle.h)
class HreChainParams(ctypes.Structure):
    _c_name_ = "hre_chain_params"
    _fields_ = [("version", c_uint), ("genesis", HreHeader), ("retarget_interval", c_u32),
                ("pow_limit", c_u8 * 32), ("target_spacing", c_i64),
                ("max_block_size", c_u64), ("max_tx_count", c_u64)]


class HreMerkleBranch(ctypes.Structure):
    _c_name_ = "hre_merkle_branch"
    _fields_ = [("index", c_u32), ("depth", c_u32), ("hashes", (c_u8 * 32) * 32)]


# storage (sys/storage.h)
class HreStoragePosixOptions(ctypes.Structure):
    _c_name_ = "hre_storage_posix_options"
    _fields_ = [("version", c_uint), ("flags", c_uint), ("dir_mode", c_uint), ("file_mode", c_uint)]


StorageListCb = ctypes.CFUNCTYPE(c_int, c_void_p, c_char_p)


# contract (contract.h): events, options, query results
class HreContractEvent(ctypes.Structure):
    _c_name_ = "hre_contract_event"
    _fields_ = [("version", c_uint), ("type", c_u16), ("kind", c_u16), ("flags", c_u32),
                ("detail", c_u8), ("seq", c_u64), ("time", c_u64), ("actor", c_u8 * 32),
                ("subject", c_u8 * 32), ("record_id", c_u8 * 32), ("org_id", c_u8 * 32),
                ("grant_id", c_u8 * 32)]


ContractEventFn = ctypes.CFUNCTYPE(None, c_void_p, P(HreContractEvent))


class HreContractOptions(ctypes.Structure):
    _c_name_ = "hre_contract_options"
    _fields_ = [("version", c_uint), ("network_id", c_u8 * 32), ("authority_key", c_u8 * 34),
                ("genesis_org_name", c_char_p), ("on_event", ContractEventFn),
                ("user_data", c_void_p), ("threads", c_uint), ("pool", c_void_p)]


class HreContractAccount(ctypes.Structure):
    _c_name_ = "hre_contract_account"
    _fields_ = [("version", c_uint), ("address", c_u8 * 32), ("key", c_u8 * 34), ("role", c_u8),
                ("status", c_u8), ("org_type", c_u8), ("has_org", c_u8), ("org_id", c_u8 * 32),
                ("nonce", c_u64), ("record_count", c_u64), ("grant_count", c_u64),
                ("org_status", c_u8), ("has_enc_key", c_u8), ("enc_key", c_u8 * 34)]


class HreContractOrg(ctypes.Structure):
    _c_name_ = "hre_contract_org"
    _fields_ = [("version", c_uint), ("org_id", c_u8 * 32), ("type", c_u8), ("name_len", c_u8),
                ("name", ctypes.c_char * 65), ("status", c_u8), ("has_enc_key", c_u8),
                ("enc_key", c_u8 * 34)]


class HreContractRecord(ctypes.Structure):
    _c_name_ = "hre_contract_record"
    _fields_ = [("version", c_uint), ("id", c_u8 * 32), ("patient", c_u8 * 32),
                ("issuer_org", c_u8 * 32), ("lab_org", c_u8 * 32),
                ("commit_patient_id", c_u8 * 32), ("commit_test_name", c_u8 * 32),
                ("doc_sha256", c_u8 * 32), ("date", c_u64), ("price", c_u64),
                ("category", c_u8), ("is_valid", c_u8), ("signature_count", c_u8),
                ("has_issuer_signer", c_u8), ("has_lab_signer", c_u8), ("has_supersedes", c_u8),
                ("issuer_signer", c_u8 * 32), ("lab_signer", c_u8 * 32), ("supersedes", c_u8 * 32),
                ("locator", c_u8 * 32), ("erased", c_u8), ("hospital_name_len", c_u8),
                ("hospital_name", ctypes.c_char * 65), ("erased_time", c_u64)]


class HreContractGrant(ctypes.Structure):
    _c_name_ = "hre_contract_grant"
    _fields_ = [("version", c_uint), ("id", c_u8 * 32), ("patient", c_u8 * 32),
                ("reader_type", c_u8), ("scope", c_u8), ("category", c_u8), ("revoked", c_u8),
                ("reader", c_u8 * 32), ("record_count", c_u32), ("envelope_len", c_u32),
                ("expiry", c_u64), ("created_time", c_u64), ("revoked_time", c_u64)]


class HreContractStats(ctypes.Structure):
    _c_name_ = "hre_contract_stats"
    _fields_ = [("version", c_uint), ("accounts", c_u64), ("keys", c_u64), ("orgs", c_u64),
                ("records", c_u64), ("grants", c_u64), ("events", c_u64), ("undo_depth", c_u64)]


# contract payloads (one per tx kind; pointer fields are borrowed)
class HreRegisterOrgPayload(ctypes.Structure):
    _c_name_ = "hre_register_org_payload"
    _ptrlen_ = {"name": ("name_len", 1)}
    _fields_ = [("org_type", c_u8), ("name", u8p), ("name_len", c_size_t), ("admin_key", c_u8 * 34)]


class HreAppointAdminPayload(ctypes.Structure):
    _c_name_ = "hre_appoint_admin_payload"
    _fields_ = [("org_id", c_u8 * 32), ("admin_key", c_u8 * 34)]


class HreRegisterDoctorPayload(ctypes.Structure):
    _c_name_ = "hre_register_doctor_payload"
    _fields_ = [("doctor_key", c_u8 * 34)]


class HreRegisterPatientPayload(ctypes.Structure):
    _c_name_ = "hre_register_patient_payload"
    _fields_ = [("reserved", c_u8)]


class HreSuspendPayload(ctypes.Structure):
    _c_name_ = "hre_suspend_payload"
    _fields_ = [("target", c_u8 * 32), ("action", c_u8)]


class HreRotateKeyPayload(ctypes.Structure):
    _c_name_ = "hre_rotate_key_payload"
    _fields_ = [("target", c_u8 * 32), ("new_key", c_u8 * 34)]


class HreNewRecordPayload(ctypes.Structure):
    _c_name_ = "hre_new_record_payload"
    _ptrlen_ = {"hospital_name": ("hospital_name_len", 1)}
    _fields_ = [("patient", c_u8 * 32), ("lab_org", c_u8 * 32), ("commit_patient_id", c_u8 * 32),
                ("commit_test_name", c_u8 * 32), ("date", c_u64), ("price", c_u64),
                ("category", c_u8), ("doc_sha256", c_u8 * 32),
                ("hospital_name", u8p), ("hospital_name_len", c_size_t),
                ("locator", c_u8 * 32),
                ("has_supersedes", c_u8), ("supersedes", c_u8 * 32)]


class HreSignRecordPayload(ctypes.Structure):
    _c_name_ = "hre_sign_record_payload"
    _fields_ = [("record_id", c_u8 * 32)]


class HreGrantPayload(ctypes.Structure):
    _c_name_ = "hre_grant_payload"
    _ptrlen_ = {"record_ids": ("record_count", 32), "envelope": ("envelope_len", 1)}
    _fields_ = [("reader_type", c_u8), ("reader", c_u8 * 32), ("scope", c_u8), ("category", c_u8),
                ("record_ids", u8p), ("record_count", c_size_t), ("expiry", c_u64),
                ("envelope", u8p), ("envelope_len", c_size_t)]


class HreRevokePayload(ctypes.Structure):
    _c_name_ = "hre_revoke_payload"
    _fields_ = [("grant_id", c_u8 * 32)]


class HreLogAccessPayload(ctypes.Structure):
    _c_name_ = "hre_log_access_payload"
    _fields_ = [("record_id", c_u8 * 32), ("purpose", c_u8)]


# tx kind number -> (payload name used in the C function names, payload struct)
PAYLOADS = {
    1: ("register_org", HreRegisterOrgPayload),
    2: ("appoint_admin", HreAppointAdminPayload),
    3: ("register_doctor", HreRegisterDoctorPayload),
    4: ("register_patient", HreRegisterPatientPayload),
    5: ("suspend", HreSuspendPayload),
    6: ("rotate_key", HreRotateKeyPayload),
    7: ("new_record", HreNewRecordPayload),
    8: ("sign_record", HreSignRecordPayload),
    9: ("grant", HreGrantPayload),
    10: ("revoke", HreRevokePayload),
    11: ("log_access", HreLogAccessPayload),
}


# ledger (ledger.h)
class HreLedgerEvent(ctypes.Structure):
    _c_name_ = "hre_ledger_event"
    _fields_ = [("version", c_uint), ("type", c_uint), ("height", c_u64),
                ("block_hash", c_u8 * 32), ("tx_count", c_u32), ("tx_index", c_u32),
                ("contract", P(HreContractEvent))]


LedgerEventFn = ctypes.CFUNCTYPE(None, c_void_p, P(HreLedgerEvent))
LogFn = ctypes.CFUNCTYPE(None, c_void_p, c_int, c_char_p)
LedgerProgressFn = ctypes.CFUNCTYPE(c_int, c_void_p, c_u64, c_u64)


class HreLedgerOptions(ctypes.Structure):
    _c_name_ = "hre_ledger_options"
    _fields_ = [("version", c_uint), ("storage", c_void_p), ("params", P(HreChainParams)),
                ("authority_key", c_u8 * 34), ("genesis_org_name", c_char_p),
                ("verify_threads", c_uint), ("on_event", LedgerEventFn), ("user_data", c_void_p),
                ("snapshot_interval", c_u32), ("max_reorg_depth", c_u32), ("max_orphans", c_u32),
                ("max_side_blocks", c_u32), ("mempool_max_txs", c_u32), ("segment_size", c_u64),
                ("compress_level", c_int), ("log_fn", LogFn), ("log_user_data", c_void_p)]


# C callback typedef name -> its ctypes prototype (checked against the header).
CALLBACKS = {
    "hre_storage_list_cb": StorageListCb,
    "hre_contract_event_fn": ContractEventFn,
    "hre_ledger_event_fn": LedgerEventFn,
    "hre_ledger_progress_fn": LedgerProgressFn,
    "hre_log_fn": LogFn,
}

# Header constants the Python package relies on (checked against the #defines
# and enum values of include/hre).
CONSTANTS = {
    "HRE_OK": 0, "HRE_EINVAL": -1, "HRE_EDECODE": -2, "HRE_EVERIFY": -3, "HRE_EAUTH": -4,
    "HRE_ENOTFOUND": -5, "HRE_EEXISTS": -6, "HRE_ESTATE": -7, "HRE_ECORRUPT": -9,
    "HRE_EBUFSIZE": -11, "HRE_ECANCELED": -15, "HRE_EDECRYPT": -16, "HRE_EEXHAUSTED": -18, "HRE_EFATAL": -19,
    "HRE_CURVE_P256": 1, "HRE_CURVE_SECP256K1": 2,
    "HRE_CHAIN_PARAMS_VERSION": 1, "HRE_STORAGE_POSIX_OPTIONS_VERSION": 1,
    "HRE_STORAGE_POSIX_FULLSYNC": 1, "HRE_STORAGE_POSIX_NOSYNC": 2, "HRE_STORAGE_POSIX_NOLOCK": 4,
    "HRE_CONTRACT_EVENT_VERSION": 1, "HRE_CONTRACT_OPTIONS_VERSION": 3, "HRE_CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER": 1,
    "HRE_CONTRACT_ACCOUNT_VERSION": 2, "HRE_CONTRACT_ORG_VERSION": 2,
    "HRE_CONTRACT_RECORD_VERSION": 1, "HRE_CONTRACT_GRANT_VERSION": 1,
    "HRE_CONTRACT_STATS_VERSION": 1, "HRE_CONTRACT_NAME_MAX": 64,
    "HRE_LEDGER_EVENT_VERSION": 1, "HRE_LEDGER_OPTIONS_VERSION": 2,
    "HRE_LOG_ERROR": 1, "HRE_LOG_WARN": 2, "HRE_LOG_INFO": 3, "HRE_LOG_DEBUG": 4,
    "HRE_POW_ALL_NONCES": 1 << 32,
    "HRE_LEDGER_EVENT_CONTRACT": 1, "HRE_LEDGER_EVENT_BLOCK_CONNECTED": 2,
    "HRE_LEDGER_EVENT_BLOCK_DISCONNECTED": 3, "HRE_LEDGER_CONNECTED": 1,
    "HRE_LEDGER_ACCEPTED_TX": 5, "HRE_MERKLE_MAX_DEPTH": 32,
    "HRE_KIND_REGISTER_ORG": 1, "HRE_KIND_APPOINT_ADMIN": 2, "HRE_KIND_REGISTER_DOCTOR": 3,
    "HRE_KIND_REGISTER_PATIENT": 4, "HRE_KIND_SUSPEND": 5, "HRE_KIND_ROTATE_KEY": 6,
    "HRE_KIND_NEW_RECORD": 7, "HRE_KIND_SIGN_RECORD": 8, "HRE_KIND_GRANT": 9,
    "HRE_KIND_REVOKE": 10, "HRE_KIND_LOG_ACCESS": 11,
    "HRE_ORG_HOSPITAL": 1, "HRE_ORG_LAB": 2, "HRE_ORG_CLINIC": 3, "HRE_ORG_INSURER": 4,
    "HRE_ORG_RESEARCH": 5, "HRE_ORG_PHARMACY": 6,
    "HRE_ROLE_AUTHORITY": 1, "HRE_ROLE_ADMIN": 2, "HRE_ROLE_DOCTOR": 3, "HRE_ROLE_PATIENT": 4,
    "HRE_STATUS_ACTIVE": 0, "HRE_STATUS_SUSPENDED": 1,
    "HRE_SUSPEND_REINSTATE": 0, "HRE_SUSPEND_SUSPEND": 1,
    "HRE_READER_ACCOUNT": 0, "HRE_READER_ORG": 1,
    "HRE_SCOPE_ALL": 0, "HRE_SCOPE_CATEGORY": 1, "HRE_SCOPE_RECORDS": 2,
    "HRE_COMMIT_PATIENT_ID": 1, "HRE_COMMIT_TEST_NAME": 2,
    "HRE_EVENT_HAS_RECORD": 1, "HRE_EVENT_HAS_ORG": 2, "HRE_EVENT_HAS_GRANT": 4,
    "HRE_EVENT_ORG_REGISTERED": 1, "HRE_EVENT_ADMIN_APPOINTED": 2,
    "HRE_EVENT_DOCTOR_REGISTERED": 3, "HRE_EVENT_PATIENT_REGISTERED": 4,
    "HRE_EVENT_SUSPENDED": 5, "HRE_EVENT_REINSTATED": 6, "HRE_EVENT_KEY_ROTATED": 7,
    "HRE_EVENT_RECORD_CREATED": 8, "HRE_EVENT_RECORD_SIGNATURE": 9,
    "HRE_EVENT_RECORD_SIGNED": 10, "HRE_EVENT_GRANTED": 11, "HRE_EVENT_REVOKED": 12,
    "HRE_EVENT_ACCESS_LOGGED": 13,
}


_FUNCS = [
    # core
    ("hre_version_string", c_char_p, []),
    ("hre_version_number", c_u32, []),
    ("hre_strerror", c_char_p, [c_int]),
    ("hre_error_detail", c_char_p, []),
    ("hre_error_last", c_int, []),
    ("hre_error_clear", None, []),
    ("hre_hex_encode", c_int, [c_char_p, P(c_size_t), u8p, c_size_t]),
    ("hre_hex_decode", c_int, [u8p, P(c_size_t), c_char_p, c_size_t]),
    ("hre_wipe", None, [c_void_p, c_size_t]),
    ("hre_pool_new", c_int, [handle_out, c_uint]),
    ("hre_pool_free", None, [handle]),
    ("hre_pool_threads", c_uint, [handle]),
    # hashing
    ("hre_sha256", c_int, [u8p, c_void_p, c_size_t]),
    ("hre_sha256d", c_int, [u8p, c_void_p, c_size_t]),
    ("hre_hmac_sha256", c_int, [u8p, u8p, c_size_t, c_void_p, c_size_t]),
    ("hre_hkdf_sha256", c_int, [u8p, c_size_t, u8p, c_size_t, u8p, c_size_t, u8p, c_size_t]),
    ("hre_ct_equal", c_int, [c_void_p, c_void_p, c_size_t]),
    ("hre_random_bytes", c_int, [u8p, c_size_t]),
    # keys and signatures
    ("hre_key_generate", c_int, [handle_out, c_int]),
    ("hre_key_free", None, [handle]),
    ("hre_key_curve", c_int, [handle]),
    ("hre_key_pubkey", c_int, [handle, handle_out]),
    ("hre_key_export_pem", c_int, [handle, c_char_p, P(c_size_t), c_char_p, c_size_t]),
    ("hre_key_import_pem", c_int, [handle_out, c_char_p, c_size_t, c_char_p, c_size_t]),
    ("hre_pubkey_parse", c_int, [handle_out, c_int, u8p, c_size_t]),
    ("hre_pubkey_serialize", c_int, [handle, u8p, P(c_size_t), c_int]),
    ("hre_pubkey_serialize_wire", c_int, [handle, u8p]),
    ("hre_pubkey_parse_wire", c_int, [handle_out, u8p]),
    ("hre_pubkey_curve", c_int, [handle]),
    ("hre_pubkey_free", None, [handle]),
    ("hre_key_sign", c_int, [handle, u8p, u8p]),
    ("hre_pubkey_verify", c_int, [handle, u8p, u8p]),
    ("hre_sig_parse_der", c_int, [u8p, c_int, u8p, c_size_t]),
    ("hre_sig_serialize_der", c_int, [u8p, P(c_size_t), c_int, u8p]),
    ("hre_sig_normalize", c_int, [u8p, c_int]),
    ("hre_keycache_new", c_int, [handle_out, c_size_t]),
    ("hre_keycache_free", None, [handle]),
    ("hre_keycache_get", c_int, [handle, handle_out, u8p]),
    ("hre_keycache_stats", None, [handle, P(c_u64), P(c_u64)]),
    # transactions
    ("hre_tx_new", c_int, [handle_out, u8p, c_u16, c_u64, c_u64, u8p, c_size_t]),
    ("hre_tx_sign", c_int, [handle, handle]),
    ("hre_tx_free", None, [handle]),
    ("hre_tx_encode", c_int, [handle, u8p, P(c_size_t)]),
    ("hre_tx_decode", c_int, [handle_out, u8p, c_size_t]),
    ("hre_tx_verify", c_int, [handle, handle, u8p]),
    ("hre_tx_verified", c_int, [handle]),
    ("hre_tx_verify_batch", c_int, [P(c_int), handle, handle, P(handle), c_size_t, u8p]),
    ("hre_tx_txid", c_int, [handle, u8p]),
    ("hre_tx_kind", c_u16, [handle]),
    ("hre_tx_nonce", c_u64, [handle]),
    ("hre_tx_timestamp", c_u64, [handle]),
    ("hre_tx_payload", u8p, [handle, P(c_size_t)]),
    # chain primitives
    ("hre_header_decode", c_int, [P(HreHeader), u8p, c_size_t]),
    ("hre_header_encode", c_int, [P(HreHeader), u8p]),
    ("hre_header_hash", c_int, [P(HreHeader), u8p]),
    ("hre_merkle_root", c_int, [u8p, P(c_int), u8p, c_size_t]),
    ("hre_pow_target_from_compact", c_int, [u8p, P(c_int), P(c_int), c_u32]),
    ("hre_pow_target_to_compact", c_int, [P(c_u32), u8p]),
    ("hre_pow_check", c_int, [P(HreHeader), u8p]),
    ("hre_pow_retarget", c_int, [P(c_u32), c_u32, c_i64, c_i64, u8p]),
    ("hre_pow_mine", c_int, [P(HreHeader), P(c_u64), c_u64]),
    ("hre_chain_params_init", c_int, [P(HreChainParams), c_uint]),
    ("hre_chain_params_bitcoin_mainnet", c_int, [P(HreChainParams)]),
    ("hre_chain_params_check", c_int, [P(HreChainParams)]),
    ("hre_merkle_branch_verify", c_int, [P(HreMerkleBranch), u8p, u8p]),
    ("hre_merkle_branch_root", c_int, [P(HreMerkleBranch), u8p, u8p]),
    # storage
    ("hre_storage_posix_options_init", c_int, [P(HreStoragePosixOptions), c_uint]),
    ("hre_storage_posix_open", c_int, [handle_out, c_char_p, P(HreStoragePosixOptions)]),
    ("hre_storage_memory_new", c_int, [handle_out, c_u64]),
    ("hre_storage_free", None, [handle]),
    ("hre_storage_list", c_int, [handle, StorageListCb, c_void_p]),
    ("hre_storage_remove", c_int, [handle, c_char_p]),
    ("hre_storage_sync_dir", c_int, [handle]),
    # record contract: lifetime, apply/undo, state hash
    ("hre_contract_options_init", c_int, [P(HreContractOptions), c_uint]),
    ("hre_contract_new", c_int, [handle_out, P(HreContractOptions)]),
    ("hre_contract_free", None, [handle]),
    ("hre_contract_set_event_callback", None, [handle, ContractEventFn, c_void_p]),
    ("hre_contract_apply", c_int, [handle, handle, c_u64, c_uint]),
    ("hre_contract_undo", c_int, [handle]),
    ("hre_contract_undo_depth", c_size_t, [handle]),
    ("hre_contract_state_hash", c_int, [handle, u8p]),
    # record contract: queries
    ("hre_contract_address", c_int, [u8p, u8p]),
    ("hre_contract_genesis_org_id", c_int, [u8p, u8p]),
    ("hre_contract_account_get", c_int, [handle, P(HreContractAccount), u8p]),
    ("hre_contract_account_by_key", c_int, [handle, P(HreContractAccount), P(c_int), u8p]),
    ("hre_contract_org_get", c_int, [handle, P(HreContractOrg), u8p]),
    ("hre_contract_record_get", c_int, [handle, P(HreContractRecord), u8p]),
    ("hre_contract_records_by_patient", c_int, [handle, u8p, P(c_size_t), u8p]),
    ("hre_contract_grants_by_patient", c_int, [handle, P(HreContractGrant), c_size_t, P(c_size_t), u8p]),
    ("hre_contract_grant_get", c_int, [handle, P(HreContractGrant), u8p]),
    ("hre_contract_grant_records", c_int, [handle, u8p, P(c_size_t), u8p]),
    ("hre_contract_grant_envelope", c_int, [handle, u8p, P(c_size_t), u8p]),
    ("hre_contract_record_events", c_int, [handle, P(HreContractEvent), c_size_t, P(c_size_t), u8p]),
    ("hre_contract_account_events", c_int, [handle, P(HreContractEvent), c_size_t, P(c_size_t), u8p]),
    ("hre_contract_can_access", c_int, [handle, u8p, u8p, c_u64]),
    ("hre_contract_stats_get", c_int, [handle, P(HreContractStats)]),
    ("hre_contract_commit", c_int, [u8p, c_u8, u8p, c_size_t, u8p, c_size_t]),
    ("hre_contract_check_commitment", c_int,
     [handle, u8p, u8p, c_size_t, u8p, c_size_t, u8p, c_size_t]),
    ("hre_contract_snapshot_save", c_int, [handle, u8p, P(c_size_t)]),
    ("hre_contract_snapshot_load", c_int, [handle_out, P(HreContractOptions), u8p, c_size_t]),
    # ledger
    ("hre_ledger_status_name", c_char_p, [c_int]),
    ("hre_ledger_options_init", c_int, [P(HreLedgerOptions), c_uint]),
    ("hre_ledger_open", c_int, [handle_out, P(HreLedgerOptions)]),
    ("hre_ledger_close", None, [handle]),
    ("hre_ledger_submit_tx", c_int, [handle, u8p, P(c_int), u8p, c_size_t, c_u64]),
    ("hre_ledger_mempool_count", c_size_t, [handle]),
    ("hre_ledger_mempool_contains", c_int, [handle, u8p]),
    ("hre_ledger_block_template", c_int, [handle, u8p, P(c_size_t), c_u64]),
    ("hre_ledger_mine", c_int, [handle, u8p, P(c_int), c_u64, c_u64]),
    ("hre_ledger_submit_block", c_int, [handle, P(c_int), u8p, c_size_t, c_u64]),
    ("hre_ledger_contract", c_int, [handle, handle_out]),
    ("hre_ledger_network_id", c_int, [handle, u8p]),
    ("hre_ledger_tip", c_int, [handle, P(c_u64), u8p]),
    ("hre_ledger_header_by_height", c_int, [handle, P(HreHeader), u8p, c_u64]),
    ("hre_ledger_block_by_height", c_int, [handle, u8p, P(c_size_t), c_u64]),
    ("hre_ledger_tx_proof", c_int, [handle, P(HreHeader), P(HreMerkleBranch), P(c_u64), u8p, c_u64]),
    ("hre_ledger_snapshot", c_int, [handle]),
    ("hre_ledger_verify_chain", c_int, [handle, P(c_u64), LedgerProgressFn, c_void_p]),
]

# The payload codecs and builders: three calls per tx kind, same shapes.
for _kind_name, _S in PAYLOADS.values():
    _FUNCS += [
        (f"hre_contract_encode_{_kind_name}", c_int, [P(_S), u8p, P(c_size_t)]),
        (f"hre_contract_decode_{_kind_name}", c_int, [P(_S), u8p, c_size_t]),
        (f"hre_contract_build_{_kind_name}", c_int, [handle_out, u8p, handle, c_u64, c_u64, P(_S)]),
    ]


def _find_library():
    env = os.environ.get("HRE_LIBRARY")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.path.join(here, "..", "..", "..", "build", "libhre.so.1"),):
        if os.path.exists(cand):
            return cand
    found = ctypes.util.find_library("hre")
    if found:
        return found
    return "libhre.so.1"


lib = ctypes.CDLL(_find_library())
for _name, _res, _args in _FUNCS:
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args
