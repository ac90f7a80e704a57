/* event_policy.h - refvmm's NMI and IRQ delivery policies (--nmi/--irq
 * poll|window), written once against a clock and an injection interface
 * (struct event_hw) that a backend supplies:
 *
 *   KVM    the wall clock, KVM_NMI / KVM_INTERRUPT / request_interrupt_window
 *          (refvmm/events.c drives the policy: a timer thread, kicks);
 *   model  modeled time (guest-TSC cycles), the model's VMCS-like controls
 *          and exits (refvmm/model/vmm/vmm_events.c drives it).
 *
 * Sources: the guest's VTB_HC_RAISE_NMI / VTB_HC_RAISE_IRQ (now or delay_ns
 * later, converted to clock ticks) and the VMM's periodic timers
 * (--nmi-rate / --irq-rate, inside the timed region only). Raised events
 * wait in the VMM: NMIs in one latch (a raise while one waits is "merged"),
 * IRQs in a queue (256; beyond: "dropped"). Before every entry the VMM
 * decides (event_policy__decide):
 *
 *   window  inject what the guest can take now; for what must wait, ask the
 *           hardware for an exit when the guest can take it (NMI-window /
 *           interrupt-window exiting). A backend without an NMI-window
 *           control latches one NMI itself and delivers it at the guest's
 *           NMI window (KVM_NMI): the VMM hands NMIs over at once, and one
 *           raised while the latch is full coalesces with it (merged).
 *   poll    the same check, but only at exits that happen anyway and at a
 *           poll timer armed every --poll-us while an event waits; no window
 *           controls. A check that finds the guest blocked is counted.
 *
 * The state is touched by one thread at a time: the driver serialises its
 * timer with the vCPU thread where it has one.
 */
#ifndef REFVMM_EVENT_POLICY_H
#define REFVMM_EVENT_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vm.h"

struct json_t;

enum event_kind { EV_NMI, EV_IRQ, EV_KINDS };

#define EVENT_IRQ_QUEUE   256  /* IRQs waiting in the VMM */
#define EVENT_SCHED_MAX   4096 /* delayed raises waiting for their time */
#define EVENT_POLL_US_DEF 100.0
#define EVENT_IRQ_VECTOR  0x40 /* --irq-rate's vector unless --irq-vector */

/* What the guest could take now: blocked (NMI blocking, IF=0, an STI/MOV-SS
 * shadow) or an event injected earlier still held by the backend. */
struct event_guest_state {
  bool nmi_blocked, nmi_held;
  bool irq_blocked, irq_held;
};

/* The clock and the injection controls of one backend. Guest-state and
 * injection hooks are called before an entry, on the vCPU thread. */
struct event_hw {
  void *arg;
  /* the clock the policy runs in: ticks now; hz ticks per second, known
   * when the policy first needs it (resolve; 0 = the driver's default) */
  uint64_t (*now)(void *arg);
  uint64_t (*hz)(void *arg);
  /* The time stamp kept with an event raised at clock time t (the
   * latencies' unit, stamp_hz per second) and the guest-TSC value of a
   * stamp (what the guest's event log holds). */
  uint64_t (*stamp)(void *arg, uint64_t t);
  uint64_t (*guest_tsc)(void *arg, uint64_t stamp);
  /* The guest now, for the kinds in `kinds` (1 << EV_NMI | 1 << EV_IRQ).
   * 0 or -errno (the backend wrote vm->status_detail). */
  int (*guest_state)(void *arg, unsigned kinds, struct event_guest_state *st);
  /* Inject; `stamp` is the event's raise stamp. 0 or -errno (the backend
   * wrote vm->status_detail). */
  int (*inject_nmi)(void *arg, uint64_t stamp);
  int (*inject_irq)(void *arg, uint32_t vector, uint64_t stamp);
  /* NMI-window / interrupt-window exiting on or off; nmi_window NULL: the
   * backend latches one NMI and waits for the guest's NMI window itself */
  void (*nmi_window)(void *arg, bool on);
  void (*irq_window)(void *arg, bool on);
  /* the poll timer: fire at `deadline` (clock ticks), or off */
  void (*poll_timer)(void *arg, bool on, uint64_t deadline);
  /* the driver's own keys of the `events` object (may be NULL) */
  void (*json_extra)(void *arg, struct json_t *events);
  bool one_event_per_entry;    /* one event-injection field (VMCS) */
  bool sources_at_entry;       /* decide raises what came due first (no timer of its own) */
  bool delivered_at_injection; /* the VMM cannot see the delivery (KVM) */
};

struct event_stats {
  uint64_t raised;          /* events the sources produced */
  uint64_t delivered;       /* delivered to the guest (on KVM: handed to KVM) */
  uint64_t merged;          /* NMIs raised while one was already waiting */
  uint64_t dropped;         /* IRQs raised with the queue full */
  uint64_t injected;        /* injections at VM entry */
  uint64_t window_exits;    /* NMI-window / interrupt-window exits for this kind */
  uint64_t window_requests; /* entries that turned the window control on */
  uint64_t poll_expiries;   /* poll-timer expiries while this kind waited */
  uint64_t timer_raises;    /* host timer interrupts that raised this kind */
  uint64_t blocked_checks;  /* decisions where one waited and the guest could not take it */
  uint64_t *lat;            /* raise -> delivery in stamp ticks, delivery order */
  uint64_t nlat, cap;
  uint64_t lat_min, lat_p50, lat_p99, lat_max; /* after event_policy__finish */
  double lat_mean;
};

