/*
 * hre: the node commands (see cli.h): `node run` runs a TCP node
 * (examples/tcp_host) with the control socket of control.c in its poll loop,
 * optionally a vault it serves documents from; `node status` reports on a
 * running node (over --node) or a ledger directory (--data).
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* realpath */
#endif

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hre/vault.h>

#include "cli.h"
#include "tcp_host.h"

#define MAX_PEERS 64
#define CONF_LINE_MAX 4096

/* ---- settings: the config file, then the command line over it ------------ */

typedef struct node_conf {
    char *data, *key, *network, *listen, *port_file, *vault, *vault_key, *holder, *log_level;
    char *pass_fd;
    char *peers[MAX_PEERS];
    size_t n_peers;
    int mine, nosync;
} node_conf;

static void conf_free(node_conf *f)
{
    char **s[] = { &f->data, &f->key, &f->network, &f->listen, &f->port_file, &f->vault,
                   &f->vault_key, &f->holder, &f->log_level, &f->pass_fd };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        free(*s[i]);
        *s[i] = NULL;
    }
    for (size_t i = 0; i < f->n_peers; i++)
        free(f->peers[i]);
    f->n_peers = 0;
}

static int set_str(char **dst, const char *v)
{
    char *d = strdup(v);
    if (!d)
        return -1;
    free(*dst);
    *dst = d;
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

/* 1 / 0 for a flag's value ("" means yes), -1 if not a boolean */
static int parse_bool(const char *v)
{
    if (!*v || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
        return 1;
    if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off"))
        return 0;
    return -1;
}

static int conf_load(cli *c, node_conf *f, const char *path)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int code = cli_read_file(c, path, &buf, &len, 1u << 20);
    if (code != CLI_EXIT_OK)
        return code;
    if (memchr(buf, 0, len)) {
        free(buf);
        return cli_error(c, CLI_EXIT_USAGE, "%s: not a text file", path);
    }
    char *p = (char *)buf;
    unsigned line = 0;
    code = CLI_EXIT_OK;
    while (p && *p && code == CLI_EXIT_OK) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        line++;
        if (strlen(p) > CONF_LINE_MAX) {
            code = cli_error(c, CLI_EXIT_USAGE, "%s:%u: line too long", path, line);
            break;
        }
        char *hash = strchr(p, '#');
        if (hash)
            *hash = 0;
        char *s = trim(p);
        p = nl ? nl + 1 : NULL;
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        char *k = s, *v = (char *)"";
        if (eq) {
            *eq = 0;
            k = trim(s);
            v = trim(eq + 1);
        }
        struct { const char *name; char **dst; } strs[] = {
            { "data", &f->data }, { "key", &f->key }, { "network", &f->network },
            { "listen", &f->listen }, { "port-file", &f->port_file }, { "vault", &f->vault },
            { "vault-key", &f->vault_key }, { "holder", &f->holder },
            { "log-level", &f->log_level }, { "passphrase-fd", &f->pass_fd },
        };
        int done = 0;
        for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
            if (!strcmp(k, strs[i].name)) {
                if (!eq || !*v)
                    code = cli_error(c, CLI_EXIT_USAGE, "%s:%u: '%s' needs a value (%s = ...)",
                                     path, line, k, k);
                else if (set_str(strs[i].dst, v) != 0)
                    code = cli_error(c, CLI_EXIT_INTERNAL, "out of memory");
                done = 1;
                break;
            }
        if (done)
            continue;
        if (!strcmp(k, "peer")) {
            if (!eq || !*v)
                code = cli_error(c, CLI_EXIT_USAGE, "%s:%u: 'peer' needs a value (peer = "
                                 "HOST:PORT)", path, line);
            else if (f->n_peers == MAX_PEERS)
                code = cli_error(c, CLI_EXIT_USAGE, "%s:%u: more than %d peers", path, line,
                                 MAX_PEERS);
            else if (!(f->peers[f->n_peers++] = strdup(v)))
                code = cli_error(c, CLI_EXIT_INTERNAL, "out of memory");
        } else if (!strcmp(k, "mine") || !strcmp(k, "nosync")) {
            int b = parse_bool(v);
            if (b < 0)
                code = cli_error(c, CLI_EXIT_USAGE, "%s:%u: '%s' takes yes or no, not '%s'",
                                 path, line, k, v);
            else if (!strcmp(k, "mine"))
                f->mine = b;
            else
                f->nosync = b;
        } else {
            code = cli_error(c, CLI_EXIT_USAGE, "%s:%u: unknown setting '%s'", path, line, k);
        }
    }
    free(buf);
    return code;
}

