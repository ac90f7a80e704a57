/* test_atomic_file.c - vtbench's derived outputs are written atomically
 * (vtbench/atomic_file.h): a reader sees the previous file or the complete
 * new one, never a part, and no temporary is left behind. Write failures
 * are made real with RLIMIT_FSIZE (EFBIG past the limit), so the tests run
 * anywhere without a special file system; each runs in its own forked
 * process (CK_FORK) and restores the limit. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "results/result_doc.h"
#include "vtbench/aggregate.h"
#include "vtbench/atomic_file.h"
#include "vtbench/commands.h"
#include "vtbench/export.h"

#define FIX "tests/fixtures/results/"

static char dir[64];

static void mkdir_tmp(void) {
  snprintf(dir, sizeof(dir), "/tmp/vtb_atomic_XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rm_tmp(void) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}

static void put(const char *name, const char *text) {
  char p[256];
  snprintf(p, sizeof(p), "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  ck_assert_int_eq(fclose(f), 0);
}

/* The whole content of DIR/NAME (static buffer), NULL when missing. */
static const char *get(const char *name) {
  static char buf[1 << 16];
  char p[256];
  snprintf(p, sizeof(p), "%s/%s", dir, name);
  FILE *f = fopen(p, "r");
  if (!f) return NULL;
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* Names in dir holding ".tmp." (temporaries left behind). */
static int count_temporaries(void) {
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (strstr(e->d_name, ".tmp.")) {
      printf("temporary: %s/%s\n", dir, e->d_name);
      n++;
    }
  closedir(d);
  return n;
}

static struct rlimit saved_fsize;

/* Writes past `bytes` fail with EFBIG (instead of killing with SIGXFSZ). */
static void limit_file_size(rlim_t bytes) {
  ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved_fsize), 0);
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit r = {bytes, saved_fsize.rlim_max};
  ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &r), 0);
}

static void unlimit_file_size(void) {
  ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved_fsize), 0);
}

START_TEST(commit_replaces_the_file_whole) {
  mkdir_tmp();
  put("a.csv", "OLD\n");
  char p[256];
  snprintf(p, sizeof(p), "%s/a.csv", dir);
  struct atomic_file af;
  FILE *f = atomic_file__open(&af, p);
  ck_assert_ptr_nonnull(f);
  for (int i = 0; i < 1000; i++)
    fprintf(f, "row %d\n", i);
  fflush(f);
  ck_assert_str_eq(get("a.csv"), "OLD\n"); /* nothing visible before the commit */
  /* the temporary has no name until the commit where the file system allows */
  ck_assert_int_eq(count_temporaries(), af.unnamed ? 0 : 1);
  ck_assert_int_eq(atomic_file__commit(&af), 0);
  const char *now = get("a.csv");
  ck_assert_ptr_nonnull(now);
  ck_assert_uint_eq(strlen(now), 7890); /* "row 0\n".."row 999\n" */
  ck_assert(!strncmp(now, "row 0\n", 6));
  ck_assert_int_eq(count_temporaries(), 0);
  rm_tmp();
}
END_TEST

START_TEST(abort_keeps_the_previous_file) {
  mkdir_tmp();
  put("b.md", "OLD\n");
  char p[256];
  snprintf(p, sizeof(p), "%s/b.md", dir);
  struct atomic_file af;
  FILE *f = atomic_file__open(&af, p);
  ck_assert_ptr_nonnull(f);
  fputs("half a report", f);
  atomic_file__abort(&af);
  ck_assert_str_eq(get("b.md"), "OLD\n");
  ck_assert_int_eq(count_temporaries(), 0);
  /* a missing directory: NULL with errno, nothing created */
  snprintf(p, sizeof(p), "%s/no/such/dir.csv", dir);
  errno = 0;
  ck_assert_ptr_null(atomic_file__open(&af, p));
  ck_assert_int_eq(errno, ENOENT);
  rm_tmp();
}
END_TEST

START_TEST(write_error_keeps_the_previous_file) {
  mkdir_tmp();
  put("c.csv", "OLD\n");
  char p[256];
  snprintf(p, sizeof(p), "%s/c.csv", dir);
  limit_file_size(4096);
  struct atomic_file af;
  FILE *f = atomic_file__open(&af, p);
  ck_assert_ptr_nonnull(f);
  for (int i = 0; i < 10000; i++)
    fprintf(f, "a row that will not fit %d\n", i);
  errno = 0;
  ck_assert_int_eq(atomic_file__commit(&af), -1);
  /* the write's own errno, not a generic EIO */
  ck_assert_msg(errno == EFBIG, "errno %d (%s)", errno, strerror(errno));
  unlimit_file_size();
  ck_assert_str_eq(get("c.csv"), "OLD\n");
  ck_assert_int_eq(count_temporaries(), 0);
  rm_tmp();
}
END_TEST

