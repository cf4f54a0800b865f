/*
 * The POSIX backend: one directory, each storage file a regular file in it.
 * All file operations are relative to a directory descriptor (openat,
 * renameat, unlinkat), so a later chdir() by the host changes nothing.
 *
 * Durability: sync is fdatasync (fsync with FULLSYNC); creating, renaming and
 * removing a file fsync the directory before returning; sync_dir fsyncs it
 * again. NOSYNC skips all of that (tests and benchmarks only).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "storage/internal.h"

typedef struct px_state {
    int dirfd;
    unsigned int flags;
    mode_t file_mode;
} px_state;

typedef struct px_file {
    int fd;
    char name[HRE_STORAGE_NAME_MAX + 1];
} px_file;

/* Map errno to a libhre code and record the detail message. */
static int px_fail(int err, const char *op, const char *name)
{
    char msg[128];
    int code;
    switch (err) {
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
        code = HRE_ENOSPC;
        break;
    case ENOENT: code = HRE_ENOTFOUND; break;
    case EEXIST: code = HRE_EEXISTS; break;
    case ENOMEM: code = HRE_ENOMEM; break;
    default: code = HRE_EIO; break;
    }
    if (strerror_r(err, msg, sizeof msg) != 0) snprintf(msg, sizeof msg, "errno %d", err);
    return hre__fail(code, "posix storage: %s '%s': %s", op, name ? name : "", msg);
}

/* Does [0, end) fit in off_t? */
static int px_off_ok(uint64_t end)
{
    if (sizeof(off_t) >= 8) return end <= (uint64_t)INT64_MAX;
    return end <= (uint64_t)INT32_MAX;
}

static int px_fsync_fd(int fd, int full)
{
    int r;
    do {
#if defined(_POSIX_SYNCHRONIZED_IO) && _POSIX_SYNCHRONIZED_IO > 0
        r = full ? fsync(fd) : fdatasync(fd);
#else
        (void)full;
        r = fsync(fd);
#endif
    } while (r != 0 && errno == EINTR);
    return r;
}

static int px_sync_dirfd(px_state *st, const char *op, const char *name)
{
    if (st->flags & HRE_STORAGE_POSIX_NOSYNC) return HRE_OK;
    if (px_fsync_fd(st->dirfd, 1) != 0) return px_fail(errno, op, name);
    return HRE_OK;
}

static int px_open(void *self, const char *name, unsigned int flags, void **file)
{
    px_state *st = self;
    px_file *pf;
    struct stat sb;
    int acc, fd = -1, created = 0, extra;

    *file = NULL;
    if ((flags & HRE_STORAGE_READ) && (flags & HRE_STORAGE_WRITE)) acc = O_RDWR;
    else if (flags & HRE_STORAGE_WRITE) acc = O_WRONLY;
    else acc = O_RDONLY;
    extra = O_CLOEXEC | ((flags & HRE_STORAGE_TRUNCATE) ? O_TRUNC : 0);

    pf = hre__malloc(sizeof *pf);
    if (!pf) return hre__fail(HRE_ENOMEM, "posix storage: out of memory");

    if (flags & HRE_STORAGE_CREATE) {
        if (flags & HRE_STORAGE_EXCLUSIVE) {
            do fd = openat(st->dirfd, name, acc | extra | O_CREAT | O_EXCL, st->file_mode);
            while (fd < 0 && errno == EINTR);
            created = fd >= 0;
        } else {
            /* Find out whether this open creates the file, so that only a
             * real creation pays for the directory fsync. */
            for (;;) {
                fd = openat(st->dirfd, name, acc | extra);
                if (fd >= 0 || errno == EINTR) { if (fd >= 0) break; continue; }
                if (errno != ENOENT) break;
                fd = openat(st->dirfd, name, acc | extra | O_CREAT | O_EXCL, st->file_mode);
                if (fd >= 0) { created = 1; break; }
                if (errno != EEXIST && errno != EINTR) break;
            }
        }
    } else {
        do fd = openat(st->dirfd, name, acc | extra);
        while (fd < 0 && errno == EINTR);
    }
    if (fd < 0) {
        int e = errno;
        hre__free(pf);
        return px_fail(e, "open", name);
    }
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        hre__free(pf);
        return px_fail(e, "open", name);
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        hre__free(pf);
        return hre__fail(HRE_EIO, "posix storage: open '%s': not a regular file", name);
    }
    if (created) {
        int rc = px_sync_dirfd(st, "open (directory sync after create)", name);
        if (rc != HRE_OK) {
            close(fd);
            hre__free(pf);
            return rc;
        }
    }
    pf->fd = fd;
    strcpy(pf->name, name);
    *file = pf;
    return HRE_OK;
}

