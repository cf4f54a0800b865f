/*
 * Internal vault (layer 7) definitions shared by the lib/vault sources and the
 * white-box tests. Never installed; names are hre_vault__*. Byte formats are
 * normative in docs/PROTOCOL.md section 14.
 */
#ifndef HRE_VAULT_INTERNAL_H
#define HRE_VAULT_INTERNAL_H

#include "core/internal.h"
#include "hre/vault.h"

/* Magics of the envelope header and the wrap record. */
#define HRE_VAULT__MAGIC "HREV"
#define HRE_VAULT__WRAP_MAGIC "HREW"
/* Wrap format version (byte 4 of a wrap). */
#define HRE_VAULT__WRAP_FORMAT 1
/* Bytes of the per-chunk length prefix and of the GCM tag. */
#define HRE_VAULT__LEN_PREFIX 4
#define HRE_VAULT__TAG 16
/* Smallest final chunk on the wire: the length prefix and the tag. */
#define HRE_VAULT__MIN_FINAL_WIRE (HRE_VAULT__LEN_PREFIX + HRE_VAULT__TAG)
/* Payload meta: body format byte + media type length byte. */
#define HRE_VAULT__BODY_RAW 0
#define HRE_VAULT__BODY_ZLIB 1

/* HKDF labels (PROTOCOL.md 14.2). */
#define HRE_VAULT__SALT "HRE-VAULT-v1"
#define HRE_VAULT__INFO_CHUNK "chunk key"
#define HRE_VAULT__INFO_COMMIT "key commitment"
/* HPKE info prefix of a wrap (PROTOCOL.md 14.4). */
#define HRE_VAULT__WRAP_INFO "HRE-VAULT-v1 wrap"
#define HRE_VAULT__WRAP_INFO_LEN (17 + 32 + 4 + 1 + 32 + 1 + 32)

/* Padme rounding without the floor (0 and 1 map to themselves). */
uint64_t hre_vault__padme(uint64_t len);

/* Derive the chunk key and the key commitment from a data key. HRE_OK or
 * HRE_ECRYPTO (both outputs wiped). */
int hre_vault__derive(uint8_t chunk_key[32], uint8_t commit[32], const uint8_t data_key[32]);

/* The HPKE info of a wrap: (locator, version, reader, sender); the sender
 * fields are zero in base mode. */
void hre_vault__wrap_info(uint8_t info[HRE_VAULT__WRAP_INFO_LEN], const uint8_t locator[32],
                          uint32_t doc_version, uint8_t reader_type, const uint8_t reader_id[32],
                          uint8_t sender_type, const uint8_t *sender_id);

/* Chunk nonce and AAD (PROTOCOL.md 14.3). */
#define HRE_VAULT__AAD_LEN (HRE_VAULT_HEADER_LEN + 4 + 1)
void hre_vault__chunk_nonce(uint8_t nonce[12], const uint8_t prefix[HRE_VAULT_NONCE_PREFIX_LEN],
                            uint32_t index, int final);

/* Header and wrap codecs without the API scope (internal callers). */
int hre_vault__header_decode(hre_vault_header *out, const uint8_t *in, size_t len);
void hre_vault__header_put(uint8_t out[HRE_VAULT_HEADER_LEN], const hre_vault_header *h);
int hre_vault__wrap_decode(hre_vault_wrap *out, const uint8_t *in, size_t len);
int hre_vault__wrap_check(const hre_vault_wrap *w);
void hre_vault__wrap_put(uint8_t out[HRE_VAULT_WRAP_LEN], const hre_vault_wrap *w);

/* zlib allocator hooks that wipe every block when zlib frees it (deflate and
 * inflate windows hold plaintext). Set on a zeroed z_stream before *Init. */
struct z_stream_s;
void hre_vault__zinit(struct z_stream_s *zs);

/* Sealer, opener and wraps without the API scope (the store, the exchange
 * and the tests build on these). */
int hre_vault__sealer_new(hre_vault_sealer **out, const hre_vault_seal_params *p,
                          hre_vault_sink_fn sink, void *sink_user_data);
int hre_vault__sealer_write(hre_vault_sealer *s, const uint8_t *data, size_t len);
int hre_vault__sealer_finish(hre_vault_sealer *s, uint8_t doc_hash[32], hre_vault_content *content);
int hre_vault__sealer_wrap(hre_vault_sealer *s, hre_vault_wrap *out, uint8_t reader_type,
                           const uint8_t reader_id[32], const hre_pubkey *reader_key);
void hre_vault__sealer_free(hre_vault_sealer *s);
uint64_t hre_vault__sealer_doc_len(const hre_vault_sealer *s);

