/* linux_bzimage.h - the setup header of an x86 Linux bzImage, read and
 * checked for the 64-bit boot protocol (the kernel's
 * Documentation/arch/x86/boot.rst, "The Real-Mode Kernel Header" and
 * "64-bit Boot Protocol").
 *
 * The file is untrusted: every field is bounds-checked, and a file that is
 * not a bzImage with a 64-bit entry point is refused with a message that
 * names the file, the field, its value and what to use instead.
 */
#ifndef REFVMM_LINUX_BZIMAGE_H
#define REFVMM_LINUX_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Offsets of the setup header fields in the file (and in boot_params). */
#define BZ_SETUP_SECTS      0x1f1       /* u8: 512-byte sectors of real-mode setup; 0 means 4 */
#define BZ_BOOT_FLAG        0x1fe       /* u16: 0xaa55 */
#define BZ_JUMP             0x200       /* u16: the jump over the header; its byte 1 ends it */
#define BZ_HEADER           0x202       /* u32: "HdrS" */
#define BZ_VERSION          0x206       /* u16: boot protocol version */
#define BZ_TYPE_OF_LOADER   0x210       /* u8 */
#define BZ_LOADFLAGS        0x211       /* u8 */
#define BZ_RAMDISK_IMAGE    0x218       /* u32 */
#define BZ_RAMDISK_SIZE     0x21c       /* u32 */
#define BZ_HEAP_END_PTR     0x224       /* u16 */
#define BZ_EXT_LOADER_VER   0x226       /* u8 */
#define BZ_EXT_LOADER_TYPE  0x227       /* u8 */
#define BZ_CMD_LINE_PTR     0x228       /* u32 */
#define BZ_INITRD_ADDR_MAX  0x22c       /* u32 */
#define BZ_KERNEL_ALIGNMENT 0x230       /* u32 */
#define BZ_RELOCATABLE      0x234       /* u8 */
#define BZ_XLOADFLAGS       0x236       /* u16 */
#define BZ_CMDLINE_SIZE     0x238       /* u32 */
#define BZ_HARDWARE_SUBARCH 0x23c       /* u32 */
#define BZ_HW_SUBARCH_DATA  0x240       /* u64 */
#define BZ_SETUP_DATA       0x250       /* u64 */
#define BZ_PREF_ADDRESS     0x258       /* u64 */
#define BZ_INIT_SIZE        0x260       /* u32 */
#define BZ_HEADER_MAGIC     0x53726448u /* "HdrS" */
#define BZ_BOOT_FLAG_MAGIC  0xaa55u
#define BZ_MIN_VERSION      0x020cu /* 2.12: xloadflags (XLF_KERNEL_64) exist */
#define BZ_LOADED_HIGH      0x01u   /* loadflags: protected-mode code at 0x100000 (bzImage) */
#define BZ_XLF_KERNEL_64    0x01u   /* xloadflags: 64-bit entry at load address + 0x200 */
#define BZ_ENTRY64_OFFSET   0x200u
#define BZ_LOADER_UNDEFINED 0xffu /* type_of_loader for a loader without an assigned id */
#define BZ_MIN_LOAD_ADDR    0x100000ull

struct bzimage {
  const uint8_t *file; /* the whole file */
  size_t len;
  uint16_t version;
  unsigned setup_sects; /* 0 in the file means 4 */
  size_t header_end;    /* end of the setup header in the file: 0x202 + file[0x201] */
  size_t pm_offset;     /* protected-mode kernel: file[pm_offset, len) */
  uint8_t loadflags;
  uint16_t xloadflags;
  bool relocatable;
  uint32_t kernel_alignment;
  uint32_t initrd_addr_max;
  uint32_t cmdline_size; /* longest command line the kernel takes, without the NUL */
  uint64_t pref_address; /* where the protected-mode kernel wants to be loaded */
  uint32_t init_size;    /* memory it needs from there on (decompression included) */
};

/* Read and check the header of `file[0..len)` (the file's name for
 * messages). 0, or -1 with err naming the field and value. */
int bzimage__parse(const uint8_t *file, size_t len, const char *name, struct bzimage *bz, char *err,
                   size_t errlen);

#endif
