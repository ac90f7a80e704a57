/* model_vex.h - VEX-encoded instructions of the model CPU (model_vex.c):
 * the VEX prefix (C4/C5 in 64-bit mode) and the general-purpose-register
 * instructions of the two features CPUID leaf 7 advertises, BMI1 (ANDN,
 * BEXTR, BLSI, BLSMSK, BLSR) and BMI2 (BZHI, MULX, PDEP, PEXT, RORX, SARX,
 * SHLX, SHRX). Everything else VEX encodes (AVX) is #UD, as on a CPU
 * without it. */
#ifndef REFVMM_MODEL_VEX_H
#define REFVMM_MODEL_VEX_H

#include <stdint.h>

#include "model_insn.h"

struct model_cpu;

/* Opcodes of VEX-encoded instructions in struct model_insn.op (the
 * decoder's 0x000-0x1ff are the one-byte and 0F maps). */
#define VEX_OP_0F38 0x200u /* + opcode byte: VEX map 0F38 */
#define VEX_OP_0F3A 0x300u /* + opcode byte: VEX map 0F3A */

/* model_insn.vex: VEX_PRESENT | VEX.L << 2 | VEX.pp (0 none, 1 66, 2 F3, 3 F2) */
#define VEX_PRESENT 0x80u
#define VEX_L       0x04u
#define VEX_PP(v)   ((v)&3u)

/* Decode the VEX prefix at buf[*i] (C4 or C5) and the opcode byte after
 * it. `legacy` is nonzero when a 66, F2, F3 or F0 prefix or a REX came
 * before it (#UD). Sets d->op, d->vex, d->vvvv and d->rex (R, X, B and W
 * as a REX would carry them), advances *i past the opcode byte and returns
 * VEX_DEC_* bits (a ModRM always follows): VEX_DEC_IMM8 when an imm8
 * follows it, VEX_DEC_UD for an encoding the model does not implement
 * (#UD once its length is known); -1 when more bytes are needed than
 * avail, -2 when the instruction would exceed 15 bytes. */
#define VEX_DEC_IMM8 1
#define VEX_DEC_UD   2
int model_vex__decode(const uint8_t *buf, unsigned avail, unsigned *i, struct model_insn *d,
                      int legacy);
/* Execute a decoded VEX instruction; `addr` is the effective address of a
 * memory operand (unused when ModRM.mod = 3). Faults longjmp as usual. */
void model_vex__exec(struct model_cpu *c, const struct model_insn *d, uint64_t addr);

#endif
