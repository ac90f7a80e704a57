/* model_features.c - see model_features.h. */
#include "model_features.h"

#include <stdio.h>
#include <string.h>

#include "refvmm/model/cpu/model_sys.h"

#define RING0 "an instruction of ring 0"
const struct model_feature model_features[] = {
    {1, 0, CPUID_ECX, 13, "cx16", NULL, 0},
    {1, 0, CPUID_ECX, 23, "popcnt", NULL, 0},
    {1, 0, CPUID_ECX, 31, "hypervisor",
     "CPUID's answer on a bare host differs from one under a hypervisor", 0},
    {1, 0, CPUID_EDX, 4, "tsc", NULL, 0},
    {1, 0, CPUID_EDX, 5, "msr", "RDMSR and WRMSR are " RING0, 1},
    {1, 0, CPUID_EDX, 6, "pae", NULL, 1},
    {1, 0, CPUID_EDX, 8, "cx8", NULL, 0},
    {1, 0, CPUID_EDX, 13, "pge", "CR4.PGE is written by " RING0, 1},
    {1, 0, CPUID_EDX, 15, "cmov", NULL, 0},
    {1, 0, CPUID_EDX, 19, "clflush", NULL, 0},
    {7, 0, CPUID_EBX, 3, "bmi1", NULL, 0},
    {7, 0, CPUID_EBX, 8, "bmi2", NULL, 0},
    {7, 0, CPUID_EBX, 9, "erms", NULL, 0},
    {0x80000001, 0, CPUID_ECX, 0, "lahf_lm", NULL, 0},
    {0x80000001, 0, CPUID_ECX, 5, "abm", NULL, 0},
    {0x80000001, 0, CPUID_EDX, 11, "syscall",
     "SYSCALL from ring 3 of a Linux process enters Linux (the case runs it at CPL0)", 1},
    {0x80000001, 0, CPUID_EDX, 20, "nx", NULL, 1},
    {0x80000001, 0, CPUID_EDX, 26, "pdpe1gb", "a process cannot choose 1 GiB pages", 1},
    {0x80000001, 0, CPUID_EDX, 27, "rdtscp", NULL, 1},
    {0x80000001, 0, CPUID_EDX, 29, "lm", NULL, 1},
    {0},
};

/* the registers of each leaf that hold feature bits */
static const struct {
  uint32_t leaf, sub;
  enum cpuid_reg reg;
} feature_regs[] = {
    {1, 0, CPUID_ECX},          {1, 0, CPUID_EDX},          {7, 0, CPUID_EBX},
    {7, 0, CPUID_ECX},          {7, 0, CPUID_EDX},          {0x80000001, 0, CPUID_ECX},
    {0x80000001, 0, CPUID_EDX},
};

const struct model_feature *model_features__find(uint32_t leaf, uint32_t sub, enum cpuid_reg reg,
                                                  unsigned bit) {
  for (const struct model_feature *f = model_features; f->name; f++)
    if (f->leaf == leaf && f->sub == sub && f->reg == reg && f->bit == bit) return f;
  return NULL;
}

const struct model_feature *model_features__named(const char *name) {
  for (const struct model_feature *f = model_features; f->name; f++)
    if (strcmp(f->name, name) == 0) return f;
  return NULL;
}

int model_features__advertised(struct cpuid_bit *out, int max) {
  int n = 0;
  for (unsigned i = 0; i < sizeof feature_regs / sizeof feature_regs[0]; i++) {
    uint32_t o[4];
    model_sys__cpuid(feature_regs[i].leaf, feature_regs[i].sub, o);
    for (unsigned b = 0; b < 32; b++)
      if (((o[feature_regs[i].reg] >> b) & 1) && n < max)
        out[n++] = (struct cpuid_bit){feature_regs[i].leaf, feature_regs[i].sub,
                                      feature_regs[i].reg, b};
  }
  return n;
}

int model_features__set(const struct model_feature *f) {
  uint32_t o[4];
  model_sys__cpuid(f->leaf, f->sub, o);
  return (o[f->reg] >> f->bit) & 1;
}

const char *model_features__where(uint32_t leaf, uint32_t sub, enum cpuid_reg reg, unsigned bit,
                                  char *buf, unsigned len) {
  static const char *const names[] = {"EAX", "EBX", "ECX", "EDX"};
  if (leaf == 7)
    snprintf(buf, len, "CPUID.%u.%u:%s[%u]", leaf, sub, names[reg], bit);
  else
    snprintf(buf, len, "CPUID.0x%x:%s[%u]", leaf, names[reg], bit);
  return buf;
}
