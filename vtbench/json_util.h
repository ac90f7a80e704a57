/* json_util.h - small jansson helpers vtbench shares. */
#ifndef VTBENCH_JSON_UTIL_H
#define VTBENCH_JSON_UTIL_H

#include <jansson.h>
#include <stdbool.h>

/* A number from an integer, a real or a numeric string (decimal or 0x-hex,
 * the schema's u64 form). false for anything else, including NULL. */
bool json_util__number(const json_t *v, double *out);

/* Read a result document through result_doc__read; on error print the
 * message (naming the file) to stderr and return NULL. */
json_t *json_util__load_doc(const char *path);

#endif
