/*
 * hre: the vault commands (see cli.h): `vault put` seals a document into a
 * vault directory with one wrap per reader, `vault get` opens a record's
 * document with the reader's encryption key, from a local vault or through
 * a running node's vault (the node hands over the sealed envelope and the
 * reader's wrap; the private key never leaves this process).
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include <stdlib.h>
#include <string.h>

#include <hre/vault.h>

#include "cli.h"

#define DOC_CAP ((size_t)256 << 20)   /* documents this tool seals or writes, at most */

static int open_vault(cli *c, const char *dir, hre_storage **st, hre_vault **v)
{
    hre_storage_posix_options so = HRE_STORAGE_POSIX_OPTIONS_INIT;
    hre_vault_options vo = HRE_VAULT_OPTIONS_INIT;
    *st = NULL;
    *v = NULL;
    if (c->nosync)
        so.flags |= HRE_STORAGE_POSIX_NOSYNC;
    int rc = hre_storage_posix_open(st, dir, &so);
    if (rc == HRE_ESTATE) {
        cli_fail(c, rc, dir);
        return cli_error(c, CLI_EXIT_IO, "the vault %s is in use (a running node's --vault? "
                         "ask it with --node)", dir);
    }
    if (rc != HRE_OK)
        return cli_fail(c, rc, dir);
    vo.storage = *st;
    rc = hre_vault_open(v, &vo);
    if (rc != HRE_OK) {
        hre_storage_free(*st);
        *st = NULL;
        return cli_fail(c, rc, "open the vault");
    }
    return CLI_EXIT_OK;
}

/* "org:ID", "account:ID" or ID (an organisation if the chain has one by that id). */
static int reader_arg(cli *c, const hre_contract *st, const char *arg, uint8_t *type,
                      uint8_t id[32])
{
    const char *hex = arg;
    int forced = -1;
    if (!strncmp(arg, "org:", 4)) {
        forced = HRE_VAULT_READER_ORG;
        hex = arg + 4;
    } else if (!strncmp(arg, "account:", 8)) {
        forced = HRE_VAULT_READER_ACCOUNT;
        hex = arg + 8;
    }
    int code = cli_id_arg(c, id, hex, "--reader");
    if (code != CLI_EXIT_OK)
        return code;
    if (forced >= 0) {
        *type = (uint8_t)forced;
    } else {
        hre_contract_org org;
        hre_contract_org_init(&org, HRE_CONTRACT_ORG_VERSION);
        *type = hre_contract_org_get(st, &org, id) == HRE_OK ? HRE_VAULT_READER_ORG
                                                             : HRE_VAULT_READER_ACCOUNT;
    }
    return CLI_EXIT_OK;
}

int cli_vault_readers(cli *c, const hre_contract *st, const char *const *args, size_t n,
                      uint8_t *types, uint8_t (*ids)[32])
{
    if (n == 0)
        return cli_error(c, CLI_EXIT_USAGE, "vault put: name at least one --reader");
    if (n > CLI_MAX_ARGS)
        return cli_error(c, CLI_EXIT_USAGE, "vault put: too many --reader");
    for (size_t i = 0; i < n; i++) {
        int code = reader_arg(c, st, args[i], &types[i], ids[i]);
        if (code != CLI_EXIT_OK)
            return code;
    }
    return CLI_EXIT_OK;
}

int cli_vault_store_readers(cli *c, const hre_contract *st, hre_vault_store *store,
                            const char *const *args, const uint8_t *types,
                            const uint8_t (*ids)[32], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = hre_vault_store_add_reader_by_id(store, st, types[i], ids[i]);
        if (rc != HRE_OK) {
            char what[160];
            snprintf(what, sizeof what, "reader %.100s (its encryption key: hre key publish)",
                     args[i]);
            return cli_fail(c, rc, what);
        }
    }
    return CLI_EXIT_OK;
}

