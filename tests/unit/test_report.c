/* test_report.c - grouping, aggregates, baselines, comparison and CSV
 * export on the committed fixture documents (tests/fixtures/results). The
 * plots and HTML themselves are checked by tests/scripts/report_smoke.sh. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results/result_doc.h"
#include "vtbench/aggregate.h"
#include "vtbench/commands.h"
#include "vtbench/compare.h"
#include "vtbench/event_cdf.h"
#include "vtbench/export.h"
#include "vtbench/findings.h"
#include "vtbench/savings.h"

#define FIX "tests/fixtures/results/"

static json_t *load(const char *path) {
  char err[512];
  json_t *doc = result_doc__read(path, err, sizeof(err));
  ck_assert_msg(doc != NULL, "%s (run the tests from the repository root)", err);
  return doc;
}

static const struct agg_group *find(const struct agg_set *s, const char *workload,
                                    const char *mode) {
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->g[i].workload, workload) && !strcmp(s->g[i].mode, mode)) return &s->g[i];
  ck_abort_msg("no group %s %s", workload, mode);
  return NULL;
}

START_TEST(test_grouping) {
  json_t *doc = load(FIX "kvm_host_a.json");
  struct agg_set s;
  ck_assert_int_eq(aggregate__group(doc, &s), 0);
  ck_assert_uint_eq(s.n, 8); /* 4 workloads x 2 modes */
  for (size_t i = 0; i < s.n; i++) {
    ck_assert_uint_eq(s.g[i].nruns, 5);
    ck_assert_uint_eq(s.g[i].nok, 5);
    ck_assert_str_eq(s.g[i].backend, "kvm");
  }
  const struct agg_group *pio = find(&s, "pio", "shadow/flush/poll/poll");
  ck_assert_str_eq(pio->label, "pio n=1000");
  double *v;
  size_t n = agg_group__values(pio, "exits.IO.count", &v, NULL);
  ck_assert_uint_eq(n, 5);
  ck_assert_double_eq(v[0], 1000);
  free(v);
  ck_assert_str_eq(agg_group__time_metric(pio), "ns_per_iter");
  aggregate__free(&s);
  json_decref(doc);
}
END_TEST

START_TEST(test_baselines) {
  json_t *doc = load(FIX "model.json");
  struct agg_set s;
  aggregate__group(doc, &s);
  const struct agg_group *ept = find(&s, "gups", "ept/vpid/poll/poll");
  const struct agg_group *native = find(&s, "gups", "native/flush/poll/poll");
  ck_assert_ptr_eq(aggregate__baseline(&s, ept, NULL), native);
  ck_assert_ptr_eq(aggregate__baseline(&s, native, NULL), NULL); /* its own baseline */
  const struct agg_group *shadow = find(&s, "gups", "shadow/flush/poll/poll");
  ck_assert_ptr_eq(aggregate__baseline(&s, ept, "shadow/flush/poll/poll"), shadow);
  /* A baseline of another workload is never chosen. */
  ck_assert_ptr_ne(aggregate__baseline(&s, ept, NULL), find(&s, "pio", "native/flush/poll/poll"));
  aggregate__free(&s);
  json_decref(doc);

  doc = load(FIX "kvm_host_a.json"); /* no native on kvm: the least-featured mode */
  aggregate__group(doc, &s);
  const struct agg_group *win = find(&s, "nmistorm", "shadow/flush/window/window");
  ck_assert_ptr_eq(aggregate__baseline(&s, win, NULL),
                   find(&s, "nmistorm", "shadow/flush/poll/poll"));
  aggregate__free(&s);
  json_decref(doc);
}
END_TEST

static const json_t *agg_entry(const json_t *aggs, const char *workload, const char *mode,
                               const char *metric) {
  size_t i;
  json_t *e;
  json_array_foreach(aggs, i, e) {
    if (!strcmp(json_string_value(json_object_get(e, "workload")), workload) &&
        !strcmp(json_string_value(json_object_get(e, "mode")), mode) &&
        !strcmp(json_string_value(json_object_get(e, "metric")), metric))
      return e;
  }
  ck_abort_msg("no aggregate %s %s %s", workload, mode, metric);
  return NULL;
}

