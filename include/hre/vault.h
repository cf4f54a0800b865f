/*
 * libhre layer 7: the vault. Encrypted off-chain record documents, one HPKE
 * wrap of each document's data key per reader, a crash-safe content-addressed
 * store on any storage handle, access rules checked against the record
 * contract, and crypto-shredding on erasure.
 *
 * docs/PROTOCOL.md section 14 is the normative, byte-exact description of
 * every format below (envelope header, chunks, padded stream, wrap record,
 * files) and of every rule (buckets, key schedule, HPKE info, erasure).
 *
 * ------------------------------------------------------------------------
 * Documents and envelopes
 * ------------------------------------------------------------------------
 * A document is any byte string (a FHIR resource, a PDF, a DICOM image ...)
 * with an optional media type. Sealing turns it into an ENVELOPE:
 *   - the media type and the document, zlib-compressed when that pays off
 *     (HRE_VAULT_COMPRESS_AUTO: a trial on the first 64 KiB), form the
 *     payload; the payload is padded to a size bucket (Padme, at least
 *     HRE_VAULT_PAD_MIN bytes), so the envelope's length leaks O(log log n)
 *     bits of the document's;
 *   - the padded payload is cut into chunks of 64 KiB and encrypted with
 *     AES-256-GCM in the STREAM construction: each chunk's nonce is a random
 *     per-envelope prefix, the chunk index and a final-chunk flag, and its
 *     AAD is the envelope header, the index and the flag, so reordering,
 *     truncation and extension are all detected;
 *   - the chunk key and a key commitment (in the header) are derived from a
 *     fresh random 32-byte DATA KEY with HKDF-SHA256. The data key never
 *     leaves the library in clear: not through this API, a log line, an
 *     error detail or a file. It exists outside memory only as wraps.
 * The envelope is header (HRE_VAULT_HEADER_LEN bytes) || chunks. Its
 * SHA-256 is the DOCUMENT HASH: the content address in the vault and the
 * doc_sha256 the issuer puts in new_record (hre_new_record_payload).
 *
 * The header binds the record's LOCATOR (32 random bytes the issuer chooses
 * before sealing and writes into new_record.locator) and the DOCUMENT
 * VERSION (1 for a record's first document; a new version is a new record
 * that supersedes the old one, sealed under a fresh data key). The record id
 * (the new_record txid) cannot be bound, since it depends on the document
 * hash; the chain binds locator, document hash and record id together
 * instead (PROTOCOL.md 14.1 explains why that is equivalent).
 *
 * Memory: sealing, opening, storing, importing and erasing stream: each
 * holds at most a few chunks and one zlib state (about 0.5 MiB), whatever
 * the document's size (up to HRE_VAULT_DOC_MAX).
 *
 * ------------------------------------------------------------------------
 * Wraps and readers
 * ------------------------------------------------------------------------
 * A wrap (hre_vault_wrap) is the data key encrypted with HPKE (RFC 9180,
 * hpke.h) to one reader's P-256 ENCRYPTION key (published on the chain with
 * SET_ENC_KEY, separate from signing keys). Readers are accounts (patient,
 * doctor) or organisations (the issuing hospital, the lab): reader_type
 * HRE_VAULT_READER_ACCOUNT / _ORG with the address or organisation id. The
 * HPKE info binds locator, document version and reader; the AAD is the
 * document hash. When the sender (holder) has an encryption key, wraps use
 * HPKE auth mode, so the reader knows which holder made the wrap
 * (sender_type, sender_id, sender_key in the wrap); otherwise base mode.
 *
 * At creation the issuer wraps for the patient, the issuing organisation
 * and the lab organisation. Later a holder RE-WRAPS for a reader only when
 * its contract state says that reader may access the record now
 * (hre_contract_access_check: a live grant, or a role), and says why not
 * otherwise. Revocation: hre_vault_prune deletes the wraps of readers who
 * lost access, holders refuse to re-wrap for them, and a new document
 * version uses a data key they never had. THE LIMIT: a reader who once
 * decrypted a document (or kept its wrap and key) keeps what it decrypted;
 * no system can take back plaintext it has released.
 *
 * ------------------------------------------------------------------------
 * The vault handle (storage)
 * ------------------------------------------------------------------------
 * hre_vault keeps envelopes and wraps on a storage handle (storage.h), its
 * own or shared with a ledger: every file name starts with the vault's
 * prefix ("vault" by default) followed by '-'. Envelopes are stored by
 * document hash; an index (a CRC-framed record log) lists the documents,
 * their locators, bound record ids, erasures and pending erasures, and is
 * loaded into memory at open. A document and its wraps become visible
 * together, atomically, when the index record that adds them is durable;
 * anything a crash leaves behind half-written is removed at the next open.
 *
 * Erasure (crypto-shredding, GDPR Art. 17): hre_vault_erase writes a durable
 * tombstone first (queries then say HRE_EERASED), then overwrites the wraps
 * and the envelope with zeros, syncs, and removes them. A power loss after
 * the tombstone is durable is completed at the next open (the tombstones are
 * the erase journal). The chain is untouched and still verifies. The host
 * forwards ledger events (hre_vault_handle_event) and calls
 * hre_vault_reconcile after opening, so an ERASE_RECORD that connected while
 * the vault was down is applied too. Overwriting reaches the medium only on
 * backends that overwrite in place (sys/storage.h, "Erasure").
 *
 * ------------------------------------------------------------------------
 * Threads and fatal state
 * ------------------------------------------------------------------------
 * An hre_vault, and the store and import objects made from it, are used by
 * one thread at a time (they share the vault's storage, which is one thread
 * at a time too). Sealers and openers are independent objects: one thread at
 * a time each, different ones in parallel. The sans-I/O codecs (header, wrap,
 * bucket) are safe from any thread.
 * A vault whose storage failed in a way it cannot repair (an index append or
 * sync that failed and could not be rolled back) is FATAL (common.h rule
 * 10): every state-changing call then returns HRE_EFATAL; the queries
 * (hre_vault_entry_get, hre_vault_entry_by_locator, hre_vault_wrap_get,
 * hre_vault_wrap_at, hre_vault_stats_get), hre_vault_read,
 * hre_vault_envelope_read and hre_vault_close stay valid. Close and reopen
 * it: the open repairs what the crash-safety rules allow.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef HRE_VAULT_H
#define HRE_VAULT_H

#include "common.h"
#include "key.h"
#include "hpke.h"
#include "contract.h"
#include "storage.h"
#include "node.h"   /* the exchange runs over the node's app messages */

HRE_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Constants                                                                 */
/* ------------------------------------------------------------------------ */

/** Envelope format version written by this library (header byte 4).
 *  Since: 1.1 */
#define HRE_VAULT_FORMAT 1
/** Encoded envelope header length.  Since: 1.1 */
#define HRE_VAULT_HEADER_LEN 82
/** Length of the random nonce prefix in the header (STREAM).  Since: 1.1 */
#define HRE_VAULT_NONCE_PREFIX_LEN 7
/** Chunk size: every chunk but the last holds HRE_VAULT_CHUNK_LEN bytes of
 *  plaintext (a 4-byte data length, then HRE_VAULT_CHUNK_DATA_LEN bytes of
 *  the padded payload) and is HRE_VAULT_CHUNK_LEN + 16 bytes on the wire.
 *  Since: 1.1 */
#define HRE_VAULT_CHUNK_LOG2 16
#define HRE_VAULT_CHUNK_LEN 65536        /* plaintext bytes of a full chunk (2^16) */
#define HRE_VAULT_CHUNK_DATA_LEN 65532   /* padded-payload bytes of a full chunk */
#define HRE_VAULT_CHUNK_WIRE_LEN 65552   /* a full chunk on the wire (with its tag) */
/** Smallest padded payload (bucket floor), bytes.  Since: 1.1 */
#define HRE_VAULT_PAD_MIN 512
/** Largest document accepted by a sealer or produced by an opener (2^40
 *  bytes, 1 TiB), and largest payload.  Since: 1.1 */
#define HRE_VAULT_DOC_MAX ((uint64_t)1 << 40)
/** Largest payload (media type + body after compression) and largest
 *  padded payload: 2^41 bytes.  Since: 1.1 */
#define HRE_VAULT_PAYLOAD_MAX ((uint64_t)1 << 41)
/** Longest media type (printable ASCII 0x20..0x7e).  Since: 1.1 */
#define HRE_VAULT_MEDIA_TYPE_MAX 127
/** Encoded wrap length (hre_vault_wrap_encode).  Since: 1.1 */
#define HRE_VAULT_WRAP_LEN 287
/** Most wraps a stored document keeps.  Since: 1.1 */
#define HRE_VAULT_WRAPS_MAX 256
/** Longest file-name prefix of a vault (hre_vault_options.prefix).
 *  Since: 1.1 */
#define HRE_VAULT_PREFIX_MAX 8

/** Reader and sender types (the values of HRE_ENC_TARGET_*).  Since: 1.1 */
#define HRE_VAULT_READER_ACCOUNT 0   /* id is an account address */
#define HRE_VAULT_READER_ORG     1   /* id is an organisation id */

/** Compression choice (hre_vault_seal_params.compress).  Since: 1.1 */
#define HRE_VAULT_COMPRESS_AUTO   0  /* compress if a trial on the first 64 KiB saves >= 1/8 */
#define HRE_VAULT_COMPRESS_NEVER  1  /* store the body raw */
#define HRE_VAULT_COMPRESS_ALWAYS 2  /* always store the body as a zlib stream */

/** Opener flags (hre_vault_open_params.flags).  Since: 1.1 */
/* Do not hash the envelope: skip the check that its SHA-256 equals the
 * wrap's doc_hash. Only for envelopes whose hash was checked when they were
 * stored (hre_vault_read uses it); the chunks are still authenticated. */
#define HRE_VAULT_OPEN_NO_HASH 0x1u

/** Document states (hre_vault_entry.state).  Since: 1.1 */
#define HRE_VAULT_PRESENT 1
#define HRE_VAULT_ERASED  2   /* crypto-shredded: envelope and wraps gone, tombstone kept */

/** hre_vault_verify flags.  Since: 1.1 */
#define HRE_VAULT_VERIFY_HASH 0x1u   /* also re-hash every envelope */

/* ------------------------------------------------------------------------ */
/* Value types and codecs (sans-I/O; safe from any thread)                   */
/* ------------------------------------------------------------------------ */

