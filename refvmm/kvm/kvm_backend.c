/* kvm_backend.c - refvmm's backend on /dev/kvm: one VM, one vCPU, guest RAM
 * in slot 0, entry straight into 64-bit long mode, exits translated from
 * struct kvm_run into the generic struct vcpu_exit without copying. */
#include "kvm_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>

#include "../backend.h"
#include "../events.h"
#include "../x86_setup.h"
#include "kvm_host.h"

/* Signal used to kick the vCPU thread out of KVM_RUN; its handler does
 * nothing: the point is the EINTR (KVM_EXIT_INTR). */
#define KVM_KICK_SIGNAL SIGUSR1
#define IRQ_QUEUE_MAX   256

struct kvm_state {
  int kvm_fd, vm_fd, vcpu_fd;
  struct kvm_run *run;
  size_t run_size;
  pthread_t vcpu_thread;
  uint64_t tsc_hz;
  /* IRQs waiting for an interrupt window (KVM_INTERRUPT needs one) */
  uint32_t irq_queue[IRQ_QUEUE_MAX];
  unsigned irq_head, irq_count;
  bool split_irqchip; /* a Linux boot: KVM's local APIC, refvmm's I/O APIC */
};

static struct kvm_state *kst(const struct vm *vm) {
  return vm->backend;
}

int kvm_backend__kvm_fd(const struct vm *vm) {
  return kst(vm) ? kst(vm)->kvm_fd : -1;
}
int kvm_backend__vm_fd(const struct vm *vm) {
  return kst(vm) ? kst(vm)->vm_fd : -1;
}
int kvm_backend__vcpu_fd(const struct vm *vm) {
  return kst(vm) ? kst(vm)->vcpu_fd : -1;
}
pthread_t kvm_backend__vcpu_thread(const struct vm *vm) {
  return kst(vm)->vcpu_thread;
}
uint64_t kvm_backend__tsc_hz(const struct vm *vm) {
  return kst(vm) ? kst(vm)->tsc_hz : 0;
}

/* ---- setup ------------------------------------------------------------------- */
static void kick_handler(int sig) {
  (void)sig;
}

static int install_kick_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  /* KVM_RUN returns -EINTR (never restarted) whatever SA_RESTART says;
   * SA_RESTART keeps the vCPU thread's other syscalls (console writes)
   * from failing when a kick lands in them. */
  sa.sa_handler = kick_handler;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  return sigaction(KVM_KICK_SIGNAL, &sa, NULL);
}

static void vm_err(struct vm *vm, const char *what, int err) {
  snprintf(vm->status_detail, sizeof vm->status_detail, "kvm: %s failed: %s", what, strerror(err));
}

