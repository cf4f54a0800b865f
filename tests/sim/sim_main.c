/*
 * hre_sim: runs the network simulation (sim.h) over many seeds and checks
 * safety and liveness on each; prints every seed with a one-line summary
 * and, on a failure, the command that replays it.
 *
 *   HRE_SIM_SEED=n      replay seed n alone (verbose with HRE_SIM_VERBOSE=1, 2)
 *   HRE_SIM_SEEDS=n     how many seeds (default 200): base, base + 1, ...
 *   HRE_SEED=b          the base (default: the current Unix hour x 1000, so the
 *                       shards meson starts together run one batch; printed)
 *   HRE_SIM_MEMPOOL_STRICT=0  a run whose mempools never agree is recorded and
 *                       counted, not failed (default 1: it fails)
 *   HRE_SIM_SHARD=i/k   run only the seeds whose index is i modulo k (meson
 *                       runs the default batch as two shards)
 *   HRE_SIM_HONEST, HRE_SIM_BYZANTINE, HRE_SIM_FAULT_MS, HRE_SIM_SETTLE_MS,
 *   HRE_SIM_CRASHES     override the defaults (13, 3, 30000, 60000, 3)
 *
 * The first seed of every run is simulated twice and the two traces
 * compared (a seed replays exactly). Exit status 0 only if every seed held.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *v = getenv(name);
    char *end;
    unsigned long long x;
    if (!v || !*v) return def;
    x = strtoull(v, &end, 0);
    if (*end) {
        fprintf(stderr, "hre_sim: %s=%s is not a number\n", name, v);
        exit(2);
    }
    return (uint64_t)x;
}

static void hex8(char out[17], const uint8_t h[32])
{
    static const char d[] = "0123456789abcdef";
    int i;
    for (i = 0; i < 8; i++) {
        out[2 * i] = d[h[i] >> 4];
        out[2 * i + 1] = d[h[i] & 15];
    }
    out[16] = 0;
}

static void config(sim_config *c, uint64_t seed)
{
    sim_config_default(c, seed);
    c->honest = (int)env_u64("HRE_SIM_HONEST", (uint64_t)c->honest);
    c->byzantine = (int)env_u64("HRE_SIM_BYZANTINE", (uint64_t)c->byzantine);
    c->fault_ms = env_u64("HRE_SIM_FAULT_MS", c->fault_ms);
    c->settle_ms = env_u64("HRE_SIM_SETTLE_MS", c->settle_ms);
    c->crashes = (int)env_u64("HRE_SIM_CRASHES", (uint64_t)c->crashes);
    c->verbose = (int)env_u64("HRE_SIM_VERBOSE", 0);
    c->mempool_strict = (int)env_u64("HRE_SIM_MEMPOOL_STRICT", 1);
}

static void print_result(uint64_t seed, const sim_result *r)
{
    char tr[17];
    hex8(tr, r->trace);
    printf("sim seed=%" PRIu64 " %s tip=%" PRIu64 " mined=%" PRIu64 " reorgs=%" PRIu64
           " crashes=%" PRIu64 " restarts=%" PRIu64 " invalid=%" PRIu64 " attacks=%" PRIu64
           " refused=%" PRIu64 " txs=%" PRIu64 "/%" PRIu64 " disconnects=%" PRIu64
           " faults=%" PRIu64 "d/%" PRIu64 "u/%" PRIu64 "r/%" PRIu64 "c/%" PRIu64 "s/%" PRIu64
           "x/%" PRIu64 "cut pauses=%" PRIu64 " converge=%" PRIu64 "ms%s events=%" PRIu64 " clamps=%" PRIu64
           " wall=%.2fs trace=%s\n",
           seed, r->ok ? "ok" : "FAILED", r->tip_height, r->blocks_mined, r->reorgs, r->crashes,
           r->restarts, r->invalid_made, r->byz_attacks, r->byz_refused, r->txs_submitted,
           r->txs_accepted_relay, r->disconnects, r->dropped, r->duplicated, r->reordered,
           r->corrupted, r->split, r->resets, r->cut, r->read_pauses, r->converge_ms,
           r->mempool_differ ? " mempools=DIFFER" : "", r->events, r->tick_clamps,
           (double)r->wall_us / 1e6, tr);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    sim_config c;
    sim_result r, r2;
    uint64_t base, count, one, shard_i = 0, shard_k = 1, i;
    uint64_t ran = 0, failed = 0, attacks = 0, refused = 0, crashes = 0, invalid = 0, relayed = 0;
    uint64_t max_converge = 0, first_failed = 0, mempool_differ = 0;
    const char *shard = getenv("HRE_SIM_SHARD");
    int replay_checked = 0;
    (void)argc;
    if (shard && sscanf(shard, "%" SCNu64 "/%" SCNu64, &shard_i, &shard_k) != 2) {
        fprintf(stderr, "hre_sim: HRE_SIM_SHARD=%s is not i/k\n", shard);
        return 2;
    }
    if (shard_k == 0 || shard_i >= shard_k) shard_k = 1, shard_i = 0;
    one = env_u64("HRE_SIM_SEED", UINT64_MAX);
    if (one != UINT64_MAX) {
        base = one;
        count = 1;
        shard_k = 1;
        shard_i = 0;
    } else {
        /* default base: the current hour, so shards started together (meson
         * runs two) share it; set HRE_SEED for another batch */
        base = env_u64("HRE_SEED", (uint64_t)time(NULL) / 3600u * 1000u);
        count = env_u64("HRE_SIM_SEEDS", 200);
    }
    config(&c, base);
    printf("hre_sim: %d honest nodes, %d byzantine peers, %llu ms of faults, liveness bound %llu ms, "
           "%s; seeds %" PRIu64 "..%" PRIu64 " (shard %" PRIu64 "/%" PRIu64 "); replay one with "
           "HRE_SIM_SEED=<seed>\n",
           c.honest, c.byzantine, (unsigned long long)c.fault_ms, (unsigned long long)c.settle_ms,
           sim_can_relay() ? "transaction relay on (nodes registered on the chain)"
                           : "transaction relay off (this contract has no REGISTER_NODE)",
           base, base + count - 1, shard_i, shard_k);
    fflush(stdout);
    for (i = 0; i < count; i++) {
        uint64_t seed = base + i;
        if (i % shard_k != shard_i) continue;
        config(&c, seed);
        sim_run(&c, &r);
        print_result(seed, &r);
        ran++;
        if (!r.ok) {
            if (!failed) first_failed = seed;
            failed++;
            printf("  FAILED: %s\n  replay: HRE_SIM_SEED=%" PRIu64 " HRE_SIM_VERBOSE=1 %s\n", r.why, seed,
                   argv[0]);
            fflush(stdout);
            continue;
        }
        attacks += r.byz_attacks;
        refused += r.byz_refused;
        crashes += r.crashes;
        invalid += r.invalid_made;
        relayed += r.txs_accepted_relay;
        if (r.mempool_differ) {
            mempool_differ++;
            printf("  note: seed %" PRIu64 " converged but a transaction never reached every mempool "
                   "(recorded, not failed: HRE_SIM_MEMPOOL_STRICT=0)\n", seed);
        }
        if (r.converge_ms > max_converge) max_converge = r.converge_ms;
        if (!replay_checked) {
            /* the same seed again: the same run, event for event */
            replay_checked = 1;
            sim_run(&c, &r2);
            if (memcmp(r.trace, r2.trace, 32) != 0 || r.events != r2.events ||
                memcmp(r.tip, r2.tip, 32) != 0 || r.ok != r2.ok) {
                printf("  FAILED: seed %" PRIu64 " does not replay: events %" PRIu64 " vs %" PRIu64
                       ", traces differ\n", seed, r.events, r2.events);
                if (!failed) first_failed = seed;
                failed++;
            } else {
                printf("  replay of seed %" PRIu64 ": identical (%" PRIu64 " events, same trace digest)\n",
                       seed, r2.events);
            }
            fflush(stdout);
        }
    }
    printf("hre_sim: %" PRIu64 " seeds, %" PRIu64 " failed; %" PRIu64 " invalid blocks made, %" PRIu64
           " attacks sent, %" PRIu64 " byzantine peers refused, %" PRIu64 " crashes, %" PRIu64
           " transactions relayed; slowest convergence %" PRIu64 " ms; %" PRIu64
           " seeds with mempools that never agreed\n",
           ran, failed, invalid, attacks, refused, crashes, relayed, max_converge, mempool_differ);
    if (failed) {
        printf("hre_sim: first failing seed %" PRIu64 ": HRE_SIM_SEED=%" PRIu64 " HRE_SIM_VERBOSE=1 %s\n",
               first_failed, first_failed, argv[0]);
        return 1;
    }
    if (ran >= 5 && c.byzantine > 0 && c.fault_ms > 0 && (attacks == 0 || refused == 0 || crashes == 0)) {
        printf("hre_sim: the runs did not exercise the faults (attacks %" PRIu64 ", refused %" PRIu64
               ", crashes %" PRIu64 ")\n", attacks, refused, crashes);
        return 1;
    }
    return 0;
}
