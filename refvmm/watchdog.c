/* watchdog.c - a timer thread that kicks the vCPU at --timeout. */
#include "watchdog.h"

#include "backend.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static void *watchdog_main(void *arg) {
  struct watchdog *w = arg;
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  double whole = (double)(long long)w->timeout_s;
  deadline.tv_sec += (time_t)whole;
  deadline.tv_nsec += (long)((w->timeout_s - whole) * 1e9);
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&w->lock);
  int rc = 0;
  while (!w->cancelled && rc != ETIMEDOUT)
    rc = pthread_cond_timedwait(&w->cond, &w->lock, &deadline);
  bool fire = !w->cancelled;
  w->fired = fire;
  pthread_mutex_unlock(&w->lock);
  if (fire) {
    w->vm->stop_requested = 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (w->vm->ops->kick) w->vm->ops->kick(w->vm);
  }
  return NULL;
}

int watchdog__start(struct watchdog *w, struct vm *vm, double timeout_s) {
  memset(w, 0, sizeof *w);
  w->vm = vm;
  w->timeout_s = timeout_s;
  if (timeout_s <= 0) return 0;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&w->cond, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&w->lock, NULL);
  int rc = pthread_create(&w->thread, NULL, watchdog_main, w);
  if (rc) {
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    return -rc;
  }
  w->running = true;
  return 0;
}

void watchdog__stop(struct watchdog *w) {
  if (!w->running) return;
  pthread_mutex_lock(&w->lock);
  w->cancelled = true;
  pthread_cond_signal(&w->cond);
  pthread_mutex_unlock(&w->lock);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->cond);
  pthread_mutex_destroy(&w->lock);
  w->running = false;
}
