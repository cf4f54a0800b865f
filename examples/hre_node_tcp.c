/*
 * hre_node_tcp: run a libhre node over TCP (poll(), POSIX file storage),
 * built on examples/tcp_host.{c,h}. Public API only.
 *
 * Modes (see usage() below, or `hre_node_tcp --help`):
 *   init  make a shared network for N nodes: DIR/network.dat, the founding
 *         authority's key DIR/authority.pem, node keys DIR/nodeK.pem, and a
 *         data directory DIR/nodeK per node holding the genesis block and a
 *         setup block (height 1) that registers every node key (so the nodes
 *         are live members of each other: they relay transactions).
 *   run   run one node until SIGINT / SIGTERM (a clean stop: the ledger is
 *         closed). Control for scripts and tests:
 *           --spool DIR   polled every 100 ms: NAME.tx (an encoded
 *                         transaction) is submitted and renamed NAME.tx.ok
 *                         (or NAME.tx.err, holding the error); NAME.mine
 *                         (a decimal count) mines that many blocks and is
 *                         renamed NAME.mine.ok; NAME.watch (a txid in hex)
 *                         adds the transaction to the status file. Write a
 *                         file under another name and rename it in.
 *           --status FILE rewritten atomically (tmp + rename) every 100 ms:
 *                         "key=value" lines (pid, port, height, tip, peers,
 *                         peers_ready, synced, best_header, mempool) and one
 *                         "tx=TXID STATE" line per watched txid (STATE: a
 *                         block height, "mempool" or "unknown").
 *           --mine        mine a block whenever the mempool holds a
 *                         transaction.
 *   mktx  write a register-patient transaction (a fresh patient key) for a
 *         network to a file and print its txid: something to submit.
 * Passphrases (node and authority keys): --pass-fd FD (read to EOF or the
 * first newline) or --pass-env VAR (default HRE_NODE_PASSPHRASE); never on
 * the command line. With neither set, keys are written / read as clear PEM.
 *
 * Exit status: 0 success (run: stopped by a signal); 1 failure; 2 bad usage.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hre/hre.h>

#include "tcp_host.h"

#define PROG "hre_node_tcp"
#define MAX_PEERS 64
#define MAX_WATCH 64
#define MAX_NODES 64
#define PASS_MAX 1024

static void usage(FILE *f)
{
    fprintf(f,
        "usage: " PROG " init --dir DIR [--nodes N] [--name ORG] [PASS]\n"
        "       " PROG " run --data DIR [--network FILE] [--key PEM] [PASS]\n"
        "                    [--listen HOST:PORT] [--port-file FILE] [--peer HOST:PORT]...\n"
        "                    [--spool DIR] [--status FILE] [--mine] [--recv-rate BYTES]\n"
        "                    [--send-limit BYTES] [--nosync] [--verbose]\n"
        "       " PROG " mktx --network FILE --out FILE\n"
        "       " PROG " --help\n"
        "\n"
        "init   writes DIR/network.dat, DIR/authority.pem, DIR/node1.pem..nodeN.pem and\n"
        "       data directories DIR/node1..nodeN (genesis + a block registering every\n"
        "       node key). N: 1..64, default 3.\n"
        "run    runs a node over TCP until SIGINT/SIGTERM. Addresses are numeric\n"
        "       (127.0.0.1:9000, [::1]:9000); --listen with port 0 picks a free port,\n"
        "       written to --port-file. --peer (repeatable): keep a connection to it\n"
        "       (reconnects with backoff). --spool DIR: NAME.tx is submitted, NAME.mine\n"
        "       (a count) mines blocks, NAME.watch (a txid) is reported in --status\n"
        "       FILE (key=value lines, rewritten every 100 ms). --mine: mine whenever\n"
        "       the mempool is not empty. --recv-rate: cap on bytes read per second.\n"
        "       --send-limit: at most BYTES per send() (exercises partial writes).\n"
        "       --nosync: no fsync (scratch data only).\n"
        "mktx   writes a register-patient transaction of a fresh key to FILE and\n"
        "       prints its txid (hex).\n"
        "PASS   --pass-fd FD or --pass-env VAR (default: HRE_NODE_PASSPHRASE): the\n"
        "       passphrase of the PEM keys; never given on the command line. Without\n"
        "       one the keys are clear PEM files (mode 0600).\n"
        "exit   0 success, 1 failure, 2 bad usage.\n");
}

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, PROG ": %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
    usage(stderr);
    return 2;
}

static int lib_error(const char *what, int rc)
{
    fprintf(stderr, PROG ": %s: %s (%s)\n", what, hre_strerror(rc), hre_error_detail());
    return 1;
}

/* ---- passphrase ---------------------------------------------------------- */

