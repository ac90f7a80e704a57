/* test_vmcall.c - refvmm's KVM_EXIT_HYPERCALL handler (refvmm/vmcall.c):
 * the answer the vmcall workload's checksum is built on, and the refusal of
 * numbers refvmm never enabled. */
#include <check.h>
#include <linux/kvm.h>
#include <string.h>

#include "refvmm/vm.h"
#include "refvmm/vmcall.h"

static struct vm vm;

static void setup(void) {
  memset(&vm, 0, sizeof vm);
}

START_TEST(map_gpa_range_answered_with_cookie) {
  uint64_t ret = 0;
  struct vcpu_exit e = {.reason = KVM_EXIT_HYPERCALL};
  e.hypercall.nr = 12; /* KVM_HC_MAP_GPA_RANGE, written out again */
  e.hypercall.args[0] = 0x1000;
  e.hypercall.args[1] = 1;
  e.hypercall.args[2] = 0x1234;
  e.hypercall.ret = &ret;
  ck_assert_int_eq(vmcall__handle(&vm, &e), 0);
  ck_assert_uint_eq(ret, 0x1234ull ^ 0x766d6d63616c6cull);
  ck_assert_int_eq(vm.status, RUN_OK);
}
END_TEST

START_TEST(other_numbers_stop_the_run_naming_them) {
  uint64_t ret = 77;
  struct vcpu_exit e = {.reason = KVM_EXIT_HYPERCALL};
  e.hypercall.nr = 9;
  e.hypercall.ret = &ret;
  ck_assert_int_eq(vmcall__handle(&vm, &e), 1);
  ck_assert_int_eq(vm.status, RUN_INTERNAL_ERROR);
  ck_assert_ptr_nonnull(strstr(vm.status_detail, "number 9"));
  ck_assert_uint_eq(ret, 77);
}
END_TEST

Suite *suite_vmcall(void) {
  Suite *s = suite_create("vmcall");
  TCase *tc = tcase_create("handler");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, map_gpa_range_answered_with_cookie);
  tcase_add_test(tc, other_numbers_stop_the_run_naming_them);
  suite_add_tcase(s, tc);
  return s;
}
