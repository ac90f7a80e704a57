/* event_cdf.h - NMI/IRQ delivery latency as cumulative distributions, from
 * the per-run `events` section refvmm writes:
 *
 *   "events": {"nmi": {"raised": N, "delivered": N,
 *                      "latency_ns": {"min", "p50", "p99", "max", ...},
 *                      "hist": [{"lo_ns", "hi_ns", "count"}, ...]}, "irq": {...}}
 *
 * The best distribution a run carries is used: `samples_ns` (every
 * delivery), else the histogram (`hist`, or `histogram`), pooled over the
 * repetitions of a configuration, else the quantiles in `latency_ns` (median
 * over repetitions: a coarse four-point CDF, marked as such). Runs without
 * the section contribute nothing; a backend without any gives no plot.
 */
#ifndef VTBENCH_EVENT_CDF_H
#define VTBENCH_EVENT_CDF_H

#include <stdbool.h>
#include <stddef.h>

#include "aggregate.h"

/* Event kinds with a delivery latency in the runs of `backend`, as
 * distinct names ("nmi", "irq") into names[max]; returns the count. */
size_t event_cdf__kinds(const struct agg_set *s, const char *backend, char names[][16], size_t max);

/* Whether the runs of `backend` give their latencies in modeled time (the
 * model's events section says "clock": "modeled"). */
bool event_cdf__modeled(const struct agg_set *s, const char *backend);

/* Writes PATH as cdf.gp reads it: one block per configuration (a header
 * line "LABEL [MODE],fraction" then "latency_ns,fraction" rows, ascending),
 * blocks separated by two blank lines. Returns the number of blocks (0:
 * none, nothing written), -1 when PATH cannot be written (errno set).
 * *coarse is set when some block came from quantiles only. */
int event_cdf__write(const struct agg_set *s, const char *backend, const char *kind,
                     const char *path, int *coarse);

#endif
