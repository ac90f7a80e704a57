/* entry.S - the 64-bit entry point and the runtime's stacks.
 * refvmm enters _start in long mode at CPL0 with RDI = boot info GPA
 * (vtb_abi.h); the PVH path (pvh.S) joins here too. */
	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	cli
	cld
	mov $kstack_top, %rsp
	xor %ebp, %ebp
	call rt_main
1:	hlt
	jmp 1b

	.section .bss.stacks, "aw", @nobits
	.balign 4096
	.globl kstack_top, trap_stack_top, user_stack_top, df_stack_top, nmi_stack_top
kstack:	.skip 16384	/* kernel: boot and user_call's caller */
kstack_top:
	.skip 16384	/* TSS.rsp0: traps and system calls from ring 3 */
trap_stack_top:
	.skip 4096	/* IST1: #DF */
df_stack_top:
	.skip 4096	/* IST2: NMI */
nmi_stack_top:
	.skip 65536	/* ring 3 */
user_stack_top:

	.section .note.GNU-stack, "", @progbits
