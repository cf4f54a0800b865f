/*
 * hre: the record commands: `hre record new` (NEW_RECORD, with salted
 * commitments), `hre record sign` (SIGN_RECORD), `hre record show` (the
 * record, its signatures and its events, read from the contract state),
 * `hre record check` (a commitment proof) and `hre erase` (ERASE_RECORD).
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define SALT_LEN 32

static const char *event_name(unsigned int type)
{
    static const char *const names[] = {
        NULL, "org_registered", "admin_appointed", "doctor_registered", "patient_registered",
        "suspended", "reinstated", "key_rotated", "record_created", "record_signature",
        "record_signed", "granted", "revoked", "access_logged", "node_registered",
        "org_suspended", "org_reinstated", "enc_key_set", "record_erased",
    };
    if (type < sizeof names / sizeof names[0] && names[type])
        return names[type];
    return "unknown";
}

/* ---- record new ------------------------------------------------------- */

static int cmd_record_new(cli *c, const cli_args *a)
{
    hre_new_record_payload p;
    memset(&p, 0, sizeof p);
    int code = cli_id_arg(c, p.patient, cli_get(a, "--patient"), "--patient");
    if (code == CLI_EXIT_OK)
        code = cli_id_arg(c, p.lab_org, cli_get(a, "--lab"), "--lab");
    if (code != CLI_EXIT_OK)
        return code;
    const char *test = cli_get(a, "--test");
    const char *hospital = cli_get(a, "--hospital");
    const char *doc = cli_get(a, "--document"), *dsha = cli_get(a, "--doc-sha256");
    const char *loc = cli_get(a, "--locator"), *sup = cli_get(a, "--supersedes");
    size_t hlen = strlen(hospital);
    if (hlen == 0 || hlen > HRE_CONTRACT_NAME_MAX)
        return cli_error(c, CLI_EXIT_INPUT, "--hospital: 1 to %d bytes", HRE_CONTRACT_NAME_MAX);
    if (!*test)
        return cli_error(c, CLI_EXIT_INPUT, "--test: the test name is empty");
    if (!doc == !dsha)
        return cli_error(c, CLI_EXIT_USAGE,
                         "record new: give the document (--document FILE) or its hash "
                         "(--doc-sha256 HEX), one of them");
    /* the clear patient identifier the commitment binds (e.g. the MRN) */
    char patient_hex[65];
    cli_hex(patient_hex, p.patient, 32);
    const char *pref = cli_get(a, "--patient-ref") ? cli_get(a, "--patient-ref") : patient_hex;
    if (!*pref)
        return cli_error(c, CLI_EXIT_INPUT, "--patient-ref: empty");
    if (dsha) {
        code = cli_id_arg(c, p.doc_sha256, dsha, "--doc-sha256");
    } else {
        uint8_t *buf = NULL;
        size_t len = 0;
        code = cli_read_file(c, doc, &buf, &len, 0);
        if (code == CLI_EXIT_OK) {
            int rc = hre_sha256(p.doc_sha256, buf, len);
            free(buf);
            if (rc != HRE_OK)
                code = cli_fail(c, rc, "sha256 of the document");
        }
    }
    if (code != CLI_EXIT_OK)
        return code;
    if (loc) {
        code = cli_id_arg(c, p.locator, loc, "--locator");
    } else {
        /* an opaque locator: random, never a path or a file name */
        int rc = hre_random_bytes(p.locator, sizeof p.locator);
        if (rc != HRE_OK)
            code = cli_fail(c, rc, "random locator");
    }
    if (code == CLI_EXIT_OK && sup) {
        p.has_supersedes = 1;
        code = cli_id_arg(c, p.supersedes, sup, "--supersedes");
    }
    uint64_t v = 0;
    p.date = cli_now_s();
    if (code == CLI_EXIT_OK && cli_get(a, "--date"))
        code = cli_time_arg(c, &p.date, cli_get(a, "--date"), "--date");
    if (code == CLI_EXIT_OK && cli_get(a, "--price"))
        code = cli_u64_arg(c, &p.price, cli_get(a, "--price"), UINT64_MAX, "--price");
    if (code == CLI_EXIT_OK && cli_get(a, "--category")) {
        code = cli_u64_arg(c, &v, cli_get(a, "--category"), 255, "--category");
        p.category = (uint8_t)v;
    }
    if (code != CLI_EXIT_OK)
        return code;
    p.hospital_name = (const uint8_t *)hospital;
    p.hospital_name_len = hlen;
    uint8_t salt[SALT_LEN];
    int rc = hre_random_bytes(salt, sizeof salt);
    if (rc == HRE_OK)
        rc = hre_contract_commit(p.commit_patient_id, HRE_COMMIT_PATIENT_ID, salt, sizeof salt,
                                 (const uint8_t *)pref, strlen(pref));
    if (rc == HRE_OK)
        rc = hre_contract_commit(p.commit_test_name, HRE_COMMIT_TEST_NAME, salt, sizeof salt,
                                 (const uint8_t *)test, strlen(test));
    if (rc != HRE_OK)
        return cli_fail(c, rc, "commitments");
    cli_signer s;
    code = cli_signer_open(c, a, &s);
    if (code != CLI_EXIT_OK)
        return code;
    hre_tx *tx = NULL;
    rc = hre_contract_build_new_record(&tx, s.network_id, s.key, s.nonce, s.now, &p);
    cli_signer_close(&s);
    cli_submitted res;
    code = cli_submit_built(c, rc, tx, "NEW_RECORD", &res);
    if (code != CLI_EXIT_OK)
        return code;
    char rid[65], shex[2 * SALT_LEN + 1], dhex[65], lhex[65], cp[65], ct[65], extra[900];
    cli_hex(rid, res.txid, 32);
    cli_hex(shex, salt, sizeof salt);
    cli_hex(dhex, p.doc_sha256, 32);
    cli_hex(lhex, p.locator, 32);
    cli_hex(cp, p.commit_patient_id, 32);
    cli_hex(ct, p.commit_test_name, 32);
    snprintf(extra, sizeof extra,
             ",\"record_id\":\"%s\",\"salt\":\"%s\",\"salts\":{\"patient_id\":\"%s\","
             "\"test_name\":\"%s\"},\"doc_sha256\":\"%s\",\"locator\":\"%s\","
             "\"commit_patient_id\":\"%s\",\"commit_test_name\":\"%s\",\"date\":%llu",
             rid, shex, shex, shex, dhex, lhex, cp, ct, (unsigned long long)p.date);
    cli_print_submitted(c, &res, "record created", extra);
    if (!c->json) {
        fprintf(c->out, "record:     %s\n", rid);
        fprintf(c->out, "salt:       %s\n", shex);
        fprintf(c->out, "doc sha256: %s\n", dhex);
        fprintf(c->out, "locator:    %s\n", lhex);
        fprintf(c->out, "Keep the salt with the patient reference and the test name: they prove "
                        "the record's commitments (hre record check).\n");
    }
    hre_wipe(salt, sizeof salt);
    return CLI_EXIT_OK;
}

