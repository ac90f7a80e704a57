/* model_fpu.h - the x87 and SSE state of the model CPU and the instructions
 * that manage it (model_fpu.c): FNINIT, FNCLEX, FLDCW/FNSTCW, FNSTSW,
 * FXSAVE/FXRSTOR (both forms), LDMXCSR/STMXCSR, and the SSE/SSE2 data
 * movement and logic instructions x86-64 Linux executes (docs/MODEL.md).
 * x87 arithmetic is not modeled: it raises #UD. */
#ifndef REFVMM_MODEL_FPU_H
#define REFVMM_MODEL_FPU_H

#include <stdint.h>

#define FPU_FCW_INIT    0x037fu /* after FNINIT: all exceptions masked, 64-bit precision */
#define FPU_MXCSR_INIT  0x1f80u /* all SIMD exceptions masked, round to nearest */
#define FPU_MXCSR_MASK  0xffffu /* writable MXCSR bits: all 16 (DAZ included), as current CPUs */
#define FPU_FXSAVE_SIZE 512u

struct model_fpu {
  uint16_t fcw, fsw;
  uint8_t ftw; /* abridged tag word: bit i set = ST(i) physical register i in use */
  uint16_t fop;
  uint64_t fip, fdp; /* last x87 instruction and operand pointers */
  uint16_t fcs, fds; /* their selectors (the 32-bit FXSAVE form) */
  uint32_t mxcsr;
  uint8_t st[8][10]; /* R0-R7: 80-bit registers */
  uint64_t xmm[16][2];
};

struct model_cpu;
struct model_insn;

/* The state at power-on / INIT (SDM vol. 3, 10.1.1). */
void model_fpu__reset(struct model_fpu *f);
/* D8-DF: the x87 control instructions above; others #UD. */
void model_fpu__x87(struct model_cpu *c, const struct model_insn *d);
/* 0F AE /0-/3 with a memory operand: FXSAVE, FXRSTOR, LDMXCSR, STMXCSR. */
void model_fpu__group15(struct model_cpu *c, const struct model_insn *d);
/* An SSE/SSE2 instruction of the 0F map (opcode in d->op): 0 done, -1 not
 * an SSE instruction the model has (#UD). */
int model_fpu__sse(struct model_cpu *c, const struct model_insn *d);

#endif
