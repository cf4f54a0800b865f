/*
 * tcp_host: a POSIX TCP host for one libhre node. See tcp_host.h.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "tcp_host.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <hre/sys/transport.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0   /* SIGPIPE is ignored by tcp_host_install_signals */
#endif

#define CONN_CONNECTING 1
#define CONN_LIVE       2
#define CONN_DEAD       3

#define READ_CHUNK 65536
#define CONNECT_TIMEOUT_MS 10000u   /* a dial not answered by then fails (the node backs off) */

typedef struct conn {
    uint64_t id;
    int fd;
    int state;
    int want_write;      /* a send was cut short: poll POLLOUT, then peer_writable */
    int outbound;
    uint64_t started;    /* ms: when the dial began */
    char addr[HRE_NODE_ADDRESS_MAX + 1];
} conn;

struct tcp_host {
    tcp_host_config cfg;
    hre_storage *st;
    hre_ledger *l;
    hre_key *id;
    hre_node *node;
    int lfd;                     /* listener, -1 if none */
    unsigned int port;
    int pipe_r, pipe_w;          /* self-pipe: stop requests and signals */
    volatile sig_atomic_t stop;
    conn *c;
    size_t n_c, cap_c;
    uint64_t next_id;
    double tokens;               /* recv_rate bucket */
    uint64_t tokens_at;
    struct pollfd *pfd;
    uint64_t *pfd_id;            /* conn id of each pollfd (0: not a conn) */
    size_t cap_pfd;
    uint8_t *rbuf;
    uint64_t idle_wish;          /* when the idle hook wants to run again */
};

static tcp_host *g_sig_host;

uint64_t tcp_host_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

hre_node *tcp_host_node(const tcp_host *h) { return h ? h->node : NULL; }
hre_ledger *tcp_host_ledger(const tcp_host *h) { return h ? h->l : NULL; }
unsigned int tcp_host_port(const tcp_host *h) { return h ? h->port : 0; }

static void lib_fail(const char *what, int rc)
{
    fprintf(stderr, "tcp_host: %s: %s (%s)\n", what, hre_strerror(rc), hre_error_detail());
}

