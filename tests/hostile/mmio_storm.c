/* mmio_storm - n 32-bit writes and n reads over guest-physical addresses
 * with no RAM behind them: the MMIO window and GPAs between the end of RAM
 * and 4 GiB (all identity-mapped by the boot page tables). Unclaimed MMIO
 * reads as all ones and drops writes: the run must finish with the counts
 * in the record (io.unclaimed_mmio_*). checksum = reads that returned all
 * ones (must equal n). */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 20000, 1, 1ull << 32, "MMIO writes (and as many reads)"},
    VTB_PARAM_END,
};

static volatile uint32_t *addr_for(uint64_t i) {
  /* Alternate between the MMIO window and a page above RAM, below 4 GiB. */
  uint64_t gpa = (i & 1) ? VTB_MMIO_GPA + ((i * 4) % VTB_MMIO_SIZE)
                         : 0xe0000000ull + ((i * 4096) % 0x10000000ull);
  return (volatile uint32_t *)gpa;
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), ones = 0;
  if (rt_boot->ram_size > 0xe0000000ull) {
    printf("mmio_storm: needs --mem below 3.5 GiB\n");
    return 1;
  }
  mark_begin();
  for (uint64_t i = 0; i < n; i++) {
    *addr_for(i) = (uint32_t)i;
    ones += *addr_for(i) == 0xffffffffu;
  }
  mark_end();
  res->checksum = ones;
  res->iterations = n;
  return ones == n ? 0 : 1;
}

const struct workload WORKLOAD = {
    .name = "mmio_storm",
    .desc = "hostile: MMIO storm over unbacked guest-physical pages",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 0,
    .run = run,
};
