/* model_decode.c - x86-64 instruction decoder for the model CPU: legacy
 * prefixes, REX, VEX (model_vex.c), the one-byte and 0F opcode maps, ModRM/SIB/displacement
 * (incl. RIP-relative), immediates, into struct model_insn. 64-bit mode only.
 * Bounded: never reads past `avail` bytes nor decodes more than 15. */
#include <stdbool.h>
#include <string.h>

#include "model_insn.h"
#include "model_vex.h"
#include "x86.h"

/* attribute bits per opcode */
#define A_M       0x001u /* has ModRM */
#define A_B       0x002u /* byte operand */
#define A_INV     0x004u /* invalid in 64-bit mode / not modeled */
#define A_D64     0x008u /* default operand size 64 */
#define A_V       0x100u /* 0F map: opcode modeled */
#define I_SHIFT   4
#define I_NONE    0u
#define I_B       1u /* imm8 sign-extended */
#define I_W       2u /* imm16 */
#define I_Z       3u /* imm16/imm32 (sign-extended) by operand size */
#define I_V       4u /* imm16/32/64 by operand size (MOV r, imm) */
#define I_WB      5u /* imm16 + imm8 (ENTER) */
#define I_MOFFS   6u /* address-size offset */
#define I_REL32   7u /* rel32 regardless of operand size */
#define I_GRP3    8u /* F6/F7: imm only for /0 and /1 */
#define IMM(x)    ((x) << I_SHIFT)
#define IMM_OF(a) (((a) >> I_SHIFT) & 0xfu)

#define ALU_ROW(b)                                                                                 \
  [b + 0] = A_M | A_B, [b + 1] = A_M, [b + 2] = A_M | A_B, [b + 3] = A_M,                          \
       [b + 4] = A_B | IMM(I_B), [b + 5] = IMM(I_Z)

static const uint16_t map1[256] = {
    ALU_ROW(0x00),
    ALU_ROW(0x08),
    ALU_ROW(0x10),
    ALU_ROW(0x18),
    ALU_ROW(0x20),
    ALU_ROW(0x28),
    ALU_ROW(0x30),
    ALU_ROW(0x38),
    [0x06] = A_INV,
    [0x07] = A_INV,
    [0x0e] = A_INV,
    [0x16] = A_INV,
    [0x17] = A_INV,
    [0x1e] = A_INV,
    [0x1f] = A_INV,
    [0x27] = A_INV,
    [0x2f] = A_INV,
    [0x37] = A_INV,
    [0x3f] = A_INV,
    [0x50 ... 0x5f] = A_D64,
    [0x60 ... 0x62] = A_INV,
    [0x63] = A_M,
    [0x68] = A_D64 | IMM(I_Z),
    [0x69] = A_M | IMM(I_Z),
    [0x6a] = A_D64 | IMM(I_B),
    [0x6b] = A_M | IMM(I_B),
    [0x6c] = A_B,
    [0x6e] = A_B,
    [0x70 ... 0x7f] = A_D64 | IMM(I_B),
    [0x80] = A_M | A_B | IMM(I_B),
    [0x81] = A_M | IMM(I_Z),
    [0x82] = A_INV,
    [0x83] = A_M | IMM(I_B),
    [0x84] = A_M | A_B,
    [0x85] = A_M,
    [0x86] = A_M | A_B,
    [0x87] = A_M,
    [0x88] = A_M | A_B,
    [0x89] = A_M,
    [0x8a] = A_M | A_B,
    [0x8b] = A_M,
    [0x8c] = A_M,
    [0x8d] = A_M,
    [0x8e] = A_M,
    [0x8f] = A_M | A_D64,
    [0x9a] = A_INV,
    [0x9c] = A_D64,
    [0x9d] = A_D64,
    [0xa0] = A_B | IMM(I_MOFFS),
    [0xa1] = IMM(I_MOFFS),
    [0xa2] = A_B | IMM(I_MOFFS),
    [0xa3] = IMM(I_MOFFS),
    [0xa4] = A_B,
    [0xa6] = A_B,
    [0xa8] = A_B | IMM(I_B),
    [0xa9] = IMM(I_Z),
    [0xaa] = A_B,
    [0xac] = A_B,
    [0xae] = A_B,
    [0xb0 ... 0xb7] = A_B | IMM(I_B),
    [0xb8 ... 0xbf] = IMM(I_V),
    [0xc0] = A_M | A_B | IMM(I_B),
    [0xc1] = A_M | IMM(I_B),
    [0xc2] = A_D64 | IMM(I_W),
    [0xc3] = A_D64,
    [0xc6] = A_M | A_B | IMM(I_B),
    [0xc7] = A_M | IMM(I_Z),
    [0xc8] = A_D64 | IMM(I_WB),
    [0xc9] = A_D64,
    [0xca] = IMM(I_W),
    [0xcd] = IMM(I_B),
    [0xce] = A_INV,
    [0xd0] = A_M | A_B,
    [0xd1] = A_M,
    [0xd2] = A_M | A_B,
    [0xd3] = A_M,
    [0xd4 ... 0xd6] = A_INV,
    [0xd7] = A_B,
    [0xd8 ... 0xdf] = A_INV,
    [0xe0 ... 0xe3] = A_D64 | IMM(I_B),
    [0xe4] = A_B | IMM(I_B),
    [0xe5] = IMM(I_B),
    [0xe6] = A_B | IMM(I_B),
    [0xe7] = IMM(I_B),
    [0xe8] = A_D64 | IMM(I_REL32),
    [0xe9] = A_D64 | IMM(I_REL32),
    [0xea] = A_INV,
    [0xeb] = A_D64 | IMM(I_B),
    [0xec] = A_B,
    [0xee] = A_B,
    [0xf6] = A_M | A_B | IMM(I_GRP3),
    [0xf7] = A_M | IMM(I_GRP3),
    [0xfe] = A_M | A_B,
    [0xff] = A_M,
};

