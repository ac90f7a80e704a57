/* dev_lapic.c - the local APIC of refvmm's platform (dev_lapic.h). */
#include "dev_lapic.h"

#include <stdio.h>
#include <string.h>

#include "platform_defs.h"

/* register offsets (SDM vol. 3, table 11-1) */
enum {
  R_ID = 0x020,
  R_VERSION = 0x030,
  R_TPR = 0x080,
  R_APR = 0x090,
  R_PPR = 0x0a0,
  R_EOI = 0x0b0,
  R_RRD = 0x0c0,
  R_LDR = 0x0d0,
  R_DFR = 0x0e0,
  R_SVR = 0x0f0,
  R_ISR = 0x100,
  R_TMR = 0x180,
  R_IRR = 0x200,
  R_ESR = 0x280,
  R_LVT_CMCI = 0x2f0,
  R_ICR_LO = 0x300,
  R_ICR_HI = 0x310,
  R_LVT_TIMER = 0x320, /* LVT entries 0x320..0x370 follow in order */
  R_LVT_ERROR = 0x370,
  R_INITIAL_COUNT = 0x380,
  R_CURRENT_COUNT = 0x390,
  R_DIVIDE = 0x3e0,
};
enum { LVT_CMCI, LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_N };

#define LVT_MASKED        (1u << 16)
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3u)
#define TIMER_ONESHOT     0u
#define TIMER_PERIODIC    1u
#define TIMER_TSCDEADLINE 2u
#define SVR_ENABLE        (1u << 8)
#define ICR_LOGICAL       (1u << 11)
#define ICR_LEVEL_TRIGGER (1u << 15)
#define DM_FIXED          0u
#define DM_LOWEST         1u
#define DM_NMI            4u
/* version 0x14, max LVT entry 6 (CMCI included) */
#define LAPIC_VERSION (PLATFORM_LAPIC_VER | (6u << 16))
/* writable bits per LVT: vector, delivery mode, polarity, trigger, mask; the
 * timer: vector, mask, mode */
static const uint32_t lvt_writable[LVT_N] = {0x107ff, 0x700ff, 0x107ff, 0x107ff,
                                             0x1a7ff, 0x1a7ff, 0x100ff};

static int highest(const uint32_t r[8]) {
  for (int i = 7; i >= 0; i--)
    if (r[i]) return i * 32 + 31 - __builtin_clz(r[i]);
  return -1;
}
static void set_bit(uint32_t r[8], unsigned v) {
  r[v / 32] |= 1u << (v % 32);
}
static void clear_bit(uint32_t r[8], unsigned v) {
  r[v / 32] &= ~(1u << (v % 32));
}
static bool test_bit(const uint32_t r[8], unsigned v) {
  return r[v / 32] & (1u << (v % 32));
}

static uint32_t ppr(const struct lapic *a) {
  int isrv = highest(a->isr);
  uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
  return (a->tpr & 0xf0) >= isr_class ? a->tpr & 0xff : isr_class;
}

static uint64_t now(const struct lapic *a) {
  return event_policy__now(a->p);
}

/* Offer the highest deliverable IRR vector to the policy (one at a time). */
static void update(struct lapic *a) {
  if (a->offered >= 0 || !(a->svr & SVR_ENABLE)) return;
  int v = highest(a->irr);
  if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(a) & 0xf0)) return;
  a->offered = v;
  event_policy__raise_stamped(a->p, EV_IRQ, (uint32_t)v, a->arrived[v]);
}

/* The policy injected `vector`: the CPU acknowledged it. */
static void ack(void *arg, uint32_t vector) {
  struct lapic *a = arg;
  if (vector > 255) return;
  if (a->offered == (int)vector) a->offered = -1;
  clear_bit(a->irr, vector);
  set_bit(a->isr, vector);
  update(a);
}

void lapic__accept(struct lapic *a, uint8_t vector, bool level, bool nmi) {
  if (nmi) {
    event_policy__raise_stamped(a->p, EV_NMI, 0, now(a));
    return;
  }
  if (vector < 16 || !(a->svr & SVR_ENABLE)) return; /* illegal, or software-disabled */
  if (!test_bit(a->irr, vector)) a->arrived[vector] = now(a);
  set_bit(a->irr, vector);
  if (level)
    set_bit(a->tmr, vector);
  else
    clear_bit(a->tmr, vector);
  update(a);
}

bool lapic__matches(const struct lapic *a, uint8_t dest, bool logical) {
  if (dest == 0xff) return true; /* broadcast */
  if (!logical) return dest == (a->id >> 24);
  uint8_t ldr = (uint8_t)(a->ldr >> 24);
  if ((a->dfr >> 28) == 0xf) return (dest & ldr) != 0; /* flat */
  /* cluster: high nibble the cluster, low nibble a bit mask within it */
  return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);
}

