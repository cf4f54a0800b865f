/*
 * bench_relay: how long a transaction takes to reach every mempool of a
 * 16-node network, in VIRTUAL time, on the loopback hub (tests/sim): 16
 * registered honest nodes, each dialling target_outbound peers from a
 * shuffled address book, one-way latency uniform in [delay_min, delay_max]
 * per segment, no faults, no mining. Transactions are submitted at random
 * nodes one every gap_ms; for each, the time from submission until the
 * last node's mempool accepted it.
 *
 * Prints one JSON document: median, 90th percentile and worst relay time,
 * and next to them the floor the network itself allows in the same run
 * (hop count from the origin to the farthest node times the minimum
 * one-way latency: no relay protocol can beat it) and the per-hop figure.
 * Virtual time does not depend on the machine; the wall time of the run is
 * printed too.
 *
 *   HRE_BENCH_TXS (default 200), HRE_BENCH_NODES (16), HRE_BENCH_OUTBOUND (3),
 *   HRE_BENCH_DELAY_MIN (5), HRE_BENCH_DELAY_MAX (50), HRE_BENCH_GAP_MS (100),
 *   HRE_SEED (default 1).
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
    return v && *v ? (uint64_t)strtoull(v, NULL, 0) : def;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    sim_config c;
    int n = (int)env_u64("HRE_BENCH_TXS", 200), i, ok, reached = 0, max_hops = 0;
    uint64_t gap = env_u64("HRE_BENCH_GAP_MS", 100), seed = env_u64("HRE_SEED", 1);
    uint64_t *lat, *sorted, *floor_ms, sum_hops = 0;
    int *hops;
    double per_hop_sum = 0, t0;
    char why[1024] = "";

    sim_config_default(&c, seed);
    c.honest = (int)env_u64("HRE_BENCH_NODES", 16);
    c.target_outbound = (int)env_u64("HRE_BENCH_OUTBOUND", 3);
    c.delay_min_ms = (uint32_t)env_u64("HRE_BENCH_DELAY_MIN", 5);
    c.delay_max_ms = (uint32_t)env_u64("HRE_BENCH_DELAY_MAX", 50);
    c.miners = 0;
    if (n < 1 || c.honest < 2 || c.honest > SIM_MAX_NODES || c.delay_min_ms > c.delay_max_ms) {
        fprintf(stderr, "bench_relay: bad settings\n");
        return 2;
    }
    if (!sim_can_relay()) {
        printf("{\n  \"bench\": \"relay\",\n  \"skipped\": \"transaction relay needs live members: this "
               "build's contract has no REGISTER_NODE\"\n}\n");
        return 0;
    }
    lat = calloc((size_t)n, sizeof *lat);
    sorted = calloc((size_t)n, sizeof *sorted);
    floor_ms = calloc((size_t)n, sizeof *floor_ms);
    hops = calloc((size_t)n, sizeof *hops);
    if (!lat || !sorted || !floor_ms || !hops) return 1;
    t0 = now_s();
    ok = sim_relay(&c, n, gap, 60000, lat, hops, why, sizeof why);
    t0 = now_s() - t0;
    if (!ok) {
        fprintf(stderr, "bench_relay: %s\n", why);
        return 1;
    }
    for (i = 0; i < n; i++) {
        if (lat[i] == UINT64_MAX) continue;
        sorted[reached++] = lat[i];
        if (hops[i] > 0) {
            sum_hops += (uint64_t)hops[i];
            if (hops[i] > max_hops) max_hops = hops[i];
            floor_ms[i] = (uint64_t)hops[i] * c.delay_min_ms;
            per_hop_sum += (double)lat[i] / hops[i];
        }
    }
    qsort(sorted, (size_t)reached, sizeof *sorted, cmp_u64);
    printf("{\n");
    printf("  \"bench\": \"relay\",\n");
    printf("  \"what\": \"virtual ms from submitting a transaction at one node until every node's "
           "mempool holds it\",\n");
    printf("  \"nodes\": %d,\n  \"target_outbound\": %d,\n", c.honest, c.target_outbound);
    printf("  \"one_way_latency_ms\": { \"min\": %u, \"max\": %u, \"mean\": %.1f },\n", c.delay_min_ms,
           c.delay_max_ms, (c.delay_min_ms + c.delay_max_ms) / 2.0);
    printf("  \"transactions\": %d,\n  \"gap_ms\": %" PRIu64 ",\n  \"seed\": %" PRIu64 ",\n", n, gap, seed);
    printf("  \"reached_every_mempool\": %d,\n", reached);
    if (reached) {
        printf("  \"relay_ms\": { \"median\": %" PRIu64 ", \"p90\": %" PRIu64 ", \"worst\": %" PRIu64
               " },\n",
               sorted[reached / 2], sorted[(reached * 9) / 10 < reached ? (reached * 9) / 10 : reached - 1],
               sorted[reached - 1]);
        qsort(floor_ms, (size_t)n, sizeof *floor_ms, cmp_u64);
        printf("  \"network_floor_ms\": { \"median\": %" PRIu64 ", \"worst\": %" PRIu64
               ", \"how\": \"hops from the origin to the farthest node x the minimum one-way latency\" },\n",
               floor_ms[n / 2], floor_ms[n - 1]);
        printf("  \"inv_getdata_tx_estimate_ms\": { \"mean\": %.1f, \"how\": \"mean hops x 3 one-way "
               "trips (inv, getdata, tx) x the mean latency\" },\n",
               (double)sum_hops / reached * 3.0 * (c.delay_min_ms + c.delay_max_ms) / 2.0);
        printf("  \"hops\": { \"mean\": %.2f, \"max\": %d },\n", (double)sum_hops / reached, max_hops);
        printf("  \"relay_ms_per_hop_mean\": %.1f,\n", per_hop_sum / reached);
    }
    printf("  \"wall_seconds\": %.2f\n}\n", t0);
    free(lat);
    free(sorted);
    free(floor_ms);
    free(hops);
    return reached == n ? 0 : 1;
}
