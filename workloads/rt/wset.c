/* wset.c - working-set set-up shared by gups and memstream (wset.h). */
#include "wset.h"

#include "aspace.h"
#include "pmem.h"
#include "printf.h"
#include "rt.h"

static struct aspace wset_as;

int wset_setup(uint64_t ws, uint64_t page) {
  if (page != PAGE_SIZE && page != PAGE_2M) {
    printf("vtb: parameter 'page'=%lu must be 4k (4096) or 2m (2097152)\n", page);
    return VTB_EXIT_BAD_PARAM;
  }
  if (ws % page) {
    printf("vtb: parameter 'ws'=%lu is not a multiple of the page size %lu (page=%s)\n", ws, page,
           page == PAGE_SIZE ? "4k" : "2m");
    return VTB_EXIT_BAD_PARAM;
  }
  /* Worst case for the alignment of a 2 MiB run: one block skipped. */
  int rc = pmem_check_param("ws", ws, ws + page + aspace_table_bytes(ws, page) + PAGE_SIZE);
  if (rc) return rc;
  uint64_t frames = pmem_alloc_run(ws, page);
  if (!frames || aspace_create(&wset_as) ||
      aspace_map(&wset_as, WSET_BASE, frames, ws,
                 AS_WRITE | AS_USER | AS_NX | (page == PAGE_2M ? AS_2M : 0)))
    return VTB_EXIT_NO_MEMORY;
  aspace_switch(&wset_as);
  return 0;
}
