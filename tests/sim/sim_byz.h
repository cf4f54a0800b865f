/*
 * A byzantine peer for the simulation (tests only, white-box): one hub
 * endpoint without a node that speaks the node protocol by hand (a real
 * Noise XX handshake with the internal core, version exchange, pings) and,
 * once a connection is ready, announces headers of blocks it made invalid
 * on purpose on top of the victim's tip and serves their bodies on getdata.
 * Every block it makes goes to the simulation's invalid set first.
 */
#ifndef HRE_SIM_BYZ_H
#define HRE_SIM_BYZ_H

#include <hre/hre.h>
#include <hre/sys/transport.h>

/* Attack kinds, one per connection. */
enum {
    BYZ_BAD_POW = 0,      /* a header whose hash is above its target */
    BYZ_BAD_BITS,         /* valid proof of work under bits the chain does not expect */
    BYZ_TIME_OLD,         /* a header timestamp not above the median time past */
    BYZ_BAD_MERKLE,       /* a body that is not the one the header commits to */
    BYZ_BAD_SIG,          /* a transaction whose signature does not verify */
    BYZ_BAD_CONTRACT,     /* a signed transaction the contract refuses (wrong nonce) */
    BYZ_DUP_TX,           /* the same transaction twice (a mutated Merkle tree) */
    BYZ_INVALID_CHILD,    /* an invalid block and a child of it */
    BYZ_KINDS
};

const char *byz_kind_name(int kind);

/* What the simulation gives a byzantine peer. */
typedef struct byz_host {
    void *ud;
    /* The tip of the honest node at the other end of conn (the adversary
     * knows the public chain). HRE_OK, or an error: no attack then. */
    int (*victim_tip)(void *ud, uint64_t conn, uint8_t hash[32], uint64_t *height,
                      uint32_t *tip_time, uint32_t *mtp, uint8_t work[32]);
    /* A block hash joins the invalid set, before the block leaves. */
    void (*invalid_add)(void *ud, const uint8_t hash[32], int kind);
    /* The attack's headers went out on conn. */
    void (*attack_sent)(void *ud, uint64_t conn, int kind);
    uint64_t (*rand)(void *ud);        /* the driver's PRNG */
    const hre_transport_methods *tm;   /* the endpoint's transport (the hub) */
    void *tud;
    const hre_chain_params *params;
    uint8_t network_id[32];
    uint8_t fingerprint[32];
    int verbose;
    const char *name;
} byz_host;

typedef struct sim_byz sim_byz;

int byz_new(sim_byz **out, const byz_host *h);
void byz_free(sim_byz *b);
/* Hub events for its endpoint. */
void byz_on_connected(sim_byz *b, uint64_t conn, int outbound, uint64_t now);
void byz_on_data(sim_byz *b, uint64_t conn, const uint8_t *d, size_t len, uint64_t now);
void byz_on_closed(sim_byz *b, uint64_t conn, uint64_t now);
/* Live connections. */
size_t byz_connections(const sim_byz *b);

#endif
