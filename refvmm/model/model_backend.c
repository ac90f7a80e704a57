/* model_backend.c - struct backend_ops "model": the model CPU behind the
 * backend interface. Exits use KVM's vocabulary (KVM_EXIT_IO with a data
 * buffer, KVM_EXIT_MMIO, KVM_EXIT_HLT, KVM_EXIT_SHUTDOWN,
 * KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_INTR when kicked) so refvmm's run loop
 * treats both backends alike. */
#include "model_backend.h"

#include <errno.h>
#include <jansson.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../backend.h"
#include "../devbus.h"
#include "../platform_defs.h"
#include "../x86_setup.h"
#include "cost/cost_model.h"
#include "cost/model_report.h"
#include "cpu/model_cpu.h"
#include "cpu/model_mmu.h"
#include "vmm/vmm_ept.h"
#include "vmm/vmm_events.h"
#include "vmm/vmm_shadow.h"

#define MODEL_SLICE   (1u << 20) /* instructions between kick/stop checks */
#define IRQ_QUEUE_MAX 256

struct model_vm {
  struct model_cpu cpu;
  bool mmio_read_wait; /* the VMM fills cpu.mmio.data for a read exit */
  bool msr_wait;       /* the VMM answers an MSR exit (msr_error, cpu.msr.data) */
  uint8_t msr_error;
  uint32_t irq_queue[IRQ_QUEUE_MAX];
  unsigned irq_head, irq_count;
  struct vmm_ept ept;           /* refvmm's EPT manager (paging ept) */
  struct vmm_shadow shadow;     /* refvmm's shadow MMU (paging shadow) */
  struct vmm_events events;     /* refvmm's NMI/IRQ poll/window policies (vmm_events.h) */
  struct model_cost cost;       /* cycles: the CPU's clock, the cost model's figures */
  struct model_report report;   /* the `model` section */
  struct cost_profile *profile; /* loaded by --profile, else NULL (the built-in one) */
  uint64_t first_entry_ns;      /* CLOCK_MONOTONIC at the first run() (boot figures) */
};

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct model_vm *mst(const struct vm *vm) {
  return vm->backend;
}

struct model_cpu *model_backend__cpu(const struct vm *vm) {
  return mst(vm) ? &mst(vm)->cpu : NULL;
}
const struct model_counters *model_backend__counters(const struct vm *vm) {
  return mst(vm) ? &mst(vm)->cpu.cnt : NULL;
}
const struct vmm_shadow *model_backend__shadow(const struct vm *vm) {
  return mst(vm) && vm->cfg.modes.paging == PAGING_SHADOW ? &mst(vm)->shadow : NULL;
}
const char *model_backend__message(const struct vm *vm) {
  return mst(vm) ? mst(vm)->cpu.msg : "";
}
struct model_cost *model_backend__cost(const struct vm *vm) {
  return mst(vm) ? &mst(vm)->cost : NULL;
}
struct vmm_events *model_backend__events(const struct vm *vm) {
  return mst(vm) ? &mst(vm)->events : NULL;
}

/* refvmm stored into guest RAM (guest_mem__write): the CPU drops decoded
 * code from there, the shadow MMU its entries made from a guest page table
 * there (backend.h). */
static void model_guest_written(struct vm *vm, gpa_t gpa, uint64_t len) {
  struct model_vm *m = mst(vm);
  if (!m) return;
  model_mmu__ram_written(&m->cpu, gpa, len);
  if (vm->cfg.modes.paging == PAGING_SHADOW)
    vmm_shadow__guest_written(&m->shadow, &m->cpu, gpa, len);
}

static int model_check_modes(struct vm *vm) {
  struct vm_modes *m = &vm->cfg.modes;
  if (!m->paging_set) m->paging = PAGING_NATIVE;
  if (m->paging == PAGING_NATIVE) m->tlb = TLB_FLUSH; /* no VMX: nothing to tag */
  if (!m->nmi_set) m->nmi = EVENT_POLL;               /* an axis not given has its assist off */
  if (!m->irq_set) m->irq = EVENT_POLL;
  if (vm->cfg.shadow_policy_set && m->paging != PAGING_SHADOW) {
    snprintf(vm->status_detail, sizeof vm->status_detail,
             "--shadow-policy %s: applies to --paging shadow only (this run: --paging %s)",
             vmm_shadow__policy_name(vm->cfg.shadow_policy), paging_mode__name(m->paging));
    return -EINVAL;
  }
  return 0;
}

