/*
 * hre: what the commands share (cli.h): errors and exit codes, hex, JSON,
 * files, keys and passphrases, the ledger and submitting to it.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define FILE_CAP_DEFAULT (64u << 20)

void cli_init(cli *c)
{
    memset(c, 0, sizeof *c);
    c->out = stdout;
    c->err = stderr;
}

void cli_close(cli *c)
{
    if (!c->ledger_borrowed) {
        hre_ledger_close(c->ledger);
        hre_storage_free(c->storage);
    }
    c->ledger = NULL;
    c->storage = NULL;
}

/* ---- errors ------------------------------------------------------------ */

int cli_exit_code(int rc)
{
    switch (rc) {
    case HRE_OK:
        return CLI_EXIT_OK;
    case HRE_EAUTH: case HRE_ESTATE: case HRE_EREVOKED: case HRE_EEXPIRED:
    case HRE_EERASED: case HRE_EEXISTS: case HRE_EVERIFY:
        return CLI_EXIT_REFUSED;
    case HRE_ENOTFOUND:
        return CLI_EXIT_NOTFOUND;
    case HRE_EIO: case HRE_ENOSPC: case HRE_ECORRUPT:
        return CLI_EXIT_IO;
    case HRE_EDECODE: case HRE_ELIMIT: case HRE_EINVAL: case HRE_EBUFSIZE:
    case HRE_EUNSUPPORTED:
        return CLI_EXIT_INPUT;
    case HRE_EDECRYPT:
        return CLI_EXIT_DECRYPT;
    default:
        return CLI_EXIT_INTERNAL;
    }
}

int cli_fail(cli *c, int rc, const char *what)
{
    const char *d = hre_error_detail();
    if (d && *d)
        fprintf(c->err, "hre: %s: %s (%s)\n", what, hre_strerror(rc), d);
    else
        fprintf(c->err, "hre: %s: %s\n", what, hre_strerror(rc));
    return cli_exit_code(rc);
}

int cli_error(cli *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hre: ", c->err);
    vfprintf(c->err, fmt, ap);
    fputc('\n', c->err);
    va_end(ap);
    return code;
}

/* ---- hex ---------------------------------------------------------------- */

void cli_hex(char *out, const uint8_t *in, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int nibble(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

void cli_block_hash_hex(char out[65], const uint8_t hash[32])
{
    if (hre_hash_display_encode(out, hash) != HRE_OK)
        cli_hex(out, hash, 32);
}

int cli_unhex(uint8_t *out, size_t len, const char *hex)
{
    if (!hex || strlen(hex) != 2 * len)
        return HRE_EDECODE;
    for (size_t i = 0; i < len; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return HRE_EDECODE;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return HRE_OK;
}

int cli_id_arg(cli *c, uint8_t out[32], const char *hex, const char *what)
{
    if (cli_unhex(out, 32, hex) != HRE_OK)
        return cli_error(c, CLI_EXIT_INPUT, "%s: expected 64 hex digits, got '%s'", what,
                         hex ? hex : "");
    return CLI_EXIT_OK;
}

/* ---- output ------------------------------------------------------------ */

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 if it is not
 * one (overlong forms, surrogates and values past U+10FFFF are not). */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned char b = s[0];
    size_t n;
    uint32_t cp, min;
    if (b < 0x80)
        return 1;
    if ((b & 0xe0) == 0xc0) { n = 2; cp = b & 0x1fu; min = 0x80; }
    else if ((b & 0xf0) == 0xe0) { n = 3; cp = b & 0x0fu; min = 0x800; }
    else if ((b & 0xf8) == 0xf0) { n = 4; cp = b & 0x07u; min = 0x10000; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void cli_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    const unsigned char *p = (const unsigned char *)s;
    while (p && *p) {
        unsigned char ch = *p;
        size_t n = utf8_seq(p);
        if (n == 0) {
            fputs("\ufffd", f); /* not UTF-8: the replacement character, so the JSON stays valid */
            p++;
            continue;
        }
        if (n > 1) {
            fwrite(p, 1, n, f);
            p += n;
            continue;
        }
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch == '\t')
            fputs("\\t", f);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
        p++;
    }
    fputc('"', f);
}

void cli_json_hex(FILE *f, const uint8_t *in, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++)
        fprintf(f, "%02x", in[i]);
    fputc('"', f);
}

void cli_time_iso(char out[32], uint64_t unix_s)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 32, "%llu", (unsigned long long)unix_s);
}

