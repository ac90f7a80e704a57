/* test_model_exec.c - per-instruction tests of the model CPU. Each case of
 * tests/unit/model_exec_cases.inc is a snippet (assembly text and its bytes),
 * a register state to start from and the outcome the host CPU produced when
 * it ran the snippet natively in ring 3: the exception that ended it, RIP,
 * every general register, the compared RFLAGS bits and the data area. That
 * file is generated from tests/gen/model_exec.cases (tests/gen/README.md). The
 * ring-0 cases and the events below are written by hand: no ring-3 reference
 * can run them, so their values come from the SDM and this harness's machine. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "model_features.h"
#include "refvmm/model/cpu/model_msr.h"
#include "refvmm/model/cpu/model_sys.h"
#include "test_model_harness.h"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
#define F_CF 0x1ull
#define F_PF 0x4ull
#define F_AF 0x10ull
#define F_ZF 0x40ull
#define F_SF 0x80ull
#define F_DF 0x400ull
#define F_OF 0x800ull

struct xcase {
  const char *name, *text; /* the case's name and its assembly */
  const char *code;
  size_t len;
  uint64_t in[16], rflags_in;
  int vector;   /* the exception that ended the run (6: the UD2 after the snippet) */
  unsigned rip; /* its frame RIP, as an offset from TM_CODE */
  uint64_t err; /* its error code, where the vector has one */
  uint64_t cr2; /* for #PF */
  uint64_t out[16];
  uint64_t flags_mask, rflags_out;
  const char *data; /* the data area's first data_len bytes; the rest stays 0 */
  unsigned data_len;
  const char *feature; /* the CPUID feature it exercises (model_features.h), or NULL */
};

static const struct xcase cases[] = {
#include "model_exec_cases.inc"
};

#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static const char *const reg_names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

static void check_snippet(const struct xcase *x) {
  struct tm_state st = {.rflags = x->rflags_in | 0x202, .cpl = 3, .keep_if = true};
  memcpy(st.gpr, x->in, sizeof st.gpr);
  struct tm_result r;
  int stop = tm_model_exec((const uint8_t *)x->code, x->len, &st, &r);
  ck_assert_msg(stop == MSTOP_HLT, "%s (%s): run stopped with %d, not in a vector stub", x->name,
                x->text, stop);
  ck_assert_msg(r.vector == x->vector, "%s (%s): vector %d, the CPU raised %d (rip 0x%llx)",
                x->name, x->text, r.vector, x->vector, (unsigned long long)r.rip);
  ck_assert_msg(r.rip == TM_CODE + x->rip, "%s (%s): frame rip +%lld, the CPU's +%u", x->name,
                x->text, (long long)(r.rip - TM_CODE), x->rip);
  for (int i = 0; i < 16; i++)
    ck_assert_msg(r.gpr[i] == x->out[i], "%s (%s): %s = 0x%llx, the CPU's 0x%llx", x->name, x->text,
                  reg_names[i], (unsigned long long)r.gpr[i], (unsigned long long)x->out[i]);
  ck_assert_msg((r.rflags & x->flags_mask) == x->rflags_out,
                "%s (%s): rflags 0x%llx, the CPU's 0x%llx under mask 0x%llx", x->name, x->text,
                (unsigned long long)r.rflags, (unsigned long long)x->rflags_out,
                (unsigned long long)x->flags_mask);
  if (tm_vector_has_error(x->vector))
    ck_assert_msg(r.err == x->err, "%s (%s): error code 0x%llx, the CPU's 0x%llx", x->name, x->text,
                  (unsigned long long)r.err, (unsigned long long)x->err);
  if (x->vector == 14)
    ck_assert_msg(r.cr2 == x->cr2, "%s (%s): cr2 0x%llx, the CPU's 0x%llx", x->name, x->text,
                  (unsigned long long)r.cr2, (unsigned long long)x->cr2);
  uint8_t want[TM_DATA_LEN] = {0};
  memcpy(want, x->data ? x->data : "", x->data_len);
  for (unsigned i = 0; i < TM_DATA_LEN; i++)
    ck_assert_msg(r.data[i] == want[i], "%s (%s): data+%u = 0x%02x, the CPU's 0x%02x", x->name,
                  x->text, i, r.data[i], want[i]);
}

START_TEST(test_snippet) {
  check_snippet(&cases[_i]);
}
END_TEST

