/*
 * hre: the audit command: a patient's access log (who read which record,
 * under which grant, when) with the consent events (grants, revocations,
 * erasures), as a table, JSON, or a FHIR R4 Bundle of AuditEvent resources.
 * The events come from the contract's audit trail
 * (hre_contract_account_events); the block height and txid of each are
 * found by matching it with the transactions of the blocks of its time.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct audit_tx {
    uint64_t height;
    uint32_t time;
    uint16_t kind;
    uint8_t txid[32];
    uint8_t actor[32];
    uint8_t key[32];      /* record (access, erase) or grant (grant, revoke) */
    int used;
} audit_tx;

typedef struct audit_row {
    const hre_contract_event *ev;
    const audit_tx *tx;   /* NULL if no transaction matched */
} audit_row;

static int wanted(unsigned type)
{
    return type == HRE_EVENT_ACCESS_LOGGED || type == HRE_EVENT_GRANTED ||
           type == HRE_EVENT_REVOKED || type == HRE_EVENT_RECORD_ERASED;
}

static const char *event_name(unsigned type)
{
    switch (type) {
    case HRE_EVENT_ACCESS_LOGGED: return "access";
    case HRE_EVENT_GRANTED: return "grant";
    case HRE_EVENT_REVOKED: return "revoke";
    case HRE_EVENT_RECORD_ERASED: return "erase";
    default: return "other";
    }
}

static const char *role_name(unsigned role)
{
    switch (role) {
    case HRE_ROLE_AUTHORITY: return "authority";
    case HRE_ROLE_ADMIN: return "admin";
    case HRE_ROLE_DOCTOR: return "doctor";
    case HRE_ROLE_PATIENT: return "patient";
    case HRE_ROLE_NODE: return "node";
    default: return "unknown";
    }
}

/* The id an event is matched on: the record (access, erase) or the grant. */
static const uint8_t *event_key(const hre_contract_event *ev)
{
    return ev->type == HRE_EVENT_GRANTED || ev->type == HRE_EVENT_REVOKED ? ev->grant_id
                                                                           : ev->record_id;
}

/* The id a transaction of these kinds is matched on (see event_key). */
static int tx_key(const hre_tx *tx, const uint8_t txid[32], uint8_t key[32])
{
    size_t len = 0;
    const uint8_t *pl = hre_tx_payload(tx, &len);
    switch (hre_tx_kind(tx)) {
    case HRE_KIND_LOG_ACCESS: {
        hre_log_access_payload p;
        if (hre_contract_decode_log_access(&p, pl, len) != HRE_OK) return -1;
        memcpy(key, p.record_id, 32);
        return 0;
    }
    case HRE_KIND_ERASE_RECORD: {
        hre_erase_record_payload p;
        if (hre_contract_decode_erase_record(&p, pl, len) != HRE_OK) return -1;
        memcpy(key, p.record_id, 32);
        return 0;
    }
    case HRE_KIND_REVOKE: {
        hre_revoke_payload p;
        if (hre_contract_decode_revoke(&p, pl, len) != HRE_OK) return -1;
        memcpy(key, p.grant_id, 32);
        return 0;
    }
    case HRE_KIND_GRANT:
        memcpy(key, txid, 32);
        return 0;
    default:
        return -1;
    }
}

static int has_time(const hre_contract_event *ev, size_t n, uint32_t t)
{
    for (size_t i = 0; i < n; i++)
        if (wanted(ev[i].type) && ev[i].time == t)
            return 1;
    return 0;
}

/* The transactions of the kinds the events came from, in the blocks whose
 * time some event has. */
