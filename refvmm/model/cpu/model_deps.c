/* model_deps.c - which registers a decoded instruction reads and writes, for
 * the cost model's dependency feature (model_insn.h: rd, dep_out): computed
 * once per decode, never per execution.
 *
 * Only what delays a dependent instruction on an out-of-order core counts:
 * - a conditional branch, CALL, RET and JMP read nothing: they are predicted,
 *   so nothing waits for their inputs;
 * - a store's data and the stack pointer of PUSH/POP/CALL/RET are not
 *   inputs either (the store buffer and the stack engine take them off the
 *   critical path), a store's address registers are;
 * - an instruction whose result goes to memory (a store, an ALU operation
 *   on memory) writes no register a consumer could wait for (flags aside).
 * An opcode not listed reads and writes nothing: it adds no dependency. */
#include <stdbool.h>

#include "model_insn.h"

#define RD_FLAGS (1u << 16)

/* The GPR number of a register operand of size sz: without REX, byte
 * registers 4..7 are AH, CH, DH, BH (the high bytes of RAX..RBX). */
static unsigned greg(const struct model_insn *d, unsigned r, unsigned sz) {
  if (sz == 1 && !d->rex && r >= 4 && r < 8) return r - 4;
  return r & 15;
}

static uint32_t bit(unsigned r) {
  return 1u << (r & 15);
}

/* The address registers of the memory operand (none when RIP-relative). */
static uint32_t addr_regs(const struct model_insn *d) {
  uint32_t m = 0;
  if (d->mod3 || d->riprel) return 0;
  if (d->base != MODEL_NOREG) m |= bit(d->base);
  if (d->index != MODEL_NOREG) m |= bit(d->index);
  return m;
}

/* The r/m operand as a source: the register, or the address registers. */
static uint32_t rm_src(const struct model_insn *d) {
  return d->mod3 ? bit(greg(d, d->rm, d->osz)) : addr_regs(d);
}

/* The r/m operand as a destination: the register, or none (memory). */
static uint32_t rm_dst(const struct model_insn *d) {
  return d->mod3 ? bit(greg(d, d->rm, d->osz)) : 0;
}

static uint32_t reg_op(const struct model_insn *d) {
  return bit(greg(d, d->reg, d->osz));
}

/* Opcodes with a ModRM byte among those handled below (the decoder keeps
 * the byte, which can be 0, but not whether there was one). */
static bool has_modrm(unsigned op) {
  if (op < 0x40) return (op & 7) < 4;
  if (op >= 0x100) return op < 0x1c8 || op > 0x1cf;
  return op == 0x63 || op == 0x69 || op == 0x6b || (op >= 0x80 && op <= 0x8f) || op == 0xc0 ||
         op == 0xc1 || op == 0xc6 || op == 0xc7 || (op >= 0xd0 && op <= 0xd3) || op == 0xf6 ||
         op == 0xf7 || op == 0xfe || op == 0xff;
}

/* What a register result costs a consumer: a result read from memory waits
 * for the data cache (LEA reads none, a multiplication stays one). */
static unsigned kind_of(const struct model_insn *d, unsigned k, uint32_t wr) {
  if (!(wr & 0xffffu)) return wr ? MODEL_DEP_ALU : MODEL_DEP_NONE; /* flags only */
  if (!d->mod3 && has_modrm(d->op) && k != MODEL_DEP_MULDIV && d->op != 0x8d) return MODEL_DEP_LOAD;
  return k;
}