static int set_cpuid(struct vm *vm, struct kvm_state *k) {
  int n = 128;
  for (;;) {
    struct kvm_cpuid2 *c = calloc(1, sizeof *c + (size_t)n * sizeof(struct kvm_cpuid_entry2));
    if (!c) return -ENOMEM;
    c->nent = (uint32_t)n;
    if (ioctl(k->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
      int e = errno;
      free(c);
      if (e == E2BIG && n < 4096) {
        n *= 2;
        continue;
      }
      vm_err(vm, "KVM_GET_SUPPORTED_CPUID", e);
      return -e;
    }
    /* A Linux boot: the hypervisor bit (CPUID.1:ECX[31]), as every VMM sets
     * it, so the kernel looks at KVM's leaves (kvm-clock gives it the TSC
     * rate: there is no PIT to calibrate against) */
    for (uint32_t i = 0; vm->cfg.kernel && i < c->nent; i++)
      if (c->entries[i].function == 1) c->entries[i].ecx |= 1u << 31;
    /* and no 5-level paging (CPUID.7.0:ECX[16], LA57), which the model's
     * CPU lacks: with it the kernel runs 5-level tables on KVM, one more
     * shadow level per address space than on the model, and its counts
     * (pf_emulate, mmu_shadow_zapped, mmu_cache_miss, invlpg) differ for
     * that alone (docs/VALIDATION.md, "Linux on kvm_amd npt=0, traced") */
    for (uint32_t i = 0; vm->cfg.kernel && i < c->nent; i++)
      if (c->entries[i].function == 7 && c->entries[i].index == 0) c->entries[i].ecx &= ~(1u << 16);
    int rc = ioctl(k->vcpu_fd, KVM_SET_CPUID2, c);
    int e = errno;
    free(c);
    if (rc < 0) {
      vm_err(vm, "KVM_SET_CPUID2", e);
      return -e;
    }
    return 0;
  }
}

/* The vmcall workload's hypercall (vtb_abi.h VTB_KVM_HC_MAP_GPA_RANGE)
 * reaches refvmm only with KVM_CAP_EXIT_HYPERCALL; without it KVM answers
 * -KVM_ENOSYS in the kernel and the guest says so. Best effort. */
static void enable_exit_hypercall(struct kvm_state *k) {
#ifdef KVM_CAP_EXIT_HYPERCALL
  uint64_t bit = 1ull << VTB_KVM_HC_MAP_GPA_RANGE;
  int mask = ioctl(k->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_EXIT_HYPERCALL);
  if (mask > 0 && ((uint64_t)mask & bit)) {
    struct kvm_enable_cap cap = {.cap = KVM_CAP_EXIT_HYPERCALL, .args = {bit}};
    (void)ioctl(k->vm_fd, KVM_ENABLE_CAP, &cap);
  }
#else
  (void)k;
#endif
}

/* A Linux boot: the local APIC in the kernel (its timer, EOIs and IPIs never
 * leave KVM), the I/O APIC in refvmm (refvmm/dev_ioapic.h, delivering as
 * MSIs), no PIC and no PIT: the platform the model has. Before the vCPU. */
#define SPLIT_IRQCHIP_ROUTES 24
static int enable_split_irqchip(struct vm *vm, struct kvm_state *k) {
  if (ioctl(k->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP) <= 0) {
    snprintf(vm->status_detail, sizeof vm->status_detail,
             "kvm: this KVM has no split irqchip (KVM_CAP_SPLIT_IRQCHIP): refvmm's Linux "
             "platform needs KVM's local APIC with refvmm's I/O APIC");
    return EOPNOTSUPP;
  }
  struct kvm_enable_cap cap = {.cap = KVM_CAP_SPLIT_IRQCHIP, .args = {SPLIT_IRQCHIP_ROUTES}};
  if (ioctl(k->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
    int e = errno;
    vm_err(vm, "KVM_ENABLE_CAP (KVM_CAP_SPLIT_IRQCHIP)", e);
    return e;
  }
  k->split_irqchip = true;
  return 0;
}

/* KVM halts the vCPU in the kernel: its multiprocessing state says. */
static int kvm_halted(struct vm *vm, bool *interrupts) {
  struct kvm_state *k = kst(vm);
  struct kvm_mp_state mp;
  struct kvm_regs r;
  if (ioctl(k->vcpu_fd, KVM_GET_MP_STATE, &mp) < 0 || ioctl(k->vcpu_fd, KVM_GET_REGS, &r) < 0)
    return -errno;
  *interrupts = r.rflags & 0x200;
  return mp.mp_state == KVM_MP_STATE_HALTED;
}

/* refvmm's I/O APIC delivers into KVM's local APIC. */
static int kvm_signal_msi(struct vm *vm, uint64_t address, uint32_t data) {
  struct kvm_state *k = kst(vm);
  struct kvm_msi msi = {
      .address_lo = (uint32_t)address, .address_hi = (uint32_t)(address >> 32), .data = data};
  if (ioctl(k->vm_fd, KVM_SIGNAL_MSI, &msi) < 0) {
    vm_err(vm, "KVM_SIGNAL_MSI", errno);
    return -errno;
  }
  return 0;
}

static void kvm_destroy(struct vm *vm) {
  struct kvm_state *k = kst(vm);
  if (!k) return;
  if (k->run && k->run != MAP_FAILED) munmap(k->run, k->run_size);
  if (k->vcpu_fd >= 0) close(k->vcpu_fd);
  if (k->vm_fd >= 0) close(k->vm_fd);
  if (k->kvm_fd >= 0) close(k->kvm_fd);
  free(k);
  vm->backend = NULL;
}

static int kvm_create(struct vm *vm) {
  struct kvm_state *k = calloc(1, sizeof *k);
  if (!k) return -ENOMEM;
  k->kvm_fd = k->vm_fd = k->vcpu_fd = -1;
  vm->backend = k;
  int e;

  k->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (k->kvm_fd < 0) {
    e = errno;
    snprintf(vm->status_detail, sizeof vm->status_detail, "kvm: cannot open /dev/kvm: %s (%s)",
             strerror(e),
             e == ENOENT   ? "no KVM on this host: load kvm_intel/kvm_amd, enable "
                             "virtualization, or use --backend model"
             : e == EACCES ? "no permission: add yourself to group kvm or run as root"
                           : "check the kvm module");
    goto fail;
  }
  int api = ioctl(k->kvm_fd, KVM_GET_API_VERSION, 0);
  if (api != KVM_API_VERSION) {
    e = EINVAL;
    snprintf(vm->status_detail, sizeof vm->status_detail,
             "kvm: /dev/kvm API version is %d, refvmm needs %d", api, KVM_API_VERSION);
    goto fail;
  }
  k->vm_fd = ioctl(k->kvm_fd, KVM_CREATE_VM, 0);
  if (k->vm_fd < 0) {
    e = errno;
    vm_err(vm, "KVM_CREATE_VM", e);
    goto fail;
  }
  enable_exit_hypercall(k);
  struct kvm_userspace_memory_region region = {
      .slot = 0,
      .guest_phys_addr = 0,
      .memory_size = vm->mem.size,
      .userspace_addr = (uint64_t)(uintptr_t)vm->mem.host,
  };
  if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
    e = errno;
    vm_err(vm, "KVM_SET_USER_MEMORY_REGION (guest RAM)", e);
    goto fail;
  }
  if (vm->cfg.kernel && (e = enable_split_irqchip(vm, k))) goto fail;
  k->vcpu_fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, 0);
  if (k->vcpu_fd < 0) {
    e = errno;
    vm_err(vm, "KVM_CREATE_VCPU", e);
    goto fail;
  }
  int sz = ioctl(k->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (sz < (int)sizeof(struct kvm_run)) {
    e = sz < 0 ? errno : EINVAL;
    vm_err(vm, "KVM_GET_VCPU_MMAP_SIZE", e);
    goto fail;
  }
  k->run_size = (size_t)sz;
  k->run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu_fd, 0);
  if (k->run == MAP_FAILED) {
    e = errno;
    k->run = NULL;
    vm_err(vm, "mmap of kvm_run", e);
    goto fail;
  }
  if ((e = -set_cpuid(vm, k)) > 0) goto fail;
  int khz = ioctl(k->vcpu_fd, KVM_GET_TSC_KHZ, 0);
  k->tsc_hz = khz > 0 ? (uint64_t)khz * 1000u : 0;
  if (install_kick_handler() < 0) {
    e = errno;
    vm_err(vm, "sigaction for the vCPU kick signal", e);
    goto fail;
  }
  k->vcpu_thread = pthread_self();
  return 0;
fail:
  kvm_destroy(vm);
  return -e;
}

