/* test_linux_boot.c - the 64-bit boot protocol loader (refvmm/linux_boot.h,
 * linux_bzimage.h) on synthetic bzImages: what it refuses and why, where it
 * puts things, every zero-page field it writes, the e820 map, the MP table
 * (checksums and entries as Linux's parser reads them), and the entry state. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "refvmm/linux_boot.h"
#include "refvmm/linux_bzimage.h"
#include "refvmm/mptable.h"
#include "refvmm/platform_defs.h"
#include "refvmm/vm.h"
#include "refvmm/x86_setup.h"

#define MEM     (64ull << 20)
#define PM_OFF  0x400u /* setup_sects 1 */
#define PM_LEN  0x3000u
#define KSIZE   (PM_OFF + PM_LEN)
#define PREF    0x1000000ull
#define INITSZ  0x800000u
#define HDR_END 0x268u

static struct guest_mem gm;
static uint8_t kernel[KSIZE];
static struct linux_image img;
static struct boot_state bs;
static char err[512];

static void put(uint8_t *p, size_t off, uint64_t v, unsigned n) {
  memcpy(p + off, &v, n);
}
static uint64_t get(const uint8_t *p, size_t off, unsigned n) {
  uint64_t v = 0;
  memcpy(&v, p + off, n);
  return v;
}

/* A bzImage header as a 6.1 kernel has it (protocol 2.15), a protected-mode
 * part of PM_LEN bytes with a pattern. */
static void make_kernel(void) {
  memset(kernel, 0, sizeof kernel);
  kernel[BZ_SETUP_SECTS] = 1;
  put(kernel, BZ_BOOT_FLAG, 0xaa55, 2);
  kernel[BZ_JUMP] = 0xeb;
  kernel[BZ_JUMP + 1] = HDR_END - 0x202;
  put(kernel, BZ_HEADER, BZ_HEADER_MAGIC, 4);
  put(kernel, BZ_VERSION, 0x020f, 2);
  kernel[BZ_LOADFLAGS] = 0x01;
  put(kernel, BZ_INITRD_ADDR_MAX, 0x7fffffff, 4);
  put(kernel, BZ_KERNEL_ALIGNMENT, 0x200000, 4);
  kernel[BZ_RELOCATABLE] = 1;
  put(kernel, BZ_XLOADFLAGS, 0x7f, 2);
  put(kernel, BZ_CMDLINE_SIZE, 2047, 4);
  put(kernel, BZ_PREF_ADDRESS, PREF, 8);
  put(kernel, BZ_INIT_SIZE, INITSZ, 4);
  put(kernel, 0x250 - 8, 0x1234, 4); /* payload_offset: copied through untouched */
  for (unsigned i = 0; i < PM_LEN; i++)
    kernel[PM_OFF + i] = (uint8_t)(i * 7 + 3);
}

static void setup(void) {
  ck_assert_int_eq(guest_mem__init(&gm, MEM), 0);
  memset(gm.host, 0xee, gm.size); /* nothing may stay as it was where we write */
  make_kernel();
  err[0] = 0;
}
static void teardown(void) {
  guest_mem__destroy(&gm);
}

static int load(const uint8_t *rd, size_t rdlen, const char *cl) {
  return linux_boot__load_buf(&gm, kernel, sizeof kernel, "k", rd, rdlen, cl, &img, &bs, err,
                              sizeof err);
}
static const uint8_t *zp(void) {
  return guest_mem__ptr(&gm, LINUX_ZERO_PAGE_GPA, 4096);
}

