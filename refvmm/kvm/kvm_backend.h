/* kvm_backend.h - the /dev/kvm backend (struct backend_ops "kvm") and the
 * accessors probes need (KVM_GET_STATS_FD on the VM and vCPU fds, PMU
 * events opened on the vCPU thread). */
#ifndef REFVMM_KVM_BACKEND_H
#define REFVMM_KVM_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../vm.h"

extern const struct backend_ops kvm_backend_ops;

/* Valid after ops->create() succeeded, -1 otherwise. */
int kvm_backend__kvm_fd(const struct vm *vm);  /* /dev/kvm */
int kvm_backend__vm_fd(const struct vm *vm);   /* KVM_CREATE_VM */
int kvm_backend__vcpu_fd(const struct vm *vm); /* KVM_CREATE_VCPU */
/* The thread that calls ops->run() (the one create() ran on). */
pthread_t kvm_backend__vcpu_thread(const struct vm *vm);
/* TSC frequency the vCPU runs at (KVM_GET_TSC_KHZ), in Hz; 0 when unknown. */
uint64_t kvm_backend__tsc_hz(const struct vm *vm);

/* ---- Event delivery primitives (refvmm/events.c builds the policies on
 * them). vCPU thread only, between runs. */
/* The guest can take an external interrupt now: the last exit's
 * ready_for_interrupt_injection and if_flag. */
bool kvm_backend__irq_ready(const struct vm *vm);
/* kvm_run.request_interrupt_window for the next KVM_RUN. */
void kvm_backend__request_irq_window(struct vm *vm, bool on);
/* KVM_NMI. 0 or -errno (status_detail says so). */
int kvm_backend__nmi(struct vm *vm);
/* KVM_INTERRUPT `vector` at once (check kvm_backend__irq_ready first). */
int kvm_backend__interrupt(struct vm *vm, uint32_t vector);
/* KVM_GET_VCPU_EVENTS: NMIs blocked (guest inside its NMI handler) and an
 * NMI already pending in KVM. 0 or -errno. */
int kvm_backend__nmi_state(struct vm *vm, bool *masked, bool *pending);
/* guest TSC - host TSC (KVM_VCPU_TSC_OFFSET, else IA32_TSC read between two
 * host RDTSCs). 0 or -errno. */
int kvm_backend__tsc_offset(struct vm *vm, int64_t *offset);

#endif
