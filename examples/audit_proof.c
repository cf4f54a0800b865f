/*
 * audit_proof: an auditor checks that an access to a patient's record was
 * logged on the chain, without running a node -- a transaction inclusion
 * proof (hre/proof.h, docs/PROTOCOL.md 16), public API only.
 *
 *   1. the hospital's ledger (in memory, the private-network preset): the
 *      hospital founds the network and registers a lab and a clinic, whose
 *      doctor is the outside reader; a patient registers; the hospital
 *      issues a lab-result record (hospital and lab sign it); the patient
 *      grants the doctor access; the doctor's LOG_ACCESS is mined into a
 *      block (next to another patient's registration) and three more blocks
 *      are mined on top;
 *   2. the hospital makes the inclusion proof of that LOG_ACCESS (every
 *      header from the genesis to the tip, the transaction's Merkle branch,
 *      the transaction) and encodes it: the proof file;
 *   3. the auditor holds two byte strings, the proof file and the network
 *      file, and nothing else: it decodes both (hostile input), verifies the
 *      proof against the network's chain parameters and prints the verdict,
 *      the kind, the reader, the record, the block height and the
 *      confirmations;
 *   4. damaged proofs are refused, each with its own reason: a flipped byte
 *      in the Merkle branch (bad-branch), a flipped byte in a header's link
 *      (bad-headers, naming the header), a truncated file (a decode error);
 *      and the right proof checked against another network's file
 *      (bad-genesis).
 *
 *   audit_proof
 * Exit status 0 only if every step behaved as described.
 * Build (installed library):  cc audit_proof.c $(pkg-config --cflags --libs libhre)
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hre/hre.h>

#define T0 1700000000u
#define ON_TOP 3           /* blocks mined on top of the LOG_ACCESS block */

static void die(const char *what, int rc)
{
    fprintf(stderr, "audit_proof: %s failed: %s (%s)\n", what, hre_strerror(rc), hre_error_detail());
    exit(1);
}
#define CK(call) do { int rc_ = (call); if (rc_ != HRE_OK) die(#call, rc_); } while (0)

typedef struct account {
    hre_key *key;
    uint8_t wire[34];   /* public key, wire form (3): what a tx names as its sender */
    uint8_t addr[32];   /* account address: sha256 of the wire key */
} account;

static hre_ledger *g_ledger;   /* the hospital's */
static uint8_t g_net[32];
static uint64_t g_now = T0 + 600;

static void account_new(account *a)
{
    hre_pubkey *pk = NULL;
    CK(hre_key_generate(&a->key, HRE_CURVE_P256));
    CK(hre_key_pubkey(a->key, &pk));
    CK(hre_pubkey_serialize_wire(pk, a->wire));
    hre_pubkey_free(pk);
    CK(hre_contract_address(a->addr, a->wire));
}

static uint64_t nonce_of(const account *a)
{
    uint64_t n = 0;
    CK(hre_ledger_next_nonce(g_ledger, &n, a->wire, 34));
    return n;
}

/* Encode a built transaction, submit it to the hospital's mempool, free it. */
static void submit(hre_tx *tx, uint8_t txid[32])
{
    static uint8_t b[HRE_TX_MAX_LEN];
    size_t len = sizeof b;
    hre_ledger_status st;
    if (!tx) die("build tx", HRE_EINVAL);
    CK(hre_tx_encode(tx, b, &len));
    hre_tx_free(tx);
    CK(hre_ledger_submit_tx(g_ledger, txid, &st, b, len, g_now));
    if (st != HRE_LEDGER_ACCEPTED_TX) die("submit: not accepted", (int)st);
}

/* Mine the mempool into a block ten minutes on; returns its height. */
static uint64_t mine(void)
{
    uint8_t hash[32];
    hre_ledger_status st;
    uint64_t h = 0;
    g_now += 600;
    CK(hre_ledger_mine(g_ledger, hash, &st, g_now, HRE_POW_ALL_NONCES, HRE_LEDGER_MINE_ALLOW_EMPTY));
    if (st != HRE_LEDGER_CONNECTED) die("mine", (int)st);
    CK(hre_ledger_tip(g_ledger, &h, NULL));
    return h;
}

/* The prover's side (as `hre chain proof` does it): every main-chain header
 * from the genesis to the tip, the transaction's branch, the transaction's
 * bytes out of its block; the encoded proof in a malloc'ed buffer. */
