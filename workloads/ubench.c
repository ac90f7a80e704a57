/* ubench - instruction-class microbenchmarks for `vtbench calibrate`: n
 * iterations of one kernel of 32 instructions of a kind (plus the loop's
 * DEC and JNZ), in ring 3, so that time per iteration over the model's
 * exact counts of the same run gives the host's cost of that kind of
 * instruction, independent (throughput) or each waiting for the one before
 * (latency). Registers R8..R15 start at seed + i (i = 0..7) and the
 * checksum is their sum at the end, computed on the host the same way:
 *
 *   kernel 0 alu       ADD $1 to R8..R15 in turn, 4 rounds: independent
 *                      checksum = 8 seed + 28 + 32 n
 *   kernel 1 alu_dep   ADD $1 to R8, 32 times: each waits for the last
 *                      checksum = 8 seed + 28 + 32 n
 *   kernel 2 mov       MOV $i+1 to R8..R15 in turn, 4 rounds: no inputs
 *                      checksum = 36 (n >= 1)
 *   kernel 3 mov_dep   MOV R8->R9->...->R15->R8 around, 4 rounds: a chain
 *                      checksum = 8 (seed + 7) (n >= 1: every register
 *                      holds R15's start after the first round)
 *   kernel 4 mul       IMUL R8..R15 by RAX = 3 in turn, 4 rounds
 *                      checksum = sum (seed + i) 3^(4n) mod 2^64
 *   kernel 5 mul_dep   IMUL R8 by RAX = 3, 32 times
 *                      checksum = (seed) 3^(32n) + sum_{i>0} (seed + i)
 *   kernel 6 load      MOV from 8 words of a buffer (values 1..8) to
 *                      R8..R15 in turn, 4 rounds: independent L1 hits
 *                      checksum = 36 (n >= 1)
 *   kernel 7 load_dep  MOV (R8) to R8, 32 times: R8 points at a word that
 *                      holds its own address (an L1 pointer chase)
 *                      checksum = buffer address + sum_{i>0} (seed + i)
 *                      (reported relative: the address is subtracted)
 *   kernel 8 branch    ADD $1 to R8..R15 in turn, each followed by a taken
 *                      JMP to the next instruction, 2 rounds (16 + 16)
 *                      checksum = 8 seed + 28 + 16 n
 *   kernel 9 stack     PUSH R8..R15 twice, POP them back: 32 stack ops
 *                      checksum = 8 seed + 28
 *   kernel 10 nop      32 NOPL (multi-byte NOP): the "other" class
 *                      checksum = 8 seed + 28
 * iterations = n. */
#include "rt.h"

enum {
  K_ALU,
  K_ALU_DEP,
  K_MOV,
  K_MOV_DEP,
  K_MUL,
  K_MUL_DEP,
  K_LOAD,
  K_LOAD_DEP,
  K_BRANCH,
  K_STACK,
  K_NOP,
  K_COUNT
};

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 1000000, 1, 1ull << 40, "iterations of the kernel (32 instructions each)"},
    {"kernel", 0, 0, K_COUNT - 1,
     "alu alu_dep mov mov_dep mul mul_dep load load_dep branch stack nop (0..10)"},
    {"seed", 1, 0, ~0ull, "R8 starts at seed, R9 at seed + 1, ..."},
    VTB_PARAM_END,
};

static uint64_t buf[8] __attribute__((aligned(64)));

/* The kernels: one asm loop each; R8..R15 in and out. */
#define REGS                                                                                       \
  "+r"(r8), "+r"(r9), "+r"(r10), "+r"(r11), "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15), "+r"(n)
#define EACH(op) op(8) op(9) op(10) op(11) op(12) op(13) op(14) op(15)
#define ADD1(r)  "add $1, %%r" #r "\n"
#define MOVI(r)  "mov $(" #r " - 7), %%r" #r "\n"
#define IMUL(r)  "imul %%rax, %%r" #r "\n"
#define LOAD(r)  "mov (" #r " - 8) * 8(%%rsi), %%r" #r "\n"
#define PUSH(r)  "push %%r" #r "\n"
#define JMP(r)   "add $1, %%r" #r "\njmp 2f\n2:\n"

/* Runs between the marks (no call in between: the register variables are
 * set after the mark and read before the next). */
