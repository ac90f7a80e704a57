/* pmem.c - bump allocator plus free lists for 4 KiB pages and 2 MiB blocks.
 * A freed page keeps the list link in its first 8 bytes and is zeroed when
 * handed out again. */
#include "pmem.h"

#include "kstring.h"

static uint64_t bump, end;
static int fresh_is_zero;
static uint64_t free4k, free2m; /* list heads (physical = virtual, identity map) */
static uint64_t nfree4k, nfree2m;

void pmem__init(uint64_t start, uint64_t limit, int prezeroed) {
  bump = (start + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
  end = limit & ~(PAGE_SIZE - 1);
  if (bump > end) bump = end;
  fresh_is_zero = prezeroed;
}

static uint64_t take_fresh(uint64_t bytes, uint64_t align) {
  uint64_t p = (bump + align - 1) & ~(align - 1);
  if (p < bump || p > end || bytes > end - p) return 0;
  /* Pages skipped for alignment are still fresh: keep them. */
  for (uint64_t q = bump; q < p; q += PAGE_SIZE)
    pmem_free(q);
  bump = p + bytes;
  if (!fresh_is_zero) memset((void *)p, 0, bytes);
  return p;
}

uint64_t pmem_alloc(void) {
  if (free4k) {
    uint64_t p = free4k;
    free4k = *(uint64_t *)p;
    nfree4k--;
    memset((void *)p, 0, PAGE_SIZE);
    return p;
  }
  return take_fresh(PAGE_SIZE, PAGE_SIZE);
}

uint64_t pmem_alloc_2m(void) {
  if (free2m) {
    uint64_t p = free2m;
    free2m = *(uint64_t *)p;
    nfree2m--;
    memset((void *)p, 0, PAGE_2M);
    return p;
  }
  return take_fresh(PAGE_2M, PAGE_2M);
}

uint64_t pmem_alloc_pages(uint64_t n) {
  if (n == 0 || n > (end - bump) / PAGE_SIZE) return 0;
  return take_fresh(n * PAGE_SIZE, PAGE_SIZE);
}

void pmem_free(uint64_t pa) {
  if (!pa) return;
  *(uint64_t *)pa = free4k;
  free4k = pa;
  nfree4k++;
}

void pmem_free_2m(uint64_t pa) {
  if (!pa) return;
  *(uint64_t *)pa = free2m;
  free2m = pa;
  nfree2m++;
}

uint64_t pmem_free_bytes(void) {
  return (end - bump) + nfree4k * PAGE_SIZE + nfree2m * PAGE_2M;
}