static struct kvm_segment kvm_seg(const struct x86_segment *x) {
  return (struct kvm_segment){.base = x->base,
                              .limit = x->limit,
                              .selector = x->selector,
                              .type = x->type,
                              .present = x->present,
                              .dpl = x->dpl,
                              .db = x->db,
                              .s = x->s,
                              .l = x->l,
                              .g = x->g,
                              .avl = x->avl};
}

static int kvm_set_boot_state(struct vm *vm, const struct boot_state *bs) {
  struct kvm_state *k = kst(vm);
  struct kvm_sregs s;
  if (ioctl(k->vcpu_fd, KVM_GET_SREGS, &s) < 0) {
    vm_err(vm, "KVM_GET_SREGS", errno);
    return -errno;
  }
  struct x86_segment cd, dd;
  x86__decode_segment(bs->code_desc, bs->code_sel, &cd);
  x86__decode_segment(bs->data_desc, bs->data_sel, &dd);
  struct kvm_segment code = kvm_seg(&cd), data = kvm_seg(&dd);
  s.cs = code;
  s.ds = s.es = s.fs = s.gs = s.ss = data;
  s.gdt.base = bs->gdt_base;
  s.gdt.limit = bs->gdt_limit;
  s.idt.base = 0; /* the runtime loads its own IDT first thing */
  s.idt.limit = 0;
  s.cr0 = BOOT_CR0;
  s.cr3 = bs->cr3;
  s.cr4 = BOOT_CR4;
  s.efer = BOOT_EFER;
  if (ioctl(k->vcpu_fd, KVM_SET_SREGS, &s) < 0) {
    vm_err(vm, "KVM_SET_SREGS (long-mode state)", errno);
    return -errno;
  }
  struct kvm_regs r;
  memset(&r, 0, sizeof r);
  r.rip = bs->entry;
  r.rsp = bs->stack_top;
  r.rdi = bs->boot_info;
  r.rsi = bs->boot_params;
  r.rflags = 0x2; /* IF=0 */
  if (ioctl(k->vcpu_fd, KVM_SET_REGS, &r) < 0) {
    vm_err(vm, "KVM_SET_REGS (entry)", errno);
    return -errno;
  }
  return 0;
}

