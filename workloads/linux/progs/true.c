/* true.c - /bin/vtb-true I: the forkexec workload's small static program.
 * Does next to nothing, so fork + execve + exit is what gets measured:
 * exits with vtb_mix64(LX_TRUE_TAG + I) % LX_TRUE_MOD (progs.h), or
 * LX_TRUE_MOD + 1 when I is missing or not a decimal number. */
#include "hash.h"
#include "progs.h"
#include "sys.h"

int main(int argc, char **argv) {
  if (argc != 2 || !argv[1][0]) return LX_TRUE_MOD + 1;
  uint64_t i = 0;
  for (const char *s = argv[1]; *s; s++) {
    if (*s < '0' || *s > '9') return LX_TRUE_MOD + 1;
    i = i * 10 + (uint64_t)(*s - '0');
  }
  return (int)(vtb_mix64(LX_TRUE_TAG + i) % LX_TRUE_MOD);
}