START_TEST(test_aggregates) {
  json_t *doc = load(FIX "model.json");
  struct agg_set s;
  aggregate__group(doc, &s);
  json_t *aggs = aggregate__compute(&s, NULL);
  /* The fixture's model time is cycles / 2.45 GHz with gups ept at 1.8x
   * the native cycles, no noise: ratio 1.8 with a zero-width interval. */
  const json_t *e = agg_entry(aggs, "gups", "ept/vpid/poll/poll", "wall_ns");
  const json_t *r = json_object_get(e, "ratio_to_baseline");
  ck_assert_ptr_nonnull(r);
  ck_assert_str_eq(json_string_value(json_object_get(r, "baseline")), "native/flush/poll/poll");
  ck_assert_double_eq_tol(json_real_value(json_object_get(r, "ratio")), 1.8, 1e-6);
  ck_assert_double_eq_tol(json_real_value(json_array_get(json_object_get(r, "ci95"), 0)), 1.8,
                          1e-6);
  ck_assert_int_eq(json_integer_value(json_object_get(e, "n")), 3);
  /* Model counters are metrics too. */
  e = agg_entry(aggs, "gups", "ept/vpid/poll/poll", "model.walk_refs");
  ck_assert_double_gt(json_real_value(json_object_get(e, "median")), 0);
  json_decref(aggs);
  aggregate__free(&s);
  json_decref(doc);

  /* kvm_host_a plants a 1.6x repetition 3 in pio shadow/flush/poll/poll. */
  doc = load(FIX "kvm_host_a.json");
  aggregate__group(doc, &s);
  aggs = aggregate__compute(&s, NULL);
  e = agg_entry(aggs, "pio", "shadow/flush/poll/poll", "wall_ns");
  const json_t *out = json_object_get(e, "outlier_repetitions");
  ck_assert_uint_eq(json_array_size(out), 1);
  ck_assert_int_eq(json_integer_value(json_array_get(out, 0)), 3);
  e = agg_entry(aggs, "pio", "shadow/flush/window/window", "wall_ns");
  ck_assert_uint_eq(json_array_size(json_object_get(e, "outlier_repetitions")), 0);
  json_decref(aggs);
  aggregate__free(&s);
  json_decref(doc);
}
END_TEST

START_TEST(test_compare) {
  json_t *a = load(FIX "kvm_host_a.json"), *b = load(FIX "kvm_host_b.json");
  struct agg_set sa, sb;
  aggregate__group(a, &sa);
  aggregate__group(b, &sb);
  struct compare_row *rows;
  size_t n = compare__rows(&sa, &sb, &rows);
  ck_assert_uint_eq(n, 8);
  size_t sig = 0;
  for (size_t i = 0; i < n; i++) {
    /* Host b is 12% slower. Where the samples separate completely the
     * exact two-sided p for 5 vs 5 is 2 / C(10,5) = 0.0079365. */
    ck_assert_double_gt(rows[i].ratio, 1.05);
    ck_assert_double_lt(rows[i].ratio, 1.2);
    if (rows[i].significant) {
      sig++;
      ck_assert_double_eq_tol(rows[i].p, 2.0 / 252, 1e-9);
    }
  }
  /* The planted outlier makes pio poll overlap: 7 of 8 significant. */
  ck_assert_uint_eq(sig, 7);
  free(rows);
  aggregate__free(&sa);
  aggregate__free(&sb);
  json_decref(a);
  json_decref(b);
}
END_TEST

