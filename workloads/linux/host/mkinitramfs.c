/* mkinitramfs.c - writes an initramfs: a cpio archive in the "newc" format
 * the kernel unpacks (Documentation/driver-api/early-userspace/
 * buffer-format.rst), from entries named on the command line. Runs on the
 * build host; needs no root (device nodes are written as headers) and is
 * deterministic (inode numbers in order, owner root, mtime 0).
 *
 *   mkinitramfs OUT ENTRY...
 *     dir:PATH:MODE             a directory
 *     file:PATH:MODE:SOURCE     a regular file with SOURCE's bytes
 *     nod:PATH:MODE:c|b:MAJ:MIN a character or block device node
 *   MODE in octal; PATH without a leading '/'.
 *
 * Exit 0, 1 on a malformed entry, 2 when a file cannot be read or OUT
 * written (the message names it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static FILE *out;
static const char *out_path;
static unsigned long ino = 1;
static unsigned long long written;

static void put(const void *p, size_t n) {
  if (fwrite(p, 1, n, out) != n) {
    fprintf(stderr, "mkinitramfs: write %s: %s\n", out_path, strerror(errno));
    exit(2);
  }
  written += n;
}

static void pad4(void) {
  static const char zero[4];
  put(zero, (4 - written % 4) % 4);
}

/* Fields are 8 hex digits: values above 32 bits cannot be written (sizes
 * are checked in add_file, the rest are small). */
static void header(const char *name, unsigned mode, unsigned size, unsigned rmaj, unsigned rmin) {
  char h[128];
  unsigned nlink = (mode & S_IFMT) == S_IFDIR ? 2 : 1;
  snprintf(h, sizeof h, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
           (unsigned)ino++, mode, 0u, 0u, nlink, 0u, size, 0u, 0u, rmaj, rmin,
           (unsigned)strlen(name) + 1, 0u);
  put(h, 110);
  put(name, strlen(name) + 1);
  pad4();
}

static int usage(const char *why, const char *entry) {
  fprintf(stderr,
          "mkinitramfs: %s: '%s' (dir:PATH:MODE, file:PATH:MODE:SOURCE, "
          "nod:PATH:MODE:c|b:MAJ:MIN)\n",
          why, entry);
  return 1;
}

/* Splits s at ':' into at most max fields; returns how many. */
static int split(char *s, char **f, int max) {
  int n = 0;
  while (n < max) {
    f[n++] = s;
    s = strchr(s, ':');
    if (!s) break;
    *s++ = '\0';
  }
  return n;
}

static int parse_mode(const char *s, unsigned *mode) {
  char *e;
  unsigned long m = strtoul(s, &e, 8);
  *mode = (unsigned)m;
  return *s && !*e && m <= 07777 ? 0 : -1;
}

static int add_file(const char *name, unsigned mode, const char *src) {
  FILE *f = fopen(src, "rb");
  if (!f) {
    fprintf(stderr, "mkinitramfs: %s (for %s): %s\n", src, name, strerror(errno));
    return 2;
  }
  if (fseek(f, 0, SEEK_END) || ftell(f) < 0 || ftell(f) > 0xffffffffL) {
    fprintf(stderr, "mkinitramfs: %s: cannot size it (or larger than 4 GiB)\n", src);
    fclose(f);
    return 2;
  }
  unsigned long size = (unsigned long)ftell(f);
  rewind(f);
  header(name, S_IFREG | mode, (unsigned)size, 0, 0);
  char buf[65536];
  size_t n, total = 0;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    put(buf, n);
    total += n;
  }
  int err = ferror(f) || total != size;
  fclose(f);
  if (err) {
    fprintf(stderr, "mkinitramfs: read %s: short or failed\n", src);
    return 2;
  }
  pad4();
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: mkinitramfs OUT ENTRY... (see the comment in mkinitramfs.c)\n");
    return 1;
  }
  out_path = argv[1];
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", out_path);
  out = fopen(tmp, "wb");
  if (!out) {
    fprintf(stderr, "mkinitramfs: create %s: %s\n", tmp, strerror(errno));
    return 2;
  }
  int rc = 0;
  for (int i = 2; i < argc && !rc; i++) {
    char spec[4096], *f[7];
    snprintf(spec, sizeof spec, "%s", argv[i]);
    int n = split(spec, f, 7);
    unsigned mode;
    if (n < 3 || !f[1][0] || f[1][0] == '/') {
      rc = usage("malformed entry", argv[i]);
    } else if (parse_mode(f[2], &mode)) {
      rc = usage("MODE is not an octal permission", argv[i]);
    } else if (!strcmp(f[0], "dir") && n == 3) {
      header(f[1], S_IFDIR | mode, 0, 0, 0);
    } else if (!strcmp(f[0], "file") && n == 4) {
      rc = add_file(f[1], mode, f[3]);
    } else if (!strcmp(f[0], "nod") && n == 6 && (!strcmp(f[3], "c") || !strcmp(f[3], "b"))) {
      char *e1, *e2;
      unsigned long maj = strtoul(f[4], &e1, 10), min = strtoul(f[5], &e2, 10);
      if (*e1 || *e2 || !f[4][0] || !f[5][0] || maj > 0xfff || min > 0xfffff)
        rc = usage("MAJ and MIN must be decimal device numbers", argv[i]);
      else
        header(f[1], (f[3][0] == 'c' ? S_IFCHR : S_IFBLK) | mode, 0, (unsigned)maj, (unsigned)min);
    } else {
      rc = usage("unknown kind or wrong number of fields", argv[i]);
    }
  }
  if (!rc) {
    header("TRAILER!!!", 0, 0, 0, 0);
    static const char zero[512];
    put(zero, (512 - written % 512) % 512);
  }
  if (fclose(out) && !rc) {
    fprintf(stderr, "mkinitramfs: close %s: %s\n", tmp, strerror(errno));
    rc = 2;
  }
  if (!rc && rename(tmp, out_path)) {
    fprintf(stderr, "mkinitramfs: rename %s to %s: %s\n", tmp, out_path, strerror(errno));
    rc = 2;
  }
  if (rc) remove(tmp);
  return rc;
}
