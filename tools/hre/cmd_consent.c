/*
 * hre: consent and access: `hre grant` (GRANT), `hre revoke` (REVOKE) and
 * `hre access` (LOG_ACCESS, checked first against the contract's access
 * rule when the state is at hand).
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmp_id(const void *x, const void *y)
{
    return memcmp(x, y, 32);
}

static const char *scope_name(uint8_t scope)
{
    return scope == HRE_SCOPE_ALL ? "all" : scope == HRE_SCOPE_CATEGORY ? "category" : "records";
}

static int cmd_grant(cli *c, const cli_args *a)
{
    hre_grant_payload p;
    memset(&p, 0, sizeof p);
    int code = cli_id_arg(c, p.reader, cli_get(a, "--reader"), "--reader");
    if (code != CLI_EXIT_OK)
        return code;
    const char *rt = cli_get(a, "--reader-type");
    if (!rt || !strcmp(rt, "account"))
        p.reader_type = HRE_READER_ACCOUNT;
    else if (!strcmp(rt, "org"))
        p.reader_type = HRE_READER_ORG;
    else
        return cli_error(c, CLI_EXIT_USAGE, "--reader-type: account or org, not '%s'", rt);
    const char *recs[HRE_CONTRACT_GRANT_IDS_MAX + 1];
    size_t nrec = cli_get_all(a, "--record", recs, HRE_CONTRACT_GRANT_IDS_MAX + 1);
    const char *cat = cli_get(a, "--category");
    const char *scope = cli_get(a, "--scope");
    if (!scope)
        scope = nrec ? "records" : cat ? "category" : "all";
    if (!strcmp(scope, "all"))
        p.scope = HRE_SCOPE_ALL;
    else if (!strcmp(scope, "records"))
        p.scope = HRE_SCOPE_RECORDS;
    else if (!strcmp(scope, "category"))
        p.scope = HRE_SCOPE_CATEGORY;
    else
        return cli_error(c, CLI_EXIT_USAGE, "--scope: all, records or category, not '%s'", scope);
    if (p.scope == HRE_SCOPE_RECORDS && !nrec)
        return cli_error(c, CLI_EXIT_USAGE, "grant: --scope records needs --record ID");
    if (p.scope != HRE_SCOPE_RECORDS && nrec)
        return cli_error(c, CLI_EXIT_USAGE, "grant: --record goes with --scope records");
    if (p.scope == HRE_SCOPE_CATEGORY && !cat)
        return cli_error(c, CLI_EXIT_USAGE, "grant: --scope category needs --category N");
    if (p.scope != HRE_SCOPE_CATEGORY && cat)
        return cli_error(c, CLI_EXIT_USAGE, "grant: --category goes with --scope category");
    if (nrec > HRE_CONTRACT_GRANT_IDS_MAX)
        return cli_error(c, CLI_EXIT_INPUT, "grant: at most %d records",
                         HRE_CONTRACT_GRANT_IDS_MAX);
    uint8_t ids[HRE_CONTRACT_GRANT_IDS_MAX * 32];
    for (size_t i = 0; i < nrec; i++) {
        code = cli_id_arg(c, ids + 32 * i, recs[i], "--record");
        if (code != CLI_EXIT_OK)
            return code;
    }
    /* the payload lists them strictly increasing: sort, refuse repeats */
    qsort(ids, nrec, 32, cmp_id);
    for (size_t i = 1; i < nrec; i++)
        if (!memcmp(ids + 32 * (i - 1), ids + 32 * i, 32))
            return cli_error(c, CLI_EXIT_INPUT, "grant: a --record is given twice");
    p.record_ids = nrec ? ids : NULL;
    p.record_count = nrec;
    if (cat) {
        uint64_t v = 0;
        code = cli_u64_arg(c, &v, cat, 255, "--category");
        if (code != CLI_EXIT_OK)
            return code;
        p.category = (uint8_t)v;
    }
    if (cli_get(a, "--expires")) {
        code = cli_time_arg(c, &p.expiry, cli_get(a, "--expires"), "--expires");
        if (code != CLI_EXIT_OK)
            return code;
        if (p.expiry == 0)
            return cli_error(c, CLI_EXIT_INPUT, "--expires: 0 is no time (leave it out for no "
                                                "expiry)");
    }
    cli_signer s;
    code = cli_signer_open(c, a, &s);
    if (code != CLI_EXIT_OK)
        return code;
    hre_tx *tx = NULL;
    int rc = hre_contract_build_grant(&tx, s.network_id, s.key, s.nonce, s.now, &p);
    cli_signer_close(&s);
    cli_submitted res;
    code = cli_submit_built(c, rc, tx, "GRANT", &res);
    if (code != CLI_EXIT_OK)
        return code;
    char gid[65], rhex[65], extra[600];
    cli_hex(gid, res.txid, 32);
    cli_hex(rhex, p.reader, 32);
    snprintf(extra, sizeof extra,
             ",\"grant_id\":\"%s\",\"reader\":\"%s\",\"reader_type\":\"%s\",\"scope\":\"%s\","
             "\"category\":%u,\"record_count\":%zu,\"expires\":%llu",
             gid, rhex, p.reader_type == HRE_READER_ORG ? "org" : "account",
             scope_name(p.scope), p.category, nrec, (unsigned long long)p.expiry);
    cli_print_submitted(c, &res, "access granted", extra);
    if (!c->json) {
        char iso[32] = "never";
        if (p.expiry)
            cli_time_iso(iso, p.expiry);
        fprintf(c->out, "grant:   %s\nreader:  %s (%s)\nscope:   %s\nexpires: %s\n", gid, rhex,
                p.reader_type == HRE_READER_ORG ? "organisation" : "account",
                scope_name(p.scope), iso);
    }
    return CLI_EXIT_OK;
}