/** The envelope header (PROTOCOL.md 14.2). A value struct.  Since: 1.1 */
typedef struct hre_vault_header {
    uint8_t format;                    /* HRE_VAULT_FORMAT */
    uint8_t flags;                     /* 0 (reserved) */
    uint8_t chunk_log2;                /* HRE_VAULT_CHUNK_LOG2 */
    uint8_t locator[32];               /* the record's locator */
    uint32_t doc_version;              /* >= 1 */
    uint8_t nonce_prefix[HRE_VAULT_NONCE_PREFIX_LEN]; /* random; starts every chunk nonce */
    uint8_t key_commit[32];            /* HKDF commitment to the data key */
} hre_vault_header;

/** Encode a header.
 *  Args: h (self).
 *  Out: out: HRE_VAULT_HEADER_LEN bytes (may be NULL with *len == 0).
 *  In/Out: *len: capacity in; bytes written (or needed, HRE_EBUFSIZE) out.
 *  Returns: HRE_OK; HRE_EBUFSIZE; HRE_EINVAL (NULL; a field a decoder would
 *           refuse: format, flags, chunk_log2 or doc_version 0).
 *  Since: 1.1 */
HRE_API int hre_vault_header_encode(const hre_vault_header *h, uint8_t *out, size_t *len);

/** Decode a header (hostile input).
 *  Out: *out (zeroed on failure).
 *  In: in/len: exactly HRE_VAULT_HEADER_LEN bytes.
 *  Returns: HRE_OK; HRE_EDECODE (wrong length, bad magic, nonzero flags,
 *           chunk_log2 other than 16, version 0); HRE_EUNSUPPORTED (a format
 *           newer than HRE_VAULT_FORMAT); HRE_EINVAL (NULL).
 *  Since: 1.1 */
HRE_API int hre_vault_header_decode(hre_vault_header *out, const uint8_t *in,
                                    size_t len) HRE_WARN_UNUSED_RESULT;

/** One reader's wrap of a document's data key (PROTOCOL.md 14.4), as the
 *  vault keeps it and as the document exchange sends it. A value struct.
 *  Since: 1.1 */
typedef struct hre_vault_wrap {
    uint8_t doc_hash[32];              /* SHA-256 of the envelope (the HPKE aad) */
    uint8_t locator[32];               /* the envelope's locator and version */
    uint32_t doc_version;              /* >= 1 */
    uint8_t mode;                      /* HRE_HPKE_MODE_BASE or HRE_HPKE_MODE_AUTH */
    uint8_t reader_type;               /* HRE_VAULT_READER_* */
    uint8_t reader_id[32];             /* address or organisation id */
    uint8_t sender_type;               /* auth: HRE_VAULT_READER_*; base: 0 */
    uint8_t sender_id[32];             /* auth: who made the wrap; base: zero */
    uint8_t sender_key[34];            /* auth: its P-256 encryption key (wire); base: zero */
    uint8_t hpke[HRE_HPKE_WRAP_LEN];   /* enc || ct || tag (hpke.h) */
} hre_vault_wrap;

/** Encode a wrap in its HRE_VAULT_WRAP_LEN-byte wire form.
 *  Args: w (self). Out: out (may be NULL with *len == 0).
 *  In/Out: *len: capacity in; bytes written (or needed, HRE_EBUFSIZE) out.
 *  Returns: HRE_OK; HRE_EBUFSIZE; HRE_EINVAL (NULL, or a field a decoder
 *           would refuse).
 *  Since: 1.1 */
HRE_API int hre_vault_wrap_encode(const hre_vault_wrap *w, uint8_t *out, size_t *len);

/** Decode a wrap (hostile input): magic, format, mode (base or auth),
 *  reader and sender types, base-mode sender fields all zero, an auth-mode
 *  sender key with curve id 1 and prefix 02/03 (the point itself is checked
 *  when the wrap is opened), doc_version >= 1.
 *  Out: *out (zeroed on failure). In: in/len: exactly HRE_VAULT_WRAP_LEN bytes.
 *  Returns: HRE_OK; HRE_EDECODE; HRE_EUNSUPPORTED (newer format); HRE_EINVAL.
 *  Since: 1.1 */
HRE_API int hre_vault_wrap_decode(hre_vault_wrap *out, const uint8_t *in,
                                  size_t len) HRE_WARN_UNUSED_RESULT;

/** The padded payload length (the bucket) for a payload of len bytes:
 *  max(HRE_VAULT_PAD_MIN, Padme(len)), PROTOCOL.md 14.3. A pure function.
 *  Returns: the bucket (>= len); 0 if len > HRE_VAULT_PAYLOAD_MAX (no
 *  bucket: sealing refuses such a payload).
 *  Since: 1.1 */
HRE_API uint64_t hre_vault_bucket(uint64_t len);

/** Envelope length for a padded payload of padded_len bytes (header plus
 *  chunks with their 4-byte lengths and tags). A pure function.
 *  Returns: the length; 0 if padded_len is 0 or above HRE_VAULT_PAYLOAD_MAX.
 *  Since: 1.1 */
HRE_API uint64_t hre_vault_envelope_len(uint64_t padded_len);

#define HRE_VAULT_CONTENT_VERSION 1    /* newest version of hre_vault_content */
/** What an opened (or sealed) document held: a versioned result struct
 *  (common.h rule 7; set .version first).  Since: 1.1 */
typedef struct hre_vault_content {
    unsigned int version;              /* in: HRE_VAULT_CONTENT_VERSION */
    uint8_t doc_hash[32];              /* SHA-256 of the envelope (opener: of the
                                          bytes read, unless HRE_VAULT_OPEN_NO_HASH:
                                          then the wrap's) */
    uint64_t doc_len;                  /* document bytes (plaintext) */
    uint64_t payload_len;              /* media type + body after compression */
    uint64_t padded_len;               /* the bucket */
    uint64_t envelope_len;             /* header + chunks */
    uint8_t compressed;                /* 1 if the body is a zlib stream */
    uint8_t media_type_len;            /* media type bytes, 0..HRE_VAULT_MEDIA_TYPE_MAX */
    char media_type[HRE_VAULT_MEDIA_TYPE_MAX + 1];   /* NUL-terminated; "" if none */
} hre_vault_content;
/** Static initializer for hre_vault_content: current version, other fields zero.  Since: 1.1 */
#define HRE_VAULT_CONTENT_INIT { HRE_VAULT_CONTENT_VERSION, {0}, 0, 0, 0, 0, 0, 0, {0} }
/** Initialise a content struct for `version` (fields zero).
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_vault_content_init(hre_vault_content *out, unsigned int version);

/** Where sealed envelope bytes or opened plaintext go: called with each
 *  piece in order (len > 0; data valid only during the call).
 *  Returns: HRE_OK to go on; any other value stops the sealer or opener,
 *  which returns that value from the call that was running (use
 *  HRE_ECANCELED or HRE_EIO ...) and refuses further writes (HRE_ESTATE).
 *  It must not call into the sealer or opener that calls it.
 *  Since: 1.1 */
typedef int (*hre_vault_sink_fn)(void *user_data, const uint8_t *data, size_t len);

/* ------------------------------------------------------------------------ */
/* Sealing (sans-I/O)                                                        */
/* ------------------------------------------------------------------------ */

#define HRE_VAULT_SEAL_PARAMS_VERSION 1  /* newest version of hre_vault_seal_params */

/** What to seal and who seals it. Start from HRE_VAULT_SEAL_PARAMS_INIT or
 *  hre_vault_seal_params_init. Read during the new call only; the pointers
 *  (media_type, sender_key) are used until the sealer (or store) is freed.
 *  Since: 1.1 */
typedef struct hre_vault_seal_params {
    unsigned int version;              /* HRE_VAULT_SEAL_PARAMS_VERSION */
    uint8_t locator[32];               /* the record's locator (hre_random_bytes) */
    uint32_t doc_version;              /* >= 1 */
    const char *media_type;            /* NULL or "": none; else 1..127 printable ASCII */
    int compress;                      /* HRE_VAULT_COMPRESS_* (AUTO is 0) */
    int compress_level;                /* zlib level 1..9; 0 = 6 (zlib's default) */
    /* the sender of the wraps (auth mode); sender_key NULL = base mode */
    uint8_t sender_type;               /* HRE_VAULT_READER_* */
    uint8_t sender_id[32];             /* the sender's address or organisation id */
    const hre_key *sender_key;         /* the sender's P-256 encryption key (borrowed) */
} hre_vault_seal_params;

/** Static initializer for hre_vault_seal_params: current version, other fields zero.  Since: 1.1 */
#define HRE_VAULT_SEAL_PARAMS_INIT \
    { HRE_VAULT_SEAL_PARAMS_VERSION, {0}, 0, NULL, 0, 0, 0, {0}, NULL }

/** Initialise seal params to the defaults of `version` (every field zero).
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_vault_seal_params_init(hre_vault_seal_params *p, unsigned int version);

/** A document being sealed: push the plaintext in, the envelope comes out
 *  through the sink. Holds the data key (wiped when freed). Opaque.
 *  Since: 1.1 */
typedef struct hre_vault_sealer hre_vault_sealer;

/** Start sealing: draws a fresh data key and nonce prefix from OpenSSL's
 *  DRBG. The header is passed to the sink by the first write or by finish.
 *  Out: *out: new sealer owned by the caller, freed with
 *       hre_vault_sealer_free (NULL on failure).
 *  In: p: the params (copied; see hre_vault_seal_params for the pointers).
 *      sink, sink_user_data: where the envelope goes.
 *  Returns: HRE_OK; HRE_EINVAL (NULL, doc_version 0, bad media type,
 *           compress or level out of range, unknown sender type, a sender
 *           key not on P-256); HRE_EUNSUPPORTED (p->version); HRE_ENOMEM;
 *           HRE_ECRYPTO.
 *  Since: 1.1 */
HRE_API int hre_vault_sealer_new(hre_vault_sealer **out, const hre_vault_seal_params *p,
                                 hre_vault_sink_fn sink, void *sink_user_data);

/** Feed len more bytes of the document (any split; len 0 is fine). Whole
 *  chunks go to the sink as soon as they are complete.
 *  Returns: HRE_OK; HRE_ELIMIT (the document would exceed
 *           HRE_VAULT_DOC_MAX); HRE_ESTATE (after finish or a failure);
 *           the sink's error; HRE_EINVAL; HRE_ENOMEM; HRE_ECRYPTO. Any
 *           failure is final for this sealer.
 *  Since: 1.1 */
HRE_API int hre_vault_sealer_write(hre_vault_sealer *s, const uint8_t *data, size_t len);

