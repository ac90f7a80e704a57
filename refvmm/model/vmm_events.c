/* vmm_events.c - refvmm's poll and window policies for NMIs and IRQs on
 * the model backend, in modeled time (vmm_events.h). The CPU side (window
 * exits, the preemption timer, blocking state) is model_events.c. */
#include "vmm_events.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cost_model.h"
#include "model_cpu.h"

#define POLL_US_DEF 100.0
#define IRQ_VEC_DEF 0x40
#define TSC_HZ_DEF  2000000000ull /* the guest runtime's own default (rt/events.c) */

static const char *const kind_name[VEV_KINDS] = {"nmi", "irq"};
static const unsigned vex_reason[VEX_COUNT] = {EXIT_REASON_NMI_WINDOW, EXIT_REASON_INTERRUPT_WINDOW,
                                               EXIT_REASON_PREEMPTION_TIMER,
                                               EXIT_REASON_EXTERNAL_INTERRUPT};

static void resolve(struct vmm_events *ve);
static inline void ensure(struct vmm_events *ve) {
  if (__builtin_expect(!ve->resolved, 0)) resolve(ve);
}

void vmm_events__init(struct vmm_events *ve, struct model_cpu *c) {
  memset(ve, 0, sizeof *ve);
  ve->c = c;
  ve->policy[VEV_NMI] = ve->policy[VEV_IRQ] = EVENT_WINDOW;
}

void vmm_events__free(struct vmm_events *ve) {
  for (int k = 0; k < VEV_KINDS; k++) {
    free(ve->st[k].lat);
    ve->st[k].lat = NULL;
    ve->st[k].nlat = ve->st[k].cap = 0;
  }
}

/* Modeled time: the guest's TSC (TSC offset + the cost model's cycles,
 * model_cost__now()), so raise times land in the guest's own clock. */
uint64_t vmm_events__now(const struct vmm_events *ve) {
  return model_cpu__tsc(ve->c);
}

uint64_t vmm_events__ns_to_cycles(struct vmm_events *ve, uint64_t ns) {
  ensure(ve);
  return (uint64_t)((unsigned __int128)ns * ve->tsc_hz / 1000000000u);
}

static uint64_t hz_to_cycles(const struct vmm_events *ve, double hz) {
  if (hz <= 0) return 0;
  double p = (double)ve->tsc_hz / hz;
  return p < 1 ? 1 : (uint64_t)p;
}

/* The cycle figures, once the guest's TSC rate is known. */
static void resolve(struct vmm_events *ve) {
  if (!ve->tsc_hz) {
    const struct cost_profile *p = model_cost__profile(ve->c);
    ve->tsc_hz = p && p->tsc_ghz > 0 ? (uint64_t)(p->tsc_ghz * 1e9 + 0.5) : TSC_HZ_DEF;
  }
  ve->poll_cycles = (uint64_t)(ve->poll_us * (double)ve->tsc_hz / 1e6);
  if (ve->poll_cycles < 1) ve->poll_cycles = 1;
  ve->period_cycles[VEV_NMI] = hz_to_cycles(ve, ve->rate_hz[VEV_NMI]);
  ve->period_cycles[VEV_IRQ] = hz_to_cycles(ve, ve->rate_hz[VEV_IRQ]);
  ve->resolved = true;
}

void vmm_events__configure(struct vmm_events *ve, const struct vm_config *cfg, uint64_t tsc_hz) {
  ve->active = true;
  ve->policy[VEV_NMI] = cfg->modes.nmi;
  ve->policy[VEV_IRQ] = cfg->modes.irq;
  ve->tsc_hz = tsc_hz; /* 0: the rate of the CPU's cost profile, at the first use */
  ve->poll_us = cfg->poll_us > 0 ? cfg->poll_us : POLL_US_DEF;
  ve->rate_hz[VEV_NMI] = cfg->nmi_rate_hz;
  ve->rate_hz[VEV_IRQ] = cfg->irq_rate_hz;
  ve->irq_vector = cfg->irq_vector ? cfg->irq_vector : IRQ_VEC_DEF;
  ve->resolved = false;
  if (tsc_hz) resolve(ve);
  /* as KVM runs guests: host interrupts and NMIs exit, virtual NMIs (which
   * NMI-window exiting requires, SDM 26.2.1.1) */
  ve->c->vmcs.pin_based |=
      PIN_BASED_EXT_INTR_EXITING | PIN_BASED_NMI_EXITING | PIN_BASED_VIRTUAL_NMIS;
}

