/* smc - self-modifying code. A code buffer holds `mov $imm32, %eax; ret`;
 * each iteration rewrites the immediate (and every 16th iteration the whole
 * instruction bytes) and calls it. A decoded-instruction cache that misses
 * the stores returns stale values and the checksum shows it.
 * checksum = sum over i < n of vtb_mix64(i) truncated to 32 bits. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 100000, 1, 1ull << 32, "rewrite-and-call iterations"},
    VTB_PARAM_END,
};

/* In .data (writable, and executable: the identity map sets no NX). */
static uint8_t code[64] __attribute__((aligned(64)));

static void emit(uint32_t imm) {
  code[0] = 0xb8; /* mov $imm32, %eax */
  code[1] = (uint8_t)imm;
  code[2] = (uint8_t)(imm >> 8);
  code[3] = (uint8_t)(imm >> 16);
  code[4] = (uint8_t)(imm >> 24);
  code[5] = 0xc3; /* ret */
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), sum = 0;
  uint32_t (*fn)(void) = (uint32_t(*)(void))(uintptr_t)code;
  emit(0);
  mark_begin();
  for (uint64_t i = 0; i < n; i++) {
    uint32_t imm = (uint32_t)vtb_mix64(i);
    if ((i & 15) == 0) {
      memset(code, 0x90, 6); /* clobber the instruction, then write it again */
      emit(imm);
    } else {
      code[1] = (uint8_t)imm;
      code[2] = (uint8_t)(imm >> 8);
      code[3] = (uint8_t)(imm >> 16);
      code[4] = (uint8_t)(imm >> 24);
    }
    __asm__ volatile("" ::: "memory");
    sum += fn();
  }
  mark_end();
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "smc",
    .desc = "hostile: self-modifying code (rewrite an immediate, call it)",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .run = run,
};
