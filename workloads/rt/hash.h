/* hash.h - the integer mixer every workload checksum is built from.
 *
 * vtb_mix64 is the splitmix64 finalizer (Steele, Lea, Flood 2014):
 *   z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
 *   z = (z ^ (z >> 27)) * 0x94d049bb133111eb
 *   z =  z ^ (z >> 31)
 * Host-side references implement it themselves (docs/ABI.md). */
#ifndef RT_HASH_H
#define RT_HASH_H

#include <stdint.h>

#define VTB_GOLDEN 0x9e3779b97f4a7c15ull

static inline uint64_t vtb_mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

#endif
