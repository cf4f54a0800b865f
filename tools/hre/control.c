/*
 * hre: the control connection between the tool and a running
 * `hre node run` (cli.h; the protocol is docs/PROTOCOL.md, "hre control
 * protocol" -- the tool's own, not the library's). The wire format, every
 * frame and payload encoder and decoder, is control_codec.c (pure; fuzzed
 * by tests/fuzz/fuzz_control_frame.c); this file holds the sockets, the
 * connection states and the handlers.
 *
 * A UNIX stream socket DATA_DIR/control.sock, mode 0600, made by the node
 * (a stale one left by a crashed node -- connect() says ECONNREFUSED -- is
 * replaced) and removed at a clean stop. Only the node's user may talk to
 * it: the socket's mode, and the peer's uid (SO_PEERCRED) checked at accept.
 * One request per connection: the client sends one frame, the node answers
 * with OUT / ERR / DATA frames and one DONE frame, then closes. VAULT_PUT is
 * an upload: a header frame, the node's CONTINUE, PUT_DATA frames sealed into
 * the vault as they come (one per loop turn, never the whole document in
 * memory), PUT_END, then the answer; each frame within CTL_READ_TIMEOUT_MS.
 *
 * The server side never blocks the node's loop: the listener and the
 * connections are non-blocking descriptors polled by tcp_host (its extra-fd
 * hook); a request must arrive whole within CTL_READ_TIMEOUT_MS and the
 * answer must be taken within CTL_WRITE_TIMEOUT_MS, frames are capped, at
 * most CTL_MAX_CONNS connections are served at once (more are closed at
 * accept). A request runs synchronously in the loop once complete.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* struct ucred, SO_PEERCRED, open_memstream */
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <hre/vault.h>

#include "cli.h"
#include "control_codec.h"

/* ---- the wire format: control_codec.h (docs/PROTOCOL.md section 17) ---- */

#define CTL_REP_TOTAL ((size_t)256 << 20)   /* a whole answer, at most */

#define CTL_MAX_CONNS 8
#define CTL_READ_TIMEOUT_MS 5000u
#define CTL_WRITE_TIMEOUT_MS 30000u
#define CTL_CLIENT_TIMEOUT_MS 120000
#define CTL_FETCH_TIMEOUT_MS 90000u        /* XCH_FETCH: the exchange's own 60 s, and some */
/* VAULT_PUT: the largest document a node takes over the control socket (a
 * compile-time setting: -DHRE_CTL_PUT_MAX=BYTES), the whole upload's time
 * (besides CTL_READ_TIMEOUT_MS for each frame) */
#ifndef HRE_CTL_PUT_MAX
#define HRE_CTL_PUT_MAX ((uint64_t)64 << 20)
#endif
#define CTL_PUT_MAX ((uint64_t)(HRE_CTL_PUT_MAX))
#define CTL_PUT_TIMEOUT_MS 300000u
#define CTL_GOT_CONTINUE (-2)

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int sock_path(char *out, size_t cap, const char *dir)
{
    struct sockaddr_un sa;
    int n = snprintf(out, cap, "%s/control.sock", dir);
    if (n < 0 || (size_t)n >= cap || (size_t)n >= sizeof sa.sun_path)
        return -1;
    return 0;
}

/* ======================================================================== */
/* Client                                                                    */
/* ======================================================================== */

static int ctl_connect(cli *c, int *fd_out)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct sockaddr_un sa;
    *fd_out = -1;
    if (!c->node_dir)
        return cli_error(c, CLI_EXIT_USAGE, "this needs --node DIR");
    if (sock_path(path, sizeof path, c->node_dir) != 0)
        return cli_error(c, CLI_EXIT_NODE, "--node %s: the path is too long for a socket",
                         c->node_dir);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cli_error(c, CLI_EXIT_INTERNAL, "socket: %s", strerror(errno));
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int rc;
    do {
        rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        int e = errno;
        close(fd);
        return cli_error(c, CLI_EXIT_NODE, "no node answers on %s (%s)", path, strerror(e));
    }
    *fd_out = fd;
    return CLI_EXIT_OK;
}

static int io_wait(int fd, short ev)
{
    struct pollfd p = { fd, ev, 0 };
    int k;
    do {
        k = poll(&p, 1, CTL_CLIENT_TIMEOUT_MS);
    } while (k < 0 && errno == EINTR);
    return k > 0 ? 0 : -1;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (io_wait(fd, POLLOUT) != 0)
                return -1;
            continue;
        }
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* 0: read n bytes; 1: EOF before any byte; -1: error / timeout / EOF inside */
static int read_all(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        if (io_wait(fd, POLLIN) != 0)
            return -1;
        ssize_t k = recv(fd, p + got, n - got, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k == 0)
            return got == 0 ? 1 : -1;
        if (k < 0)
            return -1;
        got += (size_t)k;
    }
    return 0;
}

/* Where DATA frames go (VAULT_GET): a callback; NULL refuses them. */
typedef int (*ctl_data_fn)(void *ud, const uint8_t *p, size_t n);

/* Read an answer: copy OUT / ERR to c->out / c->err, DATA to data_fn, and
 * return the DONE frame's exit code with its result bytes (exactly
 * result_len of them, or none when the exit code is not 0). With
 * allow_continue, a CONTINUE frame first returns CTL_GOT_CONTINUE. */
static int ctl_answer(cli *c, int fd, uint8_t *result, size_t result_len, size_t *var_len,
                      ctl_data_fn data_fn, void *data_ud, int allow_continue)
{
    uint8_t *buf = malloc(CTL_REP_FRAME);
    int code;
    if (!buf)
        return cli_error(c, CLI_EXIT_INTERNAL, "out of memory");
    code = -1;
    for (;;) {
        uint8_t fh[CTL_FRAME_LEN_BYTES];
        uint32_t n;
        ctl_frame f;
        ctl_rep a;
        if (read_all(fd, fh, sizeof fh) != 0 || ctl_frame_len_decode(fh, CTL_REP_FRAME, &n) != CTL_OK ||
            read_all(fd, buf, n) != 0 || ctl_frame_body_decode(buf, n, &f) != CTL_OK ||
            ctl_rep_decode(f.type, f.payload, f.len, &a) != CTL_OK)
            break;
        if (a.type == CTL_REP_CONTINUE) {
            if (!allow_continue)
                break;
            code = CTL_GOT_CONTINUE;
            goto out;
        }
        allow_continue = 0;
        if (a.type == CTL_REP_OUT) {
            if (a.data.len && fwrite(a.data.p, 1, a.data.len, c->out) != a.data.len) {
                code = cli_error(c, CLI_EXIT_IO, "write to stdout failed");
                goto out;
            }
        } else if (a.type == CTL_REP_ERR) {
            if (a.data.len)
                (void)!fwrite(a.data.p, 1, a.data.len, c->err);
        } else if (a.type == CTL_REP_DATA) {
            if (!data_fn)
                break;
            code = data_fn(data_ud, a.data.p, a.data.len);
            if (code != CLI_EXIT_OK)
                goto out;
            code = -1;
        } else {   /* DONE */
            code = a.exit_code;
            if (code == CLI_EXIT_OK && var_len) {
                if (a.data.len > result_len) {
                    code = -1;
                    break;
                }
                if (a.data.len)
                    memcpy(result, a.data.p, a.data.len);
                *var_len = a.data.len;
            } else if (code == CLI_EXIT_OK) {
                if (a.data.len != result_len) {
                    code = -1;
                    break;
                }
                if (result_len)
                    memcpy(result, a.data.p, result_len);
            }
            goto out;
        }
    }
    code = cli_error(c, CLI_EXIT_NODE, "the node at %s closed the control connection "
                     "without a valid answer", c->node_dir);
out:
    free(buf);
    return code;
}

/* One request: send it, copy OUT / ERR to c->out / c->err, DATA to data_fn,
 * and return the DONE frame's exit code with its result bytes (exactly
 * result_len of them, or none when the exit code is not 0). */
