/* model_features.h - the CPUID feature bits the model CPU may advertise
 * and where each is compared with a real CPU (model_features.c). No suite
 * here: test_model_exec.c (the host CPU in ring 3) and test_model_vs_kvm.c
 * (KVM) check that every bit the model sets has cases of its own. */
#ifndef TEST_MODEL_FEATURES_H
#define TEST_MODEL_FEATURES_H

#include <stdint.h>

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

struct model_feature {
  uint32_t leaf, sub;
  enum cpuid_reg reg;
  unsigned bit;
  const char *name; /* as /proc/cpuinfo names it; the `feature` of the cases */
  /* NULL: ring-3 cases in tests/gen/model_exec.cases compare it with the
   * host CPU; otherwise why no ring-3 process can (the cases then run on
   * KVM only, tests/gen/model_vs_kvm.cases) */
  const char *no_native;
  /* KVM, not the CPU, decides the outcome from the guest's CPUID (its MMU's
   * reserved bits, CR4/EFER checks, VMX controls such as "enable RDTSCP"):
   * on a KVM that does not offer the feature to guests its cases are
   * skipped (a CPU runs the others whatever CPUID says) */
  int kvm_gated;
};

/* A feature bit the model's CPUID sets: leaf, subleaf, register, bit. */
struct cpuid_bit {
  uint32_t leaf, sub;
  enum cpuid_reg reg;
  unsigned bit;
};

/* The table, terminated by an entry whose name is NULL. */
extern const struct model_feature model_features[];
/* The entry for a bit, NULL when the table has none. */
const struct model_feature *model_features__find(uint32_t leaf, uint32_t sub, enum cpuid_reg reg,
                                                 unsigned bit);
/* The entry called `name`, NULL when the table has none. */
const struct model_feature *model_features__named(const char *name);
/* Every feature bit the model's CPUID sets in leaves 1, 7.0 and
 * 0x80000001 (the feature registers, not signatures or sizes), into out;
 * returns how many (at most max). */
int model_features__advertised(struct cpuid_bit *out, int max);
/* Whether the model's CPUID sets this feature's bit. */
int model_features__set(const struct model_feature *f);
/* "CPUID.7.0:EBX[3]" */
const char *model_features__where(uint32_t leaf, uint32_t sub, enum cpuid_reg reg, unsigned bit,
                                  char *buf, unsigned len);

#endif
