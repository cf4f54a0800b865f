/* Transaction layer: envelope encoding, strict decoding, signing, txid,
 * verification (single, batch on worker threads) and the key cache at the
 * transaction level. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>

#include "testutil.h"
#ifdef HRE_WHITEBOX
#include "core/internal.h"
#endif

/* Offsets of the fields in a version-1 encoding. */
enum {
    OFF_VERSION = 0, OFF_NET = 1, OFF_KIND = 33, OFF_SENDER = 35,
    OFF_NONCE = 69, OFF_TIME = 77, OFF_PLEN = 85
};

static const uint8_t NET[32] = {
    0x6f, 0xe2, 0x8c, 0x0a, 0xb6, 0xf1, 0xb3, 0x72, 0xc1, 0xa6, 0xa2, 0x46, 0xae, 0x63, 0xf7, 0x4f,
    0x93, 0x1e, 0x83, 0x65, 0xe1, 0x5a, 0x08, 0x9c, 0x68, 0xd6, 0x19, 0x00, 0x00, 0x00, 0x00, 0x00
};
static const uint8_t NET2[32] = { 0x01, 0x02, 0x03 };

/* Group orders, big-endian. */
static const char *const ORDER_HEX[3] = {
    NULL,
    "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", /* P-256 */
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", /* secp256k1 */
};

static hre_key *new_key(hre_curve curve)
{
    hre_key *k = NULL;
    HRE_T_OK(hre_key_generate(&k, curve));
    ck_assert_ptr_nonnull(k);
    return k;
}

static hre_tx *signed_tx(const hre_key *key, const uint8_t net[32], uint16_t kind, uint64_t nonce,
                         uint64_t ts, const uint8_t *payload, size_t plen)
{
    hre_tx *tx = NULL;
    HRE_T_OK(hre_tx_new(&tx, net, kind, nonce, ts, payload, plen));
    HRE_T_OK(hre_tx_sign(tx, key));
    return tx;
}

/* Encode into a fresh malloc'd buffer. */
static uint8_t *encode(const hre_tx *tx, size_t *len)
{
    size_t need = 0;
    uint8_t *buf;
    ck_assert_int_eq(hre_tx_encode(tx, NULL, &need), HRE_EBUFSIZE);
    ck_assert_uint_gt(need, HRE_TX_FIXED_LEN);
    buf = malloc(need);
    ck_assert_ptr_nonnull(buf);
    *len = need;
    HRE_T_OK(hre_tx_encode(tx, buf, len));
    ck_assert_uint_eq(*len, need);
    return buf;
}

static void expect_detail(const char *needle)
{
    const char *d = hre_error_detail();
    if (!strstr(d, needle))
        ck_abort_msg("detail \"%s\" does not mention \"%s\"", d, needle);
}

/* Decode must fail with code and a detail containing needle. */
static void expect_decode_fail(const uint8_t *enc, size_t len, int code, const char *needle)
{
    hre_tx *tx = (hre_tx *)1;
    int rc = hre_tx_decode(&tx, enc, len);
    if (rc != code)
        ck_abort_msg("decode returned %d (%s), expected %d; detail: %s", rc, hre_strerror(rc), code,
                     hre_error_detail());
    ck_assert_ptr_null(tx);
    expect_detail(needle);
}

