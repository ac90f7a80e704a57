/* test_model_vs_kvm.c - differential test: each snippet runs in ring 3 on
 * KVM (where this host's hardware executes ring 3 natively: the oracle) and
 * on the model, from the same register states (edge values and random
 * ones) and the same memory; all general registers, the defined RFLAGS bits,
 * the delivered vector, the exception frame and the touched memory must
 * agree. Ring-0 code (a trampoline that IRETQs to the snippet, and HLT
 * stubs per vector) is identical on both. The few cases of what only ring
 * 0 can run (MSRs, CR4, SYSCALL's MSRs) run at CPL0, where KVM is the
 * reference. Every CPUID feature the model advertises has cases here
 * (model_features.h). Skips the runs without /dev/kvm. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model_features.h"
#include "test_model_harness.h"

enum dkind {
  K_FULL,
  K_LOGIC,
  K_ROT,
  K_ROT1,
  K_ROT13,
  K_SHIFT,
  K_SHIFT1,
  K_SHIFT7,
  K_SHXD,
  K_SHXD5,
  K_MUL,
  K_DIV,
  K_BSF,
  K_CNT,
  K_BT,
  K_BMI,  /* ANDN, BLS*, BZHI: AF and PF undefined */
  K_BEXTR /* AF, SF and PF undefined */
};
struct dcase {
  const char *name; /* the assembly */
  const char *code;
  size_t len;
  enum dkind kind;
  int width;           /* operand bytes */
  bool mem;            /* rbx points into the data area */
  const char *feature; /* the CPUID feature it exercises (model_features.h), or NULL */
  bool ring0;          /* runs at CPL0 (what only ring 0 can run), else at CPL3 */
};

/* The cases: tests/gen/model_vs_kvm.cases, written into this table by
 * tests/gen/gen_model_tests.py (`make gen-tests`). */
static const struct dcase dcases[] = {
#include "model_vs_kvm_cases.inc"
};

#define NDCASES ((int)(sizeof dcases / sizeof dcases[0]))
#define STATES  12
#define TRAMP   0x6000ull

#define F_CF    0x1ull
#define F_PF    0x4ull
#define F_AF    0x10ull
#define F_ZF    0x40ull
#define F_SF    0x80ull
#define F_OF    0x800ull
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

/* RFLAGS bits the SDM defines for this case and state. */
static uint64_t defined_flags(const struct dcase *d, uint64_t rcx) {
  unsigned bits = (unsigned)d->width * 8;
  unsigned cnt = (unsigned)(rcx & (d->width == 8 ? 63 : 31));
  uint64_t all = ~0ull;
  switch (d->kind) {
  case K_LOGIC:
    return all & ~F_AF;
  case K_ROT1:
    cnt = 1; /* fall through */
  case K_ROT:
    if (d->kind == K_ROT13) cnt = 13;
    if (!cnt) return all;
    return cnt == 1 ? all : all & ~F_OF;
  case K_ROT13:
    return all & ~F_OF;
  case K_SHIFT1:
    return all & ~F_AF;
  case K_SHIFT7:
    return all & ~(F_AF | F_OF);
  case K_SHIFT:
    if (!cnt) return all;
    if (cnt > bits) return all & ~(F_AF | F_OF | F_CF);
    return cnt == 1 ? all & ~F_AF : all & ~(F_AF | F_OF);
  case K_SHXD5:
    return all & ~(F_AF | F_OF);
  case K_SHXD:
    if (!cnt) return all;
    return cnt == 1 ? all & ~F_AF : all & ~(F_AF | F_OF);
  case K_MUL:
    return all & ~(F_SF | F_ZF | F_AF | F_PF);
  case K_DIV:
    return all & ~F_ARITH;
  case K_BSF:
    return all & ~(F_CF | F_OF | F_SF | F_AF | F_PF);
  case K_CNT:
    return all & ~(F_OF | F_SF | F_AF | F_PF);
  case K_BT:
    return all & ~(F_OF | F_SF | F_AF | F_PF);
  case K_BMI:
    return all & ~(F_AF | F_PF);
  case K_BEXTR:
    return all & ~(F_AF | F_SF | F_PF);
  default:
    return all;
  }
}

