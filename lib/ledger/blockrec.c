/*
 * Ledger on-disk codecs: block records (optionally zlib-compressed bodies),
 * index entries and snapshot files. See docs/PROTOCOL.md section 7.
 */
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "core/internal.h"
#include "ledger/internal.h"
#include "storage/internal.h"

int hre_ledger__record_encode(uint8_t **out, size_t *len, const hre_block *block, int level)
{
    size_t enc_len = 0, body_len, stored_len, tx_count;
    uint8_t *enc = NULL, *rec = NULL;
    uLongf clen;
    int rc, zipped = 0;

    if (!out || !len || !block)
        return hre__fail(HRE_EINVAL, "record_encode: NULL argument");
    *out = NULL;
    *len = 0;
    /* the size from the accessor: a size query (EBUFSIZE) would record a
     * failure on this thread, and this may run after the caller's real
     * failure (as a pool item joined on the calling thread) */
    enc_len = hre_block_size(block);
    if (enc_len < HRE_HEADER_LEN + 1 || enc_len > UINT32_MAX)
        return hre__fail(HRE_EINVAL, "record_encode: bad block size %zu", enc_len);
    enc = hre__malloc(enc_len);
    if (!enc)
        return hre__fail(HRE_ENOMEM, "record_encode: out of memory");
    rc = hre_block_encode(block, enc, &enc_len);
    if (rc != HRE_OK) {
        hre__free(enc);
        return rc;
    }
    body_len = enc_len - HRE_HEADER_LEN;
    tx_count = hre_block_tx_count(block);
    stored_len = body_len;
    if (level >= 1 && level <= 9) {
        uLong bound = compressBound((uLong)body_len);
        rec = hre__malloc(HRE_LEDGER__REC_FIXED + (size_t)bound);
        if (!rec) {
            hre__free(enc);
            return hre__fail(HRE_ENOMEM, "record_encode: out of memory");
        }
        clen = bound;
        if (compress2(rec + HRE_LEDGER__REC_FIXED, &clen, enc + HRE_HEADER_LEN, (uLong)body_len,
                      level) == Z_OK && (size_t)clen < body_len) {
            zipped = 1;
            stored_len = (size_t)clen;
        }
    }
    if (!zipped) {
        hre__free(rec);
        rec = hre__malloc(HRE_LEDGER__REC_FIXED + body_len);
        if (!rec) {
            hre__free(enc);
            return hre__fail(HRE_ENOMEM, "record_encode: out of memory");
        }
        memcpy(rec + HRE_LEDGER__REC_FIXED, enc + HRE_HEADER_LEN, body_len);
    }
    rec[0] = HRE_LEDGER__REC_FORMAT;
    rec[1] = zipped ? HRE_LEDGER__REC_ZLIB : 0;
    memcpy(rec + 2, enc, HRE_HEADER_LEN);
    hre__put_le32(rec + 82, (uint32_t)tx_count);
    hre__put_le32(rec + 86, (uint32_t)body_len);
    hre__free(enc);
    *out = rec;
    *len = HRE_LEDGER__REC_FIXED + stored_len;
    return HRE_OK;
}

int hre_ledger__record_peek(const uint8_t *rec, size_t len, hre_header *header,
                            uint32_t *tx_count)
{
    if (!rec || len < HRE_LEDGER__REC_FIXED || rec[0] != HRE_LEDGER__REC_FORMAT ||
        (rec[1] & ~HRE_LEDGER__REC_ZLIB) != 0)
        return HRE_EDECODE;
    if (header && hre_header_decode(header, rec + 2, HRE_HEADER_LEN) != HRE_OK)
        return HRE_EDECODE;
    if (tx_count)
        *tx_count = hre__le32(rec + 82);
    return HRE_OK;
}