START_TEST(test_export_and_findings) {
  json_t *doc = load(FIX "model.json");
  struct agg_set s;
  aggregate__group(doc, &s);
  char dir[] = "/tmp/vtb_export_XXXXXX", err[256], path[256], line[512];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  json_t *plots = export__csv(&s, NULL, dir, NULL, err, sizeof(err));
  ck_assert_msg(plots != NULL, "%s", err);
  /* savings (EPT, VPID under shadow), time, overhead, exits, exit latency,
   * walk references, TLB misses */
  ck_assert_uint_eq(json_array_size(plots), 8);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(plots, 0), "out")),
                   "savings_ept");
  snprintf(path, sizeof(path), "%s/time_model.csv", dir);
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
  ck_assert_msg(!strncmp(line, "workload,native/flush/poll/poll,native/flush/poll/poll_lo,", 58),
                "header: %s", line);
  int rows = 0;
  while (fgets(line, sizeof(line), f))
    rows++;
  fclose(f);
  ck_assert_int_eq(rows, 3); /* pio, gups, compute */
  struct saving_row *sv;
  size_t nsv = savings__compute(&s, NULL, &sv);
  json_t *fs = findings__compute(&s, NULL, NULL, sv, nsv);
  int found = 0;
  size_t i;
  json_t *v;
  json_array_foreach(fs, i, v) {
    const char *t = json_string_value(v);
    /* gups: ept/vpid 1.80x native, shadow/vpid 1.22x: EPT costs 1.8 / 1.22 */
    if (strstr(t, "gups") && strstr(t, "EPT vs shadow costs +48% (1.48x), exact") &&
        strstr(t, "walk refs per TLB miss 4 -> 24"))
      found = 1;
  }
  ck_assert_msg(found, "no finding names the gups EPT cost and its cause");
  json_decref(fs);
  free(sv);
  json_decref(plots);
  char cmd[300];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
  aggregate__free(&s);
  json_decref(doc);
}
END_TEST

/* With 3 runs a side, no Mann-Whitney p can go below 0.1: a kvm pair then
 * says it has too few runs to tell instead of "no measurable difference";
 * with all five it can reach a verdict. */
START_TEST(test_too_few_runs) {
  for (int keep = 3; keep <= 5; keep += 2) {
    json_t *doc = load(FIX "kvm_host_a.json");
    json_t *runs = json_object_get(doc, "runs");
    for (size_t i = json_array_size(runs); i-- > 0;) {
      json_t *v = json_array_get(runs, i), *m = json_object_get(v, "modes");
      if (json_integer_value(json_object_get(v, "repetition")) >= keep) {
        json_array_remove(runs, i);
        continue;
      }
      if (!strcmp(json_string_value(json_object_get(m, "irq")), "window"))
        json_object_set_new(m, "irq", json_string("poll"));
      json_object_del(v, "config");
    }
    struct agg_set s;
    aggregate__group(doc, &s);
    struct saving_row *sv;
    size_t nsv = savings__compute(&s, json_object_get(doc, "context"), &sv);
    int few = 0, measured = 0;
    for (size_t r = 0; r < nsv; r++)
      for (int a = 0; a < ASSIST_COUNT; a++) {
        const struct saving_cell *c = &sv[r].cell[a];
        if (c->status != SAVING_MEASURED || c->exact) continue;
        measured++;
        few += !strncmp(c->verdict_text, "too few runs to tell (3 vs 3; ", 30);
      }
    ck_assert_int_gt(measured, 0);
    ck_assert_msg(few == (keep == 3 ? measured : 0), "keep %d: %d of %d cells too few", keep, few,
                  measured);
    free(sv);
    aggregate__free(&s);
    json_decref(doc);
  }
}
END_TEST

START_TEST(test_run_key) {
  /* Params given as strings (refvmm) and as numbers (matrix) are the same
   * configuration; an explicit `config` wins. */
  json_t *a = json_pack("{s:s,s:s,s:{s:s},s:{s:s,s:s,s:s,s:s}}", "backend", "kvm", "workload",
                        "pio", "params", "n", "1000", "modes", "paging", "shadow", "tlb", "flush",
                        "nmi", "poll", "irq", "poll");
  json_t *b = json_deep_copy(a);
  json_object_set_new(json_object_get(b, "params"), "n", json_integer(1000));
  char ka[256], kb[256];
  aggregate__run_key(a, ka, sizeof(ka));
  aggregate__run_key(b, kb, sizeof(kb));
  ck_assert_str_eq(ka, kb);
  ck_assert_str_eq(ka, "kvm pio {\"n\":1000} shadow/flush/poll/poll");
  json_object_set_new(b, "config", json_string("explicit"));
  aggregate__run_key(b, kb, sizeof(kb));
  ck_assert_str_eq(kb, "explicit");
  json_decref(a);
  json_decref(b);
}
END_TEST

/* Reads the CDF CSV: blocks, points per block; checks every block is
 * ascending in x, non-decreasing in y, within [0, 1] and ends at `last`. */