static int ctl_call_x(cli *c, uint8_t type, const uint8_t *payload, size_t len, uint8_t *result,
                      size_t result_len, size_t *var_len, ctl_data_fn data_fn, void *data_ud)
{
    int fd;
    int code = ctl_connect(c, &fd);
    if (code != CLI_EXIT_OK)
        return code;
    if (len + 2 > CTL_REQ_MAX) {
        close(fd);
        return cli_error(c, CLI_EXIT_INPUT, "the request is too large for the control socket");
    }
    uint8_t hdr[CTL_FRAME_HEAD];
    ctl_frame_head(hdr, type, len);
    if (write_all(fd, hdr, sizeof hdr) != 0 || (len && write_all(fd, payload, len) != 0)) {
        close(fd);
        return cli_error(c, CLI_EXIT_NODE, "the node at %s did not take the request",
                         c->node_dir);
    }
    code = ctl_answer(c, fd, result, result_len, var_len, data_fn, data_ud, 0);
    close(fd);
    return code;
}

static int ctl_call(cli *c, uint8_t type, const uint8_t *payload, size_t len, uint8_t *result,
                    size_t result_len, ctl_data_fn data_fn, void *data_ud)
{
    return ctl_call_x(c, type, payload, len, result, result_len, NULL, data_fn, data_ud);
}

static int ctl_call_var(cli *c, uint8_t type, const uint8_t *payload, size_t len, uint8_t *result,
                        size_t cap, size_t *got)
{
    return ctl_call_x(c, type, payload, len, result, cap, got, NULL, NULL);
}

int cli_control_run(cli *c, int argc, char **argv)
{
    char cwd[CTL_ARG_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return cli_error(c, CLI_EXIT_IO, "getcwd: %s", strerror(errno));
    if (argc < 0 || argc > CTL_ARGS_MAX)
        return cli_error(c, CLI_EXIT_USAGE, "too many arguments");
    ctl_run *r = calloc(1, sizeof *r);
    if (!r)
        return cli_error(c, CLI_EXIT_INTERNAL, "out of memory");
    r->cwd.p = (const uint8_t *)cwd;
    r->cwd.len = strlen(cwd);
    r->argc = (size_t)argc;
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (n > CTL_ARG_MAX) {
            free(r);
            return cli_error(c, CLI_EXIT_USAGE, "an argument is longer than %u bytes",
                             CTL_ARG_MAX);
        }
        r->argv[i].p = (const uint8_t *)argv[i];
        r->argv[i].len = n;
    }
    size_t len = ctl_run_encoded_len(r), off = 0;
    uint8_t *p = len ? malloc(len) : NULL;
    if (!p) {
        free(r);
        return len ? cli_error(c, CLI_EXIT_INTERNAL, "out of memory")
                   : cli_error(c, CLI_EXIT_USAGE, "no command to run");
    }
    int erc = ctl_run_encode(r, p, len, &off);
    free(r);
    if (erc != CTL_OK) {
        free(p);
        return cli_error(c, CLI_EXIT_USAGE, "control: RUN: %s", ctl_err_detail(erc));
    }
    fflush(c->out);
    int code = ctl_call(c, CTL_REQ_RUN, p, off, NULL, 0, NULL, NULL);
    free(p);
    return code;
}

int cli_control_nonce(cli *c, const uint8_t *id, size_t id_len, uint64_t *nonce)
{
    uint8_t req[CTL_NONCE_REQ_MAX], res[CTL_NONCE_RESULT_LEN];
    size_t len = 0;
    *nonce = 0;
    if (ctl_nonce_req_encode(id, id_len, req, &len) != CTL_OK)
        return cli_error(c, CLI_EXIT_INTERNAL, "nonce: an id of %zu bytes", id_len);
    int code = ctl_call(c, CTL_REQ_NONCE, req, len, res, sizeof res, NULL, NULL);
    if (code == CLI_EXIT_OK)
        (void)ctl_nonce_result_decode(res, sizeof res, nonce);
    return code;
}

int cli_control_network_id(cli *c, uint8_t out[32])
{
    return ctl_call(c, CTL_REQ_NETWORK_ID, NULL, 0, out, CTL_NETWORK_ID_RESULT_LEN, NULL, NULL);
}

int cli_control_submit(cli *c, const uint8_t *tx, size_t len, cli_submitted *res)
{
    uint8_t r[CTL_SUBMIT_RESULT_LEN];
    memset(res, 0, sizeof *res);
    int code = ctl_call(c, CTL_REQ_SUBMIT, tx, len, r, sizeof r, NULL, NULL);
    if (code == CLI_EXIT_OK)
        (void)ctl_submit_result_decode(r, sizeof r, res);
    return code;
}

int cli_control_vault_get(cli *c, const uint8_t record_id[32], const uint8_t enc_key[34],
                          uint8_t wrap[HRE_VAULT_WRAP_LEN],
                          int (*data)(void *ud, const uint8_t *p, size_t n), void *ud)
{
    uint8_t req[CTL_VAULT_GET_REQ_LEN];
    ctl_vault_get_req_encode(record_id, enc_key, req);
    return ctl_call(c, CTL_REQ_VAULT_GET, req, sizeof req, wrap, HRE_VAULT_WRAP_LEN, data, ud);
}

int cli_control_xch_peers(cli *c, const uint8_t record_id[32], cli_xch_peer *out, size_t cap,
                          size_t *n)
{
    uint8_t res[CTL_XCH_PEERS_RESULT_MAX];
    size_t got = 0;
    *n = 0;
    /* the answer's length depends on the count: ask with the largest result
       accepted, then check it */
    int code = ctl_call_var(c, CTL_REQ_XCH_PEERS, record_id, CTL_XCH_PEERS_REQ_LEN, res,
                            sizeof res, &got);
    if (code != CLI_EXIT_OK)
        return code;
    if (ctl_xch_peers_result_decode(res, got, out, cap, n) != CTL_OK)
        return cli_error(c, CLI_EXIT_NODE, "the node sent a malformed peer list");
    return CLI_EXIT_OK;
}

int cli_control_xch_fetch(cli *c, uint64_t conn, const uint8_t *request, size_t request_len,
                          uint8_t wrap[HRE_VAULT_WRAP_LEN],
                          int (*data)(void *ud, const uint8_t *p, size_t n), void *ud)
{
    uint8_t req[CTL_XCH_FETCH_REQ_LEN];
    if (request_len != HRE_VAULT_XCH_REQUEST_LEN)
        return cli_error(c, CLI_EXIT_INTERNAL, "exchange request of %zu bytes", request_len);
    ctl_xch_fetch_req_encode(conn, request, req);
    return ctl_call(c, CTL_REQ_XCH_FETCH, req, sizeof req, wrap, HRE_VAULT_WRAP_LEN, data, ud);
}

/* vault put --node: the header frame, CONTINUE (or the node's refusal), the
 * document in PUT_DATA frames as read from the file, PUT_END, the answer. */
