/* exit_codes.h - refvmm's process exit codes (docs/EXIT_CODES.md). */
#ifndef REFVMM_EXIT_CODES_H
#define REFVMM_EXIT_CODES_H

#define EXIT_OK              0  /* guest ran and exited with status 0 */
#define EXIT_USAGE           2  /* bad command line */
#define EXIT_IMAGE           3  /* image rejected by the ELF loader */
#define EXIT_HOST            4  /* host problem: no /dev/kvm, ioctl failed, no memory */
#define EXIT_UNSUPPORTED     5  /* backend cannot honour the requested mode/option */
#define EXIT_GUEST_FAILED    10 /* guest exit(status != 0) */
#define EXIT_GUEST_EXCEPTION 11 /* unhandled exception in the guest */
#define EXIT_TRIPLE_FAULT    12 /* shutdown (triple fault) */
#define EXIT_TIMEOUT         13 /* watchdog stopped the guest */
#define EXIT_INTERNAL_ERROR  14 /* backend internal error / unknown exit */
#define EXIT_FAILED_ENTRY    15 /* VM entry failed */
#define EXIT_BAD_HYPERCALL   16 /* invalid hypercall (pointer, length, number) */
#define EXIT_OUTPUT          20 /* result file could not be written */

#endif
