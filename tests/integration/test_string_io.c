/* test_string_io.c - INS/OUTS with and without REP (tests/hostile/string_io.c)
 * on the model in every paging mode against KVM: the same data, pointers
 * and counts (the checksum), the same exits (one KVM_EXIT_IO per OUTS
 * element; an INS batch per exit as KVM's emulator reads ahead), the same
 * device effects, and the hypercall ports' refusals (16).
 *
 * KVM runs the guest's ring 0 here; ring 3 only where the host lets ring-3
 * code do I/O with IOPL 3 (kvm_pvm raises #GP: printed, not failed). The
 * model runs both rings. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refvmm/exit_codes.h"
#include "tests/lib/itest.h"
#include "tests/lib/run_refvmm.h"

#define IMAGE HOSTILE("string_io")

/* The configurations: kvm, then the model in each paging mode. */
static const char *const configs[][2] = {
    {"kvm", NULL}, {"model", "native"}, {"model", "shadow"}, {"model", "ept"}};
#define NCONFIGS 4

static bool run_one(struct refvmm_result *r, int cfg, const char *kase, const char *n,
                    const char *cpl) {
  const char *backend = configs[cfg][0];
  if (cfg == 0 && itest__kvm_missing()) return false;
  itest__require_image(IMAGE);
  const char *args[24] = {"run",     IMAGE, "--backend", backend, "--quiet", "--timeout", "60",
                          "--param", kase,  "--param",   n,       "--param", cpl};
  int k = 13;
  if (configs[cfg][1]) {
    args[k++] = "--paging";
    args[k++] = configs[cfg][1];
    args[k++] = "--model-baseline";
    args[k++] = "none";
  }
  args[k] = NULL;
  ck_assert_int_eq(run_refvmm(r, true, args), 0);
  ck_assert_msg(r->term_signal == 0, "refvmm killed by signal %d: %s", r->term_signal, r->err);
  itest__assert_record(r);
  return true;
}

/* The figures that must agree between backends. */
struct outcome {
  int exit_code;
  uint64_t checksum, io_exits, bench_writes, bench_sum, reports;
  char console[256];
};

static void outcome_of(const struct refvmm_result *r, struct outcome *o) {
  memset(o, 0, sizeof *o);
  o->exit_code = r->exit_code;
  if (r->exit_code != EXIT_OK) return;
  o->checksum = itest__u64_at(r, "guest.checksum");
  o->io_exits = itest__u64_at(r, "exits.by_reason.IO.count");
  o->bench_writes = itest__u64_at(r, "io.bench_port.writes");
  o->bench_sum = itest__u64_at(r, "io.bench_port.sum");
  o->reports = json_object_size(itest__guest_reports(r));
  const char *con = refvmm_result__str(r, "console");
  snprintf(o->console, sizeof o->console, "%s", con ? con : "");
}

static void assert_same(const struct outcome *a, const struct outcome *b, const char *what) {
  ck_assert_msg(a->exit_code == b->exit_code, "%s: exit %d vs %d", what, a->exit_code,
                b->exit_code);
  ck_assert_msg(a->checksum == b->checksum, "%s: checksum 0x%llx vs 0x%llx", what,
                (unsigned long long)a->checksum, (unsigned long long)b->checksum);
  ck_assert_msg(a->io_exits == b->io_exits, "%s: IO exits %llu vs %llu", what,
                (unsigned long long)a->io_exits, (unsigned long long)b->io_exits);
  ck_assert_msg(a->bench_writes == b->bench_writes && a->bench_sum == b->bench_sum,
                "%s: bench port %llu writes sum %llu vs %llu sum %llu", what,
                (unsigned long long)a->bench_writes, (unsigned long long)a->bench_sum,
                (unsigned long long)b->bench_writes, (unsigned long long)b->bench_sum);
  ck_assert_msg(a->reports == b->reports, "%s: %llu reports vs %llu", what,
                (unsigned long long)a->reports, (unsigned long long)b->reports);
  ck_assert_msg(strcmp(a->console, b->console) == 0, "%s: console '%s' vs '%s'", what, a->console,
                b->console);
}

/* Element counts around the limits: one element, a few, and INS batches
 * that stop at the 1024-byte read-ahead and at a page end (case 2: at most
 * 100 reports, below refvmm's limit of 128 keys). */
