/*
 * The storage handle: version checks, argument validation and dispatch to a
 * backend's methods table, error mapping, and small helpers shared by the
 * record log and the atomic writer.
 */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "storage/internal.h"

/* Known layouts of hre_storage_methods (rule 7, the one helper in
 * lib/core/vstruct.c): the end of the last method each version declares. */
static const size_t methods_size[HRE_STORAGE_VERSION + 1] = {
    0,
    HRE__END(hre_storage_methods, destroy),
};
static const hre__vstruct methods_desc = { "storage methods", HRE_STORAGE_VERSION, methods_size };

/* Which error codes each method may return (others become HRE_EIO). */
#define OK_IO (1u << 0)   /* HRE_EIO */
#define OK_SPC (1u << 1)  /* HRE_ENOSPC */
#define OK_NF (1u << 2)   /* HRE_ENOTFOUND */
#define OK_EX (1u << 3)   /* HRE_EEXISTS */
#define OK_MEM 0u        /* HRE_ENOMEM: always allowed */

static int map_rc(hre_storage *s, int rc, unsigned int allowed, const char *op,
                  const char *name)
{
    int mapped = HRE_EIO;
    if (rc == HRE_OK) return HRE_OK;
    switch (rc) {
    case HRE_EIO: mapped = HRE_EIO; break;
    case HRE_ENOSPC: mapped = (allowed & OK_SPC) ? HRE_ENOSPC : HRE_EIO; break;
    case HRE_ENOTFOUND: mapped = (allowed & OK_NF) ? HRE_ENOTFOUND : HRE_EIO; break;
    case HRE_EEXISTS: mapped = (allowed & OK_EX) ? HRE_EEXISTS : HRE_EIO; break;
    case HRE_ENOMEM: mapped = HRE_ENOMEM; break;   /* any method may run out of memory */
    default: mapped = HRE_EIO; break;
    }
    /* Built-in backends record their own detail (with errno text); for host
     * backends, and for any remapped code, the library writes one. */
    if (!s->builtin || mapped != rc || hre_error_last() != rc) {
        if (mapped != rc)
            return hre__fail(mapped, "storage: %s '%s': backend returned unexpected code %d",
                             op, name ? name : "", rc);
        return hre__fail(mapped, "storage: %s '%s' failed: %s", op, name ? name : "",
                         hre_strerror(mapped));
    }
    return mapped;
}

HRE_API int hre_storage_methods_init(hre_storage_methods *m, unsigned int version)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(m != NULL);
    return hre__api_done(hre__vstruct_init(&methods_desc, m, version));
}

static int new_storage(hre_storage **out, const hre_storage_methods *methods, void *self,
                       int builtin)
{
    hre_storage *s;
    hre_storage_methods m;
    int rc;

    /* the methods the caller's version declares; later ones stay NULL */
    if ((rc = hre__vstruct_in(&methods_desc, &m, methods)) != HRE_OK) return rc;
    if (!m.open || !m.close || !m.read || !m.append || !m.write || !m.sync || !m.size ||
        !m.truncate || !m.rename || !m.remove || !m.list || !m.sync_dir)
        return hre__fail(HRE_EINVAL, "storage methods: a required method is NULL");
    s = hre__calloc(1, sizeof *s);
    if (!s) return hre__fail(HRE_ENOMEM, "storage: out of memory");
    s->m = m;
    s->self = self;
    s->builtin = builtin;
    *out = s;
    return HRE_OK;
}

HRE_API int hre_storage_new_custom(hre_storage **out, const hre_storage_methods *methods,
                                   void *user_data)
{
    HRE__API_SCOPE;
    if (out) *out = NULL;
    HRE__CHECK_ARG(out != NULL);
    HRE__CHECK_ARG(methods != NULL);
    return hre__api_done(new_storage(out, methods, user_data, 0));
}

int hre_storage__new_builtin(hre_storage **out, const hre_storage_methods *m, void *self)
{
    int rc = new_storage(out, m, self, 1);
    if (rc != HRE_OK && m->destroy) m->destroy(self);
    return rc;
}

static void unlink_file(hre_storage_file *f)
{
    hre_storage *s = f->st;
    if (f->prev) f->prev->next = f->next;
    else s->files = f->next;
    if (f->next) f->next->prev = f->prev;
    f->prev = f->next = NULL;
}

HRE_API void hre_storage_free(hre_storage *storage)
{
    if (!storage) return;
    while (storage->files) {
        hre_storage_file *f = storage->files;
        unlink_file(f);
        (void)storage->m.close(storage->self, f->h);
        hre__free(f);
    }
    if (storage->m.destroy) storage->m.destroy(storage->self);
    hre__free(storage);
}

