/* Vault value codecs (PROTOCOL.md 14.2-14.4): the envelope header, the wrap
 * record, the size buckets, the key schedule, and the _init calls of the
 * vault's versioned structs. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "vault/internal.h"
#include "crypto/internal.h"
#include "hre/hash.h"

/* ------------------------------------------------------------------------ */
/* Versioned structs                                                         */
/* ------------------------------------------------------------------------ */

static const size_t content_sizes[] = {0, HRE__END(hre_vault_content, media_type)};
static const size_t seal_sizes[] = {0, HRE__END(hre_vault_seal_params, sender_key)};
static const size_t open_sizes[] = {0, HRE__END(hre_vault_open_params, max_doc_len)};
static const size_t options_sizes[] = {0, HRE__END(hre_vault_options, log_user_data)};
static const size_t entry_sizes[] = {0, HRE__END(hre_vault_entry, wrap_count)};
static const size_t stats_sizes[] = {0, HRE__END(hre_vault_stats, fatal)};

const hre__vstruct hre_vault__content_vs = {"hre_vault_content", 1, content_sizes};
const hre__vstruct hre_vault__seal_vs = {"hre_vault_seal_params", 1, seal_sizes};
const hre__vstruct hre_vault__open_vs = {"hre_vault_open_params", 1, open_sizes};
const hre__vstruct hre_vault__options_vs = {"hre_vault_options", 1, options_sizes};
const hre__vstruct hre_vault__entry_vs = {"hre_vault_entry", 1, entry_sizes};
const hre__vstruct hre_vault__stats_vs = {"hre_vault_stats", 1, stats_sizes};

HRE_API int hre_vault_content_init(hre_vault_content *out, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&hre_vault__content_vs, out, version));
}

HRE_API int hre_vault_seal_params_init(hre_vault_seal_params *p, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&hre_vault__seal_vs, p, version));
}

HRE_API int hre_vault_open_params_init(hre_vault_open_params *p, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&hre_vault__open_vs, p, version));
}

HRE_API int hre_vault_options_init(hre_vault_options *opts, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&hre_vault__options_vs, opts, version));
}

HRE_API int hre_vault_entry_init(hre_vault_entry *out, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&hre_vault__entry_vs, out, version));
}

HRE_API int hre_vault_stats_init(hre_vault_stats *out, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&hre_vault__stats_vs, out, version));
}

/* ------------------------------------------------------------------------ */
/* Buckets                                                                   */
/* ------------------------------------------------------------------------ */

static unsigned int log2_floor(uint64_t x)
{
    return 63u - (unsigned int)__builtin_clzll(x);
}

uint64_t hre_vault__padme(uint64_t len)
{
    unsigned int e, s;
    uint64_t mask;
    if (len < 2) return len;
    e = log2_floor(len);
    s = log2_floor(e) + 1;
    mask = ((uint64_t)1 << (e - s)) - 1;
    return (len + mask) & ~mask;
}

HRE_API uint64_t hre_vault_bucket(uint64_t len)
{
    uint64_t p;
    if (len > HRE_VAULT_PAYLOAD_MAX) return 0;
    p = hre_vault__padme(len);
    return p < HRE_VAULT_PAD_MIN ? HRE_VAULT_PAD_MIN : p;
}

HRE_API uint64_t hre_vault_envelope_len(uint64_t padded_len)
{
    uint64_t n;
    if (padded_len == 0 || padded_len > HRE_VAULT_PAYLOAD_MAX) return 0;
    n = (padded_len + HRE_VAULT_CHUNK_DATA_LEN - 1) / HRE_VAULT_CHUNK_DATA_LEN;
    return HRE_VAULT_HEADER_LEN + padded_len + n * (HRE_VAULT__LEN_PREFIX + HRE_VAULT__TAG);
}

/* ------------------------------------------------------------------------ */
/* Key schedule, nonces, wrap info                                           */
/* ------------------------------------------------------------------------ */

/* The vault's HKDF salt, a constant, made ready as an HMAC key once per
 * process (every seal and every open derives under it). */
static pthread_once_t g_salt_once = PTHREAD_ONCE_INIT;
static hre_crypto__hmac_key g_salt;

