/* devbus.h - the port-I/O device bus.
 *
 * Devices register {name, base port, count, handler, opaque}; lookup is one
 * load from a direct 64 Ki-entry table, so the exit path stays flat.
 * Unclaimed ports read as all ones and swallow writes; both are counted and
 * the first such port is kept for the summary. No device claims MMIO: the
 * same rule applies to it (reads all ones, writes dropped, counted).
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
  int32_t first_unclaimed_port; /* -1 = none */
  uint64_t mmio_reads, mmio_writes;
  int64_t first_mmio_gpa; /* -1 = none */
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
/* Dispatch one MMIO access (unclaimed: no MMIO devices). 0 continue. */
int devbus__mmio(struct device_bus *bus, gpa_t gpa, uint32_t len, bool write, uint8_t *data);

/* Devices (dev_*.c): register themselves; 0 or -1 with err. */
struct console;
int dev_serial__register(struct device_bus *bus, struct console *con, char *err, size_t errlen);
/* The null device also sums the values written, so a host can check the
 * guest's `pio` checksum against what actually reached the port. */
struct bench_dev {
  uint64_t writes;
  uint64_t sum; /* of the values written, mod 2^64 */
};
int dev_bench__register(struct device_bus *bus, struct bench_dev *b, char *err, size_t errlen);
/* VTB_PORT_IDENT: reads answer VTB_IDENT_MAGIC (refvmm is here). */
int dev_ident__register(struct device_bus *bus, char *err, size_t errlen);

#endif