START_TEST(loads_at_pref_address_with_entry_state) {
  ck_assert_int_eq(load(NULL, 0, "console=ttyS0"), 0);
  ck_assert_msg(memcmp(guest_mem__ptr(&gm, PREF, PM_LEN), kernel + PM_OFF, PM_LEN) == 0,
                "protected-mode kernel not at pref_address");
  ck_assert_uint_eq(bs.entry, PREF + 0x200);
  ck_assert_uint_eq(bs.boot_params, LINUX_ZERO_PAGE_GPA);
  ck_assert_uint_eq(bs.boot_info, 0);
  ck_assert_uint_eq(bs.code_sel, 0x10);
  ck_assert_uint_eq(bs.data_sel, 0x18);
  /* __BOOT_CS: present 64-bit code, DPL0; __BOOT_DS: present writable 4 GiB flat data */
  ck_assert_uint_eq((bs.code_desc >> 40) & 0xff, 0x9b);
  ck_assert(bs.code_desc & (1ull << 53));
  ck_assert_uint_eq((bs.data_desc >> 40) & 0xff, 0x93);
  ck_assert_uint_eq(bs.data_desc & 0xffff, 0xffff);
  const uint64_t *gdt = guest_mem__ptr(&gm, bs.gdt_base, bs.gdt_limit + 1u);
  ck_assert_uint_eq(gdt[2], bs.code_desc);
  ck_assert_uint_eq(gdt[3], bs.data_desc);
  /* the identity map covers the kernel, the zero page and the command line */
  const uint64_t *pml4 = guest_mem__ptr(&gm, bs.cr3, 4096);
  uint64_t pdpt = pml4[0] & X86_PTE_ADDR_MASK;
  const uint64_t *pd = guest_mem__ptr(
      &gm, (((const uint64_t *)guest_mem__ptr(&gm, pdpt, 8))[0]) & X86_PTE_ADDR_MASK, 4096);
  ck_assert_uint_eq(pd[PREF >> 21] & ~0xfffull, PREF);
  ck_assert(pd[0] & X86_PTE_PS);
  ck_assert_uint_eq(img.kernel_lo, PREF);
  ck_assert_uint_eq(img.kernel_len, PM_LEN);
}
END_TEST

START_TEST(zero_page_fields) {
  static const uint8_t rd[5000] = {1, 2, 3};
  ck_assert_int_eq(load(rd, sizeof rd, "console=ttyS0 quiet"), 0);
  const uint8_t *z = zp();
  /* the setup header is the kernel's, the loader's fields its own */
  ck_assert_uint_eq(get(z, BZ_HEADER, 4), BZ_HEADER_MAGIC);
  ck_assert_uint_eq(get(z, BZ_VERSION, 2), 0x20f);
  ck_assert_uint_eq(get(z, BZ_KERNEL_ALIGNMENT, 4), 0x200000);
  ck_assert_uint_eq(get(z, 0x248, 4), 0x1234);
  ck_assert_uint_eq(z[BZ_TYPE_OF_LOADER], 0xff);
  ck_assert_uint_eq(z[BZ_LOADFLAGS], 0x01);
  ck_assert_uint_eq(get(z, BZ_CMD_LINE_PTR, 4), LINUX_CMDLINE_GPA);
  ck_assert_uint_eq(get(z, 0xc8, 4), 0); /* ext_cmd_line_ptr */
  ck_assert_str_eq((char *)guest_mem__ptr(&gm, LINUX_CMDLINE_GPA, 32), "console=ttyS0 quiet");
  uint64_t rdaddr = get(z, BZ_RAMDISK_IMAGE, 4);
  ck_assert_uint_eq(get(z, BZ_RAMDISK_SIZE, 4), sizeof rd);
  ck_assert_uint_eq(rdaddr % 4096, 0);
  ck_assert_uint_le(rdaddr + sizeof rd, MEM);
  ck_assert_uint_gt(rdaddr + sizeof rd, MEM - 8192); /* at the top of RAM */
  ck_assert_uint_ge(rdaddr, PREF + INITSZ);          /* above the decompression area */
  ck_assert_int_eq(memcmp(guest_mem__ptr(&gm, rdaddr, sizeof rd), rd, sizeof rd), 0);
  ck_assert_uint_eq(get(z, 0xc0, 4), 0); /* ext_ramdisk_image */
  ck_assert_uint_eq(get(z, 0xc4, 4), 0);
  ck_assert_uint_eq(get(z, BZ_SETUP_DATA, 8), 0);
  ck_assert_uint_eq(get(z, BZ_HARDWARE_SUBARCH, 4), 0);
  ck_assert_uint_eq(z[0x1ef], 0); /* the sentinel: the loader cleared the page */
  /* left zero: screen_info (no VGA), acpi_rsdp_addr, the EFI loader signature */
  for (unsigned i = 0; i < 0x40; i++)
    ck_assert_uint_eq(z[i], 0);
  ck_assert_uint_eq(get(z, 0x70, 8), 0);
  ck_assert_uint_eq(get(z, 0x1c0, 4), 0);
  /* the e820 map: base memory, the MP table's KiB, the BIOS area, RAM from 1 MiB */
  ck_assert_uint_eq(z[0x1e8], 4);
  static const uint64_t want[4][3] = {
      {0, 0x9fc00, 1}, {0x9fc00, 0x400, 2}, {0xf0000, 0x10000, 2}, {0x100000, MEM - 0x100000, 1}};
  for (int i = 0; i < 4; i++) {
    ck_assert_uint_eq(get(z, 0x2d0 + 20 * i, 8), want[i][0]);
    ck_assert_uint_eq(get(z, 0x2d0 + 20 * i + 8, 8), want[i][1]);
    ck_assert_uint_eq(get(z, 0x2d0 + 20 * i + 16, 4), want[i][2]);
  }
  ck_assert_uint_eq(get(z, 0x2d0 + 20 * 4, 8), 0);
}
END_TEST

