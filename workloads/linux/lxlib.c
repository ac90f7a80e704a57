/* lxlib.c - small helpers over raw system calls for the Linux guest's
 * programs: time, error names, whole-buffer I/O, number text. */
#include "lx.h"

uint64_t lx_now_ns(void) {
  struct __kernel_timespec ts = {0};
  sys_clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *lx_errname(long err) {
  static const struct {
    int e;
    const char *name;
  } names[] = {
      {EPERM, "EPERM"},   {ENOENT, "ENOENT"},   {ESRCH, "ESRCH"},   {EINTR, "EINTR"},
      {EIO, "EIO"},       {ENXIO, "ENXIO"},     {E2BIG, "E2BIG"},   {ENOEXEC, "ENOEXEC"},
      {EBADF, "EBADF"},   {ECHILD, "ECHILD"},   {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"},
      {EACCES, "EACCES"}, {EFAULT, "EFAULT"},   {EBUSY, "EBUSY"},   {EEXIST, "EEXIST"},
      {ENODEV, "ENODEV"}, {ENOTDIR, "ENOTDIR"}, {EINVAL, "EINVAL"}, {ENFILE, "ENFILE"},
      {EMFILE, "EMFILE"}, {ENOSPC, "ENOSPC"},   {EPIPE, "EPIPE"},   {ENOSYS, "ENOSYS"},
  };
  static char buf[32];
  long e = err < 0 ? -err : err;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].e == e) return names[i].name;
  snprintf(buf, sizeof buf, "errno %ld", e);
  return buf;
}

int lx_syserr(const char *what, long err) {
  printf("vtb: %s: %s\n", what, lx_errname(err));
  return err == -ENOMEM ? VTB_EXIT_NO_MEMORY : LX_EXIT_SYSCALL;
}

long lx_fork(void) {
  console_flush();
  return sys_fork();
}

long lx_write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n) {
    long r = sys_write(fd, p, n);
    if (r == -EINTR) continue;
    if (r <= 0) return r ? r : -EIO;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

long lx_read_file(const char *path, char *buf, size_t size) {
  long fd = sys_open(path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return fd;
  size_t n = 0;
  while (n + 1 < size) {
    long r = sys_read((int)fd, buf + n, size - 1 - n);
    if (r == -EINTR) continue;
    if (r < 0) {
      sys_close((int)fd);
      return r;
    }
    if (!r) break;
    n += (size_t)r;
  }
  sys_close((int)fd);
  buf[n] = 0;
  return (long)n;
}

long lx_write_file(const char *path, const char *text) {
  long fd = sys_open(path, O_WRONLY | O_CLOEXEC, 0);
  if (fd < 0) return fd;
  long r = lx_write_all((int)fd, text, strlen(text));
  sys_close((int)fd);
  return r;
}

char *lx_utoa(uint64_t v, char *buf) {
  char tmp[21];
  int n = 0;
  do
    tmp[n++] = (char)('0' + v % 10);
  while (v /= 10);
  for (int i = 0; i < n; i++)
    buf[i] = tmp[n - 1 - i];
  buf[n] = 0;
  return buf;
}
