/* dev_reset.c - the reset line of a PC's keyboard controller: a write of
 * 0xfe to port 0x64 pulses it, which is how Linux reboots without ACPI
 * (also after a panic with panic=-1). The run ends there. No keyboard
 * controller is present behind it: reads return all ones (what an empty
 * bus gives, so Linux's i8042 probe finds nothing at once) and other
 * commands are ignored. */
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "devbus.h"
#include "platform_defs.h"

#define KBC_PULSE_RESET 0xfe

static int reset_pio(struct vm *vm, void *opaque, uint16_t port, uint8_t size, bool write,
                     uint8_t *data) {
  (void)port;
  struct reset_dev *r = opaque;
  if (!write) {
    memset(data, 0xff, size);
    return 0;
  }
  if (data[0] != KBC_PULSE_RESET) return 0;
  r->resets++;
  char last[160];
  console__last_line(r->con, last, sizeof last);
  vm->status = RUN_GUEST_FAILED;
  snprintf(vm->status_detail, sizeof vm->status_detail,
           "the guest rebooted (reset through the keyboard controller, port 0x64) before its "
           "exit hypercall: Linux reboots after a panic (panic=-1) or on request; last console "
           "line: \"%.140s\"",
           last);
  return 1;
}

int dev_reset__register(struct device_bus *bus, struct reset_dev *r, struct console *con, char *err,
                        size_t errlen) {
  memset(r, 0, sizeof *r);
  r->con = con;
  return devbus__register(bus, "reset", PLATFORM_KBC_PORT, 1, reset_pio, r, err, errlen);
}