/** End the document: pad, emit the last chunks, and give the document hash.
 *  Out: doc_hash: SHA-256 of the whole envelope (for new_record.doc_sha256);
 *       *content (may be NULL): sizes and media type, in the version
 *       content->version names.
 *  Returns: HRE_OK; HRE_ESTATE (twice, or after a failure); the sink's
 *           error; HRE_EUNSUPPORTED (content->version); HRE_ENOMEM;
 *           HRE_ECRYPTO.
 *  Since: 1.1 */
HRE_API int hre_vault_sealer_finish(hre_vault_sealer *s, uint8_t doc_hash[32],
                                    hre_vault_content *content);

/** Wrap the data key for one reader (after a successful finish; any number
 *  of readers). Auth mode with the params' sender key, base mode without.
 *  Args: s (self).
 *  Out: *out: the wrap (zeroed on failure).
 *  In: reader_type, reader_id: who it is for (bound in the HPKE info);
 *      reader_key: that reader's P-256 encryption public key.
 *  Returns: HRE_OK; HRE_ESTATE (not finished); HRE_EINVAL (NULL, bad type);
 *           HRE_EUNSUPPORTED (reader_key not on P-256); HRE_ENOMEM;
 *           HRE_ECRYPTO.
 *  Since: 1.1 */
HRE_API int hre_vault_sealer_wrap(hre_vault_sealer *s, hre_vault_wrap *out, uint8_t reader_type,
                                  const uint8_t reader_id[32], const hre_pubkey *reader_key);

/** Wipe the data key and free the sealer. NULL is fine.  Since: 1.1 */
HRE_API void hre_vault_sealer_free(hre_vault_sealer *s);

/* ------------------------------------------------------------------------ */
/* Opening (sans-I/O)                                                        */
/* ------------------------------------------------------------------------ */

#define HRE_VAULT_OPEN_PARAMS_VERSION 1  /* newest version of hre_vault_open_params */

/** How to open an envelope. Start from HRE_VAULT_OPEN_PARAMS_INIT or
 *  hre_vault_open_params_init. Read during hre_vault_opener_new only.
 *  Since: 1.1 */
typedef struct hre_vault_open_params {
    unsigned int version;              /* HRE_VAULT_OPEN_PARAMS_VERSION */
    const hre_vault_wrap *wrap;        /* required: the reader's wrap of this envelope */
    const hre_key *reader_key;         /* required: the reader's encryption private key */
    const hre_pubkey *expected_sender; /* NULL: any; else the wrap must be auth mode by this key */
    unsigned int flags;                /* HRE_VAULT_OPEN_* */
    uint64_t max_doc_len;              /* refuse longer documents (HRE_ELIMIT);
                                          0 = HRE_VAULT_DOC_MAX */
} hre_vault_open_params;

/** Static initializer for hre_vault_open_params: current version, other fields zero.  Since: 1.1 */
#define HRE_VAULT_OPEN_PARAMS_INIT { HRE_VAULT_OPEN_PARAMS_VERSION, NULL, NULL, NULL, 0, 0 }

/** Initialise open params to the defaults of `version` (fields zero / NULL).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_vault_open_params_init(hre_vault_open_params *p, unsigned int version);

/** An envelope being opened: push envelope bytes in, the document comes out
 *  through the sink. Opaque; holds the data key (wiped when freed).
 *  Since: 1.1 */
typedef struct hre_vault_opener hre_vault_opener;

/** Unwrap the data key and get ready to decrypt.
 *  Out: *out: new opener owned by the caller, freed with
 *       hre_vault_opener_free (NULL on failure).
 *  In: p: the params; sink, sink_user_data: where the document goes.
 *  Returns: HRE_OK; HRE_EDECRYPT (the wrap does not open with reader_key:
 *           another reader's wrap, a damaged wrap, a wrong key);
 *           HRE_EDECODE (the wrap's enc or sender key is not a valid point);
 *           HRE_EAUTH (expected_sender given and the wrap is base mode or by
 *           another key); HRE_EINVAL (NULL); HRE_EUNSUPPORTED (p->version, a
 *           key not on P-256); HRE_ENOMEM; HRE_ECRYPTO.
 *  Since: 1.1 */
HRE_API int hre_vault_opener_new(hre_vault_opener **out, const hre_vault_open_params *p,
                                 hre_vault_sink_fn sink,
                                 void *sink_user_data) HRE_WARN_UNUSED_RESULT;

/** Feed len more envelope bytes (any split). Each chunk is authenticated
 *  before any of its plaintext reaches the sink; the chunk that may be the
 *  last is held back until more bytes or finish say whether it is.
 *  STREAM semantics: plaintext passed to the sink is authentic, but the
 *  document is complete only when hre_vault_opener_finish returns HRE_OK;
 *  after any failure the caller discards what the sink received.
 *  Returns: HRE_OK; HRE_EDECODE (header or inner framing malformed);
 *           HRE_EUNSUPPORTED (a newer envelope format); HRE_EVERIFY (the
 *           header's locator or version is not the wrap's); HRE_EDECRYPT (the
 *           key commitment or a chunk's tag does not verify: a damaged,
 *           reordered or spliced chunk, or another document); HRE_ELIMIT
 *           (more than max_doc_len document bytes, or too many chunks);
 *           HRE_ESTATE (after finish or a failure); the sink's error;
 *           HRE_EINVAL; HRE_ENOMEM; HRE_ECRYPTO. Any failure is final.
 *  Since: 1.1 */
HRE_API int hre_vault_opener_write(hre_vault_opener *o, const uint8_t *data,
                                   size_t len) HRE_WARN_UNUSED_RESULT;

/** End of the envelope: decrypt the held chunk as the final one and check
 *  the padding rule, the end of the body and (unless HRE_VAULT_OPEN_NO_HASH)
 *  that the envelope's SHA-256 is the wrap's doc_hash.
 *  Out: *content (may be NULL): what the document held.
 *  Returns: HRE_OK (the whole document went to the sink); HRE_EDECODE
 *           (truncated: no header or no final chunk; a padding, framing or
 *           zlib error); HRE_EDECRYPT (the final chunk does not verify: the
 *           envelope was truncated or extended by whole chunks); HRE_EVERIFY
 *           (hash mismatch); HRE_ESTATE; the sink's error; HRE_EUNSUPPORTED
 *           (content->version).
 *  Since: 1.1 */
HRE_API int hre_vault_opener_finish(hre_vault_opener *o,
                                    hre_vault_content *content) HRE_WARN_UNUSED_RESULT;

/** Wipe the data key and free the opener. NULL is fine.  Since: 1.1 */
HRE_API void hre_vault_opener_free(hre_vault_opener *o);

/* ------------------------------------------------------------------------ */
/* The vault handle                                                          */
/* ------------------------------------------------------------------------ */

#define HRE_VAULT_OPTIONS_VERSION 1  /* newest version of hre_vault_options */

/** Options of hre_vault_open. Start from HRE_VAULT_OPTIONS_INIT or
 *  hre_vault_options_init. storage and log_user_data must stay valid until
 *  hre_vault_close; prefix is copied.  Since: 1.1 */
typedef struct hre_vault_options {
    unsigned int version;              /* HRE_VAULT_OPTIONS_VERSION */
    hre_storage *storage;              /* required; borrowed; may be the ledger's storage */
    const char *prefix;                /* file-name prefix, 1..8 of [a-z0-9]; NULL = "vault" */
    hre_log_fn log_fn;                 /* may be NULL */
    void *log_user_data;               /* passed to log_fn */
} hre_vault_options;

/** Static initializer for hre_vault_options: current version, other fields NULL.  Since: 1.1 */
#define HRE_VAULT_OPTIONS_INIT { HRE_VAULT_OPTIONS_VERSION, NULL, NULL, NULL, NULL }

/** Initialise vault options to the defaults of `version`.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_vault_options_init(hre_vault_options *opts, unsigned int version);

/** The vault. Opaque handle.  Since: 1.1 */
typedef struct hre_vault hre_vault;

/** Open the vault kept on opts->storage under its prefix, creating it if
 *  the storage holds none. Opening loads the index (cutting a torn tail),
 *  completes interrupted erasures (overwrite + remove), finishes or drops
 *  interrupted wrap updates, and removes every file of the prefix that no
 *  durable index record accounts for: envelopes and wraps of stores that
 *  did not commit (overwritten with zeros first) and temporaries. Files of
 *  other prefixes and of the ledger are never touched. One handle per
 *  (storage, prefix) at a time: a second one on the same files is not
 *  detected (the POSIX backend's directory lock covers the whole storage).
 *  Out: *out: the vault, closed with hre_vault_close (NULL on failure).
 *  Returns: HRE_OK; HRE_EINVAL (NULL, no storage, bad prefix);
 *           HRE_EUNSUPPORTED (options version, a newer index format);
 *           HRE_ECORRUPT (a synced index record is damaged: the detail names
 *           the offset); HRE_EIO; HRE_ENOSPC; HRE_ENOMEM.
 *  Since: 1.1 */
HRE_API int hre_vault_open(hre_vault **out, const hre_vault_options *opts);

/** Close the vault (stores and imports still open are aborted and their
 *  handles become invalid). Does not free the storage. NULL is fine.
 *  Since: 1.1 */
HRE_API void hre_vault_close(hre_vault *v);

#define HRE_VAULT_ENTRY_VERSION 1  /* newest version of hre_vault_entry */
/** One stored document as the index knows it: a versioned result struct
 *  (set .version first). No plaintext property (length, media type) is
 *  stored in clear, so none is here.  Since: 1.1 */
typedef struct hre_vault_entry {
    unsigned int version;              /* in: HRE_VAULT_ENTRY_VERSION */
    uint8_t doc_hash[32];              /* SHA-256 of the envelope (names the document) */
    uint8_t locator[32];               /* the envelope's locator */
    uint32_t doc_version;              /* the envelope's version (>= 1) */
    uint8_t state;                     /* HRE_VAULT_PRESENT or HRE_VAULT_ERASED */
    uint8_t has_record;                /* record_id is bound (hre_vault_bind_record) */
    uint8_t record_id[32];             /* the bound record's id (if has_record) */
    uint64_t envelope_len;             /* 0 once erased */
    uint32_t wrap_count;               /* 0 once erased */
} hre_vault_entry;
/** Static initializer for hre_vault_entry: current version, other fields zero.  Since: 1.1 */
#define HRE_VAULT_ENTRY_INIT { HRE_VAULT_ENTRY_VERSION, {0}, {0}, 0, 0, 0, {0}, 0, 0 }
/** Initialise an entry struct for `version`.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_vault_entry_init(hre_vault_entry *out, unsigned int version);

/* ---- storing a document this vault seals ---- */

