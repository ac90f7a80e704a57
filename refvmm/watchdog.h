/* watchdog.h - stop a runaway guest: after `timeout_s` seconds set
 * vm->stop_requested and kick the vCPU (ops->kick); the run loop then ends
 * the run as RUN_TIMEOUT with the vCPU's registers. */
#ifndef REFVMM_WATCHDOG_H
#define REFVMM_WATCHDOG_H

#include <pthread.h>
#include <stdbool.h>

#include "vm.h"

struct watchdog {
  struct vm *vm;
  double timeout_s;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool running, cancelled, fired;
};

/* Start the thread (no-op for timeout_s <= 0). 0 or -errno. */
int watchdog__start(struct watchdog *w, struct vm *vm, double timeout_s);
/* Cancel and join; safe to call when not started. */
void watchdog__stop(struct watchdog *w);

#endif
