/* test_result_doc.c - the result document: envelope, atomic write, reader,
 * check_writable. Failures are forced with paths root cannot write either
 * (missing directories, /proc, a directory in the temp file's place, a full
 * tmpfs in a private mount namespace). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probes/exit_stats.h"
#include "results/result_doc.h"
#include "tests/lib/schema_check.h"

static char dir[PATH_MAX];

static void setup(void) {
  snprintf(dir, sizeof(dir), "/tmp/vtb-test-result-doc-XXXXXX");
  if (!mkdtemp(dir)) {
    perror("mkdtemp /tmp/vtb-test-result-doc-XXXXXX");
    abort();
  }
}

static void teardown(void) {
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static json_t *sample_context(void) {
  return json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:i, s:i, s:s}, s:{s:s, s:s, s:s}, s:s, s:{s:s}}",
                   "date", "2026-01-02T03:04:05Z", "host", "testhost", "kernel", "release", "6.1",
                   "cpu", "vendor", "GenuineIntel", "family", 6, "model", 143, "model_name", "Xeon",
                   "tool", "name", "vtbench", "version", "0.1.0", "git_revision", "abc",
                   "command_line", "refvmm run pio.elf", "kvm", "flavour", "kvm_intel");
}

static json_t *sample_run(const char *workload, int n) {
  return json_pack("{s:s, s:{s:i}, s:s, s:{s:s, s:s, s:s, s:s}, s:s, s:i, s:{s:I, s:i},"
                   " s:{s:I, s:I}, s:{s:i, s:{s:{s:i, s:{s:i, s:i, s:i, s:i}, s:[{s:i}]}}}}",
                   "workload", workload, "params", "n", n, "backend", "kvm", "modes", "paging",
                   "shadow", "tlb", "flush", "nmi", "poll", "irq", "window", "status", "ok",
                   "exit_code", 0, "guest", "checksum", (json_int_t)0x1234567890LL, "iterations", n,
                   "timed", "wall_ns", (json_int_t)123456, "tsc", (json_int_t)999999, "exits",
                   "total", n, "by_reason", "IO", "count", n, "latency_ns", "min", 1, "p50", 2,
                   "p99", 3, "max", 4, "hist", "count", n);
}

static void path_in(char *buf, size_t len, const char *name) {
  ck_assert_int_lt(snprintf(buf, len, "%s/%s", dir, name), (int)len);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return strdup(buf);
}

START_TEST(new_has_envelope) {
  json_t *doc = result_doc__new(sample_context());
  ck_assert_ptr_nonnull(doc);
  json_t *schema = json_object_get(doc, "schema");
  ck_assert_str_eq(json_string_value(json_object_get(schema, "name")), VTB_SCHEMA_NAME);
  ck_assert_int_eq(json_integer_value(json_object_get(schema, "version")), VTB_SCHEMA_VERSION);
  ck_assert(json_is_object(json_object_get(doc, "context")));
  ck_assert_int_eq(json_array_size(json_object_get(doc, "runs")), 0);
  ck_assert_int_eq(json_array_size(json_object_get(doc, "aggregates")), 0);
  /* key order: schema, context, runs, aggregates (readable files) */
  const char *want[] = {"schema", "context", "runs", "aggregates"};
  int i = 0;
  const char *key;
  json_t *v;
  json_object_foreach(doc, key, v) ck_assert_str_eq(key, want[i++]);
  ck_assert_int_eq(result_doc__add_run(doc, json_string("not an object")), -EINVAL);
  json_decref(doc);
}
END_TEST

START_TEST(round_trip) {
  char path[PATH_MAX], err[4096];
  path_in(path, sizeof(path), "r.json");
  json_t *doc = result_doc__new(sample_context());
  ck_assert_int_eq(result_doc__add_run(doc, sample_run("pio", 1000)), 0);
  ck_assert_int_eq(result_doc__add_run(doc, sample_run("cpuid", 77)), 0);
  ck_assert_int_eq(result_doc__write(doc, path), 0);
  json_t *back = result_doc__read(path, err, sizeof(err));
  ck_assert_msg(back, "read failed: %s", err);
  ck_assert(json_equal(doc, back));
  ck_assert_int_eq(json_array_size(json_object_get(back, "runs")), 2);
  /* indent 2, one trailing newline, insertion order kept */
  char *text = slurp(path);
  ck_assert_ptr_nonnull(text);
  ck_assert_msg(strncmp(text, "{\n  \"schema\": {\n    \"name\"", 25) == 0, "got: %.60s", text);
  ck_assert(text[strlen(text) - 1] == '\n' && text[strlen(text) - 2] == '}');
  free(text);
  int rc = schema_check__file(path, err, sizeof(err));
  ck_assert_msg(rc == 0, "schema check (%d): %s", rc, err);
  json_decref(doc);
  json_decref(back);
}
END_TEST

