/* test_workloads_cpu.c - the exit and CPU workloads (vmcall, cr8wr, syscall,
 * callret, divzero) on /dev/kvm with small parameters: status ok, the
 * checksum this file computes itself from the formulas in docs/ABI.md,
 * guest facts and exit counts that follow from the parameters, and bad
 * parameters refused with a message naming the parameter. Skips with a
 * printed reason where /dev/kvm is missing; a missing image is a failure
 * (images are built by `make`).
 *
 * Exits: `exits.*` in the JSON are the exits that reached refvmm in user
 * space inside the timed region. None of these loops leaves the kernel on
 * the kvm_pvm host here (0 exactly); vmcall at CPL0 on VMX/SVM hosts takes
 * exactly one KVM_EXIT_HYPERCALL per iteration, and cr8wr there may take
 * KVM_EXIT_SET_TPR for the writes that lower the TPR. KVM's own in-kernel
 * exits (kvm_stats vcpu.exits) are the flavour's business and documented in
 * docs/ABI.md, not asserted. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/exit_codes.h"
#include "tests/lib/itest.h"
#include "tests/lib/run_refvmm.h"

static int host_is_pvm(void) {
  return access("/sys/module/kvm_pvm", F_OK) == 0;
}

/* ---- host references (docs/ABI.md, written out again here) -------------- */

#define REF_VMCALL_COOKIE 0x766d6d63616c6cull

/* r_i: what each hypercall answers; checksum = sum (r_i + i). */
static uint64_t ref_vmcall(uint64_t n, int cpl, int user) {
  uint64_t s = 0;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t r = cpl == 3 ? ~0ull : user ? i ^ REF_VMCALL_COOKIE : 0;
    s += r + i;
  }
  return s;
}

static uint64_t ref_cr8wr(uint64_t n) {
  uint64_t s = 0;
  for (uint64_t i = 0; i < n; i++)
    s += i & 15;
  return s;
}

static uint64_t ref_syscall(uint64_t n) {
  uint64_t s = 0;
  for (uint64_t i = 0; i < n; i++)
    s += ~i;
  return s;
}

static uint64_t ref_callret(uint64_t n, uint64_t seed) {
  uint64_t h = seed;
  for (uint64_t i = 0; i < n; i++)
    h = ((h << 7) | (h >> 57)) + i;
  return h;
}

static uint64_t ref_divzero(uint64_t n) {
  return n * (n + 1) / 2;
}

/* ---- helpers -------------------------------------------------------------- */

/* Run IMAGE with the NULL-terminated k=v params; assert status ok. */
static void run_ok(struct refvmm_result *r, const char *name, const char *const *params) {
  char img[128];
  snprintf(img, sizeof img, IMG("%s"), name);
  itest__require_image(img);
  const char *args[32] = {"run", img, "--quiet", "--timeout", "60"};
  int a = 5;
  for (int i = 0; params[i] && a < 30; i++) {
    args[a++] = "--param";
    args[a++] = params[i];
  }
  args[a] = NULL;
  ck_assert_int_eq(run_refvmm(r, true, args), 0);
  ck_assert_msg(r->exit_code == EXIT_OK, "%s: refvmm exit %d; stdout: %s stderr: %s", name,
                r->exit_code, r->out, r->err);
  itest__assert_ok_run(r); /* the record was validated by run_refvmm() */
  ck_assert_str_eq(refvmm_result__str(r, "workload"), name);
  ck_assert_msg(refvmm_result__int(r, "timed.wall_ns") > 0, "%s: no timed region", name);
}

/* No exit reached refvmm inside the timed region. */
static void assert_no_user_exits(const struct refvmm_result *r) {
  int64_t total = refvmm_result__int(r, "exits.total");
  ck_assert_msg(total == 0, "%" PRId64 " exits reached refvmm in the timed region, want 0", total);
}

/* A bad parameter. One the image's parameter table refuses (an unknown
 * key, not a number, out of range: the needle starts with "refvmm: ")
 * ends refvmm with a usage error before the guest starts; one only the
 * guest can judge (a ring the workload does not allow, ...) makes the guest
 * exit 2 and say which parameter. */
static void check_bad_param(const char *name, const char *param, const char *needle) {
  if (itest__kvm_missing()) return;
  char img[128];
  snprintf(img, sizeof img, IMG("%s"), name);
  const char *args[] = {"run", img, "--param", param, "--timeout", "60", NULL};
  struct refvmm_result r;
  if (!strncmp(needle, "refvmm: ", 8)) {
    ck_assert_int_eq(run_refvmm(&r, false, args), 0);
    ck_assert_msg(r.exit_code == EXIT_USAGE, "%s %s: refvmm exit %d, want %d; stderr: %s", name,
                  param, r.exit_code, EXIT_USAGE, r.err);
    ck_assert_msg(strstr(r.err, needle) != NULL, "%s %s: stderr lacks \"%s\": %s", name, param,
                  needle, r.err);
    refvmm_result__free(&r);
    return;
  }
  ck_assert_int_eq(run_refvmm(&r, true, args), 0);
  ck_assert_msg(r.exit_code == EXIT_GUEST_FAILED, "%s %s: refvmm exit %d, want %d; stderr: %s",
                name, param, r.exit_code, EXIT_GUEST_FAILED, r.err);
  ck_assert_msg(strstr(r.out, needle) != NULL, "%s %s: console lacks \"%s\": %s", name, param,
                needle, r.out);
  ck_assert_int_eq(refvmm_result__int(&r, "guest.exit_status"), 2);
  refvmm_result__free(&r);
}

