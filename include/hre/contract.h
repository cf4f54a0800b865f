/*
 * libhre record contract (layer 4): a pure, deterministic state machine that
 * turns verified transactions (tx.h) into healthcare state and events:
 * organisations and roles, two-signature record validation, patient consent,
 * an audit trail, node accounts, encryption keys, erasure, a state hash
 * with undo, and snapshots. It does no I/O and reads no clock. It verifies
 * no signatures itself: apply trusts the
 * sender field, so it refuses a transaction whose signature nobody checked
 * (HRE_EVERIFY, "signature not verified") unless the transaction passed
 * hre_tx_verify (or was signed by hre_tx_sign), or the caller passes
 * HRE_CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER and takes responsibility.
 *
 * docs/PROTOCOL.md section 5 is the normative description of every payload
 * (byte by byte), who may send each kind, every refusal, the privacy rule,
 * the state hash and the snapshot format. Summary:
 *
 * - Identity. An account's ADDRESS is sha256 of the FIRST 34-byte wire public
 *   key it was registered with; it stays the same across key rotations. A
 *   transaction's sender is resolved through its current key; a rotated-out
 *   key is refused (HRE_EAUTH, detail "key was rotated out").
 * - Roles. The AUTHORITY (named in genesis through hre_contract_options) is
 *   the founding hospital admin: it is also the admin of the founding
 *   hospital organisation, whose id is sha256("HRE-GENESIS-ORG" || network id).
 *   It registers organisations with their first admin and appoints more
 *   admins. An organisation ADMIN registers DOCTORS and NODES (the on-chain
 *   identity of a node of the organisation's network, since 1.1). PATIENTS
 *   register themselves. Admins, doctors and nodes can be
 *   suspended/reinstated and have their keys rotated by the authority or an
 *   admin of their organisation; every account may rotate its own key
 *   (signed by the current key). A node account sends nothing else. The
 *   authority can suspend a whole organisation (not the genesis one): its
 *   accounts are then refused as senders and as readers, and its nodes are
 *   not members (hre_contract_node_status).
 * - Encryption keys (since 1.1). Every account and organisation may publish
 *   one P-256 key for HPKE (SET_ENC_KEY), separate from its signing keys;
 *   setting it again replaces it. This is the one place the contract parses
 *   an EC point (garbage keys never reach the chain).
 * - Records. Record id = txid of the new_record transaction. Patient id and
 *   test name are stored only as HMAC-SHA256 commitments under a per-record
 *   salt (hre_contract_commit); date, hospital name and price stay in clear;
 *   the document is named by its sha256 and an opaque 32-byte locator (no
 *   path or file name in clear).
 *   A record becomes valid when an admin of the issuing organisation AND an
 *   admin of the lab organisation have signed it (signature count 2); that
 *   signature emits HRE_EVENT_RECORD_SIGNED exactly once. The patient (or
 *   the authority, acting on an order) can ERASE a record (since 1.1): it
 *   stays in the state with its commitments, but nobody may sign, log
 *   access to or be granted it any more (HRE_EERASED).
 * - Consent and access. A patient grants a reader (an account address or a
 *   whole organisation) access to all records, one category or a list of
 *   records, with an optional expiry compared against the BLOCK TIME passed
 *   to hre_contract_apply. A reader may access a record (and log_access is
 *   accepted) when it is the record's patient, an active admin or doctor of
 *   the issuing or the lab organisation, or covered by a live grant;
 *   hre_contract_access_check says which, or why not.
 * - Replay. A transaction's nonce must equal its sender's next nonce (0 for a
 *   new patient); its network id must be the contract's.
 * - State hash. An incremental multiset hash (sum mod 2^256 of sha256 of the
 *   canonical encoding of each state entry), so it is content-based, O(1) per
 *   change, and identical after undo or snapshot restore.
 *
 * Thread safety: an hre_contract is not internally locked. Mutating calls
 * (apply, undo, undo_forget, set_event_callback) need exclusive access; the
 * const query calls may run concurrently with each other. Different handles
 * are independent. Error details are thread-local (errors.h).
 *
 * Versioned structs (common.h rule 7): options are read up to the caller's
 * version; query results are filled up to the version the caller set in
 * .version (HRE_CONTRACT_X_INIT or hre_contract_x_init); the lists of
 * grants and events take the caller's element size.
 */
#ifndef HRE_CONTRACT_H
#define HRE_CONTRACT_H

#include "common.h"
#include "key.h"
#include "tx.h"
#include "pool.h"

HRE_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Constants                                                                 */
/* ------------------------------------------------------------------------ */

/** Transaction kinds of the record contract (the tx envelope's u16 kind). */
#define HRE_KIND_REGISTER_ORG     1  /* authority: new organisation + its first admin */
#define HRE_KIND_APPOINT_ADMIN    2  /* authority: one more admin for an organisation */
#define HRE_KIND_REGISTER_DOCTOR  3  /* organisation admin: a doctor of its organisation */
#define HRE_KIND_REGISTER_PATIENT 4  /* anyone: registers the sender key as a patient */
#define HRE_KIND_SUSPEND          5  /* authority / org admin: suspend or reinstate */
#define HRE_KIND_ROTATE_KEY       6  /* authority / org admin / self: replace a key */
#define HRE_KIND_NEW_RECORD       7  /* admin of a hospital or clinic: a new record */
#define HRE_KIND_SIGN_RECORD      8  /* admin of the issuing or lab organisation */
#define HRE_KIND_GRANT            9  /* patient: grant a reader access */
#define HRE_KIND_REVOKE          10  /* patient: revoke one of their grants */
#define HRE_KIND_LOG_ACCESS      11  /* a reader who may access the record */
/* since 1.1 */
#define HRE_KIND_REGISTER_NODE   12  /* organisation admin: a node of its organisation */
#define HRE_KIND_SUSPEND_ORG     13  /* authority: suspend or reinstate an organisation */
#define HRE_KIND_SET_ENC_KEY     14  /* self / authority / org admin: publish an encryption key */
#define HRE_KIND_ERASE_RECORD    15  /* the record's patient, or the authority */
#define HRE_KIND_MAX             15  /* the highest kind this header knows */

/** @{ */
/** Organisation types. */
#define HRE_ORG_HOSPITAL  1
#define HRE_ORG_LAB       2
#define HRE_ORG_CLINIC    3
#define HRE_ORG_INSURER   4
#define HRE_ORG_RESEARCH  5
#define HRE_ORG_PHARMACY  6
/** @} */

/** Account roles. */
#define HRE_ROLE_AUTHORITY 1  /* founding authority; also admin of the genesis org */
#define HRE_ROLE_ADMIN     2  /* organisation admin: registers doctors and nodes */
#define HRE_ROLE_DOCTOR    3  /* doctor of an organisation */
#define HRE_ROLE_PATIENT   4  /* patient (registers itself) */
#define HRE_ROLE_NODE      5  /* since 1.1: a node's on-chain identity; sends only ROTATE_KEY of itself */

/** @{ */
/** Account and (since 1.1) organisation status. */
#define HRE_STATUS_ACTIVE    0
#define HRE_STATUS_SUSPENDED 1
/** @} */

/** @{ */
/** SUSPEND and SUSPEND_ORG payload actions. */
#define HRE_SUSPEND_REINSTATE 0
#define HRE_SUSPEND_SUSPEND   1
/** @} */

/** Grant reader types and scopes. */
#define HRE_READER_ACCOUNT 0  /* reader is an account address */
#define HRE_READER_ORG     1  /* reader is an organisation: any active admin or doctor of it */
#define HRE_SCOPE_ALL      0  /* every record of the patient, including future ones */
#define HRE_SCOPE_CATEGORY 1  /* every record of one category */
#define HRE_SCOPE_RECORDS  2  /* an explicit list of record ids */

/** SET_ENC_KEY target types (since 1.1). */
#define HRE_ENC_TARGET_ACCOUNT 0  /* target is an account address */
#define HRE_ENC_TARGET_ORG     1  /* target is an organisation id */

