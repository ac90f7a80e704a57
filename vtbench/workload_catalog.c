/* workload_catalog.c - the static table of the workload suite: the freestanding
 * workloads (workloads/NAME.c) and the Linux guest's (workloads/linux/wl/NAME.c). */
#include "workload_catalog.h"

#include <stdio.h>
#include <string.h>

#define N_ITERS(d)                                                                                 \
  { "n", WLP_INT, d, "iterations of the measured operation" }
#define CPL                                                                                        \
  { "cpl", WLP_INT, NULL, "ring of the hot loop (0 or 3) where both make sense" }
/* cpl with the workload's default ring (its WORKLOAD.cpl_default). */
#define CPL_DEF(d)                                                                                 \
  { "cpl", WLP_INT, d, "ring of the hot loop (0 or 3) where both make sense" }

const struct wl_info workload_catalog[] = {
    {"cpuid",
     "N CPUID instructions",
     "exit round trip handled in the kernel",
     "0",
     {N_ITERS("100000"), CPL_DEF("0"), {"leaf", WLP_INT, "0", "CPUID leaf (EAX)"}}},
    {"vmcall",
     "N VMCALL/VMMCALL hypercalls (by CPU vendor): at CPL0 KVM_HC_MAP_GPA_RANGE, answered by "
     "refvmm "
     "(KVM_EXIT_HYPERCALL); kvm_pvm cannot run them in ring 0, so there they come from ring 3 and "
     "KVM "
     "refuses them in the kernel (-KVM_EPERM)",
     "hypercall path",
     "0",
     {N_ITERS("150000"),
      CPL_DEF("0"),
      {"user", WLP_INT, "1", "1: number forwarded to refvmm; 0: answered in the host kernel"},
      {"insn", WLP_INT, "0", "0: by CPU vendor; 1: VMCALL; 2: VMMCALL"}}},
    {"pio",
     "N OUTs to a refvmm port (ring 0 only)",
     "user-space exit round trip",
     "0",
     {N_ITERS("100000"),
      {"pre", WLP_INT, "0", "extra OUTs before mark begin (setup outside the timed region)"}}},
    {"mmio",
     "N writes to an unbacked guest-physical page",
     "MMIO exit path",
     "0",
     {N_ITERS("100000"), CPL_DEF("0")}},
    {"cr8wr",
     "N writes of CR8 in ring 0 (emulated instruction by instruction on kvm_pvm)",
     "TPR handling",
     "0",
     {N_ITERS("150000")}},
    {"syscall",
     "N ring 3 -> ring 0 -> ring 3 system calls (UD2 trap or SYSCALL/SYSRET: syscall=)",
     "native cost, no exit expected",
     "3 -> 0",
     {N_ITERS("20000")}},
    {"callret",
     "N call/ret pairs in ring 3",
     "pure CPU baseline",
     "3",
     {N_ITERS("1000000000"), CPL_DEF("3"), {"seed", WLP_INT, "1", "initial state"}}},
    {"divzero",
     "N divide faults in ring 3, #DE handled by the guest kernel",
     "exception delivery",
     "3 -> 0",
     {N_ITERS("16000"), CPL_DEF("3")}},
    {"pgfault",
     "N demand-paging faults: ring 3 touches unmapped pages, the guest's #PF handler maps each",
     "hidden vs true faults",
     "3 -> 0",
     {N_ITERS("12000")}},
    {"ptemod",
     "N page-table entry updates with INVLPG (kernel work via system call), each read through",
     "shadow write-protection traps",
     "3 -> 0",
     {N_ITERS("14000"),
      CPL_DEF("3"),
      {"frames", WLP_INT, "8", "frames the page points at in turn"}}},
    {"invlpg",
     "N rounds: INVLPG of P pages whose mappings do not change (kernel work via system call), "
     "then a read of each",
     "TLB invalidation alone",
     "3 -> 0",
     {N_ITERS("4000"),
      CPL_DEF("3"),
      {"pages", WLP_INT, "64", "4 KiB pages invalidated and read per round (1..512)"},
      {"page", WLP_WORD, "4k", "page size of the mapping: 4k or 2m"}}},
    {"cr3switch",
     "ping-pong between K address spaces (CR3 load via system call), W pages touched each",
     "CR3 exits, TLB flush vs VPID",
     "3 -> 0",
     {N_ITERS("20000"),
      CPL_DEF("3"),
      {"k", WLP_INT, "2", "address spaces"},
      {"w", WLP_INT, "16", "pages touched per switch"}}},
    {"forkwait",
     "create an address space, copy the parent's mappings, switch, touch, switch back, destroy",
     "shadow paging's worst case",
     "3 -> 0",
     {N_ITERS("800"),
      CPL_DEF("3"),
      {"pages", WLP_INT, "64", "pages the parent maps, copied to each child"}}},
    {"gups",
     "random read-modify-write over a working set of W bytes",
     "two-dimensional page walks",
     "3",
     {N_ITERS("75000000"),
      {"ws", WLP_INT, "67108864", "working set in bytes (power of two)"},
      {"page", WLP_WORD, "4k", "page size: 4k or 2m"},
      {"seed", WLP_INT, "1", "xorshift64 seed (nonzero)"}}},
    {"memstream",
     "sequential read/write over W bytes",
     "bandwidth, TLB reach",
     "3",
     {{"passes", WLP_INT, "300", "read+write passes over the working set"},
      {"ws", WLP_INT, "67108864", "working set in bytes (multiple of the page size)"},
      {"page", WLP_WORD, "4k", "page size: 4k or 2m"}}},
    {"ptrchase",
     "dependent loads through a random cyclic permutation of the cache lines of W bytes",
     "memory reference latency (vtbench calibrate)",
     "3",
     {{"n", WLP_INT, "10000000", "dependent loads"},
      {"ws", WLP_INT, "67108864", "working set in bytes (multiple of 64)"},
      {"page", WLP_WORD, "4k", "page size: 4k or 2m"},
      {"seed", WLP_INT, "1", "xorshift64 seed (nonzero)"}}},
    {"compute",
     "integer hash loop, no memory traffic",
     "pure CPU baseline",
     "3",
     {N_ITERS("300000000"),
      CPL_DEF("3"),
      {"seed", WLP_INT, "1", "initial state of the hash chain"}}},
    {"ubench",
     "n iterations of a kernel of 32 instructions of one kind, independent or each on the last",
     "instruction costs (vtbench calibrate)",
     "3",
     {N_ITERS("1000000"),
      {"kernel", WLP_INT, "0",
       "0 alu, 1 alu_dep, 2 mov, 3 mov_dep, 4 mul, 5 mul_dep, 6 load, 7 load_dep, 8 branch, "
       "9 stack, 10 nop"},
      {"seed", WLP_INT, "1", "R8 starts at seed, R9 at seed + 1, ..."}}},
    {"nmistorm",
     "n NMIs raised by refvmm, one at a time period_us apart (or at rate per second), while the "
     "guest's NMI handler keeps NMIs blocked block_us each",
     "NMI delivery, window vs poll",
     "3",
     {{"n", WLP_INT, "200", "NMIs to raise"},
      CPL_DEF("3"),
      {"period_us", WLP_INT, "2000", "raise each NMI this long after the previous handler began"},
      {"rate", WLP_INT, "0", "rate mode: n NMIs at this many per second on a fixed schedule"},
      {"block_us", WLP_INT, "500", "NMI handler spin: NMIs blocked for this long each"},
      {"timeout_s", WLP_INT, "30", "give up waiting after this long"}}},
    {"irqstorm",
     "n interrupts raised by refvmm, one at a time period_us apart (or at rate per second), "
     "while the guest toggles IF (sti_us on, cli_us off) and its handler spins block_us with IF=0",
     "interrupt window vs poll",
     "3",
     {{"n", WLP_INT, "200", "interrupts to raise"},
      CPL_DEF("3"),
      {"vector", WLP_INT, "0x40", "interrupt vector (32..255)"},
      {"period_us", WLP_INT, "2000", "raise each IRQ this long after the previous handler began"},
      {"rate", WLP_INT, "0", "rate mode: n IRQs at this many per second on a fixed schedule"},
      {"block_us", WLP_INT, "500", "IRQ handler spin with IF=0"},
      {"sti_us", WLP_INT, "300", "body: IF=1 stretch"},
      {"cli_us", WLP_INT, "300", "body: IF=0 stretch"},
      {"timeout_s", WLP_INT, "30", "give up waiting after this long"}}},
    /* The Linux guest's workloads (workloads/linux/wl/NAME.c, docs/LINUX.md): processes under
     * Debian's kernel, run by the init of workloads/build/linux/initramfs.cpio; each parameter
     * goes on the kernel command line as vtb.KEY=VALUE. */
    {"linux:null",
     "N getppid() calls by a Linux process",
     "system-call entry and exit in a real kernel",
     "3 -> 0",
     {N_ITERS("200000")}},
    {"linux:fork",
     "N fork + exit + wait of a Linux process",
     "process creation, copy-on-write page tables",
     "3 -> 0",
     {N_ITERS("1000")}},
    {"linux:forkexec",
     "N fork + execve of a small static program + wait",
     "image loading, address-space rebuild",
     "3 -> 0",
     {N_ITERS("300")}},
    {"linux:pgfault",
     "N anonymous pages mapped CHUNK at a time, each first-touched (one fault), then unmapped",
     "the kernel's page-fault path",
     "3 -> 0",
     {{"n", WLP_INT, "20000", "pages touched, one fault each"},
      {"chunk", WLP_INT, "256", "pages per mapping (mmap, touch, munmap)"}}},
    {"linux:mprotect",
     "N rounds: mprotect a region read-only and back, unmap and remap one of its pages",
     "PTE rewrites and TLB flushes (shootdown paths)",
     "3 -> 0",
     {{"n", WLP_INT, "3000", "rounds"}, {"pages", WLP_INT, "16", "pages in the region"}}},
    {"linux:ctx",
     "N round trips of a token through two pipes between two processes (lmbench lat_ctx)",
     "context and address-space switches, flush vs VPID",
     "3 -> 0",
     {{"n", WLP_INT, "5000", "round trips (two context switches each)"},
      {"ws", WLP_INT, "0", "bytes each process reads after each switch"}}},
    {"linux:ptrchase",
     "dependent loads through a random permutation of the cache lines of W bytes, as a process",
     "TLB reach, page walks under a real kernel",
     "3",
     {{"n", WLP_INT, "2000000", "dependent loads"},
      {"ws", WLP_INT, "67108864", "working set in bytes (multiple of 64)"},
      {"page", WLP_WORD, "4k", "page size: 4k or 2m (transparent huge pages)"},
      {"seed", WLP_INT, "1", "xorshift64 seed (nonzero)"}}},
    {"linux:gups",
     "random read-modify-write over a working set of W bytes, as a process",
     "TLB misses the CPU can overlap",
     "3",
     {{"n", WLP_INT, "4000000", "updates"},
      {"ws", WLP_INT, "67108864", "working set in bytes (power of two)"},
      {"page", WLP_WORD, "4k", "page size: 4k or 2m (transparent huge pages)"},
      {"seed", WLP_INT, "1", "xorshift64 seed (nonzero)"}}},
    {"linux:make",
     "N builds of FILES sources: a compiler process exec'd per file (JOBS at once), a linker, "
     "clean",
     "mixed: exec, faults, file I/O, wait",
     "3 -> 0",
     {{"n", WLP_INT, "3", "builds"},
      {"files", WLP_INT, "16", "source files per build"},
      {"jobs", WLP_INT, "2", "compilers running at once (make -j)"},
      {"size", WLP_INT, "4096", "bytes per source file (multiple of 8)"}}},
};
const size_t workload_catalog_len = sizeof(workload_catalog) / sizeof(workload_catalog[0]);