/* out = n - x (32-byte big-endian), for 0 < x < n. */
static void order_minus(uint8_t out[32], hre_curve curve, const uint8_t x[32])
{
    uint8_t n[32];
    int borrow = 0;
    hre_t_unhex(n, sizeof n, ORDER_HEX[curve]);
    for (int i = 31; i >= 0; i--) {
        int d = (int)n[i] - (int)x[i] - borrow;
        borrow = d < 0;
        out[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
}

/* An independent computation of the documented digests. */
static void ref_sighash(uint8_t out[32], const uint8_t *enc, size_t len)
{
    static const char tag_hex[] = "4852452f74782f763100"; /* "HRE/tx/v1" NUL */
    uint8_t *pre = malloc(10 + len);
    ck_assert_ptr_nonnull(pre);
    ck_assert_uint_eq(hre_t_unhex(pre, 10, tag_hex), 10);
    memcpy(pre + 10, enc, len - HRE_SIG_LEN);
    HRE_T_OK(hre_sha256d(out, pre, 10 + len - HRE_SIG_LEN));
    free(pre);
}

START_TEST(test_tag_constant)
{
    ck_assert_uint_eq(sizeof(HRE_TX_SIGHASH_TAG), HRE_TX_SIGHASH_TAG_LEN);
    ck_assert_uint_eq(HRE_TX_SIGHASH_TAG_LEN, 10);
    ck_assert_mem_eq(HRE_TX_SIGHASH_TAG, "HRE/tx/v1\0", 10);
    ck_assert_uint_eq(HRE_TX_FIXED_LEN, 149);
    ck_assert_uint_eq(HRE_TX_MAX_LEN, 149 + 5 + 65536);
}
END_TEST

/* The worked example of docs/PROTOCOL.md section 4.7, checked independently
 * with Python (hashlib + cryptography) when it was made: a frozen encoding,
 * so any change to the format, the tag or the digests fails here. */
static const char KAT_TX[] =
    "01000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0100010353dc91da022e73ba"
    "7ce82c34fc57398aa4e92fd57cb0ce1b95574db856f82bb2070000000000000000812469000000000568656c6c"
    "6f7b8ec8db0c25716759d1aedc3abb814607fb7674658fd5cfa4fe41544e74d5fa0adb80c941938ce6f3eb79dd"
    "e3d9253a40a2c3186b4531729781d40e1051b27e";
static const char KAT_SIGHASH[] = "21a10c379cc7fcef7c2df88053cd4dbf9589fde5f232718692f992f18158b80c";
static const char KAT_TXID[] = "f8bf2e7b9d22688d5422cc1d4b9ebedee7a8a77fae710527ec92a2c4b3551474";

START_TEST(test_known_answer)
{
    uint8_t enc[160], want[32], h[32], net[32], out[160];
    size_t len = hre_t_unhex(enc, sizeof enc, KAT_TX), olen = sizeof out, plen;
    hre_tx *tx = NULL;
    const uint8_t *p;
    for (int i = 0; i < 32; i++) net[i] = (uint8_t)i;
    ck_assert_uint_eq(len, 155);
    HRE_T_OK(hre_tx_decode(&tx, enc, len));
    ck_assert_uint_eq(hre_tx_kind(tx), 1);
    ck_assert_uint_eq(hre_tx_nonce(tx), 7);
    ck_assert_uint_eq(hre_tx_timestamp(tx), 1764000000);
    ck_assert_mem_eq(hre_tx_network_id(tx), net, 32);
    ck_assert_uint_eq(hre_tx_sender(tx)[0], HRE_CURVE_P256);
    p = hre_tx_payload(tx, &plen);
    ck_assert_uint_eq(plen, 5);
    ck_assert_mem_eq(p, "hello", 5);
    hre_t_unhex(want, 32, KAT_SIGHASH);
    HRE_T_OK(hre_tx_sighash(tx, h));
    ck_assert_mem_eq(h, want, 32);
    ref_sighash(h, enc, len);
    ck_assert_mem_eq(h, want, 32);
    hre_t_unhex(want, 32, KAT_TXID);
    HRE_T_OK(hre_tx_txid(tx, h));
    ck_assert_mem_eq(h, want, 32);
    HRE_T_OK(hre_tx_verify(tx, NULL, net));
    ck_assert_int_eq(hre_tx_verify(tx, NULL, NET), HRE_EVERIFY);
    HRE_T_OK(hre_tx_encode(tx, out, &olen));
    ck_assert_uint_eq(olen, len);
    ck_assert_mem_eq(out, enc, len);
    hre_tx_free(tx);
}
END_TEST

START_TEST(test_roundtrip_layout_and_digests)
{
    static const size_t lens[] = { 0, 1, 20, 252, 253, 300, 65535, 65536 };
    hre_keycache *cache = NULL;
    HRE_T_OK(hre_keycache_new(&cache, 16));
    for (int c = HRE_CURVE_P256; c <= HRE_CURVE_SECP256K1; c++) {
        hre_key *key = new_key((hre_curve)c);
        hre_pubkey *pk = NULL;
        uint8_t wire[HRE_PUBKEY_ENCODED_LEN];
        HRE_T_OK(hre_key_pubkey(key, &pk));
        HRE_T_OK(hre_pubkey_serialize_wire(pk, wire));
        hre_pubkey_free(pk);
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t plen = lens[li], len, len2, clen = plen < 0xfd ? 1 : plen <= 0xffff ? 3 : 5;
            uint8_t *payload = malloc(plen + 1), *enc, *enc2, h[32], h2[32];
            const uint8_t *p;
            size_t got;
            hre_tx *tx, *dec = NULL, *dec2 = NULL;
            for (size_t i = 0; i < plen; i++) payload[i] = (uint8_t)(i * 7 + c);
            tx = signed_tx(key, NET, 0x1234, 0x0102030405060708ULL, 1764000000ULL, payload, plen);
            enc = encode(tx, &len);
            ck_assert_uint_eq(len, HRE_TX_FIXED_LEN + clen + plen);
            /* byte-exact layout */
            ck_assert_uint_eq(enc[OFF_VERSION], 1);
            ck_assert_mem_eq(enc + OFF_NET, NET, 32);
            ck_assert_uint_eq(enc[OFF_KIND], 0x34);
            ck_assert_uint_eq(enc[OFF_KIND + 1], 0x12);
            ck_assert_mem_eq(enc + OFF_SENDER, wire, 34);
            ck_assert_uint_eq(enc[OFF_SENDER], (unsigned)c);
            ck_assert_uint_eq(enc[OFF_NONCE], 0x08);
            ck_assert_uint_eq(enc[OFF_NONCE + 7], 0x01);
            ck_assert_uint_eq(enc[OFF_TIME] | enc[OFF_TIME + 1] << 8 | enc[OFF_TIME + 2] << 16 |
                              (uint32_t)enc[OFF_TIME + 3] << 24, 1764000000UL);
            if (clen == 1) ck_assert_uint_eq(enc[OFF_PLEN], plen);
            if (clen == 3) ck_assert_uint_eq(enc[OFF_PLEN], 0xfd);
            if (clen == 5) ck_assert_uint_eq(enc[OFF_PLEN], 0xfe);
            ck_assert_mem_eq(enc + OFF_PLEN + clen, payload, plen);
            ck_assert_mem_eq(enc + len - 64, hre_tx_signature(tx), 64);
            /* digests: txid = sha256d(encoding), sighash = sha256d(tag || unsigned part) */
            HRE_T_OK(hre_tx_txid(tx, h));
            HRE_T_OK(hre_sha256d(h2, enc, len));
            ck_assert_mem_eq(h, h2, 32);
            HRE_T_OK(hre_tx_sighash(tx, h));
            ref_sighash(h2, enc, len);
            ck_assert_mem_eq(h, h2, 32);
            /* the signature verifies through the key API directly too */
            HRE_T_OK(hre_key_pubkey(key, &pk));
            HRE_T_OK(hre_pubkey_verify(pk, h2, enc + len - 64));
            hre_pubkey_free(pk);
            /* decode, accessors, re-encode byte-exactly */
            HRE_T_OK(hre_tx_decode(&dec, enc, len));
            ck_assert_uint_eq(hre_tx_version(dec), 1);
            ck_assert_uint_eq(hre_tx_kind(dec), 0x1234);
            ck_assert_uint_eq(hre_tx_nonce(dec), 0x0102030405060708ULL);
            ck_assert_uint_eq(hre_tx_timestamp(dec), 1764000000ULL);
            ck_assert_mem_eq(hre_tx_network_id(dec), NET, 32);
            ck_assert_mem_eq(hre_tx_sender(dec), wire, 34);
            ck_assert_mem_eq(hre_tx_signature(dec), enc + len - 64, 64);
            p = hre_tx_payload(dec, &got);
            ck_assert_uint_eq(got, plen);
            ck_assert_mem_eq(p, payload, plen);
            enc2 = encode(dec, &len2);
            ck_assert_uint_eq(len2, len);
            ck_assert_mem_eq(enc2, enc, len);
            HRE_T_OK(hre_tx_txid(dec, h));
            HRE_T_OK(hre_tx_txid(tx, h2));
            ck_assert_mem_eq(h, h2, 32);
            HRE_T_OK(hre_tx_sighash(dec, h));
            HRE_T_OK(hre_tx_sighash(tx, h2));
            ck_assert_mem_eq(h, h2, 32);
            HRE_T_OK(hre_tx_verify(tx, NULL, NET));
            HRE_T_OK(hre_tx_verify(dec, NULL, NET));
            HRE_T_OK(hre_tx_verify(dec, cache, NET));
            /* the cached decoder gives the same transaction */
            HRE_T_OK(hre_tx_decode_cached(&dec2, cache, enc, len));
            HRE_T_OK(hre_tx_txid(dec2, h));
            HRE_T_OK(hre_tx_txid(dec, h2));
            ck_assert_mem_eq(h, h2, 32);
            hre_tx_free(dec2);
            hre_tx_free(dec);
            hre_tx_free(tx);
            free(enc);
            free(enc2);
            free(payload);
        }
        hre_key_free(key);
    }
    hre_keycache_free(cache);
}
END_TEST

START_TEST(test_sign_is_deterministic_in_layout_and_resign)
{
    hre_key *a = new_key(HRE_CURVE_P256), *b = new_key(HRE_CURVE_SECP256K1);
    hre_tx *tx = signed_tx(a, NET, 7, 1, 2, (const uint8_t *)"abc", 3);
    uint8_t id1[32], id2[32], s1[34];
    memcpy(s1, hre_tx_sender(tx), 34);
    HRE_T_OK(hre_tx_txid(tx, id1));
    HRE_T_OK(hre_tx_sign(tx, b));
    HRE_T_OK(hre_tx_txid(tx, id2));
    ck_assert_mem_ne(id1, id2, 32);
    ck_assert_mem_ne(s1, hre_tx_sender(tx), 34);
    ck_assert_uint_eq(hre_tx_sender(tx)[0], HRE_CURVE_SECP256K1);
    HRE_T_OK(hre_tx_verify(tx, NULL, NET));
    hre_tx_free(tx);
    hre_key_free(a);
    hre_key_free(b);
}
END_TEST

/* Every single-byte change of a signed transaction is rejected: the decoder
 * refuses it, or the signature / network check does. */
static void mutate_all(hre_curve curve, size_t plen)
{
    static const uint8_t xors[] = { 0x01, 0x02, 0x10, 0x80, 0xff };
    hre_key *key = new_key(curve);
    uint8_t *payload = malloc(plen + 1), *enc, *m, id0[32];
    size_t len, n_decode = 0, n_verify = 0;
    hre_tx *tx;
    hre_t_rand_bytes(payload, plen);
    tx = signed_tx(key, NET, 3, 42, 1700000000, payload, plen);
    enc = encode(tx, &len);
    HRE_T_OK(hre_tx_txid(tx, id0));
    m = malloc(len);
    for (size_t pos = 0; pos < len; pos++) {
        for (size_t x = 0; x < sizeof xors; x++) {
            hre_tx *dec = NULL;
            int rc;
            memcpy(m, enc, len);
            m[pos] ^= xors[x];
            rc = hre_tx_decode(&dec, m, len);
            if (rc != HRE_OK) {
                ck_assert_ptr_null(dec);
                ck_assert(rc == HRE_EDECODE || rc == HRE_ELIMIT);
                n_decode++;
                continue;
            }
            uint8_t id[32];
            HRE_T_OK(hre_tx_txid(dec, id));
            ck_assert_mem_ne(id, id0, 32);
            rc = hre_tx_verify(dec, NULL, NET);
            if (rc != HRE_EVERIFY)
                ck_abort_msg("mutation at byte %zu (xor 0x%02x) accepted: verify returned %d",
                             pos, xors[x], rc);
            n_verify++;
            hre_tx_free(dec);
        }
    }
    /* both rejection paths are exercised */
    ck_assert_uint_gt(n_decode, 0);
    ck_assert_uint_gt(n_verify, 0);
    ck_assert_uint_eq(n_decode + n_verify, len * sizeof xors);
    printf("tx mutations (curve %d, %zu bytes): %zu rejected by decode, %zu by verify\n",
           (int)curve, len, n_decode, n_verify);
    hre_tx_free(tx);
    hre_key_free(key);
    free(enc);
    free(m);
    free(payload);
}

START_TEST(test_every_byte_mutation_rejected_p256)
{
    hre_t_reseed(hre_t_seed() ^ 0x7101);
    mutate_all(HRE_CURVE_P256, 24);
}
END_TEST

START_TEST(test_every_byte_mutation_rejected_secp256k1)
{
    hre_t_reseed(hre_t_seed() ^ 0x7102);
    mutate_all(HRE_CURVE_SECP256K1, 3);
}
END_TEST

START_TEST(test_other_network_rejected)
{
    hre_key *key = new_key(HRE_CURVE_P256);
    hre_tx *tx = signed_tx(key, NET2, 1, 1, 1, NULL, 0), *dec = NULL;
    uint8_t *enc;
    size_t len;
    HRE_T_OK(hre_tx_verify(tx, NULL, NET2));
    ck_assert_int_eq(hre_tx_verify(tx, NULL, NET), HRE_EVERIFY);
    expect_detail("another network");
    /* rewriting the network id in the encoding breaks the signature */
    enc = encode(tx, &len);
    memcpy(enc + OFF_NET, NET, 32);
    HRE_T_OK(hre_tx_decode(&dec, enc, len));
    ck_assert_int_eq(hre_tx_verify(dec, NULL, NET), HRE_EVERIFY);
    expect_detail("signature does not verify");
    hre_tx_free(dec);
    hre_tx_free(tx);
    hre_key_free(key);
    free(enc);
}
END_TEST

START_TEST(test_unsigned_tx)
{
    hre_tx *tx = NULL;
    uint8_t buf[512], h[32];
    size_t len = sizeof buf;
    HRE_T_OK(hre_tx_new(&tx, NET, 1, 2, 3, (const uint8_t *)"x", 1));
    ck_assert_int_eq(hre_tx_encode(tx, buf, &len), HRE_ESTATE);
    ck_assert_uint_eq(len, 0);
    expect_detail("unsigned");
    memset(h, 0xaa, sizeof h);
    ck_assert_int_eq(hre_tx_txid(tx, h), HRE_ESTATE);
    for (int i = 0; i < 32; i++) ck_assert_uint_eq(h[i], 0);
    ck_assert_int_eq(hre_tx_sighash(tx, h), HRE_ESTATE);
    ck_assert_int_eq(hre_tx_verify(tx, NULL, NET), HRE_ESTATE);
    ck_assert_ptr_null(hre_tx_sender(tx));
    ck_assert_ptr_null(hre_tx_signature(tx));
    ck_assert_uint_eq(hre_tx_version(tx), HRE_TX_VERSION);
    ck_assert_uint_eq(hre_tx_nonce(tx), 2);
    hre_tx_free(tx);
    hre_tx_free(NULL);
}
END_TEST

START_TEST(test_arguments)
{
    hre_key *key = new_key(HRE_CURVE_P256);
    hre_tx *tx = (hre_tx *)1;
    uint8_t buf[HRE_TX_FIXED_LEN + 1], h[32];
    size_t len;
    int res[1];
    ck_assert_int_eq(hre_tx_new(NULL, NET, 0, 0, 0, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_tx_new(&tx, NULL, 0, 0, 0, NULL, 0), HRE_EINVAL);
    ck_assert_ptr_null(tx);
    ck_assert_int_eq(hre_tx_new(&tx, NET, 0, 0, 0, NULL, 5), HRE_EINVAL);
    ck_assert_int_eq(hre_tx_decode(NULL, buf, 10), HRE_EINVAL);
    ck_assert_int_eq(hre_tx_decode(&tx, NULL, 10), HRE_EINVAL);
    ck_assert_int_eq(hre_tx_decode(&tx, NULL, 0), HRE_EDECODE);
    expect_detail("truncated");
    ck_assert_int_eq(hre_tx_sign(NULL, key), HRE_EINVAL);
    ck_assert_int_eq(hre_tx_verify(NULL, NULL, NET), HRE_EINVAL);
    ck_assert_int_eq(hre_tx_txid(NULL, h), HRE_EINVAL);
    ck_assert_int_eq(hre_tx_sighash(NULL, NULL), HRE_EINVAL);
    HRE_T_OK(hre_tx_verify_batch(NULL, NULL, NULL, NULL, 0, NET));
    ck_assert_int_eq(hre_tx_verify_batch(NULL, NULL, NULL, NULL, 1, NET), HRE_EINVAL);
    tx = signed_tx(key, NET, 0, 0, 0, (const uint8_t *)"pp", 2);
    ck_assert_int_eq(hre_tx_sign(tx, NULL), HRE_EINVAL);
    ck_assert_int_eq(hre_tx_verify(tx, NULL, NULL), HRE_EINVAL);
    ck_assert_int_eq(hre_tx_verify_batch(res, NULL, NULL, &tx, 1, NULL), HRE_EINVAL);
    ck_assert_int_eq(hre_tx_encode(tx, buf, NULL), HRE_EINVAL);
    len = sizeof buf; /* one byte short: 149 fixed + 1 length + 2 payload */
    ck_assert_int_eq(hre_tx_encode(tx, buf, &len), HRE_EBUFSIZE);
    ck_assert_uint_eq(len, HRE_TX_FIXED_LEN + 3);
    len = 5;
    ck_assert_int_eq(hre_tx_encode(tx, NULL, &len), HRE_EINVAL);
    ck_assert_uint_eq(hre_tx_version(NULL), 0);
    ck_assert_uint_eq(hre_tx_kind(NULL), 0);
    ck_assert_ptr_null(hre_tx_network_id(NULL));
    ck_assert_ptr_null(hre_tx_payload(NULL, &len));
    ck_assert_uint_eq(len, 0);
    hre_tx_free(tx);
    hre_key_free(key);
}
END_TEST

/* Build a raw encoding by hand (no signing): header fields, a CompactSize
 * given as raw bytes, payload and a signature. */
static size_t raw_tx(uint8_t *out, const uint8_t sender[34], const uint8_t *cs, size_t cslen,
                     const uint8_t *payload, size_t plen, const uint8_t sig[64])
{
    size_t n = 0;
    out[n++] = 1;
    memcpy(out + n, NET, 32); n += 32;
    out[n++] = 9; out[n++] = 0;
    memcpy(out + n, sender, 34); n += 34;
    memset(out + n, 0x11, 8); n += 8;
    memset(out + n, 0x22, 8); n += 8;
    memcpy(out + n, cs, cslen); n += cslen;
    if (plen) memcpy(out + n, payload, plen);
    n += plen;
    memcpy(out + n, sig, 64); n += 64;
    return n;
}

START_TEST(test_payload_caps)
{
    hre_key *key = new_key(HRE_CURVE_P256);
    uint8_t *payload = calloc(1, HRE_TX_MAX_PAYLOAD + 2), *enc, *big;
    hre_tx *tx = NULL, *dec = NULL;
    size_t len, blen;
    ck_assert_int_eq(hre_tx_new(&tx, NET, 0, 0, 0, payload, HRE_TX_MAX_PAYLOAD + 1), HRE_ELIMIT);
    ck_assert_ptr_null(tx);
    tx = signed_tx(key, NET, 0, 0, 0, payload, HRE_TX_MAX_PAYLOAD);
    enc = encode(tx, &len);
    ck_assert_uint_eq(len, HRE_TX_MAX_LEN);
    HRE_T_OK(hre_tx_decode(&dec, enc, len));
    HRE_T_OK(hre_tx_verify(dec, NULL, NET));
    hre_tx_free(dec);
    /* same transaction with one more payload byte: length 65537 */
    big = malloc(len + 1);
    blen = raw_tx(big, enc + OFF_SENDER, (const uint8_t[]){ 0xfe, 0x01, 0x00, 0x01, 0x00 }, 5,
                  payload, HRE_TX_MAX_PAYLOAD + 1, enc + len - 64);
    ck_assert_uint_eq(blen, len + 1);
    expect_decode_fail(big, blen, HRE_ELIMIT, "exceeds the limit");
    /* a huge declared length is refused before anything is allocated or read */
    blen = raw_tx(big, enc + OFF_SENDER,
                  (const uint8_t[]){ 0xff, 0, 0, 0, 0, 0, 0, 0, 0x80 }, 9, NULL, 0, enc + len - 64);
    expect_decode_fail(big, blen, HRE_ELIMIT, "exceeds the limit");
    free(big);
    free(enc);
    free(payload);
    hre_tx_free(tx);
    hre_key_free(key);
}
END_TEST

START_TEST(test_noncanonical_length_trailing_truncated)
{
    hre_key *key = new_key(HRE_CURVE_P256);
    uint8_t payload[300], buf[700], *enc;
    hre_tx *tx;
    size_t len, n;
    memset(payload, 0x5a, sizeof payload);
    tx = signed_tx(key, NET, 1, 1, 1, payload, 10);
    enc = encode(tx, &len);
    ck_assert_uint_eq(enc[OFF_PLEN], 10);
    /* 10 as 0xfd 0x0a 0x00, 0xfe ..., 0xff ... */
    n = raw_tx(buf, enc + OFF_SENDER, (const uint8_t[]){ 0xfd, 10, 0 }, 3, payload, 10, enc + len - 64);
    expect_decode_fail(buf, n, HRE_EDECODE, "non-minimal");
    n = raw_tx(buf, enc + OFF_SENDER, (const uint8_t[]){ 0xfe, 10, 0, 0, 0 }, 5, payload, 10, enc + len - 64);
    expect_decode_fail(buf, n, HRE_EDECODE, "non-minimal");
    n = raw_tx(buf, enc + OFF_SENDER, (const uint8_t[]){ 0xff, 10, 0, 0, 0, 0, 0, 0, 0 }, 9,
               payload, 10, enc + len - 64);
    expect_decode_fail(buf, n, HRE_EDECODE, "non-minimal");
    /* 300 as 0xfe 0x2c 0x01 0 0 (minimal is 0xfd 0x2c 0x01) */
    n = raw_tx(buf, enc + OFF_SENDER, (const uint8_t[]){ 0xfe, 0x2c, 0x01, 0, 0 }, 5,
               payload, 300, enc + len - 64);
    expect_decode_fail(buf, n, HRE_EDECODE, "non-minimal");
    /* the canonical hand-built form decodes (same bytes as the library's) */
    n = raw_tx(buf, enc + OFF_SENDER, (const uint8_t[]){ 10 }, 1, payload, 10, enc + len - 64);
    buf[OFF_KIND] = enc[OFF_KIND]; buf[OFF_KIND + 1] = enc[OFF_KIND + 1];
    memcpy(buf + OFF_NONCE, enc + OFF_NONCE, 16);
    ck_assert_uint_eq(n, len);
    ck_assert_mem_eq(buf, enc, len);
    /* one trailing byte (any value) */
    memcpy(buf, enc, len);
    buf[len] = 0;
    expect_decode_fail(buf, len + 1, HRE_EDECODE, "trailing");
    buf[len] = 0xff;
    expect_decode_fail(buf, len + 1, HRE_EDECODE, "trailing");
    /* every proper prefix is truncated */
    for (size_t cut = 0; cut < len; cut++) expect_decode_fail(enc, cut, HRE_EDECODE, "truncated");
    hre_tx_free(tx);
    hre_key_free(key);
    free(enc);
}
END_TEST

START_TEST(test_bad_version_curve_point)
{
    hre_key *key = new_key(HRE_CURVE_P256);
    hre_tx *tx = signed_tx(key, NET, 1, 1, 1, (const uint8_t *)"hello", 5);
    uint8_t *enc, *m;
    size_t len;
    int found = 0;
    enc = encode(tx, &len);
    m = malloc(len);
    static const uint8_t versions[] = { 0, 2, 0x7f, 0xff };
    for (size_t i = 0; i < sizeof versions; i++) {
        memcpy(m, enc, len);
        m[OFF_VERSION] = versions[i];
        expect_decode_fail(m, len, HRE_EDECODE, "version");
    }
    static const uint8_t curves[] = { 0, 3, 4, 0x80, 0xff };
    for (size_t i = 0; i < sizeof curves; i++) {
        memcpy(m, enc, len);
        m[OFF_SENDER] = curves[i];
        expect_decode_fail(m, len, HRE_EDECODE, "curve id");
    }
    static const uint8_t prefixes[] = { 0, 1, 4, 6, 7, 0xff };
    for (size_t i = 0; i < sizeof prefixes; i++) {
        memcpy(m, enc, len);
        m[OFF_SENDER + 1] = prefixes[i];
        expect_decode_fail(m, len, HRE_EDECODE, "compressed point");
    }
    for (int c = HRE_CURVE_P256; c <= HRE_CURVE_SECP256K1; c++) {
        /* x = 2^256 - 1 is not a field element on either curve */
        memcpy(m, enc, len);
        m[OFF_SENDER] = (uint8_t)c;
        memset(m + OFF_SENDER + 2, 0xff, 32);
        expect_decode_fail(m, len, HRE_EDECODE, "not a valid point");
        /* an x below p with no matching y: the key layer decides, decode agrees */
        found = 0;
        for (unsigned x = 1; x < 200 && !found; x++) {
            uint8_t sec1[33] = { 0x02 };
            hre_pubkey *pk = NULL;
            sec1[31] = (uint8_t)(x >> 8);
            sec1[32] = (uint8_t)x;
            if (hre_pubkey_parse(&pk, (hre_curve)c, sec1, 33) == HRE_EDECODE) {
                memcpy(m, enc, len);
                m[OFF_SENDER] = (uint8_t)c;
                memcpy(m + OFF_SENDER + 1, sec1, 33);
                expect_decode_fail(m, len, HRE_EDECODE, "not a valid point");
                found = 1;
            }
            hre_pubkey_free(pk);
        }
        ck_assert(found);
    }
    free(m);
    free(enc);
    hre_tx_free(tx);
    hre_key_free(key);
}
END_TEST

START_TEST(test_high_s_and_range)
{
    for (int c = HRE_CURVE_P256; c <= HRE_CURVE_SECP256K1; c++) {
        hre_key *key = new_key((hre_curve)c);
        hre_tx *tx = signed_tx(key, NET, 1, 1, 1, (const uint8_t *)"s", 1);
        uint8_t *enc, *m, n[32], sig[64];
        size_t len;
        enc = encode(tx, &len);
        m = malloc(len);
        uint8_t *ms = m + len - 32, *mr = m + len - 64;
        hre_t_unhex(n, sizeof n, ORDER_HEX[c]);
        /* s -> n - s: the same signature in its malleated, high-S form */
        memcpy(m, enc, len);
        order_minus(ms, (hre_curve)c, enc + len - 32);
        ck_assert_mem_ne(ms, enc + len - 32, 32);
        expect_decode_fail(m, len, HRE_EDECODE, "high S");
        /* the key layer normalises it back to the original */
        memcpy(sig, mr, 64);
        HRE_T_OK(hre_sig_normalize(sig, (hre_curve)c));
        ck_assert_mem_eq(sig, enc + len - 64, 64);
        /* r or s out of [1, n-1] */
        memcpy(m, enc, len); memset(mr, 0, 32);
        expect_decode_fail(m, len, HRE_EDECODE, "r is out of range");
        memcpy(m, enc, len); memcpy(mr, n, 32);
        expect_decode_fail(m, len, HRE_EDECODE, "r is out of range");
        memcpy(m, enc, len); memset(mr, 0xff, 32);
        expect_decode_fail(m, len, HRE_EDECODE, "r is out of range");
        memcpy(m, enc, len); memset(ms, 0, 32);
        expect_decode_fail(m, len, HRE_EDECODE, "s is out of range");
        memcpy(m, enc, len); memcpy(ms, n, 32);
        expect_decode_fail(m, len, HRE_EDECODE, "s is out of range");
        /* s = 1 and r = n - 1 are in range and low: decoded, then rejected by verify */
        {
            hre_tx *dec = NULL;
            uint8_t one[32] = { 0 };
            one[31] = 1;
            memcpy(m, enc, len);
            memset(ms, 0, 32); ms[31] = 1;
            order_minus(mr, (hre_curve)c, one);
            HRE_T_OK(hre_tx_decode(&dec, m, len));
            ck_assert_int_eq(hre_tx_verify(dec, NULL, NET), HRE_EVERIFY);
            hre_tx_free(dec);
        }
        free(m);
        free(enc);
        hre_tx_free(tx);
        hre_key_free(key);
    }
}
END_TEST

/* ---- batch verification ---- */

/* Defect 1.7: a transaction remembers a successful verification. Signing
 * here marks it (the library made the signature); decoding never does; a
 * failed verification leaves it unmarked; a batch marks exactly the ones
 * that passed. */
START_TEST(test_verified_mark)
{
    hre_key *k1 = new_key(HRE_CURVE_P256), *k2 = new_key(HRE_CURVE_P256);
    hre_tx *a = signed_tx(k1, NET, 1, 0, 1, (const uint8_t *)"a", 1);
    hre_tx *b = signed_tx(k2, NET, 1, 0, 1, (const uint8_t *)"b", 1);
    hre_tx *da = NULL, *forged = NULL, *other = NULL, *batch[3];
    size_t la, lb;
    uint8_t *ea = encode(a, &la), *eb = encode(b, &lb);
    int res[3];
    ck_assert_int_eq(hre_tx_verified(NULL), 0);
    ck_assert_int_eq(hre_tx_verified(a), 1);                 /* signed by the library */
    HRE_T_OK(hre_tx_decode(&da, ea, la));
    ck_assert_int_eq(hre_tx_verified(da), 0);                /* decoded: not checked */
    ck_assert_int_eq(hre_tx_verify(da, NULL, NET2), HRE_EVERIFY);
    ck_assert_int_eq(hre_tx_verified(da), 0);                /* wrong network: still not */
    HRE_T_OK(hre_tx_verify(da, NULL, NET));
    ck_assert_int_eq(hre_tx_verified(da), 1);
    /* a's fields with b's signature: decodes, never verifies */
    memcpy(ea + la - 64, eb + lb - 64, 64);
    HRE_T_OK(hre_tx_decode(&forged, ea, la));
    ck_assert_int_eq(hre_tx_verify(forged, NULL, NET), HRE_EVERIFY);
    ck_assert_int_eq(hre_tx_verified(forged), 0);
    /* re-signing a forged copy with a real key marks it (and fixes it) */
    HRE_T_OK(hre_tx_decode(&other, eb, lb));
    ck_assert_int_eq(hre_tx_verified(other), 0);
    HRE_T_OK(hre_tx_sign(other, k1));
    ck_assert_int_eq(hre_tx_verified(other), 1);
    HRE_T_OK(hre_tx_verify(other, NULL, NET));
    /* batch */
    hre_tx_free(da);
    da = NULL;
    HRE_T_OK(hre_tx_decode(&da, eb, lb));    /* unmarked, valid */
    hre_tx_free(forged);
    forged = NULL;
    HRE_T_OK(hre_tx_decode(&forged, ea, la));/* unmarked, invalid */
    batch[0] = da;
    batch[1] = forged;
    batch[2] = a;
    ck_assert_int_eq(hre_tx_verify_batch(res, NULL, NULL, batch, 3, NET), HRE_EVERIFY);
    ck_assert_int_eq(res[0], HRE_OK);
    ck_assert_int_eq(res[1], HRE_EVERIFY);
    ck_assert_int_eq(hre_tx_verified(da), 1);
    ck_assert_int_eq(hre_tx_verified(forged), 0);
    free(ea);
    free(eb);
    hre_tx_free(a);
    hre_tx_free(b);
    hre_tx_free(da);
    hre_tx_free(forged);
    hre_tx_free(other);
    hre_key_free(k1);
    hre_key_free(k2);
}
END_TEST

#define BATCH_N 23

START_TEST(test_batch_matches_single)
{
    hre_key *keys[3] = { new_key(HRE_CURVE_P256), new_key(HRE_CURVE_P256),
                         new_key(HRE_CURVE_SECP256K1) };
    hre_tx *txs[BATCH_N];
    int expected[BATCH_N], results[BATCH_N];
    static const unsigned thread_counts[] = { 0, 1, 2, 4, 64 };
    hre_keycache *cache = NULL;
    uint8_t payload[40];
    HRE_T_OK(hre_keycache_new(&cache, 8));
    for (int i = 0; i < BATCH_N; i++) {
        hre_t_rand_bytes(payload, sizeof payload);
        txs[i] = signed_tx(keys[i % 3], NET, (uint16_t)i, (uint64_t)i, 1000 + (uint64_t)i,
                           payload, (size_t)i);
    }
    /* invalid ones mixed in */
    hre_tx_free(txs[3]);
    txs[3] = signed_tx(keys[0], NET2, 3, 3, 3, NULL, 0);              /* other network */
    {
        size_t la, lb;
        uint8_t *a = encode(txs[7], &la), *b = encode(txs[10], &lb);
        memcpy(a + la - 64, b + lb - 64, 64);                          /* another tx's signature */
        hre_tx_free(txs[7]);
        HRE_T_OK(hre_tx_decode(&txs[7], a, la));
        free(b);
        a[OFF_PLEN + 1] ^= 0x40;                                       /* payload changed */
        memcpy(a + la - 64, hre_tx_signature(txs[4]), 64);
        hre_tx_free(txs[18]);
        HRE_T_OK(hre_tx_decode(&txs[18], a, la));
        free(a);
    }
    hre_tx_free(txs[11]);
    HRE_T_OK(hre_tx_new(&txs[11], NET, 1, 1, 1, NULL, 0)); /* unsigned */
    hre_tx_free(txs[15]);
    txs[15] = NULL;                                                     /* missing */
    for (int i = 0; i < BATCH_N; i++) expected[i] = txs[i] ? hre_tx_verify(txs[i], NULL, NET) : HRE_EINVAL;
    for (int i = 0; i < BATCH_N; i++) {
        int want = HRE_OK;
        if (i == 3 || i == 7 || i == 18) want = HRE_EVERIFY;
        if (i == 11) want = HRE_ESTATE;
        if (i == 15) want = HRE_EINVAL;
        ck_assert_int_eq(expected[i], want);
    }
    for (size_t t = 0; t < sizeof thread_counts / sizeof thread_counts[0]; t++) {
        hre_pool *pool = NULL;
        HRE_T_OK(hre_pool_new(&pool, thread_counts[t]));
        for (int use_cache = 0; use_cache < 2; use_cache++) {
            for (int i = 0; i < BATCH_N; i++) results[i] = 12345;
            ck_assert_int_eq(hre_tx_verify_batch(results, use_cache ? cache : NULL, pool, txs,
                                                 BATCH_N, NET),
                             HRE_EVERIFY);
            expect_detail("5 of 23");
            for (int i = 0; i < BATCH_N; i++) {
                if (results[i] != expected[i])
                    ck_abort_msg("threads %u cache %d: tx %d got %d, single verify %d",
                                 thread_counts[t], use_cache, i, results[i], expected[i]);
            }
        }
        hre_pool_free(pool);
    }
    /* an all-valid slice verifies as a whole (NULL pool, then pools of 1..3) */
    for (unsigned t = 0; t <= 3; t++) {
        hre_pool *pool = NULL;
        if (t) HRE_T_OK(hre_pool_new(&pool, t));
        HRE_T_OK(hre_tx_verify_batch(results, cache, pool, txs, 3, NET));
        ck_assert_int_eq(results[0], HRE_OK);
        ck_assert_int_eq(results[2], HRE_OK);
        hre_pool_free(pool);
    }
    /* each tx of the batch verified once per batch call with the cache */
    {
        uint64_t hits = 0, misses = 0;
        hre_keycache_stats(cache, &hits, &misses);
        /* one lookup per signed tx of the right network: 5 cached batches over
         * 20 such txs (not the unsigned, missing or other-network ones), then
         * 4 batches of 3 */
        ck_assert_uint_eq(hits + misses, 5 * 20 + 4 * 3);
        ck_assert_uint_ge(misses, 3);
    }
    for (int i = 0; i < BATCH_N; i++) hre_tx_free(txs[i]);
    for (int i = 0; i < 3; i++) hre_key_free(keys[i]);
    hre_keycache_free(cache);
}
END_TEST

START_TEST(test_keycache_hit_rate)
{
    enum { SENDERS = 3, PER = 4, ROUNDS = 3 };
    hre_key *keys[SENDERS];
    hre_tx *txs[SENDERS * PER];
    hre_keycache *cache = NULL, *small = NULL;
    uint64_t hits = 99, misses = 99;
    uint8_t *enc;
    size_t len;
    for (int k = 0; k < SENDERS; k++) keys[k] = new_key(k == 2 ? HRE_CURVE_SECP256K1 : HRE_CURVE_P256);
    for (int i = 0; i < SENDERS * PER; i++)
        txs[i] = signed_tx(keys[i % SENDERS], NET, 1, (uint64_t)i, 0, NULL, 0);
    HRE_T_OK(hre_keycache_new(&cache, 8));
    hre_keycache_stats(cache, &hits, &misses);
    ck_assert_uint_eq(hits, 0);
    ck_assert_uint_eq(misses, 0);
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < SENDERS * PER; i++) HRE_T_OK(hre_tx_verify(txs[i], cache, NET));
        hre_keycache_stats(cache, &hits, &misses);
        /* one miss per distinct sender, ever; every other lookup hits */
        ck_assert_uint_eq(misses, SENDERS);
        ck_assert_uint_eq(hits, (uint64_t)(r + 1) * SENDERS * PER - SENDERS);
    }
    /* a failing network check never touches the cache */
    ck_assert_int_eq(hre_tx_verify(txs[0], cache, NET2), HRE_EVERIFY);
    hre_keycache_stats(cache, &hits, &misses);
    ck_assert_uint_eq(hits + misses, ROUNDS * SENDERS * PER);
    /* the cached decoder makes exactly one lookup, a hit for a known sender */
    enc = encode(txs[1], &len);
    {
        hre_tx *dec = NULL;
        HRE_T_OK(hre_tx_decode_cached(&dec, cache, enc, len));
        hre_keycache_stats(cache, &hits, &misses);
        ck_assert_uint_eq(misses, SENDERS);
        ck_assert_uint_eq(hits, ROUNDS * SENDERS * PER - SENDERS + 1);
        HRE_T_OK(hre_tx_verify(dec, cache, NET));
        hre_tx_free(dec);
    }
    free(enc);
    /* LRU with room for two of three senders, round robin: every lookup misses */
    HRE_T_OK(hre_keycache_new(&small, 2));
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < SENDERS; i++) HRE_T_OK(hre_tx_verify(txs[i], small, NET));
    hre_keycache_stats(small, &hits, &misses);
    ck_assert_uint_eq(hits, 0);
    ck_assert_uint_eq(misses, 2 * SENDERS);
    /* same sender twice in a row: the second is a hit */
    HRE_T_OK(hre_tx_verify(txs[0], small, NET));
    HRE_T_OK(hre_tx_verify(txs[3], small, NET));
    hre_keycache_stats(small, &hits, &misses);
    ck_assert_uint_eq(hits, 1);
    ck_assert_uint_eq(misses, 2 * SENDERS + 1);
    for (int i = 0; i < SENDERS * PER; i++) hre_tx_free(txs[i]);
    for (int k = 0; k < SENDERS; k++) hre_key_free(keys[k]);
    hre_keycache_free(cache);
    hre_keycache_free(small);
}
END_TEST

