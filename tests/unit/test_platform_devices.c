/* test_platform_devices.c - the devices of a Linux boot on refvmm's bus
 * (refvmm/platform.h), driven through the bus as the run loop does: the
 * 16550A UART's registers and interrupt (what Linux's 8250 driver checks),
 * the local APIC (priorities, ack and EOI, the TSC-deadline and one-shot
 * timers in the policy's clock, IPIs to itself), the I/O APIC's edge and
 * level delivery, the CMOS clock, the reset line. The event policy runs on a
 * fake clock and a fake CPU that takes every injection at once. */
#include <check.h>
#include <string.h>

#include "refvmm/console.h"
#include "refvmm/dev_ioapic.h"
#include "refvmm/dev_lapic.h"
#include "refvmm/devbus.h"
#include "refvmm/event_policy.h"
#include "refvmm/platform_defs.h"

#define HZ 1000000000ull /* the fake clock: guest TSC ticks per second */

static struct {
  uint64_t now;
  uint32_t injected[64];
  int ninjected;
  bool irq_blocked;
} f;

static uint64_t f_now(void *a) {
  (void)a;
  return f.now;
}
static uint64_t f_hz(void *a) {
  (void)a;
  return HZ;
}
static uint64_t f_stamp(void *a, uint64_t t) {
  (void)a;
  return t;
}
static int f_state(void *a, unsigned kinds, struct event_guest_state *st) {
  (void)a, (void)kinds;
  st->irq_blocked = f.irq_blocked;
  return 0;
}
static int f_inject_irq(void *a, uint32_t v, uint64_t stamp) {
  (void)a, (void)stamp;
  if (f.ninjected < 64) f.injected[f.ninjected++] = v;
  return 0;
}
static int f_inject_nmi(void *a, uint64_t stamp) {
  (void)a, (void)stamp;
  if (f.ninjected < 64) f.injected[f.ninjected++] = 2 | 0x100;
  return 0;
}
static const struct event_hw hw = {.now = f_now,
                                   .hz = f_hz,
                                   .stamp = f_stamp,
                                   .guest_tsc = f_stamp,
                                   .guest_state = f_state,
                                   .inject_irq = f_inject_irq,
                                   .inject_nmi = f_inject_nmi,
                                   .delivered_at_injection = true,
                                   .sources_at_entry = true};

static struct vm vm;
static struct device_bus bus;
static struct event_policy pol;
static struct lapic lapic;
static struct ioapic ioapic;
static struct console con;
static struct serial_dev uart;
static struct rtc_dev rtc;
static struct reset_dev reset;
static int irq_edges;
static bool irq_now;

static void uart_irq(void *a, bool level) {
  (void)a;
  irq_now = level;
  irq_edges += level;
}
static uint64_t rtc_ns(void *a) {
  (void)a;
  return f.now; /* HZ is 1e9: ticks are ns */
}

static void setup(void) {
  memset(&f, 0, sizeof f);
  memset(&vm, 0, sizeof vm);
  devbus__init(&bus);
  vm.bus = &bus;
  console__init(&con, false);
  vm.console = &con;
  event_policy__init(&pol, &hw, NULL);
  struct vm_config cfg = {0};
  cfg.modes.irq = EVENT_WINDOW;
  cfg.modes.nmi = EVENT_WINDOW;
  event_policy__configure(&pol, &cfg);
  char err[256];
  ck_assert_int_eq(lapic__init(&lapic, &pol, HZ, err, sizeof err), 0);
  ioapic__init(&ioapic, &lapic, NULL, NULL);
  ck_assert_int_eq(lapic__register(&lapic, &bus, err, sizeof err), 0);
  ck_assert_int_eq(ioapic__register(&ioapic, &bus, err, sizeof err), 0);
  ck_assert_int_eq(dev_serial__register(&bus, &uart, &con, err, sizeof err), 0);
  dev_serial__set_irq(&uart, uart_irq, NULL);
  ck_assert_int_eq(dev_rtc__register(&bus, &rtc, rtc_ns, NULL, err, sizeof err), 0);
  ck_assert_int_eq(dev_reset__register(&bus, &reset, &con, err, sizeof err), 0);
  irq_edges = 0;
  irq_now = false;
}
static void teardown(void) {
  event_policy__free(&pol);
}

