/* hc.h - hypercall wrappers (VTB_HC_* in vtb_abi.h).
 *
 * Callable at CPL0 and CPL3: ring 0 does the OUT itself; ring 3 cannot do
 * OUT on every host, so it asks the kernel through the system call
 * SYS_HYPERCALL. Argument structs live on the caller's stack or in .bss,
 * which the default (identity) address space maps at VA == GPA.
 * On the QEMU PVH path the ports do nothing: the kernel turns hypercalls into
 * serial output ("report KEY=VALUE" lines) and isa-debug-exit. */
#ifndef RT_HC_H
#define RT_HC_H

#include <stddef.h>
#include <stdint.h>

#include "vtb_abi.h"

void hc_console(const char *buf, size_t len);
__attribute__((noreturn)) void hc_exit(uint64_t status);
void hc_mark(uint32_t region, uint32_t phase);
void hc_report(const char *key, uint64_t value);
void hc_raise_nmi(uint32_t count, uint64_t delay_ns);
void hc_raise_irq(uint32_t vector, uint32_t count, uint64_t delay_ns);

/* The timed region (VTB_REGION_TIMED): every figure is measured inside it. */
static inline void mark_begin(void) {
  hc_mark(VTB_REGION_TIMED, VTB_MARK_BEGIN);
}
static inline void mark_end(void) {
  hc_mark(VTB_REGION_TIMED, VTB_MARK_END);
}

/* Raw hypercall nr with argument GPA `arg` from any CPL, no checking: the
 * hostile guests use it to hand the VMM bad pointers. */
void hc__raw(unsigned nr, uint64_t arg);
/* Kernel side: ring 0 only. */
void hc__kernel(unsigned nr, uint64_t arg);

#endif
