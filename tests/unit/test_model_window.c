/* test_model_window.c - NMI/IRQ delivery under refvmm's window and poll
 * policies on the model backend (refvmm/model/vmm/vmm_events.c) with
 * nmistorm/irqstorm in every paging x tlb combination (the hand-built
 * sequences are in test_model_events.c): same checksum with poll and window, none
 * lost, window adds no preemption-timer exits and poll no window exits,
 * poll latency bounded by the handler time plus the poll interval and
 * higher on average than window. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/model/model_backend.h"
#include "refvmm/model/cpu/model_cpu.h"
#include "refvmm/model/cpu/model_events.h"
#include "refvmm/model/cpu/model_mmu.h"
#include "refvmm/model/vmm/vmm_events.h"
#include "refvmm/session.h"
#include "test_model_image.h"

/* ---- workloads ------------------------------------------------------------------ */
struct wrun {
  enum run_status status;
  char detail[2400];
  uint64_t checksum;
  struct event_stats st[EV_KINDS];
  uint64_t exits[VEX_COUNT];
  uint64_t poll_cycles, tsc_hz;
  uint64_t lat_max_any;
};

static int wrun(const char *name, const char *const *params, enum pmode pm, enum event_mode pol,
                double poll_us, struct wrun *out) {
  char image[256];
  struct vm_config cfg;
  memset(out, 0, sizeof *out);
  if (!tm_image_config(&cfg, image, sizeof image, name, params, pm)) return -1;
  cfg.mem_size = 64ull << 20;
  cfg.poll_us = poll_us;
  cfg.modes.nmi = cfg.modes.irq = pol;
  cfg.modes.nmi_set = cfg.modes.irq_set = true;
  struct session_opts opts = {.no_probes = true};
  struct session *s = session__new(&cfg, &opts);
  if (session__prepare(s)) {
    snprintf(out->detail, sizeof out->detail, "%s | %s", s->err, s->vm.status_detail);
    session__free(s);
    return 1;
  }
  out->status = session__run(s);
  snprintf(out->detail, sizeof out->detail, "%s", s->vm.status_detail);
  for (int i = 0; i < s->vm.nreports; i++)
    if (strcmp(s->vm.reports[i].key, "checksum") == 0) out->checksum = s->vm.reports[i].value;
  const struct vmm_events *ve = model_backend__events(&s->vm);
  ck_assert_ptr_nonnull(ve);
  ck_assert(ve->p && ve->p->active);
  memcpy(out->st, ve->p->st, sizeof out->st);
  memcpy(out->exits, ve->exits, sizeof out->exits);
  for (int k = 0; k < EV_KINDS; k++)
    out->st[k].lat = NULL;
  out->poll_cycles = ve->p->poll_ticks;
  out->tsc_hz = ve->p->hz;
  session__free(s);
  return 0;
}

static const char *const nmi_p[] = {"n=12", "period_us=20", "block_us=50", NULL};
static const char *const irq_p[] = {"n=12",      "period_us=20", "block_us=50",
                                    "sti_us=30", "cli_us=30",    NULL};

/* Per workload (loop index): poll and window in native and the four
 * paging x tlb combinations give the native window checksum; every event
 * raised is delivered once; each policy adds only its own exits. */
START_TEST(test_storm_checksums_all_modes) {
  const char *name = _i == 0 ? "nmistorm" : "irqstorm";
  const char *const *params = _i == 0 ? nmi_p : irq_p;
  int k = _i == 0 ? EV_NMI : EV_IRQ;
  struct wrun ref;
  int rc = wrun(name, params, PM_NATIVE, EVENT_WINDOW, 40, &ref);
  if (rc < 0) {
    printf("test_model_window: %s: skipped: image or model backend missing\n", name);
    return;
  }
  ck_assert_msg(rc == 0 && ref.status == RUN_OK, "%s native window: %s", name, ref.detail);
  ck_assert_uint_ne(ref.checksum, 0);
  for (enum pmode pm = PM_NATIVE; pm < PM_COUNT; pm++) {
    for (int pol = EVENT_POLL; pol <= EVENT_WINDOW; pol++) {
      struct wrun r;
      rc = wrun(name, params, pm, (enum event_mode)pol, 40, &r);
      const char *pn = pol == EVENT_POLL ? "poll" : "window";
      ck_assert_msg(rc == 0 && r.status == RUN_OK, "%s %s %s: %s", name, pm_name[pm], pn, r.detail);
      ck_assert_msg(r.checksum == ref.checksum, "%s %s %s: checksum 0x%llx, expected 0x%llx", name,
                    pm_name[pm], pn, (unsigned long long)r.checksum,
                    (unsigned long long)ref.checksum);
      const struct event_stats *st = &r.st[k];
      ck_assert_uint_eq(st->raised, 12);
      ck_assert_uint_eq(st->delivered, 12);
      ck_assert_uint_eq(st->merged + st->dropped, 0);
      ck_assert_uint_eq(r.st[k ^ 1].raised, 0);
      ck_assert_uint_eq(r.exits[VEX_EXTERNAL_INTERRUPT], 12); /* one per delayed raise */
      if (pol == EVENT_WINDOW) {
        ck_assert_uint_eq(r.exits[VEX_PREEMPTION_TIMER], 0);
        ck_assert_uint_gt(r.exits[k == EV_NMI ? VEX_NMI_WINDOW : VEX_INTR_WINDOW], 0);
      } else {
        ck_assert_uint_eq(r.exits[VEX_NMI_WINDOW] + r.exits[VEX_INTR_WINDOW], 0);
        ck_assert_uint_gt(r.exits[VEX_PREEMPTION_TIMER], 0);
        ck_assert_uint_eq(st->poll_expiries, r.exits[VEX_PREEMPTION_TIMER]);
      }
    }
  }
}
END_TEST

