/* ptrchase - memory reference latency: a chain of dependent loads through a
 * random cyclic permutation of the cache lines of a working set of ws bytes
 * (lmbench's lat_mem_rd with a random order, so no prefetcher helps), in
 * ring 3. Each load's address is the value the previous load returned, so
 * the time per load is the latency of the level the working set fits in
 * (L1, L2, LLC, DRAM); `vtbench calibrate` runs it at one size per level.
 *
 * The working set is mapped with 4 KiB or 2 MiB pages (rt/wset.c; the mapping
 * is ws rounded up to the page size). L = ws / 64 lines; line i's first word
 * holds the address of the next line. Before the timed region (in ring 3,
 * natively: ring 0 is emulated on some hosts) the permutation is built with
 * Sattolo's algorithm, which gives a single cycle through all L lines:
 *   a[i] = i; x = seed;
 *   for i = L-1 down to 1: x = xorshift64(x) (x ^= x << 13; x ^= x >> 7;
 *     x ^= x << 17); j = x % i; swap(a[i], a[j])
 *   next(i) = a[i]
 * The chase starts at line 0 and does n loads; p_k is the line index after
 * load k (p_0 = 0, p_k = next(p_{k-1})):
 *   checksum = sum_{k=1..n} p_k mod 2^64;  iterations = n.
 * Reports ptrchase.ws, ptrchase.lines, ptrchase.page. */
#include "rt.h"
#include "wl_memory.h"
#include "wset.h"

#define LINE 64ull

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 10000000, 1, 1ull << 40, "dependent loads"},
    {"ws", 64ull << 20, 2 * LINE, 2ull << 30, "working set in bytes (multiple of 64)"},
    {"page", 4096, 4096, 2ull << 20, "page size: 4k or 2m"},
    {"seed", 1, 1, ~0ull, "xorshift64 seed (nonzero)"},
    VTB_PARAM_END,
};

static int setup(void) {
  uint64_t ws = param("ws"), page = param("page");
  if (ws % LINE) {
    printf("vtb: parameter 'ws'=%lu is not a multiple of the line size 64\n", ws);
    return VTB_EXIT_BAD_PARAM;
  }
  if (page != PAGE_SIZE && page != PAGE_2M) /* wset_setup names it; round up only a valid one */
    return wset_setup(ws, page);
  return wset_setup((ws + page - 1) / page * page, page);
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), lines = param("ws") / LINE, x = param("seed"), sum = 0;
  uint8_t *base = (uint8_t *)WSET_BASE;
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
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "ptrchase",
    .desc = "dependent loads through a random cyclic permutation of a working set's cache lines: "
            "memory reference latency",
    .params = params,
    .cpl_allowed = WL_CPL3,
    .cpl_default = 3,
    .setup = setup,
    .run = run,
};
