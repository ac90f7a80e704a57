/* nested_fault - takes exceptions inside its exception handlers until the
 * CPU gives up. #UD's handler raises #UD again `depth` times; the last one
 * moves RSP to an unmapped address and faults, so the #PF cannot be
 * delivered (#DF, on its own IST stack, is). The #DF handler then points
 * IST1 at the unmapped address too and faults again: #DF cannot be
 * delivered either, and the CPU shuts down (triple fault). The VMM must end
 * the run as a triple fault with a register dump. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"depth", 8, 1, 64, "nested #UD before the stack goes bad"},
    VTB_PARAM_END,
};

#define VA_UNMAPPED (ASPACE_PRIVATE_BASE + 0x10000)

static volatile uint64_t nesting;

static __attribute__((noreturn)) void fault_on_bad_stack(void) {
  __asm__ volatile("mov %0, %%rsp\n\tud2" ::"r"(VA_UNMAPPED) : "memory");
  __builtin_unreachable();
}

static int on_ud(struct trap_frame *f) {
  (void)f;
  if (++nesting < param("depth")) __asm__ volatile("ud2"); /* fault in the handler */
  fault_on_bad_stack();
}

static int on_df(struct trap_frame *f) {
  (void)f;
  struct __attribute__((packed)) {
    uint16_t limit;
    uint64_t base;
  } gdtr;
  __asm__ volatile("sgdt %0" : "=m"(gdtr));
  const uint8_t *d = (const uint8_t *)(gdtr.base + VTB_SEL_TSS);
  uint64_t tss = (uint64_t)d[2] | (uint64_t)d[3] << 8 | (uint64_t)d[4] << 16 |
                 (uint64_t)d[7] << 24 | (uint64_t)(*(const uint32_t *)(d + 8)) << 32;
  *(volatile uint64_t *)(tss + 0x24) = VA_UNMAPPED; /* IST1, the #DF stack */
  fault_on_bad_stack();
}

static int run(struct wl_result *res) {
  (void)res;
  trap_set_handler(6, on_ud);
  trap_set_handler(8, on_df);
  mark_begin();
  __asm__ volatile("ud2");
  printf("nested_fault: still running after nested faults (%lu)\n", nesting);
  return 1;
}

const struct workload WORKLOAD = {
    .name = "nested_fault",
    .desc = "hostile: exceptions in exception handlers until triple fault",
    .params = params,
    .cpl_allowed = WL_CPL0,
    .cpl_default = 0,
    .run = run,
};
