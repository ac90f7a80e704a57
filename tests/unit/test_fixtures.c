/* test_fixtures.c - the committed result documents in tests/fixtures/results
 * (used by test_report.c and tests/scripts/report_smoke.sh) must stay valid
 * against results/schema.json and readable by results/result_doc, so the
 * report tests keep exercising documents refvmm could really write.
 *
 * Needs python3-jsonschema (tests/lib/schema_check.h); tests run from the
 * repository root or with VTB_SRCDIR set. */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/result_doc.h"
#include "tests/lib/schema_check.h"

#define FIXTURE_DIR "tests/fixtures/results"

/* The fixtures' paths, sorted; at least the three the report tests use. */
static void fixtures__glob(glob_t *g) {
  const char *src = getenv("VTB_SRCDIR");
  char pattern[4096];
  snprintf(pattern, sizeof pattern, "%s%s" FIXTURE_DIR "/*.json", src && *src ? src : "",
           src && *src ? "/" : "");
  int rc = glob(pattern, 0, NULL, g);
  ck_assert_msg(rc == 0, "no fixture matches %s (run from the repository root or set VTB_SRCDIR)",
                pattern);
  ck_assert_msg(g->gl_pathc >= 3, "%s: %zu fixture documents, expected at least 3", pattern,
                g->gl_pathc);
}

static json_t *load_fixture(const char *name) {
  const char *src = getenv("VTB_SRCDIR");
  char path[4096], err[512];
  snprintf(path, sizeof path, "%s%s" FIXTURE_DIR "/%s", src && *src ? src : "",
           src && *src ? "/" : "", name);
  json_t *doc = result_doc__read(path, err, sizeof err);
  ck_assert_msg(doc != NULL, "%s", err);
  return doc;
}

START_TEST(test_every_fixture_validates) {
  glob_t g;
  fixtures__glob(&g);
  for (size_t i = 0; i < g.gl_pathc; i++) {
    char err[4096];
    int rc = schema_check__file(g.gl_pathv[i], err, sizeof err);
    ck_assert_msg(rc != -1, "%s: validator could not run: %s", g.gl_pathv[i], err);
    ck_assert_msg(rc == 0, "%s does not match results/schema.json:\n%s", g.gl_pathv[i], err);
  }
  globfree(&g);
}
END_TEST

START_TEST(test_every_fixture_reads_back) {
  glob_t g;
  fixtures__glob(&g);
  for (size_t i = 0; i < g.gl_pathc; i++) {
    char err[512];
    json_t *doc = result_doc__read(g.gl_pathv[i], err, sizeof err);
    ck_assert_msg(doc != NULL, "%s: %s", g.gl_pathv[i], err);
    const json_t *runs = json_object_get(doc, "runs");
    ck_assert_msg(json_is_array(runs) && json_array_size(runs) > 0, "%s: no runs", g.gl_pathv[i]);
    json_decref(doc);
  }
  globfree(&g);
}
END_TEST

/* The check above can fail: the shapes the fixtures once had (a KVM stat as
 * a bare integer, perf_event_open as a boolean) are rejected. */
START_TEST(test_old_fixture_shapes_rejected) {
  char err[4096];
  json_t *doc = load_fixture("kvm_host_a.json");
  ck_assert_int_eq(schema_check__json(doc, err, sizeof err), 0);

  json_t *run = json_array_get(json_object_get(doc, "runs"), 0);
  json_t *vcpu = json_object_get(json_object_get(run, "kvm_stats"), "vcpu");
  ck_assert_msg(json_is_object(json_object_get(vcpu, "exits")),
                "kvm_host_a.json runs[0] lacks kvm_stats.vcpu.exits");
  json_object_set_new(vcpu, "exits", json_integer(1003));
  ck_assert_int_eq(schema_check__json(doc, err, sizeof err), 1);
  ck_assert_msg(strstr(err, "exits") != NULL, "validator message does not name the stat: %s", err);
  json_decref(doc);

  doc = load_fixture("kvm_host_a.json");
  json_t *pmu = json_object_get(json_object_get(doc, "context"), "pmu");
  ck_assert_ptr_nonnull(pmu);
  json_object_set_new(pmu, "perf_event_open", json_false());
  ck_assert_int_eq(schema_check__json(doc, err, sizeof err), 1);
  ck_assert_msg(strstr(err, "perf_event_open") != NULL,
                "validator message does not name perf_event_open: %s", err);
  json_decref(doc);
}
END_TEST

Suite *suite_fixtures(void) {
  Suite *s = suite_create("fixtures");
  TCase *tc = tcase_create("schema");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_every_fixture_validates);
  tcase_add_test(tc, test_every_fixture_reads_back);
  tcase_add_test(tc, test_old_fixture_shapes_rejected);
  suite_add_tcase(s, tc);
  return s;
}
