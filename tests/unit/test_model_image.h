/* test_model_image.h - run whole workload images in-process on the model
 * backend from unit tests: the vm_config for one paging x tlb mode. */
#ifndef TEST_MODEL_IMAGE_H
#define TEST_MODEL_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

struct vm_config;
enum pmode { PM_NATIVE, PM_EPT_FLUSH, PM_EPT_VPID, PM_SHADOW_FLUSH, PM_SHADOW_VPID, PM_COUNT };
extern const char *const pm_name[PM_COUNT];
/* Fill *cfg to run workloads/build/NAME.elf on the model in mode pm (256 MiB,
 * 60 s, quiet, params until NULL); `image` (len bytes) holds the path cfg
 * points to. False when the image or the model backend is missing (skip). */
bool tm_image_config(struct vm_config *cfg, char *image, size_t len, const char *name,
                     const char *const *params, enum pmode pm);

#endif
