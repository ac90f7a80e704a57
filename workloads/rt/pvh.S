/* pvh.S - the PVH entry QEMU uses for `-kernel IMAGE.elf`.
 * The ELF note XEN_ELFNOTE_PHYS32_ENTRY (type 18, name "Xen") gives the
 * 32-bit entry. State there: protected mode, paging off, flat CS/DS, EBX =
 * physical address of struct hvm_start_info. We build an identity map of
 * [0, 4 GiB) in 2 MiB pages (present, writable, user) like refvmm's, enable
 * PAE, EFER.LME/NXE/SCE and CR0.PG, load a boot GDT and jump to 64-bit code,
 * which synthesizes boot info and joins _start. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4			/* namesz */
	.long 8			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad pvh__start32
	.balign 4

	.section .text, "ax"
	.code32
	.globl pvh__start32
pvh__start32:
	cli
	cld
	mov %ebx, pvh_start_info
	mov $kstack_top, %esp

	/* PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3 */
	mov $pvh_pdpt, %eax
	or $7, %eax
	mov %eax, pvh_pml4
	mov $pvh_pd, %eax
	or $7, %eax
	mov $pvh_pdpt, %edi
	mov $4, %ecx
1:	mov %eax, (%edi)
	movl $0, 4(%edi)
	add $4096, %eax
	add $8, %edi
	loop 1b
	/* 2048 PD entries: i * 2 MiB | PS | U | W | P */
	mov $pvh_pd, %edi
	mov $0x87, %eax
	mov $2048, %ecx
2:	mov %eax, (%edi)
	movl $0, 4(%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 2b

	mov $pvh_pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x620, %eax		/* PAE | OSFXSR | OSXMMEXCPT */
	mov %eax, %cr4
	mov $0xc0000080, %ecx
	rdmsr
	or $0x901, %eax		/* SCE | LME | NXE */
	wrmsr
	mov $0x80010033, %eax	/* PG | WP | NE | ET | MP | PE */
	mov %eax, %cr0
	lgdt pvh_gdt_desc
	ljmp $0x08, $pvh__start64

	.code64
pvh__start64:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	mov $kstack_top, %rsp
	movl pvh_start_info(%rip), %edi
	call pvh__boot_info
	mov %rax, %rdi
	jmp _start

	.section .rodata, "a"
	.balign 16
pvh_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08 code, 64-bit */
	.quad 0x00cf92000000ffff	/* 0x10 data */
pvh_gdt_end:
	.balign 8
pvh_gdt_desc:
	.word pvh_gdt_end - pvh_gdt - 1
	.long pvh_gdt

	.section .bss.pvh, "aw", @nobits
	.balign 4096
pvh_pml4:
	.skip 4096
pvh_pdpt:
	.skip 4096
pvh_pd:
	.skip 4 * 4096
pvh_start_info:
	.skip 8

	.section .note.GNU-stack, "", @progbits