START_TEST(no_initrd_no_cmdline) {
  ck_assert_int_eq(load(NULL, 0, NULL), 0);
  ck_assert_uint_eq(get(zp(), BZ_RAMDISK_IMAGE, 4), 0);
  ck_assert_uint_eq(get(zp(), BZ_RAMDISK_SIZE, 4), 0);
  ck_assert_uint_eq(*(uint8_t *)guest_mem__ptr(&gm, LINUX_CMDLINE_GPA, 1), 0);
}
END_TEST

/* Intel MP spec 1.4: the floating pointer and the table sum to 0; Linux's
 * smp_read_mpc() wants "PCMP", spec 1 or 4, a local APIC address */
START_TEST(mp_table) {
  ck_assert_int_eq(load(NULL, 0, ""), 0);
  const uint8_t *f = guest_mem__ptr(&gm, LINUX_EBDA_GPA, 16);
  ck_assert_int_eq(memcmp(f, "_MP_", 4), 0);
  uint8_t s = 0;
  for (int i = 0; i < 16; i++)
    s = (uint8_t)(s + f[i]);
  ck_assert_uint_eq(s, 0);
  ck_assert_uint_eq(f[8], 1);  /* length in paragraphs */
  ck_assert_uint_eq(f[9], 4);  /* spec 1.4 */
  ck_assert_uint_eq(f[11], 0); /* a table is present: no default configuration */
  uint64_t mpc = get(f, 4, 4);
  const uint8_t *t = guest_mem__ptr(&gm, mpc, 44);
  ck_assert_int_eq(memcmp(t, "PCMP", 4), 0);
  unsigned len = (unsigned)get(t, 4, 2), n = (unsigned)get(t, 34, 2);
  ck_assert_uint_le(mpc + len, LINUX_EBDA_GPA + MPTABLE_MAX_BYTES);
  s = 0;
  for (unsigned i = 0; i < len; i++)
    s = (uint8_t)(s + t[i]);
  ck_assert_uint_eq(s, 0);
  ck_assert_uint_eq(get(t, 36, 4), PLATFORM_LAPIC_GPA);
  /* processor, bus, I/O APIC, COM1's interrupt, LINT0, LINT1 */
  ck_assert_uint_eq(n, 6);
  const uint8_t *e = t + 44;
  ck_assert_uint_eq(e[0], 0);    /* processor */
  ck_assert_uint_eq(e[3], 0x03); /* enabled, bootstrap */
  e += 20;
  ck_assert_uint_eq(e[0], 1);
  ck_assert_int_eq(memcmp(e + 2, "ISA   ", 6), 0);
  e += 8;
  ck_assert_uint_eq(e[0], 2);
  ck_assert_uint_eq(e[1], PLATFORM_IOAPIC_ID);
  ck_assert_uint_eq(get(e, 4, 4), PLATFORM_IOAPIC_GPA);
  e += 8;
  ck_assert_uint_eq(e[0], 3); /* I/O interrupt: ISA IRQ 4 -> I/O APIC pin 4 */
  ck_assert_uint_eq(e[5], PLATFORM_UART_IRQ);
  ck_assert_uint_eq(e[6], PLATFORM_IOAPIC_ID);
  ck_assert_uint_eq(e[7], PLATFORM_UART_IRQ);
  ck_assert_uint_eq(e[8], 4); /* local interrupt: ExtINT on LINT0 */
  ck_assert_uint_eq(e[9], 3);
  ck_assert_uint_eq(e[16], 4); /* NMI on LINT1 */
  ck_assert_uint_eq(e[17], 1);
  ck_assert_uint_eq(e[16 + 7], 1);
}
END_TEST