int cli_control_vault_put(cli *c, const char *path, const char *media_type,
                          const char *const *readers, size_t n_readers, cli_put_result *res)
{
    uint8_t hdr[CTL_FRAME_HEAD + CTL_PUT_HDR_MAX];
    size_t ml = media_type ? strlen(media_type) : 0, off = 0;
    struct stat sb;
    ctl_put_hdr h;
    memset(res, 0, sizeof *res);
    if (ml > CTL_PUT_MEDIA_LEN)
        return cli_error(c, CLI_EXIT_INPUT, "--media-type: at most %d bytes", CTL_PUT_MEDIA_LEN);
    if (n_readers < 1 || n_readers > CTL_PUT_READERS_MAX)
        return cli_error(c, CLI_EXIT_USAGE, "vault put --node: 1 to %d --reader",
                         CTL_PUT_READERS_MAX);
    int ffd = open(path, O_RDONLY | O_CLOEXEC);
    if (ffd < 0)
        return cli_error(c, errno == ENOENT ? CLI_EXIT_NOTFOUND : CLI_EXIT_IO, "%s: %s", path,
                         strerror(errno));
    if (fstat(ffd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(ffd);
        return cli_error(c, CLI_EXIT_INPUT, "%s: not a regular file", path);
    }
    uint64_t total = (uint64_t)sb.st_size;
    if (total > CTL_PUT_MAX) {
        close(ffd);
        return cli_error(c, CLI_EXIT_INPUT, "%s is %llu bytes: over the %llu bytes a node takes "
                         "over its control socket", path, (unsigned long long)total,
                         (unsigned long long)CTL_PUT_MAX);
    }
    memset(&h, 0, sizeof h);
    h.doc_len = total;
    h.media.p = (const uint8_t *)media_type;
    h.media.len = ml;
    h.n_readers = n_readers;
    for (size_t i = 0; i < n_readers; i++) {
        size_t rl = strlen(readers[i]);
        if (rl < 1 || rl > CTL_PUT_READER_LEN) {
            close(ffd);
            return cli_error(c, CLI_EXIT_INPUT, "--reader %.100s: not an id", readers[i]);
        }
        h.readers[i].p = (const uint8_t *)readers[i];
        h.readers[i].len = rl;
    }
    if (ctl_put_hdr_encode(&h, hdr + CTL_FRAME_HEAD, sizeof hdr - CTL_FRAME_HEAD, &off) !=
        CTL_OK) {   /* the checks above leave only a NUL, which a C string cannot hold */
        close(ffd);
        return cli_error(c, CLI_EXIT_INTERNAL, "vault put --node: the header");
    }
    ctl_frame_head(hdr, CTL_REQ_VAULT_PUT, off);
    off += CTL_FRAME_HEAD;
    int fd;
    int code = ctl_connect(c, &fd);
    if (code != CLI_EXIT_OK) {
        close(ffd);
        return code;
    }
    uint8_t *chunk = NULL;
    if (write_all(fd, hdr, off) != 0) {
        code = cli_error(c, CLI_EXIT_NODE, "the node at %s did not take the request",
                         c->node_dir);
        goto out;
    }
    code = ctl_answer(c, fd, NULL, 0, NULL, NULL, NULL, 1);
    if (code != CTL_GOT_CONTINUE) {
        if (code == CLI_EXIT_OK)   /* DONE without CONTINUE: not a valid answer */
            code = cli_error(c, CLI_EXIT_NODE, "the node answered the upload too early");
        goto out;
    }
    chunk = malloc(CTL_FRAME_HEAD + CTL_PUT_DATA_MAX);
    if (!chunk) {
        code = cli_error(c, CLI_EXIT_INTERNAL, "out of memory");
        goto out;
    }
    uint64_t sent = 0;
    int early = 0;
    while (sent < total) {
        size_t want = CTL_PUT_DATA_MAX;
        if (total - sent < want)
            want = (size_t)(total - sent);
        ssize_t k = read(ffd, chunk + CTL_FRAME_HEAD, want);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            code = cli_error(c, k < 0 ? CLI_EXIT_IO : CLI_EXIT_INPUT, "%s: %s", path,
                             k < 0 ? strerror(errno) : "it shrank while being sent");
            goto out;
        }
        ctl_frame_head(chunk, CTL_REQ_PUT_DATA, (size_t)k);
        if (write_all(fd, chunk, CTL_FRAME_HEAD + (size_t)k) != 0) {
            early = 1;   /* the node stopped taking it: its answer says why */
            break;
        }
        sent += (uint64_t)k;
        /* an answer before the end is a refusal: stop sending, read it */
        struct pollfd pf = { fd, POLLIN, 0 };
        if (poll(&pf, 1, 0) > 0) {
            early = 1;
            break;
        }
    }
    if (!early) {
        uint8_t end[CTL_FRAME_HEAD];
        ctl_frame_head(end, CTL_REQ_PUT_END, 0);
        if (write_all(fd, end, sizeof end) != 0)
            early = 1;
    }
    uint8_t r[CTL_PUT_RESULT_LEN];
    code = ctl_answer(c, fd, r, sizeof r, NULL, NULL, NULL, 0);
    if (code == CLI_EXIT_OK && early)
        code = cli_error(c, CLI_EXIT_NODE, "the node answered the upload too early");
    if (code == CLI_EXIT_OK)
        (void)ctl_put_result_decode(r, sizeof r, res);
out:
    if (chunk) {
        hre_wipe(chunk, CTL_FRAME_HEAD + CTL_PUT_DATA_MAX);
        free(chunk);
    }
    close(fd);
    close(ffd);
    return code;
}

/* ======================================================================== */
/* Server (inside `hre node run`)                                            */
/* ======================================================================== */

#define CS_READ  1
#define CS_WRITE 2
#define CS_WAIT  3   /* an XCH_FETCH in progress */
#define CS_GO    4   /* VAULT_PUT: writing CONTINUE */
#define CS_UPLOAD 5  /* VAULT_PUT: reading PUT_DATA / PUT_END frames */

typedef struct env_buf {
    uint8_t *p;
    size_t len, cap;
} env_buf;

typedef struct ctl_conn {
    int fd;                    /* -1: free slot */
    int state;
    uint64_t deadline;         /* mono ms */
    uint8_t hdr[4];
    size_t hdr_got;
    uint32_t need;             /* body bytes (after the header) */
    uint8_t *req;
    size_t req_got;
    uint8_t *rep;              /* the whole answer, framed */
    size_t rep_len, rep_off;
    hre_vault_fetch *fetch;    /* CS_WAIT */
    env_buf *env;              /* CS_WAIT: the envelope so far (heap: the sink keeps it) */
    /* VAULT_PUT (CS_GO, CS_UPLOAD): sealed into the vault frame by frame */
    hre_vault_store *store;
    uint64_t put_total, put_got, put_deadline;
    uint8_t put_locator[32];
    char put_media[CTL_PUT_MEDIA_LEN + 1];   /* the store borrows it */
} ctl_conn;

struct cli_ctl_server {
    int lfd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    cli_ctl_host host;
    ctl_conn conns[CTL_MAX_CONNS];
    uint64_t served, refused;
};

static void conn_free(ctl_conn *k)
{
    hre_vault_store_free(k->store);   /* an unfinished upload is aborted */
    hre_vault_fetch_free(k->fetch);
    if (k->env) {
        free(k->env->p);
        free(k->env);
    }
    if (k->fd >= 0)
        close(k->fd);
    free(k->req);
    free(k->rep);
    memset(k, 0, sizeof *k);
    k->fd = -1;
}

int cli_ctl_server_open(cli *c, cli_ctl_server **out, const char *data_dir,
                        const cli_ctl_host *host)
{
    *out = NULL;
    cli_ctl_server *s = calloc(1, sizeof *s);
    if (!s)
        return cli_error(c, CLI_EXIT_INTERNAL, "out of memory");
    s->lfd = -1;
    s->host = *host;
    for (size_t i = 0; i < CTL_MAX_CONNS; i++)
        s->conns[i].fd = -1;
    if (sock_path(s->path, sizeof s->path, data_dir) != 0) {
        free(s);
        return cli_error(c, CLI_EXIT_USAGE, "%s: the path is too long for a control socket",
                         data_dir);
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
    struct stat stt;
    if (lstat(s->path, &stt) == 0) {
        if (!S_ISSOCK(stt.st_mode)) {
            free(s);
            return cli_error(c, CLI_EXIT_IO, "%s exists and is not a socket", s->path);
        }
        /* a live node answers; a crashed one left a stale socket (ECONNREFUSED) */
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int rc = probe < 0 ? -1 : connect(probe, (struct sockaddr *)&sa, sizeof sa);
        int e = errno;
        if (probe >= 0)
            close(probe);
        if (rc == 0) {
            free(s);
            return cli_error(c, CLI_EXIT_IO, "%s: another node answers there", s->path);
        }
        if (e != ECONNREFUSED && e != ENOENT) {
            free(s);
            return cli_error(c, CLI_EXIT_IO, "%s: %s", s->path, strerror(e));
        }
        if (unlink(s->path) != 0 && errno != ENOENT) {
            free(s);
            return cli_error(c, CLI_EXIT_IO, "remove the stale %s: %s", s->path, strerror(errno));
        }
        if (host->log)
            host->log(host->log_ud, HRE_LOG_WARN, "replaced a stale control socket");
    }
    s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s->lfd < 0) {
        free(s);
        return cli_error(c, CLI_EXIT_INTERNAL, "socket: %s", strerror(errno));
    }
    mode_t old = umask(0177);   /* the socket is born 0600 */
    int rc = bind(s->lfd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    umask(old);
    if (rc != 0 || chmod(s->path, 0600) != 0 || listen(s->lfd, 64) != 0) {
        if (rc == 0)
            e = errno;
        close(s->lfd);
        if (rc == 0)
            unlink(s->path);
        free(s);
        return cli_error(c, CLI_EXIT_IO, "control socket %s: %s", s->path, strerror(e));
    }
    *out = s;
    return CLI_EXIT_OK;
}

void cli_ctl_server_close(cli_ctl_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < CTL_MAX_CONNS; i++)
        if (s->conns[i].fd >= 0)
            conn_free(&s->conns[i]);
    if (s->lfd >= 0) {
        close(s->lfd);
        unlink(s->path);
    }
    free(s);
}

