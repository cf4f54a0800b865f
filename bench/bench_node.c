/*
 * bench_node: the node (layer 6) as one JSON document on stdout, every
 * figure next to its reference measured in the same run.
 *
 *  - sync: a fresh node syncs B blocks of T transactions (default 1,000 x
 *    1,000 new_record transactions; HRE_BENCH_BLOCKS / HRE_BENCH_TXS) from
 *    one peer over the encrypted channel, on 1 and 2 verifier threads; next
 *    to it the same blocks imported locally with hre_ledger_submit_blocks
 *    (one call) into a fresh ledger with the same thread count. The local
 *    import's ledger then serves the sync. Both on the POSIX backend (fsync)
 *    under $TMPDIR. Both nodes run in this thread (the server's block reads
 *    and encryption count against the sync). Bar: sync / local >= 0.9 in
 *    wall time (ratio_sync_to_local); ratio_cpu is the same in process CPU
 *    seconds, which a loaded machine disturbs less.
 *  - channel: application messages of 64 KiB from one node to another
 *    (encrypt, frame, decrypt, dispatch; both ends in this thread) in MB/s,
 *    against `openssl speed -evp aes-256-gcm -bytes 16384` (which only
 *    encrypts: ratio = 2 x channel / openssl);
 *  - handshakes per second (Noise XX with two X25519 key generations and six
 *    X25519 DH, two ECDSA P-256 identity signatures and verifications, the
 *    version exchange) against `openssl speed ecdhx25519` and `ecdsap256`
 *    (ratio against the cryptography alone: 1 / (8/x25519 + 2/sign +
 *    2/verify));
 *  - memory: bytes the node holds per idle ready peer, and its peak while
 *    one peer floods it with 80 maximal junk messages (unrequested blocks,
 *    transactions, unknown commands).
 * The loopback is a byte queue per direction delivered 64 KiB at a time,
 * push mode, on a virtual millisecond clock. White-box (the flood uses the
 * node's internal send), so it links the static test library.
 * Environment: HRE_BENCH_BLOCKS, HRE_BENCH_TXS, HRE_BENCH_SKIP_SYNC=1,
 * HRE_BENCH_SPEED_SECONDS (openssl speed -seconds, default 1; 0 skips),
 * OPENSSL, TMPDIR.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hre/hre.h>
#include <hre/sys/transport.h>

#include "node/internal.h"

#include "bench_util.h"

#define T0 1700000000u
#define EASY 0x207fffffu
#define N_ADMINS 4
#define CHUNK 65536u

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_node: %s failed: %s (%s)\n", what, hre_strerror(rc), hre_error_detail());
    exit(1);
}
#define TRY(what, call) do { int rc_ = (call); if (rc_ != HRE_OK) die(what, rc_); } while (0)

static const char *openssl_bin(void)
{
    const char *o = getenv("OPENSSL");
    return o && *o ? o : "openssl";
}

/* ------------------------------------------------------------------------ */
/* Storage and network                                                       */
/* ------------------------------------------------------------------------ */

static char g_tmp[512];

static void rm_dir(const char *d)
{
    DIR *dir = opendir(d);
    struct dirent *e;
    if (!dir)
        return;
    while ((e = readdir(dir))) {
        char p[1024];
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(p, sizeof p, "%s/%s", d, e->d_name) >= (int)sizeof p)
            continue;
        unlink(p);
    }
    closedir(dir);
    rmdir(d);
}

static hre_storage *posix_store(const char *sub)
{
    char path[1024];
    hre_storage *s = NULL;
    snprintf(path, sizeof path, "%s/%s", g_tmp, sub);
    rm_dir(path);
    TRY("posix open", hre_storage_posix_open(&s, path, NULL));
    return s;
}

typedef struct netw {
    hre_chain_params params;
    hre_key *auth, *admins[N_ADMINS], *patient, *nodekeys[2];
    uint8_t auth_wire[34], id[32], patient_addr[32], lab_org[32];
} netw;

static void wire(hre_key *k, uint8_t out[34])
{
    hre_pubkey *pk = NULL;
    TRY("pubkey", hre_key_pubkey(k, &pk));
    TRY("encode", hre_pubkey_serialize_wire(pk, out));
    hre_pubkey_free(pk);
}

