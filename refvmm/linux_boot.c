/* linux_boot.c - load a Linux kernel for the 64-bit boot protocol
 * (linux_boot.h). Every input (the two files, the command line, --mem) is
 * checked before the first byte of guest RAM is written. */
#include "linux_boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console.h"
#include "linux_bzimage.h"
#include "mptable.h"
#include "x86_setup.h"

/* boot_params (arch/x86/include/uapi/asm/bootparam.h): the fields the
 * loader writes; everything else stays zero. */
#define BP_EXT_RAMDISK_IMAGE 0x0c0 /* u32: bits 32-63 of ramdisk_image */
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_E820_ENTRIES      0x1e8 /* u8 */
#define BP_E820_TABLE        0x2d0 /* struct boot_e820_entry[128]: u64 addr, u64 size, u32 type */
#define BP_SIZE              4096u
#define E820_RAM             1u
#define E820_RESERVED        2u
#define PAGE                 4096ull

static const uint64_t linux_gdt[4] = {
    0, 0, 0x00af9b000000ffffull, /* 0x10 __BOOT_CS: 64-bit code, P, DPL0, RX, accessed, G */
    0x00cf93000000ffffull, /* 0x18 __BOOT_DS: data, P, DPL0, RW, accessed, D/B, G: 4 GiB flat */
};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...) {
  if (!err || !errlen) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

static void put(uint8_t *p, size_t off, uint64_t v, unsigned n) {
  memcpy(p + off, &v, n);
}

static void e820_add(struct linux_image *img, gpa_t addr, uint64_t size, uint32_t type) {
  unsigned i = img->e820_entries++;
  img->e820_addr[i] = addr;
  img->e820_size[i] = size;
  img->e820_type[i] = type;
}

int linux_boot__load_buf(struct guest_mem *gm, const uint8_t *kernel, size_t kernel_len,
                         const char *kname, const uint8_t *initrd, size_t initrd_len,
                         const char *cmdline, struct linux_image *img, struct boot_state *bs,
                         char *err, size_t errlen) {
  memset(img, 0, sizeof *img);
  struct bzimage bz;
  if (bzimage__parse(kernel, kernel_len, kname, &bz, err, errlen)) return -1;
  uint64_t mem = gm->size;
  /* the protected-mode kernel at its preferred address: nothing else of
   * ours lives above 1 MiB but the initrd, so it never has to move */
  gpa_t load = bz.pref_address;
  uint64_t pm_len = kernel_len - bz.pm_offset;
  if (load >= mem || bz.init_size > mem - load)
    return fail(err, errlen,
                "%s: the kernel needs guest RAM [0x%llx, 0x%llx) to decompress into (its "
                "pref_address and init_size), beyond --mem (%llu MiB): give --mem %llu M or more",
                kname, (unsigned long long)load, (unsigned long long)(load + bz.init_size),
                (unsigned long long)(mem >> 20),
                (unsigned long long)(((load + bz.init_size) >> 20) + 64));
  uint64_t kernel_end = (load + bz.init_size + PAGE - 1) & ~(PAGE - 1);

  const char *cl = cmdline ? cmdline : "";
  size_t cl_len = strlen(cl);
  uint64_t cl_max =
      bz.cmdline_size < LINUX_CMDLINE_MAX - 1 ? bz.cmdline_size : LINUX_CMDLINE_MAX - 1;
  if (cl_len > cl_max)
    return fail(err, errlen,
                "--cmdline: %zu bytes, longer than the %llu this kernel takes (%s: cmdline_size "
                "%u); shorten it",
                cl_len, (unsigned long long)cl_max, kname, bz.cmdline_size);

  /* the initrd at the top of RAM below initrd_addr_max (the last byte it
   * may occupy), page-aligned, above the kernel's decompression area */
  gpa_t rd = 0;
  if (initrd) {
    if (initrd_len == 0)
      return fail(err, errlen, "--initrd: the file is empty; give a cpio archive (newc format)");
    uint64_t top = mem;
    if ((uint64_t)bz.initrd_addr_max + 1 < top) top = (uint64_t)bz.initrd_addr_max + 1;
    if (initrd_len > top || ((top - initrd_len) & ~(PAGE - 1)) < kernel_end)
      return fail(err, errlen,
                  "--initrd: %zu bytes do not fit between the kernel's area (ends at 0x%llx) "
                  "and 0x%llx (the end of RAM or the kernel's initrd_addr_max): give --mem "
                  "%llu M or more",
                  initrd_len, (unsigned long long)kernel_end, (unsigned long long)top,
                  (unsigned long long)(((kernel_end + initrd_len) >> 20) + 64));
    rd = (top - initrd_len) & ~(PAGE - 1);
  }

  /* everything checked: write (every store through guest_mem__write) */
  if (!guest_mem__ptr(gm, LINUX_ZERO_PAGE_GPA, BP_SIZE) ||
      !guest_mem__ptr(gm, LINUX_CMDLINE_GPA, LINUX_CMDLINE_MAX) ||
      !guest_mem__ptr(gm, LINUX_GDT_GPA, PAGE) || !guest_mem__ptr(gm, load, pm_len) ||
      x86__identity_map(gm, LINUX_PGTABLE_GPA))
    return fail(err, errlen, "guest RAM of %llu bytes is too small for the boot structures",
                (unsigned long long)mem);
  guest_mem__write(gm, load, kernel + bz.pm_offset, pm_len);
  if (initrd) guest_mem__write(gm, rd, initrd, initrd_len);
  guest_mem__fill(gm, LINUX_CMDLINE_GPA, 0, LINUX_CMDLINE_MAX);
  guest_mem__write(gm, LINUX_CMDLINE_GPA, cl, cl_len);
  guest_mem__fill(gm, LINUX_GDT_GPA, 0, PAGE);
  guest_mem__write(gm, LINUX_GDT_GPA, linux_gdt, sizeof linux_gdt);
  if (!mptable__write(gm, LINUX_EBDA_GPA))
    return fail(err, errlen, "guest RAM is too small for the MP table at 0x%llx",
                (unsigned long long)LINUX_EBDA_GPA);

  /* the e820 map: base memory below the MP table, the BIOS area, and all
   * RAM from 1 MiB; every byte of RAM below 4 GiB (--mem is at most 3 GiB) */
  e820_add(img, 0, LINUX_EBDA_GPA, E820_RAM);
  e820_add(img, LINUX_EBDA_GPA, 0xa0000 - LINUX_EBDA_GPA, E820_RESERVED);
  e820_add(img, LINUX_BIOS_GPA, LINUX_HIGH_GPA - LINUX_BIOS_GPA, E820_RESERVED);
  e820_add(img, LINUX_HIGH_GPA, mem - LINUX_HIGH_GPA, E820_RAM);

  /* The zero page: all zero (so the sentinel at 0x1ef is 0 and nothing is
   * left over), then the kernel's own setup header copied in and the
   * fields a boot loader owns written one by one. Left zero on purpose:
   * screen_info (no video: no VGA console), apm/ist/edd/edid info, the EFI
   * fields (no EFI), acpi_rsdp_addr (no ACPI), tboot_addr, alt_mem_k (the
   * e820 map replaces it), setup_data (no list), hardware_subarch (PC),
   * kbd_status, secure_boot (unknown). */
  static uint8_t zp[BP_SIZE];
  memset(zp, 0, BP_SIZE);
  memcpy(zp + BZ_SETUP_SECTS, kernel + BZ_SETUP_SECTS, bz.header_end - BZ_SETUP_SECTS);
  zp[BZ_TYPE_OF_LOADER] = BZ_LOADER_UNDEFINED;
  /* loadflags: the kernel's (LOADED_HIGH); CAN_USE_HEAP and heap_end_ptr
   * concern the 16-bit setup code the 64-bit entry skips */
  zp[BZ_LOADFLAGS] = bz.loadflags & BZ_LOADED_HIGH;
  put(zp, BZ_HEAP_END_PTR, 0, 2);
  zp[BZ_EXT_LOADER_VER] = 0;
  zp[BZ_EXT_LOADER_TYPE] = 0;
  put(zp, BZ_CMD_LINE_PTR, (uint32_t)LINUX_CMDLINE_GPA, 4);
  put(zp, BP_EXT_CMD_LINE_PTR, LINUX_CMDLINE_GPA >> 32, 4);
  put(zp, BZ_RAMDISK_IMAGE, (uint32_t)rd, 4);
  put(zp, BP_EXT_RAMDISK_IMAGE, rd >> 32, 4);
  put(zp, BZ_RAMDISK_SIZE, (uint32_t)(initrd ? initrd_len : 0), 4);
  put(zp, BP_EXT_RAMDISK_SIZE, (uint64_t)(initrd ? initrd_len : 0) >> 32, 4);
  put(zp, BZ_SETUP_DATA, 0, 8);
  put(zp, BZ_HARDWARE_SUBARCH, 0, 4);
  put(zp, BZ_HW_SUBARCH_DATA, 0, 8);
  zp[BP_E820_ENTRIES] = (uint8_t)img->e820_entries;
  for (unsigned i = 0; i < img->e820_entries; i++) {
    size_t o = BP_E820_TABLE + 20u * i;
    put(zp, o, img->e820_addr[i], 8);
    put(zp, o + 8, img->e820_size[i], 8);
    put(zp, o + 16, img->e820_type[i], 4);
  }
  guest_mem__write(gm, LINUX_ZERO_PAGE_GPA, zp, BP_SIZE);

  img->protocol = bz.version;
  img->kernel_lo = load;
  img->kernel_len = pm_len;
  img->init_size = bz.init_size;
  img->initrd_lo = rd;
  img->initrd_len = initrd ? initrd_len : 0;
  img->cmdline_len = cl_len;

  *bs = (struct boot_state){
      .entry = load + BZ_ENTRY64_OFFSET,
      .stack_top = LINUX_STACK_TOP,
      .boot_params = LINUX_ZERO_PAGE_GPA,
      .cr3 = LINUX_PGTABLE_GPA,
      .gdt_base = LINUX_GDT_GPA,
      .gdt_limit = sizeof linux_gdt - 1,
      .code_sel = LINUX_BOOT_CS,
      .data_sel = LINUX_BOOT_DS,
      .code_desc = linux_gdt[LINUX_BOOT_CS >> 3],
      .data_desc = linux_gdt[LINUX_BOOT_DS >> 3],
  };
  return 0;
}

/* The whole of a regular file no larger than `max` bytes. */
static int read_file(const char *path, const char *what, uint64_t max, uint8_t **buf, size_t *len,
                     char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(err, errlen, "%s %s: cannot open: %s", what, path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fail(err, errlen, "%s %s: not a regular file", what, path);
  }
  if ((uint64_t)st.st_size > max) {
    close(fd);
    return fail(err, errlen, "%s %s: %llu bytes, more than guest RAM (%llu bytes) can hold", what,
                path, (unsigned long long)st.st_size, (unsigned long long)max);
  }
  size_t n = (size_t)st.st_size;
  uint8_t *b = malloc(n ? n : 1);
  if (!b) {
    close(fd);
    return fail(err, errlen, "%s %s: out of memory reading %zu bytes", what, path, n);
  }
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, b + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      int e = r < 0 ? errno : EIO;
      free(b);
      close(fd);
      return fail(err, errlen, "%s %s: read failed after %zu bytes: %s", what, path, got,
                  strerror(e));
    }
    got += (size_t)r;
  }
  close(fd);
  *buf = b;
  *len = n;
  return 0;
}