uint64_t cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t cli_now_s(void)
{
    return cli_now_ms() / 1000u;
}

/* ---- files ---------------------------------------------------------------- */

int cli_read_file(cli *c, const char *path, uint8_t **buf, size_t *len, size_t cap)
{
    *buf = NULL;
    *len = 0;
    if (!cap)
        cap = FILE_CAP_DEFAULT;
    FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "rb");
    if (!f)
        return cli_error(c, errno == ENOENT ? CLI_EXIT_NOTFOUND : CLI_EXIT_IO, "%s: %s", path,
                         strerror(errno));
    size_t n = 0, size = 4096;
    uint8_t *p = malloc(size + 1);
    int code = CLI_EXIT_OK;
    while (p) {
        if (n == size) {
            if (size >= cap) {
                code = cli_error(c, CLI_EXIT_INPUT, "%s: larger than %zu bytes", path, cap);
                break;
            }
            size_t ns = size * 2 > cap ? cap : size * 2;
            uint8_t *q = realloc(p, ns + 1);
            if (!q)
                break;
            p = q;
            size = ns;
        }
        size_t got = fread(p + n, 1, size - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                code = cli_error(c, CLI_EXIT_IO, "%s: read error", path);
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (!p)
        return cli_error(c, CLI_EXIT_INTERNAL, "%s: out of memory", path);
    if (code != CLI_EXIT_OK) {
        hre_wipe(p, n);
        free(p);
        return code;
    }
    p[n] = 0;
    *buf = p;
    *len = n;
    return CLI_EXIT_OK;
}

int cli_write_file(cli *c, const char *path, const void *buf, size_t len, unsigned int mode)
{
    if (!strcmp(path, "-")) {
        if (fwrite(buf, 1, len, c->out) != len)
            return cli_error(c, CLI_EXIT_IO, "write to stdout failed");
        return CLI_EXIT_OK;
    }
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return cli_error(c, CLI_EXIT_INPUT, "%s: path too long", path);
    /* a fresh temporary file: an old PATH.tmp would keep its own mode (a
       private key must not inherit 0644) or could be a symlink */
    (void)unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
    if (fd < 0)
        return cli_error(c, CLI_EXIT_IO, "%s: %s", tmp, strerror(errno));
    const uint8_t *p = buf;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return cli_error(c, CLI_EXIT_IO, "%s: %s", tmp, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return cli_error(c, CLI_EXIT_IO, "%s: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return cli_error(c, CLI_EXIT_IO, "%s: %s", path, strerror(e));
    }
    return CLI_EXIT_OK;
}

int cli_write_file_new(cli *c, const char *path, const void *buf, size_t len, unsigned int mode)
{
    if (!strcmp(path, "-"))
        return cli_write_file(c, path, buf, len, mode);
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return cli_error(c, CLI_EXIT_INPUT, "%s: path too long", path);
    struct stat sb;
    if (lstat(path, &sb) == 0)
        return cli_error(c, CLI_EXIT_REFUSED, "%s exists: not overwritten", path);
    /* a fresh temporary file (O_EXCL: never an old file's mode or a symlink) */
    (void)unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
    if (fd < 0)
        return cli_error(c, CLI_EXIT_IO, "%s: %s", tmp, strerror(errno));
    const uint8_t *p = buf;
    size_t off = 0;
    int e = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            break;
        }
        off += (size_t)w;
    }
    if (!e && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    if (e) {
        unlink(tmp);
        return cli_error(c, CLI_EXIT_IO, "%s: %s", tmp, strerror(e));
    }
    /* link() fails with EEXIST if PATH appeared meanwhile: never overwrites */
    if (link(tmp, path) != 0) {
        e = errno;
        if (e == EPERM || e == EOPNOTSUPP || e == ENOSYS || e == EXDEV) {
            /* a file system without hard links: rename, checking once more
               (a narrow window against a file created meanwhile) */
            if (lstat(path, &sb) == 0)
                e = EEXIST;
            else if (rename(tmp, path) == 0)
                return CLI_EXIT_OK;
            else
                e = errno;
        }
        unlink(tmp);
        if (e == EEXIST)
            return cli_error(c, CLI_EXIT_REFUSED, "%s exists: not overwritten", path);
        return cli_error(c, CLI_EXIT_IO, "%s: %s", path, strerror(e));
    }
    unlink(tmp);
    return CLI_EXIT_OK;
}

/* ---- passphrases and keys -------------------------------------------- */

/* Read up to EOF or the first newline from fd. */
static int read_pass_fd(cli *c, int fd, char *buf, size_t cap, size_t *len)
{
    size_t n = 0;
    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            hre_wipe(buf, n);
            return cli_error(c, CLI_EXIT_IO, "reading the passphrase from fd %d: %s", fd,
                             strerror(errno));
        }
        if (r == 0 || ch == '\n')
            break;
        if (n + 1 >= cap) {
            hre_wipe(buf, n);
            return cli_error(c, CLI_EXIT_INPUT, "the passphrase is longer than %zu bytes", cap - 1);
        }
        buf[n++] = ch;
    }
    buf[n] = '\0';
    *len = n;
    return CLI_EXIT_OK;
}

