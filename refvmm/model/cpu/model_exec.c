/* model_exec.c - the model CPU's interpreter: the run loop with its
 * decoded-instruction cache, and the semantics of every modeled instruction
 * (integer ALU with exact flags, shifts/rotates, multiply/divide, string
 * operations, control transfer, stack, and the system instructions).
 *
 * An instruction either retires (RIP and counters committed at the end of
 * exec()) or faults: model__fault() longjmps back to model_cpu__run() before
 * anything but earlier memory writes of REP iterations became visible.
 * Handlers write memory before registers so a faulting store leaves the
 * registers as they were.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_cpu.h"
#include "model_dispatch.h"
#include "model_events.h"
#include "model_fpu.h"
#include "model_insn.h"
#include "model_mmu.h"
#include "model_msr.h"
#include "model_ops.h"
#include "model_strio.h"
#include "model_sys.h"
#include "model_vex.h"

#define REP_CHUNK 65536u /* string iterations per execution before yielding */

static uint64_t shxd(struct model_cpu *c, bool left, uint64_t dst, uint64_t src, unsigned cnt,
                     unsigned sz) {
  unsigned bits = sz * 8, sb = bits - 1;
  uint64_t m = MASK(sz), r, cf;
  cnt &= sz == 8 ? 63 : 31;
  if (!cnt) return dst;
  if (left) {
    unsigned __int128 t = ((unsigned __int128)dst << bits) | src;
    t <<= cnt;
    r = (uint64_t)(t >> bits) & m;
    cf = cnt <= bits ? (dst >> (bits - cnt)) & 1 : 0; /* last bit out of dst */
  } else {
    unsigned __int128 t = ((unsigned __int128)src << bits) | dst;
    cf = (uint64_t)(t >> (cnt - 1)) & 1;
    t >>= cnt;
    r = (uint64_t)t & m;
  }
  set_arith(c, cf | szp(r, sz) | ((((r ^ dst) >> sb) & 1) << 11));
  return r;
}

/* ---- misc helpers ---------------------------------------------------------------- */
void model_cpu__flush_decoded_xlat(struct model_cpu *c) {
  c->cnt.icache_flushes++;
  c->icache_epoch++;
  if (++c->icache_gen == 0) { /* wrapped: really clear */
    if (c->icache) memset(c->icache, 0, sizeof *c->icache * MODEL_ICACHE_SIZE);
    c->icache_gen = 1;
  }
}

void model_cpu__flush_decoded(struct model_cpu *c) {
  c->code_gen++;
  model_cpu__flush_decoded_xlat(c);
}

/* RDTSC: the clock's modeled cycles, so guest timing is in modeled cycles. */
uint64_t model_cpu__tsc(const struct model_cpu *c) {
  return c->tsc_offset + model_cpu__cycles(c);
}

uint64_t model_cpu__cycles(const struct model_cpu *c) {
  return c->clock.now ? c->clock.now(c->clock.arg) : c->cnt.instructions + c->cnt.halted_cycles;
}

_Noreturn void model__internal(struct model_cpu *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->msg, sizeof c->msg, fmt, ap);
  va_end(ap);
  c->stop = MSTOP_INTERNAL;
  longjmp(c->jb, MJ_STOP);
}

static inline void check_cpl0(struct model_cpu *c) {
  if (c->cpl) model__gp0(c);
}

static inline void events_may_unblock(struct model_cpu *c) {
  if (model_events__waiting(c)) c->slice_end = 0; /* events or a window control */
}

/* RFLAGS write by POPF/IRET under the privilege rules. */
void model_cpu__write_flags(struct model_cpu *c, uint64_t v, unsigned sz, unsigned cpl) {
  uint64_t mod = RF_ARITH | RF_TF | RF_DF | RF_NT | RF_AC | RF_ID;
  uint64_t iopl = (c->rflags >> 12) & 3;
  if (cpl == 0)
    mod |= RF_IOPL | RF_IF;
  else if (cpl <= iopl)
    mod |= RF_IF;
  if (sz == 2) mod &= 0xffff;
  uint64_t old = c->rflags;
  c->rflags = ((old & ~mod) | (v & mod) | RF_FIXED) & ~(RF_RF | RF_VM | RF_VIF | RF_VIP);
  if (!(old & RF_IF) && (c->rflags & RF_IF)) events_may_unblock(c);
  if (!(old & RF_TF) && (c->rflags & RF_TF)) c->slice_end = 0; /* single-step from here */
}

static bool io_allowed(struct model_cpu *c, uint16_t port, unsigned sz) {
  if (c->cpl <= ((c->rflags >> 12) & 3)) return true;
  /* I/O permission bitmap in the TSS */
  if (c->tr.limit < 0x67) return false;
  uint16_t base = (uint16_t)model_mmu__read_slow(c, c->tr.base + 0x66, 2, 0);
  uint32_t off = base + port / 8;
  if (off + 1 > c->tr.limit) return false;
  uint16_t bits = (uint16_t)model_mmu__read_slow(c, c->tr.base + off, 2, 0);
  unsigned mask = ((1u << sz) - 1) << (port & 7);
  return !(bits & mask);
}
bool model_exec__io_allowed(struct model_cpu *c, uint16_t port, unsigned sz) {
  return io_allowed(c, port, sz);
}

/* ---- string operations ------------------------------------------------------------- */
/* Returns true when the instruction completed (false: yielded mid-REP).
 * op and sz are d's opcode and operand size, constants where string_op()
 * calls it (the per-element switches fold away). */
