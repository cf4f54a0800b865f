"""Low-level ctypes declarations for libhre.so.1, and loading it.

Loading: HRE_LIBRARY, when set, names the library file to load (and nothing
else is tried: an override that silently fell back to another copy would
run the wrong library). Otherwise the installed library is loaded by its
soname, libhre.so.1, through the dynamic loader (LD_LIBRARY_PATH, the ld.so
cache); ctypes.util.find_library("hre") is tried next, but only a name with
the same soname is accepted (a libhre.so.2 would have another ABI). When
nothing loads, ImportError names what was tried (HRE_LIBRARY and
libhre.so.1) and why each failed.

Every function the Python package uses is declared ONCE here, in _FUNCS, as
(name, restype, argtypes). tests/python/test_bindings.py parses the C headers
in include/hre/ and fails if any declaration here disagrees with the header
(argument count, integer widths and signedness, pointer vs. value), so the
bindings cannot silently drift from the C API.
"""
import ctypes
import ctypes.util
import os

SONAME = "libhre.so.1"

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


class HreContractAccess(ctypes.Structure):
    _c_name_ = "hre_contract_access"
    _fields_ = [("version", c_uint), ("reason", c_u8), ("basis", c_u8), ("has_grant", c_u8),
                ("grant_id", c_u8 * 32)]


class HreContractNode(ctypes.Structure):
    _c_name_ = "hre_contract_node"
    _fields_ = [("version", c_uint), ("reason", c_u8), ("has_account", c_u8), ("role", c_u8),
                ("org_type", c_u8), ("address", c_u8 * 32), ("org_id", c_u8 * 32)]


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


class HreRegisterNodePayload(ctypes.Structure):
    _c_name_ = "hre_register_node_payload"
    _fields_ = [("node_key", c_u8 * 34)]


class HreSuspendOrgPayload(ctypes.Structure):
    _c_name_ = "hre_suspend_org_payload"
    _fields_ = [("org_id", c_u8 * 32), ("action", c_u8)]


class HreSetEncKeyPayload(ctypes.Structure):
    _c_name_ = "hre_set_enc_key_payload"
    _fields_ = [("target_type", c_u8), ("target", c_u8 * 32), ("enc_key", c_u8 * 34)]


class HreEraseRecordPayload(ctypes.Structure):
    _c_name_ = "hre_erase_record_payload"
    _fields_ = [("record_id", c_u8 * 32)]


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
    12: ("register_node", HreRegisterNodePayload),
    13: ("suspend_org", HreSuspendOrgPayload),
    14: ("set_enc_key", HreSetEncKeyPayload),
    15: ("erase_record", HreEraseRecordPayload),
}


# ledger (ledger.h)
class HreLedgerEvent(ctypes.Structure):
    _c_name_ = "hre_ledger_event"
    _fields_ = [("version", c_uint), ("type", c_uint), ("height", c_u64),
                ("block_hash", c_u8 * 32), ("tx_count", c_u32), ("tx_index", c_u32),
                ("contract", P(HreContractEvent)), ("seq", c_u64)]


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
                ("compress_level", c_int), ("log_fn", LogFn), ("log_user_data", c_void_p),
                ("pool", c_void_p), ("network", c_void_p), ("flags", c_uint),
                ("max_journal_events", c_u32)]


class HreLedgerBlockInfo(ctypes.Structure):
    _c_name_ = "hre_ledger_block_info"
    _fields_ = [("version", c_uint), ("header", HreHeader), ("height", c_u64), ("work", c_u8 * 32),
                ("on_main", c_int), ("invalid", c_int), ("tx_count", c_u32)]


# node (node.h, sys/transport.h)
class HreNodeEvent(ctypes.Structure):
    _c_name_ = "hre_node_event"
    _fields_ = [("version", c_uint), ("type", c_uint), ("conn", c_u64), ("reason", c_int),
                ("discouraged", c_int), ("member", c_int), ("detail", c_char_p),
                ("hash", c_u8 * 32), ("ledger", P(HreLedgerEvent)), ("now", c_u64)]


NodeEventFn = ctypes.CFUNCTYPE(None, c_void_p, P(HreNodeEvent))
# the transport's methods are struct members, not typedefs
TransportSendFn = ctypes.CFUNCTYPE(c_int, c_void_p, c_u64, u8p, c_size_t, P(c_size_t))
TransportConnectFn = ctypes.CFUNCTYPE(c_int, c_void_p, P(c_u64), c_char_p)
TransportCloseFn = ctypes.CFUNCTYPE(None, c_void_p, c_u64, c_int)


class HreTransportMethods(ctypes.Structure):
    _c_name_ = "hre_transport_methods"
    _fields_ = [("version", c_uint), ("send", TransportSendFn), ("connect", TransportConnectFn),
                ("close", TransportCloseFn)]


class HreNodeOptions(ctypes.Structure):
    _c_name_ = "hre_node_options"
    _fields_ = [("version", c_uint), ("ledger", c_void_p), ("identity", c_void_p),
                ("transport", P(HreTransportMethods)), ("transport_user_data", c_void_p),
                ("on_event", NodeEventFn), ("user_data", c_void_p), ("log_fn", LogFn),
                ("log_user_data", c_void_p), ("max_peers", c_u32), ("target_outbound", c_u32),
                ("max_memory", c_u64), ("peer_send_max", c_u32), ("max_headers", c_u32),
                ("max_headers_per_peer", c_u32), ("block_window", c_u32),
                ("blocks_in_flight", c_u32), ("block_buffer_max", c_u32),
                ("stall_timeout_ms", c_u32), ("stall_timeout_max_ms", c_u32),
                ("handshake_timeout_ms", c_u32), ("ping_interval_ms", c_u32),
                ("ping_timeout_ms", c_u32), ("request_timeout_ms", c_u32),
                ("max_discouraged", c_u32), ("app_max_message", c_u32), ("app_rate_msgs", c_u32),
                ("app_rate_bytes", c_u32), ("work_budget", c_u32), ("submit_batch", c_u32),
                ("reconnect_ms", c_u32)]


