/* model_vmcs.c - VM exits and entries of the model CPU (exit accounting,
 * the TLB flushes VPID-less transitions imply) and the VMM's access to the
 * guest's state and the TLBs (model_vmcs.h). */
#include "model_vmcs.h"

#include <stddef.h>

#include "model_cpu.h"
#include "model_events.h"
#include "model_mmu.h"

const char *vmx_exit_reason__name(unsigned reason) {
  switch (reason) {
  case EXIT_REASON_EXCEPTION_NMI:
    return "EXCEPTION_NMI";
  case EXIT_REASON_EXTERNAL_INTERRUPT:
    return "EXTERNAL_INTERRUPT";
  case EXIT_REASON_TRIPLE_FAULT:
    return "TRIPLE_FAULT";
  case EXIT_REASON_INTERRUPT_WINDOW:
    return "INTERRUPT_WINDOW";
  case EXIT_REASON_NMI_WINDOW:
    return "NMI_WINDOW";
  case EXIT_REASON_CPUID:
    return "CPUID";
  case EXIT_REASON_HLT:
    return "HLT";
  case EXIT_REASON_INVLPG:
    return "INVLPG";
  case EXIT_REASON_RDTSC:
    return "RDTSC";
  case EXIT_REASON_VMCALL:
    return "VMCALL";
  case EXIT_REASON_CR_ACCESS:
    return "CR_ACCESS";
  case EXIT_REASON_IO_INSTRUCTION:
    return "IO_INSTRUCTION";
  case EXIT_REASON_MSR_READ:
    return "MSR_READ";
  case EXIT_REASON_MSR_WRITE:
    return "MSR_WRITE";
  case EXIT_REASON_EPT_VIOLATION:
    return "EPT_VIOLATION";
  case EXIT_REASON_EPT_MISCONFIG:
    return "EPT_MISCONFIG";
  case EXIT_REASON_PREEMPTION_TIMER:
    return "PREEMPTION_TIMER";
  default:
    return NULL;
  }
}

void model_vmx__exit(struct model_cpu *c, unsigned reason, uint64_t qual) {
  struct model_vmcs *v = &c->vmcs;
  if (!v->active) return;
  v->exit_reason = reason;
  v->exit_qualification = qual;
  if (reason < EXIT_REASON_MAX) v->exits[reason]++;
  if (reason == EXIT_REASON_EPT_MISCONFIG) v->ept_misconfigs++;
  if (!model_vmcs__vpid(v)) { /* without VPID the host's and guest's entries share tag 0 */
    model_mmu__flush_vmx(c);
    v->flush_on_exit++;
  }
}

void model_vmx__entry(struct model_cpu *c) {
  struct model_vmcs *v = &c->vmcs;
  if (!v->active) return;
  v->entries++;
  if (!model_vmcs__vpid(v)) {
    model_mmu__flush_vmx(c);
    v->flush_on_entry++;
  }
}

int model_vmx__exit_handled(struct model_cpu *c, unsigned reason, uint64_t qual) {
  model_vmx__exit(c, reason, qual);
  int rc = 0;
  if (reason == EXIT_REASON_EPT_VIOLATION) {
    c->vmcs.ept_violations++;
    rc = c->vmcs.handler ? c->vmcs.handler(c->vmcs.vmm, c) : -1;
  }
  model_vmx__entry(c);
  return rc;
}

bool model_vmx__halted(const struct model_cpu *c) {
  return c->halted;
}

void model_vmx__wait(struct model_cpu *c, uint64_t until) {
  uint64_t now = model_cpu__tsc(c);
  if (until > now) c->cnt.halted_cycles += until - now;
}

/* ---- the VMM's access to the guest and the CPU ---------------------------------- */
struct model_vmcs *model_vmx__vmcs(struct model_cpu *c) {
  return &c->vmcs;
}

void model_vmx__set_vpid(struct model_cpu *c, uint16_t vpid) {
  c->vmcs.vpid = vpid;
  c->tlbm.vpid = vpid;
}

uint64_t model_vmx__guest_cr3(const struct model_cpu *c) {
  return c->cr3;
}

void model_vmx__set_guest_cr3(struct model_cpu *c, uint64_t cr3) {
  c->cr3 = cr3;
}

uint64_t model_vmx__guest_efer(const struct model_cpu *c) {
  return c->efer;
}

unsigned model_vmx__guest_cpl(const struct model_cpu *c) {
  return c->cpl;
}

uint64_t model_vmx__cpl_switches(const struct model_cpu *c) {
  return c->cpl_acct.switches;
}

bool model_vmx__exit_insn(const struct model_cpu *c, uint64_t *rip, uint16_t *op, uint8_t *reg,
                          bool *mod3) {
  if (!c->cur) return false;
  *rip = c->rip;
  *op = c->cur->op;
  *reg = c->cur->reg & 7;
  *mod3 = c->cur->mod3 != 0;
  return true;
}

void model_vmx__flush_nonglobal(struct model_cpu *c) {
  model_mmu__flush_cr3(c);
}

void model_vmx__flush_all(struct model_cpu *c) {
  model_mmu__flush_vmx(c);
}

void model_vmx__flush_va(struct model_cpu *c, uint64_t va) {
  model_mmu__flush_va(c, va);
}

int model_vmx__walk_guest(struct model_cpu *c, uint64_t va, unsigned acc, uint64_t *gpa,
                          uint32_t *perm) {
  return model_mmu__walk(c, va, acc, gpa, perm, true);
}