static const struct {
  const char *kase, *n;
} runs[] = {
    {"case=0", "n=1"},  {"case=0", "n=7"},   {"case=0", "n=300"}, {"case=0", "n=512"},
    {"case=1", "n=1"},  {"case=1", "n=64"},  {"case=1", "n=512"}, {"case=2", "n=1"},
    {"case=2", "n=64"}, {"case=2", "n=100"},
};
#define NRUNS ((int)(sizeof runs / sizeof runs[0]))

/* Every run on the model (all paging modes, both rings) gives what KVM gives
 * at CPL0, and on the model ring 3 gives what ring 0 gives. */
START_TEST(string_io_model_matches_kvm) {
  const char *kase = runs[_i].kase, *n = runs[_i].n;
  struct outcome ref, o;
  struct refvmm_result r;
  bool have_kvm = run_one(&r, 0, kase, n, "cpl=0");
  if (have_kvm) {
    ck_assert_msg(r.exit_code == EXIT_OK, "kvm %s %s: exit %d: %s", kase, n, r.exit_code, r.err);
    outcome_of(&r, &ref);
    refvmm_result__free(&r);
  }
  bool have_ref = have_kvm;
  for (int cfg = 1; cfg < NCONFIGS; cfg++)
    for (int cpl = 0; cpl <= 3; cpl += 3) {
      char what[128];
      snprintf(what, sizeof what, "%s %s %s cpl=%d (against %s)", configs[cfg][1], kase, n, cpl,
               have_kvm ? "kvm cpl=0" : "model native cpl=0");
      run_one(&r, cfg, kase, n, cpl ? "cpl=3" : "cpl=0");
      ck_assert_msg(r.exit_code == EXIT_OK, "%s: exit %d: %s", what, r.exit_code, r.err);
      outcome_of(&r, &o);
      refvmm_result__free(&r);
      if (!have_ref) {
        ref = o;
        have_ref = true;
      }
      assert_same(&ref, &o, what);
    }
  if (strcmp(kase, "case=1") == 0) ck_assert_ptr_nonnull(strstr(ref.console, "REP OUTSB to COM1"));
  if (strcmp(kase, "case=2") == 0) /* n reports s.K, plus the runtime's own */
    ck_assert_uint_ge(ref.reports, (uint64_t)atoi(n + 2));
}
END_TEST

/* KVM at CPL3: the same as CPL0 where the host lets ring 3 do I/O. */
START_TEST(string_io_kvm_ring3) {
  struct refvmm_result r0, r3;
  if (!run_one(&r0, 0, "case=1", "n=64", "cpl=0")) return;
  run_one(&r3, 0, "case=1", "n=64", "cpl=3");
  if (r3.exit_code == EXIT_GUEST_EXCEPTION && strstr(r3.err, "vector 13")) {
    printf("NOTE %s: this KVM raises #GP for ring-3 I/O under IOPL 3 (kvm_pvm does)\n", __FILE__);
  } else {
    struct outcome a, b;
    outcome_of(&r0, &a);
    outcome_of(&r3, &b);
    assert_same(&a, &b, "kvm cpl=3 against cpl=0");
  }
  refvmm_result__free(&r0);
  refvmm_result__free(&r3);
}
END_TEST

/* The hypercall ports refuse string I/O as they refuse IN and 8-bit OUT. */
START_TEST(string_io_hypercall_port_refusals) {
  static const char *const kases[] = {"case=3", "case=4"};
  static const char *const needles[] = {"direction", "access size = 0x1"};
  for (int k = 0; k < 2; k++)
    for (int cfg = 0; cfg < NCONFIGS; cfg++) {
      struct refvmm_result r;
      if (!run_one(&r, cfg, kases[k], "n=8", "cpl=0")) continue;
      const char *detail = refvmm_result__str(&r, "status_detail");
      ck_assert_msg(r.exit_code == EXIT_BAD_HYPERCALL, "%s %s: exit %d: %s", configs[cfg][0],
                    kases[k], r.exit_code, r.err);
      ck_assert_msg(detail && strstr(detail, needles[k]), "%s %s: %s", configs[cfg][0], kases[k],
                    detail ? detail : "(none)");
      refvmm_result__free(&r);
    }
}
END_TEST

Suite *suite_string_io(void) {
  Suite *s = suite_create("string_io");
  TCase *tc = tcase_create("string_io");
  tcase_set_timeout(tc, 300);
  tcase_add_loop_test(tc, string_io_model_matches_kvm, 0, NRUNS);
  tcase_add_test(tc, string_io_kvm_ring3);
  tcase_add_test(tc, string_io_hypercall_port_refusals);
  suite_add_tcase(s, tc);
  return s;
}
