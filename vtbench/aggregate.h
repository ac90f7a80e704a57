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

#include "run_ids.h"

/* The samples of one metric in one group, in the order the runs came. */
struct agg_samples {
  double *v;
  unsigned *rep; /* the runs' repetition numbers */
  size_t n, cap;
};

/* Runs of a configuration whose `events` the latency CDFs keep (they pool
 * at most 4096 points: event_cdf.c). */
#define AGG_EVENT_RUNS_MAX 4096

struct agg_group {
  char key[256];
  char backend[16], workload[32], mode[64]; /* mode: "paging/tlb/nmi/irq" */
  char label[96];                           /* workload plus params, short */
  json_t *params;                           /* the first run's (a reference held) */
  json_t *modes;                            /* the same */
  size_t nruns, nok;
  json_t *metrics; /* {metric: index into samples}, in order of first appearance */
  struct agg_samples *samples;
  size_t nsamples, cap_samples;
  /* The ok runs as far as the per-run views need them: the first one's
   * `events`, `model.breakdown` and `model.profile`, and the `events` of the later ones
   * that have it (at most AGG_EVENT_RUNS_MAX), as objects {"events": ...,
   * "model": {"breakdown": ...}}. */
  json_t *runs;
  char *wkey; /* backend, workload and params: the groups that can be baselines of each other */
};

/* A document's runs grouped by configuration. Built run by run (a
 * document streamed through doc_stream.h never has all its runs in
 * memory): what is kept per run is its metrics' values. */
struct agg_set {
  struct agg_group *g;
  size_t n, cap;
  size_t nruns, nok;   /* runs added in all, those with status "ok" */
  json_t *index;       /* key -> group index */
  json_t *classes;     /* wkey -> [group index...]: the same workload in other modes */
  struct run_ids *ids; /* (key, repetition) of the runs added */
  char error[512];     /* why aggregate__add_run refused a run */
};

/* An empty set. 0, or -1 out of memory. */
int aggregate__init(struct agg_set *s);
/* Add runs[index] of a document (borrowed). 0; -1 when its (configuration,
 * repetition) is in the set already, a duplicate, (s->error names both
 * runs) or out of memory: the run is not added. */
int aggregate__add_run(struct agg_set *s, const json_t *run, size_t index);
/* Group the runs of `doc` (array order of first appearance): init, then
 * every run. -1 at the first duplicate (s->error); the set then holds the
 * runs before it. */
int aggregate__group(const json_t *doc, struct agg_set *out);
void aggregate__free(struct agg_set *s);
/* Read the document at `path` into a new set without holding its runs
 * (doc_stream.h): *envelope (new) gets everything else (schema, context,
 * session; "runs" empty). 0; AGG_LOAD_BAD when the file cannot be read or
 * is not a result document; AGG_LOAD_DUPLICATE when it holds a run twice.
 * The message, naming the file, in err. */
#define AGG_LOAD_BAD       (-1)
#define AGG_LOAD_DUPLICATE (-2)
int aggregate__load(const char *path, struct agg_set *s, json_t **envelope, char *err, size_t len);
/* The same, with observe(run, ctx) called for every run as it is read (for
 * what needs runs beyond their metrics, e.g. the report's exits by reason). */
int aggregate__load_observed(const char *path, struct agg_set *s, json_t **envelope,
                             void (*observe)(const json_t *run, void *ctx), void *ctx, char *err,
                             size_t len);
/* Rebuild the key -> group index after s->g was reordered (report_order.h). */
void aggregate__reindex(struct agg_set *s);
/* Compute, in batches (bootstrap.h), every interval the aggregates, the
 * report and the CSVs of s ask for with this baseline: each metric's
 * median and each time metric's ratio to the baseline. Optional: they are
 * computed one by one when asked otherwise. */
void aggregate__prepare(const struct agg_set *s, const char *baseline);

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
