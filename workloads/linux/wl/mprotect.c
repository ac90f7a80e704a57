/* mprotect - mprotect/munmap churn, the kernel's TLB-shootdown paths: a
 * region of `pages` pages is made read-only and read (mprotect rewrites
 * every PTE and flushes their TLB entries: INVLPG per page up to the
 * kernel's ceiling of 33, a full flush above), made writable again, and
 * one page of it is unmapped and mapped afresh (munmap: zap and flush;
 * mmap MAP_FIXED and a first-touch fault), n rounds. Under shadow paging
 * every PTE change and flush is the VMM's work.
 *
 * All words start at 0. Round t (t < n): read word 0 of every page (sum
 * them), then page k = t % pages is replaced by a fresh page whose word 0
 * is set to t + 1. So page j holds t' + 1 for the last t' < t with
 * t' % pages == j, or 0:
 *   checksum = sum over rounds and pages of those values;  iterations = n.
 * Reports mprotect.pages. */
#include "lx.h"
#include "lx_mem.h"

static const struct vtb_param params[] = {
    {"n", 3000, 1, 1ull << 32, "rounds"},
    {"pages", 16, 1, 1u << 16, "pages in the region"},
    VTB_PARAM_END,
};

static volatile uint64_t *region;

static int setup(void) {
  uint64_t pages = param("pages");
  int rc = lx_check_mem("pages", pages, pages * 4096);
  if (rc) return rc;
  region = sys_mmap(0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (sys_mmap_failed((void *)region)) return lx_syserr("mprotect: mmap", (long)region);
  for (uint64_t j = 0; j < pages; j++)
    region[j * 512] = 0;
  return 0;
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), pages = param("pages"), len = pages * 4096, sum = 0;
  void *base = (void *)region;
  long r = 0;
  const char *what = "";
  mark_begin();
  for (uint64_t t = 0; t < n; t++) {
    if ((r = sys_mprotect(base, len, PROT_READ))) {
      what = "mprotect: mprotect(PROT_READ)";
      break;
    }
    for (uint64_t j = 0; j < pages; j++)
      sum += region[j * 512];
    if ((r = sys_mprotect(base, len, PROT_READ | PROT_WRITE))) {
      what = "mprotect: mprotect(PROT_READ | PROT_WRITE)";
      break;
    }
    uint64_t k = t % pages;
    void *pg = (uint8_t *)base + k * 4096;
    if ((r = sys_munmap(pg, 4096))) {
      what = "mprotect: munmap";
      break;
    }
    void *q =
        sys_mmap(pg, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (q != pg) {
      r = sys_mmap_failed(q) ? (long)q : -EFAULT;
      what = "mprotect: mmap MAP_FIXED";
      break;
    }
    region[k * 512] = t + 1;
  }
  mark_end();
  if (r) return lx_syserr(what, r);
  hc_report("mprotect.pages", pages);
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct lx_workload lx_wl_mprotect = {
    .name = "mprotect",
    .desc = "mprotect and munmap/mmap churn on a small region: PTE rewrites and TLB flushes",
    .params = params,
    .setup = setup,
    .run = run,
};
