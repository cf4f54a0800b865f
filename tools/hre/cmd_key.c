/*
 * hre: the key commands. `hre key new|show|export|import` work on PKCS#8
 * PEM files (encrypted with a passphrase by default; the passphrase comes
 * from a terminal prompt or a file descriptor, never from argv), and `hre
 * key publish` puts a reader's vault encryption key on the chain
 * (SET_ENC_KEY).
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PASS_CAP 1024
#define PEM_CAP 8192

static const char *curve_name(hre_curve cv)
{
    return cv == HRE_CURVE_P256 ? "P-256" : cv == HRE_CURVE_SECP256K1 ? "secp256k1" : "unknown";
}

/* The passphrase a key is written under: from fd_opt, else a terminal
 * prompt asked twice; none with --no-passphrase (*encrypt = 0). Without
 * a terminal, a fd or --no-passphrase it refuses. */
static int new_passphrase(cli *c, const cli_args *a, const char *fd_opt, char *buf, size_t cap,
                          size_t *len, int *encrypt)
{
    *len = 0;
    buf[0] = '\0';
    *encrypt = 0;
    if (cli_has(a, "--no-passphrase")) {
        if (cli_get(a, fd_opt))
            return cli_error(c, CLI_EXIT_USAGE, "%s and --no-passphrase exclude each other",
                             fd_opt);
        return CLI_EXIT_OK;
    }
    int from = CLI_PASS_NONE;
    int code = cli_passphrase_opt(c, a, fd_opt, "new passphrase: ", 1, buf, cap, len, &from);
    if (code != CLI_EXIT_OK)
        return code;
    if (from == CLI_PASS_NONE)
        return cli_error(c, CLI_EXIT_USAGE,
                         "no terminal to ask for the new passphrase: give %s N, or "
                         "--no-passphrase for a key in clear", fd_opt);
    if (*len == 0)
        return cli_error(c, CLI_EXIT_INPUT,
                         "the passphrase is empty (--no-passphrase writes a key in clear)");
    *encrypt = 1;
    return CLI_EXIT_OK;
}

/* Write key as PEM to path (mode 0600), under pass (encrypt) or in clear. */
static int write_key(cli *c, const hre_key *key, const char *path, const char *pass,
                     size_t pass_len, int encrypt, int force)
{
    char *pem = malloc(PEM_CAP);
    if (!pem)
        return cli_error(c, CLI_EXIT_INTERNAL, "out of memory");
    size_t pem_len = PEM_CAP;
    int rc = hre_key_export_pem(key, pem, &pem_len, encrypt ? pass : NULL, encrypt ? pass_len : 0);
    int code;
    if (rc != HRE_OK)
        code = cli_fail(c, rc, "export the key");
    else if (force)
        code = cli_write_file(c, path, pem, pem_len, 0600);
    else
        code = cli_write_file_new(c, path, pem, pem_len, 0600);
    hre_wipe(pem, PEM_CAP);
    free(pem);
    return code;
}

/* The lines (or JSON) describing a key. */
static void print_key(cli *c, const uint8_t wire[34], const char *file, int is_private,
                      int encrypted, hre_curve cv)
{
    uint8_t addr[32];
    char ahex[65], whex[69];
    if (hre_contract_address(addr, wire) != HRE_OK)
        memset(addr, 0, sizeof addr);
    cli_hex(ahex, addr, 32);
    cli_hex(whex, wire, 34);
    if (c->json) {
        fprintf(c->out, "{\"id\":\"%s\",\"public_key\":\"%s\",\"curve\":\"%s\"", ahex, whex,
                curve_name(cv));
        if (file) {
            fputs(",\"file\":", c->out);
            cli_json_str(c->out, file);
        }
        fprintf(c->out, ",\"private\":%s", is_private ? "true" : "false");
        if (is_private)
            fprintf(c->out, ",\"encrypted\":%s", encrypted ? "true" : "false");
        fputs("}\n", c->out);
    } else {
        fprintf(c->out, "id:         %s\n", ahex);
        fprintf(c->out, "public key: %s\n", whex);
        fprintf(c->out, "curve:      %s\n", curve_name(cv));
        if (file)
            fprintf(c->out, "file:       %s (%s)\n", file,
                    !is_private ? "public key only"
                                : encrypted ? "private key, encrypted" : "private key, IN CLEAR");
    }
}

