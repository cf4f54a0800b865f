/*
 * Fuzz target: the node's handshake and framing state machine, bytes in in
 * any split. A node (pull mode, on a fresh memory ledger of a fixed
 * network) gets one inbound connection and:
 *  mode 0: the input as raw bytes (handshake frames, anything);
 *  mode 1: an honest Noise handshake and version exchange by the target,
 *          then the input as the decrypted message stream (the target
 *          encrypts it: message headers, caps, dispatch, every handler);
 *  mode 2: the same handshake, then the input as raw transport frames
 *          (lengths, tags, nonces).
 * Input: mode byte, chunk byte (bytes per recv call: 1 + 37 * chunk), data.
 * Between chunks the clock moves and the node's timers run; at the end the
 * clock jumps an hour (every timeout fires) and the connection closes.
 * Invariants (abort on violation): recv returns HRE_OK, HRE_EPROTO or (once
 * dropped) HRE_ENOTFOUND; the node never becomes fatal; its memory stays
 * under its cap; after the close it holds no peer; no crash or leak.
 * Seeds: tests/fuzz/corpus/node_wire/ (written by the "node" Check suite's
 * test_write_fuzz_seeds with HRE_NODE_CORPUS_DIR set).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>
#include <hre/sys/transport.h>

#include "node/internal.h"
#include "node_fuzz_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t g_buf[1 << 17];

static void drain(hre_node *n)
{
    uint64_t conn;
    size_t len;
    do {
        len = sizeof g_buf;
    } while (hre_node_pull(n, &conn, g_buf, &len) == HRE_OK);
}

static void feed(hre_node *n, uint64_t *now, const uint8_t *d, size_t len, size_t chunk, int *gone, int keep)
{
    size_t off = 0;
    while (off < len && !*gone) {
        size_t k = len - off < chunk ? len - off : chunk;
        int rc = hre_node_peer_recv(n, 1, d + off, k, *now);
        if (rc == HRE_EPROTO || rc == HRE_ENOTFOUND)
            *gone = 1;
        else if (rc != HRE_OK)
            abort();
        off += k;
        *now += 7;
        if (hre_node_tick(n, *now) != HRE_OK) abort();
        if (!keep)
            drain(n);
    }
}

/* Take the node's queued bytes for conn 1 into g_buf. */
static size_t take(hre_node *n)
{
    size_t len = sizeof g_buf;
    if (hre_node_peer_pull(n, 1, g_buf, &len) != HRE_OK) return 0;
    return len;
}

