/* event_policy.c - the NMI/IRQ poll and window policies (event_policy.h). */
#include "event_policy.h"

#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define HZ_DEF 2000000000ull /* the guest runtime's own TSC default (rt/events.c) */

const char *event_kind__name(enum event_kind k) {
  return k == EV_NMI ? "nmi" : "irq";
}

void event_policy__init(struct event_policy *p, const struct event_hw *hw,
                        const struct guest_mem *mem) {
  memset(p, 0, sizeof *p);
  p->hw = hw;
  p->mem = mem;
  p->policy[EV_NMI] = p->policy[EV_IRQ] = EVENT_WINDOW;
}

void event_policy__configure(struct event_policy *p, const struct vm_config *cfg) {
  p->active = true;
  p->policy[EV_NMI] = cfg->modes.nmi;
  p->policy[EV_IRQ] = cfg->modes.irq;
  p->poll_us = cfg->poll_us > 0 ? cfg->poll_us : EVENT_POLL_US_DEF;
  p->rate_hz[EV_NMI] = cfg->nmi_rate_hz;
  p->rate_hz[EV_IRQ] = cfg->irq_rate_hz;
  p->irq_vector = cfg->irq_vector ? cfg->irq_vector : EVENT_IRQ_VECTOR;
  p->resolved = false;
}

void event_policy__free(struct event_policy *p) {
  for (int k = 0; k < EV_KINDS; k++) {
    free(p->st[k].lat);
    p->st[k].lat = NULL;
    p->st[k].nlat = p->st[k].cap = 0;
  }
}

static uint64_t hz_to_ticks(const struct event_policy *p, double hz) {
  if (hz <= 0) return 0;
  double t = (double)p->hz / hz;
  return t < 1 ? 1 : (uint64_t)t;
}

/* The tick figures, once the clock's rate is known (the model's is its
 * cost profile's, installed after configure). */
static void resolve(struct event_policy *p) {
  p->hz = p->hw->hz(p->hw->arg);
  if (!p->hz) p->hz = HZ_DEF;
  p->poll_ticks = (uint64_t)(p->poll_us * (double)p->hz / 1e6);
  if (p->poll_ticks < 1) p->poll_ticks = 1;
  p->period[EV_NMI] = hz_to_ticks(p, p->rate_hz[EV_NMI]);
  p->period[EV_IRQ] = hz_to_ticks(p, p->rate_hz[EV_IRQ]);
  p->resolved = true;
}
static inline void ensure(struct event_policy *p) {
  if (__builtin_expect(!p->resolved, 0)) resolve(p);
}

uint64_t event_policy__now(struct event_policy *p) {
  return p->hw->now(p->hw->arg);
}

uint64_t event_policy__ns_to_ticks(struct event_policy *p, uint64_t ns) {
  ensure(p);
  return (uint64_t)((unsigned __int128)ns * p->hz / 1000000000u);
}

/* ---- sources -------------------------------------------------------------------- */
static void raise_at(struct event_policy *p, enum event_kind k, uint32_t vector, uint32_t count,
                     uint64_t stamp) {
  struct event_stats *st = &p->st[k];
  for (uint32_t i = 0; i < count; i++) {
    st->raised++;
    if (k == EV_NMI) {
      if (p->nmi_pending) {
        st->merged++; /* one NMI latch, as on hardware */
        continue;
      }
      p->nmi_pending = true;
      p->nmi_stamp = stamp;
    } else {
      if (p->irq_n >= EVENT_IRQ_QUEUE) {
        st->dropped++;
        continue;
      }
      unsigned slot = (p->irq_head + p->irq_n) % EVENT_IRQ_QUEUE;
      p->irq_q[slot].vector = vector;
      p->irq_q[slot].stamp = stamp;
      p->irq_n++;
    }
  }
}