/* A full file system (a 64 KiB tmpfs in a private mount namespace of this
 * forked test): the commit fails with ENOSPC, said as such, and the old
 * file stays. */
START_TEST(disk_full_is_enospc) {
  mkdir_tmp();
  char mnt[128], p[160];
  snprintf(mnt, sizeof(mnt), "%s/small", dir);
  ck_assert_int_eq(mkdir(mnt, 0755), 0);
  if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
      mount("tmpfs", mnt, "tmpfs", 0, "size=64k")) {
    printf("SKIP disk_full_is_enospc: no private tmpfs here: %s\n", strerror(errno));
    rm_tmp();
    return;
  }
  snprintf(p, sizeof(p), "%s/d.csv", mnt);
  FILE *o = fopen(p, "w");
  ck_assert_ptr_nonnull(o);
  fputs("OLD\n", o);
  fclose(o);
  struct atomic_file af;
  FILE *f = atomic_file__open(&af, p);
  ck_assert_ptr_nonnull(f);
  for (int i = 0; i < 20000; i++)
    fprintf(f, "a row of a CSV that does not fit on this file system %d\n", i);
  errno = 0;
  ck_assert_int_eq(atomic_file__commit(&af), -1);
  ck_assert_msg(errno == ENOSPC, "errno %d (%s)", errno, strerror(errno));
  o = fopen(p, "r");
  char buf[16] = "";
  ck_assert_ptr_nonnull(fgets(buf, sizeof buf, o));
  fclose(o);
  ck_assert_str_eq(buf, "OLD\n");
  umount2(mnt, MNT_DETACH);
  rm_tmp();
}
END_TEST

/* A writer killed with SIGKILL before its commit leaves no temporary. */
START_TEST(killed_writer_leaves_nothing) {
  mkdir_tmp();
  put("k.csv", "OLD\n");
  pid_t c = fork();
  ck_assert_int_ge(c, 0);
  if (!c) {
    char p[256];
    snprintf(p, sizeof(p), "%s/k.csv", dir);
    struct atomic_file af;
    FILE *f = atomic_file__open(&af, p);
    if (!f) _exit(1);
    if (!af.unnamed) _exit(2); /* this file system has no O_TMPFILE */
    for (int i = 0; i < 100000; i++)
      fprintf(f, "row %d\n", i);
    fflush(f);
    raise(SIGKILL);
  }
  int st;
  waitpid(c, &st, 0);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 2) {
    printf("SKIP killed_writer_leaves_nothing: no O_TMPFILE on %s\n", dir);
  } else {
    ck_assert(WIFSIGNALED(st));
    ck_assert_int_eq(count_temporaries(), 0);
    ck_assert_str_eq(get("k.csv"), "OLD\n");
  }
  rm_tmp();
}
END_TEST

/* A plot written by a child (gnuplot) is published only when complete. */
START_TEST(publish_moves_a_closed_file) {
  mkdir_tmp();
  put("p.png", "OLD");
  put("p.tmp.1.png", "NEW");
  char from[256], to[256];
  snprintf(from, sizeof(from), "%s/p.tmp.1.png", dir);
  snprintf(to, sizeof(to), "%s/p.png", dir);
  ck_assert_int_eq(atomic_file__publish(from, to), 0);
  ck_assert_str_eq(get("p.png"), "NEW");
  ck_assert_int_eq(count_temporaries(), 0);
  snprintf(from, sizeof(from), "%s/gone.tmp.2.png", dir);
  ck_assert_int_eq(atomic_file__publish(from, to), -1);
  ck_assert_str_eq(get("p.png"), "NEW");
  rm_tmp();
}
END_TEST

/* `vtbench export` on a disk that fills up mid-way: it fails, and every
 * CSV it had written before is still whole; none is cut short. */