static int cdf_blocks(const char *path, double last, int *points) {
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  char line[512];
  int blocks = 0;
  double px = -1, py = -1;
  *points = 0;
  while (fgets(line, sizeof(line), f)) {
    double x, y;
    if (strstr(line, ",fraction")) {
      if (blocks) ck_assert_double_eq_tol(py, last, 1e-9);
      blocks++;
      px = py = -1;
    } else if (sscanf(line, "%lf,%lf", &x, &y) == 2) {
      ck_assert_msg(x > px && y >= py && y >= 0 && y <= 1, "not a CDF at %s", line);
      px = x, py = y;
      (*points)++;
    }
  }
  fclose(f);
  if (blocks) ck_assert_double_eq_tol(py, last, 1e-9);
  return blocks;
}

START_TEST(test_event_cdf) {
  json_t *doc = load(FIX "kvm_host_a.json");
  struct agg_set s;
  aggregate__group(doc, &s);
  char kinds[4][16], dir[] = "/tmp/vtb_cdf_XXXXXX", path[256];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  ck_assert_uint_eq(event_cdf__kinds(&s, "kvm", kinds, 4), 1);
  ck_assert_str_eq(kinds[0], "nmi");
  ck_assert_uint_eq(event_cdf__kinds(&s, "model", kinds, 4), 0);
  /* Histograms pooled over 5 repetitions: poll and window, each a CDF. */
  snprintf(path, sizeof(path), "%s/nmi.csv", dir);
  int coarse, points;
  ck_assert_int_eq(event_cdf__write(&s, "kvm", "nmi", path, &coarse), 2);
  ck_assert_int_eq(coarse, 0);
  ck_assert_int_eq(cdf_blocks(path, 1.0, &points), 2);
  ck_assert_int_gt(points, 8);
  /* The p50/p99 of the delivery section became metrics (aggregates). */
  double *v;
  size_t n = 0;
  for (size_t i = 0; i < s.n && !n; i++)
    if (!strcmp(s.g[i].workload, "nmistorm"))
      n = agg_group__values(&s.g[i], "events.nmi.latency_ns.p50", &v, NULL);
  ck_assert_uint_eq(n, 5);
  free(v);
  aggregate__free(&s);
  /* Without histograms: the four quantiles, marked coarse. */
  size_t i;
  json_t *run;
  json_array_foreach(json_object_get(doc, "runs"), i, run)
      json_object_del(json_object_get(json_object_get(run, "events"), "nmi"), "hist");
  aggregate__group(doc, &s);
  ck_assert_int_eq(event_cdf__write(&s, "kvm", "nmi", path, &coarse), 2);
  ck_assert_int_eq(coarse, 1);
  ck_assert_int_eq(cdf_blocks(path, 1.0, &points), 2);
  ck_assert_int_eq(points, 8);
  aggregate__free(&s);
  /* Without the section: no kinds, no file. */
  json_array_foreach(json_object_get(doc, "runs"), i, run) json_object_del(run, "events");
  aggregate__group(doc, &s);
  ck_assert_uint_eq(event_cdf__kinds(&s, "kvm", kinds, 4), 0);
  snprintf(path, sizeof(path), "%s/none.csv", dir);
  ck_assert_int_eq(event_cdf__write(&s, "kvm", "nmi", path, &coarse), 0);
  ck_assert_int_ne(access(path, F_OK), 0);
  aggregate__free(&s);
  char cmd[300];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
  json_decref(doc);
}
END_TEST

START_TEST(test_findings_wording) {
  /* kvm_host_a switches NMI and IRQ together; relabelled window/poll, its
   * runs become one-factor NMI pairs. An interval holding 1 (compute,
   * [0.98, 1.04]) is "no measurable difference", collapsed into one line;
   * nmistorm's saving names the delivery latency with units. */
  json_t *doc = load(FIX "kvm_host_a.json");
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(doc, "runs"), i, v) {
    json_t *m = json_object_get(v, "modes");
    if (!strcmp(json_string_value(json_object_get(m, "irq")), "window"))
      json_object_set_new(m, "irq", json_string("poll"));
    json_object_del(v, "config");
  }
  struct agg_set s;
  aggregate__group(doc, &s);
  struct saving_row *sv;
  size_t nsv = savings__compute(&s, json_object_get(doc, "context"), &sv);
  json_t *fs = findings__compute(&s, NULL, NULL, sv, nsv);
  int nodiff = 0, nmi = 0;
  json_array_foreach(fs, i, v) {
    const char *t = json_string_value(v);
    if (!strncmp(t, "no measurable difference", 24) && strstr(t, "compute n=1000000 (kvm) NMI"))
      nodiff++;
    if (!strncmp(t, "nmistorm", 8) && strstr(t, "NMI window vs poll") &&
        strstr(t, "NMI latency p50") && strstr(t, " us"))
      nmi = 1;
    ck_assert_msg(strncmp(t, "compute", 7), "compute has a line of its own: %s", t);
  }
  ck_assert_msg(nodiff == 1,
                "compute's window/poll ratio [0.98, 1.04] was not called no difference");
  ck_assert_msg(nmi, "no NMI delivery latency in nmistorm's saving");
  json_decref(fs);
  free(sv);
  aggregate__free(&s);
  json_decref(doc);
}
END_TEST

