/*
 * The benchmark harness: see bench_util.h and bench/README.md.
 */
#include "bench_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hre/version.h>

/* ---- clocks ---- */

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_wall_s(void) { return clock_s(CLOCK_MONOTONIC); }
double bench_cpu_s(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }
double bench_thread_cpu_s(void) { return clock_s(CLOCK_THREAD_CPUTIME_ID); }

/* ---- configuration ---- */

double bench_env_double(const char *name, double dflt)
{
    const char *v = getenv(name);
    char *end;
    double d;
    if (!v || !*v) return dflt;
    d = strtod(v, &end);
    return (*end == '\0' && d > 0 && isfinite(d)) ? d : dflt;
}

long bench_env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    char *end;
    long n;
    if (!v || !*v) return dflt;
    n = strtol(v, &end, 10);
    return (*end == '\0' && n >= 0) ? n : dflt;
}

int bench_speed_seconds(int dflt)
{
    const char *no = getenv("HRE_BENCH_NO_SPEED");
    if (no && *no && strcmp(no, "0") != 0) return 0;
    return (int)bench_env_long("HRE_BENCH_SPEED_SECONDS", dflt);
}

/* ---- openssl speed ---- */

static const char *openssl_bin(void)
{
    const char *o = getenv("OPENSSL");
    return o && *o ? o : "openssl";
}

const char *bench_speed_command(char *buf, size_t cap, int multi, int seconds, const char *args)
{
    char m[32] = "";
    if (multi > 1) snprintf(m, sizeof m, "-multi %d ", multi);
    snprintf(buf, cap, "%s speed -mr %s-seconds %d %s", openssl_bin(), m, seconds, args);
    return buf;
}

typedef int (*line_fn)(const char *line, void *arg);

/* Run the command, hand every output line to fn; 1 if fn accepted a line
 * and the program exited with status 0. */
static int run_speed(int multi, int seconds, const char *args, line_fn fn, void *arg)
{
    char cmd[512], line[512];
    FILE *p;
    int found = 0;
    if (seconds <= 0) return 0;
    bench_speed_command(cmd, sizeof cmd - 16, multi, seconds, args);
    strcat(cmd, " 2>/dev/null");
    fflush(stdout);
    p = popen(cmd, "r");
    if (!p) return 0;
    while (fgets(line, sizeof line, p))
        found |= fn(line, arg);
    return pclose(p) == 0 && found;
}

typedef struct { double a, b; } two;

static int ecdsa_line(const char *line, void *arg)
{
    two *t = arg;
    int idx, bits;
    double s, v;
    if (sscanf(line, "+F4:%d:%d:%lf:%lf", &idx, &bits, &s, &v) == 4 && bits == 256) {
        t->a = s;
        t->b = v;
        return 1;
    }
    return 0;
}

int bench_speed_ecdsa(const char *alg, int multi, int seconds, double *sign_per_s,
                      double *verify_per_s)
{
    two t = {0, 0};
    if (!run_speed(multi, seconds, alg, ecdsa_line, &t) || t.a <= 0 || t.b <= 0) return 0;
    if (sign_per_s) *sign_per_s = t.a;
    if (verify_per_s) *verify_per_s = t.b;
    return 1;
}

static int ecdh_line(const char *line, void *arg)
{
    two *t = arg;
    int idx, bits;
    double o, s;
    if (sscanf(line, "+F5:%d:%d:%lf:%lf", &idx, &bits, &o, &s) == 4) {
        t->a = o;
        return 1;
    }
    return 0;
}

int bench_speed_ecdh(const char *alg, int multi, int seconds, double *ops_per_s)
{
    two t = {0, 0};
    if (!run_speed(multi, seconds, alg, ecdh_line, &t) || t.a <= 0) return 0;
    if (ops_per_s) *ops_per_s = t.a;
    return 1;
}

static int bytes_line(const char *line, void *arg)
{
    two *t = arg;
    const char *c = strrchr(line, ':');
    if (strncmp(line, "+F:", 3) != 0 || !c) return 0;
    t->a = strtod(c + 1, NULL);   /* the last size asked for: the only one */
    return t->a > 0;
}

int bench_speed_bytes(const char *evp, size_t bytes, int multi, int seconds, double *mb_per_s,
                      double *msgs_per_s)
{
    char args[256];
    two t = {0, 0};
    snprintf(args, sizeof args, "-bytes %zu %s", bytes, evp);
    if (!run_speed(multi, seconds, args, bytes_line, &t)) return 0;
    if (mb_per_s) *mb_per_s = t.a / 1e6;
    if (msgs_per_s) *msgs_per_s = bytes ? t.a / (double)bytes : 0;
    return 1;
}

