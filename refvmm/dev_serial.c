/* dev_serial.c - COM1 (16550 at 0x3f8) as far as a polling guest needs:
 * THR writes go to the console, LSR reads "transmitter empty". */
#include "console.h"
#include "devbus.h"

#define SERIAL_PORTS    8
#define SERIAL_THR      0    /* transmit holding register (DLAB=0) */
#define SERIAL_LSR      5    /* line status register */
#define SERIAL_LSR_IDLE 0x60 /* THRE | TEMT: ready for the next byte */

static int serial_pio(struct vm *vm, void *opaque, uint16_t port, uint8_t size, bool write,
                      uint8_t *data) {
  (void)vm;
  struct console *con = opaque;
  unsigned reg = (unsigned)(port - VTB_PORT_SERIAL);
  if (write) {
    if (reg == SERIAL_THR) console__write(con, data, 1);
    return 0;
  }
  for (uint8_t i = 0; i < size; i++)
    data[i] = 0;
  if (reg == SERIAL_LSR) data[0] = SERIAL_LSR_IDLE;
  return 0;
}

int dev_serial__register(struct device_bus *bus, struct console *con, char *err, size_t errlen) {
  return devbus__register(bus, "serial", VTB_PORT_SERIAL, SERIAL_PORTS, serial_pio, con, err,
                          errlen);
}