/* ---- record sign, erase ------------------------------------------------ */

typedef int (*record_builder)(hre_tx **out, const uint8_t net[32], const hre_key *k,
                              uint64_t nonce, uint64_t ts, const uint8_t record[32]);

static int build_sign(hre_tx **out, const uint8_t net[32], const hre_key *k, uint64_t nonce,
                      uint64_t ts, const uint8_t record[32])
{
    hre_sign_record_payload p;
    memcpy(p.record_id, record, 32);
    return hre_contract_build_sign_record(out, net, k, nonce, ts, &p);
}

static int build_erase(hre_tx **out, const uint8_t net[32], const hre_key *k, uint64_t nonce,
                       uint64_t ts, const uint8_t record[32])
{
    hre_erase_record_payload p;
    memcpy(p.record_id, record, 32);
    return hre_contract_build_erase_record(out, net, k, nonce, ts, &p);
}

static int record_tx(cli *c, const cli_args *a, record_builder build, const char *kind,
                     const char *what)
{
    uint8_t rid[32];
    int code = cli_id_arg(c, rid, a->pos[0], "RECORD");
    if (code != CLI_EXIT_OK)
        return code;
    cli_signer s;
    code = cli_signer_open(c, a, &s);
    if (code != CLI_EXIT_OK)
        return code;
    hre_tx *tx = NULL;
    int rc = build(&tx, s.network_id, s.key, s.nonce, s.now, rid);
    cli_signer_close(&s);
    cli_submitted res;
    code = cli_submit_built(c, rc, tx, kind, &res);
    if (code != CLI_EXIT_OK)
        return code;
    char hex[65], extra[300];
    cli_hex(hex, rid, 32);
    int n = snprintf(extra, sizeof extra, ",\"record_id\":\"%s\"", hex);
    hre_contract_record rec = HRE_CONTRACT_RECORD_INIT;
    const hre_contract *st = NULL;
    int have = 0;
    if (cli_has_state(c) && res.in_block && cli_state(c, &st) == CLI_EXIT_OK &&
        hre_contract_record_get(st, &rec, rid) == HRE_OK) {
        have = 1;
        snprintf(extra + n, sizeof extra - (size_t)n,
                 ",\"signature_count\":%u,\"valid\":%s,\"erased\":%s", rec.signature_count,
                 rec.is_valid ? "true" : "false", rec.erased ? "true" : "false");
    }
    cli_print_submitted(c, &res, what, extra);
    if (!c->json && have)
        fprintf(c->out, "record %s: %s, %u signature(s)%s\n", hex,
                rec.is_valid ? "valid" : "pending", rec.signature_count,
                rec.erased ? ", erased" : "");
    return CLI_EXIT_OK;
}

