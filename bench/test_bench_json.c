/*
 * test_bench_json: exercises the harness's JSON writer (bench_util.c) for
 * the meson test suite 'bench'. Prints one document holding every kind of
 * value and the strings that need escaping; check_json.py --writer parses it
 * and compares it with the values written here. Then checks that misuse
 * (a key inside an array, a value without a key, unbalanced ends, too deep)
 * is reported by bench_json_end. Exit status 0 if all of that holds.
 */
#include <math.h>
#include <stdio.h>

#include "bench_util.h"

static int misuse_reported(int which)
{
    bench_json j;
    FILE *f = tmpfile();
    int rc;
    if (!f) return 0;
    bench_json_begin(&j, f);
    switch (which) {
    case 0: bench_json_num(&j, NULL, 1, 0); break;                    /* no key in an object */
    case 1: bench_json_array(&j, "a"); bench_json_int(&j, "k", 1); break; /* key in an array */
    case 2: bench_json_end_array(&j); break;                          /* nothing to end */
    case 3: bench_json_object(&j, "o"); break;                        /* left open */
    case 4: bench_json_end_object(&j); break;                         /* the document itself */
    default:
        for (int i = 0; i < BENCH_JSON_MAX_DEPTH + 1; i++) bench_json_array(&j, i ? NULL : "deep");
        break;
    }
    rc = bench_json_end(&j);
    fclose(f);
    return rc != 0;
}

int main(void)
{
    bench_json j;
    int bad = 0;
    bench_json_begin(&j, stdout);
    bench_json_head(&j, "json_writer");
    bench_json_str(&j, "quote\"backslash\\", "tab\there \"q\" \\ nl\n cr\r bell\a del\x7f end");
    bench_json_str(&j, "utf8", "gr\xc3\xbc\xc3\x9f \xe2\x82\xac");
    bench_json_str(&j, "null_string", NULL);
    bench_json_end_object(&j);
    bench_json_object(&j, "results");
    bench_json_num(&j, "pi_ratio", 3.14159, 3);
    bench_json_num(&j, "rate_per_s", 1234567.89, 0);
    bench_json_num(&j, "negative_zero_ratio", -0.0, 2);
    bench_json_num(&j, "inf_ratio", INFINITY, 2);
    bench_json_num(&j, "nan_ratio", NAN, 2);
    bench_json_ratio(&j, "ratio_missing_reference", 5, 0);
    bench_json_ratio(&j, "ratio_half", 1, 2);
    bench_json_opt(&j, "absent_seconds", 0, 1, 1);
    bench_json_opt(&j, "present_seconds", 1, 2.5, 1);
    bench_json_int(&j, "big_count", -9007199254740993LL);
    bench_json_bool(&j, "yes", 1);
    bench_json_bool(&j, "no", 0);
    bench_json_object(&j, "empty_object");
    bench_json_end_object(&j);
    bench_json_array(&j, "empty_array");
    bench_json_end_array(&j);
    bench_json_array(&j, "nested");
    bench_json_object(&j, NULL);
    bench_json_array(&j, "inner");
    bench_json_int(&j, NULL, 1);
    bench_json_null(&j, NULL);
    bench_json_str(&j, NULL, "x");
    bench_json_end_array(&j);
    bench_json_end_object(&j);
    bench_json_num(&j, NULL, 0.5, 1);
    bench_json_end_array(&j);
    bench_json_end_object(&j);
    if (bench_json_end(&j) != 0) bad = 1;
    for (int w = 0; w <= 5; w++)
        if (!misuse_reported(w)) {
            fprintf(stderr, "test_bench_json: misuse %d not reported\n", w);
            bad = 1;
        }
    return bad;
}
