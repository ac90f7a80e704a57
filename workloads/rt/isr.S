/* isr.S - 256 interrupt stubs, 16 bytes apart from isr_stubs, and the common
 * path. A stub pushes a dummy error code where the CPU pushes none, then the
 * vector; the common path saves the caller-saved registers (struct
 * trap_frame in trap.h; callee-saved ones are kept by the C code), calls
 * trap__dispatch(frame) and returns with IRETQ. Kept short: ring-0 code is
 * emulated instruction by instruction on some hosts. */
	.section .text, "ax"
	.code64
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if vec == 6
	jmp isr_ud	/* the trap system call's fast path */
	.elseif (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	.if vec != 6
	pushq $vec
	jmp isr_common
	.endif
	.set vec, vec + 1
	.endr

/* #UD: UD2 (0f 0b) from ring 3 is the trap system call. RAX = number,
 * RDI/RSI/RDX = arguments, result in RAX, every other register kept. This
 * path skips the trap frame (about 15 fewer ring-0 instructions than the
 * common path); anything else goes the common way as vector 6. */
isr_ud:
	testb $3, 8(%rsp)		/* CS of the interrupted code */
	jz 2f
	push %r11
	mov 8(%rsp), %r11		/* RIP */
	cmpw $0x0b0f, (%r11)
	jne 1f
	addq $2, 8(%rsp)
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	sub $8, %rsp			/* 40 + 64 + 8: 16-byte aligned call */
	mov %rdx, %rcx
	mov %rsi, %rdx
	mov %rdi, %rsi
	mov %rax, %rdi
	call sys__dispatch
	add $8, %rsp
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %r11
	iretq
1:	pop %r11
2:	pushq $0
	pushq $6
	jmp isr_common

isr_common:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	mov %rsp, %rdi
	call trap__dispatch
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	add $16, %rsp
	iretq

	.section .note.GNU-stack, "", @progbits
