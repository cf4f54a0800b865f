/*
 * hre: `hre network init`, the network file of a new private network
 * (hre_network_new_private: its genesis block is mined here, and the
 * founding authority's public key and organisation name are in it).
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static int cmd_network_init(cli *c, const cli_args *a)
{
    const char *out = cli_get(a, "--out");
    const char *auth = cli_get(a, "--authority");
    const char *name = cli_get(a, "--name");
    if (!strcmp(out, "-"))
        return cli_error(c, CLI_EXIT_USAGE, "network init: --out needs a file name");
    if (name && (!*name || strlen(name) > HRE_CONTRACT_NAME_MAX))
        return cli_error(c, CLI_EXIT_INPUT, "--name: 1 to %d bytes", HRE_CONTRACT_NAME_MAX);
    struct stat sb;
    int force = cli_has(a, "--force");
    if (!force && lstat(out, &sb) == 0)
        return cli_error(c, CLI_EXIT_REFUSED, "%s exists: not overwritten (--force replaces it)",
                         out);
    uint8_t wire[34], addr[32];
    int code = cli_load_wire(c, a, auth, wire, NULL);
    if (code != CLI_EXIT_OK)
        return code;
    int rc = hre_contract_address(addr, wire);
    if (rc != HRE_OK)
        return cli_fail(c, rc, "authority address");
    uint64_t now = cli_now_s();
    if (cli_get(a, "--time")) {
        code = cli_time_arg(c, &now, cli_get(a, "--time"), "--time");
        if (code != CLI_EXIT_OK)
            return code;
    }
    hre_network *net = NULL;
    rc = hre_network_new_private(&net, wire, name, now);
    if (rc != HRE_OK)
        return cli_fail(c, rc, "make the network");
    uint8_t file[HRE_NETWORK_FILE_MAX], id[32], genesis_org[32];
    size_t flen = sizeof file;
    rc = hre_network_encode(net, file, &flen);
    if (rc == HRE_OK)
        rc = hre_network_id(net, id);
    if (rc == HRE_OK)
        rc = hre_contract_genesis_org_id(genesis_org, id);
    const char *org_name = hre_network_org_name(net);
    char org_name_copy[HRE_CONTRACT_NAME_MAX + 1] = "";
    if (org_name)
        snprintf(org_name_copy, sizeof org_name_copy, "%s", org_name);
    hre_network_free(net);
    if (rc != HRE_OK)
        return cli_fail(c, rc, "encode the network");
    code = force ? cli_write_file(c, out, file, flen, 0644)
                 : cli_write_file_new(c, out, file, flen, 0644);
    if (code != CLI_EXIT_OK)
        return code;
    char idhex[65], disp[65], orghex[65], authhex[69], addrhex[65];
    cli_hex(idhex, id, 32);
    hre_hash_display_encode(disp, id);
    cli_hex(orghex, genesis_org, 32);
    cli_hex(authhex, wire, 34);
    cli_hex(addrhex, addr, 32);
    if (c->json) {
        fprintf(c->out, "{\"network_id\":\"%s\",\"genesis\":\"%s\",\"file\":", idhex, disp);
        cli_json_str(c->out, out);
        fprintf(c->out, ",\"bytes\":%zu,\"authority\":\"%s\",\"authority_key\":\"%s\","
                        "\"genesis_org\":\"%s\",\"name\":", flen, addrhex, authhex, orghex);
        if (org_name_copy[0])
            cli_json_str(c->out, org_name_copy);
        else
            fputs("null", c->out);
        fprintf(c->out, ",\"time\":%llu}\n", (unsigned long long)now);
    } else {
        fprintf(c->out, "network id:   %s\n", idhex);
        fprintf(c->out, "genesis hash: %s (display order)\n", disp);
        fprintf(c->out, "authority:    %s\n", addrhex);
        fprintf(c->out, "genesis org:  %s (%s)\n", orghex,
                org_name_copy[0] ? org_name_copy : "the default name");
        fprintf(c->out, "written:      %s (%zu bytes)\n", out, flen);
    }
    return CLI_EXIT_OK;
}

static const cli_opt network_init_opts[] = {
    { "--out", "FILE", "write the network file to FILE", CLI_OPT_REQUIRED },
    { "--authority", "KEY", "the founding authority's key: a PEM private key, or a public key "
                            "file (hre key export --public)", CLI_OPT_REQUIRED },
    { "--name", "ORG", "the founding (genesis) organisation's name, 1..64 bytes", 0 },
    { "--time", "TIME", "the genesis time (Unix seconds or YYYY-MM-DD; default now)", 0 },
    { "--passphrase-fd", "N", "read the key's passphrase from file descriptor N", 0 },
    { "--force", NULL, "replace FILE if it exists", 0 },
    { NULL, NULL, NULL, 0 }
};

const cli_cmd cli_cmds_network[] = {
    { "network init", cmd_network_init, "", 0, 0,
      "make a new private network and write its network file",
      "Makes a new network of its own for a group of institutions, with the private-network "
      "preset of libhre (hre_network_new_private): an easy proof-of-work limit, no retargeting, "
      "and a genesis block mined at once. The founding authority (the first hospital's admin) "
      "is named by its public key; it is also the admin of the genesis organisation, whose "
      "name --name gives. Every authority, name and moment gives another network id.\n\n"
      "The network file is what the institutions share: each opens its own ledger directory "
      "with it (hre ... --data DIR --network FILE on the first use of DIR, or hre node run). "
      "It holds only public data. It is written atomically, and an existing FILE is kept "
      "unless --force is given.\n\n"
      "--authority takes the authority's PEM key (its passphrase is asked, or read from "
      "--passphrase-fd) or, so that the private key need not be on this machine, a public "
      "key file written by hre key export --public.\n\n"
      "Output: the network id (the genesis block hash, in the byte order every hre id uses), "
      "the same hash in display order, the authority's address and the genesis organisation's "
      "id. JSON members: network_id, genesis, file, bytes, authority, authority_key, "
      "genesis_org, name (null for the default), time.",
      network_init_opts, 0 },
    { NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0 }
};
