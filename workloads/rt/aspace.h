/* aspace.h - address spaces: 4-level page tables with 4 KiB and 2 MiB pages.
 *
 * Every address space shares PML4 entry 0 (the boot identity map of
 * [0, 512 GiB): guest RAM and the MMIO window at VA == GPA, where the kernel,
 * the workload image and its stacks live) and owns the rest: private mappings
 * go at or above ASPACE_PRIVATE_BASE (512 GiB) and below 2^47. */
#ifndef RT_ASPACE_H
#define RT_ASPACE_H

#include <stdint.h>

#define ASPACE_PRIVATE_BASE (1ull << 39)
#define ASPACE_PRIVATE_END  (1ull << 47)

#define AS_WRITE (1u << 0)
#define AS_USER  (1u << 1)
#define AS_2M    (1u << 2) /* map with 2 MiB pages: va, pa, size 2 MiB aligned */
#define AS_NX    (1u << 3)

struct aspace {
  uint64_t pml4; /* physical address of the PML4 page */
};

extern struct aspace aspace_kernel; /* the boot address space (CR3 at entry) */

int aspace_create(struct aspace *as); /* 0, or -1 when out of memory */
/* Map [va, va+size) to [pa, pa+size). -1 on bad alignment/range or no memory;
 * an existing mapping is replaced. */
int aspace_map(struct aspace *as, uint64_t va, uint64_t pa, uint64_t size, unsigned flags);
/* Unmap [va, va+size); flushes the TLB entries when `as` is current. */
void aspace_unmap(struct aspace *as, uint64_t va, uint64_t size);
/* Physical address for va, or ~0 when unmapped. */
uint64_t aspace_translate(const struct aspace *as, uint64_t va);
void aspace_switch(const struct aspace *as); /* load CR3 (ring 0) */
void aspace_destroy(struct aspace *as);      /* free its private tables (not the pages mapped) */

void aspace__init(void);

#endif