static int pem_is_encrypted(cli *c, const char *path, int *encrypted, int *is_pem)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int code = cli_read_file(c, path, &buf, &len, 1u << 16);
    if (code != CLI_EXIT_OK)
        return code;
    *encrypted = strstr((const char *)buf, "ENCRYPTED PRIVATE KEY") != NULL;
    *is_pem = strstr((const char *)buf, "-----BEGIN") != NULL;
    hre_wipe(buf, len);
    free(buf);
    return CLI_EXIT_OK;
}

static int cmd_key_new(cli *c, const cli_args *a)
{
    const char *out = cli_get(a, "--out");
    if (!strcmp(out, "-"))
        return cli_error(c, CLI_EXIT_USAGE, "key new: --out needs a file name");
    if (cli_get(a, "--curve") && strcmp(cli_get(a, "--curve"), "p256") &&
        strcmp(cli_get(a, "--curve"), "P-256") && strcmp(cli_get(a, "--curve"), "secp256k1"))
        return cli_error(c, CLI_EXIT_USAGE, "--curve: p256 or secp256k1, not '%s'",
                         cli_get(a, "--curve"));
    hre_curve cv = cli_get(a, "--curve") && !strcmp(cli_get(a, "--curve"), "secp256k1")
                       ? HRE_CURVE_SECP256K1 : HRE_CURVE_P256;
    char pass[PASS_CAP];
    size_t pass_len = 0;
    int encrypt = 0;
    int code = new_passphrase(c, a, "--passphrase-fd", pass, sizeof pass, &pass_len, &encrypt);
    hre_key *key = NULL;
    uint8_t wire[34];
    if (code == CLI_EXIT_OK) {
        int rc = hre_key_generate(&key, cv);
        code = rc == HRE_OK ? CLI_EXIT_OK : cli_fail(c, rc, "generate a key");
    }
    if (code == CLI_EXIT_OK)
        code = cli_key_ids(c, key, wire, NULL);
    if (code == CLI_EXIT_OK)
        code = write_key(c, key, out, pass, pass_len, encrypt, 0);
    hre_wipe(pass, sizeof pass);
    if (code == CLI_EXIT_OK)
        print_key(c, wire, out, 1, encrypt, cv);
    hre_key_free(key);
    return code;
}

static int cmd_key_show(cli *c, const cli_args *a)
{
    const char *path = cli_get(a, "--key");
    int encrypted = 0, is_pem = 0;
    int code = pem_is_encrypted(c, path, &encrypted, &is_pem);
    if (code != CLI_EXIT_OK)
        return code;
    uint8_t wire[34];
    int is_private = 0;
    code = cli_load_wire(c, a, path, wire, &is_private);
    if (code != CLI_EXIT_OK)
        return code;
    print_key(c, wire, path, is_private, encrypted, (hre_curve)wire[0]);
    return CLI_EXIT_OK;
}

static int cmd_key_export(cli *c, const cli_args *a)
{
    const char *path = cli_get(a, "--key");
    const char *out = cli_get(a, "--out");
    int pub = cli_has(a, "--public");
    int force = cli_has(a, "--force");
    if (pub && (cli_has(a, "--no-passphrase") || cli_get(a, "--new-passphrase-fd")))
        return cli_error(c, CLI_EXIT_USAGE,
                         "key export: --public writes no private key (no passphrase options)");
    if (!strcmp(out, "-") && (!pub || c->json))
        return cli_error(c, CLI_EXIT_USAGE,
                         "key export: only --public (without --json) may write to stdout");
    hre_key *key = NULL;
    int code = cli_load_key(c, a, path, &key);
    if (code != CLI_EXIT_OK)
        return code;
    uint8_t wire[34];
    code = cli_key_ids(c, key, wire, NULL);
    int encrypt = 0;
    if (code == CLI_EXIT_OK && pub) {
        char line[70];
        cli_hex(line, wire, 34);
        line[68] = '\n';
        if (!strcmp(out, "-"))
            code = cli_write_file(c, out, line, 69, 0644);
        else if (force)
            code = cli_write_file(c, out, line, 69, 0644);
        else
            code = cli_write_file_new(c, out, line, 69, 0644);
    } else if (code == CLI_EXIT_OK) {
        char pass[PASS_CAP];
        size_t pass_len = 0;
        code = new_passphrase(c, a, "--new-passphrase-fd", pass, sizeof pass, &pass_len, &encrypt);
        if (code == CLI_EXIT_OK)
            code = write_key(c, key, out, pass, pass_len, encrypt, force);
        hre_wipe(pass, sizeof pass);
    }
    hre_curve cv = hre_key_curve(key);
    hre_key_free(key);
    if (code == CLI_EXIT_OK && strcmp(out, "-"))
        print_key(c, wire, out, !pub, encrypt, cv);
    return code;
}

