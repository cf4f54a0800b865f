/* Allocation wrappers (with test-only fault injection) and secure wiping. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <openssl/crypto.h>

#include "core/internal.h"

#ifdef HRE_TESTING
static _Thread_local long tl_fail_after = -1;
static _Thread_local long tl_count;
static atomic_long g_live;   /* blocks allocated and not yet freed, all threads */

void hre_test__alloc_fail_after(long n)
{
    tl_fail_after = n;
    tl_count = 0;
}

long hre_test__alloc_count(void)
{
    return tl_count;
}

long hre_test__alloc_live(void)
{
    return atomic_load(&g_live);
}

static void *counted(void *p)
{
    if (p) atomic_fetch_add(&g_live, 1);
    return p;
}

static void uncounted(const void *p)
{
    if (p) atomic_fetch_sub(&g_live, 1);
}

static int should_fail(void)
{
    tl_count++;
    if (tl_fail_after < 0) return 0;
    if (tl_fail_after == 0) return 1;
    tl_fail_after--;
    return 0;
}
#else
#define should_fail() 0
#define counted(p) (p)
#define uncounted(p) ((void)0)
#endif

void *hre__malloc(size_t n)
{
    if (should_fail()) return NULL;
    return counted(malloc(n ? n : 1));
}

void *hre__calloc(size_t count, size_t size)
{
    if (should_fail()) return NULL;
    if (count == 0 || size == 0) count = size = 1;
    return counted(calloc(count, size));
}

void *hre__realloc(void *p, size_t n)
{
    void *q;
    if (should_fail()) return NULL;
    q = realloc(p, n ? n : 1);
    return p ? q : counted(q);   /* a moved block is still one block */
}

void hre__free(void *p)
{
    uncounted(p);
    free(p);
}

void hre__advise_large(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t a, b;
    if (!p || n < 2 * huge) return;
    a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    b = ((uintptr_t)p + n) & ~(huge - 1);
    /* advisory only: an error (no THP support, ...) changes nothing */
    if (b > a) (void)madvise((void *)a, (size_t)(b - a), MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

HRE_API void hre_wipe(void *p, size_t len)
{
    if (p && len) OPENSSL_cleanse(p, len);
}

void hre__free_secret(void *p, size_t n)
{
    if (!p) return;
    hre_wipe(p, n);
    uncounted(p);
    free(p);
}
