/* test_model_strio.c - INS/OUTS on the model CPU with this file as the VMM:
 * the exits (one per OUTS element; INS batches of min(RCX, 1024 / size,
 * bytes to the page end or, with DF=1, from the page start), at least 1),
 * the data in order, RSI/RDI/RCX, one retired instruction per REP, a fault
 * in the middle of a batch, the I/O permission check. The same counts
 * against KVM with real guests: tests/integration/test_string_io.c. */
#include <check.h>
#include <string.h>

#include "refvmm/model/cpu/model_cpu.h"
#include "refvmm/model/cpu/model_mmu.h"
#include "test_model_harness.h"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI };

#define MAX_EXITS 64
struct vmm {
  int n;
  struct {
    uint16_t port;
    uint8_t size, write;
    uint32_t count;
    uint8_t data[1024];
  } ex[MAX_EXITS];
  uint32_t next; /* the value of the next element an IN reads */
};

/* Run to the appended UD2 (or another exception) answering I/O exits: an
 * IN reads 1, 2, 3, ... (each element the next number, `size` bytes). */
static void run(struct tm *t, struct vmm *v, struct tm_result *r) {
  struct model_cpu *c = t->c;
  enum model_stop s;
  for (;;) {
    s = model_cpu__run(c, 1u << 20);
    if (s == MSTOP_SLICE) continue;
    if (s != MSTOP_IO) break;
    ck_assert_int_lt(v->n, MAX_EXITS);
    uint32_t count;
    uint8_t *data = model_cpu__io_data(c, &count);
    ck_assert_uint_ge(count, 1);
    ck_assert_uint_le((uint64_t)count * c->io.size, 1024);
    if (!c->io.write)
      for (uint32_t i = 0; i < count; i++) {
        uint32_t x = ++v->next;
        memcpy(data + (size_t)i * c->io.size, &x, c->io.size);
      }
    v->ex[v->n].port = c->io.port;
    v->ex[v->n].size = c->io.size;
    v->ex[v->n].write = c->io.write;
    v->ex[v->n].count = count;
    memcpy(v->ex[v->n].data, data, (size_t)count * c->io.size);
    v->n++;
    model_cpu__complete_io(c);
  }
  memset(r, 0, sizeof *r);
  memcpy(r->gpr, c->gpr, sizeof r->gpr);
  r->stop = (int)s;
  r->vector = -1;
  r->cr2 = c->cr2;
  if (s == MSTOP_HLT && c->rip > TM_STUBS && c->rip <= TM_STUBS + 16 * 256)
    tm_parse_frame(t->ram, c->gpr[RSP], (int)((c->rip - 1 - TM_STUBS) / 16), r);
}

static struct tm *machine(const uint8_t *code, size_t len, int cpl, uint64_t rcx, uint64_t rsi,
                          uint64_t rdi, uint64_t rflags) {
  struct tm_state st = {.cpl = cpl, .rflags = rflags};
  st.gpr[RCX] = rcx;
  st.gpr[RDX] = 0x1234; /* the port */
  st.gpr[RSI] = rsi;
  st.gpr[RDI] = rdi;
  return tm_new(code, len, &st);
}

/* rep outsb of 5 bytes: 5 exits of one byte each, in order; one instruction */
START_TEST(rep_outs_one_exit_per_element) {
  static const uint8_t code[] = {0xf3, 0x6e};
  struct tm *t = machine(code, sizeof code, 0, 5, TM_DATA, 0, 0);
  memcpy(t->ram + TM_DATA, "hello", 5);
  struct vmm v = {0};
  struct tm_result r;
  run(t, &v, &r);
  ck_assert_int_eq(r.vector, 6); /* the UD2 after it */
  ck_assert_int_eq(v.n, 5);
  for (int i = 0; i < 5; i++) {
    ck_assert_uint_eq(v.ex[i].port, 0x1234);
    ck_assert_uint_eq(v.ex[i].write, 1);
    ck_assert_uint_eq(v.ex[i].size, 1);
    ck_assert_uint_eq(v.ex[i].count, 1);
    ck_assert_uint_eq(v.ex[i].data[0], (uint8_t) "hello"[i]);
  }
  ck_assert_uint_eq(r.gpr[RSI], TM_DATA + 5);
  ck_assert_uint_eq(r.gpr[RCX], 0);
  ck_assert_uint_eq(model_cpu__class_count(&t->c->cnt, IC_IO),
                    1); /* one instruction for the 5 elements */
  ck_assert_uint_eq(t->c->cnt.rep_iterations, 5);
  tm_free(t);
}
END_TEST