START_TEST(schema_rejects_broken_run) {
  char err[4096];
  json_t *doc = result_doc__new(sample_context());
  json_t *run = sample_run("pio", 5);
  json_object_set_new(json_object_get(run, "modes"), "paging", json_string("sideways"));
  json_object_del(run, "backend");
  result_doc__add_run(doc, run);
  int rc = schema_check__json(doc, err, sizeof(err));
  ck_assert_msg(rc == 1, "expected invalid (1), got %d: %s", rc, err);
  ck_assert_msg(strstr(err, "$.runs[0].modes.paging"), "no JSON path in: %s", err);
  ck_assert_msg(strstr(err, "backend"), "missing field not named: %s", err);
  json_decref(doc);
}
END_TEST

static const char *reason_name(uint32_t r) {
  return r == 2 ? "IO" : r == 6 ? "MMIO" : NULL;
}

/* The exits section as the probes really write it validates, with a known
 * TSC frequency and without one (latencies null). */
START_TEST(real_exit_stats_validate) {
  char err[4096];
  static struct exit_stats st;
  for (int hz = 0; hz < 2; hz++) {
    exit_stats__init(&st, hz ? 2000000000u : 0, reason_name);
    st.enabled = true;
    for (uint64_t i = 1; i < 500; i++)
      exit_stats__record(&st, 2, EXIT_SUB_IO_PORT, 0x3f8, i * 37);
    exit_stats__record(&st, 6, EXIT_SUB_MMIO_PAGE, 0xfee00000, 12345);
    exit_stats__record(&st, 17, EXIT_SUB_NONE, 0, 1);
    json_t *doc = result_doc__new(sample_context());
    json_t *run = sample_run("pio", 499);
    json_object_set_new(run, "exits", exit_stats__to_json(&st));
    result_doc__add_run(doc, run);
    int rc = schema_check__json(doc, err, sizeof(err));
    ck_assert_msg(rc == 0, "tsc_hz %s: schema check (%d): %s", hz ? "known" : "0", rc, err);
    json_decref(doc);
  }
}
END_TEST

START_TEST(write_replaces_and_leaves_no_temp) {
  char path[PATH_MAX], tmp[PATH_MAX + 32], err[512];
  path_in(path, sizeof(path), "r.json");
  json_t *a = result_doc__new(sample_context());
  json_t *b = result_doc__new(sample_context());
  result_doc__add_run(b, sample_run("compute", 3));
  ck_assert_int_eq(result_doc__write(a, path), 0);
  ck_assert_int_eq(result_doc__write(b, path), 0);
  json_t *back = result_doc__read(path, err, sizeof(err));
  ck_assert(json_equal(back, b));
  snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
  ck_assert_int_eq(access(tmp, F_OK), -1);
  json_decref(a);
  json_decref(b);
  json_decref(back);
}
END_TEST

/* The temp file cannot be created (a directory sits at its name): the old
 * document must be untouched. */
START_TEST(failed_write_keeps_old_file) {
  char path[PATH_MAX], tmp[PATH_MAX + 32];
  path_in(path, sizeof(path), "r.json");
  json_t *a = result_doc__new(sample_context());
  result_doc__add_run(a, sample_run("pio", 1));
  ck_assert_int_eq(result_doc__write(a, path), 0);
  char *before = slurp(path);
  snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
  ck_assert_int_eq(mkdir(tmp, 0755), 0);
  json_t *b = result_doc__new(sample_context());
  int rc = result_doc__write(b, path);
  ck_assert_int_eq(rc, -EISDIR);
  char *after = slurp(path);
  ck_assert_str_eq(before, after);
  free(before);
  free(after);
  rmdir(tmp);
  json_decref(a);
  json_decref(b);
}
END_TEST

