/*
 * hre: the consent commands (see cli.h; not written yet).
 *
 * Copyright the libhre authors. Licensed under the Apache License 2.0.
 */
#include "cli.h"

const cli_cmd cli_cmds_consent[] = {
    { NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0 }
};
