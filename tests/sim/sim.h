/*
 * The deterministic network simulation (tests/sim): honest nodes (real
 * hre_node engines on ledgers kept on power-loss storage) and byzantine
 * peers (sim_byz.c) on one loopback hub (<hre/sys/hub.h>), driven by one
 * event loop on the hub's virtual clock. Everything random comes from the
 * seed: the hub's PRNG, the driver's PRNG and OpenSSL's randomness
 * (sim_rand.c), so a seed replays bit for bit.
 *
 * A run (sim_run):
 *   setup     every honest node gets the same chain: genesis and a block that
 *             registers every honest node key (REGISTER_NODE), so they are
 *             live members and relay transactions;
 *   faults    for fault_ms: hub faults (drop, duplicate, reorder, delay,
 *             corrupt, split, reset, refused connects) at per-seed rates,
 *             a partition schedule (one node isolated, the network split in
 *             halves, one node cut off one way), honest nodes crashed on
 *             their power-loss storage (DROP or TEAR) and restarted, miners
 *             mining, transactions submitted, byzantine peers injecting
 *             invalid blocks and headers;
 *   settle    the faults stop (latency stays), partitions heal, every node
 *             is up, one miner breaks ties; the run must converge (every
 *             honest node on the same tip with the same state hash) within
 *             settle_ms (liveness); when nodes are live members the mempools
 *             must agree too (a failure with mempool_strict, else recorded
 *             in the result; mempool_strict is the default, tests/sim/sim_main.c).
 * The oracle, all along: no honest node ever connects a block of the
 * invalid set (every block a byzantine peer made; ledger events checked as
 * they happen); no honest node ever discourages an honest peer; a restarted
 * node keeps every block it had reported connected. At the end: every
 * honest ledger passes hre_ledger_verify_chain, and a fresh ledger that
 * imports the reference node's main chain block by block reaches the same
 * tip and state hash.
 *
 * Tests only; white-box (the byzantine peer uses the node's internal Noise
 * core and codecs).
 */
#ifndef HRE_SIM_H
#define HRE_SIM_H

#include <stddef.h>
#include <stdint.h>

#define SIM_MAX_NODES 64

typedef struct sim_config {
    uint64_t seed;
    int honest;                  /* honest nodes */
    int byzantine;               /* byzantine peers */
    int miners;                  /* honest nodes that mine (the first ones) */
    int target_outbound;         /* hre_node_options.target_outbound */
    uint64_t fault_ms;           /* length of the fault phase; 0: no fault phase */
    uint64_t settle_ms;          /* liveness bound after the faults stop */
    uint64_t block_ms;           /* mean time between blocks of one miner */
    uint64_t tx_ms;              /* mean time between transactions (0: none) */
    int crashes;                 /* crash/restart episodes of honest nodes */
    int partitions;              /* 1: the partition schedule */
    int net_faults;              /* 1: hub faults during the fault phase */
    uint32_t delay_min_ms;       /* latency, all the time */
    uint32_t delay_max_ms;
    int mempool_strict;          /* 1: differing mempools fail the run (else recorded) */
    int verbose;                 /* 1: events on stderr; 2: also the hub's fault log */
} sim_config;

/* The defaults of a CI run: 16 nodes (13 honest, 3 byzantine), faults on. */
void sim_config_default(sim_config *c, uint64_t seed);

typedef struct sim_result {
    int ok;                      /* 1: every property held */
    char why[1024];              /* the first violation */
    uint64_t wall_us;            /* real time of the run */
    uint64_t end_ms;             /* virtual time at the end (from the start) */
    uint64_t converge_ms;        /* from the end of the faults to convergence */
    uint64_t tip_height;
    uint8_t tip[32];
    uint8_t state[32];
    uint8_t trace[32];           /* the hub's trace digest */
    uint64_t events;             /* hub events */
    uint64_t blocks_mined;
    uint64_t blocks_connected;   /* BLOCK_CONNECTED events over all honest nodes */
    uint64_t reorgs;             /* BLOCK_DISCONNECTED events */
    uint64_t txs_submitted;
    uint64_t txs_accepted_relay; /* TX_ACCEPTED events (a tx from a peer) */
    uint64_t invalid_made;       /* blocks in the invalid set */
    uint64_t byz_attacks;        /* attacks a byzantine peer got to send */
    uint64_t byz_refused;        /* byzantine peers disconnected and discouraged */
    uint64_t crashes, restarts;
    uint64_t disconnects;        /* PEER_DISCONNECTED events */
    uint64_t tick_clamps;        /* timers "due now" right after a tick, moved 1 ms on */
    int mempool_differ;          /* converged, but some transaction never reached some mempool */
    uint64_t read_pauses;        /* connections paused for hre_node_peer_want_read */
    uint64_t dropped, duplicated, reordered, corrupted, split, resets, cut; /* hub */
} sim_result;

/* One run. Returns res->ok. */
int sim_run(const sim_config *cfg, sim_result *res);

/* Transaction relay (bench_relay): a healthy network of cfg->honest nodes
 * (no faults, no byzantine peers, no mining), n transactions submitted at
 * random nodes one every gap_ms; for each, the virtual time until every
 * honest node's mempool holds it. lat_ms[i] gets it (UINT64_MAX: never
 * reached every node within wait_ms). hops[i]: the largest hop count from
 * the origin in the connection graph at submit time. Returns 1 on success,
 * 0 if the network could not be set up (why says so). */
int sim_relay(const sim_config *cfg, int n, uint64_t gap_ms, uint64_t wait_ms, uint64_t *lat_ms,
              int *hops, char *why, size_t why_len);

/* 1 if this build can relay transactions (the contract has REGISTER_NODE,
 * so nodes can be live members). */
int sim_can_relay(void);

#endif
