/* test_matrix.c - matrix files: valid input, every kind of error with its
 * place, expansion, interleaving and shards. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vtbench/matrix.h"

static int parse_text(struct matrix *m, const char *text, char *err, size_t len) {
  json_error_t je;
  json_t *j = json_loads(text, 0, &je);
  ck_assert_msg(j != NULL, "test JSON broken: %s", je.text);
  int rc = matrix__from_json(m, j, "matrix.json", err, len);
  json_decref(j);
  return rc;
}

START_TEST(test_valid_file) {
  char path[] = "/tmp/vtb_matrix_XXXXXX", err[256];
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  const char *text = "{\"backends\": [\"kvm\", \"model\"],\n"
                     " \"workloads\": [{\"name\": \"pio\", \"params\": {\"n\": 1000}}, \"cpuid\",\n"
                     "   {\"name\": \"gups\", \"params\": {\"ws\": 4096, \"page\": \"2m\"}}],\n"
                     " \"modes\": [{\"paging\": \"ept\", \"tlb\": \"vpid\", \"nmi\": \"window\","
                     " \"irq\": \"poll\"}, \"shadow/flush/poll/poll\", \"native\"],\n"
                     " \"reps\": 7, \"warmup\": 2}\n";
  ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
  close(fd);
  struct matrix m;
  ck_assert_msg(matrix__load(&m, path, err, sizeof(err)) == 0, "%s", err);
  unlink(path);
  ck_assert_uint_eq(m.nbackends, 2);
  ck_assert_uint_eq(m.nworkloads, 3);
  ck_assert_uint_eq(m.nmodes, 3);
  ck_assert_uint_eq(m.reps, 7);
  ck_assert_uint_eq(m.warmup, 2);
  ck_assert_str_eq(m.workloads[0].name, "pio");
  ck_assert_int_eq(json_integer_value(json_object_get(m.workloads[0].params, "n")), 1000);
  ck_assert_str_eq(m.modes[0].paging, "ept");
  ck_assert_str_eq(m.modes[0].nmi, "window");
  ck_assert_str_eq(m.modes[0].irq, "poll");
  ck_assert_str_eq(m.modes[2].paging, "native");
  ck_assert_str_eq(m.modes[2].tlb, "flush"); /* defaults fill the rest */
  /* Round trip through to_json. */
  json_t *j = matrix__to_json(&m);
  struct matrix m2;
  ck_assert_int_eq(matrix__from_json(&m2, j, "roundtrip", err, sizeof(err)), 0);
  ck_assert_uint_eq(m2.nworkloads, 3);
  ck_assert_str_eq(m2.modes[0].tlb, "vpid");
  ck_assert_uint_eq(m2.reps, 7);
  json_decref(j);
  matrix__free(&m2);
  matrix__free(&m);
}
END_TEST

/* Each kind of error names its place. */
static const struct {
  const char *text, *expect;
} bad[] = {
    {"{\"workloads\": [\"pio\", \"cpuid\", {\"name\": \"pio\", \"params\": {\"n\": \"x\"}}],"
     " \"modes\": [\"shadow\"]}",
     "matrix.json: workloads[2].params.n: expected a non-negative integer, got \"x\""},
    {"{\"workloads\": [{\"name\": \"pio\", \"params\": {\"n\": -3}}], \"modes\": [\"shadow\"]}",
     "matrix.json: workloads[0].params.n: expected a non-negative integer, got -3"},
    {"{\"workloads\": [\"pio\", \"nosuch\"], \"modes\": [\"shadow\"]}",
     "matrix.json: workloads[1]: unknown workload \"nosuch\""},
    {"{\"workloads\": [{\"name\": \"pio\", \"params\": {\"size\": 3}}], \"modes\": [\"shadow\"]}",
     "matrix.json: workloads[0].params.size: pio has no such parameter"},
    {"{\"workloads\": [\"pio\"], \"modes\": [\"shadow\", {\"paging\": \"npt\"}]}",
     "matrix.json: modes[1].paging: expected shadow|ept|native, got \"npt\""},
    {"{\"workloads\": [\"pio\"], \"modes\": [\"ept/vpid/sometimes\"]}",
     "matrix.json: modes[0]: mode ept/vpid/sometimes (nmi): expected poll|window"},
    {"{\"workloads\": [\"pio\"], \"modes\": [{\"pagin\": \"ept\"}]}",
     "matrix.json: modes[0].pagin: unknown key"},
    {"{\"workloads\": [\"pio\"], \"modes\": [\"shadow\"], \"reps\": 0}",
     "matrix.json: reps: expected an integer in 1..1000, got 0"},
    {"{\"workloads\": [\"pio\"], \"modes\": [\"shadow\"], \"backends\": [\"xen\"]}",
     "matrix.json: backends[0]: expected kvm|model, got \"xen\""},
    {"{\"workloads\": [], \"modes\": [\"shadow\"]}",
     "matrix.json: workloads: expected a non-empty"},
    {"{\"workloads\": [\"pio\"]}", "matrix.json: modes: expected a non-empty array, got nothing"},
    {"{\"workloads\": [\"pio\"], \"modes\": [\"shadow\"], \"repetitions\": 3}",
     "matrix.json: repetitions: unknown key"},
    {"{\"workloads\": [{\"params\": {}}], \"modes\": [\"shadow\"]}",
     "matrix.json: workloads[0]: missing \"name\""},
    {"[1, 2]", "matrix.json: expected a JSON object"},
};

