/* model_events.c - exception and interrupt delivery for the model CPU:
 * 64-bit IDT gates, privilege switch through TSS RSP0, IST stacks, error
 * codes, #DF on a fault during delivery and triple fault (shutdown), NMI and
 * external-interrupt injection points with NMI blocking until IRET and the
 * STI/MOV-SS interrupt shadow; the VMX event controls: NMI- and
 * interrupt-window exiting and the VMX-preemption timer in modeled time,
 * VM-entry event injection (refvmm's policies drive them from
 * vmm/vmm_events.c). */
#include <stdio.h>
#include <string.h>

#include "model_cpu.h"
#include "model_events.h"
#include "model_mmu.h"

_Noreturn void model__fault(struct model_cpu *c, int vec, uint32_t err, bool has_err) {
  c->fault_vector = vec;
  c->fault_error = err;
  c->fault_has_error = has_err;
  longjmp(c->jb, MJ_FAULT);
}

uint64_t model_events__read_desc(struct model_cpu *c, uint16_t sel) {
  if ((sel | 7u) > c->gdtr.limit) model__fault(c, X86_GP, sel & ~3u, true);
  c->cnt.mem_reads++;
  return model_mmu__read_slow(c, c->gdtr.base + (sel & ~7u), 8, 0);
}

void model_events__load_cs(struct model_cpu *c, uint16_t sel, bool allow_outer) {
  if ((sel & ~3u) == 0) model__fault(c, X86_GP, 0, true);
  uint64_t desc = model_events__read_desc(c, sel);
  bool code = (desc & (3ull << 43)) == (3ull << 43);
  if (!code) model__fault(c, X86_GP, sel & ~3u, true);
  if (!(desc & (1ull << 47))) model__fault(c, X86_NP, sel & ~3u, true);
  unsigned rpl = sel & 3, dpl = (desc >> 45) & 3;
  if (rpl < c->cpl || (!allow_outer && rpl != c->cpl)) model__fault(c, X86_GP, sel & ~3u, true);
  if (!(desc & (1ull << 42)) && dpl != rpl) model__fault(c, X86_GP, sel & ~3u, true);
  if (!(desc & (1ull << 53)))
    model__internal(c,
                    "CS 0x%x is not a 64-bit code segment (rip 0x%llx): compatibility mode "
                    "is not modeled",
                    sel, (unsigned long long)c->rip);
  c->seg[SEG_CS].sel = sel;
  c->seg[SEG_CS].dpl = (uint8_t)dpl;
  c->cpl = (uint8_t)rpl;
}

static bool has_error_code(int vec) {
  return vec == X86_DF || vec == X86_TS || vec == X86_NP || vec == X86_SS || vec == X86_GP ||
         vec == X86_PF || vec == X86_AC || vec == 21;
}

static uint64_t tss_read(struct model_cpu *c, unsigned off) {
  if (c->tr.limit < off + 7) model__fault(c, X86_TS, c->tr.sel & ~3u, true);
  c->cnt.mem_reads++;
  return model_mmu__read_slow(c, c->tr.base + off, 8, 0);
}