static int collect_txs(cli *c, hre_ledger *l, const hre_contract *st,
                       const hre_contract_event *ev, size_t n_ev, audit_tx **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    uint64_t tip = 0;
    int rc = hre_ledger_tip(l, &tip, NULL);
    if (rc != HRE_OK)
        return cli_fail(c, rc, "tip");
    hre_chain_params p = HRE_CHAIN_PARAMS_INIT;
    hre_block_limits lim = HRE_BLOCK_LIMITS_INIT;
    if ((rc = hre_ledger_params(l, &p)) != HRE_OK ||
        (rc = hre_chain_params_block_limits(&p, &lim)) != HRE_OK)
        return cli_fail(c, rc, "chain parameters");
    audit_tx *txs = NULL;
    size_t n = 0, cap = 0;
    uint8_t *buf = NULL;
    size_t bufcap = 0;
    int code = CLI_EXIT_OK;
    for (uint64_t h = 1; h <= tip && code == CLI_EXIT_OK; h++) {
        hre_header hd;
        if ((rc = hre_ledger_header_by_height(l, &hd, NULL, h)) != HRE_OK) {
            code = cli_fail(c, rc, "header");
            break;
        }
        if (!has_time(ev, n_ev, hd.time))
            continue;
        size_t len = bufcap;
        rc = hre_ledger_block_by_height(l, buf, &len, h);
        if (rc == HRE_EBUFSIZE) {
            uint8_t *nb = realloc(buf, len);
            if (!nb) {
                code = cli_error(c, CLI_EXIT_INTERNAL, "out of memory");
                break;
            }
            buf = nb;
            bufcap = len;
            rc = hre_ledger_block_by_height(l, buf, &len, h);
        }
        hre_block *blk = NULL;
        if (rc == HRE_OK)
            rc = hre_block_decode(&blk, buf, len, &lim);
        if (rc != HRE_OK) {
            code = cli_fail(c, rc, "read a block");
            break;
        }
        for (size_t i = 0; i < hre_block_tx_count(blk); i++) {
            const uint8_t *tb = NULL;
            size_t tl = 0;
            hre_tx *tx = NULL;
            uint8_t txid[32], key[32];
            if (hre_block_tx(blk, &tb, &tl, i) != HRE_OK || hre_block_txid(blk, txid, i) != HRE_OK ||
                hre_tx_decode(&tx, tb, tl) != HRE_OK)
                continue;
            if (tx_key(tx, txid, key) == 0) {
                if (n == cap) {
                    size_t nc = cap ? cap * 2 : 32;
                    audit_tx *nt = realloc(txs, nc * sizeof *nt);
                    if (!nt) {
                        hre_tx_free(tx);
                        code = cli_error(c, CLI_EXIT_INTERNAL, "out of memory");
                        break;
                    }
                    txs = nt;
                    cap = nc;
                }
                audit_tx *a = &txs[n++];
                memset(a, 0, sizeof *a);
                a->height = h;
                a->time = hd.time;
                a->kind = hre_tx_kind(tx);
                memcpy(a->txid, txid, 32);
                memcpy(a->key, key, 32);
                hre_contract_account acct = HRE_CONTRACT_ACCOUNT_INIT;
                int retired = 0;
                if (hre_contract_account_by_key(st, &acct, &retired, hre_tx_sender(tx)) == HRE_OK)
                    memcpy(a->actor, acct.address, 32);
                else if (hre_contract_address(a->actor, hre_tx_sender(tx)) != HRE_OK)
                    memset(a->actor, 0, 32);
            }
            hre_tx_free(tx);
        }
        hre_block_free(blk);
    }
    free(buf);
    if (code != CLI_EXIT_OK) {
        free(txs);
        return code;
    }
    *out = txs;
    *n_out = n;
    return CLI_EXIT_OK;
}

static const audit_tx *match(audit_tx *txs, size_t n, const hre_contract_event *ev)
{
    for (size_t i = 0; i < n; i++) {
        audit_tx *t = &txs[i];
        if (!t->used && t->kind == ev->kind && t->time == ev->time &&
            !memcmp(t->actor, ev->actor, 32) && !memcmp(t->key, event_key(ev), 32)) {
            t->used = 1;
            return t;
        }
    }
    return NULL;
}