/* Make a wrap of data_key (auth mode when sender_key is set). */
int hre_vault__wrap_make(hre_vault_wrap *out, const uint8_t data_key[32], const uint8_t doc_hash[32],
                         const uint8_t locator[32], uint32_t doc_version, uint8_t reader_type,
                         const uint8_t reader_id[32], const hre_pubkey *reader_key,
                         uint8_t sender_type, const uint8_t sender_id[32], const hre_key *sender_key,
                         const uint8_t sender_wire[34]);
/* Open a wrap with the reader's key: HRE_OK (key set), HRE_EDECODE,
 * HRE_EDECRYPT, HRE_EAUTH (expected_sender mismatch), ...; key wiped on failure. */
int hre_vault__unwrap(uint8_t key[32], const hre_vault_wrap *w, const hre_key *reader_key,
                      const hre_pubkey *expected_sender);

/* An opener from a data key already unwrapped (the store's read path and
 * the fuzz target); wrap gives doc_hash / locator / version to check. */
int hre_vault__opener_new_key(hre_vault_opener **out, const uint8_t data_key[32],
                              const hre_vault_wrap *wrap, unsigned int flags, uint64_t max_doc_len,
                              hre_vault_sink_fn sink, void *sink_user_data);
int hre_vault__opener_write(hre_vault_opener *o, const uint8_t *data, size_t len);
int hre_vault__opener_finish(hre_vault_opener *o, hre_vault_content *content);
void hre_vault__opener_free(hre_vault_opener *o);

/* Versioned struct families (codec.c). */
extern const hre__vstruct hre_vault__content_vs;
extern const hre__vstruct hre_vault__seal_vs;
extern const hre__vstruct hre_vault__open_vs;
extern const hre__vstruct hre_vault__options_vs;
extern const hre__vstruct hre_vault__entry_vs;
extern const hre__vstruct hre_vault__stats_vs;

/* ------------------------------------------------------------------------ */
/* The vault handle (store.c, access.c, erase.c)                             */
/* ------------------------------------------------------------------------ */

#include "hre/sys/storage.h"
#include "storage/internal.h"

/* Index record types (PROTOCOL.md 14.5). */
#define HRE_VAULT__REC_HEADER  0
#define HRE_VAULT__REC_ADD     1
#define HRE_VAULT__REC_ERASE   2
#define HRE_VAULT__REC_BIND    3
#define HRE_VAULT__REC_PENDING 4
#define HRE_VAULT__REC_PENDING_DONE 5
#define HRE_VAULT__INDEX_MAGIC "HREVAULT"
#define HRE_VAULT__INDEX_FORMAT 1
#define HRE_VAULT__INDEX_MAX_PAYLOAD 1024u
/* Wraps file: one record frame whose payload is u8 format || hash[32] ||
 * u16 count || count wraps. */
#define HRE_VAULT__WRAPS_FORMAT 1
#define HRE_VAULT__WRAPS_HDR (1 + 32 + 2)
#define HRE_VAULT__WRAPS_FILE_MAX \
    (HRE_STORAGE__REC_HDR + HRE_VAULT__WRAPS_HDR + HRE_VAULT_WRAPS_MAX * HRE_VAULT_WRAP_LEN)
/* Hex digits of the document hash in file names (24 bytes, 192 bits). */
#define HRE_VAULT__NAME_HASH_HEX 48
/* Largest envelope: the one of the largest padded payload. */
#define HRE_VAULT__ENVELOPE_MAX (hre_vault_envelope_len(HRE_VAULT_PAYLOAD_MAX))

typedef struct hre_vault__ent {
    uint8_t hash[32];
    uint8_t locator[32];
    uint8_t record[32];
    uint64_t env_len;
    uint32_t doc_version;
    uint8_t state;                   /* HRE_VAULT_PRESENT / HRE_VAULT_ERASED */
    uint8_t has_record;
} hre_vault__ent;

/* Open addressing, slot = entry index + 1 (0 empty); never deleted from. */
typedef struct hre_vault__tab {
    uint32_t *slot;
    size_t cap;                      /* power of two */
    size_t used;
} hre_vault__tab;

struct hre_vault_store;
struct hre_vault_import;

/* A re-wrap this vault made and stored (access.c, PROTOCOL.md 14.7): while
 * the stored wrap for (doc, reader) is still those bytes and the reader's
 * encryption key and the holder are the same (tag = SHA-256 over all of
 * them), hre_vault_rewrap returns it instead of writing a new one. Slot by
 * (doc, reader); a collision only costs a fresh wrap. In memory only. */
