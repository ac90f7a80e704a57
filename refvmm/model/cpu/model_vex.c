/* model_vex.c - the VEX prefix and the BMI1/BMI2 instructions (model_vex.h).
 *
 * Semantics from the Intel SDM vol. 2 pages of each instruction. All are
 * VEX.LZ (L = 1 is #UD), operate on 32-bit (VEX.W0) or 64-bit (VEX.W1)
 * general registers, write only registers (a 32-bit destination is
 * zero-extended), and leave AF and PF (undefined where they are affected)
 * clear. */
#include "model_vex.h"

#include "model_cpu.h"
#include "model_events.h"
#include "model_mmu.h"

int model_vex__decode(const uint8_t *buf, unsigned avail, unsigned *i, struct model_insn *d,
                      int legacy) {
  unsigned at = *i, len = buf[at] == 0xc4 ? 3 : 2;
  if (at + len + 1 > 15) return -2; /* longer than an instruction may be: #GP */
  if (at + len + 1 > avail) return -1;
  unsigned r, x = 1, b = 1, map = 1, w = 0, vvvv, l, pp;
  if (len == 3) {
    uint8_t b1 = buf[at + 1], b2 = buf[at + 2];
    r = b1 >> 7, x = (b1 >> 6) & 1, b = (b1 >> 5) & 1, map = b1 & 0x1f;
    w = b2 >> 7, vvvv = (b2 >> 3) & 0xf, l = (b2 >> 2) & 1, pp = b2 & 3;
  } else {
    uint8_t b1 = buf[at + 1];
    r = b1 >> 7, vvvv = (b1 >> 3) & 0xf, l = (b1 >> 2) & 1, pp = b1 & 3;
  }
  uint8_t opc = buf[at + len];
  *i = at + len + 1;
  /* R, X, B and vvvv are stored inverted */
  d->rex = (uint8_t)(0x40 | w << 3 | (r ^ 1) << 2 | (x ^ 1) << 1 | (b ^ 1));
  d->vvvv = (uint8_t)(vvvv ^ 0xf);
  d->vex = (uint8_t)(VEX_PRESENT | (l ? VEX_L : 0) | pp);
  /* a legacy prefix or REX before VEX, or VEX.L=1 on these GPR instructions */
  int ud = legacy || l ? VEX_DEC_UD : 0;
  switch (map) {
  case 2: /* 0F38 */
    d->op = (uint16_t)(VEX_OP_0F38 + opc);
    switch (opc) {
    case 0xf2: /* ANDN */
    case 0xf3: /* BLSR, BLSMSK, BLSI (ModRM.reg) */
      return pp == 0 ? ud : VEX_DEC_UD;
    case 0xf5: /* BZHI, PEXT, PDEP */
      return pp != 1 ? ud : VEX_DEC_UD;
    case 0xf6: /* MULX */
      return pp == 3 ? ud : VEX_DEC_UD;
    case 0xf7: /* BEXTR, SHLX, SARX, SHRX */
      return ud;
    default:
      return VEX_DEC_UD;
    }
  case 3: /* 0F3A: RORX, whose vvvv must be 1111b */
    d->op = (uint16_t)(VEX_OP_0F3A + opc);
    return VEX_DEC_IMM8 | (opc == 0xf0 && pp == 3 && !d->vvvv ? ud : VEX_DEC_UD);
  default: /* map 0F (AVX only) and reserved maps: their lengths as if a ModRM followed */
    d->op = (uint16_t)(VEX_OP_0F38 + opc);
    return VEX_DEC_UD;
  }
}

static inline uint64_t mask_of(unsigned sz) {
  return sz == 8 ? ~0ull : 0xffffffffull;
}

/* SF and ZF of a result, the other arithmetic flags as given */
static inline void flags_sz(struct model_cpu *c, uint64_t r, unsigned sz, uint64_t others) {
  uint64_t f = others;
  if (!r) f |= RF_ZF;
  if ((r >> (sz * 8 - 1)) & 1) f |= RF_SF;
  c->rflags = (c->rflags & ~RF_ARITH) | f;
}

static uint64_t pdep(uint64_t src, uint64_t mask) {
  uint64_t r = 0;
  for (uint64_t bit = 1; mask; bit <<= 1) {
    uint64_t low = mask & -mask; /* the lowest set bit of the mask */
    if (src & bit) r |= low;
    mask ^= low;
  }
  return r;
}

