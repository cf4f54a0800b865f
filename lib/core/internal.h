/*
 * Internal (non-exported) core helpers shared by every layer of libhre.
 * Names follow hre__<name> (double underscore): never part of the ABI. */
#ifndef HRE_CORE_INTERNAL_H
#define HRE_CORE_INTERNAL_H

#if !defined(HRE_BUILD) && !defined(HRE_WHITEBOX)
#  error "lib/core/internal.h is for building libhre only"
#endif

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hre/common.h"
#include "hre/errors.h"
#include "hre/pool.h"

#if defined(__GNUC__)
#  define HRE__PRINTF(a, b) __attribute__((format(printf, a, b)))
#  define HRE__LIKELY(x) __builtin_expect(!!(x), 1)
#  define HRE__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#  define HRE__PRINTF(a, b)
#  define HRE__LIKELY(x) (x)
#  define HRE__UNLIKELY(x) (x)
#endif

/* Record a failure for the calling thread and return code. The detail message
 * must never contain secrets. Usage: return hre__fail(HRE_EDECODE, "bad %s", what); */
int hre__fail(int code, const char *fmt, ...) HRE__PRINTF(2, 3);

/* Rule 4 of common.h: after a SUCCESSFUL int-returning public call the
 * thread's error is clear, whatever the call met and handled inside (a
 * lookup that missed, a file that did not exist yet). Every such entry
 * point starts with HRE__API_SCOPE and returns through hre__api_done(rc).
 * The scope counts how deep the thread is in libhre calls (the cleanup
 * attribute decrements it on every return path), so only the OUTERMOST
 * call clears: a public function the library calls inside a failing call
 * (an undo while rolling back, a hash for a detail message) cannot wipe
 * that call's detail. Failures are still recorded by hre__fail. */
extern _Thread_local unsigned int hre__tl_depth;
void hre__error_reset(void);
static inline int hre__api_enter(void) { return (int)hre__tl_depth++; }
static inline void hre__api_leave(int *prev) { hre__tl_depth = (unsigned int)*prev; }
static inline int hre__api_done(int rc)
{
    if (rc == HRE_OK && hre__tl_depth == 1) hre__error_reset();
    return rc;
}
#if defined(__GNUC__)
#  define HRE__API_SCOPE \
    int hre__api_scope_ __attribute__((cleanup(hre__api_leave), unused)) = hre__api_enter()
#else
#  error "libhre needs the GCC/Clang cleanup attribute (HRE__API_SCOPE)"
#endif

/* Allocation: all library allocations go through these, so tests can make the
 * Nth allocation fail (HRE_TESTING builds only). hre__free(NULL) is fine. */
void *hre__malloc(size_t n);
void *hre__calloc(size_t count, size_t size);
void *hre__realloc(void *p, size_t n);
void hre__free(void *p);
/* Hint that a large block (>= 4 MiB; smaller ones are left alone) will be
 * filled soon: on Linux its 2 MiB-aligned interior is marked for transparent
 * huge pages, so filling it costs one page fault per 2 MiB instead of one per
 * 4 KiB (with THP in "madvise" mode, the Debian default). Advisory only. */
void hre__advise_large(void *p, size_t n);
/* Wipe n bytes, then free. */
void hre__free_secret(void *p, size_t n);

#ifdef HRE_TESTING
/* Test-only fault injection (thread-local): after `n` more successful
 * allocations, every allocation fails until reset with n < 0. */
void hre_test__alloc_fail_after(long n);
/* Allocations attempted on this thread since the last reset. */
long hre_test__alloc_count(void);
/* Library blocks (hre__malloc/calloc/realloc) allocated and not yet freed,
 * counted over all threads: a call that cleans up after itself leaves it
 * unchanged (tests/testutil.h, hre_t_alloc_sweep). */
long hre_test__alloc_live(void);
#endif

