/* vmm_events.c - refvmm's NMI/IRQ policies driven at the model CPU's VM
 * entries (vmm_events.h). */
#include "vmm_events.h"

#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#include "../cpu/model_vmcs.h"
#include "../cpu/x86.h"

static const unsigned vex_reason[VEX_COUNT] = {EXIT_REASON_NMI_WINDOW, EXIT_REASON_INTERRUPT_WINDOW,
                                               EXIT_REASON_PREEMPTION_TIMER,
                                               EXIT_REASON_EXTERNAL_INTERRUPT};

/* ---- the CPU as the policies see it ------------------------------------------ */
static uint64_t m_now(void *arg) {
  const struct vmm_events *ve = arg;
  return model_vmx__guest_tsc(ve->c);
}
static uint64_t m_hz(void *arg) {
  const struct vmm_events *ve = arg;
  return ve->tsc_hz ? ve->tsc_hz : ve->rate ? ve->rate(ve->rate_arg) : 0;
}
/* modeled time is the guest's TSC: an event's stamp is its raise time */
static uint64_t m_stamp(void *arg, uint64_t t) {
  (void)arg;
  return t;
}
static uint64_t m_guest_tsc(void *arg, uint64_t stamp) {
  (void)arg;
  return stamp;
}
static int m_guest_state(void *arg, unsigned kinds, struct event_guest_state *st) {
  const struct vmm_events *ve = arg;
  (void)kinds;
  uint32_t intr = model_vmx__interruptibility(ve->c);
  bool shadow = intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);
  st->nmi_blocked = (intr & GUEST_INTR_STATE_NMI) || shadow;
  st->irq_blocked = !(model_vmx__guest_rflags(ve->c) & RF_IF) || shadow;
  st->nmi_held = model_vmx__injection_pending(ve->c, VMX_EVENT_NMI);
  st->irq_held = model_vmx__injection_pending(ve->c, VMX_EVENT_EXTINT);
  return 0;
}
static int m_inject_nmi(void *arg, uint64_t stamp) {
  struct vmm_events *ve = arg;
  (void)stamp;
  model_vmx__inject(ve->c, VMX_EVENT_NMI, 0);
  return 0;
}
static int m_inject_irq(void *arg, uint32_t vector, uint64_t stamp) {
  struct vmm_events *ve = arg;
  (void)stamp;
  model_vmx__inject(ve->c, VMX_EVENT_EXTINT, (uint8_t)vector);
  return 0;
}
static void set_proc(struct vmm_events *ve, uint32_t bit, bool on) {
  struct model_vmcs *v = ve->v;
  if (on)
    v->proc_based |= bit;
  else
    v->proc_based &= ~bit;
}
static void m_nmi_window(void *arg, bool on) {
  set_proc(arg, CPU_BASED_NMI_WINDOW_EXITING, on);
}
static void m_irq_window(void *arg, bool on) {
  set_proc(arg, CPU_BASED_INTR_WINDOW_EXITING, on);
}
static void m_poll_timer(void *arg, bool on, uint64_t deadline) {
  struct model_vmcs *v = ((struct vmm_events *)arg)->v;
  if (on) {
    v->pin_based |= PIN_BASED_VMX_PREEMPTION_TIMER;
    v->preemption_deadline = deadline;
  } else {
    v->pin_based &= ~PIN_BASED_VMX_PREEMPTION_TIMER;
  }
}
/* the exits the policies added, by SDM reason; the clock they ran in */
static void m_json_extra(void *arg, json_t *o) {
  const struct vmm_events *ve = arg;
  json_t *ex = json_object();
  for (int i = 0; i < VEX_COUNT; i++)
    json_object_set_new(ex, vmx_exit_reason__name(vex_reason[i]),
                        json_integer((json_int_t)ve->exits[i]));
  json_object_set_new(o, "clock", json_string("modeled"));
  json_object_set_new(o, "exits_caused", ex);
}

