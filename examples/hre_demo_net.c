/*
 * hre_demo_net: two institutions, St. Mary's Hospital and City Lab, each
 * with its own node, data directory and ledger, exchange the seed scenario
 * over TCP on 127.0.0.1 (examples/tcp_host: poll(), non-blocking sockets,
 * POSIX file storage). Public API only. The two nodes run in one process
 * for a self-contained demo -- one loop steps both hosts in turn -- but
 * they share nothing except the TCP connection between them and the
 * network file (hre_node_tcp runs one node per process).
 *
 *   1. The hospital founds a private network (network.dat is what the lab
 *      gets), registers City Lab with its admin and its own node key, and
 *      mines block 1. The lab's node (no identity on the chain yet) syncs it.
 *   2. The lab admin registers the lab's node key at the LAB's node, and the
 *      lab mines block 2; the hospital receives it over TCP. Both nodes are
 *      now live members of each other: they relay transactions.
 *   3. A patient registers at the hospital's node; the transaction crosses
 *      to the lab, which mines it.
 *   4. The hospital creates a lab-test record and mines it.
 *   5. The hospital admin signs at the hospital, the lab admin signs at the
 *      lab; each signature crosses to the other node; the hospital mines
 *      both, and the lab's ledger raises RecordSigned.
 *   6. Both ledgers agree on the tip and the contract state hash; both
 *      nodes stop and their ledgers close cleanly.
 *
 * Usage: hre_demo_net [--dir DIR] [--keep] [--help]  (DIR default ./demo-net-data;
 *        it must not hold an earlier run: removed first unless --keep was used)
 * Exit status: 0 success, 1 a step failed, 2 bad usage.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hre/hre.h>
#include <hre/sys/storage.h>

#include "tcp_host.h"

#define WAIT_MS 60000u

static void die(const char *what, int rc)
{
    fprintf(stderr, "hre_demo_net: %s failed: %s (%s)\n", what, hre_strerror(rc), hre_error_detail());
    exit(1);
}
#define TRY(what, call) do { int rc_ = (call); if (rc_ != HRE_OK) die(what, rc_); } while (0)

typedef struct inst {
    const char *name;
    tcp_host *h;
    int signed_events;
    int created_events;
} inst;

typedef struct actor {
    hre_key *key;
    uint8_t wire[34];
    uint8_t addr[32];
    uint64_t nonce;
} actor;

static inst g_hosp = { "hospital", NULL, 0, 0 }, g_lab = { "lab", NULL, 0, 0 };
static uint8_t g_net[32];

static const char *short_hex(const uint8_t *h)
{
    static char buf[4][20];
    static int k;
    char *b = buf[k++ & 3];
    snprintf(b, 20, "%02x%02x%02x%02x%02x%02x..", h[0], h[1], h[2], h[3], h[4], h[5]);
    return b;
}

static void on_event(void *ud, const hre_node_event *ev)
{
    inst *in = ud;
    if (ev->type == HRE_NODE_EVENT_PEER_READY)
        printf("      [%s] peer connection %llu ready (Noise handshake done)\n", in->name,
               (unsigned long long)ev->conn);
    else if (ev->type == HRE_NODE_EVENT_MEMBERSHIP)
        printf("      [%s] peer %llu membership now %d (1 = live member)\n", in->name,
               (unsigned long long)ev->conn, ev->member);
    else if (ev->type == HRE_NODE_EVENT_TX_ACCEPTED)
        printf("      [%s] transaction %s arrived over TCP\n", in->name, short_hex(ev->hash));
    else if (ev->type == HRE_NODE_EVENT_LEDGER && ev->ledger) {
        const hre_ledger_event *le = ev->ledger;
        if (le->type == HRE_LEDGER_EVENT_BLOCK_CONNECTED)
            printf("      [%s] block %llu connected (%u tx)\n", in->name,
                   (unsigned long long)le->height, le->tx_count);
        else if (le->type == HRE_LEDGER_EVENT_CONTRACT && le->contract) {
            if (le->contract->type == HRE_EVENT_RECORD_SIGNED) {
                in->signed_events++;
                printf("      [%s] *** RecordSigned *** record %s\n", in->name,
                       short_hex(le->contract->record_id));
            } else if (le->contract->type == HRE_EVENT_RECORD_CREATED) {
                in->created_events++;
                printf("      [%s] RecordCreated %s\n", in->name, short_hex(le->contract->record_id));
            }
        }
    }
}

static void actor_new(actor *a)
{
    hre_pubkey *pk = NULL;
    memset(a, 0, sizeof *a);
    TRY("key generate", hre_key_generate(&a->key, HRE_CURVE_P256));
    TRY("key pubkey", hre_key_pubkey(a->key, &pk));
    TRY("pubkey encode", hre_pubkey_serialize_wire(pk, a->wire));
    hre_pubkey_free(pk);
    TRY("address", hre_contract_address(a->addr, a->wire));
}

/* Step both hosts until cond() holds; die after WAIT_MS. */
static void run_until(const char *what, int (*cond)(void *), void *arg)
{
    uint64_t end = tcp_host_now() + WAIT_MS;
    while (!cond(arg)) {
        int rc;
        if (tcp_host_now() > end)
            die(what, HRE_EEXHAUSTED);
        if ((rc = tcp_host_step(g_hosp.h, 5)) != HRE_OK)
            die("hospital node", rc);
        if ((rc = tcp_host_step(g_lab.h, 5)) != HRE_OK)
            die("lab node", rc);
    }
}

