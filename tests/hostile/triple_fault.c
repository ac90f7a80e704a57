/* triple_fault - loads an empty IDT (limit 0) and executes UD2 at CPL0:
 * #UD cannot be delivered -> #GP -> #DF -> shutdown. The VMM must end the
 * run as a triple fault with a register dump. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {VTB_PARAM_END};

static int run(struct wl_result *res) {
  struct __attribute__((packed)) {
    uint16_t limit;
    uint64_t base;
  } empty = {0, 0};
  (void)res;
  mark_begin();
  __asm__ volatile("lidt %0\n\tud2" ::"m"(empty));
  printf("triple_fault: still running after a fault with no IDT\n");
  return 1;
}

const struct workload WORKLOAD = {
    .name = "triple_fault",
    .desc = "hostile: fault with an empty IDT",
    .params = params,
    .cpl_allowed = WL_CPL0,
    .cpl_default = 0,
    .run = run,
};