static int sys_fail(const char *what, const char *arg)
{
    fprintf(stderr, "tcp_host: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
    return HRE_EIO;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* "HOST:PORT" or "[V6]:PORT" -> numeric getaddrinfo. */
static int resolve(struct addrinfo **res, const char *address, int passive)
{
    char host[HRE_NODE_ADDRESS_MAX + 1];
    const char *colon, *port;
    struct addrinfo hints;
    size_t hl;
    if (!address || strlen(address) > HRE_NODE_ADDRESS_MAX)
        return HRE_EINVAL;
    colon = strrchr(address, ':');
    if (!colon || colon == address || !colon[1])
        return HRE_EINVAL;
    port = colon + 1;
    if (address[0] == '[') {
        if (colon[-1] != ']')
            return HRE_EINVAL;
        hl = (size_t)(colon - address) - 2;
        memcpy(host, address + 1, hl);
    } else {
        hl = (size_t)(colon - address);
        memcpy(host, address, hl);
    }
    host[hl] = 0;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    if (getaddrinfo(host, port, &hints, res) != 0)
        return HRE_EINVAL;
    return HRE_OK;
}

static conn *conn_find(tcp_host *h, uint64_t id)
{
    size_t i;
    for (i = 0; i < h->n_c; i++)
        if (h->c[i].id == id && h->c[i].state != CONN_DEAD)
            return &h->c[i];
    return NULL;
}

static conn *conn_new(tcp_host *h, int fd, const char *addr, int outbound, int state)
{
    conn *c;
    if (h->n_c == h->cap_c) {
        size_t nc = h->cap_c ? h->cap_c * 2 : 16;
        conn *p = realloc(h->c, nc * sizeof *p);
        if (!p)
            return NULL;
        h->c = p;
        h->cap_c = nc;
    }
    c = &h->c[h->n_c++];
    memset(c, 0, sizeof *c);
    c->id = h->next_id++;
    c->fd = fd;
    c->state = state;
    c->outbound = outbound;
    snprintf(c->addr, sizeof c->addr, "%s", addr ? addr : "");
    return c;
}

static void conn_kill(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = CONN_DEAD;
}

/* ---- the transport vtable ------------------------------------------------ */

static int t_send(void *ud, uint64_t id, const uint8_t *data, size_t len, size_t *sent)
{
    tcp_host *h = ud;
    conn *c = conn_find(h, id);
    size_t take = len;
    ssize_t k;
    if (!c || c->state != CONN_LIVE)
        return HRE_EIO;
    if (h->cfg.send_limit && take > h->cfg.send_limit)
        take = h->cfg.send_limit;
    do {
        k = send(c->fd, data, take, MSG_NOSIGNAL);
    } while (k < 0 && errno == EINTR);
    if (k < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->want_write = 1;
            return HRE_EAGAIN;
        }
        return HRE_EIO;   /* the node forgets it and calls close */
    }
    if ((size_t)k < len)
        c->want_write = 1;
    *sent = (size_t)k;
    return HRE_OK;
}

static int t_connect(void *ud, uint64_t *id, const char *address)
{
    tcp_host *h = ud;
    struct addrinfo *res = NULL;
    conn *c;
    int fd, rc;
    if (resolve(&res, address, 0) != HRE_OK)
        return HRE_EINVAL;
    fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || set_nonblock(fd) < 0) {
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return HRE_EIO;
    }
    {
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    do {
        rc = connect(fd, res->ai_addr, res->ai_addrlen);
    } while (rc < 0 && errno == EINTR);
    freeaddrinfo(res);
    if (rc < 0 && errno != EINPROGRESS) {
        close(fd);
        return HRE_EIO;   /* the node retries later, with backoff */
    }
    /* even an immediate success is reported from the loop: the node may not
     * be called from inside its own callback */
    c = conn_new(h, fd, address, 1, CONN_CONNECTING);
    if (!c) {
        close(fd);
        return HRE_ENOMEM;
    }
    *id = c->id;
    c->started = tcp_host_now();
    if (h->cfg.verbose)
        fprintf(stderr, "tcp_host: dialling %s (conn %llu)\n", address, (unsigned long long)c->id);
    return HRE_OK;
}

static void t_close(void *ud, uint64_t id, int reason)
{
    tcp_host *h = ud;
    conn *c = conn_find(h, id);
    (void)reason;
    if (c)
        conn_kill(c);
}

static const hre_transport_methods g_methods = {
    HRE_TRANSPORT_METHODS_VERSION, t_send, t_connect, t_close
};

static void on_event(void *ud, const hre_node_event *ev)
{
    tcp_host *h = ud;
    if (h->cfg.verbose && ev->type != HRE_NODE_EVENT_LEDGER)
        fprintf(stderr, "tcp_host: event %u conn %llu %s%s%s\n", ev->type,
                (unsigned long long)ev->conn, hre_node_reason_name(ev->reason),
                ev->detail[0] ? ": " : "", ev->detail);
    if (h->cfg.on_event)
        h->cfg.on_event(h->cfg.event_user_data, ev);
}

/* ---- open and close ------------------------------------------------------ */

static int read_file(const char *path, uint8_t **out, size_t *len, size_t max)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b;
    size_t n;
    if (!f)
        return sys_fail("open", path);
    b = malloc(max + 1);
    if (!b) {
        fclose(f);
        return HRE_ENOMEM;
    }
    n = fread(b, 1, max + 1, f);
    if (ferror(f) || n > max) {
        fclose(f);
        hre_wipe(b, max + 1);
        free(b);
        fprintf(stderr, "tcp_host: %s: unreadable or larger than %zu bytes\n", path, max);
        return HRE_EIO;
    }
    fclose(f);
    *out = b;
    *len = n;
    return HRE_OK;
}

static int write_port_file(const char *path, unsigned int port)
{
    char tmp[4096];
    FILE *f;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return HRE_EINVAL;
    f = fopen(tmp, "w");
    if (!f)
        return sys_fail("create", tmp);
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return sys_fail("write", path);
    return HRE_OK;
}

static int open_listener(tcp_host *h)
{
    struct addrinfo *res = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int one = 1;
    if (resolve(&res, h->cfg.listen, 1) != HRE_OK) {
        fprintf(stderr, "tcp_host: bad listen address '%s' (numeric HOST:PORT)\n", h->cfg.listen);
        return HRE_EINVAL;
    }
    h->lfd = socket(res->ai_family, SOCK_STREAM, 0);
    if (h->lfd < 0 || set_nonblock(h->lfd) < 0 ||
        setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(h->lfd, res->ai_addr, res->ai_addrlen) < 0 || listen(h->lfd, 64) < 0 ||
        getsockname(h->lfd, (struct sockaddr *)&ss, &sl) < 0) {
        freeaddrinfo(res);
        return sys_fail("listen on", h->cfg.listen);
    }
    freeaddrinfo(res);
    h->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (h->cfg.port_file)
        return write_port_file(h->cfg.port_file, h->port);
    return HRE_OK;
}