/* rename fails (target is a non-empty directory): the temp file is removed. */
START_TEST(failed_rename_removes_temp) {
  char path[PATH_MAX], tmp[PATH_MAX + 32], inner[PATH_MAX + 16];
  path_in(path, sizeof(path), "adir");
  ck_assert_int_eq(mkdir(path, 0755), 0);
  snprintf(inner, sizeof(inner), "%s/x", path);
  FILE *f = fopen(inner, "w");
  ck_assert_ptr_nonnull(f);
  fclose(f);
  json_t *doc = result_doc__new(NULL);
  int rc = result_doc__write(doc, path);
  ck_assert_msg(rc == -EISDIR || rc == -ENOTEMPTY || rc == -EEXIST, "rc %d", rc);
  snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
  ck_assert_int_eq(access(tmp, F_OK), -1);
  json_decref(doc);
}
END_TEST

START_TEST(write_into_missing_dir_or_proc_fails) {
  char path[PATH_MAX];
  path_in(path, sizeof(path), "no/such/dir/r.json");
  json_t *doc = result_doc__new(NULL);
  ck_assert_int_eq(result_doc__write(doc, path), -ENOENT);
  ck_assert_int_lt(result_doc__write(doc, "/proc/vtb-result.json"), 0);
  ck_assert_int_eq(access("/proc/vtb-result.json", F_OK), -1);
  json_decref(doc);
}
END_TEST

/* A full file system: in a private mount namespace (this forked test
 * process only), a 64 KiB tmpfs. The write fails with ENOSPC and the old
 * document survives; check_writable reports the lack of space up front. */
START_TEST(disk_full) {
  char mnt[PATH_MAX], path[PATH_MAX + 16], err[512];
  if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
    printf("SKIP disk_full: cannot make a private mount namespace: %s\n", strerror(errno));
    return;
  }
  path_in(mnt, sizeof(mnt), "small");
  ck_assert_int_eq(mkdir(mnt, 0755), 0);
  if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") != 0) {
    printf("SKIP disk_full: cannot mount tmpfs: %s\n", strerror(errno));
    return;
  }
  snprintf(path, sizeof(path), "%s/r.json", mnt);
  json_t *a = result_doc__new(sample_context());
  ck_assert_int_eq(result_doc__write(a, path), 0);
  char *before = slurp(path);
  json_t *big = result_doc__new(sample_context());
  for (int i = 0; i < 2000; i++)
    result_doc__add_run(big, sample_run("pio", i));
  ck_assert_int_eq(result_doc__write(big, path), -ENOSPC);
  char *after = slurp(path);
  ck_assert_str_eq(before, after);
  char tmp[PATH_MAX + 48];
  snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
  ck_assert_int_eq(access(tmp, F_OK), -1);
  ck_assert_int_eq(result_doc__check_writable(path, err, sizeof(err)), -ENOSPC);
  ck_assert_msg(strstr(err, "free") && strstr(err, mnt), "message: %s", err);
  free(before);
  free(after);
  json_decref(a);
  json_decref(big);
  umount2(mnt, MNT_DETACH);
}
END_TEST

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

START_TEST(read_missing_file) {
  char path[PATH_MAX], err[512];
  path_in(path, sizeof(path), "absent.json");
  ck_assert_ptr_null(result_doc__read(path, err, sizeof(err)));
  ck_assert_msg(strstr(err, path) && strstr(err, "cannot read"), "message: %s", err);
}
END_TEST

START_TEST(read_directory_says_so) {
  char path[PATH_MAX], err[512];
  path_in(path, sizeof(path), "a_dir");
  ck_assert_int_eq(mkdir(path, 0755), 0);
  ck_assert_ptr_null(result_doc__read(path, err, sizeof(err)));
  ck_assert_msg(strstr(err, path) && strstr(err, "is a directory"), "message: %s", err);
  rmdir(path);
}
END_TEST

START_TEST(read_bad_json_names_line) {
  char path[PATH_MAX], err[512], want[PATH_MAX + 8];
  path_in(path, sizeof(path), "bad.json");
  write_text(path, "{\n  \"schema\": {\"name\": \"vtbench-result\"},\n  oops\n}\n");
  ck_assert_ptr_null(result_doc__read(path, err, sizeof(err)));
  snprintf(want, sizeof(want), "%s:3:", path);
  ck_assert_msg(strstr(err, want), "no file:line in: %s", err);
}
END_TEST

