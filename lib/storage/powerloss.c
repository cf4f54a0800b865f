/*
 * The power-loss and fault-injection storage (include/hre/sys/powerloss.h),
 * after SQLite's crash-test VFS (src/test6.c): a wrapper around any storage
 * that models what is durable and, at a crash, rewrites the inner storage to
 * the post-crash state. Exported so hosts can crash-test on their own
 * backends; the library itself never creates one.
 */
#include "storage/internal.h"
#include "hre/sys/powerloss.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAMESZ (HRE_STORAGE_NAME_MAX + 1)
/* Largest file the model handles (the memory backend's per-file cap). */
#define PL_FILE_MAX ((uint64_t)1 << 30)

enum { OP_WRITE = 1, OP_TRUNC = 2 };
enum { NS_CREATE = 1, NS_RENAME = 2, NS_REMOVE = 3 };

typedef struct pl_op {
    int kind;
    uint64_t off;            /* OP_WRITE: offset; OP_TRUNC: new size */
    size_t len;
    uint8_t *data;
    struct pl_op *next;
} pl_op;

typedef struct pl_inode {
    uint8_t *img;            /* durable content */
    size_t len, cap;
    pl_op *head, *tail;      /* unsynced writes and truncates, in order */
    struct pl_inode *next_all;
} pl_inode;

typedef struct pl_ent {
    char name[NAMESZ];
    pl_inode *ino;
} pl_ent;

typedef struct pl_ns {
    pl_ent *e;
    size_t n, cap;
} pl_ns;

typedef struct pl_nsop {
    int kind;
    char a[NAMESZ], b[NAMESZ];
    pl_inode *ino;           /* NS_CREATE */
    struct pl_nsop *next;
} pl_nsop;

typedef struct pl_file {
    hre_storage_file *inner;
    pl_inode *ino;
    struct pl_file *prev, *next;
} pl_file;

typedef struct pl_state {
    hre_storage *inner;
    hre_powerloss_options o;
    uint64_t rng;
    pl_inode *inodes;
    pl_ns durable, vol;
    pl_nsop *ns_head, *ns_tail;
    size_t ns_count;
    pl_file *files;
    uint64_t calls, syncs, failures;
    int crashed;
    int crash_rc;
} pl_state;