/* The model advertises in CPUID exactly what it implements: every feature
 * bit it sets has an entry in model_features.c, and every entry that a
 * ring-3 process can show has cases here, run against the host CPU's
 * outcome (the entries a process cannot show run on KVM, in
 * test_model_vs_kvm.c); an entry whose bit the model does not set, or a
 * case naming a feature the table lacks, fails too. */
START_TEST(test_cpuid_features_native) {
  struct cpuid_bit bits[256];
  int n = model_features__advertised(bits, 256);
  ck_assert_int_gt(n, 0);
  char where[48];
  for (int i = 0; i < n; i++) {
    const struct model_feature *f =
        model_features__find(bits[i].leaf, bits[i].sub, bits[i].reg, bits[i].bit);
    ck_assert_msg(f,
                  "%s is set by the model's CPUID but has no entry in model_features.c (and "
                  "so no case comparing it with a real CPU)",
                  model_features__where(bits[i].leaf, bits[i].sub, bits[i].reg, bits[i].bit, where,
                                        sizeof where));
    if (f->no_native) continue;
    int ran = 0;
    for (int k = 0; k < NCASES; k++)
      if (cases[k].feature && strcmp(cases[k].feature, f->name) == 0) {
        check_snippet(&cases[k]);
        ran++;
      }
    ck_assert_msg(ran > 0,
                  "feature %s (%s) is advertised but tests/gen/model_exec.cases has no case with "
                  "'feature %s'",
                  f->name,
                  model_features__where(f->leaf, f->sub, f->reg, f->bit, where, sizeof where),
                  f->name);
  }
  for (const struct model_feature *f = model_features; f->name; f++)
    ck_assert_msg(model_features__set(f),
                  "model_features.c lists %s (%s), which the model's CPUID does not set", f->name,
                  model_features__where(f->leaf, f->sub, f->reg, f->bit, where, sizeof where));
  for (int k = 0; k < NCASES; k++)
    ck_assert_msg(!cases[k].feature || model_features__named(cases[k].feature),
                  "case %s names feature '%s', which model_features.c does not list", cases[k].name,
                  cases[k].feature);
}
END_TEST

/* AVX is not advertised: a VEX encoding of it is #UD (vpxor xmm0, xmm0, xmm0). */
START_TEST(test_avx_ud) {
  static const char code[] = "\xc5\xf9\xef\xc0";
  struct tm_state st = {.cpl = 3};
  struct tm_result r;
  ck_assert_int_eq(tm_model_exec((const uint8_t *)code, sizeof code - 1, &st, &r), MSTOP_HLT);
  ck_assert_int_eq(r.vector, 6);
  ck_assert_uint_eq(r.rip, TM_CODE);
}
END_TEST

/* Ring 0 and this harness's own machine (expected values from the SDM and
 * from tm_set_state: CR0/CR4, the GDT, the IDT gate of vector 0x80). */
static void run0(const char *code, size_t len, const struct tm_state *st, struct tm_result *r,
                 int vector, unsigned rip) {
  int stop = tm_model_exec((const uint8_t *)code, len, st, r);
  ck_assert_int_eq(stop, MSTOP_HLT);
  ck_assert_int_eq(r->vector, vector);
  ck_assert_uint_eq(r->rip, TM_CODE + rip);
}

/* mov ecx, 0xc0000102; mov eax, 0x11223344; mov edx, 0x55; wrmsr; xor eax, eax;
 * xor edx, edx; rdmsr; swapgs; mov ecx, 0xc0000101; rdmsr: KERNEL_GS_BASE
 * written, read back, swapped into GS_BASE */
START_TEST(test_ring0_msr_swapgs) {
  static const char code[] = "\xb9\x02\x01\x00\xc0\xb8\x44\x33\x22\x11\xba\x55\x00\x00\x00\x0f"
                             "\x30\x31\xc0\x31\xd2\x0f\x32\x0f\x01\xf8\xb9\x01\x01\x00\xc0\x0f\x32";
  struct tm_state st = {.cpl = 0};
  struct tm_result r;
  run0(code, sizeof code - 1, &st, &r, 6, 33);
  ck_assert_uint_eq(r.gpr[RAX], 0x11223344);
  ck_assert_uint_eq(r.gpr[RDX], 0x55);
}
END_TEST

/* mov ecx, 0x12345; rdmsr: an MSR the model does not have is #GP(0) */
START_TEST(test_ring0_rdmsr_unknown) {
  static const char code[] = "\xb9\x45\x23\x01\x00\x0f\x32";
  struct tm_state st = {.cpl = 0};
  struct tm_result r;
  run0(code, sizeof code - 1, &st, &r, 13, 5);
  ck_assert_uint_eq(r.err, 0);
}
END_TEST