class HreNodeAppMessage(ctypes.Structure):
    _c_name_ = "hre_node_app_message"
    _ptrlen_ = {"data": ("len", 1)}
    _fields_ = [("version", c_uint), ("app_type", c_u16), ("conn", c_u64), ("data", u8p),
                ("len", c_size_t), ("peer_key", c_u8 * 34), ("peer_address", c_u8 * 32),
                ("peer_org", c_u8 * 32), ("handshake_hash", c_u8 * 32), ("now", c_u64)]


NodeAppFn = ctypes.CFUNCTYPE(None, c_void_p, c_void_p, P(HreNodeAppMessage))


class HreNodePeerInfo(ctypes.Structure):
    _c_name_ = "hre_node_peer_info"
    _fields_ = [("version", c_uint), ("conn", c_u64), ("address", ctypes.c_char * 256),
                ("flags", c_uint), ("state", c_int), ("has_identity", c_int),
                ("identity_key", c_u8 * 34), ("member", c_int), ("member_address", c_u8 * 32),
                ("org_id", c_u8 * 32), ("handshake_hash", c_u8 * 32), ("best_height", c_u64),
                ("connected_at", c_u64), ("last_recv", c_u64), ("bytes_sent", c_u64),
                ("bytes_received", c_u64), ("messages_received", c_u64), ("mem_used", c_u64),
                ("blocks_in_flight", c_u32), ("headers_held", c_u32), ("send_queued", c_u64)]


class HreNodeDiscouraged(ctypes.Structure):
    _c_name_ = "hre_node_discouraged"
    _fields_ = [("version", c_uint), ("reason", c_int), ("has_key", c_int), ("key", c_u8 * 34),
                ("address", ctypes.c_char * 256), ("time", c_u64)]


class HreNodeStats(ctypes.Structure):
    _c_name_ = "hre_node_stats"
    _fields_ = [("version", c_uint), ("member", c_int), ("peers", c_u32), ("peers_ready", c_u32),
                ("peers_outbound", c_u32), ("mem_used", c_u64), ("mem_peak", c_u64),
                ("mem_cap", c_u64), ("headers_held", c_u32), ("blocks_in_flight", c_u32),
                ("blocks_buffered", c_u32), ("tip_height", c_u64), ("best_header_height", c_u64),
                ("synced", c_int), ("discouraged", c_u32), ("bytes_sent", c_u64),
                ("bytes_received", c_u64), ("blocks_received", c_u64), ("txs_received", c_u64),
                ("messages_deferred", c_u64), ("stall_timeout_ms", c_u32)]


# vault (vault.h), since 1.1
class HreVaultWrap(ctypes.Structure):
    _c_name_ = "hre_vault_wrap"
    _fields_ = [("doc_hash", c_u8 * 32), ("locator", c_u8 * 32), ("doc_version", c_u32),
                ("mode", c_u8), ("reader_type", c_u8), ("reader_id", c_u8 * 32),
                ("sender_type", c_u8), ("sender_id", c_u8 * 32), ("sender_key", c_u8 * 34),
                ("hpke", c_u8 * 113)]


class HreVaultContent(ctypes.Structure):
    _c_name_ = "hre_vault_content"
    _fields_ = [("version", c_uint), ("doc_hash", c_u8 * 32), ("doc_len", c_u64),
                ("payload_len", c_u64), ("padded_len", c_u64), ("envelope_len", c_u64),
                ("compressed", c_u8), ("media_type_len", c_u8), ("media_type", ctypes.c_char * 128)]


VaultSinkFn = ctypes.CFUNCTYPE(c_int, c_void_p, u8p, c_size_t)


class HreVaultSealParams(ctypes.Structure):
    _c_name_ = "hre_vault_seal_params"
    _fields_ = [("version", c_uint), ("locator", c_u8 * 32), ("doc_version", c_u32),
                ("media_type", c_char_p), ("compress", c_int), ("compress_level", c_int),
                ("sender_type", c_u8), ("sender_id", c_u8 * 32), ("sender_key", c_void_p)]


class HreVaultHeader(ctypes.Structure):
    _c_name_ = "hre_vault_header"
    _fields_ = [("format", c_u8), ("flags", c_u8), ("chunk_log2", c_u8), ("locator", c_u8 * 32),
                ("doc_version", c_u32), ("nonce_prefix", c_u8 * 7), ("key_commit", c_u8 * 32)]


class HreVaultOpenParams(ctypes.Structure):
    _c_name_ = "hre_vault_open_params"
    _fields_ = [("version", c_uint), ("wrap", P(HreVaultWrap)), ("reader_key", c_void_p),
                ("expected_sender", c_void_p), ("flags", c_uint), ("max_doc_len", c_u64)]


class HreVaultOptions(ctypes.Structure):
    _c_name_ = "hre_vault_options"
    _fields_ = [("version", c_uint), ("storage", c_void_p), ("prefix", c_char_p),
                ("log_fn", LogFn), ("log_user_data", c_void_p)]


class HreVaultEntry(ctypes.Structure):
    _c_name_ = "hre_vault_entry"
    _fields_ = [("version", c_uint), ("doc_hash", c_u8 * 32), ("locator", c_u8 * 32),
                ("doc_version", c_u32), ("state", c_u8), ("has_record", c_u8),
                ("record_id", c_u8 * 32), ("envelope_len", c_u64), ("wrap_count", c_u32)]


