/* irqstorm - n external interrupts raised by refvmm while the guest toggles
 * IF: interrupt delivery under --irq window|poll.
 *
 * One interrupt is outstanding at a time: the body raises the first
 * (VTB_HC_RAISE_IRQ, vector `vector`, delay period_us) and each handler
 * raises the next, period_us ahead, then spins block_us with IF=0 (an
 * interrupt gate clears IF until IRETQ). With period_us < block_us every
 * later interrupt arrives with IF=0 and waits at least block_us - period_us.
 * Meanwhile the body toggles IF: sti_us with IF=1, then cli_us with IF=0.
 * In ring 3 (default) the IF=0 stretches run in the kernel through the
 * trap system call (SYS_KCALL: the #UD gate clears IF; CLI itself is not
 * allowed at CPL3 without IOPL 3); in ring 0 with CLI/STI. Interrupts do not
 * coalesce in refvmm's queue: every one raised must arrive exactly once.
 *
 * Latency: the IRQ entry stub reads the TSC first thing (rt/events.h); the
 * handler subtracts the raise TSC refvmm wrote in the shared
 * struct vtb_event_log (reported as events.irq_log).
 *
 * Reports: irq.count, irq.lat_mean_tsc, irq.lat_max_tsc, irq.samples,
 * irq.wrong_vector (interrupts on another vector: must be 0), toggles.
 * checksum = sum_{k=1..count} vtb_mix64(k ^ vector) mod 2^64 (host: count
 * = n); iterations = n. Exit status 10 if count != n at the end, after
 * waiting period_us + block_us more for strays. Under QEMU (no refvmm) the
 * guest raises each interrupt itself with INT vector.
 *
 * Rate mode (rate=R > 0): the n interrupts are raised on a fixed
 * pseudo-random schedule, R per second on average, independent of the
 * handler; those that find IF=0 (handler, cli_us stretches) wait in
 * refvmm's queue, so all n must still arrive exactly once. */
#include "rt.h"
#include "rt/events.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 200, 1, VTB_EVENT_LOG_MAX, "interrupts to raise"},
    {"vector", 0x40, 32, 255, "interrupt vector"},
    {"period_us", 2000, 0, 1000000, "raise each IRQ this long after the previous handler began"},
    {"rate", 0, 0, 100000, "rate mode: n IRQs at this many per second on a fixed schedule"},
    {"block_us", 500, 0, 1000000, "IRQ handler spin with IF=0"},
    {"sti_us", 300, 1, 1000000, "body: IF=1 stretch"},
    {"cli_us", 300, 0, 1000000, "body: IF=0 stretch"},
    {"timeout_s", 30, 1, 3600, "give up waiting after this long"},
    VTB_PARAM_END,
};

static struct vtb_event_log irq_log;
static uint64_t n_total, period_ns, block_ticks, rate;
static uint32_t vec;
static volatile uint64_t got, wrong, lat_sum, lat_max, lat_samples;

static int on_irq(struct trap_frame *f) {
  if (f->vector != vec) {
    wrong++;
    return 1;
  }
  uint64_t lat = rt_events__log(&irq_log, rt_ev_irq_tsc);
  uint64_t k = ++got;
  if (lat) {
    lat_sum += lat;
    lat_samples++;
    if (lat > lat_max) lat_max = lat;
  }
  if (!rate && k < n_total && !rt_on_qemu()) hc_raise_irq(vec, 1, period_ns);
  rt_events__spin(block_ticks); /* IF=0 until our IRETQ */
  return 1;
}

