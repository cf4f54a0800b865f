/*
 * The benchmark harness (not part of the library), shared by every bench/
 * program: clocks, configuration from the environment, the `openssl speed`
 * reference runner, and the one JSON writer every program prints its
 * document with. bench/README.md describes the document (schema, keys,
 * units) and the environment variables.
 */
#ifndef HRE_BENCH_UTIL_H
#define HRE_BENCH_UTIL_H

#include <stddef.h>
#include <stdio.h>

/* ---- clocks ---- */

/* Wall-clock seconds (monotonic). */
double bench_wall_s(void);
/* CPU seconds of the whole process (all threads). */
double bench_cpu_s(void);
/* CPU seconds of the calling thread. */
double bench_thread_cpu_s(void);

/* ---- configuration ---- */

/* The environment variable `name` as a positive number, else dflt. */
double bench_env_double(const char *name, double dflt);
/* The environment variable `name` as a non-negative integer, else dflt. */
long bench_env_long(const char *name, long dflt);
/* Seconds per `openssl speed` run: HRE_BENCH_SPEED_SECONDS (0 skips the
 * reference runs; HRE_BENCH_NO_SPEED=1 also does), else dflt. */
int bench_speed_seconds(int dflt);

/* ---- the openssl speed reference ---- */

/*
 * Each runs `$OPENSSL speed -mr [-multi N] -seconds S <args>` (OPENSSL
 * defaults to "openssl") and parses its machine-readable lines. multi <= 1
 * runs one process: OpenSSL then reports per CPU-second; with -multi the
 * figures are summed per-process rates over wall time. Returns 1 on success,
 * 0 if the program is missing, failed, printed nothing usable, or seconds
 * is 0 (figures untouched then; the JSON shows null).
 */
/* ECDSA ("ecdsap256"): "+F4:idx:bits:sign/s:verify/s" of the 256-bit line. */
int bench_speed_ecdsa(const char *alg, int multi, int seconds, double *sign_per_s,
                      double *verify_per_s);
/* ECDH ("ecdhp256", "ecdhx25519"): "+F5:idx:bits:ops/s:...". */
int bench_speed_ecdh(const char *alg, int multi, int seconds, double *ops_per_s);
/* A cipher or digest on `bytes`-byte messages (evp: e.g. "-evp sha256",
 * "-aead -evp aes-256-gcm"): "+F:idx:name:bytes/s". Out: *mb_per_s in
 * 10^6 bytes per second, *msgs_per_s messages per second (either may be NULL). */
int bench_speed_bytes(const char *evp, size_t bytes, int multi, int seconds, double *mb_per_s,
                      double *msgs_per_s);
/* The command line the runners above use, for the document's config
 * ("openssl speed -mr -seconds 2 ecdsap256"); args are appended as given. */
const char *bench_speed_command(char *buf, size_t cap, int multi, int seconds, const char *args);

/* ---- the JSON writer ---- */

#define BENCH_JSON_MAX_DEPTH 16

/*
 * A streaming writer that can only produce valid JSON: strings are escaped
 * (quote, backslash, control characters; UTF-8 passes through), numbers
 * that are not finite (a ratio over a missing reference) are written as null,
 * and bench_json_end() reports any misuse (a key outside an object, a
 * value without a key in an object, unbalanced ends, too deep). One member
 * per line, indented by two spaces per level.
 *
 * In an object every value takes a key; in an array key must be NULL.
 */
typedef struct bench_json {
    FILE *f;
    int depth;                          /* open containers */
    char kind[BENCH_JSON_MAX_DEPTH];    /* 'o' object, 'a' array */
    int count[BENCH_JSON_MAX_DEPTH];    /* members written at each level */
    int error;                          /* misuse seen */
} bench_json;

/* Start the document (its top-level object) on f. */
void bench_json_begin(bench_json *j, FILE *f);
/* Open an object / array as the value of key (NULL inside an array). */
void bench_json_object(bench_json *j, const char *key);
void bench_json_array(bench_json *j, const char *key);
/* Close the innermost object / array. */
void bench_json_end_object(bench_json *j);
void bench_json_end_array(bench_json *j);
/* Values. num: `decimals` digits after the point (0 for rates). */
void bench_json_num(bench_json *j, const char *key, double v, int decimals);
void bench_json_int(bench_json *j, const char *key, long long v);
void bench_json_str(bench_json *j, const char *key, const char *s);
void bench_json_bool(bench_json *j, const char *key, int v);
void bench_json_null(bench_json *j, const char *key);
/* A figure that may be missing: num if have, else null. */
void bench_json_opt(bench_json *j, const char *key, int have, double v, int decimals);
/* The ratio a / b (null when b is not positive or either is missing). */
void bench_json_ratio(bench_json *j, const char *key, double a, double b);
/* Close the top-level object and end the line. Returns 0 if the document
 * is complete and was written without misuse or I/O error, else -1 (and
 * says why on stderr). */
int bench_json_end(bench_json *j);

/*
 * The document's head, written by every program in the same order:
 *   "bench": name, "libhre": the library version, then "config" is opened
 * (the caller writes its parameters and calls bench_json_end_object).
 */
void bench_json_head(bench_json *j, const char *name);

#endif