HRE_API int hre_storage_name_valid(const char *name)
{
    size_t n;
    if (!name) return 0;
    for (n = 0; name[n] != '\0'; n++) {
        unsigned char c = (unsigned char)name[n];
        if (n == HRE_STORAGE_NAME_MAX) return 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
        if (c == '.' && n > 0 && name[n - 1] == '.') return 0;
    }
    if (n == 0 || name[0] == '.') return 0;
    return 1;
}

#define CHECK_NAME(nm) \
    do { \
        if (!hre_storage_name_valid(nm)) \
            return hre__fail(HRE_EINVAL, "storage: invalid file name (allowed: 1..%d of " \
                             "[A-Za-z0-9._-], not starting with '.', no \"..\")", \
                             HRE_STORAGE_NAME_MAX); \
    } while (0)

HRE_API int hre_storage_file_open(hre_storage_file **out, hre_storage *storage,
                                  const char *name, unsigned int flags)
{
    HRE__API_SCOPE;
    const unsigned int known = HRE_STORAGE_READ | HRE_STORAGE_WRITE | HRE_STORAGE_CREATE |
                               HRE_STORAGE_EXCLUSIVE | HRE_STORAGE_TRUNCATE;
    hre_storage_file *f;
    void *h = NULL;
    int rc;

    if (out) *out = NULL;
    HRE__CHECK_ARG(out != NULL);
    HRE__CHECK_ARG(storage != NULL);
    CHECK_NAME(name);
    if (flags & ~known)
        return hre__fail(HRE_EINVAL, "storage: unknown open flags 0x%x", flags & ~known);
    if (!(flags & (HRE_STORAGE_READ | HRE_STORAGE_WRITE)))
        return hre__fail(HRE_EINVAL, "storage: open needs READ or WRITE");
    if ((flags & (HRE_STORAGE_CREATE | HRE_STORAGE_EXCLUSIVE | HRE_STORAGE_TRUNCATE)) &&
        !(flags & HRE_STORAGE_WRITE))
        return hre__fail(HRE_EINVAL, "storage: CREATE, EXCLUSIVE and TRUNCATE need WRITE");
    if ((flags & HRE_STORAGE_EXCLUSIVE) && !(flags & HRE_STORAGE_CREATE))
        return hre__fail(HRE_EINVAL, "storage: EXCLUSIVE needs CREATE");

    f = hre__calloc(1, sizeof *f);
    if (!f) return hre__fail(HRE_ENOMEM, "storage: out of memory");
    rc = storage->m.open(storage->self, name, flags, &h);
    if (rc != HRE_OK) {
        hre__free(f);
        return hre__api_done(map_rc(storage, rc, OK_IO | OK_SPC | OK_NF | OK_EX | OK_MEM, "open", name));
    }
    f->st = storage;
    f->h = h;
    f->flags = flags;
    strcpy(f->name, name);
    f->next = storage->files;
    if (f->next) f->next->prev = f;
    storage->files = f;
    *out = f;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_storage_file_close(hre_storage_file *file)
{
    HRE__API_SCOPE;
    hre_storage *s;
    int rc;
    if (!file) return hre__api_done(HRE_OK);
    s = file->st;
    unlink_file(file);
    rc = s->m.close(s->self, file->h);
    if (rc != HRE_OK) rc = map_rc(s, rc, OK_IO, "close", file->name);
    hre__free(file);
    return hre__api_done(rc);
}

/* offset + len within HRE_STORAGE_SIZE_MAX? */
static int range_ok(uint64_t offset, uint64_t len)
{
    return offset <= HRE_STORAGE_SIZE_MAX && len <= HRE_STORAGE_SIZE_MAX - offset;
}

HRE_API int hre_storage_file_read(hre_storage_file *file, void *buf, size_t len,
                                  size_t *got, uint64_t offset)
{
    HRE__API_SCOPE;
    size_t g = 0;
    int rc;
    if (got) *got = 0;
    HRE__CHECK_ARG(file != NULL && got != NULL);
    HRE__CHECK_ARG(buf != NULL || len == 0);
    if (len == 0) return hre__api_done(HRE_OK);
    if (!(file->flags & HRE_STORAGE_READ)) {
        memset(buf, 0, len);
        return hre__fail(HRE_EINVAL, "storage: '%s' is not open for reading", file->name);
    }
    if (!range_ok(offset, len)) {
        memset(buf, 0, len);
        return hre__fail(HRE_EINVAL, "storage: read range beyond 2^63-1");
    }
    rc = file->st->m.read(file->st->self, file->h, buf, len, &g, offset);
    if (rc != HRE_OK) {
        memset(buf, 0, len);
        return hre__api_done(map_rc(file->st, rc, OK_IO | OK_MEM, "read", file->name));
    }
    if (g > len) {
        memset(buf, 0, len);
        return hre__fail(HRE_EIO, "storage: read '%s': backend reported more bytes than asked",
                         file->name);
    }
    memset((uint8_t *)buf + g, 0, len - g);
    *got = g;
    return hre__api_done(HRE_OK);
}

static int check_writable(hre_storage_file *f)
{
    if (!(f->flags & HRE_STORAGE_WRITE))
        return hre__fail(HRE_EINVAL, "storage: '%s' is not open for writing", f->name);
    return HRE_OK;
}

HRE_API int hre_storage_file_append(hre_storage_file *file, uint64_t *offset, const void *data,
                                    size_t len)
{
    HRE__API_SCOPE;
    uint64_t off = 0;
    int rc;
    if (offset) *offset = 0;
    HRE__CHECK_ARG(file != NULL);
    HRE__CHECK_ARG(data != NULL || len == 0);
    if ((rc = check_writable(file)) != HRE_OK) return rc;
    if (len == 0) return hre__api_done(hre_storage_file_size(file, offset ? offset : &off));
    if ((uint64_t)len > HRE_STORAGE_SIZE_MAX)
        return hre__fail(HRE_EINVAL, "storage: append too large");
    rc = file->st->m.append(file->st->self, file->h, &off, data, len);
    if (rc != HRE_OK) return hre__api_done(map_rc(file->st, rc, OK_IO | OK_SPC | OK_MEM, "append", file->name));
    if (offset) *offset = off;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_storage_file_write(hre_storage_file *file, uint64_t offset,
                                   const void *data, size_t len)
{
    HRE__API_SCOPE;
    int rc;
    HRE__CHECK_ARG(file != NULL);
    HRE__CHECK_ARG(data != NULL || len == 0);
    if ((rc = check_writable(file)) != HRE_OK) return rc;
    if (!range_ok(offset, len))
        return hre__fail(HRE_EINVAL, "storage: write range beyond 2^63-1");
    if (len == 0) return hre__api_done(HRE_OK);
    rc = file->st->m.write(file->st->self, file->h, offset, data, len);
    return hre__api_done(map_rc(file->st, rc, OK_IO | OK_SPC | OK_MEM, "write", file->name));
}

HRE_API int hre_storage_file_sync(hre_storage_file *file)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(file != NULL);
    return hre__api_done(map_rc(file->st, file->st->m.sync(file->st->self, file->h), OK_IO | OK_SPC, "sync",
                  file->name));
}

HRE_API int hre_storage_file_size(hre_storage_file *file, uint64_t *size)
{
    HRE__API_SCOPE;
    uint64_t sz = 0;
    int rc;
    if (size) *size = 0;
    HRE__CHECK_ARG(file != NULL && size != NULL);
    rc = file->st->m.size(file->st->self, file->h, &sz);
    if (rc != HRE_OK) return hre__api_done(map_rc(file->st, rc, OK_IO, "size", file->name));
    if (sz > HRE_STORAGE_SIZE_MAX)
        return hre__fail(HRE_EIO, "storage: size of '%s' out of range", file->name);
    *size = sz;
    return hre__api_done(HRE_OK);
}

HRE_API int hre_storage_file_truncate(hre_storage_file *file, uint64_t size)
{
    HRE__API_SCOPE;
    int rc;
    HRE__CHECK_ARG(file != NULL);
    if ((rc = check_writable(file)) != HRE_OK) return rc;
    if (size > HRE_STORAGE_SIZE_MAX)
        return hre__fail(HRE_EINVAL, "storage: truncate size beyond 2^63-1");
    rc = file->st->m.truncate(file->st->self, file->h, size);
    return hre__api_done(map_rc(file->st, rc, OK_IO | OK_SPC | OK_MEM, "truncate", file->name));
}

HRE_API int hre_storage_rename(hre_storage *storage, const char *from, const char *to)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(storage != NULL);
    CHECK_NAME(from);
    CHECK_NAME(to);
    if (strcmp(from, to) == 0)
        return hre__fail(HRE_EINVAL, "storage: rename onto itself");
    return hre__api_done(map_rc(storage, storage->m.rename(storage->self, from, to),
                  OK_IO | OK_SPC | OK_NF | OK_MEM, "rename", from));
}

