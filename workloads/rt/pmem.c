/* pmem.c - bump allocator plus free lists for 4 KiB pages and 2 MiB blocks.
 * A freed page keeps the list link in its first 8 bytes. */
#include "pmem.h"

#include "printf.h"

static uint64_t bump, end;
static int fresh_is_zero;
static uint64_t free_zero, free_dirty, free2m; /* list heads (PA == VA, identity map) */
static uint64_t nfree_zero, nfree_dirty, nfree2m;

void pmem__init(uint64_t start, uint64_t limit, int prezeroed) {
  bump = (start + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
  end = limit & ~(PAGE_SIZE - 1);
  if (bump > end) bump = end;
  fresh_is_zero = prezeroed;
}

void pmem_zero(uint64_t pa, uint64_t bytes) {
  void *d = (void *)pa;
  uint64_t n = bytes / 8;
  __asm__ volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(0ull) : "memory");
}

static uint64_t take_fresh(uint64_t bytes, uint64_t align) {
  uint64_t p = (bump + align - 1) & ~(align - 1);
  if (p < bump || p > end || bytes > end - p) return 0;
  /* Pages skipped for alignment are still fresh: keep them. */
  for (uint64_t q = bump; q < p; q += PAGE_SIZE)
    fresh_is_zero ? pmem_free_zeroed(q) : pmem_free(q);
  bump = p + bytes;
  if (!fresh_is_zero) pmem_zero(p, bytes);
  return p;
}

static uint64_t pop(uint64_t *head, uint64_t *count) {
  uint64_t p = *head;
  *head = *(uint64_t *)p;
  *(uint64_t *)p = 0;
  --*count;
  return p;
}

uint64_t pmem_alloc(void) {
  if (free_zero) return pop(&free_zero, &nfree_zero);
  uint64_t p = take_fresh(PAGE_SIZE, PAGE_SIZE);
  if (p || !free_dirty) return p;
  p = pop(&free_dirty, &nfree_dirty);
  pmem_zero(p, PAGE_SIZE);
  return p;
}

uint64_t pmem_alloc_2m(void) {
  if (free2m) {
    uint64_t p = pop(&free2m, &nfree2m);
    pmem_zero(p, PAGE_2M);
    return p;
  }
  return take_fresh(PAGE_2M, PAGE_2M);
}

uint64_t pmem_alloc_pages(uint64_t n) {
  if (n == 0 || n > (end - bump) / PAGE_SIZE) return 0;
  return take_fresh(n * PAGE_SIZE, PAGE_SIZE);
}

uint64_t pmem_alloc_run(uint64_t bytes, uint64_t align) {
  if (bytes == 0 || (bytes & PAGE_MASK_4K) || align < PAGE_SIZE || (align & (align - 1))) return 0;
  return take_fresh(bytes, align);
}

void pmem_free(uint64_t pa) {
  if (!pa) return;
  *(uint64_t *)pa = free_dirty;
  free_dirty = pa;
  nfree_dirty++;
}

void pmem_free_zeroed(uint64_t pa) {
  if (!pa) return;
  *(uint64_t *)pa = free_zero;
  free_zero = pa;
  nfree_zero++;
}

void pmem_free_2m(uint64_t pa) {
  if (!pa) return;
  *(uint64_t *)pa = free2m;
  free2m = pa;
  nfree2m++;
}

uint64_t pmem_free_bytes(void) {
  return (end - bump) + (nfree_zero + nfree_dirty) * PAGE_SIZE + nfree2m * PAGE_2M;
}

uint64_t pmem_fresh_bytes(void) {
  return end - bump;
}

int pmem_check_param(const char *key, uint64_t value, uint64_t bytes) {
  if (bytes <= end - bump) return 0;
  printf("vtb: parameter '%s'=%lu needs %lu KiB of guest memory but only %lu KiB are free "
         "(lower %s or raise refvmm --mem)\n",
         key, value, bytes >> 10, (end - bump) >> 10, key);
  return 2;
}