static uint8_t inb(uint16_t port) {
  uint8_t v = 0;
  ck_assert_int_eq(devbus__pio(&vm, &bus, port, 1, false, 1, &v), 0);
  return v;
}
static int outb(uint16_t port, uint8_t v) {
  return devbus__pio(&vm, &bus, port, 1, true, 1, &v);
}
static uint32_t apic_rd(unsigned reg) {
  uint32_t v;
  ck_assert_int_eq(devbus__mmio(&vm, &bus, PLATFORM_LAPIC_GPA + reg, 4, false, (uint8_t *)&v), 0);
  return v;
}
static void apic_wr(unsigned reg, uint32_t v) {
  ck_assert_int_eq(devbus__mmio(&vm, &bus, PLATFORM_LAPIC_GPA + reg, 4, true, (uint8_t *)&v), 0);
}
static void wrmsr(uint32_t msr, uint64_t v) {
  bool refused;
  ck_assert_int_eq(devbus__msr(&vm, &bus, msr, true, &v, &refused), 0);
  ck_assert(!refused);
}
static bool irr(unsigned v) {
  return apic_rd(0x200 + (v / 32) * 16) & (1u << (v % 32));
}
static bool isr(unsigned v) {
  return apic_rd(0x100 + (v / 32) * 16) & (1u << (v % 32));
}
/* a VM entry: the policy decides (and the fake CPU takes what it injects) */
static void entry(void) {
  ck_assert_int_eq(event_policy__decide(&pol), 0);
}

/* ---- UART -------------------------------------------------------------------- */
START_TEST(uart_probe_registers) {
  ck_assert_uint_eq(inb(0x3f8 + 2), 0x01); /* IIR: no interrupt, FIFOs off */
  outb(0x3f8 + 2, 0x01);                   /* FCR: FIFOs on */
  ck_assert_uint_eq(inb(0x3f8 + 2), 0xc1); /* a 16550A */
  outb(0x3f8 + 7, 0x5a);
  ck_assert_uint_eq(inb(0x3f8 + 7), 0x5a); /* scratch */
  outb(0x3f8 + 1, 0x0f);
  ck_assert_uint_eq(inb(0x3f8 + 1), 0x0f); /* IER holds 4 bits */
  outb(0x3f8 + 1, 0xff);
  ck_assert_uint_eq(inb(0x3f8 + 1), 0x0f);
  outb(0x3f8 + 3, 0x83); /* DLAB: the divisor latch shadows THR and IER */
  outb(0x3f8, 0x01);
  outb(0x3f8 + 1, 0x00);
  ck_assert_uint_eq(inb(0x3f8), 0x01);
  ck_assert_uint_eq(inb(0x3f8 + 1), 0x00);
  outb(0x3f8 + 3, 0x03);
  ck_assert_uint_eq(inb(0x3f8 + 1), 0x0f);
  ck_assert_uint_eq(inb(0x3f8 + 5), 0x60);        /* LSR: THR and transmitter empty */
  ck_assert_uint_eq(inb(0x3f8 + 6) & 0xf0, 0xb0); /* MSR: CTS DSR DCD */
  ck_assert_uint_eq(con.total, 0);
}
END_TEST