static inline __attribute__((always_inline)) bool
string_loop(struct model_cpu *c, const struct model_insn *d, unsigned op, unsigned sz) {
  uint64_t am = d->asz == 4 ? 0xffffffffull : ~0ull;
  int64_t step = (c->rflags & RF_DF) ? -(int64_t)sz : (int64_t)sz;
  uint64_t sbase = d->seg ? c->seg[d->seg].base : 0;
  unsigned n = 0;
  for (;;) {
    if (d->rep && (c->gpr[1] & am) == 0) return true;
    uint64_t si = c->gpr[6] & am, di = c->gpr[7] & am;
    bool cmp = false;
    switch (op) {
    case 0xa4:
    case 0xa5: /* MOVS */
      model_mem__write(c, di, sz, model_mem__read(c, si + sbase, sz));
      c->gpr[6] = (c->gpr[6] & ~am) | ((si + step) & am);
      c->gpr[7] = (c->gpr[7] & ~am) | ((di + step) & am);
      break;
    case 0xaa:
    case 0xab: /* STOS */
      model_mem__write(c, di, sz, c->gpr[0]);
      c->gpr[7] = (c->gpr[7] & ~am) | ((di + step) & am);
      break;
    case 0xac:
    case 0xad: /* LODS */
      wr_reg(c, 0, sz, 1, model_mem__read(c, si + sbase, sz));
      c->gpr[6] = (c->gpr[6] & ~am) | ((si + step) & am);
      break;
    case 0xa6:
    case 0xa7: { /* CMPS */
      uint64_t a = model_mem__read(c, si + sbase, sz), b = model_mem__read(c, di, sz);
      alu(c, 7, a, b, sz);
      c->gpr[6] = (c->gpr[6] & ~am) | ((si + step) & am);
      c->gpr[7] = (c->gpr[7] & ~am) | ((di + step) & am);
      cmp = true;
      break;
    }
    default: { /* SCAS */
      uint64_t b = model_mem__read(c, di, sz);
      alu(c, 7, rd_reg(c, 0, sz, 1), b, sz);
      c->gpr[7] = (c->gpr[7] & ~am) | ((di + step) & am);
      cmp = true;
      break;
    }
    }
    c->cnt.rep_iterations++;
    if (!d->rep) return true;
    c->gpr[1] = (c->gpr[1] & ~am) | (((c->gpr[1] & am) - 1) & am);
    if (cmp) {
      bool zf = c->rflags & RF_ZF;
      if (d->rep == 0xf3 && !zf) return true;
      if (d->rep == 0xf2 && zf) return true;
    }
    if ((c->gpr[1] & am) == 0) return true;
    if (++n >= REP_CHUNK) {
      c->slice_end = 0; /* let the run loop look at its budget and events */
      return false;
    }
  }
}

/* speed: REP MOVS and STOS (page clearing and copying in a booting kernel)
 * get a loop each per size */
static bool string_op(struct model_cpu *c, const struct model_insn *d) {
  unsigned sz = d->osz;
  switch (d->op) {
  case 0xa4:
    return string_loop(c, d, 0xa4, 1);
  case 0xa5:
    return sz == 8 ? string_loop(c, d, 0xa5, 8) : string_loop(c, d, 0xa5, sz);
  case 0xaa:
    return string_loop(c, d, 0xaa, 1);
  case 0xab:
    return sz == 8 ? string_loop(c, d, 0xab, 8) : string_loop(c, d, 0xab, sz);
  default:
    return string_loop(c, d, d->op, sz);
  }
}

/* A KVM that emulates ring 0 (kvm_pvm) counts a CPL0 REP string
 * instruction that iterates as more than one emulated instruction: one more
 * per instruction (measured there, REP MOVSB/STOSB/MOVSQ/STOSQ of 1 to 8192
 * elements; not found in KVM's source), and one each time its emulator
 * goes back to the guest mid-way, when RCX reaches a nonzero multiple of
 * 1024 (arch/x86/kvm/emulate.c: "re-enter guest ... after each 1024
 * iteration"), the instruction then being emulated again. This run of the
 * instruction took RCX from `before` to its current value; `done`: it
 * completed. */
static void rep_account(struct model_cpu *c, const struct model_insn *d, uint64_t before,
                        bool done) {
  uint64_t am = d->asz == 4 ? 0xffffffffull : ~0ull;
  uint64_t n = before & am, m = c->gpr[1] & am;
  if (n == m) return; /* RCX was 0: no iteration */
  /* RCX after each iteration ran from n-1 down to m; the emulator goes back
   * at the nonzero multiples of 1024 among them but the one it completes at */
  uint64_t lo = m ? m : 1, k = n - 1 >= lo ? (n - 1) / 1024 - (lo - 1) / 1024 : 0;
  if (done && m && m % 1024 == 0) k--;
  c->cpl_acct.rep_emulations0 += k + done;
}

