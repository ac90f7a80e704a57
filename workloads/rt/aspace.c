/* aspace.c - 4-level page tables. Page-table pages are reached through the
 * identity map (PA == VA below 4 GiB). */
#include "aspace.h"

#include "pmem.h"
#include "x86.h"

#define PTE_P     (1ull << 0)
#define PTE_W     (1ull << 1)
#define PTE_U     (1ull << 2)
#define PTE_PS    (1ull << 7)
#define PTE_NX    (1ull << 63)
#define PTE_ADDR  0x000ffffffffff000ull
#define PTE_TABLE (PTE_P | PTE_W | PTE_U) /* intermediate entries: leaves decide */

struct aspace aspace_kernel;

void aspace__init(void) {
  aspace_kernel.pml4 = read_cr3() & PTE_ADDR;
}

static inline uint64_t *table(uint64_t pa) {
  return (uint64_t *)(pa & PTE_ADDR);
}
static inline unsigned idx(uint64_t va, int level) {
  return (va >> (12 + 9 * level)) & 511;
}

int aspace_create(struct aspace *as) {
  uint64_t p = pmem_alloc();
  if (!p) return -1;
  table(p)[0] = table(aspace_kernel.pml4)[0]; /* shared identity map */
  as->pml4 = p;
  return 0;
}

/* Entry at `level` (0 = PT) for va, creating tables above it; NULL when out of
 * memory or a large page is in the way. */
static uint64_t *walk(struct aspace *as, uint64_t va, int level, int create) {
  uint64_t *t = table(as->pml4);
  for (int l = 3; l > level; l--) {
    uint64_t *e = &t[idx(va, l)];
    if (!(*e & PTE_P)) {
      if (!create) return 0;
      uint64_t p = pmem_alloc();
      if (!p) return 0;
      *e = p | PTE_TABLE;
    } else if (*e & PTE_PS) {
      return 0;
    }
    t = table(*e);
  }
  return &t[idx(va, level)];
}

static int private_range(uint64_t va, uint64_t size) {
  return va >= ASPACE_PRIVATE_BASE && va < ASPACE_PRIVATE_END && size <= ASPACE_PRIVATE_END - va;
}

int aspace_map(struct aspace *as, uint64_t va, uint64_t pa, uint64_t size, unsigned flags) {
  uint64_t step = (flags & AS_2M) ? PAGE_2M : PAGE_SIZE;
  if (((va | pa | size) & (step - 1)) || !private_range(va, size)) return -1;
  uint64_t bits = PTE_P | ((flags & AS_WRITE) ? PTE_W : 0) | ((flags & AS_USER) ? PTE_U : 0) |
                  ((flags & AS_NX) ? PTE_NX : 0) | ((flags & AS_2M) ? PTE_PS : 0);
  int current = (read_cr3() & PTE_ADDR) == as->pml4;
  for (uint64_t off = 0; off < size; off += step) {
    uint64_t *e = walk(as, va + off, (flags & AS_2M) ? 1 : 0, 1);
    if (!e) return -1;
    uint64_t old = *e;
    *e = (pa + off) | bits;
    if (current && (old & PTE_P)) invlpg(va + off);
  }
  return 0;
}

void aspace_unmap(struct aspace *as, uint64_t va, uint64_t size) {
  if (!private_range(va, size)) return;
  int current = (read_cr3() & PTE_ADDR) == as->pml4;
  uint64_t end = va + size;
  while (va < end) {
    uint64_t *pde = walk(as, va, 1, 0);
    uint64_t step = PAGE_SIZE;
    if (pde && (*pde & PTE_PS)) {
      step = PAGE_2M;
      *pde = 0;
    } else {
      uint64_t *pte = walk(as, va, 0, 0);
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
  uint64_t *t = table(as->pml4);
  for (unsigned i = 1; i < 512; i++) /* entry 0 is the shared identity map */
    if (t[i] & PTE_P) free_level(t[i], 2);
  pmem_free(as->pml4);
  as->pml4 = 0;
}