START_TEST(test_random_payloads)
{
    hre_key *keys[2] = { new_key(HRE_CURVE_P256), new_key(HRE_CURVE_SECP256K1) };
    hre_t_reseed(hre_t_seed() ^ 0x7103);
    for (int it = 0; it < 40; it++) {
        size_t plen = hre_t_rand_below(8) == 0 ? hre_t_rand_below(HRE_TX_MAX_PAYLOAD + 1)
                                               : hre_t_rand_below(600);
        uint8_t *payload = malloc(plen + 1), *enc, *enc2, id[32], id2[32];
        uint16_t kind = (uint16_t)hre_t_rand();
        uint64_t nonce = hre_t_rand(), ts = hre_t_rand();
        size_t len, len2, pos;
        hre_tx *tx, *dec = NULL;
        hre_t_rand_bytes(payload, plen);
        tx = signed_tx(keys[it & 1], NET, kind, nonce, ts, payload, plen);
        enc = encode(tx, &len);
        HRE_T_OK(hre_tx_decode(&dec, enc, len));
        ck_assert_uint_eq(hre_tx_kind(dec), kind);
        ck_assert_uint_eq(hre_tx_nonce(dec), nonce);
        ck_assert_uint_eq(hre_tx_timestamp(dec), ts);
        enc2 = encode(dec, &len2);
        ck_assert_uint_eq(len, len2);
        ck_assert_mem_eq(enc, enc2, len);
        HRE_T_OK(hre_tx_txid(tx, id));
        HRE_T_OK(hre_tx_txid(dec, id2));
        ck_assert_mem_eq(id, id2, 32);
        HRE_T_OK(hre_tx_verify(dec, NULL, NET));
        hre_tx_free(dec);
        dec = NULL;
        /* one random byte flipped: rejected somewhere */
        pos = hre_t_rand_below(len);
        enc[pos] ^= (uint8_t)(1 + hre_t_rand_below(255));
        if (hre_tx_decode(&dec, enc, len) == HRE_OK) {
            ck_assert_int_eq(hre_tx_verify(dec, NULL, NET), HRE_EVERIFY);
            hre_tx_free(dec);
        }
        free(enc);
        free(enc2);
        free(payload);
        hre_tx_free(tx);
    }
    hre_key_free(keys[0]);
    hre_key_free(keys[1]);
}
END_TEST

