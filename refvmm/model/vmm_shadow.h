/* vmm_shadow.h - refvmm's shadow page-table manager for the model CPU (the
 * VMM's code, not the CPU's): shadow tables per guest root in a bounded
 * cache (reused on a CR3 switch back), filled on hidden page faults, true
 * faults reflected to the guest, guest page-table pages write-protected and
 * the trapped writes emulated (counted as KVM's mmu_pte_write), guest A/D
 * bits kept by the fills, stale entries zapped. The CPU walks the shadow
 * tables (hardware format, in this manager's memory) instead of the guest's. */
#ifndef REFVMM_MODEL_VMM_SHADOW_H
#define REFVMM_MODEL_VMM_SHADOW_H

#include <stdbool.h>
#include <stdint.h>

struct model_cpu;

#define SHADOW_ROOTS 8

struct vmm_shadow {
  uint64_t *mem; /* npages x 512 shadow entries */
  int64_t *src;  /* per page: the guest table frame it shadows, -1 none */
  int8_t *owner; /* per page: the root slot owning it, -1 free */
  uint32_t *free_stack;
  uint32_t npages, nfree;
  uint32_t hiwater;  /* pages at or above are free: scans stop here */
  uint8_t *is_pt;    /* per guest frame: holds a guest page table (write-protected) */
  uint32_t *wleaves; /* per guest frame: writable shadow leaves made to it (upper bound) */
  uint64_t nframes;
  struct {
    uint64_t cr3;
    uint32_t page;
    uint64_t last_use;
    bool valid;
  } roots[SHADOW_ROOTS];
  int cur;
  uint64_t clock;
  /* accounting */
  uint64_t hidden_faults, true_faults, pt_write_exits, roots_built, roots_reused, zaps, cr3_exits,
      invlpg_exits;
};

int vmm_shadow__init(struct vmm_shadow *s, struct model_cpu *c, uint64_t ram_size, bool vpid);
void vmm_shadow__free(struct vmm_shadow *s);
/* Build the root for the boot CR3 once the boot state is set. */
void vmm_shadow__boot(struct vmm_shadow *s, struct model_cpu *c);

#endif
