/* vmcall.h - refvmm's answer to KVM_EXIT_HYPERCALL (the `vmcall` workload).
 *
 * KVM answers VMCALL/VMMCALL in the host kernel; only KVM_HC_MAP_GPA_RANGE
 * reaches user space, and only once the VMM has enabled
 * KVM_CAP_EXIT_HYPERCALL for it. refvmm uses that one number as its
 * benchmark hypercall: it checks the arguments and answers
 * a2 ^ VTB_VMCALL_COOKIE (vtb_abi.h) without mapping or converting anything,
 * so the guest can tell each answer came from here. */
#ifndef REFVMM_VMCALL_H
#define REFVMM_VMCALL_H

#include <stdint.h>

#include "vm.h"

/* Handle one KVM_EXIT_HYPERCALL: 0 continue (e->hypercall.ret written),
 * 1 stop (vm->status and status_detail set: unexpected number). */
int vmcall__handle(struct vm *vm, const struct vcpu_exit *e);

#endif
