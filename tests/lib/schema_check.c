/* schema_check.c - run the JSON Schema validator on a result file. */
#include "tests/lib/schema_check.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vtbench/spawn.h"

static void validator_path(char *buf, size_t len) {
  const char *v = getenv("VTB_VALIDATOR");
  const char *src = getenv("VTB_SRCDIR");
  if (v && *v)
    snprintf(buf, len, "%s", v);
  else
    snprintf(buf, len, "%s%stests/scripts/validate_json.py", src && *src ? src : "",
             src && *src ? "/" : "");
}

int schema_check__file(const char *path, char *err, size_t len) {
  char script[PATH_MAX];
  validator_path(script, sizeof(script));
  if (access(script, R_OK) != 0) {
    snprintf(err, len, "validator %s: %s (run tests from the repository root or set VTB_SRCDIR)",
             script, strerror(errno));
    return -1;
  }
  /* Debian's python3 has python3-jsonschema; a PATH python3 may not. */
  const char *python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
  const char *argv[] = {python, script, path, NULL};
  struct spawn_opts o = {.argv = argv, .search_path = true, .capture = true, .err_to_out = true};
  struct spawn_result r;
  if (spawn__run(&o, &r)) {
    snprintf(err, len, "cannot run %s: %s", python, strerror(r.error));
    return -1;
  }
  snprintf(err, len, "%s", r.out ? r.out : "");
  spawn__result_free(&r);
  if (r.how != SPAWN_EXITED) return -1;
  return r.code == 0 ? 0 : r.code == 1 ? 1 : -1;
}

int schema_check__json(const json_t *doc, char *err, size_t len) {
  char tmp[] = "/tmp/vtb-schema-check-XXXXXX";
  int fd = mkstemp(tmp);
  if (fd < 0) {
    snprintf(err, len, "mkstemp: %s", strerror(errno));
    return -1;
  }
  FILE *f = fdopen(fd, "w");
  if (!f) {
    close(fd);
    unlink(tmp);
    snprintf(err, len, "fdopen %s: %s", tmp, strerror(errno));
    return -1;
  }
  int bad = json_dumpf(doc, f, JSON_INDENT(2)) != 0;
  bad |= fclose(f) != 0;
  if (bad) {
    snprintf(err, len, "cannot write %s", tmp);
    unlink(tmp);
    return -1;
  }
  int rc = schema_check__file(tmp, err, len);
  unlink(tmp);
  return rc;
}
