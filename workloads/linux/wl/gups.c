/* gups - random read-modify-write of 64-bit words over a working set of ws
 * bytes as a Linux process (the freestanding gups's algorithm and checksum):
 * independent updates, so unlike ptrchase the CPU overlaps their misses;
 * beyond the TLB's reach nearly every update walks the page tables.
 *
 * W = ws / 8 words (ws a power of two), table[i] = i before the region;
 * x = seed; n times: x ^= x << 13; x ^= x >> 7; x ^= x << 17;
 * table[x & (W-1)] ^= x. Then
 *   checksum = sum_{i<W} vtb_mix64(table[i] + i);  iterations = n.
 * Reports gups.ws, gups.page and gups.huge_kb. */
#include "lx.h"
#include "lx_mem.h"
#include "wl_memory.h"

static const struct vtb_param params[] = {
    {"n", 4000000, 1, 1ull << 40, "updates"},
    {"ws", 64ull << 20, 8192, 2ull << 30, "working set in bytes (power of two)"},
    {"page", 4096, 4096, 2ull << 20, "page size: 4k or 2m"},
    {"seed", 1, 1, ~0ull, "xorshift64 seed (nonzero)"},
    VTB_PARAM_END,
};

static uint64_t *table;

static int setup(void) {
  uint64_t ws = param("ws");
  if (ws & (ws - 1)) {
    printf("vtb: parameter 'ws'=%lu is not a power of two\n", ws);
    return VTB_EXIT_BAD_PARAM;
  }
  return lx_wset(ws, param("page"), (uint8_t **)&table);
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), words = param("ws") / 8, mask = words - 1, x = param("seed"), sum = 0;
  wl_gups_init(table, words);
  mark_begin();
  for (uint64_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    table[x & mask] ^= x;
  }
  mark_end();
  sum = wl_gups_sum(table, words);
  hc_report("gups.ws", param("ws"));
  hc_report("gups.page", param("page"));
  long long huge = lx_anon_huge_kb();
  if (huge >= 0) hc_report("gups.huge_kb", (uint64_t)huge);
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct lx_workload lx_wl_gups = {
    .name = "gups",
    .desc = "random read-modify-write over a working set: TLB misses the CPU can overlap",
    .params = params,
    .setup = setup,
    .run = run,
};
