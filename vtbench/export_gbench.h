/* export_gbench.h - results as Google Benchmark JSON (the file
 * `--benchmark_out_format=json` writes), so Google Benchmark's compare.py
 * and dashboards built on that format read vtbench's results. */
#ifndef VTBENCH_EXPORT_GBENCH_H
#define VTBENCH_EXPORT_GBENCH_H

#include <jansson.h>

#include "aggregate.h"

/* {context, benchmarks[]}: one "iteration" entry per ok run and the
 * mean/median/stddev/cv aggregates per configuration; the name is
 * "WORKLOAD PARAMS/BACKEND/MODE", real_time and cpu_time are the time per
 * guest iteration in ns (modeled time on the model, wall time on kvm).
 * New reference. */
json_t *export_gbench__doc(const struct agg_set *s, const json_t *doc);

#endif
