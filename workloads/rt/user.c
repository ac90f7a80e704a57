/* user.c - system call dispatch, user_call and SYSCALL/SYSRET set-up. */
#include "user.h"

#include "desc.h"
#include "hc.h"
#include "printf.h"
#include "x86.h"

int rt_use_syscall_insn;
uint64_t rt_user_rflags = X86_RFLAGS_FIXED;

extern char user_stack_top[];
extern char syscall__entry[];

uint64_t sys__dispatch(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3) {
  switch (nr) {
  case SYS_NOP:
    return 0;
  case SYS_ECHO:
    return ~a1;
  case SYS_HYPERCALL:
    hc__kernel((unsigned)a1, a2);
    return 0;
  case SYS_KCALL:
    return ((uint64_t(*)(uint64_t, uint64_t))a1)(a2, a3);
  case SYS_RETURN:
    user__leave(a1);
  default:
    printf("vtb: unknown system call %lu\n", nr);
    return ~0ull;
  }
}

/* First code at CPL3: run fn(arg), then return to the kernel. */
__attribute__((noreturn, used)) void user__trampoline(user_fn fn, uint64_t arg) {
  uint64_t r = fn(arg);
  sys_call1(SYS_RETURN, r);
  for (;;)
    ;
}

uint64_t user_call(user_fn fn, uint64_t arg) {
  /* RSP = top - 8: the ABI's alignment at function entry. */
  return user__enter(fn, arg, (uint64_t)user_stack_top - 8, rt_user_rflags);
}

uint64_t kcall(uint64_t (*fn)(uint64_t, uint64_t), uint64_t a, uint64_t b) {
  if (x86_cpl() == 0) return fn(a, b);
  return sys_call3(SYS_KCALL, (uint64_t)fn, a, b);
}

void syscall__init(void) {
  /* SYSCALL: CS = 0x08, SS = 0x10. SYSRET: SS = 0x10+8 | 3, CS = 0x10+16 | 3. */
  wrmsr(X86_MSR_STAR, (0x10ull << 48) | (0x08ull << 32));
  wrmsr(X86_MSR_LSTAR, (uint64_t)syscall__entry);
  wrmsr(X86_MSR_FMASK, 0x40700); /* AC, DF, IF, TF */
  uint64_t efer = rdmsr(X86_MSR_EFER);
  if (!(efer & 1)) /* SCE; refvmm sets it already, and some hosts #GP on EFER writes */
    wrmsr(X86_MSR_EFER, efer | 1);
}
