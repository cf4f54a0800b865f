/*
 * hre: the command-line tool of libhre. The command table, the dispatcher,
 * --help, and the man pages (hre(1), hre-GROUP(1)), made from the same
 * tables so that they cannot drift apart. See cli.h.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_cmd *const groups[] = {
    cli_cmds_network, cli_cmds_key, cli_cmds_register, cli_cmds_record,
    cli_cmds_consent, cli_cmds_vault, cli_cmds_node, cli_cmds_chain, cli_cmds_audit,
};
#define N_GROUPS (sizeof groups / sizeof groups[0])

const cli_opt cli_common_opts[] = {
    { "--json", NULL, "print the result as JSON (for scripts)", 0 },
    { "--quiet", NULL, "no progress output", 0 },
    { "--help", NULL, "show this help and exit", 0 },
    { NULL, NULL, NULL, 0 }
};

const cli_opt cli_ledger_opts[] = {
    { "--data", "DIR", "work on the ledger kept in directory DIR (default $HRE_DATA)", 0 },
    { "--node", "DIR", "ask the node running on data directory DIR (over DIR/control.sock)", 0 },
    { "--network", "FILE", "the network file, when DIR holds no ledger yet", 0 },
    { "--nosync", NULL, "skip fsync (scratch data only: not crash-safe)", 0 },
    { NULL, NULL, NULL, 0 }
};

const cli_cmd *cli_find(int argc, char **argv, int *used)
{
    const cli_cmd *one = NULL;
    for (size_t g = 0; g < N_GROUPS; g++) {
        for (const cli_cmd *c = groups[g]; c->name; c++) {
            const char *sp = strchr(c->name, ' ');
            if (sp) {
                size_t n = (size_t)(sp - c->name);
                if (argc >= 2 && strlen(argv[0]) == n && !strncmp(argv[0], c->name, n)
                    && !strcmp(argv[1], sp + 1)) {
                    *used = 2;
                    return c;
                }
            } else if (argc >= 1 && !strcmp(argv[0], c->name)) {
                one = c;
            }
        }
    }
    if (one)
        *used = 1;
    return one;
}

/* Is `word` the first word of some command ("record", "chain")? */
static int is_group(const char *word)
{
    size_t n = strlen(word);
    for (size_t g = 0; g < N_GROUPS; g++)
        for (const cli_cmd *c = groups[g]; c->name; c++)
            if (!strncmp(c->name, word, n) && (c->name[n] == ' ' || c->name[n] == '\0'))
                return 1;
    return 0;
}

static void print_opts(FILE *f, const cli_opt *o)
{
    for (; o && o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-24s %s%s%s\n", left, o->help,
                (o->flags & CLI_OPT_REQUIRED) ? " (required)" : "",
                (o->flags & CLI_OPT_REPEAT) ? " (repeatable)" : "");
    }
}