int tcp_host_open(tcp_host **out, const tcp_host_config *cfg)
{
    tcp_host *h;
    hre_network *net = NULL;
    hre_storage_posix_options so;
    hre_ledger_options lo;
    hre_node_options no;
    uint64_t now = tcp_host_now();
    int rc, fds[2];
    size_t i;

    if (!out || !cfg || !cfg->data_dir)
        return HRE_EINVAL;
    *out = NULL;
    h = calloc(1, sizeof *h);
    if (!h)
        return HRE_ENOMEM;
    h->cfg = *cfg;
    h->lfd = h->pipe_r = h->pipe_w = -1;
    h->next_id = 1;
    h->tokens_at = now;
    h->tokens = (double)cfg->recv_rate / 10.0;
    h->rbuf = malloc(READ_CHUNK);
    if (!h->rbuf) {
        rc = HRE_ENOMEM;
        goto fail;
    }
    if (pipe(fds) < 0) {
        rc = sys_fail("pipe", NULL);
        goto fail;
    }
    h->pipe_r = fds[0];
    h->pipe_w = fds[1];
    if (set_nonblock(h->pipe_r) < 0 || set_nonblock(h->pipe_w) < 0) {
        rc = sys_fail("pipe", NULL);
        goto fail;
    }

    if (cfg->network_file) {
        uint8_t *b = NULL;
        size_t len = 0;
        rc = read_file(cfg->network_file, &b, &len, HRE_NETWORK_FILE_MAX);
        if (rc != HRE_OK)
            goto fail;
        rc = hre_network_decode(&net, b, len);
        free(b);
        if (rc != HRE_OK) {
            lib_fail(cfg->network_file, rc);
            goto fail;
        }
    }
    if (cfg->key_file && !cfg->identity) {
        uint8_t *b = NULL;
        size_t len = 0;
        rc = read_file(cfg->key_file, &b, &len, 65536);
        if (rc != HRE_OK)
            goto fail;
        rc = hre_key_import_pem(&h->id, (const char *)b, len, cfg->pass, cfg->pass ? cfg->pass_len : 0);
        hre_wipe(b, len);
        free(b);
        if (rc != HRE_OK) {
            lib_fail(cfg->key_file, rc);
            goto fail;
        }
    }

    rc = hre_storage_posix_options_init(&so, HRE_STORAGE_POSIX_OPTIONS_VERSION);
    if (rc == HRE_OK) {
        so.flags = cfg->storage_flags;
        rc = hre_storage_posix_open(&h->st, cfg->data_dir, &so);
    }
    if (rc != HRE_OK) {
        lib_fail(cfg->data_dir, rc);
        goto fail;
    }
    rc = hre_ledger_options_init(&lo, HRE_LEDGER_OPTIONS_VERSION);
    if (rc == HRE_OK) {
        lo.storage = h->st;
        lo.network = net;   /* NULL: the directory's network.dat */
        lo.log_fn = cfg->log_fn;
        lo.log_user_data = cfg->log_user_data;
        rc = hre_ledger_open(&h->l, &lo);
    }
    hre_network_free(net);
    net = NULL;
    if (rc != HRE_OK) {
        lib_fail("ledger open", rc);
        goto fail;
    }

    rc = hre_node_options_init(&no, HRE_NODE_OPTIONS_VERSION);
    if (rc == HRE_OK) {
        no.ledger = h->l;
        no.identity = cfg->identity ? cfg->identity : h->id;
        no.transport = &g_methods;
        no.transport_user_data = h;
        no.on_event = on_event;
        no.user_data = h;
        no.log_fn = cfg->log_fn;
        no.log_user_data = cfg->log_user_data;
        rc = hre_node_new(&h->node, &no, now);
    }
    if (rc != HRE_OK) {
        lib_fail("node new", rc);
        goto fail;
    }
    if (cfg->listen && (rc = open_listener(h)) != HRE_OK)
        goto fail;
    for (i = 0; i < cfg->n_peers; i++) {
        rc = hre_node_address_add(h->node, cfg->peers[i], HRE_NODE_ADDR_PERSISTENT, now);
        if (rc != HRE_OK && rc != HRE_EEXISTS) {
            lib_fail(cfg->peers[i], rc);
            goto fail;
        }
    }
    *out = h;
    return HRE_OK;
fail:
    hre_network_free(net);
    tcp_host_close(h);
    return rc;
}

