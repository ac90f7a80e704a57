/* linux_guest.h - running the Linux guest's workloads (linux:NAME, docs/LINUX.md)
 * through refvmm: what they need, refused with the missing pieces named
 * until everything is here, and the refvmm command line of one run.
 *
 * A run boots Debian's kernel with our initramfs; the workload and its
 * parameters go on the kernel command line:
 *   refvmm run --kernel KERNEL --initrd INITRD --cmdline "BASE vtb.workload=NAME vtb.K=V ..."
 * KERNEL: $VTBENCH_LINUX_KERNEL, else LINUX_GUEST_KERNEL_GLOB in the tree
 * vtbench runs from (make deps). INITRD: $VTBENCH_LINUX_INITRD,
 * else linux/initramfs.cpio in the workload image directory (make). refvmm
 * boots Linux when its --help lists --kernel. */
#ifndef VTBENCH_LINUX_GUEST_H
#define VTBENCH_LINUX_GUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Debian's kernel as scripts/kvm_amd/fetch.sh unpacks it (make deps), from
 * the top of the tree. */
#define LINUX_GUEST_KERNEL_GLOB "build/kvm-amd/cache/root/boot/vmlinuz-*"

/* Kernel options every run gets before the vtb.* words: console on the
 * UART, no PCI or ACPI (refvmm's platform), the same physical layout in
 * every run (nokaslr), reboot at once on a panic, and no self-tests of the
 * crypto algorithms at boot (cryptomgr.notests: 0.87 G of a 5.85 G
 * instruction boot on the model, nothing a workload uses). */
#define LINUX_GUEST_BASE_CMDLINE                                                                   \
  "console=ttyS0 pci=off acpi=off nokaslr panic=-1 quiet loglevel=4 cryptomgr.notests=1"

struct linux_guest {
  char kernel[4096], initrd[4096];
  bool ready;         /* all three pieces present */
  char missing[1024]; /* when not ready: what is missing, with what to do */
};

struct matrix;

/* Looks for the kernel, the initramfs (in `images`) and whether `refvmm`
 * boots Linux; fills lg. */
void linux_guest__find(struct linux_guest *lg, const char *refvmm, const char *images);
/* True for a workload name of the Linux guest (linux:NAME). */
bool linux_guest__named(const char *workload);
/* True when the matrix names a workload of the Linux guest. */
bool linux_guest__in_matrix(const struct matrix *m);
/* The kernel command line for workload `name` (linux:NAME) with `params`
 * (a JSON object of integers and words). 0, or -1 with the reason in buf
 * (a value that is not [A-Za-z0-9_.-]+, or too long). */
int linux_guest__cmdline(const char *name, const json_t *params, char *buf, size_t len);
/* Appends "--kernel K --initrd I --cmdline C" to argv at *a (C in cmdline,
 * len bytes). 0, or -1 with the reason in cmdline. */
int linux_guest__argv(const struct linux_guest *lg, const char *name, const json_t *params,
                      const char **argv, int *a, char *cmdline, size_t len);

#endif
