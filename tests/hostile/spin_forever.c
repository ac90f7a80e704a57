/* spin_forever - marks the timed region begin, then loops forever in ring 3
 * without exits: only the VMM's watchdog (--timeout) can end it. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {VTB_PARAM_END};

static int run(struct wl_result *res) {
  (void)res;
  mark_begin();
  for (volatile uint64_t i = 0;; i++)
    ;
  return 1;
}

const struct workload WORKLOAD = {
    .name = "spin_forever",
    .desc = "hostile: endless loop in ring 3",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .run = run,
};
