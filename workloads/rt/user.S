/* user.S - entering ring 3, leaving it, and the SYSCALL entry.
 * Selectors: 0x08 kernel code, 0x10 kernel data, 0x1b user data,
 * 0x23 user code (vtb_abi.h VTB_SEL_*). */
	.section .text, "ax"
	.code64

/* uint64_t user__enter(fn, arg, rsp, rflags): IRETQ to user__trampoline at
 * CPL3 with RDI = fn, RSI = arg; returns the value user__leave gets. */
	.globl user__enter
user__enter:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, user_kctx_rsp(%rip)
	pushq $0x1b
	pushq %rdx
	pushq %rcx
	pushq $0x23
	pushq $user__trampoline
	iretq

/* noreturn user__leave(value): back onto the stack user__enter saved,
 * abandoning the trap frame on the trap stack. */
	.globl user__leave
user__leave:
	mov $0x10, %eax
	mov %eax, %ss
	mov user_kctx_rsp(%rip), %rsp
	mov %rdi, %rax
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

/* SYSCALL lands here at CPL0 with the user RSP still loaded (IF, TF, DF,
 * AC masked by FMASK). RAX = number, RDI/RSI/RDX = arguments. */
	.globl syscall__entry
syscall__entry:
	mov %rsp, sc_user_rsp(%rip)
	mov $trap_stack_top, %rsp
	pushq sc_user_rsp(%rip)
	push %rcx
	push %r11
	push %rdi
	push %rsi
	push %rdx
	push %r8
	push %r9
	push %r10
	sub $8, %rsp
	mov %rdx, %rcx
	mov %rsi, %rdx
	mov %rdi, %rsi
	mov %rax, %rdi
	call sys__dispatch
	add $8, %rsp
	pop %r10
	pop %r9
	pop %r8
	pop %rdx
	pop %rsi
	pop %rdi
	pop %r11
	pop %rcx
	pop %rsp
	sysretq

	.section .bss, "aw", @nobits
	.balign 8
user_kctx_rsp:
	.skip 8
sc_user_rsp:
	.skip 8

	.section .note.GNU-stack, "", @progbits