/* Deliver the oldest queued IRQ if the guest can take it now; otherwise ask
 * KVM for an exit when it can (KVM_EXIT_IRQ_WINDOW_OPEN). */
static int deliver_irq(struct vm *vm, struct kvm_state *k) {
  struct kvm_run *run = k->run;
  if (run->ready_for_interrupt_injection && run->if_flag) {
    struct kvm_interrupt irq = {.irq = k->irq_queue[k->irq_head]};
    if (ioctl(k->vcpu_fd, KVM_INTERRUPT, &irq) < 0) {
      vm_err(vm, "KVM_INTERRUPT", errno);
      return -errno;
    }
    k->irq_head = (k->irq_head + 1) % IRQ_QUEUE_MAX;
    k->irq_count--;
  }
  run->request_interrupt_window = k->irq_count > 0;
  return 0;
}

static int kvm_run_vcpu(struct vm *vm, struct vcpu_exit *e) {
  struct kvm_state *k = kst(vm);
  struct kvm_run *run = k->run;
  if (__builtin_expect(k->irq_count != 0, 0)) {
    int rc = deliver_irq(vm, k);
    if (rc) return rc;
  }
  if (ioctl(k->vcpu_fd, KVM_RUN, 0) < 0) {
    int err = errno;
    if (err == EINTR || err == EAGAIN) {
      run->immediate_exit = 0;
      e->reason = KVM_EXIT_INTR;
      return 0;
    }
    vm_err(vm, "KVM_RUN", err);
    return -err;
  }
  e->reason = run->exit_reason;
  switch (run->exit_reason) {
  case KVM_EXIT_IO:
    e->io.port = run->io.port;
    e->io.size = run->io.size;
    e->io.write = run->io.direction == KVM_EXIT_IO_OUT;
    e->io.count = run->io.count;
    e->io.data = (uint8_t *)run + run->io.data_offset;
    break;
  case KVM_EXIT_MMIO:
    e->mmio.gpa = run->mmio.phys_addr;
    e->mmio.len = run->mmio.len;
    e->mmio.write = run->mmio.is_write;
    e->mmio.data = run->mmio.data;
    break;
  case KVM_EXIT_HYPERCALL:
    e->hypercall.nr = run->hypercall.nr;
    for (int i = 0; i < 3; i++)
      e->hypercall.args[i] = run->hypercall.args[i];
    e->hypercall.ret = (uint64_t *)&run->hypercall.ret;
    break;
  case KVM_EXIT_FAIL_ENTRY:
    e->fail_entry.hw_reason = run->fail_entry.hardware_entry_failure_reason;
    break;
  case KVM_EXIT_IOAPIC_EOI:
    e->eoi.vector = run->eoi.vector;
    break;
  case KVM_EXIT_INTERNAL_ERROR: {
    e->internal.suberror = run->internal.suberror;
    uint32_t n = run->internal.ndata;
    e->internal.ndata = n;
    for (uint32_t i = 0; i < 4; i++)
      e->internal.data[i] = i < n ? run->internal.data[i] : 0;
    break;
  }
  default:
    break;
  }
  return 0;
}

