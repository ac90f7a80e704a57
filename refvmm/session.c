/* session.c - set up, run and tear down one guest. */
#include "session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../probes/timing.h"
#include "backend.h"
#include "boot_info.h"
#include "exit_codes.h"
#include "image_params.h"
#include "linux_boot.h"
#include "x86_setup.h"

struct session *session__new(const struct vm_config *cfg, const struct session_opts *opts) {
  struct session *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->vm.cfg = *cfg;
  if (opts) s->opts = *opts;
  s->vm.status = RUN_HOST_ERROR; /* until a run says otherwise */
  return s;
}

static int fail(struct session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct session *s, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->err, sizeof s->err, fmt, ap);
  va_end(ap);
  return code;
}

static uint64_t page_up(uint64_t v) {
  return (v + 4095u) & ~4095ull;
}

/* KVM stats and PMU, snapshotted at the marks through a run observer, on
 * backends that have them; a missing feature is recorded, not fatal. */
static int open_probes(struct session *s) {
  struct vm *vm = &s->vm;
  int vm_fd, vcpu_fd;
  if (!vm->ops->probe_fds || vm->ops->probe_fds(vm, &vm_fd, &vcpu_fd)) return 0;
  char err[512];
  if (probe_set__open(&s->probes, vm_fd, vcpu_fd, 0, s->opts.pmu_events, !s->opts.no_pmu, err,
                      sizeof err))
    return fail(s, EXIT_HOST, "refvmm: %s", err);
  s->probes_open = true;
  struct run_observer o = {.name = "probes",
                           .timed_begin = probe_set__on_begin,
                           .timed_end = probe_set__on_end,
                           .arg = &s->probes};
  run_loop__add_observer(&s->rl, &o);
  return 0;
}

/* --profile FILE: the cost profile of a backend that models cycles. */
static int load_cost_profile(struct session *s) {
  struct vm *vm = &s->vm;
  if (!vm->ops->load_profile) {
    if (s->opts.profile_path)
      return fail(s, EXIT_USAGE,
                  "refvmm: --profile %s: the %s backend has no cost model (it runs on real "
                  "hardware); drop --profile",
                  s->opts.profile_path, vm->ops->name);
    return 0;
  }
  char err[600];
  int rc = vm->ops->load_profile(vm, s->opts.profile_path, err, sizeof err);
  if (rc == -ENOMEM) return fail(s, EXIT_HOST, "refvmm: %s", err);
  if (rc) return fail(s, EXIT_USAGE, "refvmm: --profile: %s", err);
  return 0;
}

static void timed_mark_begin(struct vm *vm, void *arg) {
  (void)arg;
  vm->ops->timed_mark(vm, false);
}
static void timed_mark_end(struct vm *vm, void *arg) {
  (void)arg;
  vm->ops->timed_mark(vm, true);
}

/* The backend's own snapshots at the timed region's marks. */
static int observe_timed_marks(struct session *s) {
  if (!s->vm.ops->timed_mark) return 0;
  struct run_observer o = {.name = s->vm.ops->name,
                           .timed_begin = timed_mark_begin,
                           .timed_end = timed_mark_end,
                           .arg = NULL};
  if (run_loop__add_observer(&s->rl, &o))
    return fail(s, EXIT_HOST, "refvmm: too many run-loop observers (%s backend)", s->vm.ops->name);
  return 0;
}

