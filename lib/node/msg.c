/*
 * Node wire codecs (docs/PROTOCOL.md 12): the Noise prologue, the hello
 * payload of handshake message 1, the identity payload, the message header,
 * and every message body. Decoders treat their input as hostile: exact
 * lengths, minimal CompactSize counts, counts checked against the caps
 * before anything else is read.
 */
#include <string.h>

#include "crypto/internal.h"
#include "hre/tx.h"
#include "node/internal.h"

void hre_node__prologue(uint8_t out[HRE_NODE__PROLOGUE_LEN], const uint8_t network_id[32])
{
    memcpy(out, HRE_NODE__PROLOGUE_TAG, 8);
    hre__put_le32(out + 8, HRE_NODE_PROTOCOL_VERSION);
    memcpy(out + 12, network_id, 32);
}

void hre_node__hello_encode(uint8_t out[HRE_NODE__HELLO_LEN], const uint8_t network_id[32])
{
    memcpy(out, HRE_NODE__HELLO_MAGIC, 4);
    hre__put_le32(out + 4, HRE_NODE_PROTOCOL_VERSION);
    memcpy(out + 8, network_id, 32);
}

int hre_node__hello_decode(uint32_t *version, uint8_t network_id[32], const uint8_t *p, size_t len)
{
    *version = 0;
    memset(network_id, 0, 32);
    if (len != HRE_NODE__HELLO_LEN)
        return HRE_EDECODE;
    if (memcmp(p, HRE_NODE__HELLO_MAGIC, 4) != 0)
        return HRE_EVERIFY;
    *version = hre__le32(p + 4);
    memcpy(network_id, p + 8, 32);
    if (*version == 0)
        return HRE_ESTATE;
    return HRE_OK;
}

int hre_node__identity_decode(int *has, uint8_t key[34], uint8_t sig[64], const uint8_t *p, size_t len)
{
    *has = 0;
    memset(key, 0, 34);
    memset(sig, 0, 64);
    if (len < 2 || p[0] != 1)
        return HRE_EDECODE;
    if (p[1] == 0)
        return len == HRE_NODE__ID_NONE_LEN ? HRE_OK : HRE_EDECODE;
    if (p[1] != 1 || len != HRE_NODE__ID_LEN)
        return HRE_EDECODE;
    memcpy(key, p + 2, 34);
    memcpy(sig, p + 36, 64);
    *has = 1;
    return HRE_OK;
}

int hre_node__identity_digest(uint8_t out[32], const uint8_t h[32])
{
    hre_crypto__iov v[2] = { { HRE_NODE__ID_TAG, sizeof HRE_NODE__ID_TAG - 1 }, { h, 32 } };
    return hre_crypto__sha256_v(out, v, 2);
}

void hre_node__version_encode(uint8_t out[HRE_NODE__VERSION_LEN], const hre_node__version *v)
{
    hre__put_le32(out, v->protocol);
    hre__put_le64(out + 4, v->flags);
    memcpy(out + 12, v->network_id, 32);
    memcpy(out + 44, v->fingerprint, 32);
    hre__put_le64(out + 76, v->best_height);
    memcpy(out + 84, v->best_work, 32);
    hre__put_le64(out + 116, v->nonce);
    hre__put_le64(out + 124, v->time_ms);
}

int hre_node__version_decode(hre_node__version *v, const uint8_t *p, size_t len)
{
    memset(v, 0, sizeof *v);
    if (len < HRE_NODE__VERSION_LEN)
        return HRE_EDECODE;
    v->protocol = hre__le32(p);
    /* Version 1 is exactly 132 bytes; a later protocol may append fields. */
    if (v->protocol <= HRE_NODE_PROTOCOL_VERSION && len != HRE_NODE__VERSION_LEN) {
        memset(v, 0, sizeof *v);
        return HRE_EDECODE;
    }
    v->flags = hre__le64(p + 4);
    memcpy(v->network_id, p + 12, 32);
    memcpy(v->fingerprint, p + 44, 32);
    v->best_height = hre__le64(p + 76);
    memcpy(v->best_work, p + 84, 32);
    v->nonce = hre__le64(p + 116);
    v->time_ms = hre__le64(p + 124);
    return HRE_OK;
}

void hre_node__msg_header(uint8_t out[HRE_NODE__MSG_HDR], const uint8_t magic[4], uint16_t cmd, uint32_t len)
{
    memcpy(out, magic, 4);
    hre__put_le16(out + 4, cmd);
    hre__put_le32(out + 6, len);
}