/* ---- model runs: modeled time, the breakdown, the model's plots ---- */

/* The runs of model_quick.json (real `vtbench run` output on the model)
 * matching workload and paging/tlb; NULL-terminated into out[max]. */
static size_t runs_of(const json_t *doc, const char *workload, const char *paging, const char *tlb,
                      const json_t **out, size_t max) {
  size_t n = 0, i;
  json_t *r;
  json_array_foreach(json_object_get(doc, "runs"), i, r) {
    const json_t *m = json_object_get(r, "modes");
    if (n < max && !strcmp(json_string_value(json_object_get(r, "workload")), workload) &&
        !strcmp(json_string_value(json_object_get(m, "paging")), paging) &&
        !strcmp(json_string_value(json_object_get(m, "tlb")), tlb))
      out[n++] = r;
  }
  ck_assert_msg(n > 0, "model_quick.json has no %s %s/%s runs", workload, paging, tlb);
  return n;
}

static double jnum(const json_t *v, const char *path) {
  char p[160];
  snprintf(p, sizeof(p), "%s", path);
  for (char *save = NULL, *t = strtok_r(p, ".", &save); t; t = strtok_r(NULL, ".", &save))
    v = json_object_get(v, t);
  ck_assert_msg(json_is_number(v), "no number at %s", path);
  return json_number_value(v);
}

START_TEST(test_model_modeled_time) {
  /* Model groups are timed in modeled ns per iteration (the runs' own
   * model.modeled_ns / guest.iterations), never the interpreter's wall
   * time, and their overhead is the ratio of modeled times to native. */
  json_t *doc = load(FIX "model_quick.json");
  struct agg_set s;
  aggregate__group(doc, &s);
  const struct agg_group *ept = find(&s, "gups", "ept/vpid/poll/poll");
  ck_assert_str_eq(agg_group__time_metric(ept), "modeled_ns_per_iter");
  ck_assert_str_eq(aggregate__time_clock(agg_group__time_metric(ept)), "modeled");
  const json_t *r[8], *nr[8];
  size_t n = runs_of(doc, "gups", "ept", "vpid", r, 8);
  runs_of(doc, "gups", "native", "flush", nr, 8);
  double *v;
  ck_assert_uint_eq(agg_group__values(ept, "modeled_ns_per_iter", &v, NULL), n);
  double want = jnum(r[0], "model.modeled_ns") / jnum(r[0], "guest.iterations");
  ck_assert_double_eq_tol(v[0], want, 1e-9 * want);
  free(v);
  double ratio, lo, hi;
  const char *bm;
  ck_assert_int_eq(aggregate__ratio(&s, ept, NULL, &ratio, &lo, &hi, &bm), 0);
  ck_assert_str_eq(bm, "native/flush/poll/poll");
  double modeled = jnum(r[0], "model.modeled_ns") / jnum(nr[0], "model.modeled_ns");
  double wall = jnum(r[0], "timed.wall_ns") / jnum(nr[0], "timed.wall_ns");
  ck_assert_double_eq_tol(ratio, modeled, 1e-6);
  /* refvmm's own account of the same overhead agrees */
  ck_assert_double_eq_tol(ratio, jnum(r[0], "model.overhead_vs_native.ratio"), 1e-3);
  ck_assert_msg(fabs(wall - modeled) > 1e-3, "fixture cannot tell wall from modeled time");
  /* aggregates[] carry the same ratio on the modeled metric */
  json_t *aggs = aggregate__compute(&s, NULL);
  const json_t *e = agg_entry(aggs, "gups", "ept/vpid/poll/poll", "modeled_ns_per_iter");
  ck_assert_double_eq_tol(
      json_real_value(json_object_get(json_object_get(e, "ratio_to_baseline"), "ratio")), modeled,
      1e-6);
  json_decref(aggs);
  /* Without a native group (nmistorm ran only in shadow modes) the runs'
   * in-run native baseline gives the overhead, and says so. */
  const struct agg_group *nmi = find(&s, "nmistorm", "shadow/flush/window/window");
  ck_assert_int_eq(aggregate__ratio(&s, nmi, NULL, &ratio, &lo, &hi, &bm), 0);
  ck_assert_ptr_nonnull(strstr(bm, "baseline run"));
  ck_assert_uint_eq(agg_group__values(nmi, "model.overhead_vs_native.ratio", &v, NULL), nmi->nok);
  ck_assert_double_eq_tol(ratio, v[0], 1e-9); /* the model is deterministic: all equal */
  free(v);
  aggregate__free(&s);
  json_decref(doc);

  /* KVM groups keep wall time. */
  doc = load(FIX "kvm_host_a.json");
  aggregate__group(doc, &s);
  ck_assert_str_eq(aggregate__time_clock(agg_group__time_metric(&s.g[0])), "wall");
  aggregate__free(&s);
  json_decref(doc);
}
END_TEST

