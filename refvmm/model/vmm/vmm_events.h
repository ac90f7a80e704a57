/* vmm_events.h - refvmm's NMI/IRQ policies (refvmm/event_policy.h) on the
 * model backend: the VMM's code that runs them at every VM entry of the
 * model CPU, in modeled time (guest-TSC cycles), deterministically, through
 * the CPU's VMCS-like controls and exits only (model_vmcs.h):
 *
 *   decide    before every entry (sources due by then raised without an
 *             exit: the host timer fired while the VMM ran);
 *   inject    VM-entry event injection, one event per entry;
 *   window    NMI-window / interrupt-window exiting;
 *   poll      the VMX-preemption timer, armed every --poll-us while one waits;
 *   sources   a delayed raise or periodic source due while the guest runs
 *             is a host interrupt: an EXTERNAL_INTERRUPT exit at its time.
 *
 * Latency: modeled cycles from the raise to the CPU's delivery (the
 * handler's first instruction). */
#ifndef REFVMM_MODEL_VMM_EVENTS_H
#define REFVMM_MODEL_VMM_EVENTS_H

#include <stdint.h>
#include <stdio.h>

#include "../../event_policy.h"

struct model_cpu;
struct model_vmcs;
struct json_t;

/* The exits the policies add, by SDM basic exit reason */
enum { VEX_NMI_WINDOW, VEX_INTR_WINDOW, VEX_PREEMPTION_TIMER, VEX_EXTERNAL_INTERRUPT, VEX_COUNT };

struct vmm_events {
  struct model_cpu *c;
  struct model_vmcs *v;   /* its controls and exit information */
  struct event_policy *p; /* attached policies, NULL: the CPU runs without them */
  struct event_hw hw;     /* the policies' view of the CPU */
  /* the guest's TSC rate: tsc_hz when set, else rate(rate_arg) */
  uint64_t tsc_hz;
  uint64_t (*rate)(void *arg);
  void *rate_arg;
  uint64_t exits[VEX_COUNT];
};

void vmm_events__init(struct vmm_events *ve, struct model_cpu *c, uint64_t tsc_hz,
                      uint64_t (*rate)(void *arg), void *rate_arg);
/* Bind configured policies to this CPU (as KVM runs guests: host
 * interrupts and NMIs exit, virtual NMIs, which NMI-window exiting
 * requires, SDM 26.2.1.1). */
void vmm_events__attach(struct vmm_events *ve, struct event_policy *p);
/* The backend's run step in place of model_cpu__run(): decide, enter, run,
 * and handle one event exit in the VMM (returned as MSTOP_SLICE, the
 * caller goes round again). */
int vmm_events__run(struct vmm_events *ve, uint64_t budget);

/* The model section's view in cycles: {"poll_us", "poll_cycles", "tsc_hz",
 * "exits_added": {...}, "nmi": {policy, raised, delivered, ..., injected,
 * poll_exits, raise_exits, "latency_cycles": {...}, "samples_cycles"},
 * "irq": {...}}; JSON null without policies. */
struct json_t *vmm_events__to_json(const struct vmm_events *ve);
void vmm_events__print(const struct vmm_events *ve, FILE *out);

#endif
