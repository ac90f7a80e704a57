/* devbus.h - the device bus: port I/O, MMIO and MSRs.
 *
 * Port devices register {name, base port, count, handler, opaque}; lookup
 * is one load from a direct 64 Ki-entry table, so the exit path stays flat.
 * MMIO devices register a guest-physical range (a handful: the platform's
 * interrupt controllers), MSR devices single MSR indexes (the local APIC's
 * TSC deadline); both are found by a short scan. Unclaimed ports and MMIO
 * read as all ones and swallow writes; both are counted and the first such
 * address is kept for the summary. An unclaimed MSR is refused (#GP).
 */
#ifndef REFVMM_DEVBUS_H
#define REFVMM_DEVBUS_H

#include <stdbool.h>
#include <stdint.h>

#include "vm.h"

/* Handle one access of `size` bytes at `port`; for reads fill data[0..size).
 * Return 0 to continue the run, 1 to stop it (vm->status and
 * vm->status_detail set by the handler). */
typedef int (*pio_handler_fn)(struct vm *vm, void *opaque, uint16_t port, uint8_t size, bool write,
                              uint8_t *data);

#define DEVBUS_DEVICES_MAX 32
#define DEVBUS_MMIO_MAX    8
#define DEVBUS_MSR_MAX     8

/* One MMIO access of `len` bytes at `offset` into the device's range; for
 * reads fill data[0..len). 0 continue, 1 stop (status set). */
typedef int (*mmio_handler_fn)(struct vm *vm, void *opaque, uint64_t offset, uint32_t len,
                               bool write, uint8_t *data);
/* One RDMSR (fill *value) or WRMSR (*value given). 0 done, 1 stop (status
 * set), -1 refused: the guest gets #GP(0). */
typedef int (*msr_handler_fn)(struct vm *vm, void *opaque, uint32_t index, bool write,
                              uint64_t *value);

struct mmio_device {
  const char *name;
  gpa_t base;
  uint64_t size;
  mmio_handler_fn handler;
  void *opaque;
  uint64_t accesses;
};

struct msr_device {
  const char *name;
  uint32_t index;
  msr_handler_fn handler;
  void *opaque;
  uint64_t accesses;
};

struct pio_device {
  const char *name;
  uint16_t base;
  uint16_t count;
  pio_handler_fn handler;
  void *opaque;
  uint64_t accesses;
};

struct device_bus {
  struct pio_device devs[DEVBUS_DEVICES_MAX];
  int ndevs;
  uint8_t port_dev[65536]; /* 1 + index into devs, 0 = unclaimed */
  uint64_t unclaimed_reads, unclaimed_writes;
  int32_t first_unclaimed_port;     /* -1 = none */
  uint64_t mmio_reads, mmio_writes; /* unclaimed */
  int64_t first_mmio_gpa;           /* -1 = none */
  struct mmio_device mmio[DEVBUS_MMIO_MAX];
  int nmmio;
  struct msr_device msr[DEVBUS_MSR_MAX];
  int nmsr;
  uint64_t msr_refused;
  /* where a backend's local APIC sends the EOI of a level-triggered vector
   * (refvmm's I/O APIC), NULL: nowhere */
  void (*eoi)(void *arg, uint8_t vector);
  void *eoi_arg;
};

void devbus__init(struct device_bus *bus);
/* 0, or -1 with a message in err when the range overlaps a device, wraps
 * past 0xffff, or the bus is full. */
int devbus__register(struct device_bus *bus, const char *name, uint16_t base, uint16_t count,
                     pio_handler_fn handler, void *opaque, char *err, size_t errlen);
/* The device that owns `port`, or NULL. */
static inline struct pio_device *devbus__lookup(struct device_bus *bus, uint16_t port) {
  uint8_t i = bus->port_dev[port];
  return i ? &bus->devs[i - 1] : (struct pio_device *)0;
}
/* Dispatch one KVM_EXIT_IO (all `count` repetitions). 0 continue, 1 stop. */
int devbus__pio(struct vm *vm, struct device_bus *bus, uint16_t port, uint8_t size, bool write,
                uint32_t count, uint8_t *data);
/* 0, or -1 with err (overlap, empty or wrapping range, bus full). */
int devbus__register_mmio(struct device_bus *bus, const char *name, gpa_t base, uint64_t size,
                          mmio_handler_fn handler, void *opaque, char *err, size_t errlen);
int devbus__register_msr(struct device_bus *bus, const char *name, uint32_t index,
                         msr_handler_fn handler, void *opaque, char *err, size_t errlen);
/* Dispatch one MMIO access. 0 continue, 1 stop. */
int devbus__mmio(struct vm *vm, struct device_bus *bus, gpa_t gpa, uint32_t len, bool write,
                 uint8_t *data);
/* Dispatch one MSR access; *refused = the guest gets #GP (no device, or
 * the device refused). 0 continue, 1 stop. */
int devbus__msr(struct vm *vm, struct device_bus *bus, uint32_t index, bool write, uint64_t *value,
                bool *refused);

/* Devices (dev_*.c): register themselves; 0 or -1 with err. */
struct console;
/* COM1, a 16550A (dev_serial.c); its interrupt line goes to irq(arg, level)
 * when one is connected (the platform's I/O APIC pin 4). */
#define SERIAL_PORTS 8
struct serial_dev {
  struct console *con;
  uint8_t ier, lcr, mcr, fcr, scr, dll, dlm, rbr;
  bool lsr_dr;       /* a byte waits in RBR (loopback only) */
  bool thre_int;     /* THR-empty interrupt pending */
  uint8_t msr_last;  /* modem status inputs at the last change */
  uint8_t msr_delta; /* their delta bits since MSR was read */
  bool irq_level;    /* the interrupt output now */
  void (*irq)(void *arg, bool level);
  void *irq_arg;
  uint64_t bytes_out;
};
int dev_serial__register(struct device_bus *bus, struct serial_dev *s, struct console *con,
                         char *err, size_t errlen);
void dev_serial__set_irq(struct serial_dev *s, void (*irq)(void *arg, bool level), void *arg);
/* The null device also sums the values written, so a host can check the
 * guest's `pio` checksum against what actually reached the port. */
struct bench_dev {
  uint64_t writes;
  uint64_t sum; /* of the values written, mod 2^64 */
};
int dev_bench__register(struct device_bus *bus, struct bench_dev *b, char *err, size_t errlen);
/* Port 0x64: a write of 0xfe resets the guest (ends the run). */
struct reset_dev {
  struct console *con;
  uint64_t resets;
};
int dev_reset__register(struct device_bus *bus, struct reset_dev *r, struct console *con, char *err,
                        size_t errlen);
/* The CMOS clock at 0x70/0x71; its time advances with now_ns(arg), the
 * guest's time in ns since it started. */
struct rtc_dev {
  uint8_t index;
  uint8_t regs[128];
  int64_t offset_s; /* the guest set the time: seconds from the running clock */
  uint64_t (*now_ns)(void *arg);
  void *clock_arg;
};
int dev_rtc__register(struct device_bus *bus, struct rtc_dev *r, uint64_t (*now_ns)(void *arg),
                      void *arg, char *err, size_t errlen);
/* VTB_PORT_IDENT: reads answer VTB_IDENT_MAGIC (refvmm is here). */
int dev_ident__register(struct device_bus *bus, char *err, size_t errlen);

#endif
