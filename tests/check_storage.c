/*
 * Storage: the vtable contract (one conformance suite run against the POSIX
 * backend in a temporary directory and the memory backend), version and
 * argument checks, host backends; and, white-box, the record framing, the
 * log recovery scan, atomic writes, the power-loss backend (a scripted log
 * workload cut at every sync point and at 200 random calls, then recovered),
 * fault injection at every call, and allocation failures.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hre/hre.h>
#include <hre/sys/storage.h>

#include "testutil.h"
#include <hre/sys/powerloss.h>
#ifdef HRE_WHITEBOX
#include <zlib.h>
#include "core/internal.h"
#include "storage/internal.h"
#endif

/* ------------------------------------------------------------------------ */
/* Fixtures and helpers                                                      */
/* ------------------------------------------------------------------------ */

static char g_base[256];

static void rm_rf(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    if (!d) {
        unlink(path);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        char sub[1024];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) rm_rf(sub);
        else unlink(sub);
    }
    closedir(d);
    rmdir(path);
}

/* Unchecked fixture (runs in the parent process, also when a test fails):
 * one base directory per test case, removed afterwards. */
static void base_setup(void)
{
    strcpy(g_base, "/tmp/hre-storage-XXXXXX");
    if (!mkdtemp(g_base)) {
        perror("mkdtemp");
        abort();
    }
}

static void base_teardown(void)
{
    rm_rf(g_base);
}

static void new_dir(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/d-XXXXXX", g_base);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

enum { BK_POSIX = 0, BK_MEMORY = 1, BK_COUNT = 2 };

static hre_storage *bk_open(int kind, char *dir, size_t cap)
{
    hre_storage *s = NULL;
    if (kind == BK_POSIX) {
        new_dir(dir, cap);
        HRE_T_OK(hre_storage_posix_open(&s, dir, NULL));
    } else {
        dir[0] = '\0';
        HRE_T_OK(hre_storage_memory_new(&s, 0));
    }
    ck_assert_ptr_nonnull(s);
    return s;
}

static const char *bk_name(int kind)
{
    return kind == BK_POSIX ? "posix" : "memory";
}

static void put_file(hre_storage *s, const char *name, const void *data, size_t len)
{
    hre_storage_file *f = NULL;
    HRE_T_OK(hre_storage_file_open(&f, s, name, HRE_STORAGE_WRITE | HRE_STORAGE_CREATE |
                                           HRE_STORAGE_TRUNCATE));
    if (len) HRE_T_OK(hre_storage_file_write(f, 0, data, len));
    HRE_T_OK(hre_storage_file_sync(f));
    HRE_T_OK(hre_storage_file_close(f));
}

/* Whole content of name (malloc'd, caller frees); NULL + *rc on failure. */
static uint8_t *get_file(hre_storage *s, const char *name, size_t *len, int *rc)
{
    hre_storage_file *f = NULL;
    uint64_t size = 0;
    uint8_t *buf;
    size_t got = 0;
    *len = 0;
    *rc = hre_storage_file_open(&f, s, name, HRE_STORAGE_READ);
    if (*rc != HRE_OK) return NULL;
    HRE_T_OK(hre_storage_file_size(f, &size));
    buf = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(buf);
    HRE_T_OK(hre_storage_file_read(f, buf, (size_t)size + 1, &got, 0));
    ck_assert_uint_eq(got, size);
    ck_assert_uint_eq(buf[size], 0);    /* short read zero-fills */
    HRE_T_OK(hre_storage_file_close(f));
    *len = (size_t)size;
    return buf;
}

static void assert_content(hre_storage *s, const char *name, const void *data, size_t len)
{
    size_t got;
    int rc;
    uint8_t *buf = get_file(s, name, &got, &rc);
    ck_assert_msg(rc == HRE_OK, "open %s: %d (%s)", name, rc, hre_error_detail());
    ck_assert_uint_eq(got, len);
    ck_assert(len == 0 || memcmp(buf, data, len) == 0);
    free(buf);
}

static void assert_missing(hre_storage *s, const char *name)
{
    hre_storage_file *f = (hre_storage_file *)1;
    ck_assert_int_eq(hre_storage_file_open(&f, s, name, HRE_STORAGE_READ), HRE_ENOTFOUND);
    ck_assert_ptr_null(f);
}

/* ------------------------------------------------------------------------ */
/* Conformance: every test runs on the POSIX and the memory backend          */
/* ------------------------------------------------------------------------ */

START_TEST(test_open_flags)
{
    char dir[512];
    hre_storage *s = bk_open(_i, dir, sizeof dir);
    hre_storage_file *f = NULL, *g = NULL;
    uint64_t size = 1;

    /* missing file without CREATE */
    assert_missing(s, "a.dat");
    ck_assert_int_eq(hre_storage_file_open(&f, s, "a.dat", HRE_STORAGE_READ |
                                           HRE_STORAGE_WRITE), HRE_ENOTFOUND);
    ck_assert(strlen(hre_error_detail()) > 0);
    /* invalid flag combinations */
    ck_assert_int_eq(hre_storage_file_open(&f, s, "a.dat", 0), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_file_open(&f, s, "a.dat", HRE_STORAGE_READ |
                                           HRE_STORAGE_CREATE), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_file_open(&f, s, "a.dat", HRE_STORAGE_READ |
                                           HRE_STORAGE_TRUNCATE), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_file_open(&f, s, "a.dat", HRE_STORAGE_WRITE |
                                           HRE_STORAGE_EXCLUSIVE), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_file_open(&f, s, "a.dat", HRE_STORAGE_WRITE | 0x100u),
                     HRE_EINVAL);
    ck_assert_int_eq(hre_storage_file_open(NULL, s, "a.dat", HRE_STORAGE_READ), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_file_open(&f, NULL, "a.dat", HRE_STORAGE_READ), HRE_EINVAL);
    ck_assert_ptr_null(f);
    assert_missing(s, "a.dat");

    /* create: new and empty */
    HRE_T_OK(hre_storage_file_open(&f, s, "a.dat", HRE_STORAGE_READ | HRE_STORAGE_WRITE |
                                           HRE_STORAGE_CREATE));
    HRE_T_OK(hre_storage_file_size(f, &size));
    ck_assert_uint_eq(size, 0);
    HRE_T_OK(hre_storage_file_write(f, 0, "hello", 5));
    HRE_T_OK(hre_storage_file_sync(f));
    HRE_T_OK(hre_storage_file_close(f));
    /* exclusive create of an existing file */
    f = (hre_storage_file *)1;
    ck_assert_int_eq(hre_storage_file_open(&f, s, "a.dat", HRE_STORAGE_WRITE | HRE_STORAGE_CREATE |
                                           HRE_STORAGE_EXCLUSIVE), HRE_EEXISTS);
    ck_assert_ptr_null(f);
    /* CREATE on an existing file keeps it */
    HRE_T_OK(hre_storage_file_open(&f, s, "a.dat", HRE_STORAGE_WRITE |
                                           HRE_STORAGE_CREATE));
    HRE_T_OK(hre_storage_file_close(f));
    assert_content(s, "a.dat", "hello", 5);
    /* the same file open twice for reading */
    HRE_T_OK(hre_storage_file_open(&f, s, "a.dat", HRE_STORAGE_READ));
    HRE_T_OK(hre_storage_file_open(&g, s, "a.dat", HRE_STORAGE_READ));
    HRE_T_OK(hre_storage_file_close(g));
    HRE_T_OK(hre_storage_file_close(f));
    /* TRUNCATE empties it */
    HRE_T_OK(hre_storage_file_open(&f, s, "a.dat", HRE_STORAGE_WRITE |
                                           HRE_STORAGE_TRUNCATE));
    HRE_T_OK(hre_storage_file_size(f, &size));
    ck_assert_uint_eq(size, 0);
    HRE_T_OK(hre_storage_file_close(f));
    assert_content(s, "a.dat", "", 0);
    /* exclusive create of a new file */
    HRE_T_OK(hre_storage_file_open(&f, s, "b.dat", HRE_STORAGE_WRITE | HRE_STORAGE_CREATE |
                                           HRE_STORAGE_EXCLUSIVE));
    HRE_T_OK(hre_storage_file_close(f));
    HRE_T_OK(hre_storage_file_close(NULL));
    hre_storage_free(s);
    hre_storage_free(NULL);
}
END_TEST

START_TEST(test_names)
{
    static const char *bad[] = {
        "", ".", "..", "a/b", "../x", "x/..", "/abs", ".hidden", "a..b", "a b", "a\\b",
        "tab\there", "caf\xc3\xa9", "a:b", "a*", "new\nline", "..x", "x..",
    };
    static const char *good[] = {"a", "seg-000001.dat", "A_b.c-9", "x.y.z", "-", "_", "a.", "1"};
    char dir[512], longest[HRE_STORAGE_NAME_MAX + 2];
    hre_storage *s = bk_open(_i, dir, sizeof dir);
    hre_storage_file *f = NULL;
    size_t i;

    memset(longest, 'n', HRE_STORAGE_NAME_MAX);
    longest[HRE_STORAGE_NAME_MAX] = '\0';
    ck_assert_int_eq(hre_storage_name_valid(longest), 1);
    ck_assert_int_eq(hre_storage_name_valid(NULL), 0);
    for (i = 0; i < sizeof good / sizeof *good; i++) {
        ck_assert_msg(hre_storage_name_valid(good[i]), "good name '%s' rejected", good[i]);
        put_file(s, good[i], good[i], strlen(good[i]));
        assert_content(s, good[i], good[i], strlen(good[i]));
    }
    put_file(s, longest, "L", 1);
    assert_content(s, longest, "L", 1);
    longest[HRE_STORAGE_NAME_MAX] = 'n';
    longest[HRE_STORAGE_NAME_MAX + 1] = '\0';
    ck_assert_int_eq(hre_storage_name_valid(longest), 0);
    ck_assert_int_eq(hre_storage_file_open(&f, s, longest, HRE_STORAGE_WRITE | HRE_STORAGE_CREATE),
                     HRE_EINVAL);
    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_msg(!hre_storage_name_valid(bad[i]), "bad name '%s' accepted", bad[i]);
        ck_assert_int_eq(hre_storage_file_open(&f, s, bad[i], HRE_STORAGE_WRITE |
                                               HRE_STORAGE_CREATE), HRE_EINVAL);
        ck_assert_ptr_null(f);
        ck_assert_int_eq(hre_storage_rename(s, "a", bad[i]), HRE_EINVAL);
        ck_assert_int_eq(hre_storage_rename(s, bad[i], "a"), HRE_EINVAL);
        ck_assert_int_eq(hre_storage_remove(s, bad[i]), HRE_EINVAL);
    }
    ck_assert_int_eq(hre_storage_file_open(&f, s, NULL, HRE_STORAGE_READ), HRE_EINVAL);
    /* nothing escaped the directory */
    if (_i == BK_POSIX) {
        char p[1024];
        struct stat st;
        snprintf(p, sizeof p, "%s/../x", dir);
        ck_assert_int_ne(stat(p, &st), 0);
    }
    assert_content(s, "a", "a", 1);
    hre_storage_free(s);
}
END_TEST

