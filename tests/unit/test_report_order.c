/* test_report_order.c - the report's order, colours and savings pairs on
 * tests/fixtures/results/interleaved.json (kvm_host_a and model_quick merged,
 * runs shuffled): rows never follow the run order, every mode keeps its
 * colour, each savings cell compares two modes that differ in exactly the
 * assist's switch, and the findings say each (workload, assist) once. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/result_doc.h"
#include "vtbench/aggregate.h"
#include "vtbench/findings.h"
#include "vtbench/report_order.h"
#include "vtbench/savings.h"

#define FIXTURE "tests/fixtures/results/interleaved.json"

static json_t *load(void) {
  char err[512];
  json_t *doc = result_doc__read(FIXTURE, err, sizeof(err));
  ck_assert_msg(doc != NULL, "%s (run the tests from the repository root)", err);
  return doc;
}

/* The runs are shuffled: the groups come out in the fixture's order, which
 * report_order__sort must replace by catalog, backend, params, mode. */
START_TEST(test_sort_ignores_run_order) {
  json_t *doc = load();
  struct agg_set s;
  ck_assert_int_eq(aggregate__group(doc, &s), 0);
  ck_assert_uint_eq(s.n, 20);
  int unsorted = 0;
  for (size_t i = 1; i < s.n; i++)
    unsorted += report_order__cmp(&s.g[i - 1], &s.g[i]) > 0;
  ck_assert_msg(unsorted > 0, "the fixture is no longer interleaved");
  report_order__sort(&s);
  for (size_t i = 1; i < s.n; i++) {
    const struct agg_group *a = &s.g[i - 1], *b = &s.g[i];
    int wa = report_order__workload_rank(a->workload),
        wb = report_order__workload_rank(b->workload);
    ck_assert_msg(wa <= wb, "%s before %s", a->workload, b->workload);
    if (wa == wb && !strcmp(a->backend, b->backend) && !strcmp(a->label, b->label))
      ck_assert_msg(report_order__mode_rank(a->mode) < report_order__mode_rank(b->mode),
                    "%s: %s before %s", a->label, a->mode, b->mode);
    if (wa == wb) ck_assert_msg(strcmp(a->backend, b->backend) <= 0, "backend order");
  }
  /* the catalog puts pio before cpuid, cpuid before cr3switch, ... */
  ck_assert_str_eq(s.g[0].workload, "cpuid");
  ck_assert_str_eq(s.g[s.n - 1].workload, "nmistorm");
  aggregate__free(&s);
  json_decref(doc);
}
END_TEST

START_TEST(test_mode_rank_canonical) {
  static const char *const order[] = {"native/flush/poll/poll",     "shadow/flush/poll/poll",
                                      "shadow/flush/poll/window",   "shadow/flush/window/poll",
                                      "shadow/flush/window/window", "shadow/vpid/poll/poll",
                                      "ept/flush/poll/poll",        "ept/flush/window/window",
                                      "ept/vpid/poll/poll",         "ept/vpid/window/window"};
  for (size_t i = 1; i < sizeof(order) / sizeof(order[0]); i++)
    ck_assert_msg(report_order__mode_rank(order[i - 1]) < report_order__mode_rank(order[i]),
                  "%s !< %s", order[i - 1], order[i]);
  ck_assert_int_gt(report_order__mode_rank("bogus"), report_order__mode_rank(order[9]));
}
END_TEST

/* One colour per mode, fixed: the same value whatever was asked before,
 * distinct for the 20 modes, and the documented hues for poll/poll. */
START_TEST(test_colours_fixed) {
  static const char *const paging[] = {"native/flush", "shadow/flush", "shadow/vpid", "ept/flush",
                                       "ept/vpid"};
  static const char *const ev[] = {"poll/poll", "poll/window", "window/poll", "window/window"};
  char seen[20][8];
  int n = 0;
  for (int p = 4; p >= 0; p--) /* asked in reverse: the colour must not depend on it */
    for (int e = 3; e >= 0; e--) {
      char mode[64];
      snprintf(mode, sizeof(mode), "%s/%s", paging[p], ev[e]);
      const char *c = report_order__colour(mode);
      ck_assert_uint_eq(strlen(c), 7);
      for (int k = 0; k < n; k++)
        ck_assert_msg(strcmp(seen[k], c), "%s shares colour %s", mode, c);
      snprintf(seen[n++], sizeof(seen[0]), "%s", c);
    }
  ck_assert_str_eq(report_order__colour("native/flush/poll/poll"), "#666666");
  ck_assert_str_eq(report_order__colour("shadow/flush/poll/poll"), "#d95f02");
  ck_assert_str_eq(report_order__colour("ept/flush/poll/poll"), "#1b9e77");
  ck_assert_str_eq(report_order__colour("ept/vpid/poll/poll"), "#7570b3");
  ck_assert_str_eq(report_order__colour("shadow/flush/poll/poll"), "#d95f02");
}
END_TEST

/* Every measured savings cell compares modes differing in exactly the
 * assist's switch, in the right direction; the fixture's known pairs are
 * found and its NMI/IRQ pairs (switched together) are not. */