size_t cli_ctl_server_fds(cli_ctl_server *s, struct pollfd *fds, size_t cap, uint64_t *wake_at)
{
    size_t n = 0;
    uint64_t mnow = mono_ms(), rnow = cli_now_ms();
    if (!s || cap < 1)
        return 0;
    fds[n].fd = s->lfd;
    fds[n].events = POLLIN;
    n++;
    for (size_t i = 0; i < CTL_MAX_CONNS && n < cap; i++) {
        ctl_conn *k = &s->conns[i];
        if (k->fd < 0)
            continue;
        fds[n].fd = k->fd;
        fds[n].events = k->state == CS_WRITE || k->state == CS_GO ? POLLOUT
                                                                  : POLLIN; /* WAIT: see a hang-up */
        n++;
        if (k->state == CS_WAIT && rnow + 50 < *wake_at)
            *wake_at = rnow + 50;   /* look at the fetch soon */
        /* the host's clock is the wall clock: translate the deadline */
        uint64_t left = k->deadline > mnow ? k->deadline - mnow : 0;
        if (rnow + left < *wake_at)
            *wake_at = rnow + left;
    }
    return n;
}

/* ---- building an answer --------------------------------------------------- */

typedef struct rep_buf {
    uint8_t *p;
    size_t len, cap;
    int overflow;
} rep_buf;

static void rep_frame(rep_buf *r, uint8_t type, const uint8_t *a, size_t an, const uint8_t *b,
                      size_t bn)
{
    if (r->overflow)
        return;
    size_t body = 2 + an + bn;
    if (body > CTL_REP_FRAME || r->len + 4 + body > CTL_REP_TOTAL) {
        r->overflow = 1;
        return;
    }
    if (r->len + 4 + body > r->cap) {
        size_t nc = r->cap ? r->cap : 4096;
        while (nc < r->len + 4 + body)
            nc *= 2;
        uint8_t *q = realloc(r->p, nc);
        if (!q) {
            r->overflow = 1;
            return;
        }
        r->p = q;
        r->cap = nc;
    }
    ctl_frame_head(r->p + r->len, type, an + bn);
    if (an)
        memcpy(r->p + r->len + 6, a, an);
    if (bn)
        memcpy(r->p + r->len + 6 + an, b, bn);
    r->len += 4 + body;
}

/* text in frames of at most CTL_REP_FRAME - 2 bytes */
static void rep_text(rep_buf *r, uint8_t type, const char *t, size_t n)
{
    while (n) {
        size_t take = n > CTL_REP_FRAME - 2 ? CTL_REP_FRAME - 2 : n;
        rep_frame(r, type, (const uint8_t *)t, take, NULL, 0);
        t += take;
        n -= take;
    }
}

/* The context a request runs in: a cli whose out / err are memory streams. */
typedef struct req_ctx {
    cli c;
    char *out_buf, *err_buf;
    size_t out_len, err_len;
    cli_ctl_server *s;
} req_ctx;

static int req_begin(req_ctx *q, cli_ctl_server *s)
{
    memset(q, 0, sizeof *q);
    cli_init(&q->c);
    q->s = s;
    q->c.out = open_memstream(&q->out_buf, &q->out_len);
    q->c.err = open_memstream(&q->err_buf, &q->err_len);
    if (!q->c.out || !q->c.err) {
        if (q->c.out)
            fclose(q->c.out);
        if (q->c.err)
            fclose(q->c.err);
        free(q->out_buf);
        free(q->err_buf);
        return -1;
    }
    q->c.ledger = s->host.ledger;
    q->c.ledger_borrowed = 1;
    q->c.node_submit = cli_ctl_node_submit;
    q->c.node_ctx = s;
    return 0;
}

/* Close the streams and frame OUT, ERR and DONE(code, result). */
static void req_end(req_ctx *q, rep_buf *r, int code, const uint8_t *res, size_t res_len)
{
    fclose(q->c.out);
    fclose(q->c.err);
    rep_text(r, CTL_REP_OUT, q->out_buf, q->out_len);
    rep_text(r, CTL_REP_ERR, q->err_buf, q->err_len);
    free(q->out_buf);
    free(q->err_buf);
    uint8_t ec = (uint8_t)(code < 0 || code > 255 ? CLI_EXIT_INTERNAL : code);
    rep_frame(r, CTL_REP_DONE, &ec, 1, code == CLI_EXIT_OK ? res : NULL,
              code == CLI_EXIT_OK ? res_len : 0);
}

int cli_ctl_node_submit(void *node_ctx, const uint8_t *tx, size_t len, cli_submitted *res)
{
    cli_ctl_server *s = node_ctx;
    (void)tx;
    (void)len;
    memset(res, 0, sizeof *res);
    /* a RUN command is read-only: it never submits (set so that a mistake
       fails loudly instead of writing to the borrowed ledger directly) */
    if (s && s->host.log)
        s->host.log(s->host.log_ud, HRE_LOG_ERROR, "control: a RUN command tried to submit a "
                    "transaction (refused: RUN commands are read-only)");
    return CLI_EXIT_INTERNAL;
}

hre_node *cli_control_node(const cli *c)
{
    if (c->node_submit != cli_ctl_node_submit || !c->node_ctx)
        return NULL;
    return ((cli_ctl_server *)c->node_ctx)->host.node;
}