/** A document being sealed into the vault (a sealer whose sink is a
 *  temporary file of the vault). Opaque.  Since: 1.1 */
typedef struct hre_vault_store hre_vault_store;

/** Start storing a new document.
 *  Out: *out: owned by the caller, freed with hre_vault_store_free (which
 *       aborts an uncommitted store); NULL on failure.
 *  In/Out: v: the vault (the store uses it until freed).
 *  In: p: as hre_vault_sealer_new.
 *  Returns: the codes of hre_vault_sealer_new; HRE_EFATAL; HRE_EIO;
 *           HRE_ENOSPC.
 *  Since: 1.1 */
HRE_API int hre_vault_store_new(hre_vault_store **out, hre_vault *v,
                                const hre_vault_seal_params *p);

/** Feed document bytes (as hre_vault_sealer_write; envelope chunks go to
 *  storage as they are sealed, unsynced).
 *  Returns: as hre_vault_sealer_write; HRE_EIO / HRE_ENOSPC from storage.
 *  Since: 1.1 */
HRE_API int hre_vault_store_write(hre_vault_store *st, const uint8_t *data, size_t len);

/** Name a reader to wrap the data key for at commit (at most
 *  HRE_VAULT_WRAPS_MAX; the same reader twice keeps the last key).
 *  In: reader_type, reader_id; reader_key: its P-256 encryption key (a new
 *      reference is taken).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED (not P-256); HRE_ELIMIT;
 *           HRE_ESTATE (committed or failed); HRE_ENOMEM.
 *  Since: 1.1 */
HRE_API int hre_vault_store_add_reader(hre_vault_store *st, uint8_t reader_type,
                                       const uint8_t reader_id[32], const hre_pubkey *reader_key);

/** hre_vault_store_add_reader with the reader's encryption key looked up in
 *  the contract (hre_contract_enc_key_get): e.g. the patient, the issuing
 *  organisation and the lab organisation of the new record.
 *  In: c: the contract state; reader_type, reader_id.
 *  Returns: HRE_OK; HRE_ENOTFOUND (no such reader, or no encryption key
 *           published; the detail says which); HRE_EDECODE; the codes of
 *           hre_vault_store_add_reader.
 *  Since: 1.1 */
HRE_API int hre_vault_store_add_reader_by_id(hre_vault_store *st, const hre_contract *c,
                                             uint8_t reader_type, const uint8_t reader_id[32]);

/** Finish sealing and commit: the envelope and its wraps become visible
 *  together, durably, when this returns HRE_OK (files synced, then one
 *  index record synced). At least one reader is required (a document
 *  nobody can open is refused).
 *  Out: doc_hash: the document hash (for new_record.doc_sha256);
 *       *content (may be NULL): sizes and media type.
 *  Returns: HRE_OK; HRE_ESTATE (no reader; already committed; failed
 *           earlier); HRE_EEXISTS (the vault already holds this envelope:
 *           cannot happen for a fresh data key); HRE_EFATAL; HRE_EIO;
 *           HRE_ENOSPC; HRE_ENOMEM; HRE_ECRYPTO; HRE_EUNSUPPORTED
 *           (content->version). After a failure the document is not
 *           visible through this handle. If the failure made the vault
 *           fatal (the index append or its sync failed, so the commit's
 *           durability is unknown), the next open finds the document either
 *           whole, with all its wraps, or absent; otherwise whatever reached
 *           storage is removed now.
 *  Since: 1.1 */
HRE_API int hre_vault_store_commit(hre_vault_store *st, uint8_t doc_hash[32],
                                   hre_vault_content *content);

/** Free a store; an uncommitted one is aborted (its temporary file removed).
 *  NULL is fine.  Since: 1.1 */
HRE_API void hre_vault_store_free(hre_vault_store *st);

/* ---- importing an envelope sealed elsewhere (e.g. fetched from a holder) ---- */

/** An envelope being copied into the vault as received. Opaque.  Since: 1.1 */
typedef struct hre_vault_import hre_vault_import;

/** Start importing an envelope.
 *  Out: *out: freed with hre_vault_import_free (NULL on failure).
 *  In/Out: v.
 *  In: expected_hash: the document hash it must have (from the record's
 *      doc_sha256), or NULL to accept what arrives.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EERASED (the vault erased that
 *           document: it is never stored again); HRE_EFATAL; HRE_EIO;
 *           HRE_ENOSPC; HRE_ENOMEM.
 *  Since: 1.1 */
HRE_API int hre_vault_import_new(hre_vault_import **out, hre_vault *v,
                                 const uint8_t expected_hash[32]);

/** Append received envelope bytes (any split).
 *  Returns: HRE_OK; HRE_EDECODE (the header is malformed, checked once 82
 *           bytes are in); HRE_EUNSUPPORTED; HRE_ELIMIT (longer than any
 *           envelope); HRE_ESTATE; HRE_EIO; HRE_ENOSPC; HRE_EINVAL.
 *  Since: 1.1 */
HRE_API int hre_vault_import_write(hre_vault_import *im, const uint8_t *data, size_t len);

/** Add a received wrap to store with the envelope (its doc_hash, locator
 *  and version must match the envelope at commit).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ELIMIT; HRE_ESTATE.  Since: 1.1 */
HRE_API int hre_vault_import_add_wrap(hre_vault_import *im, const hre_vault_wrap *wrap);

/** Commit the import: the envelope's length must be a valid envelope
 *  length, its hash expected_hash (if given), and each wrap must name it.
 *  If the vault already holds the envelope, only the wraps are merged in.
 *  The chunks are not decrypted (the importer need not be a reader).
 *  Out: doc_hash: the envelope's hash.
 *  Returns: HRE_OK; HRE_EDECODE (truncated, or a length no envelope has);
 *           HRE_EVERIFY (not the expected hash; a wrap for another
 *           envelope); HRE_EERASED; HRE_ESTATE; HRE_EFATAL; HRE_EIO;
 *           HRE_ENOSPC; HRE_ENOMEM.
 *  Since: 1.1 */
HRE_API int hre_vault_import_commit(hre_vault_import *im, uint8_t doc_hash[32]);

/** Free an import; an uncommitted one is aborted. NULL is fine.  Since: 1.1 */
HRE_API void hre_vault_import_free(hre_vault_import *im);

/* ---- queries ---- */

/** A stored (or erased) document by hash.
 *  Args: v (self; not const: wrap_count reads the wraps file).
 *  Out: *out, in the version out->version names (zeroed except .version
 *       when not found).
 *  Returns: HRE_OK (present); HRE_EERASED (erased: *out is filled, state
 *           HRE_VAULT_ERASED); HRE_ENOTFOUND; HRE_EINVAL; HRE_EUNSUPPORTED;
 *           HRE_EIO; HRE_ECORRUPT (damaged wraps file).
 *  Since: 1.1 */
HRE_API int hre_vault_entry_get(hre_vault *v, hre_vault_entry *out, const uint8_t doc_hash[32]);

/** A document by locator and version (exact).
 *  Returns: as hre_vault_entry_get.  Since: 1.1 */
HRE_API int hre_vault_entry_by_locator(hre_vault *v, hre_vault_entry *out,
                                       const uint8_t locator[32], uint32_t doc_version);

/** The wrap kept for one reader of a document.
 *  Out: *out (zeroed on failure).
 *  Returns: HRE_OK; HRE_ENOTFOUND (no such document, or no wrap for that
 *           reader); HRE_EERASED; HRE_EINVAL; HRE_EIO; HRE_ECORRUPT.
 *  Since: 1.1 */
HRE_API int hre_vault_wrap_get(hre_vault *v, hre_vault_wrap *out, const uint8_t doc_hash[32],
                               uint8_t reader_type, const uint8_t reader_id[32]);

/** The index-th wrap of a document (0 <= index < entry.wrap_count; the
 *  order is the file's, stable until the wraps change).
 *  Returns: HRE_OK; HRE_ENOTFOUND (past the end, or no such document);
 *           HRE_EERASED; HRE_EINVAL; HRE_EIO; HRE_ECORRUPT.
 *  Since: 1.1 */
HRE_API int hre_vault_wrap_at(hre_vault *v, hre_vault_wrap *out, const uint8_t doc_hash[32],
                              size_t index);

/** Decrypt a stored document for one reader, streaming it to sink: the
 *  reader's wrap is looked up and opened with reader_key, then the envelope
 *  is read from storage chunk by chunk (its hash was checked when stored;
 *  the chunks are authenticated as they are read).
 *  Out: *content (may be NULL).
 *  In: doc_hash; reader_type, reader_id; reader_key: that reader's
 *      encryption private key; sink, sink_user_data.
 *  Returns: HRE_OK; HRE_ENOTFOUND (no such document or no wrap for this
 *           reader: a wrong or pruned reader); HRE_EERASED; the codes of
 *           hre_vault_opener_new / _write / _finish (HRE_EDECRYPT for a
 *           wrong key or a damaged envelope ...); HRE_EIO; HRE_ECORRUPT.
 *  Since: 1.1 */
HRE_API int hre_vault_read(hre_vault *v, hre_vault_content *content, const uint8_t doc_hash[32],
                           uint8_t reader_type, const uint8_t reader_id[32],
                           const hre_key *reader_key, hre_vault_sink_fn sink,
                           void *sink_user_data) HRE_WARN_UNUSED_RESULT;

/** Raw envelope bytes from offset, as stored (for sending to a reader).
 *  Out: buf: the bytes.
 *  In/Out: *len: capacity in; bytes read out (fewer at the end; 0 at or past
 *          the end).
 *  Returns: HRE_OK; HRE_ENOTFOUND; HRE_EERASED; HRE_EINVAL; HRE_EIO.
 *  Since: 1.1 */
HRE_API int hre_vault_envelope_read(hre_vault *v, uint8_t *buf, size_t *len,
                                    const uint8_t doc_hash[32], uint64_t offset);

#define HRE_VAULT_STATS_VERSION 1  /* newest version of hre_vault_stats */
/** Counters: a versioned result struct (set .version first).  Since: 1.1 */
typedef struct hre_vault_stats {
    unsigned int version;              /* in: HRE_VAULT_STATS_VERSION */
    uint64_t documents;                /* present documents */
    uint64_t erased;                   /* erased documents (tombstones) */
    uint64_t pending_erasures;         /* erased record ids not yet matched to a document */
    uint64_t envelope_bytes;           /* total length of present envelopes */
    uint64_t index_bytes;              /* size of the index file */
    uint64_t memory_bytes;             /* heap held by the in-memory index */
    int fatal;                         /* 1 if the vault is in the fatal state */
} hre_vault_stats;
/** Static initializer for hre_vault_stats: current version, other fields zero.  Since: 1.1 */
#define HRE_VAULT_STATS_INIT { HRE_VAULT_STATS_VERSION, 0, 0, 0, 0, 0, 0, 0 }
/** Initialise a stats struct.  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.
 *  Since: 1.1 */