/** @{ */
/** Commitment fields (hre_contract_commit). */
#define HRE_COMMIT_PATIENT_ID 1
#define HRE_COMMIT_TEST_NAME  2
/** @} */

/** Limits (all enforced by the payload decoders). They are consensus limits
 *  of payload version 1 (HRE_CONTRACT_PAYLOAD_VERSION), and NAME_MAX also
 *  sizes the name[] / hospital_name[] arrays of the query structs below: it
 *  is FROZEN forever. A larger limit would need a new payload version and
 *  new versions of the query structs that carry it. (A record's document
 *  locator is a fixed 32 bytes, not a string: there is no URI limit.)
 *  Since: 1.0 */
#define HRE_CONTRACT_NAME_MAX      64   /* organisation / hospital name bytes (frozen) */
#define HRE_CONTRACT_ENVELOPE_MAX  512  /* grant envelope bytes */
#define HRE_CONTRACT_GRANT_IDS_MAX 64   /* record ids in a HRE_SCOPE_RECORDS grant */
#define HRE_CONTRACT_SALT_MIN      16   /* commitment salt length range */
#define HRE_CONTRACT_SALT_MAX      64   /* longest commitment salt (bytes) */
#define HRE_CONTRACT_PAYLOAD_VERSION 1  /* first byte of every payload */

/** Event types. */
#define HRE_EVENT_ORG_REGISTERED    1  /* actor authority, subject first admin, org */
#define HRE_EVENT_ADMIN_APPOINTED   2  /* actor authority, subject admin, org */
#define HRE_EVENT_DOCTOR_REGISTERED 3  /* actor admin, subject doctor, org */
#define HRE_EVENT_PATIENT_REGISTERED 4 /* actor = subject = patient */
#define HRE_EVENT_SUSPENDED         5  /* actor, subject target */
#define HRE_EVENT_REINSTATED        6  /* actor, subject target */
#define HRE_EVENT_KEY_ROTATED       7  /* actor, subject target */
#define HRE_EVENT_RECORD_CREATED    8  /* actor admin, subject patient, record, org issuer */
#define HRE_EVENT_RECORD_SIGNATURE  9  /* actor signer, subject patient, record, org signed for */
#define HRE_EVENT_RECORD_SIGNED    10  /* record became valid (count 2); actor last signer */
#define HRE_EVENT_GRANTED          11  /* actor = subject = patient, grant */
#define HRE_EVENT_REVOKED          12  /* actor = subject = patient, grant */
#define HRE_EVENT_ACCESS_LOGGED    13  /* actor reader, subject patient, record, grant (if any); detail = purpose */
/* since 1.1 */
#define HRE_EVENT_NODE_REGISTERED  14  /* actor admin, subject node, org */
#define HRE_EVENT_ORG_SUSPENDED    15  /* actor authority, no subject, org */
#define HRE_EVENT_ORG_REINSTATED   16  /* actor authority, no subject, org */
#define HRE_EVENT_ENC_KEY_SET      17  /* actor sender; subject the account (account target) or none;
                                          org: the account's org or the target org; detail = target type */
#define HRE_EVENT_RECORD_ERASED    18  /* actor patient or authority, subject patient, record */

/* ------------------------------------------------------------------------ */
/* Events                                                                    */
/* ------------------------------------------------------------------------ */

/** Newest version of hre_contract_event this header declares (its .version field). */
#define HRE_CONTRACT_EVENT_VERSION 1

/** @{ */
/** Flags telling which optional fields of an event are set. */
#define HRE_EVENT_HAS_RECORD 0x1u
#define HRE_EVENT_HAS_ORG    0x2u
#define HRE_EVENT_HAS_GRANT  0x4u
/** @} */

/** One contract event (a versioned value struct; unset ids are all zero).
 *  Delivered to the host callback during hre_contract_apply (the library's
 *  current version: check .version before reading fields newer than yours)
 *  and returned by the audit-trail queries (in the version your element
 *  size holds).  Since: 1.0 */
typedef struct hre_contract_event {
    unsigned int version;   /* HRE_CONTRACT_EVENT_VERSION */
    uint16_t type;          /* HRE_EVENT_* */
    uint16_t kind;          /* tx kind (HRE_KIND_*) that caused it */
    uint32_t flags;         /* HRE_EVENT_HAS_* */
    uint8_t detail;         /* ACCESS_LOGGED: purpose byte; SIGNATURE/SIGNED: signature count */
    uint64_t seq;           /* global 0-based event sequence number */
    uint64_t time;          /* block time passed to hre_contract_apply */
    uint8_t actor[32];      /* address of the transaction sender */
    uint8_t subject[32];    /* address of the account concerned */
    uint8_t record_id[32];  /* when HRE_EVENT_HAS_RECORD */
    uint8_t org_id[32];     /* when HRE_EVENT_HAS_ORG */
    uint8_t grant_id[32];   /* when HRE_EVENT_HAS_GRANT */
} hre_contract_event;

/** Host event callback. ev is valid only during the call. The callback must
 *  not call mutating functions on the same contract. */
typedef void (*hre_contract_event_fn)(void *user_data, const hre_contract_event *ev);

/* ------------------------------------------------------------------------ */
/* Options and lifetime                                                      */
/* ------------------------------------------------------------------------ */

/** Newest version of hre_contract_options this header declares (its .version field). */
#define HRE_CONTRACT_OPTIONS_VERSION 3

/** Genesis parameters of a contract state. Start from HRE_CONTRACT_OPTIONS_INIT
 *  or hre_contract_options_init(). Older versions are accepted and read only
 *  up to their last field: version 1 (up to user_data) behaves as threads =
 *  1 and no pool; version 2 (up to threads) has no pool.
 *  Since: 1.0 */
typedef struct hre_contract_options {
    unsigned int version;           /* HRE_CONTRACT_OPTIONS_VERSION */
    uint8_t network_id[32];         /* the network (genesis block hash) */
    uint8_t authority_key[34];      /* wire public key of the founding hospital admin */
    const char *genesis_org_name;   /* founding hospital's name (1..64 bytes); NULL = "Genesis Hospital" */
    hre_contract_event_fn on_event; /* may be NULL */
    void *user_data;                /* passed to on_event */
    /* version 2 */
    unsigned int threads;           /* used only when pool is NULL: threads
                                       hre_contract_snapshot_load may use, the caller's
                                       included (0 or 1 = the caller's only; capped at 16),
                                       on a pool that lives only for the call */
    /* version 3 */
    hre_pool *pool;                 /* borrowed; may be NULL. The pool hre_contract_snapshot_load
                                       runs on (its threads plus the caller's, at most 16);
                                       takes precedence over `threads` */
} hre_contract_options;

/** Static initializer for hre_contract_options: HRE_CONTRACT_OPTIONS_VERSION, every other field at its default. */
#define HRE_CONTRACT_OPTIONS_INIT { HRE_CONTRACT_OPTIONS_VERSION, {0}, {0}, NULL, NULL, NULL, 0, NULL }

/** Initialise opts to the defaults for `version` (1..3): every field that
 *  version declares is zero or NULL except version; nothing past it is
 *  written.
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (unknown version).
 *  Since: 1.0 */
HRE_API int hre_contract_options_init(hre_contract_options *opts, unsigned int version);

/** The contract state. Opaque. */
typedef struct hre_contract hre_contract;

/** Create the genesis state: the authority account (nonce 0, role
 *  HRE_ROLE_AUTHORITY) and the founding hospital organisation it administers.
 *  The authority key is checked syntactically only (curve id 1 or 2, prefix
 *  0x02/0x03); it is never parsed as a point here.
 *  Out: *out: new state owned by the caller; free with hre_contract_free.
 *  In:  opts: read during the call only (the event callback and its
 *       user_data are kept).
 *  Returns: HRE_OK; HRE_EINVAL (NULL, bad key bytes, bad name);
 *           HRE_EUNSUPPORTED (options version); HRE_ENOMEM.
 *  Since: 1.0 */
HRE_API int hre_contract_new(hre_contract **out, const hre_contract_options *opts);

