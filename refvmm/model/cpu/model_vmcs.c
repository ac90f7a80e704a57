/* model_vmcs.c - VM exits and entries of the model CPU (exit accounting,
 * the TLB flushes VPID-less transitions imply) and the VMM's access to the
 * guest's state and the TLBs (model_vmcs.h). */
#include "model_vmcs.h"

#include <stddef.h>
#include <string.h>

#include "model_cpu.h"
#include "model_events.h"
#include "model_mmu.h"
#include "x86.h"

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
  model_vmx__exit_inline(c, reason, qual);
}

void model_vmx__entry(struct model_cpu *c) {
  model_vmx__entry_inline(c);
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
  model_mmu__flush_vmx_inline(c); /* speed: the VMM's flushes after the exit's only count */
}

void model_vmx__flush_va(struct model_cpu *c, uint64_t va) {
  model_mmu__flush_va(c, va);
}

/* A failed guest walk's result: MMU_FAULT | the #PF error code (as
 * model_mmu__walk()'s). */
static int walk_fault(const struct model_cpu *c, unsigned acc, uint32_t bits) {
  uint32_t e = MMU_FAULT | bits;
  if (acc & ACC_W) e |= PFEC_W;
  if (acc & ACC_U) e |= PFEC_U;
  if ((acc & ACC_X) && (c->efer & EFER_NXE)) e |= PFEC_I;
  return (int)e;
}

/* model_mmu__walk() with set_ad, no EPT and no paging-structure-cache start
 * (walk_start 0: every level read and counted alike), step for step: the
 * same counters (walks, walk_refs, walk_level), the same A/D writes, the
 * same result and error code; and the path, in the region's memo. */
