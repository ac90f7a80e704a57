/* run_progress.c - see run_progress.h. */
#include "run_progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void run_progress__start(struct run_progress *p, size_t todo) {
  memset(p, 0, sizeof(*p));
  p->todo = todo;
  p->t0 = now_s();
  p->tty = isatty(2);
  p->logged = -1;
  const char *e = getenv("VTB_PROGRESS_S");
  char *end;
  double v = e ? strtod(e, &end) : 0;
  p->every = e && end != e && !*end && v > 0 && v < 1e6 ? v : RUN_PROGRESS_LOG_S;
}

double run_progress__elapsed(const struct run_progress *p) {
  return now_s() - p->t0;
}

void run_progress__fmt_secs(double s, char *buf, size_t len) {
  long t = (long)(s + 0.5) % (100L * 3600); /* bounded: a progress line, not a clock */
  if (t >= 3600)
    snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

void run_progress__show(struct run_progress *p, const char *key, bool warmup, unsigned rep) {
  char el[32], left[32], line[512];
  double t = run_progress__elapsed(p);
  if (!p->tty && p->logged >= 0 && t - p->logged < p->every) return;
  run_progress__fmt_secs(t, el, sizeof(el));
  run_progress__fmt_secs(p->done ? t / (double)p->done * (double)(p->todo - p->done) : 0, left,
                         sizeof(left));
  snprintf(line, sizeof(line), "[%zu/%zu] %s elapsed, ~%s left | %s %s #%u", p->done + 1, p->todo,
           el, p->done ? left : "?", key, warmup ? "warm-up" : "rep", rep);
  if (!p->tty) {
    msg__info("%s", line);
    p->logged = t;
    return;
  }
  /* One line, cut to the terminal's width so \r can overwrite it. */
  struct winsize ws;
  size_t cols = !ioctl(2, TIOCGWINSZ, &ws) && ws.ws_col > 20 ? ws.ws_col : 80;
  if (strlen(line) >= cols) line[cols - 1] = 0;
  msg__progress(line);
}

void run_progress__end(const struct run_progress *p) {
  if (p->tty) msg__progress(NULL);
}
