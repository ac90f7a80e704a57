/* test_doc_stream.c - the streaming reader (vtbench/doc_stream.h) sees
 * what result_doc__read sees: the same envelope and the same runs in the
 * same order for every fixture, and the same refusals (not JSON with the
 * line, wrong schema, missing parts, a directory); runs larger than its
 * first buffer; the callback can stop it. The aggregates of a streamed
 * document equal those of the loaded one, and a document holding a run
 * twice is refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results/result_doc.h"
#include "vtbench/aggregate.h"
#include "vtbench/doc_stream.h"

#define FIX "tests/fixtures/results/"

static char dir[64];

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/vtb_stream_XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}

static const char *put(const char *name, const char *text) {
  static char p[128];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  return p;
}

struct seen {
  json_t *runs;
  size_t stop_at; /* 0: never */
};

static int collect(json_t *run, size_t i, void *ctx, char *err, size_t len) {
  struct seen *s = ctx;
  if (s->stop_at && i + 1 == s->stop_at) {
    snprintf(err, len, "stopped at runs[%zu]", i);
    return -1;
  }
  json_array_append(s->runs, run);
  return 0;
}

START_TEST(fixtures_read_the_same) {
  static const char *const fx[] = {"kvm_host_a.json", "kvm_host_b.json", "model.json",
                                   "model_quick.json"};
  for (size_t k = 0; k < sizeof(fx) / sizeof(fx[0]); k++) {
    char path[128], err[512];
    snprintf(path, sizeof path, FIX "%s", fx[k]);
    json_t *doc = result_doc__read(path, err, sizeof err);
    ck_assert_msg(doc != NULL, "%s", err);
    struct seen s = {json_array()};
    size_t n = 0;
    json_t *env = doc_stream__read(path, collect, &s, &n, err, sizeof err);
    ck_assert_msg(env != NULL, "%s", err);
    ck_assert_uint_eq(n, json_array_size(json_object_get(doc, "runs")));
    ck_assert_msg(json_equal(s.runs, json_object_get(doc, "runs")), "%s: runs differ", fx[k]);
    ck_assert_int_eq(json_array_size(json_object_get(env, "runs")), 0);
    json_object_set_new(doc, "runs", json_array());
    json_object_set_new(doc, "aggregates", json_array());
    ck_assert_msg(json_equal(env, doc), "%s: envelopes differ", fx[k]);
    /* skipping the runs counts them just the same */
    json_t *env2 = doc_stream__read(path, NULL, NULL, &n, err, sizeof err);
    ck_assert_ptr_nonnull(env2);
    ck_assert_uint_eq(n, json_array_size(s.runs));
    /* and the aggregates of the stream are those of the whole document */
    struct agg_set a, b;
    json_t *e3;
    json_t *whole = result_doc__read(path, err, sizeof err);
    ck_assert_int_eq(aggregate__group(whole, &a), 0);
    ck_assert_int_eq(aggregate__load(path, &b, &e3, err, sizeof err), 0);
    json_t *ja = aggregate__compute(&a, NULL), *jb = aggregate__compute(&b, NULL);
    ck_assert_msg(json_equal(ja, jb), "%s: aggregates differ", fx[k]);
    ck_assert_uint_eq(b.nruns, n);
    json_decref(ja), json_decref(jb), json_decref(e3), json_decref(whole);
    aggregate__free(&a), aggregate__free(&b);
    json_decref(env2);
    json_decref(env);
    json_decref(s.runs);
    json_decref(doc);
  }
}
END_TEST

#define HEAD "{\"schema\": {\"name\": \"vtbench-result\", \"version\": 1}, \"context\": {}, "