/* What vault put prints, locally and through --node alike. */
static void put_print(cli *c, const uint8_t doc_hash[32], const uint8_t locator[32],
                      uint64_t doc_len, uint64_t envelope_len, size_t n_readers)
{
    char hh[65], lh[65];
    cli_hex(hh, doc_hash, 32);
    cli_hex(lh, locator, 32);
    if (c->json) {
        fprintf(c->out, "{\"doc_sha256\":\"%s\",\"locator\":\"%s\",\"doc_len\":%llu,"
                "\"envelope_len\":%llu,\"readers\":%zu}\n", hh, lh,
                (unsigned long long)doc_len, (unsigned long long)envelope_len, n_readers);
    } else {
        fprintf(c->out, "doc_sha256 %s\nlocator    %s\n", hh, lh);
        if (!c->quiet)
            fprintf(c->out, "(%llu bytes sealed into %llu, %zu reader(s); next: hre record new "
                    "--doc-sha256 %s --locator %s ...)\n", (unsigned long long)doc_len,
                    (unsigned long long)envelope_len, n_readers, hh, lh);
    }
}

/* vault put --node: the node seals into its own vault with its --vault-key */
static int put_node(cli *c, const cli_args *a, const char *const *readers, size_t n_readers)
{
    static const char *const local_only[] = { "--vault", "--key", "--issuer",
                                              "--passphrase-fd" };
    for (size_t i = 0; i < sizeof local_only / sizeof local_only[0]; i++)
        if (cli_has(a, local_only[i]))
            return cli_error(c, CLI_EXIT_USAGE, "vault put --node: %s is not for --node (the "
                             "node seals into its own --vault with its --vault-key as issuer)",
                             local_only[i]);
    if (n_readers == 0)
        return cli_error(c, CLI_EXIT_USAGE, "vault put: name at least one --reader");
    if (n_readers > CLI_MAX_ARGS)
        return cli_error(c, CLI_EXIT_USAGE, "vault put: too many --reader");
    cli_put_result res;
    int code = cli_control_vault_put(c, a->pos[0], cli_get(a, "--media-type"), readers,
                                     n_readers, &res);
    if (code != CLI_EXIT_OK)
        return code;
    put_print(c, res.doc_hash, res.locator, res.doc_len, res.envelope_len, n_readers);
    return CLI_EXIT_OK;
}

static int key_wire(cli *c, const hre_key *k, uint8_t wire[34])
{
    return cli_key_ids(c, k, wire, NULL);
}

/* ---- vault put ------------------------------------------------------------ */