static inline uint16_t hre__le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t hre__le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t hre__le64(const uint8_t *p)
{
    return (uint64_t)hre__le32(p) | (uint64_t)hre__le32(p + 4) << 32;
}
static inline void hre__put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void hre__put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void hre__put_le64(uint8_t *p, uint64_t v)
{
    hre__put_le32(p, (uint32_t)v);
    hre__put_le32(p + 4, (uint32_t)(v >> 32));
}
static inline uint32_t hre__be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static inline void hre__put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* ------------------------------------------------------------------------ */
/* Bounded byte reader and writer (canonical encoding)                       */
/* ------------------------------------------------------------------------ */
/*
 * All multi-byte integers are little-endian. Lengths and counts use Bitcoin's
 * CompactSize: < 0xfd in one byte, else 0xfd + u16, 0xfe + u32, 0xff + u64.
 * The reader rejects non-minimal CompactSize encodings and never reads past
 * the end of its buffer. On any failure the reader is "poisoned": every later
 * read fails too, so a decoder may check once at the end.
 *
 * Both structs are value types the caller keeps (e.g. on the stack). They
 * are internal (never exported, not part of the ABI): the library's decoders
 * and encoders, the white-box tests and the fuzz targets use them. */
typedef struct hre__reader {
    const uint8_t *data;   /* start of input */
    size_t len;            /* total input length */
    size_t pos;            /* bytes consumed */
    int err;               /* first error (HRE_OK while healthy) */
} hre__reader;

typedef struct hre__writer {
    uint8_t *buf;          /* output buffer; may be NULL when cap == 0 */
    size_t cap;            /* capacity of buf */
    size_t len;            /* bytes the encoding needs so far (may exceed cap) */
} hre__writer;

/** Start reading len bytes at data. data may be NULL only if len == 0.
 *  Thread safety: the reader is not shared; data must stay valid while read. */
void hre__reader_init(hre__reader *r, const void *data, size_t len);

/** Read one little-endian integer into *out.
 *  Returns: HRE_OK; HRE_EDECODE if too few bytes remain (the reader is then
 *           poisoned and *out is set to 0). */
int hre__reader_u8(hre__reader *r, uint8_t *out);
int hre__reader_u16(hre__reader *r, uint16_t *out);
int hre__reader_u32(hre__reader *r, uint32_t *out);
int hre__reader_u64(hre__reader *r, uint64_t *out);

/** Copy the next n bytes into out (out may be NULL to skip them).
 *  Returns: HRE_OK; HRE_EDECODE on a short input. */
int hre__reader_bytes(hre__reader *r, void *out, size_t n);

/** Borrow a pointer to the next n bytes and advance past them.
 *  Out: *out points into the reader's input (not copied).
 *  Returns: HRE_OK; HRE_EDECODE on a short input (*out = NULL). */
int hre__reader_borrow(hre__reader *r, const uint8_t **out, size_t n);

/** Read a CompactSize value and check it against max.
 *  Returns: HRE_OK; HRE_EDECODE on a short or non-minimal encoding;
 *           HRE_ELIMIT if the value exceeds max. The reader is poisoned on error. */
int hre__reader_compact(hre__reader *r, uint64_t *out, uint64_t max);

/** Bytes not yet consumed (0 once poisoned). */
size_t hre__reader_remaining(const hre__reader *r);

/** Finish decoding: the input must be fully consumed and no read may have failed.
 *  Returns: HRE_OK; the first recorded error; or HRE_EDECODE for trailing bytes. */
int hre__reader_finish(const hre__reader *r);

/** Start writing into buf (capacity cap). With buf == NULL and cap == 0 the
 *  writer only counts, which gives the encoded size. */
void hre__writer_init(hre__writer *w, void *buf, size_t cap);

/** Append one little-endian integer, bytes, or a minimal CompactSize. Writes
 *  past cap are counted but not stored, so the caller learns the needed size. */
void hre__writer_u8(hre__writer *w, uint8_t v);
void hre__writer_u16(hre__writer *w, uint16_t v);
void hre__writer_u32(hre__writer *w, uint32_t v);
void hre__writer_u64(hre__writer *w, uint64_t v);
void hre__writer_bytes(hre__writer *w, const void *data, size_t n);
void hre__writer_compact(hre__writer *w, uint64_t v);