int event_policy__raise(struct event_policy *p, enum event_kind k, uint32_t vector, uint32_t count,
                        uint64_t delay_ns) {
  ensure(p);
  uint64_t now = event_policy__now(p);
  if (delay_ns == 0) {
    raise_at(p, k, vector, count, p->hw->stamp(p->hw->arg, now));
    return 0;
  }
  if (p->nsched >= EVENT_SCHED_MAX) return -ENOSPC;
  p->sched[p->nsched].due = now + event_policy__ns_to_ticks(p, delay_ns);
  p->sched[p->nsched].kind = (uint32_t)k;
  p->sched[p->nsched].vector = vector;
  p->sched[p->nsched].count = count;
  p->nsched++;
  return 0;
}

void event_policy__on_timed(struct event_policy *p, bool begin) {
  ensure(p);
  p->periodic_on = begin;
  uint64_t now = event_policy__now(p);
  for (int k = 0; k < EV_KINDS; k++)
    p->next_period[k] = now + p->period[k];
}

void event_policy__on_report(struct event_policy *p, const char *key, uint64_t value) {
  if (strcmp(key, VTB_KEY_NMI_LOG) == 0) p->log_gpa[EV_NMI] = value;
  if (strcmp(key, VTB_KEY_IRQ_LOG) == 0) p->log_gpa[EV_IRQ] = value;
}

uint64_t event_policy__next_due(const struct event_policy *p) {
  uint64_t d = UINT64_MAX;
  for (int i = 0; i < p->nsched; i++)
    if (p->sched[i].due < d) d = p->sched[i].due;
  for (int k = 0; k < EV_KINDS; k++)
    if (p->periodic_on && p->period[k] && p->next_period[k] < d) d = p->next_period[k];
  return d;
}

void event_policy__fire_due(struct event_policy *p, uint64_t now, bool fired[EV_KINDS]) {
  void *a = p->hw->arg;
  for (int i = 0; i < p->nsched;) {
    if (p->sched[i].due <= now) {
      enum event_kind k = (enum event_kind)p->sched[i].kind;
      raise_at(p, k, p->sched[i].vector, p->sched[i].count, p->hw->stamp(a, p->sched[i].due));
      if (fired) fired[k] = true;
      p->sched[i] = p->sched[--p->nsched];
    } else {
      i++;
    }
  }
  for (int k = 0; k < EV_KINDS; k++) {
    if (!p->periodic_on || !p->period[k]) continue;
    while (p->next_period[k] <= now) {
      raise_at(p, k, p->irq_vector, 1, p->hw->stamp(a, p->next_period[k]));
      if (fired) fired[k] = true;
      p->next_period[k] += p->period[k];
    }
  }
}

unsigned event_policy__host_timer(struct event_policy *p, uint64_t now) {
  bool fired[EV_KINDS] = {false, false};
  event_policy__fire_due(p, now, fired);
  unsigned mask = 0;
  for (int k = 0; k < EV_KINDS; k++)
    if (fired[k]) {
      p->st[k].timer_raises++;
      mask |= 1u << k;
    }
  return mask;
}

/* ---- poll ------------------------------------------------------------------------ */
static bool waiting(const struct event_policy *p, int k) {
  return k == EV_NMI ? p->nmi_pending : p->irq_n > 0;
}

bool event_policy__poll_waiting(const struct event_policy *p) {
  return (p->policy[EV_NMI] == EVENT_POLL && p->nmi_pending) ||
         (p->policy[EV_IRQ] == EVENT_POLL && p->irq_n);
}

/* The first expiry one interval after the waiting began. */
bool event_policy__poll_update(struct event_policy *p, uint64_t now) {
  ensure(p);
  bool armed = false;
  if (event_policy__poll_waiting(p)) {
    if (!p->polling) {
      p->poll_deadline = now + p->poll_ticks;
      armed = true;
    }
    p->polling = true;
  } else {
    p->polling = false;
  }
  if (p->hw->poll_timer) p->hw->poll_timer(p->hw->arg, p->polling, p->poll_deadline);
  return armed;
}

void event_policy__poll_expired(struct event_policy *p, uint64_t now) {
  for (int k = 0; k < EV_KINDS; k++)
    if (p->policy[k] == EVENT_POLL && waiting(p, k)) p->st[k].poll_expiries++;
  p->poll_deadline = now + p->poll_ticks;
}

