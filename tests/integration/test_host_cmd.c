/* test_host_cmd.c - `vtbench host show|set|restore` as users run them:
 * show prints the flavour, the modes and where they come from; on the live
 * host here (a paravirtual flavour) `host set ... --yes` refuses with the
 * reason, runs nothing and changes nothing; fixture trees give the same
 * answers without touching the host. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/kvm/kvm_host.h"
#include "tests/lib/run_refvmm.h"

struct out {
  int status;
  char text[16384];
};

/* Run vtbench with args; stdout then stderr in text. */
static void vtbench(struct out *o, const char *const *args) {
  struct refvmm_result r;
  ck_assert_int_eq(run_vtbench(&r, NULL, args), 0);
  o->status = r.exit_code;
  snprintf(o->text, sizeof o->text, "%s%s", r.out, r.err);
  refvmm_result__free(&r);
}

static struct out o;

START_TEST(show_prints_flavour_modes_and_params) {
  const char *a[] = {"host", "show", "--sysfs", "tests/fixtures/sysfs/kvm_intel", NULL};
  vtbench(&o, a);
  ck_assert_msg(o.status == 0, "exit %d: %s", o.status, o.text);
  ck_assert_ptr_nonnull(strstr(o.text, "flavour   kvm_intel (Intel VT-x)"));
  ck_assert_ptr_nonnull(strstr(o.text, "paging  ept      set by kvm_intel.ept"));
  ck_assert_ptr_nonnull(strstr(o.text, "tlb     vpid     set by kvm_intel.vpid"));
  ck_assert_ptr_nonnull(strstr(o.text, "built into the kernel")); /* no refcnt in the fixture */
  const char *j[] = {"host", "show", "--json", "--sysfs", "tests/fixtures/sysfs/kvm_amd", NULL};
  vtbench(&o, j);
  ck_assert_int_eq(o.status, 0);
  json_error_t je;
  json_t *doc = json_loads(o.text, 0, &je);
  ck_assert_msg(doc != NULL, "not JSON: %s", o.text);
  ck_assert_str_eq(json_string_value(json_object_get(doc, "flavour")), "kvm_amd");
  ck_assert(json_is_false(json_object_get(doc, "reconfigurable")));
  json_decref(doc);
}
END_TEST

START_TEST(set_on_live_host_refuses_and_changes_nothing) {
  static struct kvm_host_info before, after;
  ck_assert_int_eq(kvm_host__detect(NULL, &before), 0);
  char why[512];
  struct kvm_host_env env = {0};
  if (kvm_host__can_reload(&before, &env, why, sizeof why) == 0) {
    printf("SKIP %s: %s here can be reloaded; not reloading it in a test\n", __FILE__,
           before.module);
    return;
  }
  char state[] = "/tmp/vtb_hoststate_XXXXXX";
  int fd = mkstemp(state);
  ck_assert_int_ge(fd, 0);
  close(fd);
  unlink(state);
  const char *a[] = {"host", "set", "ept=0", "vpid=1", "vnmi=1", "--yes", "--state", state, NULL};
  vtbench(&o, a);
  printf("vtbench host set here: exit %d: %s", o.status, o.text);
  ck_assert_int_eq(o.status, 1);
  ck_assert_ptr_nonnull(strstr(o.text, before.module));
  ck_assert_ptr_nonnull(strstr(o.text, "nothing was changed"));
  ck_assert_int_ne(access(state, F_OK), 0);
  const char *r[] = {"host", "restore", "--state", state, NULL};
  vtbench(&o, r);
  ck_assert_int_eq(o.status, 0);
  ck_assert_ptr_nonnull(strstr(o.text, "nothing to restore"));
  ck_assert_int_eq(kvm_host__detect(NULL, &after), 0);
  ck_assert_int_eq(after.vendor.n, before.vendor.n);
  for (int i = 0; i < before.vendor.n; i++)
    ck_assert_str_eq(after.vendor.p[i].value, before.vendor.p[i].value);
}
END_TEST

START_TEST(bad_words_are_refused) {
  const char *a[] = {"host", "frob", NULL};
  vtbench(&o, a);
  ck_assert_int_eq(o.status, 2);
  ck_assert_ptr_nonnull(strstr(o.text, "unknown subcommand 'frob'"));
}
END_TEST

Suite *suite_host_cmd(void) {
  Suite *s = suite_create("host_cmd");
  TCase *tc = tcase_create("host");
  tcase_add_test(tc, show_prints_flavour_modes_and_params);
  tcase_add_test(tc, set_on_live_host_refuses_and_changes_nothing);
  tcase_add_test(tc, bad_words_are_refused);
  suite_add_tcase(s, tc);
  return s;
}