/* ---- the interpreter ----------------------------------------------------------------- */
static void exec(struct model_cpu *c, const struct model_insn *d) {
  uint64_t nrip = c->rip + d->len;
  unsigned sz = d->osz, rex = d->rex, op = d->op;
  uint64_t addr = 0, a, b, r;
  c->cur = d;

#define RD_E(s) (d->mod3 ? rd_reg(c, d->rm, (s), rex) : model_mem__read(c, addr = ea_of(c, d), (s)))
  /* read-modify-write operand: the access is checked as a write (a #PF says W) */
#define RD_EW(s) (d->mod3 ? rd_reg(c, d->rm, (s), rex) : rmw_read(c, addr = ea_of(c, d), (s)))
#define WR_E(s, v)                                                                                 \
  do {                                                                                             \
    if (d->mod3)                                                                                   \
      wr_reg(c, d->rm, (s), rex, (v));                                                             \
    else                                                                                           \
      model_mem__write(c, addr, (s), (v));                                                         \
  } while (0)
#define WR_E_NEW(s, v)                                                                             \
  do {                                                                                             \
    if (d->mod3)                                                                                   \
      wr_reg(c, d->rm, (s), rex, (v));                                                             \
    else                                                                                           \
      model_mem__write(c, ea_of(c, d), (s), (v));                                                  \
  } while (0)
#define RD_G(s)    rd_reg(c, d->reg, (s), rex)
#define WR_G(s, v) wr_reg(c, d->reg, (s), rex, (v))

  switch (op) {
  /* ALU rows 00-3F */
  case 0x00:
  case 0x01:
  case 0x08:
  case 0x09:
  case 0x10:
  case 0x11:
  case 0x18:
  case 0x19:
  case 0x20:
  case 0x21:
  case 0x28:
  case 0x29:
  case 0x30:
  case 0x31:
  case 0x38:
  case 0x39: {
    unsigned aop = op >> 3;
    a = aop == 7 ? RD_E(sz) : RD_EW(sz);
    b = RD_G(sz);
    if (aop == 7) {
      alu(c, 7, a, b, sz);
      break;
    }
    uint64_t saved = c->rflags;
    r = alu(c, aop, a, b, sz);
    if (!d->mod3) { /* store first: a faulting store must not change flags */
      uint64_t nf = c->rflags;
      c->rflags = saved;
      model_mem__write(c, addr, sz, r);
      c->rflags = nf;
    } else
      wr_reg(c, d->rm, sz, rex, r);
    break;
  }
  case 0x02:
  case 0x03:
  case 0x0a:
  case 0x0b:
  case 0x12:
  case 0x13:
  case 0x1a:
  case 0x1b:
  case 0x22:
  case 0x23:
  case 0x2a:
  case 0x2b:
  case 0x32:
  case 0x33:
  case 0x3a:
  case 0x3b: {
    unsigned aop = op >> 3;
    b = RD_E(sz);
    r = alu(c, aop, RD_G(sz), b, sz);
    if (aop != 7) WR_G(sz, r);
    break;
  }
  case 0x04:
  case 0x05:
  case 0x0c:
  case 0x0d:
  case 0x14:
  case 0x15:
  case 0x1c:
  case 0x1d:
  case 0x24:
  case 0x25:
  case 0x2c:
  case 0x2d:
  case 0x34:
  case 0x35:
  case 0x3c:
  case 0x3d: {
    unsigned aop = op >> 3;
    r = alu(c, aop, rd_reg(c, 0, sz, 1), d->imm & MASK(sz), sz);
    if (aop != 7) wr_reg(c, 0, sz, 1, r);
    break;
  }
  case 0x80:
  case 0x81:
  case 0x83: {
    unsigned aop = d->reg & 7;
    a = aop == 7 ? RD_E(sz) : RD_EW(sz);
    if (aop == 7) {
      alu(c, 7, a, d->imm & MASK(sz), sz);
      break;
    }
    uint64_t saved = c->rflags;
    r = alu(c, aop, a, d->imm & MASK(sz), sz);
    if (!d->mod3) {
      uint64_t nf = c->rflags;
      c->rflags = saved;
      model_mem__write(c, addr, sz, r);
      c->rflags = nf;
    } else
      wr_reg(c, d->rm, sz, rex, r);
    break;
  }
  case 0x84:
  case 0x85:
    a = RD_E(sz);
    alu(c, 4, a, RD_G(sz), sz);
    break;
  case 0xa8:
  case 0xa9:
    alu(c, 4, rd_reg(c, 0, sz, 1), d->imm & MASK(sz), sz);
    break;

  case 0x50 ... 0x57:
    push(c, rd_reg(c, d->reg, sz, 1), sz);
    break;
  case 0x58 ... 0x5f: {
    uint64_t v = pop(c, sz);
    wr_reg(c, d->reg, sz, 1, v);
    break;
  }
  case 0x63: /* MOVSXD */
    a = RD_E(4);
    WR_G(sz, sz == 8 ? sxt(a, 4) : a);
    break;
  case 0x68:
  case 0x6a:
    push(c, d->imm, sz);
    break;
  case 0x69:
  case 0x6b:
  case 0x1af: { /* IMUL Gv, Ev(, imm) */
    a = RD_E(sz);
    int64_t x = (int64_t)sxt(a, sz), y = op == 0x1af ? (int64_t)sxt(RD_G(sz), sz) : (int64_t)d->imm;
    __int128 p = (__int128)x * y;
    r = (uint64_t)p & MASK(sz);
    bool ov = p != (__int128)(int64_t)sxt(r, sz);
    set_arith(c, (ov ? (RF_CF | RF_OF) : 0) | szp(r, sz));
    WR_G(sz, r);
    break;
  }
  case 0x6c:
  case 0x6d: /* INS */
    if (!model_strio__ins(c, d)) return;
    break;
  case 0x6e:
  case 0x6f: /* OUTS */
    if (!model_strio__outs(c, d)) return;
    break;
  case 0x70 ... 0x7f:
  case 0x180 ... 0x18f:
    if (cond(c, op & 0xf)) nrip += d->imm;
    break;

  case 0x86:
  case 0x87: /* XCHG (memory form is implicitly locked) */
    a = RD_EW(sz);
    b = RD_G(sz);
    WR_E(sz, b);
    WR_G(sz, a);
    break;
  case 0x88:
  case 0x89:
    WR_E_NEW(sz, RD_G(sz));
    break;
  case 0x8a:
  case 0x8b:
    WR_G(sz, RD_E(sz));
    break;
  case 0x8c: { /* MOV Ev, Sreg */
    unsigned s = d->reg & 7;
    if (s >= SEG_COUNT) model__ud(c);
    if (d->mod3)
      wr_reg(c, d->rm, sz == 8 ? 8 : (sz == 2 ? 2 : 4), rex, c->seg[s].sel);
    else
      model_mem__write(c, ea_of(c, d), 2, c->seg[s].sel);
    break;
  }
  case 0x8d:
    if (d->mod3) model__ud(c);
    WR_G(sz, lea_of(c, d));
    break;
  case 0x8e: { /* MOV Sreg, Ew */
    unsigned s = d->reg & 7;
    if (s == SEG_CS || s >= SEG_COUNT) model__ud(c);
    uint16_t sel = (uint16_t)RD_E(2);
    model_sys__load_seg(c, s, sel);
    if (s == SEG_SS) {
      c->shadow_icount = c->cnt.instructions + 2;
      c->shadow_valid = true;
      c->shadow_movss = true;
    }
    break;
  }
  case 0x8f: { /* POP Ev */
    if ((d->reg & 7) != 0) model__ud(c);
    uint64_t v = model_mem__read(c, c->gpr[4], sz);
    uint64_t sp = c->gpr[4];
    c->gpr[4] += sz; /* address computed with the incremented RSP */
    if (d->mod3)
      wr_reg(c, d->rm, sz, rex, v);
    else {
      uint64_t e = ea_of(c, d);
      c->gpr[4] = sp;
      model_mem__write(c, e, sz, v);
      c->gpr[4] = sp + sz;
    }
    break;
  }
  case 0x90 ... 0x97:
    if (d->reg == 0) break; /* NOP / PAUSE */
    a = rd_reg(c, d->reg, sz, 1);
    wr_reg(c, d->reg, sz, 1, rd_reg(c, 0, sz, 1));
    wr_reg(c, 0, sz, 1, a);
    break;
  case 0x98: /* CBW/CWDE/CDQE */
    wr_reg(c, 0, sz, 1, sxt(c->gpr[0], sz / 2));
    break;
  case 0x99: /* CWD/CDQ/CQO */
    wr_reg(c, 2, sz, 1, ((c->gpr[0] >> (sz * 8 - 1)) & 1) ? ~0ull : 0);
    break;
  case 0x9b:
    break;   /* FWAIT: no x87, no pending x87 exception */
  case 0x9c: /* PUSHF */
    push(c, c->rflags & ~(RF_RF | RF_VM), sz);
    break;
  case 0x9d: { /* POPF */
    uint64_t v = pop(c, sz);
    model_cpu__write_flags(c, v, sz, c->cpl);
    break;
  }
  case 0x9e: /* SAHF */
    c->rflags = (c->rflags & ~0xd5ull) | ((c->gpr[0] >> 8) & 0xd5) | RF_FIXED;
    break;
  case 0x9f: /* LAHF */
    c->gpr[0] = (c->gpr[0] & ~0xff00ull) | ((c->rflags & 0xd7) << 8);
    break;
  case 0xa0:
  case 0xa1: {
    uint64_t e = d->imm + (d->seg ? c->seg[d->seg].base : 0);
    wr_reg(c, 0, sz, 1, model_mem__read(c, e, sz));
    break;
  }
  case 0xa2:
  case 0xa3: {
    uint64_t e = d->imm + (d->seg ? c->seg[d->seg].base : 0);
    model_mem__write(c, e, sz, rd_reg(c, 0, sz, 1));
    break;
  }
  case 0xa4:
  case 0xa5:
  case 0xa6:
  case 0xa7:
  case 0xaa:
  case 0xab:
  case 0xac:
  case 0xad:
  case 0xae:
  case 0xaf:
    if (d->rep && c->cpl == 0) { /* also what an emulating KVM counts (rep_account) */
      uint64_t rcx = c->gpr[1];
      bool done = string_op(c, d);
      rep_account(c, d, rcx, done);
      if (!done) return;
      break;
    }
    if (!string_op(c, d)) return; /* yielded: restart the same instruction */
    break;
  case 0xb0 ... 0xb7:
    wr_reg(c, d->reg, 1, rex, d->imm);
    break;
  case 0xb8 ... 0xbf:
    wr_reg(c, d->reg, sz, 1, d->imm);
    break;

  case 0xc0:
  case 0xc1:
  case 0xd0:
  case 0xd1:
  case 0xd2:
  case 0xd3: {
    unsigned cnt = op <= 0xc1 ? (unsigned)d->imm : op <= 0xd1 ? 1 : (unsigned)c->gpr[1] & 0xff;
    a = RD_EW(sz);
    uint64_t saved = c->rflags;
    r = shift(c, d->reg, a, cnt, sz);
    if (!d->mod3) {
      uint64_t nf = c->rflags;
      c->rflags = saved;
      model_mem__write(c, addr, sz, r);
      c->rflags = nf;
    } else
      wr_reg(c, d->rm, sz, rex, r);
    break;
  }
  case 0xc2:
  case 0xc3: {
    uint64_t t = pop(c, sz);
    c->gpr[4] += op == 0xc2 ? d->imm : 0;
    nrip = sz == 2 ? (t & 0xffff) : t;
    break;
  }
  case 0xc6:
  case 0xc7:
    if ((d->reg & 7) != 0) model__ud(c);
    WR_E_NEW(sz, d->imm);
    break;
  case 0xc8: { /* ENTER */
    unsigned level = d->imm2 & 31;
    uint64_t rbp = c->gpr[5], sp = c->gpr[4] - sz;
    model_mem__write(c, sp, sz, rbp);
    uint64_t frame = sp;
    for (unsigned i = 1; i < level; i++) {
      rbp -= sz;
      sp -= sz;
      model_mem__write(c, sp, sz, model_mem__read(c, rbp, sz));
    }
    if (level) {
      sp -= sz;
      model_mem__write(c, sp, sz, frame);
    }
    sp -= d->imm;
    wr_reg(c, 5, sz, 1, frame);
    c->gpr[4] = sp;
    break;
  }
  case 0xc9: { /* LEAVE */
    uint64_t v = model_mem__read(c, c->gpr[5], sz);
    c->gpr[4] = c->gpr[5] + sz;
    wr_reg(c, 5, sz, 1, v);
    break;
  }
  case 0xca:
  case 0xcb: /* RETF */
    nrip = model_sys__retf(c, d);
    if (c->cpl != c->cpl_acct.cpl) model_cpu__cpl_sync(c, 1);
    break;
  case 0xcc: /* INT3 */
    model_events__deliver(c, X86_BP, 0, false, true, nrip);
    goto delivered;
  case 0xcd: /* INT n */
    model_events__deliver(c, (int)(d->imm & 0xff), 0, false, true, nrip);
    goto delivered;
  case 0xcf: /* IRET */
    model_sys__iret(c, d);
    if (c->cpl != c->cpl_acct.cpl) model_cpu__cpl_sync(c, 0);
    return;    /* RIP set and retired inside */
  case 0xd7: { /* XLAT */
    uint64_t e = (c->gpr[3] + (c->gpr[0] & 0xff));
    if (d->asz == 4) e = (uint32_t)e;
    e += d->seg ? c->seg[d->seg].base : 0;
    wr_reg(c, 0, 1, 1, model_mem__read(c, e, 1));
    break;
  }
  case 0xd8 ... 0xdf: /* x87 */
    model_fpu__x87(c, d);
    break;
  case 0xe0:
  case 0xe1:
  case 0xe2:
  case 0xe3: {
    uint64_t am = d->asz == 4 ? 0xffffffffull : ~0ull;
    bool take;
    if (op == 0xe3)
      take = (c->gpr[1] & am) == 0;
    else {
      uint64_t cx = ((c->gpr[1] & am) - 1) & am;
      c->gpr[1] = (c->gpr[1] & ~am) | cx;
      take = cx != 0;
      if (op == 0xe0) take = take && !(c->rflags & RF_ZF);
      if (op == 0xe1) take = take && (c->rflags & RF_ZF);
    }
    if (take) nrip += d->imm;
    break;
  }
  case 0xe4:
  case 0xe5:
  case 0xec:
  case 0xed: { /* IN */
    unsigned isz = sz == 8 ? 4 : sz;
    uint16_t port = op <= 0xe5 ? (uint16_t)(d->imm & 0xff) : (uint16_t)c->gpr[2];
    if (!io_allowed(c, port, isz)) model__gp0(c);
    c->io.port = port, c->io.size = (uint8_t)isz, c->io.write = 0;
    memset(c->io.data, 0, sizeof c->io.data);
    c->io.in_pending = true;
    c->io.len = d->len;
    c->stop = MSTOP_IO;
    c->slice_end = 0;
    return; /* retires in model_cpu__complete_io() */
  }
  case 0xe6:
  case 0xe7:
  case 0xee:
  case 0xef: { /* OUT */
    unsigned isz = sz == 8 ? 4 : sz;
    uint16_t port = op <= 0xe7 ? (uint16_t)(d->imm & 0xff) : (uint16_t)c->gpr[2];
    if (!io_allowed(c, port, isz)) model__gp0(c);
    c->io.port = port, c->io.size = (uint8_t)isz, c->io.write = 1;
    uint64_t v = c->gpr[0];
    memcpy(c->io.data, &v, 8);
    c->stop = MSTOP_IO;
    c->slice_end = 0;
    break;
  }
  case 0xe8:
    push(c, nrip, 8);
    nrip += d->imm;
    break;
  case 0xe9:
  case 0xeb:
    nrip += d->imm;
    break;
  case 0xf1: /* INT1 */
    model_events__deliver(c, X86_DB, 0, false, false, nrip);
    goto delivered;
  case 0xf4: /* HLT */
    check_cpl0(c);
    c->stop = MSTOP_HLT;
    c->slice_end = 0;
    /* with the platform's local APIC an interrupt ends the halt; the VMM
     * waits for it (model_backend.c) */
    if (c->plat.apic && (c->rflags & RF_IF)) c->halted = true;
    break;
  case 0xf5:
    c->rflags ^= RF_CF;
    break;
  case 0xf6:
  case 0xf7: {
    unsigned g = d->reg & 7;
    a = (g == 2 || g == 3) ? RD_EW(sz) : RD_E(sz);
    uint64_t m = MASK(sz);
    switch (g) {
    case 0:
    case 1:
      alu(c, 4, a, d->imm & m, sz);
      break;
    case 2:
      WR_E(sz, ~a & m);
      break;
    case 3: {
      uint64_t saved = c->rflags;
      r = alu(c, 5, 0, a, sz);
      uint64_t nf = c->rflags;
      c->rflags = saved;
      WR_E(sz, r);
      c->rflags = nf;
      break;
    }
    case 4:
    case 5: { /* MUL / IMUL */
      uint64_t lo, hi;
      bool ov;
      if (g == 4) {
        unsigned __int128 p = (unsigned __int128)(rd_reg(c, 0, sz, 1)) * a;
        lo = (uint64_t)p & m;
        hi = sz == 8 ? (uint64_t)(p >> 64) : (uint64_t)(p >> (sz * 8)) & m;
        ov = hi != 0;
      } else {
        __int128 p = (__int128)(int64_t)sxt(rd_reg(c, 0, sz, 1), sz) * (int64_t)sxt(a, sz);
        lo = (uint64_t)p & m;
        hi = sz == 8 ? (uint64_t)(p >> 64) : (uint64_t)(p >> (sz * 8)) & m;
        ov = p != (__int128)(int64_t)sxt(lo, sz);
      }
      if (sz == 1)
        wr_reg(c, 0, 2, 1, lo | (hi << 8));
      else {
        wr_reg(c, 0, sz, 1, lo);
        wr_reg(c, 2, sz, 1, hi);
      }
      set_arith(c, (ov ? (RF_CF | RF_OF) : 0) | szp(lo, sz));
      break;
    }
    case 6:
    case 7: { /* DIV / IDIV */
      if ((a & m) == 0) model__fault(c, X86_DE, 0, false);
      unsigned bits = sz * 8;
      unsigned __int128 n =
          sz == 1 ? (c->gpr[0] & 0xffff)
                  : ((unsigned __int128)rd_reg(c, 2, sz, 1) << bits) | rd_reg(c, 0, sz, 1);
      uint64_t q, rem;
      if (g == 6) {
        unsigned __int128 qq = n / a;
        if (qq > m) model__fault(c, X86_DE, 0, false);
        q = (uint64_t)qq;
        rem = (uint64_t)(n % a);
      } else {
        __int128 sn = sz == 8 ? (__int128)n : (__int128)(int64_t)sxt((uint64_t)n, 2 * sz);
        __int128 sd = (int64_t)sxt(a, sz);
        __int128 lim = (__int128)1 << (bits - 1);
        if (sz == 8 && n == ((unsigned __int128)1 << 127) && sd == -1)
          model__fault(c, X86_DE, 0, false);
        __int128 qq = sn / sd;
        if (qq >= lim || qq < -lim) model__fault(c, X86_DE, 0, false);
        q = (uint64_t)qq & m;
        rem = (uint64_t)(sn % sd) & m;
      }
      if (sz == 1)
        wr_reg(c, 0, 2, 1, (q & 0xff) | ((rem & 0xff) << 8));
      else {
        wr_reg(c, 0, sz, 1, q);
        wr_reg(c, 2, sz, 1, rem);
      }
      break;
    }
    }
    break;
  }
  case 0xf8:
    c->rflags &= ~RF_CF;
    break;
  case 0xf9:
    c->rflags |= RF_CF;
    break;
  case 0xfa: /* CLI */
    if (c->cpl > ((c->rflags >> 12) & 3)) model__gp0(c);
    c->rflags &= ~RF_IF;
    break;
  case 0xfb: /* STI */
    if (c->cpl > ((c->rflags >> 12) & 3)) model__gp0(c);
    if (!(c->rflags & RF_IF)) {
      c->rflags |= RF_IF;
      c->shadow_icount = c->cnt.instructions + 2;
      c->shadow_valid = true;
      c->shadow_movss = false;
      events_may_unblock(c);
    }
    break;
  case 0xfc:
    c->rflags &= ~RF_DF;
    break;
  case 0xfd:
    c->rflags |= RF_DF;
    break;
  case 0xfe:
  case 0xff: {
    unsigned g = d->reg & 7;
    if (g <= 1) { /* INC / DEC */
      a = RD_EW(sz);
      uint64_t f;
      r = incdec(c, g == 1, a, sz, &f);
      WR_E(sz, r);
      set_arith(c, f);
      break;
    }
    if (op == 0xfe) model__ud(c);
    switch (g) {
    case 2: /* CALL near Ev */
      a = d->mod3 ? c->gpr[d->rm] : model_mem__read(c, ea_of(c, d), 8);
      push(c, nrip, 8);
      nrip = a;
      break;
    case 4: /* JMP near Ev */
      nrip = d->mod3 ? c->gpr[d->rm] : model_mem__read(c, ea_of(c, d), 8);
      break;
    case 6: /* PUSH Ev */
      a = d->mod3 ? rd_reg(c, d->rm, sz == 4 ? 8 : sz, rex)
                  : model_mem__read(c, ea_of(c, d), sz == 4 ? 8 : sz);
      push(c, a, sz == 4 ? 8 : sz);
      break;
    default:
      model__ud(c); /* far CALL/JMP through memory: not modeled */
    }
    break;
  }

  /* ---- 0F map ---- */
  case 0x100:
  case 0x101:
  case 0x105:
  case 0x106:
  case 0x107:
  case 0x108:
  case 0x109:
  case 0x120:
  case 0x121:
  case 0x122:
  case 0x123:
  case 0x130:
  case 0x131:
  case 0x132:
  case 0x133:
  case 0x1a0:
  case 0x1a1:
  case 0x1a2:
  case 0x1a8:
  case 0x1a9:
  case 0x1ae:
  case 0x1c7: {
    int rc = model_sys__exec(c, d, &nrip);
    if (rc < 0) { /* transferred control and retired (SYSCALL/SYSRET) */
      model_cpu__cpl_sync(c, 0);
      return;
    }
    break;
  }
  case 0x110:
  case 0x111:
  case 0x128:
  case 0x129:
  case 0x12b:
  case 0x154 ... 0x157:
  case 0x16e:
  case 0x16f:
  case 0x17e:
  case 0x17f:
  case 0x1c3:
  case 0x1d6:
  case 0x1db:
  case 0x1df:
  case 0x1e7:
  case 0x1eb:
  case 0x1ef: /* SSE/SSE2 */
    if (model_fpu__sse(c, d)) model__ud(c);
    break;
  case 0x10b:
  case 0x1b9:
  case 0x1ff:
    model__ud(c); /* UD2, UD1, UD0 */
  case 0x10d:
  case 0x118 ... 0x11f: /* prefetch / hint NOPs, ENDBR */
    break;
  case 0x140 ... 0x14f: /* CMOVcc: 32-bit form zero-extends even when false */
    a = RD_E(sz);
    if (cond(c, op & 0xf))
      WR_G(sz, a);
    else if (sz == 4)
      WR_G(4, RD_G(4));
    break;
  case 0x190 ... 0x19f:
    WR_E_NEW(1, cond(c, op & 0xf));
    break;
  case 0x1a3:
  case 0x1ab:
  case 0x1b3:
  case 0x1bb:
  case 0x1ba: { /* BT family */
    unsigned bits = sz * 8, kind;
    int64_t off;
    if (op == 0x1ba) {
      kind = d->reg & 7;
      if (kind < 4) model__ud(c);
      kind -= 4;
      off = (int64_t)(d->imm & (bits - 1));
    } else {
      kind = op == 0x1a3 ? 0 : op == 0x1ab ? 1 : op == 0x1b3 ? 2 : 3;
      off = (int64_t)sxt(RD_G(sz), sz);
    }
    uint64_t e = 0;
    if (d->mod3) {
      a = rd_reg(c, d->rm, sz, rex);
      off &= bits - 1;
    } else {
      e = ea_of(c, d);
      if (op != 0x1ba) {
        int64_t q = off >= 0 ? off / (int64_t)bits : -((-off + bits - 1) / (int64_t)bits);
        e += (uint64_t)(q * (int64_t)sz);
        off -= q * (int64_t)bits;
      }
      a = kind ? rmw_read(c, e, sz) : model_mem__read(c, e, sz);
    }
    uint64_t bit = 1ull << off, cf = (a >> off) & 1;
    if (kind) {
      r = kind == 1 ? a | bit : kind == 2 ? a & ~bit : a ^ bit;
      if (d->mod3)
        wr_reg(c, d->rm, sz, rex, r);
      else
        model_mem__write(c, e, sz, r);
    }
    c->rflags = (c->rflags & ~RF_CF) | cf;
    break;
  }
  case 0x1a4:
  case 0x1a5:
  case 0x1ac:
  case 0x1ad: {
    unsigned cnt = (op & 1) ? (unsigned)c->gpr[1] & 0xff : (unsigned)d->imm;
    a = RD_EW(sz);
    uint64_t saved = c->rflags;
    r = shxd(c, op < 0x1ac, a, RD_G(sz), cnt, sz);
    uint64_t nf = c->rflags;
    c->rflags = saved;
    WR_E(sz, r);
    c->rflags = nf;
    break;
  }
  case 0x1b0:
  case 0x1b1: { /* CMPXCHG */
    a = RD_EW(sz);
    uint64_t acc = rd_reg(c, 0, sz, 1);
    uint64_t saved = c->rflags;
    alu(c, 7, acc, a, sz);
    uint64_t nf = c->rflags;
    c->rflags = saved;
    if (acc == a) {
      WR_E(sz, RD_G(sz));
    } else { /* memory is written back (locked cycle); a register destination is left
              * alone, as the hardware does (no zero-extension of a 32-bit one) */
      if (!d->mod3) model_mem__write(c, addr, sz, a);
      wr_reg(c, 0, sz, 1, a);
    }
    c->rflags = nf;
    break;
  }
  case 0x1b6:
  case 0x1b7:
  case 0x1be:
  case 0x1bf: { /* MOVZX / MOVSX */
    unsigned ss = (op & 1) ? 2 : 1;
    if (ss == 1 && d->mod3)
      a = rd_reg(c, d->rm, 1, rex);
    else
      a = RD_E(ss);
    WR_G(sz, op >= 0x1be ? sxt(a, ss) : a);
    break;
  }
  case 0x1b8:
  case 0x1bc:
  case 0x1bd: { /* POPCNT, BSF/TZCNT, BSR/LZCNT */
    a = RD_E(sz);
    unsigned bits = sz * 8;
    if (op == 0x1b8) {
      if (d->rep != 0xf3) model__ud(c);
      r = (uint64_t)__builtin_popcountll(a);
      set_arith(c, a ? 0 : RF_ZF);
      WR_G(sz, r);
    } else if (d->rep == 0xf3) { /* TZCNT / LZCNT */
      if (op == 0x1bc)
        r = a ? (uint64_t)__builtin_ctzll(a) : bits;
      else
        r = a ? (uint64_t)(__builtin_clzll(a) - (64 - bits)) : bits;
      c->rflags = (c->rflags & ~(RF_CF | RF_ZF)) | (a ? 0 : RF_CF) | (r ? 0 : RF_ZF);
      WR_G(sz, r);
    } else { /* BSF / BSR: source 0 leaves the destination unchanged */
      if (!a) {
        c->rflags |= RF_ZF;
        break;
      }
      r = op == 0x1bc ? (uint64_t)__builtin_ctzll(a) : (uint64_t)(63 - __builtin_clzll(a));
      c->rflags &= ~RF_ZF;
      WR_G(sz, r);
    }
    break;
  }
  case 0x1c0:
  case 0x1c1: { /* XADD */
    a = RD_EW(sz);
    b = RD_G(sz);
    uint64_t saved = c->rflags;
    r = alu(c, 0, a, b, sz);
    uint64_t nf = c->rflags;
    c->rflags = saved;
    WR_E(sz, r);
    WR_G(sz, a);
    if (d->mod3 && d->rm == d->reg) wr_reg(c, d->rm, sz, rex, r);
    c->rflags = nf;
    break;
  }
  case VEX_OP_0F38 ... VEX_OP_0F3A + 0xff: /* VEX-encoded (BMI1, BMI2) */
    model_vex__exec(c, d, d->mod3 ? 0 : ea_of(c, d));
    break;
  case 0x1c8 ... 0x1cf:
    if (sz == 8)
      c->gpr[d->reg] = __builtin_bswap64(c->gpr[d->reg]);
    else if (sz == 4)
      c->gpr[d->reg] = __builtin_bswap32((uint32_t)c->gpr[d->reg]);
    else
      wr_reg(c, d->reg, 2, 1, 0); /* 16-bit BSWAP: undefined, zero as on hardware */
    break;
  default:
    model__ud(c);
  }
  c->rip = nrip;
  c->cnt.instructions++;
  retire_count(c, d);
  return;
delivered: /* INT3 / INT1: the trap retired before delivery */
  c->cnt.instructions++;
  retire_count(c, d);
  model_cpu__cpl_sync(c, 0);
#undef RD_E
#undef RD_EW
#undef WR_E
#undef WR_E_NEW
#undef RD_G
#undef WR_G
}

