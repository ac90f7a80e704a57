/* model_mmu.c - guest paging for the model CPU: the 4-level walk (4 KiB,
 * 2 MiB, 1 GiB pages; A/D bits; U/S, R/W, NX, CR0.WP; reserved bits), the
 * TLB model behind model_mmu__translate() with the direct-mapped L1 DTLB
 * front in front of it, and the slow paths of data access (page-crossing,
 * MMIO, writes to pages holding decoded code).
 *
 * Every guest-physical reference goes through model_mem__ptr(), which only
 * yields pointers wholly inside guest RAM.
 */
#include <string.h>

#include "model_cpu.h"
#include "model_events.h"
#include "model_mmu.h"
#include "model_walk_count.h"

#define PTE_P      (1ull << 0)
#define PTE_W      (1ull << 1)
#define PTE_U      (1ull << 2)
#define PTE_A      (1ull << 5)
#define PTE_D      (1ull << 6)
#define PTE_PS     (1ull << 7)
#define PTE_G      (1ull << 8)
#define PTE_NX     (1ull << 63)
#define CR4_PGE    (1ull << 7)
#define PADDR_MASK (((1ull << MODEL_MAXPHYADDR) - 1) & ~0xfffull)
/* bits 51:MAXPHYADDR must be zero in every entry */
#define PTE_RSVD_HI (((1ull << 52) - 1) & ~((1ull << MODEL_MAXPHYADDR) - 1))

