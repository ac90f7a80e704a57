/* model_ops.h - the operand, flag and stack primitives of the model CPU's
 * instructions, shared by the generic interpreter (model_exec.c) and the
 * specialised handlers of the common forms (model_dispatch.c): one
 * definition of each semantic, so both paths compute the same state. */
#ifndef REFVMM_MODEL_OPS_H
#define REFVMM_MODEL_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "model_cpu.h"
#include "model_insn.h"
#include "model_mmu.h"

#define MASK(sz) ((sz) == 8 ? ~0ull : (1ull << ((sz)*8)) - 1)

static inline uint64_t sxt(uint64_t v, unsigned sz) {
  unsigned sh = 64 - 8 * sz;
  return (uint64_t)((int64_t)(v << sh) >> sh);
}

/* ---- registers ------------------------------------------------------------------ */
static inline __attribute__((always_inline)) uint64_t rd_reg(const struct model_cpu *c, unsigned r,
                                                             unsigned sz, unsigned rex) {
  switch (sz) {
  case 1:
    if (!rex && r >= 4 && r < 8) return (c->gpr[r - 4] >> 8) & 0xff;
    return c->gpr[r] & 0xff;
  case 2:
    return c->gpr[r] & 0xffff;
  case 4:
    return c->gpr[r] & 0xffffffffull;
  default:
    return c->gpr[r];
  }
}

static inline __attribute__((always_inline)) void wr_reg(struct model_cpu *c, unsigned r,
                                                         unsigned sz, unsigned rex, uint64_t v) {
  switch (sz) {
  case 1:
    if (!rex && r >= 4 && r < 8)
      c->gpr[r - 4] = (c->gpr[r - 4] & ~0xff00ull) | ((v & 0xff) << 8);
    else
      c->gpr[r] = (c->gpr[r] & ~0xffull) | (v & 0xff);
    return;
  case 2:
    c->gpr[r] = (c->gpr[r] & ~0xffffull) | (v & 0xffff);
    return;
  case 4:
    c->gpr[r] = v & 0xffffffffull;
    return;
  default:
    c->gpr[r] = v;
    return;
  }
}

/* The memory operand's offset, what LEA loads: base + index << scale + disp
 * (RIP-relative: from the next RIP) in the address size; no segment base */
static inline __attribute__((always_inline)) uint64_t lea_of(const struct model_cpu *c,
                                                             const struct model_insn *d) {
  uint64_t a = (uint64_t)d->disp;
  if (d->riprel)
    a += c->rip + d->len;
  else {
    if (d->base != MODEL_NOREG) a += c->gpr[d->base];
    if (d->index != MODEL_NOREG) a += c->gpr[d->index] << d->scale;
  }
  return d->asz == 4 ? (uint32_t)a : a;
}

/* The memory operand's linear address (FS/GS base added) */
static inline __attribute__((always_inline)) uint64_t ea_of(const struct model_cpu *c,
                                                            const struct model_insn *d) {
  uint64_t a = lea_of(c, d);
  if (d->seg) a += c->seg[d->seg].base;
  return a;
}

/* ---- flags ---------------------------------------------------------------------- */
static inline __attribute__((always_inline)) uint64_t szp(uint64_t r, unsigned sz) {
  uint64_t f = __builtin_parity((unsigned)(r & 0xff)) ? 0 : RF_PF;
  if (!r) f |= RF_ZF;
  f |= ((r >> (sz * 8 - 1)) & 1) ? RF_SF : 0;
  return f;
}

static inline __attribute__((always_inline)) void set_arith(struct model_cpu *c, uint64_t f) {
  c->rflags = (c->rflags & ~RF_ARITH) | f;
}

/* The eight ALU operations of the 00-3F rows and group 1, on masked inputs:
 * the result, and the arithmetic flags in *fl (the portable definition;
 * model_ops__alu_c: the tests compare the host path below with it). */
