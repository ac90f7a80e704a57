/* watchdog.c - a timer thread that kicks the vCPU at --timeout. */
#include "watchdog.h"

#include "backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct timespec after(const struct timespec *t0, double s) {
  struct timespec t = *t0;
  double whole = (double)(long long)s;
  t.tv_sec += (time_t)whole;
  t.tv_nsec += (long)((s - whole) * 1e9);
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

static bool before(const struct timespec *a, const struct timespec *b) {
  return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Seconds between progress lines: VTB_PROGRESS_S (a positive number) or
 * WATCHDOG_PROGRESS_S. */
static double progress_interval(void) {
  const char *e = getenv("VTB_PROGRESS_S");
  char *end;
  double v = e ? strtod(e, &end) : 0;
  return e && end != e && !*end && v > 0 && v < 1e6 ? v : WATCHDOG_PROGRESS_S;
}

static void *watchdog_main(void *arg) {
  struct watchdog *w = arg;
  double every = progress_interval();
  struct timespec t0, deadline, tick;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  deadline = after(&t0, w->timeout_s > 0 ? w->timeout_s : 1e9);
  int ticks = 1;
  tick = after(&t0, every);
  pthread_mutex_lock(&w->lock);
  bool fire = false;
  while (!w->cancelled) {
    bool progress = w->progress && before(&tick, &deadline);
    int rc = pthread_cond_timedwait(&w->cond, &w->lock, progress ? &tick : &deadline);
    if (w->cancelled || rc != ETIMEDOUT) continue;
    if (!progress) {
      fire = true;
      break;
    }
    /* read racily: a hint for the line, the run loop owns them */
    bool in = __atomic_load_n(&w->vm->timed_begun, __ATOMIC_RELAXED) &&
              !__atomic_load_n(&w->vm->timed_ended, __ATOMIC_RELAXED);
    char lim[64] = "";
    if (w->timeout_s > 0) snprintf(lim, sizeof lim, "; --timeout %.0f s", w->timeout_s);
    fprintf(stderr, "refvmm: %s: running for %g s (%s%s)\n", w->progress, ticks * every,
            in ? "in its timed region" : "outside its timed region", lim);
    ticks++;
    tick = after(&t0, (double)ticks * every);
  }
  w->fired = fire;
  pthread_mutex_unlock(&w->lock);
  if (fire) {
    w->vm->stop_requested = 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (w->vm->ops->kick) w->vm->ops->kick(w->vm);
  }
  return NULL;
}

int watchdog__start(struct watchdog *w, struct vm *vm, double timeout_s, const char *progress) {
  memset(w, 0, sizeof *w);
  w->vm = vm;
  w->timeout_s = timeout_s;
  w->progress = progress;
  if (timeout_s <= 0 && !progress) return 0;
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
