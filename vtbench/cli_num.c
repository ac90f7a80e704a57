/* cli_num.c - see cli_num.h. */
#include "cli_num.h"

#include <errno.h>
#include <stdlib.h>

#include "msg.h"

int cli__count(const char *opt, const char *arg, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(arg, &end, 10);
  if (errno || end == arg || *end || v < lo || v > hi) {
    msg__error("--%s '%s': expected %ld..%ld", opt, arg, lo, hi);
    return -1;
  }
  *out = v;
  return 0;
}