static int px_close(void *self, void *file)
{
    px_file *pf = file;
    int r = close(pf->fd);
    int e = errno;
    char name[HRE_STORAGE_NAME_MAX + 1];
    (void)self;
    strcpy(name, pf->name);
    hre__free(pf);
    /* EINTR on close: the descriptor is released on Linux; do not retry. */
    if (r != 0 && e != EINTR) return px_fail(e, "close", name);
    return HRE_OK;
}

static int px_read(void *self, void *file, void *buf, size_t len, size_t *got,
                   uint64_t offset)
{
    px_file *pf = file;
    size_t done = 0;
    (void)self;
    if (!px_off_ok(offset + len)) return hre__fail(HRE_EIO, "posix storage: read '%s': "
                                                   "offset too large", pf->name);
    while (done < len) {
        size_t n = len - done;
        ssize_t r;
        if (n > 0x40000000u) n = 0x40000000u;
        r = pread(pf->fd, (uint8_t *)buf + done, n, (off_t)(offset + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            return px_fail(errno, "read", pf->name);
        }
        if (r == 0) break;
        done += (size_t)r;
    }
    *got = done;
    return HRE_OK;
}

static int px_pwrite_all(px_file *pf, const void *data, size_t len, uint64_t offset,
                         const char *op)
{
    size_t done = 0;
    if (!px_off_ok(offset + len))
        return hre__fail(HRE_EIO, "posix storage: %s '%s': file too large", op, pf->name);
    while (done < len) {
        size_t n = len - done;
        ssize_t r;
        if (n > 0x40000000u) n = 0x40000000u;
        r = pwrite(pf->fd, (const uint8_t *)data + done, n, (off_t)(offset + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            return px_fail(errno, op, pf->name);
        }
        if (r == 0) return hre__fail(HRE_EIO, "posix storage: %s '%s': no progress", op,
                                     pf->name);
        done += (size_t)r;
    }
    return HRE_OK;
}

static int px_append(void *self, void *file, uint64_t *offset, const void *data, size_t len)
{
    px_file *pf = file;
    struct stat sb;
    int rc;
    (void)self;
    if (fstat(pf->fd, &sb) != 0) return px_fail(errno, "append", pf->name);
    rc = px_pwrite_all(pf, data, len, (uint64_t)sb.st_size, "append");
    if (rc != HRE_OK) {
        /* All-or-error: take a partially written tail back (best effort;
         * the error detail from the write stays). */
        int r;
        do r = ftruncate(pf->fd, sb.st_size);
        while (r != 0 && errno == EINTR);
        return rc;
    }
    *offset = (uint64_t)sb.st_size;
    return HRE_OK;
}

static int px_write(void *self, void *file, uint64_t offset, const void *data, size_t len)
{
    (void)self;
    return px_pwrite_all(file, data, len, offset, "write");
}

static int px_sync(void *self, void *file)
{
    px_state *st = self;
    px_file *pf = file;
    if (st->flags & HRE_STORAGE_POSIX_NOSYNC) return HRE_OK;
    if (px_fsync_fd(pf->fd, (st->flags & HRE_STORAGE_POSIX_FULLSYNC) != 0) != 0)
        return px_fail(errno, "sync", pf->name);
    return HRE_OK;
}

static int px_size(void *self, void *file, uint64_t *size)
{
    px_file *pf = file;
    struct stat sb;
    (void)self;
    if (fstat(pf->fd, &sb) != 0) return px_fail(errno, "size", pf->name);
    *size = (uint64_t)sb.st_size;
    return HRE_OK;
}

static int px_truncate(void *self, void *file, uint64_t size)
{
    px_file *pf = file;
    int r;
    (void)self;
    if (!px_off_ok(size))
        return hre__fail(HRE_EIO, "posix storage: truncate '%s': size too large", pf->name);
    do r = ftruncate(pf->fd, (off_t)size);
    while (r != 0 && errno == EINTR);
    if (r != 0) return px_fail(errno, "truncate", pf->name);
    return HRE_OK;
}

static int px_rename(void *self, const char *from, const char *to)
{
    px_state *st = self;
    struct stat sb;
    /* Only regular files are storage files. */
    if (fstatat(st->dirfd, from, &sb, 0) != 0) return px_fail(errno, "rename", from);
    if (!S_ISREG(sb.st_mode))
        return hre__fail(HRE_EIO, "posix storage: rename '%s': not a regular file", from);
    if (renameat(st->dirfd, from, st->dirfd, to) != 0) return px_fail(errno, "rename", from);
    return px_sync_dirfd(st, "rename (directory sync)", to);
}

static int px_remove(void *self, const char *name)
{
    px_state *st = self;
    if (unlinkat(st->dirfd, name, 0) != 0) return px_fail(errno, "remove", name);
    return px_sync_dirfd(st, "remove (directory sync)", name);
}

static int px_list(void *self, hre_storage_list_cb cb, void *cb_arg)
{
    px_state *st = self;
    DIR *d;
    int fd, rc = HRE_OK;

    /* A fresh descriptor: its own directory offset, closed by closedir. */
    do fd = openat(st->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return px_fail(errno, "list", ".");
    d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return px_fail(e, "list", ".");
    }
    for (;;) {
        struct dirent *e;
        int regular;
        errno = 0;
        e = readdir(d);
        if (!e) {
            if (errno != 0) rc = px_fail(errno, "list", ".");
            break;
        }
        if (!hre_storage_name_valid(e->d_name)) continue;
#ifdef DT_REG
        if (e->d_type == DT_REG) regular = 1;
        else if (e->d_type != DT_UNKNOWN && e->d_type != DT_LNK) regular = 0;
        else
#endif
        {
            struct stat sb;
            regular = fstatat(st->dirfd, e->d_name, &sb, 0) == 0 && S_ISREG(sb.st_mode);
        }
        if (!regular) continue;
        rc = cb(cb_arg, e->d_name);
        if (rc != 0) break;
    }
    closedir(d);
    return rc;
}

static int px_sync_dir(void *self)
{
    return px_sync_dirfd(self, "sync_dir", ".");
}

static int px_control(void *self, void *file, int op, void *arg)
{
    px_state *st = self;
    switch (op) {
    case HRE_STORAGE_CTL_BACKEND_NAME:
        if (!arg) return hre__fail(HRE_EINVAL, "posix storage: control: NULL arg");
        *(const char **)arg = "posix";
        return HRE_OK;
    case HRE_STORAGE_CTL_SECTOR_SIZE: {
        struct stat sb;
        int fd = file ? ((px_file *)file)->fd : st->dirfd;
        uint32_t v = 4096;
        if (!arg) return hre__fail(HRE_EINVAL, "posix storage: control: NULL arg");
        if (fstat(fd, &sb) == 0 && sb.st_blksize >= 512 && sb.st_blksize <= 65536)
            v = (uint32_t)sb.st_blksize;
        *(uint32_t *)arg = v;
        return HRE_OK;
    }
    default:
        return hre__fail(HRE_EUNSUPPORTED, "posix storage: control op %d not supported", op);
    }
}

static void px_destroy(void *self)
{
    px_state *st = self;
    if (!st) return;
    if (st->dirfd >= 0) close(st->dirfd); /* also drops the flock */
    hre__free(st);
}

static const hre_storage_methods px_methods = {
    HRE_STORAGE_VERSION,
    px_open, px_close, px_read, px_append, px_write, px_sync, px_size, px_truncate,
    px_rename, px_remove, px_list, px_sync_dir, px_control, px_destroy,
};

static const size_t posix_size[] = { 0, HRE__END(hre_storage_posix_options, file_mode) };
static const hre__vstruct posix_desc = { "posix storage options", HRE_STORAGE_POSIX_OPTIONS_VERSION,
                                         posix_size };

HRE_API int hre_storage_posix_options_init(hre_storage_posix_options *opts,
                                           unsigned int version)
{
    HRE__API_SCOPE;
    HRE__CHECK_ARG(opts != NULL);
    return hre__api_done(hre__vstruct_init(&posix_desc, opts, version));
}

/* fsync the directory containing path (after creating path). */
static int px_sync_parent(const char *path)
{
    char parent[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n;
    int fd, r;
    if (!slash) {
        strcpy(parent, ".");
    } else {
        n = (size_t)(slash - path);
        if (n == 0) n = 1;   /* "/x" -> "/" */
        memcpy(parent, path, n);
        parent[n] = '\0';
    }
    do fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return px_fail(errno, "open parent directory", parent);
    r = px_fsync_fd(fd, 1);
    if (r != 0) {
        int e = errno;
        close(fd);
        return px_fail(e, "sync parent directory", parent);
    }
    close(fd);
    return HRE_OK;
}

/* mkdir -p path (mode for created components). sync: fsync the parent of
 * every created component. */
static int px_mkdirs(const char *dir, mode_t mode, int sync)
{
    char path[PATH_MAX];
    size_t len = strlen(dir), i;
    int rc;
    while (len > 1 && dir[len - 1] == '/') len--;   /* "a/b/" -> "a/b" */
    if (len >= sizeof path)
        return hre__fail(HRE_EINVAL, "posix storage: directory path too long");
    memcpy(path, dir, len);
    path[len] = '\0';
    for (i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0') continue;
        {
            char saved = path[i];
            path[i] = '\0';
            if (mkdir(path, mode) == 0) {
                if (sync && (rc = px_sync_parent(path)) != HRE_OK) return rc;
            } else if (errno != EEXIST) {
                return px_fail(errno, "create directory", path);
            }
            path[i] = saved;
        }
    }
    return HRE_OK;
}

HRE_API int hre_storage_posix_open(hre_storage **out, const char *dir,
                                   const hre_storage_posix_options *opts)
{
    HRE__API_SCOPE;
    const unsigned int known = HRE_STORAGE_POSIX_FULLSYNC | HRE_STORAGE_POSIX_NOSYNC |
                               HRE_STORAGE_POSIX_NOLOCK;
    hre_storage_posix_options o;
    px_state *st;
    int fd, rc;

    if (out) *out = NULL;
    HRE__CHECK_ARG(out != NULL);
    HRE__CHECK_ARG(dir != NULL && dir[0] != '\0');
    if (opts) {
        if ((rc = hre__vstruct_in(&posix_desc, &o, opts)) != HRE_OK) return rc;
    } else {
        memset(&o, 0, sizeof o);
        o.version = HRE_STORAGE_POSIX_OPTIONS_VERSION;
    }
    if (o.flags & ~known)
        return hre__fail(HRE_EINVAL, "posix storage: unknown flags 0x%x", o.flags & ~known);
    if ((o.dir_mode & ~07777u) || (o.file_mode & ~07777u))
        return hre__fail(HRE_EINVAL, "posix storage: bad mode");

    rc = px_mkdirs(dir, o.dir_mode ? (mode_t)o.dir_mode : 0700,
                   !(o.flags & HRE_STORAGE_POSIX_NOSYNC));
    if (rc != HRE_OK) return rc;
    do fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return hre__api_done(px_fail(errno, "open directory", dir));
    if (!(o.flags & HRE_STORAGE_POSIX_NOLOCK)) {
        int r;
        do r = flock(fd, LOCK_EX | LOCK_NB);
        while (r != 0 && errno == EINTR);
        if (r != 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK)
                return hre__fail(HRE_ESTATE, "posix storage: directory '%s' is in use by "
                                 "another storage handle", dir);
            return hre__api_done(px_fail(e, "lock directory", dir));
        }
    }
    st = hre__malloc(sizeof *st);
    if (!st) {
        close(fd);
        return hre__fail(HRE_ENOMEM, "posix storage: out of memory");
    }
    st->dirfd = fd;
    st->flags = o.flags;
    st->file_mode = o.file_mode ? (mode_t)o.file_mode : 0600;
    return hre__api_done(hre_storage__new_builtin(out, &px_methods, st));
}
