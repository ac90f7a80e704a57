/* event_log - the NMI event log (struct vtb_event_log, docs/ABI.md) where
 * refvmm's own writes into it are the hazard.
 *   case 0: the log's GPA is not 8-byte aligned: refvmm must refuse the
 *           report naming the key, never store through a misaligned pointer.
 *   case 1: the log's GPA lies outside guest RAM: refused the same way.
 *   case 2: the log overlays the guest's own code: its `delivered` field is
 *           the immediate of a `movabs $imm64, %rax; ret` the guest calls
 *           after each of n NMIs, so each call must return the count refvmm
 *           wrote just before it injected the NMI. A CPU that keeps running
 *           what it decoded before the VMM's write returns stale values.
 * checksum (case 2): the calls that returned a stale value (0). */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"case", 2, 0, 2, "0: unaligned log, 1: log beyond RAM, 2: log over code"},
    {"n", 50, 1, 4096, "NMIs raised (case 2)"},
    VTB_PARAM_END,
};

/* Code and log share this page-aligned area (in .bss: writable and, under
 * the identity map, executable). The function starts 2 bytes before the
 * log so the movabs immediate is the log's first field:
 *   area+6:  48 b8       movabs $imm64, %rax
 *   area+8:  imm64       = log->delivered (refvmm writes it)
 *   area+16: c3          ret (= the low byte of log->handled, which only
 *                        the guest writes; this guest's NMI handler does not)
 *   area+24: log->raise_tsc[], refvmm writes one entry per NMI */
#define LOG_OFF 8
static uint8_t area[LOG_OFF + sizeof(struct vtb_event_log)] __attribute__((aligned(4096)));

static int run(struct wl_result *res) {
  uint64_t which = param("case"), n = param("n");
  if (which == 0) {
    hc_report(VTB_KEY_NMI_LOG, (uint64_t)area + 4);
    printf("event_log: the VMM accepted an unaligned log\n");
    return 1;
  }
  if (which == 1) {
    hc_report(VTB_KEY_NMI_LOG, rt_boot->ram_size - 8);
    printf("event_log: the VMM accepted a log beyond RAM\n");
    return 1;
  }
  area[6] = 0x48;
  area[7] = 0xb8;
  area[16] = 0xc3;
  uint64_t (*fn)(void) = (uint64_t(*)(void))(uintptr_t)(area + 6);
  hc_report(VTB_KEY_NMI_LOG, (uint64_t)area + LOG_OFF);
  uint64_t stale = 0, first_got = 0, first_want = 0;
  mark_begin();
  for (uint64_t i = 1; i <= n; i++) {
    hc_raise_nmi(1, 0); /* refvmm writes delivered = i, then injects */
    __asm__ volatile("" ::: "memory");
    uint64_t got = fn();
    if (got != i && !stale++) {
      first_got = got;
      first_want = i;
    }
  }
  mark_end();
  if (stale)
    printf("event_log: %lu stale results (first: got %#lx, want %#lx)\n", stale, first_got,
           first_want);
  hc_report("nmi.taken", rt_nmi_count);
  res->checksum = stale;
  res->iterations = n;
  return stale != 0;
}

const struct workload WORKLOAD = {
    .name = "event_log",
    .desc = "hostile: an NMI event log that is misaligned, beyond RAM, or over the guest's code",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .run = run,
};
