/*
 * hre: the chain commands: chain info | verify | block | tx | proof |
 * verify-proof (see cli.h). Block hashes are printed and read in display
 * order (byte-reversed, as Bitcoin tools print them); txids, record, grant
 * and account ids in internal order, as everywhere in hre.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* ---- small helpers ----------------------------------------------------- */

const char *cli_kind_name(unsigned int kind)
{
    static const char *const names[] = {
        "unknown", "register-org", "appoint-admin", "register-doctor", "register-patient",
        "suspend", "rotate-key", "new-record", "sign-record", "grant", "revoke", "log-access",
        "register-node", "suspend-org", "set-enc-key", "erase-record",
    };
    return kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}

#define hash_disp cli_block_hash_hex

/* The 256-bit little-endian work as 64 hex digits, most significant first. */
static void work_hex(char out[65], const uint8_t work[32])
{
    uint8_t be[32];
    for (int i = 0; i < 32; i++)
        be[i] = work[31 - i];
    cli_hex(out, be, 32);
}

/* The account address that sent a transaction: the account the sender key
 * belongs (or belonged) to, else sha256(key) (a key the state does not know). */
static void sender_address(const hre_contract *st, const uint8_t key[34], uint8_t addr[32])
{
    hre_contract_account acct = HRE_CONTRACT_ACCOUNT_INIT;
    int retired = 0;
    if (st && hre_contract_account_by_key(st, &acct, &retired, key) == HRE_OK) {
        memcpy(addr, acct.address, 32);
        return;
    }
    if (hre_contract_address(addr, key) != HRE_OK)
        memset(addr, 0, 32);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (!end || *end)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* The stored block at height, decoded with the network's caps. */
static int load_block(cli *c, hre_ledger *l, uint64_t height, uint8_t **raw, size_t *raw_len,
                      hre_block **out)
{
    *out = NULL;
    if (raw)
        *raw = NULL;
    size_t len = 0;
    int rc = hre_ledger_block_by_height(l, NULL, &len, height);
    if (rc != HRE_OK && rc != HRE_EBUFSIZE)
        return cli_fail(c, rc, "read the block");
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return cli_error(c, CLI_EXIT_INTERNAL, "out of memory");
    rc = hre_ledger_block_by_height(l, buf, &len, height);
    hre_chain_params p = HRE_CHAIN_PARAMS_INIT;
    hre_block_limits lim = HRE_BLOCK_LIMITS_INIT;
    if (rc == HRE_OK)
        rc = hre_ledger_params(l, &p);
    if (rc == HRE_OK)
        rc = hre_chain_params_block_limits(&p, &lim);
    if (rc == HRE_OK)
        rc = hre_block_decode(out, buf, len, &lim);
    if (rc != HRE_OK) {
        free(buf);
        char what[64];
        snprintf(what, sizeof what, "block %" PRIu64, height);
        return cli_fail(c, rc, what);
    }
    if (raw) {
        *raw = buf;
        *raw_len = len;
    } else {
        free(buf);
    }
    return CLI_EXIT_OK;
}

/* ---- the decoded payload fields of a transaction ----------------------- */

#define MAX_FIELDS 16
typedef struct field {
    const char *name;
    char text[64 * 66 + 8];   /* room for the ids of a records grant */
    int number;               /* 1: a JSON number; 2: a JSON array of strings (comma-separated) */
} field;

typedef struct fields {
    field f[MAX_FIELDS];
    size_t n;
} fields;

static field *fadd(fields *fs, const char *name, int number)
{
    if (fs->n >= MAX_FIELDS)
        return &fs->f[MAX_FIELDS - 1];
    field *f = &fs->f[fs->n++];
    f->name = name;
    f->number = number;
    f->text[0] = '\0';
    return f;
}

static void fhex(fields *fs, const char *name, const uint8_t *b, size_t len)
{
    cli_hex(fadd(fs, name, 0)->text, b, len);
}

static void fnum(fields *fs, const char *name, uint64_t v)
{
    snprintf(fadd(fs, name, 1)->text, sizeof fs->f[0].text, "%" PRIu64, v);
}

static void fstr(fields *fs, const char *name, const uint8_t *s, size_t len)
{
    field *f = fadd(fs, name, 0);
    size_t n = len < sizeof f->text - 1 ? len : sizeof f->text - 1;
    memcpy(f->text, s, n);
    f->text[n] = '\0';
}

static void ftime(fields *fs, const char *name, uint64_t t)
{
    cli_time_iso(fadd(fs, name, 0)->text, t);
}

static const char *org_type_name(unsigned t)
{
    static const char *const n[] = { "none", "hospital", "lab", "clinic", "insurer", "research",
                                     "pharmacy" };
    return t < sizeof n / sizeof n[0] ? n[t] : "unknown";
}

/* Decode the payload of a contract transaction into fields. Returns the
 * library code of the decoder (HRE_EUNSUPPORTED for an unknown kind). */
static int payload_fields(fields *fs, unsigned kind, const uint8_t *pl, size_t len)
{
    int rc;
    fs->n = 0;
    switch (kind) {
    case HRE_KIND_REGISTER_ORG: {
        hre_register_org_payload p;
        if ((rc = hre_contract_decode_register_org(&p, pl, len)) != HRE_OK) return rc;
        snprintf(fadd(fs, "org_type", 0)->text, 32, "%s", org_type_name(p.org_type));
        fstr(fs, "name", p.name, p.name_len);
        fhex(fs, "admin_key", p.admin_key, 34);
        return HRE_OK;
    }
    case HRE_KIND_APPOINT_ADMIN: {
        hre_appoint_admin_payload p;
        if ((rc = hre_contract_decode_appoint_admin(&p, pl, len)) != HRE_OK) return rc;
        fhex(fs, "org", p.org_id, 32);
        fhex(fs, "admin_key", p.admin_key, 34);
        return HRE_OK;
    }
    case HRE_KIND_REGISTER_DOCTOR: {
        hre_register_doctor_payload p;
        if ((rc = hre_contract_decode_register_doctor(&p, pl, len)) != HRE_OK) return rc;
        fhex(fs, "doctor_key", p.doctor_key, 34);
        return HRE_OK;
    }
    case HRE_KIND_REGISTER_PATIENT: {
        hre_register_patient_payload p;
        return hre_contract_decode_register_patient(&p, pl, len);
    }
    case HRE_KIND_SUSPEND: {
        hre_suspend_payload p;
        if ((rc = hre_contract_decode_suspend(&p, pl, len)) != HRE_OK) return rc;
        fhex(fs, "target", p.target, 32);
        snprintf(fadd(fs, "action", 0)->text, 32, "%s",
                 p.action == HRE_SUSPEND_SUSPEND ? "suspend" : "reinstate");
        return HRE_OK;
    }
    case HRE_KIND_ROTATE_KEY: {
        hre_rotate_key_payload p;
        if ((rc = hre_contract_decode_rotate_key(&p, pl, len)) != HRE_OK) return rc;
        fhex(fs, "target", p.target, 32);
        fhex(fs, "new_key", p.new_key, 34);
        return HRE_OK;
    }
    case HRE_KIND_NEW_RECORD: {
        hre_new_record_payload p;
        if ((rc = hre_contract_decode_new_record(&p, pl, len)) != HRE_OK) return rc;
        fhex(fs, "patient", p.patient, 32);
        fhex(fs, "lab_org", p.lab_org, 32);
        fhex(fs, "commit_patient_id", p.commit_patient_id, 32);
        fhex(fs, "commit_test_name", p.commit_test_name, 32);
        ftime(fs, "date", p.date);
        fnum(fs, "price", p.price);
        fnum(fs, "category", p.category);
        fhex(fs, "doc_sha256", p.doc_sha256, 32);
        fstr(fs, "hospital_name", p.hospital_name, p.hospital_name_len);
        fhex(fs, "locator", p.locator, 32);
        if (p.has_supersedes)
            fhex(fs, "supersedes", p.supersedes, 32);
        return HRE_OK;
    }
    case HRE_KIND_SIGN_RECORD: {
        hre_sign_record_payload p;
        if ((rc = hre_contract_decode_sign_record(&p, pl, len)) != HRE_OK) return rc;
        fhex(fs, "record", p.record_id, 32);
        return HRE_OK;
    }
    case HRE_KIND_GRANT: {
        hre_grant_payload p;
        if ((rc = hre_contract_decode_grant(&p, pl, len)) != HRE_OK) return rc;
        snprintf(fadd(fs, "reader_type", 0)->text, 32, "%s",
                 p.reader_type == HRE_READER_ORG ? "org" : "account");
        fhex(fs, "reader", p.reader, 32);
        snprintf(fadd(fs, "scope", 0)->text, 32, "%s",
                 p.scope == HRE_SCOPE_ALL ? "all" : p.scope == HRE_SCOPE_CATEGORY ? "category"
                                                                              : "records");
        if (p.scope == HRE_SCOPE_CATEGORY)
            fnum(fs, "category", p.category);
        if (p.scope == HRE_SCOPE_RECORDS) {
            field *f = fadd(fs, "records", 2);
            size_t o = 0;
            for (size_t i = 0; i < p.record_count && o + 66 < sizeof f->text; i++) {
                if (i)
                    f->text[o++] = ',';
                cli_hex(f->text + o, p.record_ids + 32 * i, 32);
                o += 64;
            }
        }
        if (p.expiry)
            ftime(fs, "expiry", p.expiry);
        else
            snprintf(fadd(fs, "expiry", 0)->text, 8, "none");
        fnum(fs, "envelope_bytes", p.envelope_len);
        return HRE_OK;
    }
    case HRE_KIND_REVOKE: {
        hre_revoke_payload p;
        if ((rc = hre_contract_decode_revoke(&p, pl, len)) != HRE_OK) return rc;
        fhex(fs, "grant", p.grant_id, 32);
        return HRE_OK;
    }
    case HRE_KIND_LOG_ACCESS: {
        hre_log_access_payload p;
        if ((rc = hre_contract_decode_log_access(&p, pl, len)) != HRE_OK) return rc;
        fhex(fs, "record", p.record_id, 32);
        fnum(fs, "purpose", p.purpose);
        return HRE_OK;
    }
    case HRE_KIND_REGISTER_NODE: {
        hre_register_node_payload p;
        if ((rc = hre_contract_decode_register_node(&p, pl, len)) != HRE_OK) return rc;
        fhex(fs, "node_key", p.node_key, 34);
        return HRE_OK;
    }
    case HRE_KIND_SUSPEND_ORG: {
        hre_suspend_org_payload p;
        if ((rc = hre_contract_decode_suspend_org(&p, pl, len)) != HRE_OK) return rc;
        fhex(fs, "org", p.org_id, 32);
        snprintf(fadd(fs, "action", 0)->text, 32, "%s",
                 p.action == HRE_SUSPEND_SUSPEND ? "suspend" : "reinstate");
        return HRE_OK;
    }
    case HRE_KIND_SET_ENC_KEY: {
        hre_set_enc_key_payload p;
        if ((rc = hre_contract_decode_set_enc_key(&p, pl, len)) != HRE_OK) return rc;
        snprintf(fadd(fs, "target_type", 0)->text, 32, "%s",
                 p.target_type == HRE_ENC_TARGET_ORG ? "org" : "account");
        fhex(fs, "target", p.target, 32);
        fhex(fs, "enc_key", p.enc_key, 34);
        return HRE_OK;
    }
    case HRE_KIND_ERASE_RECORD: {
        hre_erase_record_payload p;
        if ((rc = hre_contract_decode_erase_record(&p, pl, len)) != HRE_OK) return rc;
        fhex(fs, "record", p.record_id, 32);
        return HRE_OK;
    }
    default:
        return HRE_EUNSUPPORTED;
    }
}

static void fields_json(FILE *f, const fields *fs)
{
    fputc('{', f);
    for (size_t i = 0; i < fs->n; i++) {
        const field *x = &fs->f[i];
        fprintf(f, "%s\"%s\":", i ? "," : "", x->name);
        if (x->number == 1) {
            fputs(x->text, f);
        } else if (x->number == 2) {
            fputc('[', f);
            const char *s = x->text;
            int first = 1;
            while (*s) {
                const char *e = strchr(s, ',');
                size_t n = e ? (size_t)(e - s) : strlen(s);
                fprintf(f, "%s\"%.*s\"", first ? "" : ",", (int)n, s);
                first = 0;
                s += n + (e ? 1 : 0);
            }
            fputc(']', f);
        } else {
            cli_json_str(f, x->text);
        }
    }
    fputc('}', f);
}

static void fields_text(FILE *f, const fields *fs, const char *indent)
{
    for (size_t i = 0; i < fs->n; i++)
        fprintf(f, "%s%-18s %s\n", indent, fs->f[i].name, fs->f[i].text);
}

/* ---- chain info -------------------------------------------------------- */

static int cmd_info(cli *c, const cli_args *a)
{
    (void)a;
    hre_ledger *l = NULL;
    int code = cli_ledger(c, &l);
    if (code != CLI_EXIT_OK)
        return code;
    uint8_t net[32], tip[32], work[32], fp[32], gorg[32];
    uint64_t height = 0;
    hre_header th;
    int rc = hre_ledger_network_id(l, net);
    if (rc == HRE_OK) rc = hre_ledger_tip(l, &height, tip);
    if (rc == HRE_OK) rc = hre_ledger_header_by_height(l, &th, NULL, height);
    if (rc == HRE_OK) rc = hre_ledger_tip_work(l, work);
    if (rc == HRE_OK) rc = hre_ledger_fingerprint(l, fp);
    if (rc != HRE_OK)
        return cli_fail(c, rc, "chain info");
    size_t mempool = hre_ledger_mempool_count(l);
    const hre_contract *st = NULL;
    if ((code = cli_state(c, &st)) != CLI_EXIT_OK)
        return code;
    hre_contract_stats stats = HRE_CONTRACT_STATS_INIT;
    hre_contract_org org = HRE_CONTRACT_ORG_INIT;
    if ((rc = hre_contract_stats_get(st, &stats)) != HRE_OK)
        return cli_fail(c, rc, "contract stats");
    if ((rc = hre_contract_genesis_org_id(gorg, net)) != HRE_OK ||
        (rc = hre_contract_org_get(st, &org, gorg)) != HRE_OK)
        return cli_fail(c, rc, "genesis organisation");
    char tiph[65], workh[65], t[32];
    hash_disp(tiph, tip);
    work_hex(workh, work);
    cli_time_iso(t, th.time);
    if (c->json) {
        fputs("{\"network_id\":", c->out);
        cli_json_hex(c->out, net, 32);
        fputs(",\"org_name\":", c->out);
        cli_json_str(c->out, org.name);
        fprintf(c->out, ",\"height\":%" PRIu64 ",\"tip\":\"%s\",\"tip_time\":\"%s\","
                        "\"tip_time_unix\":%u,\"chainwork\":\"%s\",\"mempool\":%zu,"
                        "\"fingerprint\":", height, tiph, t, th.time, workh, mempool);
        cli_json_hex(c->out, fp, 32);
        fprintf(c->out, ",\"contract\":{\"accounts\":%" PRIu64 ",\"keys\":%" PRIu64
                        ",\"orgs\":%" PRIu64 ",\"records\":%" PRIu64 ",\"grants\":%" PRIu64
                        ",\"events\":%" PRIu64 "}}\n",
                stats.accounts, stats.keys, stats.orgs, stats.records, stats.grants,
                stats.events);
        return CLI_EXIT_OK;
    }
    char neth[65], fph[65];
    cli_hex(neth, net, 32);
    cli_hex(fph, fp, 32);
    fprintf(c->out,
            "network id:   %s\n"
            "organisation: %s\n"
            "height:       %" PRIu64 "\n"
            "tip:          %s\n"
            "tip time:     %s\n"
            "chainwork:    %s\n"
            "mempool:      %zu transactions\n"
            "contract:     %" PRIu64 " accounts, %" PRIu64 " keys, %" PRIu64 " organisations, %"
            PRIu64 " records, %" PRIu64 " grants, %" PRIu64 " events\n"
            "fingerprint:  %s\n",
            neth, org.name, height, tiph, t, workh, mempool, stats.accounts, stats.keys,
            stats.orgs, stats.records, stats.grants, stats.events, fph);
    return CLI_EXIT_OK;
}

/* ---- chain verify ------------------------------------------------------ */

typedef struct progress {
    cli *c;
    int bar;                 /* 1: a bar on the terminal c->out; 0: lines on c->err */
    int lines;               /* 1: lines (not --quiet) */
    uint64_t from;           /* report from this height on */
    uint64_t last_step;      /* the last 5% step printed */
    uint64_t last_ms;        /* when the last line was printed */
    uint64_t last_height;
} progress;

static int on_progress(void *ud, uint64_t height, uint64_t tip)
{
    progress *p = ud;
    p->last_height = height;
    if (height < p->from || tip == 0)
        return 0;
    if (p->bar) {
        int width = 40, done = (int)(height * (uint64_t)width / tip);
        char bar[48];
        for (int i = 0; i < width; i++)
            bar[i] = i < done ? '#' : '.';
        bar[width] = '\0';
        fprintf(p->c->out, "\rverifying [%s] %3u%% %" PRIu64 "/%" PRIu64, bar,
                (unsigned)(height * 100 / tip), height, tip);
        fflush(p->c->out);
        return 0;
    }
    if (!p->lines)
        return 0;
    uint64_t step = height * 20 / tip, now = cli_now_ms();
    if (step > p->last_step || now - p->last_ms >= 3000 || height == tip) {
        if (height == tip && p->last_step == 21)
            return 0;
        fprintf(p->c->err, "verified %" PRIu64 "/%" PRIu64 "\n", height, tip);
        fflush(p->c->err);
        p->last_step = height == tip ? 21 : step;
        p->last_ms = now;
    }
    return 0;
}

/* --from H: the blocks H..tip without the contract replay: each read back
 * from storage, its link to the previous header, its proof of work, its
 * Merkle root and every transaction's decoding and signature. */
static int verify_range(hre_ledger *l, progress *p, uint64_t from, uint64_t tip, uint64_t *bad)
{
    hre_chain_params params = HRE_CHAIN_PARAMS_INIT;
    hre_block_limits lim = HRE_BLOCK_LIMITS_INIT;
    uint8_t net[32], prev[32];
    int rc = hre_ledger_params(l, &params);
    if (rc == HRE_OK) rc = hre_chain_params_block_limits(&params, &lim);
    if (rc == HRE_OK) rc = hre_ledger_network_id(l, net);
    if (rc == HRE_OK) rc = hre_ledger_header_by_height(l, &(hre_header){ 0 }, prev,
                                                         from ? from - 1 : 0);
    if (rc != HRE_OK)
        return rc;
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (uint64_t h = from ? from : 1; h <= tip; h++) {
        size_t len = cap;
        hre_block *blk = NULL;
        rc = hre_ledger_block_by_height(l, buf, &len, h);
        if (rc == HRE_EBUFSIZE) {
            uint8_t *nb = realloc(buf, len);
            if (!nb) {
                rc = HRE_ENOMEM;
                break;
            }
            buf = nb;
            cap = len;
            rc = hre_ledger_block_by_height(l, buf, &len, h);
        }
        uint8_t hash[32];
        if (rc == HRE_OK) rc = hre_block_decode(&blk, buf, len, &lim);
        if (rc == HRE_OK && memcmp(hre_block_header(blk)->prev_hash, prev, 32) != 0)
            rc = HRE_EVERIFY;
        if (rc == HRE_OK) rc = hre_pow_check(hre_block_header(blk), params.pow_limit);
        if (rc == HRE_OK) rc = hre_block_check_merkle(blk);
        if (rc == HRE_OK) rc = hre_header_hash(hre_block_header(blk), hash);
        for (size_t i = 0; rc == HRE_OK && i < hre_block_tx_count(blk); i++) {
            const uint8_t *tb = NULL;
            size_t tl = 0;
            hre_tx *tx = NULL;
            rc = hre_block_tx(blk, &tb, &tl, i);
            if (rc == HRE_OK) rc = hre_tx_decode(&tx, tb, tl);
            if (rc == HRE_OK) rc = hre_tx_verify(tx, NULL, net);
            hre_tx_free(tx);
        }
        hre_block_free(blk);
        if (rc != HRE_OK) {
            *bad = h;
            break;
        }
        memcpy(prev, hash, 32);
        on_progress(p, h, tip);
    }
    free(buf);
    return rc;
}

static int cmd_verify(cli *c, const cli_args *a)
{
    hre_ledger *l = NULL;
    int code = cli_ledger(c, &l);
    if (code != CLI_EXIT_OK)
        return code;
    progress p;
    memset(&p, 0, sizeof p);
    p.c = c;
    const char *from = cli_get(a, "--from");
    if (from && parse_u64(from, &p.from) != 0)
        return cli_error(c, CLI_EXIT_USAGE, "chain verify: --from: not a height: '%s'", from);
    uint64_t tip_h = 0;
    uint8_t tip[32];
    int rc = hre_ledger_tip(l, &tip_h, tip);
    if (rc != HRE_OK)
        return cli_fail(c, rc, "tip");
    if (p.from > tip_h)
        return cli_error(c, CLI_EXIT_NOTFOUND, "chain verify: --from %" PRIu64
                         " is above the tip (height %" PRIu64 ")", p.from, tip_h);
    p.bar = !c->json && !c->quiet && isatty(fileno(c->out));
    p.lines = !c->quiet && !p.bar;
    p.last_ms = cli_now_ms();
    uint64_t bad = UINT64_MAX;
    if (from)
        rc = verify_range(l, &p, p.from, tip_h, &bad);
    else
        rc = hre_ledger_verify_chain(l, &bad, on_progress, &p);
    char detail[512];
    snprintf(detail, sizeof detail, "%s", hre_error_detail());
    if (p.bar)
        fputs("\r\033[K", c->out);
    char tiph[65];
    hash_disp(tiph, tip);
    if (rc == HRE_OK) {
        if (c->json)
            fprintf(c->out, "{\"ok\":true,\"height\":%" PRIu64 ",\"tip\":\"%s\",\"from\":%" PRIu64
                            "}\n", tip_h, tiph, p.from);
        else
            fprintf(c->out, from ? "blocks %" PRIu64 "..%" PRIu64 " verified, tip %s (re-read, "
                                   "links, proof of work, Merkle roots, signatures; the "
                                   "contract state was not replayed)\n"
                                 : "chain verified: blocks %" PRIu64 "..%" PRIu64 ", tip %s "
                                   "(every block re-read, re-validated and replayed from "
                                   "genesis; the state hash matches)\n",
                    from ? (p.from ? p.from : 1) : 1, tip_h, tiph);
        return CLI_EXIT_OK;
    }
    if (c->json) {
        fputs("{\"ok\":false", c->out);
        if (bad != UINT64_MAX)
            fprintf(c->out, ",\"first_bad_height\":%" PRIu64, bad);
        else
            fputs(",\"first_bad_height\":null", c->out);
        fputs(",\"error\":", c->out);
        cli_json_str(c->out, hre_strerror(rc));
        fputs(",\"detail\":", c->out);
        cli_json_str(c->out, detail);
        fputs("}\n", c->out);
    }
    if (bad != UINT64_MAX) {
        fprintf(c->err, "hre: chain verify: the block at height %" PRIu64 " is bad: %s (%s)\n",
                bad, hre_strerror(rc), detail);
        return CLI_EXIT_REFUSED;
    }
    if (rc == HRE_ECORRUPT) {
        fprintf(c->err, "hre: chain verify: the state does not match: %s (%s)\n",
                hre_strerror(rc), detail);
        return CLI_EXIT_REFUSED;
    }
    return cli_error(c, cli_exit_code(rc), "chain verify: %s (%s)", hre_strerror(rc), detail);
}

/* ---- chain block ------------------------------------------------------- */

static int cmd_block(cli *c, const cli_args *a)
{
    hre_ledger *l = NULL;
    int code = cli_ledger(c, &l);
    if (code != CLI_EXIT_OK)
        return code;
    const char *arg = a->pos[0];
    uint64_t height = 0;
    int rc;
    if (strlen(arg) == 64) {
        uint8_t hash[32];
        hre_header h;
        int on_main = 0;
        if (hre_hash_display_decode(hash, arg, 64) != HRE_OK)
            return cli_error(c, CLI_EXIT_INPUT, "chain block: '%s' is neither a height nor a "
                             "block hash (64 hex digits, display order)", arg);
        rc = hre_ledger_header_by_hash(l, &h, &height, &on_main, hash);
        if (rc == HRE_ENOTFOUND)
            return cli_error(c, CLI_EXIT_NOTFOUND, "chain block: no block %s", arg);
        if (rc != HRE_OK)
            return cli_fail(c, rc, "chain block");
        if (!on_main)
            return cli_error(c, CLI_EXIT_NOTFOUND, "chain block: block %s is on a side branch, "
                             "not the main chain", arg);
    } else if (parse_u64(arg, &height) != 0) {
        return cli_error(c, CLI_EXIT_INPUT, "chain block: '%s' is neither a height nor a block "
                         "hash (64 hex digits, display order)", arg);
    }
    uint64_t tip = 0;
    if ((rc = hre_ledger_tip(l, &tip, NULL)) != HRE_OK)
        return cli_fail(c, rc, "tip");
    if (height > tip)
        return cli_error(c, CLI_EXIT_NOTFOUND, "chain block: no block at height %" PRIu64
                         " (the tip is at %" PRIu64 ")", height, tip);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    hre_block *blk = NULL;
    if ((code = load_block(c, l, height, &raw, &raw_len, &blk)) != CLI_EXIT_OK)
        return code;
    const char *rawpath = cli_get(a, "--raw");
    if (rawpath && (code = cli_write_file(c, rawpath, raw, raw_len, 0644)) != CLI_EXIT_OK) {
        free(raw);
        hre_block_free(blk);
        return code;
    }
    free(raw);
    const hre_contract *st = NULL;
    if ((code = cli_state(c, &st)) != CLI_EXIT_OK) {
        hre_block_free(blk);
        return code;
    }
    const hre_header *h = hre_block_header(blk);
    uint8_t hash[32];
    if ((rc = hre_header_hash(h, hash)) != HRE_OK) {
        hre_block_free(blk);
        return cli_fail(c, rc, "block hash");
    }
    char hh[65], prevh[65], root[65], t[32];
    hash_disp(hh, hash);
    hash_disp(prevh, h->prev_hash);
    cli_hex(root, h->merkle_root, 32);
    cli_time_iso(t, h->time);
    size_t n = hre_block_tx_count(blk);
    if (c->json)
        fprintf(c->out, "{\"height\":%" PRIu64 ",\"hash\":\"%s\",\"version\":%u,"
                        "\"prev_hash\":\"%s\",\"merkle_root\":\"%s\",\"time\":\"%s\","
                        "\"time_unix\":%u,\"bits\":\"%08x\",\"nonce\":%u,\"size\":%zu,"
                        "\"confirmations\":%" PRIu64 ",\"tx_count\":%zu,\"txs\":[",
                height, hh, h->version, prevh, root, t, h->time, h->bits, h->nonce, raw_len,
                tip - height + 1, n);
    else
        fprintf(c->out, "block %" PRIu64 "\n  hash:          %s\n  version:       %u\n"
                        "  prev hash:     %s\n  merkle root:   %s\n  time:          %s (%u)\n"
                        "  bits:          0x%08x\n  nonce:         %u\n  size:          %zu bytes\n"
                        "  confirmations: %" PRIu64 "\n  transactions:  %zu\n",
                height, hh, h->version, prevh, root, t, h->time, h->bits, h->nonce, raw_len,
                tip - height + 1, n);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *txb = NULL;
        size_t txl = 0;
        hre_tx *tx = NULL;
        uint8_t txid[32], addr[32];
        char idh[65], ah[65];
        rc = hre_block_tx(blk, &txb, &txl, i);
        if (rc == HRE_OK) rc = hre_block_txid(blk, txid, i);
        if (rc == HRE_OK) rc = hre_tx_decode(&tx, txb, txl);
        if (rc != HRE_OK) {
            hre_block_free(blk);
            return cli_fail(c, rc, "block transaction");
        }
        sender_address(st, hre_tx_sender(tx), addr);
        cli_hex(idh, txid, 32);
        cli_hex(ah, addr, 32);
        if (c->json)
            fprintf(c->out, "%s{\"index\":%zu,\"txid\":\"%s\",\"kind\":%u,\"kind_name\":\"%s\","
                            "\"sender\":\"%s\",\"nonce\":%" PRIu64 "}", i ? "," : "", i, idh,
                    hre_tx_kind(tx), cli_kind_name(hre_tx_kind(tx)), ah, hre_tx_nonce(tx));
        else
            fprintf(c->out, "  tx %zu: %s %-16s sender %s nonce %" PRIu64 "\n", i, idh,
                    cli_kind_name(hre_tx_kind(tx)), ah, hre_tx_nonce(tx));
        hre_tx_free(tx);
    }
    if (c->json)
        fputs("]}\n", c->out);
    hre_block_free(blk);
    return CLI_EXIT_OK;
}

