/* pio - N 32-bit OUTs to VTB_PORT_BENCH, a null device in refvmm: the
 * user-space exit round trip. CPL0 only: ring 3 cannot do OUT on every host.
 *
 * Value written by iteration i: (uint32_t)i.
 * checksum = sum of the values written mod 2^64 = sum_{i<n} (i mod 2^32);
 * for n <= 2^32 that is n*(n-1)/2. iterations = n. pre=P adds P OUTs of
 * 0xffffffff before mark begin (not in the checksum): the timed region must
 * not see them. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 100000, 1, 1ull << 40, "OUT instructions"},
    {"pre", 0, 0, 1ull << 40, "extra OUTs before mark begin (setup the timed region excludes)"},
    VTB_PARAM_END,
};

static int run(struct wl_result *res) {
  uint64_t n = param("n"), sum = 0;
  /* Setup noise: same port, value ~0, outside the region and the checksum. */
  for (uint64_t i = 0, pre = param("pre"); i < pre; i++)
    outl(VTB_PORT_BENCH, 0xffffffffu);
  mark_begin();
  for (uint64_t i = 0; i < n; i++) {
    outl(VTB_PORT_BENCH, (uint32_t)i);
    sum += (uint32_t)i;
  }
  mark_end();
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "pio",
    .desc = "N OUTs to a refvmm port: user-space exit round trip",
    .params = params,
    .cpl_allowed = WL_CPL0,
    .cpl_default = 0,
    .run = run,
};
