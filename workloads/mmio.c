/* mmio - N 32-bit writes to VTB_MMIO_GPA, a guest-physical page with no RAM
 * behind it (mapped by the boot identity map): the MMIO exit path. CPL0 by
 * default; cpl=3 writes from ring 3.
 *
 * Value written by iteration i: (uint32_t)i.
 * checksum = sum_{i<n} (i mod 2^32) mod 2^64 (n*(n-1)/2 for n <= 2^32).
 * iterations = n. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 100000, 1, 1ull << 40, "MMIO writes"},
    VTB_PARAM_END,
};

static int run(struct wl_result *res) {
  volatile uint32_t *reg = (volatile uint32_t *)VTB_MMIO_GPA;
  uint64_t n = param("n"), sum = 0;
  mark_begin();
  for (uint64_t i = 0; i < n; i++) {
    *reg = (uint32_t)i;
    sum += (uint32_t)i;
  }
  mark_end();
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "mmio",
    .desc = "N writes to an unbacked guest-physical page: MMIO exit path",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 0,
    .run = run,
};