static uint64_t pl_rand(pl_state *p)
{
    uint64_t z = (p->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t pl_below(pl_state *p, uint64_t n)
{
    return n ? pl_rand(p) % n : 0;
}

/* ---- namespaces ---------------------------------------------------------- */

static long ns_find(const pl_ns *ns, const char *name)
{
    size_t i;
    for (i = 0; i < ns->n; i++)
        if (strcmp(ns->e[i].name, name) == 0) return (long)i;
    return -1;
}

static int ns_reserve(pl_ns *ns, size_t extra)
{
    if (ns->n + extra > ns->cap) {
        size_t ncap = ns->cap ? ns->cap : 8;
        pl_ent *ne;
        while (ncap < ns->n + extra) ncap *= 2;
        ne = hre__realloc(ns->e, ncap * sizeof *ne);
        if (!ne) return hre__fail(HRE_ENOMEM, "powerloss storage: out of memory");
        ns->e = ne;
        ns->cap = ncap;
    }
    return HRE_OK;
}

static void ns_del(pl_ns *ns, const char *name)
{
    long i = ns_find(ns, name);
    if (i < 0) return;
    ns->e[i] = ns->e[ns->n - 1];
    ns->n--;
}

/* Set name -> ino; needs one reserved slot when name is new. */
static void ns_set(pl_ns *ns, const char *name, pl_inode *ino)
{
    long i = ns_find(ns, name);
    if (i >= 0) {
        ns->e[i].ino = ino;
        return;
    }
    strcpy(ns->e[ns->n].name, name);
    ns->e[ns->n].ino = ino;
    ns->n++;
}

/* Apply a namespace op to ns (which has a reserved slot). */
static void ns_apply(pl_ns *ns, const pl_nsop *op)
{
    long i;
    switch (op->kind) {
    case NS_CREATE:
        ns_set(ns, op->a, op->ino);
        break;
    case NS_RENAME:
        i = ns_find(ns, op->a);
        if (i < 0) break;
        {
            pl_inode *ino = ns->e[i].ino;
            ns_del(ns, op->a);
            ns_set(ns, op->b, ino);
        }
        break;
    case NS_REMOVE:
        ns_del(ns, op->a);
        break;
    default:
        break;
    }
}

/* ---- inodes -------------------------------------------------------------- */

static pl_inode *ino_new(pl_state *p)
{
    pl_inode *ino = hre__calloc(1, sizeof *ino);
    if (!ino) return NULL;
    ino->next_all = p->inodes;
    p->inodes = ino;
    return ino;
}

static void ops_free(pl_op *op)
{
    while (op) {
        pl_op *n = op->next;
        hre__free(op->data);
        hre__free(op);
        op = n;
    }
}

static int img_reserve(pl_inode *ino, uint64_t size)
{
    if (size > PL_FILE_MAX)
        return hre__fail(HRE_EIO, "powerloss storage: file larger than the model supports");
    if (size > ino->cap) {
        size_t ncap = ino->cap ? ino->cap : 64;
        uint8_t *nb;
        while (ncap < size) ncap *= 2;
        nb = hre__realloc(ino->img, ncap);
        if (!nb) return hre__fail(HRE_ENOMEM, "powerloss storage: out of memory");
        ino->img = nb;
        ino->cap = ncap;
    }
    return HRE_OK;
}

/* Set the image size (capacity reserved), zero-filling growth. */
static void img_setlen(pl_inode *ino, size_t len)
{
    if (len > ino->len) memset(ino->img + ino->len, 0, len - ino->len);
    ino->len = len;
}

/* Apply a whole op to the image (capacity reserved for it). */
static void img_apply(pl_inode *ino, const pl_op *op)
{
    if (op->kind == OP_TRUNC) {
        img_setlen(ino, (size_t)op->off);
    } else {
        size_t end = (size_t)op->off + op->len;
        if (end > ino->len) img_setlen(ino, end);
        memcpy(ino->img + op->off, op->data, op->len);
    }
}

/* Largest size the image reaches while its pending ops are applied. */
static uint64_t img_peak(const pl_inode *ino)
{
    uint64_t size = ino->len, peak = ino->len;
    const pl_op *op;
    for (op = ino->head; op; op = op->next) {
        if (op->kind == OP_TRUNC) size = op->off;
        else if (op->off + op->len > size) size = op->off + op->len;
        if (size > peak) peak = size;
    }
    return peak;
}

static pl_op *op_new(int kind, uint64_t off, const void *data, size_t len)
{
    pl_op *op = hre__calloc(1, sizeof *op);
    if (!op) return NULL;
    op->kind = kind;
    op->off = off;
    op->len = len;
    if (data && len) {
        op->data = hre__malloc(len);
        if (!op->data) {
            hre__free(op);
            return NULL;
        }
        memcpy(op->data, data, len);
    }
    return op;
}

static void op_push(pl_inode *ino, pl_op *op)
{
    if (ino->tail) ino->tail->next = op;
    else ino->head = op;
    ino->tail = op;
}

static void nsop_push(pl_state *p, pl_nsop *op)
{
    if (p->ns_tail) p->ns_tail->next = op;
    else p->ns_head = op;
    p->ns_tail = op;
    p->ns_count++;
}

/* ---- the crash ----------------------------------------------------------- */

/* Post-crash content of ino, in place (the model is dead afterwards). */
static int crash_content(pl_state *p, pl_inode *ino)
{
    const uint32_t sec = p->o.sector_size ? p->o.sector_size : 512;
    pl_op *op;
    int rc;
    for (op = ino->head; op; op = op->next) {
        if (p->o.mode == HRE_POWERLOSS_DROP) break;
        if (p->o.mode == HRE_POWERLOSS_KEEP) {
            if ((rc = img_reserve(ino, op->kind == OP_TRUNC ? op->off : op->off + op->len))
                != HRE_OK)
                return rc;
            img_apply(ino, op);
            continue;
        }
        /* TEAR */
        if (op->kind == OP_TRUNC) {
            if (pl_rand(p) & 1) {
                if ((rc = img_reserve(ino, op->off)) != HRE_OK) return rc;
                img_apply(ino, op);
            }
            continue;
        }
        switch (pl_below(p, 4)) {
        case 0: /* lost */
            break;
        case 1: /* survived whole */
            if ((rc = img_reserve(ino, op->off + op->len)) != HRE_OK) return rc;
            img_apply(ino, op);
            break;
        default: { /* torn */
            size_t keep = (size_t)pl_below(p, (uint64_t)op->len + 1);
            if (keep > 0) {
                pl_op part = *op;
                part.len = keep;
                if ((rc = img_reserve(ino, op->off + keep)) != HRE_OK) return rc;
                img_apply(ino, &part);
            }
            if (pl_rand(p) & 1) {
                uint64_t s0 = op->off / sec, s1 = (op->off + op->len - 1) / sec;
                uint64_t s = s0 + pl_below(p, s1 - s0 + 1);
                uint64_t a = s * sec > op->off ? s * sec : op->off;
                uint64_t b = (s + 1) * sec < op->off + op->len ? (s + 1) * sec
                                                               : op->off + op->len;
                int zeros = (int)(pl_rand(p) & 1);
                uint64_t i;
                if ((rc = img_reserve(ino, b)) != HRE_OK) return rc;
                if (b > ino->len) img_setlen(ino, (size_t)b);
                for (i = a; i < b; i++) ino->img[i] = zeros ? 0 : (uint8_t)pl_rand(p);
            }
            break;
        }
        }
    }
    return HRE_OK;
}

struct name_list {
    char (*names)[NAMESZ];
    size_t n, cap;
};

static int collect_name(void *arg, const char *name)
{
    struct name_list *l = arg;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        void *nn = hre__realloc(l->names, ncap * sizeof *l->names);
        if (!nn) return hre__fail(HRE_ENOMEM, "powerloss storage: out of memory");
        l->names = nn;
        l->cap = ncap;
    }
    strcpy(l->names[l->n++], name);
    return 0;
}

/* Replace the whole content of inner with fin. */
static int rewrite_inner(pl_state *p, const pl_ns *fin)
{
    struct name_list l;
    size_t i;
    int rc;
    memset(&l, 0, sizeof l);
    rc = hre_storage_list(p->inner, collect_name, &l);
    for (i = 0; rc == HRE_OK && i < l.n; i++) rc = hre_storage_remove(p->inner, l.names[i]);
    hre__free(l.names);
    for (i = 0; rc == HRE_OK && i < fin->n; i++) {
        hre_storage_file *f = NULL;
        const pl_inode *ino = fin->e[i].ino;
        rc = hre_storage_file_open(&f, p->inner, fin->e[i].name, HRE_STORAGE_WRITE |
                                   HRE_STORAGE_CREATE | HRE_STORAGE_EXCLUSIVE);
        if (rc != HRE_OK) break;
        if (ino->len) rc = hre_storage_file_write(f, 0, ino->img, ino->len);
        if (rc == HRE_OK) rc = hre_storage_file_sync(f);
        {
            int crc = hre_storage_file_close(f);
            if (rc == HRE_OK) rc = crc;
        }
    }
    if (rc == HRE_OK) rc = hre_storage_sync_dir(p->inner);
    return rc;
}

static int pl_do_crash(pl_state *p)
{
    pl_ns fin;
    pl_file *pf;
    pl_nsop *op;
    size_t keep, i;
    int rc;

    p->crashed = 1;
    for (pf = p->files; pf; pf = pf->next) {
        (void)hre_storage_file_close(pf->inner);
        pf->inner = NULL;
    }
    /* Namespace: the durable one plus a prefix of the pending changes. */
    memset(&fin, 0, sizeof fin);
    if (p->o.mode == HRE_POWERLOSS_DROP) keep = 0;
    else if (p->o.mode == HRE_POWERLOSS_KEEP) keep = p->ns_count;
    else keep = (size_t)pl_below(p, (uint64_t)p->ns_count + 1);
    rc = ns_reserve(&fin, p->durable.n + keep + 1);
    if (rc == HRE_OK) {
        if (p->durable.n) memcpy(fin.e, p->durable.e, p->durable.n * sizeof *fin.e);
        fin.n = p->durable.n;
        for (op = p->ns_head, i = 0; op && i < keep; op = op->next, i++) ns_apply(&fin, op);
        /* Content of every surviving file. */
        for (i = 0; rc == HRE_OK && i < fin.n; i++) rc = crash_content(p, fin.e[i].ino);
        if (rc == HRE_OK) rc = rewrite_inner(p, &fin);
    }
    hre__free(fin.e);
    p->crash_rc = rc;
    return rc;
}

/* Every method starts here: power state, call counting, crash points and
 * fault injection. */
static int pl_enter(pl_state *p, int is_sync, int *injected)
{
    *injected = 0;
    if (p->crashed) return hre__fail(HRE_EIO, "powerloss storage: the power is off");
    p->calls++;
    if (p->o.crash_at_call && p->calls == p->o.crash_at_call) {
        (void)pl_do_crash(p);
        return hre__fail(HRE_EIO, "powerloss storage: power lost at call %llu",
                         (unsigned long long)p->calls);
    }
    if (is_sync) {
        p->syncs++;
        if (p->o.crash_at_sync && p->syncs == p->o.crash_at_sync) {
            (void)pl_do_crash(p);
            return hre__fail(HRE_EIO, "powerloss storage: power lost at sync %llu",
                             (unsigned long long)p->syncs);
        }
    }
    if (p->o.fail_at_call && p->calls >= p->o.fail_at_call &&
        p->calls - p->o.fail_at_call < (p->o.fail_count ? p->o.fail_count : 1)) {
        int code = p->o.fail_code ? p->o.fail_code : HRE_EIO;
        p->failures++;
        *injected = 1;
        return hre__fail(code, "powerloss storage: injected %s at call %llu",
                         code == HRE_ENOSPC ? "ENOSPC" : "EIO", (unsigned long long)p->calls);
    }
    return HRE_OK;
}

/* ---- methods ------------------------------------------------------------- */

static int pl_open(void *self, const char *name, unsigned int flags, void **file)
{
    pl_state *p = self;
    pl_file *pf;
    pl_inode *ino = NULL;
    pl_nsop *nsop = NULL;
    pl_op *trunc = NULL;
    long idx;
    int injected, rc;

    *file = NULL;
    if ((rc = pl_enter(p, 0, &injected)) != HRE_OK) return rc;
    idx = ns_find(&p->vol, name);
    pf = hre__calloc(1, sizeof *pf);
    if (!pf) return hre__fail(HRE_ENOMEM, "powerloss storage: out of memory");
    if (idx < 0 && (flags & HRE_STORAGE_CREATE)) {
        nsop = hre__calloc(1, sizeof *nsop);
        if (!nsop || (rc = ns_reserve(&p->vol, 1)) != HRE_OK) {
            hre__free(nsop);
            hre__free(pf);
            return hre__fail(HRE_ENOMEM, "powerloss storage: out of memory");
        }
    }
    if (flags & HRE_STORAGE_TRUNCATE) {
        trunc = op_new(OP_TRUNC, 0, NULL, 0);
        if (!trunc) {
            hre__free(nsop);
            hre__free(pf);
            return hre__fail(HRE_ENOMEM, "powerloss storage: out of memory");
        }
    }
    if (nsop) {
        /* allocated before the inner open, so no failure can follow it
         * (an unused inode stays on the list until destroy) */
        ino = ino_new(p);
        if (!ino) {
            hre__free(nsop);
            ops_free(trunc);
            hre__free(pf);
            return hre__fail(HRE_ENOMEM, "powerloss storage: out of memory");
        }
    }
    rc = hre_storage_file_open(&pf->inner, p->inner, name, flags);
    if (rc == HRE_OK && idx < 0 && !(flags & HRE_STORAGE_CREATE)) {
        (void)hre_storage_file_close(pf->inner);
        rc = hre__fail(HRE_EIO, "powerloss storage: '%s' exists below but not in the model",
                       name);
    }
    if (rc != HRE_OK) {
        hre__free(nsop);
        ops_free(trunc);
        hre__free(pf);
        return rc;
    }
    if (idx < 0) {
        ns_set(&p->vol, name, ino);
        nsop->kind = NS_CREATE;
        strcpy(nsop->a, name);
        nsop->ino = ino;
        nsop_push(p, nsop);
    } else {
        ino = p->vol.e[idx].ino;
    }
    if (trunc) op_push(ino, trunc);
    pf->ino = ino;
    pf->next = p->files;
    if (pf->next) pf->next->prev = pf;
    p->files = pf;
    *file = pf;
    return HRE_OK;
}

static int pl_close(void *self, void *file)
{
    pl_state *p = self;
    pl_file *pf = file;
    int injected, rc, rc2 = HRE_OK;
    rc = pl_enter(p, 0, &injected);
    if (pf->inner) rc2 = hre_storage_file_close(pf->inner);
    if (pf->prev) pf->prev->next = pf->next;
    else p->files = pf->next;
    if (pf->next) pf->next->prev = pf->prev;
    hre__free(pf);
    return rc != HRE_OK ? rc : rc2;
}

static int pl_read(void *self, void *file, void *buf, size_t len, size_t *got,
                   uint64_t offset)
{
    pl_file *pf = file;
    int injected, rc;
    if ((rc = pl_enter(self, 0, &injected)) != HRE_OK) return rc;
    return hre_storage_file_read(pf->inner, buf, len, got, offset);
}

/* Shared by append (offset == UINT64_MAX) and write. */
static int pl_put(pl_state *p, pl_file *pf, uint64_t offset, const void *data, size_t len,
                  uint64_t *where)
{
    pl_op *op;
    uint64_t o = offset;
    int injected, rc;

    rc = pl_enter(p, 0, &injected);
    if (rc != HRE_OK) {
        if (injected && p->o.fail_partial) {
            /* A disk filling up mid-write: a prefix may land (unsynced). */
            size_t k = (size_t)pl_below(p, len);
            int saved = rc;
            char detail[256];
            snprintf(detail, sizeof detail, "%s", hre_error_detail());
            if (k > 0 && (op = op_new(OP_WRITE, 0, data, k)) != NULL) {
                int r = offset == UINT64_MAX ? hre_storage_file_append(pf->inner, &o, data, k)
                                             : hre_storage_file_write(pf->inner, o, data, k);
                if (r == HRE_OK) {
                    op->off = o;
                    op_push(pf->ino, op);
                } else {
                    ops_free(op);
                }
            }
            return hre__fail(saved, "%s", detail);
        }
        return rc;
    }
    if ((offset == UINT64_MAX ? 0 : offset) + len > PL_FILE_MAX)
        return hre__fail(HRE_ENOSPC, "powerloss storage: file larger than the model supports");
    op = op_new(OP_WRITE, 0, data, len);
    if (!op) return hre__fail(HRE_ENOMEM, "powerloss storage: out of memory");
    if (offset == UINT64_MAX) rc = hre_storage_file_append(pf->inner, &o, data, len);
    else rc = hre_storage_file_write(pf->inner, o, data, len);
    if (rc != HRE_OK) {
        ops_free(op);
        return rc;
    }
    if (o + len > PL_FILE_MAX) {
        ops_free(op);
        return hre__fail(HRE_EIO, "powerloss storage: file larger than the model supports");
    }
    op->off = o;
    op_push(pf->ino, op);
    if (where) *where = o;
    return HRE_OK;
}

static int pl_append(void *self, void *file, uint64_t *offset, const void *data, size_t len)
{
    return pl_put(self, file, UINT64_MAX, data, len, offset);
}

static int pl_write(void *self, void *file, uint64_t offset, const void *data, size_t len)
{
    return pl_put(self, file, offset, data, len, NULL);
}

static int pl_sync(void *self, void *file)
{
    pl_state *p = self;
    pl_file *pf = file;
    pl_inode *ino = pf->ino;
    pl_op *op;
    int injected, rc;
    if ((rc = pl_enter(p, 1, &injected)) != HRE_OK) return rc;
    if ((rc = img_reserve(ino, img_peak(ino))) != HRE_OK) return rc;
    if ((rc = hre_storage_file_sync(pf->inner)) != HRE_OK) return rc;
    for (op = ino->head; op; op = op->next) img_apply(ino, op);
    ops_free(ino->head);
    ino->head = ino->tail = NULL;
    return HRE_OK;
}

static int pl_size(void *self, void *file, uint64_t *size)
{
    int injected, rc;
    if ((rc = pl_enter(self, 0, &injected)) != HRE_OK) return rc;
    return hre_storage_file_size(((pl_file *)file)->inner, size);
}

static int pl_truncate(void *self, void *file, uint64_t size)
{
    pl_state *p = self;
    pl_file *pf = file;
    pl_op *op;
    int injected, rc;
    if ((rc = pl_enter(p, 0, &injected)) != HRE_OK) return rc;
    if (size > PL_FILE_MAX)
        return hre__fail(HRE_ENOSPC, "powerloss storage: file larger than the model supports");
    op = op_new(OP_TRUNC, size, NULL, 0);
    if (!op) return hre__fail(HRE_ENOMEM, "powerloss storage: out of memory");
    if ((rc = hre_storage_file_truncate(pf->inner, size)) != HRE_OK) {
        ops_free(op);
        return rc;
    }
    op_push(pf->ino, op);
    return HRE_OK;
}

static int pl_rename(void *self, const char *from, const char *to)
{
    pl_state *p = self;
    pl_nsop *op;
    long i;
    int injected, rc;
    if ((rc = pl_enter(p, 0, &injected)) != HRE_OK) return rc;
    op = hre__calloc(1, sizeof *op);
    if (!op) return hre__fail(HRE_ENOMEM, "powerloss storage: out of memory");
    if ((rc = hre_storage_rename(p->inner, from, to)) != HRE_OK) {
        hre__free(op);
        return rc;
    }
    i = ns_find(&p->vol, from);
    if (i < 0) {
        hre__free(op);
        return hre__fail(HRE_EIO, "powerloss storage: '%s' renamed below but not in the model",
                         from);
    }
    {
        pl_inode *ino = p->vol.e[i].ino;
        ns_del(&p->vol, from);
        ns_set(&p->vol, to, ino);   /* a slot was just freed */
    }
    op->kind = NS_RENAME;
    strcpy(op->a, from);
    strcpy(op->b, to);
    nsop_push(p, op);
    return HRE_OK;
}

static int pl_remove(void *self, const char *name)
{
    pl_state *p = self;
    pl_nsop *op;
    int injected, rc;
    if ((rc = pl_enter(p, 0, &injected)) != HRE_OK) return rc;
    op = hre__calloc(1, sizeof *op);
    if (!op) return hre__fail(HRE_ENOMEM, "powerloss storage: out of memory");
    if ((rc = hre_storage_remove(p->inner, name)) != HRE_OK) {
        hre__free(op);
        return rc;
    }
    ns_del(&p->vol, name);
    op->kind = NS_REMOVE;
    strcpy(op->a, name);
    nsop_push(p, op);
    return HRE_OK;
}

static int pl_list(void *self, hre_storage_list_cb cb, void *cb_arg)
{
    pl_state *p = self;
    int injected, rc;
    if ((rc = pl_enter(p, 0, &injected)) != HRE_OK) return rc;
    return hre_storage_list(p->inner, cb, cb_arg);
}

static int pl_sync_dir(void *self)
{
    pl_state *p = self;
    pl_nsop *op;
    int injected, rc;
    if ((rc = pl_enter(p, 1, &injected)) != HRE_OK) return rc;
    if ((rc = ns_reserve(&p->durable, p->ns_count + 1)) != HRE_OK) return rc;
    if ((rc = hre_storage_sync_dir(p->inner)) != HRE_OK) return rc;
    for (op = p->ns_head; op; op = op->next) ns_apply(&p->durable, op);
    while (p->ns_head) {
        op = p->ns_head->next;
        hre__free(p->ns_head);
        p->ns_head = op;
    }
    p->ns_tail = NULL;
    p->ns_count = 0;
    return HRE_OK;
}

static int pl_control(void *self, void *file, int op, void *arg)
{
    pl_state *p = self;
    int injected, rc;
    if ((rc = pl_enter(p, 0, &injected)) != HRE_OK) return rc;
    if (op == HRE_STORAGE_CTL_BACKEND_NAME) {
        if (!arg) return hre__fail(HRE_EINVAL, "powerloss storage: control: NULL arg");
        *(const char **)arg = "powerloss";
        return HRE_OK;
    }
    if (op == HRE_STORAGE_CTL_SECTOR_SIZE) {
        if (!arg) return hre__fail(HRE_EINVAL, "powerloss storage: control: NULL arg");
        *(uint32_t *)arg = p->o.sector_size ? p->o.sector_size : 512;
        return HRE_OK;
    }
    return hre_storage_control(p->inner, file ? ((pl_file *)file)->inner : NULL, op, arg);
}

static void pl_destroy(void *self)
{
    pl_state *p = self;
    if (!p) return;
    while (p->files) {
        pl_file *pf = p->files;
        p->files = pf->next;
        (void)hre_storage_file_close(pf->inner);
        hre__free(pf);
    }
    while (p->inodes) {
        pl_inode *ino = p->inodes;
        p->inodes = ino->next_all;
        ops_free(ino->head);
        hre__free(ino->img);
        hre__free(ino);
    }
    while (p->ns_head) {
        pl_nsop *op = p->ns_head->next;
        hre__free(p->ns_head);
        p->ns_head = op;
    }
    hre__free(p->durable.e);
    hre__free(p->vol.e);
    hre__free(p);
}

static const hre_storage_methods pl_methods = {
    HRE_STORAGE_VERSION,
    pl_open, pl_close, pl_read, pl_append, pl_write, pl_sync, pl_size, pl_truncate,
    pl_rename, pl_remove, pl_list, pl_sync_dir, pl_control, pl_destroy,
};

static pl_state *pl_of(const hre_storage *s)
{
    if (!s || s->m.open != pl_open) return NULL;
    return s->self;
}

static const size_t options_size[] = { 0, HRE__END(hre_powerloss_options, sector_size) };
static const hre__vstruct options_desc = { "hre_powerloss_options", HRE_POWERLOSS_OPTIONS_VERSION,
                                           options_size };
static const size_t stats_size[] = { 0, HRE__END(hre_powerloss_stats, failures) };
static const hre__vstruct stats_desc = { "hre_powerloss_stats", HRE_POWERLOSS_STATS_VERSION, stats_size };

HRE_API int hre_powerloss_options_init(hre_powerloss_options *opts, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&options_desc, opts, version));
}