static void handle_run(cli_ctl_server *s, rep_buf *r, const uint8_t *p, size_t n)
{
    req_ctx q;
    if (req_begin(&q, s) != 0) {
        r->overflow = 1;
        return;
    }
    char *argv[CTL_ARGS_MAX + 1];
    char *store = NULL, *cwd = NULL;
    int argc = 0, code = CLI_EXIT_INPUT, saved = -1;
    ctl_run *run = calloc(1, sizeof *run);
    if (!run) {
        code = cli_error(&q.c, CLI_EXIT_INTERNAL, "out of memory");
        goto done;
    }
    int drc = ctl_run_decode(p, n, run);
    if (drc == CTL_E_COUNT) {
        code = cli_error(&q.c, CLI_EXIT_USAGE, "control: RUN with %zu arguments", run->argc);
        goto done;
    }
    if (drc == CTL_E_NUL) {
        code = cli_error(&q.c, CLI_EXIT_INPUT, "control: an argument holds a NUL byte");
        goto done;
    }
    if (drc != CTL_OK) {
        code = cli_error(&q.c, CLI_EXIT_INPUT, "control: malformed RUN request");
        goto done;
    }
    /* NUL-terminated copies: the strings add up to n - 4 - 2 * argc bytes */
    store = malloc(n + CTL_ARGS_MAX + 2);
    if (!store) {
        code = cli_error(&q.c, CLI_EXIT_INTERNAL, "out of memory");
        goto done;
    }
    size_t so = run->cwd.len + 1;
    cwd = store;
    memcpy(cwd, run->cwd.p, run->cwd.len);
    cwd[run->cwd.len] = 0;
    for (size_t i = 0; i < run->argc; i++) {
        argv[argc++] = store + so;
        memcpy(store + so, run->argv[i].p, run->argv[i].len);
        store[so + run->argv[i].len] = 0;
        so += run->argv[i].len + 1;
    }
    argv[argc] = NULL;
    int used = 0;
    const cli_cmd *cmd = cli_find(argc, argv, &used);
    if (!cmd || !(cmd->flags & CLI_NODE_RUN)) {
        code = cli_error(&q.c, CLI_EXIT_USAGE, "'%s' is not a command the node runs",
                         argv[0]);
        goto done;
    }
    cli_args a;
    code = cli_parse(&q.c, cmd, argc - used, argv + used, &a);
    if (code != CLI_EXIT_OK)
        goto done;
    q.c.args = &a;
    /* relative paths in the arguments are the client's: run in its cwd */
    saved = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (saved < 0 || chdir(cwd) != 0) {
        code = cli_error(&q.c, CLI_EXIT_IO, "control: cannot work in %s: %s", cwd,
                         strerror(errno));
        goto done;
    }
    code = cmd->run(&q.c, &a);
    cli_close(&q.c);
done:
    if (saved >= 0) {
        if (fchdir(saved) != 0 && s->host.log)
            s->host.log(s->host.log_ud, HRE_LOG_ERROR, "control: cannot return to the node's "
                        "working directory");
        close(saved);
    }
    free(store);
    free(run);
    req_end(&q, r, code, NULL, 0);
}

static void handle_nonce(cli_ctl_server *s, rep_buf *r, const uint8_t *p, size_t n)
{
    req_ctx q;
    uint8_t res[CTL_NONCE_RESULT_LEN];
    uint64_t nonce = 0;
    ctl_nonce_req req;
    int code;
    if (req_begin(&q, s) != 0) {
        r->overflow = 1;
        return;
    }
    if (ctl_nonce_req_decode(p, n, &req) != CTL_OK) {
        code = cli_error(&q.c, CLI_EXIT_INPUT, "control: malformed NONCE request");
    } else {
        int rc = hre_ledger_next_nonce(s->host.ledger, &nonce, req.id, req.id_len);
        code = rc == HRE_OK ? CLI_EXIT_OK : cli_fail(&q.c, rc, "nonce");
    }
    ctl_nonce_result_encode(nonce, res);
    req_end(&q, r, code, res, sizeof res);
}

static void handle_network_id(cli_ctl_server *s, rep_buf *r, const uint8_t *p, size_t n)
{
    req_ctx q;
    uint8_t id[CTL_NETWORK_ID_RESULT_LEN] = {0};
    int code;
    if (req_begin(&q, s) != 0) {
        r->overflow = 1;
        return;
    }
    if (ctl_network_id_req_decode(p, n) != CTL_OK) {
        code = cli_error(&q.c, CLI_EXIT_INPUT, "control: malformed NETWORK_ID request");
    } else {
        int rc = hre_ledger_network_id(s->host.ledger, id);
        code = rc == HRE_OK ? CLI_EXIT_OK : cli_fail(&q.c, rc, "network id");
    }
    req_end(&q, r, code, id, sizeof id);
}

static void handle_submit(cli_ctl_server *s, rep_buf *r, const uint8_t *p, size_t n)
{
    req_ctx q;
    uint8_t res[CTL_SUBMIT_RESULT_LEN] = {0};
    ctl_str tx;
    int code;
    if (req_begin(&q, s) != 0) {
        r->overflow = 1;
        return;
    }
    if (ctl_submit_req_decode(p, n, &tx) != CTL_OK) {
        code = cli_error(&q.c, CLI_EXIT_INPUT, "control: a SUBMIT of %zu bytes", n);
    } else {
        hre_ledger_status st = HRE_LEDGER_STATUS_NONE;
        uint64_t height = 0;
        uint8_t txid[32] = {0};
        int rc = hre_node_submit_tx(s->host.node, txid, &st, tx.p, tx.len, cli_now_ms());
        if (rc != HRE_OK) {
            code = cli_fail(&q.c, rc, "the node refused the transaction");
            if (s->host.log) {
                char m[200];
                snprintf(m, sizeof m, "control: a submitted transaction was refused: %s",
                         hre_strerror(rc));
                s->host.log(s->host.log_ud, HRE_LOG_INFO, m);
            }
        } else {
            (void)hre_ledger_tip(s->host.ledger, &height, NULL);
            code = CLI_EXIT_OK;
        }
        ctl_submit_result_encode(txid, (uint8_t)st, height, res);
    }
    req_end(&q, r, code, res, sizeof res);
}

typedef struct data_sink {
    rep_buf *r;
} data_sink;

static void handle_vault_get(cli_ctl_server *s, rep_buf *r, const uint8_t *p, size_t n)
{
    req_ctx q;
    uint8_t wire[HRE_VAULT_WRAP_LEN] = {0};
    ctl_vault_get_req req;
    int code;
    if (req_begin(&q, s) != 0) {
        r->overflow = 1;
        return;
    }
    if (ctl_vault_get_req_decode(p, n, &req) != CTL_OK) {
        code = cli_error(&q.c, CLI_EXIT_INPUT, "control: malformed VAULT_GET request");
    } else if (!s->host.vault) {
        code = cli_error(&q.c, CLI_EXIT_NOTFOUND, "this node keeps no vault (node run --vault DIR)");
    } else {
        hre_vault_wrap w;
        uint8_t doc_hash[32];
        uint64_t env_len = 0;
        code = cli_vault_lookup(&q.c, s->host.vault, req.record_id, req.enc_key, &w, doc_hash,
                                &env_len);
        if (code == CLI_EXIT_OK && env_len > CTL_REP_TOTAL - (1u << 20))
            code = cli_error(&q.c, CLI_EXIT_INPUT, "the document is too large for the "
                             "control socket (%llu bytes)", (unsigned long long)env_len);
        if (code == CLI_EXIT_OK) {
            uint8_t *chunk = malloc(CTL_REP_FRAME - 2);
            uint64_t off = 0;
            if (!chunk)
                code = cli_error(&q.c, CLI_EXIT_INTERNAL, "out of memory");
            while (code == CLI_EXIT_OK && off < env_len) {
                size_t len = CTL_REP_FRAME - 2;
                int rc = hre_vault_envelope_read(s->host.vault, chunk, &len, doc_hash, off);
                if (rc != HRE_OK)
                    code = cli_fail(&q.c, rc, "read the envelope");
                else if (len == 0)
                    code = cli_error(&q.c, CLI_EXIT_IO, "the envelope ends early");
                else
                    rep_frame(r, CTL_REP_DATA, chunk, len, NULL, 0);
                off += len;
            }
            free(chunk);
            size_t wl = sizeof wire;
            if (code == CLI_EXIT_OK) {
                int rc = hre_vault_wrap_encode(&w, wire, &wl);
                if (rc != HRE_OK)
                    code = cli_fail(&q.c, rc, "encode the wrap");
            }
        }
    }
    req_end(&q, r, code, wire, sizeof wire);
}