static const uint16_t map2[256] = {
    [0x00] = A_V | A_M,
    [0x01] = A_V | A_M,
    [0x05] = A_V,
    [0x06] = A_V,
    [0x07] = A_V,
    [0x08] = A_V,
    [0x09] = A_V,
    [0x0b] = A_V,
    [0x0d] = A_V | A_M,
    [0x18 ... 0x1f] = A_V | A_M,
    [0x20 ... 0x23] = A_V | A_M,
    [0x30 ... 0x33] = A_V,
    [0x40 ... 0x4f] = A_V | A_M,
    [0x80 ... 0x8f] = A_V | A_D64 | IMM(I_REL32),
    [0x90 ... 0x9f] = A_V | A_M | A_B,
    [0xa0] = A_V | A_D64,
    [0xa1] = A_V | A_D64,
    [0xa2] = A_V,
    [0xa3] = A_V | A_M,
    [0xa4] = A_V | A_M | IMM(I_B),
    [0xa5] = A_V | A_M,
    [0xa8] = A_V | A_D64,
    [0xa9] = A_V | A_D64,
    [0xab] = A_V | A_M,
    [0xac] = A_V | A_M | IMM(I_B),
    [0xad] = A_V | A_M,
    [0xae] = A_V | A_M,
    [0xaf] = A_V | A_M,
    [0xb0] = A_V | A_M | A_B,
    [0xb1] = A_V | A_M,
    [0xb3] = A_V | A_M,
    [0xb6] = A_V | A_M,
    [0xb7] = A_V | A_M,
    [0xb8] = A_V | A_M,
    [0xb9] = A_V | A_M,
    [0xba] = A_V | A_M | IMM(I_B),
    [0xbb] = A_V | A_M,
    [0xbc] = A_V | A_M,
    [0xbd] = A_V | A_M,
    [0xbe] = A_V | A_M,
    [0xbf] = A_V | A_M,
    [0xc0] = A_V | A_M | A_B,
    [0xc1] = A_V | A_M,
    [0xc7] = A_V | A_M,
    [0xc8 ... 0xcf] = A_V,
    [0xff] = A_V | A_M,
};

