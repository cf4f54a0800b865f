/*
 * The single Check runner for every module suite. Run one suite with
 * CK_RUN_SUITE=<module> (meson test does this per module), or all of them.
 * The seed for randomised tests is printed; replay a failure with HRE_SEED=<n>.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

#define SUITE_LIST(X) \
    X(CORE, core) X(HASH, hash) X(CHAIN, chain) X(KEY, key) X(TX, tx) \
    X(CONTRACT, contract) X(STORAGE, storage) X(LEDGER, ledger) \
    X(AEAD, aead) X(HKDF, hkdf) X(ECDH, ecdh) X(HPKE, hpke) X(CHANNEL, channel) \
    X(NODE, node) X(HUB, hub) X(VAULT, vault) X(EXCHANGE, exchange) \
    X(PROOF, proof)


int main(void)
{
    SRunner *sr = srunner_create(NULL);
    int failed;
#define ADD(U, m) if (HRE_T_HAVE(U)) srunner_add_suite(sr, hre_suite_##m());
#define HRE_T_HAVE(U) HRE_T_HAVE_##U
    SUITE_LIST(ADD)
    printf("libhre tests: seed %llu (replay with HRE_SEED=%llu)\n",
           (unsigned long long)hre_t_seed(), (unsigned long long)hre_t_seed());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
