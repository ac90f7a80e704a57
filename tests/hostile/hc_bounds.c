/* hc_bounds - hypercall arguments the VMM must reject at the boundaries of
 * guest RAM and of the integer types. Every case must end the run as a bad
 * hypercall whose message names the field; none may read host memory.
 *   case 0: argument struct at GPA 0xfffffff8 (the 32-bit port argument's
 *           last bytes: the struct wraps past 2^32)
 *   case 1: argument struct straddling the end of RAM (ram_size - 8)
 *   case 2: argument struct exactly at the end of RAM (ram_size)
 *   case 3: console buf near 2^64 (0xfffffffffffffff8, len 16: wraps)
 *   case 4: console buf straddling the end of RAM (ram_size - 8, len 16)
 *   case 5: console len 2^63
 *   case 6: console len 2^64 - 1
 *   case 7: report key without a NUL terminator
 *   case 8: mark region 0xffffffff
 *   case 9: raise_irq vector 0 (an exception vector) */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"case", 0, 0, 9, "which boundary to cross (see the file header)"},
    VTB_PARAM_END,
};

static struct vtb_hc_console con;
static struct vtb_hc_report rep;
static struct vtb_hc_mark mark;
static struct vtb_hc_raise raise;

static int run(struct wl_result *res) {
  uint64_t which = param("case"), ram = rt_boot->ram_size;
  (void)res;
  printf("hc_bounds: case %lu\n", which);
  con.buf = (uint64_t)&con;
  con.len = 8;
  switch (which) {
  case 0:
    hc__raw(VTB_HC_CONSOLE, 0xfffffff8ull);
    break;
  case 1:
    hc__raw(VTB_HC_CONSOLE, ram - 8);
    break;
  case 2:
    hc__raw(VTB_HC_CONSOLE, ram);
    break;
  case 3:
    con.buf = 0xfffffffffffffff8ull, con.len = 16;
    break;
  case 4:
    con.buf = ram - 8, con.len = 16;
    break;
  case 5:
    con.len = 1ull << 63;
    break;
  case 6:
    con.len = ~0ull;
    break;
  case 7:
    memset(rep.key, 'a', sizeof rep.key);
    rep.value = 1;
    hc__raw(VTB_HC_REPORT, (uint64_t)&rep);
    break;
  case 8:
    mark.region = 0xffffffffu, mark.phase = VTB_MARK_BEGIN;
    hc__raw(VTB_HC_MARK, (uint64_t)&mark);
    break;
  case 9:
    raise.vector = 0, raise.count = 1;
    hc__raw(VTB_HC_RAISE_IRQ, (uint64_t)&raise);
    break;
  }
  if (which >= 3 && which <= 6) hc__raw(VTB_HC_CONSOLE, (uint64_t)&con);
  printf("hc_bounds: the VMM accepted case %lu\n", which);
  return 1;
}

const struct workload WORKLOAD = {
    .name = "hc_bounds",
    .desc = "hostile: hypercall pointers and lengths at RAM and integer boundaries",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 0,
    .run = run,
};