typedef struct pass_src {
    int fd;
    const char *env;
    char buf[PASS_MAX];
    size_t len;
    int have;
} pass_src;

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Returns 0, 1 (failure) */
static int pass_load(pass_src *p)
{
    int rc = tcp_host_read_passphrase(p->buf, sizeof p->buf, &p->len, p->fd,
                                      p->env ? p->env : "HRE_NODE_PASSPHRASE");
    if (rc == HRE_ENOTFOUND && !p->env) {
        p->have = 0;
        return 0;
    }
    if (rc != HRE_OK) {
        fprintf(stderr, PROG ": cannot read the passphrase (%s)\n", hre_strerror(rc));
        return 1;
    }
    p->have = 1;
    return 0;
}

/* ---- files --------------------------------------------------------------- */

static int write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
    char tmp[4096];
    int fd;
    const char *d = data;
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return -1;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    while (len) {
        ssize_t k = write(fd, d, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            close(fd);
            unlink(tmp);
            return -1;
        }
        d += k;
        len -= (size_t)k;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int read_small(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    if (!f)
        return -1;
    n = fread(buf, 1, cap, f);
    if (ferror(f) || (n == cap && fgetc(f) != EOF)) {
        fclose(f);
        return -1;
    }
    fclose(f);
    *len = n;
    return 0;
}

static int load_network(hre_network **net, const char *path)
{
    uint8_t b[HRE_NETWORK_FILE_MAX];
    size_t len = 0;
    int rc;
    if (read_small(path, b, sizeof b, &len) != 0) {
        fprintf(stderr, PROG ": cannot read network file %s\n", path);
        return 1;
    }
    rc = hre_network_decode(net, b, len);
    return rc == HRE_OK ? 0 : lib_error(path, rc);
}

static void key_wire(const hre_key *k, uint8_t wire[34])
{
    hre_pubkey *pk = NULL;
    if (hre_key_pubkey(k, &pk) != HRE_OK || hre_pubkey_serialize_wire(pk, wire) != HRE_OK) {
        fprintf(stderr, PROG ": key: %s\n", hre_error_detail());
        exit(1);
    }
    hre_pubkey_free(pk);
}

static int save_key(const hre_key *k, const char *path, const pass_src *p)
{
    char pem[8192];
    size_t len = sizeof pem;
    int rc = hre_key_export_pem(k, pem, &len, p->have ? p->buf : NULL, p->have ? p->len : 0);
    if (rc != HRE_OK)
        return lib_error("key export", rc);
    rc = write_file_atomic(path, pem, len, 0600);
    hre_wipe(pem, sizeof pem);
    if (rc != 0) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

static int open_ledger(hre_storage **st, hre_ledger **l, const char *dir, const hre_network *net,
                       unsigned int sflags)
{
    hre_storage_posix_options so;
    hre_ledger_options lo;
    int rc = hre_storage_posix_options_init(&so, HRE_STORAGE_POSIX_OPTIONS_VERSION);
    if (rc == HRE_OK) {
        so.flags = sflags;
        rc = hre_storage_posix_open(st, dir, &so);
    }
    if (rc != HRE_OK)
        return lib_error(dir, rc);
    rc = hre_ledger_options_init(&lo, HRE_LEDGER_OPTIONS_VERSION);
    if (rc == HRE_OK) {
        lo.storage = *st;
        lo.network = net;
        rc = hre_ledger_open(l, &lo);
    }
    if (rc != HRE_OK) {
        hre_storage_free(*st);
        *st = NULL;
        return lib_error("ledger open", rc);
    }
    return 0;
}

/* ---- init ---------------------------------------------------------------- */

static int cmd_init(int argc, char **argv)
{
    const char *dir = NULL, *name = "Founding Hospital";
    long nodes = 3;
    unsigned int sflags = 0;
    pass_src ps = { -1, NULL, {0}, 0, 0 };
    hre_key *auth = NULL, *keys[MAX_NODES] = {0};
    hre_network *net = NULL;
    hre_storage *st = NULL;
    hre_ledger *l = NULL;
    uint8_t auth_wire[34], net_id[32], netfile[HRE_NETWORK_FILE_MAX];
    uint8_t *block = NULL;
    size_t netlen = sizeof netfile, blen = 0;
    char path[4096];
    uint64_t now = tcp_host_now();
    int i, rc, ret = 1;

    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long fd;
        if (!strcmp(a, "--nosync")) {
            sflags |= HRE_STORAGE_POSIX_NOSYNC;
            continue;
        }
        if (!v)
            return usage_error("missing value for", a);
        i++;
        if (!strcmp(a, "--dir"))
            dir = v;
        else if (!strcmp(a, "--name"))
            name = v;
        else if (!strcmp(a, "--nodes")) {
            if (parse_int(v, 1, MAX_NODES, &nodes))
                return usage_error("bad --nodes", v);
        } else if (!strcmp(a, "--pass-fd")) {
            if (parse_int(v, 0, 1 << 20, &fd))
                return usage_error("bad --pass-fd", v);
            ps.fd = (int)fd;
        } else if (!strcmp(a, "--pass-env"))
            ps.env = v;
        else
            return usage_error("unknown option", a);
    }
    if (!dir)
        return usage_error("init needs --dir", NULL);
    if (pass_load(&ps))
        return 1;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, PROG ": mkdir %s: %s\n", dir, strerror(errno));
        goto out;
    }

    if ((rc = hre_key_generate(&auth, HRE_CURVE_P256)) != HRE_OK) {
        lib_error("key generate", rc);
        goto out;
    }
    key_wire(auth, auth_wire);
    if ((rc = hre_network_new_private(&net, auth_wire, name, now / 1000)) != HRE_OK ||
        (rc = hre_network_encode(net, netfile, &netlen)) != HRE_OK ||
        (rc = hre_network_id(net, net_id)) != HRE_OK) {
        lib_error("network", rc);
        goto out;
    }
    snprintf(path, sizeof path, "%s/network.dat", dir);
    if (write_file_atomic(path, netfile, netlen, 0644) != 0) {
        fprintf(stderr, PROG ": cannot write %s\n", path);
        goto out;
    }
    snprintf(path, sizeof path, "%s/authority.pem", dir);
    if (save_key(auth, path, &ps))
        goto out;

    /* node 1's ledger: genesis, then a block registering every node key */
    snprintf(path, sizeof path, "%s/node1", dir);
    if (open_ledger(&st, &l, path, net, sflags))
        goto out;
    for (i = 0; i < nodes; i++) {
        hre_register_node_payload p;
        hre_tx *tx = NULL;
        uint8_t b[HRE_TX_MAX_LEN];
        size_t len = sizeof b;
        hre_ledger_status s;
        char kp[4096];
        if ((rc = hre_key_generate(&keys[i], HRE_CURVE_P256)) != HRE_OK) {
            lib_error("key generate", rc);
            goto out;
        }
        snprintf(kp, sizeof kp, "%s/node%d.pem", dir, i + 1);
        if (save_key(keys[i], kp, &ps))
            goto out;
        memset(&p, 0, sizeof p);
        key_wire(keys[i], p.node_key);
        if ((rc = hre_contract_build_register_node(&tx, net_id, auth, (uint64_t)i, now / 1000, &p)) != HRE_OK ||
            (rc = hre_tx_encode(tx, b, &len)) != HRE_OK) {
            hre_tx_free(tx);
            lib_error("register-node tx", rc);
            goto out;
        }
        hre_tx_free(tx);
        if ((rc = hre_ledger_submit_tx(l, NULL, &s, b, len, now / 1000)) != HRE_OK) {
            lib_error("submit register-node", rc);
            goto out;
        }
    }
    {
        hre_ledger_status s;
        if ((rc = hre_ledger_mine(l, NULL, &s, now / 1000, HRE_POW_ALL_NONCES, 0)) != HRE_OK) {
            lib_error("mine the setup block", rc);
            goto out;
        }
        if ((rc = hre_ledger_block_by_height(l, NULL, &blen, 1)) != HRE_EBUFSIZE && rc != HRE_OK) {
            lib_error("read the setup block", rc);
            goto out;
        }
        block = malloc(blen ? blen : 1);
        if (!block || (rc = hre_ledger_block_by_height(l, block, &blen, 1)) != HRE_OK) {
            lib_error("read the setup block", block ? rc : HRE_ENOMEM);
            goto out;
        }
    }
    hre_ledger_close(l);
    l = NULL;
    hre_storage_free(st);
    st = NULL;
    /* the other nodes get the same block */
    for (i = 1; i < nodes; i++) {
        hre_ledger_status s;
        snprintf(path, sizeof path, "%s/node%d", dir, i + 1);
        if (open_ledger(&st, &l, path, net, sflags))
            goto out;
        if ((rc = hre_ledger_submit_block(l, &s, block, blen, now / 1000)) != HRE_OK ||
            s != HRE_LEDGER_CONNECTED) {
            lib_error("setup block", rc);
            goto out;
        }
        hre_ledger_close(l);
        l = NULL;
        hre_storage_free(st);
        st = NULL;
    }
    printf("network %s: %ld node(s) in %s (network.dat, authority.pem, node1.pem.., node1/..)\n",
           hre_network_org_name(net), nodes, dir);
    ret = 0;
