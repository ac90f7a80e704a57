/* model_events.h - exceptions and interrupts of the model CPU
 * (model_events.c): faults that abort an instruction, delivery through the
 * guest IDT, NMI/IRQ injection points and the VMX event controls' side at
 * instruction boundaries. */
#ifndef REFVMM_MODEL_EVENTS_H
#define REFVMM_MODEL_EVENTS_H

#include "model_cpu.h"

/* Abort the current instruction with exception `vec` (longjmp, no return). */
_Noreturn void model__fault(struct model_cpu *c, int vec, uint32_t err, bool has_err);
static inline _Noreturn void model__ud(struct model_cpu *c) {
  model__fault(c, X86_UD, 0, 0);
}
static inline _Noreturn void model__gp0(struct model_cpu *c) {
  model__fault(c, X86_GP, 0, 1);
}
/* Stop the run with an internal error (message formatted into c->msg). */
_Noreturn void model__internal(struct model_cpu *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Deliver vector through the IDT. soft: INT n/INT3 (gate DPL check, RIP is
 * the next instruction). May longjmp on a nested fault. */
void model_events__deliver(struct model_cpu *c, int vec, uint32_t err, bool has_err, bool soft,
                           uint64_t ret_rip);
/* Handle a fault caught by the run loop (#DF / triple-fault logic). */
void model_events__handle_fault(struct model_cpu *c);
/* Deliver a pending NMI or IRQ if the CPU can take it now; true if one was. */
bool model_events__try_inject(struct model_cpu *c);
bool model_events__can_take_irq(const struct model_cpu *c);
/* Load CS/SS from a selector in 64-bit mode (IRET, RETF, far JMP/CALL). */
void model_events__load_cs(struct model_cpu *c, uint16_t sel, bool allow_outer);
/* Read a GDT descriptor (8 bytes) for selector; #GP(sel) if out of limits. */
uint64_t model_events__read_desc(struct model_cpu *c, uint16_t sel);
/* Something waits for the guest to unblock: a pending NMI/IRQ or a window
 * control; instructions that may unblock end the slice when it is true. */
bool model_events__waiting(const struct model_cpu *c);
/* At an instruction boundary where model_events__waiting(): deliver a
 * pending NMI/IRQ (1), take an NMI-/interrupt-window exit (0, c->stop =
 * MSTOP_VMEXIT, vmcs.exit_reason), or trim the slice to the end of an
 * interrupt shadow (0). */
int model_events__boundary(struct model_cpu *c);

#endif
