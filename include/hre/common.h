/*
 * libhre -- Healthcare Records Exchange ledger library.
 * common.h: export macros and basic includes shared by every public header.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef HRE_COMMON_H
#define HRE_COMMON_H

#include <stddef.h>
#include <stdint.h>

/*
 * HRE_API marks every exported declaration. The library is built with
 * -fvisibility=hidden and a linker version script, so only symbols carrying
 * HRE_API and listed in lib/libhre.map are visible in libhre.so.1.
 */
#if defined(HRE_BUILD)
#  if defined(_WIN32)
#    define HRE_API __declspec(dllexport)
#  elif defined(__GNUC__) && __GNUC__ >= 4
#    define HRE_API __attribute__((visibility("default")))
#  else
#    define HRE_API
#  endif
#else
#  if defined(_WIN32) && !defined(HRE_STATIC)
#    define HRE_API __declspec(dllimport)
#  else
#    define HRE_API
#  endif
#endif

/* Results that must be checked: ignoring them is a bug in the caller. */
#if defined(__GNUC__) && (__GNUC__ > 3 || (__GNUC__ == 3 && __GNUC_MINOR__ >= 4))
#  define HRE_WARN_UNUSED_RESULT __attribute__((__warn_unused_result__))
#else
#  define HRE_WARN_UNUSED_RESULT
#endif

#ifdef __cplusplus
#  define HRE_BEGIN_DECLS extern "C" {
#  define HRE_END_DECLS }
#else
#  define HRE_BEGIN_DECLS
#  define HRE_END_DECLS
#endif


HRE_BEGIN_DECLS

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
 * Both structs are value types the caller keeps (e.g. on the stack). Their
 * fields are public for ABI stability but should be treated as private.
 */
typedef struct hre_reader {
    const uint8_t *data;   /* start of input */
    size_t len;            /* total input length */
    size_t pos;            /* bytes consumed */
    int err;               /* first error (HRE_OK while healthy) */
} hre_reader;

typedef struct hre_writer {
    uint8_t *buf;          /* output buffer; may be NULL when cap == 0 */
    size_t cap;            /* capacity of buf */
    size_t len;            /* bytes the encoding needs so far (may exceed cap) */
} hre_writer;

/** Start reading len bytes at data. data may be NULL only if len == 0.
 *  Thread safety: the reader is not shared; data must stay valid while read.
 *  Since: 1.0 */
HRE_API void hre_reader_init(hre_reader *r, const void *data, size_t len);

/** Read one little-endian integer into *out.
 *  Returns: HRE_OK; HRE_EDECODE if too few bytes remain (the reader is then
 *           poisoned and *out is set to 0).
 *  Since: 1.0 */
HRE_API int hre_reader_u8(hre_reader *r, uint8_t *out);
HRE_API int hre_reader_u16(hre_reader *r, uint16_t *out);
HRE_API int hre_reader_u32(hre_reader *r, uint32_t *out);
HRE_API int hre_reader_u64(hre_reader *r, uint64_t *out);

/** Copy the next n bytes into out (out may be NULL to skip them).
 *  Returns: HRE_OK; HRE_EDECODE on a short input.
 *  Since: 1.0 */
HRE_API int hre_reader_bytes(hre_reader *r, void *out, size_t n);

/** Borrow a pointer to the next n bytes and advance past them.
 *  Out: *out points into the reader's input (not copied).
 *  Returns: HRE_OK; HRE_EDECODE on a short input (*out = NULL).
 *  Since: 1.0 */
HRE_API int hre_reader_borrow(hre_reader *r, const uint8_t **out, size_t n);

/** Read a CompactSize value and check it against max.
 *  Returns: HRE_OK; HRE_EDECODE on a short or non-minimal encoding;
 *           HRE_ELIMIT if the value exceeds max. The reader is poisoned on error.
 *  Since: 1.0 */
HRE_API int hre_reader_compact(hre_reader *r, uint64_t *out, uint64_t max);

/** Bytes not yet consumed (0 once poisoned).  Since: 1.0 */
HRE_API size_t hre_reader_remaining(const hre_reader *r);

/** Finish decoding: the input must be fully consumed and no read may have failed.
 *  Returns: HRE_OK; the first recorded error; or HRE_EDECODE for trailing bytes.
 *  Since: 1.0 */
HRE_API int hre_reader_finish(const hre_reader *r);

/** Start writing into buf (capacity cap). With buf == NULL and cap == 0 the
 *  writer only counts, which gives the encoded size.
 *  Since: 1.0 */
HRE_API void hre_writer_init(hre_writer *w, void *buf, size_t cap);

/** Append one little-endian integer, bytes, or a minimal CompactSize. Writes
 *  past cap are counted but not stored, so the caller learns the needed size.
 *  Since: 1.0 */
HRE_API void hre_writer_u8(hre_writer *w, uint8_t v);
HRE_API void hre_writer_u16(hre_writer *w, uint16_t v);
HRE_API void hre_writer_u32(hre_writer *w, uint32_t v);
HRE_API void hre_writer_u64(hre_writer *w, uint64_t v);
HRE_API void hre_writer_bytes(hre_writer *w, const void *data, size_t n);
HRE_API void hre_writer_compact(hre_writer *w, uint64_t v);

/** Number of bytes a CompactSize encoding of v takes (1, 3, 5 or 9).  Since: 1.0 */
HRE_API size_t hre_compact_size_len(uint64_t v);

/** Finish writing.
 *  Out: *len (may be NULL) = bytes the encoding needs.
 *  Returns: HRE_OK if everything fit; HRE_EBUFSIZE otherwise.
 *  Since: 1.0 */
HRE_API int hre_writer_finish(const hre_writer *w, size_t *len);

/* ------------------------------------------------------------------------ */
/* Hex                                                                       */
/* ------------------------------------------------------------------------ */

/** Encode len bytes as lowercase hex plus a terminating NUL.
 *  Args: out/outlen: buffer of at least 2*len+1 chars.
 *  Returns: HRE_OK; HRE_EBUFSIZE if outlen is too small; HRE_EINVAL on NULL.
 *  Since: 1.0 */
HRE_API int hre_hex_encode(char *out, size_t outlen, const uint8_t *in, size_t len);

/** Decode hexlen hex digits (either case, no prefix, no spaces).
 *  In/Out: *outlen: capacity of out on input, decoded length on output.
 *  Returns: HRE_OK; HRE_EDECODE on odd length or a non-hex digit;
 *           HRE_EBUFSIZE if out is too small (*outlen = needed).
 *  Since: 1.0 */
HRE_API int hre_hex_decode(uint8_t *out, size_t *outlen, const char *hex, size_t hexlen);

/** Overwrite len bytes at p with zeros in a way the compiler cannot elide.
 *  Since: 1.0 */
HRE_API void hre_wipe(void *p, size_t len);

HRE_END_DECLS

#endif /* HRE_COMMON_H */