/* ---- delivery ------------------------------------------------------------------- */
/* The k-th injection: the raise time into the guest's log (nmistorm/irqstorm
 * match it with their handler's TSC). Plain copies through the checked
 * helper, which tells the backend: the guest is stopped while the VMM writes
 * (one vCPU, before its entry), so no store needs to be atomic. */
static void log_injection(struct event_policy *p, enum event_kind k, uint64_t stamp) {
  uint64_t idx = p->st[k].injected++;
  if (p->hw->delivered_at_injection) p->st[k].delivered++;
  gpa_t log = p->log_gpa[k];
  if (!log || !p->mem || !guest_mem__ptr(p->mem, log, sizeof(struct vtb_event_log))) return;
  if (idx < VTB_EVENT_LOG_MAX) {
    uint64_t tsc = p->hw->guest_tsc(p->hw->arg, stamp);
    guest_mem__write(p->mem, log + offsetof(struct vtb_event_log, raise_tsc) + idx * 8, &tsc, 8);
  }
  uint64_t delivered = idx + 1;
  guest_mem__write(p->mem, log + offsetof(struct vtb_event_log, delivered), &delivered, 8);
}

static int inject(struct event_policy *p, enum event_kind k, uint32_t vector, uint64_t stamp) {
  log_injection(p, k, stamp);
  if (!p->hw->delivered_at_injection) {
    p->inflight[k] = true;
    p->inflight_stamp[k] = stamp;
  }
  void *a = p->hw->arg;
  return k == EV_NMI ? p->hw->inject_nmi(a, stamp) : p->hw->inject_irq(a, vector, stamp);
}

/* A window control for kind k on or off; a request counts when it turns on. */
static void window(struct event_policy *p, enum event_kind k, void (*set)(void *arg, bool on)) {
  bool want = p->policy[k] == EVENT_WINDOW && waiting(p, k);
  if (want && !p->window_on[k]) p->st[k].window_requests++;
  p->window_on[k] = want;
  set(p->hw->arg, want);
}

int event_policy__decide(struct event_policy *p) {
  const struct event_hw *hw = p->hw;
  ensure(p);
  uint64_t now = event_policy__now(p);
  if (hw->sources_at_entry) event_policy__fire_due(p, now, NULL);
  unsigned kinds = (p->nmi_pending ? 1u << EV_NMI : 0) | (p->irq_n ? 1u << EV_IRQ : 0);
  struct event_guest_state g = {0};
  int rc = kinds ? hw->guest_state(hw->arg, kinds, &g) : 0;
  if (rc) return rc;
  bool injected = false;
  /* NMI: a backend that latches NMIs itself takes it at once under window */
  bool latch_window = !hw->nmi_window && p->policy[EV_NMI] == EVENT_WINDOW;
  if (p->nmi_pending) {
    if (g.nmi_held) {
      if (latch_window) { /* its latch holds one already: this one coalesces */
        p->nmi_pending = false;
        p->st[EV_NMI].merged++;
      }
    } else if (!g.nmi_blocked || latch_window) {
      p->nmi_pending = false;
      injected = true;
      if ((rc = inject(p, EV_NMI, 0, p->nmi_stamp))) return rc;
    } else if (p->policy[EV_NMI] == EVENT_POLL) {
      p->st[EV_NMI].blocked_checks++;
    }
  }
  if (p->irq_n && !g.irq_held) {
    if ((!injected || !hw->one_event_per_entry) && !g.irq_blocked) {
      unsigned h = p->irq_head;
      if ((rc = inject(p, EV_IRQ, p->irq_q[h].vector, p->irq_q[h].stamp))) return rc;
      p->irq_head = (h + 1) % EVENT_IRQ_QUEUE;
      p->irq_n--;
    } else if (p->policy[EV_IRQ] == EVENT_POLL) {
      p->st[EV_IRQ].blocked_checks++;
    }
  }
  /* window: exit exactly when the blocking ends */
  if (hw->nmi_window) window(p, EV_NMI, hw->nmi_window);
  if (hw->irq_window) window(p, EV_IRQ, hw->irq_window);
  event_policy__poll_update(p, now);
  return 0;
}

