/* model_insn.h - the decoded instruction of the model CPU and its decoder
 * (model_decode.c). */
#ifndef REFVMM_MODEL_INSN_H
#define REFVMM_MODEL_INSN_H

#include <stdint.h>

/* ---- Instruction classes (counters) --------------------------------------------- */
enum model_iclass {
  IC_ALU,
  IC_MOV,
  IC_BRANCH,
  IC_STACK,
  IC_MULDIV,
  IC_STRING,
  IC_SYSTEM,
  IC_IO,
  IC_OTHER,
  IC_COUNT
};

/* ---- Dependency kinds (the cost model's chain feature) ------------------------ */
/* What a consumer of an instruction's register result waits for: the kind
 * of its producer (model_deps.c). NONE: a result nothing waits on (branches,
 * stores, stack and system instructions). */
enum model_dep_kind {
  MODEL_DEP_NONE,
  MODEL_DEP_ALU,
  MODEL_DEP_MOV,
  MODEL_DEP_MULDIV,
  MODEL_DEP_LOAD,
  MODEL_DEP_COUNT
};
#define MODEL_DEP_KIND_SHIFT 24

/* ---- Decoded instruction ----------------------------------------------------------- */
#define MODEL_NOREG 0xff
struct model_insn {
  uint16_t op;    /* opcode: 0x000-0x0ff one-byte map, 0x100-0x1ff 0F map,
                   * 0x200-0x3ff VEX maps 0F38 and 0F3A (model_vex.h) */
  uint8_t len;    /* bytes, 1..15 */
  uint8_t osz;    /* operand size in bytes: 1, 2, 4, 8 */
  uint8_t asz;    /* address size: 4 or 8 */
  uint8_t reg;    /* ModRM.reg | REX.R << 3 (or opcode low bits | REX.B) */
  uint8_t rm;     /* ModRM.rm | REX.B << 3 when mod == 3 */
  uint8_t mod3;   /* 1: rm is a register */
  uint8_t modrm;  /* raw ModRM byte (0 when none) */
  uint8_t base;   /* memory base register or MODEL_NOREG */
  uint8_t index;  /* memory index register or MODEL_NOREG */
  uint8_t scale;  /* shift 0..3 */
  uint8_t seg;    /* 0 none, 4 FS, 5 GS (segment override) */
  uint8_t rep;    /* 0, 0xf2 or 0xf3 */
  uint8_t lock;   /* LOCK prefix seen */
  uint8_t rex;    /* raw REX byte or 0 */
  uint8_t riprel; /* memory operand is RIP-relative */
  uint8_t iclass; /* enum model_iclass */
  uint8_t osz66;  /* 0x66 prefix seen */
  uint8_t vex;    /* VEX prefix: VEX_PRESENT | L | pp (model_vex.h), else 0 */
  uint8_t vvvv;   /* VEX.vvvv: the extra register operand (0-15) */
  int64_t disp;   /* displacement (RIP-relative: from next RIP) */
  uint64_t imm;   /* immediate (sign-extended where the form says so) */
  uint16_t imm2;  /* ENTER's second immediate, RET/RETF imm16 in imm */
  /* model_insn__deps(): registers read that a dependent instruction waits
   * for (bit r: GPR r, bit 16: the arithmetic flags), and the registers
   * written | the producer's enum model_dep_kind << MODEL_DEP_KIND_SHIFT */
  uint32_t rd, dep_out;
};

/* Decode from buf[0..avail). 0 ok; -1 need more bytes than avail (and fewer
 * than 15); -2 longer than 15 bytes (#GP); -3 undefined opcode (#UD). */
int model_decode(const uint8_t *buf, unsigned avail, struct model_insn *d);
/* Fill d->rd and d->dep_out of a decoded instruction (model_deps.c). */
void model_insn__deps(struct model_insn *d);

#endif