static int kvm_get_regs(struct vm *vm, struct vcpu_regs *out) {
  struct kvm_state *k = kst(vm);
  if (!k || k->vcpu_fd < 0) return -EBADF;
  struct kvm_regs r;
  struct kvm_sregs s;
  if (ioctl(k->vcpu_fd, KVM_GET_REGS, &r) < 0) return -errno;
  if (ioctl(k->vcpu_fd, KVM_GET_SREGS, &s) < 0) return -errno;
  *out = (struct vcpu_regs){
      .rax = r.rax,
      .rbx = r.rbx,
      .rcx = r.rcx,
      .rdx = r.rdx,
      .rsi = r.rsi,
      .rdi = r.rdi,
      .rbp = r.rbp,
      .rsp = r.rsp,
      .r8 = r.r8,
      .r9 = r.r9,
      .r10 = r.r10,
      .r11 = r.r11,
      .r12 = r.r12,
      .r13 = r.r13,
      .r14 = r.r14,
      .r15 = r.r15,
      .rip = r.rip,
      .rflags = r.rflags,
      .cr0 = s.cr0,
      .cr2 = s.cr2,
      .cr3 = s.cr3,
      .cr4 = s.cr4,
      .cr8 = s.cr8,
      .efer = s.efer,
      .cs = s.cs.selector,
      .ss = s.ss.selector,
      .cpl = (uint8_t)(s.cs.selector & 3),
  };
  return 0;
}

