/* Shared helpers for the Check suites (tests only). */
#ifndef HRE_TESTUTIL_H
#define HRE_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#ifdef HRE_HAVE_SUITE_CORE
#  define HRE_T_HAVE_CORE 1
#else
#  define HRE_T_HAVE_CORE 0
#endif
#ifdef HRE_HAVE_SUITE_HASH
#  define HRE_T_HAVE_HASH 1
#else
#  define HRE_T_HAVE_HASH 0
#endif
#ifdef HRE_HAVE_SUITE_CHAIN
#  define HRE_T_HAVE_CHAIN 1
#else
#  define HRE_T_HAVE_CHAIN 0
#endif
#ifdef HRE_HAVE_SUITE_KEY
#  define HRE_T_HAVE_KEY 1
#else
#  define HRE_T_HAVE_KEY 0
#endif
#ifdef HRE_HAVE_SUITE_TX
#  define HRE_T_HAVE_TX 1
#else
#  define HRE_T_HAVE_TX 0
#endif
#ifdef HRE_HAVE_SUITE_CONTRACT
#  define HRE_T_HAVE_CONTRACT 1
#else
#  define HRE_T_HAVE_CONTRACT 0
#endif
#ifdef HRE_HAVE_SUITE_STORAGE
#  define HRE_T_HAVE_STORAGE 1
#else
#  define HRE_T_HAVE_STORAGE 0
#endif
#ifdef HRE_HAVE_SUITE_LEDGER
#  define HRE_T_HAVE_LEDGER 1
#else
#  define HRE_T_HAVE_LEDGER 0
#endif

/* 1.1 crypto suites */
#ifdef HRE_HAVE_SUITE_AEAD
#  define HRE_T_HAVE_AEAD 1
#else
#  define HRE_T_HAVE_AEAD 0
#endif
#ifdef HRE_HAVE_SUITE_HKDF
#  define HRE_T_HAVE_HKDF 1
#else
#  define HRE_T_HAVE_HKDF 0
#endif
#ifdef HRE_HAVE_SUITE_ECDH
#  define HRE_T_HAVE_ECDH 1
#else
#  define HRE_T_HAVE_ECDH 0
#endif
#ifdef HRE_HAVE_SUITE_HPKE
#  define HRE_T_HAVE_HPKE 1
#else
#  define HRE_T_HAVE_HPKE 0
#endif
#ifdef HRE_HAVE_SUITE_CHANNEL
#  define HRE_T_HAVE_CHANNEL 1
#else
#  define HRE_T_HAVE_CHANNEL 0
#endif
/* 1.1 node */
#ifdef HRE_HAVE_SUITE_NODE
#  define HRE_T_HAVE_NODE 1
#else
#  define HRE_T_HAVE_NODE 0
#endif
/* 1.1 transport suites */
#ifdef HRE_HAVE_SUITE_HUB
#  define HRE_T_HAVE_HUB 1
#else
#  define HRE_T_HAVE_HUB 0
#endif

#ifdef HRE_HAVE_SUITE_VAULT
#  define HRE_T_HAVE_VAULT 1
#else
#  define HRE_T_HAVE_VAULT 0
#endif

#ifdef HRE_HAVE_SUITE_EXCHANGE
#  define HRE_T_HAVE_EXCHANGE 1
#else
#  define HRE_T_HAVE_EXCHANGE 0
#endif

#ifdef HRE_HAVE_SUITE_PROOF
#  define HRE_T_HAVE_PROOF 1
#else
#  define HRE_T_HAVE_PROOF 0
#endif

#include <check.h>

/* One suite per module; defined in tests/check_<module>.c. */
Suite *hre_suite_core(void);
Suite *hre_suite_hash(void);
Suite *hre_suite_chain(void);
Suite *hre_suite_key(void);
Suite *hre_suite_tx(void);
Suite *hre_suite_contract(void);
Suite *hre_suite_storage(void);
Suite *hre_suite_ledger(void);
Suite *hre_suite_aead(void);
Suite *hre_suite_hkdf(void);
Suite *hre_suite_ecdh(void);
Suite *hre_suite_hpke(void);
Suite *hre_suite_channel(void);
Suite *hre_suite_vault(void);
Suite *hre_suite_node(void);
Suite *hre_suite_hub(void);
Suite *hre_suite_exchange(void);
Suite *hre_suite_proof(void);