void model_insn__deps(struct model_insn *d) {
  unsigned op = d->op, r3 = (d->modrm >> 3) & 7;
  uint32_t rd = 0, wr = 0;
  unsigned k = MODEL_DEP_NONE;
  if (op < 0x40 && (op & 7) < 6) { /* ADD OR ADC SBB AND SUB XOR CMP */
    unsigned alu = op >> 3, form = op & 7;
    bool cmp = alu == 7, zero = (alu == 6 || alu == 5) && d->mod3 && form < 4 &&
                                greg(d, d->reg, d->osz) == greg(d, d->rm, d->osz);
    if (form < 2) { /* Eb/Ev, Gb/Gv */
      rd = reg_op(d) | rm_src(d);
      wr = cmp ? 0 : rm_dst(d);
    } else if (form < 4) { /* Gb/Gv, Eb/Ev */
      rd = reg_op(d) | rm_src(d);
      wr = cmp ? 0 : reg_op(d);
    } else { /* AL/rAX, imm */
      rd = bit(0);
      wr = cmp ? 0 : bit(0);
    }
    if (alu == 2 || alu == 3) rd |= RD_FLAGS;
    if (zero) rd = 0; /* XOR/SUB r, r: a zeroing idiom, no input */
    wr |= RD_FLAGS;
    k = MODEL_DEP_ALU;
  } else {
    switch (op) {
    case 0x50 ... 0x57: /* PUSH r: the stored value is not waited for */
      break;
    case 0x58 ... 0x5f: /* POP r */
      wr = bit(d->reg);
      k = MODEL_DEP_LOAD;
      break;
    case 0x63:  /* MOVSXD */
    case 0x8a:  /* MOV Gb, Eb */
    case 0x8b:  /* MOV Gv, Ev */
    case 0x1b6: /* MOVZX */
    case 0x1b7:
    case 0x1be: /* MOVSX */
    case 0x1bf:
      rd = rm_src(d);
      wr = reg_op(d);
      k = MODEL_DEP_MOV;
      break;
    case 0x69: /* IMUL Gv, Ev, imm */
    case 0x6b:
      rd = rm_src(d);
      wr = reg_op(d) | RD_FLAGS;
      k = MODEL_DEP_MULDIV;
      break;
    case 0x1af: /* IMUL Gv, Ev */
      rd = reg_op(d) | rm_src(d);
      wr = reg_op(d) | RD_FLAGS;
      k = MODEL_DEP_MULDIV;
      break;
    case 0x80 ... 0x81: /* group 1: Ev, imm */
    case 0x83:
      rd = rm_src(d) | (r3 == 2 || r3 == 3 ? RD_FLAGS : 0);
      wr = (r3 == 7 ? 0 : rm_dst(d)) | RD_FLAGS;
      k = MODEL_DEP_ALU;
      break;
    case 0x84: /* TEST */
    case 0x85:
      rd = reg_op(d) | rm_src(d);
      wr = RD_FLAGS;
      k = MODEL_DEP_ALU;
      break;
    case 0x86: /* XCHG */
    case 0x87:
    case 0x1c0: /* XADD */
    case 0x1c1:
      rd = reg_op(d) | rm_src(d);
      wr = reg_op(d) | rm_dst(d) | (op >= 0x1c0 ? RD_FLAGS : 0);
      k = MODEL_DEP_ALU;
      break;
    case 0x88: /* MOV Eb/Ev, Gb/Gv: a store waits for its address only */
    case 0x89:
      rd = d->mod3 ? reg_op(d) : addr_regs(d);
      wr = rm_dst(d);
      k = MODEL_DEP_MOV;
      break;
    case 0x8d: /* LEA */
      rd = addr_regs(d);
      wr = reg_op(d);
      k = MODEL_DEP_ALU;
      break;
    case 0x8f: /* POP Ev */
      rd = addr_regs(d);
      wr = rm_dst(d);
      k = MODEL_DEP_LOAD;
      break;
    case 0x91 ... 0x97: /* XCHG rAX, r */
      rd = wr = bit(0) | bit(d->reg);
      k = MODEL_DEP_ALU;
      break;
    case 0x98: /* CBW/CWDE/CDQE */
      rd = wr = bit(0);
      k = MODEL_DEP_ALU;
      break;
    case 0x99: /* CWD/CDQ/CQO */
      rd = bit(0);
      wr = bit(2);
      k = MODEL_DEP_ALU;
      break;
    case 0x9d: /* POPF */
      wr = RD_FLAGS;
      k = MODEL_DEP_LOAD;
      break;
    case 0xa0: /* MOV AL/rAX, moffs */
    case 0xa1:
      wr = bit(0);
      k = MODEL_DEP_LOAD;
      break;
    case 0xa8: /* TEST AL/rAX, imm */
    case 0xa9:
      rd = bit(0);
      wr = RD_FLAGS;
      k = MODEL_DEP_ALU;
      break;
    case 0xb0 ... 0xbf: /* MOV r, imm */
      wr = bit(greg(d, d->reg, d->osz));
      k = MODEL_DEP_MOV;
      break;
    case 0xc0: /* group 2: shifts and rotates */
    case 0xc1:
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3:
      rd = rm_src(d) | (op >= 0xd2 ? bit(1) : 0) | (r3 == 2 || r3 == 3 ? RD_FLAGS : 0);
      wr = rm_dst(d) | RD_FLAGS;
      k = MODEL_DEP_ALU;
      break;
    case 0xc6: /* MOV Ev, imm */
    case 0xc7:
      rd = addr_regs(d);
      wr = rm_dst(d);
      k = MODEL_DEP_MOV;
      break;
    case 0xc9: /* LEAVE */
      rd = bit(5);
      wr = bit(5);
      k = MODEL_DEP_LOAD;
      break;
    case 0xd7: /* XLAT */
      rd = bit(0) | bit(3);
      wr = bit(0);
      k = MODEL_DEP_LOAD;
      break;
    case 0xf5: /* CMC */
      rd = wr = RD_FLAGS;
      k = MODEL_DEP_ALU;
      break;
    case 0xf8: /* CLC, STC */
    case 0xf9:
      wr = RD_FLAGS;
      k = MODEL_DEP_ALU;
      break;
    case 0xf6: /* group 3 */
    case 0xf7:
      if (r3 < 2) { /* TEST */
        rd = rm_src(d);
        wr = RD_FLAGS;
        k = MODEL_DEP_ALU;
      } else if (r3 < 4) { /* NOT, NEG */
        rd = rm_src(d);
        wr = rm_dst(d) | (r3 == 3 ? RD_FLAGS : 0);
        k = MODEL_DEP_ALU;
      } else { /* MUL IMUL DIV IDIV: rAX (and rDX) by r/m */
        rd = rm_src(d) | bit(0) | (r3 >= 6 && d->osz > 1 ? bit(2) : 0);
        wr = bit(0) | (d->osz > 1 ? bit(2) : 0) | RD_FLAGS;
        k = MODEL_DEP_MULDIV;
      }
      break;
    case 0xfe:      /* INC/DEC Eb */
    case 0xff:      /* INC/DEC Ev; CALL/JMP/PUSH indirect read nothing waited for */
      if (r3 < 2) { /* INC/DEC keep CF without waiting for it (flags are renamed in parts) */
        rd = rm_src(d);
        wr = rm_dst(d) | RD_FLAGS;
        k = MODEL_DEP_ALU;
      }
      break;
    case 0x140 ... 0x14f: /* CMOVcc */
      rd = reg_op(d) | rm_src(d) | RD_FLAGS;
      wr = reg_op(d);
      k = MODEL_DEP_ALU;
      break;
    case 0x190 ... 0x19f: /* SETcc */
      rd = RD_FLAGS | addr_regs(d);
      wr = rm_dst(d);
      k = MODEL_DEP_ALU;
      break;
    case 0x1a3: /* BT */
      rd = reg_op(d) | rm_src(d);
      wr = RD_FLAGS;
      k = MODEL_DEP_ALU;
      break;
    case 0x1ab: /* BTS BTR BTC */
    case 0x1b3:
    case 0x1bb:
      rd = reg_op(d) | rm_src(d);
      wr = rm_dst(d) | RD_FLAGS;
      k = MODEL_DEP_ALU;
      break;
    case 0x1ba: /* group 8: BT* Ev, imm */
      rd = rm_src(d);
      wr = (r3 == 4 ? 0 : rm_dst(d)) | RD_FLAGS;
      k = MODEL_DEP_ALU;
      break;
    case 0x1a4: /* SHLD SHRD */
    case 0x1a5:
    case 0x1ac:
    case 0x1ad:
      rd = reg_op(d) | rm_src(d) | ((op & 1) ? bit(1) : 0);
      wr = rm_dst(d) | RD_FLAGS;
      k = MODEL_DEP_ALU;
      break;
    case 0x1b0: /* CMPXCHG */
    case 0x1b1:
      rd = bit(0) | reg_op(d) | rm_src(d);
      wr = bit(0) | rm_dst(d) | RD_FLAGS;
      k = MODEL_DEP_ALU;
      break;
    case 0x1b8: /* POPCNT */
    case 0x1bc: /* BSF/TZCNT */
    case 0x1bd: /* BSR/LZCNT */
      rd = rm_src(d);
      wr = reg_op(d) | RD_FLAGS;
      k = MODEL_DEP_ALU;
      break;
    case 0x1c8 ... 0x1cf: /* BSWAP */
      rd = wr = bit(d->reg);
      k = MODEL_DEP_ALU;
      break;
    default: /* branches, stack, strings, system and I/O: no dependency */
      break;
    }
  }
  d->rd = rd;
  d->dep_out = wr | (uint32_t)kind_of(d, k, wr) << MODEL_DEP_KIND_SHIFT;
}
