/* model_dispatch.c - the threaded run loop of the model CPU and the
 * specialised handlers of its common instruction forms (model_dispatch.h).
 *
 * Each handler is exec()'s code for one opcode, operand kind (register,
 * memory, immediate) and operand size (4 or 8 bytes) with those fixed at
 * compile time: no opcode switch, no size switch in the register accessors,
 * the ALU operation and the condition code constant-folded. The semantics
 * are the shared primitives of model_ops.h; memory goes through the same
 * model_mem__read/model_mem__write (TLB front, counters, faults), writes
 * come before register updates as in exec(), and every handler ends with
 * model_ops__retire() (RIP, the instruction count; the count by class that
 * completes exec()'s retirement follows in the dispatch). Forms not listed
 * here (byte and 16-bit operands mostly, ADC/SBB, RCL/RCR, MUL/DIV, system
 * and string instructions ...) run in exec().
 *
 * The handlers are labels of one function, model_dispatch__run(), each
 * ending with its own copy of the dispatch (NEXT): computed goto, a GNU C
 * extension gcc and clang both have, as are the case ranges in exec().
 */
#include "model_dispatch.h"

#include "model_dispatch_stats.h"
#include "model_events.h"
#include "model_mmu.h"
#include "model_ops.h"

#define AI static inline __attribute__((always_inline))

static inline uint64_t next_rip(const struct model_cpu *c, const struct model_insn *d) {
  return c->rip + d->len;
}

/* a register written with operand size sz (4: zero-extended) */
AI void set_gpr(struct model_cpu *c, unsigned r, unsigned sz, uint64_t v) {
  c->gpr[r] = v & MASK(sz);
}

/* ---- ALU: add, or, and, sub, xor, cmp; test ------------------------------------------ */
/* dst op= src on registers (the 00-3F rows with ModRM.mod == 3, TEST) */
AI void alu_rr(struct model_cpu *c, const struct model_insn *d, unsigned aop, unsigned sz,
               unsigned dst, unsigned src, bool store) {
  uint64_t m = MASK(sz);
  uint64_t r = alu(c, aop, c->gpr[dst] & m, c->gpr[src] & m, sz);
  if (store) c->gpr[dst] = r;
  model_ops__retire(c, d, next_rip(c, d));
}

/* Ev op= imm on a register (group 1: 81, 83) */
AI void alu_ri(struct model_cpu *c, const struct model_insn *d, unsigned aop, unsigned sz) {
  uint64_t m = MASK(sz);
  uint64_t r = alu(c, aop, c->gpr[d->rm] & m, d->imm & m, sz);
  if (aop != 7) c->gpr[d->rm] = r;
  model_ops__retire(c, d, next_rip(c, d));
}

/* Gv op= [mem] (the 03 column with a memory operand) */
AI void alu_gm(struct model_cpu *c, const struct model_insn *d, unsigned aop, unsigned sz) {
  uint64_t b = model_mem__read(c, ea_of(c, d), sz);
  uint64_t r = alu(c, aop, c->gpr[d->reg] & MASK(sz), b, sz);
  if (aop != 7) c->gpr[d->reg] = r;
  model_ops__retire(c, d, next_rip(c, d));
}

/* rAX op= imm (the 05 column, TEST A9) */
AI void alu_ai(struct model_cpu *c, const struct model_insn *d, unsigned aop, unsigned sz,
               bool store) {
  uint64_t m = MASK(sz);
  uint64_t r = alu(c, aop, c->gpr[0] & m, d->imm & m, sz);
  if (store) c->gpr[0] = r;
  model_ops__retire(c, d, next_rip(c, d));
}

/* [mem] op= Gv or imm (the 01 column, group 1): read-modify-write, the
 * flags set only once the store went through; CMP reads only */
AI void alu_m(struct model_cpu *c, const struct model_insn *d, unsigned aop, unsigned sz,
              bool imm) {
  uint64_t addr = ea_of(c, d), m = MASK(sz);
  uint64_t a = aop == 7 ? model_mem__read(c, addr, sz) : rmw_read(c, addr, sz);
  uint64_t b = imm ? d->imm & m : c->gpr[d->reg] & m;
  if (aop == 7) {
    alu(c, 7, a, b, sz);
  } else {
    uint64_t saved = c->rflags;
    uint64_t r = alu(c, aop, a, b, sz);
    uint64_t nf = c->rflags;
    c->rflags = saved;
    model_mem__write(c, addr, sz, r);
    c->rflags = nf;
  }
  model_ops__retire(c, d, next_rip(c, d));
}

/* CMP byte [mem], imm8: read only */
AI void cmp_mi(struct model_cpu *c, const struct model_insn *d, unsigned sz) {
  uint64_t a = model_mem__read(c, ea_of(c, d), sz);
  alu(c, 7, a, d->imm & MASK(sz), sz);
  model_ops__retire(c, d, next_rip(c, d));
}

/* TEST r/m8, r8 on registers (the byte registers' REX rule) */
AI void test_rr1(struct model_cpu *c, const struct model_insn *d) {
  alu(c, 4, rd_reg(c, d->rm, 1, d->rex), rd_reg(c, d->reg, 1, d->rex), 1);
  model_ops__retire(c, d, next_rip(c, d));
}

