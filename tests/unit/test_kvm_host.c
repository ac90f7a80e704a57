/* test_kvm_host.c - KVM host detection against fixture sysfs trees
 * (tests/fixtures/sysfs/{kvm_intel,kvm_amd,kvm_pvm,none}) and the live host,
 * the parameter -> mode mapping and the mode-mismatch messages. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "refvmm/kvm/kvm_host.h"

#define FIXTURES "tests/fixtures/sysfs"

/* Fixture trees are found from the repository root, or from $VTB_SRCDIR. */
static void fixture_path(char *buf, size_t len, const char *rel) {
  const char *src = getenv("VTB_SRCDIR");
  ck_assert_int_lt(snprintf(buf, len, "%s%s" FIXTURES "/%s", src && *src ? src : "",
                            src && *src ? "/" : "", rel),
                   (int)len);
}

static struct kvm_host_info h; /* big: keep it off the stack */

static void detect_fixture(const char *name) {
  char root[256];
  fixture_path(root, sizeof(root), name);
  ck_assert_int_eq(kvm_host__detect(root, &h), 0);
  ck_assert_str_eq(h.sysroot, root);
  ck_assert_str_eq(h.dev_path, ""); /* fixtures never look at /dev/kvm */
}

/* Entries in a fixture's parameters directory, counted independently. */
static size_t count_entries(const char *rel) {
  char path[512];
  fixture_path(path, sizeof(path), rel);
  DIR *d = opendir(path);
  ck_assert_ptr_nonnull(d);
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    if (de->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static struct vm_modes ask(int paging, int tlb) {
  struct vm_modes m = {0};
  if (paging >= 0) {
    m.paging = (enum paging_mode)paging;
    m.paging_set = true;
  }
  if (tlb >= 0) {
    m.tlb = (enum tlb_mode)tlb;
    m.tlb_set = true;
  }
  return m;
}

START_TEST(intel) {
  detect_fixture("kvm_intel");
  ck_assert_int_eq(h.flavour, KVM_FLAVOUR_INTEL);
  ck_assert_str_eq(h.module, "kvm_intel");
  ck_assert_str_eq(kvm_flavour__name(h.flavour), "kvm_intel");
  ck_assert_int_eq(h.tdp, 1);
  ck_assert_int_eq(h.vpid, 1);
  ck_assert_int_eq(h.vnmi, 1);
  ck_assert_str_eq(kvm_host__paging_name(&h), "ept");
  ck_assert_str_eq(kvm_host__tlb_name(&h), "vpid");
  ck_assert_str_eq(kvm_host__paging_param(&h), "kvm_intel.ept");
  ck_assert_str_eq(kvm_host__param(&h, "kvm_intel", "ple_window_max"), "4294967295");
  ck_assert_str_eq(kvm_host__param(&h, "kvm_intel", "vmentry_l1d_flush"), "not required");
  ck_assert_str_eq(kvm_host__param(&h, "kvm", "halt_poll_ns"), "200000");
  ck_assert_ptr_null(kvm_host__param(&h, "kvm_amd", "npt"));
  ck_assert_ptr_null(kvm_host__param(&h, "kvm_intel", "unreadable_example"));

  /* every file in the parameters directory is there, unreadable as null */
  json_t *j = kvm_host__to_json(&h);
  json_t *params = json_object_get(j, "params");
  ck_assert_int_eq(json_object_size(params),
                   count_entries("kvm_intel/module/kvm_intel/parameters"));
  ck_assert(json_is_null(json_object_get(params, "unreadable_example")));
  ck_assert_str_eq(json_string_value(json_object_get(params, "ept")), "Y");
  ck_assert_int_eq(json_object_size(json_object_get(j, "kvm_params")),
                   count_entries("kvm_intel/module/kvm/parameters"));
  json_t *modes = json_object_get(j, "modes");
  ck_assert_str_eq(json_string_value(json_object_get(modes, "paging")), "ept");
  ck_assert_str_eq(json_string_value(json_object_get(modes, "tlb")), "vpid");
  ck_assert(json_is_true(json_object_get(modes, "vnmi")));
  ck_assert(json_is_null(json_object_get(j, "api_version")));
  json_decref(j);
}
END_TEST

START_TEST(intel_modes_checked) {
  char err[512];
  detect_fixture("kvm_intel");
  struct vm_modes m = ask(-1, -1);
  ck_assert_int_eq(kvm_host__check_modes(&h, &m, err, sizeof(err)), 0);
  ck_assert_int_eq(m.paging, PAGING_EPT); /* filled in from the host */
  ck_assert_int_eq(m.tlb, TLB_VPID);
  m = ask(PAGING_SHADOW, -1);
  ck_assert_int_eq(kvm_host__check_modes(&h, &m, err, sizeof(err)), -1);
  ck_assert_msg(strstr(err, "--paging shadow") && strstr(err, "kvm_intel.ept=Y") &&
                    strstr(err, "ept=0"),
                "message: %s", err);
  m = ask(PAGING_EPT, TLB_FLUSH);
  ck_assert_int_eq(kvm_host__check_modes(&h, &m, err, sizeof(err)), -1);
  ck_assert_msg(strstr(err, "--tlb flush") && strstr(err, "kvm_intel.vpid=Y"), "message: %s", err);
  m = ask(PAGING_NATIVE, -1);
  ck_assert_int_eq(kvm_host__check_modes(&h, &m, err, sizeof(err)), -1);
  ck_assert_msg(strstr(err, "model"), "message: %s", err);
}
END_TEST

START_TEST(amd) {
  char err[512];
  detect_fixture("kvm_amd");
  ck_assert_int_eq(h.flavour, KVM_FLAVOUR_AMD);
  ck_assert_str_eq(h.module, "kvm_amd");
  ck_assert_int_eq(h.tdp, 1); /* npt=1 */
  ck_assert_int_eq(h.vpid, 1);
  ck_assert_int_eq(h.vnmi, 1);
  ck_assert_str_eq(kvm_host__paging_name(&h), "ept");
  ck_assert_str_eq(kvm_host__tlb_name(&h), "asid");
  ck_assert_ptr_null(kvm_host__tlb_param(&h));
  ck_assert_str_eq(kvm_host__paging_param(&h), "kvm_amd.npt");
  struct vm_modes m = ask(-1, TLB_FLUSH);
  ck_assert_int_eq(kvm_host__check_modes(&h, &m, err, sizeof(err)), -1);
  ck_assert_msg(strstr(err, "always uses asid"), "message: %s", err);
  m = ask(PAGING_SHADOW, -1);
  ck_assert_int_eq(kvm_host__check_modes(&h, &m, err, sizeof(err)), -1);
  ck_assert_msg(strstr(err, "kvm_amd.npt=1") && strstr(err, "npt=0"), "message: %s", err);
  json_t *j = kvm_host__to_json(&h);
  json_t *kp = json_object_get(j, "kvm_params");
  ck_assert(json_is_null(json_object_get(kp, "unreadable_example")));
  ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "params"), "npt")), "1");
  json_decref(j);
}
END_TEST

