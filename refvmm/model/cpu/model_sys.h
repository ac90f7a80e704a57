/* model_sys.h - system instructions of the model CPU (model_sys.c): control
 * and debug registers, descriptor tables, MSRs, SYSCALL/SYSRET, IRET, far
 * return, segment loads, CPUID/RDTSC, fences and cache hints. */
#ifndef REFVMM_MODEL_SYS_H
#define REFVMM_MODEL_SYS_H

#include "model_cpu.h"

/* Execute a 0F-map system instruction. 0: retire normally with *nrip;
 * -1: the handler already set RIP and retired the instruction. */
int model_sys__exec(struct model_cpu *c, const struct model_insn *d, uint64_t *nrip);
void model_sys__load_seg(struct model_cpu *c, unsigned seg, uint16_t sel);
uint64_t model_sys__retf(struct model_cpu *c, const struct model_insn *d);
void model_sys__iret(struct model_cpu *c, const struct model_insn *d);
/* RFLAGS write under the POPF/IRET privilege rules (model_exec.c). */
void model_cpu__write_flags(struct model_cpu *c, uint64_t v, unsigned sz, unsigned cpl);
/* 0 and *v for a modeled MSR, -1 when it does not exist (#GP). */
int model_sys__rdmsr(struct model_cpu *c, uint32_t msr, uint64_t *v);
int model_sys__wrmsr(struct model_cpu *c, uint32_t msr, uint64_t v);
/* CPUID leaf/sub of the model CPU (docs/MODEL.md): EAX, EBX, ECX, EDX. */
void model_sys__cpuid(uint32_t leaf, uint32_t sub, uint32_t out[4]);

#endif
