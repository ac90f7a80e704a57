/* model_fpu.c - x87 control, FXSAVE/FXRSTOR, MXCSR and the SSE/SSE2
 * instructions of the model CPU (model_fpu.h). Faults follow the SDM
 * (vol. 2, each instruction's exception tables): CR0.EM / CR4.OSFXSR give
 * #UD for SSE, CR0.TS gives #NM, misaligned 16-byte operands #GP(0),
 * reserved MXCSR bits #GP(0). Memory is written only after every check and
 * translation succeeded. */
#include "model_fpu.h"

#include <string.h>

#include "model_cpu.h"
#include "model_events.h"
#include "model_mmu.h"

#define CR0_MP     (1ull << 1)
#define CR0_EM     (1ull << 2)
#define CR0_TS     (1ull << 3)
#define CR4_OSFXSR (1ull << 9)

void model_fpu__reset(struct model_fpu *f) {
  memset(f, 0, sizeof *f);
  f->fcw = 0x0040; /* power-on value (SDM table 10-1); FNINIT gives FPU_FCW_INIT */
  f->mxcsr = FPU_MXCSR_INIT;
}

static uint64_t ea(const struct model_cpu *c, const struct model_insn *d) {
  uint64_t a = (uint64_t)d->disp;
  if (d->riprel)
    a += c->rip + d->len;
  else {
    if (d->base != MODEL_NOREG) a += c->gpr[d->base];
    if (d->index != MODEL_NOREG) a += c->gpr[d->index] << d->scale;
  }
  if (d->asz == 4) a = (uint32_t)a;
  if (d->seg) a += c->seg[d->seg].base;
  return a;
}

/* ---- x87 control -------------------------------------------------------------- */
static void x87_check(struct model_cpu *c) {
  if (c->cr0 & (CR0_EM | CR0_TS)) model__fault(c, X86_NM, 0, false);
}

void model_fpu__x87(struct model_cpu *c, const struct model_insn *d) {
  struct model_fpu *f = &c->fpu;
  unsigned op = d->op, g = d->reg & 7;
  if (d->mod3) {
    unsigned m = d->modrm;
    if (op == 0xdb && m == 0xe3) { /* FNINIT */
      x87_check(c);
      f->fcw = FPU_FCW_INIT;
      f->fsw = 0;
      f->ftw = 0;
      f->fop = 0;
      f->fip = f->fdp = 0;
      f->fcs = f->fds = 0;
      return;
    }
    if (op == 0xdb && m == 0xe2) { /* FNCLEX: exception flags, ES and B */
      x87_check(c);
      f->fsw &= 0x7f00;
      return;
    }
    if (op == 0xdf && m == 0xe0) { /* FNSTSW AX */
      x87_check(c);
      c->gpr[0] = (c->gpr[0] & ~0xffffull) | f->fsw;
      return;
    }
    if (op == 0xd9 && m == 0xd0) { /* FNOP */
      x87_check(c);
      return;
    }
    model__ud(c);
  }
  if (op == 0xd9 && g == 5) { /* FLDCW m16 */
    x87_check(c);
    uint64_t a = ea(c, d);
    f->fcw = (uint16_t)(model_mem__read(c, a, 2) | 0x40); /* bit 6 reads as 1 */
    return;
  }
  if (op == 0xd9 && g == 7) { /* FNSTCW m16 */
    x87_check(c);
    model_mem__write(c, ea(c, d), 2, f->fcw);
    return;
  }
  if (op == 0xdd && g == 7) { /* FNSTSW m16 */
    x87_check(c);
    model_mem__write(c, ea(c, d), 2, f->fsw);
    return;
  }
  model__ud(c); /* x87 loads, stores and arithmetic are not modeled */
}

/* ---- FXSAVE / FXRSTOR / MXCSR ------------------------------------------------------ */
/* The 512-byte image (SDM vol. 1, table 10-2); wide: the 64-bit form
 * (REX.W, FXSAVE64) with 64-bit FPU IP/DP instead of offset:selector. */
