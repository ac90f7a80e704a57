/* trap.h - exceptions, NMIs and interrupts.
 *
 * All 256 IDT vectors enter isr.S stubs that save the caller-saved registers
 * into a struct trap_frame and call trap__dispatch; the trap-based system
 * call (UD2 from ring 3) takes a shorter path in isr.S. Order of dispatch: a
 * handler a workload installed,
 * then the defaults: NMI and IRQ counters, and for an unhandled exception a
 * VTB_HC_EXCEPTION report followed by exit(VTB_EXIT_EXCEPTION_BASE+vector). */
#ifndef RT_TRAP_H
#define RT_TRAP_H

#include <stdint.h>

/* Layout fixed by isr.S (lowest address first). */
struct trap_frame {
  uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
  uint64_t vector, error;
  uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

#define VTB_EXIT_EXCEPTION_BASE 64 /* guest exit status after an unhandled exception */

/* Returns nonzero when it handled the event (the frame is then resumed). */
typedef int (*trap_handler_fn)(struct trap_frame *f);
void trap_set_handler(unsigned vector, trap_handler_fn fn);

extern volatile uint64_t rt_nmi_count; /* NMIs taken by the default handler */
extern volatile uint64_t rt_irq_count; /* vectors 32..255 taken by the default handler */
extern volatile uint32_t rt_irq_last;  /* last such vector */

void trap__dispatch(struct trap_frame *f);
__attribute__((noreturn)) void trap__unhandled(const struct trap_frame *f);
const char *trap__name(unsigned vector);

#endif