static void model_destroy(struct vm *vm) {
  struct model_vm *m = mst(vm);
  if (!m) return;
  vmm_ept__free(&m->ept);
  vmm_shadow__free(&m->shadow);
  free(m->cpu.icache);
  free(m->cpu.code_pages);
  model_cache__free(&m->cpu.cache);
  free(m->profile);
  free(m);
  vm->backend = NULL;
}

/* The guest's TSC rate: its cost profile's (0: none, the policies' default). */
static uint64_t profile_tsc_hz(void *arg) {
  const struct cost_profile *p = model_cost__profile(arg);
  return p && p->tsc_ghz > 0 ? (uint64_t)(p->tsc_ghz * 1e9 + 0.5) : 0;
}

static int model_create(struct vm *vm) {
  if (!vm->mem.host || vm->mem.size < 4096) {
    snprintf(vm->status_detail, sizeof vm->status_detail,
             "model: guest RAM is not initialised (size %llu): create() needs vm->mem",
             (unsigned long long)vm->mem.size);
    return -EINVAL;
  }
  struct model_vm *m = calloc(1, sizeof *m);
  if (!m) return -ENOMEM;
  vm->backend = m;
  struct model_cpu *c = &m->cpu;
  c->icache = calloc(MODEL_ICACHE_SIZE, sizeof *c->icache);
  c->code_pages = calloc((size_t)((vm->mem.size + 4095) >> 12), 1);
  if (!c->icache || !c->code_pages) {
    model_destroy(vm);
    snprintf(vm->status_detail, sizeof vm->status_detail,
             "model: out of memory for the decode cache");
    return -ENOMEM;
  }
  c->ram = vm->mem.host;
  c->ram_size = vm->mem.size;
  model_cpu__reset(c);
  bool shadow = vm->cfg.modes.paging == PAGING_SHADOW;
  model_cost__init(&m->cost, c, shadow ? &m->shadow : NULL);
  c->clock = (struct model_clock){.now = model_cost__now, .arg = &m->cost};
  vmm_events__init(&m->events, c, 0, profile_tsc_hz, &m->cost);
  model_report__init(&m->report, c, shadow ? &m->shadow : NULL, &m->events, &m->cost);
  if (vm->cfg.modes.paging == PAGING_EPT &&
      vmm_ept__init(&m->ept, c, vm->mem.size, vm->cfg.modes.tlb == TLB_VPID)) {
    model_destroy(vm);
    snprintf(vm->status_detail, sizeof vm->status_detail, "model: out of memory for EPT tables");
    return -ENOMEM;
  }
  if (vm->cfg.modes.paging == PAGING_SHADOW &&
      vmm_shadow__init(&m->shadow, c, vm->mem.host, vm->mem.size, vm->cfg.modes.tlb == TLB_VPID)) {
    model_destroy(vm);
    snprintf(vm->status_detail, sizeof vm->status_detail,
             "model: out of memory for shadow page tables");
    return -ENOMEM;
  }
  if (shadow) vmm_shadow__set_policy(&m->shadow, (enum vmm_shadow_policy)vm->cfg.shadow_policy);
  _Static_assert(SHADOW_POLICY_SYNC == 0 && SHADOW_POLICY_UNSYNC == 1 && SHADOW_POLICY_FLOOD == 2,
                 "vm.h's shadow_policy values (main.c parses them)");
  return 0;
}

