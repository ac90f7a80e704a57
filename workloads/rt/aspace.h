/* aspace.h - address spaces: 4-level page tables with 4 KiB and 2 MiB pages.
 *
 * Every address space shares PML4 entry 0 (the boot identity map of
 * [0, 512 GiB): guest RAM and the MMIO window at VA == GPA, where the kernel,
 * the workload image and its stacks live) and owns the rest: private mappings
 * go at or above ASPACE_PRIVATE_BASE (512 GiB) and below 2^47.
 *
 * Ring-0 work is expensive on some hosts (each instruction emulated), so an
 * address space remembers the table pages it allocated and the span of
 * entries written in each: aspace_destroy zeroes just those spans (REP STOSQ)
 * and returns the pages as zero pages, instead of scanning and zeroing whole
 * tables. Past ASPACE_TRACK table runs it falls back to scanning. */
#ifndef RT_ASPACE_H
#define RT_ASPACE_H

#include <stdint.h>

#define ASPACE_PRIVATE_BASE (1ull << 39)
#define ASPACE_PRIVATE_END  (1ull << 47)

#define AS_WRITE (1u << 0)
#define AS_USER  (1u << 1)
#define AS_2M    (1u << 2) /* map with 2 MiB pages: va, pa, size 2 MiB aligned */
#define AS_NX    (1u << 3)

/* Page-table entry bits (the leaf entries aspace_ptes hands out). */
#define PTE_P    (1ull << 0)
#define PTE_W    (1ull << 1)
#define PTE_U    (1ull << 2)
#define PTE_PS   (1ull << 7)
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define ASPACE_TRACK 16

/* A run of contiguous table pages this space allocated; entries [lo, hi)
 * counted from the run's first entry may be nonzero. */
struct aspace_tables {
  uint64_t pa;
  uint32_t npages, lo, hi;
};

struct aspace {
  uint64_t pml4;  /* physical address of the PML4 page */
  unsigned nruns; /* tracked runs; run 0 is the PML4 */
  int untracked;  /* a table outside runs[]: destroy scans instead */
  struct aspace_tables runs[ASPACE_TRACK];
};

extern struct aspace aspace_kernel; /* the boot address space (CR3 at entry) */

int aspace_create(struct aspace *as); /* 0, or -1 when out of memory */
/* Map [va, va+size) to [pa, pa+size). -1 on bad alignment/range or no memory;
 * an existing mapping is replaced. */
int aspace_map(struct aspace *as, uint64_t va, uint64_t pa, uint64_t size, unsigned flags);
/* Page tables for [va, va + npages * 4 KiB) (va 2 MiB aligned, nothing mapped
 * there yet) in one contiguous run of table pages: returns the first leaf
 * entry, entry i maps va + i * 4 KiB (all not present), or NULL when out of
 * memory or misaligned. The caller writes the entries (PTE_* | frame). */
uint64_t *aspace_ptes(struct aspace *as, uint64_t va, uint64_t npages);
/* Copy src's leaf entries for [va, va+size) into dst (fork's page-table
 * copy: the frames are shared, not copied). va, size 4 KiB aligned; ranges
 * src has no tables for are skipped. 0, or -1 when out of memory. */
int aspace_copy(struct aspace *dst, const struct aspace *src, uint64_t va, uint64_t size);
/* Unmap [va, va+size); flushes the TLB entries when `as` is current. */
void aspace_unmap(struct aspace *as, uint64_t va, uint64_t size);
/* Physical address for va, or ~0 when unmapped. */
uint64_t aspace_translate(const struct aspace *as, uint64_t va);
void aspace_switch(const struct aspace *as); /* load CR3 (ring 0) */
void aspace_destroy(struct aspace *as);      /* free its private tables (not the pages mapped) */
/* Bytes of table pages mapping `size` bytes with pages of `page` bytes. */
uint64_t aspace_table_bytes(uint64_t size, uint64_t page);

void aspace__init(void);

#endif