START_TEST(test_errors_name_place) {
  struct matrix m;
  char err[256] = "";
  ck_assert_int_eq(parse_text(&m, bad[_i].text, err, sizeof(err)), -1);
  ck_assert_msg(strstr(err, bad[_i].expect) != NULL, "got: %s\nwant: %s", err, bad[_i].expect);
}
END_TEST

START_TEST(test_syntax_error_has_line) {
  char path[] = "/tmp/vtb_matrix_XXXXXX", err[256];
  int fd = mkstemp(path);
  const char *text = "{\"workloads\": [\"pio\"],\n \"modes\": [\"shadow\",]\n}";
  ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
  close(fd);
  struct matrix m;
  ck_assert_int_eq(matrix__load(&m, path, err, sizeof(err)), -1);
  char want[64];
  snprintf(want, sizeof(want), "%s:2:", path);
  ck_assert_msg(strstr(err, want) != NULL, "%s", err);
  unlink(path);
}
END_TEST

static bool no_native_on_kvm(const char *backend, const struct matrix_mode *mode, void *ctx) {
  (void)ctx;
  return !(strcmp(backend, "kvm") == 0 && strcmp(mode->paging, "shadow") != 0);
}

START_TEST(test_cross_product) {
  struct matrix m;
  char err[256];
  ck_assert_int_eq(parse_text(&m,
                              "{\"workloads\": [\"pio\", \"cpuid\", \"compute\"], \"modes\": "
                              "[\"native\", \"shadow\", \"ept/vpid\"], \"reps\": 4, \"warmup\": 1}",
                              err, sizeof(err)),
                   0);
  struct matrix_config *c;
  size_t n = matrix__configs(&m, NULL, NULL, &c);
  ck_assert_uint_eq(n, 2 * 3 * 3);
  /* Keys are distinct. */
  for (size_t i = 0; i < n; i++)
    for (size_t k = i + 1; k < n; k++)
      ck_assert_str_ne(c[i].key, c[k].key);
  free(c);
  n = matrix__configs(&m, no_native_on_kvm, NULL, &c);
  ck_assert_uint_eq(n, 3 /* kvm: shadow only */ + 9 /* model: all */);
  ck_assert_str_eq(c[0].key, "kvm pio {} shadow/flush/poll/poll");

  struct matrix_job *j;
  size_t nj = matrix__jobs(&m, n, 1, 1, MATRIX_SEED, &j);
  ck_assert_uint_eq(nj, n * (4 + 1));
  /* Warm-ups first; then each round holds every configuration once, so no
   * configuration runs all its repetitions in a row. */
  for (size_t i = 0; i < n; i++)
    ck_assert(j[i].warmup);
  for (unsigned r = 0; r < 5; r++) {
    int seen[16] = {0};
    for (size_t i = 0; i < n; i++) {
      ck_assert_uint_eq(j[r * n + i].rep, r == 0 ? 0 : r - 1);
      seen[j[r * n + i].config]++;
    }
    for (size_t i = 0; i < n; i++)
      ck_assert_int_eq(seen[i], 1);
  }
  /* Shuffled, not in config order, and different between rounds. */
  int in_order = 1, same_rounds = 1;
  for (size_t i = 0; i < n; i++) {
    in_order &= j[n + i].config == i;
    same_rounds &= j[n + i].config == j[2 * n + i].config;
  }
  ck_assert(!in_order);
  ck_assert(!same_rounds);
  /* Deterministic. */
  struct matrix_job *j2;
  ck_assert_uint_eq(matrix__jobs(&m, n, 1, 1, MATRIX_SEED, &j2), nj);
  ck_assert_int_eq(memcmp(j, j2, nj * sizeof(*j)), 0);
  free(j2);
  free(j);
  free(c);
  matrix__free(&m);
}
END_TEST

