/* lx_hc.c - the guest ABI's hypercalls (hc.h) from a Linux process.
 *
 * Ports: init gets the hypercall ports and VTB_PORT_IDENT with ioperm(2)
 * (root, inherited by the processes it forks) and learns from one IN of the
 * ident port whether refvmm is listening (lx_vmm). Without it (QEMU) the
 * hypercalls only print: reports as `report KEY=VALUE` lines.
 *
 * Pointers: a hypercall's argument is the guest-physical address of its
 * struct, and a Linux process sees only virtual addresses. Each process that
 * makes hypercalls maps one private page, locks it (mlock: never swapped or
 * reclaimed), excludes it from fork (MADV_DONTFORK: no copy-on-write copy
 * can replace it in this process after a fork) and from huge pages, and reads
 * its frame from /proc/self/pagemap (root sees frame numbers). init also
 * turns off compaction of locked pages (vm.compact_unevictable_allowed=0),
 * the one kernel path left that moves such a page; the frame is read again
 * before each hypercall outside the timed region and after mark end, and a
 * page that moved ends the process with LX_EXIT_HCPAGE. Hypercall nr's
 * struct lives at offset nr * 64 of the page (docs/LINUX.md). The console is
 * the kernel's (printf writes to fd 1: /dev/console, the UART), not the
 * console hypercall. */
#include "lx.h"

#define SLOT 64u

int lx_vmm;
static volatile uint8_t *page;
static uint64_t page_gpa;
static int pagemap = -1;
static uint64_t t_begin, t_end;