/** Free a state; NULL is fine.  Since: 1.0 */
HRE_API void hre_contract_free(hre_contract *c);

/** Replace the event callback (e.g. after hre_contract_snapshot_load).
 *  Since: 1.0 */
HRE_API void hre_contract_set_event_callback(hre_contract *c, hre_contract_event_fn fn, void *user_data);

/* ------------------------------------------------------------------------ */
/* Apply and undo                                                            */
/* ------------------------------------------------------------------------ */

/** hre_contract_apply flag: the caller has verified tx's signature itself
 *  (or is verifying it right now and will undo the transaction if that
 *  fails), so apply accepts a transaction that is not marked verified. The
 *  ledger passes it while its pool verifies a block's signatures beside
 *  apply, and for block transactions it verified in the mempool. A host
 *  that passes it for a transaction nobody verified lets anyone act in
 *  anyone's name.  Since: 1.0 */
#define HRE_CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER 0x1u

/** Apply one transaction. Either the whole transaction takes effect (the
 *  sender's nonce advances, events are delivered to the callback in order,
 *  an undo entry is pushed) or nothing changes and the state hash is
 *  unchanged. The contract trusts tx's sender field, so tx must be marked
 *  verified (hre_tx_verify passed on this object, or hre_tx_sign made it;
 *  see hre_tx_verified) unless flags has
 *  HRE_CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER.
 *  Args: c (self).
 *  In: tx: the transaction (read only).
 *      block_time: the time of the block holding tx (seconds, <= UINT32_MAX
 *      like the block header's time); grant expiry is compared with it (a
 *      grant is live while block_time < expiry), and it is stored in events.
 *      flags: 0 or HRE_CONTRACT_APPLY_SIG_VERIFIED_BY_CALLER.
 *  Returns: HRE_OK, or a refusal (see docs/PROTOCOL.md 5.4 for every case):
 *    HRE_EINVAL (NULL, unsigned tx, block_time > UINT32_MAX, unknown flag);
 *    HRE_EVERIFY (signature not verified -- the detail says so --, or
 *    another network);
 *    HRE_EUNSUPPORTED (unknown kind); HRE_EDECODE / HRE_ELIMIT (bad payload);
 *    HRE_EAUTH (unknown, suspended or rotated-out sender; role not allowed);
 *    HRE_ESTATE (wrong nonce; object in the wrong state); HRE_ENOTFOUND;
 *    HRE_EEXISTS (duplicate key, double signature); HRE_EERASED (the
 *    record was erased); HRE_ENOMEM; HRE_ECRYPTO.
 *    Each refusal sets a specific detail message.
 *  Thread safety: exclusive access to c.
 *  Since: 1.0 */
HRE_API int hre_contract_apply(hre_contract *c, const hre_tx *tx, uint64_t block_time,
                               unsigned int flags) HRE_WARN_UNUSED_RESULT;

/** Undo the most recently applied transaction still in the undo journal,
 *  restoring the exact previous state (and state hash). No events are
 *  delivered for an undo; hosts re-query. Never allocates.
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_ESTATE (journal empty).
 *  Since: 1.0 */
HRE_API int hre_contract_undo(hre_contract *c);

/** Number of transactions that can currently be undone.  Since: 1.0 */
HRE_API size_t hre_contract_undo_depth(const hre_contract *c);

/** Drop the oldest undo entries, keeping only the `keep` most recent ones
 *  (e.g. once blocks are final). Since: 1.0 */
HRE_API void hre_contract_undo_forget(hre_contract *c, size_t keep);

/** The state hash: sha256("HRE-CONTRACT-STATE-v1" || network id || accumulator),
 *  where the accumulator is the sum mod 2^256 of sha256 of every state entry.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ECRYPTO.  Since: 1.0 */
HRE_API int hre_contract_state_hash(const hre_contract *c, uint8_t out[32]);

/* ------------------------------------------------------------------------ */
/* Queries (results are versioned structs: set .version first)               */
/* ------------------------------------------------------------------------ */
/*
 * Every query result struct starts with `unsigned int version`, which the
 * caller sets first (the HRE_CONTRACT_X_INIT macro or hre_contract_x_init);
 * the library fills the fields of that version (any version from 1 up to
 * its own) and writes nothing past them. Version 0 or a newer version than
 * the library knows gives HRE_EUNSUPPORTED. The lists of grants and events
 * take the caller's sizeof of the element instead (common.h rule 7).
 * Query calls on a const contract may run concurrently.
 */

/** Newest version of hre_contract_account this header declares (its .version field). */
#define HRE_CONTRACT_ACCOUNT_VERSION 2
/** Newest version of hre_contract_org this header declares (its .version field). */
#define HRE_CONTRACT_ORG_VERSION 2
/** Newest version of hre_contract_record this header declares (its .version field). */
#define HRE_CONTRACT_RECORD_VERSION 1
/** Newest version of hre_contract_grant this header declares (its .version field). */
#define HRE_CONTRACT_GRANT_VERSION 1
/** Newest version of hre_contract_stats this header declares (its .version field). */
#define HRE_CONTRACT_STATS_VERSION 1
/** Newest version of hre_contract_access this header declares (its .version field). */
#define HRE_CONTRACT_ACCESS_VERSION 1
/** Newest version of hre_contract_node this header declares (its .version field). */
#define HRE_CONTRACT_NODE_VERSION 1

/** Role and status of an address.  Since: 1.0 (version 2 since 1.1) */
typedef struct hre_contract_account {
    unsigned int version;      /* in: HRE_CONTRACT_ACCOUNT_VERSION */
    uint8_t address[32];       /* sha256 of the first key it was registered with */
    uint8_t key[34];           /* current key */
    uint8_t role;              /* HRE_ROLE_* */
    uint8_t status;            /* HRE_STATUS_* */
    uint8_t org_type;          /* HRE_ORG_* (0 for patients) */
    uint8_t has_org;           /* 1: it belongs to an organisation (org_id, org_type set) */
    uint8_t org_id[32];        /* organisation (admins, doctors, nodes, authority) */
    uint64_t nonce;            /* next nonce expected */
    uint64_t record_count;     /* patients: number of records */
    uint64_t grant_count;      /* patients: number of grants given */
    /* version 2 (since 1.1) */
    uint8_t org_status;        /* HRE_STATUS_* of its organisation (0 without one) */
    uint8_t has_enc_key;       /* 1: it has published an encryption key (SET_ENC_KEY) */
    uint8_t enc_key[34];       /* published encryption key (P-256 wire form) if has_enc_key */
} hre_contract_account;

/** An organisation. name[] is sized by the frozen HRE_CONTRACT_NAME_MAX.
 *  Since: 1.0 (version 2 since 1.1) */
typedef struct hre_contract_org {
    unsigned int version;      /* in: HRE_CONTRACT_ORG_VERSION */
    uint8_t org_id[32];        /* txid of its REGISTER_ORG transaction */
    uint8_t type;              /* HRE_ORG_* */
    uint8_t name_len;          /* name bytes, 1..HRE_CONTRACT_NAME_MAX */
    char name[HRE_CONTRACT_NAME_MAX + 1];   /* NUL-terminated */
    /* version 2 (since 1.1) */
    uint8_t status;            /* HRE_STATUS_* (SUSPEND_ORG) */
    uint8_t has_enc_key;       /* 1: an encryption key was published for it (SET_ENC_KEY) */
    uint8_t enc_key[34];       /* the organisation's encryption key if has_enc_key */
} hre_contract_org;

/** A record with its signers and status. hospital_name[] is sized by the
 *  frozen HRE_CONTRACT_NAME_MAX.
 *  Since: 1.0 */
