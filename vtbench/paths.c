/* paths.c - locate refvmm, workload images and plot scripts. */
#include "paths.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int paths__exe_dir(char *buf, size_t len) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return -1;
  exe[n] = 0;
  snprintf(buf, len, "%s", dirname(exe));
  return 0;
}

static int is_dir(const char *p) {
  struct stat st;
  return !stat(p, &st) && S_ISDIR(st.st_mode);
}

/* First of exe_dir/rel[i] that is a directory. */
static int find_dir(const char *env, const char *const *rel, char *buf, size_t len) {
  const char *e = getenv(env);
  if (e && *e) {
    snprintf(buf, len, "%s", e);
    return is_dir(buf) ? 0 : -1;
  }
  char dir[4096];
  if (paths__exe_dir(dir, sizeof(dir))) return -1;
  for (int i = 0; rel[i]; i++) {
    snprintf(buf, len, "%s/%s", dir, rel[i]);
    if (is_dir(buf)) return 0;
  }
  snprintf(buf, len, "%s/%s", dir, rel[0]);
  return -1;
}

int paths__refvmm(char *buf, size_t len) {
  const char *e = getenv("VTBENCH_REFVMM");
  char dir[4096];
  if (e && *e)
    snprintf(buf, len, "%s", e);
  else if (!paths__exe_dir(dir, sizeof(dir)))
    snprintf(buf, len, "%s/refvmm", dir);
  else
    snprintf(buf, len, "refvmm");
  return access(buf, X_OK) ? -1 : 0;
}

int paths__workloads_dir(char *buf, size_t len) {
  static const char *const rel[] = {"../workloads/build", "../share/vtbench/workloads", NULL};
  return find_dir("VTBENCH_WORKLOADS", rel, buf, len);
}

int paths__plots_dir(char *buf, size_t len) {
  static const char *const rel[] = {"../plots", "../share/vtbench/plots", NULL};
  return find_dir("VTBENCH_PLOTS", rel, buf, len);
}
