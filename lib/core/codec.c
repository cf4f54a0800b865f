/* Bounded byte reader/writer: little-endian integers and CompactSize. */
#include "core/internal.h"

void hre__reader_init(hre__reader *r, const void *data, size_t len)
{
    if (!r) return;
    r->data = data;
    r->len = data ? len : 0;
    r->pos = 0;
    r->err = (data || len == 0) ? HRE_OK : HRE_EINVAL;
}

/* Take n bytes or poison the reader. Returns a pointer to them or NULL. */
static const uint8_t *take(hre__reader *r, size_t n)
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

static int rd_status(const hre__reader *r)
{
    return r ? r->err : HRE_EINVAL;
}

int hre__reader_u8(hre__reader *r, uint8_t *out)
{
    const uint8_t *p = take(r, 1);
    if (out) *out = p ? p[0] : 0;
    return p ? HRE_OK : rd_status(r);
}

int hre__reader_u16(hre__reader *r, uint16_t *out)
{
    const uint8_t *p = take(r, 2);
    if (out) *out = p ? hre__le16(p) : 0;
    return p ? HRE_OK : rd_status(r);
}

int hre__reader_u32(hre__reader *r, uint32_t *out)
{
    const uint8_t *p = take(r, 4);
    if (out) *out = p ? hre__le32(p) : 0;
    return p ? HRE_OK : rd_status(r);
}

int hre__reader_u64(hre__reader *r, uint64_t *out)
{
    const uint8_t *p = take(r, 8);
    if (out) *out = p ? hre__le64(p) : 0;
    return p ? HRE_OK : rd_status(r);
}

int hre__reader_bytes(hre__reader *r, void *out, size_t n)
{
    const uint8_t *p = take(r, n);
    if (!p) {
        if (out && n) memset(out, 0, n);
        return rd_status(r);
    }
    if (out && n) memcpy(out, p, n);
    return HRE_OK;
}

int hre__reader_borrow(hre__reader *r, const uint8_t **out, size_t n)
{
    const uint8_t *p = take(r, n);
    if (out) *out = p;
    return p ? HRE_OK : rd_status(r);
}

int hre__reader_compact(hre__reader *r, uint64_t *out, uint64_t max)
{
    uint8_t tag;
    uint64_t v;
    int rc;
    if (out) *out = 0;
    if ((rc = hre__reader_u8(r, &tag)) != HRE_OK) return rc;
    if (tag < 0xfd) {
        v = tag;
    } else if (tag == 0xfd) {
        uint16_t x;
        if ((rc = hre__reader_u16(r, &x)) != HRE_OK) return rc;
        if (x < 0xfd) goto noncanonical;
        v = x;
    } else if (tag == 0xfe) {
        uint32_t x;
        if ((rc = hre__reader_u32(r, &x)) != HRE_OK) return rc;
        if (x <= 0xffff) goto noncanonical;
        v = x;
    } else {
        if ((rc = hre__reader_u64(r, &v)) != HRE_OK) return rc;
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

size_t hre__reader_remaining(const hre__reader *r)
{
    if (!r || r->err != HRE_OK) return 0;
    return r->len - r->pos;
}

int hre__reader_finish(const hre__reader *r)
{
    if (!r) return hre__fail(HRE_EINVAL, "hre__reader_finish: NULL reader");
    if (r->err != HRE_OK) return r->err;
    if (r->pos != r->len)
        return hre__fail(HRE_EDECODE, "%zu trailing bytes after offset %zu", r->len - r->pos, r->pos);
    return HRE_OK;
}

void hre__writer_init(hre__writer *w, void *buf, size_t cap)
{
    if (!w) return;
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->len = 0;
}

void hre__writer_bytes(hre__writer *w, const void *data, size_t n)
{
    if (!w || n == 0) return;
    if (w->len <= w->cap && n <= w->cap - w->len && data)
        memcpy(w->buf + w->len, data, n);
    /* saturate instead of wrapping; finish() then reports EBUFSIZE */
    w->len = (n > SIZE_MAX - w->len) ? SIZE_MAX : w->len + n;
}

void hre__writer_u8(hre__writer *w, uint8_t v)
{
    hre__writer_bytes(w, &v, 1);
}

void hre__writer_u16(hre__writer *w, uint16_t v)
{
    uint8_t b[2];
    hre__put_le16(b, v);
    hre__writer_bytes(w, b, 2);
}

void hre__writer_u32(hre__writer *w, uint32_t v)
{
    uint8_t b[4];
    hre__put_le32(b, v);
    hre__writer_bytes(w, b, 4);
}

void hre__writer_u64(hre__writer *w, uint64_t v)
{
    uint8_t b[8];
    hre__put_le64(b, v);
    hre__writer_bytes(w, b, 8);
}

size_t hre__compact_size_len(uint64_t v)
{
    return v < 0xfd ? 1 : v <= 0xffff ? 3 : v <= 0xffffffffULL ? 5 : 9;
}

void hre__writer_compact(hre__writer *w, uint64_t v)
{
    if (v < 0xfd) {
        hre__writer_u8(w, (uint8_t)v);
    } else if (v <= 0xffff) {
        hre__writer_u8(w, 0xfd);
        hre__writer_u16(w, (uint16_t)v);
    } else if (v <= 0xffffffffULL) {
        hre__writer_u8(w, 0xfe);
        hre__writer_u32(w, (uint32_t)v);
    } else {
        hre__writer_u8(w, 0xff);
        hre__writer_u64(w, v);
    }
}

int hre__writer_finish(const hre__writer *w, size_t *len)
{
    if (!w) return hre__fail(HRE_EINVAL, "hre__writer_finish: NULL writer");
    if (len) *len = w->len;
    if (w->len > w->cap)
        return hre__fail(HRE_EBUFSIZE, "output needs %zu bytes, buffer has %zu", w->len, w->cap);
    return HRE_OK;
}
