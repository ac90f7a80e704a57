/* run_loop.c - the vCPU loop and the exit dispatch table. */
#include "run_loop.h"

#include <inttypes.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <x86intrin.h>

#include "backend.h"
#include "devbus.h"
#include "hypercall.h"
#include "linux_boot.h"
#include "vmcall.h"

static int stop_with(struct vm *vm, enum run_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int stop_with(struct vm *vm, enum run_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vm->status = s;
  vsnprintf(vm->status_detail, sizeof vm->status_detail, fmt, ap);
  va_end(ap);
  return 1;
}

static int handle_io(struct run_loop *rl, struct vcpu_exit *e, enum exit_sub_kind *kind,
                     uint64_t *key) {
  uint32_t nr;
  if (hypercall__port_nr(e->io.port, &nr)) {
    *kind = EXIT_SUB_HYPERCALL;
    *key = nr;
  } else {
    *kind = EXIT_SUB_IO_PORT;
    *key = e->io.port;
  }
  struct vm *vm = rl->vm;
  return devbus__pio(vm, vm->bus, e->io.port, e->io.size, e->io.write, e->io.count, e->io.data);
}

static int handle_mmio(struct run_loop *rl, struct vcpu_exit *e, enum exit_sub_kind *kind,
                       uint64_t *key) {
  *kind = EXIT_SUB_MMIO_PAGE;
  *key = e->mmio.gpa & ~0xfffull;
  return devbus__mmio(rl->vm, rl->vm->bus, e->mmio.gpa, e->mmio.len, e->mmio.write, e->mmio.data);
}

/* RDMSR/WRMSR of an MSR a device owns (the local APIC's TSC deadline). */
static int handle_msr(struct run_loop *rl, struct vcpu_exit *e, enum exit_sub_kind *kind,
                      uint64_t *key) {
  *kind = EXIT_SUB_MSR;
  *key = e->msr.index;
  bool refused;
  int rc = devbus__msr(rl->vm, rl->vm->bus, e->msr.index, e->reason == KVM_EXIT_X86_WRMSR,
                       e->msr.data, &refused);
  *e->msr.error = refused;
  return rc;
}

/* KVM's local APIC ended a level-triggered interrupt: refvmm's I/O APIC
 * clears its remote IRR (and delivers again if the line is still high). */
static int handle_eoi(struct run_loop *rl, struct vcpu_exit *e, enum exit_sub_kind *kind,
                      uint64_t *key) {
  (void)kind, (void)key;
  struct device_bus *bus = rl->vm->bus;
  if (bus && bus->eoi) bus->eoi(bus->eoi_arg, e->eoi.vector);
  return 0;
}

/* Without an in-kernel irqchip KVM leaves HLT to user space. With IF=1 an
 * IRQ the backend has queued will be injected on re-entry; with IF=0
 * nothing can ever wake the guest. */
static int handle_hlt(struct run_loop *rl, struct vcpu_exit *e, enum exit_sub_kind *kind,
                      uint64_t *key) {
  (void)e, (void)kind, (void)key;
  struct vm *vm = rl->vm;
  struct vcpu_regs r;
  bool intr = vm->ops->get_regs(vm, &r) == 0 && (r.rflags & 0x200);
  if (vm->cfg.kernel) return linux_halt__end(vm, intr);
  if (intr) return 0;
  return stop_with(vm, RUN_GUEST_FAILED,
                   "guest executed HLT with interrupts disabled: nothing can wake it");
}

static int handle_window(struct run_loop *rl, struct vcpu_exit *e, enum exit_sub_kind *kind,
                         uint64_t *key) {
  (void)e, (void)kind, (void)key;
  if (rl->vm->events) events__on_window(rl->vm->events);
  return 0; /* the queued IRQ is injected before re-entry */
}

static int handle_intr(struct run_loop *rl, struct vcpu_exit *e, enum exit_sub_kind *kind,
                       uint64_t *key) {
  (void)e, (void)kind, (void)key;
  struct vm *vm = rl->vm;
  if (vm->stop_requested)
    return stop_with(vm, RUN_TIMEOUT, "watchdog: guest still running after --timeout %g s",
                     vm->cfg.timeout_s);
  if (vm->halt_check) { /* the watchdog saw a silent second: is the vCPU halted? */
    vm->halt_check = 0;
    bool intr = true;
    if (vm->ops->halted && vm->ops->halted(vm, &intr) == 1 && !intr)
      return linux_halt__end(vm, false);
    return 0;
  }
  /* a raise or poll kick (refvmm/events.h), or a stray signal: re-enter */
  if (vm->events) events__on_intr(vm->events);
  return 0;
}

/* KVM_EXIT_HYPERCALL: the vmcall workload's hypercall (vmcall.c). */
static int handle_hypercall(struct run_loop *rl, struct vcpu_exit *e, enum exit_sub_kind *kind,
                            uint64_t *key) {
  *kind = EXIT_SUB_KVM_HYPERCALL;
  *key = e->hypercall.nr;
  return vmcall__handle(rl->vm, e);
}

/* Without an in-kernel LAPIC, VMX/SVM KVM reports a CR8 write that lowers
 * the TPR (cr8wr workload); nothing is pending in user space: re-enter. */
static int handle_set_tpr(struct run_loop *rl, struct vcpu_exit *e, enum exit_sub_kind *kind,
                          uint64_t *key) {
  (void)rl, (void)e, (void)kind, (void)key;
  return 0;
}

static int handle_shutdown(struct run_loop *rl, struct vcpu_exit *e, enum exit_sub_kind *kind,
                           uint64_t *key) {
  (void)kind, (void)key;
  if (e->why)
    return stop_with(rl->vm, RUN_TRIPLE_FAULT, "guest shut down (%s backend: %s)",
                     rl->vm->ops->name, e->why);
  return stop_with(rl->vm, RUN_TRIPLE_FAULT,
                   "guest shut down (triple fault: an exception while delivering #DF)");
}

static int handle_fail_entry(struct run_loop *rl, struct vcpu_exit *e, enum exit_sub_kind *kind,
                             uint64_t *key) {
  (void)kind, (void)key;
  return stop_with(rl->vm, RUN_FAILED_ENTRY,
                   "VM entry failed: hardware entry failure reason 0x%" PRIx64,
                   e->fail_entry.hw_reason);
}

static const char *internal_suberror_name(uint32_t s) {
  switch (s) {
  case KVM_INTERNAL_ERROR_EMULATION:
    return "emulation failure";
  case KVM_INTERNAL_ERROR_SIMUL_EX:
    return "exception while delivering an exception";
  case KVM_INTERNAL_ERROR_DELIVERY_EV:
    return "event delivery failed";
  case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
    return "unexpected hardware exit reason";
  }
  return "unknown suberror";
}

static int handle_internal(struct run_loop *rl, struct vcpu_exit *e, enum exit_sub_kind *kind,
                           uint64_t *key) {
  (void)kind, (void)key;
  if (e->why) { /* the backend's own reason first, then the emulation-failure record */
    char bytes[16 * 3 + 1] = "?";
    uint8_t b[16];
    memcpy(b, &e->internal.data[1], sizeof b);
    for (int i = 0; e->internal.ndata >= 3 && i < 16; i++)
      snprintf(bytes + 3 * i, sizeof bytes - 3 * (size_t)i, "%02x ", b[i]);
    if (e->internal.ndata >= 3) bytes[16 * 3 - 1] = '\0';
    return stop_with(rl->vm, RUN_INTERNAL_ERROR,
                     "%s backend cannot run this guest: %s (internal error, suberror %u: %s; "
                     "rip 0x%" PRIx64 ", bytes %s)",
                     rl->vm->ops->name, e->why, e->internal.suberror,
                     internal_suberror_name(e->internal.suberror), e->internal.data[0], bytes);
  }
  return stop_with(rl->vm, RUN_INTERNAL_ERROR,
                   "KVM internal error: suberror %u (%s), ndata %u, data 0x%" PRIx64 " 0x%" PRIx64
                   " 0x%" PRIx64 " 0x%" PRIx64,
                   e->internal.suberror, internal_suberror_name(e->internal.suberror),
                   e->internal.ndata, e->internal.data[0], e->internal.data[1], e->internal.data[2],
                   e->internal.data[3]);
}

/* The dispatch table: one handler per exit reason refvmm understands.
 * Everything else ends the run as an internal error naming the reason. */
static const exit_handler_fn exit_handlers[RUN_EXIT_REASONS_MAX] = {
    [KVM_EXIT_IO] = handle_io,
    [KVM_EXIT_MMIO] = handle_mmio,
    [KVM_EXIT_X86_RDMSR] = handle_msr,
    [KVM_EXIT_X86_WRMSR] = handle_msr,
    [KVM_EXIT_IOAPIC_EOI] = handle_eoi,
    [KVM_EXIT_HLT] = handle_hlt,
    [KVM_EXIT_IRQ_WINDOW_OPEN] = handle_window,
    [KVM_EXIT_INTR] = handle_intr,
    [KVM_EXIT_HYPERCALL] = handle_hypercall,
    [KVM_EXIT_SET_TPR] = handle_set_tpr,
    [KVM_EXIT_SHUTDOWN] = handle_shutdown,
    [KVM_EXIT_FAIL_ENTRY] = handle_fail_entry,
    [KVM_EXIT_INTERNAL_ERROR] = handle_internal,
};

exit_handler_fn run_loop__handler(uint32_t reason) {
  return reason < RUN_EXIT_REASONS_MAX ? exit_handlers[reason] : NULL;
}

int run_loop__dispatch(struct run_loop *rl, struct vcpu_exit *e, enum exit_sub_kind *kind,
                       uint64_t *key) {
  exit_handler_fn h = run_loop__handler(e->reason);
  if (__builtin_expect(h == NULL, 0))
    return stop_with(rl->vm, RUN_INTERNAL_ERROR,
                     "unexpected exit reason %u (%s): refvmm has no handler for it", e->reason,
                     rl->vm->ops->exit_name ? rl->vm->ops->exit_name(e->reason) : "?");
  return h(rl, e, kind, key);
}

void run_loop__init(struct run_loop *rl, struct vm *vm) {
  memset(rl, 0, sizeof *rl);
  rl->vm = vm;
  vm->events = NULL;
  events__init(&rl->events, vm);
}

int run_loop__add_observer(struct run_loop *rl, const struct run_observer *o) {
  if (rl->nobs >= RUN_OBSERVERS_MAX) return -1;
  rl->obs[rl->nobs++] = *o;
  return 0;
}

static void notify(struct run_loop *rl, bool begin) {
  for (int i = 0; i < rl->nobs; i++) {
    void (*fn)(struct vm *, void *) = begin ? rl->obs[i].timed_begin : rl->obs[i].timed_end;
    if (fn) fn(rl->vm, rl->obs[i].arg);
  }
}

/* Where the guest was, for every abnormal end. */
static void capture_regs(struct vm *vm) {
  if (vm->ops->get_regs && vm->ops->get_regs(vm, &vm->final_regs) == 0) {
    vm->have_regs = true;
    size_t n = strlen(vm->status_detail);
    if (vm->status != RUN_GUEST_EXCEPTION && n < sizeof vm->status_detail)
      snprintf(vm->status_detail + n, sizeof vm->status_detail - n,
               "; vCPU at rip 0x%" PRIx64 " (cpl %u)", vm->final_regs.rip,
               (unsigned)vm->final_regs.cpl);
  }
}

enum run_status run_loop__run(struct run_loop *rl) {
  struct vm *vm = rl->vm;
  struct exit_stats *stats = vm->exits;
  struct vcpu_exit e;
  struct events *ev = vm->events;
  if (ev) {
    int erc = events__start(ev);
    if (erc) {
      stop_with(vm, RUN_HOST_ERROR, "cannot start the events timer thread: %s", strerror(-erc));
      capture_regs(vm);
      return vm->status;
    }
  }
  for (;;) {
    if (__builtin_expect(vm->stop_requested, 0)) {
      stop_with(vm, RUN_TIMEOUT, "watchdog: guest still running after --timeout %g s",
                vm->cfg.timeout_s);
      break;
    }
    if (ev) {
      int erc = events__before_run(ev);
      if (__builtin_expect(erc < 0, 0)) {
        vm->status = RUN_HOST_ERROR; /* the backend wrote status_detail */
        break;
      }
    }
    e.why = NULL;
    int rc = vm->ops->run(vm, &e);
    uint64_t t0 = __rdtsc();
    if (__builtin_expect(rc < 0, 0)) {
      vm->status = RUN_HOST_ERROR; /* the backend wrote status_detail */
      if (!vm->status_detail[0])
        snprintf(vm->status_detail, sizeof vm->status_detail, "backend run failed: %s",
                 strerror(-rc));
      break;
    }
    vm->exits_seen++;
    /* the watchdog's halt-check kick is the VMM looking, not the guest's exit */
    bool looked = e.reason == KVM_EXIT_INTR && vm->halt_check;
    if (!looked) {
      rl->exits_all++;
      rl->exits_all_by_reason[e.reason < RUN_EXIT_REASONS_MAX ? e.reason : RUN_EXIT_REASONS_MAX]++;
    }
    bool counting = stats && stats->enabled && !looked; /* exits before mark begin stay out */
    bool begun = vm->timed_begun, ended = vm->timed_ended;
    enum exit_sub_kind kind = EXIT_SUB_NONE;
    uint64_t key = 0;
    int stop = run_loop__dispatch(rl, &e, &kind, &key);
    if (__builtin_expect(begun != vm->timed_begun || ended != vm->timed_ended, 0))
      notify(rl, vm->timed_begun && !begun);
    if (counting) exit_stats__record(stats, e.reason, kind, key, __rdtsc() - t0);
    if (stop) break;
  }
  if (ev) {
    events__stop(ev);
    events__finish(ev);
  }
  if (vm->status != RUN_OK) capture_regs(vm);
  return vm->status;
}
