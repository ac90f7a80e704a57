/* boot_info.h - encode struct vtb_boot_info and the run's parameters. */
#ifndef REFVMM_BOOT_INFO_H
#define REFVMM_BOOT_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "vm.h"

/* Join params ("k=v" each, validated: key [a-z0-9_]+, value without
 * whitespace) into the boot-info block at VTB_BOOTINFO_GPA. -1 with err when
 * a param is malformed or the text exceeds VTB_PARAMS_MAX-1 bytes. */
int boot_info__write(struct guest_mem *gm, uint64_t free_start, uint64_t tsc_hz, uint32_t flags,
                     const char *const *params, int nparams, char *err, size_t errlen);

#endif
