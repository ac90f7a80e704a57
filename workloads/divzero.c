/* divzero - N divide-by-zero faults in ring 3 handled by the guest kernel
 * (Adams & Agesen's divzero): exception delivery. The #DE handler (ring 0)
 * recognises the one DIV in divzero__fault, moves RIP past it, counts the
 * fault and returns the running count in RAX; the workload checks that it
 * saw exactly n faults (else exit status 5). cpl=0 faults from ring 0.
 *
 * The k-th fault (k = 1..n) returns k:
 * checksum = sum_{k=1..n} k = n*(n+1)/2 mod 2^64, iterations = n;
 * divzero.faults reports the handler's count. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 16000, 1, 1ull << 40, "divide faults"},
    VTB_PARAM_END,
};

/* uint64_t divzero__fault(void): divides by zero; returns what the #DE
 * handler put in RAX. */
extern char divzero__insn[], divzero__resume[];
uint64_t divzero__fault(void);
__asm__(".pushsection .text\n"
        ".globl divzero__fault\n"
        "divzero__fault:\n"
        "  xor %eax, %eax\n"
        "  xor %edx, %edx\n"
        "  xor %ecx, %ecx\n"
        ".globl divzero__insn\n"
        "divzero__insn:\n"
        "  div %rcx\n"
        ".globl divzero__resume\n"
        "divzero__resume:\n"
        "  ret\n"
        ".popsection\n");

static volatile uint64_t faults;

static int on_de(struct trap_frame *f) {
  if (f->rip != (uint64_t)divzero__insn) return 0; /* any other #DE is a bug */
  f->rip = (uint64_t)divzero__resume;
  f->rax = ++faults;
  return 1;
}

static int setup(void) {
  trap_set_handler(0, on_de);
  return 0;
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), sum = 0;
  mark_begin();
  for (uint64_t i = 0; i < n; i++)
    sum += divzero__fault();
  mark_end();
  hc_report("divzero.faults", faults);
  if (faults != n) {
    printf("vtb: divzero: %lu faults handled, expected %lu\n", faults, n);
    return 5;
  }
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "divzero",
    .desc = "N divide faults in ring 3 handled by the guest kernel: exception delivery",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .setup = setup,
    .run = run,
};