static int cmd_key_import(cli *c, const cli_args *a)
{
    const char *in = cli_get(a, "--in");
    const char *out = cli_get(a, "--out");
    if (!strcmp(out, "-"))
        return cli_error(c, CLI_EXIT_USAGE, "key import: --out needs a file name");
    uint8_t *pem = NULL;
    size_t pem_len = 0;
    int code = cli_read_file(c, in, &pem, &pem_len, 1u << 16);
    if (code != CLI_EXIT_OK)
        return code;
    int encrypted = strstr((const char *)pem, "ENCRYPTED PRIVATE KEY") != NULL;
    char pass[PASS_CAP];
    size_t pass_len = 0;
    if (encrypted) {
        int from = CLI_PASS_NONE;
        char prompt[600];
        snprintf(prompt, sizeof prompt, "passphrase for %.500s: ", in);
        code = cli_passphrase_opt(c, a, "--in-passphrase-fd", prompt, 0, pass, sizeof pass,
                                  &pass_len, &from);
        if (code == CLI_EXIT_OK && from == CLI_PASS_NONE)
            code = cli_error(c, CLI_EXIT_USAGE,
                             "%s is encrypted: give --in-passphrase-fd N (or run on a terminal)",
                             in);
    }
    hre_key *key = NULL;
    if (code == CLI_EXIT_OK) {
        int rc = hre_key_import_pem(&key, (const char *)pem, pem_len, pass_len ? pass : NULL,
                                    pass_len);
        if (rc != HRE_OK) {
            char what[600];
            snprintf(what, sizeof what, "import %.500s", in);
            code = cli_fail(c, rc, what);
        }
    }
    hre_wipe(pass, sizeof pass);
    hre_wipe(pem, pem_len);
    free(pem);
    uint8_t wire[34];
    int encrypt = 0;
    if (code == CLI_EXIT_OK)
        code = cli_key_ids(c, key, wire, NULL);
    if (code == CLI_EXIT_OK) {
        code = new_passphrase(c, a, "--passphrase-fd", pass, sizeof pass, &pass_len, &encrypt);
        if (code == CLI_EXIT_OK)
            code = write_key(c, key, out, pass, pass_len, encrypt, 0);
        hre_wipe(pass, sizeof pass);
    }
    hre_curve cv = hre_key_curve(key);
    hre_key_free(key);
    if (code == CLI_EXIT_OK)
        print_key(c, wire, out, 1, encrypt, cv);
    return code;
}