START_TEST(read_wrong_schema_name) {
  char path[PATH_MAX], err[512];
  path_in(path, sizeof(path), "other.json");
  write_text(path, "{\"schema\": {\"name\": \"google-benchmark\", \"version\": 1},"
                   " \"context\": {}, \"runs\": []}");
  ck_assert_ptr_null(result_doc__read(path, err, sizeof(err)));
  ck_assert_msg(strstr(err, path) && strstr(err, "google-benchmark") &&
                    strstr(err, VTB_SCHEMA_NAME),
                "message: %s", err);
  write_text(path, "[1, 2]");
  ck_assert_ptr_null(result_doc__read(path, err, sizeof(err)));
  ck_assert_msg(strstr(err, "not an object"), "message: %s", err);
}
END_TEST

START_TEST(read_newer_version) {
  char path[PATH_MAX], err[512];
  path_in(path, sizeof(path), "new.json");
  char text[256];
  snprintf(text, sizeof(text),
           "{\"schema\": {\"name\": \"%s\", \"version\": %d}, \"context\": {}, \"runs\": [],"
           " \"aggregates\": []}",
           VTB_SCHEMA_NAME, VTB_SCHEMA_VERSION + 1);
  write_text(path, text);
  ck_assert_ptr_null(result_doc__read(path, err, sizeof(err)));
  ck_assert_msg(strstr(err, path) && strstr(err, "newer"), "message: %s", err);
}
END_TEST

START_TEST(read_missing_runs) {
  char path[PATH_MAX], err[512];
  path_in(path, sizeof(path), "noruns.json");
  write_text(path, "{\"schema\": {\"name\": \"vtbench-result\", \"version\": 1}, \"context\": {}}");
  ck_assert_ptr_null(result_doc__read(path, err, sizeof(err)));
  ck_assert_msg(strstr(err, "runs"), "message: %s", err);
}
END_TEST

START_TEST(check_writable_cases) {
  char path[PATH_MAX], err[512], probe[PATH_MAX + 32];
  path_in(path, sizeof(path), "ok.json");
  ck_assert_msg(result_doc__check_writable(path, err, sizeof(err)) == 0, "%s", err);
  snprintf(probe, sizeof(probe), "%s.tmp.%ld", path, (long)getpid());
  ck_assert_int_eq(access(probe, F_OK), -1); /* the probe is gone */
  ck_assert_int_eq(access(path, F_OK), -1);  /* and nothing was created */

  path_in(path, sizeof(path), "missing/ok.json");
  ck_assert_int_eq(result_doc__check_writable(path, err, sizeof(err)), -ENOENT);
  ck_assert_msg(strstr(err, "missing"), "message: %s", err);

  ck_assert_int_eq(result_doc__check_writable(dir, err, sizeof(err)), -EISDIR);
  ck_assert_msg(strstr(err, "is a directory"), "message: %s", err);

  path_in(path, sizeof(path), "plain");
  write_text(path, "x");
  path_in(path, sizeof(path), "plain/r.json");
  ck_assert_int_eq(result_doc__check_writable(path, err, sizeof(err)), -ENOTDIR);

  ck_assert_int_lt(result_doc__check_writable("/proc/vtb.json", err, sizeof(err)), 0);
  ck_assert_msg(strstr(err, "/proc"), "message: %s", err);
  ck_assert_int_eq(result_doc__check_writable("", err, sizeof(err)), -EINVAL);
}
END_TEST

Suite *suite_result_doc(void) {
  Suite *s = suite_create("result_doc");
  TCase *tc = tcase_create("core");
  /* One directory per test case, made and removed by the runner itself so
   * a failing (forked) test does not leave it behind; names are unique per
   * test. */
  tcase_add_unchecked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, new_has_envelope);
  tcase_add_test(tc, round_trip);
  tcase_add_test(tc, schema_rejects_broken_run);
  tcase_add_test(tc, real_exit_stats_validate);
  tcase_add_test(tc, write_replaces_and_leaves_no_temp);
  tcase_add_test(tc, failed_write_keeps_old_file);
  tcase_add_test(tc, failed_rename_removes_temp);
  tcase_add_test(tc, write_into_missing_dir_or_proc_fails);
  tcase_add_test(tc, disk_full);
  tcase_add_test(tc, read_missing_file);
  tcase_add_test(tc, read_directory_says_so);
  tcase_add_test(tc, read_bad_json_names_line);
  tcase_add_test(tc, read_wrong_schema_name);
  tcase_add_test(tc, read_newer_version);
  tcase_add_test(tc, read_missing_runs);
  tcase_add_test(tc, check_writable_cases);
  suite_add_tcase(s, tc);
  return s;
}
