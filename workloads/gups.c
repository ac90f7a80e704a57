/* gups - random read-modify-write of 64-bit words over a working set of ws
 * bytes (a power of two) mapped with 4 KiB or 2 MiB pages in a private
 * address space (rt/wset.c), in ring 3: TLB reach and page-walk length
 * (two-dimensional walks under EPT), in the style of HPCC RandomAccess.
 *
 * W = ws / 8 words, table[i] = i before the timed region. x = seed; each of
 * the n updates steps xorshift64 (x ^= x << 13; x ^= x >> 7; x ^= x << 17)
 * and does table[x & (W - 1)] ^= x. After the timed region:
 *   checksum = sum_{i<W} vtb_mix64(table[i] + i) mod 2^64; iterations = n.
 * The host reference replays the n updates over its own table. */
#include "rt.h"
#include "wl_memory.h"
#include "wset.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 75000000, 1, 1ull << 40, "updates"},
    {"ws", 64ull << 20, 8192, 2ull << 30, "working set in bytes (power of two)"},
    {"page", 4096, 4096, 2ull << 20, "page size: 4k or 2m"},
    {"seed", 1, 1, ~0ull, "xorshift64 seed (nonzero)"},
    VTB_PARAM_END,
};

static int setup(void) {
  uint64_t ws = param("ws");
  if (ws & (ws - 1)) {
    printf("vtb: parameter 'ws'=%lu is not a power of two\n", ws);
    return VTB_EXIT_BAD_PARAM;
  }
  return wset_setup(ws, param("page"));
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), words = param("ws") / 8, mask = words - 1, x = param("seed"), sum = 0;
  uint64_t *table = (uint64_t *)WSET_BASE;
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
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "gups",
    .desc = "random read-modify-write over a working set, 4 KiB or 2 MiB pages: page walks",
    .params = params,
    .cpl_allowed = WL_CPL3,
    .cpl_default = 3,
    .setup = setup,
    .run = run,
};