START_TEST(test_model_findings_cause) {
  /* The EPT finding for gups gives the ratio of the fixture's modeled times
   * (ept/vpid over shadow/vpid, computed here, not assumed) and the walk
   * references per TLB miss; cr3switch's saving is traced to its exits. */
  json_t *doc = load(FIX "model_quick.json");
  struct agg_set s;
  aggregate__group(doc, &s);
  const json_t *r[8];
  runs_of(doc, "gups", "ept", "vpid", r, 8);
  /* EPT vs shadow for gups: the ratio of the fixture's modeled times */
  const json_t *sh[8];
  runs_of(doc, "gups", "shadow", "vpid", sh, 8);
  char cost[64];
  double ratio = jnum(r[0], "model.modeled_ns") / jnum(sh[0], "model.modeled_ns");
  snprintf(cost, sizeof(cost), "EPT vs shadow costs %.3gx, exact", ratio);
  struct saving_row *sv;
  size_t nsv = savings__compute(&s, NULL, &sv);
  json_t *fs = findings__compute(&s, NULL, NULL, sv, nsv);
  int found = 0, exits = 0;
  size_t i;
  json_t *v;
  json_array_foreach(fs, i, v) {
    const char *t = json_string_value(v);
    if (!strncmp(t, "gups", 4) && strstr(t, cost) && strstr(t, "walk refs per TLB miss")) found = 1;
    if (!strncmp(t, "cr3switch", 9) && strstr(t, "EPT vs shadow saves") &&
        strstr(t, "avoids 1 CR_ACCESS exits/iter"))
      exits = 1;
  }
  ck_assert_msg(found, "no finding '%s' with walk references", cost);
  ck_assert_msg(exits, "cr3switch's EPT saving was not traced to CR_ACCESS exits");
  json_decref(fs);
  free(sv);
  aggregate__free(&s);
  json_decref(doc);
}
END_TEST