static int prompt_tty(cli *c, int tty, const char *prompt, char *buf, size_t cap, size_t *len)
{
    struct termios old, quiet;
    int have_term = tcgetattr(tty, &old) == 0;
    if (have_term) {
        quiet = old;
        quiet.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        tcsetattr(tty, TCSAFLUSH, &quiet);
    }
    if (write(tty, prompt, strlen(prompt)) < 0) { /* best effort */ }
    int code = read_pass_fd(c, tty, buf, cap, len);
    if (write(tty, "\n", 1) < 0) { /* best effort */ }
    if (have_term)
        tcsetattr(tty, TCSAFLUSH, &old);
    return code;
}

int cli_passphrase_opt(cli *c, const cli_args *a, const char *fd_opt, const char *prompt,
                       int confirm, char *buf, size_t cap, size_t *len, int *from)
{
    *len = 0;
    buf[0] = '\0';
    if (from)
        *from = CLI_PASS_NONE;
    const char *fdarg = cli_get(a, fd_opt);
    if (fdarg) {
        char *end = NULL;
        errno = 0;
        long fd = strtol(fdarg, &end, 10);
        if (errno || !end || *end || fd < 0 || fd > 1 << 20)
            return cli_error(c, CLI_EXIT_USAGE, "%s: not a file descriptor: '%s'", fd_opt,
                             fdarg);
        if (from)
            *from = CLI_PASS_FD;
        return read_pass_fd(c, (int)fd, buf, cap, len);
    }
    if (!prompt)
        return CLI_EXIT_OK;
    int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (tty < 0)
        return CLI_EXIT_OK; /* no terminal */
    if (from)
        *from = CLI_PASS_TTY;
    int code = prompt_tty(c, tty, prompt, buf, cap, len);
    if (code == CLI_EXIT_OK && confirm) {
        char again[1024];
        size_t n2 = 0;
        code = prompt_tty(c, tty, "again: ", again, sizeof again, &n2);
        if (code == CLI_EXIT_OK && (n2 != *len || memcmp(again, buf, n2) != 0)) {
            hre_wipe(buf, *len);
            *len = 0;
            code = cli_error(c, CLI_EXIT_INPUT, "the passphrases differ");
        }
        hre_wipe(again, sizeof again);
    }
    close(tty);
    return code;
}

