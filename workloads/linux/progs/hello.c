/* hello.c - the smallest init: prints one line on the console and powers
 * off. The initramfs it is /init of (workloads/build/linux/hello.cpio) is
 * what `make check` boots on the model in every paging mode
 * (tests/scripts/linux_boot.sh): a Linux guest that uses none of refvmm's
 * hypercalls and ends with a power-off, which refvmm reports as a clean end.
 * The kernel gives init /dev/console as fds 0-2. */
#include "sys.h"

#define HELLO_LINE "vtb-linux: hello from user space\n"

int main(void) {
  sys_write(1, HELLO_LINE, sizeof HELLO_LINE - 1);
  /* tcdrain: the serial driver sends the line from THR-empty interrupts,
   * and a power-off does not wait for them (the line was lost under the
   * poll policy, where those interrupts wait for an exit) */
  sys_ioctl(1, TCSBRK, 1);
  sys_reboot(LINUX_REBOOT_CMD_POWER_OFF);
  return 1; /* reached only if the power-off failed: init exits, the kernel panics */
}