out:
    hre_ledger_close(l);
    hre_storage_free(st);
    free(block);
    hre_network_free(net);
    hre_key_free(auth);
    for (i = 0; i < MAX_NODES; i++)
        hre_key_free(keys[i]);
    hre_wipe(ps.buf, sizeof ps.buf);
    return ret;
}

/* ---- mktx ---------------------------------------------------------------- */

static int cmd_mktx(int argc, char **argv)
{
    const char *netpath = NULL, *out = NULL;
    hre_network *net = NULL;
    hre_key *k = NULL;
    hre_tx *tx = NULL;
    hre_register_patient_payload p;
    uint8_t id[32], txid[32], b[HRE_TX_MAX_LEN];
    size_t len = sizeof b, hl = 65;
    char hex[65];
    int i, rc;
    for (i = 0; i < argc; i++) {
        if (i + 1 >= argc)
            return usage_error("missing value for", argv[i]);
        if (!strcmp(argv[i], "--network"))
            netpath = argv[++i];
        else if (!strcmp(argv[i], "--out"))
            out = argv[++i];
        else
            return usage_error("unknown option", argv[i]);
    }
    if (!netpath || !out)
        return usage_error("mktx needs --network and --out", NULL);
    if (load_network(&net, netpath))
        return 1;
    memset(&p, 0, sizeof p);
    if ((rc = hre_network_id(net, id)) != HRE_OK || (rc = hre_key_generate(&k, HRE_CURVE_P256)) != HRE_OK ||
        (rc = hre_contract_build_register_patient(&tx, id, k, 0, tcp_host_now() / 1000, &p)) != HRE_OK ||
        (rc = hre_tx_encode(tx, b, &len)) != HRE_OK || (rc = hre_tx_txid(tx, txid)) != HRE_OK ||
        (rc = hre_hex_encode(hex, &hl, txid, 32)) != HRE_OK) {
        lib_error("mktx", rc);
        rc = 1;
    } else if (write_file_atomic(out, b, len, 0644) != 0) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", out, strerror(errno));
        rc = 1;
    } else {
        printf("%s\n", hex);
        rc = 0;
    }
    hre_tx_free(tx);
    hre_key_free(k);
    hre_network_free(net);
    return rc;
}