static uint64_t rng_state;
static uint64_t rnd(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static const uint64_t edges[] = {0,
                                 1,
                                 2,
                                 0x7f,
                                 0x80,
                                 0xff,
                                 0x7fff,
                                 0x8000,
                                 0xffff,
                                 0x7fffffff,
                                 0x80000000ull,
                                 0xffffffffull,
                                 0x7fffffffffffffffull,
                                 0x8000000000000000ull,
                                 ~0ull,
                                 0x100000000ull};
static const uint64_t counts[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255};

static uint64_t pick(void) {
  uint64_t r = rnd();
  if (r & 1) return edges[(r >> 8) % (sizeof edges / sizeof edges[0])];
  return rnd();
}

static void make_state(const struct dcase *d, int idx, int k, struct tm_state *st) {
  rng_state = (uint64_t)idx * 1000003u + (uint64_t)k * 7919u + 1;
  memset(st, 0, sizeof *st);
  for (int i = 0; i < 16; i++)
    st->gpr[i] = pick();
  st->gpr[1] =
      (k < 8) ? counts[(k * 5 + idx) % 16] | (rnd() & ~0xffull & -(uint64_t)(k & 1)) : pick();
  st->gpr[4] = TM_STACK;
  if (d->mem) st->gpr[3] = TM_DATA + 64;
  st->rflags = (rnd() & F_ARITH) | 0x202; /* ring 3 runs with IF=1 (PVM shows it anyway) */
  st->cpl = d->ring0 ? 0 : 3;
}

static void fill_data(uint8_t *ram, int idx) {
  rng_state = (uint64_t)idx * 31 + 5;
  for (unsigned i = 0; i < 4096; i += 8) {
    uint64_t v = rnd();
    memcpy(ram + TM_DATA + i, &v, 8);
  }
}

/* ---- KVM side ------------------------------------------------------------------------ */
struct kvm_m {
  int kvm, vm, vcpu;
  struct kvm_run *run;
  size_t run_size;
  uint8_t *ram;
};

static int kvm_open_m(struct kvm_m *k) {
  memset(k, 0, sizeof *k);
  k->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (k->kvm < 0) return -errno;
  k->vm = ioctl(k->kvm, KVM_CREATE_VM, 0);
  if (k->vm < 0) return -errno;
  k->ram = mmap(NULL, TM_RAM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (k->ram == MAP_FAILED) return -errno;
  struct kvm_userspace_memory_region r = {.slot = 0,
                                          .guest_phys_addr = 0,
                                          .memory_size = TM_RAM,
                                          .userspace_addr = (uint64_t)(uintptr_t)k->ram};
  if (ioctl(k->vm, KVM_SET_USER_MEMORY_REGION, &r) < 0) return -errno;
  k->vcpu = ioctl(k->vm, KVM_CREATE_VCPU, 0);
  if (k->vcpu < 0) return -errno;
  int sz = ioctl(k->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  k->run_size = (size_t)sz;
  k->run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu, 0);
  if (k->run == MAP_FAILED) return -errno;
  struct kvm_cpuid2 *c = calloc(1, sizeof *c + 128 * sizeof(struct kvm_cpuid_entry2));
  c->nent = 128;
  if (ioctl(k->kvm, KVM_GET_SUPPORTED_CPUID, c) == 0) ioctl(k->vcpu, KVM_SET_CPUID2, c);
  free(c);
  return 0;
}

static void kvm_close_m(struct kvm_m *k) {
  if (k->run && k->run != MAP_FAILED) munmap(k->run, k->run_size);
  if (k->ram && k->ram != MAP_FAILED) munmap(k->ram, TM_RAM);
  if (k->vcpu > 0) close(k->vcpu);
  if (k->vm > 0) close(k->vm);
  if (k->kvm > 0) close(k->kvm);
}

/* IRETQ to the snippet at the state's CPL: ring 3 (user selectors) or 0 */
static void put_tramp(uint8_t *ram, const struct tm_state *st) {
  uint8_t *p = ram + TRAMP;
  uint32_t rsp = (uint32_t)st->gpr[4], fl = (uint32_t)st->rflags, rip = (uint32_t)TM_CODE;
  uint8_t ss = st->cpl ? 0x1b : 0x10, cs = st->cpl ? 0x23 : 0x08;
  *p++ = 0x6a, *p++ = ss;                  /* push ss */
  *p++ = 0x68, memcpy(p, &rsp, 4), p += 4; /* push rsp */
  *p++ = 0x68, memcpy(p, &fl, 4), p += 4;  /* push rflags */
  *p++ = 0x6a, *p++ = cs;                  /* push cs */
  *p++ = 0x68, memcpy(p, &rip, 4), p += 4; /* push rip */
  *p++ = 0x48, *p++ = 0xcf;                /* iretq */
}

static int kvm_run_state(struct kvm_m *k, const struct tm_state *st, struct tm_result *r) {
  struct kvm_sregs s;
  if (ioctl(k->vcpu, KVM_GET_SREGS, &s) < 0) return -errno;
  struct kvm_segment code = {.base = 0,
                             .limit = 0xffffffff,
                             .selector = 0x08,
                             .type = 11,
                             .present = 1,
                             .dpl = 0,
                             .db = 0,
                             .s = 1,
                             .l = 1,
                             .g = 1};
  struct kvm_segment data = {.base = 0,
                             .limit = 0xffffffff,
                             .selector = 0x10,
                             .type = 3,
                             .present = 1,
                             .dpl = 0,
                             .db = 1,
                             .s = 1,
                             .l = 0,
                             .g = 1};
  struct kvm_segment tr = {
      .base = TM_TSS, .limit = 0x67, .selector = 0x28, .type = 11, .present = 1, .dpl = 0, .s = 0};
  s.cs = code;
  s.ds = s.es = s.fs = s.gs = s.ss = data;
  s.tr = tr;
  s.gdt.base = TM_GDT, s.gdt.limit = 0x37;
  s.idt.base = TM_IDT, s.idt.limit = 0xfff;
  s.cr0 = 0x80050033, s.cr3 = TM_PML4, s.cr4 = 0x620, s.efer = 0xd01;
  if (ioctl(k->vcpu, KVM_SET_SREGS, &s) < 0) return -errno;
  struct kvm_regs g;
  memset(&g, 0, sizeof g);
  __u64 *gp[16] = {&g.rax, &g.rcx, &g.rdx, &g.rbx, &g.rsp, &g.rbp, &g.rsi, &g.rdi,
                   &g.r8,  &g.r9,  &g.r10, &g.r11, &g.r12, &g.r13, &g.r14, &g.r15};
  for (int i = 0; i < 16; i++)
    *gp[i] = st->gpr[i];
  g.rsp = TM_KSTACK;
  g.rip = TRAMP;
  g.rflags = 2;
  put_tramp(k->ram, st);
  if (ioctl(k->vcpu, KVM_SET_REGS, &g) < 0) return -errno;
  for (int i = 0; i < 8; i++) {
    if (ioctl(k->vcpu, KVM_RUN, 0) < 0) return -errno;
    if (k->run->exit_reason == KVM_EXIT_HLT) break;
    if (k->run->exit_reason != KVM_EXIT_INTR) return -EPROTO;
  }
  if (k->run->exit_reason != KVM_EXIT_HLT) return -EPROTO;
  if (ioctl(k->vcpu, KVM_GET_REGS, &g) < 0) return -errno;
  if (ioctl(k->vcpu, KVM_GET_SREGS, &s) < 0) return -errno;
  memset(r, 0, sizeof *r);
  for (int i = 0; i < 16; i++)
    r->gpr[i] = *gp[i];
  r->cr2 = s.cr2;
  r->vector = -1;
  if (g.rip > TM_STUBS && g.rip <= TM_STUBS + 16 * 256 && ((g.rip - 1 - TM_STUBS) % 16) == 0)
    tm_parse_frame(k->ram, g.rsp, (int)((g.rip - 1 - TM_STUBS) / 16), r);
  return 0;
}

/* Whether this KVM offers feature f to its guests (KVM_GET_SUPPORTED_CPUID). */
static bool kvm_offers(const struct model_feature *f) {
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  struct kvm_cpuid2 *c = calloc(1, sizeof *c + 256 * sizeof(struct kvm_cpuid_entry2));
  c->nent = 256;
  bool yes = false;
  if (ioctl(fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
    for (unsigned i = 0; i < c->nent; i++) {
      const struct kvm_cpuid_entry2 *e = &c->entries[i];
      if (e->function != f->leaf || e->index != f->sub) continue;
      uint32_t r[4] = {e->eax, e->ebx, e->ecx, e->edx};
      yes = (r[f->reg] >> f->bit) & 1;
    }
  free(c);
  close(fd);
  return yes;
}

static bool have_kvm(void) {
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  close(fd);
  return true;
}

static const char *const gpr_names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

/* Every feature bit the model's CPUID sets has cases here (the table in
 * model_features.c lists them all: test_model_exec.c fails on a bit it
 * lacks); they run in test_diff. */
START_TEST(test_cpuid_features_kvm) {
  char where[48];
  for (const struct model_feature *f = model_features; f->name; f++) {
    if (!model_features__set(f)) continue; /* test_model_exec.c reports it */
    int found = 0;
    for (int k = 0; k < NDCASES; k++)
      found += dcases[k].feature && strcmp(dcases[k].feature, f->name) == 0;
    ck_assert_msg(found > 0,
                  "feature %s (%s) is advertised but tests/gen/model_vs_kvm.cases has no case "
                  "with 'feature=%s'",
                  f->name,
                  model_features__where(f->leaf, f->sub, f->reg, f->bit, where, sizeof where),
                  f->name);
  }
  struct cpuid_bit bits[256];
  int n = model_features__advertised(bits, 256);
  for (int i = 0; i < n; i++)
    ck_assert_msg(model_features__find(bits[i].leaf, bits[i].sub, bits[i].reg, bits[i].bit),
                  "%s is set by the model's CPUID but has no entry in model_features.c",
                  model_features__where(bits[i].leaf, bits[i].sub, bits[i].reg, bits[i].bit, where,
                                        sizeof where));
  for (int k = 0; k < NDCASES; k++)
    ck_assert_msg(!dcases[k].feature || model_features__named(dcases[k].feature),
                  "case '%s' names feature '%s', which model_features.c does not list",
                  dcases[k].name, dcases[k].feature);
}
END_TEST

START_TEST(test_diff) {
  if (!have_kvm()) {
    if (_i == 0) printf("test_model_vs_kvm: skipped: /dev/kvm cannot be opened\n");
    return;
  }
  const struct dcase *d = &dcases[_i];
  const struct model_feature *f = d->feature ? model_features__named(d->feature) : NULL;
  if (f && f->kvm_gated && !kvm_offers(f)) {
    printf("test_model_vs_kvm: %s: skipped: this KVM does not offer %s to its guests, and KVM "
           "decides its outcome from the guest's CPUID\n",
           d->name, f->name);
    return;
  }
  struct kvm_m k;
  int rc = kvm_open_m(&k);
  ck_assert_msg(rc == 0, "KVM setup failed: %s", strerror(-rc));
  tm_build_image(k.ram, (const uint8_t *)d->code, d->len);
  struct tm_state st0 = {.cpl = 3};
  struct tm *t = tm_new((const uint8_t *)d->code, d->len, &st0);
  for (int s = 0; s < STATES; s++) {
    struct tm_state st;
    make_state(d, _i, s, &st);
    fill_data(k.ram, _i);
    fill_data(t->ram, _i);
    struct tm_result hw, mo;
    rc = kvm_run_state(&k, &st, &hw);
    ck_assert_msg(rc == 0, "%s: KVM run failed: %s (exit %u)", d->name, strerror(-rc),
                  k.run->exit_reason);
    /* the model starts in ring 3 directly, with the flags IRETQ would load */
    st.keep_if = true;
    tm_set_state(t, &st);
    tm_run(t, &mo);
    uint64_t mask = defined_flags(d, st.gpr[1]) & 0x3fffffull & ~0x10000ull; /* RF aside */
    char where[160];
    snprintf(where, sizeof where, "%s [state %d, rcx 0x%llx, rflags 0x%llx]", d->name, s,
             (unsigned long long)st.gpr[1], (unsigned long long)st.rflags);
    ck_assert_msg(mo.vector == hw.vector, "%s: vector model %d, hw %d (hw err 0x%llx cr2 0x%llx)",
                  where, mo.vector, hw.vector, (unsigned long long)hw.err,
                  (unsigned long long)hw.cr2);
    ck_assert_msg(mo.rip == hw.rip, "%s: rip model 0x%llx, hw 0x%llx", where,
                  (unsigned long long)mo.rip, (unsigned long long)hw.rip);
    if (tm_vector_has_error(hw.vector))
      ck_assert_msg(mo.err == hw.err, "%s: error code model 0x%llx, hw 0x%llx", where,
                    (unsigned long long)mo.err, (unsigned long long)hw.err);
    if (hw.vector == 14)
      ck_assert_msg(mo.cr2 == hw.cr2, "%s: cr2 model 0x%llx, hw 0x%llx", where,
                    (unsigned long long)mo.cr2, (unsigned long long)hw.cr2);
    for (int i = 0; i < 16; i++)
      ck_assert_msg(mo.gpr[i] == hw.gpr[i], "%s: %s model 0x%llx, hw 0x%llx", where, gpr_names[i],
                    (unsigned long long)mo.gpr[i], (unsigned long long)hw.gpr[i]);
    ck_assert_msg((mo.rflags & mask) == (hw.rflags & mask),
                  "%s: rflags model 0x%llx, hw 0x%llx (compared 0x%llx)", where,
                  (unsigned long long)mo.rflags, (unsigned long long)hw.rflags,
                  (unsigned long long)mask);
    ck_assert_msg(memcmp(mo.data, hw.data, TM_DATA_LEN) == 0, "%s: data area differs", where);
  }
  tm_free(t);
  kvm_close_m(&k);
}
END_TEST

Suite *suite_model_vs_kvm(void) {
  Suite *s = suite_create("model_vs_kvm");
  TCase *tc = tcase_create("ring3");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_diff, 0, NDCASES);
  tcase_add_test(tc, test_cpuid_features_kvm);
  suite_add_tcase(s, tc);
  return s;
}