static uint8_t *make_proof_file(const uint8_t txid[32], size_t *len)
{
    hre_header hdr, *hs;
    hre_merkle_branch br;
    hre_block *blk = NULL;
    hre_proof *p = NULL;
    uint64_t height = 0, tip = 0;
    uint8_t *raw, *file;
    size_t rlen = 0, tlen = 0;
    const uint8_t *tb = NULL;

    CK(hre_ledger_tx_proof(g_ledger, &hdr, &br, &height, txid, UINT64_MAX));
    CK(hre_ledger_tip(g_ledger, &tip, NULL));
    if (!(hs = calloc((size_t)tip + 1, sizeof *hs))) die("calloc", HRE_ENOMEM);
    for (uint64_t i = 0; i <= tip; i++) CK(hre_ledger_header_by_height(g_ledger, &hs[i], NULL, i));
    if (hre_ledger_block_by_height(g_ledger, NULL, &rlen, height) != HRE_EBUFSIZE) die("block size", -1);
    if (!(raw = malloc(rlen))) die("malloc", HRE_ENOMEM);
    CK(hre_ledger_block_by_height(g_ledger, raw, &rlen, height));
    CK(hre_block_decode(&blk, raw, rlen, NULL));
    /* the branch's index is the transaction's place in its block */
    CK(hre_block_tx(blk, &tb, &tlen, br.index));
    CK(hre_proof_new(&p, hs, (size_t)tip + 1, height, &br, tb, tlen));
    hre_block_free(blk);
    free(raw);
    free(hs);
    *len = 0;
    if (hre_proof_encode(p, NULL, len) != HRE_EBUFSIZE) die("proof size", -1);
    if (!(file = malloc(*len))) die("malloc", HRE_ENOMEM);
    CK(hre_proof_encode(p, file, len));
    hre_proof_free(p);
    return file;
}

static int failures;

static void expect(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) failures++;
}

/* An id shortened to its first 6 bytes in hex, for the printout. */
typedef struct id_text {
    char s[16];
} id_text;

static id_text id6(const uint8_t *h)
{
    id_text t;
    size_t n = sizeof t.s;
    CK(hre_hex_encode(t.s, &n, h, 6));
    memcpy(t.s + 12, "..", 3);
    return t;
}

/* The auditor's side: the proof file and the network file, nothing else.
 * Returns the first failing code; *why the verdict (-1: not decoded),
 * *bad the failing header; on HRE_OK with *out, the verified proof. */
static int audit(const uint8_t *file, size_t len, const uint8_t *netfile, size_t netlen, int *why,
                 size_t *bad, hre_proof **out)
{
    hre_network *net = NULL;
    hre_chain_params params = HRE_CHAIN_PARAMS_INIT;
    hre_proof *p = NULL;
    int rc;
    *why = -1;
    *bad = SIZE_MAX;
    CK(hre_network_decode(&net, netfile, netlen));
    CK(hre_network_params(net, &params));
    hre_network_free(net);
    rc = hre_proof_decode(&p, file, len);
    if (rc != HRE_OK) return rc;
    rc = hre_proof_verify(p, why, bad, &params);
    if (rc == HRE_OK && out)
        *out = p;
    else
        hre_proof_free(p);
    return rc;
}

/* One damaged copy of the proof file: refused with rc_want and why_want. */
static void expect_refused(const uint8_t *file, size_t len, const uint8_t *netfile, size_t netlen,
                           int rc_want, int why_want, size_t bad_want, const char *what)
{
    char line[512], at[32] = "";
    size_t bad = 0;
    int why = 0, rc = audit(file, len, netfile, netlen, &why, &bad, NULL);
    if (bad != SIZE_MAX) snprintf(at, sizeof at, ", header %zu", bad);
    if (rc == HRE_EVERIFY)
        snprintf(line, sizeof line, "%s: refused (%s%s): %s", what, hre_proof_why_name(why), at,
                 hre_error_detail());
    else
        snprintf(line, sizeof line, "%s: %s (%s)", what, rc == HRE_OK ? "ACCEPTED" : hre_strerror(rc),
                 hre_error_detail());
    expect(rc == rc_want && (rc != HRE_EVERIFY || (why == why_want && bad == bad_want)), line);
}