typedef struct hre_contract_record {
    unsigned int version;      /* in: HRE_CONTRACT_RECORD_VERSION */
    uint8_t id[32];            /* txid of its NEW_RECORD transaction */
    uint8_t patient[32];       /* patient address */
    uint8_t issuer_org[32];    /* the issuing organisation (the NEW_RECORD sender's) */
    uint8_t lab_org[32];       /* the lab organisation id */
    uint8_t commit_patient_id[32]; /* hre_contract_commit(HRE_COMMIT_PATIENT_ID, ...) */
    uint8_t commit_test_name[32];  /* hre_contract_commit(HRE_COMMIT_TEST_NAME, ...) */
    uint8_t doc_sha256[32];    /* sha256 of the off-chain (encrypted) document */
    uint64_t date;             /* seconds since the epoch (clear, for settlement) */
    uint64_t price;            /* minor currency units (clear, for settlement) */
    uint8_t category;          /* host-defined category (grant scopes) */
    uint8_t is_valid;          /* 1 once an issuing-org admin and a lab-org admin signed */
    uint8_t signature_count;   /* 0..2 */
    /** @{ */
    uint8_t has_issuer_signer, has_lab_signer, has_supersedes; /* 1: the field of that name is set */
    /** @} */
    uint8_t issuer_signer[32]; /* address of the issuing org's admin who signed */
    uint8_t lab_signer[32];    /* address of the lab's admin who signed */
    uint8_t supersedes[32];    /* id of the record this one corrects */
    uint8_t locator[32];       /* opaque document locator chosen by the issuer (the vault's document id) */
    uint8_t erased;            /* 1 once ERASE_RECORD was applied */
    uint8_t hospital_name_len; /* hospital_name bytes, 1..HRE_CONTRACT_NAME_MAX */
    char hospital_name[HRE_CONTRACT_NAME_MAX + 1]; /* NUL-terminated */
    uint64_t erased_time;      /* block time of the erasure (0 unless erased) */
} hre_contract_record;

/** A consent grant.  Since: 1.0 */
typedef struct hre_contract_grant {
    unsigned int version;      /* in: HRE_CONTRACT_GRANT_VERSION */
    uint8_t id[32];            /* txid of the grant transaction */
    uint8_t patient[32];       /* address of the patient who gave it */
    uint8_t reader_type;       /* HRE_READER_* */
    uint8_t scope;             /* HRE_SCOPE_* */
    uint8_t category;          /* HRE_SCOPE_CATEGORY */
    uint8_t revoked;           /* 1 once the patient revoked it */
    uint8_t reader[32];        /* address or org id */
    uint32_t record_count;     /* HRE_SCOPE_RECORDS: number of ids */
    uint32_t envelope_len;     /* bytes of its opaque envelope (hre_contract_grant_envelope) */
    uint64_t expiry;           /* 0 = none; live while block_time < expiry */
    uint64_t created_time;     /* block time of the GRANT */
    uint64_t revoked_time;     /* block time of the REVOKE (0 unless revoked) */
} hre_contract_grant;

/** Counters of a state.  Since: 1.0 */
typedef struct hre_contract_stats {
    unsigned int version;      /* in: HRE_CONTRACT_STATS_VERSION */
    /** @{ */
    /** How many accounts, keys (current and rotated out), organisations,
     *  records, grants and events the state holds, and how many transactions
     *  can be undone (undo_depth, as hre_contract_undo_depth). */
    uint64_t accounts, keys, orgs, records, grants, events, undo_depth;
    /** @} */
} hre_contract_stats;

/** Access reasons (hre_contract_access.reason). Since: 1.1 */
#define HRE_ACCESS_ALLOWED          0
#define HRE_ACCESS_NO_GRANT         1  /* no role and no grant covers the record for this reader */
#define HRE_ACCESS_REVOKED          2  /* the newest grant that would cover it was revoked */
#define HRE_ACCESS_EXPIRED          3  /* the newest grant that would cover it has expired */
#define HRE_ACCESS_ERASED           4  /* the record was erased */
#define HRE_ACCESS_UNKNOWN_RECORD   5  /* no record has that id */
#define HRE_ACCESS_UNKNOWN_READER   6  /* the reader address is not an account */
#define HRE_ACCESS_READER_SUSPENDED 7  /* the reader's account is suspended */
#define HRE_ACCESS_ORG_SUSPENDED    8  /* the reader's organisation is suspended */
/** What allowed an access (hre_contract_access.basis). Since: 1.1 */
#define HRE_ACCESS_BY_PATIENT 1        /* the reader is the record's patient */
#define HRE_ACCESS_BY_ROLE    2        /* admin or doctor of the issuing or the lab organisation */
#define HRE_ACCESS_BY_GRANT   3        /* a live grant (grant_id) */

/** The verdict of hre_contract_access_check.  Since: 1.1 */
typedef struct hre_contract_access {
    unsigned int version;      /* in: HRE_CONTRACT_ACCESS_VERSION */
    uint8_t reason;            /* HRE_ACCESS_* (ALLOWED when the call returns HRE_OK) */
    uint8_t basis;             /* allowed: HRE_ACCESS_BY_*; refused: 0 */
    uint8_t has_grant;         /* grant_id is set: the grant that allowed it (BY_GRANT), or
                                  the revoked / expired grant that decided a refusal */
    uint8_t grant_id[32];      /* that grant's id, if has_grant */
} hre_contract_access;

/** Node membership reasons (hre_contract_node.reason). Since: 1.1 */
#define HRE_NODE_MEMBER        0  /* current key of an active node of an active organisation */
#define HRE_NODE_UNKNOWN_KEY   1  /* the key was never registered */
#define HRE_NODE_NOT_A_NODE    2  /* the key belongs to an account that is not a node */
#define HRE_NODE_KEY_ROTATED   3  /* the key was rotated out of its node account */
#define HRE_NODE_SUSPENDED     4  /* the node account is suspended */
#define HRE_NODE_ORG_SUSPENDED 5  /* the node's organisation is suspended */

/** The verdict of hre_contract_node_status.  Since: 1.1 */
typedef struct hre_contract_node {
    unsigned int version;      /* in: HRE_CONTRACT_NODE_VERSION */
    uint8_t reason;            /* HRE_NODE_* */
    uint8_t has_account;       /* the key belongs (or belonged) to an account: address etc. set */
    uint8_t role;              /* that account's HRE_ROLE_* */
    uint8_t org_type;          /* its organisation's HRE_ORG_* (0 without one) */
    uint8_t address[32];       /* the account's address */
    uint8_t org_id[32];        /* its organisation (zero without one) */
} hre_contract_node;

/** Static initialisers of the query structs: the current version, every
 *  other field zero.  Since: 1.0 */
#define HRE_CONTRACT_ACCOUNT_INIT \
    { HRE_CONTRACT_ACCOUNT_VERSION, {0}, {0}, 0, 0, 0, 0, {0}, 0, 0, 0, 0, 0, {0} }
/** Static initializer for hre_contract_org: HRE_CONTRACT_ORG_VERSION, every other field at its default. */
#define HRE_CONTRACT_ORG_INIT { HRE_CONTRACT_ORG_VERSION, {0}, 0, 0, {0}, 0, 0, {0} }
/** Static initializer for hre_contract_record: HRE_CONTRACT_RECORD_VERSION, every other field at its default. */
#define HRE_CONTRACT_RECORD_INIT \
    { HRE_CONTRACT_RECORD_VERSION, {0}, {0}, {0}, {0}, {0}, {0}, {0}, 0, 0, 0, 0, 0, 0, 0, 0, \
      {0}, {0}, {0}, {0}, 0, 0, {0}, 0 }
/** Static initializer for hre_contract_grant: HRE_CONTRACT_GRANT_VERSION, every other field at its default. */
#define HRE_CONTRACT_GRANT_INIT \
    { HRE_CONTRACT_GRANT_VERSION, {0}, {0}, 0, 0, 0, 0, {0}, 0, 0, 0, 0, 0 }
/** Static initializer for hre_contract_stats: HRE_CONTRACT_STATS_VERSION, every other field at its default. */
#define HRE_CONTRACT_STATS_INIT { HRE_CONTRACT_STATS_VERSION, 0, 0, 0, 0, 0, 0, 0 }
#define HRE_CONTRACT_ACCESS_INIT { HRE_CONTRACT_ACCESS_VERSION, 0, 0, 0, {0} }   /* since 1.1 */
#define HRE_CONTRACT_NODE_INIT { HRE_CONTRACT_NODE_VERSION, 0, 0, 0, 0, {0}, {0} }  /* since 1.1 */