static inline __attribute__((always_inline)) uint64_t
model_ops__alu_c(uint64_t cf, unsigned op, uint64_t a, uint64_t b, unsigned sz, uint64_t *fl) {
  uint64_t m = MASK(sz), r, f;
  unsigned sb = sz * 8 - 1;
  switch (op & 7) {
  case 0: /* ADD */
    r = (a + b) & m;
    f = (r < a) | ((((a ^ r) & (b ^ r)) >> sb) & 1) << 11 | ((a ^ b ^ r) & 0x10);
    break;
  case 2: /* ADC */
    r = (a + b + cf) & m;
    f = (cf ? r <= a : r < a) | ((((a ^ r) & (b ^ r)) >> sb) & 1) << 11 | ((a ^ b ^ r) & 0x10);
    break;
  case 3: /* SBB */
    r = (a - b - cf) & m;
    f = (cf ? a <= b : a < b) | ((((a ^ b) & (a ^ r)) >> sb) & 1) << 11 | ((a ^ b ^ r) & 0x10);
    break;
  case 5: /* SUB */
  case 7: /* CMP */
    r = (a - b) & m;
    f = (a < b) | ((((a ^ b) & (a ^ r)) >> sb) & 1) << 11 | ((a ^ b ^ r) & 0x10);
    break;
  case 1:
    r = a | b;
    f = 0;
    break;
  case 4:
    r = a & b;
    f = 0;
    break;
  default:
    r = a ^ b;
    f = 0;
    break; /* 6: XOR */
  }
  *fl = f | szp(r, sz);
  return r;
}

/* speed: on an x86-64 host ADD, SUB, CMP, AND, OR and XOR run as the host's
 * own instruction of the same size and the flags are read back with LAHF
 * (SF ZF AF PF CF, at their RFLAGS positions) and SETO: a third of the host
 * instructions of the C definition. Only flags the SDM defines for these
 * operations are taken: for AND, OR, XOR, AF is undefined (the model's is
 * 0) and CF and OF are 0. ADC and SBB stay in C. */
#if defined(__x86_64__) && !defined(MODEL_OPS_NO_HOST_FLAGS)
#define MODEL_OPS_HOST_FLAGS 1
/* r = r OP b in the host's size sfx (b, w, l, q with operand modifier m),
 * fl = AH:AL after LAHF and SETO */
#define HOST_OP(mn, sfx, m, r, b, fl)                                                              \
  __asm__(mn sfx " %" m "[b], %" m "[r]\n\tlahf\n\tseto %%al"                                      \
          : [r] "+r"(r), "=&a"(fl)                                                                 \
          : [b] "r"(b)                                                                             \
          : "cc")
#define HOST_OP_SIZES(mn, r, b, fl, sz)                                                            \
  do {                                                                                             \
    if ((sz) == 8)                                                                                 \
      HOST_OP(mn, "q", "q", r, b, fl);                                                             \
    else if ((sz) == 4)                                                                            \
      HOST_OP(mn, "l", "k", r, b, fl);                                                             \
    else if ((sz) == 2)                                                                            \
      HOST_OP(mn, "w", "w", r, b, fl);                                                             \
    else                                                                                           \
      HOST_OP(mn, "b", "b", r, b, fl);                                                             \
  } while (0)
#endif