START_TEST(pvm) {
  char err[512];
  detect_fixture("kvm_pvm");
  ck_assert_int_eq(h.flavour, KVM_FLAVOUR_PVM);
  ck_assert_str_eq(kvm_flavour__description(h.flavour), "paravirtual (PVM)");
  ck_assert_int_eq(h.tdp, 0);
  ck_assert_int_eq(h.vpid, 0);
  ck_assert_int_eq(h.vnmi, 0);
  ck_assert_str_eq(kvm_host__paging_name(&h), "shadow");
  ck_assert_str_eq(kvm_host__tlb_name(&h), "flush");
  ck_assert_ptr_null(kvm_host__paging_param(&h));
  ck_assert_str_eq(kvm_host__param(&h, "kvm_pvm", "pvm_native"), "Y");
  struct vm_modes m = ask(PAGING_EPT, -1);
  ck_assert_int_eq(kvm_host__check_modes(&h, &m, err, sizeof(err)), -1);
  ck_assert_msg(strstr(err, "--paging ept") && strstr(err, "kvm_pvm") &&
                    strstr(err, "always uses shadow") && strstr(err, "--backend model"),
                "message: %s", err);
  m = ask(PAGING_SHADOW, TLB_FLUSH);
  ck_assert_int_eq(kvm_host__check_modes(&h, &m, err, sizeof(err)), 0);
}
END_TEST

START_TEST(none) {
  char err[512];
  detect_fixture("none");
  ck_assert_int_eq(h.flavour, KVM_FLAVOUR_NONE);
  ck_assert_str_eq(h.module, "none");
  ck_assert_int_eq(h.tdp, -1);
  ck_assert_int_eq(h.vpid, -1);
  ck_assert_ptr_null(kvm_host__paging_name(&h));
  ck_assert(!h.kvm.present);
  struct vm_modes m = ask(PAGING_SHADOW, -1);
  ck_assert_int_eq(kvm_host__check_modes(&h, &m, err, sizeof(err)), -1);
  ck_assert_msg(strstr(err, "none"), "message: %s", err);
  json_t *j = kvm_host__to_json(&h);
  ck_assert_str_eq(json_string_value(json_object_get(j, "flavour")), "none");
  ck_assert(json_is_null(json_object_get(j, "module")));
  ck_assert(json_is_null(json_object_get(json_object_get(j, "modes"), "paging")));
  json_decref(j);
}
END_TEST

/* Trees built on the fly: intel with everything off, kvm without a vendor
 * module, two vendor modules at once. */
static char tmp[PATH_MAX];

static void put(const char *rel, const char *value) {
  char path[PATH_MAX + 256], cmd[PATH_MAX + 300];
  snprintf(path, sizeof(path), "%s/%s", tmp, rel);
  snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
  ck_assert_int_eq(system(cmd), 0);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fprintf(f, "%s\n", value);
  fclose(f);
}

