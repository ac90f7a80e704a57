/* user.h - ring 3 and the system call.
 *
 * user_call(fn, arg) runs fn(arg) at CPL3 on the user stack and returns its
 * result in ring 0 once fn returns (fn ends with SYS_RETURN). Ring-3 code
 * enters the kernel with sys_call*(): by default a trap (UD2 -> #UD handler,
 * RAX = number, RDI/RSI/RDX = arguments, result in RAX, IRETQ back) because
 * some hosts mishandle SYSCALL/SYSRET and INT n; SYSCALL/SYSRET when boot
 * info lacks VTB_BOOT_F_SYSCALL_TRAP or `syscall=syscall` is given. */
#ifndef RT_USER_H
#define RT_USER_H

#include <stdint.h>

enum vtb_syscall {
  SYS_RETURN = 0,    /* a1 = value: leave ring 3, user_call returns a1 */
  SYS_HYPERCALL = 1, /* a1 = VTB_HC_* number, a2 = argument GPA */
  SYS_NOP = 2,       /* returns 0: the bare round trip */
  SYS_KCALL = 3,     /* a1 = uint64_t (*fn)(uint64_t, uint64_t), runs fn(a2, a3) at CPL0 */
  SYS_ECHO = 4,      /* returns ~a1: a round trip whose answer proves the kernel ran */
};

extern int rt_use_syscall_insn; /* 1: SYSCALL/SYSRET, 0: UD2 trap */

static inline uint64_t sys_call3(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3) {
  uint64_t ret;
  if (rt_use_syscall_insn)
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3)
                     : "rcx", "r11", "memory");
  else
    __asm__ volatile("ud2" : "=a"(ret) : "a"(nr), "D"(a1), "S"(a2), "d"(a3) : "memory");
  return ret;
}
static inline uint64_t sys_call1(uint64_t nr, uint64_t a1) {
  return sys_call3(nr, a1, 0, 0);
}

/* Run fn(a, b) at CPL0 from either ring. */
uint64_t kcall(uint64_t (*fn)(uint64_t, uint64_t), uint64_t a, uint64_t b);

typedef uint64_t (*user_fn)(uint64_t arg);
uint64_t user_call(user_fn fn, uint64_t arg);
extern uint64_t rt_user_rflags; /* RFLAGS ring 3 starts with (default: IF=0) */

/* Kernel internals. */
uint64_t sys__dispatch(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3);
void syscall__init(void); /* STAR/LSTAR/FMASK for SYSCALL/SYSRET */
uint64_t user__enter(user_fn fn, uint64_t arg, uint64_t rsp, uint64_t rflags);
__attribute__((noreturn)) void user__leave(uint64_t value);

#endif
