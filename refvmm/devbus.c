/* devbus.c - port-I/O device bus with a direct port table. */
#include "devbus.h"

#include <stdio.h>
#include <string.h>

void devbus__init(struct device_bus *bus) {
  memset(bus, 0, sizeof *bus);
  bus->first_unclaimed_port = -1;
  bus->first_mmio_gpa = -1;
}

int devbus__register(struct device_bus *bus, const char *name, uint16_t base, uint16_t count,
                     pio_handler_fn handler, void *opaque, char *err, size_t errlen) {
  if (count == 0 || (uint32_t)base + count > 0x10000u || !handler) {
    snprintf(err, errlen, "devbus: device %s: bad port range base 0x%x count %u", name,
             (unsigned)base, (unsigned)count);
    return -1;
  }
  if (bus->ndevs >= DEVBUS_DEVICES_MAX) {
    snprintf(err, errlen, "devbus: device %s: bus full (%d devices)", name, DEVBUS_DEVICES_MAX);
    return -1;
  }
  for (uint32_t p = base; p < (uint32_t)base + count; p++) {
    if (bus->port_dev[p]) {
      snprintf(err, errlen, "devbus: device %s: port 0x%x already belongs to %s", name, p,
               bus->devs[bus->port_dev[p] - 1].name);
      return -1;
    }
  }
  struct pio_device *d = &bus->devs[bus->ndevs++];
  *d = (struct pio_device){
      .name = name, .base = base, .count = count, .handler = handler, .opaque = opaque};
  for (uint32_t p = base; p < (uint32_t)base + count; p++)
    bus->port_dev[p] = (uint8_t)bus->ndevs;
  return 0;
}

int devbus__pio(struct vm *vm, struct device_bus *bus, uint16_t port, uint8_t size, bool write,
                uint32_t count, uint8_t *data) {
  struct pio_device *d = devbus__lookup(bus, port);
  if (__builtin_expect(d == NULL, 0)) {
    if (write)
      bus->unclaimed_writes += count;
    else {
      bus->unclaimed_reads += count;
      memset(data, 0xff, (size_t)size * count);
    }
    if (bus->first_unclaimed_port < 0) bus->first_unclaimed_port = port;
    return 0;
  }
  for (uint32_t i = 0; i < count; i++) {
    d->accesses++;
    int rc = d->handler(vm, d->opaque, port, size, write, data + (size_t)i * size);
    if (rc) return rc;
  }
  return 0;
}

int devbus__register_mmio(struct device_bus *bus, const char *name, gpa_t base, uint64_t size,
                          mmio_handler_fn handler, void *opaque, char *err, size_t errlen) {
  if (!size || base + size < base || !handler) {
    snprintf(err, errlen, "devbus: device %s: bad MMIO range 0x%llx size 0x%llx", name,
             (unsigned long long)base, (unsigned long long)size);
    return -1;
  }
  if (bus->nmmio >= DEVBUS_MMIO_MAX) {
    snprintf(err, errlen, "devbus: device %s: MMIO bus full (%d devices)", name, DEVBUS_MMIO_MAX);
    return -1;
  }
  for (int i = 0; i < bus->nmmio; i++) {
    const struct mmio_device *o = &bus->mmio[i];
    if (base < o->base + o->size && o->base < base + size) {
      snprintf(err, errlen, "devbus: device %s: MMIO 0x%llx overlaps %s", name,
               (unsigned long long)base, o->name);
      return -1;
    }
  }
  bus->mmio[bus->nmmio++] = (struct mmio_device){
      .name = name, .base = base, .size = size, .handler = handler, .opaque = opaque};
  return 0;
}

int devbus__register_msr(struct device_bus *bus, const char *name, uint32_t index,
                         msr_handler_fn handler, void *opaque, char *err, size_t errlen) {
  if (!handler || bus->nmsr >= DEVBUS_MSR_MAX) {
    snprintf(err, errlen, "devbus: device %s: MSR bus full (%d MSRs)", name, DEVBUS_MSR_MAX);
    return -1;
  }
  for (int i = 0; i < bus->nmsr; i++)
    if (bus->msr[i].index == index) {
      snprintf(err, errlen, "devbus: device %s: MSR 0x%x already belongs to %s", name, index,
               bus->msr[i].name);
      return -1;
    }
  bus->msr[bus->nmsr++] =
      (struct msr_device){.name = name, .index = index, .handler = handler, .opaque = opaque};
  return 0;
}

int devbus__msr(struct vm *vm, struct device_bus *bus, uint32_t index, bool write, uint64_t *value,
                bool *refused) {
  *refused = false;
  for (int i = 0; i < bus->nmsr; i++) {
    struct msr_device *d = &bus->msr[i];
    if (d->index != index) continue;
    d->accesses++;
    int rc = d->handler(vm, d->opaque, index, write, value);
    if (rc < 0) {
      bus->msr_refused++;
      *refused = true;
      return 0;
    }
    return rc;
  }
  bus->msr_refused++;
  *refused = true;
  return 0;
}

int devbus__mmio(struct vm *vm, struct device_bus *bus, gpa_t gpa, uint32_t len, bool write,
                 uint8_t *data) {
  for (int i = 0; i < bus->nmmio; i++) {
    struct mmio_device *d = &bus->mmio[i];
    if (gpa - d->base < d->size && len <= d->size - (gpa - d->base)) {
      d->accesses++;
      return d->handler(vm, d->opaque, gpa - d->base, len, write, data);
    }
  }
  if (write)
    bus->mmio_writes++;
  else {
    bus->mmio_reads++;
    memset(data, 0xff, len > 8 ? 8 : len);
  }
  if (bus->first_mmio_gpa < 0) bus->first_mmio_gpa = (int64_t)gpa;
  return 0;
}
