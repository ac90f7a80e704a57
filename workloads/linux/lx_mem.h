/* lx_mem.h - memory helpers of the Linux guest's workloads (lx_mem.c). */
#ifndef LX_MEM_H
#define LX_MEM_H

#include "lx.h"

/* 0 when `bytes` fit in the kernel's MemAvailable; else the message naming
 * parameter key=value and VTB_EXIT_BAD_PARAM. */
int lx_check_mem(const char *key, uint64_t value, uint64_t bytes);
/* A working set of ws bytes with page = 4096 (MADV_NOHUGEPAGE) or 2 MiB
 * (2 MiB aligned, MADV_HUGEPAGE: transparent huge pages where the kernel
 * finds them), every page touched. 0, or a message and an exit status
 * (page or ws malformed, not enough memory). */
int lx_wset(uint64_t ws, uint64_t page, uint8_t **out);
/* This process's anonymous memory in transparent huge pages (KiB), -1 if
 * the kernel does not say. */
long long lx_anon_huge_kb(void);

#endif
