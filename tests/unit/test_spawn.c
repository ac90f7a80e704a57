/* test_spawn.c - vtbench's child runner (vtbench/spawn.h): exit statuses
 * and signals decoded, output captured or sent to files, programs that
 * cannot start told apart from ones that exit 127, the time limit with
 * SIGTERM then SIGKILL, a signal to vtbench passed on to the child, and a
 * child that does not outlive a SIGKILLed parent. Children are /bin/sh
 * one-liners. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vtbench/spawn.h"

static int sh(struct spawn_result *r, struct spawn_opts *o, const char *script) {
  const char *argv[] = {"/bin/sh", "-c", script, NULL};
  o->argv = argv;
  return spawn__run(o, r);
}

START_TEST(exit_status_and_output_are_captured) {
  struct spawn_result r;
  struct spawn_opts o = {.capture = true};
  ck_assert_int_eq(sh(&r, &o, "echo out; echo err >&2; exit 3"), 0);
  ck_assert_int_eq(r.how, SPAWN_EXITED);
  ck_assert_int_eq(r.code, 3);
  ck_assert_int_eq(r.status, 3);
  ck_assert_str_eq(r.out, "out\n");
  ck_assert_str_eq(r.err, "err\n");
  ck_assert(!r.interrupted);
  spawn__result_free(&r);
  o.err_to_out = true; /* one stream, in order */
  ck_assert_int_eq(sh(&r, &o, "echo a; echo b >&2; echo c"), 0);
  ck_assert_str_eq(r.out, "a\nb\nc\n");
  ck_assert_ptr_null(r.err);
  spawn__result_free(&r);
}
END_TEST

START_TEST(large_output_does_not_block) {
  struct spawn_result r;
  struct spawn_opts o = {.capture = true};
  ck_assert_int_eq(
      sh(&r, &o, "head -c 1000000 /dev/zero | tr '\\0' x; head -c 300000 /dev/zero >&2"), 0);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.out_len, 1000000);
  ck_assert_uint_eq(r.err_len, 300000);
  spawn__result_free(&r);
}
END_TEST

START_TEST(files_env_and_cwd) {
  char dir[] = "/tmp/vtb_spawn_XXXXXX", out[64], err[64], cmd[128];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(out, sizeof out, "%s/out", dir);
  snprintf(err, sizeof err, "%s/err", dir);
  const char *env[] = {"VTB_SPAWN_TEST=hello", NULL};
  struct spawn_result r;
  struct spawn_opts o = {.out_file = out, .err_file = err, .env = env, .cwd = "/"};
  ck_assert_int_eq(sh(&r, &o, "echo $VTB_SPAWN_TEST; pwd; echo e1 >&2"), 0);
  o.err_append = true;
  ck_assert_int_eq(sh(&r, &o, "echo e2 >&2"), 0);
  ck_assert_int_eq(r.status, 0);
  snprintf(cmd, sizeof cmd, "test \"$(cat %s)\" = \"$(printf '' )\"", out); /* truncated again */
  ck_assert_int_eq(system(cmd), 0);
  snprintf(cmd, sizeof cmd, "test \"$(cat %s)\" = \"$(printf 'e1\\ne2')\"", err);
  ck_assert_int_eq(system(cmd), 0);
  o.err_append = false;
  o.err_file = NULL;
  o.err_to_out = true;
  ck_assert_int_eq(sh(&r, &o, "echo $VTB_SPAWN_TEST; pwd; echo e >&2"), 0);
  snprintf(cmd, sizeof cmd, "test \"$(cat %s)\" = \"$(printf 'hello\\n/\\ne')\"", out);
  ck_assert_int_eq(system(cmd), 0);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(a_missing_program_is_not_exit_127) {
  struct spawn_result r;
  const char *argv[] = {"/nonexistent/refvmm", "run", NULL};
  struct spawn_opts o = {.argv = argv, .capture = true};
  ck_assert_int_eq(spawn__run(&o, &r), -1);
  ck_assert_int_eq(r.how, SPAWN_NOT_STARTED);
  ck_assert_int_eq(r.error, ENOENT);
  ck_assert_int_eq(r.status, -1);
  char buf[128];
  ck_assert_str_eq(spawn__describe(&r, buf, sizeof buf),
                   "could not start: No such file or directory");
  const char *argv2[] = {"vtb-no-such-program-in-path", NULL};
  o.argv = argv2;
  o.search_path = true;
  ck_assert_int_eq(spawn__run(&o, &r), -1);
  ck_assert_int_eq(r.error, ENOENT);
  struct spawn_opts o3 = {.cwd = "/nonexistent"};
  ck_assert_int_eq(sh(&r, &o3, "true"), -1);
  ck_assert_int_eq(r.error, ENOENT);
  struct spawn_opts o4 = {0}; /* a program that exits 127 itself did start */
  ck_assert_int_eq(sh(&r, &o4, "exit 127"), 0);
  ck_assert_int_eq(r.how, SPAWN_EXITED);
  ck_assert_int_eq(r.code, 127);
}
END_TEST

START_TEST(death_by_signal_is_decoded) {
  struct spawn_result r;
  struct spawn_opts o = {0};
  ck_assert_int_eq(sh(&r, &o, "kill -9 $$"), 0);
  ck_assert_int_eq(r.how, SPAWN_KILLED);
  ck_assert_int_eq(r.code, SIGKILL);
  ck_assert_int_eq(r.status, 128 + SIGKILL);
  char buf[64];
  ck_assert_str_eq(spawn__describe(&r, buf, sizeof buf), "killed by SIGKILL");
}
END_TEST

START_TEST(time_limit_terms_then_kills) {
  struct spawn_result r;
  struct spawn_opts o = {.timeout_s = 0.3, .grace_s = 0.3};
  ck_assert_int_eq(sh(&r, &o, "sleep 20"), 0);
  ck_assert_int_eq(r.how, SPAWN_TIMED_OUT);
  ck_assert_int_eq(r.code, SIGTERM);
  ck_assert(r.seconds >= 0.3 && r.seconds < 5);
  /* one that ignores SIGTERM gets SIGKILL after the grace period */
  ck_assert_int_eq(sh(&r, &o, "trap '' TERM; while :; do sleep 0.05; done"), 0);
  ck_assert_int_eq(r.how, SPAWN_TIMED_OUT);
  ck_assert_int_eq(r.code, SIGKILL);
  ck_assert(r.seconds >= 0.6 && r.seconds < 5);
}
END_TEST

/* SIGTERM to this process after `delay` seconds, from a helper process. */
static pid_t signal_me_later(int sig, double delay) {
  pid_t me = getpid(), h = fork();
  ck_assert_int_ge(h, 0);
  if (!h) {
    struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
    nanosleep(&ts, NULL);
    kill(me, sig);
    _exit(0);
  }
  return h;
}

START_TEST(a_signal_to_vtbench_reaches_the_child) {
  spawn__catch_signals();
  pid_t h = signal_me_later(SIGTERM, 0.3);
  struct spawn_result r;
  struct spawn_opts o = {0};
  ck_assert_int_eq(sh(&r, &o, "sleep 20"), 0);
  waitpid(h, NULL, 0);
  ck_assert(r.interrupted);
  ck_assert_int_eq(r.how, SPAWN_KILLED);
  ck_assert_int_eq(r.code, SIGTERM);
  ck_assert(r.seconds < 5);
  ck_assert_int_eq(spawn__caught(), SIGTERM);
  /* a signal that came before the child started is passed on at once */
  ck_assert_int_eq(sh(&r, &o, "sleep 20"), 0);
  ck_assert(r.interrupted && r.seconds < 5);
  spawn__restore_signals();
}
END_TEST

static bool stop_flag;
static bool stop_now(void) {
  return stop_flag;
}
static void on_hup(int sig) {
  (void)sig;
  stop_flag = true;
}

START_TEST(stop_callback_sends_sigint) {
  /* a handler of the caller's own, as kvm_host__with_config installs: the
   * signal is not recorded by spawn, stop() turns true */
  struct sigaction sa = {.sa_handler = on_hup};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, NULL);
  pid_t h = signal_me_later(SIGHUP, 0.3);
  struct spawn_result r;
  struct spawn_opts o = {.stop = stop_now};
  ck_assert_int_eq(sh(&r, &o, "sleep 20"), 0);
  waitpid(h, NULL, 0);
  ck_assert(r.seconds < 5);
  ck_assert(r.interrupted);
  ck_assert_int_eq(r.code, SIGINT);
}
END_TEST

