/* dev_ioapic.h - an I/O APIC in refvmm (82093AA, version 0x11, 24 pins)
 * for backends without an in-kernel one: its index/data window as MMIO at
 * 0xfec00000, redirection entries that send each pin's interrupt to the
 * local APIC: refvmm's (dev_lapic.h) or, as an interrupt message (MSI), a
 * backend's own. Edge-triggered pins deliver on a rising
 * edge; level-triggered ones while high, once until the local APIC's EOI
 * for their vector clears the remote IRR. */
#ifndef REFVMM_DEV_IOAPIC_H
#define REFVMM_DEV_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "dev_lapic.h"
#include "devbus.h"
#include "platform_defs.h"

struct ioapic {
  struct lapic *lapic; /* refvmm's local APIC, or NULL: messages go to msi() */
  int (*msi)(void *arg, uint64_t address, uint32_t data);
  void *msi_arg;
  uint32_t id, regsel;
  uint64_t redir[PLATFORM_IOAPIC_PINS];
  bool level[PLATFORM_IOAPIC_PINS]; /* the input lines */
  uint64_t delivered;
};

/* Delivering to refvmm's local APIC, or (lapic NULL) as interrupt messages
 * through msi(arg, address, data) to a local APIC elsewhere (KVM's). */
void ioapic__init(struct ioapic *io, struct lapic *lapic,
                  int (*msi)(void *arg, uint64_t address, uint32_t data), void *msi_arg);
int ioapic__register(struct ioapic *io, struct device_bus *bus, char *err, size_t errlen);
/* The local APIC's EOI of a level-triggered `vector` (a backend's local
 * APIC reports it: KVM_EXIT_IOAPIC_EOI). */
void ioapic__eoi(struct ioapic *io, uint8_t vector);
/* Input pin `pin` goes to `level`. */
void ioapic__set_irq(struct ioapic *io, unsigned pin, bool level);

#endif