static int model_set_boot_state(struct vm *vm, const struct boot_state *bs) {
  struct model_cpu *c = &mst(vm)->cpu;
  model_cpu__reset(c);
  c->rip = bs->entry;
  c->gpr[4] = bs->stack_top;
  c->gpr[7] = bs->boot_info;
  c->gpr[6] = bs->boot_params;
  c->rflags = RF_FIXED;
  c->cr0 = BOOT_CR0;
  c->cr3 = bs->cr3;
  c->cr4 = BOOT_CR4;
  c->efer = BOOT_EFER;
  c->gdtr.base = bs->gdt_base;
  c->gdtr.limit = bs->gdt_limit;
  c->idtr.base = 0;
  c->idtr.limit = 0;
  for (int s = 0; s < SEG_COUNT; s++)
    c->seg[s] = (struct model_seg){.sel = bs->data_sel, .dpl = (bs->data_desc >> 45) & 3};
  c->seg[SEG_CS] = (struct model_seg){.sel = bs->code_sel, .dpl = (bs->code_desc >> 45) & 3};
  c->cpl = 0;
  model_mmu__flush(c);
  if (vm->cfg.modes.paging == PAGING_SHADOW) vmm_shadow__boot(&mst(vm)->shadow, c);
  return 0;
}

/* The SDM basic exit reason behind a run-loop exit (VMX modes). */
static unsigned vmx_reason_of(const struct model_cpu *c, uint32_t kvm_reason) {
  switch (kvm_reason) {
  case KVM_EXIT_IO:
    return EXIT_REASON_IO_INSTRUCTION;
  case KVM_EXIT_MMIO:
    return model_vmcs__ept(&c->vmcs) ? EXIT_REASON_EPT_MISCONFIG : EXIT_REASON_EXCEPTION_NMI;
  case KVM_EXIT_HYPERCALL:
    return EXIT_REASON_VMCALL;
  case KVM_EXIT_X86_RDMSR:
    return EXIT_REASON_MSR_READ;
  case KVM_EXIT_X86_WRMSR:
    return EXIT_REASON_MSR_WRITE;
  case KVM_EXIT_HLT:
    return EXIT_REASON_HLT;
  case KVM_EXIT_SHUTDOWN:
    return EXIT_REASON_TRIPLE_FAULT;
  case KVM_EXIT_INTR:
    return EXIT_REASON_EXTERNAL_INTERRUPT;
  default:
    return EXIT_REASON_MAX; /* the model stopped: no architectural exit */
  }
}

static int model_run_loop(struct vm *vm, struct model_vm *m, struct model_cpu *c,
                          struct vcpu_exit *e);

static int model_run(struct vm *vm, struct vcpu_exit *e) {
  struct model_vm *m = mst(vm);
  struct model_cpu *c = &m->cpu;
  if (m->msr_wait) {
    m->msr_wait = false;
    c->msr.error = m->msr_error;
  }
  if (c->io.in_pending || c->hc.pending || c->msr.pending) model_cpu__complete_io(c);
  if (m->mmio_read_wait) {
    m->mmio_read_wait = false;
    c->mmio.read_ready = true; /* the re-executed instruction consumes it */
  }
  memset(e, 0, sizeof *e);
  if (!m->first_entry_ns) m->first_entry_ns = mono_ns();
  model_vmx__entry(c);
  int rc = model_run_loop(vm, m, c, e);
  unsigned reason = vmx_reason_of(c, e->reason);
  model_vmx__exit(c, reason, 0);
  if (c->vmcs.active && (e->reason == KVM_EXIT_IO || e->reason == KVM_EXIT_MMIO ||
                         e->reason == KVM_EXIT_HYPERCALL || e->reason == KVM_EXIT_HLT ||
                         e->reason == KVM_EXIT_X86_RDMSR || e->reason == KVM_EXIT_X86_WRMSR)) {
    m->cost.user_exits++; /* handled in refvmm's user space (cost model: vmm.user_exit) */
    if (reason < EXIT_REASON_MAX) m->cost.user_exits_by[reason]++;
  }
  return rc;
}

