/*
 * hre: the registration commands (organisations and accounts):
 * REGISTER_ORG, APPOINT_ADMIN, REGISTER_DOCTOR, REGISTER_PATIENT and
 * REGISTER_NODE, each built, signed and submitted in the tool's process.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    uint8_t type;
} org_types[] = {
    { "hospital", HRE_ORG_HOSPITAL }, { "lab", HRE_ORG_LAB },
    { "clinic", HRE_ORG_CLINIC },     { "insurer", HRE_ORG_INSURER },
    { "research", HRE_ORG_RESEARCH }, { "pharmacy", HRE_ORG_PHARMACY },
};

/* Print the submitted result with the new id and, when given, the
 * account's address under `member`. */
static void print_new(cli *c, const cli_submitted *res, const char *what, const char *member,
                      const uint8_t id[32], const char *more_json)
{
    char hex[65], extra[512];
    cli_hex(hex, id, 32);
    snprintf(extra, sizeof extra, ",\"id\":\"%s\",\"%s\":\"%s\"%s", hex, member, hex,
             more_json ? more_json : "");
    cli_print_submitted(c, res, what, extra);
    if (!c->json)
        fprintf(c->out, "%s: %s\n", member, hex);
}

static int cmd_org_register(cli *c, const cli_args *a)
{
    hre_register_org_payload p;
    memset(&p, 0, sizeof p);
    const char *type = cli_get(a, "--type");
    const char *type_name = NULL;
    for (size_t i = 0; i < sizeof org_types / sizeof org_types[0]; i++)
        if (!strcmp(type, org_types[i].name)) {
            p.org_type = org_types[i].type;
            type_name = org_types[i].name;
        }
    if (!type_name)
        return cli_error(c, CLI_EXIT_USAGE, "--type: one of hospital, lab, clinic, insurer, "
                                            "research, pharmacy; not '%s'", type);
    const char *name = cli_get(a, "--name");
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen > HRE_CONTRACT_NAME_MAX)
        return cli_error(c, CLI_EXIT_INPUT, "--name: 1 to %d bytes", HRE_CONTRACT_NAME_MAX);
    p.name = (const uint8_t *)name;
    p.name_len = nlen;
    int code = cli_pubkey_arg(c, p.admin_key, cli_get(a, "--admin"), "--admin");
    if (code != CLI_EXIT_OK)
        return code;
    cli_signer s;
    code = cli_signer_open(c, a, &s);
    if (code != CLI_EXIT_OK)
        return code;
    hre_tx *tx = NULL;
    int rc = hre_contract_build_register_org(&tx, s.network_id, s.key, s.nonce, s.now, &p);
    cli_signer_close(&s);
    cli_submitted res;
    code = cli_submit_built(c, rc, tx, "REGISTER_ORG", &res);
    if (code != CLI_EXIT_OK)
        return code;
    uint8_t admin[32];
    rc = hre_contract_address(admin, p.admin_key);
    if (rc != HRE_OK)
        return cli_fail(c, rc, "admin address");
    char ahex[65], more[300];
    cli_hex(ahex, admin, 32);
    snprintf(more, sizeof more, ",\"admin\":\"%s\",\"type\":\"%s\"", ahex, type_name);
    /* the organisation id is the REGISTER_ORG transaction's id */
    print_new(c, &res, "organisation registered", "org_id", res.txid, more);
    if (!c->json)
        fprintf(c->out, "admin:  %s\n", ahex);
    return CLI_EXIT_OK;
}

static int cmd_admin_register(cli *c, const cli_args *a)
{
    hre_appoint_admin_payload p;
    memset(&p, 0, sizeof p);
    int code = cli_id_arg(c, p.org_id, cli_get(a, "--org"), "--org");
    if (code == CLI_EXIT_OK)
        code = cli_pubkey_arg(c, p.admin_key, cli_get(a, "--admin"), "--admin");
    if (code != CLI_EXIT_OK)
        return code;
    cli_signer s;
    code = cli_signer_open(c, a, &s);
    if (code != CLI_EXIT_OK)
        return code;
    hre_tx *tx = NULL;
    int rc = hre_contract_build_appoint_admin(&tx, s.network_id, s.key, s.nonce, s.now, &p);
    cli_signer_close(&s);
    cli_submitted res;
    code = cli_submit_built(c, rc, tx, "APPOINT_ADMIN", &res);
    if (code != CLI_EXIT_OK)
        return code;
    uint8_t admin[32];
    rc = hre_contract_address(admin, p.admin_key);
    if (rc != HRE_OK)
        return cli_fail(c, rc, "admin address");
    char ohex[65], more[100];
    cli_hex(ohex, p.org_id, 32);
    snprintf(more, sizeof more, ",\"org_id\":\"%s\"", ohex);
    print_new(c, &res, "admin appointed", "admin", admin, more);
    return CLI_EXIT_OK;
}