/* ---- seed corpus for tests/fuzz/corpus/tx_decode ---- */

struct seed {
    const char *name;
    int want;          /* expected hre_tx_decode result */
    uint8_t *data;
    size_t len;
};

/* Builds the seeds, checks the decoder's verdict on each, and writes them to
 * $HRE_TX_CORPUS_DIR when that is set (how the checked-in corpus was made). */
START_TEST(test_corpus_seeds)
{
    hre_key *kp = new_key(HRE_CURVE_P256), *kk = new_key(HRE_CURVE_SECP256K1);
    uint8_t payload[300];
    struct seed seeds[16];
    size_t ns = 0, len;
    hre_tx *t;
    const char *dir = getenv("HRE_TX_CORPUS_DIR");
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)i;
#define ADD_TX(nm, key, pl, plen)                                             \
    do {                                                                      \
        t = signed_tx(key, NET, 2, 5, 1764000000, pl, plen);                  \
        seeds[ns].name = nm; seeds[ns].want = HRE_OK;                         \
        seeds[ns].data = encode(t, &seeds[ns].len); ns++;                     \
        hre_tx_free(t);                                                       \
    } while (0)
#define ADD_BAD(nm, code, from, mutation)                                     \
    do {                                                                      \
        len = seeds[from].len;                                                \
        uint8_t *d_ = malloc(len + 1);                                        \
        memcpy(d_, seeds[from].data, len);                                    \
        mutation;                                                             \
        seeds[ns].name = nm; seeds[ns].want = code;                           \
        seeds[ns].data = d_; seeds[ns].len = len; ns++;                       \
    } while (0)
    ADD_TX("valid_p256_empty", kp, NULL, 0);
    ADD_TX("valid_p256_short", kp, payload, 20);
    ADD_TX("valid_k1_300", kk, payload, 300);
    ADD_TX("valid_k1_252", kk, payload, 252);
    ADD_BAD("bad_version", HRE_EDECODE, 1, d_[OFF_VERSION] = 2);
    ADD_BAD("bad_curve", HRE_EDECODE, 1, d_[OFF_SENDER] = 7);
    ADD_BAD("bad_prefix", HRE_EDECODE, 1, d_[OFF_SENDER + 1] = 4);
    ADD_BAD("bad_point", HRE_EDECODE, 1, memset(d_ + OFF_SENDER + 2, 0xff, 32));
    ADD_BAD("high_s", HRE_EDECODE, 1, order_minus(d_ + len - 32, HRE_CURVE_P256, seeds[1].data + len - 32));
    ADD_BAD("zero_r", HRE_EDECODE, 0, memset(d_ + len - 64, 0, 32));
    ADD_BAD("trailing", HRE_EDECODE, 0, d_[len++] = 0);
    ADD_BAD("truncated", HRE_EDECODE, 1, len -= 1);
    ADD_BAD("oversize_len", HRE_ELIMIT, 0, d_[OFF_PLEN] = 0xfe; d_[OFF_PLEN + 1] = 1; d_[OFF_PLEN + 3] = 1);
    ADD_BAD("noncanonical_len", HRE_EDECODE, 3, (void)0); /* rebuilt below */
    ADD_BAD("bad_sig", HRE_OK, 1, d_[len - 40] ^= 1);
