/* rt.h - what a workload sees of the guest runtime.
 *
 * A workload file defines
 *   const struct workload WORKLOAD = {.name = ..., .params = ..., .run = ...};
 * The runtime boots, parses boot info's key=value parameters against
 * .params (plus the runtime's own keys cpl= and syscall=), runs .setup at
 * CPL0, runs .run at the requested CPL, reports VTB_KEY_CHECKSUM and
 * VTB_KEY_ITERATIONS from struct wl_result and exits with .run's result.
 * .run brackets its measured loop with mark_begin()/mark_end(). */
#ifndef RT_RT_H
#define RT_RT_H

#include <stddef.h>
#include <stdint.h>

#include "aspace.h"
#include "hash.h"
#include "hc.h"
#include "kstring.h"
#include "pmem.h"
#include "printf.h"
#include "trap.h"
#include "user.h"
#include "vtb_abi.h"
#include "wl_params.h" /* wl_result, VTB_EXIT_*, the number syntax */
#include "x86.h"

#define WL_CPL0 (1u << 0)
#define WL_CPL3 (1u << 3)

struct workload {
  const char *name;
  const char *desc;
  const struct vtb_param *params; /* ends with an entry whose key is empty */
  unsigned cpl_allowed;           /* WL_CPL0 | WL_CPL3; 0 means CPL3 only */
  int cpl_default;                /* 0 or 3 */
  int (*setup)(void);             /* CPL0, before .run; nonzero aborts; may be NULL */
  int (*run)(struct wl_result *res);
};

extern const struct workload WORKLOAD;

/* Value of a declared parameter (its default when not given). An undeclared
 * key ends the run with a message naming it. Callable from ring 0 and 3. */
uint64_t param(const char *key);

extern const struct vtb_boot_info *rt_boot; /* the boot info in use */
extern int rt_cpl;                          /* CPL the body runs at */
extern int rt_cpl_given;                    /* cpl= was on the command line */
static inline int rt_on_qemu(void) {
  return (rt_boot->flags & VTB_BOOT_F_QEMU_PVH) != 0;
}
/* refvmm's model backend runs this guest (a software CPU: its TSC counts
 * modeled cycles). */
static inline int rt_on_model(void) {
  return (rt_boot->flags & VTB_BOOT_F_MODEL) != 0;
}
/* The host emulates ring-0 code instruction by instruction (kvm_pvm). */
static inline int rt_ring0_emulated(void) {
  return (rt_boot->flags & VTB_BOOT_F_RING0_EMULATED) != 0;
}

void params__parse(void);
void rt_main(struct vtb_boot_info *bi);

#endif
