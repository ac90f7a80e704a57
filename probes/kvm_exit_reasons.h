/* kvm_exit_reasons.h - the hardware exit reasons kvm:kvm_exit reports, by
 * the names KVM gives them (those `perf kvm stat report` prints: the
 * kernel's VMX_EXIT_REASONS / SVM_EXIT_REASONS) and the Intel SDM basic exit
 * reason each corresponds to, under the names the model backend uses
 * ("IO_INSTRUCTION", "EPT_VIOLATION", ...).
 *
 * An SVM exit code with no VT-x counterpart (IRET, which KVM intercepts to
 * find the end of an NMI handler without vNMI) has sdm NULL. SVM's nested
 * page fault maps to EPT_MISCONFIG when its error code has the reserved-bit
 * flag (KVM's MMIO sptes) and to EPT_VIOLATION otherwise; its MSR exit to
 * MSR_READ or MSR_WRITE by EXITINFO1. */
#ifndef PROBES_KVM_EXIT_REASONS_H
#define PROBES_KVM_EXIT_REASONS_H

#include <stdint.h>

/* The kvm_exit tracepoint's isa field. */
enum kvm_exit_isa { KVM_EXIT_ISA_VMX = 1, KVM_EXIT_ISA_SVM = 2 };

struct kvm_exit_name {
  const char *hw;  /* KVM's name: "io", "npf", "IO_INSTRUCTION"; never NULL */
  const char *sdm; /* SDM basic exit reason, model vocabulary; NULL: none */
};

/* Names for one exit. info1 is the tracepoint's info1 (SVM EXITINFO1).
 * Unknown codes get hw "svm_0x%x" / "vmx_%u" in buf. */
struct kvm_exit_name kvm_exit_reasons__name(unsigned isa, uint32_t code, uint64_t info1, char *buf,
                                            unsigned buflen);

/* "vmx", "svm" or "unknown". */
const char *kvm_exit_reasons__isa_name(unsigned isa);

#endif