class HreVaultStats(ctypes.Structure):
    _c_name_ = "hre_vault_stats"
    _fields_ = [("version", c_uint), ("documents", c_u64), ("erased", c_u64),
                ("pending_erasures", c_u64), ("envelope_bytes", c_u64), ("index_bytes", c_u64),
                ("memory_bytes", c_u64), ("fatal", c_int)]


# vault document exchange (vault.h "Document exchange"), since 1.1
class HreVaultXchEvent(ctypes.Structure):
    _c_name_ = "hre_vault_xch_event"
    _fields_ = [("version", c_uint), ("type", c_uint), ("conn", c_u64), ("reason", c_int),
                ("code", c_int), ("record_id", c_u8 * 32), ("reader", c_u8 * 32),
                ("detail", c_char_p)]


VaultXchEventFn = ctypes.CFUNCTYPE(None, c_void_p, P(HreVaultXchEvent))


class HreVaultXchOptions(ctypes.Structure):
    _c_name_ = "hre_vault_xch_options"
    _fields_ = [("version", c_uint), ("node", c_void_p), ("app_type", c_u16), ("vault", c_void_p),
                ("holder_type", c_u8), ("holder_id", c_u8 * 32), ("holder_key", c_void_p),
                ("fresh_ms", c_u32), ("replay_max", c_u32), ("max_transfers", c_u32),
                ("max_per_peer", c_u32), ("fetch_timeout_ms", c_u32), ("log_max_age_s", c_u32),
                ("on_event", VaultXchEventFn), ("user_data", c_void_p), ("log_fn", LogFn),
                ("log_user_data", c_void_p), ("audit_max", c_u32)]


class HreVaultXchStats(ctypes.Structure):
    _c_name_ = "hre_vault_xch_stats"
    _fields_ = [("version", c_uint), ("requests", c_u64), ("refused", c_u64), ("served", c_u64),
                ("bytes_sent", c_u64), ("transfers", c_u64), ("stalls", c_u64),
                ("replay_entries", c_u64), ("fetches", c_u64), ("audit_failures", c_u64)]


class HreVaultXchAudit(ctypes.Structure):
    _c_name_ = "hre_vault_xch_audit"
    _fields_ = [("version", c_uint), ("seq", c_u64), ("time_ms", c_u64), ("conn", c_u64),
                ("reason", c_u8), ("access_reason", c_u8), ("flags", c_u8),
                ("peer_key", c_u8 * 34), ("reader", c_u8 * 32), ("record_id", c_u8 * 32),
                ("nonce", c_u8 * 16), ("request_hash", c_u8 * 32)]


class HreVaultXchRequest(ctypes.Structure):
    _c_name_ = "hre_vault_xch_request"
    _fields_ = [("nonce", c_u8 * 16), ("timestamp_ms", c_u64), ("reader_key", c_u8 * 34),
                ("record_id", c_u8 * 32), ("binding", c_u8 * 32), ("sig", c_u8 * 64)]


class HreVaultXchHeader(ctypes.Structure):
    _c_name_ = "hre_vault_xch_header"
    _fields_ = [("nonce", c_u8 * 16), ("envelope_len", c_u64), ("doc_hash", c_u8 * 32),
                ("wrap", HreVaultWrap)]


class HreVaultXchChunk(ctypes.Structure):
    _c_name_ = "hre_vault_xch_chunk"
    _ptrlen_ = {"data": ("len", 1)}
    _fields_ = [("nonce", c_u8 * 16), ("offset", c_u64), ("len", c_u32), ("data", u8p)]


class HreVaultXchRefusal(ctypes.Structure):
    _c_name_ = "hre_vault_xch_refusal"
    _fields_ = [("nonce", c_u8 * 16), ("reason", c_u8), ("access_reason", c_u8)]


class HreVaultFetchParams(ctypes.Structure):
    _c_name_ = "hre_vault_fetch_params"
    _fields_ = [("version", c_uint), ("conn", c_u64), ("record_id", c_u8 * 32),
                ("sign_key", c_void_p), ("enc_key", c_void_p), ("max_doc_len", c_u64)]


# C callback typedef name -> its ctypes prototype (checked against the header).
CALLBACKS = {
    "hre_vault_sink_fn": VaultSinkFn,
    "hre_vault_xch_event_fn": VaultXchEventFn,
    "hre_node_event_fn": NodeEventFn,
    "hre_node_app_fn": NodeAppFn,
    "hre_storage_list_cb": StorageListCb,
    "hre_contract_event_fn": ContractEventFn,
    "hre_ledger_event_fn": LedgerEventFn,
    "hre_ledger_progress_fn": LedgerProgressFn,
    "hre_log_fn": LogFn,
}

