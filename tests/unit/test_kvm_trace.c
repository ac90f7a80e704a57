/* test_kvm_trace.c - the tracepoint probe's pieces that need no KVM:
 * tracefs format parsing (fixture from a 6.18 kernel), the exit reason
 * names (KVM's, as perf kvm stat prints them, and the SDM's), and the probe
 * reporting itself unavailable with the reason. */
#include <check.h>
#include <jansson.h>
#include <string.h>

#include "probes/kvm_exit_reasons.h"
#include "probes/kvm_trace.h"
#include "probes/tracefs.h"

#define FIX "tests/fixtures/tracefs"

START_TEST(format_fields) {
  unsigned off = 0, sz = 0;
  ck_assert_int_eq(tracefs__field(FIX, "kvm", "kvm_exit", "exit_reason", &off, &sz), 0);
  ck_assert_uint_eq(off, 8);
  ck_assert_uint_eq(sz, 4);
  ck_assert_int_eq(tracefs__field(FIX, "kvm", "kvm_exit", "isa", &off, &sz), 0);
  ck_assert_uint_eq(off, 24);
  ck_assert_uint_eq(sz, 4);
  ck_assert_int_eq(tracefs__field(FIX, "kvm", "kvm_exit", "info1", &off, &sz), 0);
  ck_assert_uint_eq(off, 32);
  ck_assert_uint_eq(sz, 8);
  ck_assert_int_eq(tracefs__field(FIX, "kvm", "kvm_inj_exception", "exception", &off, &sz), 0);
  ck_assert_uint_eq(off, 8);
  ck_assert_uint_eq(sz, 1);
  /* "error_code" of kvm_inj_exception, not a suffix match of another field */
  ck_assert_int_eq(tracefs__field(FIX, "kvm", "kvm_inj_exception", "error_code", &off, &sz), 0);
  ck_assert_uint_eq(off, 12);
  ck_assert_int_eq(tracefs__field(FIX, "kvm", "kvm_exit", "code", &off, &sz), -1);
  ck_assert_int_eq(tracefs__field(FIX, "kvm", "kvm_exit", "nosuch", &off, &sz), -1);
  ck_assert_int_eq(tracefs__field(FIX, "kvm", "nosuch_event", "isa", &off, &sz), -1);
  ck_assert_int_eq(tracefs__event_id(FIX, "kvm", "kvm_exit"), 103);
  ck_assert_int_lt(tracefs__event_id(FIX, "kvm", "nosuch_event"), 0);
  char dir[128], why[256];
  ck_assert_int_eq(tracefs__find(FIX, dir, sizeof dir, why, sizeof why), 0);
  ck_assert_str_eq(dir, FIX);
  ck_assert_int_eq(tracefs__find("tests/fixtures", dir, sizeof dir, why, sizeof why), -1);
  ck_assert_ptr_nonnull(strstr(why, "not a tracefs directory"));
}
END_TEST

static void name_is(unsigned isa, uint32_t code, uint64_t info1, const char *hw, const char *sdm) {
  char buf[32];
  struct kvm_exit_name n = kvm_exit_reasons__name(isa, code, info1, buf, sizeof buf);
  ck_assert_str_eq(n.hw, hw);
  if (sdm)
    ck_assert_msg(n.sdm && !strcmp(n.sdm, sdm), "%s: sdm %s, want %s", hw, n.sdm, sdm);
  else
    ck_assert_ptr_null(n.sdm);
}

START_TEST(reason_names) {
  name_is(KVM_EXIT_ISA_SVM, 0x72, 0, "cpuid", "CPUID");
  name_is(KVM_EXIT_ISA_SVM, 0x7b, 0, "io", "IO_INSTRUCTION");
  name_is(KVM_EXIT_ISA_SVM, 0x400, 0x6, "npf", "EPT_VIOLATION");
  name_is(KVM_EXIT_ISA_SVM, 0x400, 0xd, "npf", "EPT_MISCONFIG"); /* RSVD: an MMIO spte */
  name_is(KVM_EXIT_ISA_SVM, 0x7c, 0, "msr", "MSR_READ");
  name_is(KVM_EXIT_ISA_SVM, 0x7c, 1, "msr", "MSR_WRITE");
  name_is(KVM_EXIT_ISA_SVM, 0x4e, 0, "PF excp", "EXCEPTION_NMI");
  name_is(KVM_EXIT_ISA_SVM, 0x13, 0, "write_cr3", "CR_ACCESS");
  name_is(KVM_EXIT_ISA_SVM, 0x64, 0, "vintr", "INTERRUPT_WINDOW");
  name_is(KVM_EXIT_ISA_SVM, 0x74, 0, "iret", NULL); /* no VT-x counterpart */
  name_is(KVM_EXIT_ISA_SVM, 0x81, 0, "hypercall", "VMCALL");
  name_is(KVM_EXIT_ISA_SVM, 0x7f, 0, "shutdown", "TRIPLE_FAULT");
  name_is(KVM_EXIT_ISA_SVM, 0x999, 0, "svm_0x999", NULL);
  name_is(KVM_EXIT_ISA_VMX, 48, 0, "EPT_VIOLATION", "EPT_VIOLATION");
  name_is(KVM_EXIT_ISA_VMX, 30, 0, "IO_INSTRUCTION", "IO_INSTRUCTION");
  name_is(KVM_EXIT_ISA_VMX, 0x80000021u, 0, "INVALID_STATE", "INVALID_STATE"); /* failed entry */
  name_is(KVM_EXIT_ISA_VMX, 99, 0, "vmx_99", NULL);
  name_is(7, 1, 0, "isa7_0x1", NULL);
  ck_assert_str_eq(kvm_exit_reasons__isa_name(KVM_EXIT_ISA_SVM), "svm");
  char b[8];
  ck_assert_str_eq(kvm_trace__vector_name(14, b, sizeof b), "PF");
  ck_assert_str_eq(kvm_trace__vector_name(30, b, sizeof b), "v30");
}
END_TEST

/* No tracefs: unavailable with the reason, in both sections; never counts. */
START_TEST(unavailable_says_why) {
  static struct kvm_trace t;
  kvm_trace__open(&t, 0, "tests/fixtures", "kvm_amd", NULL);
  ck_assert(!t.available);
  kvm_trace__begin(&t);
  kvm_trace__end(&t);
  kvm_trace__finish(&t);
  json_t *ex = kvm_trace__exits_json(&t), *ev = kvm_trace__events_json(&t);
  ck_assert(json_is_false(json_object_get(ex, "available")));
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(ex, "reason")), "tracefs"));
  ck_assert_ptr_null(json_object_get(ex, "by_reason"));
  ck_assert(json_is_false(json_object_get(ev, "available")));
  json_decref(ex);
  json_decref(ev);
  kvm_trace__close(&t);
}
END_TEST

Suite *suite_kvm_trace(void) {
  Suite *s = suite_create("kvm_trace");
  TCase *tc = tcase_create("offline");
  tcase_add_test(tc, format_fields);
  tcase_add_test(tc, reason_names);
  tcase_add_test(tc, unavailable_says_why);
  suite_add_tcase(s, tc);
  return s;
}
