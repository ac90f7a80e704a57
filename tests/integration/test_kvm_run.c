/* test_kvm_run.c - refvmm end to end on /dev/kvm: workloads report the
 * checksums the host computes independently, `pio` exits are counted
 * exactly inside the timed region, hostile guests end with their documented
 * exit code, a message and a JSON record that says why, and command-line
 * errors are refused before anything runs. Tests that need KVM skip with a
 * printed reason where /dev/kvm is missing; a missing image is a failure
 * (images are built by `make`). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/exit_codes.h"
#include "tests/lib/itest.h"
#include "tests/lib/run_refvmm.h"
#include "workloads/rt/vtb_abi.h"

static uint64_t ref_compute(uint64_t seed, uint64_t n) {
  uint64_t h = seed;
  for (uint64_t i = 0; i < n; i++)
    h = itest__mix64(h + 0x9e3779b97f4a7c15ull);
  return h;
}

START_TEST(compute_checksum_matches_host) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("compute"));
  struct refvmm_result r;
  const char *args[] = {"run",    IMG("compute"), "--param",   "n=200000", "--param",
                        "seed=7", "--quiet",      "--timeout", "60",       NULL};
  ck_assert_int_eq(run_refvmm(&r, true, args), 0);
  itest__assert_ok_run(&r);
  itest__assert_checksum(&r, ref_compute(7, 200000), 200000);
  ck_assert_str_eq(refvmm_result__str(&r, "workload"), "compute");
  ck_assert_str_eq(refvmm_result__str(&r, "backend"), "kvm");
  ck_assert_int_gt(refvmm_result__int(&r, "timed.wall_ns"), 0);
  ck_assert_int_gt(refvmm_result__int(&r, "timed.tsc"), 0);
  refvmm_result__free(&r);
}
END_TEST

START_TEST(compute_checksum_at_cpl0) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("compute"));
  struct refvmm_result r;
  const char *args[] = {"run",   IMG("compute"), "--param",   "n=5000", "--param",
                        "cpl=0", "--quiet",      "--timeout", "60",     NULL};
  ck_assert_int_eq(run_refvmm(&r, true, args), 0);
  itest__assert_ok_run(&r);
  ck_assert_uint_eq(itest__json_u64(json_object_get(json_object_get(r.run, "guest"), "checksum")),
                    ref_compute(1, 5000));
  refvmm_result__free(&r);
}
END_TEST

START_TEST(pio_counts_exactly_n_exits_in_timed_region) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("pio"));
  struct refvmm_result r;
  const char *args[] = {"run", IMG("pio"), "--param", "n=1000", "--quiet", "--timeout", "60", NULL};
  ck_assert_int_eq(run_refvmm(&r, true, args), 0);
  itest__assert_ok_run(&r);
  ck_assert_int_eq(refvmm_result__sub_count(&r, "io_port", VTB_PORT_BENCH), 1000);
  /* The marks themselves are outside the region: no hypercall inside it. */
  for (uint64_t nr = 0; nr < VTB_HC_COUNT; nr++)
    ck_assert_int_eq(refvmm_result__sub_count(&r, "hypercall", nr), 0);
  ck_assert_int_ge(refvmm_result__int(&r, "exits.by_reason.IO.count"), 1000);
  ck_assert_int_eq(refvmm_result__int(&r, "exits.by_reason.IO.count"),
                   refvmm_result__int(&r, "exits.total"));
  refvmm_result__free(&r);
}
END_TEST

/* --no-probes: the bare loop; the record says so and carries no exits. */
START_TEST(no_probes_run_has_no_accounting) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("pio"));
  struct refvmm_result r;
  const char *args[] = {"run",       IMG("pio"), "--param",     "n=50", "--quiet",
                        "--timeout", "60",       "--no-probes", NULL};
  ck_assert_int_eq(run_refvmm(&r, true, args), 0);
  itest__assert_ok_run(&r);
  ck_assert_ptr_null(json_object_get(r.run, "exits"));
  ck_assert_ptr_null(json_object_get(r.run, "kvm_stats"));
  ck_assert(json_is_false(json_object_get(r.run, "probes")));
  ck_assert_uint_eq(itest__json_u64(json_object_get(
                        json_object_get(json_object_get(r.run, "io"), "bench_port"), "writes")),
                    50);
  refvmm_result__free(&r);
}
END_TEST

/* The guest's checksum is the sum of the values it wrote; the bench device
 * sums what reached the port, and the formula gives n*(n-1)/2. */
START_TEST(pio_checksum_matches_host) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("pio"));
  struct refvmm_result r;
  const char *args[] = {"run", IMG("pio"), "--param", "n=777", "--quiet", "--timeout", "60", NULL};
  ck_assert_int_eq(run_refvmm(&r, true, args), 0);
  itest__assert_ok_run(&r);
  uint64_t n = 777, expect = n * (n - 1) / 2;
  itest__assert_checksum(&r, expect, n);
  json_t *bench = json_object_get(json_object_get(r.run, "io"), "bench_port");
  ck_assert_uint_eq(itest__json_u64(json_object_get(bench, "sum")), expect);
  ck_assert_uint_eq(itest__json_u64(json_object_get(bench, "writes")), n);
  refvmm_result__free(&r);
}
END_TEST

