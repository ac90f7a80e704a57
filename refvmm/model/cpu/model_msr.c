/* model_msr.c - the model CPU's platform MSRs (model_msr.h). */
#include "model_msr.h"

#include "model_cpu.h"

/* IA32_ARCH_CAPABILITIES (enumerated by CPUID.7.0:EDX[29]): the model
 * executes nothing speculatively, so it is not affected by any of the
 * attacks these bits rule out, and says so (the kernel then enables none
 * of their mitigations: no page-table isolation, no VERW buffer clearing) */
#define ARCH_CAP_NOT_AFFECTED                                                                      \
  ((1ull << 0)     /* RDCL_NO: no Meltdown */                                                      \
   | (1ull << 4)   /* SSB_NO */                                                                    \
   | (1ull << 5)   /* MDS_NO */                                                                    \
   | (1ull << 6)   /* PSCHANGE_MC_NO: no iTLB multihit */                                          \
   | (1ull << 8)   /* TAA_NO */                                                                    \
   | (1ull << 13)  /* SBDR_SSDP_NO */                                                              \
   | (1ull << 14)  /* FBSDP_NO */                                                                  \
   | (1ull << 15)  /* PSDP_NO */                                                                   \
   | (1ull << 20)  /* BHI_NO */                                                                    \
   | (1ull << 24)  /* PBRSB_NO */                                                                  \
   | (1ull << 26)  /* GDS_NO */                                                                    \
   | (1ull << 27)  /* RFDS_NO */                                                                   \
   | (1ull << 62)) /* ITS_NO */

#define UCODE_REVISION 1ull /* IA32_BIOS_SIGN_ID[63:32] */

/* a valid memory type in a PAT entry or MTRR: UC WC WT WP WB UC- (PAT only) */
static bool mem_type_ok(unsigned t, bool pat) {
  return t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || (pat && t == 7);
}

bool model_msr__vmm_owned(const struct model_cpu *c, uint32_t msr) {
  for (unsigned i = 0; i < c->plat.nvmm_msrs; i++)
    if (c->plat.vmm_msrs[i] == msr) return true;
  return false;
}

int model_msr__read(struct model_cpu *c, uint32_t msr, uint64_t *v) {
  switch (msr) {
  case MSR_UCODE_REV:
    *v = UCODE_REVISION << 32;
    return 0;
  case MSR_MTRRCAP:
    *v = 0; /* no variable ranges, no fixed ranges, no WC, no SMRR */
    return 0;
  case MSR_MTRR_DEF_TYPE:
    *v = c->mtrr_def_type;
    return 0;
  case MSR_ARCH_CAPABILITIES: /* enumerated with the platform (model_sys.c, CPUID 7) */
    if (!c->plat.apic) return -1;
    *v = ARCH_CAP_NOT_AFFECTED;
    return 0;
  case MSR_MISC_ENABLE:
    *v = c->misc_enable;
    return 0;
  default:
    return -1;
  }
}

int model_msr__write(struct model_cpu *c, uint32_t msr, uint64_t v) {
  switch (msr) {
  case MSR_UCODE_REV:
    return 0; /* software writes 0 before reading the revision (SDM 10.11.7.1) */
  case MSR_MTRR_DEF_TYPE:
    if ((v & ~0xcffull) || !mem_type_ok(v & 0xff, false) || (v & 0x400))
      return -1; /* reserved bits; FE without fixed ranges */
    c->mtrr_def_type = v;
    return 0;
  case MSR_MISC_ENABLE:
    return v == c->misc_enable ? 0 : -1; /* its features cannot be switched */
  default:
    return -1;
  }
}

bool model_msr__pat_ok(uint64_t v) {
  for (int i = 0; i < 8; i++)
    if (!mem_type_ok((v >> (8 * i)) & 0xff, true)) return false;
  return true;
}
