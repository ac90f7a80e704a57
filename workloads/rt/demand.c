/* demand.c - the #PF handler of demand-paged regions (demand.h). */
#include "demand.h"

#include "pmem.h"
#include "trap.h"
#include "x86.h"

static struct demand *active;

/* Ring 0, once per fault: keep it short. */
static int demand__fault(struct trap_frame *f) {
  struct demand *d = active;
  uint64_t off = read_cr2() - d->va;
  if (off >= d->size || (f->error & 1) || d->next >= d->end) return 0;
  d->ptes[off >> 12] = d->next | PTE_P | PTE_W | PTE_U | PTE_NX;
  d->next += PAGE_SIZE;
  d->faults++;
  return 1;
}

uint64_t demand_bytes(uint64_t npages) {
  return npages * PAGE_SIZE + (npages + 511) / 512 * PAGE_SIZE + 2 * PAGE_SIZE;
}

int demand_init(struct demand *d, struct aspace *as, uint64_t va, uint64_t npages) {
  uint64_t *ptes = aspace_ptes(as, va, npages);
  uint64_t frames = ptes ? pmem_alloc_pages(npages) : 0;
  if (!frames) return -1;
  d->va = va;
  d->size = npages * PAGE_SIZE;
  d->ptes = ptes;
  d->next = frames;
  d->end = frames + npages * PAGE_SIZE;
  d->faults = 0;
  active = d;
  trap_set_handler(14, demand__fault);
  return 0;
}