#define HRE_VAULT__REUSE_SLOTS 64
typedef struct hre_vault__reuse {
    uint8_t used;
    uint8_t doc[32];
    uint8_t reader[32];
    uint8_t tag[32];
} hre_vault__reuse;

struct hre_vault {
    hre_storage *st;
    char prefix[HRE_VAULT_PREFIX_MAX + 1];
    hre_log_fn log_fn;
    void *log_ud;
    hre_storage__log *log;
    hre_vault__ent *ents;
    size_t n, cap;
    hre_vault__tab by_hash, by_loc, by_rec;
    uint8_t (*pending)[32];
    size_t npending, cap_pending;
    uint64_t seed;
    int fatal;
    uint64_t present, erased, env_bytes;
    struct hre_vault_store *stores;
    struct hre_vault_import *imports;
    hre_vault__reuse reuse[HRE_VAULT__REUSE_SLOTS];
};

/* Names (buffers of HRE_STORAGE_NAME_MAX + 1). ext: "env", "wr", "wn". */
void hre_vault__name(const hre_vault *v, char *out, const uint8_t hash[32], const char *ext);

/* Lookups: entry or NULL. */
hre_vault__ent *hre_vault__find(const hre_vault *v, const uint8_t hash[32]);
hre_vault__ent *hre_vault__find_prefix(const hre_vault *v, const uint8_t prefix24[24]);
hre_vault__ent *hre_vault__find_locator(const hre_vault *v, const uint8_t locator[32],
                                        uint32_t doc_version);
hre_vault__ent *hre_vault__find_record(const hre_vault *v, const uint8_t record[32]);
int hre_vault__pending_has(const hre_vault *v, const uint8_t record[32]);

/* HRE_EFATAL with a detail when the vault is fatal, else HRE_OK. */
int hre_vault__alive(const hre_vault *v);
/* Append one index record and sync it (durable on HRE_OK); a failed sync
 * makes the vault fatal. Applies it to memory on success. */
int hre_vault__log_put(hre_vault *v, const uint8_t *payload, size_t len);

/* Wraps files. load: *out (hre__free) and *n; HRE_ENOTFOUND if missing,
 * HRE_ECORRUPT if damaged. replace: write the new set through <h>.wn
 * (sync, sync_dir), overwrite the old file with zeros (sync), rename over
 * <h>.wr, sync_dir: no version of a wraps file leaves the namespace with
 * its wraps still in it (they would survive in freed blocks). */
int hre_vault__wraps_load(hre_vault *v, const uint8_t hash[32], hre_vault_wrap **out, size_t *n);
int hre_vault__wraps_write(hre_vault *v, const char *name, const uint8_t hash[32],
                           const hre_vault_wrap *w, size_t n);
int hre_vault__wraps_replace(hre_vault *v, const uint8_t hash[32], const hre_vault_wrap *w,
                             size_t n);
/* Overwrite a file with zeros, sync, remove (missing: HRE_OK). */
int hre_vault__shred(hre_vault *v, const char *name);

/* Erase a present or erased entry (erase.c): tombstone, then shred. */
int hre_vault__erase_ent(hre_vault *v, hre_vault__ent *e);
/* Bind record to entry (durable). */
int hre_vault__bind(hre_vault *v, hre_vault__ent *e, const uint8_t record[32]);
/* Resolve a record of the contract to the vault's entry (access.c). */
int hre_vault__resolve(hre_vault *v, hre_vault__ent **out, const hre_contract *c,
                       const uint8_t record_id[32]);

/* Document exchange (exchange.c, PROTOCOL.md 15.6 check 9): mempool
 * transactions one request decodes at most while it looks for the reader's
 * LOG_ACCESS (each is decoded once while it stays in the mempool). */
#define HRE_VAULT__XCH_MEMPOOL_DECODE_MAX 256u
#ifdef HRE_TESTING
/* Mempool transactions this exchange has decoded so far (tests). */
uint64_t hre_vault__xch_mempool_decodes(const hre_vault_xch *x);
/* Mempool transactions it remembers now (tests). */
size_t hre_vault__xch_mempool_cached(const hre_vault_xch *x);
/* Would this encoded transaction, in the mempool, count as a REVOKE of grant
 * by its patient (15.6 check 9)? 1 / 0. */
int hre_vault__xch_tx_revokes(const hre_contract *c, const uint8_t *tx, size_t len, const uint8_t grant[32],
                              const uint8_t patient[32]);
#endif

#endif /* HRE_VAULT_INTERNAL_H */
