/* model_mmu.h - address translation and guest memory of the model CPU
 * (model_mmu.c): the page walk, the TLB model behind the L1 DTLB front,
 * checked data accesses with their fast path. */
#ifndef REFVMM_MODEL_MMU_H
#define REFVMM_MODEL_MMU_H

#include "model_cpu.h"

/* Whether [gpa, gpa+len) lies inside guest RAM of ram_size bytes. */
static inline bool model_mem__in_ram(uint64_t ram_size, uint64_t gpa, uint64_t len) {
  return gpa <= ram_size && len <= ram_size - gpa;
}
/* Host pointer for [gpa, gpa+len) inside RAM or NULL. */
static inline uint8_t *model_mem__ptr(const struct model_cpu *c, uint64_t gpa, uint64_t len) {
  return model_mem__in_ram(c->ram_size, gpa, len) ? c->ram + gpa : 0;
}
/* Translate va for an access; on failure raise #PF (longjmp). Returns the
 * TLB entry holding the translation. */
const struct model_tlb_entry *model_mmu__translate(struct model_cpu *c, uint64_t va, unsigned acc);
/* An instruction fetch's translation (ACC_X): the ITLB lookup (and walk)
 * translate() makes, without the data front or the host pointer; returns
 * the 4 KiB page's gpa (faults by longjmp as translate() does). */
uint64_t model_mmu__fetch_page(struct model_cpu *c, uint64_t va, unsigned acc);
/* model_mmu__fetch_page()'s common case, inline: the L1 ITLB's last hit
 * holds va's page (nothing changed since), a counted hit: true, the 4 KiB
 * page's gpa in *gpa; false, nothing counted, when it does not hold it (then
 * model_mmu__fetch_past_last() makes the rest of the lookup). need: the
 * fetch's, need_bit(ACC_X | model__uacc(c)). An unconfigured TLB (zeroed)
 * holds nothing here: no fetch's need is 0. va must be canonical. */
static inline bool model_mmu__fetch_last(struct model_cpu *c, uint64_t va, uint32_t need,
                                         uint64_t *gpa) {
  const struct tlb_slot *s = model_tlb__lookup_last(&c->tlbm, TLBL_L1I, va, need, true);
  if (!s) return false;
  *gpa = model_tlb__slot_page(s, va);
  return true;
}
/* The rest of model_mmu__fetch_page() after model_mmu__fetch_last() found
 * nothing (the same lookup, counted, walk and fill): the page's gpa. */
uint64_t model_mmu__fetch_past_last(struct model_cpu *c, uint64_t va);
/* Walk only (no TLB, no fault): 0 and *gpa, or MMU_FAULT | the #PF error code. */
int model_mmu__walk(struct model_cpu *c, uint64_t va, unsigned acc, uint64_t *gpa, uint32_t *perm,
                    bool set_ad);
void model_mmu__flush(struct model_cpu *c);     /* all entries of the current VPID */
void model_mmu__flush_cr3(struct model_cpu *c); /* a CR3 load: global pages stay (CR4.PGE) */
void model_mmu__flush_vmx(struct model_cpu *c); /* VM exit/entry without VPID */
/* model_mmu__flush_vmx(), its case that only counts inline (speed: the
 * entry's flush after the exit's, with nothing filled into the TLBs, the
 * paging-structure caches or the front in between) */
static inline void model_mmu__flush_vmx_inline(struct model_cpu *c) {
  /* (a TLB not configured yet was never flushed: its group is not empty) */
  if (c->front_nlog || !model_tlb__group_empty(&c->tlbm, c->tlbm.vpid)) {
    model_mmu__flush_vmx(c);
    return;
  }
  c->tlb_has_2m = c->tlb_has_1g = false; /* front_flush() of an empty front */
  c->tlbm.st.flushes++;                  /* model_tlb__flush_vpid() of an empty group */
  model_cpu__flush_decoded_xlat(c);
}
/* The bodies of model_vmx__exit() and model_vmx__entry() (model_vmcs.h),
 * for the exits the CPU takes in its own hot paths (speed: no call) */
