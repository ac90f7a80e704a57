/* test_kvm_trace.c - the KVM tracepoint probe against KVM's own statistics
 * over the same timed region, on whatever KVM this host has:
 *   - kvm:kvm_emulate_insn = insn_emulation + insn_emulation_fail, and its
 *     failed ones = insn_emulation_fail;
 *   - kvm:kvm_inj_exception with vector 14 (first injections) = pf_guest;
 *   - where kvm:kvm_exit fires, its count = the exits statistic and the
 *     user-space exits are in it; where it never fires (kvm_pvm) the record
 *     says so, with no count.
 * Skips with the reason without /dev/kvm or without tracepoint access
 * (not root, no tracefs). */
#include <check.h>
#include <string.h>

#include "tests/lib/itest.h"
#include "tests/lib/run_refvmm.h"

static int64_t vcpu_stat(const struct refvmm_result *r, const char *name) {
  char p[96];
  snprintf(p, sizeof p, "kvm_stats.vcpu.%s.value", name);
  return refvmm_result__int(r, p);
}
static int64_t region(const struct refvmm_result *r, const char *event) {
  json_t *v = json_object_get(refvmm_result__get(r, "kvm_events.region"), event);
  return v ? json_integer_value(v) : 0;
}

/* Run IMAGE with n=N on KVM; false (after printing why) when the probe
 * cannot run here. */
static bool run_traced(struct refvmm_result *r, const char *wl, const char *n) {
  char img[96];
  snprintf(img, sizeof img, "workloads/build/%s.elf", wl);
  itest__require_image(img);
  const char *args[] = {"run",
                        img,
                        "--param",
                        n,
                        "--no-pmu",
                        "--events",
                        "kvm:exits,kvm:kvm_emulate_insn,kvm:kvm_pio,kvm:kvm_userspace_exit",
                        NULL};
  ck_assert_int_eq(run_refvmm(r, true, args), 0);
  itest__assert_ok_run(r);
  json_t *ev = refvmm_result__get(r, "kvm_events");
  ck_assert_msg(ev, "no kvm_events section");
  if (!json_is_true(json_object_get(ev, "available"))) {
    printf("SKIP %s: KVM tracepoints unavailable here: %s\n", __FILE__,
           json_string_value(json_object_get(ev, "reason")));
    return false;
  }
  return true;
}

START_TEST(tracepoints_match_kvm_stats) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r = {0};
  if (!run_traced(&r, "pgfault", "n=200")) {
    refvmm_result__free(&r);
    return;
  }
  int64_t emu = vcpu_stat(&r, "insn_emulation"), fail = vcpu_stat(&r, "insn_emulation_fail");
  int64_t traced = region(&r, "kvm:kvm_emulate_insn");
  int64_t traced_fail = region(&r, "kvm:kvm_emulate_insn (failed != 0)");
  printf("%s: pgfault n=200: kvm_emulate_insn %lld (failed %lld), insn_emulation %lld, "
         "insn_emulation_fail %lld\n",
         __FILE__, (long long)traced, (long long)traced_fail, (long long)emu, (long long)fail);
  ck_assert_int_eq(traced - traced_fail, emu);
  ck_assert_int_eq(traced_fail, fail);
  int64_t pf = refvmm_result__int(&r, "kvm_events.inj_exception_by_vector.PF");
  int64_t pf_guest = vcpu_stat(&r, "pf_guest");
  printf("%s: injected #PF %lld, pf_guest %lld\n", __FILE__, (long long)pf, (long long)pf_guest);
  ck_assert_int_eq(pf_guest, 200); /* the workload's promise: one true fault per page */
  ck_assert_int_eq(pf, pf_guest);

  json_t *ex = refvmm_result__get(&r, "kvm_exits");
  ck_assert_ptr_nonnull(ex);
  if (json_is_true(json_object_get(ex, "available"))) {
    ck_assert_int_eq(refvmm_result__int(&r, "kvm_exits.total"), vcpu_stat(&r, "exits"));
    ck_assert_int_eq(refvmm_result__int(&r, "kvm_exits.lost"), 0);
  } else { /* said once, with the reason, and no number that could pass for one */
    const char *why = json_string_value(json_object_get(ex, "reason"));
    ck_assert_ptr_nonnull(why);
    ck_assert_msg(strstr(why, "never fired"), "reason: %s", why);
    ck_assert_ptr_null(json_object_get(ex, "total"));
    ck_assert_ptr_null(json_object_get(ex, "by_reason"));
    ck_assert_msg(strstr(r.out, "kvm:kvm_exit never fired"), "summary lacks the reason:\n%s",
                  r.out);
  }
  refvmm_result__free(&r);
}
END_TEST