HRE_API int hre_vault_stats_init(hre_vault_stats *out, unsigned int version);

/** Fill *out (in the version out->version names).
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_vault_stats_get(const hre_vault *v, hre_vault_stats *out);

/** Check the vault against its index: every present document's envelope
 *  exists with its length (and, with HRE_VAULT_VERIFY_HASH, its hash) and
 *  its wraps file is valid and names it; no file of an erased document is
 *  left; no file of the prefix is unaccounted for.
 *  Out: *problems (may be NULL): how many problems were found.
 *  Returns: HRE_OK (none); HRE_ECORRUPT (the detail names the first);
 *           HRE_EINVAL; HRE_EIO; HRE_ENOMEM.
 *  Since: 1.1 */
HRE_API int hre_vault_verify(hre_vault *v, uint64_t *problems,
                             unsigned int flags) HRE_WARN_UNUSED_RESULT;

/* ---- access: re-wrap, prune ---- */

/** Re-wrap a record's data key for a reader, after checking on the holder's
 *  contract state that the reader may access the record now. The document
 *  is the record's (contract: doc_sha256 and locator must match the stored
 *  envelope); the holder's own wrap (holder_type, holder_id) is opened with
 *  holder_key, the new wrap is made in auth mode with holder_key as sender
 *  to the reader's published encryption key, stored durably (replacing an
 *  older wrap for that reader; the old wraps file is overwritten before it
 *  is replaced) and returned. The record id is bound to the document (as
 *  hre_vault_bind_record) if neither is bound yet. Reuse: when the stored
 *  wrap for this reader is still the one this open vault made by this
 *  holder (same holder_type, holder_id and holder_key) for the reader's
 *  current encryption key, that wrap is returned again without any write
 *  or sync (the access check is made every time); the vault remembers the
 *  re-wraps of up to 64 (document, reader) pairs in memory, so after a
 *  reopen the first re-wrap per reader is a fresh one.
 *  Args: v (self).
 *  Out: *out: the new (or reused) wrap (zeroed on failure); *access (may be NULL): the
 *       contract's verdict (hre_contract_access_check), in its version.
 *  In: c: the holder's contract state; record_id; reader: the reader's
 *      account address; block_time: the time grants are judged at;
 *      holder_type, holder_id, holder_key: the holder's reader identity in
 *      this vault and its encryption private key.
 *  Returns: HRE_OK; refusals by reason: HRE_EREVOKED (REVOKED),
 *           HRE_EEXPIRED (EXPIRED), HRE_EERASED (ERASED, or erased in this
 *           vault), HRE_EAUTH (NO_GRANT, READER_SUSPENDED, ORG_SUSPENDED),
 *           HRE_ENOTFOUND (UNKNOWN_RECORD, UNKNOWN_READER; the reader has no
 *           encryption key; the vault does not hold the document; no wrap
 *           for the holder); HRE_EVERIFY (the stored document is not the
 *           record's); HRE_EDECRYPT (holder_key does not open the holder's
 *           wrap); HRE_ELIMIT (HRE_VAULT_WRAPS_MAX); HRE_EFATAL; HRE_EIO;
 *           HRE_ENOSPC; HRE_EINVAL; HRE_ENOMEM; HRE_ECRYPTO.
 *  Since: 1.1 */
HRE_API int hre_vault_rewrap(hre_vault *v, hre_vault_wrap *out, hre_contract_access *access,
                             const hre_contract *c, const uint8_t record_id[32],
                             const uint8_t reader[32], uint64_t block_time,
                             uint8_t holder_type, const uint8_t holder_id[32],
                             const hre_key *holder_key) HRE_WARN_UNUSED_RESULT;

/** Delete the wraps of a record's document whose account readers may no
 *  longer access it (hre_contract_access_check at block_time fails: a
 *  revoked or expired grant, a suspension ...). Organisation wraps (the
 *  issuer's and the lab's) are kept. The old wraps file is overwritten
 *  before it is replaced. Binds the record id.
 *  Out: *removed (may be NULL): wraps deleted.
 *  In: c, record_id, block_time.
 *  Returns: HRE_OK; HRE_ENOTFOUND (unknown record, or not held);
 *           HRE_EERASED; HRE_EVERIFY; HRE_EFATAL; HRE_EIO; HRE_ENOSPC;
 *           HRE_EINVAL; HRE_ENOMEM.
 *  Since: 1.1 */
HRE_API int hre_vault_prune(hre_vault *v, size_t *removed, const hre_contract *c,
                            const uint8_t record_id[32], uint64_t block_time);

/** Delete one reader's wrap of a document (overwriting the old wraps file).
 *  Returns: HRE_OK; HRE_ENOTFOUND (no such document or wrap); HRE_EERASED;
 *           HRE_EFATAL; HRE_EIO; HRE_ENOSPC; HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_vault_wrap_remove(hre_vault *v, const uint8_t doc_hash[32], uint8_t reader_type,
                                  const uint8_t reader_id[32]);

/* ---- records and erasure ---- */

/** Record that document doc_hash is the one of record record_id (the issuer
 *  calls it once it built the new_record transaction, whose txid is the
 *  record id), so a later RECORD_ERASED event finds it without a contract.
 *  Durable on return. An erasure already pending for that record is carried
 *  out now.
 *  Returns: HRE_OK; HRE_ENOTFOUND (no such document); HRE_EERASED;
 *           HRE_EEXISTS (the document or the record is bound to another);
 *           HRE_EFATAL; HRE_EIO; HRE_ENOSPC; HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_vault_bind_record(hre_vault *v, const uint8_t doc_hash[32],
                                  const uint8_t record_id[32]);

/** Crypto-shred a document: durable tombstone, then its wraps and envelope
 *  overwritten with zeros, synced and removed. Idempotent.
 *  Returns: HRE_OK (erased now or before); HRE_ENOTFOUND; HRE_EFATAL;
 *           HRE_EIO; HRE_ENOSPC; HRE_EINVAL. If the tombstone is durable
 *           and the shredding fails, the next open (or a later erase call)
 *           completes it.
 *  Since: 1.1 */
HRE_API int hre_vault_erase(hre_vault *v, const uint8_t doc_hash[32]);

/** Erase the document of a record that the contract shows erased
 *  (hre_contract_record.erased): resolves record -> doc_sha256.
 *  Returns: HRE_OK; HRE_ESTATE (the record is not erased on the chain);
 *           HRE_ENOTFOUND (unknown record, or this vault does not hold its
 *           document: nothing to do); the codes of hre_vault_erase.
 *  Since: 1.1 */
HRE_API int hre_vault_erase_record(hre_vault *v, const hre_contract *c,
                                   const uint8_t record_id[32]);

/** Feed a contract event (e.g. from the host's ledger event callback:
 *  ev->contract of an HRE_LEDGER_EVENT_CONTRACT). HRE_EVENT_RECORD_ERASED
 *  erases the document bound to that record now, or, if none is bound,
 *  durably journals the record id as a pending erasure (resolved by
 *  hre_vault_bind_record or hre_vault_reconcile). Other events are ignored.
 *  Never calls into the ledger or the contract (safe inside a ledger
 *  callback).
 *  Returns: HRE_OK; the codes of hre_vault_erase; HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_vault_handle_event(hre_vault *v, const hre_contract_event *ev);

/** Bring the vault in line with a contract state after events may have been
 *  missed (call after opening ledger and vault): every bound document whose
 *  record is erased on the chain is erased, and every pending erasure is
 *  resolved through the contract (its record's doc_sha256) and carried out,
 *  or dropped when this vault does not hold that document.
 *  Out: *erased (may be NULL): documents erased by this call.
 *  Returns: HRE_OK; the codes of hre_vault_erase; HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_vault_reconcile(hre_vault *v, size_t *erased, const hre_contract *c);

/* ------------------------------------------------------------------------ */
/* Document exchange (lib/vault/exchange*.c; issue 11 part 2)                */
/* ------------------------------------------------------------------------ */
/*
 * A reader fetches a record's document from a holder over the node's
 * application messages (node.h, "Application messages"); PROTOCOL.md
 * section 15 is the byte-exact description.
 *
 * - The reader's REQUEST names the record and carries the reader's account
 *   signing key, a fresh random 16-byte nonce, a timestamp (ms) and the
 *   channel binding (the Noise handshake hash of the connection it is sent
 *   on), signed with that key (ECDSA over a domain-separated SHA-256).
 * - The holder checks, in this order: the connection's request rate
 *   (hre_vault_xch_set_rate_limit; BUSY); the encoding; the signature; the
 *   freshness window (|now - timestamp| <= fresh_ms); the binding (it must
 *   be THIS connection's handshake hash); replay (a bounded cache of the
 *   nonces of the fresh window); the reader key is the current key of an
 *   account; the requesting node (its verified node key) is a member now,
 *   and a reader with an organisation asks only through a node that its
 *   organisation registered (a patient, who has none, through any member
 *   node; NOT_MEMBER otherwise); on its own chain state:
 *   hre_contract_access_check at the judging time T = max(now / 1000, the
 *   block time of its chain tip) in seconds, so neither a slow wall clock
 *   nor a stale tip keeps an expired grant alive (a revoked grant is dead
 *   whatever the clocks say), and a LOG_ACCESS by this reader for this
 *   record on its chain (an ACCESS_LOGGED event) or in its mempool (each
 *   mempool transaction is decoded once and remembered; one request decodes
 *   at most 256 new ones and is refused BUSY, retry, when that was not
 *   enough to find it); then that it
 *   holds the document; then it re-wraps the data key for the reader
 *   (hre_vault_rewrap, auth mode) and streams: one HEADER message (the
 *   envelope length, the document hash and the fresh wrap), then CHUNK
 *   messages carrying the envelope bytes in order, read from the vault's
 *   storage as app-message room allows (hre_node_app_send_space; on
 *   HRE_EAGAIN it resumes on HRE_NODE_EVENT_APP_WRITABLE or a tick).
 *   Any check that fails is answered with a REFUSAL naming the reason
 *   (HRE_VAULT_XCH_REFUSE_*), a host event and a log line.
 * - The reader's FETCH checks the header against its own chain (the
 *   record's doc_sha256 and locator, the wrap is for it), feeds the chunks
 *   into an opener as they arrive (never the whole envelope in memory) and
 *   completes with the document through its sink, or with a specific error.
 *
 * The host owns the node's event callback: it forwards every node event to
 * hre_vault_xch_handle_node_event (APP_WRITABLE resumes transfers,
 * PEER_DISCONNECTED drops them) and calls hre_vault_xch_tick from its timer
 * loop (resumes transfers, expires fetches). One hre_vault_xch per node; the
 * same object serves (when it has a vault) and fetches.
 * Threads: an hre_vault_xch and its fetches are used by the node's thread.
 */

