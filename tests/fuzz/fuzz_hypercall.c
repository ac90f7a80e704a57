/* fuzz_hypercall.c - libFuzzer harness for the hypercall handlers: the
 * input picks a hypercall number, an argument GPA (often near the RAM
 * boundary) and the bytes placed at a few guest addresses. Whatever the
 * guest hands over, refvmm must neither crash nor read outside guest RAM
 * (ASan), and a rejected call must say so (RUN_BAD_HYPERCALL + message).
 *
 *   clang -fsanitize=fuzzer,address,undefined ... (see Makefile `fuzz`) */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "refvmm/backend.h"
#include "refvmm/console.h"
#include "refvmm/hypercall.h"
#include "refvmm/vm.h"

static int fake_nmi(struct vm *vm) {
  (void)vm;
  return 0;
}
static int fake_irq(struct vm *vm, uint32_t v) {
  (void)vm;
  (void)v;
  return 0;
}
static const struct backend_ops ops = {
    .name = "fuzz", .inject_nmi = fake_nmi, .inject_irq = fake_irq};

static struct vm vm;
static struct console con;
static struct hypercall_dev hc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 8) return 0;
  if (!vm.mem.host && guest_mem__init(&vm.mem, VTB_MEM_MIN)) abort();
  memset(vm.mem.host + VTB_RESERVED_END, 0, 0x2000);
  memset(vm.mem.host + vm.mem.size - 0x1000, 0, 0x1000);
  uint32_t nr = data[0] % (VTB_HC_COUNT + 2);
  uint8_t where = data[1];
  uint8_t flags = data[2];
  uint32_t off;
  memcpy(&off, data + 4, 4);
  data += 8;
  size -= 8;
  /* argument: at the start of free RAM, near the end of RAM, or anywhere */
  gpa_t arg = where < 128   ? VTB_RESERVED_END + (off & 0xfff)
              : where < 224 ? vm.mem.size - 1 - (off & 0xfff)
                            : (gpa_t)off;
  size_t n = size > 0x1000 ? 0x1000 : size;
  guest_mem__write(&vm.mem, VTB_RESERVED_END + (off & 0xfff), data, n);
  memcpy(vm.mem.host + vm.mem.size - n, data, n);
  memset(&vm, 0, offsetof(struct vm, mem));
  vm.ops = &ops;
  vm.cfg.modes.nmi_set = flags & 1;
  vm.cfg.modes.irq_set = flags & 2;
  vm.nreports = (flags & 4) ? VM_REPORTS_MAX - 1 : 0;
  vm.timed_begun = flags & 8;
  vm.status = RUN_OK;
  vm.status_detail[0] = '\0';
  console__init(&con, false);
  hypercall__init(&hc, &con);
  int stop = hypercall__handle(&vm, &hc, nr, arg);
  if (vm.status == RUN_BAD_HYPERCALL && (!stop || !vm.status_detail[0])) abort();
  if (con.len > CONSOLE_KEEP_MAX) abort();
  return 0;
}