static void make_salt(void)
{
    if (hre_crypto__hmac_key_init(&g_salt, (const uint8_t *)HRE_VAULT__SALT,
                                  sizeof HRE_VAULT__SALT - 1) != HRE_OK) {
        g_salt.in = g_salt.out = NULL;   /* the raw-salt path is used instead */
        hre__error_reset();
    }
}

__attribute__((destructor)) static void release_salt(void)
{
    hre_crypto__hmac_key_clear(&g_salt);
}

int hre_vault__derive(uint8_t chunk_key[32], uint8_t commit[32], const uint8_t data_key[32])
{
    uint8_t prk[32];
    hre_crypto__iov ikm = {data_key, 32};
    hre_crypto__iov i1 = {HRE_VAULT__INFO_CHUNK, sizeof HRE_VAULT__INFO_CHUNK - 1};
    hre_crypto__iov i2 = {HRE_VAULT__INFO_COMMIT, sizeof HRE_VAULT__INFO_COMMIT - 1};
    hre_crypto__hmac_key pk = {NULL, NULL};
    int rc;
    pthread_once(&g_salt_once, make_salt);
    rc = g_salt.in ? hre_crypto__hkdf_extract_keyed(prk, &g_salt, &ikm, 1)
                   : hre_crypto__hkdf_extract(prk, (const uint8_t *)HRE_VAULT__SALT,
                                              sizeof HRE_VAULT__SALT - 1, &ikm, 1);
    /* both outputs expand the same prk: its HMAC pads are made once */
    if (rc == HRE_OK) rc = hre_crypto__hmac_key_init(&pk, prk, sizeof prk);
    if (rc == HRE_OK) rc = hre_crypto__hkdf_expand_keyed(chunk_key, 32, &pk, &i1, 1);
    if (rc == HRE_OK) rc = hre_crypto__hkdf_expand_keyed(commit, 32, &pk, &i2, 1);
    hre_crypto__hmac_key_clear(&pk);
    hre_wipe(prk, sizeof prk);
    if (rc != HRE_OK) {
        hre_wipe(chunk_key, 32);
        hre_wipe(commit, 32);
        return hre__fail(HRE_ECRYPTO, "vault: key derivation failed");
    }
    return HRE_OK;
}

void hre_vault__chunk_nonce(uint8_t nonce[12], const uint8_t prefix[HRE_VAULT_NONCE_PREFIX_LEN],
                            uint32_t index, int final)
{
    memcpy(nonce, prefix, HRE_VAULT_NONCE_PREFIX_LEN);
    hre__put_be32(nonce + 7, index);
    nonce[11] = final ? 1 : 0;
}

void hre_vault__wrap_info(uint8_t info[HRE_VAULT__WRAP_INFO_LEN], const uint8_t locator[32],
                          uint32_t doc_version, uint8_t reader_type, const uint8_t reader_id[32],
                          uint8_t sender_type, const uint8_t *sender_id)
{
    memcpy(info, HRE_VAULT__WRAP_INFO, 17);
    memcpy(info + 17, locator, 32);
    hre__put_le32(info + 49, doc_version);
    info[53] = reader_type;
    memcpy(info + 54, reader_id, 32);
    info[86] = sender_id ? sender_type : 0;
    if (sender_id) memcpy(info + 87, sender_id, 32);
    else memset(info + 87, 0, 32);
}

/* ------------------------------------------------------------------------ */
/* Envelope header                                                           */
/* ------------------------------------------------------------------------ */

void hre_vault__header_put(uint8_t out[HRE_VAULT_HEADER_LEN], const hre_vault_header *h)
{
    memcpy(out, HRE_VAULT__MAGIC, 4);
    out[4] = h->format;
    out[5] = h->flags;
    out[6] = h->chunk_log2;
    memcpy(out + 7, h->locator, 32);
    hre__put_le32(out + 39, h->doc_version);
    memcpy(out + 43, h->nonce_prefix, HRE_VAULT_NONCE_PREFIX_LEN);
    memcpy(out + 50, h->key_commit, 32);
}

