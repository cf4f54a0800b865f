/*
 * bench_node: the node (layer 6) as one JSON document on stdout, written
 * with the harness of bench_util.h (schema: bench/README.md), every figure
 * next to its reference measured in the same run.
 *
 *  - sync: a fresh node syncs B blocks of T transactions (default 1,000 x
 *    1,000 new_record transactions; HRE_BENCH_NODE_BLOCKS /
 *    HRE_BENCH_NODE_TXS) from one peer over the encrypted channel, on 1 and
 *    2 verifier threads; next to it the same blocks imported locally with
 *    hre_ledger_submit_blocks (one call) into a fresh ledger with the same
 *    thread count. The local import's ledger then serves the sync. Both on
 *    the POSIX backend (fsync) under $TMPDIR. Both nodes run in this thread
 *    (the server's block reads and encryption count against the sync). Bar:
 *    sync / local >= 0.9 in blocks per wall second (ratio_sync_vs_local);
 *    ratio_sync_vs_local_cpu is the same per process CPU second, which a
 *    loaded machine disturbs less.
 *  - channel: application messages of 64 KiB from one node to another
 *    (encrypt, frame, decrypt, dispatch; both ends in this thread), 256 MiB
 *    (HRE_BENCH_NODE_CHANNEL_MIB) in MB/s, against `openssl speed -evp
 *    aes-256-gcm -bytes 16384` (which only encrypts: ratio = 2 x channel /
 *    openssl);
 *  - handshakes per second (HRE_BENCH_NODE_HANDSHAKES, default 200; Noise XX
 *    with two X25519 key generations and six X25519 DH, two ECDSA P-256
 *    identity signatures and verifications, the version exchange) against
 *    `openssl speed ecdhx25519` and `ecdsap256` (ratio against the
 *    cryptography alone: 1 / (8/x25519 + 2/sign + 2/verify));
 *  - memory: bytes the node holds per idle ready peer (HRE_BENCH_NODE_PEERS,
 *    default 100), and its peak while one peer floods it with 80
 *    (HRE_BENCH_NODE_FLOOD) maximal junk messages (unrequested blocks,
 *    transactions, unknown commands).
 * The loopback is a byte queue per direction (a 4 MiB "socket buffer": a
 * fuller one refuses with HRE_EAGAIN until it drains) delivered 64 KiB at a
 * time, push mode, on a virtual millisecond clock. White-box (the flood uses the
 * node's internal send), so it links the static test library.
 * Environment (bench/README.md): HRE_BENCH_NODE_BLOCKS, HRE_BENCH_NODE_TXS,
 * HRE_BENCH_NODE_CHANNEL_MIB, HRE_BENCH_NODE_HANDSHAKES, HRE_BENCH_NODE_PEERS,
 * HRE_BENCH_NODE_FLOOD, HRE_BENCH_SKIP_SYNC=1, HRE_BENCH_SPEED_SECONDS
 * (openssl speed -seconds, default 1; 0 skips), OPENSSL, TMPDIR.
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

#include "bench_block.h"
#include "bench_util.h"

#define T0 1700000000u
#define EASY 0x207fffffu
#define N_ADMINS 4
#define CHUNK 65536u
#define SOCKBUF (4u << 20)

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_node: %s failed: %s (%s)\n", what, hre_strerror(rc), hre_error_detail());
    exit(1);
}
#define TRY(what, call) do { int rc_ = (call); if (rc_ != HRE_OK) die(what, rc_); } while (0)

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

typedef bench_blk blk;

static blk make_block(const uint8_t prev[32], uint32_t time, hre_tx **txs, size_t n, uint8_t hash[32])
{
    blk out;
    TRY("mined block", bench_mined_block(&out, hash, prev, time, EASY, txs, n));
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
#define MAX_PEERS 120   /* idle peers at most (HRE_BENCH_NODE_PEERS): both ends count against max_peers */

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
    bq *q;
    if (!c)
        return HRE_EIO;
    q = side ? &c->ba : &c->ab;
    /* a socket buffer of 4 MiB: full, the node keeps the rest */
    if (q->len - q->off >= SOCKBUF) {
        if (side)
            c->blk_b = 1;
        else
            c->blk_a = 1;
        return HRE_EAGAIN;
    }
    q_put(q, data, len);
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
        if (c->blk_a && c->ab.len - c->ab.off < SOCKBUF / 4) {
            c->blk_a = 0;
            (void)hre_node_peer_writable(g_nodes[c->a].node, c->ca, g_now);   /* ENOTFOUND: gone */
            moved = 1;
        }
        if (c->blk_b && c->ba.len - c->ba.off < SOCKBUF / 4) {
            c->blk_b = 0;
            (void)hre_node_peer_writable(g_nodes[c->b].node, c->cb, g_now);
            moved = 1;
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

#define SPEED_BYTES 16384   /* openssl speed message size for aes-256-gcm */

/* MB/s (10^6 bytes) of `openssl speed -evp aes-256-gcm -bytes 16384`, 0 if it did not run. */
static double speed_gcm(int seconds)
{
    double mbs = 0;
    return bench_speed_bytes("-evp aes-256-gcm", SPEED_BYTES, 1, seconds, &mbs, NULL) ? mbs : 0;
}

/* `openssl speed ecdhx25519` ops per CPU second, 0 if it did not run. */
static double speed_x25519(int seconds)
{
    double ops = 0;
    return bench_speed_ecdh("ecdhx25519", 1, seconds, &ops) ? ops : 0;
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
    const char *tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    size_t nblocks = (size_t)bench_env_long("HRE_BENCH_NODE_BLOCKS", 1000);
    size_t ntxs = (size_t)bench_env_long("HRE_BENCH_NODE_TXS", 1000);
    size_t chan_mib = (size_t)bench_env_long("HRE_BENCH_NODE_CHANNEL_MIB", 256);
    int nhs = (int)bench_env_long("HRE_BENCH_NODE_HANDSHAKES", 200);
    int npeers = (int)bench_env_long("HRE_BENCH_NODE_PEERS", 100);
    int nflood = (int)bench_env_long("HRE_BENCH_NODE_FLOOD", 80);
    int speed_s = bench_speed_seconds(1);
    int skip_sync = bench_env_long("HRE_BENCH_SKIP_SYNC", 0) != 0;
    bench_json js;
    char speed_cmd[256];
    int rc;
    blk setup, *blocks = NULL;
    uint8_t prev[32], hash[32];
    uint64_t admin_nonce[N_ADMINS] = { 0 };
    double local_s[3] = { 0 }, sync_s[3] = { 0 }, local_cpu[3] = { 0 }, sync_cpu[3] = { 0 };
    double chan_mbps = 0, chan_cpu_mbps = 0, gcm_mbps = 0, hs_per_s = 0, hs_cpu_per_s = 0, x25519 = 0, ecsign = 0, ecverify = 0;
    double idle_bytes = 0, flood_peak = 0, flood_base = 0;
    size_t i, j, total_bytes = 0;

    if (nblocks < 1 || ntxs < 1)
        die("HRE_BENCH_NODE_BLOCKS / HRE_BENCH_NODE_TXS must be >= 1", HRE_EINVAL);
    if (chan_mib < 1 || nhs < 1 || npeers < 1 || npeers > MAX_PEERS || nflood < 1)
        die("HRE_BENCH_NODE_CHANNEL_MIB / _HANDSHAKES / _FLOOD must be >= 1, _PEERS in 1..120", HRE_EINVAL);
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
        double t, tc;
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
        o.max_peers = 2 * MAX_PEERS;
        a = node_up(0, la, sa, n.nodekeys[0], &o);
        b = node_up(1, lb, sb, n.nodekeys[1], &o);
        /* handshakes: connect, both ends ready, disconnect */
        a->on_event = count_ready;
        b->on_event = count_ready;
        t = bench_wall_s();
        tc = bench_thread_cpu_s();
        for (k = 0; k < nhs; k++) {
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
        hs_per_s = nhs / (bench_wall_s() - t);
        hs_cpu_per_s = nhs / (bench_thread_cpu_s() - tc);
        /* idle peers: memory per ready connection */
        {
            uint64_t before;
            TRY("stats", hre_node_stats_get(a->node, &ns));
            before = ns.mem_used;
            g_ready = 0;
            for (k = 0; k < npeers; k++)
                (void)dial(a, b);
            while (g_ready < 2 * npeers)
                if (!pump())
                    die("idle peers", HRE_ESTATE);
            for (k = 0; k < 50; k++)
                (void)pump();
            TRY("stats", hre_node_stats_get(a->node, &ns));
            idle_bytes = (double)(ns.mem_used - before) / npeers;
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
            g_target = chan_mib << 20;
            a->on_event = sender_events;
            t = bench_wall_s();
            tc = bench_thread_cpu_s();
            pump_app();
            while (g_recv < g_target)
                if (!pump())
                    die("channel stopped", HRE_ESTATE);
            chan_mbps = (double)g_target / 1e6 / (bench_wall_s() - t);
            chan_cpu_mbps = (double)g_target / 1e6 / (bench_thread_cpu_s() - tc);
            /* flood: nflood maximal junk messages from b's side of this channel */
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
                for (k = 0; k < nflood; k++) {
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
        (void)bench_speed_ecdsa("ecdsap256", 1, speed_s, &ecsign, &ecverify);
    }

    bench_json_begin(&js, stdout);
    bench_json_head(&js, "node");
    bench_json_int(&js, "blocks", skip_sync ? 0 : (long long)nblocks);
    bench_json_int(&js, "txs_per_block", skip_sync ? 0 : (long long)ntxs);
    bench_json_str(&js, "tx_kind", "new_record from 4 hospital admins");
    bench_json_str(&js, "sync_storage", "posix, fsync");
    bench_json_str(&js, "tmpdir", tmpdir);
    bench_json_int(&js, "app_message_bytes", CHUNK);
    bench_json_int(&js, "channel_bytes", (long long)(chan_mib << 20));
    bench_json_int(&js, "handshakes", nhs);
    bench_json_int(&js, "idle_peers", npeers);
    bench_json_int(&js, "flood_messages", nflood);
    bench_json_int(&js, "socket_buffer_bytes", SOCKBUF);
    bench_json_int(&js, "delivery_chunk_bytes", CHUNK);
    bench_json_str(&js, "openssl_speed_command",
                   bench_speed_command(speed_cmd, sizeof speed_cmd, 1, speed_s,
                                       "-bytes 16384 -evp aes-256-gcm | ecdhx25519 | ecdsap256"));
    bench_json_end_object(&js);

    bench_json_object(&js, "results");
    if (!skip_sync) {
        bench_json_object(&js, "sync");
        bench_json_int(&js, "blocks_count", (long long)nblocks);
        bench_json_int(&js, "txs_count", (long long)(nblocks * ntxs));
        bench_json_int(&js, "blocks_bytes", (long long)total_bytes);
        for (unsigned th = 1; th <= 2; th++) {
            double lr = local_s[th] > 0 ? (double)nblocks / local_s[th] : 0;
            double sr = sync_s[th] > 0 ? (double)nblocks / sync_s[th] : 0;
            double lrc = local_cpu[th] > 0 ? (double)nblocks / local_cpu[th] : 0;
            double src = sync_cpu[th] > 0 ? (double)nblocks / sync_cpu[th] : 0;
            bench_json_object(&js, th == 1 ? "threads_1" : "threads_2");
            bench_json_num(&js, "local_import_seconds", local_s[th], 3);
            bench_json_num(&js, "local_import_cpu_seconds", local_cpu[th], 3);
            bench_json_num(&js, "local_import_blocks_per_s", lr, 2);
            bench_json_num(&js, "local_import_tx_per_s", lr * (double)ntxs, 0);
            bench_json_num(&js, "sync_seconds", sync_s[th], 3);
            bench_json_num(&js, "sync_cpu_seconds", sync_cpu[th], 3);
            bench_json_num(&js, "sync_blocks_per_s", sr, 2);
            bench_json_num(&js, "sync_tx_per_s", sr * (double)ntxs, 0);
            bench_json_ratio(&js, "ratio_sync_vs_local", sr, lr);
            bench_json_ratio(&js, "ratio_sync_vs_local_cpu", src, lrc);
            bench_json_num(&js, "bar_ratio", 0.9, 1);
            bench_json_bool(&js, "meets_bar", lr > 0 && sr / lr >= 0.9);
            bench_json_end_object(&js);
        }
        bench_json_end_object(&js);
    }
    bench_json_object(&js, "channel");
    bench_json_num(&js, "one_way_mb_per_s", chan_mbps, 1);
    bench_json_num(&js, "one_way_mb_per_cpu_s", chan_cpu_mbps, 1);
    bench_json_opt(&js, "openssl_speed_aes_256_gcm_mb_per_cpu_s", gcm_mbps > 0, gcm_mbps, 1);
    bench_json_ratio(&js, "ratio_2x_channel_cpu_vs_openssl_speed", 2 * chan_cpu_mbps, gcm_mbps);
    bench_json_ratio(&js, "ratio_2x_channel_vs_openssl_speed", 2 * chan_mbps, gcm_mbps);
    bench_json_end_object(&js);
    {
        double crypto_only = (x25519 > 0 && ecsign > 0 && ecverify > 0)
                                 ? 1.0 / (8.0 / x25519 + 2.0 / ecsign + 2.0 / ecverify) : 0;
        bench_json_object(&js, "handshake");
        bench_json_num(&js, "handshakes_per_s", hs_per_s, 1);
        bench_json_num(&js, "handshakes_per_cpu_s", hs_cpu_per_s, 1);
        bench_json_opt(&js, "openssl_speed_ecdhx25519_per_cpu_s", x25519 > 0, x25519, 1);
        bench_json_ratio(&js, "ratio_8x_vs_openssl_speed_ecdhx25519", 8 * hs_cpu_per_s, x25519);
        bench_json_opt(&js, "openssl_speed_ecdsap256_sign_per_cpu_s", ecsign > 0, ecsign, 1);
        bench_json_opt(&js, "openssl_speed_ecdsap256_verify_per_cpu_s", ecverify > 0, ecverify, 1);
        bench_json_opt(&js, "crypto_only_per_cpu_s", crypto_only > 0, crypto_only, 1);
        bench_json_ratio(&js, "ratio_vs_crypto_only", hs_cpu_per_s, crypto_only);
        bench_json_ratio(&js, "ratio_wall_vs_crypto_only", hs_per_s, crypto_only);
        bench_json_end_object(&js);
    }
    bench_json_object(&js, "memory");
    bench_json_int(&js, "idle_peers_count", npeers);
    bench_json_num(&js, "per_idle_peer_bytes", idle_bytes, 0);
    bench_json_int(&js, "flood_messages_count", nflood);
    bench_json_int(&js, "flood_max_message_bytes", (long long)n.params.max_block_size);
    bench_json_num(&js, "flood_peak_over_base_bytes", flood_peak, 0);
    bench_json_end_object(&js);
    bench_json_end_object(&js);

    bench_json_object(&js, "notes");
    bench_json_str(&js, "sync", skip_sync
                   ? "skipped (HRE_BENCH_SKIP_SYNC=1)"
                   : "local_import: one hre_ledger_submit_blocks call of every block into a fresh "
                     "ledger on the verifier threads (threads_1, threads_2); sync: a fresh node with "
                     "the same thread count fetches the same blocks from a node serving that ledger, "
                     "both nodes in this thread, until its tip is the last block; POSIX storage with "
                     "fsync under tmpdir. ratio_sync_vs_local: blocks per wall second (bar 0.9); "
                     "_cpu: per process CPU second");
    bench_json_str(&js, "channel", "channel_bytes of app_message_bytes application messages one way "
                   "(encrypt, frame, decrypt, dispatch: both ends in this thread); _per_cpu_s: per CPU "
                   "second of this thread. openssl speed aes-256-gcm (16 KiB, single process, per CPU "
                   "second) only encrypts, so the ratios compare twice the channel's rate with it");
    bench_json_str(&js, "handshake", "connect, Noise XX and version exchange until both ends are "
                   "ready, disconnect; both ends in this thread (_per_cpu_s: its CPU time). "
                   "crypto_only: 1 / (8/x25519 + 2/sign + 2/verify) from the openssl speed figures "
                   "(two X25519 key generations and six DH, two P-256 signatures and verifications "
                   "per handshake, both ends)");
    bench_json_str(&js, "memory", "hre_node_stats_get mem_used growth of one node per idle ready peer; "
                   "flood: its mem_peak over the level before, while one peer sends flood_messages "
                   "junk messages (unrequested blocks of max_block_size, transactions of the largest "
                   "size, unknown commands) in turn. No reference figure");
    bench_json_str(&js, "loopback", "a byte queue per direction, socket_buffer_bytes before HRE_EAGAIN, "
                   "delivered delivery_chunk_bytes at a time on a virtual millisecond clock");
    if (speed_s <= 0 || gcm_mbps <= 0 || x25519 <= 0 || ecsign <= 0)
        bench_json_str(&js, "references", "an openssl speed reference is missing (not installed, "
                       "failed, or HRE_BENCH_SPEED_SECONDS=0): it and its ratios are null");
    bench_json_end_object(&js);
    rc = bench_json_end(&js);

    hre_key_free(n.auth);
    hre_key_free(n.patient);
    for (i = 0; i < N_ADMINS; i++)
        hre_key_free(n.admins[i]);
    hre_key_free(n.nodekeys[0]);
    hre_key_free(n.nodekeys[1]);
    free(setup.b);
    rm_dir(g_tmp);
    return rc == 0 ? 0 : 1;
}