#undef ADD_TX
#undef ADD_BAD
    /* noncanonical_len: 0xfd 0xfc 0x00 replaces the one-byte 252, so the
     * buffer is two bytes longer than the original */
    {
        struct seed *s = &seeds[13];
        uint8_t *d = malloc(s->len + 2);
        size_t o = seeds[3].len;
        memcpy(d, seeds[3].data, OFF_PLEN);
        d[OFF_PLEN] = 0xfd; d[OFF_PLEN + 1] = 252; d[OFF_PLEN + 2] = 0;
        memcpy(d + OFF_PLEN + 3, seeds[3].data + OFF_PLEN + 1, o - OFF_PLEN - 1);
        free(s->data);
        s->data = d;
        s->len = o + 2;
    }
    for (size_t i = 0; i < ns; i++) {
        hre_tx *dec = NULL;
        int rc = hre_tx_decode(&dec, seeds[i].data, seeds[i].len);
        if (rc != seeds[i].want)
            ck_abort_msg("seed %s: decode %d, expected %d (%s)", seeds[i].name, rc, seeds[i].want,
                         hre_error_detail());
        if (rc == HRE_OK) {
            int vrc = hre_tx_verify(dec, NULL, NET);
            ck_assert_int_eq(vrc, strcmp(seeds[i].name, "bad_sig") == 0 ? HRE_EVERIFY : HRE_OK);
        }
        hre_tx_free(dec);
        if (dir && *dir) {
            char path[4096];
            FILE *f;
            snprintf(path, sizeof path, "%s/%s.bin", dir, seeds[i].name);
            f = fopen(path, "wb");
            ck_assert_ptr_nonnull(f);
            ck_assert_uint_eq(fwrite(seeds[i].data, 1, seeds[i].len, f), seeds[i].len);
            fclose(f);
        }
        free(seeds[i].data);
    }
    hre_key_free(kp);
    hre_key_free(kk);
}
END_TEST