/* Who an address is: "doctor of Riverside Clinic". */
static void describe(const hre_contract *st, const uint8_t addr[32], char *out, size_t cap,
                     const char **role)
{
    hre_contract_account acct = HRE_CONTRACT_ACCOUNT_INIT;
    *role = "unknown";
    if (hre_contract_account_get(st, &acct, addr) != HRE_OK) {
        snprintf(out, cap, "unknown account");
        return;
    }
    *role = role_name(acct.role);
    hre_contract_org org = HRE_CONTRACT_ORG_INIT;
    if (acct.has_org && hre_contract_org_get(st, &org, acct.org_id) == HRE_OK)
        snprintf(out, cap, "%s of %s", *role, org.name);
    else
        snprintf(out, cap, "%s", *role);
}

static void short_id(char out[17], const uint8_t id[32])
{
    char full[65];
    cli_hex(full, id, 32);
    memcpy(out, full, 16);
    out[16] = '\0';
}

static void print_table(cli *c, const hre_contract *st, const audit_row *rows, size_t n)
{
    fprintf(c->out, "%-20s %6s  %-7s %-16s %-16s %-16s %-16s  %s\n", "TIME", "HEIGHT", "EVENT",
            "WHO", "RECORD", "GRANT", "TXID", "AS");
    for (size_t i = 0; i < n; i++) {
        const hre_contract_event *ev = rows[i].ev;
        char t[32], who[17], rec[17] = "-", gr[17] = "-", tx[17] = "-", hs[24] = "-", desc[128];
        const char *role;
        cli_time_iso(t, ev->time);
        short_id(who, ev->actor);
        if (ev->flags & HRE_EVENT_HAS_RECORD)
            short_id(rec, ev->record_id);
        if (ev->flags & HRE_EVENT_HAS_GRANT)
            short_id(gr, ev->grant_id);
        if (rows[i].tx) {
            short_id(tx, rows[i].tx->txid);
            snprintf(hs, sizeof hs, "%" PRIu64, rows[i].tx->height);
        }
        describe(st, ev->actor, desc, sizeof desc, &role);
        fprintf(c->out, "%-20s %6s  %-7s %-16s %-16s %-16s %-16s  %s\n", t, hs,
                event_name(ev->type), who, rec, gr, tx, desc);
    }
    fprintf(c->out, "(%zu event%s; ids shortened to 16 hex digits: --json gives them whole)\n", n,
            n == 1 ? "" : "s");
}

static void json_id_member(FILE *f, const char *name, const uint8_t *id, int present)
{
    fprintf(f, ",\"%s\":", name);
    if (present)
        cli_json_hex(f, id, 32);
    else
        fputs("null", f);
}

static void print_json(cli *c, const hre_contract *st, const uint8_t patient[32],
                       const audit_row *rows, size_t n)
{
    fputc('[', c->out);
    for (size_t i = 0; i < n; i++) {
        const hre_contract_event *ev = rows[i].ev;
        char t[32], desc[128];
        const char *role;
        cli_time_iso(t, ev->time);
        describe(st, ev->actor, desc, sizeof desc, &role);
        fprintf(c->out, "%s{\"event\":\"%s\",\"time\":\"%s\",\"time_unix\":%" PRIu64 ",\"seq\":%"
                        PRIu64, i ? "," : "", event_name(ev->type), t, ev->time, ev->seq);
        if (rows[i].tx)
            fprintf(c->out, ",\"height\":%" PRIu64, rows[i].tx->height);
        else
            fputs(",\"height\":null", c->out);
        json_id_member(c->out, "txid", rows[i].tx ? rows[i].tx->txid : NULL, rows[i].tx != NULL);
        json_id_member(c->out, "actor", ev->actor, 1);
        fprintf(c->out, ",\"actor_role\":\"%s\",\"actor_desc\":", role);
        cli_json_str(c->out, desc);
        json_id_member(c->out, "patient", patient, 1);
        json_id_member(c->out, "record", ev->record_id, (ev->flags & HRE_EVENT_HAS_RECORD) != 0);
        json_id_member(c->out, "grant", ev->grant_id, (ev->flags & HRE_EVENT_HAS_GRANT) != 0);
        if (ev->type == HRE_EVENT_ACCESS_LOGGED)
            fprintf(c->out, ",\"purpose\":%u", ev->detail);
        fputc('}', c->out);
    }
    fputs("]\n", c->out);
}