/* ---- refusals: each names the file or option and the value ---------------- */
START_TEST(refuses_elf) {
  memcpy(kernel, "\177ELF", 4);
  ck_assert_int_eq(load(NULL, 0, ""), -1);
  ck_assert_msg(strstr(err, "an ELF file") && strstr(err, "not a bzImage"), "%s", err);
}
END_TEST

START_TEST(refuses_short_file) {
  ck_assert_int_eq(
      linux_boot__load_buf(&gm, kernel, 0x100, "k", NULL, 0, "", &img, &bs, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "too short"), "%s", err);
}
END_TEST

START_TEST(refuses_without_boot_flag) {
  put(kernel, BZ_BOOT_FLAG, 0x1234, 2);
  ck_assert_int_eq(load(NULL, 0, ""), -1);
  ck_assert_msg(strstr(err, "boot_flag") && strstr(err, "0x1234"), "%s", err);
}
END_TEST

START_TEST(refuses_without_hdrs) {
  put(kernel, BZ_HEADER, 0, 4);
  ck_assert_int_eq(load(NULL, 0, ""), -1);
  ck_assert_msg(strstr(err, "HdrS"), "%s", err);
}
END_TEST

START_TEST(refuses_old_protocol) {
  put(kernel, BZ_VERSION, 0x020a, 2);
  ck_assert_int_eq(load(NULL, 0, ""), -1);
  ck_assert_msg(strstr(err, "2.10") && strstr(err, "64-bit entry"), "%s", err);
}
END_TEST

START_TEST(refuses_32bit_kernel) {
  put(kernel, BZ_XLOADFLAGS, 0x7e, 2);
  ck_assert_int_eq(load(NULL, 0, ""), -1);
  ck_assert_msg(strstr(err, "XLF_KERNEL_64") && strstr(err, "0x007e"), "%s", err);
}
END_TEST

START_TEST(refuses_zimage) {
  kernel[BZ_LOADFLAGS] = 0;
  ck_assert_int_eq(load(NULL, 0, ""), -1);
  ck_assert_msg(strstr(err, "zImage"), "%s", err);
}
END_TEST

START_TEST(refuses_truncated_file) {
  kernel[BZ_SETUP_SECTS] = 200;
  ck_assert_int_eq(load(NULL, 0, ""), -1);
  ck_assert_msg(strstr(err, "setup_sects 200") && strstr(err, "truncated"), "%s", err);
}
END_TEST

START_TEST(refuses_long_cmdline) {
  put(kernel, BZ_CMDLINE_SIZE, 10, 4);
  ck_assert_int_eq(load(NULL, 0, "console=ttyS0"), -1);
  ck_assert_msg(strstr(err, "--cmdline: 13 bytes") && strstr(err, "cmdline_size 10"), "%s", err);
  ck_assert_uint_eq(*(uint8_t *)guest_mem__ptr(&gm, PREF, 1), 0xee); /* nothing written */
}
END_TEST