/* ---- sources -------------------------------------------------------------------- */
static void raise_at(struct vmm_events *ve, int k, uint32_t vector, uint32_t count, uint64_t t) {
  struct vmm_event_stats *st = &ve->st[k];
  for (uint32_t i = 0; i < count; i++) {
    st->raised++;
    if (k == VEV_NMI) {
      if (ve->nmi_pending) {
        st->merged++; /* one NMI latch, as on hardware */
        continue;
      }
      ve->nmi_pending = true;
      ve->nmi_raise_t = t;
    } else {
      if (ve->irq_n >= VMM_EVENTS_IRQ_QUEUE) {
        st->dropped++;
        continue;
      }
      unsigned slot = (ve->irq_head + ve->irq_n) % VMM_EVENTS_IRQ_QUEUE;
      ve->irq_q[slot].vector = vector;
      ve->irq_q[slot].t = t;
      ve->irq_n++;
    }
  }
}

int vmm_events__raise(struct vmm_events *ve, int k, uint32_t vector, uint32_t count,
                      uint64_t delay_ns) {
  ensure(ve);
  uint64_t now = vmm_events__now(ve);
  if (delay_ns == 0) {
    raise_at(ve, k, vector, count, now);
    return 0;
  }
  if (ve->nsched >= VMM_EVENTS_SCHED_MAX) return -ENOSPC;
  ve->sched[ve->nsched].due = now + vmm_events__ns_to_cycles(ve, delay_ns);
  ve->sched[ve->nsched].kind = (uint32_t)k;
  ve->sched[ve->nsched].vector = vector;
  ve->sched[ve->nsched].count = count;
  ve->nsched++;
  return 0;
}

void vmm_events__on_timed(struct vmm_events *ve, bool begin) {
  ensure(ve);
  ve->periodic_on = begin;
  uint64_t now = vmm_events__now(ve);
  for (int k = 0; k < VEV_KINDS; k++)
    ve->next_period[k] = now + ve->period_cycles[k];
}

void vmm_events__on_report(struct vmm_events *ve, const char *key, uint64_t value) {
  if (strcmp(key, VTB_KEY_NMI_LOG) == 0) ve->log_gpa[VEV_NMI] = value;
  if (strcmp(key, VTB_KEY_IRQ_LOG) == 0) ve->log_gpa[VEV_IRQ] = value;
}

/* The next host-timer interrupt: a delayed raise or a periodic source. */
static uint64_t host_deadline(const struct vmm_events *ve) {
  uint64_t d = UINT64_MAX;
  for (int i = 0; i < ve->nsched; i++)
    if (ve->sched[i].due < d) d = ve->sched[i].due;
  for (int k = 0; k < VEV_KINDS; k++)
    if (ve->periodic_on && ve->period_cycles[k] && ve->next_period[k] < d) d = ve->next_period[k];
  return d;
}

/* Raise what is due by `now`, each at its own time; counts per kind. */
static void fire_due(struct vmm_events *ve, uint64_t now, bool *fired) {
  for (int i = 0; i < ve->nsched;) {
    if (ve->sched[i].due <= now) {
      int k = (int)ve->sched[i].kind;
      raise_at(ve, k, ve->sched[i].vector, ve->sched[i].count, ve->sched[i].due);
      fired[k] = true;
      ve->sched[i] = ve->sched[--ve->nsched];
    } else {
      i++;
    }
  }
  for (int k = 0; k < VEV_KINDS; k++) {
    if (!ve->periodic_on || !ve->period_cycles[k]) continue;
    while (ve->next_period[k] <= now) {
      raise_at(ve, k, ve->irq_vector, 1, ve->next_period[k]);
      fired[k] = true;
      ve->next_period[k] += ve->period_cycles[k];
    }
  }
}

