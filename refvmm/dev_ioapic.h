/* dev_ioapic.h - an I/O APIC in refvmm (82093AA, version 0x11, 24 pins)
 * for backends without an in-kernel one: its index/data window as MMIO at
 * 0xfec00000, redirection entries that send each pin's interrupt to the
 * local APIC (dev_lapic.h). Edge-triggered pins deliver on a rising
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
  struct lapic *lapic;
  uint32_t id, regsel;
  uint64_t redir[PLATFORM_IOAPIC_PINS];
  bool level[PLATFORM_IOAPIC_PINS]; /* the input lines */
  uint64_t delivered;
};

void ioapic__init(struct ioapic *io, struct lapic *lapic);
int ioapic__register(struct ioapic *io, struct device_bus *bus, char *err, size_t errlen);
/* Input pin `pin` goes to `level`. */
void ioapic__set_irq(struct ioapic *io, unsigned pin, bool level);

#endif
