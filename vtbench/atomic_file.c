/* atomic_file.c - temp file + fsync + rename for vtbench's derived outputs.
 *
 * The temporary is an unnamed file in the target's directory (O_TMPFILE)
 * where the file system has them: a writer killed with SIGKILL leaves
 * nothing behind. It gets a name (PATH.tmp.PID.N, linkat through
 * /proc/self/fd) only at the commit, just before the rename. Elsewhere the
 * named temporary is created at once.
 *
 * The stream is a fopencookie(3) stream over the file descriptor, so the
 * errno of the first failed write (ENOSPC, EFBIG, EIO) is kept for the
 * commit to report: stdio's error flag alone does not say which. */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

/* Directory part of `path` ("." when it has none) into buf. */
static void dir_of(const char *path, char *buf, size_t len) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    snprintf(buf, len, ".");
  else if (slash == path)
    snprintf(buf, len, "/");
  else
    snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

static int fsync_dir_of(const char *path) {
  char dir[PATH_MAX];
  dir_of(path, dir, sizeof(dir));
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  int e = errno;
  close(fd);
  /* Some file systems cannot fsync a directory; the rename is done anyway. */
  if (rc && (e == EINVAL || e == EROFS)) rc = 0;
  errno = e;
  return rc;
}

static ssize_t cookie_write(void *c, const char *buf, size_t n) {
  struct atomic_file *af = c;
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(af->fd, buf + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (!af->err) af->err = w < 0 ? errno : EIO;
      return done ? (ssize_t)done : -1;
    }
    done += (size_t)w;
  }
  return (ssize_t)done;
}

static int cookie_close(void *c) {
  struct atomic_file *af = c;
  int rc = af->fd >= 0 ? close(af->fd) : 0;
  af->fd = -1;
  return rc;
}

/* An unnamed temporary in dir, or -1 (then a named one is used). */
static int open_unnamed(const char *path) {
  static int proc_ok = -1; /* linkat needs /proc/self/fd to name it later */
  if (proc_ok < 0) proc_ok = access("/proc/self/fd", X_OK) == 0;
  if (!proc_ok) return -1;
  char dir[PATH_MAX];
  dir_of(path, dir, sizeof(dir));
  return open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
}

FILE *atomic_file__open(struct atomic_file *af, const char *path) {
  static atomic_uint seq;
  memset(af, 0, sizeof(*af));
  af->fd = -1;
  if (snprintf(af->path, sizeof(af->path), "%s", path) >= (int)sizeof(af->path) ||
      snprintf(af->tmp, sizeof(af->tmp), "%s.tmp.%ld.%u", path, (long)getpid(),
               atomic_fetch_add(&seq, 1)) >= (int)sizeof(af->tmp)) {
    af->tmp[0] = '\0';
    errno = ENAMETOOLONG;
    return NULL;
  }
  af->fd = open_unnamed(path);
  if (af->fd >= 0) {
    af->unnamed = true;
  } else if (errno == ENOENT || errno == ENOTDIR || errno == EACCES || errno == EROFS ||
             errno == ENOSPC) {
    af->tmp[0] = '\0'; /* the directory itself is the problem: same answer either way */
    return NULL;
  } else if ((af->fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
    af->tmp[0] = '\0';
    return NULL;
  }
  cookie_io_functions_t io = {.write = cookie_write, .close = cookie_close};
  af->f = fopencookie(af, "w", io);
  if (!af->f) {
    int e = errno;
    atomic_file__abort(af);
    errno = e;
  }
  return af->f;
}

FILE *atomic_file__open_in(struct atomic_file *af, const char *dir, const char *name) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
    memset(af, 0, sizeof(*af));
    af->fd = -1;
    snprintf(af->path, sizeof(af->path), "%s", path);
    errno = ENAMETOOLONG;
    return NULL;
  }
  return atomic_file__open(af, path);
}

/* Give the unnamed temporary its name af->tmp. */
static int name_it(struct atomic_file *af) {
  char proc[64];
  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", af->fd);
  return linkat(AT_FDCWD, proc, AT_FDCWD, af->tmp, AT_SYMLINK_FOLLOW);
}

int atomic_file__commit(struct atomic_file *af) {
  if (!af->f) {
    errno = EBADF;
    return -1;
  }
  int e = 0;
  if (fflush(af->f) || ferror(af->f)) e = af->err ? af->err : EIO;
  if (!e && fsync(af->fd)) e = errno;
  if (!e && af->unnamed && name_it(af)) e = errno;
  bool named = !af->unnamed || !e;
  if (fclose(af->f) && !e) e = errno;
  af->f = NULL;
  if (!e && rename(af->tmp, af->path)) e = errno;
  if (e) {
    if (named) unlink(af->tmp);
    af->tmp[0] = '\0';
    errno = e;
    return -1;
  }
  af->tmp[0] = '\0';
  return fsync_dir_of(af->path);
}

void atomic_file__abort(struct atomic_file *af) {
  int e = errno;
  if (af->f)
    fclose(af->f);
  else if (af->fd >= 0)
    close(af->fd);
  af->f = NULL;
  af->fd = -1;
  if (af->tmp[0] && !af->unnamed) unlink(af->tmp);
  af->tmp[0] = '\0';
  errno = e;
}

int atomic_file__publish(const char *tmp, const char *path) {
  int fd = open(tmp, O_RDONLY | O_CLOEXEC);
  int e = 0;
  if (fd < 0)
    e = errno;
  else {
    if (fsync(fd)) e = errno;
    close(fd);
  }
  if (!e && rename(tmp, path)) e = errno;
  if (e) {
    unlink(tmp);
    errno = e;
    return -1;
  }
  return fsync_dir_of(path);
}