static void seal(hre_noise__transport *tr, hre_node *n, uint64_t *now, const uint8_t *pt, size_t len, int *gone)
{
    uint8_t fr[HRE_NOISE__MAX_MSG + 2];
    size_t cl = HRE_NOISE__MAX_MSG;
    if (hre_noise__transport_write(tr, fr + 2, &cl, pt, len) != HRE_OK) abort();
    fr[0] = (uint8_t)(cl >> 8);
    fr[1] = (uint8_t)cl;
    feed(n, now, fr, cl + 2, cl + 2, gone, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nf_net net;
    hre_node *n;
    hre_node_stats st = HRE_NODE_STATS_INIT;
    uint64_t now = NF_NOW_MS;
    size_t chunk;
    int mode, gone = 0;
    hre_noise__hs *hs = NULL;
    hre_noise__transport tr;
    hre_x25519__key s;

    if (size < 2) return 0;
    mode = data[0] % 3;
    chunk = 1 + 37u * data[1];
    memset(&tr, 0, sizeof tr);
    memset(&s, 0, sizeof s);
    nf_net_open(&net, &n, now);
    if (hre_node_peer_connected(n, 1, "", 0, now) != HRE_OK) abort();
    if (mode == 0) {
        feed(n, &now, data + 2, size - 2, chunk, &gone, 0);
    } else {
        hre_noise__config cfg;
        uint8_t prologue[HRE_NODE__PROLOGUE_LEN], hello[HRE_NODE__HELLO_LEN], m[512], pl[512], fr[520];
        size_t ml = sizeof m, pll = sizeof pl, got;
        if (hre_x25519__generate(&s) != HRE_OK) abort();
        hre_node__prologue(prologue, net.id);
        hre_node__hello_encode(hello, net.id);
        memset(&cfg, 0, sizeof cfg);
        cfg.protocol = HRE_NODE__NOISE_NAME;
        cfg.initiator = 1;
        cfg.prologue = prologue;
        cfg.prologuelen = sizeof prologue;
        cfg.s = &s;
        if (hre_noise__hs_new(&hs, &cfg) != HRE_OK) abort();
        if (hre_noise__hs_write(hs, m, &ml, hello, sizeof hello) != HRE_OK) abort();
        fr[0] = (uint8_t)(ml >> 8);
        fr[1] = (uint8_t)ml;
        memcpy(fr + 2, m, ml);
        feed(n, &now, fr, ml + 2, ml + 2, &gone, 1);
        got = take(n);
        if (gone || got < 2 || hre_noise__hs_read(hs, pl, &pll, g_buf + 2, got - 2) != HRE_OK) abort();
        ml = sizeof m;
        {
            uint8_t id[2] = { 1, 0 };
            if (hre_noise__hs_write(hs, m, &ml, id, 2) != HRE_OK) abort();
        }
        fr[0] = (uint8_t)(ml >> 8);
        fr[1] = (uint8_t)ml;
        memcpy(fr + 2, m, ml);
        if (hre_noise__hs_split(hs, &tr) != HRE_OK) abort();
        feed(n, &now, fr, ml + 2, ml + 2, &gone, 0);
        {
            hre_node__version v;
            uint8_t msg[HRE_NODE__MSG_HDR + HRE_NODE__VERSION_LEN + HRE_NODE__MSG_HDR];
            memset(&v, 0, sizeof v);
            v.protocol = HRE_NODE_PROTOCOL_VERSION;
            memcpy(v.network_id, net.id, 32);
            if (hre_ledger_fingerprint(net.l, v.fingerprint) != HRE_OK) abort();
            v.nonce = 77;
            hre_node__msg_header(msg, net.id, HRE_NODE__CMD_VERSION, HRE_NODE__VERSION_LEN);
            hre_node__version_encode(msg + HRE_NODE__MSG_HDR, &v);
            hre_node__msg_header(msg + HRE_NODE__MSG_HDR + HRE_NODE__VERSION_LEN, net.id, HRE_NODE__CMD_VERACK, 0);
            seal(&tr, n, &now, msg, sizeof msg, &gone);
        }
        drain(n);
        if (mode == 1) {
            size_t off = 2;
            while (off < size && !gone) {
                size_t k = size - off < chunk ? size - off : chunk;
                if (k > HRE_NOISE__MAX_PAYLOAD) k = HRE_NOISE__MAX_PAYLOAD;
                seal(&tr, n, &now, data + off, k, &gone);
                off += k;
            }
        } else {
            feed(n, &now, data + 2, size - 2, chunk, &gone, 0);
        }
    }
    now += 3600u * 1000u;
    if (hre_node_tick(n, now) != HRE_OK) abort();
    drain(n);
    if (hre_node_stats_get(n, &st) != HRE_OK) abort();
    if (st.mem_peak > st.mem_cap || hre_node_fatal_error(n) != HRE_OK) abort();
    {
        int rc = hre_node_peer_closed(n, 1, now);
        if (rc != HRE_OK && rc != HRE_ENOTFOUND) abort();
    }
    if (hre_node_stats_get(n, &st) != HRE_OK || st.peers != 0) abort();
    hre_noise__hs_free(hs);
    hre_noise__transport_clear(&tr);
    hre_x25519__clear(&s);
    nf_net_close(&net, n);
    return 0;
}