START_TEST(test_savings_pairs_one_factor) {
  json_t *doc = load();
  struct agg_set s;
  aggregate__group(doc, &s);
  report_order__sort(&s);
  struct saving_row *sv;
  size_t n = savings__compute(&s, json_object_get(doc, "context"), &sv);
  ck_assert_uint_eq(n, 8); /* 4 kvm + 4 model workloads */
  size_t measured = 0;
  for (size_t r = 0; r < n; r++)
    for (int a = 0; a < ASSIST_COUNT; a++) {
      const struct saving_cell *c = &sv[r].cell[a];
      if (c->status != SAVING_MEASURED) continue;
      measured++;
      struct mode_axes off, on;
      ck_assert_int_eq(report_order__parse(c->off->mode, &off), 0);
      ck_assert_int_eq(report_order__parse(c->on->mode, &on), 0);
      int differ = 0;
      for (int ax = 0; ax < MODE_AXES; ax++)
        if (report_order__axis(&off, ax) != report_order__axis(&on, ax)) {
          differ++;
          ck_assert_int_eq(ax, savings_assists[a].axis);
        }
      ck_assert_msg(differ == 1, "%s vs %s", c->off->mode, c->on->mode);
      ck_assert_int_lt(report_order__axis(&off, savings_assists[a].axis),
                       report_order__axis(&on, savings_assists[a].axis));
      if (savings_assists[a].paging >= 0) ck_assert_int_eq(off.paging, savings_assists[a].paging);
      ck_assert_int_ne(off.paging, 0); /* native is no side of an assist */
      ck_assert_str_eq(c->off->label, c->on->label);
      ck_assert_str_eq(c->off->backend, c->on->backend);
      /* the model is deterministic: no interval, and the text says exact */
      if (!strcmp(c->off->backend, "model")) {
        ck_assert(c->exact);
        ck_assert_str_eq(c->ratio_text, "exact");
      }
      /* the ratio is time with / time without, from the medians */
      double *x, *y;
      size_t nx = agg_group__values(c->on, agg_group__time_metric(c->on), &x, NULL),
             ny = agg_group__values(c->off, agg_group__time_metric(c->off), &y, NULL);
      ck_assert_uint_gt(nx, 0);
      ck_assert_uint_gt(ny, 0);
      free(x), free(y);
    }
  /* cr3switch (model): EPT vs shadow at vpid, VPID vs flush under shadow */
  ck_assert_uint_eq(measured, 4);
  for (size_t r = 0; r < n; r++) {
    if (!strcmp(sv[r].first->backend, "kvm")) {
      ck_assert_int_eq(sv[r].cell[ASSIST_EPT].status, SAVING_HOST_FIXED);
      ck_assert_str_eq(sv[r].cell[ASSIST_EPT].note, "kvm_pvm: always shadow");
      ck_assert_ptr_nonnull(strstr(sv[r].cell[ASSIST_NMI_WINDOW].note, "switched together"));
    }
    if (!strcmp(sv[r].first->workload, "cr3switch")) {
      const struct saving_cell *e = &sv[r].cell[ASSIST_EPT];
      ck_assert_int_eq(e->status, SAVING_MEASURED);
      ck_assert_str_eq(e->off->mode, "shadow/vpid/poll/poll");
      ck_assert_str_eq(e->on->mode, "ept/vpid/poll/poll");
      ck_assert_int_eq(e->verdict, SAVING_SAVES);
      ck_assert_ptr_nonnull(strstr(e->cause, "avoids 1 CR_ACCESS exits/iter"));
    }
  }
  free(sv);
  aggregate__free(&s);
  json_decref(doc);
}
END_TEST

/* At most one finding per (workload, assist), the largest effect first, no
 * degenerate interval ("[x, x]") anywhere. */
START_TEST(test_findings_one_line_each) {
  json_t *doc = load();
  struct agg_set s;
  aggregate__group(doc, &s);
  report_order__sort(&s);
  struct saving_row *sv;
  size_t n = savings__compute(&s, json_object_get(doc, "context"), &sv);
  json_t *f = findings__compute(&s, NULL, NULL, sv, n);
  size_t i;
  json_t *v;
  double last = INFINITY;
  json_array_foreach(f, i, v) {
    const char *line = json_string_value(v);
    double lo, hi;
    const char *br = strchr(line, '[');
    if (br && sscanf(br, "[%lf, %lf]", &lo, &hi) == 2)
      ck_assert_msg(lo != hi, "degenerate interval in: %s", line);
    for (int a = 0; a < ASSIST_COUNT; a++) {
      char key[200];
      for (size_t r = 0; r < n; r++) {
        snprintf(key, sizeof(key), "%s (%s): %s ", sv[r].first->label, sv[r].first->backend,
                 savings_assists[a].title);
        if (strncmp(line, key, strlen(key))) continue;
        for (size_t k = i + 1; k < json_array_size(f); k++)
          ck_assert_msg(strncmp(json_string_value(json_array_get(f, k)), key, strlen(key)),
                        "two findings for %s", key);
        ck_assert_msg(sv[r].cell[a].effect <= last, "not sorted by effect: %s", line);
        last = sv[r].cell[a].effect;
      }
    }
  }
  json_decref(f);
  free(sv);
  aggregate__free(&s);
  json_decref(doc);
}
END_TEST

Suite *suite_report_order(void) {
  Suite *s = suite_create("report_order");
  TCase *tc = tcase_create("order");
  tcase_add_test(tc, test_sort_ignores_run_order);
  tcase_add_test(tc, test_mode_rank_canonical);
  tcase_add_test(tc, test_colours_fixed);
  tcase_add_test(tc, test_savings_pairs_one_factor);
  tcase_add_test(tc, test_findings_one_line_each);
  suite_add_tcase(s, tc);
  return s;
}