int session__prepare(struct session *s) {
  struct vm *vm = &s->vm;
  vm->ops = backend__find(vm->cfg.backend);
  if (!vm->ops)
    return fail(s, EXIT_UNSUPPORTED, "refvmm: backend '%s' is not available", vm->cfg.backend);
  if (vm->ops->check_modes && vm->ops->check_modes(vm))
    return fail(s, EXIT_UNSUPPORTED, "refvmm: backend %s cannot run this: %s", vm->ops->name,
                vm->status_detail);
  vm->status_detail[0] = '\0';

  int rc = guest_mem__init_backing(&vm->mem, vm->cfg.mem_size, vm->ops->ram_private_huge);
  if (rc)
    return fail(s, EXIT_HOST, "refvmm: cannot allocate %" PRIu64 " bytes of guest RAM: %s",
                vm->cfg.mem_size, strerror(-rc));

  char err[512];
  struct boot_state bs;
  if (vm->cfg.kernel) {
    if (linux_boot__load(&vm->mem, &vm->cfg, &s->linux_img, &bs, err, sizeof err))
      return fail(s, EXIT_IMAGE, "refvmm: %s", err);
    vm->image_lo = s->linux_img.kernel_lo;
    vm->image_hi = s->linux_img.kernel_lo + s->linux_img.init_size;
    vm->entry = bs.entry;
  } else {
    if (elf__load_file(vm->cfg.image, &vm->mem, &s->image, err, sizeof err))
      return fail(s, EXIT_IMAGE, "refvmm: %s", err);
    if (image_params__check(&s->image.params, vm->cfg.image, vm->cfg.params, vm->cfg.nparams, err,
                            sizeof err))
      return fail(s, EXIT_USAGE, "refvmm: %s", err);
    if (vm->ops->interprets_guest && !vm->cfg.quiet && s->image.params.present &&
        image_params__all_default(&s->image.params, vm->cfg.params, vm->cfg.nparams))
      fprintf(stderr,
              "refvmm: note: %s runs at its default sizes, which are sized for KVM; the %s "
              "backend interprets the guest, tens of times slower, so this can take minutes "
              "(progress every 10 s; smaller sizes: --param, see vtbench workloads)\n",
              vm->cfg.image, vm->ops->name);
    vm->image_lo = s->image.lo;
    vm->image_hi = s->image.hi;
    vm->entry = s->image.entry;
    if ((rc = x86__setup_long_mode(&vm->mem, vm->entry, &bs)))
      return fail(s, EXIT_HOST, "refvmm: building the long-mode tables failed: %s", strerror(-rc));
  }

  if ((rc = vm->ops->create(vm))) {
    return fail(s, EXIT_HOST, "refvmm: %s",
                vm->status_detail[0] ? vm->status_detail : strerror(-rc));
  }
  s->created = true;
  /* from here on every store into guest RAM tells the backend */
  vm->mem.written = vm->ops->guest_written;
  vm->mem.written_vm = vm;
  if ((rc = load_cost_profile(s))) return rc;

  /* TSC: what the vCPU runs at, else the host's (calibrated if need be). */
  const char *how = NULL;
  vm->tsc_hz = vm->ops->vcpu_tsc_hz ? vm->ops->vcpu_tsc_hz(vm, &how) : 0;
  if (vm->tsc_hz) /* the kernel's own rate: no 50 ms calibration later */
    timing__tsc_set(vm->tsc_hz, TSC_SRC_KVM, how);
  else
    vm->tsc_hz = timing__tsc_hz();

  if (!vm->cfg.kernel) {                      /* a Linux kernel gets its zero page instead */
    uint32_t flags = VTB_BOOT_F_SYSCALL_TRAP; /* SYSCALL/SYSRET are unreliable on PVM hosts */
    if (vm->ops->boot_flags) flags |= vm->ops->boot_flags(vm);
    uint64_t guest_tsc_hz = vm->ops->guest_tsc_hz ? vm->ops->guest_tsc_hz(vm) : vm->tsc_hz;
    if (boot_info__write(&vm->mem, page_up(vm->image_hi), guest_tsc_hz, flags,
                         (const char *const *)vm->cfg.params, vm->cfg.nparams, err, sizeof err))
      return fail(s, EXIT_USAGE, "refvmm: --param: %s", err);
  }

  if ((rc = vm->ops->set_boot_state(vm, &bs)))
    return fail(s, EXIT_HOST, "refvmm: %s",
                vm->status_detail[0] ? vm->status_detail : strerror(-rc));

  devbus__init(&s->bus);
  vm->bus = &s->bus;
  console__init(&s->console, !vm->cfg.quiet);
  vm->console = &s->console;
  hypercall__init(&s->hc, &s->console);
  if (dev_serial__register(&s->bus, &s->serial, &s->console, err, sizeof err) ||
      dev_bench__register(&s->bus, &s->bench, err, sizeof err) ||
      dev_ident__register(&s->bus, err, sizeof err) ||
      hypercall__register(&s->bus, &s->hc, err, sizeof err))
    return fail(s, EXIT_HOST, "refvmm: %s", err);

  exit_stats__init(&s->stats, vm->tsc_hz, vm->ops->exit_name);
  run_loop__init(&s->rl, vm);
  if (vm->cfg.kernel &&
      platform__init(&s->platform, vm, &s->bus, &s->serial, &s->console, err, sizeof err))
    return fail(s, EXIT_UNSUPPORTED, "refvmm: --kernel: %s", err);
  if (vm->ops->platform_ready && (rc = vm->ops->platform_ready(vm)))
    return fail(s, EXIT_HOST, "refvmm: %s",
                vm->status_detail[0] ? vm->status_detail : strerror(-rc));
  if ((rc = observe_timed_marks(s))) return rc;
  if (!s->opts.no_probes) {
    vm->exits = &s->stats;
    if ((rc = open_probes(s))) return rc;
  }
  vm->status_detail[0] = '\0';
  return 0;
}