static void image_of(const struct model_cpu *c, bool wide, uint8_t img[FPU_FXSAVE_SIZE]) {
  const struct model_fpu *f = &c->fpu;
  memset(img, 0, FPU_FXSAVE_SIZE);
  memcpy(img + 0, &f->fcw, 2);
  memcpy(img + 2, &f->fsw, 2);
  img[4] = f->ftw;
  memcpy(img + 6, &f->fop, 2);
  if (wide) {
    memcpy(img + 8, &f->fip, 8);
    memcpy(img + 16, &f->fdp, 8);
  } else {
    uint32_t ip = (uint32_t)f->fip, dp = (uint32_t)f->fdp;
    memcpy(img + 8, &ip, 4);
    memcpy(img + 12, &f->fcs, 2);
    memcpy(img + 16, &dp, 4);
    memcpy(img + 20, &f->fds, 2);
  }
  bool sse = c->cr4 & CR4_OSFXSR; /* without OSFXSR the SSE part is not saved */
  if (sse) {
    uint32_t mask = FPU_MXCSR_MASK;
    memcpy(img + 24, &f->mxcsr, 4);
    memcpy(img + 28, &mask, 4);
  }
  for (int i = 0; i < 8; i++)
    memcpy(img + 32 + 16 * i, f->st[i], 10);
  if (sse)
    for (int i = 0; i < 16; i++)
      memcpy(img + 160 + 16 * i, f->xmm[i], 16);
}

static void fx_check(struct model_cpu *c, uint64_t a) {
  if (c->cr0 & (CR0_EM | CR0_TS)) model__fault(c, X86_NM, 0, false);
  if (a & 15) model__gp0(c);
}

/* Translate both ends for the access first: a fault leaves memory as it was. */
static void probe(struct model_cpu *c, uint64_t a, unsigned len, unsigned acc) {
  model_mmu__translate_probe(c, a, model__uacc(c) | acc);
  if (((a & 0xfff) + len) > 4096) model_mmu__translate_probe(c, a + len - 1, model__uacc(c) | acc);
}

static void fxsave(struct model_cpu *c, const struct model_insn *d) {
  uint64_t a = ea(c, d);
  fx_check(c, a);
  probe(c, a, FPU_FXSAVE_SIZE, ACC_W);
  uint8_t img[FPU_FXSAVE_SIZE];
  image_of(c, d->rex & 8, img);
  /* bytes 464-511 are available to software and not written */
  for (unsigned o = 0; o < 464; o += 8) {
    uint64_t v;
    memcpy(&v, img + o, 8);
    model_mem__write(c, a + o, 8, v);
  }
}

static void fxrstor(struct model_cpu *c, const struct model_insn *d) {
  uint64_t a = ea(c, d);
  fx_check(c, a);
  probe(c, a, FPU_FXSAVE_SIZE, 0);
  uint8_t img[FPU_FXSAVE_SIZE];
  for (unsigned o = 0; o < 416; o += 8) {
    uint64_t v = model_mem__read(c, a + o, 8);
    memcpy(img + o, &v, 8);
  }
  bool sse = c->cr4 & CR4_OSFXSR;
  uint32_t mxcsr;
  memcpy(&mxcsr, img + 24, 4);
  if (sse && (mxcsr & ~FPU_MXCSR_MASK)) model__gp0(c);
  struct model_fpu *f = &c->fpu;
  memcpy(&f->fcw, img + 0, 2);
  memcpy(&f->fsw, img + 2, 2);
  f->ftw = img[4];
  memcpy(&f->fop, img + 6, 2);
  f->fop &= 0x7ff;
  if (d->rex & 8) {
    memcpy(&f->fip, img + 8, 8);
    memcpy(&f->fdp, img + 16, 8);
    f->fcs = f->fds = 0;
  } else {
    uint32_t ip, dp;
    memcpy(&ip, img + 8, 4);
    memcpy(&f->fcs, img + 12, 2);
    memcpy(&dp, img + 16, 4);
    memcpy(&f->fds, img + 20, 2);
    f->fip = ip;
    f->fdp = dp;
  }
  for (int i = 0; i < 8; i++)
    memcpy(f->st[i], img + 32 + 16 * i, 10);
  if (sse) {
    f->mxcsr = mxcsr;
    for (int i = 0; i < 16; i++)
      memcpy(f->xmm[i], img + 160 + 16 * i, 16);
  }
}

