/* pvh.c - boot info from the PVH start_info, and hypercalls under QEMU:
 * console -> COM1 (0x3f8), report -> "report KEY=VALUE" line, exit ->
 * isa-debug-exit (0xf4; QEMU exits with status*2+1), exception -> a line and
 * exit. Mark and raise do nothing there. */
#include "pvh.h"

#include "kstring.h"
#include "pmem.h"
#include "printf.h"
#include "trap.h"
#include "x86.h"

#define XEN_HVM_START_MAGIC 0x336ec578u
#define E820_RAM            1u
#define PVH_DEFAULT_RAM     (128ull << 20)

struct hvm_start_info {
  uint32_t magic, version, flags, nr_modules;
  uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
  uint64_t memmap_paddr; /* version >= 1 */
  uint32_t memmap_entries, reserved;
};

struct hvm_memmap_entry {
  uint64_t addr, size;
  uint32_t type, reserved;
};

extern char __image_end[];
static struct vtb_boot_info pvh_bi;

struct vtb_boot_info *pvh__boot_info(uint32_t start_info_pa) {
  const struct hvm_start_info *si = (const void *)(uint64_t)start_info_pa;
  struct vtb_boot_info *bi = &pvh_bi;
  uint64_t image_end = ((uint64_t)__image_end + PAGE_MASK_4K) & ~PAGE_MASK_4K;

  /* The BIOS left the 8259 PICs mapping IRQ 0..7 onto vectors 8..15: mask
   * them all so a workload that sets IF never sees a timer tick as #DF. */
  outb(0x21, 0xff);
  outb(0xa1, 0xff);

  bi->magic = VTB_BOOT_MAGIC;
  bi->version = VTB_ABI_VERSION;
  bi->flags = VTB_BOOT_F_QEMU_PVH;
  bi->ram_size = PVH_DEFAULT_RAM;
  bi->free_start = image_end;
  bi->free_end = PVH_DEFAULT_RAM;
  if (si && si->magic == XEN_HVM_START_MAGIC) {
    if (si->version >= 1 && si->memmap_paddr && si->memmap_entries) {
      const struct hvm_memmap_entry *m = (const void *)si->memmap_paddr;
      uint64_t top = 0;
      for (uint32_t i = 0; i < si->memmap_entries; i++) {
        uint64_t end = m[i].addr + m[i].size;
        if (m[i].type != E820_RAM || end > VTB_MEM_MAX) continue;
        if (end > top) top = end;
        if (m[i].addr <= image_end && end > image_end) bi->free_end = end & ~PAGE_MASK_4K;
      }
      if (top) bi->ram_size = top;
    }
    if (si->cmdline_paddr) {
      const char *c = (const char *)si->cmdline_paddr;
      uint32_t n = 0;
      while (c[n] && n < VTB_PARAMS_MAX - 1) {
        bi->params[n] = c[n];
        n++;
      }
      bi->params[n] = 0;
      bi->params_len = n;
    }
  }
  return bi;
}

void pvh__serial_write(const char *buf, uint64_t len) {
  for (uint64_t i = 0; i < len; i++)
    outb(VTB_PORT_SERIAL, (uint8_t)buf[i]);
}

static __attribute__((noreturn)) void pvh__exit(uint64_t status) {
  outl(VTB_PORT_QEMU_EXIT, (uint32_t)status);
  for (;;)
    __asm__ volatile("cli; hlt");
}

static int pvh__ok(uint64_t gpa, uint64_t len) {
  return gpa < pvh_bi.ram_size && len <= pvh_bi.ram_size - gpa;
}

void pvh__hypercall(unsigned nr, uint64_t arg) {
  char line[96];
  int n;
  if (!pvh__ok(arg, 64)) {
    n = snprintf(line, sizeof(line), "vtb: hypercall %u: bad argument pointer %#lx\n", nr, arg);
    pvh__serial_write(line, n);
    pvh__exit(0x7f);
  }
  switch (nr) {
  case VTB_HC_CONSOLE: {
    const struct vtb_hc_console *c = (const void *)arg;
    if (c->len > VTB_CONSOLE_MAX || !pvh__ok(c->buf, c->len)) {
      n = snprintf(line, sizeof(line), "vtb: console: bad buffer %#lx len %lu\n", c->buf, c->len);
      pvh__serial_write(line, n);
      pvh__exit(0x7f);
    }
    pvh__serial_write((const char *)c->buf, c->len);
    break;
  }
  case VTB_HC_EXIT:
    pvh__exit(((const struct vtb_hc_exit *)arg)->status);
  case VTB_HC_REPORT: {
    const struct vtb_hc_report *r = (const void *)arg;
    n = snprintf(line, sizeof(line), "report %.31s=%lu\n", r->key, r->value);
    pvh__serial_write(line, n);
    break;
  }
  case VTB_HC_EXCEPTION: {
    const struct vtb_hc_exception *e = (const void *)arg;
    pvh__exit(VTB_EXIT_EXCEPTION_BASE + e->vector);
  }
  default: /* mark, raise: nothing to do under QEMU */
    break;
  }
}