/* what serial8250_do_startup checks: THRE interrupts re-assert */
START_TEST(uart_thre_interrupt) {
  outb(0x3f8 + 4, 0x08); /* OUT2: the interrupt line reaches the I/O APIC */
  outb(0x3f8 + 1, 0x02); /* THRI */
  ck_assert(irq_now);
  ck_assert_uint_eq(inb(0x3f8 + 2), 0x02); /* THR empty */
  ck_assert(!irq_now);                     /* reading IIR cleared it */
  ck_assert_uint_eq(inb(0x3f8 + 2), 0x01);
  outb(0x3f8 + 1, 0x00);
  outb(0x3f8 + 1, 0x02); /* enabled again while THR is empty: again */
  ck_assert_uint_eq(inb(0x3f8 + 2), 0x02);
  outb(0x3f8, 'x'); /* sent at once: THR empty again */
  ck_assert(irq_now);
  ck_assert_uint_eq(con.total, 1);
  ck_assert_int_eq(con.buf[0], 'x');
  ck_assert_int_eq(irq_edges, 3);
  outb(0x3f8 + 4, 0x00); /* OUT2 off gates the line */
  ck_assert(!irq_now);
  ck_assert_uint_eq(inb(0x3f8 + 2), 0x02); /* still pending inside the UART */
}
END_TEST

START_TEST(uart_loopback) {
  outb(0x3f8 + 4, 0x10 | 0x03);                   /* LOOP, DTR, RTS */
  ck_assert_uint_eq(inb(0x3f8 + 6) & 0xf0, 0x30); /* CTS <- RTS, DSR <- DTR */
  outb(0x3f8, 'q');
  ck_assert_uint_eq(con.total, 0); /* looped back, not sent */
  ck_assert_uint_eq(inb(0x3f8 + 5) & 0x01, 0x01);
  ck_assert_uint_eq(inb(0x3f8), 'q');
  ck_assert_uint_eq(inb(0x3f8 + 5) & 0x01, 0x00);
}
END_TEST

/* ---- local APIC ------------------------------------------------------------------ */
START_TEST(lapic_reset_state) {
  ck_assert_uint_eq(apic_rd(0x20), 0);           /* ID 0 */
  ck_assert_uint_eq(apic_rd(0x30) & 0xff, 0x14); /* version */
  ck_assert_uint_eq(apic_rd(0xf0), 0xff);        /* SVR: software-disabled */
  for (unsigned r = 0x320; r <= 0x370; r += 0x10)
    ck_assert_uint_eq(apic_rd(r) & 0x10000, 0x10000); /* LVTs masked */
  lapic__accept(&lapic, 0x40, false, false);
  ck_assert(!irr(0x40)); /* software-disabled: nothing is accepted */
  apic_wr(0x350, 0x700); /* LVT unmasked while disabled: stays masked */
  ck_assert_uint_eq(apic_rd(0x350) & 0x10000, 0x10000);
}
END_TEST

START_TEST(lapic_ack_eoi_priorities) {
  apic_wr(0xf0, 0x1ff);
  lapic__accept(&lapic, 0x41, false, false);
  ck_assert(irr(0x41));
  entry();
  ck_assert_int_eq(f.ninjected, 1);
  ck_assert_uint_eq(f.injected[0], 0x41);
  ck_assert(!irr(0x41) && isr(0x41));        /* acknowledged at injection */
  ck_assert_uint_eq(apic_rd(0xa0), 0x40);    /* PPR: the class in service */
  lapic__accept(&lapic, 0x35, false, false); /* a lower class waits for the EOI */
  lapic__accept(&lapic, 0x52, false, false); /* a higher class nests */
  entry();
  ck_assert_int_eq(f.ninjected, 2);
  ck_assert_uint_eq(f.injected[1], 0x52);
  apic_wr(0xb0, 0); /* EOI: 0x52 */
  ck_assert(!isr(0x52) && isr(0x41));
  entry();
  ck_assert_int_eq(f.ninjected, 2); /* 0x35 still below 0x41's class */
  apic_wr(0xb0, 0);                 /* EOI: 0x41 */
  entry();
  ck_assert_int_eq(f.ninjected, 3);
  ck_assert_uint_eq(f.injected[2], 0x35);
  apic_wr(0xb0, 0);
  apic_wr(0x80, 0x60); /* TPR above the class: held */
  lapic__accept(&lapic, 0x55, false, false);
  entry();
  ck_assert_int_eq(f.ninjected, 3);
  apic_wr(0x80, 0x00);
  entry();
  ck_assert_int_eq(f.ninjected, 4);
  ck_assert_uint_eq(f.injected[3], 0x55);
}
END_TEST

