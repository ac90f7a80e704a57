/* aggregate.h - group a result document's runs by configuration, pull
 * metrics out of each run and compute the `aggregates[]` section.
 *
 * A configuration is backend + workload + params + modes; runs carry it as
 * `config` (written by `vtbench run`) or it is derived from their fields.
 * Only runs with status "ok" contribute samples. Metrics (per run):
 *   wall_ns, ns_per_iter (wall_ns / guest.iterations), iterations,
 *   kvm.exits (kvm_stats.vcpu.exits: every exit KVM handled),
 *   modeled_ns, modeled_ns_per_iter (model runs: model.modeled_ns, or
 *   modeled_cycles / profile.tsc_ghz, per guest iteration), exits.total,
 *   exits.NAME.count, exits.NAME.p50_ns, pmu.EVENT (supported only),
 *   model.PATH (every numeric leaf of the model section), and for model runs
 *   model.walk_refs, model.tlb_misses (L1 dTLB + iTLB) and model.vmx_exits
 *   (VM exits), taken from model.timed (the timed region) when present,
 *   events.KIND.PATH (every numeric leaf of the NMI/IRQ delivery section:
 *   raised, delivered, latency_ns.p50, latency_ns.p99, ...; the
 *   per-delivery histogram stays in the runs for the CDF plots).
 */
#ifndef VTBENCH_AGGREGATE_H
#define VTBENCH_AGGREGATE_H

#include <jansson.h>
#include <stddef.h>

struct agg_group {
  char key[256];
  char backend[16], workload[32], mode[64]; /* mode: "paging/tlb/nmi/irq" */
  char label[96];                           /* workload plus params, short */
  json_t *params;                           /* borrowed from the first run */
  json_t *modes;                            /* borrowed */
  size_t nruns, nok;
  json_t *metrics; /* owned: {metric: [[repetition, value], ...]} */
  json_t *runs;    /* owned array of the ok runs (references into the doc) */
};

struct agg_set {
  struct agg_group *g;
  size_t n;
};

/* Group the runs of `doc` (array order of first appearance). */
int aggregate__group(const json_t *doc, struct agg_set *out);
void aggregate__free(struct agg_set *s);

/* The configuration key of one run (its `config` or derived). */
void aggregate__run_key(const json_t *run, char *buf, size_t len);
/* Flatten one run into {metric: value}. New reference. */
json_t *aggregate__run_metrics(const json_t *run);

/* Samples of `metric` in group g into a malloc'd array (NULL, 0 if none);
 * reps (optional, malloc'd) receives their repetition numbers. */
size_t agg_group__values(const struct agg_group *g, const char *metric, double **vals,
                         unsigned **reps);
/* The group to compare g against: same backend, workload and params, in
 * the mode named `baseline` ("paging/tlb/nmi/irq"), or by default the
 * least-featured mode measured (native < shadow < ept, flush < vpid,
 * poll < window: `native` on the model, shadow/flush/poll/poll on a
 * shadow-paging KVM host). NULL when g is its own baseline or none exists. */
const struct agg_group *aggregate__baseline(const struct agg_set *s, const struct agg_group *g,
                                            const char *baseline);
/* Primary timing metric of a group: on the model modeled time
 * (modeled_ns_per_iter, else modeled_ns: the interpreter's host time means
 * nothing there), elsewhere wall time (ns_per_iter, else wall_ns). */
const char *agg_group__time_metric(const struct agg_group *g);
/* Whether `metric` is one of the time metrics above. */
int aggregate__is_time_metric(const char *metric);
/* Its clock for labels: "modeled" or "wall". */
const char *aggregate__time_clock(const char *metric);
/* "iteration" or "run". */
const char *aggregate__time_per(const char *metric);

/* Overhead of g: the ratio of its time metric to the baseline group's (see
 * aggregate__baseline) with the 95% bootstrap interval. On the model, when
 * no native group was measured but the runs carry refvmm's own native
 * baseline run (model.overhead_vs_native.ratio), that ratio is used and
 * *base_mode says so. 0 on success, -1 when there is nothing to compare. */
int aggregate__ratio(const struct agg_set *s, const struct agg_group *g, const char *baseline,
                     double *ratio, double *lo, double *hi, const char **base_mode);

/* The aggregates[] array: one entry per configuration and metric, with
 * summary statistics, outlier repetitions and (for the time metrics) the
 * ratio to the baseline with its interval. */
json_t *aggregate__compute(const struct agg_set *s, const char *baseline);

#endif
