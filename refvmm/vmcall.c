/* vmcall.c - the KVM_EXIT_HYPERCALL handler (vmcall.h). */
#include "vmcall.h"

#include <inttypes.h>
#include <stdio.h>

int vmcall__handle(struct vm *vm, const struct vcpu_exit *e) {
  if (e->hypercall.nr != VTB_KVM_HC_MAP_GPA_RANGE) {
    /* KVM forwards only the numbers refvmm enabled: anything else is a
     * kernel we do not understand, not a guest error. */
    vm->status = RUN_INTERNAL_ERROR;
    snprintf(vm->status_detail, sizeof vm->status_detail,
             "KVM_EXIT_HYPERCALL with number %" PRIu64
             ": refvmm enabled only %u (KVM_HC_MAP_GPA_RANGE)",
             e->hypercall.nr, VTB_KVM_HC_MAP_GPA_RANGE);
    return 1;
  }
  *e->hypercall.ret = e->hypercall.args[2] ^ VTB_VMCALL_COOKIE;
  return 0;
}