static void tmp_setup(void) {
  snprintf(tmp, sizeof(tmp), "/tmp/vtb-test-kvm-host-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void tmp_teardown(void) {
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
}

START_TEST(intel_all_off) {
  char err[512];
  put("module/kvm/parameters/halt_poll_ns", "0");
  put("module/kvm_intel/parameters/ept", "N");
  put("module/kvm_intel/parameters/vpid", "N");
  put("module/kvm_intel/parameters/vnmi", "N");
  ck_assert_int_eq(kvm_host__detect(tmp, &h), 0);
  ck_assert_int_eq(h.flavour, KVM_FLAVOUR_INTEL);
  ck_assert_int_eq(h.tdp, 0);
  ck_assert_int_eq(h.vpid, 0);
  ck_assert_int_eq(h.vnmi, 0);
  ck_assert_str_eq(kvm_host__paging_name(&h), "shadow");
  ck_assert_str_eq(kvm_host__tlb_name(&h), "flush");
  struct vm_modes m = ask(PAGING_EPT, -1);
  ck_assert_int_eq(kvm_host__check_modes(&h, &m, err, sizeof(err)), -1);
  ck_assert_msg(strstr(err, "kvm_intel.ept=N") && strstr(err, "ept=1"), "message: %s", err);
}
END_TEST

START_TEST(unknown_flavours) {
  put("module/kvm/parameters/halt_poll_ns", "0");
  ck_assert_int_eq(kvm_host__detect(tmp, &h), 0);
  ck_assert_int_eq(h.flavour, KVM_FLAVOUR_UNKNOWN);
  ck_assert_str_eq(kvm_flavour__name(h.flavour), "unknown");
  ck_assert_msg(strstr(h.detail, "no known vendor module"), "detail: %s", h.detail);
  put("module/kvm_intel/parameters/ept", "Y");
  put("module/kvm_amd/parameters/npt", "1");
  ck_assert_int_eq(kvm_host__detect(tmp, &h), 0);
  ck_assert_int_eq(h.flavour, KVM_FLAVOUR_UNKNOWN);
  ck_assert_msg(strstr(h.detail, "kvm_intel") && strstr(h.detail, "kvm_amd"), "detail: %s",
                h.detail);
  ck_assert_int_eq(kvm_host__detect("/nonexistent/sysfs", &h), -ENOENT);
}
END_TEST

/* This machine: kvm_pvm, shadow paging, /dev/kvm usable. Other hosts: the
 * answer must agree with what /sys/module says. */
START_TEST(live_host) {
  ck_assert_int_eq(kvm_host__detect(NULL, &h), 0);
  ck_assert_str_eq(h.sysroot, "/sys");
  ck_assert_str_eq(h.dev_path, "/dev/kvm");
  struct stat st;
  const char *mod = h.module;
  if (h.flavour == KVM_FLAVOUR_NONE) {
    ck_assert_int_ne(stat("/sys/module/kvm", &st), 0);
    printf("live_host: no KVM loaded here\n");
    return;
  }
  char path[128];
  snprintf(path, sizeof(path), "/sys/module/%s", mod);
  if (h.flavour != KVM_FLAVOUR_UNKNOWN) ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_gt(h.kvm.n, 0); /* kvm always has parameters */
  ck_assert_int_eq(h.dev_present, stat("/dev/kvm", &st) == 0);
  if (h.dev_openable) ck_assert_int_eq(h.api_version, 12); /* KVM_API_VERSION, stable */
  if (stat("/sys/module/kvm_pvm", &st) == 0) {
    ck_assert_int_eq(h.flavour, KVM_FLAVOUR_PVM);
    ck_assert_str_eq(kvm_host__paging_name(&h), "shadow");
  }
  printf("live_host: %s (%s), paging %s, tlb %s, /dev/kvm %s, api %d\n",
         kvm_flavour__name(h.flavour), kvm_flavour__description(h.flavour),
         kvm_host__paging_name(&h) ? kvm_host__paging_name(&h) : "?",
         kvm_host__tlb_name(&h) ? kvm_host__tlb_name(&h) : "?",
         h.dev_openable ? "usable" : "not usable", h.api_version);
}
END_TEST

Suite *suite_kvm_host(void) {
  Suite *s = suite_create("kvm_host");
  TCase *tc = tcase_create("fixtures");
  tcase_add_test(tc, intel);
  tcase_add_test(tc, intel_modes_checked);
  tcase_add_test(tc, amd);
  tcase_add_test(tc, pvm);
  tcase_add_test(tc, none);
  tcase_add_test(tc, live_host);
  suite_add_tcase(s, tc);
  TCase *tt = tcase_create("built_trees");
  tcase_add_checked_fixture(tt, tmp_setup, tmp_teardown);
  tcase_add_test(tt, intel_all_off);
  tcase_add_test(tt, unknown_flavours);
  suite_add_tcase(s, tt);
  return s;
}
