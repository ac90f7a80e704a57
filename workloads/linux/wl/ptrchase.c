/* ptrchase - memory reference latency as a Linux process: n dependent loads
 * through a random cyclic permutation of the cache lines of a working set of
 * ws bytes (the freestanding ptrchase's algorithm and checksum). With a
 * working set beyond the TLB's reach (4 KiB pages: ws >> ~6 MiB) nearly
 * every load also misses the TLB: a page walk through the kernel's page
 * tables, two-dimensional under EPT; page=2m asks for transparent huge pages.
 *
 * L = ws / 64 lines; before the region the permutation is built with
 * Sattolo's algorithm from x = seed (xorshift64: x ^= x << 13; x ^= x >> 7;
 * x ^= x << 17; j = x % i for i = L-1 down to 1, swap a[i], a[j]); the
 * chase starts at line 0, p_k = a[p_{k-1}]:
 *   checksum = sum_{k=1..n} p_k;  iterations = n.
 * Reports ptrchase.ws, ptrchase.lines, ptrchase.page and ptrchase.huge_kb
 * (memory the kernel backed with huge pages). */
#include "lx.h"
#include "lx_mem.h"
#include "wl_memory.h"

#define LINE WL_LINE

static const struct vtb_param params[] = {
    {"n", 2000000, 1, 1ull << 40, "dependent loads"},
    {"ws", 64ull << 20, 2 * LINE, 2ull << 30, "working set in bytes (multiple of 64)"},
    {"page", 4096, 4096, 2ull << 20, "page size: 4k or 2m"},
    {"seed", 1, 1, ~0ull, "xorshift64 seed (nonzero)"},
    VTB_PARAM_END,
};

static uint8_t *base;

static int setup(void) {
  uint64_t ws = param("ws"), page = param("page");
  if (ws % LINE) {
    printf("vtb: parameter 'ws'=%lu is not a multiple of the line size 64\n", ws);
    return VTB_EXIT_BAD_PARAM;
  }
  if (page != 4096 && page != (2ull << 20)) return lx_wset(ws, page, &base); /* names 'page' */
  return lx_wset((ws + page - 1) / page * page, page, &base);
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), lines = param("ws") / LINE, x = param("seed"), sum = 0;
  wl_ptrchase_build(base, lines, x);
  const uint64_t *p = (const uint64_t *)base;
  mark_begin();
  for (uint64_t k = 0; k < n; k++) {
    p = (const uint64_t *)*p;
    sum += ((uint64_t)p - (uint64_t)base) / LINE; /* off the dependency chain */
  }
  mark_end();
  hc_report("ptrchase.ws", param("ws"));
  hc_report("ptrchase.lines", lines);
  hc_report("ptrchase.page", param("page"));
  long long huge = lx_anon_huge_kb();
  if (huge >= 0) hc_report("ptrchase.huge_kb", (uint64_t)huge);
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct lx_workload lx_wl_ptrchase = {
    .name = "ptrchase",
    .desc = "dependent loads through a random permutation of a working set: TLB reach, page walks",
    .params = params,
    .setup = setup,
    .run = run,
};
