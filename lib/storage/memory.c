/*
 * The memory backend: a flat table of names pointing at reference-counted
 * inodes, so a removed or replaced file stays readable through handles that
 * are still open (POSIX unlink semantics). Everything is "durable" at once;
 * everything is lost when the storage is freed.
 */
#include <stdlib.h>
#include <string.h>

#include "storage/internal.h"

/* Largest single file (keeps huge offsets from turning into huge mallocs). */
#define MEM_FILE_MAX ((uint64_t)1 << 30)

typedef struct mem_inode {
    uint8_t *data;
    size_t size, cap;
    unsigned int refs;      /* one per name entry + one per open handle */
} mem_inode;

typedef struct mem_entry {
    char name[HRE_STORAGE_NAME_MAX + 1];
    mem_inode *ino;
} mem_entry;

typedef struct mem_state {
    mem_entry *ents;
    size_t n, cap;
    uint64_t max_bytes;     /* 0 = unlimited (but MEM_FILE_MAX per file) */
    uint64_t used;          /* sum of the sizes of every live inode */
} mem_state;

typedef struct mem_file {
    mem_inode *ino;
} mem_file;

static mem_entry *mem_find(mem_state *st, const char *name, size_t *idx)
{
    size_t i;
    for (i = 0; i < st->n; i++) {
        if (strcmp(st->ents[i].name, name) == 0) {
            if (idx) *idx = i;
            return &st->ents[i];
        }
    }
    return NULL;
}

static void mem_unref(mem_state *st, mem_inode *ino)
{
    if (--ino->refs > 0) return;
    st->used -= ino->size;
    hre__free(ino->data);
    hre__free(ino);
}

static void mem_drop_entry(mem_state *st, size_t idx)
{
    mem_inode *ino = st->ents[idx].ino;
    st->ents[idx] = st->ents[st->n - 1];
    st->n--;
    mem_unref(st, ino);
}

/* Set the size of ino to new_size (zero-filling growth), honouring limits. */
static int mem_resize(mem_state *st, mem_inode *ino, uint64_t new_size)
{
    if (new_size > MEM_FILE_MAX)
        return hre__fail(HRE_ENOSPC, "memory storage: file would exceed 1 GiB");
    if (new_size > ino->size) {
        uint64_t grow = new_size - ino->size;
        if (st->max_bytes && (st->used > st->max_bytes || grow > st->max_bytes - st->used))
            return hre__fail(HRE_ENOSPC, "memory storage: limit of %llu bytes reached",
                             (unsigned long long)st->max_bytes);
        if (new_size > ino->cap) {
            size_t ncap = ino->cap ? ino->cap : 64;
            uint8_t *nd;
            while (ncap < new_size) ncap = ncap > (size_t)MEM_FILE_MAX / 2 ?
                                           (size_t)MEM_FILE_MAX : ncap * 2;
            nd = hre__realloc(ino->data, ncap);
            if (!nd) return hre__fail(HRE_ENOMEM, "memory storage: out of memory");
            ino->data = nd;
            ino->cap = ncap;
        }
        memset(ino->data + ino->size, 0, (size_t)grow);
        st->used += grow;
    } else {
        st->used -= ino->size - (size_t)new_size;
    }
    ino->size = (size_t)new_size;
    return HRE_OK;
}

static int mem_open(void *self, const char *name, unsigned int flags, void **file)
{
    mem_state *st = self;
    mem_entry *e = mem_find(st, name, NULL);
    mem_file *mf;
    mem_inode *ino;

    *file = NULL;
    if (e && (flags & HRE_STORAGE_EXCLUSIVE))
        return hre__fail(HRE_EEXISTS, "memory storage: open '%s': exists", name);
    if (!e && !(flags & HRE_STORAGE_CREATE))
        return hre__fail(HRE_ENOTFOUND, "memory storage: open '%s': no such file", name);
    mf = hre__malloc(sizeof *mf);
    if (!mf) return hre__fail(HRE_ENOMEM, "memory storage: out of memory");
    if (e) {
        ino = e->ino;
        if (flags & HRE_STORAGE_TRUNCATE) (void)mem_resize(st, ino, 0); /* shrink: no fail */
    } else {
        if (st->n == st->cap) {
            size_t ncap = st->cap ? st->cap * 2 : 8;
            mem_entry *ne = hre__realloc(st->ents, ncap * sizeof *ne);
            if (!ne) {
                hre__free(mf);
                return hre__fail(HRE_ENOMEM, "memory storage: out of memory");
            }
            st->ents = ne;
            st->cap = ncap;
        }
        ino = hre__calloc(1, sizeof *ino);
        if (!ino) {
            hre__free(mf);
            return hre__fail(HRE_ENOMEM, "memory storage: out of memory");
        }
        ino->refs = 1;
        strcpy(st->ents[st->n].name, name);
        st->ents[st->n].ino = ino;
        st->n++;
    }
    ino->refs++;
    mf->ino = ino;
    *file = mf;
    return HRE_OK;
}

