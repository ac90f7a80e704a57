/* no_mark_end - begins the timed region and exits without ending it. The
 * run itself succeeds, but its record must say the timed region is
 * incomplete (timed.complete = false, no wall_ns/tsc figures) rather than
 * invent a duration. checksum = n. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 1000, 1, 1ull << 32, "loop iterations inside the unterminated region"},
    VTB_PARAM_END,
};

static int run(struct wl_result *res) {
  uint64_t n = param("n");
  volatile uint64_t i = 0;
  mark_begin();
  while (i < n)
    i++;
  res->checksum = i;
  res->iterations = n;
  return 0; /* no mark_end() */
}

const struct workload WORKLOAD = {
    .name = "no_mark_end",
    .desc = "hostile: timed region begun and never ended",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .run = run,
};