HRE_API int hre_storage_remove(hre_storage *storage, const char *name)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(storage != NULL);
    CHECK_NAME(name);
    return hre__api_done(map_rc(storage, storage->m.remove(storage->self, name), OK_IO | OK_NF | OK_MEM,
                  "remove", name));
}

struct list_tramp {
    hre_storage_list_cb cb;
    void *arg;
    int stopped;    /* the user callback's value, when it stopped the listing */
};

static int list_tramp_cb(void *arg, const char *name)
{
    struct list_tramp *t = arg;
    int r;
    if (!hre_storage_name_valid(name)) return 0;    /* skip foreign names */
    r = t->cb(t->arg, name);
    if (r != 0) t->stopped = r;
    return r;
}

HRE_API int hre_storage_list(hre_storage *storage, hre_storage_list_cb cb, void *cb_arg)
{
    HRE__API_SCOPE;
    struct list_tramp t;
    int rc;
    HRE__CHECK_ARG(storage != NULL && cb != NULL);
    t.cb = cb;
    t.arg = cb_arg;
    t.stopped = 0;
    rc = storage->m.list(storage->self, list_tramp_cb, &t);
    if (t.stopped != 0) return hre__api_done(t.stopped);
    return hre__api_done(map_rc(storage, rc, OK_IO | OK_MEM, "list", ""));
}

