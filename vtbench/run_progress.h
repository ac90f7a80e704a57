/* run_progress.h - `vtbench run`'s progress: jobs done out of the jobs to
 * do, elapsed time and an estimate of what is left, shown as one line on
 * a terminal (msg__progress: nothing when stderr is not a terminal, so CI
 * logs stay clean):
 *
 *   [7/24] 0:10 elapsed, ~0:20 left | kvm pio {"n":100000} shadow/flush/poll/poll rep #0
 */
#ifndef VTBENCH_RUN_PROGRESS_H
#define VTBENCH_RUN_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

struct run_progress {
  size_t done, todo; /* jobs (warm-ups included) finished and to do in all */
  double t0;         /* CLOCK_MONOTONIC seconds at the start */
  bool tty;          /* stderr is a terminal: show the line */
};

void run_progress__start(struct run_progress *p, size_t todo);
/* Before a job: the line for it (on a terminal). */
void run_progress__show(const struct run_progress *p, const char *key, bool warmup, unsigned rep);
/* Erase the line (before the final summary). */
void run_progress__end(const struct run_progress *p);
/* Seconds since the start. */
double run_progress__elapsed(const struct run_progress *p);
/* "m:ss" or "h:mm:ss". */
void run_progress__fmt_secs(double s, char *buf, size_t len);

#endif