/** The node app type the exchange registers by default.  Since: 1.1 */
#define HRE_VAULT_XCH_APP_TYPE 0x0701
/** Wire format version of every exchange message (byte 1).  Since: 1.1 */
#define HRE_VAULT_XCH_FORMAT 1
/** @{ */
/** Message types (byte 0).  Since: 1.1 */
#define HRE_VAULT_XCH_MSG_REQUEST 1
#define HRE_VAULT_XCH_MSG_HEADER  2
#define HRE_VAULT_XCH_MSG_CHUNK   3
#define HRE_VAULT_XCH_MSG_REFUSAL 4
/** @} */
/** Sizes (PROTOCOL.md 15.2-15.5).  Since: 1.1 */
#define HRE_VAULT_XCH_NONCE_LEN 16     /* bytes of a request nonce */
#define HRE_VAULT_XCH_REQUEST_SIGNED_LEN 124   /* bytes the signature covers */
#define HRE_VAULT_XCH_REQUEST_LEN 188  /* bytes of an encoded request */
#define HRE_VAULT_XCH_HEADER_LEN (2 + 16 + 8 + 32 + HRE_VAULT_WRAP_LEN)   /* 345 */
#define HRE_VAULT_XCH_CHUNK_OVERHEAD 30  /* bytes of a chunk message besides its data */
#define HRE_VAULT_XCH_CHUNK_DATA_MAX (HRE_NODE_APP_MESSAGE_LIMIT - HRE_VAULT_XCH_CHUNK_OVERHEAD) /* data bytes of one chunk at most */
#define HRE_VAULT_XCH_REFUSAL_LEN 20   /* bytes of an encoded refusal */
/** @{ */
/** Defaults of hre_vault_xch_options (used when the field is 0).  Since: 1.1 */
#define HRE_VAULT_XCH_DEFAULT_FRESH_MS      120000u
#define HRE_VAULT_XCH_DEFAULT_REPLAY_MAX    4096u
#define HRE_VAULT_XCH_DEFAULT_MAX_TRANSFERS 64u
#define HRE_VAULT_XCH_DEFAULT_MAX_PER_PEER  4u
#define HRE_VAULT_XCH_DEFAULT_FETCH_TIMEOUT_MS 60000u
/** The holder's per-connection request rate limit by default (a token
 *  bucket: REQUEST messages a second, and how many may come at once), and
 *  the largest values hre_vault_xch_set_rate_limit takes.  Since: 1.1 */
#define HRE_VAULT_XCH_DEFAULT_RATE_PER_S 50u
#define HRE_VAULT_XCH_DEFAULT_RATE_BURST 100u
#define HRE_VAULT_XCH_RATE_BURST_MAX 1000000u
/** @} */

/** Refusal reasons (REFUSAL byte 18; hre_vault_xch_event.reason). Values
 *  never change.  Since: 1.1 */
