/* x86.h - architectural constants of x86-64 the model CPU and the VMM code
 * on its exits both use: RFLAGS bits, exception vectors, #PF error-code
 * bits, the MSRs the guest runtime touches, EFER bits (Intel SDM vol. 3). */
#ifndef REFVMM_MODEL_X86_H
#define REFVMM_MODEL_X86_H

/* ---- RFLAGS ---------------------------------------------------------------- */
#define RF_CF    0x1ull
#define RF_FIXED 0x2ull
#define RF_PF    0x4ull
#define RF_AF    0x10ull
#define RF_ZF    0x40ull
#define RF_SF    0x80ull
#define RF_TF    0x100ull
#define RF_IF    0x200ull
#define RF_DF    0x400ull
#define RF_OF    0x800ull
#define RF_IOPL  0x3000ull
#define RF_NT    0x4000ull
#define RF_RF    0x10000ull
#define RF_VM    0x20000ull
#define RF_AC    0x40000ull
#define RF_VIF   0x80000ull
#define RF_VIP   0x100000ull
#define RF_ID    0x200000ull
#define RF_ARITH (RF_CF | RF_PF | RF_AF | RF_ZF | RF_SF | RF_OF)

/* ---- Exceptions ---------------------------------------------------------------- */
enum {
  X86_DE = 0,
  X86_DB = 1,
  X86_NMI = 2,
  X86_BP = 3,
  X86_OF = 4,
  X86_BR = 5,
  X86_UD = 6,
  X86_NM = 7,
  X86_DF = 8,
  X86_TS = 10,
  X86_NP = 11,
  X86_SS = 12,
  X86_GP = 13,
  X86_PF = 14,
  X86_MF = 16,
  X86_AC = 17,
  X86_MC = 18,
  X86_XM = 19,
};
/* #PF error code bits */
#define PFEC_P    0x1u
#define PFEC_W    0x2u
#define PFEC_U    0x4u
#define PFEC_RSVD 0x8u
#define PFEC_I    0x10u

/* ---- MSRs the runtime uses ---------------------------------------------------- */
#define MSR_TSC            0x10u
#define MSR_APIC_BASE      0x1bu
#define MSR_PAT            0x277u
#define MSR_EFER           0xc0000080u
#define MSR_STAR           0xc0000081u
#define MSR_LSTAR          0xc0000082u
#define MSR_CSTAR          0xc0000083u
#define MSR_SFMASK         0xc0000084u
#define MSR_FS_BASE        0xc0000100u
#define MSR_GS_BASE        0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_TSC_AUX        0xc0000103u

#define APIC_BASE_ENABLE (1ull << 11)

/* Model CPU physical address width (CPUID 0x80000008). */
#define MODEL_MAXPHYADDR 40

#define EFER_NXE (1ull << 11)

/* Segment registers in their encoding order (ModRM.reg of MOV Sreg) */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT };

#endif
