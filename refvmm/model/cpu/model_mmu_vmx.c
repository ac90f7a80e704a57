/* model_mmu_vmx.c - the model CPU's walks of the VMM's tables under VMX:
 * the EPT walk (counted by level, with the EPT paging-structure caches) and
 * the walk of the shadow page tables. */
#include <string.h>

#include "model_cpu.h"
#include "model_events.h"
#include "model_mmu.h"

int model_ept__translate(struct model_cpu *c, uint64_t gpa, unsigned acc, uint64_t gva, bool final,
                         bool count, uint64_t *hpa) {
  if (count && model_ept__front_counted(c, gpa, hpa)) return 0; /* speed: the usual case */
  struct model_vmcs *v = &c->vmcs;
  struct model_tlb *t = &c->tlbm;
  if (t->ept_front_mem != v->ept_mem || t->ept_front_eptp != v->eptp) { /* other EPT tables */
    model_tlb__flush_ept(t);
    t->ept_front_mem = v->ept_mem;
    t->ept_front_eptp = v->eptp;
  }
  uint64_t gfn = gpa >> 12;
  unsigned fi = (unsigned)(gfn & (EPT_FRONT - 1));
  struct tlb_ept_front *f = &t->ept_front[fi];
  uint64_t key = model_tlb__ept_front_key(t, gfn);
  __builtin_prefetch(f); /* speed: a random frame's entry is a host cache miss */
  uint32_t walk_at[4];   /* all four written before a leaf is reached, the only use */
  for (int tries = 0; tries < 8; tries++) {
    uint64_t table = v->eptp >> 12;
    int level;
    /* the EPT paging-structure caches: levels above their deepest hit are
     * not read (counted); the functional walk still reads them all */
    unsigned start = count ? model_tlb__ept_pwc_start(t, gpa) : 0;
    if (f->key == key) { /* the walk's known result: count it alike */
      for (unsigned l = 1; l <= start; l++) {
        t->st.walk_refs++;
        t->st.ept_refs_by_level[l]++;
        model_cache__walk_ref(c, CACHE_EPT_BASE + 8 * (uint64_t)f->at[l - 1], CS_EPT);
      }
      /* speed: a walk from level 1 fills nothing (no call) */
      if (start > 1) model_tlb__ept_pwc_fill(t, gpa, start, 1);
      *hpa = f->hpa | (gpa & 0xfff);
      return 0;
    }
    for (level = 4; level >= 1; level--) {
      if (table >= v->ept_pages) return 1; /* points outside the VMM's EPT memory */
      uint64_t at = table * 512 + ((gpa >> (12 + 9 * (level - 1))) & 511);
      uint64_t e = v->ept_mem[at];
      walk_at[level - 1] = (uint32_t)at;
      if ((unsigned)level <= start) {
        t->st.walk_refs++;
        t->st.ept_refs_by_level[level]++;
        model_cache__walk_ref(c, CACHE_EPT_BASE + 8 * at, CS_EPT);
      }
      if (!(e & (EPT_R | EPT_W | EPT_X))) break;    /* not present: violation */
      if ((e & (EPT_R | EPT_W)) == EPT_W) return 1; /* write without read: misconfigured */
      if (level == 1) {
        *hpa = (e & EPT_ADDR_MASK) | (gpa & 0xfff);
        if (start > 1) model_tlb__ept_pwc_fill(t, gpa, start, 1);
        f->key = key == ~0ull ? 0 : key;
        memcpy(f->at, walk_at, sizeof walk_at);
        f->hpa = e & EPT_ADDR_MASK;
        return 0;
      }
      table = (e & EPT_ADDR_MASK) >> 12;
    }
    uint64_t q = (acc & ACC_X) ? EPT_QUAL_FETCH : (acc & ACC_W) ? EPT_QUAL_WRITE : EPT_QUAL_READ;
    q |= EPT_QUAL_LINEAR_VALID;
    if (final) q |= EPT_QUAL_FINAL;
    v->guest_physical = gpa;
    v->guest_linear = gva;
    if (model_vmx__exit_handled(c, EXIT_REASON_EPT_VIOLATION, q))
      model__internal(c, "EPT violation at gpa 0x%llx: the VMM could not map it (EPT memory full?)",
                      (unsigned long long)gpa);
  }
  model__internal(c, "EPT violation at gpa 0x%llx persists after the VMM handled it",
                  (unsigned long long)gpa);
}

/* the #PF error code of a shadow walk that failed for access acc */
static int spt_fault(const struct model_cpu *c, unsigned acc) {
  uint32_t fault = 0x10000; /* MMU_FAULT */
  if (acc & ACC_W) fault |= PFEC_W;
  if (acc & ACC_U) fault |= PFEC_U;
  if ((acc & ACC_X) && (c->efer & (1ull << 11))) fault |= PFEC_I;
  return (int)fault;
}

int model_spt__walk(struct model_cpu *c, uint64_t va, unsigned acc, uint64_t *hpa, uint32_t *perm,
                    unsigned *end) {
  const struct model_vmcs *v = &c->vmcs;
  const uint64_t *mem = v->spt_mem;
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
      if (table >= v->spt_pages) return spt_fault(c, acc);
      at = table * 512 + ((va >> (12 + 9 * (level - 1))) & 511);
      e = mem[at];
      c->walk_pa[level] = CACHE_SPT_BASE + 8 * at; /* where the data caches see it */
      if (!(e & 1)) return spt_fault(c, acc);
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
  if (table >= v->spt_pages) return spt_fault(c, acc);
  at = table * 512 + ((va >> 12) & 511);
  e = mem[at];
  c->walk_pa[1] = CACHE_SPT_BASE + 8 * at;
  if (!(e & 1)) return spt_fault(c, acc);
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
  if (!(pm & ((acc & ACC_U) ? need << 3 : need))) return spt_fault(c, acc) | PFEC_P;
  *perm = pm;
  *hpa = (e & EPT_ADDR_MASK) | (va & 0xfff);
  return 0;
}
