/* nmistorm - n NMIs raised by refvmm while the guest keeps NMIs blocked for
 * a share of the time: NMI delivery under --nmi window|poll.
 *
 * The guest asks for one NMI at a time: the body raises the first with
 * delay period_us (VTB_HC_RAISE_NMI), and the NMI handler raises the next
 * one, again period_us ahead, before it spins block_us with NMIs blocked
 * (inside an NMI handler until IRETQ). With period_us < block_us every
 * later NMI arrives while NMIs are blocked and waits (block_us - period_us)
 * at least; with period_us > block_us it finds them unblocked. One NMI is
 * outstanding at a time, so none coalesce: every NMI raised must arrive
 * exactly once. The body (ring 3 by default) spins meanwhile.
 *
 * Latency: the NMI entry stub reads the TSC first thing (rt/events.h); the
 * handler subtracts the raise TSC refvmm wrote into the shared
 * struct vtb_event_log (reported as events.nmi_log).
 *
 * Reports: nmi.count (NMIs taken), nmi.lat_mean_tsc, nmi.lat_max_tsc,
 * nmi.samples (latencies measured), spins (body loop iterations).
 * checksum = sum_{k=1..count} vtb_mix64(k) mod 2^64 (host: count = n);
 * iterations = n. Exit status 10 if count != n at the end (a lost or a
 * duplicated NMI), after waiting (period_us + block_us) more for strays.
 * Under QEMU (no refvmm) the guest raises each NMI itself with INT 2.
 *
 * Rate mode (rate=R > 0): the n NMIs are raised on a fixed pseudo-random
 * schedule, R per second on average (rt/events.h), independent of the
 * handler, which still spins block_us: about a share block_us * R of them
 * arrives blocked. NMIs raised while
 * one is pending coalesce (x86 keeps one), so count may be below n: the
 * guest then succeeds with 1 <= count <= n and refvmm's events.nmi shows
 * delivered + merged == raised; checksum as above over count. */
#include "rt.h"
#include "rt/events.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 200, 1, VTB_EVENT_LOG_MAX, "NMIs to raise"},
    {"period_us", 2000, 0, 1000000, "raise each NMI this long after the previous handler began"},
    {"rate", 0, 0, 100000, "rate mode: n NMIs at this many per second on a fixed schedule"},
    {"block_us", 500, 0, 1000000, "NMI handler spin: NMIs blocked for this long each"},
    {"timeout_s", 30, 1, 3600, "give up waiting after this long"},
    VTB_PARAM_END,
};

static struct vtb_event_log nmi_log;
static uint64_t n_total, period_ns, block_ticks, rate;
static volatile uint64_t got, lat_sum, lat_max, lat_samples;

static int on_nmi(struct trap_frame *f) {
  (void)f;
  uint64_t lat = rt_events__log(&nmi_log, rt_ev_nmi_tsc);
  uint64_t k = ++got;
  if (lat) {
    lat_sum += lat;
    lat_samples++;
    if (lat > lat_max) lat_max = lat;
  }
  if (!rate && k < n_total && !rt_on_qemu()) hc_raise_nmi(1, period_ns);
  rt_events__spin(block_ticks); /* NMIs blocked until our IRETQ */
  return 1;
}

static uint64_t self_nmi(uint64_t a, uint64_t b) {
  (void)a, (void)b;
  __asm__ volatile("int $2" ::: "memory"); /* QEMU only: INT n fails on PVM hosts */
  return 0;
}

static int setup(void) {
  n_total = param("n");
  period_ns = param("period_us") * 1000u;
  rate = param("rate");
  block_ticks = rt_events__us_to_tsc(param("block_us"));
  if (rt_events__hook_tsc(2)) {
    printf("nmistorm: cannot hook the NMI gate\n");
    return 1;
  }
  trap_set_handler(2, on_nmi);
  hc_report(VTB_KEY_NMI_LOG, (uint64_t)&nmi_log);
  return 0;
}

static void raise_one(uint64_t delay_ns) {
  hc_raise_nmi(1, delay_ns);
}

static int run(struct wl_result *res) {
  uint64_t period_ticks = rt_events__us_to_tsc(param("period_us"));
  uint64_t deadline = rdtsc() + rt_events__us_to_tsc(param("timeout_s") * 1000000u);
  uint64_t spins = 0;
  mark_begin();
  if (!rt_on_qemu()) {
    if (rate) {
      uint64_t t0 = rdtsc();
      rt_events__schedule(n_total, rate, raise_one);
      /* merged NMIs never come: stop 20 ms after the last one was due */
      uint64_t end = t0 + rt_events__us_to_tsc(2 * n_total * 1000000u / rate + 20000) + block_ticks;
      if (end < deadline) deadline = end;
    } else {
      hc_raise_nmi(1, period_ns);
    }
    while (got < n_total && rdtsc() < deadline)
      spins++, cpu_relax();
  } else {
    for (uint64_t k = 0; k < n_total; k++) {
      rt_events__spin(period_ticks);
      kcall(self_nmi, 0, 0);
    }
  }
  mark_end();
  /* strays: a duplicated NMI would land in this window */
  rt_events__spin(period_ticks + block_ticks + rt_events__us_to_tsc(1000));
  uint64_t count = got, sum = 0;
  for (uint64_t k = 1; k <= count; k++)
    sum += vtb_mix64(k);
  hc_report("nmi.count", count);
  hc_report("nmi.samples", lat_samples);
  hc_report("nmi.lat_mean_tsc", lat_samples ? lat_sum / lat_samples : 0);
  hc_report("nmi.lat_max_tsc", lat_max);
  hc_report("spins", spins);
  res->checksum = sum;
  res->iterations = n_total;
  if (rate ? count < 1 || count > n_total : count != n_total) {
    printf("nmistorm: %lu NMIs taken, %lu raised\n", count, n_total);
    return 10;
  }
  return 0;
}

const struct workload WORKLOAD = {
    .name = "nmistorm",
    .desc = "NMIs raised by refvmm while the guest blocks NMIs for a share of the time",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .setup = setup,
    .run = run,
};