static inline void model_vmx__exit_inline(struct model_cpu *c, unsigned reason, uint64_t qual) {
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
static inline void model_vmx__entry_inline(struct model_cpu *c) {
  struct model_vmcs *v = &c->vmcs;
  if (!v->active) return;
  v->entries++;
  if (!model_vmcs__vpid(v)) {
    model_mmu__flush_vmx_inline(c);
    v->flush_on_entry++;
  }
}
/* Like translate() but a hit in the L1 DTLB is not counted: RMW pre-checks,
 * so an RMW costs the same two lookups with and without the front. */
void model_mmu__translate_probe(struct model_cpu *c, uint64_t va, unsigned acc);
/* L1 DTLB hits including those the front served (exact). */
uint64_t model_mmu__l1d_hits(const struct model_cpu *c);
uint64_t model_mmu__l1d_lookups(const struct model_cpu *c);
void model_mmu__flush_va(struct model_cpu *c, uint64_t va);
void model_mmu__mark_code(struct model_cpu *c, uint64_t gpa);
/* Something other than the CPU (the VMM) stored into RAM [gpa, gpa+len):
 * instructions decoded from a code page there are dropped, as after the
 * guest's own store. */
void model_mmu__ram_written(struct model_cpu *c, uint64_t gpa, uint64_t len);
/* Data access with the CPU's current privilege; implicit supervisor for sys. */
uint64_t model_mmu__read_slow(struct model_cpu *c, uint64_t va, unsigned len, unsigned acc);
void model_mmu__write_slow(struct model_cpu *c, uint64_t va, unsigned len, uint64_t v,
                           unsigned acc);
void model_mmu__read_bytes(struct model_cpu *c, uint64_t va, void *dst, unsigned len, unsigned acc);

static inline unsigned model__uacc(const struct model_cpu *c) {
  return c->cpl == 3 ? ACC_U : 0;
}
static inline uint64_t model_tlb__tag(const struct model_cpu *c, uint64_t va) {
  return (va >> 12) | c->tlb_gen_tag;
}

static inline __attribute__((always_inline)) uint64_t model_mem__read(struct model_cpu *c,
                                                                      uint64_t va, unsigned len) {
  c->cnt.mem_reads++;
  const struct model_tlb_entry *e = &c->tlb[(va >> 12) & (MODEL_TLB_SIZE - 1)];
  unsigned need = c->cpl == 3 ? (TLBP_R << 3) : TLBP_R;
  /* an L1 DTLB hit (the front holds only L1 DTLB pages) on a line in L1 */
  if (__builtin_expect(e->tag == model_tlb__tag(c, va) && (e->perm & need) &&
                           (va & 0xfff) + len <= 4096 && ((e->lines >> ((va >> 6) & 63)) & 1),
                       1)) {
    c->tlbm.st.front_hits++;
    const uint8_t *p = e->host + (va & 0xfff);
    switch (len) {
    case 1:
      return *p;
    case 2: {
      uint16_t v;
      __builtin_memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      uint32_t v;
      __builtin_memcpy(&v, p, 4);
      return v;
    }
    default: {
      uint64_t v;
      __builtin_memcpy(&v, p, 8);
      return v;
    }
    }
  }
  return model_mmu__read_slow(c, va, len, model__uacc(c));
}

static inline __attribute__((always_inline)) void model_mem__write(struct model_cpu *c, uint64_t va,
                                                                   unsigned len, uint64_t v) {
  c->cnt.mem_writes++;
  const struct model_tlb_entry *e = &c->tlb[(va >> 12) & (MODEL_TLB_SIZE - 1)];
  unsigned need = c->cpl == 3 ? (TLBP_W << 3) : TLBP_W;
  if (__builtin_expect(e->tag == model_tlb__tag(c, va) && (e->perm & need) &&
                           (va & 0xfff) + len <= 4096 && ((e->lines >> ((va >> 6) & 63)) & 1),
                       1)) {
    c->tlbm.st.front_hits++;
    uint8_t *p = e->host + (va & 0xfff);
    switch (len) {
    case 1:
      *p = (uint8_t)v;
      return;
    case 2: {
      uint16_t x = (uint16_t)v;
      __builtin_memcpy(p, &x, 2);
      return;
    }
    case 4: {
      uint32_t x = (uint32_t)v;
      __builtin_memcpy(p, &x, 4);
      return;
    }
    default:
      __builtin_memcpy(p, &v, 8);
      return;
    }
  }
  model_mmu__write_slow(c, va, len, v, model__uacc(c) | ACC_W);
}

/* ---- model_mmu_vmx.c: the walks of the VMM's tables under VMX ---- */
/* EPT translation of a guest-physical address (the CPU side of EPT):
 * 0 and *hpa; 1 misconfiguration (MMIO: the access becomes an MMIO exit);
 * violations exit to the VMM and the walk is retried. When `count` (a
 * guest level no guest paging-structure cache skipped, or the final
 * address): consults and fills the EPT paging-structure caches and counts
 * the EPT references below their deepest hit, by level. `final`: the
 * address is the guest's data, not a table. */
int model_ept__translate(struct model_cpu *c, uint64_t gpa, unsigned acc, uint64_t gva, bool final,
                         bool count, uint64_t *hpa);
/* speed: whether the EPT walk front holds the current EPT tables' results
 * (a walk tests it once, and again after a model_ept__translate call,
 * which makes it so) */
static inline bool model_ept__front_current(const struct model_cpu *c) {
  return c->tlbm.ept_front_mem == c->vmcs.ept_mem && c->tlbm.ept_front_eptp == c->vmcs.eptp;
}
/* the front's entry for gpa's frame, or NULL, when model_ept__front_current */
static inline const struct tlb_ept_front *model_ept__front_slot(const struct model_tlb *t,
                                                                uint64_t gpa) {
  uint64_t gfn = gpa >> 12;
  const struct tlb_ept_front *f = &t->ept_front[gfn & (EPT_FRONT - 1)];
  return f->key == model_tlb__ept_front_key(t, gfn) ? f : NULL;
}
/* the same, NULL also when the front is not current */
static inline const struct tlb_ept_front *model_ept__front_entry(const struct model_cpu *c,
                                                                 uint64_t gpa) {
  return model_ept__front_current(c) ? model_ept__front_slot(&c->tlbm, gpa) : NULL;
}
/* speed: the front's result (f: its entry for gpa, or NULL) for a counted
 * reference whose EPT walk the EPT PDE cache starts at level 1 (a hit on its hinted position):
 * counts what model_ept__translate counts then (the PDE cache's hit, one reference to the EPT PTE,
 * the data caches' walk reference; no cache fill). */
static inline bool model_ept__front_counted_at(struct model_cpu *c, const struct tlb_ept_front *f,
                                               uint64_t gpa, uint64_t *hpa) {
  struct model_tlb *t = &c->tlbm;
  if (!f || !model_tlb__ept_pde_hinted(t, gpa)) return false;
  t->st.ept_pwc_hits[2]++;
  t->st.walk_refs++;
  t->st.ept_refs_by_level[1]++;
  model_cache__walk_ref(c, CACHE_EPT_BASE + 8 * (uint64_t)f->at[0], CS_EPT);
  *hpa = f->hpa | (gpa & 0xfff);
  return true;
}
static inline bool model_ept__front_counted(struct model_cpu *c, uint64_t gpa, uint64_t *hpa) {
  return model_ept__front_counted_at(c, model_ept__front_entry(c, gpa), gpa, hpa);
}
/* The CPU's walk of the shadow tables: 0 and *hpa, *perm (TLBP_ bits), or
 * MMU_FAULT | #PF error code; *end = the level the walk ended at. */
int model_spt__walk(struct model_cpu *c, uint64_t va, unsigned acc, uint64_t *hpa, uint32_t *perm,
                    unsigned *end);

#endif