#ifdef HRE_WHITEBOX
/* ---- fail the Nth allocation ---- */

START_TEST(test_alloc_failures)
{
    hre_key *key = new_key(HRE_CURVE_P256);
    hre_tx *tx = signed_tx(key, NET, 1, 2, 3, (const uint8_t *)"payload", 7), *dec, *t2;
    uint8_t *enc, id[32], id2[32];
    size_t len;
    long n;
    int rc;
    enc = encode(tx, &len);
    HRE_T_OK(hre_tx_txid(tx, id));
    /* decode */
    for (n = 0;; n++) {
        dec = (hre_tx *)1;
        hre_test__alloc_fail_after(n);
        rc = hre_tx_decode(&dec, enc, len);
        hre_test__alloc_fail_after(-1);
        if (rc == HRE_OK) break;
        ck_assert_int_eq(rc, HRE_ENOMEM);
        ck_assert_ptr_null(dec);
        ck_assert_int_lt(n, 100);
    }
    ck_assert_int_ge(n, 2); /* at least the key check and the tx itself */
    HRE_T_OK(hre_tx_txid(dec, id2));
    ck_assert_mem_eq(id, id2, 32);
    /* verify without a cache parses the key: ENOMEM, never a false verdict */
    for (n = 0;; n++) {
        hre_test__alloc_fail_after(n);
        rc = hre_tx_verify(dec, NULL, NET);
        hre_test__alloc_fail_after(-1);
        if (rc == HRE_OK) break;
        ck_assert_int_eq(rc, HRE_ENOMEM);
        ck_assert_int_lt(n, 100);
    }
    hre_tx_free(dec);
    /* new */
    for (n = 0;; n++) {
        t2 = (hre_tx *)1;
        hre_test__alloc_fail_after(n);
        rc = hre_tx_new(&t2, NET, 1, 2, 3, (const uint8_t *)"payload", 7);
        hre_test__alloc_fail_after(-1);
        if (rc == HRE_OK) break;
        ck_assert_int_eq(rc, HRE_ENOMEM);
        ck_assert_ptr_null(t2);
    }
    /* sign: a failed sign leaves the transaction unsigned */
    for (n = 0;; n++) {
        hre_test__alloc_fail_after(n);
        rc = hre_tx_sign(t2, key);
        hre_test__alloc_fail_after(-1);
        if (rc == HRE_OK) break;
        ck_assert_int_eq(rc, HRE_ENOMEM);
        ck_assert_ptr_null(hre_tx_sender(t2));
        ck_assert_int_lt(n, 100);
    }
    HRE_T_OK(hre_tx_verify(t2, NULL, NET));
    /* batch: the pool cannot be created -> a clean ENOMEM and no pool; a
     * batch on the pool then verifies both */
    {
        hre_tx *two[2] = { tx, t2 };
        int res[2] = { 7, 7 };
        hre_pool *pool = NULL;
        for (n = 0;; n++) {
            hre_pool *p = (hre_pool *)1;
            hre_test__alloc_fail_after(n);
            rc = hre_pool_new(&p, 2);
            hre_test__alloc_fail_after(-1);
            if (rc == HRE_OK) {
                pool = p;
                break;
            }
            ck_assert_int_eq(rc, HRE_ENOMEM);
            ck_assert_ptr_null(p);
        }
        HRE_T_OK(hre_tx_verify_batch(res, NULL, pool, two, 2, NET));
        ck_assert_int_eq(res[0], HRE_OK);
        ck_assert_int_eq(res[1], HRE_OK);
        hre_pool_free(pool);
    }
    hre_tx_free(t2);
    hre_tx_free(tx);
    hre_key_free(key);
    free(enc);
}
END_TEST
#endif