/* ---- the running node ------------------------------------------------------- */

typedef struct node_run {
    int log_level;
    int mine;
    uint64_t mine_todo;
    tcp_host *h;
    cli_ctl_server *ctl;
    hre_vault *vault;
    hre_vault_xch *xch;
    uint64_t next_tick;
    int reconcile;             /* an erasure reached the vault as a pending one */
} node_run;

static const char *level_name(int level)
{
    switch (level) {
    case HRE_LOG_ERROR: return "error";
    case HRE_LOG_WARN: return "warn";
    case HRE_LOG_INFO: return "info";
    default: return "debug";
    }
}

/* The library's log hook (and the tool's own lines): stderr, with a UTC
 * timestamp and the level. The library never passes secrets; neither do we. */
static void node_log(void *ud, int level, const char *msg)
{
    node_run *r = ud;
    if (level > r->log_level)
        return;
    char ts[32];
    cli_time_iso(ts, cli_now_s());
    fprintf(stderr, "%s hre-node[%ld] %s: %s\n", ts, (long)getpid(), level_name(level), msg);
    fflush(stderr);
}

static void logf_(node_run *r, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(node_run *r, int level, const char *fmt, ...)
{
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    node_log(r, level, m);
}

static uint64_t on_idle(void *ud, tcp_host *h, uint64_t now)
{
    node_run *r = ud;
    if (r->mine && !r->mine_todo && hre_ledger_mempool_count(tcp_host_ledger(h)) > 0)
        r->mine_todo = 1;
    for (int k = 0; k < 8 && r->mine_todo; k++) {
        hre_ledger_status s = HRE_LEDGER_STATUS_NONE;
        uint64_t height = 0;
        int rc = hre_node_mine(tcp_host_node(h), NULL, &s, now, 100000);
        if (rc == HRE_OK) {
            r->mine_todo--;
            (void)hre_ledger_tip(tcp_host_ledger(h), &height, NULL);
            logf_(r, HRE_LOG_INFO, "mined block %llu", (unsigned long long)height);
        } else if (rc != HRE_EEXHAUSTED) {
            logf_(r, HRE_LOG_ERROR, "mine: %s (%s)", hre_strerror(rc), hre_error_detail());
            r->mine_todo = 0;
            break;
        }
    }
    if (r->vault && r->reconcile) {
        /* an ERASE_RECORD of a document not bound to its record yet: resolve
           it through the contract (outside the node's callbacks) */
        const hre_contract *st = NULL;
        size_t erased = 0;
        int rc = hre_ledger_contract(tcp_host_ledger(h), &st);
        if (rc == HRE_OK)
            rc = hre_vault_reconcile(r->vault, &erased, st);
        if (rc != HRE_OK)
            logf_(r, HRE_LOG_ERROR, "vault reconcile: %s (%s)", hre_strerror(rc),
                  hre_error_detail());
        else if (erased)
            logf_(r, HRE_LOG_INFO, "vault: shredded %zu erased document(s)", erased);
        r->reconcile = 0;
    }
    if (r->xch && now >= r->next_tick) {
        (void)hre_vault_xch_tick(r->xch, now);
        r->next_tick = now + 500;
    }
    if (r->mine_todo)
        return now;
    return now + (r->mine ? 100 : 500);
}

static void on_event(void *ud, const hre_node_event *ev)
{
    node_run *r = ud;
    if (r->xch)
        (void)hre_vault_xch_handle_node_event(r->xch, ev);
    if (r->vault && ev->type == HRE_NODE_EVENT_LEDGER && ev->ledger &&
        ev->ledger->type == HRE_LEDGER_EVENT_CONTRACT) {
        int rc = hre_vault_handle_event(r->vault, ev->ledger->contract);
        if (ev->ledger->contract->type == HRE_EVENT_RECORD_ERASED)
            r->reconcile = 1;
        if (rc != HRE_OK)
            logf_(r, HRE_LOG_ERROR, "vault: %s (%s)", hre_strerror(rc), hre_error_detail());
    }
    if (ev->type == HRE_NODE_EVENT_PEER_READY || ev->type == HRE_NODE_EVENT_PEER_DISCONNECTED)
        logf_(r, HRE_LOG_DEBUG, "peer %s (conn %llu)%s%s",
              ev->type == HRE_NODE_EVENT_PEER_READY ? "ready" : "disconnected",
              (unsigned long long)ev->conn, ev->detail[0] ? ": " : "", ev->detail);
}

static size_t extra_fds(void *ud, struct pollfd *fds, size_t cap, uint64_t *wake)
{
    node_run *r = ud;
    return cli_ctl_server_fds(r->ctl, fds, cap, wake);
}

static void extra_ready(void *ud, tcp_host *h, const struct pollfd *fds, size_t n, uint64_t now)
{
    node_run *r = ud;
    (void)h;
    (void)now;
    cli_ctl_server_ready(r->ctl, fds, n);
}

/* mkdir DIR (if missing) and make it absolute: RUN requests work in the
 * client's directory, so nothing the node opens later may be relative. */
static int abs_dir(cli *c, const char *dir, char **out)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return cli_error(c, CLI_EXIT_IO, "%s: %s", dir, strerror(errno));
    *out = realpath(dir, NULL);
    if (!*out)
        return cli_error(c, CLI_EXIT_IO, "%s: %s", dir, strerror(errno));
    return CLI_EXIT_OK;
}