/** Initialise a query struct for `version` (1 up to the current one): the
 *  fields that version declares are zeroed and .version is set; nothing past
 *  them is written. For bindings that cannot use the _INIT macros.
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (unknown version).
 *  Thread safety: safe from any thread.  Since: 1.0 */
/** @{ */
HRE_API int hre_contract_account_init(hre_contract_account *out, unsigned int version);
HRE_API int hre_contract_org_init(hre_contract_org *out, unsigned int version);
HRE_API int hre_contract_record_init(hre_contract_record *out, unsigned int version);
HRE_API int hre_contract_grant_init(hre_contract_grant *out, unsigned int version);
HRE_API int hre_contract_stats_init(hre_contract_stats *out, unsigned int version);
/** @} */
/** The same for the 1.1 verdict structs.  Since: 1.1 */
/** @{ */
HRE_API int hre_contract_access_init(hre_contract_access *out, unsigned int version);
HRE_API int hre_contract_node_init(hre_contract_node *out, unsigned int version);
/** @} */

/** Address of an account first registered with `key` (34-byte wire form):
 *  sha256(key).  Returns: HRE_OK; HRE_EINVAL; HRE_ECRYPTO.  Since: 1.0 */
HRE_API int hre_contract_address(uint8_t out[32], const uint8_t key[34]);

/** Id of the founding organisation of a network:
 *  sha256("HRE-GENESIS-ORG" || network_id).  Since: 1.0 */
HRE_API int hre_contract_genesis_org_id(uint8_t out[32], const uint8_t network_id[32]);

/** Look an account up by address (or, with _by_key, by any key it has had).
 *  Args: c (self).
 *  Out: *out: the account, in the version out->version names (zeroed except
 *       version when not found); *retired (_by_key; may be NULL): 1 if that
 *       key was rotated out.
 *  In:  address (32 bytes) / key (34-byte wire form).
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (out->version);
 *           HRE_ENOTFOUND.  Since: 1.0 */
/** @{ */
HRE_API int hre_contract_account_get(const hre_contract *c, hre_contract_account *out,
                                     const uint8_t address[32]);
HRE_API int hre_contract_account_by_key(const hre_contract *c, hre_contract_account *out,
                                        int *retired, const uint8_t key[34]);
/** @} */

/** Look an organisation up by id.  Args/Out/Returns as
 *  hre_contract_account_get.  Since: 1.0 */
HRE_API int hre_contract_org_get(const hre_contract *c, hre_contract_org *out,
                                 const uint8_t org_id[32]);

/** A record by id: its fields, signers and status.
 *  Args/Out/Returns as hre_contract_account_get.  Since: 1.0 */
HRE_API int hre_contract_record_get(const hre_contract *c, hre_contract_record *out,
                                    const uint8_t record_id[32]);

/** Ids of a patient's records, oldest first, into ids (32 bytes each).
 *  Args: c (self). Out: ids. In: patient (address).
 *  In/Out: *n: capacity (in ids) in; number of ids out (the number needed
 *          with HRE_EBUFSIZE). ids may be NULL when *n == 0.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOTFOUND (no such account);
 *           HRE_EBUFSIZE.  Cost: O(records of that patient).
 *  Since: 1.0 */
HRE_API int hre_contract_records_by_patient(const hre_contract *c, uint8_t *ids,
                                            size_t *n, const uint8_t patient[32]);

/** The grants a patient has given, oldest first (a list of versioned
 *  structs, common.h rule 7).
 *  Args: c (self).
 *  Out: out: *n elements of elem_size bytes each (may be NULL when *n == 0).
 *       Each is filled in the newest version whose fields fit in elem_size
 *       bytes, and its .version says which; nothing past elem_size bytes of
 *       an element is written.
 *  In:  elem_size: sizeof(hre_contract_grant) as the caller compiled it.
 *  In/Out: *n: capacity in elements in; elements written out (needed, with
 *          HRE_EBUFSIZE).
 *  In:  patient (address).
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (elem_size smaller
 *           than version 1); HRE_ENOTFOUND; HRE_EBUFSIZE.  Since: 1.0 */
HRE_API int hre_contract_grants_by_patient(const hre_contract *c, hre_contract_grant *out,
                                           size_t elem_size, size_t *n, const uint8_t patient[32]);

/** One grant by id.  Args/Out/Returns as hre_contract_account_get.  Since: 1.0 */
HRE_API int hre_contract_grant_get(const hre_contract *c, hre_contract_grant *out,
                                   const uint8_t grant_id[32]);

/** The record ids listed in a HRE_SCOPE_RECORDS grant (ids, in/out *n as
 *  hre_contract_records_by_patient; 0 ids for other scopes), and a grant's
 *  opaque envelope (out may be NULL with *len == 0; In/Out *len: capacity /
 *  bytes, HRE_EBUFSIZE when small). Args: c (self). In: grant_id.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ENOTFOUND; HRE_EBUFSIZE.  Since: 1.0 */
/** @{ */
HRE_API int hre_contract_grant_records(const hre_contract *c, uint8_t *ids,
                                       size_t *n, const uint8_t grant_id[32]);
HRE_API int hre_contract_grant_envelope(const hre_contract *c, uint8_t *out,
                                        size_t *len, const uint8_t grant_id[32]);
/** @} */

/** Audit trail: the events about a record (created, signatures, signed,
 *  accesses) or about an account (as subject: role changes, its records'
 *  events, grants, revokes, accesses to its records), oldest first.
 *  Args/Out/In/Returns as hre_contract_grants_by_patient, with elem_size =
 *  sizeof(hre_contract_event).  Since: 1.0 */
/** @{ */
HRE_API int hre_contract_record_events(const hre_contract *c, hre_contract_event *out,
                                       size_t elem_size, size_t *n, const uint8_t record_id[32]);
HRE_API int hre_contract_account_events(const hre_contract *c, hre_contract_event *out,
                                        size_t elem_size, size_t *n, const uint8_t address[32]);
/** @} */

/** May `reader` access this record at `block_time`, and why (not)? The rule
 *  of docs/PROTOCOL.md 5.2 ("Access"), the one LOG_ACCESS is checked with: the
 *  record's patient; an active admin or doctor (the authority counts as the
 *  genesis organisation's admin) of the record's issuing or lab
 *  organisation; or a reader covered by a live grant (newest first). The
 *  checks run in this order, the first failing one decides:
 *  UNKNOWN_RECORD, UNKNOWN_READER, ERASED, READER_SUSPENDED, ORG_SUSPENDED,
 *  then patient / role / live grant, else REVOKED or EXPIRED (the newest
 *  grant that matches reader and scope but is dead: revoked wins over
 *  expired), else NO_GRANT. A vault re-wraps a document key for a reader
 *  only on HRE_OK.
 *  Args: c (self).
 *  Out: *out (may be NULL: only the result code): the verdict, in the
 *       version out->version names. Filled on HRE_OK and on every refusal
 *       (reason set; on HRE_OK basis and, for BY_GRANT, the grant).
 *  In:  reader (address), record_id, block_time (grants are live while
 *       block_time < expiry).
 *  Returns: HRE_OK (allowed); HRE_ENOTFOUND (UNKNOWN_RECORD, UNKNOWN_READER);
 *           HRE_EERASED (ERASED); HRE_EAUTH (NO_GRANT, REVOKED, EXPIRED,
 *           READER_SUSPENDED, ORG_SUSPENDED); HRE_EINVAL (NULL);
 *           HRE_EUNSUPPORTED (out->version).
 *  Thread safety: a query (concurrent with other queries).  Since: 1.1 */
HRE_API int hre_contract_access_check(const hre_contract *c, hre_contract_access *out,
                                      const uint8_t reader[32], const uint8_t record_id[32],
                                      uint64_t block_time) HRE_WARN_UNUSED_RESULT;

/** hre_contract_access_check without the verdict struct (the same rule and
 *  the same result codes).  Since: 1.0 */