Suite *hre_suite_tx(void)
{
    Suite *s = suite_create("tx");
    TCase *tc = tcase_create("tx");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_tag_constant);
    tcase_add_test(tc, test_known_answer);
    tcase_add_test(tc, test_roundtrip_layout_and_digests);
    tcase_add_test(tc, test_sign_is_deterministic_in_layout_and_resign);
    tcase_add_test(tc, test_every_byte_mutation_rejected_p256);
    tcase_add_test(tc, test_every_byte_mutation_rejected_secp256k1);
    tcase_add_test(tc, test_other_network_rejected);
    tcase_add_test(tc, test_unsigned_tx);
    tcase_add_test(tc, test_arguments);
    tcase_add_test(tc, test_payload_caps);
    tcase_add_test(tc, test_noncanonical_length_trailing_truncated);
    tcase_add_test(tc, test_bad_version_curve_point);
    tcase_add_test(tc, test_high_s_and_range);
    tcase_add_test(tc, test_verified_mark);
    tcase_add_test(tc, test_batch_matches_single);
    tcase_add_test(tc, test_keycache_hit_rate);
    tcase_add_test(tc, test_random_payloads);
    tcase_add_test(tc, test_corpus_seeds);
#ifdef HRE_WHITEBOX
    tcase_add_test(tc, test_alloc_failures);
#endif
    suite_add_tcase(s, tc);
    return s;
}
