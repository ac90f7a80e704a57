/* dev_ident.c - the identification port: a 32-bit IN from VTB_PORT_IDENT
 * reads VTB_IDENT_MAGIC ("VTB1"), narrower reads its low bytes; writes are
 * ignored. A guest that also boots where no VMM listens (the Linux guest's
 * init under QEMU) reads it once to learn whether the hypercall ports work. */
#include <string.h>

#include "devbus.h"

static int ident_pio(struct vm *vm, void *opaque, uint16_t port, uint8_t size, bool write,
                     uint8_t *data) {
  (void)vm, (void)opaque, (void)port;
  if (!write) {
    uint32_t magic = VTB_IDENT_MAGIC;
    memset(data, 0, size);
    memcpy(data, &magic, size < 4 ? size : 4);
  }
  return 0;
}

int dev_ident__register(struct device_bus *bus, char *err, size_t errlen) {
  return devbus__register(bus, "ident", VTB_PORT_IDENT, 1, ident_pio, NULL, err, errlen);
}
