/* mptable.h - the Intel MultiProcessor Specification (1.4) table that
 * describes refvmm's platform (platform.h) to a Linux guest without ACPI:
 * one processor with its local APIC, the ISA bus, one I/O APIC, the ISA
 * interrupts of the devices present (COM1), and the local interrupt lines
 * (LINT0 ExtINT, LINT1 NMI). Linux finds it by scanning the last KiB of base
 * memory for the floating pointer "_MP_". */
#ifndef REFVMM_MPTABLE_H
#define REFVMM_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "vm.h"

#define MPTABLE_MAX_BYTES 1024u /* the floating pointer and the table fit in 1 KiB */

/* Write the floating pointer and the configuration table at `gpa` (16-byte
 * aligned, MPTABLE_MAX_BYTES of RAM). Returns the bytes written, or 0 when
 * the area is not in RAM or not aligned. */
size_t mptable__write(struct guest_mem *gm, gpa_t gpa);

#endif