int model_vmx__walk_guest_path(struct model_cpu *c, uint64_t va, unsigned acc, uint64_t *gpa,
                               uint32_t *perm, const struct vmx_guest_path **path) {
  enum {
    P = 1,
    W = 2,
    U = 4,
    A = 1 << 5,
    D = 1 << 6,
    PS = 1 << 7,
    G = 1 << 8,
  };
  static const struct vmx_guest_path no_path; /* leaf_level 0: not kept */
  const uint64_t pa_mask = ((1ull << MODEL_MAXPHYADDR) - 1) & ~0xfffull;
  const uint64_t rsvd_hi = ((1ull << 52) - 1) & ~((1ull << MODEL_MAXPHYADDR) - 1);
  if (!(c->cr0 & (1ull << 31)) || c->walk_start || model_vmcs__ept(&c->vmcs)) {
    uint32_t pm;
    *path = &no_path;
    return model_mmu__walk(c, va, acc, gpa, perm ? perm : &pm, true);
  }
  bool nxe = (c->efer & EFER_NXE) != 0;
  uint64_t table, allow_u, allow_w, nx, e = 0;
  uint8_t *p = NULL;
  int level;
  c->cnt.walks++;
  struct vmx_walk_memo *m = &c->vmx_walk_memo[(va >> 21) & 7];
  struct vmx_guest_path *pt = &m->path; /* written in place: the memo's levels stay as they are */
  *path = pt;
  if (m->ram == c->ram && m->key == va >> 21 && m->cr3 == c->cr3 && m->nxe == nxe &&
      m->ram_size == c->ram_size && !memcmp(m->p[0], &m->e[0], 8) &&
      !memcmp(m->p[1], &m->e[1], 8) && (m->n == 2 || !memcmp(m->p[2], &m->e[2], 8))) {
    /* the levels kept as the walk below would do them: present, no
     * reserved bit, not a leaf, A already set; the path holds them */
    c->cnt.walk_refs += m->n;
    level = 4 - m->n;
    /* the leaf of the last walk through them, re-read unchanged: present,
     * no reserved bit, a leaf at this level, A set; the path holds it too
     * (speed: the handler's second fault on a page, a PT write's next entry) */
    if (m->leaf_p && m->leaf_key == va >> (m->n == 3 ? 12 : 21) &&
        !memcmp(m->leaf_p, &m->leaf_e, 8)) {
      c->walk_level = (uint8_t)level;
      c->cnt.walk_refs++;
      p = m->leaf_p;
      e = m->leaf_e;
      allow_u = m->leaf_u;
      allow_w = m->leaf_w;
      nx = m->leaf_nx;
      goto check;
    }
    allow_u = m->u;
    allow_w = m->w;
    nx = m->nx;
    table = m->table;
  } else {
    m->ram = NULL; /* rewritten below: valid again once level 3 leads on */
    m->leaf_p = NULL;
    table = c->cr3 & pa_mask;
    allow_u = allow_w = 1;
    nx = 0;
    level = 4;
  }
  m->leaf_p = NULL; /* rewritten below if the walk succeeds */
  uint64_t rsvd = rsvd_hi | (nxe ? 0 : 1ull << 63);
#pragma GCC unroll 4 /* speed: each level's tests fold to constants */
  for (; level >= 1; level--) {
    c->walk_level = (uint8_t)level;
    c->cnt.walk_refs++;
    p = model_mem__ptr(c, table + ((va >> (3 + 9 * level)) & 511) * 8, 8);
    if (!p) return walk_fault(c, acc, 0); /* table outside RAM: not present */
    memcpy(&e, p, 8);
    if (!(e & P)) return walk_fault(c, acc, 0);
    bool leaf = level == 1 || ((e & PS) && level <= 3);
    uint64_t r = rsvd | (level == 4 ? PS : 0);
    if (leaf && level == 3) r |= 0x3fffe000ull; /* 1 GiB frame bits 29:13 */
    if (leaf && level == 2) r |= 0x1fe000ull;   /* 2 MiB frame bits 20:13 */
    if (e & r) return walk_fault(c, acc, PFEC_P | PFEC_RSVD);
    pt->tab[level] = table;
    pt->above[level] = (uint8_t)((allow_u & 1) | (allow_w & 1) << 1 | (nx & 1) << 2);
    allow_u &= e >> 2;
    allow_w &= e >> 1;
    if (nxe) nx |= e >> 63;
    if (!(e & A)) {
      e |= A;
      memcpy(p, &e, 8);
    }
    pt->e[level] = e;
    if (leaf) break;
    table = e & pa_mask;
    if (level >= 2) {
      m->p[4 - level] = p;
      m->e[4 - level] = e;
    }
    if (level == 3 || level == 2) { /* the levels down to this one lead on: keep them */
      m->ram = c->ram;
      m->ram_size = c->ram_size;
      m->key = va >> 21;
      m->cr3 = c->cr3;
      m->n = (uint8_t)(5 - level);
      m->table = table;
      m->u = (uint8_t)(allow_u & 1);
      m->w = (uint8_t)(allow_w & 1);
      m->nx = (uint8_t)(nx & 1);
      m->nxe = nxe;
    }
  }
  /* keep the leaf when the memo holds the levels above it (hit, or
   * rewritten by this walk: the key is va's region); its value below */
  if (m->ram && level == 4 - m->n) {
    m->leaf_p = p;
    m->leaf_key = va >> (m->n == 3 ? 12 : 21);
    m->leaf_u = (uint8_t)(allow_u & 1);
    m->leaf_w = (uint8_t)(allow_w & 1);
    m->leaf_nx = (uint8_t)(nx & 1);
  }
check:;
  /* the access check and the permissions, as model_mmu__walk() computes
   * them (branch-free: speed); a fault leaves the memo as it is (nothing
   * was written since it was checked) */
  uint32_t u = (uint32_t)allow_u & 1, w = (uint32_t)allow_w & 1, x = !(nx & 1);
  uint32_t wp = (c->cr0 >> 16) & 1, user = (acc & ACC_U) != 0;
  uint32_t okr = user ? u : 1, okw = user ? (u & w) : (w | (wp ^ 1));
  uint32_t ok = (acc & ACC_X) ? x & okr : (acc & ACC_W) ? okw : okr;
  if (!ok) {
    m->leaf_e = e; /* (a leaf just kept: its value, A set) */
    return walk_fault(c, acc, PFEC_P);
  }
  if ((acc & ACC_W) && !(e & D)) {
    e |= D;
    memcpy(p, &e, 8);
  }
  pt->e[level] = e;
  m->leaf_e = e;
  pt->leaf_level = level;
  uint64_t page_mask = (1ull << (3 + 9 * level)) - 1;
  *gpa = (e & pa_mask & ~page_mask) | (va & page_mask);
  if (!perm) return 0; /* speed: the shadow #PF handler needs none */
  uint32_t dirty = (e >> 6) & 1;
  uint32_t pm = TLBP_R | (((w | (wp ^ 1)) & dirty) ? TLBP_W : 0) | (x ? TLBP_X : 0);
  pm |= u ? (TLBP_R | ((w & dirty) ? TLBP_W : 0) | (x ? TLBP_X : 0)) << 3 : 0;
  pm |= level == 2 ? TLBP_2M : level == 3 ? TLBP_1G : 0;
  if ((e & G) && (c->cr4 & (1ull << 7))) pm |= TLBP_G;
  *perm = pm;
  return 0;
}