/* Assert that a libhre call returned HRE_OK and, as common.h rule 4
 * promises, left the calling thread's error clear (hre_error_last() ==
 * HRE_OK, empty detail) however it got there. The test files include
 * <hre/hre.h> before this header. */
#define HRE_T_OK(call)                                                                      \
    do {                                                                                    \
        int hre_t_rc_ = (call);                                                             \
        ck_assert_msg(hre_t_rc_ == HRE_OK, "%s: %d (%s): %s", #call, hre_t_rc_,             \
                      hre_strerror(hre_t_rc_), hre_error_detail());                         \
        ck_assert_msg(hre_error_last() == HRE_OK && hre_error_detail()[0] == '\0',          \
                      "%s succeeded but left error %d (%s)", #call, hre_error_last(),      \
                      hre_error_detail());                                                  \
    } while (0)

/* Seed for this run: $HRE_SEED if set, else from the clock; fixed per process. */
uint64_t hre_t_seed(void);
/* Deterministic PRNG (xoshiro256**) seeded from hre_t_seed(); not thread-safe. */
uint64_t hre_t_rand(void);
/* Uniform in [0, n). n > 0. */
uint64_t hre_t_rand_below(uint64_t n);
void hre_t_rand_bytes(void *out, size_t len);
/* Reseed the PRNG (e.g. per test, from hre_t_seed() ^ salt). */
void hre_t_reseed(uint64_t seed);

/* Decode hex into out; aborts the test (ck_abort) on bad hex or wrong length.
 * Returns the number of bytes. */
size_t hre_t_unhex(uint8_t *out, size_t cap, const char *hex);
/* Reverse a byte string in place (display order <-> internal order). */
void hre_t_reverse(uint8_t *p, size_t len);

/* Path of a file under the test vectors dir, in a static buffer (valid until
 * the next call): $HRE_VECTORS_DIR if set, else the in-tree tests/vectors
 * (or meson's -Dvectors_dir). NULL only if the path does not fit. */
const char *hre_t_vector_path(const char *relative);
/* The same under the test data dir: $HRE_DATA_DIR, else the in-tree
 * tests/data (e.g. "fhir-stu3/patient-99912345-document-3.fhir-bundle.json"). */
const char *hre_t_data_path(const char *relative);
/* Read a whole file (malloc'd, NUL-terminated); NULL if missing. */
char *hre_t_read_file(const char *path, size_t *len);

/* Power-loss storage (hre/sys/powerloss.h) counters, through the public
 * stats call: 0/1 (or the rewrite error) for crashed; 0 for a storage that
 * is not a power-loss one. */
struct hre_storage;
int hre_t_pl_crashed(const struct hre_storage *pl);
uint64_t hre_t_pl_calls(const struct hre_storage *pl);
uint64_t hre_t_pl_syncs(const struct hre_storage *pl);
uint64_t hre_t_pl_failures(const struct hre_storage *pl);

#ifdef HRE_WHITEBOX
/* The Nth-allocation sweep (white-box builds, which inject allocation
 * failures). For N = 1, 2, ... it runs fn(arg) with the calling thread's Nth
 * library allocation failing (and every later one), until fn returns
 * HRE_OK. fn is one self-contained attempt: whatever it creates it frees
 * before returning, whatever the result. fn may call
 * hre_test__alloc_fail_after(-1) once its attempt is over, to check the
 * result with allocations working.
 * Checked for every run (ck_assert): a failing run returns HRE_ENOMEM or a
 * code of `also` (a list ended by HRE_OK; NULL for none) and leaves as many
 * library blocks live as there were before it (no leak; hre_test__alloc_live
 * counts over all threads); the successful run leaves none either; success
 * comes before N > max.
 * Returns the number of failing runs (the allocation points met; > 0 unless
 * fn allocates nothing). Not thread-safe (the test's thread runs fn). */
typedef int (*hre_t_sweep_fn)(void *arg);
long hre_t_alloc_sweep(hre_t_sweep_fn fn, void *arg, long max);
/* The same with flags: HRE_T_SWEEP_KEEP when fn may leave blocks owned by a
 * handle that outlives it (a failed apply grows the state's arrays; a
 * failed mine keeps the ledger's caches): the live count is then not
 * compared, and leaks are left to LeakSanitizer. */
#define HRE_T_SWEEP_KEEP 0x1u
long hre_t_alloc_sweep_ex(hre_t_sweep_fn fn, void *arg, long max, unsigned flags, const int *also);
#endif

#endif