static int model_run_loop(struct vm *vm, struct model_vm *m, struct model_cpu *c,
                          struct vcpu_exit *e) {
  for (;;) {
    if (__atomic_exchange_n(&c->kick, 0, __ATOMIC_SEQ_CST) || vm->stop_requested) {
      e->reason = KVM_EXIT_INTR;
      return 0;
    }
    if (m->irq_count && !c->irq_pending) {
      c->irq_vector = (uint8_t)m->irq_queue[m->irq_head];
      c->irq_pending = true;
      m->irq_head = (m->irq_head + 1) % IRQ_QUEUE_MAX;
      m->irq_count--;
    }
    if (model_vmx__halted(c) && vmm_events__wait(&m->events)) {
      e->reason = KVM_EXIT_HLT; /* halted, and nothing will ever wake it */
      return 0;
    }
    enum model_stop s = vmm_events__run(&m->events, MODEL_SLICE); /* model_cpu__run + events */
    if (__builtin_expect(c->user_seen && !m->report.booted, 0))
      model_report__boot_mark(&m->report, mono_ns() - m->first_entry_ns);
    switch (s) {
    case MSTOP_IO:
      e->reason = KVM_EXIT_IO;
      e->io.port = c->io.port;
      e->io.size = c->io.size;
      e->io.write = c->io.write;
      e->io.data = model_cpu__io_data(c, &e->io.count);
      return 0;
    case MSTOP_MMIO:
      e->reason = KVM_EXIT_MMIO;
      e->mmio.gpa = c->mmio.gpa;
      e->mmio.len = c->mmio.len;
      e->mmio.write = c->mmio.write;
      e->mmio.data = c->mmio.data;
      if (!c->mmio.write) m->mmio_read_wait = true;
      return 0;
    case MSTOP_HYPERCALL:
      e->reason = KVM_EXIT_HYPERCALL;
      e->hypercall.nr = c->hc.nr;
      for (int i = 0; i < 3; i++)
        e->hypercall.args[i] = c->hc.args[i];
      e->hypercall.ret = &c->hc.ret;
      return 0;
    case MSTOP_HLT:
      if (model_vmx__halted(c)) {
        /* a halt an interrupt ends: refvmm waits for the next event itself
         * (the loop's top), as a VMM with an in-kernel local APIC does */
        model_vmx__exit_handled(c, EXIT_REASON_HLT, 0);
        c->cnt.halts++;
        continue;
      }
      e->reason = KVM_EXIT_HLT;
      return 0;
    case MSTOP_MSR:
      e->reason = c->msr.write ? KVM_EXIT_X86_WRMSR : KVM_EXIT_X86_RDMSR;
      e->msr.index = c->msr.index;
      e->msr.data = &c->msr.data;
      m->msr_error = 0;
      e->msr.error = &m->msr_error;
      m->msr_wait = true;
      return 0;
    case MSTOP_SHUTDOWN:
      e->reason = KVM_EXIT_SHUTDOWN;
      e->why = c->msg[0] ? c->msg : NULL;
      return 0;
    case MSTOP_INTERNAL: {
      e->reason = KVM_EXIT_INTERNAL_ERROR;
      e->why = c->msg[0] ? c->msg : NULL; /* what the model could not do */
      e->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
      e->internal.ndata = 3;
      e->internal.data[0] = c->rip;
      uint8_t b[16] = {0};
      uint8_t *p = model_mem__ptr(c, c->rip, 1) ? c->ram + c->rip : NULL;
      if (p) memcpy(b, p, c->rip + 16 <= c->ram_size ? 16 : (size_t)(c->ram_size - c->rip));
      memcpy(&e->internal.data[1], b, 8);
      memcpy(&e->internal.data[2], b + 8, 8);
      return 0;
    }
    default:
      break; /* slice used up or events: check kick and go on */
    }
  }
}

static int model_get_regs(struct vm *vm, struct vcpu_regs *r) {
  struct model_vm *m = mst(vm);
  if (!m) return -EBADF;
  const struct model_cpu *c = &m->cpu;
  const uint64_t *g = c->gpr;
  *r = (struct vcpu_regs){
      .rax = g[0],
      .rcx = g[1],
      .rdx = g[2],
      .rbx = g[3],
      .rsp = g[4],
      .rbp = g[5],
      .rsi = g[6],
      .rdi = g[7],
      .r8 = g[8],
      .r9 = g[9],
      .r10 = g[10],
      .r11 = g[11],
      .r12 = g[12],
      .r13 = g[13],
      .r14 = g[14],
      .r15 = g[15],
      .rip = c->rip,
      .rflags = c->rflags,
      .cr0 = c->cr0,
      .cr2 = c->cr2,
      .cr3 = c->cr3,
      .cr4 = c->cr4,
      .cr8 = c->cr8,
      .efer = c->efer,
      .cs = c->seg[SEG_CS].sel,
      .ss = c->seg[SEG_SS].sel,
      .cpl = c->cpl,
  };
  return 0;
}