/* From another thread: make the vCPU leave (or not enter) KVM_RUN. */
static void kvm_kick(struct vm *vm) {
  struct kvm_state *k = kst(vm);
  if (!k || !k->run) return;
  __atomic_store_n(&k->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
  pthread_kill(k->vcpu_thread, KVM_KICK_SIGNAL);
}

static int kvm_inject_nmi(struct vm *vm) {
  if (ioctl(kst(vm)->vcpu_fd, KVM_NMI, 0) < 0) {
    vm_err(vm, "KVM_NMI", errno);
    return -errno;
  }
  return 0;
}

/* Queue; delivered at the next entry where the guest can take it. */
static int kvm_inject_irq(struct vm *vm, uint32_t vector) {
  struct kvm_state *k = kst(vm);
  if (vector > 255) return -EINVAL;
  if (k->irq_count >= IRQ_QUEUE_MAX) return -ENOSPC;
  k->irq_queue[(k->irq_head + k->irq_count) % IRQ_QUEUE_MAX] = vector;
  k->irq_count++;
  k->run->request_interrupt_window = 1;
  return 0;
}

int kvm_backend__nmi(struct vm *vm) {
  return kvm_inject_nmi(vm);
}

bool kvm_backend__irq_ready(const struct vm *vm) {
  const struct kvm_run *run = kst(vm)->run;
  return run->ready_for_interrupt_injection && run->if_flag;
}

void kvm_backend__request_irq_window(struct vm *vm, bool on) {
  kst(vm)->run->request_interrupt_window = on;
}

int kvm_backend__interrupt(struct vm *vm, uint32_t vector) {
  struct kvm_interrupt irq = {.irq = vector};
  if (ioctl(kst(vm)->vcpu_fd, KVM_INTERRUPT, &irq) < 0) {
    int e = errno;
    vm_err(vm, "KVM_INTERRUPT", e);
    return -e;
  }
  return 0;
}

int kvm_backend__nmi_state(struct vm *vm, bool *masked, bool *pending) {
  struct kvm_vcpu_events ev;
  memset(&ev, 0, sizeof ev);
  if (ioctl(kst(vm)->vcpu_fd, KVM_GET_VCPU_EVENTS, &ev) < 0) {
    int e = errno;
    vm_err(vm, "KVM_GET_VCPU_EVENTS", e);
    return -e;
  }
  *masked = ev.nmi.masked;
  *pending = ev.nmi.pending || ev.nmi.injected;
  return 0;
}

int kvm_backend__tsc_offset(struct vm *vm, int64_t *offset) {
  struct kvm_state *k = kst(vm);
#ifdef KVM_VCPU_TSC_OFFSET
  uint64_t off = 0;
  struct kvm_device_attr attr = {
      .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET, .addr = (uint64_t)(uintptr_t)&off};
  if (ioctl(k->vcpu_fd, KVM_GET_DEVICE_ATTR, &attr) == 0) {
    *offset = (int64_t)off;
    return 0;
  }
#endif
  /* Fallback: the guest's IA32_TSC between two host reads. */
  /* struct kvm_msrs ends in a flexible array: give it room for one entry
   * through a union (a struct member after it is a GNU extension that
   * clang rejects). */
  union {
    struct kvm_msrs h;
    unsigned char room[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
  } m;
  memset(&m, 0, sizeof m);
  m.h.nmsrs = 1;
  m.h.entries[0].index = 0x10; /* IA32_TSC */
  uint64_t t0 = __rdtsc();
  int n = ioctl(k->vcpu_fd, KVM_GET_MSRS, &m);
  uint64_t t1 = __rdtsc();
  if (n != 1) return n < 0 ? -errno : -EIO;
  *offset = (int64_t)(m.h.entries[0].data - (t0 + (t1 - t0) / 2));
  return 0;
}

/* paging and tlb belong to the host module: refuse what it cannot do and
 * fill in what it does for the axes not given. */
static int kvm_check_modes(struct vm *vm) {
  struct kvm_host_info h;
  kvm_host__detect("/sys", &h);
  if (vm->cfg.kernel && h.flavour == KVM_FLAVOUR_PVM) {
    snprintf(vm->status_detail, sizeof vm->status_detail,
             "this host's KVM is kvm_pvm, which runs only PVM-enabled guest kernels: a standard "
             "kernel's own switch into long mode and its ring 0 cannot run there; boot it with "
             "--backend model, or on a kvm_intel/kvm_amd host (docs/KVM_MODES.md, \"Testing on a "
             "standard KVM\")");
    return -1;
  }
  /* Events: refvmm's policies; an axis not given has its assist off. */
  if (!vm->cfg.modes.nmi_set) vm->cfg.modes.nmi = EVENT_POLL;
  if (!vm->cfg.modes.irq_set) vm->cfg.modes.irq = EVENT_POLL;
  return kvm_host__check_modes(&h, &vm->cfg.modes, vm->status_detail, sizeof vm->status_detail);
}

/* KVM's rate for the vCPU's TSC: no calibration needed. */
static uint64_t kvm_vcpu_tsc_hz(const struct vm *vm, const char **how) {
  *how = "KVM_GET_TSC_KHZ on the vCPU";
  return kvm_backend__tsc_hz(vm);
}

/* The vmcall workload must know when KVM emulates the guest's ring 0 (PVM):
 * its emulator never completes VMCALL. */
static uint32_t kvm_boot_flags(const struct vm *vm) {
  (void)vm;
  struct kvm_host_info hi;
  kvm_host__detect("/sys", &hi);
  return hi.flavour == KVM_FLAVOUR_PVM ? VTB_BOOT_F_RING0_EMULATED : 0;
}

static int kvm_probe_fds(const struct vm *vm, int *vm_fd, int *vcpu_fd) {
  *vm_fd = kvm_backend__vm_fd(vm);
  *vcpu_fd = kvm_backend__vcpu_fd(vm);
  return *vm_fd >= 0 && *vcpu_fd >= 0 ? 0 : -EBADF;
}

/* The primitives refvmm's NMI/IRQ policies inject through on KVM. */
static const struct event_backend kvm_event_backend = {
    .irq_ready = kvm_backend__irq_ready,
    .request_irq_window = kvm_backend__request_irq_window,
    .interrupt = kvm_backend__interrupt,
    .nmi_state = kvm_backend__nmi_state,
    .nmi = kvm_backend__nmi,
    .tsc_offset = kvm_backend__tsc_offset,
};

const struct backend_ops kvm_backend_ops = {
    .name = "kvm",
    .check_modes = kvm_check_modes,
    .create = kvm_create,
    .set_boot_state = kvm_set_boot_state,
    .run = kvm_run_vcpu,
    .get_regs = kvm_get_regs,
    .kick = kvm_kick,
    .inject_nmi = kvm_inject_nmi,
    .inject_irq = kvm_inject_irq,
    .destroy = kvm_destroy,
    .exit_name = vcpu_exit__name,
    .unset_mode_origin = " (host module)",
    .vcpu_tsc_hz = kvm_vcpu_tsc_hz,
    .boot_flags = kvm_boot_flags,
    .probe_fds = kvm_probe_fds,
    .event_wall = &kvm_event_backend,
    .signal_msi = kvm_signal_msi,
    .halted = kvm_halted,
};
