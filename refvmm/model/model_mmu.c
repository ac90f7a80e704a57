/* model_mmu.c - native-mode guest paging for the model CPU: the 4-level walk
 * (4 KiB, 2 MiB, 1 GiB pages; A/D bits; U/S, R/W, NX, CR0.WP; reserved bits),
 * a direct-mapped translation cache in front of it, and the slow paths of
 * data access (page-crossing, MMIO, writes to pages holding decoded code).
 *
 * Every guest-physical reference goes through model_mem__ptr(), which only
 * yields pointers wholly inside guest RAM. Part 2 (issue 6) replaces the
 * translation cache with the TLB model behind model_mmu__translate().
 */
#include <string.h>

#include "model_cpu.h"

#define PTE_P      (1ull << 0)
#define PTE_W      (1ull << 1)
#define PTE_U      (1ull << 2)
#define PTE_A      (1ull << 5)
#define PTE_D      (1ull << 6)
#define PTE_PS     (1ull << 7)
#define PTE_NX     (1ull << 63)
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
  c->cnt.walks++;
  for (int level = 4; level >= 1; level--) {
    unsigned shift = 12 + 9 * (level - 1);
    ea = table + ((va >> shift) & 511) * 8;
    c->cnt.walk_refs++;
    uint8_t *p = model_mem__ptr(c, ea, 8);
    if (!p) return (int)pf_err(acc, c); /* table outside RAM: not present */
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
  *perm = pm;
  *gpa = (e & PADDR_MASK & ~page_mask) | (va & page_mask);
  return 0;
}

void model_mmu__flush(struct model_cpu *c) {
  c->tlb_gen_tag += 1ull << TLB_GEN_SHIFT; /* every entry's tag is stale now */
  if (!c->tlb_gen_tag) {                   /* generations wrapped: clear for real */
    memset(c->tlb, 0, sizeof c->tlb);
    c->tlb_gen_tag = 1ull << TLB_GEN_SHIFT;
  }
  c->tlb_has_2m = c->tlb_has_1g = false;
  c->cnt.tlb_flushes++;
  model_cpu__flush_decoded(c);
}

static void drop(struct model_cpu *c, uint64_t va) {
  struct model_tlb_entry *e = &c->tlb[(va >> 12) & (MODEL_TLB_SIZE - 1)];
  if (e->tag == model_tlb__tag(c, va)) e->tag = 0;
}

void model_mmu__flush_va(struct model_cpu *c, uint64_t va) {
  if (c->tlb_has_1g) { /* pieces of a 1 GiB page may sit anywhere: flush all */
    model_mmu__flush(c);
    return;
  }
  if (c->tlb_has_2m) /* the 4 KiB pieces of a 2 MiB page around va */
    for (uint64_t i = 0; i < 512; i++)
      drop(c, (va & ~0x1fffffull) + (i << 12));
  else
    drop(c, va);
  model_cpu__flush_decoded(c);
}

void model_mmu__mark_code(struct model_cpu *c, uint64_t gpa) {
  uint64_t pfn = gpa >> 12;
  if (!c->code_pages || gpa >= c->ram_size || c->code_pages[pfn]) return;
  c->code_pages[pfn] = 1;
  for (unsigned i = 0; i < MODEL_TLB_SIZE; i++)
    if (c->tlb[i].tag && (c->tlb[i].gpa >> 12) == pfn)
      c->tlb[i].perm &= ~((uint32_t)TLBP_W | (TLBP_W << 3));
}

static inline uint32_t need_bit(unsigned acc) {
  uint32_t b = (acc & ACC_X) ? TLBP_X : (acc & ACC_W) ? TLBP_W : TLBP_R;
  return (acc & ACC_U) ? b << 3 : b;
}

const struct model_tlb_entry *model_mmu__translate(struct model_cpu *c, uint64_t va, unsigned acc) {
  if (!canonical(va)) model__gp0(c);
  struct model_tlb_entry *e = &c->tlb[(va >> 12) & (MODEL_TLB_SIZE - 1)];
  uint64_t tag = model_tlb__tag(c, va);
  if (e->tag == tag && (e->perm & need_bit(acc))) return e;
  c->cnt.tlb_misses++;
  uint64_t gpa;
  uint32_t perm;
  int err = model_mmu__walk(c, va, acc, &gpa, &perm, true);
  if (err) {
    c->cr2 = va;
    model__fault(c, X86_PF, (uint32_t)err & 0xffff, true);
  }
  uint64_t page = gpa & ~0xfffull;
  uint8_t *host = model_mem__ptr(c, page, 4096);
  if (host && c->code_pages && c->code_pages[page >> 12]) {
    if (acc & ACC_W) { /* writing code: drop what was decoded from it */
      c->code_pages[page >> 12] = 0;
      model_cpu__flush_decoded(c);
    } else {
      perm &= ~((uint32_t)TLBP_W | (TLBP_W << 3));
    }
  }
  if (perm & TLBP_2M) c->tlb_has_2m = true;
  if (perm & TLBP_1G) c->tlb_has_1g = true;
  e->tag = tag;
  e->host = host;
  e->gpa = page;
  e->perm = host ? perm : 0; /* non-RAM never takes the fast path */
  return e;
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

uint64_t model_mmu__read_slow(struct model_cpu *c, uint64_t va, unsigned len, unsigned acc) {
  unsigned off = va & 0xfff;
  if (off + len <= 4096) {
    const struct model_tlb_entry *e = model_mmu__translate(c, va, acc);
    if (!e->host) return mmio_read(c, e->gpa + off, len);
    uint64_t v = 0;
    memcpy(&v, e->host + off, len);
    return v;
  }
  /* page-crossing: both translations first (fault before any effect) */
  unsigned n1 = 4096 - off;
  const struct model_tlb_entry *e1 = model_mmu__translate(c, va, acc);
  uint8_t *h1 = e1->host;
  uint64_t g1 = e1->gpa;
  const struct model_tlb_entry *e2 = model_mmu__translate(c, va + n1, acc);
  if (!h1 || !e2->host)
    model__internal(c, "page-crossing MMIO read at gva 0x%llx (gpa 0x%llx)", (unsigned long long)va,
                    (unsigned long long)(g1 + off));
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
    const struct model_tlb_entry *e = model_mmu__translate(c, va, acc);
    if (!e->host) {
      mmio_write(c, e->gpa + off, len, v);
      return;
    }
    memcpy(e->host + off, &v, len);
    return;
  }
  unsigned n1 = 4096 - off;
  const struct model_tlb_entry *e1 = model_mmu__translate(c, va, acc);
  uint8_t *h1 = e1->host;
  uint64_t g1 = e1->gpa;
  const struct model_tlb_entry *e2 = model_mmu__translate(c, va + n1, acc);
  /* the first translation may have been evicted by the second: recheck */
  if (!h1 || !e2->host)
    model__internal(c, "page-crossing MMIO write at gva 0x%llx (gpa 0x%llx)",
                    (unsigned long long)va, (unsigned long long)(g1 + off));
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
    const struct model_tlb_entry *e = model_mmu__translate(c, va, acc);
    if (!e->host)
      model__internal(c, "access to non-RAM gpa 0x%llx (gva 0x%llx) where RAM is required",
                      (unsigned long long)(e->gpa + off), (unsigned long long)va);
    memcpy(out, e->host + off, n);
    out += n;
    va += n;
    len -= n;
  }
}
