/* test_model_dispatch.c - the model CPU's specialised handlers
 * (model_dispatch.c) against its generic interpreter (exec()): random
 * sequences of the forms the handlers take (and their neighbours that stay
 * in exec(): 16-bit ALU, RCL/RCR, MUL/DIV, XCHG ...), from random
 * register and flag states, run once through the handlers and once as the
 * reference (c->generic_only: every instruction in exec(), each looked up in
 * the decode cache, no memo of the next entry); registers, flags, RIP, the
 * data page, the exception taken and every counter (decodes and ITLB
 * lookups included) must be the same. And self-modifying code through a
 * handler's store: the next instruction, already decoded with a handler and
 * remembered as the store's successor, is decoded again. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "refvmm/model/cpu/model_dispatch.h"
#include "refvmm/model/cpu/model_ops.h"
#include "test_model_harness.h"

static uint64_t s_rng;
static uint64_t rnd(void) {
  uint64_t z = (s_rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* a general register for an operand: never RBX (the memory base) nor RSP */
static unsigned any_reg(void) {
  static const unsigned regs[] = {0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  return regs[rnd() % (sizeof regs / sizeof regs[0])];
}

struct gen {
  uint8_t *p;
  size_t n, cap;
};
static void put(struct gen *g, uint8_t b) {
  if (g->n < g->cap) g->p[g->n++] = b;
}
static void put_imm(struct gen *g, unsigned bytes) {
  uint64_t v = rnd();
  if (rnd() & 1) v = (rnd() & 1) ? 0 : (v & 0xff); /* small values and zero often */
  for (unsigned i = 0; i < bytes; i++)
    put(g, (uint8_t)(v >> (8 * i)));
}

/* One instruction with a ModRM operand: prefix (66 or none), REX (W at
 * random, R/B from the registers), the opcode bytes, ModRM with /digit (or a
 * random register when digit < 0), a register or [rbx + disp8] operand,
 * then `imm` immediate bytes. */
static void modrm_insn(struct gen *g, const uint8_t *op, unsigned oplen, int digit, bool mem_ok,
                       bool reg_ok, unsigned imm) {
  bool mem = mem_ok && (!reg_ok || (rnd() & 1));
  unsigned r = digit >= 0 ? (unsigned)digit : any_reg(), rm = any_reg();
  unsigned w = (rnd() % 4) != 0; /* mostly 64-bit */
  if ((rnd() % 8) == 0) put(g, 0x66);
  unsigned rex = 0x40 | (w << 3) | ((r >> 3) << 2) | (mem ? 0 : (rm >> 3));
  if (rex != 0x40 || (rnd() & 1)) put(g, (uint8_t)rex);
  for (unsigned i = 0; i < oplen; i++)
    put(g, op[i]);
  if (mem) {
    put(g, (uint8_t)(0x40 | ((r & 7) << 3) | 3)); /* [rbx + disp8] */
    put(g, (uint8_t)(rnd() % 0xf0));
  } else {
    put(g, (uint8_t)(0xc0 | ((r & 7) << 3) | (rm & 7)));
  }
  put_imm(g, imm);
}

/* A 16-bit operand form: 66, REX without W (or none), opcode, ModRM with
 * /digit (or a random register), a register or [rbx + disp8], `imm` bytes. */
static void modrm_insn16(struct gen *g, uint8_t op, int digit, unsigned imm) {
  bool mem = rnd() & 1;
  unsigned r = digit >= 0 ? (unsigned)digit : any_reg(), rm = any_reg();
  put(g, 0x66);
  unsigned rex = 0x40 | ((r >> 3) << 2) | (mem ? 0 : (rm >> 3));
  if (rex != 0x40 || (rnd() & 1)) put(g, (uint8_t)rex);
  put(g, op);
  if (mem) {
    put(g, (uint8_t)(0x40 | ((r & 7) << 3) | 3));
    put(g, (uint8_t)(rnd() % 0xf0));
  } else {
    put(g, (uint8_t)(0xc0 | ((r & 7) << 3) | (rm & 7)));
  }
  put_imm(g, imm);
}

static void gen_insn(struct gen *g) {
  uint8_t op[2];
  unsigned k = rnd() % 36;
  switch (k) {
  case 0:
  case 1:
  case 2: /* the ALU rows: 00-3B, every operation and direction */
    op[0] = (uint8_t)(((rnd() % 8) << 3) | (rnd() % 4));
    modrm_insn(g, op, 1, -1, true, true, 0);
    break;
  case 3:
  case 4: /* group 1 with imm32 / imm8 / byte */
    op[0] = (uint8_t)((uint8_t[]){0x80, 0x81, 0x83}[rnd() % 3]);
    modrm_insn(g, op, 1, (int)(rnd() % 8), true, true, op[0] == 0x81 ? 4 : 1);
    break;
  case 5: /* TEST */
    op[0] = (uint8_t)(0x84 + (rnd() & 1));
    modrm_insn(g, op, 1, -1, true, true, 0);
    break;
  case 6: /* MOV r/m <-> r, both sizes */
  case 7:
    op[0] = (uint8_t)(0x88 + (rnd() % 4));
    modrm_insn(g, op, 1, -1, true, true, 0);
    break;
  case 8: /* LEA */
    op[0] = 0x8d;
    modrm_insn(g, op, 1, -1, true, false, 0);
    break;
  case 9: /* MOVSXD */
    op[0] = 0x63;
    modrm_insn(g, op, 1, -1, true, true, 0);
    break;
  case 10: /* IMUL Gv, Ev, imm32 / imm8 */
    op[0] = (uint8_t)((rnd() & 1) ? 0x69 : 0x6b);
    modrm_insn(g, op, 1, -1, true, true, op[0] == 0x69 ? 4 : 1);
    break;
  case 11: /* IMUL Gv, Ev */
    op[0] = 0x0f, op[1] = 0xaf;
    modrm_insn(g, op, 2, -1, true, true, 0);
    break;
  case 12: /* MOVZX / MOVSX */
    op[0] = 0x0f, op[1] = (uint8_t)((uint8_t[]){0xb6, 0xb7, 0xbe, 0xbf}[rnd() % 4]);
    modrm_insn(g, op, 2, -1, true, true, 0);
    break;
  case 13: /* CMOVcc */
    op[0] = 0x0f, op[1] = (uint8_t)(0x40 + rnd() % 16);
    modrm_insn(g, op, 2, -1, true, true, 0);
    break;
  case 14: /* SETcc */
    op[0] = 0x0f, op[1] = (uint8_t)(0x90 + rnd() % 16);
    modrm_insn(g, op, 2, 0, true, true, 0);
    break;
  case 15:
  case 16: /* shifts and rotates by imm8, 1, CL */
    op[0] = (uint8_t)((uint8_t[]){0xc1, 0xd1, 0xd3, 0xc0, 0xd0, 0xd2}[rnd() % 6]);
    modrm_insn(g, op, 1, (int)(rnd() % 8), true, true, (op[0] == 0xc1 || op[0] == 0xc0) ? 1 : 0);
    break;
  case 17: /* INC / DEC */
    op[0] = (uint8_t)(0xfe + (rnd() & 1));
    modrm_insn(g, op, 1, (int)(rnd() % 2), true, true, 0);
    break;
  case 18: /* MOV r/m, imm32 */
    op[0] = 0xc7;
    modrm_insn(g, op, 1, 0, true, true, 4);
    break;
  case 19: { /* MOV r, imm (imm64 with REX.W) */
    unsigned r = any_reg(), w = rnd() & 1;
    put(g, (uint8_t)(0x40 | (w << 3) | (r >> 3)));
    put(g, (uint8_t)(0xb8 + (r & 7)));
    put_imm(g, w ? 8 : 4);
    break;
  }
  case 20: /* Jcc rel8 / rel32 to the next instruction (both ways the same place) */
    if (rnd() & 1) {
      put(g, (uint8_t)(0x70 + rnd() % 16));
      put(g, 0);
    } else {
      put(g, 0x0f), put(g, (uint8_t)(0x80 + rnd() % 16));
      for (int i = 0; i < 4; i++)
        put(g, 0);
    }
    break;
  case 21: /* a short Jcc over a 1-byte NOP: taken or not, the flags decide */
    put(g, (uint8_t)(0x70 + rnd() % 16));
    put(g, 1);
    put(g, 0x90);
    break;
  case 22: { /* PUSH r; POP r' */
    unsigned a = any_reg(), b = any_reg();
    if (a >= 8) put(g, 0x41);
    put(g, (uint8_t)(0x50 + (a & 7)));
    if (b >= 8) put(g, 0x41);
    put(g, (uint8_t)(0x58 + (b & 7)));
    break;
  }
  case 23: { /* CALL rel32 to the next instruction; ADD RSP, 8 */
    static const uint8_t s[] = {0xe8, 0, 0, 0, 0, 0x48, 0x83, 0xc4, 0x08};
    for (size_t i = 0; i < sizeof s; i++)
      put(g, s[i]);
    break;
  }
  case 24: { /* LEA RAX, [RIP+2]; PUSH RAX; RET (to the next instruction) */
    static const uint8_t s[] = {0x48, 0x8d, 0x05, 0x02, 0, 0, 0, 0x50, 0xc3};
    for (size_t i = 0; i < sizeof s; i++)
      put(g, s[i]);
    break;
  }
  case 25: { /* LEA RAX, [RIP+2]; JMP RAX  |  LEA RAX, [RIP+2]; CALL RAX; ADD RSP, 8 */
    bool call = rnd() & 1;
    static const uint8_t s[] = {0x48, 0x8d, 0x05, 0x02, 0, 0, 0, 0xff};
    for (size_t i = 0; i < sizeof s; i++)
      put(g, s[i]);
    put(g, call ? 0xd0 : 0xe0);
    if (call) put(g, 0x48), put(g, 0x83), put(g, 0xc4), put(g, 0x08);
    break;
  }
  case 26: { /* CALL / JMP [RBX-8] holding the address right after it:
              * MOV RAX, imm64 (10 bytes); MOV [RBX-8], RAX (4); FF /2 or /4 (3) */
    bool call = rnd() & 1;
    uint64_t next = TM_CODE + g->n + 10 + 4 + 3;
    put(g, 0x48), put(g, 0xb8);
    for (int i = 0; i < 8; i++)
      put(g, (uint8_t)(next >> (8 * i)));
    put(g, 0x48), put(g, 0x89), put(g, 0x43), put(g, 0xf8);
    put(g, 0xff), put(g, call ? 0x53 : 0x63), put(g, 0xf8);
    if (call) put(g, 0x48), put(g, 0x83), put(g, 0xc4), put(g, 0x08);
    break;
  }
  case 27: /* NOPs */
    if (rnd() & 1)
      put(g, 0x90);
    else
      put(g, 0x0f), put(g, 0x1f), put(g, 0x40), put(g, 0x00);
    break;
  case 28: /* ADD/SUB/CMP/AND/XOR EAX/RAX, imm32 */
    if (rnd() & 1) put(g, 0x48);
    put(g, (uint8_t)(((rnd() % 8) << 3) | 5));
    put_imm(g, 4);
    break;
  case 29: /* group 3: TEST imm, NOT, NEG (F6 bytes, F7) */
    op[0] = (uint8_t)(0xf6 + (rnd() & 1));
    {
      static const int digits[] = {0, 1, 2, 3};
      int dg = digits[rnd() % 4];
      modrm_insn(g, op, 1, dg, true, true, dg <= 1 ? (op[0] == 0xf6 ? 1 : 4) : 0);
    }
    break;
  case 30: /* ALU AL, imm8 (04, 0C, ... 3C) and TEST AL, imm8 (A8) */
    put(g, (uint8_t)((rnd() % 9) == 8 ? 0xa8 : (((rnd() % 8) << 3) | 4)));
    put_imm(g, 1);
    break;
  case 31: /* MOV r/m8, imm8 */
    op[0] = 0xc6;
    modrm_insn(g, op, 1, 0, true, true, 1);
    break;
  case 32: /* 16-bit operands: shifts by imm8, MOV stores and loads, ALU */
    switch (rnd() % 3) {
    case 0:
      modrm_insn16(g, 0xc1, (int)(rnd() % 8), 1);
      break;
    case 1:
      modrm_insn16(g, (uint8_t)(0x88 + 1 + 2 * (rnd() & 1)), -1, 0); /* 89, 8B */
      break;
    default:
      modrm_insn16(g, (uint8_t)(((rnd() % 8) << 3) | 1), -1, 0);
      break;
    }
    break;
  case 33:
  case 34: { /* a SIB operand, [rbx + r12 << scale + disp8] (r12 set to 0..15 right
              * before) or [rbx + disp8] with no index, for the loads, stores,
              * LEA and ALU forms that have handlers per address shape */
    static const uint8_t ops[][2] = {{0x8b, 0}, {0x89, 0}, {0x88, 0}, {0x0f, 0xb6}, {0x0f, 0xb7},
                                     {0x3b, 0}, {0x33, 0}, {0x8d, 0}, {0x03, 0},    {0x39, 0}};
    unsigned i = (unsigned)(rnd() % (sizeof ops / sizeof ops[0])), r = any_reg();
    bool index = rnd() % 4 != 0;
    if (index) {
      put(g, 0x41), put(g, 0xbc); /* mov r12d, 0..15 */
      put(g, (uint8_t)(rnd() % 16)), put(g, 0), put(g, 0), put(g, 0);
    }
    if ((rnd() % 4) == 0) put(g, 0x66);
    put(g, (uint8_t)(0x40 | ((rnd() % 4 != 0) << 3) | ((r >> 3) << 2) | (index << 1)));
    put(g, ops[i][0]);
    if (ops[i][0] == 0x0f) put(g, ops[i][1]);
    put(g, (uint8_t)(0x44 | ((r & 7) << 3)));             /* mod 01, SIB */
    put(g, (uint8_t)(((rnd() % 4) << 6) | (4 << 3) | 3)); /* r12 (or none), rbx */
    put(g, (uint8_t)(rnd() % 0x80));
    break;
  }
  default: /* XCHG, other forms left to exec() */
    op[0] = 0x87;
    modrm_insn(g, op, 1, -1, true, true, 0);
    break;
  }
}

#define CODE_MAX 4000
#define ROUNDS   150

static void run_one(struct tm *t, const uint8_t *code, size_t len, const struct tm_state *st,
                    struct tm_result *r) {
  memset(t->ram + TM_CODE, 0, CODE_MAX + 16);
  memcpy(t->ram + TM_CODE, code, len);
  t->ram[TM_CODE + len] = 0x0f, t->ram[TM_CODE + len + 1] = 0x0b; /* UD2 */
  memset(t->ram + TM_DATA, 0x5a, TM_DATA_LEN);
  tm_set_state(t, st);
  model_cpu__flush_decoded(t->c);
  memset(&t->c->cnt, 0, sizeof t->c->cnt);
  tm_run(t, r);
}

START_TEST(test_handlers_match_exec) {
  s_rng = 0xd15a0000u + (uint64_t)_i;
  static uint8_t code[CODE_MAX];
  struct tm_state st0 = {.cpl = 0};
  struct tm *fast = tm_new(code, 0, &st0), *slow = tm_new(code, 0, &st0);
  slow->c->generic_only = true;
  unsigned clean = 0;
  for (int round = 0; round < ROUNDS; round++) {
    struct gen g = {.p = code, .cap = CODE_MAX - 64};
    unsigned n = 20 + (unsigned)(rnd() % 200);
    for (unsigned i = 0; i < n && g.n < g.cap; i++)
      gen_insn(&g);
    struct tm_state st = {0};
    for (int i = 0; i < 16; i++)
      st.gpr[i] = (rnd() & 1) ? rnd() : rnd() & 0xff;
    st.gpr[3] = TM_DATA;
    st.gpr[4] = TM_STACK - 0x100;
    st.rflags = rnd() & 0xcd5;
    st.cpl = (rnd() & 1) ? 3 : 0;
    struct tm_result a, b;
    run_one(fast, code, g.n, &st, &a);
    run_one(slow, code, g.n, &st, &b);
    ck_assert_int_eq(a.vector, b.vector);
    ck_assert_int_eq(a.stop, b.stop);
    for (int i = 0; i < 16; i++)
      ck_assert_msg(a.gpr[i] == b.gpr[i], "round %d: r%d 0x%llx vs exec() 0x%llx", round, i,
                    (unsigned long long)a.gpr[i], (unsigned long long)b.gpr[i]);
    ck_assert_msg(a.rflags == b.rflags, "round %d: rflags 0x%llx vs exec() 0x%llx", round,
                  (unsigned long long)a.rflags, (unsigned long long)b.rflags);
    ck_assert_uint_eq(a.rip, b.rip);
    ck_assert_uint_eq(a.err, b.err);
    ck_assert(memcmp(a.data, b.data, TM_DATA_LEN) == 0);
    ck_assert(memcmp(fast->ram + TM_STACK - 0x400, slow->ram + TM_STACK - 0x400, 0x400) == 0);
    ck_assert(memcmp(&fast->c->cnt, &slow->c->cnt, sizeof fast->c->cnt) == 0);
    ck_assert(memcmp(&fast->c->tlbm.st, &slow->c->tlbm.st, sizeof fast->c->tlbm.st) == 0);
    clean += a.vector == 6 && a.rip == TM_CODE + g.n; /* ran to the UD2 at the end */
  }
  /* most sequences run to their end: the comparison covers the handlers */
  ck_assert_uint_gt(clean, ROUNDS / 2);
  tm_free(fast);
  tm_free(slow);
}
END_TEST

/* Self-modifying code through a specialised store: MOV [RBX], AL (88 /r)
 * rewrites the opcode of the very next instruction, which was decoded (with
 * its handler, ADD) on the first pass. The second pass must run SUB.
 *   0: 88 03        mov [rbx], al       (rbx = the ALU opcode's address, 2)
 *   2: 01 ce        add esi, ecx        -> patched to 29 ce: sub esi, ecx
 *   4: b0 29        mov al, 0x29        (what the second pass stores)
 *   6: ff ca        dec edx
 *   8: 75 f6        jnz 0                                                  */
START_TEST(test_smc_through_handler) {
  static const uint8_t code[] = {0x88, 0x03, 0x01, 0xce, 0xb0, 0x29, 0xff, 0xca, 0x75, 0xf6};
  for (int generic = 0; generic < 2; generic++) {
    struct tm_state st = {.cpl = 0};
    st.gpr[0] = 0x01;        /* the first pass stores 01: ADD stays ADD */
    st.gpr[1] = 5;           /* ecx */
    st.gpr[2] = 2;           /* edx: two passes */
    st.gpr[3] = TM_CODE + 2; /* rbx */
    st.gpr[6] = 100;         /* esi */
    struct tm *t = tm_new(code, sizeof code, &st);
    t->c->generic_only = generic;
    struct tm_result r;
    tm_run(t, &r);
    ck_assert_int_eq(r.vector, 6);
    ck_assert_uint_eq(r.gpr[6], 100); /* 100 + 5 - 5: the second pass subtracted */
    ck_assert_uint_eq(t->ram[TM_CODE + 2], 0x29);
    tm_free(t);
  }
}
END_TEST

/* The store's successor was remembered (memo) with no decode since: a store
 * that now hits the code page must still make it decoded again.
 *   0: 49 8b 18     mov rbx, [r8]      (the store's target, from a table)
 *   3: 49 83 c0 08  add r8, 8
 *   7: 88 03        mov [rbx], al      (al = 0x29)
 *   9: 01 ce        add esi, ecx       -> on the third pass patched to SUB
 *  11: ff ca        dec edx
 *  13: 75 f1        jnz 0
 * Passes 1 and 2 store into data (the second decodes nothing), pass 3 into
 * the ADD's opcode. */
START_TEST(test_smc_after_memo) {
  static const uint8_t code[] = {0x49, 0x8b, 0x18, 0x49, 0x83, 0xc0, 0x08, 0x88,
                                 0x03, 0x01, 0xce, 0xff, 0xca, 0x75, 0xf1};
  for (int generic = 0; generic < 2; generic++) {
    struct tm_state st = {.cpl = 0};
    st.gpr[0] = 0x29;
    st.gpr[1] = 5;       /* ecx */
    st.gpr[2] = 3;       /* edx: three passes */
    st.gpr[6] = 100;     /* esi */
    st.gpr[8] = TM_DATA; /* r8: the table of store targets */
    struct tm *t = tm_new(code, sizeof code, &st);
    t->c->generic_only = generic;
    uint64_t targets[3] = {TM_DATA + 0x80, TM_DATA + 0x80, TM_CODE + 9};
    memcpy(t->ram + TM_DATA, targets, sizeof targets);
    struct tm_result r;
    tm_run(t, &r);
    ck_assert_int_eq(r.vector, 6);
    ck_assert_uint_eq(r.gpr[6], 105); /* 100 + 5 + 5 - 5 */
    tm_free(t);
  }
}
END_TEST

/* The memo of the next entry across a privilege change: IRETQ (in exec())
 * returns to the same RIP, twice at CPL0 and then at CPL3. The second pass
 * remembers T as IRETQ's successor with no decode after it; on the third the
 * entry of T decoded at CPL0 is no hit at CPL3 (the cache is per CPL), so T,
 * and what follows, must be looked up and decoded again, as the reference
 * (every instruction looked up) does: the same counters (fetches). It fails
 * without the epoch bump on a CPL change (model_dispatch.c, epoch_cpl()). The
 * entries keep their CPL's ITLB need (fetch_need) for the inline re-fetch.
 *   0: 48 cf        iretq              (frames: T at CPL0, T at CPL0, T at CPL3)
 *   2: ff ca        dec edx            T
 *   4: 75 fa        jnz 0
 *   6: 0f 0b        ud2                (appended)                             */
START_TEST(test_memo_across_cpl_change) {
  static const uint8_t code[] = {0x48, 0xcf, 0xff, 0xca, 0x75, 0xfa};
  const uint64_t rsp = TM_STACK - 0x100, user_rsp = TM_STACK - 0x800, t_rip = TM_CODE + 2;
  struct tm_result r[2];
  uint64_t fetches[2];
  for (int generic = 0; generic < 2; generic++) {
    struct tm_state st = {.cpl = 0};
    st.gpr[2] = 3; /* edx: three passes */
    st.gpr[4] = rsp;
    struct tm *t = tm_new(code, sizeof code, &st);
    t->c->generic_only = generic;
    /* three IRETQ frames one after the other: RIP, CS, RFLAGS, RSP, SS */
    const uint64_t frames[3][5] = {
        {t_rip, 0x08, 0x2, rsp + 40, 0x10},
        {t_rip, 0x08, 0x2, rsp + 80, 0x10},
        {t_rip, 0x23, 0x2, user_rsp, 0x1b},
    };
    memcpy(t->ram + rsp, frames, sizeof frames);
    tm_run(t, &r[generic]);
    ck_assert_int_eq(r[generic].vector, 6); /* the UD2, reached at CPL3 */
    ck_assert_uint_eq(r[generic].rip, TM_CODE + sizeof code);
    ck_assert_uint_eq(r[generic].gpr[4], user_rsp);
    fetches[generic] = t->c->cnt.fetches;
    /* IRETQ, DEC, JNZ three times, then the #UD handler's HLT */
    ck_assert_uint_eq(t->c->cnt.instructions, 3 * 3 + 1);
    /* the ITLB need the inline re-fetch takes from an entry (refetch()) is
     * its CPL's: IRETQ decoded at CPL0, T last decoded at CPL3 */
    const struct model_icache_entry *ei = model_icache__slot(t->c, TM_CODE),
                                    *et = model_icache__slot(t->c, t_rip);
    ck_assert(ei->rip == TM_CODE && ei->cpl == 0 && ei->fetch_need == TLBP_X);
    ck_assert(et->rip == t_rip && et->cpl == 3 && et->fetch_need == TLBP_X << 3);
    tm_free(t);
  }
  ck_assert_msg(fetches[0] == fetches[1], "decodes: %llu with the memos, %llu looked up one by one",
                (unsigned long long)fetches[0], (unsigned long long)fetches[1]);
  ck_assert_uint_eq(fetches[1], 7); /* iretq, T, jnz at CPL0; T, jnz at CPL3; ud2; the stub */
}
END_TEST

/* PD entry 511 (va 0x3fe00000, the 2 MiB page below the 1 GiB alias)
 * onto the 2 MiB page at physical pa */
static void map_pd511(struct tm *t, uint64_t pa) {
  uint64_t pde = pa | 0x87;
  memcpy(t->ram + TM_PD + 8 * 511, &pde, 8);
}

/* PD entry 511 remapped onto pa, the TLB flushed, the run restarted at
 * TM_CODE on the stack (the caller sets the other registers) */
static void remap_pd511_and_restart(struct tm *t, uint64_t pa) {
  map_pd511(t, pa);
  model_mmu__flush(t->c);
  t->c->rip = TM_CODE;
  t->c->gpr[4] = TM_STACK;
}

/* A straight-line instruction whose successor's decode goes into its own
 * cache slot: 0x3fffffff and 0x40000000 share one (rip ^ rip >> 13). The
 * lookup after the NOP refills the NOP's slot with DEC; a memo taken then
 * would say DEC follows DEC, and after a straight-line handler the dispatch
 * takes a memo without testing RIP. The same registers, RIP and counters as
 * the reference run (it fails without lookup()'s e == prev test: Linux's
 * init crashed on it).
 *   TM_CODE:     mov rax, 0x3fffffff; jmp rax
 *   0x3fffffff:  nop                   (a 2 MiB page onto physical 0x400000)
 *   0x40000000:  dec edx; jnz 0x3fffffff; ud2   (the 1 GiB alias: physical 0) */
START_TEST(test_memo_own_slot) {
  static const uint8_t code[] = {0x48, 0xb8, 0xff, 0xff, 0xff, 0x3f, 0, 0, 0, 0, 0xff, 0xe0};
  static const uint8_t loop[] = {0xff, 0xca, 0x75, 0xfb, 0x0f, 0x0b};
  const uint64_t nop_va = 0x3fffffffull, nop_pa = 0x5fffffull;
  struct tm_result r[2];
  struct model_counters n[2];
  for (int generic = 0; generic < 2; generic++) {
    struct tm_state st = {.cpl = 0};
    st.gpr[2] = 3; /* edx: three passes */
    struct tm *t = tm_new(code, sizeof code, &st);
    ck_assert_ptr_eq(model_icache__slot(t->c, nop_va), model_icache__slot(t->c, nop_va + 1));
    t->c->generic_only = generic;
    map_pd511(t, 0x400000ull); /* 0x3fe00000 -> 0x400000 */
    t->ram[nop_pa] = 0x90;
    memcpy(t->ram, loop, sizeof loop);
    tm_run(t, &r[generic]);
    ck_assert_int_eq(r[generic].vector, 6);
    ck_assert_uint_eq(r[generic].rip, TM_ALIAS_1G + 4);
    ck_assert_uint_eq(r[generic].gpr[2], 0);
    ck_assert_uint_eq(t->c->cnt.instructions, 2 + 3 * 3 + 1); /* the #UD handler's HLT */
    n[generic] = t->c->cnt;
    tm_free(t);
  }
  ck_assert(memcmp(r[0].gpr, r[1].gpr, sizeof r[0].gpr) == 0);
  ck_assert(memcmp(&n[0], &n[1], sizeof n[0]) == 0);
}
END_TEST

/* A memo whose holder was decoded again: X, the last instruction of a
 * 2 MiB page, is followed by R on the next page (the 1 GiB alias of
 * physical 0). The first run remembers R after X (mov eax, ecx: R waits on
 * its eax). Then X's page is remapped to a copy where X is mov ebx, ecx and
 * the TLB flushed: X is decoded again, R is only fetched again (its page is
 * unchanged) and keeps its decode, so the memo X -> R still names R's
 * decode (model_memo.dser), but its count slot was computed after the old
 * X: lookup() may reuse it only because a decode drops the memos its entry
 * holds (model_exec.c). The same registers and counters (R's count by what
 * it waited for) as the reference; it fails without that reset.
 *   TM_CODE:     mov rax, 0x3ffffffe; jmp rax
 *   0x3ffffffe:  X                    (PD entry 511: a 2 MiB page)
 *   0x40000000:  add esi, eax; dec edx; jnz 0x3ffffffe; ud2                */
START_TEST(test_memo_of_redecoded_entry) {
  static const uint8_t code[] = {0x48, 0xb8, 0xfe, 0xff, 0xff, 0x3f, 0, 0, 0, 0, 0xff, 0xe0};
  static const uint8_t loop[] = {0x01, 0xc6, 0xff, 0xca, 0x75, 0xf8, 0x0f, 0x0b};
  const uint64_t pa1 = 0x400000ull, pa2 = 0x200000ull, x_off = 0x1ffffeull;
  struct tm_result r[2];
  struct model_counters n[2];
  for (int generic = 0; generic < 2; generic++) {
    struct tm_state st = {.cpl = 0};
    st.gpr[1] = 7; /* ecx */
    st.gpr[2] = 2; /* edx: two passes */
    struct tm *t = tm_new(code, sizeof code, &st);
    t->c->generic_only = generic;
    map_pd511(t, pa1);
    t->ram[pa1 + x_off] = 0x89, t->ram[pa1 + x_off + 1] = 0xc8; /* mov eax, ecx */
    t->ram[pa2 + x_off] = 0x89, t->ram[pa2 + x_off + 1] = 0xcb; /* mov ebx, ecx */
    memcpy(t->ram, loop, sizeof loop);
    tm_run(t, &r[generic]);
    ck_assert_int_eq(r[generic].vector, 6);
    ck_assert_uint_eq(r[generic].gpr[6], 14);
    remap_pd511_and_restart(t, pa2);
    t->c->gpr[0] = 1;
    t->c->gpr[2] = 2;
    tm_run(t, &r[generic]);
    ck_assert_int_eq(r[generic].vector, 6);
    ck_assert_uint_eq(r[generic].rip, TM_ALIAS_1G + 6);
    ck_assert_uint_eq(r[generic].gpr[3], 7); /* the copy's X ran */
    n[generic] = t->c->cnt;
    tm_free(t);
  }
  ck_assert(memcmp(r[0].gpr, r[1].gpr, sizeof r[0].gpr) == 0);
  ck_assert(memcmp(n[0].by_class, n[1].by_class, sizeof n[0].by_class) == 0);
  ck_assert(memcmp(&n[0], &n[1], sizeof n[0]) == 0);
}
END_TEST

/* Re-fetches after a flush (MOV CR3: the TLBs and the decode cache's
 * generation): every instruction after it is fetched again, one ITLB
 * lookup each, the decode kept (the run loop's inline re-fetch,
 * model_dispatch.c fetch_miss()), through the memos and looked up one by
 * one alike. N passes of 6 instructions fetch 6 each (the first pass
 * decodes them), plus the UD2 and the #UD stub's HLT: 6N + 2 fetches and as
 * many L1 ITLB lookups; the misses are the first fetch of the code page
 * before the first flush and after each (the stubs are in the same 2 MiB
 * page, which the harness maps with one entry). It fails if the
 * inline path skips either count, or keeps a decode it must not.
 *   0: 0f 20 d8     mov rax, cr3
 *   3: 0f 22 d8     mov cr3, rax
 *   6: 01 ce        add esi, ecx
 *   8: 83 c7 01     add edi, 1
 *  11: ff ca        dec edx
 *  13: 75 f1        jnz 0                                                   */
START_TEST(test_refetch_after_flush_counts) {
  static const uint8_t code[] = {0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8, 0x01, 0xce,
                                 0x83, 0xc7, 0x01, 0xff, 0xca, 0x75, 0xf1};
  enum { N = 5 };
  struct tm_result r[2];
  struct model_counters n[2];
  struct tlb_stats s[2];
  for (int generic = 0; generic < 2; generic++) {
    struct tm_state st = {.cpl = 0};
    st.gpr[1] = 3;  /* ecx */
    st.gpr[2] = N;  /* edx: N passes */
    st.gpr[6] = 10; /* esi */
    struct tm *t = tm_new(code, sizeof code, &st);
    t->c->generic_only = generic;
    tm_run(t, &r[generic]);
    ck_assert_int_eq(r[generic].vector, 6);
    ck_assert_uint_eq(r[generic].rip, TM_CODE + sizeof code);
    ck_assert_uint_eq(r[generic].gpr[6], 10 + 3 * N);
    ck_assert_uint_eq(r[generic].gpr[7], N);
    ck_assert_uint_eq(t->c->cnt.instructions, 6 * N + 1); /* the stub's HLT */
    ck_assert_uint_eq(t->c->cnt.fetches, 6 * N + 2);
    ck_assert_uint_eq(t->c->tlbm.st.lookups[TLBL_L1I], 6 * N + 2);
    ck_assert_uint_eq(t->c->tlbm.st.misses[TLBL_L1I], N + 1);
    n[generic] = t->c->cnt;
    s[generic] = t->c->tlbm.st;
    tm_free(t);
  }
  ck_assert(memcmp(&n[0], &n[1], sizeof n[0]) == 0);
  ck_assert(memcmp(&s[0], &s[1], sizeof s[0]) == 0);
}
END_TEST

/* The run loop's re-lookup block (model_dispatch.c, refetch_last()) keeps a
 * decode after a flush only while the L1 ITLB's last hit maps the page to
 * the frame it was decoded from. P (a taken JZ in the first 2 MiB page)
 * remembers S (in the 2 MiB page of PD entry 511) from the first run. Then
 * that page is remapped to a copy where S is another instruction and the
 * TLB flushed; the second run fetches L, P and the JMP, then Q (a fetch of
 * S's page: the miss fills it and makes it the last hit, Q is decoded
 * again), then P again without a fetch, which reaches S through its memo:
 * the last hit holds S's page but maps it to the copy, so S is decoded
 * again. The same registers and counters as the reference; it fails if the
 * block does not compare the frame (the old S would run).
 *   TM_CODE:     L: dec ecx; P: jz S; jmp Q
 *   0x3ffff000:  Q: jmp L; S: mov eax, esi (copy: mov ebx, esi); ud2      */
START_TEST(test_refetch_keeps_decode_only_from_its_frame) {
  const uint64_t pa1 = 0x400000ull, pa2 = 0x200000ull, off = 0x1ff000ull;
  const uint64_t q = 0x3fe00000ull + off, s_va = q + 5;
  uint8_t code[13] = {0xff, 0xc9, 0x0f, 0x84, 0, 0, 0, 0, 0xe9, 0, 0, 0, 0};
  int32_t rel = (int32_t)(s_va - (TM_CODE + 8));
  memcpy(code + 4, &rel, 4);
  rel = (int32_t)(q - (TM_CODE + 13));
  memcpy(code + 9, &rel, 4);
  uint8_t far[9] = {0xe9, 0, 0, 0, 0, 0x89, 0xf0, 0x0f, 0x0b};
  rel = (int32_t)(TM_CODE - (q + 5));
  memcpy(far + 1, &rel, 4);
  struct tm_result r[2];
  struct model_counters n[2];
  struct tlb_stats ts[2];
  for (int generic = 0; generic < 2; generic++) {
    struct tm_state st = {.cpl = 0};
    st.gpr[1] = 2; /* ecx: P falls through once, then jumps to S */
    st.gpr[6] = 7; /* esi */
    struct tm *t = tm_new(code, sizeof code, &st);
    t->c->generic_only = generic;
    map_pd511(t, pa1);
    memcpy(t->ram + pa1 + off, far, sizeof far);
    memcpy(t->ram + pa2 + off, far, sizeof far);
    t->ram[pa2 + off + 6] = 0xf3; /* the copy's S: mov ebx, esi */
    tm_run(t, &r[generic]);
    ck_assert_int_eq(r[generic].vector, 6);
    ck_assert_uint_eq(r[generic].gpr[0], 7);
    remap_pd511_and_restart(t, pa2);
    t->c->gpr[0] = 0;
    t->c->gpr[1] = 2;
    tm_run(t, &r[generic]);
    ck_assert_int_eq(r[generic].vector, 6);
    ck_assert_uint_eq(r[generic].rip, s_va + 2);
    ck_assert_uint_eq(r[generic].gpr[0], 0);
    ck_assert_uint_eq(r[generic].gpr[3], 7); /* the copy's S ran */
    n[generic] = t->c->cnt;
    ts[generic] = t->c->tlbm.st;
    tm_free(t);
  }
  ck_assert(memcmp(r[0].gpr, r[1].gpr, sizeof r[0].gpr) == 0);
  ck_assert(memcmp(&n[0], &n[1], sizeof n[0]) == 0);
  ck_assert(memcmp(&ts[0], &ts[1], sizeof ts[0]) == 0);
}
END_TEST

/* alu() takes ADD, SUB, CMP, AND, OR, XOR's flags from the host on x86-64
 * (model_ops.h): the same result and flags as the C definition
 * (model_ops__alu_c) for every operation and size, on edge operands (0, 1,
 * the sign bit and its neighbours, all ones: carries, overflows, AF from
 * bit 3, parity) and random ones, from both CF states (ADC and SBB read
 * it), with the non-arithmetic RFLAGS bits left alone. */
START_TEST(test_alu_host_flags) {
#ifndef MODEL_OPS_HOST_FLAGS
  ck_assert_msg(0, "built without MODEL_OPS_HOST_FLAGS: alu() is model_ops__alu_c itself");
#endif
  struct model_cpu *c = calloc(1, sizeof *c);
  ck_assert_ptr_nonnull(c);
  s_rng = 0xf1a65u;
  static const unsigned sizes[] = {1, 2, 4, 8};
  unsigned checked = 0;
  for (unsigned si = 0; si < 4; si++) {
    unsigned sz = sizes[si];
    uint64_t m = MASK(sz), sign = 1ull << (sz * 8 - 1);
    const uint64_t edge[] = {0,    1,        2,    0xf,      0x10,  0x7f, 0x80,
                             0xff, sign - 1, sign, sign + 1, m - 1, m};
    const unsigned ne = sizeof edge / sizeof edge[0];
    for (unsigned i = 0; i < ne * ne + 4000; i++) {
      uint64_t a = i < ne * ne ? edge[i / ne] : rnd(), b = i < ne * ne ? edge[i % ne] : rnd();
      a &= m, b &= m;
      for (unsigned op = 0; op < 8; op++)
        for (uint64_t cf = 0; cf < 2; cf++) {
          uint64_t other = (rnd() & ~RF_ARITH & 0x3f7fd5ull) | RF_FIXED, want_f;
          c->rflags = other | cf;
          uint64_t want = model_ops__alu_c(cf, op, a, b, sz, &want_f);
          uint64_t got = alu(c, op, a, b, sz);
          if (op != 7) /* CMP's result is not stored */
            ck_assert_msg(got == want, "op %u sz %u: 0x%llx op 0x%llx = 0x%llx, C says 0x%llx", op,
                          sz, (unsigned long long)a, (unsigned long long)b, (unsigned long long)got,
                          (unsigned long long)want);
          ck_assert_msg(c->rflags == (other | want_f),
                        "op %u sz %u: 0x%llx op 0x%llx: rflags 0x%llx, C says 0x%llx", op, sz,
                        (unsigned long long)a, (unsigned long long)b, (unsigned long long)c->rflags,
                        (unsigned long long)(other | want_f));
          checked++;
        }
    }
  }
  ck_assert_uint_gt(checked, 100000);
  free(c);
}
END_TEST

Suite *suite_model_dispatch(void) {
  Suite *s = suite_create("model_dispatch");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_handlers_match_exec, 0, 4);
  tcase_add_test(tc, test_smc_through_handler);
  tcase_add_test(tc, test_memo_across_cpl_change);
  tcase_add_test(tc, test_memo_own_slot);
  tcase_add_test(tc, test_alu_host_flags);
  tcase_add_test(tc, test_smc_after_memo);
  tcase_add_test(tc, test_refetch_after_flush_counts);
  tcase_add_test(tc, test_memo_of_redecoded_entry);
  tcase_add_test(tc, test_refetch_keeps_decode_only_from_its_frame);
  suite_add_tcase(s, tc);
  return s;
}
