/* pvh.h - booting under QEMU through the PVH entry (pvh.S). The 32-bit entry
 * builds an identity map of [0, 4 GiB), enters long mode and calls
 * pvh__boot_info, which synthesizes a struct vtb_boot_info (flags
 * VTB_BOOT_F_QEMU_PVH) from the PVH start_info; then it joins _start.
 * Hypercalls become serial output and isa-debug-exit (pvh__hypercall). */
#ifndef RT_PVH_H
#define RT_PVH_H

#include <stdint.h>

#include "vtb_abi.h"

struct vtb_boot_info *pvh__boot_info(uint32_t start_info_pa);
void pvh__hypercall(unsigned nr, uint64_t arg);
void pvh__serial_write(const char *buf, uint64_t len);

#endif