bool workload_catalog__is_tool(const struct wl_info *w) {
  return !strcmp(w->name, "ubench");
}

bool workload_catalog__is_linux(const struct wl_info *w) {
  return !strncmp(w->name, WL_LINUX_PREFIX, sizeof WL_LINUX_PREFIX - 1);
}

/* Parameters every freestanding workload accepts (the runtime reads them). */
static const struct wl_param common_params[] = {
    {"syscall", WLP_WORD, NULL, "system call mechanism: trap or syscall"},
    {"cpl", WLP_INT, NULL, "ring of the hot loop (0 or 3)"},
};

const struct wl_info *workload_catalog__find(const char *name) {
  for (size_t i = 0; i < workload_catalog_len; i++)
    if (!strcmp(workload_catalog[i].name, name)) return &workload_catalog[i];
  return NULL;
}

const struct wl_param *workload_catalog__param(const struct wl_info *w, const char *key) {
  for (int i = 0; i < WL_PARAMS_MAX && w->params[i].name; i++)
    if (!strcmp(w->params[i].name, key)) return &w->params[i];
  for (size_t i = 0;
       i < sizeof(common_params) / sizeof(common_params[0]) && !workload_catalog__is_linux(w); i++)
    if (!strcmp(common_params[i].name, key)) return &common_params[i];
  return NULL;
}

void workload_catalog__param_names(const struct wl_info *w, char *buf, size_t len) {
  size_t off = 0;
  buf[0] = 0;
  for (int i = 0; i < WL_PARAMS_MAX && w->params[i].name && off < len; i++)
    off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", w->params[i].name);
  if (workload_catalog__is_linux(w)) return; /* init reads no parameter of its own */
  for (size_t i = 0; i < sizeof(common_params) / sizeof(common_params[0]) && off < len; i++) {
    bool own = false; /* a workload may list a common parameter itself (cpl) */
    for (int k = 0; k < WL_PARAMS_MAX && w->params[k].name && !own; k++)
      own = !strcmp(w->params[k].name, common_params[i].name);
    if (!own)
      off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", common_params[i].name);
  }
}
