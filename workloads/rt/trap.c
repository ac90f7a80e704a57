/* trap.c - dispatch of every vector, the default NMI/IRQ counters and the
 * report of an unhandled exception. */
#include "trap.h"

#include "hc.h"
#include "printf.h"
#include "user.h"
#include "x86.h"

volatile uint64_t rt_nmi_count;
volatile uint64_t rt_irq_count;
volatile uint32_t rt_irq_last;

static trap_handler_fn handlers[256];

void trap_set_handler(unsigned vector, trap_handler_fn fn) {
  if (vector < 256) handlers[vector] = fn;
}

static const char *const names[32] = {"#DE divide error",
                                      "#DB debug",
                                      "NMI",
                                      "#BP breakpoint",
                                      "#OF overflow",
                                      "#BR bound range",
                                      "#UD invalid opcode",
                                      "#NM device not available",
                                      "#DF double fault",
                                      "coprocessor segment overrun",
                                      "#TS invalid TSS",
                                      "#NP segment not present",
                                      "#SS stack fault",
                                      "#GP general protection",
                                      "#PF page fault",
                                      "reserved 15",
                                      "#MF x87 error",
                                      "#AC alignment check",
                                      "#MC machine check",
                                      "#XM SIMD error",
                                      "#VE virtualization",
                                      "#CP control protection",
                                      "reserved 22",
                                      "reserved 23",
                                      "reserved 24",
                                      "reserved 25",
                                      "reserved 26",
                                      "reserved 27",
                                      "#HV hypervisor injection",
                                      "#VC VMM communication",
                                      "#SX security",
                                      "reserved 31"};

const char *trap__name(unsigned vector) {
  return vector < 32 ? names[vector] : "interrupt";
}

void trap__dispatch(struct trap_frame *f) {
  unsigned v = f->vector; /* the trap system call never gets here: isr.S isr_ud */
  trap_handler_fn h = handlers[v];
  if (h && h(f)) return;
  if (v == 2) {
    rt_nmi_count++;
    return;
  }
  if (v >= 32) {
    rt_irq_count++;
    rt_irq_last = v;
    return;
  }
  trap__unhandled(f);
}

void trap__unhandled(const struct trap_frame *f) {
  struct vtb_hc_exception e = {
      .vector = f->vector,
      .error_code = f->error,
      .rip = f->rip,
      .cr2 = read_cr2(),
      .cs = f->cs,
      .rsp = f->rsp,
  };
  console_flush();
  printf("vtb: unhandled exception %s (vector %lu) at rip=%#lx err=%#lx cr2=%#lx cs=%#lx "
         "rsp=%#lx\n",
         trap__name((unsigned)f->vector), e.vector, e.rip, e.error_code, e.cr2, e.cs, e.rsp);
  hc__kernel(VTB_HC_EXCEPTION, (uint64_t)&e);
  /* The VMM ends the run at VTB_HC_EXCEPTION; if it did not, exit. */
  hc_exit(VTB_EXIT_EXCEPTION_BASE + f->vector);
}