/* ---- delivery ------------------------------------------------------------------- */
/* The k-th injection: the raise time into the guest's log (nmistorm/irqstorm). */
static void log_injection(struct vmm_events *ve, int k, uint64_t raise_t) {
  uint64_t idx = ve->st[k].injected++;
  if (!ve->log_gpa[k]) return;
  struct vtb_event_log *log =
      (struct vtb_event_log *)model_mem__ptr(ve->c, ve->log_gpa[k], sizeof *log);
  if (!log) return;
  if (idx < VTB_EVENT_LOG_MAX) log->raise_tsc[idx] = raise_t;
  log->delivered = idx + 1;
}

static bool poll_waiting(const struct vmm_events *ve) {
  return (ve->policy[VEV_NMI] == EVENT_POLL && ve->nmi_pending) ||
         (ve->policy[VEV_IRQ] == EVENT_POLL && ve->irq_n);
}

/* Before every VM entry: inject what the guest can take now (one event),
 * set the window controls or the poll timer for what must wait. */
static void decide(struct vmm_events *ve) {
  struct model_cpu *c = ve->c;
  uint64_t now = vmm_events__now(ve);
  bool fired[VEV_KINDS] = {false, false};
  fire_due(ve, now, fired);
  uint32_t intr = model_vmx__interruptibility(c);
  bool shadow = intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);
  bool injected = false;
  if (ve->nmi_pending && !c->nmi_pending) {
    if (!(intr & GUEST_INTR_STATE_NMI) && !shadow) {
      ve->nmi_pending = false;
      c->nmi_pending = true; /* VM-entry event injection: delivered before any instruction */
      ve->nmi_inflight = true;
      ve->nmi_inflight_t = ve->nmi_raise_t;
      log_injection(ve, VEV_NMI, ve->nmi_raise_t);
      injected = true;
    } else if (ve->policy[VEV_NMI] == EVENT_POLL) {
      ve->st[VEV_NMI].blocked_checks++;
    }
  }
  if (ve->irq_n && !c->irq_pending) {
    if (!injected && (c->rflags & RF_IF) && !shadow) {
      unsigned h = ve->irq_head;
      c->irq_pending = true;
      c->irq_vector = (uint8_t)ve->irq_q[h].vector;
      ve->irq_inflight = true;
      ve->irq_inflight_t = ve->irq_q[h].t;
      log_injection(ve, VEV_IRQ, ve->irq_q[h].t);
      ve->irq_head = (h + 1) % VMM_EVENTS_IRQ_QUEUE;
      ve->irq_n--;
    } else if (ve->policy[VEV_IRQ] == EVENT_POLL) {
      ve->st[VEV_IRQ].blocked_checks++;
    }
  }
  /* window: exit exactly when the blocking ends */
  uint32_t pb =
      c->vmcs.proc_based & ~(CPU_BASED_NMI_WINDOW_EXITING | CPU_BASED_INTR_WINDOW_EXITING);
  if (ve->policy[VEV_NMI] == EVENT_WINDOW && ve->nmi_pending) {
    if (!(c->vmcs.proc_based & CPU_BASED_NMI_WINDOW_EXITING)) ve->st[VEV_NMI].window_requests++;
    pb |= CPU_BASED_NMI_WINDOW_EXITING;
  }
  if (ve->policy[VEV_IRQ] == EVENT_WINDOW && ve->irq_n) {
    if (!(c->vmcs.proc_based & CPU_BASED_INTR_WINDOW_EXITING)) ve->st[VEV_IRQ].window_requests++;
    pb |= CPU_BASED_INTR_WINDOW_EXITING;
  }
  c->vmcs.proc_based = pb;
  /* poll: the preemption timer every poll interval while one waits; the
   * first one interval after it began to wait */
  if (poll_waiting(ve)) {
    if (!ve->polling) ve->poll_deadline = now + ve->poll_cycles;
    ve->polling = true;
    c->vmcs.pin_based |= PIN_BASED_VMX_PREEMPTION_TIMER;
    c->vmcs.preemption_deadline = ve->poll_deadline;
  } else {
    ve->polling = false;
    c->vmcs.pin_based &= ~PIN_BASED_VMX_PREEMPTION_TIMER;
  }
}

static void add_latency(struct vmm_event_stats *st, uint64_t lat) {
  if (st->nlat == st->cap) {
    uint64_t ncap = st->cap ? 2 * st->cap : 256;
    uint64_t *p = realloc(st->lat, ncap * sizeof *p);
    if (!p) return; /* out of memory: the sample is lost, the counts stay */
    st->lat = p;
    st->cap = ncap;
  }
  st->lat[st->nlat++] = lat;
}