static void handle_xch_peers(cli_ctl_server *s, rep_buf *r, const uint8_t *p, size_t n)
{
    req_ctx q;
    uint8_t res[CTL_XCH_PEERS_RESULT_MAX];
    cli_xch_peer peers[CTL_XCH_PEERS_MAX];
    const uint8_t *record_id = NULL;
    size_t rl = 1, np = 0;
    int code = CLI_EXIT_OK;
    res[0] = 0;
    if (req_begin(&q, s) != 0) {
        r->overflow = 1;
        return;
    }
    if (ctl_xch_peers_req_decode(p, n, &record_id) != CTL_OK) {
        code = cli_error(&q.c, CLI_EXIT_INPUT, "control: malformed XCH_PEERS request");
    } else if (!s->host.xch) {
        code = cli_error(&q.c, CLI_EXIT_NOTFOUND, "this node runs no document exchange");
    } else {
        const hre_contract *st = NULL;
        hre_contract_record rec;
        uint64_t conns[CTL_XCH_PEERS_MAX];
        size_t nc = CTL_XCH_PEERS_MAX;
        hre_contract_record_init(&rec, HRE_CONTRACT_RECORD_VERSION);
        int rc = hre_ledger_contract(s->host.ledger, &st);
        if (rc == HRE_OK)
            rc = hre_contract_record_get(st, &rec, record_id);
        if (rc == HRE_OK)
            rc = hre_node_peer_list(s->host.node, conns, &nc);
        if (rc == HRE_EBUFSIZE)
            rc = HRE_OK, nc = CTL_XCH_PEERS_MAX;
        if (rc != HRE_OK) {
            code = cli_fail(&q.c, rc, "exchange peers");
        } else {
            /* live members only; the record's issuer and lab first */
            for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < nc; i++) {
                    hre_node_peer_info pi = HRE_NODE_PEER_INFO_INIT;
                    if (hre_node_peer_info_get(s->host.node, &pi, conns[i]) != HRE_OK ||
                        pi.member != HRE_NODE_MEMBER_LIVE)
                        continue;
                    int mine = !memcmp(pi.org_id, rec.issuer_org, 32) ||
                               !memcmp(pi.org_id, rec.lab_org, 32);
                    if (mine != (pass == 0) || np == CTL_XCH_PEERS_MAX)
                        continue;
                    peers[np].conn = conns[i];
                    memcpy(peers[np].binding, pi.handshake_hash, 32);
                    memcpy(peers[np].org_id, pi.org_id, 32);
                    np++;
                }
            (void)ctl_xch_peers_result_encode(peers, np, res, &rl);   /* np <= the cap */
        }
    }
    req_end(&q, r, code, res, rl);
}

static int env_sink(void *ud, const uint8_t *d, size_t n)
{
    env_buf *e = ud;
    if (n > CTL_REP_TOTAL - (2u << 20) - e->len)
        return HRE_ELIMIT;
    if (e->len + n > e->cap) {
        size_t nc = e->cap ? e->cap : 65536;
        while (nc < e->len + n)
            nc *= 2;
        uint8_t *q = realloc(e->p, nc);
        if (!q)
            return HRE_ENOMEM;
        e->p = q;
        e->cap = nc;
    }
    memcpy(e->p + e->len, d, n);
    e->len += n;
    return HRE_OK;
}

/* XCH_FETCH: start the fetch; 1 when it runs (the answer comes later). */
static int handle_xch_fetch(cli_ctl_server *s, ctl_conn *k, rep_buf *r, const uint8_t *p, size_t n)
{
    req_ctx q;
    int code;
    hre_vault_xch_request req;
    ctl_xch_fetch_req fr;
    if (req_begin(&q, s) != 0) {
        r->overflow = 1;
        return 0;
    }
    if (ctl_xch_fetch_req_decode(p, n, &fr) != CTL_OK) {
        code = cli_error(&q.c, CLI_EXIT_INPUT, "control: malformed XCH_FETCH request");
    } else if (!s->host.xch) {
        code = cli_error(&q.c, CLI_EXIT_NOTFOUND, "this node runs no document exchange");
    } else if (hre_vault_xch_request_decode(&req, fr.request, HRE_VAULT_XCH_REQUEST_LEN) !=
               HRE_OK) {
        code = cli_fail(&q.c, hre_error_last(), "the exchange request");
    } else {
        k->env = calloc(1, sizeof *k->env);
        if (!k->env) {
            code = cli_error(&q.c, CLI_EXIT_INTERNAL, "out of memory");
        } else {
            int rc = hre_vault_fetch_new_signed(&k->fetch, s->host.xch, fr.conn, &req, env_sink,
                                                k->env, cli_now_ms());
            if (rc == HRE_OK) {
                fclose(q.c.out);
                fclose(q.c.err);
                free(q.out_buf);
                free(q.err_buf);
                return 1;
            }
            code = cli_fail(&q.c, rc, "start the fetch");
        }
    }
    req_end(&q, r, code, NULL, 0);
    return 0;
}

/* A fetch finished (or timed out): frame its answer. */
static void fetch_answer(cli_ctl_server *s, ctl_conn *k, int timed_out)
{
    rep_buf r = { NULL, 0, 0, 0 };
    req_ctx q;
    uint8_t wire[HRE_VAULT_WRAP_LEN] = {0};
    int done = 0, code = 0, reason = 0, ec;
    if (req_begin(&q, s) != 0) {
        conn_free(k);
        return;
    }
    (void)hre_vault_fetch_status(k->fetch, &done, &code, &reason, NULL);
    if (timed_out && !done) {
        ec = cli_error(&q.c, CLI_EXIT_NODE, "the holder did not answer in time");
    } else if (code != HRE_OK) {
        if (reason)
            ec = cli_error(&q.c, cli_exit_code(code), "the holder refused: %s",
                           hre_vault_xch_refusal_name(reason));
        else
            ec = cli_error(&q.c, cli_exit_code(code) == CLI_EXIT_OK ? CLI_EXIT_INTERNAL
                                                                   : cli_exit_code(code),
                           "the fetch failed: %s", hre_strerror(code));
    } else {
        hre_vault_wrap w;
        size_t wl = sizeof wire;
        int rc = hre_vault_fetch_wrap(k->fetch, &w);
        if (rc == HRE_OK)
            rc = hre_vault_wrap_encode(&w, wire, &wl);
        ec = rc == HRE_OK ? CLI_EXIT_OK : cli_fail(&q.c, rc, "the answer's wrap");
        for (size_t off = 0; ec == CLI_EXIT_OK && off < k->env->len; off += CTL_REP_FRAME - 2) {
            size_t take = k->env->len - off < CTL_REP_FRAME - 2 ? k->env->len - off
                                                               : CTL_REP_FRAME - 2;
            rep_frame(&r, CTL_REP_DATA, k->env->p + off, take, NULL, 0);
        }
    }
    req_end(&q, &r, ec, wire, sizeof wire);
    hre_vault_fetch_free(k->fetch);
    k->fetch = NULL;
    free(k->env->p);
    free(k->env);
    k->env = NULL;
    if (r.overflow) {
        free(r.p);
        conn_free(k);
        return;
    }
    k->rep = r.p;
    k->rep_len = r.len;
    k->rep_off = 0;
    k->state = CS_WRITE;
    k->deadline = mono_ms() + CTL_WRITE_TIMEOUT_MS;
}

/* ---- VAULT_PUT: an upload in frames ------------------------------------------ */

static void req_drop(req_ctx *q)
{
    fclose(q->c.out);
    fclose(q->c.err);
    free(q->out_buf);
    free(q->err_buf);
}

static uint64_t put_frame_deadline(const ctl_conn *k)
{
    uint64_t d = mono_ms() + CTL_READ_TIMEOUT_MS;
    return d < k->put_deadline ? d : k->put_deadline;
}

/* The header: check it all (vault, key, cap, readers) before any data is
 * sent; 1 with CONTINUE framed in r when the upload may start, else 0 with
 * the refusal framed in r. */