/* One identifier reference: {"identifier":{"system":SYS,"value":HEX}} plus a display. */
static void fhir_ref(FILE *f, const char *system, const uint8_t id[32], const char *display)
{
    fprintf(f, "{\"identifier\":{\"system\":\"%s\",\"value\":", system);
    cli_json_hex(f, id, 32);
    fputc('}', f);
    if (display) {
        fputs(",\"display\":", f);
        cli_json_str(f, display);
    }
    fputc('}', f);
}

static void fhir_entity(FILE *f, int first, const char *system, const uint8_t id[32],
                        const char *type_code, const char *type_display, const char *role_code,
                        const char *role_display, const char *name)
{
    fprintf(f, "%s{\"what\":", first ? "" : ",");
    fhir_ref(f, system, id, NULL);
    fprintf(f, ",\"type\":{\"system\":\"http://terminology.hl7.org/CodeSystem/audit-entity-type\","
               "\"code\":\"%s\",\"display\":\"%s\"},\"role\":{\"system\":"
               "\"http://terminology.hl7.org/CodeSystem/object-role\",\"code\":\"%s\","
               "\"display\":\"%s\"},\"name\":\"%s\"}",
            type_code, type_display, role_code, role_display, name);
}

static void print_fhir(cli *c, const hre_contract *st, const uint8_t patient[32],
                       const uint8_t net[32], const char *org_name, const audit_row *rows, size_t n)
{
    char now[32];
    cli_time_iso(now, cli_now_s());
    FILE *f = c->out;
    /* (no Bundle.total: FHIR's bdl-1 allows it only in searchset and history bundles) */
    fprintf(f, "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"timestamp\":\"%s\","
               "\"entry\":[", now);
    for (size_t i = 0; i < n; i++) {
        const hre_contract_event *ev = rows[i].ev;
        char t[32], desc[128], idh[65];
        const char *role, *action, *sub;
        int dicom;
        cli_time_iso(t, ev->time);
        describe(st, ev->actor, desc, sizeof desc, &role);
        switch (ev->type) {
        case HRE_EVENT_ACCESS_LOGGED: action = "R"; sub = "read"; dicom = 1; break;
        case HRE_EVENT_GRANTED: action = "C"; sub = "create"; dicom = 0; break;
        case HRE_EVENT_REVOKED: action = "U"; sub = "update"; dicom = 0; break;
        default: action = "D"; sub = "delete"; dicom = 1; break;
        }
        if (rows[i].tx)
            cli_hex(idh, rows[i].tx->txid, 32);
        else
            snprintf(idh, sizeof idh, "hre-event-%" PRIu64, ev->seq);
        fprintf(f, "%s{\"fullUrl\":\"urn:hre:audit:%s\",\"resource\":{\"resourceType\":"
                   "\"AuditEvent\",\"id\":\"%s\",", i ? "," : "", idh, idh);
        if (dicom)
            fputs("\"type\":{\"system\":\"http://dicom.nema.org/resources/ontology/DCM\","
                  "\"code\":\"110110\",\"display\":\"Patient Record\"},", f);
        else
            fputs("\"type\":{\"system\":\"http://terminology.hl7.org/CodeSystem/audit-event-type\","
                  "\"code\":\"rest\",\"display\":\"Restful Operation\"},", f);
        fprintf(f, "\"subtype\":[{\"system\":\"http://hl7.org/fhir/restful-interaction\","
                   "\"code\":\"%s\",\"display\":\"%s\"}],\"action\":\"%s\",\"recorded\":\"%s\","
                   "\"outcome\":\"0\",\"outcomeDesc\":", sub, sub, action, t);
        char od[160];
        if (rows[i].tx)
            snprintf(od, sizeof od, "hre %s in block %" PRIu64, event_name(ev->type),
                     rows[i].tx->height);
        else
            snprintf(od, sizeof od, "hre %s", event_name(ev->type));
        cli_json_str(f, od);
        fputs(",\"agent\":[{\"who\":", f);
        fhir_ref(f, "urn:hre:account", ev->actor, desc);
        fputs(",\"requestor\":true}],\"source\":{\"site\":", f);
        cli_json_str(f, org_name);
        fputs(",\"observer\":", f);
        fhir_ref(f, "urn:hre:network", net, org_name);
        fputs(",\"type\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
              "security-source-type\",\"code\":\"4\",\"display\":\"Application Server\"}]},"
              "\"entity\":[", f);
        fhir_entity(f, 1, "urn:hre:account", patient, "1", "Person", "1", "Patient", "patient");
        if (ev->flags & HRE_EVENT_HAS_RECORD)
            fhir_entity(f, 0, "urn:hre:record", ev->record_id, "2", "System Object", "4",
                        "Domain Resource", "record");
        if (ev->flags & HRE_EVENT_HAS_GRANT)
            fhir_entity(f, 0, "urn:hre:grant", ev->grant_id, "2", "System Object", "13",
                        "Security Resource", "grant");
        if (rows[i].tx)
            fhir_entity(f, 0, "urn:hre:tx", rows[i].tx->txid, "2", "System Object", "4",
                        "Domain Resource", "transaction");
        fputs("]}}", f);
    }
    fputs("]}\n", f);
}