START_TEST(export_failing_midway_leaves_no_partial_csv) {
  char err[512];
  json_t *doc = result_doc__read(FIX "model.json", err, sizeof(err));
  ck_assert_msg(doc != NULL, "%s (run the tests from the repository root)", err);
  struct agg_set s;
  aggregate__group(doc, &s);
  mkdir_tmp();
  put("summary.csv", "OLD summary\n");
  put("time_model.csv", "OLD time\n");
  limit_file_size(256); /* the summary alone is larger */
  json_t *plots = export__csv(&s, NULL, dir, NULL, err, sizeof(err));
  unlimit_file_size();
  ck_assert_ptr_null(plots);
  ck_assert_msg(strstr(err, "summary.csv") != NULL, "error does not name the file: %s", err);
  ck_assert_str_eq(get("summary.csv"), "OLD summary\n");
  ck_assert_str_eq(get("time_model.csv"), "OLD time\n");
  ck_assert_int_eq(count_temporaries(), 0);
  /* without the limit the same call replaces both */
  plots = export__csv(&s, NULL, dir, NULL, err, sizeof(err));
  ck_assert_msg(plots != NULL, "%s", err);
  ck_assert(!strncmp(get("summary.csv"), "backend,workload,mode,", 22));
  ck_assert(!strncmp(get("time_model.csv"), "workload,", 9));
  ck_assert_ptr_nonnull(get("plots.json"));
  ck_assert_int_eq(count_temporaries(), 0);
  json_decref(plots);
  aggregate__free(&s);
  json_decref(doc);
  rm_tmp();
}
END_TEST

static int report(const char *out_dir) {
  char *argv[] = {"report", FIX "model.json", "-o", (char *)out_dir, NULL};
  return cmd_report(4, argv);
}

/* `vtbench report` ending on a full disk after its CSVs: the pages it could
 * not finish keep their previous content; a full report leaves no
 * temporary (PNG and SVG included, gnuplot writes them under a temporary
 * name). */
START_TEST(report_failing_midway_keeps_previous_pages) {
  mkdir_tmp();
  setenv("VTBENCH_PLOTS", "/nonexistent/plots", 1); /* no gnuplot: the text outputs only */
  ck_assert_int_eq(report(dir), VTB_EXIT_FAILED);   /* FAILED: a report without plots */
  const char *md = get("summary.md");
  ck_assert_ptr_nonnull(md);
  size_t md_len = strlen(md);
  /* the largest CSV (and plots.json, plots.sh), so that all of them fit
   * under the limit and the page does not */
  long largest = 0;
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  for (struct dirent *e; (e = readdir(d));) {
    size_t n = strlen(e->d_name);
    if (n < 4 || (strcmp(e->d_name + n - 4, ".csv") && strcmp(e->d_name, "plots.json") &&
                  strcmp(e->d_name, "plots.sh")))
      continue;
    char p[512];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
    if (!stat(p, &st) && st.st_size > largest) largest = st.st_size;
  }
  closedir(d);
  ck_assert_msg((size_t)largest + 1 < md_len, "summary.md (%zu) is not larger than the CSVs (%ld)",
                md_len, largest);
  put("summary.md", "OLD page\n");
  put("index.html", "OLD page\n");
  limit_file_size((rlim_t)largest + 1);
  int rc = report(dir);
  unlimit_file_size();
  ck_assert_int_eq(rc, VTB_EXIT_IO);
  ck_assert_str_eq(get("summary.md"), "OLD page\n");
  ck_assert_str_eq(get("index.html"), "OLD page\n");
  ck_assert_int_eq(count_temporaries(), 0);
  /* with gnuplot (when installed) every plot appears whole */
  setenv("VTBENCH_PLOTS", "plots", 1);
  rc = report(dir);
  ck_assert_msg(rc == VTB_EXIT_OK || rc == VTB_EXIT_FAILED, "report exit %d", rc);
  ck_assert_int_eq(count_temporaries(), 0);
  if (rc == VTB_EXIT_OK) {
    struct stat st;
    char p[256];
    snprintf(p, sizeof(p), "%s/time_model.png", dir);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_gt(st.st_size, 0);
  }
  ck_assert(!strncmp(get("summary.md"), "# vtbench report", 16));
  rm_tmp();
}
END_TEST

Suite *suite_atomic_file(void) {
  Suite *s = suite_create("atomic_file");
  TCase *tc = tcase_create("atomic_file");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, commit_replaces_the_file_whole);
  tcase_add_test(tc, abort_keeps_the_previous_file);
  tcase_add_test(tc, write_error_keeps_the_previous_file);
  tcase_add_test(tc, disk_full_is_enospc);
  tcase_add_test(tc, killed_writer_leaves_nothing);
  tcase_add_test(tc, publish_moves_a_closed_file);
  tcase_add_test(tc, export_failing_midway_leaves_no_partial_csv);
  tcase_add_test(tc, report_failing_midway_keeps_previous_pages);
  suite_add_tcase(s, tc);
  return s;
}