/* ---- JSON ---- */

static void misuse(bench_json *j, const char *what)
{
    if (!j->error) fprintf(stderr, "bench_json: %s\n", what);
    j->error = 1;
}

static void indent(bench_json *j)
{
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
}

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Separator, indentation and key of the next value. */
static int member(bench_json *j, const char *key)
{
    char k;
    if (j->depth <= 0) {
        misuse(j, "value outside the document");
        return 0;
    }
    k = j->kind[j->depth - 1];
    if (k == 'o' && !key) {
        misuse(j, "object member without a key");
        return 0;
    }
    if (k == 'a' && key) {
        misuse(j, "array element with a key");
        return 0;
    }
    if (j->count[j->depth - 1]++) fputc(',', j->f);
    indent(j);
    if (key) {
        put_string(j->f, key);
        fputs(": ", j->f);
    }
    return 1;
}

static void open_(bench_json *j, const char *key, char kind)
{
    if (!member(j, key)) return;
    if (j->depth >= BENCH_JSON_MAX_DEPTH) {
        misuse(j, "nested too deep");
        return;
    }
    fputc(kind == 'o' ? '{' : '[', j->f);
    j->kind[j->depth] = kind;
    j->count[j->depth] = 0;
    j->depth++;
}

static void close_(bench_json *j, char kind)
{
    if (j->depth <= 0 || j->kind[j->depth - 1] != kind) {
        misuse(j, kind == 'o' ? "end_object without an open object" : "end_array without an open array");
        return;
    }
    j->depth--;
    if (j->count[j->depth]) indent(j);
    fputc(kind == 'o' ? '}' : ']', j->f);
}

void bench_json_begin(bench_json *j, FILE *f)
{
    memset(j, 0, sizeof *j);
    j->f = f;
    fputc('{', f);
    j->kind[0] = 'o';
    j->depth = 1;
}

void bench_json_object(bench_json *j, const char *key) { open_(j, key, 'o'); }
void bench_json_array(bench_json *j, const char *key) { open_(j, key, 'a'); }
void bench_json_end_object(bench_json *j)
{
    if (j->depth == 1) {
        misuse(j, "end_object on the document: use bench_json_end");
        return;
    }
    close_(j, 'o');
}
void bench_json_end_array(bench_json *j) { close_(j, 'a'); }

void bench_json_num(bench_json *j, const char *key, double v, int decimals)
{
    if (!member(j, key)) return;
    if (!isfinite(v)) {
        fputs("null", j->f);
        return;
    }
    if (decimals < 0) decimals = 0;
    if (decimals > 9) decimals = 9;
    if (v == 0) v = 0;   /* no "-0" */
    fprintf(j->f, "%.*f", decimals, v);
}

void bench_json_int(bench_json *j, const char *key, long long v)
{
    if (member(j, key)) fprintf(j->f, "%lld", v);
}

void bench_json_str(bench_json *j, const char *key, const char *s)
{
    if (!member(j, key)) return;
    if (s)
        put_string(j->f, s);
    else
        fputs("null", j->f);
}

void bench_json_bool(bench_json *j, const char *key, int v)
{
    if (member(j, key)) fputs(v ? "true" : "false", j->f);
}

void bench_json_null(bench_json *j, const char *key)
{
    if (member(j, key)) fputs("null", j->f);
}

void bench_json_opt(bench_json *j, const char *key, int have, double v, int decimals)
{
    if (have)
        bench_json_num(j, key, v, decimals);
    else
        bench_json_null(j, key);
}

void bench_json_ratio(bench_json *j, const char *key, double a, double b)
{
    bench_json_num(j, key, (b > 0 && a >= 0) ? a / b : NAN, 3);
}

int bench_json_end(bench_json *j)
{
    if (j->depth != 1) {
        misuse(j, "bench_json_end with containers still open");
        while (j->depth > 1) close_(j, j->kind[j->depth - 1]);
    }
    j->depth = 0;
    fputs("\n}\n", j->f);
    fflush(j->f);
    if (ferror(j->f)) {
        fprintf(stderr, "bench_json: write error\n");
        return -1;
    }
    return j->error ? -1 : 0;
}

void bench_json_head(bench_json *j, const char *name)
{
    bench_json_str(j, "bench", name);
    bench_json_str(j, "libhre", hre_version_string());
    bench_json_object(j, "config");
}
