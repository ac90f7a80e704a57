/* wl_params.h - a workload's declared parameters and its result, and the
 * number syntax every guest accepts: shared by the freestanding runtime
 * (rt/params.c reads boot info's key=value text) and the Linux guest's init
 * (workloads/linux: the kernel command line's vtb.KEY=VALUE words).
 * Header only and freestanding; refvmm checks --param with the same
 * number syntax before the guest starts. */
#ifndef RT_WL_PARAMS_H
#define RT_WL_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "vtb_abi.h" /* struct vtb_param: the image's parameter table */

struct wl_result {
  uint64_t checksum;
  uint64_t iterations;
};

/* Exit statuses shared by every guest. */
#define VTB_EXIT_BAD_BOOT  1 /* boot info magic/version wrong */
#define VTB_EXIT_BAD_PARAM 2 /* unknown key, bad value, out of range */
#define VTB_EXIT_NO_MEMORY 3 /* page allocator ran out */

/* The messages a bad parameter gets, the same in every guest (printf
 * formats). Arguments: NO_VALUE the word; UNKNOWN key, workload, then the
 * caller prints " (keys: ...)\n"; NOT_NUMBER key, value; RANGE key, value,
 * min, max; UNDECLARED workload, key. */
#define WL_MSG_NO_VALUE   "vtb: parameter '%.*s' has no '=value'\n"
#define WL_MSG_UNKNOWN    "vtb: unknown parameter '%.*s' for workload %s"
#define WL_MSG_NOT_NUMBER "vtb: parameter '%s': '%.*s' is not a number\n"
#define WL_MSG_RANGE      "vtb: parameter '%s'=%lu out of range [%lu, %lu]\n"
#define WL_MSG_UNDECLARED "vtb: workload %s asked for undeclared parameter '%s'\n"

/* A parameter value: decimal or 0x hex; a decimal one may end in k, m or g
 * (x1024^n). 0, or -1 when malformed or beyond 2^64-1. */
static inline int wl_param__parse_u64(const char *s, size_t n, uint64_t *out) {
  uint64_t v = 0, base = 10, mul = 1;
  size_t i = 0;
  if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16, i = 2;
  if (n > i && base == 10) {
    char c = s[n - 1] | 0x20;
    mul = c == 'k' ? 1ull << 10 : c == 'm' ? 1ull << 20 : c == 'g' ? 1ull << 30 : 1;
    if (mul > 1) n--;
  }
  if (i >= n) return -1;
  for (; i < n; i++) {
    char c = s[i];
    uint64_t d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (base == 16 && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
      d = (c | 0x20) - 'a' + 10;
    else
      return -1;
    if (v > (~0ull - d) / base) return -1;
    v = v * base + d;
  }
  if (v > ~0ull / mul) return -1;
  *out = v * mul;
  return 0;
}

#endif
