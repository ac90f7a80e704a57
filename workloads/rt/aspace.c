/* aspace.c - 4-level page tables. Page-table pages are reached through the
 * identity map (PA == VA below 4 GiB). Writes go in runs of entries within
 * one table, so each table's written span is recorded once per run. */
#include "aspace.h"

#include "pmem.h"
#include "x86.h"

#define PTE_TABLE (PTE_P | PTE_W | PTE_U) /* intermediate entries: leaves decide */

struct aspace aspace_kernel;

void aspace__init(void) {
  aspace_kernel.pml4 = read_cr3() & PTE_ADDR;
  aspace_kernel.untracked = 1; /* the VMM's tables are not ours to free */
}

static inline uint64_t *table(uint64_t pa) {
  return (uint64_t *)(pa & PTE_ADDR);
}
static inline unsigned idx(uint64_t va, int level) {
  return (va >> (12 + 9 * level)) & 511;
}

static void track_run(struct aspace *as, uint64_t pa, uint64_t npages) {
  if (as->nruns == ASPACE_TRACK) {
    as->untracked = 1;
    return;
  }
  as->runs[as->nruns++] = (struct aspace_tables){pa, (uint32_t)npages, 0, 0};
}

/* Entries [i, i+n) of the table page at `pa` are about to be written. */
static void note(struct aspace *as, uint64_t pa, unsigned i, unsigned n) {
  for (unsigned r = 0; r < as->nruns; r++) {
    struct aspace_tables *t = &as->runs[r];
    if (pa - t->pa < (uint64_t)t->npages * PAGE_SIZE) {
      uint32_t lo = (uint32_t)((pa - t->pa) / 8) + i, hi = lo + n;
      if (t->lo == t->hi) t->lo = lo, t->hi = hi;
      if (lo < t->lo) t->lo = lo;
      if (hi > t->hi) t->hi = hi;
      return;
    }
  }
  as->untracked = 1;
}

int aspace_create(struct aspace *as) {
  uint64_t p = pmem_alloc();
  if (!p) return -1;
  as->pml4 = p;
  as->nruns = 0;
  as->untracked = 0;
  track_run(as, p, 1);
  note(as, p, 0, 1);
  table(p)[0] = table(aspace_kernel.pml4)[0]; /* shared identity map */
  return 0;
}

/* Entry at `level` (0 = PT) for va, creating tables above it; NULL when out of
 * memory or a large page is in the way. *tpa = the table holding it. */
static uint64_t *walk(struct aspace *as, uint64_t va, int level, int create, uint64_t *tpa) {
  uint64_t pa = as->pml4;
  for (int l = 3; l > level; l--) {
    uint64_t *e = &table(pa)[idx(va, l)];
    if (!(*e & PTE_P)) {
      if (!create) return 0;
      uint64_t p = pmem_alloc();
      if (!p) return 0;
      track_run(as, p, 1);
      note(as, pa, idx(va, l), 1);
      *e = p | PTE_TABLE;
    } else if (*e & PTE_PS) {
      return 0;
    }
    pa = *e & PTE_ADDR;
  }
  if (tpa) *tpa = pa;
  return &table(pa)[idx(va, level)];
}

static int private_range(uint64_t va, uint64_t size) {
  return va >= ASPACE_PRIVATE_BASE && va < ASPACE_PRIVATE_END && size <= ASPACE_PRIVATE_END - va;
}

int aspace_map(struct aspace *as, uint64_t va, uint64_t pa, uint64_t size, unsigned flags) {
  int level = (flags & AS_2M) ? 1 : 0;
  uint64_t step = level ? PAGE_2M : PAGE_SIZE;
  if (((va | pa | size) & (step - 1)) || !private_range(va, size)) return -1;
  uint64_t bits = PTE_P | ((flags & AS_WRITE) ? PTE_W : 0) | ((flags & AS_USER) ? PTE_U : 0) |
                  ((flags & AS_NX) ? PTE_NX : 0) | (level ? PTE_PS : 0);
  int current = (read_cr3() & PTE_ADDR) == as->pml4;
  uint64_t end = va + size;
  while (va < end) {
    uint64_t tpa;
    uint64_t *e = walk(as, va, level, 1, &tpa);
    if (!e) return -1;
    unsigned i = idx(va, level), n = 512 - i;
    if ((uint64_t)n > (end - va) / step) n = (unsigned)((end - va) / step);
    note(as, tpa, i, n);
    for (unsigned k = 0; k < n; k++, va += step, pa += step) {
      uint64_t old = e[k];
      e[k] = pa | bits;
      if (current && (old & PTE_P)) invlpg(va);
    }
  }
  return 0;
}