int hre_ledger__record_decode(hre_block **out, const uint8_t *rec, size_t len,
                              const hre_block_limits *limits)
{
    hre_block_limits lim = HRE_BLOCK_LIMITS_INIT;
    uint32_t tx_count, body_len;
    size_t stored;
    uint8_t *buf;
    int rc;

    if (!out)
        return hre__fail(HRE_EINVAL, "record_decode: NULL out");
    *out = NULL;
    if (!rec && len)
        return hre__fail(HRE_EINVAL, "record_decode: NULL input");
    if (limits)
        lim = *limits;
    if (len < HRE_LEDGER__REC_FIXED)
        return hre__fail(HRE_EDECODE, "block record: %zu bytes, shorter than its fixed part", len);
    if (rec[0] != HRE_LEDGER__REC_FORMAT)
        return hre__fail(HRE_EDECODE, "block record: unknown format %u", rec[0]);
    if ((rec[1] & ~HRE_LEDGER__REC_ZLIB) != 0)
        return hre__fail(HRE_EDECODE, "block record: unknown flags 0x%02x", rec[1]);
    tx_count = hre__le32(rec + 82);
    body_len = hre__le32(rec + 86);
    stored = len - HRE_LEDGER__REC_FIXED;
    if (lim.max_block_size < HRE_HEADER_LEN + 1 ||
        (uint64_t)body_len > lim.max_block_size - HRE_HEADER_LEN)
        return hre__fail(HRE_ELIMIT, "block record: body of %u bytes over the block size cap",
                         body_len);
    if ((uint64_t)tx_count > lim.max_tx_count)
        return hre__fail(HRE_ELIMIT, "block record: %u transactions over the cap", tx_count);
    if (body_len < 1)
        return hre__fail(HRE_EDECODE, "block record: empty body");
    if (rec[1] & HRE_LEDGER__REC_ZLIB) {
        if (stored >= body_len || stored < 1)
            return hre__fail(HRE_EDECODE, "block record: compressed body not smaller than raw");
    } else if (stored != body_len) {
        return hre__fail(HRE_EDECODE, "block record: body length %zu != declared %u", stored,
                         body_len);
    }
    buf = hre__malloc((size_t)HRE_HEADER_LEN + body_len);
    if (!buf)
        return hre__fail(HRE_ENOMEM, "block record: out of memory");
    memcpy(buf, rec + 2, HRE_HEADER_LEN);
    if (rec[1] & HRE_LEDGER__REC_ZLIB) {
        z_stream zs;
        int zr;
        memset(&zs, 0, sizeof zs);
        if (inflateInit(&zs) != Z_OK) {
            hre__free(buf);
            return hre__fail(HRE_ENOMEM, "block record: inflateInit failed");
        }
        zs.next_in = (Bytef *)(uintptr_t)(rec + HRE_LEDGER__REC_FIXED);
        zs.avail_in = (uInt)stored;
        zs.next_out = buf + HRE_HEADER_LEN;
        zs.avail_out = body_len;
        zr = inflate(&zs, Z_FINISH);
        /* Exactly body_len bytes out, the stream ends, and no input is left. */
        if (zr != Z_STREAM_END || zs.avail_out != 0 || zs.avail_in != 0) {
            int mem = (zr == Z_MEM_ERROR);
            inflateEnd(&zs);
            hre__free(buf);
            if (mem)
                return hre__fail(HRE_ENOMEM, "block record: inflate out of memory");
            return hre__fail(HRE_EDECODE, "block record: bad zlib body (inflate %d, %u bytes short)",
                             zr, (unsigned)zs.avail_out);
        }
        inflateEnd(&zs);
    } else {
        memcpy(buf + HRE_HEADER_LEN, rec + HRE_LEDGER__REC_FIXED, body_len);
    }
    rc = hre_block_decode(out, buf, (size_t)HRE_HEADER_LEN + body_len, &lim);
    hre__free(buf);
    if (rc != HRE_OK)
        return rc;
    if (hre_block_tx_count(*out) != tx_count) {
        hre_block_free(*out);
        *out = NULL;
        return hre__fail(HRE_EDECODE, "block record: tx count %u differs from the body's", tx_count);
    }
    return HRE_OK;
}

void hre_ledger__index_encode(uint8_t out[HRE_LEDGER__IDX_LEN], const hre_ledger__index_entry *e)
{
    out[0] = HRE_LEDGER__IDX_BLOCK;
    hre__put_le32(out + 1, e->seg);
    hre__put_le64(out + 5, e->offset);
    hre__put_le32(out + 13, e->rec_len);
    hre__put_le32(out + 17, e->tx_count);
    hre_header_encode(&e->header, out + 21);
}

int hre_ledger__index_decode(hre_ledger__index_entry *e, const uint8_t *in, size_t len,
                             uint32_t max_rec)
{
    memset(e, 0, sizeof *e);
    if (!in || len != HRE_LEDGER__IDX_LEN || in[0] != HRE_LEDGER__IDX_BLOCK)
        return HRE_EDECODE;
    e->seg = hre__le32(in + 1);
    e->offset = hre__le64(in + 5);
    e->rec_len = hre__le32(in + 13);
    e->tx_count = hre__le32(in + 17);
    if (e->rec_len < HRE_LEDGER__REC_FIXED || e->rec_len > max_rec ||
        e->offset > HRE_STORAGE_SIZE_MAX / 2 || e->seg > 99999) {
        memset(e, 0, sizeof *e);
        return HRE_ELIMIT;
    }
    /* any 80 bytes form a header */
    if (hre_header_decode(&e->header, in + 21, HRE_HEADER_LEN) != HRE_OK) {
        memset(e, 0, sizeof *e);
        return HRE_EDECODE;
    }
    return HRE_OK;
}

int hre_ledger__snap_parse(const uint8_t *in, size_t len, uint64_t *height, uint8_t hash[32],
                           uint8_t state_hash[32], const uint8_t **payload, size_t *plen)
{
    uint64_t l;
    int v1;

    if (!in || len < HRE_LEDGER__SNAP_OVERHEAD)
        return hre__fail(HRE_ECORRUPT, "snapshot file: %zu bytes, too short", len);
    v1 = memcmp(in, HRE_LEDGER__SNAP_MAGIC_V1, 8) == 0;
    if (!v1 && memcmp(in, HRE_LEDGER__SNAP_MAGIC, 8) != 0)
        return hre__fail(HRE_ECORRUPT, "snapshot file: bad magic");
    /* version 2 checks only its header here: the payload's own checksum is
     * SHA-256 based and faster than zlib's CRC-32 over hundreds of MB */
    if (v1 ? hre_storage__crc32(0, in, len - 4) != hre__le32(in + len - 4)
           : hre_storage__crc32(0, in, 88) != hre__le32(in + 88))
        return hre__fail(HRE_ECORRUPT, "snapshot file: CRC mismatch");
    l = hre__le64(in + 80);
    if (l != len - HRE_LEDGER__SNAP_OVERHEAD)
        return hre__fail(HRE_ECORRUPT, "snapshot file: length field %llu does not match",
                         (unsigned long long)l);
    *height = hre__le64(in + 8);
    memcpy(hash, in + 16, 32);
    memcpy(state_hash, in + 48, 32);
    *payload = in + (v1 ? 88 : HRE_LEDGER__SNAP_HEADER);
    *plen = (size_t)l;
    return HRE_OK;
}
