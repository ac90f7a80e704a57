/* test_run_loop.c - the exit dispatch table, the run loop's timed-region
 * accounting (with a scripted fake backend), the device bus and the
 * hypercall handlers' checks on guest-controlled input. */
#include <check.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "probes/exit_stats.h"
#include "refvmm/backend.h"
#include "refvmm/console.h"
#include "refvmm/devbus.h"
#include "refvmm/hypercall.h"
#include "refvmm/kvm/kvm_backend.h"
#include "refvmm/run_loop.h"
#include "refvmm/vm.h"

/* ---- a scripted backend --------------------------------------------------------- */
#define SCRIPT_MAX 64
static struct vcpu_exit script[SCRIPT_MAX];
static uint8_t script_data[SCRIPT_MAX][8];
static int script_len, script_pos, nmi_injected;

static const char *fake_name(uint32_t r) {
  return r == KVM_EXIT_IO ? "IO" : "OTHER";
}
static int fake_run(struct vm *vm, struct vcpu_exit *e) {
  (void)vm;
  if (script_pos >= script_len) return -EIO;
  *e = script[script_pos];
  script_pos++;
  return 0;
}
static int fake_regs(struct vm *vm, struct vcpu_regs *r) {
  (void)vm;
  memset(r, 0, sizeof *r);
  r->rip = 0x201234;
  return 0;
}
static int fake_nmi(struct vm *vm) {
  (void)vm;
  nmi_injected++;
  return 0;
}
static const struct backend_ops fake_ops = {.name = "fake",
                                            .run = fake_run,
                                            .get_regs = fake_regs,
                                            .inject_nmi = fake_nmi,
                                            .exit_name = fake_name};

static void push_io(uint16_t port, uint32_t value) {
  struct vcpu_exit *e = &script[script_len];
  memset(e, 0, sizeof *e);
  e->reason = KVM_EXIT_IO;
  e->io.port = port;
  e->io.size = 4;
  e->io.write = 1;
  e->io.count = 1;
  e->io.data = script_data[script_len];
  memcpy(script_data[script_len], &value, 4);
  script_len++;
}
static void push_reason(uint32_t reason) {
  memset(&script[script_len], 0, sizeof script[0]);
  script[script_len++].reason = reason;
}

/* ---- fixture: a VM with 8 MiB of RAM, bus, devices, stats -------------------- */
static struct vm vm;
static struct device_bus bus;
static struct console con;
static struct hypercall_dev hc;
static struct bench_dev bench;
static struct exit_stats stats;
static struct run_loop rl;

static void setup(void) {
  memset(&vm, 0, sizeof vm);
  ck_assert_int_eq(guest_mem__init(&vm.mem, VTB_MEM_MIN), 0);
  vm.ops = &fake_ops;
  vm.status = RUN_HOST_ERROR;
  devbus__init(&bus);
  vm.bus = &bus;
  console__init(&con, false);
  hypercall__init(&hc, &con);
  char err[256];
  ck_assert_int_eq(dev_serial__register(&bus, &con, err, sizeof err), 0);
  ck_assert_int_eq(dev_bench__register(&bus, &bench, err, sizeof err), 0);
  ck_assert_int_eq(hypercall__register(&bus, &hc, err, sizeof err), 0);
  exit_stats__init(&stats, 1000000000ull, fake_name);
  vm.exits = &stats;
  run_loop__init(&rl, &vm);
  script_len = script_pos = nmi_injected = 0;
}
static void teardown(void) {
  guest_mem__destroy(&vm.mem);
}

/* Put an argument struct at `gpa`; return the GPA. */
static uint32_t put(uint32_t gpa, const void *arg, size_t n) {
  ck_assert_int_eq(guest_mem__write(&vm.mem, gpa, arg, n), 0);
  return gpa;
}
static uint32_t mark(uint32_t gpa, uint32_t phase) {
  struct vtb_hc_mark m = {.region = VTB_REGION_TIMED, .phase = phase};
  return put(gpa, &m, sizeof m);
}
static uint32_t exit_arg(uint32_t gpa, uint64_t status) {
  struct vtb_hc_exit x = {.status = status};
  return put(gpa, &x, sizeof x);
}