START_TEST(lapic_waits_while_blocked) {
  apic_wr(0xf0, 0x1ff);
  f.irq_blocked = true; /* IF=0: the policy holds it */
  lapic__accept(&lapic, 0x61, false, false);
  entry();
  ck_assert_int_eq(f.ninjected, 0);
  ck_assert(irr(0x61));
  f.irq_blocked = false;
  entry();
  ck_assert_int_eq(f.ninjected, 1);
  ck_assert(isr(0x61));
}
END_TEST

START_TEST(lapic_tsc_deadline) {
  apic_wr(0xf0, 0x1ff);
  apic_wr(0x320, (2u << 17) | 0xec); /* TSC-deadline mode, vector 0xec */
  f.now = 1000;
  wrmsr(0x6e0, 5000);
  ck_assert_uint_eq(event_policy__next_due(&pol), 5000);
  f.now = 4999;
  entry();
  ck_assert_int_eq(f.ninjected, 0);
  f.now = 5200;
  entry(); /* due at the entry: fired and injected */
  ck_assert_int_eq(f.ninjected, 1);
  ck_assert_uint_eq(f.injected[0], 0xec);
  ck_assert_uint_eq(event_policy__next_due(&pol), UINT64_MAX);
  uint64_t v;
  bool refused;
  devbus__msr(&vm, &bus, 0x6e0, false, &v, &refused);
  ck_assert_uint_eq(v, 0);                   /* a fired deadline reads 0 */
  ck_assert_uint_eq(pol.st[EV_IRQ].nlat, 0); /* delivered_at_injection: no sample */
  wrmsr(0x6e0, 9000);
  wrmsr(0x6e0, 0); /* disarmed */
  ck_assert_uint_eq(event_policy__next_due(&pol), UINT64_MAX);
  apic_wr(0x320, 0x10000 | (2u << 17) | 0xec); /* masked: fires without an interrupt */
  wrmsr(0x6e0, 6000);
  apic_wr(0xb0, 0);
  f.now = 7000;
  entry();
  ck_assert_int_eq(f.ninjected, 1);
}
END_TEST

START_TEST(lapic_oneshot_and_periodic) {
  apic_wr(0xf0, 0x1ff);
  apic_wr(0x3e0, 0xb);  /* divide by 1 */
  apic_wr(0x320, 0x30); /* one-shot, vector 0x30 */
  f.now = 0;
  apic_wr(0x380, 100); /* 100 counts of the 1 MHz crystal: 100 us */
  ck_assert_uint_eq(event_policy__next_due(&pol), 100000);
  f.now = 40000;
  ck_assert_uint_eq(apic_rd(0x390), 60);
  f.now = 100000;
  entry();
  ck_assert_uint_eq(f.injected[0], 0x30);
  ck_assert_uint_eq(apic_rd(0x390), 0);
  apic_wr(0xb0, 0);
  apic_wr(0x320, (1u << 17) | 0x31); /* periodic: the mode change stopped the count */
  apic_wr(0x3e0, 0x0);               /* divide by 2 */
  apic_wr(0x380, 10);
  ck_assert_uint_eq(event_policy__next_due(&pol), 100000 + 20000);
  f.now = 120000;
  entry();
  ck_assert_uint_eq(f.injected[1], 0x31);
  ck_assert_uint_eq(event_policy__next_due(&pol), 140000); /* re-armed */
}
END_TEST