/** Number of bytes a CompactSize encoding of v takes (1, 3, 5 or 9). */
size_t hre__compact_size_len(uint64_t v);

/** Finish writing.
 *  Out: *len (may be NULL) = bytes the encoding needs.
 *  Returns: HRE_OK if everything fit; HRE_EBUFSIZE otherwise. */
int hre__writer_finish(const hre__writer *w, size_t *len);

/* ------------------------------------------------------------------------ */
/* Versioned structs (common.h rule 7): one piece of code for every family   */
/* ------------------------------------------------------------------------ */
/*
 * A family describes its known layouts: size[v] is the number of bytes the
 * fields of version v occupy (the end of its last field, HRE__END), for
 * v = 1..current; size[0] is unused. Every struct starts with
 * `unsigned int version`.
 */
typedef struct hre__vstruct {
    const char *name;            /* for detail messages, e.g. "hre_ledger_options" */
    unsigned int current;        /* the newest version this library knows */
    const size_t *size;          /* current + 1 entries */
} hre__vstruct;

/* End of member m of struct type T: where the next version's fields begin. */
#define HRE__END(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))

/* HRE_OK if 1 <= version <= d->current; HRE_EUNSUPPORTED (detail names the
 * struct and both versions) otherwise. */
int hre__vstruct_check(const hre__vstruct *d, unsigned int version);
/* _init: zero the bytes `version` declares and set the version field. Checks
 * the version first (HRE_EUNSUPPORTED; nothing written). HRE_EINVAL for NULL. */
int hre__vstruct_init(const hre__vstruct *d, void *dst, unsigned int version);
/* Read an input struct: check src's version, zero all of *dst (a full
 * current-version struct) and copy in the prefix src's version declares, so
 * fields an older caller does not have take their defaults. dst keeps src's
 * version. HRE_EINVAL for NULL src. */
int hre__vstruct_in(const hre__vstruct *d, void *dst, const void *src);
/* Fill an output struct: dst->version (set by the caller) says how much of
 * src (a full current-version struct) to copy; dst keeps its version and
 * nothing past that version's fields is written. */
int hre__vstruct_out(const hre__vstruct *d, void *dst, const void *src);
/* List element size -> the newest version whose fields fit in elem_size
 * bytes. HRE_EUNSUPPORTED if not even version 1 fits. */
int hre__vstruct_for_size(const hre__vstruct *d, size_t elem_size, unsigned int *version);
/* Write element i of a caller list with stride elem_size in version `version`
 * (from hre__vstruct_for_size): that version's prefix of src, then the
 * version field. Never writes past the element's elem_size bytes. */
void hre__vstruct_put(const hre__vstruct *d, void *list, size_t elem_size, size_t i,
                      unsigned int version, const void *src);

/* ------------------------------------------------------------------------ */
/* Log hook (common.h hre_log_fn)                                            */
/* ------------------------------------------------------------------------ */
/* Format into a bounded stack buffer (HRE__LOG_MAX bytes, truncated) and
 * pass it to fn. fn NULL: nothing is formatted. Never log secrets. */
#define HRE__LOG_MAX 512
void hre__log(hre_log_fn fn, void *user_data, int level, const char *fmt, ...) HRE__PRINTF(4, 5);

/* ------------------------------------------------------------------------ */
/* Parallel loops on an hre_pool (lib/core/pool.c)                           */
/* ------------------------------------------------------------------------ */
/* fn(arg, i) runs once for every i in [0, n), on the pool's workers and the
 * joining thread. Error details set inside fn are thread-local to whichever
 * thread ran the item: report results through arg. */
typedef void (*hre__pool_fn)(void *arg, size_t index);

/* A loop in flight; lives in the caller's memory (e.g. its stack) from
 * begin until join returns. Fields are private to pool.c. */