void tcp_host_close(tcp_host *h)
{
    size_t i;
    if (!h)
        return;
    if (g_sig_host == h)
        g_sig_host = NULL;
    hre_node_free(h->node);   /* drops the connections without calling the transport */
    for (i = 0; i < h->n_c; i++)
        if (h->c[i].state != CONN_DEAD)
            conn_kill(&h->c[i]);
    if (h->lfd >= 0)
        close(h->lfd);
    hre_ledger_close(h->l);   /* syncs the block index */
    hre_storage_free(h->st);
    hre_key_free(h->id);
    if (h->pipe_r >= 0)
        close(h->pipe_r);
    if (h->pipe_w >= 0)
        close(h->pipe_w);
    free(h->c);
    free(h->pfd);
    free(h->pfd_id);
    free(h->rbuf);
    free(h);
}

/* ---- stop and signals ---------------------------------------------------- */

void tcp_host_stop(tcp_host *h)
{
    int saved = errno;
    if (h) {
        h->stop = 1;
        if (h->pipe_w >= 0)
            (void)!write(h->pipe_w, "x", 1);
    }
    errno = saved;
}

static void on_signal(int sig)
{
    (void)sig;
    tcp_host_stop(g_sig_host);
}

int tcp_host_install_signals(tcp_host *h)
{
    struct sigaction sa;
    g_sig_host = h;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
        return HRE_EIO;
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) < 0)
        return HRE_EIO;
    return HRE_OK;
}

/* ---- the loop ------------------------------------------------------------ */

static int pfd_reserve(tcp_host *h, size_t n)
{
    if (n > h->cap_pfd) {
        struct pollfd *p = realloc(h->pfd, n * sizeof *p);
        uint64_t *q;
        if (!p)
            return HRE_ENOMEM;
        h->pfd = p;
        q = realloc(h->pfd_id, n * sizeof *q);
        if (!q)
            return HRE_ENOMEM;
        h->pfd_id = q;
        h->cap_pfd = n;
    }
    return HRE_OK;
}

static void refill(tcp_host *h, uint64_t now)
{
    double cap;
    if (!h->cfg.recv_rate)
        return;
    cap = (double)h->cfg.recv_rate / 10.0;   /* 100 ms of burst */
    if (cap < 1024)
        cap = 1024;
    if (now > h->tokens_at)
        h->tokens += (double)h->cfg.recv_rate * (double)(now - h->tokens_at) / 1000.0;
    h->tokens_at = now;
    if (h->tokens > cap)
        h->tokens = cap;
}

static void accept_some(tcp_host *h, uint64_t now)
{
    int k;
    for (k = 0; k < 16; k++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        char host[NI_MAXHOST], serv[NI_MAXSERV], addr[HRE_NODE_ADDRESS_MAX + 1];
        conn *c;
        uint64_t id;
        int fd, rc, one = 1;
        do {
            fd = accept(h->lfd, (struct sockaddr *)&ss, &sl);
        } while (fd < 0 && errno == EINTR);
        if (fd < 0)
            return;   /* EAGAIN, or an aborted connection: nothing to do */
        if (set_nonblock(fd) < 0) {
            close(fd);
            continue;
        }
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, serv, sizeof serv,
                        NI_NUMERICHOST | NI_NUMERICSERV) != 0 ||
            snprintf(addr, sizeof addr, ss.ss_family == AF_INET6 ? "[%.100s]:%.16s" : "%.100s:%.16s",
                     host, serv) < 0)
            snprintf(addr, sizeof addr, "inbound");
        c = conn_new(h, fd, addr, 0, CONN_LIVE);
        if (!c) {
            close(fd);
            return;
        }
        id = c->id;   /* c may move: the node can dial during the call */
        rc = hre_node_peer_connected(h->node, id, addr, 0, now);
        if (rc != HRE_OK) {
            if (h->cfg.verbose)
                fprintf(stderr, "tcp_host: refused %s: %s\n", addr, hre_strerror(rc));
            c = conn_find(h, id);
            if (c)
                conn_kill(c);
        }
    }
}

