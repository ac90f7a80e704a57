/* linux_guest.c - see linux_guest.h. */
#include "linux_guest.h"

#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "matrix.h"
#include "paths.h"
#include "workload_catalog.h"

/* `refvmm --help` mentions --kernel. Its output is small; reads at most 64 KiB. */
static bool refvmm_boots_linux(const char *refvmm) {
  int fds[2];
  if (pipe(fds)) return false;
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return false;
  }
  if (!pid) {
    dup2(fds[1], 1);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 2);
    close(fds[0]);
    close(fds[1]);
    execl(refvmm, refvmm, "--help", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  static char out[65536];
  size_t n = 0;
  ssize_t r;
  while (n + 1 < sizeof out && (r = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
    n += (size_t)r;
  out[n] = 0;
  close(fds[0]);
  if (n + 1 >= sizeof out) kill(pid, SIGKILL);
  int st;
  waitpid(pid, &st, 0);
  return strstr(out, "--kernel") != NULL;
}

static void add_missing(struct linux_guest *lg, const char *what) {
  size_t off = strlen(lg->missing);
  snprintf(lg->missing + off, sizeof lg->missing - off, "%s%s", off ? "; " : "", what);
}

void linux_guest__find(struct linux_guest *lg, const char *refvmm, const char *images) {
  memset(lg, 0, sizeof *lg);
  const char *k = getenv("VTBENCH_LINUX_KERNEL"), *i = getenv("VTBENCH_LINUX_INITRD");
  char dir[3800];
  if (k && *k) {
    snprintf(lg->kernel, sizeof lg->kernel, "%s", k);
  } else if (!paths__exe_dir(dir, sizeof dir)) { /* as scripts/kvm_amd/fetch.sh caches it */
    char pattern[4096];
    glob_t g;
    snprintf(pattern, sizeof pattern, "%s/../" LINUX_GUEST_KERNEL_GLOB, dir);
    if (!glob(pattern, 0, NULL, &g) && g.gl_pathc)
      snprintf(lg->kernel, sizeof lg->kernel, "%s", g.gl_pathv[0]);
    globfree(&g);
  }
  if (i && *i)
    snprintf(lg->initrd, sizeof lg->initrd, "%s", i);
  else
    snprintf(lg->initrd, sizeof lg->initrd, "%s/linux/initramfs.cpio", images);
  char what[4600];
  if (!refvmm_boots_linux(refvmm)) {
    snprintf(what, sizeof what,
             "a refvmm that boots Linux (%s --help lists no --kernel: the 64-bit boot protocol "
             "is not implemented in this build)",
             refvmm);
    add_missing(lg, what);
  }
  if (!lg->kernel[0] || access(lg->kernel, R_OK)) {
    snprintf(what, sizeof what, "the kernel %s (make deps, or set VTBENCH_LINUX_KERNEL)",
             lg->kernel[0] ? lg->kernel : LINUX_GUEST_KERNEL_GLOB);
    add_missing(lg, what);
  }
  if (access(lg->initrd, R_OK)) {
    snprintf(what, sizeof what, "the initramfs %s (make, or set VTBENCH_LINUX_INITRD)", lg->initrd);
    add_missing(lg, what);
  }
  char real[4096]; /* shorter names in messages and plans: no bin/../ */
  if (realpath(lg->kernel, real)) snprintf(lg->kernel, sizeof lg->kernel, "%s", real);
  if (realpath(lg->initrd, real)) snprintf(lg->initrd, sizeof lg->initrd, "%s", real);
  lg->ready = !lg->missing[0];
}

bool linux_guest__named(const char *workload) {
  return !strncmp(workload, WL_LINUX_PREFIX, sizeof WL_LINUX_PREFIX - 1);
}

bool linux_guest__in_matrix(const struct matrix *m) {
  for (size_t i = 0; i < m->nworkloads; i++)
    if (linux_guest__named(m->workloads[i].name)) return true;
  return false;
}

static bool word_ok(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '_' || *s == '.' || *s == '-'))
      return false;
  return true;
}

int linux_guest__cmdline(const char *name, const json_t *params, char *buf, size_t len) {
  size_t pn = sizeof WL_LINUX_PREFIX - 1;
  if (!linux_guest__named(name) || !word_ok(name + pn)) {
    snprintf(buf, len, "'%s' is not a workload of the Linux guest (linux:NAME)", name);
    return -1;
  }
  size_t off =
      (size_t)snprintf(buf, len, "%s vtb.workload=%s", LINUX_GUEST_BASE_CMDLINE, name + pn);
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)params, k, v) {
    char val[64];
    if (json_is_integer(v))
      snprintf(val, sizeof val, "%lld", (long long)json_integer_value(v));
    else
      snprintf(val, sizeof val, "%s", json_is_string(v) ? json_string_value(v) : "");
    if (!word_ok(k) || !word_ok(val)) {
      snprintf(buf, len, "parameter %s=%s cannot go on a kernel command line", k, val);
      return -1;
    }
    off += (size_t)snprintf(buf + off, off < len ? len - off : 0, " vtb.%s=%s", k, val);
  }
  if (off >= len) {
    snprintf(buf, len, "the kernel command line for %s is longer than %zu bytes", name, len - 1);
    return -1;
  }
  return 0;
}

int linux_guest__argv(const struct linux_guest *lg, const char *name, const json_t *params,
                      const char **argv, int *a, char *cmdline, size_t len) {
  if (linux_guest__cmdline(name, params, cmdline, len)) return -1;
  argv[(*a)++] = "--kernel";
  argv[(*a)++] = lg->kernel;
  argv[(*a)++] = "--initrd";
  argv[(*a)++] = lg->initrd;
  argv[(*a)++] = "--cmdline";
  argv[(*a)++] = cmdline;
  return 0;
}