static inline void outl(uint16_t port, uint32_t v) {
  __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline uint32_t inl(uint16_t port) {
  uint32_t v;
  __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
  return v;
}
static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

/* A 32-bit access at port p is allowed from ring 3 only when the I/O
 * permission bitmap allows p..p+3 (SDM vol. 1, 19.5.2): each range is
 * granted with 3 ports more than it starts. */
int lx_hc__ports(void) {
  long r = sys_ioperm(VTB_HC_PORT_BASE, VTB_HC_COUNT + 3, 1);
  if (!r) r = sys_ioperm(VTB_PORT_IDENT, 4, 1);
  if (r) {
    printf("vtb: ioperm for ports 0x%x..0x%x and 0x%x..0x%x: %s (init must run as root)\n",
           VTB_HC_PORT_BASE, VTB_HC_PORT_BASE + VTB_HC_COUNT + 2, VTB_PORT_IDENT,
           VTB_PORT_IDENT + 3, lx_errname(r));
    return LX_EXIT_INIT;
  }
  lx_vmm = inl(VTB_PORT_IDENT) == VTB_IDENT_MAGIC;
  return 0;
}

/* Guest-physical address behind va: 0, or -errno (-ENXIO: not present,
 * -EPERM: the kernel hides frame numbers from this process). */
static long frame_of(const volatile void *va, uint64_t *gpa) {
  uint64_t e = 0;
  long r = sys_pread(pagemap, &e, sizeof e, ((uint64_t)va >> 12) * sizeof e);
  if (r != (long)sizeof e) return r < 0 ? r : -EIO;
  if (!(e >> 63)) return -ENXIO;         /* bit 63: present */
  uint64_t pfn = e & ((1ull << 55) - 1); /* bits 0-54 */
  if (!pfn) return -EPERM;
  *gpa = pfn << 12;
  return 0;
}

int lx_hc__init(void) {
  /* pagemap describes the mm of the process that opened it: reopen after fork */
  if (pagemap >= 0) sys_close(pagemap);
  pagemap = (int)sys_open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
  if (pagemap < 0) {
    printf("vtb: hypercall page: open /proc/self/pagemap: %s (mount /proc; kernel needs "
           "CONFIG_PROC_PAGE_MONITOR)\n",
           lx_errname(pagemap));
    return LX_EXIT_HCPAGE;
  }
  void *p = sys_mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (sys_mmap_failed(p)) return lx_syserr("hypercall page: mmap", (long)p);
  long r = sys_madvise(p, 4096, MADV_NOHUGEPAGE);
  if (!r) r = sys_madvise(p, 4096, MADV_DONTFORK);
  if (r) return lx_syserr("hypercall page: madvise", r);
  if ((r = sys_mlock(p, 4096))) return lx_syserr("hypercall page: mlock", r);
  page = p;
  page[0] = 0; /* a private frame of our own, written */
  if ((r = frame_of(page, &page_gpa))) {
    printf("vtb: hypercall page at %p: /proc/self/pagemap gives no frame: %s%s\n", p, lx_errname(r),
           r == -EPERM ? " (frame numbers need CAP_SYS_ADMIN: run as root)" : "");
    return LX_EXIT_HCPAGE;
  }
  if (page_gpa + 4096 > (1ull << 32)) {
    printf("vtb: hypercall page frame at GPA 0x%lx is above 4 GiB: hypercalls pass 32-bit "
           "addresses (give the guest less than 4 GiB of RAM)\n",
           page_gpa);
    return LX_EXIT_HCPAGE;
  }
  return 0;
}

uint64_t lx_hc__gpa(void) {
  return page_gpa;
}

uint64_t lx_timed_ns(void) {
  return t_end > t_begin ? t_end - t_begin : 0;
}

/* The page must still be where the VMM will look. */
static void check_page(void) {
  uint64_t now = 0;
  long r = frame_of(page, &now);
  if (r || now != page_gpa) {
    printf("vtb: the hypercall page moved: GPA 0x%lx, now %s0x%lx (a kernel path migrated a "
           "locked page)\n",
           page_gpa, r ? lx_errname(r) : "", now);
    console_flush();
    sys_exit(LX_EXIT_HCPAGE);
  }
}

/* Struct for hypercall nr in the page, zeroed. */
static volatile void *slot(unsigned nr, size_t size) {
  volatile uint8_t *s = page + nr * SLOT;
  for (size_t i = 0; i < size; i++)
    s[i] = 0;
  return s;
}

static void call(unsigned nr) {
  outl(VTB_HC_PORT_BASE + nr, (uint32_t)(page_gpa + nr * SLOT));
}

/* The structs are written whenever the page exists (so a debugger or
 * QEMU's monitor finds them at the GPA printed at start); the OUT only goes
 * out when refvmm answered the ident port. */
void hc_mark(uint32_t region, uint32_t phase) {
  int timed = region == VTB_REGION_TIMED;
  if (phase == VTB_MARK_BEGIN && timed) t_begin = lx_now_ns();
  if (page) {
    if (phase == VTB_MARK_BEGIN) check_page(); /* after mark end: not inside the region */
    volatile struct vtb_hc_mark *m = slot(VTB_HC_MARK, sizeof *m);
    m->region = region;
    m->phase = phase;
    m->tsc = rdtsc();
    if (lx_vmm) call(VTB_HC_MARK);
    if (phase != VTB_MARK_BEGIN) check_page();
  }
  if (phase == VTB_MARK_END && timed) t_end = lx_now_ns();
}

void hc_report(const char *key, uint64_t value) {
  printf("report %s=%lu\n", key, value);
  if (!page) return;
  check_page();
  volatile struct vtb_hc_report *r = slot(VTB_HC_REPORT, sizeof *r);
  size_t n = strlen(key);
  if (n >= sizeof r->key) n = sizeof r->key - 1;
  for (size_t i = 0; i < n; i++)
    r->key[i] = key[i];
  r->value = value;
  if (lx_vmm) call(VTB_HC_REPORT);
}

/* init's last words: the status to the VMM, then power off. */
void hc_exit(uint64_t status) {
  console_flush();
  if (page) {
    check_page();
    volatile struct vtb_hc_exit *e = slot(VTB_HC_EXIT, sizeof *e);
    e->status = status;
    if (lx_vmm) call(VTB_HC_EXIT);
  }
  sys_sync();
  long r = sys_reboot(LINUX_REBOOT_CMD_POWER_OFF);
  printf("vtb: reboot(LINUX_REBOOT_CMD_POWER_OFF): %s; halting here\n", lx_errname(r));
  console_flush();
  for (;;)
    sys0(__NR_pause);
}

/* printf's line sink (printf.c): the kernel's console. */
void hc_console(const char *buf, size_t len) {
  lx_write_all(1, buf, len);
}