static inline __attribute__((always_inline)) uint64_t alu(struct model_cpu *c, unsigned op,
                                                          uint64_t a, uint64_t b, unsigned sz) {
  uint64_t f;
#ifdef MODEL_OPS_HOST_FLAGS
  uint64_t r = a;
  uint16_t hf;
  switch (op & 7) {
  case 0:
    HOST_OP_SIZES("add", r, b, hf, sz);
    break;
  case 5:
    HOST_OP_SIZES("sub", r, b, hf, sz);
    break;
  case 7: /* CMP: the flags of SUB, r is not stored */
    HOST_OP_SIZES("cmp", r, b, hf, sz);
    break;
  case 1:
    HOST_OP_SIZES("or", r, b, hf, sz);
    break;
  case 4:
    HOST_OP_SIZES("and", r, b, hf, sz);
    break;
  case 6:
    HOST_OP_SIZES("xor", r, b, hf, sz);
    break;
  default: /* ADC, SBB */
    r = model_ops__alu_c(c->rflags & RF_CF, op, a, b, sz, &f);
    set_arith(c, f);
    return r;
  }
  if ((op & 7) == 0 || (op & 7) == 5 || (op & 7) == 7)
    f = ((hf >> 8) & (RF_SF | RF_ZF | RF_AF | RF_PF | RF_CF)) | (uint64_t)(hf & 1) << 11;
  else
    f = (hf >> 8) & (RF_SF | RF_ZF | RF_PF);
  set_arith(c, f);
  return r;
#else
  uint64_t r = model_ops__alu_c(c->rflags & RF_CF, op, a, b, sz, &f);
  set_arith(c, f);
  return r;
#endif
}

static inline bool cond(const struct model_cpu *c, unsigned cc) {
  uint64_t f = c->rflags;
  bool r;
  switch (cc >> 1) {
  case 0:
    r = f & RF_OF;
    break;
  case 1:
    r = f & RF_CF;
    break;
  case 2:
    r = f & RF_ZF;
    break;
  case 3:
    r = f & (RF_CF | RF_ZF);
    break;
  case 4:
    r = f & RF_SF;
    break;
  case 5:
    r = f & RF_PF;
    break;
  case 6:
    r = !(f & RF_SF) != !(f & RF_OF);
    break;
  default:
    r = (f & RF_ZF) || (!(f & RF_SF) != !(f & RF_OF));
    break;
  }
  return (cc & 1) ? !r : r;
}

static inline __attribute__((always_inline)) uint64_t shift(struct model_cpu *c, unsigned op,
                                                            uint64_t a, unsigned cnt, unsigned sz) {
  unsigned bits = sz * 8, sb = bits - 1;
  uint64_t m = MASK(sz), r = a, f = c->rflags;
  cnt &= sz == 8 ? 63 : 31;
  if (!cnt) return a;
  uint64_t cf;
  switch (op & 7) {
  case 0: { /* ROL */
    unsigned n = cnt % bits;
    if (n) r = ((a << n) | (a >> (bits - n))) & m;
    cf = r & 1;
    f = (f & ~(RF_CF | RF_OF)) | cf | ((((r >> sb) ^ cf) & 1) << 11);
    c->rflags = f;
    return r;
  }
  case 1: { /* ROR */
    unsigned n = cnt % bits;
    if (n) r = ((a >> n) | (a << (bits - n))) & m;
    cf = (r >> sb) & 1;
    f = (f & ~(RF_CF | RF_OF)) | cf | ((((r >> sb) ^ (r >> (sb - 1))) & 1) << 11);
    c->rflags = f;
    return r;
  }
  case 2: { /* RCL */
    unsigned n = sz < 4 ? cnt % (bits + 1) : cnt;
    cf = f & RF_CF;
    for (unsigned i = 0; i < n; i++) {
      uint64_t nc = (r >> sb) & 1;
      r = ((r << 1) | cf) & m;
      cf = nc;
    }
    c->rflags = (f & ~(RF_CF | RF_OF)) | cf | ((((r >> sb) ^ cf) & 1) << 11);
    return r;
  }
  case 3: { /* RCR */
    unsigned n = sz < 4 ? cnt % (bits + 1) : cnt;
    cf = f & RF_CF;
    for (unsigned i = 0; i < n; i++) {
      uint64_t nc = r & 1;
      r = (r >> 1) | (cf << sb);
      cf = nc;
    }
    c->rflags = (f & ~(RF_CF | RF_OF)) | cf | ((((r >> sb) ^ (r >> (sb - 1))) & 1) << 11);
    return r;
  }
  case 4:
  case 6: /* SHL/SAL */
    r = (a << cnt) & m;
    cf = ((a << (cnt - 1)) >> sb) & 1;
    set_arith(c, cf | szp(r, sz) | ((((r >> sb) ^ cf) & 1) << 11));
    return r;
  case 5: /* SHR */
    r = a >> cnt;
    cf = (a >> (cnt - 1)) & 1;
    set_arith(c, cf | szp(r, sz) | (((a >> sb) & 1) << 11));
    return r;
  default: { /* SAR */
    int64_t s = (int64_t)sxt(a, sz);
    r = (uint64_t)(s >> (cnt > 63 ? 63 : cnt)) & m;
    cf = (uint64_t)(s >> (cnt - 1)) & 1;
    set_arith(c, cf | szp(r, sz));
    return r;
  }
  }
}