/* ---- dispatch table ---------------------------------------------------------------- */
START_TEST(table_has_handlers_for_the_exits_refvmm_handles) {
  const uint32_t handled[] = {
      KVM_EXIT_IO,         KVM_EXIT_MMIO,           KVM_EXIT_HLT,  KVM_EXIT_SHUTDOWN,
      KVM_EXIT_FAIL_ENTRY, KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_INTR, KVM_EXIT_IRQ_WINDOW_OPEN,
      KVM_EXIT_HYPERCALL,  KVM_EXIT_SET_TPR};
  for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
    ck_assert_msg(run_loop__handler(handled[i]) != NULL, "no handler for %u", handled[i]);
  ck_assert_ptr_null(run_loop__handler(KVM_EXIT_EXCEPTION));
  ck_assert_ptr_null(run_loop__handler(KVM_EXIT_DEBUG));
  ck_assert_ptr_null(run_loop__handler(RUN_EXIT_REASONS_MAX));
  ck_assert_ptr_null(run_loop__handler(0xffffffffu));
}
END_TEST

START_TEST(unknown_reason_is_an_internal_error_naming_it) {
  struct vcpu_exit e = {.reason = 5000};
  enum exit_sub_kind k = EXIT_SUB_NONE;
  uint64_t key = 0;
  ck_assert_int_eq(run_loop__dispatch(&rl, &e, &k, &key), 1);
  ck_assert_int_eq(vm.status, RUN_INTERNAL_ERROR);
  ck_assert_ptr_nonnull(strstr(vm.status_detail, "5000"));
  e.reason = KVM_EXIT_DEBUG;
  ck_assert_int_eq(run_loop__dispatch(&rl, &e, &k, &key), 1);
  ck_assert_ptr_nonnull(strstr(vm.status_detail, "4 (OTHER)"));
}
END_TEST

START_TEST(fatal_exits_map_to_their_status) {
  struct vcpu_exit e = {.reason = KVM_EXIT_SHUTDOWN};
  enum exit_sub_kind k;
  uint64_t key;
  ck_assert_int_eq(run_loop__dispatch(&rl, &e, &k, &key), 1);
  ck_assert_int_eq(vm.status, RUN_TRIPLE_FAULT);
  e.reason = KVM_EXIT_FAIL_ENTRY;
  e.fail_entry.hw_reason = 0x80000021;
  ck_assert_int_eq(run_loop__dispatch(&rl, &e, &k, &key), 1);
  ck_assert_int_eq(vm.status, RUN_FAILED_ENTRY);
  ck_assert_ptr_nonnull(strstr(vm.status_detail, "0x80000021"));
  memset(&e, 0, sizeof e);
  e.reason = KVM_EXIT_INTERNAL_ERROR;
  e.internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
  ck_assert_int_eq(run_loop__dispatch(&rl, &e, &k, &key), 1);
  ck_assert_int_eq(vm.status, RUN_INTERNAL_ERROR);
  ck_assert_ptr_nonnull(strstr(vm.status_detail, "emulation"));
}
END_TEST

START_TEST(io_exit_sub_reason_is_port_or_hypercall) {
  push_io(VTB_PORT_BENCH, 5);
  enum exit_sub_kind k;
  uint64_t key;
  ck_assert_int_eq(run_loop__dispatch(&rl, &script[0], &k, &key), 0);
  ck_assert_int_eq(k, EXIT_SUB_IO_PORT);
  ck_assert_uint_eq(key, VTB_PORT_BENCH);
  push_io(VTB_HC_PORT_BASE + VTB_HC_MARK, mark(0x300000, VTB_MARK_BEGIN));
  ck_assert_int_eq(run_loop__dispatch(&rl, &script[1], &k, &key), 0);
  ck_assert_int_eq(k, EXIT_SUB_HYPERCALL);
  ck_assert_uint_eq(key, VTB_HC_MARK);
}
END_TEST