/* ---- finding a transaction --------------------------------------------- */

/* The main-chain transaction txid: its block's height, the block, its index. */
static int find_tx(cli *c, hre_ledger *l, const uint8_t txid[32], const cli_args *a,
                   uint64_t *height, hre_block **blk, size_t *index, hre_merkle_branch *branch)
{
    uint64_t hint = UINT64_MAX;
    const char *hs = cli_get(a, "--height");
    if (hs && parse_u64(hs, &hint) != 0)
        return cli_error(c, CLI_EXIT_USAGE, "--height: not a height: '%s'", hs);
    hre_header h;
    hre_merkle_branch br;
    int rc = hre_ledger_tx_proof(l, &h, &br, height, txid, hint);
    if (rc == HRE_ENOTFOUND) {
        char idh[65];
        cli_hex(idh, txid, 32);
        if (hre_ledger_mempool_contains(l, txid))
            return cli_error(c, CLI_EXIT_NOTFOUND, "transaction %s is in the mempool, not yet "
                             "in a block", idh);
        return cli_error(c, CLI_EXIT_NOTFOUND, "no transaction %s on the main chain", idh);
    }
    if (rc != HRE_OK)
        return cli_fail(c, rc, "find the transaction");
    if (branch)
        *branch = br;
    int code = load_block(c, l, *height, NULL, NULL, blk);
    if (code != CLI_EXIT_OK)
        return code;
    size_t n = hre_block_tx_count(*blk);
    for (size_t i = 0; i < n; i++) {
        uint8_t id[32];
        if (hre_block_txid(*blk, id, i) == HRE_OK && !memcmp(id, txid, 32)) {
            *index = i;
            return CLI_EXIT_OK;
        }
    }
    hre_block_free(*blk);
    *blk = NULL;
    return cli_error(c, CLI_EXIT_INTERNAL, "the block at height %" PRIu64 " lacks the "
                     "transaction its proof names", *height);
}