/* A configuration's shard is the same whether or not a host leaves other
 * configurations out: shards are cut from the whole cross product. */
START_TEST(test_shard_independent_of_host) {
  struct matrix m;
  char err[256];
  ck_assert_int_eq(parse_text(&m,
                              "{\"backends\": [\"kvm\", \"model\"], \"workloads\": [\"pio\", "
                              "\"cpuid\"], \"modes\": [\"native\", \"shadow\", \"ept/vpid\"]}",
                              err, sizeof(err)),
                   0);
  struct matrix_config *all, *some;
  size_t nall = matrix__configs(&m, NULL, NULL, &all);
  size_t nsome = matrix__configs(&m, no_native_on_kvm, NULL, &some);
  ck_assert_uint_lt(nsome, nall);
  for (unsigned N = 2; N <= 5; N++)
    for (unsigned s = 1; s <= N; s++) {
      struct matrix_config *a = malloc(nall * sizeof(*a)), *b = malloc(nsome * sizeof(*b));
      memcpy(a, all, nall * sizeof(*a));
      memcpy(b, some, nsome * sizeof(*b));
      size_t na = matrix__shard_configs(a, nall, s, N);
      size_t nb = matrix__shard_configs(b, nsome, s, N);
      /* every configuration the host runs is in the shard it has on a host
       * that runs everything */
      for (size_t i = 0; i < nsome; i++) {
        bool in_a = false, in_b = false;
        for (size_t k = 0; k < na; k++)
          in_a |= !strcmp(a[k].key, some[i].key);
        for (size_t k = 0; k < nb; k++)
          in_b |= !strcmp(b[k].key, some[i].key);
        ck_assert_msg(in_a == in_b, "%s: shard %u/%u on one host only", some[i].key, s, N);
      }
      free(a);
      free(b);
    }
  free(all);
  free(some);
  matrix__free(&m);
}
END_TEST

START_TEST(test_shards_union) {
  struct matrix m;
  char err[256];
  matrix__standard(&m);
  (void)err;
  struct matrix_config *c;
  size_t n = matrix__configs(&m, NULL, NULL, &c);
  struct matrix_job *all;
  size_t nall = matrix__jobs(&m, n, 1, 1, MATRIX_SEED, &all);
  /* count[config][round] over the unsharded matrix vs the union of shards. */
  unsigned rounds = m.reps + m.warmup;
  int *want = calloc(n * rounds, sizeof(int)), *got = calloc(n * rounds, sizeof(int));
#define SLOT(jb) ((jb).config * rounds + ((jb).warmup ? (jb).rep : m.warmup + (jb).rep))
  for (size_t i = 0; i < nall; i++)
    want[SLOT(all[i])]++;
  unsigned N = _i + 2; /* 2, 3, 7 shards */
  if (_i == 2) N = 7;
  size_t total = 0;
  for (unsigned s = 1; s <= N; s++) {
    struct matrix_job *j;
    size_t nj = matrix__jobs(&m, n, s, N, MATRIX_SEED, &j);
    for (size_t i = 0; i < nj; i++) {
      ck_assert_uint_eq(j[i].config % N, s - 1);
      got[SLOT(j[i])]++;
    }
    total += nj;
    free(j);
  }
  ck_assert_uint_eq(total, nall);
  for (size_t i = 0; i < n * rounds; i++) {
    ck_assert_int_eq(want[i], 1);
    ck_assert_int_eq(got[i], 1);
  }
#undef SLOT
  free(want);
  free(got);
  free(all);
  free(c);
  matrix__free(&m);
}
END_TEST

