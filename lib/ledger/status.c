/*
 * Status names of submitted blocks and transactions, and the status
 * out-parameter helper.
 * docs/PROTOCOL.md section 7.
 */
#include <stdarg.h>
#include <stdio.h>

#include "core/internal.h"
#include "ledger/internal.h"

HRE_API const char *hre_ledger_status_name(int status)
{
    switch (status) {
    case HRE_LEDGER_STATUS_NONE: return "none";
    case HRE_LEDGER_CONNECTED: return "connected";
    case HRE_LEDGER_REORGED: return "reorged";
    case HRE_LEDGER_SIDE_BRANCH: return "side-branch";
    case HRE_LEDGER_ORPHAN: return "orphan";
    case HRE_LEDGER_ACCEPTED_TX: return "accepted-tx";
    case HRE_LEDGER_REJECT_DECODE: return "reject-decode";
    case HRE_LEDGER_REJECT_SIZE: return "reject-size";
    case HRE_LEDGER_REJECT_TX_COUNT: return "reject-tx-count";
    case HRE_LEDGER_REJECT_POW: return "reject-pow";
    case HRE_LEDGER_REJECT_BITS: return "reject-bits";
    case HRE_LEDGER_REJECT_TIME_OLD: return "reject-time-old";
    case HRE_LEDGER_REJECT_TIME_FUTURE: return "reject-time-future";
    case HRE_LEDGER_REJECT_MERKLE: return "reject-merkle";
    case HRE_LEDGER_REJECT_MERKLE_MUTATED: return "reject-merkle-mutated";
    case HRE_LEDGER_REJECT_DUPLICATE_TX: return "reject-duplicate-tx";
    case HRE_LEDGER_REJECT_TX_DECODE: return "reject-tx-decode";
    case HRE_LEDGER_REJECT_TX_SIGNATURE: return "reject-tx-signature";
    case HRE_LEDGER_REJECT_CONTRACT: return "reject-contract";
    case HRE_LEDGER_REJECT_INVALID_PARENT: return "reject-invalid-parent";
    case HRE_LEDGER_REJECT_DUPLICATE: return "reject-duplicate";
    case HRE_LEDGER_REJECT_FORK_TOO_DEEP: return "reject-fork-too-deep";
    case HRE_LEDGER_REJECT_BOUND: return "reject-bound";
    case HRE_LEDGER_REJECT_STORAGE: return "reject-storage";
    case HRE_LEDGER_REJECT_GENESIS: return "reject-genesis";
    case HRE_LEDGER_REJECT_FATAL: return "reject-fatal";
    default: return "unknown";
    }
}

void hre_ledger__set_status(hre_ledger_status *st, hre_ledger_status v)
{
    if (st)
        *st = v;
}

int hre_ledger__fatal(hre_ledger *l, hre_ledger_status *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->fatal_why, sizeof l->fatal_why, fmt, ap);
    va_end(ap);
    l->fatal = 1;
    HRE_LEDGER__LOG(l, HRE_LOG_ERROR,
                    "ledger is in the fatal state: %s; every call that changes or reads the live "
                    "state now fails with HRE_EFATAL: close the ledger and open it again",
                    l->fatal_why);
    hre_ledger__set_status(st, HRE_LEDGER_REJECT_FATAL);
    return hre__fail(HRE_EFATAL, "ledger: fatal, close and reopen it: %s", l->fatal_why);
}

int hre_ledger__usable(const hre_ledger *l, hre_ledger_status *st)
{
    if (!l->fatal)
        return HRE_OK;
    hre_ledger__set_status(st, HRE_LEDGER_REJECT_FATAL);
    return hre__fail(HRE_EFATAL, "ledger: fatal since an earlier failure, close and reopen it: %s",
                     l->fatal_why);
}

int hre_ledger__storage_code(int rc)
{
    return rc == HRE_EIO || rc == HRE_ENOSPC || rc == HRE_ECORRUPT || rc == HRE_ELIMIT;
}

void hre_ledger__local_status(hre_ledger_status *st, int rc)
{
    hre_ledger__set_status(st, rc == HRE_EFATAL ? HRE_LEDGER_REJECT_FATAL
                               : hre_ledger__storage_code(rc) ? HRE_LEDGER_REJECT_STORAGE
                                                              : HRE_LEDGER_STATUS_NONE);
}
