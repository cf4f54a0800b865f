/*
 * The transaction envelope (layer 3): construction, signing, the canonical
 * encoding, strict decoding, digests and accessors. See include/hre/tx.h and
 * docs/PROTOCOL.md section 4 for the byte-exact format.
 */
#include <stdio.h>

#include "hre/hash.h"
#include "hre/key.h"
#include "hre/tx.h"
#include "crypto/internal.h"
#include "tx/internal.h"

_Static_assert(sizeof(HRE_TX_SIGHASH_TAG) == HRE_TX_SIGHASH_TAG_LEN,
               "HRE_TX_SIGHASH_TAG_LEN must count the tag's terminating NUL");
_Static_assert(HRE_TX_FIXED_LEN == 1 + 32 + 2 + HRE_PUBKEY_ENCODED_LEN + 8 + 8 + HRE_SIG_LEN,
               "HRE_TX_FIXED_LEN out of date");

/* The tag bytes, NUL included (a char array initialised from a literal of
 * exactly this size keeps the terminating NUL). */
static const uint8_t k_sighash_tag[HRE_TX_SIGHASH_TAG_LEN] = HRE_TX_SIGHASH_TAG;

/* ------------------------------------------------------------------------ */
/* Digests                                                                   */
/* ------------------------------------------------------------------------ */

size_t hre_tx__header(uint8_t buf[HRE_TX__HEADER_MAX], const struct hre_tx *tx,
                      const uint8_t sender[HRE_PUBKEY_ENCODED_LEN])
{
    hre__writer w;
    size_t n = 0;
    hre__writer_init(&w, buf, HRE_TX__HEADER_MAX);
    hre__writer_u8(&w, tx->version);
    hre__writer_bytes(&w, tx->network_id, 32);
    hre__writer_u16(&w, tx->kind);
    hre__writer_bytes(&w, sender, HRE_PUBKEY_ENCODED_LEN);
    hre__writer_u64(&w, tx->nonce);
    hre__writer_u64(&w, tx->timestamp);
    hre__writer_compact(&w, (uint64_t)tx->payload_len);
    (void)hre__writer_finish(&w, &n); /* always fits: HRE_TX__HEADER_MAX is the maximum */
    return n;
}

