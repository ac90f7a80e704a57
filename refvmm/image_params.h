/* image_params.h - refvmm's --param K=V checked against the image's own
 * parameter table (the VTB_NOTE_PARAMS note the ELF loader read) before the
 * guest starts: the key declared (or one of the runtime's own keys), the
 * value a number the guest accepts, inside the declared range. */
#ifndef REFVMM_IMAGE_PARAMS_H
#define REFVMM_IMAGE_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "elf_loader.h"

/* 0, or -1 with a message naming the parameter, the value and the valid
 * keys or range. An image without a table is not checked here (0): its
 * guest checks. */
int image_params__check(const struct elf_params *ep, const char *image, const char *const *params,
                        int nparams, char *err, size_t len);

/* No --param sets a parameter the table declares (the runtime's own keys
 * do not count). */
bool image_params__all_default(const struct elf_params *ep, const char *const *params, int nparams);

#endif
