/* dev_ioapic.c - the I/O APIC of refvmm's platform (dev_ioapic.h). Register
 * layout from the 82093AA datasheet: IOREGSEL at +0, IOWIN at +0x10;
 * registers 0 (ID), 1 (version, maximum redirection entry), 2
 * (arbitration), 0x10 + 2n / 0x11 + 2n (redirection entry n, low / high). */
#include "dev_ioapic.h"

#include <string.h>

#define IOREGSEL       0x00
#define IOWIN          0x10
#define RTE_MASKED     (1ull << 16)
#define RTE_LEVEL      (1ull << 15)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_DELIV_STAT (1ull << 12)
#define RTE_LOGICAL    (1ull << 11)
#define RTE_RO         (RTE_REMOTE_IRR | RTE_DELIV_STAT)
#define RTE_MODE(e)    (((e) >> 8) & 7u)
#define DM_FIXED       0u
#define DM_LOWEST      1u
#define DM_NMI         4u

/* The interrupt message a redirection entry makes (SDM vol. 3, 11.11):
 * address 0xfee00000 | destination << 12 | logical << 2; data vector,
 * delivery mode, level-triggered with the level asserted. */
static void deliver_msi(struct ioapic *io, uint64_t e) {
  uint64_t addr = 0xfee00000ull | ((e >> 56) << 12) | ((e & RTE_LOGICAL) ? 1u << 2 : 0);
  uint32_t data = (uint32_t)(e & 0x7ff) | ((e & RTE_LEVEL) ? (1u << 15) | (1u << 14) : 0);
  io->msi(io->msi_arg, addr, data);
}

static void deliver(struct ioapic *io, unsigned pin) {
  uint64_t e = io->redir[pin];
  if (e & RTE_MASKED) return;
  unsigned mode = RTE_MODE(e);
  bool level = e & RTE_LEVEL;
  if (!io->lapic) {
    if (level) io->redir[pin] |= RTE_REMOTE_IRR;
    deliver_msi(io, e);
    io->delivered++;
    return;
  }
  if (!lapic__matches(io->lapic, (uint8_t)(e >> 56), e & RTE_LOGICAL)) return;
  if (mode == DM_FIXED || mode == DM_LOWEST) {
    if (level) io->redir[pin] |= RTE_REMOTE_IRR;
    lapic__accept(io->lapic, (uint8_t)e, level, false);
  } else if (mode == DM_NMI) {
    lapic__accept(io->lapic, 0, false, true);
  } else {
    return; /* SMI, INIT, ExtINT: nothing behind them here */
  }
  io->delivered++;
}

void ioapic__set_irq(struct ioapic *io, unsigned pin, bool level) {
  if (pin >= PLATFORM_IOAPIC_PINS) return;
  bool was = io->level[pin];
  io->level[pin] = level;
  uint64_t e = io->redir[pin];
  if (e & RTE_LEVEL) {
    if (level && !(e & RTE_REMOTE_IRR)) deliver(io, pin);
  } else if (level && !was) {
    deliver(io, pin);
  }
}

/* The local APIC's EOI for a level-triggered vector. */
static void eoi(void *arg, uint8_t vector) {
  struct ioapic *io = arg;
  for (unsigned pin = 0; pin < PLATFORM_IOAPIC_PINS; pin++) {
    uint64_t *e = &io->redir[pin];
    if ((uint8_t)*e != vector || !(*e & RTE_LEVEL)) continue;
    *e &= ~RTE_REMOTE_IRR;
    if (io->level[pin]) deliver(io, pin);
  }
}

static uint32_t reg_read(const struct ioapic *io) {
  uint32_t r = io->regsel;
  if (r == 0) return io->id;
  if (r == 1) return PLATFORM_IOAPIC_VER | ((PLATFORM_IOAPIC_PINS - 1) << 16);
  if (r == 2) return io->id; /* arbitration id */
  if (r >= 0x10 && r < 0x10 + 2 * PLATFORM_IOAPIC_PINS) {
    uint64_t e = io->redir[(r - 0x10) / 2];
    return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
  }
  return 0;
}

static void reg_write(struct ioapic *io, uint32_t v) {
  uint32_t r = io->regsel;
  if (r == 0) {
    io->id = v & 0x0f000000u;
    return;
  }
  if (r < 0x10 || r >= 0x10 + 2 * PLATFORM_IOAPIC_PINS) return; /* read-only or absent */
  unsigned pin = (r - 0x10) / 2;
  uint64_t *e = &io->redir[pin];
  if (r & 1) {
    *e = (*e & 0xffffffffull) | ((uint64_t)(v & 0xff000000u) << 32);
  } else {
    /* vector, delivery and destination mode, polarity, trigger, mask;
     * delivery status and remote IRR stay the I/O APIC's */
    *e = (*e & (0xffffffff00000000ull | RTE_RO)) | (v & 0x1ffffu & ~(uint32_t)RTE_RO);
    if ((*e & RTE_LEVEL) && io->level[pin] && !(*e & RTE_REMOTE_IRR))
      deliver(io, pin); /* unmasked while the line is high */
  }
}

static int ioapic_mmio(struct vm *vm, void *opaque, uint64_t off, uint32_t len, bool write,
                       uint8_t *data) {
  (void)vm;
  struct ioapic *io = opaque;
  uint32_t v = 0;
  if (write) {
    memcpy(&v, data, len < 4 ? len : 4);
    if (off == IOREGSEL)
      io->regsel = v & 0xff;
    else if (off == IOWIN && len == 4)
      reg_write(io, v);
    return 0;
  }
  if (off == IOREGSEL)
    v = io->regsel;
  else if (off == IOWIN)
    v = reg_read(io);
  memset(data, 0, len);
  memcpy(data, &v, len < 4 ? len : 4);
  return 0;
}

void ioapic__init(struct ioapic *io, struct lapic *lapic,
                  int (*msi)(void *arg, uint64_t address, uint32_t data), void *msi_arg) {
  memset(io, 0, sizeof *io);
  io->lapic = lapic;
  io->msi = msi;
  io->msi_arg = msi_arg;
  io->id = PLATFORM_IOAPIC_ID << 24;
  for (unsigned i = 0; i < PLATFORM_IOAPIC_PINS; i++)
    io->redir[i] = RTE_MASKED;
  if (lapic) {
    lapic->eoi_broadcast = eoi;
    lapic->eoi_arg = io;
  }
}

void ioapic__eoi(struct ioapic *io, uint8_t vector) {
  eoi(io, vector);
}

int ioapic__register(struct ioapic *io, struct device_bus *bus, char *err, size_t errlen) {
  return devbus__register_mmio(bus, "ioapic", PLATFORM_IOAPIC_GPA, 0x1000, ioapic_mmio, io, err,
                               errlen);
}