static hre_ledger *open_l(hre_storage *st, const netw *n, unsigned threads)
{
    hre_ledger_options o;
    hre_ledger *l = NULL;
    TRY("options", hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    o.storage = st;
    o.params = &n->params;
    memcpy(o.authority_key, n->auth_wire, 34);
    o.verify_threads = threads;
    o.snapshot_interval = HRE_LEDGER_SNAPSHOTS_OFF;
    TRY("ledger open", hre_ledger_open(&l, &o));
    return l;
}

typedef struct blk {
    uint8_t *b;
    size_t len;
} blk;

static blk make_block(const uint8_t prev[32], uint32_t time, hre_tx **txs, size_t n, uint8_t hash[32])
{
    hre_block *b = NULL;
    hre_block_limits lim = { HRE_BLOCK_LIMITS_VERSION, 64u << 20, 1u << 20 };
    hre_header h;
    blk out;
    size_t i;
    memset(&h, 0, sizeof h);
    h.version = 1;
    memcpy(h.prev_hash, prev, 32);
    h.time = time;
    h.bits = EASY;
    TRY("block new", hre_block_new(&b, &h, &lim));
    for (i = 0; i < n; i++) {
        uint8_t buf[HRE_TX_MAX_LEN];
        size_t len = sizeof buf;
        TRY("tx encode", hre_tx_encode(txs[i], buf, &len));
        TRY("add tx", hre_block_add_tx(b, buf, len));
    }
    TRY("merkle", hre_block_update_merkle_root(b));
    h = *hre_block_header(b);
    TRY("mine", hre_pow_mine(&h, NULL, 1u << 30));
    TRY("set header", hre_block_set_header(b, &h));
    TRY("hash", hre_header_hash(&h, hash));
    out.len = 0;
    (void)hre_block_encode(b, NULL, &out.len);
    out.b = malloc(out.len);
    if (!out.b)
        die("malloc", HRE_ENOMEM);
    TRY("encode", hre_block_encode(b, out.b, &out.len));
    hre_block_free(b);
    return out;
}

/* The setup block: a lab, more hospital admins, a patient, two node keys. */
static blk setup_block(netw *n, uint8_t prev[32])
{
    hre_tx *txs[N_ADMINS + 4];
    size_t m = 0, i;
    uint8_t w[34], genesis_org[32];
    hre_register_org_payload ro;
    hre_register_patient_payload rp;
    hre_key *labadm = NULL;
    uint64_t nonce = 0;
    blk b;
    TRY("key", hre_key_generate(&labadm, HRE_CURVE_P256));
    wire(labadm, w);
    memset(&ro, 0, sizeof ro);
    ro.org_type = HRE_ORG_LAB;
    ro.name = (const uint8_t *)"Bench Lab";
    ro.name_len = 9;
    memcpy(ro.admin_key, w, 34);
    TRY("build", hre_contract_build_register_org(&txs[m++], n->id, n->auth, nonce++, T0, &ro));
    TRY("txid", hre_tx_txid(txs[0], n->lab_org));
    TRY("org id", hre_contract_genesis_org_id(genesis_org, n->id));
    for (i = 0; i < N_ADMINS; i++) {
        hre_appoint_admin_payload ap;
        memcpy(ap.org_id, genesis_org, 32);
        wire(n->admins[i], ap.admin_key);
        TRY("build", hre_contract_build_appoint_admin(&txs[m++], n->id, n->auth, nonce++, T0, &ap));
    }
    for (i = 0; i < 2; i++) {
        hre_register_node_payload rn;
        wire(n->nodekeys[i], rn.node_key);
        TRY("build", hre_contract_build_register_node(&txs[m++], n->id, n->auth, nonce++, T0, &rn));
    }
    memset(&rp, 0, sizeof rp);
    TRY("build", hre_contract_build_register_patient(&txs[m++], n->id, n->patient, 0, T0, &rp));
    wire(n->patient, w);
    TRY("addr", hre_contract_address(n->patient_addr, w));
    b = make_block(n->id, T0 + 600, txs, m, prev);
    for (i = 0; i < m; i++)
        hre_tx_free(txs[i]);
    hre_key_free(labadm);
    return b;
}

/* ------------------------------------------------------------------------ */
/* Loopback                                                                  */
/* ------------------------------------------------------------------------ */

#define MAX_NODES 4
#define MAX_CONNS 256

typedef struct bq {
    uint8_t *p;
    size_t off, len, cap;
} bq;

typedef struct bconn {
    int used, open;
    int a, b;          /* node indexes: a dialled */
    uint64_t ca, cb;   /* ids at a and at b */
    bq ab, ba;         /* bytes a sent, bytes b sent */
    int blk_a, blk_b;  /* send cut short: call writable */
} bconn;

typedef struct bnode {
    hre_node *node;
    hre_ledger *l;
    hre_storage *st;
    int idx;
    void (*on_event)(struct bnode *, const hre_node_event *);
} bnode;

static bnode g_nodes[MAX_NODES];
static bconn g_conns[MAX_CONNS];
static uint64_t g_now, g_next_id = 1;

static void q_put(bq *q, const uint8_t *d, size_t len)
{
    if (q->off == q->len)
        q->off = q->len = 0;
    if (q->len + len > q->cap) {
        if (q->off) {
            memmove(q->p, q->p + q->off, q->len - q->off);
            q->len -= q->off;
            q->off = 0;
        }
        if (q->len + len > q->cap) {
            size_t nc = q->cap ? q->cap : 65536;
            while (nc < q->len + len)
                nc *= 2;
            q->p = realloc(q->p, nc);
            if (!q->p)
                die("realloc", HRE_ENOMEM);
            q->cap = nc;
        }
    }
    memcpy(q->p + q->len, d, len);
    q->len += len;
}

static bconn *conn_of(int node, uint64_t id, int *side)
{
    for (int i = 0; i < MAX_CONNS; i++) {
        bconn *c = &g_conns[i];
        if (!c->used || !c->open)
            continue;
        if (c->a == node && c->ca == id) {
            *side = 0;
            return c;
        }
        if (c->b == node && c->cb == id) {
            *side = 1;
            return c;
        }
    }
    return NULL;
}

static int t_send(void *ud, uint64_t conn, const uint8_t *data, size_t len, size_t *sent)
{
    bnode *bn = ud;
    int side;
    bconn *c = conn_of(bn->idx, conn, &side);
    if (!c)
        return HRE_EIO;
    q_put(side ? &c->ba : &c->ab, data, len);
    *sent = len;
    return HRE_OK;
}

static void t_close(void *ud, uint64_t conn, int reason)
{
    bnode *bn = ud;
    int side;
    bconn *c = conn_of(bn->idx, conn, &side);
    (void)reason;
    if (c)
        c->open = 0;   /* the other end learns of it in pump() */
}

static void on_event(void *ud, const hre_node_event *ev)
{
    bnode *bn = ud;
    if (bn->on_event)
        bn->on_event(bn, ev);
}

static const hre_transport_methods g_tm = { HRE_TRANSPORT_METHODS_VERSION, t_send, NULL, t_close };

static bnode *node_up(int idx, hre_ledger *l, hre_storage *st, const hre_key *id, const hre_node_options *tweak)
{
    hre_node_options o;
    bnode *bn = &g_nodes[idx];
    memset(bn, 0, sizeof *bn);
    bn->idx = idx;
    bn->l = l;
    bn->st = st;
    if (tweak)
        o = *tweak;
    else
        TRY("options", hre_node_options_init(&o, HRE_NODE_OPTIONS_VERSION));
    o.ledger = l;
    o.identity = id;
    o.transport = &g_tm;
    o.transport_user_data = bn;
    o.on_event = on_event;
    o.user_data = bn;
    TRY("node new", hre_node_new(&bn->node, &o, g_now));
    return bn;
}

static bconn *dial(bnode *a, bnode *b)
{
    for (int i = 0; i < MAX_CONNS; i++) {
        bconn *c = &g_conns[i];
        if (c->used)
            continue;
        memset(c, 0, sizeof *c);
        c->used = c->open = 1;
        c->a = a->idx;
        c->b = b->idx;
        c->ca = g_next_id++;
        c->cb = g_next_id++;
        TRY("connected", hre_node_peer_connected(b->node, c->cb, "dialler", 0, g_now));
        TRY("connected", hre_node_peer_connected(a->node, c->ca, "listener", HRE_NODE_PEER_OUTBOUND, g_now));
        return c;
    }
    die("out of connections", HRE_ELIMIT);
    return NULL;
}

static void conn_free(bconn *c)
{
    free(c->ab.p);
    free(c->ba.p);
    memset(c, 0, sizeof *c);
}

/* Deliver one chunk per direction per connection; close ends that were
 * closed; when idle, jump the clock to the next timer and tick. */
static int pump(void)
{
    int moved = 0;
    for (int i = 0; i < MAX_CONNS; i++) {
        bconn *c = &g_conns[i];
        if (!c->used)
            continue;
        if (!c->open) {
            /* tell both ends (the one that closed has forgotten it) */
            int rc = hre_node_peer_closed(g_nodes[c->a].node, c->ca, g_now);
            if (rc != HRE_OK && rc != HRE_ENOTFOUND)
                die("closed", rc);
            rc = hre_node_peer_closed(g_nodes[c->b].node, c->cb, g_now);
            if (rc != HRE_OK && rc != HRE_ENOTFOUND)
                die("closed", rc);
            conn_free(c);
            moved = 1;
            continue;
        }
        for (int d = 0; d < 2 && c->open; d++) {
            bq *q = d ? &c->ba : &c->ab;
            bnode *to = &g_nodes[d ? c->a : c->b];
            uint64_t id = d ? c->ca : c->cb;
            size_t k = q->len - q->off;
            int rc;
            if (!k || !hre_node_peer_want_read(to->node, id))
                continue;
            if (k > CHUNK)
                k = CHUNK;
            rc = hre_node_peer_recv(to->node, id, q->p + q->off, k, g_now);
            if (rc != HRE_OK && rc != HRE_EPROTO && rc != HRE_ENOTFOUND)
                die("recv", rc);
            q->off += k;
            moved = 1;
        }
    }
    if (!moved) {
        uint64_t next = UINT64_MAX, w;
        for (int i = 0; i < MAX_NODES; i++) {
            if (!g_nodes[i].node)
                continue;
            TRY("timer", hre_node_next_timer(g_nodes[i].node, &w));
            if (w < next)
                next = w;
        }
        if (next == UINT64_MAX)
            return 0;
        if (next > g_now)
            g_now = next;
        for (int i = 0; i < MAX_NODES; i++) {
            if (!g_nodes[i].node)
                continue;
            TRY("timer", hre_node_next_timer(g_nodes[i].node, &w));
            if (w <= g_now)
                TRY("tick", hre_node_tick(g_nodes[i].node, g_now));
        }
    }
    return 1;
}

static void node_down(bnode *bn)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (g_conns[i].used && (g_conns[i].a == bn->idx || g_conns[i].b == bn->idx)) {
            hre_node *other = g_nodes[g_conns[i].a == bn->idx ? g_conns[i].b : g_conns[i].a].node;
            if (other && other != bn->node)
                (void)hre_node_peer_closed(other, g_conns[i].a == bn->idx ? g_conns[i].cb : g_conns[i].ca, g_now);
            conn_free(&g_conns[i]);
        }
    hre_node_free(bn->node);
    memset(bn, 0, sizeof *bn);
}

