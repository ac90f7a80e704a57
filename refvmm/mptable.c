/* mptable.c - the MP table of refvmm's platform (mptable.h). Layouts from
 * the MultiProcessor Specification 1.4, chapter 4. */
#include "mptable.h"

#include <string.h>

#include "platform_defs.h"

#define MPF_SIZE     16u /* floating pointer structure */
#define MPC_HDR_SIZE 44u /* configuration table header */
#define MPC_SPEC_1_4 4u

enum { MPC_PROCESSOR = 0, MPC_BUS = 1, MPC_IOAPIC = 2, MPC_INTSRC = 3, MPC_LINTSRC = 4 };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 }; /* interrupt types */
#define CPU_ENABLED    0x01u                    /* processor entry flags */
#define CPU_BOOTPROC   0x02u
#define IOAPIC_ENABLED 0x01u
#define MP_IRQ_DEFAULT 0x0000u /* polarity and trigger "conform to the bus" (ISA: high, edge) */
#define MP_APIC_ALL    0xffu   /* local interrupt destination: every local APIC */

static void put(uint8_t *p, size_t *off, const void *v, size_t n) {
  memcpy(p + *off, v, n);
  *off += n;
}
static void put8(uint8_t *p, size_t *off, uint8_t v) {
  put(p, off, &v, 1);
}
static void put16(uint8_t *p, size_t *off, uint16_t v) {
  put(p, off, &v, 2);
}
static void put32(uint8_t *p, size_t *off, uint32_t v) {
  put(p, off, &v, 4);
}

/* The byte that makes the sum of [p, p+n) zero. */
static uint8_t checksum(const uint8_t *p, size_t n) {
  uint8_t s = 0;
  for (size_t i = 0; i < n; i++)
    s = (uint8_t)(s + p[i]);
  return (uint8_t)-s;
}

static void intsrc(uint8_t *p, size_t *off, uint8_t type, uint8_t bus_irq, uint8_t apic,
                   uint8_t pin, uint8_t entry) {
  put8(p, off, entry);
  put8(p, off, type);
  put16(p, off, MP_IRQ_DEFAULT);
  put8(p, off, 0); /* source bus: ISA (bus id 0) */
  put8(p, off, bus_irq);
  put8(p, off, apic);
  put8(p, off, pin);
}

size_t mptable__write(struct guest_mem *gm, gpa_t gpa) {
  /* built here, then stored (guest_mem__write) */
  uint8_t p[MPTABLE_MAX_BYTES];
  if (!guest_mem__ptr(gm, gpa, MPTABLE_MAX_BYTES) || (gpa & 15) || gpa + MPF_SIZE > 0xffffffffull)
    return 0;
  memset(p, 0, MPTABLE_MAX_BYTES);
  size_t off = MPF_SIZE; /* the configuration table follows the floating pointer */
  size_t mpc = off;
  uint16_t entries = 0;

  /* header, completed below */
  put(p, &off, "PCMP", 4);
  put16(p, &off, 0); /* base table length */
  put8(p, &off, MPC_SPEC_1_4);
  put8(p, &off, 0); /* checksum */
  put(p, &off, "VTBENCH ", 8);
  put(p, &off, "REFVMM      ", 12);
  put32(p, &off, 0); /* no OEM table */
  put16(p, &off, 0); /* OEM table size */
  put16(p, &off, 0); /* entry count */
  put32(p, &off, (uint32_t)PLATFORM_LAPIC_GPA);
  put16(p, &off, 0); /* no extended table */
  put8(p, &off, 0);  /* extended table checksum */
  put8(p, &off, 0);  /* reserved */

  /* the processor: signature and feature flags 0 (the spec's value for
   * "see CPUID"; Linux reads CPUID itself) */
  put8(p, &off, MPC_PROCESSOR);
  put8(p, &off, PLATFORM_LAPIC_ID);
  put8(p, &off, PLATFORM_LAPIC_VER);
  put8(p, &off, CPU_ENABLED | CPU_BOOTPROC);
  put32(p, &off, 0); /* CPU signature */
  put32(p, &off, 0); /* feature flags */
  put32(p, &off, 0); /* reserved */
  put32(p, &off, 0);
  entries++;

  put8(p, &off, MPC_BUS);
  put8(p, &off, 0);
  put(p, &off, "ISA   ", 6);
  entries++;

  put8(p, &off, MPC_IOAPIC);
  put8(p, &off, PLATFORM_IOAPIC_ID);
  put8(p, &off, PLATFORM_IOAPIC_VER);
  put8(p, &off, IOAPIC_ENABLED);
  put32(p, &off, (uint32_t)PLATFORM_IOAPIC_GPA);
  entries++;

  /* the ISA interrupts of the devices present: COM1 */
  intsrc(p, &off, MP_INT, PLATFORM_UART_IRQ, PLATFORM_IOAPIC_ID, PLATFORM_UART_IRQ, MPC_INTSRC);
  entries++;
  /* the local APIC's LINT0 (ExtINT, no 8259 is present behind it) and LINT1 (NMI) */
  intsrc(p, &off, MP_EXTINT, 0, MP_APIC_ALL, 0, MPC_LINTSRC);
  intsrc(p, &off, MP_NMI, 0, MP_APIC_ALL, 1, MPC_LINTSRC);
  entries += 2;

  uint16_t len = (uint16_t)(off - mpc);
  memcpy(p + mpc + 4, &len, 2);
  memcpy(p + mpc + 34, &entries, 2);
  p[mpc + 7] = checksum(p + mpc, len);

  /* the floating pointer: "_MP_", table address, length 1 (16 bytes),
   * spec 1.4, checksum, feature byte 1 = 0 (a table is present), feature
   * byte 2 = 0 (no IMCR: virtual wire mode) */
  size_t f = 0;
  put(p, &f, "_MP_", 4);
  put32(p, &f, (uint32_t)(gpa + mpc));
  put8(p, &f, 1);
  put8(p, &f, MPC_SPEC_1_4);
  put8(p, &f, 0);
  p[10] = checksum(p, MPF_SIZE);
  guest_mem__write(gm, gpa, p, MPTABLE_MAX_BYTES);
  return off;
}