static int cmd_revoke(cli *c, const cli_args *a)
{
    hre_revoke_payload p;
    int code = cli_id_arg(c, p.grant_id, a->pos[0], "GRANT");
    if (code != CLI_EXIT_OK)
        return code;
    cli_signer s;
    code = cli_signer_open(c, a, &s);
    if (code != CLI_EXIT_OK)
        return code;
    hre_tx *tx = NULL;
    int rc = hre_contract_build_revoke(&tx, s.network_id, s.key, s.nonce, s.now, &p);
    cli_signer_close(&s);
    cli_submitted res;
    code = cli_submit_built(c, rc, tx, "REVOKE", &res);
    if (code != CLI_EXIT_OK)
        return code;
    char gid[65], extra[100];
    cli_hex(gid, p.grant_id, 32);
    snprintf(extra, sizeof extra, ",\"grant_id\":\"%s\"", gid);
    cli_print_submitted(c, &res, "grant revoked", extra);
    return CLI_EXIT_OK;
}

static const char *access_reason(uint8_t r)
{
    switch (r) {
    case HRE_ACCESS_ALLOWED: return "allowed";
    case HRE_ACCESS_NO_GRANT: return "no role and no grant covers the record for this reader";
    case HRE_ACCESS_REVOKED: return "the grant that covered it was revoked";
    case HRE_ACCESS_EXPIRED: return "the grant that covered it has expired";
    case HRE_ACCESS_ERASED: return "the record was erased";
    case HRE_ACCESS_UNKNOWN_RECORD: return "no record has that id";
    case HRE_ACCESS_UNKNOWN_READER: return "the reader is not a registered account";
    case HRE_ACCESS_READER_SUSPENDED: return "the reader's account is suspended";
    case HRE_ACCESS_ORG_SUSPENDED: return "the reader's organisation is suspended";
    default: return "refused";
    }
}

static const char *basis_name(uint8_t b)
{
    return b == HRE_ACCESS_BY_PATIENT ? "patient" : b == HRE_ACCESS_BY_ROLE ? "role"
         : b == HRE_ACCESS_BY_GRANT ? "grant" : "unknown";
}

static int cmd_access(cli *c, const cli_args *a)
{
    hre_log_access_payload p;
    memset(&p, 0, sizeof p);
    int code = cli_id_arg(c, p.record_id, a->pos[0], "RECORD");
    if (code != CLI_EXIT_OK)
        return code;
    uint64_t purpose = 0;
    if (cli_get(a, "--purpose")) {
        code = cli_u64_arg(c, &purpose, cli_get(a, "--purpose"), 255, "--purpose");
        if (code != CLI_EXIT_OK)
            return code;
    }
    p.purpose = (uint8_t)purpose;
    cli_signer s;
    code = cli_signer_open(c, a, &s);
    if (code != CLI_EXIT_OK)
        return code;
    hre_contract_access verdict = HRE_CONTRACT_ACCESS_INIT;
    int checked = 0;
    if (cli_has_state(c)) {
        /* the contract's own rule, before anything is signed and sent */
        const hre_contract *st = NULL;
        code = cli_state(c, &st);
        if (code != CLI_EXIT_OK) {
            cli_signer_close(&s);
            return code;
        }
        int rc = hre_contract_access_check(st, &verdict, s.addr, p.record_id, s.now);
        if (rc != HRE_OK) {
            cli_signer_close(&s);
            fprintf(c->err, "hre: access refused: %s (%s)\n", access_reason(verdict.reason),
                    hre_error_detail());
            return verdict.reason == HRE_ACCESS_UNKNOWN_RECORD ? CLI_EXIT_NOTFOUND
                                                               : CLI_EXIT_REFUSED;
        }
        checked = 1;
    }
    hre_tx *tx = NULL;
    int rc = hre_contract_build_log_access(&tx, s.network_id, s.key, s.nonce, s.now, &p);
    cli_signer_close(&s);
    cli_submitted res;
    code = cli_submit_built(c, rc, tx, "LOG_ACCESS", &res);
    if (code != CLI_EXIT_OK)
        return code;
    char rid[65], extra[300];
    cli_hex(rid, p.record_id, 32);
    int n = snprintf(extra, sizeof extra, ",\"record_id\":\"%s\",\"purpose\":%u", rid, p.purpose);
    if (checked) {
        n += snprintf(extra + n, sizeof extra - (size_t)n, ",\"basis\":\"%s\"",
                      basis_name(verdict.basis));
        if (verdict.has_grant) {
            char gid[65];
            cli_hex(gid, verdict.grant_id, 32);
            snprintf(extra + n, sizeof extra - (size_t)n, ",\"grant_id\":\"%s\"", gid);
        }
    }
    cli_print_submitted(c, &res, "access logged", extra);
    if (!c->json && checked)
        fprintf(c->out, "allowed as %s\n", basis_name(verdict.basis));
    return CLI_EXIT_OK;
}

