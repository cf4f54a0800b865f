/* Bounded byte reader/writer: little-endian integers and CompactSize. */
#include "core/internal.h"

HRE_API void hre_reader_init(hre_reader *r, const void *data, size_t len)
{
    if (!r) return;
    r->data = data;
    r->len = data ? len : 0;
    r->pos = 0;
    r->err = (data || len == 0) ? HRE_OK : HRE_EINVAL;
}

/* Take n bytes or poison the reader. Returns a pointer to them or NULL. */
static const uint8_t *take(hre_reader *r, size_t n)
{
    const uint8_t *p;
    if (!r) return NULL;
    if (r->err != HRE_OK) return NULL;
    if (n > r->len - r->pos) {
        r->err = hre__fail(HRE_EDECODE, "input truncated: need %zu bytes at offset %zu, have %zu",
                           n, r->pos, r->len - r->pos);
        return NULL;
    }
    p = r->data + r->pos;
    r->pos += n;
    return p;
}

static int rd_status(const hre_reader *r)
{
    return r ? r->err : HRE_EINVAL;
}

HRE_API int hre_reader_u8(hre_reader *r, uint8_t *out)
{
    const uint8_t *p = take(r, 1);
    if (out) *out = p ? p[0] : 0;
    return p ? HRE_OK : rd_status(r);
}

HRE_API int hre_reader_u16(hre_reader *r, uint16_t *out)
{
    const uint8_t *p = take(r, 2);
    if (out) *out = p ? hre__le16(p) : 0;
    return p ? HRE_OK : rd_status(r);
}

HRE_API int hre_reader_u32(hre_reader *r, uint32_t *out)
{
    const uint8_t *p = take(r, 4);
    if (out) *out = p ? hre__le32(p) : 0;
    return p ? HRE_OK : rd_status(r);
}

HRE_API int hre_reader_u64(hre_reader *r, uint64_t *out)
{
    const uint8_t *p = take(r, 8);
    if (out) *out = p ? hre__le64(p) : 0;
    return p ? HRE_OK : rd_status(r);
}

HRE_API int hre_reader_bytes(hre_reader *r, void *out, size_t n)
{
    const uint8_t *p = take(r, n);
    if (!p) {
        if (out && n) memset(out, 0, n);
        return rd_status(r);
    }
    if (out && n) memcpy(out, p, n);
    return HRE_OK;
}

HRE_API int hre_reader_borrow(hre_reader *r, const uint8_t **out, size_t n)
{
    const uint8_t *p = take(r, n);
    if (out) *out = p;
    return p ? HRE_OK : rd_status(r);
}

HRE_API int hre_reader_compact(hre_reader *r, uint64_t *out, uint64_t max)
{
    uint8_t tag;
    uint64_t v;
    int rc;
    if (out) *out = 0;
    if ((rc = hre_reader_u8(r, &tag)) != HRE_OK) return rc;
    if (tag < 0xfd) {
        v = tag;
    } else if (tag == 0xfd) {
        uint16_t x;
        if ((rc = hre_reader_u16(r, &x)) != HRE_OK) return rc;
        if (x < 0xfd) goto noncanonical;
        v = x;
    } else if (tag == 0xfe) {
        uint32_t x;
        if ((rc = hre_reader_u32(r, &x)) != HRE_OK) return rc;
        if (x <= 0xffff) goto noncanonical;
        v = x;
    } else {
        if ((rc = hre_reader_u64(r, &v)) != HRE_OK) return rc;
        if (v <= 0xffffffffULL) goto noncanonical;
    }
    if (v > max) {
        r->err = hre__fail(HRE_ELIMIT, "length %llu exceeds the limit %llu at offset %zu",
                           (unsigned long long)v, (unsigned long long)max, r->pos);
        return r->err;
    }
    if (out) *out = v;
    return HRE_OK;
noncanonical:
    r->err = hre__fail(HRE_EDECODE, "non-minimal CompactSize before offset %zu", r->pos);
    return r->err;
}

HRE_API size_t hre_reader_remaining(const hre_reader *r)
{
    if (!r || r->err != HRE_OK) return 0;
    return r->len - r->pos;
}

HRE_API int hre_reader_finish(const hre_reader *r)
{
    if (!r) return hre__fail(HRE_EINVAL, "hre_reader_finish: NULL reader");
    if (r->err != HRE_OK) return r->err;
    if (r->pos != r->len)
        return hre__fail(HRE_EDECODE, "%zu trailing bytes after offset %zu", r->len - r->pos, r->pos);
    return HRE_OK;
}

HRE_API void hre_writer_init(hre_writer *w, void *buf, size_t cap)
{
    if (!w) return;
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->len = 0;
}

HRE_API void hre_writer_bytes(hre_writer *w, const void *data, size_t n)
{
    if (!w || n == 0) return;
    if (w->len <= w->cap && n <= w->cap - w->len && data)
        memcpy(w->buf + w->len, data, n);
    /* saturate instead of wrapping; finish() then reports EBUFSIZE */
    w->len = (n > SIZE_MAX - w->len) ? SIZE_MAX : w->len + n;
}

HRE_API void hre_writer_u8(hre_writer *w, uint8_t v)
{
    hre_writer_bytes(w, &v, 1);
}

HRE_API void hre_writer_u16(hre_writer *w, uint16_t v)
{
    uint8_t b[2];
    hre__put_le16(b, v);
    hre_writer_bytes(w, b, 2);
}

HRE_API void hre_writer_u32(hre_writer *w, uint32_t v)
{
    uint8_t b[4];
    hre__put_le32(b, v);
    hre_writer_bytes(w, b, 4);
}

HRE_API void hre_writer_u64(hre_writer *w, uint64_t v)
{
    uint8_t b[8];
    hre__put_le64(b, v);
    hre_writer_bytes(w, b, 8);
}

HRE_API size_t hre_compact_size_len(uint64_t v)
{
    return v < 0xfd ? 1 : v <= 0xffff ? 3 : v <= 0xffffffffULL ? 5 : 9;
}

HRE_API void hre_writer_compact(hre_writer *w, uint64_t v)
{
    if (v < 0xfd) {
        hre_writer_u8(w, (uint8_t)v);
    } else if (v <= 0xffff) {
        hre_writer_u8(w, 0xfd);
        hre_writer_u16(w, (uint16_t)v);
    } else if (v <= 0xffffffffULL) {
        hre_writer_u8(w, 0xfe);
        hre_writer_u32(w, (uint32_t)v);
    } else {
        hre_writer_u8(w, 0xff);
        hre_writer_u64(w, v);
    }
}

HRE_API int hre_writer_finish(const hre_writer *w, size_t *len)
{
    if (!w) return hre__fail(HRE_EINVAL, "hre_writer_finish: NULL writer");
    if (len) *len = w->len;
    if (w->len > w->cap)
        return hre__fail(HRE_EBUFSIZE, "output needs %zu bytes, buffer has %zu", w->len, w->cap);
    return HRE_OK;
}
