/*
 * A tiny deterministic in-test loopback for the node tests (tests only):
 * nodes on memory ledgers, connections as byte queues between endpoints,
 * a virtual clock in milliseconds, push or pull mode, optional delivery in
 * small chunks, and white-box "raw peers" that speak the wire protocol by
 * hand. The fault-injecting hub is lib/transport (another module).
 */
#ifndef HRE_TEST_NODE_HARNESS_H
#define HRE_TEST_NODE_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <hre/hre.h>
#include <hre/sys/transport.h>

#define TN_MAX_NODES 8
#define TN_MAX_EPS 128
#define TN_T0_MS 1700000000000ull
#define TN_EASY 0x207fffffu

typedef struct tn_event {
    unsigned int type;
    uint64_t conn;
    int reason;
    int discouraged;
    int member;
    uint8_t hash[32];
    char detail[160];
} tn_event;

struct tn_net;

typedef struct tn_node {
    struct tn_net *net;
    int idx;
    char name[32];
    hre_storage *st;
    hre_ledger *l;
    hre_node *node;
    hre_key *id;                 /* identity (may be NULL) */
    hre_node_options opts;       /* as used at new (tests may tweak before tn_start) */
    int pull;                    /* pull mode (no send) */
    unsigned int verify_threads; /* the ledger's pool (set before tn_node_add's open: use tn_node_add2) */
    size_t send_limit;           /* push: take at most this many bytes per send (0: all) */
    int eagain;                  /* push: refuse sends (HRE_EAGAIN) while set */
    tn_event *ev;
    size_t n_ev, cap_ev;
    uint64_t ledger_connected;   /* BLOCK_CONNECTED events seen */
    uint64_t ledger_disconnected;
} tn_node;

typedef struct tn_ep {
    int used;
    int node;                    /* owning node index, or -1: raw peer */
    uint64_t conn;               /* the id this end is known by at its node */
    int other;                   /* endpoint index of the other end */
    uint8_t *q;                  /* bytes sent by this end, not yet delivered: q[qoff..qlen) */
    size_t qoff, qlen, qcap;
    int blocked;                 /* its node's send was cut short: call peer_writable */
    int closed;                  /* this end closed (other end to be told) */
    int told;                    /* the other end was told */
    int connected_pending;       /* peer_connected still to be called for this end */
    unsigned int flags;
    char addr[64];               /* the address this end's node sees for the other */
    void *raw;                   /* raw peer (node == -1) */
    void (*raw_fn)(void *raw, const uint8_t *data, size_t len);
} tn_ep;

typedef struct tn_net {
    hre_chain_params params;
    hre_key *auth;
    uint8_t auth_wire[34];
    uint8_t id[32];
    uint64_t now;
    tn_node nodes[TN_MAX_NODES];
    int n_nodes;
    tn_ep eps[TN_MAX_EPS];
    uint64_t next_conn;
    uint64_t auth_nonce;         /* the authority's next nonce (tn_auth_*) */
    size_t chunk;                /* deliver at most this many bytes per recv (0: all) */
    uint64_t delivered;
} tn_net;

void tn_net_init(tn_net *t, uint64_t max_block_size);
void tn_net_free(tn_net *t);
/* A node on a fresh memory ledger (or on st when given: reopened). Options
 * can be changed in n->opts before tn_start. */
tn_node *tn_node_add(tn_net *t, const char *name, hre_key *identity, hre_storage *st);
void tn_start(tn_node *n);
void tn_stop(tn_node *n, int keep_storage);     /* free node and ledger (and storage unless kept) */
/* Reopen a node stopped with keep_storage: its ledger on the same storage
 * (the options n->opts keep their tweaks), then tn_start. */
void tn_restart(tn_node *n);
/* Open a connection a -> b (a outbound). Returns the endpoint index of a's end. */
int tn_connect(tn_net *t, tn_node *a, tn_node *b);
/* Deliver queued bytes and run timers until cond(t, arg) holds or `limit_ms`
 * of virtual time passed. Returns 1 if cond held. */
int tn_run(tn_net *t, int (*cond)(tn_net *, void *), void *arg, uint64_t limit_ms);
/* Deliver until nothing moves (no clock advance beyond `limit_ms`). */
void tn_settle(tn_net *t, uint64_t limit_ms);
/* Mine count blocks on n (hre_node_mine), advancing the clock 1 s each. */
void tn_mine(tn_node *n, int count);
uint64_t tn_height(tn_node *n);
void tn_tip(tn_node *n, uint8_t hash[32]);
const tn_event *tn_find_event(const tn_node *n, unsigned int type, int reason);
size_t tn_count_events(const tn_node *n, unsigned int type, int reason);
void tn_key_wire(hre_key *k, uint8_t wire[34]);
/* The endpoint at node n with connection id conn (-1 if none). */
int tn_ep_of(tn_net *t, int node, uint64_t conn);
/* Connection id at node b of its connection with a (0 if none). */
uint64_t tn_conn_at(tn_net *t, tn_node *at, tn_node *other);
/* A raw peer (the test speaks the protocol itself): the node n gets a
 * connection (flags: 0 = inbound at n, HRE_NODE_PEER_OUTBOUND = n thinks it
 * dialled), the raw side receives n's bytes through fn. Returns the raw
 * end's endpoint index. */
int tn_raw_attach(tn_net *t, tn_node *n, void *raw, void (*fn)(void *, const uint8_t *, size_t),
                  unsigned int node_flags, const char *addr);
void tn_raw_write(tn_net *t, int ep, const uint8_t *d, size_t len);
/* The raw end hangs up (the node is told with hre_node_peer_closed). */
void tn_raw_close(tn_net *t, int ep);
/* 1 while the node end of the raw end's connection is open. */
int tn_raw_open(tn_net *t, int ep);

/* Transactions the authority (or another signer) sends, submitted to n
 * through hre_node_submit_tx (which must accept them). tn_register_node
 * registers key as a node of the genesis organisation; tn_register_org
 * registers an organisation with admin as its first admin and returns its
 * id; *nonce is the signer's next nonce (updated). */
void tn_submit(tn_node *n, const hre_tx *tx);
void tn_register_node(tn_node *n, hre_key *signer, uint64_t *nonce, hre_key *node_key);
void tn_register_org(tn_node *n, hre_key *admin, uint8_t org_id[32]);
/* 1 when the ledger's mempool of n holds txid. */
int tn_in_mempool(tn_node *n, const uint8_t txid[32]);

/* A register-patient transaction, encoded. */
size_t tn_tx_patient(tn_net *t, uint8_t *out, size_t cap, hre_key *k, uint64_t nonce);

#endif
