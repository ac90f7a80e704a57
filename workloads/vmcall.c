/* vmcall - N KVM hypercalls through VMMCALL (AMD, Hygon) or VMCALL (Intel
 * and the rest), picked by the CPUID vendor at run time (KVM would otherwise
 * rewrite the instruction in guest memory on its first use); insn= forces
 * one.
 *
 * KVM answers hypercalls inside the host kernel. The one number it forwards
 * to user space is KVM_HC_MAP_GPA_RANGE, once the VMM enabled
 * KVM_CAP_EXIT_HYPERCALL (refvmm does where the host offers it). So at CPL0
 * user=1 (default) issues that number and refvmm's handler answers
 * RAX = a2 ^ VTB_VMCALL_COOKIE: one KVM_EXIT_HYPERCALL per iteration, the
 * hypercall path through user space. user=0 issues KVM_HC_VAPIC_POLL_IRQ,
 * which KVM answers 0 in the kernel.
 *
 * cpl=3: KVM refuses hypercalls from CPL > 0 with -KVM_EPERM, in the
 * kernel: the hypercall exit without user space. On hosts that emulate
 * ring 0 (kvm_pvm, boot flag VTB_BOOT_F_RING0_EMULATED) ring 0 cannot issue
 * hypercalls at all: KVM's instruction emulator only rewrites VMCALL/VMMCALL
 * and re-executes it, forever. There the default becomes cpl=3 (with a note
 * on the console) and an explicit cpl=0 is refused.
 * Under QEMU TCG (no hypervisor) the instruction raises #UD and the guest's
 * #UD handler answers as KVM and refvmm would; vmcall.emulated counts those.
 *
 * Iteration i passes a0 = 0x1000, a1 = 1, a2 = i and adds r_i + i:
 *   checksum = sum_{i<n} (r_i + i) mod 2^64, where
 *   r_i = i ^ 0x766d6d63616c6c  (cpl=0 user=1: refvmm's answer)
 *   r_i = 0                     (cpl=0 user=0: KVM_HC_VAPIC_POLL_IRQ)
 *   r_i = 2^64 - 1              (cpl=3: -KVM_EPERM)
 * iterations = n. Reports vmcall.insn (0 VMCALL, 1 VMMCALL), vmcall.nr,
 * vmcall.emulated, vmcall.moved_to_cpl3 (1: the default CPL0 was moved to
 * CPL3 because the host emulates ring 0). */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"n", 150000, 1, 1ull << 40, "hypercalls"},
    {"user", 1, 0, 1, "at CPL0 1: answered by refvmm (KVM_EXIT_HYPERCALL); 0: by the host kernel"},
    {"insn", 0, 0, 2, "0: by CPU vendor; 1: VMCALL; 2: VMMCALL"},
    VTB_PARAM_END,
};

#define VMCALL_ARG0 0x1000ull /* a page-aligned GPA: KVM checks the alignment */

static volatile uint64_t emulated; /* #UD-emulated hypercalls (QEMU) */

static inline uint64_t hc_vmmcall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2) {
  uint64_t ret;
  __asm__ volatile("vmmcall" : "=a"(ret) : "a"(nr), "b"(a0), "c"(a1), "d"(a2) : "memory");
  return ret;
}
static inline uint64_t hc_vmcall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2) {
  uint64_t ret;
  __asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "b"(a0), "c"(a1), "d"(a2) : "memory");
  return ret;
}

/* Without a hypervisor (QEMU TCG) both instructions raise #UD: answer as
 * KVM and refvmm would, so the checksum still means something. */
static int emulate_ud(struct trap_frame *f) {
  const uint8_t *p = (const uint8_t *)f->rip;
  if (p[0] != 0x0f || p[1] != 0x01 || (p[2] != 0xc1 && p[2] != 0xd9)) return 0;
  uint64_t nr = f->rax;
  f->rax = (f->cs & 3)                       ? -(uint64_t)VTB_KVM_EPERM
           : nr == VTB_KVM_HC_MAP_GPA_RANGE  ? f->rdx ^ VTB_VMCALL_COOKIE
           : nr == VTB_KVM_HC_VAPIC_POLL_IRQ ? 0
                                             : -(uint64_t)VTB_KVM_ENOSYS;
  f->rip += 3;
  emulated++;
  return 1;
}

static int cpu_is_amd(void) {
  uint32_t a, b, c, d;
  cpuid(0, 0, &a, &b, &c, &d);
  return (b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163) || /* AuthenticAMD */
         (b == 0x6f677948 && d == 0x6e65476e && c == 0x656e6975);   /* HygonGenuine */
}

static int amd;
static int moved; /* default CPL0 moved to CPL3 (ring 0 emulated) */

static int setup(void) {
  uint64_t insn = param("insn");
  amd = insn ? insn == 2 : cpu_is_amd();
  if (rt_on_qemu()) trap_set_handler(6, emulate_ud);
  if (rt_cpl == 0 && rt_ring0_emulated()) {
    if (rt_cpl_given) {
      printf("vtb: parameter 'cpl': vmcall cannot run at cpl=0 on this host: it emulates ring 0 "
             "(kvm_pvm) and KVM's emulator never completes VMCALL/VMMCALL; use cpl=3\n");
      console_flush();
      return VTB_EXIT_BAD_PARAM;
    }
    printf("vtb: vmcall: host emulates ring 0 (kvm_pvm), where KVM's emulator never completes "
           "VMCALL/VMMCALL: issuing them from ring 3 (cpl=3, answered -KVM_EPERM in the host "
           "kernel; nothing reaches refvmm)\n");
    rt_cpl = 3;
    moved = 1;
  }
  return 0;
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), sum = 0;
  uint64_t nr = param("user") ? VTB_KVM_HC_MAP_GPA_RANGE : VTB_KVM_HC_VAPIC_POLL_IRQ;

  /* One call outside the region: a host that keeps the number in the
   * kernel answers -KVM_ENOSYS; say why instead of a wrong checksum. */
  uint64_t probe = amd ? hc_vmmcall(nr, VMCALL_ARG0, 1, 0) : hc_vmcall(nr, VMCALL_ARG0, 1, 0);
  if (probe == -(uint64_t)VTB_KVM_ENOSYS) {
    printf("vtb: vmcall: hypercall %lu answered -KVM_ENOSYS by the host kernel: the VMM did not "
           "enable KVM_CAP_EXIT_HYPERCALL (or the host lacks it); use user=0 for the in-kernel "
           "path\n",
           nr);
    return 4;
  }

  mark_begin();
  if (amd)
    for (uint64_t i = 0; i < n; i++)
      sum += hc_vmmcall(nr, VMCALL_ARG0, 1, i) + i;
  else
    for (uint64_t i = 0; i < n; i++)
      sum += hc_vmcall(nr, VMCALL_ARG0, 1, i) + i;
  mark_end();
  hc_report("vmcall.insn", amd ? 1 : 0);
  hc_report("vmcall.nr", nr);
  hc_report("vmcall.emulated", emulated);
  hc_report("vmcall.moved_to_cpl3", (uint64_t)moved);
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct workload WORKLOAD = {
    .name = "vmcall",
    .desc =
        "N VMCALL/VMMCALL hypercalls: answered by refvmm at CPL0, refused in the kernel at CPL3",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 0,
    .setup = setup,
    .run = run,
};
