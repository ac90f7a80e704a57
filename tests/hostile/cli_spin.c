/* cli_spin - clears IF and loops forever at CPL0 without exits: no
 * interrupt can reach the guest, so only the VMM's watchdog (--timeout),
 * which stops the vCPU from the host, can end it. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {VTB_PARAM_END};

static int run(struct wl_result *res) {
  (void)res;
  mark_begin();
  __asm__ volatile("cli\n1: jmp 1b");
  return 1;
}

const struct workload WORKLOAD = {
    .name = "cli_spin",
    .desc = "hostile: endless loop with interrupts off at CPL0",
    .params = params,
    .cpl_allowed = WL_CPL0,
    .cpl_default = 0,
    .run = run,
};
