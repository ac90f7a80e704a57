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
#include "vtbench/event_cdf.h"
#include "vtbench/export.h"
#include "vtbench/findings.h"

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
  size_t n = export__compare(&sa, &sb, &rows);
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
  /* time, overhead, exits, exit latency, walk references, TLB misses */
  ck_assert_uint_eq(json_array_size(plots), 6);
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
  json_t *fs = findings__compute(&s, NULL, NULL);
  int found = 0;
  size_t i;
  json_t *v;
  json_array_foreach(fs, i, v) {
    const char *t = json_string_value(v);
    if (strstr(t, "gups") && strstr(t, "ept/vpid/poll/poll costs 1.80x") &&
        strstr(t, "page-walk memory references"))
      found = 1;
  }
  ck_assert_msg(found, "no finding names the gups ept cost and its cause");
  json_decref(fs);
  json_decref(plots);
  char cmd[300];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
  aggregate__free(&s);
  json_decref(doc);
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
  /* An interval holding 1 is "no measurable difference", not a cost; the
   * NMI delivery latency of each mode is stated with units. */
  json_t *doc = load(FIX "kvm_host_a.json");
  struct agg_set s;
  aggregate__group(doc, &s);
  json_t *fs = findings__compute(&s, NULL, NULL);
  int nodiff = 0, nmi = 0;
  size_t i;
  json_t *v;
  json_array_foreach(fs, i, v) {
    const char *t = json_string_value(v);
    if (strstr(t, "compute") && strstr(t, "no measurable difference")) nodiff = 1;
    if (strstr(t, "nmistorm") && strstr(t, "nmi delivery latency") && strstr(t, " us p50")) nmi = 1;
  }
  ck_assert_msg(nodiff, "compute's window/poll ratio [0.98, 1.04] was not called no difference");
  ck_assert_msg(nmi, "no NMI delivery latency finding");
  json_decref(fs);
  aggregate__free(&s);
  json_decref(doc);
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
  tcase_add_test(tc, test_event_cdf);
  tcase_add_test(tc, test_findings_wording);
  suite_add_tcase(s, tc);
  return s;
}
