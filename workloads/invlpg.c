/* invlpg - N rounds of INVLPG over `pages` pages whose mappings never
 * change, each round followed by a read of every page: the cost of the TLB
 * invalidation alone. The pages are the first `pages` 4 KiB pages of a
 * working set mapped with 4 KiB or 2 MiB pages (rt/wset.c). The kernel
 * invalidates them all, from ring 3 (default) through the runtime's system
 * call (SYS_KCALL), at cpl=0 called directly; the body then reads word 0 of
 * each page. Under shadow paging each INVLPG exits, and a shadow MMU whose
 * entries were kept in sync has nothing to refill afterwards (KVM's does
 * not refill, docs/VALIDATION.md); under EPT nothing exits.
 *
 * Page j holds marker(j) = vtb_mix64(0x696e766c7067 ^ j) ("invlpg") in word
 * 0, written before the timed region, and one round runs before it too (the
 * first touches of the pages and of the kernel path happen there):
 *   checksum = n * sum_{j<pages} marker(j) mod 2^64; iterations = n.
 * Reports invlpg.pages. */
#include "rt.h"
#include "wset.h"

#define TAG 0x696e766c7067ull

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 4000, 1, 1ull << 40, "rounds (each: INVLPG of every page, then a read of each)"},
    {"pages", 64, 1, 512, "4 KiB pages invalidated and read per round"},
    {"page", 4096, 4096, 2ull << 20, "page size of the mapping: 4k or 2m"},
    VTB_PARAM_END,
};

/* Ring 0: the kernel side of one round. */
static uint64_t invalidate(uint64_t npages, uint64_t unused) {
  (void)unused;
  for (uint64_t j = 0; j < npages; j++)
    invlpg(WSET_BASE + j * PAGE_SIZE);
  return 0;
}

static int setup(void) {
  uint64_t page = param("page"), bytes = param("pages") * PAGE_SIZE;
  return wset_setup((bytes + page - 1) / page * page, page);
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), np = param("pages"), sum = 0;
  for (uint64_t j = 0; j < np; j++) /* the first touches: the fills happen here */
    *(volatile uint64_t *)(WSET_BASE + j * PAGE_SIZE) = vtb_mix64(TAG ^ j);
  kcall(invalidate, np, 0); /* and the kernel path's first touches */
  for (uint64_t j = 0; j < np; j++)
    (void)*(volatile uint64_t *)(WSET_BASE + j * PAGE_SIZE);
  mark_begin();
  for (uint64_t i = 0; i < n; i++) {
    kcall(invalidate, np, 0);
    for (uint64_t j = 0; j < np; j++)
      sum += *(volatile uint64_t *)(WSET_BASE + j * PAGE_SIZE);
  }
  mark_end();
  hc_report("invlpg.pages", np);
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "invlpg",
    .desc = "N rounds of INVLPG over unchanged mappings, each page read after: TLB invalidation "
            "alone",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .setup = setup,
    .run = run,
};