HRE_API int hre_contract_can_access(const hre_contract *c, const uint8_t reader[32],
                                    const uint8_t record_id[32],
                                    uint64_t block_time) HRE_WARN_UNUSED_RESULT;

/** Is `node_key` the CURRENT key of an active node account whose
 *  organisation is active? The membership test of a node handshake (the
 *  peer proves it holds node_key; the chain says whether that key speaks
 *  for an organisation now). Checked in this order: UNKNOWN_KEY, NOT_A_NODE,
 *  KEY_ROTATED, SUSPENDED, ORG_SUSPENDED.
 *  Args: c (self).
 *  Out: *out (may be NULL): the verdict in the version out->version names,
 *       filled on HRE_OK and on every refusal: reason, and whenever the key
 *       belongs or belonged to an account its address, role and organisation.
 *  In:  node_key: 34-byte wire public key.
 *  Returns: HRE_OK (a member); HRE_ENOTFOUND (UNKNOWN_KEY, NOT_A_NODE);
 *           HRE_EAUTH (KEY_ROTATED, SUSPENDED, ORG_SUSPENDED); HRE_EINVAL;
 *           HRE_EUNSUPPORTED (out->version).
 *  Thread safety: a query.  Since: 1.1 */
HRE_API int hre_contract_node_status(const hre_contract *c, hre_contract_node *out,
                                     const uint8_t node_key[34]) HRE_WARN_UNUSED_RESULT;

/** The current encryption key of an account or an organisation (SET_ENC_KEY).
 *  Args: c (self).
 *  Out: key: the 34-byte P-256 wire key (zeroed on failure).
 *  In:  target_type: HRE_ENC_TARGET_ACCOUNT or HRE_ENC_TARGET_ORG;
 *       id: the address or the organisation id.
 *  Returns: HRE_OK; HRE_ENOTFOUND (no such account / organisation, or it has
 *           no encryption key: the detail says which); HRE_EINVAL (NULL,
 *           unknown target type).
 *  Thread safety: a query.  Since: 1.1 */
HRE_API int hre_contract_enc_key_get(const hre_contract *c, uint8_t key[34], uint8_t target_type,
                                     const uint8_t id[32]);

/** Counters, in the version out->version names.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED (out->version).  Since: 1.0 */
HRE_API int hre_contract_stats_get(const hre_contract *c, hre_contract_stats *out);

/* ------------------------------------------------------------------------ */
/* Commitments (privacy rule)                                                */
/* ------------------------------------------------------------------------ */

/** out = HMAC-SHA256(key = salt, msg = u8 field || value): the commitment put
 *  in a new_record payload. field is HRE_COMMIT_PATIENT_ID or
 *  HRE_COMMIT_TEST_NAME; saltlen in [HRE_CONTRACT_SALT_MIN, HRE_CONTRACT_SALT_MAX].
 *  The salt travels only inside the encrypted off-chain document.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ELIMIT (value > 65536 bytes); HRE_ECRYPTO.
 *  Since: 1.0 */
HRE_API int hre_contract_commit(uint8_t out[32], uint8_t field, const uint8_t *salt, size_t saltlen,
                                const uint8_t *value, size_t len);

/** Check cleartext patient id and test name against a record's commitments
 *  (constant-time comparison).
 *  Returns: HRE_OK (both match); HRE_EVERIFY (either differs);
 *           HRE_ENOTFOUND; HRE_EINVAL.  Since: 1.0 */
HRE_API int hre_contract_check_commitment(const hre_contract *c, const uint8_t record_id[32],
                                          const uint8_t *salt, size_t saltlen,
                                          const uint8_t *patient_id, size_t patient_id_len,
                                          const uint8_t *test_name,
                                          size_t test_name_len) HRE_WARN_UNUSED_RESULT;

/* ------------------------------------------------------------------------ */
/* Snapshots                                                                 */
/* ------------------------------------------------------------------------ */

/** Serialise the whole state (not the undo journal) in the versioned,
 *  checksummed format of docs/PROTOCOL.md 5.7 (format version 2), tables in
 *  their canonical (creation) order.
 *  Args: c (self). Out: out.
 *  In/Out: *len: capacity of out in; bytes written out (or needed, with
 *          HRE_EBUFSIZE). out may be NULL with *len == 0 to learn the size.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EBUFSIZE; HRE_ECRYPTO.  Since: 1.0 */
HRE_API int hre_contract_snapshot_save(const hre_contract *c, uint8_t *out, size_t *len);

/** Load a snapshot (hostile input): checksum, version, every count and
 *  length cap, every cross-reference, uniqueness, the canonical (creation)
 *  order of every table and the recorded state hash are checked. Format
 *  version 2; version 1 (libhre 1.0's) gives HRE_EUNSUPPORTED (a ledger
 *  then replays its chain). The network id and authority key must equal opts'; events
 *  go to opts' callback from now on. The undo journal starts empty.
 *  Threads: opts->pool (version 3) if set, else opts->threads (version 2)
 *  on a pool made for the call. With more than one thread the checksum runs
 *  beside the decoding, and the state-hash recompute is shared out between
 *  the threads, right behind the decoder and beside the index rebuild
 *  (docs/PROTOCOL.md 5.7); the result and every check are the same as with
 *  one. If the call's own threads cannot be started the work is done on
 *  fewer; pool items its workers do not take run on the calling thread.
 *  Out: *out: new state owned by the caller (NULL on failure).
 *  Returns: HRE_OK; HRE_EINVAL (NULL, other network or authority);
 *           HRE_EUNSUPPORTED (version); HRE_EDECODE (malformed);
 *           HRE_ELIMIT; HRE_ECORRUPT (checksum or state hash mismatch,
 *           inconsistent content, a table out of canonical order -- the
 *           detail names it); HRE_ENOMEM.  Since: 1.0 */
