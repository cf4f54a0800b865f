/*
 * Atomic whole-file replacement (snapshots): write "<name>.tmp", sync it,
 * close it, rename it over <name>, sync the directory (PROTOCOL.md 6.4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/internal.h"

struct hre_storage__atomic {
    hre_storage *s;
    hre_storage_file *f;
    uint64_t off;
    int failed;
    char name[HRE_STORAGE_NAME_MAX + 1];
    char tmp[HRE_STORAGE_NAME_MAX + 1];
};

static int ends_with_tmp(const char *name)
{
    size_t n = strlen(name), k = strlen(HRE_STORAGE__TMP_SUFFIX);
    return n >= k && strcmp(name + n - k, HRE_STORAGE__TMP_SUFFIX) == 0;
}

/* Keep the first error's detail message across best-effort cleanup calls. */
typedef struct saved_err {
    int code;
    char detail[256];
} saved_err;

static void save_err(saved_err *e)
{
    e->code = hre_error_last();
    snprintf(e->detail, sizeof e->detail, "%s", hre_error_detail());
}

static void restore_err(const saved_err *e)
{
    (void)hre__fail(e->code, "%s", e->detail);
}

int hre_storage__atomic_begin(hre_storage__atomic **out, hre_storage *s, const char *name)
{
    hre_storage__atomic *w;
    int rc;

    if (out) *out = NULL;
    HRE__CHECK_ARG(out != NULL && s != NULL);
    if (!hre_storage_name_valid(name) || strlen(name) > HRE_STORAGE__ATOMIC_NAME_MAX ||
        ends_with_tmp(name))
        return hre__fail(HRE_EINVAL, "atomic write: invalid target name (valid storage name "
                         "of at most %d bytes, not ending in \".tmp\")",
                         HRE_STORAGE__ATOMIC_NAME_MAX);
    w = hre__calloc(1, sizeof *w);
    if (!w) return hre__fail(HRE_ENOMEM, "atomic write: out of memory");
    w->s = s;
    strcpy(w->name, name);
    snprintf(w->tmp, sizeof w->tmp, "%s%s", name, HRE_STORAGE__TMP_SUFFIX);
    /* Not EXCLUSIVE: a stale temp file from an interrupted write is reused. */
    rc = hre_storage_file_open(&w->f, s, w->tmp, HRE_STORAGE_READ | HRE_STORAGE_WRITE |
                               HRE_STORAGE_CREATE | HRE_STORAGE_TRUNCATE);
    if (rc != HRE_OK) {
        hre__free(w);
        return rc;
    }
    *out = w;
    return HRE_OK;
}

int hre_storage__atomic_write(hre_storage__atomic *w, const void *data, size_t len)
{
    int rc;
    HRE__CHECK_ARG(w != NULL && (data != NULL || len == 0));
    if (w->failed) return hre__fail(HRE_ESTATE, "atomic write: an earlier write failed");
    if (len == 0) return HRE_OK;
    rc = hre_storage_file_write(w->f, w->off, data, len);
    if (rc != HRE_OK) {
        w->failed = 1;
        return rc;
    }
    w->off += len;
    return HRE_OK;
}

void hre_storage__atomic_abort(hre_storage__atomic *w)
{
    saved_err e;
    if (!w) return;
    save_err(&e);
    (void)hre_storage_file_close(w->f);
    (void)hre_storage_remove(w->s, w->tmp);
    restore_err(&e);
    hre__free(w);
}

int hre_storage__atomic_commit(hre_storage__atomic *w)
{
    hre_storage_file *f;
    int rc;
    HRE__CHECK_ARG(w != NULL);
    if (w->failed) {
        rc = hre__fail(HRE_ESTATE, "atomic write of '%s': an earlier write failed", w->name);
        hre_storage__atomic_abort(w);
        return rc;
    }
    if ((rc = hre_storage_file_sync(w->f)) != HRE_OK) {
        hre_storage__atomic_abort(w);
        return rc;
    }
    f = w->f;
    w->f = NULL;
    if ((rc = hre_storage_file_close(f)) != HRE_OK) {
        hre_storage__atomic_abort(w);
        return rc;
    }
    if ((rc = hre_storage_rename(w->s, w->tmp, w->name)) != HRE_OK) {
        hre_storage__atomic_abort(w);
        return rc;
    }
    /* The new file is in place; make the rename durable. If this fails the
     * rename may or may not survive a power loss, but either state is whole. */
    rc = hre_storage_sync_dir(w->s);
    hre__free(w);
    return rc;
}

int hre_storage__write_file_atomic(hre_storage *s, const char *name, const void *data,
                                   size_t len)
{
    hre_storage__atomic *w = NULL;
    int rc = hre_storage__atomic_begin(&w, s, name);
    if (rc != HRE_OK) return rc;
    if ((rc = hre_storage__atomic_write(w, data, len)) != HRE_OK) {
        hre_storage__atomic_abort(w);
        return rc;
    }
    return hre_storage__atomic_commit(w);
}

struct tmp_list {
    char (*names)[HRE_STORAGE_NAME_MAX + 1];
    size_t n, cap;
};

static int collect_tmp(void *arg, const char *name)
{
    struct tmp_list *l = arg;
    if (!ends_with_tmp(name)) return 0;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        void *nn = hre__realloc(l->names, ncap * sizeof *l->names);
        if (!nn) return hre__fail(HRE_ENOMEM, "remove temps: out of memory");
        l->names = nn;
        l->cap = ncap;
    }
    strcpy(l->names[l->n++], name);
    return 0;
}

int hre_storage__remove_temps(hre_storage *s, size_t *removed)
{
    struct tmp_list l;
    size_t i;
    int rc;
    if (removed) *removed = 0;
    HRE__CHECK_ARG(s != NULL);
    memset(&l, 0, sizeof l);
    rc = hre_storage_list(s, collect_tmp, &l);
    for (i = 0; rc == HRE_OK && i < l.n; i++) {
        rc = hre_storage_remove(s, l.names[i]);
        if (rc == HRE_ENOTFOUND) rc = HRE_OK;
        if (rc == HRE_OK && removed) (*removed)++;
    }
    if (rc == HRE_OK && l.n > 0) rc = hre_storage_sync_dir(s);
    hre__free(l.names);
    return rc;
}