/* INC / DEC of a register */
AI void incdec_r(struct model_cpu *c, const struct model_insn *d, bool dec, unsigned sz) {
  uint64_t f, r = incdec(c, dec, c->gpr[d->rm] & MASK(sz), sz, &f);
  c->gpr[d->rm] = r;
  set_arith(c, f);
  model_ops__retire(c, d, next_rip(c, d));
}

/* ---- SHL, SHR, SAR of a register by imm8, 1 or CL ----------------------------------- */
enum { CNT_IMM, CNT_ONE, CNT_CL };
AI void shift_r(struct model_cpu *c, const struct model_insn *d, unsigned kind, unsigned cnt_src,
                unsigned sz) {
  unsigned cnt = cnt_src == CNT_IMM   ? (unsigned)d->imm
                 : cnt_src == CNT_ONE ? 1
                                      : (unsigned)c->gpr[1] & 0xff;
  c->gpr[d->rm] = shift(c, kind, c->gpr[d->rm] & MASK(sz), cnt, sz);
  model_ops__retire(c, d, next_rip(c, d));
}

/* ---- IMUL Gv, Ev(, imm) -------------------------------------------------------------- */
AI void imul_g(struct model_cpu *c, const struct model_insn *d, unsigned sz, bool mem, bool imm) {
  uint64_t a = mem ? model_mem__read(c, ea_of(c, d), sz) : c->gpr[d->rm] & MASK(sz);
  int64_t x = (int64_t)sxt(a, sz), y = imm ? (int64_t)d->imm : (int64_t)sxt(c->gpr[d->reg], sz);
  __int128 p = (__int128)x * y;
  uint64_t r = (uint64_t)p & MASK(sz);
  bool ov = p != (__int128)(int64_t)sxt(r, sz);
  set_arith(c, (ov ? (RF_CF | RF_OF) : 0) | szp(r, sz));
  c->gpr[d->reg] = r;
  model_ops__retire(c, d, next_rip(c, d));
}

/* ---- moves ------------------------------------------------------------------------- */
AI void mov_rr(struct model_cpu *c, const struct model_insn *d, unsigned sz, unsigned dst,
               unsigned src) {
  set_gpr(c, dst, sz, c->gpr[src]);
  model_ops__retire(c, d, next_rip(c, d));
}
AI void mov_load(struct model_cpu *c, const struct model_insn *d, unsigned sz) {
  uint64_t v = model_mem__read(c, ea_of(c, d), sz);
  c->gpr[d->reg] = v;
  model_ops__retire(c, d, next_rip(c, d));
}
AI void mov_store(struct model_cpu *c, const struct model_insn *d, unsigned sz, uint64_t v) {
  model_mem__write(c, ea_of(c, d), sz, v);
  model_ops__retire(c, d, next_rip(c, d));
}
AI void mov_imm(struct model_cpu *c, const struct model_insn *d, unsigned sz, unsigned dst) {
  set_gpr(c, dst, sz, d->imm);
  model_ops__retire(c, d, next_rip(c, d));
}
AI void lea(struct model_cpu *c, const struct model_insn *d, unsigned sz) {
  set_gpr(c, d->reg, sz, lea_of(c, d));
  model_ops__retire(c, d, next_rip(c, d));
}
/* MOVZX / MOVSX Gv, Eb/Ew and MOVSXD: ss is the source size */
AI void movx(struct model_cpu *c, const struct model_insn *d, unsigned ss, bool sign, unsigned sz,
             bool mem) {
  uint64_t a = mem ? model_mem__read(c, ea_of(c, d), ss) : rd_reg(c, d->rm, ss, d->rex);
  set_gpr(c, d->reg, sz, sign ? sxt(a, ss) : a);
  model_ops__retire(c, d, next_rip(c, d));
}
/* CMOVcc on registers: the 32-bit form zero-extends even when false */
AI void cmov_r(struct model_cpu *c, const struct model_insn *d, unsigned sz) {
  uint64_t a = c->gpr[d->rm] & MASK(sz);
  if (cond(c, d->op & 0xf))
    c->gpr[d->reg] = a;
  else if (sz == 4)
    c->gpr[d->reg] &= 0xffffffffull;
  model_ops__retire(c, d, next_rip(c, d));
}
AI void setcc_r(struct model_cpu *c, const struct model_insn *d) {
  wr_reg(c, d->rm, 1, d->rex, cond(c, d->op & 0xf));
  model_ops__retire(c, d, next_rip(c, d));
}

/* ---- stack and control transfer ---------------------------------------------------- */
AI void push_r(struct model_cpu *c, const struct model_insn *d) {
  push(c, c->gpr[d->reg], 8);
  model_ops__retire(c, d, next_rip(c, d));
}
AI void pop_r(struct model_cpu *c, const struct model_insn *d) {
  uint64_t v = pop(c, 8);
  c->gpr[d->reg] = v;
  model_ops__retire(c, d, next_rip(c, d));
}
AI void call_to(struct model_cpu *c, const struct model_insn *d, uint64_t target) {
  push(c, next_rip(c, d), 8);
  model_ops__retire(c, d, target);
}
/* retires the Jcc; true: taken (the run loop then looks at memo_t) */
AI bool jcc(struct model_cpu *c, const struct model_insn *d, unsigned cc) {
  uint64_t nrip = next_rip(c, d);
  bool t = cond(c, cc);
  model_ops__retire(c, d, t ? nrip + d->imm : nrip);
  return t;
}