START_TEST(test_shard_parse_and_modes) {
  unsigned i, n;
  ck_assert_int_eq(matrix__parse_shard("2/5", &i, &n), 0);
  ck_assert_uint_eq(i, 2);
  ck_assert_uint_eq(n, 5);
  ck_assert_int_eq(matrix__parse_shard("0/5", &i, &n), -1);
  ck_assert_int_eq(matrix__parse_shard("6/5", &i, &n), -1);
  ck_assert_int_eq(matrix__parse_shard("1/", &i, &n), -1);
  ck_assert_int_eq(matrix__parse_shard("1/2x", &i, &n), -1);
  struct matrix_mode md;
  char err[128], s[64];
  ck_assert_int_eq(matrix__parse_mode("ept/vpid/window", &md, err, sizeof(err)), 0);
  matrix__mode_str(&md, s, sizeof(s));
  ck_assert_str_eq(s, "ept/vpid/window/poll");
  ck_assert_int_eq(matrix__parse_mode("a/b/c/d/e", &md, err, sizeof(err)), -1);
  ck_assert_int_eq(matrix__parse_mode("", &md, err, sizeof(err)), -1);
  struct matrix q;
  matrix__quick(&q);
  ck_assert_uint_le(q.reps, 4); /* kvm; the model runs once */
  ck_assert_uint_le(q.nworkloads, 8);
  /* native, four paging/tlb modes, NMI window alone, IRQ window alone: the
   * one-factor pairs the report compares, and no more */
  ck_assert_uint_le(q.nmodes, 7);
  matrix__free(&q);
}
END_TEST

/* The model is deterministic: it runs each configuration model_reps times
 * (default 1) without warm-up, while kvm keeps its warm-up and reps; the
 * quick matrix gives kvm the 4 repetitions a Mann-Whitney test needs. */
START_TEST(test_model_runs_once) {
  struct matrix m;
  matrix__quick(&m);
  ck_assert_uint_eq(m.model_reps, 1);
  ck_assert_uint_eq(m.reps, 4);
  struct matrix_config *c;
  size_t n = matrix__configs(&m, NULL, NULL, &c);
  struct matrix_job *j;
  size_t nj = matrix__jobs(&m, n, 1, 1, MATRIX_SEED, &j);
  nj = matrix__trim_model(&m, c, j, nj);
  size_t per[128] = {0}, nmodel = 0;
  ck_assert_uint_le(n, 128);
  for (size_t i = 0; i < nj; i++) {
    per[j[i].config]++;
    if (!strcmp(m.backends[c[j[i].config].backend], "model")) {
      ck_assert(!j[i].warmup);
      ck_assert_uint_eq(j[i].rep, 0);
      nmodel++;
    }
  }
  for (size_t i = 0; i < n; i++)
    ck_assert_uint_eq(per[i], strcmp(m.backends[c[i].backend], "model") ? 5 : 1);
  ck_assert_uint_eq(nmodel, 7 * 7);
  free(j);
  free(c);
  /* model_reps from a file, bounded and echoed back */
  json_error_t je;
  json_t *f =
      json_loads("{\"workloads\": [\"pio\"], \"modes\": [\"native\"], \"model_reps\": 3}", 0, &je);
  char err[256];
  struct matrix m2;
  ck_assert_int_eq(matrix__from_json(&m2, f, "t.json", err, sizeof err), 0);
  ck_assert_uint_eq(m2.model_reps, 3);
  json_t *back = matrix__to_json(&m2);
  ck_assert_int_eq(json_integer_value(json_object_get(back, "model_reps")), 3);
  json_decref(back);
  matrix__free(&m2);
  json_object_set_new(f, "model_reps", json_integer(0));
  ck_assert_int_eq(matrix__from_json(&m2, f, "t.json", err, sizeof err), -1);
  ck_assert_msg(strstr(err, "model_reps"), "%s", err);
  json_decref(f);
  matrix__free(&m);
}
END_TEST

Suite *suite_matrix(void) {
  Suite *s = suite_create("matrix");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_valid_file);
  tcase_add_loop_test(tc, test_errors_name_place, 0, (int)(sizeof(bad) / sizeof(bad[0])));
  tcase_add_test(tc, test_syntax_error_has_line);
  tcase_add_test(tc, test_cross_product);
  tcase_add_test(tc, test_model_runs_once);
  tcase_add_test(tc, test_shard_independent_of_host);
  tcase_add_loop_test(tc, test_shards_union, 0, 3);
  tcase_add_test(tc, test_shard_parse_and_modes);
  suite_add_tcase(s, tc);
  return s;
}
