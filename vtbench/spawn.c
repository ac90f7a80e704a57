/* spawn.c - see spawn.h. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CAPTURE_MAX (64u << 20) /* bytes kept per stream; the rest is read and dropped */

/* ---- signals ---------------------------------------------------------------- */
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define NSTOP (sizeof(stop_signals) / sizeof(stop_signals[0]))
static volatile sig_atomic_t caught;
static struct sigaction saved[NSTOP];
static int catching;

static void on_stop_signal(int sig) {
  if (!caught) caught = sig;
}

void spawn__catch_signals(void) {
  struct sigaction sa = {.sa_handler = on_stop_signal}; /* no SA_RESTART: waits see EINTR */
  sigemptyset(&sa.sa_mask);
  caught = 0;
  for (size_t i = 0; i < NSTOP; i++)
    sigaction(stop_signals[i], &sa, catching ? NULL : &saved[i]);
  catching = 1;
}

void spawn__restore_signals(void) {
  if (!catching) return;
  for (size_t i = 0; i < NSTOP; i++)
    sigaction(stop_signals[i], &saved[i], NULL);
  catching = 0;
}

int spawn__caught(void) {
  return caught;
}

/* ---- the child ----------------------------------------------------------------- */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In the child: report errno on the status pipe and end. */
static void child_fail(int fd, int e) {
  ssize_t w = write(fd, &e, sizeof(e));
  (void)w;
  _exit(127);
}

static void redirect(int status_fd, const char *path, int flags, int target) {
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
  if (fd < 0) child_fail(status_fd, errno);
  if (dup2(fd, target) < 0) child_fail(status_fd, errno);
  close(fd);
}

static void child(const struct spawn_opts *o, pid_t parent, int status_fd, const int out_pipe[2],
                  const int err_pipe[2]) {
  for (size_t i = 0; i < NSTOP; i++)
    signal(stop_signals[i], SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* Its own process group: what vtbench passes on reaches the child's own
   * children too (a shell script waits for its child before it acts on
   * SIGINT), exactly once. Dies with vtbench: a killed vtbench leaves no
   * child running. */
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(127);
  if (o->cwd && chdir(o->cwd)) child_fail(status_fd, errno);
  if (o->out_file)
    redirect(status_fd, o->out_file, O_TRUNC, 1);
  else if (out_pipe[1] >= 0 && dup2(out_pipe[1], 1) < 0)
    child_fail(status_fd, errno);
  if (o->err_to_out) {
    if (dup2(1, 2) < 0) child_fail(status_fd, errno);
  } else if (o->err_file) {
    redirect(status_fd, o->err_file, o->err_append ? O_APPEND : O_TRUNC, 2);
  } else if (err_pipe[1] >= 0 && dup2(err_pipe[1], 2) < 0) {
    child_fail(status_fd, errno);
  }
  for (size_t i = 0; o->env && o->env[i]; i++)
    putenv((char *)o->env[i]);
  if (o->pin) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(o->cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set)) /* not fatal: said in the child's log */
      fprintf(stderr, "vtbench: cannot pin %s to CPU %d: %s\n", o->argv[0], o->cpu,
              strerror(errno));
  }
  if (o->search_path)
    execvp(o->argv[0], (char *const *)o->argv);
  else
    execv(o->argv[0], (char *const *)o->argv);
  child_fail(status_fd, errno);
}

/* ---- the parent ------------------------------------------------------------------ */
struct sink {
  int fd; /* read end, -1 when closed */
  char *buf;
  size_t len, cap;
};

/* Read what is there; false at EOF or error (the sink is closed). */
static bool sink_read(struct sink *s) {
  char chunk[16384];
  for (;;) {
    ssize_t n = read(s->fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) {
      close(s->fd);
      s->fd = -1;
      return false;
    }
    size_t keep = s->len + (size_t)n > CAPTURE_MAX ? CAPTURE_MAX - s->len : (size_t)n;
    if (keep && s->len + keep + 1 > s->cap) {
      size_t cap = s->cap ? s->cap : 4096;
      while (cap < s->len + keep + 1)
        cap *= 2;
      char *b = realloc(s->buf, cap);
      if (!b)
        keep = 0;
      else
        s->buf = b, s->cap = cap;
    }
    memcpy(s->buf + s->len, chunk, keep);
    s->len += keep;
  }
}

static char *sink_take(struct sink *s, size_t *len) {
  if (s->fd >= 0) close(s->fd);
  char *b = s->buf ? s->buf : malloc(1);
  if (b) b[s->len] = 0;
  *len = b ? s->len : 0;
  return b;
}

static int open_pipe(int p[2]) {
  if (pipe2(p, O_CLOEXEC)) return -1;
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  return 0;
}

static void close_pair(int p[2]) {
  for (int i = 0; i < 2; i++)
    if (p[i] >= 0) close(p[i]), p[i] = -1;
}