#include "model_dispatch_more.h"

/* ---- the handler list -------------------------------------------------------------- */
/* X(name, statement): the statement runs the instruction d and retires it */
#define ALU_FORMS(X, aop, nm, sz)                                                                  \
  X(nm##_eg_r##sz, alu_rr(c, d, aop, sz, d->rm, d->reg, aop != 7))                                 \
  X(nm##_ge_r##sz, alu_rr(c, d, aop, sz, d->reg, d->rm, aop != 7))                                 \
  X(nm##_ri##sz, alu_ri(c, d, aop, sz))                                                            \
  X(nm##_gm##sz, alu_gm(c, d, aop, sz))                                                            \
  X(nm##_mg##sz, alu_m(c, d, aop, sz, false))                                                      \
  X(nm##_mi##sz, alu_m(c, d, aop, sz, true))                                                       \
  X(nm##_ai##sz, alu_ai(c, d, aop, sz, aop != 7))
#define ALU_OP(X, aop, nm) ALU_FORMS(X, aop, nm, 4) ALU_FORMS(X, aop, nm, 8)
#define SHIFT_FORMS(X, kind, nm, sz)                                                               \
  X(nm##_i##sz, shift_r(c, d, kind, CNT_IMM, sz))                                                  \
  X(nm##_1_##sz, shift_r(c, d, kind, CNT_ONE, sz))                                                 \
  X(nm##_cl##sz, shift_r(c, d, kind, CNT_CL, sz))
#define SHIFT_OP(X, kind, nm) SHIFT_FORMS(X, kind, nm, 4) SHIFT_FORMS(X, kind, nm, 8)
#define MOVX_FORMS(X, nm, ss, sign)                                                                \
  X(nm##_r4, movx(c, d, ss, sign, 4, false))                                                       \
  X(nm##_r8, movx(c, d, ss, sign, 8, false))                                                       \
  X(nm##_m4, movx(c, d, ss, sign, 4, true))                                                        \
  X(nm##_m8, movx(c, d, ss, sign, 8, true))
#define JCC(X, cc) X(jcc##cc, if (jcc(c, d, cc)) NEXT_TAKEN())

/* STRAIGHT_HANDLERS: the instruction after them is always the next one (no
 * control transfer; a fault leaves by longjmp), which lets their dispatch
 * skip the memo's RIP test (model_dispatch__run). Any handler that can set
 * another RIP belongs in BRANCH_HANDLERS. */
#define HANDLERS(X) STRAIGHT_HANDLERS(X) HANDLERS_MORE(X) BRANCH_HANDLERS(X)
#define STRAIGHT_HANDLERS(X)                                                                       \
  ALU_OP(X, 0, add)                                                                                \
  ALU_OP(X, 1, or)                                                                                 \
  ALU_OP(X, 4, and)                                                                                \
  ALU_OP(X, 5, sub)                                                                                \
  ALU_OP(X, 6, xor)                                                                                \
  ALU_OP(X, 7, cmp)                                                                                \
  X(test_rr4, alu_rr(c, d, 4, 4, d->rm, d->reg, false))                                            \
  X(test_rr8, alu_rr(c, d, 4, 8, d->rm, d->reg, false))                                            \
  X(test_rr1, test_rr1(c, d))                                                                      \
  X(test_ai4, alu_ai(c, d, 4, 4, false))                                                           \
  X(test_ai8, alu_ai(c, d, 4, 8, false))                                                           \
  X(cmp_mi1, cmp_mi(c, d, 1))                                                                      \
  X(inc_r4, incdec_r(c, d, false, 4))                                                              \
  X(inc_r8, incdec_r(c, d, false, 8))                                                              \
  X(dec_r4, incdec_r(c, d, true, 4))                                                               \
  X(dec_r8, incdec_r(c, d, true, 8))                                                               \
  SHIFT_OP(X, 0, rol)                                                                              \
  SHIFT_OP(X, 1, ror)                                                                              \
  SHIFT_OP(X, 4, shl)                                                                              \
  SHIFT_OP(X, 5, shr)                                                                              \
  SHIFT_OP(X, 7, sar)                                                                              \
  X(imul_r4, imul_g(c, d, 4, false, false))                                                        \
  X(imul_r8, imul_g(c, d, 8, false, false))                                                        \
  X(imul_m4, imul_g(c, d, 4, true, false))                                                         \
  X(imul_m8, imul_g(c, d, 8, true, false))                                                         \
  X(imul_ri4, imul_g(c, d, 4, false, true))                                                        \
  X(imul_ri8, imul_g(c, d, 8, false, true))                                                        \
  X(mov_eg_r4, mov_rr(c, d, 4, d->rm, d->reg))                                                     \
  X(mov_eg_r8, mov_rr(c, d, 8, d->rm, d->reg))                                                     \
  X(mov_ge_r4, mov_rr(c, d, 4, d->reg, d->rm))                                                     \
  X(mov_ge_r8, mov_rr(c, d, 8, d->reg, d->rm))                                                     \
  X(mov_load4, mov_load(c, d, 4))                                                                  \
  X(mov_load8, mov_load(c, d, 8))                                                                  \
  X(mov_store1, mov_store(c, d, 1, rd_reg(c, d->reg, 1, d->rex)))                                  \
  X(mov_store4, mov_store(c, d, 4, c->gpr[d->reg]))                                                \
  X(mov_store8, mov_store(c, d, 8, c->gpr[d->reg]))                                                \
  X(mov_store_imm4, mov_store(c, d, 4, d->imm))                                                    \
  X(mov_store_imm8, mov_store(c, d, 8, d->imm))                                                    \
  X(mov_ri4, mov_imm(c, d, 4, d->reg))                                                             \
  X(mov_ri8, mov_imm(c, d, 8, d->reg))                                                             \
  X(mov_rmi4, mov_imm(c, d, 4, d->rm))                                                             \
  X(mov_rmi8, mov_imm(c, d, 8, d->rm))                                                             \
  X(lea4, lea(c, d, 4))                                                                            \
  X(lea8, lea(c, d, 8))                                                                            \
  MOVX_FORMS(X, movzb, 1, false)                                                                   \
  MOVX_FORMS(X, movzw, 2, false)                                                                   \
  MOVX_FORMS(X, movsb, 1, true)                                                                    \
  MOVX_FORMS(X, movsw, 2, true)                                                                    \
  MOVX_FORMS(X, movsxd, 4, true)                                                                   \
  X(cmov_r4, cmov_r(c, d, 4))                                                                      \
  X(cmov_r8, cmov_r(c, d, 8))                                                                      \
  X(setcc_r, setcc_r(c, d))                                                                        \
  X(nop, model_ops__retire(c, d, next_rip(c, d)))                                                  \
  X(push_r, push_r(c, d))                                                                          \
  X(pop_r, pop_r(c, d))
#define BRANCH_HANDLERS(X)                                                                         \
  X(jmp_rel, model_ops__retire(c, d, next_rip(c, d) + d->imm))                                     \
  X(call_rel, call_to(c, d, next_rip(c, d) + d->imm))                                              \
  X(ret_near, model_ops__retire(c, d, pop(c, 8)))                                                  \
  X(call_r, call_to(c, d, c->gpr[d->rm]))                                                          \
  X(call_m, call_to(c, d, model_mem__read(c, ea_of(c, d), 8)))                                     \
  X(jmp_r, model_ops__retire(c, d, c->gpr[d->rm]))                                                 \
  X(jmp_m, model_ops__retire(c, d, model_mem__read(c, ea_of(c, d), 8)))                            \
  JCC(X, 0)                                                                                        \
  JCC(X, 1)                                                                                        \
  JCC(X, 2)                                                                                        \
  JCC(X, 3)                                                                                        \
  JCC(X, 4)                                                                                        \
  JCC(X, 5)                                                                                        \
  JCC(X, 6)                                                                                        \
  JCC(X, 7)                                                                                        \
  JCC(X, 8)                                                                                        \
  JCC(X, 9)                                                                                        \
  JCC(X, 10)                                                                                       \
  JCC(X, 11)                                                                                       \
  JCC(X, 12)                                                                                       \
  JCC(X, 13)                                                                                       \
  JCC(X, 14)                                                                                       \
  JCC(X, 15)

#define ENUM_ENTRY(name, stmt) H_##name,
enum { H_GENERIC, HANDLERS(ENUM_ENTRY) H_COUNT };
_Static_assert(H_COUNT <= 256, "handler numbers are kept in a byte");

/* ---- selection --------------------------------------------------------------------- */
#define SZ(h4, h8) (w ? H_##h8 : H_##h4)
#define ALU_H(form, aop)                                                                           \
  ((aop) == 0   ? SZ(add_##form##4, add_##form##8)                                                 \
   : (aop) == 1 ? SZ(or_##form##4, or_##form##8)                                                   \
   : (aop) == 4 ? SZ(and_##form##4, and_##form##8)                                                 \
   : (aop) == 5 ? SZ(sub_##form##4, sub_##form##8)                                                 \
   : (aop) == 6 ? SZ(xor_##form##4, xor_##form##8)                                                 \
                : SZ(cmp_##form##4, cmp_##form##8))
#define SHIFT_H(form, kind)                                                                        \
  ((kind) == 0   ? SZ(rol_##form##4, rol_##form##8)                                                \
   : (kind) == 1 ? SZ(ror_##form##4, ror_##form##8)                                                \
   : (kind) == 4 ? SZ(shl_##form##4, shl_##form##8)                                                \
   : (kind) == 5 ? SZ(shr_##form##4, shr_##form##8)                                                \
                 : SZ(sar_##form##4, sar_##form##8))
#define MOVX_H(nm) (mem ? SZ(nm##_m4, nm##_m8) : SZ(nm##_r4, nm##_r8))

/* the address shape of d's memory operand for the EA_ forms of
 * model_dispatch_more.h, 0: none of them (a register operand, RIP-relative,
 * no base, a 32-bit address or an FS/GS override) */
static unsigned select_ea(const struct model_insn *d) {
  if (d->mod3 || d->riprel || d->seg || d->asz != 8 || d->base == MODEL_NOREG) return 0;
  return d->index == MODEL_NOREG ? EA_BD : EA_BISD;
}
#define EA_H(nm) (k == EA_BD ? H_##nm##_bd : H_##nm##_bisd)

/* the forms of model_dispatch_more.h (H_GENERIC: none of them) */
static uint8_t select_more(const struct model_insn *d) {
  unsigned op = d->op, sz = d->osz, g = d->reg & 7, k = select_ea(d);
  bool wide = sz == 4 || sz == 8, mem = !d->mod3, w = sz == 8;
  if (k) {
    switch (op) {
    case 0x8b:
      if (wide) return w ? EA_H(mov_load8) : EA_H(mov_load4);
      break;
    case 0x89:
      if (wide) return w ? EA_H(mov_store8) : EA_H(mov_store4);
      if (sz == 2) return EA_H(mov_store2);
      break;
    case 0x88:
      return EA_H(mov_store1);
    case 0x1b6:
      if (sz == 4) return EA_H(movzb_m4);
      break;
    case 0x1b7:
      if (sz == 4) return EA_H(movzw_m4);
      break;
    case 0x3b:
      if (sz == 8) return EA_H(cmp_gm8);
      break;
    case 0x33:
      if (sz == 4) return EA_H(xor_gm4);
      break;
    case 0x8d:
      if (wide) return w ? EA_H(lea8) : EA_H(lea4);
      break;
    }
  }
  switch (op) {
  case 0x11:
  case 0x19:
  case 0x13:
  case 0x1b:
    if (!wide || mem) return H_GENERIC;
    if (op == 0x11) return SZ(adc_eg_r4, adc_eg_r8);
    if (op == 0x13) return SZ(adc_ge_r4, adc_ge_r8);
    return op == 0x19 ? SZ(sbb_eg_r4, sbb_eg_r8) : SZ(sbb_ge_r4, sbb_ge_r8);
  case 0x38:
    return mem ? H_cmp_mg1 : H_GENERIC;
  case 0x3a:
    return mem ? H_cmp_gm1 : H_GENERIC;
  case 0x3c:
    return H_cmp_ai1;
  case 0xa8:
    return H_test_ai1;
  case 0x80: {
    static const uint8_t h[8] = {H_add_ri1, 0, 0, 0, H_and_ri1, H_sub_ri1, H_xor_ri1, H_cmp_ri1};
    return mem ? H_GENERIC : g == 1 ? H_or_ri1 : h[g];
  }
  case 0x89:
    return mem && sz == 2 ? H_mov_store2 : H_GENERIC;
  case 0xc1: {
    static const uint8_t h[8] = {H_rol_i2, H_ror_i2, 0, 0, H_shl_i2, H_shr_i2, 0, H_sar_i2};
    return mem || sz != 2 ? H_GENERIC : h[g];
  }
  case 0xc6:
    return mem && g == 0 ? H_mov_store_imm1 : H_GENERIC;
  case 0xf6:
    return mem && g <= 1 ? H_test_mi1 : H_GENERIC;
  case 0xf7:
    if (!wide || mem) return H_GENERIC;
    return g == 2 ? SZ(not_r4, not_r8) : g == 3 ? SZ(neg_r4, neg_r8) : H_GENERIC;
  default:
    return H_GENERIC;
  }
}

uint8_t model_dispatch__select(const struct model_insn *d) {
  unsigned op = d->op, sz = d->osz, g = d->reg & 7;
  bool wide = sz == 4 || sz == 8, mem = !d->mod3, w = sz == 8;
  uint8_t more = select_more(d);
  if (more != H_GENERIC) return more;
  if (op < 0x40 && (op & 7) <= 3) { /* the ALU rows: Eb,Gb Ev,Gv Gb,Eb Gv,Ev */
    unsigned aop = op >> 3;
    if (aop == 2 || aop == 3 || !wide || !(op & 1)) return H_GENERIC; /* ADC/SBB, bytes */
    if (op & 2) return mem ? ALU_H(gm, aop) : ALU_H(ge_r, aop);
    return mem ? ALU_H(mg, aop) : ALU_H(eg_r, aop);
  }
  if (op < 0x40 && (op & 7) == 5) { /* rAX, imm */
    unsigned aop = op >> 3;
    return aop == 2 || aop == 3 || !wide ? H_GENERIC : ALU_H(ai, aop);
  }
  switch (op) {
  case 0x81:
  case 0x83:
    if (!wide || g == 2 || g == 3) return H_GENERIC;
    return mem ? ALU_H(mi, g) : ALU_H(ri, g);
  case 0x80:
    return mem && g == 7 ? H_cmp_mi1 : H_GENERIC;
  case 0x84:
    return mem ? H_GENERIC : H_test_rr1;
  case 0x85:
    return !wide || mem ? H_GENERIC : SZ(test_rr4, test_rr8);
  case 0xa9:
    return !wide ? H_GENERIC : SZ(test_ai4, test_ai8);
  case 0x50 ... 0x57:
    return w ? H_push_r : H_GENERIC;
  case 0x58 ... 0x5f:
    return w ? H_pop_r : H_GENERIC;
  case 0x63:
    return w ? MOVX_H(movsxd) : H_GENERIC;
  case 0x69:
  case 0x6b:
    return !wide || mem ? H_GENERIC : SZ(imul_ri4, imul_ri8);
  case 0x1af:
    return !wide ? H_GENERIC : mem ? SZ(imul_m4, imul_m8) : SZ(imul_r4, imul_r8);
  case 0x70 ... 0x7f:
  case 0x180 ... 0x18f:
    return (uint8_t)(H_jcc0 + (op & 0xf));
  case 0x88:
    return mem ? H_mov_store1 : H_GENERIC;
  case 0x89:
    if (!wide) return H_GENERIC;
    return mem ? SZ(mov_store4, mov_store8) : SZ(mov_eg_r4, mov_eg_r8);
  case 0x8b:
    if (!wide) return H_GENERIC;
    return mem ? SZ(mov_load4, mov_load8) : SZ(mov_ge_r4, mov_ge_r8);
  case 0x8d:
    return !wide || !mem ? H_GENERIC : SZ(lea4, lea8);
  case 0x90:
    return d->reg == 0 ? H_nop : H_GENERIC; /* NOP, PAUSE (not XCHG r8, rAX) */
  case 0xb8 ... 0xbf:
    return !wide ? H_GENERIC : SZ(mov_ri4, mov_ri8);
  case 0xc7:
    if (!wide || g) return H_GENERIC;
    return mem ? SZ(mov_store_imm4, mov_store_imm8) : SZ(mov_rmi4, mov_rmi8);
  case 0xc1:
  case 0xd1:
  case 0xd3:
    if (!wide || mem || g == 2 || g == 3 || g == 6) return H_GENERIC; /* RCL, RCR, SAL */
    return op == 0xc1 ? SHIFT_H(i, g) : op == 0xd1 ? SHIFT_H(1_, g) : SHIFT_H(cl, g);
  case 0xc3:
    return w ? H_ret_near : H_GENERIC;
  case 0xe8:
    return H_call_rel;
  case 0xe9:
  case 0xeb:
    return H_jmp_rel;
  case 0xff:
    if (g <= 1) return !wide || mem ? H_GENERIC : g ? SZ(dec_r4, dec_r8) : SZ(inc_r4, inc_r8);
    if (g == 2) return mem ? H_call_m : H_call_r;
    if (g == 4) return mem ? H_jmp_m : H_jmp_r;
    return H_GENERIC;
  case 0x10d:
  case 0x118 ... 0x11f:
    return H_nop;
  case 0x140 ... 0x14f:
    return !wide || mem ? H_GENERIC : SZ(cmov_r4, cmov_r8);
  case 0x190 ... 0x19f:
    return mem ? H_GENERIC : H_setcc_r;
  case 0x1b6:
    return !wide ? H_GENERIC : MOVX_H(movzb);
  case 0x1b7:
    return !wide ? H_GENERIC : MOVX_H(movzw);
  case 0x1be:
    return !wide ? H_GENERIC : MOVX_H(movsb);
  case 0x1bf:
    return !wide ? H_GENERIC : MOVX_H(movsw);
  default:
    return H_GENERIC;
  }
}

/* ---- the run loop -------------------------------------------------------------------- */
/* The entry of the instruction at rip, e its cache slot, after a miss. Most
 * misses come after a TLB flush (a new generation) and find the
 * instruction still decoded in its slot (the same RIP, CPL and code): the
 * fetch is then the ITLB lookup fetch() would make (the L1 ITLB's last hit
 * inline, else the rest of the lookup, a walk on a miss), and the decode is
 * kept when it came from that page (fetch()'s rule), without the call.
 * Anything else, or another page, goes to fetch(), which decodes. */
/* fetch_miss() when the L1 ITLB's last hit does not hold rip: the rest of
 * the lookup (out of line: the common case saves no registers for it) */
static __attribute__((noinline)) struct model_icache_entry *
fetch_past_last(struct model_cpu *c, struct model_icache_entry *e, uint64_t rip,
                model_fetch_fn *fetch) {
  c->cnt.fetches++;
  uint64_t gpa1 = model_mmu__fetch_past_last(c, rip); /* faults by longjmp */
  if (gpa1 != e->gpa) return fetch(c, e, gpa1);
  e->gen = c->icache_gen; /* no icache_epoch bump: see fetch() */
  return e;
}
/* fetch_miss() for an entry known to hold rip's decode at this CPL */
AI struct model_icache_entry *refetch(struct model_cpu *c, struct model_icache_entry *e,
                                      uint64_t rip, model_fetch_fn *fetch) {
  if (e->code_gen != c->code_gen) return fetch(c, e, ~0ull);
  /* e->rip == rip: a decode was made at rip, so rip is canonical; e->cpl is
   * c->cpl, so e->fetch_need is this fetch's need */
  uint64_t gpa1;
  if (!model_mmu__fetch_last(c, rip, e->fetch_need, &gpa1))
    return fetch_past_last(c, e, rip, fetch);
  c->cnt.fetches++;
  if (gpa1 != e->gpa) return fetch(c, e, gpa1);
  e->gen = c->icache_gen; /* no icache_epoch bump: see fetch() */
  return e;
}
AI struct model_icache_entry *fetch_miss(struct model_cpu *c, struct model_icache_entry *e,
                                         uint64_t rip, model_fetch_fn *fetch) {
  if (e->rip != rip || e->cpl != c->cpl) return fetch(c, e, ~0ull);
  return refetch(c, e, rip, fetch);
}

/* The entry of the instruction at RIP (decoded on a miss) when the memo m
 * of prev, the entry that ran before it, does not hold: remembered in m,
 * with the count slot it has after prev (prev retired: the next
 * instruction waits or not on its dep_out). m is prev's memo, or memo_t
 * after a taken Jcc. That slot is also left in c->lookup_slot, the one to
 * count when c->dep_prev is prev's dep_out (after a handler; exec() may
 * leave another). */
AI struct model_icache_entry *lookup_in(struct model_cpu *c, struct model_icache_entry *prev,
                                        struct model_memo *m, model_fetch_fn *fetch) {
  uint64_t rip = c->rip;
  DSTAT_LOOKUP(prev);
  struct model_icache_entry *e = m->e;
  if (m->rip == rip && m->dser && e->dser == m->dser && e->cpl == c->cpl) {
    /* m->e holds the decode of rip it held when m was taken (rip's slot,
     * the same instruction: m's count slot holds) at this CPL; m is stale
     * only by a new generation (a TLB flush), a CPL change and back or
     * another entry's decode: a hit unless its generation is stale, then
     * fetched again as after the slot hash and hit test */
    if (e->gen != c->icache_gen) {
      e = refetch(c, e, rip, fetch);
      if (e->dser != m->dser) goto decoded; /* decoded again */
    }
    m->epoch = c->icache_epoch;
    c->lookup_slot = m->slot;
    return e;
  }
  e = model_icache__slot(c, rip);
  if (!model_icache__hit(c, e, rip)) e = fetch_miss(c, e, rip, fetch);
decoded:
  /* c->generic_only: the reference, every instruction looked up. e == prev:
   * the decode went into prev's own slot (or prev jumps to itself): prev
   * no longer holds the instruction that ran, and a memo would be of
   * another instruction's successor, which the dispatch after a
   * straight-line handler (no RIP test) must never take */
  if (c->generic_only || e == prev) {
    c->lookup_slot = (uint8_t)model_ops__class_slot(&e->insn, c->dep_prev);
    return e;
  }
  m->e = e;
  m->rip = rip;
  m->epoch = c->icache_epoch;
  m->dser = e->dser;
  c->lookup_slot = m->slot = (uint8_t)model_ops__class_slot(&e->insn, prev->insn.dep_out);
  return e;
}
/* lookup_in() out of line: the run loop's re-lookup block (below) when its
 * fast case does not apply, and after exec() */
static __attribute__((noinline)) struct model_icache_entry *lookup(struct model_cpu *c,
                                                                   struct model_icache_entry *prev,
                                                                   struct model_memo *m,
                                                                   model_fetch_fn *fetch) {
  return lookup_in(c, prev, m, fetch);
}

/* The common case of lookup_in() after a new generation, in the run loop
 * without a call (speed: after every TLB flush, i.e. every VM exit with
 * tlb flush, nearly every instruction comes here): n, the memo's entry,
 * still holds RIP's decode at this CPL (lookup_in()'s first test, made by
 * the caller) and is of an older generation; its code is unchanged and the
 * L1 ITLB's last hit holds RIP's page with n's fetch need and maps it to the
 * frame n was decoded from. Then this counts and does what refetch() does
 * on that path (the hit, the fetch, n's generation) and returns true;
 * otherwise it changes nothing and returns false (lookup_in() then takes
 * the same path from the start: the last-hit test is made uncounted here,
 * and refetch() makes it again, counted). */
AI bool refetch_last(struct model_cpu *c, struct model_icache_entry *n, uint64_t rip) {
  if (n->code_gen != c->code_gen) return false;
  const struct tlb_slot *s = model_tlb__lookup_last(&c->tlbm, TLBL_L1I, rip, n->fetch_need, false);
  if (!s || model_tlb__slot_page(s, rip) != n->gpa) return false;
  c->tlbm.st.lookups[TLBL_L1I]++; /* model_mmu__fetch_last()'s counted hit */
  c->tlbm.st.hits[TLBL_L1I]++;
  c->cnt.fetches++;
  n->gen = c->icache_gen;
  return true;
}

/* The CPL is part of a hit: a change invalidates the memos. It changes only
 * in exec() (system instructions) and outside the run loop. */
static inline void epoch_cpl(struct model_cpu *c) {
  if (__builtin_expect(c->cpl != c->epoch_cpl || !c->icache_epoch, 0)) {
    c->epoch_cpl = c->cpl;
    c->icache_epoch++;
  }
}

_Static_assert((IC_COUNT * MODEL_DEP_COUNT) <= 256, "count slots are kept in a byte");

/* aligned to a cache line: with the same host instructions, where the
 * handlers fall moved compute and callret by a few per cent between builds
 * (docs/MODEL.md, "Speed", round 6) */
__attribute__((aligned(64))) void model_dispatch__run(struct model_cpu *c,
                                                      void (*generic)(struct model_cpu *c,
                                                                      const struct model_insn *d),
                                                      model_fetch_fn *fetch) {
#define LABEL_ENTRY(name, stmt) [H_##name] = &&L_##name,
  static const void *const labels[H_COUNT] = {[H_GENERIC] = &&L_generic, HANDLERS(LABEL_ENTRY)};
  struct model_icache_entry *e;
  const struct model_insn *d;
  struct model_memo *mm; /* the memo that missed, for the re-lookup block */
  /* where the running instruction's retirement is counted in
   * cnt.by_class_flat (retire_count's slot, model_ops.h): taken from the
   * memo of the entry before it, which depends only on the pair (a handler
   * always retires, so c->dep_prev is then that entry's dep_out), else
   * computed from c->dep_prev. Counted in NEXT right after the handler
   * retired it, before anything can observe the counters. */
  unsigned slot;
  /* A handler's end: its instruction's count by class, the stop test and
   * the cache lookup of the loop this replaces (the memo, else the shared
   * re-lookup block below), the instruction being executed (c->cur, as
   * exec() keeps it), then the jump to the handler: every handler has its
   * own copy */
#define NEXT_(rip_test, m)                                                                         \
  do {                                                                                             \
    c->cnt.by_class_flat[slot]++;                                                                  \
    c->dep_prev = d->dep_out;                                                                      \
    if (__builtin_expect(c->cnt.instructions >= c->slice_end, 0)) return;                          \
    if (__builtin_expect(!((rip_test) && e->m.epoch == c->icache_epoch), 0)) {                     \
      mm = &e->m;                                                                                  \
      goto relookup;                                                                               \
    }                                                                                              \
    slot = e->m.slot;                                                                              \
    e = e->m.e;                                                                                    \
    d = c->cur = &e->insn;                                                                         \
    DSTAT_COUNT(e);                                                                                \
    goto *labels[e->handler];                                                                      \
  } while (0)
  /* after a straight handler RIP is the memo's RIP whenever the memo holds:
   * it was taken after the same instruction, which is still the same while
   * icache_epoch is (a refill or a new decode bumps it) */
#define NEXT()          NEXT_(e->memo.rip == c->rip, memo)
#define NEXT_STRAIGHT() NEXT_(1, memo)
  /* after a taken Jcc: the successor remembered for that way (memo_t) */
#define NEXT_TAKEN() NEXT_(e->memo_t.rip == c->rip, memo_t)

#ifdef MODEL_DISPATCH_STATS
#define NAME_ENTRY(name, stmt) [H_##name] = #name,
  static const char *const names[H_COUNT] = {[H_GENERIC] = "exec", HANDLERS(NAME_ENTRY)};
  DSTAT_NAMES(names, H_COUNT);
#endif
  epoch_cpl(c);
  if (c->cnt.instructions >= c->slice_end) return;
  e = model_icache__slot(c, c->rip);
  if (!model_icache__hit(c, e, c->rip)) e = fetch_miss(c, e, c->rip, fetch);
  slot = model_ops__class_slot(&e->insn, c->dep_prev);
  d = c->cur = &e->insn;
  DSTAT_COUNT(e);
  goto *labels[e->handler];
L_generic:
  /* exec() counts what it retires itself (it may also retire nothing, or
   * deliver an event): the next slot comes from c->dep_prev */
  generic(c, d);
  epoch_cpl(c);
  if (__builtin_expect(c->cnt.instructions >= c->slice_end, 0)) return;
  if (__builtin_expect(e->memo.rip == c->rip && e->memo.epoch == c->icache_epoch, 1))
    e = e->memo.e;
  else
    e = lookup(c, e, &e->memo, fetch);
  slot = model_ops__class_slot(&e->insn, c->dep_prev);
  d = c->cur = &e->insn;
  DSTAT_COUNT(e);
  goto *labels[e->handler];
relookup:
  /* a handler's memo mm (of e, the entry that just ran) did not hold: one
   * block for every handler (speed: no call in the common case, see
   * refetch_last()); lookup_in()'s first test, then its fast case, else
   * lookup_in() out of line from the start (the dispatch's slot: after a
   * handler c->dep_prev is e's dep_out, which the memo's slot is for) */
  {
    uint64_t rip = c->rip;
    struct model_icache_entry *n = mm->e;
    if (__builtin_expect(mm->rip == rip && mm->dser && n->dser == mm->dser && n->cpl == c->cpl &&
                             (n->gen == c->icache_gen || refetch_last(c, n, rip)),
                         1)) {
      DSTAT_LOOKUP(e);
      mm->epoch = c->icache_epoch;
      slot = mm->slot;
      e = n;
    } else {
      e = lookup(c, e, mm, fetch);
      slot = c->lookup_slot;
    }
  }
  d = c->cur = &e->insn;
  DSTAT_COUNT(e);
  goto *labels[e->handler];
#define BODY(name, stmt)                                                                           \
  L_##name : stmt;                                                                                 \
  NEXT();
#define BODY_STRAIGHT(name, stmt)                                                                  \
  L_##name : stmt;                                                                                 \
  NEXT_STRAIGHT();
  STRAIGHT_HANDLERS(BODY_STRAIGHT)
  HANDLERS_MORE(BODY_STRAIGHT) /* model_dispatch_more.h: none branches */
  BRANCH_HANDLERS(BODY)
#undef NEXT_
#undef NEXT
#undef NEXT_STRAIGHT
#undef NEXT_TAKEN
}