static int cmd_record_sign(cli *c, const cli_args *a)
{
    return record_tx(c, a, build_sign, "SIGN_RECORD", "record signed");
}

static int cmd_erase(cli *c, const cli_args *a)
{
    return record_tx(c, a, build_erase, "ERASE_RECORD", "record erased");
}

/* ---- record show -------------------------------------------------------- */

static void json_hex_member(FILE *f, const char *name, const uint8_t *id, size_t len)
{
    fprintf(f, ",\"%s\":", name);
    cli_json_hex(f, id, len);
}

static void org_name(const hre_contract *st, const uint8_t id[32], char out[HRE_CONTRACT_NAME_MAX + 1])
{
    hre_contract_org org = HRE_CONTRACT_ORG_INIT;
    out[0] = '\0';
    if (hre_contract_org_get(st, &org, id) == HRE_OK)
        snprintf(out, HRE_CONTRACT_NAME_MAX + 1, "%s", org.name);
    hre_error_clear();
}

/* The time of the RECORD_SIGNATURE event by `signer` (0 if none). */
static uint64_t signature_time(const hre_contract_event *ev, size_t n, const uint8_t signer[32])
{
    for (size_t i = 0; i < n; i++)
        if (ev[i].type == HRE_EVENT_RECORD_SIGNATURE && !memcmp(ev[i].actor, signer, 32))
            return ev[i].time;
    return 0;
}

static void print_sig_json(FILE *f, const char *role, const uint8_t signer[32],
                           const uint8_t org[32], const char *name, uint64_t t)
{
    char iso[32];
    cli_time_iso(iso, t);
    fprintf(f, "{\"role\":\"%s\",\"signer\":", role);
    cli_json_hex(f, signer, 32);
    json_hex_member(f, "org", org, 32);
    fputs(",\"org_name\":", f);
    cli_json_str(f, name);
    fprintf(f, ",\"time\":%llu,\"time_iso\":\"%s\"}", (unsigned long long)t, iso);
}

