/* desc.h - the runtime's own GDT, TSS and IDT (selectors as in vtb_abi.h).
 * IST1 serves #DF and IST2 NMI, so a blown stack or an NMI at the start of
 * the SYSCALL entry still lands on a good stack. */
#ifndef RT_DESC_H
#define RT_DESC_H

#include <stdint.h>

void desc__init(void);
/* Stack the CPU switches to on a trap from ring 3 (TSS.rsp0). */
void desc__set_rsp0(uint64_t rsp0);

extern char isr_stubs[]; /* 256 stubs, 16 bytes apart (isr.S) */
extern char trap_stack_top[];

#endif
