/* pmem.h - physical page allocator over boot info's [free_start, free_end).
 *
 * Fresh memory comes from a bump pointer and is already zero (the VMM
 * zero-fills it), so it is never written here: ring-0 work is expensive on
 * some hosts. Freed pages go on free lists and are zeroed when reused. On the
 * QEMU PVH path nothing promises zeroed RAM, so every page is zeroed. */
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
void pmem_free(uint64_t pa);           /* a page from pmem_alloc */
void pmem_free_2m(uint64_t pa);        /* a block from pmem_alloc_2m */
uint64_t pmem_free_bytes(void);        /* bytes still available (approximate) */

#endif