static int cmd_put(cli *c, const cli_args *a)
{
    const char *dir = cli_get(a, "--vault");
    const char *readers[CLI_MAX_ARGS];
    size_t n_readers = cli_get_all(a, "--reader", readers, CLI_MAX_ARGS);
    const char *issuer = cli_get(a, "--issuer");
    const char *media = cli_get(a, "--media-type");
    const hre_contract *st = NULL;
    hre_key *key = NULL;
    hre_storage *vst = NULL;
    hre_vault *v = NULL;
    hre_vault_store *store = NULL;
    uint8_t *doc = NULL;
    size_t doc_len = 0;
    uint8_t types[CLI_MAX_ARGS], ids[CLI_MAX_ARGS][32], mine[34], sender_id[32];
    int sender = -1;

    if (c->node_dir)
        return put_node(c, a, readers, n_readers);
    if (!dir || !cli_get(a, "--key"))
        return cli_error(c, CLI_EXIT_USAGE, "vault put: --vault DIR and --key PEM (with "
                         "--data), or --node DIR (the node's own vault and --vault-key)");
    if (n_readers > CLI_MAX_ARGS)
        return cli_error(c, CLI_EXIT_USAGE, "vault put: too many --reader");
    int code = cli_state(c, &st);
    if (code != CLI_EXIT_OK)
        return code;
    if ((code = cli_vault_readers(c, st, readers, n_readers, types, ids)) != CLI_EXIT_OK)
        return code;
    if ((code = cli_load_key(c, a, cli_get(a, "--key"), &key)) != CLI_EXIT_OK)
        return code;
    if ((code = key_wire(c, key, mine)) != CLI_EXIT_OK)
        goto out;
    /* the sender of the wraps: --issuer, or the reader whose published
       encryption key is --key */
    uint8_t sender_type = 0;
    if (issuer) {
        if ((code = reader_arg(c, st, issuer, &sender_type, sender_id)) != CLI_EXIT_OK)
            goto out;
        uint8_t pub[34];
        if (hre_contract_enc_key_get(st, pub, sender_type, sender_id) != HRE_OK ||
            memcmp(pub, mine, 34) != 0) {
            code = cli_error(c, CLI_EXIT_REFUSED, "--key is not the published encryption key "
                             "of --issuer %s (hre key publish)", issuer);
            goto out;
        }
        sender = 1;
    } else {
        for (size_t i = 0; i < n_readers && sender < 0; i++) {
            uint8_t pub[34];
            if (hre_contract_enc_key_get(st, pub, types[i], ids[i]) == HRE_OK &&
                !memcmp(pub, mine, 34)) {
                sender_type = types[i];
                memcpy(sender_id, ids[i], 32);
                sender = 1;
            }
        }
        if (sender < 0) {
            code = cli_error(c, CLI_EXIT_REFUSED, "--key is not the published encryption key "
                             "of any --reader: say whose it is with --issuer ID");
            goto out;
        }
    }
    if ((code = cli_read_file(c, a->pos[0], &doc, &doc_len, DOC_CAP)) != CLI_EXIT_OK)
        goto out;
    if ((code = open_vault(c, dir, &vst, &v)) != CLI_EXIT_OK)
        goto out;

    hre_vault_seal_params sp = HRE_VAULT_SEAL_PARAMS_INIT;
    hre_vault_content content = HRE_VAULT_CONTENT_INIT;
    uint8_t doc_hash[32];
    int rc = hre_random_bytes(sp.locator, 32);
    sp.doc_version = 1;
    sp.media_type = media;
    sp.sender_type = sender_type;
    memcpy(sp.sender_id, sender_id, 32);
    sp.sender_key = key;
    if (rc == HRE_OK)
        rc = hre_vault_store_new(&store, v, &sp);
    if (rc == HRE_OK)
        rc = hre_vault_store_write(store, doc, doc_len);
    if (rc != HRE_OK) {
        code = cli_fail(c, rc, "seal the document");
        goto out;
    }
    code = cli_vault_store_readers(c, st, store, readers, types, (const uint8_t (*)[32])ids,
                                   n_readers);
    if (code != CLI_EXIT_OK)
        goto out;
    rc = hre_vault_store_commit(store, doc_hash, &content);
    if (rc != HRE_OK) {
        code = cli_fail(c, rc, "store the document");
        goto out;
    }
    put_print(c, doc_hash, sp.locator, content.doc_len, content.envelope_len, n_readers);
out:
    hre_vault_store_free(store);
    hre_vault_close(v);
    hre_storage_free(vst);
    hre_key_free(key);
    if (doc) {
        hre_wipe(doc, doc_len);
        free(doc);
    }
    return code;
}

/* ---- vault get -------------------------------------------------------------- */

int cli_vault_lookup(cli *c, hre_vault *v, const uint8_t record_id[32], const uint8_t enc_key[34],
                     hre_vault_wrap *wrap, uint8_t doc_hash[32], uint64_t *envelope_len)
{
    const hre_contract *st = NULL;
    hre_contract_record rec;
    hre_vault_entry e = HRE_VAULT_ENTRY_INIT;
    char rh[65];
    cli_hex(rh, record_id, 32);
    int code = cli_state(c, &st);
    if (code != CLI_EXIT_OK)
        return code;
    hre_contract_record_init(&rec, HRE_CONTRACT_RECORD_VERSION);
    int rc = hre_contract_record_get(st, &rec, record_id);
    if (rc != HRE_OK)
        return cli_error(c, cli_exit_code(rc), "record %s: %s", rh, hre_strerror(rc));
    if (rec.erased)
        return cli_error(c, CLI_EXIT_REFUSED, "record %s was erased", rh);
    memcpy(doc_hash, rec.doc_sha256, 32);
    rc = hre_vault_entry_get(v, &e, doc_hash);
    if (rc == HRE_ENOTFOUND)
        return cli_error(c, CLI_EXIT_NOTFOUND, "this vault does not hold the document of "
                         "record %s", rh);
    if (rc != HRE_OK)
        return cli_fail(c, rc, "vault entry");
    for (uint32_t i = 0; i < e.wrap_count; i++) {
        uint8_t pub[34];
        rc = hre_vault_wrap_at(v, wrap, doc_hash, i);
        if (rc != HRE_OK)
            return cli_fail(c, rc, "vault wrap");
        if (hre_contract_enc_key_get(st, pub, wrap->reader_type, wrap->reader_id) == HRE_OK &&
            !memcmp(pub, enc_key, 34)) {
            *envelope_len = e.envelope_len;
            return CLI_EXIT_OK;
        }
    }
    memset(wrap, 0, sizeof *wrap);
    return cli_error(c, CLI_EXIT_NOTFOUND, "record %s: the document has no wrap for this key "
                     "(not a reader, or the key is not the reader's published one)", rh);
}