static uint64_t pext(uint64_t src, uint64_t mask) {
  uint64_t r = 0;
  for (uint64_t bit = 1; mask; bit <<= 1) {
    uint64_t low = mask & -mask;
    if (src & low) r |= bit;
    mask ^= low;
  }
  return r;
}

void model_vex__exec(struct model_cpu *c, const struct model_insn *d, uint64_t addr) {
  unsigned sz = d->osz, bits = sz * 8, pp = VEX_PP(d->vex), reg = d->reg;
  uint64_t m = mask_of(sz);
  /* the ModRM r/m operand (register or memory) and the VEX.vvvv register */
  uint64_t e = d->mod3 ? c->gpr[d->rm] & m : model_mem__read(c, addr, sz);
  uint64_t v = c->gpr[d->vvvv] & m, r;
  switch (d->op) {
  case VEX_OP_0F38 + 0xf2: /* ANDN Gy, By, Ey */
    r = ~v & e & m;
    flags_sz(c, r, sz, 0);
    c->gpr[reg] = r;
    return;
  case VEX_OP_0F38 + 0xf3: /* group 17: BLSR / BLSMSK / BLSI By, Ey */
    switch (reg & 7) {
    case 1: /* BLSR: reset the lowest set bit */
      r = (e - 1) & e & m;
      flags_sz(c, r, sz, e ? 0 : RF_CF);
      break;
    case 2: /* BLSMSK: mask up to the lowest set bit; ZF is cleared */
      r = ((e - 1) ^ e) & m;
      flags_sz(c, r, sz, e ? 0 : RF_CF);
      c->rflags &= ~RF_ZF;
      break;
    case 3: /* BLSI: isolate the lowest set bit */
      r = (0 - e) & e & m;
      flags_sz(c, r, sz, e ? RF_CF : 0);
      break;
    default:
      model__ud(c);
    }
    c->gpr[d->vvvv] = r;
    return;
  case VEX_OP_0F38 + 0xf5:
    if (pp == 0) { /* BZHI Gy, Ey, By: zero the bits from index By[7:0] up */
      unsigned n = (unsigned)(v & 0xff);
      r = n < bits ? e & ((1ull << n) - 1) : e;
      flags_sz(c, r, sz, n > bits - 1 ? RF_CF : 0);
    } else if (pp == 2) { /* PEXT Gy, By, Ey */
      r = pext(v, e);
    } else { /* PDEP Gy, By, Ey */
      r = pdep(v, e);
    }
    c->gpr[reg] = r & m;
    return;
  case VEX_OP_0F38 + 0xf6: { /* MULX Gy, By, Ey: RDX * Ey, high half to Gy, low to By */
    unsigned __int128 p = (unsigned __int128)(c->gpr[2] & m) * e;
    uint64_t lo = (uint64_t)p & m, hi = sz == 8 ? (uint64_t)(p >> 64) : (uint64_t)(p >> 32) & m;
    c->gpr[d->vvvv] = lo;
    c->gpr[reg] = hi; /* the same register for both: it gets the high half */
    return;
  }
  case VEX_OP_0F38 + 0xf7: {
    if (pp == 0) { /* BEXTR Gy, Ey, By: By[7:0] start, By[15:8] length */
      unsigned start = (unsigned)(v & 0xff), len = (unsigned)((v >> 8) & 0xff);
      r = start < bits ? e >> start : 0;
      if (len < bits) r &= (1ull << len) - 1;
      c->rflags = (c->rflags & ~RF_ARITH) | (r ? 0 : RF_ZF);
      c->gpr[reg] = r;
      return;
    }
    unsigned cnt = (unsigned)(v & (bits - 1)); /* SHLX / SARX / SHRX Gy, Ey, By: no flags */
    if (pp == 1)
      r = e << cnt;
    else if (pp == 2)
      r = (uint64_t)((int64_t)(e << (64 - bits)) >> (64 - bits + cnt));
    else
      r = e >> cnt;
    c->gpr[reg] = r & m;
    return;
  }
  case VEX_OP_0F3A + 0xf0: { /* RORX Gy, Ey, ib: no flags */
    unsigned cnt = (unsigned)(d->imm & (bits - 1));
    r = cnt ? (e >> cnt) | (e << (bits - cnt)) : e;
    c->gpr[reg] = r & m;
    return;
  }
  default:
    model__ud(c);
  }
}