static int mem_close(void *self, void *file)
{
    mem_file *mf = file;
    mem_unref(self, mf->ino);
    hre__free(mf);
    return HRE_OK;
}

static int mem_read(void *self, void *file, void *buf, size_t len, size_t *got,
                    uint64_t offset)
{
    mem_inode *ino = ((mem_file *)file)->ino;
    size_t n;
    (void)self;
    if (offset >= ino->size) {
        *got = 0;
        return HRE_OK;
    }
    n = ino->size - (size_t)offset;
    if (n > len) n = len;
    memcpy(buf, ino->data + offset, n);
    *got = n;
    return HRE_OK;
}

static int mem_write(void *self, void *file, uint64_t offset, const void *data, size_t len)
{
    mem_inode *ino = ((mem_file *)file)->ino;
    int rc;
    if (offset + len > ino->size) {
        if ((rc = mem_resize(self, ino, offset + len)) != HRE_OK) return rc;
    }
    memcpy(ino->data + offset, data, len);
    return HRE_OK;
}

static int mem_append(void *self, void *file, uint64_t *offset, const void *data, size_t len)
{
    mem_inode *ino = ((mem_file *)file)->ino;
    uint64_t off = ino->size;
    int rc = mem_write(self, file, off, data, len);
    if (rc == HRE_OK) *offset = off;
    return rc;
}

static int mem_sync(void *self, void *file)
{
    (void)self;
    (void)file;
    return HRE_OK;
}

static int mem_size(void *self, void *file, uint64_t *size)
{
    (void)self;
    *size = ((mem_file *)file)->ino->size;
    return HRE_OK;
}

static int mem_truncate(void *self, void *file, uint64_t size)
{
    return mem_resize(self, ((mem_file *)file)->ino, size);
}

static int mem_rename(void *self, const char *from, const char *to)
{
    mem_state *st = self;
    size_t fi, ti;
    mem_entry *f = mem_find(st, from, &fi);
    if (!f) return hre__fail(HRE_ENOTFOUND, "memory storage: rename '%s': no such file", from);
    if (mem_find(st, to, &ti)) {
        mem_drop_entry(st, ti);
        /* dropping may have moved `from` into slot ti */
        f = mem_find(st, from, &fi);
    }
    strcpy(f->name, to);
    return HRE_OK;
}

static int mem_remove(void *self, const char *name)
{
    mem_state *st = self;
    size_t idx;
    if (!mem_find(st, name, &idx))
        return hre__fail(HRE_ENOTFOUND, "memory storage: remove '%s': no such file", name);
    mem_drop_entry(st, idx);
    return HRE_OK;
}

static int mem_list(void *self, hre_storage_list_cb cb, void *cb_arg)
{
    mem_state *st = self;
    size_t i;
    for (i = 0; i < st->n; i++) {
        int r = cb(cb_arg, st->ents[i].name);
        if (r != 0) return r;
    }
    return HRE_OK;
}

static int mem_sync_dir(void *self)
{
    (void)self;
    return HRE_OK;
}

static int mem_control(void *self, void *file, int op, void *arg)
{
    mem_state *st = self;
    (void)file;
    if (op == HRE_STORAGE_CTL_BACKEND_NAME || op == HRE_STORAGE_CTL_SECTOR_SIZE ||
        op == HRE_STORAGE_CTL_BYTES_USED) {
        if (!arg) return hre__fail(HRE_EINVAL, "memory storage: control: NULL arg");
    }
    switch (op) {
    case HRE_STORAGE_CTL_BACKEND_NAME: *(const char **)arg = "memory"; return HRE_OK;
    case HRE_STORAGE_CTL_SECTOR_SIZE: *(uint32_t *)arg = 512; return HRE_OK;
    case HRE_STORAGE_CTL_BYTES_USED: *(uint64_t *)arg = st->used; return HRE_OK;
    default:
        return hre__fail(HRE_EUNSUPPORTED, "memory storage: control op %d not supported", op);
    }
}

static void mem_destroy(void *self)
{
    mem_state *st = self;
    if (!st) return;
    while (st->n > 0) mem_drop_entry(st, st->n - 1);
    hre__free(st->ents);
    hre__free(st);
}

static const hre_storage_methods mem_methods = {
    HRE_STORAGE_VERSION,
    mem_open, mem_close, mem_read, mem_append, mem_write, mem_sync, mem_size, mem_truncate,
    mem_rename, mem_remove, mem_list, mem_sync_dir, mem_control, mem_destroy,
};

HRE_API int hre_storage_memory_new(hre_storage **out, uint64_t max_bytes)
{
    HRE__API_SCOPE;
    mem_state *st;
    if (out) *out = NULL;
    HRE__CHECK_ARG(out != NULL);
    st = hre__calloc(1, sizeof *st);
    if (!st) return hre__fail(HRE_ENOMEM, "memory storage: out of memory");
    st->max_bytes = max_bytes;
    return hre__api_done(hre_storage__new_builtin(out, &mem_methods, st));
}
