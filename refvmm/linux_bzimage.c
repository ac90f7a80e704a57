/* linux_bzimage.c - read and check a bzImage's setup header for the 64-bit
 * boot protocol (linux_bzimage.h). */
#include "linux_bzimage.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define BZ_HDR_AREA_END 0x290 /* boot_params keeps the header in [0x1f1, 0x290) */
#define WHAT_TO_PASS    "pass a bzImage (arch/x86/boot/bzImage of a kernel build, or /boot/vmlinuz-*)"

__attribute__((format(printf, 4, 5))) static int fail(const char *name, char *err, size_t errlen,
                                                      const char *fmt, ...) {
  if (!err || !errlen) return -1;
  int n = snprintf(err, errlen, "%s: ", name);
  if (n < 0 || (size_t)n >= errlen) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

static uint64_t get(const uint8_t *p, size_t off, unsigned n) {
  uint64_t v = 0;
  memcpy(&v, p + off, n);
  return v;
}

int bzimage__parse(const uint8_t *f, size_t len, const char *name, struct bzimage *bz, char *err,
                   size_t errlen) {
  memset(bz, 0, sizeof *bz);
  if (len >= 4 && memcmp(f, "\177ELF", 4) == 0)
    return fail(name, err, errlen,
                "an ELF file (an uncompressed vmlinux or a workload image), not a bzImage: %s "
                "to --kernel; workload images run as `refvmm run IMAGE.elf`",
                WHAT_TO_PASS);
  if (len < BZ_HDR_AREA_END)
    return fail(name, err, errlen,
                "%zu bytes: too short to hold the boot sector and setup header (0x%x bytes); %s",
                len, BZ_HDR_AREA_END, WHAT_TO_PASS);
  if (get(f, BZ_BOOT_FLAG, 2) != BZ_BOOT_FLAG_MAGIC)
    return fail(name, err, errlen, "boot_flag at 0x1fe is 0x%04x, not 0xaa55: not a bzImage; %s",
                (unsigned)get(f, BZ_BOOT_FLAG, 2), WHAT_TO_PASS);
  if (get(f, BZ_HEADER, 4) != BZ_HEADER_MAGIC)
    return fail(name, err, errlen,
                "no \"HdrS\" setup header at 0x202 (found 0x%08x): a boot sector without the "
                "Linux boot protocol; %s",
                (unsigned)get(f, BZ_HEADER, 4), WHAT_TO_PASS);
  bz->file = f;
  bz->len = len;
  bz->version = (uint16_t)get(f, BZ_VERSION, 2);
  if (bz->version < BZ_MIN_VERSION)
    return fail(name, err, errlen,
                "boot protocol %u.%02u is older than 2.12, the first with a 64-bit entry point "
                "(xloadflags); use a kernel from 3.8 on",
                bz->version >> 8, bz->version & 0xff);
  bz->loadflags = f[BZ_LOADFLAGS];
  if (!(bz->loadflags & BZ_LOADED_HIGH))
    return fail(name, err, errlen,
                "loadflags 0x%02x: LOADED_HIGH clear, a zImage (kernel below 1 MiB), not a "
                "bzImage; %s",
                bz->loadflags, WHAT_TO_PASS);
  bz->xloadflags = (uint16_t)get(f, BZ_XLOADFLAGS, 2);
  if (!(bz->xloadflags & BZ_XLF_KERNEL_64))
    return fail(name, err, errlen,
                "xloadflags 0x%04x: XLF_KERNEL_64 clear, the kernel has no 64-bit entry point "
                "(a 32-bit kernel); refvmm enters kernels in 64-bit mode: use an x86-64 kernel",
                bz->xloadflags);
  bz->setup_sects = f[BZ_SETUP_SECTS] ? f[BZ_SETUP_SECTS] : 4;
  bz->pm_offset = ((size_t)bz->setup_sects + 1) * 512;
  if (bz->pm_offset >= len)
    return fail(name, err, errlen,
                "setup_sects %u puts the protected-mode kernel at offset 0x%zx, at or past the "
                "end of the file (%zu bytes): truncated?",
                bz->setup_sects, bz->pm_offset, len);
  bz->header_end = 0x202 + (size_t)f[BZ_JUMP + 1];
  if (bz->header_end > BZ_HDR_AREA_END || bz->header_end > bz->pm_offset)
    return fail(name, err, errlen,
                "the setup header ends at 0x%zx (jump byte 0x%02x at 0x201), past 0x%x where "
                "boot_params stops holding it",
                bz->header_end, f[BZ_JUMP + 1], BZ_HDR_AREA_END);
  if (bz->header_end < BZ_INIT_SIZE + 4)
    return fail(name, err, errlen,
                "the setup header ends at 0x%zx, before init_size (0x%x) that protocol %u.%02u "
                "defines: corrupt header",
                bz->header_end, BZ_INIT_SIZE + 4, bz->version >> 8, bz->version & 0xff);
  bz->relocatable = f[BZ_RELOCATABLE] != 0;
  bz->kernel_alignment = (uint32_t)get(f, BZ_KERNEL_ALIGNMENT, 4);
  bz->initrd_addr_max = (uint32_t)get(f, BZ_INITRD_ADDR_MAX, 4);
  bz->cmdline_size = (uint32_t)get(f, BZ_CMDLINE_SIZE, 4);
  bz->pref_address = get(f, BZ_PREF_ADDRESS, 8);
  bz->init_size = (uint32_t)get(f, BZ_INIT_SIZE, 4);
  if (bz->relocatable &&
      (bz->kernel_alignment == 0 || (bz->kernel_alignment & (bz->kernel_alignment - 1))))
    return fail(name, err, errlen, "kernel_alignment 0x%x is not a power of two: corrupt header",
                bz->kernel_alignment);
  if (bz->pref_address < BZ_MIN_LOAD_ADDR || (bz->pref_address & 0xfff))
    return fail(name, err, errlen,
                "pref_address 0x%llx is below 1 MiB or not page-aligned: corrupt header",
                (unsigned long long)bz->pref_address);
  if (bz->init_size < len - bz->pm_offset)
    return fail(name, err, errlen,
                "init_size 0x%x is smaller than the protected-mode kernel (0x%zx bytes): "
                "corrupt header",
                bz->init_size, len - bz->pm_offset);
  if (bz->cmdline_size == 0) return fail(name, err, errlen, "cmdline_size is 0: corrupt header");
  return 0;
}