/* nmistorm with every NMI arriving blocked (period 20 us < handler 50 us):
 * window delivers each right after the handler's IRETQ; poll at the first
 * timer after it, no later than the handler's time plus one interval; its
 * mean latency is higher. */
START_TEST(test_nmistorm_poll_latency_bounded_and_higher) {
  struct wrun w, p;
  int rc = wrun("nmistorm", nmi_p, PM_EPT_VPID, EVENT_WINDOW, 40, &w);
  if (rc < 0) return;
  ck_assert_msg(rc == 0 && w.status == RUN_OK, "window: %s", w.detail);
  rc = wrun("nmistorm", nmi_p, PM_EPT_VPID, EVENT_POLL, 40, &p);
  ck_assert_msg(rc == 0 && p.status == RUN_OK, "poll: %s", p.detail);
  uint64_t block = 50 * (w.tsc_hz / 1000000), period = 20 * (w.tsc_hz / 1000000);
  const struct event_stats *ws = &w.st[EV_NMI], *ps = &p.st[EV_NMI];
  ck_assert_uint_eq(ws->nlat, 12);
  ck_assert_uint_eq(ps->nlat, 12);
  /* window: the wait is the rest of the handler (block - period), plus exits */
  ck_assert_uint_ge(ws->lat_p50, block - period);
  ck_assert_uint_le(ws->lat_max, block - period + block / 20);
  /* poll: none lost, bounded by the handler time plus one interval */
  ck_assert_uint_eq(p.exits[VEX_NMI_WINDOW], 0);
  ck_assert_uint_le(ps->lat_max, block + p.poll_cycles + block / 20);
  ck_assert_uint_ge(ps->lat_p50, block - period);
  ck_assert_msg(ps->lat_mean > ws->lat_mean, "poll mean %.0f cycles, window mean %.0f",
                ps->lat_mean, ws->lat_mean);
  printf("test_model_window: nmistorm ept/vpid mean latency: window %.0f cycles, poll %.0f "
         "cycles (%llu preemption-timer exits, poll %llu cycles)\n",
         ws->lat_mean, ps->lat_mean, (unsigned long long)p.exits[VEX_PREEMPTION_TIMER],
         (unsigned long long)p.poll_cycles);
}
END_TEST

/* The model is deterministic: the same run twice gives the same latencies
 * and exits. */
START_TEST(test_storm_deterministic) {
  struct wrun a, b;
  int rc = wrun("irqstorm", irq_p, PM_SHADOW_FLUSH, EVENT_POLL, 40, &a);
  if (rc < 0) return;
  rc = wrun("irqstorm", irq_p, PM_SHADOW_FLUSH, EVENT_POLL, 40, &b);
  ck_assert_int_eq(rc, 0);
  ck_assert(a.st[EV_IRQ].lat_mean == b.st[EV_IRQ].lat_mean);
  ck_assert_uint_eq(a.st[EV_IRQ].lat_max, b.st[EV_IRQ].lat_max);
  ck_assert_uint_eq(a.exits[VEX_PREEMPTION_TIMER], b.exits[VEX_PREEMPTION_TIMER]);
}
END_TEST

Suite *suite_model_window(void) {
  Suite *s = suite_create("model_window");
  TCase *tw = tcase_create("workloads");
  tcase_set_timeout(tw, 120);
  tcase_add_loop_test(tw, test_storm_checksums_all_modes, 0, 2);
  tcase_add_test(tw, test_nmistorm_poll_latency_bounded_and_higher);
  tcase_add_test(tw, test_storm_deterministic);
  suite_add_tcase(s, tw);
  return s;
}
