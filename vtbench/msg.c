/* msg.c - see msg.h. */
#include "msg.h"

#include <stdbool.h>
#include <stdio.h>

static const char *command;
static bool progress_shown; /* a progress line is on stderr, without its newline */

void msg__set_command(const char *name) {
  command = name;
}

const char *msg__command(void) {
  return command;
}

/* "vtbench COMMAND: " after erasing a progress line. */
static void prefix(void) {
  if (progress_shown) fputs("\r\033[K", stderr);
  progress_shown = false;
  if (command)
    fprintf(stderr, "vtbench %s: ", command);
  else
    fputs("vtbench: ", stderr);
}

void msg__verror(const char *fmt, va_list ap) {
  prefix();
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void msg__error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  msg__verror(fmt, ap);
  va_end(ap);
}

void msg__info(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  msg__verror(fmt, ap);
  va_end(ap);
}

void msg__note(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  prefix();
  fputs("note: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

int msg__fail(char *err, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (len) vsnprintf(err, len, fmt, ap);
  va_end(ap);
  return -1;
}

void msg__progress(const char *line) {
  if (!line) {
    if (progress_shown) fputs("\r\033[K", stderr);
    progress_shown = false;
    return;
  }
  fprintf(stderr, "\r\033[K%s", line);
  progress_shown = true;
}
