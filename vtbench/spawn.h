/* spawn.h - run a child program (refvmm, gnuplot, vtbench itself in the
 * tests) and wait for it: the one place for fork/exec, where its output
 * goes, CPU pinning, signals, a time limit and the exit status.
 *
 * Signals: spawn__catch_signals() records SIGINT, SIGTERM and SIGHUP
 * instead of dying; while a child runs, a recorded signal (or the caller's
 * stop() turning true) is passed on to the child's process group (each
 * child gets its own), which then has a grace period (SPAWN_GRACE_S by
 * default) to end before SIGKILL; the time limit ends it the same way
 * with SIGTERM. The child dies with its parent (PR_SET_PDEATHSIG), so a
 * vtbench killed with SIGKILL leaves no refvmm running. Every child starts with default signal
 * dispositions and an empty signal mask. */
#ifndef VTBENCH_SPAWN_H
#define VTBENCH_SPAWN_H

#include <stdbool.h>
#include <stddef.h>

#define SPAWN_GRACE_S 5.0 /* seconds */

struct spawn_opts {
  const char *const *argv; /* argv[0]: the program's path (or name, with search_path) */
  bool search_path;        /* look argv[0] up in PATH (execvp) */
  const char *const *env;  /* extra "K=V" entries, NULL-terminated, or NULL */
  const char *cwd;         /* the child's working directory, or NULL */
  const char *out_file;    /* stdout into this file (truncated), or NULL */
  const char *err_file;    /* stderr into this file, or NULL */
  bool err_append;         /* append to err_file instead of truncating it */
  bool err_to_out;         /* stderr goes where stdout goes (file or capture) */
  bool capture;            /* stdout (and stderr) not sent to a file: into the result */
  bool pin;                /* run on CPU `cpu` only */
  int cpu;
  double timeout_s;   /* > 0: SIGTERM after this long, SIGKILL grace_s later */
  double grace_s;     /* after SIGTERM or a passed-on signal, before SIGKILL (0: SPAWN_GRACE_S) */
  bool (*stop)(void); /* asked when a signal arrives: true passes SIGINT on (NULL: none) */
};

enum spawn_how {
  SPAWN_EXITED,      /* code: its exit status */
  SPAWN_KILLED,      /* code: the signal that ended it */
  SPAWN_TIMED_OUT,   /* stopped at timeout_s; code: the signal that ended it */
  SPAWN_NOT_STARTED, /* fork or exec failed; error: errno (ENOENT: no such program) */
};

struct spawn_result {
  enum spawn_how how;
  int code;
  int status;       /* as a shell shows it: the exit status, 128 + signal, or -1 (not started) */
  int error;        /* SPAWN_NOT_STARTED: errno */
  bool interrupted; /* a signal or stop() was passed on to it */
  double seconds;   /* wall time from start to end */
  char *out, *err;  /* capture: NUL-terminated (malloc'd), else NULL */
  size_t out_len, err_len;
};

/* Run the child and wait for it. 0 when it started (r->how says how it
 * ended), -1 when it could not (r->how SPAWN_NOT_STARTED, r->error). */
int spawn__run(const struct spawn_opts *o, struct spawn_result *r);
void spawn__result_free(struct spawn_result *r);
/* How it ended, in words: "exit 3", "killed by SIGKILL", "stopped at its
 * time limit (killed)", "could not start: No such file or directory". */
const char *spawn__describe(const struct spawn_result *r, char *buf, size_t len);

/* Record SIGINT, SIGTERM and SIGHUP (the first one wins) instead of dying,
 * until spawn__restore_signals(). */
void spawn__catch_signals(void);
void spawn__restore_signals(void);
/* The signal recorded since spawn__catch_signals(), or 0. */
int spawn__caught(void);

#endif
