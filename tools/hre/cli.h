/*
 * The `hre` command-line tool: what its source files share.
 *
 * Layout (tools/hre/):
 *   main.c      the command table, the dispatcher, --help, man pages (roff
 *               made from the same table), exit codes
 *   args.c      the option parser (driven by each command's option table)
 *   util.c      errors and exit codes, hex, JSON output, keys and
 *               passphrases, opening a ledger directory, submitting
 *   control.c   the control connection to a running `hre node run`
 *   control_codec.c  its wire format (control_codec.h): pure encoders and
 *               decoders, fuzzed by tests/fuzz/fuzz_control_frame.c
 *   cmd_*.c     the commands, one file per group
 *
 * A command is a function `int cmd(cli *c, const cli_args *a)` that writes
 * its result to c->out (a table by default, JSON with --json) and its
 * errors to c->err, and returns an exit code (CLI_EXIT_*). The same function
 * runs in the tool's process (a local ledger directory, --data DIR) and,
 * for the commands marked CLI_NODE_RUN, inside a running node, asked over
 * its control socket (--node DIR): then c->ledger is the node's ledger and
 * c->out the control connection. Secrets (keys, passphrases) stay in the
 * tool's process: a command that signs builds and signs the transaction
 * there and hands only the encoded transaction to cli_submit.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#ifndef HRE_TOOLS_CLI_H
#define HRE_TOOLS_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <hre/hre.h>

/* ---- exit codes (hre(1) EXIT STATUS; scripts rely on them) ------------ */
enum {
    CLI_EXIT_OK = 0,        /* success */
    CLI_EXIT_REFUSED = 1,   /* refused: the contract or a check said no (EAUTH, ESTATE,
                               EREVOKED, EEXPIRED, EERASED, EEXISTS, EVERIFY), or a
                               verification found damage */
    CLI_EXIT_USAGE = 2,     /* bad usage: unknown command or option, missing argument */
    CLI_EXIT_NOTFOUND = 3,  /* no such record, account, block, transaction, file */
    CLI_EXIT_IO = 4,        /* storage or I/O error (EIO, ENOSPC, ECORRUPT, a locked
                               directory) */
    CLI_EXIT_INPUT = 5,     /* malformed input (EDECODE, ELIMIT, EINVAL on data) */
    CLI_EXIT_DECRYPT = 6,   /* wrong passphrase or key (EDECRYPT) */
    CLI_EXIT_NODE = 7,      /* no running node answers on the control socket */
    CLI_EXIT_INTERNAL = 8   /* anything else (ENOMEM, ECRYPTO, EFATAL, ...) */
};

/* ---- the option tables ------------------------------------------------- */
#define CLI_MAX_ARGS 64

/* One option of a command. The table drives the parser, --help and the
 * man pages. */
typedef struct cli_opt {
    const char *name;     /* "--key" */
    const char *arg;      /* "PEM" (takes a value), or NULL (a flag) */
    const char *help;     /* one line */
    unsigned int flags;   /* CLI_OPT_* */
} cli_opt;

#define CLI_OPT_REQUIRED 0x1u   /* must be given */
#define CLI_OPT_REPEAT   0x2u   /* may be given more than once */

/* Command flags */
#define CLI_LEDGER   0x1u   /* works on a ledger: takes --data DIR or --node DIR */
#define CLI_NODE_RUN 0x2u   /* with --node, runs inside the node (read-only command) */

typedef struct cli cli;
typedef struct cli_args cli_args;

typedef int (*cli_cmd_fn)(cli *c, const cli_args *a);

typedef struct cli_cmd {
    const char *name;        /* "record new" (one or two words) */
    cli_cmd_fn run;
    const char *args;        /* positional arguments for the synopsis, e.g. "PATIENT"; "" none */
    size_t min_pos, max_pos; /* how many positional arguments it takes */
    const char *summary;     /* one line */
    const char *description; /* paragraphs separated by "\n\n" */
    const cli_opt *opts;     /* terminated by {NULL} */
    unsigned int flags;      /* CLI_LEDGER, CLI_NODE_RUN */
} cli_cmd;

