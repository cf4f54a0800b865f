/*
 * bench_ledger: ledger figures as one JSON document on stdout (bench/README.md).
 *
 *  - block import (validate: PoW, Merkle, decode, every signature on the
 *    verifier threads; apply: the record contract; persist: zlib record,
 *    append, fsync) of 1,000-transaction blocks (the first 20 are timed) on
 *    1 and 2 verifier threads,
 *    next to `openssl speed -mr -seconds 2 ecdsap256` and `-multi 2` run
 *    from this program (popen) in the same run, with the ratio (bar: >= 0.6);
 *  - open time from a snapshot holding R records (default 20,000;
 *    HRE_BENCH_RECORDS or argv[1] to change; the figure is 1M);
 *  - append throughput: one fsync per block vs group commit
 *    (hre_ledger_submit_blocks, batches of 100).
 *
 * Blocks carry new_record transactions from a few hospital admins (so, as on
 * a real network, the key cache is warm: senders repeat). Storage: the POSIX
 * backend in a temporary directory under $TMPDIR (default /tmp), with fsync.
 * HRE_BENCH_SPEED_SECONDS (default 2; 0 skips openssl speed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

#include <hre/hre.h>

#include "bench_block.h"
#include "bench_util.h"

#define T0 1700000000u
#define EASY 0x207fffffu
#define TXS_PER_BLOCK 1000
#define N_ADMINS 4

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_ledger: %s failed: %s (%s)\n", what, hre_strerror(rc), hre_error_detail());
    exit(1);
}
#define TRY(what, call) do { int rc_ = (call); if (rc_ != HRE_OK) die(what, rc_); } while (0)

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
    hre_key *auth, *admins[N_ADMINS], *patient;
    uint8_t auth_wire[34], id[32], patient_addr[32], lab_org[32];
} netw;

static void wire(hre_key *k, uint8_t out[34])
{
    hre_pubkey *pk = NULL;
    TRY("pubkey", hre_key_pubkey(k, &pk));
    TRY("encode", hre_pubkey_serialize_wire(pk, out));
    hre_pubkey_free(pk);
}

static hre_ledger *open_l(hre_storage *st, const netw *n, unsigned threads, uint32_t snap)
{
    hre_ledger_options o;
    hre_ledger *l = NULL;
    TRY("options", hre_ledger_options_init(&o, HRE_LEDGER_OPTIONS_VERSION));
    o.storage = st;
    o.params = &n->params;
    memcpy(o.authority_key, n->auth_wire, 34);
    o.verify_threads = threads;
    o.snapshot_interval = snap;
    TRY("ledger open", hre_ledger_open(&l, &o));
    return l;
}

/* An encoded block (malloc'd). */
typedef bench_blk blk;

static blk make_block(const uint8_t prev[32], uint32_t time, hre_tx **txs, size_t n, uint8_t hash[32])
{
    blk out;
    TRY("mined block", bench_mined_block(&out, hash, prev, time, EASY, txs, n));
    return out;
}