/* The refusals: each with what the message must hold. */
START_TEST(refusals_name_file_and_place) {
  static const struct {
    const char *text, *want;
  } bad[] = {
      {"", ":1:1: not valid JSON: '[' or '{' expected near end of file"},
      {"[1, 2]", "the top level is not an object"},
      {"{\"context\": {}, \"runs\": []}", "no \"schema\" object"},
      {"{\"schema\": {\"name\": \"google-benchmark\", \"version\": 1}, \"context\": {}, \"runs\": "
       "[]}",
       "schema.name is \"google-benchmark\", expected \"vtbench-result\""},
      {"{\"schema\": {\"name\": \"vtbench-result\", \"version\": 99}, \"context\": {}, \"runs\": "
       "[]}",
       "newer than this vtbench"},
      {HEAD "\"runs\": {}}", "\"runs\" is missing or not an array"},
      {HEAD "\"runs\": [], \"aggregates\": 3}", "\"aggregates\" is not an array"},
      {"{\"schema\": {\"name\": \"vtbench-result\", \"version\": 1}, \"runs\": []}",
       "\"context\" is missing"},
      {HEAD "\"runs\": [{\"a\": 1},\n {\"b\": oops}]}", ":2:"},
      {HEAD "\"runs\": [{\"a\": 1} {\"b\": 2}]}", "',' or ']' expected"},
      {HEAD "\"runs\": [{\"a\": 1}", "expected near end of file"},
      {HEAD "\"runs\": []} trailing", "end of file expected"},
      {HEAD "\"runs\": [], \"runs\": []}", "\"runs\" appears twice"},
      {HEAD "\"runs\": [], \"aggregates\": [1, }]}", "not valid JSON"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    const char *p = put("bad.json", bad[i].text);
    char err[512] = "";
    struct seen s = {json_array()};
    ck_assert_ptr_null(doc_stream__read(p, collect, &s, NULL, err, sizeof err));
    ck_assert_msg(strstr(err, p) && strstr(err, bad[i].want), "case %zu: message '%s', want '%s'",
                  i, err, bad[i].want);
    json_decref(s.runs);
  }
  char err[512];
  ck_assert_ptr_null(doc_stream__read(dir, NULL, NULL, NULL, err, sizeof err));
  ck_assert_msg(strstr(err, "is a directory"), "%s", err);
  ck_assert_ptr_null(doc_stream__read("/nonexistent/x.json", NULL, NULL, NULL, err, sizeof err));
  ck_assert_msg(strstr(err, "cannot read") && strstr(err, "No such file"), "%s", err);
}
END_TEST

/* A run of 3 MB (more than the first block) and the callback stopping. */
START_TEST(large_runs_and_stopping) {
  size_t big = 3u << 20;
  char *text = malloc(big + 4096);
  int off = sprintf(text, HEAD "\"runs\": [{\"x\": 1}, {\"console\": \"");
  memset(text + off, 'a', big);
  off += (int)big;
  sprintf(text + off, "\\\"]\\\\\"}, {\"y\": [2, {\"z\": \"}]\"}]}]}");
  const char *p = put("big.json", text);
  free(text);
  char err[512];
  struct seen s = {json_array()};
  size_t n;
  json_t *env = doc_stream__read(p, collect, &s, &n, err, sizeof err);
  ck_assert_msg(env != NULL, "%s", err);
  ck_assert_uint_eq(n, 3);
  ck_assert_uint_eq(
      strlen(json_string_value(json_object_get(json_array_get(s.runs, 1), "console"))), big + 3);
  json_decref(env);
  json_decref(s.runs);
  struct seen stop = {json_array(), 2};
  ck_assert_ptr_null(doc_stream__read(p, collect, &stop, NULL, err, sizeof err));
  ck_assert_msg(strstr(err, p) && strstr(err, "stopped at runs[1]"), "%s", err);
  ck_assert_uint_eq(json_array_size(stop.runs), 1);
  json_decref(stop.runs);
}
END_TEST

/* Every run twice: refused by the aggregates, naming both places. */
START_TEST(duplicate_runs_are_refused) {
  char err[512];
  json_t *doc = result_doc__read(FIX "kvm_host_a.json", err, sizeof err);
  ck_assert_ptr_nonnull(doc);
  json_t *runs = json_object_get(doc, "runs");
  size_t n = json_array_size(runs);
  json_t *again = json_deep_copy(runs);
  json_array_extend(runs, again);
  json_decref(again);
  struct agg_set s;
  ck_assert_int_eq(aggregate__group(doc, &s), -1);
  char want[64];
  snprintf(want, sizeof want, "runs[%zu] is runs[0] again", n);
  ck_assert_msg(strstr(s.error, want), "%s", s.error);
  aggregate__free(&s);
  char path[128];
  snprintf(path, sizeof path, "%s/dup.json", dir);
  ck_assert_int_eq(result_doc__write(doc, path), 0);
  json_t *env;
  ck_assert_int_eq(aggregate__load(path, &s, &env, err, sizeof err), AGG_LOAD_DUPLICATE);
  ck_assert_msg(strstr(err, path) && strstr(err, want), "%s", err);
  json_decref(doc);
}
END_TEST

Suite *suite_doc_stream(void) {
  Suite *s = suite_create("doc_stream");
  TCase *tc = tcase_create("doc_stream");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, fixtures_read_the_same);
  tcase_add_test(tc, refusals_name_file_and_place);
  tcase_add_test(tc, large_runs_and_stopping);
  tcase_add_test(tc, duplicate_runs_are_refused);
  suite_add_tcase(s, tc);
  return s;
}