HRE_API int hre_vault_header_encode(const hre_vault_header *h, uint8_t *out, size_t *len)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(h && len && (out || *len == 0));
    if (h->format != HRE_VAULT_FORMAT || h->flags != 0 || h->chunk_log2 != HRE_VAULT_CHUNK_LOG2 ||
        h->doc_version == 0)
        return hre__fail(HRE_EINVAL, "vault header: format %u, flags %u, chunk_log2 %u, version %u "
                         "is not encodable", h->format, h->flags, h->chunk_log2, h->doc_version);
    if (*len < HRE_VAULT_HEADER_LEN) {
        *len = HRE_VAULT_HEADER_LEN;
        return hre__fail(HRE_EBUFSIZE, "vault header: %d bytes needed", HRE_VAULT_HEADER_LEN);
    }
    hre_vault__header_put(out, h);
    *len = HRE_VAULT_HEADER_LEN;
    return hre__api_done(HRE_OK);
}

int hre_vault__header_decode(hre_vault_header *out, const uint8_t *in, size_t len)
{
    memset(out, 0, sizeof *out);
    if (len != HRE_VAULT_HEADER_LEN)
        return hre__fail(HRE_EDECODE, "vault header: %zu bytes, want %d", len, HRE_VAULT_HEADER_LEN);
    if (memcmp(in, HRE_VAULT__MAGIC, 4) != 0)
        return hre__fail(HRE_EDECODE, "vault header: bad magic (not a vault envelope)");
    if (in[4] == 0) return hre__fail(HRE_EDECODE, "vault header: format 0");
    if (in[4] > HRE_VAULT_FORMAT)
        return hre__fail(HRE_EUNSUPPORTED, "vault header: envelope format %u is newer than %d",
                         in[4], HRE_VAULT_FORMAT);
    if (in[5] != 0) return hre__fail(HRE_EDECODE, "vault header: reserved flags 0x%02x set", in[5]);
    if (in[6] != HRE_VAULT_CHUNK_LOG2)
        return hre__fail(HRE_EDECODE, "vault header: chunk_log2 %u, format 1 has %d", in[6],
                         HRE_VAULT_CHUNK_LOG2);
    if (hre__le32(in + 39) == 0) return hre__fail(HRE_EDECODE, "vault header: document version 0");
    out->format = in[4];
    out->flags = in[5];
    out->chunk_log2 = in[6];
    memcpy(out->locator, in + 7, 32);
    out->doc_version = hre__le32(in + 39);
    memcpy(out->nonce_prefix, in + 43, HRE_VAULT_NONCE_PREFIX_LEN);
    memcpy(out->key_commit, in + 50, 32);
    return HRE_OK;
}

HRE_API int hre_vault_header_decode(hre_vault_header *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(out);
    if (!in) {
        memset(out, 0, sizeof *out);
        return hre__fail(HRE_EINVAL, "hre_vault_header_decode: NULL input");
    }
    return hre__api_done(hre_vault__header_decode(out, in, len));
}

/* ------------------------------------------------------------------------ */
/* Wrap record                                                               */
/* ------------------------------------------------------------------------ */

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= p[i];
    return acc == 0;
}

int hre_vault__wrap_check(const hre_vault_wrap *w)
{
    if (w->doc_version == 0) return hre__fail(HRE_EDECODE, "vault wrap: document version 0");
    if (w->reader_type > HRE_VAULT_READER_ORG)
        return hre__fail(HRE_EDECODE, "vault wrap: unknown reader type %u", w->reader_type);
    if (w->mode == HRE_HPKE_MODE_BASE) {
        if (w->sender_type != 0 || !all_zero(w->sender_id, 32) || !all_zero(w->sender_key, 34))
            return hre__fail(HRE_EDECODE, "vault wrap: base-mode wrap with sender fields set");
    } else if (w->mode == HRE_HPKE_MODE_AUTH) {
        if (w->sender_type > HRE_VAULT_READER_ORG)
            return hre__fail(HRE_EDECODE, "vault wrap: unknown sender type %u", w->sender_type);
        if (w->sender_key[0] != HRE_CURVE_P256 || (w->sender_key[1] != 2 && w->sender_key[1] != 3))
            return hre__fail(HRE_EDECODE, "vault wrap: sender key is not a compressed P-256 key");
    } else {
        return hre__fail(HRE_EDECODE, "vault wrap: mode %u (only base 0 and auth 2)", w->mode);
    }
    return HRE_OK;
}