/* ---- run ----------------------------------------------------------------- */

typedef struct watch {
    uint8_t txid[32];
    char hex[65];
    uint64_t height;   /* UINT64_MAX: not found in a block yet */
} watch;

typedef struct runner {
    const char *spool;
    const char *status;
    int mine;
    uint64_t mine_todo;
    watch w[MAX_WATCH];
    size_t n_w;
    uint64_t next_scan;
} runner;

static void done_rename(const char *path, const char *suffix, const char *msg)
{
    char to[4200];
    if (snprintf(to, sizeof to, "%s%s", path, suffix) >= (int)sizeof to) {
        unlink(path);
        return;
    }
    if (msg) {
        (void)write_file_atomic(to, msg, strlen(msg), 0644);
        unlink(path);
    } else if (rename(path, to) != 0) {
        unlink(path);
    }
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a > b && strcmp(s + a - b, suf) == 0;
}

static void spool_scan(runner *r, tcp_host *h, uint64_t now)
{
    DIR *d = opendir(r->spool);
    struct dirent *e;
    char path[4096];
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        uint8_t b[HRE_TX_MAX_LEN];
        size_t len = 0;
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof path, "%s/%s", r->spool, e->d_name) >= (int)sizeof path)
            continue;
        if (ends_with(e->d_name, ".tx")) {
            hre_ledger_status s = HRE_LEDGER_STATUS_NONE;
            int rc;
            if (read_small(path, b, sizeof b, &len) != 0) {
                done_rename(path, ".err", "unreadable\n");
                continue;
            }
            rc = hre_node_submit_tx(tcp_host_node(h), NULL, &s, b, len, now);
            if (rc == HRE_OK) {
                done_rename(path, ".ok", NULL);
            } else {
                char msg[600];
                snprintf(msg, sizeof msg, "%s %s: %s\n", hre_strerror(rc), hre_ledger_status_name((int)s),
                         hre_error_detail());
                done_rename(path, ".err", msg);
            }
        } else if (ends_with(e->d_name, ".mine")) {
            long n = 0;
            char txt[32];
            if (read_small(path, b, sizeof txt - 1, &len) == 0) {
                memcpy(txt, b, len);
                txt[len] = 0;
                while (len && (txt[len - 1] == '\n' || txt[len - 1] == ' '))
                    txt[--len] = 0;
                if (parse_int(txt, 1, 100000, &n) == 0) {
                    r->mine_todo += (uint64_t)n;
                    done_rename(path, ".ok", NULL);
                    continue;
                }
            }
            done_rename(path, ".err", "bad count\n");
        } else if (ends_with(e->d_name, ".watch") && r->n_w < MAX_WATCH) {
            char hex[80];
            size_t k, idl = 32;
            watch *w;
            if (read_small(path, b, 79, &len) != 0)
                continue;
            memcpy(hex, b, len);
            hex[len] = 0;
            while (len && (hex[len - 1] == '\n' || hex[len - 1] == ' '))
                hex[--len] = 0;
            for (k = 0; k < r->n_w; k++)
                if (!strcmp(r->w[k].hex, hex))
                    break;
            if (k < r->n_w || len != 64)
                continue;
            w = &r->w[r->n_w];
            if (hre_hex_decode(w->txid, &idl, hex, len) != HRE_OK || idl != 32)
                continue;
            memcpy(w->hex, hex, 65);
            w->height = UINT64_MAX;
            r->n_w++;
        }
    }
    closedir(d);
}

