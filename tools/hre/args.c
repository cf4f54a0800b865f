/*
 * hre: the option parser, driven by a command's option table (cli.h).
 * "--name VALUE" and "--name=VALUE"; "--" ends the options; everything
 * else is a positional argument. The common options (--json, --quiet) and,
 * for ledger commands, the ledger options (--data, --node, --network,
 * --nosync) are taken here too.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_opt *lookup(const cli_opt *tab, const char *name, size_t n)
{
    for (; tab && tab->name; tab++)
        if (strlen(tab->name) == n && !strncmp(tab->name, name, n))
            return tab;
    return NULL;
}

int cli_parse(cli *c, const cli_cmd *cmd, int argc, char **argv, cli_args *out)
{
    memset(out, 0, sizeof *out);
    out->cmd = cmd;
    int opts_done = 0;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (opts_done || s[0] != '-' || s[1] != '-' || s[2] == '\0') {
            if (!opts_done && !strcmp(s, "--")) {
                opts_done = 1;
                continue;
            }
            if (!opts_done && s[0] == '-' && s[1] != '\0')
                return cli_error(c, CLI_EXIT_USAGE, "%s: unknown option '%s'", cmd->name, s);
            if (out->n_pos >= CLI_MAX_ARGS)
                return cli_error(c, CLI_EXIT_USAGE, "%s: too many arguments", cmd->name);
            out->pos[out->n_pos++] = s;
            continue;
        }
        const char *eq = strchr(s, '=');
        size_t n = eq ? (size_t)(eq - s) : strlen(s);
        const cli_opt *o = lookup(cmd->opts, s, n);
        if (!o && (cmd->flags & CLI_LEDGER))
            o = lookup(cli_ledger_opts, s, n);
        if (!o)
            o = lookup(cli_common_opts, s, n);
        if (!o)
            return cli_error(c, CLI_EXIT_USAGE, "%s: unknown option '%.*s'", cmd->name, (int)n, s);
        const char *value = NULL;
        if (o->arg) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return cli_error(c, CLI_EXIT_USAGE, "%s: option %s needs a value (%s)",
                                 cmd->name, o->name, o->arg);
        } else if (eq) {
            return cli_error(c, CLI_EXIT_USAGE, "%s: option %s takes no value", cmd->name, o->name);
        }
        if (!(o->flags & CLI_OPT_REPEAT))
            for (size_t k = 0; k < out->n_given; k++)
                if (out->given[k].opt == o)
                    return cli_error(c, CLI_EXIT_USAGE, "%s: option %s given twice",
                                     cmd->name, o->name);
        if (out->n_given >= CLI_MAX_ARGS)
            return cli_error(c, CLI_EXIT_USAGE, "%s: too many options", cmd->name);
        out->given[out->n_given].opt = o;
        out->given[out->n_given].value = value;
        out->n_given++;
    }
    for (const cli_opt *o = cmd->opts; o && o->name; o++)
        if ((o->flags & CLI_OPT_REQUIRED) && !cli_has(out, o->name))
            return cli_error(c, CLI_EXIT_USAGE, "%s: option %s%s%s is required", cmd->name,
                             o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    if (out->n_pos < cmd->min_pos || out->n_pos > cmd->max_pos) {
        if (cmd->max_pos == 0)
            return cli_error(c, CLI_EXIT_USAGE, "%s takes no arguments", cmd->name);
        return cli_error(c, CLI_EXIT_USAGE, "%s: expected %s", cmd->name,
                         cmd->args && *cmd->args ? cmd->args : "no arguments");
    }
    c->json = cli_has(out, "--json");
    c->quiet = cli_has(out, "--quiet");
    if (cmd->flags & CLI_LEDGER) {
        c->data_dir = cli_get(out, "--data");
        c->node_dir = cli_get(out, "--node");
        c->network_file = cli_get(out, "--network");
        c->nosync = cli_has(out, "--nosync");
        if (c->data_dir && c->node_dir)
            return cli_error(c, CLI_EXIT_USAGE, "%s: --data and --node exclude each other",
                             cmd->name);
        if (!c->data_dir && !c->node_dir) {
            const char *env = getenv("HRE_DATA");
            if (env && *env)
                c->data_dir = env;
            else
                return cli_error(c, CLI_EXIT_USAGE,
                                 "%s: say which ledger: --data DIR, --node DIR or $HRE_DATA",
                                 cmd->name);
        }
    }
    return CLI_EXIT_OK;
}

const char *cli_get(const cli_args *a, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < a->n_given; i++)
        if (!strcmp(a->given[i].opt->name, name))
            v = a->given[i].value;
    return v;
}

int cli_has(const cli_args *a, const char *name)
{
    for (size_t i = 0; i < a->n_given; i++)
        if (!strcmp(a->given[i].opt->name, name))
            return 1;
    return 0;
}

size_t cli_get_all(const cli_args *a, const char *name, const char **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n_given; i++)
        if (!strcmp(a->given[i].opt->name, name)) {
            if (n < cap)
                out[n] = a->given[i].value;
            n++;
        }
    return n;
}
