/*
 * hub_host: the in-process host glue for two libhre nodes on the hub
 * (<hre/sys/hub.h>), each with its own ledger on memory storage and,
 * optionally, a document exchange (<hre/vault.h>, hre_vault_xch). An
 * example built on the public API only, shared by examples/vault_flow.c
 * (the document exchange end to end) and bench/bench_exchange.c (its
 * throughput), so both drive the nodes exactly the same way.
 *
 * What it does, in one thread, on the hub's virtual clock:
 * - hub_net_start: a fresh network (an easy proof of work, a mined
 *   genesis, an authority key) and a hub with HUB_HOSTS endpoints, each a
 *   node on its own ledger; hub_net_free frees it all again;
 * - hub_run: the event loop -- hub events go to the node of their endpoint
 *   (connected, data, writable, closed, timer: hre_node_tick and
 *   hre_vault_xch_tick), every node's next timer re-armed on the hub
 *   (hub_rearm), until a condition holds or the clock passes a limit;
 * - node events go to the host's exchange (hre_vault_xch_handle_node_event)
 *   and, on a holder with hub_host.vault set, its ledger's contract events
 *   to hre_vault_handle_event (an ERASE_RECORD shreds the document at once);
 * - helpers for a scenario: submit a transaction to node 0 (hub_submit),
 *   mine a block on node 0 (hub_mine), connect node 1 to node 0 and wait
 *   until it is a live member and synced (hub_connect), the next nonce and
 *   time for a transaction (hub_nonce, hub_secs), two common transactions
 *   (hub_set_enc_key, hub_sign_record), keys (hub_gen, hub_wire,
 *   hub_addr), the two exchanges (hub_xch_start) and waiting for a fetch
 *   (hub_fetch_wait).
 * Every failure of a call that must not fail ends the program (hub_die,
 * HUB_CK): these are example programs, not a library.
 *
 * Use: define hub_prog (the program's name), keep one hub_net, call
 * hub_net_start, register the nodes on the chain (hub_submit, hub_mine),
 * hub_connect, then drive the scenario; hub_net_free at the end. Build it
 * with the program (examples/meson.build, bench/meson.build).
 *
 * Threads: one thread; no state but the hub_net and hub_submit's static
 * encoding buffer.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef HRE_EXAMPLES_HUB_HOST_H
#define HRE_EXAMPLES_HUB_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <hre/hre.h>
#include <hre/vault.h>
#include <hre/sys/hub.h>

/** The program's name, for hub_die's messages; each program defines it. */
extern const char hub_prog[];

/** Print "<hub_prog>: <what> failed (<rc>): <error detail>" and exit(1). */
void hub_die(const char *what, int rc);
/** A call that must return HRE_OK, or the program ends (hub_die). */
#define HUB_CK(call) do { int rc_ = (call); if (rc_ != HRE_OK) hub_die(#call, rc_); } while (0)

/** How many nodes a hub_net runs: [0] mines and takes the transactions
 *  (the holder of the documents), [1] connects to it (the reader). */
#define HUB_HOSTS 2

struct hub_net;

/** One node on the hub and what it owns. */
typedef struct hub_host {
    uint32_t ep;          /* its hub endpoint */
    hre_storage *st;      /* the ledger's memory storage */
    hre_ledger *l;
    hre_node *node;
    hre_key *id;          /* the node's identity */
    hre_vault_xch *x;     /* its document exchange, NULL until hub_xch_start */
    hre_vault *vault;     /* a holder's vault (the program's): gets the ledger's contract events */
    const char *name;     /* its hub address (hub_net_start's names[i]) */
    struct hub_net *net;
} hub_host;

/** The network, the hub and its nodes. */
typedef struct hub_net {
    hre_hub *hub;
    hub_host h[HUB_HOSTS];
    hre_chain_params params;
    hre_key *auth;        /* the network's authority key */
    uint8_t id[32];       /* the network id (the genesis hash) for transactions */
} hub_net;

/** A new key (P-256). */
hre_key *hub_gen(void);
/** out: k's public key in wire form (34 bytes). */
void hub_wire(uint8_t out[34], const hre_key *k);
/** out: k's account address (hre_contract_address). */
void hub_addr(uint8_t out[32], const hre_key *k);

/** Start the network and its nodes: the hub's clock at t0_ms, its seed,
 *  names[i] the hub address of node i (kept: it must outlive n). base: node options for every node
 *  (the ledger, identity, transport and event callback are set here), NULL
 *  for the defaults. */
void hub_net_start(hub_net *n, uint64_t t0_ms, uint64_t seed, const char *const names[HUB_HOSTS],
                   const hre_node_options *base);
/** Free the exchanges, nodes, ledgers, identities, the hub and the authority
 *  key (not the hosts' vaults: they are the program's). */
void hub_net_free(hub_net *n);

/** Set h's node's next timer on the hub (after anything that may change it). */
void hub_rearm(hub_host *h);
/** Dispatch hub events until cond(arg) (NULL: none) holds or the virtual
 *  clock passes limit_ms from now. Returns 1 if cond holds (or there is no
 *  cond), else 0. */
int hub_run(hub_net *n, int (*cond)(void *arg), void *arg, uint64_t limit_ms);

/** The next nonce of k's account on node 0's ledger. */
uint64_t hub_nonce(hub_net *n, const hre_key *k);
/** The hub's time in seconds (a transaction's time). */
uint64_t hub_secs(const hub_net *n);
/** Submit tx (freed here; NULL: a failed build) to node 0, which must accept
 *  it; txid (may be NULL): its txid. */
void hub_submit(hub_net *n, hre_tx *tx, uint8_t txid[32]);
/** A second on the clock, then node 0 mines a block; wait_sync: then wait
 *  until node 1 has it. */
void hub_mine(hub_net *n, int wait_sync);
/** Node 1 dials node 0, then waits until node 0 is its live member (both
 *  nodes registered on the chain) and both tips agree. */
void hub_connect(hub_net *n);

/** Submit SET_ENC_KEY, signed by signer: enc_key's public key is the
 *  encryption key of target (target_type: HRE_ENC_TARGET_*). */
void hub_set_enc_key(hub_net *n, const hre_key *signer, uint8_t target_type, const uint8_t target[32],
                     const hre_key *enc_key);
/** Submit SIGN_RECORD of record rec, signed by signer. */
void hub_sign_record(hub_net *n, const hre_key *signer, const uint8_t rec[32]);

/** The exchanges: node 0 holds vault with its own wrap (holder_type,
 *  holder_id, opened with holder_key), node 1 only fetches. (Whether node
 *  0's contract events reach the vault is hub_host.vault's, set apart.) */
void hub_xch_start(hub_net *n, hre_vault *vault, uint8_t holder_type, const uint8_t holder_id[32],
                   const hre_key *holder_key);
/** Run until fetch f (on node 1's exchange, just made) is done; returns its
 *  result code (hre_vault_fetch_status). No answer within limit_ms ends
 *  the program. */
int hub_fetch_wait(hub_net *n, hre_vault_fetch *f, uint64_t limit_ms);

#endif