void model_events__deliver(struct model_cpu *c, int vec, uint32_t err, bool has_err, bool soft,
                           uint64_t ret_rip) {
  c->delivering = vec;
  uint32_t ext = soft ? 0 : 1;
  uint32_t idt_err = (uint32_t)vec * 8 + 2 + ext;
  if ((uint32_t)vec * 16 + 15 > c->idtr.limit) model__fault(c, X86_GP, idt_err, true);
  uint64_t lo = model_mmu__read_slow(c, c->idtr.base + (uint64_t)vec * 16, 8, 0);
  uint64_t hi = model_mmu__read_slow(c, c->idtr.base + (uint64_t)vec * 16 + 8, 8, 0);
  c->cnt.mem_reads += 2;
  unsigned type = (lo >> 40) & 0x1f, dpl = (lo >> 45) & 3, ist = (lo >> 32) & 7;
  if (type != 0x0e && type != 0x0f) model__fault(c, X86_GP, idt_err, true);
  if (soft && c->cpl > dpl) model__fault(c, X86_GP, (uint32_t)vec * 8 + 2, true);
  if (!(lo & (1ull << 47))) model__fault(c, X86_NP, idt_err, true);
  uint16_t sel = (uint16_t)(lo >> 16);
  uint64_t target = (lo & 0xffff) | (((lo >> 48) & 0xffff) << 16) | (hi << 32);
  if ((sel & ~3u) == 0) model__fault(c, X86_GP, ext, true);
  if ((uint64_t)((int64_t)(target << 16) >> 16) != target) model__fault(c, X86_GP, ext, true);
  uint64_t desc = model_events__read_desc(c, sel);
  if ((desc & (3ull << 43)) != (3ull << 43) || !(desc & (1ull << 53)))
    model__fault(c, X86_GP, (sel & ~3u) + ext, true);
  if (!(desc & (1ull << 47))) model__fault(c, X86_NP, (sel & ~3u) + ext, true);
  unsigned ncpl = (desc >> 45) & 3;
  if (desc & (1ull << 42)) ncpl = c->cpl; /* conforming */
  if (ncpl > c->cpl) model__fault(c, X86_GP, (sel & ~3u) + ext, true);

  uint64_t rsp = c->gpr[4];
  bool change = ncpl < c->cpl;
  if (ist)
    rsp = tss_read(c, 0x24 + (ist - 1) * 8);
  else if (change)
    rsp = tss_read(c, 4 + ncpl * 8);
  rsp &= ~0xfull;
  uint64_t fl = c->rflags;
  if (!soft && vec < 32 && vec != X86_NMI && vec != X86_DB && vec != X86_BP)
    fl |= RF_RF; /* fault image carries RF */
  uint64_t frame[6];
  int n = 0;
  if (has_err) frame[n++] = err;
  frame[n++] = ret_rip;
  frame[n++] = c->seg[SEG_CS].sel;
  frame[n++] = fl;
  frame[n++] = c->gpr[4];
  frame[n++] = c->seg[SEG_SS].sel;
  /* every push is a supervisor access when the handler runs at CPL0 */
  unsigned acc = ACC_W | (ncpl == 3 ? ACC_U : 0);
  for (int i = 0; i < n; i++)
    model_mmu__write_slow(c, rsp - 8 * (uint64_t)(n - i), 8, frame[i], acc);
  c->cnt.mem_writes += (uint64_t)n;
  /* commit */
  c->gpr[4] = rsp - 8 * (uint64_t)n;
  if (change) c->seg[SEG_SS].sel = (uint16_t)ncpl;
  c->seg[SEG_CS].sel = (uint16_t)((sel & ~3u) | ncpl);
  c->seg[SEG_CS].dpl = (uint8_t)ncpl;
  c->cpl = (uint8_t)ncpl;
  c->rflags &= ~(RF_TF | RF_NT | RF_RF | RF_VM);
  if (type == 0x0e) c->rflags &= ~RF_IF;
  c->rip = target;
  if (vec == X86_NMI && !soft) c->nmi_blocked = true;
  c->cnt.exceptions++;
  c->dep_prev = 0; /* the handler waits for no register of the interrupted code */
  c->delivering = -1;
}

static bool contributory(int v) {
  return v == X86_DE || v == X86_TS || v == X86_NP || v == X86_SS || v == X86_GP;
}

void model_events__handle_fault(struct model_cpu *c) {
  int vec = c->fault_vector;
  uint32_t err = c->fault_error;
  bool has_err = c->fault_has_error && has_error_code(vec);
  int prev = c->delivering;
  if (prev >= 0) {
    if (prev == X86_DF) {
      c->delivering = -1;
      snprintf(c->msg, sizeof c->msg,
               "triple fault: vector %d while delivering #DF at rip 0x%llx (cr2 0x%llx)", vec,
               (unsigned long long)c->rip, (unsigned long long)c->cr2);
      if (c->ud_rip == c->rip) {
        size_t l = strlen(c->msg);
        snprintf(c->msg + l, sizeof c->msg - l,
                 "; undecodable instruction bytes %02x %02x %02x %02x %02x %02x", c->ud_bytes[0],
                 c->ud_bytes[1], c->ud_bytes[2], c->ud_bytes[3], c->ud_bytes[4], c->ud_bytes[5]);
      }
      c->stop = MSTOP_SHUTDOWN;
      c->slice_end = 0;
      return;
    }
    if ((contributory(prev) && contributory(vec)) ||
        (prev == X86_PF && (contributory(vec) || vec == X86_PF))) {
      vec = X86_DF;
      err = 0;
      has_err = true;
    }
  }
  c->delivering = vec;
  model_events__deliver(c, vec, err, has_err, false, c->rip);
  c->delivering = -1;
}

bool model_events__can_take_irq(const struct model_cpu *c) {
  bool shadow = c->shadow_valid && c->cnt.instructions < c->shadow_icount;
  return (c->rflags & RF_IF) && !shadow;
}

static bool in_shadow(const struct model_cpu *c) {
  return c->shadow_valid && c->cnt.instructions < c->shadow_icount;
}

bool model_events__try_inject(struct model_cpu *c) {
  bool shadow = in_shadow(c);
  if (c->nmi_pending && !c->nmi_blocked && !shadow) {
    c->nmi_pending = false;
    c->halted = false;
    c->cnt.nmis++;
    model_events__deliver(c, X86_NMI, 0, false, false, c->rip);
    c->vmcs.nmi_delivered_tsc = model_cpu__tsc(c); /* handler entry (latency) */
    return true;
  }
  if (c->irq_pending && model_events__can_take_irq(c)) {
    c->irq_pending = false;
    c->halted = false;
    c->cnt.irqs++;
    model_events__deliver(c, c->irq_vector, 0, false, false, c->rip);
    c->vmcs.irq_delivered_tsc = model_cpu__tsc(c);
    return true;
  }
  return false;
}