typedef int (*key_builder)(hre_tx **out, const uint8_t network_id[32], const hre_key *signer,
                           uint64_t nonce, uint64_t timestamp, const uint8_t key[34]);

static int build_doctor(hre_tx **out, const uint8_t net[32], const hre_key *k, uint64_t nonce,
                        uint64_t ts, const uint8_t key[34])
{
    hre_register_doctor_payload p;
    memcpy(p.doctor_key, key, 34);
    return hre_contract_build_register_doctor(out, net, k, nonce, ts, &p);
}

static int build_node(hre_tx **out, const uint8_t net[32], const hre_key *k, uint64_t nonce,
                      uint64_t ts, const uint8_t key[34])
{
    hre_register_node_payload p;
    memcpy(p.node_key, key, 34);
    return hre_contract_build_register_node(out, net, k, nonce, ts, &p);
}

/* doctor / node register: an admin registers a key of its organisation */
static int register_key(cli *c, const cli_args *a, const char *opt, const char *kind,
                        key_builder build, const char *what, const char *member)
{
    uint8_t key[34];
    int code = cli_pubkey_arg(c, key, cli_get(a, opt), opt);
    if (code != CLI_EXIT_OK)
        return code;
    cli_signer s;
    code = cli_signer_open(c, a, &s);
    if (code != CLI_EXIT_OK)
        return code;
    hre_tx *tx = NULL;
    int rc = build(&tx, s.network_id, s.key, s.nonce, s.now, key);
    cli_signer_close(&s);
    cli_submitted res;
    code = cli_submit_built(c, rc, tx, kind, &res);
    if (code != CLI_EXIT_OK)
        return code;
    uint8_t addr[32];
    rc = hre_contract_address(addr, key);
    if (rc != HRE_OK)
        return cli_fail(c, rc, "address");
    print_new(c, &res, what, member, addr, NULL);
    return CLI_EXIT_OK;
}

static int cmd_doctor_register(cli *c, const cli_args *a)
{
    return register_key(c, a, "--doctor", "REGISTER_DOCTOR", build_doctor, "doctor registered",
                        "doctor");
}

static int cmd_node_register(cli *c, const cli_args *a)
{
    return register_key(c, a, "--node-key", "REGISTER_NODE", build_node, "node registered",
                        "node");
}

static int cmd_patient_register(cli *c, const cli_args *a)
{
    cli_signer s;
    int code = cli_signer_open(c, a, &s);
    if (code != CLI_EXIT_OK)
        return code;
    hre_register_patient_payload p = { 0 };
    hre_tx *tx = NULL;
    int rc = hre_contract_build_register_patient(&tx, s.network_id, s.key, s.nonce, s.now, &p);
    uint8_t addr[32];
    memcpy(addr, s.addr, 32);
    cli_signer_close(&s);
    cli_submitted res;
    code = cli_submit_built(c, rc, tx, "REGISTER_PATIENT", &res);
    if (code != CLI_EXIT_OK)
        return code;
    print_new(c, &res, "patient registered", "patient", addr, NULL);
    return CLI_EXIT_OK;
}

#define KEY_OPT(who) { "--key", "PEM", who, CLI_OPT_REQUIRED }
#define PASS_OPT { "--passphrase-fd", "N", "read the key's passphrase from file descriptor N", 0 }
#define END_OPT { NULL, NULL, NULL, 0 }