/* The parsed arguments of one invocation. */
struct cli_args {
    const cli_cmd *cmd;
    const char *pos[CLI_MAX_ARGS];
    size_t n_pos;
    struct {
        const cli_opt *opt;
        const char *value;   /* NULL for a flag */
    } given[CLI_MAX_ARGS];
    size_t n_given;
};

/* The value of option `name` (the last one given), or NULL. */
const char *cli_get(const cli_args *a, const char *name);
/* 1 if flag (or option) `name` was given. */
int cli_has(const cli_args *a, const char *name);
/* The values of a repeatable option, in order: fills out[0..cap), returns the count. */
size_t cli_get_all(const cli_args *a, const char *name, const char **out, size_t cap);
/* Parse argv against cmd's table (plus the common options). Returns
 * CLI_EXIT_OK, or CLI_EXIT_USAGE after printing why to c->err. */
int cli_parse(cli *c, const cli_cmd *cmd, int argc, char **argv, cli_args *out);

/* The common options every command takes (main.c adds them to --help). */
extern const cli_opt cli_common_opts[];
extern const cli_opt cli_ledger_opts[];

/* The command tables, one per cmd_*.c file, each ended by an entry with
 * name NULL; main.c walks them in this order (for --help and man pages). */
extern const cli_cmd cli_cmds_network[];   /* cmd_network.c: network init */
extern const cli_cmd cli_cmds_key[];       /* cmd_key.c: key new|export|import|show */
extern const cli_cmd cli_cmds_register[];  /* cmd_register.c: org|admin|doctor|patient|node register */
extern const cli_cmd cli_cmds_record[];    /* cmd_record.c: record new|sign|show, erase */
extern const cli_cmd cli_cmds_consent[];   /* cmd_consent.c: grant, revoke, access */
extern const cli_cmd cli_cmds_vault[];     /* cmd_vault.c: vault put|get */
extern const cli_cmd cli_cmds_node[];      /* cmd_node.c: node run */
extern const cli_cmd cli_cmds_chain[];     /* cmd_chain.c: chain info|verify|block|tx|proof|verify-proof */
extern const cli_cmd cli_cmds_audit[];     /* cmd_audit.c: audit */
/* Find a command by its words (argv[0], argv[1]); *used: how many words. */
const cli_cmd *cli_find(int argc, char **argv, int *used);

/* ---- the context of one invocation ------------------------------------ */

/* How cli_submit reports a submitted transaction. */
typedef struct cli_submitted {
    uint8_t txid[32];
    uint64_t height;         /* the block it is in (local mode: mined at once) */
    int in_block;            /* 1: in a block at `height`; 0: in the node's mempool */
    int status;              /* hre_ledger_status */
} cli_submitted;

struct cli {
    FILE *out;               /* results: stdout, or the control connection */
    FILE *err;               /* errors: stderr, or the control connection's error stream */
    int json;                /* --json */
    int quiet;               /* --quiet: no progress output */
    const char *data_dir;    /* --data DIR: a local ledger directory */
    const char *node_dir;    /* --node DIR: the data directory of a running node */
    const char *network_file;/* --network FILE (only for opening a new ledger directory) */
    int nosync;              /* --nosync (HRE_STORAGE_POSIX_NOSYNC: scratch data only) */
    /* opened by cli_ledger(), closed by cli_close() (unless borrowed) */
    hre_storage *storage;
    hre_ledger *ledger;
    int ledger_borrowed;     /* 1: the node's ledger (inside `hre node run`) */
    /* inside `hre node run`: how a control request submits (the node relays it) */
    int (*node_submit)(void *node_ctx, const uint8_t *tx, size_t len, cli_submitted *res);
    void *node_ctx;
    const cli_args *args;    /* this invocation's arguments */
};

/* Initialise c for the tool's own process (stdout, stderr). */
void cli_init(cli *c);
/* Close what cli_ledger opened. */
void cli_close(cli *c);

