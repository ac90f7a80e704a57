/* make - a make-like process tree, the mixed macro workload: n builds of a
 * project of `files` source files, each compiled by its own process
 * (fork + execve of /bin/vtb-cc, at most `jobs` at once, like make -j),
 * then linked by one more, then cleaned (unlink). Many short programs that
 * read and write files in a tmpfs: exec, page faults, file I/O, wait and
 * exit together, as a build does.
 *
 * Source j holds size/8 words w_k = vtb_mix64(0x6d616b65 ^ (j << 32) ^ k)
 * ("make"); in build r the compiler writes h_j (h = r, then h = vtb_mix64(h
 * ^ w_k) per word) to f<j>.o, the linker writes L_r (h = 0, then h =
 * vtb_mix64(h + h_j) per object in order) to prog:
 *   checksum = sum_{r<n} L_r;  iterations = n (builds).
 * Reports make.programs (programs run: n * (files + 1)). */
#include "lx.h"
#include "lx_mem.h"
#include "progs.h"

#define TAG       0x6d616b65ull
#define DIR       "/tmp/vtb-make"
#define FILES_MAX 256u

static const struct vtb_param params[] = {
    {"n", 3, 1, 1u << 20, "builds"},
    {"files", 16, 1, FILES_MAX, "source files per build (one compiler process each)"},
    {"jobs", 2, 1, 64, "compilers running at once (make -j)"},
    {"size", 4096, 8, 1u << 20, "bytes per source file (multiple of 8)"},
    VTB_PARAM_END,
};

static char src[FILES_MAX][32], obj[FILES_MAX][32];
static char *link_argv[FILES_MAX + 5];
static char *envp[] = {0};

static int write_source(unsigned j, uint64_t size) {
  long fd = sys_open(src[j], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return lx_syserr(src[j], fd);
  uint64_t buf[512];
  long r = 0;
  for (uint64_t k = 0; k < size / 8 && !r;) {
    unsigned m = 0;
    for (; m < 512 && k < size / 8; m++, k++)
      buf[m] = vtb_mix64(TAG ^ ((uint64_t)j << 32) ^ k);
    r = lx_write_all((int)fd, buf, m * 8);
  }
  sys_close((int)fd);
  return r ? lx_syserr(src[j], r) : 0;
}

static int setup(void) {
  uint64_t files = param("files"), size = param("size");
  if (size % 8) {
    printf("vtb: parameter 'size'=%lu is not a multiple of 8\n", size);
    return VTB_EXIT_BAD_PARAM;
  }
  int rc = lx_check_mem("size", size, files * (size + 8192));
  if (rc) return rc;
  long r = sys_mkdir(DIR, 0755);
  if (r && r != -EEXIST) return lx_syserr("make: mkdir " DIR, r);
  int a = 0;
  link_argv[a++] = "vtb-cc";
  link_argv[a++] = "-l";
  link_argv[a++] = "-o";
  link_argv[a++] = DIR "/prog";
  for (unsigned j = 0; j < files; j++) {
    snprintf(src[j], sizeof src[j], DIR "/f%u.c", j);
    snprintf(obj[j], sizeof obj[j], DIR "/f%u.o", j);
    link_argv[a++] = obj[j];
    if ((rc = write_source(j, size))) return rc;
  }
  link_argv[a] = 0;
  return 0;
}

static long spawn(char *const argv[]) {
  long pid = sys_fork();
  if (!pid) {
    long r = sys_execve(LX_CC_PATH, argv, envp);
    printf("vtb: make: execve %s: %s\n", LX_CC_PATH, lx_errname(r));
    console_flush();
    sys_exit(LX_EXEC_FAIL);
  }
  return pid;
}

/* Waits for one child; 0 when it exited with status 0. */
static int reap(const char *what) {
  int st = 0;
  long r;
  while ((r = sys_wait4(-1, &st, 0)) == -EINTR)
    ;
  if (r < 0) return lx_syserr("make: wait4", r);
  if (LX_WIFEXITED(st) && LX_WEXITSTATUS(st) == 0) return 0;
  printf("vtb: make: a %s process (pid %ld) ended with status 0x%x\n", what, r, st);
  return LX_EXIT_CHECK;
}

static int build(uint64_t r, uint64_t *value) {
  uint64_t files = param("files"), jobs = param("jobs"), running = 0;
  char round[24];
  lx_utoa(r, round);
  int rc = 0;
  for (unsigned j = 0; j < files && !rc; j++) {
    if (running == jobs) rc = reap("compiler"), running--;
    char *argv[] = {"vtb-cc", "-c", src[j], "-o", obj[j], "-s", round, 0};
    long pid = spawn(argv);
    if (pid < 0) {
      rc = lx_syserr("make: fork", pid);
      break;
    }
    running++;
  }
  for (; running; running--) {
    int e = reap("compiler");
    if (!rc) rc = e;
  }
  if (rc) return rc;
  long pid = spawn(link_argv);
  if (pid < 0) return lx_syserr("make: fork", pid);
  if ((rc = reap("linker"))) return rc;
  long fd = sys_open(DIR "/prog", O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return lx_syserr("make: open " DIR "/prog", fd);
  long n = sys_read((int)fd, value, 8);
  sys_close((int)fd);
  if (n != 8) return lx_syserr("make: read " DIR "/prog", n < 0 ? n : -EIO);
  for (unsigned j = 0; j < files; j++) /* make clean */
    sys_unlink(obj[j]);
  sys_unlink(DIR "/prog");
  return 0;
}

static int run(struct wl_result *res) {
  uint64_t n = param("n"), sum = 0;
  int rc = 0;
  console_flush();
  mark_begin();
  for (uint64_t r = 0; r < n && !rc; r++) {
    uint64_t v = 0;
    rc = build(r, &v);
    sum += v;
  }
  mark_end();
  if (rc) return rc;
  hc_report("make.programs", n * (param("files") + 1));
  res->checksum = sum;
  res->iterations = n;
  return 0;
}

const struct lx_workload lx_wl_make = {
    .name = "make",
    .desc = "a make -j process tree: compiler and linker programs exec'd per file, files in tmpfs",
    .params = params,
    .setup = setup,
    .run = run,
};
