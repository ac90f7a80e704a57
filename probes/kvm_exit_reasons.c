/* kvm_exit_reasons.c - hardware exit reason names (kvm_exit_reasons.h).
 * Names: arch/x86/include/uapi/asm/{vmx,svm}.h (VMX_EXIT_REASONS,
 * SVM_EXIT_REASONS); codes: Intel SDM Vol. 3C appendix C, AMD APM Vol. 2
 * appendix C. */
#include "probes/kvm_exit_reasons.h"

#include <stdio.h>
#include <stddef.h>

struct entry {
  uint32_t code;
  const char *hw, *sdm;
};

static const struct entry vmx[] = {
    {0, "EXCEPTION_NMI", "EXCEPTION_NMI"},
    {1, "EXTERNAL_INTERRUPT", "EXTERNAL_INTERRUPT"},
    {2, "TRIPLE_FAULT", "TRIPLE_FAULT"},
    {3, "INIT_SIGNAL", "INIT_SIGNAL"},
    {4, "SIPI_SIGNAL", "SIPI_SIGNAL"},
    {7, "INTERRUPT_WINDOW", "INTERRUPT_WINDOW"},
    {8, "NMI_WINDOW", "NMI_WINDOW"},
    {9, "TASK_SWITCH", "TASK_SWITCH"},
    {10, "CPUID", "CPUID"},
    {12, "HLT", "HLT"},
    {13, "INVD", "INVD"},
    {14, "INVLPG", "INVLPG"},
    {15, "RDPMC", "RDPMC"},
    {16, "RDTSC", "RDTSC"},
    {18, "VMCALL", "VMCALL"},
    {28, "CR_ACCESS", "CR_ACCESS"},
    {29, "DR_ACCESS", "DR_ACCESS"},
    {30, "IO_INSTRUCTION", "IO_INSTRUCTION"},
    {31, "MSR_READ", "MSR_READ"},
    {32, "MSR_WRITE", "MSR_WRITE"},
    {33, "INVALID_STATE", "INVALID_STATE"},
    {34, "MSR_LOAD_FAIL", "MSR_LOAD_FAIL"},
    {36, "MWAIT_INSTRUCTION", "MWAIT_INSTRUCTION"},
    {37, "MONITOR_TRAP_FLAG", "MONITOR_TRAP_FLAG"},
    {39, "MONITOR_INSTRUCTION", "MONITOR_INSTRUCTION"},
    {40, "PAUSE_INSTRUCTION", "PAUSE_INSTRUCTION"},
    {41, "MCE_DURING_VMENTRY", "MCE_DURING_VMENTRY"},
    {43, "TPR_BELOW_THRESHOLD", "TPR_BELOW_THRESHOLD"},
    {44, "APIC_ACCESS", "APIC_ACCESS"},
    {45, "EOI_INDUCED", "EOI_INDUCED"},
    {46, "GDTR_IDTR", "GDTR_IDTR"},
    {47, "LDTR_TR", "LDTR_TR"},
    {48, "EPT_VIOLATION", "EPT_VIOLATION"},
    {49, "EPT_MISCONFIG", "EPT_MISCONFIG"},
    {50, "INVEPT", "INVEPT"},
    {51, "RDTSCP", "RDTSCP"},
    {52, "PREEMPTION_TIMER", "PREEMPTION_TIMER"},
    {53, "INVVPID", "INVVPID"},
    {54, "WBINVD", "WBINVD"},
    {55, "XSETBV", "XSETBV"},
    {56, "APIC_WRITE", "APIC_WRITE"},
    {57, "RDRAND", "RDRAND"},
    {58, "INVPCID", "INVPCID"},
    {59, "VMFUNC", "VMFUNC"},
    {60, "ENCLS", "ENCLS"},
    {61, "RDSEED", "RDSEED"},
    {62, "PML_FULL", "PML_FULL"},
    {63, "XSAVES", "XSAVES"},
    {64, "XRSTORS", "XRSTORS"},
    {67, "UMWAIT", "UMWAIT"},
    {68, "TPAUSE", "TPAUSE"},
    {74, "BUS_LOCK", "BUS_LOCK"},
    {75, "NOTIFY", "NOTIFY"},
};