/* ---- errors ------------------------------------------------------------ */
/* The exit code for a library return code. */
int cli_exit_code(int rc);
/* Print "hre: WHAT: <strerror> (<detail>)" to c->err; return cli_exit_code(rc). */
int cli_fail(cli *c, int rc, const char *what);
/* Print "hre: <message>" to c->err; return `code`. */
int cli_error(cli *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- hex and ids ------------------------------------------------------- */
void cli_hex(char *out, const uint8_t *in, size_t len);   /* out: 2*len + 1 */
/* A block hash as every command prints it: display order (byte-reversed,
 * as Bitcoin tools print them). Ids and txids use cli_hex. */
void cli_block_hash_hex(char out[65], const uint8_t hash[32]);
/* Parse exactly `len` bytes of hex (either case). Returns HRE_OK or HRE_EDECODE. */
int cli_unhex(uint8_t *out, size_t len, const char *hex);
/* Parse a 32-byte id argument (64 hex digits). On failure prints
 * "hre: WHAT: expected 64 hex digits" and returns CLI_EXIT_INPUT. */
int cli_id_arg(cli *c, uint8_t out[32], const char *hex, const char *what);

/* ---- output ------------------------------------------------------------ */
/* JSON: a string value with escapes (quotes included). */
void cli_json_str(FILE *f, const char *s);
/* JSON: a hex string value. */
void cli_json_hex(FILE *f, const uint8_t *in, size_t len);
/* An ISO 8601 UTC time ("2026-12-01T15:44:59Z") from Unix seconds. */
void cli_time_iso(char out[32], uint64_t unix_s);

/* ---- files, keys and passphrases -------------------------------------- */
/* Read a whole file (at most cap bytes). *buf is malloc'd (NUL-terminated). */
int cli_read_file(cli *c, const char *path, uint8_t **buf, size_t *len, size_t cap);
/* Write a file atomically (PATH.tmp + rename), with mode. */
int cli_write_file(cli *c, const char *path, const void *buf, size_t len, unsigned int mode);
/* Write a NEW file atomically (a fresh PATH.tmp, then link: never replaces
 * an existing PATH, which is refused with exit 1), with mode. */
int cli_write_file_new(cli *c, const char *path, const void *buf, size_t len, unsigned int mode);
/* The passphrase: --passphrase-fd N if given, else a prompt on /dev/tty
 * (echo off) when `prompt` is non-NULL and a terminal is there, else none
 * (*len = 0: a clear PEM). `confirm`: ask twice (new keys). Never argv.
 * Returns CLI_EXIT_OK or an exit code after printing why. */
int cli_passphrase(cli *c, const cli_args *a, const char *prompt, int confirm,
                   char *buf, size_t cap, size_t *len);
/* Where cli_passphrase_opt found a passphrase. */
#define CLI_PASS_NONE 0   /* no fd option and no terminal (or no prompt): none read */
#define CLI_PASS_FD   1   /* from the fd option */
#define CLI_PASS_TTY  2   /* from a /dev/tty prompt */
/* cli_passphrase with the fd option named `fd_opt` ("--new-passphrase-fd",
 * ...) and without the --no-passphrase shortcut; *from (may be NULL):
 * CLI_PASS_*. Several options may name the same fd: each reads one line. */
int cli_passphrase_opt(cli *c, const cli_args *a, const char *fd_opt, const char *prompt,
                       int confirm, char *buf, size_t cap, size_t *len, int *from);
/* Load a private key from a PEM file. Only an encrypted key asks for its
 * passphrase (--passphrase-fd of a, else a terminal prompt; neither: exit
 * 2); --no-passphrase does not apply to it. */
int cli_load_key(cli *c, const cli_args *a, const char *path, hre_key **out);
/* A 34-byte wire public key from 68 hex digits, checked to be a point
 * (bad hex or point: exit 5 after saying why). */
int cli_pubkey_arg(cli *c, uint8_t out[34], const char *hex, const char *what);
/* The wire public key of a key file: a PEM private key (its passphrase
 * asked as cli_load_key) or a public key file (68 hex digits, as `hre key
 * export --public` writes). *is_private (may be NULL): 1 for a PEM. */
int cli_load_wire(cli *c, const cli_args *a, const char *path, uint8_t wire[34], int *is_private);
/* The key's 34-byte wire public key and 32-byte address. */
int cli_key_ids(cli *c, const hre_key *key, uint8_t wire[34], uint8_t addr[32]);

/* ---- the ledger -------------------------------------------------------- */
/* The ledger to work on: the node's (inside a node), or the --data
 * directory opened (once) on the POSIX storage. Prints why on failure. */
int cli_ledger(cli *c, hre_ledger **out);
/* The contract state at the tip (borrowed until the next ledger call). */
int cli_state(cli *c, const hre_contract **out);
/* The network id of the ledger (local or node). */
int cli_network_id(cli *c, uint8_t out[32]);
/* The next nonce of the sender (address or 34-byte wire key). */
int cli_next_nonce(cli *c, const uint8_t *id, size_t id_len, uint64_t *nonce);
/* Submit a signed transaction: to the local ledger (then mined into a block
 * at once), or to the node (--node: relayed; in its mempool until a block
 * has it). Prints nothing. Returns CLI_EXIT_OK or an exit code after
 * printing the library's refusal. */
int cli_submit(cli *c, const hre_tx *tx, cli_submitted *res);
/* The signer of a transaction: the --key PEM of `a`, loaded (passphrase as
 * cli_load_key), its wire key and address (looked up in the state when
 * cli_has_state, since a rotated-in key keeps its account's first
 * address; else sha256 of the key), the network id, its next nonce and
 * the time to stamp (cli_now_s). */
typedef struct cli_signer {
    hre_key *key;
    uint8_t wire[34];
    uint8_t addr[32];
    uint8_t network_id[32];
    uint64_t nonce;
    uint64_t now;
} cli_signer;
int cli_signer_open(cli *c, const cli_args *a, cli_signer *s);
void cli_signer_close(cli_signer *s);
/* Submit what a hre_contract_build_* call made: build_rc is its return
 * code (a failure is reported as building `what`); tx is freed. */
int cli_submit_built(cli *c, int build_rc, hre_tx *tx, const char *what, cli_submitted *res);
/* Print the standard result of a submitted transaction (a line, or JSON
 * {"txid":..,"state":"block"|"mempool","height":..} plus `extra_json`
 * members if not NULL: ",\"record\":\"..\"" style). */
void cli_print_submitted(cli *c, const cli_submitted *res, const char *what,
                         const char *extra_json);
/* 1 if the contract state can be read in this process (a local --data
 * ledger, or inside the node), 0 when only the node has it (--node). */
int cli_has_state(const cli *c);
/* A decimal number in 0..max (else exit 5 after saying why). */
int cli_u64_arg(cli *c, uint64_t *out, const char *s, uint64_t max, const char *what);
/* A time: Unix seconds, YYYY-MM-DD (midnight UTC) or +N{s,m,h,d,w} from now. */
int cli_time_arg(cli *c, uint64_t *out, const char *s, const char *what);
/* Unix time in seconds (the host clock). */
uint64_t cli_now_s(void);
uint64_t cli_now_ms(void);

/* ---- the control connection (control.c) -------------------------------- */
/* Run the current command inside the node of c->node_dir (CLI_NODE_RUN
 * commands): sends argv, copies the node's output to c->out / c->err, and
 * returns the command's exit code there (CLI_EXIT_NODE when none answers). */
int cli_control_run(cli *c, int argc, char **argv);
/* Ask the node for a nonce / a network id, or submit to it. */
int cli_control_nonce(cli *c, const uint8_t *id, size_t id_len, uint64_t *nonce);
int cli_control_network_id(cli *c, uint8_t out[32]);
int cli_control_submit(cli *c, const uint8_t *tx, size_t len, cli_submitted *res);
/* Ask the node for a record's document from its vault (node run --vault):
 * the envelope goes to data() in pieces, the wrap for the reader whose
 * published encryption key is enc_key (wire form) comes back in wrap (its
 * encoding). The reader's private key stays in the tool. */
int cli_control_vault_get(cli *c, const uint8_t record_id[32], const uint8_t enc_key[34],
                          uint8_t wrap[HRE_VAULT_WRAP_LEN],
                          int (*data)(void *ud, const uint8_t *p, size_t n), void *ud);
/* The node's live-member peers a document may be fetched from (the record's
 * issuer and lab first), each with its channel binding for the request. */
typedef struct cli_xch_peer {
    uint64_t conn;
    uint8_t binding[32];
    uint8_t org_id[32];
} cli_xch_peer;
int cli_control_xch_peers(cli *c, const uint8_t record_id[32], cli_xch_peer *out, size_t cap,
                          size_t *n);
/* Have the node send a request this process signed (hre_vault_xch_request
 * encoding) to conn, and hand back the holder's raw answer (envelope to
 * data(), the wrap). */
int cli_control_xch_fetch(cli *c, uint64_t conn, const uint8_t *request, size_t request_len,
                          uint8_t wrap[HRE_VAULT_WRAP_LEN],
                          int (*data)(void *ud, const uint8_t *p, size_t n), void *ud);
/* vault put --node: upload the document at path (streamed in DATA frames)
 * for the node to seal into its own vault with its --vault-key; readers are
 * the --reader arguments as typed (the node resolves them on its chain).
 * Out: doc_hash, locator, doc_len, envelope_len of the stored document. */
typedef struct cli_put_result {
    uint8_t doc_hash[32];
    uint8_t locator[32];
    uint64_t doc_len, envelope_len;
} cli_put_result;
int cli_control_vault_put(cli *c, const char *path, const char *media_type,
                          const char *const *readers, size_t n_readers, cli_put_result *res);
/* Inside `hre node run` (a RUN request): the node, else NULL. */
hre_node *cli_control_node(const cli *c);

/* The server side, used by `hre node run` (cmd_node.c) from tcp_host's
 * extra-fd hook: open makes DATA_DIR/control.sock (0600; a stale socket is
 * replaced), fds / ready are the hook's two halves, close removes the
 * socket. */
typedef struct cli_ctl_server cli_ctl_server;
typedef struct cli_ctl_host {
    hre_ledger *ledger;
    hre_node *node;
    hre_vault *vault;          /* NULL: VAULT_GET says not found */
    hre_vault_xch *xch;        /* the document exchange (XCH_*), or NULL */
    hre_log_fn log;            /* may be NULL */
    void *log_ud;
    /* VAULT_PUT: the node's --vault-key (NULL: refused) and --holder */
    const hre_key *vault_key;
    uint8_t holder_type;
    uint8_t holder_id[32];
} cli_ctl_host;
struct pollfd;
int cli_ctl_server_open(cli *c, cli_ctl_server **out, const char *data_dir,
                        const cli_ctl_host *host);
size_t cli_ctl_server_fds(cli_ctl_server *s, struct pollfd *fds, size_t cap, uint64_t *wake_at);
void cli_ctl_server_ready(cli_ctl_server *s, const struct pollfd *fds, size_t n);
void cli_ctl_server_close(cli_ctl_server *s);
/* c->node_submit inside a RUN request (refuses: RUN commands are read-only). */
int cli_ctl_node_submit(void *node_ctx, const uint8_t *tx, size_t len, cli_submitted *res);

/* ---- the vault (cmd_vault.c) ------------------------------------------- */
/* Find the document of record_id in v and the wrap of the reader whose
 * published encryption key (contract state of c's ledger) is enc_key.
 * Prints why on failure. */
int cli_vault_lookup(cli *c, hre_vault *v, const uint8_t record_id[32], const uint8_t enc_key[34],
                     hre_vault_wrap *wrap, uint8_t doc_hash[32], uint64_t *envelope_len);
/* The --reader arguments of vault put ("org:ID", "account:ID" or ID: an
 * organisation if st has one by that id, else an account), parsed into
 * types[i] / ids[i] (n at most CLI_MAX_ARGS). The one parser of both the
 * local and the node path. Prints why on failure. */
int cli_vault_readers(cli *c, const hre_contract *st, const char *const *args, size_t n,
                      uint8_t *types, uint8_t (*ids)[32]);
/* Name the parsed readers to store (their published encryption keys from
 * st). Prints which reader failed. */
int cli_vault_store_readers(cli *c, const hre_contract *st, hre_vault_store *store,
                            const char *const *args, const uint8_t *types,
                            const uint8_t (*ids)[32], size_t n);

/* ---- chain helpers (cmd_chain.c) ---------------------------------------- */
/* The name of a contract transaction kind ("grant", "log-access", ...; "unknown"). */
const char *cli_kind_name(unsigned int kind);

/* ---- man pages (main.c) ------------------------------------------------ */
int cli_print_man(FILE *f, const char *group);

#endif
