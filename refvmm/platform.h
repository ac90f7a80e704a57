/* platform.h - the minimal PC platform refvmm gives a Linux guest, the same
 * on every backend where it can be (docs/LINUX.md, "The platform"): one CPU
 * with a local APIC, one I/O APIC, the 16550A UART COM1 on ISA IRQ 4, the
 * CMOS clock, the keyboard controller's reset line; no PCI, no ACPI, no PIT
 * or PIC.
 * Its description for the kernel is an Intel MP table (mptable.h). */
#ifndef REFVMM_PLATFORM_H
#define REFVMM_PLATFORM_H

#include "platform_defs.h"

#include <stdbool.h>
#include <stddef.h>

#include "dev_ioapic.h"
#include "dev_lapic.h"
#include "devbus.h"

struct console;

/* The devices of a Linux boot besides COM1 and refvmm's own ports. The
 * I/O APIC is always refvmm's; the local APIC is the backend's where it has
 * one (struct backend_ops signal_msi: KVM's, in the kernel), otherwise
 * refvmm's, which needs a backend that runs refvmm's event policies in the
 * guest's own time (event_attach: the model). */
struct platform {
  struct vm *vm;
  bool user_irqchip;
  struct lapic lapic;
  struct ioapic ioapic;
  struct reset_dev reset;
  struct rtc_dev rtc;
  uint64_t start_ns; /* CLOCK_MONOTONIC at set-up: the clock of backends in real time */
};

/* Set up and register on `bus`; connect COM1's interrupt. 0, or -1 with
 * err (the backend has neither kind of interrupt controller, the bus is
 * full). */
int platform__init(struct platform *pl, struct vm *vm, struct device_bus *bus,
                   struct serial_dev *uart, struct console *con, char *err, size_t errlen);

#endif