START_TEST(refuses_small_memory) {
  put(kernel, BZ_INIT_SIZE, (uint32_t)(MEM - PREF + 4096), 4);
  ck_assert_int_eq(load(NULL, 0, ""), -1);
  ck_assert_msg(strstr(err, "beyond --mem") && strstr(err, "give --mem"), "%s", err);
}
END_TEST

START_TEST(refuses_initrd_that_does_not_fit) {
  static uint8_t big[MEM - PREF - INITSZ + 4096];
  big[0] = 1;
  ck_assert_int_eq(load(big, sizeof big, ""), -1);
  ck_assert_msg(strstr(err, "--initrd") && strstr(err, "do not fit"), "%s", err);
  ck_assert_int_eq(load(big, 0, ""), -1);
  ck_assert_msg(strstr(err, "empty"), "%s", err);
}
END_TEST

/* How a halted kernel ends the run: a power-off is a success unless the
 * command line names a vtbench workload (then init's exit hypercall had to
 * come first); HLT with interrupts on and nothing armed is a hang. */
static enum run_status halt_end(const char *cmdline, bool intr, char *detail, size_t len) {
  static struct vm vm;
  memset(&vm, 0, sizeof vm);
  vm.cfg.kernel = "bzImage";
  vm.cfg.cmdline = cmdline;
  ck_assert_int_eq(linux_halt__end(&vm, intr), 1);
  snprintf(detail, len, "%s", vm.status_detail);
  return vm.status;
}

START_TEST(halt_ends) {
  char d[512];
  ck_assert_int_eq(halt_end("console=ttyS0 quiet", false, d, sizeof d), RUN_OK);
  ck_assert_msg(strstr(d, "powered off"), "%s", d);
  ck_assert_int_eq(halt_end(NULL, false, d, sizeof d), RUN_OK);
  ck_assert_int_eq(halt_end("console=ttyS0 vtb.workload=null vtb.n=5", false, d, sizeof d),
                   RUN_GUEST_FAILED);
  ck_assert_msg(strstr(d, "before init's exit hypercall"), "%s", d);
  ck_assert_int_eq(halt_end("vtb.workload=fork", false, d, sizeof d), RUN_GUEST_FAILED);
  ck_assert_int_eq(run_status__exit_code(RUN_GUEST_FAILED), 10);
  /* a word that only contains the prefix is not a workload */
  ck_assert_int_eq(halt_end("console=ttyS0 xvtb.workload=null", false, d, sizeof d), RUN_OK);
  ck_assert_int_eq(halt_end("console=ttyS0", true, d, sizeof d), RUN_GUEST_FAILED);
  ck_assert_msg(strstr(d, "nothing will wake it"), "%s", d);
}
END_TEST

Suite *suite_linux_boot(void) {
  Suite *s = suite_create("linux_boot");
  TCase *t = tcase_create("load");
  tcase_add_checked_fixture(t, setup, teardown);
  tcase_add_test(t, loads_at_pref_address_with_entry_state);
  tcase_add_test(t, zero_page_fields);
  tcase_add_test(t, no_initrd_no_cmdline);
  tcase_add_test(t, mp_table);
  tcase_add_test(t, refuses_elf);
  tcase_add_test(t, refuses_short_file);
  tcase_add_test(t, refuses_without_boot_flag);
  tcase_add_test(t, refuses_without_hdrs);
  tcase_add_test(t, refuses_old_protocol);
  tcase_add_test(t, refuses_32bit_kernel);
  tcase_add_test(t, refuses_zimage);
  tcase_add_test(t, refuses_truncated_file);
  tcase_add_test(t, refuses_long_cmdline);
  tcase_add_test(t, refuses_small_memory);
  tcase_add_test(t, refuses_initrd_that_does_not_fit);
  suite_add_tcase(s, t);
  TCase *h = tcase_create("halt");
  tcase_add_test(h, halt_ends);
  suite_add_tcase(s, h);
  return s;
}
