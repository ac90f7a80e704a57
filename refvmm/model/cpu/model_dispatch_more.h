/* model_dispatch_more.h - more specialised handlers of model_dispatch.c:
 * the forms the Linux boot runs most that went to exec() (byte and 16-bit
 * operands, NOT/NEG, ADC/SBB of registers), found with the dispatch
 * histogram (model_dispatch_stats.h; docs/MODEL.md "Speed"). Included by
 * model_dispatch.c only, after its helpers; same rules: exec()'s code for
 * one form with the operation and size fixed, the primitives of
 * model_ops.h, stores before register and flag updates, retired by
 * model_ops__retire(). */
#ifndef REFVMM_MODEL_DISPATCH_MORE_H
#define REFVMM_MODEL_DISPATCH_MORE_H

/* Eb op= imm8 on a byte register (80 /0,1,4,5,6,7 with mod == 3) */
AI void alu_ri1(struct model_cpu *c, const struct model_insn *d, unsigned aop) {
  uint64_t r = alu(c, aop, rd_reg(c, d->rm, 1, d->rex), d->imm & 0xff, 1);
  if (aop != 7) wr_reg(c, d->rm, 1, d->rex, r);
  model_ops__retire(c, d, next_rip(c, d));
}

/* CMP Gb, Eb / CMP Eb, Gb with a memory operand (3A, 38): read only */
AI void cmp_m1(struct model_cpu *c, const struct model_insn *d, bool g_first) {
  uint64_t m = model_mem__read(c, ea_of(c, d), 1), g = rd_reg(c, d->reg, 1, d->rex);
  alu(c, 7, g_first ? g : m, g_first ? m : g, 1);
  model_ops__retire(c, d, next_rip(c, d));
}

/* CMP AL, imm8 (3C) / TEST AL, imm8 (A8) */
AI void alu_ai1(struct model_cpu *c, const struct model_insn *d, unsigned aop) {
  alu(c, aop, c->gpr[0] & 0xff, d->imm & 0xff, 1);
  model_ops__retire(c, d, next_rip(c, d));
}

/* TEST byte [mem], imm8 (F6 /0, /1): read only */
AI void test_mi1(struct model_cpu *c, const struct model_insn *d) {
  alu(c, 4, model_mem__read(c, ea_of(c, d), 1), d->imm & 0xff, 1);
  model_ops__retire(c, d, next_rip(c, d));
}

/* SHL, SHR, SAR, ROL, ROR of a 16-bit register by imm8 (66 C1): the upper
 * 48 bits stay */
AI void shift_ri2(struct model_cpu *c, const struct model_insn *d, unsigned kind) {
  wr_reg(c, d->rm, 2, d->rex, shift(c, kind, c->gpr[d->rm] & 0xffff, (unsigned)d->imm, 2));
  model_ops__retire(c, d, next_rip(c, d));
}

/* NOT (F7 /2: no flags) and NEG (F7 /3) of a register */
AI void not_r(struct model_cpu *c, const struct model_insn *d, unsigned sz) {
  c->gpr[d->rm] = ~c->gpr[d->rm] & MASK(sz);
  model_ops__retire(c, d, next_rip(c, d));
}
AI void neg_r(struct model_cpu *c, const struct model_insn *d, unsigned sz) {
  c->gpr[d->rm] = alu(c, 5, 0, c->gpr[d->rm] & MASK(sz), sz);
  model_ops__retire(c, d, next_rip(c, d));
}

/* ---- memory operands without the general address computation ------------ */
/* The hottest memory forms again for the two address shapes most compiled
 * code uses, so the handler skips lea_of()'s tests (RIP-relative? base?
 * index? 32-bit address? segment base?): EA_BD [base + disp], EA_BISD
 * [base + index << scale + disp], both with a 64-bit address and no FS/GS
 * override (select_ea() decides). The sum is lea_of()'s modulo 2^64. */
