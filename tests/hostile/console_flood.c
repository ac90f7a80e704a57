/* console_flood - floods the VMM's bounded outputs.
 *   case 0: n console hypercalls of 4096 bytes each (4 MiB by default):
 *           the run ends ok; the record keeps at most CONSOLE_KEEP_MAX
 *           bytes, counts all of them and says it truncated.
 *   case 1: 200 distinct report keys, more than the VMM keeps
 *           (VM_REPORTS_MAX): a bad hypercall naming the report count. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"case", 0, 0, 1, "0: console flood, 1: report-key flood"},
    {"n", 1024, 1, 1ull << 20, "4 KiB console writes for case 0"},
    VTB_PARAM_END,
};

static char page[VTB_CONSOLE_MAX];

static int run(struct wl_result *res) {
  uint64_t which = param("case"), n = param("n");
  if (which == 0) {
    for (size_t i = 0; i < sizeof page; i++)
      page[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
    for (uint64_t i = 0; i < n; i++)
      hc_console(page, sizeof page);
    res->checksum = n * sizeof page;
    res->iterations = n;
    return 0;
  }
  char key[16] = "flood.";
  for (unsigned i = 0; i < 200; i++) {
    key[6] = (char)('0' + i / 100);
    key[7] = (char)('0' + i / 10 % 10);
    key[8] = (char)('0' + i % 10);
    key[9] = 0;
    hc_report(key, i);
  }
  printf("console_flood: the VMM kept 200 report keys\n");
  return 1;
}

const struct workload WORKLOAD = {
    .name = "console_flood",
    .desc = "hostile: console and report floods against the VMM's output bounds",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .run = run,
};