static __attribute__((noinline)) uint64_t run_kernel(unsigned k, uint64_t n, uint64_t seed,
                                                     uint64_t base) {
  register uint64_t r8 __asm__("r8") = seed, r9 __asm__("r9") = seed + 1;
  register uint64_t r10 __asm__("r10") = seed + 2, r11 __asm__("r11") = seed + 3;
  register uint64_t r12 __asm__("r12") = seed + 4, r13 __asm__("r13") = seed + 5;
  register uint64_t r14 __asm__("r14") = seed + 6, r15 __asm__("r15") = seed + 7;
  if (k == K_LOAD_DEP) r8 = base;
  switch (k) {
  case K_ALU:
    __asm__ volatile("1:\n.rept 4\n" EACH(ADD1) ".endr\ndec %8\njnz 1b\n" : REGS : : "cc");
    break;
  case K_ALU_DEP:
    __asm__ volatile("1:\n.rept 32\nadd $1, %%r8\n.endr\ndec %8\njnz 1b\n" : REGS : : "cc");
    break;
  case K_MOV:
    __asm__ volatile("1:\n.rept 4\n" EACH(MOVI) ".endr\ndec %8\njnz 1b\n" : REGS : : "cc");
    break;
  case K_MOV_DEP:
    __asm__ volatile("1:\n.rept 4\n"
                     "mov %%r15, %%r8\nmov %%r8, %%r9\nmov %%r9, %%r10\nmov %%r10, %%r11\n"
                     "mov %%r11, %%r12\nmov %%r12, %%r13\nmov %%r13, %%r14\nmov %%r14, %%r15\n"
                     ".endr\ndec %8\njnz 1b\n"
                     : REGS
                     :
                     : "cc");
    break;
  case K_MUL:
    __asm__ volatile("1:\n.rept 4\n" EACH(IMUL) ".endr\ndec %8\njnz 1b\n"
                     : REGS
                     : "a"(3ull)
                     : "cc");
    break;
  case K_MUL_DEP:
    __asm__ volatile("1:\n.rept 32\nimul %%rax, %%r8\n.endr\ndec %8\njnz 1b\n"
                     : REGS
                     : "a"(3ull)
                     : "cc");
    break;
  case K_LOAD:
    __asm__ volatile("1:\n.rept 4\n" EACH(LOAD) ".endr\ndec %8\njnz 1b\n"
                     : REGS
                     : "S"(buf)
                     : "cc", "memory");
    break;
  case K_LOAD_DEP:
    __asm__ volatile("1:\n.rept 32\nmov (%%r8), %%r8\n.endr\ndec %8\njnz 1b\n"
                     : REGS
                     :
                     : "cc", "memory");
    break;
  case K_BRANCH:
    __asm__ volatile("1:\n.rept 2\n" EACH(JMP) ".endr\ndec %8\njnz 1b\n" : REGS : : "cc");
    break;
  case K_STACK:
    __asm__ volatile("1:\n.rept 2\n" EACH(
                         PUSH) ".endr\n"
                               "pop %%r15\npop %%r14\npop %%r13\npop %%r12\npop %%r11\npop %%r10\n"
                               "pop %%r9\npop %%r8\npop %%r15\npop %%r14\npop %%r13\npop %%r12\n"
                               "pop %%r11\npop %%r10\npop %%r9\npop %%r8\ndec %8\njnz 1b\n"
                     : REGS
                     :
                     : "cc", "memory");
    break;
  default:
    __asm__ volatile("1:\n.rept 32\nnopl 0(%%rax)\n.endr\ndec %8\njnz 1b\n" : REGS : : "cc");
    break;
  }
  return r8 - base + r9 + r10 + r11 + r12 + r13 + r14 + r15;
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), seed = param("seed"), base = 0;
  unsigned k = (unsigned)param("kernel");
  for (unsigned i = 0; i < 8; i++)
    buf[i] = i + 1;
  if (k == K_LOAD_DEP) { /* R8 points at a word holding its own address */
    buf[0] = (uint64_t)&buf[0];
    base = buf[0];
  }
  mark_begin();
  uint64_t sum = run_kernel(k, n, seed, base);
  mark_end();
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "ubench",
    .desc = "instruction-class microbenchmarks (vtbench calibrate): 32 instructions of one kind "
            "per iteration, independent or chained",
    .params = params,
    .cpl_allowed = WL_CPL3,
    .cpl_default = 3,
    .run = run,
};