static long png_size(const char *dir, const char *name) {
  char p[512];
  unsigned char sig[8];
  snprintf(p, sizeof(p), "%s/%s.png", dir, name);
  FILE *f = fopen(p, "rb");
  if (!f) return -1;
  size_t got = fread(sig, 1, 8, f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  return got == 8 && !memcmp(sig, "\x89PNG\r\n\x1a\n", 8) ? n : -1;
}

/* Every modeled time in the report names its profile, the host flavour it
 * describes and whether it was calibrated on the document's host. */
START_TEST(test_report_names_the_profile) {
  if (system("command -v gnuplot >/dev/null 2>&1")) {
    printf("test_report_names_the_profile: skipped: gnuplot not installed (make deps)\n");
    return;
  }
  char cwd[4096], plots[4200], dir[] = "/tmp/vtb_profile_report_XXXXXX", docp[300], out[300];
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
  snprintf(plots, sizeof(plots), "%s/plots", cwd);
  setenv("VTBENCH_PLOTS", plots, 1);
  ck_assert_ptr_nonnull(mkdtemp(dir));
  json_t *doc = load(FIX "model_quick.json");
  json_object_set_new(json_object_get(doc, "context"), "host", json_string("hostA"));
  size_t i;
  json_t *run;
  json_array_foreach(json_object_get(doc, "runs"), i, run) {
    const char *wl = json_string_value(json_object_get(run, "workload"));
    const char *on = !strcmp(wl, "pio") ? "hostA" : !strcmp(wl, "cr3switch") ? "hostB" : NULL;
    if (!on) continue;
    char name[64], mo[128];
    snprintf(name, sizeof name, "calibrated-%s", on);
    snprintf(mo, sizeof mo, "%s, kvm_pvm, 2026-12-07T00:00:00Z, vtbench calibrate", on);
    json_object_set_new(json_object_get(run, "model"), "profile",
                        json_pack("{s:s,s:s,s:s,s:f,s:s,s:s,s:s}", "name", name, "path", "p.json",
                                  "cpu", "x", "tsc_ghz", 2.0, "measured_on", mo, "host_flavour",
                                  "kvm_pvm", "measured_host", on));
  }
  snprintf(docp, sizeof(docp), "%s/doc.json", dir);
  ck_assert_int_eq(result_doc__write(doc, docp), 0);
  json_decref(doc);
  snprintf(out, sizeof(out), "%s/report", dir);
  char *argv[] = {"report", docp, "-o", out, NULL};
  FILE *saved = stdout;
  stdout = fopen("/dev/null", "w");
  int rc = cmd_report(4, argv);
  fclose(stdout);
  stdout = saved;
  ck_assert_int_eq(rc, 0);
  char path[512];
  snprintf(path, sizeof(path), "%s/summary.md", out);
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  static char md[1 << 20];
  size_t len = fread(md, 1, sizeof(md) - 1, f);
  md[len] = 0;
  fclose(f);
  static const char *const want[] = {"| pio n=1000 | shadow/flush/poll/poll | 3/3 | modeled: "
                                     "calibrated-hostA, kvm_pvm (calibrated here) |",
                                     "modeled: calibrated-hostB, kvm_pvm (calibrated on hostB) |",
                                     "modeled: intel-skylake-default (not calibrated) |"};
  for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
    ck_assert_msg(strstr(md, want[k]), "summary.md lacks '%s'", want[k]);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_model_report_plots) {
  /* `vtbench report` on the model fixture merged with a KVM one: the
   * breakdown, walk/TLB, model NMI CDF and model-vs-KVM plots are drawn,
   * and the page links only files that exist. */
  if (system("command -v gnuplot >/dev/null 2>&1")) {
    printf("test_model_report_plots: skipped: gnuplot not installed (make deps)\n");
    return;
  }
  char cwd[4096], plots[4200], dir[] = "/tmp/vtb_model_report_XXXXXX", docp[300], out[300];
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
  snprintf(plots, sizeof(plots), "%s/plots", cwd);
  setenv("VTBENCH_PLOTS", plots, 1);
  ck_assert_ptr_nonnull(mkdtemp(dir));
  json_t *doc = load(FIX "model_quick.json"), *kvm = load(FIX "kvm_host_a.json");
  json_array_extend(json_object_get(doc, "runs"), json_object_get(kvm, "runs"));
  snprintf(docp, sizeof(docp), "%s/both.json", dir);
  ck_assert_int_eq(result_doc__write(doc, docp), 0);
  snprintf(out, sizeof(out), "%s/report", dir);
  char *argv[] = {"report", docp, "-o", out, NULL};
  FILE *saved = stdout;
  stdout = fopen("/dev/null", "w");
  int rc = cmd_report(4, argv);
  fclose(stdout);
  stdout = saved;
  ck_assert_int_eq(rc, 0);
  static const char *const want[] = {"breakdown_model",        "model_walk_refs_model",
                                     "model_tlb_misses_model", "events_nmi_model",
                                     "model_vs_kvm",           "time_model"};
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
    ck_assert_msg(png_size(out, want[i]) > 10000, "%s/%s.png missing, not a PNG or blank", out,
                  want[i]);
  /* The breakdown CSV holds the fixture's walk share for gups ept. */
  const json_t *r[8];
  runs_of(doc, "gups", "ept", "vpid", r, 8);
  char path[512], line[1024];
  snprintf(path, sizeof(path), "%s/breakdown_model.csv", out);
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  int seen = 0, in_gups = 0;
  while (fgets(line, sizeof(line), f)) {
    double ex, walks;
    if (strstr(line, "(model),VM exits")) in_gups = !strncmp(line, "gups", 4); /* a block's head */
    if (!in_gups || strncmp(line, "ept/vpid/poll/poll,", 19)) continue;
    ck_assert_int_eq(sscanf(line + 19, "%lf,%lf", &ex, &walks), 2);
    ck_assert_double_eq_tol(walks,
                            jnum(r[0], "model.breakdown.walks") /
                                jnum(r[0], "model.overhead_vs_native.native_cycles"),
                            1e-4);
    seen = 1;
  }
  fclose(f);
  ck_assert_msg(seen, "no gups ept row in %s", path);
  /* Time plots say which clock they show. */
  json_t *pl;
  snprintf(path, sizeof(path), "%s/plots.json", out);
  json_error_t jerr;
  pl = json_load_file(path, 0, &jerr);
  ck_assert_msg(pl != NULL, "%s: %s", path, jerr.text);
  size_t i;
  json_t *e;
  int clocks = 0;
  json_array_foreach(pl, i, e) {
    const char *o = json_string_value(json_object_get(e, "out"));
    const char *yt = json_string_value(json_object_get(json_object_get(e, "vars"), "ytitle"));
    if (!strcmp(o, "time_model")) clocks += yt && !strncmp(yt, "modeled time", 12);
    if (!strcmp(o, "time_kvm")) clocks += yt && !strncmp(yt, "wall time", 9);
  }
  ck_assert_int_eq(clocks, 2);
  json_decref(pl);
  /* Every src/href of the page names an existing file or anchor. */
  snprintf(path, sizeof(path), "%s/index.html", out);
  f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  static char html[1 << 20];
  size_t len = fread(html, 1, sizeof(html) - 1, f);
  html[len] = 0;
  fclose(f);
  int refs = 0;
  for (char *p = html; (p = strstr(p, "=\"")); p += 2) {
    if (strncmp(p - 3, "src", 3) && strncmp(p - 4, "href", 4)) continue;
    char ref[300];
    size_t k = 0;
    for (const char *q = p + 2; *q && *q != '"' && k + 1 < sizeof(ref); q++)
      ref[k++] = *q;
    ref[k] = 0;
    ck_assert_msg(!strstr(ref, "://"), "index.html references a remote %s", ref);
    if (ref[0] == '#') {
      char id[320];
      snprintf(id, sizeof(id), "id=\"%s\"", ref + 1);
      ck_assert_msg(strstr(html, id), "index.html: no anchor %s", ref);
    } else {
      char fp[700];
      snprintf(fp, sizeof(fp), "%s/%s", out, ref);
      ck_assert_msg(access(fp, F_OK) == 0, "index.html references missing %s", ref);
    }
    refs++;
  }
  ck_assert_int_gt(refs, 10);
  ck_assert_ptr_nonnull(strstr(html, "breakdown_model.svg"));
  ck_assert_ptr_nonnull(strstr(html, "modeled"));
  json_decref(kvm);
  json_decref(doc);
  snprintf(line, sizeof(line), "rm -rf %s", dir);
  ck_assert_int_eq(system(line), 0);
}
END_TEST

Suite *suite_report(void) {
  Suite *s = suite_create("report");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_grouping);
  tcase_add_test(tc, test_baselines);
  tcase_add_test(tc, test_aggregates);
  tcase_add_test(tc, test_compare);
  tcase_add_test(tc, test_export_and_findings);
  tcase_add_test(tc, test_run_key);
  tcase_add_test(tc, test_too_few_runs);
  tcase_add_test(tc, test_event_cdf);
  tcase_add_test(tc, test_findings_wording);
  tcase_add_test(tc, test_model_modeled_time);
  tcase_add_test(tc, test_model_findings_cause);
  tcase_add_test(tc, test_model_report_plots);
  tcase_add_test(tc, test_report_names_the_profile);
  suite_add_tcase(s, tc);
  return s;
}