/* a's options plus `--passphrase-fd` from the config file (if a has none) */
static void with_pass_fd(cli_args *dst, const cli_args *a, const char *fd)
{
    *dst = *a;
    if (!fd || cli_has(a, "--passphrase-fd") || dst->n_given >= CLI_MAX_ARGS || !a->cmd)
        return;
    for (const cli_opt *o = a->cmd->opts; o && o->name; o++)
        if (!strcmp(o->name, "--passphrase-fd")) {
            dst->given[dst->n_given].opt = o;
            dst->given[dst->n_given].value = fd;
            dst->n_given++;
        }
}

static int cmd_run(cli *c, const cli_args *a)
{
    node_conf f;
    node_run r;
    memset(&f, 0, sizeof f);
    memset(&r, 0, sizeof r);
    int code = CLI_EXIT_OK;
    const char *cfgp = cli_get(a, "--config");
    char *data_abs = NULL, *vault_abs = NULL;
    hre_key *id = NULL, *vkey = NULL;
    hre_storage *vst = NULL;
    const char *peers[MAX_PEERS];
    size_t n_peers = 0;

    if (cfgp && (code = conf_load(c, &f, cfgp)) != CLI_EXIT_OK)
        goto out;
    /* the command line over the file */
    struct { const char *opt; char **dst; } strs[] = {
        { "--data", &f.data }, { "--key", &f.key }, { "--network", &f.network },
        { "--listen", &f.listen }, { "--port-file", &f.port_file }, { "--vault", &f.vault },
        { "--vault-key", &f.vault_key }, { "--holder", &f.holder },
        { "--log-level", &f.log_level }, { "--passphrase-fd", &f.pass_fd },
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const char *v = cli_get(a, strs[i].opt);
        if (v && set_str(strs[i].dst, v) != 0) {
            code = cli_error(c, CLI_EXIT_INTERNAL, "out of memory");
            goto out;
        }
    }
    if (cli_has(a, "--mine"))
        f.mine = 1;
    if (cli_has(a, "--nosync"))
        f.nosync = 1;
    {
        const char *cl[MAX_PEERS + 1];
        size_t n = cli_get_all(a, "--peer", cl, MAX_PEERS + 1);
        if (n > MAX_PEERS) {
            code = cli_error(c, CLI_EXIT_USAGE, "node run: more than %d --peer", MAX_PEERS);
            goto out;
        }
        if (n) {   /* --peer on the command line replaces the file's peers */
            for (size_t i = 0; i < n; i++)
                peers[i] = cl[i];
            n_peers = n;
        } else {
            for (size_t i = 0; i < f.n_peers; i++)
                peers[i] = f.peers[i];
            n_peers = f.n_peers;
        }
    }
    if (!f.data || !f.key) {
        code = cli_error(c, CLI_EXIT_USAGE, "node run: %s is required (an option or a "
                         "config setting)", !f.data ? "--data DIR" : "--key PEM");
        goto out;
    }
    r.log_level = HRE_LOG_INFO;
    if (f.log_level) {
        static const char *const names[] = { "error", "warn", "info", "debug" };
        r.log_level = 0;
        for (int i = 0; i < 4; i++)
            if (!strcmp(f.log_level, names[i]))
                r.log_level = i + 1;
        if (!r.log_level) {
            code = cli_error(c, CLI_EXIT_USAGE, "--log-level: error, warn, info or debug, not "
                             "'%s'", f.log_level);
            goto out;
        }
    }
    if ((f.vault_key || f.holder) && (!f.vault_key || !f.holder || !f.vault)) {
        code = cli_error(c, CLI_EXIT_USAGE, "node run: --vault-key and --holder go together, "
                         "with --vault");
        goto out;
    }
    r.mine = f.mine;

    cli_args ka;
    with_pass_fd(&ka, a, f.pass_fd);
    if ((code = cli_load_key(c, &ka, f.key, &id)) != CLI_EXIT_OK)
        goto out;
    if (f.vault_key && (code = cli_load_key(c, &ka, f.vault_key, &vkey)) != CLI_EXIT_OK)
        goto out;
    if ((code = abs_dir(c, f.data, &data_abs)) != CLI_EXIT_OK)
        goto out;
    if (f.vault && (code = abs_dir(c, f.vault, &vault_abs)) != CLI_EXIT_OK)
        goto out;

    tcp_host_config hc;
    memset(&hc, 0, sizeof hc);
    hc.data_dir = data_abs;
    hc.network_file = f.network;
    hc.identity = id;
    hc.listen = f.listen;
    hc.port_file = f.port_file;
    hc.peers = peers;
    hc.n_peers = n_peers;
    hc.storage_flags = f.nosync ? HRE_STORAGE_POSIX_NOSYNC : 0;
    hc.idle = on_idle;
    hc.idle_user_data = &r;
    hc.on_event = on_event;
    hc.event_user_data = &r;
    hc.extra_fds = extra_fds;
    hc.extra_ready = extra_ready;
    hc.extra_user_data = &r;
    hc.log_fn = node_log;
    hc.log_user_data = &r;
    if (f.port_file)
        unlink(f.port_file);   /* a stale port file must not be read as this node's */
    int rc = tcp_host_open(&r.h, &hc);
    if (rc != HRE_OK) {
        code = rc == HRE_ESTATE
                   ? cli_error(c, CLI_EXIT_IO, "%s is in use (is a node running there?)", f.data)
                   : cli_error(c, cli_exit_code(rc), "cannot start the node (%s)",
                               hre_strerror(rc));
        goto out;
    }
    if (f.vault) {
        hre_storage_posix_options so = HRE_STORAGE_POSIX_OPTIONS_INIT;
        hre_vault_options vo = HRE_VAULT_OPTIONS_INIT;
        const hre_contract *st = NULL;
        size_t erased = 0;
        if (f.nosync)
            so.flags |= HRE_STORAGE_POSIX_NOSYNC;
        rc = hre_storage_posix_open(&vst, vault_abs, &so);
        if (rc == HRE_OK) {
            vo.storage = vst;
            vo.log_fn = node_log;
            vo.log_user_data = &r;
            rc = hre_vault_open(&r.vault, &vo);
        }
        if (rc == HRE_OK)
            rc = hre_ledger_contract(tcp_host_ledger(r.h), &st);
        if (rc == HRE_OK)
            rc = hre_vault_reconcile(r.vault, &erased, st);
        if (rc != HRE_OK) {
            code = cli_fail(c, rc, "open the vault");
            goto out;
        }
        if (erased)
            logf_(&r, HRE_LOG_INFO, "vault: %zu document(s) erased on the chain while it was "
                  "closed were shredded", erased);
    }
    uint8_t holder_type = 0, holder_id[32] = {0};
    {
        /* the document exchange: always the reader side (vault get --node fetches
           from other institutions); the holder side with --vault-key */
        hre_vault_xch_options xo = HRE_VAULT_XCH_OPTIONS_INIT;
        xo.node = tcp_host_node(r.h);
        xo.log_fn = node_log;
        xo.log_user_data = &r;
        if (vkey) {
            uint8_t htype = HRE_VAULT_READER_ORG;
            const char *hx = f.holder;
            if (!strncmp(hx, "account:", 8)) {
                htype = HRE_VAULT_READER_ACCOUNT;
                hx += 8;
            } else if (!strncmp(hx, "org:", 4)) {
                hx += 4;
            }
            if ((code = cli_id_arg(c, xo.holder_id, hx, "--holder")) != CLI_EXIT_OK)
                goto out;
            xo.vault = r.vault;
            xo.holder_type = htype;
            xo.holder_key = vkey;
            holder_type = htype;
            memcpy(holder_id, xo.holder_id, 32);
        }
        rc = hre_vault_xch_new(&r.xch, &xo);
        if (rc != HRE_OK) {
            code = cli_fail(c, rc, "the document exchange");
            goto out;
        }
    }
    cli_ctl_host ch = { tcp_host_ledger(r.h), tcp_host_node(r.h), r.vault, r.xch, node_log, &r,
                        vkey, holder_type, {0} };
    memcpy(ch.holder_id, holder_id, 32);   /* vault put --node seals as the holder */
    if ((code = cli_ctl_server_open(c, &r.ctl, data_abs, &ch)) != CLI_EXIT_OK)
        goto out;
    if (tcp_host_install_signals(r.h) != HRE_OK) {
        code = cli_error(c, CLI_EXIT_INTERNAL, "cannot install the signal handlers");
        goto out;
    }
    {
        uint64_t height = 0;
        (void)hre_ledger_tip(tcp_host_ledger(r.h), &height, NULL);
        if (f.listen)
            logf_(&r, HRE_LOG_INFO, "node up at height %llu, listening on port %u, control "
                  "socket %s/control.sock%s%s", (unsigned long long)height, tcp_host_port(r.h),
                  data_abs, r.vault ? ", vault " : "", r.vault ? vault_abs : "");
        else
            logf_(&r, HRE_LOG_INFO, "node up at height %llu, control socket %s/control.sock",
                  (unsigned long long)height, data_abs);
    }
    rc = tcp_host_run(r.h);
    if (rc != HRE_OK) {
        logf_(&r, HRE_LOG_ERROR, "stopped on error: %s (%s)", hre_strerror(rc),
              hre_error_detail());
        code = cli_exit_code(rc) == CLI_EXIT_OK ? CLI_EXIT_INTERNAL : cli_exit_code(rc);
    } else {
        logf_(&r, HRE_LOG_INFO, "stopping");
    }
out:
    if (r.h && r.vault && r.reconcile)
        (void)on_idle(&r, r.h, tcp_host_now());   /* a pending erasure is not left behind */
    cli_ctl_server_close(r.ctl);   /* removes the socket */
    hre_vault_xch_free(r.xch);
    tcp_host_close(r.h);           /* the ledger closes cleanly */
    hre_vault_close(r.vault);
    hre_storage_free(vst);
    hre_key_free(id);
    hre_key_free(vkey);
    if (r.h && code == CLI_EXIT_OK)
        logf_(&r, HRE_LOG_INFO, "stopped");
    free(data_abs);
    free(vault_abs);
    conf_free(&f);
    return code;
}

