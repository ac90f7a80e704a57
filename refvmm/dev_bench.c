/* dev_bench.c - the null device the `pio` workload writes to: the cheapest
 * possible user-space exit (reads return 0, writes are dropped). */
#include <string.h>

#include "devbus.h"

static int bench_pio(struct vm *vm, void *opaque, uint16_t port, uint8_t size, bool write,
                     uint8_t *data) {
  (void)vm;
  (void)port;
  struct bench_dev *b = opaque;
  if (!write) {
    memset(data, 0, size);
    return 0;
  }
  uint32_t v = 0;
  memcpy(&v, data, size <= 4 ? size : 4);
  b->writes++;
  b->sum += v;
  return 0;
}

int dev_bench__register(struct device_bus *bus, struct bench_dev *b, char *err, size_t errlen) {
  return devbus__register(bus, "bench", VTB_PORT_BENCH, 1, bench_pio, b, err, errlen);
}