#define CR "CR_ACCESS"
#define DR "DR_ACCESS"
#define XC "EXCEPTION_NMI"
static const struct entry svm[] = {
    {0x000, "read_cr0", CR},
    {0x002, "read_cr2", CR},
    {0x003, "read_cr3", CR},
    {0x004, "read_cr4", CR},
    {0x008, "read_cr8", CR},
    {0x010, "write_cr0", CR},
    {0x012, "write_cr2", CR},
    {0x013, "write_cr3", CR},
    {0x014, "write_cr4", CR},
    {0x018, "write_cr8", CR},
    {0x020, "read_dr0", DR},
    {0x021, "read_dr1", DR},
    {0x022, "read_dr2", DR},
    {0x023, "read_dr3", DR},
    {0x024, "read_dr4", DR},
    {0x025, "read_dr5", DR},
    {0x026, "read_dr6", DR},
    {0x027, "read_dr7", DR},
    {0x030, "write_dr0", DR},
    {0x031, "write_dr1", DR},
    {0x032, "write_dr2", DR},
    {0x033, "write_dr3", DR},
    {0x034, "write_dr4", DR},
    {0x035, "write_dr5", DR},
    {0x036, "write_dr6", DR},
    {0x037, "write_dr7", DR},
    {0x040 + 0, "DE excp", XC},
    {0x040 + 1, "DB excp", XC},
    {0x040 + 3, "BP excp", XC},
    {0x040 + 4, "OF excp", XC},
    {0x040 + 5, "BR excp", XC},
    {0x040 + 6, "UD excp", XC},
    {0x040 + 7, "NM excp", XC},
    {0x040 + 8, "DF excp", XC},
    {0x040 + 10, "TS excp", XC},
    {0x040 + 11, "NP excp", XC},
    {0x040 + 12, "SS excp", XC},
    {0x040 + 13, "GP excp", XC},
    {0x040 + 14, "PF excp", XC},
    {0x040 + 16, "MF excp", XC},
    {0x040 + 17, "AC excp", XC},
    {0x040 + 18, "MC excp", XC},
    {0x040 + 19, "XF excp", XC},
    {0x060, "interrupt", "EXTERNAL_INTERRUPT"},
    {0x061, "nmi", XC},
    {0x062, "smi", NULL},
    {0x063, "init", "INIT_SIGNAL"},
    {0x064, "vintr", "INTERRUPT_WINDOW"},
    {0x065, "cr0_sel_write", CR},
    {0x066, "read_idtr", "GDTR_IDTR"},
    {0x067, "read_gdtr", "GDTR_IDTR"},
    {0x068, "read_ldtr", "LDTR_TR"},
    {0x069, "read_rt", "LDTR_TR"},
    {0x06a, "write_idtr", "GDTR_IDTR"},
    {0x06b, "write_gdtr", "GDTR_IDTR"},
    {0x06c, "write_ldtr", "LDTR_TR"},
    {0x06d, "write_rt", "LDTR_TR"},
    {0x06e, "rdtsc", "RDTSC"},
    {0x06f, "rdpmc", "RDPMC"},
    {0x070, "pushf", NULL},
    {0x071, "popf", NULL},
    {0x072, "cpuid", "CPUID"},
    {0x073, "rsm", NULL},
    {0x074, "iret", NULL}, /* KVM's NMI window without vNMI; VT-x has NMI_WINDOW */
    {0x075, "swint", NULL},
    {0x076, "invd", "INVD"},
    {0x077, "pause", "PAUSE_INSTRUCTION"},
    {0x078, "hlt", "HLT"},
    {0x079, "invlpg", "INVLPG"},
    {0x07a, "invlpga", NULL},
    {0x07b, "io", "IO_INSTRUCTION"},
    {0x07d, "task_switch", "TASK_SWITCH"},
    {0x07e, "ferr_freeze", NULL},
    {0x07f, "shutdown", "TRIPLE_FAULT"},
    {0x080, "vmrun", NULL},
    {0x081, "hypercall", "VMCALL"},
    {0x082, "vmload", NULL},
    {0x083, "vmsave", NULL},
    {0x084, "stgi", NULL},
    {0x085, "clgi", NULL},
    {0x086, "skinit", NULL},
    {0x087, "rdtscp", "RDTSCP"},
    {0x088, "icebp", NULL},
    {0x089, "wbinvd", "WBINVD"},
    {0x08a, "monitor", "MONITOR_INSTRUCTION"},
    {0x08b, "mwait", "MWAIT_INSTRUCTION"},
    {0x08d, "xsetbv", "XSETBV"},
    {0x08f, "write_efer_trap", NULL},
    {0x090, "write_cr0_trap", CR},
    {0x094, "write_cr4_trap", CR},
    {0x098, "write_cr8_trap", CR},
    {0x0a2, "invpcid", "INVPCID"},
    {0x401, "avic_incomplete_ipi", NULL},
    {0x402, "avic_unaccelerated_access", "APIC_ACCESS"},
    {0x403, "vmgexit", NULL},
};
#undef CR
#undef DR
#undef XC

#define SVM_EXIT_MSR 0x07c
#define SVM_EXIT_NPF 0x400
#define PFERR_RSVD   (1u << 3)

static const struct entry *find(const struct entry *t, size_t n, uint32_t code) {
  for (size_t i = 0; i < n; i++)
    if (t[i].code == code) return &t[i];
  return NULL;
}

struct kvm_exit_name kvm_exit_reasons__name(unsigned isa, uint32_t code, uint64_t info1, char *buf,
                                            unsigned buflen) {
  struct kvm_exit_name r = {NULL, NULL};
  const struct entry *e = NULL;
  if (isa == KVM_EXIT_ISA_SVM) {
    if (code == SVM_EXIT_MSR)
      return (struct kvm_exit_name){"msr", info1 ? "MSR_WRITE" : "MSR_READ"};
    if (code == SVM_EXIT_NPF)
      return (struct kvm_exit_name){"npf", info1 & PFERR_RSVD ? "EPT_MISCONFIG" : "EPT_VIOLATION"};
    e = find(svm, sizeof svm / sizeof svm[0], code);
    if (!e) snprintf(buf, buflen, "svm_0x%x", (unsigned)code);
  } else if (isa == KVM_EXIT_ISA_VMX) {
    e = find(vmx, sizeof vmx / sizeof vmx[0], code & 0xffff); /* basic exit reason */
    if (!e) snprintf(buf, buflen, "vmx_%u", (unsigned)(code & 0xffff));
  } else {
    snprintf(buf, buflen, "isa%u_0x%x", isa, (unsigned)code);
  }
  if (e) {
    r.hw = e->hw;
    r.sdm = e->sdm;
  } else {
    r.hw = buf;
  }
  return r;
}

const char *kvm_exit_reasons__isa_name(unsigned isa) {
  return isa == KVM_EXIT_ISA_VMX ? "vmx" : isa == KVM_EXIT_ISA_SVM ? "svm" : "unknown";
}
