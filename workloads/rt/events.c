/* events.c - TSC-at-entry hooks for NMI and one IRQ vector, the delivery
 * log and timing helpers (events.h). The stubs are kept to a few
 * instructions: ring-0 code is emulated instruction by instruction on some
 * hosts, and every one of them adds to the latency measured. */
#include "events.h"

#include "desc.h"
#include "rt.h"

volatile uint64_t rt_ev_nmi_tsc;
volatile uint64_t rt_ev_irq_tsc;
uint64_t rt_ev_nmi_next; /* the runtime's stub the hook continues into */
uint64_t rt_ev_irq_next;

extern char rt_ev_nmi_entry[], rt_ev_irq_entry[];

__asm__(".section .text\n"
        ".balign 16\n"
        ".globl rt_ev_nmi_entry\n"
        "rt_ev_nmi_entry:\n"
        "  push %rax\n"
        "  push %rdx\n"
        "  rdtsc\n"
        "  shl $32, %rdx\n"
        "  or %rdx, %rax\n"
        "  mov %rax, rt_ev_nmi_tsc(%rip)\n"
        "  pop %rdx\n"
        "  pop %rax\n"
        "  jmp *rt_ev_nmi_next(%rip)\n"
        ".balign 16\n"
        ".globl rt_ev_irq_entry\n"
        "rt_ev_irq_entry:\n"
        "  push %rax\n"
        "  push %rdx\n"
        "  rdtsc\n"
        "  shl $32, %rdx\n"
        "  or %rdx, %rax\n"
        "  mov %rax, rt_ev_irq_tsc(%rip)\n"
        "  pop %rdx\n"
        "  pop %rax\n"
        "  jmp *rt_ev_irq_next(%rip)\n");

struct __attribute__((packed)) idtr {
  uint16_t limit;
  uint64_t base;
};

struct gate {
  uint64_t lo, hi;
};

static uint64_t gate_target(const struct gate *g) {
  return (g->lo & 0xffff) | ((g->lo >> 48) << 16) | (g->hi << 32);
}

static void gate_set_target(struct gate *g, uint64_t h) {
  g->lo = (g->lo & 0x0000ffffffff0000ull) | (h & 0xffff) | ((h >> 16 & 0xffff) << 48);
  g->hi = h >> 32;
}

int rt_events__hook_tsc(unsigned vector) {
  if (vector != 2 && (vector < 32 || vector > 255)) return -1;
  struct idtr r;
  __asm__ volatile("sidt %0" : "=m"(r));
  struct gate *g = (struct gate *)r.base + vector;
  uint64_t stub = (uint64_t)isr_stubs + 16ull * vector; /* the runtime's, even if hooked before */
  if (vector == 2) {
    rt_ev_nmi_next = stub;
    gate_set_target(g, (uint64_t)rt_ev_nmi_entry);
  } else {
    rt_ev_irq_next = stub;
    gate_set_target(g, (uint64_t)rt_ev_irq_entry);
  }
  return gate_target(g) == (vector == 2 ? (uint64_t)rt_ev_nmi_entry : (uint64_t)rt_ev_irq_entry)
             ? 0
             : -1;
}

uint64_t rt_events__log(struct vtb_event_log *log, uint64_t tsc) {
  uint64_t k = log->handled;
  uint64_t lat = 0;
  if (k < VTB_EVENT_LOG_MAX) {
    log->handler_tsc[k] = tsc;
    uint64_t raised = log->raise_tsc[k];
    if (k < log->delivered && raised && tsc > raised) lat = tsc - raised;
  }
  log->handled = k + 1;
  return lat;
}

void rt_events__spin(uint64_t ticks) {
  uint64_t t0 = rdtsc();
  while (rdtsc() - t0 < ticks)
    cpu_relax();
}

uint64_t rt_events__us_to_tsc(uint64_t us) {
  uint64_t hz = rt_boot && rt_boot->tsc_hz ? rt_boot->tsc_hz : 2000000000ull;
  return us * (hz / 1000000u);
}

uint64_t rt_events__tsc_to_ns(uint64_t ticks) {
  uint64_t hz = rt_boot && rt_boot->tsc_hz ? rt_boot->tsc_hz : 2000000000ull;
  return ticks * 1000u / (hz / 1000000u);
}

void rt_events__schedule(uint64_t n, uint64_t rate, void (*raise)(uint64_t delay_ns)) {
  uint64_t t0 = rdtsc(), step = 1000000000u / rate, due = 0;
  for (uint64_t k = 1; k <= n; k++) {
    /* gaps uniform in [0, 2/rate): arrivals at a random phase of whatever
     * the guest is doing (a strictly periodic schedule would lock onto it) */
    due += step * (vtb_mix64(k) % 2000u) / 1000u;
    uint64_t now = rt_events__tsc_to_ns(rdtsc() - t0);
    raise(due > now ? due - now : 1);
  }
}