/* ---- chain tx ---------------------------------------------------------- */

static int cmd_tx(cli *c, const cli_args *a)
{
    uint8_t txid[32];
    int code = cli_id_arg(c, txid, a->pos[0], "chain tx: TXID");
    if (code != CLI_EXIT_OK)
        return code;
    hre_ledger *l = NULL;
    if ((code = cli_ledger(c, &l)) != CLI_EXIT_OK)
        return code;
    uint64_t height = 0, tip = 0;
    hre_block *blk = NULL;
    size_t index = 0;
    if ((code = find_tx(c, l, txid, a, &height, &blk, &index, NULL)) != CLI_EXIT_OK)
        return code;
    const uint8_t *txb = NULL;
    size_t txl = 0;
    hre_tx *tx = NULL;
    int rc = hre_block_tx(blk, &txb, &txl, index);
    if (rc == HRE_OK) rc = hre_tx_decode(&tx, txb, txl);
    if (rc == HRE_OK) rc = hre_ledger_tip(l, &tip, NULL);
    uint8_t bhash[32];
    if (rc == HRE_OK) rc = hre_header_hash(hre_block_header(blk), bhash);
    if (rc != HRE_OK) {
        hre_block_free(blk);
        return cli_fail(c, rc, "chain tx");
    }
    uint32_t btime = hre_block_header(blk)->time;
    size_t ntx = hre_block_tx_count(blk);
    hre_block_free(blk);
    const hre_contract *st = NULL;
    if ((code = cli_state(c, &st)) != CLI_EXIT_OK) {
        hre_tx_free(tx);
        return code;
    }
    uint8_t addr[32];
    sender_address(st, hre_tx_sender(tx), addr);
    size_t plen = 0;
    const uint8_t *pl = hre_tx_payload(tx, &plen);
    fields fs;
    int prc = payload_fields(&fs, hre_tx_kind(tx), pl, plen);
    char idh[65], ah[65], kh[69], bh[65], ts[32], bt[32];
    cli_hex(idh, txid, 32);
    cli_hex(ah, addr, 32);
    cli_hex(kh, hre_tx_sender(tx), 34);
    hash_disp(bh, bhash);
    cli_time_iso(ts, hre_tx_timestamp(tx));
    cli_time_iso(bt, btime);
    if (c->json) {
        fprintf(c->out, "{\"txid\":\"%s\",\"kind\":%u,\"kind_name\":\"%s\",\"sender\":\"%s\","
                        "\"sender_key\":\"%s\",\"nonce\":%" PRIu64 ",\"timestamp\":\"%s\","
                        "\"timestamp_unix\":%" PRIu64 ",\"height\":%" PRIu64 ",\"block\":\"%s\","
                        "\"block_time\":\"%s\",\"index\":%zu,\"block_tx_count\":%zu,"
                        "\"confirmations\":%" PRIu64 ",\"size\":%zu,\"payload\":",
                idh, hre_tx_kind(tx), cli_kind_name(hre_tx_kind(tx)), ah, kh, hre_tx_nonce(tx),
                ts, hre_tx_timestamp(tx), height, bh, bt, index, ntx, tip - height + 1, txl);
        if (prc == HRE_OK)
            fields_json(c->out, &fs);
        else
            cli_json_hex(c->out, pl, plen);
        fputs("}\n", c->out);
    } else {
        fprintf(c->out, "transaction %s\n  kind:          %s (%u)\n  sender:        %s\n"
                        "  sender key:    %s\n  nonce:         %" PRIu64 "\n"
                        "  timestamp:     %s\n  block:         %" PRIu64 " (%s, %s), tx %zu of %zu\n"
                        "  confirmations: %" PRIu64 "\n  size:          %zu bytes\n  payload:\n",
                idh, cli_kind_name(hre_tx_kind(tx)), hre_tx_kind(tx), ah, kh, hre_tx_nonce(tx),
                ts, height, bh, bt, index, ntx, tip - height + 1, txl);
        if (prc == HRE_OK) {
            fields_text(c->out, &fs, "    ");
        } else {
            fprintf(c->out, "    (%s: %zu bytes not decoded)\n", hre_strerror(prc), plen);
        }
    }
    hre_tx_free(tx);
    return CLI_EXIT_OK;
}