static void write_status(runner *r, tcp_host *h)
{
    hre_node_stats st = HRE_NODE_STATS_INIT;
    hre_ledger *l = tcp_host_ledger(h);
    uint8_t tip[32];
    uint64_t height = 0;
    char buf[16384], hex[65];
    size_t hl = sizeof hex, off = 0, i;
    if (hre_node_stats_get(tcp_host_node(h), &st) != HRE_OK || hre_ledger_tip(l, &height, tip) != HRE_OK ||
        hre_hex_encode(hex, &hl, tip, 32) != HRE_OK)
        return;
    off += (size_t)snprintf(buf + off, sizeof buf - off,
                            "pid=%ld\nport=%u\nheight=%llu\ntip=%s\npeers=%u\npeers_ready=%u\n"
                            "synced=%d\nbest_header=%llu\nmempool=%zu\n",
                            (long)getpid(), tcp_host_port(h), (unsigned long long)height, hex,
                            st.peers, st.peers_ready, st.synced,
                            (unsigned long long)st.best_header_height, hre_ledger_mempool_count(l));
    for (i = 0; i < r->n_w && off < sizeof buf - 128; i++) {
        watch *w = &r->w[i];
        uint64_t hgt = 0;
        hre_header hd;
        hre_merkle_branch br;
        /* re-check a known height first (a reorg may move it) */
        if (hre_ledger_tx_proof(l, &hd, &br, &hgt, w->txid,
                                w->height == UINT64_MAX ? UINT64_MAX : w->height) == HRE_OK)
            w->height = hgt;
        else
            w->height = UINT64_MAX;
        if (w->height != UINT64_MAX)
            off += (size_t)snprintf(buf + off, sizeof buf - off, "tx=%s %llu\n", w->hex,
                                    (unsigned long long)w->height);
        else
            off += (size_t)snprintf(buf + off, sizeof buf - off, "tx=%s %s\n", w->hex,
                                    hre_ledger_mempool_contains(l, w->txid) ? "mempool" : "unknown");
    }
    if (write_file_atomic(r->status, buf, off, 0644) != 0)
        fprintf(stderr, PROG ": cannot write %s: %s\n", r->status, strerror(errno));
}