/* instruction class per opcode for the counters */
static uint8_t iclass_of(unsigned op, unsigned reg) {
  if (op >= VEX_OP_0F38) return op == VEX_OP_0F38 + 0xf6 ? IC_MULDIV : IC_ALU; /* BMI1/BMI2 */
  if (op < 0x100) {
    unsigned b = op;
    if (b < 0x40 || (b >= 0x80 && b <= 0x85) || (b >= 0xc0 && b <= 0xc1) ||
        (b >= 0xd0 && b <= 0xd3) || b == 0xfe || (b == 0xff && reg < 2) || b == 0x98 || b == 0x99 ||
        (b >= 0xa8 && b <= 0xa9) || (b >= 0xf5 && b <= 0xf9) || b == 0xfc || b == 0xfd)
      return IC_ALU;
    if ((b == 0xf6 || b == 0xf7) && reg >= 4) return IC_MULDIV;
    if (b == 0xf6 || b == 0xf7) return IC_ALU;
    if (b == 0x69 || b == 0x6b) return IC_MULDIV;
    if ((b >= 0x70 && b <= 0x7f) || (b >= 0xe0 && b <= 0xe3) || b == 0xe8 || b == 0xe9 ||
        b == 0xeb || b == 0xc2 || b == 0xc3 || (b == 0xff && reg >= 2 && reg <= 5))
      return IC_BRANCH;
    if ((b >= 0x50 && b <= 0x5f) || b == 0x68 || b == 0x6a || b == 0x8f || b == 0x9c || b == 0x9d ||
        b == 0xc8 || b == 0xc9 || (b == 0xff && reg == 6))
      return IC_STACK;
    if ((b >= 0xa4 && b <= 0xa7) || (b >= 0xaa && b <= 0xaf)) return IC_STRING;
    if ((b >= 0xe4 && b <= 0xe7) || (b >= 0xec && b <= 0xef) || (b >= 0x6c && b <= 0x6f))
      return IC_IO;
    if ((b >= 0x86 && b <= 0x8d) || (b >= 0xb0 && b <= 0xbf) || b == 0xc6 || b == 0xc7 ||
        b == 0x63 || (b >= 0xa0 && b <= 0xa3) || (b >= 0x90 && b <= 0x97) || b == 0xd7)
      return IC_MOV;
    if (b == 0xcc || b == 0xcd || b == 0xcf || b == 0xf4 || b == 0xfa || b == 0xfb || b == 0xca ||
        b == 0xcb || b == 0xf1 || b == 0x8e)
      return IC_SYSTEM;
    return IC_OTHER;
  }
  unsigned b = op & 0xff;
  if (b >= 0x80 && b <= 0x8f) return IC_BRANCH;
  if ((b >= 0x40 && b <= 0x4f) || b == 0xb6 || b == 0xb7 || b == 0xbe || b == 0xbf ||
      (b >= 0x90 && b <= 0x9f))
    return IC_MOV;
  if (b == 0xaf) return IC_MULDIV;
  if (b == 0xa3 || b == 0xab || b == 0xb3 || b == 0xbb || b == 0xba || b == 0xbc || b == 0xbd ||
      b == 0xb8 || b == 0xa4 || b == 0xa5 || b == 0xac || b == 0xad || b == 0xb0 || b == 0xb1 ||
      b == 0xc0 || b == 0xc1 || (b >= 0xc8 && b <= 0xcf) || b == 0xc7)
    return IC_ALU;
  if (b == 0x0d || (b >= 0x18 && b <= 0x1f)) return IC_OTHER;
  if (b == 0xa0 || b == 0xa1 || b == 0xa8 || b == 0xa9) return IC_STACK;
  return IC_SYSTEM;
}

static inline int64_t sx(uint64_t v, unsigned bytes) {
  unsigned sh = 64 - 8 * bytes;
  return (int64_t)(v << sh) >> sh;
}

