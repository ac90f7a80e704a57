/* events.h - helpers for the event workloads (nmistorm, irqstorm): an
 * entry stub that records the guest TSC as the first thing an NMI or IRQ
 * does, a delivery log shared with refvmm (struct vtb_event_log), and a
 * TSC-timed spin.
 *
 * rt_events__hook_tsc(vector, slot) points IDT gate `vector` at a stub
 * that does RDTSC into *slot and then jumps to the runtime's own stub for
 * that vector, so a handler installed with trap_set_handler() still runs.
 * Two hooks exist: one for NMI (vector 2) and one for an IRQ vector. */
#ifndef RT_EVENTS_H
#define RT_EVENTS_H

#include <stdint.h>

#include "vtb_abi.h"

extern volatile uint64_t rt_ev_nmi_tsc; /* TSC at the last NMI's entry */
extern volatile uint64_t rt_ev_irq_tsc; /* TSC at the last hooked IRQ's entry */

/* CPL0. vector 2 uses the NMI hook, any vector 32..255 the IRQ hook (one
 * IRQ vector at a time). 0, or -1 for another vector. */
int rt_events__hook_tsc(unsigned vector);

/* Note the k-th handler entry at `tsc` in `log`; the latency in TSC ticks
 * against refvmm's raise_tsc[k] (0 when refvmm wrote none). Handler context. */
uint64_t rt_events__log(struct vtb_event_log *log, uint64_t tsc);

/* Spin for `ticks` TSC ticks (interrupts as the caller has them). */
void rt_events__spin(uint64_t ticks);

/* TSC ticks in `us` microseconds (boot info's tsc_hz; 2 GHz if unknown). */
uint64_t rt_events__us_to_tsc(uint64_t us);
/* Nanoseconds in `ticks` TSC ticks (same frequency). */
uint64_t rt_events__tsc_to_ns(uint64_t ticks);

/* Rate mode of the storm workloads: raise n events at `rate` per second on
 * average on a fixed pseudo-random schedule from now (gaps uniform in
 * [0, 2/rate), from vtb_mix64(k); each hypercall's delay is computed from
 * the TSC so the schedule does not drift), calling raise(delay_ns) n times.
 * The last event is due at most 2n/rate s after the start. */
void rt_events__schedule(uint64_t n, uint64_t rate, void (*raise)(uint64_t delay_ns));

#endif