HRE_API int hre_powerloss_stats_init(hre_powerloss_stats *out, unsigned int version)
{
    HRE__API_SCOPE;
    return hre__api_done(hre__vstruct_init(&stats_desc, out, version));
}

HRE_API int hre_powerloss_new(hre_storage **out, hre_storage *inner,
                              const hre_powerloss_options *opts_in)
{
    HRE__API_SCOPE;
    struct name_list l;
    hre_powerloss_options ob;
    const hre_powerloss_options *opts = NULL;
    pl_state *p;
    size_t i;
    int rc;

    if (out) *out = NULL;
    HRE__CHECK_ARG(out != NULL && inner != NULL);
    if (opts_in) {
        if ((rc = hre__vstruct_in(&options_desc, &ob, opts_in)) != HRE_OK) return rc;
        opts = &ob;
    }
    if (opts) {
        if (opts->mode != HRE_POWERLOSS_DROP && opts->mode != HRE_POWERLOSS_TEAR &&
            opts->mode != HRE_POWERLOSS_KEEP)
            return hre__fail(HRE_EINVAL, "powerloss storage: bad mode");
        if (opts->fail_code != 0 && opts->fail_code != HRE_EIO && opts->fail_code != HRE_ENOSPC)
            return hre__fail(HRE_EINVAL, "powerloss storage: fail_code must be EIO or ENOSPC");
    }
    p = hre__calloc(1, sizeof *p);
    if (!p) return hre__fail(HRE_ENOMEM, "powerloss storage: out of memory");
    p->inner = inner;
    if (opts) p->o = *opts;
    p->rng = p->o.seed ^ 0x5eed5eed5eed5eedULL;

    /* Everything already in inner counts as durable. */
    memset(&l, 0, sizeof l);
    rc = hre_storage_list(inner, collect_name, &l);
    for (i = 0; rc == HRE_OK && i < l.n; i++) {
        pl_inode *ino = ino_new(p);
        uint8_t *buf = NULL;
        size_t len = 0;
        if (!ino) {
            rc = hre__fail(HRE_ENOMEM, "powerloss storage: out of memory");
            break;
        }
        rc = hre_storage__read_all(inner, l.names[i], (size_t)PL_FILE_MAX, &buf, &len);
        if (rc != HRE_OK) break;
        ino->img = buf;
        ino->len = len;
        ino->cap = len ? len : 1;
        if ((rc = ns_reserve(&p->durable, 1)) != HRE_OK) break;
        if ((rc = ns_reserve(&p->vol, 1)) != HRE_OK) break;
        ns_set(&p->durable, l.names[i], ino);
        ns_set(&p->vol, l.names[i], ino);
    }
    hre__free(l.names);
    if (rc != HRE_OK) {
        pl_destroy(p);
        return hre__api_done(rc);
    }
    return hre__api_done(hre_storage__new_builtin(out, &pl_methods, p));
}

