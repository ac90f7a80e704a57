/* test_campaign.c - the campaign directory's pure parts (vtbench/campaign.h):
 * shard lists as Slurm's --array takes them, site names, how a shard's
 * state is told from its document, lock and task record, how it is
 * described, the host a document's context names, and a campaign.json
 * read back. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vtbench/campaign.h"

START_TEST(test_lists) {
  bool sel[9];
  char err[256], buf[64];
  ck_assert_int_eq(campaign__parse_list("1-3,5", 8, sel, err, sizeof(err)), 0);
  ck_assert(sel[1] && sel[2] && sel[3] && !sel[4] && sel[5] && !sel[6] && !sel[8]);
  campaign__list_str(sel, 8, buf, sizeof(buf));
  ck_assert_str_eq(buf, "1-3,5");
  ck_assert_int_eq(campaign__parse_list("8,7,1", 8, sel, err, sizeof(err)), 0);
  campaign__list_str(sel, 8, buf, sizeof(buf));
  ck_assert_str_eq(buf, "1,7-8");
  ck_assert_int_eq(campaign__parse_list("2", 8, sel, err, sizeof(err)), 0);
  campaign__list_str(sel, 8, buf, sizeof(buf));
  ck_assert_str_eq(buf, "2");
  static const char *const bad[] = {"",   "0", "9",   "3-2", "1,",         ",1",
                                    "1-", "a", "1 2", "2-9", "99999999999"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    ck_assert_msg(campaign__parse_list(bad[i], 8, sel, err, sizeof(err)) == -1, "\"%s\" accepted",
                  bad[i]);
    ck_assert(strstr(err, "shard numbers 1..8"));
  }
}
END_TEST

START_TEST(test_sites) {
  char err[256];
  ck_assert_int_eq(campaign__check_site("default", err, sizeof(err)), 0);
  ck_assert_int_eq(campaign__check_site("epyc-7763.kvm_amd", err, sizeof(err)), 0);
  static const char *const bad[] = {
      "",   "..",  ".hidden", "a/b",
      "-x", "a b", "report",  "0123456789012345678901234567890123456789012345678901234567890123"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    ck_assert_msg(campaign__check_site(bad[i], err, sizeof(err)) == -1, "\"%s\" accepted", bad[i]);
}
END_TEST

static json_t *env_with(const char *status, long long total) {
  return json_pack("{s:{s:s,s:I}}", "session", "status", status, "jobs_total", (json_int_t)total);
}

START_TEST(test_classify) {
  struct shard_info s = {.i = 2, .n = 4};
  char line[2048];
  campaign__classify(&s, NULL, false, NULL);
  ck_assert_int_eq(s.state, SHARD_NOT_RUN);
  campaign__describe(&s, line, sizeof(line));
  ck_assert_str_eq(line, "shard 2/4: not run");

  /* killed with SIGKILL: an attempt that never recorded its end */
  json_t *rec = json_pack("{s:[{s:s,s:s,s:s,s:s}]}", "attempts", "host", "node7", "started",
                          "2026-01-01T00:00:00Z", "scheduler", "slurm job 12_2", "log", "/c/l.log");
  json_t *env = env_with("incomplete", 20);
  s.runs = 3;
  campaign__classify(&s, env, false, rec);
  ck_assert_int_eq(s.state, SHARD_PARTIAL);
  ck_assert(!s.ended);
  campaign__describe(&s, line, sizeof(line));
  ck_assert_str_eq(line, "shard 2/4: interrupted after 3 of 20 runs (attempt 1 on node7: ended "
                         "without a record (killed by SIGKILL, or its node went down), slurm job "
                         "12_2; log /c/l.log)");

  /* the same document while its writer holds the lock */
  campaign__classify(&s, env, true, rec);
  ck_assert_int_eq(s.state, SHARD_RUNNING);
  campaign__describe(&s, line, sizeof(line));
  ck_assert(strstr(line, "running, 3 of 20 runs so far (attempt 1 on node7 since "));

  /* a second attempt that ended and completed the document */
  json_array_append_new(json_object_get(rec, "attempts"),
                        json_pack("{s:s,s:i,s:s,s:s}", "host", "node8", "exit_status", 0, "how",
                                  "exit 0", "scheduler", "slurm job 15_2"));
  json_decref(env);
  env = env_with("complete", 20);
  s.runs = 20;
  s.runs_bad = 1;
  campaign__classify(&s, env, false, rec);
  ck_assert_int_eq(s.state, SHARD_COMPLETE);
  ck_assert_uint_eq(s.attempts, 2);
  campaign__describe(&s, line, sizeof(line));
  ck_assert_str_eq(line, "shard 2/4: complete, 20 runs, 1 not ok (attempt 2 on node8: exit 0, "
                         "slurm job 15_2)");

  /* attempts that ended without a document */
  json_t *rec2 =
      json_pack("{s:[{s:s,s:i,s:s}]}", "attempts", "host", "n1", "exit_status", 3, "how", "exit 3");
  s.runs = s.runs_bad = 0;
  campaign__classify(&s, NULL, false, rec2);
  ck_assert_int_eq(s.state, SHARD_FAILED);
  ck_assert_int_eq(s.exit_status, 3);
  campaign__describe(&s, line, sizeof(line));
  ck_assert_str_eq(line, "shard 2/4: failed, no document written (attempt 1 on n1: exit 3)");
  json_decref(rec2);
  json_decref(rec);
  json_decref(env);
}
END_TEST