static uint64_t tip_height(hre_ledger *l)
{
    uint64_t h = 0;
    TRY("tip", hre_ledger_tip(l, &h, NULL));
    return h;
}

/* ------------------------------------------------------------------------ */
/* openssl speed                                                             */
/* ------------------------------------------------------------------------ */

static double speed_gcm(int seconds)
{
    char cmd[256], line[512];
    FILE *p;
    double bps = 0;
    snprintf(cmd, sizeof cmd, "%s speed -mr -seconds %d -bytes 16384 -evp aes-256-gcm 2>/dev/null",
             openssl_bin(), seconds);
    if (!(p = popen(cmd, "r")))
        return 0;
    while (fgets(line, sizeof line, p)) {
        char *c = strrchr(line, ':');
        if (!strncmp(line, "+F:", 3) && c)
            bps = strtod(c + 1, NULL);
    }
    return pclose(p) == 0 ? bps / 1e6 : 0;
}

static double speed_x25519(int seconds)
{
    char cmd[256], line[512];
    FILE *p;
    double ops = 0;
    snprintf(cmd, sizeof cmd, "%s speed -mr -seconds %d ecdhx25519 2>/dev/null", openssl_bin(), seconds);
    if (!(p = popen(cmd, "r")))
        return 0;
    while (fgets(line, sizeof line, p)) {
        int idx, bits;
        double o, t;
        if (sscanf(line, "+F5:%d:%d:%lf:%lf", &idx, &bits, &o, &t) == 4)
            ops = o;
    }
    return pclose(p) == 0 ? ops : 0;
}

