/* cpuid - N CPUID instructions: the exit round trip handled inside the
 * host kernel (kvm-unit-tests' vmexit_cpuid). CPL0 by default like
 * kvm-unit-tests; cpl=3 issues them from ring 3.
 *
 * CPUID's values differ between hosts and backends, so the checksum only
 * proves that all n executions returned what the first one did:
 *   diff = OR over iterations of (eax^eax0)|(ebx^ebx0)|(ecx^ecx0)|(edx^edx0)
 *   checksum = vtb_mix64(0x6370756964 ^ n ^ (leaf << 32)) ^ diff
 * (0x6370756964 is "cpuid"), iterations = n. The values themselves are
 * reported as cpuid.eax/ebx/ecx/edx for the host to compare. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 100000, 1, 1ull << 40, "CPUID instructions"},
    {"leaf", 0, 0, 0xffffffffu, "CPUID leaf (EAX); subleaf 0"},
    VTB_PARAM_END,
};

static int run(struct wl_result *res) {
  uint64_t n = param("n");
  uint32_t leaf = (uint32_t)param("leaf");
  uint32_t a0, b0, c0, d0, a, b, c, d, diff = 0;
  cpuid(leaf, 0, &a0, &b0, &c0, &d0);
  mark_begin();
  for (uint64_t i = 0; i < n; i++) {
    cpuid(leaf, 0, &a, &b, &c, &d);
    diff |= (a ^ a0) | (b ^ b0) | (c ^ c0) | (d ^ d0);
  }
  mark_end();
  hc_report("cpuid.eax", a0);
  hc_report("cpuid.ebx", b0);
  hc_report("cpuid.ecx", c0);
  hc_report("cpuid.edx", d0);
  res->checksum = vtb_mix64(0x6370756964ull ^ n ^ ((uint64_t)leaf << 32)) ^ diff;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "cpuid",
    .desc = "N CPUID: exit round trip handled in the host kernel",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 0,
    .run = run,
};
