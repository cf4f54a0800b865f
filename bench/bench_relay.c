/*
 * bench_relay: how long a transaction takes to reach every mempool of a
 * 16-node network, in VIRTUAL time, on the loopback hub (tests/sim): 16
 * registered honest nodes, each dialling target_outbound peers from a
 * shuffled address book, one-way latency uniform in [delay_min, delay_max]
 * per segment, no faults, no mining. Transactions are submitted at random
 * nodes one every gap_ms; for each, the time from submission until the
 * last node's mempool accepted it.
 *
 * Prints one JSON document on stdout, written with the harness of
 * bench_util.h (schema: bench/README.md): median, 90th percentile and worst
 * relay time, and next to them the floor the network itself allows in the
 * same run (hop count from the origin to the farthest node times the
 * minimum one-way latency: no relay protocol can beat it) with the ratio
 * against it, and the per-hop figure. There is no OpenSSL reference: the
 * network's floor is the reference. Virtual time does not depend on the
 * machine; the wall time of the run is printed too.
 *
 * Environment (bench/README.md): HRE_BENCH_RELAY_TXS (default 200),
 * HRE_BENCH_RELAY_NODES (16), HRE_BENCH_RELAY_OUTBOUND (3),
 * HRE_BENCH_RELAY_DELAY_MIN_MS (5), HRE_BENCH_RELAY_DELAY_MAX_MS (50),
 * HRE_BENCH_RELAY_GAP_MS (100), HRE_SEED (default 1).
 * Exit status 1 if some transaction never reached every mempool (the
 * document is printed all the same).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "sim.h"

#define WAIT_MS 60000   /* a transaction not everywhere by then: never */