/* CPUID's values are the host's business; the checksum proves every one
 * of the n executions returned the first one's values. The vendor string
 * (leaf 0 EBX, EDX, ECX) KVM passes through must be the host's own. */
START_TEST(cpuid_checksum_matches_host) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("cpuid"));
  struct refvmm_result r;
  const char *args[] = {"run",     IMG("cpuid"), "--param", "n=2000",
                        "--quiet", "--timeout",  "60",      NULL};
  ck_assert_int_eq(run_refvmm(&r, true, args), 0);
  itest__assert_ok_run(&r);
  uint64_t n = 2000, leaf = 0;
  uint64_t expect = itest__mix64(0x6370756964ull ^ n ^ (leaf << 32)) ^ 0;
  itest__assert_checksum(&r, expect, n);
  json_t *rep = itest__guest_reports(&r);
  uint32_t a, b, c, d;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
  ck_assert_uint_eq(itest__json_u64(json_object_get(rep, "cpuid.ebx")), b);
  ck_assert_uint_eq(itest__json_u64(json_object_get(rep, "cpuid.edx")), d);
  ck_assert_uint_eq(itest__json_u64(json_object_get(rep, "cpuid.ecx")), c);
  (void)a;
  /* CPUID is handled inside KVM: no user-space exit in the timed region */
  ck_assert_int_eq(refvmm_result__int(&r, "exits.total"), 0);
  refvmm_result__free(&r);
}
END_TEST

START_TEST(pio_count_follows_n) {
  if (itest__kvm_missing()) return;
  itest__require_image(IMG("pio"));
  struct refvmm_result r;
  const char *args[] = {"run", IMG("pio"), "--param", "n=37", "--quiet", "--timeout", "60", NULL};
  ck_assert_int_eq(run_refvmm(&r, true, args), 0);
  itest__assert_ok_run(&r);
  ck_assert_int_eq(refvmm_result__sub_count(&r, "io_port", VTB_PORT_BENCH), 37);
  refvmm_result__free(&r);
}
END_TEST

/* One hostile guest: exit code, message on stderr, JSON status and detail. */
static void check_hostile(const char *image, const char *const *extra, int code, const char *status,
                          const char *needle) {
  if (itest__kvm_missing()) return;
  itest__require_image(image);
  const char *args[16] = {"run", image, "--quiet"};
  int n = 3;
  for (int i = 0; extra && extra[i]; i++)
    args[n++] = extra[i];
  args[n] = NULL;
  struct refvmm_result r;
  ck_assert_int_eq(run_refvmm(&r, true, args), 0);
  ck_assert_msg(r.exit_code == code, "%s: exit %d, expected %d; stderr: %s", image, r.exit_code,
                code, r.err);
  ck_assert_msg(strstr(r.err, needle) != NULL, "%s: stderr lacks '%s': %s", image, needle, r.err);
  itest__assert_record(&r);
  ck_assert_str_eq(refvmm_result__str(&r, "status"), status);
  ck_assert_int_eq(refvmm_result__int(&r, "exit_code"), code);
  const char *detail = refvmm_result__str(&r, "status_detail");
  ck_assert_msg(detail && strstr(detail, needle), "%s: status_detail lacks '%s'", image, needle);
  ck_assert_msg(json_object_get(r.run, "registers") != NULL, "%s: no register dump", image);
  refvmm_result__free(&r);
}

START_TEST(hostile_triple_fault) {
  check_hostile(HOSTILE("triple_fault"), NULL, EXIT_TRIPLE_FAULT, "triple_fault", "triple fault");
}
END_TEST

START_TEST(hostile_spin_forever_times_out) {
  const char *extra[] = {"--timeout", "2", NULL};
  check_hostile(HOSTILE("spin_forever"), extra, EXIT_TIMEOUT, "timeout", "rip 0x");
}
END_TEST

START_TEST(hostile_wild_pointer) {
  check_hostile(HOSTILE("wild_pointer"), NULL, EXIT_BAD_HYPERCALL, "bad_hypercall",
                "bad hypercall");
}
END_TEST

START_TEST(hostile_unhandled_exception) {
  check_hostile(HOSTILE("unhandled_exception"), NULL, EXIT_GUEST_EXCEPTION, "guest_exception",
                "vector");
}
END_TEST

START_TEST(usage_errors_name_option_and_value) {
  const char *a1[] = {"run", IMG("compute"), "--mem", "12Q", NULL};
  itest__check_refused(a1, EXIT_USAGE, "--mem '12Q'");
  const char *a2[] = {"run", IMG("compute"), "--paging", "nested", NULL};
  itest__check_refused(a2, EXIT_USAGE, "--paging 'nested'");
  const char *a3[] = {"run", IMG("compute"), "--bogus", NULL};
  itest__check_refused(a3, EXIT_USAGE, "--bogus");
  const char *a4[] = {"run", NULL};
  itest__check_refused(a4, EXIT_USAGE, "IMAGE");
  const char *a5[] = {"run", IMG("compute"), "--timeout", "-1", NULL};
  itest__check_refused(a5, EXIT_USAGE, "--timeout '-1'");
  const char *a6[] = {"run", IMG("compute"), "--param", "noequals", NULL};
  itest__check_refused(a6, EXIT_USAGE, "--param 'noequals'");
}
END_TEST