static inline bool canonical(uint64_t va) {
  return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

static uint32_t pf_err(unsigned acc, const struct model_cpu *c) {
  uint32_t e = MMU_FAULT;
  if (acc & ACC_W) e |= PFEC_W;
  if (acc & ACC_U) e |= PFEC_U;
  if ((acc & ACC_X) && (c->efer & (1ull << 11))) e |= PFEC_I;
  return e;
}

/* The walk memo's context (struct tlb_walk_memo): 0 without EPT, the EPT
 * walk front's generation | 1 with EPT while the front holds the current EPT
 * tables, ~0 (no memo) when it does not. */
static inline uint64_t walk_ctx(const struct model_cpu *c, bool ept, bool front_ok) {
  return !ept ? 0 : front_ok ? c->tlbm.ept_front_tag | 1 : ~0ull;
}

int model_mmu__walk(struct model_cpu *c, uint64_t va, unsigned acc, uint64_t *gpa, uint32_t *perm,
                    bool set_ad) {
  if (!(c->cr0 & (1ull << 31))) { /* paging off: identity */
    *gpa = va;
    *perm = 0x3f;
    return 0;
  }
  bool nxe = c->efer & (1ull << 11);
  uint64_t table = c->cr3 & PADDR_MASK;
  uint64_t allow_u = 1, allow_w = 1, nx = 0;
  uint64_t e = 0, ea = 0, page_mask = 0xfff;
  bool ept = c->vmcs.active && model_vmcs__ept(&c->vmcs);
  /* speed: the front's tables tested once per walk, not per level (only a
   * model_ept__translate call changes them) */
  bool front_ok = ept && model_ept__front_current(c);
  /* speed: what no step of the walk changes, in registers (the A-bit
   * stores through a byte pointer would make the compiler reload them) */
  const int wstart = c->walk_start;
  uint8_t *const ram = c->ram;
  const uint64_t ram_size = c->ram_size;
  c->cnt.walks++;
  int level = 4;
  /* speed: the levels this walk does not count (above walk_start: the
   * guest's paging-structure caches skipped them) taken from the memo of
   * the last walk of this 2 MiB region when each entry still reads the
   * same: present, no reserved bit, not a leaf, A set, and at the same host
   * address (same CR3 and NXE, RAM, EPT front generation), so reading and
   * checking them again would find what the memo holds. Uncounted levels
   * make no TLB, cache or EPT reference, so only walk_refs counts them. */
  uint64_t ctx = walk_ctx(c, ept, front_ok);
  struct tlb_walk_memo *m = &c->tlbm.walk_memo[(va >> 21) & (WALK_MEMO - 1)];
  bool rec = ctx != ~0ull; /* this walk may (re)write the memo */
  int skip = 4 - wstart;
  if (skip > m->n) skip = m->n;
  if (skip > 0 && m->key == (va >> 21) + 1 && m->cr3 == c->cr3 && m->ctx == ctx && m->ram == ram &&
      m->ram_size == ram_size && m->nxe == nxe) {
    for (int i = 0; i < skip; i++) {
      uint64_t v;
      memcpy(&v, m->p[i], 8);
      if (v != m->e[i]) {
        skip = 0;
        break;
      }
    }
  } else {
    skip = 0;
  }
  if (skip) {
    unsigned a = m->above[skip - 1];
    allow_u = a & 1;
    allow_w = (a >> 1) & 1;
    nx = (a >> 2) & 1;
    table = m->e[skip - 1] & PADDR_MASK;
    level = 4 - skip;
    c->cnt.walk_refs += (unsigned)skip;
    m->n = (uint8_t)skip; /* the loop below extends it */
  } else if (rec) {
    m->key = 0; /* rewritten by the loop from level 4 */
    m->n = 0;
  }
  for (; level >= 1; level--) {
    unsigned shift = 12 + 9 * (level - 1);
    c->walk_level = (uint8_t)level;
    ea = table + ((va >> shift) & 511) * 8;
    c->cnt.walk_refs++;
    if (ept) {
      /* 2-D walk: the guest table's address is guest-physical; levels a
       * paging-structure cache skipped are read without being counted */
      uint64_t hpa;
      bool count = level <= wstart;
      /* speed: the front's result and counts are the call's (a level the
       * guest's caches skipped counts nothing in EPT either) */
      const struct tlb_ept_front *f = front_ok ? model_ept__front_slot(&c->tlbm, ea) : NULL;
      if (count ? model_ept__front_counted_at(c, f, ea, &hpa) : f != NULL) {
        if (!count) hpa = f->hpa | (ea & 0xfff);
      } else {
        if (model_ept__translate(c, ea, 0, va, false, count, &hpa)) return (int)pf_err(acc, c);
        front_ok = model_ept__front_current(c);
        if (rec && walk_ctx(c, ept, front_ok) != ctx) { /* other EPT tables since the start */
          rec = false;
          m->key = 0;
          m->n = 0;
        }
      }
      ea = hpa;
    }
    if (!model_mem__in_ram(ram_size, ea, 8)) /* table outside RAM: not present */
      return (int)pf_err(acc, c);
    uint8_t *p = ram + ea;
    if (level <= wstart) model_cache__walk_ref(c, ea, CS_WALK); /* a counted reference */
    memcpy(&e, p, 8);
    if (!(e & PTE_P)) return (int)pf_err(acc, c);
    bool leaf = level == 1 || ((e & PTE_PS) && level <= 3);
    uint64_t rsvd = PTE_RSVD_HI;
    if (!nxe) rsvd |= PTE_NX;
    if (level == 4) rsvd |= PTE_PS;
    if (leaf && level == 3) rsvd |= 0x3fffe000ull; /* 1 GiB frame bits 29:13 */
    if (leaf && level == 2) rsvd |= 0x1fe000ull;   /* 2 MiB frame bits 20:13 */
    if (e & rsvd) return (int)(pf_err(acc, c) | PFEC_P | PFEC_RSVD);
    allow_u &= e >> 2;
    allow_w &= e >> 1;
    if (nxe) nx |= e >> 63;
    if (set_ad && !(e & PTE_A)) {
      e |= PTE_A;
      memcpy(p, &e, 8);
    }
    if (leaf) {
      page_mask = (1ull << shift) - 1;
      break;
    }
    table = e & PADDR_MASK;
    /* the memo: this level leads on, and the levels above it are kept */
    if (rec && (e & PTE_A) && m->n == 4 - level) {
      int i = 4 - level;
      m->p[i] = p;
      m->e[i] = e;
      m->above[i] = (uint8_t)((allow_u & 1) | (allow_w & 1) << 1 | (nx & 1) << 2);
      m->n = (uint8_t)(i + 1);
      if (i == 0) {
        m->key = (va >> 21) + 1;
        m->cr3 = c->cr3;
        m->ctx = ctx;
        m->ram = ram;
        m->ram_size = ram_size;
        m->nxe = nxe;
      }
    }
  }
  allow_u &= 1;
  allow_w &= 1;
  nx &= 1;
  bool wp = c->cr0 & (1ull << 16);
  bool ok;
  if (acc & ACC_X)
    ok = !nx && (!(acc & ACC_U) || allow_u);
  else if (acc & ACC_W)
    ok = (acc & ACC_U) ? (allow_u && allow_w) : (allow_w || !wp);
  else
    ok = !(acc & ACC_U) || allow_u;
  if (!ok) return (int)(pf_err(acc, c) | PFEC_P);
  if (set_ad && (acc & ACC_W) && !(e & PTE_D)) {
    e |= PTE_D;
    uint8_t *p = model_mem__ptr(c, ea, 8);
    if (p) memcpy(p, &e, 8);
  }
  bool dirty = e & PTE_D;
  uint32_t pm = TLBP_R;
  if ((allow_w || !wp) && dirty) pm |= TLBP_W;
  if (!nx) pm |= TLBP_X;
  if (allow_u) {
    pm |= TLBP_R << 3;
    if (allow_w && dirty) pm |= TLBP_W << 3;
    if (!nx) pm |= TLBP_X << 3;
  }
  if (page_mask == 0x1fffff) pm |= TLBP_2M;
  if (page_mask == 0x3fffffff) pm |= TLBP_1G;
  if ((e & PTE_G) && (c->cr4 & CR4_PGE)) pm |= TLBP_G;
  *perm = pm;
  *gpa = (e & PADDR_MASK & ~page_mask) | (va & page_mask);
  return 0;
}

static void front_flush(struct model_cpu *c) {
  c->tlb_has_2m = c->tlb_has_1g = false;
  if (c->front_nlog <= MODEL_FRONT_LOG) { /* only these can hold the current generation */
    for (unsigned i = 0; i < c->front_nlog; i++)
      c->tlb[c->front_log[i]].tag = 0;
    c->front_nlog = 0;
    return;
  }
  c->front_nlog = 0;
  c->tlb_gen_tag += 1ull << TLB_GEN_SHIFT; /* every entry's tag is stale now */
  if (!c->tlb_gen_tag) {                   /* generations wrapped: clear for real */
    memset(c->tlb, 0, sizeof c->tlb);
    c->tlb_gen_tag = 1ull << TLB_GEN_SHIFT;
  }
}

static void ensure_tlb(struct model_cpu *c) {
  if (c->tlbm.configured) return;
  struct model_tlb_config cfg;
  model_tlb__default_config(&cfg);
  model_tlb__configure(&c->tlbm, &cfg, NULL, 0);
}

void model_mmu__flush(struct model_cpu *c) {
  ensure_tlb(c);
  front_flush(c);
  model_tlb__flush_vpid(&c->tlbm, c->tlbm.vpid, false);
  c->cnt.tlb_flushes++;
  model_cpu__flush_decoded_xlat(c);
}

void model_mmu__flush_cr3(struct model_cpu *c) {
  ensure_tlb(c);
  front_flush(c);
  model_tlb__flush_vpid(&c->tlbm, c->tlbm.vpid, (c->cr4 & CR4_PGE) != 0);
  c->cnt.tlb_flushes++;
  model_cpu__flush_decoded_xlat(c);
}

void model_mmu__flush_vmx(struct model_cpu *c) {
  ensure_tlb(c);
  front_flush(c);
  if (model_tlb__group_empty(&c->tlbm, c->tlbm.vpid)) /* what model_tlb__flush_vpid() does then */
    c->tlbm.st.flushes++;
  else
    model_tlb__flush_vpid(&c->tlbm, c->tlbm.vpid, false);
  model_cpu__flush_decoded_xlat(c);
}

static void drop(struct model_cpu *c, uint64_t va) {
  struct model_tlb_entry *e = &c->tlb[(va >> 12) & (MODEL_TLB_SIZE - 1)];
  if (e->tag == model_tlb__tag(c, va)) e->tag = 0;
}

/* Drop the front's pages inside a TLB page of 2^shift bytes at va. */
static void front_drop(struct model_cpu *c, uint64_t va, unsigned shift) {
  if (shift >= 30) {
    front_flush(c);
    return;
  }
  uint64_t base = va & ~((1ull << shift) - 1);
  for (uint64_t i = 0; i < (1ull << (shift - 12)); i++)
    drop(c, base + (i << 12));
}

void model_mmu__flush_va(struct model_cpu *c, uint64_t va) {
  ensure_tlb(c);
  model_tlb__flush_va(&c->tlbm, va);
  if (c->tlb_has_1g) /* pieces of a 1 GiB page may sit anywhere: flush all */
    front_flush(c);
  else if (c->tlb_has_2m) /* the 4 KiB pieces of a 2 MiB page around va */
    front_drop(c, va, 21);
  else
    drop(c, va);
  model_cpu__flush_decoded_xlat(c);
}

void model_mmu__mark_code(struct model_cpu *c, uint64_t gpa) {
  uint64_t pfn = gpa >> 12;
  if (!c->code_pages || gpa >= c->ram_size || c->code_pages[pfn]) return;
  c->code_pages[pfn] = 1;
  for (unsigned i = 0; i < MODEL_TLB_SIZE; i++)
    if (c->tlb[i].tag && (c->tlb[i].gpa >> 12) == pfn)
      c->tlb[i].perm &= ~((uint32_t)TLBP_W | (TLBP_W << 3));
}

void model_mmu__ram_written(struct model_cpu *c, uint64_t gpa, uint64_t len) {
  if (!c->code_pages || !len || gpa >= c->ram_size) return;
  uint64_t last = len > c->ram_size - gpa ? c->ram_size - 1 : gpa + len - 1;
  bool code = false;
  for (uint64_t pfn = gpa >> 12; pfn <= last >> 12; pfn++)
    if (c->code_pages[pfn]) { /* as a guest store to it does (translate()) */
      c->code_pages[pfn] = 0;
      code = true;
    }
  if (code) model_cpu__flush_decoded(c);
}

static inline uint32_t need_bit(unsigned acc) {
  uint32_t b = (acc & ACC_X) ? TLBP_X : (acc & ACC_W) ? TLBP_W : TLBP_R;
  return (acc & ACC_U) ? b << 3 : b;
}

static inline unsigned slot_shift(uint32_t perm) {
  return (perm & TLBP_1G) ? 30 : (perm & TLBP_2M) ? 21 : 12;
}

/* Insert at an L1 level; an L1 DTLB eviction drops the evicted page from
 * the front, which must only hold pages the L1 DTLB holds. */
static void fill_l1(struct model_cpu *c, enum tlb_level lv, uint64_t va, uint64_t gpa,
                    unsigned shift, uint32_t perm) {
  struct tlb_evicted ev;
  struct tlb_slot *s =
      model_tlb__insert(&c->tlbm, lv, va, gpa, shift, perm, (perm & TLBP_G) != 0, &ev);
  if (lv == TLBL_L1D && ev.valid) front_drop(c, ev.vpn << ev.shift, ev.shift);
  if (lv == TLBL_L1I) c->fill_l1i = s; /* for fetch_translate() */
}

/* The fill after a walk: L2, then the L1 level (as fill_l1). */
static void fill_l2_l1(struct model_cpu *c, enum tlb_level lv, uint64_t va, uint64_t gpa,
                       unsigned shift, uint32_t perm) {
  struct tlb_evicted ev;
  struct tlb_slot *s =
      model_tlb__insert_l2_l1(&c->tlbm, lv, va, gpa, shift, perm, (perm & TLBP_G) != 0, &ev);
  if (lv == TLBL_L1D && ev.valid) front_drop(c, ev.vpn << ev.shift, ev.shift);
  if (lv == TLBL_L1I) c->fill_l1i = s; /* for fetch_translate() */
}

/* Shadow paging: the walk reads the VMM's shadow tables; a fault there is
 * a #PF, intercepted (exception bitmap) and handled by the VMM: a hidden
 * fault is filled and retried, a true one reflected to the guest, a write
 * to a write-protected guest page table emulated (this access only, never
 * cached: c->xlat_nocache). */
/* The #PF exit, the VMM's handler and the entry: one call, out of line
 * (speed: tlb_translate(), shared by every paging mode, stays as small as
 * it was; with these inline in it native and EPT forkwait ran 5-8 % slower
 * with the same host instructions). */
static __attribute__((noinline)) int shadow_pf_exit(struct model_cpu *c, uint64_t va,
                                                    unsigned acc) {
  model_vmx__exit_inline(c, EXIT_REASON_EXCEPTION_NMI, va);
  int r = c->vmcs.pf_handler ? c->vmcs.pf_handler(c->vmcs.vmm, c, va, acc) : SPF_TRUE_FAULT;
  model_vmx__entry_inline(c);
  return r;
}

static uint64_t shadow_translate(struct model_cpu *c, uint64_t va, unsigned acc, uint32_t *perm,
                                 enum tlb_level l1) {
  for (int tries = 0; tries < 16; tries++) {
    unsigned start = model_tlb__pwc_start(&c->tlbm, va), end = 4;
    uint64_t hpa;
    uint32_t pm;
    int err = model_spt__walk(c, va, acc, &hpa, &pm, &end);
    model_walk__count_shadow(c, start, end); /* its counts, its references in the data caches */
    if (!err) {
      model_tlb__pwc_fill_from(&c->tlbm, va, start, 1);
      if (hpa >= c->ram_size) { /* the VMM's entry for MMIO: it stands for KVM's MMIO spte
                                 * (reserved bits: every access faults and exits), and a
                                 * translation that faults is never cached */
        c->xlat_nocache = true;
        *perm = pm;
        return hpa & ~0xfffull;
      }
      __builtin_prefetch(c->ram + hpa); /* speed: overlap the fills */
      fill_l2_l1(c, l1, va, hpa & ~0xfffull, 12, pm);
      *perm = pm;
      return hpa & ~0xfffull;
    }
    int r = shadow_pf_exit(c, va, acc);
    if (r == SPF_TRUE_FAULT) {
      c->cr2 = va;
      model__fault(c, X86_PF, c->vmcs.inject_error, true);
    }
    if (r == SPF_EMULATE) {
      c->xlat_nocache = true;
      *perm = TLBP_R | TLBP_W | (TLBP_R << 3) | (TLBP_W << 3);
      return c->vmcs.emulate_hpa;
    }
  }
  model__internal(c, "shadow #PF at gva 0x%llx persists after the VMM filled it",
                  (unsigned long long)va);
}

/* The TLB model: L1 (D or I), then L2, then the walk (with the
 * paging-structure caches). Returns the 4 KiB page's gpa, perm in *perm. */
static uint64_t tlb_translate(struct model_cpu *c, uint64_t va, unsigned acc, uint32_t *perm,
                              bool count_l1) {
  ensure_tlb(c);
  uint32_t need = need_bit(acc);
  enum tlb_level l1 = (acc & ACC_X) ? TLBL_L1I : TLBL_L1D;
  const struct tlb_slot *s = model_tlb__lookup(&c->tlbm, l1, va, need, count_l1);
  if (!s && !count_l1) { /* the probe missed: count this lookup as the miss it is */
    c->tlbm.st.lookups[l1]++;
    c->tlbm.st.misses[l1]++;
  }
  if (!s) {
    c->cnt.tlb_misses++;
    const struct tlb_slot *s2 = model_tlb__lookup(&c->tlbm, TLBL_L2, va, need, true);
    if (s2) {
      fill_l1(c, l1, va, s2->gpa, s2->shift, s2->perm);
      *perm = s2->perm;
      return model_tlb__slot_page(s2, va);
    }
    model_cache__walk_begin(c, acc);
    if (c->vmcs.active && !model_vmcs__ept(&c->vmcs)) return shadow_translate(c, va, acc, perm, l1);
    unsigned start = model_tlb__pwc_start(&c->tlbm, va);
    uint64_t gpa;
    uint32_t pm;
    c->walk_start = (uint8_t)start;
    int err = model_mmu__walk(c, va, acc, &gpa, &pm, true);
    c->walk_start = 0;
    model_tlb__count_walk(&c->tlbm, start, c->walk_level);
    if (err) {
      c->cr2 = va;
      model__fault(c, X86_PF, (uint32_t)err & 0xffff, true);
    }
    unsigned shift = slot_shift(pm);
    if (model_vmcs__ept(&c->vmcs)) { /* the final guest-physical address through EPT */
      uint64_t hpa;
      c->xlat_gfn = (uint32_t)(gpa >> 12); /* translate()'s prefetch hint (0: none) */
      /* speed: the call's first step (the front's counted result) inline */
      if (!model_ept__front_counted(c, gpa, &hpa) &&
          model_ept__translate(c, gpa, acc, va, true, true, &hpa)) {
        /* misconfigured: MMIO outside RAM, the access becomes an MMIO exit
         * (EPT_MISCONFIG). No combined mapping is created from a
         * misconfigured EPT entry (SDM vol. 3C, "Creating and Using Cached
         * Translation Information"): nothing goes into the TLB, so every
         * access walks and exits again. The guest's paging-structure
         * caches keep what the walk read (those entries are good). */
        model_tlb__pwc_fill_from(&c->tlbm, va, start, c->walk_level);
        c->xlat_nocache = true;
        *perm = pm;
        return gpa & ~0xfffull;
      }
      gpa = hpa;
      shift = 12; /* the VMM's EPT maps 4 KiB pages: the TLB holds the smaller size; perm
                   * keeps TLBP_2M/1G so INVLPG drops every piece of the guest's page */
    }
    /* speed: start loading the data now, the TLB fills below overlap it */
    if (gpa < c->ram_size) __builtin_prefetch(c->ram + gpa);
    uint64_t page_gpa = gpa & ~((1ull << shift) - 1);
    model_tlb__pwc_fill_from(&c->tlbm, va, start, c->walk_level);
    fill_l2_l1(c, l1, va, page_gpa, shift, pm);
    *perm = pm;
    return gpa & ~0xfffull;
  }
  *perm = s->perm;
  return model_tlb__slot_page(s, va);
}

static inline __attribute__((always_inline)) struct model_tlb_entry *
translate_inline(struct model_cpu *c, uint64_t va, unsigned acc, bool count_l1) {
  if (!canonical(va)) model__gp0(c);
  bool front = !(acc & ACC_X) && !c->tlbm.front_off;
  const unsigned idx = (va >> 12) & (MODEL_TLB_SIZE - 1);
  struct model_tlb_entry *e = &c->tlb[idx];
  uint64_t tag = model_tlb__tag(c, va);
  if (front && e->tag == tag && (e->perm & need_bit(acc))) {
    if (count_l1) c->tlbm.st.front_hits++;
    return e;
  }
  uint32_t perm;
  /* speed: a slot whose tag went stale (its page left the L1 DTLB, or a
   * flush) still holds the host page it last mapped, most often va's page
   * again (gups: one slot per page of its 64 MiB table). Start loading the
   * data line now, so that the host's cache miss on it overlaps the TLB
   * model's lookups, walk and fills below instead of following them (the
   * prefetch after the walk came ~1,500 host instructions later); with it
   * the data caches' LLC tag set of that line and, under EPT, the EPT walk
   * front's entry of the guest frame the slot's last walk ended at (both
   * random host lines of 512 KiB arrays, read further down). Guesses only:
   * no modeled state reads them, a wrong one wastes a prefetch, and a
   * prefetch never faults. */
  if (e->host) {
    __builtin_prefetch(e->host + (va & 0xfff));
    model_cache__prefetch_sets(&c->cache, e->gpa + (va & 0xfff));
    if (e->hint) __builtin_prefetch(&c->tlbm.ept_front[e->hint & (EPT_FRONT - 1)]);
  }
  c->xlat_gfn = 0;
  c->xlat_nocache = false;
  uint64_t page = tlb_translate(c, va, acc, &perm, count_l1);
  if (c->xlat_nocache) front = false;
  uint8_t *host = model_mem__ptr(c, page, 4096);
  if (host && c->code_pages && c->code_pages[page >> 12]) {
    if (acc & ACC_W) { /* writing code: drop what was decoded from it */
      c->code_pages[page >> 12] = 0;
      model_cpu__flush_decoded(c);
    } else {
      perm &= ~((uint32_t)TLBP_W | (TLBP_W << 3));
    }
  }
  if (!front)
    e = &c->xlat;
  else {
    if (perm & TLBP_2M) c->tlb_has_2m = true;
    if (perm & TLBP_1G) c->tlb_has_1g = true;
  }
  e->tag = front ? tag : 0;
  if (front) {
    if (c->front_nlog < MODEL_FRONT_LOG) c->front_log[c->front_nlog] = (uint16_t)idx;
    if (c->front_nlog <= MODEL_FRONT_LOG) c->front_nlog++;
  }
  /* which of its lines are in L1 (model_cache__data sets them again). A slot
   * refilled with the page it held keeps them (speed: the re-translation after
   * every TLB flush): the data caches clear the bits of a line that leaves L1
   * or changes owner in every slot still holding its page, tag valid or not,
   * so they are exact while gpa is unchanged; L1 hits change no modeled state. */
  if (e->gpa != page || e->host != host) e->lines = 0;
  e->host = host;
  e->gpa = page;
  if (c->xlat_gfn) e->hint = c->xlat_gfn;
  e->perm = host ? perm : 0; /* non-RAM never takes the fast path */
  return e;
}

/* translate_inline(), out of line (speed: inline only in the slow paths'
 * common case, an access within one page) */
static __attribute__((noinline)) struct model_tlb_entry *translate(struct model_cpu *c, uint64_t va,
                                                                   unsigned acc, bool count_l1) {
  return translate_inline(c, va, acc, count_l1);
}

const struct model_tlb_entry *model_mmu__translate(struct model_cpu *c, uint64_t va, unsigned acc) {
  return translate(c, va, acc, true);
}

/* A fetch's lookup past the L1 ITLB's last hit (tlb_translate(): the lookup,
 * on a miss the L2 and the walk, then the fill). The last hit before it is
 * kept as a second memo (c->fetch_prev, model_tlb__lookup_prev()): code that
 * alternates between two pages finds the other one there without probing
 * (in forkwait native about 13 k of its 16 k fetches past the last hit at
 * n=500: kernel and user code, calls into other pages). After a fill the fetch of
 * the next instruction from the same page would probe the L1 ITLB again and
 * find the slot just filled (in forkwait shadow/flush, where every VM exit
 * flushes the TLBs, about one fetch per exit): the fill's slot becomes the
 * last hit at once when that lookup is sure to find it
 * (model_tlb__last_after_fill()), so that fetch takes the inline path. */
static uint64_t fetch_translate(struct model_cpu *c, uint64_t va, unsigned acc) {
  uint32_t perm;
  ensure_tlb(c);
  struct model_tlb *t = &c->tlbm;
  const struct tlb_slot *s = model_tlb__lookup_prev(t, TLBL_L1I, &c->fetch_prev, va, need_bit(acc));
  if (s) return model_tlb__slot_page(s, va);
  model_tlb__keep_prev(t, TLBL_L1I, &c->fetch_prev);
  uint64_t ins = t->ins[TLBL_L1I];
  uint16_t vpid = t->vpid;
  uint64_t gpa = tlb_translate(c, va, acc, &perm, true);
  if (t->ins[TLBL_L1I] == ins + 1) /* one L1I insert since the lookup: c->fill_l1i's */
    model_tlb__last_after_fill(t, TLBL_L1I, va, need_bit(acc), ins, vpid, c->fill_l1i);
  return gpa;
}

uint64_t model_mmu__fetch_page(struct model_cpu *c, uint64_t va, unsigned acc) {
  if (!canonical(va)) model__gp0(c);
  /* a fetch never writes: translate()'s code-page and front work is moot */
  c->xlat_nocache = false;
  if (c->tlbm.configured) { /* the L1 ITLB's last hit: most re-fetches after a flush */
    const struct tlb_slot *s = model_tlb__lookup_last(&c->tlbm, TLBL_L1I, va, need_bit(acc), true);
    if (s) return model_tlb__slot_page(s, va);
  }
  return fetch_translate(c, va, acc);
}

uint64_t model_mmu__fetch_past_last(struct model_cpu *c, uint64_t va) {
  return fetch_translate(c, va, ACC_X | model__uacc(c));
}

void model_mmu__translate_probe(struct model_cpu *c, uint64_t va, unsigned acc) {
  translate(c, va, acc, false);
}

uint64_t model_mmu__l1d_hits(const struct model_cpu *c) {
  return c->tlbm.st.hits[TLBL_L1D] + c->tlbm.st.front_hits;
}
uint64_t model_mmu__l1d_lookups(const struct model_cpu *c) {
  return c->tlbm.st.lookups[TLBL_L1D] + c->tlbm.st.front_hits;
}

/* MMIO: reads exit first and complete when the instruction is re-executed
 * with the VMM's data; writes complete and exit after the instruction. */
static uint64_t mmio_read(struct model_cpu *c, uint64_t gpa, unsigned len) {
  if (c->delivering >= 0)
    model__internal(c, "delivering vector %d reads MMIO at gpa 0x%llx: not modeled", c->delivering,
                    (unsigned long long)gpa);
  if (c->mmio.read_ready && c->mmio.gpa == gpa && c->mmio.len == len && !c->mmio.write) {
    c->mmio.read_ready = false;
    uint64_t v = 0;
    memcpy(&v, c->mmio.data, len);
    return v;
  }
  if (c->stop == MSTOP_MMIO)
    model__internal(c, "instruction at rip 0x%llx makes two MMIO accesses (0x%llx)",
                    (unsigned long long)c->rip, (unsigned long long)gpa);
  c->mmio.gpa = gpa;
  c->mmio.len = len;
  c->mmio.write = 0;
  memset(c->mmio.data, 0, sizeof c->mmio.data);
  c->stop = MSTOP_MMIO;
  longjmp(c->jb, MJ_STOP);
}

static void mmio_write(struct model_cpu *c, uint64_t gpa, unsigned len, uint64_t v) {
  if (c->delivering >= 0)
    model__internal(c, "delivering vector %d writes MMIO at gpa 0x%llx: not modeled", c->delivering,
                    (unsigned long long)gpa);
  if (c->stop == MSTOP_MMIO)
    model__internal(c, "instruction at rip 0x%llx makes two MMIO writes (0x%llx)",
                    (unsigned long long)c->rip, (unsigned long long)gpa);
  c->mmio.gpa = gpa;
  c->mmio.len = len;
  c->mmio.write = 1;
  memcpy(c->mmio.data, &v, len);
  c->stop = MSTOP_MMIO;
  c->slice_end = 0; /* leave after this instruction retires */
}

/* The data cache's part of a slow-path access through e (RAM only). */
static inline void cache_ref(struct model_cpu *c, struct model_tlb_entry *e, uint64_t va,
                             unsigned len, bool write) {
  if (e->host && !((e->lines >> ((va >> 6) & 63)) & 1)) model_cache__data(c, e, va, len, write);
}

uint64_t model_mmu__read_slow(struct model_cpu *c, uint64_t va, unsigned len, unsigned acc) {
  unsigned off = va & 0xfff;
  if (off + len <= 4096) {
    struct model_tlb_entry *e = translate_inline(c, va, acc, true);
    if (!e->host) return mmio_read(c, e->gpa + off, len);
    cache_ref(c, e, va, len, false);
    uint64_t v = 0;
    memcpy(&v, e->host + off, len);
    return v;
  }
  /* page-crossing: both translations first (fault before any effect) */
  unsigned n1 = 4096 - off;
  struct model_tlb_entry *e1 = translate(c, va, acc, true);
  uint8_t *h1 = e1->host;
  uint64_t g1 = e1->gpa;
  struct model_tlb_entry *e2 = translate(c, va + n1, acc, true);
  if (!h1 || !e2->host)
    model__internal(c, "page-crossing MMIO read at gva 0x%llx (gpa 0x%llx)", (unsigned long long)va,
                    (unsigned long long)(g1 + off));
  cache_ref(c, e2, va + n1, len - n1, false); /* e1 may be evicted: its line counts too */
  model_cache__data_line(c, g1 + off, false);
  uint8_t b[8];
  memcpy(b, h1 + off, n1);
  memcpy(b + n1, e2->host, len - n1);
  uint64_t v = 0;
  memcpy(&v, b, len);
  return v;
}

void model_mmu__write_slow(struct model_cpu *c, uint64_t va, unsigned len, uint64_t v,
                           unsigned acc) {
  unsigned off = va & 0xfff;
  if (off + len <= 4096) {
    struct model_tlb_entry *e = translate_inline(c, va, acc, true);
    if (!e->host) {
      mmio_write(c, e->gpa + off, len, v);
      return;
    }
    cache_ref(c, e, va, len, true);
    memcpy(e->host + off, &v, len);
    return;
  }
  unsigned n1 = 4096 - off;
  struct model_tlb_entry *e1 = translate(c, va, acc, true);
  uint8_t *h1 = e1->host;
  uint64_t g1 = e1->gpa;
  struct model_tlb_entry *e2 = translate(c, va + n1, acc, true);
  /* the first translation may have been evicted by the second: recheck */
  if (!h1 || !e2->host)
    model__internal(c, "page-crossing MMIO write at gva 0x%llx (gpa 0x%llx)",
                    (unsigned long long)va, (unsigned long long)(g1 + off));
  cache_ref(c, e2, va + n1, len - n1, true);
  model_cache__data_line(c, g1 + off, true);
  uint8_t b[8];
  memcpy(b, &v, len);
  memcpy(h1 + off, b, n1);
  memcpy(e2->host, b + n1, len - n1);
}

void model_mmu__read_bytes(struct model_cpu *c, uint64_t va, void *dst, unsigned len,
                           unsigned acc) {
  uint8_t *out = dst;
  while (len) {
    unsigned off = va & 0xfff, n = 4096 - off;
    if (n > len) n = len;
    struct model_tlb_entry *e = translate(c, va, acc, true);
    if (!e->host)
      model__internal(c, "access to non-RAM gpa 0x%llx (gva 0x%llx) where RAM is required",
                      (unsigned long long)(e->gpa + off), (unsigned long long)va);
    cache_ref(c, e, va, n, false);
    memcpy(out, e->host + off, n);
    out += n;
    va += n;
    len -= n;
  }
}
