/* nmi_flood - asks the VMM for a flood of NMIs.
 *   case 0: one raise_nmi hypercall with count = 2^32 - 1
 *   case 1: n raise_nmi hypercalls with count = 1, back to back
 *   case 2: one request of 4096 (the most refvmm's event queue accepts)
 * NMIs do not queue on x86 (one pending at most), so the VMM must bound or
 * merge them: the run must end promptly (ok with the NMIs it delivered, or
 * a bad hypercall naming the count), never hang the host or the guest.
 * Reports nmi.taken (NMIs the guest's handler saw); checksum = that count. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"case", 0, 0, 2, "0: one request of 2^32-1, 1: n requests of 1, 2: one of 4096"},
    {"n", 10000, 1, 1ull << 32, "requests for case 1"},
    VTB_PARAM_END,
};

static int run(struct wl_result *res) {
  uint64_t which = param("case"), n = param("n");
  mark_begin();
  if (which == 0)
    hc_raise_nmi(0xffffffffu, 0);
  else if (which == 2)
    hc_raise_nmi(4096, 0);
  else
    for (uint64_t i = 0; i < n; i++)
      hc_raise_nmi(1, 0);
  for (volatile int spin = 0; spin < 100000; spin++)
    ; /* let pending NMIs land */
  mark_end();
  hc_report("nmi.taken", rt_nmi_count);
  res->checksum = rt_nmi_count;
  res->iterations = which == 1 ? n : 1;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "nmi_flood",
    .desc = "hostile: NMI flood through the raise_nmi hypercall",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .run = run,
};