/* ---- node status ------------------------------------------------------------- */

static int cmd_status(cli *c, const cli_args *a)
{
    (void)a;
    hre_ledger *l = NULL;
    int code = cli_ledger(c, &l);
    if (code != CLI_EXIT_OK)
        return code;
    uint64_t height = 0;
    uint8_t tip[32], net[32];
    int rc = hre_ledger_tip(l, &height, tip);
    if (rc == HRE_OK)
        rc = hre_ledger_network_id(l, net);
    if (rc != HRE_OK)
        return cli_fail(c, rc, "ledger");
    size_t mempool = hre_ledger_mempool_count(l);
    hre_node *n = cli_control_node(c);
    hre_node_stats st = HRE_NODE_STATS_INIT;
    if (n && (rc = hre_node_stats_get(n, &st)) != HRE_OK)
        return cli_fail(c, rc, "node stats");
    char th[65], nh[65];
    cli_block_hash_hex(th, tip);
    cli_hex(nh, net, 32);
    if (c->json) {
        fprintf(c->out, "{\"running\":%s,\"network_id\":\"%s\",\"height\":%llu,\"tip\":\"%s\","
                "\"mempool\":%zu", n ? "true" : "false", nh, (unsigned long long)height, th,
                mempool);
        if (n)
            fprintf(c->out, ",\"peers\":%u,\"peers_ready\":%u,\"synced\":%s,\"best_header\":%llu",
                    st.peers, st.peers_ready, st.synced ? "true" : "false",
                    (unsigned long long)st.best_header_height);
        fputs("}\n", c->out);
    } else {
        fprintf(c->out, "node      %s\nnetwork   %s\nheight    %llu\ntip       %s\nmempool   %zu\n",
                n ? "running" : "not running (a ledger directory)", nh,
                (unsigned long long)height, th, mempool);
        if (n)
            fprintf(c->out, "peers     %u (%u ready)\nsynced    %s (best header %llu)\n",
                    st.peers, st.peers_ready, st.synced ? "yes" : "no",
                    (unsigned long long)st.best_header_height);
    }
    return CLI_EXIT_OK;
}

