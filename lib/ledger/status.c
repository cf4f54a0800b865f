/*
 * Status names of submitted blocks and transactions, and the status
 * out-parameter helper.
 * docs/PROTOCOL.md section 7.
 */
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
    default: return "unknown";
    }
}

void hre_ledger__set_status(hre_ledger_status *st, hre_ledger_status v)
{
    if (st)
        *st = v;
}