START_TEST(child_dies_with_a_killed_parent) {
  char pidfile[] = "/tmp/vtb_spawn_pid_XXXXXX";
  int fd = mkstemp(pidfile);
  ck_assert_int_ge(fd, 0);
  close(fd);
  pid_t parent = fork();
  ck_assert_int_ge(parent, 0);
  if (!parent) {
    char script[128];
    snprintf(script, sizeof script, "echo $$ > %s; exec sleep 30", pidfile);
    struct spawn_result r;
    struct spawn_opts o = {0};
    sh(&r, &o, script);
    _exit(0);
  }
  long child = 0;
  for (int i = 0; i < 200 && child <= 0; i++) {
    usleep(10000);
    FILE *f = fopen(pidfile, "r");
    if (f && fscanf(f, "%ld", &child) != 1) child = 0;
    if (f) fclose(f);
  }
  ck_assert_int_gt(child, 0);
  kill(parent, SIGKILL);
  waitpid(parent, NULL, 0);
  bool gone = false;
  for (int i = 0; i < 300 && !gone; i++) {
    usleep(10000);
    gone = kill((pid_t)child, 0) != 0; /* reaped by init once it died */
  }
  unlink(pidfile);
  if (!gone) kill((pid_t)child, SIGKILL);
  ck_assert_msg(gone, "the child (pid %ld) outlived its SIGKILLed parent", child);
}
END_TEST

START_TEST(pinning) {
  struct spawn_result r;
  struct spawn_opts o = {.capture = true, .pin = true, .cpu = 0};
  ck_assert_int_eq(sh(&r, &o, "grep Cpus_allowed_list /proc/self/status"), 0);
  ck_assert_str_eq(r.out, "Cpus_allowed_list:\t0\n");
  spawn__result_free(&r);
}
END_TEST

Suite *suite_spawn(void) {
  Suite *s = suite_create("spawn");
  TCase *tc = tcase_create("spawn");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, exit_status_and_output_are_captured);
  tcase_add_test(tc, large_output_does_not_block);
  tcase_add_test(tc, files_env_and_cwd);
  tcase_add_test(tc, a_missing_program_is_not_exit_127);
  tcase_add_test(tc, death_by_signal_is_decoded);
  tcase_add_test(tc, time_limit_terms_then_kills);
  tcase_add_test(tc, a_signal_to_vtbench_reaches_the_child);
  tcase_add_test(tc, stop_callback_sends_sigint);
  tcase_add_test(tc, child_dies_with_a_killed_parent);
  tcase_add_test(tc, pinning);
  suite_add_tcase(s, tc);
  return s;
}
