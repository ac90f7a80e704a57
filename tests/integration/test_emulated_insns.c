/* test_emulated_insns.c - what a KVM that emulates the guest's ring 0
 * (kvm_pvm) counts as emulated instructions (`insn_emulation`) besides one
 * per ring-0 instruction, and the model's counters for it
 * (`cpl0.rep_emulations`, `cpl3.cpuid`, `cpl3.mmio`; docs/VALIDATION.md):
 *
 * - a CPL0 REP string instruction that iterates counts one more, and one
 *   more again each time RCX reaches a nonzero multiple of 1024 before it
 *   completes (KVM's emulator returns to the guest there): a hand-assembled
 *   guest runs REP MOVSB/MOVSQ/STOSB/STOSQ of 0 to 8193 elements between
 *   its marks;
 * - ring-3 CPUID and ring-3 MMIO accesses are emulated too (the cpuid and
 *   mmio workloads at cpl=3).
 *
 * The model's counts are checked against the rule everywhere; on a KVM
 * that emulates ring 0, KVM's insn_emulation must equal the model's sum
 * exactly. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/elf_builder.h"
#include "tests/lib/itest.h"
#include "tests/lib/run_refvmm.h"
#include "workloads/rt/vtb_abi.h"

/* The REP instructions the guest runs: count, and the extra emulations
 * the rule gives (docs/VALIDATION.md). */
static const struct {
  uint32_t count;
  uint8_t op[3]; /* the instruction: F3 [REX.W] opcode */
  uint8_t oplen;
  unsigned extra;
} reps[] = {
    {1, {0xf3, 0xa4}, 2, 1},         /* rep movsb: one more per instruction */
    {7, {0xf3, 0xa4}, 2, 1},         /* the same */
    {64, {0xf3, 0xa4}, 2, 1},        /* the same */
    {1024, {0xf3, 0xa4}, 2, 1},      /* RCX reaches 0 at the multiple: no re-entry */
    {1025, {0xf3, 0xa4}, 2, 2},      /* re-enters at RCX = 1024 */
    {4096, {0xf3, 0xa4}, 2, 4},      /* at 3072, 2048, 1024 */
    {8193, {0xf3, 0xa4}, 2, 9},      /* at 8192, 7168, ..., 1024 */
    {512, {0xf3, 0x48, 0xa5}, 3, 1}, /* rep movsq */
    {512, {0xf3, 0x48, 0xab}, 3, 1}, /* rep stosq */
    {2049, {0xf3, 0xaa}, 2, 3},      /* rep stosb: at 2048 and 1024 */
    {0, {0xf3, 0xa4}, 2, 0},         /* RCX = 0: no iteration, no extra */
};
#define NREPS (sizeof reps / sizeof reps[0])

#define SRC_GPA 0x202000u /* source and destination buffers, 16 KiB each (bss) */
#define DST_GPA 0x206000u

static unsigned expected_extra(void) {
  unsigned n = 0;
  for (size_t i = 0; i < NREPS; i++)
    n += reps[i].extra;
  return n;
}

static size_t put(uint8_t *p, const void *b, size_t n) {
  memcpy(p, b, n);
  return n;
}

static size_t put_mov32(uint8_t *p, uint8_t opcode, uint32_t v) {
  p[0] = opcode;
  memcpy(p + 1, &v, 4);
  return 5;
}

/* Mark begin at EB_DATA_GPA, mark end at +0x20, exit at +0x40. */
static void write_rep_guest(const char *path) {
  uint8_t text[512];
  size_t n = 0;
  static const uint8_t mark_port[] = {0x66, 0xba, 0x02, 0x05}; /* mov dx, 0x502 */
  static const uint8_t exit_port[] = {0x66, 0xba, 0x01, 0x05}; /* mov dx, 0x501 */
  n += put(text + n, mark_port, sizeof mark_port);
  n += put_mov32(text + n, 0xb8, (uint32_t)EB_DATA_GPA); /* mov eax, begin */
  text[n++] = 0xef;                                      /* out dx, eax */
  for (size_t i = 0; i < NREPS; i++) {
    n += put_mov32(text + n, 0xbe, SRC_GPA); /* mov esi */
    n += put_mov32(text + n, 0xbf, DST_GPA); /* mov edi */
    n += put_mov32(text + n, 0xb9, reps[i].count);
    text[n++] = 0x31, text[n++] = 0xc0; /* xor eax, eax (STOS's value) */
    n += put(text + n, reps[i].op, reps[i].oplen);
  }
  n += put(text + n, mark_port, sizeof mark_port);
  n += put_mov32(text + n, 0xb8, (uint32_t)EB_DATA_GPA + 0x20); /* mark end */
  text[n++] = 0xef;
  n += put(text + n, exit_port, sizeof exit_port);
  n += put_mov32(text + n, 0xb8, (uint32_t)EB_DATA_GPA + 0x40);
  text[n++] = 0xef;
  text[n++] = 0xf4, text[n++] = 0xeb, text[n++] = 0xfd; /* hlt; jmp hlt */
  uint8_t data[0x100] = {0};
  struct vtb_hc_mark b = {VTB_REGION_TIMED, VTB_MARK_BEGIN, 0},
                     e = {VTB_REGION_TIMED, VTB_MARK_END, 0};
  struct vtb_hc_exit ex = {0};
  memcpy(data + 0x00, &b, sizeof b);
  memcpy(data + 0x20, &e, sizeof e);
  memcpy(data + 0x40, &ex, sizeof ex);
  struct elf_builder eb;
  eb__init(&eb, EB_TEXT_GPA);
  eb__add_load(&eb, EB_TEXT_GPA, PF_R | PF_X, text, n, n);
  eb__add_load(&eb, EB_DATA_GPA, PF_R | PF_W, data, sizeof data, DST_GPA + 0x4000 - EB_DATA_GPA);
  ck_assert_msg(eb__write(&eb, path) == 0, "cannot write %s", path);
  eb__free(&eb);
}

