/* atomic_file.c - temp file + fsync + rename for vtbench's derived outputs. */
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

FILE *atomic_file__open(struct atomic_file *af, const char *path) {
  static atomic_uint seq;
  af->f = NULL;
  af->tmp[0] = '\0';
  if (snprintf(af->path, sizeof(af->path), "%s", path) >= (int)sizeof(af->path) ||
      snprintf(af->tmp, sizeof(af->tmp), "%s.tmp.%ld.%u", path, (long)getpid(),
               atomic_fetch_add(&seq, 1)) >= (int)sizeof(af->tmp)) {
    af->tmp[0] = '\0';
    errno = ENAMETOOLONG;
    return NULL;
  }
  int fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    af->tmp[0] = '\0';
    return NULL;
  }
  af->f = fdopen(fd, "w");
  if (!af->f) {
    int e = errno;
    close(fd);
    unlink(af->tmp);
    af->tmp[0] = '\0';
    errno = e;
  }
  return af->f;
}

FILE *atomic_file__open_in(struct atomic_file *af, const char *dir, const char *name) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
    snprintf(af->path, sizeof(af->path), "%s", path);
    af->f = NULL;
    af->tmp[0] = '\0';
    errno = ENAMETOOLONG;
    return NULL;
  }
  return atomic_file__open(af, path);
}

int atomic_file__commit(struct atomic_file *af) {
  if (!af->f) {
    errno = EBADF;
    return -1;
  }
  int e = 0;
  if (ferror(af->f)) e = EIO; /* a write failed earlier; errno is long gone */
  if (!e && fflush(af->f)) e = errno;
  if (!e && fsync(fileno(af->f))) e = errno;
  if (fclose(af->f) && !e) e = errno;
  af->f = NULL;
  if (!e && rename(af->tmp, af->path)) e = errno;
  if (e) {
    unlink(af->tmp);
    af->tmp[0] = '\0';
    errno = e;
    return -1;
  }
  af->tmp[0] = '\0';
  return fsync_dir_of(af->path);
}

void atomic_file__abort(struct atomic_file *af) {
  int e = errno;
  if (af->f) fclose(af->f);
  af->f = NULL;
  if (af->tmp[0]) unlink(af->tmp);
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