HRE_API int hre_powerloss_crash(hre_storage *pl)
{
    HRE__API_SCOPE;
    pl_state *p = pl_of(pl);
    if (!p) return hre__fail(HRE_EINVAL, "not a powerloss storage");
    if (p->crashed) return hre__fail(HRE_ESTATE, "powerloss storage: the power is already off");
    return hre__api_done(pl_do_crash(p));
}

HRE_API int hre_powerloss_stats_get(const hre_storage *pl, hre_powerloss_stats *out)
{
    HRE__API_SCOPE;
    const pl_state *p = pl_of(pl);
    hre_powerloss_stats full;
    int rc;
    if (!out) return hre__fail(HRE_EINVAL, "hre_powerloss_stats_get: NULL out");
    if ((rc = hre__vstruct_check(&stats_desc, out->version)) != HRE_OK) return rc;
    if (!p) return hre__fail(HRE_EINVAL, "hre_powerloss_stats_get: not a powerloss storage");
    memset(&full, 0, sizeof full);
    full.version = HRE_POWERLOSS_STATS_VERSION;
    full.crashed = p->crashed;
    full.crash_rc = p->crash_rc;
    full.calls = p->calls;
    full.syncs = p->syncs;
    full.failures = p->failures;
    return hre__api_done(hre__vstruct_out(&stats_desc, out, &full));
}