static int cmd_record_show(cli *c, const cli_args *a)
{
    uint8_t rid[32];
    int code = cli_id_arg(c, rid, a->pos[0], "RECORD");
    if (code != CLI_EXIT_OK)
        return code;
    const hre_contract *st = NULL;
    code = cli_state(c, &st);
    if (code != CLI_EXIT_OK)
        return code;
    hre_contract_record rec = HRE_CONTRACT_RECORD_INIT;
    int rc = hre_contract_record_get(st, &rec, rid);
    if (rc != HRE_OK)
        return cli_fail(c, rc, "record");
    size_t n = 0;
    rc = hre_contract_record_events(st, NULL, sizeof(hre_contract_event), &n, rid);
    if (rc != HRE_OK && rc != HRE_EBUFSIZE)
        return cli_fail(c, rc, "record events");
    hre_contract_event *ev = calloc(n ? n : 1, sizeof *ev);
    if (!ev)
        return cli_error(c, CLI_EXIT_INTERNAL, "out of memory");
    rc = hre_contract_record_events(st, ev, sizeof *ev, &n, rid);
    if (rc != HRE_OK) {
        free(ev);
        return cli_fail(c, rc, "record events");
    }
    char issuer_name[HRE_CONTRACT_NAME_MAX + 1], lab_name[HRE_CONTRACT_NAME_MAX + 1];
    org_name(st, rec.issuer_org, issuer_name);
    org_name(st, rec.lab_org, lab_name);
    uint64_t created = 0;
    for (size_t i = 0; i < n; i++)
        if (ev[i].type == HRE_EVENT_RECORD_CREATED)
            created = ev[i].time;
    uint64_t t_issuer = rec.has_issuer_signer ? signature_time(ev, n, rec.issuer_signer) : 0;
    uint64_t t_lab = rec.has_lab_signer ? signature_time(ev, n, rec.lab_signer) : 0;
    const char *status = rec.is_valid ? "valid" : "pending";
    char iso[32];
    FILE *f = c->out;
    if (c->json) {
        fputs("{\"id\":", f);
        cli_json_hex(f, rec.id, 32);
        fprintf(f, ",\"status\":\"%s\",\"valid\":%s,\"signature_count\":%u,\"signatures\":[",
                status, rec.is_valid ? "true" : "false", rec.signature_count);
        int first = 1;
        if (rec.has_issuer_signer) {
            print_sig_json(f, "issuer", rec.issuer_signer, rec.issuer_org, issuer_name, t_issuer);
            first = 0;
        }
        if (rec.has_lab_signer) {
            if (!first)
                fputc(',', f);
            print_sig_json(f, "lab", rec.lab_signer, rec.lab_org, lab_name, t_lab);
        }
        fputc(']', f);
        json_hex_member(f, "patient", rec.patient, 32);
        json_hex_member(f, "issuer_org", rec.issuer_org, 32);
        fputs(",\"issuer_name\":", f);
        cli_json_str(f, issuer_name);
        json_hex_member(f, "lab_org", rec.lab_org, 32);
        fputs(",\"lab_name\":", f);
        cli_json_str(f, lab_name);
        fputs(",\"hospital_name\":", f);
        cli_json_str(f, rec.hospital_name);
        fprintf(f, ",\"date\":%llu,\"price\":%llu,\"category\":%u,\"created_time\":%llu",
                (unsigned long long)rec.date, (unsigned long long)rec.price, rec.category,
                (unsigned long long)created);
        json_hex_member(f, "doc_sha256", rec.doc_sha256, 32);
        json_hex_member(f, "locator", rec.locator, 32);
        json_hex_member(f, "commit_patient_id", rec.commit_patient_id, 32);
        json_hex_member(f, "commit_test_name", rec.commit_test_name, 32);
        fprintf(f, ",\"erased\":%s,\"erased_time\":%llu,\"supersedes\":",
                rec.erased ? "true" : "false", (unsigned long long)rec.erased_time);
        if (rec.has_supersedes)
            cli_json_hex(f, rec.supersedes, 32);
        else
            fputs("null", f);
        fputs(",\"events\":[", f);
        for (size_t i = 0; i < n; i++) {
            fprintf(f, "%s{\"seq\":%llu,\"type\":\"%s\",\"time\":%llu", i ? "," : "",
                    (unsigned long long)ev[i].seq, event_name(ev[i].type),
                    (unsigned long long)ev[i].time);
            json_hex_member(f, "actor", ev[i].actor, 32);
            json_hex_member(f, "subject", ev[i].subject, 32);
            if (ev[i].flags & HRE_EVENT_HAS_ORG)
                json_hex_member(f, "org", ev[i].org_id, 32);
            if (ev[i].flags & HRE_EVENT_HAS_GRANT)
                json_hex_member(f, "grant", ev[i].grant_id, 32);
            if (ev[i].type == HRE_EVENT_ACCESS_LOGGED)
                fprintf(f, ",\"purpose\":%u", ev[i].detail);
            else if (ev[i].type == HRE_EVENT_RECORD_SIGNATURE ||
                     ev[i].type == HRE_EVENT_RECORD_SIGNED)
                fprintf(f, ",\"signature_count\":%u", ev[i].detail);
            fputc('}', f);
        }
        fputs("]}\n", f);
    } else {
        char h[65];
        cli_hex(h, rec.id, 32);
        fprintf(f, "record      %s\n", h);
        fprintf(f, "status      %s (%u of 2 signatures)%s\n", status, rec.signature_count,
                rec.erased ? ", ERASED" : "");
        cli_hex(h, rec.patient, 32);
        fprintf(f, "patient     %s\n", h);
        cli_hex(h, rec.issuer_org, 32);
        fprintf(f, "issuer      %s (%s)\n", h, issuer_name);
        cli_hex(h, rec.lab_org, 32);
        fprintf(f, "lab         %s (%s)\n", h, lab_name);
        fprintf(f, "hospital    %s\n", rec.hospital_name);
        cli_time_iso(iso, rec.date);
        fprintf(f, "date        %s\n", iso);
        fprintf(f, "price       %llu\n", (unsigned long long)rec.price);
        fprintf(f, "category    %u\n", rec.category);
        cli_hex(h, rec.doc_sha256, 32);
        fprintf(f, "doc sha256  %s\n", h);
        cli_hex(h, rec.locator, 32);
        fprintf(f, "locator     %s\n", h);
        if (rec.has_issuer_signer) {
            cli_hex(h, rec.issuer_signer, 32);
            cli_time_iso(iso, t_issuer);
            fprintf(f, "signed by   %s for the issuer, %s\n", h, iso);
        }
        if (rec.has_lab_signer) {
            cli_hex(h, rec.lab_signer, 32);
            cli_time_iso(iso, t_lab);
            fprintf(f, "signed by   %s for the lab, %s\n", h, iso);
        }
        if (rec.has_supersedes) {
            cli_hex(h, rec.supersedes, 32);
            fprintf(f, "supersedes  %s\n", h);
        }
        if (rec.erased) {
            cli_time_iso(iso, rec.erased_time);
            fprintf(f, "erased      %s\n", iso);
        } else {
            fprintf(f, "erased      no\n");
        }
        fprintf(f, "events      %zu\n", n);
        for (size_t i = 0; i < n; i++) {
            cli_time_iso(iso, ev[i].time);
            cli_hex(h, ev[i].actor, 32);
            fprintf(f, "  %4llu  %s  %-18s by %.16s..", (unsigned long long)ev[i].seq, iso,
                    event_name(ev[i].type), h);
            if (ev[i].type == HRE_EVENT_ACCESS_LOGGED)
                fprintf(f, " purpose %u", ev[i].detail);
            fputc('\n', f);
        }
    }
    free(ev);
    return CLI_EXIT_OK;
}

