/* refvmm_child.c - one refvmm run through spawn.h and its result document
 * read back (refvmm_child.h). */
#include "refvmm_child.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "results/result_doc.h"
#include "spawn.h"

int refvmm_child__run(const char *const *argv, const char *log_path, double timeout_s, char *err,
                      size_t errlen) {
  struct spawn_opts so = {
      .argv = argv, .out_file = log_path, .err_to_out = true, .timeout_s = timeout_s};
  struct spawn_result sr;
  if (spawn__run(&so, &sr)) {
    snprintf(err, errlen, "cannot run %.200s: %s", argv[0], strerror(sr.error));
    return -1;
  }
  return sr.status;
}

static void last_line(const char *path, char *buf, size_t len) {
  buf[0] = 0;
  FILE *f = fopen(path, "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof(line), f))
    if (line[0] != '\n') {
      size_t k = strnlen(line, len - 1);
      memcpy(buf, line, k);
      buf[k] = 0;
    }
  fclose(f);
  size_t n = strlen(buf);
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = 0;
}

const json_t *refvmm_child__path(const json_t *j, const char *path) {
  char buf[256], *save = NULL;
  snprintf(buf, sizeof(buf), "%s", path);
  for (char *t = strtok_r(buf, ".", &save); t && j; t = strtok_r(NULL, ".", &save))
    j = json_object_get(j, t);
  return j;
}

json_t *refvmm_child__result(const char *what, int code, const char *json_path,
                             const char *log_path, char *err, size_t errlen) {
  char rerr[512];
  json_t *doc = access(json_path, R_OK) ? NULL : result_doc__read(json_path, rerr, sizeof(rerr));
  const char *status = json_string_value(
      refvmm_child__path(json_array_get(json_object_get(doc, "runs"), 0), "status"));
  if (code || !status || strcmp(status, "ok")) {
    char tail[400];
    last_line(log_path, tail, sizeof(tail));
    snprintf(err, errlen, "%.150s: refvmm exit %d, status %.20s: %.150s (log %.100s)", what, code,
             status ? status : "(no result)", tail[0] ? tail : "no output", log_path);
    json_decref(doc);
    return NULL;
  }
  return doc;
}