int cli_passphrase(cli *c, const cli_args *a, const char *prompt, int confirm,
                   char *buf, size_t cap, size_t *len)
{
    *len = 0;
    buf[0] = '\0';
    if (!cli_get(a, "--passphrase-fd") && cli_has(a, "--no-passphrase"))
        return CLI_EXIT_OK;
    return cli_passphrase_opt(c, a, "--passphrase-fd", prompt, confirm, buf, cap, len, NULL);
}

int cli_load_key(cli *c, const cli_args *a, const char *path, hre_key **out)
{
    *out = NULL;
    uint8_t *pem = NULL;
    size_t pem_len = 0;
    int code = cli_read_file(c, path, &pem, &pem_len, 1u << 16);
    if (code != CLI_EXIT_OK)
        return code;
    char pass[1024];
    size_t pass_len = 0;
    int encrypted = strstr((const char *)pem, "ENCRYPTED PRIVATE KEY") != NULL;
    int from = CLI_PASS_NONE;
    char prompt[600];
    snprintf(prompt, sizeof prompt, "passphrase for %.500s: ", path);
    /* the passphrase is asked (and --passphrase-fd read) only for an
       encrypted key; --no-passphrase of a command is about its output */
    if (encrypted) {
        code = cli_passphrase_opt(c, a, "--passphrase-fd", prompt, 0, pass, sizeof pass,
                                  &pass_len, &from);
        if (code == CLI_EXIT_OK && from == CLI_PASS_NONE)
            code = cli_error(c, CLI_EXIT_USAGE,
                             "key %s is encrypted: give --passphrase-fd N (or run on a terminal)",
                             path);
    }
    if (code == CLI_EXIT_OK) {
        int rc = hre_key_import_pem(out, (const char *)pem, pem_len,
                                    pass_len ? pass : NULL, pass_len);
        if (rc != HRE_OK) {
            char what[600];
            snprintf(what, sizeof what, "key %.500s", path);
            code = cli_fail(c, rc, what);
        }
    }
    hre_wipe(pass, sizeof pass);
    hre_wipe(pem, pem_len);
    free(pem);
    return code;
}

int cli_pubkey_arg(cli *c, uint8_t out[34], const char *hex, const char *what)
{
    if (cli_unhex(out, 34, hex) != HRE_OK)
        return cli_error(c, CLI_EXIT_INPUT, "%s: expected a public key of 68 hex digits, got '%s'",
                         what, hex ? hex : "");
    hre_pubkey *pk = NULL;
    int rc = hre_pubkey_parse_wire(&pk, out);
    hre_pubkey_free(pk);
    if (rc != HRE_OK)
        return cli_fail(c, rc, what);
    return CLI_EXIT_OK;
}

int cli_load_wire(cli *c, const cli_args *a, const char *path, uint8_t wire[34], int *is_private)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (is_private)
        *is_private = 0;
    int code = cli_read_file(c, path, &buf, &len, 1u << 16);
    if (code != CLI_EXIT_OK)
        return code;
    int pem = strstr((const char *)buf, "-----BEGIN") != NULL;
    if (!pem) {
        /* a public key file: 68 hex digits, surrounding white space allowed */
        char *s = (char *)buf;
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
            s++;
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
            s[--n] = '\0';
        char what[600];
        snprintf(what, sizeof what, "%.500s", path);
        code = cli_pubkey_arg(c, wire, s, what);
        free(buf);
        return code;
    }
    hre_wipe(buf, len);
    free(buf);
    hre_key *key = NULL;
    code = cli_load_key(c, a, path, &key);
    if (code == CLI_EXIT_OK)
        code = cli_key_ids(c, key, wire, NULL);
    hre_key_free(key);
    if (code == CLI_EXIT_OK && is_private)
        *is_private = 1;
    return code;
}