/* ---- fetch + decode with the cache ------------------------------------------------------ */
/* The fetch of RIP's instruction into e, its cache slot, after a miss
 * (model_dispatch.h). gpa1: ~0, or the page the run loop's inline fetch
 * (model_mmu__fetch_last) already translated RIP to, counted in fetches. */
static struct model_icache_entry *fetch(struct model_cpu *c, struct model_icache_entry *e,
                                        uint64_t gpa1) {
  uint64_t rip = c->rip;
  unsigned acc = ACC_X | model__uacc(c);
  uint8_t buf[16];
  if (gpa1 == ~0ull) {
    c->cnt.fetches++;
    gpa1 = model_mmu__fetch_page(c, rip, acc);
  }
  if (e->rip == rip && e->cpl == c->cpl && e->code_gen == c->code_gen && e->gpa == gpa1) {
    /* fetched again after a TLB flush from the same unchanged page: the
     * translation above is the ITLB lookup a re-decode makes; keep the
     * decode (the page is still marked as code: unmarking it bumps code_gen).
     * No icache_epoch bump: this turns e from a miss into a hit and no
     * entry from a hit into a miss, so every memo that holds still names a
     * hit of the same instruction (model_dispatch.c) */
    e->gen = c->icache_gen;
    return e;
  }
  const uint8_t *host = model_mem__ptr(c, gpa1, 4096);
  if (!host)
    model__internal(c, "instruction fetch from non-RAM gpa 0x%llx (rip 0x%llx)",
                    (unsigned long long)(gpa1 | (rip & 0xfff)), (unsigned long long)rip);
  unsigned off = rip & 0xfff, avail = 4096 - off;
  if (avail > 15) avail = 15;
  memcpy(buf, host + off, avail);
  e->rip = ~0ull; /* invalid until fully decoded */
  c->icache_epoch++;
  /* a new decode number: memos of this entry's old decode no longer hold,
   * and its own memos (of its successors) were taken after another
   * instruction */
  if (__builtin_expect(++c->decode_serial == 0, 0)) { /* wrapped: no memo may match */
    for (unsigned i = 0; i < MODEL_ICACHE_SIZE; i++)
      c->icache[i].memo.dser = c->icache[i].memo_t.dser = 0;
    c->decode_serial = 1;
  }
  e->dser = c->decode_serial;
  e->memo.dser = e->memo_t.dser = 0;
  int rc = model_decode(buf, avail, &e->insn);
  uint64_t gpa2 = ~0ull;
  if (rc == -1) { /* crosses into the next page: fetch it only when needed */
    const struct model_tlb_entry *t2 = model_mmu__translate(c, rip + avail, acc);
    if (!t2->host)
      model__internal(c, "instruction fetch from non-RAM gpa 0x%llx", (unsigned long long)t2->gpa);
    gpa2 = t2->gpa;
    memcpy(buf + avail, t2->host, 15 - avail);
    rc = model_decode(buf, 15, &e->insn);
  }
  if (rc == -2) model__gp0(c);
  if (rc == -3) {
    memcpy(c->ud_bytes, buf, sizeof c->ud_bytes);
    c->ud_rip = rip;
    model__ud(c);
  }
  model_insn__deps(&e->insn);
  e->handler = c->generic_only ? 0 : model_dispatch__select(&e->insn);
  model_mmu__mark_code(c, gpa1);
  if (gpa2 != ~0ull) model_mmu__mark_code(c, gpa2);
  e->rip = rip;
  e->gen = c->icache_gen;
  e->cpl = c->cpl;
  e->fetch_need = (uint8_t)(c->cpl == 3 ? TLBP_X << 3 : TLBP_X);
  e->code_gen = c->code_gen;
  e->gpa = gpa2 == ~0ull ? gpa1 : ~0ull; /* page-crossing ones are decoded again */
  return e;
}