void vmm_events__init(struct vmm_events *ve, struct model_cpu *c, uint64_t tsc_hz,
                      uint64_t (*rate)(void *arg), void *rate_arg) {
  memset(ve, 0, sizeof *ve);
  ve->c = c;
  ve->v = model_vmx__vmcs(c);
  ve->tsc_hz = tsc_hz;
  ve->rate = rate;
  ve->rate_arg = rate_arg;
  ve->hw = (struct event_hw){
      .arg = ve,
      .now = m_now,
      .hz = m_hz,
      .stamp = m_stamp,
      .guest_tsc = m_guest_tsc,
      .guest_state = m_guest_state,
      .inject_nmi = m_inject_nmi,
      .inject_irq = m_inject_irq,
      .nmi_window = m_nmi_window,
      .irq_window = m_irq_window,
      .poll_timer = m_poll_timer,
      .json_extra = m_json_extra,
      .one_event_per_entry = true, /* one VM-entry interruption-information field */
      .sources_at_entry = true,    /* the host's timer fired while the VMM ran */
      .delivered_at_injection = false,
  };
}

void vmm_events__attach(struct vmm_events *ve, struct event_policy *p) {
  ve->p = p;
  p->hw = &ve->hw;
  ve->v->pin_based |= PIN_BASED_EXT_INTR_EXITING | PIN_BASED_NMI_EXITING | PIN_BASED_VIRTUAL_NMIS;
}

/* After a run: the events the CPU delivered (handler entry times). */
static void collect(struct vmm_events *ve) {
  const struct model_vmcs *v = ve->v;
  if (!model_vmx__injection_pending(ve->c, VMX_EVENT_NMI))
    event_policy__delivered(ve->p, EV_NMI, v->nmi_delivered_tsc);
  if (!model_vmx__injection_pending(ve->c, VMX_EVENT_EXTINT))
    event_policy__delivered(ve->p, EV_IRQ, v->irq_delivered_tsc);
}

static void handle_exit(struct vmm_events *ve, unsigned reason) {
  struct event_policy *p = ve->p;
  uint64_t now = event_policy__now(p);
  switch (reason) {
  case EXIT_REASON_NMI_WINDOW:
    ve->exits[VEX_NMI_WINDOW]++;
    event_policy__window_exit(p, EV_NMI);
    break; /* decide() injects at the next entry */
  case EXIT_REASON_INTERRUPT_WINDOW:
    ve->exits[VEX_INTR_WINDOW]++;
    event_policy__window_exit(p, EV_IRQ);
    break;
  case EXIT_REASON_PREEMPTION_TIMER:
    ve->exits[VEX_PREEMPTION_TIMER]++;
    event_policy__poll_expired(p, now);
    break;
  case EXIT_REASON_EXTERNAL_INTERRUPT:
    ve->exits[VEX_EXTERNAL_INTERRUPT]++;
    event_policy__host_timer(p, now);
    break;
  default:
    break;
  }
}

int vmm_events__run(struct vmm_events *ve, uint64_t budget) {
  struct model_cpu *c = ve->c;
  struct event_policy *p = ve->p;
  if (!p) return model_vmx__run(c, budget);
  event_policy__decide(p);
  int s = model_vmx__run_guest(c, budget, event_policy__next_due(p));
  collect(ve);
  if (s != MSTOP_VMEXIT) return s;
  handle_exit(ve, ve->v->exit_reason);
  model_vmx__entry(c); /* handled in the VMM: straight back in */
  return MSTOP_SLICE;
}