static void print_synopsis(FILE *f, const cli_cmd *c)
{
    fprintf(f, "usage: hre %s", c->name);
    for (const cli_opt *o = c->opts; o && o->name; o++) {
        if (!(o->flags & CLI_OPT_REQUIRED))
            continue;
        fprintf(f, " %s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    }
    fprintf(f, " [OPTIONS]%s%s\n", c->args && *c->args ? " " : "", c->args ? c->args : "");
}

static void print_cmd_help(FILE *f, const cli_cmd *c)
{
    print_synopsis(f, c);
    fprintf(f, "\n%s\n", c->summary);
    if (c->description && *c->description)
        fprintf(f, "\n%s\n", c->description);
    fprintf(f, "\noptions:\n");
    print_opts(f, c->opts);
    if (c->flags & CLI_LEDGER)
        print_opts(f, cli_ledger_opts);
    print_opts(f, cli_common_opts);
}

static void print_usage(FILE *f)
{
    fprintf(f, "usage: hre COMMAND [OPTIONS] [ARGS]\n"
               "       hre COMMAND --help\n"
               "       hre --version\n\n"
               "The command-line tool of libhre %s, the Healthcare Records Exchange.\n\n"
               "commands:\n", hre_version_string());
    for (size_t g = 0; g < N_GROUPS; g++)
        for (const cli_cmd *c = groups[g]; c->name; c++)
            fprintf(f, "  %-22s %s\n", c->name, c->summary);
    fprintf(f, "\nexit status: 0 ok, 1 refused or verification failed, 2 usage, 3 not found,\n"
               "4 storage or I/O, 5 malformed input, 6 wrong passphrase or key, 7 no node\n"
               "answers, 8 internal error. Errors go to stderr with the library's detail.\n"
               "See hre(1) and hre-COMMAND(1).\n");
}

/* ---- man pages --------------------------------------------------------- */

/* Write s as roff text: escape backslashes and leading dots / quotes. */
static void roff_text(FILE *f, const char *s)
{
    int bol = 1;
    for (; *s; s++) {
        if (bol && (*s == '.' || *s == '\''))
            fputs("\\&", f);
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
        bol = (*s == '\n');
    }
}

static void roff_paragraphs(FILE *f, const char *s)
{
    while (s && *s) {
        const char *end = strstr(s, "\n\n");
        size_t n = end ? (size_t)(end - s) : strlen(s);
        char *p = malloc(n + 1);
        if (!p)
            return;
        memcpy(p, s, n);
        p[n] = '\0';
        fputs(".PP\n", f);
        roff_text(f, p);
        fputc('\n', f);
        free(p);
        s = end ? end + 2 : NULL;
    }
}

static void roff_opts(FILE *f, const cli_opt *o)
{
    for (; o && o->name; o++) {
        fputs(".TP\n\\fB", f);
        roff_text(f, o->name);
        fputs("\\fR", f);
        if (o->arg) {
            fputs(" \\fI", f);
            roff_text(f, o->arg);
            fputs("\\fR", f);
        }
        fputc('\n', f);
        roff_text(f, o->help);
        if (o->flags & CLI_OPT_REQUIRED)
            fputs(" (required)", f);
        if (o->flags & CLI_OPT_REPEAT)
            fputs(" (repeatable)", f);
        fputc('\n', f);
    }
}

static const char *group_of(const cli_cmd *c, char *buf, size_t cap)
{
    const char *sp = strchr(c->name, ' ');
    size_t n = sp ? (size_t)(sp - c->name) : strlen(c->name);
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, c->name, n);
    buf[n] = '\0';
    return buf;
}

static void roff_header(FILE *f, const char *title, const char *name_line)
{
    fprintf(f, ".\\\" Generated by `hre help --man` from the tool's command table.\n"
               ".TH %s 1 \"\" \"libhre %s\" \"libhre manual\"\n.SH NAME\n", title,
            hre_version_string());
    roff_text(f, name_line);
    fputc('\n', f);
}

int cli_print_man(FILE *f, const char *group)
{
    char g[32];
    if (!group) {
        roff_header(f, "HRE", "hre \\- the command-line tool of libhre");
        fputs(".SH SYNOPSIS\n\\fBhre\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]\n"
              ".SH DESCRIPTION\n", f);
        roff_paragraphs(f, "hre builds, signs and submits the transactions of a Healthcare Records "
                           "Exchange network, runs a node, stores and fetches encrypted documents, "
                           "and inspects and verifies the chain. It works on a local ledger "
                           "directory (--data DIR) or asks a running node (--node DIR) over "
                           "the control socket in the node's data directory.\n\n"
                           "Keys are PKCS#8 PEM files. A passphrase is read from a prompt on the "
                           "terminal (with echo off) or from a file descriptor "
                           "(--passphrase-fd N), never from the command line.");
        fputs(".SH COMMANDS\n", f);
        for (size_t i = 0; i < N_GROUPS; i++)
            for (const cli_cmd *c = groups[i]; c->name; c++) {
                fputs(".TP\n\\fBhre ", f);
                roff_text(f, c->name);
                fputs("\\fR\n", f);
                roff_text(f, c->summary);
                fprintf(f, " See \\fBhre\\-%s\\fR(1).\n", group_of(c, g, sizeof g));
            }
        fputs(".SH COMMON OPTIONS\n", f);
        roff_opts(f, cli_common_opts);
        fputs(".SH LEDGER OPTIONS\n", f);
        roff_opts(f, cli_ledger_opts);
        fputs(".SH ENVIRONMENT\n.TP\n\\fBHRE_DATA\\fR\nthe ledger directory when --data and "
              "\\-\\-node are not given.\n", f);
        fputs(".SH EXIT STATUS\n", f);
        static const char *const codes[] = {
            "0", "success",
            "1", "refused: the contract or a check said no, or a verification found damage",
            "2", "bad usage: unknown command or option, missing argument",
            "3", "not found: no such record, account, block, transaction or file",
            "4", "storage or I/O error, damaged data, or a directory locked by a running node",
            "5", "malformed input",
            "6", "wrong passphrase or key",
            "7", "no node answers on the control socket",
            "8", "internal error",
        };
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i += 2)
            fprintf(f, ".TP\n\\fB%s\\fR\n%s\n", codes[i], codes[i + 1]);
        fputs(".SH SEE ALSO\n\\fBlibhre\\fR(3)", f);
        char last[32] = "";
        for (size_t i = 0; i < N_GROUPS; i++)
            for (const cli_cmd *c = groups[i]; c->name; c++) {
                group_of(c, g, sizeof g);
                if (strcmp(g, last)) {
                    fprintf(f, ",\n\\fBhre\\-%s\\fR(1)", g);
                    snprintf(last, sizeof last, "%s", g);   /* the group, not the command */
                }
            }
        fputs("\n", f);
        return 0;
    }
    int found = 0;
    for (size_t i = 0; i < N_GROUPS; i++)
        for (const cli_cmd *c = groups[i]; c->name; c++) {
            if (strcmp(group_of(c, g, sizeof g), group))
                continue;
            if (!found) {
                char title[48], line[96];
                snprintf(title, sizeof title, "HRE-%s", group);
                for (char *p = title; *p; p++)
                    if (*p >= 'a' && *p <= 'z')
                        *p = (char)(*p - 'a' + 'A');
                snprintf(line, sizeof line, "hre-%s \\- the hre %s command%s", group, group,
                         c[1].name ? "s" : "");
                roff_header(f, title, line);
                fputs(".SH SYNOPSIS\n", f);
            }
            found++;
            fputs(".nf\n\\fBhre ", f);
            roff_text(f, c->name);
            fputs("\\fR", f);
            for (const cli_opt *o = c->opts; o && o->name; o++)
                if (o->flags & CLI_OPT_REQUIRED) {
                    fputs(" \\fB", f);
                    roff_text(f, o->name);
                    fputs("\\fR", f);
                    if (o->arg) {
                        fputs(" \\fI", f);
                        roff_text(f, o->arg);
                        fputs("\\fR", f);
                    }
                }
            fputs(" [\\fIOPTIONS\\fR]", f);
            if (c->args && *c->args) {
                fputs(" \\fI", f);
                roff_text(f, c->args);
                fputs("\\fR", f);
            }
            fputs("\n.fi\n", f);
        }
    if (!found)
        return -1;
    fputs(".SH DESCRIPTION\n", f);
    for (size_t i = 0; i < N_GROUPS; i++)
        for (const cli_cmd *c = groups[i]; c->name; c++) {
            if (strcmp(group_of(c, g, sizeof g), group))
                continue;
            fputs(".SS \"hre ", f);
            roff_text(f, c->name);
            fputs("\"\n", f);
            roff_paragraphs(f, c->summary);
            roff_paragraphs(f, c->description);
            if (c->opts && c->opts->name) {
                fputs(".PP\nOptions:\n", f);
                roff_opts(f, c->opts);
            }
            if (c->flags & CLI_LEDGER)
                fputs(".PP\nIt also takes the ledger options of \\fBhre\\fR(1): \\-\\-data, "
                      "\\-\\-node, \\-\\-network, \\-\\-nosync.\n", f);
        }
    fputs(".SH EXIT STATUS\nAs \\fBhre\\fR(1).\n.SH SEE ALSO\n\\fBhre\\fR(1), \\fBlibhre\\fR(3)\n", f);
    return 0;
}

