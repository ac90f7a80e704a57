/* init.c - PID 1 of the Linux guest: runs one workload and powers off.
 *
 *   1. console on fds 0-2, /proc, /sys and a tmpfs on /tmp mounted;
 *   2. system settings that keep runs reproducible and the hypercall page in
 *      place (no address-space randomisation, huge pages only where a
 *      workload asks for them, no compaction of locked pages);
 *   3. the hypercall ports (ioperm) and whether refvmm answers them;
 *      init's own hypercall page (lx_hc.c);
 *   4. vtb.workload=NAME and its vtb.KEY=VALUE parameters from /proc/cmdline;
 *   5. the workload process: forked, it maps its own hypercall page, runs
 *      .setup and .run (which marks the timed region) and exits with .run's
 *      status; init waits, reports checksum and iterations, prints the
 *      result line `vtb-linux: result workload=... status=...` and ends
 *      with the exit hypercall and power-off (lx_hc.c: hc_exit).
 * The workload runs in a child so that its crash is a status (128 +
 * signal), not a kernel panic. */
#include "cmdline.h"
#include "lx.h"

struct shared_result {
  struct wl_result r;
  uint64_t timed_ns;
};

static char cmdline[4096];

static void console_fds(void) {
  if (sys_write(1, "", 0) != -EBADF) return; /* the kernel opened /dev/console for us */
  long fd = sys_open("/dev/console", O_RDWR, 0);
  if (fd < 0) return; /* nowhere to say it; the exit hypercall still carries the status */
  for (int i = 0; i < 3; i++)
    if (fd != i) sys_dup2((int)fd, i);
  if (fd > 2) sys_close((int)fd);
}

static int mount_fs(const char *type, const char *dir) {
  long r = sys_mkdir(dir, 0755);
  if (r && r != -EEXIST) return lx_syserr(dir, r);
  r = sys_mount(type, dir, type, MS_NOSUID | MS_NODEV, 0);
  if (r) {
    printf("vtb: mount %s on %s: %s\n", type, dir, lx_errname(r));
    return LX_EXIT_INIT;
  }
  return 0;
}

/* A kernel setting; absent (-ENOENT) when the kernel lacks the feature,
 * which then cannot get in the way either. */
static int set(const char *path, const char *value) {
  long r = lx_write_file(path, value);
  if (r && r != -ENOENT) {
    printf("vtb: write '%s' to %s: %s\n", value, path, lx_errname(r));
    return LX_EXIT_INIT;
  }
  return 0;
}

static int prepare(void) {
  int rc = mount_fs("proc", "/proc");
  if (!rc) rc = mount_fs("sysfs", "/sys");
  if (!rc) rc = mount_fs("tmpfs", "/tmp");
  if (!rc) rc = set("/proc/sys/kernel/randomize_va_space", "0");
  if (!rc) rc = set("/proc/sys/vm/compact_unevictable_allowed", "0");
  if (!rc) rc = set("/proc/sys/kernel/numa_balancing", "0");
  if (!rc) rc = set("/sys/kernel/mm/transparent_hugepage/enabled", "madvise");
  return rc;
}

static int run_workload(const struct lx_workload *wl, struct shared_result *out) {
  /* What init printed leaves the UART before the workload's timed region:
   * the serial driver sends it from THR-empty interrupts, which would
   * otherwise land between the marks (TCSBRK with a non-zero argument is
   * tcdrain: it returns once the output is sent). */
  console_flush();
  long d = sys_ioctl(1, TCSBRK, 1);
  if (d < 0) return lx_syserr("tcdrain of the console (TCSBRK)", d);
  long pid = lx_fork();
  if (pid < 0) return lx_syserr("fork of the workload process", pid);
  if (!pid) {
    struct wl_result res = {0};
    int rc = lx_hc__init();
    if (!rc && wl->setup) rc = wl->setup();
    if (!rc) rc = wl->run(&res);
    out->r = res;
    out->timed_ns = lx_timed_ns();
    console_flush();
    sys_exit(rc);
  }
  int st = 0;
  long r;
  while ((r = sys_wait4((int)pid, &st, 0)) == -EINTR)
    ;
  if (r < 0) return lx_syserr("wait4 for the workload process", r);
  if (LX_WIFEXITED(st)) return LX_WEXITSTATUS(st);
  printf("vtb: workload %s: its process was killed by signal %d\n", wl->name, LX_WTERMSIG(st));
  return LX_EXIT_SIGNAL + LX_WTERMSIG(st);
}

int main(int argc, char **argv, char **envp) {
  (void)argc, (void)argv, (void)envp;
  console_fds();
  int rc = lx_hc__ports();
  if (!rc) rc = prepare();
  if (!rc) rc = lx_hc__init();
  long n = rc ? 0 : lx_read_file("/proc/cmdline", cmdline, sizeof cmdline);
  if (n < 0) rc = lx_syserr("read /proc/cmdline", n);
  if (!rc) rc = lx_cmdline__parse(cmdline);
  const struct lx_workload *wl = lx_cmdline__workload(); /* also named when a parameter is bad */

  struct shared_result *res = 0;
  if (!rc) {
    printf("vtb-linux: init: workload %s, VMM %s, hypercall page at GPA 0x%lx\n", wl->name,
           lx_vmm ? "refvmm (hypercalls on)" : "none answered port 0x524 (hypercalls print only)",
           lx_hc__gpa());
    res = sys_mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sys_mmap_failed(res)) rc = lx_syserr("mmap of the result page", (long)res);
  }
  if (!rc) rc = run_workload(wl, res);
  if (!rc) {
    hc_report(VTB_KEY_CHECKSUM, res->r.checksum);
    hc_report(VTB_KEY_ITERATIONS, res->r.iterations);
    hc_report("linux.timed_ns", res->timed_ns);
  }
  printf("vtb-linux: result workload=%s status=%d vmm=%s", wl ? wl->name : "-", rc,
         lx_vmm ? "refvmm" : "none");
  if (!rc) {
    printf(" checksum=%lu iterations=%lu timed_ns=%lu", res->r.checksum, res->r.iterations,
           res->timed_ns);
    lx_cmdline__print();
  }
  printf("\n");
  console_flush();
  sys_ioctl(1, TCSBRK, 1); /* the result line sent before the run ends (tcdrain) */
  hc_exit((uint64_t)rc);
}