/* ---- chain proof ------------------------------------------------------- */

static int cmd_proof(cli *c, const cli_args *a)
{
    uint8_t txid[32];
    int code = cli_id_arg(c, txid, a->pos[0], "chain proof: TXID");
    if (code != CLI_EXIT_OK)
        return code;
    if (c->json && !strcmp(cli_get(a, "--out"), "-"))
        return cli_error(c, CLI_EXIT_USAGE, "chain proof: --out - and --json both want stdout");
    hre_ledger *l = NULL;
    if ((code = cli_ledger(c, &l)) != CLI_EXIT_OK)
        return code;
    uint64_t height = 0, tip = 0;
    hre_block *blk = NULL;
    size_t index = 0;
    hre_merkle_branch br;
    if ((code = find_tx(c, l, txid, a, &height, &blk, &index, &br)) != CLI_EXIT_OK)
        return code;
    const uint8_t *txb = NULL;
    size_t txl = 0;
    int rc = hre_block_tx(blk, &txb, &txl, index);
    if (rc == HRE_OK) rc = hre_ledger_tip(l, &tip, NULL);
    if (rc == HRE_OK && tip + 1 > HRE_PROOF_MAX_HEADERS)
        rc = HRE_ELIMIT;
    hre_header *hs = NULL;
    if (rc == HRE_OK && !(hs = calloc((size_t)tip + 1, sizeof *hs)))
        rc = HRE_ENOMEM;
    for (uint64_t i = 0; rc == HRE_OK && i <= tip; i++)
        rc = hre_ledger_header_by_height(l, &hs[i], NULL, i);
    hre_proof *p = NULL;
    if (rc == HRE_OK)
        rc = hre_proof_new(&p, hs, (size_t)tip + 1, height, &br, txb, txl);
    free(hs);
    hre_block_free(blk);
    if (rc != HRE_OK)
        return cli_fail(c, rc, "build the proof");
    size_t len = 0;
    rc = hre_proof_encode(p, NULL, &len);
    uint8_t *buf = (rc == HRE_OK || rc == HRE_EBUFSIZE) ? malloc(len ? len : 1) : NULL;
    rc = buf ? hre_proof_encode(p, buf, &len) : HRE_ENOMEM;
    hre_proof_free(p);
    if (rc != HRE_OK) {
        free(buf);
        return cli_fail(c, rc, "encode the proof");
    }
    const char *out = cli_get(a, "--out");
    code = cli_write_file(c, out, buf, len, 0644);
    free(buf);
    if (code != CLI_EXIT_OK)
        return code;
    char idh[65];
    cli_hex(idh, txid, 32);
    if (c->json) {
        fprintf(c->out, "{\"txid\":\"%s\",\"height\":%" PRIu64 ",\"headers\":%" PRIu64
                        ",\"confirmations\":%" PRIu64 ",\"size\":%zu,\"file\":",
                idh, height, tip + 1, tip - height + 1, len);
        cli_json_str(c->out, out);
        fputs("}\n", c->out);
    } else if (strcmp(out, "-") != 0) {
        fprintf(c->out, "proof of transaction %s (block %" PRIu64 ", %" PRIu64
                        " headers from genesis to the tip) written to %s (%zu bytes)\n",
                idh, height, tip + 1, out, len);
    }
    return CLI_EXIT_OK;
}

