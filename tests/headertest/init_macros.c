/* Every HRE_*_INIT initializer of the public headers, compiled by
 * headertest.sh as C99 and C++11 (-pedantic -Wall -Wextra -Werror: a macro
 * with more values than its struct has fields fails to compile) and run by
 * the init_macros test (.version must be its HRE_*_VERSION).
 * check_init_list.py fails if a header defines an _INIT macro not named here. */
#include <hre/hre.h>
#include <hre/sys/storage.h>
#include <hre/sys/powerloss.h>
#include <hre/sys/transport.h>
#include <hre/sys/hub.h>

static const hre_block_limits v_block_limits = HRE_BLOCK_LIMITS_INIT;
static const hre_chain_params v_chain_params = HRE_CHAIN_PARAMS_INIT;
static const hre_contract_access v_contract_access = HRE_CONTRACT_ACCESS_INIT;
static const hre_contract_account v_contract_account = HRE_CONTRACT_ACCOUNT_INIT;
static const hre_contract_grant v_contract_grant = HRE_CONTRACT_GRANT_INIT;
static const hre_contract_node v_contract_node = HRE_CONTRACT_NODE_INIT;
static const hre_contract_options v_contract_options = HRE_CONTRACT_OPTIONS_INIT;
static const hre_contract_org v_contract_org = HRE_CONTRACT_ORG_INIT;
static const hre_contract_record v_contract_record = HRE_CONTRACT_RECORD_INIT;
static const hre_contract_stats v_contract_stats = HRE_CONTRACT_STATS_INIT;
static const hre_hub_event v_hub_event = HRE_HUB_EVENT_INIT;
static const hre_hub_faults v_hub_faults = HRE_HUB_FAULTS_INIT;
static const hre_hub_options v_hub_options = HRE_HUB_OPTIONS_INIT;
static const hre_hub_partition v_hub_partition = HRE_HUB_PARTITION_INIT;
static const hre_hub_stats v_hub_stats = HRE_HUB_STATS_INIT;
static const hre_ledger_block_info v_ledger_block_info = HRE_LEDGER_BLOCK_INFO_INIT;
static const hre_ledger_options v_ledger_options = HRE_LEDGER_OPTIONS_INIT;
static const hre_node_discouraged v_node_discouraged = HRE_NODE_DISCOURAGED_INIT;
static const hre_node_options v_node_options = HRE_NODE_OPTIONS_INIT;
static const hre_node_peer_info v_node_peer_info = HRE_NODE_PEER_INFO_INIT;
static const hre_node_stats v_node_stats = HRE_NODE_STATS_INIT;
static const hre_powerloss_options v_powerloss_options = HRE_POWERLOSS_OPTIONS_INIT;
static const hre_powerloss_stats v_powerloss_stats = HRE_POWERLOSS_STATS_INIT;
static const hre_storage_methods v_storage_methods = HRE_STORAGE_METHODS_INIT;
static const hre_storage_posix_options v_storage_posix_options = HRE_STORAGE_POSIX_OPTIONS_INIT;
static const hre_transport_methods v_transport_methods = HRE_TRANSPORT_METHODS_INIT;
static const hre_vault_content v_vault_content = HRE_VAULT_CONTENT_INIT;
static const hre_vault_entry v_vault_entry = HRE_VAULT_ENTRY_INIT;
static const hre_vault_fetch_params v_vault_fetch_params = HRE_VAULT_FETCH_PARAMS_INIT;
static const hre_vault_open_params v_vault_open_params = HRE_VAULT_OPEN_PARAMS_INIT;
static const hre_vault_options v_vault_options = HRE_VAULT_OPTIONS_INIT;
static const hre_vault_seal_params v_vault_seal_params = HRE_VAULT_SEAL_PARAMS_INIT;
static const hre_vault_stats v_vault_stats = HRE_VAULT_STATS_INIT;
static const hre_vault_xch_options v_vault_xch_options = HRE_VAULT_XCH_OPTIONS_INIT;
static const hre_vault_xch_stats v_vault_xch_stats = HRE_VAULT_XCH_STATS_INIT;
static const hre_vault_xch_audit v_vault_xch_audit = HRE_VAULT_XCH_AUDIT_INIT;

int main(void)
{
    int bad = 0;
    bad |= v_block_limits.version != HRE_BLOCK_LIMITS_VERSION;
    bad |= v_chain_params.version != HRE_CHAIN_PARAMS_VERSION;
    bad |= v_contract_access.version != HRE_CONTRACT_ACCESS_VERSION;
    bad |= v_contract_account.version != HRE_CONTRACT_ACCOUNT_VERSION;
    bad |= v_contract_grant.version != HRE_CONTRACT_GRANT_VERSION;
    bad |= v_contract_node.version != HRE_CONTRACT_NODE_VERSION;
    bad |= v_contract_options.version != HRE_CONTRACT_OPTIONS_VERSION;
    bad |= v_contract_org.version != HRE_CONTRACT_ORG_VERSION;
    bad |= v_contract_record.version != HRE_CONTRACT_RECORD_VERSION;
    bad |= v_contract_stats.version != HRE_CONTRACT_STATS_VERSION;
    bad |= v_hub_event.version != HRE_HUB_EVENT_VERSION;
    bad |= v_hub_faults.version != HRE_HUB_FAULTS_VERSION;
    bad |= v_hub_options.version != HRE_HUB_OPTIONS_VERSION;
    bad |= v_hub_partition.version != HRE_HUB_PARTITION_VERSION;
    bad |= v_hub_stats.version != HRE_HUB_STATS_VERSION;
    bad |= v_ledger_block_info.version != HRE_LEDGER_BLOCK_INFO_VERSION;
    bad |= v_ledger_options.version != HRE_LEDGER_OPTIONS_VERSION;
    bad |= v_node_discouraged.version != HRE_NODE_DISCOURAGED_VERSION;
    bad |= v_node_options.version != HRE_NODE_OPTIONS_VERSION;
    bad |= v_node_peer_info.version != HRE_NODE_PEER_INFO_VERSION;
    bad |= v_node_stats.version != HRE_NODE_STATS_VERSION;
    bad |= v_powerloss_options.version != HRE_POWERLOSS_OPTIONS_VERSION;
    bad |= v_powerloss_stats.version != HRE_POWERLOSS_STATS_VERSION;
    bad |= v_storage_methods.version != HRE_STORAGE_VERSION;
    bad |= v_storage_posix_options.version != HRE_STORAGE_POSIX_OPTIONS_VERSION;
    bad |= v_transport_methods.version != HRE_TRANSPORT_METHODS_VERSION;
    bad |= v_vault_content.version != HRE_VAULT_CONTENT_VERSION;
    bad |= v_vault_entry.version != HRE_VAULT_ENTRY_VERSION;
    bad |= v_vault_fetch_params.version != HRE_VAULT_FETCH_PARAMS_VERSION;
    bad |= v_vault_open_params.version != HRE_VAULT_OPEN_PARAMS_VERSION;
    bad |= v_vault_options.version != HRE_VAULT_OPTIONS_VERSION;
    bad |= v_vault_seal_params.version != HRE_VAULT_SEAL_PARAMS_VERSION;
    bad |= v_vault_stats.version != HRE_VAULT_STATS_VERSION;
    bad |= v_vault_xch_options.version != HRE_VAULT_XCH_OPTIONS_VERSION;
    bad |= v_vault_xch_stats.version != HRE_VAULT_XCH_STATS_VERSION;
    bad |= v_vault_xch_audit.version != HRE_VAULT_XCH_AUDIT_VERSION;
    return bad;
}
