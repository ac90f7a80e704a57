/* sys.h - Linux system calls for a static program without a C library:
 * raw SYSCALL instructions (x86-64 ABI: number in RAX, arguments in RDI,
 * RSI, RDX, R10, R8, R9; RCX and R11 clobbered). Every wrapper returns the
 * kernel's value: >= 0 on success, -errno on failure. Constants come from
 * the kernel's UAPI headers (linux-libc-dev). */
#ifndef LX_SYS_H
#define LX_SYS_H

#include <stddef.h>
#include <stdint.h>

#include <asm/ioctls.h> /* TCSBRK */
#include <asm/signal.h> /* SIGCHLD, SIGKILL, ... */
#include <asm/unistd.h> /* __NR_* */
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/mman.h>
#include <linux/mount.h>
#include <linux/reboot.h>
#include <linux/time.h> /* CLOCK_MONOTONIC */
#include <linux/time_types.h>
#include <linux/wait.h>

static inline long sys6(long n, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
static inline long sys0(long n) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n) : "rcx", "r11", "memory");
  return ret;
}
#define SYS1(n, a)          sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define SYS2(n, a, b)       sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(n, a, b, c)    sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

static inline long sys_read(int fd, void *buf, size_t n) {
  return SYS3(__NR_read, fd, buf, n);
}
static inline long sys_write(int fd, const void *buf, size_t n) {
  return SYS3(__NR_write, fd, buf, n);
}
static inline long sys_pread(int fd, void *buf, size_t n, uint64_t off) {
  return SYS4(__NR_pread64, fd, buf, n, off);
}
static inline long sys_open(const char *path, int flags, int mode) {
  return SYS4(__NR_openat, AT_FDCWD, path, flags, mode);
}
static inline long sys_ioctl(int fd, unsigned long cmd, unsigned long arg) {
  return SYS3(__NR_ioctl, fd, cmd, arg);
}
static inline long sys_close(int fd) {
  return SYS1(__NR_close, fd);
}
static inline long sys_dup2(int from, int to) {
  return SYS3(__NR_dup3, from, to, 0);
}
static inline long sys_pipe(int fds[2]) {
  return SYS2(__NR_pipe2, fds, O_CLOEXEC);
}
static inline long sys_unlink(const char *path) {
  return SYS3(__NR_unlinkat, AT_FDCWD, path, 0);
}
static inline long sys_mkdir(const char *path, int mode) {
  return SYS3(__NR_mkdirat, AT_FDCWD, path, mode);
}
static inline long sys_mount(const char *src, const char *dst, const char *type,
                             unsigned long flags, const void *data) {
  return sys6(__NR_mount, (long)src, (long)dst, (long)type, (long)flags, (long)data, 0);
}
static inline long sys_fork(void) {
  return sys0(__NR_fork);
}
static inline long sys_execve(const char *path, char *const argv[], char *const envp[]) {
  return SYS3(__NR_execve, path, argv, envp);
}
static inline __attribute__((noreturn)) void sys_exit(int status) {
  for (;;)
    SYS1(__NR_exit_group, status);
}
static inline long sys_wait4(int pid, int *status, int options) {
  return SYS4(__NR_wait4, pid, status, options, 0);
}
static inline long sys_getpid(void) {
  return sys0(__NR_getpid);
}
static inline long sys_getppid(void) {
  return sys0(__NR_getppid);
}
static inline long sys_kill(int pid, int sig) {
  return SYS2(__NR_kill, pid, sig);
}
static inline void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, long off) {
  return (void *)sys6(__NR_mmap, (long)addr, (long)len, prot, flags, fd, off);
}
/* mmap's result is an error when it lies in the last page of the address space */
static inline int sys_mmap_failed(void *p) {
  return (unsigned long)p >= -4095ul;
}
static inline long sys_munmap(void *addr, size_t len) {
  return SYS2(__NR_munmap, addr, len);
}
static inline long sys_mprotect(void *addr, size_t len, int prot) {
  return SYS3(__NR_mprotect, addr, len, prot);
}
static inline long sys_madvise(void *addr, size_t len, int advice) {
  return SYS3(__NR_madvise, addr, len, advice);
}
static inline long sys_mlock(const void *addr, size_t len) {
  return SYS2(__NR_mlock, addr, len);
}
static inline long sys_ioperm(unsigned long from, unsigned long num, int on) {
  return SYS3(__NR_ioperm, from, num, on);
}
static inline long sys_reboot(unsigned cmd) {
  return SYS4(__NR_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, cmd, 0);
}
static inline void sys_sync(void) {
  sys0(__NR_sync);
}
static inline long sys_clock_gettime(int clk, struct __kernel_timespec *ts) {
  return SYS2(__NR_clock_gettime, clk, ts);
}

/* wait4 status words (the kernel's encoding) */
#define LX_WIFEXITED(s)   (((s)&0x7f) == 0)
#define LX_WEXITSTATUS(s) (((s) >> 8) & 0xff)
#define LX_WTERMSIG(s)    ((s)&0x7f)

#endif