static void model_kick(struct vm *vm) {
  struct model_vm *m = mst(vm);
  if (m) __atomic_store_n(&m->cpu.kick, 1, __ATOMIC_SEQ_CST);
}

static int model_inject_nmi(struct vm *vm) {
  mst(vm)->cpu.nmi_pending = true; /* NMIs coalesce while one is pending */
  return 0;
}

static int model_inject_irq(struct vm *vm, uint32_t vector) {
  struct model_vm *m = mst(vm);
  if (vector > 255) return -EINVAL;
  if (m->irq_count >= IRQ_QUEUE_MAX) return -ENOSPC;
  m->irq_queue[(m->irq_head + m->irq_count) % IRQ_QUEUE_MAX] = vector;
  m->irq_count++;
  return 0;
}

/* The guest reads modeled cycles: its TSC runs at the profile's rate. */
static uint64_t model_guest_tsc_hz(const struct vm *vm) {
  return (uint64_t)(model_cost__profile(&mst(vm)->cost)->tsc_ghz * 1e9 + 0.5);
}

/* --profile FILE: the profile the CPU is charged with; none: the built-in
 * one, parsed now rather than at the first RDTSC. */
static int model_load_profile(struct vm *vm, const char *path, char *err, size_t errlen) {
  struct model_vm *m = mst(vm);
  if (path) {
    m->profile = calloc(1, sizeof *m->profile);
    if (!m->profile) {
      snprintf(err, errlen, "out of memory for the cost profile");
      return -ENOMEM;
    }
    if (cost_profile__load(path, m->profile, err, errlen)) return -EINVAL;
    model_cost__set_profile(&m->cost, m->profile);
  }
  /* the data caches are the profile's CPU's */
  struct model_cache_config cc;
  cost_profile__cache_config(model_cost__profile(&m->cost), &cc);
  return model_cache__configure(&m->cpu.cache, &cc, err, errlen) ? -ENOMEM : 0;
}

/* The `model` section's and the cost model's counts at the timed region's marks. */
static void model_timed_mark(struct vm *vm, bool end) {
  if (!mst(vm)) return;
  model_report__region_mark(&mst(vm)->report, end);
  model_cost__region_mark(&mst(vm)->cost, end);
}

/* The native baseline of a run in paging ept|shadow: the same image,
 * parameters and profile with paging native (the model is deterministic).
 * Its counts go to the CPU's cost_baseline. */
static uint32_t model_boot_flags(const struct vm *vm) {
  (void)vm;
  return VTB_BOOT_F_MODEL;
}

static bool model_reference_config(struct vm *vm, bool wanted, struct vm_config *ref) {
  struct cost_baseline *b = &mst(vm)->cost.baseline;
  memset(b, 0, sizeof *b);
  if (vm->cfg.modes.paging == PAGING_NATIVE) {
    b->state = COST_BASELINE_SELF;
    return false;
  }
  if (!wanted) {
    b->state = COST_BASELINE_NONE;
    snprintf(b->reason, sizeof b->reason,
             "no native baseline run (--model-baseline none); run it with --paging native");
    return false;
  }
  *ref = vm->cfg;
  ref->modes.paging = PAGING_NATIVE;
  ref->modes.paging_set = true;
  ref->modes.tlb = TLB_FLUSH;
  ref->shadow_policy_set = false;
  b->state = COST_BASELINE_FAILED;
  return true;
}