/* ---- node submit -------------------------------------------------------------- */

static int cmd_submit(cli *c, const cli_args *a)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    hre_tx *tx = NULL;
    cli_submitted res;
    int code = cli_read_file(c, a->pos[0], &buf, &len, HRE_TX_MAX_LEN);
    if (code != CLI_EXIT_OK)
        return code;
    int rc = hre_tx_decode(&tx, buf, len);
    free(buf);
    if (rc != HRE_OK)
        return cli_fail(c, rc, a->pos[0]);
    code = cli_submit(c, tx, &res);
    hre_tx_free(tx);
    if (code == CLI_EXIT_OK)
        cli_print_submitted(c, &res, "submitted", NULL);
    return code;
}

static const cli_opt submit_opts[] = {
    { NULL, NULL, NULL, 0 }
};

static const cli_opt run_opts[] = {
    { "--data", "DIR", "the node's ledger directory (created if missing; holds control.sock)", 0 },
    { "--key", "PEM", "the node's identity key (registered on the chain with hre node register)",
      0 },
    { "--passphrase-fd", "N", "read the key's passphrase from file descriptor N (one line per "
      "encrypted key: the node key's, then --vault-key's)", 0 },
    { "--network", "FILE", "the network file, when DIR holds no ledger yet", 0 },
    { "--listen", "HOST:PORT", "listen for peers here (numeric; port 0 picks a free port)", 0 },
    { "--port-file", "FILE", "write the bound port to FILE (decimal and a newline)", 0 },
    { "--peer", "HOST:PORT", "keep a connection to this peer (reconnects with backoff)",
      CLI_OPT_REPEAT },
    { "--mine", NULL, "mine a block whenever the mempool holds a transaction", 0 },
    { "--vault", "DIR", "keep this vault open: serve its documents (vault get --node) and "
      "store new ones (vault put --node, with --vault-key)", 0 },
    { "--vault-key", "PEM", "the holder's encryption private key: serve the vault's documents "
      "to peers' readers that hold a live grant (the document exchange), and seal the "
      "documents of vault put --node as the holder", 0 },
    { "--holder", "ID", "whose encryption key --vault-key is: an organisation id (or "
      "account:ADDRESS)", 0 },
    { "--config", "FILE", "read settings from FILE (key = value lines, see below)", 0 },
    { "--log-level", "LEVEL", "error, warn, info (default) or debug", 0 },
    { "--nosync", NULL, "skip fsync (scratch data only: not crash-safe)", 0 },
    { NULL, NULL, NULL, 0 }
};