int session__add_observer(struct session *s, const struct run_observer *o) {
  return run_loop__add_observer(&s->rl, o);
}

/* The reference run a backend asks for (the model's native baseline): its
 * configuration, quietly, without probes, in-process. */
static void run_reference(struct session *s) {
  struct vm *vm = &s->vm;
  struct vm_config cfg;
  if (!vm->ops->reference_config || !vm->ops->reference_config(vm, s->opts.model_baseline, &cfg))
    return;
  cfg.quiet = true;
  cfg.json_path = NULL;
  struct session_opts o = {.no_probes = true, .profile_path = s->opts.profile_path};
  struct session *n = session__new(&cfg, &o);
  if (n && !vm->cfg.quiet) n->progress = "the native baseline run (before the guest's own)";
  if (!n) {
    vm->ops->reference_done(vm, BACKEND_REF_NOMEM, NULL, "out of memory");
    return;
  }
  if (session__prepare(n)) {
    vm->ops->reference_done(vm, BACKEND_REF_NO_START, NULL, n->err);
  } else {
    session__run(n);
    vm->ops->reference_done(vm, BACKEND_REF_RAN, &n->vm, "");
  }
  session__free(n);
}

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --timeout bounds the whole run: the reference run gets it, the measured
 * run what the reference run left of it. */
enum run_status session__run(struct session *s) {
  struct vm *vm = &s->vm;
  double limit = vm->cfg.timeout_s, t0 = mono_s();
  if (s->created) run_reference(s);
  double left = limit - (mono_s() - t0);
  if (limit > 0 && left <= 0) {
    vm->status = RUN_TIMEOUT;
    snprintf(vm->status_detail, sizeof vm->status_detail,
             "watchdog: --timeout %g s ran out in the reference run the %s backend makes first "
             "(the measured run did not start); raise --timeout",
             limit, vm->ops->name);
    return vm->status;
  }
  int rc = watchdog__start(&s->wd, vm, limit > 0 ? left : 0,
                           s->progress     ? s->progress
                           : vm->cfg.quiet ? NULL
                                           : "the guest");
  if (rc) {
    vm->status = RUN_HOST_ERROR;
    snprintf(vm->status_detail, sizeof vm->status_detail, "cannot start the watchdog thread: %s",
             strerror(-rc));
    return vm->status;
  }
  s->ran = true;
  run_loop__run(&s->rl);
  watchdog__stop(&s->wd);
  if (s->probes_open) probe_set__finish(&s->probes); /* a region the guest never ended */
  return vm->status;
}

void session__free(struct session *s) {
  if (!s) return;
  if (s->probes_open) probe_set__close(&s->probes);
  if (s->created && s->vm.ops->destroy) s->vm.ops->destroy(&s->vm);
  events__free(&s->rl.events);
  guest_mem__destroy(&s->vm.mem);
  free(s);
}