/* rep insd, 600 elements from a page start: 256 + 256 + 88 (1024 bytes at
 * most per exit), stored in order */
START_TEST(rep_ins_reads_ahead_1024_bytes) {
  static const uint8_t code[] = {0xf3, 0x6d};
  struct tm *t = machine(code, sizeof code, 0, 600, 0, TM_DATA, 0);
  struct vmm v = {0};
  struct tm_result r;
  run(t, &v, &r);
  ck_assert_int_eq(r.vector, 6);
  ck_assert_int_eq(v.n, 3);
  ck_assert_uint_eq(v.ex[0].count, 256);
  ck_assert_uint_eq(v.ex[1].count, 256);
  ck_assert_uint_eq(v.ex[2].count, 88);
  ck_assert_uint_eq(v.ex[0].write, 0);
  ck_assert_uint_eq(v.ex[0].size, 4);
  for (uint32_t i = 0; i < 600; i++) {
    uint32_t x;
    memcpy(&x, t->ram + TM_DATA + 4 * i, 4);
    ck_assert_uint_eq(x, i + 1);
  }
  ck_assert_uint_eq(r.gpr[RDI], TM_DATA + 2400);
  ck_assert_uint_eq(r.gpr[RCX], 0);
  ck_assert_uint_eq(model_cpu__class_count(&t->c->cnt, IC_IO), 1);
  ck_assert_uint_eq(t->c->cnt.rep_iterations, 600);
  tm_free(t);
}
END_TEST

/* The page limit is in bytes, compared with elements (as KVM does): rep insw
 * of 10 at 6 bytes before a page end: 6 elements (12 bytes, across the
 * end), then 4 */
START_TEST(rep_ins_page_limit_in_bytes) {
  static const uint8_t code[] = {0x66, 0xf3, 0x6d};
  struct tm *t = machine(code, sizeof code, 0, 10, 0, TM_DATA + 4096 - 6, 0);
  struct vmm v = {0};
  struct tm_result r;
  run(t, &v, &r);
  ck_assert_int_eq(r.vector, 6);
  ck_assert_int_eq(v.n, 2);
  ck_assert_uint_eq(v.ex[0].count, 6);
  ck_assert_uint_eq(v.ex[1].count, 4);
  ck_assert_uint_eq(r.gpr[RDI], TM_DATA + 4096 + 14);
  uint16_t x;
  memcpy(&x, t->ram + TM_DATA + 4096 + 12, 2);
  ck_assert_uint_eq(x, 10);
  tm_free(t);
}
END_TEST

/* DF=1: the bytes from the page start bound the batch; 0 of them is 1
 * element. rep insb of 10 at page offset 5: 5 (offsets 5..1), 1 (offset
 * 0), then 4 in the page below. */
START_TEST(rep_ins_backward) {
  static const uint8_t code[] = {0xf3, 0x6c};
  struct tm *t = machine(code, sizeof code, 0, 10, 0, TM_DATA + 4096 + 5, RF_DF);
  struct vmm v = {0};
  struct tm_result r;
  run(t, &v, &r);
  ck_assert_int_eq(r.vector, 6);
  ck_assert_int_eq(v.n, 3);
  ck_assert_uint_eq(v.ex[0].count, 5);
  ck_assert_uint_eq(v.ex[1].count, 1);
  ck_assert_uint_eq(v.ex[2].count, 4);
  ck_assert_uint_eq(r.gpr[RDI], TM_DATA + 4096 + 5 - 10);
  for (int i = 0; i < 10; i++)
    ck_assert_uint_eq(t->ram[TM_DATA + 4096 + 5 - i], i + 1);
  tm_free(t);
}
END_TEST

/* RCX = 0: no access, no exit; without REP: one element, RCX untouched;
 * 32-bit address size: RDI wraps in 32 bits, its high half stays */