static const cli_opt org_register_opts[] = {
    KEY_OPT("the authority's key (the founding hospital admin)"),
    { "--type", "TYPE", "hospital, lab, clinic, insurer, research or pharmacy", CLI_OPT_REQUIRED },
    { "--name", "NAME", "the organisation's name (1..64 bytes, no control characters)",
      CLI_OPT_REQUIRED },
    { "--admin", "PUBHEX", "the public key of its first admin (68 hex digits)", CLI_OPT_REQUIRED },
    PASS_OPT, END_OPT
};
static const cli_opt admin_register_opts[] = {
    KEY_OPT("the authority's key"),
    { "--org", "ORGID", "the organisation (64 hex digits)", CLI_OPT_REQUIRED },
    { "--admin", "PUBHEX", "the new admin's public key (68 hex digits)", CLI_OPT_REQUIRED },
    PASS_OPT, END_OPT
};
static const cli_opt doctor_register_opts[] = {
    KEY_OPT("an admin of the organisation the doctor joins"),
    { "--doctor", "PUBHEX", "the doctor's public key (68 hex digits)", CLI_OPT_REQUIRED },
    PASS_OPT, END_OPT
};
static const cli_opt patient_register_opts[] = {
    KEY_OPT("the patient's own key"),
    PASS_OPT, END_OPT
};
static const cli_opt node_register_opts[] = {
    KEY_OPT("an admin of the organisation the node belongs to"),
    { "--node-key", "PUBHEX", "the node's public key (68 hex digits; a key no account uses)",
      CLI_OPT_REQUIRED },
    PASS_OPT, END_OPT
};

#define SUBMIT_TEXT                                                                          \
    "The transaction is signed here with --key (its nonce is the signer's next one) and "    \
    "submitted: with --data DIR to the local ledger, where it is mined into a block at "     \
    "once; with --node DIR to the running node, which relays it (it is then in the "       \
    "mempool until a block holds it). A refusal by the contract is exit 1 with its reason " \
    "on stderr, and nothing changes."

const cli_cmd cli_cmds_register[] = {
    { "org register", cmd_org_register, "", 0, 0,
      "register an organisation and its first admin (the authority only)",
      "Submits REGISTER_ORG: the authority, the founding hospital's admin, registers a new "
      "organisation of a type (a lab signs the records of hospitals and clinics; a hospital "
      "or clinic issues records) with its name and its first admin, given by public key "
      "(hre key show prints it). The organisation's id is the transaction's id.\n\n" SUBMIT_TEXT
      "\n\nJSON members: txid, state, height, id and org_id (the new organisation), admin "
      "(the admin's address), type.",
      org_register_opts, CLI_LEDGER },
    { "admin register", cmd_admin_register, "", 0, 0,
      "appoint one more admin of an organisation (the authority only)",
      "Submits APPOINT_ADMIN: the authority appoints another admin for an existing "
      "organisation. Admins register doctors and nodes and sign records for their "
      "organisation.\n\n" SUBMIT_TEXT "\n\n"
      "JSON members: txid, state, height, id and admin (the admin's address), org_id.",
      admin_register_opts, CLI_LEDGER },
    { "doctor register", cmd_doctor_register, "", 0, 0,
      "register a doctor of the signer's organisation (an admin)",
      "Submits REGISTER_DOCTOR: an admin registers a doctor, who joins the admin's "
      "organisation. A doctor of a record's issuing or lab organisation may read it by role; "
      "other doctors need the patient's grant.\n\n" SUBMIT_TEXT "\n\n"
      "JSON members: txid, state, height, id and doctor (the doctor's address).",
      doctor_register_opts, CLI_LEDGER },
    { "patient register", cmd_patient_register, "", 0, 0,
      "register the signer's key as a patient",
      "Submits REGISTER_PATIENT: patients register themselves, with their own key (its first "
      "transaction, nonce 0). Records are then issued to the patient's address, and the "
      "patient grants, revokes and erases.\n\n" SUBMIT_TEXT "\n\n"
      "JSON members: txid, state, height, id and patient (the patient's address).",
      patient_register_opts, CLI_LEDGER },
    { "node register", cmd_node_register, "", 0, 0,
      "register a node of the signer's organisation (an admin)",
      "Submits REGISTER_NODE: an admin registers the key of a node of its organisation "
      "(hre node run --key), the identity the node proves in the handshake; other nodes "
      "accept it as a member while the node account and its organisation are active.\n\n"
      SUBMIT_TEXT "\n\nJSON members: txid, state, height, id and node (the node's address).",
      node_register_opts, CLI_LEDGER },
    { NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0 }
};
