/* platform.c - the devices of refvmm's PC platform for a Linux guest
 * (platform.h); the MP table describing them is written by the loader
 * (mptable.c). */
#include "platform.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "events.h"

/* refvmm's I/O APIC to the backend's local APIC */
static int to_backend_lapic(void *arg, uint64_t address, uint32_t data) {
  struct platform *pl = arg;
  return pl->vm->ops->signal_msi(pl->vm, address, data);
}

static void ioapic_eoi(void *arg, uint8_t vector) {
  ioapic__eoi(arg, vector);
}

/* COM1's interrupt line: pin 4 of refvmm's I/O APIC */
static void uart_irq(void *arg, bool level) {
  struct platform *pl = arg;
  ioapic__set_irq(&pl->ioapic, PLATFORM_UART_IRQ, level);
}

/* the guest's time in ns: modeled time where the policies run in it, else
 * the wall clock since set-up */
static uint64_t guest_ns(void *arg) {
  struct platform *pl = arg;
  struct vm *vm = pl->vm;
  if (pl->user_irqchip) {
    struct event_policy *p = &vm->events->pol;
    uint64_t hz = p->hz ? p->hz : pl->lapic.tsc_hz;
    return hz ? (uint64_t)((unsigned __int128)event_policy__now(p) * 1000000000u / hz) : 0;
  }
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec - pl->start_ns;
}

int platform__init(struct platform *pl, struct vm *vm, struct device_bus *bus,
                   struct serial_dev *uart, struct console *con, char *err, size_t errlen) {
  memset(pl, 0, sizeof *pl);
  pl->vm = vm;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  pl->start_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
  if (dev_reset__register(bus, &pl->reset, con, err, errlen) ||
      dev_rtc__register(bus, &pl->rtc, guest_ns, pl, err, errlen))
    return -1;
  if (vm->ops->signal_msi) { /* the backend's local APIC, refvmm's I/O APIC */
    ioapic__init(&pl->ioapic, NULL, to_backend_lapic, pl);
    if (ioapic__register(&pl->ioapic, bus, err, errlen)) return -1;
    bus->eoi = ioapic_eoi;
    bus->eoi_arg = &pl->ioapic;
    dev_serial__set_irq(uart, uart_irq, pl);
    return 0;
  }
  if (!vm->events || vm->events->wall) {
    snprintf(err, errlen,
             "the %s backend has no in-kernel interrupt controller and runs the guest in real "
             "time: refvmm's local APIC needs the guest's own clock (the model backend)",
             vm->ops->name);
    return -1;
  }
  uint64_t tsc_hz = vm->ops->guest_tsc_hz ? vm->ops->guest_tsc_hz(vm) : vm->tsc_hz;
  if (lapic__init(&pl->lapic, &vm->events->pol, tsc_hz, err, errlen)) return -1;
  ioapic__init(&pl->ioapic, &pl->lapic, NULL, NULL);
  if (lapic__register(&pl->lapic, bus, err, errlen) ||
      ioapic__register(&pl->ioapic, bus, err, errlen))
    return -1;
  pl->user_irqchip = true;
  dev_serial__set_irq(uart, uart_irq, pl);
  return 0;
}
