/* wset.h - a working set for the memory workloads: `ws` bytes of fresh zero
 * frames mapped at ASPACE_PRIVATE_BASE in a private address space with
 * 4 KiB or 2 MiB pages (user, writable, NX), built at set-up time (ring 0,
 * outside the timed region) and made current. */
#ifndef RT_WSET_H
#define RT_WSET_H

#include <stdint.h>

#define WSET_BASE 0x8000000000ull /* ASPACE_PRIVATE_BASE: 512 GiB */

/* Checks parameters `ws` (multiple of the page size) and `page` (4k or 2m,
 * i.e. 4096 or 2097152) and that the memory is free, naming the parameter
 * in the message; then maps. 0, VTB_EXIT_BAD_PARAM or VTB_EXIT_NO_MEMORY. */
int wset_setup(uint64_t ws, uint64_t page);

#endif