int cli_key_ids(cli *c, const hre_key *key, uint8_t wire[34], uint8_t addr[32])
{
    hre_pubkey *pk = NULL;
    int rc = hre_key_pubkey(key, &pk);
    if (rc == HRE_OK)
        rc = hre_pubkey_serialize_wire(pk, wire);
    hre_pubkey_free(pk);
    if (rc == HRE_OK && addr)
        rc = hre_contract_address(addr, wire);
    return rc == HRE_OK ? CLI_EXIT_OK : cli_fail(c, rc, "public key");
}

/* ---- the ledger ---------------------------------------------------------- */

int cli_ledger(cli *c, hre_ledger **out)
{
    *out = NULL;
    if (c->ledger) {
        *out = c->ledger;
        return CLI_EXIT_OK;
    }
    if (!c->data_dir)
        return cli_error(c, CLI_EXIT_USAGE, "this needs a ledger directory (--data DIR)");
    hre_storage_posix_options so = HRE_STORAGE_POSIX_OPTIONS_INIT;
    if (c->nosync)
        so.flags |= HRE_STORAGE_POSIX_NOSYNC;
    int rc = hre_storage_posix_open(&c->storage, c->data_dir, &so);
    if (rc == HRE_ESTATE) {
        cli_fail(c, rc, c->data_dir);
        return cli_error(c, CLI_EXIT_IO, "%s is in use (a running node? ask it with --node %s)",
                         c->data_dir, c->data_dir);
    }
    if (rc != HRE_OK)
        return cli_fail(c, rc, c->data_dir);
    hre_network *net = NULL;
    if (c->network_file) {
        uint8_t *buf = NULL;
        size_t len = 0;
        int code = cli_read_file(c, c->network_file, &buf, &len, 1u << 20);
        if (code != CLI_EXIT_OK)
            return code;
        rc = hre_network_decode(&net, buf, len);
        free(buf);
        if (rc != HRE_OK)
            return cli_fail(c, rc, c->network_file);
    }
    hre_ledger_options lo;
    hre_ledger_options_init(&lo, HRE_LEDGER_OPTIONS_VERSION);
    lo.storage = c->storage;
    lo.network = net;
    rc = hre_ledger_open(&c->ledger, &lo);
    hre_network_free(net);
    if (rc != HRE_OK) {
        if (rc == HRE_EINVAL && !c->network_file)
            return cli_fail(c, rc, "open the ledger (a new directory needs --network FILE)");
        return cli_fail(c, rc, "open the ledger");
    }
    *out = c->ledger;
    return CLI_EXIT_OK;
}

int cli_state(cli *c, const hre_contract **out)
{
    hre_ledger *l = NULL;
    int code = cli_ledger(c, &l);
    if (code != CLI_EXIT_OK)
        return code;
    int rc = hre_ledger_contract(l, out);
    return rc == HRE_OK ? CLI_EXIT_OK : cli_fail(c, rc, "ledger state");
}

int cli_network_id(cli *c, uint8_t out[32])
{
    if (c->node_dir && !c->ledger)
        return cli_control_network_id(c, out);
    hre_ledger *l = NULL;
    int code = cli_ledger(c, &l);
    if (code != CLI_EXIT_OK)
        return code;
    int rc = hre_ledger_network_id(l, out);
    return rc == HRE_OK ? CLI_EXIT_OK : cli_fail(c, rc, "network id");
}

int cli_next_nonce(cli *c, const uint8_t *id, size_t id_len, uint64_t *nonce)
{
    if (c->node_dir && !c->ledger)
        return cli_control_nonce(c, id, id_len, nonce);
    hre_ledger *l = NULL;
    int code = cli_ledger(c, &l);
    if (code != CLI_EXIT_OK)
        return code;
    int rc = hre_ledger_next_nonce(l, nonce, id, id_len);
    return rc == HRE_OK ? CLI_EXIT_OK : cli_fail(c, rc, "nonce");
}