typedef struct membuf {
    uint8_t *p;
    size_t len, cap, limit;
} membuf;

static int mem_sink(void *ud, const uint8_t *d, size_t n)
{
    membuf *m = ud;
    if (n > m->limit - m->len)
        return HRE_ELIMIT;
    if (m->len + n > m->cap) {
        size_t nc = m->cap ? m->cap : 65536;
        while (nc < m->len + n)
            nc *= 2;
        uint8_t *q = malloc(nc);
        if (!q)
            return HRE_ENOMEM;
        if (m->len)
            memcpy(q, m->p, m->len);
        if (m->p) {
            hre_wipe(m->p, m->cap);
            free(m->p);
        }
        m->p = q;
        m->cap = nc;
    }
    memcpy(m->p + m->len, d, n);
    m->len += n;
    return HRE_OK;
}

static int env_data(void *ud, const uint8_t *d, size_t n)
{
    return mem_sink(ud, d, n) == HRE_OK ? CLI_EXIT_OK : CLI_EXIT_INPUT;
}

static void membuf_free(membuf *m)
{
    if (m->p) {
        hre_wipe(m->p, m->cap);
        free(m->p);
    }
    memset(m, 0, sizeof *m);
}

/* vault get through the node's document exchange: sign the request here
 * (the node only carries it), try the node's peers in its order. */
static int get_by_exchange(cli *c, const uint8_t rec[32], const hre_key *sign_key, membuf *env,
                           uint8_t wire[HRE_VAULT_WRAP_LEN])
{
    cli_xch_peer peers[64];
    size_t n = 0;
    int code = cli_control_xch_peers(c, rec, peers, 64, &n);
    if (code != CLI_EXIT_OK)
        return code;
    if (n == 0)
        return cli_error(c, CLI_EXIT_NOTFOUND, "the node holds no such document and has no "
                         "member peer to fetch it from");
    for (size_t i = 0; i < n; i++) {
        hre_vault_xch_request req;
        uint8_t b[HRE_VAULT_XCH_REQUEST_LEN];
        size_t bl = sizeof b;
        memset(&req, 0, sizeof req);
        int rc = hre_random_bytes(req.nonce, sizeof req.nonce);
        req.timestamp_ms = cli_now_ms();
        memcpy(req.record_id, rec, 32);
        memcpy(req.binding, peers[i].binding, 32);
        if (rc == HRE_OK)
            rc = hre_vault_xch_request_sign(&req, sign_key);
        if (rc == HRE_OK)
            rc = hre_vault_xch_request_encode(&req, b, &bl);
        if (rc != HRE_OK)
            return cli_fail(c, rc, "sign the exchange request");
        env->len = 0;
        code = cli_control_xch_fetch(c, peers[i].conn, b, bl, wire, env_data, env);
        if (code != CLI_EXIT_NOTFOUND)
            return code;   /* fetched, or refused for a reason another holder shares */
    }
    return code;
}

