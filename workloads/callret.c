/* callret - N call/ret pairs in ring 3 (Adams & Agesen's call/ret): the
 * pure CPU baseline, no exit expected. The callee is noinline/noclone and
 * an empty asm keeps each step opaque, so every call stays and the checksum
 * depends on each one.
 *
 * h = seed; for i < n: h = rotl64(h, 7) + i mod 2^64 (one call each);
 * checksum = h, iterations = n. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 1000000000, 1, 1ull << 40, "call/ret pairs"},
    {"seed", 1, 0, ~0ull, "initial state"},
    VTB_PARAM_END,
};

__attribute__((noinline, noclone)) static uint64_t step(uint64_t h, uint64_t i) {
  __asm__ volatile("" : "+r"(h), "+r"(i));
  return ((h << 7) | (h >> 57)) + i;
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), h = param("seed");
  mark_begin();
  for (uint64_t i = 0; i < n; i++) {
    h = step(h, i);
    __asm__ volatile("" : "+r"(h));
  }
  mark_end();
  res->checksum = h;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "callret",
    .desc = "N call/ret pairs in ring 3: pure CPU baseline",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .run = run,
};