static uint64_t idle(void *ud, tcp_host *h, uint64_t now)
{
    runner *r = ud;
    int k;
    if (now >= r->next_scan) {
        if (r->spool)
            spool_scan(r, h, now);
        if (r->status)
            write_status(r, h);
        r->next_scan = now + 100;
    }
    if (r->mine && !r->mine_todo && hre_ledger_mempool_count(tcp_host_ledger(h)) > 0)
        r->mine_todo = 1;
    /* a few blocks per iteration, so that the loop keeps serving peers */
    for (k = 0; k < 8 && r->mine_todo; k++) {
        hre_ledger_status s = HRE_LEDGER_STATUS_NONE;
        int rc = hre_node_mine(tcp_host_node(h), NULL, &s, now, 100000);
        if (rc == HRE_OK) {
            r->mine_todo--;
        } else if (rc != HRE_EEXHAUSTED) {
            fprintf(stderr, PROG ": mine: %s (%s)\n", hre_strerror(rc), hre_error_detail());
            r->mine_todo = 0;
            break;
        }
    }
    return r->mine_todo ? now : r->next_scan;
}

static int cmd_run(int argc, char **argv)
{
    tcp_host_config cfg;
    const char *peers[MAX_PEERS];
    pass_src ps = { -1, NULL, {0}, 0, 0 };
    runner r;
    tcp_host *h = NULL;
    int i, rc;
    long v;

    memset(&cfg, 0, sizeof cfg);
    memset(&r, 0, sizeof r);
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--mine")) {
            r.mine = 1;
            continue;
        }
        if (!strcmp(a, "--nosync")) {
            cfg.storage_flags |= HRE_STORAGE_POSIX_NOSYNC;
            continue;
        }
        if (!strcmp(a, "--verbose")) {
            cfg.verbose = 1;
            continue;
        }
        if (!val)
            return usage_error("missing value for", a);
        i++;
        if (!strcmp(a, "--data"))
            cfg.data_dir = val;
        else if (!strcmp(a, "--network"))
            cfg.network_file = val;
        else if (!strcmp(a, "--key"))
            cfg.key_file = val;
        else if (!strcmp(a, "--listen"))
            cfg.listen = val;
        else if (!strcmp(a, "--port-file"))
            cfg.port_file = val;
        else if (!strcmp(a, "--spool"))
            r.spool = val;
        else if (!strcmp(a, "--status"))
            r.status = val;
        else if (!strcmp(a, "--pass-env"))
            ps.env = val;
        else if (!strcmp(a, "--pass-fd")) {
            if (parse_int(val, 0, 1 << 20, &v))
                return usage_error("bad --pass-fd", val);
            ps.fd = (int)v;
        } else if (!strcmp(a, "--recv-rate")) {
            if (parse_int(val, 1, 1L << 30, &v))
                return usage_error("bad --recv-rate", val);
            cfg.recv_rate = (uint64_t)v;
        } else if (!strcmp(a, "--send-limit")) {
            if (parse_int(val, 1, 1L << 30, &v))
                return usage_error("bad --send-limit", val);
            cfg.send_limit = (size_t)v;
        } else if (!strcmp(a, "--peer")) {
            if (cfg.n_peers == MAX_PEERS)
                return usage_error("too many --peer", NULL);
            if (strlen(val) > HRE_NODE_ADDRESS_MAX)
                return usage_error("address too long:", val);
            peers[cfg.n_peers++] = val;
        } else {
            return usage_error("unknown option", a);
        }
    }
    if (!cfg.data_dir)
        return usage_error("run needs --data", NULL);
    cfg.peers = peers;
    if (cfg.key_file) {
        if (pass_load(&ps))
            return 1;
        if (ps.have) {
            cfg.pass = ps.buf;
            cfg.pass_len = ps.len;
        }
    }
    cfg.idle = idle;
    cfg.idle_user_data = &r;
    rc = tcp_host_open(&h, &cfg);
    hre_wipe(ps.buf, sizeof ps.buf);
    if (rc != HRE_OK) {
        fprintf(stderr, PROG ": cannot start the node\n");
        return 1;
    }
    if (tcp_host_install_signals(h) != HRE_OK) {
        tcp_host_close(h);
        return 1;
    }
    {
        uint64_t height = 0;
        (void)hre_ledger_tip(tcp_host_ledger(h), &height, NULL);
        fprintf(stderr, PROG ": node up at height %llu%s%u\n", (unsigned long long)height,
                cfg.listen ? ", listening on port " : "", cfg.listen ? tcp_host_port(h) : 0u);
    }
    rc = tcp_host_run(h);
    if (r.status)
        write_status(&r, h);
    tcp_host_close(h);   /* the ledger closes cleanly */
    if (rc != HRE_OK) {
        fprintf(stderr, PROG ": stopped on error: %s (%s)\n", hre_strerror(rc), hre_error_detail());
        return 1;
    }
    fprintf(stderr, PROG ": stopped\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("missing mode", NULL);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "init"))
        return cmd_init(argc - 2, argv + 2);
    if (!strcmp(argv[1], "run"))
        return cmd_run(argc - 2, argv + 2);
    if (!strcmp(argv[1], "mktx"))
        return cmd_mktx(argc - 2, argv + 2);
    return usage_error("unknown mode", argv[1]);
}