static int cmd_audit(cli *c, const cli_args *a)
{
    uint8_t patient[32];
    int code = cli_id_arg(c, patient, a->pos[0], "audit: PATIENT");
    if (code != CLI_EXIT_OK)
        return code;
    const char *format = cli_get(a, "--format");
    int fhir = 0;
    if (format && !strcmp(format, "fhir"))
        fhir = 1;
    else if (format && strcmp(format, "table") != 0)
        return cli_error(c, CLI_EXIT_USAGE, "audit: --format: 'table' or 'fhir', not '%s'", format);
    if (fhir && c->json)
        return cli_error(c, CLI_EXIT_USAGE, "audit: --format fhir is JSON already; drop --json");
    hre_ledger *l = NULL;
    if ((code = cli_ledger(c, &l)) != CLI_EXIT_OK)
        return code;
    uint8_t net[32], gorg[32];
    int rc = hre_ledger_network_id(l, net);
    if (rc != HRE_OK)
        return cli_fail(c, rc, "network id");
    const hre_contract *st = NULL;
    if ((code = cli_state(c, &st)) != CLI_EXIT_OK)
        return code;
    hre_contract_account acct = HRE_CONTRACT_ACCOUNT_INIT;
    rc = hre_contract_account_get(st, &acct, patient);
    if (rc == HRE_ENOTFOUND)
        return cli_error(c, CLI_EXIT_NOTFOUND, "audit: no account %s", a->pos[0]);
    if (rc != HRE_OK)
        return cli_fail(c, rc, "audit");
    if (acct.role != HRE_ROLE_PATIENT)
        return cli_error(c, CLI_EXIT_INPUT, "audit: %s is not a patient (it is a %s account)",
                         a->pos[0], role_name(acct.role));
    hre_contract_org org = HRE_CONTRACT_ORG_INIT;
    if ((rc = hre_contract_genesis_org_id(gorg, net)) != HRE_OK ||
        (rc = hre_contract_org_get(st, &org, gorg)) != HRE_OK)
        return cli_fail(c, rc, "genesis organisation");
    size_t n = 0;
    rc = hre_contract_account_events(st, NULL, sizeof(hre_contract_event), &n, patient);
    if (rc != HRE_OK && rc != HRE_EBUFSIZE)
        return cli_fail(c, rc, "the patient's events");
    hre_contract_event *ev = calloc(n ? n : 1, sizeof *ev);
    audit_row *rows = calloc(n ? n : 1, sizeof *rows);
    if (!ev || !rows) {
        free(ev);
        free(rows);
        return cli_error(c, CLI_EXIT_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        ev[i].version = HRE_CONTRACT_EVENT_VERSION;
    if (n && (rc = hre_contract_account_events(st, ev, sizeof *ev, &n, patient)) != HRE_OK) {
        free(ev);
        free(rows);
        return cli_fail(c, rc, "the patient's events");
    }
    audit_tx *txs = NULL;
    size_t n_tx = 0;
    if ((code = collect_txs(c, l, st, ev, n, &txs, &n_tx)) != CLI_EXIT_OK) {
        free(ev);
        free(rows);
        return code;
    }
    /* collect_txs read blocks: take the state again (it stays valid, but be exact) */
    if ((code = cli_state(c, &st)) != CLI_EXIT_OK) {
        free(ev);
        free(rows);
        free(txs);
        return code;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (wanted(ev[i].type)) {
            rows[k].ev = &ev[i];
            rows[k].tx = match(txs, n_tx, &ev[i]);
            k++;
        }
    if (fhir)
        print_fhir(c, st, patient, net, org.name, rows, k);
    else if (c->json)
        print_json(c, st, patient, rows, k);
    else
        print_table(c, st, rows, k);
    free(txs);
    free(ev);
    free(rows);
    return CLI_EXIT_OK;
}

static const cli_opt audit_opts[] = {
    { "--format", "FORMAT", "table (the default) or fhir (a FHIR R4 Bundle of AuditEvent "
                            "resources, JSON)", 0 },
    { NULL, NULL, NULL, 0 }
};

const cli_cmd cli_cmds_audit[] = {
    { "audit", cmd_audit, "PATIENT", 1, 1,
      "show a patient's access log and consent history",
      "PATIENT is the patient's account address (64 hex digits). Lists, oldest first, every "
      "access to the patient's records that was logged on the chain (who read which record, "
      "under which grant when a grant allowed it, and for which purpose), and the patient's "
      "consent events: grants given, grants revoked, records erased. Each entry carries the "
      "block time, the height of the block that holds it and the txid of its transaction. "
      "Refused accesses never reach the chain and are not listed.\n\n"
      "The events come from the record contract's audit trail; the block and txid of each "
      "are found in the blocks of its time.\n\n"
      "Default: a table (ids shortened to 16 hex digits). --json: a JSON array of objects "
      "with the members event (access, grant, revoke, erase), time (ISO 8601 UTC), time_unix, "
      "seq, height, txid, actor, actor_role, actor_desc, patient, record, grant (null when "
      "none) and, for accesses, purpose.\n\n"
      "--format fhir: a FHIR R4 Bundle of type collection with one AuditEvent per entry: type "
      "(DICOM 110110 Patient Record for accesses and erasures, audit-event-type rest for "
      "consent changes), subtype, action (R read, C grant, U revoke, D erase), recorded (the "
      "block time), outcome 0, the actor as the requesting agent, the network as the "
      "observing source, and the patient, record, grant and transaction as entities "
      "(identifiers in the systems urn:hre:account, urn:hre:record, urn:hre:grant, urn:hre:tx, "
      "urn:hre:network).",
      audit_opts, CLI_LEDGER | CLI_NODE_RUN },
    { NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0 }
};
