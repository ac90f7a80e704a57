/* model_sys.c - system instructions of the model CPU. See model_sys.h. */
#include <string.h>

#include "model_events.h"
#include "model_fpu.h"
#include "model_mmu.h"
#include "model_msr.h"
#include "model_ops.h"
#include "model_sys.h"

#define CR4_ALLOWED                                                                                \
  ((1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 4) | (1ull << 5) | (1ull << 7) |             \
   (1ull << 8) | (1ull << 9) | (1ull << 10))
#define EFER_WRITABLE ((1ull << 0) | (1ull << 8) | (1ull << 11))

static inline bool canonical(uint64_t va) {
  return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

static inline void retire(struct model_cpu *c, const struct model_insn *d) {
  c->cnt.instructions++;
  c->cnt.by_class[d->iclass][0]++;
}

int model_sys__rdmsr(struct model_cpu *c, uint32_t msr, uint64_t *v) {
  switch (msr) {
  case MSR_TSC:
    *v = model_cpu__tsc(c);
    return 0;
  case MSR_APIC_BASE:
    *v = c->apic_base;
    return 0;
  case MSR_PAT:
    *v = c->pat;
    return 0;
  case MSR_EFER:
    *v = c->efer;
    return 0;
  case MSR_STAR:
    *v = c->star;
    return 0;
  case MSR_LSTAR:
    *v = c->lstar;
    return 0;
  case MSR_CSTAR:
    *v = c->cstar;
    return 0;
  case MSR_SFMASK:
    *v = c->sfmask;
    return 0;
  case MSR_FS_BASE:
    *v = c->seg[SEG_FS].base;
    return 0;
  case MSR_GS_BASE:
    *v = c->seg[SEG_GS].base;
    return 0;
  case MSR_KERNEL_GS_BASE:
    *v = c->kernel_gs_base;
    return 0;
  case MSR_TSC_AUX:
    *v = c->tsc_aux;
    return 0;
  default:
    return model_msr__read(c, msr, v);
  }
}

int model_sys__wrmsr(struct model_cpu *c, uint32_t msr, uint64_t v) {
  switch (msr) {
  case MSR_TSC:
    c->tsc_offset = v - model_cpu__cycles(c);
    return 0;
  case MSR_APIC_BASE:
    /* the base stays at 0xfee00000 (the platform's local APIC does not
     * move); with a local APIC, software may set or clear the global enable
     * (bit 11); BSP (bit 8) is read-only; no x2APIC */
    if (c->plat.apic && (v ^ c->apic_base) == APIC_BASE_ENABLE) {
      c->apic_base = v;
      return 0;
    }
    return v == c->apic_base ? 0 : -1;
  case MSR_PAT:
    if (!model_msr__pat_ok(v)) return -1;
    c->pat = v;
    return 0;
  case MSR_EFER:
    if ((v & ~(EFER_WRITABLE | (1ull << 10))) || !(v & (1ull << 8))) return -1;
    if ((v ^ c->efer) & (1ull << 11)) model_mmu__flush(c);
    c->efer = (v & EFER_WRITABLE) | (c->efer & (1ull << 10));
    return 0;
  case MSR_STAR:
    c->star = v;
    return 0;
  case MSR_LSTAR:
    if (!canonical(v)) return -1;
    c->lstar = v;
    return 0;
  case MSR_CSTAR:
    if (!canonical(v)) return -1;
    c->cstar = v;
    return 0;
  case MSR_SFMASK:
    c->sfmask = v & 0xffffffffull;
    return 0;
  case MSR_FS_BASE:
    if (!canonical(v)) return -1;
    c->seg[SEG_FS].base = v;
    return 0;
  case MSR_GS_BASE:
    if (!canonical(v)) return -1;
    c->seg[SEG_GS].base = v;
    return 0;
  case MSR_KERNEL_GS_BASE:
    if (!canonical(v)) return -1;
    c->kernel_gs_base = v;
    return 0;
  case MSR_TSC_AUX:
    c->tsc_aux = v & 0xffffffffull;
    return 0;
  default:
    return model_msr__write(c, msr, v);
  }
}

void model_sys__load_seg(struct model_cpu *c, unsigned s, uint16_t sel) {
  struct model_seg *sg = &c->seg[s];
  if ((sel & ~3u) == 0) { /* null selector */
    if (s == SEG_SS && (c->cpl == 3 || (sel & 3) != c->cpl)) model__fault(c, X86_GP, 0, true);
    sg->sel = sel;
    if (s == SEG_FS || s == SEG_GS) sg->base = 0; /* as Intel parts do */
    return;
  }
  uint64_t desc = model_events__read_desc(c, sel);
  unsigned dpl = (desc >> 45) & 3, rpl = sel & 3;
  bool sbit = desc & (1ull << 44), code = desc & (1ull << 43);
  bool rw = desc & (1ull << 41), conforming = code && (desc & (1ull << 42));
  if (!sbit) model__fault(c, X86_GP, sel & ~3u, true);
  if (s == SEG_SS) {
    if (code || !rw || dpl != c->cpl || rpl != c->cpl) model__fault(c, X86_GP, sel & ~3u, true);
    if (!(desc & (1ull << 47))) model__fault(c, X86_SS, sel & ~3u, true);
  } else {
    if (code && !rw) model__fault(c, X86_GP, sel & ~3u, true);
    if (!conforming && (dpl < c->cpl || dpl < rpl)) model__fault(c, X86_GP, sel & ~3u, true);
    if (!(desc & (1ull << 47))) model__fault(c, X86_NP, sel & ~3u, true);
  }
  sg->sel = sel;
  sg->dpl = (uint8_t)dpl;
  if (s == SEG_FS || s == SEG_GS)
    sg->base = ((desc >> 16) & 0xffffff) | (((desc >> 56) & 0xff) << 24);
}

uint64_t model_sys__retf(struct model_cpu *c, const struct model_insn *d) {
  unsigned sz = d->osz == 1 ? 4 : d->osz;
  uint64_t sp = c->gpr[4];
  uint64_t rip = model_mem__read(c, sp, sz);
  uint16_t cs = (uint16_t)model_mem__read(c, sp + sz, sz);
  sp += 2 * sz + (d->op == 0xca ? d->imm : 0);
  unsigned ncpl = cs & 3;
  if (ncpl < c->cpl) model__fault(c, X86_GP, cs & ~3u, true);
  uint64_t nsp = sp;
  uint16_t ss = c->seg[SEG_SS].sel;
  if (ncpl > c->cpl) {
    nsp = model_mem__read(c, sp, sz);
    ss = (uint16_t)model_mem__read(c, sp + sz, sz);
  }
  if (!canonical(rip)) model__gp0(c);
  model_events__load_cs(c, cs, true);
  c->gpr[4] = nsp;
  c->seg[SEG_SS].sel = ss;
  return rip;
}

void model_sys__iret(struct model_cpu *c, const struct model_insn *d) {
  unsigned sz = d->osz == 1 ? 4 : d->osz;
  uint64_t sp = c->gpr[4];
  uint64_t rip = model_mem__read(c, sp, sz);
  uint16_t cs = (uint16_t)model_mem__read(c, sp + sz, sz);
  uint64_t fl = model_mem__read(c, sp + 2 * sz, sz);
  uint64_t nsp = model_mem__read(c, sp + 3 * sz, sz);
  uint16_t ss = (uint16_t)model_mem__read(c, sp + 4 * sz, sz);
  unsigned ncpl = cs & 3;
  if (ncpl < c->cpl) model__fault(c, X86_GP, cs & ~3u, true);
  if (!canonical(rip)) model__gp0(c);
  if (ncpl == 3 && (ss & 3) != 3) model__fault(c, X86_GP, ss & ~3u, true);
  unsigned old_cpl = c->cpl;
  model_events__load_cs(c, cs, true);
  model_cpu__write_flags(c, fl, sz, old_cpl);
  c->rip = rip;
  c->gpr[4] = nsp;
  c->seg[SEG_SS].sel = ss;
  if (c->nmi_blocked) {
    c->nmi_blocked = false;
    if (model_events__waiting(c)) c->slice_end = 0; /* an NMI or a window waits */
  }
  retire(c, d);
}

static void mov_cr(struct model_cpu *c, const struct model_insn *d) {
  if (c->cpl) model__gp0(c);
  unsigned cr = d->reg;
  if (d->op == 0x120) { /* read */
    uint64_t v;
    switch (cr) {
    case 0:
      v = c->cr0;
      break;
    case 2:
      v = c->cr2;
      break;
    case 3:
      v = c->cr3;
      break;
    case 4:
      v = c->cr4;
      break;
    case 8:
      v = c->cr8;
      break;
    default:
      model__ud(c);
    }
    c->gpr[d->rm] = v;
    return;
  }
  uint64_t v = c->gpr[d->rm];
  switch (cr) {
  case 0:
    if (v >> 32) model__gp0(c);
    if (!(v & (1ull << 31)) || !(v & 1))
      model__internal(c, "guest leaves long mode (CR0 write 0x%llx at rip 0x%llx): not modeled",
                      (unsigned long long)v, (unsigned long long)c->rip);
    if ((v ^ c->cr0) & ((1ull << 16) | (1ull << 31))) model_mmu__flush(c);
    c->cr0 = v | 0x10; /* ET is hard-wired */
    return;
  case 2:
    c->cr2 = v;
    return;
  case 3:
    if (v & ~((1ull << MODEL_MAXPHYADDR) - 1) & ~(1ull << 63)) model__gp0(c);
    c->cnt.cr3_loads++;
    if (c->vmcs.active && (c->vmcs.proc_based & CPU_BASED_CR3_LOAD_EXITING) &&
        c->vmcs.cr3_handler) { /* CR-access exit: qualification CR 3, MOV to CR, register */
      model_vmx__exit(c, EXIT_REASON_CR_ACCESS, 3 | ((uint64_t)d->rm << 8));
      c->vmcs.cr3_handler(c->vmcs.vmm, c, v & ~(1ull << 63));
      model_vmx__entry(c);
      return;
    }
    c->cr3 = v & ~(1ull << 63);
    model_mmu__flush_cr3(c);
    return;
  case 4:
    if ((v & ~CR4_ALLOWED) || !(v & (1ull << 5))) model__gp0(c);
    if (v != c->cr4) model_mmu__flush(c);
    c->cr4 = v;
    return;
  case 8:
    if (v >> 4) model__gp0(c);
    c->cr8 = v;
    return;
  default:
    model__ud(c);
  }
}

static void cmpxchg_wide(struct model_cpu *c, const struct model_insn *d) {
  if (d->mod3) model__ud(c);
  uint64_t e = ea_of(c, d);
  bool wide = d->rex & 8;
  uint64_t m = wide ? ~0ull : 0xffffffffull;
  unsigned h = wide ? 8 : 4;
  if (wide && (e & 15)) model__gp0(c);
  uint64_t lo = model_mem__read(c, e, h), hi = model_mem__read(c, e + h, h);
  if (lo == (c->gpr[0] & m) && hi == (c->gpr[2] & m)) {
    model_mem__write(c, e, h, c->gpr[3]);
    model_mem__write(c, e + h, h, c->gpr[1]);
    c->rflags |= RF_ZF;
  } else {
    model_mem__write(c, e, h, lo);
    model_mem__write(c, e + h, h, hi);
    c->gpr[0] = lo;
    c->gpr[2] = hi;
    c->rflags &= ~RF_ZF;
  }
}

/* KVM's hypercall ABI (what the kvm backend's guest sees): RAX = number,
 * RBX/RCX/RDX = arguments; CPL>0 gets -KVM_EPERM; KVM_HC_VAPIC_POLL_IRQ is
 * answered 0 "in the kernel"; KVM_HC_MAP_GPA_RANGE goes to the VMM as
 * KVM_EXIT_HYPERCALL (as with KVM_CAP_EXIT_HYPERCALL); others -KVM_ENOSYS. */
#define KVM_HC_VAPIC_POLL_IRQ 1
#define KVM_HC_MAP_GPA_RANGE  12
static int vmcall(struct model_cpu *c, const struct model_insn *d) {
  uint64_t nr = c->gpr[0];
  /* in VMX operation VMCALL always exits; what the VMM answers at once is
   * an exit handled and re-entered here, the rest exits to the run loop */
  if (c->vmcs.active) {
    uint64_t g = c->gpr[3], np = c->gpr[1];
    bool forwarded =
        !c->cpl && nr == KVM_HC_MAP_GPA_RANGE && !(g & 0xfff) && np && g + (np << 12) >= g;
    if (!forwarded) model_vmx__exit_handled(c, EXIT_REASON_VMCALL, 0);
  }
  if (c->cpl) {
    c->gpr[0] = (uint64_t)-1; /* -KVM_EPERM */
    return 0;
  }
  if (nr == KVM_HC_VAPIC_POLL_IRQ) {
    c->gpr[0] = 0;
    return 0;
  }
  if (nr != KVM_HC_MAP_GPA_RANGE) {
    c->gpr[0] = (uint64_t)-1000; /* -KVM_ENOSYS */
    return 0;
  }
  uint64_t gpa = c->gpr[3], npages = c->gpr[1];
  if ((gpa & 0xfff) || !npages || gpa + (npages << 12) < gpa) {
    c->gpr[0] = (uint64_t)-22; /* -KVM_EINVAL */
    return 0;
  }
  c->hc.nr = nr;
  c->hc.args[0] = c->gpr[3], c->hc.args[1] = c->gpr[1], c->hc.args[2] = c->gpr[2];
  c->hc.ret = 0;
  c->hc.pending = true;
  c->hc.len = d->len;
  c->stop = MSTOP_HYPERCALL;
  c->slice_end = 0;
  return -1; /* retires in model_cpu__complete_io() */
}

/* An MSR the VMM handles: stop; the instruction completes on the next run
 * (model_cpu__complete_io) with the VMM's data, or faults #GP there. */
static int msr_exit(struct model_cpu *c, const struct model_insn *d, bool write, uint64_t v) {
  c->msr.index = (uint32_t)c->gpr[1];
  c->msr.write = write;
  c->msr.data = v;
  c->msr.error = false;
  c->msr.pending = true;
  c->msr.len = d->len;
  c->stop = MSTOP_MSR;
  c->slice_end = 0;
  return -1; /* retires in model_cpu__complete_io() */
}

int model_sys__exec(struct model_cpu *c, const struct model_insn *d, uint64_t *nrip) {
  unsigned g = d->reg & 7;
  switch (d->op) {
  case 0x100: /* group 6 */
    switch (g) {
    case 0:   /* SLDT */
    case 1: { /* STR */
      uint16_t v = g ? c->tr.sel : c->ldtr.sel;
      if (d->mod3)
        c->gpr[d->rm] = d->osz == 2 ? (c->gpr[d->rm] & ~0xffffull) | v : v;
      else
        model_mem__write(c, ea_of(c, d), 2, v);
      return 0;
    }
    case 2: { /* LLDT: only the null LDT is modeled */
      if (c->cpl) model__gp0(c);
      uint16_t sel = (uint16_t)(d->mod3 ? c->gpr[d->rm] : model_mem__read(c, ea_of(c, d), 2));
      if (sel & ~3u)
        model__internal(c, "LLDT 0x%x at rip 0x%llx: LDTs are not modeled", sel,
                        (unsigned long long)c->rip);
      c->ldtr.sel = 0;
      return 0;
    }
    case 3: { /* LTR */
      if (c->cpl) model__gp0(c);
      uint16_t sel = (uint16_t)(d->mod3 ? c->gpr[d->rm] : model_mem__read(c, ea_of(c, d), 2));
      if ((sel & ~3u) == 0 || (sel & 4)) model__fault(c, X86_GP, sel & ~3u, true);
      uint64_t lo = model_events__read_desc(c, sel);
      uint64_t hi = model_events__read_desc(c, (uint16_t)(sel + 8));
      if (((lo >> 40) & 0x1f) != 0x09) model__fault(c, X86_GP, sel & ~3u, true);
      if (!(lo & (1ull << 47))) model__fault(c, X86_NP, sel & ~3u, true);
      lo |= 1ull << 41; /* busy */
      model_mmu__write_slow(c, c->gdtr.base + (sel & ~7u), 8, lo, 0);
      c->tr.sel = sel;
      c->tr.base = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24) | (hi << 32);
      c->tr.limit = (uint32_t)((lo & 0xffff) | (((lo >> 48) & 0xf) << 16));
      if (lo & (1ull << 55)) c->tr.limit = (c->tr.limit << 12) | 0xfff;
      return 0;
    }
    default:
      model__ud(c);
    }
  case 0x101: /* group 7 */
    if (d->mod3) {
      switch (d->modrm) {
      case 0xc1: /* VMCALL */
      case 0xd9: /* VMMCALL */
        return vmcall(c, d);
      case 0xf8: /* SWAPGS */
        if (c->cpl) model__gp0(c);
        {
          uint64_t t = c->seg[SEG_GS].base;
          c->seg[SEG_GS].base = c->kernel_gs_base;
          c->kernel_gs_base = t;
        }
        return 0;
      case 0xf9: { /* RDTSCP */
        if ((c->cr4 & 4) && c->cpl) model__gp0(c);
        uint64_t t = model_cpu__tsc(c);
        c->gpr[0] = (uint32_t)t;
        c->gpr[2] = t >> 32;
        c->gpr[1] = (uint32_t)c->tsc_aux;
        return 0;
      }
      default:
        if (g == 4) { /* SMSW r */
          c->gpr[d->rm] = d->osz == 2 ? (c->gpr[d->rm] & ~0xffffull) | (c->cr0 & 0xffff) : c->cr0;
          return 0;
        }
        model__ud(c);
      }
    }
    switch (g) {
    case 0:
    case 1: { /* SGDT / SIDT */
      const struct model_dtr *t = g ? &c->idtr : &c->gdtr;
      uint64_t e = ea_of(c, d);
      model_mem__write(c, e, 2, t->limit);
      model_mem__write(c, e + 2, 8, t->base);
      return 0;
    }
    case 2:
    case 3: { /* LGDT / LIDT */
      if (c->cpl) model__gp0(c);
      uint64_t e = ea_of(c, d);
      uint16_t lim = (uint16_t)model_mem__read(c, e, 2);
      uint64_t base = model_mem__read(c, e + 2, 8);
      if (!canonical(base)) model__gp0(c);
      struct model_dtr *t = g == 3 ? &c->idtr : &c->gdtr;
      t->limit = lim;
      t->base = base;
      return 0;
    }
    case 4:
      model_mem__write(c, ea_of(c, d), 2, c->cr0 & 0xffff);
      return 0;
    case 7: /* INVLPG */
      if (c->cpl) model__gp0(c);
      if (c->vmcs.active && (c->vmcs.proc_based & CPU_BASED_INVLPG_EXITING) &&
          c->vmcs.invlpg_handler) {
        uint64_t va = ea_of(c, d);
        model_vmx__exit(c, EXIT_REASON_INVLPG, va);
        c->vmcs.invlpg_handler(c->vmcs.vmm, c, va);
        model_vmx__entry(c);
        return 0;
      }
      model_mmu__flush_va(c, ea_of(c, d));
      return 0;
    default:
      model__ud(c);
    }
  case 0x105: { /* SYSCALL */
    if (!(c->efer & 1)) model__ud(c);
    c->gpr[1] = *nrip;
    c->gpr[11] = c->rflags & ~RF_RF;
    c->rflags = ((c->rflags & ~c->sfmask) & ~RF_RF) | RF_FIXED;
    c->seg[SEG_CS].sel = (uint16_t)((c->star >> 32) & 0xfffc);
    c->seg[SEG_SS].sel = (uint16_t)(((c->star >> 32) & 0xfffc) + 8);
    c->cpl = 0;
    c->rip = c->lstar;
    retire(c, d);
    return -1;
  }
  case 0x107: { /* SYSRET */
    if (!(c->efer & 1)) model__ud(c);
    if (c->cpl) model__gp0(c);
    if (!(d->rex & 8))
      model__internal(c, "32-bit SYSRET at rip 0x%llx: compatibility mode is not modeled",
                      (unsigned long long)c->rip);
    if (!canonical(c->gpr[1])) model__gp0(c);
    uint16_t base = (uint16_t)(c->star >> 48);
    c->rip = c->gpr[1];
    c->rflags = (c->gpr[11] & 0x3c7fd7ull) | RF_FIXED;
    c->seg[SEG_CS].sel = (uint16_t)((base + 16) | 3);
    c->seg[SEG_SS].sel = (uint16_t)((base + 8) | 3);
    c->cpl = 3;
    retire(c, d);
    return -1;
  }
  case 0x106: /* CLTS */
    if (c->cpl) model__gp0(c);
    c->cr0 &= ~8ull;
    return 0;
  case 0x108:
  case 0x109: /* INVD, WBINVD: no caches modeled */
    if (c->cpl) model__gp0(c);
    return 0;
  case 0x120:
  case 0x122:
    mov_cr(c, d);
    return 0;
  case 0x121:
  case 0x123: { /* MOV DR */
    if (c->cpl) model__gp0(c);
    unsigned n = d->reg;
    if (n > 7) model__ud(c);
    if ((n == 4 || n == 5) && (c->cr4 & 8)) model__ud(c);
    if (n == 4 || n == 5) n += 2;
    if (d->op == 0x121)
      c->gpr[d->rm] = c->dr[n];
    else
      c->dr[n] = c->gpr[d->rm];
    return 0;
  }
  case 0x130: { /* WRMSR */
    if (c->cpl) model__gp0(c);
    uint64_t v = (c->gpr[0] & 0xffffffffull) | (c->gpr[2] << 32);
    if (model_msr__vmm_owned(c, (uint32_t)c->gpr[1])) return msr_exit(c, d, true, v);
    if (model_sys__wrmsr(c, (uint32_t)c->gpr[1], v)) model__gp0(c);
    return 0;
  }
  case 0x131: { /* RDTSC */
    if ((c->cr4 & 4) && c->cpl) model__gp0(c);
    uint64_t t = model_cpu__tsc(c);
    c->gpr[0] = (uint32_t)t;
    c->gpr[2] = t >> 32;
    return 0;
  }
  case 0x132: { /* RDMSR */
    if (c->cpl) model__gp0(c);
    if (model_msr__vmm_owned(c, (uint32_t)c->gpr[1])) return msr_exit(c, d, false, 0);
    uint64_t v;
    if (model_sys__rdmsr(c, (uint32_t)c->gpr[1], &v)) model__gp0(c);
    c->gpr[0] = (uint32_t)v;
    c->gpr[2] = v >> 32;
    return 0;
  }
  case 0x133:
    model__gp0(c); /* RDPMC: no counters modeled */
  case 0x1a2: {    /* CPUID */
    uint32_t o[4];
    if (c->vmcs.active) model_vmx__exit_handled(c, EXIT_REASON_CPUID, 0); /* always exits */
    if (c->cpl == 3) c->cpl_acct.cpuid3++;
    model_sys__cpuid(c, (uint32_t)c->gpr[0], (uint32_t)c->gpr[1], o);
    c->gpr[0] = o[0], c->gpr[3] = o[1], c->gpr[1] = o[2], c->gpr[2] = o[3];
    return 0;
  }
  case 0x1a0:
  case 0x1a8: { /* PUSH FS/GS */
    unsigned sz = d->osz == 2 ? 2 : 8;
    uint64_t sp = c->gpr[4] - sz;
    model_mem__write(c, sp, sz, c->seg[d->op == 0x1a0 ? SEG_FS : SEG_GS].sel);
    c->gpr[4] = sp;
    return 0;
  }
  case 0x1a1:
  case 0x1a9: { /* POP FS/GS */
    unsigned sz = d->osz == 2 ? 2 : 8;
    uint16_t sel = (uint16_t)model_mem__read(c, c->gpr[4], sz);
    model_sys__load_seg(c, d->op == 0x1a1 ? SEG_FS : SEG_GS, sel);
    c->gpr[4] += sz;
    return 0;
  }
  case 0x1ae: /* group 15 */
    if (d->mod3) {
      if (g >= 5) return 0; /* LFENCE, MFENCE, SFENCE */
      model__ud(c);
    }
    if (g == 7) { /* CLFLUSH: permission check only */
      model_mmu__translate(c, ea_of(c, d), model__uacc(c));
      return 0;
    }
    if (g <= 3 && !d->rep) { /* FXSAVE FXRSTOR LDMXCSR STMXCSR */
      model_fpu__group15(c, d);
      return 0;
    }
    model__ud(c);
  case 0x1c7:
    if (g == 1) {
      cmpxchg_wide(c, d);
      return 0;
    }
    model__ud(c);
  default:
    model__ud(c);
  }
}