# Header constants the Python package relies on (checked against the #defines
# and enum values of include/hre). Enumerated values (kinds, roles, event
# types, statuses, error codes, ...) are the IntEnums of _enums.py and the
# error table of _errors.py, checked there.
CONSTANTS = {
    "HRE_OK": 0,
    "HRE_CHAIN_PARAMS_VERSION": 1, "HRE_STORAGE_POSIX_OPTIONS_VERSION": 1,
    "HRE_STORAGE_POSIX_FULLSYNC": 1, "HRE_STORAGE_POSIX_NOSYNC": 2, "HRE_STORAGE_POSIX_NOLOCK": 4,
    "HRE_CONTRACT_EVENT_VERSION": 1, "HRE_CONTRACT_OPTIONS_VERSION": 3,
    "HRE_CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER": 1,
    "HRE_CONTRACT_ACCOUNT_VERSION": 2, "HRE_CONTRACT_ORG_VERSION": 2,
    "HRE_CONTRACT_RECORD_VERSION": 1, "HRE_CONTRACT_GRANT_VERSION": 1,
    "HRE_CONTRACT_STATS_VERSION": 1, "HRE_CONTRACT_NAME_MAX": 64,
    "HRE_LEDGER_EVENT_VERSION": 2, "HRE_LEDGER_OPTIONS_VERSION": 3,
    "HRE_CONTRACT_ACCESS_VERSION": 1, "HRE_CONTRACT_NODE_VERSION": 1,
    "HRE_LEDGER_BLOCK_INFO_VERSION": 1, "HRE_LEDGER_OPEN_REPLAY_EVENTS": 1,
    "HRE_LEDGER_JOURNAL_OFF": 0xFFFFFFFF, "HRE_LEDGER_SNAPSHOTS_OFF": 0xFFFFFFFF,
    "HRE_NETWORK_FILE_MAX": 255,
    "HRE_NODE_EVENT_VERSION": 1, "HRE_NODE_OPTIONS_VERSION": 1, "HRE_NODE_PEER_INFO_VERSION": 1,
    "HRE_NODE_STATS_VERSION": 1, "HRE_NODE_DISCOURAGED_VERSION": 1,
    "HRE_NODE_APP_MESSAGE_VERSION": 1, "HRE_TRANSPORT_METHODS_VERSION": 1,
    "HRE_NODE_PEER_OUTBOUND": 1, "HRE_NODE_ADDR_PERSISTENT": 1,
    "HRE_NODE_ADDRESS_MAX": 255, "HRE_NODE_APP_MESSAGE_LIMIT": 1 << 20,
    "HRE_VAULT_OPTIONS_VERSION": 1, "HRE_VAULT_SEAL_PARAMS_VERSION": 1,
    "HRE_VAULT_CONTENT_VERSION": 1, "HRE_VAULT_ENTRY_VERSION": 1, "HRE_VAULT_STATS_VERSION": 1,
    "HRE_VAULT_PRESENT": 1, "HRE_VAULT_ERASED": 2, "HRE_VAULT_WRAP_LEN": 287,
    "HRE_VAULT_MEDIA_TYPE_MAX": 127, "HRE_VAULT_WRAPS_MAX": 256,
    "HRE_VAULT_XCH_OPTIONS_VERSION": 2, "HRE_VAULT_XCH_STATS_VERSION": 2,
    "HRE_VAULT_XCH_AUDIT_VERSION": 1, "HRE_VAULT_XCH_DEFAULT_AUDIT_MAX": 10000,
    "HRE_VAULT_XCH_AUDIT_MAX_LIMIT": 100000, "HRE_VAULT_XCH_AUDIT_HEADER_LEN": 64,
    "HRE_VAULT_XCH_AUDIT_RECORD_LEN": 192, "HRE_VAULT_XCH_AUDIT_HAS_PEER": 0x01,
    "HRE_VAULT_XCH_AUDIT_HAS_READER": 0x02, "HRE_VAULT_XCH_AUDIT_HAS_RECORD": 0x04,
    "HRE_VAULT_XCH_AUDIT_HAS_NONCE": 0x08,
    "HRE_VAULT_XCH_EVENT_VERSION": 1, "HRE_VAULT_FETCH_PARAMS_VERSION": 1,
    "HRE_VAULT_XCH_APP_TYPE": 0x0701, "HRE_VAULT_XCH_NONCE_LEN": 16,
    "HRE_VAULT_XCH_REQUEST_LEN": 188,
    "HRE_VAULT_OPEN_PARAMS_VERSION": 1, "HRE_VAULT_HEADER_LEN": 82, "HRE_VAULT_FORMAT": 1,
    "HRE_VAULT_CHUNK_LOG2": 16, "HRE_VAULT_CHUNK_LEN": 65536, "HRE_VAULT_CHUNK_DATA_LEN": 65532,
    "HRE_VAULT_CHUNK_WIRE_LEN": 65552, "HRE_VAULT_PAD_MIN": 512, "HRE_VAULT_NONCE_PREFIX_LEN": 7,
    "HRE_VAULT_OPEN_NO_HASH": 1, "HRE_VAULT_VERIFY_HASH": 1,
    "HRE_VAULT_XCH_FORMAT": 1, "HRE_VAULT_XCH_MSG_REQUEST": 1, "HRE_VAULT_XCH_MSG_HEADER": 2,
    "HRE_VAULT_XCH_MSG_CHUNK": 3, "HRE_VAULT_XCH_MSG_REFUSAL": 4,
    "HRE_VAULT_XCH_REQUEST_SIGNED_LEN": 124, "HRE_VAULT_XCH_HEADER_LEN": 345,
    "HRE_VAULT_XCH_CHUNK_OVERHEAD": 30, "HRE_VAULT_XCH_REFUSAL_LEN": 20,
    "HRE_VAULT_XCH_DEFAULT_RATE_PER_S": 50, "HRE_VAULT_XCH_DEFAULT_RATE_BURST": 100,
    "HRE_VAULT_XCH_RATE_BURST_MAX": 1000000,
    "HRE_PROOF_FORMAT": 1, "HRE_PROOF_MAX_HEADERS": 1 << 20, "HRE_PROOF_FIXED_LEN": 61,
    "HRE_POW_ALL_NONCES": 1 << 32,
    "HRE_MERKLE_MAX_DEPTH": 32, "HRE_MERKLE_BRANCH_MAX_LEN": 4 + 1 + 32 * 32,
    "HRE_AEAD_KEY_LEN": 32, "HRE_AEAD_NONCE_LEN": 12, "HRE_AEAD_TAG_LEN": 16,
    "HRE_AEAD_MAX_PLAINTEXT": 68719476704,
    "HRE_HPKE_KEM_ID": 0x10, "HRE_HPKE_KDF_ID": 1, "HRE_HPKE_AEAD_ID": 2, "HRE_HPKE_ENC_LEN": 65,
    "HRE_HPKE_TAG_LEN": 16, "HRE_HPKE_PSK_MIN": 32, "HRE_HPKE_INPUT_MAX": 65536,
    "HRE_HPKE_EXPORT_MAX": 8160, "HRE_HPKE_WRAP_KEY_LEN": 32, "HRE_HPKE_WRAP_LEN": 113,
    "HRE_ECDH_SHARED_LEN": 32,
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
    ("hre_hkdf_sha256_extract", c_int, [u8p, u8p, c_size_t, u8p, c_size_t]),
    ("hre_hkdf_sha256_expand", c_int, [u8p, c_size_t, u8p, c_size_t, u8p, c_size_t]),
    # authenticated encryption (aead.h) and HPKE (hpke.h), since 1.1
    ("hre_aead_new", c_int, [handle_out, u8p, c_size_t]),
    ("hre_aead_free", None, [handle]),
    ("hre_aead_seal", c_int, [handle, u8p, u8p, c_size_t, u8p, c_size_t, u8p, c_size_t, u8p, c_size_t]),
    ("hre_aead_open", c_int, [handle, u8p, u8p, c_size_t, u8p, c_size_t, u8p, c_size_t, u8p, c_size_t]),
    ("hre_hpke_setup_sender", c_int, [handle_out, u8p, c_int, handle, handle, u8p, c_size_t,
                                      u8p, c_size_t, u8p, c_size_t]),
    ("hre_hpke_setup_receiver", c_int, [handle_out, c_int, handle, handle, u8p, u8p, c_size_t,
                                        u8p, c_size_t, u8p, c_size_t]),
    ("hre_hpke_seal", c_int, [handle, u8p, P(c_size_t), u8p, c_size_t, u8p, c_size_t]),
    ("hre_hpke_open", c_int, [handle, u8p, P(c_size_t), u8p, c_size_t, u8p, c_size_t]),
    ("hre_hpke_export", c_int, [handle, u8p, c_size_t, u8p, c_size_t]),
    ("hre_hpke_free", None, [handle]),
    ("hre_hpke_derive_key", c_int, [handle_out, u8p, c_size_t]),
    ("hre_hpke_wrap", c_int, [u8p, handle, u8p, c_size_t, u8p, c_size_t, u8p]),
    ("hre_hpke_unwrap", c_int, [u8p, handle, u8p, c_size_t, u8p, c_size_t, u8p]),
    ("hre_hpke_wrap_auth", c_int, [u8p, handle, handle, u8p, c_size_t, u8p, c_size_t, u8p]),
    ("hre_hpke_unwrap_auth", c_int, [u8p, handle, handle, u8p, c_size_t, u8p, c_size_t, u8p]),
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
    ("hre_pubkey_equal", c_int, [handle, handle]),
    ("hre_key_ecdh", c_int, [handle, u8p, handle]),
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
    ("hre_tx_sender", u8p, [handle]),
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
    ("hre_merkle_branch_compute", c_int, [P(HreMerkleBranch), u8p, u8p, c_size_t, c_size_t]),
    ("hre_merkle_branch_encode", c_int, [P(HreMerkleBranch), u8p, P(c_size_t)]),
    ("hre_merkle_branch_decode", c_int, [P(HreMerkleBranch), u8p, c_size_t]),
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
    ("hre_contract_access_init", c_int, [P(HreContractAccess), c_uint]),
    ("hre_contract_node_init", c_int, [P(HreContractNode), c_uint]),
    ("hre_contract_access_check", c_int, [handle, P(HreContractAccess), u8p, u8p, c_u64]),
    ("hre_contract_node_status", c_int, [handle, P(HreContractNode), u8p]),
    ("hre_contract_enc_key_get", c_int, [handle, u8p, c_u8, u8p]),
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
    ("hre_ledger_mine", c_int, [handle, u8p, P(c_int), c_u64, c_u64, c_uint]),
    ("hre_ledger_submit_block", c_int, [handle, P(c_int), u8p, c_size_t, c_u64]),
    ("hre_ledger_contract", c_int, [handle, handle_out]),
    ("hre_ledger_network_id", c_int, [handle, u8p]),
    ("hre_ledger_tip", c_int, [handle, P(c_u64), u8p]),
    ("hre_ledger_header_by_height", c_int, [handle, P(HreHeader), u8p, c_u64]),
    ("hre_ledger_block_by_height", c_int, [handle, u8p, P(c_size_t), c_u64]),
    ("hre_ledger_tx_proof", c_int, [handle, P(HreHeader), P(HreMerkleBranch), P(c_u64), u8p, c_u64]),
    ("hre_ledger_snapshot", c_int, [handle]),
    ("hre_ledger_verify_chain", c_int, [handle, P(c_u64), LedgerProgressFn, c_void_p]),
    ("hre_ledger_next_nonce", c_int, [handle, P(c_u64), u8p, c_size_t]),
    ("hre_ledger_submit_blocks", c_int, [handle, P(c_size_t), P(c_int), P(u8p), P(c_size_t),
                                         c_size_t, c_u64]),
    ("hre_ledger_network", c_int, [handle, handle_out]),
    ("hre_ledger_tip_work", c_int, [handle, u8p]),
    ("hre_ledger_header_by_hash", c_int, [handle, P(HreHeader), P(c_u64), P(c_int), u8p]),
    ("hre_ledger_block_by_hash", c_int, [handle, u8p, P(c_size_t), u8p]),
    ("hre_ledger_events_since", c_int, [handle, P(HreLedgerEvent), c_size_t, P(c_size_t),
                                        c_u64, u8p]),
    ("hre_ledger_fingerprint", c_int, [handle, u8p]),
    ("hre_ledger_params", c_int, [handle, P(HreChainParams)]),
    ("hre_ledger_block_info_init", c_int, [P(HreLedgerBlockInfo), c_uint]),
    ("hre_ledger_block_info_get", c_int, [handle, P(HreLedgerBlockInfo), u8p]),
    ("hre_ledger_mempool_list", c_int, [handle, u8p, P(c_size_t), c_size_t]),
    ("hre_ledger_mempool_tx", c_int, [handle, u8p, P(c_size_t), u8p]),
    # network (network.h)
    ("hre_network_new", c_int, [handle_out, P(HreChainParams), u8p, c_char_p]),
    ("hre_network_new_private", c_int, [handle_out, u8p, c_char_p, c_u64]),
    ("hre_network_free", None, [handle]),
    ("hre_network_encode", c_int, [handle, u8p, P(c_size_t)]),
    ("hre_network_decode", c_int, [handle_out, u8p, c_size_t]),
    ("hre_network_params", c_int, [handle, P(HreChainParams)]),
    ("hre_network_id", c_int, [handle, u8p]),
    ("hre_network_authority_key", c_int, [handle, u8p]),
    ("hre_network_org_name", c_char_p, [handle]),
    # node (node.h) and its transport vtable (sys/transport.h), since 1.1
    ("hre_transport_methods_init", c_int, [P(HreTransportMethods), c_uint]),
    ("hre_node_reason_name", c_char_p, [c_int]),
    ("hre_node_reason_discourages", c_int, [c_int]),
    ("hre_node_options_init", c_int, [P(HreNodeOptions), c_uint]),
    ("hre_node_new", c_int, [handle_out, P(HreNodeOptions), c_u64]),
    ("hre_node_free", None, [handle]),
    ("hre_node_ledger", handle, [handle]),
    ("hre_node_fatal_error", c_int, [handle]),
    ("hre_node_peer_connected", c_int, [handle, c_u64, c_char_p, c_uint, c_u64]),
    ("hre_node_peer_recv", c_int, [handle, c_u64, u8p, c_size_t, c_u64]),
    ("hre_node_peer_writable", c_int, [handle, c_u64, c_u64]),
    ("hre_node_peer_closed", c_int, [handle, c_u64, c_u64]),
    ("hre_node_peer_disconnect", c_int, [handle, c_u64, c_u64]),
    ("hre_node_peer_want_read", c_int, [handle, c_u64]),
    ("hre_node_peer_pending", c_size_t, [handle, c_u64]),
    ("hre_node_peer_pull", c_int, [handle, c_u64, u8p, P(c_size_t)]),
    ("hre_node_pull", c_int, [handle, P(c_u64), u8p, P(c_size_t)]),
    ("hre_node_peer_list", c_int, [handle, P(c_u64), P(c_size_t)]),
    ("hre_node_peer_info_init", c_int, [P(HreNodePeerInfo), c_uint]),
    ("hre_node_peer_info_get", c_int, [handle, P(HreNodePeerInfo), c_u64]),
    ("hre_node_address_add", c_int, [handle, c_char_p, c_uint, c_u64]),
    ("hre_node_address_remove", c_int, [handle, c_char_p]),
    ("hre_node_connect", c_int, [handle, P(c_u64), c_char_p, c_u64]),
    ("hre_node_next_timer", c_int, [handle, P(c_u64)]),
    ("hre_node_tick", c_int, [handle, c_u64]),
    ("hre_node_submit_tx", c_int, [handle, u8p, P(c_int), u8p, c_size_t, c_u64]),
    ("hre_node_mine", c_int, [handle, u8p, P(c_int), c_u64, c_u64]),
    ("hre_node_app_register", c_int, [handle, c_u16, NodeAppFn, c_void_p]),
    ("hre_node_app_send", c_int, [handle, c_u64, c_u16, u8p, c_size_t, c_u64]),
    ("hre_node_app_send_space", c_int, [handle, P(c_size_t), c_u64, c_u64]),
    ("hre_node_discouraged_init", c_int, [P(HreNodeDiscouraged), c_uint]),
    ("hre_node_discouraged_get", c_int, [handle, P(HreNodeDiscouraged), c_char_p, u8p]),
    ("hre_node_discouraged_count", c_size_t, [handle]),
    ("hre_node_discouraged_entry", c_int, [handle, P(HreNodeDiscouraged), c_size_t]),
    ("hre_node_discouraged_clear", c_int, [handle]),
    ("hre_node_stats_init", c_int, [P(HreNodeStats), c_uint]),
    ("hre_node_stats_get", c_int, [handle, P(HreNodeStats)]),
    # vault (vault.h), since 1.1: open, store, read, wraps, re-wrap
    ("hre_vault_options_init", c_int, [P(HreVaultOptions), c_uint]),
    ("hre_vault_open", c_int, [handle_out, P(HreVaultOptions)]),
    ("hre_vault_close", None, [handle]),
    ("hre_vault_seal_params_init", c_int, [P(HreVaultSealParams), c_uint]),
    ("hre_vault_content_init", c_int, [P(HreVaultContent), c_uint]),
    ("hre_vault_entry_init", c_int, [P(HreVaultEntry), c_uint]),
    ("hre_vault_stats_init", c_int, [P(HreVaultStats), c_uint]),
    ("hre_vault_store_new", c_int, [handle_out, handle, P(HreVaultSealParams)]),
    ("hre_vault_store_write", c_int, [handle, u8p, c_size_t]),
    ("hre_vault_store_add_reader", c_int, [handle, c_u8, u8p, handle]),
    ("hre_vault_store_add_reader_by_id", c_int, [handle, handle, c_u8, u8p]),
    ("hre_vault_store_commit", c_int, [handle, u8p, P(HreVaultContent)]),
    ("hre_vault_store_free", None, [handle]),
    ("hre_vault_read", c_int, [handle, P(HreVaultContent), u8p, c_u8, u8p, handle, VaultSinkFn,
                               c_void_p]),
    ("hre_vault_entry_get", c_int, [handle, P(HreVaultEntry), u8p]),
    ("hre_vault_wrap_get", c_int, [handle, P(HreVaultWrap), u8p, c_u8, u8p]),
    ("hre_vault_wrap_encode", c_int, [P(HreVaultWrap), u8p, P(c_size_t)]),
    ("hre_vault_wrap_decode", c_int, [P(HreVaultWrap), u8p, c_size_t]),
    ("hre_vault_envelope_read", c_int, [handle, u8p, P(c_size_t), u8p, c_u64]),
    ("hre_vault_rewrap", c_int, [handle, P(HreVaultWrap), P(HreContractAccess), handle, u8p, u8p,
                                 c_u64, c_u8, u8p, handle]),
    ("hre_vault_stats_get", c_int, [handle, P(HreVaultStats)]),
    ("hre_vault_bucket", c_u64, [c_u64]),
    ("hre_vault_envelope_len", c_u64, [c_u64]),
    # vault: binding to records, erasure (vault.h), since 1.1
    ("hre_vault_bind_record", c_int, [handle, u8p, u8p]),
    ("hre_vault_erase", c_int, [handle, u8p]),
    ("hre_vault_erase_record", c_int, [handle, handle, u8p]),
    ("hre_vault_handle_event", c_int, [handle, P(HreContractEvent)]),
    ("hre_vault_reconcile", c_int, [handle, P(c_size_t), handle]),
    # vault: the document exchange (vault.h "Document exchange"), since 1.1
    ("hre_vault_xch_refusal_name", c_char_p, [c_int]),
    ("hre_vault_xch_refusal_code", c_int, [c_int]),
    ("hre_vault_xch_options_init", c_int, [P(HreVaultXchOptions), c_uint]),
    ("hre_vault_xch_new", c_int, [handle_out, P(HreVaultXchOptions)]),
    ("hre_vault_xch_free", None, [handle]),
    ("hre_vault_xch_handle_node_event", c_int, [handle, P(HreNodeEvent)]),
    ("hre_vault_xch_tick", c_int, [handle, c_u64]),
    ("hre_vault_xch_stats_init", c_int, [P(HreVaultXchStats), c_uint]),
    ("hre_vault_xch_stats_get", c_int, [handle, P(HreVaultXchStats)]),
    ("hre_vault_fetch_params_init", c_int, [P(HreVaultFetchParams), c_uint]),
    ("hre_vault_fetch_new", c_int, [handle_out, handle, P(HreVaultFetchParams), VaultSinkFn,
                                    c_void_p, c_u64]),
    ("hre_vault_fetch_status", c_int, [handle, P(c_int), P(c_int), P(c_int), P(HreVaultContent)]),
    ("hre_vault_fetch_request", c_int, [handle, P(HreVaultXchRequest)]),
    ("hre_vault_fetch_free", None, [handle]),
    # vault: sans-I/O codecs, the streaming sealer and opener (vault.h), since 1.1
    ("hre_vault_header_encode", c_int, [P(HreVaultHeader), u8p, P(c_size_t)]),
    ("hre_vault_header_decode", c_int, [P(HreVaultHeader), u8p, c_size_t]),
    ("hre_vault_sealer_new", c_int, [handle_out, P(HreVaultSealParams), VaultSinkFn, c_void_p]),
    ("hre_vault_sealer_write", c_int, [handle, u8p, c_size_t]),
    ("hre_vault_sealer_finish", c_int, [handle, u8p, P(HreVaultContent)]),
    ("hre_vault_sealer_wrap", c_int, [handle, P(HreVaultWrap), c_u8, u8p, handle]),
    ("hre_vault_sealer_free", None, [handle]),
    ("hre_vault_open_params_init", c_int, [P(HreVaultOpenParams), c_uint]),
    ("hre_vault_opener_new", c_int, [handle_out, P(HreVaultOpenParams), VaultSinkFn, c_void_p]),
    ("hre_vault_opener_write", c_int, [handle, u8p, c_size_t]),
    ("hre_vault_opener_finish", c_int, [handle, P(HreVaultContent)]),
    ("hre_vault_opener_free", None, [handle]),
    # vault: import, queries, verify, prune (vault.h), since 1.1
    ("hre_vault_import_new", c_int, [handle_out, handle, u8p]),
    ("hre_vault_import_write", c_int, [handle, u8p, c_size_t]),
    ("hre_vault_import_add_wrap", c_int, [handle, P(HreVaultWrap)]),
    ("hre_vault_import_commit", c_int, [handle, u8p]),
    ("hre_vault_import_free", None, [handle]),
    ("hre_vault_entry_by_locator", c_int, [handle, P(HreVaultEntry), u8p, c_u32]),
    ("hre_vault_wrap_at", c_int, [handle, P(HreVaultWrap), u8p, c_size_t]),
    ("hre_vault_verify", c_int, [handle, P(c_u64), c_uint]),
    ("hre_vault_prune", c_int, [handle, P(c_size_t), handle, u8p, c_u64]),
    ("hre_vault_wrap_remove", c_int, [handle, u8p, c_u8, u8p]),
    # vault: the exchange's message codecs and rate limit (vault.h), since 1.1
    ("hre_vault_xch_request_sign", c_int, [P(HreVaultXchRequest), handle]),
    ("hre_vault_xch_request_verify", c_int, [P(HreVaultXchRequest)]),
    ("hre_vault_xch_request_encode", c_int, [P(HreVaultXchRequest), u8p, P(c_size_t)]),
    ("hre_vault_xch_request_decode", c_int, [P(HreVaultXchRequest), u8p, c_size_t]),
    ("hre_vault_xch_header_encode", c_int, [P(HreVaultXchHeader), u8p, P(c_size_t)]),
    ("hre_vault_xch_header_decode", c_int, [P(HreVaultXchHeader), u8p, c_size_t]),
    ("hre_vault_xch_chunk_encode", c_int, [P(HreVaultXchChunk), u8p, P(c_size_t)]),
    ("hre_vault_xch_chunk_decode", c_int, [P(HreVaultXchChunk), u8p, c_size_t]),
    ("hre_vault_xch_refusal_encode", c_int, [P(HreVaultXchRefusal), u8p, P(c_size_t)]),
    ("hre_vault_xch_refusal_decode", c_int, [P(HreVaultXchRefusal), u8p, c_size_t]),
    ("hre_vault_xch_set_rate_limit", c_int, [handle, c_u32, c_u32]),
    ("hre_vault_xch_refusals", c_int, [handle, P(HreVaultXchAudit), c_size_t, P(c_size_t)]),
    ("hre_vault_fetch_wrap", c_int, [handle, P(HreVaultWrap)]),
    ("hre_vault_fetch_new_signed", c_int, [handle_out, handle, c_u64, P(HreVaultXchRequest),
                                           VaultSinkFn, c_void_p, c_u64]),
    # transaction inclusion proofs (proof.h), since 1.1
    ("hre_proof_new", c_int, [handle_out, P(HreHeader), c_size_t, c_u64, P(HreMerkleBranch), u8p,
                              c_size_t]),
    ("hre_proof_free", None, [handle]),
    ("hre_proof_encode", c_int, [handle, u8p, P(c_size_t)]),
    ("hre_proof_decode", c_int, [handle_out, u8p, c_size_t]),
    ("hre_proof_verify", c_int, [handle, P(c_int), P(c_size_t), P(HreChainParams)]),
    ("hre_proof_header_count", c_size_t, [handle]),
    ("hre_proof_header", P(HreHeader), [handle, c_size_t]),
    ("hre_proof_height", c_u64, [handle]),
    ("hre_proof_txid", u8p, [handle]),
    ("hre_proof_branch", P(HreMerkleBranch), [handle]),
    ("hre_proof_tx", handle, [handle]),
    ("hre_proof_tx_bytes", u8p, [handle, P(c_size_t)]),
    ("hre_proof_why_name", c_char_p, [c_int]),
]