int hre_tx__digests(uint8_t sighash[32], uint8_t *txid, const struct hre_tx *tx,
                    const uint8_t sender[HRE_PUBKEY_ENCODED_LEN], const uint8_t *sig)
{
    uint8_t hdr[HRE_TX__HEADER_MAX], first[32];
    size_t hlen = hre_tx__header(hdr, tx, sender);
    hre_sha256_ctx *c = NULL;
    int rc = hre_sha256_new(&c);

    if (rc == HRE_OK && sighash) {
        /* sighash = sha256d(tag || version .. payload) */
        rc = hre_sha256_update(c, k_sighash_tag, sizeof k_sighash_tag);
        if (rc == HRE_OK) rc = hre_sha256_update(c, hdr, hlen);
        if (rc == HRE_OK) rc = hre_sha256_update(c, tx->payload, tx->payload_len);
        if (rc == HRE_OK) rc = hre_sha256_final(c, first);
        if (rc == HRE_OK) rc = hre_sha256(sighash, first, sizeof first);
    }
    if (rc == HRE_OK && txid) {
        /* txid = sha256d(version .. payload || signature) = sha256d(encoding) */
        rc = hre_sha256_update(c, hdr, hlen);
        if (rc == HRE_OK) rc = hre_sha256_update(c, tx->payload, tx->payload_len);
        if (rc == HRE_OK) rc = hre_sha256_update(c, sig, HRE_SIG_LEN);
        if (rc == HRE_OK) rc = hre_sha256_final(c, first);
        if (rc == HRE_OK) rc = hre_sha256(txid, first, sizeof first);
    }
    hre_sha256_free(c);
    if (rc != HRE_OK) {
        if (sighash) memset(sighash, 0, 32);
        if (txid) memset(txid, 0, 32);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Construction and signing                                                  */
/* ------------------------------------------------------------------------ */

HRE_API int hre_tx_new(hre_tx **out, const uint8_t network_id[32], uint16_t kind,
                       uint64_t nonce, uint64_t timestamp,
                       const uint8_t *payload, size_t payload_len)
{
    HRE__API_SCOPE;
    struct hre_tx *tx;
    if (out) *out = NULL;
    HRE__CHECK_ARG(out != NULL);
    HRE__CHECK_ARG(network_id != NULL);
    HRE__CHECK_ARG(payload != NULL || payload_len == 0);
    if (payload_len > HRE_TX_MAX_PAYLOAD)
        return hre__fail(HRE_ELIMIT, "transaction payload of %zu bytes exceeds the limit of %u bytes",
                         payload_len, (unsigned)HRE_TX_MAX_PAYLOAD);
    tx = hre__calloc(1, sizeof *tx + payload_len);
    if (!tx) return hre__fail(HRE_ENOMEM, "out of memory allocating a transaction");
    tx->version = HRE_TX_VERSION;
    memcpy(tx->network_id, network_id, 32);
    tx->kind = kind;
    tx->nonce = nonce;
    tx->timestamp = timestamp;
    tx->payload_len = payload_len;
    if (payload_len) memcpy(tx->payload, payload, payload_len);
    atomic_init(&tx->verified, 0);
    *out = tx;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_tx_sign(hre_tx *tx, const hre_key *key)
{
    HRE__API_SCOPE;
    hre_pubkey *pk = NULL;
    uint8_t sender[HRE_PUBKEY_ENCODED_LEN], sighash[32], sig[HRE_SIG_LEN], txid[32];
    int rc;
    HRE__CHECK_ARG(tx != NULL);
    HRE__CHECK_ARG(key != NULL);
    rc = hre_key_pubkey(key, &pk);
    if (rc != HRE_OK) return rc;
    rc = hre_pubkey_serialize_wire(pk, sender);
    hre_pubkey_free(pk);
    if (rc != HRE_OK) return rc;
    /* Compute everything into locals and commit only on success, so a failed
     * (re-)sign leaves tx exactly as it was. */
    rc = hre_tx__digests(sighash, NULL, tx, sender, NULL);
    if (rc != HRE_OK) return rc;
    rc = hre_key_sign(key, sig, sighash);
    if (rc != HRE_OK) return rc;
    rc = hre_tx__digests(NULL, txid, tx, sender, sig);
    if (rc != HRE_OK) return rc;
    memcpy(tx->sender, sender, sizeof sender);
    memcpy(tx->sig, sig, sizeof sig);
    memcpy(tx->sighash, sighash, sizeof sighash);
    memcpy(tx->txid, txid, sizeof txid);
    tx->is_signed = 1;
    /* the library just made a valid signature for the sender it set */
    atomic_store_explicit(&tx->verified, 1, memory_order_release);
    return hre__api_done(HRE_OK);
}

HRE_API void hre_tx_free(hre_tx *tx)
{
    hre__free(tx);
}

/* ------------------------------------------------------------------------ */
/* Encoding                                                                  */
/* ------------------------------------------------------------------------ */

static size_t encoded_len(const struct hre_tx *tx)
{
    return HRE_TX_FIXED_LEN + hre__compact_size_len((uint64_t)tx->payload_len) + tx->payload_len;
}

HRE_API int hre_tx_encode(const hre_tx *tx, uint8_t *out, size_t *outlen)
{
    HRE__API_SCOPE;
    uint8_t hdr[HRE_TX__HEADER_MAX];
    size_t need, hlen;
    HRE__CHECK_ARG(outlen != NULL);
    if (!tx || (!out && *outlen != 0)) {
        *outlen = 0;
        return hre__fail(HRE_EINVAL, "hre_tx_encode: NULL transaction or output buffer");
    }
    if (!tx->is_signed) {
        *outlen = 0;
        return hre__fail(HRE_ESTATE, "cannot encode an unsigned transaction (call hre_tx_sign first)");
    }
    need = encoded_len(tx);
    if (*outlen < need) {
        *outlen = need;
        return hre__fail(HRE_EBUFSIZE, "transaction encoding needs %zu bytes", need);
    }
    hlen = hre_tx__header(hdr, tx, tx->sender);
    memcpy(out, hdr, hlen);
    if (tx->payload_len) memcpy(out + hlen, tx->payload, tx->payload_len);
    memcpy(out + hlen + tx->payload_len, tx->sig, HRE_SIG_LEN);
    *outlen = need;
    return hre__api_done(HRE_OK);
}

/* ------------------------------------------------------------------------ */
/* Strict decoding                                                           */
/* ------------------------------------------------------------------------ */

static const char *curve_name(uint8_t id)
{
    switch (id) {
    case HRE_CURVE_P256: return "P-256";
    case HRE_CURVE_SECP256K1: return "secp256k1";
    default: return "unknown curve";
    }
}

static int truncated(const char *field, size_t offset)
{
    return hre__fail(HRE_EDECODE, "truncated transaction: %s missing at offset %zu", field, offset);
}

/* Classify a failed read of the payload-length CompactSize. `before` is a
 * copy of the reader taken just before the failed read. */
static int payload_len_error(const hre__reader *before, int rc)
{
    hre__reader r = *before, peek = *before;
    uint64_t v = 0;
    size_t avail = hre__reader_remaining(&r), need;
    uint8_t tag = 0;
    if (hre__reader_u8(&peek, &tag) != HRE_OK) return truncated("payload length", r.pos);
    need = tag < 0xfd ? 1 : tag == 0xfd ? 3 : tag == 0xfe ? 5 : 9;
    if (avail < need) return truncated("payload length", r.pos);
    if (rc == HRE_ELIMIT) {
        (void)hre__reader_compact(&r, &v, UINT64_MAX);
        return hre__fail(HRE_ELIMIT, "transaction payload length %llu exceeds the limit of %u bytes",
                         (unsigned long long)v, (unsigned)HRE_TX_MAX_PAYLOAD);
    }
    return hre__fail(HRE_EDECODE, "non-minimal CompactSize for the payload length at offset %zu", r.pos);
}

/* r and s must lie in [1, n-1] and s must be low (s <= n/2). The decision
 * is the key layer's (crypto/internal.h); this only names the reason. */
static int check_signature(const uint8_t sig[HRE_SIG_LEN], hre_curve curve)
{
    if (!hre_key__scalar_in_range(sig, curve))
        return hre__fail(HRE_EDECODE, "transaction signature r is out of range [1, n-1] for %s",
                         curve_name((uint8_t)curve));
    if (!hre_key__scalar_in_range(sig + 32, curve))
        return hre__fail(HRE_EDECODE, "transaction signature s is out of range [1, n-1] for %s",
                         curve_name((uint8_t)curve));
    if (!hre_key__sig_is_canonical(sig, curve))
        return hre__fail(HRE_EDECODE, "transaction signature has a high S value (s > n/2); "
                                      "only low-S signatures are canonical");
    return HRE_OK;
}

/* The sender must be a valid point on its curve: ask the key layer. */
static int check_sender_point(const uint8_t sender[HRE_PUBKEY_ENCODED_LEN], hre_keycache *cache)
{
    hre_pubkey *pk = NULL;
    int rc = cache ? hre_keycache_get(cache, &pk, sender) : hre_pubkey_parse_wire(&pk, sender);
    hre_pubkey_free(pk);
    if (rc == HRE_EDECODE)
        return hre__fail(HRE_EDECODE, "transaction sender key is not a valid point on %s",
                         curve_name(sender[0]));
    return rc;
}

static int tx_decode(hre_tx **out, const uint8_t *in, size_t len, hre_keycache *cache)
{
    hre__reader r, before;
    uint8_t version;
    uint16_t kind;
    uint64_t nonce, timestamp, plen = 0;
    const uint8_t *network_id, *sender, *payload, *sig;
    struct hre_tx *tx;
    size_t avail;
    int rc;

    if (out) *out = NULL;
    HRE__CHECK_ARG(out != NULL);
    HRE__CHECK_ARG(in != NULL || len == 0);

    /* 1. Structure: every field, exact length, cheap checks first. */
    hre__reader_init(&r, in, len);
    if (hre__reader_u8(&r, &version) != HRE_OK) return truncated("version", r.pos);
    if (version != HRE_TX_VERSION)
        return hre__fail(HRE_EDECODE, "unsupported transaction version %u (this library reads %u)",
                         version, (unsigned)HRE_TX_VERSION);
    if (hre__reader_borrow(&r, &network_id, 32) != HRE_OK) return truncated("network id", r.pos);
    if (hre__reader_u16(&r, &kind) != HRE_OK) return truncated("kind", r.pos);
    if (hre__reader_borrow(&r, &sender, HRE_PUBKEY_ENCODED_LEN) != HRE_OK)
        return truncated("sender key", r.pos);
    if (sender[0] != HRE_CURVE_P256 && sender[0] != HRE_CURVE_SECP256K1)
        return hre__fail(HRE_EDECODE, "unknown curve id %u in the transaction sender key", sender[0]);
    if (sender[1] != 0x02 && sender[1] != 0x03)
        return hre__fail(HRE_EDECODE, "transaction sender key is not a SEC1 compressed point "
                                      "(prefix byte 0x%02x)", sender[1]);
    if (hre__reader_u64(&r, &nonce) != HRE_OK) return truncated("nonce", r.pos);
    if (hre__reader_u64(&r, &timestamp) != HRE_OK) return truncated("timestamp", r.pos);
    before = r;
    rc = hre__reader_compact(&r, &plen, HRE_TX_MAX_PAYLOAD);
    if (rc != HRE_OK) return payload_len_error(&before, rc);
    avail = hre__reader_remaining(&r);
    if (hre__reader_borrow(&r, &payload, (size_t)plen) != HRE_OK)
        return hre__fail(HRE_EDECODE, "truncated transaction: payload of %llu bytes, %zu available",
                         (unsigned long long)plen, avail);
    if (hre__reader_borrow(&r, &sig, HRE_SIG_LEN) != HRE_OK) return truncated("signature", r.pos);
    if (hre__reader_remaining(&r) != 0)
        return hre__fail(HRE_EDECODE, "%zu trailing bytes after the transaction",
                         hre__reader_remaining(&r));

    /* 2. Signature range and low S (cheap), 3. the sender point (costly). */
    if ((rc = check_signature(sig, (hre_curve)sender[0])) != HRE_OK) return rc;
    if ((rc = check_sender_point(sender, cache)) != HRE_OK) return rc;

    tx = hre__calloc(1, sizeof *tx + (size_t)plen);
    if (!tx) return hre__fail(HRE_ENOMEM, "out of memory allocating a transaction");
    tx->version = version;
    memcpy(tx->network_id, network_id, 32);
    tx->kind = kind;
    memcpy(tx->sender, sender, HRE_PUBKEY_ENCODED_LEN);
    tx->nonce = nonce;
    tx->timestamp = timestamp;
    tx->payload_len = (size_t)plen;
    if (plen) memcpy(tx->payload, payload, (size_t)plen);
    memcpy(tx->sig, sig, HRE_SIG_LEN);
    atomic_init(&tx->verified, 0);   /* decoding checks no signature */
    /* The encoding is canonical, so the input is the encoding: hash it directly. */
    rc = hre_tx__digests(tx->sighash, NULL, tx, tx->sender, NULL);
    if (rc == HRE_OK) rc = hre_sha256d(tx->txid, in, len);
    if (rc != HRE_OK) {
        hre__free(tx);
        return rc;
    }
    tx->is_signed = 1;
    *out = tx;
    return HRE_OK;
}

HRE_API int hre_tx_decode(hre_tx **out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    return hre__api_done(tx_decode(out, in, len, NULL));
}

HRE_API int hre_tx_decode_cached(hre_tx **out, hre_keycache *cache, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    return hre__api_done(tx_decode(out, in, len, cache));
}

/* ------------------------------------------------------------------------ */
/* Digests and accessors                                                     */
/* ------------------------------------------------------------------------ */

HRE_API int hre_tx_txid(const hre_tx *tx, uint8_t out[32])
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(out != NULL);
    if (!tx) {
        memset(out, 0, 32);
        return hre__fail(HRE_EINVAL, "hre_tx_txid: NULL transaction");
    }
    if (!tx->is_signed) {
        memset(out, 0, 32);
        return hre__fail(HRE_ESTATE, "an unsigned transaction has no txid");
    }
    memcpy(out, tx->txid, 32);
    return hre__api_done(HRE_OK);
}

HRE_API int hre_tx_sighash(const hre_tx *tx, uint8_t out[32])
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(out != NULL);
    if (!tx) {
        memset(out, 0, 32);
        return hre__fail(HRE_EINVAL, "hre_tx_sighash: NULL transaction");
    }
    if (!tx->is_signed) {
        memset(out, 0, 32);
        return hre__fail(HRE_ESTATE, "the transaction has no sender yet (sign it first)");
    }
    memcpy(out, tx->sighash, 32);
    return hre__api_done(HRE_OK);
}

HRE_API uint8_t hre_tx_version(const hre_tx *tx) { return tx ? tx->version : 0; }
HRE_API uint16_t hre_tx_kind(const hre_tx *tx) { return tx ? tx->kind : 0; }
HRE_API uint64_t hre_tx_nonce(const hre_tx *tx) { return tx ? tx->nonce : 0; }
HRE_API uint64_t hre_tx_timestamp(const hre_tx *tx) { return tx ? tx->timestamp : 0; }
HRE_API const uint8_t *hre_tx_network_id(const hre_tx *tx) { return tx ? tx->network_id : NULL; }
HRE_API const uint8_t *hre_tx_sender(const hre_tx *tx) { return tx && tx->is_signed ? tx->sender : NULL; }
HRE_API const uint8_t *hre_tx_signature(const hre_tx *tx) { return tx && tx->is_signed ? tx->sig : NULL; }

HRE_API int hre_tx_verified(const hre_tx *tx)
{
    return tx && atomic_load_explicit(&tx->verified, memory_order_acquire) ? 1 : 0;
}

HRE_API const uint8_t *hre_tx_payload(const hre_tx *tx, size_t *len)
{
    if (len) *len = tx ? tx->payload_len : 0;
    return tx ? tx->payload : NULL;
}