static void inner_loop(struct model_cpu *c) {
  model_dispatch__run(c, exec, fetch);
}

void model_cpu__complete_io(struct model_cpu *c) {
  if (c->msr.pending) {
    c->msr.pending = false;
    if (c->msr.error) {
      c->gp_pending = true; /* not retired: #GP(0) at the next run */
      return;
    }
    if (!c->msr.write) {
      c->gpr[0] = (uint32_t)c->msr.data;
      c->gpr[2] = c->msr.data >> 32;
    }
    c->rip += c->msr.len;
    c->cnt.instructions++;
    c->cnt.by_class[IC_SYSTEM][0]++;
  }
  if (c->hc.pending) {
    c->hc.pending = false;
    c->gpr[0] = c->hc.ret;
    c->rip += c->hc.len;
    c->cnt.instructions++;
    c->cnt.by_class[IC_SYSTEM][0]++;
  }
  if (!c->io.in_pending) return;
  c->io.in_pending = false;
  if (model_strio__complete(c)) return; /* INS: stored when it runs again */
  uint64_t v = 0;
  memcpy(&v, c->io.data, c->io.size);
  unsigned sz = c->io.size;
  wr_reg(c, 0, sz, 1, v);
  c->rip += c->io.len;
  c->cnt.instructions++;
  c->cnt.by_class[IC_IO][0]++;
}

