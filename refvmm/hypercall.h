/* hypercall.h - the guest->VMM hypercall device (Solo5 hvt style).
 *
 * OUT dx=VTB_HC_PORT_BASE+nr, eax=GPA of the argument struct. A table
 * indexed by nr holds one handler per hypercall; every guest pointer goes
 * through guest_mem__ptr(). Bad pointers, lengths and numbers end the run
 * with RUN_BAD_HYPERCALL and a message naming hypercall, field and value;
 * results already gathered stay.
 *
 * Timed region (region VTB_REGION_TIMED): mark begin snapshots TSC and
 * CLOCK_MONOTONIC into vm->timed_* and enables vm->exits after the mark's
 * own exit; mark end snapshots first and disables counting before its own
 * exit is recorded. So only exits strictly between the marks are counted.
 */
#ifndef REFVMM_HYPERCALL_H
#define REFVMM_HYPERCALL_H

#include <stdint.h>

#include "devbus.h"
#include "vm.h"

struct console;

struct hypercall_dev {
  struct console *con;
  uint64_t calls[VTB_HC_COUNT]; /* per hypercall number, whole run */
  uint64_t nmi_requested, irq_requested;
  uint64_t marks[VTB_REGIONS_MAX][2]; /* begin/end count per region */
};

void hypercall__init(struct hypercall_dev *hc, struct console *con);
int hypercall__register(struct device_bus *bus, struct hypercall_dev *hc, char *err, size_t errlen);
/* Handle hypercall `nr` with argument GPA `arg` (exposed for tests).
 * 0 continue, 1 stop (vm->status/status_detail set). */
int hypercall__handle(struct vm *vm, struct hypercall_dev *hc, uint32_t nr, gpa_t arg);
const char *hypercall__name(uint32_t nr); /* "console", ...; "unknown" */

/* True when `port` is a hypercall port; *nr gets the number. */
static inline int hypercall__port_nr(uint16_t port, uint32_t *nr) {
  uint32_t n = (uint32_t)port - VTB_HC_PORT_BASE;
  *nr = n;
  return n < VTB_HC_COUNT;
}

#endif