/* ---- vmcall ---------------------------------------------------------------- */

/* Default: CPL0 where the host runs ring 0 natively (one KVM_EXIT_HYPERCALL
 * per iteration, answered by refvmm); on kvm_pvm, which emulates ring 0 and
 * whose emulator never completes VMCALL/VMMCALL, the guest moves to CPL3
 * and KVM refuses each call with -KVM_EPERM in the kernel. */
START_TEST(vmcall_default) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  const char *p[] = {"n=3000", NULL};
  run_ok(&r, "vmcall", p);
  int cpl = (int)itest__guest_report(&r, "rt.cpl");
  ck_assert_uint_eq(itest__guest_report(&r, "vmcall.emulated"), 0);
  ck_assert_uint_eq(itest__guest_report(&r, "vmcall.nr"), 12);
  itest__assert_checksum(&r, ref_vmcall(3000, cpl, 1), 3000);
  if (host_is_pvm()) {
    ck_assert_int_eq(cpl, 3);
    ck_assert_uint_eq(itest__guest_report(&r, "vmcall.moved_to_cpl3"), 1);
    assert_no_user_exits(&r);
  } else {
    ck_assert_int_eq(cpl, 0);
    ck_assert_uint_eq(itest__guest_report(&r, "vmcall.moved_to_cpl3"), 0);
    ck_assert_int_eq(refvmm_result__int(&r, "exits.by_reason.HYPERCALL.count"), 3000);
    ck_assert_int_eq(refvmm_result__int(&r, "exits.total"), 3000);
  }
  refvmm_result__free(&r);
}
END_TEST

START_TEST(vmcall_ring3_refused_in_kernel) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  const char *p[] = {"n=2000", "cpl=3", NULL};
  run_ok(&r, "vmcall", p);
  ck_assert_uint_eq(itest__guest_report(&r, "rt.cpl"), 3);
  itest__assert_checksum(&r, ref_vmcall(2000, 3, 1), 2000);
  assert_no_user_exits(&r);
  refvmm_result__free(&r);
}
END_TEST

/* user=0: KVM_HC_VAPIC_POLL_IRQ, answered in the kernel wherever it runs. */
START_TEST(vmcall_kernel_path) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  const char *p[] = {"n=1500", "user=0", NULL};
  run_ok(&r, "vmcall", p);
  int cpl = (int)itest__guest_report(&r, "rt.cpl");
  ck_assert_uint_eq(itest__guest_report(&r, "vmcall.nr"), 1);
  itest__assert_checksum(&r, ref_vmcall(1500, cpl, 0), 1500);
  assert_no_user_exits(&r);
  refvmm_result__free(&r);
}
END_TEST

START_TEST(vmcall_cpl0_refused_on_pvm) {
  if (!host_is_pvm()) {
    printf("SKIP vmcall_cpl0_refused_on_pvm: host KVM is not kvm_pvm\n");
    return;
  }
  check_bad_param("vmcall", "cpl=0", "parameter 'cpl'");
}
END_TEST

/* ---- cr8wr -------------------------------------------------------------------- */

START_TEST(cr8wr_checksum_and_readback) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  const char *p[] = {"n=3001", NULL};
  run_ok(&r, "cr8wr", p);
  itest__assert_checksum(&r, ref_cr8wr(3001), 3001);
  ck_assert_uint_eq(itest__guest_report(&r, "cr8.last"), 3000 & 15);
  ck_assert_uint_eq(itest__guest_report(&r, "rt.cpl"), 0);
  /* Only KVM_EXIT_SET_TPR may reach user space (VMX/SVM without an
   * in-kernel LAPIC, when the TPR drops: once per 16 writes at most). */
  int64_t total = refvmm_result__int(&r, "exits.total");
  int64_t tpr = refvmm_result__int(&r, "exits.by_reason.SET_TPR.count");
  if (host_is_pvm())
    ck_assert_int_eq(total, 0);
  else
    ck_assert_int_eq(total, tpr < 0 ? 0 : tpr);
  ck_assert_int_le(total, 3001 / 16 + 1);
  refvmm_result__free(&r);
}
END_TEST

/* ---- syscall ------------------------------------------------------------------- */

