/* test_matrix_host.c - which KVM module settings each kvm cell of a matrix
 * needs (matrix__host_plan, used by `vtbench run --allow-host-reconfig`),
 * against the sysfs fixtures: kvm_intel reloads ept/vpid, kvm_amd only npt
 * (ASIDs are always on), kvm_pvm and no KVM cannot give anything but what
 * they run. The reload/restore itself: test_kvm_host_set.c and
 * tests/scripts/host_reconfig.sh. */
#include <check.h>
#include <string.h>

#include "refvmm/kvm/kvm_host.h"
#include "vtbench/matrix.h"

#define FIXTURES "tests/fixtures/sysfs/"

static struct kvm_host_info h;

static void load(const char *root) {
  ck_assert_int_eq(kvm_host__detect(root, &h), 0);
}

/* plan for "paging/tlb" on the loaded host: rc, plan text in buf. */
static int plan_for(const char *mode, char *buf, size_t len, char *why, size_t wlen) {
  struct matrix_mode md;
  char err[256];
  ck_assert_msg(matrix__parse_mode(mode, &md, err, sizeof err) == 0, "%s", err);
  struct kvm_host_plan p;
  why[0] = '\0';
  int rc = matrix__host_plan(&h, &md, &p, why, wlen);
  buf[0] = '\0';
  if (rc == 0) matrix__plan_str(&p, buf, len);
  if (rc == 0 && p.n == 0) buf[0] = '\0';
  return rc;
}

START_TEST(intel_reloads_ept_and_vpid) {
  load(FIXTURES "kvm_intel");
  char plan[256], why[512];
  ck_assert_int_eq(plan_for("ept/vpid", plan, sizeof plan, why, sizeof why), 0);
  ck_assert_str_eq(plan, ""); /* the fixture runs ept=Y vpid=Y */
  ck_assert_int_eq(plan_for("shadow/vpid/window/window", plan, sizeof plan, why, sizeof why), 0);
  ck_assert_str_eq(plan, "kvm_intel ept=0");
  ck_assert_int_eq(plan_for("shadow/flush", plan, sizeof plan, why, sizeof why), 0);
  ck_assert_str_eq(plan, "kvm_intel ept=0 vpid=0");
  ck_assert_int_eq(plan_for("ept/flush", plan, sizeof plan, why, sizeof why), 0);
  ck_assert_str_eq(plan, "kvm_intel vpid=0");
  ck_assert_int_eq(plan_for("native", plan, sizeof plan, why, sizeof why), -1);
  ck_assert_ptr_nonnull(strstr(why, "native"));
}
END_TEST

START_TEST(amd_reloads_npt_only) {
  load(FIXTURES "kvm_amd");
  char plan[256], why[512];
  ck_assert_int_eq(plan_for("ept/vpid", plan, sizeof plan, why, sizeof why), 0);
  ck_assert_str_eq(plan, "");
  ck_assert_int_eq(plan_for("shadow/vpid", plan, sizeof plan, why, sizeof why), 0);
  ck_assert_str_eq(plan, "kvm_amd npt=0");
  ck_assert_int_eq(plan_for("shadow/flush", plan, sizeof plan, why, sizeof why), -1);
  ck_assert_msg(strstr(why, "asid") != NULL, "why: %s", why);
}
END_TEST

START_TEST(pvm_and_none_refuse_with_the_reason) {
  load(FIXTURES "kvm_pvm");
  char plan[256], why[512];
  ck_assert_int_eq(plan_for("shadow/flush", plan, sizeof plan, why, sizeof why), 0);
  ck_assert_str_eq(plan, ""); /* what it always runs */
  ck_assert_int_eq(plan_for("ept/vpid", plan, sizeof plan, why, sizeof why), -1);
  ck_assert_msg(strstr(why, "kvm_pvm") && strstr(why, "shadow"), "why: %s", why);
  load(FIXTURES "none");
  ck_assert_int_eq(plan_for("ept/vpid", plan, sizeof plan, why, sizeof why), -1);
  ck_assert_msg(why[0] != '\0', "no reason given");
}
END_TEST

START_TEST(plans_compare_by_module_and_settings) {
  struct kvm_host_plan a = {.module = "kvm_intel", .n = 1}, b;
  strcpy(a.set[0].name, "ept");
  strcpy(a.set[0].value, "0");
  b = a;
  ck_assert(matrix__plan_eq(&a, &b));
  strcpy(b.set[0].value, "1");
  ck_assert(!matrix__plan_eq(&a, &b));
  b = a;
  strcpy(b.module, "kvm_amd");
  ck_assert(!matrix__plan_eq(&a, &b));
}
END_TEST

Suite *suite_matrix_host(void) {
  Suite *s = suite_create("matrix_host");
  TCase *tc = tcase_create("plans");
  tcase_add_test(tc, intel_reloads_ept_and_vpid);
  tcase_add_test(tc, amd_reloads_npt_only);
  tcase_add_test(tc, pvm_and_none_refuse_with_the_reason);
  tcase_add_test(tc, plans_compare_by_module_and_settings);
  suite_add_tcase(s, tc);
  return s;
}
