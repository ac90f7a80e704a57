/* pio_floor.c - the floor for refvmm's exit path: the smallest VMM that can
 * run a workload image. It loads the ELF and builds the long-mode world
 * with the same library code refvmm uses (loader, x86 setup, boot info),
 * then runs a bare KVM_RUN loop that knows only the bench port and the
 * hypercalls a workload needs (mark, exit; console/report are accepted and
 * dropped). No device bus, no dispatch table, no accounting: the per-exit
 * time inside the timed region is the cheapest user-space round trip this
 * host allows for the same guest.
 *
 *   bin/pio_floor IMAGE.elf [K=V]...
 *   prints: exits=N wall_ns=W ns_per_exit=X status=S
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "refvmm/boot_info.h"
#include "refvmm/elf_loader.h"
#include "refvmm/x86_setup.h"

#define MEM_SIZE (256ull << 20)

static void die(const char *what) {
  perror(what);
  exit(4);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void set_cpuid(int kvm, int vcpu) {
  int n = 256;
  struct kvm_cpuid2 *c = calloc(1, sizeof *c + (size_t)n * sizeof(struct kvm_cpuid_entry2));
  if (!c) die("calloc");
  c->nent = (uint32_t)n;
  if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) < 0) die("KVM_GET_SUPPORTED_CPUID");
  if (ioctl(vcpu, KVM_SET_CPUID2, c) < 0) die("KVM_SET_CPUID2");
  free(c);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: pio_floor IMAGE.elf [K=V]...\n");
    return 2;
  }
  struct guest_mem gm;
  if (guest_mem__init(&gm, MEM_SIZE)) die("guest memory");
  struct elf_image img;
  char err[512];
  if (elf__load_file(argv[1], &gm, &img, err, sizeof err)) {
    fprintf(stderr, "pio_floor: %s\n", err);
    return 3;
  }
  struct boot_state bs;
  if (x86__setup_long_mode(&gm, img.entry, &bs)) die("x86 setup");

  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) die("/dev/kvm");
  int vmfd = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vmfd < 0) die("KVM_CREATE_VM");
  struct kvm_userspace_memory_region r = {
      .slot = 0, .memory_size = gm.size, .userspace_addr = (uint64_t)(uintptr_t)gm.host};
  if (ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &r) < 0) die("KVM_SET_USER_MEMORY_REGION");
  int vcpu = ioctl(vmfd, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) die("KVM_CREATE_VCPU");
  int sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  struct kvm_run *run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) die("mmap kvm_run");
  set_cpuid(kvm, vcpu);
  int khz = ioctl(vcpu, KVM_GET_TSC_KHZ, 0);
  uint64_t free_start = (img.hi + 4095) & ~4095ull;
  if (boot_info__write(&gm, free_start, khz > 0 ? (uint64_t)khz * 1000 : 0, VTB_BOOT_F_SYSCALL_TRAP,
                       (const char *const *)argv + 2, argc - 2, err, sizeof err)) {
    fprintf(stderr, "pio_floor: %s\n", err);
    return 2;
  }

  struct kvm_sregs s;
  if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0) die("KVM_GET_SREGS");
  struct kvm_segment code = {.limit = 0xffffffff,
                             .selector = VTB_SEL_KCODE,
                             .type = 11,
                             .present = 1,
                             .s = 1,
                             .l = 1,
                             .g = 1};
  struct kvm_segment data = {.limit = 0xffffffff,
                             .selector = VTB_SEL_KDATA,
                             .type = 3,
                             .present = 1,
                             .db = 1,
                             .s = 1,
                             .g = 1};
  s.cs = code;
  s.ds = s.es = s.fs = s.gs = s.ss = data;
  s.gdt.base = bs.gdt_base;
  s.gdt.limit = bs.gdt_limit;
  s.cr0 = BOOT_CR0;
  s.cr3 = bs.cr3;
  s.cr4 = BOOT_CR4;
  s.efer = BOOT_EFER;
  if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0) die("KVM_SET_SREGS");
  struct kvm_regs regs = {.rip = bs.entry, .rsp = bs.stack_top, .rdi = bs.boot_info, .rflags = 2};
  if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS");

  uint64_t t_begin = 0, t_end = 0, exits = 0;
  int counting = 0;
  const char *status = "ok";
  for (;;) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) die("KVM_RUN");
    if (run->exit_reason != KVM_EXIT_IO) {
      status = "unexpected_exit";
      fprintf(stderr, "pio_floor: exit reason %u\n", run->exit_reason);
      break;
    }
    uint16_t port = run->io.port;
    if (port == VTB_PORT_BENCH) {
      exits += (uint64_t)counting;
      continue;
    }
    if (port == VTB_PORT_SERIAL) continue;
    if (port - VTB_HC_PORT_BASE >= VTB_HC_COUNT) continue;
    uint32_t gpa;
    memcpy(&gpa, (uint8_t *)run + run->io.data_offset, sizeof gpa);
    uint32_t nr = port - VTB_HC_PORT_BASE;
    if (nr == VTB_HC_MARK) {
      struct vtb_hc_mark m;
      if (guest_mem__read(&gm, gpa, &m, sizeof m) || m.region != VTB_REGION_TIMED) continue;
      if (m.phase == VTB_MARK_BEGIN) {
        t_begin = now_ns();
        counting = 1;
      } else {
        t_end = now_ns();
        counting = 0;
      }
    } else if (nr == VTB_HC_EXIT) {
      struct vtb_hc_exit e;
      if (guest_mem__read(&gm, gpa, &e, sizeof e) || e.status) status = "guest_failed";
      break;
    } else if (nr == VTB_HC_EXCEPTION) {
      status = "guest_exception";
      break;
    }
  }
  uint64_t wall = t_end > t_begin ? t_end - t_begin : 0;
  printf("exits=%llu wall_ns=%llu ns_per_exit=%.1f status=%s\n", (unsigned long long)exits,
         (unsigned long long)wall, exits ? (double)wall / (double)exits : 0.0, status);
  return strcmp(status, "ok") ? 1 : 0;
}