static void model_reference_done(struct vm *vm, enum backend_ref_outcome o, const struct vm *ref,
                                 const char *why) {
  struct cost_baseline *b = &mst(vm)->cost.baseline;
  if (o == BACKEND_REF_NOMEM) {
    snprintf(b->reason, sizeof b->reason, "native baseline: out of memory");
  } else if (o == BACKEND_REF_NO_START) {
    snprintf(b->reason, sizeof b->reason, "native baseline could not start: %.200s", why);
  } else if (ref->status != RUN_OK) {
    snprintf(b->reason, sizeof b->reason, "native baseline run ended %s: %.180s",
             run_status__name(ref->status), ref->status_detail);
  } else {
    b->timed = model_cost__scope_counts(&mst(ref)->cost, &b->counts);
    for (int i = 0; i < ref->nreports; i++)
      if (strcmp(ref->reports[i].key, "checksum") == 0) b->checksum = ref->reports[i].value;
    b->state = COST_BASELINE_RAN;
  }
}

json_t *model_backend__to_json(const struct vm *vm) {
  return mst(vm) ? model_report__to_json(&mst(vm)->report) : json_null();
}

void model_backend__print(const struct vm *vm, FILE *out) {
  if (mst(vm)) model_report__print(&mst(vm)->report, out);
}

/* The platform: the TSC rate CPUID 0x15 reports, the MSRs refvmm's devices
 * own (RDMSR/WRMSR exits), and the local APIC (CPUID APIC, TSC-deadline,
 * ARAT; HLT waits for an interrupt) when refvmm emulates one. */
static int model_platform_ready(struct vm *vm) {
  struct model_cpu *c = &mst(vm)->cpu;
  c->plat.tsc_hz = model_guest_tsc_hz(vm);
  c->plat.nvmm_msrs = 0;
  c->plat.apic = false;
  if (!vm->bus) return 0;
  for (int i = 0; i < vm->bus->nmsr; i++) {
    if (c->plat.nvmm_msrs >= sizeof c->plat.vmm_msrs / sizeof c->plat.vmm_msrs[0]) {
      snprintf(vm->status_detail, sizeof vm->status_detail,
               "model: more device MSRs (%d) than the CPU can hand to refvmm", vm->bus->nmsr);
      return -ENOSPC;
    }
    c->plat.vmm_msrs[c->plat.nvmm_msrs++] = vm->bus->msr[i].index;
  }
  for (int i = 0; i < vm->bus->nmmio; i++)
    if (vm->bus->mmio[i].base == PLATFORM_LAPIC_GPA) c->plat.apic = true;
  return 0;
}

static void model_print_time(const struct vm *vm, FILE *out) {
  if (mst(vm)) model_report__print_time(&mst(vm)->report, out);
}

static void model_print_vm_exits(const struct vm *vm, FILE *out) {
  if (mst(vm)) model_report__print_exits(&mst(vm)->report, out);
}

/* refvmm's NMI/IRQ policies run at this CPU's entries (vmm_events.h). */
static int model_event_attach(struct vm *vm, struct event_policy *p) {
  vmm_events__attach(&mst(vm)->events, p);
  return 0;
}

const struct backend_ops model_backend_ops = {
    .name = "model",
    .check_modes = model_check_modes,
    .create = model_create,
    .set_boot_state = model_set_boot_state,
    .run = model_run,
    .get_regs = model_get_regs,
    .kick = model_kick,
    .inject_nmi = model_inject_nmi,
    .inject_irq = model_inject_irq,
    .destroy = model_destroy,
    .exit_name = vcpu_exit__name,
    .guest_tsc_hz = model_guest_tsc_hz,
    .load_profile = model_load_profile,
    .timed_mark = model_timed_mark,
    .shadow_policies = true,
    .boot_flags = model_boot_flags,
    .reference_config = model_reference_config,
    .reference_done = model_reference_done,
    .interprets_guest = true,
    .ram_private_huge = true,
    .section = "model",
    .section_json = model_backend__to_json,
    .print_summary = model_backend__print,
    .print_modeled_time = model_print_time,
    .print_vm_exits = model_print_vm_exits,
    .event_attach = model_event_attach,
    .platform_ready = model_platform_ready,
    .guest_written = model_guest_written,
};