static void reap(tcp_host *h)
{
    size_t i, j = 0;
    for (i = 0; i < h->n_c; i++)
        if (h->c[i].state != CONN_DEAD)
            h->c[j++] = h->c[i];
    h->n_c = j;
}

/* The host's end is gone: tell the node (it may have forgotten it already). */
static void lost(tcp_host *h, conn *c, uint64_t now)
{
    uint64_t id = c->id;
    conn_kill(c);
    (void)hre_node_peer_closed(h->node, id, now);
}

static void on_connected(tcp_host *h, conn *c, uint64_t now)
{
    int err = 0, rc;
    socklen_t el = sizeof err;
    uint64_t id = c->id;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
        err = errno;
    if (err == EINPROGRESS)
        return;
    if (err) {
        if (h->cfg.verbose)
            fprintf(stderr, "tcp_host: connect %s: %s\n", c->addr, strerror(err));
        lost(h, c, now);
        return;
    }
    c->state = CONN_LIVE;
    rc = hre_node_peer_connected(h->node, id, c->addr, HRE_NODE_PEER_OUTBOUND, now);
    if (rc != HRE_OK) {
        c = conn_find(h, id);
        if (c)
            lost(h, c, now);
    }
}

static void on_readable(tcp_host *h, conn *c, uint64_t now)
{
    size_t want = READ_CHUNK;
    uint64_t id = c->id;
    ssize_t k;
    int rc;
    if (h->cfg.recv_rate) {
        if (h->tokens < 1)
            return;
        if ((double)want > h->tokens)
            want = (size_t)h->tokens;
    }
    do {
        k = read(c->fd, h->rbuf, want);
    } while (k < 0 && errno == EINTR);
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (k <= 0) {
        if (h->cfg.verbose)
            fprintf(stderr, "tcp_host: %s closed (%s)\n", c->addr, k == 0 ? "eof" : strerror(errno));
        lost(h, c, now);
        return;
    }
    if (h->cfg.recv_rate)
        h->tokens -= (double)k;
    rc = hre_node_peer_recv(h->node, id, h->rbuf, (size_t)k, now);
    if (rc == HRE_ENOTFOUND) {
        c = conn_find(h, id);
        if (c)
            conn_kill(c);
    }
    /* HRE_EPROTO: the node disconnected it and called close already */
}