int main(int argc, char **argv)
{
    netw n;
    const char *env = getenv("HRE_BENCH_RECORDS");
    long records = argc > 1 ? atol(argv[1]) : env ? atol(env) : 20000;
    size_t nblocks, timed_blocks, i, j, k;
    blk *blocks, setup;
    uint8_t prev[32], hash[32];
    uint64_t admin_nonce[N_ADMINS] = {0}, auth_nonce = 0;
    double t_import[3] = {0}, c_import[3] = {0}, sp[3] = {0};
    int have_sp[3] = {0};
    double open_s = 0, open_cpu = 0, load_cpu = -1, load_wall = -1, snap_bytes = 0, append_one = 0, append_group = 0;
    uint32_t tm = T0;
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    int speed_s = bench_speed_seconds(2), rc;
    bench_json js;

    if (records < TXS_PER_BLOCK)
        records = TXS_PER_BLOCK;
    nblocks = (size_t)(records / TXS_PER_BLOCK);
    timed_blocks = nblocks < 20 ? nblocks : 20;
    snprintf(g_tmp, sizeof g_tmp, "%s/hre-bench-ledger-XXXXXX", tmpdir);
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }

    /* network, keys */
    memset(&n, 0, sizeof n);
    TRY("params", hre_chain_params_init(&n.params, HRE_CHAIN_PARAMS_VERSION));
    TRY("limit", hre_pow_target_from_compact(n.params.pow_limit, NULL, NULL, EASY));
    n.params.target_spacing = 600;
    n.params.retarget_interval = 100000;
    n.params.max_block_size = 4000000;
    n.params.max_tx_count = 10000;
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

    /* setup block: a lab, more hospital admins, a patient */
    {
        hre_tx *txs[N_ADMINS + 2];
        size_t m = 0;
        uint8_t w[34], genesis_org[32];
        hre_register_org_payload ro;
        hre_register_patient_payload rp = {0};
        hre_key *labadm = NULL;
        TRY("key", hre_key_generate(&labadm, HRE_CURVE_P256));
        wire(labadm, w);
        memset(&ro, 0, sizeof ro);
        ro.org_type = HRE_ORG_LAB;
        ro.name = (const uint8_t *)"Bench Lab";
        ro.name_len = 9;
        memcpy(ro.admin_key, w, 34);
        TRY("build", hre_contract_build_register_org(&txs[m++], n.id, n.auth, auth_nonce++, T0, &ro));
        TRY("txid", hre_tx_txid(txs[0], n.lab_org));
        TRY("org id", hre_contract_genesis_org_id(genesis_org, n.id));
        for (i = 0; i < N_ADMINS; i++) {
            hre_appoint_admin_payload ap;
            memcpy(ap.org_id, genesis_org, 32);
            wire(n.admins[i], ap.admin_key);
            TRY("build", hre_contract_build_appoint_admin(&txs[m++], n.id, n.auth, auth_nonce++, T0, &ap));
        }
        TRY("build", hre_contract_build_register_patient(&txs[m++], n.id, n.patient, 0, T0, &rp));
        wire(n.patient, w);
        TRY("addr", hre_contract_address(n.patient_addr, w));
        tm += 600;
        setup = make_block(n.id, tm, txs, m, prev);
        for (i = 0; i < m; i++)
            hre_tx_free(txs[i]);
        hre_key_free(labadm);
    }
    /* measured blocks: 1,000 new_record transactions each */
    blocks = calloc(nblocks, sizeof *blocks);
    {
        hre_tx **txs = calloc(TXS_PER_BLOCK, sizeof *txs);
        for (i = 0; i < nblocks; i++) {
            for (j = 0; j < TXS_PER_BLOCK; j++) {
                hre_new_record_payload p;
                k = j % N_ADMINS;
                memset(&p, 0, sizeof p);
                memcpy(p.patient, n.patient_addr, 32);
                memcpy(p.lab_org, n.lab_org, 32);
                p.commit_patient_id[0] = (uint8_t)j;
                p.commit_test_name[1] = (uint8_t)i;
                p.date = T0 + i;
                p.price = 1000 + j;
                p.category = 1;
                p.doc_sha256[0] = (uint8_t)(j >> 8);
                p.doc_sha256[1] = (uint8_t)j;
                p.hospital_name = (const uint8_t *)"Bench General Hospital";
                p.hospital_name_len = 22;
                p.locator[0] = (uint8_t)(j >> 8);   /* opaque document locator */
                p.locator[1] = (uint8_t)j;
                TRY("build", hre_contract_build_new_record(&txs[j], n.id, n.admins[k],
                                                           admin_nonce[k]++, T0, &p));
            }
            tm += 600;
            blocks[i] = make_block(prev, tm, txs, TXS_PER_BLOCK, hash);
            memcpy(prev, hash, 32);
            for (j = 0; j < TXS_PER_BLOCK; j++)
                hre_tx_free(txs[j]);
        }
        free(txs);
    }

    /* import on 1 and 2 verifier threads */
    for (int th = 1; th <= 2; th++) {
        char sub[32];
        hre_storage *st;
        hre_ledger *l;
        hre_ledger_status s;
        double t, c;
        snprintf(sub, sizeof sub, "import%d", th);
        st = posix_store(sub);
        l = open_l(st, &n, (unsigned)th, HRE_LEDGER_SNAPSHOTS_OFF);
        TRY("setup block", hre_ledger_submit_block(l, &s, setup.b, setup.len, tm + 600));
        t = bench_wall_s();
        c = bench_cpu_s();
        for (i = 0; i < timed_blocks; i++)
            TRY("import", hre_ledger_submit_block(l, &s, blocks[i].b, blocks[i].len, tm + 600));
        t_import[th] = bench_wall_s() - t;
        c_import[th] = bench_cpu_s() - c;
        /* the rest (untimed) only to fill the state for the open test */
        for (; th == 2 && i < nblocks; i++)
            TRY("import", hre_ledger_submit_block(l, &s, blocks[i].b, blocks[i].len, tm + 600));
        if (th == 2) {
            /* open time from a snapshot holding every record */
            char path[1024];
            struct stat sb;
            TRY("snapshot", hre_ledger_snapshot(l));
            hre_ledger_close(l);
            t = bench_wall_s();
            c = bench_cpu_s();
            l = open_l(st, &n, 2, HRE_LEDGER_SNAPSHOTS_OFF);
            open_s = bench_wall_s() - t;
            open_cpu = bench_cpu_s() - c;
            {
                hre_contract_stats cs = HRE_CONTRACT_STATS_INIT;
                const hre_contract *tc = NULL;
                TRY("ledger contract", hre_ledger_contract(l, &tc));
                TRY("stats", hre_contract_stats_get(tc, &cs));
                if ((long)cs.records != (long)(nblocks * TXS_PER_BLOCK))
                    die("record count after reopen", HRE_ECORRUPT);
            }
            hre_ledger_close(l);   /* (its memory would weigh on the next figure) */
            l = NULL;
            snprintf(path, sizeof path, "%s/%s/snap-%016llx.dat", g_tmp, sub,
                     (unsigned long long)(nblocks + 1));
            if (stat(path, &sb) == 0) {
                /* the contract's own snapshot load, alone, on the same file (3 threads,
                 * like the ledger opened with 2 verifier threads) */
                FILE *f = fopen(path, "rb");
                uint8_t *buf = malloc((size_t)sb.st_size);
                snap_bytes = (double)sb.st_size;
                if (f && buf && fread(buf, 1, (size_t)sb.st_size, f) == (size_t)sb.st_size) {
                    hre_contract_options co;
                    hre_contract *cc = NULL;
                    TRY("copts", hre_contract_options_init(&co, HRE_CONTRACT_OPTIONS_VERSION));
                    memcpy(co.network_id, n.id, 32);
                    memcpy(co.authority_key, n.auth_wire, 34);
                    co.threads = 3;   /* as the ledger opened with 2 verifier threads */
                    t = bench_wall_s();
                    c = bench_cpu_s();
                    TRY("snapshot load", hre_contract_snapshot_load(&cc, &co, buf + 92,
                                                                    (size_t)sb.st_size - 92));
                    load_wall = bench_wall_s() - t;
                    load_cpu = bench_cpu_s() - c;
                    hre_contract_free(cc);
                }
                if (f)
                    fclose(f);
                free(buf);
            }
        }
        if (l)
            hre_ledger_close(l);
        hre_storage_free(st);
    }
    for (int m = 1; m <= 2; m++)
        have_sp[m] = bench_speed_ecdsa("ecdsap256", m, speed_s, NULL, &sp[m]);

    /* append throughput: 500 empty blocks, fsync each vs group commit */
    {
        enum { NE = 500, GROUP = 100 };
        blk *e = calloc(NE, sizeof *e);
        uint8_t p2[32];
        hre_storage *st;
        hre_ledger *l;
        hre_ledger_status s;
        double t;
        memcpy(p2, n.id, 32);
        for (i = 0; i < NE; i++) {
            e[i] = make_block(p2, T0 + 1 + (uint32_t)i, NULL, 0, hash);
            memcpy(p2, hash, 32);
        }
        st = posix_store("append1");
        l = open_l(st, &n, 0, HRE_LEDGER_SNAPSHOTS_OFF);
        t = bench_wall_s();
        for (i = 0; i < NE; i++)
            TRY("append", hre_ledger_submit_block(l, &s, e[i].b, e[i].len, T0 + 100000));
        append_one = NE / (bench_wall_s() - t);
        hre_ledger_close(l);
        hre_storage_free(st);
        st = posix_store("appendg");
        l = open_l(st, &n, 0, HRE_LEDGER_SNAPSHOTS_OFF);
        t = bench_wall_s();
        for (i = 0; i < NE; i += GROUP) {
            const uint8_t *bp[GROUP];
            size_t bl[GROUP], c = 0;
            for (j = 0; j < GROUP; j++) {
                bp[j] = e[i + j].b;
                bl[j] = e[i + j].len;
            }
            TRY("group", hre_ledger_submit_blocks(l, &c, &s, bp, bl, GROUP, T0 + 100000));
        }
        append_group = NE / (bench_wall_s() - t);
        hre_ledger_close(l);
        hre_storage_free(st);
        for (i = 0; i < NE; i++)
            free(e[i].b);
        free(e);
    }

    {
        double tx = (double)timed_blocks * TXS_PER_BLOCK, recs = (double)nblocks * TXS_PER_BLOCK;
        double r1 = tx / t_import[1], r2 = tx / t_import[2], r1c = tx / c_import[1];
        char cmd[256], kind[96];
        bench_json_begin(&js, stdout);
        bench_json_head(&js, "ledger");
        bench_json_str(&js, "storage", "posix (fsync)");
        bench_json_str(&js, "tmpdir", tmpdir);
        bench_json_int(&js, "records", records);
        bench_json_int(&js, "timed_blocks", (long long)timed_blocks);
        bench_json_int(&js, "txs_per_block", TXS_PER_BLOCK);
        snprintf(kind, sizeof kind, "new_record from %d hospital admins (warm key cache)", N_ADMINS);
        bench_json_str(&js, "tx_kind", kind);
        bench_json_int(&js, "append_empty_blocks", 500);
        bench_json_int(&js, "group_commit_blocks", 100);
        bench_json_str(&js, "openssl_speed_command",
                       bench_speed_command(cmd, sizeof cmd, 1, speed_s, "[-multi 2] ecdsap256"));
        bench_json_end_object(&js);
        bench_json_object(&js, "results");
        bench_json_object(&js, "import_1_thread");
        bench_json_num(&js, "seconds", t_import[1], 3);
        bench_json_num(&js, "cpu_seconds", c_import[1], 3);
        bench_json_num(&js, "tx_per_s", r1, 0);
        bench_json_num(&js, "tx_per_cpu_s", r1c, 0);
        bench_json_num(&js, "blocks_per_s", timed_blocks / t_import[1], 2);
        bench_json_opt(&js, "openssl_speed_verify_per_cpu_s", have_sp[1], sp[1], 0);
        bench_json_ratio(&js, "ratio", r1c, have_sp[1] ? sp[1] : 0);
        bench_json_ratio(&js, "ratio_wall", r1, have_sp[1] ? sp[1] : 0);
        bench_json_num(&js, "bar_ratio", 0.6, 1);
        bench_json_bool(&js, "meets_bar", have_sp[1] && r1c / sp[1] >= 0.6);
        bench_json_end_object(&js);
        bench_json_object(&js, "import_2_threads");
        bench_json_num(&js, "seconds", t_import[2], 3);
        bench_json_num(&js, "cpu_seconds", c_import[2], 3);
        bench_json_num(&js, "tx_per_s", r2, 0);
        bench_json_num(&js, "blocks_per_s", timed_blocks / t_import[2], 2);
        bench_json_opt(&js, "openssl_speed_multi2_verify_per_s", have_sp[2], sp[2], 0);
        bench_json_ratio(&js, "ratio", r2, have_sp[2] ? sp[2] : 0);
        bench_json_num(&js, "bar_ratio", 0.6, 1);
        bench_json_bool(&js, "meets_bar", have_sp[2] && r2 / sp[2] >= 0.6);
        bench_json_end_object(&js);
        bench_json_object(&js, "open_from_snapshot");
        bench_json_num(&js, "records_count", recs, 0);
        bench_json_num(&js, "snapshot_bytes", snap_bytes, 0);
        bench_json_num(&js, "seconds", open_s, 3);
        bench_json_num(&js, "cpu_seconds", open_cpu, 3);
        bench_json_opt(&js, "contract_load_alone_seconds", load_wall >= 0, load_wall, 3);
        bench_json_opt(&js, "contract_load_alone_cpu_seconds", load_cpu >= 0, load_cpu, 3);
        bench_json_num(&js, "bar_for_1m_records_seconds", 2.0, 1);
        bench_json_end_object(&js);
        bench_json_object(&js, "append");
        bench_json_num(&js, "fsync_per_block_blocks_per_s", append_one, 0);
        bench_json_num(&js, "group_commit_blocks_per_s", append_group, 0);
        bench_json_ratio(&js, "ratio_group_vs_fsync_per_block", append_group, append_one);
        bench_json_end_object(&js);
        bench_json_end_object(&js);
        bench_json_object(&js, "notes");
        bench_json_str(&js, "import", "wall-clock; includes decode, Merkle, every signature on the "
                       "verifier threads, contract apply, zlib, append and fsync. ratio: per CPU "
                       "second against openssl speed without -multi (which reports per CPU "
                       "second); on 2 threads per wall second against -multi 2");
        bench_json_str(&js, "open_from_snapshot", "set HRE_BENCH_RECORDS (or argv[1]) to 1000000 "
                       "for the issue's figure; contract_load_alone: hre_contract_snapshot_load of "
                       "the same file on 3 threads");
        bench_json_end_object(&js);
        rc = bench_json_end(&js);
    }
    for (i = 0; i < nblocks; i++)
        free(blocks[i].b);
    free(blocks);
    free(setup.b);
    hre_key_free(n.auth);
    hre_key_free(n.patient);
    for (i = 0; i < N_ADMINS; i++)
        hre_key_free(n.admins[i]);
    {
        const char *subs[] = {"import1", "import2", "append1", "appendg"};
        for (i = 0; i < 4; i++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", g_tmp, subs[i]);
            rm_dir(path);
        }
        rmdir(g_tmp);
    }
    return rc == 0 ? 0 : 1;
}