uint64_t *aspace_ptes(struct aspace *as, uint64_t va, uint64_t npages) {
  uint64_t nt = (npages + 511) / 512;
  if ((va & (PAGE_2M - 1)) || !npages || !private_range(va, npages * PAGE_SIZE)) return 0;
  uint64_t pt = pmem_alloc_pages(nt);
  if (!pt) return 0;
  track_run(as, pt, nt);
  note(as, pt, 0, (unsigned)npages);
  for (uint64_t t = 0; t < nt; t++) {
    uint64_t tpa;
    uint64_t *pde = walk(as, va + t * PAGE_2M, 1, 1, &tpa);
    if (!pde || (*pde & PTE_P)) return 0;
    note(as, tpa, idx(va + t * PAGE_2M, 1), 1);
    *pde = (pt + t * PAGE_SIZE) | PTE_TABLE;
  }
  return table(pt);
}

static void copy_entries(uint64_t *dst, const uint64_t *src, uint64_t n) {
  __asm__ volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

int aspace_copy(struct aspace *dst, const struct aspace *src, uint64_t va, uint64_t size) {
  if (((va | size) & PAGE_MASK_4K) || !private_range(va, size)) return -1;
  uint64_t end = va + size;
  struct aspace *s = (struct aspace *)src; /* walk without create does not write */
  while (va < end) {
    uint64_t next2m = (va & ~(PAGE_2M - 1)) + PAGE_2M, tpa;
    uint64_t *spde = walk(s, va, 1, 0, 0);
    if (!spde || !(*spde & PTE_P)) {
      va = next2m;
      continue;
    }
    if (*spde & PTE_PS) { /* a 2 MiB leaf: copy the entry itself */
      uint64_t *dpde = walk(dst, va, 1, 1, &tpa);
      if (!dpde) return -1;
      note(dst, tpa, idx(va, 1), 1);
      *dpde = *spde;
      va = next2m;
      continue;
    }
    unsigned i = idx(va, 0), n = 512 - i;
    if ((uint64_t)n > (end - va) / PAGE_SIZE) n = (unsigned)((end - va) / PAGE_SIZE);
    uint64_t *dpte = walk(dst, va, 0, 1, &tpa);
    if (!dpte) return -1;
    note(dst, tpa, i, n);
    copy_entries(dpte, &table(*spde)[i], n);
    va += (uint64_t)n * PAGE_SIZE;
  }
  return 0;
}

void aspace_unmap(struct aspace *as, uint64_t va, uint64_t size) {
  if (!private_range(va, size)) return;
  int current = (read_cr3() & PTE_ADDR) == as->pml4;
  uint64_t end = va + size;
  while (va < end) {
    uint64_t *pde = walk(as, va, 1, 0, 0);
    uint64_t step = PAGE_SIZE;
    if (pde && (*pde & PTE_PS)) {
      step = PAGE_2M;
      *pde = 0;
    } else {
      uint64_t *pte = walk(as, va, 0, 0, 0);
      if (pte) *pte = 0;
    }
    if (current) invlpg(va);
    va = (va & ~(step - 1)) + step;
  }
}

uint64_t aspace_translate(const struct aspace *as, uint64_t va) {
  uint64_t *t = table(as->pml4);
  for (int l = 3; l >= 0; l--) {
    uint64_t e = t[idx(va, l)];
    if (!(e & PTE_P)) return ~0ull;
    if (l == 0 || (e & PTE_PS)) {
      uint64_t mask = (1ull << (12 + 9 * l)) - 1;
      return ((e & PTE_ADDR) & ~mask) | (va & mask);
    }
    t = table(e);
  }
  return ~0ull;
}

void aspace_switch(const struct aspace *as) {
  write_cr3(as->pml4);
}

uint64_t aspace_table_bytes(uint64_t size, uint64_t page) {
  uint64_t pts = page == PAGE_SIZE ? (size + PAGE_2M - 1) / PAGE_2M : 0;
  uint64_t pds = (size + (1ull << 30) - 1) >> 30;
  uint64_t pdpts = (size + (1ull << 39) - 1) >> 39;
  return (pts + pds + pdpts + 1) * PAGE_SIZE;
}

static void free_level(uint64_t pa, int level) {
  uint64_t *t = table(pa);
  if (level > 0)
    for (unsigned i = 0; i < 512; i++)
      if ((t[i] & PTE_P) && !(t[i] & PTE_PS)) free_level(t[i], level - 1);
  pmem_free(pa & PTE_ADDR);
}

void aspace_destroy(struct aspace *as) {
  if (!as->pml4 || as->pml4 == aspace_kernel.pml4) return;
  if ((read_cr3() & PTE_ADDR) == as->pml4) aspace_switch(&aspace_kernel);
  if (as->untracked) {
    uint64_t *t = table(as->pml4);
    for (unsigned i = 1; i < 512; i++) /* entry 0 is the shared identity map */
      if (t[i] & PTE_P) free_level(t[i], 2);
    pmem_free(as->pml4);
  } else {
    for (unsigned r = 0; r < as->nruns; r++) {
      struct aspace_tables *t = &as->runs[r];
      if (t->hi > t->lo) pmem_zero(t->pa + (uint64_t)t->lo * 8, (uint64_t)(t->hi - t->lo) * 8);
      for (uint32_t k = 0; k < t->npages; k++)
        pmem_free_zeroed(t->pa + (uint64_t)k * PAGE_SIZE);
    }
  }
  as->pml4 = 0;
  as->nruns = 0;
}