/* Every KVM_EXIT_* the installed header defines has its own name. */
START_TEST(kvm_exit_names_cover_the_header) {
  ck_assert_str_eq(vcpu_exit__name(KVM_EXIT_IO), "IO");
  ck_assert_str_eq(vcpu_exit__name(KVM_EXIT_MMIO), "MMIO");
  ck_assert_str_eq(vcpu_exit__name(KVM_EXIT_SHUTDOWN), "SHUTDOWN");
  ck_assert_str_eq(vcpu_exit__name(KVM_EXIT_INTERNAL_ERROR), "INTERNAL_ERROR");
  ck_assert_str_eq(vcpu_exit__name(KVM_EXIT_IRQ_WINDOW_OPEN), "IRQ_WINDOW_OPEN");
  for (uint32_t r = 0; r <= KVM_EXIT_NOTIFY; r++) {
    const char *n = vcpu_exit__name(r);
    ck_assert_ptr_nonnull(n);
    ck_assert_msg(strcmp(n, "UNNAMED") != 0, "exit %u has no name", r);
    for (uint32_t q = 0; q < r; q++)
      ck_assert_str_ne(n, vcpu_exit__name(q));
  }
  ck_assert_str_eq(vcpu_exit__name(1000), "UNNAMED");
  ck_assert_str_eq(kvm_backend_ops.exit_name(KVM_EXIT_HLT), "HLT");
}
END_TEST

/* ---- run loop: timed region ---------------------------------------------------------- */
static int begin_calls, end_calls;
static void on_begin(struct vm *v, void *arg) {
  (void)arg;
  ck_assert(v->timed_begun);
  begin_calls++;
}
static void on_end(struct vm *v, void *arg) {
  (void)arg;
  ck_assert(v->timed_ended);
  end_calls++;
}

START_TEST(only_exits_between_the_marks_are_counted) {
  for (int i = 0; i < 5; i++)
    push_io(VTB_PORT_BENCH, 1); /* setup: not counted */
  push_io(VTB_HC_PORT_BASE + VTB_HC_MARK, mark(0x300000, VTB_MARK_BEGIN));
  for (int i = 0; i < 7; i++)
    push_io(VTB_PORT_BENCH, (uint32_t)i);
  push_io(VTB_PORT_SERIAL, 'x');
  push_io(VTB_HC_PORT_BASE + VTB_HC_MARK, mark(0x300100, VTB_MARK_END));
  push_io(VTB_PORT_BENCH, 1); /* after: not counted */
  push_io(VTB_HC_PORT_BASE + VTB_HC_EXIT, exit_arg(0x300200, 0));
  struct run_observer o = {.name = "t", .timed_begin = on_begin, .timed_end = on_end};
  begin_calls = end_calls = 0;
  ck_assert_int_eq(run_loop__add_observer(&rl, &o), 0);
  ck_assert_int_eq(run_loop__run(&rl), RUN_OK);
  ck_assert_uint_eq(stats.total, 8);
  ck_assert_uint_eq(stats.by_reason[KVM_EXIT_IO].count, 8);
  ck_assert_uint_eq(
      exit_stats__find_sub(&stats, EXIT_SUB_IO_PORT, VTB_PORT_BENCH, false)->lat.count, 7);
  ck_assert_uint_eq(rl.exits_all, (uint64_t)script_len);
  ck_assert_int_eq(begin_calls, 1);
  ck_assert_int_eq(end_calls, 1);
  ck_assert(vm.timed_begun && vm.timed_ended);
  ck_assert_uint_ge(vm.timed_tsc_end, vm.timed_tsc_begin);
  ck_assert_uint_eq(bench.writes, 13);
  ck_assert_str_eq(con.buf, "x");
}
END_TEST