int model_decode(const uint8_t *buf, unsigned avail, struct model_insn *d) {
  unsigned i = 0;
  memset(d, 0, sizeof *d);
  d->base = d->index = MODEL_NOREG;
  bool p66 = false, p67 = false;
#define NEED(n)                                                                                    \
  do {                                                                                             \
    if ((n) > 15) return -2;                                                                       \
    if ((n) > avail) return -1;                                                                    \
  } while (0)
  /* legacy prefixes, then an optional REX immediately before the opcode */
  for (;;) {
    NEED(i + 1);
    uint8_t b = buf[i];
    switch (b) {
    case 0x66:
      p66 = true;
      d->rex = 0;
      i++;
      continue;
    case 0x67:
      p67 = true;
      d->rex = 0;
      i++;
      continue;
    case 0xf0:
      d->lock = 1;
      d->rex = 0;
      i++;
      continue;
    case 0xf2:
    case 0xf3:
      d->rep = b;
      d->rex = 0;
      i++;
      continue;
    case 0x2e:
    case 0x36:
    case 0x3e:
    case 0x26:
      d->rex = 0;
      i++;
      continue; /* ignored */
    case 0x64:
      d->seg = SEG_FS;
      d->rex = 0;
      i++;
      continue;
    case 0x65:
      d->seg = SEG_GS;
      d->rex = 0;
      i++;
      continue;
    default:
      break;
    }
    if ((b & 0xf0) == 0x40) { /* REX: only counts when last before the opcode */
      d->rex = b;
      i++;
      continue;
    }
    break;
  }
  unsigned op, attr;
  NEED(i + 1);
  if (buf[i] == 0xc4 || buf[i] == 0xc5) { /* VEX: in 64-bit mode never LES/LDS */
    int v = model_vex__decode(buf, avail, &i, d, p66 || d->rep || d->lock || d->rex);
    if (v < 0) return v;
    op = d->op;
    attr = A_M | ((v & VEX_DEC_IMM8) ? IMM(I_B) : 0) | ((v & VEX_DEC_UD) ? A_INV : 0);
  } else if (buf[i] == 0x0f) {
    NEED(i + 2);
    op = 0x100 | buf[i + 1];
    attr = map2[buf[i + 1]];
    if (!(attr & A_V)) attr |= A_INV;
    i += 2;
  } else {
    op = buf[i];
    attr = map1[buf[i]];
    i += 1;
  }
  d->op = (uint16_t)op;
  d->osz66 = p66;
  bool rexw = d->rex & 8;
  if (attr & A_B)
    d->osz = 1;
  else if (rexw)
    d->osz = 8;
  else if (p66)
    d->osz = 2;
  else
    d->osz = (attr & A_D64) ? 8 : 4;
  d->asz = p67 ? 4 : 8;
  d->reg = (uint8_t)((op & 7) | ((d->rex & 1) << 3)); /* opcode-register forms */

  if (attr & A_M) {
    NEED(i + 1);
    uint8_t m = buf[i++];
    d->modrm = m;
    unsigned mod = m >> 6, rm = m & 7;
    d->reg = (uint8_t)(((m >> 3) & 7) | ((d->rex & 4) << 1));
    if (mod == 3 || (op >= 0x120 && op <= 0x123)) { /* MOV CR/DR: always registers */
      d->mod3 = 1;
      d->rm = (uint8_t)(rm | ((d->rex & 1) << 3));
    } else {
      if (rm == 4) {
        NEED(i + 1);
        uint8_t sib = buf[i++];
        unsigned base = sib & 7, idx = ((sib >> 3) & 7) | ((d->rex & 2) << 2);
        d->scale = sib >> 6;
        if (idx != 4) d->index = (uint8_t)idx;
        if (base == 5 && mod == 0) {
          NEED(i + 4);
          uint32_t v;
          memcpy(&v, buf + i, 4);
          d->disp = (int32_t)v;
          i += 4;
        } else {
          d->base = (uint8_t)(base | ((d->rex & 1) << 3));
        }
      } else if (rm == 5 && mod == 0) {
        NEED(i + 4);
        uint32_t v;
        memcpy(&v, buf + i, 4);
        d->disp = (int32_t)v;
        d->riprel = 1;
        i += 4;
      } else {
        d->base = (uint8_t)(rm | ((d->rex & 1) << 3));
      }
      if (mod == 1) {
        NEED(i + 1);
        d->disp = (int8_t)buf[i++];
      } else if (mod == 2) {
        NEED(i + 4);
        uint32_t v;
        memcpy(&v, buf + i, 4);
        d->disp = (int32_t)v;
        i += 4;
      }
    }
  }
  d->iclass = iclass_of(op, d->reg & 7);

  unsigned isz = 0, ik = IMM_OF(attr);
  bool sext = true;
  switch (ik) {
  case I_B:
    isz = 1;
    break;
  case I_W:
    isz = 2;
    sext = false;
    break;
  case I_Z:
    isz = d->osz == 2 ? 2 : 4;
    break;
  case I_V:
    isz = d->osz;
    break;
  case I_WB:
    isz = 3;
    sext = false;
    break;
  case I_MOFFS:
    isz = d->asz;
    sext = false;
    break;
  case I_REL32:
    isz = 4;
    break;
  case I_GRP3:
    if (((d->modrm >> 3) & 7) < 2) isz = d->osz == 8 ? 4 : d->osz;
    break;
  default:
    break;
  }
  if (isz) {
    NEED(i + isz);
    uint64_t v = 0;
    memcpy(&v, buf + i, isz);
    if (ik == I_WB) {
      d->imm = v & 0xffff;
      d->imm2 = (uint16_t)(v >> 16);
    } else {
      d->imm = sext ? (uint64_t)sx(v, isz) : v;
    }
    i += isz;
  }
  NEED(i);
  d->len = (uint8_t)i;
  if (attr & A_INV) return -3;
  return 0;
#undef NEED
}