/* ---- chain verify-proof ------------------------------------------------ */

static int cmd_verify_proof(cli *c, const cli_args *a)
{
    const char *nf = cli_get(a, "--network");
    uint8_t *nb = NULL, *pb = NULL;
    size_t nl = 0, pl = 0;
    int code = cli_read_file(c, nf, &nb, &nl, HRE_NETWORK_FILE_MAX + 1);
    if (code != CLI_EXIT_OK)
        return code;
    hre_network *net = NULL;
    int rc = hre_network_decode(&net, nb, nl);
    free(nb);
    if (rc != HRE_OK)
        return cli_fail(c, rc, nf);
    hre_chain_params params = HRE_CHAIN_PARAMS_INIT;
    uint8_t netid[32];
    rc = hre_network_params(net, &params);
    if (rc == HRE_OK)
        rc = hre_network_id(net, netid);
    hre_network_free(net);
    if (rc != HRE_OK)
        return cli_fail(c, rc, nf);
    const char *want = cli_get(a, "--txid");
    uint8_t want_id[32];
    if (want && (code = cli_id_arg(c, want_id, want, "--txid")) != CLI_EXIT_OK)
        return code;
    if ((code = cli_read_file(c, a->pos[0], &pb, &pl, HRE_PROOF_MAX_LEN)) != CLI_EXIT_OK)
        return code;
    hre_proof *p = NULL;
    rc = hre_proof_decode(&p, pb, pl);
    free(pb);
    if (rc != HRE_OK) {
        char what[600];
        snprintf(what, sizeof what, "%.500s: not a valid proof file", a->pos[0]);
        return cli_fail(c, rc, what);
    }
    int why = 0;
    size_t bad = SIZE_MAX;
    rc = hre_proof_verify(p, &why, &bad, &params);
    char detail[512];
    snprintf(detail, sizeof detail, "%s", hre_error_detail());
    if (rc != HRE_OK) {
        if (c->json) {
            fprintf(c->out, "{\"ok\":false,\"reason\":\"%s\",\"detail\":",
                    hre_proof_why_name(why));
            cli_json_str(c->out, detail);
            if (bad != SIZE_MAX)
                fprintf(c->out, ",\"bad_header\":%zu", bad);
            fputs("}\n", c->out);
        }
        hre_proof_free(p);
        if (rc == HRE_EVERIFY)
            return cli_error(c, CLI_EXIT_REFUSED, "proof refused (%s): %s",
                             hre_proof_why_name(why), detail);
        return cli_error(c, cli_exit_code(rc), "verify the proof: %s (%s)", hre_strerror(rc),
                         detail);
    }
    const uint8_t *txid = hre_proof_txid(p);
    if (want && memcmp(want_id, txid, 32) != 0) {
        char got[65];
        cli_hex(got, txid, 32);
        hre_proof_free(p);
        return cli_error(c, CLI_EXIT_REFUSED, "proof refused: it proves transaction %s, not %s",
                         got, want);
    }
    const hre_tx *tx = hre_proof_tx(p);
    uint64_t height = hre_proof_height(p), last = hre_proof_header_count(p) - 1;
    uint8_t bhash[32], addr[32];
    if ((rc = hre_header_hash(hre_proof_header(p, height), bhash)) != HRE_OK ||
        (rc = hre_contract_address(addr, hre_tx_sender(tx))) != HRE_OK) {
        hre_proof_free(p);
        return cli_fail(c, rc, "proof");
    }
    size_t plen = 0;
    const uint8_t *payload = hre_tx_payload(tx, &plen);
    fields fs;
    int prc = payload_fields(&fs, hre_tx_kind(tx), payload, plen);
    char idh[65], kh[69], ah[65], bh[65], nh[65], ts[32], bt[32];
    cli_hex(idh, txid, 32);
    cli_hex(kh, hre_tx_sender(tx), 34);
    cli_hex(ah, addr, 32);
    cli_hex(nh, netid, 32);
    hash_disp(bh, bhash);
    cli_time_iso(ts, hre_tx_timestamp(tx));
    cli_time_iso(bt, hre_proof_header(p, height)->time);
    if (c->json) {
        fprintf(c->out, "{\"ok\":true,\"network_id\":\"%s\",\"txid\":\"%s\",\"kind\":%u,"
                        "\"kind_name\":\"%s\",\"sender_key\":\"%s\",\"sender_first_key_address\":"
                        "\"%s\",\"nonce\":%" PRIu64 ",\"timestamp\":\"%s\",\"height\":%" PRIu64
                        ",\"block\":\"%s\",\"block_time\":\"%s\",\"headers\":%zu,"
                        "\"last_height\":%" PRIu64 ",\"confirmations\":%" PRIu64 ",\"payload\":",
                nh, idh, hre_tx_kind(tx), cli_kind_name(hre_tx_kind(tx)), kh, ah,
                hre_tx_nonce(tx), ts, height, bh, bt, hre_proof_header_count(p), last,
                last - height + 1);
        if (prc == HRE_OK)
            fields_json(c->out, &fs);
        else
            cli_json_hex(c->out, payload, plen);
        fputs("}\n", c->out);
    } else {
        fprintf(c->out, "proof verified: transaction %s\n  kind:          %s\n"
                        "  sender key:    %s\n  nonce:         %" PRIu64 "\n  timestamp:     %s\n"
                        "  block:         %" PRIu64 " (%s, %s)\n  confirmations: %" PRIu64
                        " (headers up to height %" PRIu64 ")\n  network:       %s\n",
                idh, cli_kind_name(hre_tx_kind(tx)), kh, hre_tx_nonce(tx), ts, height, bh, bt,
                last - height + 1, last, nh);
        if (prc == HRE_OK) {
            fputs("  payload:\n", c->out);
            fields_text(c->out, &fs, "    ");
        }
    }
    hre_proof_free(p);
    return CLI_EXIT_OK;
}

