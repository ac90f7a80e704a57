/* json_util.c - small jansson helpers vtbench shares. */
#include "json_util.h"

#include <stdio.h>
#include <stdlib.h>

#include "msg.h"
#include "results/result_doc.h"

bool json_util__number(const json_t *v, double *out) {
  if (json_is_integer(v)) {
    *out = (double)json_integer_value(v);
    return true;
  }
  if (json_is_real(v)) {
    *out = json_real_value(v);
    return true;
  }
  if (json_is_string(v)) {
    const char *s = json_string_value(v);
    char *end;
    if (!*s) return false;
    unsigned long long u = strtoull(s, &end, 0);
    if (*end) return false;
    *out = (double)u;
    return true;
  }
  return false;
}

json_t *json_util__load_doc(const char *path) {
  char err[512];
  json_t *doc = result_doc__read(path, err, sizeof(err));
  if (!doc) msg__error("%s", err);
  return doc;
}