/* pio: every OUT is a user-space exit; kvm_userspace_exit counts them (and
 * the end mark), on every flavour, when asked for by name. */
START_TEST(userspace_exits_traced) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r = {0};
  if (!run_traced(&r, "pio", "n=300")) {
    refvmm_result__free(&r);
    return;
  }
  ck_assert_int_eq(refvmm_result__int(&r, "exits.by_reason.IO.count"), 300);
  ck_assert_int_eq(region(&r, "kvm:kvm_userspace_exit"), 301);
  ck_assert_int_eq(region(&r, "kvm:kvm_pio"), 301);
  json_t *ex = refvmm_result__get(&r, "kvm_exits");
  if (json_is_true(json_object_get(ex, "available")))
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(ex, "by_sdm_reason"), "IO_INSTRUCTION")),
        301);
  refvmm_result__free(&r);
}
END_TEST

/* By default kvm_exit and the per-exit and per-instruction events are not
 * traced (their cost); kvm:all counts them; kvm:off turns the probe off and
 * says so. */
START_TEST(default_set_and_off) {
  if (itest__kvm_missing()) return;
  itest__require_image("workloads/build/pio.elf");
  struct refvmm_result r = {0};
  const char *def[] = {"run", "workloads/build/pio.elf", "--param", "n=50", "--no-pmu", NULL};
  ck_assert_int_eq(run_refvmm(&r, true, def), 0);
  itest__assert_ok_run(&r);
  if (json_is_true(json_object_get(refvmm_result__get(&r, "kvm_events"), "available")))
    ck_assert_ptr_null(
        json_object_get(refvmm_result__get(&r, "kvm_events.region"), "kvm:kvm_userspace_exit"));
  refvmm_result__free(&r);
  /* kvm:all counts the per-exit events (and is not kvm:off) */
  const char *all[] = {
      "run", "workloads/build/pio.elf", "--param", "n=50", "--no-pmu", "--events", "kvm:all", NULL};
  ck_assert_int_eq(run_refvmm(&r, true, all), 0);
  itest__assert_ok_run(&r);
  if (json_is_true(json_object_get(refvmm_result__get(&r, "kvm_events"), "available")))
    ck_assert_int_eq(region(&r, "kvm:kvm_userspace_exit"), 51);
  else
    ck_assert_ptr_null(strstr(refvmm_result__str(&r, "kvm_events.reason"), "off"));
  refvmm_result__free(&r);
  const char *off[] = {
      "run", "workloads/build/pio.elf", "--param", "n=50", "--no-pmu", "--events", "kvm:off", NULL};
  ck_assert_int_eq(run_refvmm(&r, true, off), 0);
  itest__assert_ok_run(&r);
  ck_assert(json_is_false(json_object_get(refvmm_result__get(&r, "kvm_events"), "available")));
  ck_assert_str_eq(refvmm_result__str(&r, "kvm_exits.reason"), "off (--events kvm:off)");
  refvmm_result__free(&r);
}
END_TEST

Suite *suite_kvm_trace_live(void) {
  Suite *s = suite_create("kvm_trace_live");
  TCase *tc = tcase_create("kvm");
  tcase_add_test(tc, tracepoints_match_kvm_stats);
  tcase_add_test(tc, userspace_exits_traced);
  tcase_add_test(tc, default_set_and_off);
  tcase_set_timeout(tc, 60);
  suite_add_tcase(s, tc);
  return s;
}
