/* scratch.c - see scratch.h. */
#include "scratch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"

#define PREFIX "vtbench-tmp-"

static const char *tmp_root(void) {
  const char *t = getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

/* Remove the regular files in the open directory fd, then the directory. */
static int remove_dir(int fd, const char *path) {
  DIR *d = fdopendir(dup(fd));
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlinkat(fd, e->d_name, 0);
    closedir(d);
  }
  return rmdir(path);
}

int scratch__sweep(const char *root) {
  DIR *d = opendir(root);
  if (!d) return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, PREFIX, strlen(PREFIX))) continue;
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", root, e->d_name) >= (int)sizeof(path)) continue;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st;
    /* only our own: a directory of another user is theirs to sweep */
    if (!fstat(fd, &st) && st.st_uid == geteuid() && !flock(fd, LOCK_EX | LOCK_NB))
      n += remove_dir(fd, path) == 0;
    close(fd);
  }
  closedir(d);
  return n;
}

int scratch__create(struct scratch *s, const char *what, char *err, size_t len) {
  const char *root = tmp_root();
  s->fd = -1;
  scratch__sweep(root);
  for (int attempt = 0; attempt < 10; attempt++) {
    if (snprintf(s->path, sizeof(s->path), "%s/" PREFIX "%s.XXXXXX", root, what) >=
        (int)sizeof(s->path))
      return msg__fail(err, len, "%s: temporary directory path too long", root);
    if (!mkdtemp(s->path))
      return msg__fail(err, len, "cannot create a temporary directory in %s: %s (set TMPDIR)", root,
                       strerror(errno));
    int fd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st;
    /* Locked and still there (not removed by a sweep between the two). */
    if (!flock(fd, LOCK_EX) && !fstat(fd, &st) && st.st_nlink > 0) {
      s->fd = fd;
      return 0;
    }
    close(fd);
  }
  return msg__fail(err, len, "cannot keep a temporary directory in %s", root);
}

void scratch__remove(struct scratch *s) {
  if (s->fd < 0) return;
  remove_dir(s->fd, s->path);
  close(s->fd);
  s->fd = -1;
}
