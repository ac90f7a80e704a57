/* run_refvmm.c - run refvmm (or vtbench) through vtbench/spawn.h, capture its
 * output and result. */
#include "run_refvmm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "tests/lib/schema_check.h"
#include "vtbench/spawn.h"

/* Run argv[0] with argv, the extra "K=V" environment entries env (NULL:
 * none); exit status, stdout and stderr into r. 0, or -1 when it could not
 * be started. */
static int spawn(struct refvmm_result *r, const char *const *env, const char *const *argv) {
  struct spawn_opts o = {.argv = argv, .env = env, .capture = true};
  struct spawn_result sr;
  if (spawn__run(&o, &sr)) {
    fprintf(stderr, "run_refvmm: cannot run %s: %s\n", argv[0], strerror(sr.error));
    return -1;
  }
  r->exit_code = sr.how == SPAWN_EXITED ? sr.code : -1;
  r->term_signal = sr.how == SPAWN_EXITED ? 0 : sr.code;
  r->out = sr.out;
  r->err = sr.err;
  return 0;
}

/* bin, then args, into argv (at most `max` entries with the NULL); the count. */
static int build_argv(const char **argv, int max, const char *bin, const char *const *args) {
  int n = 0;
  argv[n++] = bin;
  for (int i = 0; args[i] && n < max - 1; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  return n;
}

static const char *bin_of(const char *env, const char *def) {
  const char *bin = getenv(env);
  return bin && *bin ? bin : def;
}

int run_refvmm(struct refvmm_result *r, bool want_json, const char *const *args) {
  memset(r, 0, sizeof *r);
  const char *argv[64];
  int n = build_argv(argv, 61, bin_of("REFVMM", "bin/refvmm"), args);
  if (want_json) {
    snprintf(r->json_path, sizeof r->json_path, "/tmp/vtb_itest_%d_%d.json", (int)getpid(), rand());
    unlink(r->json_path);
    argv[n++] = "--json";
    argv[n++] = r->json_path;
    argv[n] = NULL;
  }
  if (spawn(r, NULL, argv)) return -1;
  if (want_json && access(r->json_path, F_OK) == 0) run_refvmm__load_json(r);
  return 0;
}

int run_vtbench(struct refvmm_result *r, const char *const *env, const char *const *args) {
  memset(r, 0, sizeof *r);
  const char *argv[64];
  build_argv(argv, 64, bin_of("VTBENCH", "bin/vtbench"), args);
  ck_assert_msg(access(argv[0], X_OK) == 0, "%s is missing: run make", argv[0]);
  return spawn(r, env, argv);
}

void run_refvmm__load_json(struct refvmm_result *r) {
  json_error_t je;
  r->doc = json_load_file(r->json_path, 0, &je);
  ck_assert_msg(r->doc != NULL, "%s: not JSON: %s (line %d)", r->json_path, je.text, je.line);
  json_t *runs = json_object_get(r->doc, "runs");
  r->run = runs ? json_array_get(runs, 0) : NULL;
  /* Every document the tests produce must validate against the schema. */
  char err[2048];
  int rc = schema_check__file(r->json_path, err, sizeof err);
  ck_assert_msg(rc == 0, "%s (refvmm exit %d) does not validate against results/schema.json: %s",
                r->json_path, r->exit_code, err);
}

void refvmm_result__free(struct refvmm_result *r) {
  free(r->out);
  free(r->err);
  json_decref(r->doc);
  if (r->json_path[0]) unlink(r->json_path);
  memset(r, 0, sizeof *r);
}

json_t *refvmm_result__get(const struct refvmm_result *r, const char *path) {
  json_t *j = r->run;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && j;
       tok = strtok_r(NULL, ".", &save))
    j = json_object_get(j, tok);
  return j;
}

int64_t refvmm_result__int(const struct refvmm_result *r, const char *path) {
  json_t *j = refvmm_result__get(r, path);
  return json_is_integer(j) ? (int64_t)json_integer_value(j) : -1;
}

const char *refvmm_result__str(const struct refvmm_result *r, const char *path) {
  json_t *j = refvmm_result__get(r, path);
  return json_is_string(j) ? json_string_value(j) : NULL;
}

int64_t refvmm_result__sub_count(const struct refvmm_result *r, const char *kind, uint64_t key) {
  json_t *subs = refvmm_result__get(r, "exits.by_sub");
  size_t i;
  json_t *e;
  int64_t n = 0;
  json_array_foreach(subs, i, e) {
    const char *k = json_string_value(json_object_get(e, "kind"));
    json_t *kj = json_object_get(e, "key");
    if (k && strcmp(k, kind) == 0 && json_is_integer(kj) && (uint64_t)json_integer_value(kj) == key)
      n += (int64_t)json_integer_value(json_object_get(e, "count"));
  }
  return n;
}
