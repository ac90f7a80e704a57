/* memstream - sequential read and write of 64-bit words over a working set
 * of ws bytes mapped with 4 KiB or 2 MiB pages in a private address space
 * (rt/wset.c), `passes` times, in ring 3: bandwidth and TLB reach.
 *
 * W = ws / 8 words, a[i] = i before the timed region. Each pass reads every
 * word in order (v = a[i]; s += v) and writes a[i] = v + 1. Afterwards the
 * words are summed (t). With P = passes:
 *   s = P * W(W-1)/2 + W * P(P-1)/2,  t = W(W-1)/2 + W * P
 *   checksum = s + t = (P+1) * W(W-1)/2 + W * P(P+1)/2 mod 2^64
 * iterations = P; report memstream.bytes = 2 * ws * P (read + written). */
#include "rt.h"
#include "wset.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"ws", 64ull << 20, 4096, 2ull << 30, "working set in bytes"},
    {"passes", 300, 1, 1ull << 32, "read+write passes over the working set"},
    {"page", 4096, 4096, 2ull << 20, "page size: 4k or 2m"},
    VTB_PARAM_END,
};

static int setup(void) {
  return wset_setup(param("ws"), param("page"));
}

static int run(struct wl_result *res) {
  uint64_t passes = param("passes"), words = param("ws") / 8, s = 0, t = 0;
  uint64_t *a = (uint64_t *)WSET_BASE;
  for (uint64_t i = 0; i < words; i++)
    a[i] = i;
  mark_begin();
  for (uint64_t p = 0; p < passes; p++) {
    for (uint64_t i = 0; i < words; i++) {
      uint64_t v = a[i];
      s += v;
      a[i] = v + 1;
    }
    __asm__ volatile("" : "+r"(s) : : "memory"); /* one real pass each time */
  }
  mark_end();
  for (uint64_t i = 0; i < words; i++)
    t += a[i];
  hc_report("memstream.bytes", 2 * param("ws") * passes);
  res->checksum = s + t;
  res->iterations = passes;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "memstream",
    .desc = "sequential read+write over a working set, 4 KiB or 2 MiB pages: bandwidth, TLB reach",
    .params = params,
    .cpl_allowed = WL_CPL3,
    .cpl_default = 3,
    .setup = setup,
    .run = run,
};
