/* backend.c - the backends refvmm was built with, by name. The table is
 * generated from the `const struct backend_ops NAME = {` definitions in
 * the backends' folders (refvmm/NAME/) (Makefile, $(BUILD)/gen/backends.h): one
 * BACKEND(NAME) line each, in folder order. */
#include "backend.h"

#include <stdio.h>
#include <string.h>

#define BACKEND(ops) extern const struct backend_ops ops;
#include "backends.h"
#undef BACKEND

static const struct backend_ops *const backends[] = {
#define BACKEND(ops) &ops,
#include "backends.h"
#undef BACKEND
};
#define NBACKENDS (sizeof backends / sizeof backends[0])

const struct backend_ops *backend__find(const char *name) {
  for (size_t i = 0; name && i < NBACKENDS; i++)
    if (strcmp(backends[i]->name, name) == 0) return backends[i];
  return NULL;
}

const char *backend__names(char *buf, size_t len, const char *sep_, const char *last_sep,
                           bool (*which)(const struct backend_ops *ops)) {
  const struct backend_ops *list[NBACKENDS];
  size_t n = 0, at = 0;
  for (size_t i = 0; i < NBACKENDS; i++)
    if (!which || which(backends[i])) list[n++] = backends[i];
  buf[0] = '\0';
  for (size_t i = 0; i < n && at < len; i++) {
    const char *sep = i == 0 ? "" : i + 1 == n ? last_sep : sep_;
    int w = snprintf(buf + at, len - at, "%s%s", sep, list[i]->name);
    if (w < 0) break;
    at += (size_t)w;
  }
  return buf;
}