int cli_submit(cli *c, const hre_tx *tx, cli_submitted *res)
{
    memset(res, 0, sizeof *res);
    size_t len = 0;
    int rc = hre_tx_encode(tx, NULL, &len);
    if (rc != HRE_OK && rc != HRE_EBUFSIZE)
        return cli_fail(c, rc, "encode the transaction");
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return cli_error(c, CLI_EXIT_INTERNAL, "out of memory");
    rc = hre_tx_encode(tx, buf, &len);
    if (rc != HRE_OK) {
        free(buf);
        return cli_fail(c, rc, "encode the transaction");
    }
    int code;
    if (c->node_submit) {
        code = c->node_submit(c->node_ctx, buf, len, res);
    } else if (c->node_dir && !c->ledger) {
        code = cli_control_submit(c, buf, len, res);
    } else {
        hre_ledger *l = NULL;
        code = cli_ledger(c, &l);
        if (code == CLI_EXIT_OK) {
            hre_ledger_status st = HRE_LEDGER_STATUS_NONE;
            rc = hre_ledger_submit_tx(l, res->txid, &st, buf, len, cli_now_s());
            res->status = (int)st;
            if (rc != HRE_OK) {
                code = cli_fail(c, rc, "the ledger refused the transaction");
            } else {
                /* a local ledger has no one else to mine: the transaction goes
                   into a block of its own at once */
                uint8_t hash[32];
                rc = hre_ledger_mine(l, hash, &st, cli_now_s(), HRE_POW_ALL_NONCES, 0);
                res->status = (int)st;
                if (rc != HRE_OK) {
                    code = cli_fail(c, rc, "mine the block");
                } else {
                    rc = hre_ledger_tip(l, &res->height, NULL);
                    res->in_block = 1;
                    code = rc == HRE_OK ? CLI_EXIT_OK : cli_fail(c, rc, "tip");
                }
            }
        }
    }
    free(buf);
    return code;
}

int cli_signer_open(cli *c, const cli_args *a, cli_signer *s)
{
    memset(s, 0, sizeof *s);
    const char *path = cli_get(a, "--key");
    if (!path)
        return cli_error(c, CLI_EXIT_USAGE, "a signing key is needed (--key PEM)");
    int code = cli_load_key(c, a, path, &s->key);
    if (code == CLI_EXIT_OK)
        code = cli_key_ids(c, s->key, s->wire, s->addr);
    if (code == CLI_EXIT_OK && cli_has_state(c)) {
        const hre_contract *st = NULL;
        code = cli_state(c, &st);
        if (code == CLI_EXIT_OK) {
            hre_contract_account acc = HRE_CONTRACT_ACCOUNT_INIT;
            if (hre_contract_account_by_key(st, &acc, NULL, s->wire) == HRE_OK)
                memcpy(s->addr, acc.address, 32);
            hre_error_clear();
        }
    }
    if (code == CLI_EXIT_OK)
        code = cli_network_id(c, s->network_id);
    if (code == CLI_EXIT_OK)
        code = cli_next_nonce(c, s->wire, 34, &s->nonce);
    s->now = cli_now_s();
    if (code != CLI_EXIT_OK)
        cli_signer_close(s);
    return code;
}

void cli_signer_close(cli_signer *s)
{
    hre_key_free(s->key);
    s->key = NULL;
}

int cli_submit_built(cli *c, int build_rc, hre_tx *tx, const char *what, cli_submitted *res)
{
    memset(res, 0, sizeof *res);
    if (build_rc != HRE_OK) {
        hre_tx_free(tx);
        char w[200];
        snprintf(w, sizeof w, "build the %s transaction", what);
        return cli_fail(c, build_rc, w);
    }
    int code = cli_submit(c, tx, res);
    hre_tx_free(tx);
    return code;
}