static int cmd_get(cli *c, const cli_args *a)
{
    const char *dir = cli_get(a, "--vault");
    const char *outp = cli_get(a, "--out");
    uint8_t rec[32], pub[34], doc_hash[32];
    hre_key *key = NULL, *skey = NULL;
    const char *via = NULL;
    hre_storage *vst = NULL;
    hre_vault *v = NULL;
    membuf doc = { NULL, 0, 0, DOC_CAP }, env = { NULL, 0, 0, DOC_CAP + (1u << 20) };
    hre_vault_content content = HRE_VAULT_CONTENT_INIT;
    int code = cli_id_arg(c, rec, cli_get(a, "--record"), "--record");
    if (code != CLI_EXIT_OK)
        return code;
    if (dir && c->node_dir)
        return cli_error(c, CLI_EXIT_USAGE, "vault get: --vault DIR works with --data; with "
                         "--node the node's own vault is used");
    if (!dir && !c->node_dir)
        return cli_error(c, CLI_EXIT_USAGE, "vault get: say where the document is: --vault DIR "
                         "(with --data) or --node DIR");
    if ((code = cli_load_key(c, a, cli_get(a, "--key"), &key)) != CLI_EXIT_OK)
        return code;
    if ((code = key_wire(c, key, pub)) != CLI_EXIT_OK)
        goto out;
    if (dir) {
        hre_vault_wrap w;
        uint64_t env_len = 0;
        if ((code = open_vault(c, dir, &vst, &v)) != CLI_EXIT_OK)
            goto out;
        if ((code = cli_vault_lookup(c, v, rec, pub, &w, doc_hash, &env_len)) != CLI_EXIT_OK)
            goto out;
        int rc = hre_vault_read(v, &content, doc_hash, w.reader_type, w.reader_id, key, mem_sink,
                                &doc);
        if (rc != HRE_OK) {
            code = cli_fail(c, rc, "open the document");
            goto out;
        }
    } else {
        uint8_t wire[HRE_VAULT_WRAP_LEN];
        hre_vault_wrap w;
        hre_vault_open_params op = HRE_VAULT_OPEN_PARAMS_INIT;
        hre_vault_opener *o = NULL;
        const char *skp = cli_get(a, "--sign-key");
        if (!skp) {
            code = cli_control_vault_get(c, rec, pub, wire, env_data, &env);
        } else {
            /* the node's own vault first (its messages kept back), then the exchange */
            char *eb = NULL;
            size_t el = 0;
            FILE *saved = c->err, *mem = open_memstream(&eb, &el);
            if (mem)
                c->err = mem;
            code = cli_control_vault_get(c, rec, pub, wire, env_data, &env);
            c->err = saved;
            if (mem)
                fclose(mem);
            if (code != CLI_EXIT_NOTFOUND && eb && el)
                (void)!fwrite(eb, 1, el, c->err);
            free(eb);
            if (code == CLI_EXIT_NOTFOUND) {
                code = cli_load_key(c, a, skp, &skey);
                if (code == CLI_EXIT_OK)
                    code = get_by_exchange(c, rec, skey, &env, wire);
                if (code == CLI_EXIT_OK)
                    via = "exchange";
            }
        }
        if (code != CLI_EXIT_OK)
            goto out;
        int rc = hre_vault_wrap_decode(&w, wire, sizeof wire);
        if (rc != HRE_OK) {
            code = cli_fail(c, rc, "the node's wrap");
            goto out;
        }
        memcpy(doc_hash, w.doc_hash, 32);
        op.wrap = &w;
        op.reader_key = key;
        op.max_doc_len = DOC_CAP;
        rc = hre_vault_opener_new(&o, &op, mem_sink, &doc);
        if (rc == HRE_OK)
            rc = hre_vault_opener_write(o, env.p, env.len);
        if (rc == HRE_OK)
            rc = hre_vault_opener_finish(o, &content);
        hre_vault_opener_free(o);
        if (rc != HRE_OK) {
            code = cli_fail(c, rc, "open the document");
            goto out;
        }
    }
    if ((code = cli_write_file(c, outp, doc.p ? doc.p : (const uint8_t *)"", doc.len, 0600)) !=
        CLI_EXIT_OK)
        goto out;
    if (strcmp(outp, "-") != 0) {
        char rh[65], hh[65];
        cli_hex(rh, rec, 32);
        cli_hex(hh, doc_hash, 32);
        if (c->json) {
            fprintf(c->out, "{\"record\":\"%s\",\"doc_sha256\":\"%s\",\"doc_len\":%llu,"
                    "\"media_type\":", rh, hh, (unsigned long long)content.doc_len);
            cli_json_str(c->out, content.media_type);
            fputs(",\"out\":", c->out);
            cli_json_str(c->out, outp);
            fprintf(c->out, ",\"via\":\"%s\"}\n", dir ? "vault" : via ? via : "node");
        } else if (!c->quiet) {
            fprintf(c->out, "record %s: %llu bytes%s%s written to %s\n", rh,
                    (unsigned long long)content.doc_len, content.media_type[0] ? " of " : "",
                    content.media_type, outp);
        }
    }
out:
    membuf_free(&doc);
    membuf_free(&env);
    hre_vault_close(v);
    hre_storage_free(vst);
    hre_key_free(key);
    hre_key_free(skey);
    return code;
}