/* ---- record check ----------------------------------------------------- */

static int cmd_record_check(cli *c, const cli_args *a)
{
    uint8_t rid[32], salt[HRE_CONTRACT_SALT_MAX];
    int code = cli_id_arg(c, rid, a->pos[0], "RECORD");
    if (code != CLI_EXIT_OK)
        return code;
    const char *shex = cli_get(a, "--salt");
    size_t slen = strlen(shex) / 2;
    if (strlen(shex) % 2 || slen < HRE_CONTRACT_SALT_MIN || slen > HRE_CONTRACT_SALT_MAX ||
        cli_unhex(salt, slen, shex) != HRE_OK)
        return cli_error(c, CLI_EXIT_INPUT, "--salt: expected %d to %d bytes in hex",
                         HRE_CONTRACT_SALT_MIN, HRE_CONTRACT_SALT_MAX);
    const char *pref = cli_get(a, "--patient-ref"), *test = cli_get(a, "--test");
    const hre_contract *st = NULL;
    code = cli_state(c, &st);
    if (code != CLI_EXIT_OK)
        return code;
    char pdefault[65];
    if (!pref) {
        hre_contract_record rec = HRE_CONTRACT_RECORD_INIT;
        int rc = hre_contract_record_get(st, &rec, rid);
        if (rc != HRE_OK)
            return cli_fail(c, rc, "record");
        cli_hex(pdefault, rec.patient, 32);
        pref = pdefault;
    }
    int rc = hre_contract_check_commitment(st, rid, salt, slen, (const uint8_t *)pref,
                                           strlen(pref), (const uint8_t *)test, strlen(test));
    if (rc != HRE_OK && rc != HRE_EVERIFY)
        return cli_fail(c, rc, "check the commitments");
    if (c->json)
        fprintf(c->out, "{\"record_id\":\"%s\",\"match\":%s}\n", a->pos[0],
                rc == HRE_OK ? "true" : "false");
    else
        fprintf(c->out, "record %s: %s\n", a->pos[0],
                rc == HRE_OK ? "the patient reference and the test name match its commitments"
                             : "NO MATCH: the patient reference, the test name or the salt differ");
    return rc == HRE_OK ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
}