START_TEST(stop_request_ends_run_as_timeout_with_registers) {
  push_reason(KVM_EXIT_INTR); /* a stray signal: re-enter */
  push_reason(KVM_EXIT_INTR);
  vm.cfg.timeout_s = 2;
  ck_assert_int_eq(run_loop__dispatch(&rl, &script[0], &(enum exit_sub_kind){0}, &(uint64_t){0}),
                   0);
  vm.stop_requested = 1;
  script_pos = 1;
  ck_assert_int_eq(run_loop__run(&rl), RUN_TIMEOUT);
  ck_assert(vm.have_regs);
  ck_assert_uint_eq(vm.final_regs.rip, 0x201234);
  ck_assert_ptr_nonnull(strstr(vm.status_detail, "rip 0x201234"));
}
END_TEST

START_TEST(backend_failure_is_a_host_error) {
  ck_assert_int_eq(run_loop__run(&rl), RUN_HOST_ERROR); /* empty script: run() fails */
  ck_assert_ptr_nonnull(strstr(vm.status_detail, "backend run failed"));
}
END_TEST

/* ---- device bus ------------------------------------------------------------------------- */
START_TEST(devbus_refuses_overlap_and_reads_unclaimed_as_ones) {
  char err[256];
  struct bench_dev other;
  ck_assert_int_eq(dev_bench__register(&bus, &other, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "already belongs to bench"));
  ck_assert_int_eq(
      devbus__register(&bus, "x", 0xfff0, 0x20, (pio_handler_fn)1, NULL, err, sizeof err), -1);
  uint8_t data[4] = {0};
  ck_assert_int_eq(devbus__pio(&vm, &bus, 0x80, 4, false, 1, data), 0);
  ck_assert_uint_eq(data[0], 0xff);
  ck_assert_uint_eq(data[3], 0xff);
  ck_assert_int_eq(devbus__pio(&vm, &bus, 0x80, 1, true, 3, data), 0);
  ck_assert_uint_eq(bus.unclaimed_reads, 1);
  ck_assert_uint_eq(bus.unclaimed_writes, 3);
  ck_assert_int_eq(bus.first_unclaimed_port, 0x80);
  /* serial LSR says "ready" so polling guests proceed */
  ck_assert_int_eq(devbus__pio(&vm, &bus, VTB_PORT_SERIAL + 5, 1, false, 1, data), 0);
  ck_assert_uint_eq(data[0], 0x60);
}
END_TEST

/* ---- hypercalls ------------------------------------------------------------------------- */
static void expect_bad(uint32_t nr, uint32_t gpa, const char *field) {
  vm.status = RUN_OK;
  ck_assert_int_eq(hypercall__handle(&vm, &hc, nr, gpa), 1);
  ck_assert_int_eq(vm.status, RUN_BAD_HYPERCALL);
  ck_assert_msg(strstr(vm.status_detail, field) != NULL, "'%s' not in '%s'", field,
                vm.status_detail);
  ck_assert_ptr_nonnull(strstr(vm.status_detail, hypercall__name(nr)));
}

