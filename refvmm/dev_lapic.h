/* dev_lapic.h - a local APIC in refvmm (xAPIC, Intel SDM vol. 3, chapter
 * 11) for backends without an in-kernel one (the model): its registers as
 * MMIO at 0xfee00000, IA32_TSC_DEADLINE as an MSR, and interrupts
 * delivered through refvmm's IRQ policy (event_policy.h), so --irq
 * poll|window governs them:
 *
 *   accept   a vector arrives (the timer, the I/O APIC, an IPI to self):
 *            it is set in IRR;
 *   offer    the highest IRR vector whose priority class is above the
 *            processor priority (PPR) is raised into the policy, one at a
 *            time, stamped with the time it arrived;
 *   ack      the policy injects it: IRR -> ISR (the CPU's INTA);
 *   EOI      the guest's EOI write clears the highest ISR bit and the next
 *            vector is offered.
 *
 * The timer runs in one-shot, periodic (at the 1 MHz crystal CPUID leaf
 * 0x15 reports, divided) and TSC-deadline modes, as a device timer of the
 * policy in guest-TSC ticks (the policy's clock must be the guest's TSC).
 *
 * Differences from hardware, kept visible: one vector waits in the policy
 * at a time, so a higher-priority vector that arrives while a lower one
 * waits there is delivered right after it instead of before; CR8 and the
 * TPR are not linked (Linux never writes either); the APIC stays at
 * 0xfee00000 (IA32_APIC_BASE cannot move it); no LINT0/LINT1 sources,
 * no thermal, performance-counter or CMCI interrupts; INIT and SIPI IPIs
 * are dropped (there is one CPU).
 */
#ifndef REFVMM_DEV_LAPIC_H
#define REFVMM_DEV_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "devbus.h"
#include "event_policy.h"

#define LAPIC_CRYSTAL_HZ 1000000u /* the timer's input clock, before the divider */

struct lapic {
  struct event_policy *p;
  uint64_t tsc_hz; /* guest TSC ticks per second (the policy's clock) */
  uint32_t id, tpr, ldr, dfr, svr, esr, icr_lo, icr_hi;
  uint32_t lvt[7]; /* CMCI, timer, thermal, perf, LINT0, LINT1, error */
  uint32_t irr[8], isr[8], tmr[8];
  uint64_t arrived[256]; /* clock time each IRR vector was set */
  int offered;           /* vector waiting in the policy, -1 none */
  /* timer */
  uint32_t initial_count, divide_conf;
  uint64_t count_start; /* clock time the count started (one-shot, periodic) */
  uint64_t deadline;    /* IA32_TSC_DEADLINE (0: disarmed) */
  struct event_timer timer;
  /* where level-triggered EOIs go (the I/O APIC) */
  void (*eoi_broadcast)(void *arg, uint8_t vector);
  void *eoi_arg;
  uint64_t timer_fires, eois, ipis, spurious_writes;
};

/* Reset state (SDM 11.4.7.1: LVTs masked, software-disabled) and bound to
 * the policy; registers the timer. 0 or -1 with err. */
int lapic__init(struct lapic *a, struct event_policy *p, uint64_t tsc_hz, char *err, size_t errlen);
/* Register the MMIO page and the TSC-deadline MSR on the bus. */
int lapic__register(struct lapic *a, struct device_bus *bus, char *err, size_t errlen);
/* An interrupt message: fixed delivery of `vector` (NMI when nmi), level
 * trigger sets TMR (its EOI is broadcast). Vectors below 16 are illegal and
 * dropped (the APIC would set a receive-illegal-vector error). */
void lapic__accept(struct lapic *a, uint8_t vector, bool level, bool nmi);
/* Does an interrupt message for `dest` in mode `logical` reach this APIC? */
bool lapic__matches(const struct lapic *a, uint8_t dest, bool logical);

#endif
