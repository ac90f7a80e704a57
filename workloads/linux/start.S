/* start.S - entry of every static program of the Linux guest: the kernel
 * starts it with RSP -> argc, argv[], NULL, envp[], NULL, auxv. Calls
 * main(argc, argv, envp) on a 16-byte aligned stack and exits with its
 * return value. */
	.text
	.globl _start
	.type _start, @function
_start:
	xor %ebp, %ebp
	mov (%rsp), %rdi            /* argc */
	lea 8(%rsp), %rsi           /* argv */
	lea 8(%rsi,%rdi,8), %rdx    /* envp: after argv's NULL */
	and $-16, %rsp
	call main
	mov %eax, %edi
	mov $231, %eax              /* exit_group */
	syscall
	hlt
	.size _start, . - _start
	.section .note.GNU-stack, "", @progbits
