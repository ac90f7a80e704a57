/* vmm_ept.c - refvmm's lazily filled EPT tables for the model CPU. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vmm_ept.h"

#include "../cpu/model_vmcs.h"

int vmm_ept__init(struct vmm_ept *e, struct model_cpu *c, uint64_t ram_size, bool vpid) {
  memset(e, 0, sizeof *e);
  /* one PT per 2 MiB, one PD per 1 GiB, PDPTs and the root, and spare
   * tables for the MMIO addresses outside RAM */
  uint64_t n = (ram_size >> 21) + (ram_size >> 30) + 2 + 4 + 64;
  e->mem = calloc((size_t)n, 4096);
  if (!e->mem) return -ENOMEM;
  e->npages = (uint32_t)n;
  e->used = 1; /* page 0: the EPT PML4 */
  e->ram_size = ram_size;
  struct model_vmcs *v = model_vmx__vmcs(c);
  e->vmcs = v;
  v->active = true;
  v->proc_based = CPU_BASED_ACTIVATE_SECONDARY; /* no CR3-load/INVLPG exiting */
  v->secondary = SECONDARY_EXEC_ENABLE_EPT | (vpid ? SECONDARY_EXEC_ENABLE_VPID : 0);
  v->exception_bitmap = 0; /* the guest handles its own #PF */
  model_vmx__set_vpid(c, vpid ? 1 : 0);
  v->eptp = 0;
  v->ept_mem = e->mem;
  v->ept_pages = e->npages;
  v->handler = vmm_ept__handle_violation;
  v->vmm = e;
  return 0;
}

void vmm_ept__free(struct vmm_ept *e) {
  free(e->mem);
  e->mem = NULL;
}

int vmm_ept__handle_violation(void *vmm, struct model_cpu *c) {
  struct vmm_ept *e = vmm;
  (void)c;
  uint64_t gpa = e->vmcs->guest_physical;
  e->violations++;
  uint64_t table = 0;
  for (int level = 4; level >= 2; level--) {
    uint64_t *p = &e->mem[table * 512 + ((gpa >> (12 + 9 * (level - 1))) & 511)];
    if (!(*p & (EPT_R | EPT_W | EPT_X))) {
      if (e->used >= e->npages) return -1;
      *p = ((uint64_t)e->used << 12) | EPT_R | EPT_W | EPT_X;
      e->used++;
    }
    table = (*p & EPT_ADDR_MASK) >> 12;
  }
  uint64_t *leaf = &e->mem[table * 512 + ((gpa >> 12) & 511)];
  uint64_t page = gpa & ~0xfffull;
  if (page < e->ram_size) {
    *leaf = page | EPT_R | EPT_W | EPT_X;
    e->ram_pages_mapped++;
  } else {
    *leaf = EPT_W; /* misconfigured on purpose: MMIO */
    e->mmio_pages_mapped++;
  }
  return 0;
}