/* ---- the table ----------------------------------------------------------- */

static const cli_opt no_opts[] = { { NULL, NULL, NULL, 0 } };

static const cli_opt verify_opts[] = {
    { "--from", "H", "check only the blocks from height H on, without replaying the "
                     "contract state (a quick check of recent blocks)", 0 },
    { NULL, NULL, NULL, 0 }
};

static const cli_opt block_opts[] = {
    { "--raw", "FILE", "also write the block's encoding (PROTOCOL.md 2.2) to FILE ('-': stdout)", 0 },
    { NULL, NULL, NULL, 0 }
};

static const cli_opt tx_opts[] = {
    { "--height", "H", "look in the block at height H first (else the chain is searched from "
                       "the tip down)", 0 },
    { NULL, NULL, NULL, 0 }
};

static const cli_opt proof_opts[] = {
    { "--out", "FILE", "write the proof file to FILE ('-': stdout)", CLI_OPT_REQUIRED },
    { "--height", "H", "look in the block at height H first (else the chain is searched from "
                       "the tip down)", 0 },
    { NULL, NULL, NULL, 0 }
};

static const cli_opt verify_proof_opts[] = {
    { "--network", "FILE", "the network file (hre network init, or DIR/network.dat of any "
                           "ledger of the network)", CLI_OPT_REQUIRED },
    { "--txid", "TXID", "also require that the proof is about this transaction", 0 },
    { NULL, NULL, NULL, 0 }
};

