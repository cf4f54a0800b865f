/* The fixed network of the node fuzz targets (and of their seeds): easy
 * proof of work, a fixed genesis and authority key, so the network id and
 * the message magic are the same in every run. Header-only helper. */
#ifndef HRE_NODE_FUZZ_NET_H
#define HRE_NODE_FUZZ_NET_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>
#include <hre/sys/transport.h>

#define NF_NOW_MS 1700000000000ull

/* abort() with the library's detail message */
#define NF_CHECK(call)                                                              \
    do {                                                                            \
        int nf_rc_ = (call);                                                        \
        if (nf_rc_ != HRE_OK) {                                                     \
            fprintf(stderr, "%s: %d: %s\n", #call, nf_rc_, hre_error_detail());     \
            abort();                                                                \
        }                                                                           \
    } while (0)

typedef struct nf_net {
    hre_storage *st;
    hre_ledger *l;
    hre_chain_params params;
    uint8_t id[32];
} nf_net;

static inline void nf_params(hre_chain_params *p, uint8_t id[32])
{
    NF_CHECK(hre_chain_params_init(p, HRE_CHAIN_PARAMS_VERSION));
    NF_CHECK(hre_pow_target_from_compact(p->pow_limit, NULL, NULL, 0x207fffffu));
    p->target_spacing = 600;
    p->retarget_interval = 1000000;
    p->max_block_size = 1u << 20;
    p->max_tx_count = 10000;
    p->genesis.version = 1;
    p->genesis.time = (uint32_t)(NF_NOW_MS / 1000 - 86400);
    p->genesis.bits = 0x207fffffu;
    NF_CHECK(hre_pow_mine(&p->genesis, NULL, 1000000));
    NF_CHECK(hre_header_hash(&p->genesis, id));
}

static inline void nf_net_open(nf_net *net, hre_node **node, uint64_t now)
{
    static const hre_transport_methods nf_pull = { HRE_TRANSPORT_METHODS_VERSION, NULL, NULL, NULL };
    hre_ledger_options o;
    hre_node_options no;
    memset(net, 0, sizeof *net);
    nf_params(&net->params, net->id);
    NF_CHECK(hre_storage_memory_new(&net->st, 0));
    NF_CHECK(hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    o.storage = net->st;
    o.params = &net->params;
    o.authority_key[0] = 1;
    o.authority_key[1] = 2;
    memset(o.authority_key + 2, 0x11, 32);
    o.snapshot_interval = HRE_LEDGER_SNAPSHOTS_OFF;
    NF_CHECK(hre_ledger_open(&net->l, &o));
    NF_CHECK(hre_node_options_init(&no, HRE_NODE_OPTIONS_VERSION));
    no.ledger = net->l;
    no.transport = &nf_pull;
    no.max_memory = 32u << 20;
    NF_CHECK(hre_node_new(node, &no, now));
}

static inline void nf_net_close(nf_net *net, hre_node *n)
{
    hre_node_free(n);
    hre_ledger_close(net->l);
    hre_storage_free(net->st);
}

#endif
