/* test_scratch.c - vtbench's scratch directories (vtbench/scratch.h): one
 * left by a process that died is removed at the next creation, one that a
 * live process holds is not, nor anything not named vtbench-tmp-*. Each
 * test works in its own $TMPDIR. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vtbench/scratch.h"

static char root[64];

static void setup(void) {
  snprintf(root, sizeof root, "/tmp/vtb_scratch_XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(root));
  setenv("TMPDIR", root, 1);
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", root);
  ck_assert_int_eq(system(cmd), 0);
}

static int entries(void) {
  char cmd[160];
  snprintf(cmd, sizeof cmd, "exit $(ls -A %s | wc -l)", root);
  return WEXITSTATUS(system(cmd));
}

static bool exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

START_TEST(create_and_remove) {
  struct scratch s;
  char err[256];
  ck_assert_int_eq(scratch__create(&s, "run", err, sizeof err), 0);
  ck_assert_msg(!strncmp(s.path, root, strlen(root)), "%s not in $TMPDIR", s.path);
  ck_assert(strstr(s.path, "/vtbench-tmp-run."));
  char f[PATH_MAX + 16];
  snprintf(f, sizeof f, "%s/run.json", s.path);
  FILE *fp = fopen(f, "w");
  ck_assert_ptr_nonnull(fp);
  fclose(fp);
  /* held: another sweep leaves it */
  pid_t c = fork();
  if (!c) _exit(scratch__sweep(root));
  int st;
  waitpid(c, &st, 0);
  ck_assert_int_eq(WEXITSTATUS(st), 0);
  ck_assert(exists(f));
  scratch__remove(&s);
  ck_assert(!exists(s.path));
  ck_assert_int_eq(entries(), 0);
}
END_TEST

START_TEST(a_dead_owners_directory_goes_at_the_next_start) {
  char keep[PATH_MAX];
  pid_t c = fork();
  if (!c) { /* dies without removing it, as after SIGKILL */
    struct scratch s;
    char err[256];
    if (scratch__create(&s, "run", err, sizeof err)) _exit(1);
    char f[PATH_MAX + 16];
    snprintf(f, sizeof f, "%s/run.log", s.path);
    FILE *fp = fopen(f, "w");
    fputs("left behind\n", fp);
    fclose(fp);
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
  ck_assert_int_eq(WEXITSTATUS(st), 0);
  ck_assert_int_eq(entries(), 1);
  /* not ours: a name outside the pattern, and one held by a live process */
  snprintf(keep, sizeof keep, "%s/vtbench.keep", root);
  ck_assert_int_eq(mkdir(keep, 0700), 0);
  char held[PATH_MAX];
  snprintf(held, sizeof held, "%s/vtbench-tmp-run.held", root);
  ck_assert_int_eq(mkdir(held, 0700), 0);
  int hfd = open(held, O_RDONLY | O_DIRECTORY);
  ck_assert_int_eq(flock(hfd, LOCK_EX), 0);
  pid_t holder = fork();
  if (!holder) { /* the lock stays with this process's copy of the fd */
    pause();
    _exit(0);
  }
  close(hfd);
  struct scratch s;
  char err[256];
  ck_assert_int_eq(scratch__create(&s, "calibrate", err, sizeof err), 0);
  ck_assert_int_eq(entries(), 3); /* the new one, vtbench.keep, the held one */
  ck_assert(exists(keep) && exists(held));
  scratch__remove(&s);
  kill(holder, SIGKILL);
  waitpid(holder, NULL, 0);
  ck_assert_int_eq(scratch__sweep(root), 1); /* released: now it goes */
  ck_assert(!exists(held));
}
END_TEST

Suite *suite_scratch(void) {
  Suite *s = suite_create("scratch");
  TCase *tc = tcase_create("scratch");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, create_and_remove);
  tcase_add_test(tc, a_dead_owners_directory_goes_at_the_next_start);
  suite_add_tcase(s, tc);
  return s;
}