static int cmd_key_publish(cli *c, const cli_args *a)
{
    hre_set_enc_key_payload p;
    memset(&p, 0, sizeof p);
    const char *org = cli_get(a, "--org"), *acct = cli_get(a, "--account");
    if (org && acct)
        return cli_error(c, CLI_EXIT_USAGE, "key publish: --org and --account exclude each other");
    int code = cli_pubkey_arg(c, p.enc_key, cli_get(a, "--enc-key"), "--enc-key");
    if (code != CLI_EXIT_OK)
        return code;
    if (p.enc_key[0] != HRE_CURVE_P256)
        return cli_error(c, CLI_EXIT_INPUT, "--enc-key: an encryption key must be on P-256");
    if (org) {
        p.target_type = HRE_ENC_TARGET_ORG;
        code = cli_id_arg(c, p.target, org, "--org");
    } else if (acct) {
        p.target_type = HRE_ENC_TARGET_ACCOUNT;
        code = cli_id_arg(c, p.target, acct, "--account");
    }
    if (code != CLI_EXIT_OK)
        return code;
    cli_signer s;
    code = cli_signer_open(c, a, &s);
    if (code != CLI_EXIT_OK)
        return code;
    if (!org && !acct) {
        p.target_type = HRE_ENC_TARGET_ACCOUNT;
        memcpy(p.target, s.addr, 32);
    }
    hre_tx *tx = NULL;
    int rc = hre_contract_build_set_enc_key(&tx, s.network_id, s.key, s.nonce, s.now, &p);
    cli_signer_close(&s);
    cli_submitted res;
    code = cli_submit_built(c, rc, tx, "SET_ENC_KEY", &res);
    if (code != CLI_EXIT_OK)
        return code;
    char extra[256], thex[65], khex[69];
    cli_hex(thex, p.target, 32);
    cli_hex(khex, p.enc_key, 34);
    snprintf(extra, sizeof extra, ",\"target_type\":\"%s\",\"target\":\"%s\",\"enc_key\":\"%s\"",
             p.target_type == HRE_ENC_TARGET_ORG ? "org" : "account", thex, khex);
    cli_print_submitted(c, &res, "encryption key published", extra);
    if (!c->json)
        fprintf(c->out, "%s %s: encryption key %s\n",
                p.target_type == HRE_ENC_TARGET_ORG ? "organisation" : "account", thex, khex);
    return CLI_EXIT_OK;
}

static const cli_opt key_new_opts[] = {
    { "--out", "PEM", "write the new private key to PEM (mode 0600; never overwritten)",
      CLI_OPT_REQUIRED },
    { "--passphrase-fd", "N", "read the new passphrase from file descriptor N (one line)", 0 },
    { "--no-passphrase", NULL, "write the key in clear (unencrypted PKCS#8)", 0 },
    { "--curve", "CURVE", "p256 (default) or secp256k1", 0 },
    { NULL, NULL, NULL, 0 }
};

static const cli_opt key_show_opts[] = {
    { "--key", "FILE", "a PEM private key, or a public key file", CLI_OPT_REQUIRED },
    { "--passphrase-fd", "N", "read the key's passphrase from file descriptor N", 0 },
    { NULL, NULL, NULL, 0 }
};

static const cli_opt key_export_opts[] = {
    { "--key", "PEM", "the private key to export", CLI_OPT_REQUIRED },
    { "--out", "FILE", "write the export to FILE (- is stdout, for --public only)",
      CLI_OPT_REQUIRED },
    { "--public", NULL, "write only the public key: its 68 hex digits and a newline", 0 },
    { "--passphrase-fd", "N", "read the key's passphrase from file descriptor N", 0 },
    { "--new-passphrase-fd", "N", "read the passphrase of the copy from file descriptor N", 0 },
    { "--no-passphrase", NULL, "write the copy in clear (unencrypted PKCS#8)", 0 },
    { "--force", NULL, "replace FILE if it exists", 0 },
    { NULL, NULL, NULL, 0 }
};

static const cli_opt key_import_opts[] = {
    { "--in", "FILE", "the PKCS#8 PEM key to import (P-256 or secp256k1)", CLI_OPT_REQUIRED },
    { "--out", "PEM", "write hre's copy to PEM (mode 0600; never overwritten)",
      CLI_OPT_REQUIRED },
    { "--in-passphrase-fd", "N", "read the passphrase of FILE from file descriptor N", 0 },
    { "--passphrase-fd", "N", "read the passphrase of the copy from file descriptor N", 0 },
    { "--no-passphrase", NULL, "write the copy in clear (unencrypted PKCS#8)", 0 },
    { NULL, NULL, NULL, 0 }
};

static const cli_opt key_publish_opts[] = {
    { "--key", "PEM", "the signer: the account itself, its organisation's admin, or the "
                      "authority", CLI_OPT_REQUIRED },
    { "--enc-key", "PUBHEX", "the encryption public key (68 hex digits, P-256)",
      CLI_OPT_REQUIRED },
    { "--org", "ORGID", "publish it for this organisation (signed by an admin of it)", 0 },
    { "--account", "ADDR", "publish it for this account (default: the signer's own)", 0 },
    { "--passphrase-fd", "N", "read the key's passphrase from file descriptor N", 0 },
    { NULL, NULL, NULL, 0 }
};

