/* test_validate_time.c - `vtbench validate --time`'s verdict and line: a
 * ratio inside 1 +- tolerance passes (both bounds inclusive), outside, zero,
 * negative or non-finite times fail; the line gives both times,
 * the ratio and the tolerance; every workload of the table is found by name
 * and carries the tolerance of its kind. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "vtbench/validate_time.h"

START_TEST(test_verdict) {
  ck_assert(vtime__pass(100, 100, 0.25));
  ck_assert(vtime__pass(125, 100, 0.25));
  ck_assert(vtime__pass(75, 100, 0.25));
  ck_assert(!vtime__pass(125.1, 100, 0.25));
  ck_assert(!vtime__pass(74.9, 100, 0.25));
  ck_assert(vtime__pass(134, 100, 0.35));
  ck_assert(!vtime__pass(0, 100, 0.25));
  ck_assert(!vtime__pass(100, 0, 0.25));
  ck_assert(!vtime__pass(-100, -100, 0.25));
  ck_assert(!vtime__pass(NAN, 100, 0.25));
  ck_assert(!vtime__pass(100, INFINITY, 0.25));
}
END_TEST

START_TEST(test_line) {
  char b[300];
  vtime__line(b, sizeof b, "compute", 3.40, 3.36, VTIME_TOL_NATIVE);
  ck_assert_str_eq(b, "compute ns/iter model 3.40 kvm 3.36 (1.01x, tolerance \u00b125%)");
  vtime__line(b, sizeof b, "forkwait", 5353250, 2916993, VTIME_TOL_SHADOW);
  ck_assert_str_eq(b, "forkwait ns/iter model 5353250 kvm 2916993 (1.84x, tolerance \u00b135%)");
  vtime__line(b, sizeof b, "gups", 7.59, 10.5, VTIME_TOL_NATIVE);
  ck_assert_str_eq(b, "gups ns/iter model 7.59 kvm 10.5 (0.72x, tolerance \u00b125%)");
}
END_TEST

START_TEST(test_workloads) {
  static const char *const native[] = {"compute",   "callret", "gups",   "ptrchase",
                                       "memstream", "syscall", "divzero"};
  static const char *const shadow[] = {"pgfault", "ptemod", "cr3switch", "forkwait"};
  for (size_t i = 0; i < sizeof native / sizeof native[0]; i++) {
    const struct vtime_workload *w = vtime__workload(native[i]);
    ck_assert_msg(w != NULL, "%s", native[i]);
    ck_assert(!w->shadow_only && w->tolerance == VTIME_TOL_NATIVE);
    ck_assert_ptr_nonnull(w->params[0]);
    ck_assert_ptr_nonnull(w->quick[0]);
  }
  for (size_t i = 0; i < sizeof shadow / sizeof shadow[0]; i++) {
    const struct vtime_workload *w = vtime__workload(shadow[i]);
    ck_assert_msg(w != NULL, "%s", shadow[i]);
    ck_assert(w->shadow_only && w->tolerance == VTIME_TOL_SHADOW);
  }
  ck_assert_uint_eq(vtime_workloads_len, 11);
  ck_assert_ptr_null(vtime__workload("nosuch"));
}
END_TEST

Suite *suite_validate_time(void) {
  Suite *s = suite_create("validate_time");
  TCase *tc = tcase_create("validate_time");
  tcase_add_test(tc, test_verdict);
  tcase_add_test(tc, test_line);
  tcase_add_test(tc, test_workloads);
  suite_add_tcase(s, tc);
  return s;
}
