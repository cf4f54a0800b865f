/*
 * Internal (non-exported) core helpers shared by every layer of libhre.
 * Names follow hre__<name> (double underscore): never part of the ABI.
 */
#ifndef HRE_CORE_INTERNAL_H
#define HRE_CORE_INTERNAL_H

#if !defined(HRE_BUILD) && !defined(HRE_WHITEBOX)
#  error "lib/core/internal.h is for building libhre only"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hre/common.h"
#include "hre/errors.h"

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

/* Argument check helper: returns HRE_EINVAL with a detail naming the argument. */
#define HRE__CHECK_ARG(cond) \
    do { if (HRE__UNLIKELY(!(cond))) return hre__fail(HRE_EINVAL, "%s: invalid argument (%s)", __func__, #cond); } while (0)

#endif /* HRE_CORE_INTERNAL_H */