static int handle_put_begin(cli_ctl_server *s, ctl_conn *k, rep_buf *r, const uint8_t *p,
                            size_t n)
{
    req_ctx q;
    int code = CLI_EXIT_OK;
    const char *rp[CTL_PUT_READERS_MAX];
    char rbuf[CTL_PUT_READERS_MAX][CTL_PUT_READER_LEN + 1];
    uint8_t types[CTL_PUT_READERS_MAX], ids[CTL_PUT_READERS_MAX][32];
    size_t nr = 0, ml = 0;
    uint64_t total = 0;
    ctl_put_hdr h;
    if (req_begin(&q, s) != 0) {
        r->overflow = 1;
        return 0;
    }
    if (ctl_put_hdr_decode(p, n, &h) != CTL_OK) {
        code = cli_error(&q.c, CLI_EXIT_INPUT, "control: malformed VAULT_PUT header");
        goto done;
    }
    total = h.doc_len;
    ml = h.media.len;
    nr = h.n_readers;
    for (size_t i = 0; i < nr; i++) {
        memcpy(rbuf[i], h.readers[i].p, h.readers[i].len);
        rbuf[i][h.readers[i].len] = 0;
        rp[i] = rbuf[i];
    }
    if (!s->host.vault) {
        code = cli_error(&q.c, CLI_EXIT_REFUSED, "this node keeps no vault: vault put --node "
                         "needs node run --vault DIR --vault-key PEM --holder ID");
        goto done;
    }
    if (!s->host.vault_key) {
        code = cli_error(&q.c, CLI_EXIT_REFUSED, "this node has no --vault-key to seal with: "
                         "vault put --node needs node run --vault-key PEM --holder ID");
        goto done;
    }
    if (total > CTL_PUT_MAX) {
        code = cli_error(&q.c, CLI_EXIT_INPUT, "a document of %llu bytes: over the %llu bytes "
                         "this node takes over its control socket", (unsigned long long)total,
                         (unsigned long long)CTL_PUT_MAX);
        goto done;
    }
    const hre_contract *st = NULL;
    int rc = hre_ledger_contract(s->host.ledger, &st);
    if (rc != HRE_OK) {
        code = cli_fail(&q.c, rc, "the chain state");
        goto done;
    }
    if ((code = cli_vault_readers(&q.c, st, rp, nr, types, ids)) != CLI_EXIT_OK)
        goto done;
    uint8_t mine[34], pub[34];
    if ((code = cli_key_ids(&q.c, s->host.vault_key, mine, NULL)) != CLI_EXIT_OK)
        goto done;
    if (hre_contract_enc_key_get(st, pub, s->host.holder_type, s->host.holder_id) != HRE_OK ||
        memcmp(pub, mine, 34) != 0) {
        code = cli_error(&q.c, CLI_EXIT_REFUSED, "the node's --vault-key is not the published "
                         "encryption key of its --holder (hre key publish)");
        goto done;
    }
    hre_vault_seal_params sp = HRE_VAULT_SEAL_PARAMS_INIT;
    memcpy(k->put_media, h.media.p, ml);
    k->put_media[ml] = 0;
    rc = hre_random_bytes(sp.locator, 32);
    sp.doc_version = 1;
    sp.media_type = ml ? k->put_media : NULL;
    sp.sender_type = s->host.holder_type;
    memcpy(sp.sender_id, s->host.holder_id, 32);
    sp.sender_key = s->host.vault_key;
    if (rc == HRE_OK)
        rc = hre_vault_store_new(&k->store, s->host.vault, &sp);
    if (rc != HRE_OK) {
        code = cli_fail(&q.c, rc, "seal the document");
        goto done;
    }
    code = cli_vault_store_readers(&q.c, st, k->store, rp, types, (const uint8_t (*)[32])ids,
                                   nr);
    if (code != CLI_EXIT_OK)
        goto done;
    memcpy(k->put_locator, sp.locator, 32);
    k->put_total = total;
    k->put_got = 0;
    k->put_deadline = mono_ms() + CTL_PUT_TIMEOUT_MS;
    req_drop(&q);
    rep_frame(r, CTL_REP_CONTINUE, NULL, 0, NULL, 0);
    return 1;
done:
    hre_vault_store_free(k->store);
    k->store = NULL;
    req_end(&q, r, code, NULL, 0);
    return 0;
}

/* One complete frame of an upload in k->req: seal DATA into the store, or
 * commit at END and frame the answer (then CS_WRITE). */
static void put_frame(cli_ctl_server *s, ctl_conn *k)
{
    ctl_frame f;
    int frc = ctl_frame_body_decode(k->req, k->need, &f);   /* k->need >= 2: on_read */
    const uint8_t *p = f.payload;
    size_t n = f.len;
    uint8_t type = f.type;
    uint8_t res[CTL_PUT_RESULT_LEN] = {0};
    rep_buf r = { NULL, 0, 0, 0 };
    req_ctx q;
    int code;
    if (req_begin(&q, s) != 0) {
        conn_free(k);
        return;
    }
    if (frc == CTL_OK)
        frc = ctl_put_frame_check(f.type, f.len, k->put_total, k->put_got);
    if (frc == CTL_E_VERSION || frc == CTL_E_TYPE) {
        code = cli_error(&q.c, CLI_EXIT_INPUT, "control: a frame of type 0x%02x inside a "
                         "VAULT_PUT upload", type);
    } else if (type == CTL_REQ_PUT_DATA) {
        if (frc == CTL_E_EMPTY) {
            code = cli_error(&q.c, CLI_EXIT_INPUT, "control: an empty PUT_DATA frame");
        } else if (frc != CTL_OK) {
            code = cli_error(&q.c, CLI_EXIT_INPUT, "control: the upload is longer than the "
                             "%llu bytes its header announced",
                             (unsigned long long)k->put_total);
        } else {
            int rc = hre_vault_store_write(k->store, p, n);
            if (rc == HRE_OK) {
                k->put_got += n;
                req_drop(&q);
                free(k->req);
                k->req = NULL;
                k->hdr_got = 0;
                k->req_got = 0;
                k->need = 0;
                k->deadline = put_frame_deadline(k);
                return;   /* the next frame */
            }
            code = cli_fail(&q.c, rc, "seal the document");
        }
    } else if (frc == CTL_E_BODY) {
        code = cli_error(&q.c, CLI_EXIT_INPUT, "control: a PUT_END frame with a body");
    } else if (frc != CTL_OK) {
        code = cli_error(&q.c, CLI_EXIT_INPUT, "control: the upload ended after %llu of the "
                         "%llu bytes its header announced", (unsigned long long)k->put_got,
                         (unsigned long long)k->put_total);
    } else {
        hre_vault_content content = HRE_VAULT_CONTENT_INIT;
        int rc = hre_vault_store_commit(k->store, res, &content);
        if (rc != HRE_OK) {
            code = cli_fail(&q.c, rc, "store the document");
        } else {
            cli_put_result pr;
            memcpy(pr.doc_hash, res, 32);
            memcpy(pr.locator, k->put_locator, 32);
            pr.doc_len = content.doc_len;
            pr.envelope_len = content.envelope_len;
            ctl_put_result_encode(&pr, res);
            code = CLI_EXIT_OK;
            if (s->host.log) {
                char m[160], hh[65];
                cli_hex(hh, res, 32);
                snprintf(m, sizeof m, "control: vault put stored %llu bytes as %s",
                         (unsigned long long)content.doc_len, hh);
                s->host.log(s->host.log_ud, HRE_LOG_INFO, m);
            }
        }
    }
    hre_vault_store_free(k->store);   /* committed, or aborted */
    k->store = NULL;
    req_end(&q, &r, code, res, sizeof res);
    free(k->req);
    k->req = NULL;
    if (r.overflow) {
        free(r.p);
        conn_free(k);
        return;
    }
    k->rep = r.p;
    k->rep_len = r.len;
    k->rep_off = 0;
    k->state = CS_WRITE;
    k->deadline = mono_ms() + CTL_WRITE_TIMEOUT_MS;
    s->served++;
}