static const cli_opt status_opts[] = {
    { NULL, NULL, NULL, 0 }
};

const cli_cmd cli_cmds_node[] = {
    { "node run", cmd_run, "", 0, 0,
      "run a node: peers over TCP, the control socket, optionally a vault",
      "Opens the ledger in --data DIR, connects to the --peer nodes and accepts peers on "
      "--listen, relays transactions and blocks, and (with --mine) mines a block whenever its "
      "mempool holds a transaction. It runs until SIGINT or SIGTERM, then closes the ledger "
      "cleanly, removes its control socket and exits 0.\n\n"
      "Other hre commands reach it with --node DIR over DIR/control.sock (a UNIX socket, mode "
      "0600, answered only for the node's own user): read-only commands run inside the node, "
      "and transactions are submitted to it (relayed to the peers). A socket left by a node "
      "that crashed is replaced at the next start.\n\n"
      "--config FILE holds key = value lines with the long options' names (data, key, "
      "passphrase-fd, network, listen, port-file, peer (repeatable), mine, vault, vault-key, "
      "holder, log-level, nosync); '#' starts a comment; mine and nosync take yes or no. "
      "Relative paths are taken from the current directory. Options on the command line "
      "override the file (--peer replaces its peers). A bad line "
      "is a usage error (exit 2) naming the line.\n\n"
      "Logs go to stderr, one line each with a UTC timestamp and the level; they never hold "
      "keys or passphrases.",
      run_opts, 0 },
    { "node status", cmd_status, "", 0, 0,
      "show a node's height, tip, mempool and peers",
      "With --node DIR, asks the running node (peers, sync state); with --data DIR, reads the "
      "ledger directory (no peers). JSON: running, network_id, height, tip, mempool, and for a "
      "running node peers, peers_ready, synced, best_header.",
      status_opts, CLI_LEDGER | CLI_NODE_RUN },
    { "node submit", cmd_submit, "FILE", 1, 1,
      "submit an encoded, signed transaction from a file",
      "Submits the transaction in FILE (its wire encoding, as hre_tx_encode writes it; - for "
      "stdin): with --node DIR to the running node, which relays it to its peers (it stays in "
      "the mempool until a block has it); with --data DIR to the local ledger, mined into a "
      "block at once. JSON: txid, state (block or mempool), height (in a block).",
      submit_opts, CLI_LEDGER },
    { NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0 }
};