static void sse_check(struct model_cpu *c) {
  if ((c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR)) model__ud(c);
  if (c->cr0 & CR0_TS) model__fault(c, X86_NM, 0, false);
}

void model_fpu__group15(struct model_cpu *c, const struct model_insn *d) {
  switch (d->reg & 7) {
  case 0:
    fxsave(c, d);
    break;
  case 1:
    fxrstor(c, d);
    break;
  case 2: { /* LDMXCSR m32 */
    sse_check(c);
    uint32_t v = (uint32_t)model_mem__read(c, ea(c, d), 4);
    if (v & ~FPU_MXCSR_MASK) model__gp0(c);
    c->fpu.mxcsr = v;
    break;
  }
  default: /* 3: STMXCSR m32 */
    sse_check(c);
    model_mem__write(c, ea(c, d), 4, c->fpu.mxcsr);
    break;
  }
}

/* ---- SSE / SSE2 ---------------------------------------------------------------------- */
enum { P_NONE, P_66, P_F3, P_F2 };

static unsigned prefix_of(const struct model_insn *d) {
  return d->rep == 0xf3 ? P_F3 : d->rep == 0xf2 ? P_F2 : d->osz66 ? P_66 : P_NONE;
}

/* The 128-bit operand at ModRM.rm: a register, or memory (aligned when
 * `align`: #GP(0) otherwise). */
static void rd128(struct model_cpu *c, const struct model_insn *d, bool align, uint64_t v[2]) {
  if (d->mod3) {
    v[0] = c->fpu.xmm[d->rm][0];
    v[1] = c->fpu.xmm[d->rm][1];
    return;
  }
  uint64_t a = ea(c, d);
  if (align && (a & 15)) model__gp0(c);
  probe(c, a, 16, 0);
  v[0] = model_mem__read(c, a, 8);
  v[1] = model_mem__read(c, a + 8, 8);
}

static void wr128_mem(struct model_cpu *c, const struct model_insn *d, bool align,
                      const uint64_t v[2]) {
  uint64_t a = ea(c, d);
  if (align && (a & 15)) model__gp0(c);
  probe(c, a, 16, ACC_W);
  model_mem__write(c, a, 8, v[0]);
  model_mem__write(c, a + 8, 8, v[1]);
}

static void wr128(struct model_cpu *c, const struct model_insn *d, bool align,
                  const uint64_t v[2]) {
  if (d->mod3) {
    c->fpu.xmm[d->rm][0] = v[0];
    c->fpu.xmm[d->rm][1] = v[1];
  } else {
    wr128_mem(c, d, align, v);
  }
}