/* xor eax, eax; cpuid: the model is a GenuineIntel CPU with max leaf 0x16 */
START_TEST(test_ring0_cpuid_vendor) {
  static const char code[] = "\x31\xc0\x0f\xa2";
  struct tm_state st = {.cpl = 0};
  struct tm_result r;
  run0(code, sizeof code - 1, &st, &r, 6, 4);
  ck_assert_uint_eq(r.gpr[RAX], 0x16);
  ck_assert_uint_eq(r.gpr[RBX], 0x756e6547); /* "Genu" */
  ck_assert_uint_eq(r.gpr[RDX], 0x49656e69); /* "ineI" */
  ck_assert_uint_eq(r.gpr[RCX], 0x6c65746e); /* "ntel" */
}
END_TEST

/* push 0x1b; push 0x2ff000; push 0x202; push 0x23; lea rax, [rip+1f]; push rax;
 * iretq; 1: mov ecx, 3: IRETQ to ring 3 loads the new stack */
START_TEST(test_ring0_iretq_to_user) {
  static const char code[] = "\x6a\x1b\x68\x00\xf0\x2f\x00\x68\x02\x02\x00\x00\x6a\x23\x48"
                             "\x8d\x05\x03\x00\x00\x00\x50\x48\xcf\xb9\x03\x00\x00\x00";
  struct tm_state st = {.cpl = 0};
  st.gpr[RSP] = TM_STACK;
  struct tm_result r;
  run0(code, sizeof code - 1, &st, &r, 6, 29);
  ck_assert_uint_eq(r.gpr[RCX], 3);
  ck_assert_uint_eq(r.gpr[RSP], 0x2ff000);
}
END_TEST

/* sgdt [rbx]: the harness's GDT (limit 0x37 at 0x1000) */
START_TEST(test_ring0_sgdt) {
  static const char code[] = "\x0f\x01\x03";
  struct tm_state st = {.cpl = 0};
  st.gpr[RBX] = TM_DATA;
  struct tm_result r;
  run0(code, sizeof code - 1, &st, &r, 6, 3);
  ck_assert_mem_eq(r.data, "\x37\x00\x00\x10\x00\x00\x00\x00\x00\x00", 10);
}
END_TEST

/* mov rax, cr0; mov rbx, cr4; mov ecx, 5; mov cr8, rcx; mov rdx, cr8 */
START_TEST(test_ring0_mov_cr) {
  static const char code[] = "\x0f\x20\xc0\x0f\x20\xe3\xb9\x05\x00\x00\x00\x44\x0f\x22\xc1\x44"
                             "\x0f\x20\xc2";
  struct tm_state st = {.cpl = 0};
  struct tm_result r;
  run0(code, sizeof code - 1, &st, &r, 6, 19);
  ck_assert_uint_eq(r.gpr[RAX], 0x80050033);
  ck_assert_uint_eq(r.gpr[RBX], 0x620);
  ck_assert_uint_eq(r.gpr[RDX], 5);
}
END_TEST

/* mov eax, 0x20; bts eax, 30; mov cr4, rax: a reserved CR4 bit is #GP(0) */
START_TEST(test_ring0_cr4_reserved) {
  static const char code[] = "\xb8\x20\x00\x00\x00\x0f\xba\xe8\x1e\x0f\x22\xe0";
  struct tm_state st = {.cpl = 0};
  struct tm_result r;
  run0(code, sizeof code - 1, &st, &r, 13, 9);
  ck_assert_uint_eq(r.err, 0);
}
END_TEST

/* int 0x80 from ring 3: the harness's gate 0x80 has DPL 3 (on Linux, natively,
 * it is the 32-bit system call) */
START_TEST(test_int80_gate_dpl3) {
  static const char code[] = "\xcd\x80";
  struct tm_state st = {.cpl = 3};
  struct tm_result r;
  run0(code, sizeof code - 1, &st, &r, 128, 2);
}
END_TEST

/* A fault in the middle of a REP leaves the registers at the faulting
 * iteration, so the instruction restarts where it stopped. */
