/* port_storm - n OUTs and n INs spread over every unclaimed port outside
 * the VMM's devices. Unclaimed ports read as all ones and swallow writes:
 * the run must finish, with both counts in the record (io.unclaimed_port_*).
 * checksum = number of INs that read all ones (must equal n). */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 20000, 1, 1ull << 32, "OUTs (and as many INs) to unclaimed ports"},
    VTB_PARAM_END,
};

/* Ports no refvmm device claims: skip the serial port, hypercalls and bench. */
static uint16_t port_for(uint64_t i) {
  uint16_t p = (uint16_t)(0x1000 + (i * 7919) % 0xe000);
  return p;
}

static uint64_t k_storm(uint64_t n, uint64_t unused) {
  uint64_t ones = 0;
  (void)unused;
  for (uint64_t i = 0; i < n; i++) {
    outb(port_for(i), (uint8_t)i);
    ones += inb(port_for(i)) == 0xff;
  }
  return ones;
}

static int run(struct wl_result *res) {
  uint64_t n = param("n");
  mark_begin();
  uint64_t ones = kcall(k_storm, n, 0);
  mark_end();
  res->checksum = ones;
  res->iterations = n;
  return ones == n ? 0 : 1;
}

const struct workload WORKLOAD = {
    .name = "port_storm",
    .desc = "hostile: OUT/IN storm over unclaimed ports",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 0,
    .run = run,
};
