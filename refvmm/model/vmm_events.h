/* vmm_events.h - refvmm's NMI/IRQ delivery policies on the model backend
 * (the VMM's code; the model CPU only provides the VMX controls, the exits
 * and the guest's blocking state: model_events.c, model_vmcs.h).
 *
 * Everything runs in modeled time (guest-TSC cycles, model_cpu__tsc), on
 * the vCPU thread, deterministically: no host timer thread.
 *
 * Sources: the guest's VTB_HC_RAISE_NMI / VTB_HC_RAISE_IRQ (delay_ns is
 * converted to cycles at the guest's TSC rate) and the VMM's periodic
 * timers (--nmi-rate / --irq-rate, inside the timed region only). A source
 * firing while the guest runs is a host interrupt: an EXTERNAL_INTERRUPT
 * exit at its modeled time. Before every VM entry the VMM decides:
 *
 *   window  NMI: inject when the guest has no NMI/STI/MOV-SS blocking, else
 *           set NMI-window exiting and inject at the NMI_WINDOW exit.
 *           IRQ: inject when RFLAGS.IF=1 and no STI/MOV-SS shadow, else
 *           set interrupt-window exiting and inject at INTERRUPT_WINDOW.
 *   poll    the same check, but only at exits that happen anyway and at a
 *           VMX-preemption-timer exit armed every --poll-us (converted to
 *           cycles) while an event waits; no window controls.
 *
 * One event is injected per entry (NMI first). NMIs coalesce: one waits in
 * the VMM while another is handled; a raise while one waits is "merged".
 * IRQs queue (256; beyond: "dropped"). Latency: modeled cycles from the
 * raise to the CPU's delivery of the event (the handler's first
 * instruction). Counters cover the whole run. */
#ifndef REFVMM_MODEL_VMM_EVENTS_H
#define REFVMM_MODEL_VMM_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../vm.h"

struct model_cpu;
struct json_t;

enum { VEV_NMI, VEV_IRQ, VEV_KINDS };
/* The exits the policies add, by SDM basic exit reason */
enum { VEX_NMI_WINDOW, VEX_INTR_WINDOW, VEX_PREEMPTION_TIMER, VEX_EXTERNAL_INTERRUPT, VEX_COUNT };

#define VMM_EVENTS_IRQ_QUEUE 256
#define VMM_EVENTS_SCHED_MAX 4096

struct vmm_event_stats {
  uint64_t raised, delivered, merged, dropped;
  uint64_t injected;        /* injections at VM entry */
  uint64_t window_exits;    /* NMI_WINDOW / INTERRUPT_WINDOW exits for this kind */
  uint64_t window_requests; /* entries that turned the window control on */
  uint64_t poll_exits;      /* PREEMPTION_TIMER exits taken while this kind waited */
  uint64_t raise_exits;     /* EXTERNAL_INTERRUPT exits: a timer source fired for this kind */
  uint64_t blocked_checks;  /* decisions where one waited and the guest could not take it */
  uint64_t *lat;            /* raise -> delivery, cycles, delivery order */
  uint64_t nlat, cap;
  uint64_t lat_min, lat_p50, lat_p99, lat_max; /* after vmm_events__finish */
  double lat_mean;
};

struct vmm_events {
  struct model_cpu *c;
  bool active; /* configured: the policies run (else the backend injects at once) */
  enum event_mode policy[VEV_KINDS];
  uint64_t tsc_hz; /* guest TSC rate the ns figures convert with */
  bool resolved;   /* tsc_hz and the cycle figures below are set */
  double poll_us;  /* as given */
  double rate_hz[VEV_KINDS];
  uint64_t poll_cycles; /* preemption-timer interval */
  uint64_t period_cycles[VEV_KINDS], next_period[VEV_KINDS];
  bool periodic_on;
  uint32_t irq_vector;

  /* waiting in the VMM */
  bool nmi_pending;
  uint64_t nmi_raise_t;
  struct {
    uint32_t vector;
    uint64_t t;
  } irq_q[VMM_EVENTS_IRQ_QUEUE];
  unsigned irq_head, irq_n;
  /* injected at entry, not yet delivered by the CPU: raise time */
  bool nmi_inflight, irq_inflight;
  uint64_t nmi_inflight_t, irq_inflight_t;
  bool polling;           /* the preemption timer is armed */
  uint64_t poll_deadline; /* its next expiry */
  struct {
    uint64_t due;
    uint32_t kind, vector, count;
  } sched[VMM_EVENTS_SCHED_MAX];
  int nsched;

  uint64_t log_gpa[VEV_KINDS]; /* the guest's vtb_event_log, 0 none */
  uint64_t exits[VEX_COUNT];
  struct vmm_event_stats st[VEV_KINDS];
  bool finished;
};

/* Inactive state bound to the CPU (model_create). */
void vmm_events__init(struct vmm_events *ve, struct model_cpu *c);
/* Turn the policies on with the run's configuration (refvmm/events.c).
 * tsc_hz: the guest's TSC rate for ns figures; 0 = the rate of the CPU's
 * cost profile (tsc_ghz, what the guest's boot info says), read at the
 * first use since the profile is installed after this. */
void vmm_events__configure(struct vmm_events *ve, const struct vm_config *cfg, uint64_t tsc_hz);
void vmm_events__free(struct vmm_events *ve);
/* Modeled time now: guest-TSC cycles. */
uint64_t vmm_events__now(const struct vmm_events *ve);
uint64_t vmm_events__ns_to_cycles(struct vmm_events *ve, uint64_t ns);
/* A raise (count events of kind k, vector for IRQs) now or delay_ns ahead
 * in modeled time. 0 or -ENOSPC (too many delayed raises). */
int vmm_events__raise(struct vmm_events *ve, int k, uint32_t vector, uint32_t count,
                      uint64_t delay_ns);
void vmm_events__on_timed(struct vmm_events *ve, bool begin);
void vmm_events__on_report(struct vmm_events *ve, const char *key, uint64_t value);
/* The model backend's run step in place of model_cpu__run(): decide,
 * enter, run, and handle one event exit in the VMM (returned as
 * MSTOP_SLICE, the caller goes round again). */
int vmm_events__run(struct vmm_events *ve, uint64_t budget);
/* After the run: latency statistics. */
void vmm_events__finish(struct vmm_events *ve);

/* {"poll_us", "poll_cycles", "tsc_hz", "exits_added": {...},
 *  "nmi": {policy, raised, delivered, merged, dropped, pending_at_end, ...,
 *          "latency_cycles": {samples, min, p50, p99, max, mean}}, "irq": {...}}
 * JSON null when inactive. */
struct json_t *vmm_events__to_json(const struct vmm_events *ve);
void vmm_events__print(const struct vmm_events *ve, FILE *out);

#endif
