/* wl_memory.h - the set-up and the checksum of ptrchase and gups, shared by
 * the freestanding workloads (workloads/ptrchase.c, gups.c) and the Linux
 * guest's (workloads/linux/wl/), so both compute the same thing. The timed
 * loops stay in each workload, where they can be read. Header only and
 * freestanding. */
#ifndef RT_WL_MEMORY_H
#define RT_WL_MEMORY_H

#include <stdint.h>

#include "hash.h"

#define WL_LINE 64ull /* ptrchase's cache line */

/* One xorshift64 step (Marsaglia 2003; logical shifts). */
static inline uint64_t wl_xorshift64(uint64_t x) {
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}

/* ptrchase: `lines` cache lines at base form one cycle (Sattolo's shuffle
 * of a[i] = i from x = seed: for i = lines-1 down to 1, x = xorshift64(x),
 * j = x % i, swap a[i], a[j]); word 0 of line i then holds the address of
 * line a[i], so the chase does no arithmetic. */
static inline void wl_ptrchase_build(uint8_t *base, uint64_t lines, uint64_t x) {
#define SLOT(i) (*(uint64_t *)(base + (i)*WL_LINE))
  for (uint64_t i = 0; i < lines; i++)
    SLOT(i) = i;
  for (uint64_t i = lines - 1; i > 0; i--) { /* Sattolo: one cycle through every line */
    x = wl_xorshift64(x);
    uint64_t j = x % i, t = SLOT(i);
    SLOT(i) = SLOT(j);
    SLOT(j) = t;
  }
  for (uint64_t i = 0; i < lines; i++) /* indices into addresses */
    SLOT(i) = (uint64_t)(base + SLOT(i) * WL_LINE);
#undef SLOT
}

/* gups: table[i] = i before the updates. */
static inline void wl_gups_init(uint64_t *table, uint64_t words) {
  for (uint64_t i = 0; i < words; i++)
    table[i] = i;
}

/* gups's checksum over the final table: sum of vtb_mix64(table[i] + i). */
static inline uint64_t wl_gups_sum(const uint64_t *table, uint64_t words) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < words; i++)
    sum += vtb_mix64(table[i] + i);
  return sum;
}

#endif