/* A complete request in k->req: run it, put the framed answer in k->rep. */
static void serve(cli_ctl_server *s, ctl_conn *k)
{
    rep_buf r = { NULL, 0, 0, 0 };
    ctl_frame f;
    int frc = ctl_frame_body_decode(k->req, k->need, &f);   /* k->need >= 2: on_read */
    const uint8_t *p = f.payload;
    size_t n = f.len;
    if (frc != CTL_OK) {
        static const char msg[] = "hre: control: unsupported protocol version\n";
        uint8_t ec = CLI_EXIT_USAGE;
        rep_frame(&r, CTL_REP_ERR, (const uint8_t *)msg, sizeof msg - 1, NULL, 0);
        rep_frame(&r, CTL_REP_DONE, &ec, 1, NULL, 0);
    } else {
        switch (f.type) {
        case CTL_REQ_RUN: handle_run(s, &r, p, n); break;
        case CTL_REQ_NONCE: handle_nonce(s, &r, p, n); break;
        case CTL_REQ_NETWORK_ID: handle_network_id(s, &r, p, n); break;
        case CTL_REQ_SUBMIT: handle_submit(s, &r, p, n); break;
        case CTL_REQ_VAULT_GET: handle_vault_get(s, &r, p, n); break;
        case CTL_REQ_XCH_PEERS: handle_xch_peers(s, &r, p, n); break;
        case CTL_REQ_VAULT_PUT:
            if (handle_put_begin(s, k, &r, p, n)) {
                free(k->req);
                k->req = NULL;
                k->hdr_got = 0;
                k->req_got = 0;
                k->need = 0;
                k->rep = r.p;
                k->rep_len = r.len;
                k->rep_off = 0;
                k->state = CS_GO;
                k->deadline = mono_ms() + CTL_WRITE_TIMEOUT_MS;
                return;
            }
            break;
        case CTL_REQ_XCH_FETCH:
            if (handle_xch_fetch(s, k, &r, p, n)) {
                free(k->req);
                k->req = NULL;
                free(r.p);
                k->state = CS_WAIT;
                k->deadline = mono_ms() + CTL_FETCH_TIMEOUT_MS;
                return;
            }
            break;
        default: {
            static const char msg[] = "hre: control: unknown request type\n";
            uint8_t ec = CLI_EXIT_USAGE;
            rep_frame(&r, CTL_REP_ERR, (const uint8_t *)msg, sizeof msg - 1, NULL, 0);
            rep_frame(&r, CTL_REP_DONE, &ec, 1, NULL, 0);
        }
        }
    }
    if (r.overflow) {
        /* too large or out of memory: a short answer instead */
        static const char msg[] = "hre: control: the answer is too large\n";
        uint8_t ec = CLI_EXIT_INTERNAL;
        r.len = 0;
        r.overflow = 0;
        rep_frame(&r, CTL_REP_ERR, (const uint8_t *)msg, sizeof msg - 1, NULL, 0);
        rep_frame(&r, CTL_REP_DONE, &ec, 1, NULL, 0);
    }
    free(k->req);
    k->req = NULL;
    k->rep = r.p;
    k->rep_len = r.overflow ? 0 : r.len;
    k->rep_off = 0;
    k->state = CS_WRITE;
    k->deadline = mono_ms() + CTL_WRITE_TIMEOUT_MS;
    s->served++;
}

static void on_accept(cli_ctl_server *s)
{
    for (int round = 0; round < 64; round++) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;   /* EAGAIN, or an aborted connection */
        struct ucred cr;
        socklen_t cl = sizeof cr;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0 || cr.uid != geteuid()) {
            close(fd);
            s->refused++;
            if (s->host.log)
                s->host.log(s->host.log_ud, HRE_LOG_WARN,
                            "control: refused a connection from another user");
            continue;
        }
        ctl_conn *k = NULL;
        for (size_t i = 0; i < CTL_MAX_CONNS; i++)
            if (s->conns[i].fd < 0) {
                k = &s->conns[i];
                break;
            }
        if (!k) {
            close(fd);   /* busy: the client sees no answer and may retry */
            s->refused++;
            continue;
        }
        memset(k, 0, sizeof *k);
        k->fd = fd;
        k->state = CS_READ;
        k->deadline = mono_ms() + CTL_READ_TIMEOUT_MS;
    }
}

static void on_read(cli_ctl_server *s, ctl_conn *k)
{
    for (;;) {
        ssize_t got;
        if (k->hdr_got < 4) {
            got = recv(k->fd, k->hdr + k->hdr_got, 4 - k->hdr_got, 0);
        } else {
            got = recv(k->fd, k->req + k->req_got, k->need - k->req_got, 0);
        }
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (got <= 0) {
            conn_free(k);   /* gone, or EOF before a whole request */
            return;
        }
        if (k->hdr_got < 4) {
            k->hdr_got += (size_t)got;
            if (k->hdr_got == 4) {
                if (ctl_frame_len_decode(k->hdr, CTL_REQ_MAX, &k->need) != CTL_OK) {
                    if (s->host.log)
                        s->host.log(s->host.log_ud, HRE_LOG_WARN,
                                    "control: dropped a request with a bad length");
                    conn_free(k);
                    return;
                }
                k->req = malloc(k->need);
                if (!k->req) {
                    conn_free(k);
                    return;
                }
            }
            continue;
        }
        k->req_got += (size_t)got;
        if (k->req_got == k->need) {
            if (k->state == CS_UPLOAD)
                put_frame(s, k);   /* one frame per round: the loop goes on meanwhile */
            else
                serve(s, k);
            return;
        }
    }
}

static void on_write(ctl_conn *k)
{
    while (k->rep_off < k->rep_len) {
        ssize_t w = send(k->fd, k->rep + k->rep_off, k->rep_len - k->rep_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (w <= 0) {
            conn_free(k);
            return;
        }
        k->rep_off += (size_t)w;
    }
    if (k->state == CS_GO) {   /* CONTINUE sent: the upload's frames follow */
        free(k->rep);
        k->rep = NULL;
        k->rep_len = k->rep_off = 0;
        k->state = CS_UPLOAD;
        k->deadline = put_frame_deadline(k);
        return;
    }
    conn_free(k);   /* answered: one request per connection */
}

void cli_ctl_server_ready(cli_ctl_server *s, const struct pollfd *fds, size_t n)
{
    if (!s)
        return;
    uint64_t now = mono_ms();
    /* the connections first (fds[1..]), matched by descriptor */
    for (size_t j = 1; j < n; j++) {
        if (!fds[j].revents)
            continue;
        for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
            ctl_conn *k = &s->conns[i];
            if (k->fd != fds[j].fd)
                continue;
            if (k->state == CS_WAIT) {
                char ch;
                ssize_t g = recv(k->fd, &ch, 1, MSG_DONTWAIT);
                if (g >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                    conn_free(k);   /* hung up, or bytes after its one request */
                break;
            }
            if ((k->state == CS_READ || k->state == CS_UPLOAD) &&
                (fds[j].revents & (POLLIN | POLLHUP | POLLERR)))
                on_read(s, k);
            if (k->fd >= 0 && (k->state == CS_WRITE || k->state == CS_GO)) {
                if (fds[j].revents & (POLLERR | POLLHUP))
                    conn_free(k);
                else
                    on_write(k);
            }
            break;
        }
    }
    /* fetches that finished (in the node's callbacks) or ran out of time */
    for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
        ctl_conn *k = &s->conns[i];
        int done = 0, code = 0;
        if (k->fd < 0 || k->state != CS_WAIT)
            continue;
        (void)hre_vault_fetch_status(k->fetch, &done, &code, NULL, NULL);
        if (done || now >= k->deadline)
            fetch_answer(s, k, !done);
    }
    /* an answer ready after a read is tried at once */
    for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
        ctl_conn *k = &s->conns[i];
        if (k->fd >= 0 && (k->state == CS_WRITE || k->state == CS_GO) && k->rep_off == 0 &&
            k->rep_len)
            on_write(k);
    }
    for (size_t i = 0; i < CTL_MAX_CONNS; i++) {
        ctl_conn *k = &s->conns[i];
        if (k->fd >= 0 && now >= k->deadline) {
            if (s->host.log)
                s->host.log(s->host.log_ud, HRE_LOG_INFO, k->state == CS_READ
                            ? "control: a client sent no whole request in time"
                            : k->state == CS_UPLOAD
                            ? "control: a vault put upload stalled: dropped (timed out)"
                            : "control: a client did not take its answer in time");
            conn_free(k);
        }
    }
    if (n >= 1 && (fds[0].revents & POLLIN))
        on_accept(s);
}
