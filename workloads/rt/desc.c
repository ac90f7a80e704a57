/* desc.c - GDT, TSS and IDT. The GDT mirrors the VMM's boot GDT selectors
 * and adds the TSS; the IDT points every vector at its isr.S stub. */
#include "desc.h"

#include "vtb_abi.h"

struct __attribute__((packed)) tss64 {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t iomap_base;
};

struct __attribute__((packed)) dtr {
  uint16_t limit;
  uint64_t base;
};

struct idt_gate {
  uint64_t lo, hi;
};

extern char df_stack_top[], nmi_stack_top[];

static struct tss64 tss __attribute__((aligned(64)));
static uint64_t gdt[7] __attribute__((aligned(16))) = {
    0,
    0x00af9b000000ffffull, /* 0x08 kernel code, 64-bit */
    0x00cf93000000ffffull, /* 0x10 kernel data */
    0x00cff3000000ffffull, /* 0x18 user data (selector 0x1b) */
    0x00affb000000ffffull, /* 0x20 user code, 64-bit (selector 0x23) */
    0,                     /* 0x28 TSS, 16 bytes, filled at init */
    0,
};
static struct idt_gate idt[256] __attribute__((aligned(4096)));

void desc__set_rsp0(uint64_t rsp0) {
  tss.rsp[0] = rsp0;
}

void desc__init(void) {
  uint64_t tb = (uint64_t)&tss;
  tss.rsp[0] = (uint64_t)trap_stack_top;
  tss.ist[0] = (uint64_t)df_stack_top;
  tss.ist[1] = (uint64_t)nmi_stack_top;
  tss.iomap_base = sizeof(tss);
  gdt[5] =
      (sizeof(tss) - 1) | ((tb & 0xffffff) << 16) | (0x89ull << 40) | ((tb >> 24 & 0xff) << 56);
  gdt[6] = tb >> 32;

  uint64_t h = (uint64_t)isr_stubs;
  for (unsigned v = 0; v < 256; v++, h += 16) {
    uint64_t ist = v == 8 ? 1 : v == 2 ? 2 : 0;
    idt[v].lo = (h & 0xffff) | ((uint64_t)VTB_SEL_KCODE << 16) | (ist << 32) | (0x8eull << 40) |
                ((h >> 16 & 0xffff) << 48);
    idt[v].hi = h >> 32;
  }

  struct dtr g = {sizeof(gdt) - 1, (uint64_t)gdt};
  struct dtr i = {sizeof(idt) - 1, (uint64_t)idt};
  __asm__ volatile("lgdt %0\n\t"
                   "pushq %1\n\t"
                   "leaq 1f(%%rip), %%rax\n\t"
                   "pushq %%rax\n\t"
                   "lretq\n"
                   "1:\n\t"
                   "mov %2, %%eax\n\t"
                   "mov %%eax, %%ds\n\t"
                   "mov %%eax, %%es\n\t"
                   "mov %%eax, %%ss\n\t"
                   "xor %%eax, %%eax\n\t"
                   "mov %%eax, %%fs\n\t"
                   "mov %%eax, %%gs\n\t"
                   "lidt %3\n\t"
                   "mov %4, %%eax\n\t"
                   "ltr %%ax"
                   :
                   : "m"(g), "i"(VTB_SEL_KCODE), "i"(VTB_SEL_KDATA), "m"(i), "i"(VTB_SEL_TSS)
                   : "rax", "memory");
}