int linux_boot__load(struct guest_mem *gm, const struct vm_config *cfg, struct linux_image *img,
                     struct boot_state *bs, char *err, size_t errlen) {
  uint8_t *k = NULL, *rd = NULL;
  size_t klen = 0, rdlen = 0;
  if (read_file(cfg->kernel, "--kernel", gm->size, &k, &klen, err, errlen)) return -1;
  if (cfg->initrd && read_file(cfg->initrd, "--initrd", gm->size, &rd, &rdlen, err, errlen)) {
    free(k);
    return -1;
  }
  int rc =
      linux_boot__load_buf(gm, k, klen, cfg->kernel, rd, rdlen, cfg->cmdline, img, bs, err, errlen);
  free(k);
  free(rd);
  return rc;
}

int linux_halt__end(struct vm *vm, bool interrupts_enabled) {
  char last[200] = "";
  if (vm->console) console__last_line(vm->console, last, sizeof last);
  if (interrupts_enabled) {
    vm->status = RUN_GUEST_FAILED;
    snprintf(vm->status_detail, sizeof vm->status_detail,
             "the kernel halted with interrupts enabled and no timer armed: nothing will wake "
             "it (an idle system waiting forever); last console line: \"%.160s\"",
             last);
    return 1;
  }
  const char *cl = vm->cfg.cmdline ? vm->cfg.cmdline : "";
  bool workload = strncmp(cl, "vtb.workload=", 13) == 0 || strstr(cl, " vtb.workload=");
  if (workload) {
    vm->status = RUN_GUEST_FAILED;
    snprintf(vm->status_detail, sizeof vm->status_detail,
             "the kernel powered off (halted) before init's exit hypercall: the workload never "
             "reported a status; last console line: \"%.160s\"",
             last);
  } else {
    vm->status = RUN_OK;
    snprintf(vm->status_detail, sizeof vm->status_detail,
             "the guest powered off (the kernel halted with interrupts disabled); last console "
             "line: \"%.160s\"",
             last);
  }
  return 1;
}
