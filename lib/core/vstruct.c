/* Versioned structs (common.h rule 7): version check, _init, and prefix
 * copies in and out, shared by every struct family of the library. */
#include "core/internal.h"

int hre__vstruct_check(const hre__vstruct *d, unsigned int version)
{
    if (version == 0 || version > d->current)
        return hre__fail(HRE_EUNSUPPORTED, "%s version %u not supported (this library knows 1..%u)",
                         d->name, version, d->current);
    return HRE_OK;
}

int hre__vstruct_init(const hre__vstruct *d, void *dst, unsigned int version)
{
    int rc;
    if (!dst) return hre__fail(HRE_EINVAL, "%s init: NULL struct", d->name);
    if ((rc = hre__vstruct_check(d, version)) != HRE_OK) return rc;
    memset(dst, 0, d->size[version]);
    *(unsigned int *)dst = version;
    return HRE_OK;
}

int hre__vstruct_in(const hre__vstruct *d, void *dst, const void *src)
{
    unsigned int version;
    int rc;
    if (!src) return hre__fail(HRE_EINVAL, "%s: NULL struct", d->name);
    version = *(const unsigned int *)src;
    if ((rc = hre__vstruct_check(d, version)) != HRE_OK) return rc;
    memset(dst, 0, d->size[d->current]);
    memcpy(dst, src, d->size[version]);
    return HRE_OK;
}

int hre__vstruct_out(const hre__vstruct *d, void *dst, const void *src)
{
    unsigned int version;
    int rc;
    if (!dst) return hre__fail(HRE_EINVAL, "%s: NULL struct", d->name);
    version = *(const unsigned int *)dst;
    if ((rc = hre__vstruct_check(d, version)) != HRE_OK) return rc;
    memcpy(dst, src, d->size[version]);
    *(unsigned int *)dst = version;
    return HRE_OK;
}

int hre__vstruct_for_size(const hre__vstruct *d, size_t elem_size, unsigned int *version)
{
    unsigned int v = d->current;
    while (v > 0 && d->size[v] > elem_size) v--;
    *version = v;
    if (v == 0)
        return hre__fail(HRE_EUNSUPPORTED, "%s: element size %zu is below version 1 (%zu bytes)",
                         d->name, elem_size, d->size[1]);
    return HRE_OK;
}

void hre__vstruct_put(const hre__vstruct *d, void *list, size_t elem_size, size_t i,
                      unsigned int version, const void *src)
{
    uint8_t *e = (uint8_t *)list + i * elem_size;
    memcpy(e, src, d->size[version]);
    memcpy(e, &version, sizeof version);
}
