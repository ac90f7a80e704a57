/* run_progress.h - `vtbench run`'s progress: jobs done out of the jobs to
 * do, elapsed time and an estimate of what is left, shown as one line on
 * a terminal (msg__progress, rewritten before every job):
 *
 *   [7/24] 0:10 elapsed, ~0:20 left | kvm pio {"n":100000} shadow/flush/poll/poll rep #0
 *
 * When stderr is not a terminal (CI logs, `2>log`), the same text as a
 * message line of its own, before the first job and then at most every
 * RUN_PROGRESS_LOG_S seconds (the environment's VTB_PROGRESS_S when set),
 * so a long matrix is never silent for long
 * and a log does not get a line per job. */
#ifndef VTBENCH_RUN_PROGRESS_H
#define VTBENCH_RUN_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#define RUN_PROGRESS_LOG_S 10.0

struct run_progress {
  size_t done, todo; /* jobs (warm-ups included) finished and to do in all */
  double t0;         /* CLOCK_MONOTONIC seconds at the start */
  double logged;     /* when the last line went to a log (not a terminal); < 0: never */
  double every;      /* seconds between lines in a log */
  bool tty;          /* stderr is a terminal: show the line */
};

void run_progress__start(struct run_progress *p, size_t todo);
/* Before a job: the line for it (on a terminal; in a log, see above). */
void run_progress__show(struct run_progress *p, const char *key, bool warmup, unsigned rep);
/* Erase the line (before the final summary). */
void run_progress__end(const struct run_progress *p);
/* Seconds since the start. */
double run_progress__elapsed(const struct run_progress *p);
/* "m:ss" or "h:mm:ss". */
void run_progress__fmt_secs(double s, char *buf, size_t len);

#endif