/* `hre help [COMMAND...]`, `hre help --man [GROUP]` */
static int cmd_help(int argc, char **argv)
{
    if (argc >= 1 && !strcmp(argv[0], "--man")) {
        if (argc > 2) {
            fprintf(stderr, "usage: hre help --man [GROUP]\n");
            return CLI_EXIT_USAGE;
        }
        if (cli_print_man(stdout, argc == 2 ? argv[1] : NULL) != 0) {
            fprintf(stderr, "hre: no command group '%s'\n", argv[1]);
            return CLI_EXIT_USAGE;
        }
        return CLI_EXIT_OK;
    }
    if (argc >= 1 && !strcmp(argv[0], "--groups")) {
        char g[32];
        char last[32] = "";
        for (size_t i = 0; i < N_GROUPS; i++)
            for (const cli_cmd *c = groups[i]; c->name; c++) {
                group_of(c, g, sizeof g);
                if (strcmp(g, last)) {
                    printf("%s\n", g);
                    snprintf(last, sizeof last, "%s", g);   /* the group, not the command */
                }
            }
        return CLI_EXIT_OK;
    }
    if (argc >= 1 && !strcmp(argv[0], "--commands")) {
        for (size_t i = 0; i < N_GROUPS; i++)
            for (const cli_cmd *c = groups[i]; c->name; c++)
                printf("%s\n", c->name);
        return CLI_EXIT_OK;
    }
    if (argc == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    int used = 0;
    const cli_cmd *c = cli_find(argc, argv, &used);
    if (!c || used != argc) {
        fprintf(stderr, "hre: no command '%s'\n", argv[0]);
        return CLI_EXIT_USAGE;
    }
    print_cmd_help(stdout, c);
    return CLI_EXIT_OK;
}

static void list_group(FILE *f, const char *word)
{
    fprintf(f, "hre %s: a subcommand is needed:\n", word);
    size_t n = strlen(word);
    for (size_t g = 0; g < N_GROUPS; g++)
        for (const cli_cmd *c = groups[g]; c->name; c++)
            if (!strncmp(c->name, word, n) && c->name[n] == ' ')
                fprintf(f, "  hre %-20s %s\n", c->name, c->summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return cmd_help(0, NULL);
    if (!strcmp(argv[1], "help"))
        return cmd_help(argc - 2, argv + 2);
    if (!strcmp(argv[1], "--version")) {
        printf("hre %s\n", hre_version_string());
        return CLI_EXIT_OK;
    }
    int used = 0;
    const cli_cmd *cmd = cli_find(argc - 1, argv + 1, &used);
    if (!cmd) {
        if (is_group(argv[1])) {
            list_group(stderr, argv[1]);
        } else {
            fprintf(stderr, "hre: '%s' is not a command (hre --help lists them)\n", argv[1]);
        }
        return CLI_EXIT_USAGE;
    }
    int cargc = argc - 1 - used;
    char **cargv = argv + 1 + used;
    for (int i = 0; i < cargc; i++)
        if (!strcmp(cargv[i], "--help")) {
            print_cmd_help(stdout, cmd);
            return CLI_EXIT_OK;
        }
    cli c;
    cli_init(&c);
    cli_args a;
    int rc = cli_parse(&c, cmd, cargc, cargv, &a);
    if (rc != CLI_EXIT_OK) {
        fprintf(stderr, "(hre %s --help shows the usage)\n", cmd->name);
        return rc;
    }
    c.args = &a;
    if ((cmd->flags & CLI_NODE_RUN) && c.node_dir) {
        /* the whole command runs inside the node: argv goes over the socket */
        rc = cli_control_run(&c, argc - 1, argv + 1);
    } else {
        rc = cmd->run(&c, &a);
    }
    cli_close(&c);
    if (fflush(stdout) != 0 && rc == CLI_EXIT_OK)
        rc = CLI_EXIT_IO;
    return rc;
}