const cli_cmd cli_cmds_chain[] = {
    { "chain info", cmd_info, "", 0, 0,
      "show the chain's tip, work, mempool and contract counters",
      "Prints the network id (the genesis block hash), the name of the founding organisation, "
      "the height and hash of the main chain's tip, the tip's block time, the cumulative "
      "proof of work of the main chain (chainwork, 64 hex digits, most significant first), the "
      "number of transactions waiting in the mempool, the contract's counters (accounts, keys, "
      "organisations, records, grants, events) and the network fingerprint (PROTOCOL.md 7.2: "
      "two ledgers with equal fingerprints run the same network with the same rules).\n\n"
      "Block hashes are shown in display order (byte-reversed, as Bitcoin tools print them); "
      "ids (network, txid, record, grant, account) in internal order, as everywhere in hre.\n\n"
      "With --json: one object with the members network_id, org_name, height, tip, tip_time "
      "(ISO 8601 UTC), tip_time_unix, chainwork, mempool, fingerprint and contract (accounts, "
      "keys, orgs, records, grants, events).",
      no_opts, CLI_LEDGER | CLI_NODE_RUN },
    { "chain verify", cmd_verify, "", 0, 0,
      "re-validate the whole main chain from genesis",
      "Reads every block of the main chain back from storage (record checksum, decoding, hash "
      "equal to the index), checks it again (links, proof of work, expected bits, median "
      "time, Merkle root, duplicate transactions, caps, every signature), replays it on a "
      "fresh contract state, and finally compares that state's hash with the live one.\n\n"
      "With --from H only the blocks from height H to the tip are checked, and without the "
      "contract: each is read back from storage, must link to the header before it, carry "
      "valid proof of work, match its Merkle root, and every transaction must decode and "
      "carry a valid signature. Faster on a long chain, but it cannot see a block that the "
      "contract would refuse.\n\n"
      "Progress: on a terminal a bar redrawn in place; otherwise (output to a file or a pipe) "
      "a line \"verified H/TIP\" on stderr about every 5% of the chain or every 3 seconds, and "
      "at the end. --quiet prints none; with --json the bar is not drawn and the lines still go "
      "to stderr.\n\n"
      "Result: \"chain verified\" and exit status 0; or the first bad height and the library's "
      "detail on stderr and exit status 1 (also when the replayed state does not match). With "
      "--json: {\"ok\":true,\"height\":H,\"tip\":HASH,\"from\":H} or {\"ok\":false,"
      "\"first_bad_height\":H|null,\"error\":TEXT,\"detail\":TEXT}.\n\n"
      "A ledger whose storage is damaged may already fail to open (exit status 4): the open "
      "checks the segments' checksums and replays the blocks after the newest snapshot.",
      verify_opts, CLI_LEDGER | CLI_NODE_RUN },
    { "chain block", cmd_block, "HEIGHT|HASH", 1, 1,
      "show a main-chain block: header, hash and transactions",
      "HEIGHT is a decimal main-chain height (0 is the genesis block, which holds no "
      "transactions); HASH is a block hash of 64 hex digits in display order, as chain info "
      "prints it. Prints the header fields (version, previous hash, Merkle root, time, bits, "
      "nonce), the hash, the size, the confirmations (tip height - height + 1) and, for each "
      "transaction, its txid, kind, the address of the account that sent it and its nonce.\n\n"
      "With --json: one object with height, hash, version, prev_hash, merkle_root, time, "
      "time_unix, bits, nonce, size, confirmations, tx_count and txs (an array of {index, txid, "
      "kind, kind_name, sender, nonce}).",
      block_opts, CLI_LEDGER | CLI_NODE_RUN },
    { "chain tx", cmd_tx, "TXID", 1, 1,
      "show a main-chain transaction and its decoded payload",
      "Finds the transaction TXID (64 hex digits) on the main chain and prints its kind, the "
      "sender (account address and key), nonce, timestamp, the block holding it (height, hash, "
      "time, position), its confirmations and the fields of its payload as the record "
      "contract defines them (PROTOCOL.md 5.2). A record's id is the txid of its new-record "
      "transaction and a grant's id the txid of its grant, so `hre chain tx RECORD` shows how "
      "a record was made.\n\n"
      "Without --height the chain is searched from the tip down (one block read per height). "
      "Exit status 3 when the transaction is on no main-chain block (the message says when it "
      "is still in the mempool).\n\n"
      "With --json: txid, kind, kind_name, sender, sender_key, nonce, timestamp, "
      "timestamp_unix, height, block, block_time, index, block_tx_count, confirmations, size "
      "and payload (an object of the decoded fields; hex when the payload does not decode).",
      tx_opts, CLI_LEDGER | CLI_NODE_RUN },
    { "chain proof", cmd_proof, "TXID", 1, 1,
      "write a self-contained inclusion proof of a transaction",
      "Writes a proof file (PROTOCOL.md 16) that anyone holding the network file can check "
      "with `hre chain verify-proof`, without a ledger or a node: the headers from genesis up "
      "to the current tip, the Merkle branch of the transaction in its block, and the "
      "transaction itself. Proving a record (its id is the new-record txid) or a grant works "
      "the same way.\n\n"
      "With --json: txid, height, headers, confirmations, size, file.",
      proof_opts, CLI_LEDGER },
    { "chain verify-proof", cmd_verify_proof, "PROOF", 1, 1,
      "check an inclusion proof with the network file alone",
      "Checks the proof file PROOF made by `hre chain proof` against the network file: the first "
      "header must be the network's genesis block, every header must link to the one before, "
      "carry valid proof of work under the network's limit, the bits the retarget rule "
      "expects and a time above the median of the 11 before it; the transaction must hash to "
      "the proof's txid, the Merkle branch must lead from it to the Merkle root of its block, "
      "the transaction must name this network, and its signature must verify. No ledger is "
      "opened. It does not tell whether the headers are the network's heaviest chain today: "
      "compare the last header with a node you trust (hre chain info).\n\n"
      "Prints the transaction (kind, sender key, nonce, payload), its block and its "
      "confirmations (the headers after its block, plus one). A refused proof: exit status 1 "
      "and the reason (bad-genesis, bad-headers, bad-txid, bad-branch, bad-network, "
      "bad-signature) with the library's detail; a file that is no proof: exit status 5.\n\n"
      "With --json: {\"ok\":true, network_id, txid, kind, kind_name, sender_key, "
      "sender_first_key_address, nonce, timestamp, height, block, block_time, headers, "
      "last_height, confirmations, payload} or {\"ok\":false, reason, detail, bad_header}.",
      verify_proof_opts, 0 },
    { NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0 }
};