/* After a run: the events the CPU delivered (handler entry times). */
static void collect(struct vmm_events *ve) {
  struct model_cpu *c = ve->c;
  if (ve->nmi_inflight && !c->nmi_pending) {
    ve->nmi_inflight = false;
    ve->st[VEV_NMI].delivered++;
    uint64_t t = c->vmcs.nmi_delivered_tsc;
    add_latency(&ve->st[VEV_NMI], t > ve->nmi_inflight_t ? t - ve->nmi_inflight_t : 0);
  }
  if (ve->irq_inflight && !c->irq_pending) {
    ve->irq_inflight = false;
    ve->st[VEV_IRQ].delivered++;
    uint64_t t = c->vmcs.irq_delivered_tsc;
    add_latency(&ve->st[VEV_IRQ], t > ve->irq_inflight_t ? t - ve->irq_inflight_t : 0);
  }
}

static void handle_exit(struct vmm_events *ve, unsigned reason) {
  uint64_t now = vmm_events__now(ve);
  switch (reason) {
  case EXIT_REASON_NMI_WINDOW:
    ve->exits[VEX_NMI_WINDOW]++;
    ve->st[VEV_NMI].window_exits++;
    break; /* decide() injects at the next entry */
  case EXIT_REASON_INTERRUPT_WINDOW:
    ve->exits[VEX_INTR_WINDOW]++;
    ve->st[VEV_IRQ].window_exits++;
    break;
  case EXIT_REASON_PREEMPTION_TIMER:
    ve->exits[VEX_PREEMPTION_TIMER]++;
    if (ve->policy[VEV_NMI] == EVENT_POLL && ve->nmi_pending) ve->st[VEV_NMI].poll_exits++;
    if (ve->policy[VEV_IRQ] == EVENT_POLL && ve->irq_n) ve->st[VEV_IRQ].poll_exits++;
    ve->poll_deadline = now + ve->poll_cycles;
    break;
  case EXIT_REASON_EXTERNAL_INTERRUPT: {
    ve->exits[VEX_EXTERNAL_INTERRUPT]++;
    bool fired[VEV_KINDS] = {false, false};
    fire_due(ve, now, fired);
    for (int k = 0; k < VEV_KINDS; k++)
      if (fired[k]) ve->st[k].raise_exits++;
    break;
  }
  default:
    break;
  }
}

int vmm_events__run(struct vmm_events *ve, uint64_t budget) {
  struct model_cpu *c = ve->c;
  if (!ve->active) return model_cpu__run(c, budget);
  ensure(ve);
  decide(ve);
  int s = model_vmx__run_guest(c, budget, host_deadline(ve));
  collect(ve);
  if (s != MSTOP_VMEXIT) return s;
  handle_exit(ve, c->vmcs.exit_reason);
  model_vmx__entry(c); /* handled in the VMM: straight back in */
  return MSTOP_SLICE;
}

/* ---- report --------------------------------------------------------------------- */
static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

void vmm_events__finish(struct vmm_events *ve) {
  for (int k = 0; k < VEV_KINDS; k++) {
    struct vmm_event_stats *st = &ve->st[k];
    uint64_t n = st->nlat;
    if (!n) continue;
    uint64_t *s = malloc(n * sizeof *s);
    if (!s) continue;
    memcpy(s, st->lat, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_u64);
    double sum = 0;
    for (uint64_t i = 0; i < n; i++)
      sum += (double)s[i];
    st->lat_min = s[0];
    st->lat_max = s[n - 1];
    st->lat_p50 = s[(n - 1) / 2];
    st->lat_p99 = s[(uint64_t)((double)(n - 1) * 0.99)];
    st->lat_mean = sum / (double)n;
    free(s);
  }
  ve->finished = true;
}

static uint64_t pending_at_end(const struct vmm_events *ve, int k) {
  return k == VEV_NMI ? (uint64_t)ve->nmi_pending + ve->nmi_inflight
                      : (uint64_t)ve->irq_n + ve->irq_inflight;
}