/* The model needs no /dev/kvm: both VT paging modes run the same guest to
 * the host-computed checksum, and the result carries the model section. */
START_TEST(model_backend_runs_shadow_and_ept) {
  itest__require_image(IMG("compute"));
  const char *modes[] = {"shadow", "ept"};
  for (size_t i = 0; i < 2; i++) {
    struct refvmm_result r;
    const char *args[] = {"run",     IMG("compute"), "--backend", "model",   "--paging",
                          modes[i],  "--param",      "n=20000",   "--param", "seed=7",
                          "--quiet", "--timeout",    "60",        NULL};
    ck_assert_int_eq(run_refvmm(&r, true, args), 0);
    itest__assert_ok_run(&r);
    ck_assert_str_eq(refvmm_result__str(&r, "backend"), "model");
    ck_assert_uint_eq(itest__json_u64(json_object_get(json_object_get(r.run, "guest"), "checksum")),
                      ref_compute(7, 20000));
    ck_assert_msg(json_is_object(json_object_get(r.run, "model")), "no model section (%s)",
                  modes[i]);
    refvmm_result__free(&r);
  }
}
END_TEST

START_TEST(native_paging_refused_on_kvm) {
  const char *a[] = {"run", IMG("compute"), "--paging", "native", NULL};
  itest__check_refused(a, EXIT_UNSUPPORTED, "--paging native");
}
END_TEST

START_TEST(ept_refused_on_pvm_host) {
  if (access("/sys/module/kvm_pvm", F_OK) != 0) {
    printf("SKIP ept_refused_on_pvm_host: host KVM is not kvm_pvm\n");
    return;
  }
  const char *a[] = {"run", IMG("compute"), "--paging", "ept", NULL};
  itest__check_refused(a, EXIT_UNSUPPORTED, "kvm_pvm");
  const char *b[] = {"run", IMG("compute"), "--tlb", "vpid", NULL};
  itest__check_refused(b, EXIT_UNSUPPORTED, "--tlb vpid");
  itest__check_refused(b, EXIT_UNSUPPORTED, "kvm_pvm");
}
END_TEST

START_TEST(unwritable_json_refused_before_running) {
  const char *a[] = {"run", IMG("compute"), "--json", "/nonexistent-dir/x/out.json", NULL};
  itest__check_refused(a, EXIT_OUTPUT, "/nonexistent-dir/x/out.json");
}
END_TEST

START_TEST(bad_image_rejected) {
  const char *a[] = {"run", "/etc/hostname", NULL};
  itest__check_refused(a, EXIT_IMAGE, "/etc/hostname");
}
END_TEST

START_TEST(help_and_version) {
  struct refvmm_result r;
  const char *h[] = {"--help", NULL};
  ck_assert_int_eq(run_refvmm(&r, false, h), 0);
  ck_assert_int_eq(r.exit_code, 0);
  ck_assert_ptr_nonnull(strstr(r.out, "--timeout"));
  refvmm_result__free(&r);
  const char *v[] = {"--version", NULL};
  ck_assert_int_eq(run_refvmm(&r, false, v), 0);
  ck_assert_int_eq(r.exit_code, 0);
  ck_assert_ptr_nonnull(strstr(r.out, "refvmm "));
  refvmm_result__free(&r);
}
END_TEST

Suite *suite_kvm_run(void) {
  Suite *s = suite_create("kvm_run");
  TCase *tc = tcase_create("workloads");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, compute_checksum_matches_host);
  tcase_add_test(tc, compute_checksum_at_cpl0);
  tcase_add_test(tc, pio_counts_exactly_n_exits_in_timed_region);
  tcase_add_test(tc, pio_count_follows_n);
  tcase_add_test(tc, pio_checksum_matches_host);
  tcase_add_test(tc, no_probes_run_has_no_accounting);
  tcase_add_test(tc, cpuid_checksum_matches_host);
  suite_add_tcase(s, tc);
  TCase *th = tcase_create("hostile");
  tcase_set_timeout(th, 60);
  tcase_add_test(th, hostile_triple_fault);
  tcase_add_test(th, hostile_spin_forever_times_out);
  tcase_add_test(th, hostile_wild_pointer);
  tcase_add_test(th, hostile_unhandled_exception);
  suite_add_tcase(s, th);
  TCase *tu = tcase_create("cli");
  tcase_add_test(tu, usage_errors_name_option_and_value);
  tcase_add_test(tu, model_backend_runs_shadow_and_ept);
  tcase_add_test(tu, native_paging_refused_on_kvm);
  tcase_add_test(tu, ept_refused_on_pvm_host);
  tcase_add_test(tu, unwritable_json_refused_before_running);
  tcase_add_test(tu, bad_image_rejected);
  tcase_add_test(tu, help_and_version);
  suite_add_tcase(s, tu);
  return s;
}