/* ---- timer ------------------------------------------------------------------- */
static uint64_t divider(const struct lapic *a) {
  unsigned v = ((a->divide_conf & 8) >> 1) | (a->divide_conf & 3);
  return v == 7 ? 1 : 2ull << v;
}
/* clock ticks per count */
static double tick_ratio(const struct lapic *a) {
  return (double)a->tsc_hz * (double)divider(a) / LAPIC_CRYSTAL_HZ;
}

static void timer_fire(void *arg, uint64_t due) {
  struct lapic *a = arg;
  uint32_t lvt = a->lvt[LVT_TIMER];
  unsigned mode = LVT_TIMER_MODE(lvt);
  a->timer_fires++;
  if (mode == TIMER_TSCDEADLINE) a->deadline = 0;
  if (mode == TIMER_PERIODIC && a->initial_count) {
    a->count_start = due;
    event_policy__arm_timer(&a->timer,
                            due + (uint64_t)((double)a->initial_count * tick_ratio(a) + 0.5));
  }
  if (!(lvt & LVT_MASKED)) {
    uint8_t v = (uint8_t)lvt;
    if (v >= 16) {
      if (!test_bit(a->irr, v)) a->arrived[v] = due;
      set_bit(a->irr, v);
      clear_bit(a->tmr, v);
      update(a);
    }
  }
}

static void start_count(struct lapic *a) {
  unsigned mode = LVT_TIMER_MODE(a->lvt[LVT_TIMER]);
  if (mode == TIMER_TSCDEADLINE) return;
  if (!a->initial_count) {
    event_policy__disarm_timer(&a->timer);
    return;
  }
  a->count_start = now(a);
  event_policy__arm_timer(
      &a->timer, a->count_start + (uint64_t)((double)a->initial_count * tick_ratio(a) + 0.5));
}

static uint32_t current_count(const struct lapic *a) {
  unsigned mode = LVT_TIMER_MODE(a->lvt[LVT_TIMER]);
  if (mode == TIMER_TSCDEADLINE || !a->initial_count) return 0;
  uint64_t t = now(a);
  uint64_t elapsed =
      t > a->count_start ? (uint64_t)((double)(t - a->count_start) / tick_ratio(a)) : 0;
  if (mode == TIMER_PERIODIC) return a->initial_count - (uint32_t)(elapsed % a->initial_count);
  return elapsed >= a->initial_count ? 0 : a->initial_count - (uint32_t)elapsed;
}

/* ---- registers ------------------------------------------------------------------ */
static uint32_t reg_read(struct lapic *a, unsigned r) {
  if (r >= R_ISR && r < R_ISR + 0x80) return a->isr[(r - R_ISR) >> 4];
  if (r >= R_TMR && r < R_TMR + 0x80) return a->tmr[(r - R_TMR) >> 4];
  if (r >= R_IRR && r < R_IRR + 0x80) return a->irr[(r - R_IRR) >> 4];
  if (r >= R_LVT_TIMER && r <= R_LVT_ERROR) return a->lvt[LVT_TIMER + ((r - R_LVT_TIMER) >> 4)];
  switch (r) {
  case R_ID:
    return a->id;
  case R_VERSION:
    return LAPIC_VERSION;
  case R_TPR:
    return a->tpr;
  case R_PPR:
    return ppr(a);
  case R_LDR:
    return a->ldr;
  case R_DFR:
    return a->dfr;
  case R_SVR:
    return a->svr;
  case R_ESR:
    return a->esr;
  case R_LVT_CMCI:
    return a->lvt[LVT_CMCI];
  case R_ICR_LO:
    return a->icr_lo; /* delivery status (bit 12) always idle */
  case R_ICR_HI:
    return a->icr_hi;
  case R_INITIAL_COUNT:
    return a->initial_count;
  case R_CURRENT_COUNT:
    return current_count(a);
  case R_DIVIDE:
    return a->divide_conf;
  default:
    return 0; /* APR, RRD, reserved */
  }
}

static void send_ipi(struct lapic *a) {
  uint32_t lo = a->icr_lo;
  unsigned mode = (lo >> 8) & 7, shorthand = (lo >> 18) & 3;
  bool self = shorthand == 1 || shorthand == 2 ||
              (shorthand == 0 && lapic__matches(a, (uint8_t)(a->icr_hi >> 24), lo & ICR_LOGICAL));
  a->ipis++;
  if (!self) return; /* there is no other CPU */
  if (mode == DM_FIXED || mode == DM_LOWEST)
    lapic__accept(a, (uint8_t)lo, false, false);
  else if (mode == DM_NMI)
    lapic__accept(a, 0, false, true);
  /* SMI, INIT, SIPI: no other CPU to start, no SMM */
}

static void set_lvt(struct lapic *a, int i, uint32_t v) {
  v &= lvt_writable[i];
  if (!(a->svr & SVR_ENABLE)) v |= LVT_MASKED; /* software-disabled: stay masked */
  if (i == LVT_TIMER && LVT_TIMER_MODE(v) != LVT_TIMER_MODE(a->lvt[i])) {
    event_policy__disarm_timer(&a->timer); /* a mode change disarms the timer */
    a->deadline = 0;
    a->initial_count = 0;
  }
  a->lvt[i] = v;
}

