/* vmm_ept.h - refvmm's EPT manager for the model CPU (the VMM's code, not
 * the CPU's): EPT tables in VMM memory, filled lazily, one 4 KiB leaf per
 * EPT violation; guest-physical RAM maps 1:1 to the model's "host-physical"
 * RAM; addresses outside RAM get a misconfigured entry (write without read,
 * as KVM marks MMIO sptes) so later accesses exit as EPT misconfigurations
 * that refvmm's run loop treats as MMIO. */
#ifndef REFVMM_MODEL_VMM_EPT_H
#define REFVMM_MODEL_VMM_EPT_H

#include <stdbool.h>
#include <stdint.h>

struct model_cpu;
struct model_vmcs;

struct vmm_ept {
  struct model_vmcs *vmcs; /* the CPU's controls and exit information */
  uint64_t *mem;           /* npages x 512 entries */
  uint32_t npages, used;
  uint64_t ram_size;
  uint64_t violations, ram_pages_mapped, mmio_pages_mapped;
};

/* Allocate EPT memory for ram_size bytes of guest RAM and program the CPU's
 * controls: EPT on, no CR3/INVLPG exiting, #PF not intercepted, VPID 1 when
 * vpid (else 0: every entry and exit flushes). 0 or -ENOMEM. */
int vmm_ept__init(struct vmm_ept *e, struct model_cpu *c, uint64_t ram_size, bool vpid);
void vmm_ept__free(struct vmm_ept *e);
/* The EPT-violation handler (vmm_exit_handler): map the page at the exit's
 * guest-physical address. 0, or -1 when EPT memory is exhausted. */
int vmm_ept__handle_violation(void *vmm, struct model_cpu *c);

#endif
