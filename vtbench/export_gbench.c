/* export_gbench.c - Google Benchmark JSON (export_gbench.h). */
#include "export_gbench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static json_t *context_of(const json_t *doc) {
  const json_t *c = json_object_get(doc, "context");
  const json_t *v;
  json_t *out = json_object();
  if ((v = json_object_get(c, "date"))) json_object_set(out, "date", (json_t *)v);
  if ((v = json_object_get(c, "host"))) json_object_set(out, "host_name", (json_t *)v);
  json_object_set_new(out, "executable", json_string("vtbench"));
  if ((v = json_object_get(c, "num_cpus"))) json_object_set(out, "num_cpus", (json_t *)v);
  v = json_object_get(c, "tsc_hz");
  if (json_is_number(v))
    json_object_set_new(out, "mhz_per_cpu", json_integer((json_int_t)(json_number_value(v) / 1e6)));
  json_object_set_new(out, "cpu_scaling_enabled", json_false());
  json_object_set_new(out, "caches", json_array());
  json_object_set_new(out, "library_build_type", json_string("release"));
  const json_t *tool = json_object_get(c, "tool");
  if ((v = json_object_get(tool, "version"))) json_object_set(out, "vtbench_version", (json_t *)v);
  if ((v = json_object_get(json_object_get(c, "kvm"), "flavour")))
    json_object_set(out, "kvm_flavour", (json_t *)v);
  return out;
}

static json_t *entry(const char *name, size_t family, const char *run_type, double t,
                     double iters) {
  return json_pack("{s:s,s:I,s:I,s:s,s:s,s:i,s:f,s:f,s:f,s:s}", "name", name, "family_index",
                   (json_int_t)family, "per_family_instance_index", (json_int_t)0, "run_name", name,
                   "run_type", run_type, "threads", 1, "iterations", iters, "real_time", t,
                   "cpu_time", t, "time_unit", "ns");
}

json_t *export_gbench__doc(const struct agg_set *s, const json_t *doc) {
  json_t *bm = json_array();
  for (size_t i = 0; i < s->n; i++) {
    const struct agg_group *g = &s->g[i];
    const char *metric = agg_group__time_metric(g);
    double *v, *it;
    unsigned *reps;
    size_t n = agg_group__values(g, metric, &v, &reps);
    size_t ni = agg_group__values(g, "iterations", &it, NULL);
    if (!n) {
      free(v), free(it), free(reps);
      continue;
    }
    char name[256];
    snprintf(name, sizeof(name), "%s/%s/%s", g->label, g->backend, g->mode);
    for (size_t k = 0; k < n; k++) {
      json_t *e = entry(name, i, "iteration", v[k], ni == n ? it[k] : 1);
      json_object_set_new(e, "repetitions", json_integer((json_int_t)n));
      json_object_set_new(e, "repetition_index", json_integer((json_int_t)k));
      json_object_set_new(e, "vtbench_repetition", json_integer(reps[k]));
      json_array_append_new(bm, e);
    }
    struct stats_summary sm;
    if (!stats__summarize(v, n, &sm)) {
      static const char *const agg[] = {"mean", "median", "stddev", "cv"};
      double val[] = {sm.mean, sm.median, sm.stddev, sm.cv};
      for (int a = 0; a < 4; a++) {
        char an[300];
        snprintf(an, sizeof(an), "%s_%s", name, agg[a]);
        json_t *e = entry(an, i, "aggregate", val[a], (double)n);
        json_object_set_new(e, "run_name", json_string(name));
        json_object_set_new(e, "repetitions", json_integer((json_int_t)n));
        json_object_set_new(e, "aggregate_name", json_string(agg[a]));
        if (a == 3) json_object_set_new(e, "aggregate_unit", json_string("percentage"));
        json_array_append_new(bm, e);
      }
    }
    free(v), free(it), free(reps);
  }
  return json_pack("{s:o,s:o}", "context", context_of(doc), "benchmarks", bm);
}