static const cli_opt put_opts[] = {
    { "--vault", "DIR", "the vault directory to store the sealed document in (with --data; "
      "required there)", 0 },
    { "--key", "PEM", "the issuer's encryption private key (its published one: the wraps are "
      "made in HPKE auth mode by it; with --data, required there)", 0 },
    { "--passphrase-fd", "N", "read the key's passphrase from file descriptor N", 0 },
    { "--reader", "ID", "wrap the data key for this reader: an organisation id or account "
      "address (org:ID / account:ID to force the type)", CLI_OPT_REQUIRED | CLI_OPT_REPEAT },
    { "--issuer", "ID", "whose encryption key --key is (default: the --reader it belongs to)",
      0 },
    { "--media-type", "TYPE", "the document's media type, e.g. application/fhir+json", 0 },
    { NULL, NULL, NULL, 0 }
};

static const cli_opt get_opts[] = {
    { "--key", "PEM", "the reader's encryption private key (it never leaves this process)",
      CLI_OPT_REQUIRED },
    { "--passphrase-fd", "N", "read the key's passphrase from file descriptor N", 0 },
    { "--record", "ID", "the record whose document to fetch", CLI_OPT_REQUIRED },
    { "--out", "FILE", "write the document here (mode 0600; - for stdout)", CLI_OPT_REQUIRED },
    { "--vault", "DIR", "read from this local vault directory (with --data for the chain)", 0 },
    { "--sign-key", "PEM", "with --node: the reader's account key, to sign a request for the "
      "document exchange when the node's own vault does not hold it", 0 },
    { NULL, NULL, NULL, 0 }
};

const cli_cmd cli_cmds_vault[] = {
    { "vault put", cmd_put, "FILE", 1, 1,
      "seal a document into a vault, wrapped for its readers",
      "Encrypts FILE (AES-256-GCM, chunked, padded to a size bucket) under a fresh data key and "
      "stores the envelope in the vault directory with one HPKE wrap of the key per --reader. "
      "Each reader's encryption key is the one published on the chain (SET_ENC_KEY, hre key "
      "publish), read from the ledger directory --data DIR, or the chain of the node of "
      "--node DIR. Typical readers are the patient, the "
      "issuing hospital and the lab.\n\n"
      "Prints the envelope's SHA-256 (doc_sha256) and the random locator bound into it: give "
      "both to hre record new --doc-sha256 HEX --locator HEX. JSON: doc_sha256, locator, "
      "doc_len, envelope_len, readers.\n\n"
      "The vault directory must not be open in a running node at the same time (exit 4): "
      "for a running node's vault use --node DIR instead of --data, --vault and --key. Then "
      "this process streams FILE over the node's control socket (at most 64 MiB; exit 5 over "
      "that) and the node seals it into its own vault (node run --vault) with its "
      "--vault-key as the issuer (the --holder whose key it is), wrapped for the --reader "
      "keys published on its chain; the output is the same. A node without --vault or "
      "--vault-key refuses (exit 1); a reader without a published key: exit 3.",
      put_opts, CLI_LEDGER },
    { "vault get", cmd_get, "", 0, 0,
      "open a record's document with a reader's encryption key",
      "Finds the document of --record (its doc_sha256 on the chain), takes the wrap of the "
      "reader whose published encryption key --key is, opens it and writes the document to "
      "--out. With --vault DIR the vault is read directly (the chain from --data DIR); with "
      "--node DIR the running node's vault (hre node run --vault) hands over the sealed "
      "envelope and the wrap, and this process decrypts them: the private key never leaves "
      "it. If the node's vault does not hold it and --sign-key is given, the node fetches it "
      "from the institution holding it (the document exchange: the node's member peers, the "
      "record's issuer and lab first): this process signs the request with --sign-key (the "
      "reader's account key) for the node's connection to that peer, the holder checks the "
      "reader's live grant and LOG_ACCESS (hre access) on its chain and answers with the sealed "
      "envelope and a fresh wrap, which this process opens. Passphrases on --passphrase-fd: "
      "one line per encrypted key, --key's first.\n\n"
      "JSON: record, doc_sha256, doc_len, media_type, out, via (vault, node or exchange). Exit 3: no "
      "such record, document or wrap; 1: the record was erased; 6: the key does not open the "
      "wrap.",
      get_opts, CLI_LEDGER },
    { NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0 }
};
