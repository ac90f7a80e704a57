/* kvm_backend.h - the /dev/kvm backend (struct backend_ops "kvm") and the
 * accessors probes need (KVM_GET_STATS_FD on the VM and vCPU fds, PMU
 * events opened on the vCPU thread). */
#ifndef REFVMM_KVM_BACKEND_H
#define REFVMM_KVM_BACKEND_H

#include <pthread.h>
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

/* Name of KVM_EXIT_* `r` ("IO", "MMIO", ...); "UNNAMED" for numbers no
 * kernel header defines. Never NULL. */
const char *kvm_exit__name(uint32_t r);

#endif
