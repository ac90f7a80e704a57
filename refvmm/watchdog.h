/* watchdog.h - stop a runaway guest: after `timeout_s` seconds set
 * vm->stop_requested and kick the vCPU (ops->kick); the run loop then ends
 * the run as RUN_TIMEOUT with the vCPU's registers. With a progress label
 * it also says on stderr, every WATCHDOG_PROGRESS_S seconds (the
 * environment's VTB_PROGRESS_S when set), that the run
 * is still going (a model run of a large guest takes minutes):
 *   refvmm: the guest: running for 20 s (in its timed region; --timeout 300 s) */
#ifndef REFVMM_WATCHDOG_H
#define REFVMM_WATCHDOG_H

#include <pthread.h>
#include <stdbool.h>

#include "vm.h"

#define WATCHDOG_PROGRESS_S 10

struct watchdog {
  struct vm *vm;
  double timeout_s;
  const char *progress; /* what is running, for the progress lines; NULL: none */
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool running, cancelled, fired;
};

/* Start the thread (no-op for timeout_s <= 0 without progress). 0 or
 * -errno. */
int watchdog__start(struct watchdog *w, struct vm *vm, double timeout_s, const char *progress);
/* Cancel and join; safe to call when not started. */
void watchdog__stop(struct watchdog *w);

#endif