/* ---- tables ------------------------------------------------------------ */

#define PASS_OPT { "--passphrase-fd", "N", "read the key's passphrase from file descriptor N", 0 }
#define END_OPT { NULL, NULL, NULL, 0 }

static const cli_opt record_new_opts[] = {
    { "--key", "PEM", "an admin of the issuing hospital or clinic", CLI_OPT_REQUIRED },
    { "--patient", "ID", "the patient's address (64 hex digits)", CLI_OPT_REQUIRED },
    { "--lab", "ORGID", "the lab organisation that co-signs (64 hex digits)", CLI_OPT_REQUIRED },
    { "--test", "NAME", "the test name (only its salted commitment goes on the chain)",
      CLI_OPT_REQUIRED },
    { "--hospital", "NAME", "the hospital's name (in clear, 1..64 bytes)", CLI_OPT_REQUIRED },
    { "--patient-ref", "TEXT", "the patient identifier to commit to, e.g. the MRN (default: "
                               "the patient's address in hex)", 0 },
    { "--document", "FILE", "the document: its sha256 goes on the chain", 0 },
    { "--doc-sha256", "HEX", "the document's sha256 instead (from hre vault put)", 0 },
    { "--locator", "HEX", "the document's 32-byte locator (from hre vault put; default random)",
      0 },
    { "--date", "TIME", "the test's date: Unix seconds or YYYY-MM-DD (default now)", 0 },
    { "--price", "N", "the price in minor currency units (default 0)", 0 },
    { "--category", "N", "the record's category, 0..255 (grant scopes; default 0)", 0 },
    { "--supersedes", "RECORD", "the record of the same patient this one corrects", 0 },
    PASS_OPT, END_OPT
};
static const cli_opt record_sign_opts[] = {
    { "--key", "PEM", "an admin of the issuing organisation or of the lab", CLI_OPT_REQUIRED },
    PASS_OPT, END_OPT
};
static const cli_opt record_show_opts[] = { END_OPT };
static const cli_opt record_check_opts[] = {
    { "--salt", "HEX", "the salt hre record new printed", CLI_OPT_REQUIRED },
    { "--test", "NAME", "the test name", CLI_OPT_REQUIRED },
    { "--patient-ref", "TEXT", "the patient identifier (default: the patient's address)", 0 },
    END_OPT
};
static const cli_opt erase_opts[] = {
    { "--key", "PEM", "the record's patient (or the authority, on an order)", CLI_OPT_REQUIRED },
    PASS_OPT, END_OPT
};

#define SUBMIT_TEXT                                                                          \
    "The transaction is signed here with --key and submitted: with --data DIR to the local " \
    "ledger, where it is mined into a block at once; with --node DIR to the running node "   \
    "(then it waits in the mempool for a block). A refusal by the contract is exit 1 with "  \
    "its reason on stderr, and nothing changes."