/* HRE_SEED as tests/sim reads it (any base strtoull accepts), else def. */
static uint64_t env_seed(uint64_t def)
{
    const char *v = getenv("HRE_SEED");
    char *end;
    unsigned long long x;
    if (!v || !*v) return def;
    x = strtoull(v, &end, 0);
    return *end ? def : (uint64_t)x;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Virtual milliseconds as seconds (the schema's unit). */
static void json_ms(bench_json *j, const char *key, double ms)
{
    bench_json_num(j, key, ms / 1000.0, 3);
}

/* The nearest-rank percentile q (0 < q <= 1) of n sorted values. */
static uint64_t pct(const uint64_t *sorted, int n, double q)
{
    int k = (int)((double)n * q + 0.999999);
    if (k < 1) k = 1;
    if (k > n) k = n;
    return sorted[k - 1];
}

static void config(bench_json *j, const sim_config *c, int n, uint64_t gap, uint64_t seed)
{
    bench_json_head(j, "relay");
    bench_json_int(j, "nodes", c->honest);
    bench_json_int(j, "target_outbound", c->target_outbound);
    bench_json_int(j, "one_way_latency_min_ms", c->delay_min_ms);
    bench_json_int(j, "one_way_latency_max_ms", c->delay_max_ms);
    bench_json_int(j, "transactions", n);
    bench_json_int(j, "gap_ms", (long long)gap);
    bench_json_int(j, "wait_ms", WAIT_MS);
    bench_json_int(j, "seed", (long long)seed);
    bench_json_str(j, "network", "the loopback hub of tests/sim: registered honest nodes, no "
                   "faults, no byzantine peers, no mining; latency uniform per segment");
    bench_json_end_object(j);
}

int main(void)
{
    sim_config c;
    long n_env = bench_env_long("HRE_BENCH_RELAY_TXS", 200);
    int n = n_env > 1000000 ? -1 : (int)n_env, i, ok, reached = 0, nfloor = 0, max_hops = 0;
    uint64_t gap = (uint64_t)bench_env_long("HRE_BENCH_RELAY_GAP_MS", 100);
    uint64_t seed = env_seed(1);
    uint64_t *lat, *sorted, *floor_ms, sum_hops = 0;
    double mean_lat = 0, per_hop_sum = 0, ratio_sum = 0, wall;
    int *hops;
    char why[1024] = "";
    bench_json j;
    int rc;

    sim_config_default(&c, seed);
    c.honest = (int)bench_env_long("HRE_BENCH_RELAY_NODES", 16);
    c.target_outbound = (int)bench_env_long("HRE_BENCH_RELAY_OUTBOUND", 3);
    c.delay_min_ms = (uint32_t)bench_env_long("HRE_BENCH_RELAY_DELAY_MIN_MS", 5);
    c.delay_max_ms = (uint32_t)bench_env_long("HRE_BENCH_RELAY_DELAY_MAX_MS", 50);
    c.miners = 0;
    if (n < 1 || c.honest < 2 || c.honest > SIM_MAX_NODES || c.target_outbound < 1 ||
        c.delay_min_ms < 1 || c.delay_min_ms > c.delay_max_ms) {
        fprintf(stderr, "bench_relay: bad settings (HRE_BENCH_RELAY_TXS 1..1000000, _NODES 2..%d, "
                "_OUTBOUND >= 1, 1 <= _DELAY_MIN_MS <= _DELAY_MAX_MS)\n", SIM_MAX_NODES);
        return 2;
    }
    bench_json_begin(&j, stdout);
    if (!sim_can_relay()) {
        config(&j, &c, n, gap, seed);
        bench_json_object(&j, "results");
        bench_json_bool(&j, "skipped", 1);
        bench_json_end_object(&j);
        bench_json_object(&j, "notes");
        bench_json_str(&j, "skipped", "transaction relay needs live members: this build's contract "
                       "has no REGISTER_NODE");
        bench_json_end_object(&j);
        return bench_json_end(&j) == 0 ? 0 : 1;
    }
    lat = calloc((size_t)n, sizeof *lat);
    sorted = calloc((size_t)n, sizeof *sorted);
    floor_ms = calloc((size_t)n, sizeof *floor_ms);
    hops = calloc((size_t)n, sizeof *hops);
    if (!lat || !sorted || !floor_ms || !hops) {
        fprintf(stderr, "bench_relay: out of memory\n");
        return 1;
    }
    wall = bench_wall_s();
    ok = sim_relay(&c, n, gap, WAIT_MS, lat, hops, why, sizeof why);
    wall = bench_wall_s() - wall;
    if (!ok) {
        fprintf(stderr, "bench_relay: %s\n", why);
        return 1;
    }
    /* the floor of every transaction that reached every mempool */
    for (i = 0; i < n; i++) {
        if (lat[i] == UINT64_MAX) continue;
        sorted[reached++] = lat[i];
        mean_lat += (double)lat[i];
        if (hops[i] > 0) {
            uint64_t f = (uint64_t)hops[i] * c.delay_min_ms;
            sum_hops += (uint64_t)hops[i];
            if (hops[i] > max_hops) max_hops = hops[i];
            floor_ms[nfloor++] = f;
            per_hop_sum += (double)lat[i] / hops[i];
            ratio_sum += (double)lat[i] / (double)f;
        }
    }
    qsort(sorted, (size_t)reached, sizeof *sorted, cmp_u64);
    qsort(floor_ms, (size_t)nfloor, sizeof *floor_ms, cmp_u64);

    config(&j, &c, n, gap, seed);
    bench_json_object(&j, "results");
    bench_json_int(&j, "submitted_count", n);
    bench_json_int(&j, "reached_every_mempool_count", reached);
    bench_json_num(&j, "run_wall_seconds", wall, 2);
    if (reached) {
        bench_json_object(&j, "relay");
        json_ms(&j, "median_virtual_seconds", (double)pct(sorted, reached, 0.5));
        json_ms(&j, "p90_virtual_seconds", (double)pct(sorted, reached, 0.9));
        json_ms(&j, "worst_virtual_seconds", (double)sorted[reached - 1]);
        json_ms(&j, "mean_virtual_seconds", mean_lat / reached);
        if (nfloor) {
            json_ms(&j, "network_floor_median_virtual_seconds", (double)pct(floor_ms, nfloor, 0.5));
            bench_json_ratio(&j, "ratio_median_vs_network_floor", (double)pct(sorted, reached, 0.5),
                             (double)pct(floor_ms, nfloor, 0.5));
            json_ms(&j, "network_floor_worst_virtual_seconds", (double)floor_ms[nfloor - 1]);
            bench_json_ratio(&j, "ratio_worst_vs_network_floor", (double)sorted[reached - 1],
                             (double)floor_ms[nfloor - 1]);
            bench_json_num(&j, "ratio_mean_per_tx_vs_network_floor", ratio_sum / nfloor, 3);
            json_ms(&j, "inv_getdata_tx_estimate_mean_virtual_seconds",
                    (double)sum_hops / nfloor * 3.0 * (c.delay_min_ms + c.delay_max_ms) / 2.0);
            bench_json_ratio(&j, "ratio_mean_vs_inv_getdata_tx_estimate", mean_lat / reached,
                             (double)sum_hops / nfloor * 3.0 * (c.delay_min_ms + c.delay_max_ms) / 2.0);
            json_ms(&j, "per_hop_mean_virtual_seconds", per_hop_sum / nfloor);
        }
        bench_json_end_object(&j);
        if (nfloor) {
            bench_json_object(&j, "hops");
            bench_json_num(&j, "mean_count", (double)sum_hops / nfloor, 2);
            bench_json_int(&j, "max_count", max_hops);
            bench_json_end_object(&j);
        }
    }
    bench_json_end_object(&j);

    bench_json_object(&j, "notes");
    bench_json_str(&j, "relay", "virtual time (the hub's clock, in seconds with millisecond "
                   "resolution) from submitting a transaction at one node until every node's mempool "
                   "holds it, over the transactions that got there; median and p90 are nearest-rank");
    bench_json_str(&j, "reference", "no OpenSSL reference: the reference is the network's own floor "
                   "from the same run, hops from the origin to the farthest node (in the connection "
                   "graph at submit time) x the minimum one-way latency, which no relay protocol can "
                   "beat; ratio_*_vs_network_floor compare the relay time with it (median with median, "
                   "worst with worst; mean_per_tx: the mean of each transaction's own ratio)");
    bench_json_str(&j, "inv_getdata_tx_estimate", "mean hops x 3 one-way trips (inv, getdata, tx) x "
                   "the mean latency: what an announce-request-send relay costs on average");
    bench_json_str(&j, "run_wall_seconds", "real time of the whole simulated run (setup included); "
                   "the virtual figures do not depend on the machine");
    if (reached < n)
        bench_json_str(&j, "missing", "some transactions never reached every mempool within wait_ms "
                       "(reached_every_mempool_count < submitted_count): the program exits with status 1");
    bench_json_end_object(&j);
    rc = bench_json_end(&j);
    free(lat);
    free(sorted);
    free(floor_ms);
    free(hops);
    return rc == 0 && reached == n ? 0 : 1;
}