START_TEST(hypercall_pointers_and_lengths_are_checked) {
  uint64_t ram = vm.mem.size;
  expect_bad(VTB_HC_CONSOLE, (uint32_t)ram, "argument GPA");
  expect_bad(VTB_HC_CONSOLE, (uint32_t)ram - 8, "argument GPA"); /* struct straddles the end */
  struct vtb_hc_console c = {.buf = ram - 4, .len = 8};
  expect_bad(VTB_HC_CONSOLE, put(0x300000, &c, sizeof c), "buf");
  c.buf = 0x300100;
  c.len = VTB_CONSOLE_MAX + 1;
  expect_bad(VTB_HC_CONSOLE, put(0x300000, &c, sizeof c), "len");
  c.buf = UINT64_MAX - 2;
  c.len = 4;
  expect_bad(VTB_HC_CONSOLE, put(0x300000, &c, sizeof c), "buf");
  expect_bad(VTB_HC_COUNT - 1, 0x300000, "number");
  expect_bad(12345, 0x300000, "number");
  /* a good one still works */
  ck_assert_int_eq(guest_mem__write(&vm.mem, 0x300100, "ok", 2), 0);
  c.buf = 0x300100;
  c.len = 2;
  vm.status = RUN_OK;
  ck_assert_int_eq(hypercall__handle(&vm, &hc, VTB_HC_CONSOLE, put(0x300000, &c, sizeof c)), 0);
  ck_assert_str_eq(con.buf, "ok");
}
END_TEST

START_TEST(hypercall_report_keys_and_table_bound) {
  struct vtb_hc_report r;
  memset(&r, 0, sizeof r);
  strcpy(r.key, "Bad-Key");
  expect_bad(VTB_HC_REPORT, put(0x300000, &r, sizeof r), "key");
  memset(r.key, 'a', sizeof r.key); /* no NUL */
  expect_bad(VTB_HC_REPORT, put(0x300000, &r, sizeof r), "key");
  memset(&r, 0, sizeof r);
  expect_bad(VTB_HC_REPORT, put(0x300000, &r, sizeof r), "key"); /* empty */
  for (int i = 0; i < VM_REPORTS_MAX; i++) {
    memset(&r, 0, sizeof r);
    snprintf(r.key, sizeof r.key, "k%d", i);
    r.value = (uint64_t)i;
    ck_assert_int_eq(hypercall__handle(&vm, &hc, VTB_HC_REPORT, put(0x300000, &r, sizeof r)), 0);
  }
  r.value = 99; /* same key again: updated, not a new slot */
  ck_assert_int_eq(hypercall__handle(&vm, &hc, VTB_HC_REPORT, put(0x300000, &r, sizeof r)), 0);
  ck_assert_int_eq(vm.nreports, VM_REPORTS_MAX);
  ck_assert_uint_eq(vm.reports[VM_REPORTS_MAX - 1].value, 99);
  strcpy(r.key, "one.too.many");
  expect_bad(VTB_HC_REPORT, put(0x300000, &r, sizeof r), "report count");
  ck_assert_int_eq(vm.nreports, VM_REPORTS_MAX); /* earlier results kept */
}
END_TEST

START_TEST(hypercall_marks_in_order_only) {
  expect_bad(VTB_HC_MARK, mark(0x300000, VTB_MARK_END), "phase");
  struct vtb_hc_mark m = {.region = VTB_REGIONS_MAX, .phase = VTB_MARK_BEGIN};
  expect_bad(VTB_HC_MARK, put(0x300000, &m, sizeof m), "region");
  m.region = 0;
  m.phase = 7;
  expect_bad(VTB_HC_MARK, put(0x300000, &m, sizeof m), "phase");
  ck_assert_int_eq(hypercall__handle(&vm, &hc, VTB_HC_MARK, mark(0x300000, VTB_MARK_BEGIN)), 0);
  ck_assert(stats.enabled);
  expect_bad(VTB_HC_MARK, mark(0x300000, VTB_MARK_BEGIN), "begun a second time");
}
END_TEST

START_TEST(hypercall_exit_and_exception_end_the_run) {
  ck_assert_int_eq(hypercall__handle(&vm, &hc, VTB_HC_EXIT, exit_arg(0x300000, 3)), 1);
  ck_assert_int_eq(vm.status, RUN_GUEST_FAILED);
  ck_assert_uint_eq(vm.guest_exit_status, 3);
  struct vtb_hc_exception x = {
      .vector = 14, .error_code = 2, .rip = 0x201000, .cr2 = 0xdead000, .cs = 0x23};
  ck_assert_int_eq(hypercall__handle(&vm, &hc, VTB_HC_EXCEPTION, put(0x300000, &x, sizeof x)), 1);
  ck_assert_int_eq(vm.status, RUN_GUEST_EXCEPTION);
  ck_assert_ptr_nonnull(strstr(vm.status_detail, "vector 14 (#PF)"));
  ck_assert_ptr_nonnull(strstr(vm.status_detail, "cr2 0xdead000"));
  ck_assert_uint_eq(vm.exception.rip, 0x201000);
}
END_TEST

