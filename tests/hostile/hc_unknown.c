/* hc_unknown - hypercalls the ABI does not define. The VMM must end the
 * run as a bad hypercall naming the number or the access.
 *   case 0: number 7 (inside the port range, no handler)
 *   case 1: number 15 (the last port of the range)
 *   case 2: IN from a hypercall port (hypercalls are OUTs)
 *   case 3: 8-bit OUT to a hypercall port (hypercalls are 32-bit) */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"case", 0, 0, 3, "0: nr 7, 1: nr 15, 2: IN, 3: 8-bit OUT"},
    VTB_PARAM_END,
};

static uint64_t k_access(uint64_t which, uint64_t unused) {
  (void)unused;
  if (which == 2) return inb(VTB_HC_PORT_BASE + VTB_HC_CONSOLE);
  outb(VTB_HC_PORT_BASE + VTB_HC_CONSOLE, 0);
  return 0;
}

static int run(struct wl_result *res) {
  static struct vtb_hc_exit ex; /* a valid struct: only the number is wrong */
  uint64_t which = param("case");
  (void)res;
  if (which == 0) hc__raw(7, (uint64_t)&ex);
  if (which == 1) hc__raw(VTB_HC_COUNT - 1, (uint64_t)&ex);
  if (which >= 2) kcall(k_access, which, 0);
  printf("hc_unknown: the VMM accepted case %lu\n", which);
  return 1;
}

const struct workload WORKLOAD = {
    .name = "hc_unknown",
    .desc = "hostile: undefined hypercall numbers and wrong port accesses",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 0,
    .run = run,
};
