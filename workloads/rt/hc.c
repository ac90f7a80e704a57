/* hc.c - hypercall wrappers: OUT from ring 0, SYS_HYPERCALL from ring 3. */
#include "hc.h"

#include "kstring.h"
#include "pvh.h"
#include "rt.h"
#include "user.h"
#include "x86.h"

void hc__kernel(unsigned nr, uint64_t arg) {
  if (rt_boot && rt_on_qemu()) {
    pvh__hypercall(nr, arg);
    return;
  }
  outl(VTB_HC_PORT_BASE + nr, (uint32_t)arg);
}

void hc__raw(unsigned nr, uint64_t arg) {
  if (x86_cpl() == 0)
    hc__kernel(nr, arg);
  else
    sys_call3(SYS_HYPERCALL, nr, arg, 0);
}

void hc_console(const char *buf, size_t len) {
  struct vtb_hc_console c = {.buf = (uint64_t)buf, .len = len};
  hc__raw(VTB_HC_CONSOLE, (uint64_t)&c);
}

void hc_exit(uint64_t status) {
  struct vtb_hc_exit e = {.status = status};
  hc__raw(VTB_HC_EXIT, (uint64_t)&e);
  for (;;)
    if (x86_cpl() == 0) __asm__ volatile("cli; hlt");
}

void hc_mark(uint32_t region, uint32_t phase) {
  struct vtb_hc_mark m = {.region = region, .phase = phase, .tsc = rdtsc()};
  hc__raw(VTB_HC_MARK, (uint64_t)&m);
}

void hc_report(const char *key, uint64_t value) {
  struct vtb_hc_report r = {.value = value};
  size_t n = strlen(key);
  if (n >= sizeof(r.key)) n = sizeof(r.key) - 1;
  memcpy(r.key, key, n);
  hc__raw(VTB_HC_REPORT, (uint64_t)&r);
}

void hc_raise_nmi(uint32_t count, uint64_t delay_ns) {
  struct vtb_hc_raise r = {.vector = 2, .count = count, .delay_ns = delay_ns};
  hc__raw(VTB_HC_RAISE_NMI, (uint64_t)&r);
}

void hc_raise_irq(uint32_t vector, uint32_t count, uint64_t delay_ns) {
  struct vtb_hc_raise r = {.vector = vector, .count = count, .delay_ns = delay_ns};
  hc__raw(VTB_HC_RAISE_IRQ, (uint64_t)&r);
}