void hre_vault__wrap_put(uint8_t out[HRE_VAULT_WRAP_LEN], const hre_vault_wrap *w)
{
    memcpy(out, HRE_VAULT__WRAP_MAGIC, 4);
    out[4] = HRE_VAULT__WRAP_FORMAT;
    out[5] = w->mode;
    memcpy(out + 6, w->doc_hash, 32);
    memcpy(out + 38, w->locator, 32);
    hre__put_le32(out + 70, w->doc_version);
    out[74] = w->reader_type;
    memcpy(out + 75, w->reader_id, 32);
    out[107] = w->sender_type;
    memcpy(out + 108, w->sender_id, 32);
    memcpy(out + 140, w->sender_key, 34);
    memcpy(out + 174, w->hpke, HRE_HPKE_WRAP_LEN);
}

HRE_API int hre_vault_wrap_encode(const hre_vault_wrap *w, uint8_t *out, size_t *len)
{
    int rc;
    HRE__API_SCOPE;
    HRE__CHECK_ARG(w && len && (out || *len == 0));
    if ((rc = hre_vault__wrap_check(w)) != HRE_OK) {
        char why[160];
        snprintf(why, sizeof why, "%s", hre_error_detail());
        return hre__fail(HRE_EINVAL, "hre_vault_wrap_encode: %s", why);
    }
    if (*len < HRE_VAULT_WRAP_LEN) {
        *len = HRE_VAULT_WRAP_LEN;
        return hre__fail(HRE_EBUFSIZE, "vault wrap: %d bytes needed", HRE_VAULT_WRAP_LEN);
    }
    hre_vault__wrap_put(out, w);
    *len = HRE_VAULT_WRAP_LEN;
    return hre__api_done(HRE_OK);
}

int hre_vault__wrap_decode(hre_vault_wrap *out, const uint8_t *in, size_t len)
{
    int rc;
    memset(out, 0, sizeof *out);
    if (len != HRE_VAULT_WRAP_LEN)
        return hre__fail(HRE_EDECODE, "vault wrap: %zu bytes, want %d", len, HRE_VAULT_WRAP_LEN);
    if (memcmp(in, HRE_VAULT__WRAP_MAGIC, 4) != 0)
        return hre__fail(HRE_EDECODE, "vault wrap: bad magic");
    if (in[4] == 0) return hre__fail(HRE_EDECODE, "vault wrap: format 0");
    if (in[4] > HRE_VAULT__WRAP_FORMAT)
        return hre__fail(HRE_EUNSUPPORTED, "vault wrap: format %u is newer than %d", in[4],
                         HRE_VAULT__WRAP_FORMAT);
    out->mode = in[5];
    memcpy(out->doc_hash, in + 6, 32);
    memcpy(out->locator, in + 38, 32);
    out->doc_version = hre__le32(in + 70);
    out->reader_type = in[74];
    memcpy(out->reader_id, in + 75, 32);
    out->sender_type = in[107];
    memcpy(out->sender_id, in + 108, 32);
    memcpy(out->sender_key, in + 140, 34);
    memcpy(out->hpke, in + 174, HRE_HPKE_WRAP_LEN);
    if ((rc = hre_vault__wrap_check(out)) != HRE_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    return HRE_OK;
}

HRE_API int hre_vault_wrap_decode(hre_vault_wrap *out, const uint8_t *in, size_t len)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(out);
    if (!in) {
        memset(out, 0, sizeof *out);
        return hre__fail(HRE_EINVAL, "hre_vault_wrap_decode: NULL input");
    }
    return hre__api_done(hre_vault__wrap_decode(out, in, len));
}

/* ------------------------------------------------------------------------ */
/* zlib allocation that wipes                                                */
/* ------------------------------------------------------------------------ */

#include <zlib.h>

static voidpf zalloc_wipe(voidpf opaque, uInt items, uInt size)
{
    size_t n;
    uint8_t *p;
    (void)opaque;
    if (size && items > (SIZE_MAX - 16) / size) return Z_NULL;
    n = (size_t)items * size;
    p = hre__malloc(n + 16);
    if (!p) return Z_NULL;
    memcpy(p, &n, sizeof n);
    return p + 16;
}

static void zfree_wipe(voidpf opaque, voidpf address)
{
    uint8_t *p;
    size_t n;
    (void)opaque;
    if (!address) return;
    p = (uint8_t *)address - 16;
    memcpy(&n, p, sizeof n);
    hre__free_secret(p, n + 16);
}

void hre_vault__zinit(struct z_stream_s *zs)
{
    zs->zalloc = zalloc_wipe;
    zs->zfree = zfree_wipe;
    zs->opaque = Z_NULL;
}