/* ---- VMX event controls (SDM 25.2, 26.7.4-26.7.6) ---------------------------- */
uint32_t model_vmx__interruptibility(const struct model_cpu *c) {
  uint32_t s = 0;
  if (in_shadow(c)) s |= c->shadow_movss ? GUEST_INTR_STATE_MOV_SS : GUEST_INTR_STATE_STI;
  if (c->nmi_blocked) s |= GUEST_INTR_STATE_NMI;
  return s;
}

void model_vmx__inject(struct model_cpu *c, enum vmx_event type, uint8_t vector) {
  if (type == VMX_EVENT_NMI) {
    c->nmi_pending = true;
  } else {
    c->irq_pending = true;
    c->irq_vector = vector;
  }
}

bool model_vmx__injection_pending(const struct model_cpu *c, enum vmx_event type) {
  return type == VMX_EVENT_NMI ? c->nmi_pending : c->irq_pending;
}

uint64_t model_vmx__guest_rflags(const struct model_cpu *c) {
  return c->rflags;
}

uint64_t model_vmx__guest_tsc(const struct model_cpu *c) {
  return model_cpu__tsc(c);
}

bool model_events__waiting(const struct model_cpu *c) {
  return c->nmi_pending || c->irq_pending ||
         (c->vmcs.proc_based & (CPU_BASED_NMI_WINDOW_EXITING | CPU_BASED_INTR_WINDOW_EXITING));
}

static void event_exit(struct model_cpu *c, unsigned reason) {
  c->vmcs.exit_reason = reason;
  c->stop = MSTOP_VMEXIT;
  c->slice_end = 0;
}

int model_events__boundary(struct model_cpu *c) {
  if ((c->nmi_pending || c->irq_pending) && model_events__try_inject(c)) return 1;
  bool shadow = in_shadow(c);
  uint32_t pb = c->vmcs.proc_based;
  /* NMI-window exiting: no virtual-NMI blocking and no STI/MOV-SS blocking;
   * it takes priority over interrupt-window exiting (SDM 26.7.5-6) */
  if ((pb & CPU_BASED_NMI_WINDOW_EXITING) && !c->nmi_blocked && !shadow) {
    event_exit(c, EXIT_REASON_NMI_WINDOW);
    return 0;
  }
  if ((pb & CPU_BASED_INTR_WINDOW_EXITING) && (c->rflags & RF_IF) && !shadow) {
    event_exit(c, EXIT_REASON_INTERRUPT_WINDOW);
    return 0;
  }
  /* blocked by the interrupt shadow: stop right after it */
  if (shadow && c->shadow_icount < c->slice_end) c->slice_end = c->shadow_icount;
  return 0;
}

int model_vmx__run(struct model_cpu *c, uint64_t budget) {
  return model_cpu__run(c, budget);
}

int model_vmx__run_guest(struct model_cpu *c, uint64_t budget, uint64_t host_deadline) {
  struct model_vmcs *v = &c->vmcs;
  uint64_t until = host_deadline;
  bool timer = v->pin_based & PIN_BASED_VMX_PREEMPTION_TIMER;
  if (timer && v->preemption_deadline < until) until = v->preemption_deadline;
  uint64_t now = model_cpu__tsc(c);
  enum model_stop s = MSTOP_SLICE;
  /* Approach the deadline in slices sized from the CPU's mean cycles per
   * instruction so far (counters only: deterministic), halving as it comes
   * near; the last slices are single instructions, so an exit lands at the
   * first boundary at or after the deadline (an instruction's own cost aside). */
  while (now < until && budget) {
    uint64_t insns = c->cnt.instructions ? c->cnt.instructions : 1;
    uint64_t cycles = now - c->tsc_offset - c->cnt.halted_cycles; /* executing, not waiting */
    uint64_t cpi = cycles / insns + 1;
    uint64_t b = (until - now) / (2 * cpi);
    if (b < 1) b = 1;
    if (b > budget) b = budget;
    uint64_t before = c->cnt.instructions + c->cnt.exceptions;
    s = model_cpu__run(c, b);
    if (s == MSTOP_VMEXIT) {
      c->stop = MSTOP_NONE;
      model_vmx__exit(c, v->exit_reason, 0);
      return s;
    }
    if (s != MSTOP_SLICE || c->kick) return s;
    uint64_t done = c->cnt.instructions + c->cnt.exceptions - before;
    budget = done >= budget ? 0 : budget - done;
    now = model_cpu__tsc(c);
  }
  /* the preemption timer before other exits at the same boundary (SDM 26.7.4) */
  unsigned reason = timer && now >= v->preemption_deadline ? EXIT_REASON_PREEMPTION_TIMER
                    : now >= host_deadline                 ? EXIT_REASON_EXTERNAL_INTERRUPT
                                                           : EXIT_REASON_MAX;
  if (reason == EXIT_REASON_MAX) return s;
  v->exit_reason = reason;
  model_vmx__exit(c, reason, 0);
  return MSTOP_VMEXIT;
}
