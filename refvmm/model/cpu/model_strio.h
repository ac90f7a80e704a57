/* model_strio.h - INS and OUTS, with and without REP (model_strio.c), with
 * the exits KVM gives for them: KVM runs string I/O in its instruction
 * emulator on VT-x and SVM alike, and this host's kvm_pvm does the same
 * for the guest's ring 0 (docs/MODEL.md, "String I/O"). */
#ifndef REFVMM_MODEL_STRIO_H
#define REFVMM_MODEL_STRIO_H

#include <stdbool.h>
#include <stdint.h>

#include "model_cpu.h"

/* Execute INS (0x6c/0x6d) or OUTS (0x6e/0x6f). true: the instruction
 * completed (the caller retires it); false: it stays at RIP, to go on after
 * the I/O exit it prepared (c->stop) or after an INS batch it consumed. */
bool model_strio__ins(struct model_cpu *c, const struct model_insn *d);
bool model_strio__outs(struct model_cpu *c, const struct model_insn *d);
/* The VMM answered an INS exit (model_cpu__complete_io): its data waits
 * for the INS to run again. false: the pending IN is not an INS. */
bool model_strio__complete(struct model_cpu *c);
/* The I/O permission check of IN/OUT (IOPL, the TSS bitmap; model_exec.c). */
bool model_exec__io_allowed(struct model_cpu *c, uint16_t port, unsigned sz);

#endif