# The payload codecs and builders: three calls per tx kind, same shapes.
for _kind_name, _S in PAYLOADS.values():
    _FUNCS += [
        (f"hre_contract_encode_{_kind_name}", c_int, [P(_S), u8p, P(c_size_t)]),
        (f"hre_contract_decode_{_kind_name}", c_int, [P(_S), u8p, c_size_t]),
        (f"hre_contract_build_{_kind_name}", c_int, [handle_out, u8p, handle, c_u64, c_u64, P(_S)]),
    ]


def _load():
    """(CDLL, what was loaded) -- see the module docstring for the order."""
    env = os.environ.get("HRE_LIBRARY")
    if env:
        try:
            return ctypes.CDLL(env), env
        except OSError as e:
            raise ImportError(
                f"hre: cannot load the library HRE_LIBRARY names ({env}): {e}. Unset "
                f"HRE_LIBRARY to load the installed {SONAME}, or point it at a built "
                f"libhre.so.1 (e.g. build/libhre.so.1)") from e
    tried = []
    found = ctypes.util.find_library("hre")
    for cand in (SONAME, found):
        if not cand or cand in (t[0] for t in tried):
            continue
        if cand != SONAME and not os.path.basename(cand).startswith(SONAME):
            tried.append((cand, f"not {SONAME} (another soname is another ABI)"))
            continue
        try:
            return ctypes.CDLL(cand), cand
        except OSError as e:
            tried.append((cand, str(e)))
    raise ImportError(
        "hre: cannot load libhre: HRE_LIBRARY is not set, and " +
        "; ".join(f"{c}: {why}" for c, why in tried) +
        f". Install libhre so that the dynamic loader finds {SONAME} (or add its directory "
        f"to LD_LIBRARY_PATH), or set HRE_LIBRARY to the path of libhre.so.1")


lib, path = _load()

# Symbols the loaded library lacks (an older libhre.so.1 without the 1.1
# calls): the package still imports, and calling one raises Unsupported.
missing = []


def _absent(name):
    def call(*_args):
        from ._errors import ERROR_CLASSES
        raise ERROR_CLASSES[-14](-14, f"{name} is not in the loaded library ({path}); "
                                      f"it needs a newer libhre.so.1")
    call.__name__ = name
    return call


for _name, _res, _args in _FUNCS:
    try:
        _f = getattr(lib, _name)
    except AttributeError:
        missing.append(_name)
        setattr(lib, _name, _absent(_name))
        continue
    _f.restype = _res
    _f.argtypes = _args
del _name, _res, _args
