/* schema_check.c - run the JSON Schema validator on a result file. */
#include "tests/lib/schema_check.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
  int pipefd[2];
  validator_path(script, sizeof(script));
  if (access(script, R_OK) != 0) {
    snprintf(err, len, "validator %s: %s (run tests from the repository root or set VTB_SRCDIR)",
             script, strerror(errno));
    return -1;
  }
  /* Debian's python3 has python3-jsonschema; a PATH python3 may not. */
  const char *python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
  if (pipe(pipefd) != 0) {
    snprintf(err, len, "pipe: %s", strerror(errno));
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, len, "fork: %s", strerror(errno));
    close(pipefd[0]);
    close(pipefd[1]);
    return -1;
  }
  if (pid == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    dup2(pipefd[1], STDERR_FILENO);
    close(pipefd[0]);
    close(pipefd[1]);
    execlp(python, python, script, path, (char *)NULL);
    fprintf(stderr, "cannot run %s: %s\n", python, strerror(errno));
    _exit(127);
  }
  close(pipefd[1]);
  size_t o = 0;
  if (len) err[0] = '\0';
  char chunk[512];
  ssize_t n;
  while ((n = read(pipefd[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR)) {
    for (ssize_t i = 0; i < n; i++)
      if (o + 1 < len) err[o++] = chunk[i];
  }
  if (len) err[o] = '\0';
  close(pipefd[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  if (!WIFEXITED(status)) return -1;
  switch (WEXITSTATUS(status)) {
  case 0:
    return 0;
  case 1:
    return 1;
  default:
    return -1;
  }
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
