/* wild_pointer - hands the VMM a console hypercall whose pointers leave
 * guest RAM. The VMM must reject it (bad hypercall), not crash or read host
 * memory. case=0: buf = 0xfffffffffffff000; case=1: buf straddles the end
 * of RAM (ram_size - 8, len 16); case=2: the argument struct itself lies
 * past the end of RAM (GPA 0xfffff000). */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"case", 0, 0, 2, "0: far buffer, 1: buffer straddling RAM end, 2: struct past RAM"},
    VTB_PARAM_END,
};

static int run(struct wl_result *res) {
  static struct vtb_hc_console c;
  uint64_t which = param("case");
  (void)res;
  c.len = 16;
  c.buf = which == 1 ? rt_boot->ram_size - 8 : 0xfffffffffffff000ull;
  hc__raw(VTB_HC_CONSOLE, which == 2 ? 0xfffff000ull : (uint64_t)&c);
  printf("wild_pointer: the VMM accepted case %lu\n", which);
  return 1;
}

const struct workload WORKLOAD = {
    .name = "wild_pointer",
    .desc = "hostile: console hypercall with pointers outside RAM",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 0,
    .run = run,
};
