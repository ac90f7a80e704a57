/* unhandled_exception - divides by zero in ring 3 with no handler
 * installed: the runtime's default path reports vector 0 (#DE), RIP and
 * error code through VTB_HC_EXCEPTION and the run ends non-zero. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {VTB_PARAM_END};

static int run(struct wl_result *res) {
  uint64_t q = 1, r = 0, d = 0;
  (void)res;
  __asm__ volatile("divq %2" : "+a"(q), "+d"(r) : "r"(d));
  printf("unhandled_exception: division by zero did not fault\n");
  return 1;
}

const struct workload WORKLOAD = {
    .name = "unhandled_exception",
    .desc = "hostile: #DE in ring 3 with no handler",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .run = run,
};
