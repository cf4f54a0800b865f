/* A small recursive-descent JSON reader for the test vectors (tests only). */
#include "testjson.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct parser {
    const char *p;
    int depth;
} parser;

static void ws(parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t') ps->p++;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    ck_assert_msg(q != NULL, "testjson: out of memory");
    return q;
}

static void value(parser *ps, hre_tj *out);

static char *string(parser *ps)
{
    size_t cap = 16, len = 0;
    char *s = xrealloc(NULL, cap);
    ck_assert_msg(*ps->p == '"', "testjson: expected a string");
    ps->p++;
    while (*ps->p != '"') {
        char c = *ps->p++;
        ck_assert_msg(c != '\0', "testjson: unterminated string");
        if (c == '\\') {
            char e = *ps->p++;
            switch (e) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    char h = *ps->p++;
                    v <<= 4;
                    if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
                    else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
                    else ck_abort_msg("testjson: bad \\u escape");
                }
                c = v < 0x80 ? (char)v : '?';   /* the vectors only use ASCII */
                break;
            }
            default: ck_abort_msg("testjson: bad escape");
            }
        }
        if (len + 1 >= cap) s = xrealloc(s, cap *= 2);
        s[len++] = c;
    }
    ps->p++;
    s[len] = '\0';
    return s;
}

static void value(parser *ps, hre_tj *out)
{
    memset(out, 0, sizeof *out);
    ws(ps);
    ck_assert_msg(++ps->depth < 64, "testjson: nested too deeply");
    if (*ps->p == '{' || *ps->p == '[') {
        int obj = *ps->p == '{';
        size_t cap = 0;
        out->type = obj ? HRE_TJ_OBJ : HRE_TJ_ARR;
        ps->p++;
        ws(ps);
        if (*ps->p == (obj ? '}' : ']')) {
            ps->p++;
        } else {
            for (;;) {
                if (out->n == cap) {
                    cap = cap ? cap * 2 : 8;
                    out->items = xrealloc(out->items, cap * sizeof *out->items);
                    if (obj) out->keys = xrealloc(out->keys, cap * sizeof *out->keys);
                }
                if (obj) {
                    ws(ps);
                    out->keys[out->n] = string(ps);
                    ws(ps);
                    ck_assert_msg(*ps->p == ':', "testjson: expected ':'");
                    ps->p++;
                }
                value(ps, &out->items[out->n]);
                out->n++;
                ws(ps);
                if (*ps->p == ',') { ps->p++; continue; }
                ck_assert_msg(*ps->p == (obj ? '}' : ']'), "testjson: expected ',' or a closing bracket");
                ps->p++;
                break;
            }
        }
    } else if (*ps->p == '"') {
        out->type = HRE_TJ_STR;
        out->str = string(ps);
    } else if (!strncmp(ps->p, "true", 4) || !strncmp(ps->p, "false", 5)) {
        out->type = HRE_TJ_BOOL;
        out->num = *ps->p == 't';
        ps->p += *ps->p == 't' ? 4 : 5;
    } else if (!strncmp(ps->p, "null", 4)) {
        out->type = HRE_TJ_NULL;
        ps->p += 4;
    } else {
        char *end;
        out->type = HRE_TJ_NUM;
        out->num = strtod(ps->p, &end);
        ck_assert_msg(end != ps->p, "testjson: unexpected character '%c'", *ps->p);
        ps->p = end;
    }
    ps->depth--;
}

hre_tj *hre_tj_parse(const char *text)
{
    parser ps = {text, 0};
    hre_tj *j = xrealloc(NULL, sizeof *j);
    value(&ps, j);
    ws(&ps);
    ck_assert_msg(*ps.p == '\0', "testjson: trailing characters");
    return j;
}

hre_tj *hre_tj_load_vector(const char *relative)
{
    const char *path = hre_t_vector_path(relative);
    char *text;
    hre_tj *j;
    ck_assert_msg(path != NULL, "HRE_VECTORS_DIR is not set (needed for %s)", relative);
    text = hre_t_read_file(path, NULL);
    ck_assert_msg(text != NULL, "cannot read the vector file %s", path);
    j = hre_tj_parse(text);
    free(text);
    return j;
}

static void free_node(hre_tj *j)
{
    for (size_t i = 0; i < j->n; i++) {
        free_node(&j->items[i]);
        if (j->keys) free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->str);
}

void hre_tj_free(hre_tj *j)
{
    if (!j) return;
    free_node(j);
    free(j);
}

const hre_tj *hre_tj_get(const hre_tj *j, const char *key)
{
    if (!j || j->type != HRE_TJ_OBJ) return NULL;
    for (size_t i = 0; i < j->n; i++)
        if (!strcmp(j->keys[i], key)) return &j->items[i];
    return NULL;
}

const hre_tj *hre_tj_at(const hre_tj *j, size_t i)
{
    ck_assert_msg(j && j->type == HRE_TJ_ARR, "testjson: not an array");
    ck_assert_msg(i < j->n, "testjson: index %zu out of range", i);
    return &j->items[i];
}

size_t hre_tj_len(const hre_tj *j)
{
    ck_assert_msg(j && j->type == HRE_TJ_ARR, "testjson: not an array");
    return j->n;
}

const char *hre_tj_str(const hre_tj *j, const char *key)
{
    const hre_tj *v = hre_tj_get(j, key);
    ck_assert_msg(v && v->type == HRE_TJ_STR, "testjson: missing string member '%s'", key);
    return v->str;
}

long long hre_tj_int(const hre_tj *j, const char *key)
{
    const hre_tj *v = hre_tj_get(j, key);
    ck_assert_msg(v && v->type == HRE_TJ_NUM, "testjson: missing number member '%s'", key);
    return (long long)v->num;
}

size_t hre_tj_hex(const hre_tj *j, const char *key, uint8_t **out)
{
    const char *s = hre_tj_str(j, key);
    size_t n = strlen(s) / 2;
    *out = xrealloc(NULL, n + 1);
    return hre_t_unhex(*out, n + 1, s);
}

int hre_tj_has_str(const hre_tj *j, const char *key, const char *s)
{
    const hre_tj *a = hre_tj_get(j, key);
    if (!a || a->type != HRE_TJ_ARR) return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->items[i].type == HRE_TJ_STR && !strcmp(a->items[i].str, s)) return 1;
    return 0;
}
