/* demand.h - a demand-paged region: 4 KiB pages mapped by the guest's own
 * #PF handler on first touch.
 *
 * demand_init reserves everything at set-up time, so the fault path stays a
 * handful of ring-0 instructions (each one emulated on some hosts): the page
 * tables (one contiguous run, so the leaf entry for page i is ptes[i]) and a
 * pool of zero frames. The #PF handler (vector 14, trap_set_handler) takes a
 * not-present fault inside the region, maps the next pool frame there
 * (user, writable, NX) and resumes; any other #PF is left to the runtime's
 * unhandled-exception report. One region is active at a time. */
#ifndef RT_DEMAND_H
#define RT_DEMAND_H

#include <stdint.h>

#include "aspace.h"

struct demand {
  uint64_t va, size;        /* the region */
  uint64_t *ptes;           /* leaf entries, ptes[i] maps va + i * 4 KiB */
  uint64_t next, end;       /* frame pool [next, end) */
  volatile uint64_t faults; /* faults handled */
};

/* Region of npages at va (2 MiB aligned) in `as`; makes it the active one.
 * 0, or -1 when out of memory (needs npages frames plus the tables). */
int demand_init(struct demand *d, struct aspace *as, uint64_t va, uint64_t npages);
/* Bytes demand_init needs for npages. */
uint64_t demand_bytes(uint64_t npages);

#endif