void event_policy__window_exit(struct event_policy *p, enum event_kind k) {
  p->st[k].window_exits++;
}

void event_policy__add_latency(struct event_policy *p, enum event_kind k, uint64_t ticks) {
  struct event_stats *st = &p->st[k];
  if (st->nlat == st->cap) {
    uint64_t ncap = st->cap ? 2 * st->cap : 256;
    uint64_t *q = realloc(st->lat, ncap * sizeof *q);
    if (!q) return; /* out of memory: the sample is lost, the counts stay */
    st->lat = q;
    st->cap = ncap;
  }
  st->lat[st->nlat++] = ticks;
}

void event_policy__delivered(struct event_policy *p, enum event_kind k, uint64_t t) {
  if (!p->inflight[k]) return;
  p->inflight[k] = false;
  p->st[k].delivered++;
  uint64_t r = p->inflight_stamp[k];
  event_policy__add_latency(p, k, t > r ? t - r : 0);
}

uint64_t event_policy__pending(const struct event_policy *p, enum event_kind k) {
  return k == EV_NMI ? (uint64_t)p->nmi_pending + p->inflight[EV_NMI]
                     : (uint64_t)p->irq_n + p->inflight[EV_IRQ];
}

/* ---- report --------------------------------------------------------------------- */
static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

void event_policy__finish(struct event_policy *p) {
  for (int k = 0; k < EV_KINDS; k++) {
    struct event_stats *st = &p->st[k];
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
  p->finished = true;
}

static json_t *kind_json(const struct event_policy *p, enum event_kind k, uint64_t stamp_hz) {
  const struct event_stats *st = &p->st[k];
  double ns = stamp_hz ? 1e9 / (double)stamp_hz : 0;
  json_t *lat = json_pack("{s:I}", "samples", (json_int_t)st->nlat);
  if (st->nlat && p->finished) {
    json_object_set_new(lat, "min", json_real((double)st->lat_min * ns));
    json_object_set_new(lat, "p50", json_real((double)st->lat_p50 * ns));
    json_object_set_new(lat, "p99", json_real((double)st->lat_p99 * ns));
    json_object_set_new(lat, "max", json_real((double)st->lat_max * ns));
    json_object_set_new(lat, "mean", json_real(st->lat_mean * ns));
    json_object_set_new(lat, "max_tsc", json_integer((json_int_t)st->lat_max));
  }
  json_t *smp = json_array();
  for (uint64_t i = 0; i < st->nlat; i++)
    json_array_append_new(smp, json_real((double)st->lat[i] * ns));
  return json_pack(
      "{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "policy",
      event_mode__name(p->policy[k]), "raised", (json_int_t)st->raised, "delivered",
      (json_int_t)st->delivered, "merged", (json_int_t)st->merged, "dropped",
      (json_int_t)st->dropped, "pending_at_end", (json_int_t)event_policy__pending(p, k),
      "raise_kicks", (json_int_t)st->timer_raises, "poll_kicks", (json_int_t)st->poll_expiries,
      "window_exits", (json_int_t)st->window_exits, "window_requests",
      (json_int_t)st->window_requests, "blocked_checks", (json_int_t)st->blocked_checks, "rate_hz",
      p->period[k] ? json_real((double)p->hz / (double)p->period[k]) : json_null(), "latency_ns",
      lat, "samples_ns", smp);
}

json_t *event_policy__to_json(const struct event_policy *p, uint64_t stamp_hz) {
  if (!p || !p->active) return json_null();
  json_t *o = json_pack("{s:f}", "poll_us", p->poll_us);
  if (p->hw->json_extra) p->hw->json_extra(p->hw->arg, o);
  json_object_set_new(o, "nmi", kind_json(p, EV_NMI, stamp_hz));
  json_object_set_new(o, "irq", kind_json(p, EV_IRQ, stamp_hz));
  return o;
}