void model_cpu__reset(struct model_cpu *c) {
  memset(c->gpr, 0, sizeof c->gpr);
  c->rflags = RF_FIXED;
  c->delivering = -1;
  c->stop = MSTOP_NONE;
  c->pat = 0x0007040600070406ull;
  c->apic_base = 0xfee00900ull;
  c->misc_enable = MISC_ENABLE_RESET;
  c->mtrr_def_type = MTRR_DEF_TYPE_RESET;
  model_fpu__reset(&c->fpu);
  c->strio.wait = c->strio.ready = false;
  c->code_gen++; /* what was decoded before the reset is stale (not counted as a flush) */
  c->icache_epoch++;
  if (++c->icache_gen == 0) {
    if (c->icache) memset(c->icache, 0, sizeof *c->icache * MODEL_ICACHE_SIZE);
    c->icache_gen = 1;
  }
  if (!c->tlb_gen_tag) c->tlb_gen_tag = 1ull << TLB_GEN_SHIFT;
  if (!c->tlbm.configured) {
    struct model_tlb_config cfg;
    model_tlb__default_config(&cfg);
    model_tlb__configure(&c->tlbm, &cfg, NULL, 0);
  }
}

void model_cpu__cpl_sync(struct model_cpu *c, unsigned pending) {
  struct model_cpl_acct *a = &c->cpl_acct;
  if (c->cpl == a->cpl) return;
  uint64_t at = c->cnt.instructions + pending;
  if (a->cpl == 0) {
    a->insns0 += at - a->insn_at;
    a->writes0 += c->cnt.mem_writes - a->writes_at;
  }
  a->entered += c->cpl == 0;
  a->left += a->cpl == 0;
  a->cpl = c->cpl;
  a->switches++;
  if (c->cpl == 3 && !c->user_seen && c->plat.apic) {
    c->user_seen = true;
    if (c->stop == MSTOP_NONE) c->stop = MSTOP_EVENT; /* the boot's figures (model_backend.c) */
    c->slice_end = 0;
  }
  a->insn_at = at;
  a->writes_at = c->cnt.mem_writes;
}