typedef struct hre__pool_job {
    hre__pool_fn fn;
    void *arg;
    size_t n;
    atomic_size_t next;              /* next unclaimed index */
    unsigned int users;              /* workers holding the job (pool lock) */
    int queued;                      /* in the pool's queue (pool lock) */
    struct hre__pool_job *link;
} hre__pool_job;

/* Queue the loop; the pool's idle workers start on it at once. pool NULL or
 * with 0 threads: nothing runs until join. */
void hre__pool_begin(hre_pool *pool, hre__pool_job *job, size_t n, hre__pool_fn fn, void *arg);
/* Run the remaining items on this thread, then wait until every item has
 * finished. After join the job may be discarded. */
void hre__pool_join(hre_pool *pool, hre__pool_job *job);
/* begin + join. */
void hre__pool_for(hre_pool *pool, size_t n, hre__pool_fn fn, void *arg);

/* Argument check helper: returns HRE_EINVAL with a detail naming the argument. */
#define HRE__CHECK_ARG(cond) \
    do { if (HRE__UNLIKELY(!(cond))) return hre__fail(HRE_EINVAL, "%s: invalid argument (%s)", __func__, #cond); } while (0)

/* ------------------------------------------------------------------------ */
/* SipHash and the 32-byte-key hash map (siphash.c, map.c)                  */
/* ------------------------------------------------------------------------ */

typedef struct hre__sipkey {
    uint64_t k0, k1;
} hre__sipkey;

/* The key from 16 bytes (little-endian k0, k1). */
void hre__sipkey_set(hre__sipkey *k, const uint8_t bytes[16]);
/* SipHash-c-d of in[0..len) under k: (2, 4) is the paper's SipHash-2-4,
 * (1, 3) the cheaper SipHash-1-3 for hash tables. */
uint64_t hre__siphash(const hre__sipkey *k, const uint8_t *in, size_t len, unsigned c, unsigned d);

#define HRE__MAP_SHRINK 1u   /* hre__map_init flag: shrink to 1/4 below 1/8 load */

typedef struct hre__map {
    const uint8_t **keys;   /* the callers' key pointers (they point into the values) */
    void **vals;
    size_t cap, count;      /* cap: a power of two, or 0 */
    hre__sipkey key;        /* the slot hash's secret */
    unsigned flags;
    void *(*zalloc)(void *ctx, size_t size);   /* zeroed memory; NULL on failure */
    void (*dealloc)(void *ctx, void *p);
    void *ctx;
} hre__map;

/* An empty map whose slots hash under secret (16 bytes from
 * hre_random_bytes: some keys are chosen by peers). zalloc/dealloc/ctx: the
 * owner's accounting allocator, or NULL/NULL/NULL for hre__calloc/hre__free.
 * A map all zero (never initialised) is not usable; a freed one is, empty. */
void hre__map_init(hre__map *m, const uint8_t secret[16], unsigned flags,
                   void *(*zalloc)(void *ctx, size_t size), void (*dealloc)(void *ctx, void *p), void *ctx);
void *hre__map_get(const hre__map *m, const uint8_t key[32]);
/* Insert or replace. key must stay valid while in the map. HRE_OK or
 * HRE_ENOMEM (the map unchanged). */
int hre__map_put(hre__map *m, const uint8_t *key, void *val);
void hre__map_del(hre__map *m, const uint8_t key[32]);
/* Room for `extra` more puts without allocating (unless a shrinking map
 * shrinks in between). HRE_OK or HRE_ENOMEM. */
int hre__map_reserve(hre__map *m, size_t extra);
/* Release the tables; the map stays initialised and empty. */
void hre__map_free(hre__map *m);
/* Bytes of the tables. */
size_t hre__map_bytes(const hre__map *m);
/* Slots a lookup of key visits (tests of the probe runs' length). */
size_t hre__map_probe_len(const hre__map *m, const uint8_t key[32]);

#endif /* HRE_CORE_INTERNAL_H */