#define PASS_OPT { "--passphrase-fd", "N", "read the key's passphrase from file descriptor N", 0 }
#define END_OPT { NULL, NULL, NULL, 0 }

static const cli_opt grant_opts[] = {
    { "--key", "PEM", "the patient's key", CLI_OPT_REQUIRED },
    { "--reader", "ID", "the reader: an account address or an organisation id (64 hex digits)",
      CLI_OPT_REQUIRED },
    { "--reader-type", "TYPE", "account (default) or org (any active admin or doctor of it)", 0 },
    { "--scope", "SCOPE", "all (default; future records too), records, or category", 0 },
    { "--record", "ID", "a record the grant covers (--scope records)", CLI_OPT_REPEAT },
    { "--category", "N", "the category the grant covers (--scope category), 0..255", 0 },
    { "--expires", "TIME", "Unix seconds, YYYY-MM-DD, or +N{s,m,h,d,w} from now (default never)",
      0 },
    PASS_OPT, END_OPT
};
static const cli_opt revoke_opts[] = {
    { "--key", "PEM", "the patient who gave the grant", CLI_OPT_REQUIRED },
    PASS_OPT, END_OPT
};
static const cli_opt access_opts[] = {
    { "--key", "PEM", "the reader's key", CLI_OPT_REQUIRED },
    { "--purpose", "N", "the purpose-of-use code, 0..255 (host-defined; default 0)", 0 },
    PASS_OPT, END_OPT
};

#define SUBMIT_TEXT                                                                          \
    "The transaction is signed here with --key and submitted: with --data DIR to the local " \
    "ledger, where it is mined into a block at once; with --node DIR to the running node "   \
    "(then it waits in the mempool for a block). A refusal by the contract is exit 1 with "  \
    "its reason on stderr, and nothing changes."

const cli_cmd cli_cmds_consent[] = {
    { "grant", cmd_grant, "", 0, 0,
      "grant a reader access to the patient's records (the patient)",
      "Submits GRANT: the patient lets a reader, an account or a whole organisation "
      "(--reader-type org), read their records: all of them (also future ones), one "
      "category, or a list of records (--record, repeatable, up to 64). With --expires the "
      "grant is live only while the block time is before that time. The grant id is the "
      "transaction's id; hre revoke takes it. A record's patient and the admins and doctors "
      "of its issuing and lab organisations need no grant.\n\n" SUBMIT_TEXT "\n\n"
      "JSON members: txid, state, height, grant_id, reader, reader_type, scope, category, "
      "record_count, expires (0: never).",
      grant_opts, CLI_LEDGER },
    { "revoke", cmd_revoke, "GRANT", 1, 1,
      "revoke a grant (the patient who gave it)",
      "Submits REVOKE: the grant stops covering anything from the next block on. Accesses "
      "logged under it stay in the audit trail.\n\n" SUBMIT_TEXT "\n\n"
      "JSON members: txid, state, height, grant_id.",
      revoke_opts, CLI_LEDGER },
    { "access", cmd_access, "RECORD", 1, 1,
      "log an access to a record (a reader who may read it)",
      "Submits LOG_ACCESS: the reader records on the chain that it accessed the record, "
      "with a purpose code; the patient sees it in the audit trail. The contract accepts it "
      "only from the record's patient, an active admin or doctor of its issuing or lab "
      "organisation, or a reader covered by a live grant.\n\n"
      "With a local ledger (--data) the access is first checked with the contract's own rule "
      "(hre_contract_access_check) and a refusal is reported before anything is signed: exit "
      "1 (exit 3 for an unknown record) with the reason (no grant, revoked, expired, erased, "
      "suspended, ...) on stderr. With --node the node's contract decides: its refusal is "
      "exit 1 with the library's detail.\n\n"
      "JSON members: txid, state, height, record_id, purpose; with a local ledger also basis "
      "(patient, role or grant) and grant_id (when a grant allowed it).",
      access_opts, CLI_LEDGER },
    { NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0 }
};
