/*
 * A small JSON reader for the test-vector files (tests only): the whole
 * document becomes a tree of hre_tj nodes. Malformed input or a missing
 * file fails the running test (ck_abort), so a vector file that cannot be
 * read can never make a suite pass silently.
 */
#ifndef HRE_TESTJSON_H
#define HRE_TESTJSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum hre_tj_type {
    HRE_TJ_NULL, HRE_TJ_BOOL, HRE_TJ_NUM, HRE_TJ_STR, HRE_TJ_ARR, HRE_TJ_OBJ
} hre_tj_type;

typedef struct hre_tj {
    hre_tj_type type;
    double num;              /* NUM, BOOL (0/1) */
    char *str;               /* STR (NUL-terminated) */
    size_t n;                /* ARR / OBJ: number of items */
    struct hre_tj *items;    /* ARR / OBJ values */
    char **keys;             /* OBJ keys */
} hre_tj;

/* Parse text (NUL-terminated). Returns a tree freed with hre_tj_free. */
hre_tj *hre_tj_parse(const char *text);
/* Load and parse a file under $HRE_VECTORS_DIR (e.g. "wycheproof/aes_gcm_test.json"). */
hre_tj *hre_tj_load_vector(const char *relative);
void hre_tj_free(hre_tj *j);

/* Member of an object (NULL if absent or j is not an object). */
const hre_tj *hre_tj_get(const hre_tj *j, const char *key);
/* Item i of an array (asserts the type and the bound). */
const hre_tj *hre_tj_at(const hre_tj *j, size_t i);
/* Number of items of an array (asserts the type). */
size_t hre_tj_len(const hre_tj *j);
/* A required string / integer member (asserts presence and type). */
const char *hre_tj_str(const hre_tj *j, const char *key);
long long hre_tj_int(const hre_tj *j, const char *key);
/* A required hex-string member decoded into a malloc'd buffer (at least one
 * byte allocated, so *out is never NULL); returns the length. */
size_t hre_tj_hex(const hre_tj *j, const char *key, uint8_t **out);
/* 1 if the array member `key` holds the string s. */
int hre_tj_has_str(const hre_tj *j, const char *key, const char *s);

#endif