START_TEST(lapic_self_ipi_and_nmi) {
  apic_wr(0xf0, 0x1ff);
  apic_wr(0x300, (1u << 18) | 0xf6); /* shorthand self, fixed */
  entry();
  ck_assert_uint_eq(f.injected[0], 0xf6);
  ck_assert_uint_eq(apic_rd(0x300) & (1u << 12), 0); /* delivery status idle */
  apic_wr(0xb0, 0);
  apic_wr(0x310, 0u << 24); /* physical destination 0: this APIC */
  apic_wr(0x300, 0xf7);
  entry();
  ck_assert_uint_eq(f.injected[1], 0xf7);
  apic_wr(0xb0, 0);
  apic_wr(0x310, 5u << 24); /* another APIC id: nobody */
  apic_wr(0x300, 0xf8);
  entry();
  ck_assert_int_eq(f.ninjected, 2);
  apic_wr(0x300, (1u << 18) | (4u << 8)); /* NMI to self */
  entry();
  ck_assert_uint_eq(f.injected[2], 0x102);
}
END_TEST

/* ---- I/O APIC --------------------------------------------------------------------- */
static void ioapic_wr(uint32_t reg, uint32_t v) {
  ck_assert_int_eq(devbus__mmio(&vm, &bus, PLATFORM_IOAPIC_GPA, 4, true, (uint8_t *)&reg), 0);
  ck_assert_int_eq(devbus__mmio(&vm, &bus, PLATFORM_IOAPIC_GPA + 0x10, 4, true, (uint8_t *)&v), 0);
}
static uint32_t ioapic_rd(uint32_t reg) {
  uint32_t v;
  devbus__mmio(&vm, &bus, PLATFORM_IOAPIC_GPA, 4, true, (uint8_t *)&reg);
  devbus__mmio(&vm, &bus, PLATFORM_IOAPIC_GPA + 0x10, 4, false, (uint8_t *)&v);
  return v;
}

START_TEST(ioapic_edge_and_level) {
  apic_wr(0xf0, 0x1ff);
  ck_assert_uint_eq(ioapic_rd(0) >> 24, PLATFORM_IOAPIC_ID);
  ck_assert_uint_eq(ioapic_rd(1), 0x11 | (23u << 16));
  ck_assert_uint_eq(ioapic_rd(0x10 + 8) & 0x10000, 0x10000); /* pin 4 masked at reset */
  ioapic__set_irq(&ioapic, 4, true);
  ck_assert(!irr(0x34));
  ioapic__set_irq(&ioapic, 4, false);
  ioapic_wr(0x10 + 9, 0);    /* destination APIC 0 */
  ioapic_wr(0x10 + 8, 0x34); /* vector 0x34, fixed, physical, edge, unmasked */
  ioapic__set_irq(&ioapic, 4, true);
  ck_assert(irr(0x34));
  entry();
  apic_wr(0xb0, 0);
  ioapic__set_irq(&ioapic, 4, true); /* still high: no new edge */
  ck_assert(!irr(0x34));
  ioapic__set_irq(&ioapic, 4, false);
  ioapic__set_irq(&ioapic, 4, true);
  ck_assert(irr(0x34));
  entry();
  apic_wr(0xb0, 0);
  /* level: delivered while high, once until the EOI clears remote IRR */
  ioapic_wr(0x10 + 10, 0x8000 | 0x45);
  ioapic__set_irq(&ioapic, 5, true);
  ck_assert(irr(0x45));
  ck_assert_uint_eq(ioapic_rd(0x10 + 10) & 0x4000, 0x4000); /* remote IRR */
  entry();
  ck_assert(isr(0x45));
  ioapic__set_irq(&ioapic, 5, true);
  ck_assert(!irr(0x45));
  apic_wr(0xb0, 0); /* EOI broadcast: the line is still high, so again */
  ck_assert(irr(0x45));
  ck_assert_uint_eq(ioapic_rd(0x10 + 10) & 0x4000, 0x4000);
}
END_TEST

/* ---- CMOS clock, reset line ---------------------------------------------------------- */
static uint8_t cmos(uint8_t reg) {
  outb(0x70, reg);
  return inb(0x71);
}

