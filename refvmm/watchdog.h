/* watchdog.h - stop a runaway guest: after `timeout_s` seconds set
 * vm->stop_requested and kick the vCPU (ops->kick); the run loop then ends
 * the run as RUN_TIMEOUT with the vCPU's registers. With a progress label
 * it also says on stderr, every WATCHDOG_PROGRESS_S seconds (the
 * environment's VTB_PROGRESS_S when set), that the run
 * is still going (a model run of a large guest takes minutes):
 *   refvmm: the guest: running for 20 s (in its timed region; --timeout 300 s)
 *
 * For a Linux boot on a backend whose vCPU halts inside it (ops->halted:
 * KVM with its local APIC, where a powered-off kernel's HLT with interrupts
 * off never comes back), the thread also wakes every HALT_CHECK_S (with or
 * without a timeout): after a second in which the guest made no exit at all
 * it sets vm->halt_check and kicks; the run loop asks the backend whether
 * the vCPU is halted (run_loop.c), and that kick's exit is not counted. */
#ifndef REFVMM_WATCHDOG_H
#define REFVMM_WATCHDOG_H

#include <pthread.h>
#include <stdbool.h>

#include "vm.h"

#define WATCHDOG_PROGRESS_S 10
#define HALT_CHECK_S        1.0

struct watchdog {
  struct vm *vm;
  double timeout_s;
  const char *progress; /* what is running, for the progress lines; NULL: none */
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool running, cancelled, fired;
};

/* Start the thread (no-op for timeout_s <= 0 without progress or halt
 * checks). 0 or -errno. */
int watchdog__start(struct watchdog *w, struct vm *vm, double timeout_s, const char *progress);
/* Cancel and join; safe to call when not started. */
void watchdog__stop(struct watchdog *w);

#endif
