/* forkwait - n times: "fork" (create an address space and copy the parent's
 * page-table entries for `pages` pages: the frames are shared, vfork-like,
 * no copy-on-write), switch to the child, touch every page from the body,
 * "exit and wait" (switch back to the parent, destroy the child). The
 * address-space work is kernel work: from ring 3 (default) through the
 * runtime's system call SYS_KCALL, at cpl=0 called directly. Shadow
 * paging's worst case: fresh guest page tables every round, written while
 * possibly shadowed, a new root, hidden faults on every touch.
 *
 * The parent maps `pages` zero frames at 512 GiB. In round t the child
 * reads word 0 of each page (= t) and writes t + 1; afterwards the parent
 * reads each page's word 0 (= n):
 *   checksum = pages * n * (n + 1) / 2 mod 2^64; iterations = n. */
#include "rt.h"

#define BASE ASPACE_PRIVATE_BASE

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 800, 1, 1ull << 40, "fork/touch/exit/wait rounds"},
    {"pages", 64, 1, 1u << 18, "pages mapped by the parent, copied to each child"},
    VTB_PARAM_END,
};

static struct aspace parent, child;

static uint64_t fork_child(uint64_t size, uint64_t unused) {
  (void)unused;
  if (aspace_create(&child) || aspace_copy(&child, &parent, BASE, size)) return 1;
  aspace_switch(&child);
  return 0;
}

static uint64_t exit_child(uint64_t a, uint64_t b) {
  (void)a, (void)b;
  aspace_switch(&parent);
  aspace_destroy(&child);
  return 0;
}

static int setup(void) {
  uint64_t pages = param("pages");
  int rc = pmem_check_param(
      "pages", pages, pages * PAGE_SIZE + 2 * aspace_table_bytes(pages * PAGE_SIZE, PAGE_SIZE));
  if (rc) return rc;
  uint64_t frames = pmem_alloc_pages(pages);
  if (!frames || aspace_create(&parent) ||
      aspace_map(&parent, BASE, frames, pages * PAGE_SIZE, AS_WRITE | AS_USER | AS_NX))
    return VTB_EXIT_NO_MEMORY;
  aspace_switch(&parent);
  return 0;
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), pages = param("pages"), sum = 0;
  volatile uint64_t *base = (volatile uint64_t *)BASE;
  mark_begin();
  for (uint64_t t = 0; t < n; t++) {
    if (kcall(fork_child, pages * PAGE_SIZE, 0)) {
      mark_end();
      printf("vtb: forkwait: out of memory creating child %lu\n", t);
      return VTB_EXIT_NO_MEMORY;
    }
    for (uint64_t p = 0; p < pages; p++) {
      uint64_t v = base[p * 512];
      base[p * 512] = v + 1;
      sum += v;
    }
    kcall(exit_child, 0, 0);
  }
  mark_end();
  for (uint64_t p = 0; p < pages; p++)
    sum += base[p * 512];
  hc_report("forkwait.pages", pages);
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "forkwait",
    .desc = "create an address space, copy the parent's mappings, touch, switch back, destroy",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .setup = setup,
    .run = run,
};
