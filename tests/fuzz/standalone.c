/*
 * Standalone driver for the fuzz targets, so they build with any compiler and
 * run over their seed corpora inside `meson test`. Each argument is a file or
 * a directory of files; every file is fed to LLVMFuzzerTestOneInput once, and
 * then every prefix and a few bit-flipped variants of it as well, so the
 * seeds exercise truncation and corruption paths too.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long n_inputs;

static void run_buf(const uint8_t *buf, size_t len)
{
    /* exact copies on the heap so ASan/valgrind catch any overread */
    for (size_t cut = 0; cut <= len; cut += (len > 512 ? 7 : 1)) {
        uint8_t *copy = malloc(cut ? cut : 1);
        if (!copy) abort();
        memcpy(copy, buf, cut);
        LLVMFuzzerTestOneInput(copy, cut);
        free(copy);
        n_inputs++;
    }
    if (len == 0) return;
    uint8_t *m = malloc(len);
    if (!m) abort();
    for (size_t i = 0; i < len; i += (len > 256 ? len / 64 : 1)) {
        memcpy(m, buf, len);
        m[i] ^= (uint8_t)(1u << (i % 8));
        LLVMFuzzerTestOneInput(m, len);
        n_inputs++;
    }
    free(m);
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) abort();
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    fclose(f);
    run_buf(buf, len);
    free(buf);
    return 0;
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) { perror(path); return 1; }
    if (!S_ISDIR(st.st_mode)) return run_file(path);
    DIR *d = opendir(path);
    if (!d) { perror(path); return 1; }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        rc |= run_path(sub);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    unsigned long files_before;
    if (argc < 2) { fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]); return 2; }
    files_before = n_inputs;
    for (int i = 1; i < argc; i++) rc |= run_path(argv[i]);
    if (n_inputs == files_before) { fprintf(stderr, "no corpus inputs found\n"); return 1; }
    printf("%s: %lu inputs ran without a crash\n", argv[0], n_inputs);
    return rc;
}