static uint64_t height_of(inst *in)
{
    uint64_t h = 0;
    TRY("tip", hre_ledger_tip(tcp_host_ledger(in->h), &h, NULL));
    return h;
}

typedef struct hwait {
    inst *in;
    uint64_t h;
} hwait;

static int at_height(void *arg)
{
    hwait *w = arg;
    return height_of(w->in) >= w->h;
}

typedef struct txwait {
    inst *in;
    const uint8_t *txid;
} txwait;

static int in_mempool(void *arg)
{
    txwait *w = arg;
    return hre_ledger_mempool_contains(tcp_host_ledger(w->in->h), w->txid);
}

static int both_ready(void *arg)
{
    hre_node_stats a = HRE_NODE_STATS_INIT, b = HRE_NODE_STATS_INIT;
    (void)arg;
    return hre_node_stats_get(tcp_host_node(g_hosp.h), &a) == HRE_OK &&
           hre_node_stats_get(tcp_host_node(g_lab.h), &b) == HRE_OK && a.peers_ready >= 1 &&
           b.peers_ready >= 1;
}

/* Submit at in's node (relayed to the other over TCP when both are members). */
static void submit_at(inst *in, actor *who, hre_tx *tx, uint8_t txid[32])
{
    uint8_t buf[HRE_TX_MAX_LEN];
    size_t len = sizeof buf;
    hre_ledger_status st;
    TRY("tx encode", hre_tx_encode(tx, buf, &len));
    hre_tx_free(tx);
    TRY("submit", hre_node_submit_tx(tcp_host_node(in->h), txid, &st, buf, len, tcp_host_now()));
    who->nonce++;
}

static void cross(inst *to, const uint8_t txid[32], const char *what)
{
    txwait w = { to, txid };
    run_until(what, in_mempool, &w);
    printf("    %s: in the %s's mempool\n", what, to->name);
}

static void mine_at(inst *in, inst *other, const char *why)
{
    uint8_t hash[32];
    hre_ledger_status st;
    hwait w;
    int rc;
    do {
        rc = hre_node_mine(tcp_host_node(in->h), hash, &st, tcp_host_now(), HRE_POW_ALL_NONCES);
    } while (rc == HRE_EEXHAUSTED);
    TRY("mine", rc);
    w.in = other;
    w.h = height_of(in);
    printf("    the %s mines block %llu (%s); waiting for the %s over TCP\n", in->name,
           (unsigned long long)w.h, why, other->name);
    run_until("block crossing", at_height, &w);
}

static int remove_cb(void *arg, const char *name)
{
    (void)hre_storage_remove(arg, name);
    return 0;
}

static void clear_dir(const char *dir)
{
    hre_storage *st = NULL;
    if (access(dir, F_OK) != 0)
        return;
    TRY("storage open", hre_storage_posix_open(&st, dir, NULL));
    TRY("clear", hre_storage_list(st, remove_cb, st));
    hre_storage_free(st);
    (void)rmdir(dir);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: hre_demo_net [--dir DIR] [--keep] [--help]\n"
               "  Two institutions' nodes exchange the seed scenario over TCP on 127.0.0.1.\n"
               "  --dir DIR  working directory (default ./demo-net-data): network.dat,\n"
               "             hospital/ and lab/ ledgers; an earlier run there is removed first\n"
               "  --keep     keep the ledgers at the end\n"
               "Exit status: 0 success, 1 a step failed, 2 bad usage.\n");
}

