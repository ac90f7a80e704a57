/* model_spt.h - the model CPU's walk of the VMM's shadow page tables
 * (shadow paging): inline, as its one caller (shadow_translate(), at every
 * TLB miss under shadow paging: twice per #PF exit) is its hot path. */
#ifndef REFVMM_MODEL_SPT_H
#define REFVMM_MODEL_SPT_H

#include <stdint.h>

#include "model_cache.h"
#include "model_cpu.h"
#include "x86.h"

/* the #PF error code of a shadow walk that failed for access acc */
static inline int model_spt__fault(const struct model_cpu *c, unsigned acc) {
  uint32_t fault = 0x10000; /* MMU_FAULT */
  if (acc & ACC_W) fault |= PFEC_W;
  if (acc & ACC_U) fault |= PFEC_U;
  if ((acc & ACC_X) && (c->efer & (1ull << 11))) fault |= PFEC_I;
  return (int)fault;
}

/* The CPU's walk of the shadow tables: 0 and *hpa, *perm (TLBP_ bits), or
 * MMU_FAULT | #PF error code; *end = the level the walk ended at. */
static inline int model_spt__walk(struct model_cpu *c, uint64_t va, unsigned acc, uint64_t *hpa,
                                  uint32_t *perm, unsigned *end) {
  const struct model_vmcs *v = &c->vmcs;
  const uint64_t *mem = v->spt_mem;
  *hpa = 0; /* set on a fault too: the caller, inlined, reads them after success only */
  *perm = 0;
  uint64_t table, e, at;
  uint64_t allow_u, allow_w, nx;
  /* speed: the upper entries of an earlier walk of this 2 MiB region, if
   * they still read the same (then so does everything they lead to) */
  struct tlb_spt_memo *m = &c->tlbm.spt_memo[(va >> 21) & 7];
  if (m->key == va >> 21 && m->mem == mem && m->root == v->shadow_root &&
      m->pages == v->spt_pages && mem[m->idx[0]] == m->e[0] && mem[m->idx[1]] == m->e[1] &&
      mem[m->idx[2]] == m->e[2]) {
    c->walk_pa[4] = CACHE_SPT_BASE + 8 * m->idx[0];
    c->walk_pa[3] = CACHE_SPT_BASE + 8 * m->idx[1];
    c->walk_pa[2] = CACHE_SPT_BASE + 8 * m->idx[2];
    allow_u = m->u;
    allow_w = m->w;
    nx = m->nx;
    table = m->table;
  } else {
    table = v->shadow_root;
    allow_u = allow_w = 1;
    nx = 0;
    m->mem = NULL; /* rewritten below: valid again once all three are present */
    for (int level = 4; level >= 2; level--) {
      *end = (unsigned)level;
      if (table >= v->spt_pages) return model_spt__fault(c, acc);
      at = table * 512 + ((va >> (12 + 9 * (level - 1))) & 511);
      e = mem[at];
      c->walk_pa[level] = CACHE_SPT_BASE + 8 * at; /* where the data caches see it */
      if (!(e & 1)) return model_spt__fault(c, acc);
      allow_u &= e >> 2;
      allow_w &= e >> 1;
      nx |= e >> 63;
      table = (e & EPT_ADDR_MASK) >> 12;
      m->idx[4 - level] = at;
      m->e[4 - level] = e;
    }
    m->key = va >> 21;
    m->mem = mem;
    m->root = v->shadow_root;
    m->pages = v->spt_pages;
    m->table = table;
    m->u = (uint8_t)(allow_u & 1);
    m->w = (uint8_t)(allow_w & 1);
    m->nx = (uint8_t)(nx & 1);
  }
  *end = 1;
  if (table >= v->spt_pages) return model_spt__fault(c, acc);
  at = table * 512 + ((va >> 12) & 511);
  e = mem[at];
  c->walk_pa[1] = CACHE_SPT_BASE + 8 * at;
  if (!(e & 1)) return model_spt__fault(c, acc);
  allow_u &= e >> 2;
  allow_w &= e >> 1;
  nx |= e >> 63;
  /* shadow entries are read-only where the VMM must see writes (clean
   * guest PTEs, guest page tables): writes need W at every privilege, as
   * with CR0.WP=1 (guest CR0.WP=0 is not modeled in shadow mode); a user
   * access needs U, then has what a supervisor one has */
  uint32_t pm = TLBP_R | ((allow_w & 1) ? TLBP_W : 0) | ((nx & 1) ? 0 : TLBP_X);
  if (allow_u & 1) pm |= pm << 3;
  uint32_t need = (acc & ACC_X) ? TLBP_X : (acc & ACC_W) ? TLBP_W : TLBP_R;
  if (!(pm & ((acc & ACC_U) ? need << 3 : need))) return model_spt__fault(c, acc) | PFEC_P;
  *perm = pm;
  *hpa = (e & EPT_ADDR_MASK) | (va & 0xfff);
  return 0;
}

#endif
