/* session.c - set up, run and tear down one guest. */
#include "session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../probes/timing.h"
#include "boot_info.h"
#include "exit_codes.h"
#include "kvm/kvm_backend.h"
#include "kvm/kvm_host.h"
#include "model/cost_model.h"
#include "model/model_backend.h"
#include "model/model_cpu.h"
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

/* KVM stats and PMU, snapshotted at the marks through a run observer. Only
 * the KVM backend has the fds; a missing feature is recorded, not fatal. */
static int open_probes(struct session *s) {
  struct vm *vm = &s->vm;
  if (vm->ops != &kvm_backend_ops) return 0;
  char err[512];
  if (probe_set__open(&s->probes, kvm_backend__vm_fd(vm), kvm_backend__vcpu_fd(vm), 0,
                      s->opts.pmu_events, !s->opts.no_pmu, err, sizeof err))
    return fail(s, EXIT_HOST, "refvmm: %s", err);
  s->probes_open = true;
  struct run_observer o = {.name = "probes",
                           .timed_begin = probe_set__on_begin,
                           .timed_end = probe_set__on_end,
                           .arg = &s->probes};
  run_loop__add_observer(&s->rl, &o);
  return 0;
}

/* Model backend: the cost model's counts at the timed region's marks. */
static void cost_region_begin(struct vm *vm, void *arg) {
  (void)arg;
  struct model_cpu *c = model_backend__cpu(vm);
  if (c) model_cost__region_mark(c, false);
}
static void cost_region_end(struct vm *vm, void *arg) {
  (void)arg;
  struct model_cpu *c = model_backend__cpu(vm);
  if (c) model_cost__region_mark(c, true);
}

/* --profile FILE (model only): the profile the model CPU is charged with. */
static int load_cost_profile(struct session *s) {
  struct vm *vm = &s->vm;
  if (vm->ops != &model_backend_ops) {
    if (s->opts.profile_path)
      return fail(s, EXIT_USAGE,
                  "refvmm: --profile %s: cost profiles apply to --backend model only (the %s "
                  "backend runs on real hardware; drop --profile or use --backend model)",
                  s->opts.profile_path, vm->ops->name);
    return 0;
  }
  struct model_cpu *c = model_backend__cpu(vm);
  if (s->opts.profile_path) {
    char err[600];
    s->profile = calloc(1, sizeof *s->profile);
    if (!s->profile) return fail(s, EXIT_HOST, "refvmm: out of memory for the cost profile");
    if (cost_profile__load(s->opts.profile_path, s->profile, err, sizeof err))
      return fail(s, EXIT_USAGE, "refvmm: --profile: %s", err);
    model_cost__set_profile(c, s->profile);
  } else {
    model_cost__profile(c); /* parse the built-in profile now, not at the first RDTSC */
  }
  return 0;
}