/* A CompactSize count at the start of p: minimal, <= max. */
static int read_count(size_t *count, size_t *hdr, const uint8_t *p, size_t len, uint64_t max)
{
    hre__reader r;
    uint64_t v;
    int rc;
    *count = 0;
    *hdr = 0;
    hre__reader_init(&r, p, len);
    rc = hre__reader_compact(&r, &v, max);
    if (rc != HRE_OK)
        return rc;
    *count = (size_t)v;
    *hdr = r.pos;
    return HRE_OK;
}

int hre_node__getheaders_decode(const uint8_t **hashes, size_t *count, uint8_t stop[32],
                                const uint8_t *p, size_t len)
{
    size_t n, h;
    int rc;
    *hashes = NULL;
    *count = 0;
    memset(stop, 0, 32);
    if ((rc = read_count(&n, &h, p, len, HRE_NODE_MAX_LOCATOR)) != HRE_OK)
        return rc;
    if (n == 0 || len != h + 32 * n + 32)
        return HRE_EDECODE;
    *hashes = p + h;
    *count = n;
    memcpy(stop, p + h + 32 * n, 32);
    return HRE_OK;
}

int hre_node__headers_decode(const uint8_t **hdrs, size_t *count, const uint8_t *p, size_t len)
{
    size_t n, h;
    int rc;
    *hdrs = NULL;
    *count = 0;
    if ((rc = read_count(&n, &h, p, len, HRE_NODE_MAX_HEADERS)) != HRE_OK)
        return rc;
    if (len != h + (size_t)HRE_HEADER_LEN * n)
        return HRE_EDECODE;
    *hdrs = p + h;
    *count = n;
    return HRE_OK;
}

int hre_node__inv_decode(const uint8_t **entries, size_t *count, const uint8_t *p, size_t len)
{
    size_t n, h, i;
    int rc;
    *entries = NULL;
    *count = 0;
    if ((rc = read_count(&n, &h, p, len, HRE_NODE_MAX_INV)) != HRE_OK)
        return rc;
    if (n == 0 || len != h + HRE_NODE__INV_ENTRY * n)
        return HRE_EDECODE;
    for (i = 0; i < n; i++) {
        uint8_t t = p[h + HRE_NODE__INV_ENTRY * i];
        if (t != HRE_NODE__INV_TX && t != HRE_NODE__INV_BLOCK)
            return HRE_EDECODE;
    }
    *entries = p + h;
    *count = n;
    return HRE_OK;
}

int hre_node__app_decode(uint16_t *type, const uint8_t **data, size_t *dlen, const uint8_t *p, size_t len)
{
    *type = 0;
    *data = NULL;
    *dlen = 0;
    if (len < 2)
        return HRE_EDECODE;
    *type = hre__le16(p);
    if (*type == 0) {
        return HRE_EDECODE;
    }
    *data = len > 2 ? p + 2 : NULL;
    *dlen = len - 2;
    return HRE_OK;
}

int hre_node__nonce_decode(uint64_t *nonce, const uint8_t *p, size_t len)
{
    *nonce = 0;
    if (len != 8)
        return HRE_EDECODE;
    *nonce = hre__le64(p);
    return HRE_OK;
}

size_t hre_node__list_len(size_t n, size_t entry)
{
    return hre__compact_size_len(n) + n * entry;
}

void hre_node__list_begin(uint8_t *out, size_t *pos, size_t n)
{
    hre__writer w;
    hre__writer_init(&w, out, 9);
    hre__writer_compact(&w, n);
    *pos = w.len;
}

size_t hre_node__cap(uint16_t cmd, uint64_t block_cap, uint32_t app_cap)
{
    switch (cmd) {
    case HRE_NODE__CMD_VERSION: return 512;
    case HRE_NODE__CMD_VERACK: return 0;
    case HRE_NODE__CMD_PING:
    case HRE_NODE__CMD_PONG: return 8;
    case HRE_NODE__CMD_GETHEADERS: return hre_node__list_len(HRE_NODE_MAX_LOCATOR, 32) + 32;
    case HRE_NODE__CMD_HEADERS: return hre_node__list_len(HRE_NODE_MAX_HEADERS, HRE_HEADER_LEN);
    case HRE_NODE__CMD_INV:
    case HRE_NODE__CMD_GETDATA:
    case HRE_NODE__CMD_NOTFOUND: return hre_node__list_len(HRE_NODE_MAX_INV, HRE_NODE__INV_ENTRY);
    case HRE_NODE__CMD_BLOCK: return (size_t)block_cap;
    case HRE_NODE__CMD_TX: return HRE_TX_MAX_LEN;
    case HRE_NODE__CMD_APP: return 2u + app_cap;
    default: return HRE_NODE__UNKNOWN_CAP;
    }
}