START_TEST(rtc_time) {
  ck_assert_uint_eq(cmos(0x0a) & 0x80, 0); /* not updating */
  ck_assert_uint_eq(cmos(0x0d), 0x80);     /* valid */
  ck_assert_uint_eq(cmos(0x09), 0x25);     /* 2025-01-01 00:00:00, BCD */
  ck_assert_uint_eq(cmos(0x32), 0x20);
  ck_assert_uint_eq(cmos(0x08), 0x01);
  ck_assert_uint_eq(cmos(0x07), 0x01);
  ck_assert_uint_eq(cmos(0x04), 0x00);
  f.now = 3723ull * HZ; /* 1:02:03 later */
  ck_assert_uint_eq(cmos(0x04), 0x01);
  ck_assert_uint_eq(cmos(0x02), 0x02);
  ck_assert_uint_eq(cmos(0x00), 0x03);
  outb(0x70, 0x0b);
  outb(0x71, 0x06); /* binary, 24 h */
  ck_assert_uint_eq(cmos(0x09), 25);
  outb(0x70, 0x0b);
  outb(0x71, 0x86); /* SET: the guest sets 23:59:00 */
  outb(0x70, 0x04);
  outb(0x71, 23);
  outb(0x70, 0x02);
  outb(0x71, 59);
  outb(0x70, 0x00);
  outb(0x71, 0);
  outb(0x70, 0x0b);
  outb(0x71, 0x06);
  f.now += 61ull * HZ;
  ck_assert_uint_eq(cmos(0x04), 0);
  ck_assert_uint_eq(cmos(0x02), 0);
  ck_assert_uint_eq(cmos(0x00), 1);
  ck_assert_uint_eq(cmos(0x07), 2); /* the next day */
  outb(0x70, 0x40);
  outb(0x71, 0x77);
  ck_assert_uint_eq(cmos(0x40), 0x77); /* CMOS RAM */
}
END_TEST

START_TEST(reset_line) {
  ck_assert_uint_eq(inb(0x64), 0xff); /* no keyboard controller behind it */
  ck_assert_int_eq(outb(0x64, 0xaa), 0);
  console__write(&con, "Kernel panic - not syncing: test\n", 33);
  ck_assert_int_eq(outb(0x64, 0xfe), 1); /* the run ends */
  ck_assert_int_eq(vm.status, RUN_GUEST_FAILED);
  ck_assert_msg(strstr(vm.status_detail, "rebooted") &&
                    strstr(vm.status_detail, "Kernel panic - not syncing: test"),
                "%s", vm.status_detail);
}
END_TEST

START_TEST(console_last_line) {
  char b[64];
  ck_assert_str_eq(console__last_line(&con, b, sizeof b), "");
  console__write(&con, "one\r\ntwo\r\n\r\n", 12);
  ck_assert_str_eq(console__last_line(&con, b, sizeof b), "two");
  console__write(&con, "three", 5);
  ck_assert_str_eq(console__last_line(&con, b, 4), "thr");
}
END_TEST

Suite *suite_platform_devices(void) {
  Suite *s = suite_create("platform_devices");
  TCase *t = tcase_create("devices");
  tcase_add_checked_fixture(t, setup, teardown);
  tcase_add_test(t, uart_probe_registers);
  tcase_add_test(t, uart_thre_interrupt);
  tcase_add_test(t, uart_loopback);
  tcase_add_test(t, lapic_reset_state);
  tcase_add_test(t, lapic_ack_eoi_priorities);
  tcase_add_test(t, lapic_waits_while_blocked);
  tcase_add_test(t, lapic_tsc_deadline);
  tcase_add_test(t, lapic_oneshot_and_periodic);
  tcase_add_test(t, lapic_self_ipi_and_nmi);
  tcase_add_test(t, ioapic_edge_and_level);
  tcase_add_test(t, rtc_time);
  tcase_add_test(t, reset_line);
  tcase_add_test(t, console_last_line);
  suite_add_tcase(s, t);
  return s;
}
