/*
 * hre: the audit commands (see cli.h; not written yet).
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include "cli.h"

const cli_cmd cli_cmds_audit[] = {
    { NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0 }
};