/* refvmm on `backend` (paging shadow, tlb flush: what kvm_pvm has). */
static void run(struct refvmm_result *r, const char *backend, const char *image,
                const char *const *params) {
  const char *args[24] = {"run",   image,   "--backend", backend,     "--paging", "shadow",
                          "--tlb", "flush", "--quiet",   "--timeout", "120",      "--no-pmu"};
  int a = 12;
  for (; params && *params && a < 22; params++) {
    args[a++] = "--param";
    args[a++] = *params;
  }
  args[a] = NULL;
  ck_assert_int_eq(run_refvmm(r, true, args), 0);
  itest__assert_ok_run(r);
}

/* The model's emulated-instruction count of the timed region, in parts. */
struct model_emu {
  uint64_t insns0, rep, cpuid3, mmio3;
};
static struct model_emu model_emu(const struct refvmm_result *r) {
  return (struct model_emu){itest__u64_at(r, "model.timed.cpl0.instructions"),
                            itest__u64_at(r, "model.timed.cpl0.rep_emulations"),
                            itest__u64_at(r, "model.timed.cpl3.cpuid"),
                            itest__u64_at(r, "model.timed.cpl3.mmio")};
}

/* 1 when KVM emulates the guest's ring 0 here (kvm_pvm); else prints why
 * the KVM half is skipped. */
static int kvm_emulates_ring0(const struct refvmm_result *k) {
  const char *fl = json_string_value(
      json_object_get(json_object_get(json_object_get(k->doc, "context"), "kvm"), "flavour"));
  if (fl && !strcmp(fl, "kvm_pvm")) return 1;
  printf("SKIP %s: KVM (%s) runs the guest's ring 0 itself: insn_emulation counts other "
         "things there\n",
         __FILE__, fl ? fl : "unknown flavour");
  return 0;
}

START_TEST(rep_string_emulations) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/vtb_rep_%d.elf", (int)getpid());
  write_rep_guest(path);
  struct refvmm_result m;
  run(&m, "model", path, NULL);
  struct model_emu me = model_emu(&m);
  ck_assert_msg(me.rep == expected_extra(), "model: cpl0.rep_emulations %llu, the rule gives %u",
                (unsigned long long)me.rep, expected_extra());
  ck_assert_uint_eq(me.cpuid3 + me.mmio3, 0);
  if (!itest__kvm_missing()) {
    struct refvmm_result k;
    run(&k, "kvm", path, NULL);
    if (kvm_emulates_ring0(&k)) {
      uint64_t ke = itest__u64_at(&k, "kvm_stats.vcpu.insn_emulation.value");
      printf("%s: REP guest: KVM insn_emulation %llu, model %llu + %llu\n", __FILE__,
             (unsigned long long)ke, (unsigned long long)me.insns0, (unsigned long long)me.rep);
      ck_assert_msg(ke == me.insns0 + me.rep,
                    "KVM insn_emulation %llu != model cpl0.instructions %llu + rep_emulations %llu",
                    (unsigned long long)ke, (unsigned long long)me.insns0,
                    (unsigned long long)me.rep);
    }
    refvmm_result__free(&k);
  }
  refvmm_result__free(&m);
  unlink(path);
}
END_TEST

/* cpuid and mmio from ring 3: each CPUID and each MMIO access one
 * emulation more than the ring-0 instructions around them */
START_TEST(ring3_cpuid_and_mmio_emulations) {
  static const char *const wl[] = {"cpuid", "mmio"};
  static const char *const params[] = {"n=300", "cpl=3", NULL};
  for (int w = 0; w < 2; w++) {
    char img[64];
    snprintf(img, sizeof img, "workloads/build/%s.elf", wl[w]);
    itest__require_image(img);
    struct refvmm_result m;
    run(&m, "model", img, params);
    struct model_emu me = model_emu(&m);
    ck_assert_uint_eq(w == 0 ? me.cpuid3 : me.mmio3, 300);
    ck_assert_uint_eq(w == 0 ? me.mmio3 : me.cpuid3, 0);
    if (!itest__kvm_missing()) {
      struct refvmm_result k;
      run(&k, "kvm", img, params);
      if (kvm_emulates_ring0(&k)) {
        uint64_t ke = itest__u64_at(&k, "kvm_stats.vcpu.insn_emulation.value");
        uint64_t sum = me.insns0 + me.rep + me.cpuid3 + me.mmio3;
        printf("%s: %s cpl=3: KVM insn_emulation %llu, model %llu\n", __FILE__, wl[w],
               (unsigned long long)ke, (unsigned long long)sum);
        ck_assert_msg(ke == sum, "%s: KVM insn_emulation %llu != model %llu", wl[w],
                      (unsigned long long)ke, (unsigned long long)sum);
      }
      refvmm_result__free(&k);
    }
    refvmm_result__free(&m);
  }
}
END_TEST

Suite *suite_emulated_insns(void) {
  Suite *s = suite_create("emulated_insns");
  TCase *tc = tcase_create("emulated_insns");
  tcase_set_timeout(tc, 240);
  tcase_add_test(tc, rep_string_emulations);
  tcase_add_test(tc, ring3_cpuid_and_mmio_emulations);
  suite_add_tcase(s, tc);
  return s;
}