/* The cost model's snapshots at the timed region's marks (model only). */
static int observe_cost_region(struct session *s) {
  if (s->vm.ops != &model_backend_ops) return 0;
  struct run_observer o = {.name = "cost_model",
                           .timed_begin = cost_region_begin,
                           .timed_end = cost_region_end,
                           .arg = NULL};
  if (run_loop__add_observer(&s->rl, &o))
    return fail(s, EXIT_HOST, "refvmm: too many run-loop observers (cost model)");
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

  int rc = guest_mem__init(&vm->mem, vm->cfg.mem_size);
  if (rc)
    return fail(s, EXIT_HOST, "refvmm: cannot allocate %" PRIu64 " bytes of guest RAM: %s",
                vm->cfg.mem_size, strerror(-rc));

  char err[512];
  if (elf__load_file(vm->cfg.image, &vm->mem, &s->image, err, sizeof err))
    return fail(s, EXIT_IMAGE, "refvmm: %s", err);
  vm->image_lo = s->image.lo;
  vm->image_hi = s->image.hi;
  vm->entry = s->image.entry;

  struct boot_state bs;
  if ((rc = x86__setup_long_mode(&vm->mem, vm->entry, &bs)))
    return fail(s, EXIT_HOST, "refvmm: building the long-mode tables failed: %s", strerror(-rc));

  if ((rc = vm->ops->create(vm))) {
    return fail(s, EXIT_HOST, "refvmm: %s",
                vm->status_detail[0] ? vm->status_detail : strerror(-rc));
  }
  s->created = true;
  if ((rc = load_cost_profile(s))) return rc;

  /* TSC: what the vCPU runs at, else the host's (calibrated if need be). */
  vm->tsc_hz = vm->ops == &kvm_backend_ops ? kvm_backend__tsc_hz(vm) : 0;
  if (vm->tsc_hz) /* the kernel's own rate: no 50 ms calibration later */
    timing__tsc_set(vm->tsc_hz, TSC_SRC_KVM, "KVM_GET_TSC_KHZ on the vCPU");
  else
    vm->tsc_hz = timing__tsc_hz();

  uint32_t flags = VTB_BOOT_F_SYSCALL_TRAP; /* SYSCALL/SYSRET are unreliable on PVM hosts */
  if (vm->ops == &kvm_backend_ops) { /* vmcall workload: KVM's emulator never completes VMCALL */
    struct kvm_host_info hi;
    kvm_host__detect("/sys", &hi);
    if (hi.flavour == KVM_FLAVOUR_PVM) flags |= VTB_BOOT_F_RING0_EMULATED;
  }
  /* The model's guest reads modeled cycles: tell it the profile's rate. */
  uint64_t guest_tsc_hz = vm->tsc_hz;
  if (vm->ops == &model_backend_ops)
    guest_tsc_hz = (uint64_t)(model_cost__profile(model_backend__cpu(vm))->tsc_ghz * 1e9 + 0.5);
  if (boot_info__write(&vm->mem, page_up(vm->image_hi), guest_tsc_hz, flags,
                       (const char *const *)vm->cfg.params, vm->cfg.nparams, err, sizeof err))
    return fail(s, EXIT_USAGE, "refvmm: --param: %s", err);

  if ((rc = vm->ops->set_boot_state(vm, &bs)))
    return fail(s, EXIT_HOST, "refvmm: %s",
                vm->status_detail[0] ? vm->status_detail : strerror(-rc));

  devbus__init(&s->bus);
  vm->bus = &s->bus;
  console__init(&s->console, !vm->cfg.quiet);
  hypercall__init(&s->hc, &s->console);
  if (dev_serial__register(&s->bus, &s->console, err, sizeof err) ||
      dev_bench__register(&s->bus, &s->bench, err, sizeof err) ||
      dev_ident__register(&s->bus, err, sizeof err) ||
      hypercall__register(&s->bus, &s->hc, err, sizeof err))
    return fail(s, EXIT_HOST, "refvmm: %s", err);

  exit_stats__init(&s->stats, vm->tsc_hz, vm->ops->exit_name);
  run_loop__init(&s->rl, vm);
  if ((rc = observe_cost_region(s))) return rc;
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

/* The native baseline of a model run in paging ept|shadow: the same image,
 * parameters and profile with paging native, quietly, in-process (the model
 * is deterministic). Its counts go to the CPU's cost_baseline. */
static void run_model_baseline(struct session *s, struct model_cpu *c) {
  struct cost_baseline *b = &c->cost_baseline;
  memset(b, 0, sizeof *b);
  if (s->vm.cfg.modes.paging == PAGING_NATIVE) {
    b->state = COST_BASELINE_SELF;
    return;
  }
  if (!s->opts.model_baseline) {
    b->state = COST_BASELINE_NONE;
    snprintf(b->reason, sizeof b->reason,
             "no native baseline run (--model-baseline none); run it with --paging native");
    return;
  }
  struct vm_config cfg = s->vm.cfg;
  cfg.modes.paging = PAGING_NATIVE;
  cfg.modes.paging_set = true;
  cfg.modes.tlb = TLB_FLUSH;
  cfg.quiet = true;
  cfg.json_path = NULL;
  struct session_opts o = {.no_probes = true, .profile_path = s->opts.profile_path};
  struct session *n = session__new(&cfg, &o);
  b->state = COST_BASELINE_FAILED;
  if (!n) {
    snprintf(b->reason, sizeof b->reason, "native baseline: out of memory");
    return;
  }
  if (session__prepare(n)) {
    snprintf(b->reason, sizeof b->reason, "native baseline could not start: %.200s", n->err);
  } else if (session__run(n) != RUN_OK) {
    snprintf(b->reason, sizeof b->reason, "native baseline run ended %s: %.180s",
             run_status__name(n->vm.status), n->vm.status_detail);
  } else {
    const struct model_cpu *nc = model_backend__cpu(&n->vm);
    b->timed = model_cost__scope_counts(nc, &b->counts);
    for (int i = 0; i < n->vm.nreports; i++)
      if (strcmp(n->vm.reports[i].key, "checksum") == 0) b->checksum = n->vm.reports[i].value;
    b->state = COST_BASELINE_RAN;
  }
  session__free(n);
}

enum run_status session__run(struct session *s) {
  struct vm *vm = &s->vm;
  if (vm->ops == &model_backend_ops && model_backend__cpu(vm))
    run_model_baseline(s, model_backend__cpu(vm));
  int rc = watchdog__start(&s->wd, vm, vm->cfg.timeout_s);
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
  guest_mem__destroy(&s->vm.mem);
  free(s->profile);
  free(s);
}
