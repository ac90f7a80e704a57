/* model_mmu_vmx.c - the model CPU's walk of the VMM's EPT tables under VMX
 * (counted by level, with the EPT paging-structure caches); the walk of the
 * shadow page tables is in model_spt.h. */
#include <string.h>

#include "model_cpu.h"
#include "model_events.h"
#include "model_mmu.h"

int model_ept__translate(struct model_cpu *c, uint64_t gpa, unsigned acc, uint64_t gva, bool final,
                         bool count, uint64_t *hpa) {
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
  __builtin_prefetch(f); /* speed: a random frame's entry is a host cache miss */
  uint32_t walk_at[4] = {0};
  for (int tries = 0; tries < 8; tries++) {
    uint64_t table = v->eptp >> 12;
    int level;
    /* the EPT paging-structure caches: levels above their deepest hit are
     * not read (counted); the functional walk still reads them all */
    unsigned start = count ? model_tlb__ept_pwc_start(t, gpa) : 0;
    if (f->key == gfn + 1) { /* the walk's known result: count it alike */
      for (unsigned l = 1; l <= start; l++) {
        t->st.walk_refs++;
        t->st.ept_refs_by_level[l]++;
        model_cache__walk_ref(c, CACHE_EPT_BASE + 8 * (uint64_t)f->at[l - 1], CS_EPT);
      }
      if (count) model_tlb__ept_pwc_fill(t, gpa, start, 1);
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
        if (count) model_tlb__ept_pwc_fill(t, gpa, start, 1);
        f->key = gfn + 1;
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