START_TEST(test_host_of) {
  json_t *ctx = json_pack("{s:s,s:{s:s},s:{s:s},s:{s:s,s:{s:s,s:s}}}", "host", "vm", "cpu",
                          "model_name", "AMD EPYC 7B13", "kernel", "release", "6.1.0-18-amd64",
                          "kvm", "flavour", "kvm_pvm", "modes", "paging", "shadow", "tlb", "flush");
  char buf[512];
  campaign__host_of(ctx, buf, sizeof(buf));
  ck_assert_str_eq(buf, "vm: AMD EPYC 7B13, kernel 6.1.0-18-amd64, kvm_pvm shadow/flush");
  campaign__host_of(NULL, buf, sizeof(buf));
  ck_assert_str_eq(buf, "?: ?, kernel ?, ? ?/?");
  json_decref(ctx);
}
END_TEST

START_TEST(test_load) {
  char dir[] = "/tmp/vtb_campaign_XXXXXX", path[128], err[1024];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  struct campaign c;
  ck_assert_int_eq(campaign__load(&c, dir, err, sizeof(err)), -1);
  ck_assert(strstr(err, "no campaign.json"));
  snprintf(path, sizeof(path), "%s/campaign.json", dir);
  FILE *f = fopen(path, "w");
  fputs("{\"campaign\": {\"name\": \"vtbench-campaign\", \"version\": 1}, \"shards\": 0, "
        "\"matrix_options\": [], \"run_options\": []}",
        f);
  fclose(f);
  ck_assert_int_eq(campaign__load(&c, dir, err, sizeof(err)), -1);
  ck_assert(strstr(err, "shards 1..10000"));
  f = fopen(path, "w");
  fputs("{\"campaign\": {\"name\": \"vtbench-campaign\", \"version\": 1}, \"shards\": 3, "
        "\"matrix_options\": [\"--quick\"], \"run_options\": [\"--timeout\", \"60\"]}",
        f);
  fclose(f);
  ck_assert_int_eq(campaign__load(&c, dir, err, sizeof(err)), 0);
  ck_assert_uint_eq(c.shards, 3);
  ck_assert_str_eq(json_string_value(json_array_get(c.matrix_args, 0)), "--quick");
  char doc[4200];
  campaign__shard_doc(&c, "a", 2, doc, sizeof(doc));
  ck_assert(strstr(doc, "/a/shards/shard-2.json"));
  ck_assert_int_eq(campaign__make_site(&c, "a", err, sizeof(err)), 0);
  json_t *sites = campaign__sites(&c);
  ck_assert_uint_eq(json_array_size(sites), 1);
  ck_assert_str_eq(json_string_value(json_array_get(sites, 0)), "a");
  /* a shard never run: not run, and status creates nothing */
  struct shard_info s;
  ck_assert_int_eq(campaign__shard_info(&c, "a", 1, &s, err, sizeof(err)), 0);
  ck_assert_int_eq(s.state, SHARD_NOT_RUN);
  snprintf(path, sizeof(path), "%s/a/shards/shard-1.json.lock", dir);
  ck_assert_int_ne(access(path, F_OK), 0);
  json_decref(sites);
  campaign__free(&c);
  char cmd[160];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *suite_campaign(void) {
  Suite *s = suite_create("campaign");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_lists);
  tcase_add_test(tc, test_sites);
  tcase_add_test(tc, test_classify);
  tcase_add_test(tc, test_host_of);
  tcase_add_test(tc, test_load);
  suite_add_tcase(s, tc);
  return s;
}