static void reg_write(struct lapic *a, unsigned r, uint32_t v) {
  if (r >= R_LVT_TIMER && r <= R_LVT_ERROR) {
    set_lvt(a, LVT_TIMER + (int)((r - R_LVT_TIMER) >> 4), v);
    return;
  }
  switch (r) {
  case R_ID:
    a->id = v & 0xff000000u;
    return;
  case R_TPR:
    a->tpr = v & 0xff;
    update(a);
    return;
  case R_EOI: {
    int isrv = highest(a->isr);
    if (isrv < 0) return;
    clear_bit(a->isr, (unsigned)isrv);
    a->eois++;
    if (test_bit(a->tmr, (unsigned)isrv) && a->eoi_broadcast)
      a->eoi_broadcast(a->eoi_arg, (uint8_t)isrv);
    update(a);
    return;
  }
  case R_LDR:
    a->ldr = v & 0xff000000u;
    return;
  case R_DFR:
    a->dfr = v | 0x0fffffffu;
    return;
  case R_SVR:
    a->svr = v & 0x13ffu;
    if (!(a->svr & SVR_ENABLE))
      for (int i = 0; i < LVT_N; i++)
        a->lvt[i] |= LVT_MASKED;
    update(a);
    return;
  case R_ESR:
    a->esr = 0; /* a write latches the (empty) error state */
    return;
  case R_LVT_CMCI:
    set_lvt(a, LVT_CMCI, v);
    return;
  case R_ICR_LO:
    a->icr_lo = v & ~(1u << 12);
    send_ipi(a);
    return;
  case R_ICR_HI:
    a->icr_hi = v & 0xff000000u;
    return;
  case R_INITIAL_COUNT:
    a->initial_count = v;
    start_count(a);
    return;
  case R_DIVIDE:
    a->divide_conf = v & 0xb;
    return;
  default:
    a->spurious_writes++; /* read-only or reserved: ignored */
    return;
  }
}

static int lapic_mmio(struct vm *vm, void *opaque, uint64_t off, uint32_t len, bool write,
                      uint8_t *data) {
  (void)vm;
  struct lapic *a = opaque;
  unsigned r = (unsigned)(off & 0xff0), in = (unsigned)(off & 0xf);
  if (off >= 0x1000 || in + len > 4) { /* only the 32 bits at a 16-byte boundary exist */
    if (!write) memset(data, 0, len);
    return 0;
  }
  if (write) {
    if (in == 0 && len == 4) {
      uint32_t v;
      memcpy(&v, data, 4);
      reg_write(a, r, v);
    }
    return 0;
  }
  uint32_t v = reg_read(a, r) >> (8 * in);
  memcpy(data, &v, len);
  return 0;
}

/* IA32_TSC_DEADLINE: writes count in TSC-deadline mode only */
static int lapic_msr(struct vm *vm, void *opaque, uint32_t index, bool write, uint64_t *value) {
  (void)vm, (void)index;
  struct lapic *a = opaque;
  if (!write) {
    *value = LVT_TIMER_MODE(a->lvt[LVT_TIMER]) == TIMER_TSCDEADLINE ? a->deadline : 0;
    return 0;
  }
  if (LVT_TIMER_MODE(a->lvt[LVT_TIMER]) != TIMER_TSCDEADLINE) return 0;
  a->deadline = *value;
  if (*value)
    event_policy__arm_timer(&a->timer, *value);
  else
    event_policy__disarm_timer(&a->timer);
  return 0;
}

int lapic__init(struct lapic *a, struct event_policy *p, uint64_t tsc_hz, char *err,
                size_t errlen) {
  memset(a, 0, sizeof *a);
  a->p = p;
  a->tsc_hz = tsc_hz;
  a->id = PLATFORM_LAPIC_ID << 24;
  a->dfr = 0xffffffffu;
  a->svr = 0xff;
  for (int i = 0; i < LVT_N; i++)
    a->lvt[i] = LVT_MASKED;
  a->offered = -1;
  a->timer = (struct event_timer){.fire = timer_fire, .arg = a};
  if (event_policy__add_timer(p, &a->timer)) {
    snprintf(err, errlen, "lapic: the event policy has no room for another timer");
    return -1;
  }
  event_policy__set_irq_ack(p, ack, a);
  return 0;
}

int lapic__register(struct lapic *a, struct device_bus *bus, char *err, size_t errlen) {
  if (devbus__register_mmio(bus, "lapic", PLATFORM_LAPIC_GPA, 0x1000, lapic_mmio, a, err, errlen))
    return -1;
  return devbus__register_msr(bus, "lapic-tsc-deadline", 0x6e0, lapic_msr, a, err, errlen);
}