int tcp_host_step(tcp_host *h, int max_wait_ms)
{
    uint64_t now = tcp_host_now(), when = UINT64_MAX;
    size_t np = 0, i, xs = 0, nx = 0;
    uint64_t xwake = UINT64_MAX;
    int timeout, k;
    char drain[64];

    if (h->stop)
        return HRE_ESTATE;
    if (hre_node_fatal_error(h->node) != HRE_OK)
        return HRE_EFATAL;
    refill(h, now);
    /* dials nobody answered: failed (the node may dial again, growing h->c,
     * so index afresh each time) */
    for (i = 0; i < h->n_c; i++) {
        if (h->c[i].state == CONN_CONNECTING && now - h->c[i].started >= CONNECT_TIMEOUT_MS) {
            if (h->cfg.verbose)
                fprintf(stderr, "tcp_host: connect %s: timed out\n", h->c[i].addr);
            lost(h, &h->c[i], now);
        }
    }
    if (pfd_reserve(h, h->n_c + 2 + TCP_HOST_EXTRA_FDS_MAX) != HRE_OK)
        return HRE_ENOMEM;
    h->pfd[np].fd = h->pipe_r;
    h->pfd[np].events = POLLIN;
    h->pfd_id[np++] = 0;
    if (h->lfd >= 0) {
        h->pfd[np].fd = h->lfd;
        h->pfd[np].events = POLLIN;
        h->pfd_id[np++] = 0;
    }
    if (h->cfg.extra_fds && h->cfg.extra_ready) {
        xs = np;
        nx = h->cfg.extra_fds(h->cfg.extra_user_data, &h->pfd[np], TCP_HOST_EXTRA_FDS_MAX, &xwake);
        if (nx > TCP_HOST_EXTRA_FDS_MAX)
            nx = TCP_HOST_EXTRA_FDS_MAX;
        for (i = 0; i < nx; i++) {
            h->pfd[np].revents = 0;
            h->pfd_id[np++] = 0;
        }
    }
    for (i = 0; i < h->n_c; i++) {
        conn *c = &h->c[i];
        short ev = 0;
        if (c->state == CONN_CONNECTING)
            ev = POLLOUT;
        else if (c->state == CONN_LIVE) {
            if (hre_node_peer_want_read(h->node, c->id) && (!h->cfg.recv_rate || h->tokens >= 1))
                ev |= POLLIN;
            if (c->want_write)
                ev |= POLLOUT;
        } else {
            continue;
        }
        h->pfd[np].fd = c->fd;
        h->pfd[np].events = ev;
        h->pfd_id[np++] = c->id;
    }

    (void)hre_node_next_timer(h->node, &when);
    timeout = max_wait_ms;
    if (h->cfg.recv_rate && h->tokens < 1 && timeout > 20)
        timeout = 20;
    if (h->idle_wish < when)
        when = h->idle_wish;
    if (xwake < when)
        when = xwake;
    if (when <= now)
        timeout = 0;
    else if (when - now < (uint64_t)timeout)
        timeout = (int)(when - now);
    k = poll(h->pfd, (nfds_t)np, timeout);
    if (k < 0 && errno != EINTR)
        return sys_fail("poll", NULL);
    now = tcp_host_now();
    refill(h, now);

    if (k > 0) {
        if (h->pfd[0].revents)
            while (read(h->pipe_r, drain, sizeof drain) > 0)
                ;
        for (i = 0; i < np; i++) {
            short re = h->pfd[i].revents;
            conn *c;
            if (!re || !h->pfd_id[i])
                continue;
            c = conn_find(h, h->pfd_id[i]);
            if (!c)
                continue;   /* closed by the node during this step */
            if (c->state == CONN_CONNECTING) {
                on_connected(h, c, now);
                continue;
            }
            if ((re & POLLOUT) && c->want_write) {
                c->want_write = 0;
                (void)hre_node_peer_writable(h->node, c->id, now);
                c = conn_find(h, h->pfd_id[i]);
                if (!c)
                    continue;
            }
            if (re & (POLLIN | POLLHUP | POLLERR))
                on_readable(h, c, now);
        }
        if (h->lfd >= 0 && (h->pfd[1].revents & POLLIN))
            accept_some(h, now);
    }
    if (nx) {
        if (k <= 0)
            for (i = 0; i < nx; i++)
                h->pfd[xs + i].revents = 0;
        h->cfg.extra_ready(h->cfg.extra_user_data, h, &h->pfd[xs], nx, now);
    }
    if (h->stop)
        return HRE_ESTATE;

    (void)hre_node_next_timer(h->node, &when);
    if (when <= now && hre_node_tick(h->node, now) == HRE_EFATAL)
        return HRE_EFATAL;
    if (h->cfg.idle && h->idle_wish <= now)
        h->idle_wish = h->cfg.idle(h->cfg.idle_user_data, h, now);
    reap(h);
    return hre_node_fatal_error(h->node) == HRE_OK ? HRE_OK : HRE_EFATAL;
}

int tcp_host_run(tcp_host *h)
{
    for (;;) {
        int rc = tcp_host_step(h, 1000);
        if (rc == HRE_ESTATE && h->stop)
            return HRE_OK;
        if (rc != HRE_OK)
            return rc;
    }
}

int tcp_host_read_passphrase(char *buf, size_t cap, size_t *len, int fd, const char *env)
{
    size_t n = 0;
    if (!buf || !len || cap < 2)
        return HRE_EINVAL;
    if (fd >= 0) {
        for (;;) {
            char ch;
            ssize_t k = read(fd, &ch, 1);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0) {
                hre_wipe(buf, cap);
                return HRE_EIO;
            }
            if (k == 0 || ch == '\n')
                break;
            if (n + 1 >= cap) {
                hre_wipe(buf, cap);
                return HRE_ELIMIT;
            }
            buf[n++] = ch;
        }
    } else {
        const char *v = env ? getenv(env) : NULL;
        if (!v)
            return HRE_ENOTFOUND;
        n = strlen(v);
        if (n + 1 > cap)
            return HRE_ELIMIT;
        memcpy(buf, v, n);
    }
    buf[n] = 0;
    *len = n;
    return HRE_OK;
}