START_TEST(hypercall_raise_nmi_injects_or_fails_clearly) {
  struct vtb_hc_raise r = {.vector = 0, .count = 1};
  vm.status = RUN_OK;
  ck_assert_int_eq(hypercall__handle(&vm, &hc, VTB_HC_RAISE_NMI, put(0x300000, &r, sizeof r)), 0);
  ck_assert_int_eq(nmi_injected, 1);
  r.count = 0;
  expect_bad(VTB_HC_RAISE_NMI, put(0x300000, &r, sizeof r), "count");
  r.count = 1;
  vm.cfg.modes.nmi_set = true;
  vm.cfg.modes.nmi = EVENT_WINDOW;
  ck_assert_int_eq(hypercall__handle(&vm, &hc, VTB_HC_RAISE_NMI, put(0x300000, &r, sizeof r)), 1);
  ck_assert_ptr_nonnull(strstr(vm.status_detail, "--nmi window"));
  ck_assert_int_eq(nmi_injected, 1);
}
END_TEST

START_TEST(hypercall_port_must_be_a_32bit_out) {
  uint8_t data[4] = {0, 0, 0x30, 0};
  vm.status = RUN_OK;
  ck_assert_int_eq(devbus__pio(&vm, &bus, VTB_HC_PORT_BASE + VTB_HC_EXIT, 1, true, 1, data), 1);
  ck_assert_int_eq(vm.status, RUN_BAD_HYPERCALL);
  ck_assert_ptr_nonnull(strstr(vm.status_detail, "access size"));
  vm.status = RUN_OK;
  ck_assert_int_eq(devbus__pio(&vm, &bus, VTB_HC_PORT_BASE + VTB_HC_EXIT, 4, false, 1, data), 1);
  ck_assert_ptr_nonnull(strstr(vm.status_detail, "direction"));
}
END_TEST

Suite *suite_run_loop(void) {
  Suite *s = suite_create("run_loop");
  TCase *tc = tcase_create("dispatch");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, table_has_handlers_for_the_exits_refvmm_handles);
  tcase_add_test(tc, unknown_reason_is_an_internal_error_naming_it);
  tcase_add_test(tc, kvm_exit_names_cover_the_header);
  tcase_add_test(tc, fatal_exits_map_to_their_status);
  tcase_add_test(tc, io_exit_sub_reason_is_port_or_hypercall);
  tcase_add_test(tc, only_exits_between_the_marks_are_counted);
  tcase_add_test(tc, stop_request_ends_run_as_timeout_with_registers);
  tcase_add_test(tc, backend_failure_is_a_host_error);
  tcase_add_test(tc, devbus_refuses_overlap_and_reads_unclaimed_as_ones);
  suite_add_tcase(s, tc);
  TCase *th = tcase_create("hypercall");
  tcase_add_checked_fixture(th, setup, teardown);
  tcase_add_test(th, hypercall_pointers_and_lengths_are_checked);
  tcase_add_test(th, hypercall_report_keys_and_table_bound);
  tcase_add_test(th, hypercall_marks_in_order_only);
  tcase_add_test(th, hypercall_exit_and_exception_end_the_run);
  tcase_add_test(th, hypercall_raise_nmi_injects_or_fails_clearly);
  tcase_add_test(th, hypercall_port_must_be_a_32bit_out);
  suite_add_tcase(s, th);
  return s;
}