#define HRE_VAULT_XCH_REFUSE_NO_GRANT       1  /* no role and no live grant (HRE_EAUTH) */
#define HRE_VAULT_XCH_REFUSE_REVOKED        2  /* the grant was revoked (HRE_EREVOKED) */
#define HRE_VAULT_XCH_REFUSE_EXPIRED        3  /* the grant has expired (HRE_EEXPIRED) */
#define HRE_VAULT_XCH_REFUSE_ERASED         4  /* the record or document was erased (HRE_EERASED) */
#define HRE_VAULT_XCH_REFUSE_UNKNOWN_RECORD 5  /* the holder's chain has no such record (HRE_ENOTFOUND) */
#define HRE_VAULT_XCH_REFUSE_NOT_MEMBER     6  /* the reader key is no account's current key, or the
                                                  requesting node may not carry the reader's requests
                                                  (not a member; another organisation's) (HRE_EAUTH) */
#define HRE_VAULT_XCH_REFUSE_SUSPENDED      7  /* the reader or its organisation is suspended (HRE_EAUTH) */
#define HRE_VAULT_XCH_REFUSE_NO_LOG_ACCESS  8  /* no LOG_ACCESS on chain or in the mempool (HRE_EAUTH) */
#define HRE_VAULT_XCH_REFUSE_NOT_HELD       9  /* the holder does not hold the document (HRE_ENOTFOUND) */
#define HRE_VAULT_XCH_REFUSE_BAD_SIGNATURE 10  /* the request's signature does not verify (HRE_EVERIFY) */
#define HRE_VAULT_XCH_REFUSE_STALE         11  /* timestamp outside the freshness window (HRE_EEXPIRED) */
#define HRE_VAULT_XCH_REFUSE_REPLAY        12  /* the nonce was seen in the window (HRE_EEXISTS) */
#define HRE_VAULT_XCH_REFUSE_WRONG_CHANNEL 13  /* bound to another connection (HRE_EVERIFY) */
#define HRE_VAULT_XCH_REFUSE_BUSY          14  /* a cap: the peer's request rate, transfers, per peer,
                                                  replay cache, the mempool scan budget (HRE_ELIMIT:
                                                  retry) */
#define HRE_VAULT_XCH_REFUSE_MALFORMED     15  /* not a valid request (HRE_EDECODE) */
#define HRE_VAULT_XCH_REFUSE_INTERNAL      16  /* the holder failed (storage, memory) (HRE_EIO) */
#define HRE_VAULT_XCH_REFUSE_MAX           16 /* the largest reason value */

/** The name of a refusal reason ("no_grant" ...; "unknown" otherwise).
 *  Since: 1.1 */
HRE_API const char *hre_vault_xch_refusal_name(int reason);

/** The error code a reader's fetch fails with for a refusal reason (in the
 *  comments above); HRE_EPROTO for an unknown reason.  Since: 1.1 */
HRE_API int hre_vault_xch_refusal_code(int reason);

/** A document request (PROTOCOL.md 15.2). A value struct.  Since: 1.1 */
typedef struct hre_vault_xch_request {
    uint8_t nonce[HRE_VAULT_XCH_NONCE_LEN];   /* fresh random bytes */
    uint64_t timestamp_ms;                    /* the reader's clock, ms */
    uint8_t reader_key[34];                   /* the reader's account signing key (wire form) */
    uint8_t record_id[32];                    /* the record whose document is asked for */
    uint8_t binding[32];                      /* the connection's Noise handshake hash */
    uint8_t sig[64];                          /* r || s, low S */
} hre_vault_xch_request;

/** Sign a request: sets reader_key from key and sig over the other fields.
 *  Args: r (self; nonce, timestamp_ms, record_id, binding set).
 *  In: key: the reader's account signing key.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_ECRYPTO; HRE_ENOMEM.  Since: 1.1 */
HRE_API int hre_vault_xch_request_sign(hre_vault_xch_request *r, const hre_key *key);

/** Verify a request's signature with its reader_key.
 *  Returns: HRE_OK; HRE_EVERIFY (bad signature, high S); HRE_EDECODE (the
 *  key is not a valid point); HRE_EINVAL; HRE_ENOMEM; HRE_ECRYPTO.
 *  Since: 1.1 */
HRE_API int hre_vault_xch_request_verify(const hre_vault_xch_request *r) HRE_WARN_UNUSED_RESULT;

/** @{ */
/** Encode / decode a request (HRE_VAULT_XCH_REQUEST_LEN bytes). encode:
 *  Out out (may be NULL with *len == 0); In/Out *len (capacity / written or
 *  needed with HRE_EBUFSIZE). decode (hostile input): exactly the length,
 *  type 1, format 1, a key with curve id 1 or 2 and prefix 02/03; *out
 *  zeroed on failure.
 *  Returns: HRE_OK; HRE_EBUFSIZE (encode); HRE_EDECODE;
 *           HRE_EUNSUPPORTED (a newer format); HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_vault_xch_request_encode(const hre_vault_xch_request *r, uint8_t *out, size_t *len);
HRE_API int hre_vault_xch_request_decode(hre_vault_xch_request *out, const uint8_t *in,
                                         size_t len) HRE_WARN_UNUSED_RESULT;
/** @} */

/** The answer's header (PROTOCOL.md 15.3). A value struct.  Since: 1.1 */
typedef struct hre_vault_xch_header {
    uint8_t nonce[HRE_VAULT_XCH_NONCE_LEN];   /* the request's */
    uint64_t envelope_len;                    /* bytes the chunks will carry */
    uint8_t doc_hash[32];                     /* SHA-256 of the envelope */
    hre_vault_wrap wrap;                      /* the fresh wrap for the reader */
} hre_vault_xch_header;

/** @{ */
/** Encode / decode a header (HRE_VAULT_XCH_HEADER_LEN bytes); decode checks
 *  the wrap (hre_vault_wrap_decode), that wrap.doc_hash is doc_hash and
 *  that hre_vault_envelope_len(HRE_VAULT_PAD_MIN) <= envelope_len <=
 *  hre_vault_envelope_len(HRE_VAULT_PAYLOAD_MAX) (the opener checks the
 *  exact length). Codes as the request's.  Since: 1.1 */
HRE_API int hre_vault_xch_header_encode(const hre_vault_xch_header *h, uint8_t *out, size_t *len);
HRE_API int hre_vault_xch_header_decode(hre_vault_xch_header *out, const uint8_t *in,
                                        size_t len) HRE_WARN_UNUSED_RESULT;
/** @} */

/** One chunk of envelope bytes (PROTOCOL.md 15.4). A value struct; data
 *  points into the decoded message (borrowed).  Since: 1.1 */
typedef struct hre_vault_xch_chunk {
    uint8_t nonce[HRE_VAULT_XCH_NONCE_LEN];   /* the request's */
    uint64_t offset;                          /* of data[0] in the envelope */
    uint32_t len;                             /* 1..HRE_VAULT_XCH_CHUNK_DATA_MAX */
    const uint8_t *data;                      /* len bytes (borrowed) */
} hre_vault_xch_chunk;

/** @{ */
/** Encode / decode a chunk message (HRE_VAULT_XCH_CHUNK_OVERHEAD + len
 *  bytes; decode: the length field equals the bytes that follow, len >= 1,
 *  offset + len <= hre_vault_envelope_len(HRE_VAULT_PAYLOAD_MAX)). Codes as
 *  the request's; encode also HRE_EINVAL for such a chunk.  Since: 1.1 */
HRE_API int hre_vault_xch_chunk_encode(const hre_vault_xch_chunk *c, uint8_t *out, size_t *len);
HRE_API int hre_vault_xch_chunk_decode(hre_vault_xch_chunk *out, const uint8_t *in,
                                       size_t len) HRE_WARN_UNUSED_RESULT;
/** @} */

/** A refusal (PROTOCOL.md 15.5). A value struct.  Since: 1.1 */
typedef struct hre_vault_xch_refusal {
    uint8_t nonce[HRE_VAULT_XCH_NONCE_LEN];   /* the request's (zero if it did not decode) */
    uint8_t reason;                           /* HRE_VAULT_XCH_REFUSE_* */
    uint8_t access_reason;                    /* HRE_ACCESS_* behind it, or 0 */
} hre_vault_xch_refusal;

/** @{ */
/** Encode / decode a refusal (HRE_VAULT_XCH_REFUSAL_LEN bytes; reason
 *  1..HRE_VAULT_XCH_REFUSE_MAX, access_reason 0..8). Codes as the
 *  request's.  Since: 1.1 */
HRE_API int hre_vault_xch_refusal_encode(const hre_vault_xch_refusal *r, uint8_t *out, size_t *len);
HRE_API int hre_vault_xch_refusal_decode(hre_vault_xch_refusal *out, const uint8_t *in,
                                         size_t len) HRE_WARN_UNUSED_RESULT;
/** @} */

/** @{ */
/** Exchange events (hre_vault_xch_event.type).  Since: 1.1 */
#define HRE_VAULT_XCH_EVENT_REFUSED      1  /* holder: a request was refused (reason) */
#define HRE_VAULT_XCH_EVENT_SERVING      2  /* holder: a request passed; the transfer starts */
#define HRE_VAULT_XCH_EVENT_SERVED       3  /* holder: the last chunk was queued */
#define HRE_VAULT_XCH_EVENT_ABORTED      4  /* holder: a transfer stopped (peer gone, storage) */
#define HRE_VAULT_XCH_EVENT_FETCH_DONE   5  /* reader: a fetch completed (code; reason if refused) */
/** @} */

#define HRE_VAULT_XCH_EVENT_VERSION 1 /* version of hre_vault_xch_event */
/** One exchange event, valid during the callback only.  Since: 1.1 */
typedef struct hre_vault_xch_event {
    unsigned int version;              /* HRE_VAULT_XCH_EVENT_VERSION */
    unsigned int type;                 /* HRE_VAULT_XCH_EVENT_* */
    uint64_t conn;                     /* the connection it concerns */
    int reason;                        /* REFUSED, FETCH_DONE: HRE_VAULT_XCH_REFUSE_* or 0 */
    int code;                          /* FETCH_DONE, ABORTED: the result code */
    uint8_t record_id[32];             /* zero if the request did not decode */
    uint8_t reader[32];                /* the reader's address, zero if unknown */
    const char *detail;                /* never NULL; no secrets */
} hre_vault_xch_event;

/** Exchange event callback. May call hre_vault_xch_* queries only.  Since: 1.1 */
typedef void (*hre_vault_xch_event_fn)(void *user_data, const hre_vault_xch_event *ev);

#define HRE_VAULT_XCH_OPTIONS_VERSION 2 /* version of hre_vault_xch_options (2: audit_max) */

/** Options of hre_vault_xch_new. Start from HRE_VAULT_XCH_OPTIONS_INIT or
 *  hre_vault_xch_options_init. node, vault, holder_key and the user data
 *  are borrowed until hre_vault_xch_free. 0 means the default for counts
 *  and times.  Since: 1.1 */
typedef struct hre_vault_xch_options {
    unsigned int version;              /* HRE_VAULT_XCH_OPTIONS_VERSION */
    hre_node *node;                    /* required */
    uint16_t app_type;                 /* 0 = HRE_VAULT_XCH_APP_TYPE */
    /* holder side (vault NULL: this node only fetches, requests are refused NOT_HELD) */
    hre_vault *vault;                  /* the holder's vault, or NULL */
    uint8_t holder_type;               /* HRE_VAULT_READER_* of the holder's own wrap */
    uint8_t holder_id[32];             /* the id of the holder's own wrap */
    const hre_key *holder_key;         /* its encryption private key */
    uint32_t fresh_ms;                 /* freshness window */
    uint32_t replay_max;               /* nonces remembered (refuse BUSY when full) */
    uint32_t max_transfers;            /* transfers in progress, all peers */
    uint32_t max_per_peer;             /* ... per connection */
    uint32_t fetch_timeout_ms;         /* reader: a fetch with no progress this long fails */
    uint32_t log_max_age_s;            /* holder: a LOG_ACCESS counts only if its block time (chain)
                                          or timestamp (mempool) is at most this old (against the
                                          judging time T); 0 = any age */
    hre_vault_xch_event_fn on_event;   /* may be NULL */
    void *user_data;                   /* passed to on_event */
    hre_log_fn log_fn;                 /* may be NULL */
    void *log_user_data;               /* passed to log_fn */
    /* version 2 (since 1.1) */
    uint32_t audit_max;                /* holder: refusals the audit log keeps (the newest; 0 =
                                          HRE_VAULT_XCH_DEFAULT_AUDIT_MAX, at most
                                          HRE_VAULT_XCH_AUDIT_MAX_LIMIT) */
} hre_vault_xch_options;

/** Static initializer of hre_vault_xch_options (every field 0 / NULL).  Since: 1.1 */
#define HRE_VAULT_XCH_OPTIONS_INIT \
    { HRE_VAULT_XCH_OPTIONS_VERSION, NULL, 0, NULL, 0, {0}, NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0 }

/** Initialise options to the defaults of `version`.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.  Since: 1.1 */
HRE_API int hre_vault_xch_options_init(hre_vault_xch_options *opts, unsigned int version);

/** @{ */
/** The refusal audit log (PROTOCOL.md 15.8): records kept by default and at
 *  most (hre_vault_xch_options.audit_max), and the sizes of its file's
 *  header and records.  Since: 1.1 */
#define HRE_VAULT_XCH_DEFAULT_AUDIT_MAX 10000u
#define HRE_VAULT_XCH_AUDIT_MAX_LIMIT 100000u
#define HRE_VAULT_XCH_AUDIT_HEADER_LEN 64
#define HRE_VAULT_XCH_AUDIT_RECORD_LEN 192
/** hre_vault_xch_audit.flags: which of its optional fields are known (an
 *  unknown one is all zero). */
#define HRE_VAULT_XCH_AUDIT_HAS_PEER   0x01u  /* peer_key: the requesting node's key */
#define HRE_VAULT_XCH_AUDIT_HAS_READER 0x02u  /* reader: the reader's account address */
#define HRE_VAULT_XCH_AUDIT_HAS_RECORD 0x04u  /* record_id */
#define HRE_VAULT_XCH_AUDIT_HAS_NONCE  0x08u  /* nonce: the request's */
/** @} */

#define HRE_VAULT_XCH_AUDIT_VERSION 1 /* version of hre_vault_xch_audit */

/** One refusal the holder sent, as its audit log keeps it (PROTOCOL.md
 *  15.8). Public chain values and local counters only: no key, no
 *  plaintext, no signature.  Since: 1.1 */
typedef struct hre_vault_xch_audit {
    unsigned int version;              /* in: HRE_VAULT_XCH_AUDIT_VERSION (list: set by the call) */
    uint64_t seq;                      /* 1, 2, ...: the refusal's number in this vault, never reused */
    uint64_t time_ms;                  /* the `now` of the request message (the host's clock, ms) */
    uint64_t conn;                     /* the node's connection id it came on (local) */
    uint8_t reason;                    /* HRE_VAULT_XCH_REFUSE_* */
    uint8_t access_reason;             /* the HRE_ACCESS_* behind it, or 0 */
    uint8_t flags;                     /* HRE_VAULT_XCH_AUDIT_HAS_* */
    uint8_t peer_key[34];              /* the requesting node's verified key (wire form) */
    uint8_t reader[32];                /* the reader's account address */
    uint8_t record_id[32];             /* the record asked for */
    uint8_t nonce[HRE_VAULT_XCH_NONCE_LEN]; /* the request's nonce */
    uint8_t request_hash[32];          /* SHA-256 of the request message's bytes as received */
} hre_vault_xch_audit;

/** Static initializer of hre_vault_xch_audit (every field 0).  Since: 1.1 */
#define HRE_VAULT_XCH_AUDIT_INIT \
    { HRE_VAULT_XCH_AUDIT_VERSION, 0, 0, 0, 0, 0, 0, {0}, {0}, {0}, {0}, {0} }

/** The refusals a holder's exchange sent with this vault, oldest first
 *  (newest last): the audit log in the vault's storage (`p-refusals.aud`,
 *  PROTOCOL.md 15.8), the newest audit_max of them. A record torn by a
 *  power loss is dropped; every earlier one is returned. A list of
 *  versioned structs (common.h rule 7).
 *  Args: v (self): the vault the exchange was created with (the exchange
 *        may be running: what it wrote is returned, synced or not).
 *  Out: out: *n elements of elem_size bytes each (may be NULL when *n ==
 *       0), each in the newest version that fits elem_size, .version set.
 *  In:  elem_size: sizeof(hre_vault_xch_audit) as the caller compiled it.
 *  In/Out: *n: capacity in elements in; elements written out (needed, with
 *          HRE_EBUFSIZE). No log yet: 0 elements, HRE_OK.
 *  Returns: HRE_OK; HRE_EINVAL (NULL); HRE_EUNSUPPORTED (elem_size smaller
 *           than version 1; a file of a newer format); HRE_EBUFSIZE;
 *           HRE_ECORRUPT (the file's header or a record whose check passes
 *           is not canonical: the detail names the offset); HRE_ENOMEM;
 *           the storage's errors.
 *  Thread safety: as the vault (one thread at a time with the vault and its
 *  exchange).  Since: 1.1 */
HRE_API int hre_vault_xch_refusals(hre_vault *v, hre_vault_xch_audit *out, size_t elem_size, size_t *n);

/** The exchange of one node. Opaque.  Since: 1.1 */
typedef struct hre_vault_xch hre_vault_xch;

/** Create the exchange and register its app handler on the node (outside
 *  node callbacks). With a vault it opens the vault's refusal audit log
 *  (PROTOCOL.md 15.8; created if missing, rewritten to keep the newest
 *  audit_max records if its capacity differs): every refusal the holder
 *  sends is appended to it, made durable by hre_vault_xch_tick and
 *  hre_vault_xch_free, and read with hre_vault_xch_refusals.
 *  Out: *out (NULL on failure), freed with hre_vault_xch_free.
 *  Returns: HRE_OK; HRE_EINVAL (no node; a vault without holder_key;
 *           audit_max above HRE_VAULT_XCH_AUDIT_MAX_LIMIT);
 *           HRE_EUNSUPPORTED (options version; an audit log of a newer
 *           format); HRE_ECORRUPT (the audit log is damaged: move it
 *           aside to start a new one); HRE_EEXISTS (the app type has a
 *           handler); HRE_ENOMEM; the storage's errors; the codes of
 *           hre_node_app_register.
 *  Since: 1.1 */
HRE_API int hre_vault_xch_new(hre_vault_xch **out, const hre_vault_xch_options *opts);

/** Unregister and free; transfers in progress are dropped, fetches still
 *  allocated are detached (they fail with HRE_ECANCELED). NULL is fine.
 *  Call outside node callbacks.  Since: 1.1 */
HRE_API void hre_vault_xch_free(hre_vault_xch *x);

/** Feed a node event (from the host's hre_node_event_fn; allowed inside
 *  it): APP_WRITABLE resumes that connection's transfers, PEER_DISCONNECTED
 *  drops its transfers and fails its fetches (HRE_ECANCELED). Others are
 *  ignored.  Returns: HRE_OK; HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_vault_xch_handle_node_event(hre_vault_xch *x, const hre_node_event *ev);

/** Timers: resume transfers that wait for room, expire stale replay-cache
 *  entries and fetches without progress (HRE_EEXPIRED), and sync the
 *  refusal audit log if refusals were written since the last tick (a sync
 *  failure is logged, counted in audit_failures, and the log is reopened at
 *  the next refusal). now: ms.
 *  Returns: HRE_OK; HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_vault_xch_tick(hre_vault_xch *x, uint64_t now);

/** Set the holder's per-connection request rate limit (PROTOCOL.md 15.6
 *  check 0): each connection may send `burst` REQUEST messages at once and
 *  `per_s` a second on average (a token bucket, refilled by the `now` of
 *  the messages); one more is refused BUSY (detail "rate: ...") before its
 *  signature is even checked. Every connection starts again with a full
 *  bucket. Without this call the limit is HRE_VAULT_XCH_DEFAULT_RATE_PER_S /
 *  HRE_VAULT_XCH_DEFAULT_RATE_BURST.
 *  Args: x (self); used by the node's thread, outside node callbacks.
 *  In:  per_s: 0 = no limit, else 1..HRE_VAULT_XCH_RATE_BURST_MAX;
 *       burst: 1..HRE_VAULT_XCH_RATE_BURST_MAX (ignored when per_s is 0).
 *  Returns: HRE_OK; HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_vault_xch_set_rate_limit(hre_vault_xch *x, uint32_t per_s, uint32_t burst);

#define HRE_VAULT_XCH_STATS_VERSION 2 /* version of hre_vault_xch_stats (2: audit_failures) */
/** Counters: a versioned result struct (set .version first).  Since: 1.1 */
typedef struct hre_vault_xch_stats {
    unsigned int version;              /* in: HRE_VAULT_XCH_STATS_VERSION */
    uint64_t requests;                 /* requests received */
    uint64_t refused;                  /* ... refused */
    uint64_t served;                   /* transfers completed */
    uint64_t bytes_sent;               /* envelope bytes sent */
    uint64_t transfers;                /* transfers in progress */
    uint64_t stalls;                   /* HRE_EAGAIN met while sending */
    uint64_t replay_entries;           /* nonces in the replay cache */
    uint64_t fetches;                  /* fetches in progress */
    /* version 2 (since 1.1) */
    uint64_t audit_failures;           /* refusals the audit log could not record (open, write or
                                          sync failed; each one is also an HRE_LOG_ERROR line) */
} hre_vault_xch_stats;
/** Static initializer of hre_vault_xch_stats.  Since: 1.1 */
#define HRE_VAULT_XCH_STATS_INIT { HRE_VAULT_XCH_STATS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0 }
/** @{ */
/** Initialise / fill stats.  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.
 *  Since: 1.1 */
HRE_API int hre_vault_xch_stats_init(hre_vault_xch_stats *out, unsigned int version);
HRE_API int hre_vault_xch_stats_get(const hre_vault_xch *x, hre_vault_xch_stats *out);
/** @} */

/** A document fetch in progress (reader side). Opaque.  Since: 1.1 */
typedef struct hre_vault_fetch hre_vault_fetch;

#define HRE_VAULT_FETCH_PARAMS_VERSION 1 /* version of hre_vault_fetch_params */
/** What to fetch. Read during hre_vault_fetch_new; the keys are borrowed
 *  until the fetch is freed.  Since: 1.1 */
typedef struct hre_vault_fetch_params {
    unsigned int version;              /* HRE_VAULT_FETCH_PARAMS_VERSION */
    uint64_t conn;                     /* the holder's connection */
    uint8_t record_id[32];             /* the record whose document to fetch */
    const hre_key *sign_key;           /* the reader's account signing key */
    const hre_key *enc_key;            /* the reader's encryption private key */
    uint64_t max_doc_len;              /* 0 = HRE_VAULT_DOC_MAX */
} hre_vault_fetch_params;
/** Static initializer of hre_vault_fetch_params.  Since: 1.1 */
#define HRE_VAULT_FETCH_PARAMS_INIT { HRE_VAULT_FETCH_PARAMS_VERSION, 0, {0}, NULL, NULL, 0 }
/** Initialise fetch params.  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED.
 *  Since: 1.1 */
HRE_API int hre_vault_fetch_params_init(hre_vault_fetch_params *p, unsigned int version);

/** Start a fetch: look the record up on this node's chain (its doc_sha256
 *  and locator are what the answer must match), sign a request bound to
 *  the connection's handshake hash and send it. The document goes to sink
 *  as authenticated chunks arrive; it is complete only when the fetch is
 *  done with HRE_OK (discard what the sink got otherwise). The sink runs
 *  inside the node's app handler: node.h's re-entrancy rule applies to it.
 *  Call outside node callbacks.
 *  Out: *out (NULL on failure), freed with hre_vault_fetch_free.
 *  In: x; p; sink, sink_user_data; now (ms).
 *  Returns: HRE_OK; HRE_ENOTFOUND (no such record on this chain; conn);
 *           HRE_EERASED (erased on this chain); HRE_EAGAIN (no room to send
 *           the request now: retry); HRE_EINVAL; HRE_ENOMEM; the codes of
 *           hre_node_app_send.
 *  Since: 1.1 */
HRE_API int hre_vault_fetch_new(hre_vault_fetch **out, hre_vault_xch *x, const hre_vault_fetch_params *p,
                                hre_vault_sink_fn sink, void *sink_user_data, uint64_t now);

/** Start a fetch whose request the reader signed elsewhere (e.g. in its own
 *  process, which keeps its signing and encryption keys: a command-line
 *  tool talking to a node), and take the answer RAW: the holder's envelope
 *  bytes go to sink as they arrive, undecrypted, and the wrap for the reader
 *  is kept for hre_vault_fetch_wrap; the reader opens them itself
 *  (hre_vault_opener, which checks the envelope's SHA-256 against the
 *  wrap's doc_hash). As hre_vault_fetch_new, the record is looked up on this
 *  node's chain and the answer's header must match its doc_sha256, locator
 *  and the reader's address; the fetch is done with HRE_OK when every
 *  envelope byte arrived (then *content of hre_vault_fetch_status holds
 *  doc_hash and envelope_len only). The sink runs inside the node's app
 *  handler (node.h's re-entrancy rule). Call outside node callbacks.
 *  Out: *out (NULL on failure), freed with hre_vault_fetch_free.
 *  In: x; conn: the holder's connection; req: the signed request (nonce,
 *      timestamp_ms, reader_key, record_id, binding = conn's handshake hash
 *      (hre_node_peer_info.handshake_hash), sig; hre_vault_xch_request_sign);
 *      sink, sink_user_data; now (ms).
 *  Returns: HRE_OK; HRE_ENOTFOUND (no such record on this chain; conn);
 *           HRE_EERASED; HRE_EINVAL (NULL; the binding is not conn's);
 *           HRE_EVERIFY (the signature does not verify); HRE_EEXISTS (a fetch
 *           with this nonce is in progress on conn); HRE_EAGAIN; HRE_ENOMEM;
 *           the codes of hre_node_app_send.
 *  Since: 1.1 */
HRE_API int hre_vault_fetch_new_signed(hre_vault_fetch **out, hre_vault_xch *x, uint64_t conn,
                                       const hre_vault_xch_request *req, hre_vault_sink_fn sink,
                                       void *sink_user_data, uint64_t now);

/** The wrap the holder sent for the reader (in the answer's header; either
 *  kind of fetch).
 *  Out: *out (zeroed on failure).
 *  Returns: HRE_OK; HRE_ESTATE (no header arrived yet: a refusal, or not
 *           yet); HRE_EINVAL (NULL).
 *  Since: 1.1 */
HRE_API int hre_vault_fetch_wrap(const hre_vault_fetch *f, hre_vault_wrap *out);

/** Where a fetch stands.
 *  Out: *done (1 when finished); *code: HRE_OK or its failure (the codes of
 *       the opener, HRE_EVERIFY for an answer that is not the record's
 *       document, hre_vault_xch_refusal_code of a refusal, HRE_ECANCELED,
 *       HRE_EEXPIRED, HRE_EPROTO for a malformed answer); *reason (may be
 *       NULL): the refusal reason or 0; *content (may be NULL): on HRE_OK,
 *       what the document held.
 *  Returns: HRE_OK; HRE_EINVAL; HRE_EUNSUPPORTED (content->version).
 *  Since: 1.1 */
HRE_API int hre_vault_fetch_status(const hre_vault_fetch *f, int *done, int *code, int *reason,
                                   hre_vault_content *content);

/** The request a fetch sent (for audits and tests).  Returns: HRE_OK;
 *  HRE_EINVAL.  Since: 1.1 */
HRE_API int hre_vault_fetch_request(const hre_vault_fetch *f, hre_vault_xch_request *out);

/** Free a fetch (an unfinished one is abandoned; later answers for it are
 *  ignored). NULL is fine.  Since: 1.1 */
HRE_API void hre_vault_fetch_free(hre_vault_fetch *f);
/* (END exchange) */

HRE_END_DECLS

#endif /* HRE_VAULT_H */
