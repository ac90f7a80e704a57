/* test_model_image.c - see test_model_image.h. No suite here. */
#include "test_model_image.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/backend.h"
#include "refvmm/vm.h"

const char *const pm_name[PM_COUNT] = {"native", "ept/flush", "ept/vpid", "shadow/flush",
                                       "shadow/vpid"};

bool tm_image_config(struct vm_config *cfg, char *image, size_t len, const char *name,
                     const char *const *params, enum pmode pm) {
  snprintf(image, len, "workloads/build/%s.elf", name);
  if (access(image, R_OK) != 0 || !backend__find("model")) return false;
  memset(cfg, 0, sizeof *cfg);
  cfg->image = image;
  cfg->backend = "model";
  cfg->mem_size = 256ull << 20;
  cfg->timeout_s = 60;
  cfg->quiet = true;
  if (pm != PM_NATIVE) {
    cfg->modes.paging_set = cfg->modes.tlb_set = true;
    cfg->modes.paging = pm >= PM_SHADOW_FLUSH ? PAGING_SHADOW : PAGING_EPT;
    cfg->modes.tlb = pm == PM_EPT_VPID || pm == PM_SHADOW_VPID ? TLB_VPID : TLB_FLUSH;
  }
  for (int i = 0; params && params[i] && cfg->nparams < VM_PARAMS_MAX; i++)
    cfg->params[cfg->nparams++] = params[i];
  return true;
}
