/* result_doc.c - the result document's envelope, atomic writer and reader.
 *
 * The writer never leaves a half-written file where a reader could see it:
 * it writes PATH.tmp.PID in the same directory, fsyncs it, renames it over
 * PATH and fsyncs the directory, so after a crash PATH is either the old
 * document or the new one.
 */
#include "results/result_doc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define RESULT_DOC_MIN_FREE (1024 * 1024) /* bytes; below this, say "disk full" early */

json_t *result_doc__new(json_t *context) {
  json_t *doc = json_object();
  json_t *schema = json_object();
  if (!doc || !schema) goto fail;
  json_object_set_new(schema, "name", json_string(VTB_SCHEMA_NAME));
  json_object_set_new(schema, "version", json_integer(VTB_SCHEMA_VERSION));
  json_object_set_new(doc, "schema", schema);
  schema = NULL;
  json_object_set_new(doc, "context", context ? context : json_object());
  context = NULL;
  json_object_set_new(doc, "runs", json_array());
  json_object_set_new(doc, "aggregates", json_array());
  return doc;
fail:
  json_decref(doc);
  json_decref(schema);
  json_decref(context);
  return NULL;
}

int result_doc__add_run(json_t *doc, json_t *run) {
  json_t *runs = doc ? json_object_get(doc, "runs") : NULL;
  if (!run) return -EINVAL;
  if (!json_is_array(runs) || !json_is_object(run)) {
    json_decref(run);
    return -EINVAL;
  }
  return json_array_append_new(runs, run) ? -ENOMEM : 0;
}

/* Directory part of `path` ("." when it has none) into buf. */
static void dir_of(const char *path, char *buf, size_t len) {
  const char *slash = strrchr(path, '/');
  if (!slash) {
    snprintf(buf, len, ".");
  } else if (slash == path) {
    snprintf(buf, len, "/");
  } else {
    snprintf(buf, len, "%.*s", (int)(slash - path), path);
  }
}

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  int rc = fsync(fd) ? -errno : 0;
  close(fd);
  /* Some file systems cannot fsync a directory; the rename is done anyway. */
  return (rc == -EINVAL || rc == -EROFS) ? 0 : rc;
}

int result_doc__write(const json_t *doc, const char *path) {
  char tmp[PATH_MAX], dir[PATH_MAX];
  if (!doc || !path || !*path) return -EINVAL;
  if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
    return -ENAMETOOLONG;
  dir_of(path, dir, sizeof(dir));

  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -errno;
  FILE *f = fdopen(fd, "w");
  if (!f) {
    int e = errno;
    close(fd);
    unlink(tmp);
    return -e;
  }
  int rc = 0;
  errno = 0;
  if (json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 || fputc('\n', f) == EOF ||
      fflush(f) != 0)
    rc = errno ? -errno : -EIO;
  if (!rc && fsync(fileno(f)) != 0) rc = -errno;
  if (fclose(f) != 0 && !rc) rc = -errno;
  if (!rc && rename(tmp, path) != 0) rc = -errno;
  if (rc) {
    unlink(tmp);
    return rc;
  }
  return fsync_dir(dir);
}

json_t *result_doc__read(const char *path, char *err, size_t len) {
  json_error_t jerr;
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) { /* else jansson says "not valid JSON" */
    snprintf(err, len, "%s is a directory, not a result document: give a JSON file", path);
    return NULL;
  }
  json_t *doc = json_load_file(path, 0, &jerr);
  if (!doc) {
    if (jerr.line <= 0)
      snprintf(err, len, "%s: cannot read: %s", path, jerr.text);
    else
      snprintf(err, len, "%s:%d:%d: not valid JSON: %s", path, jerr.line, jerr.column, jerr.text);
    return NULL;
  }
  const char *problem = NULL;
  char buf[160];
  json_t *schema = json_object_get(doc, "schema");
  json_t *name = json_object_get(schema, "name");
  json_t *version = json_object_get(schema, "version");
  if (!json_is_object(doc)) {
    problem = "the top level is not an object (not a vtbench result document)";
  } else if (!json_is_object(schema)) {
    problem = "no \"schema\" object (not a vtbench result document)";
  } else if (!json_is_string(name) || strcmp(json_string_value(name), VTB_SCHEMA_NAME) != 0) {
    snprintf(buf, sizeof(buf), "schema.name is %s%s%s, expected \"" VTB_SCHEMA_NAME "\"",
             json_is_string(name) ? "\"" : "",
             json_is_string(name) ? json_string_value(name) : "missing",
             json_is_string(name) ? "\"" : "");
    problem = buf;
  } else if (!json_is_integer(version) || json_integer_value(version) < 1) {
    problem = "schema.version is missing or not a positive integer";
  } else if (json_integer_value(version) > VTB_SCHEMA_VERSION) {
    snprintf(buf, sizeof(buf),
             "schema.version %lld is newer than this vtbench understands (%d): use a newer vtbench",
             (long long)json_integer_value(version), VTB_SCHEMA_VERSION);
    problem = buf;
  } else if (!json_is_object(json_object_get(doc, "context"))) {
    problem = "\"context\" is missing or not an object";
  } else if (!json_is_array(json_object_get(doc, "runs"))) {
    problem = "\"runs\" is missing or not an array";
  } else if (json_object_get(doc, "aggregates") &&
             !json_is_array(json_object_get(doc, "aggregates"))) {
    problem = "\"aggregates\" is not an array";
  }
  if (problem) {
    snprintf(err, len, "%s: %s", path, problem);
    json_decref(doc);
    return NULL;
  }
  if (!json_object_get(doc, "aggregates")) json_object_set_new(doc, "aggregates", json_array());
  return doc;
}

int result_doc__check_writable(const char *path, char *err, size_t len) {
  char dir[PATH_MAX], probe[PATH_MAX];
  struct stat st;
  if (!path || !*path) {
    snprintf(err, len, "result path is empty: give a file name");
    return -EINVAL;
  }
  dir_of(path, dir, sizeof(dir));
  if (stat(dir, &st) != 0) {
    int e = errno;
    snprintf(err, len, "%s: directory %s: %s: create it first", path, dir, strerror(e));
    return -e;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(err, len, "%s: %s is not a directory", path, dir);
    return -ENOTDIR;
  }
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    snprintf(err, len, "%s is a directory: give a file name such as %s/results.json", path, path);
    return -EISDIR;
  }
  /* access() says yes to root everywhere but read-only mounts and /proc, so
   * try what the writer will do: create a file next to the target. */
  if (snprintf(probe, sizeof(probe), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(probe)) {
    snprintf(err, len, "%s: path too long", path);
    return -ENAMETOOLONG;
  }
  int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    int e = errno;
    if (e != EEXIST) {
      snprintf(err, len, "%s: cannot create files in %s: %s", path, dir, strerror(e));
      return -e;
    }
  } else {
    close(fd);
    unlink(probe);
  }
  struct statvfs vfs;
  if (statvfs(dir, &vfs) == 0 && vfs.f_blocks > 0) {
    unsigned long long avail = geteuid() == 0 ? vfs.f_bfree : vfs.f_bavail;
    unsigned long long bytes = avail * (unsigned long long)vfs.f_frsize;
    if (bytes < RESULT_DOC_MIN_FREE) {
      snprintf(err, len, "%s: only %llu bytes free in %s (need at least 1 MiB): free some space",
               path, bytes, dir);
      return -ENOSPC;
    }
  }
  return 0;
}