int main(int argc, char **argv)
{
    const char *dir = "./demo-net-data";
    char hdir[4096], ldir[4096], netpath[4096], listen_addr[64];
    const char *peers[1];
    int keep = 0, i;
    actor hadmin, ladmin, patient, hnode, lnode;
    hre_network *net = NULL;
    tcp_host_config hc, lc;
    uint8_t lab_org[32], record_id[32], txid[32], txid2[32], sh1[32], sh2[32], t1[32], t2[32];
    const hre_contract *c = NULL;
    hre_tx *tx = NULL;
    hwait hw;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--keep")) {
            keep = 1;
        } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
            dir = argv[++i];
        } else {
            fprintf(stderr, "hre_demo_net: bad argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    snprintf(hdir, sizeof hdir, "%s/hospital", dir);
    snprintf(ldir, sizeof ldir, "%s/lab", dir);
    snprintf(netpath, sizeof netpath, "%s/network.dat", dir);
    clear_dir(hdir);
    clear_dir(ldir);
    (void)unlink(netpath);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        die("mkdir", HRE_EIO);

    printf("=== libhre %s: two institutions over TCP ===\n", hre_version_string());
    actor_new(&hadmin);
    actor_new(&ladmin);
    actor_new(&patient);
    actor_new(&hnode);
    actor_new(&lnode);

    printf("\n1) St. Mary's Hospital founds the network; its node listens on 127.0.0.1\n");
    TRY("private network", hre_network_new_private(&net, hadmin.wire, "St. Mary's Hospital",
                                                   tcp_host_now() / 1000 - 60));
    TRY("network id", hre_network_id(net, g_net));
    {
        uint8_t file[HRE_NETWORK_FILE_MAX];
        size_t flen = sizeof file;
        FILE *f;
        TRY("network file", hre_network_encode(net, file, &flen));
        f = fopen(netpath, "wb");
        if (!f || fwrite(file, 1, flen, f) != flen || fclose(f) != 0)
            die("write network.dat", HRE_EIO);
        printf("    network %s; the network file (%zu bytes) goes to the lab\n", short_hex(g_net), flen);
    }
    hre_network_free(net);

    memset(&hc, 0, sizeof hc);
    hc.data_dir = hdir;
    hc.network_file = netpath;
    hc.identity = hnode.key;
    hc.listen = "127.0.0.1:0";
    hc.storage_flags = HRE_STORAGE_POSIX_NOSYNC;
    hc.on_event = on_event;
    hc.event_user_data = &g_hosp;
    TRY("hospital node", tcp_host_open(&g_hosp.h, &hc));
    snprintf(listen_addr, sizeof listen_addr, "127.0.0.1:%u", tcp_host_port(g_hosp.h));
    printf("    hospital node listening on %s\n", listen_addr);

    memset(&lc, 0, sizeof lc);
    lc.data_dir = ldir;
    lc.network_file = netpath;
    lc.identity = lnode.key;
    peers[0] = listen_addr;
    lc.peers = peers;
    lc.n_peers = 1;
    lc.storage_flags = HRE_STORAGE_POSIX_NOSYNC;
    lc.on_event = on_event;
    lc.event_user_data = &g_lab;
    TRY("lab node", tcp_host_open(&g_lab.h, &lc));
    printf("    City Lab's node dials the hospital\n");
    run_until("connection", both_ready, NULL);

    {
        hre_register_org_payload p;
        hre_register_node_payload np;
        memset(&p, 0, sizeof p);
        p.org_type = HRE_ORG_LAB;
        p.name = (const uint8_t *)"City Lab";
        p.name_len = 8;
        memcpy(p.admin_key, ladmin.wire, 34);
        TRY("register_org", hre_contract_build_register_org(&tx, g_net, hadmin.key, hadmin.nonce,
                                                             tcp_host_now() / 1000, &p));
        submit_at(&g_hosp, &hadmin, tx, lab_org);
        memset(&np, 0, sizeof np);
        memcpy(np.node_key, hnode.wire, 34);
        TRY("register_node", hre_contract_build_register_node(&tx, g_net, hadmin.key, hadmin.nonce,
                                                               tcp_host_now() / 1000, &np));
        submit_at(&g_hosp, &hadmin, tx, txid);
        printf("    hospital registers City Lab (admin %s) and its own node key\n", short_hex(ladmin.addr));
    }
    mine_at(&g_hosp, &g_lab, "lab org + hospital node");

    printf("\n2) The lab admin registers the lab's node at the lab; the lab mines it\n");
    {
        hre_register_node_payload np;
        memset(&np, 0, sizeof np);
        memcpy(np.node_key, lnode.wire, 34);
        TRY("register_node", hre_contract_build_register_node(&tx, g_net, ladmin.key, ladmin.nonce,
                                                               tcp_host_now() / 1000, &np));
        submit_at(&g_lab, &ladmin, tx, txid);
    }
    mine_at(&g_lab, &g_hosp, "lab node");

    printf("\n3) A patient registers at the hospital; the transaction crosses to the lab\n");
    {
        hre_register_patient_payload p = {0};
        TRY("register_patient", hre_contract_build_register_patient(&tx, g_net, patient.key, 0,
                                                                     tcp_host_now() / 1000, &p));
        submit_at(&g_hosp, &patient, tx, txid);
    }
    cross(&g_lab, txid, "patient registration");
    mine_at(&g_lab, &g_hosp, "patient");

    printf("\n4) The hospital creates a lab-test record\n");
    {
        hre_new_record_payload p;
        uint8_t salt[16] = "demo-salt-16byte";
        const char *doc = "{\"resourceType\":\"Observation\",\"code\":\"HbA1c\",\"value\":5.4}";
        memset(&p, 0, sizeof p);
        memcpy(p.patient, patient.addr, 32);
        memcpy(p.lab_org, lab_org, 32);
        TRY("commit", hre_contract_commit(p.commit_patient_id, HRE_COMMIT_PATIENT_ID, salt, 16,
                                          (const uint8_t *)"MRN-0042", 8));
        TRY("commit", hre_contract_commit(p.commit_test_name, HRE_COMMIT_TEST_NAME, salt, 16,
                                          (const uint8_t *)"HbA1c", 5));
        p.date = tcp_host_now() / 1000;
        p.price = 4200;
        p.category = 1;
        TRY("sha256", hre_sha256(p.doc_sha256, doc, strlen(doc)));
        p.hospital_name = (const uint8_t *)"St. Mary's Hospital";
        p.hospital_name_len = strlen("St. Mary's Hospital");
        TRY("locator", hre_random_bytes(p.locator, sizeof p.locator));
        TRY("new_record", hre_contract_build_new_record(&tx, g_net, hadmin.key, hadmin.nonce,
                                                         tcp_host_now() / 1000, &p));
        submit_at(&g_hosp, &hadmin, tx, record_id);
    }
    mine_at(&g_hosp, &g_lab, "new record");
    if (g_lab.created_events != 1)
        die("RecordCreated at the lab", HRE_ESTATE);

    printf("\n5) Each institution signs at its own node; the signatures cross\n");
    {
        hre_sign_record_payload p;
        memcpy(p.record_id, record_id, 32);
        TRY("sign", hre_contract_build_sign_record(&tx, g_net, hadmin.key, hadmin.nonce,
                                                    tcp_host_now() / 1000, &p));
        submit_at(&g_hosp, &hadmin, tx, txid);
        TRY("sign", hre_contract_build_sign_record(&tx, g_net, ladmin.key, ladmin.nonce,
                                                    tcp_host_now() / 1000, &p));
        submit_at(&g_lab, &ladmin, tx, txid2);
    }
    cross(&g_lab, txid, "hospital's signature");
    cross(&g_hosp, txid2, "lab's signature");
    mine_at(&g_hosp, &g_lab, "two signatures");
    if (g_lab.signed_events != 1 || g_hosp.signed_events != 1)
        die("RecordSigned on both sides", HRE_ESTATE);

    printf("\n6) Both ledgers agree\n");
    hw.in = &g_lab;
    hw.h = height_of(&g_hosp);
    run_until("same height", at_height, &hw);
    TRY("tip", hre_ledger_tip(tcp_host_ledger(g_hosp.h), NULL, t1));
    TRY("tip", hre_ledger_tip(tcp_host_ledger(g_lab.h), NULL, t2));
    TRY("contract", hre_ledger_contract(tcp_host_ledger(g_hosp.h), &c));
    TRY("state hash", hre_contract_state_hash(c, sh1));
    TRY("contract", hre_ledger_contract(tcp_host_ledger(g_lab.h), &c));
    TRY("state hash", hre_contract_state_hash(c, sh2));
    printf("    tip %s at height %llu on both; state hash %s / %s\n", short_hex(t1),
           (unsigned long long)hw.h, short_hex(sh1), short_hex(sh2));
    if (memcmp(t1, t2, 32) != 0 || memcmp(sh1, sh2, 32) != 0)
        die("agreement", HRE_ESTATE);

    tcp_host_close(g_lab.h);
    tcp_host_close(g_hosp.h);
    if (!keep) {
        clear_dir(hdir);
        clear_dir(ldir);
        (void)unlink(netpath);
        (void)rmdir(dir);
    }
    hre_key_free(hadmin.key);
    hre_key_free(ladmin.key);
    hre_key_free(patient.key);
    hre_key_free(hnode.key);
    hre_key_free(lnode.key);
    printf("\nDemo complete: both nodes stopped, ledgers closed%s.\n", keep ? " (kept)" : " and removed");
    return 0;
}