enum { EA_BD = 1, EA_BISD = 2 };
AI uint64_t ea_k(const struct model_cpu *c, const struct model_insn *d, unsigned k) {
  uint64_t a = (uint64_t)d->disp + c->gpr[d->base];
  if (k == EA_BISD) a += c->gpr[d->index] << d->scale;
  return a;
}
AI void load_k(struct model_cpu *c, const struct model_insn *d, unsigned k, unsigned ss, bool sign,
               unsigned sz) {
  uint64_t v = model_mem__read(c, ea_k(c, d, k), ss);
  set_gpr(c, d->reg, sz, sign ? sxt(v, ss) : v);
  model_ops__retire(c, d, next_rip(c, d));
}
AI void store_k(struct model_cpu *c, const struct model_insn *d, unsigned k, unsigned sz) {
  uint64_t v = sz == 1 ? rd_reg(c, d->reg, 1, d->rex) : c->gpr[d->reg];
  model_mem__write(c, ea_k(c, d, k), sz, v);
  model_ops__retire(c, d, next_rip(c, d));
}
AI void alu_gm_k(struct model_cpu *c, const struct model_insn *d, unsigned k, unsigned aop,
                 unsigned sz) {
  uint64_t b = model_mem__read(c, ea_k(c, d, k), sz);
  uint64_t r = alu(c, aop, c->gpr[d->reg] & MASK(sz), b, sz);
  if (aop != 7) c->gpr[d->reg] = r;
  model_ops__retire(c, d, next_rip(c, d));
}
AI void lea_k(struct model_cpu *c, const struct model_insn *d, unsigned k, unsigned sz) {
  set_gpr(c, d->reg, sz, ea_k(c, d, k));
  model_ops__retire(c, d, next_rip(c, d));
}
#define EA_FORMS(X, k, s)                                                                          \
  X(mov_load8##s, load_k(c, d, k, 8, false, 8))                                                    \
  X(mov_load4##s, load_k(c, d, k, 4, false, 4))                                                    \
  X(movzb_m4##s, load_k(c, d, k, 1, false, 4))                                                     \
  X(movzw_m4##s, load_k(c, d, k, 2, false, 4))                                                     \
  X(mov_store8##s, store_k(c, d, k, 8))                                                            \
  X(mov_store4##s, store_k(c, d, k, 4))                                                            \
  X(mov_store2##s, store_k(c, d, k, 2))                                                            \
  X(mov_store1##s, store_k(c, d, k, 1))                                                            \
  X(cmp_gm8##s, alu_gm_k(c, d, k, 7, 8))                                                           \
  X(xor_gm4##s, alu_gm_k(c, d, k, 6, 4))                                                           \
  X(lea8##s, lea_k(c, d, k, 8))                                                                    \
  X(lea4##s, lea_k(c, d, k, 4))

#define MORE_ALU1(X, aop, nm) X(nm##_ri1, alu_ri1(c, d, aop))
#define MORE_ADCSBB(X, aop, nm, sz)                                                                \
  X(nm##_eg_r##sz, alu_rr(c, d, aop, sz, d->rm, d->reg, true))                                     \
  X(nm##_ge_r##sz, alu_rr(c, d, aop, sz, d->reg, d->rm, true))

#define HANDLERS_MORE(X)                                                                           \
  MORE_ALU1(X, 0, add)                                                                             \
  MORE_ALU1(X, 1, or)                                                                              \
  MORE_ALU1(X, 4, and)                                                                             \
  MORE_ALU1(X, 5, sub)                                                                             \
  MORE_ALU1(X, 6, xor)                                                                             \
  MORE_ALU1(X, 7, cmp)                                                                             \
  MORE_ADCSBB(X, 2, adc, 4)                                                                        \
  MORE_ADCSBB(X, 2, adc, 8)                                                                        \
  MORE_ADCSBB(X, 3, sbb, 4)                                                                        \
  MORE_ADCSBB(X, 3, sbb, 8)                                                                        \
  X(cmp_gm1, cmp_m1(c, d, true))                                                                   \
  X(cmp_mg1, cmp_m1(c, d, false))                                                                  \
  X(cmp_ai1, alu_ai1(c, d, 7))                                                                     \
  X(test_ai1, alu_ai1(c, d, 4))                                                                    \
  X(test_mi1, test_mi1(c, d))                                                                      \
  X(rol_i2, shift_ri2(c, d, 0))                                                                    \
  X(ror_i2, shift_ri2(c, d, 1))                                                                    \
  X(shl_i2, shift_ri2(c, d, 4))                                                                    \
  X(shr_i2, shift_ri2(c, d, 5))                                                                    \
  X(sar_i2, shift_ri2(c, d, 7))                                                                    \
  X(not_r4, not_r(c, d, 4))                                                                        \
  X(not_r8, not_r(c, d, 8))                                                                        \
  X(neg_r4, neg_r(c, d, 4))                                                                        \
  X(neg_r8, neg_r(c, d, 8))                                                                        \
  X(mov_store2, mov_store(c, d, 2, c->gpr[d->reg]))                                                \
  X(mov_store_imm1, mov_store(c, d, 1, d->imm))                                                    \
  EA_FORMS(X, EA_BD, _bd)                                                                          \
  EA_FORMS(X, EA_BISD, _bisd)

#endif