START_TEST(test_rep_fault_mid_way) {
  static const uint8_t code[] = {0xf3, 0xaa}; /* rep stosb */
  struct tm_state st = {.cpl = 3};
  st.gpr[0] = 0x5a;
  st.gpr[1] = 32;
  st.gpr[7] = (8u << 20) - 16; /* last 16 bytes of RAM, then unmapped */
  struct tm_result r;
  tm_model_exec(code, sizeof code, &st, &r);
  ck_assert_int_eq(r.vector, 14);
  ck_assert_uint_eq(r.cr2, 8u << 20);
  ck_assert_uint_eq(r.gpr[1], 16);
  ck_assert_uint_eq(r.gpr[7], 8u << 20);
  ck_assert_uint_eq(r.rip, TM_CODE);
}
END_TEST

/* Single-step: TF set by POPF traps after the next instruction. */
START_TEST(test_trap_flag) {
  /* pushfq; or qword [rsp], 0x100; popfq; nop; nop */
  static const uint8_t code[] = {0x9c, 0x48, 0x81, 0x0c, 0x24, 0x00,
                                 0x01, 0x00, 0x00, 0x9d, 0x90, 0x90};
  struct tm_state st = {.cpl = 3};
  struct tm_result r;
  tm_model_exec(code, sizeof code, &st, &r);
  ck_assert_int_eq(r.vector, 1);
  ck_assert_uint_eq(r.rip, TM_CODE + 11); /* after the first NOP */
}
END_TEST

/* #PF while delivering #PF (kernel stack unmapped) becomes #DF on IST1. */
START_TEST(test_double_fault) {
  static const uint8_t code[] = {0x0f, 0x0b};
  struct tm_state st = {.cpl = 3};
  struct tm *t = tm_new(code, sizeof code, &st);
  uint64_t bad = 0x900000;
  memcpy(t->ram + TM_TSS + 4, &bad, 8); /* RSP0 unmapped */
  struct tm_result r;
  tm_run(t, &r);
  ck_assert_int_eq(r.stop, MSTOP_HLT);
  ck_assert_int_eq(r.vector, 8);
  ck_assert_uint_eq(r.err, 0);
  ck_assert_uint_eq(t->c->cnt.exceptions, 1);
  tm_free(t);
}
END_TEST

/* No usable IDT: #UD -> #GP -> #DF -> triple fault, the run ends. */
START_TEST(test_triple_fault) {
  static const uint8_t code[] = {0x0f, 0x0b};
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(code, sizeof code, &st);
  t->c->idtr.limit = 0;
  struct tm_result r;
  int s = tm_run(t, &r);
  ck_assert_int_eq(s, MSTOP_SHUTDOWN);
  ck_assert_msg(strstr(t->c->msg, "triple fault") != NULL, "message: %s", t->c->msg);
  tm_free(t);
}
END_TEST

/* Unknown opcode with no handler: the message carries the bytes and RIP. */
START_TEST(test_ud_message) {
  static const uint8_t code[] = {0x0f, 0x38, 0xf0, 0x07}; /* movbe: not modeled */
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(code, sizeof code, &st);
  t->c->idtr.limit = 0;
  struct tm_result r;
  tm_run(t, &r);
  ck_assert_msg(strstr(t->c->msg, "0f 38 f0") != NULL, "message: %s", t->c->msg);
  tm_free(t);
}
END_TEST

/* Self-modifying code: a store into an already decoded page is seen. */
START_TEST(test_self_modifying_code) {
  /* loop twice over "mov eax, imm32", patching the immediate in between:
   *   0: b8 01 00 00 00     mov eax, 1
   *   5: 01 c3              add ebx, eax
   *   7: c6 05 f3 ff ff ff 05  mov byte [rip-13], 5   (-> imm at offset 1)
   *  14: ff c9              dec ecx
   *  16: 75 ee              jnz 0 */
  static const uint8_t code[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x01, 0xc3, 0xc6, 0x05,
                                 0xf3, 0xff, 0xff, 0xff, 0x05, 0xff, 0xc9, 0x75, 0xee};
  struct tm_state st = {.cpl = 0};
  st.gpr[1] = 2;
  struct tm_result r;
  tm_model_exec(code, sizeof code, &st, &r);
  ck_assert_int_eq(r.vector, 6);
  ck_assert_uint_eq(r.gpr[3], 6); /* 1 + 5 */
}
END_TEST

