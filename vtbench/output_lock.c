/* output_lock.c - see output_lock.h. */
#include "output_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"

/* What the holder wrote into the lock file ("PID COMMAND"), for messages. */
static void holder(int fd, char *buf, size_t len) {
  ssize_t n = pread(fd, buf, len - 1, 0);
  buf[n > 0 ? n : 0] = 0;
  buf[strcspn(buf, "\n")] = 0;
}

int output_lock__take(struct output_lock *l, const char *out, char *err, size_t len) {
  l->fd = -1;
  if (snprintf(l->path, sizeof(l->path), "%s.lock", out) >= (int)sizeof(l->path))
    return msg__fail(err, len, "%s: path too long", out);
  for (int attempt = 0; attempt < 20; attempt++) {
    int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      return msg__fail(err, len, "%s: cannot create the lock file: %s", l->path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB)) {
      int e = errno;
      char who[128];
      holder(fd, who, sizeof(who));
      close(fd);
      if (e != EWOULDBLOCK) return msg__fail(err, len, "%s: flock: %s", l->path, strerror(e));
      msg__fail(err, len,
                "%s is being written by another vtbench (%s; lock %s): wait for it to end, or "
                "write to another -o",
                out, who[0] ? who : "pid unknown", l->path);
      return 1;
    }
    struct stat a, b;
    if (!fstat(fd, &a) && !stat(l->path, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
      char me[128];
      int n = snprintf(me, sizeof(me), "pid %ld, vtbench %s\n", (long)getpid(),
                       msg__command() ? msg__command() : "");
      if (ftruncate(fd, 0) || pwrite(fd, me, (size_t)n, 0) != n) {
        /* not fatal: the lock holds; only the message of a refused writer is poorer */
      }
      l->fd = fd;
      return 0;
    }
    close(fd); /* removed by a holder that just ended: take the new one */
  }
  return msg__fail(err, len, "%s: the lock file keeps changing", l->path);
}

void output_lock__release(struct output_lock *l) {
  if (l->fd < 0) return;
  unlink(l->path); /* while held: a waiting writer then finds a fresh file */
  close(l->fd);
  l->fd = -1;
}