static json_t *kind_json(const struct vmm_events *ve, int k) {
  const struct vmm_event_stats *st = &ve->st[k];
  json_t *lat = json_pack("{s:I}", "samples", (json_int_t)st->nlat);
  if (st->nlat && ve->finished) {
    json_object_set_new(lat, "min", json_integer((json_int_t)st->lat_min));
    json_object_set_new(lat, "p50", json_integer((json_int_t)st->lat_p50));
    json_object_set_new(lat, "p99", json_integer((json_int_t)st->lat_p99));
    json_object_set_new(lat, "max", json_integer((json_int_t)st->lat_max));
    json_object_set_new(lat, "mean", json_real(st->lat_mean));
  }
  json_t *smp = json_array();
  for (uint64_t i = 0; i < st->nlat; i++)
    json_array_append_new(smp, json_integer((json_int_t)st->lat[i]));
  double per = (double)ve->period_cycles[k];
  return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "policy",
                   event_mode__name(ve->policy[k]), "raised", (json_int_t)st->raised, "delivered",
                   (json_int_t)st->delivered, "merged", (json_int_t)st->merged, "dropped",
                   (json_int_t)st->dropped, "pending_at_end", (json_int_t)pending_at_end(ve, k),
                   "injected", (json_int_t)st->injected, "window_exits",
                   (json_int_t)st->window_exits, "window_requests", (json_int_t)st->window_requests,
                   "poll_exits", (json_int_t)st->poll_exits, "raise_exits",
                   (json_int_t)st->raise_exits, "blocked_checks", (json_int_t)st->blocked_checks,
                   "rate_hz", per > 0 ? json_real((double)ve->tsc_hz / per) : json_null(),
                   "latency_cycles", lat, "samples_cycles", smp);
}

json_t *vmm_events__to_json(const struct vmm_events *ve) {
  if (!ve || !ve->active) return json_null();
  json_t *ex = json_object();
  for (int i = 0; i < VEX_COUNT; i++)
    json_object_set_new(ex, vmx_exit_reason__name(vex_reason[i]),
                        json_integer((json_int_t)ve->exits[i]));
  return json_pack("{s:f,s:I,s:I,s:o,s:o,s:o}", "poll_us", ve->poll_us, "poll_cycles",
                   (json_int_t)ve->poll_cycles, "tsc_hz", (json_int_t)ve->tsc_hz, "exits_added", ex,
                   kind_name[VEV_NMI], kind_json(ve, VEV_NMI), kind_name[VEV_IRQ],
                   kind_json(ve, VEV_IRQ));
}

void vmm_events__print(const struct vmm_events *ve, FILE *out) {
  if (!ve || !ve->active) return;
  if (!ve->st[VEV_NMI].raised && !ve->st[VEV_IRQ].raised) return;
  fprintf(out,
          "model events: exits added: NMI_WINDOW %" PRIu64 ", INTERRUPT_WINDOW %" PRIu64
          ", PREEMPTION_TIMER %" PRIu64 " (poll every %" PRIu64 " cycles = %g us), "
          "EXTERNAL_INTERRUPT %" PRIu64 " (timer sources)\n",
          ve->exits[VEX_NMI_WINDOW], ve->exits[VEX_INTR_WINDOW], ve->exits[VEX_PREEMPTION_TIMER],
          ve->poll_cycles, ve->poll_us, ve->exits[VEX_EXTERNAL_INTERRUPT]);
  for (int k = 0; k < VEV_KINDS; k++) {
    const struct vmm_event_stats *st = &ve->st[k];
    if (!st->raised) continue;
    fprintf(out,
            "model events %s (%s): raised %" PRIu64 ", delivered %" PRIu64 ", merged %" PRIu64
            ", dropped %" PRIu64 ", pending at end %" PRIu64 "; window exits %" PRIu64
            ", poll exits %" PRIu64 "\n",
            kind_name[k], event_mode__name(ve->policy[k]), st->raised, st->delivered, st->merged,
            st->dropped, pending_at_end(ve, k), st->window_exits, st->poll_exits);
    if (st->nlat && ve->finished)
      fprintf(out,
              "  latency raise->handler (%" PRIu64 " samples, modeled cycles): min %" PRIu64
              ", p50 %" PRIu64 ", p99 %" PRIu64 ", max %" PRIu64 ", mean %.1f\n",
              st->nlat, st->lat_min, st->lat_p50, st->lat_p99, st->lat_max, st->lat_mean);
  }
}
