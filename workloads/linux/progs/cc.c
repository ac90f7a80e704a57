/* cc.c - /bin/vtb-cc, the make workload's compiler and linker (wl/make.c):
 *
 *   vtb-cc -c SRC -o OBJ -s R    OBJ := 8 bytes h, h = R, then for each
 *                                8-byte word w of SRC: h = vtb_mix64(h ^ w)
 *   vtb-cc -l -o OUT OBJ...      OUT := 8 bytes h, h = 0, then for each
 *                                OBJ's value v in order: h = vtb_mix64(h + v)
 *
 * Exits 0, 1 for a bad command line, 2 when a file cannot be read or
 * written (the message names it and the error). */
#include "lx.h"

static uint8_t buf[65536];

static int fail(const char *what, const char *path, long err) {
  printf("vtb-cc: %s %s: %s\n", what, path, lx_errname(err));
  console_flush();
  return 2;
}

/* Folds the words of `path` into *h; a trailing partial word is ignored
 * (the workload writes whole words). */
static int compile(const char *path, uint64_t *h) {
  long fd = sys_open(path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return fail("open", path, fd);
  size_t have = 0;
  for (;;) {
    long r = sys_read((int)fd, buf + have, sizeof buf - have);
    if (r == -EINTR) continue;
    if (r < 0) {
      sys_close((int)fd);
      return fail("read", path, r);
    }
    if (!r) break;
    have += (size_t)r;
    size_t words = have / 8;
    for (size_t i = 0; i < words; i++) {
      uint64_t w;
      memcpy(&w, buf + i * 8, 8);
      *h = vtb_mix64(*h ^ w);
    }
    memmove(buf, buf + words * 8, have - words * 8);
    have -= words * 8;
  }
  sys_close((int)fd);
  return 0;
}

static int read_value(const char *path, uint64_t *v) {
  long fd = sys_open(path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return fail("open", path, fd);
  long r = sys_read((int)fd, v, 8);
  sys_close((int)fd);
  return r == 8 ? 0 : fail("read", path, r < 0 ? r : -EIO);
}

static int write_value(const char *path, uint64_t v) {
  long fd = sys_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("create", path, fd);
  long r = lx_write_all((int)fd, &v, 8);
  sys_close((int)fd);
  return r ? fail("write", path, r) : 0;
}

static int usage(void) {
  printf("usage: vtb-cc -c SRC -o OBJ -s ROUND | vtb-cc -l -o OUT OBJ...\n");
  console_flush();
  return 1;
}

int main(int argc, char **argv) {
  if (argc == 7 && !strcmp(argv[1], "-c") && !strcmp(argv[3], "-o") && !strcmp(argv[5], "-s")) {
    uint64_t h;
    if (wl_param__parse_u64(argv[6], strlen(argv[6]), &h)) return usage();
    int rc = compile(argv[2], &h);
    return rc ? rc : write_value(argv[4], h);
  }
  if (argc >= 5 && !strcmp(argv[1], "-l") && !strcmp(argv[2], "-o")) {
    uint64_t h = 0;
    for (int i = 4; i < argc; i++) {
      uint64_t v;
      int rc = read_value(argv[i], &v);
      if (rc) return rc;
      h = vtb_mix64(h + v);
    }
    return write_value(argv[3], h);
  }
  return usage();
}
