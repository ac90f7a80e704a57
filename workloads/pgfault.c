/* pgfault - N demand-paging faults handled by the guest kernel: ring-3 code
 * touches N pages of a private region that is not mapped; the guest's #PF
 * handler (rt/demand.c) maps a fresh zero 4 KiB frame and returns. These
 * are the guest's "true" faults; under shadow paging the VMM also takes
 * hidden ones (shadow fills) and traps the handler's PTE writes.
 *
 * Page i (i < n, ascending, at 512 GiB + i * 4 KiB) is touched once: the
 * ring-3 loop reads word 0 (x, must be 0: demand-zero), then stores
 * x + vtb_mix64(0x70676661756c74 + i) ("pgfault"). After the timed loop the
 * words are read back:
 *   checksum = sum_{i<n} vtb_mix64(0x70676661756c74 + i) mod 2^64
 * iterations = n; report pgfault.faults = faults the handler took (= n). */
#include "demand.h"
#include "rt.h"

#define TAG  0x70676661756c74ull
#define BASE ASPACE_PRIVATE_BASE

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 12000, 1, 1ull << 20, "pages touched, one fault each"},
    VTB_PARAM_END,
};

static struct aspace as;
static struct demand region;

static int setup(void) {
  uint64_t n = param("n");
  int rc = pmem_check_param("n", n, demand_bytes(n) + 4 * PAGE_SIZE);
  if (rc) return rc;
  if (aspace_create(&as) || demand_init(&region, &as, BASE, n)) return VTB_EXIT_NO_MEMORY;
  aspace_switch(&as);
  return 0;
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), sum = 0;
  volatile uint64_t *p = (volatile uint64_t *)BASE;
  mark_begin();
  for (uint64_t i = 0; i < n; i++) {
    uint64_t x = p[i * 512];
    p[i * 512] = x + vtb_mix64(TAG + i);
  }
  mark_end();
  for (uint64_t i = 0; i < n; i++)
    sum += p[i * 512];
  hc_report("pgfault.faults", region.faults);
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "pgfault",
    .desc = "N demand-paging faults handled by the guest's #PF handler: true faults",
    .params = params,
    .cpl_allowed = WL_CPL3,
    .cpl_default = 3,
    .setup = setup,
    .run = run,
};