/* Counters: instructions retired and memory references are exact. */
START_TEST(test_counters) {
  /* mov ecx, 100; 1: add [rbx], eax; dec ecx; jnz 1b   (then ud2) */
  static const uint8_t code[] = {0xb9, 0x64, 0x00, 0x00, 0x00, 0x01, 0x03, 0xff, 0xc9, 0x75, 0xfa};
  struct tm_state st = {.cpl = 0};
  st.gpr[3] = TM_DATA;
  struct tm *t = tm_new(code, sizeof code, &st);
  struct tm_result r;
  tm_run(t, &r);
  ck_assert_int_eq(r.vector, 6);
  ck_assert_uint_eq(t->c->cnt.instructions, 1 + 3 * 100 + 1); /* + the stub's HLT */
  ck_assert_uint_eq(t->c->cnt.mem_reads, 100 + 3);            /* + IDT gate (2), CS descriptor */
  ck_assert_uint_eq(t->c->cnt.mem_writes, 100 + 5);           /* + the #UD frame */
  ck_assert_uint_eq(model_cpu__class_count(&t->c->cnt, IC_BRANCH), 100);
  tm_free(t);
}
END_TEST

/* The platform of a Linux boot adds its CPUID bits: the local APIC, the
 * TSC-deadline timer, ARAT, the TSC rate (leaf 0x15) and
 * IA32_ARCH_CAPABILITIES, whose MSR reads #GP without it as on a CPU that
 * does not enumerate it. */
START_TEST(test_platform_cpuid) {
  static struct model_cpu c;
  memset(&c, 0, sizeof c);
  uint32_t o[4];
  uint64_t v;
  model_sys__cpuid(&c, 1, 0, o);
  ck_assert_uint_eq(o[3] & (1u << 9), 0);  /* APIC */
  ck_assert_uint_eq(o[2] & (1u << 24), 0); /* TSC-deadline */
  model_sys__cpuid(&c, 7, 0, o);
  ck_assert_uint_eq(o[3] & (1u << 29), 0);
  ck_assert_int_ne(model_msr__read(&c, 0x10a, &v), 0);
  model_sys__cpuid(&c, 0x15, 0, o);
  ck_assert_uint_eq(o[1], 0);
  c.plat.apic = true;
  c.plat.tsc_hz = 4000000000ull;
  model_sys__cpuid(&c, 1, 0, o);
  ck_assert_uint_ne(o[3] & (1u << 9), 0);
  ck_assert_uint_ne(o[2] & (1u << 24), 0);
  model_sys__cpuid(&c, 6, 0, o);
  ck_assert_uint_ne(o[0] & (1u << 2), 0); /* ARAT */
  model_sys__cpuid(&c, 7, 0, o);
  ck_assert_uint_ne(o[3] & (1u << 29), 0);
  ck_assert_int_eq(model_msr__read(&c, 0x10a, &v), 0);
  ck_assert_uint_ne(v & 1, 0); /* RDCL_NO: no page-table isolation needed */
  model_sys__cpuid(&c, 0x15, 0, o);
  ck_assert_uint_eq((uint64_t)o[2] * o[1] / o[0], 4000000000ull); /* crystal x EBX / EAX */
}
END_TEST

Suite *suite_model_exec(void) {
  Suite *s = suite_create("model_exec");
  TCase *tc = tcase_create("snippets");
  tcase_add_loop_test(tc, test_snippet, 0, NCASES);
  tcase_add_test(tc, test_cpuid_features_native);
  tcase_add_test(tc, test_avx_ud);
  tcase_add_test(tc, test_platform_cpuid);
  suite_add_tcase(s, tc);
  TCase *t0 = tcase_create("ring0");
  tcase_add_test(t0, test_ring0_msr_swapgs);
  tcase_add_test(t0, test_ring0_rdmsr_unknown);
  tcase_add_test(t0, test_ring0_cpuid_vendor);
  tcase_add_test(t0, test_ring0_iretq_to_user);
  tcase_add_test(t0, test_ring0_sgdt);
  tcase_add_test(t0, test_ring0_mov_cr);
  tcase_add_test(t0, test_ring0_cr4_reserved);
  tcase_add_test(t0, test_int80_gate_dpl3);
  suite_add_tcase(s, t0);
  TCase *te = tcase_create("events");
  tcase_add_test(te, test_rep_fault_mid_way);
  tcase_add_test(te, test_trap_flag);
  tcase_add_test(te, test_double_fault);
  tcase_add_test(te, test_triple_fault);
  tcase_add_test(te, test_ud_message);
  tcase_add_test(te, test_self_modifying_code);
  tcase_add_test(te, test_counters);
  suite_add_tcase(s, te);
  return s;
}