START_TEST(test_read_write_short_read)
{
    char dir[512];
    hre_storage *s = bk_open(_i, dir, sizeof dir);
    hre_storage_file *f = NULL, *ro = NULL, *wo = NULL;
    uint8_t buf[64];
    size_t got = 99;
    uint64_t off = 99, size = 0;

    HRE_T_OK(hre_storage_file_open(&f, s, "f", HRE_STORAGE_READ | HRE_STORAGE_WRITE |
                                           HRE_STORAGE_CREATE));
    /* read of an empty file: short read of 0, zero-filled */
    memset(buf, 0xAA, sizeof buf);
    HRE_T_OK(hre_storage_file_read(f, buf, 10, &got, 0));
    ck_assert_uint_eq(got, 0);
    for (int i = 0; i < 10; i++) ck_assert_uint_eq(buf[i], 0);
    ck_assert_uint_eq(buf[10], 0xAA);   /* nothing past len touched */
    /* append returns offsets */
    HRE_T_OK(hre_storage_file_append(f, &off, "0123456789", 10));
    ck_assert_uint_eq(off, 0);
    HRE_T_OK(hre_storage_file_append(f, &off, "abcdef", 6));
    ck_assert_uint_eq(off, 10);
    HRE_T_OK(hre_storage_file_append(f, &off, "", 0));
    ck_assert_uint_eq(off, 16);
    HRE_T_OK(hre_storage_file_append(f, NULL, "z", 1));
    HRE_T_OK(hre_storage_file_size(f, &size));
    ck_assert_uint_eq(size, 17);
    /* full read */
    HRE_T_OK(hre_storage_file_read(f, buf, 17, &got, 0));
    ck_assert_uint_eq(got, 17);
    ck_assert(memcmp(buf, "0123456789abcdefz", 17) == 0);
    /* short read at the end: got < len and the rest is zero */
    memset(buf, 0xAA, sizeof buf);
    HRE_T_OK(hre_storage_file_read(f, buf, 20, &got, 12));
    ck_assert_uint_eq(got, 5);
    ck_assert(memcmp(buf, "cdefz", 5) == 0);
    for (int i = 5; i < 20; i++) ck_assert_uint_eq(buf[i], 0);
    /* read entirely past the end */
    memset(buf, 0xAA, sizeof buf);
    HRE_T_OK(hre_storage_file_read(f, buf, 8, &got, 1000));
    ck_assert_uint_eq(got, 0);
    for (int i = 0; i < 8; i++) ck_assert_uint_eq(buf[i], 0);
    /* zero-length read */
    HRE_T_OK(hre_storage_file_read(f, buf, 0, &got, 0));
    ck_assert_uint_eq(got, 0);
    /* overwrite in the middle */
    HRE_T_OK(hre_storage_file_write(f, 3, "XY", 2));
    HRE_T_OK(hre_storage_file_read(f, buf, 6, &got, 0));
    ck_assert(memcmp(buf, "012XY5", 6) == 0);
    /* write past the end: the gap reads as zeros */
    HRE_T_OK(hre_storage_file_write(f, 30, "END", 3));
    HRE_T_OK(hre_storage_file_size(f, &size));
    ck_assert_uint_eq(size, 33);
    memset(buf, 0xAA, sizeof buf);
    HRE_T_OK(hre_storage_file_read(f, buf, 16, &got, 17));
    ck_assert_uint_eq(got, 16);
    for (int i = 0; i < 13; i++) ck_assert_uint_eq(buf[i], 0);
    ck_assert(memcmp(buf + 13, "END", 3) == 0);
    /* truncate: shrink, then extend with zeros */
    HRE_T_OK(hre_storage_file_truncate(f, 4));
    HRE_T_OK(hre_storage_file_size(f, &size));
    ck_assert_uint_eq(size, 4);
    HRE_T_OK(hre_storage_file_truncate(f, 8));
    memset(buf, 0xAA, sizeof buf);
    HRE_T_OK(hre_storage_file_read(f, buf, 10, &got, 0));
    ck_assert_uint_eq(got, 8);
    ck_assert(memcmp(buf, "012X\0\0\0\0\0\0", 10) == 0);
    /* append after truncate goes to the new end */
    HRE_T_OK(hre_storage_file_append(f, &off, "q", 1));
    ck_assert_uint_eq(off, 8);
    /* ranges beyond 2^63-1 */
    ck_assert_int_eq(hre_storage_file_read(f, buf, 2, &got, HRE_STORAGE_SIZE_MAX), HRE_EINVAL);
    ck_assert_uint_eq(got, 0);
    ck_assert_int_eq(hre_storage_file_write(f, HRE_STORAGE_SIZE_MAX, "ab", 2), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_file_truncate(f, HRE_STORAGE_SIZE_MAX + 1), HRE_EINVAL);
    /* NULL arguments */
    ck_assert_int_eq(hre_storage_file_read(f, buf, 4, NULL, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_file_read(f, NULL, 4, &got, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_file_read(NULL, buf, 4, &got, 0), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_file_write(f, 0, NULL, 4), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_file_size(f, NULL), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_file_sync(NULL), HRE_EINVAL);
    HRE_T_OK(hre_storage_file_sync(f));
    HRE_T_OK(hre_storage_file_close(f));

    /* access modes are enforced */
    HRE_T_OK(hre_storage_file_open(&ro, s, "f", HRE_STORAGE_READ));
    ck_assert_int_eq(hre_storage_file_write(ro, 0, "x", 1), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_file_append(ro, NULL, "x", 1), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_file_truncate(ro, 0), HRE_EINVAL);
    HRE_T_OK(hre_storage_file_open(&wo, s, "f", HRE_STORAGE_WRITE));
    memset(buf, 0xAA, 4);
    ck_assert_int_eq(hre_storage_file_read(wo, buf, 4, &got, 0), HRE_EINVAL);
    for (int i = 0; i < 4; i++) ck_assert_uint_eq(buf[i], 0);   /* zeroed on error */
    HRE_T_OK(hre_storage_file_close(wo));
    HRE_T_OK(hre_storage_file_read(ro, buf, 9, &got, 0));
    ck_assert_uint_eq(got, 9);
    ck_assert(memcmp(buf, "012X\0\0\0\0q", 9) == 0);
    HRE_T_OK(hre_storage_file_close(ro));
    hre_storage_free(s);
}
END_TEST

START_TEST(test_rename_remove)
{
    char dir[512];
    hre_storage *s = bk_open(_i, dir, sizeof dir);
    hre_storage_file *old = NULL;
    uint8_t buf[16];
    size_t got;

    put_file(s, "target", "OLD", 3);
    put_file(s, "source", "NEW!", 4);
    /* a handle on the old target keeps the old content (built-in backends) */
    HRE_T_OK(hre_storage_file_open(&old, s, "target", HRE_STORAGE_READ));
    /* atomic replace */
    HRE_T_OK(hre_storage_rename(s, "source", "target"));
    HRE_T_OK(hre_storage_sync_dir(s));
    assert_content(s, "target", "NEW!", 4);
    assert_missing(s, "source");
    HRE_T_OK(hre_storage_file_read(old, buf, sizeof buf, &got, 0));
    ck_assert_uint_eq(got, 3);
    ck_assert(memcmp(buf, "OLD", 3) == 0);
    HRE_T_OK(hre_storage_file_close(old));
    /* rename to a fresh name */
    HRE_T_OK(hre_storage_rename(s, "target", "fresh"));
    assert_content(s, "fresh", "NEW!", 4);
    assert_missing(s, "target");
    /* missing source; onto itself */
    ck_assert_int_eq(hre_storage_rename(s, "nope", "x"), HRE_ENOTFOUND);
    assert_missing(s, "x");
    ck_assert_int_eq(hre_storage_rename(s, "fresh", "fresh"), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_rename(NULL, "a", "b"), HRE_EINVAL);
    /* remove: gone afterwards; removing again is ENOTFOUND */
    HRE_T_OK(hre_storage_file_open(&old, s, "fresh", HRE_STORAGE_READ));
    HRE_T_OK(hre_storage_remove(s, "fresh"));
    assert_missing(s, "fresh");
    ck_assert_int_eq(hre_storage_remove(s, "fresh"), HRE_ENOTFOUND);
    ck_assert_int_eq(hre_storage_remove(NULL, "fresh"), HRE_EINVAL);
    /* an open handle on a removed file still reads it (built-in backends) */
    HRE_T_OK(hre_storage_file_read(old, buf, 4, &got, 0));
    ck_assert_uint_eq(got, 4);
    ck_assert(memcmp(buf, "NEW!", 4) == 0);
    HRE_T_OK(hre_storage_file_close(old));
    /* re-create under the removed name */
    put_file(s, "fresh", "again", 5);
    assert_content(s, "fresh", "again", 5);
    HRE_T_OK(hre_storage_sync_dir(s));
    ck_assert_int_eq(hre_storage_sync_dir(NULL), HRE_EINVAL);
    hre_storage_free(s);
}
END_TEST

struct names {
    char n[16][HRE_STORAGE_NAME_MAX + 1];
    int count;
    int stop_after;
};

static int names_cb(void *arg, const char *name)
{
    struct names *l = arg;
    ck_assert(hre_storage_name_valid(name));
    ck_assert_int_lt(l->count, 16);
    strcpy(l->n[l->count++], name);
    if (l->stop_after && l->count == l->stop_after) return 7;
    return 0;
}

static int has_name(const struct names *l, const char *name)
{
    for (int i = 0; i < l->count; i++)
        if (strcmp(l->n[i], name) == 0) return 1;
    return 0;
}

START_TEST(test_list)
{
    static const char *files[] = {"a", "b.log", "seg-000001.dat", "snap.tmp", "Z"};
    char dir[512];
    hre_storage *s = bk_open(_i, dir, sizeof dir);
    struct names l;
    size_t i;

    memset(&l, 0, sizeof l);
    HRE_T_OK(hre_storage_list(s, names_cb, &l));
    ck_assert_int_eq(l.count, 0);
    for (i = 0; i < sizeof files / sizeof *files; i++) put_file(s, files[i], "x", 1);
    if (_i == BK_POSIX) {
        /* foreign entries in the directory are not storage files */
        char p[1024];
        int fd;
        snprintf(p, sizeof p, "%s/.hidden", dir);
        fd = open(p, O_CREAT | O_WRONLY, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
        snprintf(p, sizeof p, "%s/bad name", dir);
        fd = open(p, O_CREAT | O_WRONLY, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
        snprintf(p, sizeof p, "%s/subdir", dir);
        ck_assert_int_eq(mkdir(p, 0700), 0);
        /* a directory is not a file either */
        {
            hre_storage_file *f = NULL;
            ck_assert_int_eq(hre_storage_file_open(&f, s, "subdir", HRE_STORAGE_READ), HRE_EIO);
            ck_assert_int_eq(hre_storage_remove(s, "subdir"), HRE_EIO);
            ck_assert_int_eq(hre_storage_rename(s, "subdir", "other"), HRE_EIO);
        }
    }
    memset(&l, 0, sizeof l);
    HRE_T_OK(hre_storage_list(s, names_cb, &l));
    ck_assert_int_eq(l.count, (int)(sizeof files / sizeof *files));
    for (i = 0; i < sizeof files / sizeof *files; i++) ck_assert(has_name(&l, files[i]));
    /* the callback stops the listing with its own value */
    memset(&l, 0, sizeof l);
    l.stop_after = 2;
    ck_assert_int_eq(hre_storage_list(s, names_cb, &l), 7);
    ck_assert_int_eq(l.count, 2);
    /* removed files disappear from the listing */
    HRE_T_OK(hre_storage_remove(s, "b.log"));
    memset(&l, 0, sizeof l);
    HRE_T_OK(hre_storage_list(s, names_cb, &l));
    ck_assert_int_eq(l.count, (int)(sizeof files / sizeof *files) - 1);
    ck_assert(!has_name(&l, "b.log"));
    ck_assert_int_eq(hre_storage_list(s, NULL, &l), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_list(NULL, names_cb, &l), HRE_EINVAL);
    hre_storage_free(s);
}
END_TEST

START_TEST(test_control)
{
    char dir[512];
    hre_storage *s = bk_open(_i, dir, sizeof dir);
    hre_storage_file *f = NULL;
    const char *name = NULL;
    uint32_t sector = 0;

    HRE_T_OK(hre_storage_control(s, NULL, HRE_STORAGE_CTL_BACKEND_NAME, &name));
    ck_assert_str_eq(name, bk_name(_i));
    HRE_T_OK(hre_storage_control(s, NULL, HRE_STORAGE_CTL_SECTOR_SIZE, &sector));
    ck_assert_uint_ge(sector, 512);
    ck_assert_int_eq(hre_storage_control(s, NULL, 999, NULL), HRE_EUNSUPPORTED);
    ck_assert(strlen(hre_error_detail()) > 0);
    ck_assert_int_eq(hre_storage_control(s, NULL, HRE_STORAGE_CTL_USER + 1, NULL),
                     HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_storage_control(s, NULL, -5, NULL), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_storage_control(s, NULL, HRE_STORAGE_CTL_BACKEND_NAME, NULL),
                     HRE_EINVAL);
    HRE_T_OK(hre_storage_file_open(&f, s, "f", HRE_STORAGE_WRITE | HRE_STORAGE_CREATE));
    HRE_T_OK(hre_storage_control(s, f, HRE_STORAGE_CTL_SECTOR_SIZE, &sector));
    ck_assert_int_eq(hre_storage_control(s, f, 12345, NULL), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_storage_control(NULL, f, 1, NULL), HRE_EINVAL);
    {
        /* a file of another storage */
        hre_storage *o = NULL;
        HRE_T_OK(hre_storage_memory_new(&o, 0));
        ck_assert_int_eq(hre_storage_control(o, f, HRE_STORAGE_CTL_SECTOR_SIZE, &sector),
                         HRE_EINVAL);
        hre_storage_free(o);
    }
    HRE_T_OK(hre_storage_file_close(f));
    hre_storage_free(s);
}
END_TEST

/* Random writes/appends/truncates/reads checked against a plain buffer. */
START_TEST(test_random_model)
{
    char dir[512];
    hre_storage *s = bk_open(_i, dir, sizeof dir);
    hre_storage_file *f = NULL;
    enum { CAP = 8192 };
    static uint8_t model[CAP], buf[CAP], data[1024];
    size_t mlen = 0;

    hre_t_reseed(hre_t_seed() ^ (0x5707a6e0ULL + (uint64_t)_i));
    HRE_T_OK(hre_storage_file_open(&f, s, "rnd", HRE_STORAGE_READ | HRE_STORAGE_WRITE |
                                           HRE_STORAGE_CREATE));
    for (int step = 0; step < 400; step++) {
        uint64_t op = hre_t_rand_below(5);
        size_t len = 1 + (size_t)hre_t_rand_below(sizeof data);
        hre_t_rand_bytes(data, len);
        if (op == 0 && mlen + len <= CAP) {
            uint64_t off;
            HRE_T_OK(hre_storage_file_append(f, &off, data, len));
            ck_assert_uint_eq(off, mlen);
            memcpy(model + mlen, data, len);
            mlen += len;
        } else if (op == 1) {
            size_t at = (size_t)hre_t_rand_below(CAP - len);
            HRE_T_OK(hre_storage_file_write(f, at, data, len));
            if (at > mlen) memset(model + mlen, 0, at - mlen);
            memcpy(model + at, data, len);
            if (at + len > mlen) mlen = at + len;
        } else if (op == 2) {
            size_t to = (size_t)hre_t_rand_below(CAP);
            HRE_T_OK(hre_storage_file_truncate(f, to));
            if (to > mlen) memset(model + mlen, 0, to - mlen);
            mlen = to;
        } else {
            size_t at = (size_t)hre_t_rand_below(CAP), got;
            size_t n = 1 + (size_t)hre_t_rand_below(CAP - at);
            size_t want = at >= mlen ? 0 : (mlen - at < n ? mlen - at : n);
            HRE_T_OK(hre_storage_file_read(f, buf, n, &got, at));
            ck_assert_uint_eq(got, want);
            ck_assert(want == 0 || memcmp(buf, model + at, want) == 0);
            for (size_t k = want; k < n; k++) ck_assert_uint_eq(buf[k], 0);
        }
        if (step % 50 == 0) HRE_T_OK(hre_storage_file_sync(f));
    }
    HRE_T_OK(hre_storage_file_close(f));
    assert_content(s, "rnd", model, mlen);
    hre_storage_free(s);
}
END_TEST

START_TEST(test_free_with_open_files)
{
    char dir[512];
    hre_storage *s = bk_open(_i, dir, sizeof dir);
    hre_storage_file *a = NULL, *b = NULL;
    HRE_T_OK(hre_storage_file_open(&a, s, "a", HRE_STORAGE_WRITE | HRE_STORAGE_CREATE));
    HRE_T_OK(hre_storage_file_open(&b, s, "b", HRE_STORAGE_WRITE | HRE_STORAGE_CREATE));
    HRE_T_OK(hre_storage_file_write(a, 0, "data", 4));
    hre_storage_free(s);    /* closes both (valgrind: no leak) */
    if (_i == BK_POSIX) {
        /* the content reached the directory; reopen it */
        HRE_T_OK(hre_storage_posix_open(&s, dir, NULL));
        assert_content(s, "a", "data", 4);
        assert_content(s, "b", "", 0);
        hre_storage_free(s);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Versions, host backends, backend-specific behaviour                       */
/* ------------------------------------------------------------------------ */

typedef struct host_disk {
    hre_storage *inner;
    int destroyed;
    int bogus;          /* code every method returns when non-zero */
    int garbage_tail;   /* read leaves 0xEE after the bytes it read */
    int overreport;     /* read claims one byte more than asked */
    int calls;
} host_disk;

static int h_open(void *self, const char *name, unsigned int flags, void **file)
{
    host_disk *h = self;
    hre_storage_file *f = NULL;
    int rc;
    h->calls++;
    if (h->bogus) return h->bogus;
    rc = hre_storage_file_open(&f, h->inner, name, flags);
    *file = f;
    return rc;
}
static int h_close(void *self, void *file)
{
    ((host_disk *)self)->calls++;
    return hre_storage_file_close(file);
}
static int h_read(void *self, void *file, void *buf, size_t len, size_t *got, uint64_t off)
{
    host_disk *h = self;
    int rc;
    h->calls++;
    if (h->bogus) return h->bogus;
    rc = hre_storage_file_read(file, buf, len, got, off);
    if (rc == HRE_OK && h->garbage_tail) memset((uint8_t *)buf + *got, 0xEE, len - *got);
    if (rc == HRE_OK && h->overreport) *got = len + 1;
    return rc;
}
static int h_append(void *self, void *file, uint64_t *off, const void *d, size_t len)
{
    host_disk *h = self;
    h->calls++;
    if (h->bogus) return h->bogus;
    return hre_storage_file_append(file, off, d, len);
}
static int h_write(void *self, void *file, uint64_t off, const void *d, size_t len)
{
    host_disk *h = self;
    h->calls++;
    if (h->bogus) return h->bogus;
    return hre_storage_file_write(file, off, d, len);
}
static int h_sync(void *self, void *file)
{
    host_disk *h = self;
    h->calls++;
    if (h->bogus) return h->bogus;
    return hre_storage_file_sync(file);
}
static int h_size(void *self, void *file, uint64_t *size)
{
    host_disk *h = self;
    h->calls++;
    if (h->bogus) return h->bogus;
    return hre_storage_file_size(file, size);
}
static int h_truncate(void *self, void *file, uint64_t size)
{
    host_disk *h = self;
    h->calls++;
    if (h->bogus) return h->bogus;
    return hre_storage_file_truncate(file, size);
}
static int h_rename(void *self, const char *from, const char *to)
{
    host_disk *h = self;
    h->calls++;
    if (h->bogus) return h->bogus;
    return hre_storage_rename(h->inner, from, to);
}
static int h_remove(void *self, const char *name)
{
    host_disk *h = self;
    h->calls++;
    if (h->bogus) return h->bogus;
    return hre_storage_remove(h->inner, name);
}
static int h_list(void *self, hre_storage_list_cb cb, void *arg)
{
    host_disk *h = self;
    int rc;
    h->calls++;
    if (h->bogus) return h->bogus;
    /* a host may report foreign names; the library must skip them */
    if ((rc = cb(arg, "../etc/passwd")) != 0) return rc;
    if ((rc = cb(arg, ".lock")) != 0) return rc;
    return hre_storage_list(h->inner, cb, arg);
}
static int h_sync_dir(void *self)
{
    host_disk *h = self;
    h->calls++;
    if (h->bogus) return h->bogus;
    return hre_storage_sync_dir(h->inner);
}
static void h_destroy(void *self)
{
    ((host_disk *)self)->destroyed++;
}

static void host_methods(hre_storage_methods *m)
{
    HRE_T_OK(hre_storage_methods_init(m, HRE_STORAGE_VERSION));
    m->open = h_open;
    m->close = h_close;
    m->read = h_read;
    m->append = h_append;
    m->write = h_write;
    m->sync = h_sync;
    m->size = h_size;
    m->truncate = h_truncate;
    m->rename = h_rename;
    m->remove = h_remove;
    m->list = h_list;
    m->sync_dir = h_sync_dir;
    m->destroy = h_destroy;
}

/* The power-loss backend through the public API (hre/sys/powerloss.h), so
 * this also runs black-box against libhre.so: wrapped around a HOST
 * backend (hre_storage_new_custom), it loses unsynced data at the Nth sync,
 * on demand, and injects EIO / ENOSPC; the host's inner storage then holds
 * the post-crash state. */
START_TEST(test_powerloss_public_api)
{
    hre_storage_methods m;
    hre_storage *host = NULL, *pl = NULL;
    hre_storage_file *f = NULL;
    hre_powerloss_options o;
    hre_powerloss_stats st = HRE_POWERLOSS_STATS_INIT;
    host_disk h;
    uint64_t off;

    memset(&h, 0, sizeof h);
    HRE_T_OK(hre_storage_memory_new(&h.inner, 0));
    host_methods(&m);
    HRE_T_OK(hre_storage_new_custom(&host, &m, &h));
    put_file(host, "old", "kept", 4);                      /* durable before wrapping */

    /* 1. crash at the 2nd sync, DROP: only the first synced append survives */
    HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
    o.mode = HRE_POWERLOSS_DROP;
    o.crash_at_sync = 2;
    HRE_T_OK(hre_powerloss_new(&pl, host, &o));
    HRE_T_OK(hre_storage_file_open(&f, pl, "a", HRE_STORAGE_WRITE | HRE_STORAGE_CREATE));
    HRE_T_OK(hre_storage_file_append(f, &off, "one", 3));
    HRE_T_OK(hre_storage_file_sync(f));   /* sync 1 */
    ck_assert_int_eq(hre_storage_sync_dir(pl), HRE_EIO);  /* sync 2: the power goes */
    ck_assert_int_eq(hre_storage_file_append(f, &off, "two", 3), HRE_EIO);
    HRE_T_OK(hre_powerloss_stats_get(pl, &st));
    ck_assert_int_eq(st.crashed, 1);
    ck_assert_int_eq(st.crash_rc, HRE_OK);
    ck_assert_uint_eq(st.syncs, 2);
    ck_assert_int_eq(hre_powerloss_crash(pl), HRE_ESTATE); /* already off */
    (void)hre_storage_file_close(f);
    hre_storage_free(pl);
    /* "a" was created but never made durable by a sync_dir: DROP loses it */
    assert_missing(host, "a");
    assert_content(host, "old", "kept", 4);

    /* 2. crash on demand, KEEP: everything issued survives (a process kill) */
    HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
    o.mode = HRE_POWERLOSS_KEEP;
    HRE_T_OK(hre_powerloss_new(&pl, host, &o));
    HRE_T_OK(hre_storage_file_open(&f, pl, "b", HRE_STORAGE_WRITE | HRE_STORAGE_CREATE));
    HRE_T_OK(hre_storage_file_append(f, &off, "unsynced", 8));
    HRE_T_OK(hre_powerloss_crash(pl));
    (void)hre_storage_file_close(f);
    hre_storage_free(pl);
    assert_content(host, "b", "unsynced", 8);

    /* 3. DROP on demand: the unsynced append is gone, the synced file stays */
    HRE_T_OK(hre_powerloss_new(&pl, host, NULL));   /* NULL: DROP, no faults */
    HRE_T_OK(hre_storage_file_open(&f, pl, "b", HRE_STORAGE_WRITE));
    HRE_T_OK(hre_storage_file_append(f, &off, "-more", 5));
    HRE_T_OK(hre_powerloss_crash(pl));
    (void)hre_storage_file_close(f);
    hre_storage_free(pl);
    assert_content(host, "b", "unsynced", 8);

    /* 4. fault injection: the 3rd call fails with ENOSPC, then all works */
    HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
    o.fail_at_call = 3;
    o.fail_code = HRE_ENOSPC;
    HRE_T_OK(hre_powerloss_new(&pl, host, &o));
    HRE_T_OK(hre_storage_file_open(&f, pl, "c", HRE_STORAGE_WRITE | HRE_STORAGE_CREATE));
    HRE_T_OK(hre_storage_file_append(f, &off, "x", 1));          /* call 2 */
    ck_assert_int_eq(hre_storage_file_append(f, &off, "y", 1), HRE_ENOSPC);      /* call 3 */
    HRE_T_OK(hre_storage_file_append(f, &off, "z", 1));
    HRE_T_OK(hre_storage_file_sync(f));
    HRE_T_OK(hre_storage_file_close(f));
    HRE_T_OK(hre_powerloss_stats_get(pl, &st));
    ck_assert_uint_eq(st.failures, 1);
    ck_assert_int_eq(st.crashed, 0);
    hre_storage_free(pl);
    assert_content(host, "c", "xz", 2);

    /* 5. arguments and versions */
    ck_assert_int_eq(hre_powerloss_stats_get(host, &st), HRE_EINVAL);   /* not a power-loss storage */
    ck_assert_int_eq(hre_powerloss_crash(host), HRE_EINVAL);
    st.version = 0;
    ck_assert_int_eq(hre_powerloss_stats_get(host, &st), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_powerloss_stats_init(&st, 2), HRE_EUNSUPPORTED);
    o.version = 0;
    ck_assert_int_eq(hre_powerloss_new(&pl, host, &o), HRE_EUNSUPPORTED);
    ck_assert_ptr_null(pl);
    o.version = HRE_POWERLOSS_OPTIONS_VERSION;
    o.mode = 7;
    ck_assert_int_eq(hre_powerloss_new(&pl, host, &o), HRE_EINVAL);
    ck_assert_int_eq(hre_powerloss_new(&pl, NULL, NULL), HRE_EINVAL);
    ck_assert_int_eq(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION + 1), HRE_EUNSUPPORTED);
    hre_storage_free(host);
    ck_assert_int_eq(h.destroyed, 1);
    hre_storage_free(h.inner);
}
END_TEST

START_TEST(test_versions)
{
    hre_storage_methods m, zero;
    hre_storage_methods st = HRE_STORAGE_METHODS_INIT;
    hre_storage_posix_options po;
    hre_storage_posix_options pst = HRE_STORAGE_POSIX_OPTIONS_INIT;
    hre_storage *s = (hre_storage *)1;
    host_disk h;

    memset(&zero, 0, sizeof zero);
    ck_assert_uint_eq(st.version, HRE_STORAGE_VERSION);
    ck_assert_ptr_null(st.open);
    /* an unknown version writes nothing (its size is unknown) */
    memset(&m, 0x5a, sizeof m);
    ck_assert_int_eq(hre_storage_methods_init(&m, 0), HRE_EUNSUPPORTED);
    ck_assert_uint_eq(m.version, 0x5a5a5a5au);
    ck_assert_int_eq(hre_storage_methods_init(&m, HRE_STORAGE_VERSION + 1), HRE_EUNSUPPORTED);
    ck_assert_int_eq(hre_storage_methods_init(NULL, 1), HRE_EINVAL);
    memset(&m, 0x5a, sizeof m);
    HRE_T_OK(hre_storage_methods_init(&m, HRE_STORAGE_VERSION));
    ck_assert_uint_eq(m.version, HRE_STORAGE_VERSION);
    zero.version = HRE_STORAGE_VERSION;
    ck_assert(memcmp(&m, &zero, sizeof m) == 0);            /* every method zeroed */
    ck_assert_ptr_null(m.open);
    ck_assert_ptr_null(m.control);

    memset(&h, 0, sizeof h);
    HRE_T_OK(hre_storage_memory_new(&h.inner, 0));
    host_methods(&m);
    /* unknown versions are rejected, the host's self is not touched */
    m.version = 0;
    ck_assert_int_eq(hre_storage_new_custom(&s, &m, &h), HRE_EUNSUPPORTED);
    ck_assert_ptr_null(s);
    m.version = HRE_STORAGE_VERSION + 1;
    ck_assert_int_eq(hre_storage_new_custom(&s, &m, &h), HRE_EUNSUPPORTED);
    m.version = 0xffffffffu;
    ck_assert_int_eq(hre_storage_new_custom(&s, &m, &h), HRE_EUNSUPPORTED);
    ck_assert_int_eq(h.destroyed, 0);
    ck_assert_int_eq(h.calls, 0);
    /* required methods */
    m.version = HRE_STORAGE_VERSION;
    m.sync_dir = NULL;
    ck_assert_int_eq(hre_storage_new_custom(&s, &m, &h), HRE_EINVAL);
    m.sync_dir = h_sync_dir;
    m.read = NULL;
    ck_assert_int_eq(hre_storage_new_custom(&s, &m, &h), HRE_EINVAL);
    m.read = h_read;
    ck_assert_int_eq(hre_storage_new_custom(NULL, &m, &h), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_new_custom(&s, NULL, &h), HRE_EINVAL);

    /* posix options */
    ck_assert_uint_eq(pst.version, HRE_STORAGE_POSIX_OPTIONS_VERSION);
    memset(&po, 0x5a, sizeof po);
    ck_assert_int_eq(hre_storage_posix_options_init(&po, 0), HRE_EUNSUPPORTED);
    ck_assert_uint_eq(po.flags, 0x5a5a5a5au);               /* not written */
    ck_assert_int_eq(hre_storage_posix_options_init(&po, HRE_STORAGE_POSIX_OPTIONS_VERSION + 1),
                     HRE_EUNSUPPORTED);
    HRE_T_OK(hre_storage_posix_options_init(&po, HRE_STORAGE_POSIX_OPTIONS_VERSION));
    ck_assert_uint_eq(po.version, HRE_STORAGE_POSIX_OPTIONS_VERSION);
    ck_assert_uint_eq(po.flags, 0);
    po.version = 7;
    ck_assert_int_eq(hre_storage_posix_open(&s, "/tmp/never-created-hre", &po),
                     HRE_EUNSUPPORTED);
    hre_storage_free(h.inner);
}
END_TEST

START_TEST(test_host_backend)
{
    hre_storage_methods m;
    hre_storage *s = NULL;
    hre_storage_file *f = NULL;
    host_disk h;
    struct names l;
    uint8_t buf[8];
    size_t got;

    memset(&h, 0, sizeof h);
    HRE_T_OK(hre_storage_memory_new(&h.inner, 0));
    host_methods(&m);
    HRE_T_OK(hre_storage_new_custom(&s, &m, &h));
    /* the table was copied: changing it later has no effect */
    m.open = NULL;
    put_file(s, "one", "12345", 5);
    assert_content(s, "one", "12345", 5);
    ck_assert_int_gt(h.calls, 0);
    /* foreign names from the host's list are skipped */
    memset(&l, 0, sizeof l);
    HRE_T_OK(hre_storage_list(s, names_cb, &l));
    ck_assert_int_eq(l.count, 1);
    ck_assert_str_eq(l.n[0], "one");
    /* no control method: every op is unsupported */
    ck_assert_int_eq(hre_storage_control(s, NULL, HRE_STORAGE_CTL_BACKEND_NAME, &l),
                     HRE_EUNSUPPORTED);
    /* the core zero-fills short reads even if the host leaves garbage */
    h.garbage_tail = 1;
    HRE_T_OK(hre_storage_file_open(&f, s, "one", HRE_STORAGE_READ));
    HRE_T_OK(hre_storage_file_read(f, buf, 8, &got, 3));
    ck_assert_uint_eq(got, 2);
    ck_assert(memcmp(buf, "45\0\0\0\0\0\0", 8) == 0);
    h.garbage_tail = 0;
    /* claiming more bytes than asked is an I/O error, buffer zeroed */
    h.overreport = 1;
    ck_assert_int_eq(hre_storage_file_read(f, buf, 4, &got, 0), HRE_EIO);
    ck_assert_uint_eq(got, 0);
    ck_assert(memcmp(buf, "\0\0\0\0", 4) == 0);
    h.overreport = 0;
    /* backend error codes: allowed ones pass, others become HRE_EIO */
    h.bogus = HRE_ENOSPC;
    ck_assert_int_eq(hre_storage_file_append(f, NULL, "x", 1), HRE_EINVAL); /* read-only */
    ck_assert_int_eq(hre_storage_file_read(f, buf, 4, &got, 0), HRE_EIO);   /* ENOSPC on read */
    h.bogus = HRE_ENOTFOUND;
    ck_assert_int_eq(hre_storage_file_read(f, buf, 4, &got, 0), HRE_EIO);
    ck_assert(strstr(hre_error_detail(), "read") != NULL);
    h.bogus = HRE_EVERIFY;
    ck_assert_int_eq(hre_storage_file_sync(f), HRE_EIO);
    h.bogus = 42;
    {
        uint64_t sz = 7;
        ck_assert_int_eq(hre_storage_file_size(f, &sz), HRE_EIO);
        ck_assert_uint_eq(sz, 0);
    }
    ck_assert(strstr(hre_error_detail(), "size") != NULL);
    h.bogus = HRE_EIO;
    ck_assert_int_eq(hre_storage_file_read(f, buf, 4, &got, 0), HRE_EIO);
    ck_assert(strstr(hre_error_detail(), "one") != NULL);
    h.bogus = HRE_ENOSPC;
    ck_assert_int_eq(hre_storage_rename(s, "one", "two"), HRE_ENOSPC);
    h.bogus = HRE_ENOTFOUND;
    ck_assert_int_eq(hre_storage_rename(s, "one", "two"), HRE_ENOTFOUND);
    ck_assert_int_eq(hre_storage_remove(s, "one"), HRE_ENOTFOUND);
    h.bogus = HRE_EEXISTS;
    ck_assert_int_eq(hre_storage_remove(s, "one"), HRE_EIO);
    ck_assert_int_eq(hre_storage_sync_dir(s), HRE_EIO);
    ck_assert_int_eq(hre_storage_list(s, names_cb, &l), HRE_EIO);
    {
        hre_storage_file *g = (hre_storage_file *)1;
        ck_assert_int_eq(hre_storage_file_open(&g, s, "new", HRE_STORAGE_WRITE |
                                               HRE_STORAGE_CREATE | HRE_STORAGE_EXCLUSIVE),
                         HRE_EEXISTS);
        ck_assert_ptr_null(g);
    }
    h.bogus = 0;
    HRE_T_OK(hre_storage_file_close(f));
    ck_assert_int_eq(h.destroyed, 0);
    hre_storage_free(s);
    ck_assert_int_eq(h.destroyed, 1);
    hre_storage_free(h.inner);
}
END_TEST

START_TEST(test_posix_specific)
{
    char dir[512], nested[768], p[1024];
    hre_storage *s = NULL, *t = (hre_storage *)1;
    hre_storage_posix_options o;
    struct stat st;

    new_dir(dir, sizeof dir);
    /* missing parents are created */
    snprintf(nested, sizeof nested, "%s/one/two/three/", dir);
    HRE_T_OK(hre_storage_posix_open(&s, nested, NULL));
    snprintf(p, sizeof p, "%s/one/two/three", dir);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 077, 0);             /* 0700 (less any umask) */
    put_file(s, "f", "abc", 3);
    snprintf(p, sizeof p, "%s/one/two/three/f", dir);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_uint_eq(st.st_mode & 077, 0);         /* 0600: medical data, owner only */
    ck_assert_uint_ne(st.st_mode & 0600, 0);
    /* a second handle on a locked directory */
    ck_assert_int_eq(hre_storage_posix_open(&t, nested, NULL), HRE_ESTATE);
    ck_assert_ptr_null(t);
    HRE_T_OK(hre_storage_posix_options_init(&o, HRE_STORAGE_POSIX_OPTIONS_VERSION));
    o.flags = HRE_STORAGE_POSIX_NOLOCK;
    HRE_T_OK(hre_storage_posix_open(&t, nested, &o));
    assert_content(t, "f", "abc", 3);
    hre_storage_free(t);
    hre_storage_free(s);
    /* the lock goes with the handle */
    HRE_T_OK(hre_storage_posix_open(&s, nested, NULL));
    hre_storage_free(s);
    /* FULLSYNC and NOSYNC, custom modes */
    o.flags = HRE_STORAGE_POSIX_FULLSYNC;
    o.file_mode = 0640;
    HRE_T_OK(hre_storage_posix_open(&s, nested, &o));
    put_file(s, "g", "xyz", 3);
    snprintf(p, sizeof p, "%s/one/two/three/g", dir);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777 & ~0640u, 0);    /* never more than asked */
    hre_storage_free(s);
    o.flags = HRE_STORAGE_POSIX_NOSYNC;
    HRE_T_OK(hre_storage_posix_open(&s, nested, &o));
    assert_content(s, "g", "xyz", 3);
    hre_storage_free(s);
    /* bad arguments */
    o.flags = 0x80;
    ck_assert_int_eq(hre_storage_posix_open(&s, nested, &o), HRE_EINVAL);
    o.flags = 0;
    o.file_mode = 0100000;
    ck_assert_int_eq(hre_storage_posix_open(&s, nested, &o), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_posix_open(&s, "", NULL), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_posix_open(&s, NULL, NULL), HRE_EINVAL);
    ck_assert_int_eq(hre_storage_posix_open(NULL, nested, NULL), HRE_EINVAL);
    /* a path through a regular file cannot become a directory */
    snprintf(p, sizeof p, "%s/one/two/three/f/sub", dir);
    ck_assert_int_eq(hre_storage_posix_open(&s, p, NULL), HRE_EIO);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_memory_quota)
{
    hre_storage *s = NULL;
    hre_storage_file *f = NULL, *g = NULL;
    uint8_t big[600];
    uint64_t used = 0, size = 0;

    memset(big, 0x5a, sizeof big);
    HRE_T_OK(hre_storage_memory_new(&s, 1000));
    HRE_T_OK(hre_storage_file_open(&f, s, "a", HRE_STORAGE_WRITE | HRE_STORAGE_READ |
                                           HRE_STORAGE_CREATE));
    HRE_T_OK(hre_storage_file_append(f, NULL, big, 600));
    HRE_T_OK(hre_storage_file_open(&g, s, "b", HRE_STORAGE_WRITE | HRE_STORAGE_CREATE));
    ck_assert_int_eq(hre_storage_file_append(g, NULL, big, 500), HRE_ENOSPC);
    ck_assert(strlen(hre_error_detail()) > 0);
    /* all-or-error: nothing was written */
    HRE_T_OK(hre_storage_file_size(g, &size));
    ck_assert_uint_eq(size, 0);
    HRE_T_OK(hre_storage_file_write(g, 0, big, 400));
    HRE_T_OK(hre_storage_control(s, NULL, HRE_STORAGE_CTL_BYTES_USED, &used));
    ck_assert_uint_eq(used, 1000);
    ck_assert_int_eq(hre_storage_file_truncate(g, 401), HRE_ENOSPC);
    /* freeing space makes room again */
    HRE_T_OK(hre_storage_file_truncate(f, 100));
    HRE_T_OK(hre_storage_file_append(g, NULL, big, 500));
    /* removed but open: still counted until closed */
    HRE_T_OK(hre_storage_remove(s, "b"));
    HRE_T_OK(hre_storage_control(s, NULL, HRE_STORAGE_CTL_BYTES_USED, &used));
    ck_assert_uint_eq(used, 1000);
    HRE_T_OK(hre_storage_file_close(g));
    HRE_T_OK(hre_storage_control(s, NULL, HRE_STORAGE_CTL_BYTES_USED, &used));
    ck_assert_uint_eq(used, 100);
    /* files are capped at 1 GiB even without a quota */
    hre_storage_free(s);
    HRE_T_OK(hre_storage_memory_new(&s, 0));
    HRE_T_OK(hre_storage_file_open(&f, s, "a", HRE_STORAGE_WRITE | HRE_STORAGE_CREATE));
    ck_assert_int_eq(hre_storage_file_write(f, (uint64_t)1 << 40, "x", 1), HRE_ENOSPC);
    ck_assert_int_eq(hre_storage_file_truncate(f, (uint64_t)1 << 31), HRE_ENOSPC);
    ck_assert_int_eq(hre_storage_memory_new(NULL, 0), HRE_EINVAL);
    hre_storage_free(s);    /* f closed by free */
}
END_TEST

/* ------------------------------------------------------------------------ */
/* White-box: record framing, log recovery, atomic writes, power loss         */
/* ------------------------------------------------------------------------ */
#ifdef HRE_WHITEBOX

#define HDR HRE_STORAGE__REC_HDR

START_TEST(test_crc_and_record_vectors)
{
    uint8_t frame[64], exp[64];
    hre_storage__record rec;
    size_t n;

    ck_assert_uint_eq(hre_storage__crc32(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(hre_storage__crc32(hre_storage__crc32(0, "1234", 4), "56789", 5),
                      0xCBF43926u);
    ck_assert_uint_eq(hre_storage__crc32(0, NULL, 0), 0);
    /* byte-exact frames (PROTOCOL.md 6.3), computed independently */
    hre_storage__record_header(frame, "hello", 5, 0);
    memcpy(frame + HDR, "hello", 5);
    n = hre_t_unhex(exp, sizeof exp, "05000000aa4c73cd000000000000000068656c6c6f");
    ck_assert_uint_eq(n, HDR + 5);
    ck_assert(memcmp(frame, exp, n) == 0);
    hre_storage__record_header(frame, "abc", 3, 0x1234);
    memcpy(frame + HDR, "abc", 3);
    n = hre_t_unhex(exp, sizeof exp, "03000000059823b73412000000000000616263");
    ck_assert(memcmp(frame, exp, n) == 0);
    /* the CRC is zlib's crc32 over len ++ batch ++ payload */
    {
        uLong c = crc32(0L, Z_NULL, 0);
        c = crc32(c, frame, 4);
        c = crc32(c, frame + 8, 8 + 3);
        ck_assert_uint_eq((uint32_t)c, hre__le32(frame + 4));
    }
    /* decode */
    ck_assert_int_eq(hre_storage__record_decode(&rec, frame, n, 100), HRE_OK);
    ck_assert_uint_eq(rec.len, 3);
    ck_assert_uint_eq(rec.batch, 0x1234);
    ck_assert(memcmp(rec.payload, "abc", 3) == 0);
    ck_assert_int_eq(hre_storage__record_decode(&rec, frame, n + 5, 100), HRE_OK); /* trailing */
    ck_assert_int_eq(hre_storage__record_decode(&rec, frame, n - 1, 100), HRE_EDECODE);
    ck_assert_int_eq(hre_storage__record_decode(&rec, frame, 15, 100), HRE_EDECODE);
    ck_assert_int_eq(hre_storage__record_decode(&rec, frame, n, 2), HRE_ELIMIT);
    ck_assert_ptr_null(rec.payload);
    frame[HDR] ^= 1;
    ck_assert_int_eq(hre_storage__record_decode(&rec, frame, n, 100), HRE_ECORRUPT);
    /* an all-zero header is not a valid empty record */
    memset(frame, 0, HDR);
    ck_assert_int_eq(hre_storage__record_decode(&rec, frame, HDR, 100), HRE_ECORRUPT);
    /* a valid empty record */
    hre_storage__record_header(frame, NULL, 0, 0);
    ck_assert_int_eq(hre_storage__record_decode(&rec, frame, HDR, 100), HRE_OK);
    ck_assert_uint_eq(rec.len, 0);
}
END_TEST

/* The CRC detects every single-bit flip anywhere in a record. */
START_TEST(test_crc_every_bit_flip)
{
    enum { PL = 200 };
    uint8_t frame[HDR + PL], copy[HDR + PL];
    hre_storage__record rec;
    hre_t_reseed(hre_t_seed() ^ 0xb17f11bULL);
    for (int round = 0; round < 3; round++) {
        size_t len = round == 0 ? 0 : (size_t)(1 + hre_t_rand_below(PL));
        uint64_t batch = round == 2 ? hre_t_rand() : 0;
        hre_t_rand_bytes(frame + HDR, len);
        hre_storage__record_header(frame, frame + HDR, (uint32_t)len, batch);
        ck_assert_int_eq(hre_storage__record_decode(&rec, frame, HDR + len, PL), HRE_OK);
        for (size_t bit = 0; bit < (HDR + len) * 8; bit++) {
            int rc;
            memcpy(copy, frame, HDR + len);
            copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            rc = hre_storage__record_decode(&rec, copy, HDR + len, PL);
            ck_assert_msg(rc == HRE_ECORRUPT || rc == HRE_EDECODE || rc == HRE_ELIMIT,
                          "bit %zu flip accepted (rc %d)", bit, rc);
            /* and the log scanner never delivers it */
            {
                hre_storage__scan_info info;
                ck_assert_int_eq(hre_storage__log_scan_buf(copy, HDR + len, PL, NULL, NULL,
                                                           &info), HRE_OK);
                ck_assert_uint_eq(info.records, 0);
                ck_assert_int_eq(info.torn_tail, 1);
            }
        }
    }
}
END_TEST

/* Build a log image in memory: nb batches of records; returns the length
 * and fills offs[] with record offsets. */
static size_t build_log(uint8_t *img, size_t cap, const size_t *batch_sizes, int nb,
                        size_t rec_len, uint64_t *offs, int *nrec)
{
    size_t pos = 0;
    int k = 0;
    for (int b = 0; b < nb; b++) {
        uint64_t batch = pos;
        for (size_t r = 0; r < batch_sizes[b]; r++) {
            ck_assert_uint_le(pos + HDR + rec_len, cap);
            for (size_t i = 0; i < rec_len; i++) img[pos + HDR + i] = (uint8_t)(k * 13 + i);
            hre_storage__record_header(img + pos, img + pos + HDR, (uint32_t)rec_len, batch);
            offs[k++] = pos;
            pos += HDR + rec_len;
        }
    }
    *nrec = k;
    return pos;
}

static int stop_cb(void *arg, uint64_t off, const uint8_t *p, size_t len)
{
    int *n = arg;
    (void)off;
    (void)p;
    (void)len;
    return ++*n == 2 ? 99 : 0;
}

struct rec_count {
    uint64_t n;
    uint64_t last_off;
};

static int count_cb(void *arg, uint64_t off, const uint8_t *p, size_t len)
{
    struct rec_count *c = arg;
    (void)p;
    (void)len;
    c->n++;
    c->last_off = off;
    return 0;
}

START_TEST(test_log_scan_classification)
{
    static const size_t batches[] = {3, 2, 4};
    uint8_t img[4096], copy[4096];
    uint64_t offs[16];
    int nrec;
    size_t len = build_log(img, sizeof img, batches, 3, 40, offs, &nrec);
    hre_storage__scan_info info;
    struct rec_count c;

    ck_assert_int_eq(nrec, 9);
    /* clean */
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(hre_storage__log_scan_buf(img, len, 100, count_cb, &c, &info), HRE_OK);
    ck_assert_uint_eq(c.n, 9);
    ck_assert_uint_eq(info.records, 9);
    ck_assert_uint_eq(info.valid_end, len);
    ck_assert_int_eq(info.torn_tail, 0);
    /* empty */
    ck_assert_int_eq(hre_storage__log_scan_buf(img, 0, 100, NULL, NULL, &info), HRE_OK);
    ck_assert_uint_eq(info.records, 0);
    ck_assert_int_eq(info.torn_tail, 0);
    /* every truncation point: a torn tail cut at the last whole record */
    for (size_t cut = 0; cut < len; cut++) {
        int whole = 0;
        uint64_t end;
        while (whole < nrec && offs[whole] + HDR + 40 <= cut) whole++;
        end = whole == 0 ? 0 : offs[whole - 1] + HDR + 40;
        ck_assert_int_eq(hre_storage__log_scan_buf(img, cut, 100, NULL, NULL, &info), HRE_OK);
        ck_assert_uint_eq(info.records, (uint64_t)whole);
        ck_assert_uint_eq(info.valid_end, end);
        ck_assert_int_eq(info.torn_tail, end != cut);
    }
    /* damage in the last batch (records 5..8, unsynced): torn tail, even in
     * its middle (indistinguishable from a torn group commit) */
    for (int r = 5; r < 9; r++) {
        memcpy(copy, img, len);
        copy[offs[r] + HDR + 3] ^= 0x40;
        ck_assert_int_eq(hre_storage__log_scan_buf(copy, len, 100, NULL, NULL, &info), HRE_OK);
        ck_assert_uint_eq(info.records, (uint64_t)r);
        ck_assert_int_eq(info.torn_tail, 1);
        ck_assert_uint_eq(info.valid_end, offs[r]);
    }
    /* damage in a synced batch (a later batch exists): HRE_ECORRUPT */
    for (int r = 0; r < 5; r++) {
        for (int where = 0; where < 3; where++) {
            size_t at = offs[r] + (where == 0 ? 0 : where == 1 ? 6 : HDR + 20);
            memcpy(copy, img, len);
            copy[at] ^= 0x08;
            memset(&c, 0, sizeof c);
            ck_assert_int_eq(hre_storage__log_scan_buf(copy, len, 100, count_cb, &c, &info),
                             HRE_ECORRUPT);
            ck_assert_uint_eq(info.damage_at, offs[r]);
            ck_assert_uint_eq(c.n, (uint64_t)r);
            ck_assert_uint_gt(info.proof_at, offs[r]);
            ck_assert(strlen(hre_error_detail()) > 0);
        }
    }
    /* a zeroed stretch in a synced batch */
    memcpy(copy, img, len);
    memset(copy + offs[1], 0, HDR + 40);
    ck_assert_int_eq(hre_storage__log_scan_buf(copy, len, 100, NULL, NULL, &info), HRE_ECORRUPT);
    ck_assert_uint_eq(info.damage_at, offs[1]);
    /* garbage or zeros appended after a clean log: torn */
    memcpy(copy, img, len);
    memset(copy + len, 0, 300);
    ck_assert_int_eq(hre_storage__log_scan_buf(copy, len + 300, 100, NULL, NULL, &info), HRE_OK);
    ck_assert_int_eq(info.torn_tail, 1);
    ck_assert_uint_eq(info.valid_end, len);
    hre_t_reseed(hre_t_seed() ^ 0x6a4ba6eULL);
    hre_t_rand_bytes(copy + len, 300);
    ck_assert_int_eq(hre_storage__log_scan_buf(copy, len + 300, 100, NULL, NULL, &info), HRE_OK);
    ck_assert_int_eq(info.torn_tail, 1);
    /* whole records over the cap are reported, never cut as a torn tail */
    ck_assert_int_eq(hre_storage__log_scan_buf(img, len, 39, NULL, NULL, &info), HRE_ELIMIT);
    ck_assert_uint_eq(info.damage_at, 0);
    ck_assert_int_eq(info.torn_tail, 0);
    /* a CRC-valid record that breaks the batch rule */
    memcpy(copy, img, len);
    hre_storage__record_header(copy + offs[1], copy + offs[1] + HDR, 40, 7);
    ck_assert_int_eq(hre_storage__log_scan_buf(copy, len, 100, NULL, NULL, &info), HRE_ECORRUPT);
    ck_assert_uint_eq(info.damage_at, offs[1]);
    /* the callback stops the scan with its value */
    {
        int n = 0;
        ck_assert_int_eq(hre_storage__log_scan_buf(img, len, 100, stop_cb, &n, NULL), 99);
        ck_assert_int_eq(n, 2);
    }
    ck_assert_int_eq(hre_storage__log_scan_buf(NULL, 5, 100, NULL, NULL, NULL), HRE_EINVAL);
}
END_TEST

struct collected {
    uint64_t n;
    uint64_t off[64];
    size_t len[64];
    uint8_t first[64];
};

static int collect_cb(void *arg, uint64_t off, const uint8_t *p, size_t len)
{
    struct collected *c = arg;
    if (c->n < 64) {
        c->off[c->n] = off;
        c->len[c->n] = len;
        c->first[c->n] = len ? p[0] : 0;
    }
    c->n++;
    return 0;
}

START_TEST(test_log_file_roundtrip)
{
    char dir[512];
    hre_storage *s = bk_open(_i, dir, sizeof dir);
    hre_storage__log *log = NULL;
    hre_storage__scan_info info;
    struct collected c;
    /* payloads around the 64 KiB scan window, plus tiny and empty ones */
    static const size_t sizes[] = {0, 1, 100, 65536 - 16, 65536 - 15, 70000, 200000, 5};
    enum { N = sizeof sizes / sizeof *sizes };
    uint64_t offs[N];
    uint8_t *buf = malloc(200000), *back = malloc(200000);
    size_t got;
    int stop = 0;

    ck_assert_ptr_nonnull(buf);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(hre_storage__log_open(&log, s, "seg.log", 0, 1 << 20, NULL, NULL, &info),
                     HRE_ENOTFOUND);
    ck_assert_ptr_null(log);
    ck_assert_int_eq(hre_storage__log_open(&log, s, "seg.log", HRE_STORAGE__LOG_CREATE, 1 << 20,
                                           NULL, NULL, &info), HRE_OK);
    ck_assert_uint_eq(hre_storage__log_end(log), 0);
    for (size_t i = 0; i < N; i++) {
        memset(buf, (int)(0x30 + i), sizes[i]);
        ck_assert_int_eq(hre_storage__log_append(log, buf, sizes[i], &offs[i]), HRE_OK);
        if (i % 3 == 2) ck_assert_int_eq(hre_storage__log_sync(log), HRE_OK);
    }
    ck_assert_int_eq(hre_storage__log_sync(log), HRE_OK);
    ck_assert_uint_eq(hre_storage__log_synced(log), hre_storage__log_end(log));
    /* random access reads */
    for (size_t i = 0; i < N; i++) {
        ck_assert_int_eq(hre_storage__log_read(log, offs[i], back, 200000, &got), HRE_OK);
        ck_assert_uint_eq(got, sizes[i]);
        for (size_t k = 0; k < got; k++) ck_assert_uint_eq(back[k], 0x30 + i);
    }
    ck_assert_int_eq(hre_storage__log_read(log, offs[2], back, 99, &got), HRE_EBUFSIZE);
    ck_assert_uint_eq(got, 100);
    ck_assert_int_eq(hre_storage__log_read(log, offs[2] + 1, back, 200000, &got), HRE_ECORRUPT);
    ck_assert_int_eq(hre_storage__log_read(log, hre_storage__log_end(log), back, 200000, &got),
                     HRE_ECORRUPT);
    ck_assert_int_eq(hre_storage__record_read(hre_storage__log_file(log), offs[7], 1 << 20, back,
                                              10, &got), HRE_OK);
    ck_assert_uint_eq(got, 5);
    /* over the cap */
    ck_assert_int_eq(hre_storage__log_append(log, buf, (1 << 20) + 1, NULL), HRE_ELIMIT);
    ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);

    /* reopen: every record, in order, from the file scanner */
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(hre_storage__log_open(&log, s, "seg.log", 0, 1 << 20, collect_cb, &c, &info),
                     HRE_OK);
    ck_assert_uint_eq(c.n, N);
    for (size_t i = 0; i < N; i++) {
        ck_assert_uint_eq(c.off[i], offs[i]);
        ck_assert_uint_eq(c.len[i], sizes[i]);
        if (sizes[i]) ck_assert_uint_eq(c.first[i], 0x30 + i);
    }
    ck_assert_int_eq(info.torn_tail, 0);
    ck_assert_uint_eq(hre_storage__log_end(log), info.size);
    ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
    /* the callback stops the open with its value */
    ck_assert_int_eq(hre_storage__log_open(&log, s, "seg.log", 0, 1 << 20, stop_cb, &stop, NULL),
                     99);
    ck_assert_ptr_null(log);
    /* a cap below a stored record: reported, and the log is not cut */
    ck_assert_int_eq(hre_storage__log_open(&log, s, "seg.log", 0, 150000, NULL, NULL, &info),
                     HRE_ELIMIT);
    ck_assert_uint_eq(info.damage_at, offs[6]);
    ck_assert_int_eq(hre_storage__log_open(&log, s, "seg.log", 0, 1 << 20, NULL, NULL, &info),
                     HRE_OK);
    ck_assert_uint_eq(info.records, N);
    ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
    /* bad arguments */
    ck_assert_int_eq(hre_storage__log_open(&log, s, "seg.log", HRE_STORAGE__LOG_READONLY |
                                           HRE_STORAGE__LOG_CREATE, 100, NULL, NULL, NULL),
                     HRE_EINVAL);
    ck_assert_int_eq(hre_storage__log_open(&log, s, "seg.log", 0, 0, NULL, NULL, NULL),
                     HRE_EINVAL);
    ck_assert_int_eq(hre_storage__log_open(&log, s, "bad/name", HRE_STORAGE__LOG_CREATE, 100,
                                           NULL, NULL, NULL), HRE_EINVAL);
    free(buf);
    free(back);
    hre_storage_free(s);
}
END_TEST

/* File scan and memory scan agree on random damage of a multi-batch log. */
START_TEST(test_log_torn_tail_and_damage_on_file)
{
    char dir[512];
    hre_storage *s = bk_open(_i, dir, sizeof dir);
    hre_storage__log *log = NULL;
    hre_storage__scan_info info, minfo;
    hre_storage_file *f = NULL;
    uint8_t payload[300], *img;
    uint64_t size, offs[40], synced_end = 0;
    size_t got, ilen;
    int rc;

    hre_t_reseed(hre_t_seed() ^ 0x70a27a11ULL ^ (uint64_t)_i);
    ck_assert_int_eq(hre_storage__log_open(&log, s, "l", HRE_STORAGE__LOG_CREATE, 1000, NULL, NULL,
                                           NULL), HRE_OK);
    for (int i = 0; i < 40; i++) {
        memset(payload, i, sizeof payload);
        ck_assert_int_eq(hre_storage__log_append(log, payload, 10 + (size_t)i * 7, &offs[i]),
                         HRE_OK);
        if (i % 5 == 4 && i < 30) {
            ck_assert_int_eq(hre_storage__log_sync(log), HRE_OK);
            synced_end = hre_storage__log_end(log);
        }
    }
    /* records 30..39 are an unsynced batch; sync nothing more */
    ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
    img = get_file(s, "l", &ilen, &rc);
    ck_assert_int_eq(rc, HRE_OK);

    for (int round = 0; round < 60; round++) {
        size_t at = (size_t)hre_t_rand_below(ilen);
        int expect_corrupt = at < synced_end;
        uint8_t v = (uint8_t)(1 + hre_t_rand_below(255));
        put_file(s, "l", img, ilen);
        /* damage one byte through the storage API */
        HRE_T_OK(hre_storage_file_open(&f, s, "l", HRE_STORAGE_READ | HRE_STORAGE_WRITE));
        {
            uint8_t b;
            HRE_T_OK(hre_storage_file_read(f, &b, 1, &got, at));
            b ^= v;
            HRE_T_OK(hre_storage_file_write(f, at, &b, 1));
        }
        HRE_T_OK(hre_storage_file_close(f));
        {
            uint8_t *dam = get_file(s, "l", &got, &rc);
            ck_assert_int_eq(hre_storage__log_scan_buf(dam, got, 1000, NULL, NULL, &minfo),
                             expect_corrupt ? HRE_ECORRUPT : HRE_OK);
            free(dam);
        }
        rc = hre_storage__log_open(&log, s, "l", 0, 1000, NULL, NULL, &info);
        ck_assert_int_eq(info.records, minfo.records);
        ck_assert_int_eq(info.damage_at, minfo.damage_at);
        if (expect_corrupt) {
            ck_assert_int_eq(rc, HRE_ECORRUPT);
            ck_assert_ptr_null(log);
            /* nothing was cut */
            HRE_T_OK(hre_storage_file_open(&f, s, "l", HRE_STORAGE_READ));
            HRE_T_OK(hre_storage_file_size(f, &size));
            ck_assert_uint_eq(size, ilen);
            HRE_T_OK(hre_storage_file_close(f));
        } else {
            ck_assert_int_eq(rc, HRE_OK);
            ck_assert_int_eq(info.torn_tail, 1);
            ck_assert_uint_ge(info.records, 30);
            ck_assert_uint_le(info.valid_end, at);
            /* the tail is gone, appends continue, a reopen is clean */
            ck_assert_uint_eq(hre_storage__log_end(log), info.valid_end);
            ck_assert_int_eq(hre_storage__log_append(log, "new", 3, NULL), HRE_OK);
            ck_assert_int_eq(hre_storage__log_sync(log), HRE_OK);
            ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
            ck_assert_int_eq(hre_storage__log_open(&log, s, "l", HRE_STORAGE__LOG_READONLY, 1000,
                                                   NULL, NULL, &minfo), HRE_OK);
            ck_assert_uint_eq(minfo.records, info.records + 1);
            ck_assert_int_eq(minfo.torn_tail, 0);
            ck_assert_int_eq(hre_storage__log_append(log, "x", 1, NULL), HRE_ESTATE);
            ck_assert_int_eq(hre_storage__log_sync(log), HRE_ESTATE);
            ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
        }
    }
    /* read-only open reports a torn tail without cutting it */
    put_file(s, "l", img, ilen - 5);
    ck_assert_int_eq(hre_storage__log_open(&log, s, "l", HRE_STORAGE__LOG_READONLY, 1000, NULL,
                                           NULL, &info), HRE_OK);
    ck_assert_int_eq(info.torn_tail, 1);
    ck_assert_uint_eq(info.records, 39);
    ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
    HRE_T_OK(hre_storage_file_open(&f, s, "l", HRE_STORAGE_READ));
    HRE_T_OK(hre_storage_file_size(f, &size));
    ck_assert_uint_eq(size, ilen - 5);
    HRE_T_OK(hre_storage_file_close(f));
    free(img);
    hre_storage_free(s);
}
END_TEST

START_TEST(test_atomic_write)
{
    char dir[512];
    hre_storage *s = bk_open(_i, dir, sizeof dir);
    hre_storage__atomic *w = NULL;
    struct names l;
    size_t removed = 9;
    char name61[HRE_STORAGE_NAME_MAX + 1];

    ck_assert_int_eq(hre_storage__write_file_atomic(s, "snap", "version-1", 9), HRE_OK);
    assert_content(s, "snap", "version-1", 9);
    ck_assert_int_eq(hre_storage__write_file_atomic(s, "snap", "v2", 2), HRE_OK);
    assert_content(s, "snap", "v2", 2);
    assert_missing(s, "snap.tmp");
    ck_assert_int_eq(hre_storage__write_file_atomic(s, "empty", "", 0), HRE_OK);
    assert_content(s, "empty", "", 0);
    /* streaming, then abort: old content stays, no temp left */
    ck_assert_int_eq(hre_storage__atomic_begin(&w, s, "snap"), HRE_OK);
    ck_assert_int_eq(hre_storage__atomic_write(w, "part", 4), HRE_OK);
    hre_storage__atomic_abort(w);
    assert_content(s, "snap", "v2", 2);
    assert_missing(s, "snap.tmp");
    /* streaming commit */
    ck_assert_int_eq(hre_storage__atomic_begin(&w, s, "snap"), HRE_OK);
    ck_assert_int_eq(hre_storage__atomic_write(w, "abc", 3), HRE_OK);
    ck_assert_int_eq(hre_storage__atomic_write(w, "def", 3), HRE_OK);
    ck_assert_int_eq(hre_storage__atomic_commit(w), HRE_OK);
    assert_content(s, "snap", "abcdef", 6);
    /* names */
    memset(name61, 'a', 61);
    name61[61] = '\0';
    ck_assert_int_eq(hre_storage__atomic_begin(&w, s, name61), HRE_EINVAL);
    name61[60] = '\0';
    ck_assert_int_eq(hre_storage__write_file_atomic(s, name61, "x", 1), HRE_OK);
    ck_assert_int_eq(hre_storage__atomic_begin(&w, s, "x.tmp"), HRE_EINVAL);
    ck_assert_int_eq(hre_storage__atomic_begin(&w, s, "../x"), HRE_EINVAL);
    ck_assert_ptr_null(w);
    /* stale temps (from an interrupted write) are removed */
    put_file(s, "old.tmp", "junk", 4);
    put_file(s, "snap.tmp", "junk", 4);
    ck_assert_int_eq(hre_storage__remove_temps(s, &removed), HRE_OK);
    ck_assert_uint_eq(removed, 2);
    memset(&l, 0, sizeof l);
    HRE_T_OK(hre_storage_list(s, names_cb, &l));
    ck_assert_int_eq(l.count, 3);
    ck_assert(has_name(&l, "snap") && has_name(&l, "empty") && has_name(&l, name61));
    /* a stale temp does not block a new atomic write */
    put_file(s, "snap.tmp", "junkjunkjunk", 12);
    ck_assert_int_eq(hre_storage__write_file_atomic(s, "snap", "v4", 2), HRE_OK);
    assert_content(s, "snap", "v4", 2);
    hre_storage_free(s);
}
END_TEST

static hre_storage *pl_wrap(hre_storage *inner, int mode, uint64_t crash_at_sync, uint64_t seed)
{
    hre_powerloss_options o;
    hre_storage *pl = NULL;
    HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
    o.mode = mode;
    o.crash_at_sync = crash_at_sync;
    o.seed = seed;
    HRE_T_OK(hre_powerloss_new(&pl, inner, &o));
    return pl;
}

START_TEST(test_powerloss_model)
{
    hre_storage *mem = NULL, *pl;
    hre_storage_file *f = NULL;
    const char *bname = NULL;
    struct names l;

    /* synced writes survive, unsynced ones are dropped (DROP) */
    HRE_T_OK(hre_storage_memory_new(&mem, 0));
    put_file(mem, "pre", "existing", 8);          /* counts as durable */
    pl = pl_wrap(mem, HRE_POWERLOSS_DROP, 0, 1);
    HRE_T_OK(hre_storage_control(pl, NULL, HRE_STORAGE_CTL_BACKEND_NAME, &bname));
    ck_assert_str_eq(bname, "powerloss");
    HRE_T_OK(hre_storage_file_open(&f, pl, "pre", HRE_STORAGE_READ | HRE_STORAGE_WRITE));
    HRE_T_OK(hre_storage_file_append(f, NULL, "+synced", 7));
    HRE_T_OK(hre_storage_file_sync(f));
    HRE_T_OK(hre_storage_file_append(f, NULL, "+lost", 5));
    HRE_T_OK(hre_storage_file_write(f, 0, "EX", 2));
    HRE_T_OK(hre_storage_file_truncate(f, 3));
    /* a created file, synced, but its directory entry never synced */
    put_file(pl, "newfile", "data", 4);
    /* a rename and a remove never made durable */
    HRE_T_OK(hre_storage_rename(pl, "pre", "renamed"));
    assert_content(pl, "renamed", "EXi", 3);   /* the page-cache view */
    ck_assert_int_eq(hre_t_pl_crashed(pl), 0);
    HRE_T_OK(hre_powerloss_crash(pl));
    ck_assert_int_eq(hre_t_pl_crashed(pl), 1);
    /* every call fails after the crash; close still releases */
    ck_assert_int_eq(hre_storage_file_sync(f), HRE_EIO);
    ck_assert_int_eq(hre_storage_file_close(f), HRE_EIO);
    ck_assert_int_eq(hre_storage_sync_dir(pl), HRE_EIO);
    ck_assert_int_eq(hre_powerloss_crash(pl), HRE_ESTATE);
    hre_storage_free(pl);
    assert_content(mem, "pre", "existing+synced", 15);
    assert_missing(mem, "newfile");
    assert_missing(mem, "renamed");
    hre_storage_free(mem);

    /* the same with a sync_dir: namespace changes survive */
    HRE_T_OK(hre_storage_memory_new(&mem, 0));
    put_file(mem, "pre", "existing", 8);
    put_file(mem, "gone", "x", 1);
    pl = pl_wrap(mem, HRE_POWERLOSS_DROP, 0, 2);
    put_file(pl, "newfile", "data", 4);
    HRE_T_OK(hre_storage_rename(pl, "pre", "renamed"));
    HRE_T_OK(hre_storage_remove(pl, "gone"));
    HRE_T_OK(hre_storage_sync_dir(pl));
    /* written after: a created-but-not-dir-synced file and unsynced data */
    HRE_T_OK(hre_storage_file_open(&f, pl, "renamed", HRE_STORAGE_WRITE));
    HRE_T_OK(hre_storage_file_append(f, NULL, "!!", 2));
    HRE_T_OK(hre_storage_file_close(f));
    put_file(pl, "late", "z", 1);
    HRE_T_OK(hre_powerloss_crash(pl));
    hre_storage_free(pl);
    assert_content(mem, "newfile", "data", 4);
    assert_content(mem, "renamed", "existing", 8);
    assert_missing(mem, "pre");
    assert_missing(mem, "gone");
    assert_missing(mem, "late");
    memset(&l, 0, sizeof l);
    HRE_T_OK(hre_storage_list(mem, names_cb, &l));
    ck_assert_int_eq(l.count, 2);
    hre_storage_free(mem);

    /* KEEP: everything survives (a process kill) */
    HRE_T_OK(hre_storage_memory_new(&mem, 0));
    pl = pl_wrap(mem, HRE_POWERLOSS_KEEP, 0, 3);
    HRE_T_OK(hre_storage_file_open(&f, pl, "k", HRE_STORAGE_WRITE | HRE_STORAGE_CREATE));
    HRE_T_OK(hre_storage_file_append(f, NULL, "unsynced", 8));
    HRE_T_OK(hre_storage_rename(pl, "k", "k2"));
    HRE_T_OK(hre_powerloss_crash(pl));
    hre_storage_free(pl);   /* f closed by free */
    assert_content(mem, "k2", "unsynced", 8);
    hre_storage_free(mem);

    /* the crash at a chosen sync: that sync does not happen */
    HRE_T_OK(hre_storage_memory_new(&mem, 0));
    pl = pl_wrap(mem, HRE_POWERLOSS_DROP, 3, 4);
    HRE_T_OK(hre_storage_file_open(&f, pl, "s", HRE_STORAGE_WRITE | HRE_STORAGE_CREATE));
    HRE_T_OK(hre_storage_sync_dir(pl));                 /* sync 1 */
    HRE_T_OK(hre_storage_file_append(f, NULL, "one", 3));
    HRE_T_OK(hre_storage_file_sync(f));                 /* sync 2 */
    HRE_T_OK(hre_storage_file_append(f, NULL, "two", 3));
    ck_assert_int_eq(hre_storage_file_sync(f), HRE_EIO);                /* sync 3: power */
    ck_assert_uint_eq(hre_t_pl_syncs(pl), 3);
    ck_assert_int_eq(hre_t_pl_crashed(pl), 1);
    ck_assert_int_eq(hre_storage_file_append(f, NULL, "three", 5), HRE_EIO);
    hre_storage_free(pl);
    assert_content(mem, "s", "one", 3);
    hre_storage_free(mem);
    /* not a power-loss storage */
    HRE_T_OK(hre_storage_memory_new(&mem, 0));
    ck_assert_int_eq(hre_powerloss_crash(mem), HRE_EINVAL);
    ck_assert_uint_eq(hre_t_pl_calls(mem), 0);
    hre_storage_free(mem);
}
END_TEST

/* TEAR: an unsynced append after a synced prefix ends up lost, whole, or
 * torn, never touching the synced bytes; all outcomes occur across seeds. */
START_TEST(test_powerloss_tear_outcomes)
{
    uint8_t synced[700], add[1500];
    int lost = 0, whole = 0, torn = 0;
    for (int i = 0; i < (int)sizeof synced; i++) synced[i] = (uint8_t)(i * 7 + 1);
    for (int i = 0; i < (int)sizeof add; i++) add[i] = (uint8_t)(i * 11 + 3);
    for (uint64_t seed = 1; seed <= 200; seed++) {
        hre_storage *mem = NULL, *pl;
        hre_storage_file *f = NULL;
        uint8_t *got;
        size_t len;
        int rc;
        HRE_T_OK(hre_storage_memory_new(&mem, 0));
        put_file(mem, "t", synced, sizeof synced);
        pl = pl_wrap(mem, HRE_POWERLOSS_TEAR, 0, seed);
        HRE_T_OK(hre_storage_file_open(&f, pl, "t", HRE_STORAGE_WRITE));
        HRE_T_OK(hre_storage_file_append(f, NULL, add, sizeof add));
        HRE_T_OK(hre_powerloss_crash(pl));
        hre_storage_free(pl);
        got = get_file(mem, "t", &len, &rc);
        ck_assert_int_eq(rc, HRE_OK);
        ck_assert_uint_ge(len, sizeof synced);
        ck_assert_uint_le(len, sizeof synced + sizeof add);
        ck_assert(memcmp(got, synced, sizeof synced) == 0);     /* power-safe overwrite */
        if (len == sizeof synced) lost++;
        else if (len == sizeof synced + sizeof add &&
                 memcmp(got + sizeof synced, add, sizeof add) == 0) whole++;
        else torn++;
        free(got);
        hre_storage_free(mem);
    }
    ck_assert_int_gt(lost, 0);
    ck_assert_int_gt(whole, 0);
    ck_assert_int_gt(torn, 0);
}
END_TEST

/* ---- the scripted log workload ------------------------------------------ */

#define WL_BATCHES 12
#define WL_LOG "seg-000000.log"
#define WL_SNAP "state.snap"
#define WL_MAX 2048

static size_t wl_rec(uint64_t i, uint8_t *buf)
{
    size_t len = (size_t)((i * 37 + 5) % 300);
    for (size_t k = 0; k < len; k++) buf[k] = (uint8_t)(i * 31 + k * 7 + (i >> 3));
    return len;
}

static size_t wl_snap(int v, uint8_t *buf)
{
    size_t len = 100 + (size_t)v * 13;
    hre__put_le32(buf, (uint32_t)v);
    for (size_t k = 4; k < len; k++) buf[k] = (uint8_t)(v * 5 + k);
    return len;
}

typedef struct wl_state {
    int rc;
    uint64_t appended, acked;
    int snap_acked;     /* last snapshot version reported written, -1 none */
} wl_state;

static void workload(hre_storage *s, wl_state *w)
{
    hre_storage__log *log = NULL;
    uint8_t buf[400];
    int rc, crc;

    w->appended = w->acked = 0;
    w->snap_acked = -1;
    rc = hre_storage__log_open(&log, s, WL_LOG, HRE_STORAGE__LOG_CREATE, WL_MAX, NULL, NULL,
                               NULL);
    if (rc != HRE_OK) {
        w->rc = rc;
        return;
    }
    for (int b = 0; b < WL_BATCHES && rc == HRE_OK; b++) {
        int n = 1 + (b * 7) % 4;
        for (int k = 0; k < n; k++) {
            size_t len = wl_rec(w->appended, buf);
            if ((rc = hre_storage__log_append(log, buf, len, NULL)) != HRE_OK) break;
            w->appended++;
        }
        if (rc != HRE_OK) break;
        if ((rc = hre_storage__log_sync(log)) != HRE_OK) break;
        w->acked = w->appended;
        if (b % 3 == 2) {
            size_t len = wl_snap(b, buf);
            if ((rc = hre_storage__write_file_atomic(s, WL_SNAP, buf, len)) != HRE_OK) break;
            w->snap_acked = b;
        }
    }
    crc = hre_storage__log_close(log);
    w->rc = rc != HRE_OK ? rc : crc;
}

struct wl_collect {
    uint64_t n;
    int bad;
};

static int wl_collect_cb(void *arg, uint64_t off, const uint8_t *p, size_t len)
{
    struct wl_collect *c = arg;
    uint8_t exp[400];
    size_t el = wl_rec(c->n, exp);
    (void)off;
    if (el != len || (len && memcmp(exp, p, len) != 0)) c->bad = 1;
    c->n++;
    return 0;
}

/* After a crash or a failure: reopen on the inner storage and check. */
static void wl_verify(hre_storage *inner, const wl_state *w, const char *what, uint64_t at)
{
    hre_storage__log *log = NULL;
    hre_storage__scan_info info;
    struct wl_collect c = {0, 0}, c2 = {0, 0};
    uint8_t buf[400], *snap = NULL;
    size_t slen = 0;
    int rc;

    rc = hre_storage__log_open(&log, inner, WL_LOG, 0, WL_MAX, wl_collect_cb, &c, &info);
    if (rc == HRE_ENOTFOUND) {
        ck_assert_msg(w->acked == 0, "%s %llu: log lost after %llu acked records", what,
                      (unsigned long long)at, (unsigned long long)w->acked);
    } else {
        ck_assert_msg(rc == HRE_OK, "%s %llu: reopen failed: %d %s", what,
                      (unsigned long long)at, rc, hre_error_detail());
        ck_assert_msg(!c.bad, "%s %llu: a recovered record differs", what,
                      (unsigned long long)at);
        ck_assert_msg(c.n >= w->acked, "%s %llu: %llu records recovered, %llu were acked", what,
                      (unsigned long long)at, (unsigned long long)c.n,
                      (unsigned long long)w->acked);
        ck_assert_msg(c.n <= w->appended, "%s %llu: more records than appended", what,
                      (unsigned long long)at);
        /* the recovered log takes appends and reopens clean */
        ck_assert_int_eq(hre_storage__log_append(log, buf, wl_rec(c.n, buf), NULL), HRE_OK);
        ck_assert_int_eq(hre_storage__log_sync(log), HRE_OK);
        ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
        ck_assert_int_eq(hre_storage__log_open(&log, inner, WL_LOG, HRE_STORAGE__LOG_READONLY,
                                               WL_MAX, wl_collect_cb, &c2, &info), HRE_OK);
        ck_assert_uint_eq(c2.n, c.n + 1);
        ck_assert(!c2.bad);
        ck_assert_int_eq(info.torn_tail, 0);
        ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
    }
    /* the snapshot is absent or one whole version, at least the acked one */
    rc = hre_storage__read_all(inner, WL_SNAP, 1 << 16, &snap, &slen);
    if (rc == HRE_ENOTFOUND) {
        ck_assert_msg(w->snap_acked < 0, "%s %llu: snapshot %d lost", what,
                      (unsigned long long)at, w->snap_acked);
    } else {
        uint8_t exp[400];
        int v;
        ck_assert_int_eq(rc, HRE_OK);
        ck_assert_uint_ge(slen, 4);
        v = (int)hre__le32(snap);
        ck_assert_msg(v >= 0 && v < WL_BATCHES && v % 3 == 2, "%s %llu: bad snapshot version",
                      what, (unsigned long long)at);
        ck_assert_uint_eq(slen, wl_snap(v, exp));
        ck_assert_msg(memcmp(snap, exp, slen) == 0, "%s %llu: torn snapshot", what,
                      (unsigned long long)at);
        ck_assert_int_ge(v, w->snap_acked);
        hre__free(snap);
    }
    {
        size_t removed = 0;
        ck_assert_int_eq(hre_storage__remove_temps(inner, &removed), HRE_OK);
        assert_missing(inner, WL_SNAP ".tmp");
    }
}

static void wl_dry_run(uint64_t *syncs, uint64_t *calls)
{
    hre_storage *mem = NULL, *pl = NULL;
    wl_state w;
    HRE_T_OK(hre_storage_memory_new(&mem, 0));
    HRE_T_OK(hre_powerloss_new(&pl, mem, NULL));
    workload(pl, &w);
    ck_assert_int_eq(w.rc, HRE_OK);
    ck_assert_int_eq(w.snap_acked, 11);
    *syncs = hre_t_pl_syncs(pl);
    *calls = hre_t_pl_calls(pl);
    hre_storage_free(pl);
    wl_verify(mem, &w, "dry run", 0);
    hre_storage_free(mem);
}

/* Cut the power at every sync point in turn (each mode), then at 200
 * random calls; recover every time. */
START_TEST(test_powerloss_log_workload)
{
    uint64_t syncs, calls;
    int modes[] = {HRE_POWERLOSS_DROP, HRE_POWERLOSS_TEAR, HRE_POWERLOSS_KEEP};
    wl_dry_run(&syncs, &calls);
    ck_assert_uint_ge(syncs, 20);
    hre_t_reseed(hre_t_seed() ^ 0x9041e55ULL);
    for (size_t m = 0; m < 3; m++) {
        for (uint64_t cut = 1; cut <= syncs; cut++) {
            hre_storage *mem = NULL, *pl;
            wl_state w;
            HRE_T_OK(hre_storage_memory_new(&mem, 0));
            pl = pl_wrap(mem, modes[m], cut, hre_t_rand());
            workload(pl, &w);
            ck_assert_int_eq(w.rc, HRE_EIO);
            ck_assert_int_eq(hre_t_pl_crashed(pl), 1);
            hre_storage_free(pl);
            wl_verify(mem, &w, modes[m] == HRE_POWERLOSS_TEAR ? "tear at sync" : "at sync", cut);
            hre_storage_free(mem);
        }
    }
    for (int r = 0; r < 200; r++) {
        hre_storage *mem = NULL, *pl = NULL;
        hre_powerloss_options o;
        wl_state w;
        HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
        o.mode = HRE_POWERLOSS_TEAR;
        o.crash_at_call = 1 + hre_t_rand_below(calls);
        o.seed = hre_t_rand();
        HRE_T_OK(hre_storage_memory_new(&mem, 0));
        HRE_T_OK(hre_powerloss_new(&pl, mem, &o));
        workload(pl, &w);
        ck_assert_int_eq(w.rc, HRE_EIO);
        ck_assert_int_eq(hre_t_pl_crashed(pl), 1);
        hre_storage_free(pl);
        wl_verify(mem, &w, "tear at call", o.crash_at_call);
        hre_storage_free(mem);
    }
}
END_TEST

/* The same over a POSIX directory as the inner storage. */
START_TEST(test_powerloss_over_posix)
{
    uint64_t syncs, calls;
    hre_storage_posix_options po;
    wl_dry_run(&syncs, &calls);
    HRE_T_OK(hre_storage_posix_options_init(&po, HRE_STORAGE_POSIX_OPTIONS_VERSION));
    po.flags = HRE_STORAGE_POSIX_NOSYNC;    /* the model, not the disk, is under test */
    for (uint64_t cut = 1; cut <= syncs; cut++) {
        char dir[512];
        hre_storage *inner = NULL, *pl;
        wl_state w;
        new_dir(dir, sizeof dir);
        HRE_T_OK(hre_storage_posix_open(&inner, dir, &po));
        pl = pl_wrap(inner, cut % 2 ? HRE_POWERLOSS_TEAR : HRE_POWERLOSS_DROP, cut, cut);
        workload(pl, &w);
        ck_assert_int_eq(w.rc, HRE_EIO);
        hre_storage_free(pl);
        wl_verify(inner, &w, "posix at sync", cut);
        hre_storage_free(inner);
    }
}
END_TEST

/* EIO and ENOSPC injected at each call of the workload give that error,
 * and the data stays readable with every acknowledged record. */
START_TEST(test_fault_injection_each_call)
{
    uint64_t syncs, calls;
    static const int codes[] = {HRE_EIO, HRE_ENOSPC};
    wl_dry_run(&syncs, &calls);
    for (uint64_t n = 1; n <= calls; n++) {
        for (int ci = 0; ci < 2; ci++) {
            hre_storage *mem = NULL, *pl = NULL;
            hre_powerloss_options o;
            wl_state w;
            HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
            o.fail_at_call = n;
            o.fail_code = codes[ci];
            o.fail_partial = (int)(n & 1);
            o.seed = n;
            HRE_T_OK(hre_storage_memory_new(&mem, 0));
            HRE_T_OK(hre_powerloss_new(&pl, mem, &o));
            workload(pl, &w);
            ck_assert_uint_eq(hre_t_pl_failures(pl), 1);
            /* ENOSPC from a call that cannot run out of space (read, size,
             * close, list, remove) is reported as HRE_EIO */
            ck_assert_msg(w.rc == codes[ci] || (codes[ci] == HRE_ENOSPC && w.rc == HRE_EIO),
                          "call %llu: injected %d, workload returned %d (%s)",
                          (unsigned long long)n, codes[ci], w.rc, hre_error_detail());
            hre_storage_free(pl);
            wl_verify(mem, &w, "fault at call", n);
            hre_storage_free(mem);
        }
    }
    /* sticky failures (a dead disk): nothing after the failure succeeds */
    {
        hre_storage *mem = NULL, *pl = NULL;
        hre_powerloss_options o;
        wl_state w;
        HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
        o.fail_at_call = calls / 2;
        o.fail_count = UINT64_MAX;
        HRE_T_OK(hre_storage_memory_new(&mem, 0));
        HRE_T_OK(hre_powerloss_new(&pl, mem, &o));
        workload(pl, &w);
        ck_assert_int_eq(w.rc, HRE_EIO);
        ck_assert_uint_ge(hre_t_pl_failures(pl), 1);
        hre_storage_free(pl);
        wl_verify(mem, &w, "dead disk at call", calls / 2);
        hre_storage_free(mem);
    }
    /* bad options */
    {
        hre_storage *mem = NULL, *pl = NULL;
        hre_powerloss_options o;
        HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
        HRE_T_OK(hre_storage_memory_new(&mem, 0));
        o.fail_code = HRE_EINVAL;
        ck_assert_int_eq(hre_powerloss_new(&pl, mem, &o), HRE_EINVAL);
        o.fail_code = 0;
        o.mode = 9;
        ck_assert_int_eq(hre_powerloss_new(&pl, mem, &o), HRE_EINVAL);
        ck_assert_int_eq(hre_powerloss_new(&pl, NULL, NULL), HRE_EINVAL);
        ck_assert_ptr_null(pl);
        hre_storage_free(mem);
    }
}
END_TEST

/* A failed append (with a partial write landing first) is rolled back. */
START_TEST(test_log_failures)
{
    hre_storage *mem = NULL, *pl = NULL;
    hre_storage__log *log = NULL;
    hre_powerloss_options o;
    struct rec_count c;
    uint64_t base;

    HRE_T_OK(hre_storage_memory_new(&mem, 0));
    ck_assert_int_eq(hre_storage__log_open(&log, mem, "l", HRE_STORAGE__LOG_CREATE, 100, NULL,
                                           NULL, NULL), HRE_OK);
    ck_assert_int_eq(hre_storage__log_append(log, "first", 5, NULL), HRE_OK);
    ck_assert_int_eq(hre_storage__log_sync(log), HRE_OK);
    ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
    /* count the calls of an open */
    HRE_T_OK(hre_powerloss_new(&pl, mem, NULL));
    ck_assert_int_eq(hre_storage__log_open(&log, pl, "l", 0, 100, NULL, NULL, NULL), HRE_OK);
    base = hre_t_pl_calls(pl);
    ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
    hre_storage_free(pl);
    for (int seed = 1; seed <= 8; seed++) {
        HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
        o.fail_at_call = base + 1;      /* the append's write */
        o.fail_code = HRE_ENOSPC;
        o.fail_partial = 1;
        o.seed = (uint64_t)seed;
        HRE_T_OK(hre_powerloss_new(&pl, mem, &o));
        ck_assert_int_eq(hre_storage__log_open(&log, pl, "l", 0, 100, NULL, NULL, NULL), HRE_OK);
        ck_assert_uint_eq(hre_t_pl_calls(pl), base);
        ck_assert_int_eq(hre_storage__log_append(log, "second-record-long", 18, NULL),
                         HRE_ENOSPC);
        ck_assert(strstr(hre_error_detail(), "injected") != NULL);
        ck_assert_uint_eq(hre_t_pl_failures(pl), 1);
        ck_assert_uint_eq(hre_storage__log_end(log), HDR + 5);
        ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
        hre_storage_free(pl);
        /* nothing of the failed record is left */
        memset(&c, 0, sizeof c);
        ck_assert_int_eq(hre_storage__log_open(&log, mem, "l", HRE_STORAGE__LOG_READONLY, 100,
                                               count_cb, &c, NULL), HRE_OK);
        ck_assert_uint_eq(c.n, 1);
        ck_assert_uint_eq(hre_storage__log_end(log), HDR + 5);
        ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
    }
    /* the log keeps working after a failed append */
    HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
    o.fail_at_call = base + 1;
    HRE_T_OK(hre_powerloss_new(&pl, mem, &o));
    ck_assert_int_eq(hre_storage__log_open(&log, pl, "l", 0, 100, NULL, NULL, NULL), HRE_OK);
    ck_assert_int_eq(hre_storage__log_append(log, "x", 1, NULL), HRE_EIO);
    ck_assert_int_eq(hre_storage__log_append(log, "third", 5, NULL), HRE_OK);
    ck_assert_int_eq(hre_storage__log_sync(log), HRE_OK);
    ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
    hre_storage_free(pl);
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(hre_storage__log_open(&log, mem, "l", 0, 100, count_cb, &c, NULL), HRE_OK);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
    hre_storage_free(mem);
}
END_TEST

START_TEST(test_log_sync_failure_breaks)
{
    hre_storage *mem = NULL, *pl = NULL;
    hre_storage__log *log = NULL;
    hre_powerloss_options o;
    uint64_t before;

    HRE_T_OK(hre_storage_memory_new(&mem, 0));
    /* dry run to find the call number of the sync */
    HRE_T_OK(hre_powerloss_new(&pl, mem, NULL));
    ck_assert_int_eq(hre_storage__log_open(&log, pl, "l", HRE_STORAGE__LOG_CREATE, 100, NULL,
                                           NULL, NULL), HRE_OK);
    ck_assert_int_eq(hre_storage__log_append(log, "a", 1, NULL), HRE_OK);
    before = hre_t_pl_calls(pl);
    ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
    hre_storage_free(pl);
    hre_storage_free(mem);

    HRE_T_OK(hre_storage_memory_new(&mem, 0));
    HRE_T_OK(hre_powerloss_options_init(&o, HRE_POWERLOSS_OPTIONS_VERSION));
    o.fail_at_call = before + 1;
    HRE_T_OK(hre_powerloss_new(&pl, mem, &o));
    ck_assert_int_eq(hre_storage__log_open(&log, pl, "l", HRE_STORAGE__LOG_CREATE, 100, NULL,
                                           NULL, NULL), HRE_OK);
    ck_assert_int_eq(hre_storage__log_append(log, "a", 1, NULL), HRE_OK);
    ck_assert_int_eq(hre_storage__log_sync(log), HRE_EIO);
    ck_assert_int_eq(hre_storage__log_sync(log), HRE_ESTATE);
    ck_assert_int_eq(hre_storage__log_append(log, "b", 1, NULL), HRE_ESTATE);
    ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
    hre_storage_free(pl);
    /* reopening recovers it */
    ck_assert_int_eq(hre_storage__log_open(&log, mem, "l", 0, 100, NULL, NULL, NULL), HRE_OK);
    ck_assert_uint_eq(hre_storage__log_end(log), HDR + 1);
    ck_assert_int_eq(hre_storage__log_append(log, "b", 1, NULL), HRE_OK);
    ck_assert_int_eq(hre_storage__log_sync(log), HRE_OK);
    ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
    hre_storage_free(mem);
}
END_TEST

/* A process dies with unsynced records (still in the "page cache"); the
 * next process reopens the log, appends and syncs; then the power fails.
 * The reopen must have made the old records durable first, or their loss
 * would look like damage under the new batch and the log would not open. */
START_TEST(test_log_reopen_after_process_death)
{
    for (uint64_t seed = 1; seed <= 60; seed++) {
        hre_storage *mem = NULL, *pl;
        hre_storage__log *log = NULL;
        struct rec_count c;
        uint8_t p[64];
        HRE_T_OK(hre_storage_memory_new(&mem, 0));
        pl = pl_wrap(mem, HRE_POWERLOSS_TEAR, 0, seed);
        ck_assert_int_eq(hre_storage__log_open(&log, pl, "l", HRE_STORAGE__LOG_CREATE, 100, NULL,
                                               NULL, NULL), HRE_OK);
        memset(p, 0x11, sizeof p);
        ck_assert_int_eq(hre_storage__log_append(log, p, 40, NULL), HRE_OK);
        ck_assert_int_eq(hre_storage__log_sync(log), HRE_OK);
        for (int i = 0; i < 3; i++)
            ck_assert_int_eq(hre_storage__log_append(log, p, 30 + (size_t)i, NULL), HRE_OK);
        ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);    /* the process dies */
        ck_assert_int_eq(hre_storage__log_open(&log, pl, "l", 0, 100, NULL, NULL, NULL), HRE_OK);
        ck_assert_uint_eq(hre_storage__log_synced(log), 16 + 40 + 3 * 16 + 30 + 31 + 32);
        /* new records, not yet synced, when the power fails */
        ck_assert_int_eq(hre_storage__log_append(log, p, 50, NULL), HRE_OK);
        ck_assert_int_eq(hre_storage__log_append(log, p, 60, NULL), HRE_OK);
        ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
        HRE_T_OK(hre_powerloss_crash(pl));
        hre_storage_free(pl);
        memset(&c, 0, sizeof c);
        ck_assert_msg(hre_storage__log_open(&log, mem, "l", 0, 100, count_cb, &c, NULL) == HRE_OK,
                      "seed %llu: %s", (unsigned long long)seed, hre_error_detail());
        ck_assert_uint_ge(c.n, 4);
        ck_assert_uint_le(c.n, 6);
        ck_assert_int_eq(hre_storage__log_close(log), HRE_OK);
        hre_storage_free(mem);
    }
}
END_TEST

/* Every allocation point fails cleanly with HRE_ENOMEM and leaks nothing
 * (tests/testutil.h, hre_t_alloc_sweep). */
static int sweep_storage_fn(void *arg)
{
    hre_storage *s = NULL;
    hre_storage_file *f = NULL;
    hre_storage__log *log = NULL;
    int rc;
    (void)arg;
    rc = hre_storage_memory_new(&s, 0);
    if (rc == HRE_OK)
        rc = hre_storage_file_open(&f, s, "a", HRE_STORAGE_WRITE | HRE_STORAGE_CREATE);
    if (rc == HRE_OK) rc = hre_storage_file_write(f, 0, "abc", 3);
    if (rc == HRE_OK) rc = hre_storage_file_close(f);
    if (rc == HRE_OK) rc = hre_storage_rename(s, "a", "b");
    if (rc == HRE_OK)
        rc = hre_storage__log_open(&log, s, "log", HRE_STORAGE__LOG_CREATE, 100, NULL,
                                   NULL, NULL);
    if (rc == HRE_OK) rc = hre_storage__log_append(log, "rec", 3, NULL);
    if (rc == HRE_OK) rc = hre_storage__log_sync(log);
    if (rc == HRE_OK) rc = hre_storage__write_file_atomic(s, "snap", "x", 1);
    (void)hre_storage__log_close(log);
    hre_test__alloc_fail_after(-1);   /* the checks below allocate */
    if (rc == HRE_OK) {
        assert_content(s, "b", "abc", 3);
        assert_content(s, "snap", "x", 1);
    }
    hre_storage_free(s);
    return rc;
}

/* A power-loss storage over a memory one holding a file, and an atomic
 * write through it (the memory backend's own failure points come first). */
static int sweep_powerloss_fn(void *arg)
{
    hre_storage *mem = NULL, *pl = NULL;
    int rc;
    (void)arg;
    rc = hre_storage_memory_new(&mem, 0);
    if (rc == HRE_OK) rc = hre_storage__write_file_atomic(mem, "x", "12345", 5);
    if (rc == HRE_OK) rc = hre_powerloss_new(&pl, mem, NULL);
    if (rc == HRE_OK) rc = hre_storage__write_file_atomic(pl, "y", "abc", 3);
    hre_storage_free(pl);
    hre_test__alloc_fail_after(-1);   /* the checks below allocate */
    if (rc == HRE_OK) {
        assert_content(mem, "x", "12345", 5);
        assert_content(mem, "y", "abc", 3);
    }
    hre_storage_free(mem);
    return rc;
}

START_TEST(test_alloc_failures)
{
    ck_assert_int_ge(hre_t_alloc_sweep(sweep_storage_fn, NULL, 10000), 5);
    ck_assert_int_gt(hre_t_alloc_sweep(sweep_powerloss_fn, NULL, 10000), 0);
}
END_TEST

#endif /* HRE_WHITEBOX */

Suite *hre_suite_storage(void)
{
    Suite *s = suite_create("storage");
    TCase *tc = tcase_create("conformance");
    TCase *tw;

    tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_open_flags, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_names, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_read_write_short_read, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_rename_remove, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_list, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_control, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_random_model, 0, BK_COUNT);
    tcase_add_loop_test(tc, test_free_with_open_files, 0, BK_COUNT);
    tcase_add_test(tc, test_versions);
    tcase_add_test(tc, test_host_backend);
    tcase_add_test(tc, test_powerloss_public_api);
    tcase_add_test(tc, test_posix_specific);
    tcase_add_test(tc, test_memory_quota);
    suite_add_tcase(s, tc);

    tw = tcase_create("recovery");
    tcase_add_unchecked_fixture(tw, base_setup, base_teardown);
    tcase_set_timeout(tw, 600);
#ifdef HRE_WHITEBOX
    tcase_add_test(tw, test_crc_and_record_vectors);
    tcase_add_test(tw, test_crc_every_bit_flip);
    tcase_add_test(tw, test_log_scan_classification);
    tcase_add_loop_test(tw, test_log_file_roundtrip, 0, BK_COUNT);
    tcase_add_loop_test(tw, test_log_torn_tail_and_damage_on_file, 0, BK_COUNT);
    tcase_add_loop_test(tw, test_atomic_write, 0, BK_COUNT);
    tcase_add_test(tw, test_powerloss_model);
    tcase_add_test(tw, test_powerloss_tear_outcomes);
    tcase_add_test(tw, test_powerloss_log_workload);
    tcase_add_test(tw, test_powerloss_over_posix);
    tcase_add_test(tw, test_fault_injection_each_call);
    tcase_add_test(tw, test_log_failures);
    tcase_add_test(tw, test_log_sync_failure_breaks);
    tcase_add_test(tw, test_log_reopen_after_process_death);
    tcase_add_test(tw, test_alloc_failures);
#endif
    suite_add_tcase(s, tw);
    return s;
}