HRE_API int hre_contract_snapshot_load(hre_contract **out, const hre_contract_options *opts,
                                       const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;

/* ------------------------------------------------------------------------ */
/* Payloads: value structs, strict codecs and builders                       */
/* ------------------------------------------------------------------------ */
/*
 * Every kind has a payload struct (pointer fields are borrowed: on decode
 * they point into the input buffer), and three calls:
 *  - hre_contract_encode_<kind>(p, out, *len): canonical encoding of the
 *    payload p (self, then the output, as every encode call).
 *    In/Out *len: capacity in, bytes written out (or needed with
 *    HRE_EBUFSIZE; out may be NULL with *len == 0).
 *    Returns: HRE_OK; HRE_EINVAL (NULL or a field out of range);
 *             HRE_ELIMIT (a length over its cap); HRE_EBUFSIZE.
 *  - hre_contract_decode_<kind>(out, in, len): strict decoding (payload
 *    version 1, every cap, canonical CompactSize, valid enums, no trailing
 *    bytes). Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EDECODE; HRE_ELIMIT
 *    (*out zeroed on failure).
 *  - hre_contract_build_<kind>(out, network_id, signer, nonce, timestamp, p):
 *    encode, create the envelope, and sign it with signer.
 *    Out: *out: new signed tx owned by the caller (free with hre_tx_free).
 *    Returns: the encode codes; HRE_ENOMEM; HRE_ECRYPTO.
 * All are thread-safe (no shared state).  Since: 1.0
 */

/** Payload of HRE_KIND_REGISTER_ORG (docs/PROTOCOL.md 5.2).  Since: 1.0 */
typedef struct hre_register_org_payload {
    uint8_t org_type;           /* HRE_ORG_* */
    const uint8_t *name;        /* 1..HRE_CONTRACT_NAME_MAX bytes, no control bytes */
    size_t name_len;            /* bytes at name */
    uint8_t admin_key[34];      /* the organisation's first admin */
} hre_register_org_payload;

/** Payload of HRE_KIND_APPOINT_ADMIN (docs/PROTOCOL.md 5.2).  Since: 1.0 */
typedef struct hre_appoint_admin_payload {
    uint8_t org_id[32];         /* the organisation */
    uint8_t admin_key[34];      /* the new admin's key (wire form) */
} hre_appoint_admin_payload;

/** Payload of HRE_KIND_REGISTER_DOCTOR (docs/PROTOCOL.md 5.2).  Since: 1.0 */
typedef struct hre_register_doctor_payload {
    uint8_t doctor_key[34];     /* the doctor's key; it joins the sender's organisation */
} hre_register_doctor_payload;

/** Payload of HRE_KIND_REGISTER_PATIENT (docs/PROTOCOL.md 5.2).  Since: 1.0 */
typedef struct hre_register_patient_payload {
    uint8_t reserved;           /* must be 0; the payload is just the version byte */
} hre_register_patient_payload;

/** Payload of HRE_KIND_SUSPEND (docs/PROTOCOL.md 5.2).  Since: 1.0 */
typedef struct hre_suspend_payload {
    uint8_t target[32];         /* address */
    uint8_t action;             /* HRE_SUSPEND_SUSPEND or HRE_SUSPEND_REINSTATE */
} hre_suspend_payload;

/** Payload of HRE_KIND_ROTATE_KEY (docs/PROTOCOL.md 5.2).  Since: 1.0 */
typedef struct hre_rotate_key_payload {
    uint8_t target[32];         /* address */
    uint8_t new_key[34];        /* the replacement key (wire form) */
} hre_rotate_key_payload;

/** Payload of HRE_KIND_NEW_RECORD (docs/PROTOCOL.md 5.2).  Since: 1.0 */
typedef struct hre_new_record_payload {
    uint8_t patient[32];            /* patient address */
    uint8_t lab_org[32];            /* lab organisation id */
    uint8_t commit_patient_id[32];  /* hre_contract_commit(HRE_COMMIT_PATIENT_ID, ...) */
    uint8_t commit_test_name[32];   /* hre_contract_commit(HRE_COMMIT_TEST_NAME, ...) */
    uint64_t date;                  /* seconds since the epoch (clear, for settlement) */
    uint64_t price;                 /* minor currency units (clear, for settlement) */
    uint8_t category;               /* host-defined category (grant scopes) */
    uint8_t doc_sha256[32];         /* sha256 of the off-chain (encrypted) document */
    const uint8_t *hospital_name;   /* 1..HRE_CONTRACT_NAME_MAX, no control bytes */
    size_t hospital_name_len;       /* bytes at hospital_name */
    uint8_t locator[32];            /* opaque, chosen by the issuer (the vault's document id):
                                       never a path, file name or other plaintext */
    uint8_t has_supersedes;         /* 0 or 1 */
    uint8_t supersedes[32];         /* the record this one corrects (same patient), if has_supersedes */
} hre_new_record_payload;

/** Payload of HRE_KIND_SIGN_RECORD (docs/PROTOCOL.md 5.2).  Since: 1.0 */
typedef struct hre_sign_record_payload {
    uint8_t record_id[32];      /* the record to sign */
} hre_sign_record_payload;

/** Payload of HRE_KIND_GRANT (docs/PROTOCOL.md 5.2).  Since: 1.0 */
typedef struct hre_grant_payload {
    uint8_t reader_type;            /* HRE_READER_* */
    uint8_t reader[32];             /* address or org id */
    uint8_t scope;                  /* HRE_SCOPE_* */
    uint8_t category;               /* HRE_SCOPE_CATEGORY only (else must be 0) */
    const uint8_t *record_ids;      /* HRE_SCOPE_RECORDS: count*32 bytes, strictly increasing */
    size_t record_count;            /* 1..HRE_CONTRACT_GRANT_IDS_MAX (else 0) */
    uint64_t expiry;                /* 0 = none; else live while block_time < expiry */
    const uint8_t *envelope;        /* opaque, 0..HRE_CONTRACT_ENVELOPE_MAX bytes */
    size_t envelope_len;            /* bytes at envelope */
} hre_grant_payload;

/** Payload of HRE_KIND_REVOKE (docs/PROTOCOL.md 5.2).  Since: 1.0 */
typedef struct hre_revoke_payload {
    uint8_t grant_id[32];       /* the grant to revoke */
} hre_revoke_payload;

/** Payload of HRE_KIND_LOG_ACCESS (docs/PROTOCOL.md 5.2).  Since: 1.0 */
typedef struct hre_log_access_payload {
    uint8_t record_id[32];          /* the record accessed */
    uint8_t purpose;                /* host-defined purpose of use code */
} hre_log_access_payload;

/* since 1.1 */
/** Payload of HRE_KIND_REGISTER_NODE (docs/PROTOCOL.md 5.2).  Since: 1.1 */
typedef struct hre_register_node_payload {
    uint8_t node_key[34];           /* a key never used by any account */
} hre_register_node_payload;

/** Payload of HRE_KIND_SUSPEND_ORG (docs/PROTOCOL.md 5.2).  Since: 1.1 */
typedef struct hre_suspend_org_payload {
    uint8_t org_id[32];             /* the organisation */
    uint8_t action;                 /* HRE_SUSPEND_SUSPEND or HRE_SUSPEND_REINSTATE */
} hre_suspend_org_payload;

/** Payload of HRE_KIND_SET_ENC_KEY (docs/PROTOCOL.md 5.2).  Since: 1.1 */
typedef struct hre_set_enc_key_payload {
    uint8_t target_type;            /* HRE_ENC_TARGET_ACCOUNT or HRE_ENC_TARGET_ORG */
    uint8_t target[32];             /* address or organisation id */
    uint8_t enc_key[34];            /* P-256 wire key (curve id 1); the point must parse */
} hre_set_enc_key_payload;

/** Payload of HRE_KIND_ERASE_RECORD (docs/PROTOCOL.md 5.2).  Since: 1.1 */
typedef struct hre_erase_record_payload {
    uint8_t record_id[32];      /* the record to erase */
} hre_erase_record_payload;

/** HRE_KIND_REGISTER_ORG: the authority registers an organisation and its first admin.
 *  Codec and builder trio; arguments, return codes, ownership and thread
 *  safety as described in the "Payloads" comment above; refusal reasons in
 *  docs/PROTOCOL.md section 5.4.  Since: 1.0 */
/** @{ */
HRE_API int hre_contract_encode_register_org(const hre_register_org_payload *p, uint8_t *out, size_t *len);
HRE_API int hre_contract_decode_register_org(hre_register_org_payload *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;
HRE_API int hre_contract_build_register_org(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                                            uint64_t nonce, uint64_t timestamp, const hre_register_org_payload *p);
/** @} */

/** HRE_KIND_APPOINT_ADMIN: the authority appoints one more admin for an organisation.
 *  Codec and builder trio; arguments, return codes, ownership and thread
 *  safety as described in the "Payloads" comment above; refusal reasons in
 *  docs/PROTOCOL.md section 5.4.  Since: 1.0 */
/** @{ */
HRE_API int hre_contract_encode_appoint_admin(const hre_appoint_admin_payload *p, uint8_t *out, size_t *len);
HRE_API int hre_contract_decode_appoint_admin(hre_appoint_admin_payload *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;
HRE_API int hre_contract_build_appoint_admin(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                                             uint64_t nonce, uint64_t timestamp, const hre_appoint_admin_payload *p);
/** @} */

/** HRE_KIND_REGISTER_DOCTOR: an organisation admin registers a doctor of its organisation.
 *  Codec and builder trio; arguments, return codes, ownership and thread
 *  safety as described in the "Payloads" comment above; refusal reasons in
 *  docs/PROTOCOL.md section 5.4.  Since: 1.0 */
/** @{ */
HRE_API int hre_contract_encode_register_doctor(const hre_register_doctor_payload *p, uint8_t *out, size_t *len);
HRE_API int hre_contract_decode_register_doctor(hre_register_doctor_payload *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;
HRE_API int hre_contract_build_register_doctor(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                                               uint64_t nonce, uint64_t timestamp, const hre_register_doctor_payload *p);
/** @} */

/** HRE_KIND_REGISTER_PATIENT: anyone registers the sender key as a patient.
 *  Codec and builder trio; arguments, return codes, ownership and thread
 *  safety as described in the "Payloads" comment above; refusal reasons in
 *  docs/PROTOCOL.md section 5.4.  Since: 1.0 */
/** @{ */
HRE_API int hre_contract_encode_register_patient(const hre_register_patient_payload *p, uint8_t *out, size_t *len);
HRE_API int hre_contract_decode_register_patient(hre_register_patient_payload *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;
HRE_API int hre_contract_build_register_patient(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                                                uint64_t nonce, uint64_t timestamp, const hre_register_patient_payload *p);
/** @} */

/** HRE_KIND_SUSPEND: the authority or an organisation admin suspends or reinstates an account.
 *  Codec and builder trio; arguments, return codes, ownership and thread
 *  safety as described in the "Payloads" comment above; refusal reasons in
 *  docs/PROTOCOL.md section 5.4.  Since: 1.0 */
/** @{ */
HRE_API int hre_contract_encode_suspend(const hre_suspend_payload *p, uint8_t *out, size_t *len);
HRE_API int hre_contract_decode_suspend(hre_suspend_payload *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;
HRE_API int hre_contract_build_suspend(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                                       uint64_t nonce, uint64_t timestamp, const hre_suspend_payload *p);
/** @} */

/** HRE_KIND_ROTATE_KEY: the authority, an organisation admin, or the account itself replaces a key.
 *  Codec and builder trio; arguments, return codes, ownership and thread
 *  safety as described in the "Payloads" comment above; refusal reasons in
 *  docs/PROTOCOL.md section 5.4.  Since: 1.0 */
/** @{ */
HRE_API int hre_contract_encode_rotate_key(const hre_rotate_key_payload *p, uint8_t *out, size_t *len);
HRE_API int hre_contract_decode_rotate_key(hre_rotate_key_payload *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;
HRE_API int hre_contract_build_rotate_key(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                                          uint64_t nonce, uint64_t timestamp, const hre_rotate_key_payload *p);
/** @} */

/** HRE_KIND_NEW_RECORD: an admin of a hospital or clinic creates a record.
 *  Codec and builder trio; arguments, return codes, ownership and thread
 *  safety as described in the "Payloads" comment above; refusal reasons in
 *  docs/PROTOCOL.md section 5.4.  Since: 1.0 */
/** @{ */
HRE_API int hre_contract_encode_new_record(const hre_new_record_payload *p, uint8_t *out, size_t *len);
HRE_API int hre_contract_decode_new_record(hre_new_record_payload *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;
HRE_API int hre_contract_build_new_record(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                                          uint64_t nonce, uint64_t timestamp, const hre_new_record_payload *p);
/** @} */

/** HRE_KIND_SIGN_RECORD: the issuing organisation's admin or the lab's admin signs a record.
 *  Codec and builder trio; arguments, return codes, ownership and thread
 *  safety as described in the "Payloads" comment above; refusal reasons in
 *  docs/PROTOCOL.md section 5.4.  Since: 1.0 */
/** @{ */
HRE_API int hre_contract_encode_sign_record(const hre_sign_record_payload *p, uint8_t *out, size_t *len);
HRE_API int hre_contract_decode_sign_record(hre_sign_record_payload *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;
HRE_API int hre_contract_build_sign_record(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                                           uint64_t nonce, uint64_t timestamp, const hre_sign_record_payload *p);
/** @} */

/** HRE_KIND_GRANT: a patient grants a reader access.
 *  Codec and builder trio; arguments, return codes, ownership and thread
 *  safety as described in the "Payloads" comment above; refusal reasons in
 *  docs/PROTOCOL.md section 5.4.  Since: 1.0 */
/** @{ */
HRE_API int hre_contract_encode_grant(const hre_grant_payload *p, uint8_t *out, size_t *len);
HRE_API int hre_contract_decode_grant(hre_grant_payload *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;
HRE_API int hre_contract_build_grant(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                                     uint64_t nonce, uint64_t timestamp, const hre_grant_payload *p);
/** @} */

/** HRE_KIND_REVOKE: a patient revokes one of their grants.
 *  Codec and builder trio; arguments, return codes, ownership and thread
 *  safety as described in the "Payloads" comment above; refusal reasons in
 *  docs/PROTOCOL.md section 5.4.  Since: 1.0 */
/** @{ */
HRE_API int hre_contract_encode_revoke(const hre_revoke_payload *p, uint8_t *out, size_t *len);
HRE_API int hre_contract_decode_revoke(hre_revoke_payload *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;
HRE_API int hre_contract_build_revoke(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                                      uint64_t nonce, uint64_t timestamp, const hre_revoke_payload *p);
/** @} */

/** HRE_KIND_LOG_ACCESS: a reader who may access the record (hre_contract_access_check) logs an access.
 *  Codec and builder trio; arguments, return codes, ownership and thread
 *  safety as described in the "Payloads" comment above; refusal reasons in
 *  docs/PROTOCOL.md section 5.4.  Since: 1.0 */
/** @{ */
HRE_API int hre_contract_encode_log_access(const hre_log_access_payload *p, uint8_t *out, size_t *len);
HRE_API int hre_contract_decode_log_access(hre_log_access_payload *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;
HRE_API int hre_contract_build_log_access(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                                          uint64_t nonce, uint64_t timestamp, const hre_log_access_payload *p);
/** @} */

/** HRE_KIND_REGISTER_NODE: an organisation admin registers a node of its organisation.
 *  Codec and builder trio as described in the "Payloads" comment above;
 *  refusal reasons in docs/PROTOCOL.md section 5.4.  Since: 1.1 */
/** @{ */
HRE_API int hre_contract_encode_register_node(const hre_register_node_payload *p, uint8_t *out, size_t *len);
HRE_API int hre_contract_decode_register_node(hre_register_node_payload *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;
HRE_API int hre_contract_build_register_node(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                                             uint64_t nonce, uint64_t timestamp, const hre_register_node_payload *p);
/** @} */

/** HRE_KIND_SUSPEND_ORG: the authority suspends or reinstates an organisation.
 *  Codec and builder trio as described in the "Payloads" comment above;
 *  refusal reasons in docs/PROTOCOL.md section 5.4.  Since: 1.1 */
/** @{ */
HRE_API int hre_contract_encode_suspend_org(const hre_suspend_org_payload *p, uint8_t *out, size_t *len);
HRE_API int hre_contract_decode_suspend_org(hre_suspend_org_payload *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;
HRE_API int hre_contract_build_suspend_org(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                                           uint64_t nonce, uint64_t timestamp, const hre_suspend_org_payload *p);
/** @} */

/** HRE_KIND_SET_ENC_KEY: an account, the authority or an organisation admin publishes an encryption key.
 *  Codec and builder trio as described in the "Payloads" comment above
 *  (the encoder and the decoder parse the point: HRE_EINVAL / HRE_EDECODE
 *  when it is not a P-256 point; HRE_ENOMEM); refusal reasons in
 *  docs/PROTOCOL.md section 5.4.  Since: 1.1 */
/** @{ */
HRE_API int hre_contract_encode_set_enc_key(const hre_set_enc_key_payload *p, uint8_t *out, size_t *len);
HRE_API int hre_contract_decode_set_enc_key(hre_set_enc_key_payload *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;
HRE_API int hre_contract_build_set_enc_key(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                                           uint64_t nonce, uint64_t timestamp, const hre_set_enc_key_payload *p);
/** @} */

/** HRE_KIND_ERASE_RECORD: the record's patient or the authority erases a record.
 *  Codec and builder trio as described in the "Payloads" comment above;
 *  refusal reasons in docs/PROTOCOL.md section 5.4.  Since: 1.1 */
/** @{ */
HRE_API int hre_contract_encode_erase_record(const hre_erase_record_payload *p, uint8_t *out, size_t *len);
HRE_API int hre_contract_decode_erase_record(hre_erase_record_payload *out, const uint8_t *in, size_t len) HRE_WARN_UNUSED_RESULT;
HRE_API int hre_contract_build_erase_record(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                                            uint64_t nonce, uint64_t timestamp, const hre_erase_record_payload *p);
/** @} */

HRE_END_DECLS

#endif /* HRE_CONTRACT_H */