START_TEST(syscall_trap_round_trips) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  const char *p[] = {"n=500", "syscall=trap", NULL};
  run_ok(&r, "syscall", p);
  itest__assert_checksum(&r, ref_syscall(500), 500);
  ck_assert_uint_eq(itest__guest_report(&r, "rt.syscall"), 0);
  ck_assert_uint_eq(itest__guest_report(&r, "rt.cpl"), 3);
  assert_no_user_exits(&r);
  refvmm_result__free(&r);
}
END_TEST

/* refvmm asks for the trap system call through boot info on every KVM here;
 * the JSON says so without a syscall= parameter. */
START_TEST(syscall_default_is_recorded) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  const char *p[] = {"n=300", NULL};
  run_ok(&r, "syscall", p);
  itest__assert_checksum(&r, ref_syscall(300), 300);
  ck_assert_uint_eq(itest__guest_report(&r, "rt.syscall"), 0);
  refvmm_result__free(&r);
}
END_TEST

/* SYSCALL/SYSRET where the host runs them; kvm_pvm does not (docs/ABI.md,
 * System calls): the #GP there is the flavour's, not ours. */
START_TEST(syscall_insn_round_trips) {
  if (itest__kvm_missing()) return;
  if (host_is_pvm()) {
    printf("SKIP syscall_insn_round_trips: kvm_pvm runs SYSCALL/SYSRET wrong\n");
    return;
  }
  struct refvmm_result r;
  const char *p[] = {"n=500", "syscall=syscall", NULL};
  run_ok(&r, "syscall", p);
  itest__assert_checksum(&r, ref_syscall(500), 500);
  ck_assert_uint_eq(itest__guest_report(&r, "rt.syscall"), 1);
  assert_no_user_exits(&r);
  refvmm_result__free(&r);
}
END_TEST

/* ---- callret ------------------------------------------------------------------- */

START_TEST(callret_checksum_no_exits) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  const char *p[] = {"n=2000000", "seed=5", NULL};
  run_ok(&r, "callret", p);
  itest__assert_checksum(&r, ref_callret(2000000, 5), 2000000);
  ck_assert_uint_eq(itest__guest_report(&r, "rt.cpl"), 3);
  assert_no_user_exits(&r);
  refvmm_result__free(&r);
}
END_TEST

START_TEST(callret_at_cpl0) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  const char *p[] = {"n=2000", "cpl=0", NULL};
  run_ok(&r, "callret", p);
  itest__assert_checksum(&r, ref_callret(2000, 1), 2000);
  refvmm_result__free(&r);
}
END_TEST

/* ---- divzero ------------------------------------------------------------------- */

START_TEST(divzero_every_fault_handled) {
  if (itest__kvm_missing()) return;
  struct refvmm_result r;
  const char *p[] = {"n=700", NULL};
  run_ok(&r, "divzero", p);
  itest__assert_checksum(&r, ref_divzero(700), 700);
  ck_assert_uint_eq(itest__guest_report(&r, "divzero.faults"), 700);
  ck_assert_uint_eq(itest__guest_report(&r, "rt.cpl"), 3);
  assert_no_user_exits(&r);
  refvmm_result__free(&r);
}
END_TEST

/* ---- bad parameters ------------------------------------------------------------ */

START_TEST(bad_params_name_the_parameter) {
  check_bad_param("vmcall", "user=2", "refvmm: --param user=2: user is 2, outside its range");
  check_bad_param("vmcall", "insn=3", "refvmm: --param insn=3: insn is 3, outside its range");
  check_bad_param("cr8wr", "cpl=3", "parameter 'cpl'");
  check_bad_param("cr8wr", "n=0", "refvmm: --param n=0: n is 0, outside its range");
  check_bad_param("syscall", "cpl=0", "parameter 'cpl'");
  check_bad_param("syscall", "syscall=int80", "refvmm: --param syscall=int80: syscall is trap or");
  check_bad_param("callret", "bogus=1", "refvmm: --param bogus=1: callret.elf has no parameter");
  check_bad_param("callret", "n=12x", "refvmm: --param n=12x: '12x' is not a number");
  check_bad_param("divzero", "n=0", "refvmm: --param n=0: n is 0, outside its range");
}
END_TEST

Suite *suite_workloads_cpu(void) {
  Suite *s = suite_create("workloads_cpu");
  TCase *tc = tcase_create("kvm");
  tcase_set_timeout(tc, 180);
  tcase_add_test(tc, vmcall_default);
  tcase_add_test(tc, vmcall_ring3_refused_in_kernel);
  tcase_add_test(tc, vmcall_kernel_path);
  tcase_add_test(tc, vmcall_cpl0_refused_on_pvm);
  tcase_add_test(tc, cr8wr_checksum_and_readback);
  tcase_add_test(tc, syscall_trap_round_trips);
  tcase_add_test(tc, syscall_default_is_recorded);
  tcase_add_test(tc, syscall_insn_round_trips);
  tcase_add_test(tc, callret_checksum_no_exits);
  tcase_add_test(tc, callret_at_cpl0);
  tcase_add_test(tc, divzero_every_fault_handled);
  tcase_add_test(tc, bad_params_name_the_parameter);
  suite_add_tcase(s, tc);
  return s;
}