int model_fpu__sse(struct model_cpu *c, const struct model_insn *d) {
  unsigned p = prefix_of(d), op = d->op & 0xff;
  uint64_t *x = c->fpu.xmm[d->reg];
  uint64_t v[2];
  switch (op) {
  case 0x10:
  case 0x11: { /* MOVUPS/MOVUPD (none, 66), MOVSS (F3), MOVSD (F2) */
    sse_check(c);
    bool load = op == 0x10;
    if (p == P_NONE || p == P_66) {
      if (load) {
        rd128(c, d, false, v);
        x[0] = v[0], x[1] = v[1];
      } else {
        v[0] = x[0], v[1] = x[1];
        wr128(c, d, false, v);
      }
      return 0;
    }
    unsigned sz = p == P_F3 ? 4 : 8;
    uint64_t m = sz == 4 ? 0xffffffffull : ~0ull;
    if (d->mod3) {
      uint64_t *src = load ? c->fpu.xmm[d->rm] : x, *dst = load ? x : c->fpu.xmm[d->rm];
      dst[0] = (dst[0] & ~m) | (src[0] & m); /* register to register: the rest stays */
    } else if (load) {
      x[0] = model_mem__read(c, ea(c, d), sz); /* from memory: the rest is zeroed */
      x[1] = 0;
    } else {
      model_mem__write(c, ea(c, d), sz, x[0] & m);
    }
    return 0;
  }
  case 0x28:
  case 0x29: /* MOVAPS / MOVAPD */
    if (p != P_NONE && p != P_66) return -1;
    sse_check(c);
    if (op == 0x28) {
      rd128(c, d, true, v);
      x[0] = v[0], x[1] = v[1];
    } else {
      v[0] = x[0], v[1] = x[1];
      wr128(c, d, true, v);
    }
    return 0;
  case 0x2b: /* MOVNTPS / MOVNTPD: a non-temporal hint, memory only */
    if ((p != P_NONE && p != P_66) || d->mod3) return -1;
    sse_check(c);
    v[0] = x[0], v[1] = x[1];
    wr128_mem(c, d, true, v);
    return 0;
  case 0x54:
  case 0x55:
  case 0x56:
  case 0x57:   /* ANDPS ANDNPS ORPS XORPS (and the PD forms) */
  case 0xdb:   /* PAND */
  case 0xdf:   /* PANDN */
  case 0xeb:   /* POR */
  case 0xef: { /* PXOR */
    bool pint = op >= 0xdb;
    if (pint ? p != P_66 : (p != P_NONE && p != P_66)) return -1;
    sse_check(c);
    rd128(c, d, true, v);
    for (int i = 0; i < 2; i++) {
      switch (op) {
      case 0x54:
      case 0xdb:
        x[i] &= v[i];
        break;
      case 0x55:
      case 0xdf:
        x[i] = ~x[i] & v[i];
        break;
      case 0x56:
      case 0xeb:
        x[i] |= v[i];
        break;
      default:
        x[i] ^= v[i];
        break;
      }
    }
    return 0;
  }
  case 0x6e: /* MOVD/MOVQ xmm, r/m32/64 (66) */
    if (p != P_66) return -1;
    sse_check(c);
    if (d->rex & 8)
      x[0] = d->mod3 ? c->gpr[d->rm] : model_mem__read(c, ea(c, d), 8);
    else
      x[0] = d->mod3 ? (uint32_t)c->gpr[d->rm] : model_mem__read(c, ea(c, d), 4);
    x[1] = 0;
    return 0;
  case 0x7e:
    if (p == P_66) { /* MOVD/MOVQ r/m32/64, xmm */
      sse_check(c);
      unsigned sz = (d->rex & 8) ? 8 : 4;
      uint64_t val = sz == 8 ? x[0] : (uint32_t)x[0];
      if (d->mod3)
        c->gpr[d->rm] = val;
      else
        model_mem__write(c, ea(c, d), sz, val);
      return 0;
    }
    if (p == P_F3) { /* MOVQ xmm, xmm/m64 */
      sse_check(c);
      uint64_t val = d->mod3 ? c->fpu.xmm[d->rm][0] : model_mem__read(c, ea(c, d), 8);
      x[0] = val;
      x[1] = 0;
      return 0;
    }
    return -1;
  case 0x6f:
  case 0x7f: /* MOVDQA (66), MOVDQU (F3) */
    if (p != P_66 && p != P_F3) return -1;
    sse_check(c);
    if (op == 0x6f) {
      rd128(c, d, p == P_66, v);
      x[0] = v[0], x[1] = v[1];
    } else {
      v[0] = x[0], v[1] = x[1];
      wr128(c, d, p == P_66, v);
    }
    return 0;
  case 0xd6: /* MOVQ xmm/m64, xmm (66) */
    if (p != P_66) return -1;
    sse_check(c);
    if (d->mod3) {
      c->fpu.xmm[d->rm][0] = x[0];
      c->fpu.xmm[d->rm][1] = 0;
    } else {
      model_mem__write(c, ea(c, d), 8, x[0]);
    }
    return 0;
  case 0xe7: /* MOVNTDQ m128, xmm (66) */
    if (p != P_66 || d->mod3) return -1;
    sse_check(c);
    v[0] = x[0], v[1] = x[1];
    wr128_mem(c, d, true, v);
    return 0;
  case 0xc3: { /* MOVNTI m32/64, r32/64 (SSE2, no prefix) */
    if (p != P_NONE || d->mod3) return -1;
    unsigned sz = (d->rex & 8) ? 8 : 4;
    model_mem__write(c, ea(c, d), sz, sz == 8 ? c->gpr[d->reg] : (uint32_t)c->gpr[d->reg]);
    return 0;
  }
  default:
    return -1;
  }
}