/* ---- report --------------------------------------------------------------------- */
static json_t *kind_json(const struct event_policy *p, enum event_kind k) {
  const struct event_stats *st = &p->st[k];
  json_t *lat = json_pack("{s:I}", "samples", (json_int_t)st->nlat);
  if (st->nlat && p->finished) {
    json_object_set_new(lat, "min", json_integer((json_int_t)st->lat_min));
    json_object_set_new(lat, "p50", json_integer((json_int_t)st->lat_p50));
    json_object_set_new(lat, "p99", json_integer((json_int_t)st->lat_p99));
    json_object_set_new(lat, "max", json_integer((json_int_t)st->lat_max));
    json_object_set_new(lat, "mean", json_real(st->lat_mean));
  }
  json_t *smp = json_array();
  for (uint64_t i = 0; i < st->nlat; i++)
    json_array_append_new(smp, json_integer((json_int_t)st->lat[i]));
  double per = (double)p->period[k];
  return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "policy",
                   event_mode__name(p->policy[k]), "raised", (json_int_t)st->raised, "delivered",
                   (json_int_t)st->delivered, "merged", (json_int_t)st->merged, "dropped",
                   (json_int_t)st->dropped, "pending_at_end",
                   (json_int_t)event_policy__pending(p, k), "injected", (json_int_t)st->injected,
                   "window_exits", (json_int_t)st->window_exits, "window_requests",
                   (json_int_t)st->window_requests, "poll_exits", (json_int_t)st->poll_expiries,
                   "raise_exits", (json_int_t)st->timer_raises, "blocked_checks",
                   (json_int_t)st->blocked_checks, "rate_hz",
                   per > 0 ? json_real((double)p->hz / per) : json_null(), "latency_cycles", lat,
                   "samples_cycles", smp);
}

json_t *vmm_events__to_json(const struct vmm_events *ve) {
  const struct event_policy *p = ve ? ve->p : NULL;
  if (!p || !p->active) return json_null();
  json_t *ex = json_object();
  for (int i = 0; i < VEX_COUNT; i++)
    json_object_set_new(ex, vmx_exit_reason__name(vex_reason[i]),
                        json_integer((json_int_t)ve->exits[i]));
  return json_pack("{s:f,s:I,s:I,s:o,s:o,s:o}", "poll_us", p->poll_us, "poll_cycles",
                   (json_int_t)p->poll_ticks, "tsc_hz", (json_int_t)p->hz, "exits_added", ex,
                   event_kind__name(EV_NMI), kind_json(p, EV_NMI), event_kind__name(EV_IRQ),
                   kind_json(p, EV_IRQ));
}

void vmm_events__print(const struct vmm_events *ve, FILE *out) {
  const struct event_policy *p = ve ? ve->p : NULL;
  if (!p || !p->active) return;
  if (!p->st[EV_NMI].raised && !p->st[EV_IRQ].raised) return;
  fprintf(out,
          "model events: exits added: NMI_WINDOW %" PRIu64 ", INTERRUPT_WINDOW %" PRIu64
          ", PREEMPTION_TIMER %" PRIu64 " (poll every %" PRIu64 " cycles = %g us), "
          "EXTERNAL_INTERRUPT %" PRIu64 " (timer sources)\n",
          ve->exits[VEX_NMI_WINDOW], ve->exits[VEX_INTR_WINDOW], ve->exits[VEX_PREEMPTION_TIMER],
          p->poll_ticks, p->poll_us, ve->exits[VEX_EXTERNAL_INTERRUPT]);
  for (int k = 0; k < EV_KINDS; k++) {
    const struct event_stats *st = &p->st[k];
    if (!st->raised) continue;
    fprintf(out,
            "model events %s (%s): raised %" PRIu64 ", delivered %" PRIu64 ", merged %" PRIu64
            ", dropped %" PRIu64 ", pending at end %" PRIu64 "; window exits %" PRIu64
            ", poll exits %" PRIu64 "\n",
            event_kind__name(k), event_mode__name(p->policy[k]), st->raised, st->delivered,
            st->merged, st->dropped, event_policy__pending(p, k), st->window_exits,
            st->poll_expiries);
    if (st->nlat && p->finished)
      fprintf(out,
              "  latency raise->handler (%" PRIu64 " samples, modeled cycles): min %" PRIu64
              ", p50 %" PRIu64 ", p99 %" PRIu64 ", max %" PRIu64 ", mean %.1f\n",
              st->nlat, st->lat_min, st->lat_p50, st->lat_p99, st->lat_max, st->lat_mean);
  }
}
