/* compute - an integer hash chain with no memory traffic: the pure-CPU
 * baseline (no exit expected inside the timed region).
 *
 * Checksum: h = seed; repeat n times: h = vtb_mix64(h + 0x9e3779b97f4a7c15)
 * (splitmix64, rt/hash.h); checksum = h, iterations = n. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 300000000, 1, 1ull << 40, "hash steps"},
    {"seed", 1, 0, ~0ull, "initial state"},
    VTB_PARAM_END,
};

static int run(struct wl_result *res) {
  uint64_t n = param("n"), h = param("seed");
  mark_begin();
  for (uint64_t i = 0; i < n; i++) {
    h = vtb_mix64(h + VTB_GOLDEN);
    __asm__ volatile("" : "+r"(h)); /* keep every step: no closed form */
  }
  mark_end();
  res->checksum = h;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "compute",
    .desc = "integer hash chain, no memory traffic: pure CPU baseline",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .run = run,
};
