/* pmem.h - physical page allocator over boot info's [free_start, free_end).
 *
 * Fresh memory comes from a bump pointer and is already zero (the VMM
 * zero-fills it), so it is never written here: ring-0 work is expensive on
 * some hosts (each REP iteration is emulated like an instruction). Freed
 * pages go on one of two lists: pages the caller guarantees are zero
 * (pmem_free_zeroed: only the list link is cleared on reuse) and dirty ones
 * (pmem_free: zeroed with REP STOSQ on reuse). Allocation prefers zero pages,
 * then fresh memory, then dirty pages. On the QEMU PVH path nothing promises
 * zeroed RAM, so fresh memory is zeroed too. */
#ifndef RT_PMEM_H
#define RT_PMEM_H

#include <stdint.h>

#define PAGE_SIZE    4096ull
#define PAGE_2M      (2ull << 20)
#define PAGE_MASK_4K (PAGE_SIZE - 1)

void pmem__init(uint64_t start, uint64_t end, int prezeroed);
uint64_t pmem_alloc(void);             /* one zeroed 4 KiB page, 0 when out */
uint64_t pmem_alloc_2m(void);          /* one zeroed 2 MiB-aligned 2 MiB block, 0 when out */
uint64_t pmem_alloc_pages(uint64_t n); /* n contiguous zeroed pages, 0 when out */
/* `bytes` (a multiple of 4 KiB) of contiguous zeroed fresh memory aligned to
 * `align` (a power of two >= 4 KiB); 0 when out. */
uint64_t pmem_alloc_run(uint64_t bytes, uint64_t align);
void pmem_free(uint64_t pa);        /* a page from pmem_alloc (any content) */
void pmem_free_zeroed(uint64_t pa); /* a page whose 4 KiB are all zero */
void pmem_free_2m(uint64_t pa);     /* a block from pmem_alloc_2m */
uint64_t pmem_free_bytes(void);     /* bytes still available */
uint64_t pmem_fresh_bytes(void);    /* of which contiguous fresh memory (for runs) */

/* Whether `bytes` of contiguous fresh memory are available for what
 * parameter `key` = `value` asks: 0 if so, else a message naming the
 * parameter and VTB_EXIT_BAD_PARAM (2), for a workload's setup to return. */
int pmem_check_param(const char *key, uint64_t value, uint64_t bytes);

/* Zero `bytes` (a multiple of 8) at pa with REP STOSQ. */
void pmem_zero(uint64_t pa, uint64_t bytes);

#endif