/* ---- CPUID: the fixed model CPU (docs/MODEL.md) -------------------------------------- */
static void put4(uint32_t *o, const char *s) {
  memcpy(o, s, 4);
}

#define CPUID_MAX_LEAF 0x16u
/* CPUID.1:EDX: FPU PSE TSC MSR PAE CX8 MTRR PGE CMOV PAT CLFSH FXSR SSE SSE2
 * (x86-64 Linux requires FPU PSE MSR PAE CX8 PGE CMOV FXSR SSE SSE2); APIC
 * with a local APIC */
#define CPUID1_EDX                                                                                 \
  ((1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 12) |            \
   (1u << 13) | (1u << 15) | (1u << 16) | (1u << 19) | (1u << 24) | (1u << 25) | (1u << 26))
#define CPUID1_EDX_APIC (1u << 9)
/* CPUID.1:ECX: CX16 POPCNT hypervisor; TSC-deadline with a local APIC */
#define CPUID1_ECX              ((1u << 13) | (1u << 23) | (1u << 31))
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)

void model_sys__cpuid(const struct model_cpu *c, uint32_t leaf, uint32_t sub, uint32_t o[4]) {
  o[0] = o[1] = o[2] = o[3] = 0;
  switch (leaf) {
  case 0:
    o[0] = CPUID_MAX_LEAF;
    put4(&o[1], "Genu"), put4(&o[3], "ineI"), put4(&o[2], "ntel");
    break;
  case 1:
    o[0] = 0x000806f8; /* family 6, model 0x8f, stepping 8 */
    o[1] = 8u << 8;    /* CLFLUSH line 64 bytes, APIC id 0 */
    o[2] = CPUID1_ECX | (c->plat.apic ? CPUID1_ECX_TSC_DEADLINE : 0);
    o[3] = CPUID1_EDX | (c->plat.apic ? CPUID1_EDX_APIC : 0);
    break;
  case 6:
    if (c->plat.apic) o[0] = 1u << 2; /* ARAT: the APIC timer runs in every state */
    break;
  case 7:
    if (sub == 0) {
      o[1] = (1u << 3) | (1u << 8) | (1u << 9); /* BMI1, BMI2 (model_vex.c), ERMS */
      if (c->plat.apic) o[3] = 1u << 29;        /* IA32_ARCH_CAPABILITIES (model_msr.c) */
    }
    break;
  case 0x15: /* TSC = crystal x EBX / EAX: a 1 MHz crystal, the rate in MHz */
    if (c->plat.tsc_hz >= 1000000) {
      o[0] = 1;
      o[1] = (uint32_t)((c->plat.tsc_hz + 500000) / 1000000);
      o[2] = 1000000;
    }
    break;
  case 0x16: /* base and maximum frequency in MHz, bus 100 MHz */
    if (c->plat.tsc_hz >= 1000000) {
      o[0] = o[1] = (uint32_t)((c->plat.tsc_hz + 500000) / 1000000);
      o[2] = 100;
    }
    break;
  case 0x40000000:
    o[0] = 0x40000000;
    put4(&o[1], "VTBe"), put4(&o[2], "nchM"), put4(&o[3], "odel");
    break;
  case 0x80000000:
    o[0] = 0x80000008;
    break;
  case 0x80000001:
    o[2] = (1u << 0) | (1u << 5); /* LAHF, LZCNT */
    o[3] = (1u << 11) | (1u << 20) | (1u << 26) | (1u << 27) |
           (1u << 29); /* SYSCALL NX 1G RDTSCP LM */
    break;
  case 0x80000002:
    put4(&o[0], "vtbe"), put4(&o[1], "nch "), put4(&o[2], "mode"), put4(&o[3], "l x8");
    break;
  case 0x80000003:
    put4(&o[0], "6-64"), put4(&o[1], " CPU");
    break;
  case 0x80000007:
    o[3] = 1u << 8; /* invariant TSC: the modeled clock's rate never changes */
    break;
  case 0x80000008:
    o[0] = MODEL_MAXPHYADDR | (48u << 8);
    break;
  default:
    break;
  }
}