#define PASS_TEXT                                                                            \
    "Passphrases are never taken from the command line. Each is read from a file "           \
    "descriptor (its first line, or all of it when it has no newline) or asked on the "      \
    "terminal with echo off; a new passphrase is asked twice. Two options may name the same " \
    "descriptor: each reads one line, in the order the command needs them (the key's own "   \
    "passphrase first). A key in clear takes --no-passphrase, on purpose: without a "        \
    "terminal, a descriptor or --no-passphrase the command refuses.\n\n"                     \
    "Keys are PKCS#8 PEM files, encrypted with AES-256-CBC under PBKDF2-HMAC-SHA256 (PBES2, " \
    "100000 iterations). Files are written atomically, private keys with mode 0600 and "     \
    "public key files with 0644, and an existing file is never replaced (exit 1) unless the " \
    "command has --force and it is given. A public key is printed in its 34-byte wire form "  \
    "(a curve byte, 01 for P-256, and the compressed point) as 68 hex digits; the key's id, " \
    "its account address, is sha256 of those 34 bytes (64 hex digits)."

const cli_cmd cli_cmds_key[] = {
    { "key new", cmd_key_new, "", 0, 0,
      "generate a new private key (P-256) and write it as PKCS#8 PEM",
      "Generates a key with OpenSSL's random generator and writes it to --out, encrypted under "
      "a new passphrase (or in clear with --no-passphrase). It prints the key's id (the "
      "account address it gets when registered) and its public key, which an admin needs to "
      "register it (hre doctor register --doctor PUBHEX, ...).\n\n" PASS_TEXT "\n\n"
      "JSON members: id, public_key, curve, file, private (true), encrypted.",
      key_new_opts, 0 },
    { "key show", cmd_key_show, "", 0, 0,
      "print a key's id (address) and public key",
      "Reads a PEM private key (asking its passphrase if it is encrypted) or a public key file "
      "(68 hex digits, as hre key export --public writes it) and prints its id (sha256 of the "
      "wire public key: the account address), its public key in the 68-hex-digit wire form, "
      "and its curve. Nothing secret is printed.\n\n"
      "JSON members: id, public_key, curve, file, private, encrypted (private keys only).",
      key_show_opts, 0 },
    { "key export", cmd_key_export, "", 0, 0,
      "copy a key under a new passphrase, in clear, or only its public key",
      "Writes a copy of the private key --key to --out: encrypted under a new passphrase "
      "(--new-passphrase-fd, or asked twice on the terminal), in clear (--no-passphrase), or "
      "with --public only its public key as 68 hex digits and a newline (a public key file "
      "that --authority, hre key show and other tools read).\n\n" PASS_TEXT "\n\n"
      "JSON members: id, public_key, curve, file, private, encrypted.",
      key_export_opts, 0 },
    { "key import", cmd_key_import, "", 0, 0,
      "check a PKCS#8 PEM key made elsewhere and re-write it under hre's passphrase",
      "Reads a PKCS#8 PEM private key made by another tool, for example "
      "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 (clear, or encrypted "
      "with PBES2: its passphrase from --in-passphrase-fd or the terminal). The key is "
      "checked as libhre imports keys (a named P-256 or secp256k1 curve; other algorithms, "
      "explicit curve parameters and excessive key-derivation costs are refused with exit 5; "
      "a wrong passphrase is exit 6), its public key printed, and written to --out as hre writes keys.\n\n" PASS_TEXT
      "\n\nJSON members: id, public_key, curve, file, private (true), encrypted.",
      key_import_opts, 0 },
    { "key publish", cmd_key_publish, "", 0, 0,
      "publish a vault encryption key on the chain (SET_ENC_KEY)",
      "Submits a SET_ENC_KEY transaction: the P-256 public key that documents are encrypted "
      "to for a reader (an account, or a whole organisation with --org), separate from its "
      "signing key. A vault re-wraps a document's key to it for a reader the chain allows. "
      "Publishing again replaces the key. An account publishes its own key; the authority or "
      "an admin of the account's organisation may publish one for it (--account); an admin "
      "of an organisation publishes the organisation's key (--org).\n\n"
      "JSON members: txid, state (block or mempool), height (in a block), target_type "
      "(account or org), target, enc_key.",
      key_publish_opts, CLI_LEDGER },
    { NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0 }
};