struct event_policy {
  const struct event_hw *hw;
  const struct guest_mem *mem; /* for the guest's event logs */
  bool active;                 /* configured: the policies run */
  enum event_mode policy[EV_KINDS];
  double poll_us; /* as given */
  double rate_hz[EV_KINDS];
  uint32_t irq_vector;
  bool resolved; /* hz and the tick figures below are set */
  uint64_t hz;   /* clock ticks per second */
  uint64_t poll_ticks;
  uint64_t period[EV_KINDS], next_period[EV_KINDS]; /* periodic sources, 0 none */
  bool periodic_on;                                 /* inside the timed region */

  /* waiting in the VMM */
  bool nmi_pending;
  uint64_t nmi_stamp;
  struct {
    uint32_t vector;
    uint64_t stamp;
  } irq_q[EVENT_IRQ_QUEUE];
  unsigned irq_head, irq_n;
  /* injected, not yet delivered (backends that report deliveries) */
  bool inflight[EV_KINDS];
  uint64_t inflight_stamp[EV_KINDS];
  bool window_on[EV_KINDS];
  bool polling;           /* the poll timer is armed */
  uint64_t poll_deadline; /* its next expiry */
  struct {
    uint64_t due;
    uint32_t kind, vector, count;
  } sched[EVENT_SCHED_MAX];
  int nsched;

  uint64_t log_gpa[EV_KINDS]; /* the guest's vtb_event_log, 0 none */
  struct event_stats st[EV_KINDS];
  bool finished;
};

const char *event_kind__name(enum event_kind k); /* "nmi", "irq" */

/* Inactive, bound to a backend's clock and controls and guest RAM. */
void event_policy__init(struct event_policy *p, const struct event_hw *hw,
                        const struct guest_mem *mem);
/* Turn the policies on with the run's configuration; the tick figures are
 * computed at the first use (the clock's rate may be known only then). */
void event_policy__configure(struct event_policy *p, const struct vm_config *cfg);
void event_policy__free(struct event_policy *p);
uint64_t event_policy__now(struct event_policy *p);
uint64_t event_policy__ns_to_ticks(struct event_policy *p, uint64_t ns);

/* A raise of count events of kind k (vector for IRQs) now or delay_ns
 * ahead. 0 or -ENOSPC (too many delayed raises). */
int event_policy__raise(struct event_policy *p, enum event_kind k, uint32_t vector, uint32_t count,
                        uint64_t delay_ns);
/* The next time a delayed raise or periodic source is due (UINT64_MAX none). */
uint64_t event_policy__next_due(const struct event_policy *p);
/* Raise what is due by `now`, each with its own due time; which kinds were
 * raised in fired[] (may be NULL). A host timer interrupt that found them
 * due counts them (event_policy__host_timer); a check at entry does not. */
void event_policy__fire_due(struct event_policy *p, uint64_t now, bool fired[EV_KINDS]);
unsigned event_policy__host_timer(struct event_policy *p, uint64_t now); /* mask of kinds */
/* Something waits under the poll policy. */
bool event_policy__poll_waiting(const struct event_policy *p);
/* Arm the poll timer one interval from now when waiting began (true when
 * it was armed now), or disarm it when nothing waits. */
bool event_policy__poll_update(struct event_policy *p, uint64_t now);
/* The poll timer expired at `now`: counts per waiting kind, re-armed. */
void event_policy__poll_expired(struct event_policy *p, uint64_t now);
/* Before an entry: raise what came due (sources_at_entry), inject what the
 * guest can take, set the window controls and the poll timer. 0 or an
 * injection's -errno. */
int event_policy__decide(struct event_policy *p);
/* An NMI-window / interrupt-window exit for kind k. */
void event_policy__window_exit(struct event_policy *p, enum event_kind k);
/* The backend delivered the in-flight event of kind k at stamp t. */
void event_policy__delivered(struct event_policy *p, enum event_kind k, uint64_t t);
/* A latency sample (stamp ticks) the driver measured itself. */
void event_policy__add_latency(struct event_policy *p, enum event_kind k, uint64_t ticks);
void event_policy__on_timed(struct event_policy *p, bool begin);
/* A guest report: picks up VTB_KEY_NMI_LOG / VTB_KEY_IRQ_LOG. */
void event_policy__on_report(struct event_policy *p, const char *key, uint64_t value);
/* After the run: latency statistics. */
void event_policy__finish(struct event_policy *p);
/* Events still in the VMM or in flight at the end. */
uint64_t event_policy__pending(const struct event_policy *p, enum event_kind k);

/* The result document's `events` object: {poll_us, nmi: {policy, raised,
 * delivered, ..., latency_ns, samples_ns}, irq: {...}} plus the driver's
 * keys (json_extra); ns from stamp ticks at stamp_hz. JSON null when
 * inactive. New reference. */
struct json_t *event_policy__to_json(const struct event_policy *p, uint64_t stamp_hz);

#endif