static int setup(void) {
  n_total = param("n");
  vec = (uint32_t)param("vector");
  period_ns = param("period_us") * 1000u;
  rate = param("rate");
  block_ticks = rt_events__us_to_tsc(param("block_us"));
  if (rt_events__hook_tsc(vec)) {
    printf("irqstorm: cannot hook vector %u\n", vec);
    return 1;
  }
  trap_set_handler(vec, on_irq);
  for (unsigned v = 32; v < 256; v++)
    if (v != vec) trap_set_handler(v, on_irq); /* counts wrong vectors */
  hc_report(VTB_KEY_IRQ_LOG, (uint64_t)&irq_log);
  rt_user_rflags |= X86_RFLAGS_IF; /* ring 3 runs with interrupts on */
  return 0;
}

/* An IF=0 stretch: in ring 0 (kcall from ring 3 enters with IF=0). */
static uint64_t cli_spin(uint64_t ticks, uint64_t b) {
  (void)b;
  __asm__ volatile("cli" ::: "memory");
  rt_events__spin(ticks);
  return 0;
}

static uint64_t self_irq(uint64_t a, uint64_t b) {
  (void)a, (void)b;
  /* QEMU only (INT n fails on PVM hosts): the vector is an immediate */
  switch (vec) {
  case 0x40:
    __asm__ volatile("int $0x40" ::: "memory");
    break;
  default:
    on_irq(&(struct trap_frame){.vector = vec}); /* same bookkeeping, no entry stub */
    break;
  }
  return 0;
}

static void raise_one(uint64_t delay_ns) {
  hc_raise_irq(vec, 1, delay_ns);
}

static int run(struct wl_result *res) {
  uint64_t period_ticks = rt_events__us_to_tsc(param("period_us"));
  uint64_t sti_ticks = rt_events__us_to_tsc(param("sti_us"));
  uint64_t cli_ticks = rt_events__us_to_tsc(param("cli_us"));
  uint64_t deadline = rdtsc() + rt_events__us_to_tsc(param("timeout_s") * 1000000u);
  int ring0 = x86_cpl() == 0;
  uint64_t toggles = 0;
  mark_begin();
  if (!rt_on_qemu()) {
    if (rate)
      rt_events__schedule(n_total, rate, raise_one); /* they queue: none is lost */
    else
      hc_raise_irq(vec, 1, period_ns);
    while (got < n_total && rdtsc() < deadline) {
      if (ring0) __asm__ volatile("sti" ::: "memory");
      rt_events__spin(sti_ticks);
      if (cli_ticks) kcall(cli_spin, cli_ticks, 0);
      if (ring0) __asm__ volatile("sti" ::: "memory");
      toggles++;
    }
    if (ring0) __asm__ volatile("cli" ::: "memory");
  } else {
    for (uint64_t k = 0; k < n_total; k++) {
      rt_events__spin(period_ticks);
      kcall(self_irq, 0, 0);
    }
  }
  mark_end();
  if (!rt_on_qemu()) { /* strays: a duplicated interrupt would land here */
    if (ring0) __asm__ volatile("sti" ::: "memory");
    rt_events__spin(period_ticks + block_ticks + rt_events__us_to_tsc(1000));
    if (ring0) __asm__ volatile("cli" ::: "memory");
  }
  uint64_t count = got, sum = 0;
  for (uint64_t k = 1; k <= count; k++)
    sum += vtb_mix64(k ^ vec);
  hc_report("irq.count", count);
  hc_report("irq.samples", lat_samples);
  hc_report("irq.lat_mean_tsc", lat_samples ? lat_sum / lat_samples : 0);
  hc_report("irq.lat_max_tsc", lat_max);
  hc_report("irq.wrong_vector", wrong);
  hc_report("toggles", toggles);
  res->checksum = sum;
  res->iterations = n_total;
  if (count != n_total || wrong) {
    printf("irqstorm: %lu interrupts taken on vector %u (%lu on others), %lu raised\n", count, vec,
           wrong, n_total);
    return 10;
  }
  return 0;
}

const struct workload WORKLOAD = {
    .name = "irqstorm",
    .desc = "interrupts raised by refvmm while the guest toggles IF",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .setup = setup,
    .run = run,
};