/* Run until a stop or `budget` instructions; faults are delivered here. The
 * CPL can change outside an instruction only here (event delivery) or
 * before the call (VMM state loads): the privilege interval is closed at
 * each of those points. */
enum model_stop model_cpu__run(struct model_cpu *c, uint64_t budget) {
  model_cpu__cpl_sync(c, 0);
  c->stop = MSTOP_NONE;
  c->run_start = c->cnt.instructions;
  c->run_rep_start = c->cnt.rep_iterations;
  c->run_exc_start = c->cnt.exceptions;
  c->run_budget = budget;
  switch (setjmp(c->jb)) {
  case 0:
    if (c->gp_pending) { /* the VMM refused an MSR access */
      c->gp_pending = false;
      model__gp0(c);
    }
    break;
  case MJ_FAULT:
    model_events__handle_fault(c);
    model_cpu__cpl_sync(c, 0);
    break;
  default: /* MJ_STOP */
    c->delivering = -1;
    if (c->stop == MSTOP_MMIO && c->cpl == 3) c->cpl_acct.mmio3++; /* a read */
    if (c->stop == MSTOP_SHUTDOWN || c->stop == MSTOP_INTERNAL || c->stop == MSTOP_MMIO)
      return c->stop;
    break;
  }
  for (;;) {
    if (c->stop) {
      if (c->stop == MSTOP_MMIO && c->mmio.write && c->cpl == 0) c->cpl_acct.mmio_writes0++;
      if (c->stop == MSTOP_MMIO && c->cpl == 3) c->cpl_acct.mmio3++; /* a write */
      return c->stop;
    }
    /* work done: retired instructions, REP iterations, and delivered events
     * (a guest can fault forever without retiring anything) */
    uint64_t done = c->cnt.instructions - c->run_start +
                    (c->cnt.rep_iterations - c->run_rep_start) / 16 +
                    (c->cnt.exceptions - c->run_exc_start);
    if (done >= c->run_budget || c->kick) return MSTOP_SLICE;
    c->slice_end = c->run_start + c->run_budget;
    /* deliver, take a window exit (c->stop), or stop right after the
     * interrupt shadow (model_events.c) */
    if (model_events__waiting(c) && (model_events__boundary(c) || c->stop)) {
      model_cpu__cpl_sync(c, 0); /* an NMI/IRQ delivered */
      continue;
    }
    if (c->halted) { /* nothing executes until an NMI or interrupt is delivered */
      c->stop = MSTOP_HLT;
      continue;
    }
    bool tf = c->rflags & RF_TF;
    uint64_t before = c->cnt.instructions;
    if (tf) c->slice_end = before + 1;
    inner_loop(c);
    if (tf && c->cnt.instructions == before + 1 && !c->stop) {
      c->dr[6] |= 1ull << 14; /* DR6.BS */
      model_events__deliver(c, X86_DB, 0, false, false, c->rip);
      model_cpu__cpl_sync(c, 0);
    }
  }
}