/* ------------------------------------------------------------------------ */
/* Channel: app messages                                                     */
/* ------------------------------------------------------------------------ */

static bnode *g_sender;
static uint64_t g_sconn;
static size_t g_sent, g_recv, g_target;
static uint8_t g_chunk[CHUNK];

static void app_sink(void *ud, hre_node *n, const hre_node_app_message *m)
{
    (void)ud;
    (void)n;
    g_recv += m->len;
}

static void pump_app(void)
{
    while (g_sent < g_target) {
        int rc = hre_node_app_send(g_sender->node, g_sconn, 1, g_chunk, CHUNK, g_now);
        if (rc == HRE_EAGAIN)
            return;
        if (rc != HRE_OK)
            die("app send", rc);
        g_sent += CHUNK;
    }
}

static void sender_events(bnode *bn, const hre_node_event *ev)
{
    (void)bn;
    if (ev->type == HRE_NODE_EVENT_APP_WRITABLE)
        pump_app();
}

static int g_ready;
static void count_ready(bnode *bn, const hre_node_event *ev)
{
    (void)bn;
    if (ev->type == HRE_NODE_EVENT_PEER_READY)
        g_ready++;
}

int main(void)
{
    netw n;
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    size_t nblocks = getenv("HRE_BENCH_BLOCKS") ? (size_t)atol(getenv("HRE_BENCH_BLOCKS")) : 1000;
    size_t ntxs = getenv("HRE_BENCH_TXS") ? (size_t)atol(getenv("HRE_BENCH_TXS")) : 1000;
    int speed_s = getenv("HRE_BENCH_SPEED_SECONDS") ? atoi(getenv("HRE_BENCH_SPEED_SECONDS")) : 1;
    int skip_sync = getenv("HRE_BENCH_SKIP_SYNC") && atoi(getenv("HRE_BENCH_SKIP_SYNC"));
    blk setup, *blocks = NULL;
    uint8_t prev[32], hash[32];
    uint64_t admin_nonce[N_ADMINS] = { 0 };
    double local_s[3] = { 0 }, sync_s[3] = { 0 }, local_cpu[3] = { 0 }, sync_cpu[3] = { 0 };
    double chan_mbps = 0, gcm_mbps = 0, hs_per_s = 0, x25519 = 0, ecsign = 0, ecverify = 0;
    double idle_bytes = 0, flood_peak = 0, flood_base = 0;
    size_t i, j, total_bytes = 0;

    if (nblocks < 1 || ntxs < 1)
        die("HRE_BENCH_BLOCKS / HRE_BENCH_TXS must be >= 1", HRE_EINVAL);
    snprintf(g_tmp, sizeof g_tmp, "%s/hre-bench-node-XXXXXX", tmpdir);
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    memset(&n, 0, sizeof n);
    TRY("params", hre_chain_params_init(&n.params, HRE_CHAIN_PARAMS_VERSION));
    TRY("limit", hre_pow_target_from_compact(n.params.pow_limit, NULL, NULL, EASY));
    n.params.target_spacing = 600;
    n.params.retarget_interval = 1000000;
    n.params.max_block_size = 8000000;
    n.params.max_tx_count = 100000;
    n.params.genesis.version = 1;
    n.params.genesis.time = T0;
    n.params.genesis.bits = EASY;
    TRY("genesis", hre_pow_mine(&n.params.genesis, NULL, 1u << 30));
    TRY("genesis hash", hre_header_hash(&n.params.genesis, n.id));
    TRY("key", hre_key_generate(&n.auth, HRE_CURVE_P256));
    wire(n.auth, n.auth_wire);
    TRY("key", hre_key_generate(&n.patient, HRE_CURVE_P256));
    for (i = 0; i < N_ADMINS; i++)
        TRY("key", hre_key_generate(&n.admins[i], HRE_CURVE_P256));
    for (i = 0; i < 2; i++)
        TRY("key", hre_key_generate(&n.nodekeys[i], HRE_CURVE_P256));
    setup = setup_block(&n, prev);
    g_now = ((uint64_t)T0 + 600u * (nblocks + 4)) * 1000u;

    if (!skip_sync) {
        hre_tx **txs = calloc(ntxs, sizeof *txs);
        blocks = calloc(nblocks, sizeof *blocks);
        if (!txs || !blocks)
            die("calloc", HRE_ENOMEM);
        for (i = 0; i < nblocks; i++) {
            for (j = 0; j < ntxs; j++) {
                hre_new_record_payload p;
                size_t k = j % N_ADMINS;
                memset(&p, 0, sizeof p);
                memcpy(p.patient, n.patient_addr, 32);
                memcpy(p.lab_org, n.lab_org, 32);
                p.commit_patient_id[0] = (uint8_t)j;
                p.commit_patient_id[1] = (uint8_t)(j >> 8);
                p.commit_test_name[0] = (uint8_t)i;
                p.commit_test_name[1] = (uint8_t)(i >> 8);
                p.date = T0 + i;
                p.price = 1000 + j;
                p.category = 1;
                p.doc_sha256[0] = (uint8_t)(j >> 8);
                p.doc_sha256[1] = (uint8_t)j;
                p.hospital_name = (const uint8_t *)"Bench General Hospital";
                p.hospital_name_len = 22;
                p.locator[0] = (uint8_t)(j >> 8);
                p.locator[1] = (uint8_t)j;
                p.locator[2] = (uint8_t)i;
                p.locator[3] = (uint8_t)(i >> 8);
                TRY("build", hre_contract_build_new_record(&txs[j], n.id, n.admins[k], admin_nonce[k]++, T0, &p));
            }
            blocks[i] = make_block(prev, T0 + 1200 + 600u * (uint32_t)i, txs, ntxs, hash);
            memcpy(prev, hash, 32);
            total_bytes += blocks[i].len;
            for (j = 0; j < ntxs; j++)
                hre_tx_free(txs[j]);
        }
        free(txs);

        for (unsigned th = 1; th <= 2; th++) {
            char sub[32];
            hre_storage *sl, *sc;
            hre_ledger *ll, *lc;
            hre_ledger_status st;
            size_t connected = 0;
            const uint8_t **bl = malloc(nblocks * sizeof *bl);
            size_t *lens = malloc(nblocks * sizeof *lens);
            double t, c;
            bnode *srv, *cli;
            if (!bl || !lens)
                die("malloc", HRE_ENOMEM);
            for (i = 0; i < nblocks; i++) {
                bl[i] = blocks[i].b;
                lens[i] = blocks[i].len;
            }
            /* local import: one group commit */
            snprintf(sub, sizeof sub, "local%u", th);
            sl = posix_store(sub);
            ll = open_l(sl, &n, th);
            TRY("setup block", hre_ledger_submit_block(ll, &st, setup.b, setup.len, g_now / 1000));
            t = bench_wall_s();
            c = bench_cpu_s();
            TRY("local import", hre_ledger_submit_blocks(ll, &connected, &st, bl, lens, nblocks, g_now / 1000));
            local_s[th] = bench_wall_s() - t;
            local_cpu[th] = bench_cpu_s() - c;
            if (connected != nblocks)
                die("local import connected count", HRE_ECORRUPT);
            free(bl);
            free(lens);
            /* sync: the local ledger serves a fresh node */
            snprintf(sub, sizeof sub, "sync%u", th);
            sc = posix_store(sub);
            lc = open_l(sc, &n, th);
            srv = node_up(0, ll, sl, n.nodekeys[0], NULL);
            cli = node_up(1, lc, sc, n.nodekeys[1], NULL);
            t = bench_wall_s();
            c = bench_cpu_s();
            (void)dial(cli, srv);
            while (tip_height(lc) < nblocks + 1)
                if (!pump())
                    die("sync stopped", HRE_ESTATE);
            sync_s[th] = bench_wall_s() - t;
            sync_cpu[th] = bench_cpu_s() - c;
            node_down(cli);
            node_down(srv);
            hre_ledger_close(lc);
            hre_ledger_close(ll);
            hre_storage_free(sc);
            hre_storage_free(sl);
            {
                char path[1024];
                snprintf(path, sizeof path, "%s/local%u", g_tmp, th);
                rm_dir(path);
                snprintf(path, sizeof path, "%s/sync%u", g_tmp, th);
                rm_dir(path);
            }
        }
        for (i = 0; i < nblocks; i++)
            free(blocks[i].b);
        free(blocks);
    }

    /* a small network for the channel, handshake and memory figures */
    {
        hre_storage *sa = NULL, *sb = NULL;
        hre_ledger *la, *lb;
        hre_ledger_status st;
        hre_node_options o;
        bnode *a, *b;
        hre_node_stats ns = HRE_NODE_STATS_INIT;
        double t;
        int k;
        TRY("mem", hre_storage_memory_new(&sa, 0));
        TRY("mem", hre_storage_memory_new(&sb, 0));
        la = open_l(sa, &n, 0);
        lb = open_l(sb, &n, 0);
        TRY("setup", hre_ledger_submit_block(la, &st, setup.b, setup.len, g_now / 1000));
        TRY("setup", hre_ledger_submit_block(lb, &st, setup.b, setup.len, g_now / 1000));
        TRY("options", hre_node_options_init(&o, HRE_NODE_OPTIONS_VERSION));
        o.app_rate_bytes = 1u << 30;
        o.app_rate_msgs = 1u << 20;
        o.peer_send_max = 64u << 20;
        o.max_peers = 200;
        a = node_up(0, la, sa, n.nodekeys[0], &o);
        b = node_up(1, lb, sb, n.nodekeys[1], &o);
        /* handshakes: connect, both ends ready, disconnect */
        a->on_event = count_ready;
        b->on_event = count_ready;
        t = bench_wall_s();
        for (k = 0; k < 200; k++) {
            bconn *cn;
            g_ready = 0;
            cn = dial(a, b);
            while (g_ready < 2)
                if (!pump())
                    die("handshake stopped", HRE_ESTATE);
            TRY("disconnect", hre_node_peer_disconnect(a->node, cn->ca, g_now));
            while (cn->used)
                (void)pump();
        }
        hs_per_s = 200 / (bench_wall_s() - t);
        /* idle peers: memory per ready connection */
        {
            uint64_t before;
            TRY("stats", hre_node_stats_get(a->node, &ns));
            before = ns.mem_used;
            g_ready = 0;
            for (k = 0; k < 100; k++)
                (void)dial(a, b);
            while (g_ready < 200)
                if (!pump())
                    die("idle peers", HRE_ESTATE);
            for (k = 0; k < 50; k++)
                (void)pump();
            TRY("stats", hre_node_stats_get(a->node, &ns));
            idle_bytes = (double)(ns.mem_used - before) / 100.0;
            for (k = 0; k < MAX_CONNS; k++)
                if (g_conns[k].used)
                    TRY("disconnect", hre_node_peer_disconnect(a->node, g_conns[k].ca, g_now));
            for (;;) {
                int any = 0;
                for (k = 0; k < MAX_CONNS; k++)
                    any |= g_conns[k].used;
                if (!any || !pump())
                    break;
            }
        }
        /* channel throughput */
        {
            bconn *cn;
            a->on_event = count_ready;
            g_ready = 0;
            cn = dial(a, b);
            while (g_ready < 2)
                if (!pump())
                    die("channel", HRE_ESTATE);
            TRY("register", hre_node_app_register(b->node, 1, app_sink, NULL));
            memset(g_chunk, 0x5a, sizeof g_chunk);
            g_sender = a;
            g_sconn = cn->ca;
            g_sent = g_recv = 0;
            g_target = (size_t)256u << 20;
            a->on_event = sender_events;
            t = bench_wall_s();
            pump_app();
            while (g_recv < g_target)
                if (!pump())
                    die("channel stopped", HRE_ESTATE);
            chan_mbps = (double)g_target / 1e6 / (bench_wall_s() - t);
            /* flood: 80 maximal junk messages from b's side of this channel */
            {
                hre_node__peer *p = hre_node__peer_find(b->node, cn->cb);
                uint8_t *junk = calloc(1, (size_t)n.params.max_block_size);
                if (!p || !junk)
                    die("flood setup", HRE_ENOMEM);
                for (k = 0; k < 5; k++)
                    (void)pump();
                TRY("stats", hre_node_stats_get(a->node, &ns));
                flood_base = (double)ns.mem_used;
                /* the peak so far is the channel test's: measure from a fresh peak */
                a->node->mem_peak = a->node->mem_used;
                for (k = 0; k < 80; k++) {
                    uint16_t cmd = k % 3 == 0 ? HRE_NODE__CMD_BLOCK : k % 3 == 1 ? HRE_NODE__CMD_TX : 777;
                    size_t len = k % 3 == 0 ? (size_t)n.params.max_block_size
                                 : k % 3 == 1 ? (size_t)HRE_TX_MAX_LEN : (size_t)HRE_NODE__UNKNOWN_CAP;
                    (void)hre_node__send(b->node, p, cmd, junk, len, NULL, 0);
                    hre_node__flush(b->node, p);
                }
                free(junk);
                for (k = 0; k < 100000 && (cn->ba.len > cn->ba.off); k++)
                    (void)pump();
                TRY("stats", hre_node_stats_get(a->node, &ns));
                flood_peak = (double)ns.mem_peak - flood_base;
            }
        }
        node_down(a);
        node_down(b);
        hre_ledger_close(la);
        hre_ledger_close(lb);
        hre_storage_free(sa);
        hre_storage_free(sb);
    }
    if (speed_s > 0) {
        gcm_mbps = speed_gcm(speed_s);
        x25519 = speed_x25519(speed_s);
        (void)bench_openssl_speed_ecdsap256(1, speed_s, &ecsign, &ecverify);
    }

    printf("{\n");
    printf("  \"bench\": \"node\",\n");
    printf("  \"sync\": {\"blocks\": %zu, \"txs_per_block\": %zu, \"bytes\": %zu, \"storage\": \"posix+fsync\",\n",
           nblocks, ntxs, total_bytes);
    for (unsigned th = 1; th <= 2; th++) {
        double ratio = sync_s[th] > 0 ? local_s[th] / sync_s[th] : 0;
        printf("    \"threads_%u\": {\"local_import_s\": %.3f, \"local_cpu_s\": %.3f, \"sync_s\": %.3f, "
               "\"sync_cpu_s\": %.3f, \"sync_blocks_per_s\": %.1f, \"ratio_sync_to_local\": %.3f, "
               "\"ratio_cpu\": %.3f, \"bar\": 0.9, \"meets_bar\": %s}%s\n",
               th, local_s[th], local_cpu[th], sync_s[th], sync_cpu[th],
               sync_s[th] > 0 ? (double)nblocks / sync_s[th] : 0, ratio,
               sync_cpu[th] > 0 ? local_cpu[th] / sync_cpu[th] : 0, ratio >= 0.9 ? "true" : "false",
               th == 1 ? "," : "");
    }
    printf("  },\n");
    printf("  \"channel\": {\"app_message_bytes\": %u, \"one_way_MBps\": %.1f, "
           "\"openssl_speed_aes_256_gcm_16k_MBps\": %.1f, \"ratio_2x_channel_to_openssl\": %.3f},\n",
           CHUNK, chan_mbps, gcm_mbps, gcm_mbps > 0 ? 2 * chan_mbps / gcm_mbps : 0);
    {
        double crypto_only = (x25519 > 0 && ecsign > 0 && ecverify > 0)
                                 ? 1.0 / (8.0 / x25519 + 2.0 / ecsign + 2.0 / ecverify) : 0;
        printf("  \"handshake\": {\"per_s\": %.1f, \"openssl_speed_ecdhx25519_ops\": %.1f, "
               "\"openssl_speed_ecdsap256_sign\": %.1f, \"openssl_speed_ecdsap256_verify\": %.1f, "
               "\"crypto_only_per_s\": %.1f, \"ratio_to_crypto_only\": %.3f, \"ratio_8x_to_x25519\": %.3f},\n",
               hs_per_s, x25519, ecsign, ecverify, crypto_only, crypto_only > 0 ? hs_per_s / crypto_only : 0,
               x25519 > 0 ? hs_per_s * 8 / x25519 : 0);
    }
    printf("  \"memory\": {\"bytes_per_idle_peer\": %.0f, \"flood_messages\": 80, \"flood_max_message_bytes\": %llu, "
           "\"peak_over_base_under_flood\": %.0f}\n",
           idle_bytes, (unsigned long long)n.params.max_block_size, flood_peak);
    printf("}\n");

    hre_key_free(n.auth);
    hre_key_free(n.patient);
    for (i = 0; i < N_ADMINS; i++)
        hre_key_free(n.admins[i]);
    hre_key_free(n.nodekeys[0]);
    hre_key_free(n.nodekeys[1]);
    free(setup.b);
    rm_dir(g_tmp);
    return 0;
}