int main(void)
{
    account hospital, lab, clinic, doctor, patient, other;
    uint8_t lab_org[32], rec[32], access_txid[32], id[32];
    uint8_t netfile[HRE_NETWORK_FILE_MAX], otherfile[HRE_NETWORK_FILE_MAX];
    size_t netlen = sizeof netfile, otherlen = sizeof otherfile, len = 0;
    hre_network *net = NULL;
    hre_storage *st = NULL;
    uint64_t access_height, tip = 0;
    uint8_t *file;
    hre_tx *tx = NULL;

    account_new(&hospital);
    account_new(&lab);
    account_new(&clinic);
    account_new(&doctor);
    account_new(&patient);
    account_new(&other);

    /* 1. the hospital's chain: a private network whose founding authority
     *    is the hospital's admin; its network file is what it hands out */
    {
        hre_ledger_options lo;
        CK(hre_network_new_private(&net, hospital.wire, "City Hospital", T0));
        CK(hre_network_encode(net, netfile, &netlen));
        CK(hre_storage_memory_new(&st, 0));
        CK(hre_ledger_options_init(&lo, HRE_LEDGER_OPTIONS_VERSION));
        lo.storage = st;
        lo.network = net;
        lo.snapshot_interval = HRE_LEDGER_SNAPSHOTS_OFF;
        CK(hre_ledger_open(&g_ledger, &lo));
        CK(hre_ledger_network_id(g_ledger, g_net));
    }
    {
        /* a doctor of the hospital or the lab would read by role, without
         * a grant: the consent (and the logged access) needs an outside
         * reader, a clinic's doctor */
        hre_register_org_payload p;
        hre_register_doctor_payload d;
        static const struct { uint8_t type; const char *name; } orgs[2] = {
            {HRE_ORG_LAB, "Central Lab"}, {HRE_ORG_CLINIC, "Far Clinic"}};
        const account *admins[2] = {&lab, &clinic};
        uint8_t *ids[2] = {lab_org, id};
        for (int i = 0; i < 2; i++) {
            memset(&p, 0, sizeof p);
            p.org_type = orgs[i].type;
            p.name = (const uint8_t *)orgs[i].name;
            p.name_len = strlen(orgs[i].name);
            memcpy(p.admin_key, admins[i]->wire, 34);
            CK(hre_contract_build_register_org(&tx, g_net, hospital.key, nonce_of(&hospital), g_now, &p));
            submit(tx, ids[i]);
        }
        mine();
        memcpy(d.doctor_key, doctor.wire, 34);
        CK(hre_contract_build_register_doctor(&tx, g_net, clinic.key, nonce_of(&clinic), g_now, &d));
        submit(tx, id);
    }
    {
        hre_register_patient_payload p = {0};
        CK(hre_contract_build_register_patient(&tx, g_net, patient.key, nonce_of(&patient), g_now, &p));
        submit(tx, id);
    }
    mine();
    {
        hre_new_record_payload p;
        hre_sign_record_payload s;
        static const uint8_t salt[32] = "audit-proof-salt-0123456789abcde";
        static const char doc[] = "{\"resourceType\":\"Observation\",\"code\":{\"text\":\"HbA1c\"}}";
        memset(&p, 0, sizeof p);
        memcpy(p.patient, patient.addr, 32);
        memcpy(p.lab_org, lab_org, 32);
        CK(hre_contract_commit(p.commit_patient_id, HRE_COMMIT_PATIENT_ID, salt, 32, (const uint8_t *)"MRN-7", 5));
        CK(hre_contract_commit(p.commit_test_name, HRE_COMMIT_TEST_NAME, salt, 32, (const uint8_t *)"HbA1c", 5));
        p.date = g_now;
        p.category = 1;
        CK(hre_sha256(p.doc_sha256, doc, sizeof doc - 1));
        p.hospital_name = (const uint8_t *)"City Hospital";
        p.hospital_name_len = 13;
        CK(hre_random_bytes(p.locator, sizeof p.locator));
        CK(hre_contract_build_new_record(&tx, g_net, hospital.key, nonce_of(&hospital), g_now, &p));
        submit(tx, rec);
        mine();
        memcpy(s.record_id, rec, 32);
        CK(hre_contract_build_sign_record(&tx, g_net, hospital.key, nonce_of(&hospital), g_now, &s));
        submit(tx, id);
        CK(hre_contract_build_sign_record(&tx, g_net, lab.key, nonce_of(&lab), g_now, &s));
        submit(tx, id);
        mine();
    }
    {
        hre_grant_payload g;
        hre_log_access_payload la;
        hre_register_patient_payload p = {0};
        memset(&g, 0, sizeof g);
        g.reader_type = HRE_READER_ACCOUNT;
        memcpy(g.reader, doctor.addr, 32);
        g.scope = HRE_SCOPE_ALL;
        CK(hre_contract_build_grant(&tx, g_net, patient.key, nonce_of(&patient), g_now, &g));
        submit(tx, id);
        mine();
        memcpy(la.record_id, rec, 32);
        la.purpose = 1;
        CK(hre_contract_build_log_access(&tx, g_net, doctor.key, nonce_of(&doctor), g_now, &la));
        submit(tx, access_txid);
        /* other traffic in the same block: the branch then has a hash in it */
        CK(hre_contract_build_register_patient(&tx, g_net, other.key, nonce_of(&other), g_now, &p));
        submit(tx, id);
        access_height = mine();
        for (int i = 0; i < ON_TOP; i++) tip = mine();
    }
    printf("1. the hospital's chain: record %s, the doctor's LOG_ACCESS %s in block %" PRIu64
           ", tip %" PRIu64 "\n", id6(rec).s, id6(access_txid).s, access_height, tip);

    /* 2. the hospital proves the LOG_ACCESS: the proof file */
    file = make_proof_file(access_txid, &len);
    printf("2. the hospital wrote the proof file: %zu bytes (%" PRIu64 " headers, the branch, the tx); "
           "network file %zu bytes\n", len, tip + 1, netlen);
    hre_ledger_close(g_ledger);    /* from here on: no ledger, no node */
    g_ledger = NULL;
    hre_storage_free(st);
    hre_network_free(net);

    /* 3. the auditor: the two files only */
    {
        hre_proof *p = NULL;
        hre_log_access_payload la;
        const hre_tx *t;
        const uint8_t *pl;
        uint8_t reader[32];
        size_t bad = 0, plen = 0;
        uint64_t height, conf;
        int why = 0, rc = audit(file, len, netfile, netlen, &why, &bad, &p);
        char line[256];
        snprintf(line, sizeof line, "3. the auditor decoded and verified the proof: %s (%s)",
                 rc == HRE_OK ? "verified" : hre_strerror(rc), hre_proof_why_name(why));
        expect(rc == HRE_OK && why == HRE_PROOF_OK, line);
        if (rc != HRE_OK) die("the proof of the LOG_ACCESS", rc);
        t = hre_proof_tx(p);
        pl = hre_tx_payload(t, &plen);
        CK(hre_contract_address(reader, hre_tx_sender(t)));
        height = hre_proof_height(p);
        conf = hre_proof_header_count(p) - height;
        memset(&la, 0, sizeof la);
        rc = hre_tx_kind(t) == HRE_KIND_LOG_ACCESS ? hre_contract_decode_log_access(&la, pl, plen)
                                                    : HRE_EVERIFY;
        printf("   txid %s, kind %s (%u), reader %s, record %s, purpose %u\n",
               id6(hre_proof_txid(p)).s, rc == HRE_OK ? "LOG_ACCESS" : "not LOG_ACCESS",
               (unsigned)hre_tx_kind(t), id6(reader).s, id6(la.record_id).s, (unsigned)la.purpose);
        printf("   in block %" PRIu64 " with %" PRIu64 " confirmations (headers up to height %zu)\n",
               height, conf, hre_proof_header_count(p) - 1);
        expect(rc == HRE_OK && memcmp(hre_proof_txid(p), access_txid, 32) == 0 &&
                   memcmp(reader, doctor.addr, 32) == 0 && memcmp(la.record_id, rec, 32) == 0,
               "   it is the doctor's LOG_ACCESS on the patient's record");
        expect(height == access_height && conf == ON_TOP + 1,
               "   in the block the hospital mined it into, with the blocks on top as confirmations");
        hre_proof_free(p);
    }

    /* 4. damaged proofs (offsets: docs/PROTOCOL.md 16.1) */
    {
        uint8_t *bent = malloc(len);
        size_t n = (size_t)tip + 1, branch_hash = 52 + 80 * n + 5, link = 20 + 80 * (size_t)access_height + 4;
        if (!bent) die("malloc", HRE_ENOMEM);
        memcpy(bent, file, len);
        bent[branch_hash + 7] ^= 0x01;
        expect_refused(bent, len, netfile, netlen, HRE_EVERIFY, HRE_PROOF_BAD_BRANCH, SIZE_MAX,
                       "4. a flipped byte in the Merkle branch");
        memcpy(bent, file, len);
        bent[link + 7] ^= 0x01;    /* the prev_hash of the LOG_ACCESS block's header */
        expect_refused(bent, len, netfile, netlen, HRE_EVERIFY, HRE_PROOF_BAD_HEADERS,
                       (size_t)access_height, "4. a flipped byte in a header's link");
        expect_refused(file, len - 1, netfile, netlen, HRE_EDECODE, 0, 0, "4. a truncated proof file");
        free(bent);
    }
    {
        /* the same proof against another network's file */
        hre_network *o = NULL;
        CK(hre_network_new_private(&o, other.wire, "Other Hospital", T0));
        CK(hre_network_encode(o, otherfile, &otherlen));
        hre_network_free(o);
        expect_refused(file, len, otherfile, otherlen, HRE_EVERIFY, HRE_PROOF_BAD_GENESIS, 0,
                       "4. the proof against another network's file");
    }

    free(file);
    {
        account *as[] = {&hospital, &lab, &clinic, &doctor, &patient, &other};
        for (size_t i = 0; i < sizeof as / sizeof as[0]; i++) hre_key_free(as[i]->key);
    }
    printf("%s\n", failures ? "audit_proof: FAILED" : "audit_proof: every step as expected");
    return failures ? 1 : 0;
}