const cli_cmd cli_cmds_record[] = {
    { "record new", cmd_record_new, "", 0, 0,
      "create a record of a lab test for a patient (an issuing admin)",
      "Submits NEW_RECORD: an admin of a hospital or clinic issues a record for a registered "
      "patient, naming the lab organisation that co-signs it. The record id is the "
      "transaction's id. The record becomes valid once an admin of the issuing organisation "
      "AND an admin of the lab have signed it (hre record sign).\n\n"
      "Privacy: the patient identifier (--patient-ref, e.g. a medical record number) and the "
      "test name go on the chain only as HMAC-SHA256 commitments under a fresh random 32-byte "
      "salt; the date, the hospital's name, the price and the category are in clear; the "
      "document is named only by its sha256 and an opaque 32-byte locator (random unless "
      "--locator gives the vault's). The salt is printed once: keep it (it belongs in the "
      "encrypted document), since with the clear values it proves the commitments later "
      "(hre record check).\n\n" SUBMIT_TEXT "\n\n"
      "JSON members: txid, state, height, record_id, salt, salts (patient_id, test_name: the "
      "salt of each commitment, the same one), doc_sha256, locator, commit_patient_id, "
      "commit_test_name, date.",
      record_new_opts, CLI_LEDGER },
    { "record sign", cmd_record_sign, "RECORD", 1, 1,
      "sign a record for the issuing organisation or for the lab (an admin)",
      "Submits SIGN_RECORD: an admin of the record's issuing organisation, or of its lab, "
      "signs it for that organisation. The second signature (one per organisation) makes "
      "the record valid.\n\n" SUBMIT_TEXT "\n\n"
      "JSON members: txid, state, height, record_id; with a local ledger also "
      "signature_count, valid and erased.",
      record_sign_opts, CLI_LEDGER },
    { "record show", cmd_record_show, "RECORD", 1, 1,
      "show a record: status, signatures, parties, document, events",
      "Prints the record as the contract state at the tip has it: valid or pending, both "
      "signatures (who signed for the issuer and the lab, and when), the patient, the "
      "issuing and lab organisations with their names, the hospital name, date, price and "
      "category, the document's sha256 and locator, the commitments, whether it was erased, "
      "the record it supersedes, and its events (created, signatures, accesses, erasure). "
      "With --node the command runs inside the node. An unknown record is exit 3.\n\n"
      "JSON members: id, status (valid or pending), valid, signature_count, signatures "
      "[{role (issuer or lab), signer, org, org_name, time, time_iso}], patient, "
      "issuer_org, issuer_name, lab_org, lab_name, hospital_name, date, price, category, "
      "created_time, doc_sha256, locator, commit_patient_id, commit_test_name, erased, "
      "erased_time, supersedes (null or an id), events [{seq, type, time, actor, subject, "
      "org, grant, purpose or signature_count}].",
      record_show_opts, CLI_LEDGER | CLI_NODE_RUN },
    { "record check", cmd_record_check, "RECORD", 1, 1,
      "check a patient reference and test name against a record's commitments",
      "Recomputes the record's two commitments from the salt and the clear values and "
      "compares them with the chain's (in constant time). Exit 0 when both match, 1 when "
      "they do not. The values are read from the command line: use it where that is "
      "acceptable.\n\nJSON members: record_id, match.",
      record_check_opts, CLI_LEDGER | CLI_NODE_RUN },
    { "erase", cmd_erase, "RECORD", 1, 1,
      "erase a record (its patient, or the authority)",
      "Submits ERASE_RECORD: the record stays on the chain with its commitments (the history "
      "is immutable) but is marked erased: nobody may sign it, be granted it or log an access "
      "to it any more; a vault that follows the chain crypto-shreds its copy of the document "
      "(its keys and ciphertext go, a tombstone stays). The patient erases their own records; "
      "the authority may, acting on an order.\n\n" SUBMIT_TEXT "\n\n"
      "JSON members: txid, state, height, record_id; with a local ledger also "
      "signature_count, valid and erased.",
      erase_opts, CLI_LEDGER },
    { NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0 }
};