int spawn__run(const struct spawn_opts *o, struct spawn_result *r) {
  memset(r, 0, sizeof(*r));
  r->how = SPAWN_NOT_STARTED;
  r->status = -1;
  int st_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  bool cap_out = o->capture && !o->out_file;
  bool cap_err = o->capture && !o->err_file && !o->err_to_out;
  if (pipe2(st_pipe, O_CLOEXEC) || (cap_out && open_pipe(out_pipe)) ||
      (cap_err && open_pipe(err_pipe))) {
    r->error = errno;
    close_pair(st_pipe), close_pair(out_pipe), close_pair(err_pipe);
    return -1;
  }
  /* Stop signals wait until ppoll below, so none slips in between a check
   * and the wait. */
  sigset_t block, old;
  sigemptyset(&block);
  for (size_t i = 0; i < NSTOP; i++)
    sigaddset(&block, stop_signals[i]);
  sigprocmask(SIG_BLOCK, &block, &old);
  fflush(NULL);
  double t0 = now_s();
  pid_t parent = getpid(), pid = fork();
  if (pid < 0) {
    r->error = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    close_pair(st_pipe), close_pair(out_pipe), close_pair(err_pipe);
    return -1;
  }
  if (!pid) child(o, parent, st_pipe[1], out_pipe, err_pipe);
  setpgid(pid, pid); /* also here: no signal may reach the group before it exists */
  close(st_pipe[1]);
  if (out_pipe[1] >= 0) close(out_pipe[1]);
  if (err_pipe[1] >= 0) close(err_pipe[1]);
  int exec_errno = 0;
  ssize_t n;
  while ((n = read(st_pipe[0], &exec_errno, sizeof(exec_errno))) < 0 && errno == EINTR) {
  }
  close(st_pipe[0]);
  struct sink sinks[2] = {{.fd = out_pipe[0]}, {.fd = err_pipe[0]}};
  int st = 0;
  if (n == (ssize_t)sizeof(exec_errno)) { /* exec (or the set-up before it) failed */
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    for (int i = 0; i < 2; i++)
      if (sinks[i].fd >= 0) close(sinks[i].fd);
    r->error = exec_errno;
    return -1;
  }
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* -1 before Linux 5.3: poll every 10 ms */
  double deadline = o->timeout_s > 0 ? t0 + o->timeout_s : 0, kill_at = 0;
  double grace = o->grace_s > 0 ? o->grace_s : SPAWN_GRACE_S;
  bool timed_out = false, killed = false, reaped = false;
  while (!reaped) {
    double t = now_s();
    if (!r->interrupted && !timed_out && (caught || (o->stop && o->stop()))) {
      kill(-pid, caught ? caught : SIGINT);
      r->interrupted = true;
      kill_at = t + grace;
    }
    if (deadline && !timed_out && !r->interrupted && t >= deadline) {
      kill(-pid, SIGTERM);
      timed_out = true;
      kill_at = t + grace;
    }
    if (kill_at && !killed && t >= kill_at) {
      kill(-pid, SIGKILL);
      killed = true;
    }
    struct pollfd pf[3];
    nfds_t np = 0;
    int pid_slot = -1;
    for (int i = 0; i < 2; i++)
      if (sinks[i].fd >= 0) pf[np++] = (struct pollfd){.fd = sinks[i].fd, .events = POLLIN};
    if (pidfd >= 0) pid_slot = (int)np, pf[np++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
    double wait = pidfd >= 0 ? -1 : 0.01;
    double next = !r->interrupted && !timed_out ? deadline : (!killed ? kill_at : 0);
    if (next && (wait < 0 || next - t < wait)) wait = next - t > 0 ? next - t : 0;
    struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
    int pr = ppoll(pf, np, wait < 0 ? NULL : &ts, &old);
    if (pr > 0)
      for (nfds_t k = 0; k < np; k++) {
        if ((int)k == pid_slot || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        for (int i = 0; i < 2; i++)
          if (sinks[i].fd == pf[k].fd) sink_read(&sinks[i]);
      }
    if (pidfd < 0 || (pr > 0 && pid_slot >= 0 && pf[pid_slot].revents)) {
      pid_t w = waitpid(pid, &st, WNOHANG);
      reaped = w == pid || (w < 0 && errno == ECHILD);
    }
  }
  r->seconds = now_s() - t0;
  if (pidfd >= 0) close(pidfd);
  /* What the child wrote before it ended (a grandchild holding the pipe
   * open does not keep us here: the read ends are non-blocking). */
  for (int i = 0; i < 2; i++)
    if (sinks[i].fd >= 0) sink_read(&sinks[i]);
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (cap_out) r->out = sink_take(&sinks[0], &r->out_len);
  if (cap_err) r->err = sink_take(&sinks[1], &r->err_len);
  if (WIFEXITED(st)) {
    r->how = timed_out ? SPAWN_TIMED_OUT : SPAWN_EXITED;
    r->code = r->status = WEXITSTATUS(st);
  } else {
    r->how = timed_out ? SPAWN_TIMED_OUT : SPAWN_KILLED;
    r->code = WTERMSIG(st);
    r->status = 128 + r->code;
  }
  return 0;
}

void spawn__result_free(struct spawn_result *r) {
  free(r->out);
  free(r->err);
  r->out = r->err = NULL;
  r->out_len = r->err_len = 0;
}

const char *spawn__describe(const struct spawn_result *r, char *buf, size_t len) {
  switch (r->how) {
  case SPAWN_EXITED:
    snprintf(buf, len, "exit %d", r->code);
    break;
  case SPAWN_KILLED:
    snprintf(buf, len, "killed by SIG%s", sigabbrev_np(r->code) ? sigabbrev_np(r->code) : "?");
    break;
  case SPAWN_TIMED_OUT:
    snprintf(buf, len, "stopped at its time limit (%s)",
             r->status > 128 ? "killed" : "it exited when told to");
    break;
  case SPAWN_NOT_STARTED:
    snprintf(buf, len, "could not start: %s", strerror(r->error));
    break;
  }
  return buf;
}
