/* tracefs.c - tracefs lookup (tracefs.h). */
#include "probes/tracefs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static bool has_events(const char *dir) {
  char p[512];
  struct stat st;
  snprintf(p, sizeof p, "%s/events", dir);
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int tracefs__find(const char *root_dir, char *dir, size_t dirlen, char *why, size_t whylen) {
  if (root_dir) {
    if (!has_events(root_dir)) {
      snprintf(why, whylen, "%s/events: not a tracefs directory", root_dir);
      return -1;
    }
    snprintf(dir, dirlen, "%s", root_dir);
    return 0;
  }
  static const char *const places[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
  for (size_t i = 0; i < sizeof places / sizeof places[0]; i++)
    if (has_events(places[i])) {
      snprintf(dir, dirlen, "%s", places[i]);
      return 0;
    }
  if (geteuid() != 0) {
    snprintf(why, whylen,
             "tracefs is not mounted (/sys/kernel/tracing/events absent) and mounting it needs "
             "root: mount -t tracefs nodev /sys/kernel/tracing");
    return -1;
  }
  if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) != 0) {
    snprintf(why, whylen,
             "tracefs is not mounted and mount -t tracefs nodev /sys/kernel/tracing "
             "failed: %s",
             strerror(errno));
    return -1;
  }
  if (!has_events("/sys/kernel/tracing")) {
    snprintf(why, whylen, "tracefs mounted at /sys/kernel/tracing has no events/ directory");
    return -1;
  }
  snprintf(dir, dirlen, "/sys/kernel/tracing");
  return 0;
}

long tracefs__event_id(const char *dir, const char *system, const char *event) {
  char p[512];
  snprintf(p, sizeof p, "%s/events/%s/%s/id", dir, system, event);
  FILE *f = fopen(p, "r");
  if (!f) return -errno;
  long id = -1;
  int n = fscanf(f, "%ld", &id);
  fclose(f);
  return n == 1 && id >= 0 ? id : -EINVAL;
}

int tracefs__field(const char *dir, const char *system, const char *event, const char *field,
                   unsigned *offset, unsigned *size) {
  char p[512], line[512];
  snprintf(p, sizeof p, "%s/events/%s/%s/format", dir, system, event);
  FILE *f = fopen(p, "r");
  if (!f) return -1;
  size_t fl = strlen(field);
  int rc = -1;
  while (fgets(line, sizeof line, f)) {
    /* "\tfield:unsigned int exit_reason;\toffset:8;\tsize:4;\tsigned:0;" */
    char *decl = strstr(line, "field:");
    char *semi = decl ? strchr(decl, ';') : NULL;
    if (!semi || (size_t)(semi - decl) < fl + 1) continue;
    const char *name = semi - fl;
    if (strncmp(name, field, fl) || (name[-1] != ' ' && name[-1] != '\t' && name[-1] != '*'))
      continue;
    char *o = strstr(semi, "offset:"), *s = strstr(semi, "size:");
    if (!o || !s) break;
    *offset = (unsigned)strtoul(o + 7, NULL, 10);
    *size = (unsigned)strtoul(s + 5, NULL, 10);
    rc = *size == 0 || *size > 8 ? -1 : 0;
    break;
  }
  fclose(f);
  return rc;
}
