/* test_linux_guest.c - vtbench's side of the Linux guest: the catalog's
 * linux:NAME entries take only their own parameters (no cpl/syscall), the
 * standard matrix leaves them out (they need a kernel), and the kernel
 * command line a run gets carries the workload and every parameter as
 * vtb.KEY=VALUE words and refuses what a command line cannot hold. */
#include <check.h>
#include <jansson.h>
#include <string.h>

#include "vtbench/linux_guest.h"
#include "vtbench/matrix.h"
#include "vtbench/workload_catalog.h"

START_TEST(test_catalog_linux_entries) {
  const struct wl_info *w = workload_catalog__find("linux:forkexec");
  ck_assert_ptr_nonnull(w);
  ck_assert(workload_catalog__is_linux(w));
  ck_assert(!workload_catalog__is_linux(workload_catalog__find("forkwait")));
  ck_assert_ptr_nonnull(workload_catalog__param(w, "n"));
  ck_assert_ptr_null(workload_catalog__param(w, "cpl"));
  ck_assert_ptr_null(workload_catalog__param(w, "syscall"));
  ck_assert_ptr_nonnull(workload_catalog__param(workload_catalog__find("forkwait"), "syscall"));
  char names[160];
  workload_catalog__param_names(workload_catalog__find("linux:ptrchase"), names, sizeof names);
  ck_assert_str_eq(names, "n, ws, page, seed");
  static const char *const all[] = {"null", "fork",     "forkexec", "pgfault", "mprotect",
                                    "ctx",  "ptrchase", "gups",     "make"};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    char name[32];
    snprintf(name, sizeof name, "linux:%s", all[i]);
    ck_assert_msg(workload_catalog__find(name), "%s missing from the catalog", name);
  }
}
END_TEST

START_TEST(test_standard_matrix_has_no_linux_workload) {
  struct matrix m;
  matrix__standard(&m);
  ck_assert(!linux_guest__in_matrix(&m));
  ck_assert_uint_gt(m.nworkloads, 10);
  matrix__free(&m);
  char err[256];
  json_t *j = json_loads("{\"workloads\": [\"pio\", {\"name\": \"linux:ctx\", \"params\": {\"n\": "
                         "10}}], \"modes\": [\"native\"]}",
                         0, NULL);
  ck_assert_int_eq(matrix__from_json(&m, j, "test", err, sizeof err), 0);
  ck_assert(linux_guest__in_matrix(&m));
  json_decref(j);
  matrix__free(&m);
  /* a freestanding-only parameter is refused for a Linux workload */
  j = json_loads("{\"workloads\": [{\"name\": \"linux:ctx\", \"params\": {\"cpl\": 3}}]}", 0, NULL);
  ck_assert_int_ne(matrix__from_json(&m, j, "test", err, sizeof err), 0);
  ck_assert_ptr_nonnull(strstr(err, "linux:ctx has no such parameter"));
  json_decref(j);
}
END_TEST

START_TEST(test_cmdline_words) {
  char buf[512];
  json_t *p = json_pack("{s:i,s:s,s:i}", "n", 1000, "page", "2m", "ws", 4194304);
  ck_assert_int_eq(linux_guest__cmdline("linux:gups", p, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, LINUX_GUEST_BASE_CMDLINE
                   " vtb.workload=gups vtb.n=1000 vtb.page=2m vtb.ws=4194304");
  json_decref(p);
  p = json_object();
  ck_assert_int_eq(linux_guest__cmdline("linux:null", p, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, LINUX_GUEST_BASE_CMDLINE " vtb.workload=null");
  ck_assert_int_eq(linux_guest__cmdline("pio", p, buf, sizeof buf), -1);
  ck_assert_ptr_nonnull(strstr(buf, "not a workload of the Linux guest"));
  json_object_set_new(p, "n", json_integer(123456789));
  ck_assert_int_eq(linux_guest__cmdline("linux:null", p, buf, 80), -1);
  ck_assert_ptr_nonnull(strstr(buf, "longer than 79 bytes"));
  json_decref(p);
  /* a word that would split into two kernel parameters */
  p = json_pack("{s:s}", "page", "4k vtb.n=1");
  ck_assert_int_eq(linux_guest__cmdline("linux:gups", p, buf, sizeof buf), -1);
  ck_assert_ptr_nonnull(strstr(buf, "cannot go on a kernel command line"));
  json_decref(p);
}
END_TEST

START_TEST(test_argv_for_refvmm) {
  struct linux_guest lg;
  memset(&lg, 0, sizeof lg);
  strcpy(lg.kernel, "/k/vmlinuz");
  strcpy(lg.initrd, "/i/initramfs.cpio");
  const char *argv[16];
  char cmdline[512];
  int a = 2;
  json_t *p = json_pack("{s:i}", "n", 7);
  ck_assert_int_eq(linux_guest__argv(&lg, "linux:fork", p, argv, &a, cmdline, sizeof cmdline), 0);
  ck_assert_int_eq(a, 8);
  ck_assert_str_eq(argv[2], "--kernel");
  ck_assert_str_eq(argv[3], "/k/vmlinuz");
  ck_assert_str_eq(argv[4], "--initrd");
  ck_assert_str_eq(argv[5], "/i/initramfs.cpio");
  ck_assert_str_eq(argv[6], "--cmdline");
  ck_assert_str_eq(argv[7], LINUX_GUEST_BASE_CMDLINE " vtb.workload=fork vtb.n=7");
  json_decref(p);
}
END_TEST

Suite *suite_linux_guest(void) {
  Suite *s = suite_create("linux_guest");
  TCase *tc = tcase_create("plan");
  tcase_add_test(tc, test_catalog_linux_entries);
  tcase_add_test(tc, test_standard_matrix_has_no_linux_workload);
  tcase_add_test(tc, test_cmdline_words);
  tcase_add_test(tc, test_argv_for_refvmm);
  suite_add_tcase(s, tc);
  return s;
}
