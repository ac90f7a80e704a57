/* model_msr.h - the model CPU's model-specific registers beyond the
 * architectural core of model_sys.c: what x86-64 Linux reads and writes on
 * an Intel family-6 CPU (IA32_MISC_ENABLE, the microcode revision, MTRRs,
 * IA32_ARCH_CAPABILITIES), and the MSRs of the platform that the VMM
 * handles (the local APIC's IA32_TSC_DEADLINE): those stop the CPU with
 * MSTOP_MSR, as an MSR exit does. */
#ifndef REFVMM_MODEL_MSR_H
#define REFVMM_MODEL_MSR_H

#include <stdbool.h>
#include <stdint.h>

struct model_cpu;

#define MSR_UCODE_REV         0x8bu
#define MSR_MTRRCAP           0xfeu
#define MSR_ARCH_CAPABILITIES 0x10au
#define MSR_MISC_ENABLE       0x1a0u
#define MSR_TSC_DEADLINE      0x6e0u
#define MSR_MTRR_DEF_TYPE     0x2ffu

/* IA32_MISC_ENABLE at reset: fast strings (bit 0) on; BTS and PEBS
 * unavailable (bits 11, 12): there is no PMU */
#define MISC_ENABLE_RESET ((1ull << 0) | (1ull << 11) | (1ull << 12))
/* MTRRs enabled (E, bit 11), default type write-back (6), no fixed or
 * variable ranges (IA32_MTRRCAP reads 0): memory types have no effect on
 * the model, which has no caches */
#define MTRR_DEF_TYPE_RESET ((1ull << 11) | 6u)

/* 0 and *v, or -1 (#GP) for an MSR the model does not have. */
int model_msr__read(struct model_cpu *c, uint32_t msr, uint64_t *v);
/* 0, or -1 (#GP): no such MSR, or a value it does not take. */
int model_msr__write(struct model_cpu *c, uint32_t msr, uint64_t v);
/* Every entry of an IA32_PAT value is a memory type (else WRMSR #GP). */
bool model_msr__pat_ok(uint64_t v);
/* The VMM handles this MSR (an exit, MSTOP_MSR). */
bool model_msr__vmm_owned(const struct model_cpu *c, uint32_t msr);

#endif