/* INC (dec false) / DEC: the result, and in *f the arithmetic flags to set
 * once the result is stored (CF unchanged) */
static inline uint64_t incdec(const struct model_cpu *c, bool dec, uint64_t a, unsigned sz,
                              uint64_t *f) {
  uint64_t r = (dec ? a - 1 : a + 1) & MASK(sz);
  uint64_t sbit = 1ull << (sz * 8 - 1);
  *f = (c->rflags & RF_CF) | szp(r, sz) | ((a ^ 1 ^ r) & 0x10);
  if ((!dec && r == sbit) || (dec && a == sbit)) *f |= RF_OF;
  return r;
}

/* The read of a read-modify-write operand: the access is checked as a write
 * (a #PF says W) */
static inline uint64_t rmw_read(struct model_cpu *c, uint64_t va, unsigned len) {
  const struct model_tlb_entry *e = &c->tlb[(va >> 12) & (MODEL_TLB_SIZE - 1)];
  unsigned need = c->cpl == 3 ? (TLBP_W << 3) : TLBP_W;
  if (!(e->tag == model_tlb__tag(c, va) && (e->perm & need))) {
    model_mmu__translate_probe(c, va, model__uacc(c) | ACC_W);
    if ((va & 0xfff) + len > 4096)
      model_mmu__translate_probe(c, va + len - 1, model__uacc(c) | ACC_W);
  }
  return model_mem__read(c, va, len);
}

/* ---- stack ---------------------------------------------------------------------- */
static inline void push(struct model_cpu *c, uint64_t v, unsigned sz) {
  uint64_t sp = c->gpr[4] - sz;
  model_mem__write(c, sp, sz, v);
  c->gpr[4] = sp;
}

static inline uint64_t pop(struct model_cpu *c, unsigned sz) {
  uint64_t v = model_mem__read(c, c->gpr[4], sz);
  c->gpr[4] += sz;
  return v;
}

/* Count a retired instruction by class and by the kind of the instruction
 * right before it when it reads a register that one wrote (the cost
 * model's dependency feature; model_deps.c says which reads count): the
 * slot of cnt.by_class (flattened: class * MODEL_DEP_COUNT + kind) of d
 * retired after an instruction whose dep_out was prev. */
static inline __attribute__((always_inline)) unsigned
model_ops__class_slot(const struct model_insn *d, uint32_t prev) {
  uint32_t waits = -(uint32_t)((d->rd & prev & 0xffffffu) != 0); /* branch-free: unpredictable */
  return d->iclass * MODEL_DEP_COUNT + ((prev >> MODEL_DEP_KIND_SHIFT) & waits);
}
static inline __attribute__((always_inline)) void retire_count(struct model_cpu *c,
                                                               const struct model_insn *d) {
  c->cnt.by_class_flat[model_ops__class_slot(d, c->dep_prev)]++;
  c->dep_prev = d->dep_out;
}

/* Commit an instruction retired by a handler of the threaded dispatch: RIP
 * and the instruction count. Its count by class (retire_count's) is made by
 * the dispatch right after the handler, from the slot it remembered for
 * this transition (model_dispatch.c). d is the instruction retired. */
static inline __attribute__((always_inline)) void
model_ops__retire(struct model_cpu *c, const struct model_insn *d, uint64_t nrip) {
  (void)d;
  c->rip = nrip;
  c->cnt.instructions++;
}

#endif