void cli_print_submitted(cli *c, const cli_submitted *res, const char *what,
                         const char *extra_json)
{
    char txid[65];
    cli_hex(txid, res->txid, 32);
    if (c->json) {
        fprintf(c->out, "{\"txid\":\"%s\",\"state\":\"%s\"", txid,
                res->in_block ? "block" : "mempool");
        if (res->in_block)
            fprintf(c->out, ",\"height\":%llu", (unsigned long long)res->height);
        if (extra_json)
            fputs(extra_json, c->out);
        fputs("}\n", c->out);
    } else if (res->in_block) {
        fprintf(c->out, "%s: transaction %s in block %llu\n", what, txid,
                (unsigned long long)res->height);
    } else {
        fprintf(c->out, "%s: transaction %s submitted to the node (mempool)\n", what, txid);
    }
}

/* ---- small argument parsers ------------------------------------------ */

int cli_has_state(const cli *c)
{
    return c->ledger != NULL || (c->data_dir != NULL && c->node_dir == NULL);
}

int cli_u64_arg(cli *c, uint64_t *out, const char *s, uint64_t max, const char *what)
{
    char *end = NULL;
    *out = 0;
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return cli_error(c, CLI_EXIT_INPUT, "%s: not a number: '%s'", what, s ? s : "");
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || !end || *end)
        return cli_error(c, CLI_EXIT_INPUT, "%s: not a number: '%s'", what, s);
    if (v > max)
        return cli_error(c, CLI_EXIT_INPUT, "%s: %llu is larger than %llu", what, v,
                         (unsigned long long)max);
    *out = (uint64_t)v;
    return CLI_EXIT_OK;
}

int cli_time_arg(cli *c, uint64_t *out, const char *s, const char *what)
{
    *out = 0;
    if (s && s[0] == '+') {
        const char *num = s + 1;
        size_t n = strlen(num);
        if (n < 2)
            return cli_error(c, CLI_EXIT_INPUT, "%s: expected +N followed by s, m, h, d or w: '%s'",
                             what, s);
        uint64_t mult;
        switch (num[n - 1]) {
        case 's': mult = 1; break;
        case 'm': mult = 60; break;
        case 'h': mult = 3600; break;
        case 'd': mult = 86400; break;
        case 'w': mult = 7 * 86400; break;
        default:
            return cli_error(c, CLI_EXIT_INPUT, "%s: expected +N followed by s, m, h, d or w: '%s'",
                             what, s);
        }
        char digits[32];
        if (n - 1 >= sizeof digits)
            return cli_error(c, CLI_EXIT_INPUT, "%s: too long: '%s'", what, s);
        memcpy(digits, num, n - 1);
        digits[n - 1] = '\0';
        uint64_t v = 0;
        int code = cli_u64_arg(c, &v, digits, UINT32_MAX / mult, what);
        if (code != CLI_EXIT_OK)
            return code;
        *out = cli_now_s() + v * mult;
        return CLI_EXIT_OK;
    }
    if (s && strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
        /* YYYY-MM-DD, midnight UTC */
        unsigned int y = 0, mo = 0, d = 0;
        char tail = 0;
        if (sscanf(s, "%4u-%2u-%2u%c", &y, &mo, &d, &tail) != 3 || y < 1970 || mo < 1 ||
            mo > 12 || d < 1 || d > 31)
            return cli_error(c, CLI_EXIT_INPUT, "%s: not a date (YYYY-MM-DD): '%s'", what, s);
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        tm.tm_year = (int)y - 1900;
        tm.tm_mon = (int)mo - 1;
        tm.tm_mday = (int)d;
        time_t t = timegm(&tm);
        if (t < 0)
            return cli_error(c, CLI_EXIT_INPUT, "%s: before 1970: '%s'", what, s);
        *out = (uint64_t)t;
        return CLI_EXIT_OK;
    }
    return cli_u64_arg(c, out, s, UINT32_MAX, what);
}
