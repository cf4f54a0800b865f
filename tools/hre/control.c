/*
 * hre: the control connection to a running `hre node run` (cli.h).
 * Not written yet: every call says so and returns CLI_EXIT_NODE.
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include "cli.h"

static int not_yet(cli *c)
{
    return cli_error(c, CLI_EXIT_NODE, "--node %s: the control connection is not built yet",
                     c->node_dir ? c->node_dir : "");
}

int cli_control_run(cli *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return not_yet(c);
}

int cli_control_nonce(cli *c, const uint8_t *id, size_t id_len, uint64_t *nonce)
{
    (void)id;
    (void)id_len;
    *nonce = 0;
    return not_yet(c);
}

int cli_control_network_id(cli *c, uint8_t out[32])
{
    (void)out;
    return not_yet(c);
}

int cli_control_submit(cli *c, const uint8_t *tx, size_t len, cli_submitted *res)
{
    (void)tx;
    (void)len;
    (void)res;
    return not_yet(c);
}