HRE_API int hre_storage_sync_dir(hre_storage *storage)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(storage != NULL);
    return hre__api_done(map_rc(storage, storage->m.sync_dir(storage->self), OK_IO | OK_SPC, "sync_dir", ""));
}

HRE_API int hre_storage_control(hre_storage *storage, hre_storage_file *file, int op,
                                void *arg)
{
    HRE__API_SCOPE;
    int rc;
    HRE__CHECK_ARG(storage != NULL);
    if (file && file->st != storage)
        return hre__fail(HRE_EINVAL, "storage: control on a file of another storage");
    if (!storage->m.control)
        return hre__fail(HRE_EUNSUPPORTED, "storage: backend has no control ops (op %d)", op);
    rc = storage->m.control(storage->self, file ? file->h : NULL, op, arg);
    if (rc == HRE_OK) return hre__api_done(HRE_OK);
    if (rc == HRE_EUNSUPPORTED) {
        if (!storage->builtin || hre_error_last() != rc)
            return hre__fail(HRE_EUNSUPPORTED, "storage: control op %d not supported", op);
        return hre__api_done(rc);
    }
    if (rc == HRE_EINVAL) {
        if (!storage->builtin || hre_error_last() != rc)
            return hre__fail(HRE_EINVAL, "storage: control op %d: invalid argument", op);
        return hre__api_done(rc);
    }
    return hre__api_done(map_rc(storage, rc, OK_IO | OK_SPC | OK_NF | OK_EX | OK_MEM, "control",
                  file ? file->name : ""));
}

/* ------------------------------------------------------------------------ */
/* Internal helpers                                                          */
/* ------------------------------------------------------------------------ */

const char *hre_storage__file_name(const hre_storage_file *f)
{
    return f ? f->name : "";
}

int hre_storage__read_exact(hre_storage_file *f, uint64_t offset, void *buf, size_t len)
{
    size_t got = 0;
    int rc = hre_storage_file_read(f, buf, len, &got, offset);
    if (rc != HRE_OK) return rc;
    if (got != len) {
        memset(buf, 0, len);
        return hre__fail(HRE_ECORRUPT, "storage: '%s' ends at %llu, expected %llu bytes",
                         f->name, (unsigned long long)(offset + got),
                         (unsigned long long)(offset + len));
    }
    return HRE_OK;
}

int hre_storage__read_all(hre_storage *s, const char *name, size_t max, uint8_t **out,
                          size_t *len)
{
    hre_storage_file *f = NULL;
    uint64_t size = 0;
    uint8_t *buf;
    int rc;

    if (out) *out = NULL;
    if (len) *len = 0;
    HRE__CHECK_ARG(s != NULL && out != NULL && len != NULL);
    rc = hre_storage_file_open(&f, s, name, HRE_STORAGE_READ);
    if (rc != HRE_OK) return rc;
    rc = hre_storage_file_size(f, &size);
    if (rc != HRE_OK) goto done;
    if (size > (uint64_t)max) {
        rc = hre__fail(HRE_ELIMIT, "storage: '%s' is %llu bytes, over the %llu limit", name,
                       (unsigned long long)size, (unsigned long long)max);
        goto done;
    }
    buf = hre__malloc((size_t)size ? (size_t)size : 1);
    if (!buf) {
        rc = hre__fail(HRE_ENOMEM, "storage: out of memory");
        goto done;
    }
    hre__advise_large(buf, (size_t)size);
    rc = hre_storage__read_exact(f, 0, buf, (size_t)size);
    if (rc != HRE_OK) {
        hre__free(buf);
        goto done;
    }
    *out = buf;
    *len = (size_t)size;
done:
    {
        int crc = hre_storage_file_close(f);
        if (rc == HRE_OK && crc != HRE_OK) {
            hre__free(*out);
            *out = NULL;
            *len = 0;
            rc = crc;
        }
    }
    return rc;
}

uint32_t hre_storage__crc32(uint32_t crc, const void *data, size_t len)
{
    const Bytef *p = data;
    uLong c = crc;
    while (len > 0) {
        uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
        c = crc32(c, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)c;
}