START_TEST(ins_single_zero_and_addr32) {
  static const uint8_t zero[] = {0xf3, 0x6c};
  struct tm *t = machine(zero, sizeof zero, 0, 0, 0, TM_DATA, 0);
  struct vmm v = {0};
  struct tm_result r;
  run(t, &v, &r);
  ck_assert_int_eq(r.vector, 6);
  ck_assert_int_eq(v.n, 0);
  ck_assert_uint_eq(r.gpr[RDI], TM_DATA);
  tm_free(t);

  static const uint8_t one[] = {0x6d}; /* insd */
  t = machine(one, sizeof one, 0, 77, 0, TM_DATA, 0);
  memset(&v, 0, sizeof v);
  run(t, &v, &r);
  ck_assert_int_eq(v.n, 1);
  ck_assert_uint_eq(v.ex[0].count, 1);
  ck_assert_uint_eq(r.gpr[RCX], 77);
  ck_assert_uint_eq(r.gpr[RDI], TM_DATA + 4);
  tm_free(t);

  static const uint8_t a32[] = {0x67, 0xf3, 0x6c}; /* addr32 rep insb */
  t = machine(a32, sizeof a32, 0, 0xabcd00000003ull, 0, 0x5500000000000000ull | TM_DATA, 0);
  memset(&v, 0, sizeof v);
  run(t, &v, &r);
  /* the high half of RDI is not part of the address: the stores land at TM_DATA */
  ck_assert_int_eq(r.vector, 6);
  ck_assert_int_eq(v.n, 1);
  ck_assert_uint_eq(v.ex[0].count, 3);
  ck_assert_uint_eq(r.gpr[RCX], 0xabcd00000000ull);
  ck_assert_uint_eq(r.gpr[RDI], 0x5500000000000000ull | (TM_DATA + 3));
  ck_assert_uint_eq(t->ram[TM_DATA + 2], 3);
  tm_free(t);
}
END_TEST

/* A store of the batch faults: the elements before it are stored, RDI and
 * RCX name the faulting one, RIP the INS, the rest of the batch is gone
 * (KVM drops it too); the guest's retry reads again. */
START_TEST(ins_fault_mid_batch) {
  static const uint8_t code[] = {0xf3, 0x6d};
  const uint64_t end = TM_RAM; /* unmapped above */
  struct tm *t = machine(code, sizeof code, 0, 16, 0, end - 8, 0);
  struct vmm v = {0};
  struct tm_result r;
  run(t, &v, &r);
  ck_assert_int_eq(r.vector, 14);
  ck_assert_uint_eq(r.cr2, end);
  ck_assert_uint_eq(r.rip, TM_CODE);
  ck_assert_int_eq(v.n, 1);
  ck_assert_uint_eq(v.ex[0].count, 8); /* 8 bytes to the page end: 8 elements */
  ck_assert_uint_eq(r.gpr[RDI], end);
  ck_assert_uint_eq(r.gpr[RCX], 14);
  uint32_t x;
  memcpy(&x, t->ram + end - 4, 4);
  ck_assert_uint_eq(x, 2);
  tm_free(t);
}
END_TEST

/* Ring 3 without IOPL and without an I/O bitmap: #GP(0) before any exit;
 * with IOPL 3 the same instructions run. REX.W is ignored (4 bytes). */
START_TEST(io_permission_and_rex_w) {
  static const uint8_t ins[] = {0x48, 0x6d}, outs[] = {0x48, 0x6f};
  const uint8_t *codes[] = {ins, outs};
  for (int k = 0; k < 2; k++) {
    struct tm *t = machine(codes[k], 2, 3, 0, TM_DATA, TM_DATA, 0);
    struct vmm v = {0};
    struct tm_result r;
    run(t, &v, &r);
    ck_assert_int_eq(r.vector, 13);
    ck_assert_uint_eq(r.err, 0);
    ck_assert_int_eq(v.n, 0);
    tm_free(t);
    t = machine(codes[k], 2, 3, 0, TM_DATA, TM_DATA, 3ull << 12);
    memset(&v, 0, sizeof v);
    run(t, &v, &r);
    ck_assert_int_eq(r.vector, 6);
    ck_assert_int_eq(v.n, 1);
    ck_assert_uint_eq(v.ex[0].size, 4);
    tm_free(t);
  }
}
END_TEST

Suite *suite_model_strio(void) {
  Suite *s = suite_create("model_strio");
  TCase *tc = tcase_create("strio");
  tcase_add_test(tc, rep_outs_one_exit_per_element);
  tcase_add_test(tc, rep_ins_reads_ahead_1024_bytes);
  tcase_add_test(tc, rep_ins_page_limit_in_bytes);
  tcase_add_test(tc, rep_ins_backward);
  tcase_add_test(tc, ins_single_zero_and_addr32);
  tcase_add_test(tc, ins_fault_mid_batch);
  tcase_add_test(tc, io_permission_and_rex_w);
  suite_add_tcase(s, tc);
  return s;
}
