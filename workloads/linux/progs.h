/* progs.h - the small static programs in the Linux guest's initramfs that
 * workloads execute, and what they answer (shared by both sides). */
#ifndef LX_PROGS_H
#define LX_PROGS_H

/* /bin/vtb-true I: exits with vtb_mix64(LX_TRUE_TAG + I) % LX_TRUE_MOD, so
 * the forking workload can check that this very program ran for I. */
#define LX_TRUE_PATH "/bin/vtb-true"
#define LX_TRUE_TAG  0x666f726b65786563ull /* "forkexec" */
#define LX_TRUE_MOD  100u                  /* statuses >= 100 mean failure */
#define LX_EXEC_FAIL 126u                  /* the child's status when execve fails */

/* /bin/vtb-cc: the `make` workload's compiler and linker (progs/cc.c). */
#define LX_CC_PATH "/bin/vtb-cc"

#endif
